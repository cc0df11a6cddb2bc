//! The transact-ids of a relayed chunk's copies: one random draw per chunk,
//! and each leg's id that draw followed by the leg's place among the
//! chunk's targets.
//!
//! Why this is as hard to abuse as one draw per leg. RFC 4975 §7.1 asks for
//! transact-ids that are unique and hard to guess, so that only the peer
//! that received a request can answer it. The switch matches a response
//! only against the transactions pending on the leg (the connection) it
//! arrived on. A participant on leg A sees its own id, `base + suffix(A)`,
//! and so knows every other leg's id for that chunk; but answering
//! `base + suffix(B)` on leg A settles nothing: leg A's pending
//! transactions are `base + suffix(A)` for this chunk and ids of other,
//! independently drawn bases for the others, and leg B's are reached over
//! leg B's connection only. Every chunk's base is a fresh draw of
//! [`BASE_LEN`] token characters (62^14 > 2^83), so the ids of the next
//! chunks are as hard to guess as ever.
//!
//! The end-line rule (§7.1.1: the body must not hold the id's end-line) is
//! checked for each leg's id; one that would end the body early is replaced
//! by a fresh draw of a whole id.

use super::TransactId;
use crate::msrp::session::wire::{fresh_transact_id_in, EndLineStarts, ID_LEN};
use crate::rng::Rng;

/// The leg's place among the chunk's targets, in token characters (62^2
/// places, more than `SwitchLimits::max_legs` allows by default).
const SUFFIX_LEN: usize = 2;

/// The random characters drawn once per chunk.
pub(super) const BASE_LEN: usize = ID_LEN - SUFFIX_LEN;

/// The random part shared by the transact-ids of one chunk's copies.
#[derive(Debug, Clone, Copy)]
pub(super) struct ChunkIds {
    base: [u8; BASE_LEN],
}

impl ChunkIds {
    /// A fresh draw, for the next chunk.
    pub(super) fn draw(rng: &mut Rng) -> Self {
        let mut base = [0; BASE_LEN];
        rng.fill_token_bytes(&mut base);
        ChunkIds { base }
    }

    /// Puts into `out` the transact-id of the copy to the target at `place`
    /// of a chunk whose body is `body` (end-line candidates `starts`): the
    /// base and the place, or a fresh whole id when that one would end the
    /// body early or the place does not fit. `false` when no id was found.
    pub(super) fn leg_id(
        &self,
        place: usize,
        rng: &mut Rng,
        body: &[u8],
        starts: &EndLineStarts,
        out: &mut TransactId,
    ) -> bool {
        let (base, suffix) = out.split_at_mut(BASE_LEN);
        base.copy_from_slice(&self.base);
        if Rng::token_digits(place, suffix) && !starts.ends_body(body, out) {
            return true;
        }
        fresh_transact_id_in(rng, body, starts, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_places_of_one_chunk_get_distinct_ids_of_one_base() {
        let mut rng = Rng::new(3);
        let ids = ChunkIds::draw(&mut rng);
        let mut seen = std::collections::HashSet::new();
        for place in 0..300 {
            let mut out = [0; ID_LEN];
            assert!(ids.leg_id(place, &mut rng, b"", &EndLineStarts::default(), &mut out));
            assert_eq!(out[..BASE_LEN], ids.base);
            assert!(seen.insert(out));
        }
        assert_ne!(
            ChunkIds::draw(&mut rng).base,
            ids.base,
            "a fresh base per chunk"
        );
    }

    #[test]
    fn an_id_whose_end_line_is_in_the_body_is_drawn_afresh() {
        let mut rng = Rng::new(3);
        let ids = ChunkIds::draw(&mut rng);
        let mut own = [0; ID_LEN];
        assert!(ids.leg_id(
            1,
            &mut rng.clone(),
            b"",
            &EndLineStarts::default(),
            &mut own
        ));
        let mut body = b"text\r\n-------".to_vec();
        body.extend_from_slice(&own);
        body.extend_from_slice(b"$\r\nmore");
        let starts = EndLineStarts::scan(&body);
        let mut out = [0; ID_LEN];
        assert!(ids.leg_id(1, &mut rng, &body, &starts, &mut out));
        assert_ne!(out, own);
        assert!(!starts.ends_body(&body, &out));
    }
}
