//! `multipart/mixed` bodies (RFC 2046 §5.1): parse into parts that borrow the
//! body, write parts under a boundary that occurs in none of them, and find the
//! SDP and resource-lists parts of an INVITE body (RFC 5366).
//!
//! Parsing follows RFC 2046 §5.1.1:
//!
//! * the preamble before the first delimiter line and the epilogue after the
//!   close delimiter `--boundary--` are ignored;
//! * a delimiter line is `--boundary` at the start of a line, followed by
//!   optional transport padding (spaces and tabs) and the line end;
//! * the line end before a delimiter belongs to the delimiter, not to the part;
//! * line ends are CRLF, or LF alone (lenient);
//! * part bodies are arbitrary octets; only part headers must be UTF-8;
//! * a body without its close delimiter is a
//!   [`MimeErrorKind::MissingCloseDelimiter`] error.
//!
//! A part whose own type is `multipart/*` is kept as bytes; parse it with
//! [`Part::as_multipart`] when you want to look inside, or walk the whole
//! tree at once with [`Multipart::walk`], which bounds the nesting
//! ([`MimeLimits::max_nesting`]) and reads each level's bytes once.

use memchr::memmem;
use smallvec::SmallVec;

use super::mime::{HeaderBlock, HeaderField, MediaType, MimeError, MimeErrorKind, MimeLimits};

/// The longest boundary RFC 2046 allows.
pub const MAX_BOUNDARY_LEN: usize = 70;

/// One body part: its header fields and its content.
#[derive(Debug, Clone, Default, Eq)]
pub struct Part<'a> {
    /// The part's header fields (`Content-Type`, `Content-Disposition`,
    /// `Content-ID`, and any other).
    pub headers: HeaderBlock<'a>,
    /// The part's content, as octets.
    pub body: &'a [u8],
}

impl<'b> PartialEq<Part<'b>> for Part<'_> {
    fn eq(&self, other: &Part<'b>) -> bool {
        self.headers == other.headers && self.body == other.body
    }
}

impl<'a> Part<'a> {
    /// A part with a `Content-Type` field and `body`.
    ///
    /// Fails when `content_type` is not a valid header value
    /// ([`HeaderField::new`]).
    pub fn new(content_type: &'a str, body: &'a [u8]) -> Result<Self, MimeError> {
        let mut headers = HeaderBlock::new();
        headers.push(HeaderField::new("Content-Type", content_type)?);
        Ok(Part { headers, body })
    }

    /// The same part with one more header field.
    pub fn with_header(mut self, name: &'a str, value: &'a str) -> Result<Self, MimeError> {
        self.headers.push(HeaderField::new(name, value)?);
        Ok(self)
    }

    /// The parsed `Content-Type`, if any.
    pub fn content_type(&self) -> Option<Result<MediaType<'_>, MimeError>> {
        self.headers.content_type()
    }

    /// Whether the part's `Content-Type` is `top_level/subtype`. A part without
    /// a valid `Content-Type` is not of any type here.
    pub fn is_type(&self, top_level: &str, subtype: &str) -> bool {
        matches!(self.content_type(), Some(Ok(ct)) if ct.is(top_level, subtype))
    }

    /// Whether the part's `Content-Disposition` type is `disposition`.
    pub fn has_disposition(&self, disposition: &str) -> bool {
        matches!(self.headers.content_disposition(), Some(Ok(cd)) if cd.is(disposition))
    }

    /// The `Content-ID` value, if any.
    pub fn content_id(&self) -> Option<&str> {
        self.headers.get("Content-ID")
    }

    /// Parses the part's body as a nested multipart body, when its
    /// `Content-Type` is `multipart/*`; `None` otherwise.
    pub fn as_multipart(&self, limits: &MimeLimits) -> Option<Result<Multipart<'a>, MimeError>> {
        let ct = match self.content_type()? {
            Ok(ct) => ct,
            Err(e) => return Some(Err(e)),
        };
        if !ct.is_multipart() {
            return None;
        }
        let boundary = match ct.param("boundary") {
            Some(b) => b.unquoted(),
            None => return Some(Err(MimeError::new(MimeErrorKind::MissingBoundary, 0))),
        };
        Some(Multipart::parse(self.body, &boundary, limits))
    }

    /// Appends the header fields, the empty line and the body.
    fn write(&self, out: &mut Vec<u8>) {
        self.headers.write(out);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(self.body);
    }
}

