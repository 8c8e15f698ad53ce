#!/usr/bin/env bash
# Audits `rustok serve --ssh` with ssh-audit (PyPI `ssh-audit`): starts a throwaway server on
# 127.0.0.1, runs ssh-audit against it, and fails on any `fail`, any CVE, or any `warn` that
# docs/SSH.md does not explain (a line holding both the `algorithm` and the warning's text).
#
#   scripts/ssh-audit.sh            # uses target/debug/rustok (built when missing)
#   RUSTOK_BIN=path scripts/ssh-audit.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v ssh-audit >/dev/null 2>&1; then
  audit=(ssh-audit)
else
  if ! python3 -c 'import ssh_audit' 2>/dev/null; then
    echo "== installing ssh-audit (PyPI)"
    # A distribution's Python may be "externally managed" (PEP 668).
    python3 -m pip install --quiet ssh-audit 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages ssh-audit
  fi
  audit=(python3 -m ssh_audit)
fi

bin="${RUSTOK_BIN:-target/debug/rustok}"
if [ ! -x "$bin" ]; then
  cargo build --quiet --bin rustok
fi

work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

export RUSTOK_DATA_DIR="$work"
db="sqlite://$work/db.sqlite"
"$bin" --db "$db" tenant list >/dev/null
"$bin" --db "$db" serve --ssh 127.0.0.1:0 --host-key "$work/host_key" >"$work/out" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 100); do
  port="$(sed -n 's/^serving the console over SSH on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$work/out")"
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/out" >&2; echo "FAIL: the server did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "FAIL: the server did not say where it listens" >&2; exit 1; }

echo "== ssh-audit $("${audit[@]}" --help 2>/dev/null | sed -n 's/.*ssh-audit v\([0-9.]*\).*/\1/p' | head -1) against 127.0.0.1:$port"
# Exit codes 1-3 only say warnings or failures were found; the JSON is judged below.
timeout 60 "${audit[@]}" -jj -p "$port" 127.0.0.1 >"$work/audit.json" || true

python3 - "$work/audit.json" docs/SSH.md <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
docs = open(sys.argv[2], encoding="utf-8").read().splitlines()
problems, explained = [], []
for section in ("kex", "key", "enc", "mac"):
    for alg in report.get(section, []):
        name, notes = alg["algorithm"], alg.get("notes", {})
        for msg in notes.get("fail", []):
            problems.append(f"fail  {section} {name}: {msg}")
        for msg in notes.get("warn", []):
            if any(f"`{name}`" in line and msg in line for line in docs):
                explained.append(f"warn  {section} {name}: {msg} (explained in docs/SSH.md)")
            else:
                problems.append(f"warn  {section} {name}: {msg} (not explained in docs/SSH.md)")
for cve in report.get("cves", []):
    problems.append(f"cve   {cve.get('name')}: {cve.get('description')}")
if not report.get("kex"):
    problems.append("no key exchange algorithms in the report: ssh-audit could not audit the server")
for line in explained:
    print(line)
for line in problems:
    print(line)
if problems:
    print(f"FAIL: ssh-audit found {len(problems)} problem(s)")
    sys.exit(1)
kex = ", ".join(a["algorithm"] for a in report["kex"])
print(f"ok: no fail, no unexplained warn (kex: {kex})")
EOF
