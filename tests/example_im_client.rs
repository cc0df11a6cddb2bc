//! `examples/im_client.rs` and `examples/im_server.rs` as processes on
//! loopback: alice creates an ad-hoc group with bob and carol through the
//! server's Conference-factory-URI, typing `/adhoc ...` on her standard
//! input; the invitees accept; a line alice types reaches bob and carol
//! with her address as the sender, and a line bob types reaches the two
//! others. Every child is killed by its PID (a Drop guard) and bounded by
//! `--seconds`.
//!
//! `cargo test` builds the examples before the integration tests run, so a
//! missing binary is a failure (`cargo build --examples` first when running
//! this test alone).

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
        self.wait_until(text, |l| l.contains(text))
    }

    /// Waits (at most 20 s) for a line that `matches`, described by `what`.
    fn wait_until(&self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(line) = self.lines.lock().unwrap().iter().find(|l| matches(l)) {
                return line.clone();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{}: no line with {what:?} within 20 s", self.name);
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
fn a_line_typed_by_one_client_reaches_the_two_others_through_the_server() {
    let (server_bin, client_bin) = (example("im_server"), example("im_client"));
    let mut taken = Vec::new();
    let (sip, msrp) = (free_port(&mut taken), free_port(&mut taken));
    let factory = format!("sip:conf-factory@{}", addr(sip));
    let server = Proc::start(
        "im_server",
        &server_bin,
        &[
            "--sip-addr".into(),
            addr(sip).to_string(),
            "--msrp-addr".into(),
            addr(msrp).to_string(),
            "--seconds".into(),
            "40".into(),
        ],
    );
    server.wait_for("IM Server ready:");
    let mut clients = Vec::new();
    let mut uris = Vec::new();
    for name in ["alice", "bob", "carol"] {
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
            "40".into(),
        ];
        if name != "alice" {
            args.push("--auto-accept".into());
        }
        let p = Proc::start(name, &client_bin, &args);
        p.wait_for("IM Client ready:");
        clients.push(p);
        uris.push(uri);
    }
    clients[0].type_line(&format!("/adhoc {} {}", uris[1], uris[2]));
    for c in &clients {
        c.wait_for("established: conference");
    }
    // Everyone is connected in the roster alice subscribed to: the MSRP
    // legs are up. (Which NOTIFY first shows whom connected depends on the
    // order the legs came up in: the full roster line is what is waited
    // for, not each one's "joined:" line.)
    clients[0].wait_until("a roster with all three", |l| {
        l.starts_with("roster: ") && uris.iter().all(|u| l.contains(u.as_str()))
    });
    clients[0].type_line("hello from alice");
    for c in &clients[1..] {
        c.wait_for(&format!("message from {}: hello from alice", uris[0]));
    }
    clients[1].type_line("hi, bob here");
    for i in [0, 2] {
        clients[i].wait_for(&format!("message from {}: hi, bob here", uris[1]));
    }
    // Nobody got their own message back.
    for (i, c) in clients.iter().enumerate() {
        let own = format!("message from {}:", uris[i]);
        assert!(!c.lines.lock().unwrap().iter().any(|l| l.contains(&own)));
    }
    clients[1].type_line("/leave");
    clients[0].wait_for(&format!("left: {}", uris[1]));
    for c in &mut clients {
        c.type_line("/quit");
    }
    drop(server);
}