/// A multipart boundary chosen by [`Multipart::choose_boundary`]: at most 70
/// characters, all `bchars`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boundary(arrayvec::ArrayString<MAX_BOUNDARY_LEN>);

impl Boundary {
    /// The boundary text (without the leading `--`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Appends the `Content-Type` value for a `multipart/mixed` body with this
    /// boundary: `multipart/mixed;boundary=<boundary>`.
    pub fn write_content_type(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"multipart/mixed;boundary=");
        out.extend_from_slice(self.0.as_bytes());
    }
}

/// Checks a boundary against RFC 2046 §5.1.1: 1 to 70 `bchars`, not ending
/// with a space.
fn check_boundary(boundary: &str) -> Result<(), MimeError> {
    let ok = !boundary.is_empty()
        && boundary.len() <= MAX_BOUNDARY_LEN
        && !boundary.ends_with(' ')
        && boundary
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(MimeError::new(MimeErrorKind::InvalidBoundary, 0))
    }
}

/// SplitMix64: a bijection on `u64`, so distinct counters give distinct
/// boundaries.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The boundary for one counter value: `oma-im-` and 16 hex digits.
fn boundary_for(counter: u64) -> Boundary {
    let mut s = arrayvec::ArrayString::<MAX_BOUNDARY_LEN>::new();
    s.push_str("oma-im-");
    let v = splitmix64(counter);
    for shift in (0..16).rev() {
        let nibble = ((v >> (shift * 4)) & 0xf) as usize;
        s.push(char::from(b"0123456789abcdef"[nibble]));
    }
    Boundary(s)
}

/// Appends the value of every `oma-im-` + 16 lowercase hex digits text in
/// `bytes` (the texts [`boundary_for`] writes) to `found`; one linear scan.
fn planted_candidates(bytes: &[u8], found: &mut Vec<u64>) {
    const PREFIX: &[u8] = b"oma-im-";
    for at in memmem::find_iter(bytes, PREFIX) {
        let Some(digits) = bytes.get(at + PREFIX.len()..at + PREFIX.len() + 16) else {
            break;
        };
        let value = digits.iter().try_fold(0u64, |v, &b| {
            let nibble = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                _ => return None,
            };
            Some(v << 4 | u64::from(nibble))
        });
        if let Some(value) = value {
            found.push(value);
        }
    }
}

/// A multipart body: its parts, in order.
///
/// ```
/// use oma_im::body::multipart::{Multipart, Part};
///
/// let sdp = b"v=0\r\n";
/// let list = b"<resource-lists/>";
/// let mut out = Vec::new();
/// let mut body = Multipart::new();
/// body.parts.push(Part::new("application/sdp", sdp).unwrap());
/// body.parts.push(
///     Part::new("application/resource-lists+xml", list)
///         .unwrap()
///         .with_header("Content-Disposition", "recipient-list")
///         .unwrap(),
/// );
/// let boundary = body.write(7, &mut out);
///
/// let parsed = Multipart::parse(&out, boundary.as_str(), &Default::default()).unwrap();
/// assert_eq!(parsed, body);
/// assert!(parsed.parts[1].has_disposition("recipient-list"));
/// ```
#[derive(Debug, Clone, Default, Eq)]
pub struct Multipart<'a> {
    /// The body parts.
    pub parts: SmallVec<[Part<'a>; 4]>,
}

impl<'b> PartialEq<Multipart<'b>> for Multipart<'_> {
    fn eq(&self, other: &Multipart<'b>) -> bool {
        self.parts.len() == other.parts.len()
            && self
                .parts
                .iter()
                .zip(other.parts.iter())
                .all(|(a, b)| a == b)
    }
}

impl<'a> Multipart<'a> {
    /// A body without parts.
    pub fn new() -> Self {
        Multipart::default()
    }

