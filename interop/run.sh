#!/usr/bin/env bash
# oma-im real-peer interop suite: Kamailio (stateful, record-routing proxy)
# in front of examples/im_server, SIPp inviters and invitees, two Python
# MSRP peers written from RFC 4975, and a tshark capture of the whole run.
# Loopback only; every process is started under `timeout` and ended by its
# PID. One command, from the crate root or anywhere:
#
#     bash interop/run.sh
#
# Environment: INTEROP_OUT=dir keeps the logs there (default: a fresh
# directory under /tmp, printed at the start); INTEROP_PROFILE=release
# builds the example with --release (default: debug, which `cargo test`
# has already built in CI); INTEROP_ONLY="case ..." runs only those cases.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
HERE="$ROOT/interop"
SCEN="$HERE/scenarios"

for tool in sipp kamailio tshark python3 cargo timeout; do
    command -v "$tool" >/dev/null || { echo "interop: $tool is missing" >&2; exit 2; }
done

OUT=${INTEROP_OUT:-$(mktemp -d /tmp/oma-im-interop.XXXXXX)}
mkdir -p "$OUT"
echo "interop: logs in $OUT"

# ---------------------------------------------------------------- processes
PIDS=()
cleanup() {
    # Only PIDs still running as this shell's children: a PID already
    # reaped may belong to someone else by now.
    local pid live
    live=" $(jobs -p | tr '\n' ' ') "
    for pid in "${PIDS[@]}"; do
        if [[ $live == *" $pid "* ]]; then kill "$pid" 2>/dev/null || true; fi
    done
    for pid in "${PIDS[@]}"; do
        if [[ $live == *" $pid "* ]]; then wait "$pid" 2>/dev/null || true; fi
    done
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts "$@" in the background, bounded by `timeout SECONDS`; the PID of
# the `timeout` process (which forwards TERM to its child) lands in LAST_PID.
start_bg() {
    local seconds=$1 log=$2
    shift 2
    timeout --kill-after=3 "$seconds" "$@" >"$log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

stop_pid() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# ---------------------------------------------------------------- ports
# A port free for both UDP and TCP on 127.0.0.1, different from the ones
# already taken by this run.
TAKEN=" "
free_port() {
    local p
    p=$(python3 - "$TAKEN" <<'EOF'
import random, socket, sys
taken = set(int(x) for x in sys.argv[1].split())
for _ in range(500):
    p = random.randint(20000, 59000)
    if p in taken:
        continue
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            s.bind(("127.0.0.1", p))
            s.close()
    except OSError:
        continue
    print(p)
    break
EOF
)
    [[ -n $p ]] || { echo "interop: no free port" >&2; exit 2; }
    TAKEN+="$p "
    echo "$p"
}

PROXY_PORT=$(free_port)
SERVER_PORT=$(free_port)
MSRP_PORT=$(free_port)
ALICE_PORT=$(free_port)
BOB_PORT=$(free_port)
CAROL_PORT=$(free_port)
ALICE_PY_PORT=$(free_port)
BOB_PY_PORT=$(free_port)
PEER_PORTS=("$ALICE_PORT" "$BOB_PORT" "$CAROL_PORT" "$ALICE_PY_PORT" "$BOB_PY_PORT")
FACTORY="sip:conf-factory@127.0.0.1:$SERVER_PORT"
echo "interop: proxy 127.0.0.1:$PROXY_PORT, IM server SIP 127.0.0.1:$SERVER_PORT MSRP 127.0.0.1:$MSRP_PORT"

# ---------------------------------------------------------------- build
PROFILE=${INTEROP_PROFILE:-debug}
if [[ $PROFILE == release ]]; then
    timeout 900 cargo build --release --example im_server
    SERVER_BIN="$ROOT/target/release/examples/im_server"
else
    timeout 900 cargo build --example im_server
    SERVER_BIN="$ROOT/target/debug/examples/im_server"
fi

# INTEROP_SERVER_BIN=path runs another build of the example (e.g. a
# branch's); its command line is read from INTEROP_SERVER_SRC (default:
# this checkout's examples/im_server.rs).
SERVER_BIN=${INTEROP_SERVER_BIN:-$SERVER_BIN}
SERVER_SRC=${INTEROP_SERVER_SRC:-$ROOT/examples/im_server.rs}

# The example's command line: the routing one (--sip-addr, --outbound-proxy,
# --factory, ...; SIP over UDP and TCP) or the first one (--sip-port,
# --next-hop; UDP only).
if grep -q -- '--outbound-proxy' "$SERVER_SRC"; then
    SERVER_CLI=routing
else
    SERVER_CLI=first
fi
echo "interop: examples/im_server command line: $SERVER_CLI"

# ---------------------------------------------------------------- capture
CAP="$OUT/lo.pcapng"
capture_filter="host 127.0.0.1 and (port $PROXY_PORT or port $SERVER_PORT or port $MSRP_PORT"
for p in "${PEER_PORTS[@]}"; do capture_filter+=" or port $p"; done
capture_filter+=")"
start_bg 280 "$OUT/tshark-capture.log" tshark -n -i lo -f "$capture_filter" -a duration:270 -w "$CAP"
TSHARK_PID=$LAST_PID
# dumpcap needs a moment before the first packet is seen.
for _ in $(seq 50); do
    grep -q "Capturing on" "$OUT/tshark-capture.log" 2>/dev/null && break
    sleep 0.1
done
sleep 0.5

# ---------------------------------------------------------------- proxy
KDIR="$OUT/kamailio"
mkdir -p "$KDIR"
sed -e "s/5060/$PROXY_PORT/g" -e "s/5070/$SERVER_PORT/g" \
    "$HERE/kamailio.cfg" >"$KDIR/kamailio.cfg"
KDEFS=()
[[ $SERVER_CLI == routing ]] && KDEFS=(-A SERVER_TCP)
if ! kamailio -c "${KDEFS[@]}" -f "$KDIR/kamailio.cfg" >"$KDIR/check.log" 2>&1; then
    cat "$KDIR/check.log"
    echo "interop: kamailio -c rejected the configuration" >&2
    exit 2
fi
# Each case gets a fresh proxy (and a fresh server): nothing a case leaves
# in the proxy's transaction table can answer for the next one.
KAMAILIO_PID=
port_free() {
    python3 - "$1" <<'EOF2'
import socket, sys
p = int(sys.argv[1])
try:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", p))
        s.close()
except OSError:
    sys.exit(1)
EOF2
}
start_proxy() {
    local name=$1
    for _ in $(seq 50); do port_free "$PROXY_PORT" && break; sleep 0.1; done
    start_bg 120 "$OUT/$name.kamailio.log" kamailio -DD -E "${KDEFS[@]}" -f "$KDIR/kamailio.cfg" \
        -P "$KDIR/kamailio.pid" -w "$KDIR" -Y "$KDIR"
    KAMAILIO_PID=$LAST_PID
    for _ in $(seq 50); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $PROXY_PORT), 0.2).close()" 2>/dev/null && break
        sleep 0.1
    done
}
stop_proxy() {
    [[ -n $KAMAILIO_PID ]] && stop_pid "$KAMAILIO_PID"
    KAMAILIO_PID=
}

