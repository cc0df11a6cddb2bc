//! `application/im-iscomposing+xml` (RFC 3994 §4): the message a user's
//! client sends while the user is typing (`active`) and once they stopped
//! (`idle`).
//!
//! The RFC's timers are the client's business, not the document's: an
//! `active` state lapses into `idle` after [`IDLE_TIMEOUT`] without typing;
//! an `active` sender refreshes its state before the `refresh` interval it
//! announced ends ([`DEFAULT_REFRESH`] suggested, never less than
//! [`MIN_REFRESH`]); a receiver that hears nothing within the interval
//! (or [`DEFAULT_RECEIVER_TIMEOUT`] without one) takes the sender as idle.
//!
//! ```
//! use oma_im::body::iscomposing::{IsComposing, ComposingState};
//! use oma_im::body::xml::XmlLimits;
//!
//! let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
//! <isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing">
//!   <state>active</state><contenttype>text/plain</contenttype><refresh>90</refresh>
//! </isComposing>"#;
//! let c = IsComposing::parse(doc, &XmlLimits::default()).unwrap();
//! assert_eq!(c.state, ComposingState::Active);
//! assert_eq!(c.refresh, Some(90));
//! let mut out = Vec::new();
//! c.write(&mut out);
//! assert_eq!(IsComposing::parse(&out, &XmlLimits::default()).unwrap(), c);
//! ```

use std::borrow::Cow;
use std::time::Duration;

use super::xml::{self, Ns, XmlError, XmlErrorKind, XmlLimits, XmlReader};

/// The media type of the indication.
pub const CONTENT_TYPE: &str = "application/im-iscomposing+xml";

/// The namespace of the document (RFC 3994 §4).
pub const ISCOMPOSING_NS: &str = "urn:ietf:params:xml:ns:im-iscomposing";

/// Without typing for this long, an `active` state becomes `idle` (RFC 3994
/// §3.2 suggests 15 seconds).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15);

/// The refresh interval an `active` sender announces by default (RFC 3994
/// §3.2: 90 seconds).
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(90);

/// The shortest refresh interval a sender announces (RFC 3994 §3.2: 60
/// seconds).
pub const MIN_REFRESH: Duration = Duration::from_secs(60);

/// How long a receiver waits for a refresh of an `active` state that named
/// no interval before it takes the sender as idle (RFC 3994 §3.3: 120
/// seconds).
pub const DEFAULT_RECEIVER_TIMEOUT: Duration = Duration::from_secs(120);

/// Whether the user is composing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComposingState {
    /// `active`: typing.
    Active,
    /// `idle`: not typing (any other value is read as idle, RFC 3994 §4).
    Idle,
}

/// An is-composing indication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsComposing<'a> {
    /// `<state>`.
    pub state: ComposingState,
    /// `<lastactive>`: when the user last typed (RFC 3339 date-time).
    pub last_active: Option<Cow<'a, str>>,
    /// `<contenttype>`: the type of what is being composed.
    pub content_type: Option<Cow<'a, str>>,
    /// `<refresh>`: seconds until the sender refreshes an `active` state.
    pub refresh: Option<u32>,
}

impl<'a> IsComposing<'a> {
    /// An indication of `state` with nothing else.
    pub fn new(state: ComposingState) -> Self {
        IsComposing {
            state,
            last_active: None,
            content_type: None,
            refresh: None,
        }
    }

