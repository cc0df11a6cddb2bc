//! The header fields the server adds (7.2.1.1, 7.2.2.2) and the Contact
//! rewrite that makes every Contact it sends carry the IM Session Identity.

use std::io::Write;

use crate::dialog;
use crate::sip::{parse_message_with, Limits, Uri};

/// The IM feature tag (RFC 3840 / RFC 3841).
pub const IM_FEATURE_TAG: &str = "+g.oma.sip-im";

/// The feature parameter marking a conference focus (RFC 4579).
pub const ISFOCUS: &str = "isfocus";

/// The release-version token of an IM Server (Appendix F).
pub const SERVER_RELEASE_TOKEN: &str = "IM-serv/OMA1.0";

/// The Warning text of a 486 for too many invitees (7.2.1.2 step 5).
pub const TOO_MANY_PARTICIPANTS: &str = "too many participants";

/// The `Server` value (Appendix F): the release token, then the product
/// tokens if any.
///
/// ```
/// use oma_im::im::server::release_version;
/// assert_eq!(release_version("Dummy/v1.01"), "IM-serv/OMA1.0 Dummy/v1.01");
/// assert_eq!(release_version(""), "IM-serv/OMA1.0");
/// ```
pub fn release_version(product: &str) -> String {
    let product = product.trim();
    if product.is_empty() {
        SERVER_RELEASE_TOKEN.to_owned()
    } else {
        format!("{SERVER_RELEASE_TOKEN} {product}")
    }
}

/// The Contact the user agent writes (`<sip:local-addr[;transport=tcp]>`),
/// which the server replaces with the IM Session Identity.
pub(crate) fn ua_contact(config: &dialog::Config) -> Vec<u8> {
    let mut c = b"\r\nContact: <sip:".to_vec();
    let _ = write!(c, "{}", config.local_addr);
    if config.transport.is_reliable() {
        c.extend_from_slice(b";transport=tcp");
    }
    c.extend_from_slice(b">\r\n");
    c
}

/// The Contact value of the focus: `<identity>;isfocus;+g.oma.sip-im`
/// (7.2.1.1 step 5).
pub(crate) fn focus_contact(identity: &str) -> String {
    format!("<{identity}>;{ISFOCUS};{IM_FEATURE_TAG}")
}

/// The Call-ID of an outgoing message whose head holds `needle` (the user
/// agent's own Contact line), if any.
pub(crate) fn call_id_if_contact(bytes: &[u8], needle: &[u8], limits: &Limits) -> Option<String> {
    let head_end = memchr::memmem::find(bytes, b"\r\n\r\n").map_or(bytes.len(), |at| at + 2);
    memchr::memmem::find(bytes.get(..head_end)?, needle)?;
    let message = parse_message_with(bytes, limits).ok()?;
    let id = message.call_id()?.ok()?.id.to_owned();
    Some(id)
}

/// Replaces the user agent's Contact line with the focus Contact.
pub(crate) fn rewrite_contact(bytes: &mut Vec<u8>, needle: &[u8], identity: &str) {
    let head_end = memchr::memmem::find(bytes, b"\r\n\r\n").map_or(bytes.len(), |at| at + 2);
    let Some(at) = bytes
        .get(..head_end)
        .and_then(|h| memchr::memmem::find(h, needle))
    else {
        return;
    };
    let mut line = b"\r\nContact: ".to_vec();
    line.extend_from_slice(focus_contact(identity).as_bytes());
    line.extend_from_slice(b"\r\n");
    bytes.splice(at..at + needle.len(), line);
}

/// `user@host[:port]` of a SIP URI, the form URIs are compared in
/// (scheme, parameters and headers ignored); other URIs as written.
pub(crate) fn uri_key(text: &str) -> String {
    let text = text.trim();
    let text = text
        .strip_prefix('<')
        .and_then(|t| t.split('>').next())
        .unwrap_or(text);
    match Uri::parse(text) {
        Ok(Uri::Sip(sip)) => {
            // The user part is case-sensitive, the host is not (RFC 3261
            // §19.1.4).
            let mut host = sip.host.to_string();
            host.make_ascii_lowercase();
            let mut key = String::with_capacity(text.len());
            if let Some(user) = sip.user {
                key.push_str(user);
                key.push('@');
            }
            key.push_str(&host);
            if let Some(port) = sip.port {
                let _ = std::fmt::Write::write_fmt(&mut key, format_args!(":{port}"));
            }
            key
        }
        _ => text.to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_key_ignores_scheme_params_and_host_case() {
        assert_eq!(
            uri_key("sip:Conf@IM.example.com;transport=tcp"),
            "Conf@im.example.com"
        );
        assert_eq!(
            uri_key("<sips:conf@im.example.com:5061>"),
            "conf@im.example.com:5061"
        );
        assert_eq!(uri_key("tel:+123"), "tel:+123");
    }

    #[test]
    fn contact_rewritten_in_head_only() {
        let needle = b"\r\nContact: <sip:192.0.2.1:5060>\r\n";
        let mut msg =
            b"SIP/2.0 200 OK\r\nContact: <sip:192.0.2.1:5060>\r\nContent-Length: 0\r\n\r\n"
                .to_vec();
        rewrite_contact(&mut msg, needle, "sip:s1@im.example.com");
        let text = String::from_utf8(msg).unwrap();
        assert!(text.contains("\r\nContact: <sip:s1@im.example.com>;isfocus;+g.oma.sip-im\r\n"));
        assert!(!text.contains("192.0.2.1"));
    }
}
