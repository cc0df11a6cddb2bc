//! Pager Mode through the server: a SIP MESSAGE (RFC 3428) to a
//! Conference-factory-URI with a URI list (RFC 5365: `multipart/mixed`, the
//! list with `Content-Disposition: recipient-list`), or to a pre-defined
//! group's identity, is fanned out as one MESSAGE per recipient carrying
//! the sender's `message/cpim` unchanged (its CPIM From names the sender)
//! and the sender as SIP From. The sender gets `202 Accepted` (RFC 3428
//! §7: accepted for delivery, not delivered).
//!
//! The same access rules and [`AuthorizationPolicy`] as a session set-up
//! apply (a pre-defined group: members only by default). A list longer than
//! [`Limits::max_adhoc_participants`] is refused with 403 and a Warning
//! naming the cause, before anything is sent; a list that does not parse or
//! a message without content is 400; a MESSAGE to an IM Session Identity or
//! a public conference (session messages travel over MSRP) is 405.
//!
//! [`AuthorizationPolicy`]: super::AuthorizationPolicy
//! [`Limits::max_adhoc_participants`]: super::Limits::max_adhoc_participants

use std::time::Instant;

use crate::body::multipart::{find_resource_lists, Multipart};
use crate::body::resource_lists::ResourceLists;
use crate::body::xml::XmlLimits;
use crate::dialog::{RequestSpec, ResponseSpec, ServerTxId};
use crate::im::trust::Originator;
use crate::im::ACCEPT_CONTACT_IM;
use crate::sip::{Method, SipMessage};

use super::headers::uri_key;
use super::setup::Target;
use super::{Event, ImServer};

/// The Warning text of a list over the limit.
pub(super) const TOO_MANY_RECIPIENTS: &str = "too many recipients";

impl ImServer {
    /// An authorized MESSAGE outside a dialog at `target`.
    pub(super) fn pager_admitted(
        &mut self,
        transaction: ServerTxId,
        msg: &SipMessage<'_>,
        who: &Originator,
        target: Target,
        now: Instant,
    ) {
        let me = uri_key(&who.address);
        let (recipients, content_type, content) = match target {
            Target::Factory(_) => match self.list_message(msg) {
                Ok(found) => found,
                Err((code, warning)) => return self.reject(transaction, code, warning, now),
            },
            Target::Group(index) => {
                let members = self.config.groups[index]
                    .members
                    .iter()
                    .filter(|m| uri_key(m) != me)
                    .cloned()
                    .collect();
                let content_type = msg
                    .content_type()
                    .and_then(Result::ok)
                    .map_or_else(|| "message/cpim".to_owned(), |ct| ct.to_string());
                (members, content_type, msg.body().to_vec())
            }
            Target::Session(_) | Target::Public(_) => {
                return self.reject(transaction, 405, None, now)
            }
        };
        if content.is_empty() {
            return self.reject(transaction, 400, None, now);
        }
        let from = format!("<{}>", who.address);
        let mut sent = 0;
        for uri in recipients.iter().filter(|r| uri_key(r) != me) {
            let mut spec = RequestSpec::new(Method::Message, uri, &from, format!("<{uri}>"))
                .with_header("Accept-Contact", ACCEPT_CONTACT_IM)
                .with_body(&content_type, content.clone());
            if who.verified {
                spec = spec.with_header("P-Asserted-Identity", &from);
            }
            if self.ua.send_request(spec, now).is_ok() {
                sent += 1;
            }
        }
        let accepted = ResponseSpec::new(202).with_header("Server", &self.release);
        let _ = self.ua.respond(transaction, accepted, now);
        self.collect();
        self.event(Event::PagerMessageRelayed {
            originator: who.address.clone(),
            verified: who.verified,
            recipients: sent,
        });
    }

    /// The recipients, content type and content of a URI-list MESSAGE
    /// (RFC 5365 §4): the list part and the first other part.
    #[allow(clippy::type_complexity)]
    fn list_message(
        &self,
        msg: &SipMessage<'_>,
    ) -> Result<(Vec<String>, String, Vec<u8>), (u16, Option<&'static str>)> {
        let content_type = msg
            .content_type()
            .and_then(Result::ok)
            .map(|ct| ct.to_string())
            .ok_or((400, None))?;
        let layers = &self.config.limits.layers;
        let list = find_resource_lists(&content_type, msg.body(), &layers.mime)
            .map_err(|_| (400, None))?
            .ok_or((400, None))?;
        let max = self.config.limits.max_adhoc_participants;
        let xml_limits = XmlLimits {
            max_list_entries: max,
            ..layers.xml
        };
        let lists = ResourceLists::parse(list, &xml_limits).map_err(|e| match e.kind {
            crate::body::xml::XmlErrorKind::TooManyEntries { .. } => {
                (403, Some(TOO_MANY_RECIPIENTS))
            }
            _ => (400, None),
        })?;
        let recipients: Vec<String> = lists.entries().map(|e| e.uri.to_string()).collect();
        if recipients.is_empty() {
            return Err((400, None));
        }
        let multipart = Multipart::parse_content_type(msg.body(), &content_type, &layers.mime)
            .map_err(|_| (400, None))?;
        let part = multipart
            .parts
            .iter()
            .find(|p| !p.is_type("application", "resource-lists+xml"))
            .ok_or((400, None))?;
        let part_type = part
            .headers
            .get("Content-Type")
            .unwrap_or("text/plain")
            .trim()
            .to_owned();
        Ok((recipients, part_type, part.body.to_vec()))
    }
}
