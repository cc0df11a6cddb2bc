//! Asking the focus to add users to a conference, or to remove one, by
//! REFER (RFC 4579 §5.5 and §5.6; OMA "adding participants to an IM
//! session"): a REFER in the session's dialog with `Refer-To: <user>`
//! (`<user;method=BYE>` to remove), whose outcome comes in `message/sipfrag`
//! NOTIFYs in the same dialog (RFC 3515), told apart by the `id` of their
//! `Event: refer;id=<CSeq of the REFER>`.

use std::time::Instant;

use crate::dialog::{ClientTxId, DialogRequestSpec, ServerTxId};
use crate::sip::{Method, SubState};
use crate::transaction::OwnedMessage;

use super::history::check_uri;
use super::session::{Referral, State};
use super::{build, ClientError, Event, ImClient, ImSessionId, TxUse};

impl ImClient {
    /// Asks the focus of conference `session` to invite each of `users`
    /// (RFC 4579 §5.5): one REFER per user in the session's dialog, each
    /// reported by [`Event::ReferralProgress`] — the REFER's failure
    /// response, or the status of each `message/sipfrag` NOTIFY (the
    /// focus's INVITE to the user: `100` while it runs, then its final
    /// status, `done`).
    ///
    /// Fails with [`ClientError::WrongState`] unless the session is an
    /// established conference (its peer is a focus), and with
    /// [`ClientError::TooManyInvited`] when more additions would be
    /// waiting than MAX-ADHOC-GROUP-SIZE.
    ///
    /// ```
    /// use std::time::Instant;
    /// use oma_im::im::client::{ClientConfig, ClientError, ImClient};
    ///
    /// let mut alice = ImClient::new(ClientConfig::new(
    ///     "sip:alice@example.com",
    ///     "sip:conference-factory@im.example.com",
    ///     "192.0.2.1:5060".parse().unwrap(),
    ///     "192.0.2.100:5060".parse().unwrap(),
    /// ));
    /// let now = Instant::now();
    /// let session = alice.start_ad_hoc(&["sip:bob@example.com"], now)?;
    /// // Not established yet: nothing to REFER in.
    /// assert_eq!(
    ///     alice.add_participants(session, &["sip:dave@example.com"], now),
    ///     Err(ClientError::WrongState)
    /// );
    /// # Ok::<(), ClientError>(())
    /// ```
    pub fn add_participants(
        &mut self,
        session: ImSessionId,
        users: &[&str],
        now: Instant,
    ) -> Result<(), ClientError> {
        if users.is_empty() {
            return Err(ClientError::NoRecipient);
        }
        for user in users {
            check_uri(user)?;
        }
        let waiting = self.conference_dialog(session)?.1;
        let max = self.config.max_adhoc_group_size;
        if waiting.saturating_add(users.len()) > max {
            return Err(ClientError::TooManyInvited {
                invited: waiting.saturating_add(users.len()),
                max,
            });
        }
        for user in users {
            self.refer(session, user, false, now)?;
        }
        Ok(())
    }

    /// Asks the focus of conference `session` to remove `user` (RFC 4579
    /// §5.6: `Refer-To: <user;method=BYE>`); the user itself, to leave
    /// through the focus, or another Participant where the focus's policy
    /// allows it. Reported as for
    /// [`add_participants`](Self::add_participants), with `remove` set.
    pub fn remove_participant(
        &mut self,
        session: ImSessionId,
        user: &str,
        now: Instant,
    ) -> Result<(), ClientError> {
        check_uri(user)?;
        let waiting = self.conference_dialog(session)?.1;
        let max = self.config.max_adhoc_group_size;
        if waiting >= max {
            return Err(ClientError::TooManyInvited {
                invited: waiting.saturating_add(1),
                max,
            });
        }
        self.refer(session, user, true, now)
    }

