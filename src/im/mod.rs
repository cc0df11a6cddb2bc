//! The OMA SIMPLE IM roles, built on the SIP user agent ([`crate::dialog`]),
//! SDP ([`crate::sdp`]), MSRP ([`crate::msrp`]) and the message bodies
//! ([`crate::body`]).
//!
//! This module holds the vocabulary the roles share: the IM feature tags,
//! the release-version product strings of Appendix F, the SIP/IP Core
//! profile ([`SipIpCoreProfile`]), the IM Session Identity
//! ([`ImSessionIdentity`], RFC 4579) and the Authenticated Originator's IM
//! Address (clause 5.1, [`authenticated_originator`]).
//!
//! * [`client`]: the IM Client (clauses 7.1.1.x and 9.x).
//! * [`server`]: the controlling IM Server (clauses 7.2.x, 11.x).
//! * [`history`]: the IM History Function (clauses 13.x).

pub(crate) mod accept;
pub mod client;
pub mod history;
pub mod server;
pub mod trust;

pub use server::ConnectionId;

use crate::sip::{Contact, SipMessage};

/// The IM feature tag (Contact and Accept-Contact, RFC 3840 / RFC 3841).
pub const IM_FEATURE_TAG: &str = "+g.oma.sip-im";

/// The Large Message feature tag registered by deployed IM Clients (clause
/// notes §1; the seed's 9.1.1.1 itself only names [`IM_FEATURE_TAG`]).
pub const LARGE_MESSAGE_FEATURE_TAG: &str = "+g.oma.sip-im.large-message";

/// The feature parameter that marks a conference focus in a Contact
/// (RFC 3840 / RFC 4579): its URI is the IM Session Identity.
pub const ISFOCUS: &str = "isfocus";

/// The Accept-Contact value of every initial request (RFC 3841), as seen on
/// the wire: `*;+g.oma.sip-im`.
pub const ACCEPT_CONTACT_IM: &str = "*;+g.oma.sip-im";

/// The release-version token of an IM Client (Appendix F).
pub const CLIENT_RELEASE_TOKEN: &str = "IM-client/OMA1.0";

/// The release-version token of an IM Server (Appendix F).
pub const SERVER_RELEASE_TOKEN: &str = "IM-serv/OMA1.0";

/// The `User-Agent` value of an IM Client (Appendix F): the release token,
/// then the product tokens (`product/version ...`) if any.
///
/// ```
/// use oma_im::im::client_release_version;
/// assert_eq!(client_release_version("acme/2.1"), "IM-client/OMA1.0 acme/2.1");
/// assert_eq!(client_release_version(""), "IM-client/OMA1.0");
/// ```
pub fn client_release_version(product: &str) -> String {
    release_version(CLIENT_RELEASE_TOKEN, product)
}

/// The `Server` value of an IM Server (Appendix F): the release token, then
/// the product tokens if any.
///
/// ```
/// use oma_im::im::server_release_version;
/// assert_eq!(server_release_version("Dummy/v1.01"), "IM-serv/OMA1.0 Dummy/v1.01");
/// ```
pub fn server_release_version(product: &str) -> String {
    release_version(SERVER_RELEASE_TOKEN, product)
}

fn release_version(token: &str, product: &str) -> String {
    let product = product.trim();
    if product.is_empty() {
        token.to_owned()
    } else {
        format!("{token} {product}")
    }
}

/// Which SIP/IP Core the IM entity runs over: the statements "When the
/// SIP/IP Core corresponds to 3GPP/3GPP2 IMS ..." apply with [`Ims`](Self::Ims).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SipIpCoreProfile {
    /// A plain RFC 3261 SIP/IP Core.
    #[default]
    Plain,
    /// 3GPP/3GPP2 IMS (TS 24.229 / X.S0013.4).
    Ims,
}

impl SipIpCoreProfile {
    /// The header an IM Client puts its own IM Address in, as the
    /// Authenticated Originator's IM Address (clause 5.1, 9.2.1 step 4):
    /// `P-Preferred-Identity` under every profile.
    ///
    /// An IM Client is a user agent, never a node of a trust domain: only
    /// the network can assert an identity (RFC 3325 §9.1), and a user agent
    /// outside the trust domain may only ask for one with
    /// `P-Preferred-Identity` (§9.2; TS 24.229 §5.1.3), which a trusted
    /// proxy (the P-CSCF) replaces with `P-Asserted-Identity` or drops. A
    /// client that wrote `P-Asserted-Identity` itself would claim what any
    /// attacker can claim, so the crate's client never does.
    ///
    /// ```
    /// use oma_im::im::SipIpCoreProfile;
    /// assert_eq!(SipIpCoreProfile::Plain.originator_header(), "P-Preferred-Identity");
    /// assert_eq!(SipIpCoreProfile::Ims.originator_header(), "P-Preferred-Identity");
    /// ```
    pub fn originator_header(self) -> &'static str {
        "P-Preferred-Identity"
    }

    /// Whether a received `P-Asserted-Identity` is trusted as the
    /// originator's identity: in IMS it is inserted by the network
    /// (TS 24.229 §5.1.4); over a plain core the `From` is used.
    pub fn trusts_p_asserted_identity(self) -> bool {
        self == SipIpCoreProfile::Ims
    }
}

/// An IM Session Identity (RFC 4579): the URI of a Contact, and whether that
/// Contact carries `isfocus` (the peer is a conference focus).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImSessionIdentity {
    /// The Contact URI.
    pub uri: String,
    /// Whether the Contact carries the `isfocus` feature parameter.
    pub is_focus: bool,
}

impl ImSessionIdentity {
    /// The identity carried by the first Contact of `message`, if any.
    ///
    /// ```
    /// use oma_im::im::ImSessionIdentity;
    /// use oma_im::sip::parse_message;
    ///
    /// let msg = parse_message(b"SIP/2.0 200 OK\r\n\
    ///     Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK776asdhds\r\n\
    ///     From: <sip:alice@example.com>;tag=1928301774\r\n\
    ///     To: <sip:factory@im.example.com>;tag=a6c85cf\r\n\
    ///     Call-ID: a84b4c76e66710\r\nCSeq: 1 INVITE\r\n\
    ///     Contact: <sip:conf1@im.example.com>;isfocus;+g.oma.sip-im\r\n\
    ///     Content-Length: 0\r\n\r\n")?;
    /// let id = ImSessionIdentity::from_contact(&msg).expect("a Contact");
    /// assert_eq!(id.uri, "sip:conf1@im.example.com");
    /// assert!(id.is_focus);
    /// # Ok::<(), oma_im::sip::SipError>(())
    /// ```
    pub fn from_contact(message: &SipMessage<'_>) -> Option<Self> {
        match message.contact().next()?.ok()? {
            Contact::Address(addr) => Some(ImSessionIdentity {
                uri: addr.uri.to_string(),
                is_focus: addr.params.contains(ISFOCUS),
            }),
            Contact::Wildcard => None,
        }
    }
}

/// The Authenticated Originator's IM Address of a received request (clause
/// 5.1): under [`SipIpCoreProfile::Ims`] the first `P-Asserted-Identity`
/// (asserted by the network), else — or when there is none — the `From`
/// URI.
pub fn authenticated_originator(
    message: &SipMessage<'_>,
    profile: SipIpCoreProfile,
) -> Option<String> {
    if profile.trusts_p_asserted_identity() {
        if let Some(Ok(pai)) = message.p_asserted_identity().next() {
            return Some(pai.uri.to_string());
        }
    }
    Some(message.from()?.ok()?.uri.to_string())
}
