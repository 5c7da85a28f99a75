//! `lock-check`: enforces reservations.
//!
//! - A write or delete to a path that another live agent holds, in any mode,
//!   is denied. The reason names the holder, since when, why, until when, and
//!   whether it is active now, and says what to do next.
//! - The agent's own reservations never block it (the host leaves them out).
//! - `auto_reserve` (on by default): a write to an unreserved path takes a
//!   short exclusive lease for its writer (renewed by each later write), so
//!   the next agent to touch it is stopped. The host takes it atomically with
//!   the decision, and only if the write is allowed.
//! - Reads are never blocked, but reading a path another agent holds
//!   exclusive adds a note that its content may change.
//! - At a commit or a push (`hookgate git pre-commit` / `pre-push`), the
//!   committed or pushed paths are checked the same way, and the message
//!   speaks of publishing the holder's work in progress; nothing is leased.

use hookgate_sdk::reservations::{self, Holder, Mode, Presence};
use hookgate_sdk::{Event, Finding, Kind};

/// lock-check's settings (its `config` table).
pub struct Locks<'a> {
    /// Take a lease on unreserved paths an agent writes.
    pub auto_reserve: bool,
    /// Its length (`15m`).
    pub auto_reserve_ttl: &'a str,
    /// Note reads of paths another agent holds exclusive.
    pub note_reads: bool,
}

/// `45s`, `15m`, `2h` → seconds.
pub fn seconds(s: &str) -> Option<u32> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let n: u32 = s[..split].parse().ok()?;
    let mult = match &s[split..] {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return None,
    };
    n.checked_mul(mult).filter(|&v| (1..=86_400).contains(&v))
}

fn span(ms: i64) -> String {
    let s = ms.unsigned_abs() / 1000;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

fn presence(p: Presence) -> &'static str {
    match p {
        Presence::Active => "active right now",
        Presence::Idle => "idle, seen in the last few minutes",
        Presence::Stale => "not seen for a while",
        Presence::Gone => "gone",
    }
}

fn mode(m: Mode) -> &'static str {
    match m {
        Mode::Exclusive => "exclusive",
        Mode::Shared => "shared",
        Mode::Intent => "intent",
    }
}

/// One holder, for the agent: who, since when, why, until when, presence.
/// The reason is another agent's text: quoted, and marked as such.
fn describe(h: &Holder, now: i64) -> String {
    let reason = if h.reason.trim().is_empty() {
        "no reason given".to_string()
    } else {
        format!(
            "reason (their words): \"{}\"",
            h.reason
                .replace('"', "'")
                .chars()
                .take(200)
                .collect::<String>()
        )
    };
    format!(
        "{} ({}, {}) holds {} {} ({}) since {} ago until {} from now; {reason}",
        h.agent_name,
        h.agent_id,
        presence(h.presence),
        h.reservation,
        h.patterns.join(" "),
        mode(h.mode),
        span(now - h.since_ms),
        span(h.expires_ms - now),
    )
}

/// Check lock-check's settings.
pub fn check(config: &Locks<'_>) -> Result<(), String> {
    if seconds(config.auto_reserve_ttl).is_none() {
        return Err(format!(
            "auto_reserve_ttl = \"{}\" is not a duration between 1s and 24h (write e.g. \"15m\")",
            config.auto_reserve_ttl
        ));
    }
    Ok(())
}

/// What the event does with its paths, for the deny message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Act {
    Write,
    Commit,
    Push,
}

/// The first lines of the deny message: what is held, by whom, and why it
/// matters for this kind of event.
fn headline(act: Act, written: &[String], holders: &[Holder]) -> String {
    if act == Act::Write {
        return format!(
            "{} reserved by another agent; do not write it now.",
            if written.len() == 1 {
                format!("`{}` is", written[0])
            } else {
                format!("{} paths here are", written.len())
            }
        );
    }
    // The paths the holders cover (each holder names one), else all of them.
    let mut held: Vec<&str> = Vec::new();
    for h in holders {
        if let Some(e) = h.example.as_deref() {
            if !held.contains(&e) {
                held.push(e);
            }
        }
    }
    if held.is_empty() {
        held = written.iter().map(String::as_str).collect();
    }
    let mut who: Vec<String> = Vec::new();
    for h in holders {
        let w = format!("{} ({})", h.agent_name, h.agent_id);
        if !who.contains(&w) {
            who.push(w);
        }
    }
    let one = held.len() == 1;
    let shown: Vec<String> = held.iter().take(5).map(|p| format!("`{p}`")).collect();
    let more = match held.len().saturating_sub(5) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let it = if one { "it" } else { "them" };
    let what = match act {
        Act::Commit => format!("committing {it} now would publish their work in progress"),
        _ => format!("pushing commits that change {it} now would publish {it} while they are still working on {it}"),
    };
    format!(
        "{}{more} {} reserved by {}; {what}.",
        shown.join(", "),
        if one { "is" } else { "are" },
        who.join(" and "),
    )
}

