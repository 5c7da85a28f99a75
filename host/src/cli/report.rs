//! `hookgate report` and `hookgate replay`.

use std::path::PathBuf;
use std::process::ExitCode;

use hookgate::chain::Runtime;
use hookgate::paths;
use hookgate::policy;
use hookgate::store::{audit, Store};

use super::{parse_duration, Cli};

fn store_path(cli: &Cli) -> (PathBuf, Option<PathBuf>) {
    let root = std::env::current_dir()
        .ok()
        .and_then(|d| paths::find_repo_root(&d));
    (cli.store_path(root.as_deref()), root)
}

/// Open the store with the journal folded in, pruned by the policy's retention.
fn open_audit(
    cli: &Cli,
    path: &std::path::Path,
    root: Option<&std::path::Path>,
) -> anyhow::Result<Store> {
    let retention = policy::layers_for(root, cli.policy.as_deref())
        .ok()
        .and_then(|l| policy::load(&l).ok())
        .map(|p| p.audit)
        .unwrap_or_default();
    Ok(audit::open_for_reading(path, retention)?)
}

pub fn report(cli: &Cli, since: &str, json: bool) -> anyhow::Result<ExitCode> {
    let window = parse_duration(since)?;
    let (path, root) = store_path(cli);
    let store = open_audit(cli, &path, root.as_deref())?;
    let rows = store.report(audit::since(window))?;
    if json {
        println!(
            "{}",
            serde_json::json!({"since": since, "store": path, "rows": rows})
        );
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no events in the last {since} ({})", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    println!("hookgate report, last {since} ({})", path.display());
    println!(
        "{:<14} {:<20} {:<8} {:>7} {:>10} {:>9} {:>7} {:>6} {:>8} {:>7}",
        "validator",
        "rule",
        "stage",
        "events",
        "would-deny",
        "would-ask",
        "warned",
        "asked",
        "blocked",
        "errors"
    );
    for r in rows {
        if r.rule == "*" {
            println!(
                "{:<14} {:<20} {:<8} {:>7} {:>10} {:>9} {:>7} {:>6} {:>8} {:>7}",
                r.validator, "(all events)", r.stage, r.events, "", "", "", "", "", r.errors
            );
        } else {
            println!(
                "{:<14} {:<20} {:<8} {:>7} {:>10} {:>9} {:>7} {:>6} {:>8} {:>7}",
                r.validator,
                r.rule,
                r.stage,
                r.events,
                r.would_deny,
                r.would_ask,
                r.warned,
                r.asked,
                r.blocked,
                ""
            );
        }
    }
    println!("\nwould-deny/would-ask count what the validator asked for; warned/asked/blocked what its stage let it do.");
    Ok(ExitCode::SUCCESS)
}

pub fn replay(cli: &Cli, since: &str, limit: u32, json: bool) -> anyhow::Result<ExitCode> {
    let window = parse_duration(since)?;
    let (path, root) = store_path(cli);
    let store = open_audit(cli, &path, root.as_deref())?;
    let layers = policy::layers_for(root.as_deref(), cli.policy.as_deref())?;
    let policy = policy::load(&layers)?;
    let rt = Runtime::for_store(&path).map_err(anyhow::Error::msg)?;
    let events = store.events_since(audit::since(window), limit)?;
    let mut changed = Vec::new();
    for logged in &events {
        // Reservations of that moment are gone: lock-check sees none.
        let detached: hookgate::runtime::services::SharedView =
            std::sync::Arc::new(std::sync::Mutex::new(hookgate::lease_view::Detached));
        let v = rt.run_with(&policy, &logged.event, Some(detached));
        if v.decision != logged.decision {
            changed.push(serde_json::json!({
                "id": logged.id,
                "ts_ms": logged.ts_ms,
                "agent": logged.event.agent.name,
                "event": logged.event.native_event,
                "tool": logged.event.tool,
                "paths": logged.event.writes.iter().chain(&logged.event.reads).chain(&logged.event.deletes).collect::<Vec<_>>(),
                "was": logged.decision,
                "now": v.decision,
                "because": v.findings.iter().filter(|f| f.effective == v.decision).map(|f| format!("{}/{}", f.validator, f.rule)).collect::<Vec<_>>(),
            }));
        }
    }
    if json {
        println!(
            "{}",
            serde_json::json!({"replayed": events.len(), "changed": changed})
        );
    } else {
        println!(
            "replayed {} event(s) from the last {since} through {}",
            events.len(),
            policy.sources.join(" + ")
        );
        if changed.is_empty() {
            println!("no decision would change");
        }
        for c in &changed {
            println!(
                "#{} {} {} {} {}: {} → {} {}",
                c["id"],
                c["agent"].as_str().unwrap_or(""),
                c["event"].as_str().unwrap_or(""),
                c["tool"].as_str().unwrap_or(""),
                c["paths"],
                c["was"].as_str().unwrap_or(""),
                c["now"].as_str().unwrap_or(""),
                c["because"]
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