    /// Parses an `application/im-iscomposing+xml` document within `limits`.
    /// A missing `<state>` is [`XmlErrorKind::MissingElement`]; a `refresh`
    /// that is not a positive integer [`XmlErrorKind::InvalidValue`].
    pub fn parse(input: &'a [u8], limits: &XmlLimits) -> Result<Self, XmlError> {
        let mut reader = XmlReader::new(input, *limits)?;
        let root = reader.root()?;
        if !root.is(Ns::IsComposing, "isComposing") {
            return Err(XmlError::new(XmlErrorKind::UnexpectedRoot, root.offset));
        }
        let mut state = None;
        let mut out = IsComposing::new(ComposingState::Idle);
        while let Some(child) = reader.next_child()? {
            if child.ns != Ns::IsComposing {
                reader.skip()?;
                continue;
            }
            match child.local {
                "state" => {
                    let text = reader.text()?;
                    state = Some(if text.trim() == "active" {
                        ComposingState::Active
                    } else {
                        ComposingState::Idle
                    });
                }
                "lastactive" => out.last_active = Some(reader.text()?),
                "contenttype" => out.content_type = Some(reader.text()?),
                "refresh" => {
                    let text = reader.text()?;
                    let value = xml::parse_u32(text.trim(), "refresh", child.offset)?;
                    if value == 0 {
                        return Err(XmlError::new(
                            XmlErrorKind::InvalidValue("refresh"),
                            child.offset,
                        ));
                    }
                    out.refresh = Some(value);
                }
                _ => reader.skip()?,
            }
        }
        reader.finish()?;
        out.state = state.ok_or(XmlError::new(
            XmlErrorKind::MissingElement("state"),
            root.offset,
        ))?;
        Ok(out)
    }

    /// Appends the document to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<isComposing xmlns=\"",
        );
        out.extend_from_slice(ISCOMPOSING_NS.as_bytes());
        out.extend_from_slice(b"\">\r\n<state>");
        out.extend_from_slice(match self.state {
            ComposingState::Active => b"active",
            ComposingState::Idle => b"idle",
        });
        out.extend_from_slice(b"</state>\r\n");
        if let Some(t) = &self.last_active {
            xml::write_text_element(out, "lastactive", t);
        }
        if let Some(t) = &self.content_type {
            xml::write_text_element(out, "contenttype", t);
        }
        if let Some(r) = self.refresh {
            out.extend_from_slice(b"<refresh>");
            crate::decimal::push_decimal(out, u64::from(r));
            out.extend_from_slice(b"</refresh>\r\n");
        }
        out.extend_from_slice(b"</isComposing>\r\n");
    }

    /// The same indication owning its text.
    pub fn into_owned(self) -> IsComposing<'static> {
        IsComposing {
            state: self.state,
            last_active: self.last_active.map(|c| Cow::Owned(c.into_owned())),
            content_type: self.content_type.map(|c| Cow::Owned(c.into_owned())),
            refresh: self.refresh,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_indication_round_trips() {
        let c = IsComposing {
            state: ComposingState::Active,
            last_active: Some("2026-12-07T10:00:00Z".into()),
            content_type: Some("text/plain".into()),
            refresh: Some(60),
        };
        let mut out = Vec::new();
        c.write(&mut out);
        assert_eq!(IsComposing::parse(&out, &XmlLimits::default()).unwrap(), c);
    }

    #[test]
    fn unknown_state_is_idle_and_bad_values_are_typed_errors() {
        let limits = XmlLimits::default();
        let doc =
            |body: &str| format!("<isComposing xmlns=\"{ISCOMPOSING_NS}\">{body}</isComposing>");
        let thinking = doc("<state>thinking</state>");
        let c = IsComposing::parse(thinking.as_bytes(), &limits).unwrap();
        assert_eq!(c.state, ComposingState::Idle);
        let kind = |b: &str| {
            IsComposing::parse(doc(b).as_bytes(), &limits)
                .unwrap_err()
                .kind
        };
        assert_eq!(kind(""), XmlErrorKind::MissingElement("state"));
        assert_eq!(
            kind("<state>active</state><refresh>0</refresh>"),
            XmlErrorKind::InvalidValue("refresh")
        );
        assert_eq!(
            kind("<state>active</state><refresh>-1</refresh>"),
            XmlErrorKind::InvalidValue("refresh")
        );
    }
}
