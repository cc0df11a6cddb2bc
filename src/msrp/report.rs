//! Pure helpers for the transaction-response and REPORT rules of RFC 4975 §7,
//! for an endpoint that received a request.

use super::fields::{
    ByteRange, ContinuationFlag, FailureReport, Method, StartLine, Status, SuccessReport,
};
use super::message::{MsrpHead, MsrpMessage, Path};

/// The comment written after a status code: `OK` for 200 (as in the RFC's
/// examples), the IANA MSRP registry's description for the other codes of
/// RFC 4975, `None` for codes it does not define.
pub const fn reason_phrase(code: u16) -> Option<&'static str> {
    Some(match code {
        200 => "OK",
        400 => "Unintelligible",
        403 => "Action-not-allowed",
        408 => "Transaction-did-not-complete-in-allotted-time",
        413 => "Stop-sending-message",
        415 => "MIME-not-understood",
        423 => "Parameter-out-of-bounds",
        481 => "Session-does-not-exist",
        501 => "Request-method-not-understood",
        506 => "Session-already-in-use",
        _ => return None,
    })
}

/// Whether a transaction response with status `code` is owed for `request`:
/// never for a REPORT or a response; never when its Failure-Report is `no`;
/// only a failure (non-200) when it is `partial`; always otherwise.
///
/// ```
/// use oma_im::msrp::{parse_message, response_owed};
///
/// let send = parse_message(b"MSRP t1 SEND\r\nTo-Path: msrp://b.example.com:1/s;tcp\r\n\
/// From-Path: msrp://a.example.com:2/s;tcp\r\nFailure-Report: no\r\n-------t1$\r\n")?;
/// assert!(!response_owed(&send.head, 200));
/// # Ok::<(), oma_im::msrp::MsrpError>(())
/// ```
pub fn response_owed(request: &MsrpHead<'_>, code: u16) -> bool {
    match request.start {
        StartLine::Request(Method::Report) | StartLine::Response { .. } => false,
        StartLine::Request(_) => match request.failure_report.unwrap_or(FailureReport::Yes) {
            FailureReport::Yes => true,
            FailureReport::No => false,
            FailureReport::Partial => code != 200,
        },
    }
}

/// The transaction response to `request` (RFC 4975 §7.2): same transact-id,
/// status `code` with its [`reason_phrase`], To-Path the first URI of the
/// request's From-Path only, From-Path the first URI of its To-Path (this
/// endpoint). Write it with [`MsrpMessage::write`].
///
/// ```
/// use oma_im::msrp::{parse_message, response};
///
/// let send = parse_message(b"MSRP d93kswow SEND\r\n\
/// To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n\
/// From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\r\n\
/// -------d93kswow$\r\n")?;
/// let mut out = Vec::new();
/// response(&send.head, 200).write(&mut out);
/// assert_eq!(out, b"MSRP d93kswow 200 OK\r\n\
/// To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\r\n\
/// From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n\
/// -------d93kswow$\r\n");
/// # Ok::<(), oma_im::msrp::MsrpError>(())
/// ```
pub fn response<'a>(request: &MsrpHead<'a>, code: u16) -> MsrpMessage<'a> {
    let to: Path<'a> = request.from_path.iter().take(1).copied().collect();
    let from: Path<'a> = request.to_path.iter().take(1).copied().collect();
    let head = MsrpHead::response(request.transact_id, code, reason_phrase(code), to, from);
    MsrpMessage {
        head,
        body: None,
        flag: ContinuationFlag::Complete,
    }
}

/// Whether a success REPORT is owed for `send`: it is a SEND whose
/// Success-Report is `yes`, and the whole message has arrived.
pub fn success_report_owed(send: &MsrpHead<'_>, whole_message_received: bool) -> bool {
    send.method() == Some(Method::Send)
        && send.success_report == Some(SuccessReport::Yes)
        && whole_message_received
}

/// Whether a failure REPORT may be sent for `send` when delivery fails
/// after its transaction: it is a SEND whose Failure-Report is `yes` (the
/// default) or `partial`, not `no`.
pub fn failure_report_owed(send: &MsrpHead<'_>) -> bool {
    send.method() == Some(Method::Send) && send.failure_report != Some(FailureReport::No)
}

/// A REPORT about `send` (RFC 4975 §7.1.2): new transact-id from the caller,
/// To-Path the SEND's From-Path, From-Path the first URI of its To-Path, the
/// SEND's Message-ID, `byte_range`, and `Status: 000 <code> <reason>`.
///
/// For a success REPORT use code 200 and [`ByteRange::whole`] of the
/// message; for a failure REPORT the failure's code and the range it
/// concerns.
///
/// ```
/// use oma_im::msrp::{parse_message, report, ByteRange};
///
/// let send = parse_message(b"MSRP d93kswow SEND\r\n\
/// To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n\
/// From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\r\n\
/// Message-ID: 12339sdqwer\r\nSuccess-Report: yes\r\n-------d93kswow$\r\n")?;
/// let whole = ByteRange::whole(106);
/// let mut out = Vec::new();
/// report(&send.head, "dkei38sd", whole, 200).write(&mut out);
/// assert_eq!(out, b"MSRP dkei38sd REPORT\r\n\
/// To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\r\n\
/// From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n\
/// Message-ID: 12339sdqwer\r\n\
/// Byte-Range: 1-106/106\r\n\
/// Status: 000 200 OK\r\n\
/// -------dkei38sd$\r\n");
/// # Ok::<(), oma_im::msrp::MsrpError>(())
/// ```
pub fn report<'a>(
    send: &MsrpHead<'a>,
    transact_id: &'a str,
    byte_range: ByteRange,
    code: u16,
) -> MsrpMessage<'a> {
    let from: Path<'a> = send.to_path.iter().take(1).copied().collect();
    let mut head = MsrpHead::request(transact_id, Method::Report, send.from_path.clone(), from);
    head.message_id = send.message_id;
    head.byte_range = Some(byte_range);
    head.status = Some(Status {
        namespace: 0,
        code,
        reason: reason_phrase(code),
    });
    MsrpMessage {
        head,
        body: None,
        flag: ContinuationFlag::Complete,
    }
}
