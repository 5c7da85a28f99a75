//! Black-box: reservations through the real binary, by the CLI and through
//! Claude Code's hook, including bad input, presence, the wait queue and
//! deadlocks.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{sha256_hex, Repo};

const A: &str = "sess-a";
const B: &str = "sess-b";

fn json(out: &common::Out) -> serde_json::Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?} / {}", out.stdout, out.stderr))
}

fn live(repo: &Repo) -> Vec<serde_json::Value> {
    let out = repo.run_as("observer", &["locks", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    json(&out)["reservations"].as_array().unwrap().clone()
}

fn spawn_as(repo: &Repo, agent: &str, args: &[&str]) -> std::process::Child {
    repo.cmd(args)
        .env("HOOKGATE_AGENT", agent)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

#[test]
fn a_reservation_stops_another_agent_s_edit_through_the_claude_hook() {
    let repo = Repo::new();
    std::fs::create_dir_all(repo.root.join("src/auth")).unwrap();
    std::fs::write(repo.root.join("src/auth/login.py"), "x\n").unwrap();
    let r = repo.run_as(A, &["reserve", "src/auth/**", "--reason", "refactor login"]);
    assert_eq!(r.code, 0, "{r:?}");

    // B's edit is denied, naming A, its reason and the expiry.
    let b_edit = repo.claude_payload(B, None, "Edit", "src/auth/login.py");
    let out = repo.run(&["hook", "claude"], &b_edit);
    assert_eq!(out.code, 0);
    let (decision, reason) = out.decision();
    assert_eq!(decision, "deny", "{reason}");
    assert!(
        reason.contains("`src/auth/login.py` is reserved by another agent"),
        "{reason}"
    );
    assert!(reason.contains("(sess-a, active right now)"), "{reason}");
    assert!(reason.contains("src/auth/** (exclusive)"), "{reason}");
    assert!(reason.contains("\"refactor login\""), "{reason}");
    assert!(
        reason.contains("until 29m from now") || reason.contains("until 30m from now"),
        "{reason}"
    );
    assert!(
        reason.contains("hookgate reserve src/auth/login.py --wait"),
        "{reason}"
    );

    // A's own edit passes.
    let a_edit = repo.claude_payload(A, None, "Edit", "src/auth/login.py");
    let out = repo.run(&["hook", "claude"], &a_edit);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");

    // After A releases, B's edit passes.
    assert_eq!(repo.run_as(A, &["release", "--all"]).code, 0);
    let out = repo.run(&["hook", "claude"], &b_edit);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    // ... and B now holds an automatic lease on the file, so A is stopped.
    let (decision, reason) = repo.run(&["hook", "claude"], &a_edit).decision();
    assert_eq!(decision, "deny", "{reason}");
    assert!(
        reason.contains("(sess-b, active right now)") && reason.contains("auto: Edit"),
        "{reason}"
    );
}

#[test]
fn a_subagent_is_its_own_owner() {
    let repo = Repo::new();
    std::fs::create_dir_all(repo.root.join("src/auth")).unwrap();
    // The subagent a1 of session S reserves; the session's main agent is stopped.
    let sub = "sess-s:a1";
    assert_eq!(
        repo.run_as(sub, &["reserve", "src/auth/**", "--reason", "subtask"])
            .code,
        0
    );
    let main_edit = repo.claude_payload("sess-s", None, "Write", "src/auth/new.py");
    let (decision, reason) = repo.run(&["hook", "claude"], &main_edit).decision();
    assert_eq!(decision, "deny", "{reason}");
    assert!(reason.contains("(sess-s:a1, active right now)"), "{reason}");
    // The subagent's own edit passes.
    let sub_edit = repo.claude_payload("sess-s", Some("a1"), "Write", "src/auth/new.py");
    let out = repo.run(&["hook", "claude"], &sub_edit);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    // agents shows the subagent with its parent.
    let agents = json(&repo.run_as("observer", &["agents", "--json"]));
    let a = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == sub)
        .cloned()
        .unwrap();
    assert_eq!(a["parent"], "sess-s");
    assert_eq!(a["platform"], "claude", "the hook event set its platform");
    // The subagent's shell carries the session's id (CLAUDE_ENV_FILE is per
    // session); its Bash hook records the hookgate command it is about to
    // run, so the command acts as the subagent.
    let mut bash: serde_json::Value =
        serde_json::from_str(&repo.claude_payload("sess-s", Some("a1"), "Bash", "x")).unwrap();
    bash["tool_input"] =
        serde_json::json!({"command": "cd /tmp && hookgate release 'src/auth/**' --json"});
    let out = repo.run(&["hook", "claude"], &bash.to_string());
    assert_eq!(out.code, 0);
    let out = repo.run_as("sess-s", &["release", "src/auth/**", "--json"]);
    assert_eq!(out.code, 0, "released as the subagent: {out:?}");
    assert_eq!(json(&out)["released"][0]["agent"], sub);
    // An unrelated command from the session's shell is the session.
    let me = json(&repo.run_as("sess-s", &["whoami", "--json"]));
    assert_eq!(me["id"], "sess-s");
    assert_eq!(repo.run_as(sub, &["release", "--all"]).code, 0);
    let out = repo.run(&["hook", "claude"], &main_edit);
    assert_eq!(out.stdout, "", "{out:?}");
}

#[test]
fn a_refused_request_exits_3_and_lists_every_conflict() {
    let repo = Repo::new();
    assert_eq!(
        repo.run_as(A, &["reserve", "src/auth/**", "--reason", "auth"])
            .code,
        0
    );
    assert_eq!(
        repo.run_as(A, &["reserve", "docs/*.md", "--mode", "shared"])
            .code,
        0
    );
    let out = repo.run_as(
        B,
        &["reserve", "src/{auth,db}/*.py", "docs/api.md", "--json"],
    );
    assert_eq!(out.code, 3, "{out:?}");
    let v = json(&out);
    assert_eq!(v["status"], "refused");
    let c = v["conflicts"].as_array().unwrap();
    assert_eq!(c.len(), 2, "{v}");
    for field in [
        "holder",
        "holder_id",
        "patterns",
        "mode",
        "reason",
        "expires_ms",
        "reservation",
        "holder_active",
    ] {
        assert!(c[0].get(field).is_some(), "missing {field}: {v}");
    }
    assert_eq!(c[0]["holder_id"], A);
    assert_eq!(c[0]["holder_active"], true);
    assert_eq!(c[0]["reason"], "auth");
    assert!(c[0]["reservation"].as_str().unwrap().starts_with('r'));
    assert!(v["next"].as_str().unwrap().contains("--wait"));
    // Nothing was granted: all or nothing.
    assert!(live(&repo).iter().all(|r| r["holder_id"] == A));
    // The text form says what to do next, on stderr.
    let out = repo.run_as(B, &["reserve", "src/auth/x.py"]);
    assert_eq!(out.code, 3);
    assert!(
        out.stderr.contains("Next:") && out.stderr.contains("holds src/auth/**"),
        "{}",
        out.stderr
    );
}

#[test]
fn modes_follow_the_compatibility_matrix() {
    for (held, asked, ok) in [
        ("shared", "shared", true),
        ("shared", "intent", true),
        ("intent", "intent", true),
        ("intent", "shared", true),
        ("exclusive", "shared", false),
        ("shared", "exclusive", false),
        ("intent", "exclusive", false),
        ("exclusive", "exclusive", false),
    ] {
        let repo = Repo::new();
        assert_eq!(repo.run_as(A, &["reserve", "src", "--mode", held]).code, 0);
        let out = repo.run_as(B, &["reserve", "src/lib.rs", "--mode", asked]);
        assert_eq!(out.code == 0, ok, "{held} then {asked}: {out:?}");
    }
}

#[test]
fn exclusions_are_honoured_exactly() {
    let repo = Repo::new();
    assert_eq!(
        repo.run_as(A, &["reserve", "src/**", "!src/gen/**"]).code,
        0
    );
    assert_eq!(repo.run_as(B, &["reserve", "src/gen/x.rs"]).code, 0);
    assert_eq!(
        repo.run_as(B, &["reserve", "src/gen"]).code,
        0,
        "src/gen itself is excluded too"
    );
    assert_eq!(repo.run_as(B, &["reserve", "src/a.rs"]).code, 3);
    assert_eq!(
        repo.run_as(B, &["reserve", "**/*.rs"]).code,
        3,
        "src/a.rs matches both"
    );
    assert_eq!(repo.run_as(B, &["reserve", "docs/**"]).code, 0);
}

#[test]
fn reserving_again_renews_and_never_stacks() {
    let repo = Repo::new();
    let first = json(&repo.run_as(A, &["reserve", "src/**", "--ttl", "5m", "--json"]));
    let again = json(&repo.run_as(A, &["reserve", "src/**", "--ttl", "20m", "--json"]));
    assert_eq!(first["id"], again["id"]);
    assert_eq!(again["renewed"], true);
    assert!(again["expires_ms"].as_i64() > first["expires_ms"].as_i64());
    assert_eq!(live(&repo).len(), 1);
    // A different mode is a different reservation.
    assert_eq!(
        repo.run_as(A, &["reserve", "src/**", "--mode", "shared"])
            .code,
        0
    );
    assert_eq!(live(&repo).len(), 2);
}

#[test]
fn release_by_pattern_by_id_and_all_and_extend() {
    let repo = Repo::new();
    let id = json(&repo.run_as(A, &["reserve", "a/**", "--json"]))["reservation"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(repo.run_as(A, &["reserve", "b/**"]).code, 0);
    assert_eq!(repo.run_as(A, &["reserve", "c/**"]).code, 0);
    // Someone else's reservation can't be released by B.
    let out = repo.run_as(B, &["release", &id]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("no live reservation"), "{}", out.stderr);
    let before = live(&repo)[0]["expires_ms"].as_i64().unwrap();
    let out = repo.run_as(A, &["extend", &id, "--by", "1h", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(live(&repo)[0]["expires_ms"].as_i64().unwrap() >= before + 3_500_000);
    assert_eq!(repo.run_as(A, &["release", &id]).code, 0);
    assert_eq!(repo.run_as(A, &["release", "b/**"]).code, 0);
    assert_eq!(live(&repo).len(), 1);
    assert_eq!(repo.run_as(A, &["release", "--all"]).code, 0);
    assert!(live(&repo).is_empty());
    let out = repo.run_as(A, &["release", "zzz/**"]);
    assert_eq!(out.code, 1);
}

#[test]
fn bad_input_gets_a_clear_error_and_stores_nothing() {
    let repo = Repo::new();
    for (args, expect) in [
        (vec!["reserve", "src/[ab"], "`[` without a closing `]`"),
        (vec!["reserve", "../outside/**"], "outside the repository"),
        (vec!["reserve", "/etc/passwd"], "outside the repository"),
        (vec!["reserve", ""], "empty pattern"),
        (vec!["reserve", "!src/**"], "no pattern to reserve"),
        (vec!["reserve", "src/*/../x"], "`..` after a wildcard"),
        (vec!["reserve", "src/{a,b"], "unbalanced"),
        (vec!["reserve", "src/**", "--ttl", "0s"], "out of range"),
        (vec!["reserve", "src/**", "--ttl", "400d"], "out of range"),
        (vec!["reserve", "src/**", "--ttl", "soon"], "not a duration"),
        (
            vec!["locks", "--of", "NoSuchAgent"],
            "no agent `NoSuchAgent`",
        ),
        (
            vec!["force-release", "r999", "--reason", "x"],
            "no live reservation r999",
        ),
    ] {
        let out = repo.run_as(A, &args);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(out.stderr.contains(expect), "{args:?}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
    }
    assert!(live(&repo).is_empty());
}

#[test]
fn force_release_needs_a_reason_is_logged_and_the_holder_is_told() {
    let repo = Repo::new();
    let id = json(&repo.run_as(A, &["reserve", "src/**", "--json"]))["reservation"]
        .as_str()
        .unwrap()
        .to_string();
    let out = repo.run_as("operator", &["force-release", &id]);
    assert_eq!(out.code, 1, "--reason is required: {out:?}");
    let out = repo.run_as(
        "operator",
        &["force-release", &id, "--reason", "A crashed; unblocking B"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(live(&repo).is_empty());
    // The holder hears about it at its next hook...
    let a_edit = repo.claude_payload(A, None, "Edit", "src/lib.rs");
    let out = repo.run(&["hook", "claude"], &a_edit);
    let ctx = out.context();
    assert!(
        ctx.contains("force-released by") && ctx.contains("A crashed; unblocking B"),
        "{ctx}"
    );
    // ... once.
    let out = repo.run(&["hook", "claude"], &a_edit);
    assert_eq!(out.stdout, "", "{out:?}");
    // The release is in the lease log with its actor and reason.
    let conn = rusqlite::Connection::open(repo.store()).unwrap();
    let (actor, detail): (String, String) = conn
        .query_row(
            "SELECT actor, detail FROM lease_log WHERE action = 'force-release'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(
        actor.contains("operator") && detail.contains("A crashed"),
        "{actor} {detail}"
    );
}

#[test]
fn leases_lapse_and_gone_holders_stop_blocking() {
    let repo = Repo::new();
    repo.policy("version = 1\n[presence]\nactive = \"1s\"\nidle = \"1s\"\ngone = \"2s\"\n[reservations]\nrenew_on_activity = false\n");
    assert_eq!(
        repo.run_as(A, &["reserve", "src/**", "--ttl", "1h"]).code,
        0
    );
    assert_eq!(
        repo.run_as(B, &["reserve", "src/lib.rs", "--ttl", "1s"])
            .code,
        3
    );
    std::thread::sleep(Duration::from_millis(2300));
    // A has been silent past `gone`: its lease no longer blocks.
    let out = repo.run_as(B, &["reserve", "src/lib.rs", "--ttl", "1s"]);
    assert_eq!(out.code, 0, "{out:?}");
    let agents = json(&repo.run_as("observer", &["agents", "--json", "--all"]));
    let a = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == A)
        .cloned()
        .unwrap();
    assert_eq!(a["state"], "gone");
    // B's 1s lease lapses by TTL.
    std::thread::sleep(Duration::from_millis(1200));
    assert!(live(&repo).iter().all(|r| r["holder_id"] != B));
}

#[test]
fn a_cap_bounds_one_agent_s_live_reservations() {
    let repo = Repo::new();
    repo.policy("version = 1\n[reservations]\nmax_per_agent = 2\n");
    assert_eq!(repo.run_as(A, &["reserve", "a/**"]).code, 0);
    assert_eq!(repo.run_as(A, &["reserve", "b/**"]).code, 0);
    let out = repo.run_as(A, &["reserve", "c/**"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("policy cap 2"), "{}", out.stderr);
    // Renewing what one holds is not a new reservation.
    assert_eq!(repo.run_as(A, &["reserve", "a/**"]).code, 0);
}

#[test]
fn waiting_is_first_come_first_served_and_gives_up_cleanly() {
    let repo = Repo::new();
    assert_eq!(
        repo.run_as(A, &["reserve", "src/**", "--mode", "shared"])
            .code,
        0
    );
    // B queues for an exclusive lease.
    let b = spawn_as(&repo, B, &["reserve", "src/**", "--wait", "20s"]);
    std::thread::sleep(Duration::from_millis(700));
    // A stream of shared requests can't overtake B's queued exclusive one.
    let c = repo.run_as(
        "sess-c",
        &["reserve", "src/lib.rs", "--mode", "shared", "--json"],
    );
    assert_eq!(c.code, 3, "{c:?}");
    let v = json(&c);
    assert_eq!(v["conflicts"][0]["queued"], true, "{v}");
    assert_eq!(v["conflicts"][0]["holder_id"], B);
    // D queues behind B.
    let started = Instant::now();
    let d = spawn_as(&repo, "sess-d", &["reserve", "src/**", "--wait", "20s"]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(repo.run_as(A, &["release", "--all"]).code, 0);
    let b = b.wait_with_output().unwrap();
    assert_eq!(
        b.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&b.stderr)
    );
    // D still waits: B holds it now.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(repo.run_as(B, &["release", "--all"]).code, 0);
    let d = d.wait_with_output().unwrap();
    assert_eq!(
        d.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&d.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    // A wait that reaches its deadline gives up with exit 3 and leaves no queue entry.
    let t = Instant::now();
    let e = repo.run_as("sess-e", &["reserve", "src/**", "--wait", "1s"]);
    assert_eq!(e.code, 3, "{e:?}");
    assert!(t.elapsed() >= Duration::from_millis(900) && t.elapsed() < Duration::from_secs(5));
    let conn = rusqlite::Connection::open(repo.store()).unwrap();
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM waiters", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn a_wait_that_would_deadlock_is_refused_at_once_naming_both() {
    let repo = Repo::new();
    assert_eq!(repo.run_as(A, &["reserve", "x/**"]).code, 0);
    assert_eq!(repo.run_as(B, &["reserve", "y/**"]).code, 0);
    let a_waits = spawn_as(&repo, A, &["reserve", "y/**", "--wait", "6s"]);
    std::thread::sleep(Duration::from_millis(700));
    let t = Instant::now();
    let out = repo.run_as(B, &["reserve", "x/**", "--wait", "6s"]);
    assert!(t.elapsed() < Duration::from_secs(3), "refused at once");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("deadlock"), "{}", out.stderr);
    assert!(
        out.stderr.contains(A) && out.stderr.contains(B),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("y/**"),
        "names what A waits for: {}",
        out.stderr
    );
    // B's refusal left A's wait alone; release y and A gets it.
    assert_eq!(repo.run_as(B, &["release", "--all"]).code, 0);
    let a = a_waits.wait_with_output().unwrap();
    assert_eq!(
        a.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&a.stderr)
    );
}

/// Make the store newer than this hookgate, or garbage; the snapshot goes
/// too, so every reader has to open the database.
fn break_store(db: &std::path::Path, damage: &str) {
    for f in ["state.db.leases", "state.db.agents"] {
        let _ = std::fs::remove_file(db.with_file_name(f));
    }
    if damage == "newer" {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.execute_batch("PRAGMA user_version = 99;").unwrap();
        return;
    }
    for f in ["state.db", "state.db-wal", "state.db-shm"] {
        let _ = std::fs::remove_file(db.with_file_name(f));
    }
    std::fs::write(db, vec![0x5au8; 8192]).unwrap();
}

#[test]
fn a_damaged_or_newer_store_is_refused_and_the_hook_still_answers() {
    for damage in ["newer", "corrupt"] {
        let repo = Repo::new();
        assert_eq!(repo.run_as(A, &["reserve", "docs/**"]).code, 0);
        let db = repo.store();
        break_store(&db, damage);
        let out = repo.run_as(B, &["reserve", "src/**"]);
        assert_eq!(out.code, 1, "{damage}: {out:?}");
        let expect = if damage == "newer" {
            "schema version 99"
        } else {
            "damaged"
        };
        assert!(out.stderr.contains(expect), "{damage}: {}", out.stderr);
        // The hook applies its fail mode (default allow) and says so; never silently.
        let out = repo.run(
            &["hook", "claude"],
            &repo.claude_payload(B, None, "Edit", "src/lib.rs"),
        );
        assert_eq!(out.code, 0);
        let ctx = out.context();
        assert!(
            ctx.contains("lock-check") && ctx.contains("on_error = allow"),
            "{damage}: {ctx}"
        );
        // ... and writes an audit line: the failure is in the report (the
        // journal sits beside the store and folds into a readable one).
        if damage == "newer" {
            let conn = rusqlite::Connection::open(&db).unwrap();
            let current = hookgate::store::schema::VERSION;
            conn.execute_batch(&format!("PRAGMA user_version = {current};"))
                .unwrap();
        } else {
            let _ = std::fs::remove_file(&db);
        }
        let report = repo.run(&["report", "--json"], "");
        assert_eq!(report.code, 0, "{damage}: {report:?}");
        let rows = report.json()["rows"].clone();
        let errors: u64 = rows
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["validator"] == "lock-check")
            .map(|r| r["errors"].as_u64().unwrap_or(0))
            .sum();
        assert!(errors >= 1, "{damage}: {rows}");
        break_store(&db, damage);
        // A fail-closed policy denies instead.
        repo.policy("version = 1\n[[validator]]\nname = \"lock-check\"\non_error = \"deny\"\n");
        let (decision, _) = repo
            .run(
                &["hook", "claude"],
                &repo.claude_payload(B, None, "Edit", "src/lib.rs"),
            )
            .decision();
        assert_eq!(decision, "deny", "{damage}");
    }
}

#[test]
fn claude_session_start_exports_the_agent_id_for_its_shell() {
    let repo = Repo::new();
    let env_file = repo.root.join("claude-env.sh");
    let mut payload: serde_json::Value =
        serde_json::from_str(&repo.fixture("session_start")).unwrap();
    payload["session_id"] = "it's-me".into();
    let out = repo
        .cmd(&["hook", "claude"])
        .env("CLAUDE_ENV_FILE", &env_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(payload.to_string().as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&env_file).unwrap();
    assert_eq!(text, "export HOOKGATE_AGENT='it'\\''s-me'\n");
    // The shell that sources it resolves to the same agent as the hooks.
    let whoami = Command::new("sh")
        .arg("-c")
        .arg(format!(
            ". '{}' && '{}' whoami --json",
            env_file.display(),
            common::BIN
        ))
        .current_dir(&repo.root)
        .env_remove("HOOKGATE_AGENT")
        .env("HOOKGATE_CACHE", common::shared_cache())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&whoami.stdout).unwrap();
    assert_eq!(v["id"], "it's-me");
    assert_eq!(v["platform"], "claude", "the hook registered it first");
}

#[test]
fn names_are_readable_unique_and_settable() {
    let repo = Repo::new();
    let a = json(&repo.run_as(A, &["whoami", "--json"]));
    let b = json(&repo.run_as(B, &["whoami", "--json"]));
    assert_ne!(a["name"], b["name"]);
    assert!(a["name"]
        .as_str()
        .unwrap()
        .chars()
        .next()
        .unwrap()
        .is_uppercase());
    let out = repo.run_as(B, &["whoami", "--name", "Reviewer", "--json"]);
    assert_eq!(json(&out)["name"], "Reviewer");
    let out = repo.run_as(A, &["whoami", "--name", "reviewer"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("belongs to agent sess-b"),
        "{}",
        out.stderr
    );
    let out = repo.run_as(A, &["whoami", "--name", "bad name!"]);
    assert_eq!(out.code, 1);
}

#[test]
fn guests_built_against_0_1_0_still_load_and_reservations_need_a_grant() {
    let repo = Repo::new();
    let old = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/guests/hostile-0.1.0.wasm"
    );
    let policy = |path: &str, grants: &str| {
        format!(
            "version = 1\n[[validator]]\nname = \"hostile\"\npath = \"{path}\"\nsha256 = \"{}\"\nstage = \"enforce\"\n{grants}config = {{ mode = \"{}\" }}\n",
            sha256_hex(path),
            if path == old { "deny" } else { "reservations" }
        )
    };
    repo.policy(&policy(old, ""));
    let (decision, reason) = repo.hook("pre_edit_source").decision();
    assert_eq!(decision, "deny", "{reason}");
    assert!(reason.contains("denied by the hostile guest"), "{reason}");

    // A 0.1.1 guest that imports `reservations` is refused without the grant...
    repo.policy(&policy(common::HOSTILE_WASM, ""));
    let out = repo.run(&["policy", "check"], "");
    assert_ne!(out.code, 0);
    assert!(
        (out.stdout.clone() + &out.stderr).contains("grants = [\"reservations\"]"),
        "{out:?}"
    );
    // ... and reads the store with it.
    repo.policy(&policy(
        common::HOSTILE_WASM,
        "grants = [\"reservations\"]\n",
    ));
    assert_eq!(repo.run_as(A, &["reserve", "src/lib.rs"]).code, 0);
    let out = repo.run(
        &["hook", "claude"],
        &repo.claude_payload(B, None, "Edit", "src/lib.rs"),
    );
    let ctx = out.context();
    assert!(ctx.contains("1 holder(s)"), "{ctx}");
}
