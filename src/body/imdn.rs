//! `message/imdn+xml` (RFC 5438 §7): the Instant Message Disposition
//! Notification a recipient (or an IMDN-capable intermediary) sends back
//! about one message — delivered, displayed or processed, or why not.
//!
//! The document names the message by its `imdn.Message-ID` and `DateTime`
//! (the CPIM header fields of the message it reports on), optionally the
//! recipient, and carries exactly one notification with one status. Unknown
//! elements (extensions) are skipped; an unknown status is an error.
//!
//! ```
//! use oma_im::body::imdn::{Imdn, Notification, DeliveryStatus};
//! use oma_im::body::xml::XmlLimits;
//!
//! let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
//! <imdn xmlns="urn:ietf:params:xml:ns:imdn">
//!   <message-id>34jk324j</message-id>
//!   <datetime>2008-04-04T12:16:49-05:00</datetime>
//!   <recipient-uri>im:bob@example.com</recipient-uri>
//!   <delivery-notification><status><delivered/></status></delivery-notification>
//! </imdn>"#;
//! let imdn = Imdn::parse(doc, &XmlLimits::default()).unwrap();
//! assert_eq!(imdn.message_id, "34jk324j");
//! assert_eq!(imdn.notification, Notification::Delivery(DeliveryStatus::Delivered));
//! let mut out = Vec::new();
//! imdn.write(&mut out);
//! assert_eq!(Imdn::parse(&out, &XmlLimits::default()).unwrap(), imdn);
//! ```

use std::borrow::Cow;

use super::xml::{self, Ns, XmlError, XmlErrorKind, XmlLimits, XmlReader};

/// The media type of a disposition notification.
pub const CONTENT_TYPE: &str = "message/imdn+xml";

/// The namespace of the document (RFC 5438 §7.2).
pub const IMDN_NS: &str = "urn:ietf:params:xml:ns:imdn";

/// The outcome of delivering a message (RFC 5438 §7.2.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// `<delivered/>`.
    Delivered,
    /// `<failed/>`.
    Failed,
    /// `<forbidden/>`: the recipient or an intermediary refuses to say.
    Forbidden,
    /// `<error/>`.
    Error,
}

/// The outcome of showing a message to its user (RFC 5438 §7.2.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayStatus {
    /// `<displayed/>`.
    Displayed,
    /// `<forbidden/>`.
    Forbidden,
    /// `<error/>`.
    Error,
}

/// What an intermediary did with a message (RFC 5438 §7.2.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessingStatus {
    /// `<processed/>`.
    Processed,
    /// `<stored/>`: kept for later delivery.
    Stored,
    /// `<forbidden/>`.
    Forbidden,
    /// `<error/>`.
    Error,
}

/// The one notification a document carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notification {
    /// `<delivery-notification>`.
    Delivery(DeliveryStatus),
    /// `<display-notification>`.
    Display(DisplayStatus),
    /// `<processing-notification>`.
    Processing(ProcessingStatus),
}

impl Notification {
    fn element(self) -> &'static str {
        match self {
            Notification::Delivery(_) => "delivery-notification",
            Notification::Display(_) => "display-notification",
            Notification::Processing(_) => "processing-notification",
        }
    }

    fn status(self) -> &'static str {
        match self {
            Notification::Delivery(s) => match s {
                DeliveryStatus::Delivered => "delivered",
                DeliveryStatus::Failed => "failed",
                DeliveryStatus::Forbidden => "forbidden",
                DeliveryStatus::Error => "error",
            },
            Notification::Display(s) => match s {
                DisplayStatus::Displayed => "displayed",
                DisplayStatus::Forbidden => "forbidden",
                DisplayStatus::Error => "error",
            },
            Notification::Processing(s) => match s {
                ProcessingStatus::Processed => "processed",
                ProcessingStatus::Stored => "stored",
                ProcessingStatus::Forbidden => "forbidden",
                ProcessingStatus::Error => "error",
            },
        }
    }

    /// The notification of `kind` (an element name) with status `status`.
    fn from_names(kind: &str, status: &str) -> Option<Self> {
        Some(match (kind, status) {
            ("delivery-notification", s) => Notification::Delivery(match s {
                "delivered" => DeliveryStatus::Delivered,
                "failed" => DeliveryStatus::Failed,
                "forbidden" => DeliveryStatus::Forbidden,
                "error" => DeliveryStatus::Error,
                _ => return None,
            }),
            ("display-notification", s) => Notification::Display(match s {
                "displayed" => DisplayStatus::Displayed,
                "forbidden" => DisplayStatus::Forbidden,
                "error" => DisplayStatus::Error,
                _ => return None,
            }),
            ("processing-notification", s) => Notification::Processing(match s {
                "processed" => ProcessingStatus::Processed,
                "stored" => ProcessingStatus::Stored,
                "forbidden" => ProcessingStatus::Forbidden,
                "error" => ProcessingStatus::Error,
                _ => return None,
            }),
            _ => return None,
        })
    }
}

