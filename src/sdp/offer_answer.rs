//! Offer/answer (RFC 3264) for the MSRP media of an IM session, with the
//! rules of RFC 4975 §8 (accept-types, path, max-size), RFC 4145 / RFC 6135
//! (`a=setup`) and OMA SIMPLE IM §5.8.1 and §7.2.1.2.
//!
//! * [`offer`] builds the offer of an IM session from [`LocalParameters`];
//! * [`answer`] answers an offer ([`answer_body`] parses the body first);
//! * [`answer_for_inviter`] builds the controlling IM Server's answer to the
//!   inviting IM Client from the inviter's offer and an invitee's answer
//!   (OMA SIMPLE IM §7.2.1.2, 200 OK handling, step 2);
//! * [`negotiate`] sums up an exchange as the [`NegotiatedSession`] an MSRP
//!   session needs.
//!
//! Nothing here reads a clock or draws a random number: session id and
//! version come from the caller.
//!
//! ```
//! use oma_im::sdp::offer_answer::{answer, negotiate, offer, LocalParameters, Side};
//! use oma_im::sdp::{SessionDescription, SetupRole};
//!
//! let alice = LocalParameters::new(1, 1, "192.0.2.1", 7777, "msrp://192.0.2.1:7777/a1;tcp");
//! let bob = LocalParameters::new(9, 1, "2001:db8::2", 8888, "msrp://[2001:db8::2]:8888/b2;tcp");
//!
//! let offer_body = offer(&alice).to_bytes();
//! let received = SessionDescription::parse(&offer_body)?;
//! let answer_body = answer(&received, &bob).to_bytes();
//! let answered = SessionDescription::parse(&answer_body)?;
//!
//! let alice_offer = offer(&alice);
//! let for_alice = negotiate(&alice_offer, &answered, Side::Offerer).expect("negotiated");
//! assert_eq!(for_alice.setup, SetupRole::Passive); // Bob answered actpass with active
//! assert_eq!(for_alice.remote_path[0], "msrp://[2001:db8::2]:8888/b2;tcp");
//! assert!(for_alice.remote_accept_types.matches("message/cpim"));
//! # Ok::<(), oma_im::sdp::SdpError>(())
//! ```

use std::borrow::Cow;
use std::fmt;

use smallvec::SmallVec;

use super::description::address_type_of;
use super::{
    AcceptTypes, Attribute, Connection, ConnectionAttribute, Direction, Limits, Media,
    MsrpTransport, Origin, SdpError, SessionDescription, SetupRole, Timing,
};

/// What the local end puts in its offer or answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalParameters<'a> {
    /// `o=` username; `-` by default.
    pub username: Cow<'a, str>,
    /// `o=` session id, chosen by the caller.
    pub session_id: u64,
    /// `o=` session version, chosen by the caller (increment it for each new
    /// offer of the same session).
    pub session_version: u64,
    /// The address for `o=` and `c=`: IPv4, IPv6 (written `IN IP6`) or a host
    /// name (written `IN IP4`).
    pub address: Cow<'a, str>,
    /// The `m=` port.
    pub port: u16,
    /// The `a=path` URIs: the local MSRP URI, preceded by any relays.
    pub path: SmallVec<[Cow<'a, str>; 2]>,
    /// `TCP/MSRP` or `TCP/TLS/MSRP`. An answer accepts only an offered media
    /// line with this transport.
    pub transport: MsrpTransport,
    /// The media types accepted; `message/cpim` by default (OMA SIMPLE IM
    /// §7.1.1.3). May hold more types, `type/*` or `*`.
    pub accept_types: AcceptTypes<'a>,
    /// `a=accept-wrapped-types`, if any.
    pub accept_wrapped_types: Option<AcceptTypes<'a>>,
    /// `a=max-size`: the largest message wished for, if limited.
    pub max_size: Option<u64>,
    /// In an offer, the `a=setup` value (`actpass` by default). In an
    /// answer, the preference used when the offer says `actpass` (`actpass`
    /// here means no preference: answer `active`, as RFC 6135 says), or
    /// `holdconn` to hold any connection.
    pub setup: SetupRole,
    /// The wished direction; `sendrecv` by default. The History Function
    /// delivering history uses `sendonly`, and storing it `recvonly`.
    pub direction: Direction,
    /// `a=connection` in an offer, if any. An answer carries
    /// `a=connection:new` when the offer has an `a=connection`.
    pub connection: Option<ConnectionAttribute>,
}