    /// Parses a multipart body given the `Content-Type` value of the message
    /// (`multipart/mixed;boundary=...`).
    ///
    /// Fails with [`MimeErrorKind::NotMultipart`] when the type is not
    /// `multipart/*`, [`MimeErrorKind::MissingBoundary`] when there is no
    /// `boundary` parameter; errors in the content type have offsets into
    /// `content_type`, all others into `body`.
    pub fn parse_content_type(
        body: &'a [u8],
        content_type: &str,
        limits: &MimeLimits,
    ) -> Result<Self, MimeError> {
        let ct = MediaType::parse_with(content_type, limits)?;
        if !ct.is_multipart() {
            return Err(MimeError::new(MimeErrorKind::NotMultipart, 0));
        }
        let boundary = ct
            .param("boundary")
            .ok_or(MimeError::new(MimeErrorKind::MissingBoundary, 0))?
            .unquoted();
        Self::parse(body, &boundary, limits)
    }

    /// Parses a multipart body delimited by `boundary` (the value of the
    /// `boundary` parameter, without quotes). Offsets in errors are into
    /// `body`.
    pub fn parse(body: &'a [u8], boundary: &str, limits: &MimeLimits) -> Result<Self, MimeError> {
        check_boundary(boundary)?;
        let mut dash_boundary = arrayvec::ArrayVec::<u8, { MAX_BOUNDARY_LEN + 2 }>::new();
        dash_boundary.extend(*b"--");
        dash_boundary.extend(boundary.bytes());
        let finder = memmem::Finder::new(&dash_boundary[..]);
        let mut parts = SmallVec::new();

        let mut lines = DelimiterLines {
            body,
            finder: &finder,
            search_from: 0,
        };
        // The first delimiter line: at the start of the body or of a line.
        let first = lines
            .next_delimiter(0)
            .ok_or(MimeError::new(MimeErrorKind::MissingDelimiter, 0))?;
        let mut line = first;
        loop {
            if line.close {
                if parts.is_empty() {
                    return Err(MimeError::new(MimeErrorKind::NoBodyPart, line.start));
                }
                return Ok(Multipart { parts });
            }
            let part_start = line.next;
            let Some(next) = lines.next_delimiter(part_start) else {
                return Err(MimeError::new(
                    MimeErrorKind::MissingCloseDelimiter,
                    body.len(),
                ));
            };
            if parts.len() >= limits.max_parts {
                return Err(MimeError::new(MimeErrorKind::TooManyParts, line.start));
            }
            // The line end before the delimiter belongs to the delimiter.
            let mut part_end = next.start;
            if part_end > part_start && body.get(part_end - 1) == Some(&b'\n') {
                part_end -= 1;
                if part_end > part_start && body.get(part_end - 1) == Some(&b'\r') {
                    part_end -= 1;
                }
            }
            let content = body.get(part_start..part_end).unwrap_or_default();
            let (headers, used, _) =
                HeaderBlock::parse(content, limits).map_err(|e| e.shifted(part_start))?;
            parts.push(Part {
                headers,
                body: content.get(used..).unwrap_or_default(),
            });
            line = next;
        }
    }

    /// Chooses a boundary that occurs in no part (neither its header fields nor
    /// its body), so the delimiter cannot be mistaken for content.
    ///
    /// Deterministic: candidates are `oma-im-` followed by 16 hex digits of
    /// SplitMix64 of `seed`, `seed + 1`, ... (no global random generator). The
    /// first candidate found in no part is taken. The parts are scanned once
    /// for text that looks like a candidate, so the choice takes time linear
    /// in the body even when someone who knows the seed planted candidates
    /// (SplitMix64 is a bijection: each planted text rules out at most one
    /// counter). Give a different seed per message (a counter) to vary
    /// boundaries.
    pub fn choose_boundary(&self, seed: u64) -> Boundary {
        let mut planted: Vec<u64> = Vec::new();
        for part in &self.parts {
            planted_candidates(part.body, &mut planted);
            for f in part.headers.fields() {
                planted_candidates(f.name().as_bytes(), &mut planted);
                planted_candidates(f.value().as_bytes(), &mut planted);
            }
        }
        planted.sort_unstable();
        let mut counter = seed;
        while planted.binary_search(&splitmix64(counter)).is_ok() {
            counter = counter.wrapping_add(1);
        }
        boundary_for(counter)
    }

