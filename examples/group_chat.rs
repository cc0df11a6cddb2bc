//! An ad-hoc IM group chat (OMA SIMPLE IM 7.1.1.3 / 7.2.1.2) at the codec and
//! user-plane level: every message is written to bytes, parsed again on the
//! other side and printed as a ladder.
//!
//! Alice builds the INVITE of an Ad-hoc IM Group Session (multipart/mixed: an
//! MSRP SDP offer and the resource-lists of bob and carol) towards the
//! Conference-factory-URI; the controlling IM Server parses it, answers the
//! invitees' offers and Alice per 7.2.1.2 step 2; then each participant sends a
//! message over MSRP and the server's switch fans it out with the sender in the
//! CPIM From.
//!
//! Run with `cargo run --example group_chat`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use oma_im::body::mime::MimeLimits;
use oma_im::body::multipart::{find_resource_lists, find_sdp, Multipart, Part};
use oma_im::body::resource_lists::{Entry, ResourceLists};
use oma_im::body::xml::XmlLimits;
use oma_im::msrp::session::{
    CpimIdentities, Event, Input, MsrpSession, Output, SendOptions, SessionConfig, SessionParams,
};
use oma_im::msrp::switch::{
    LegConfig, LegId, LegInput, MsrpSwitch, SwitchConfig, SwitchEvent, SwitchOutput,
};
use oma_im::sdp::offer_answer::{answer, answer_for_inviter, offer, LocalParameters};
use oma_im::sdp::{AcceptTypes, SessionDescription};
use oma_im::sip::writer::{RequestBuilder, ResponseBuilder};
use oma_im::sip::{parse_message, HeaderName, SipMessage};