impl<'a> LocalParameters<'a> {
    /// Parameters with the defaults: username `-`, `TCP/MSRP`,
    /// `accept-types:message/cpim`, no wrapped types, no max-size, setup
    /// `actpass`, `sendrecv`, no `a=connection`.
    pub fn new(
        session_id: u64,
        session_version: u64,
        address: impl Into<Cow<'a, str>>,
        port: u16,
        path_uri: impl Into<Cow<'a, str>>,
    ) -> Self {
        let mut path = SmallVec::new();
        path.push(path_uri.into());
        Self {
            username: Cow::Borrowed("-"),
            session_id,
            session_version,
            address: address.into(),
            port,
            path,
            transport: MsrpTransport::Tcp,
            accept_types: AcceptTypes::from_iter(["message/cpim"]),
            accept_wrapped_types: None,
            max_size: None,
            setup: SetupRole::ActPass,
            direction: Direction::SendRecv,
            connection: None,
        }
    }

    /// `v=`, `o=`, `s=-`, `c=` and `t=0 0` of a description from these
    /// parameters, without media.
    fn skeleton(&self) -> SessionDescription<'_> {
        let mut description = SessionDescription::new(Origin {
            username: Cow::Borrowed(&self.username),
            session_id: self.session_id,
            session_version: self.session_version,
            net_type: Cow::Borrowed("IN"),
            addr_type: Cow::Borrowed(address_type_of(&self.address)),
            unicast_address: Cow::Borrowed(&self.address),
        });
        description.connection = Some(Connection::internet(&*self.address));
        description
    }

    /// The `a=path` attribute, borrowing the URIs.
    fn path_attribute(&self) -> Attribute<'_> {
        Attribute::Path(self.path.iter().map(|u| Cow::Borrowed(&**u)).collect())
    }
}

/// The offer of an IM session: one `m=message <port> TCP/MSRP *` (or
/// `TCP/TLS/MSRP`) line with, in this order, `a=accept-types`,
/// `a=accept-wrapped-types` (if any), `a=max-size` (if any), `a=path`,
/// `a=setup`, `a=connection` (if any) and the direction attribute. The
/// description borrows the text of `local`.
pub fn offer<'o>(local: &'o LocalParameters<'_>) -> SessionDescription<'o> {
    let mut description = local.skeleton();
    let mut media = Media::msrp(local.port, local.transport);
    media
        .attributes
        .push(Attribute::AcceptTypes(local.accept_types.borrowed()));
    if let Some(wrapped) = &local.accept_wrapped_types {
        media
            .attributes
            .push(Attribute::AcceptWrappedTypes(wrapped.borrowed()));
    }
    if let Some(size) = local.max_size {
        media.attributes.push(Attribute::MaxSize(size));
    }
    media.attributes.push(local.path_attribute());
    media.attributes.push(Attribute::Setup(local.setup));
    if let Some(connection) = local.connection {
        media.attributes.push(Attribute::Connection(connection));
    }
    media.attributes.push(Attribute::Direction(local.direction));
    description.media.push(media);
    description
}

