//! The header fields the server adds (7.2.1.1, 7.2.2.2): the release
//! version, the focus Contact with the IM Session Identity, and the form
//! URIs are compared in.

use crate::sip::Uri;

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

/// The Contact value of the focus: `<identity>;isfocus;+g.oma.sip-im`
/// (7.2.1.1 step 5).
pub(crate) fn focus_contact(identity: &str) -> String {
    ["<", identity, ">;", ISFOCUS, ";", IM_FEATURE_TAG].concat()
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
            // §19.1.4). Written in one buffer, without formatting.
            let mut key = Vec::with_capacity(text.len());
            if let Some(user) = sip.user {
                key.extend_from_slice(user.as_bytes());
                key.push(b'@');
            }
            let host_start = key.len();
            sip.host.write(&mut key);
            if let Some(host) = key.get_mut(host_start..) {
                host.make_ascii_lowercase();
            }
            if let Some(port) = sip.port {
                key.push(b':');
                crate::decimal::push_decimal(&mut key, u64::from(port));
            }
            String::from_utf8(key).unwrap_or_default()
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
}
