//! The OMA SIMPLE IM roles, built on the SIP user agent ([`crate::dialog`]),
//! SDP ([`crate::sdp`]), MSRP ([`crate::msrp`]) and the message bodies
//! ([`crate::body`]).
//!
//! * [`server`]: the controlling IM Server (clauses 7.2.x, 11.x).

pub mod server;