/// The answer to `offer` (RFC 3264 §6 with RFC 4975 §8).
///
/// Every media line of the offer gets a line in the answer, in order. The
/// first MSRP line that has a non-zero port, the local transport, and an
/// `a=accept-types` with at least one type in common with the local
/// accept-types is accepted:
///
/// * `a=accept-types`: the [intersection](AcceptTypes::intersection) of the
///   offered and the local types, wildcards respected;
/// * `a=accept-wrapped-types`: the intersection of the offered and the local
///   wrapped types, when both exist and it is not empty;
/// * `a=max-size`: the local one, if any;
/// * `a=path`: the local path;
/// * `a=setup`: [`SetupRole::answer`] of the offered role and the local
///   preference;
/// * `a=connection:new` when the offer has an `a=connection`;
/// * the direction: [`Direction::answer`] of the offered direction (media
///   level, else session level) and the local wish.
///
/// Every other line — another media type or proto, a second MSRP line, an
/// MSRP line with nothing in common — is rejected: same media type, proto
/// and formats, port 0, no attributes. `t=` is copied from the offer.
///
/// The answer borrows the text of `offer` and `local`; no string is copied.
pub fn answer<'o>(
    offer: &'o SessionDescription<'_>,
    local: &'o LocalParameters<'_>,
) -> SessionDescription<'o> {
    let mut description = local.skeleton();
    description.times = offer.times.iter().map(Timing::borrowed).collect();
    let mut accepted = false;
    for media in &offer.media {
        let line = if accepted {
            None
        } else {
            answer_media(offer, media, local)
        };
        accepted |= line.is_some();
        description
            .media
            .push(line.unwrap_or_else(|| media.rejected()));
    }
    description
}

/// Parses the offer `body` under `limits` and appends the body of the
/// [answer](answer) to `out`. A body that is not a session description gives
/// its typed [`SdpError`] ([`SdpErrorKind::NotSdp`](super::SdpErrorKind::NotSdp)
/// when it does not start with `v=`) and leaves `out` untouched.
pub fn answer_body(
    body: &[u8],
    local: &LocalParameters<'_>,
    limits: &Limits,
    out: &mut Vec<u8>,
) -> Result<(), SdpError> {
    let offer = SessionDescription::parse_with_limits(body, limits)?;
    answer(&offer, local).write(out);
    Ok(())
}

fn answer_media<'o>(
    offer: &'o SessionDescription<'_>,
    media: &'o Media<'_>,
    local: &'o LocalParameters<'_>,
) -> Option<Media<'o>> {
    if media.port == 0 || media.msrp_transport()? != local.transport {
        return None;
    }
    let types = media
        .accept_types()?
        .borrowed()
        .intersection(&local.accept_types.borrowed());
    if types.is_empty() {
        return None;
    }
    let mut line = Media::msrp(local.port, local.transport);
    line.attributes.push(Attribute::AcceptTypes(types));
    if let (Some(offered), Some(wished)) =
        (media.accept_wrapped_types(), &local.accept_wrapped_types)
    {
        push_wrapped(
            &mut line,
            offered.borrowed().intersection(&wished.borrowed()),
        );
    }
    if let Some(size) = local.max_size {
        line.attributes.push(Attribute::MaxSize(size));
    }
    line.attributes.push(local.path_attribute());
    line.attributes.push(Attribute::Setup(SetupRole::answer(
        media.setup(),
        local.setup,
    )));
    if media.connection_attribute().is_some() {
        line.attributes
            .push(Attribute::Connection(ConnectionAttribute::New));
    }
    let direction = offer.media_direction(media).answer(local.direction);
    line.attributes.push(Attribute::Direction(direction));
    Some(line)
}

fn push_wrapped<'a>(line: &mut Media<'a>, wrapped: AcceptTypes<'a>) {
    if !wrapped.is_empty() {
        line.attributes.push(Attribute::AcceptWrappedTypes(wrapped));
    }
}

