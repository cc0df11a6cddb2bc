//! XML body benchmarks: parsing a 10-entry resource-lists, parsing a 5-user
//! conference-info full document, and rejecting a 100 000-entry list.

mod support;

#[global_allocator]
static A: support::Counting = support::Counting;

use std::hint::black_box;

use oma_im::body::conference_info::{ConferenceInfo, JoiningMethod, Participant};
use oma_im::body::resource_lists::{CopyControl, Entry, ResourceLists};
use oma_im::body::xml::{XmlErrorKind, XmlLimits};

fn resource_lists(entries: usize) -> Vec<u8> {
    let lists = ResourceLists::from_entries((0..entries).map(|i| {
        let mut entry = Entry::new(format!("sip:user{i}@example.com"));
        entry.copy_control = Some(CopyControl::To);
        entry
    }));
    let mut out = Vec::new();
    lists.write(&mut out);
    out
}

fn conference_info(users: usize) -> Vec<u8> {
    let participants: Vec<Participant> = (0..users)
        .map(|i| {
            let mut p = Participant::new(format!("sip:user{i}@example.com"));
            p.display_text = Some(format!("User {i}"));
            p.endpoint = Some(format!("sip:user{i}@192.0.2.{i};transport=tcp"));
            p.joining_method = Some(JoiningMethod::DialedOut);
            p
        })
        .collect();
    let mut out = Vec::new();
    ConferenceInfo::full_state("sip:adhoc-1@im.example.com", 1, &participants).write(&mut out);
    out
}

fn main() {
    let limits = XmlLimits::default();

    let ten = resource_lists(10);
    assert_eq!(
        ResourceLists::parse(&ten, &limits).unwrap().entry_count(),
        10
    );
    support::measure("resource-lists parse, 10 entries", 10, 20_000, || {
        ResourceLists::parse(black_box(&ten), &limits).map(|l| l.lists.len())
    });

    let five = conference_info(5);
    assert_eq!(
        ConferenceInfo::parse(&five, &limits)
            .unwrap()
            .users()
            .count(),
        5
    );
    support::measure("conference-info parse, 5 users (full)", 10, 10_000, || {
        ConferenceInfo::parse(black_box(&five), &limits).map(|c| c.version)
    });

    let huge = resource_lists(100_000);
    let big_limits = XmlLimits {
        max_document_size: huge.len(),
        ..limits
    };
    assert_eq!(
        ResourceLists::parse(&huge, &big_limits).unwrap_err().kind,
        XmlErrorKind::TooManyEntries { limit: 100 }
    );
    println!("(100 000-entry list: {} bytes)", huge.len());
    support::measure(
        "resource-lists reject 100 000 entries (limit 100)",
        10,
        2_000,
        || ResourceLists::parse(black_box(&huge), &big_limits).is_err(),
    );
    support::measure(
        "resource-lists reject 100 000 entries (size limit)",
        10,
        2_000,
        || ResourceLists::parse(black_box(&huge), &limits).is_err(),
    );
}
