//! One dialog (RFC 3261 §12): its identifiers, route set, remote target and
//! sequence numbers, and how it is created and refreshed from messages.

use std::fmt;

use crate::sip::{HeaderName, NameAddr, SipMessage, Uri};

/// Identifies a dialog inside one [`UserAgent`](super::UserAgent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DialogId(pub(crate) u64);

/// Two numbers the application keeps with a dialog in its
/// [`UserAgent`](super::UserAgent), given back by
/// [`UserAgent::dialog_owner`](super::UserAgent::dialog_owner) and in the
/// dialog's [`Event::DialogTerminated`](super::Event::DialogTerminated): the
/// application finds its own state from a dialog without a map of its own.
///
/// ```
/// use oma_im::dialog::DialogOwner;
///
/// let owner = DialogOwner(7, 2); // e.g. a session and a member of it
/// assert_eq!(owner.0, 7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DialogOwner(pub u64, pub u64);

impl crate::slab::SlabKey for DialogId {
    fn from_raw(raw: u64) -> Self {
        DialogId(raw)
    }
    fn raw(self) -> u64 {
        self.0
    }
}

impl fmt::Display for DialogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dialog#{}", self.0)
    }
}

/// The state of a dialog (§12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    /// Created by a provisional response with a To tag; may still end
    /// with the final response.
    Early,
    /// Created or confirmed by a 2xx.
    Confirmed,
}

/// Which side of the dialog-creating transaction this user agent was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogRole {
    /// This UA sent the request that created the dialog.
    Uac,
    /// This UA received it.
    Uas,
}

/// The texts of a dialog, in the order of [`Texts::ends`]: what an
/// in-dialog request is matched on and what its response is written with
/// (the local Contact) first, in the buffer's first bytes.
#[derive(Debug, Clone, Copy)]
enum Part {
    CallId,
    LocalTag,
    RemoteTag,
    LocalContact,
    RemoteTarget,
    LocalUri,
    RemoteUri,
}

/// A dialog's texts (Call-ID, tags, URIs, remote target, local Contact),
/// one after the other in one allocation: a server holds a dialog per
/// participant, and these change rarely (a target refresh).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Texts {
    text: TextsText,
    /// Where each [`Part`] ends in `text`.
    ends: [u32; 7],
    /// Whether the local Contact was given (else the user agent's default).
    has_contact: bool,
}

/// Octets of a dialog's texts kept in the dialog itself: a lookup that
/// checks its identifiers reads them where the dialog is, without one more
/// allocation to reach.
const INLINE_TEXTS: usize = 192;

/// The text of [`Texts`]: in place, or boxed when longer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TextsText {
    Inline(arrayvec::ArrayString<INLINE_TEXTS>),
    Boxed(Box<str>),
}

impl TextsText {
    fn as_str(&self) -> &str {
        match self {
            TextsText::Inline(text) => text,
            TextsText::Boxed(text) => text,
        }
    }
}

impl Texts {
    fn new(parts: [&str; 7], has_contact: bool) -> Self {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let mut ends = [0u32; 7];
        let mut at = 0usize;
        for (end, part) in ends.iter_mut().zip(parts) {
            at += part.len();
            // Parts come from one parsed message, whose length fits in a
            // u32 (the parser's size limit).
            *end = u32::try_from(at).unwrap_or(u32::MAX);
        }
        let text = if total <= INLINE_TEXTS {
            let mut inline = arrayvec::ArrayString::new();
            for part in parts {
                // Fits: the total was checked.
                let _ = inline.try_push_str(part);
            }
            TextsText::Inline(inline)
        } else {
            TextsText::Boxed(parts.concat().into_boxed_str())
        };
        Texts {
            text,
            ends,
            has_contact,
        }
    }

    fn get(&self, part: Part) -> &str {
        let i = part as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text
            .as_str()
            .get(start..self.ends[i] as usize)
            .unwrap_or_default()
    }

