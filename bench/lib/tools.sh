# Source me (after defining `say` and `die`). need_bench_tools: python3,
# cargo and git must be there; hyperfine is installed with apt-get when
# missing. Sets HF_VERSION.
need_bench_tools() {
  command -v python3 >/dev/null || die "python3 is required"
  command -v cargo >/dev/null || die "cargo is required"
  command -v git >/dev/null || die "git is required"
  if ! command -v hyperfine >/dev/null; then
    say "installing hyperfine (apt-get)"
    apt-get install -y hyperfine >/dev/null 2>&1 \
      || { apt-get update >/dev/null && apt-get install -y hyperfine >/dev/null; } \
      || die "could not install hyperfine with apt-get"
  fi
  HF_VERSION="$(hyperfine --version)"
}
