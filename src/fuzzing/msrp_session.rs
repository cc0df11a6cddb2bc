//! Fuzz entry point for the MSRP endpoint session: a byte string decoded
//! into a sequence of operations on one session.

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use crate::msrp::session::{
    CpimIdentities, Input, MsrpSession, Output, SendOptions, SessionConfig, SessionParams,
};
use crate::msrp::{parse_message, FailureReport};
use crate::sdp::AcceptTypes;

/// The session's own URI (Bob's in the examples of RFC 4975 §7.1).
pub const LOCAL_URI: &str = "msrp://bob.example.com:8888/9di4eae923wzd;tcp";
/// The peer's URI (Alice's in the same examples).
pub const REMOTE_URI: &str = "msrp://alicepc.example.com:7777/iau39soe2843z;tcp";

const CONTENT_TYPES: [&str; 4] = ["text/plain", "message/cpim", "image/png", "text/html"];

/// Reads operations from the input.
struct Ops<'a>(&'a [u8]);

impl<'a> Ops<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn len(&mut self) -> usize {
        let lo = self.byte().unwrap_or(0);
        let hi = self.byte().unwrap_or(0);
        usize::from(u16::from_le_bytes([lo, hi]))
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }
}

/// `msrp_session_events`: decodes `data` into operations and drives a
/// passive session with them:
///
/// * `0, len (u16 LE), bytes`: bytes from the connection;
/// * `1, type, flags, len (u16 LE), body`: `send_message` (flags: bit 0
///   success report, bits 1–2 Failure-Report);
/// * `2, seconds`: the clock advances, `handle_timeout`;
/// * `3`: `close`; `4`: `Input::Connected`; `5`: `Input::Closed`.
///
/// After each operation the output is drained and checked: every transmit
/// is exactly one MSRP message that parses, the queue and the pending
/// transactions stay within the limits, and no deadline at or before `now`
/// is left after `handle_timeout(now)`.
pub fn msrp_session_events(data: &[u8]) {
    let mut params = SessionParams::new(LOCAL_URI, REMOTE_URI, false);
    params.local_accept_types = AcceptTypes::from_iter(["message/cpim", "text/*"]);
    params.remote_accept_types = AcceptTypes::from_iter(["message/cpim", "text/plain"]);
    params.remote_accept_wrapped_types = Some(AcceptTypes::from_iter(["text/*"]));
    params.local_max_size = Some(64 * 1024);
    let mut config = SessionConfig {
        rng_seed: 7.into(),
        chunk_size: NonZeroUsize::new(512).unwrap_or(NonZeroUsize::MIN),
        cpim: data
            .first()
            .is_some_and(|b| b & 0x80 != 0)
            .then(|| CpimIdentities {
                from: "sip:bob@example.com".to_owned(),
                to: "sip:alice@example.com".to_owned(),
            }),
        ..SessionConfig::default()
    };
    config.limits.max_queued_bytes = 256 * 1024;
    config.limits.msrp.max_message_size = 128 * 1024;
    let limits = config.limits;
    let Ok(mut session) = MsrpSession::new(params, config) else {
        panic!("fixed parameters are valid");
    };
    let mut now = Instant::now();
    session.handle_input(Input::Connected, now);
    let mut ops = Ops(data.get(1..).unwrap_or_default());
    while let Some(op) = ops.byte() {
        match op % 6 {
            0 => {
                let n = ops.len();
                let bytes = ops.bytes(n);
                session.handle_input(Input::Bytes(bytes), now);
            }
            1 => {
                let ct = CONTENT_TYPES[usize::from(ops.byte().unwrap_or(0)) % CONTENT_TYPES.len()];
                let flags = ops.byte().unwrap_or(0);
                let n = ops.len();
                let body = ops.bytes(n);
                let options = SendOptions {
                    success_report: flags & 1 != 0,
                    failure_report: match (flags >> 1) & 3 {
                        1 => Some(FailureReport::Yes),
                        2 => Some(FailureReport::No),
                        3 => Some(FailureReport::Partial),
                        _ => None,
                    },
                    ..SendOptions::default()
                };
                let _ = session.send_message(ct, body, options, now);
            }
            2 => {
                now += Duration::from_secs(u64::from(ops.byte().unwrap_or(0)));
                session.handle_timeout(now);
                assert!(
                    session.poll_timeout().is_none_or(|t| t > now),
                    "a deadline at or before now is left"
                );
            }
            3 => session.close(),
            4 => session.handle_input(Input::Connected, now),
            _ => session.handle_input(Input::Closed, now),
        }
        assert!(session.pending_transactions() <= limits.max_pending_transactions);
        while let Some(output) = session.poll_output() {
            if let Output::Transmit(t) = output {
                if let Err(e) = parse_message(&t.data) {
                    panic!("the session wrote a message that does not parse: {e}");
                }
            }
        }
        assert!(session.queued_bytes() <= limits.max_queued_bytes);
    }
}
