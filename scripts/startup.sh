#!/usr/bin/env bash
# Time to first frame and peak memory of the console, from outside, in a 120x40 pseudo-terminal.
# Usage: scripts/startup.sh BINARY DB_URL [RUNS] [HOLD_SECONDS]
#
# First frame: RUNS runs of `rustok --exit-after-first-frame`; prints the median of
#  - the console's own clock (start of the console to the end of the first frame's write,
#    printed by the binary as "first frame after X ms"), and
#  - the wall time of the whole process (exec to exit, `date +%s%N` around it).
# Memory: RUNS runs of the console left open for HOLD_SECONDS (default 5: the opening pane's
# queries have answered and the relay and live feed have run), then SIGTERM; prints the median
# and the largest peak RSS (`/usr/bin/time` %M, KiB).
set -euo pipefail
bin=$1; db=$2; runs=${3:-10}; hold=${4:-5}
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
in_pty() {
  RUSTOK_DATA_DIR=$data RUSTOK_CONFIG_DIR=$data script -qec "stty cols 120 rows 40; $1" /dev/null 2>&1 | tr -d '\r' || true
}
own=(); wall=(); rss=()
for _ in $(seq 1 "$runs"); do
  out=$(in_pty "s=\$(date +%s%N); $bin --db $db --exit-after-first-frame; e=\$(date +%s%N); echo WALL \$(( (e - s) / 1000 ))")
  own+=("$(echo "$out" | grep -ao 'first frame after [0-9.]* ms' | tail -1 | awk '{print $4}')")
  wall+=("$(echo "$out" | grep -ao 'WALL [0-9]*' | tail -1 | awk '{printf "%.1f", $2 / 1000}')")
done
for _ in $(seq 1 "$runs"); do
  out=$(in_pty "/usr/bin/time -f 'RSS %M' timeout --foreground -s TERM $hold $bin --db $db")
  rss+=("$(echo "$out" | grep -ao 'RSS [0-9]*' | tail -1 | awk '{print $2}')")
done
echo "first frame: median $(printf '%s\n' "${own[@]}" | median) ms (console's clock), process start to exit median $(printf '%s\n' "${wall[@]}" | median) ms, over $runs runs"
echo "  console's clock, each run (ms): ${own[*]}"
echo "peak RSS over ${hold} s open: median $(printf '%s\n' "${rss[@]}" | median) KiB, max $(printf '%s\n' "${rss[@]}" | sort -n | tail -1) KiB, over $runs runs"
