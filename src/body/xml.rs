//! Shared XML reading and writing for the XML bodies: [`XmlLimits`], [`XmlError`],
//! and a small pull reader over quick-xml's namespace-aware [`NsReader`].
//!
//! The reader is strict about what could make parsing costly or unsafe and lenient
//! about the rest:
//!
//! * the input must be UTF-8 and at most [`XmlLimits::max_document_size`] bytes;
//! * a `<!DOCTYPE …>` (and so any entity declaration) is rejected with
//!   [`XmlErrorKind::DoctypeNotAllowed`]; only the five predefined entities and
//!   character references are decoded, any other reference is
//!   [`XmlErrorKind::UnknownEntity`];
//! * nesting depth, attributes per element and the length of each text or attribute
//!   value are bounded, and each bound is checked as soon as the element or value
//!   is seen;
//! * stray text between elements, comments and processing instructions are ignored.

use std::borrow::Cow;
use std::fmt;

use quick_xml::events::attributes::Attributes;
use quick_xml::events::{BytesEnd, BytesRef, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};
use smallvec::SmallVec;

use crate::decimal::push_decimal;

/// Limits on what a parsed XML body may contain. Input over any limit is rejected
/// with the matching [`XmlErrorKind`], detected while reading, before the rest of
/// the document is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlLimits {
    /// Largest accepted document, in bytes (checked before anything is parsed).
    pub max_document_size: usize,
    /// Deepest accepted element nesting; the root element is at depth 1.
    /// Values above [`XmlLimits::DEPTH_CEILING`] act as the ceiling: nested
    /// resource lists are parsed, written and dropped recursively, and the
    /// ceiling keeps that recursion far inside any thread's stack whatever
    /// the configuration.
    pub max_depth: usize,
    /// Most attributes (namespace declarations included) on one element.
    pub max_attributes: usize,
    /// Longest text content or attribute value, in bytes before decoding.
    pub max_text_len: usize,
    /// Most `<entry>`, `<entry-ref>` and `<external>` elements in a resource-lists
    /// document, counted over all its (nested) lists. Over it is
    /// [`XmlErrorKind::TooManyEntries`], which a controlling IM Server answers with
    /// `486 Busy Here` ("too many participants"): the server sets this to its
    /// maximum number of participants of an Ad-hoc IM Group Session, the client to
    /// its provisioned `MAX-ADHOC-GROUP-SIZE`.
    pub max_list_entries: usize,
    /// Most `<user>` elements in a conference-info document.
    pub max_users: usize,
    /// Most repeated children of any other kind in one conference-info element
    /// (endpoints of a user, media of an endpoint, URI entries, roles, languages).
    pub max_children: usize,
}

impl XmlLimits {
    /// The deepest nesting any configuration accepts (see
    /// [`XmlLimits::max_depth`]): 128 levels, a few tens of kilobytes of
    /// stack in the recursive walks of nested resource lists.
    pub const DEPTH_CEILING: usize = 128;

    /// The nesting limit in force: [`XmlLimits::max_depth`], at most
    /// [`XmlLimits::DEPTH_CEILING`].
    ///
    /// ```
    /// use oma_im::body::xml::XmlLimits;
    /// let limits = XmlLimits { max_depth: usize::MAX, ..XmlLimits::default() };
    /// assert_eq!(limits.effective_max_depth(), XmlLimits::DEPTH_CEILING);
    /// ```
    pub fn effective_max_depth(&self) -> usize {
        self.max_depth.min(Self::DEPTH_CEILING)
    }
}

impl Default for XmlLimits {
    fn default() -> Self {
        XmlLimits {
            max_document_size: 1 << 20,
            max_depth: 16,
            max_attributes: 16,
            max_text_len: 4096,
            max_list_entries: 100,
            max_users: 1000,
            max_children: 64,
        }
    }
}

