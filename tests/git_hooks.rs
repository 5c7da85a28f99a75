//! Black-box: the git hooks `hookgate init` installs and `hookgate
//! uninstall` removes, with real git (no user or system configuration) and
//! the real binary. Most tests run a stand-in for hookgate that records its
//! arguments and stdin, so that they check the hooks' plumbing (chaining,
//! stdin, where the hooks go) whatever the guard decides; the first runs
//! the real guard.
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Out, Repo, BIN};

/// `cmd` cut off from the user's git configuration and hookgate settings.
fn isolated(mut cmd: Command, home: &Path) -> Command {
    cmd.env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", home)
        .env("HOOKGATE_CACHE", common::shared_cache());
    for v in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
        "GIT_OBJECT_DIRECTORY",
        "HOOKGATE_POLICY",
        "HOOKGATE_STORE",
        "HOOKGATE_AGENT",
        "HOOKGATE_GUARD",
        "FAKE_GUARD_EXIT",
    ] {
        cmd.env_remove(v);
    }
    cmd
}

fn run(mut cmd: Command, stdin: Option<&str>) -> Out {
    use std::io::Write;
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let (Some(s), Some(mut w)) = (stdin, child.stdin.take()) {
        let _ = w.write_all(s.as_bytes());
    }
    let out = child.wait_with_output().expect("wait");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `git <args>` in `dir`, with `env`.
fn git_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = isolated(Command::new("git"), dir);
    c.args(args).current_dir(dir);
    for (k, v) in env {
        c.env(k, v);
    }
    run(c, None)
}

/// `git <args>` in `dir`, which must succeed.
fn git(dir: &Path, args: &[&str]) -> Out {
    let out = git_env(dir, args, &[]);
    assert_eq!(out.code, 0, "git {args:?}: {out:?}");
    out
}

/// `hookgate <args>` in `dir`.
fn hookgate(dir: &Path, args: &[&str]) -> Out {
    let mut c = isolated(Command::new(BIN), dir);
    c.args(args).current_dir(dir);
    run(c, None)
}

/// `hookgate <args>` in `dir`, which must succeed.
fn hookgate_ok(dir: &Path, args: &[&str]) -> Out {
    let out = hookgate(dir, args);
    assert_eq!(out.code, 0, "hookgate {args:?}: {out:?}");
    out
}

/// A real git repository (`git init -b main`) with a user, instead of the
/// scratch `.git` of [`Repo::new`].
fn git_repo() -> Repo {
    let repo = Repo::new();
    std::fs::remove_dir_all(repo.root.join(".git")).unwrap();
    git(&repo.root, &["init", "-q", "-b", "main"]);
    for (k, v) in [
        ("user.name", "t"),
        ("user.email", "t@t"),
        ("commit.gpgsign", "false"),
    ] {
        git(&repo.root, &["config", k, v]);
    }
    repo
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Stage `rel` with `text` and commit it (hooks run); the commit's output.
fn commit(dir: &Path, rel: &str, text: &str, env: &[(&str, &str)]) -> Out {
    write(&dir.join(rel), text, 0o644);
    git(dir, &["add", "--", rel]);
    git_env(dir, &["commit", "-q", "-m", rel], env)
}

/// A stand-in for hookgate, in a directory with a space in its name (the
/// hooks quote it): it appends its arguments to `guard.log`, keeps
/// pre-push's stdin in `guard-stdin`, and exits with `$FAKE_GUARD_EXIT`
/// (0 by default).
struct Fake {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    bin: String,
}

impl Fake {
    fn new() -> Fake {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().canonicalize().unwrap().join("my tools");
        let bin = dir.join("fake-hookgate");
        write(
            &bin,
            &format!(
                "#!/bin/sh\nd='{}'\necho \"$*\" >>\"$d/guard.log\"\nif [ \"$2\" = pre-push ]; then cat >\"$d/guard-stdin\"; fi\nexit \"${{FAKE_GUARD_EXIT:-0}}\"\n",
                dir.display()
            ),
            0o755,
        );
        Fake {
            _dir: tmp,
            bin: bin.display().to_string(),
            dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("guard.log")).unwrap_or_default()
    }

    /// A file outside the repository for a test hook to write.
    fn marker(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `hookgate init --platform git --bin <fake>` in `dir`.
    fn init(&self, dir: &Path) -> Out {
        hookgate_ok(dir, &["init", "--platform", "git", "--bin", &self.bin])
    }
}

/// Every file of a directory tree: its bytes (a link's target), mode, and
/// whether it is a symbolic link.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32, bool)> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&p).unwrap();
                out.insert(rel, (target.into_os_string().into_encoded_bytes(), 0, true));
            } else if meta.is_dir() {
                todo.push(p);
            } else {
                let m = meta.permissions().mode() & 0o7777;
                out.insert(rel, (std::fs::read(&p).unwrap(), m, false));
            }
        }
    }
    out
}

