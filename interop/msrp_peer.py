#!/usr/bin/env python3
"""An IM peer that the oma-im crate did not produce, for interop/run.sh.

Python standard library only, written from the RFCs: a minimal SIP user
agent over UDP (RFC 3261: INVITE/ACK/BYE with the route set learnt from
Record-Route, RFC 5366 URI-list INVITE) and an MSRP endpoint over TCP
(RFC 4975: SEND with Message-ID and Byte-Range, chunking with the `+`, `$`
and `#` end-line flags, transaction ids, 200 responses, Success-Report and
Failure-Report, REPORT parsing) carrying message/cpim (RFC 3862).

Commands:
  listen   --ports P,Q --seconds N     count SIP requests arriving on the
                                       ports; exit 1 if an INVITE arrived.
  invitee  --sip-port P --user bob     answer one INVITE with an MSRP SDP,
                                       connect to the focus's a=path, check
                                       what arrives, reply, wait for BYE.
  inviter  --sip-port P --user alice --proxy H:P --factory URI --invite URI
                                       set up an ad-hoc session through the
                                       proxy, send messages (one of 10 kB in
                                       3 chunks), check 200s and REPORTs,
                                       wait for the reply, leave with BYE.

Every check prints `CHECK <name> ok|FAIL <detail>`; the exit code is 0
only when every check passed. Only 127.0.0.1 is ever used.
"""

import argparse
import queue
import random
import re
import select
import socket
import sys
import threading
import time

LOOPBACK = "127.0.0.1"
CRLF = "\r\n"
T1 = 0.5

RESULTS = []
LOCK = threading.Lock()


def log(who, text):
    with LOCK:
        print(f"{time.strftime('%H:%M:%S')} {who}: {text}", flush=True)


def check(name, ok, detail=""):
    RESULTS.append((name, bool(ok)))
    with LOCK:
        print(f"CHECK {name} {'ok' if ok else 'FAIL'} {detail}".rstrip(), flush=True)
    return ok


def token(n=10):
    return "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


# ------------------------------------------------------------------ SIP

COMPACT = {"i": "call-id", "f": "from", "t": "to", "v": "via", "m": "contact",
           "c": "content-type", "l": "content-length", "k": "supported",
           "x": "session-expires"}


class SipMessage:
    def __init__(self, data):
        text = data.decode("utf-8", "replace")
        head, _, body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.start = lines[0]
        self.headers = []  # (lower name, value), in order, unfolded
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.headers:
                name, value = self.headers[-1]
                self.headers[-1] = (name, value + " " + line.strip())
                continue
            name, _, value = line.partition(":")
            name = name.strip().lower()
            self.headers.append((COMPACT.get(name, name), value.strip()))
        self.body = body
        parts = self.start.split(" ", 2)
        self.is_response = parts[0].startswith("SIP/")
        if self.is_response:
            self.status = int(parts[1])
            self.method = None
            self.uri = None
        else:
            self.method, self.uri = parts[0], parts[1]
            self.status = None

    def all(self, name):
        """Every value of a header, comma-separated lists split (outside <>)."""
        out = []
        for n, v in self.headers:
            if n == name:
                out.extend(split_list(v))
        return out

    def get(self, name):
        for n, v in self.headers:
            if n == name:
                return v
        return None

    def cseq(self):
        num, method = self.get("cseq").split()
        return int(num), method


def split_list(value):
    items, depth, cur, quoted = [], 0, "", False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        if not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        items.append(cur.strip())
    return items


def uri_of(value):
    m = re.search(r"<([^>]*)>", value)
    return m.group(1) if m else value.split(";")[0].strip()


def tag_of(value):
    m = re.search(r";\s*tag=([^;>\s]+)", value.split(">")[-1] if ">" in value else value)
    return m.group(1) if m else None


def hostport(uri):
    """127.0.0.1:port of a sip: URI (default port 5060)."""
    m = re.match(r"sips?:(?:[^@]*@)?([^;:>?]+)(?::(\d+))?", uri)
    host, port = m.group(1), int(m.group(2) or 5060)
    if host != LOOPBACK:
        raise ValueError(f"not loopback: {uri}")
    return host, port


