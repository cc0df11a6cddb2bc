//! SDP (RFC 4566) for MSRP media (RFC 4975 §8), and the offer/answer rules
//! (RFC 3264) an IM session needs.
//!
//! [`SessionDescription::parse`] reads a body into a view that borrows it;
//! [`SessionDescription::write`] appends the canonical form to a buffer.
//! Parsing is lenient where real peers are sloppy — LF-only line ends, blank
//! lines, spaces around `=` and around the attribute colon as in the OMA
//! text's `a = accept-types : message/cpim`, attribute names in any case —
//! and writing is strict: CRLF, RFC 4566 line order, `a=accept-types:message/cpim`.
//!
//! The MSRP attributes are typed ([`Attribute`]); every other attribute is
//! kept, in order, as [`Attribute::Other`]. Input is bounded by [`Limits`].
//!
//! ```
//! use oma_im::sdp::{Direction, MsrpTransport, SessionDescription, SetupRole};
//!
//! let body = b"v=0\r\n\
//! o=alice 2890844557 2890844559 IN IP4 alicepc.example.com\r\n\
//! s= -\r\n\
//! c=IN IP4 alicepc.example.com\r\n\
//! t=0 0\r\n\
//! m=message 7777 TCP/MSRP *\r\n\
//! a = accept-types : message/cpim\r\n\
//! a=path:msrp://alicepc.example.com:7777/iau39soe2843z;tcp\r\n\
//! a=setup:actpass\r\n";
//! let sdp = SessionDescription::parse(body)?;
//! let (_, media) = sdp.msrp_media().expect("an MSRP media line");
//! assert_eq!(media.msrp_transport(), Some(MsrpTransport::Tcp));
//! assert!(media.accept_types().expect("accept-types").matches("message/cpim"));
//! assert_eq!(media.setup(), Some(SetupRole::ActPass));
//! assert_eq!(sdp.media_direction(media), Direction::SendRecv);
//!
//! let mut out = Vec::new();
//! sdp.write(&mut out);
//! assert!(out.windows(29).any(|w| w == b"a=accept-types:message/cpim\r\n"));
//! # Ok::<(), oma_im::sdp::SdpError>(())
//! ```

mod accept_types;
mod attribute;
mod description;
mod error;
mod limits;
pub mod offer_answer;
mod parser;
mod text;

pub use accept_types::AcceptTypes;
pub use attribute::{Attribute, ConnectionAttribute, Direction, SetupRole};
pub use description::{Connection, Media, MsrpTransport, Origin, SessionDescription, Timing};
pub use error::{SdpError, SdpErrorKind};
pub use limits::Limits;

impl<'a> SessionDescription<'a> {
    /// Parses a session description under the default [`Limits`].
    ///
    /// Required lines are `v=` (first), `o=`, `s=`, at least one `t=`, and a
    /// `c=` at the session level or in every media description; a missing one
    /// is a typed error. A body that does not start with `v=` is
    /// [`SdpErrorKind::NotSdp`].
    pub fn parse(input: &'a [u8]) -> Result<Self, SdpError> {
        Self::parse_with_limits(input, &Limits::default())
    }

    /// Parses a session description under `limits`.
    pub fn parse_with_limits(input: &'a [u8], limits: &Limits) -> Result<Self, SdpError> {
        parser::parse(input, limits)
    }
}