/// A disposition notification: which message, for whom, and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imdn<'a> {
    /// `<message-id>`: the `imdn.Message-ID` of the message reported on.
    pub message_id: Cow<'a, str>,
    /// `<datetime>`: the `DateTime` of the message reported on.
    pub datetime: Cow<'a, str>,
    /// `<recipient-uri>`: the recipient the notification is about.
    pub recipient_uri: Option<Cow<'a, str>>,
    /// `<original-recipient-uri>`: the recipient the message was sent to,
    /// before any retargeting.
    pub original_recipient_uri: Option<Cow<'a, str>>,
    /// `<subject>`: the subject of the message reported on.
    pub subject: Option<Cow<'a, str>>,
    /// The notification and its status.
    pub notification: Notification,
}

impl<'a> Imdn<'a> {
    /// A notification about the message `message_id` sent at `datetime`.
    pub fn new(
        message_id: impl Into<Cow<'a, str>>,
        datetime: impl Into<Cow<'a, str>>,
        notification: Notification,
    ) -> Self {
        Imdn {
            message_id: message_id.into(),
            datetime: datetime.into(),
            recipient_uri: None,
            original_recipient_uri: None,
            subject: None,
            notification,
        }
    }

    /// Parses a `message/imdn+xml` document within `limits`, borrowing from
    /// `input` where no escape needed decoding. A missing `<message-id>`,
    /// `<datetime>` or notification is [`XmlErrorKind::MissingElement`]; an
    /// unknown status [`XmlErrorKind::InvalidValue`].
    pub fn parse(input: &'a [u8], limits: &XmlLimits) -> Result<Self, XmlError> {
        let mut reader = XmlReader::new(input, *limits)?;
        let root = reader.root()?;
        if !root.is(Ns::Imdn, "imdn") {
            return Err(XmlError::new(XmlErrorKind::UnexpectedRoot, root.offset));
        }
        let mut message_id = None;
        let mut datetime = None;
        let mut recipient_uri = None;
        let mut original_recipient_uri = None;
        let mut subject = None;
        let mut notification = None;
        while let Some(child) = reader.next_child()? {
            if child.ns != Ns::Imdn {
                reader.skip()?;
                continue;
            }
            match child.local {
                "message-id" => message_id = Some(reader.text()?),
                "datetime" => datetime = Some(reader.text()?),
                "recipient-uri" => recipient_uri = Some(reader.text()?),
                "original-recipient-uri" => original_recipient_uri = Some(reader.text()?),
                "subject" => subject = Some(reader.text()?),
                kind @ ("delivery-notification"
                | "display-notification"
                | "processing-notification") => {
                    let found = notification_of(&mut reader, kind, child.offset)?;
                    if notification.is_some() {
                        return Err(XmlError::new(
                            XmlErrorKind::InvalidValue("notification"),
                            child.offset,
                        ));
                    }
                    notification = Some(found);
                }
                _ => reader.skip()?,
            }
        }
        reader.finish()?;
        let missing = |name| XmlError::new(XmlErrorKind::MissingElement(name), root.offset);
        Ok(Imdn {
            message_id: message_id.ok_or_else(|| missing("message-id"))?,
            datetime: datetime.ok_or_else(|| missing("datetime"))?,
            recipient_uri,
            original_recipient_uri,
            subject,
            notification: notification.ok_or_else(|| missing("notification"))?,
        })
    }

    /// Appends the document to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<imdn xmlns=\"");
        out.extend_from_slice(IMDN_NS.as_bytes());
        out.extend_from_slice(b"\">\r\n");
        xml::write_text_element(out, "message-id", &self.message_id);
        xml::write_text_element(out, "datetime", &self.datetime);
        if let Some(uri) = &self.recipient_uri {
            xml::write_text_element(out, "recipient-uri", uri);
        }
        if let Some(uri) = &self.original_recipient_uri {
            xml::write_text_element(out, "original-recipient-uri", uri);
        }
        if let Some(subject) = &self.subject {
            xml::write_text_element(out, "subject", subject);
        }
        let element = self.notification.element();
        out.push(b'<');
        out.extend_from_slice(element.as_bytes());
        out.extend_from_slice(b"><status><");
        out.extend_from_slice(self.notification.status().as_bytes());
        out.extend_from_slice(b"/></status></");
        out.extend_from_slice(element.as_bytes());
        out.extend_from_slice(b">\r\n</imdn>\r\n");
    }

    /// The same document owning its text.
    pub fn into_owned(self) -> Imdn<'static> {
        let own = |c: Cow<'a, str>| Cow::Owned(c.into_owned());
        Imdn {
            message_id: own(self.message_id),
            datetime: own(self.datetime),
            recipient_uri: self.recipient_uri.map(own),
            original_recipient_uri: self.original_recipient_uri.map(own),
            subject: self.subject.map(own),
            notification: self.notification,
        }
    }
}

