//! conference-info (RFC 4575): the RFC's example, round trips, the §4.6 merge,
//! the roster helpers, limits and hostile input.

use oma_im::body::conference_info::{
    ApplyError, ConferenceDescription, ConferenceInfo, ConferenceState, DisconnectionMethod,
    ElementState, Endpoint, EndpointStatus, ExecutionInfo, HostInfo, JoiningMethod, Media,
    MediaStatus, Participant, SipDialogId, UriEntry, Uris, User, Users, CONTENT_TYPE,
};
use oma_im::body::xml::{XmlErrorKind, XmlLimits};
use proptest::prelude::*;

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/xml/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(body: &[u8]) -> ConferenceInfo {
    ConferenceInfo::parse(body, &XmlLimits::default())
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
}

fn round_trip(info: &ConferenceInfo) -> ConferenceInfo {
    let mut out = Vec::new();
    info.write(&mut out);
    parse(&out)
}

fn full_example() -> ConferenceInfo {
    parse(&data("rfc4575-basic-full.xml"))
}

#[test]
fn rfc4575_basic_example_reads_as_described() {
    let info = full_example();
    assert_eq!(info.entity, "sips:conf233@example.com");
    assert_eq!(info.state, ElementState::Full);
    assert_eq!(info.version, Some(1));
    let description = info.description.as_ref().unwrap();
    assert_eq!(
        description.subject.as_deref(),
        Some("Agenda: This month's goals")
    );
    let service = &description.service_uris.as_ref().unwrap().entries[0];
    assert_eq!(service.uri, "http://sharepoint/salesgroup/");
    assert_eq!(service.purpose.as_deref(), Some("web-page"));
    assert_eq!(info.conference_state.unwrap().user_count, Some(33));

    let users: Vec<&User> = info.users().collect();
    assert_eq!(users.len(), 2);
    let bob = info.user("sip:bob@example.com").unwrap();
    assert_eq!(bob.display_text.as_deref(), Some("Bob Hoskins"));
    let laptop = &bob.endpoints[0];
    assert_eq!(laptop.entity, "sip:bob@pc33.example.com");
    assert_eq!(laptop.state, ElementState::Full);
    assert_eq!(laptop.display_text.as_deref(), Some("Bob's Laptop"));
    assert_eq!(laptop.status, Some(EndpointStatus::Disconnected));
    assert_eq!(
        laptop.disconnection_method,
        Some(DisconnectionMethod::Departed)
    );
    assert_eq!(
        laptop.disconnection_info,
        Some(ExecutionInfo {
            when: Some("2005-03-04T20:00:00Z".into()),
            reason: Some("bad voice quality".into()),
            by: Some("sip:mike@example.com".into()),
        })
    );
    assert_eq!(
        laptop.media,
        [Media {
            id: "1".into(),
            display_text: Some("main audio".into()),
            media_type: Some("audio".into()),
            label: Some("34567".into()),
            src_id: Some("432424".into()),
            status: Some(MediaStatus::SendRecv),
        }]
    );
    let alice = info.user("sip:alice@example.com").unwrap();
    let phone = &alice.endpoints[0];
    assert_eq!(phone.entity, "sip:4kfk4j392jsu@example.com;grid=433kj4j3u");
    assert_eq!(phone.status, Some(EndpointStatus::Connected));
    assert_eq!(phone.joining_method, Some(JoiningMethod::DialedOut));
    assert_eq!(
        phone.joining_info.as_ref().unwrap().by.as_deref(),
        Some("sip:mike@example.com")
    );

    // Bob has departed: only Alice is in the conference.
    let present: Vec<&str> = info.participants().map(|u| u.entity.as_str()).collect();
    assert_eq!(present, ["sip:alice@example.com"]);
    assert_eq!(round_trip(&info), info);
}

