//! Black-box: the real binary on real Claude Code payloads, for every event
//! hookgate handles, with the exact answers under each stage and fail mode.

mod common;

use common::{hostile_policy, Repo};
use serde_json::json;

const SECRETS: &str = "hookgate write-guard/secrets: write blocked: .env — secrets and credentials are never written by agents; ask a human to change them (see README.md#write-guard)";

fn line(v: serde_json::Value) -> String {
    format!("{v}\n")
}

fn pre(decision: &str, reason: &str) -> String {
    line(
        json!({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": decision, "permissionDecisionReason": reason}}),
    )
}

#[test]
fn every_event_gets_its_exact_answer_under_the_default_policy() {
    let repo = Repo::new();
    let policy_ask = "hookgate write-guard/hookgate-policy: write needs a human's approval: .hookgate/policy.toml — this is the guard's own policy and wiring; a human approves every change (see README.md#write-guard)";
    let env_ask = "hookgate read-guard/env-files: read needs a human's approval: .env — .env files usually hold secrets; a human decides whether the agent may read this one (see README.md#read-guard)";
    let key_deny = "hookgate read-guard/private-keys: read blocked: deploy/key.pem — private keys never enter an agent's context (see README.md#read-guard)";
    let cases: &[(&str, String)] = &[
        ("pre_edit_source", String::new()),
        ("pre_write_env", pre("deny", SECRETS)),
        ("pre_multiedit_policy", pre("ask", policy_ask)),
        ("pre_notebookedit", String::new()),
        ("pre_read_env", pre("ask", env_ask)),
        ("pre_read_source", String::new()),
        ("pre_glob", String::new()),
        ("pre_grep_key", pre("deny", key_deny)),
        ("pre_bash", String::new()),
        ("pre_unknown_tool", String::new()),
        ("post_write_env", String::new()),
        ("post_edit_source", String::new()),
        ("user_prompt_submit", String::new()),
        ("session_start", String::new()),
        ("stop", String::new()),
        ("session_end", String::new()),
        ("unknown_event", String::new()),
    ];
    for (fixture, expected) in cases {
        let out = repo.hook(fixture);
        assert_eq!(out.code, 0, "{fixture}: {out:?}");
        assert_eq!(&out.stdout, expected, "{fixture}: stderr {}", out.stderr);
    }
    // The session's edit of src/lib.rs leased it (auto_reserve); a subagent of
    // the same session is its own agent, so its edit of the file is denied.
    let (decision, reason) = repo.hook("subagent_edit").decision();
    assert_eq!(decision, "deny", "{reason}");
    assert!(
        reason.contains("hookgate lock-check/held: `src/lib.rs` is reserved by another agent")
            && reason.contains("(8c1f2e4a-5b6c-4d7e-8f90-a1b2c3d4e5f6, active right now)"),
        "{reason}"
    );
}

#[test]
fn stages_cap_the_same_finding() {
    let repo = Repo::new();
    let warn = format!("{SECRETS} [warn stage: would deny; allowed for now]");
    for (stage, expected) in [
        ("enforce", pre("deny", SECRETS)),
        (
            "warn",
            line(
                json!({"hookSpecificOutput": {"hookEventName": "PreToolUse", "additionalContext": warn}}),
            ),
        ),
        ("monitor", String::new()),
    ] {
        repo.policy(&format!(
            "version = 1\n[[validator]]\nname = \"write-guard\"\nstage = \"{stage}\"\n"
        ));
        let out = repo.hook("pre_write_env");
        assert_eq!(
            (out.code, &out.stdout),
            (0, &expected),
            "stage {stage}: {}",
            out.stderr
        );
    }
    // A per-rule stage overrides the validator's.
    repo.policy("version = 1\n[[validator]]\nname = \"write-guard\"\nstage = \"enforce\"\nrules = { secrets = \"monitor\" }\n");
    assert_eq!(repo.hook("pre_write_env").stdout, "");
}

#[test]
fn monitor_findings_are_recorded_as_would_deny() {
    let repo = Repo::new();
    repo.policy("version = 1\n[[validator]]\nname = \"write-guard\"\nstage = \"monitor\"\n");
    assert_eq!(repo.hook("pre_write_env").stdout, "");
    let explain = repo.run(&["explain", "claude"], &repo.fixture("pre_write_env"));
    assert!(
        explain
            .stdout
            .contains("secrets: would deny (monitor: recorded only)"),
        "{}",
        explain.stdout
    );
    assert!(!explain.stdout.contains("denied"), "{}", explain.stdout);
    let report = repo.run(&["report", "--json"], "");
    let rows = report.json()["rows"].clone();
    let secrets = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "secrets")
        .expect("secrets row")
        .clone();
    assert_eq!(secrets["would_deny"], 1);
    assert_eq!(secrets["blocked"], 0);
    assert_eq!(secrets["stage"], "monitor");
}

#[test]
fn post_prompt_stop_and_session_events_answer_in_their_own_shape() {
    let repo = Repo::new();
    repo.policy(&hostile_policy("deny", "enforce", "allow"));
    let reason = "hookgate hostile/hostile-deny: denied by the hostile guest";
    assert_eq!(
        repo.hook("post_edit_source").stdout,
        line(json!({"decision": "block", "reason": reason}))
    );
    assert_eq!(
        repo.hook("user_prompt_submit").stdout,
        line(json!({"decision": "block", "reason": reason}))
    );
    assert_eq!(
        repo.hook("stop").stdout,
        line(json!({"decision": "block", "reason": reason}))
    );
    assert_eq!(
        repo.hook("session_start").stdout,
        line(
            json!({"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": reason}})
        )
    );
    assert_eq!(repo.hook("session_end").stdout, "");
    assert_eq!(repo.hook("unknown_event").stdout, "");
    // Under warn the same finding reaches the agent as context and nothing blocks.
    repo.policy(&hostile_policy("deny", "warn", "allow"));
    let warned = format!("{reason} [warn stage: would deny; allowed for now]");
    assert_eq!(
        repo.hook("post_edit_source").stdout,
        line(
            json!({"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": warned}})
        )
    );
    assert_eq!(
        repo.hook("stop").stdout,
        line(json!({"systemMessage": warned}))
    );
}