/// Judge one event.
pub fn validate(event: &Event, config: &Locks<'_>) -> Result<Vec<Finding>, String> {
    let act = match event.kind {
        Kind::PreTool => Act::Write,
        Kind::PreCommit => Act::Commit,
        Kind::PrePush => Act::Push,
        _ => return Ok(Vec::new()),
    };
    let mut findings = Vec::new();
    let written: Vec<String> = event.written_paths().map(str::to_string).collect();
    if !written.is_empty() {
        let holders = reservations::holders(&written, Mode::Exclusive)?;
        if holders.is_empty() {
            // Reservations cover the repository; paths outside it (absolute)
            // are not leased, nor are a shell command's patterns (`rm
            // *.log` would lease every log file for the next quarter hour).
            // A commit or a push changes no file: nothing to lease.
            let inside: Vec<String> = written
                .iter()
                .filter(|p| !p.starts_with('/') && !event.is_pattern(p))
                .cloned()
                .collect();
            if config.auto_reserve && act == Act::Write && !inside.is_empty() {
                let ttl = seconds(config.auto_reserve_ttl).unwrap_or(900);
                let what = event.tool.as_deref().unwrap_or("write");
                reservations::claim(&inside, ttl, &format!("auto: {what}"))?;
            }
        } else {
            let now = reservations::now_ms();
            let mut lines = vec![headline(act, &written, &holders)];
            for h in &holders {
                lines.push(format!("- {}", describe(h, now)));
            }
            let asks: Vec<String> = holders
                .iter()
                .map(|h| {
                    format!(
                        "`hookgate request-release {} --urgency normal --wait 10m --reason \"…\"`",
                        h.reservation
                    )
                })
                .collect();
            lines.push(match act {
                Act::Write => format!(
                    "Next: work on other files; or ask the holder to hand it over with {} (you get it the moment they release); or queue with `hookgate reserve {} --wait 10m` (a holder that goes away stops blocking); `hookgate locks` shows all reservations.",
                    asks.join(" and "),
                    written.join(" ")
                ),
                Act::Commit => format!(
                    "Next: commit your other files without it (`hookgate commit -m '…' PATH…` names what to commit); or ask the holder to hand it over with {}, then commit it; `hookgate locks` shows all reservations.",
                    asks.join(" and ")
                ),
                Act::Push => format!(
                    "Next: push once the holder has released it (ask with {}); `hookgate locks` shows all reservations.",
                    asks.join(" and ")
                ),
            });
            findings.push(
                Finding::deny("held", lines.join("\n"))
                    .with_paths(written.clone())
                    .with_docs("README.md#reservations"),
            );
        }
    }
    // A shell command whose target is only known at run time may write
    // anywhere in its bound (`rm -rf src/$X` → `src/**`): another agent's
    // reservation there is worth a warning, not a block.
    if let Some(a) = hookgate_sdk::shell::current().filter(|a| !a.bounds.is_empty()) {
        let holders = reservations::holders(&a.bounds, Mode::Exclusive)?;
        if !holders.is_empty() {
            let now = reservations::now_ms();
            let lines: Vec<String> = holders.iter().map(|h| describe(h, now)).collect();
            findings.push(
                Finding::warn(
                    "held-maybe",
                    format!(
                        "this command's target is only known when it runs, and it may write in {}, where another agent holds a reservation: {}. Name the exact files, or check with `hookgate locks`.",
                        a.bounds.join(" "),
                        lines.join("; ")
                    ),
                )
                .with_paths(a.bounds.clone())
                .with_docs("README.md#reservations"),
            );
        }
    }
    if config.note_reads && !event.reads.is_empty() {
        let holders = reservations::holders(&event.reads, Mode::Shared)?;
        if !holders.is_empty() {
            let now = reservations::now_ms();
            let lines: Vec<String> = holders.iter().map(|h| describe(h, now)).collect();
            findings.push(
                Finding::warn(
                    "read-held",
                    format!(
                        "note: another agent holds what you are reading exclusive, so its content may change: {}",
                        lines.join("; ")
                    ),
                )
                .with_paths(event.reads.clone()),
            );
        }
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(seconds("15m"), Some(900));
        assert_eq!(seconds("45s"), Some(45));
        assert_eq!(seconds("0s"), None);
        assert_eq!(seconds("2d"), None);
        assert_eq!(span(90_000), "1m");
        assert_eq!(span(3_720_000), "1h02m");
    }

    fn holder(name: &str, id: &str, example: &str) -> Holder {
        Holder {
            reservation: "r1".into(),
            agent_id: id.into(),
            agent_name: name.into(),
            patterns: vec!["src/**".into()],
            mode: Mode::Exclusive,
            reason: String::new(),
            since_ms: 0,
            expires_ms: 0,
            presence: Presence::Active,
            auto: false,
            example: Some(example.into()),
        }
    }

    #[test]
    fn headlines_speak_of_what_the_event_does() {
        let written = vec!["src/a.rs".to_string(), "README.md".to_string()];
        let a = holder("AmberFox", "agent-a", "src/a.rs");
        assert_eq!(
            headline(Act::Commit, &written, std::slice::from_ref(&a)),
            "`src/a.rs` is reserved by AmberFox (agent-a); committing it now would publish their work in progress."
        );
        assert_eq!(
            headline(Act::Push, &written, std::slice::from_ref(&a)),
            "`src/a.rs` is reserved by AmberFox (agent-a); pushing commits that change it now would publish it while they are still working on it."
        );
        let b = holder("BlueRiver", "agent-b", "src/b.rs");
        assert_eq!(
            headline(Act::Commit, &written, &[a.clone(), b, a.clone()]),
            "`src/a.rs`, `src/b.rs` are reserved by AmberFox (agent-a) and BlueRiver (agent-b); committing them now would publish their work in progress."
        );
        // Tool writes keep their wording.
        assert_eq!(
            headline(Act::Write, &written[..1], &[a]),
            "`src/a.rs` is reserved by another agent; do not write it now."
        );
    }
}
