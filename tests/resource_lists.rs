//! resource-lists (RFC 4826 / RFC 5364 / RFC 5366): the RFCs' examples, round
//! trips, limits, hostile input.

use std::borrow::Cow;
use std::time::Instant;

use oma_im::body::resource_lists::{
    CopyControl, Entry, List, ListItem, Reference, ResourceLists, CONTENT_TYPE,
};
use oma_im::body::xml::{XmlErrorKind, XmlLimits};
use proptest::prelude::*;

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/xml/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn round_trip(lists: &ResourceLists<'_>) -> ResourceLists<'static> {
    let mut out = Vec::new();
    lists.write(&mut out);
    let limits = XmlLimits {
        max_list_entries: 10_000,
        ..XmlLimits::default()
    };
    ResourceLists::parse(&out, &limits)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)))
        .into_owned()
}

#[test]
fn rfc4826_example_keeps_nested_lists_and_references() {
    let body = data("rfc4826-resource-lists.xml");
    let lists = ResourceLists::parse(&body, &XmlLimits::default()).unwrap();
    assert_eq!(lists.lists.len(), 1);
    let friends = &lists.lists[0];
    assert_eq!(friends.name.as_deref(), Some("friends"));
    assert_eq!(friends.items.len(), 3);
    let ListItem::Entry(bill) = &friends.items[0] else {
        panic!("first item is Bill's entry: {:?}", friends.items[0]);
    };
    assert_eq!(bill.uri, "sip:bill@example.com");
    assert_eq!(bill.display_name.as_deref(), Some("Bill Doe"));
    assert_eq!(bill.copy_control, None);
    assert_eq!(bill.copy_control_or_default(), CopyControl::To);
    let ListItem::EntryRef(reference) = &friends.items[1] else {
        panic!("second item is the entry-ref");
    };
    assert!(reference
        .target
        .starts_with("resource-lists/users/sip:bill@example.com/"));
    let ListItem::List(close) = &friends.items[2] else {
        panic!("third item is the nested list");
    };
    assert_eq!(close.name.as_deref(), Some("close-friends"));
    assert_eq!(close.display_name.as_deref(), Some("Close Friends"));
    let ListItem::External(marketing) = &close.items[2] else {
        panic!("the nested list ends with the external list");
    };
    assert_eq!(marketing.display_name.as_deref(), Some("Marketing"));
    assert!(marketing.target.starts_with("http://xcap.example.org/"));

    let flattened: Vec<(&str, Option<&str>)> = lists
        .entries()
        .map(|e| (&*e.uri, e.display_name.as_deref()))
        .collect();
    assert_eq!(
        flattened,
        [
            ("sip:bill@example.com", Some("Bill Doe")),
            ("sip:joe@example.com", Some("Joe Smith")),
            ("sip:nancy@example.com", Some("Nancy Gross")),
        ]
    );
    assert_eq!(lists.first_reference(), Some(reference));
    assert_eq!(round_trip(&lists), lists);
}

#[test]
fn rfc5366_example_gives_the_invitees_and_their_roles() {
    let body = data("rfc5366-uri-list.xml");
    let lists = ResourceLists::parse(&body, &XmlLimits::default()).unwrap();
    let invitees: Vec<(&str, CopyControl)> = lists
        .entries()
        .map(|e| (&*e.uri, e.copy_control_or_default()))
        .collect();
    assert_eq!(
        invitees,
        [
            ("sip:bill@example.com", CopyControl::To),
            ("sip:randy@example.net", CopyControl::To),
            ("sip:joe@example.org", CopyControl::Cc),
        ]
    );
    assert!(lists.first_reference().is_none());
    assert!(lists.entries().all(|e| matches!(e.uri, Cow::Borrowed(_))));
    assert_eq!(round_trip(&lists), lists);
}

