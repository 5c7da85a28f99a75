#!/usr/bin/env bash
# MCP latency: one `hookgate mcp` process (release build) spoken to over stdio,
# initialized once, then N `tools/call` round trips each of `check` (one path,
# held by another agent) and `whoami`, interleaved in 20 rounds with the same
# round trip against a floor measured in the same run (a trivial Rust JSON-RPC
# responder reading and answering over the same pipes). The store holds 1,000
# live reservations by 50 agents (bench/lib/populate.sh), as in hook-latency.sh.
# Reports median, p90 and p99 per row. Target: median <= 2 ms (DESIGN §7).
# Usage: bench/mcp-latency.sh   (env: N=2000, RESERVATIONS=1000, AGENTS=50, KEEP=1)
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
N="${N:-2000}"
RESERVATIONS="${RESERVATIONS:-1000}"
AGENTS="${AGENTS:-50}"
say() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'mcp-latency: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/populate.sh
source "$BENCH/lib/populate.sh"

command -v cargo >/dev/null || die "cargo is required"
command -v git >/dev/null || die "git is required"
say "cargo build --release -p hookgate"
(cd "$ROOT" && cargo build --release -p hookgate)
HOOKGATE="$ROOT/target/release/hookgate"
[[ -x "$HOOKGATE" ]] || die "no $HOOKGATE after the build"

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/mcp-bench.XXXXXX")"
if [[ "${KEEP:-0}" == 1 ]]; then echo "scratch dir kept: $SCRATCH" >&2
else trap 'rm -rf "$SCRATCH"' EXIT; fi
git -C "$SCRATCH" init -q
mkdir -p "$SCRATCH/area1/mod2"
export HOOKGATE_CACHE="$SCRATCH/hookgate-cache"
unset HOOKGATE_STORE HOOKGATE_AGENT HOOKGATE_NAME HOOKGATE_POLICY

say "populating: $RESERVATIONS live reservations by $AGENTS agents"
populate_reservations "$HOOKGATE" "$SCRATCH" "$RESERVATIONS" "$AGENTS"

say "timing: N=$N round trips per row"
cd "$ROOT"
MCP_BENCH_REPO="$SCRATCH" MCP_BENCH_PATH="area1/mod2/x.rs" \
  cargo bench -q -p hookgate --bench mcp_latency -- "$N"
