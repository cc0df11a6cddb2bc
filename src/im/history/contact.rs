//! The Contact of the History Function's messages.
//!
//! The SIP [`UserAgent`](crate::dialog::UserAgent) writes one Contact,
//! `<sip:local-addr>`, into every dialog-creating request and response. The
//! History Function needs more in it: the IM feature tag, and in the
//! responses of a retrieval session the IM Session Identity (13.2.1.1 step
//! 4). The dialog layer has no per-message Contact, so this module rewrites
//! that one header line of each outgoing message (retransmissions
//! included) on its way out.

use std::fmt::Write;

use crate::dialog::Config;
use crate::im::IM_FEATURE_TAG;

/// The Contact line as the user agent writes it, with its CRLFs around.
pub(super) fn plain_line(config: &Config) -> Vec<u8> {
    let mut line = String::from("\r\nContact: <sip:");
    if let Some(user) = &config.contact_user {
        line.push_str(user);
        line.push('@');
    }
    let _ = write!(line, "{}", config.local_addr);
    if config.transport.is_reliable() {
        line.push_str(";transport=tcp");
    }
    line.push_str(">\r\n");
    line.into_bytes()
}

/// Replaces the Contact line `plain` of the header section of `bytes` by
/// `Contact: <uri>;+g.oma.sip-im`; `uri` `None` keeps the address.
pub(super) fn rewrite(bytes: &mut Vec<u8>, plain: &[u8], uri: Option<&str>) {
    let head_end = memchr::memmem::find(bytes, b"\r\n\r\n").map_or(bytes.len(), |e| e + 2);
    let Some(head) = bytes.get(..head_end) else {
        return;
    };
    let Some(at) = memchr::memmem::find(head, plain) else {
        return;
    };
    let mut line = Vec::with_capacity(plain.len() + 32);
    match uri {
        Some(uri) => {
            line.extend_from_slice(b"\r\nContact: <");
            line.extend_from_slice(uri.as_bytes());
            line.push(b'>');
        }
        None => line.extend_from_slice(plain.get(..plain.len().saturating_sub(2)).unwrap_or(plain)),
    }
    line.push(b';');
    line.extend_from_slice(IM_FEATURE_TAG.as_bytes());
    line.extend_from_slice(b"\r\n");
    bytes.splice(at..at + plain.len(), line);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::Transport;

    #[test]
    fn contact_rewritten_in_head_only() {
        let config = Config::new(
            "192.0.2.5:5060".parse().unwrap(),
            "192.0.2.9:5060".parse().unwrap(),
            Transport::Udp,
            1,
        );
        let plain = plain_line(&config);
        let mut msg =
            b"SIP/2.0 200 OK\r\nContact: <sip:192.0.2.5:5060>\r\nContent-Length: 0\r\n\r\n"
                .to_vec();
        rewrite(&mut msg, &plain, Some("sip:h-1@192.0.2.5:5060"));
        let has = |m: &[u8], n: &[u8]| memchr::memmem::find(m, n).is_some();
        assert!(has(
            &msg,
            b"\r\nContact: <sip:h-1@192.0.2.5:5060>;+g.oma.sip-im\r\n"
        ));
        let mut req = b"INVITE sip:x SIP/2.0\r\nContact: <sip:192.0.2.5:5060>\r\n\r\n".to_vec();
        rewrite(&mut req, &plain, None);
        assert!(has(
            &req,
            b"\r\nContact: <sip:192.0.2.5:5060>;+g.oma.sip-im\r\n"
        ));
        let mut body_only =
            b"SIP/2.0 200 OK\r\nX: y\r\n\r\nContact: <sip:192.0.2.5:5060>\r\n".to_vec();
        let before = body_only.clone();
        rewrite(&mut body_only, &plain, None);
        assert_eq!(body_only, before);
    }
}
