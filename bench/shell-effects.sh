#!/usr/bin/env bash
# Score `hookgate effects` against the real-execution corpus
# (../shared/bench-data/shell-effects): write recall, precision, path-level
# precision, missed writes, abstention, read recall. See shell-effects.py.
#
#   bench/shell-effects.sh [ARGS…]         analysis alone (no file system)
#   bench/shell-effects.sh --tree [ARGS…]  as the hook runs it: the corpus's
#       fixture tree is built at its real paths (/project, /home/agent, …) in
#       a private mount namespace (needs root and unshare), and the analysis
#       expands globs and find against it (--look).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p hookgate
if [[ "${1:-}" != "--tree" ]]; then
  exec python3 bench/shell-effects.py "$@"
fi
shift
FIXTURE="$(cd ../shared/bench-data/shell-effects && pwd)/fixture.sh"
[[ "$(id -u)" == 0 ]] || { echo "--tree needs root (a private mount namespace)" >&2; exit 1; }
command -v unshare >/dev/null || { echo "--tree needs unshare (util-linux)" >&2; exit 1; }
# Mount points on the real root stay empty directories; remove the ones made here.
made=()
for d in /project /home/agent /srv/www; do
  [[ -e "$d" ]] || { mkdir -p "$d"; made+=("$d"); }
done
trap 'for d in "${made[@]}"; do rmdir "$d" 2>/dev/null || true; done' EXIT
unshare -m bash -euo pipefail -c '
  mount --make-rprivate /
  for d in /project /home/agent /srv/www /var/log /tmp; do mount -t tmpfs tmpfs "$d"; done
  bash "$0" >/dev/null
  HOME=/home/agent python3 bench/shell-effects.py --look "$@"
' "$FIXTURE" "$@"