#[test]
fn partial_notification_merges_into_the_full_example() {
    let mut roster = full_example();
    let partial = parse(&data("partial-v2.xml"));
    assert_eq!(partial.state, ElementState::Partial);
    assert_eq!(round_trip(&partial), partial);
    roster.apply(partial).unwrap();

    assert_eq!(roster.version, Some(2));
    assert_eq!(roster.state, ElementState::Full);
    assert_eq!(roster.conference_state.unwrap().user_count, Some(34));
    // Untouched parts stay.
    assert_eq!(
        roster.description.as_ref().unwrap().subject.as_deref(),
        Some("Agenda: This month's goals")
    );
    let present: Vec<&str> = roster.participants().map(|u| u.entity.as_str()).collect();
    assert_eq!(present, ["sip:bob@example.com", "sip:carol@example.com"]);

    let bob = roster.user("sip:bob@example.com").unwrap();
    assert_eq!(bob.display_text.as_deref(), Some("Bob Hoskins"));
    let laptop = &bob.endpoints[0];
    assert_eq!(laptop.status, Some(EndpointStatus::Connected));
    assert_eq!(laptop.joining_method, Some(JoiningMethod::DialedIn));
    assert_eq!(laptop.display_text.as_deref(), Some("Bob's Laptop"));
    assert_eq!(laptop.media.len(), 1, "media kept by the partial endpoint");

    let alice = roster.user("sip:alice@example.com").unwrap();
    let phone = &alice.endpoints[0];
    assert_eq!(phone.status, Some(EndpointStatus::Disconnected));
    assert_eq!(
        phone.disconnection_method,
        Some(DisconnectionMethod::Booted)
    );
    assert_eq!(phone.joining_method, Some(JoiningMethod::DialedOut));

    let carol = roster.user("sip:carol@example.com").unwrap();
    assert_eq!(carol.display_text.as_deref(), Some("Carol & Co"));
    assert_eq!(
        carol.roles.as_deref(),
        Some(&["participant".to_owned()][..])
    );
    assert_eq!(roster.users().count(), 3);
}

fn partial_users(version: u32, users: Vec<User>) -> ConferenceInfo {
    let mut info = ConferenceInfo::new(
        "sips:conf233@example.com",
        ElementState::Partial,
        Some(version),
    );
    info.users = Some(Users {
        state: ElementState::Partial,
        users,
    });
    info
}

#[test]
fn keyed_elements_follow_their_state() {
    let mut roster = full_example();
    // deleted removes the user, full replaces it wholesale.
    let mut bob = User::new("sip:bob@example.com", ElementState::Full);
    bob.endpoints.push(Endpoint::new(
        "sip:bob@phone.example.com",
        ElementState::Full,
    ));
    let alice = User::new("sip:alice@example.com", ElementState::Deleted);
    roster.apply(partial_users(2, vec![bob, alice])).unwrap();
    assert!(roster.user("sip:alice@example.com").is_none());
    let bob = roster.user("sip:bob@example.com").unwrap();
    assert_eq!(bob.display_text, None);
    assert_eq!(bob.endpoints.len(), 1);
    assert_eq!(bob.endpoints[0].entity, "sip:bob@phone.example.com");

    // A deleted endpoint inside a partial user, and a new media by id.
    let mut bob = User::new("sip:bob@example.com", ElementState::Partial);
    bob.endpoints.push(Endpoint::new(
        "sip:bob@phone.example.com",
        ElementState::Deleted,
    ));
    let mut laptop = Endpoint::new("sip:bob@laptop.example.com", ElementState::Partial);
    laptop.media.push(Media::new("7"));
    bob.endpoints.push(laptop);
    roster.apply(partial_users(3, vec![bob])).unwrap();
    let bob = roster.user("sip:bob@example.com").unwrap();
    assert_eq!(bob.endpoints.len(), 1);
    assert_eq!(bob.endpoints[0].media[0].id, "7");

    // users state="deleted" empties the roster.
    let mut gone = ConferenceInfo::new("sips:conf233@example.com", ElementState::Partial, Some(4));
    gone.users = Some(Users {
        state: ElementState::Deleted,
        users: Vec::new(),
    });
    roster.apply(gone).unwrap();
    assert_eq!(roster.users().count(), 0);
    assert!(roster.description.is_some());
}