/// The status inside the notification element `kind` whose start tag was
/// just read: `<status>` holding one empty status element.
fn notification_of(
    reader: &mut XmlReader<'_>,
    kind: &str,
    offset: usize,
) -> Result<Notification, XmlError> {
    let mut found = None;
    while let Some(child) = reader.next_child()? {
        if !child.is(Ns::Imdn, "status") {
            reader.skip()?;
            continue;
        }
        while let Some(status) = reader.next_child()? {
            let name = status.local;
            let at = status.offset;
            reader.skip()?;
            if status.ns != Ns::Imdn {
                continue;
            }
            let value = Notification::from_names(kind, name)
                .ok_or(XmlError::new(XmlErrorKind::InvalidValue("status"), at))?;
            if found.is_some() {
                return Err(XmlError::new(XmlErrorKind::InvalidValue("status"), at));
            }
            found = Some(value);
        }
    }
    found.ok_or(XmlError::new(
        XmlErrorKind::MissingElement("status"),
        offset,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(body: &str) -> String {
        format!("<imdn xmlns=\"{IMDN_NS}\"><message-id>m1</message-id><datetime>2026-12-07T10:00:00Z</datetime>{body}</imdn>")
    }

    #[test]
    fn every_status_round_trips() {
        let all = [
            Notification::Delivery(DeliveryStatus::Delivered),
            Notification::Delivery(DeliveryStatus::Failed),
            Notification::Delivery(DeliveryStatus::Forbidden),
            Notification::Delivery(DeliveryStatus::Error),
            Notification::Display(DisplayStatus::Displayed),
            Notification::Display(DisplayStatus::Forbidden),
            Notification::Display(DisplayStatus::Error),
            Notification::Processing(ProcessingStatus::Processed),
            Notification::Processing(ProcessingStatus::Stored),
            Notification::Processing(ProcessingStatus::Forbidden),
            Notification::Processing(ProcessingStatus::Error),
        ];
        for n in all {
            let mut imdn = Imdn::new("a<b&c", "2026-12-07T10:00:00Z", n);
            imdn.recipient_uri = Some("sip:bob@example.com".into());
            imdn.original_recipient_uri = Some("sip:bob@example.com".into());
            imdn.subject = Some("hi".into());
            let mut out = Vec::new();
            imdn.write(&mut out);
            assert_eq!(Imdn::parse(&out, &XmlLimits::default()).unwrap(), imdn);
        }
    }

    #[test]
    fn missing_parts_and_unknown_statuses_are_typed_errors() {
        let limits = XmlLimits::default();
        let kind = |s: &str| Imdn::parse(s.as_bytes(), &limits).unwrap_err().kind;
        assert_eq!(kind(&doc("")), XmlErrorKind::MissingElement("notification"));
        assert_eq!(
            kind(&format!("<imdn xmlns=\"{IMDN_NS}\"><datetime>x</datetime><display-notification><status><displayed/></status></display-notification></imdn>")),
            XmlErrorKind::MissingElement("message-id")
        );
        assert_eq!(
            kind(&doc(
                "<display-notification><status><delivered/></status></display-notification>"
            )),
            XmlErrorKind::InvalidValue("status")
        );
        assert_eq!(
            kind(&doc(
                "<delivery-notification><status/></delivery-notification>"
            )),
            XmlErrorKind::MissingElement("status")
        );
        assert_eq!(
            kind(&doc("<delivery-notification><status><delivered/></status></delivery-notification><display-notification><status><displayed/></status></display-notification>")),
            XmlErrorKind::InvalidValue("notification")
        );
        assert_eq!(
            kind("<imdn><message-id>m</message-id></imdn>"),
            XmlErrorKind::UnexpectedRoot
        );
    }

    #[test]
    fn extensions_are_skipped() {
        let text = doc("<x:ext xmlns:x=\"urn:example\"><x:y/></x:ext><delivery-notification><status><delivered/><x:why xmlns:x=\"urn:example\"/></status></delivery-notification>");
        let imdn = Imdn::parse(text.as_bytes(), &XmlLimits::default()).unwrap();
        assert_eq!(
            imdn.notification,
            Notification::Delivery(DeliveryStatus::Delivered)
        );
    }
}