/// The controlling IM Server's answer to the inviting IM Client, built from
/// the inviter's offer and the answer of the first invitee to accept (OMA
/// SIMPLE IM §7.2.1.2, on a 200 OK from an invitee, step 2). The server is
/// the MSRP switch between the two, so the answer describes the server's
/// own end of the inviter's leg.
///
/// The chosen MSRP media line is the first MSRP line of the inviter's offer
/// with a non-zero port and the local transport, paired with the first
/// accepted MSRP line of the invitee's answer. Its attributes:
///
/// * `a=accept-types` (step 2a): the types the inviter offered
///   [intersected](AcceptTypes::intersection) with the types the invitee
///   answered, then with the server's own `local.accept_types` (operator
///   policy, step 4 of the INVITE handling; use `*` for no restriction).
///   Wildcards are respected, the narrower entry is kept, the inviter's order
///   is kept. Nothing in common rejects the line (port 0).
/// * `a=accept-wrapped-types`: the inviter's and the invitee's wrapped types
///   intersected (and with the local ones if set), when both sides list some
///   and something is common.
/// * `a=max-size`: the smaller of the invitee's and the local one — the
///   inviter must not send what the invitee refuses.
/// * `a=path`: the server's own path, replacing the invitee's path.
/// * `a=setup`: [`SetupRole::answer`] of the inviter's role and the local
///   preference (the TCP connection is between inviter and server).
/// * `a=connection:new` when the inviter's offer or the invitee's answer has
///   an `a=connection`.
/// * the direction: the inviter's direction [answered](Direction::answer)
///   with the local wish, then narrowed by the invitee's answered direction
///   (the server sends to the inviter only what the invitee sends, and
///   takes from the inviter only what the invitee receives).
/// * every other attribute (step 2b) of the inviter's media line, then of the
///   invitee's, in order, each once (equal name ignoring ASCII case and equal
///   value).
///
/// Every other media line of the inviter's offer is rejected with port 0, in
/// order. When the invitee accepted no MSRP line, every line is rejected.
///
/// The answer borrows the text of its three inputs; no string is copied.
pub fn answer_for_inviter<'o>(
    inviter_offer: &'o SessionDescription<'_>,
    invitee_answer: &'o SessionDescription<'_>,
    local: &'o LocalParameters<'_>,
) -> SessionDescription<'o> {
    let mut description = local.skeleton();
    description.times = inviter_offer.times.iter().map(Timing::borrowed).collect();
    let invitee = invitee_answer.msrp_media().map(|(_, m)| m);
    let mut accepted = false;
    for media in &inviter_offer.media {
        let line = match invitee {
            Some(invitee_media) if !accepted => {
                inviter_media(inviter_offer, media, invitee_answer, invitee_media, local)
            }
            _ => None,
        };
        accepted |= line.is_some();
        description
            .media
            .push(line.unwrap_or_else(|| media.rejected()));
    }
    description
}

fn inviter_media<'o>(
    inviter_offer: &'o SessionDescription<'_>,
    media: &'o Media<'_>,
    invitee_answer: &'o SessionDescription<'_>,
    invitee: &'o Media<'_>,
    local: &'o LocalParameters<'_>,
) -> Option<Media<'o>> {
    if media.port == 0 || media.msrp_transport()? != local.transport {
        return None;
    }
    let types = media
        .accept_types()?
        .borrowed()
        .intersection(&invitee.accept_types()?.borrowed())
        .intersection(&local.accept_types.borrowed());
    if types.is_empty() {
        return None;
    }
    let mut line = Media::msrp(local.port, local.transport);
    line.attributes.push(Attribute::AcceptTypes(types));
    if let (Some(offered), Some(answered)) =
        (media.accept_wrapped_types(), invitee.accept_wrapped_types())
    {
        let wrapped = offered.borrowed().intersection(&answered.borrowed());
        let wrapped = match &local.accept_wrapped_types {
            Some(wished) => wrapped.intersection(&wished.borrowed()),
            None => wrapped,
        };
        push_wrapped(&mut line, wrapped);
    }
    let max_size = match (invitee.max_size(), local.max_size) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if let Some(size) = max_size {
        line.attributes.push(Attribute::MaxSize(size));
    }
    line.attributes.push(local.path_attribute());
    line.attributes.push(Attribute::Setup(SetupRole::answer(
        media.setup(),
        local.setup,
    )));
    if media.connection_attribute().is_some() || invitee.connection_attribute().is_some() {
        line.attributes
            .push(Attribute::Connection(ConnectionAttribute::New));
    }
    let towards_inviter = inviter_offer.media_direction(media).answer(local.direction);
    let invitee_direction = invitee_answer.media_direction(invitee);
    line.attributes
        .push(Attribute::Direction(Direction::from_flags(
            towards_inviter.sends() && invitee_direction.sends(),
            towards_inviter.receives() && invitee_direction.receives(),
        )));
    let offered = media.attributes.iter().map(Attribute::borrowed);
    for attribute in offered.chain(invitee.attributes.iter().map(Attribute::borrowed)) {
        let Attribute::Other { name, value } = &attribute else {
            continue;
        };
        let seen = line.attributes.iter().any(|a| {
            matches!(a, Attribute::Other { name: n, value: v } if n.eq_ignore_ascii_case(name) && v == value)
        });
        if !seen {
            line.attributes.push(attribute);
        }
    }
    Some(line)
}

