//! Messages from the network: requests (§8.2, §12.2.2, §9.2, §13.3) and
//! responses (§8.1.3, §12.1.2, §13.2.2).

use std::net::SocketAddr;
use std::time::Instant;

use super::{
    outgoing, CancelState, ClientTxId, DropReason, Event, Routing, ServerEntry, ServerTxId,
    TerminationReason, UaError, UserAgent,
};
use crate::dialog::state::is_target_refresh;
use crate::dialog::{Dialog, DialogId, DialogState};
use crate::sip::{SipError, SipMessage};
use crate::transaction::{
    check_request, check_request_head, response_destination, stateless_answer, ClientKey,
    OwnedMessage, Rejection, ServerKey, ServerState, ServerTransaction, Transmit, Transport,
};

use super::{InviteSetKey, MergeKey, ResponseSpec};

/// The merge key of a request received outside a dialog (§8.2.2.2).
fn merge_key(request: &SipMessage<'_>) -> Option<MergeKey> {
    let call_id = request.call_id()?.ok()?.id.to_owned();
    let from_tag = request.from()?.ok()?.tag()?.to_owned();
    let cseq = request.cseq()?.ok()?;
    Some((call_id, from_tag, cseq.seq, cseq.method.to_string()))
}

impl UserAgent {
    /// A datagram the parser rejected: answered statelessly if it is a
    /// request (400/505), else dropped.
    pub(super) fn on_unparsable(
        &mut self,
        bytes: &[u8],
        error: SipError,
        source: SocketAddr,
        transport: Transport,
    ) {
        match stateless_answer(bytes, &error) {
            Some(answer) => {
                let rejection = Rejection::of_error(&error);
                self.transmit(Transmit {
                    destination: source,
                    transport,
                    bytes: answer,
                });
                self.event(Event::StatelessAnswerSent {
                    status: rejection.status,
                    reason: rejection.reason,
                    destination: source,
                });
            }
            None => self.event(Event::MessageDropped {
                source,
                reason: DropReason::Malformed(error),
            }),
        }
    }

    pub(super) fn on_message(
        &mut self,
        message: &SipMessage<'_>,
        owned: impl FnOnce() -> OwnedMessage,
        source: SocketAddr,
        transport: Transport,
        now: Instant,
    ) {
        if message.is_request() {
            self.on_request(message, owned, source, transport, now);
        } else {
            self.on_response(message, owned, source, now);
        }
    }

    /// Answers `request` without a transaction.
    fn reject(
        &mut self,
        request: &SipMessage<'_>,
        rejection: Rejection,
        source: SocketAddr,
        transport: Transport,
    ) {
        let to_tag = self.rng.token(10);
        let bytes = crate::transaction::reject_bytes(request, &rejection, &to_tag, source);
        let destination = response_destination(request, source, transport);
        self.transmit(Transmit {
            destination,
            transport,
            bytes,
        });
        self.event(Event::StatelessAnswerSent {
            status: rejection.status,
            reason: rejection.reason,
            destination,
        });
    }

