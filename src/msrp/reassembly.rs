//! Reassembly of chunked messages (RFC 4975 §5.1, §7.3): chunks arrive in any
//! order, possibly overlapping or repeated, keyed by Message-ID and placed by
//! Byte-Range.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use super::error::Limit;
use super::fields::{ByteRange, ContinuationFlag};
use super::message::MsrpMessage;
use super::Limits;

/// Why a chunk could not be taken. The partial message it belonged to is
/// dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReassemblyError {
    /// Over a limit: [`Limit::ChunkSize`], [`Limit::MessageSize`] (the
    /// receiver answers 413) or [`Limit::PartialMessages`].
    LimitExceeded(Limit),
    /// The Byte-Range is inconsistent (start 0, or positions overflow).
    InvalidByteRange,
    /// Two chunks of one message give different totals, or the last chunk
    /// (`$`) does not end at the total.
    InconsistentTotal,
    /// The chunk reaches past the message's total.
    ChunkBeyondTotal,
    /// A SEND without Message-ID was given to [`Reassembler::push_message`].
    MissingMessageId,
}

impl fmt::Display for ReassemblyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MSRP reassembly: {self:?}")
    }
}

impl std::error::Error for ReassemblyError {}

/// A message whose bytes have all arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReassembledMessage {
    /// Its Message-ID.
    pub message_id: String,
    /// The whole body.
    pub data: Vec<u8>,
}

/// What a chunk did to its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// More bytes are missing.
    Incomplete,
    /// The message is complete.
    Complete(ReassembledMessage),
    /// The sender aborted the message (`#`); what had arrived is discarded.
    Aborted {
        /// Its Message-ID.
        message_id: String,
    },
}

/// Received byte ranges, half-open `[start, end)`, disjoint and not adjacent;
/// insertion is logarithmic plus the ranges it swallows.
#[derive(Debug, Clone, Default)]
struct RangeSet(BTreeMap<u64, u64>);

impl RangeSet {
    fn insert(&mut self, mut start: u64, mut end: u64) {
        if start >= end {
            return;
        }
        // In-order arrival: the chunk extends the last range.
        if let Some(mut last) = self.0.last_entry() {
            if *last.key() <= start && start <= *last.get() {
                let e = last.get_mut();
                *e = (*e).max(end);
                return;
            }
        }
        if let Some((&s, &e)) = self.0.range(..=start).next_back() {
            if e >= start {
                start = s;
                end = end.max(e);
                self.0.remove(&s);
            }
        }
        while let Some((&s, &e)) = self.0.range(start..=end).next() {
            end = end.max(e);
            self.0.remove(&s);
        }
        self.0.insert(start, end);
    }

    fn max_end(&self) -> u64 {
        self.0.last_key_value().map_or(0, |(_, &e)| e)
    }

    fn covers(&self, len: u64) -> bool {
        len == 0
            || self
                .0
                .first_key_value()
                .is_some_and(|(&s, &e)| s == 0 && e >= len)
    }
}

#[derive(Debug, Clone, Default)]
struct Partial {
    data: Vec<u8>,
    received: RangeSet,
    /// The Byte-Range total, once a chunk gave it.
    total: Option<u64>,
    /// The end of the chunk flagged `$`, once it arrived.
    last_end: Option<u64>,
}

impl Partial {
    fn size(&self) -> Option<u64> {
        self.total.or(self.last_end)
    }
}

/// Reassembles chunked SENDs into whole messages, within [`Limits`]: at most
/// `max_partial_messages` messages at once, each at most `max_message_size`
/// bytes, chunks at most `max_chunk_size` bytes. Memory is allocated as
/// bytes arrive (up to a claimed total only once it is within the limit).
///
/// A chunk is placed at its Byte-Range start; its length is the length of
/// its data (an `end` that disagrees is ignored). Later bytes overwrite
/// earlier ones where chunks overlap.
///
/// ```
/// use std::num::NonZeroUsize;
/// use oma_im::msrp::{chunks, Limits, Progress, Reassembler};
///
/// let body = b"a message sent in several chunks";
/// let mut parts: Vec<_> = chunks(body, NonZeroUsize::new(5).unwrap()).collect();
/// parts.reverse(); // arrival order does not matter
/// let mut r = Reassembler::new(Limits::default());
/// let mut done = None;
/// for c in &parts {
///     if let Progress::Complete(m) = r.push("msg-1", c.byte_range, c.data, c.flag)? {
///         done = Some(m);
///     }
/// }
/// assert_eq!(done.unwrap().data, body);
/// # Ok::<(), oma_im::msrp::ReassemblyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Reassembler {
    limits: Limits,
    partial: HashMap<Box<str>, Partial>,
}

