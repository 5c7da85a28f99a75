#!/usr/bin/env bash
# Git load (issue 7): eight agents commit in ONE checkout for SECS seconds per
# phase, a) through `hookgate commit`, b) through plain `git add && git commit`.
# Runs tests/git_load.rs in release mode (the assertions on phase a included) and
# prints both phases' counts from its JSON report, as the README records them.
# Usage: bench/git-load.sh   (env: SECS=60 per phase; KEEP=1 keeps the report and
#   both repositories: HOOKGATE_LOAD_KEEP)
# Every figure is one run's: commits made, misattributed commits, index.lock and
# "nothing to commit" failures, lost changes, fsck. Wall times (commit ms, commits/s)
# are the release build's on this machine, 8 agents sharing its CPUs.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
SECS="${SECS:-60}"
say() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'git-load: %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null || die "cargo is required"
command -v git >/dev/null || die "git is required"
command -v python3 >/dev/null || die "python3 is required"

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/git-load.XXXXXX")"
if [[ "${KEEP:-0}" == 1 ]]; then
  echo "scratch dir kept: $SCRATCH" >&2
  export HOOKGATE_LOAD_KEEP=1
else
  trap 'rm -rf "$SCRATCH"' EXIT
fi
REPORT="$SCRATCH/report.json"

say "building the load test (cargo test --release --no-run)"
(cd "$ROOT" && cargo test --release -q -p hookgate --test git_load --no-run)

say "running: 8 agents, $SECS s per phase (hookgate commit, then plain git)"
status=0
(cd "$ROOT" && HOOKGATE_LOAD_SECS="$SECS" HOOKGATE_LOAD_REPORT="$REPORT" \
  cargo test --release -q -p hookgate --test git_load -- --nocapture) >"$SCRATCH/test.log" 2>&1 || status=$?
[[ -f "$REPORT" ]] || { cat "$SCRATCH/test.log" >&2; die "the test wrote no report (exit $status)"; }
# The test's own block, and its problem listings when there are any.
sed -n '/^==== git load/,/^====$/p' "$SCRATCH/test.log"

say "summary"
echo "$(git --version); $(nproc) CPU(s); load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$REPORT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
h, p = r["hookgate"], r["plain"]
print(f"{r['agents']} agents x {r['files_per_agent']} files, {r['seconds_per_phase']} s per phase\n")
rows = [
    ("commits made", "commits_made"),
    ("commit attempts", "attempts"),
    ("misattributed commits", "misattributed_commits"),
    ("changes in another agent's commit", "changes_in_another_agents_commit"),
    ("index.lock failures", "index_lock_failures"),
    ("\"nothing to commit\" failures", "empty_commit_failures"),
    ("lost changes", "lost_changes"),
    ("phantom commits (failed, yet made)", "phantom_commits"),
    ("other failures", "other_failures"),
    ("clear hookgate errors", "clear_hookgate_errors"),
]
fmt = lambda v: "clean" if v is True else "FAILED" if v is False else str(v)
print(f"| {'':<36} | hookgate commit |       plain git |")
print(f"|{'-' * 38}|-----------------|-----------------|")
for label, key in rows:
    print(f"| {label:<36} | {fmt(h[key]):>15} | {fmt(p[key]):>15} |")
ms = lambda c: "/".join(f"{x:.0f}" for x in c["commit_ms_p50_p90_p99_max"])
rate = lambda c: "{:.1f} -> {:.1f}".format(*c["commits_per_s_first_last_quarter"])
print(f"| {'commit ms p50/p90/p99/max':<36} | {ms(h):>15} | {ms(p):>15} |")
print(f"| {'commits/s, first -> last quarter':<36} | {rate(h):>15} | {rate(p):>15} |")
print(f"| {'git fsck --strict':<36} | {fmt(h['fsck_clean']):>15} | {fmt(p['fsck_clean']):>15} |")
print(f"\nper-agent commits: hookgate {h['per_agent_commits']}, plain {p['per_agent_commits']}")
PY
if [[ "$status" != 0 ]]; then
  grep -v '^running\|^test result' "$SCRATCH/test.log" | sed -n '/^====$/,$p' | head -60 >&2
  die "the load test FAILED (exit $status): see above"
fi
echo "load test passed"
