#!/usr/bin/env bash
# Commit benchmark (issue 7): what `hookgate commit` and the pre-commit guard cost.
# In a 10,000-file repository (nested directories, realistic sizes, committed
# and packed), timed by hyperfine, each run's edits made by --prepare (not timed):
#   a) 10 modified files:
#        git-10         `git add <10> && git commit -q -m x`          (plain git, the floor)
#        hookgate-10    `hookgate commit -m x <10>`  (HOOKGATE_AGENT set; private index
#                       from HEAD, commit lock, compare-and-swap on the branch)
#      target: hookgate-10 <= 2x git-10 (median of the per-pass ratios)
#   b) 100 modified files, `git add <100> && git commit -q -m x` in three copies of
#      the repository that differ only in .git/hooks/pre-commit:
#        git-100        no hook
#        git-100-noop   `#!/bin/sh` + `exit 0` (what any hook costs)
#        git-100-guard  `#!/bin/sh` + `exec hookgate git pre-commit`
#      target: git-100-guard - git-100 <= 20 ms (median of the per-pass differences)
# The store holds RESERVATIONS live shared reservations by AGENTS other agents
# (none covers the files committed), as a busy repository would; the guard
# checks the staged paths against them.
# Usage: bench/git-commit.sh   (env: PASSES=5 RUNS=20 WARMUP=3 FILES=10000
#   RESERVATIONS=1000 AGENTS=50 KEEP=1 to keep the scratch dir)
# git runs with GIT_CONFIG_GLOBAL=/dev/null and GIT_CONFIG_NOSYSTEM=1, gc.auto=0
# (no automatic gc in the middle of a pass), and every binary timed is copied into
# the scratch dir first (see bench/messages.sh: a freshly linked file maps slower).
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
RUNS="${RUNS:-20}"
PASSES="${PASSES:-5}"
WARMUP="${WARMUP:-3}"
FILES="${FILES:-10000}"
RESERVATIONS="${RESERVATIONS:-1000}"
AGENTS="${AGENTS:-50}"
say() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'git-commit: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/populate.sh
source "$BENCH/lib/populate.sh"
# shellcheck source=lib/tools.sh
source "$BENCH/lib/tools.sh"

# --- 1. tools and build -----------------------------------------------------------
need_bench_tools
say "cargo build --release -p hookgate"
(cd "$ROOT" && cargo build --release -q -p hookgate)

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/git-commit-bench.XXXXXX")"
if [[ "${KEEP:-0}" == 1 ]]; then echo "scratch dir kept: $SCRATCH" >&2
else trap 'rm -rf "$SCRATCH"' EXIT; fi
mkdir -p "$SCRATCH/bin"
cp "$ROOT/target/release/hookgate" "$SCRATCH/bin/hookgate"
HOOKGATE="$SCRATCH/bin/hookgate"
"$HOOKGATE" commit --help >/dev/null 2>&1 || die "this hookgate has no 'commit' command"
"$HOOKGATE" git pre-commit --help >/dev/null 2>&1 || die "this hookgate has no 'git pre-commit' command"

# git and hookgate isolated from the user's configuration and environment.
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 LC_ALL=C
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_COMMON_DIR
unset HOOKGATE_STORE HOOKGATE_POLICY HOOKGATE_NAME
export HOOKGATE_CACHE="$SCRATCH/hookgate-cache"
export HOOKGATE_AGENT=bench-committer

# --- 2. the repository ----------------------------------------------------------------
A="$SCRATCH/repo"
say "creating a $FILES-file repository"
git init -q -b main "$A"
git -C "$A" config user.name "Bench"
git -C "$A" config user.email "bench@example.invalid"
git -C "$A" config gc.auto 0
git -C "$A" config maintenance.auto false
# Nested directories (pkg/mod/sub/file, 2 to 4 levels), sizes log-normal around
# 2.5 KB (100 B to 150 KB), text of source-like lines; deterministic.
python3 - "$A" "$FILES" "$SCRATCH" <<'PY'
import math, os, random, sys
root, n, scratch = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(7)
words = ("fn let mut self return match impl struct pub use crate super where async await "
         "value index buffer result error config path agent commit token parse state").split()
exts = [".rs"] * 5 + [".py"] * 2 + [".md", ".toml", ".json", ".ts", ".go"]
paths, total = [], 0
for i in range(n):
    parts = [f"pkg{i % 25:02d}", f"mod{(i // 25) % 20:02d}"]
    if i % 3:
        parts.append(f"sub{(i // 500) % 4}")
    if i % 7 == 0:
        parts.append("inner")
    name = f"file{i:05d}{exts[i % len(exts)]}"
    size = int(min(150_000, max(100, rng.lognormvariate(math.log(2500), 1.0))))
    lines, got = [], 0
    while got < size:
        line = "    " * rng.randrange(4) + " ".join(rng.choice(words) for _ in range(rng.randrange(3, 12))) + "\n"
        lines.append(line)
        got += len(line)
    p = os.path.join(*parts, name)
    full = os.path.join(root, p)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write("".join(lines))
    paths.append(p)
    total += got