class SipUa:
    """One UDP socket; a thread sorting what arrives into queues."""

    def __init__(self, who, port):
        self.who = who
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, port))
        self.responses = queue.Queue()
        self.requests = queue.Queue()
        self.running = True
        threading.Thread(target=self._recv, daemon=True).start()

    def _recv(self):
        while self.running:
            r, _, _ = select.select([self.sock], [], [], 0.2)
            if not r:
                continue
            data, src = self.sock.recvfrom(65535)
            if src[0] != LOOPBACK or not data.strip():
                continue
            try:
                msg = SipMessage(data)
            except Exception as e:  # noqa: BLE001 - a peer logs and goes on
                log(self.who, f"unparsable SIP from {src}: {e}")
                continue
            log(self.who, f"<- {msg.start}")
            (self.responses if msg.is_response else self.requests).put((msg, src))

    def send(self, text, dest):
        if dest[0] != LOOPBACK:
            raise ValueError("not loopback")
        log(self.who, f"-> {text.split(CRLF, 1)[0]}  ({dest[0]}:{dest[1]})")
        self.sock.sendto(text.encode("utf-8"), dest)

    def wait_response(self, call_id, method, timeout, retransmit=None):
        """The next response of the transaction; retransmits (UDP, Timer A/E)."""
        deadline = time.time() + timeout
        interval = T1
        next_tx = time.time() + interval
        while time.time() < deadline:
            try:
                msg, _ = self.responses.get(timeout=0.05)
            except queue.Empty:
                if retransmit and time.time() >= next_tx:
                    retransmit()
                    interval = min(interval * 2, 4.0)
                    next_tx = time.time() + interval
                continue
            if msg.get("call-id") == call_id and msg.cseq()[1] == method:
                return msg
        return None


def response_to(req, code, reason, to_tag=None, extra=(), body="", content_type=None):
    lines = [f"SIP/2.0 {code} {reason}"]
    for n, v in req.headers:
        if n in ("via", "record-route", "call-id", "cseq", "from"):
            lines.append(f"{n.title() if n != 'cseq' else 'CSeq'}: {v}")
        elif n == "to":
            if to_tag and tag_of(v) is None:
                v = f"{v};tag={to_tag}"
            lines.append(f"To: {v}")
    lines.extend(extra)
    if body:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body.encode())}")
    return CRLF.join(lines) + CRLF + CRLF + body


def sdp(user, port, msrp_port, session):
    return CRLF.join([
        "v=0",
        f"o={user} {random.randint(1, 2**31)} 1 IN IP4 {LOOPBACK}",
        "s=-",
        f"c=IN IP4 {LOOPBACK}",
        "t=0 0",
        f"m=message {msrp_port} TCP/MSRP *",
        "a=accept-types:message/cpim",
        "a=accept-wrapped-types:text/plain",
        f"a=path:msrp://{LOOPBACK}:{msrp_port}/{session};tcp",
        "a=setup:active",
    ]) + CRLF


def sdp_path(body):
    m = re.search(r"^a=path:\s*(.+?)\s*$", body, re.M)
    return m.group(1).split() if m else None


class Dialog:
    """The UAC or UAS view of one INVITE dialog (RFC 3261 12)."""

    def __init__(self, call_id, local, remote, target, route_set, cseq):
        self.call_id, self.local, self.remote = call_id, local, remote
        self.target, self.route_set, self.cseq = target, route_set, cseq

    def request(self, ua, method, cseq=None, via_branch=None):
        self.cseq = cseq if cseq is not None else self.cseq + 1
        branch = via_branch or "z9hG4bK" + token(12)
        lines = [f"{method} {self.target} SIP/2.0",
                 f"Via: SIP/2.0/UDP {LOOPBACK}:{ua.port};branch={branch};rport"]
        for r in self.route_set:
            lines.append(f"Route: {r}")
        lines += ["Max-Forwards: 70", f"From: {self.local}", f"To: {self.remote}",
                  f"Call-ID: {self.call_id}", f"CSeq: {self.cseq} {method}",
                  "Content-Length: 0"]
        return CRLF.join(lines) + CRLF + CRLF

    def next_hop(self):
        # Loose routing (RFC 3261 12.2.1.1): the first Route, else the target.
        return hostport(uri_of(self.route_set[0]) if self.route_set else self.target)


