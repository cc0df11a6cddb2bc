//! Every bound of the crate in one value.
//!
//! Each layer has its own limits type, used by its parsers and state machines;
//! [`Limits`] gathers them so that an application can set every bound in one
//! place, starting from the defaults. Each role reads the layers it parses
//! with from its configuration's `limits.layers` (an [`Limits`]): the IM
//! Server ([`im::server::Limits::layers`](crate::im::server::Limits::layers)),
//! the IM Client and the IM History Function. Set it once there; the role's
//! own bounds (sessions, participants, subscriptions, ...) sit next to it.
//!
//! ```
//! use oma_im::im::server::ServerConfig;
//!
//! let mut limits = oma_im::Limits::default();
//! limits.sip.max_message_size = 16 * 1024;
//! limits.sip.values.max_params = 8;
//! limits.mime.max_nesting = 2;
//! limits.msrp.max_chunk_size = 64 * 1024;
//! assert!(oma_im::sip::parse_message_with(b"garbage", &limits.sip).is_err());
//!
//! let mut config = ServerConfig::new("192.0.2.10:5060".parse().unwrap(),
//!     "192.0.2.1:5060".parse().unwrap(), "im.example.com");
//! config.limits.layers = limits;
//! assert_eq!(config.limits.layers.switch_limits().msrp.max_chunk_size, 64 * 1024);
//! ```

use crate::{body, msrp, sdp, sip};

/// The bounds of every layer. Input over a bound is rejected with a typed
/// error (or the protocol's own answer) in time linear in its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// SIP messages: size, header count, header length, and the bounds on
    /// their header values ([`sip::Limits::values`]: parameters, list
    /// elements, nesting).
    pub sip: sip::Limits,
    /// SDP bodies: size, lines, media, attributes, paths, accept-types.
    pub sdp: sdp::Limits,
    /// MIME bodies (`multipart/mixed`, `message/cpim`): headers and parts.
    pub mime: body::mime::MimeLimits,
    /// XML bodies (resource-lists, conference-info): size, depth, URI-list
    /// entries, users.
    pub xml: body::xml::XmlLimits,
    /// MSRP messages: header section, paths, chunk and message size, partial
    /// messages.
    pub msrp: msrp::Limits,
    /// An MSRP endpoint session: queued bytes, pending transactions.
    pub msrp_session: msrp::session::SessionLimits,
    /// The MSRP switch: legs and per-leg queues.
    pub msrp_switch: msrp::switch::SwitchLimits,
}

impl Limits {
    /// The MSRP switch bounds a role uses: [`msrp_switch`](Self::msrp_switch)
    /// with its codec bounds replaced by [`msrp`](Self::msrp) and its CPIM
    /// bounds by [`mime`](Self::mime), so that each layer is bounded in one
    /// place.
    ///
    /// ```
    /// let mut limits = oma_im::Limits::default();
    /// limits.msrp.max_chunk_size = 2048;
    /// assert_eq!(limits.switch_limits().msrp.max_chunk_size, 2048);
    /// ```
    pub fn switch_limits(&self) -> msrp::switch::SwitchLimits {
        msrp::switch::SwitchLimits {
            msrp: self.msrp,
            mime: self.mime,
            ..self.msrp_switch
        }
    }

    /// The MSRP endpoint session bounds a role uses:
    /// [`msrp_session`](Self::msrp_session) with its codec bounds replaced by
    /// [`msrp`](Self::msrp) and its CPIM bounds by [`mime`](Self::mime).
    ///
    /// ```
    /// let mut limits = oma_im::Limits::default();
    /// limits.msrp.max_message_size = 4096;
    /// assert_eq!(limits.session_limits().msrp.max_message_size, 4096);
    /// ```
    pub fn session_limits(&self) -> msrp::session::SessionLimits {
        msrp::session::SessionLimits {
            msrp: self.msrp,
            mime: self.mime,
            ..self.msrp_session
        }
    }
}