#[test]
fn writer_emits_namespaces_and_escapes() {
    let mut entry = Entry::new("sip:conf@example.com?Replaces=abc%40host%3Bto-tag%3D1&x=\"y\"");
    entry.display_name = Some(Cow::Borrowed("Tom & <Jerry>"));
    entry.copy_control = Some(CopyControl::Bcc);
    entry.anonymize = Some(true);
    entry.count = Some(3);
    let lists = ResourceLists::from_entries([entry, Entry::new("sip:b@example.com")]);
    let mut out = Vec::new();
    lists.write(&mut out);
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<resource-lists"));
    assert!(text.contains("xmlns=\"urn:ietf:params:xml:ns:resource-lists\""));
    assert!(text.contains("xmlns:cp=\"urn:ietf:params:xml:ns:copycontrol\""));
    assert!(text.contains(
        "uri=\"sip:conf@example.com?Replaces=abc%40host%3Bto-tag%3D1&amp;x=&quot;y&quot;\""
    ));
    assert!(text.contains("cp:copyControl=\"bcc\" cp:anonymize=\"true\" cp:count=\"3\""));
    assert!(text.contains("<display-name>Tom &amp; &lt;Jerry&gt;</display-name>"));
    let parsed = ResourceLists::parse(&out, &XmlLimits::default()).unwrap();
    assert_eq!(parsed, lists);
    // Decoded values are owned, the others borrow the body.
    let first = parsed.entries().next().unwrap();
    assert!(matches!(first.uri, Cow::Owned(_)));
    assert!(matches!(
        parsed.entries().nth(1).unwrap().uri,
        Cow::Borrowed(_)
    ));
    // No copy-control attribute: no copy-control namespace.
    let mut plain = Vec::new();
    ResourceLists::from_entries([Entry::new("sip:a@b")]).write(&mut plain);
    assert!(!String::from_utf8(plain).unwrap().contains("copycontrol"));
    assert_eq!(CONTENT_TYPE, "application/resource-lists+xml");
}

#[test]
fn other_namespaces_are_skipped() {
    let body = br#"<?xml version="1.0"?>
<rl:resource-lists xmlns:rl="urn:ietf:params:xml:ns:resource-lists" xmlns:x="urn:example:x">
  <x:meta><rl:entry uri="sip:hidden@example.com"/></x:meta>
  <rl:list x:attr="1">
    <rl:entry uri="sip:a@example.com" x:foo="bar"><x:extra>text</x:extra></rl:entry>
    <x:entry uri="sip:not-an-entry@example.com"/>
  </rl:list>
</rl:resource-lists>"#;
    let lists = ResourceLists::parse(body, &XmlLimits::default()).unwrap();
    let uris: Vec<&str> = lists.entries().map(|e| &*e.uri).collect();
    assert_eq!(uris, ["sip:a@example.com"]);
}

fn err_offset_of(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle present")
}

fn big_list(entries: usize) -> Vec<u8> {
    let mut doc = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list>",
    );
    for i in 0..entries {
        doc.push_str(&format!("<entry uri=\"sip:user{i}@example.com\"/>"));
    }
    doc.push_str("</list></resource-lists>");
    doc.into_bytes()
}

#[test]
fn a_100000_entry_list_is_rejected_at_the_entry_past_the_limit() {
    let body = big_list(100_000);
    let limits = XmlLimits {
        max_document_size: body.len(),
        ..XmlLimits::default()
    };
    let start = Instant::now();
    let err = ResourceLists::parse(&body, &limits).unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(err.kind, XmlErrorKind::TooManyEntries { limit: 100 });
    // The error points at entry number 101 (index 100), so nothing after it was read.
    let at = &body[err.offset..];
    assert!(at.starts_with(b"<entry uri=\"sip:user100@example.com\""));
    assert!(err.offset < body.len() / 100, "rejected near the start");
    assert_eq!(
        err.to_string(),
        format!(
            "too many participants: more than 100 list entries at byte {}",
            err.offset
        )
    );
    // Not a timing assertion: printed for the record (see benches/xml_bodies.rs).
    println!("rejected {} bytes in {elapsed:?}", body.len());
    // Nothing after the offending entry is looked at: broken XML and invalid UTF-8
    // placed after it do not change the answer.
    let after_101st = err_offset_of(&body, b"<entry uri=\"sip:user101@");
    let mut broken = body[..after_101st].to_vec();
    broken.extend_from_slice(b"\xff\xfe<<<&undefined;</mismatched>");
    let err = ResourceLists::parse(&broken, &limits).unwrap_err();
    assert_eq!(err.kind, XmlErrorKind::TooManyEntries { limit: 100 });
    // With the default size limit the same body is refused before any parsing.
    let err = ResourceLists::parse(&body, &XmlLimits::default()).unwrap_err();
    assert_eq!(err.kind, XmlErrorKind::TooLarge { limit: 1 << 20 });
}