#[test]
fn versions_are_checked_and_errors_leave_the_state_unchanged() {
    let original = full_example();
    let mut roster = original.clone();
    let gap = partial_users(3, vec![User::new("sip:x@example.com", ElementState::Full)]);
    let err = roster.apply(gap).unwrap_err();
    assert_eq!(
        err,
        ApplyError::FullStateNeeded {
            expected: Some(2),
            received: 3
        }
    );
    assert!(err.to_string().contains("full state must be fetched"));
    assert_eq!(roster, original);

    let stale = partial_users(1, Vec::new());
    assert_eq!(
        roster.apply(stale),
        Err(ApplyError::Stale {
            current: 1,
            received: 1
        })
    );
    let mut other = partial_users(2, Vec::new());
    other.entity = "sip:other@example.com".into();
    assert_eq!(roster.apply(other), Err(ApplyError::EntityMismatch));
    let mut unversioned = partial_users(2, Vec::new());
    unversioned.version = None;
    assert_eq!(roster.apply(unversioned), Err(ApplyError::MissingVersion));
    assert_eq!(roster, original);

    // A newer full state replaces everything, whatever the gap.
    let mut newer = full_example();
    newer.version = Some(9);
    newer.users = None;
    roster.apply(newer.clone()).unwrap();
    assert_eq!(roster, newer);

    // A partial notification with no full state to merge into.
    let mut fresh = ConferenceInfo::new("sips:conf233@example.com", ElementState::Full, None);
    assert_eq!(
        fresh.apply(partial_users(1, Vec::new())),
        Err(ApplyError::FullStateNeeded {
            expected: None,
            received: 1
        })
    );
    // At u32::MAX no partial can follow.
    let mut last = full_example();
    last.version = Some(u32::MAX);
    let mut roster = full_example();
    roster.apply(last).unwrap();
    assert!(matches!(
        roster.apply(partial_users(u32::MAX, Vec::new())),
        Err(ApplyError::Stale { .. })
    ));
}

#[test]
fn server_helpers_build_what_the_client_merges() {
    let conf = "sip:adhoc-7@im.example.com";
    let mut alice = Participant::new("sip:alice@example.com");
    alice.display_text = Some("Alice".into());
    alice.joining_method = Some(JoiningMethod::DialedIn);
    let mut bob = Participant::new("sip:bob@example.com");
    bob.endpoint = Some("sip:bob@192.0.2.4;transport=tcp".into());
    bob.joining_method = Some(JoiningMethod::DialedOut);
    let carol = Participant::new("sip:carol@example.com");

    let full = ConferenceInfo::full_state(conf, 1, [&alice, &bob]);
    assert_eq!(full.conference_state.unwrap().user_count, Some(2));
    let mut client = round_trip(&full);
    assert_eq!(client, full);

    let steps = [
        ConferenceInfo::user_joined(conf, 2, &carol),
        ConferenceInfo::user_left(conf, 3, &bob, DisconnectionMethod::Booted),
        ConferenceInfo::user_left(conf, 4, &alice, DisconnectionMethod::Departed),
    ];
    for step in &steps {
        let mut body = Vec::new();
        step.write(&mut body);
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(text.contains("state=\"partial\""));
        client.apply(parse(&body)).unwrap();
    }
    let present: Vec<&str> = client.participants().map(|u| u.entity.as_str()).collect();
    assert_eq!(present, ["sip:carol@example.com"]);
    let bob_endpoint = &client.user("sip:bob@example.com").unwrap().endpoints[0];
    assert_eq!(bob_endpoint.entity, "sip:bob@192.0.2.4;transport=tcp");
    assert_eq!(
        bob_endpoint.disconnection_method,
        Some(DisconnectionMethod::Booted)
    );
    let alice_endpoint = &client.user("sip:alice@example.com").unwrap().endpoints[0];
    assert_eq!(
        alice_endpoint.disconnection_method,
        Some(DisconnectionMethod::Departed)
    );
    assert_eq!(
        client
            .user("sip:alice@example.com")
            .unwrap()
            .display_text
            .as_deref(),
        Some("Alice")
    );
    assert_eq!(CONTENT_TYPE, "application/conference-info+xml");
}

