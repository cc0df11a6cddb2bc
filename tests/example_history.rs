//! `examples/history.rs` as a process with its SQLite store, between
//! `examples/im_server.rs` and two `examples/im_client.rs`: alice creates an
//! ad-hoc group with bob and asks the History Function to record it
//! (`/record`, a REFER); bob's message is stored with its CPIM headers; the
//! History Function is killed and started again on the same store; alice
//! retrieves the item (`/history`) and gets it with its original sender,
//! recipient and DateTime. Every child is killed by its PID (a Drop guard)
//! and bounded by `--seconds`.
//!
//! `cargo test` builds the examples before the integration tests run (run
//! `cargo build --examples` first when running this test alone).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary");
    let profile_dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is not built (run `cargo build --examples` or the whole `cargo test`)",
        path.display()
    );
    path
}

/// A loopback port free for both UDP and TCP now.
fn free_port(taken: &mut Vec<u16>) -> u16 {
    for _ in 0..100 {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if !taken.contains(&port) && UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            taken.push(port);
            return port;
        }
    }
    panic!("no free loopback port");
}

/// A running example: killed by its PID and reaped when dropped, even when
/// the test panics; its output is printed then.
struct Proc {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Ok(lines) = self.lines.lock() {
            eprintln!("--- {} (pid {}) ---", self.name, self.child.id());
            for line in lines.iter() {
                eprintln!("{line}");
            }
        }
    }
}

impl Proc {
    fn start(name: &str, binary: &PathBuf, args: &[String]) -> Proc {
        let mut child = Command::new(binary)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the example starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let stdin = child.stdin.take();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut kept) = kept.lock() {
                    kept.push(line);
                }
            }
        });
        Proc {
            name: name.to_owned(),
            child,
            stdin,
            lines,
        }
    }

    /// Waits (at most 20 s) for a line containing `text`.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(line) = self.lines.lock().unwrap().iter().find(|l| l.contains(text)) {
                return line.clone();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{}: no line with {text:?} within 20 s", self.name);
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("the example reads its stdin");
        stdin.flush().unwrap();
    }
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[test]
fn recorded_history_survives_a_restart_and_keeps_its_cpim_headers() {
    let bins = (
        example("im_server"),
        example("im_client"),
        example("history"),
    );
    let mut taken = Vec::new();
    let (sip, msrp) = (free_port(&mut taken), free_port(&mut taken));
    let factory = format!("sip:conf-factory@{}", addr(sip));
    let _server = Proc::start(
        "im_server",
        &bins.0,
        &[
            "--sip-addr".into(),
            addr(sip).to_string(),
            "--msrp-addr".into(),
            addr(msrp).to_string(),
            // The History Function's recording leg is admitted from the
            // trust domain (here, loopback).
            "--trust".into(),
            "127.0.0.1".into(),
            "--seconds".into(),
            "60".into(),
        ],
    );
    _server.wait_for("IM Server ready:");
    let dir = std::env::temp_dir().join(format!("oma-im-history-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("history.sqlite");
    let _ = std::fs::remove_file(&db);
    let (hsip, hmsrp) = (free_port(&mut taken), free_port(&mut taken));
    let history_uri = format!("sip:history@{}", addr(hsip));
    let history_args: Vec<String> = vec![
        "--sip-addr".into(),
        addr(hsip).to_string(),
        "--msrp-addr".into(),
        addr(hmsrp).to_string(),
        "--db".into(),
        db.to_string_lossy().into_owned(),
        "--accept-unverified".into(),
        "--seconds".into(),
        "60".into(),
    ];
    let history = Proc::start("history", &bins.2, &history_args);
    history.wait_for("History Function ready:");
    let mut clients = Vec::new();
    let mut uris = Vec::new();
    for name in ["alice", "bob"] {
        let (sip, msrp) = (free_port(&mut taken), free_port(&mut taken));
        let uri = format!("sip:{name}@{}", addr(sip));
        let mut args = vec![
            "--sip-addr".to_owned(),
            addr(sip).to_string(),
            "--msrp-addr".into(),
            addr(msrp).to_string(),
            "--user".into(),
            uri.clone(),
            "--factory".into(),
            factory.clone(),
            "--seconds".into(),
            "60".into(),
        ];
        if name == "bob" {
            args.push("--auto-accept".into());
        }
        let p = Proc::start(name, &bins.1, &args);
        p.wait_for("IM Client ready:");
        clients.push(p);
        uris.push(uri);
    }
    clients[0].type_line(&format!("/adhoc {}", uris[1]));
    let line = clients[0].wait_for("established: conference ");
    let conference = line
        .rsplit(' ')
        .next()
        .expect("the IM Session Identity")
        .to_owned();
    clients[1].wait_for("established: conference");
    clients[0].wait_for(&format!("joined: {}", uris[1]));
    clients[0].type_line(&format!("/record {history_uri}"));
    history.wait_for(&format!("recording started: {conference}"));
    clients[1].type_line("for the record");
    clients[0].wait_for(&format!("message from {}: for the record", uris[1]));
    let stored = history.wait_for("stored ");
    let reference = stored
        .split_whitespace()
        .nth(1)
        .expect("the history reference")
        .to_owned();
    assert!(
        stored.ends_with(&format!("from {}: for the record", uris[1])),
        "{stored}"
    );
    // The History Function stops; a new process opens the same store.
    drop(history);
    let history = Proc::start("history (restarted)", &bins.2, &history_args);
    let ready = history.wait_for("History Function ready:");
    assert!(ready.contains("(1 items)"), "{ready}");
    clients[0].type_line(&format!("/history {history_uri} {reference}"));
    let item = clients[0].wait_for("history item from ");
    // The original CPIM headers: bob's address, the conference, a DateTime.
    let prefix = format!("history item from {} to {conference} at 20", uris[1]);
    assert!(item.starts_with(&prefix), "{item}");
    assert!(item.ends_with("Z: for the record"), "{item}");
    history.wait_for("retrieval done: 1 delivered, 0 missing");
    for c in &mut clients {
        c.type_line("/quit");
    }
    drop(history);
    let _ = std::fs::remove_dir_all(&dir);
}
