//! `hookgate doctor`: checks each wired platform (its hooks and hookgate's
//! MCP server) and the policy and store, and prints what to fix. Exit 0
//! when everything is in order, 1 otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use hookgate::install::doctor::{self, Check};
use hookgate::install::{self, mcp, PLATFORMS};
use hookgate::{paths, policy};

/// Do git's pre-commit and pre-push hooks run hookgate's guards?
fn git_guards(root: &std::path::Path) -> Vec<Check> {
    use hookgate::install::git_hooks;
    let Ok(loc) = git_hooks::locate(root) else {
        return Vec::new();
    };
    let dir = loc.husky.clone().unwrap_or_else(|| loc.dir.clone());
    ["pre-commit", "pre-push"]
        .into_iter()
        .map(|hook| {
            let path = dir.join(hook);
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let ok = text.contains(&format!("git {hook}"));
            Check {
                platform: "git".into(),
                ok,
                what: if ok {
                    format!("{hook} runs `hookgate git {hook}` ({})", path.display())
                } else {
                    format!(
                        "{hook} does not run hookgate's guard ({}): commits and pushes of paths other agents hold are not checked",
                        path.display()
                    )
                },
                fix: (!ok).then(|| "run `hookgate init --platform git`".into()),
            }
        })
        .collect()
}

pub fn run(dir: Option<PathBuf>, platforms: &[String], json: bool) -> anyhow::Result<ExitCode> {
    let (root, named) = super::init::targets(dir, platforms)?;
    // Named platforms, else every platform that has a configuration file
    // or hookgate's MCP server registered.
    let wirings: Vec<_> = if platforms.is_empty() {
        PLATFORMS
            .iter()
            .filter(|w| {
                install::path_of(w, &root).exists()
                    || mcp::mcp_wiring(w.platform).is_some_and(|m| {
                        matches!(mcp::status(m, &root, &[]), Ok(mcp::Entry::Ours { .. }))
                    })
            })
            .collect()
    } else {
        named
    };
    let mut checks: Vec<Check> = Vec::new();
    if wirings.is_empty() {
        checks.push(Check {
            platform: "hookgate".into(),
            ok: false,
            what: "no platform is wired in this repository".into(),
            fix: Some("run `hookgate init`".into()),
        });
    }
    for w in &wirings {
        checks.extend(doctor::platform(w, &root));
        checks.extend(doctor::mcp(w, &root));
    }
    checks.extend(git_guards(&root));
    // The policy loads and the store opens, as a hook here would find them.
    let pol = policy::layers_for(Some(&root), None).and_then(|l| policy::load(&l));
    checks.push(Check {
        platform: "hookgate".into(),
        ok: pol.is_ok(),
        what: match &pol {
            Ok(p) => format!("policy loads ({} validators)", p.validators.len()),
            Err(e) => format!("policy does not load: {e}"),
        },
        fix: pol
            .is_err()
            .then(|| "run `hookgate policy check` and fix what it reports".into()),
    });
    let store = paths::default_store(Some(&root), &root);
    let opened = hookgate::store::Store::open(&store);
    checks.push(Check {
        platform: "hookgate".into(),
        ok: opened.is_ok(),
        what: match &opened {
            Ok(_) => format!("store opens ({})", store.display()),
            Err(e) => format!("store does not open: {e}"),
        },
        fix: opened
            .is_err()
            .then(|| "check the permissions of the git directory".into()),
    });
    let bad = checks.iter().filter(|c| !c.ok).count();
    if json {
        println!("{}", serde_json::json!({"ok": bad == 0, "checks": checks}));
    } else {
        for c in &checks {
            let mark = if c.ok { "ok  " } else { "FIX " };
            println!("{mark} {:<9} {}", c.platform, c.what);
            if let Some(f) = &c.fix {
                println!("     {:<9} → {f}", "");
            }
        }
        println!(
            "{}",
            if bad == 0 {
                "all good".to_string()
            } else {
                format!("{bad} thing(s) to fix")
            }
        );
    }
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
