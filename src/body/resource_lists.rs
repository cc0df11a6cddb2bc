//! `application/resource-lists+xml` (RFC 4826) as used for URI-list conferencing
//! (RFC 5366): the list of users an IM Client invites to an Ad-hoc IM Group
//! Session, with the RFC 5364 copy-control attributes.
//!
//! # Shape kept
//!
//! * Nested `<list>`s are **kept** as a tree ([`ListItem::List`]), in document
//!   order, so a document round-trips; [`ResourceLists::entries`] walks the tree
//!   depth-first and yields every [`Entry`] flattened, which is what a URI-list
//!   service invites.
//! * `<entry-ref>` and `<external>` are **kept** ([`ListItem::EntryRef`],
//!   [`ListItem::External`]) but never resolved: they point into an XCAP server
//!   that a conference focus fetching on its own would have to trust.
//!   [`ResourceLists::first_reference`] lets a URI-list service find them and
//!   reject the request (RFC 5366 only needs plain entries).
//! * Elements and attributes of other namespaces are skipped; so are the `xml:lang`
//!   of display names and unknown elements of the resource-lists namespace.
//!
//! # Bounds
//!
//! Every `<entry>`, `<entry-ref>` and `<external>` counts against
//! [`XmlLimits::max_list_entries`]; the one past the limit stops the parse with
//! [`XmlErrorKind::TooManyEntries`] at once, without reading the rest of the
//! document.
//!
//! # Example
//!
//! ```
//! use oma_im::body::resource_lists::{CopyControl, ResourceLists};
//! use oma_im::body::xml::XmlLimits;
//!
//! let body = br#"<?xml version="1.0" encoding="UTF-8"?>
//! <resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"
//!     xmlns:cp="urn:ietf:params:xml:ns:copycontrol">
//!   <list>
//!     <entry uri="sip:bill@example.com" cp:copyControl="to"/>
//!     <entry uri="sip:joe@example.org" cp:copyControl="cc"/>
//!   </list>
//! </resource-lists>"#;
//! let lists = ResourceLists::parse(body, &XmlLimits::default())?;
//! let uris: Vec<&str> = lists.entries().map(|e| &*e.uri).collect();
//! assert_eq!(uris, ["sip:bill@example.com", "sip:joe@example.org"]);
//! assert_eq!(lists.entries().nth(1).unwrap().copy_control, Some(CopyControl::Cc));
//!
//! let mut out = Vec::new();
//! lists.write(&mut out);
//! assert_eq!(ResourceLists::parse(&out, &XmlLimits::default())?, lists);
//! # Ok::<(), oma_im::body::xml::XmlError>(())
//! ```

use std::borrow::Cow;

use smallvec::SmallVec;

use super::xml::{
    self, Element, Ns, XmlError, XmlErrorKind, XmlLimits, XmlReader, COPY_CONTROL_NS,
    RESOURCE_LISTS_NS,
};

/// The media type of a resource-lists body.
pub const CONTENT_TYPE: &str = "application/resource-lists+xml";

/// The `Content-Disposition` of a resource-lists body that carries a URI list to a
/// URI-list service (RFC 5363, used by RFC 5366).
pub const CONTENT_DISPOSITION: &str = "recipient-list";

/// A `<resource-lists>` document: its top-level `<list>`s.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourceLists<'a> {
    /// The top-level lists, in document order.
    pub lists: Vec<List<'a>>,
}

/// A `<list>`: an optional name and display name, and its items in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct List<'a> {
    /// The `name` attribute.
    pub name: Option<Cow<'a, str>>,
    /// The `<display-name>` child.
    pub display_name: Option<Cow<'a, str>>,
    /// Entries, references and nested lists, in document order.
    pub items: Vec<ListItem<'a>>,
}

