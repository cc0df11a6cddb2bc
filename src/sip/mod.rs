//! The SIP wire format (RFC 3261): a zero-copy message parser, header names
//! and raw header values, a writer and builders, and stream framing for TCP.
//!
//! * [`parse_message`] parses one complete message (a UDP datagram, or a
//!   message cut out of a stream) into a [`SipMessage`] that borrows the
//!   input. It checks what RFC 4475 asks a receiver to reject and returns a
//!   [`SipError`] naming the cause and the byte offset.
//! * [`SipMessage::header_values`] gives every value of a header field, by
//!   [`HeaderName`] (long or compact form, any case).
//!
//! Everything that grows with the input is bounded by [`Limits`].
//!
//! ```
//! use oma_im::sip::{parse_message, HeaderName};
//!
//! let datagram = b"OPTIONS sip:bob@example.com SIP/2.0\r\n\
//!     Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKhjhs8ass877\r\n\
//!     Max-Forwards: 70\r\n\
//!     To: <sip:bob@example.com>\r\n\
//!     From: Alice <sip:alice@example.com>;tag=1928301774\r\n\
//!     Call-ID: a84b4c76e66710\r\n\
//!     CSeq: 63104 OPTIONS\r\n\
//!     Content-Length: 0\r\n\
//!     \r\n";
//! let request = parse_message(datagram)?;
//! assert_eq!(request.method(), Some("OPTIONS"));
//! assert_eq!(request.header(HeaderName::CallId).unwrap().value, "a84b4c76e66710");
//! # Ok::<(), oma_im::sip::SipError>(())
//! ```

mod accessors;
mod error;
pub mod framing;
mod header_name;
mod lex;
mod limits;
mod message;
mod method;
mod name_addr;
mod parse;
mod uri;
pub mod value;

pub use error::{SipError, SipErrorKind};
pub use framing::{Framer, Framing};
pub use header_name::HeaderName;
pub use lex::{unquote, CommaSplit, Param, Params};
pub use limits::Limits;
pub use message::{HeaderValue, RequestLine, SipMessage, StartLine, StatusLine};
pub use method::{Method, MethodSet, MAX_EXTENSION_METHODS};
pub use name_addr::{DisplayName, NameAddr};
pub use parse::{parse_message, parse_message_with};
pub use uri::{percent_decode, Host, SipUri, TelUri, Uri, UriHeader};
pub use value::{
    AcceptContact, CSeq, CallId, Contact, ContentDisposition, ContentType, Event, Expires, FromTo,
    MaxForwards, MinSe, OptionTag, OptionTags, PAssertedIdentity, PPreferredIdentity, PrivValue,
    Privacy, Product, ProductItem, ProductList, ProxyRequire, RecordRoute, ReferTo, ReferredBy,
    Refresher, RejectContact, Require, Route, SessionExpires, SubState, SubscriptionState,
    Supported, Unsupported, ValueError, ValueErrorKind, ValueLimits, Via, Warning,
};