# ---------------------------------------------------------------- helpers
PASSED=0
FAILED=0
RESULTS=()
SERVER_PID=
SERVER_LOG=

start_server() {
    local name=$1 max=$2
    start_proxy "$name"
    SERVER_LOG="$OUT/$name.server.log"
    if [[ $SERVER_CLI == routing ]]; then
        start_bg 60 "$SERVER_LOG" "$SERVER_BIN" \
            --sip-addr "127.0.0.1:$SERVER_PORT" --msrp-addr "127.0.0.1:$MSRP_PORT" \
            --outbound-proxy "127.0.0.1:$PROXY_PORT" --factory "$FACTORY" \
            --max-participants "$max" --domain 127.0.0.1 --seconds 50
    else
        start_bg 60 "$SERVER_LOG" "$SERVER_BIN" \
            --sip-port "$SERVER_PORT" --msrp-port "$MSRP_PORT" \
            --next-hop "127.0.0.1:$PROXY_PORT" --seconds 50
    fi
    SERVER_PID=$LAST_PID
    for _ in $(seq 100); do
        grep -q "factory" "$SERVER_LOG" 2>/dev/null && return 0
        sleep 0.05
    done
    return 0
}

stop_server() {
    [[ -n $SERVER_PID ]] && stop_pid "$SERVER_PID"
    SERVER_PID=
    stop_proxy
}