    /// The same texts with `part` replaced.
    fn with(&self, part: Part, value: &str) -> Self {
        let mut parts = [""; 7];
        for (i, slot) in parts.iter_mut().enumerate() {
            *slot = self.get(ALL_PARTS[i]);
        }
        parts[part as usize] = value;
        let has_contact = self.has_contact || matches!(part, Part::LocalContact);
        Texts::new(parts, has_contact)
    }
}

const ALL_PARTS: [Part; 7] = [
    Part::CallId,
    Part::LocalTag,
    Part::RemoteTag,
    Part::LocalContact,
    Part::RemoteTarget,
    Part::LocalUri,
    Part::RemoteUri,
];

/// The state a dialog keeps (§12.1): identifiers, the route set, the remote
/// target and both sequence numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    pub(crate) id: DialogId,
    pub(crate) state: DialogState,
    pub(crate) role: DialogRole,
    /// Call-ID, tags, URIs, remote target and the Contact value we wrote
    /// in the creating message, when it was not the user agent's default.
    texts: Texts,
    pub(crate) route_set: Vec<String>,
    pub(crate) local_seq: u32,
    pub(crate) remote_seq: Option<u32>,
    pub(crate) invite_seq: Option<u32>,
}

impl Dialog {
    /// The dialog's identifier in its user agent.
    pub fn id(&self) -> DialogId {
        self.id
    }
    /// Early or confirmed.
    pub fn state(&self) -> DialogState {
        self.state
    }
    /// UAC or UAS of the creating transaction.
    pub fn role(&self) -> DialogRole {
        self.role
    }
    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        self.texts.get(Part::CallId)
    }
    /// The local tag (From tag of our requests).
    pub fn local_tag(&self) -> &str {
        self.texts.get(Part::LocalTag)
    }
    /// The remote tag (To tag of our requests).
    pub fn remote_tag(&self) -> &str {
        self.texts.get(Part::RemoteTag)
    }
    /// The local URI (From of our requests, without tag), as a name-addr.
    pub fn local_uri(&self) -> &str {
        self.texts.get(Part::LocalUri)
    }
    /// The remote URI (To of our requests, without tag), as a name-addr.
    pub fn remote_uri(&self) -> &str {
        self.texts.get(Part::RemoteUri)
    }
    /// The remote target: the URI of the peer's Contact.
    pub fn remote_target(&self) -> &str {
        self.texts.get(Part::RemoteTarget)
    }
    /// The Contact value this side writes in the dialog's target-refresh
    /// requests and responses, when it is not the user agent's default.
    pub fn local_contact(&self) -> Option<&str> {
        self.texts
            .has_contact
            .then(|| self.texts.get(Part::LocalContact))
    }

    /// Sets the Contact value this side writes from now on; `true` when
    /// it changed.
    pub(crate) fn set_local_contact(&mut self, contact: &str) -> bool {
        // A refresh usually gives the Contact it gave before.
        if self.texts.has_contact && self.texts.get(Part::LocalContact) == contact {
            return false;
        }
        self.texts = self.texts.with(Part::LocalContact, contact);
        true
    }
    /// The route set, in the order of our requests' Route header: the
    /// Record-Route of the creating response reversed (UAC), or of the
    /// creating request as is (UAS).
    pub fn route_set(&self) -> &[String] {
        &self.route_set
    }
    /// The last CSeq number we sent.
    pub fn local_seq(&self) -> u32 {
        self.local_seq
    }
    /// The last CSeq number the peer sent, if any.
    pub fn remote_seq(&self) -> Option<u32> {
        self.remote_seq
    }

    /// Call-ID, local tag and remote tag.
    pub(crate) fn ids(&self) -> (&str, &str, &str) {
        (self.call_id(), self.local_tag(), self.remote_tag())
    }

    /// The dialog a UAC creates from a response with a To tag to `request`
    /// (§12.1.2). `None` when a field it needs is missing or malformed.
    pub(crate) fn from_response(
        id: DialogId,
        request: &SipMessage<'_>,
        response: &SipMessage<'_>,
        max_routes: usize,
    ) -> Option<Dialog> {
        let from = request.from()?.ok()?;
        let to = response.to()?.ok()?;
        let code = response.status_code()?;
        let mut routes = route_set(response, max_routes)?;
        routes.reverse();
        let seq = request.cseq()?.ok()?.seq;
        let remote_target =
            contact_uri(response).or_else(|| request.request_line().map(|l| l.uri.to_owned()))?;
        // What we wrote in the request: the default or the application's
        // own.
        let contact = request.header(HeaderName::Contact).map(|h| h.value);
        Some(Dialog {
            id,
            state: if code < 200 {
                DialogState::Early
            } else {
                DialogState::Confirmed
            },
            role: DialogRole::Uac,
            texts: Texts::new(
                [
                    request.call_id()?.ok()?.id,
                    from.tag()?,
                    to.tag()?,
                    contact.unwrap_or_default(),
                    &remote_target,
                    &without_tag(&from),
                    &without_tag(&to),
                ],
                contact.is_some(),
            ),
            route_set: routes,
            local_seq: seq,
            remote_seq: None,
            invite_seq: (request.method() == Some("INVITE")).then_some(seq),
        })
    }

    /// The dialog a UAS creates when it answers `request` with a To tag
    /// `local_tag` (§12.1.1). `None` when a field it needs is missing.
    pub(crate) fn from_request(
        id: DialogId,
        request: &SipMessage<'_>,
        local_tag: &str,
        local_contact: Option<&str>,
        confirmed: bool,
        max_routes: usize,
    ) -> Option<Dialog> {
        let from = request.from()?.ok()?;
        let to = request.to()?.ok()?;
        let seq = request.cseq()?.ok()?.seq;
        Some(Dialog {
            id,
            state: if confirmed {
                DialogState::Confirmed
            } else {
                DialogState::Early
            },
            role: DialogRole::Uas,
            texts: Texts::new(
                [
                    request.call_id()?.ok()?.id,
                    local_tag,
                    from.tag()?,
                    local_contact.unwrap_or_default(),
                    &contact_uri(request).unwrap_or_else(|| uri_text(&from.uri)),
                    &without_tag(&to),
                    &without_tag(&from),
                ],
                local_contact.is_some(),
            ),
            route_set: route_set(request, max_routes)?,
            local_seq: 0,
            remote_seq: Some(seq),
            invite_seq: (request.method() == Some("INVITE")).then_some(seq),
        })
    }

    /// Confirms an early UAC dialog with its 2xx: the route set is
    /// recomputed from it and the remote target taken from its Contact
    /// (§12.1.2, §13.2.2.4).
    pub(crate) fn confirm_with(&mut self, response: &SipMessage<'_>, max_routes: usize) {
        self.state = DialogState::Confirmed;
        if let Some(mut routes) = route_set(response, max_routes) {
            routes.reverse();
            self.route_set = routes;
        }
        let _ = self.refresh_target(response);
    }

    /// Takes the remote target from the Contact of a target-refresh request
    /// or its 2xx (§12.2.1.2, §12.2.2); `true` when it changed.
    pub(crate) fn refresh_target(&mut self, message: &SipMessage<'_>) -> bool {
        match contact_uri(message) {
            Some(target) if target != self.remote_target() => {
                self.texts = self.texts.with(Part::RemoteTarget, &target);
                true
            }
            _ => false,
        }
    }

    /// The bytes the dialog's state holds, charged against the user
    /// agent's byte budget: every text it keeps (its identifiers among them:
    /// the user agent's indexes keep hashes of them, not copies).
    pub(crate) fn held_bytes(&self) -> usize {
        self.call_id().len()
            + self.local_tag().len()
            + self.remote_tag().len()
            + self.local_uri().len()
            + self.remote_uri().len()
            + self.remote_target().len()
            + self.local_contact().map_or(0, str::len)
            + self.route_set.iter().map(String::len).sum::<usize>()
    }

    /// Whether the route set starts with a strict router (a SIP URI
    /// without `lr`), which §12.2.1.1 puts in the Request-URI.
    pub(crate) fn first_route_is_strict(&self) -> bool {
        self.route_set.first().is_some_and(|first| {
            NameAddr::parse(first)
                .ok()
                .and_then(|na| na.uri.as_sip().map(|u| !u.lr()))
                .unwrap_or(false)
        })
    }

    /// The Request-URI and Route values of a request in this dialog
    /// (§12.2.1.1): loose routing when the first route has `lr`, else the
    /// strict-routing form (first route as Request-URI, remote target last).
    pub(crate) fn request_target(&self) -> (String, Vec<String>) {
        let Some(first) = self.route_set.first() else {
            return (self.remote_target().to_owned(), Vec::new());
        };
        if self.first_route_is_strict() {
            let uri = NameAddr::parse(first)
                .map(|na| uri_text(&na.uri))
                .unwrap_or_default();
            let mut routes: Vec<String> = self.route_set.iter().skip(1).cloned().collect();
            routes.push(format!("<{}>", self.remote_target()));
            (uri, routes)
        } else {
            (self.remote_target().to_owned(), self.route_set.clone())
        }
    }
}

