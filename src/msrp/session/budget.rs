//! What a session holds for its peer — the chunk being read and the
//! messages being reassembled — bounded by
//! [`Limits::max_buffered_bytes`](crate::msrp::Limits::max_buffered_bytes)
//! and by the allowance its owner sets; a peer that goes over gets 413 and
//! the session is torn down.

use super::{Event, MsrpSession};

/// Chunk buffers larger than this are released after their chunk.
const RETAIN_CHUNK: usize = 16 * 1024;

/// The first capacity of a chunk buffer.
const MIN_CHUNK: usize = 256;

impl MsrpSession {
    /// The bytes held for the peer: the buffer of the chunk being read and
    /// the partial messages (with
    /// [`SEGMENT_OVERHEAD`](crate::msrp::SEGMENT_OVERHEAD) per run) — what
    /// [`Limits::max_buffered_bytes`](crate::msrp::Limits::max_buffered_bytes)
    /// and the allowance bound.
    pub fn buffered_bytes(&self) -> usize {
        let partial = usize::try_from(self.reassembler.buffered_bytes()).unwrap_or(usize::MAX);
        self.chunk.capacity().saturating_add(partial)
    }

    /// Bounds what the session may hold for its peer from now on below
    /// [`Limits::max_buffered_bytes`](crate::msrp::Limits::max_buffered_bytes):
    /// the share of a budget that several sessions draw on (all the
    /// sessions of a client or a History Function) left for this one. A
    /// chunk that then does not fit is answered 413 and the session emits
    /// [`Event::BufferExceeded`].
    ///
    /// ```
    /// use std::time::Instant;
    /// use oma_im::msrp::session::{Event, Input, MsrpSession, Output, SessionConfig, SessionParams};
    ///
    /// let me = "msrp://bob.example.com:8888/9di4eae923wzd;tcp";
    /// let peer = "msrp://alice.example.com:7777/iau39soe2843z;tcp";
    /// let mut session = MsrpSession::new(SessionParams::new(me, peer, false), SessionConfig::default())?;
    /// let now = Instant::now();
    /// session.set_buffer_allowance(8 * 1024);
    /// let head = format!("MSRP t1 SEND\r\nTo-Path: {me}\r\nFrom-Path: {peer}\r\n\
    ///     Message-ID: m1\r\nByte-Range: 1-*/*\r\nContent-Type: text/plain\r\n\r\n");
    /// session.handle_input(Input::Bytes(head.as_bytes()), now);
    /// session.handle_input(Input::Bytes(&[b'x'; 16 * 1024]), now);
    /// let outputs: Vec<Output> = std::iter::from_fn(|| session.poll_output()).collect();
    /// assert!(outputs.iter().any(|o| matches!(o, Output::Transmit(t) if t.data.starts_with(b"MSRP t1 413"))));
    /// assert!(outputs.contains(&Output::Event(Event::BufferExceeded)));
    /// assert_eq!(session.buffered_bytes(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_buffer_allowance(&mut self, bytes: usize) {
        self.allowance = bytes;
    }

    /// The bytes the session may still take for its peer.
    pub(super) fn room(&self) -> usize {
        let limit =
            usize::try_from(self.config.limits.msrp.max_buffered_bytes).unwrap_or(usize::MAX);
        limit
            .min(self.allowance)
            .saturating_sub(self.buffered_bytes())
    }

    /// The peer went over the budget: the chunk is answered 413 at once
    /// (owed unless `Failure-Report: no`), what arrived of its message is
    /// dropped, and input is ignored from now on.
    pub(super) fn exceeded(&mut self) {
        let message_id = std::mem::take(&mut self.incoming.message_id);
        self.reassembler.discard(&message_id);
        self.chunk = Vec::new();
        self.failed = true;
        self.respond(413);
        self.event(Event::BufferExceeded);
    }
}

/// Makes room in `chunk` for `more` bytes, growing it by at most `room`
/// (doubling when that fits, else exactly what is needed); `false` when
/// even that does not fit.
pub(super) fn reserve_chunk(chunk: &mut Vec<u8>, more: usize, room: usize) -> bool {
    let Some(need) = chunk.len().checked_add(more) else {
        return false;
    };
    let capacity = chunk.capacity();
    if need <= capacity {
        return true;
    }
    let doubled = need.max(capacity.saturating_mul(2)).max(MIN_CHUNK);
    for target in [doubled, need] {
        if target - capacity <= room {
            chunk.reserve_exact(target - chunk.len());
            return true;
        }
    }
    false
}

/// Releases a large chunk buffer once its chunk is handled.
pub(super) fn trim_chunk(chunk: &mut Vec<u8>) {
    if chunk.capacity() > RETAIN_CHUNK {
        *chunk = Vec::new();
    }
}