/// Why an XML body was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum XmlErrorKind {
    /// The document is longer than [`XmlLimits::max_document_size`].
    TooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// The bytes are not UTF-8 (the only encoding accepted).
    InvalidUtf8,
    /// The XML declaration names an encoding other than UTF-8.
    UnsupportedEncoding,
    /// The document is not well-formed XML.
    Malformed,
    /// A `<!DOCTYPE …>` declaration: DTDs and entity declarations are never processed.
    DoctypeNotAllowed,
    /// A reference to an entity other than `lt`, `gt`, `amp`, `apos`, `quot`, or a
    /// malformed character reference.
    UnknownEntity,
    /// A namespace prefix that is not declared.
    UnknownPrefix,
    /// Elements nested deeper than [`XmlLimits::max_depth`].
    TooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// An element with more than [`XmlLimits::max_attributes`] attributes.
    TooManyAttributes {
        /// The limit in force.
        limit: usize,
    },
    /// A text or attribute value longer than [`XmlLimits::max_text_len`].
    TextTooLong {
        /// The limit in force.
        limit: usize,
    },
    /// A resource-lists document with more than [`XmlLimits::max_list_entries`]
    /// entries: a controlling IM Server answers `486 Busy Here` with the warning
    /// "too many participants"; an IM Client tells its user.
    TooManyEntries {
        /// The limit in force.
        limit: usize,
    },
    /// A conference-info document with more than [`XmlLimits::max_users`] users.
    TooManyUsers {
        /// The limit in force.
        limit: usize,
    },
    /// More than [`XmlLimits::max_children`] repeated children in one element.
    TooManyChildren {
        /// The limit in force.
        limit: usize,
    },
    /// The root element is not the one expected (wrong name or namespace).
    UnexpectedRoot,
    /// No root element at all.
    MissingRoot,
    /// Something other than comments, processing instructions or white space after
    /// the root element.
    TrailingContent,
    /// A required attribute is absent.
    MissingAttribute(&'static str),
    /// A required child element is absent.
    MissingElement(&'static str),
    /// The named attribute or element has a value outside its type.
    InvalidValue(&'static str),
}

/// An XML body that could not be parsed: what and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    /// What was wrong.
    pub kind: XmlErrorKind,
    /// Byte offset in the input where it was found.
    pub offset: usize,
}

impl XmlError {
    pub(crate) fn new(kind: XmlErrorKind, offset: usize) -> Self {
        XmlError { kind, offset }
    }
}

impl fmt::Display for XmlErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XmlErrorKind::TooLarge { limit } => write!(f, "document larger than {limit} bytes"),
            XmlErrorKind::InvalidUtf8 => f.write_str("document is not UTF-8"),
            XmlErrorKind::UnsupportedEncoding => f.write_str("encoding other than UTF-8"),
            XmlErrorKind::Malformed => f.write_str("malformed XML"),
            XmlErrorKind::DoctypeNotAllowed => f.write_str("DOCTYPE declarations are not allowed"),
            XmlErrorKind::UnknownEntity => f.write_str("unknown entity or bad character reference"),
            XmlErrorKind::UnknownPrefix => f.write_str("undeclared namespace prefix"),
            XmlErrorKind::TooDeep { limit } => write!(f, "elements nested deeper than {limit}"),
            XmlErrorKind::TooManyAttributes { limit } => {
                write!(f, "more than {limit} attributes on an element")
            }
            XmlErrorKind::TextTooLong { limit } => write!(f, "value longer than {limit} bytes"),
            XmlErrorKind::TooManyEntries { limit } => {
                write!(f, "too many participants: more than {limit} list entries")
            }
            XmlErrorKind::TooManyUsers { limit } => write!(f, "more than {limit} users"),
            XmlErrorKind::TooManyChildren { limit } => {
                write!(f, "more than {limit} repeated child elements")
            }
            XmlErrorKind::UnexpectedRoot => f.write_str("unexpected root element"),
            XmlErrorKind::MissingRoot => f.write_str("no root element"),
            XmlErrorKind::TrailingContent => f.write_str("content after the root element"),
            XmlErrorKind::MissingAttribute(name) => write!(f, "missing attribute {name}"),
            XmlErrorKind::MissingElement(name) => write!(f, "missing element <{name}>"),
            XmlErrorKind::InvalidValue(name) => write!(f, "invalid value of {name}"),
        }
    }
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for XmlError {}