    /// Writes the body with a boundary from [`Multipart::choose_boundary`]
    /// (`seed`) and returns that boundary, for the message's `Content-Type`
    /// ([`Boundary::write_content_type`]).
    ///
    /// Each part is written as `--boundary` CRLF, its header fields, an empty
    /// line, its body and CRLF; the body ends with `--boundary--` CRLF.
    pub fn write(&self, seed: u64, out: &mut Vec<u8>) -> Boundary {
        let boundary = self.choose_boundary(seed);
        self.write_with_boundary(&boundary, out);
        boundary
    }

    /// Writes the body with a given boundary. The caller must make sure the
    /// boundary occurs in no part ([`Multipart::choose_boundary`] does).
    pub fn write_with_boundary(&self, boundary: &Boundary, out: &mut Vec<u8>) {
        for part in &self.parts {
            out.extend_from_slice(b"--");
            out.extend_from_slice(boundary.as_str().as_bytes());
            out.extend_from_slice(b"\r\n");
            part.write(out);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_str().as_bytes());
        out.extend_from_slice(b"--\r\n");
    }

    /// The first part of type `top_level/subtype`.
    pub fn find_type(&self, top_level: &str, subtype: &str) -> Option<&Part<'a>> {
        self.parts.iter().find(|p| p.is_type(top_level, subtype))
    }

    /// Every part of a multipart body and of the `multipart/*` bodies nested
    /// in its parts, depth first in document order, each with its nesting
    /// level (1 for the parts of the outer body). A `multipart/*` part is
    /// listed before the parts it holds.
    ///
    /// No recursion: the walk keeps its own stack. Each level is parsed once,
    /// within its part's bytes, and parts of one level do not overlap, so the
    /// work is at most the body length times the nesting depth, which is
    /// capped by [`MimeLimits::max_nesting`] (itself at most
    /// [`MimeLimits::NESTING_CEILING`]): a `multipart/*` part at the deepest
    /// level is [`MimeErrorKind::TooDeep`], without reading it. Error offsets
    /// are into `body`.
    ///
    /// ```
    /// use oma_im::body::mime::{MimeErrorKind, MimeLimits};
    /// use oma_im::body::multipart::Multipart;
    ///
    /// let body = b"--a\r\nContent-Type: multipart/mixed;boundary=b\r\n\r\n\
    ///     --b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n--a--\r\n";
    /// let parts = Multipart::walk(body, "a", &MimeLimits::default()).unwrap();
    /// assert_eq!(parts.len(), 2);
    /// assert_eq!((parts[1].depth, parts[1].part.body), (2, &b"hi"[..]));
    ///
    /// let flat = MimeLimits { max_nesting: 1, ..MimeLimits::default() };
    /// let err = Multipart::walk(body, "a", &flat).unwrap_err();
    /// assert_eq!(err.kind, MimeErrorKind::TooDeep);
    /// ```
    pub fn walk(
        body: &'a [u8],
        boundary: &str,
        limits: &MimeLimits,
    ) -> Result<Vec<NestedPart<'a>>, MimeError> {
        let max_depth = limits.effective_max_nesting();
        let top = Multipart::parse(body, boundary, limits)?;
        let base = body.as_ptr() as usize;
        let offset_of = |part: &Part<'a>| (part.body.as_ptr() as usize).saturating_sub(base);
        let mut out = Vec::new();
        let mut stack: Vec<(smallvec::IntoIter<[Part<'a>; 4]>, usize)> =
            vec![(top.parts.into_iter(), 1)];
        while let Some((parts, depth)) = stack.last_mut() {
            let depth = *depth;
            let Some(part) = parts.next() else {
                stack.pop();
                continue;
            };
            let nested = match part.content_type() {
                Some(Ok(ct)) if ct.is_multipart() => {
                    if depth >= max_depth {
                        return Err(MimeError::new(MimeErrorKind::TooDeep, offset_of(&part)));
                    }
                    match part.as_multipart(limits) {
                        Some(Ok(m)) => Some(m),
                        Some(Err(e)) => return Err(e.shifted(offset_of(&part))),
                        None => None,
                    }
                }
                _ => None,
            };
            out.push(NestedPart { depth, part });
            if let Some(m) = nested {
                stack.push((m.parts.into_iter(), depth + 1));
            }
        }
        Ok(out)
    }
}