    fn on_request(
        &mut self,
        request: &SipMessage<'_>,
        owned: impl FnOnce() -> OwnedMessage,
        source: SocketAddr,
        transport: Transport,
        now: Instant,
    ) {
        let method = request.method().unwrap_or_default();
        let key = match ServerKey::of_request(request) {
            Ok(key) => key,
            Err(error) if method != "ACK" => {
                return self.reject(request, Rejection::of_error(&error), source, transport)
            }
            Err(error) => {
                return self.event(Event::MessageDropped {
                    source,
                    reason: DropReason::Malformed(error),
                })
            }
        };
        // A retransmission, or the ACK of a non-2xx final response.
        if let Some(&id) = self.server_keys.get(&key) {
            if let Some(entry) = self.servers.get_mut(&id) {
                entry.tx.handle_request(request, now);
            }
            return self.drive_server(id);
        }
        if method == "ACK" {
            return self.on_2xx_ack(request, owned, source);
        }
        // A retransmitted INVITE whose 2xx the UAS core is retransmitting.
        if let Some(&dialog) = self.accepted.get(&key) {
            if let Some(p) = self
                .dialogs
                .get(&dialog)
                .and_then(|e| e.pending_2xx.as_ref())
            {
                let transmit = p.transmit.clone();
                self.transmit(transmit);
            }
            return;
        }
        // §8.2: with a core that screens Request-URIs, an out-of-dialog
        // request's extensions and body are checked once the core has
        // accepted its Request-URI (`UserAgent::check_extensions`).
        let checked = if self.config.core_screens_request_uri
            && crate::dialog::state::request_outside_dialog(request)
        {
            check_request_head(request, &self.config.capabilities)
        } else {
            check_request(request, &self.config.capabilities)
        };
        if let Err(rejection) = checked {
            return self.reject(request, rejection, source, transport);
        }
        // Room for the request and its response in the byte budget.
        let held = self
            .held
            .saturating_add(request.size().saturating_mul(3))
            .saturating_add(std::mem::size_of::<ServerEntry>());
        if self.servers.len() >= self.config.limits.max_transactions
            || held > self.config.limits.max_held_bytes
        {
            let busy = Rejection {
                status: 503,
                reason: "Service Unavailable".to_owned(),
                header: Some(("Retry-After", "5".to_owned())),
            };
            return self.reject(request, busy, source, transport);
        }
        if let Some(min_se) = self.session_too_brief(request) {
            let id = self.new_server(owned(), request, key, None, source, transport, now);
            return self.reject_too_brief(id, 422, ("Min-SE", min_se), now);
        }
        if let Some(min) = self.subscription_too_brief(request) {
            let id = self.new_server(owned(), request, key, None, source, transport, now);
            return self.reject_too_brief(id, 423, ("Min-Expires", min), now);
        }
        let to_tag = request
            .to()
            .and_then(Result::ok)
            .and_then(|to| to.tag().map(str::to_owned));
        if method == "CANCEL" {
            let id = self.new_server(owned(), request, key, None, source, transport, now);
            return self.on_cancel(request, id, now);
        }
        let Some(to_tag) = to_tag else {
            // §8.2.2.2: the same request (Call-ID, From tag, CSeq) on
            // another transaction is merged: 482. An INVITE naming a dialog
            // this UA holds with that peer, from that very INVITE or an
            // earlier one, is a stale copy of it: 482 too, never a second
            // call.
            let merge = merge_key(request);
            let merged = merge
                .as_ref()
                .is_some_and(|m| self.merge_keys.contains_key(m) || self.stale_invite(m));
            let id = self.new_server(owned(), request, key, None, source, transport, now);
            if merged {
                return self.respond_internal(id, 482, now);
            }
            if let (Some(m), Some(entry)) = (merge, self.servers.get_mut(&id)) {
                entry.merge_key = Some(m.clone());
                self.merge_keys.insert(m, id);
            }
            let request = self.servers.get(&id).map(|e| e.tx.request().clone());
            if let Some(request) = request {
                self.event(Event::RequestReceived {
                    transaction: id,
                    dialog: None,
                    request,
                });
            }
            return;
        };
        // A request inside a dialog (§12.2.2).
        let dialog = match self.request_dialog(request, &to_tag) {
            Some(d) => Some(d),
            None => self.dialog_from_notify(request, &to_tag),
        };
        let Some(dialog) = dialog else {
            let id = self.new_server(owned(), request, key, None, source, transport, now);
            return self.respond_internal(id, 481, now);
        };
        let seq = request.cseq().and_then(Result::ok).map_or(0, |c| c.seq);
        let out_of_order = self
            .dialogs
            .get(&dialog)
            .and_then(|e| e.dialog.remote_seq)
            .is_some_and(|remote| seq < remote);
        let id = self.new_server(owned(), request, key, Some(dialog), source, transport, now);
        if out_of_order {
            return self.respond_internal(id, 500, now);
        }
        // The CSeq changes no size: the dialog is counted again only when
        // its remote target changed.
        let retargeted = self.dialogs.get_mut(&dialog).is_some_and(|entry| {
            entry.dialog.remote_seq = Some(seq);
            is_target_refresh(method) && entry.dialog.refresh_target(request)
        });
        if retargeted {
            self.recount_dialog(dialog);
        }
        self.debug_check_counted(dialog);
        if self.subscription_request(dialog, id, request, now) {
            return;
        }
        let request = self.servers.get(&id).map(|e| e.tx.request().clone());
        if let Some(request) = request {
            self.event(Event::RequestReceived {
                transaction: id,
                dialog: Some(dialog),
                request,
            });
        }
        if method == "BYE" {
            // §15.1.2: the UAS core answers BYE itself and ends the dialog.
            self.respond_internal(id, 200, now);
            self.remove_dialog(dialog, TerminationReason::ByeReceived);
        }
    }