/// The namespaces the bodies know; everything else is [`Ns::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ns {
    /// No namespace (unprefixed attributes, or elements with no default namespace).
    None,
    /// `urn:ietf:params:xml:ns:resource-lists` (RFC 4826).
    ResourceLists,
    /// `urn:ietf:params:xml:ns:copycontrol` (RFC 5364).
    CopyControl,
    /// `urn:ietf:params:xml:ns:conference-info` (RFC 4575).
    ConferenceInfo,
    /// `urn:ietf:params:xml:ns:imdn` (RFC 5438).
    Imdn,
    /// `urn:ietf:params:xml:ns:im-iscomposing` (RFC 3994).
    IsComposing,
    /// Any other namespace.
    Other,
}

/// The resource-lists namespace (RFC 4826).
pub const RESOURCE_LISTS_NS: &str = "urn:ietf:params:xml:ns:resource-lists";
/// The copy-control namespace of the `copyControl`, `anonymize` and `count`
/// attributes (RFC 5364).
pub const COPY_CONTROL_NS: &str = "urn:ietf:params:xml:ns:copycontrol";
/// The conference-info namespace (RFC 4575).
pub const CONFERENCE_INFO_NS: &str = "urn:ietf:params:xml:ns:conference-info";

impl Ns {
    fn from_uri(uri: &str) -> Ns {
        match uri {
            RESOURCE_LISTS_NS => Ns::ResourceLists,
            COPY_CONTROL_NS => Ns::CopyControl,
            CONFERENCE_INFO_NS => Ns::ConferenceInfo,
            super::imdn::IMDN_NS => Ns::Imdn,
            super::iscomposing::ISCOMPOSING_NS => Ns::IsComposing,
            _ => Ns::Other,
        }
    }
}

/// One attribute of an [`Element`], its value decoded.
#[derive(Debug, Clone)]
pub(crate) struct Attr<'i> {
    pub ns: Ns,
    pub local: &'i str,
    pub value: Cow<'i, str>,
    pub offset: usize,
}

/// A start tag: its resolved name and its attributes (namespace declarations left out).
#[derive(Debug, Clone)]
pub(crate) struct Element<'i> {
    pub ns: Ns,
    pub local: &'i str,
    pub offset: usize,
    pub attrs: SmallVec<[Attr<'i>; 4]>,
}

impl<'i> Element<'i> {
    /// Whether this element is `local` in namespace `ns`.
    pub fn is(&self, ns: Ns, local: &str) -> bool {
        self.ns == ns && self.local == local
    }

    /// The value of the attribute `local` in namespace `ns`, if present.
    pub fn attr(&self, ns: Ns, local: &str) -> Option<&Attr<'i>> {
        self.attrs.iter().find(|a| a.ns == ns && a.local == local)
    }

    /// The value of the required unprefixed attribute `local`.
    pub fn required(&self, local: &'static str) -> Result<&Attr<'i>, XmlError> {
        self.attr(Ns::None, local).ok_or(XmlError::new(
            XmlErrorKind::MissingAttribute(local),
            self.offset,
        ))
    }
}

/// A pull reader over one document. After [`XmlReader::root`] or
/// [`XmlReader::next_child`] returns an element, its content must be consumed by
/// exactly one of: calling `next_child` until `None`, [`XmlReader::text`], or
/// [`XmlReader::skip`].
pub(crate) struct XmlReader<'i> {
    input: &'i [u8],
    reader: NsReader<&'i [u8]>,
    limits: XmlLimits,
    depth: usize,
    /// An empty-element tag was just returned: its end comes next.
    pending_end: bool,
}