#[test]
fn billion_laughs_is_rejected_without_expansion() {
    let body = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">
 <list><entry uri="sip:a@example.com"><display-name>&lol4;</display-name></entry></list>
</resource-lists>"#;
    let err = ResourceLists::parse(body, &XmlLimits::default()).unwrap_err();
    assert_eq!(err.kind, XmlErrorKind::DoctypeNotAllowed);
    // Without the DOCTYPE the reference is an unknown entity, not an expansion.
    let body = br#"<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">
 <list><entry uri="sip:a@example.com"><display-name>&lol4;</display-name></entry></list>
</resource-lists>"#;
    let err = ResourceLists::parse(body, &XmlLimits::default()).unwrap_err();
    assert_eq!(err.kind, XmlErrorKind::UnknownEntity);
    let external = br#"<!DOCTYPE r SYSTEM "http://example.com/evil.dtd"><resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"/>"#;
    let err = ResourceLists::parse(external, &XmlLimits::default()).unwrap_err();
    assert_eq!(err.kind, XmlErrorKind::DoctypeNotAllowed);
}

#[test]
fn deep_nesting_is_rejected() {
    let mut doc = String::from("<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\">");
    doc.push_str(&"<list>".repeat(40));
    doc.push_str(&"</list>".repeat(40));
    doc.push_str("</resource-lists>");
    let err = ResourceLists::parse(doc.as_bytes(), &XmlLimits::default()).unwrap_err();
    assert_eq!(err.kind, XmlErrorKind::TooDeep { limit: 16 });
}

fn text() -> impl Strategy<Value = String> {
    // Printable ASCII including the markup characters, some non-ASCII, and the
    // white space an attribute value would otherwise normalize.
    proptest::string::string_regex("[ -~éß€\t\n\r]{0,16}").unwrap()
}

fn entry() -> impl Strategy<Value = Entry<'static>> {
    (
        text(),
        proptest::option::of(text()),
        proptest::option::of(prop_oneof![
            Just(CopyControl::To),
            Just(CopyControl::Cc),
            Just(CopyControl::Bcc)
        ]),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<u32>()),
    )
        .prop_map(
            |(uri, display_name, copy_control, anonymize, count)| Entry {
                uri: Cow::Owned(uri),
                display_name: display_name.map(Cow::Owned),
                copy_control,
                anonymize,
                count,
            },
        )
}

fn reference() -> impl Strategy<Value = Reference<'static>> {
    (text(), proptest::option::of(text())).prop_map(|(target, display_name)| Reference {
        target: Cow::Owned(target),
        display_name: display_name.map(Cow::Owned),
    })
}

fn list() -> impl Strategy<Value = List<'static>> {
    let leaf = prop_oneof![
        4 => entry().prop_map(ListItem::Entry),
        1 => reference().prop_map(ListItem::EntryRef),
        1 => reference().prop_map(ListItem::External),
    ];
    let item = leaf.prop_recursive(3, 24, 6, |inner| {
        (
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::collection::vec(inner, 0..6),
        )
            .prop_map(|(name, display_name, items)| {
                ListItem::List(List {
                    name: name.map(Cow::Owned),
                    display_name: display_name.map(Cow::Owned),
                    items,
                })
            })
    });
    (
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::collection::vec(item, 0..8),
    )
        .prop_map(|(name, display_name, items)| List {
            name: name.map(Cow::Owned),
            display_name: display_name.map(Cow::Owned),
            items,
        })
}

proptest! {
    #[test]
    fn write_then_parse_gives_the_same_lists(lists in proptest::collection::vec(list(), 0..3)) {
        let lists = ResourceLists { lists };
        prop_assert_eq!(round_trip(&lists), lists);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = ResourceLists::parse(&bytes, &XmlLimits::default());
    }

    #[test]
    fn mutated_documents_never_panic(cut in 0usize..400, byte in any::<u8>()) {
        let mut body = data("rfc4826-resource-lists.xml");
        let at = cut % body.len();
        body[at] = byte;
        let _ = ResourceLists::parse(&body, &XmlLimits::default());
        body.truncate(at);
        let _ = ResourceLists::parse(&body, &XmlLimits::default());
    }
}