    /// The ACK of a 2xx: ends the 2xx retransmission of its dialog.
    fn on_2xx_ack(
        &mut self,
        request: &SipMessage<'_>,
        owned: impl FnOnce() -> OwnedMessage,
        source: SocketAddr,
    ) {
        let to_tag = request
            .to()
            .and_then(Result::ok)
            .and_then(|to| to.tag().map(str::to_owned));
        let dialog = to_tag.and_then(|tag| self.request_dialog(request, &tag));
        match dialog.and_then(|d| self.dialogs.get_mut(&d).map(|e| (d, e))) {
            Some((dialog, entry)) => {
                entry.pending_2xx = None;
                self.recount_dialog(dialog);
                self.event(Event::AckReceived {
                    dialog,
                    request: owned(),
                });
                self.cleanup();
            }
            None => self.event(Event::MessageDropped {
                source,
                reason: DropReason::NoMatch,
            }),
        }
    }

    /// CANCEL (§9.2): 200 and 487 for a pending INVITE, else 481.
    fn on_cancel(&mut self, cancel: &SipMessage<'_>, id: ServerTxId, now: Instant) {
        let invite = ServerKey::of_cancelled_invite(cancel)
            .ok()
            .and_then(|k| self.server_keys.get(&k).copied())
            .filter(|i| {
                self.servers
                    .get(i)
                    .is_some_and(|e| e.tx.is_invite() && e.tx.state() == ServerState::Proceeding)
            });
        match invite {
            Some(invite) => {
                self.respond_internal(id, 200, now);
                self.respond_internal(invite, 487, now);
                self.event(Event::RequestCancelled {
                    transaction: invite,
                });
            }
            None => self.respond_internal(id, 481, now),
        }
    }

    /// Whether an INVITE outside any dialog with merge key `m` names a
    /// dialog this UA holds with the sender (same Call-ID, the From tag as
    /// its remote tag) whose remote CSeq is not below the request's.
    fn stale_invite(&self, m: &MergeKey) -> bool {
        let (call_id, from_tag, seq, method) = m;
        if method != "INVITE" {
            return false;
        }
        let dialogs = &self.dialogs;
        self.index
            .find_remote(call_id, from_tag, |d| {
                dialogs.get(&d).map(|e| e.dialog.ids())
            })
            .and_then(|d| self.dialogs.get(&d))
            .and_then(|e| e.dialog.remote_seq)
            .is_some_and(|remote| *seq <= remote)
    }

    fn respond_internal(&mut self, id: ServerTxId, status: u16, now: Instant) {
        // The transaction was created or checked pending just before.
        let _ = self.respond(id, ResponseSpec::new(status), now);
    }

    #[allow(clippy::too_many_arguments)]
    fn new_server(
        &mut self,
        request: OwnedMessage,
        parsed: &SipMessage<'_>,
        key: ServerKey,
        dialog: Option<DialogId>,
        source: SocketAddr,
        transport: Transport,
        now: Instant,
    ) -> ServerTxId {
        let id = ServerTxId(self.fresh_id());
        let to_tag = parsed
            .to()
            .and_then(Result::ok)
            .and_then(|to| to.tag().map(str::to_owned))
            .unwrap_or_else(|| self.rng.token(10));
        let tx = ServerTransaction::from_parsed(
            request,
            parsed,
            source,
            transport,
            self.config.timers,
            now,
        );
        self.server_keys.insert(key.clone(), id);
        self.servers.insert(
            id,
            ServerEntry {
                tx,
                key,
                dialog,
                to_tag,
                scheduled: None,
                merge_key: None,
                held: 0,
            },
        );
        self.drive_server(id);
        id
    }

    fn on_response(
        &mut self,
        response: &SipMessage<'_>,
        owned: impl FnOnce() -> OwnedMessage,
        source: SocketAddr,
        now: Instant,
    ) {
        // §8.1.3.3: a response with more than one Via is not for us.
        if response.via().count() != 1 {
            return self.event(Event::MessageDropped {
                source,
                reason: DropReason::NotForUs,
            });
        }
        let key = match ClientKey::of_response(response) {
            Ok(key) => key,
            Err(error) => {
                return self.event(Event::MessageDropped {
                    source,
                    reason: DropReason::Malformed(error),
                })
            }
        };
        let Some(&id) = self.client_keys.get(&key) else {
            let code = response.status_code().unwrap_or(0);
            if (200..300).contains(&code) && key.method() == "INVITE" {
                return self.on_stray_2xx(response, source, now);
            }
            return self.event(Event::MessageDropped {
                source,
                reason: DropReason::NoMatch,
            });
        };
        let pass = self
            .clients
            .get_mut(&id)
            .is_some_and(|e| e.tx.handle_response(response, now));
        if pass {
            self.response_up(id, response, owned(), now);
        }
        self.drive_client(id, now);
    }