# Files the runs edit: spread over the tree.
with open(os.path.join(scratch, "list10"), "w") as f:
    f.write("\n".join(paths[i * (n // 10) + 3] for i in range(10)) + "\n")
with open(os.path.join(scratch, "list100"), "w") as f:
    f.write("\n".join(paths[i * (n // 100) + 1] for i in range(100)) + "\n")
print(f"  {n} files, {total / 1e6:.1f} MB, {len({os.path.dirname(p) for p in paths})} directories", file=sys.stderr)
PY
git -C "$A" add -A
git -C "$A" commit -q -m "initial: $FILES files"
git -C "$A" gc -q
LIST10="$(tr '\n' ' ' <"$SCRATCH/list10")"
LIST100="$(tr '\n' ' ' <"$SCRATCH/list100")"

if (( RESERVATIONS > 0 )); then
  (( AGENTS > 0 && RESERVATIONS >= AGENTS )) || die "need RESERVATIONS >= AGENTS > 0 (got $RESERVATIONS, $AGENTS)"
  say "populating the store: $RESERVATIONS live shared reservations by $AGENTS other agents"
  populate_reservations "$HOOKGATE" "$A" "$RESERVATIONS" "$AGENTS" || die "populating the store failed"
fi

# Three copies for b), differing only in their pre-commit hook.
B="$SCRATCH/repo-nohook"; C="$SCRATCH/repo-noop"; D="$SCRATCH/repo-guard"
for r in "$B" "$C" "$D"; do cp -a "$A" "$r"; done
printf '#!/bin/sh\nexit 0\n' >"$C/.git/hooks/pre-commit"
printf '#!/bin/sh\nexec %s git pre-commit\n' "$HOOKGATE" >"$D/.git/hooks/pre-commit"
chmod +x "$C/.git/hooks/pre-commit" "$D/.git/hooks/pre-commit"

# prepare: append a distinct line to each listed file (a new pid each run), then
# sync, so no run pays for the write-back of the run before it (the 100-file rows
# otherwise drift by +-10 ms with the page cache).
cat >"$SCRATCH/edit.sh" <<'SH'
#!/bin/sh
# edit.sh REPO LISTFILE
cd "$1" || exit 1
while read -r f; do echo "// edited by run $$" >>"$f"; done <"$2"
sync
SH

# --- 3. checks: each command works and commits what it should -----------------------------
say "checking each command once"
check_commit() { # $1 = repo, $2 = expected paths in HEAD's commit, $3... = command
  local repo="$1" want="$2"; shift 2
  local before; before="$(git -C "$repo" rev-parse HEAD)"
  (cd "$repo" && "$@") >"$SCRATCH/check.out" 2>&1 || die "failed: $* ($(cat "$SCRATCH/check.out"))"
  [[ "$(git -C "$repo" rev-parse HEAD^)" == "$before" ]] || die "no new commit on HEAD after: $*"
  local got; got="$(git -C "$repo" diff-tree --no-commit-id --name-only -r HEAD | sort | tr '\n' ' ')"
  [[ "$got" == "$(tr ' ' '\n' <<<"$want" | sed '/^$/d' | sort | tr '\n' ' ')" ]] \
    || die "the commit of '$*' holds: $got"
}
sh "$SCRATCH/edit.sh" "$A" "$SCRATCH/list10"
check_commit "$A" "$LIST10" sh -c "git add $LIST10 && git commit -q -m x"
sh "$SCRATCH/edit.sh" "$A" "$SCRATCH/list10"
check_commit "$A" "$LIST10" sh -c "$HOOKGATE commit -m x $LIST10"
git -C "$A" log -1 --format=%B | grep -q '^Hookgate-Agent: ' || echo "  note: no 'Hookgate-Agent:' trailer in: $(git -C "$A" log -1 --format=%B | tr '\n' '|')" >&2
for r in "$B" "$C" "$D"; do
  sh "$SCRATCH/edit.sh" "$r" "$SCRATCH/list100"
  check_commit "$r" "$LIST100" sh -c "git add $LIST100 && git commit -q -m x"
done
# The guard really runs (and blocks): a path another agent holds (intent: it
# coexists with the shared `**/…` reservations above; a commit is a write and
# clashes with every mode).
BLOCKED="$(head -1 "$SCRATCH/list100")"
(cd "$D" && HOOKGATE_AGENT=bench-holder "$HOOKGATE" reserve "$BLOCKED" --mode intent --ttl 5m >/dev/null) || die "reserve for the guard check failed"
sh "$SCRATCH/edit.sh" "$D" "$SCRATCH/list100"
if (cd "$D" && git add $LIST100 && git commit -q -m x) >"$SCRATCH/check.out" 2>&1; then
  die "the pre-commit guard did not block a commit of $BLOCKED, held by another agent"
fi
echo "  guard blocks a path another agent holds: $(grep -m1 -i "$BLOCKED\|held\|reserved" "$SCRATCH/check.out" | cut -c1-160)" >&2
(cd "$D" && HOOKGATE_AGENT=bench-holder "$HOOKGATE" release --all >/dev/null)
git -C "$D" commit -q -m x || die "the commit after the release failed"

# --- 4. timing ------------------------------------------------------------------------------
sync
GIT10="sh -c 'git add $LIST10 && exec git commit -q -m x'"
HG10="sh -c 'exec $HOOKGATE commit -m x $LIST10'"
GIT100="sh -c 'git add $LIST100 && exec git commit -q -m x'"
RESULTS="$SCRATCH/results"
mkdir -p "$RESULTS"
for pass in $(seq 1 "$PASSES"); do
  say "pass $pass/$PASSES: $RUNS runs per row, $WARMUP warmup"
  (cd "$A" && hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$RESULTS/a-$pass.json" \
    --prepare "sh $SCRATCH/edit.sh $A $SCRATCH/list10" -n git-10 "$GIT10" \
    --prepare "sh $SCRATCH/edit.sh $A $SCRATCH/list10" -n hookgate-10 "$HG10" >/dev/null)
  hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$RESULTS/b-$pass.json" \
    --prepare "sh $SCRATCH/edit.sh $B $SCRATCH/list100" -n git-100 "sh -c 'cd $B && git add $LIST100 && exec git commit -q -m x'" \
    --prepare "sh $SCRATCH/edit.sh $C $SCRATCH/list100" -n git-100-noop "sh -c 'cd $C && git add $LIST100 && exec git commit -q -m x'" \
    --prepare "sh $SCRATCH/edit.sh $D $SCRATCH/list100" -n git-100-guard "sh -c 'cd $D && git add $LIST100 && exec git commit -q -m x'" >/dev/null
done
# Every timed run committed: nothing left modified in the listed files.
for r in "$A" "$B" "$C" "$D"; do
  [[ -z "$(git -C "$r" status --porcelain --untracked-files=no)" ]] || die "$r has uncommitted changes after timing: $(git -C "$r" status --porcelain | head -3)"
done

# --- 5. summary ---------------------------------------------------------------------------
say "summary"
echo "$HF_VERSION; $PASSES passes x $RUNS runs (warmup $WARMUP); $(git -C "$A" ls-files | wc -l) files in the repository; store: $RESERVATIONS live reservations by $AGENTS other agents; $(git --version)"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPU(s)"
python3 - "$RESULTS" "$PASSES" <<'PY'
import json, statistics as st, sys, pathlib
res, passes = pathlib.Path(sys.argv[1]), int(sys.argv[2])
load = lambda f: {r["command"]: r for r in json.load(open(f))["results"]}
P = [{**load(res / f"a-{i}.json"), **load(res / f"b-{i}.json")} for i in range(1, passes + 1)]
ms = lambda p, k: st.median(p[k]["times"]) * 1e3
med = {k: st.median(ms(p, k) for p in P) for k in P[0]}
print(f"\n{'row':<16}{'median ms':>10}   pass medians (ms)")
for k, v in med.items():
    print(f"{k:<16}{v:>10.2f}   " + " ".join(f"{ms(p, k):.2f}" for p in P))
fails = 0
def check(label, ok, detail):
    global fails
    fails += not ok
    print(f"  {'PASS' if ok else 'FAIL'}  {label:<48}{detail}")
print()
r = st.median(ms(p, "hookgate-10") / ms(p, "git-10") for p in P)
check("a) hookgate commit of 10 <= 2x git", r <= 2.0,
      f"{r:.2f}x  ({med['hookgate-10']:.2f} vs {med['git-10']:.2f} ms)")
d = st.median(ms(p, "git-100-guard") - ms(p, "git-100") for p in P)
n = st.median(ms(p, "git-100-noop") - ms(p, "git-100") for p in P)
check("b) pre-commit guard adds <= 20 ms (100 files)", d <= 20.0,
      f"{d:+.2f} ms  (a hook that does nothing: {n:+.2f} ms)")
print(f"\n{'ALL PASS' if not fails else f'{fails} FAIL(S)'}")
PY