/// A part found by [`Multipart::walk`], with how deep it is nested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NestedPart<'a> {
    /// 1 for a part of the outer body, 2 for a part of a `multipart/*` part
    /// of it, and so on.
    pub depth: usize,
    /// The part itself; a `multipart/*` part keeps its whole body.
    pub part: Part<'a>,
}

/// A delimiter line found in the body.
#[derive(Debug, Clone, Copy)]
struct DelimiterLine {
    /// Offset of the `--boundary`.
    start: usize,
    /// Offset just after the line (where the next part starts).
    next: usize,
    /// Whether this is the close delimiter `--boundary--`.
    close: bool,
}

/// Finds delimiter lines, scanning the body once.
struct DelimiterLines<'b, 'f> {
    body: &'b [u8],
    finder: &'f memmem::Finder<'f>,
    search_from: usize,
}

impl DelimiterLines<'_, '_> {
    /// The next delimiter line at or after `from`: `--boundary` at the start
    /// of a line (or at `from`, which is a line start), then `--` or transport
    /// padding and a line end (or the end of the body). Other lines starting
    /// with `--boundary` are content.
    fn next_delimiter(&mut self, from: usize) -> Option<DelimiterLine> {
        let body = self.body;
        let mut at = self.search_from.max(from);
        loop {
            let found = at + self.finder.find(body.get(at..)?)?;
            let after = found + self.finder.needle().len();
            at = found + 1;
            let at_line_start = found == from || (found > 0 && body.get(found - 1) == Some(&b'\n'));
            if !at_line_start {
                continue;
            }
            let rest = body.get(after..).unwrap_or_default();
            if rest.starts_with(b"--") {
                self.search_from = after;
                return Some(DelimiterLine {
                    start: found,
                    next: body.len(),
                    close: true,
                });
            }
            let pad = rest
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count();
            let tail = rest.get(pad..).unwrap_or_default();
            let line_end = if tail.starts_with(b"\r\n") {
                Some(2)
            } else if tail.starts_with(b"\n") {
                Some(1)
            } else if tail.is_empty() {
                Some(0)
            } else {
                None
            };
            if let Some(len) = line_end {
                let next = after + pad + len;
                self.search_from = next;
                return Some(DelimiterLine {
                    start: found,
                    next,
                    close: false,
                });
            }
        }
    }
}

/// Finds the part of type `top_level/subtype` in a body whose `Content-Type`
/// is `content_type`: the body itself when it is of that type, the first such
/// part when it is `multipart/*`, `None` otherwise.
fn find_part<'a>(
    content_type: &str,
    body: &'a [u8],
    limits: &MimeLimits,
    top_level: &str,
    subtype: &str,
    prefer_disposition: Option<&str>,
) -> Result<Option<&'a [u8]>, MimeError> {
    let mut wanted = [Wanted::new(top_level, subtype, prefer_disposition)];
    find_parts(content_type, body, limits, &mut wanted)?;
    let [found] = wanted;
    Ok(found.found)
}

/// A part [`find_parts`] looks for: its type, the disposition it prefers
/// among parts of that type, and what was found.
struct Wanted<'w, 'a> {
    top_level: &'w str,
    subtype: &'w str,
    prefer_disposition: Option<&'w str>,
    found: Option<&'a [u8]>,
    /// `found` has the preferred disposition (or none is preferred).
    settled: bool,
}

impl<'w> Wanted<'w, '_> {
    fn new(top_level: &'w str, subtype: &'w str, prefer_disposition: Option<&'w str>) -> Self {
        Wanted {
            top_level,
            subtype,
            prefer_disposition,
            found: None,
            settled: false,
        }
    }
}

