//! Identifiers an attacker cannot predict: the IM Server's IM Session
//! Identities and MSRP session-ids come from the ChaCha20 generator keyed
//! by the application's 256-bit seed, not from a generator whose state
//! leaks through its outputs; the examples seed from the OS.

use oma_im::rng::Seed;

use crate::support::im_server::scenario::{config, Scenario};

const BOB: &str = "sip:bob@example.com";

/// The user part of an IM Session Identity and the session-id of the
/// server's MSRP URI in its 200 to the inviter.
fn identifiers(seed: Seed) -> (String, String) {
    let mut cfg = config();
    cfg.seed = seed;
    let mut sc = Scenario::new(cfg, &[("alice", &[]), ("bob", &[200])]);
    sc.adhoc("alice", &[BOB]);
    sc.run(10);
    let (_, identity) = sc.session();
    let token = identity
        .trim_start_matches("sip:")
        .split('@')
        .next()
        .unwrap()
        .to_owned();
    let ok = sc
        .responses_to("alice")
        .into_iter()
        .find(|r| r.starts_with(b"SIP/2.0 200 "))
        .unwrap();
    let body = crate::support::im_server::scenario::body(&ok);
    let path = body
        .lines()
        .find_map(|l| l.strip_prefix("a=path:"))
        .unwrap()
        .trim()
        .to_owned();
    let session_id = path
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(";tcp")
        .to_owned();
    (token, session_id)
}

/// What SplitMix64 (the generator before issue #13) seeded as the IM Server
/// seeded it would have named the first session: what an attacker who knew
/// the old code and the example's seed 0 could compute.
fn old_prediction(seed: u64) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut state = seed ^ 0x5eed_1a5e;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    (0..16)
        .map(|_| {
            let bound = ALPHABET.len() as u64;
            let threshold = bound.wrapping_neg() % bound;
            loop {
                let product = u128::from(next()) * u128::from(bound);
                if (product as u64) >= threshold {
                    return char::from(ALPHABET[(product >> 64) as usize]);
                }
            }
        })
        .collect()
}

#[test]
fn identities_and_msrp_session_ids_are_long_and_follow_the_seed() {
    let (token, session_id) = identifiers(Seed::new([1; 32]));
    // RFC 4975 §14.1: at least 80 bits; 62 symbols carry 5.95 bits each.
    assert!(
        token.len() >= 16 && session_id.len() >= 20,
        "{token} {session_id}"
    );
    assert!(token
        .bytes()
        .chain(session_id.bytes())
        .all(|b| b.is_ascii_alphanumeric()));
    // Reproducible from the seed (tests), different under another seed.
    assert_eq!(
        identifiers(Seed::new([1; 32])),
        (token.clone(), session_id.clone())
    );
    let mut other = [1; 32];
    other[31] ^= 1;
    let (token2, session_id2) = identifiers(Seed::new(other));
    assert_ne!(token, token2);
    assert_ne!(session_id, session_id2);
}

#[test]
fn the_old_generators_prediction_misses() {
    let (token, _) = identifiers(Seed::from_u64(0));
    assert_ne!(token, old_prediction(0));
}

#[test]
fn the_demo_seeds_from_the_operating_system() {
    let identity = |r: crate::demo::Report| {
        r.server_events
            .iter()
            .find_map(|e| match e {
                oma_im::im::server::Event::SessionCreated { identity, .. } => {
                    Some(identity.clone())
                }
                _ => None,
            })
            .expect("a session")
    };
    let a = identity(crate::demo::run_scenario(false).expect("the demo ran"));
    let b = identity(crate::demo::run_scenario(false).expect("the demo ran"));
    assert_ne!(a, b, "two runs, two unpredictable IM Session Identities");
}
