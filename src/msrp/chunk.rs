//! Splitting a message into SEND chunks (RFC 4975 §5.1).

use std::num::NonZeroUsize;

use super::fields::{ByteRange, ContinuationFlag};
use super::message::{MsrpHead, MsrpMessage};

/// One chunk of a message: its Byte-Range, its bytes and its flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// `start-end/total` of this chunk in the whole message.
    pub byte_range: ByteRange,
    /// The chunk's bytes.
    pub data: &'a [u8],
    /// `+` on all chunks but the last, `$` on the last.
    pub flag: ContinuationFlag,
}

impl<'a> Chunk<'a> {
    /// The SEND carrying this chunk: `head` (paths, Message-ID, reports,
    /// Content-Type, ...) with this chunk's Byte-Range and the caller's
    /// transact-id, which must not occur in the chunk
    /// (see [`end_line_in_body`](super::end_line_in_body)).
    pub fn message<'h>(&self, head: &MsrpHead<'h>, transact_id: &'h str) -> MsrpMessage<'h>
    where
        'a: 'h,
    {
        let mut head = head.clone();
        head.transact_id = transact_id;
        head.byte_range = Some(self.byte_range);
        MsrpMessage {
            head,
            body: Some(self.data),
            flag: self.flag,
        }
    }
}

/// Iterator over the chunks of a message; see [`chunks`].
#[derive(Debug, Clone)]
pub struct Chunks<'a> {
    body: &'a [u8],
    max: NonZeroUsize,
    next: usize,
    done: bool,
}

/// Splits `body` into chunks of at most `max_chunk_size` bytes, in order,
/// with Byte-Ranges `1-N/T`, `N+1-.../T`, ... and flags `+` ... `$`. An
/// empty body gives one empty chunk `1-0/0`.
///
/// ```
/// use std::num::NonZeroUsize;
/// use oma_im::msrp::{chunks, ContinuationFlag};
///
/// let parts: Vec<_> = chunks(b"hello world", NonZeroUsize::new(4).unwrap()).collect();
/// assert_eq!(parts.len(), 3);
/// assert_eq!(parts[1].byte_range.to_string(), "5-8/11");
/// assert_eq!(parts[1].data, b"o wo");
/// assert_eq!(parts[1].flag, ContinuationFlag::Continuation);
/// assert_eq!(parts[2].flag, ContinuationFlag::Complete);
/// ```
pub fn chunks(body: &[u8], max_chunk_size: NonZeroUsize) -> Chunks<'_> {
    Chunks {
        body,
        max: max_chunk_size,
        next: 0,
        done: false,
    }
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Chunk<'a>;

    fn next(&mut self) -> Option<Chunk<'a>> {
        if self.done {
            return None;
        }
        let start = self.next;
        let rest = self.body.get(start..)?;
        let len = rest.len().min(self.max.get());
        let end = start + len;
        self.next = end;
        let last = end == self.body.len();
        self.done = last;
        let total = self.body.len() as u64;
        Some(Chunk {
            byte_range: ByteRange {
                start: start as u64 + 1,
                end: Some(end as u64),
                total: Some(total),
            },
            data: &rest[..len],
            flag: if last {
                ContinuationFlag::Complete
            } else {
                ContinuationFlag::Continuation
            },
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = if self.done {
            0
        } else {
            (self.body.len() - self.next.min(self.body.len()))
                .div_ceil(self.max.get())
                .max(1)
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for Chunks<'_> {}