fn python3() -> bool {
    Command::new("python3")
        .arg("-c")
        .arg("pass")
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn fresh_repo_init_installs_both_hooks_and_commit_runs_the_guard() {
    let repo = git_repo();
    let out = hookgate_ok(&repo.root, &["init", "--bin", BIN]);
    assert!(
        out.stdout.contains("wrote .git/hooks/pre-commit")
            && out.stdout.contains("wrote .git/hooks/pre-push"),
        "{out:?}"
    );
    for hook in ["pre-commit", "pre-push"] {
        let p = repo.root.join(".git/hooks").join(hook);
        assert_eq!(mode(&p), 0o755, "{hook}");
        let text = read(&p);
        assert!(
            text.starts_with("#!/bin/sh\n# >>> hookgate >>>\n"),
            "{hook}: {text}"
        );
        assert!(text.contains(&format!("git {hook}")), "{hook}: {text}");
    }
    // Another agent's reservation blocks the commit, naming the holder.
    let a = repo.run_as("agent-a", &["reserve", "src/a.rs"]);
    assert_eq!(a.code, 0, "{a:?}");
    let blocked = commit(
        &repo.root,
        "src/a.rs",
        "a\n",
        &[("HOOKGATE_AGENT", "agent-b")],
    );
    assert_ne!(blocked.code, 0, "{blocked:?}");
    assert!(blocked.stderr.contains("agent-a"), "{blocked:?}");
    assert!(
        git_env(&repo.root, &["rev-parse", "-q", "--verify", "HEAD"], &[]).code != 0,
        "nothing was committed"
    );
    // A file nobody holds goes through.
    git(&repo.root, &["reset", "-q"]);
    let ok = commit(
        &repo.root,
        "src/b.rs",
        "b\n",
        &[("HOOKGATE_AGENT", "agent-b")],
    );
    assert_eq!(ok.code, 0, "{ok:?}");
}

#[test]
fn without_hookgate_a_commit_and_a_push_warn_and_go_through() {
    let repo = git_repo();
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "-q", "--bare"]);
    hookgate_ok(
        &repo.root,
        &["init", "--platform", "git", "--bin", "/nowhere/hookgate"],
    );
    let out = commit(&repo.root, "a.txt", "a\n", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains(
            "hookgate: /nowhere/hookgate not found; this commit is not checked by hookgate"
        ),
        "{out:?}"
    );
    assert_eq!(out.stderr.lines().count(), 1, "one line: {out:?}");
    let url = remote.path().display().to_string();
    let out = git_env(&repo.root, &["push", "-q", &url, "main"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("this push is not checked by hookgate"),
        "{out:?}"
    );
}

