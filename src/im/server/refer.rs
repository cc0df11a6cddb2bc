//! Adding and removing Participants by REFER (RFC 4579 §5.5 and §5.6, OMA
//! "adding participants to an IM session"): a Participant REFERs the IM
//! Session Identity in its dialog with the focus, `Refer-To: <user>` to
//! have the user invited, `Refer-To: <user;method=BYE>` to have a
//! Participant removed. The server answers 202 and reports the outcome in
//! `message/sipfrag` NOTIFYs of the REFER's implicit subscription, in the
//! same dialog (RFC 3515), each with `Event: refer;id=<CSeq of the REFER>`.

use std::time::Instant;

use crate::dialog::{DialogId, DialogRequestSpec, ServerTxId};
use crate::sip::{Method, SipMessage};

use super::config::{ReferAddPolicy, ReferRemovePolicy};
use super::headers::{uri_key, TOO_MANY_PARTICIPANTS};
use super::session::{Referral, State};
use super::signalling::sipfrag;
use super::{ImServer, LeaveReason, ParticipantId, SessionId};

/// What a `Refer-To` asks.
struct Request {
    /// The user's URI, without the `method` parameter or headers.
    target: String,
    /// `method=BYE`: remove rather than add.
    remove: bool,
}

/// Reads a `Refer-To` URI: the `method` URI parameter (RFC 3261 §19.1.1)
/// chooses removal (`BYE`) or addition (absent or `INVITE`); any other
/// method is not offered.
fn read_refer_to(uri: &str) -> Option<Request> {
    let uri = uri.split('?').next()?;
    let mut parts = uri.split(';');
    let base = parts.next()?.trim();
    let mut target = base.to_owned();
    let mut remove = false;
    for param in parts {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        if name.trim().eq_ignore_ascii_case("method") {
            match value.trim() {
                v if v.eq_ignore_ascii_case("BYE") => remove = true,
                v if v.eq_ignore_ascii_case("INVITE") => {}
                _ => return None,
            }
        } else {
            target.push(';');
            target.push_str(param);
        }
    }
    if !base.starts_with("sip:") && !base.starts_with("sips:") && !base.starts_with("tel:") {
        return None;
    }
    Some(Request { target, remove })
}

impl ImServer {
    /// A REFER in a Participant's dialog: authorized under
    /// [`AccessPolicy::refer_add`](super::AccessPolicy::refer_add) or
    /// [`AccessPolicy::refer_remove`](super::AccessPolicy::refer_remove)
    /// (403 otherwise), 400 without a readable `Refer-To`, 501 for a
    /// method other than INVITE or BYE, 404 to remove someone not in the
    /// session, 486 over the Participant maximum, 491 while the user is
    /// being invited already.
    pub(super) fn on_refer(
        &mut self,
        transaction: ServerTxId,
        dialog: DialogId,
        session: SessionId,
        referrer: ParticipantId,
        msg: &SipMessage<'_>,
        now: Instant,
    ) {
        let Some(Ok(refer_to)) = msg.refer_to() else {
            return self.reject(transaction, 400, None, now);
        };
        let Some(request) = read_refer_to(&refer_to.uri.to_string()) else {
            return self.reject(transaction, 501, None, now);
        };
        let Some(id) = msg.cseq().and_then(Result::ok).map(|c| c.seq) else {
            return self.reject(transaction, 400, None, now);
        };
        let Some(s) = self.sessions.get(&session) else {
            return self.reject(transaction, 481, None, now);
        };
        // A recording leg only listens: it adds and removes nobody.
        let Some(me) = s
            .participant(referrer)
            .filter(|p| p.state == State::Joined && !p.recorder)
        else {
            return self.reject(transaction, 403, None, now);
        };
        let is_inviter = s.inviter == Some(referrer);
        let referrer_address = (me.address.clone(), me.anonymous);
        let key = uri_key(&request.target);
        let own = uri_key(&me.address) == key;
        let existing = s
            .participants
            .iter()
            .rev()
            .find(|p| p.is_alive() && !p.recorder && uri_key(&p.address) == key)
            .map(|p| (p.id, p.state));
        let full = s.alive() >= self.config.limits.max_participants;
        let referral = Referral { dialog, id };
        if request.remove {
            let allowed = match self.config.access.refer_remove {
                ReferRemovePolicy::OnlySelf => own,
                ReferRemovePolicy::Inviter => own || is_inviter,
                ReferRemovePolicy::Participants => true,
                ReferRemovePolicy::Nobody => false,
            };
            if !allowed {
                return self.reject(transaction, 403, None, now);
            }
            let Some((target, State::Joined)) = existing else {
                return self.reject(transaction, 404, None, now);
            };
            self.accept_refer(transaction, session, now);
            // The outcome first: removing the referrer itself ends the
            // dialog the NOTIFY goes in.
            self.referral_outcome(Some(referral), 200, now);
            return self.remove_participant(session, target, LeaveReason::Removed, now);
        }
        let allowed = match self.config.access.refer_add {
            ReferAddPolicy::Participants => true,
            ReferAddPolicy::Inviter => is_inviter,
            ReferAddPolicy::Nobody => false,
        };
        if !allowed {
            return self.reject(transaction, 403, None, now);
        }
        match existing {
            Some((_, State::Joined)) => {
                // Already in: nothing to do, and so reported.
                self.accept_refer(transaction, session, now);
                return self.referral_outcome(Some(referral), 200, now);
            }
            Some(_) => return self.reject(transaction, 491, None, now),
            None => {}
        }
        if full {
            return self.reject(transaction, 486, Some(TOO_MANY_PARTICIPANTS), now);
        }
        // The invitee it adds is counted with room for its answer.
        if !self.session_room(msg.size()) {
            return self.reject(transaction, 503, None, now);
        }
        self.accept_refer(transaction, session, now);
        let trying = DialogRequestSpec::new(Method::Notify)
            .with_header("Event", format!("refer;id={id}"))
            .with_header("Subscription-State", "active;expires=180")
            .with_body("message/sipfrag", sipfrag(100));
        let _ = self.ua.send_in_dialog(dialog, trying, now);
        self.collect();
        self.invite_as(
            session,
            &request.target,
            Some(referrer_address),
            Some(referral),
            now,
        );
    }

    /// 202 to a REFER (RFC 3515 §2.4.2).
    fn accept_refer(&mut self, transaction: ServerTxId, session: SessionId, now: Instant) {
        let spec = self.focus_response(session, 202);
        let _ = self.ua.respond(transaction, spec, now);
        self.collect();
    }
}

#[cfg(test)]
mod tests {
    use super::read_refer_to;

    #[test]
    fn refer_to_reads_the_method_parameter() {
        let r = read_refer_to("sip:dave@example.com").unwrap();
        assert_eq!(
            (r.target.as_str(), r.remove),
            ("sip:dave@example.com", false)
        );
        let r = read_refer_to("sip:dave@example.com;method=BYE").unwrap();
        assert_eq!(
            (r.target.as_str(), r.remove),
            ("sip:dave@example.com", true)
        );
        let r = read_refer_to("sip:dave@example.com;transport=tcp;method=INVITE").unwrap();
        assert_eq!(
            (r.target.as_str(), r.remove),
            ("sip:dave@example.com;transport=tcp", false)
        );
        assert!(read_refer_to("sip:dave@example.com;method=MESSAGE").is_none());
        assert!(read_refer_to("http://example.com").is_none());
    }
}
