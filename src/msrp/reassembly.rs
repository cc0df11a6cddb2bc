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

/// What one stored run of bytes costs beyond its bytes, charged against
/// [`Limits::max_buffered_bytes`]: a million one-byte chunks scattered
/// through a message cost what they hold, not what they claim.
pub const SEGMENT_OVERHEAD: u64 = 64;

/// The bytes of a message received so far: disjoint, non-adjacent runs keyed
/// by their offset. Memory is proportional to the bytes that arrived, never
/// to the positions a chunk claims.
#[derive(Debug, Clone, Default)]
struct Segments {
    runs: BTreeMap<u64, Vec<u8>>,
    /// The bytes of all runs.
    bytes: u64,
}

impl Segments {
    /// Places `data` at `offset`; later bytes overwrite earlier ones where
    /// they overlap, and touching runs merge. Logarithmic plus the bytes of
    /// the runs it swallows.
    fn insert(&mut self, offset: u64, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let end = offset + data.len() as u64;
        // In-order arrival: the chunk extends the last run.
        if let Some(mut last) = self.runs.last_entry() {
            let start = *last.key();
            let run = last.get_mut();
            if start <= offset && offset <= start + run.len() as u64 {
                let before = run.len() as u64;
                overwrite(run, (offset - start) as usize, data);
                self.bytes += run.len() as u64 - before;
                return;
            }
        }
        // The run that starts at or before `offset` and reaches it, if any,
        // takes the data; otherwise a new run starts.
        let (start, mut run) = match self.runs.range(..=offset).next_back() {
            Some((&s, r)) if s + r.len() as u64 >= offset => {
                let run = self.runs.remove(&s).unwrap_or_default();
                self.bytes -= run.len() as u64;
                (s, run)
            }
            _ => (offset, Vec::with_capacity(data.len())),
        };
        overwrite(&mut run, (offset - start) as usize, data);
        // Runs that start inside or right after the new bytes are absorbed:
        // their bytes past `end` are kept.
        while let Some((&s, _)) = self.runs.range(start..=end).next() {
            let absorbed = self.runs.remove(&s).unwrap_or_default();
            self.bytes -= absorbed.len() as u64;
            let absorbed_end = s + absorbed.len() as u64;
            let run_end = start + run.len() as u64;
            if absorbed_end > run_end {
                let skip = (run_end - s) as usize;
                run.extend_from_slice(&absorbed[skip..]);
            }
        }
        self.bytes += run.len() as u64;
        self.runs.insert(start, run);
    }

    fn max_end(&self) -> u64 {
        self.runs
            .last_key_value()
            .map_or(0, |(&s, r)| s + r.len() as u64)
    }

    fn covers(&self, len: u64) -> bool {
        len == 0
            || self
                .runs
                .first_key_value()
                .is_some_and(|(&s, r)| s == 0 && r.len() as u64 >= len)
    }

    /// The bytes held plus [`SEGMENT_OVERHEAD`] per run, in constant time.
    fn cost(&self) -> u64 {
        self.bytes + SEGMENT_OVERHEAD * self.runs.len() as u64
    }

    fn take_first(&mut self) -> Vec<u8> {
        let run = self.runs.pop_first().map(|(_, r)| r).unwrap_or_default();
        self.bytes -= run.len() as u64;
        run
    }
}

/// Writes `data` into `run` at `at` (at most `run.len()`), growing it.
fn overwrite(run: &mut Vec<u8>, at: usize, data: &[u8]) {
    let overlap = (run.len() - at).min(data.len());
    run[at..at + overlap].copy_from_slice(&data[..overlap]);
    run.extend_from_slice(&data[overlap..]);
}

#[derive(Debug, Clone, Default)]
struct Partial {
    received: Segments,
    /// What `received` costs against the budget.
    cost: u64,
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
/// bytes, chunks at most `max_chunk_size` bytes, and at most
/// `max_buffered_bytes` held over all partial messages (each run of bytes
/// charged its length plus [`SEGMENT_OVERHEAD`]). Memory grows with the
/// bytes that arrived, never with the positions or totals chunks claim.
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
    /// The cost of every partial message, against `max_buffered_bytes`.
    buffered: u64,
}

impl Reassembler {
    /// An empty reassembler.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            partial: HashMap::new(),
            buffered: 0,
        }
    }

    /// The bytes held for partial messages, with [`SEGMENT_OVERHEAD`] per
    /// run: what [`Limits::max_buffered_bytes`] bounds.
    pub fn buffered_bytes(&self) -> u64 {
        self.buffered
    }

    fn remove_partial(&mut self, message_id: &str) -> Option<Partial> {
        let p = self.partial.remove(message_id)?;
        self.buffered -= p.cost;
        Some(p)
    }

    /// How many messages are partially received.
    pub fn partial_count(&self) -> usize {
        self.partial.len()
    }

    /// Drops a partial message (for example when its session ends).
    pub fn discard(&mut self, message_id: &str) -> bool {
        self.remove_partial(message_id).is_some()
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
            self.remove_partial(message_id);
            return Ok(Progress::Aborted {
                message_id: message_id.to_owned(),
            });
        }
        let result = self.place(message_id, range, data, flag);
        if result.is_err() {
            self.remove_partial(message_id);
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
            p.total = Some(t);
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
        // The budget: what this chunk can add at most (its bytes and a new
        // run) must fit before anything is stored.
        let worst = data.len() as u64 + SEGMENT_OVERHEAD;
        if self.buffered + worst > self.limits.max_buffered_bytes {
            return Err(E::LimitExceeded(Limit::BufferedBytes));
        }
        p.received.insert(offset, data);
        let cost = p.received.cost();
        self.buffered = self.buffered - p.cost + cost;
        p.cost = cost;
        match p.size() {
            Some(size) if p.received.covers(size) => {
                let mut p = self.remove_partial(message_id).unwrap_or_default();
                let mut data = p.received.take_first();
                data.truncate(usize::try_from(size).unwrap_or(usize::MAX));
                Ok(Progress::Complete(ReassembledMessage {
                    message_id: message_id.to_owned(),
                    data,
                }))
            }
            _ => Ok(Progress::Incomplete),
        }
    }
}