/// Whether `request` was sent outside any dialog: its To has no tag
/// (§8.2.2.2, §12.2.2).
pub(crate) fn request_outside_dialog(request: &SipMessage<'_>) -> bool {
    request
        .to()
        .and_then(Result::ok)
        .is_some_and(|to| to.tag().is_none())
}

/// Whether a request of `method` refreshes the remote target (§12.2,
/// RFC 3311 UPDATE, RFC 6665 SUBSCRIBE/NOTIFY).
pub(crate) fn is_target_refresh(method: &str) -> bool {
    matches!(
        method,
        "INVITE" | "UPDATE" | "SUBSCRIBE" | "NOTIFY" | "REFER"
    )
}

/// The canonical text of `uri`.
pub(crate) fn uri_text(uri: &Uri<'_>) -> String {
    let mut out = Vec::with_capacity(48);
    uri.write(&mut out);
    text_of(out)
}

/// `out` as text, without a copy when it is UTF-8 (written from parsed
/// text, it is).
fn text_of(out: Vec<u8>) -> String {
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A From or To address without its tag parameter, canonical.
fn without_tag(addr: &NameAddr<'_>) -> String {
    let bare = NameAddr {
        params: crate::sip::Params::new(),
        ..addr.clone()
    };
    let mut out = Vec::with_capacity(64);
    bare.write(&mut out);
    for p in addr
        .params
        .iter()
        .filter(|p| !p.name.eq_ignore_ascii_case("tag"))
    {
        p.write(&mut out);
    }
    text_of(out)
}

/// The URI of the first Contact of `message`.
fn contact_uri(message: &SipMessage<'_>) -> Option<String> {
    let contact = message.contact().next()?.ok()?;
    Some(uri_text(&contact.address()?.uri))
}

/// Every Record-Route value of `message`, in order, canonical; `None` when
/// one is malformed or there are more than `max_routes`.
fn route_set(message: &SipMessage<'_>, max_routes: usize) -> Option<Vec<String>> {
    let mut routes = Vec::new();
    for rr in message.record_route() {
        if routes.len() == max_routes {
            return None;
        }
        routes.push(rr.ok()?.to_string());
    }
    Some(routes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Kept in place or boxed, a dialog's texts read back as given,
        /// and replacing one (a target refresh) crosses the boundary
        /// either way.
        #[test]
        fn texts_read_back_in_place_or_boxed(
            parts in proptest::collection::vec("[a-z0-9@:.;<>=-]{0,60}", 7),
            replaced in 0usize..7,
            value in "[a-z0-9@:.;<>=-]{0,200}",
        ) {
            let given: [&str; 7] = std::array::from_fn(|i| parts[i].as_str());
            let texts = Texts::new(given, true);
            let total: usize = parts.iter().map(String::len).sum();
            prop_assert_eq!(matches!(texts.text, TextsText::Inline(_)), total <= INLINE_TEXTS);
            for (i, part) in ALL_PARTS.into_iter().enumerate() {
                prop_assert_eq!(texts.get(part), given[i]);
            }
            let changed = texts.with(ALL_PARTS[replaced], &value);
            for (i, part) in ALL_PARTS.into_iter().enumerate() {
                let expected = if i == replaced { value.as_str() } else { given[i] };
                prop_assert_eq!(changed.get(part), expected);
            }
        }
    }
}
