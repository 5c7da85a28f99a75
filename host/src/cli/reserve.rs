//! `reserve`, `release`, `extend`, `check`, `locks`, `force-release`.

use std::process::ExitCode;

use hookgate::reservations::{
    self, normalize_pattern, Conflict, Grant, Hold, Mode, Request, Selector,
};
use hookgate::store::now_ms;

use super::session::{relative, Session};
use super::{parse_duration, Cli};

/// Exit code of a request refused by a conflict (DESIGN §6).
pub const REFUSED: u8 = 3;

fn conflict_json(c: &Conflict, now: i64) -> serde_json::Value {
    serde_json::json!({
        "reservation": if c.queued { format!("q{}", c.hold.id) } else { c.hold.label() },
        "queued": c.queued,
        "holder": c.hold.agent_name,
        "holder_id": c.hold.agent,
        "holder_state": c.hold.holder_state,
        "holder_active": c.hold.holder_state == hookgate::presence::State::Active,
        "patterns": c.hold.patterns,
        "mode": c.hold.mode,
        "reason": c.hold.reason,
        "since_ms": c.hold.created_ms,
        "expires_ms": c.hold.expires_ms,
        "expires_in": relative(c.hold.expires_ms, now),
        "example": c.example,
    })
}

/// One line per conflict, for people and agents.
pub fn describe(c: &Conflict, now: i64) -> String {
    let h = &c.hold;
    let what = if c.queued {
        format!("a queued {} request (q{})", h.mode.as_str(), h.id)
    } else {
        format!("{} {}", h.label(), h.mode.as_str())
    };
    let example = c
        .example
        .as_deref()
        .map(|e| format!(" e.g. `{e}`"))
        .unwrap_or_default();
    let reason = if h.reason.is_empty() {
        String::new()
    } else {
        format!(" for \"{}\"", h.reason)
    };
    format!(
        "{} ({}, {}) holds {} as {what}{reason}, since {}, expires {};{example}",
        h.agent_name,
        h.agent,
        h.holder_state.as_str(),
        h.patterns.join(" "),
        relative(h.created_ms, now),
        relative(h.expires_ms, now),
    )
}

/// What the refused agent can do next.
pub fn next_steps(patterns: &[String], conflicts: &[Conflict]) -> String {
    let first = conflicts
        .first()
        .map(|c| c.hold.label())
        .unwrap_or_default();
    format!(
        "Next: work on files outside these patterns, or wait for the lease with `hookgate reserve {} --wait 10m` \
         (a holder that goes away stops blocking); an operator can `hookgate force-release {first} --reason \"…\"`.",
        patterns.join(" ")
    )
}

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
    let normalized: Vec<String> = patterns
        .iter()
        .map(|p| normalize_pattern(&s.paths, p))
        .collect::<Result<_, _>>()?;
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
    match grant {
        Grant::Granted {
            id,
            renewed,
            expires_ms,
        } => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"status": "granted", "reservation": format!("r{id}"), "id": id,
                        "renewed": renewed, "patterns": normalized, "mode": mode, "expires_ms": expires_ms,
                        "agent": s.agent.id, "name": s.name})
                );
            } else {
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
            let next = next_steps(&normalized, &conflicts);
            if json {
                println!(
                    "{}",
                    serde_json::json!({"status": "refused", "patterns": normalized, "mode": mode,
                        "conflicts": conflicts.iter().map(|c| conflict_json(c, now)).collect::<Vec<_>>(),
                        "next": next})
                );
            } else {
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
                eprintln!("{next}");
            }
            Ok(ExitCode::from(REFUSED))
        }
    }
}

