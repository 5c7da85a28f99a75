//! Load test of `hookgate commit` with real git and real processes (issue 7).
//!
//! Eight agents share ONE checkout. Each is a thread that, in a loop for
//! HOOKGATE_LOAD_SECS (default 60 s per phase), appends a line to one of its
//! own files (`agent-N/f-K.txt`) and commits it, running real processes. Two
//! phases, each in a fresh repository (git isolated from the user's and the
//! system's configuration):
//!
//! a) `hookgate commit -m "agent N change k" agent-N/f-K.txt` as
//!    HOOKGATE_AGENT=agent-N (every fourth iteration with no PATH: the
//!    default, the agent's own writes, which the agent announces the way a
//!    platform would, through a Claude PreToolUse Write hook before writing).
//!    The repository's pre-commit hook runs the guard, `hookgate git
//!    pre-commit`, as `hookgate init` wires it (hookgate commit runs it).
//!    Asserted: every commit holds only its agent's files (its trailer's agent
//!    and its message's agent agree), an explicit commit holds exactly the
//!    named path, no reported commit is lost and each carries the exact
//!    content the agent had, the final tree is every agent's last committed
//!    content, history is linear, `git fsck --strict` is clean, and no commit
//!    fails except with a clear hookgate error (no agent touches another's
//!    files, so a refusal by the guard is not one).
//! b) plain `git add agent-N/f-K.txt && git commit -m "agent N change k"`
//!    in the shared index: misattributed commits, index.lock failures,
//!    "nothing to commit" failures and lost changes are counted; at least one
//!    such problem must show, or the load is not adversarial.
//!
//! An agent pauses 50 ms after a failed commit before its next change.
//! Both phases' counts are printed in one block (run with `--nocapture`), and
//! written as JSON to HOOKGATE_LOAD_REPORT if set (`bench/git-load.sh`).
//! HOOKGATE_LOAD_KEEP=1 keeps both repositories for a look afterwards.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const AGENTS: usize = 8;
const FILES: usize = 3;
/// Hookgate phase: iterations with `k % DEFAULT_EVERY == DEFAULT_EVERY - 1`
/// commit with no PATH.
const DEFAULT_EVERY: u64 = 4;
/// One command that takes longer than this is killed and counted as an
/// unexpected failure (a hang must not hang the test).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// After a failed commit, the agent pauses this long before its next change.
const FAILURE_PAUSE: Duration = Duration::from_millis(50);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Hookgate,
    Plain,
}