    /// The dialog of an established conference and how many referrals
    /// wait in it.
    fn conference_dialog(
        &self,
        session: ImSessionId,
    ) -> Result<(crate::dialog::DialogId, usize), ClientError> {
        let s = self
            .sessions
            .get(&session)
            .ok_or(ClientError::UnknownSession)?;
        let focus = s.identity.as_ref().is_some_and(|i| i.is_focus);
        match (s.state, s.dialog) {
            (State::Established, Some(d)) if focus => Ok((d, s.referrals.len())),
            _ => Err(ClientError::WrongState),
        }
    }

    fn refer(
        &mut self,
        session: ImSessionId,
        user: &str,
        remove: bool,
        now: Instant,
    ) -> Result<(), ClientError> {
        let (dialog, _) = self.conference_dialog(session)?;
        let refer_to = if remove {
            format!("<{user};method=BYE>")
        } else {
            format!("<{user}>")
        };
        let spec = DialogRequestSpec::new(Method::Refer)
            .with_header("Refer-To", &refer_to)
            .with_header("Referred-By", format!("<{}>", self.config.im_address));
        let tx = self.ua.send_in_dialog(dialog, spec, now)?;
        let id = self
            .ua
            .client_request(tx)
            .and_then(|r| r.message().cseq().and_then(Result::ok).map(|c| c.seq))
            .unwrap_or(0);
        if let Some(s) = self.sessions.get_mut(&session) {
            s.referrals.push(Referral {
                id,
                user: user.to_owned(),
                remove,
                refer: Some(tx),
            });
        }
        self.client_txs.insert(tx, TxUse::Referral(session));
        self.pump(now);
        Ok(())
    }

    /// The final response to a referral's REFER: a failure ends it.
    pub(super) fn on_referral_response(
        &mut self,
        session: ImSessionId,
        tx: ClientTxId,
        status: u16,
    ) {
        if status < 200 {
            return;
        }
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        let Some(index) = s.referrals.iter().position(|r| r.refer == Some(tx)) else {
            return;
        };
        if (200..300).contains(&status) {
            s.referrals[index].refer = None;
            return;
        }
        let r = s.referrals.remove(index);
        self.event(Event::ReferralProgress {
            session,
            user: r.user,
            remove: r.remove,
            status,
            done: true,
        });
    }

    /// A NOTIFY in the session's dialog (RFC 3515 §2.4.4): answered 200,
    /// its sipfrag status reported for the referral its `id` names;
    /// `terminated` ends that referral. 481 for another event package.
    pub(super) fn on_referral_notify(
        &mut self,
        session: ImSessionId,
        tx: ServerTxId,
        request: &OwnedMessage,
        now: Instant,
    ) {
        let msg = request.message();
        let event = msg.event().and_then(Result::ok);
        let is_refer = event
            .as_ref()
            .is_some_and(|e| e.event_type.eq_ignore_ascii_case("refer"));
        let id = event
            .as_ref()
            .and_then(|e| e.id())
            .and_then(|id| id.parse::<u32>().ok());
        let index = self.sessions.get(&session).and_then(|s| {
            s.referrals
                .iter()
                .position(|r| id.is_none_or(|id| r.id == id))
        });
        let (true, Some(index)) = (is_refer, index) else {
            let _ = self
                .ua
                .respond(tx, crate::dialog::ResponseSpec::new(481), now);
            return;
        };
        let spec = build::response(&self.config, &self.release, 200, false);
        let _ = self.ua.respond(tx, spec, now);
        let status = super::history::sipfrag_status(&msg).unwrap_or(0);
        let done = msg
            .subscription_state()
            .and_then(Result::ok)
            .is_some_and(|s| s.state == SubState::Terminated);
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        let Some((user, remove)) = s.referrals.get(index).map(|r| (r.user.clone(), r.remove))
        else {
            return;
        };
        if done {
            s.referrals.remove(index);
        }
        self.event(Event::ReferralProgress {
            session,
            user,
            remove,
            status,
            done,
        });
    }
}
