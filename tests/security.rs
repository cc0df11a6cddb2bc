//! Issue #13 from the attacker's side: every test plays a hostile peer
//! ("mallory") against the crate's roles on the simulator
//! (`oma_im::sim`), every SIP and MSRP message written as bytes and parsed on the other side, and
//! asserts the refusal on the wire (the status code, no INVITE fan-out, no
//! NOTIFY, no MSRP bytes to the attacker) and that the legitimate
//! participants' session is unharmed.
//!
//! * `access`: who may open a pre-defined group, join a running session
//!   through each path, and the group's anonymity rule on later joins.
//! * `identity`: P-Asserted-Identity only from the trust domain (IM Server,
//!   History Function), and the IM Client never asserting its own.
//! * `roster`: conference-state subscriptions from Participants only, with
//!   a per-session cap.
//! * `msrp`: a second connection for a bound leg (506), connections that
//!   name no session (closed after bounded bytes and time).
//! * `identifiers`: identifiers drawn from the seeded ChaCha20 generator.

mod support;

#[allow(dead_code)]
#[path = "../examples/group_chat.rs"]
mod demo;

#[path = "security/access.rs"]
mod access;
#[path = "security/identifiers.rs"]
mod identifiers;
#[path = "security/identity.rs"]
mod identity;
#[path = "security/msrp.rs"]
mod msrp;
#[path = "security/roster.rs"]
mod roster;
