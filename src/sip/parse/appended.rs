//! Checking the header fields appended to a message the crate is writing,
//! whose other parts the parser already accepted (fields copied from a
//! parsed request, or written by the crate from values valid by
//! construction): the verdict [`parse_message_with`](super::parse_message_with)
//! would give on the whole message, for the work of the appended fields
//! alone.
//!
//! The appended fields are cut into lines (folded ones joined) and
//! checked as the parser checks them: CR only in CRLF, UTF-8, names that
//! are tokens followed by a colon, lines within `max_header_len`, the
//! message within `max_headers` fields and `max_message_size` octets, the
//! values of the fields the parser reads (Via, From, To, Call-ID, CSeq and
//! its method, Max-Forwards, Content-Length, Expires, Retry-After,
//! Warning), and no second copy of a single-instance field. One thing is
//! stricter than the parser: an empty line among the appended fields,
//! which would end the header section early and turn the fields after it
//! into body, is refused.

use core::ops::Range;

use super::{field_parts, fields, Seen, WATCHED};
use crate::sip::message::{HeaderEntry, HeaderValue};
use crate::sip::{HeaderName, Limits, SipError, SipErrorKind};

/// The single-instance fields (and Via) a message already holds before
/// the appended ones.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Present {
    pub(crate) via: bool,
    pub(crate) from: bool,
    pub(crate) to: bool,
    pub(crate) call_id: bool,
    pub(crate) cseq: bool,
    pub(crate) max_forwards: bool,
}

impl Present {
    /// What every response copies from its request (§8.2.6.2): Via,
    /// From, To, Call-ID and CSeq.
    pub(crate) const RESPONSE: Present = Present {
        via: true,
        from: true,
        to: true,
        call_id: true,
        cseq: true,
        max_forwards: false,
    };
}

/// A message being written, and where its appended fields are.
#[derive(Debug, Clone)]
pub(crate) struct Appended<'a> {
    /// The message, whole: start line, header section and body.
    pub(crate) message: &'a [u8],
    /// The appended fields, in order: runs of whole lines, each line with
    /// its CRLF.
    pub(crate) fields: &'a [Range<usize>],
    /// How many header fields the message holds besides the appended ones
    /// (Content-Length included).
    pub(crate) other_fields: usize,
    /// The single-instance fields among those.
    pub(crate) present: Present,
    /// The Content-Length the message carries besides: an appended one
    /// must agree with it.
    pub(crate) content_length: usize,
    /// The method of a request (its CSeq must name it); `None` for a
    /// response.
    pub(crate) method: Option<&'a str>,
}

/// Checks `appended` under `limits`: `Ok` exactly when the parser accepts
/// the whole message, but for an empty line among the appended fields
/// (see the module documentation); on error, the cause and its offset in
/// the message. Each appended field, as the parser would cut it, goes to
/// `entries`; `Ok(true)` when one of them is a Via.
pub(crate) fn check_appended(
    appended: &Appended<'_>,
    limits: &Limits,
    mut entries: Option<&mut Vec<HeaderEntry>>,
) -> Result<bool, SipError> {
    let message = appended.message;
    let max_size = limits.max_message_size.min(u32::MAX as usize);
    if message.len() > max_size {
        return Err(SipError::new(SipErrorKind::MessageTooLarge, max_size));
    }
    let present = appended.present;
    let end = appended.fields.last().map_or(0, |r| r.end);
    let mut seen = Seen {
        content_length: Some((appended.content_length, end)),
        max_forwards: present.max_forwards,
        ..Seen::default()
    };
    let mut count = appended.other_fields;
    let mut added = Present::default();
    for &Range { start, end } in appended.fields {
        let region = message.get(start..end).ok_or(SipError::new(
            SipErrorKind::UnterminatedHeaders,
            message.len(),
        ))?;
        let text = core::str::from_utf8(region)
            .map_err(|e| SipError::new(SipErrorKind::InvalidUtf8, start + e.valid_up_to()))?;
        let mut at = 0;
        while at < text.len() {
            if text.as_bytes().get(at..at + 2) == Some(b"\r\n") {
                return Err(SipError::new(SipErrorKind::UnterminatedHeaders, start + at));
            }
            if count >= limits.max_headers {
                return Err(SipError::new(SipErrorKind::TooManyHeaders, start + at));
            }
            count += 1;
            let field_end = field_end(text.as_bytes(), at, limits.max_header_len)
                .map_err(|(kind, i)| SipError::new(kind, start + i))?;
            let field = text.get(at..field_end).unwrap_or_default();
            let parts = field_parts(field.as_bytes())
                .map_err(|(kind, i)| SipError::new(kind, start + at + i))?;
            if WATCHED[usize::from(parts.id)] {
                let value = HeaderValue {
                    value: field
                        .get(parts.value_start..parts.value_end)
                        .unwrap_or_default(),
                    offset: start + at + parts.value_start,
                };
                let name = HeaderName::from_id(parts.id).unwrap_or(HeaderName::Via);
                check_value(name, &value, appended, &mut seen, &mut added, limits)?;
            }
            if let Some(entries) = entries.as_deref_mut() {
                // Offsets fit in u32: larger messages were refused above.
                let offset = |i: usize| (start + at + i) as u32;
                entries.push(HeaderEntry {
                    id: parts.id,
                    field: offset(0),
                    start: offset(parts.value_start),
                    end: offset(parts.value_end),
                });
            }
            at = field_end + 2;
        }
    }
    if count > limits.max_headers {
        return Err(SipError::new(SipErrorKind::TooManyHeaders, end));
    }
    let missing = |name| Err(SipError::new(SipErrorKind::MissingHeader(name), end));
    let has = |before: bool, now: bool| before || now;
    if !has(present.call_id, added.call_id) {
        return missing(HeaderName::CallId);
    }
    if !has(present.from, added.from) {
        return missing(HeaderName::From);
    }
    if !has(present.to, added.to) {
        return missing(HeaderName::To);
    }
    if !has(present.cseq, added.cseq) {
        return missing(HeaderName::CSeq);
    }
    if !has(present.via, added.via) {
        return missing(HeaderName::Via);
    }
    Ok(added.via)
}