impl<'i> XmlReader<'i> {
    /// Checks the size of `input` and prepares to read it. UTF-8 is checked piece by
    /// piece as the document is read, so a document rejected early is not scanned
    /// to its end.
    pub fn new(input: &'i [u8], limits: XmlLimits) -> Result<Self, XmlError> {
        if input.len() > limits.max_document_size {
            return Err(XmlError::new(
                XmlErrorKind::TooLarge {
                    limit: limits.max_document_size,
                },
                limits.max_document_size,
            ));
        }
        let mut reader = NsReader::from_reader(input);
        let config = reader.config_mut();
        // Empty-element tags are expanded here rather than by quick-xml, whose
        // expansion allocates the name of every such element.
        config.expand_empty_elements = false;
        config.check_end_names = true;
        config.trim_text(false);
        Ok(XmlReader {
            input,
            reader,
            limits,
            depth: 0,
            pending_end: false,
        })
    }

    fn position(&self) -> usize {
        usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX)
    }

    fn error(&self, kind: XmlErrorKind) -> XmlError {
        XmlError::new(kind, self.position())
    }

    fn read(&mut self) -> Result<Event<'i>, XmlError> {
        if self.pending_end {
            self.pending_end = false;
            return Ok(Event::End(BytesEnd::new("")));
        }
        match self.reader.read_event() {
            Ok(Event::Empty(start)) => {
                self.pending_end = true;
                Ok(Event::Start(start))
            }
            Ok(Event::DocType(_)) => Err(self.error(XmlErrorKind::DoctypeNotAllowed)),
            Ok(event) => Ok(event),
            Err(e) => {
                let kind = match e {
                    quick_xml::Error::Escape(_) => XmlErrorKind::UnknownEntity,
                    quick_xml::Error::Encoding(_) => XmlErrorKind::InvalidUtf8,
                    _ => XmlErrorKind::Malformed,
                };
                let offset = usize::try_from(self.reader.error_position()).unwrap_or(usize::MAX);
                Err(XmlError::new(kind, offset))
            }
        }
    }

    /// Reads the prolog and returns the root element; rejects a DOCTYPE and any
    /// declared encoding other than UTF-8.
    pub fn root(&mut self) -> Result<Element<'i>, XmlError> {
        loop {
            let start = self.position();
            match self.read()? {
                Event::Decl(decl) => {
                    if let Some(encoding) = decl.encoding() {
                        let encoding =
                            encoding.map_err(|_| XmlError::new(XmlErrorKind::Malformed, start))?;
                        if !encoding.eq_ignore_ascii_case("utf-8") {
                            return Err(XmlError::new(XmlErrorKind::UnsupportedEncoding, start));
                        }
                    }
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if t.trim_ascii().is_empty() => {}
                Event::Start(_) => return self.element(start),
                Event::Eof => return Err(XmlError::new(XmlErrorKind::MissingRoot, start)),
                _ => return Err(XmlError::new(XmlErrorKind::Malformed, start)),
            }
        }
    }

    /// After the root element: only comments, processing instructions and white
    /// space may follow.
    pub fn finish(&mut self) -> Result<(), XmlError> {
        loop {
            let start = self.position();
            match self.read()? {
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if t.trim_ascii().is_empty() => {}
                Event::Eof => return Ok(()),
                _ => return Err(XmlError::new(XmlErrorKind::TrailingContent, start)),
            }
        }
    }

    /// Builds the [`Element`] of the start tag just read (at byte `start`): resolves
    /// its name and attributes, and checks the depth and attribute limits.
    fn element(&mut self, start: usize) -> Result<Element<'i>, XmlError> {
        self.depth += 1;
        if self.depth > self.limits.effective_max_depth() {
            return Err(XmlError::new(
                XmlErrorKind::TooDeep {
                    limit: self.limits.effective_max_depth(),
                },
                start,
            ));
        }
        // The tag text is `<name attrs>` starting at `start`; re-read the tag from the
        // input so that names and values borrow the input, not the reader.
        let end = self.position();
        let tag = self
            .input
            .get(start..end)
            .and_then(|t| std::str::from_utf8(t).ok())
            .and_then(|t| t.strip_prefix('<'))
            .and_then(|t| t.strip_suffix('>'))
            .ok_or(XmlError::new(XmlErrorKind::Malformed, start))?;
        let tag = tag.strip_suffix('/').unwrap_or(tag);
        let name_len = tag
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(tag.len());
        let (qname, raw_attrs) = tag.split_at(name_len);
        let resolver = self.reader.resolver();
        let (ns, local) = resolver.resolve_element(quick_xml::name::QName(qname));
        let ns = match ns {
            ResolveResult::Bound(uri) => Ns::from_uri(uri.into_inner()),
            ResolveResult::Unbound => Ns::None,
            ResolveResult::Unknown(_) => {
                return Err(XmlError::new(XmlErrorKind::UnknownPrefix, start))
            }
        };
        let local = local.into_inner();
        let attrs_offset = start + 1 + name_len;
        let mut attrs = SmallVec::new();
        // Duplicates are checked here rather than by quick-xml, whose check allocates
        // for every element; the attribute count is bounded, so this stays cheap.
        let mut keys: SmallVec<[&str; 8]> = SmallVec::new();
        for attr in Attributes::new(raw_attrs, 0).with_checks(false) {
            let attr = attr.map_err(|_| XmlError::new(XmlErrorKind::Malformed, attrs_offset))?;
            if keys.len() >= self.limits.max_attributes {
                return Err(XmlError::new(
                    XmlErrorKind::TooManyAttributes {
                        limit: self.limits.max_attributes,
                    },
                    attrs_offset,
                ));
            }
            let key = attr.key.into_inner();
            let offset =
                attrs_offset + (key.as_ptr() as usize).saturating_sub(raw_attrs.as_ptr() as usize);
            if keys.contains(&key) {
                return Err(XmlError::new(XmlErrorKind::Malformed, offset));
            }
            keys.push(key);
            if attr.value.len() > self.limits.max_text_len {
                return Err(XmlError::new(
                    XmlErrorKind::TextTooLong {
                        limit: self.limits.max_text_len,
                    },
                    offset,
                ));
            }
            let key = attr.key;
            if key.as_namespace_binding().is_some() {
                continue;
            }
            let (ns, local) = resolver.resolve_attribute(key);
            let ns = match ns {
                ResolveResult::Bound(uri) => Ns::from_uri(uri.into_inner()),
                ResolveResult::Unbound => Ns::None,
                ResolveResult::Unknown(_) => {
                    return Err(XmlError::new(XmlErrorKind::UnknownPrefix, offset))
                }
            };
            let local = local.into_inner();
            let value = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|_| XmlError::new(XmlErrorKind::UnknownEntity, offset))?;
            attrs.push(Attr {
                ns,
                local,
                value,
                offset,
            });
        }
        Ok(Element {
            ns,
            local,
            offset: start,
            attrs,
        })
    }

    /// The next child element of the current element, or `None` once its end tag
    /// has been read. Text, comments and processing instructions between child
    /// elements are ignored.
    pub fn next_child(&mut self) -> Result<Option<Element<'i>>, XmlError> {
        loop {
            let start = self.position();
            match self.read()? {
                Event::Start(_) => return self.element(start).map(Some),
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(None);
                }
                Event::Text(t) => self.check_len(t.len(), start)?,
                Event::CData(t) => self.check_len(t.len(), start)?,
                Event::GeneralRef(r) => {
                    resolve_reference(&r)
                        .ok_or(XmlError::new(XmlErrorKind::UnknownEntity, start))?;
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => return Err(XmlError::new(XmlErrorKind::Malformed, start)),
                Event::Decl(_) | Event::Empty(_) | Event::DocType(_) => {
                    return Err(XmlError::new(XmlErrorKind::Malformed, start))
                }
            }
        }
    }

    fn check_len(&self, len: usize, offset: usize) -> Result<(), XmlError> {
        if len > self.limits.max_text_len {
            return Err(XmlError::new(
                XmlErrorKind::TextTooLong {
                    limit: self.limits.max_text_len,
                },
                offset,
            ));
        }
        Ok(())
    }

    /// The text content of the current element (character references and the
    /// predefined entities decoded, CDATA sections included), reading up to and
    /// including its end tag. Child elements inside it are skipped. Borrows the
    /// input when the text is one run without references.
    pub fn text(&mut self) -> Result<Cow<'i, str>, XmlError> {
        let mut text: Cow<'i, str> = Cow::Borrowed("");
        let mut len = 0usize;
        loop {
            let start = self.position();
            let piece: Cow<'i, str> = match self.read()? {
                Event::Text(t) => {
                    len = len.saturating_add(t.len());
                    self.check_len(len, start)?;
                    t.xml10_content()
                }
                Event::CData(t) => {
                    len = len.saturating_add(t.len());
                    self.check_len(len, start)?;
                    t.xml10_content()
                }
                Event::GeneralRef(r) => {
                    len = len.saturating_add(r.len());
                    self.check_len(len, start)?;
                    let c = resolve_reference(&r)
                        .ok_or(XmlError::new(XmlErrorKind::UnknownEntity, start))?;
                    let mut buf = [0u8; 4];
                    Cow::Owned(c.encode_utf8(&mut buf).to_owned())
                }
                Event::Start(_) => {
                    self.element(start)?;
                    self.skip()?;
                    continue;
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(text);
                }
                Event::Comment(_) | Event::PI(_) => continue,
                Event::Eof | Event::Decl(_) | Event::Empty(_) | Event::DocType(_) => {
                    return Err(XmlError::new(XmlErrorKind::Malformed, start))
                }
            };
            if text.is_empty() {
                text = piece;
            } else {
                text.to_mut().push_str(&piece);
            }
        }
    }

    /// Skips the rest of the current element, up to and including its end tag.
    pub fn skip(&mut self) -> Result<(), XmlError> {
        let target = self.depth.saturating_sub(1);
        while self.depth > target {
            let start = self.position();
            match self.read()? {
                Event::Start(_) => {
                    self.depth += 1;
                    if self.depth > self.limits.effective_max_depth() {
                        return Err(XmlError::new(
                            XmlErrorKind::TooDeep {
                                limit: self.limits.effective_max_depth(),
                            },
                            start,
                        ));
                    }
                }
                Event::End(_) => self.depth = self.depth.saturating_sub(1),
                Event::GeneralRef(r) => {
                    resolve_reference(&r)
                        .ok_or(XmlError::new(XmlErrorKind::UnknownEntity, start))?;
                }
                Event::Eof | Event::Decl(_) | Event::DocType(_) => {
                    return Err(XmlError::new(XmlErrorKind::Malformed, start))
                }
                Event::Text(_)
                | Event::CData(_)
                | Event::Comment(_)
                | Event::PI(_)
                | Event::Empty(_) => {}
            }
        }
        Ok(())
    }
}

