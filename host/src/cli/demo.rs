//! `hookgate demo`: a short scene in a scratch git repository, played through
//! the real event path (adapter, policy, wasm chain, rollout, audit, answer).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use hookgate::event::readable_name;
use hookgate::hook::{handle, HookOptions};
use hookgate::platform::claude::CLAUDE;
use hookgate::store::audit;
use serde_json::json;

struct Step {
    session: &'static str,
    say: &'static str,
    tool: &'static str,
    input: serde_json::Value,
}

fn scene(root: &Path) -> Vec<Step> {
    let p = |rel: &str| root.join(rel).display().to_string();
    vec![
        Step {
            session: "demo-session-a",
            say: "edits ordinary source",
            tool: "Edit",
            input: json!({"file_path": p("src/lib.rs"), "old_string": "1", "new_string": "2"}),
        },
        Step {
            session: "demo-session-b",
            say: "edits the same file a moment later (A's write took a short lease on it)",
            tool: "Edit",
            input: json!({"file_path": p("src/lib.rs"), "old_string": "2", "new_string": "3"}),
        },
        Step {
            session: "demo-session-b",
            say: "writes into the docs that A reserved",
            tool: "Write",
            input: json!({"file_path": p("docs/guide.md"), "content": "# Guide"}),
        },
        Step {
            session: "demo-session-b",
            say: "tries to write a secret",
            tool: "Write",
            input: json!({"file_path": p(".env"), "content": "API_KEY=sk-live-123"}),
        },
        Step {
            session: "demo-session-a",
            say: "edits the guard's own policy (checkpoint)",
            tool: "Edit",
            input: json!({"file_path": p(".hookgate/policy.toml"), "old_string": "enforce", "new_string": "monitor"}),
        },
        Step {
            session: "demo-session-b",
            say: "edits CI config (tier rolling out at warn stage)",
            tool: "Write",
            input: json!({"file_path": p(".github/workflows/ci.yml"), "content": "on: push"}),
        },
        Step {
            session: "demo-session-a",
            say: "hand-edits a lock file (tier at monitor stage)",
            tool: "Edit",
            input: json!({"file_path": p("Cargo.lock"), "old_string": "a", "new_string": "b"}),
        },
        Step {
            session: "demo-session-b",
            say: "reads a private key through a symlink",
            tool: "Read",
            input: json!({"file_path": p("docs/innocent.txt")}),
        },
    ]
}