impl Reassembler {
    /// An empty reassembler.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            partial: HashMap::new(),
        }
    }

    /// How many messages are partially received.
    pub fn partial_count(&self) -> usize {
        self.partial.len()
    }

    /// Drops a partial message (for example when its session ends).
    pub fn discard(&mut self, message_id: &str) -> bool {
        self.partial.remove(message_id).is_some()
    }

    /// Takes the chunk of a received SEND: its Message-ID, Byte-Range
    /// (`1-*/*` when absent), body and flag.
    pub fn push_message(&mut self, msg: &MsrpMessage<'_>) -> Result<Progress, ReassemblyError> {
        let id = msg
            .head
            .message_id
            .ok_or(ReassemblyError::MissingMessageId)?;
        let range = msg.head.byte_range.unwrap_or(ByteRange {
            start: 1,
            end: None,
            total: None,
        });
        self.push(id, range, msg.body.unwrap_or_default(), msg.flag)
    }

    /// Takes one chunk of message `message_id`.
    pub fn push(
        &mut self,
        message_id: &str,
        range: ByteRange,
        data: &[u8],
        flag: ContinuationFlag,
    ) -> Result<Progress, ReassemblyError> {
        if flag == ContinuationFlag::Aborted {
            self.partial.remove(message_id);
            return Ok(Progress::Aborted {
                message_id: message_id.to_owned(),
            });
        }
        let result = self.place(message_id, range, data, flag);
        if result.is_err() {
            self.partial.remove(message_id);
        }
        result
    }

    fn place(
        &mut self,
        message_id: &str,
        range: ByteRange,
        data: &[u8],
        flag: ContinuationFlag,
    ) -> Result<Progress, ReassemblyError> {
        use ReassemblyError as E;
        if data.len() > self.limits.max_chunk_size {
            return Err(E::LimitExceeded(Limit::ChunkSize));
        }
        let offset = range.start.checked_sub(1).ok_or(E::InvalidByteRange)?;
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or(E::InvalidByteRange)?;
        let max = self.limits.max_message_size;
        if end > max || range.total.is_some_and(|t| t > max) {
            return Err(E::LimitExceeded(Limit::MessageSize));
        }
        let complete_here = flag == ContinuationFlag::Complete;
        if offset == 0
            && complete_here
            && range.total.is_none_or(|t| t == end)
            && !self.partial.contains_key(message_id)
        {
            return Ok(Progress::Complete(ReassembledMessage {
                message_id: message_id.to_owned(),
                data: data.to_vec(),
            }));
        }
        if !self.partial.contains_key(message_id)
            && self.partial.len() >= self.limits.max_partial_messages
        {
            return Err(E::LimitExceeded(Limit::PartialMessages));
        }
        if !self.partial.contains_key(message_id) {
            self.partial.insert(message_id.into(), Partial::default());
        }
        let Some(p) = self.partial.get_mut(message_id) else {
            return Ok(Progress::Incomplete);
        };
        if let Some(t) = range.total {
            if p.total.is_some_and(|old| old != t) {
                return Err(E::InconsistentTotal);
            }
            if p.total.is_none() {
                p.total = Some(t);
                // The claimed total is within the limit: reserve it once.
                let want = usize::try_from(t).unwrap_or(usize::MAX);
                p.data.reserve(want.saturating_sub(p.data.len()));
            }
        }
        if complete_here {
            if p.last_end.is_some_and(|old| old != end) {
                return Err(E::InconsistentTotal);
            }
            p.last_end = Some(end);
        }
        if let (Some(t), Some(l)) = (p.total, p.last_end) {
            if t != l {
                return Err(E::InconsistentTotal);
            }
        }
        if let Some(size) = p.size() {
            if end > size || p.received.max_end() > size {
                return Err(E::ChunkBeyondTotal);
            }
        }
        let too_big = E::LimitExceeded(Limit::MessageSize);
        let from = usize::try_from(offset).map_err(|_| too_big)?;
        let to = usize::try_from(end).map_err(|_| too_big)?;
        if p.data.len() < to {
            p.data.resize(to, 0);
        }
        p.data[from..to].copy_from_slice(data);
        p.received.insert(offset, end);
        match p.size() {
            Some(size) if p.received.covers(size) => {
                let mut p = self.partial.remove(message_id).unwrap_or_default();
                p.data.truncate(usize::try_from(size).unwrap_or(usize::MAX));
                Ok(Progress::Complete(ReassembledMessage {
                    message_id: message_id.to_owned(),
                    data: p.data,
                }))
            }
            _ => Ok(Progress::Incomplete),
        }
    }
}