#[test]
fn limits_and_hostile_input() {
    let limits = XmlLimits {
        max_users: 2,
        max_children: 2,
        ..XmlLimits::default()
    };
    let mut three = full_example();
    let users = three.users.as_mut().unwrap();
    users
        .users
        .push(User::new("sip:carol@example.com", ElementState::Full));
    let mut body = Vec::new();
    three.write(&mut body);
    let err = ConferenceInfo::parse(&body, &limits).unwrap_err();
    assert_eq!(err.kind, XmlErrorKind::TooManyUsers { limit: 2 });
    assert!(body[err.offset..].starts_with(b"<user entity=\"sip:carol@example.com\""));

    let mut roles = User::new("sip:r@example.com", ElementState::Full);
    roles.roles = Some(vec!["a".into(), "b".into(), "c".into()]);
    let mut doc = ConferenceInfo::new("sip:c@example.com", ElementState::Full, Some(1));
    doc.users = Some(Users {
        state: ElementState::Full,
        users: vec![roles],
    });
    body.clear();
    doc.write(&mut body);
    let err = ConferenceInfo::parse(&body, &limits).unwrap_err();
    assert_eq!(err.kind, XmlErrorKind::TooManyChildren { limit: 2 });

    let laughs = br#"<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:c@x" version="1"><conference-description><subject>&b;</subject></conference-description></conference-info>"#;
    let err = ConferenceInfo::parse(laughs, &XmlLimits::default()).unwrap_err();
    assert_eq!(err.kind, XmlErrorKind::DoctypeNotAllowed);

    let kind = |body: &str| {
        ConferenceInfo::parse(body.as_bytes(), &XmlLimits::default())
            .unwrap_err()
            .kind
    };
    let ns = "xmlns=\"urn:ietf:params:xml:ns:conference-info\"";
    assert_eq!(
        kind("<conference-info entity='x'/>"),
        XmlErrorKind::UnexpectedRoot
    );
    assert_eq!(
        kind(&format!("<conference-info {ns}/>")),
        XmlErrorKind::MissingAttribute("entity")
    );
    assert_eq!(
        kind(&format!("<conference-info {ns} entity='x' state='gone'/>")),
        XmlErrorKind::InvalidValue("state")
    );
    assert_eq!(
        kind(&format!("<conference-info {ns} entity='x' version='-1'/>")),
        XmlErrorKind::InvalidValue("version")
    );
    assert_eq!(
        kind(&format!(
            "<conference-info {ns} entity='x' version='4294967296'/>"
        )),
        XmlErrorKind::InvalidValue("version")
    );
    assert_eq!(
        kind(&format!(
            "<conference-info {ns} entity='x'><users><user entity='u'><endpoint entity='e'><status>asleep</status></endpoint></user></users></conference-info>"
        )),
        XmlErrorKind::InvalidValue("status")
    );
    assert_eq!(
        kind(&format!(
            "<conference-info {ns} entity='x'><users><user entity='u'><endpoint entity='e'><media/></endpoint></user></users></conference-info>"
        )),
        XmlErrorKind::MissingAttribute("id")
    );
    assert_eq!(
        kind(&format!(
            "<conference-info {ns} entity='x'><conference-state><active>maybe</active></conference-state></conference-info>"
        )),
        XmlErrorKind::InvalidValue("active")
    );
}

fn text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[ -~éß€\t\n\r]{0,12}").unwrap()
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text())
}

fn token() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z0-9-]{1,8}").unwrap()
}

fn state() -> impl Strategy<Value = ElementState> {
    proptest::sample::select(ElementState::ALL)
}

fn uris() -> impl Strategy<Value = Uris> {
    (
        state(),
        proptest::collection::vec(
            (text(), opt_text(), opt_text()).prop_map(|(uri, display_text, purpose)| UriEntry {
                uri,
                display_text,
                purpose,
            }),
            0..3,
        ),
    )
        .prop_map(|(state, entries)| Uris { state, entries })
}

fn execution() -> impl Strategy<Value = ExecutionInfo> {
    (opt_text(), opt_text(), opt_text()).prop_map(|(when, reason, by)| ExecutionInfo {
        when,
        reason,
        by,
    })
}