/// Which end of the exchange the local description is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The local description is the offer.
    Offerer,
    /// The local description is the answer.
    Answerer,
}

/// The MSRP parameters an offer/answer exchange settled, seen from the local
/// end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedSession<'a> {
    /// Index of the MSRP media line in both descriptions.
    pub media_index: usize,
    /// The local `a=path` (the local MSRP URI last).
    pub local_path: SmallVec<[Cow<'a, str>; 2]>,
    /// The remote `a=path`: the URIs to send through, the peer's last.
    pub remote_path: SmallVec<[Cow<'a, str>; 2]>,
    /// What the local end accepts (its own `a=accept-types`).
    pub local_accept_types: AcceptTypes<'a>,
    /// What the remote end accepts: what may be sent to it.
    pub remote_accept_types: AcceptTypes<'a>,
    /// The local `a=accept-wrapped-types`, if any.
    pub local_accept_wrapped_types: Option<AcceptTypes<'a>>,
    /// The remote `a=accept-wrapped-types`, if any.
    pub remote_accept_wrapped_types: Option<AcceptTypes<'a>>,
    /// The local `a=max-size`: the largest message the local end wished for.
    pub local_max_size: Option<u64>,
    /// The remote `a=max-size`: the largest message to send to the peer.
    pub remote_max_size: Option<u64>,
    /// The local TCP role: [`SetupRole::Active`] opens the connection,
    /// [`SetupRole::Passive`] waits for it, [`SetupRole::HoldConn`] opens none.
    /// Never `actpass`.
    pub setup: SetupRole,
    /// Whether the media line is `TCP/TLS/MSRP`.
    pub tls: bool,
    /// What the local end may do: send if it wished to and the peer
    /// receives, receive if it wished to and the peer sends.
    pub direction: Direction,
}

impl NegotiatedSession<'_> {
    /// Whether the local end opens the TCP connection.
    pub fn is_active(&self) -> bool {
        self.setup == SetupRole::Active
    }

    /// The same summary, owning its text.
    pub fn into_owned(self) -> NegotiatedSession<'static> {
        let own = |s: Cow<'_, str>| -> Cow<'static, str> { Cow::Owned(s.into_owned()) };
        NegotiatedSession {
            media_index: self.media_index,
            local_path: self.local_path.into_iter().map(own).collect(),
            remote_path: self.remote_path.into_iter().map(own).collect(),
            local_accept_types: self.local_accept_types.into_owned(),
            remote_accept_types: self.remote_accept_types.into_owned(),
            local_accept_wrapped_types: self
                .local_accept_wrapped_types
                .map(AcceptTypes::into_owned),
            remote_accept_wrapped_types: self
                .remote_accept_wrapped_types
                .map(AcceptTypes::into_owned),
            local_max_size: self.local_max_size,
            remote_max_size: self.remote_max_size,
            setup: self.setup,
            tls: self.tls,
            direction: self.direction,
        }
    }
}

/// Why [`negotiate`] found no usable MSRP session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NegotiationError {
    /// No media line index holds an MSRP line in both descriptions.
    NoMsrpMedia,
    /// The MSRP line was rejected (port 0).
    Rejected,
    /// The two MSRP lines use different transports.
    TransportMismatch,
    /// A side has no `a=path`.
    MissingPath,
    /// A side has no `a=accept-types`.
    MissingAcceptTypes,
    /// Both ends are `active`, or both `passive`.
    SetupConflict,
}