    /// A response the transaction passes up: dialog effects, then the event.
    fn response_up(
        &mut self,
        id: ClientTxId,
        response: &SipMessage<'_>,
        owned: OwnedMessage,
        now: Instant,
    ) {
        let Some(entry) = self.clients.get(&id) else {
            return;
        };
        let code = response.status_code().unwrap_or(0);
        // The method, as far as the code below tells methods apart (any
        // other is "", which none of its comparisons names).
        let method = match entry.key.method() {
            "INVITE" => "INVITE",
            "UPDATE" => "UPDATE",
            "SUBSCRIBE" => "SUBSCRIBE",
            "NOTIFY" => "NOTIFY",
            "REFER" => "REFER",
            "BYE" => "BYE",
            _ => "",
        };
        let internal = entry.internal;
        let invite_set = entry.invite_set.clone();
        let mut dialog = entry.dialog;
        let cancel = entry.cancel;
        if method == "INVITE" && code < 200 && cancel == CancelState::Pending {
            self.send_cancel(id, now);
        }
        let subscription = self.subscription_txs.get(&id).copied();
        if let Some(sub) = subscription.filter(|_| code >= 300) {
            self.subscription_txs.remove(&id);
            self.on_subscription_answer(sub, dialog, code, Some(response), now);
        }
        let mut retry_422 = None;
        if let Some(set_key) = invite_set {
            dialog = self.invite_response(&set_key, response, code, now);
            if let (Some(d), true) = (dialog, (200..300).contains(&code)) {
                let sent = self.invite_sets.get(&set_key).and_then(|s| {
                    let (spec, _, min_se) = s.session.as_ref()?;
                    let body = spec.content_type.clone().map(|ct| (ct, spec.body.clone()));
                    Some((*min_se, body))
                });
                if let Some((min_se, body)) = sent {
                    self.session_uac_answer(d, response, min_se, body, now);
                }
            } else if code == 422 {
                retry_422 = Some(set_key);
            }
        } else if dialog.is_none()
            && matches!(method, "SUBSCRIBE" | "REFER")
            && (200..300).contains(&code)
        {
            // A 2xx to a SUBSCRIBE whose subscription already ended (an
            // early NOTIFY created its dialog and a terminating one ended
            // it, RFC 6665 §4.1.2.4) creates no dialog: nothing would use
            // or end it.
            let gone = method == "SUBSCRIBE"
                && subscription.is_some_and(|s| !self.subscriptions.contains_key(&s));
            if !gone {
                dialog = self.subscription_dialog(id, response);
            }
        } else if let Some(d) = dialog.filter(|d| code >= 300 && self.is_session_refresh(*d, id)) {
            self.on_refresh_failed(d, code, Some(response), now);
        } else if let Some(d) = dialog {
            if (200..300).contains(&code) && matches!(method, "INVITE" | "UPDATE") {
                let min_se = self
                    .dialogs
                    .get(&d)
                    .and_then(|e| e.session.as_ref())
                    .map_or(0, |s| s.min_se);
                self.session_uac_answer(d, response, min_se, None, now);
            }
            if (200..300).contains(&code) && is_target_refresh(method) {
                let retargeted = self
                    .dialogs
                    .get_mut(&d)
                    .is_some_and(|e| e.dialog.refresh_target(response));
                if retargeted {
                    self.recount_dialog(d);
                }
            }
            if method == "INVITE" && (200..300).contains(&code) {
                self.send_ack(d, response);
            }
            if method == "BYE" && code >= 200 {
                let reason = self
                    .dialogs
                    .get(&d)
                    .and_then(|e| e.bye_reason)
                    .unwrap_or(TerminationReason::ByeSent);
                self.remove_dialog(d, reason);
            } else if code == 481 || code == 408 {
                self.remove_dialog(d, TerminationReason::RequestFailed(code));
            }
        }
        if !internal {
            self.event(Event::ResponseReceived {
                transaction: id,
                dialog,
                response: owned,
            });
        }
        if let Some(sub) = subscription.filter(|_| (200..300).contains(&code)) {
            self.subscription_txs.remove(&id);
            self.on_subscription_answer(sub, dialog, code, Some(response), now);
        }
        if let Some(set_key) = retry_422 {
            self.retry_invite(id, &set_key, response, now);
        }
    }