# sipp_bg NAME SECONDS ARGS...: a SIPp in the background; its PID is LAST_PID.
sipp_bg() {
    local name=$1 seconds=$2
    shift 2
    start_bg $((seconds + 5)) "$OUT/$name.sipp.log" sipp -nostdin -i 127.0.0.1 -m 1 \
        -timeout "${seconds}s" -timeout_error \
        -trace_err -error_file "$OUT/$name.errors.log" \
        -trace_msg -message_file "$OUT/$name.messages.log" "$@"
}

# The first thing a SIPp error log says went wrong, on one line.
sipp_why() {
    local f=$1
    [[ -s $f ]] || { echo "(no error log)"; return; }
    python3 - "$f" <<'EOF2'
import re, sys
text = open(sys.argv[1], errors="replace").read()
m = re.search(r"while expecting '([^']*)'[^,]*, received '([^\r\n]*)", text)
if m:
    print(f"expected {m.group(1)}, got {m.group(2).strip()}")
    sys.exit()
m = re.search(r"Failed regexp match: ([^\r\n]*)", text)
if m:
    print("check failed: " + m.group(1)[:160])
    sys.exit()
m = re.search(r"(receive timeout[^\r\n]*)", text)
print(m.group(1)[:160] if m else text.strip().splitlines()[-1][:160])
EOF2
}

# Waits for a background PID; 0 when it exited 0.
wait_ok() {
    local rc=0
    wait "$1" || rc=$?
    return $rc
}

entries() {
    local e=
    for u in "$@"; do e+="<entry uri=\"$u\"/>"; done
    printf '%s' "$e"
}

BOB="sip:bob@127.0.0.1:$BOB_PORT"
CAROL="sip:carol@127.0.0.1:$CAROL_PORT"

# report NAME OK WHY FILES...: the PASS/FAIL line; on failure, the SIPp
# error and message logs given, then the server's ladder.
report() {
    local name=$1 ok=$2 why=$3
    shift 3
    if [[ $ok == 1 ]]; then
        echo "PASS $name"
        PASSED=$((PASSED + 1))
        RESULTS+=("PASS $name")
    else
        echo "FAIL $name: $why"
        FAILED=$((FAILED + 1))
        RESULTS+=("FAIL $name: $why")
        local f
        for f in "$@"; do
            [[ -s $f ]] || continue
            echo "----- $f"
            tail -n 150 "$f"
        done
        echo "----- server ladder ($SERVER_LOG)"
        tail -n 120 "$SERVER_LOG" 2>/dev/null || true
        echo "-----"
    fi
}

# invitee_pair CASE SCENARIO_BOB SCENARIO_CAROL [SIPP ARGS]: bob and carol.
BOB_PID=
CAROL_PID=
invitees() {
    local case=$1 sb=$2 sc=$3
    shift 3
    sipp_bg "$case.bob" 30 -sf "$SCEN/$sb" -p "$BOB_PORT" -key user bob "$@"
    BOB_PID=$LAST_PID
    sipp_bg "$case.carol" 30 -sf "$SCEN/$sc" -p "$CAROL_PORT" -key user carol "$@"
    CAROL_PID=$LAST_PID
    sleep 0.3
}