impl fmt::Display for NegotiationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoMsrpMedia => "no MSRP media line in both descriptions",
            Self::Rejected => "the MSRP media line was rejected",
            Self::TransportMismatch => "the MSRP media lines use different transports",
            Self::MissingPath => "an MSRP media line has no a=path",
            Self::MissingAcceptTypes => "an MSRP media line has no a=accept-types",
            Self::SetupConflict => "both ends chose the same a=setup role",
        })
    }
}

impl std::error::Error for NegotiationError {}

/// The MSRP session `local` and `remote` settled on; `side` says whether
/// `local` was the offer or the answer. The MSRP line is the first index
/// holding an MSRP line in both.
///
/// A missing `a=setup` counts as `active` in an offer and `passive` in an
/// answer (RFC 4145 §4.1). When the local end said `actpass`, it takes the
/// opposite of the remote role.
pub fn negotiate<'s>(
    local: &'s SessionDescription<'_>,
    remote: &'s SessionDescription<'_>,
    side: Side,
) -> Result<NegotiatedSession<'s>, NegotiationError> {
    let (media_index, (mine, theirs)) = local
        .media
        .iter()
        .zip(&remote.media)
        .enumerate()
        .find(|(_, (m, r))| m.msrp_transport().is_some() && r.msrp_transport().is_some())
        .ok_or(NegotiationError::NoMsrpMedia)?;
    if mine.port == 0 || theirs.port == 0 {
        return Err(NegotiationError::Rejected);
    }
    let transport = mine.msrp_transport().ok_or(NegotiationError::NoMsrpMedia)?;
    if theirs.msrp_transport() != Some(transport) {
        return Err(NegotiationError::TransportMismatch);
    }
    let path = |m: &'s Media<'_>| {
        m.path()
            .map(|p| {
                p.iter()
                    .map(|u| Cow::Borrowed(&**u))
                    .collect::<SmallVec<_>>()
            })
            .ok_or(NegotiationError::MissingPath)
    };
    let types = |m: &'s Media<'_>| {
        m.accept_types()
            .map(AcceptTypes::borrowed)
            .ok_or(NegotiationError::MissingAcceptTypes)
    };
    let (local_default, remote_default) = match side {
        Side::Offerer => (SetupRole::Active, SetupRole::Passive),
        Side::Answerer => (SetupRole::Passive, SetupRole::Active),
    };
    let local_role = mine.setup().unwrap_or(local_default);
    let remote_role = theirs.setup().unwrap_or(remote_default);
    let setup = match (local_role, remote_role) {
        (SetupRole::HoldConn, _) | (_, SetupRole::HoldConn) => SetupRole::HoldConn,
        (SetupRole::Active, SetupRole::Active) | (SetupRole::Passive, SetupRole::Passive) => {
            return Err(NegotiationError::SetupConflict)
        }
        (SetupRole::Active, _) | (SetupRole::ActPass, SetupRole::Passive) => SetupRole::Active,
        (SetupRole::Passive, _) | (SetupRole::ActPass, SetupRole::Active) => SetupRole::Passive,
        (SetupRole::ActPass, SetupRole::ActPass) => match side {
            Side::Offerer => SetupRole::Passive,
            Side::Answerer => SetupRole::Active,
        },
    };
    let local_direction = local.media_direction(mine);
    let remote_direction = remote.media_direction(theirs);
    Ok(NegotiatedSession {
        media_index,
        local_path: path(mine)?,
        remote_path: path(theirs)?,
        local_accept_types: types(mine)?,
        remote_accept_types: types(theirs)?,
        local_accept_wrapped_types: mine.accept_wrapped_types().map(AcceptTypes::borrowed),
        remote_accept_wrapped_types: theirs.accept_wrapped_types().map(AcceptTypes::borrowed),
        local_max_size: mine.max_size(),
        remote_max_size: theirs.max_size(),
        setup,
        tls: transport == MsrpTransport::Tls,
        direction: Direction::from_flags(
            local_direction.sends() && remote_direction.receives(),
            local_direction.receives() && remote_direction.sends(),
        ),
    })
}
