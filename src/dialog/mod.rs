//! Dialogs (RFC 3261 §12) and the user agent core that holds them with
//! their transactions.
//!
//! [`UserAgent`] is the sans-IO SIP user agent every OMA IM role is built
//! on: it sends requests from small specs ([`RequestSpec`],
//! [`DialogRequestSpec`]) towards the outbound proxy, answers received
//! requests ([`ResponseSpec`]), keeps dialogs ([`Dialog`]) with their route
//! sets, remote targets and sequence numbers, ACKs 2xx responses,
//! retransmits its own 2xx until the ACK, CANCELs, answers BYE and CANCEL,
//! releases extra forks, and answers bad requests statelessly. See
//! [`UserAgent`] for the drain contract and a complete run loop.

mod state;
mod ua;

pub use state::{Dialog, DialogId, DialogRole, DialogState};
pub use ua::{
    ClientTxId, Config, Deadline, DeadlineReason, DialogRequestSpec, DropReason, Event, Input,
    Limits, Output, RequestSpec, ResponseSpec, ServerTxId, TerminationReason, TransactionId,
    UaError, UserAgent,
};
