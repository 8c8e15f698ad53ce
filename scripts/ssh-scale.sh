#!/usr/bin/env bash
# SSH scale benchmark (docs/PERFORMANCE.md): N console sessions through russh's client against
# the release binary, on a fresh PostgreSQL database (pg_notify wakes the server's feed at once
# when the CLI commits; on SQLite the feed polls every 250 ms).
#
#   scripts/ssh-scale.sh [SESSIONS] [ROUNDS]      # default 1000 sessions, 5 payments
#   RUSTOK_BENCH_PG=postgres://postgres@127.0.0.1:5432  (the server; a database is created and dropped)
set -euo pipefail
cd "$(dirname "$0")/.."
sessions="${1:-1000}"
rounds="${2:-5}"
pg="${RUSTOK_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
name="rustok_ssh_scale_$$"

cargo build --quiet --release --bin rustok --example ssh_scale
psql -q "$pg/postgres" -c "CREATE DATABASE $name"
trap 'psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)"' EXIT
# Client and server each need a descriptor per session, and more.
ulimit -n "$(ulimit -Hn)"
target="${CARGO_TARGET_DIR:-target}"
"$target/release/examples/ssh_scale" --db "$pg/$name" --sessions "$sessions" --rounds "$rounds" \
    --bin "$target/release/rustok"
