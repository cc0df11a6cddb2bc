//! Fuzz entry points for the SIP value parsers: URIs, name-addrs and every
//! typed header value. Besides "never panics", each checks that the canonical
//! form written from a parsed value parses again, writes the same bytes, and
//! (for URIs) parses back to an equal value that compares equal under
//! RFC 3261 §19.1.4.

use crate::sip::{
    AcceptContact, CSeq, CallId, CommaSplit, Contact, ContentDisposition, ContentType, Event,
    Expires, MaxForwards, MethodSet, MinSe, NameAddr, OptionTags, Privacy, ProductList,
    SessionExpires, SubscriptionState, Uri, ValueError, Via, Warning,
};

/// Checks that the canonical form `canonical` gives for `text` (if `text`
/// parses) parses again and is a fixed point of parse-then-write.
fn round_trip(text: &str, canonical: impl Fn(&str) -> Result<Vec<u8>, ValueError>) {
    let Ok(first) = canonical(text) else { return };
    let written = std::str::from_utf8(&first).expect("canonical form is UTF-8");
    let second = canonical(written)
        .unwrap_or_else(|e| panic!("canonical form {written:?} does not parse: {e}"));
    assert_eq!(first, second, "canonical form of {text:?} is not stable");
}

/// [`round_trip`] for every element of a comma-separated list.
fn list_round_trip(text: &str, canonical: impl Fn(&str) -> Result<Vec<u8>, ValueError>) {
    for (_, item) in CommaSplit::new(text) {
        round_trip(item, &canonical);
    }
}

/// The canonical form of a value of type `$t` parsed from a string.
macro_rules! canonical {
    ($t:ident) => {
        |s: &str| {
            $t::parse(s).map(|v| {
                let mut out = Vec::new();
                v.write(&mut out);
                out
            })
        }
    };
}

/// `sip_uri`: the input as a URI and as a name-addr.
pub fn sip_uri(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(uri) = Uri::parse(text) {
        assert!(uri.uri_eq(&uri), "uri_eq is not reflexive for {text:?}");
        let mut out = Vec::new();
        uri.write(&mut out);
        let written = std::str::from_utf8(&out).expect("canonical form is UTF-8");
        let again = Uri::parse(written)
            .unwrap_or_else(|e| panic!("canonical form {written:?} does not parse: {e}"));
        assert!(uri.uri_eq(&again) && again.uri_eq(&uri));
        // `Uri` is invariant in its lifetime: parse the input again at the
        // lifetime of the written form to compare the two values.
        let original: Uri<'_> = match Uri::parse(text) {
            Ok(u) => u,
            Err(e) => panic!("{text:?} parsed once, then failed: {e}"),
        };
        assert_eq!(original, again, "URI changed through write/parse");
    }
    round_trip(text, canonical!(NameAddr));
}

/// `sip_values`: the first byte picks a header value type, the rest is the value.
pub fn sip_values(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match selector % 20 {
        0 => list_round_trip(text, canonical!(Via)),
        1 => list_round_trip(text, canonical!(Contact)),
        2 => list_round_trip(text, canonical!(NameAddr)),
        3 => list_round_trip(text, canonical!(AcceptContact)),
        4 => list_round_trip(text, canonical!(Warning)),
        5 => round_trip(text, canonical!(CSeq)),
        6 => round_trip(text, canonical!(MaxForwards)),
        7 => round_trip(text, canonical!(Expires)),
        8 => round_trip(text, canonical!(CallId)),
        9 => round_trip(text, canonical!(MethodSet)),
        10 => round_trip(text, canonical!(OptionTags)),
        11 => round_trip(text, canonical!(Privacy)),
        12 => round_trip(text, canonical!(SessionExpires)),
        13 => round_trip(text, canonical!(MinSe)),
        14 => round_trip(text, canonical!(Event)),
        15 => round_trip(text, canonical!(SubscriptionState)),
        16 => round_trip(text, canonical!(ContentType)),
        17 => round_trip(text, canonical!(ContentDisposition)),
        18 => round_trip(text, canonical!(ProductList)),
        _ => round_trip(text, canonical!(Via)),
    }
}
