#!/usr/bin/env bash
# Store benchmark: `hookgate reserve` / `hookgate release` throughput and latency
# with 1, 8 and 32 concurrent processes on one SQLite store.
# Usage: bench/store.sh   (env: SECONDS_PER_LEVEL=10, ITERATIONS=N to run N reserve/release
#   rounds per worker instead of a fixed time, LEVELS="1 8 32", FLOOR_RUNS=200,
#   KEEP=1 to keep the scratch dir)
# Each worker is a python process acting as its own agent (HOOKGATE_AGENT=w<i>) that
# loops: `hookgate reserve PAT --ttl 5m`, and after a grant `hookgate release PAT`,
# timing every CLI call wall-clock (time.perf_counter around subprocess.run). Even
# rounds reserve `src/m<i%4>/**` exclusive, which workers i, i+4, ... share, so they
# conflict (exit 3, counted as "refused"); odd rounds reserve a disjoint `w<i>/d<k>/**`.
# Errors are exit codes other than 0/3 and any stderr mentioning "locked" or "busy";
# any error, or a reservation still live at the end, makes the script exit non-zero.
# The floor is `hookgate --version` timed the same way in the same run (a CLI process
# that opens no store); 2-core VM: 8 and 32 workers mostly measure CPU contention.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
SECONDS_PER_LEVEL="${SECONDS_PER_LEVEL:-10}"
ITERATIONS="${ITERATIONS:-0}"
LEVELS="${LEVELS:-1 8 32}"
FLOOR_RUNS="${FLOOR_RUNS:-200}"
say() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'store: %s\n' "$*" >&2; exit 1; }

# --- 1. tools and build -----------------------------------------------------------
command -v python3 >/dev/null || die "python3 is required"
command -v cargo >/dev/null || die "cargo is required"
command -v git >/dev/null || die "git is required"
say "cargo build --release -p hookgate"
(cd "$ROOT" && cargo build --release -p hookgate)
HOOKGATE="$ROOT/target/release/hookgate"
[[ -x "$HOOKGATE" ]] || die "no $HOOKGATE after the build"

# --- 2. scratch repo ------------------------------------------------------------------
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/store-bench.XXXXXX")"
if [[ "${KEEP:-0}" == 1 ]]; then echo "scratch dir kept: $SCRATCH" >&2
else trap 'rm -rf "$SCRATCH"' EXIT; fi
git -C "$SCRATCH" init -q
mkdir -p "$SCRATCH/src"
export HOOKGATE_CACHE="$SCRATCH/hookgate-cache"
unset HOOKGATE_STORE HOOKGATE_AGENT HOOKGATE_NAME HOOKGATE_POLICY
cd "$SCRATCH"

say "warming: one reserve/release creates the store"
HOOKGATE_AGENT=w-warm "$HOOKGATE" reserve 'warm/**' --ttl 5m >/dev/null || die "warm-up reserve failed"
HOOKGATE_AGENT=w-warm "$HOOKGATE" release 'warm/**' >/dev/null || die "warm-up release failed"
[[ -f "$SCRATCH/.git/hookgate/state.db" ]] || die "no store at .git/hookgate/state.db after the warm-up"

# --- 3. run the levels and summarize (one python driver) -----------------------------------
say "levels: $LEVELS workers; $( ((ITERATIONS > 0)) && echo "$ITERATIONS rounds per worker" || echo "${SECONDS_PER_LEVEL}s per level")"
python3 - "$HOOKGATE" "$SCRATCH" "$LEVELS" "$SECONDS_PER_LEVEL" "$ITERATIONS" "$FLOOR_RUNS" <<'PY'
import json, math, os, statistics as st, subprocess, sys, time

hg, scratch, levels, secs, iters, floor_runs = sys.argv[1:7]
levels = [int(x) for x in levels.split()]
secs, iters, floor_runs = float(secs), int(iters), int(floor_runs)
out_dir = os.path.join(scratch, "results")
os.makedirs(out_dir, exist_ok=True)

# The worker: runs as a separate process (python3 -c WORKER ...), writes one JSON file.
WORKER = r'''
import json, os, subprocess, sys, time
hg, i, start, secs, iters, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
env = dict(os.environ, HOOKGATE_AGENT=f"w{i}")
res = {"reserve": [], "release": [], "granted": 0, "refused": 0, "errors": []}
def call(kind, *args):
    t0 = time.perf_counter()
    p = subprocess.run([hg, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    err = p.stderr.decode(errors="replace")
    low = err.lower()
    ok_codes = (0, 3) if kind == "reserve" else (0,)
    if p.returncode in ok_codes:
        res[kind].append(dt)   # calls that did their job feed the latency figures
    if p.returncode not in ok_codes or "locked" in low or "busy" in low:
        res["errors"].append({"call": " ".join(args), "exit": p.returncode, "stderr": err.strip()[:300]})
    return p.returncode
while time.time() < start:
    time.sleep(0.001)
deadline = start + secs
k = 0
while (k < iters) if iters > 0 else (time.time() < deadline):
    pat = f"src/m{i % 4}/**" if k % 2 == 0 else f"w{i}/d{k}/**"
    rc = call("reserve", "reserve", pat, "--ttl", "5m")
    if rc == 0:
        res["granted"] += 1
        call("release", "release", pat)
    elif rc == 3:
        res["refused"] += 1
    k += 1
res["end"] = time.time()
json.dump(res, open(out, "w"))
'''

