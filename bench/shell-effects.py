#!/usr/bin/env python3
"""Score `hookgate effects` against what 293 real commands really did.

Usage: bench/shell-effects.py [--bin target/release/hookgate] [--misses N] [--json OUT]

The corpus (../shared/bench-data/shell-effects/corpus.jsonl) records, for each
command run on a known file tree, the paths it really wrote, deleted or tried
to (strace + before/after listings). This script runs the detector on every
command and reports, as that corpus's README defines them:

  write recall      share of all truth write paths some predicted write/delete covers
  write precision   share of predicted writes/deletes the truth confirms
  missed-a-write    commands with a truth write left uncovered (and not abstained on)
  abstention        share of commands the detector calls opaque, for commands that
                    wrote and for read-only ones (the cost of abstaining)
  read recall       share of truth reads covered by predicted reads

A prediction covers a truth path if it is the same path, a directory above it,
or a glob matching it; a truth path in tree_created is also covered by any
prediction inside it. The fixture tree is not built here: the detector does not
look at the file system.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(ROOT, "..", "shared", "bench-data", "shell-effects", "corpus.jsonl")


def glob_re(pattern):
    """hookgate's glob semantics: `*`/`?` stay in a segment, `**/` spans
    segments, a trailing `/**` also names the directory itself."""
    if pattern.endswith("/**"):
        return re.compile("(?:" + glob_re(pattern[:-3]).pattern[:-2] + r")(?:/.*)?\Z")
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[":
            j = pattern.find("]", i + 2)
            if j < 0:
                out += re.escape(pattern[i])
                i += 1
            else:
                body = pattern[i + 1 : j]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out += "[" + body.replace("\\", "\\\\").replace("[", "\\[") + "]"
                i = j + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def is_glob(p):
    return any(c in p for c in "*?[")


def covers(pred, truth):
    """Does the prediction `pred` cover the truth path `truth`?"""
    if is_glob(pred):
        rx = glob_re(pred)
        if rx.match(truth):
            return True
        # A glob over a tree also covers paths under its matches.
        parts = truth.split("/")
        return any(rx.match("/".join(parts[:k])) for k in range(2, len(parts)))
    return truth == pred or truth.startswith(pred.rstrip("/") + "/")


def confirmed(pred, entry):
    """Does the truth confirm the prediction (same path or something below)?"""
    seen = set(entry["write_paths"])
    for k in ("created", "deleted", "modified", "meta", "syscall_ok"):
        seen.update(entry.get(k) or [])
    for k in ("attempts", "outside", "incidental"):
        seen.update((entry.get(k) or {}).keys())
    trees = (entry.get("tree_created") or []) + (entry.get("tree_deleted") or [])
    if any(covers(t, pred) for t in trees):
        return True
    return any(covers(pred, s) for s in seen)


def run(binary, entry, look=False):
    env = dict(os.environ, HOME="/home/agent")
    t = time.perf_counter()
    p = subprocess.run(
        [binary, "effects", "--json", "--cwd", entry["cwd"]] + (["--look"] if look else []) + ["--", entry["cmd"]],
        capture_output=True,
        text=True,
        env=env,
    )
    secs = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"hookgate effects failed on {entry['id']}: {p.stderr}")
    out = json.loads(p.stdout)

    def absolute(xs):
        return [x if x.startswith("/") else os.path.normpath(os.path.join(entry["cwd"], x)) for x in xs]

    return {
        "writes": absolute(out["writes"] + out["deletes"]),
        "reads": absolute(out["reads"]),
        # An unknown command is an abstention too: the policy decides its cost.
        "opaque": out["opaque"] or bool(out["unknown"]),
        "reasons": out["reasons"],
        "unknown": out["unknown"],
    }, secs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "hookgate"))
    ap.add_argument("--corpus", default=CORPUS)
    ap.add_argument("--misses", type=int, default=15)
    ap.add_argument("--json", help="write per-command results here")
    ap.add_argument("--look", action="store_true",
                    help="pass --look: expand globs and find against the fixture tree, which must be built at its real paths (shell-effects.sh --tree does it)")
    a = ap.parse_args()
    if not os.path.exists(a.bin):
        print(f"building {a.bin}", file=sys.stderr)
        subprocess.run(["cargo", "build", "--release", "-p", "hookgate"], cwd=ROOT, check=True)
    entries = [json.loads(l) for l in open(a.corpus)]
    # The tree's paths, as far as the corpus shows them (every path any
    # command read, listed or changed, and their parents): the universe for
    # path-level precision.
    universe = set()
    for e in entries:
        for k in ("reads", "listed", "write_paths", "created", "deleted", "modified", "meta", "touched"):
            universe.update(e.get(k) or [])
        for k in ("attempts",):
            universe.update((e.get(k) or {}).keys())
    for u in list(universe):
        parts = u.split("/")
        universe.update("/".join(parts[:k]) for k in range(2, len(parts)))
    universe = sorted(universe)
    path_covered = path_written = 0

    truth_total = truth_covered = 0
    pred_total = pred_ok = 0
    read_total = read_covered = 0
    wrote = [e for e in entries if e["write_paths"]]
    readonly = [e for e in entries if not e["write_paths"]]
    abst_wrote = abst_ro = 0
    missed = []
    false_pos = []
    times = []
    results = []
    for e in entries:
        pred, secs = run(a.bin, e, a.look)
        times.append(secs)
        uncovered = [t for t in e["write_paths"] if not any(covers(p, t) for p in pred["writes"])]
        # A created tree is also covered by a prediction inside it.
        uncovered = [
            t for t in uncovered
            if not (t in (e.get("tree_created") or []) and any(p.startswith(t.rstrip("/") + "/") for p in pred["writes"]))
        ]
        truth_total += len(e["write_paths"])
        truth_covered += len(e["write_paths"]) - len(uncovered)
        bad = [p for p in pred["writes"] if not p.startswith(("/dev/", "/proc/")) and not confirmed(p, e)]
        pred_total += len([p for p in pred["writes"] if not p.startswith(("/dev/", "/proc/"))])
        pred_ok += len([p for p in pred["writes"] if not p.startswith(("/dev/", "/proc/"))]) - len(bad)
        # Path-level precision: of the tree's paths the predictions cover, how
        # many were really written (a directory prediction counts each path).
        written = set(e["write_paths"])
        for k in ("created", "deleted", "modified", "meta"):
            written.update(e.get(k) or [])
        trees = (e.get("tree_created") or []) + (e.get("tree_deleted") or []) + [t for t in e["write_paths"] if t.endswith("/.git")]
        preds = [p for p in pred["writes"] if not p.startswith(("/dev/", "/proc/"))]
        for u in universe:
            if any(covers(p, u) for p in preds):
                path_covered += 1
                if u in written or any(covers(t, u) for t in trees):
                    path_written += 1
        rc = [r for r in e.get("reads") or [] if any(covers(p, r) for p in pred["reads"])]
        read_total += len(e.get("reads") or [])
        read_covered += len(rc)
        if e["write_paths"]:
            abst_wrote += pred["opaque"]
        else:
            abst_ro += pred["opaque"]
        if uncovered and not pred["opaque"]:
            missed.append((e, uncovered, pred))
        if bad:
            false_pos.append((e, bad))
        results.append({"id": e["id"], "cmd": e["cmd"], "pred": pred, "uncovered": uncovered, "unconfirmed": bad})

    pct = lambda n, d: f"{100 * n / d:.1f}%" if d else "n/a"
    print(f"hookgate effects{' --look (on the fixture tree)' if a.look else ''} on {len(entries)} real commands ({len(wrote)} wrote or tried to, {len(readonly)} only read)")
    print(f"  write recall        {pct(truth_covered, truth_total)}  ({truth_covered}/{truth_total} truth write paths covered)")
    print(f"  write precision     {pct(pred_ok, pred_total)}  ({pred_ok}/{pred_total} predicted writes/deletes confirmed)")
    print(f"  path precision      {pct(path_written, path_covered)}  ({path_written}/{path_covered} tree paths under predictions really written)")
    print(f"  missed-a-write      {len(missed)} commands (uncovered truth write, not abstained on)")
    print(f"  abstention          {pct(abst_wrote, len(wrote))} of writing commands, {pct(abst_ro, len(readonly))} of read-only ones")
    print(f"  read recall         {pct(read_covered, read_total)}  ({read_covered}/{read_total})")
    print(f"  latency per command (CLI process, wall) median {1000 * statistics.median(times):.2f} ms")
    if missed and a.misses:
        print(f"\nmissed writes (first {a.misses}):")
        for e, unc, pred in missed[: a.misses]:
            print(f"  {e['id']}: {e['cmd'][:100]!r}")
            print(f"      uncovered {unc[:3]}; predicted {pred['writes'][:3]}; unknown {pred['unknown']}")
    if false_pos and a.misses:
        print(f"\nunconfirmed predictions (first {a.misses}):")
        for e, bad in false_pos[: a.misses]:
            print(f"  {e['id']}: {e['cmd'][:100]!r} -> {bad[:3]}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