/// The value checks of the parser for the appended field `name`, and the
/// single-instance fields, counting those already `present`.
fn check_value<'a>(
    name: HeaderName<'static>,
    value: &HeaderValue<'a>,
    appended: &Appended<'_>,
    seen: &mut Seen<'a>,
    added: &mut Present,
    limits: &Limits,
) -> Result<(), SipError> {
    let values = &limits.values;
    let present = appended.present;
    let once = |before: bool, again: &mut bool| {
        if before || *again {
            Err(SipError::new(
                SipErrorKind::DuplicateHeader(name),
                value.offset,
            ))
        } else {
            *again = true;
            Ok(())
        }
    };
    match name {
        HeaderName::Via => {
            added.via = true;
            let (mut top, mut more) = (None, false);
            fields::via(value, &mut top, &mut more, values)
        }
        HeaderName::From => {
            once(present.from, &mut added.from)?;
            fields::name_addr(value, HeaderName::From, values).map(drop)
        }
        HeaderName::To => {
            once(present.to, &mut added.to)?;
            fields::name_addr(value, HeaderName::To, values).map(drop)
        }
        HeaderName::CallId => {
            once(present.call_id, &mut added.call_id)?;
            fields::call_id(value, values).map(drop)
        }
        HeaderName::CSeq => {
            once(present.cseq, &mut added.cseq)?;
            let cseq = fields::cseq(value, values)?;
            match appended.method {
                Some(method) if method != cseq.method.as_str() => Err(SipError::new(
                    SipErrorKind::CSeqMethodMismatch,
                    value.offset,
                )),
                _ => Ok(()),
            }
        }
        // Max-Forwards, Content-Length, Expires, Retry-After, Warning.
        _ => seen.add(name, value, 0, values),
    }
}

