//! Helpers of the crate's flow tests, on the public simulator
//! ([`oma_im::sim`]): every message crosses the simulator's network as
//! bytes, on its virtual clock; there is no network here. What is here
//! names nodes for the tests, builds messages, reads the wire log, and
//! plays peers the crate has no role for as nodes of the tests' own
//! ([`oma_im::sim::Node`]):
//!
//! * [`agents`]: bare SIP user agents by index;
//! * [`im`]: IM Clients and a scripted IM Server ([`im::TestServer`]);
//! * [`im_server`]: the SIP/IP Core, the real IM Server with real or
//!   scripted clients ([`im_server::Group`], [`im_server::scenario`]);
//! * [`im_history`]: the History Function's application and scripted
//!   peers with an MSRP session;
//! * [`chat`]: groups of real clients for the IMDN and is-composing flows;
//! * [`wire`]: reading the wire log; [`msg`]: messages built by hand.
#![allow(dead_code)]

pub mod agents;
pub mod chat;
pub mod im;
pub mod im_history;
pub mod im_server;
pub mod msg;
pub mod wire;
