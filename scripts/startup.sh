#!/usr/bin/env bash
# Time to first frame and peak memory of the console, from outside, in a pseudo-terminal.
# Usage: scripts/startup.sh BINARY DB_URL [RUNS]
# Prints the median wall time of `rustok --exit-after-first-frame` over RUNS runs and the
# largest peak RSS seen.
set -euo pipefail
bin=$1; db=$2; runs=${3:-10}
data=$(mktemp -d)
times=(); peak=0
for _ in $(seq 1 "$runs"); do
  out=$(RUSTOK_DATA_DIR=$data RUSTOK_CONFIG_DIR=$data script -qec \
    "stty cols 120 rows 40; /usr/bin/time -f 'TIME %e RSS %M' $bin --db $db --exit-after-first-frame" /dev/null 2>&1 \
    | tr -d '\r' | grep -ao 'TIME [0-9.]* RSS [0-9]*' | tail -1)
  t=$(echo "$out" | awk '{print $2}'); r=$(echo "$out" | awk '{print $4}')
  times+=("$t"); [ "$r" -gt "$peak" ] && peak=$r
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "first frame: median ${median}s over $runs runs; peak RSS ${peak} KiB"
rm -rf "$data"
