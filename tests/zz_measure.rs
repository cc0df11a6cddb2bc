use oma_im::im::server::{ImServer, Input, Output, ServerConfig};
use oma_im::transaction::Transport;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::SocketAddr;
use std::time::Instant;

struct Counting;
thread_local! { static LIVE: Cell<i64> = const { Cell::new(0) }; }
fn add(d: i64) {
    let _ = LIVE.try_with(|l| l.set(l.get() + d));
}
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        add(l.size() as i64);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        add(-(l.size() as i64));
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        add(l.size() as i64);
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        add(n as i64 - l.size() as i64);
        unsafe { System.realloc(p, l, n) }
    }
}
#[global_allocator]
static A: Counting = Counting;

const FACTORY: &str = "sip:conf@im.example.com";

fn invite(call: u32, uri_len: usize, sdp_pad: usize, hdr_pad: usize, invitees: usize) -> Vec<u8> {
    let pad = |n: usize| "x".repeat(n);
    let mut sdp = format!(
        "v=0\r\no=a 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n\
         m=message 7000 TCP/MSRP *\r\na=accept-types:message/cpim\r\n\
         a=path:msrp://192.0.2.20:7000/a{call};tcp\r\na=setup:actpass\r\n"
    );
    let mut i = 0;
    while sdp.len() + 200 < sdp_pad {
        sdp.push_str(&format!("a=x{i}:{}\r\n", pad(230)));
        i += 1;
    }
    let mut list = String::new();
    for k in 0..invitees {
        list.push_str(&format!(
            "<entry uri=\"sip:bob{call}x{k}{}@example.com\"/>",
            pad(uri_len)
        ));
    }
    let body = format!(
        "--b\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--b\r\n\
         Content-Type: application/resource-lists+xml\r\n\r\n\
         <resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list>{list}</list></resource-lists>\r\n--b--\r\n");
    let mut extra = String::new();
    let mut left = hdr_pad;
    while left > 0 {
        let n = left.min(8000);
        extra.push_str(&format!("X-Pad: {}\r\n", pad(n)));
        left -= n;
    }
    format!(
        "INVITE {FACTORY} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK-{call}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice{call}@example.com>;tag=f{call}\r\nTo: <{FACTORY}>\r\n\
         Call-ID: flood-{call}\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.20>\r\n{extra}\
         Content-Type: multipart/mixed;boundary=b\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn run(label: &str, n: u32, f: impl Fn(u32) -> Vec<u8>) {
    let core: SocketAddr = "192.0.2.1:5060".parse().unwrap();
    let mut config = ServerConfig::new("192.0.2.10:5060".parse().unwrap(), core, "im.example.com");
    config.conference_factory_uris.push(FACTORY.to_owned());
    let base = LIVE.with(Cell::get);
    let mut server = ImServer::new(config);
    let now = Instant::now();
    let mut size = 0;
    let mut refused = 0;
    for call in 0..n {
        let bytes = f(call);
        size = bytes.len();
        server.handle_input(
            Input::Sip {
                bytes: &bytes,
                source: core,
                transport: Transport::Udp,
            },
            now,
        );
        while let Some(o) = server.poll_output() {
            if let Output::Transmit(t) = o {
                if t.bytes.starts_with(b"SIP/2.0 5") || t.bytes.starts_with(b"SIP/2.0 4") {
                    refused += 1;
                }
            }
        }
    }
    let held = LIVE.with(Cell::get) - base;
    println!(
        "{label}: invite {size} B, sessions {}, refused {refused}, held {held}, per session {}",
        server.session_count(),
        held / n as i64
    );
}

#[test]
fn measure() {
    run("small 1 invitee", 500, |c| invite(c, 0, 0, 0, 1));
    run("10 invitees small", 500, |c| invite(c, 0, 0, 0, 9));
    run("10 invitees 4k uris", 200, |c| invite(c, 3900, 0, 0, 9));
    run("sdp 16k + pad to 64k, 1 invitee", 200, |c| {
        invite(c, 0, 16000, 46000, 1)
    });
    run("pad header 60k, 1 invitee", 200, |c| {
        invite(c, 0, 0, 60000, 1)
    });
    run("10x4k uris + sdp16k + pad", 200, |c| {
        invite(c, 3900, 10000, 7000, 9)
    });
}
