//! The fast path for a leg's `200 OK`: recognised from its first line,
//! transaction id and paths compared as bytes with the leg's own (no URI
//! parse, no stream parser), when it is written exactly as a participant
//! answers the switch's SENDs. Anything else goes through the parser, with
//! the same outcome.

use super::{Leg, LegId, MsrpSwitch, TransactId, ID_LEN};

impl MsrpSwitch {
    /// Handles the `200 OK`s at the front of `data` that leg `id` sends as
    /// the switch's own writer would (see [`quick_ok`]) while its parser
    /// stands between messages: each is matched to its transaction by its
    /// transact-id alone, without going through the parser. Gives the
    /// bytes left for the parser.
    pub(super) fn quick_responses<'d>(&mut self, id: LegId, mut data: &'d [u8]) -> &'d [u8] {
        while !data.is_empty() {
            let Some(leg) = self.legs.get_mut(&id) else {
                break;
            };
            if !leg.parser.is_idle() {
                break;
            }
            let Some((tid, len)) = quick_ok(leg, data) else {
                break;
            };
            leg.parser.skip(len);
            data = data.get(len..).unwrap_or_default();
            if let Some(p) = leg.pending.remove(&tid) {
                self.answered(id, p, 200);
            }
        }
        data
    }
}

/// A `200 OK` at the front of `data`, written exactly as a participant
/// answers a SEND of the switch on `leg` (RFC 4975 §7.2): a transact-id of
/// the switch's length (matched to a pending transaction of the leg by the
/// caller, and ignored without one, as the parser's path would), `To-Path`
/// the leg's local URI, `From-Path` the participant's URI (a one-URI path),
/// nothing else. The
/// stream parser accepts every such response and finds in it nothing but
/// a 200 to that transaction; anything else (another code, another
/// header, a longer path, bytes still to come) is left to the parser.
/// Gives the transact-id and the response's length.
fn quick_ok(leg: &Leg, data: &[u8]) -> Option<(TransactId, usize)> {
    if !leg.one_uri_remote {
        return None;
    }
    let local = leg.lines.local_line().strip_prefix(b"From-Path: ")?;
    let remote = leg.lines.remote_line().strip_prefix(b"To-Path: ")?;
    // `MSRP tid 200 OK CRLF To-Path: local From-Path: remote -------tid$ CRLF`
    // (`local` and `remote` end in CRLF): where each part starts.
    const START: &[u8] = b"MSRP ";
    const OK: &[u8] = b" 200 OK\r\nTo-Path: ";
    const FROM: &[u8] = b"From-Path: ";
    const END: &[u8] = b"-------";
    let ok_at = START.len() + ID_LEN;
    let local_at = ok_at + OK.len();
    let from_at = local_at + local.len();
    let remote_at = from_at + FROM.len();
    let end_at = remote_at + remote.len();
    let end_tid_at = end_at + END.len();
    let len = end_tid_at + ID_LEN + 3;
    let data = data.get(..len)?;
    let tid: TransactId = data.get(START.len()..ok_at)?.try_into().ok()?;
    let whole = data.starts_with(START)
        && data.get(ok_at..local_at) == Some(OK)
        && data.get(local_at..from_at) == Some(local)
        && data.get(from_at..remote_at) == Some(FROM)
        && data.get(remote_at..end_at) == Some(remote)
        && data.get(end_at..end_tid_at) == Some(END)
        && data.get(end_tid_at..end_tid_at + ID_LEN) == Some(&tid[..])
        && data.get(len - 3..) == Some(b"$\r\n");
    whole.then_some((tid, len))
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::quick_ok;
    use crate::msrp::switch::{LegConfig, LegId, MsrpSwitch, SwitchConfig};

    const LOCAL: &str = "msrp://switch.example.com:2855/leg1;tcp";
    const REMOTE: &str = "msrp://ue1.example.com:7777/p1;tcp";

    fn leg_with_path(remote_path: &[&str]) -> MsrpSwitch {
        let mut switch = MsrpSwitch::new(SwitchConfig::default());
        let mut config = LegConfig::new(LOCAL, REMOTE, "sip:user1@example.com");
        config.remote_path = remote_path.iter().map(|u| (*u).to_owned()).collect();
        switch.join(LegId(1), config, Instant::now()).expect("join");
        switch
    }

    fn ok(tid: &str, to: &str, from: &str) -> Vec<u8> {
        format!("MSRP {tid} 200 OK\r\nTo-Path: {to}\r\nFrom-Path: {from}\r\n-------{tid}$\r\n")
            .into_bytes()
    }

    #[test]
    fn a_200_as_the_switch_writes_it_takes_the_fast_path_with_its_length() {
        let switch = leg_with_path(&[REMOTE]);
        let leg = switch.legs.get(&LegId(1)).expect("leg");
        let tid = "0123456789abcdef";
        let mut bytes = ok(tid, LOCAL, REMOTE);
        let len = bytes.len();
        bytes.extend_from_slice(b"MSRP next");
        assert_eq!(quick_ok(leg, &bytes), Some((*b"0123456789abcdef", len)));
    }

    fn edit(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
        let text = String::from_utf8(bytes.to_vec()).expect("text");
        assert!(text.contains(from));
        text.replace(from, to).into_bytes()
    }

    #[test]
    fn anything_else_is_left_to_the_parser() {
        let switch = leg_with_path(&[REMOTE]);
        let leg = switch.legs.get(&LegId(1)).expect("leg");
        let tid = "0123456789abcdef";
        let whole = ok(tid, LOCAL, REMOTE);
        let other = [
            // Paths swapped, another leg's, a longer path.
            ok(tid, REMOTE, LOCAL),
            ok(tid, LOCAL, "msrp://ue2.example.com:7777/p2;tcp"),
            ok(tid, LOCAL, &format!("{REMOTE} {REMOTE}")),
            // Another code, a transact-id of another length, an end-line
            // with another id or flag.
            edit(&whole, " 200 OK", " 481 OK"),
            ok("0123456789abcde", LOCAL, REMOTE),
            edit(
                &whole,
                "-------0123456789abcdef$",
                "-------0123456789abcdeX$",
            ),
            edit(&whole, "f$\r\n", "f+\r\n"),
            // Not all there yet.
            whole[..whole.len() - 1].to_vec(),
        ];
        for bytes in &other {
            assert_eq!(
                quick_ok(leg, bytes),
                None,
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
        // A leg whose remote path has two URIs never takes it.
        let switch = leg_with_path(&["msrp://relay.example.com:1/r;tcp", REMOTE]);
        let leg = switch.legs.get(&LegId(1)).expect("leg");
        assert_eq!(quick_ok(leg, &whole), None);
    }
}
