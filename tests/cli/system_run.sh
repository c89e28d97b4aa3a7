#!/usr/bin/env bash
# `lpusim run --system SYSTEM P0.s P1.s ...`: one program per chip of a system joined by C2C
# links (tests/data/c2c). The vector ping_send.s sends arrives where ping_recv.s writes it
# (chip 1 ends in cycle 352, derived in the programs), in both modes; the stats carry the
# link counters; every misuse is one line and exit code 2.
set -u
lpusim=$1
data=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
c2c=$data/c2c

out=$("$lpusim" run --system "$c2c/pair.json" "$c2c/ping_send.s" "$c2c/ping_recv.s" --dump 1:y="$dir/y.txt" \
      --stats "$dir/stats.json") || fail "ping run: exit $?"
[[ "$out" == *"system pair: 2 chips, 352 cycles"* ]] || fail "ping run summary: $out"
python3 - "$dir/y.txt" "$dir/stats.json" <<'PY' || fail "ping values or stats"
import json, sys
values = [float(v) for v in open(sys.argv[1]).read().split()]
assert values == [float((i & 0xff) - 256 if (i & 0xff) > 127 else (i & 0xff)) for i in range(320)], values[:8]
system = json.load(open(sys.argv[2]))["system"]
assert system["total_cycles"] == 352 and system["chip_count"] == 2 and system["lookahead_cycles"] == 216, system
chip0, chip1 = system["chips"]["chip0"], system["chips"]["chip1"]
assert chip0["c2c_vectors_sent"] == 1 and chip0["c2c_link_busy_cycles"] == 22, chip0
assert chip1["c2c_vectors_received"] == 1, chip1
assert chip0["units"]["c2c"]["queues"]["0"]["instructions"] == 1, chip0["units"]["c2c"]
PY
timing=$("$lpusim" run --system "$c2c/pair.json" "$c2c/ping_send.s" "$c2c/ping_recv.s" --mode timing) || fail "timing run"
[[ "$timing" == *"system pair: 2 chips, 352 cycles"* ]] || fail "timing-only cycles differ: $timing"
# Chips beyond the last program are idle (a bundled system by name).
node=$("$lpusim" run --system groq-node "$c2c/ping_send.s" "$c2c/ping_recv.s") || fail "groq-node run"
[[ "$node" == *"chips 2..7: idle"* ]] || fail "groq-node idle chips: $node"

expect_refusal() {  # expected text, then the command's arguments
  local want=$1; shift
  local err code
  err=$("$lpusim" "$@" 2>&1 >/dev/null); code=$?
  [[ $code -eq 2 ]] || fail "$* : exit $code (want 2): $err"
  [[ $(printf '%s\n' "$err" | wc -l) -eq 1 ]] || fail "$* : not one line: $err"
  [[ "$err" == *"$want"* ]] || fail "$* : '$err' does not say '$want'"
}
expect_refusal "several programs run on a system" run "$c2c/ping_send.s" "$c2c/ping_recv.s"
expect_refusal "has no system of chips" run "$c2c/ping_send.s"
expect_refusal "3 programs for a system of 2 chips" run --system "$c2c/pair.json" "$c2c/ping_send.s" "$c2c/ping_recv.s" "$c2c/ping_recv.s"
expect_refusal "the system file names its chip" run --system "$c2c/pair.json" --chip tsp-v1 "$c2c/ping_send.s"
expect_refusal "expected CHIP:NAME" run --system "$c2c/pair.json" "$c2c/ping_send.s" "$c2c/ping_recv.s" --dump y
expect_refusal "chip 5 does not exist" run --system "$c2c/pair.json" "$c2c/ping_send.s" "$c2c/ping_recv.s" --dump 5:y
expect_refusal "port 1 is not connected" run --system "$c2c/pair.json" "$c2c/forward_hop.s"
expect_refusal "no bundled system" run --system no-such-system "$c2c/ping_send.s"
echo "system runs: ok"
