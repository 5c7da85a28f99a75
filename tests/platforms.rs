//! Every platform's dialect through the real binary: each payload in
//! `tests/fixtures/<platform>/NAME.json` (built from the documented shapes
//! in ../shared/reference/hook-protocols.md) is answered under the default
//! policy, and the exact stdout, stderr and exit code must equal
//! `NAME.expect.json`. `BLESS=1 cargo test --test platforms` rewrites the
//! expectations (review the diff: it is the contract with each platform).
//!
//! The cases cover allow, warn (CI config: a checkpoint tier in stage
//! warn), ask (an agent's settings file: a checkpoint tier, degraded by
//! `ask_fallback` where the platform can't ask) and deny (a secret written
//! or read, through the edit, read and shell tools), plus each platform's
//! prompt, turn-end and session events and its malformed inputs.

mod common;

use std::path::Path;

use common::Repo;

const PLATFORMS: &[&str] = &[
    "gemini", "codex", "cursor", "windsurf", "kiro", "copilot", "cline", "vscode", "droid", "qwen",
    "kimi",
];

fn fixtures(platform: &str) -> Vec<(String, std::path::PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(platform);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p.to_string_lossy().ends_with(".expect.json")
        })
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    out.sort();
    out
}

#[test]
fn every_platform_answers_in_its_dialect() {
    let bless = std::env::var_os("BLESS").is_some();
    let mut failures = Vec::new();
    let mut checked = 0;
    // Under the default policy, and under one whose validator denies every
    // event (to see each event's blocking channel: prompts, turn ends).
    for (variant, deny_all) in [("expect", false), ("deny.expect", true)] {
        for platform in PLATFORMS {
            // One repository per platform.
            let repo = Repo::new();
            if deny_all {
                repo.policy(&common::hostile_policy("deny", "enforce", "allow"));
            }
            let root = repo.root.display().to_string();
            for (name, path) in fixtures(platform) {
                let payload = std::fs::read_to_string(&path)
                    .unwrap()
                    .replace("{{ROOT}}", &root);
                let out = repo.run(&["hook", platform], &payload);
                let got = serde_json::json!({
                    "exit": out.code,
                    "stdout": out.stdout.replace(&root, "{{ROOT}}"),
                    "stderr": out.stderr.replace(&root, "{{ROOT}}"),
                });
                let expect_path = path.with_extension(format!("{variant}.json"));
                if bless {
                    std::fs::write(
                        &expect_path,
                        serde_json::to_string_pretty(&got).unwrap() + "\n",
                    )
                    .unwrap();
                    continue;
                }
                let want: serde_json::Value = match std::fs::read_to_string(&expect_path) {
                    Ok(t) => serde_json::from_str(&t).unwrap(),
                    Err(_) => {
                        failures.push(format!("{platform}/{name}: no {}", expect_path.display()));
                        continue;
                    }
                };
                if got != want {
                    failures.push(format!("{platform}/{name}:\n  want {want}\n  got  {got}"));
                }
                // Whatever the case, the answer is valid for the platform.
                valid_for(platform, &name, &out, &mut failures);
                checked += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The rules of each dialect (reference §0.4, §10.4), checked on every
/// answer independently of the expectations.
fn valid_for(platform: &str, name: &str, out: &common::Out, failures: &mut Vec<String>) {
    let mut bad = |m: &str| failures.push(format!("{platform}/{name}: {m}: {out:?}"));
    let stdout = out.stdout.trim();
    let one_object = || {
        stdout.is_empty()
            || serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(stdout).is_ok()
    };
    match platform {
        "windsurf" | "kiro" => {
            // Kiro: 1 is a warning shown to the user.
            if !([0, 2].contains(&out.code) || platform == "kiro" && out.code == 1) {
                bad("exit code other than 0 or 2");
            }
            if out.code == 2
                && (out.stderr.trim().is_empty() || !stdout.is_empty() && platform == "windsurf")
            {
                bad("a block needs the reason on stderr");
            }
        }
        "cline" => {
            if out.code != 0 {
                bad("Cline blocks on any non-zero exit");
            }
            let last = stdout.lines().last().unwrap_or("");
            if !serde_json::from_str::<serde_json::Value>(last)
                .is_ok_and(|v| v.get("cancel").is_some())
            {
                bad("the last line must be a JSON object with `cancel`");
            }
        }
        _ => {
            if out.code != 0 {
                bad("must exit 0 (the decision is in JSON)");
            }
            if !one_object() {
                bad("stdout must be empty or exactly one JSON object");
            }
        }
    }
    if platform == "gemini" && out.stderr.trim_start().starts_with('{') {
        bad("Gemini reads stderr as the answer when stdout is empty: never JSON there");
    }
    if platform == "codex" {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(stdout) {
            for k in ["continue", "stopReason", "suppressOutput"] {
                if v.get(k).is_some() {
                    bad("Codex fails open on continue/stopReason/suppressOutput");
                }
            }
            if v["hookSpecificOutput"]["permissionDecision"] == "deny"
                && v["hookSpecificOutput"]["permissionDecisionReason"]
                    .as_str()
                    .is_none_or(str::is_empty)
            {
                bad("Codex ignores a deny without a reason");
            }
            if v["hookSpecificOutput"]["permissionDecision"] == "ask" {
                bad("Codex fails open on ask");
            }
        }
    }
    if platform == "copilot" {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(stdout) {
            if v["permissionDecision"] == "deny"
                && v["permissionDecisionReason"]
                    .as_str()
                    .is_none_or(str::is_empty)
            {
                bad("Copilot requires a reason with deny");
            }
        }
    }
}

#[test]
fn ask_fallback_deny_turns_a_checkpoint_into_a_block_where_asking_is_impossible() {
    let repo = Repo::new();
    repo.policy("version = 1\nask_fallback = \"deny\"\n");
    let root = repo.root.display().to_string();
    let payload = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/codex/pre_apply_patch_settings.json"),
    )
    .unwrap()
    .replace("{{ROOT}}", &root);
    let out = repo.run(&["hook", "codex"], &payload);
    let v = out.json();
    assert_eq!(
        v["hookSpecificOutput"]["permissionDecision"], "deny",
        "{out:?}"
    );
    assert!(v["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap()
        .contains("ask_fallback = deny"));
    // Claude can ask: the same file is an ask there.
    let out = repo.run(
        &["hook", "claude"],
        &repo.claude_payload("s", None, "Write", ".claude/settings.json"),
    );
    assert_eq!(out.decision().0, "ask", "{out:?}");
}

#[test]
fn a_payload_from_another_platform_is_answered_as_named_and_recorded() {
    let repo = Repo::new();
    let root = repo.root.display().to_string();
    let cursor = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cursor/before_shell_ls.json"),
    )
    .unwrap()
    .replace("{{ROOT}}", &root);
    // Named gemini, shaped like Cursor's: a valid Gemini answer (here: none)
    // and the mismatch on stderr and in the audit log.
    let out = repo.run(&["hook", "gemini", "--event", "BeforeTool"], &cursor);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("looks like cursor's"), "{out:?}");
}

#[test]
fn init_then_doctor_is_clean_for_every_platform_and_uninstall_undoes_it() {
    let repo = Repo::new();
    std::fs::write(repo.root.join(".gitignore"), "").unwrap();
    let all = [
        "claude", "gemini", "codex", "cursor", "windsurf", "copilot", "cline", "kiro", "droid",
        "qwen",
    ];
    let mut args = vec!["init", "--bin", common::BIN];
    for p in all {
        args.extend(["--platform", p]);
    }
    let out = repo.run(&args, "");
    assert_eq!(out.code, 0, "{out:?}");
    let again = repo.run(&args, "");
    assert!(
        again.stdout.contains("nothing to change"),
        "idempotent: {again:?}"
    );
    let doctor = repo.run(&["doctor"], "");
    assert_eq!(doctor.code, 0, "{}", doctor.stdout);
    for p in all {
        assert!(
            doctor.stdout.contains(&format!("ok   {p:<9}")),
            "{p}: {}",
            doctor.stdout
        );
    }
    // Each platform's registered hook answers in its dialect: run one.
    let gem = std::fs::read_to_string(repo.root.join(".gemini/settings.json")).unwrap();
    assert!(gem.contains("hook gemini --event BeforeTool") && gem.contains("30000"));
    // hookgate's MCP server, in every project-level MCP configuration
    // (windsurf and cline keep theirs at user level only: not touched).
    for (p, _, _) in MCP_FILES {
        assert!(
            doctor
                .stdout
                .lines()
                .any(|l| l.starts_with(&format!("ok   {p:<9}"))
                    && l.contains("MCP server registered")),
            "{p}: {}",
            doctor.stdout
        );
    }
    for (p, file, key) in MCP_FILES {
        assert_eq!(
            mcp_entry(&repo.root, file, key),
            Some((common::BIN.to_string(), vec!["mcp".to_string()])),
            "{p}: {file}"
        );
    }
    assert_eq!(
        mcp_kind(&repo.root),
        Some("stdio".into()),
        "VS Code's entries are typed"
    );
    for p in ["windsurf", "cline"] {
        assert!(
            doctor
                .stdout
                .lines()
                .any(|l| l.contains(p) && l.contains("MCP server not registered")),
            "{p}: {}",
            doctor.stdout
        );
    }
    let out = repo.run(&["uninstall"], "");
    assert_eq!(out.code, 0, "{out:?}");
    for (p, file, key) in MCP_FILES {
        assert_eq!(mcp_entry(&repo.root, file, key), None, "{p}: {file}");
        assert!(!repo.root.join(file).exists(), "{p}: {file} left behind");
    }
    let doctor = repo.run(&["doctor"], "");
    assert_eq!(doctor.code, 1, "{}", doctor.stdout);
    assert!(
        doctor.stdout.contains("no platform is wired"),
        "{}",
        doctor.stdout
    );
}

/// Each platform's project MCP configuration: (platform, file, the key of
/// its servers).
const MCP_FILES: &[(&str, &str, &str)] = &[
    ("claude", ".mcp.json", "mcpServers"),
    ("gemini", ".gemini/settings.json", "mcpServers"),
    ("codex", ".codex/config.toml", "mcp_servers"),
    ("cursor", ".cursor/mcp.json", "mcpServers"),
    ("copilot", ".vscode/mcp.json", "servers"),
    ("kiro", ".kiro/settings/mcp.json", "mcpServers"),
    ("droid", ".factory/mcp.json", "mcpServers"),
    ("qwen", ".qwen/settings.json", "mcpServers"),
];

/// The `hookgate` server of `file` (JSON, or TOML for Codex): its command
/// and args.
fn mcp_entry(root: &Path, file: &str, key: &str) -> Option<(String, Vec<String>)> {
    let text = std::fs::read_to_string(root.join(file)).ok()?;
    let v: serde_json::Value = if file.ends_with(".toml") {
        serde_json::to_value(toml::from_str::<toml::Table>(&text).unwrap()).unwrap()
    } else {
        serde_json::from_str(&text).unwrap()
    };
    let e = v.get(key)?.get("hookgate")?;
    Some((
        e["command"].as_str()?.to_string(),
        e["args"]
            .as_array()?
            .iter()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect(),
    ))
}

fn mcp_kind(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join(".vscode/mcp.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["servers"]["hookgate"]["type"]
        .as_str()
        .map(str::to_string)
}

#[test]
fn doctor_names_what_to_fix() {
    let repo = Repo::new();
    std::fs::create_dir_all(repo.root.join(".gemini")).unwrap();
    std::fs::write(
        repo.root.join(".gemini/settings.json"),
        r#"{"hooks":{"BeforeTool":[{"matcher":"write_file","hooks":[{"type":"command","command":"/nonexistent/hookgate hook gemini --event BeforeTool","timeout":30}]}]}}"#,
    )
    .unwrap();
    let out = repo.run(&["doctor", "--json"], "");
    assert_eq!(out.code, 1);
    let v = out.json();
    let bad: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["what"].as_str().unwrap())
        .collect();
    let text = bad.join("\n");
    for want in [
        "BeforeTool timeout = 30 ms",
        "does not cover `run_shell_command`",
        "`AfterTool` is not registered",
        "`/nonexistent/hookgate` resolves",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

#[test]
fn bad_input_gets_each_platforms_fail_mode_and_a_valid_answer() {
    let repo = Repo::new();
    let root = repo.root.display().to_string();
    // Truncated, empty, non-object, and future-schema payloads, per platform.
    for platform in PLATFORMS {
        let sample = fixtures(platform)
            .into_iter()
            .next()
            .map(|(_, p)| {
                std::fs::read_to_string(p)
                    .unwrap()
                    .replace("{{ROOT}}", &root)
            })
            .unwrap();
        let truncated = &sample[..sample.len() / 2];
        let future = sample.replacen(
            '{',
            "{\"schema_version\":99,\"unknown_field\":{\"x\":[1,2]},",
            1,
        );
        for (what, input) in [
            ("truncated", truncated),
            ("empty", ""),
            ("array", "[1,2]"),
            ("future", future.as_str()),
        ] {
            let out = repo.run(&["hook", platform], input);
            let mut failures = Vec::new();
            valid_for(platform, what, &out, &mut failures);
            assert!(failures.is_empty(), "{failures:?}");
            if what != "future" {
                // Fails open by default: no block, a message on stderr.
                assert!(out.code == 0, "{platform} {what}: {out:?}");
                assert!(
                    out.stderr.contains("hookgate:"),
                    "{platform} {what}: {out:?}"
                );
            }
        }
    }
}

#[test]
fn a_50_mb_write_is_judged_like_any_other() {
    let repo = Repo::new();
    let big = "x".repeat(50 << 20);
    let payload = serde_json::json!({
        "session_id": "s", "cwd": repo.root, "hook_event_name": "PreToolUse",
        "tool_name": "Write", "tool_input": {"file_path": ".env", "content": big},
    })
    .to_string();
    let start = std::time::Instant::now();
    let out = repo.run(&["hook", "claude"], &payload);
    assert_eq!(out.decision().0, "deny", "{:?}", out.stderr);
    let cursor = serde_json::json!({
        "conversation_id": "c", "hook_event_name": "beforeReadFile", "workspace_roots": [repo.root],
        "file_path": repo.root.join("deploy/key.pem"), "content": big,
    })
    .to_string();
    let out = repo.run(&["hook", "cursor"], &cursor);
    assert_eq!(
        out.stdout, "{\"permission\":\"deny\"}\n",
        "{:?}",
        out.stderr
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
}
