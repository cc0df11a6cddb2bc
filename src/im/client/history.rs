//! The IM Client's side of the IM History Function (clause 13): asking it
//! to record an IM Session (a REFER whose `Refer-To` is the IM Session
//! Identity, 13.3.1.2; the outcome comes in the NOTIFYs of the REFER's
//! implicit subscription, RFC 3515) and retrieving stored history (an
//! INVITE with an `a=recvonly` SDP offer and the URI list of the history
//! references, 13.2.1.1; the items arrive over MSRP as
//! [`Event::MessageReceived`] with their original CPIM headers).

use std::time::Instant;

use crate::dialog::{DialogId, ServerTxId};
use crate::sip::{Method, SipMessage, SubState};
use crate::transaction::OwnedMessage;

use super::session::{Origin, RecordingRequest, State};
use super::{
    build, ClientError, DialogUse, Event, ImClient, ImSessionId, RecordingRequestId, TxUse,
};

impl ImClient {
    /// Asks the IM History Function at `history_function_uri` to record
    /// the established IM Session `session` (13.3.1.2): a REFER outside
    /// any dialog with `Refer-To: <IM Session Identity>` (the identity the
    /// Contact of the focus's 200 OK carried,
    /// [`session_identity`](Self::session_identity)), `Referred-By` the
    /// user, and the headers of every initial request (Accept-Contact,
    /// User-Agent, in IMS P-Preferred-Identity). A session whose peer is
    /// not a conference focus has no IM Session Identity to record:
    /// [`ClientError::NoSessionIdentity`].
    ///
    /// The REFER's final response comes as
    /// [`Event::RecordingRequestAnswered`]; each NOTIFY of its implicit
    /// subscription is answered 200 and reported as
    /// [`Event::RecordingRequestNotified`] with the status of its
    /// `message/sipfrag` (the History Function's INVITE to the session);
    /// `Subscription-State: terminated` ends the request.
    ///
    /// ```
    /// use std::time::Instant;
    /// use oma_im::im::client::{ClientConfig, ImClient, Input, Output};
    /// use oma_im::transaction::Transport;
    ///
    /// let proxy = "192.0.2.100:5060".parse().unwrap();
    /// let mut alice = ImClient::new(ClientConfig::new(
    ///     "sip:alice@example.com",
    ///     "sip:conference-factory@im.example.com",
    ///     "192.0.2.1:5060".parse().unwrap(),
    ///     proxy,
    /// ));
    /// let now = Instant::now();
    /// let session = alice.start_ad_hoc(&["sip:bob@example.com"], now)?;
    /// let Some(Output::Transmit(invite)) = alice.poll_output() else { panic!() };
    /// // The focus accepts: 200 OK with its IM Session Identity (isfocus).
    /// let invite = String::from_utf8(invite.bytes).unwrap();
    /// let line = |name: &str| invite.lines().find(|l| l.starts_with(name)).unwrap().to_owned();
    /// let sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.100\r\ns=-\r\nc=IN IP4 192.0.2.100\r\n\
    ///     t=0 0\r\nm=message 2855 TCP/MSRP *\r\na=accept-types:message/cpim\r\n\
    ///     a=path:msrp://192.0.2.100:2855/s1;tcp\r\n";
    /// let ok = format!(
    ///     "SIP/2.0 200 OK\r\n{}\r\n{}\r\n{};tag=f1\r\n{}\r\n{}\r\n\
    ///      Contact: <sip:conf-1@im.example.com>;isfocus\r\n\
    ///      Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
    ///     line("Via:"), line("From:"), line("To:"), line("Call-ID:"), line("CSeq:"), sdp.len());
    /// alice.handle_input(Input::Sip { bytes: ok.as_bytes(), source: proxy, transport: Transport::Udp }, now);
    /// while alice.poll_output().is_some() {}
    ///
    /// alice.request_recording(session, "sip:history@im.example.com", now)?;
    /// let refer = std::iter::from_fn(|| alice.poll_output())
    ///     .find_map(|o| match o {
    ///         Output::Transmit(t) if t.bytes.starts_with(b"REFER ") => Some(t.bytes),
    ///         _ => None,
    ///     })
    ///     .unwrap();
    /// let refer = String::from_utf8(refer).unwrap();
    /// assert!(refer.starts_with("REFER sip:history@im.example.com SIP/2.0\r\n"));
    /// assert!(refer.contains("\r\nRefer-To: <sip:conf-1@im.example.com>\r\n"));
    /// assert!(refer.contains("\r\nReferred-By: <sip:alice@example.com>\r\n"));
    /// # Ok::<(), oma_im::im::client::ClientError>(())
    /// ```
    pub fn request_recording(
        &mut self,
        session: ImSessionId,
        history_function_uri: &str,
        now: Instant,
    ) -> Result<RecordingRequestId, ClientError> {
        check_uri(history_function_uri)?;
        let s = self
            .sessions
            .get(&session)
            .ok_or(ClientError::UnknownSession)?;
        if s.state != State::Established {
            return Err(ClientError::WrongState);
        }
        let identity = s
            .identity
            .as_ref()
            .filter(|i| i.is_focus)
            .ok_or(ClientError::NoSessionIdentity)?;
        if self.recording_requests.len() >= self.config.limits.max_recording_requests {
            return Err(ClientError::TooManySessions);
        }
        let spec = build::initial_request(
            &self.config,
            &self.release,
            Method::Refer,
            history_function_uri,
        )
        .with_header("Refer-To", format!("<{}>", identity.uri))
        .with_header("Referred-By", format!("<{}>", self.config.im_address));
        let tx = self.ua.send_request(spec, now)?;
        let id = RecordingRequestId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        self.recording_requests.insert(
            id,
            RecordingRequest {
                refer: Some(tx),
                dialog: None,
                guard: None,
                terminated: false,
            },
        );
        self.client_txs.insert(tx, TxUse::Refer(id));
        self.pump(now);
        Ok(id)
    }

