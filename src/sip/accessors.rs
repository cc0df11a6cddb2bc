//! Typed, on-demand accessors on [`SipMessage`]: each parses the raw values of
//! one header field when asked, borrowing the message, without allocating.
//! The fields the parser has already checked (the top Via, From, To, Call-ID
//! and CSeq) are kept parsed in the message and returned without parsing
//! again. Every value is parsed under the value limits the message was
//! parsed with ([`SipMessage::value_limits`]).
//!
//! List-valued headers yield every element, across commas and repeated header
//! fields alike. A malformed value yields a [`SipError`] whose kind names the
//! header ([`SipErrorKind::MalformedHeader`], or [`SipErrorKind::ValueOutOfRange`]
//! for a number too large) and whose offset is the absolute byte offset of the
//! problem in the parsed message.

use super::lex::CommaSplit;
use super::value::{self, ParseValue};
use super::{
    AcceptContact, CSeq, CallId, Contact, ContentDisposition, ContentType, Event, Expires,
    HeaderName, MaxForwards, MethodSet, MinSe, NameAddr, OptionTags, Privacy, ProductList,
    SessionExpires, SipError, SipErrorKind, SipMessage, SubscriptionState, ValueError,
    ValueErrorKind, Via, Warning,
};

/// The message-level error for a value error found in a value of `name` that
/// starts at `base` in the message.
fn to_sip_error(name: HeaderName<'static>, base: usize, e: ValueError) -> SipError {
    let kind = match e.kind {
        ValueErrorKind::NumberOutOfRange => SipErrorKind::ValueOutOfRange(name),
        _ => SipErrorKind::MalformedHeader(name),
    };
    SipError::new(kind, base.saturating_add(e.offset))
}

