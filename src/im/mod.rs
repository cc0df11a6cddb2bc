//! The OMA SIMPLE IM roles, built on the SIP user agent ([`crate::dialog`]),
//! SDP ([`crate::sdp`]), MSRP ([`crate::msrp`]) and the message bodies
//! ([`crate::body`]).
//!
//! * [`history`]: the IM History Function (clause 13).

pub mod history;