# A 3-party ad-hoc session: INVITE, ACK, BYE through the proxy; TRANSPORT
# is u1 (UDP) or t1 (TCP) between the inviter and the proxy.
adhoc_case() {
    local case=$1 transport=$2 why=
    start_server "$case" 3
    invitees "$case" invitee_leaves_4s.xml invitee_released.xml
    sipp_bg "$case.alice" 30 "127.0.0.1:$PROXY_PORT" -t "$transport" -p "$ALICE_PORT" \
        -sf "$SCEN/inviter_bye.xml" -key factory "$FACTORY" -key entries "$(entries "$BOB" "$CAROL")"
    local alice=$LAST_PID
    wait_ok "$alice" || why+="alice (inviter): $(sipp_why "$OUT/$case.alice.errors.log"); "
    wait_ok "$BOB_PID" || why+="bob (leaves with BYE): $(sipp_why "$OUT/$case.bob.errors.log"); "
    wait_ok "$CAROL_PID" || why+="carol (released by the focus): $(sipp_why "$OUT/$case.carol.errors.log"); "
    stop_server
    report "$case" "$([[ -z $why ]] && echo 1 || echo 0)" "$why" \
        "$OUT/$case.alice.errors.log" "$OUT/$case.bob.errors.log" "$OUT/$case.carol.errors.log" \
        "$OUT/$case.alice.messages.log"
}

# A rejected setup: the inviter gets CODE, and no INVITE reaches any
# invitee (a listener on each invitee port counts what arrives).
rejected_case() {
    local case=$1 scenario=$2 factory=$3 max=$4 why=
    shift 4
    start_server "$case" "$max"
    start_bg 20 "$OUT/$case.listeners.log" python3 "$HERE/msrp_peer.py" listen \
        --ports "$BOB_PORT,$CAROL_PORT" --seconds 6
    local listeners=$LAST_PID
    sleep 0.3
    sipp_bg "$case.alice" 10 "127.0.0.1:$PROXY_PORT" -t u1 -p "$ALICE_PORT" \
        -sf "$SCEN/$scenario" -key factory "$factory" -key entries "$(entries "$@")"
    local alice=$LAST_PID
    wait_ok "$alice" || why+="alice (inviter): $(sipp_why "$OUT/$case.alice.errors.log"); "
    wait_ok "$listeners" || why+="an invitee was invited: $(tr '\n' ' ' <"$OUT/$case.listeners.log"); "
    stop_server
    report "$case" "$([[ -z $why ]] && echo 1 || echo 0)" "$why" \
        "$OUT/$case.alice.errors.log" "$OUT/$case.alice.messages.log" "$OUT/$case.listeners.log"
}

# ---------------------------------------------------------------- cases
# INTEROP_ONLY="name name ..." runs only those cases (the capture check
# always runs).
want() { [[ -z ${INTEROP_ONLY:-} || " $INTEROP_ONLY " == *" $1 "* ]]; }
# 1. 3-party ad-hoc session over UDP: alice leaves, bob leaves, carol is
#    released by the focus.
want adhoc-3party-udp && adhoc_case adhoc-3party-udp u1

# 2. Too many participants: 486 with the Warning, nobody invited. The
#    group size is 3 (inviter included) and the list names 3 invitees;
#    the first command line cannot set the size (10): 11 invitees there.
many=()
count=3
[[ $SERVER_CLI == routing ]] || count=11
for i in $(seq 1 "$count"); do many+=("sip:user$i@127.0.0.1:$((i % 2 == 0 ? BOB_PORT : CAROL_PORT))"); done
want too-many-participants && rejected_case too-many-participants inviter_too_many.xml "$FACTORY" 3 "${many[@]}"