fn media() -> impl Strategy<Value = Media> {
    (
        text(),
        opt_text(),
        opt_text(),
        opt_text(),
        opt_text(),
        proptest::option::of(proptest::sample::select(MediaStatus::ALL)),
    )
        .prop_map(
            |(id, display_text, media_type, label, src_id, status)| Media {
                id,
                display_text,
                media_type,
                label,
                src_id,
                status,
            },
        )
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    (
        (
            text(),
            state(),
            opt_text(),
            proptest::option::of(execution()),
        ),
        (
            proptest::option::of(proptest::sample::select(EndpointStatus::ALL)),
            proptest::option::of(proptest::sample::select(JoiningMethod::ALL)),
            proptest::option::of(execution()),
            proptest::option::of(proptest::sample::select(DisconnectionMethod::ALL)),
            proptest::option::of(execution()),
        ),
        proptest::collection::vec(media(), 0..3),
        proptest::option::of((opt_text(), opt_text(), opt_text(), opt_text()).prop_map(
            |(display_text, call_id, from_tag, to_tag)| SipDialogId {
                display_text,
                call_id,
                from_tag,
                to_tag,
            },
        )),
    )
        .prop_map(
            |(
                (entity, state, display_text, referred),
                (status, joining_method, joining_info, disconnection_method, disconnection_info),
                media,
                call_info,
            )| Endpoint {
                entity,
                state,
                display_text,
                referred,
                status,
                joining_method,
                joining_info,
                disconnection_method,
                disconnection_info,
                media,
                call_info,
            },
        )
}

fn user() -> impl Strategy<Value = User> {
    (
        (text(), state(), opt_text(), proptest::option::of(uris())),
        proptest::option::of(proptest::collection::vec(text(), 0..3)),
        proptest::option::of(proptest::collection::vec(token(), 0..3)),
        opt_text(),
        proptest::collection::vec(endpoint(), 0..3),
    )
        .prop_map(
            |(
                (entity, state, display_text, associated_aors),
                roles,
                languages,
                cascaded_focus,
                endpoints,
            )| User {
                entity,
                state,
                display_text,
                associated_aors,
                roles,
                languages,
                cascaded_focus,
                endpoints,
            },
        )
}

fn conference_info() -> impl Strategy<Value = ConferenceInfo> {
    let description = (
        (opt_text(), opt_text(), opt_text(), opt_text()),
        proptest::option::of(uris()),
        proptest::option::of(uris()),
        proptest::option::of(any::<u32>()),
    )
        .prop_map(
            |(
                (display_text, subject, free_text, keywords),
                conf_uris,
                service_uris,
                maximum_user_count,
            )| {
                ConferenceDescription {
                    display_text,
                    subject,
                    free_text,
                    keywords,
                    conf_uris,
                    service_uris,
                    maximum_user_count,
                }
            },
        );
    let host = (opt_text(), opt_text(), proptest::option::of(uris())).prop_map(
        |(display_text, web_page, uris)| HostInfo {
            display_text,
            web_page,
            uris,
        },
    );
    let conference_state = (
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(user_count, active, locked)| ConferenceState {
            user_count,
            active,
            locked,
        });
    (
        (text(), state(), proptest::option::of(any::<u32>())),
        proptest::option::of(description),
        proptest::option::of(host),
        proptest::option::of(conference_state),
        proptest::option::of(
            (state(), proptest::collection::vec(user(), 0..4))
                .prop_map(|(state, users)| Users { state, users }),
        ),
        proptest::option::of(uris()),
    )
        .prop_map(
            |(
                (entity, state, version),
                description,
                host_info,
                conference_state,
                users,
                sidebars_by_ref,
            )| {
                ConferenceInfo {
                    entity,
                    state,
                    version,
                    description,
                    host_info,
                    conference_state,
                    users,
                    sidebars_by_ref,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn write_then_parse_gives_the_same_document(info in conference_info()) {
        prop_assert_eq!(round_trip(&info), info);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = ConferenceInfo::parse(&bytes, &XmlLimits::default());
    }

    #[test]
    fn mutated_documents_never_panic(cut in 0usize..3000, byte in any::<u8>()) {
        let mut body = data("rfc4575-basic-full.xml");
        let at = cut % body.len();
        body[at] = byte;
        if let Ok(info) = ConferenceInfo::parse(&body, &XmlLimits::default()) {
            prop_assert_eq!(round_trip(&info), info);
        }
        body.truncate(at);
        let _ = ConferenceInfo::parse(&body, &XmlLimits::default());
    }
}