    /// A response to an out-of-dialog INVITE: early dialogs, the confirmed
    /// dialog and its ACK, early dialogs ended by a final response.
    fn invite_response(
        &mut self,
        set_key: &InviteSetKey,
        response: &SipMessage<'_>,
        code: u16,
        now: Instant,
    ) -> Option<DialogId> {
        let to_tag = response
            .to()
            .and_then(Result::ok)
            .and_then(|t| t.tag().map(str::to_owned));
        if code >= 300 {
            let early: Vec<DialogId> = self
                .invite_sets
                .get(set_key)
                .map(|s| s.dialogs.to_vec())
                .unwrap_or_default();
            for d in early {
                self.remove_dialog(d, TerminationReason::FinalResponse(code));
            }
            return None;
        }
        let to_tag = to_tag?;
        if code == 100 {
            return None;
        }
        let existing = self.find_dialog(set_key.call_id(), set_key.local_tag(), &to_tag);
        let dialog = match existing {
            Some(d) => {
                let max = self.config.limits.max_route_set;
                let mut established = false;
                if let Some(e) = self.dialogs.get_mut(&d) {
                    if code >= 200 && e.dialog.state == DialogState::Early {
                        e.dialog.confirm_with(response, max);
                        established = true;
                    } else {
                        let _ = e.dialog.refresh_target(response);
                    }
                }
                self.recount_dialog(d);
                if established {
                    self.event(Event::DialogEstablished { dialog: d });
                }
                d
            }
            None => {
                if !self.dialog_room() {
                    return None;
                }
                let id = self.new_dialog_id()?;
                let d = Dialog::from_response(
                    id,
                    &self.invite_sets.get(set_key)?.request.message(),
                    response,
                    self.config.limits.max_route_set,
                )?;
                let confirmed = d.state == DialogState::Confirmed;
                self.insert_dialog(d, Some(set_key.clone()));
                self.event(if confirmed {
                    Event::DialogEstablished { dialog: id }
                } else {
                    Event::DialogEarly { dialog: id }
                });
                id
            }
        };
        if code >= 200 {
            self.send_ack(dialog, response);
            // The first 2xx wins; the other forks' early dialogs end.
            let mut first = false;
            let others: Vec<DialogId> = match self.invite_sets.get_mut(set_key) {
                Some(set) => {
                    first = set.confirmed.is_none();
                    set.confirmed.get_or_insert(dialog);
                    set.dialogs
                        .iter()
                        .copied()
                        .filter(|d| *d != dialog)
                        .collect()
                }
                None => Vec::new(),
            };
            if first {
                self.expire_invite_set(set_key, now);
            }
            for d in others {
                if self
                    .dialogs
                    .get(&d)
                    .is_some_and(|e| e.dialog.state == DialogState::Early)
                {
                    self.remove_dialog(d, TerminationReason::FinalResponse(code));
                }
            }
        }
        Some(dialog)
    }

    /// The dialog a 2xx to an out-of-dialog SUBSCRIBE or REFER creates
    /// (RFC 6665 §4.1.2.1, RFC 3515), unless it exists already.
    fn subscription_dialog(
        &mut self,
        id: ClientTxId,
        response: &SipMessage<'_>,
    ) -> Option<DialogId> {
        if !self.dialog_room() {
            return None;
        }
        let request = self.clients.get(&id)?.tx.request().clone();
        let dialog_id = self.new_dialog_id()?;
        let dialog = Dialog::from_response(
            dialog_id,
            &request.message(),
            response,
            self.config.limits.max_route_set,
        )?;
        let (call_id, local, remote) = dialog.ids();
        if let Some(existing) = self.find_dialog(call_id, local, remote) {
            return Some(existing);
        }
        self.insert_dialog(dialog, None);
        self.event(Event::DialogEstablished { dialog: dialog_id });
        Some(dialog_id)
    }

    /// ACKs a 2xx in `dialog` (§13.2.2.4) and keeps what the ACK is made
    /// of (its CSeq number and branch), to send it again for each
    /// retransmission of the 2xx.
    fn send_ack(&mut self, dialog: DialogId, response: &SipMessage<'_>) {
        let seq = response.cseq().and_then(Result::ok).map_or(0, |c| c.seq);
        let branch = outgoing::new_branch(&mut self.rng);
        if let (Some(entry), Ok(kept)) =
            (self.dialogs.get_mut(&dialog), branch.as_bytes().try_into())
        {
            entry.ack = Some((seq, kept));
        }
        self.recount_dialog(dialog);
        self.ack(dialog, &branch, seq);
    }