const FACTORY: &str = "sip:conf-factory@im.example.com";
const SESSION: &str = "sip:conf-4711@im.example.com";
const PEOPLE: [(&str, &str); 3] = [
    ("alice", "sip:alice@example.com"),
    ("bob", "sip:bob@example.com"),
    ("carol", "sip:carol@example.com"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("== SIP: alice creates an Ad-hoc IM Group Session with bob and carol ==");
    // Buffers for the server's answer, declared first: the response borrows them
    // for as long as it borrows the INVITE it answers.
    let mut sdp = Vec::new();
    let mut ok = Vec::new();
    let invite = alice_invite();
    let invite = ladder("alice", "server", parse_message(&invite)?, &invite);

    // The server reads the URI list and the SDP offer from the multipart body.
    let content_type = invite
        .header(HeaderName::ContentType)
        .ok_or("no Content-Type")?;
    let limits = MimeLimits::default();
    let list = find_resource_lists(content_type.value, invite.body(), &limits)?.ok_or("no list")?;
    let invitees: Vec<String> = ResourceLists::parse(list, &XmlLimits::default())?
        .entries()
        .map(|e| e.uri.to_string())
        .collect();
    println!("   server: invitees {invitees:?}");
    let alice_offer = SessionDescription::parse(
        find_sdp(content_type.value, invite.body(), &limits)?.ok_or("no SDP")?,
    )?;

    // One invitee answers the server's offer; the server builds alice's answer
    // from her offer and that answer (7.2.1.2 step 2).
    let server_leg = LocalParameters::new(2, 1, "192.0.2.10", 2855, switch_uri(2));
    let bob_local = LocalParameters::new(3, 1, "192.0.2.2", 7002, participant_uri(2));
    let server_offer = offer(&server_leg);
    let bob_answer = answer(&server_offer, &bob_local);
    let server_alice = LocalParameters::new(1, 1, "192.0.2.10", 2855, switch_uri(1));
    let alice_answer = answer_for_inviter(&alice_offer, &bob_answer, &server_alice);
    alice_answer.write(&mut sdp);
    ResponseBuilder::for_request(&invite, 200, "OK")
        .to_tag("f0c1s")
        .header(
            HeaderName::Contact,
            "<sip:conf-4711@im.example.com>;isfocus;+g.oma.sip-im",
        )
        .header(HeaderName::Server, "IM-serv/OMA1.0 oma-im/0.1")
        .header(HeaderName::SessionExpires, "1800;refresher=uac")
        .body("application/sdp", &sdp)
        .write(&mut ok);
    let ok_msg = parse_message(&ok)?;
    ladder("server", "alice", ok_msg.clone(), &ok);
    let contact = ok_msg.contact().next().ok_or("no Contact")??;
    println!(
        "   alice: IM Session Identity {} (isfocus: {})",
        contact,
        contact.is_focus()
    );

    println!("\n== MSRP: every participant talks, the switch fans out ==");
    let mut chat = Chat::new();
    for (n, (name, _)) in PEOPLE.iter().enumerate() {
        chat.send(n as u64 + 1, &format!("hello from {name}"));
    }
    println!("\n== bob leaves; alice says goodbye ==");
    chat.leave(2);
    chat.send(1, "bye, carol");

    for (n, (name, _)) in PEOPLE.iter().enumerate() {
        let got = chat
            .received
            .get(&(n as u64 + 1))
            .cloned()
            .unwrap_or_default();
        println!("   {name} received {} message(s): {got:?}", got.len());
    }
    Ok(())
}

/// Alice's INVITE (7.1.1.1 rules + 7.1.1.3): to the Conference-factory-URI,
/// multipart/mixed with the SDP offer and the recipient list.
fn alice_invite() -> Vec<u8> {
    let local = LocalParameters::new(1, 1, "192.0.2.1", 7001, participant_uri(1));
    let mut sdp = Vec::new();
    offer(&local).write(&mut sdp);
    let mut list = Vec::new();
    ResourceLists::from_entries(PEOPLE[1..].iter().map(|(_, uri)| Entry::new(*uri)))
        .write(&mut list);
    let mut multipart = Multipart::new();
    multipart
        .parts
        .push(Part::new("application/sdp", &sdp).expect("part"));
    multipart.parts.push(
        Part::new("application/resource-lists+xml", &list)
            .and_then(|p| p.with_header("Content-Disposition", "recipient-list"))
            .expect("part"),
    );
    let mut body = Vec::new();
    let boundary = multipart.write(7, &mut body);
    let mut content_type = Vec::new();
    boundary.write_content_type(&mut content_type);
    let content_type = String::from_utf8(content_type).expect("ASCII");

    let mut out = Vec::new();
    RequestBuilder::new("INVITE", FACTORY)
        .header(
            HeaderName::Via,
            "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa1ice",
        )
        .header(HeaderName::MaxForwards, "70")
        .header(HeaderName::From, "<sip:alice@example.com>;tag=a1")
        .header(HeaderName::To, "<sip:conf-factory@im.example.com>")
        .header(HeaderName::CallId, "adhoc-1@192.0.2.1")
        .header(HeaderName::CSeq, "1 INVITE")
        .header(
            HeaderName::Contact,
            "<sip:alice@192.0.2.1:5060>;+g.oma.sip-im",
        )
        .header(HeaderName::AcceptContact, "*;+g.oma.sip-im")
        .header(HeaderName::UserAgent, "IM-client/OMA1.0 oma-im/0.1")
        .header(
            HeaderName::Allow,
            "INVITE, ACK, CANCEL, BYE, NOTIFY, MESSAGE",
        )
        .header(HeaderName::Supported, "timer")
        .header(HeaderName::SessionExpires, "1800;refresher=uac")
        .body(&content_type, &body)
        .write(&mut out);
    out
}

/// Prints one ladder line for a SIP message that crossed as bytes.
fn ladder<'a>(from: &str, to: &str, msg: SipMessage<'a>, bytes: &[u8]) -> SipMessage<'a> {
    let what = match msg.status_line() {
        Some(s) => format!("{} {}", s.code, s.reason),
        None => format!(
            "{} {}",
            msg.method().unwrap_or("?"),
            msg.request_line().map_or("", |r| r.uri)
        ),
    };
    println!("{from:>7} ---- {what} ({} bytes) ----> {to}", bytes.len());
    for name in [
        HeaderName::ContentType,
        HeaderName::Contact,
        HeaderName::SessionExpires,
    ] {
        if let Some(v) = msg.header(name) {
            println!("{:>14}: {}", name.as_str(), v.value);
        }
    }
    msg
}

fn switch_uri(n: u64) -> String {
    format!("msrp://192.0.2.10:2855/{SESSION_ID}{n};tcp")
}

fn participant_uri(n: u64) -> String {
    format!("msrp://192.0.2.{n}:700{n}/p{n};tcp")
}

const SESSION_ID: &str = "conf4711leg";

