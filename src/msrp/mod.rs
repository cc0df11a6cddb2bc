//! MSRP (RFC 4975): the wire codec, an incremental stream parser for TCP,
//! chunking and reassembly of large messages, and the pure rules for
//! transaction responses and REPORTs.
//!
//! * [`parse_message`] / [`parse_message_prefix`]: one message, zero-copy
//!   ([`MsrpMessage`] = [`MsrpHead`] + body + [`ContinuationFlag`]).
//! * [`MsrpStreamParser`]: bytes of a connection split anywhere in,
//!   [`StreamEvent`]s (head, body data, end) out.
//! * [`MsrpMessage::write`]: the exact RFC framing into a caller's `Vec<u8>`.
//! * [`chunks`]: a message split into SEND chunks with Byte-Range and flags;
//!   [`Reassembler`]: chunks in any order back into messages.
//! * [`response_owed`], [`response`], [`success_report_owed`], [`report`]:
//!   RFC 4975 §7 answers for a received SEND.
//! * [`session::MsrpSession`]: the endpoint session over one connection
//!   (sans-IO state machine).
//! * [`switch::MsrpSwitch`]: the controlling IM Server's fan-out of messages
//!   from one participant's leg to all the others.
//!
//! Everything that grows with input is bounded by [`Limits`].
//!
//! # Receiving on a connection
//!
//! ```
//! use oma_im::msrp::{
//!     response, response_owed, ByteRange, Limits, MsrpStreamParser, Progress, Reassembler,
//!     StreamEvent,
//! };
//!
//! // Two chunks of one message, as read from TCP.
//! let wire = b"MSRP tid1a SEND\r\n\
//! To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n\
//! From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\r\n\
//! Message-ID: 12339sdqwer\r\nByte-Range: 1-6/11\r\nContent-Type: text/plain\r\n\r\n\
//! Hello \r\n-------tid1a+\r\n\
//! MSRP tid2b SEND\r\n\
//! To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n\
//! From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\r\n\
//! Message-ID: 12339sdqwer\r\nByte-Range: 7-11/11\r\nContent-Type: text/plain\r\n\r\n\
//! Alice\r\n-------tid2b$\r\n";
//!
//! let limits = Limits::default();
//! let mut parser = MsrpStreamParser::new(limits);
//! let mut reassembler = Reassembler::new(limits);
//! let mut to_send = Vec::new(); // transaction responses for the wire
//! let mut chunk = Vec::new(); // the current chunk's body (≤ max_chunk_size)
//! let mut current = None; // (Message-ID, Byte-Range) of the current chunk
//! let mut messages = Vec::new();
//!
//! for read in wire.chunks(50) {
//!     parser.feed(read);
//!     while let Some(event) = parser.next_event()? {
//!         match event {
//!             StreamEvent::Head { head, .. } => {
//!                 if response_owed(&head, 200) {
//!                     response(&head, 200).write(&mut to_send);
//!                 }
//!                 let range = head.byte_range.unwrap_or(ByteRange { start: 1, end: None, total: None });
//!                 current = head.message_id.map(|id| (id.to_owned(), range));
//!                 chunk.clear();
//!             }
//!             StreamEvent::BodyData(data) => chunk.extend_from_slice(data),
//!             StreamEvent::End(flag) => {
//!                 if let Some((id, range)) = current.take() {
//!                     if let Progress::Complete(m) = reassembler.push(&id, range, &chunk, flag)? {
//!                         messages.push(m.data);
//!                     }
//!                 }
//!             }
//!         }
//!     }
//! }
//! assert_eq!(messages, [b"Hello Alice".to_vec()]);
//! assert!(to_send.starts_with(b"MSRP tid1a 200 OK\r\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod chunk;
mod error;
mod fields;
mod list;
mod message;
pub(crate) mod parse;
mod reassembly;
mod report;
pub mod session;
mod stream;
pub mod switch;
mod syntax;
mod uri;

pub use chunk::{chunks, Chunk, Chunks};
pub use error::{Limit, MsrpError, MsrpErrorKind};
pub use fields::{
    ByteRange, ContinuationFlag, FailureReport, Header, Method, StartLine, Status, SuccessReport,
};
pub use list::List;
pub use message::{end_line_in_body, write_end_line, Headers, MsrpHead, MsrpMessage, Path};
pub use parse::{parse_message, parse_message_prefix, parse_message_with};
pub use reassembly::{
    Progress, ReassembledMessage, Reassembler, ReassemblyError, SEGMENT_OVERHEAD,
};
pub use report::{
    failure_report_owed, reason_phrase, report, response, response_owed, success_report_owed,
};
pub use stream::{MsrpStreamParser, StreamEvent};
pub use uri::{MsrpUri, Scheme};

/// Bounds on everything an MSRP peer can make grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest start line plus header section, blank line or end-line
    /// included, in bytes.
    pub max_header_size: usize,
    /// Most header fields in one message (To-Path and From-Path included).
    pub max_headers: usize,
    /// Most URIs in one To-Path or From-Path.
    pub max_path_uris: usize,
    /// Longest transact-id (the RFC's `ident` allows 32 characters).
    pub max_transact_id_len: usize,
    /// Longest Message-ID.
    pub max_message_id_len: usize,
    /// Largest body of one message (chunk); over it the receiver answers 413.
    pub max_chunk_size: usize,
    /// Largest whole message the [`Reassembler`] accepts; over it the
    /// receiver answers 413.
    pub max_message_size: u64,
    /// Most messages the [`Reassembler`] holds partially received at once.
    pub max_partial_messages: usize,
    /// Most bytes the [`Reassembler`] holds over all its partial messages,
    /// each run of received bytes charged its length plus
    /// [`SEGMENT_OVERHEAD`]; over it the receiver answers 413
    /// and drops that message.
    pub max_buffered_bytes: u64,
}

impl Default for Limits {
    /// 8 KiB of headers, 32 headers, 8 URIs per path, 64-byte ids, 1 MiB
    /// chunks, 16 MiB messages, 16 partial messages, 33 MiB buffered (two
    /// whole messages in flight).
    fn default() -> Self {
        Self {
            max_header_size: 8 * 1024,
            max_headers: 32,
            max_path_uris: 8,
            max_transact_id_len: 64,
            max_message_id_len: 64,
            max_chunk_size: 1024 * 1024,
            max_message_size: 16 * 1024 * 1024,
            max_partial_messages: 16,
            max_buffered_bytes: 33 * 1024 * 1024,
        }
    }
}