    /// Sends the ACK numbered `seq` with `branch` in `dialog`.
    fn ack(&mut self, dialog: DialogId, branch: &str, seq: u32) {
        let Some(entry) = self.dialogs.get(&dialog) else {
            return;
        };
        let bytes = outgoing::ack(&self.config, &entry.dialog, branch, seq);
        let (bytes, hop) = if self.config.routing == Routing::RequestTarget {
            // The next hop is read from the ACK's Route or Request-URI.
            let strict = entry.dialog.first_route_is_strict();
            let routed = OwnedMessage::with_limits(bytes, self.config.limits.sip)
                .map_err(UaError::InvalidMessage)
                .and_then(|ack| self.route(ack, strict));
            let Ok((ack, hop)) = routed else {
                // No address to ACK (a host name under
                // `Routing::RequestTarget`): the session cannot be set up.
                return self.remove_dialog(dialog, TerminationReason::RequestFailed(503));
            };
            (ack.into_bytes(), hop)
        } else {
            // Every part of the ACK is the dialog's (taken from messages the
            // parser accepted, written canonically) or the user agent's
            // own: it goes out without being parsed again, nothing keeps it.
            self.route_bytes(bytes)
        };
        self.transmit(Transmit {
            destination: hop.destination,
            transport: hop.transport,
            bytes,
        });
    }

    /// A 2xx to INVITE without a transaction: a retransmission (ACK it
    /// again) or another fork's answer (ACK it, then BYE, §13.2.2.4).
    fn on_stray_2xx(&mut self, response: &SipMessage<'_>, source: SocketAddr, now: Instant) {
        let seq = response.cseq().and_then(Result::ok).map_or(0, |c| c.seq);
        let from_tag = response
            .from()
            .and_then(Result::ok)
            .and_then(|f| f.tag().map(str::to_owned));
        let to_tag = response
            .to()
            .and_then(Result::ok)
            .and_then(|t| t.tag().map(str::to_owned));
        let call_id = response
            .call_id()
            .and_then(Result::ok)
            .map(|c| c.to_string());
        let (Some(call_id), Some(from_tag), Some(to_tag)) = (call_id, from_tag, to_tag) else {
            return self.event(Event::MessageDropped {
                source,
                reason: DropReason::NoMatch,
            });
        };
        if let Some(d) = self.find_dialog(&call_id, &from_tag, &to_tag) {
            let ack = self.dialogs.get(&d).and_then(|e| e.ack);
            match ack {
                Some((ack_seq, branch)) if ack_seq == seq => {
                    self.ack(d, std::str::from_utf8(&branch).unwrap_or_default(), seq)
                }
                _ => self.send_ack(d, response),
            }
            return;
        }
        let set_key = InviteSetKey::new(&call_id, &from_tag);
        let request = match self.invite_sets.get(&set_key) {
            Some(set) if set.seq == seq => set.request.clone(),
            _ => {
                return self.event(Event::MessageDropped {
                    source,
                    reason: DropReason::NoMatch,
                })
            }
        };
        if !self.dialog_room() {
            return;
        }
        let Some(id) = self.new_dialog_id() else {
            return;
        };
        let Some(dialog) = Dialog::from_response(
            id,
            &request.message(),
            response,
            self.config.limits.max_route_set,
        ) else {
            return;
        };
        self.insert_dialog(dialog, Some(set_key));
        self.send_ack(id, response);
        if let Some(e) = self.dialogs.get_mut(&id) {
            e.bye_reason = Some(TerminationReason::ForkReleased);
        }
        let bye = super::DialogRequestSpec::new(crate::sip::Method::Bye);
        if self.request_in_dialog(id, &bye, now).is_err() {
            self.remove_dialog(id, TerminationReason::ForkReleased);
        }
    }
}

impl UserAgent {
    /// The dialog of a request received with To tag `to_tag`, by its key:
    /// Call-ID, the To tag (ours) and the From tag (theirs).
    fn request_dialog(&self, request: &SipMessage<'_>, to_tag: &str) -> Option<DialogId> {
        let call_id = request.call_id()?.ok()?;
        let from = request.from()?.ok()?;
        self.find_dialog(call_id.id, to_tag, from.tag()?)
    }
}