# 3. Unknown Conference-factory-URI: 404, nobody invited.
want unknown-factory && rejected_case unknown-factory inviter_unknown_factory.xml \
    "sip:no-such-factory@127.0.0.1:$SERVER_PORT" 3 "$BOB" "$CAROL"

# 3b. OPTIONS to the factory: Allow, Supported: recipient-list-invite,
#     Accept with the URI-list type (RFC 3261 11.2, RFC 5366 5).
options_case() {
    local case=options-capabilities why=
    start_server "$case" 3
    sipp_bg "$case.alice" 10 "127.0.0.1:$PROXY_PORT" -t u1 -p "$ALICE_PORT" \
        -sf "$SCEN/options_factory.xml" -key factory "$FACTORY"
    wait_ok "$LAST_PID" || why+="alice: $(sipp_why "$OUT/$case.alice.errors.log"); "
    stop_server
    report "$case" "$([[ -z $why ]] && echo 1 || echo 0)" "$why" \
        "$OUT/$case.alice.errors.log" "$OUT/$case.alice.messages.log"
}
want options-capabilities && options_case

# 4. Participants leaving and release_alone: bob leaves, carol leaves, the
#    focus releases alice (the inviter) with BYE through the proxy.
leave_case() {
    local case=leave-and-release why=
    start_server "$case" 3
    invitees "$case" invitee_leaves_2s.xml invitee_leaves_4s.xml
    sipp_bg "$case.alice" 30 "127.0.0.1:$PROXY_PORT" -t u1 -p "$ALICE_PORT" \
        -sf "$SCEN/inviter_released.xml" -key factory "$FACTORY" -key entries "$(entries "$BOB" "$CAROL")"
    local alice=$LAST_PID
    wait_ok "$alice" || why+="alice (inviter, released by the focus): $(sipp_why "$OUT/$case.alice.errors.log"); "
    wait_ok "$BOB_PID" || why+="bob (leaves after 2 s): $(sipp_why "$OUT/$case.bob.errors.log"); "
    wait_ok "$CAROL_PID" || why+="carol (leaves after 4 s): $(sipp_why "$OUT/$case.carol.errors.log"); "
    stop_server
    report "$case" "$([[ -z $why ]] && echo 1 || echo 0)" "$why" \
        "$OUT/$case.alice.errors.log" "$OUT/$case.bob.errors.log" "$OUT/$case.carol.errors.log" \
        "$OUT/$case.alice.messages.log"
}
want leave-and-release && leave_case

# 5. Case 1 with SIP over TCP between the inviter and the proxy (and
#    between the proxy and the server when the example takes TCP).
want adhoc-3party-tcp && adhoc_case adhoc-3party-tcp t1

# 6. Two independent MSRP peers (interop/msrp_peer.py, Python standard
#    library only) join through SIP and exchange messages via the switch.
#    Two result lines: the exchange itself (every CHECK but the success
#    report), and the REPORT asked for by Success-Report: yes.
msrp_case() {
    local case=msrp-python-peers why= why_report=
    start_server "$case" 3
    start_bg 40 "$OUT/$case.bob.log" python3 "$HERE/msrp_peer.py" invitee \
        --sip-port "$BOB_PY_PORT" --user bob --seconds 30
    local bob=$LAST_PID
    sleep 0.3
    start_bg 40 "$OUT/$case.alice.log" python3 "$HERE/msrp_peer.py" inviter \
        --sip-port "$ALICE_PY_PORT" --user alice --proxy "127.0.0.1:$PROXY_PORT" \
        --factory "$FACTORY" --invite "sip:bob@127.0.0.1:$BOB_PY_PORT" --seconds 30
    local alice=$LAST_PID
    wait "$alice" || true
    wait "$bob" || true
    stop_server
    local who f
    for who in alice bob; do
        f="$OUT/$case.$who.log"
        grep -q "^DONE" "$f" || why+="$who's peer did not run to its end; "
        local failed
        failed=$(grep '^CHECK .* FAIL' "$f" | grep -v '^CHECK big-success-report ' | awk '{print $2}' | tr '\n' ' ' || true)
        [[ -z $failed ]] || why+="$who: failed checks: $failed; "
    done
    report "$case" "$([[ -z $why ]] && echo 1 || echo 0)" "$why" "$OUT/$case.alice.log" "$OUT/$case.bob.log"
    if ! grep -q '^CHECK big-success-report ok' "$OUT/$case.alice.log"; then
        why_report="no REPORT covering the 10 kB message sent with Success-Report: yes (RFC 4975 7.1.2): $(grep '^CHECK big-success-report' "$OUT/$case.alice.log" || echo 'check not reached')"
    fi
    report msrp-success-report "$([[ -z $why_report ]] && echo 1 || echo 0)" "$why_report" "$OUT/$case.alice.log"
}
want msrp-python-peers && msrp_case