#[test]
fn chained_pre_commit_hooks_still_run() {
    let fake = Fake::new();
    let hooks = |r: &Repo| r.root.join(".git/hooks");

    // A failing shell hook still blocks, after the guard ran.
    let repo = git_repo();
    write(
        &hooks(&repo).join("pre-commit"),
        "#!/bin/sh\necho user-hook-says-no >&2\nexit 1\n",
        0o755,
    );
    fake.init(&repo.root);
    let out = commit(&repo.root, "a.txt", "a\n", &[]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("user-hook-says-no"), "{out:?}");
    assert_eq!(fake.log(), "git pre-commit\n");

    // A passing shell hook still runs; the commit goes through.
    let repo = git_repo();
    let mark = fake.marker("sh-ran");
    write(
        &hooks(&repo).join("pre-commit"),
        &format!("#!/usr/bin/env bash\nset -e\ntouch '{}'\n", mark.display()),
        0o755,
    );
    fake.init(&repo.root);
    assert!(read(&hooks(&repo).join("pre-commit"))
        .starts_with("#!/usr/bin/env bash\n# >>> hookgate >>>\n"));
    let out = commit(&repo.root, "a.txt", "a\n", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(mark.exists(), "the user's hook ran");

    // The guard says no: the commit is blocked, the user's hook never runs.
    std::fs::remove_file(&mark).unwrap();
    let out = commit(&repo.root, "b.txt", "b\n", &[("FAKE_GUARD_EXIT", "1")]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(!mark.exists(), "blocked before the user's hook");

    // A Python hook is moved aside and chained.
    if !python3() {
        eprintln!("python3 not found: the Python hook is not tried");
        return;
    }
    let repo = git_repo();
    let mark = fake.marker("py-ran");
    let py = format!(
        "#!/usr/bin/env python3\nimport sys\nopen({:?}, 'w').write(' '.join(sys.argv[1:]))\n",
        mark.display().to_string()
    );
    write(&hooks(&repo).join("pre-commit"), &py, 0o755);
    let out = fake.init(&repo.root);
    assert!(
        out.stdout
            .contains("moved .git/hooks/pre-commit to .git/hooks/pre-commit.hookgate-chained"),
        "{out:?}"
    );
    assert_eq!(read(&hooks(&repo).join("pre-commit.hookgate-chained")), py);
    let out = commit(&repo.root, "a.txt", "a\n", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(mark.exists(), "the Python hook ran");
    let out = commit(&repo.root, "b.txt", "b\n", &[("FAKE_GUARD_EXIT", "1")]);
    assert_ne!(out.code, 0, "the guard still blocks: {out:?}");
}

#[test]
fn core_hooks_path_is_respected() {
    let fake = Fake::new();
    let repo = git_repo();
    git(&repo.root, &["config", "core.hooksPath", ".githooks"]);
    let out = fake.init(&repo.root);
    assert!(out.stdout.contains("wrote .githooks/pre-commit"), "{out:?}");
    assert!(
        out.stdout
            .contains(".githooks/pre-commit and .githooks/pre-push are in the work tree"),
        "{out:?}"
    );
    assert_eq!(mode(&repo.root.join(".githooks/pre-push")), 0o755);
    assert!(!repo.root.join(".git/hooks/pre-commit").exists());
    // From a subdirectory too: the hooks are the work tree's.
    std::fs::create_dir_all(repo.root.join("sub")).unwrap();
    assert!(hookgate_ok(
        &repo.root.join("sub"),
        &["init", "--platform", "git", "--bin", &fake.bin]
    )
    .stdout
    .contains("nothing to change"));
    let out = commit(&repo.root, "a.txt", "a\n", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(fake.log(), "git pre-commit\n");
    hookgate_ok(&repo.root, &["uninstall", "--platform", "git"]);
    assert!(!repo.root.join(".githooks/pre-commit").exists());
    assert!(!repo.root.join(".githooks/pre-push").exists());
}

/// husky 9's `_/h`, which each stub in `_` sources: it runs the user script
/// `.husky/<hook>` with `sh -e`.
const HUSKY_H: &str = r#"#!/usr/bin/env sh
[ "$HUSKY" = "2" ] && set -x
n=$(basename "$0")
s=$(dirname "$(dirname "$0")")/$n

[ ! -f "$s" ] && exit 0

i="${XDG_CONFIG_HOME:-$HOME/.config}/husky/init.sh"
[ -f "$i" ] && . "$i"

[ "${HUSKY-}" = "0" ] && exit 0

export PATH="node_modules/.bin:$PATH"
sh -e "$s" "$@"
c=$?

[ $c != 0 ] && echo "husky - $n script failed (code $c)"
[ $c = 127 ] && echo "husky - command not found in PATH=$PATH"
exit $c
"#;

#[test]
fn husky_v9_gets_the_block_in_the_user_script() {
    let fake = Fake::new();
    let repo = git_repo();
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "-q", "--bare"]);
    let husky = repo.root.join(".husky");
    write(&husky.join("_/h"), HUSKY_H, 0o644);
    write(&husky.join("_/husky.sh"), "", 0o644);
    write(&husky.join("_/.gitignore"), "*", 0o644);
    for hook in ["pre-commit", "pre-push", "commit-msg"] {
        write(
            &husky.join("_").join(hook),
            "#!/usr/bin/env sh\n. \"${0%/*}/h\"",
            0o755,
        );
    }
    // What `husky init` writes: no shebang, not executable.
    let mark = fake.marker("husky-ran");
    let user = format!("touch '{}'\n", mark.display());
    write(&husky.join("pre-commit"), &user, 0o644);
    git(&repo.root, &["config", "core.hooksPath", ".husky/_"]);
    let before = snapshot(&husky);

    let out = fake.init(&repo.root);
    assert!(out.stdout.contains("updated .husky/pre-commit"), "{out:?}");
    assert!(out.stdout.contains("wrote .husky/pre-push"), "{out:?}");
    let text = read(&husky.join("pre-commit"));
    assert!(
        text.starts_with("# >>> hookgate >>>\n")
            && text.ends_with(&format!("<<< hookgate <<<\n{user}")),
        "{text}"
    );
    assert_eq!(mode(&husky.join("pre-commit")), 0o644, "mode kept");
    let after = snapshot(&husky);
    for (p, v) in &before {
        if p.starts_with("_") {
            assert_eq!(
                after.get(p),
                Some(v),
                "husky's stub {} untouched",
                p.display()
            );
        }
    }

    let out = commit(&repo.root, "a.txt", "a\n", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(mark.exists(), "the user script ran");
    let out = commit(&repo.root, "b.txt", "b\n", &[("FAKE_GUARD_EXIT", "1")]);
    assert_ne!(out.code, 0, "{out:?}");
    let url = remote.path().display().to_string();
    git(&repo.root, &["push", "-q", &url, "main"]);
    assert!(
        fake.log().contains(&format!("git pre-push {url} {url}\n")),
        "{}",
        fake.log()
    );

    hookgate_ok(&repo.root, &["uninstall"]);
    assert_eq!(snapshot(&husky), before, "byte for byte");
}

/// husky 5–8's `_/husky.sh`, which each user script in `.husky` (the
/// hooks directory) sources first: it re-runs the script under `sh -e`.
const HUSKY_8_SH: &str = r#"#!/usr/bin/env sh
if [ -z "$husky_skip_init" ]; then
  readonly hook_name="$(basename -- "$0")"
  if [ "$HUSKY" = "0" ]; then
    exit 0
  fi
  readonly husky_skip_init=1
  export husky_skip_init
  sh -e "$0" "$@"
  exitCode="$?"
  if [ $exitCode != 0 ]; then
    echo "husky - $hook_name hook exited with code $exitCode (error)"
  fi
  exit $exitCode
fi
"#;

#[test]
fn husky_v8_block_runs_once_after_husky_sh() {
    let fake = Fake::new();
    let repo = git_repo();
    let husky = repo.root.join(".husky");
    write(&husky.join("_/husky.sh"), HUSKY_8_SH, 0o644);
    write(&husky.join("_/.gitignore"), "*", 0o644);
    let mark = fake.marker("husky8-ran");
    let source = ". \"$(dirname -- \"$0\")/_/husky.sh\"\n";
    let user = format!("#!/usr/bin/env sh\n{source}\ntouch '{}'\n", mark.display());
    write(&husky.join("pre-commit"), &user, 0o755);
    git(&repo.root, &["config", "core.hooksPath", ".husky"]);
    let before = snapshot(&husky);
    fake.init(&repo.root);
    let text = read(&husky.join("pre-commit"));
    assert!(
        text.starts_with(&format!("#!/usr/bin/env sh\n{source}# >>> hookgate >>>\n")),
        "{text}"
    );
    let out = commit(&repo.root, "a.txt", "a\n", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(mark.exists(), "the user script ran");
    assert_eq!(
        fake.log(),
        "git pre-commit\n",
        "once, not once per run of the script"
    );
    hookgate_ok(&repo.root, &["uninstall"]);
    assert_eq!(snapshot(&husky), before, "byte for byte");
}

/// A pre-push hook that keeps its stdin and arguments, as `kind` ("sh" or
/// "python").
fn stdin_keeper(kind: &str, out: &Path) -> String {
    let out = out.display().to_string();
    match kind {
        "sh" => format!("#!/bin/sh\ncat >'{out}.stdin'\necho \"$@\" >'{out}.args'\n"),
        _ => format!(
            "#!/usr/bin/env python3\nimport sys\nopen({:?}, 'w').write(sys.stdin.read())\nopen({:?}, 'w').write(' '.join(sys.argv[1:]) + '\\n')\n",
            format!("{out}.stdin"),
            format!("{out}.args"),
        ),
    }
}

#[test]
fn chained_pre_push_hooks_receive_all_of_stdin() {
    let kinds: &[&str] = if python3() {
        &["sh", "python"]
    } else {
        &["sh"]
    };
    for kind in kinds {
        let fake = Fake::new();
        let repo = git_repo();
        let remote = tempfile::tempdir().unwrap();
        git(remote.path(), &["init", "-q", "--bare"]);
        let url = remote.path().display().to_string();
        git(&repo.root, &["remote", "add", "origin", &url]);
        let keep = fake.marker("hook");
        write(
            &repo.root.join(".git/hooks/pre-push"),
            &stdin_keeper(kind, &keep),
            0o755,
        );
        fake.init(&repo.root);
        assert_eq!(
            repo.root
                .join(".git/hooks/pre-push.hookgate-chained")
                .exists(),
            *kind == "python",
            "{kind}"
        );
        assert_eq!(commit(&repo.root, "a.txt", "a\n", &[]).code, 0);
        git(&repo.root, &["branch", "feature"]);
        git(&repo.root, &["push", "-q", "origin", "main", "feature"]);
        let hook_in = read(&PathBuf::from(format!("{}.stdin", keep.display())));
        let guard_in = read(&fake.dir.join("guard-stdin"));
        assert_eq!(hook_in, guard_in, "{kind}: the same stdin");
        assert_eq!(hook_in.lines().count(), 2, "{kind}: {hook_in}");
        assert!(
            hook_in.contains("refs/heads/main ") && hook_in.contains("refs/heads/feature "),
            "{kind}: {hook_in}"
        );
        assert_eq!(
            read(&PathBuf::from(format!("{}.args", keep.display()))),
            format!("origin {url}\n"),
            "{kind}"
        );
        assert!(
            fake.log().contains(&format!("git pre-push origin {url}\n")),
            "{kind}: {}",
            fake.log()
        );
        // The guard blocks the push; the temporary copy of stdin is gone.
        git(&repo.root, &["branch", "other"]);
        let out = git_env(
            &repo.root,
            &["push", "-q", "origin", "other"],
            &[
                ("FAKE_GUARD_EXIT", "1"),
                ("TMPDIR", &fake.dir.display().to_string()),
            ],
        );
        assert_ne!(out.code, 0, "{kind}: {out:?}");
        assert!(
            !std::fs::read_dir(&fake.dir).unwrap().any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("hookgate-pre-push")),
            "{kind}: temporary file left"
        );
    }
}

#[test]
fn init_twice_changes_nothing_and_uninstall_restores_every_file() {
    let fake = Fake::new();
    let repo = git_repo();
    let hooks = repo.root.join(".git/hooks");
    // A shell hook with no final newline, mode 700; a CRLF shell hook in
    // pre-push; a hook hookgate does not touch.
    write(
        &hooks.join("pre-commit"),
        "#!/bin/bash -e\necho pre-commit",
        0o700,
    );
    write(&hooks.join("pre-push"), "#!/bin/sh\r\nexit 0\r\n", 0o750);
    write(&hooks.join("post-commit"), "#!/bin/sh\necho done\n", 0o755);
    let original = snapshot(&hooks);

    let dry = hookgate_ok(
        &repo.root,
        &["init", "--platform", "git", "--bin", &fake.bin, "--dry-run"],
    );
    assert!(
        dry.stdout.contains("+++ b/.git/hooks/pre-commit"),
        "{dry:?}"
    );
    assert!(dry.stdout.contains("+# >>> hookgate >>>"), "{dry:?}");
    assert_eq!(snapshot(&hooks), original, "--dry-run changes nothing");

    fake.init(&repo.root);
    let installed = snapshot(&hooks);
    assert_ne!(installed, original);
    assert_eq!(mode(&hooks.join("pre-commit")), 0o700, "mode kept");
    assert_eq!(mode(&hooks.join("pre-push")), 0o750, "mode kept");
    let twice = fake.init(&repo.root);
    assert!(twice.stdout.contains("nothing to change"), "{twice:?}");
    assert_eq!(snapshot(&hooks), installed, "idempotent");
    // The commit still runs both.
    let out = commit(&repo.root, "a.txt", "a\n", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(fake.log(), "git pre-commit\n");

    // Another binary: the block is rewritten in place.
    let moved = hookgate_ok(
        &repo.root,
        &["init", "--platform", "git", "--bin", "/opt/hookgate"],
    );
    assert!(
        moved.stdout.contains("updated .git/hooks/pre-commit"),
        "{moved:?}"
    );
    assert!(read(&hooks.join("pre-commit")).contains("hookgate_bin=/opt/hookgate\n"));

    let moved = snapshot(&hooks);
    let dry = hookgate_ok(&repo.root, &["uninstall", "--dry-run"]);
    assert!(dry.stdout.contains("-# >>> hookgate >>>"), "{dry:?}");
    assert_eq!(snapshot(&hooks), moved, "--dry-run changes nothing");
    hookgate_ok(&repo.root, &["uninstall"]);
    assert_eq!(snapshot(&hooks), original, "byte for byte");
    let again = hookgate_ok(&repo.root, &["uninstall", "--platform", "git"]);
    assert!(again.stdout.contains("nothing to remove"), "{again:?}");

    // A Python hook and a symbolic link are chained and put back.
    if python3() {
        write(
            &hooks.join("pre-commit"),
            "#!/usr/bin/env python3\nprint('hi')\n",
            0o755,
        );
    }
    std::fs::remove_file(hooks.join("pre-push")).unwrap();
    write(
        &repo.root.join("scripts/push-check"),
        "#!/bin/sh\nexit 0\n",
        0o755,
    );
    std::os::unix::fs::symlink("../../scripts/push-check", hooks.join("pre-push")).unwrap();
    let original = snapshot(&hooks);
    let out = fake.init(&repo.root);
    assert!(
        out.stdout
            .contains("moved .git/hooks/pre-push to .git/hooks/pre-push.hookgate-chained"),
        "{out:?}"
    );
    assert!(fake.init(&repo.root).stdout.contains("nothing to change"));
    let remote = fake.marker("remote.git");
    git(&fake.dir, &["init", "-q", "--bare", "remote.git"]);
    let url = remote.display().to_string();
    git(&repo.root, &["push", "-q", &url, "main"]);
    assert!(fake.log().contains("git pre-push"), "{}", fake.log());
    hookgate_ok(&repo.root, &["uninstall"]);
    assert_eq!(snapshot(&hooks), original, "byte for byte, links too");
}

#[test]
fn a_hook_git_ignores_stays_ignored() {
    let fake = Fake::new();
    let repo = git_repo();
    let hook = repo.root.join(".git/hooks/pre-commit");
    write(
        &hook,
        "#!/bin/sh\necho ignored-hook-ran >&2\nexit 1\n",
        0o644,
    );
    let original = snapshot(&repo.root.join(".git/hooks"));
    let out = fake.init(&repo.root);
    assert!(
        out.stdout
            .contains("is not executable, so git ignores it: it stays ignored"),
        "{out:?}"
    );
    let out = commit(&repo.root, "a.txt", "a\n", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stderr.contains("ignored-hook-ran"), "{out:?}");
    assert_eq!(fake.log(), "git pre-commit\n", "the guard runs");
    hookgate_ok(&repo.root, &["uninstall"]);
    assert_eq!(snapshot(&repo.root.join(".git/hooks")), original);
    assert_eq!(mode(&hook), 0o644);
}

#[test]
fn init_in_a_linked_worktree_writes_the_common_hooks_dir() {
    let fake = Fake::new();
    let repo = git_repo();
    assert_eq!(commit(&repo.root, "a.txt", "a\n", &[]).code, 0);
    let parent = tempfile::tempdir().unwrap();
    let wt = parent.path().canonicalize().unwrap().join("wt");
    git(
        &repo.root,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "side",
            &wt.display().to_string(),
        ],
    );
    let out = fake.init(&wt);
    let common = repo.root.join(".git/hooks");
    assert!(
        out.stdout
            .contains(&format!("wrote {}", common.join("pre-commit").display())),
        "{out:?}"
    );
    assert!(read(&common.join("pre-commit")).contains("# >>> hookgate >>>"));
    assert!(!repo.root.join(".git/worktrees/wt/hooks").exists());
    // Both work trees run it.
    assert_eq!(commit(&wt, "b.txt", "b\n", &[]).code, 0);
    assert_eq!(commit(&repo.root, "c.txt", "c\n", &[]).code, 0);
    assert_eq!(fake.log(), "git pre-commit\ngit pre-commit\n");
    hookgate_ok(&wt, &["uninstall", "--platform", "git"]);
    assert!(!common.join("pre-commit").exists());
    assert!(!common.join("pre-push").exists());
}

#[test]
fn no_git_hooks_and_which_uninstall_removes_them() {
    let repo = git_repo();
    let hooks = repo.root.join(".git/hooks");
    hookgate_ok(
        &repo.root,
        &[
            "init",
            "--no-git-hooks",
            "--platform",
            "claude",
            "--bin",
            BIN,
        ],
    );
    assert!(repo.root.join(".claude/settings.json").exists());
    assert!(!hooks.join("pre-commit").exists());
    assert!(!hooks.join("pre-push").exists());
    // Installed by default, whatever platforms are named.
    hookgate_ok(&repo.root, &["init", "--platform", "claude", "--bin", BIN]);
    assert!(hooks.join("pre-commit").exists() && hooks.join("pre-push").exists());
    // Uninstalling a platform leaves them; `--platform git` (or no platform) takes them out.
    hookgate_ok(&repo.root, &["uninstall", "--platform", "claude"]);
    assert!(!repo.root.join(".claude/settings.json").exists());
    assert!(hooks.join("pre-commit").exists());
    let out = hookgate_ok(&repo.root, &["uninstall", "--platform", "git"]);
    assert!(
        out.stdout.contains("removed .git/hooks/pre-commit"),
        "{out:?}"
    );
    assert!(!hooks.join("pre-commit").exists() && !hooks.join("pre-push").exists());
}