    /// Retrieves stored history from the IM History Function at
    /// `history_function_uri` (13.2.1.1): an INVITE whose
    /// `multipart/mixed` body holds an SDP offer with `a=recvonly` and an
    /// `application/resource-lists+xml` part (`Content-Disposition:
    /// recipient-list`) listing `references`. The History Function answers
    /// `a=sendonly`; each stored message arrives over MSRP as
    /// [`Event::MessageReceived`] with its original CPIM `From`, `To` and
    /// `DateTime`, and its BYE ends the session
    /// ([`Event::SessionEnded`] with [`EndReason::Remote`](super::EndReason::Remote)).
    /// The session only receives: [`send_message`](Self::send_message) on
    /// it fails with [`ClientError::ReceiveOnly`].
    ///
    /// ```
    /// use std::time::Instant;
    /// use oma_im::im::client::{ClientConfig, ImClient, Output};
    ///
    /// let mut alice = ImClient::new(ClientConfig::new(
    ///     "sip:alice@example.com",
    ///     "sip:conference-factory@im.example.com",
    ///     "192.0.2.1:5060".parse().unwrap(),
    ///     "192.0.2.100:5060".parse().unwrap(),
    /// ));
    /// let refs = ["sip:msg-1@history.example.com", "sip:msg-2@history.example.com"];
    /// alice.retrieve_history("sip:history@im.example.com", &refs, Instant::now())?;
    /// let Some(Output::Transmit(invite)) = alice.poll_output() else { panic!() };
    /// let text = String::from_utf8_lossy(&invite.bytes);
    /// assert!(text.starts_with("INVITE sip:history@im.example.com SIP/2.0\r\n"));
    /// assert!(text.contains("a=recvonly"));
    /// assert!(text.contains("Content-Disposition: recipient-list"));
    /// assert!(text.contains("<entry uri=\"sip:msg-2@history.example.com\""));
    /// # Ok::<(), oma_im::im::client::ClientError>(())
    /// ```
    pub fn retrieve_history(
        &mut self,
        history_function_uri: &str,
        references: &[&str],
        now: Instant,
    ) -> Result<ImSessionId, ClientError> {
        check_uri(history_function_uri)?;
        let max = self.config.limits.max_history_references;
        if references.is_empty() {
            return Err(ClientError::NoRecipient);
        }
        if references.len() > max {
            return Err(ClientError::TooManyReferences {
                references: references.len(),
                max,
            });
        }
        let references: Vec<String> = references.iter().map(|r| (*r).to_owned()).collect();
        self.invite(
            Origin::HistoryRetrieval,
            history_function_uri,
            &references,
            None,
            now,
        )
    }