def serve_in_dialog(ua, dialog, stop, on_bye):
    """Answers in-dialog requests until BYE or stop (OPTIONS/UPDATE: 200)."""
    while not stop.is_set():
        try:
            req, src = ua.requests.get(timeout=0.1)
        except queue.Empty:
            continue
        via = req.get("via")
        m = re.search(r"SIP/2.0/UDP\s+([^;:\s]+)(?::(\d+))?", via or "")
        dest = (LOOPBACK, int(m.group(2) or 5060)) if m else src
        if req.method == "ACK":
            continue
        if req.get("call-id") != dialog.call_id:
            ua.send(response_to(req, 481, "Call/Transaction Does Not Exist"), dest)
            continue
        ua.send(response_to(req, 200, "OK"), dest)
        if req.method == "BYE":
            on_bye(req)
            return


# ------------------------------------------------------------------ MSRP

END_RE = re.compile(rb"\r\n-------([A-Za-z0-9.+%=-]+)([$+#])\r\n")


class MsrpMessage:
    def __init__(self, tid, start, headers, body, flag):
        self.tid, self.start, self.headers, self.body, self.flag = tid, start, headers, body, flag
        parts = start.split(" ", 3)
        if parts[2].isdigit():
            self.status, self.method = int(parts[2]), None
        else:
            self.status, self.method = None, parts[2]

    def get(self, name):
        return self.headers.get(name.lower())

    def byte_range(self):
        v = self.get("byte-range")
        if not v:
            return None
        m = re.match(r"(\d+)-(\d+|\*)/(\d+|\*)", v)
        start = int(m.group(1))
        end = None if m.group(2) == "*" else int(m.group(2))
        total = None if m.group(3) == "*" else int(m.group(3))
        return start, end, total


def parse_msrp(buf):
    """(message, rest) for the first complete message in buf, or (None, buf)."""
    if not buf.startswith(b"MSRP "):
        i = buf.find(b"MSRP ")
        if i < 0:
            return None, buf
        buf = buf[i:]
    eol = buf.find(b"\r\n")
    if eol < 0:
        return None, buf
    start = buf[:eol].decode("utf-8", "replace")
    tid = start.split(" ")[1]
    end_marker = b"\r\n-------" + tid.encode()
    pos = eol
    while True:
        i = buf.find(end_marker, pos)
        if i < 0 or len(buf) < i + len(end_marker) + 3:
            return None, buf
        flag = buf[i + len(end_marker):i + len(end_marker) + 1]
        if flag in (b"$", b"+", b"#") and buf[i + len(end_marker) + 1:i + len(end_marker) + 3] == b"\r\n":
            break
        pos = i + 1
    whole = buf[:i + 2]  # up to and including the CRLF before the end-line
    rest = buf[i + len(end_marker) + 3:]
    head_end = whole.find(b"\r\n\r\n")
    if head_end >= 0:
        head, body = whole[eol + 2:head_end], whole[head_end + 4:-2]
    else:
        head, body = whole[eol + 2:-2], None
    headers = {}
    for line in head.split(b"\r\n"):
        if not line:
            continue
        n, _, v = line.decode("utf-8", "replace").partition(":")
        headers[n.strip().lower()] = v.strip()
    return MsrpMessage(tid, start, headers, body, flag.decode()), rest


