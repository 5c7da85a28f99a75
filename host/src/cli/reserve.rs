//! `reserve`, `release`, `extend`, `check`, `locks`, `force-release`.

use std::process::ExitCode;

use hookgate::reservations::report;
use hookgate::reservations::{self, Grant, Hold, Mode, Request};
use hookgate::store::now_ms;

use super::session::{relative, Session};
use super::{parse_duration, Cli};

pub use hookgate::reservations::report::{describe, next_steps};

/// Exit code of a request refused by a conflict (DESIGN §6).
pub const REFUSED: u8 = 3;

#[allow(clippy::too_many_arguments)]
pub fn reserve(
    cli: &Cli,
    patterns: &[String],
    mode: Mode,
    ttl: Option<&str>,
    reason: Option<&str>,
    wait: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "reserve")?;
    let ttl_ms = match ttl {
        Some(t) => parse_duration(t)?.as_millis() as i64,
        None => s.rctx.settings.default_ttl_ms,
    };
    let normalized = report::normalize_all(&s.paths, patterns)?;
    let req = Request {
        patterns: normalized.clone(),
        mode,
        ttl_ms,
        reason: reservations::check_reason(reason.unwrap_or(""))?,
        auto: false,
    };
    let grant = match wait {
        Some(w) => reservations::acquire_waiting(
            &s.store_path,
            &s.agent,
            "cli",
            &req,
            &s.rctx,
            parse_duration(w)?,
        )?,
        None => {
            let mut store = s.store()?;
            reservations::acquire(&mut store, &s.agent, "cli", &req, &s.rctx)?
        }
    };
    let now = now_ms();
    if json {
        println!(
            "{}",
            report::grant_json(&grant, &req, &s.agent.id, &s.name, now)
        );
    }
    match grant {
        Grant::Granted {
            id,
            renewed,
            expires_ms,
        } => {
            if !json {
                println!(
                    "{} r{id}: {} ({}) for {} ({}), expires {}",
                    if renewed { "renewed" } else { "granted" },
                    normalized.join(" "),
                    mode.as_str(),
                    s.name,
                    s.agent.id,
                    relative(expires_ms, now)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Grant::Refused { conflicts } => {
            if !json {
                eprintln!(
                    "hookgate: refused: {} ({}) conflicts with {} reservation{}:",
                    normalized.join(" "),
                    mode.as_str(),
                    conflicts.len(),
                    if conflicts.len() == 1 { "" } else { "s" }
                );
                for c in &conflicts {
                    eprintln!("  - {}", describe(c, now));
                }
                if wait.is_some() {
                    eprintln!("  (gave up after waiting {})", wait.unwrap_or_default());
                }
                eprintln!("{}", next_steps(&normalized, &conflicts));
            }
            Ok(ExitCode::from(REFUSED))
        }
    }
}

fn print_changed(verb: &str, changed: &[reservations::Released], json: bool, now: i64) -> ExitCode {
    if json {
        println!("{}", report::changed_json(verb, changed));
    } else if changed.is_empty() {
        println!("nothing to {verb}");
    } else {
        for r in changed {
            if verb == "extended" {
                println!(
                    "extended r{}: {} now expires {}",
                    r.id,
                    r.patterns.join(" "),
                    relative(r.expires_ms, now)
                );
            } else {
                println!(
                    "{verb} r{}: {} (held by {})",
                    r.id,
                    r.patterns.join(" "),
                    r.agent
                );
            }
        }
    }
    ExitCode::SUCCESS
}

pub fn release(cli: &Cli, args: &[String], all: bool, json: bool) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "release")?;
    let sel = report::selector(&s.paths, args, all)?;
    let mut store = s.store()?;
    let now = now_ms();
    let mut who = s.agent.clone();
    who.name = s.name.clone();
    let done = hookgate::coordination::changes::release(
        &mut store,
        &who,
        &sel,
        &s.policy.coordination,
        &s.rctx,
        now,
    )?;
    Ok(print_changed("released", &done, json, now))
}

pub fn extend(
    cli: &Cli,
    args: &[String],
    all: bool,
    by: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "extend")?;
    let sel = report::selector(&s.paths, args, all)?;
    let by = parse_duration(by)?;
    let mut store = s.store()?;
    let now = now_ms();
    let done = reservations::extend(&mut store, &s.agent.id, &sel, by, &s.rctx, now)?;
    Ok(print_changed("extended", &done, json, now))
}

pub fn force_release(
    cli: &Cli,
    args: &[String],
    reason: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "force-release")?;
    let sel = report::selector(&s.paths, args, false)?;
    let reason = reservations::check_reason(reason)?;
    let mut store = s.store()?;
    let now = now_ms();
    let actor = format!("{} ({})", s.name, s.agent.id);
    let done = reservations::force_release(&mut store, &actor, &sel, &reason, now)?;
    Ok(print_changed("force-released", &done, json, now))
}

pub fn locks(cli: &Cli, mine: bool, of: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "locks")?;
    let store = s.store()?;
    let now = now_ms();
    let filter = match (mine, of) {
        (true, _) => Some(s.agent.id.clone()),
        (false, Some(who)) => match hookgate::presence::find(store.connection(), who)? {
            Some(a) => Some(a.id),
            None => anyhow::bail!("no agent `{who}` in this store; see `hookgate agents`"),
        },
        _ => None,
    };
    let holds = reservations::list(store.connection(), filter.as_deref(), now, &s.rctx)?;
    drop(store);
    if json {
        println!("{}", report::locks_json(&holds, &s.agent.id, now));
        return Ok(ExitCode::SUCCESS);
    }
    if holds.is_empty() {
        println!("no live reservations");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<6} {:<9} {:<18} {:<7} {:<12} {:<30} reason",
        "id", "mode", "holder", "state", "expires", "patterns"
    );
    for h in &holds {
        println!(
            "{:<6} {:<9} {:<18} {:<7} {:<12} {:<30} {}{}",
            h.label(),
            h.mode.as_str(),
            if h.agent == s.agent.id {
                format!("{} (you)", h.agent_name)
            } else {
                h.agent_name.clone()
            },
            h.holder_state.as_str(),
            relative(h.expires_ms, now),
            h.patterns.join(" "),
            h.reason,
            if h.auto { " [auto]" } else { "" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `check PATH…`: who holds each path. Exit 3 when another live agent holds
/// one (a write there would be denied).
pub fn check(cli: &Cli, paths: &[String], json: bool) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "check")?;
    let store = s.store()?;
    let now = now_ms();
    let out = report::check_paths(
        store.connection(),
        &s.paths,
        &s.rctx,
        &s.agent.id,
        paths,
        now,
    )?;
    drop(store);
    let blocked = out.iter().any(|c| !c.conflicts.is_empty());
    if json {
        println!("{}", report::check_json(&out, &s.agent.id, now));
    } else {
        for report::PathCheck {
            path: raw,
            conflicts,
            mine,
            ..
        } in &out
        {
            if conflicts.is_empty() {
                let yours = if mine.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (you hold {})",
                        mine.iter().map(Hold::label).collect::<Vec<_>>().join(", ")
                    )
                };
                println!("{raw}: free{yours}");
            } else {
                for c in conflicts {
                    println!("{raw}: {}", describe(c, now));
                }
            }
        }
    }
    Ok(if blocked {
        ExitCode::from(REFUSED)
    } else {
        ExitCode::SUCCESS
    })
}
