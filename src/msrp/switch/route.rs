//! Which legs a message goes to. Every message goes to every other leg,
//! but a disposition notification (RFC 5438 §7: `message/imdn+xml` in
//! CPIM) goes only to the participants its CPIM `To` names: the switch is
//! the IMDN-capable intermediary of the conference, and a notification
//! about one participant's message is that participant's business.

use crate::body::cpim::CpimMessage;
use crate::body::mime::MimeLimits;

use super::{LegId, MsrpSwitch, Targets};

impl MsrpSwitch {
    /// The legs the message whose first chunk (as received from leg
    /// `from`) is `chunk` goes to: for a disposition notification, the
    /// other legs whose [identity](super::LegConfig::from_identity) its
    /// CPIM `To` names (none when it names nobody here); else every other
    /// leg.
    pub(super) fn targets(&self, from: LegId, chunk: &[u8]) -> Targets {
        let others = self.legs.iter().filter(|(t, _)| *t != from);
        match notification_recipients(chunk, &self.shared.limits.mime) {
            None => others.map(|(t, _)| t).collect(),
            Some(to) => others
                .filter(|(_, leg)| to.iter().any(|uri| **uri == *leg.lines.identity()))
                .map(|(t, _)| t)
                .collect(),
        }
    }
}

/// The CPIM `To` URIs of a first chunk that holds a disposition
/// notification whole up to its content (parsed under `limits`); `None`
/// for anything else.
fn notification_recipients(chunk: &[u8], limits: &MimeLimits) -> Option<Vec<String>> {
    let msg = CpimMessage::parse_with(chunk, limits).ok()?;
    let is_imdn = msg
        .content_type()
        .and_then(Result::ok)
        .is_some_and(|ct| ct.is("message", "imdn+xml"));
    is_imdn.then(|| msg.to.iter().map(|t| t.uri.to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::notification_recipients;
    use crate::body::mime::MimeLimits;

    #[test]
    fn only_a_notification_names_its_recipients() {
        let imdn = b"From: <sip:bob@example.com>\r\nTo: <sip:alice@example.com>\r\n\r\nContent-Type: message/imdn+xml\r\nContent-Disposition: notification\r\n\r\n<imdn/>";
        assert_eq!(
            notification_recipients(imdn, &MimeLimits::default()),
            Some(vec!["sip:alice@example.com".to_owned()])
        );
        let text = b"From: <sip:bob@example.com>\r\nTo: <sip:conf@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\nhi";
        let limits = MimeLimits::default();
        assert_eq!(notification_recipients(text, &limits), None);
        assert_eq!(
            notification_recipients(b"To: <sip:a@x>\r\nSubj", &limits),
            None
        );
    }
}