class MsrpEndpoint:
    """An MSRP session over one TCP connection this side opened (active)."""

    def __init__(self, who, local_port, session_id, remote_path):
        self.who = who
        self.local_uri = f"msrp://{LOOPBACK}:{local_port}/{session_id};tcp"
        self.remote_path = remote_path
        host, port = re.match(r"msrps?://([^:/;]+):(\d+)/", remote_path[0]).groups()
        if host != LOOPBACK:
            raise ValueError("MSRP peer not on loopback")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOOPBACK, local_port))
        self.sock.settimeout(3)
        self.sock.connect((host, int(port)))
        self.sock.settimeout(None)
        self.responses = queue.Queue()
        self.reports = queue.Queue()
        self.delivered = queue.Queue()   # (message-id, content-type, body) complete
        self.aborted = queue.Queue()     # message-ids ended by '#'
        self.partial = {}                # message-id -> bytearray being reassembled
        self.protocol_errors = []
        self.running = True
        self.write_lock = threading.Lock()
        threading.Thread(target=self._recv, daemon=True).start()

    def close(self):
        self.running = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def _write(self, data):
        with self.write_lock:
            self.sock.sendall(data)

    def _recv(self):
        buf = b""
        while self.running:
            try:
                r, _, _ = select.select([self.sock], [], [], 0.2)
                if not r:
                    continue
                data = self.sock.recv(65536)
            except (OSError, ValueError):
                return
            if not data:
                log(self.who, "MSRP connection closed by the focus")
                return
            buf += data
            while True:
                msg, buf = parse_msrp(buf)
                if msg is None:
                    break
                self._handle(msg)

    def _handle(self, msg):
        log(self.who, f"MSRP <- {msg.start} ({len(msg.body or b'')} bytes, {msg.flag})")
        if msg.status is not None:
            self.responses.put(msg)
            return
        if msg.method == "REPORT":
            # RFC 4975 7.1.2: REPORTs are never answered.
            self.reports.put(msg)
            return
        if msg.method != "SEND":
            self._respond(msg, 501, "Not Implemented")
            return
        to_path = (msg.get("to-path") or "").split()
        if not to_path or to_path[0] != self.local_uri:
            self.protocol_errors.append(f"SEND with To-Path {to_path} (mine: {self.local_uri})")
            self._respond(msg, 481, "No Such Session")
            return
        mid = msg.get("message-id")
        rng = msg.byte_range() or (1, None, None)
        if msg.body is not None and mid:
            part = self.partial.setdefault(mid, bytearray())
            start = rng[0]
            if start - 1 > len(part):
                part.extend(b"\0" * (start - 1 - len(part)))
            part[start - 1:start - 1 + len(msg.body)] = msg.body
        fr = (msg.get("failure-report") or "yes").lower()
        if fr == "yes":
            self._respond(msg, 200, "OK")
        if msg.flag == "#":
            self.partial.pop(mid, None)
            self.aborted.put(mid)
        elif msg.flag == "$" and msg.body is not None and mid:
            body = bytes(self.partial.pop(mid, b""))
            total = rng[2]
            if total is not None and total != len(body):
                self.protocol_errors.append(f"{mid}: {len(body)} bytes for a total of {total}")
            self.delivered.put((mid, msg.get("content-type"), body))
            if (msg.get("success-report") or "no").lower() == "yes":
                self._report(msg, mid, len(body))

    def _respond(self, req, code, comment):
        # RFC 4975 7.2: To-Path is the request's From-Path (first URI only),
        # From-Path this endpoint's URI.
        from_path = (req.get("from-path") or "").split()
        text = (f"MSRP {req.tid} {code} {comment}\r\n"
                f"To-Path: {from_path[0] if from_path else ''}\r\n"
                f"From-Path: {self.local_uri}\r\n"
                f"-------{req.tid}$\r\n")
        log(self.who, f"MSRP -> {code} for {req.tid}")
        self._write(text.encode())

    def _report(self, req, mid, size):
        tid = token(12)
        from_path = (req.get("from-path") or "").split()
        text = (f"MSRP {tid} REPORT\r\n"
                f"To-Path: {' '.join(from_path)}\r\n"
                f"From-Path: {self.local_uri}\r\n"
                f"Message-ID: {mid}\r\n"
                f"Byte-Range: 1-{size}/{size}\r\n"
                f"Status: 000 200 OK\r\n"
                f"-------{tid}$\r\n")
        log(self.who, f"MSRP -> REPORT for {mid}")
        self._write(text.encode())

    def send_chunk(self, mid, body, start, total, flag, success_report=None,
                   failure_report=None, content_type="message/cpim"):
        """One SEND; returns its transaction id. body=None: a bodiless SEND."""
        tid = token(12)
        lines = [f"MSRP {tid} SEND",
                 f"To-Path: {' '.join(self.remote_path)}",
                 f"From-Path: {self.local_uri}",
                 f"Message-ID: {mid}"]
        if success_report:
            lines.append(f"Success-Report: {success_report}")
        if failure_report:
            lines.append(f"Failure-Report: {failure_report}")
        if body is None:
            data = (CRLF.join(lines) + CRLF + f"-------{tid}{flag}" + CRLF).encode()
        else:
            end = start + len(body) - 1
            lines.append(f"Byte-Range: {start}-{end}/{total}")
            lines.append(f"Content-Type: {content_type}")
            data = (CRLF.join(lines) + CRLF + CRLF).encode() + body + \
                (CRLF + f"-------{tid}{flag}" + CRLF).encode()
        log(self.who, f"MSRP -> SEND {tid} {mid} {len(body or b'')} bytes {flag}")
        self._write(data)
        return tid

    def wait_response(self, tid, timeout=3.0):
        deadline = time.time() + timeout
        stash = []
        found = None
        while time.time() < deadline:
            try:
                r = self.responses.get(timeout=0.05)
            except queue.Empty:
                continue
            if r.tid == tid:
                found = r
                break
            stash.append(r)
        for r in stash:
            self.responses.put(r)
        return found

    def check_response(self, name, tid):
        r = self.wait_response(tid)
        if not check(name, r is not None and r.status == 200,
                     f"{r.start if r else 'no response'}"):
            return False
        to_path = (r.get("to-path") or "").split()
        return check(name + "-paths", to_path == [self.local_uri],
                     f"To-Path {to_path} From-Path {r.get('from-path')}")


