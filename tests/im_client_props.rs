//! Properties of the IM Client: arbitrary event sequences (the
//! `im_client_events` fuzz entry point) never panic, never leave a deadline
//! behind, and every SIP message handed out parses with its IM feature tag.

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_event_sequences_hold_the_invariants(data in proptest::collection::vec(any::<u8>(), 0..1500)) {
        oma_im::fuzzing::run("im_client_events", &data);
    }

    #[test]
    fn command_heavy_sequences_hold_the_invariants(ops in proptest::collection::vec((0u8..8, any::<u8>(), any::<u8>(), any::<u8>()), 0..300)) {
        // Bias towards commands (op 7) and deliveries (op 0/4) so flows get far.
        let mut data = Vec::new();
        for (op, a, b, c) in ops {
            let kind = match op { 0..=2 => 0x00, 3 => 0x04, 4 | 5 => 0x07, 6 => 0x06, _ => 0x05 };
            data.extend_from_slice(&[kind | (a & 0x80), b % 12, c, a]);
        }
        oma_im::fuzzing::run("im_client_events", &data);
    }
}