#[test]
fn bad_input_gets_the_fail_mode_and_a_message_on_stderr() {
    let repo = Repo::new();
    let bad = [
        "",
        "   \n",
        "not json",
        "[1,2]",
        "{\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Edit\",\"tool_input\":{}}",
        "{\"hook_event_name\":42}",
    ];
    for input in bad {
        let out = repo.run(&["hook", "claude"], input);
        assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{input:?}");
        assert!(
            out.stderr.contains("hookgate:") && out.stderr.contains("payload"),
            "{input:?}: {}",
            out.stderr
        );
    }
    repo.policy("version = 1\non_error = \"deny\"\n");
    for input in bad {
        let out = repo.run(&["hook", "claude", "--event", "PreToolUse"], input);
        assert_eq!(out.code, 0);
        let (decision, reason) = out.decision();
        assert_eq!(decision, "deny", "{input:?}");
        assert!(reason.contains("payload"), "{reason}");
    }
}

#[test]
fn a_broken_policy_fails_the_way_it_declares_and_points_at_the_line() {
    let repo = Repo::new();
    repo.policy("version = 1\non_error = \"deny\"\n[[validator]]\nname = \"write-guard\"\nstage = \"enforced\"\n");
    let out = repo.hook("pre_edit_source");
    assert_eq!(out.code, 0);
    let (_, reason) = out.decision();
    assert!(reason.contains("policy.toml:5:9"), "{reason}");
    assert!(out.stderr.contains("invalid policy"), "{}", out.stderr);
    // Without a readable on_error the default (allow) applies.
    repo.policy("this is [not toml");
    let out = repo.hook("pre_write_env");
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
    assert!(out.stderr.contains("invalid policy"), "{}", out.stderr);
    // A missing --policy file.
    std::fs::remove_file(repo.root.join(".hookgate/policy.toml")).unwrap();
    let out = repo.run(
        &["hook", "claude", "--policy", "/nonexistent/policy.toml"],
        &repo.fixture("pre_write_env"),
    );
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
    assert!(
        out.stderr.contains("/nonexistent/policy.toml"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_plugin_whose_hash_does_not_match_is_refused() {
    let repo = Repo::new();
    let policy = hostile_policy("deny", "enforce", "deny");
    let start = policy.find("sha256 = \"").unwrap() + 10;
    let fixed = format!(
        "{}{}{}",
        &policy[..start],
        "ab".repeat(32),
        &policy[start + 64..]
    );
    repo.policy(&fixed);
    let out = repo.hook("pre_edit_source");
    let (_, reason) = out.decision();
    assert!(
        reason.contains("sha256 is") && reason.contains("hookgate:error"),
        "{reason}"
    );
}

#[test]
fn hostile_guests_get_on_error_and_the_host_still_answers() {
    let repo = Repo::new();
    for (mode, expect) in [
        ("loop", "ran out of its CPU budget"),
        ("trap", "trapped"),
        ("alloc", "exceeded its memory limit"),
        ("grow", "exceeded its memory limit"),
        ("wasi", "trapped"),
        ("garbage", ""),
        ("error", "returned an error"),
        ("bad-config", "configuration refused"),
    ] {
        // Fail open.
        repo.policy(&hostile_policy(mode, "enforce", "allow"));
        let out = repo.hook("pre_edit_source");
        assert_eq!(out.code, 0, "{mode}: {}", out.stderr);
        // Failing open is not silent: the agent is told the check did not run.
        let context = out.context();
        assert!(
            context.contains("validator `hostile`") && context.contains("on_error = allow"),
            "{mode}: {}",
            out.stdout
        );
        assert!(
            out.stderr.contains("validator `hostile`") && out.stderr.contains(expect),
            "{mode}: {}",
            out.stderr
        );
        // Fail closed.
        repo.policy(&hostile_policy(mode, "enforce", "deny"));
        let out = repo.hook("pre_edit_source");
        assert_eq!(out.code, 0);
        let (decision, reason) = out.decision();
        assert_eq!(decision, "deny", "{mode}");
        assert!(
            reason.contains("hookgate hostile/hookgate:error"),
            "{reason}"
        );
        // A monitor-stage validator never blocks, even when it fails closed.
        repo.policy(&hostile_policy(mode, "monitor", "deny"));
        assert_eq!(repo.hook("pre_edit_source").stdout, "", "{mode}");
    }
}

#[test]
fn paths_are_normalized_before_validators_see_them() {
    let repo = Repo::new();
    std::os::unix::fs::symlink(repo.root.join(".git"), repo.root.join("src/innocent")).unwrap();
    let payload = repo
        .fixture("pre_edit_source")
        .replace("/src/lib.rs", "/src/../src/./innocent/config");
    let out = repo.run(&["hook", "claude"], &payload);
    let (_, reason) = out.decision();
    assert!(
        reason.contains("git-internals") && reason.contains(".git/config"),
        "{reason}"
    );
    // A relative path resolves against the payload's cwd.
    let payload = repo
        .fixture("pre_write_env")
        .replace(&format!("{}/.env", repo.root.display()), "src/../.env");
    assert!(repo
        .run(&["hook", "claude"], &payload)
        .stdout
        .contains("secrets"));
}

#[test]
fn concurrent_hook_processes_all_reach_the_audit_log() {
    let repo = Repo::new();
    let payload = repo.fixture("pre_write_env");
    let children: Vec<_> = (0..16)
        .map(|_| {
            let mut c = repo
                .cmd(&["hook", "claude"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(payload.as_bytes())
                .unwrap();
            c
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(String::from_utf8_lossy(&out.stdout), pre("deny", SECRETS));
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let report = repo.run(&["report", "--json"], "");
    let rows = report.json()["rows"].clone();
    let wg = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["validator"] == "write-guard" && r["rule"] == "*")
        .unwrap()
        .clone();
    assert_eq!(wg["events"], 16);
}

#[test]
fn the_compiled_code_cache_and_audit_journal_are_protected() {
    let repo = Repo::new();
    let home_cache = "/home/someone/.cache/hookgate/abc-123.cwasm";
    let payload = repo
        .fixture("pre_write_env")
        .replace(&format!("{}/.env", repo.root.display()), home_cache);
    let (decision, reason) = repo.run(&["hook", "claude"], &payload).decision();
    assert_eq!(decision, "deny");
    assert!(reason.contains("hookgate-store"), "{reason}");
    let payload = repo
        .fixture("pre_write_env")
        .replace("/.env", "/.git/hookgate/audit-journal.jsonl");
    assert_eq!(repo.run(&["hook", "claude"], &payload).decision().0, "deny");
}

#[test]
fn the_raw_payload_reaches_a_guest_only_when_granted() {
    let repo = Repo::new();
    let payload = repo.fixture("pre_edit_source");
    repo.policy(&hostile_policy("raw", "enforce", "allow"));
    let out = repo.run(&["hook", "claude"], &payload);
    let ctx = out.json()["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(ctx.contains("no raw payload"), "{ctx}");
    repo.policy(&hostile_policy("raw", "enforce", "allow").replace(
        "stage = \"enforce\"",
        "stage = \"enforce\"\nraw_json = true",
    ));
    let out = repo.run(&["hook", "claude"], &payload);
    let ctx = out.json()["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap()
        .to_string();
    // The guest receives the payload exactly as the platform sent it.
    let sent_len = payload.len();
    assert!(
        ctx.contains(&format!("raw payload of {sent_len} bytes")),
        "{ctx}"
    );
}

#[test]
fn a_pinned_file_that_is_not_a_component_is_a_validator_failure() {
    use sha2::Digest;
    let repo = Repo::new();
    let junk = b"\0asm\x01\0\0\0 this is not a component";
    std::fs::create_dir_all(repo.root.join(".hookgate/plugins")).unwrap();
    std::fs::write(repo.root.join(".hookgate/plugins/junk.wasm"), junk).unwrap();
    let sha: String = sha2::Sha256::digest(junk)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // The path is relative to the policy file.
    repo.policy(&format!(
        "version = 1\non_error = \"deny\"\n[[validator]]\nname = \"junk\"\npath = \"plugins/junk.wasm\"\nsha256 = \"{sha}\"\nstage = \"enforce\"\n"
    ));
    let out = repo.hook("pre_edit_source");
    assert_eq!(out.code, 0);
    let (_, reason) = out.decision();
    assert!(
        reason.contains("hookgate junk/hookgate:error") && reason.contains("could not load"),
        "{reason}"
    );
    let check = repo.run(&["policy", "check"], "");
    assert_eq!(check.code, 1);
    assert!(
        check.stderr.contains("validator `junk`"),
        "{}",
        check.stderr
    );
}