impl<'a> SipMessage<'a> {
    /// The first value of `name`, parsed as `T`.
    fn single<T: ParseValue<'a>>(&self, name: HeaderName<'static>) -> Option<Result<T, SipError>> {
        let hv = self.header(name)?;
        Some(
            T::parse_value(hv.value, &self.value_limits())
                .map_err(|e| to_sip_error(name, hv.offset, e)),
        )
    }

    /// Every comma-separated element of every value of `name`, parsed as `T`.
    fn elements<'s, T: ParseValue<'a> + 'a>(
        &'s self,
        name: HeaderName<'static>,
    ) -> impl Iterator<Item = Result<T, SipError>> + use<'s, 'a, T> {
        let limits = self.value_limits();
        self.header_values(name).flat_map(move |hv| {
            value::list_with::<T>(hv.value, &limits)
                .map(move |r| r.map_err(|e| to_sip_error(name, hv.offset, e)))
        })
    }

    /// Folds every value of `name` into one set with `extend`.
    fn merged<S: Default>(
        &self,
        name: HeaderName<'static>,
        extend: impl Fn(&mut S, &'a str) -> Result<(), ValueError>,
    ) -> Option<Result<S, SipError>> {
        let mut values = self.header_values(name).peekable();
        values.peek()?;
        let mut set = S::default();
        for hv in values {
            if let Err(e) = extend(&mut set, hv.value) {
                return Some(Err(to_sip_error(name, hv.offset, e)));
            }
        }
        Some(Ok(set))
    }

    /// Every Via element, topmost first, across commas and repeated headers.
    ///
    /// ```
    /// use oma_im::sip::parse_message;
    ///
    /// let msg = parse_message(b"MESSAGE sip:bob@example.com SIP/2.0\r\n\
    ///     Via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bK2,\r\n SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bK1;received=192.0.2.4\r\n\
    ///     v: SIP/2.0/UDP ua.example.com;branch=z9hG4bK0\r\n\
    ///     Max-Forwards: 69\r\n\
    ///     To: <sip:bob@example.com>\r\n\
    ///     From: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n\
    ///     Call-ID: a84b4c76e66710\r\n\
    ///     CSeq: 1 MESSAGE\r\n\
    ///     Allow: INVITE, ACK\r\n\
    ///     Allow: MESSAGE\r\n\
    ///     Content-Length: 0\r\n\r\n")?;
    /// let branches: Vec<_> = msg.via().map(|v| v.map(|v| v.branch())).collect::<Result<_, _>>()?;
    /// assert_eq!(branches, [Some("z9hG4bK2"), Some("z9hG4bK1"), Some("z9hG4bK0")]);
    /// assert_eq!(msg.top_via().unwrap()?.transport, "TCP");
    /// assert_eq!(msg.from().unwrap()?.tag(), Some("1928301774"));
    /// assert_eq!(msg.cseq().unwrap()?.seq, 1);
    /// assert_eq!(msg.allow().unwrap()?.len(), 3);
    /// # Ok::<(), oma_im::sip::SipError>(())
    /// ```
    pub fn via(&self) -> impl Iterator<Item = Result<Via<'a>, SipError>> + '_ {
        // The first element is kept parsed; the others, if any, are parsed
        // here.
        let others = if self.checked.more_vias {
            usize::MAX
        } else {
            0
        };
        let limits = self.value_limits();
        let rest = self
            .header_values(HeaderName::Via)
            .flat_map(|hv| CommaSplit::new(hv.value).map(move |(at, item)| (hv.offset + at, item)))
            .skip(1)
            .take(others)
            .map(move |(at, item)| {
                Via::parse_value(item, &limits).map_err(|e| to_sip_error(HeaderName::Via, at, e))
            });
        self.top_via().into_iter().chain(rest)
    }

    /// The topmost Via element (parsed once).
    pub fn top_via(&self) -> Option<Result<Via<'a>, SipError>> {
        self.checked
            .top_via
            .get_or_init(|| {
                let hv = self.header(HeaderName::Via)?;
                value::list_with::<Via>(hv.value, &self.value_limits())
                    .next()?
                    .ok()
            })
            .clone()
            .map(Ok)
    }

    /// The From value (parsed once).
    pub fn from(&self) -> Option<Result<NameAddr<'a>, SipError>> {
        Some(
            self.checked
                .from
                .get_or_init(|| self.kept(HeaderName::From))
                .clone(),
        )
    }

    /// The To value (parsed once).
    pub fn to(&self) -> Option<Result<NameAddr<'a>, SipError>> {
        Some(
            self.checked
                .to
                .get_or_init(|| self.kept(HeaderName::To))
                .clone(),
        )
    }

    /// The Call-ID (parsed once).
    pub fn call_id(&self) -> Option<Result<CallId<'a>, SipError>> {
        Some(
            self.checked
                .call_id
                .get_or_init(|| self.kept(HeaderName::CallId))
                .clone(),
        )
    }

    /// The CSeq (parsed once).
    pub fn cseq(&self) -> Option<Result<CSeq<'a>, SipError>> {
        Some(
            self.checked
                .cseq
                .get_or_init(|| self.kept(HeaderName::CSeq))
                .clone(),
        )
    }

    /// A value the parser checked, parsed again from a message rebuilt from
    /// its bytes (the parser's checks fill it otherwise).
    fn kept<T: ParseValue<'a>>(&self, name: HeaderName<'static>) -> Result<T, SipError> {
        let missing = SipError::new(SipErrorKind::MissingHeader(name), self.head.len());
        self.single(name).unwrap_or(Err(missing))
    }

    /// The Max-Forwards.
    pub fn max_forwards(&self) -> Option<Result<MaxForwards, SipError>> {
        self.single(HeaderName::MaxForwards)
    }

    /// The Expires.
    pub fn expires(&self) -> Option<Result<Expires, SipError>> {
        self.single(HeaderName::Expires)
    }

    /// Every Contact element (`*` included), across commas and repeated headers.
    pub fn contact(&self) -> impl Iterator<Item = Result<Contact<'a>, SipError>> + '_ {
        self.elements(HeaderName::Contact)
    }

    /// Every Accept-Contact element (RFC 3841).
    pub fn accept_contact(&self) -> impl Iterator<Item = Result<AcceptContact<'a>, SipError>> + '_ {
        self.elements(HeaderName::AcceptContact)
    }

    /// Every Reject-Contact element (RFC 3841).
    pub fn reject_contact(&self) -> impl Iterator<Item = Result<AcceptContact<'a>, SipError>> + '_ {
        self.elements(HeaderName::RejectContact)
    }

    /// The methods of every Allow header, merged; `None` without Allow.
    pub fn allow(&self) -> Option<Result<MethodSet<'a>, SipError>> {
        self.merged(HeaderName::Allow, MethodSet::extend_from)
    }

    /// The option tags of every Supported header, merged.
    pub fn supported(&self) -> Option<Result<OptionTags<'a>, SipError>> {
        self.merged(HeaderName::Supported, OptionTags::extend_from)
    }

    /// The option tags of every Require header, merged.
    pub fn require(&self) -> Option<Result<OptionTags<'a>, SipError>> {
        self.merged(HeaderName::Require, OptionTags::extend_from)
    }

    /// The option tags of every Proxy-Require header, merged.
    pub fn proxy_require(&self) -> Option<Result<OptionTags<'a>, SipError>> {
        self.merged(HeaderName::ProxyRequire, OptionTags::extend_from)
    }

    /// The option tags of every Unsupported header, merged.
    pub fn unsupported(&self) -> Option<Result<OptionTags<'a>, SipError>> {
        self.merged(HeaderName::Unsupported, OptionTags::extend_from)
    }

    /// The Session-Expires (RFC 4028).
    pub fn session_expires(&self) -> Option<Result<SessionExpires<'a>, SipError>> {
        self.single(HeaderName::SessionExpires)
    }

    /// The Min-SE (RFC 4028).
    pub fn min_se(&self) -> Option<Result<MinSe<'a>, SipError>> {
        self.single(HeaderName::MinSe)
    }

    /// The priv-values of every Privacy header, merged (RFC 3323).
    pub fn privacy(&self) -> Option<Result<Privacy<'a>, SipError>> {
        self.merged(HeaderName::Privacy, Privacy::extend_from)
    }

    /// Every P-Asserted-Identity element (RFC 3325).
    pub fn p_asserted_identity(&self) -> impl Iterator<Item = Result<NameAddr<'a>, SipError>> + '_ {
        self.elements(HeaderName::PAssertedIdentity)
    }

    /// Every P-Preferred-Identity element (RFC 3325).
    pub fn p_preferred_identity(
        &self,
    ) -> impl Iterator<Item = Result<NameAddr<'a>, SipError>> + '_ {
        self.elements(HeaderName::PPreferredIdentity)
    }

    /// The Refer-To (RFC 3515).
    pub fn refer_to(&self) -> Option<Result<NameAddr<'a>, SipError>> {
        self.single(HeaderName::ReferTo)
    }

    /// The Referred-By (RFC 3892).
    pub fn referred_by(&self) -> Option<Result<NameAddr<'a>, SipError>> {
        self.single(HeaderName::ReferredBy)
    }

    /// The Event (RFC 6665).
    pub fn event(&self) -> Option<Result<Event<'a>, SipError>> {
        self.single(HeaderName::Event)
    }

    /// The Subscription-State (RFC 6665).
    pub fn subscription_state(&self) -> Option<Result<SubscriptionState<'a>, SipError>> {
        self.single(HeaderName::SubscriptionState)
    }

    /// The Content-Type.
    pub fn content_type(&self) -> Option<Result<ContentType<'a>, SipError>> {
        self.single(HeaderName::ContentType)
    }

    /// The Content-Disposition.
    pub fn content_disposition(&self) -> Option<Result<ContentDisposition<'a>, SipError>> {
        self.single(HeaderName::ContentDisposition)
    }

    /// The Reply-To value.
    pub fn reply_to(&self) -> Option<Result<NameAddr<'a>, SipError>> {
        self.single(HeaderName::ReplyTo)
    }

    /// Every Warning element.
    pub fn warning(&self) -> impl Iterator<Item = Result<Warning<'a>, SipError>> + '_ {
        self.elements(HeaderName::Warning)
    }

    /// The Server products and comments.
    pub fn server(&self) -> Option<Result<ProductList<'a>, SipError>> {
        self.single(HeaderName::Server)
    }

    /// The User-Agent products and comments.
    pub fn user_agent(&self) -> Option<Result<ProductList<'a>, SipError>> {
        self.single(HeaderName::UserAgent)
    }

    /// Every Route element, in order.
    pub fn route(&self) -> impl Iterator<Item = Result<NameAddr<'a>, SipError>> + '_ {
        self.elements(HeaderName::Route)
    }

    /// Every Record-Route element, in order.
    pub fn record_route(&self) -> impl Iterator<Item = Result<NameAddr<'a>, SipError>> + '_ {
        self.elements(HeaderName::RecordRoute)
    }
}

