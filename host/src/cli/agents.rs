//! `agents` and `whoami`.

use std::process::ExitCode;

use hookgate::presence::{self, State};
use hookgate::reservations;
use hookgate::store::now_ms;

use super::session::{relative, Session};
use super::Cli;

pub fn agents(cli: &Cli, all: bool, json: bool) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "agents")?;
    let store = s.store()?;
    let now = now_ms();
    let list = presence::list(store.connection())?;
    let holds = reservations::list(store.connection(), None, now, &s.rctx)?;
    drop(store);
    let rows: Vec<_> = list
        .into_iter()
        .map(|a| {
            let state = State::of(a.last_seen_ms, now, &s.policy.presence);
            let held = holds.iter().filter(|h| h.agent == a.id).count();
            (a, state, held)
        })
        .filter(|(_, state, held)| all || *state != State::Gone || *held > 0)
        .collect();
    if json {
        println!(
            "{}",
            serde_json::json!({"now_ms": now, "agents": rows.iter().map(|(a, state, held)| serde_json::json!({
                "id": a.id, "name": a.name, "platform": a.platform, "session": a.session,
                "parent": a.parent, "state": state, "last_seen_ms": a.last_seen_ms,
                "first_seen_ms": a.first_seen_ms, "last_action": a.last_action,
                "reservations": held, "you": a.id == s.agent.id,
            })).collect::<Vec<_>>()})
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<20} {:<8} {:<8} {:<12} {:>5}  {:<28} id",
        "name", "platform", "state", "last seen", "locks", "last action"
    );
    for (a, state, held) in &rows {
        let name = if a.id == s.agent.id {
            format!("{} (you)", a.name)
        } else {
            a.name.clone()
        };
        let id = match &a.parent {
            Some(p) => format!("{} (subagent of {p})", a.id),
            None => a.id.clone(),
        };
        println!(
            "{:<20} {:<8} {:<8} {:<12} {:>5}  {:<28} {id}",
            name,
            a.platform,
            state.as_str(),
            relative(a.last_seen_ms, now),
            held,
            hookgate::runtime::guest::truncate(&a.last_action, 28),
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn whoami(cli: &Cli, json: bool) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "whoami")?;
    let store = s.store()?;
    let now = now_ms();
    let rec = presence::find(store.connection(), &s.agent.id)?;
    let holds = reservations::list(store.connection(), Some(&s.agent.id), now, &s.rctx)?;
    drop(store);
    let source = if cli.agent.is_some() {
        "--agent / HOOKGATE_AGENT"
    } else {
        "the user at this terminal (set HOOKGATE_AGENT to act as an agent)"
    };
    let platform = rec
        .as_ref()
        .map_or("cli".to_string(), |r| r.platform.clone());
    if json {
        println!(
            "{}",
            serde_json::json!({"id": s.agent.id, "name": s.name, "session": s.agent.session,
                "subagent": s.agent.subagent, "platform": platform, "identity_from": source,
                "store": s.store_path, "reservations": holds.iter().map(|h| h.label()).collect::<Vec<_>>()})
        );
    } else {
        println!("{} ({})", s.name, s.agent.id);
        if let Some(sub) = &s.agent.subagent {
            println!("subagent {sub} of session {}", s.agent.session);
        }
        println!("platform: {platform}; identity from {source}");
        println!("store: {}", s.store_path.display());
        if holds.is_empty() {
            println!("holds no reservations");
        } else {
            for h in holds {
                println!(
                    "holds {} {} {} (expires {})",
                    h.label(),
                    h.mode.as_str(),
                    h.patterns.join(" "),
                    relative(h.expires_ms, now)
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