/// The character a reference stands for: one of the five predefined entities or a
/// character reference; `None` for anything else.
fn resolve_reference(r: &BytesRef<'_>) -> Option<char> {
    if r.is_char_ref() {
        return r.resolve_char_ref().ok().flatten();
    }
    match &**r {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

/// Parses an `xs:unsignedInt`-like value (surrounding white space allowed).
pub(crate) fn parse_u32(value: &str, name: &'static str, offset: usize) -> Result<u32, XmlError> {
    let v = value.trim_matches(|c: char| c.is_ascii_whitespace());
    let v = v.strip_prefix('+').unwrap_or(v);
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(XmlError::new(XmlErrorKind::InvalidValue(name), offset));
    }
    v.parse()
        .map_err(|_| XmlError::new(XmlErrorKind::InvalidValue(name), offset))
}

/// Parses an `xs:boolean` (`true`, `false`, `1`, `0`; surrounding white space allowed).
pub(crate) fn parse_bool(value: &str, name: &'static str, offset: usize) -> Result<bool, XmlError> {
    match value.trim_matches(|c: char| c.is_ascii_whitespace()) {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(XmlError::new(XmlErrorKind::InvalidValue(name), offset)),
    }
}

/// The XML declaration every writer starts with.
pub(crate) const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// Appends `text` escaped for element content: `&`, `<`, `>` and carriage return
/// (which a reader would otherwise normalize away) become references.
pub(crate) fn write_text(out: &mut Vec<u8>, text: &str) {
    write_escaped(out, text, false);
}

/// Appends `value` escaped for a double-quoted attribute value: also `"`, and the
/// white space characters that attribute-value normalization would turn into spaces.
pub(crate) fn write_attr_value(out: &mut Vec<u8>, value: &str) {
    write_escaped(out, value, true);
}

fn write_escaped(out: &mut Vec<u8>, text: &str, attribute: bool) {
    let bytes = text.as_bytes();
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let replacement: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\r' => b"&#13;",
            b'"' if attribute => b"&quot;",
            b'\n' if attribute => b"&#10;",
            b'\t' if attribute => b"&#9;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[last..i]);
        out.extend_from_slice(replacement);
        last = i + 1;
    }
    out.extend_from_slice(&bytes[last..]);
}