# ---------------------------------------------------------------- capture check
# 7. The whole run on lo: no malformed frame, no SIP/SDP/MSRP expert
#    warning or error in what the server sent.
sleep 1
stop_pid "$TSHARK_PID"
capture_case() {
    local case=capture-lo why=
    local decode=(-d "udp.port==$PROXY_PORT,sip" -d "tcp.port==$PROXY_PORT,sip"
        -d "udp.port==$SERVER_PORT,sip" -d "tcp.port==$SERVER_PORT,sip"
        -d "tcp.port==$MSRP_PORT,msrp")
    for p in "${PEER_PORTS[@]}"; do decode+=(-d "udp.port==$p,sip" -d "tcp.port==$p,sip"); done
    if [[ ! -s $CAP ]]; then
        why="no capture file"
    else
        local total malformed
        total=$(tshark -n -r "$CAP" 2>/dev/null | wc -l)
        malformed=$(tshark -n -r "$CAP" "${decode[@]}" -Y '_ws.malformed' 2>/dev/null | tee "$OUT/malformed.txt" | wc -l)
        local from_server="(udp.srcport==$SERVER_PORT || tcp.srcport==$SERVER_PORT || tcp.srcport==$MSRP_PORT)"
        tshark -n -r "$CAP" "${decode[@]}" -Y "$from_server && (sip || sdp || msrp)" \
            -T fields -e frame.number -e _ws.col.Protocol -e _ws.expert.severity -e _ws.expert.message \
            >"$OUT/server-expert.txt" 2>/dev/null || true
        # Keep the frames with an expert item of severity warning (0x00600000)
        # or error (0x00800000) raised by the SIP, SDP or MSRP dissectors.
        tshark -n -r "$CAP" "${decode[@]}" -q -z "expert,warn,$from_server && (sip || sdp || msrp)" \
            >"$OUT/server-expert-table.txt" 2>/dev/null || true
        local warnings
        warnings=$(awk '/^(Errors|Warns)/{on=1; next} /^(Notes|Chats|Comments)/{on=0} on && / (SIP|SDP|MSRP) /' \
            "$OUT/server-expert-table.txt" | tee "$OUT/server-warnings.txt" | wc -l)
        echo "interop: capture: $total frames, $malformed malformed, $warnings SIP/SDP/MSRP expert warning line(s) in the server's messages"
        [[ $total -gt 0 ]] || why+="empty capture; "
        [[ $malformed -eq 0 ]] || why+="$malformed malformed frame(s); "
        [[ $warnings -eq 0 ]] || why+="expert warnings in the server's messages; "
    fi
    SERVER_LOG=/dev/null
    report "$case" "$([[ -z $why ]] && echo 1 || echo 0)" "$why" \
        "$OUT/malformed.txt" "$OUT/server-warnings.txt" "$OUT/server-expert-table.txt"
}
capture_case

echo
echo "== summary"
for r in "${RESULTS[@]}"; do echo "$r"; done
echo "interop: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