/// One child of a `<list>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListItem<'a> {
    /// An `<entry>`: one resource.
    Entry(Entry<'a>),
    /// An `<entry-ref>`: a reference to an entry in another document (kept, not resolved).
    EntryRef(Reference<'a>),
    /// An `<external>`: a reference to a whole list elsewhere (kept, not resolved).
    External(Reference<'a>),
    /// A nested `<list>`.
    List(List<'a>),
}

/// An `<entry>`: the URI of one invited user and the RFC 5364 attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The `uri` attribute (required).
    pub uri: Cow<'a, str>,
    /// The `<display-name>` child.
    pub display_name: Option<Cow<'a, str>>,
    /// The `cp:copyControl` attribute (RFC 5364); absent means [`CopyControl::To`].
    pub copy_control: Option<CopyControl>,
    /// The `cp:anonymize` attribute (RFC 5364): hide this URI from the other recipients.
    pub anonymize: Option<bool>,
    /// The `cp:count` attribute (RFC 5364): how many recipients this entry stands for.
    pub count: Option<u32>,
}

impl<'a> Entry<'a> {
    /// An entry for `uri` with no display name and no RFC 5364 attributes.
    pub fn new(uri: impl Into<Cow<'a, str>>) -> Self {
        Entry {
            uri: uri.into(),
            display_name: None,
            copy_control: None,
            anonymize: None,
            count: None,
        }
    }

    /// The copy-control role, with the RFC 5364 default `to` when absent.
    pub fn copy_control_or_default(&self) -> CopyControl {
        self.copy_control.unwrap_or(CopyControl::To)
    }

    /// Copies every borrowed value, detaching the entry from its input.
    pub fn into_owned(self) -> Entry<'static> {
        Entry {
            uri: Cow::Owned(self.uri.into_owned()),
            display_name: self.display_name.map(|d| Cow::Owned(d.into_owned())),
            copy_control: self.copy_control,
            anonymize: self.anonymize,
            count: self.count,
        }
    }
}

/// An `<entry-ref ref="…">` or `<external anchor="…">`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference<'a> {
    /// The `ref` (entry-ref) or `anchor` (external) URI.
    pub target: Cow<'a, str>,
    /// The `<display-name>` child.
    pub display_name: Option<Cow<'a, str>>,
}

/// The RFC 5364 `copyControl` role of a recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CopyControl {
    /// `to`: a primary recipient.
    To,
    /// `cc`: a carbon-copy recipient.
    Cc,
    /// `bcc`: a blind carbon-copy recipient, not shown to the others.
    Bcc,
}

impl CopyControl {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            CopyControl::To => "to",
            CopyControl::Cc => "cc",
            CopyControl::Bcc => "bcc",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value.trim_matches(|c: char| c.is_ascii_whitespace()) {
            "to" => Some(CopyControl::To),
            "cc" => Some(CopyControl::Cc),
            "bcc" => Some(CopyControl::Bcc),
            _ => None,
        }
    }
}

impl<'a> ResourceLists<'a> {
    /// A document of one unnamed list holding `entries`: the usual URI list of an
    /// invitation (RFC 5366).
    pub fn from_entries(entries: impl IntoIterator<Item = Entry<'a>>) -> Self {
        ResourceLists {
            lists: vec![List {
                name: None,
                display_name: None,
                items: entries.into_iter().map(ListItem::Entry).collect(),
            }],
        }
    }

    /// Parses a resource-lists document, borrowing from `input` where no escape
    /// needed decoding.
    pub fn parse(input: &'a [u8], limits: &XmlLimits) -> Result<Self, XmlError> {
        let mut reader = XmlReader::new(input, *limits)?;
        let root = reader.root()?;
        if !root.is(Ns::ResourceLists, "resource-lists") {
            return Err(XmlError::new(XmlErrorKind::UnexpectedRoot, root.offset));
        }
        let mut parser = Parser {
            reader,
            limit: limits.max_list_entries,
            entries: 0,
        };
        let mut lists = Vec::new();
        while let Some(child) = parser.reader.next_child()? {
            if child.is(Ns::ResourceLists, "list") {
                lists.push(parser.list(&child)?);
            } else {
                parser.reader.skip()?;
            }
        }
        parser.reader.finish()?;
        Ok(ResourceLists { lists })
    }

    /// Every entry of every list, depth-first in document order (nested lists
    /// flattened; references skipped).
    pub fn entries(&self) -> Entries<'_, 'a> {
        Entries {
            lists: self.lists.iter(),
            stack: SmallVec::new(),
        }
    }

    /// The number of entries [`ResourceLists::entries`] yields.
    pub fn entry_count(&self) -> usize {
        self.entries().count()
    }