/// Parse `r12`, `12` as ids; anything else is a pattern.
fn selector(s: &Session, args: &[String], all: bool) -> anyhow::Result<Selector> {
    if all {
        if !args.is_empty() {
            anyhow::bail!("give patterns or ids, or --all, not both");
        }
        return Ok(Selector::All);
    }
    if args.is_empty() {
        anyhow::bail!("name what to act on: patterns, reservation ids (r12), or --all");
    }
    let ids: Vec<Option<i64>> = args
        .iter()
        .map(|a| a.strip_prefix('r').unwrap_or(a).parse::<i64>().ok())
        .collect();
    if ids.iter().all(Option::is_some) {
        return Ok(Selector::Ids(ids.into_iter().flatten().collect()));
    }
    Ok(Selector::Patterns(
        args.iter()
            .map(|p| normalize_pattern(&s.paths, p))
            .collect::<Result<_, _>>()?,
    ))
}

fn print_changed(verb: &str, changed: &[reservations::Released], json: bool, now: i64) -> ExitCode {
    if json {
        println!(
            "{}",
            serde_json::json!({verb: changed.iter().map(|r| serde_json::json!({
                "reservation": format!("r{}", r.id), "agent": r.agent, "patterns": r.patterns,
                "expires_ms": r.expires_ms})).collect::<Vec<_>>()})
        );
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
    let sel = selector(&s, args, all)?;
    let mut store = s.store()?;
    let now = now_ms();
    let done = reservations::release(&mut store, &s.agent.id, &sel, now)?;
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
    let sel = selector(&s, args, all)?;
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
    let sel = selector(&s, args, false)?;
    let reason = reservations::check_reason(reason)?;
    let mut store = s.store()?;
    let now = now_ms();
    let actor = format!("{} ({})", s.name, s.agent.id);
    let done = reservations::force_release(&mut store, &actor, &sel, &reason, now)?;
    Ok(print_changed("force-released", &done, json, now))
}

fn hold_json(h: &Hold, me: &str, now: i64) -> serde_json::Value {
    serde_json::json!({
        "reservation": h.label(), "id": h.id, "holder": h.agent_name, "holder_id": h.agent,
        "holder_state": h.holder_state, "mine": h.agent == me, "patterns": h.patterns, "mode": h.mode,
        "reason": h.reason, "auto": h.auto, "since_ms": h.created_ms, "expires_ms": h.expires_ms,
        "expires_in": relative(h.expires_ms, now),
    })
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
        println!(
            "{}",
            serde_json::json!({"now_ms": now, "reservations": holds.iter().map(|h| hold_json(h, &s.agent.id, now)).collect::<Vec<_>>()})
        );
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
    if paths.is_empty() {
        anyhow::bail!("name at least one path");
    }
    let store = s.store()?;
    let now = now_ms();
    let mut out = Vec::new();
    let mut blocked = false;
    for raw in paths {
        let norm = s.paths.normalize(raw);
        let Some(set) = reservations::path_set(&norm, s.paths.repo_root.as_deref(), s.rctx.fold)
        else {
            anyhow::bail!("`{raw}` is not a path");
        };
        let conflicts = reservations::conflicts(
            store.connection(),
            &set,
            Mode::Exclusive,
            &s.agent.id,
            now,
            &s.rctx,
        )?;
        let mine: Vec<Hold> =
            reservations::list(store.connection(), Some(&s.agent.id), now, &s.rctx)?
                .into_iter()
                .filter(|h| {
                    reservations::hold_set(&h.patterns, h.auto, s.rctx.fold)
                        .ok()
                        .is_some_and(|hs| !matches!(hookgate_glob::overlap(&set, &hs), Ok(None)))
                })
                .collect();
        blocked |= !conflicts.is_empty();
        out.push((raw.clone(), norm, conflicts, mine));
    }
    drop(store);
    if json {
        println!(
            "{}",
            serde_json::json!({"paths": out.iter().map(|(raw, norm, c, mine)| serde_json::json!({
                "path": raw, "normalized": norm, "free": c.is_empty(),
                "held_by_others": c.iter().map(|c| conflict_json(c, now)).collect::<Vec<_>>(),
                "held_by_you": mine.iter().map(|h| hold_json(h, &s.agent.id, now)).collect::<Vec<_>>(),
            })).collect::<Vec<_>>()})
        );
    } else {
        for (raw, _, conflicts, mine) in &out {
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