/// [`find_part`] for several types at once, reading the body (and each
/// part's header fields) once.
fn find_parts<'a>(
    content_type: &str,
    body: &'a [u8],
    limits: &MimeLimits,
    wanted: &mut [Wanted<'_, 'a>],
) -> Result<(), MimeError> {
    let ct = MediaType::parse_with(content_type, limits)?;
    let mut multipart = false;
    for w in wanted.iter_mut() {
        if ct.is(w.top_level, w.subtype) {
            w.found = Some(body);
            w.settled = true;
        } else {
            multipart |= ct.is_multipart();
        }
    }
    if !multipart {
        return Ok(());
    }
    let boundary = ct
        .param("boundary")
        .ok_or(MimeError::new(MimeErrorKind::MissingBoundary, 0))?
        .unquoted();
    let multipart = Multipart::parse(body, &boundary, limits)?;
    for part in &multipart.parts {
        let Some(Ok(part_type)) = part.content_type() else {
            continue;
        };
        for w in wanted.iter_mut() {
            if w.settled || !part_type.is(w.top_level, w.subtype) {
                continue;
            }
            let preferred = w.prefer_disposition.is_none_or(|d| part.has_disposition(d));
            if preferred || w.found.is_none() {
                w.found = Some(part.body);
            }
            w.settled = preferred;
        }
    }
    Ok(())
}

/// The SDP and the URI list of an INVITE body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InviteBodies<'a> {
    /// The SDP, as [`find_sdp`] finds it.
    pub(crate) sdp: Option<&'a [u8]>,
    /// The URI list, as [`find_resource_lists`] finds it.
    pub(crate) resource_lists: Option<&'a [u8]>,
}

/// The SDP and the URI list of an INVITE body, reading the body once.
pub(crate) fn find_sdp_and_resource_lists<'a>(
    content_type: &str,
    body: &'a [u8],
    limits: &MimeLimits,
) -> Result<InviteBodies<'a>, MimeError> {
    let mut wanted = [
        Wanted::new("application", "sdp", None),
        Wanted::new("application", "resource-lists+xml", Some("recipient-list")),
    ];
    find_parts(content_type, body, limits, &mut wanted)?;
    let [sdp, list] = wanted;
    Ok(InviteBodies {
        sdp: sdp.found,
        resource_lists: list.found,
    })
}

/// The SDP (`application/sdp`) of a message body, given the body's
/// `Content-Type`: the body itself, or the first `application/sdp` part of a
/// `multipart/*` body. `None` when there is none.
///
/// ```
/// use oma_im::body::multipart::find_sdp;
///
/// let body = b"--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\r\n--b1--\r\n";
/// let sdp = find_sdp("multipart/mixed;boundary=b1", body, &Default::default()).unwrap();
/// assert_eq!(sdp, Some(&b"v=0\r\n"[..]));
/// assert_eq!(find_sdp("application/sdp", b"v=0", &Default::default()).unwrap(), Some(&b"v=0"[..]));
/// ```
pub fn find_sdp<'a>(
    content_type: &str,
    body: &'a [u8],
    limits: &MimeLimits,
) -> Result<Option<&'a [u8]>, MimeError> {
    find_part(content_type, body, limits, "application", "sdp", None)
}