def cpim(sender, to, text):
    inner = f"Content-Type: text/plain;charset=utf-8\r\n\r\n".encode() + text
    return (f"From: <{sender}>\r\n"
            f"To: <{to}>\r\n"
            f"DateTime: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\r\n"
            "\r\n").encode() + inner


def parse_cpim(body):
    """(From URI, inner content type, inner content) of a message/cpim body."""
    head, sep, rest = body.partition(b"\r\n\r\n")
    if not sep:
        return None, None, None
    sender = None
    for line in head.decode("utf-8", "replace").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "from":
            sender = uri_of(value.strip())
    mime, sep, content = rest.partition(b"\r\n\r\n")
    ctype = None
    for line in mime.decode("utf-8", "replace").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-type":
            ctype = value.strip()
    return sender, ctype, content


def big_text(n):
    out = bytearray()
    i = 0
    while len(out) < n:
        out += f"line {i:05d} of the ten kilobyte message through the focus\n".encode()
        i += 1
    return bytes(out[:n])


BIG_TOTAL = 10240


# ------------------------------------------------------------------ listen

def cmd_listen(args):
    socks = []
    for p in args.ports.split(","):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((LOOPBACK, int(p)))
        socks.append(s)
    invites = 0
    deadline = time.time() + args.seconds
    while time.time() < deadline:
        r, _, _ = select.select(socks, [], [], 0.1)
        for s in r:
            data, src = s.recvfrom(65535)
            first = data.split(b"\r\n", 1)[0].decode("utf-8", "replace")
            print(f"port {s.getsockname()[1]} got from {src[0]}:{src[1]}: {first}", flush=True)
            if first.startswith("INVITE "):
                invites += 1
    print(f"{invites} INVITE(s) received", flush=True)
    return 1 if invites else 0


# ------------------------------------------------------------------ invitee