/// The end (offset of the final CR) of the field starting at `at` in
/// `text`, its continuation lines included: every CR is followed by LF and
/// every LF follows a CR, and the field holds at most `max_len` octets.
fn field_end(text: &[u8], at: usize, max_len: usize) -> Result<usize, (SipErrorKind, usize)> {
    let mut from = at;
    loop {
        let Some(i) = memchr::memchr2(b'\r', b'\n', text.get(from..).unwrap_or_default()) else {
            return Err((SipErrorKind::UnterminatedHeaders, text.len()));
        };
        let cr = from + i;
        if text.get(cr..cr + 2) != Some(b"\r\n") {
            return Err((SipErrorKind::BareLineEnding, cr));
        }
        if cr - at > max_len {
            return Err((SipErrorKind::HeaderTooLong, at));
        }
        if !matches!(text.get(cr + 2), Some(b' ' | b'\t')) {
            return Ok(cr);
        }
        from = cr + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse_message_with;
    use proptest::prelude::*;

    /// A response copied from a request, as `response_to` writes it, with
    /// `extra` appended and its Content-Length after.
    fn response(extra: &str, body: &str) -> (Vec<u8>, Range<usize>) {
        let mut m = b"SIP/2.0 200 OK\r\n\
            Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1;received=192.0.2.1\r\n\
            From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\n\
            Call-ID: c1\r\nCSeq: 1 INVITE\r\n"
            .to_vec();
        let start = m.len();
        m.extend_from_slice(extra.as_bytes());
        let end = m.len();
        m.extend_from_slice(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
        (m, start..end)
    }

    fn check(extra: &str, body: &str, limits: &Limits) -> (Result<(), SipError>, bool) {
        let (m, fields) = response(extra, body);
        let appended = Appended {
            message: &m,
            fields: core::slice::from_ref(&fields),
            other_fields: 6,
            present: Present::RESPONSE,
            content_length: body.len(),
            method: None,
        };
        let parsed = parse_message_with(&m, limits).is_ok();
        (check_appended(&appended, limits, None).map(drop), parsed)
    }

    #[test]
    fn what_the_parser_refuses_is_refused() {
        let limits = Limits::default();
        let cases = [
            ("Contact: <sip:b@192.0.2.2>\r\nAllow: INVITE, ACK\r\n", true),
            ("From: <sip:x@example.com>\r\n", false),
            ("Expires: x\r\n", false),
            ("Expires: 3600\r\n", true),
            ("Content-Length: 5\r\n", false),
            ("Content-Length: 2\r\n", true),
            ("Subject: a\r\n folded\r\n", true),
            ("Subject: a\rb\r\n", false),
            ("Subject: a\nb\r\n", false),
            ("Bad Name: a\r\n", false),
            ("Subject: a\r\nX-Injected: b\r\n", true),
            ("Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx\r\n", true),
            ("Via: nonsense\r\n", false),
            ("Max-Forwards: 70\r\nMax-Forwards: 70\r\n", false),
        ];
        for (extra, ok) in cases {
            let (checked, parsed) = check(extra, "hi", &limits);
            assert_eq!(checked.is_ok(), ok, "{extra:?}: {checked:?}");
            assert_eq!(parsed, ok, "{extra:?} parsed");
        }
    }

    #[test]
    fn an_empty_line_among_the_appended_fields_is_refused() {
        // The parser takes the fields after it for body.
        let (checked, parsed) = check("Subject: a\r\n\r\nX: b\r\n", "", &Limits::default());
        assert_eq!(
            checked.map_err(|e| e.kind),
            Err(SipErrorKind::UnterminatedHeaders)
        );
        assert!(parsed);
    }

    #[test]
    fn limits_are_those_of_the_parser() {
        let limits = Limits {
            max_headers: 7,
            ..Limits::default()
        };
        assert_eq!(check("A: 1\r\n", "", &limits), (Ok(()), true));
        let (checked, parsed) = check("A: 1\r\nB: 2\r\n", "", &limits);
        assert_eq!(
            checked.map_err(|e| e.kind),
            Err(SipErrorKind::TooManyHeaders)
        );
        assert!(!parsed);
        let limits = Limits {
            max_header_len: 40,
            ..Limits::default()
        };
        let (checked, _) = check(&format!("Subject: {}\r\n", "x".repeat(40)), "", &limits);
        assert_eq!(
            checked.map_err(|e| e.kind),
            Err(SipErrorKind::HeaderTooLong)
        );
    }

    /// Header names and value octets that reach every branch of the
    /// checks: the parser's watched fields, CR, LF, folding, non-token
    /// octets.
    fn field() -> impl Strategy<Value = String> {
        let name = prop::sample::select(vec![
            "Subject",
            "Contact",
            "Via",
            "From",
            "To",
            "Call-ID",
            "CSeq",
            "Max-Forwards",
            "Content-Length",
            "Expires",
            "Retry-After",
            "Warning",
            "Bad Name",
            "",
            "l",
            "v",
        ]);
        let value = prop::collection::vec(
            prop::sample::select(vec![
                "a",
                "1",
                "2",
                " ",
                "\t",
                "\r",
                "\n",
                "\r\n",
                "\r\n ",
                "<sip:x@h>",
                ";tag=1",
                "SIP/2.0/UDP h",
                ";branch=z9hG4bK",
                "3 INVITE",
                "399 h \"t\"",
                ":",
                "@",
                "é",
            ]),
            0..6,
        );
        (name, value).prop_map(|(n, v)| format!("{n}: {}\r\n", v.concat()))
    }

    proptest! {
        /// The check and the parser agree on every appended text that
        /// holds no empty line.
        #[test]
        fn the_check_agrees_with_the_parser(fields in prop::collection::vec(field(), 0..4)) {
            let extra = fields.concat();
            let (checked, parsed) = check(&extra, "hi", &Limits::default());
            let empty_line = extra.starts_with("\r\n") || extra.contains("\r\n\r\n");
            prop_assume!(!empty_line);
            prop_assert_eq!(checked.is_ok(), parsed, "{:?}: {:?}", extra, checked);
        }
    }
}
