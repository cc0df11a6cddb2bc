#!/usr/bin/env bash
# Issue #16's rows as instruction counts, each next to its floor, from one
# callgrind run per bench binary (wall-clock on a shared machine is noisy):
#
#   bash benches/instructions.sh
#
# Each row and each floor is a function of its own (`#[inline(never)]`) in
# benches/; its inclusive instruction count divided by its number of calls
# (warm-up + rounds x iterations, as `support::measure` runs them) is the
# figure per operation. Needs valgrind (callgrind_annotate comes with it).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --no-run --bench im_server --bench msrp_switch --bench sip_parse 2>&1 | grep -v '^ *\(Compiling\|Finished\)' || true
bin() { ls -t target/release/deps/"$1"-* | grep -v '\.d$' | head -1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# inclusive FILE FUNCTION: the inclusive Ir of FUNCTION in a callgrind file.
inclusive() {
    callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
        grep -F ":$2 [" | head -1 | awk '{gsub(",","",$1); print $1}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
per() { awk -v a="$1" -v n="$2" 'BEGIN { printf "%.0f", a / n }'; }

# Row 1: ad-hoc set-up (setup_step, 8 calls per set-up) vs parse + write.
iters=200
IM_BENCH_ONLY=setup IM_BENCH_ITERS=$iters valgrind --tool=callgrind --callgrind-out-file="$out/im" \
    "$(bin im_server)" --bench >"$out/im.txt" 2>/dev/null
calls=$((iters + 5 * iters))
row=$(inclusive "$out/im" "im_server::World::setup_step")
floor=$(inclusive "$out/im" "im_server::setup_floor")
echo "set-up, 3 invitees, to the ACKs: $(per "$row" $calls) Ir per set-up; floor (parse + write its messages) $(per "$floor" $calls) Ir; ratio $(ratio "$row" "$floor")x (goal <= 3x)"

# Row 2: MSRP switch relaying a 4 KiB chunk to 10 legs vs 10 memcpys.
iters=200
MSRP_BENCH_ITERS=$iters valgrind --tool=callgrind --callgrind-out-file="$out/sw" \
    "$(bin msrp_switch)" --bench >"$out/sw.txt" 2>/dev/null
calls=$((iters + 5 * iters))
row=$(inclusive "$out/sw" "msrp_switch::relay_one")
floor=$(inclusive "$out/sw" "msrp_switch::copy_floor")
echo "switch, 4 KiB chunk to 10 legs + 200s: $(per "$row" $calls) Ir per chunk; floor (10 x 4 KiB memcpy) $(per "$floor" $calls) Ir; floor/row $(ratio "$((floor * 100))" "$row")% (goal >= 50%)"

# Row 4: typed SIP parse vs httparse-like framing.
iters=2000
SIP_BENCH_ITERS=$iters valgrind --tool=callgrind --callgrind-out-file="$out/sp" \
    "$(bin sip_parse)" --bench >"$out/sp.txt" 2>/dev/null
calls=$((iters + 10 * iters))
row=$(inclusive "$out/sp" "sip_parse::parse_typed_row")
floor=$(inclusive "$out/sp" "sip_parse::framing_floor")
echo "typed SIP parse (benches/data/oma_im_invite.sip): $(per "$row" $calls) Ir; floor (httparse-like framing) $(per "$floor" $calls) Ir; ratio $(ratio "$row" "$floor")x (goal <= 2x)"
