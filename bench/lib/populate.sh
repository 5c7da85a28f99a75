# Source me. populate_reservations HOOKGATE DIR N AGENTS
# Fills DIR's store with N live reservations held by AGENTS agents, through the
# real CLI: each agent holds N/AGENTS reservations; nine in ten have a literal
# prefix (`area<k>/mod<j>/**`, `area<k>/f<j>.rs`), one in ten can match
# anywhere (`**/gen-<k>-<j>/**`), which every check has to consider. They are
# shared, so they coexist (a `**/` pattern overlaps every directory); a write
# clashes with every mode, so a write check weighs them all the same.
populate_reservations() {
  local hg="$1" dir="$2" n="$3" agents="$4"
  local per=$(( n / agents )) k j pat
  for k in $(seq 1 "$agents"); do
    for j in $(seq 1 "$per"); do
      case $(( j % 10 )) in
        0) pat="**/gen-$k-$j/**" ;;
        1|3|5) pat="area$k/f$j.rs" ;;
        *) pat="area$k/mod$j/**" ;;
      esac
      (cd "$dir" && HOOKGATE_AGENT="bench-agent-$k" "$hg" reserve "$pat" --mode shared --ttl 8h --reason "bench $k/$j" >/dev/null) \
        || { echo "populate: reserve $pat for agent $k failed" >&2; return 1; }
    done
  done
}
