//! `hookgate commit` and the git guards against real git (issue: git
//! without lost or misattributed work). Every test works in a fresh
//! repository, with git isolated from the user's configuration.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{shared_cache, Out, BIN};

/// A real git repository in a temporary directory.
struct Git {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

fn isolate(c: &mut Command) -> &mut Command {
    c.env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("HOOKGATE_POLICY")
        .env_remove("HOOKGATE_STORE")
        .env_remove("HOOKGATE_AGENT")
        .env_remove("HOOKGATE_GUARD")
        .env("HOOKGATE_CACHE", shared_cache())
}

fn out(o: std::process::Output) -> Out {
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

impl Git {
    fn new() -> Git {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("repo").to_path_buf();
        std::fs::create_dir_all(&root).unwrap();
        let root = root.canonicalize().unwrap();
        let g = Git { _dir: dir, root };
        g.ok(&["init", "-q", "-b", "main"]);
        g.ok(&["config", "user.email", "t@example.com"]);
        g.ok(&["config", "user.name", "Tester"]);
        g
    }

    /// A repository with one commit of `base.txt` and `src/lib.rs`.
    fn with_commit() -> Git {
        let g = Git::new();
        g.write("base.txt", "base\n");
        g.write("src/lib.rs", "pub fn f() {}\n");
        g.ok(&["add", "."]);
        g.ok(&["commit", "-q", "-m", "base"]);
        g
    }

    fn git(&self, args: &[&str]) -> Out {
        out(
            isolate(Command::new("git").args(args).current_dir(&self.root))
                .stdin(Stdio::null())
                .output()
                .expect("git"),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.git(args);
        assert_eq!(o.code, 0, "git {args:?}: {o:?}");
        o.stdout
    }

    fn write(&self, rel: &str, body: &str) {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }

    fn hg_cmd(&self, agent: Option<&str>, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        isolate(c.args(args).current_dir(&self.root));
        if let Some(a) = agent {
            c.env("HOOKGATE_AGENT", a);
        }
        c
    }

    /// `hookgate <args>` as `agent`.
    fn hg(&self, agent: Option<&str>, args: &[&str]) -> Out {
        out(self
            .hg_cmd(agent, args)
            .stdin(Stdio::null())
            .output()
            .expect("hookgate"))
    }

    /// `hookgate <args>` as `agent`, with `stdin`.
    fn hg_stdin(&self, agent: Option<&str>, args: &[&str], stdin: &[u8]) -> Out {
        let mut child = self
            .hg_cmd(agent, args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hookgate");
        use std::io::Write as _;
        // It may exit before reading all of it: a closed pipe is fine.
        let _ = child.stdin.take().expect("stdin").write_all(stdin);
        out(child.wait_with_output().expect("hookgate"))
    }

    /// A Claude `PreToolUse` Write of `rel` by session `agent`, then the write.
    fn agent_writes(&self, agent: &str, rel: &str, body: &str) {
        self.agent_tool(
            agent,
            "Write",
            serde_json::json!({"file_path": self.root.join(rel), "content": body}),
        );
        self.write(rel, body);
    }

    /// A Claude `PreToolUse` of `tool` with `input` by session `agent`.
    fn agent_tool(&self, agent: &str, tool: &str, input: serde_json::Value) {
        let payload = serde_json::json!({
            "session_id": agent,
            "transcript_path": "/tmp/t.jsonl",
            "cwd": self.root,
            "hook_event_name": "PreToolUse",
            "tool_name": tool,
            "tool_input": input,
            "tool_use_id": "toolu_1",
        })
        .to_string();
        let o = self.hg_stdin(None, &["hook", "claude"], payload.as_bytes());
        assert_eq!(o.code, 0, "{o:?}");
        assert!(!o.stdout.contains("\"deny\""), "denied: {o:?}");
    }

    fn hook(&self, name: &str, body: &str) {
        let p = self.root.join(".git/hooks").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, body).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A pre-commit hook that runs `script` (with the shared index) the
    /// first time only: another committer landing meanwhile.
    fn upstream_once(&self, script: &str) {
        let flag = self.root.join("../once");
        std::fs::write(&flag, "").unwrap();
        self.hook(
            "pre-commit",
            &format!(
                "#!/bin/sh\nif [ -e '{f}' ]; then rm '{f}'; (unset GIT_INDEX_FILE; {script}) || exit 1; fi\n",
                f = flag.display()
            ),
        );
    }

    /// `git <args>` as `agent`, with extra environment.
    fn git_as(&self, agent: &str, args: &[&str], env: &[(&str, &str)]) -> Out {
        out(
            isolate(Command::new("git").args(args).current_dir(&self.root))
                .env("HOOKGATE_AGENT", agent)
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .output()
                .expect("git"),
        )
    }

    /// Files changed by `rev` (`--name-only`).
    fn files_of(&self, rev: &str) -> Vec<String> {
        self.ok(&[
            "show",
            "--no-renames",
            "--name-only",
            "--format=",
            "--root",
            rev,
        ])
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
    }

    /// Everything a refused commit must leave as it was: the shared index,
    /// every ref and HEAD, and the work tree's files.
    fn state(&self) -> State {
        let mut files = BTreeMap::new();
        walk(&self.root, &self.root, &mut files);
        let gd = PathBuf::from(self.ok(&["rev-parse", "--absolute-git-dir"]).trim());
        State {
            index: std::fs::read(gd.join("index")).unwrap_or_default(),
            refs: self.ok(&["for-each-ref", "--format=%(refname) %(objectname)"]),
            head: std::fs::read_to_string(gd.join("HEAD")).unwrap(),
            files,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
struct State {
    index: Vec<u8>,
    refs: String,
    head: String,
    files: BTreeMap<String, Vec<u8>>,
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
        if rel == ".git" {
            continue;
        }
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.insert(rel, std::fs::read(&p).unwrap_or_default());
        }
    }
}

fn trailer(g: &Git, rev: &str) -> String {
    g.ok(&[
        "log",
        "-1",
        "--format=%(trailers:key=Hookgate-Agent,valueonly)",
        rev,
    ])
    .trim()
    .to_string()
}

#[test]
fn the_first_commit_of_an_unborn_branch_works_and_names_its_agent() {
    let g = Git::new();
    g.write("a.txt", "a\n");
    g.write("other.txt", "someone else's\n");
    let o = g.hg(Some("agent-a"), &["commit", "-m", "first", "a.txt"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.contains("(root-commit)"), "{o:?}");
    assert_eq!(g.files_of("HEAD"), ["a.txt"]);
    assert_eq!(trailer(&g, "HEAD"), "agent-a");
    assert!(g
        .ok(&["log", "-1", "--format=%B"])
        .contains("Hookgate-Session: agent-a"));
    // The shared index knows the committed file; the other stays untracked.
    let status = g.ok(&["status", "--porcelain"]);
    assert_eq!(status.trim(), "?? other.txt", "{status}");
    assert_eq!(g.ok(&["fsck", "--strict"]).trim(), "");
}

#[test]
fn a_commit_takes_only_the_agents_paths_and_leaves_others_staged_work_alone() {
    let g = Git::with_commit();
    // Agent B staged its work in the shared index, and has more unstaged.
    g.write("b.txt", "b's new file\n");
    g.ok(&["add", "b.txt"]);
    g.write("base.txt", "b's unstaged edit\n");
    // Agent A changes its own file, adds one and deletes one.
    g.write("src/lib.rs", "pub fn f() { /* a */ }\n");
    g.write("src/new.rs", "// a\n");
    let o = g.hg(
        Some("agent-a"),
        &["commit", "-m", "a's work", "src/lib.rs", "src/new.rs"],
    );
    assert_eq!(o.code, 0, "{o:?}");
    let mut files = g.files_of("HEAD");
    files.sort();
    assert_eq!(files, ["src/lib.rs", "src/new.rs"]);
    // B's staged file is still staged, its unstaged edit still unstaged,
    // and A's paths are clean.
    let status = g.ok(&["status", "--porcelain"]);
    let mut lines: Vec<&str> = status.lines().collect();
    lines.sort();
    assert_eq!(lines, [" M base.txt", "A  b.txt"], "{status}");
    // Then B commits what it staged — only that.
    let o = g.hg(Some("agent-b"), &["commit", "-m", "b's work", "b.txt"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(g.files_of("HEAD"), ["b.txt"]);
    assert_eq!(trailer(&g, "HEAD"), "agent-b");
    assert_eq!(trailer(&g, "HEAD~1"), "agent-a");
    assert_eq!(g.ok(&["status", "--porcelain"]).trim(), "M base.txt");
}

#[test]
fn deletions_and_renames_are_committed() {
    let g = Git::with_commit();
    std::fs::rename(g.root.join("src/lib.rs"), g.root.join("src/core.rs")).unwrap();
    std::fs::remove_file(g.root.join("base.txt")).unwrap();
    let o = g.hg(
        Some("agent-a"),
        &[
            "commit",
            "-m",
            "move",
            "src/lib.rs",
            "src/core.rs",
            "base.txt",
        ],
    );
    assert_eq!(o.code, 0, "{o:?}");
    let tree = g.ok(&["ls-tree", "-r", "--name-only", "HEAD"]);
    assert_eq!(tree.trim(), "src/core.rs");
    let renames = g.ok(&["show", "-M", "--name-status", "--format=", "HEAD"]);
    assert!(
        renames.contains("R100\tsrc/lib.rs\tsrc/core.rs"),
        "{renames}"
    );
    assert_eq!(g.ok(&["status", "--porcelain"]).trim(), "");
}

#[test]
fn without_paths_it_commits_what_the_agent_wrote_and_dry_run_says_why() {
    let g = Git::with_commit();
    g.agent_writes("agent-a", "src/a.rs", "// a\n");
    g.agent_writes("agent-b", "src/b.rs", "// b\n");
    g.write("human.txt", "a person's file\n");
    let dry = g.hg(Some("agent-a"), &["commit", "--dry-run"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(dry.stdout.contains("A src/a.rs"), "{dry:?}");
    assert!(dry.stdout.contains("src/b.rs"), "{dry:?}");
    assert!(dry.stdout.contains("left out"), "{dry:?}");
    assert!(
        dry.stdout.contains("no record of a write by any agent"),
        "{dry:?}"
    );
    // The dry run changed nothing.
    assert_eq!(g.ok(&["rev-list", "--count", "HEAD"]).trim(), "1");
    let o = g.hg(Some("agent-a"), &["commit", "-m", "a"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(g.files_of("HEAD"), ["src/a.rs"]);
    let o = g.hg(Some("agent-b"), &["commit", "-m", "b"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(g.files_of("HEAD"), ["src/b.rs"]);
    // Nothing of A's is left.
    let o = g.hg(Some("agent-a"), &["commit", "-m", "again"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("nothing of yours to commit"), "{o:?}");
}

#[test]
fn a_commit_releases_the_automatic_lease_and_tells_recent_readers() {
    let g = Git::with_commit();
    g.agent_writes("agent-a", "src/a.rs", "// a\n");
    let locks = g.hg(Some("agent-a"), &["locks", "--mine"]);
    assert!(locks.stdout.contains("src/a.rs"), "{locks:?}");
    g.agent_tool(
        "agent-c",
        "Read",
        serde_json::json!({"file_path": g.root.join("src/a.rs")}),
    );
    // A shared reservation elsewhere hears nothing: a committed file is that
    // file, not a directory that could hold `gen/`.
    let r = g.hg(
        Some("agent-d"),
        &["reserve", "**/gen/**", "--mode", "shared"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let o = g.hg(Some("agent-a"), &["commit", "-m", "a", "src/a.rs"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.contains("released r"), "{o:?}");
    let locks = g.hg(Some("agent-a"), &["locks", "--mine"]);
    assert!(!locks.stdout.contains("src/a.rs"), "{locks:?}");
    let inbox = g.hg(Some("agent-c"), &["inbox"]);
    assert!(inbox.stdout.contains("committed"), "{inbox:?}");
    let inbox = g.hg(Some("agent-d"), &["inbox"]);
    assert!(inbox.stdout.contains("no messages"), "{inbox:?}");
}

#[test]
fn bad_states_are_refused_and_change_nothing() {
    let g = Git::with_commit();
    g.write("src/lib.rs", "changed\n");
    g.write("staged.txt", "x\n");
    g.ok(&["add", "staged.txt"]);

    // A path outside the repository, and one inside .git.
    for bad in ["../outside.txt", "/etc/passwd", ".git/config"] {
        let before = g.state();
        let o = g.hg(Some("a"), &["commit", "-m", "x", bad]);
        assert_eq!(o.code, 1, "{bad}: {o:?}");
        assert!(o.stderr.contains("outside the repository"), "{o:?}");
        assert_eq!(g.state(), before, "{bad}");
    }
    // A path with no change: an empty commit.
    let before = g.state();
    let o = g.hg(Some("a"), &["commit", "-m", "x", "base.txt"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("nothing to commit"), "{o:?}");
    assert_eq!(g.state(), before);
    // No message.
    let o = g.hg(Some("a"), &["commit", "src/lib.rs"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("commit message"), "{o:?}");
    assert_eq!(g.state(), before);
    // A path that does not exist.
    let o = g.hg(Some("a"), &["commit", "-m", "x", "nope.txt"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("nope.txt"), "{o:?}");
    assert_eq!(g.state(), before);

    // Detached HEAD.
    g.ok(&["checkout", "-q", "--detach"]);
    let before = g.state();
    let o = g.hg(Some("a"), &["commit", "-m", "x", "src/lib.rs"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("HEAD is detached"), "{o:?}");
    assert_eq!(g.state(), before);
    g.ok(&["checkout", "-q", "main"]);

    // A merge in progress.
    g.ok(&["checkout", "-q", "-b", "side"]);
    g.write("base.txt", "side\n");
    g.ok(&["commit", "-q", "-am", "side"]);
    g.ok(&["checkout", "-q", "main"]);
    g.write("base.txt", "main\n");
    g.ok(&["commit", "-q", "-m", "main", "base.txt"]);
    assert_ne!(g.git(&["merge", "-q", "side"]).code, 0);
    let before = g.state();
    let o = g.hg(Some("a"), &["commit", "-m", "x", "src/lib.rs"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("a merge is in progress"), "{o:?}");
    assert_eq!(g.state(), before);
}

#[test]
fn the_repositorys_hooks_run_against_the_private_index() {
    let g = Git::with_commit();
    let seen = g.root.join("../seen.txt");
    g.hook(
        "pre-commit",
        &format!(
            "#!/bin/sh\ngit diff --cached --name-only > '{}'\necho \"agent=$HOOKGATE_AGENT\" >> '{}'\n",
            seen.display(),
            seen.display()
        ),
    );
    g.hook(
        "commit-msg",
        "#!/bin/sh\nprintf '\\nReviewed-by: hook\\n' >> \"$1\"\n",
    );
    // Another agent's staged file must not be what the hooks see.
    g.write("theirs.txt", "x\n");
    g.ok(&["add", "theirs.txt"]);
    g.write("src/lib.rs", "mine\n");
    let o = g.hg(Some("agent-a"), &["commit", "-m", "mine", "src/lib.rs"]);
    assert_eq!(o.code, 0, "{o:?}");
    let saw = std::fs::read_to_string(&seen).unwrap();
    assert_eq!(saw, "src/lib.rs\nagent=agent-a\n");
    let body = g.ok(&["log", "-1", "--format=%B"]);
    assert!(body.contains("Reviewed-by: hook"), "{body}");
    assert!(body.contains("Hookgate-Agent: agent-a"), "{body}");

    // A failing pre-commit hook blocks, and changes nothing.
    g.hook("pre-commit", "#!/bin/sh\necho 'lint failed' >&2\nexit 1\n");
    g.write("src/lib.rs", "mine again\n");
    let before = g.state();
    let o = g.hg(Some("agent-a"), &["commit", "-m", "mine", "src/lib.rs"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("lint failed"), "{o:?}");
    assert!(o.stderr.contains("pre-commit hook failed"), "{o:?}");
    assert_eq!(g.state(), before);
}

#[test]
fn when_the_branch_moves_meanwhile_the_commit_is_rebuilt_on_it() {
    let g = Git::with_commit();
    // The first time it runs, the pre-commit hook lets a plain `git commit`
    // of another path land, as an agent outside hookgate would.
    g.upstream_once("echo up > base.txt; git commit -q --no-verify -m upstream -- base.txt");
    g.write("src/lib.rs", "mine\n");
    let o = g.hg(Some("agent-a"), &["commit", "-m", "mine", "src/lib.rs"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.contains("attempt 2"), "{o:?}");
    let log = g.ok(&["log", "--format=%s", "--first-parent"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        ["mine", "upstream", "base"]
    );
    assert_eq!(g.files_of("HEAD"), ["src/lib.rs"]);
    assert_eq!(g.files_of("HEAD~1"), ["base.txt"]);
    assert_eq!(g.ok(&["status", "--porcelain"]).trim(), "");
}

#[test]
fn an_upstream_change_to_the_agents_path_stops_the_commit() {
    let g = Git::with_commit();
    // Upstream commits its own version of the agent's file, then the work
    // tree goes back to the agent's version.
    g.upstream_once(
        "cp src/lib.rs ../keep; echo theirs > src/lib.rs; git commit -q --no-verify -m upstream -- src/lib.rs; cp ../keep src/lib.rs",
    );
    g.write("src/lib.rs", "mine\n");
    let o = g.hg(Some("agent-a"), &["commit", "-m", "mine", "src/lib.rs"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("changed upstream"), "{o:?}");
    assert!(o.stderr.contains("src/lib.rs"), "{o:?}");
    assert_eq!(
        g.ok(&["log", "-1", "--format=%s"]).trim(),
        "upstream",
        "nothing of the agent's was committed"
    );
    assert_eq!(
        std::fs::read_to_string(g.root.join("src/lib.rs")).unwrap(),
        "mine\n",
        "the work tree is untouched"
    );
}

#[test]
fn a_commit_killed_holding_the_lock_does_not_wedge_the_next() {
    let g = Git::with_commit();
    let started = g.root.join("../started");
    let slow = g.root.join("../slow");
    std::fs::write(&slow, "").unwrap();
    g.hook(
        "pre-commit",
        &format!(
            "#!/bin/sh\nif [ -e '{s}' ]; then rm '{s}'; touch '{t}'; sleep 30; fi\n",
            s = slow.display(),
            t = started.display()
        ),
    );
    g.write("src/lib.rs", "first try\n");
    let mut child = g
        .hg_cmd(Some("agent-a"), &["commit", "-m", "a", "src/lib.rs"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !started.exists() {
        assert!(t0.elapsed() < Duration::from_secs(20), "hook never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    let lock = g.root.join(".git/hookgate/commit.lock");
    let record = std::fs::read_to_string(&lock).unwrap();
    assert!(record.contains("agent-a"), "{record}");
    child.kill().unwrap();
    child.wait().unwrap();
    let before = g.state();
    assert_eq!(g.ok(&["rev-list", "--count", "HEAD"]).trim(), "1");
    // The next commit takes the lock at once, says what happened, and works.
    let t1 = Instant::now();
    let o = g.hg(Some("agent-b"), &["commit", "-m", "b", "src/lib.rs"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(t1.elapsed() < Duration::from_secs(20));
    assert!(o.stderr.contains("interrupted"), "{o:?}");
    assert!(o.stderr.contains("no longer running"), "{o:?}");
    assert_ne!(g.state().refs, before.refs);
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), "");
    // The killed process's private index is gone too.
    let left: Vec<_> = std::fs::read_dir(g.root.join(".git/hookgate"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("index."))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

fn install_guards(g: &Git) {
    g.hook(
        "pre-commit",
        &format!("#!/bin/sh\nexec '{BIN}' git pre-commit\n"),
    );
    g.hook(
        "pre-push",
        &format!("#!/bin/sh\nexec '{BIN}' git pre-push \"$@\"\n"),
    );
}

#[test]
fn the_guard_blocks_a_commit_of_another_agents_reserved_path_naming_it() {
    let g = Git::with_commit();
    install_guards(&g);
    let r = g.hg(
        Some("agent-a"),
        &["reserve", "src/lib.rs", "--reason", "refactoring"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    g.write("src/lib.rs", "b's change\n");
    g.ok(&["add", "src/lib.rs"]);
    // B through plain git.
    let o = g.git_as("agent-b", &["commit", "-q", "-m", "b"], &[]);
    assert_ne!(o.code, 0, "{o:?}");
    assert!(o.stderr.contains("agent-a"), "{o:?}");
    assert!(o.stderr.contains("commit blocked"), "{o:?}");
    assert_eq!(g.ok(&["rev-list", "--count", "HEAD"]).trim(), "1");
    // B through hookgate commit: the same guard runs as its pre-commit hook.
    let o = g.hg(Some("agent-b"), &["commit", "-m", "b", "src/lib.rs"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("agent-a"), "{o:?}");
    // A itself may commit it.
    let o = g.hg(Some("agent-a"), &["commit", "-m", "a", "src/lib.rs"]);
    assert_eq!(o.code, 0, "{o:?}");
    // HOOKGATE_GUARD=warn lets a person through with a warning.
    g.write("src/lib.rs", "again\n");
    g.ok(&["add", "src/lib.rs"]);
    let o = g.git_as(
        "agent-b",
        &["commit", "-q", "-m", "person"],
        &[("HOOKGATE_GUARD", "warn")],
    );
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stderr.contains("warning"), "{o:?}");
    assert!(o.stderr.contains("agent-a"), "{o:?}");
}

#[test]
fn the_push_guard_reads_the_pushed_commits() {
    let g = Git::with_commit();
    let remote = g.root.join("../remote.git");
    g.ok(&["init", "-q", "--bare", remote.to_str().unwrap()]);
    g.ok(&["remote", "add", "origin", remote.to_str().unwrap()]);
    g.ok(&["push", "-q", "origin", "main"]);
    install_guards(&g);
    g.hg(Some("agent-a"), &["reserve", "src/**", "--reason", "mine"]);
    // A's own commit of its reserved path, pushed by B: A's finished work.
    g.write("src/lib.rs", "a\n");
    let o = g.hg(Some("agent-a"), &["commit", "-m", "a", "src/lib.rs"]);
    assert_eq!(o.code, 0, "{o:?}");
    let push = |agent: &str| g.git_as(agent, &["push", "-q", "origin", "main"], &[]);
    let o = push("agent-b");
    assert_eq!(o.code, 0, "{o:?}");
    // A plain commit by B of A's path (the guard skipped), pushed by B: blocked.
    g.write("src/lib.rs", "b\n");
    g.ok(&["commit", "-q", "--no-verify", "-am", "b sneaks"]);
    let o = push("agent-b");
    assert_ne!(o.code, 0, "{o:?}");
    assert!(o.stderr.contains("push blocked"), "{o:?}");
    assert!(o.stderr.contains("agent-a"), "{o:?}");
    // A's own commit on top does not launder B's commit under it.
    g.write("src/lib.rs", "a again\n");
    let o = g.hg(Some("agent-a"), &["commit", "-m", "a2", "src/lib.rs"]);
    assert_eq!(o.code, 0, "{o:?}");
    let o = push("agent-b");
    assert_ne!(o.code, 0, "{o:?}");
    assert!(o.stderr.contains("push blocked"), "{o:?}");
    assert_ne!(
        g.ok(&["rev-parse", "main"]),
        g.ok(&["--git-dir", remote.to_str().unwrap(), "rev-parse", "main"])
    );
    // Garbage on stdin: the policy's fail mode (allow by default), and a message.
    let o = g.hg_stdin(
        Some("agent-b"),
        &["git", "pre-push", "origin", "x"],
        b"not git's protocol\n",
    );
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stderr.contains("pre-push input line 1"), "{o:?}");
}

#[test]
fn linked_worktrees_share_the_store_and_the_lock() {
    let g = Git::with_commit();
    let wt = g.root.join("../wt");
    g.ok(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "feature",
        wt.to_str().unwrap(),
    ]);
    let wt = wt.canonicalize().unwrap();
    std::fs::write(wt.join("feature.txt"), "f\n").unwrap();
    let o = out(isolate(
        Command::new(BIN)
            .args(["commit", "-m", "feature work", "feature.txt"])
            .current_dir(&wt),
    )
    .env("HOOKGATE_AGENT", "agent-w")
    .stdin(Stdio::null())
    .output()
    .unwrap());
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(g.files_of("feature"), ["feature.txt"]);
    assert_eq!(g.ok(&["rev-list", "--count", "main"]).trim(), "1");
    // One store, in the common git dir: the worktree's agent is seen from main.
    let agents = g.hg(Some("agent-m"), &["agents"]);
    assert!(agents.stdout.contains("agent-w"), "{agents:?}");
    assert!(g.root.join(".git/hookgate/commit.lock").exists());
    assert!(!wt.join(".git/hookgate").exists());
    let st = out(isolate(
        Command::new("git")
            .args(["status", "--porcelain"])
            .current_dir(&wt),
    )
    .output()
    .unwrap());
    assert_eq!(st.stdout.trim(), "");
}

#[test]
fn a_commit_killed_after_moving_the_branch_has_its_shared_index_refresh_finished() {
    let g = Git::with_commit();
    let base_blob = g.ok(&["rev-parse", "HEAD:src/lib.rs"]).trim().to_string();
    g.write("src/lib.rs", "new\n");
    let o = g.hg(Some("agent-a"), &["commit", "-m", "a", "src/lib.rs"]);
    assert_eq!(o.code, 0, "{o:?}");
    let landed = g.ok(&["rev-parse", "HEAD"]).trim().to_string();
    // The state a process killed between update-ref and the refresh leaves:
    // the branch has the commit, the shared index the old blob, and the
    // lock file the dead holder's record of what was left to do.
    g.ok(&[
        "update-index",
        "--cacheinfo",
        &format!("100644,{base_blob},src/lib.rs"),
    ]);
    assert!(g.ok(&["status", "--porcelain"]).contains("src/lib.rs"));
    let mut dead = Command::new("true").spawn().unwrap();
    let pid = dead.id();
    dead.wait().unwrap();
    let record = serde_json::json!({
        "pid": pid, "process_started_ms": null, "agent": "agent-a", "acquired_ms": 1,
        "refresh": {"commit": landed, "paths": ["src/lib.rs"]},
    });
    std::fs::write(g.root.join(".git/hookgate/commit.lock"), record.to_string()).unwrap();
    g.write("b.txt", "b\n");
    let o = g.hg(Some("agent-b"), &["commit", "-m", "b", "b.txt"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stderr.contains("interrupted"), "{o:?}");
    assert!(o.stderr.contains("shared index now matches"), "{o:?}");
    assert_eq!(g.ok(&["status", "--porcelain"]).trim(), "");
}

#[test]
fn doctor_says_whether_the_git_guards_are_installed() {
    let g = Git::with_commit();
    let o = g.hg(None, &["doctor"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stdout
            .contains("pre-commit does not run hookgate's guard"),
        "{o:?}"
    );
    assert!(o.stdout.contains("hookgate init --platform git"), "{o:?}");
    let i = g.hg(None, &["init", "--platform", "git", "--bin", BIN]);
    assert_eq!(i.code, 0, "{i:?}");
    let o = g.hg(None, &["doctor", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let git: Vec<&serde_json::Value> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["platform"] == "git")
        .collect();
    assert_eq!(git.len(), 2, "{v}");
    assert!(git.iter().all(|c| c["ok"] == true), "{v}");
}

#[test]
fn without_hookgate_agent_the_agent_is_known_by_its_platform_process() {
    // This test process plays the agent platform: it runs the agent's hooks
    // (which record it as their host) and the agent's git and hookgate
    // commands, none of them with HOOKGATE_AGENT.
    let g = Git::with_commit();
    g.agent_writes("agent-p", "src/p.rs", "// p\n");
    let o = g.hg(None, &["commit", "-m", "p's work"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(g.files_of("HEAD"), ["src/p.rs"]);
    assert_eq!(trailer(&g, "HEAD"), "agent-p");
    install_guards(&g);
    let r = g.hg(Some("agent-a"), &["reserve", "src/lib.rs"]);
    assert_eq!(r.code, 0, "{r:?}");
    g.write("src/lib.rs", "p's change\n");
    g.ok(&["add", "src/lib.rs"]);
    let o = g.git(&["commit", "-q", "-m", "p"]);
    assert_ne!(o.code, 0, "{o:?}");
    assert!(o.stderr.contains("agent-a"), "{o:?}");
    // Recorded as agent-p's attempt, not a person's.
    let rep = g.hg(None, &["agents"]);
    assert!(!rep.stdout.contains('@'), "{rep:?}");
}

#[test]
fn commits_are_signed_when_commit_gpgsign_says_so() {
    let g = Git::with_commit();
    // A stand-in for gpg that signs anything, as git's protocol expects.
    let gpg = g.root.join("../fake-gpg");
    std::fs::write(
        &gpg,
        "#!/bin/sh\ncat >/dev/null\necho '[GNUPG:] SIG_CREATED D 1 8 00 0 0' >&2\nprintf -- '-----BEGIN PGP SIGNATURE-----\\n\\nZmFrZQ==\\n-----END PGP SIGNATURE-----\\n'\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&gpg, std::fs::Permissions::from_mode(0o755)).unwrap();
    g.ok(&["config", "commit.gpgsign", "true"]);
    g.ok(&["config", "gpg.program", gpg.to_str().unwrap()]);
    g.write("src/lib.rs", "signed\n");
    let o = g.hg(Some("agent-a"), &["commit", "-m", "signed", "src/lib.rs"]);
    assert_eq!(o.code, 0, "{o:?}");
    let raw = g.ok(&["cat-file", "commit", "HEAD"]);
    assert!(
        raw.contains("gpgsig -----BEGIN PGP SIGNATURE-----"),
        "{raw}"
    );
}