def cmd_invitee(args):
    who = args.user
    ua = SipUa(who, args.sip_port)
    try:
        req, src = ua.requests.get(timeout=args.seconds)
    except queue.Empty:
        check("invite-received", False, "no INVITE")
        return 1
    if not check("invite-received", req.method == "INVITE", req.start):
        return 1
    via = req.get("via")
    vm = re.search(r"SIP/2.0/UDP\s+([^;:\s]+)(?::(\d+))?", via)
    reply_to = (LOOPBACK, int(vm.group(2) or 5060))
    check("invite-record-route", bool(req.all("record-route")), f"{req.all('record-route')}")
    check("invite-isfocus", "isfocus" in (req.get("contact") or ""), req.get("contact") or "")
    offer_path = sdp_path(req.body)
    if not check("invite-msrp-offer", offer_path and "TCP/MSRP" in req.body
                 and re.search(r"a=accept-types:.*message/cpim", req.body), ""):
        return 1
    tag = token()
    session = "s" + token(8)
    contact = f"<sip:{who}@{LOOPBACK}:{args.sip_port}>;+g.oma.sip-im"
    answer = sdp(who, args.sip_port, args.sip_port, session)
    ok = response_to(req, 200, "OK", tag, [f"Contact: {contact}", "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS"],
                     answer, "application/sdp")
    ua.send(ok, reply_to)
    # Retransmit the 2xx until the ACK (RFC 3261 13.3.1.4).
    interval, next_tx, deadline = T1, time.time() + T1, time.time() + 8
    acked = False
    while time.time() < deadline and not acked:
        try:
            r, _ = ua.requests.get(timeout=0.05)
            if r.method == "ACK" and r.get("call-id") == req.get("call-id"):
                acked = True
        except queue.Empty:
            if time.time() >= next_tx:
                ua.send(ok, reply_to)
                interval = min(interval * 2, 4.0)
                next_tx = time.time() + interval
    check("ack-received", acked)
    remote_from = req.get("from")
    dialog = Dialog(req.get("call-id"), f"{req.get('to')};tag={tag}", remote_from,
                    uri_of(req.get("contact")), req.all("record-route"), 0)
    focus_identity = uri_of(remote_from)

    msrp = MsrpEndpoint(who, args.sip_port, session, offer_path)
    # RFC 4975 5.4 / 7.1.1: the active side binds the connection with a SEND.
    msrp.check_response("bind-send-200", msrp.send_chunk("bind" + token(6), None, 1, 0, "$"))

    byes = []
    stop = threading.Event()
    t = threading.Thread(target=serve_in_dialog, args=(ua, dialog, stop, byes.append), daemon=True)
    t.start()

    got = {}
    deadline = time.time() + 15
    while time.time() < deadline and "done" not in got:
        try:
            mid, ctype, body = msrp.delivered.get(timeout=0.1)
        except queue.Empty:
            continue
        sender, inner_type, content = parse_cpim(body)
        kind = "other"
        if content == b"hello from alice":
            kind = "hello"
        elif content and content.startswith(b"line 00000"):
            kind = "big"
        elif content == b"done":
            kind = "done"
        elif body == b"not wrapped in CPIM":
            kind = "text-plain-relayed"
        elif content and content.startswith(b"ABORT"):
            kind = "aborted-but-delivered"
        got[kind] = (mid, ctype, sender, inner_type, content, len(body))
        log(who, f"delivered {mid}: {kind}, {len(body)} bytes, CPIM From {sender}")
    for kind in ("hello", "big", "done"):
        if not check(f"received-{kind}", kind in got, ""):
            continue
        mid, ctype, sender, inner_type, content, size = got[kind]
        check(f"received-{kind}-is-cpim", (ctype or "").lower().startswith("message/cpim"), f"{ctype}")
        check(f"received-{kind}-cpim-from-alice", sender is not None and sender.startswith(f"sip:{args.from_user}@"),
              f"From {sender}")
        check(f"received-{kind}-text-plain", (inner_type or "").lower().startswith("text/plain"), f"{inner_type}")
    if "big" in got:
        content = got["big"][4]
        check("received-big-intact", content == big_text(len(content)) and len(content) > 10000,
              f"{len(content)} bytes of text")
    check("aborted-not-delivered", "aborted-but-delivered" not in got, "")
    check("text-plain-not-relayed", "text-plain-relayed" not in got, "")
    aborted = []
    while not msrp.aborted.empty():
        aborted.append(msrp.aborted.get())
    log(who, f"aborted message(s) seen: {aborted}")
    check("msrp-protocol", not msrp.protocol_errors, "; ".join(msrp.protocol_errors))

    # The reply to alice, through the focus.
    reply = cpim(f"sip:{who}@{LOOPBACK}", focus_identity, b"thanks from " + who.encode())
    msrp.check_response("reply-200", msrp.send_chunk("r" + token(8), reply, 1, len(reply), "$", failure_report="yes"))

    # release_alone: once alice has left, the focus releases this peer.
    t.join(timeout=args.seconds)
    check("released-by-focus", bool(byes), "BYE from the focus" if byes else "no BYE")
    stop.set()
    msrp.close()
    ua.running = False
    return 0 if all(ok for _, ok in RESULTS) else 1


# ------------------------------------------------------------------ inviter