def pct(xs, q):
    """Nearest-rank percentile of xs (seconds) in ms."""
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs), max(1, math.ceil(q / 100 * len(xs)))) - 1] * 1e3

def floor(n):
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([hg, "--version"], stdout=subprocess.DEVNULL, check=True)
        ts.append(time.perf_counter() - t0)
    return ts

def live():
    p = subprocess.run([hg, "locks", "--json"], capture_output=True, text=True, env=dict(os.environ, HOOKGATE_AGENT="bench-observer"))
    if p.returncode != 0:
        raise SystemExit(f"hookgate locks --json failed (exit {p.returncode}): {p.stderr.strip()}")
    return json.loads(p.stdout)["reservations"]

floor_ts = floor(floor_runs // 2)
rows, all_errors, leftovers = [], [], []
for n in levels:
    print(f"  level {n}: {n} worker(s)...", file=sys.stderr, flush=True)
    start = time.time() + 0.5 + 0.02 * n   # a common start, after every worker is up
    procs = []
    for i in range(n):
        out = os.path.join(out_dir, f"L{n}-w{i}.json")
        procs.append((out, subprocess.Popen([sys.executable, "-c", WORKER, hg, str(i), repr(start), str(secs), str(iters), out])))
    bad = [p.wait() for _, p in procs]
    if any(bad):
        raise SystemExit(f"level {n}: a worker process crashed (exit codes {bad})")
    rs = [json.load(open(o)) for o, _ in procs]
    elapsed = max(r["end"] for r in rs) - start
    reserve = [t for r in rs for t in r["reserve"]]
    release = [t for r in rs for t in r["release"]]
    granted = sum(r["granted"] for r in rs)
    refused = sum(r["refused"] for r in rs)
    errors = [e for r in rs for e in r["errors"]]
    all_errors += [(n, e) for e in errors]
    left = live()
    leftovers += [(n, l) for l in left]
    rows.append(dict(n=n, elapsed=elapsed, attempts=granted + refused, granted=granted, refused=refused,
                     released=len(release), ops=(granted + len(release)) / elapsed, errors=len(errors), live=len(left),
                     r50=pct(reserve, 50), r99=pct(reserve, 99), l50=pct(release, 50), l99=pct(release, 99)))
floor_ts += floor(floor_runs - floor_runs // 2)
fl = st.median(floor_ts) * 1e3

mode = f"{iters} rounds/worker" if iters > 0 else f"{secs:g}s/level"
la = open("/proc/loadavg").read().split()[:3]
print(f"\nhookgate store: reserve+release, {mode}; {os.cpu_count()} CPU(s), load average at end {' '.join(la)}")
print(f"floor: `hookgate --version` median {fl:.2f} ms (p99 {pct(floor_ts, 99):.2f} ms, {len(floor_ts)} runs, half before and half after the levels)")
print("ops/s = (granted reserves + releases) / wall time of the level; latencies are per CLI call, wall-clock, ms\n")
hdr = (f"{'workers':>7} {'secs':>6} {'ops/s':>8} {'granted':>8} {'refused':>8} {'errors':>6} "
       f"{'res p50':>8} {'res p99':>8} {'rel p50':>8} {'rel p99':>8} {'res p50/floor':>14} {'live after':>10}")
print(hdr); print("-" * len(hdr))
for r in rows:
    print(f"{r['n']:>7} {r['elapsed']:>6.1f} {r['ops']:>8.1f} {r['granted']:>8} {r['refused']:>8} {r['errors']:>6} "
          f"{r['r50']:>8.2f} {r['r99']:>8.2f} {r['l50']:>8.2f} {r['l99']:>8.2f} {r['r50'] / fl:>13.2f}x {r['live']:>10}")

fails = 0
print()
if all_errors:
    fails += 1
    print(f"  FAIL  errors: {len(all_errors)} call(s) exited other than 0/3 or said locked/busy; first ones:")
    for n, e in all_errors[:10]:
        print(f"        [{n} workers] hookgate {e['call']} -> exit {e['exit']}: {e['stderr']}")
else:
    print("  PASS  errors: none (every reserve exited 0 or 3, every release 0; no 'locked'/'busy' on stderr)")
unreleased = [r for r in rows if r["released"] != r["granted"]]
if unreleased:
    fails += 1
    print("  FAIL  every grant released: " + ", ".join(f"{r['n']} workers: {r['granted']} granted, {r['released']} released" for r in unreleased))
final = live()
if leftovers or final:
    fails += 1
    print(f"  FAIL  no live reservation left: {len(final)} live at the end, {len(leftovers)} seen after the levels")
    for l in (final or [l for _, l in leftovers])[:10]:
        print(f"        {l.get('reservation')} {l.get('holder_id')} {l.get('patterns')} {l.get('mode')}")
else:
    print("  PASS  no live reservation left (`hookgate locks --json` lists none)")
print(f"\n{'ALL PASS' if not fails else f'{fails} FAIL(S)'}")
sys.exit(1 if fails else 0)
PY