impl Phase {
    fn key(self) -> &'static str {
        match self {
            Phase::Hookgate => "hookgate",
            Phase::Plain => "plain",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fail {
    /// git could not take `.git/index.lock`.
    IndexLock,
    /// "nothing to commit" / "no changes added to commit".
    Empty,
    /// A hookgate refusal or error that says what happened (exit 1 or 3, a
    /// `hookgate:` line, no lock or crash symptom).
    Clear,
    /// Anything else.
    Other,
}

/// One iteration of one agent.
struct Attempt {
    agent: usize,
    k: u64,
    /// The file this iteration appended to.
    file: String,
    /// The length of each of the agent's files when the commit ran (files
    /// only grow: the content then is a prefix of the final content).
    lens: [usize; FILES],
    explicit: bool,
    failed: Option<(Fail, String)>,
    /// When the commit command ended (s since the phase started), and how
    /// long it took (ms).
    at: f64,
    took_ms: f64,
}

fn rel(agent: usize, f: usize) -> String {
    format!("agent-{agent}/f-{f}.txt")
}

fn file_index(rel: &str) -> usize {
    rel.rsplit("f-")
        .next()
        .and_then(|s| s.strip_suffix(".txt"))
        .and_then(|s| s.parse().ok())
        .expect("an agent file")
}

/// The agent that owns a path (`agent-N/...`), if any.
fn owner(path: &str) -> Option<usize> {
    path.strip_prefix("agent-")?.split('/').next()?.parse().ok()
}

fn initial_content(agent: usize, f: usize) -> String {
    format!("agent {agent} file {f}\n")
}

/// `agent N change k` → (N, k).
fn parse_subject(s: &str) -> Option<(usize, u64)> {
    let w: Vec<&str> = s.split_whitespace().collect();
    match w.as_slice() {
        ["agent", n, "change", k] => Some((n.parse().ok()?, k.parse().ok()?)),
        _ => None,
    }
}

/// The agent number in a trailer value, tolerantly: the first `agent-<digits>`.
fn agent_in(value: &str) -> Option<usize> {
    let i = value.find("agent-")?;
    let digits: String = value[i + 6..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// git (and hookgate) isolated from the user's configuration, in English.
fn isolate(c: &mut Command) -> &mut Command {
    for v in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_COMMITTER_DATE",
        "HOOKGATE_STORE",
        "HOOKGATE_POLICY",
        "HOOKGATE_AGENT",
        "HOOKGATE_NAME",
    ] {
        c.env_remove(v);
    }
    c.env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .env("HOOKGATE_CACHE", common::shared_cache())
        .stdin(Stdio::null())
}

fn git(root: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("git");
    c.args(args).current_dir(root);
    isolate(&mut c);
    c
}

/// Run `git args` and return stdout; panic on failure.
fn git_ok(root: &Path, args: &[&str]) -> String {
    let out = git(root, args).output().expect("spawn git");
    assert!(
        out.status.success(),
        "git {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// A fresh repository: every agent's files and a README in one initial commit.
fn new_repo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    git_ok(&root, &["init", "-q", "-b", "main"]);
    for (k, v) in [
        ("user.name", "Load Test"),
        ("user.email", "load@example.invalid"),
        ("commit.gpgsign", "false"),
        // No automatic gc in the middle of a phase (both phases alike).
        ("gc.auto", "0"),
        ("maintenance.auto", "false"),
    ] {
        git_ok(&root, &["config", k, v]);
    }
    std::fs::write(root.join("README"), "git load test\n").unwrap();
    for n in 0..AGENTS {
        std::fs::create_dir_all(root.join(format!("agent-{n}"))).unwrap();
        for f in 0..FILES {
            std::fs::write(root.join(rel(n, f)), initial_content(n, f)).unwrap();
        }
    }
    git_ok(&root, &["add", "-A"]);
    git_ok(&root, &["commit", "-q", "-m", "initial"]);
    (dir, root)
}

struct Ran {
    ok: bool,
    code: Option<i32>,
    text: String,
}

/// Run a command with its output in files (no pipe to fill), killed after
/// COMMAND_TIMEOUT.
fn run(mut c: Command, out_file: &Path) -> Ran {
    let out = std::fs::File::create(out_file).unwrap();
    let err = out.try_clone().unwrap();
    let mut child = c.stdout(out).stderr(err).spawn().expect("spawn");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if started.elapsed() > COMMAND_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let mut text = std::fs::read_to_string(out_file).unwrap_or_default();
    match status {
        Some(s) if !s.success() && text.trim().is_empty() => Ran {
            ok: false,
            code: s.code(),
            text: format!("(no output, {s})"),
        },
        Some(s) => Ran {
            ok: s.success(),
            code: s.code(),
            text,
        },
        None => {
            text.push_str(&format!(
                "\n(killed: still running after {COMMAND_TIMEOUT:?})"
            ));
            Ran {
                ok: false,
                code: None,
                text,
            }
        }
    }
}

fn classify(phase: Phase, ran: &Ran) -> Fail {
    let t = &ran.text;
    if t.contains("index.lock") {
        return Fail::IndexLock;
    }
    if t.contains("nothing to commit")
        || t.contains("no changes added to commit")
        || t.contains("nothing added to commit")
    {
        return Fail::Empty;
    }
    if phase == Phase::Hookgate {
        let lower = t.to_lowercase();
        let symptom = [
            "panicked",
            "database is locked",
            "busy",
            "cannot lock ref",
            "unable to create",
            "killed: still running",
            "hook failed",
        ]
        .iter()
        .any(|s| lower.contains(s));
        if matches!(ran.code, Some(1) | Some(3))
            && t.trim_start().starts_with("hookgate")
            && !symptom
        {
            return Fail::Clear;
        }
    }
    Fail::Other
}

/// A PreToolUse Write of `rel` by session `agent`, as Claude Code sends it.
fn write_payload(root: &Path, agent: &str, rel: &str, content: &str) -> String {
    serde_json::json!({
        "session_id": agent,
        "transcript_path": "/tmp/t.jsonl",
        "cwd": root,
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Write",
        "tool_input": {"file_path": root.join(rel), "content": content},
        "tool_use_id": "toolu_load",
    })
    .to_string()
}

/// One agent's loop until `deadline`: its attempts, and its files' final
/// contents.
fn agent_loop(
    phase: Phase,
    root: &Path,
    scratch: &Path,
    n: usize,
    started: Instant,
    deadline: Instant,
) -> (Vec<Attempt>, Vec<String>) {
    let id = format!("agent-{n}");
    let out_file = scratch.join(format!("out-{n}.txt"));
    let payload_file = scratch.join(format!("payload-{n}.json"));
    let mut files: Vec<String> = (0..FILES).map(|f| initial_content(n, f)).collect();
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15 ^ (n as u64 + 1);
    let mut attempts = Vec::new();
    let mut k = 0u64;
    while Instant::now() < deadline {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let f = ((rng >> 33) % FILES as u64) as usize;
        let path = rel(n, f);
        let msg = format!("agent {n} change {k}");
        files[f].push_str(&format!(
            "{msg}: {}\n",
            "x".repeat((rng >> 20) as usize % 60)
        ));
        let explicit = phase == Phase::Plain || k % DEFAULT_EVERY != DEFAULT_EVERY - 1;
        let mut failed = None;
        if !explicit {
            // The agent's platform announces the write to hookgate first.
            std::fs::write(&payload_file, write_payload(root, &id, &path, &files[f])).unwrap();
            let mut c = Command::new(common::BIN);
            c.args(["hook", "claude"]).current_dir(root);
            isolate(&mut c).stdin(std::fs::File::open(&payload_file).unwrap());
            let ran = run(c, &out_file);
            if !ran.ok || ran.text.contains("\"deny\"") {
                failed = Some((Fail::Other, format!("write hook: {}", ran.text)));
            }
        }
        std::fs::write(root.join(&path), &files[f]).unwrap();
        let t0 = Instant::now();
        if failed.is_none() {
            let ran = match phase {
                Phase::Hookgate => {
                    let mut c = Command::new(common::BIN);
                    c.args(["commit", "-m", &msg]).current_dir(root);
                    if explicit {
                        c.arg(&path);
                    }
                    isolate(&mut c).env("HOOKGATE_AGENT", &id);
                    run(c, &out_file)
                }
                Phase::Plain => {
                    let add = run(git(root, &["add", &path]), &out_file);
                    if add.ok {
                        run(git(root, &["commit", "-m", &msg]), &out_file)
                    } else {
                        add
                    }
                }
            };
            if !ran.ok {
                failed = Some((classify(phase, &ran), ran.text));
            }
        }
        let took_ms = t0.elapsed().as_secs_f64() * 1e3;
        let at = started.elapsed().as_secs_f64();
        // An agent reads a failure before going on: no tight retry loop
        // (a failing `git add` would otherwise spin and starve the others).
        if failed.is_some() {
            std::thread::sleep(FAILURE_PAUSE);
        }
        let mut lens = [0; FILES];
        for (l, body) in lens.iter_mut().zip(&files) {
            *l = body.len();
        }
        attempts.push(Attempt {
            agent: n,
            k,
            file: path,
            lens,
            explicit,
            failed,
            at,
            took_ms,
        });
        k += 1;
    }
    (attempts, files)
}

struct Commit {
    hash: String,
    parents: usize,
    subject: String,
    agent_trailer: Option<String>,
    session_trailer: Option<String>,
    /// (path, new blob id) for every path the commit changes.
    changes: Vec<(String, String)>,
}

fn history(root: &Path) -> Vec<Commit> {
    let text = git_ok(
        root,
        &[
            "log",
            "--reverse",
            "--root",
            "--raw",
            "--no-abbrev",
            "--no-renames",
            "--format=%x1e%H%x1f%P%x1f%s%x1f%(trailers:key=Hookgate-Agent,valueonly,separator=%x2C)%x1f%(trailers:key=Hookgate-Session,valueonly,separator=%x2C)%x1f%b%x1f",
        ],
    );
    let mut commits = Vec::new();
    for rec in text.split('\x1e').filter(|r| !r.trim().is_empty()) {
        let fields: Vec<&str> = rec.split('\x1f').collect();
        assert!(fields.len() >= 7, "unparsable log record: {rec:?}");
        let nonempty = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        // Tolerant: a trailer git does not parse as one still counts.
        let in_body = |key: &str| {
            fields[5].lines().find_map(|l| {
                let l = l.trim();
                let lower = l.to_lowercase();
                let rest = lower.strip_prefix(key)?;
                let rest = rest.trim_start();
                (rest.starts_with(':') || rest.starts_with('='))
                    .then(|| l[l.len() - rest.len() + 1..].trim().to_string())
            })
        };
        let changes = fields[6]
            .lines()
            .filter(|l| l.starts_with(':'))
            .map(|l| {
                let (meta, path) = l.split_once('\t').expect("raw line");
                let blob = meta.split_whitespace().nth(3).expect("raw blob");
                (path.to_string(), blob.to_string())
            })
            .collect();
        commits.push(Commit {
            hash: fields[0].trim().to_string(),
            parents: fields[1].split_whitespace().count(),
            subject: fields[2].to_string(),
            agent_trailer: nonempty(fields[3]).or_else(|| in_body("hookgate-agent")),
            session_trailer: nonempty(fields[4]).or_else(|| in_body("hookgate-session")),
            changes,
        });
    }
    commits
}

/// Blob contents by id, through one `git cat-file --batch`.
fn blobs(root: &Path, ids: &HashSet<String>) -> HashMap<String, String> {
    let mut child = git(root, &["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn git cat-file");
    let list: Vec<String> = ids.iter().cloned().collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = {
        let list = list.clone();
        std::thread::spawn(move || {
            for id in &list {
                writeln!(stdin, "{id}").unwrap();
            }
        })
    };
    let mut r = BufReader::new(child.stdout.take().unwrap());
    let mut map = HashMap::new();
    for id in &list {
        let mut header = String::new();
        r.read_line(&mut header).unwrap();
        let size: usize = header
            .split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("cat-file {id}: {header:?}"));
        let mut buf = vec![0; size + 1];
        r.read_exact(&mut buf).unwrap();
        buf.pop();
        map.insert(id.clone(), String::from_utf8(buf).expect("utf-8 blob"));
    }
    writer.join().unwrap();
    assert!(child.wait().unwrap().success());
    map
}

#[derive(Default)]
struct Counts {
    secs: f64,
    attempts: usize,
    reported: usize,
    commits: usize,
    per_agent: Vec<usize>,
    misattributed: usize,
    foreign_changes: usize,
    overreach: usize,
    index_lock: usize,
    empty: usize,
    /// Reported committed, but no commit carries that content.
    lost: usize,
    /// Files whose final content lacks the agent's last reported commit.
    lost_final: usize,
    wrong_content: usize,
    phantom: usize,
    clear_errors: usize,
    other_failures: usize,
    nonlinear: usize,
    missing_agent_trailer: usize,
    missing_session_trailer: usize,
    final_tree_mismatch: usize,
    branch: String,
    fsck_ok: bool,
    fsck: String,
    /// Successful commit commands: wall time p50, p90, p99, max (ms).
    latency_ms: [f64; 4],
    /// Commits per second in the first and the last quarter of the phase.
    rate: [f64; 2],
    /// Failure text (digits folded to #) → count.
    failures: BTreeMap<String, usize>,
    /// Kind of problem → its first few occurrences, in full.
    examples: BTreeMap<String, Vec<String>>,
}

impl Counts {
    /// Keep the first few problems of each kind, in full.
    fn example(&mut self, kind: &str, s: String) {
        let v = self.examples.entry(kind.to_string()).or_default();
        if v.len() < 4 {
            v.push(s);
        }
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "seconds": self.secs,
            "attempts": self.attempts,
            "reported_committed": self.reported,
            "commits_made": self.commits,
            "per_agent_commits": self.per_agent,
            "misattributed_commits": self.misattributed,
            "changes_in_another_agents_commit": self.foreign_changes,
            "explicit_commits_with_other_paths": self.overreach,
            "index_lock_failures": self.index_lock,
            "empty_commit_failures": self.empty,
            "lost_changes": self.lost,
            "files_lacking_a_reported_commit_at_the_end": self.lost_final,
            "wrong_content": self.wrong_content,
            "phantom_commits": self.phantom,
            "clear_hookgate_errors": self.clear_errors,
            "other_failures": self.other_failures,
            "nonlinear": self.nonlinear,
            "missing_agent_trailer": self.missing_agent_trailer,
            "missing_session_trailer": self.missing_session_trailer,
            "final_tree_mismatches": self.final_tree_mismatch,
            "branch": self.branch,
            "fsck_clean": self.fsck_ok,
            "fsck": self.fsck,
            "commit_ms_p50_p90_p99_max": self.latency_ms,
            "commits_per_s_first_last_quarter": self.rate,
            "failure_messages": self.failures,
            "examples": self.examples,
        })
    }

    /// The plain phase's problems that show the load is adversarial.
    fn problems(&self) -> usize {
        self.misattributed
            + self.foreign_changes
            + self.index_lock
            + self.empty
            + self.lost
            + self.lost_final
            + self.other_failures
    }
}

/// A failure line with what varies folded: object names become `<oid>`,
/// other digit runs `#`.
fn fold_digits(s: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.len() >= 7 && word.chars().all(|c| c.is_ascii_hexdigit()) {
            out.push_str("<oid>");
        } else {
            let mut digit = false;
            for c in word.chars() {
                if c.is_ascii_digit() {
                    if !digit {
                        out.push('#');
                    }
                    digit = true;
                } else {
                    out.push(c);
                    digit = false;
                }
            }
        }
        word.clear();
    };
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn run_phase(phase: Phase, secs: u64) -> Counts {
    let (_dir, root) = new_repo();
    let scratch = tempfile::tempdir().expect("scratch");
    if phase == Phase::Hookgate {
        let hook = root.join(".git/hooks/pre-commit");
        std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
        std::fs::write(
            &hook,
            format!("#!/bin/sh\nexec '{}' git pre-commit\n", common::BIN),
        )
        .unwrap();
        std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        // The store exists before the stampede, as in tests/race.rs.
        let mut c = Command::new(common::BIN);
        c.args(["whoami"]).current_dir(&root);
        isolate(&mut c).env("HOOKGATE_AGENT", "load-setup");
        let ran = run(c, &scratch.path().join("setup.txt"));
        assert!(ran.ok, "hookgate whoami: {}", ran.text);
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let (per_agent, finals): (Vec<Vec<Attempt>>, Vec<Vec<String>>) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..AGENTS)
            .map(|n| {
                let (root, scratch) = (&root, scratch.path());
                s.spawn(move || agent_loop(phase, root, scratch, n, started, deadline))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("agent thread"))
            .unzip()
    });
    let attempts: Vec<Attempt> = per_agent.into_iter().flatten().collect();
    // What an attempt's file (or another of its agent's files) held then.
    let at = |a: &Attempt, f: usize| &finals[a.agent][f][..a.lens[f]];
    let content = |a: &Attempt| at(a, file_index(&a.file));
    // A content of `path` its owner had at some point: its length, if so.
    let final_of = |path: &str| owner(path).map(|o| finals[o][file_index(path)].as_str());
    let mut c = Counts {
        secs: started.elapsed().as_secs_f64(),
        attempts: attempts.len(),
        per_agent: vec![0; AGENTS],
        ..Counts::default()
    };

    // --- latency and throughput of the commits that succeeded -------------------
    let mut ok_ms: Vec<f64> = attempts
        .iter()
        .filter(|a| a.failed.is_none())
        .map(|a| a.took_ms)
        .collect();
    ok_ms.sort_by(f64::total_cmp);
    let pct = |q: f64| {
        ok_ms
            .get(((ok_ms.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0.0)
    };
    c.latency_ms = [pct(0.5), pct(0.9), pct(0.99), pct(1.0)];
    let quarter = secs as f64 / 4.0;
    let ok_in = |lo: f64, hi: f64| {
        attempts
            .iter()
            .filter(|a| a.failed.is_none() && a.at >= lo && a.at < hi)
            .count() as f64
            / quarter
    };
    c.rate = [ok_in(0.0, quarter), ok_in(secs as f64 - quarter, f64::MAX)];

    // --- failures as reported -------------------------------------------------
    for a in &attempts {
        match &a.failed {
            None => c.reported += 1,
            Some((kind, text)) => {
                match kind {
                    Fail::IndexLock => c.index_lock += 1,
                    Fail::Empty => c.empty += 1,
                    Fail::Clear => c.clear_errors += 1,
                    Fail::Other => c.other_failures += 1,
                }
                // The line that says why (not hookgate's "waiting for the
                // commit lock" progress lines).
                let says = |l: &&str| {
                    [
                        "fatal:",
                        "error:",
                        "hookgate:",
                        "nothing",
                        "no changes",
                        "Aborting",
                    ]
                    .iter()
                    .any(|w| l.contains(w))
                        && !l.contains("waiting for the commit lock")
                };
                let why = text
                    .lines()
                    .find(says)
                    .or_else(|| text.lines().find(|l| !l.trim().is_empty()))
                    .unwrap_or("(no output)");
                *c.failures
                    .entry(format!(
                        "{kind:?}: {}",
                        fold_digits(&why.trim().replace(&*root.to_string_lossy(), "<repo>"))
                    ))
                    .or_default() += 1;
                if *kind == Fail::Other || phase == Phase::Hookgate {
                    c.example(
                        if *kind == Fail::Clear {
                            "clear error"
                        } else {
                            "failure"
                        },
                        format!(
                            "agent {} change {} ({}) failed: {}",
                            a.agent,
                            a.k,
                            if a.explicit { "explicit" } else { "default" },
                            text.trim()
                        ),
                    );
                }
            }
        }
    }

    // --- history ------------------------------------------------------------------
    let branch = git(&root, &["symbolic-ref", "-q", "HEAD"])
        .output()
        .unwrap();
    c.branch = String::from_utf8_lossy(&branch.stdout).trim().to_string();
    let commits = history(&root);
    let head_tree = git_ok(&root, &["ls-tree", "-r", "HEAD"]);
    let head_files: Vec<(String, String)> = head_tree
        .lines()
        .map(|l| {
            let (meta, path) = l.split_once('\t').unwrap();
            (
                path.to_string(),
                meta.split_whitespace().nth(2).unwrap().to_string(),
            )
        })
        .collect();
    let mut ids: HashSet<String> = commits
        .iter()
        .flat_map(|k| k.changes.iter().map(|(_, b)| b.clone()))
        .filter(|b| b.bytes().any(|x| x != b'0'))
        .collect();
    ids.extend(head_files.iter().map(|(_, b)| b.clone()));
    let blob = blobs(&root, &ids);

    let by_key: HashMap<(usize, u64), &Attempt> =
        attempts.iter().map(|a| ((a.agent, a.k), a)).collect();
    // Every content an agent ever had, per file, as lengths of the final
    // content (the initial content is its start).
    let mut produced: HashMap<String, HashSet<usize>> = HashMap::new();
    let initial: Vec<(String, String)> = (0..AGENTS)
        .flat_map(|n| (0..FILES).map(move |f| (rel(n, f), initial_content(n, f))))
        .collect();
    for (p, body) in &initial {
        produced.entry(p.clone()).or_default().insert(body.len());
    }
    for a in &attempts {
        for (f, len) in a.lens.iter().enumerate() {
            produced.get_mut(&rel(a.agent, f)).unwrap().insert(*len);
        }
    }
    let produced_len = |p: &str, body: &str| {
        final_of(p)
            .filter(|fin| fin.starts_with(body))
            .filter(|_| produced.get(p).is_some_and(|s| s.contains(&body.len())))
            .map(|_| body.len())
    };
    // (path, content length) → index of the first commit that carries it.
    let mut first_carrier: HashMap<(&str, usize), usize> = HashMap::new();
    // path → (index of the last commit that changed it).
    let mut last_change: HashMap<&str, usize> = HashMap::new();
    let mut roots = 0;
    for (i, k) in commits.iter().enumerate() {
        match k.parents {
            0 => roots += 1,
            1 => {}
            _ => {
                c.nonlinear += 1;
                c.example("merge", format!("merge commit {} ({})", k.hash, k.subject));
            }
        }
        for (p, b) in &k.changes {
            last_change.insert(p, i);
            if let Some(len) = blob.get(b).and_then(|body| produced_len(p, body)) {
                first_carrier.entry((p, len)).or_insert(i);
            }
        }
        if i == 0 {
            continue;
        }
        c.commits += 1;
        let Some((n, kk)) = parse_subject(&k.subject) else {
            c.other_failures += 1;
            c.example(
                "subject",
                format!("commit {} has an unknown subject {:?}", k.hash, k.subject),
            );
            continue;
        };
        // Whose commit it is: the trailer's agent in the hookgate phase (which
        // must agree with the message), the message's in the plain phase.
        let mut who = n;
        if phase == Phase::Hookgate {
            match k.agent_trailer.as_deref().map(|t| (t, agent_in(t))) {
                None => {
                    c.missing_agent_trailer += 1;
                    c.example(
                        "trailer",
                        format!(
                            "commit {} ({}) has no Hookgate-Agent trailer",
                            k.hash, k.subject
                        ),
                    );
                }
                Some((t, Some(t_n))) => {
                    who = t_n;
                    if t_n != n {
                        c.misattributed += 1;
                        c.example(
                            "misattributed",
                            format!(
                                "commit {} says {:?} but its trailer says {t:?}",
                                k.hash, k.subject
                            ),
                        );
                    }
                }
                Some((t, None)) => {
                    c.missing_agent_trailer += 1;
                    c.example(
                        "trailer",
                        format!(
                            "commit {} ({}): unreadable Hookgate-Agent trailer {t:?}",
                            k.hash, k.subject
                        ),
                    );
                }
            }
            if k.session_trailer.is_none() {
                c.missing_session_trailer += 1;
            }
        }
        if who < AGENTS {
            c.per_agent[who] += 1;
        }
        let foreign: Vec<&str> = k
            .changes
            .iter()
            .map(|(p, _)| p.as_str())
            .filter(|p| owner(p) != Some(who))
            .collect();
        if !foreign.is_empty() {
            c.misattributed += 1;
            c.example(
                "misattributed",
                format!(
                    "commit {} ({}) as agent {who} holds {foreign:?}",
                    k.hash, k.subject
                ),
            );
        }
        let attempt = by_key.get(&(n, kk));
        match attempt {
            None => {
                c.other_failures += 1;
                c.example(
                    "subject",
                    format!("commit {} ({}) matches no attempt", k.hash, k.subject),
                );
            }
            Some(a) if a.failed.is_some() => {
                c.phantom += 1;
                c.example(
                    "phantom",
                    format!(
                        "commit {} ({}) was made although the attempt failed: {}",
                        k.hash,
                        k.subject,
                        a.failed.as_ref().unwrap().1.trim()
                    ),
                );
            }
            Some(a) => {
                if phase == Phase::Hookgate && a.explicit {
                    let paths: Vec<&str> = k.changes.iter().map(|(p, _)| p.as_str()).collect();
                    if paths != [a.file.as_str()] {
                        c.overreach += 1;
                        c.example(
                            "overreach",
                            format!(
                                "commit {} ({}) named {} but changes {paths:?}",
                                k.hash, k.subject, a.file
                            ),
                        );
                    }
                }
            }
        }
        // Every content in the commit is one its file's owner had; in the
        // hookgate phase, exactly what the committing agent had then.
        for (p, b) in &k.changes {
            let body = blob.get(b).map(String::as_str);
            let known = body.is_some_and(|body| produced_len(p, body).is_some());
            let exact = match (phase, attempt, owner(p)) {
                (Phase::Hookgate, Some(a), Some(o)) if o == a.agent && a.failed.is_none() => {
                    body == Some(at(a, file_index(p)))
                }
                _ => true,
            };
            if !known || !exact {
                c.wrong_content += 1;
                c.example(
                    "wrong content",
                    format!(
                        "commit {} ({}) carries a content of {p} its agent did not have then",
                        k.hash, k.subject
                    ),
                );
            }
        }
    }
    if roots != 1 {
        c.nonlinear += 1;
        c.example("merge", format!("{roots} root commits"));
    }

    // --- every reported commit is there, in its agent's commit ------------------
    let by_subject: HashMap<(usize, u64), usize> = commits
        .iter()
        .enumerate()
        .filter_map(|(i, k)| Some((parse_subject(&k.subject)?, i)))
        .collect();
    // Each file's content at its agent's last reported commit of it (the
    // named file, and any other of its files that commit changed).
    let mut last_ok: HashMap<String, &str> = initial
        .iter()
        .map(|(p, b)| (p.clone(), b.as_str()))
        .collect();
    for a in attempts.iter().filter(|a| a.failed.is_none()) {
        last_ok.insert(a.file.clone(), content(a));
        if let Some(&i) = by_subject.get(&(a.agent, a.k)) {
            for (p, b) in &commits[i].changes {
                if owner(p) == Some(a.agent) && p != &a.file {
                    if let Some(body) = blob.get(b) {
                        last_ok.insert(p.clone(), body.as_str());
                    }
                }
            }
        }
        match first_carrier.get(&(a.file.as_str(), content(a).len())) {
            None => {
                c.lost += 1;
                c.example("lost", format!(
                    "agent {} change {} reported committed, but no commit carries that content of {}",
                    a.agent, a.k, a.file
                ));
            }
            Some(&i) => {
                let k = &commits[i];
                if parse_subject(&k.subject) != Some((a.agent, a.k)) {
                    let other = parse_subject(&k.subject).map(|(n, _)| n);
                    if other != Some(a.agent) {
                        c.foreign_changes += 1;
                    } else if phase == Phase::Hookgate {
                        // Its own earlier or later commit carried it: only a
                        // commit that failed (phantom) or a wrong content can.
                        c.example(
                            "misplaced",
                            format!(
                                "agent {} change {} first appears in {} ({})",
                                a.agent, a.k, k.hash, k.subject
                            ),
                        );
                    }
                }
            }
        }
    }
    // A reported change that some other agent's commit carried first (plain
    // phase: the index is shared), failed or not.
    for a in attempts.iter().filter(|a| a.failed.is_some()) {
        if let Some(&i) = first_carrier.get(&(a.file.as_str(), content(a).len())) {
            let other = parse_subject(&commits[i].subject).map(|(n, _)| n);
            if other.is_some() && other != Some(a.agent) {
                c.foreign_changes += 1;
            }
        }
    }

    // --- the final tree ---------------------------------------------------------------
    let head: HashMap<&str, &str> = head_files
        .iter()
        .map(|(p, b)| (p.as_str(), blob.get(b).map(String::as_str).unwrap_or("")))
        .collect();
    for (p, _) in &initial {
        let now = head.get(p.as_str()).copied().unwrap_or("");
        let last = last_ok[p];
        if !now.starts_with(last) {
            c.lost_final += 1;
            c.example(
                "lost from the final tree",
                format!("HEAD's {p} lacks the agent's last committed content"),
            );
        }
        // Strictly: HEAD holds what the last commit that changed the file was
        // reported to carry (the agent's content at that attempt).
        let expected = last_change
            .get(p.as_str())
            .and_then(|&i| parse_subject(&commits[i].subject))
            .and_then(|key| by_key.get(&key))
            .filter(|a| a.failed.is_none() && owner(p) == Some(a.agent))
            .map(|a| at(a, file_index(p)))
            .unwrap_or_else(|| {
                if last_change.get(p.as_str()) == Some(&0) {
                    initial.iter().find(|(q, _)| q == p).unwrap().1.as_str()
                } else {
                    "\u{0}unknown"
                }
            });
        if now != expected || now != last {
            c.final_tree_mismatch += 1;
        }
    }

    // --- fsck -----------------------------------------------------------------------
    let fsck = git(
        &root,
        &["fsck", "--strict", "--no-dangling", "--no-progress"],
    )
    .output()
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&fsck.stdout),
        String::from_utf8_lossy(&fsck.stderr)
    );
    c.fsck_ok = fsck.status.success() && text.trim().is_empty();
    c.fsck = if c.fsck_ok {
        "clean".into()
    } else {
        format!("exit {:?}: {}", fsck.status.code(), text.trim())
    };
    if std::env::var_os("HOOKGATE_LOAD_KEEP").is_some() {
        let kept = _dir.keep();
        eprintln!(
            "git load: {} repository kept at {}",
            phase.key(),
            kept.display()
        );
    }
    c
}

fn block(secs: u64, h: &Counts, p: &Counts) -> String {
    let mut s = String::new();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    s.push_str(&format!(
        "==== git load: {AGENTS} agents x {FILES} files, one checkout, {secs} s per phase, {cpus} CPU(s) ====\n"
    ));
    s.push_str(&format!(
        "{:<44}{:>18}{:>18}\n",
        "", "hookgate commit", "plain git"
    ));
    let ms = |c: &Counts| {
        format!(
            "{:.0}/{:.0}/{:.0}/{:.0}",
            c.latency_ms[0], c.latency_ms[1], c.latency_ms[2], c.latency_ms[3]
        )
    };
    let rate = |c: &Counts| format!("{:.1} -> {:.1}", c.rate[0], c.rate[1]);
    let rows: [(&str, String, String); 21] = [
        (
            "seconds",
            format!("{:.1}", h.secs),
            format!("{:.1}", p.secs),
        ),
        (
            "commit attempts",
            h.attempts.to_string(),
            p.attempts.to_string(),
        ),
        (
            "reported committed",
            h.reported.to_string(),
            p.reported.to_string(),
        ),
        ("commits made", h.commits.to_string(), p.commits.to_string()),
        ("commit ms p50/p90/p99/max", ms(h), ms(p)),
        ("commits/s, first -> last quarter", rate(h), rate(p)),
        (
            "misattributed commits",
            h.misattributed.to_string(),
            p.misattributed.to_string(),
        ),
        (
            "changes in another agent's commit",
            h.foreign_changes.to_string(),
            p.foreign_changes.to_string(),
        ),
        (
            "explicit commits with other paths",
            h.overreach.to_string(),
            "-".into(),
        ),
        (
            "index.lock failures",
            h.index_lock.to_string(),
            p.index_lock.to_string(),
        ),
        (
            "empty commits (\"nothing to commit\")",
            h.empty.to_string(),
            p.empty.to_string(),
        ),
        (
            "lost changes (reported, in no commit)",
            h.lost.to_string(),
            p.lost.to_string(),
        ),
        (
            "files lacking a reported change at the end",
            h.lost_final.to_string(),
            p.lost_final.to_string(),
        ),
        (
            "wrong content",
            h.wrong_content.to_string(),
            p.wrong_content.to_string(),
        ),
        (
            "phantom commits (failed, yet made)",
            h.phantom.to_string(),
            p.phantom.to_string(),
        ),
        (
            "clear hookgate errors",
            h.clear_errors.to_string(),
            "-".into(),
        ),
        (
            "other failures",
            h.other_failures.to_string(),
            p.other_failures.to_string(),
        ),
        (
            "final tree != last committed (files)",
            h.final_tree_mismatch.to_string(),
            p.final_tree_mismatch.to_string(),
        ),
        (
            "non-linear (merges, extra roots)",
            h.nonlinear.to_string(),
            p.nonlinear.to_string(),
        ),
        (
            "missing trailer (agent / session)",
            format!(
                "{} / {}",
                h.missing_agent_trailer, h.missing_session_trailer
            ),
            "-".into(),
        ),
        (
            "git fsck --strict",
            if h.fsck_ok {
                "clean".into()
            } else {
                "FAILED".into()
            },
            if p.fsck_ok {
                "clean".into()
            } else {
                "FAILED".into()
            },
        ),
    ];
    for (k, a, b) in rows {
        s.push_str(&format!("{k:<44}{a:>18}{b:>18}\n"));
    }
    let per = |c: &Counts| {
        c.per_agent
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    s.push_str(&format!("per-agent commits, hookgate commit: {}\n", per(h)));
    s.push_str(&format!("per-agent commits, plain git:       {}\n", per(p)));
    for (name, c) in [("hookgate commit", h), ("plain git", p)] {
        if !c.failures.is_empty() {
            s.push_str(&format!("failures, {name}:\n"));
            for (m, n) in &c.failures {
                let m: String = m.chars().take(150).collect();
                s.push_str(&format!("  {n:>6}  {m}\n"));
            }
        }
        if !c.fsck_ok {
            s.push_str(&format!("fsck, {name}: {}\n", c.fsck));
        }
    }
    s.push_str("====\n");
    s
}

#[test]
fn eight_agents_commit_in_one_checkout() {
    let secs: u64 = std::env::var("HOOKGATE_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let h = run_phase(Phase::Hookgate, secs);
    let p = run_phase(Phase::Plain, secs);
    let text = block(secs, &h, &p);
    eprintln!("\n{text}");
    if let Some(path) = std::env::var_os("HOOKGATE_LOAD_REPORT") {
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
        let report = serde_json::json!({
            "agents": AGENTS,
            "files_per_agent": FILES,
            "seconds_per_phase": secs,
            "cpus": cpus,
            "hookgate": h.json(),
            "plain": p.json(),
        });
        std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    }
    for (name, c) in [("hookgate commit", &h), ("plain git", &p)] {
        for (kind, v) in &c.examples {
            eprintln!("{name}, {kind}:\n  {}", v.join("\n  "));
        }
    }

    // a) hookgate commit: nothing lost, nothing misattributed, no unexpected failure.
    assert_eq!(h.branch, "refs/heads/main", "HEAD is no longer on main");
    assert!(
        h.per_agent.iter().all(|&n| n > 0),
        "an agent never committed: {:?}",
        h.per_agent
    );
    assert_eq!(h.misattributed, 0, "misattributed commits");
    assert_eq!(h.foreign_changes, 0, "changes in another agent's commit");
    assert_eq!(h.overreach, 0, "explicit commits with other paths");
    assert_eq!(h.index_lock, 0, "index.lock failures");
    assert_eq!(h.empty, 0, "empty commits");
    assert_eq!(h.lost, 0, "lost changes");
    assert_eq!(
        h.lost_final, 0,
        "files lacking a reported change at the end"
    );
    assert_eq!(h.wrong_content, 0, "wrong content");
    assert_eq!(h.phantom, 0, "phantom commits");
    assert_eq!(h.other_failures, 0, "unexpected failures");
    assert_eq!(
        h.missing_agent_trailer, 0,
        "commits without a Hookgate-Agent trailer"
    );
    assert_eq!(
        h.final_tree_mismatch, 0,
        "final tree != last committed content"
    );
    assert_eq!(h.nonlinear, 0, "non-linear history");
    assert!(h.fsck_ok, "git fsck --strict: {}", h.fsck);
    assert_eq!(h.commits, h.reported, "commits made != commits reported");

    // b) plain git in one index: the load must show at least one problem.
    assert!(
        p.problems() > 0,
        "the plain-git phase showed no problem: the load is not adversarial"
    );
}
