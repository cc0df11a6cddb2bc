//! Typed SIP header values, one module per header family. Every type parses
//! leniently from a borrowed header value and writes its canonical form.

mod error;
mod limits;

pub use error::{ValueError, ValueErrorKind};
pub use limits::ValueLimits;