def cmd_inviter(args):
    who = args.user
    ua = SipUa(who, args.sip_port)
    proxy = tuple(args.proxy.rsplit(":", 1))
    proxy = (proxy[0], int(proxy[1]))
    if proxy[0] != LOOPBACK:
        raise ValueError("proxy not on loopback")
    call_id = token(16) + "@" + LOOPBACK
    tag = token()
    session = "s" + token(8)
    me = f"sip:{who}@{LOOPBACK}"
    branch = "z9hG4bK" + token(12)
    entries = "".join(f'<entry uri="{u}"/>' for u in args.invite)
    body = CRLF.join([
        "--oma-im-py",
        "Content-Type: application/sdp",
        "",
        sdp(who, args.sip_port, args.sip_port, session).rstrip(CRLF),
        "--oma-im-py",
        "Content-Type: application/resource-lists+xml",
        "Content-Disposition: recipient-list",
        "",
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">',
        f"<list>{entries}</list>",
        "</resource-lists>",
        "--oma-im-py--",
        "",
    ])
    invite = CRLF.join([
        f"INVITE {args.factory} SIP/2.0",
        f"Via: SIP/2.0/UDP {LOOPBACK}:{args.sip_port};branch={branch};rport",
        f"Route: <sip:{proxy[0]}:{proxy[1]};lr>",
        "Max-Forwards: 70",
        f"From: <{me}>;tag={tag}",
        f"To: <{args.factory}>",
        f"Call-ID: {call_id}",
        "CSeq: 1 INVITE",
        f"Contact: <sip:{who}@{LOOPBACK}:{args.sip_port}>;+g.oma.sip-im",
        "Accept-Contact: *;+g.oma.sip-im",
        "User-Agent: IM-client/OMA1.0 interop-python",
        "Require: recipient-list-invite",
        "Supported: timer",
        "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS",
        "Content-Type: multipart/mixed;boundary=oma-im-py",
        f"Content-Length: {len(body.encode())}",
        "", body])
    ua.send(invite, proxy)
    final = None
    deadline = time.time() + 15
    retrans = lambda: ua.send(invite, proxy)  # noqa: E731
    while time.time() < deadline:
        r = ua.wait_response(call_id, "INVITE", deadline - time.time(), retransmit=retrans)
        if r is None:
            break
        retrans = None  # a provisional stops INVITE retransmission (Timer A)
        if r.status >= 200:
            final = r
            break
    if not check("invite-200", final is not None and final.status == 200,
                 final.start if final else "no final response"):
        return 1
    route_set = list(reversed(final.all("record-route")))
    check("ok-record-route", bool(route_set), f"{route_set}")
    check("ok-isfocus", "isfocus" in (final.get("contact") or ""), final.get("contact") or "")
    dialog = Dialog(call_id, f"<{me}>;tag={tag}", final.get("to"), uri_of(final.get("contact")),
                    route_set, 1)
    ack = dialog.request(ua, "ACK", cseq=1)
    ua.send(ack, dialog.next_hop())
    focus_path = sdp_path(final.body)
    if not check("answer-msrp-path", bool(focus_path), final.body.replace(CRLF, " | ")):
        return 1
    focus_identity = uri_of(final.get("contact"))

    msrp = MsrpEndpoint(who, args.sip_port, session, focus_path)
    byes = []
    stop = threading.Event()
    t = threading.Thread(target=serve_in_dialog, args=(ua, dialog, stop, byes.append), daemon=True)
    t.start()
    msrp.check_response("bind-send-200", msrp.send_chunk("bind" + token(6), None, 1, 0, "$"))
    # Wait until the invitee is connected too (its bind SEND took a moment).
    time.sleep(1.0)

    hello = cpim(me, focus_identity, b"hello from alice")
    msrp.check_response("hello-200", msrp.send_chunk("m1" + token(6), hello, 1, len(hello), "$",
                                                     success_report="no", failure_report="yes"))

    # About 10 kB of message/cpim in three chunks: '+', '+', '$'.
    head = cpim(me, focus_identity, b"")
    big = cpim(me, focus_identity, big_text(BIG_TOTAL - len(head)))
    assert len(big) == BIG_TOTAL
    mid = "m2" + token(6)
    cut = [0, 3500, 7000, BIG_TOTAL]
    for i in range(3):
        flag = "$" if i == 2 else "+"
        tid = msrp.send_chunk(mid, big[cut[i]:cut[i + 1]], cut[i] + 1, BIG_TOTAL, flag,
                              success_report="yes", failure_report="yes")
        msrp.check_response(f"big-chunk{i + 1}-200", tid)

    # RFC 4975 7.1.2: Success-Report: yes asks the receiver for a REPORT
    # covering the bytes received, with Status 000 200.
    covered = set()
    reports = []
    deadline = time.time() + 3
    while time.time() < deadline and len(covered) < BIG_TOTAL:
        try:
            rep = msrp.reports.get(timeout=0.1)
        except queue.Empty:
            continue
        reports.append(rep.start)
        rng = rep.byte_range()
        if rep.get("message-id") == mid and (rep.get("status") or "").startswith("000 200") and rng and rng[1]:
            covered.update(range(rng[0], rng[1] + 1))
    check("big-success-report", len(covered) == BIG_TOTAL,
          f"{len(covered)} of {BIG_TOTAL} bytes covered by REPORT(s) {reports}")

    # An interrupted message: one chunk ending in '#' (RFC 4975 7.1): the
    # receiver must not get it as a whole message.
    part = cpim(me, focus_identity, b"ABORT" + b"x" * 200)
    msrp.check_response("aborted-chunk-200", msrp.send_chunk("m3" + token(6), part, 1, len(part) + 500, "#",
                                                             failure_report="yes"))

    # A type outside the session's accept-types (only message/cpim was
    # negotiated): 415 (RFC 4975 7.3), and nothing relayed.
    tid = msrp.send_chunk("m5" + token(6), b"not wrapped in CPIM", 1, 19, "$",
                          failure_report="yes", content_type="text/plain")
    r = msrp.wait_response(tid)
    check("text-plain-415", r is not None and r.status == 415, r.start if r else "no response")

    done = cpim(me, focus_identity, b"done")
    msrp.check_response("done-200", msrp.send_chunk("m4" + token(6), done, 1, len(done), "$",
                                                    failure_report="yes"))

    # The invitee's reply through the focus, with the invitee as CPIM From.
    reply = None
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            mid_r, ctype, body_r = msrp.delivered.get(timeout=0.1)
        except queue.Empty:
            continue
        reply = parse_cpim(body_r)
        break
    if check("reply-received", reply is not None and reply[2] and reply[2].startswith(b"thanks from")):
        check("reply-cpim-from-invitee", reply[0] is not None and reply[0].startswith(f"sip:{args.peer_user}@"),
              f"From {reply[0]}")
    check("msrp-protocol", not msrp.protocol_errors, "; ".join(msrp.protocol_errors))

    # Leave: BYE along the route set (RFC 3261 15.1.1).
    stop.set()
    t.join(timeout=1)
    bye = dialog.request(ua, "BYE")
    ua.send(bye, dialog.next_hop())
    r = ua.wait_response(call_id, "BYE", 8, retransmit=lambda: ua.send(bye, dialog.next_hop()))
    check("bye-200", r is not None and r.status == 200, r.start if r else "no response")
    time.sleep(0.3)
    msrp.close()
    ua.running = False
    return 0 if all(ok for _, ok in RESULTS) else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    li = sub.add_parser("listen")
    li.add_argument("--ports", required=True)
    li.add_argument("--seconds", type=float, default=5)
    inv = sub.add_parser("invitee")
    inv.add_argument("--sip-port", type=int, required=True)
    inv.add_argument("--user", default="bob")
    inv.add_argument("--from-user", default="alice", help="the expected sender")
    inv.add_argument("--seconds", type=float, default=30)
    inr = sub.add_parser("inviter")
    inr.add_argument("--sip-port", type=int, required=True)
    inr.add_argument("--user", default="alice")
    inr.add_argument("--peer-user", default="bob", help="the expected replier")
    inr.add_argument("--proxy", required=True)
    inr.add_argument("--factory", required=True)
    inr.add_argument("--invite", action="append", required=True)
    inr.add_argument("--seconds", type=float, default=30)
    args = p.parse_args()
    random.seed()
    rc = {"listen": cmd_listen, "invitee": cmd_invitee, "inviter": cmd_inviter}[args.cmd](args)
    failed = [n for n, ok in RESULTS if not ok]
    print(f"DONE {args.cmd}: {len(RESULTS) - len(failed)} check(s) passed, {len(failed)} failed", flush=True)
    if failed:
        print(f"FAIL {', '.join(failed)}", flush=True)
    sys.exit(rc)


if __name__ == "__main__":
    main()
