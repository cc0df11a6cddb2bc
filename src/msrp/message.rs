//! The parsed view of an MSRP message and its writer.

use super::fields::{
    ByteRange, ContinuationFlag, FailureReport, Header, Method, StartLine, Status, SuccessReport,
};
use super::list::List;
use super::syntax::write_3digit;
use super::uri::MsrpUri;

/// The URIs of a To-Path or From-Path header, in order.
pub type Path<'a> = List<MsrpUri<'a>, 2>;

/// Header fields kept by name and value, in order.
pub type Headers<'a> = List<Header<'a>, 4>;

/// The start line and header section of an MSRP request or response,
/// borrowing the bytes it was parsed from.
///
/// Typed fields hold the headers RFC 4975 defines; MIME headers other than
/// Content-Type (Content-ID, Content-Description, Content-Disposition, other
/// `Content-*`) and extension headers are kept by name and value, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsrpHead<'a> {
    /// The transact-id of the start line (and of the end-line).
    pub transact_id: &'a str,
    /// Request method, or response status.
    pub start: StartLine<'a>,
    /// To-Path: the URIs towards the receiver (at least one).
    pub to_path: Path<'a>,
    /// From-Path: the URIs back to the sender (at least one).
    pub from_path: Path<'a>,
    /// Message-ID.
    pub message_id: Option<&'a str>,
    /// Byte-Range.
    pub byte_range: Option<ByteRange>,
    /// Success-Report.
    pub success_report: Option<SuccessReport>,
    /// Failure-Report.
    pub failure_report: Option<FailureReport>,
    /// Status (REPORT requests).
    pub status: Option<Status<'a>>,
    /// Content-Type (required when there is a body).
    pub content_type: Option<&'a str>,
    /// Other MIME headers (`Content-*`), in order.
    pub mime_headers: Headers<'a>,
    /// Extension headers, in order.
    pub ext_headers: Headers<'a>,
}

/// A complete MSRP request or response: head, optional body and the end-line's
/// continuation flag.
///
/// ```
/// use oma_im::msrp::{parse_message, ContinuationFlag, Method, StartLine};
///
/// let wire = b"MSRP a786hjs2 SEND\r\n\
/// To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n\
/// From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n\
/// Message-ID: 87652491\r\n\
/// Byte-Range: 1-25/25\r\n\
/// Content-Type: text/plain\r\n\
/// \r\n\
/// Hey Bob, are you there?\r\n\
/// -------a786hjs2$\r\n";
/// let msg = parse_message(wire)?;
/// assert_eq!(msg.head.start, StartLine::Request(Method::Send));
/// assert_eq!(msg.head.to_path[0].port, Some(12763));
/// assert_eq!(msg.body, Some(&b"Hey Bob, are you there?"[..]));
/// assert_eq!(msg.flag, ContinuationFlag::Complete);
///
/// let mut out = Vec::new();
/// msg.write(&mut out);
/// assert_eq!(out, wire);
/// # Ok::<(), oma_im::msrp::MsrpError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsrpMessage<'a> {
    /// Start line and headers.
    pub head: MsrpHead<'a>,
    /// The body (binary-safe), if the message has one.
    pub body: Option<&'a [u8]>,
    /// The end-line's continuation flag.
    pub flag: ContinuationFlag,
}

impl<'a> MsrpHead<'a> {
    /// A request head with the given paths and no other header.
    pub fn request(
        transact_id: &'a str,
        method: Method<'a>,
        to_path: Path<'a>,
        from_path: Path<'a>,
    ) -> Self {
        Self::new(transact_id, StartLine::Request(method), to_path, from_path)
    }

    /// A response head with the given paths and no other header.
    pub fn response(
        transact_id: &'a str,
        code: u16,
        comment: Option<&'a str>,
        to_path: Path<'a>,
        from_path: Path<'a>,
    ) -> Self {
        Self::new(
            transact_id,
            StartLine::Response { code, comment },
            to_path,
            from_path,
        )
    }

    fn new(
        transact_id: &'a str,
        start: StartLine<'a>,
        to_path: Path<'a>,
        from_path: Path<'a>,
    ) -> Self {
        Self {
            transact_id,
            start,
            to_path,
            from_path,
            message_id: None,
            byte_range: None,
            success_report: None,
            failure_report: None,
            status: None,
            content_type: None,
            mime_headers: List::new(),
            ext_headers: List::new(),
        }
    }

