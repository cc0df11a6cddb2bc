//! The SIP wire format (RFC 3261): a zero-copy message parser, header names
//! and raw header values, typed header values, a writer and builders, and
//! stream framing for TCP.
//!
//! * [`parse_message`] parses one complete message (a UDP datagram, or a
//!   message cut out of a stream) into a [`SipMessage`] that borrows the
//!   input, without allocating for messages of up to 24 header fields. It
//!   checks what RFC 4475 asks a receiver to reject and returns a
//!   [`SipError`] naming the cause and the byte offset.
//! * [`SipMessage::header_values`] gives every raw value of a header field,
//!   by [`HeaderName`] (long or compact form, any case); the typed accessors
//!   ([`SipMessage::via`], [`SipMessage::from`], [`SipMessage::cseq`], ...)
//!   parse them into the [`value`] types on demand.
//! * [`framing::Framer`] finds message boundaries in a TCP byte stream.
//! * [`writer`] re-emits a parsed message canonically
//!   ([`SipMessage::write`]) and builds requests and responses into a
//!   caller's `Vec<u8>`.
//!
//! Everything that grows with the input is bounded by [`Limits`].
//!
//! Parse a request, read typed header fields, answer it:
//!
//! ```
//! use oma_im::sip::writer::ResponseBuilder;
//! use oma_im::sip::{parse_message, HeaderName};
//!
//! let datagram = b"MESSAGE sip:bob@example.com SIP/2.0\r\n\
//!     Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKhjhs8ass877\r\n\
//!     Max-Forwards: 70\r\n\
//!     t: <sip:bob@example.com>\r\n\
//!     f: Alice <sip:alice@example.com>;tag=1928301774\r\n\
//!     i: a84b4c76e66710\r\n\
//!     CSeq: 63104 MESSAGE\r\n\
//!     Accept-Contact: *;+g.oma.sip-im\r\n\
//!     c: text/plain\r\n\
//!     l: 12\r\n\
//!     \r\n\
//!     Hello, Bob!\n";
//! let request = parse_message(datagram)?;
//! assert_eq!(request.method(), Some("MESSAGE"));
//! assert_eq!(request.header(HeaderName::CallId).unwrap().value, "a84b4c76e66710");
//! assert_eq!(request.top_via().unwrap()?.branch(), Some("z9hG4bKhjhs8ass877"));
//! assert_eq!(request.from().unwrap()?.tag(), Some("1928301774"));
//! assert_eq!(request.cseq().unwrap()?.seq, 63104);
//! assert_eq!(request.body(), b"Hello, Bob!\n");
//!
//! let mut out = Vec::new();
//! ResponseBuilder::for_request(&request, 200, "OK").to_tag("a6c85cf").write(&mut out);
//! let response = parse_message(&out)?;
//! assert_eq!(response.status_code(), Some(200));
//! assert_eq!(response.to().unwrap()?.tag(), Some("a6c85cf"));
//! assert_eq!(response.header(HeaderName::ContentLength).unwrap().value, "0");
//! # Ok::<(), oma_im::sip::SipError>(())
//! ```

mod accessors;
mod error;
pub mod framing;
mod header_name;
mod layout;
mod lex;
mod limits;
mod message;
mod method;
mod name_addr;
mod parse;
mod uri;
pub mod value;
pub mod writer;

pub use error::{SipError, SipErrorKind};
pub use framing::{frame, Framer, Framing};
pub use header_name::HeaderName;
pub(crate) use layout::Layout;
pub use lex::{unquote, CommaSplit, Param, Params, ParamsIter};
pub use limits::Limits;
pub(crate) use message::HeaderEntry;
pub use message::{HeaderValue, RequestLine, SipMessage, StartLine, StatusLine};
pub use method::{Method, MethodSet, MAX_EXTENSION_METHODS};
pub use name_addr::{DisplayName, NameAddr};
pub(crate) use parse::{check_appended, check_reason_phrase, Appended, Present};
pub use parse::{parse_message, parse_message_with};
pub use uri::{percent_decode, Host, SipUri, TelUri, Uri, UriHeader, UriHeaders, UriHeadersIter};
pub use value::{
    AcceptContact, Allow, CSeq, CallId, Contact, ContentDisposition, ContentType, Event, Expires,
    FromTo, MaxForwards, MinSe, OptionTag, OptionTags, PAssertedIdentity, PPreferredIdentity,
    PrivValue, Privacy, Product, ProductItem, ProductList, ProxyRequire, RecordRoute, ReferTo,
    ReferredBy, Refresher, RejectContact, Require, Route, SessionExpires, SubState,
    SubscriptionState, Supported, Unsupported, ValueError, ValueErrorKind, ValueLimits, Via,
    Warning,
};