    /// The final response to the REFER of `id`.
    pub(super) fn on_refer_response(
        &mut self,
        id: RecordingRequestId,
        dialog: Option<DialogId>,
        status: u16,
        now: Instant,
    ) {
        if status < 200 {
            return;
        }
        let guard = now + self.config.limits.refer_subscription_guard;
        let Some(r) = self.recording_requests.get_mut(&id) else {
            // Already over (a terminating NOTIFY overtook this 2xx): the
            // dialog the 2xx created has nothing left to carry.
            if let (Some(d), true) = (dialog, (200..300).contains(&status)) {
                let _ = self.ua.terminate_dialog(d);
            }
            return;
        };
        r.refer = None;
        // A 2xx from another peer than the one whose NOTIFY created the
        // request's dialog (a fork, or the History Function restarted in
        // between) creates a dialog the request does not use (RFC 6665
        // §4.5.2): it is ended at once, not left without a subscription.
        let ok = (200..300).contains(&status);
        let extra = dialog.filter(|d| ok && r.dialog.is_some_and(|own| own != *d));
        if let Some(d) = extra {
            let _ = self.ua.terminate_dialog(d);
        }
        let Some(r) = self.recording_requests.get_mut(&id) else {
            return;
        };
        if r.terminated {
            // The subscription already ended: the request ends here.
            self.event(Event::RecordingRequestAnswered {
                request: id,
                status,
            });
            self.forget_recording_request(id);
            return;
        }
        if ok {
            if r.dialog.is_none() {
                r.dialog = dialog;
            }
            r.guard = Some(guard);
            if let Some(d) = dialog.filter(|_| extra.is_none()) {
                self.dialogs.insert(d, DialogUse::Refer(id));
            }
        } else {
            // Refused: a dialog a NOTIFY created ends with the request.
            self.forget_recording_request(id);
        }
        self.event(Event::RecordingRequestAnswered {
            request: id,
            status,
        });
    }

    /// The recording request whose REFER's implicit subscription a NOTIFY
    /// in `dialog` belongs to, when that NOTIFY overtook the REFER's 2xx
    /// and created the dialog (RFC 6665 §4.1.2.4): bound to it.
    pub(super) fn bind_early_refer_dialog(
        &mut self,
        dialog: DialogId,
    ) -> Option<RecordingRequestId> {
        let (&id, r) = self.recording_requests.iter_mut().find(|(_, r)| {
            r.dialog.is_none()
                && r.refer
                    .is_some_and(|tx| self.ua.refer_dialog(tx) == Some(dialog))
        })?;
        r.dialog = Some(dialog);
        self.dialogs.insert(dialog, DialogUse::Refer(id));
        Some(id)
    }