    /// The first `<entry-ref>` or `<external>` anywhere in the document, for a
    /// service that does not resolve references and rejects them.
    pub fn first_reference(&self) -> Option<&Reference<'a>> {
        fn find<'l, 'a>(list: &'l List<'a>) -> Option<&'l Reference<'a>> {
            list.items.iter().find_map(|item| match item {
                ListItem::EntryRef(r) | ListItem::External(r) => Some(r),
                ListItem::List(l) => find(l),
                ListItem::Entry(_) => None,
            })
        }
        self.lists.iter().find_map(find)
    }

    /// Appends the document: an XML declaration, the resource-lists default
    /// namespace, and the copy-control namespace (prefix `cp`) only when an entry
    /// uses it.
    pub fn write(&self, out: &mut Vec<u8>) {
        let copy_control = self
            .entries()
            .any(|e| e.copy_control.is_some() || e.anonymize.is_some() || e.count.is_some());
        out.extend_from_slice(xml::XML_DECLARATION.as_bytes());
        out.extend_from_slice(b"<resource-lists");
        xml::write_attr(out, "xmlns", RESOURCE_LISTS_NS);
        if copy_control {
            xml::write_attr(out, "xmlns:cp", COPY_CONTROL_NS);
        }
        out.push(b'>');
        for list in &self.lists {
            write_list(out, list);
        }
        out.extend_from_slice(b"</resource-lists>\n");
    }

    /// Copies every borrowed value, detaching the document from its input.
    pub fn into_owned(self) -> ResourceLists<'static> {
        ResourceLists {
            lists: self.lists.into_iter().map(List::into_owned).collect(),
        }
    }
}

impl List<'_> {
    /// Copies every borrowed value, detaching the list from its input.
    pub fn into_owned(self) -> List<'static> {
        List {
            name: self.name.map(|n| Cow::Owned(n.into_owned())),
            display_name: self.display_name.map(|d| Cow::Owned(d.into_owned())),
            items: self
                .items
                .into_iter()
                .map(|item| match item {
                    ListItem::Entry(e) => ListItem::Entry(e.into_owned()),
                    ListItem::EntryRef(r) => ListItem::EntryRef(r.into_owned()),
                    ListItem::External(r) => ListItem::External(r.into_owned()),
                    ListItem::List(l) => ListItem::List(l.into_owned()),
                })
                .collect(),
        }
    }
}

impl Reference<'_> {
    /// Copies every borrowed value, detaching the reference from its input.
    pub fn into_owned(self) -> Reference<'static> {
        Reference {
            target: Cow::Owned(self.target.into_owned()),
            display_name: self.display_name.map(|d| Cow::Owned(d.into_owned())),
        }
    }
}

/// Iterator over the entries of a [`ResourceLists`], nested lists flattened.
#[derive(Debug, Clone)]
pub struct Entries<'l, 'a> {
    lists: std::slice::Iter<'l, List<'a>>,
    stack: SmallVec<[std::slice::Iter<'l, ListItem<'a>>; 4]>,
}

impl<'l, 'a> Iterator for Entries<'l, 'a> {
    type Item = &'l Entry<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some(top) = self.stack.last_mut() else {
                let list = self.lists.next()?;
                self.stack.push(list.items.iter());
                continue;
            };
            match top.next() {
                Some(ListItem::Entry(e)) => return Some(e),
                Some(ListItem::List(l)) => self.stack.push(l.items.iter()),
                Some(ListItem::EntryRef(_) | ListItem::External(_)) => {}
                None => {
                    self.stack.pop();
                }
            }
        }
    }
}

impl<'i> List<'i> {
    /// A list whose start tag `element` was just read: its name, no items.
    fn started(element: &Element<'i>) -> Self {
        List {
            name: element.attr(Ns::None, "name").map(|a| a.value.clone()),
            display_name: None,
            items: Vec::new(),
        }
    }
}

struct Parser<'i> {
    reader: XmlReader<'i>,
    limit: usize,
    entries: usize,
}

impl<'i> Parser<'i> {
    /// Counts one more entry-like element, failing past the limit.
    fn count(&mut self, element: &Element<'i>) -> Result<(), XmlError> {
        self.entries += 1;
        if self.entries > self.limit {
            return Err(XmlError::new(
                XmlErrorKind::TooManyEntries { limit: self.limit },
                element.offset,
            ));
        }
        Ok(())
    }

