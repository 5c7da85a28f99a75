//! `agents` and `whoami`.

use std::process::ExitCode;

use hookgate::presence;
use hookgate::reservations::{self, report};
use hookgate::store::now_ms;

use super::session::{relative, Session};
use super::Cli;

pub fn agents(cli: &Cli, all: bool, json: bool) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "agents")?;
    let store = s.store()?;
    let now = now_ms();
    let rows = report::roster(store.connection(), &s.rctx, all, now)?;
    drop(store);
    if json {
        println!("{}", report::agents_json(&rows, &s.agent.id, now));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<20} {:<8} {:<8} {:<12} {:>5}  {:<28} id",
        "name", "platform", "state", "last seen", "locks", "last action"
    );
    for report::AgentRow {
        agent: a,
        state,
        held,
    } in &rows
    {
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

pub fn whoami(cli: &Cli, role: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "whoami")?;
    let mut store = s.store()?;
    if let Some(r) = role {
        hookgate::coordination::messages::check_name("the role", r)?;
        if r.len() > 40 || r.contains(',') {
            anyhow::bail!("a role is one short word (at most 40 bytes, no commas)");
        }
        store.write_leases(|tx| presence::set_role(tx, &s.agent.id, r))?;
    }
    let role = presence::role_of(store.connection(), &s.agent.id)?;
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
            report::whoami_json(&report::Whoami {
                agent: &s.agent,
                name: &s.name,
                platform: &platform,
                identity_from: source,
                store: &s.store_path,
                holds: &holds,
            })
        );
    } else {
        println!("{} ({})", s.name, s.agent.id);
        if let Some(sub) = &s.agent.subagent {
            println!("subagent {sub} of session {}", s.agent.session);
        }
        println!("platform: {platform}; identity from {source}");
        if let Some(r) = &role {
            println!("role: {r}");
        }
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