#[cfg(test)]
mod tests {
    use crate::sip::{parse_message_with, HeaderName, Limits, SipErrorKind, ValueLimits};
    use crate::transaction::OwnedMessage;

    /// A request whose Contact, Event and Route values have five
    /// parameters each, its other values at most one.
    const REQUEST: &[u8] = b"SUBSCRIBE sip:bob@example.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n\
        From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n\
        Call-ID: c1\r\nCSeq: 1 SUBSCRIBE\r\n\
        Contact: <sip:alice@192.0.2.1>;a;b;c;d;e\r\n\
        Event: presence;a;b;c;d;e\r\n\
        Route: <sip:p.example.com;lr>;a;b;c;d;e\r\n\
        Content-Length: 0\r\n\r\n";

    fn limits(max_params: usize) -> Limits {
        Limits {
            values: ValueLimits {
                max_params,
                ..ValueLimits::DEFAULT
            },
            ..Limits::default()
        }
    }

    #[test]
    fn accessors_parse_under_the_limits_the_message_was_parsed_with() {
        let roomy = parse_message_with(REQUEST, &limits(5)).unwrap();
        assert_eq!(roomy.value_limits().max_params, 5);
        assert!(roomy.contact().all(|c| c.is_ok()));
        assert!(roomy.event().unwrap().is_ok());
        assert!(roomy.route().all(|r| r.is_ok()));

        let tight = parse_message_with(REQUEST, &limits(4)).unwrap();
        assert_eq!(tight.value_limits().max_params, 4);
        let contact = tight.contact().next().unwrap().unwrap_err();
        assert_eq!(
            contact.kind,
            SipErrorKind::MalformedHeader(HeaderName::Contact)
        );
        let event = tight.event().unwrap().unwrap_err();
        assert_eq!(event.kind, SipErrorKind::MalformedHeader(HeaderName::Event));
        let route = tight.route().next().unwrap().unwrap_err();
        assert_eq!(route.kind, SipErrorKind::MalformedHeader(HeaderName::Route));
        // The error is at the parameter over the limit, in the message.
        let over = REQUEST.windows(5).position(|w| w == b";e\r\nE").unwrap();
        assert_eq!(contact.offset, over);
        // The values within the limits are read as before.
        assert_eq!(tight.from().unwrap().unwrap().tag(), Some("1"));
        assert!(tight.top_via().unwrap().is_ok());
    }