/// The user plane: one MSRP session per participant, one switch leg each.
struct Chat {
    switch: MsrpSwitch,
    people: BTreeMap<u64, MsrpSession>,
    received: BTreeMap<u64, Vec<String>>,
    now: Instant,
}

impl Chat {
    fn new() -> Self {
        let now = Instant::now();
        let mut chat = Chat {
            switch: MsrpSwitch::new(SwitchConfig {
                rng_seed: 4711,
                ..SwitchConfig::default()
            }),
            people: BTreeMap::new(),
            received: BTreeMap::new(),
            now,
        };
        for (i, (_, uri)) in PEOPLE.iter().enumerate() {
            let n = i as u64 + 1;
            let leg = LegConfig::new(&switch_uri(n), &participant_uri(n), uri);
            chat.switch.join(LegId(n), leg, now).expect("join");
            let mut params = SessionParams::new(&participant_uri(n), &switch_uri(n), true);
            params.remote_accept_types = AcceptTypes::from_iter(["message/cpim"]);
            let config = SessionConfig {
                rng_seed: n,
                cpim: Some(CpimIdentities {
                    from: uri.to_string(),
                    to: SESSION.to_owned(),
                }),
                ..SessionConfig::default()
            };
            let mut session = MsrpSession::new(params, config).expect("session");
            session.handle_input(Input::Connected, now);
            chat.switch.handle_input(LegId(n), LegInput::Connected, now);
            chat.people.insert(n, session);
        }
        chat.pump();
        chat
    }

    fn send(&mut self, n: u64, text: &str) {
        let now = self.now;
        let session = self.people.get_mut(&n).expect("participant");
        session
            .send_message("text/plain", text.as_bytes(), SendOptions::default(), now)
            .expect("send");
        self.pump();
    }

    fn leave(&mut self, n: u64) {
        self.switch.leave(LegId(n));
        self.people.remove(&n);
        println!("   {} leaves: the server removes its switch leg", name(n));
        self.pump();
    }

    /// Moves bytes both ways until nothing is left to move.
    fn pump(&mut self) {
        self.now += Duration::from_millis(10);
        let now = self.now;
        loop {
            let mut moved = false;
            for (&n, session) in &mut self.people {
                while let Some(out) = session.poll_output() {
                    moved = true;
                    match out {
                        Output::Transmit(t) => {
                            print_msrp(&name(n), "switch", &t.data);
                            self.switch
                                .handle_input(LegId(n), LegInput::Bytes(&t.data), now);
                        }
                        Output::Event(Event::MessageReceived(m)) => {
                            let text = m
                                .cpim
                                .as_ref()
                                .and_then(|c| c.as_ref().ok())
                                .map(|c| {
                                    let from = c
                                        .from
                                        .as_ref()
                                        .map(|f| f.uri.to_string())
                                        .unwrap_or_default();
                                    format!("{from}: {}", String::from_utf8_lossy(&c.content))
                                })
                                .unwrap_or_default();
                            println!("   {} event: message received ({text})", name(n));
                            self.received.entry(n).or_default().push(text);
                        }
                        Output::Event(_) => {}
                    }
                }
            }
            while let Some(out) = self.switch.poll_output() {
                moved = true;
                match out {
                    SwitchOutput::Transmit(t) => {
                        if let Some(session) = self.people.get_mut(&t.leg.0) {
                            print_msrp("switch", &name(t.leg.0), &t.data);
                            session.handle_input(Input::Bytes(&t.data), now);
                        }
                    }
                    SwitchOutput::Event(SwitchEvent::MessageRelayed {
                        from_leg, to_legs, ..
                    }) => {
                        let to: Vec<String> = to_legs.iter().map(|l| name(l.0)).collect();
                        println!(
                            "   switch event: relayed from {} to {to:?}",
                            name(from_leg.0)
                        );
                    }
                    SwitchOutput::Event(_) => {}
                }
            }
            if !moved {
                break;
            }
        }
    }
}

fn name(n: u64) -> String {
    PEOPLE
        .get((n as usize).wrapping_sub(1))
        .map_or("?", |p| p.0)
        .to_owned()
}

/// One ladder line for an MSRP message: its start line.
fn print_msrp(from: &str, to: &str, data: &[u8]) {
    let line = data.split(|&b| b == b'\r').next().unwrap_or_default();
    println!(
        "{from:>7} ---- {} ----> {to}",
        String::from_utf8_lossy(line)
    );
}