    /// Ends `dialog` when nothing of the client uses it: no session's
    /// INVITE, no recording request, no subscription. Such is the dialog a
    /// NOTIFY of a REFER's implicit subscription creates when it comes from
    /// another peer than the 2xx the request already took (a fork, or the
    /// History Function restarted in between): answered 481, the
    /// subscription it would carry is refused (RFC 6665 §4.1.2.4, §4.5.2),
    /// and a dialog with no usage left ends with it.
    pub(super) fn end_unused_dialog(&mut self, dialog: DialogId) {
        let used = self.dialogs.contains_key(&dialog)
            || self
                .ua
                .dialog(dialog)
                .is_none_or(|d| d.invite_seq.is_some())
            || self
                .subscriptions
                .keys()
                .any(|s| self.ua.dialog_of_subscription(*s) == Some(dialog));
        if !used {
            let _ = self.ua.terminate_dialog(dialog);
        }
    }

    /// The REFER of `id` got no answer (408 reported). No subscription
    /// follows a failed REFER (RFC 3515 §2.4.4): a dialog that a NOTIFY of
    /// it created (RFC 6665 §4.1.2.4) ends with the request.
    pub(super) fn refer_timed_out(&mut self, id: RecordingRequestId) {
        if self.recording_requests.contains_key(&id) {
            self.forget_recording_request(id);
            self.event(Event::RecordingRequestAnswered {
                request: id,
                status: 408,
            });
        }
    }

    /// A NOTIFY of the implicit subscription of `id` (RFC 3515 §2.4.4):
    /// 200, the sipfrag status reported; `terminated` ends the request.
    pub(super) fn on_refer_notify(
        &mut self,
        id: RecordingRequestId,
        tx: ServerTxId,
        request: &OwnedMessage,
        now: Instant,
    ) {
        let spec = build::response(&self.config, &self.release, 200, false);
        let _ = self.ua.respond(tx, spec, now);
        let msg = request.message();
        let status = sipfrag_status(&msg);
        let terminated = msg
            .subscription_state()
            .and_then(Result::ok)
            .is_some_and(|s| s.state == SubState::Terminated);
        if terminated {
            match self.recording_requests.get_mut(&id) {
                // The NOTIFY overtook the REFER's final response: the request
                // ends when that arrives.
                Some(r) if r.refer.is_some() => r.terminated = true,
                _ => self.forget_recording_request(id),
            }
        }
        self.event(Event::RecordingRequestNotified {
            request: id,
            status,
            terminated,
        });
    }

    /// Forgets the requests whose guard passed without a terminating NOTIFY.
    pub(super) fn expire_recording_requests(&mut self, now: Instant) {
        let due: Vec<RecordingRequestId> = self
            .recording_requests
            .iter()
            .filter(|(_, r)| r.guard.is_some_and(|g| g <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.forget_recording_request(id);
            self.event(Event::RecordingRequestTimedOut { request: id });
        }
    }

    /// Removes request `id` and ends its subscription dialog.
    fn forget_recording_request(&mut self, id: RecordingRequestId) {
        if let Some(r) = self.recording_requests.remove(&id) {
            if let Some(d) = r.dialog {
                self.dialogs.remove(&d);
                let _ = self.ua.terminate_dialog(d);
            }
            // A REFER still in flight keeps its transaction entry: its final
            // response may yet create a dialog, which is then ended.
        }
    }
}

/// A URI that can be written in a header or a Request-URI.
pub(super) fn check_uri(uri: &str) -> Result<(), ClientError> {
    if uri.is_empty() || uri.contains(['\r', '\n', '<', '>']) {
        Err(ClientError::InvalidUri)
    } else {
        Ok(())
    }
}

/// The status code of a `message/sipfrag` body's status line (RFC 3420),
/// e.g. `SIP/2.0 200 OK`.
pub(super) fn sipfrag_status(msg: &SipMessage<'_>) -> Option<u16> {
    let body = msg.body();
    let line_end = memchr::memchr(b'\r', body)
        .or_else(|| memchr::memchr(b'\n', body))
        .unwrap_or(body.len());
    let line = std::str::from_utf8(body.get(..line_end)?).ok()?;
    let mut parts = line.split(' ');
    if parts.next()? != "SIP/2.0" {
        return None;
    }
    let code = parts.next()?;
    if code.len() != 3 {
        return None;
    }
    code.parse().ok()
}