    /// The request method, or `None` for a response.
    pub fn method(&self) -> Option<Method<'a>> {
        match self.start {
            StartLine::Request(method) => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// Appends the start line and the header section, each line ending in
    /// CRLF, in the RFC's order: To-Path, From-Path, Message-ID,
    /// Success-Report, Failure-Report, Byte-Range, Status, extension headers,
    /// MIME headers, Content-Type last.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"MSRP ");
        out.extend_from_slice(self.transact_id.as_bytes());
        out.push(b' ');
        match self.start {
            StartLine::Request(method) => out.extend_from_slice(method.as_str().as_bytes()),
            StartLine::Response { code, comment } => {
                write_3digit(out, code);
                if let Some(comment) = comment {
                    out.push(b' ');
                    out.extend_from_slice(comment.as_bytes());
                }
            }
        }
        out.extend_from_slice(b"\r\n");
        write_path(out, b"To-Path: ", &self.to_path);
        write_path(out, b"From-Path: ", &self.from_path);
        if let Some(id) = self.message_id {
            write_header(out, "Message-ID", id);
        }
        if let Some(report) = self.success_report {
            write_header(out, "Success-Report", report.as_str());
        }
        if let Some(report) = self.failure_report {
            write_header(out, "Failure-Report", report.as_str());
        }
        if let Some(range) = &self.byte_range {
            out.extend_from_slice(b"Byte-Range: ");
            range.write(out);
            out.extend_from_slice(b"\r\n");
        }
        if let Some(status) = &self.status {
            out.extend_from_slice(b"Status: ");
            status.write(out);
            out.extend_from_slice(b"\r\n");
        }
        for h in self.ext_headers.iter().chain(&self.mime_headers) {
            write_header(out, h.name, h.value);
        }
        if let Some(ct) = self.content_type {
            write_header(out, "Content-Type", ct);
        }
    }
}

impl MsrpMessage<'_> {
    /// Appends the whole message: head, a blank line and the body if there is
    /// one, then the end-line `-------<transact-id><flag>` CRLF.
    ///
    /// The caller must have chosen a transact-id that does not occur in the
    /// body (see [`end_line_in_body`](super::end_line_in_body)); otherwise the
    /// receiver ends the message early.
    pub fn write(&self, out: &mut Vec<u8>) {
        self.head.write(out);
        if let Some(body) = self.body {
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n");
        }
        write_end_line(out, self.head.transact_id, self.flag);
    }
}

/// Appends the end-line `-------<transact-id><flag>` CRLF.
pub fn write_end_line(out: &mut Vec<u8>, transact_id: &str, flag: ContinuationFlag) {
    out.extend_from_slice(b"-------");
    out.extend_from_slice(transact_id.as_bytes());
    out.push(flag.as_byte());
    out.extend_from_slice(b"\r\n");
}

/// Whether `body` contains the text that would end a message with this
/// transact-id early (RFC 4975 §7.1.1 asks the sender to pick a transact-id
/// for which this is `false`): CRLF, seven hyphens and the transact-id, or a
/// body starting with the hyphens and the transact-id (a receiver may read
/// that as an end-line right after the blank line). The check is
/// conservative: it ignores the flag character after the id.
///
/// ```
/// use oma_im::msrp::end_line_in_body;
///
/// assert!(end_line_in_body(b"x\r\n-------abcd$\r\n", "abcd"));
/// assert!(end_line_in_body(b"-------abcd+", "abcd"));
/// assert!(!end_line_in_body(b"x\r\n-------abcd$\r\n", "wxyz"));
/// ```
pub fn end_line_in_body(body: &[u8], transact_id: &str) -> bool {
    let id = transact_id.as_bytes();
    let at_start = body
        .strip_prefix(b"-------")
        .is_some_and(|rest| rest.starts_with(id));
    at_start
        || memchr::memmem::find_iter(body, b"\r\n-------")
            .any(|at| body.get(at + 9..).is_some_and(|rest| rest.starts_with(id)))
}

fn write_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn write_path(out: &mut Vec<u8>, name: &[u8], path: &[MsrpUri<'_>]) {
    out.extend_from_slice(name);
    for (i, uri) in path.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        uri.write(out);
    }
    out.extend_from_slice(b"\r\n");
}