    /// The content of a `<list>` whose start tag was just read, nested lists
    /// included. Iterative: the lists being read are on a heap stack, so the
    /// nesting the input chooses never deepens the call stack.
    fn list(&mut self, element: &Element<'i>) -> Result<List<'i>, XmlError> {
        let mut open = vec![List::started(element)];
        loop {
            let Some(child) = self.reader.next_child()? else {
                // The innermost open list ended.
                let Some(done) = open.pop() else {
                    return Ok(List::default());
                };
                match open.last_mut() {
                    Some(parent) => parent.items.push(ListItem::List(done)),
                    None => return Ok(done),
                }
                continue;
            };
            if child.ns != Ns::ResourceLists {
                self.reader.skip()?;
                continue;
            }
            let item = match child.local {
                "display-name" => {
                    let text = self.reader.text()?;
                    if let Some(list) = open.last_mut() {
                        list.display_name = Some(text);
                    }
                    continue;
                }
                "entry" => {
                    self.count(&child)?;
                    ListItem::Entry(self.entry(&child)?)
                }
                "entry-ref" => {
                    self.count(&child)?;
                    let target = child.required("ref")?.value.clone();
                    ListItem::EntryRef(self.reference(target)?)
                }
                "external" => {
                    self.count(&child)?;
                    let target = child.required("anchor")?.value.clone();
                    ListItem::External(self.reference(target)?)
                }
                "list" => {
                    open.push(List::started(&child));
                    continue;
                }
                _ => {
                    self.reader.skip()?;
                    continue;
                }
            };
            if let Some(list) = open.last_mut() {
                list.items.push(item);
            }
        }
    }

    /// The content of an `<entry>` whose start tag was just read.
    fn entry(&mut self, element: &Element<'i>) -> Result<Entry<'i>, XmlError> {
        let mut entry = Entry::new(element.required("uri")?.value.clone());
        for attr in element.attrs.iter().filter(|a| a.ns == Ns::CopyControl) {
            match attr.local {
                "copyControl" => {
                    entry.copy_control = Some(CopyControl::parse(&attr.value).ok_or(
                        XmlError::new(XmlErrorKind::InvalidValue("copyControl"), attr.offset),
                    )?);
                }
                "anonymize" => {
                    entry.anonymize = Some(xml::parse_bool(&attr.value, "anonymize", attr.offset)?)
                }
                "count" => entry.count = Some(xml::parse_u32(&attr.value, "count", attr.offset)?),
                _ => {}
            }
        }
        entry.display_name = self.display_name_only()?;
        Ok(entry)
    }

    /// The content of an `<entry-ref>` or `<external>` whose start tag was just read.
    fn reference(&mut self, target: Cow<'i, str>) -> Result<Reference<'i>, XmlError> {
        Ok(Reference {
            target,
            display_name: self.display_name_only()?,
        })
    }

    /// Reads children up to the end tag, keeping the `<display-name>`.
    fn display_name_only(&mut self) -> Result<Option<Cow<'i, str>>, XmlError> {
        let mut display_name = None;
        while let Some(child) = self.reader.next_child()? {
            if child.is(Ns::ResourceLists, "display-name") {
                display_name = Some(self.reader.text()?);
            } else {
                self.reader.skip()?;
            }
        }
        Ok(display_name)
    }
}

fn write_display_name(out: &mut Vec<u8>, display_name: Option<&Cow<'_, str>>) {
    if let Some(d) = display_name {
        xml::write_text_element(out, "display-name", d);
    }
}

fn write_list(out: &mut Vec<u8>, list: &List<'_>) {
    out.extend_from_slice(b"<list");
    if let Some(name) = &list.name {
        xml::write_attr(out, "name", name);
    }
    out.push(b'>');
    write_display_name(out, list.display_name.as_ref());
    for item in &list.items {
        match item {
            ListItem::Entry(e) => write_entry(out, e),
            ListItem::EntryRef(r) => write_reference(out, "entry-ref", "ref", r),
            ListItem::External(r) => write_reference(out, "external", "anchor", r),
            ListItem::List(l) => write_list(out, l),
        }
    }
    out.extend_from_slice(b"</list>");
}

fn write_entry(out: &mut Vec<u8>, entry: &Entry<'_>) {
    out.extend_from_slice(b"<entry");
    xml::write_attr(out, "uri", &entry.uri);
    if let Some(c) = entry.copy_control {
        xml::write_attr(out, "cp:copyControl", c.as_str());
    }
    if let Some(a) = entry.anonymize {
        xml::write_attr(out, "cp:anonymize", if a { "true" } else { "false" });
    }
    if let Some(n) = entry.count {
        xml::write_attr_u32(out, "cp:count", n);
    }
    match &entry.display_name {
        Some(d) => {
            out.push(b'>');
            xml::write_text_element(out, "display-name", d);
            out.extend_from_slice(b"</entry>");
        }
        None => out.extend_from_slice(b"/>"),
    }
}

fn write_reference(out: &mut Vec<u8>, element: &str, attr: &str, r: &Reference<'_>) {
    out.push(b'<');
    out.extend_from_slice(element.as_bytes());
    xml::write_attr(out, attr, &r.target);
    match &r.display_name {
        Some(d) => {
            out.push(b'>');
            xml::write_text_element(out, "display-name", d);
            out.extend_from_slice(b"</");
            out.extend_from_slice(element.as_bytes());
            out.push(b'>');
        }
        None => out.extend_from_slice(b"/>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry_list(n: usize) -> String {
        let mut doc =
            String::from("<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list>");
        for i in 0..n {
            doc.push_str(&format!("<entry uri=\"sip:u{i}@example.com\"/>"));
        }
        doc.push_str("</list></resource-lists>");
        doc
    }

    #[test]
    fn entry_limit_counts_nested_lists_and_reports_the_offending_entry() {
        let limits = XmlLimits {
            max_list_entries: 2,
            ..XmlLimits::default()
        };
        let doc = entry_list(2);
        assert_eq!(
            ResourceLists::parse(doc.as_bytes(), &limits)
                .unwrap()
                .entry_count(),
            2
        );
        let doc = entry_list(3);
        let err = ResourceLists::parse(doc.as_bytes(), &limits).unwrap_err();
        assert_eq!(err.kind, XmlErrorKind::TooManyEntries { limit: 2 });
        assert!(doc[err.offset..].starts_with("<entry uri=\"sip:u2@"));
        let nested = "<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list>\
            <entry uri=\"sip:a@x\"/><list><entry uri=\"sip:b@x\"/></list><external anchor=\"http://x\"/>\
            </list></resource-lists>";
        let err = ResourceLists::parse(nested.as_bytes(), &limits).unwrap_err();
        assert_eq!(err.kind, XmlErrorKind::TooManyEntries { limit: 2 });
    }

    #[test]
    fn bad_attributes_are_typed_errors() {
        let doc = |attrs: &str| {
            format!(
                "<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\" \
                 xmlns:cp=\"urn:ietf:params:xml:ns:copycontrol\"><list><entry {attrs}/></list></resource-lists>"
            )
        };
        let limits = XmlLimits::default();
        let kind = |attrs: &str| {
            ResourceLists::parse(doc(attrs).as_bytes(), &limits)
                .unwrap_err()
                .kind
        };
        assert_eq!(kind(""), XmlErrorKind::MissingAttribute("uri"));
        assert_eq!(
            kind("uri='sip:a@b' cp:copyControl='from'"),
            XmlErrorKind::InvalidValue("copyControl")
        );
        assert_eq!(
            kind("uri='sip:a@b' cp:anonymize='yes'"),
            XmlErrorKind::InvalidValue("anonymize")
        );
        assert_eq!(
            kind("uri='sip:a@b' cp:count='-1'"),
            XmlErrorKind::InvalidValue("count")
        );
    }

    #[test]
    fn wrong_root_is_rejected() {
        let err = ResourceLists::parse(b"<resource-lists/>", &XmlLimits::default()).unwrap_err();
        assert_eq!(err.kind, XmlErrorKind::UnexpectedRoot);
    }

    #[test]
    fn entries_flatten_depth_first_and_references_are_found() {
        let doc = br#"<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">
            <list><entry uri="sip:1@x"/><list><entry uri="sip:2@x"/><list/><entry uri="sip:3@x"/></list>
            <entry-ref ref="r"/><entry uri="sip:4@x"/></list><list/><list><entry uri="sip:5@x"/></list>
            </resource-lists>"#;
        let lists = ResourceLists::parse(doc, &XmlLimits::default()).unwrap();
        let uris: Vec<&str> = lists.entries().map(|e| &*e.uri).collect();
        assert_eq!(
            uris,
            ["sip:1@x", "sip:2@x", "sip:3@x", "sip:4@x", "sip:5@x"]
        );
        assert_eq!(lists.first_reference().unwrap().target, "r");
    }
}
