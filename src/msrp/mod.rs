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

mod chunk;
mod error;
mod fields;
mod list;
mod message;
mod parse;
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
pub use reassembly::{Progress, ReassembledMessage, Reassembler, ReassemblyError};
pub use report::{reason_phrase, report, response, response_owed, success_report_owed};
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
}

impl Default for Limits {
    /// 8 KiB of headers, 32 headers, 8 URIs per path, 64-byte ids, 1 MiB
    /// chunks, 16 MiB messages, 16 partial messages.
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
        }
    }
}