/// The prompt hook of `session`, as Claude Code runs it: its answer's context.
fn prompt(root: &Path, session: &str, opts: &HookOptions) -> String {
    let payload = json!({
        "session_id": session,
        "transcript_path": format!("/tmp/{session}.jsonl"),
        "cwd": root.display().to_string(),
        "hook_event_name": "UserPromptSubmit",
        "prompt": "carry on",
    });
    let r = handle(&CLAUDE, &payload.to_string(), opts);
    serde_json::from_str::<serde_json::Value>(&r.answer.stdout)
        .ok()
        .and_then(|v| {
            v["hookSpecificOutput"]["additionalContext"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "(nothing)".into())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The epilogue: B asks A for the docs; A hears at its next prompt, hands
/// them over, and B hears that it holds them.
fn coordination(
    root: &Path,
    store_file: &Path,
    opts: &HookOptions,
    rctx: &hookgate::reservations::Context,
) -> anyhow::Result<()> {
    use hookgate::coordination::requests::{self, Ask, Reply, Response, Target, Urgency};
    let mut a = hookgate::event::Agent::from_session("demo-session-a", None, None);
    let mut b = hookgate::event::Agent::from_session("demo-session-b", None, None);
    a.name = readable_name("demo-session-a");
    b.name = readable_name("demo-session-b");
    let mut store = hookgate::store::Store::open(store_file)?;
    let now = hookgate::store::now_ms();
    let ask = Ask {
        target: Target::Reservation(1),
        mode: hookgate::reservations::Mode::Exclusive,
        ttl_ms: rctx.settings.default_ttl_ms,
        urgency: Urgency::Normal,
        reason: "one typo in docs/guide.md".into(),
        wait_ms: None,
    };
    let settings = requests::Settings::default();
    let made = store.write_leases(|tx| requests::request(tx, &b, &ask, &settings, rctx, now))?;
    let id = made.first().map_or(0, |q| q.id);
    println!(
        "\nCoordination: {} runs `hookgate request-release r1 --reason \"one typo in docs/guide.md\"` (rq{id}).",
        b.name
    );
    println!(
        "[9] {}'s next prompt hook carries the request, framed as another agent's text:\n{}",
        a.name,
        indent(&prompt(root, "demo-session-a", opts))
    );
    let reply = Reply {
        response: Response::Release,
        eta_ms: None,
        note: "all yours",
    };
    let q = store.write_leases(|tx| {
        requests::respond(tx, &a, id, &reply, rctx, hookgate::store::now_ms())
    })?;
    println!(
        "[10] {} runs `hookgate respond rq{id} release`: in the same transaction r1 is released and {} is granted r{} (no third agent can slip in).",
        a.name,
        b.name,
        q.granted.unwrap_or_default()
    );
    println!(
        "[11] {}'s next prompt hook:\n{}",
        b.name,
        indent(&prompt(root, "demo-session-b", opts))
    );
    Ok(())
}

/// Run git in the scratch repository; its stdout.
fn git(root: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(root)
        .env_remove("GIT_INDEX_FILE")
        .output()
        .context("running git")?;
    anyhow::ensure!(
        out.status.success(),
        "git {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Commits: B has staged its docs in the shared index; A's plain `git
/// commit -a` is answered with the `hookgate commit` to run, which commits
/// A's file alone and leaves B's staged work where it was.
fn commits(root: &Path, opts: &HookOptions) -> anyhow::Result<()> {
    for (k, v) in [
        ("user.name", "hookgate demo"),
        ("user.email", "demo@hookgate.invalid"),
        ("commit.gpgsign", "false"),
        ("core.hooksPath", ".git/no-hooks"),
    ] {
        git(root, &["config", k, v])?;
    }
    std::fs::write(root.join("src/lib.rs"), "pub const X: u8 = 2;\n")?;
    std::fs::write(root.join("docs/guide.md"), "# Guide\n")?;
    git(root, &["add", "docs/guide.md"])?;
    println!(
        "\nCommits: {} has staged docs/guide.md in git's one shared index; {} changed src/lib.rs.",
        readable_name("demo-session-b"),
        readable_name("demo-session-a")
    );
    let payload = json!({
        "session_id": "demo-session-a",
        "transcript_path": "/tmp/demo-session-a.jsonl",
        "cwd": root.display().to_string(),
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "git commit -am 'bump X'"},
        "tool_use_id": "toolu_demo_commit",
    });
    let r = handle(&CLAUDE, &payload.to_string(), opts);
    let d = r.verdict.to_decision();
    println!(
        "[12] {} runs `git commit -am 'bump X'`, which would sweep B's docs into A's commit.\n    BLOCKED. Claude is told: {}",
        readable_name("demo-session-a"),
        d.deny.join(" | ")
    );
    let repo = hookgate::git::Repo::discover(root)?;
    let a = hookgate::event::Agent::from_session("demo-session-a", None, None);
    let done = hookgate::git::commit::commit(
        &repo,
        &hookgate::git::commit::Request {
            message: "bump X".into(),
            paths: vec!["src/lib.rs".into()],
            agent: &a,
            lock_timeout: std::time::Duration::from_secs(30),
        },
    )?;
    let files: Vec<String> = done
        .changes
        .iter()
        .map(|c| format!("{} {}", c.status, c.path))
        .collect();
    println!(
        "[13] {} runs `hookgate commit -m 'bump X' src/lib.rs`: commit {} on {} of `{}` alone (a private index, the commit lock, update-ref old→new), trailer `Hookgate-Agent: {}`.",
        readable_name("demo-session-a"),
        &done.oid[..done.oid.len().min(10)],
        done.branch,
        files.join(", "),
        a.id
    );
    println!(
        "    `git status --short` afterwards — B's staged work is still staged, A's file is clean:\n{}",
        indent(git(root, &["status", "--short", "--", "src/lib.rs", "docs/guide.md"])?.trim_end())
    );
    Ok(())
}

pub fn run(keep: bool) -> anyhow::Result<ExitCode> {
    let dir = tempfile::Builder::new()
        .prefix("hookgate-demo-")
        .tempdir()
        .context("creating a scratch directory")?;
    let root = dir.path().canonicalize()?;
    let real_git = matches!(
        std::process::Command::new("git")
            .args(["init", "-q"])
            .arg(&root)
            .status(),
        Ok(s) if s.success()
    );
    if !real_git {
        std::fs::create_dir_all(root.join(".git"))?;
    }
    for (f, body) in [
        ("src/lib.rs", "pub const X: u8 = 1;\n"),
        ("Cargo.lock", "# lock\n"),
        ("deploy/key.pem", "-----BEGIN PRIVATE KEY-----\n"),
        (".hookgate/policy.toml", hookgate::policy::DEFAULT_POLICY),
    ] {
        let path = root.join(f);
        std::fs::create_dir_all(path.parent().context("parent")?)?;
        std::fs::write(path, body)?;
    }
    std::fs::create_dir_all(root.join("docs"))?;
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.join("deploy/key.pem"), root.join("docs/innocent.txt"))?;

    println!(
        "hookgate demo: two Claude Code agents share one checkout ({})",
        root.display()
    );
    println!("policy: the built-in default (lock-check, write-guard, read-guard); every answer below is the real hook output\n");
    let opts = HookOptions {
        audit: true,
        ..HookOptions::default()
    };
    // Agent A reserves the docs, as `hookgate reserve docs/** --reason …` would.
    let policy = hookgate::policy::load(&[hookgate::policy::Layer::builtin()])?;
    let rctx = hookgate::reservations::Context {
        fold: false,
        settings: policy.reservations,
        presence: policy.presence,
    };
    let a = hookgate::event::Agent::from_session("demo-session-a", None, None);
    let store_file = hookgate::paths::default_store(Some(&root), &root);
    let mut store = hookgate::store::Store::open(&store_file)?;
    let req = hookgate::reservations::Request {
        patterns: vec!["docs/**".into()],
        mode: hookgate::reservations::Mode::Exclusive,
        ttl_ms: policy.reservations.default_ttl_ms,
        reason: "rewriting the docs".into(),
        auto: false,
    };
    let grant = hookgate::reservations::acquire(&mut store, &a, "claude", &req, &rctx)?;
    drop(store);
    if let hookgate::reservations::Grant::Granted { id, .. } = grant {
        println!(
            "[0] {} reserves docs/** (`hookgate reserve docs/** --reason \"rewriting the docs\"`): granted r{id}\n",
            readable_name("demo-session-a")
        );
    }
    let mut store_path = None;
    for (i, step) in scene(&root).into_iter().enumerate() {
        let payload = json!({
            "session_id": step.session,
            "transcript_path": format!("/tmp/{}.jsonl", step.session),
            "cwd": root.display().to_string(),
            "permission_mode": "default",
            "hook_event_name": "PreToolUse",
            "tool_name": step.tool,
            "tool_input": step.input,
            "tool_use_id": format!("toolu_demo_{i}"),
        });
        let r = handle(&CLAUDE, &payload.to_string(), &opts);
        store_path = r.store.clone().or(store_path);
        let ev = r.event.as_ref();
        let target = ev
            .map(|e| {
                e.writes
                    .iter()
                    .chain(&e.reads)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        println!(
            "[{}] {} {} ({} {target})",
            i + 1,
            ev.map_or_else(|| readable_name(step.session), |e| e.agent.name.clone()),
            step.say,
            step.tool
        );
        let d = r.verdict.to_decision();
        match r.verdict.decision {
            hookgate::event::Outcome::Deny => {
                println!("    BLOCKED. Claude is told: {}", d.deny.join(" | "))
            }
            hookgate::event::Outcome::Ask => {
                println!("    ASK. The human is prompted: {}", d.ask.join(" | "))
            }
            hookgate::event::Outcome::Warn => println!(
                "    allowed with a warning. Claude sees: {}",
                d.warn.join(" | ")
            ),
            hookgate::event::Outcome::Allow => {
                let monitored = r
                    .verdict
                    .findings
                    .iter()
                    .filter(|f| f.would > hookgate::event::Outcome::Allow)
                    .count();
                if monitored > 0 {
                    println!("    allowed; the agent sees nothing, but {monitored} monitor-stage finding(s) were recorded");
                } else {
                    println!("    allowed");
                }
            }
        }
        let shown = if r.answer.stdout.is_empty() {
            "(empty stdout: no opinion)".into()
        } else {
            r.answer.stdout.trim_end().to_string()
        };
        println!("    hook answer: exit {} {shown}\n", r.answer.exit_code);
    }
    if let Some(path) = store_path {
        let store = audit::open_for_reading(&path, Default::default())?;
        let rows = store.report(audit::since(std::time::Duration::from_secs(3600)))?;
        println!("`hookgate report` for the scene (what a person reads before promoting a rule):");
        println!(
            "{:<12} {:<16} {:<8} {:>6} {:>10} {:>7} {:>6} {:>8}",
            "validator", "rule", "stage", "events", "would-deny", "warned", "asked", "blocked"
        );
        for r in rows.iter().filter(|r| r.rule != "*") {
            println!(
                "{:<12} {:<16} {:<8} {:>6} {:>10} {:>7} {:>6} {:>8}",
                r.validator, r.rule, r.stage, r.events, r.would_deny, r.warned, r.asked, r.blocked
            );
        }
        println!("\nThe lock-file edit passed silently; only the report shows it would have been denied.");
    }
    coordination(&root, &store_file, &opts, &rctx)?;
    if real_git {
        commits(&root, &opts)?;
    }
    if keep {
        let kept = dir.keep();
        println!("scratch repository kept at {}", kept.display());
    }
    Ok(ExitCode::SUCCESS)
}
