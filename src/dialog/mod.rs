//! Dialogs (RFC 3261 §12) and the user agent core that holds them with
//! their transactions.
//!
//! [`UserAgent`] is the sans-IO SIP user agent every OMA IM role is built
//! on: it sends requests from small specs ([`RequestSpec`],
//! [`DialogRequestSpec`]) towards the outbound proxy or the next hop the
//! request names ([`Routing`]), over TCP when a request is too large for
//! UDP ([`Config::max_udp_request_size`]), answers received
//! requests ([`ResponseSpec`]), keeps dialogs ([`Dialog`]) with their route
//! sets, remote targets and sequence numbers, ACKs 2xx responses,
//! retransmits its own 2xx until the ACK, CANCELs, answers BYE and CANCEL,
//! releases extra forks, and answers bad requests statelessly.
//!
//! It also runs RFC 4028 session timers ([`SessionTimerConfig`], set with
//! [`Config::with_session_timer`]: Session-Expires and Min-SE, 422 and the
//! retry, refresh by UPDATE or re-INVITE, BYE before expiry) and RFC 6665
//! subscriptions, subscriber and notifier ([`UserAgent::subscribe`],
//! [`UserAgent::accept_subscription`], [`UserAgent::notify`]), each in its
//! own dialog, keyed by dialog and Event.
//!
//! ## The drain contract
//!
//! After every call that takes `now` — [`UserAgent::handle_input`],
//! [`UserAgent::handle_timeout`] and every command — drain
//! [`UserAgent::poll_output`] until it returns `None` (send each
//! [`Output::Transmit`], act on each [`Output::Event`]), then sleep until
//! [`UserAgent::poll_timeout`] and call `handle_timeout` with the time it is
//! then. A deadline at or before `now` is handled by the call that receives
//! `now`, so the loop never spins; [`UserAgent::next_deadline`] says which
//! timer (A to K, a 2xx retransmission, a session refresh or expiry, a
//! subscription refresh or expiry) the next deadline belongs to. The
//! documentation of [`UserAgent`] has a complete run loop between two user
//! agents.

mod state;
mod ua;

pub use state::{Dialog, DialogId, DialogOwner, DialogRole, DialogState};
pub use ua::{
    ClientTxId, Config, Deadline, DeadlineReason, DialogRequestSpec, DropReason, Event, Input,
    Limits, Output, RefreshMethod, RequestSpec, ResponseSpec, Routing, ServerTxId,
    SessionTimerConfig, SubscribeSpec, SubscriptionConfig, SubscriptionEnd, SubscriptionId,
    TerminationReason, TransactionId, UaError, UserAgent,
};