/// The URI list (`application/resource-lists+xml`, RFC 5366) of a message
/// body, given the body's `Content-Type`: the body itself, or in a
/// `multipart/*` body the first such part with `Content-Disposition:
/// recipient-list`, else the first such part. `None` when there is none.
pub fn find_resource_lists<'a>(
    content_type: &str,
    body: &'a [u8],
    limits: &MimeLimits,
) -> Result<Option<&'a [u8]>, MimeError> {
    find_part(
        content_type,
        body,
        limits,
        "application",
        "resource-lists+xml",
        Some("recipient-list"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Multipart<'a>, MimeError> {
        Multipart::parse(body, boundary, &MimeLimits::default())
    }

    #[test]
    fn sdp_and_list_in_one_reading_as_found_apart() {
        let limits = MimeLimits::default();
        let body = b"--b\r\nContent-Type: application/resource-lists+xml\r\n\r\nfirst\r\n\
            --b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\r\n\
            --b\r\nContent-Type: application/resource-lists+xml\r\n\
            Content-Disposition: recipient-list\r\n\r\nsecond\r\n\
            --b\r\nContent-Type: application/sdp\r\n\r\nv=1\r\n\r\n--b--\r\n";
        let ct = "multipart/mixed;boundary=b";
        let both = find_sdp_and_resource_lists(ct, body, &limits).unwrap();
        assert_eq!(both.sdp, Some(&b"v=0\r\n"[..]));
        assert_eq!(both.resource_lists, Some(&b"second"[..]));
        assert_eq!(both.sdp, find_sdp(ct, body, &limits).unwrap());
        assert_eq!(
            both.resource_lists,
            find_resource_lists(ct, body, &limits).unwrap()
        );
        // Without the preferred disposition, the first list.
        let plain = b"--b\r\nContent-Type: application/resource-lists+xml\r\n\r\none\r\n\
            --b\r\nContent-Type: application/resource-lists+xml\r\n\r\ntwo\r\n--b--";
        let found = find_sdp_and_resource_lists(ct, plain, &limits).unwrap();
        assert_eq!(found.sdp, None);
        assert_eq!(found.resource_lists, Some(&b"one"[..]));
        // A body that is itself one of them.
        let sdp = find_sdp_and_resource_lists("application/sdp", b"v=0", &limits).unwrap();
        assert_eq!(sdp.sdp, Some(&b"v=0"[..]));
        assert_eq!(sdp.resource_lists, None);
        assert!(find_sdp_and_resource_lists("multipart/mixed", body, &limits).is_err());
    }

    #[test]
    fn crlf_before_delimiter_belongs_to_it() {
        let body = b"--b\r\n\r\nline\r\n\r\n--b\r\n\r\nno end--b\r\n--b--";
        let m = parse(body, "b").unwrap();
        assert_eq!(m.parts.len(), 2);
        assert_eq!(m.parts[0].body, b"line\r\n");
        assert_eq!(m.parts[1].body, b"no end--b");
    }

    #[test]
    fn transport_padding_and_lf_only() {
        let body = b"preamble\n--b \t\nContent-Type: text/plain\n\nx\n--b--  \nepilogue";
        let m = parse(body, "b").unwrap();
        assert_eq!(m.parts.len(), 1);
        assert_eq!(m.parts[0].body, b"x");
        assert!(m.parts[0].is_type("text", "plain"));
    }

    #[test]
    fn longer_boundary_lines_are_content() {
        let body = b"--b\r\n\r\n--bc\r\n--b--";
        let m = parse(body, "b").unwrap();
        assert_eq!(m.parts[0].body, b"--bc");
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse(b"--b\r\n\r\nx\r\n", "b").unwrap_err(),
            MimeError::new(MimeErrorKind::MissingCloseDelimiter, 10)
        );
        assert_eq!(
            parse(b"nothing", "b").unwrap_err().kind,
            MimeErrorKind::MissingDelimiter
        );
        assert_eq!(
            parse(b"--b--", "b").unwrap_err().kind,
            MimeErrorKind::NoBodyPart
        );
        assert_eq!(
            parse(b"", "").unwrap_err().kind,
            MimeErrorKind::InvalidBoundary
        );
        assert_eq!(
            parse(b"", "a ").unwrap_err().kind,
            MimeErrorKind::InvalidBoundary
        );
        let long = "x".repeat(71);
        assert_eq!(
            parse(b"", &long).unwrap_err().kind,
            MimeErrorKind::InvalidBoundary
        );
        assert_eq!(
            parse(b"--b\r\nbad header\r\n--b--", "b").unwrap_err(),
            MimeError::new(MimeErrorKind::MissingColon, 5)
        );
    }

    #[test]
    fn max_parts() {
        let limits = MimeLimits {
            max_parts: 2,
            ..MimeLimits::default()
        };
        let body = b"--b\r\n\r\n1\r\n--b\r\n\r\n2\r\n--b\r\n\r\n3\r\n--b--";
        assert_eq!(
            Multipart::parse(body, "b", &limits).unwrap_err(),
            MimeError::new(MimeErrorKind::TooManyParts, 20)
        );
        let limits = MimeLimits {
            max_parts: 3,
            ..limits
        };
        assert_eq!(Multipart::parse(body, "b", &limits).unwrap().parts.len(), 3);
    }

    #[test]
    fn content_type_helper() {
        let body = b"--x y\r\n\r\n1\r\n--x y--";
        let limits = MimeLimits::default();
        let m = Multipart::parse_content_type(body, "multipart/mixed; boundary=\"x y\"", &limits);
        assert_eq!(m.unwrap().parts[0].body, b"1");
        let e = Multipart::parse_content_type(body, "text/plain", &limits).unwrap_err();
        assert_eq!(e.kind, MimeErrorKind::NotMultipart);
        let e = Multipart::parse_content_type(body, "multipart/mixed", &limits).unwrap_err();
        assert_eq!(e.kind, MimeErrorKind::MissingBoundary);
    }

    #[test]
    fn boundary_avoids_part_content() {
        let first = boundary_for(42);
        let text = format!("x--{}y", first.as_str());
        let mut m = Multipart::new();
        m.parts
            .push(Part::new("text/plain", text.as_bytes()).unwrap());
        let chosen = m.choose_boundary(42);
        assert_ne!(chosen, first);
        assert_eq!(chosen, boundary_for(43));
        // Deterministic: same seed, same parts, same boundary.
        assert_eq!(m.choose_boundary(42), chosen);
    }

    #[test]
    fn nested_multipart_only_when_asked() {
        let inner = b"--in\r\n\r\ninner\r\n--in--";
        let mut outer = Multipart::new();
        outer
            .parts
            .push(Part::new("multipart/alternative;boundary=in", inner).unwrap());
        let mut out = Vec::new();
        let b = outer.write(1, &mut out);
        let parsed = parse(&out, b.as_str()).unwrap();
        assert_eq!(parsed.parts[0].body, inner);
        let nested = parsed.parts[0]
            .as_multipart(&MimeLimits::default())
            .unwrap()
            .unwrap();
        assert_eq!(nested.parts[0].body, b"inner");
        assert!(Part::new("text/plain", b"")
            .unwrap()
            .as_multipart(&MimeLimits::default())
            .is_none());
    }

    #[test]
    fn resource_lists_prefers_recipient_list() {
        let mut m = Multipart::new();
        m.parts
            .push(Part::new("application/resource-lists+xml", b"first").unwrap());
        m.parts.push(
            Part::new("application/resource-lists+xml", b"second")
                .unwrap()
                .with_header("Content-Disposition", "recipient-list")
                .unwrap()
                .with_header("Content-ID", "<list@example.com>")
                .unwrap(),
        );
        let mut out = Vec::new();
        let b = m.write(9, &mut out);
        let parsed = parse(&out, b.as_str()).unwrap();
        assert_eq!(parsed.parts[1].content_id(), Some("<list@example.com>"));
        assert_eq!(parsed.parts[0].content_id(), None);
        let mut ct = Vec::new();
        b.write_content_type(&mut ct);
        let ct = String::from_utf8(ct).unwrap();
        let limits = MimeLimits::default();
        assert_eq!(
            find_resource_lists(&ct, &out, &limits).unwrap(),
            Some(&b"second"[..])
        );
        assert_eq!(find_sdp(&ct, &out, &limits).unwrap(), None);
        assert_eq!(find_sdp("text/plain", b"x", &limits).unwrap(), None);
    }
    #[test]
    fn planted_candidates_are_skipped_in_one_pass() {
        // Every candidate from `seed` to `seed + 999` is planted, in reverse
        // order, with noise between them: the first free counter is taken.
        let seed = 41;
        let mut body = Vec::new();
        for counter in (seed..seed + 1000).rev() {
            body.extend_from_slice(boundary_for(counter).as_str().as_bytes());
            body.extend_from_slice(b" oma-im-0123 oma-im-");
        }
        let mut m = Multipart::new();
        m.parts.push(Part::new("text/plain", &body).unwrap());
        assert_eq!(m.choose_boundary(seed), boundary_for(seed + 1000));
        // Uppercase hex is not what `boundary_for` writes: not a candidate.
        let upper = boundary_for(seed).as_str().to_uppercase();
        let mut m = Multipart::new();
        m.parts
            .push(Part::new("text/plain", upper.as_bytes()).unwrap());
        assert_eq!(m.choose_boundary(seed), boundary_for(seed));
    }
}
