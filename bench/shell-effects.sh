#!/usr/bin/env bash
# Score `hookgate effects` against the real-execution corpus
# (../shared/bench-data/shell-effects): write recall, precision, path-level
# precision, missed writes, abstention, read recall. See shell-effects.py.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p hookgate
exec python3 bench/shell-effects.py "$@"