/// Appends ` name="value"` with the value escaped.
pub(crate) fn write_attr(out: &mut Vec<u8>, name: &str, value: &str) {
    out.push(b' ');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"=\"");
    write_attr_value(out, value);
    out.push(b'"');
}

/// Appends ` name="n"`.
pub(crate) fn write_attr_u32(out: &mut Vec<u8>, name: &str, n: u32) {
    out.push(b' ');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"=\"");
    push_decimal(out, u64::from(n));
    out.push(b'"');
}

/// Appends `<name>text</name>` with the text escaped.
pub(crate) fn write_text_element(out: &mut Vec<u8>, name: &str, text: &str) {
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
    write_text(out, text);
    out.extend_from_slice(b"</");
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(doc: &str) -> XmlReader<'_> {
        XmlReader::new(doc.as_bytes(), XmlLimits::default()).unwrap()
    }

    #[test]
    fn text_borrows_when_unescaped_and_decodes_references() {
        let doc = "<a xmlns='urn:x'><b>plain</b><c>x &amp; y&#x41;<![CDATA[<z>]]></c></a>";
        let mut r = reader(doc);
        let root = r.root().unwrap();
        assert_eq!(root.local, "a");
        assert_eq!(root.ns, Ns::Other);
        let b = r.next_child().unwrap().unwrap();
        assert_eq!(b.local, "b");
        assert!(matches!(r.text().unwrap(), Cow::Borrowed("plain")));
        assert_eq!(r.next_child().unwrap().unwrap().local, "c");
        assert_eq!(r.text().unwrap(), "x & yA<z>");
        assert!(r.next_child().unwrap().is_none());
        r.finish().unwrap();
    }

    #[test]
    fn attributes_resolve_namespaces_and_borrow() {
        let doc = r#"<r xmlns="urn:ietf:params:xml:ns:resource-lists" xmlns:cp="urn:ietf:params:xml:ns:copycontrol"><e uri="sip:a@b" cp:copyControl="cc" esc="a&lt;b"/></r>"#;
        let mut r = reader(doc);
        let root = r.root().unwrap();
        assert_eq!(root.ns, Ns::ResourceLists);
        assert!(root.attrs.is_empty());
        let e = r.next_child().unwrap().unwrap();
        assert!(e.is(Ns::ResourceLists, "e"));
        assert!(matches!(
            e.required("uri").unwrap().value,
            Cow::Borrowed("sip:a@b")
        ));
        assert_eq!(e.attr(Ns::CopyControl, "copyControl").unwrap().value, "cc");
        assert_eq!(e.attr(Ns::None, "esc").unwrap().value, "a<b");
        assert_eq!(&doc[e.attr(Ns::None, "esc").unwrap().offset..][..3], "esc");
    }

    #[test]
    fn doctype_and_unknown_entities_are_rejected() {
        let doc = "<?xml version='1.0'?><!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>";
        let mut r = reader(doc);
        assert_eq!(r.root().unwrap_err().kind, XmlErrorKind::DoctypeNotAllowed);
        let mut r = reader("<a>&x;</a>");
        r.root().unwrap();
        assert_eq!(r.text().unwrap_err().kind, XmlErrorKind::UnknownEntity);
        let mut r = reader("<a b='&x;'/>");
        assert_eq!(r.root().unwrap_err().kind, XmlErrorKind::UnknownEntity);
    }

    #[test]
    fn limits_are_enforced() {
        let limits = XmlLimits {
            max_depth: 2,
            max_attributes: 1,
            max_text_len: 3,
            ..XmlLimits::default()
        };
        let mut r = XmlReader::new(b"<a><b><c/></b></a>", limits).unwrap();
        r.root().unwrap();
        r.next_child().unwrap();
        assert_eq!(
            r.next_child().unwrap_err().kind,
            XmlErrorKind::TooDeep { limit: 2 }
        );
        let mut r = XmlReader::new(b"<a x='1' y='2'/>", limits).unwrap();
        assert_eq!(
            r.root().unwrap_err().kind,
            XmlErrorKind::TooManyAttributes { limit: 1 }
        );
        let mut r = XmlReader::new(b"<a>abcd</a>", limits).unwrap();
        r.root().unwrap();
        assert_eq!(
            r.text().unwrap_err().kind,
            XmlErrorKind::TextTooLong { limit: 3 }
        );
        let small = XmlLimits {
            max_document_size: 4,
            ..XmlLimits::default()
        };
        assert_eq!(
            XmlReader::new(b"<a/> ", small).err().unwrap().kind,
            XmlErrorKind::TooLarge { limit: 4 }
        );
    }

    #[test]
    fn structure_errors() {
        assert_eq!(
            reader("").root().unwrap_err().kind,
            XmlErrorKind::MissingRoot
        );
        let mut r = reader("<a/><b/>");
        r.root().unwrap();
        assert!(r.next_child().unwrap().is_none());
        assert_eq!(r.finish().unwrap_err().kind, XmlErrorKind::TrailingContent);
        let mut r = reader("<p:a/>");
        assert_eq!(r.root().unwrap_err().kind, XmlErrorKind::UnknownPrefix);
        let mut r = reader("<?xml version='1.0' encoding='ISO-8859-1'?><a/>");
        assert_eq!(
            r.root().unwrap_err().kind,
            XmlErrorKind::UnsupportedEncoding
        );
        let mut r = XmlReader::new(b"<a>\xff</a>", XmlLimits::default()).unwrap();
        r.root().unwrap();
        assert_eq!(r.text().unwrap_err().kind, XmlErrorKind::InvalidUtf8);
        let mut r = XmlReader::new(b"<a\xff/>", XmlLimits::default()).unwrap();
        assert_eq!(r.root().unwrap_err().kind, XmlErrorKind::InvalidUtf8);
        let mut r = reader("<a b='1' c='2' b='3'/>");
        let err = r.root().unwrap_err();
        assert_eq!(err, XmlError::new(XmlErrorKind::Malformed, 15));
    }

    #[test]
    fn escaping_round_trips() {
        let mut out = Vec::new();
        write_attr(&mut out, "v", "a\"<&>\t\n\r'");
        assert_eq!(out, b" v=\"a&quot;&lt;&amp;&gt;&#9;&#10;&#13;'\"");
        out.clear();
        write_text(&mut out, "x<y\r\n");
        assert_eq!(out, b"x&lt;y&#13;\n");
    }
}
