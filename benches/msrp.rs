//! MSRP codec throughput and allocations: parse, stream, chunk + reassemble,
//! write. Run with `cargo bench --bench msrp`.

mod support;

#[global_allocator]
static A: support::Counting = support::Counting;

use std::hint::black_box;
use std::num::NonZeroUsize;

use oma_im::msrp::{
    chunks, parse_message, ContinuationFlag, Limits, Method, MsrpHead, MsrpMessage,
    MsrpStreamParser, MsrpUri, Progress, Reassembler, StreamEvent,
};

const KIB4: usize = 4096;

fn head<'a>(tid: &'a str, to: &'a str, from: &'a str) -> MsrpHead<'a> {
    let to = [MsrpUri::parse(to).expect("uri")].into_iter().collect();
    let from = [MsrpUri::parse(from).expect("uri")].into_iter().collect();
    let mut head = MsrpHead::request(tid, Method::Send, to, from);
    head.message_id = Some("12339sdqwer");
    head.content_type = Some("text/plain");
    head
}

fn main() {
    let to = "msrp://bob.example.com:8888/9di4eae923wzd;tcp";
    let from = "msrp://alicepc.example.com:7777/iau39soe2843z;tcp";
    let body: Vec<u8> = (0..1024 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    let template = head("d93kswow", to, from);

    // One 4 KiB SEND chunk on the wire.
    let first = chunks(&body[..KIB4], NonZeroUsize::new(KIB4).expect("size"))
        .next()
        .expect("chunk");
    let send = first.message(&template, "d93kswow");
    let mut wire = Vec::new();
    send.write(&mut wire);
    support::measure("parse_message: SEND with 4 KiB body", 5, 20_000, || {
        parse_message(black_box(&wire))
            .expect("parse")
            .body
            .map(<[u8]>::len)
    });

    let mut out = Vec::with_capacity(8192);
    support::measure("write: 4 KiB chunk into a reused Vec", 5, 20_000, || {
        out.clear();
        black_box(&send).write(&mut out);
        out.len()
    });

    // 1 MiB of back-to-back 4 KiB chunks, read 16 KiB at a time.
    let tids: Vec<String> = (0..256).map(|i| format!("tid{i:05}")).collect();
    let mut stream = Vec::new();
    for (chunk, tid) in chunks(&body, NonZeroUsize::new(KIB4).expect("size")).zip(&tids) {
        chunk.message(&template, tid).write(&mut stream);
    }
    let mut parser = MsrpStreamParser::new(Limits::default());
    let m = support::measure(
        "stream: 1 MiB as 256 x 4 KiB chunks, 16 KiB reads",
        5,
        50,
        || {
            let mut ends = 0usize;
            let mut bytes = 0usize;
            for read in stream.chunks(16 * 1024) {
                parser.feed(read);
                while let Some(event) = parser.next_event().expect("stream") {
                    match event {
                        StreamEvent::Head { head, .. } => bytes += head.transact_id.len(),
                        StreamEvent::BodyData(data) => bytes += data.len(),
                        StreamEvent::End(_) => ends += 1,
                    }
                }
            }
            assert_eq!(ends, 256);
            bytes
        },
    );
    println!(
        "{:<48} {:>12.1} MiB/s {:>8.3} allocs/chunk",
        "  => stream throughput",
        stream.len() as f64 / (1024.0 * 1024.0) / (m.ns_per_op / 1e9),
        m.allocs_per_op / 256.0
    );

    // Chunk a 1 MiB message into 4 KiB chunks and reassemble it.
    let mut reassembler = Reassembler::new(Limits::default());
    let m = support::measure(
        "chunk + reassemble: 1 MiB message, 4 KiB chunks",
        5,
        50,
        || {
            let mut done = None;
            for chunk in chunks(&body, NonZeroUsize::new(KIB4).expect("size")) {
                let msg: MsrpMessage<'_> = chunk.message(&template, "tid00001");
                if let Progress::Complete(m) = reassembler.push_message(&msg).expect("push") {
                    done = Some(m.data.len());
                }
                debug_assert!(msg.flag != ContinuationFlag::Aborted);
            }
            done.expect("complete")
        },
    );
    println!(
        "{:<48} {:>12.1} MiB/s {:>8.3} allocs/chunk",
        "  => reassembly throughput",
        body.len() as f64 / (1024.0 * 1024.0) / (m.ns_per_op / 1e9),
        m.allocs_per_op / 256.0
    );
}