    #[test]
    fn a_kept_message_keeps_the_limits_it_was_parsed_with() {
        let owned = OwnedMessage::with_limits(REQUEST.to_vec(), limits(4)).unwrap();
        let view = owned.message();
        assert_eq!(view.value_limits().max_params, 4);
        assert!(view.contact().next().unwrap().is_err());
        // The checked values are parsed again, under the same limits.
        assert!(view.from().unwrap().is_ok());
        assert!(view.request_uri().is_some());
        let roomy = OwnedMessage::new(REQUEST.to_vec()).unwrap();
        assert!(roomy.message().contact().all(|c| c.is_ok()));
    }

    #[test]
    fn the_parser_checks_its_values_under_the_same_limits() {
        let many = String::from_utf8_lossy(REQUEST).replace(";tag=1", ";tag=1;a;b;c;d");
        assert!(parse_message_with(many.as_bytes(), &limits(5)).is_ok());
        let error = parse_message_with(many.as_bytes(), &limits(4)).unwrap_err();
        assert_eq!(error.kind, SipErrorKind::MalformedHeader(HeaderName::From));
        let uri = String::from_utf8_lossy(REQUEST).replace(
            "SUBSCRIBE sip:bob@example.com",
            "SUBSCRIBE sip:bob@example.com;a;b",
        );
        assert!(parse_message_with(uri.as_bytes(), &limits(2)).is_ok());
        let error = parse_message_with(uri.as_bytes(), &limits(1)).unwrap_err();
        assert_eq!(error.kind, SipErrorKind::InvalidRequestUri);
    }
}
