//! What the reservation commands answer, shared by the CLI (`--json`) and
//! the MCP server (tool results): where a command runs ([`Workspace`]), how
//! its arguments become selectors, and the JSON shapes of grants, refusals,
//! changed leases, path checks, live reservations and agents. One place, so
//! an agent sees the same fields whichever way it asks.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;
use serde_json::{json, Value};

use super::{
    hold_set, list, normalize_pattern, path_set, Conflict, Context, Grant, Hold, Mode, Released,
    Request, ReserveError, Selector,
};
use crate::paths::{self, PathContext};
use crate::policy::{self, CaseFold, Policy, PolicyError};
use crate::presence::{self, AgentRecord, State};
use crate::runtime::CodeCache;

/// Where a command runs: path normalization for its directory, the
/// effective policy, the store file and the reservation settings.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Path normalization for the caller's directory (case folding set).
    pub paths: PathContext,
    /// Effective policy.
    pub policy: Policy,
    /// Store file.
    pub store_path: PathBuf,
    /// Reservation settings.
    pub rctx: Context,
}

impl Workspace {
    /// Resolve the workspace of `cwd`: the policy layered from the built-in
    /// default, the repository's `.hookgate/policy.toml` and `policy`
    /// (`--policy`); the store at `store` (`--store`) or the repository's.
    pub fn resolve(
        cwd: &Path,
        policy: Option<&Path>,
        store: Option<&Path>,
    ) -> Result<Workspace, PolicyError> {
        let ctx = PathContext::new(cwd);
        let layers = policy::layers_for(ctx.repo_root.as_deref(), policy)?;
        Workspace::with_layers(ctx, &layers, store)
    }

    /// Like [`Workspace::resolve`], with the policy layers already read
    /// (see [`policy::layers_for`]) for the directory of `ctx`.
    pub fn with_layers(
        ctx: PathContext,
        layers: &[policy::Layer],
        store: Option<&Path>,
    ) -> Result<Workspace, PolicyError> {
        let store_path = store
            .map(Path::to_path_buf)
            .unwrap_or_else(|| paths::default_store(ctx.repo_root.as_deref(), &ctx.cwd));
        let cache_dir = CodeCache::default_dir(&store_path.with_file_name("cache"));
        let policy = policy::load_cached(layers, &cache_dir)?;
        let fold = match policy.case_fold {
            CaseFold::On => true,
            CaseFold::Off => false,
            CaseFold::Auto => paths::fs_folds_case(ctx.repo_root.as_deref().unwrap_or(&ctx.cwd)),
        };
        let ctx = ctx.with_case_fold(fold);
        let rctx = Context {
            fold,
            settings: policy.reservations,
            presence: policy.presence,
        };
        Ok(Workspace {
            paths: ctx,
            policy,
            store_path,
            rctx,
        })
    }
}

/// `in 29m`, `3m ago`.
pub fn relative(ms: i64, now: i64) -> String {
    let d = Duration::from_millis(ms.abs_diff(now));
    let f = crate::duration::format(d);
    if ms >= now {
        format!("in {f}")
    } else {
        format!("{f} ago")
    }
}

/// Normalize patterns as an agent wrote them (see [`normalize_pattern`]).
pub fn normalize_all(ctx: &PathContext, patterns: &[String]) -> Result<Vec<String>, ReserveError> {
    patterns.iter().map(|p| normalize_pattern(ctx, p)).collect()
}

/// What `release` and `extend` act on: `r12` / `12` are ids (when every
/// target is one), anything else a pattern; `all` selects every lease of the
/// caller and excludes targets.
pub fn selector(
    ctx: &PathContext,
    targets: &[String],
    all: bool,
) -> Result<Selector, ReserveError> {
    if all {
        if !targets.is_empty() {
            return Err(ReserveError::BadText(
                "give patterns or ids, or --all, not both".into(),
            ));
        }
        return Ok(Selector::All);
    }
    if targets.is_empty() {
        return Err(ReserveError::BadText(
            "name what to act on: patterns, reservation ids (r12), or --all".into(),
        ));
    }
    let ids: Vec<Option<i64>> = targets
        .iter()
        .map(|a| a.strip_prefix('r').unwrap_or(a).parse::<i64>().ok())
        .collect();
    if ids.iter().all(Option::is_some) {
        return Ok(Selector::Ids(ids.into_iter().flatten().collect()));
    }
    Ok(Selector::Patterns(normalize_all(ctx, targets)?))
}

/// One conflict: holder, patterns, mode, reason, since, expiry, id, whether
/// the holder is active, and a path both cover.
pub fn conflict_json(c: &Conflict, now: i64) -> Value {
    json!({
        "reservation": if c.queued { format!("q{}", c.hold.id) } else { c.hold.label() },
        "queued": c.queued,
        "holder": c.hold.agent_name,
        "holder_id": c.hold.agent,
        "holder_state": c.hold.holder_state,
        "holder_active": c.hold.holder_state == State::Active,
        "patterns": c.hold.patterns,
        "mode": c.hold.mode,
        "reason": c.hold.reason,
        "since_ms": c.hold.created_ms,
        "expires_ms": c.hold.expires_ms,
        "expires_in": relative(c.hold.expires_ms, now),
        "example": c.example,
    })
}

/// One live reservation, as `locks` and `check` list it (`me`: the caller's
/// agent id, for `mine`).
pub fn hold_json(h: &Hold, me: &str, now: i64) -> Value {
    json!({
        "reservation": h.label(), "id": h.id, "holder": h.agent_name, "holder_id": h.agent,
        "holder_state": h.holder_state, "mine": h.agent == me, "patterns": h.patterns, "mode": h.mode,
        "reason": h.reason, "auto": h.auto, "since_ms": h.created_ms, "expires_ms": h.expires_ms,
        "expires_in": relative(h.expires_ms, now),
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

/// A granted (or renewed) reservation.
pub fn granted_json(
    id: i64,
    renewed: bool,
    patterns: &[String],
    mode: Mode,
    expires_ms: i64,
    agent: &str,
    name: &str,
) -> Value {
    json!({"status": "granted", "reservation": format!("r{id}"), "id": id,
        "renewed": renewed, "patterns": patterns, "mode": mode, "expires_ms": expires_ms,
        "agent": agent, "name": name})
}

/// A refused request: each conflict and what to do next.
pub fn refused_json(patterns: &[String], mode: Mode, conflicts: &[Conflict], now: i64) -> Value {
    json!({"status": "refused", "patterns": patterns, "mode": mode,
        "conflicts": conflicts.iter().map(|c| conflict_json(c, now)).collect::<Vec<_>>(),
        "next": next_steps(patterns, conflicts)})
}

/// What `reserve` answers for `grant` of `req` to agent `agent` (`name`):
/// [`granted_json`] or [`refused_json`].
pub fn grant_json(grant: &Grant, req: &Request, agent: &str, name: &str, now: i64) -> Value {
    match grant {
        Grant::Granted {
            id,
            renewed,
            expires_ms,
        } => granted_json(
            *id,
            *renewed,
            &req.patterns,
            req.mode,
            *expires_ms,
            agent,
            name,
        ),
        Grant::Refused { conflicts } => refused_json(&req.patterns, req.mode, conflicts, now),
    }
}

/// The leases `release`, `extend` or `force-release` changed, under `verb`
/// (`released`, `extended`, `force-released`).
pub fn changed_json(verb: &str, changed: &[Released]) -> Value {
    json!({verb: changed.iter().map(|r| json!({
        "reservation": format!("r{}", r.id), "agent": r.agent, "patterns": r.patterns,
        "expires_ms": r.expires_ms})).collect::<Vec<_>>()})
}

/// Live reservations (`locks`).
pub fn locks_json(holds: &[Hold], me: &str, now: i64) -> Value {
    json!({"now_ms": now, "reservations": holds.iter().map(|h| hold_json(h, me, now)).collect::<Vec<_>>()})
}

/// Who holds one path, for `check`.
#[derive(Debug, Clone)]
pub struct PathCheck {
    /// As given.
    pub path: String,
    /// Normalized.
    pub normalized: String,
    /// Other agents' reservations a write there would clash with.
    pub conflicts: Vec<Conflict>,
    /// The caller's own reservations that cover it.
    pub mine: Vec<Hold>,
}

/// Who holds each of `raw` paths, as seen by `agent` (whose own
/// reservations never block it).
pub fn check_paths(
    conn: &Connection,
    ctx: &PathContext,
    rctx: &Context,
    agent: &str,
    raw: &[String],
    now: i64,
) -> Result<Vec<PathCheck>, ReserveError> {
    if raw.is_empty() {
        return Err(ReserveError::BadText("name at least one path".into()));
    }
    let mut out = Vec::with_capacity(raw.len());
    for r in raw {
        let norm = ctx.normalize(r);
        let Some(set) = path_set(&norm, ctx.repo_root.as_deref(), rctx.fold) else {
            return Err(ReserveError::BadText(format!("`{r}` is not a path")));
        };
        let conflicts = super::conflicts(conn, &set, Mode::Exclusive, agent, now, rctx)?;
        let mine: Vec<Hold> = list(conn, Some(agent), now, rctx)?
            .into_iter()
            .filter(|h| {
                hold_set(&h.patterns, h.auto, rctx.fold)
                    .ok()
                    .is_some_and(|hs| !matches!(hookgate_glob::overlap(&set, &hs), Ok(None)))
            })
            .collect();
        out.push(PathCheck {
            path: r.clone(),
            normalized: norm,
            conflicts,
            mine,
        });
    }
    Ok(out)
}

/// The answer of `check`.
pub fn check_json(checks: &[PathCheck], me: &str, now: i64) -> Value {
    json!({"paths": checks.iter().map(|c| json!({
        "path": c.path, "normalized": c.normalized, "free": c.conflicts.is_empty(),
        "held_by_others": c.conflicts.iter().map(|c| conflict_json(c, now)).collect::<Vec<_>>(),
        "held_by_you": c.mine.iter().map(|h| hold_json(h, me, now)).collect::<Vec<_>>(),
    })).collect::<Vec<_>>()})
}

/// One agent with its presence and how many live reservations it holds.
#[derive(Debug, Clone)]
pub struct AgentRow {
    /// The agent.
    pub agent: AgentRecord,
    /// Its presence now.
    pub state: State,
    /// Live reservations it holds.
    pub held: usize,
}

/// Agents, most recently seen first, with their presence; those that are
/// gone and hold nothing only with `all`.
pub fn roster(
    conn: &Connection,
    rctx: &Context,
    all: bool,
    now: i64,
) -> Result<Vec<AgentRow>, ReserveError> {
    let agents = presence::list(conn).map_err(|e| {
        ReserveError::Store(crate::store::StoreError::Sql {
            path: Default::default(),
            source: e,
        })
    })?;
    let holds = list(conn, None, now, rctx)?;
    Ok(agents
        .into_iter()
        .map(|a| {
            let state = State::of(a.last_seen_ms, now, &rctx.presence);
            let held = holds.iter().filter(|h| h.agent == a.id).count();
            AgentRow {
                agent: a,
                state,
                held,
            }
        })
        .filter(|r| all || r.state != State::Gone || r.held > 0)
        .collect())
}

/// The answer of `agents` (`me`: the caller's id, for `you`).
pub fn agents_json(rows: &[AgentRow], me: &str, now: i64) -> Value {
    json!({"now_ms": now, "agents": rows.iter().map(|r| { let a = &r.agent; json!({
        "id": a.id, "name": a.name, "platform": a.platform, "session": a.session,
        "parent": a.parent, "state": r.state, "last_seen_ms": a.last_seen_ms,
        "first_seen_ms": a.first_seen_ms, "last_action": a.last_action,
        "reservations": r.held, "you": a.id == me,
    })}).collect::<Vec<_>>()})
}

/// Who the caller is, for `whoami`.
#[derive(Debug, Clone)]
pub struct Whoami<'a> {
    /// The caller.
    pub agent: &'a crate::event::Agent,
    /// Its name in the store.
    pub name: &'a str,
    /// Its platform (`cli` when only seen through commands).
    pub platform: &'a str,
    /// Where the identity came from.
    pub identity_from: &'a str,
    /// The store file.
    pub store: &'a Path,
    /// Its live reservations.
    pub holds: &'a [Hold],
}

/// The answer of `whoami`.
pub fn whoami_json(w: &Whoami<'_>) -> Value {
    json!({"id": w.agent.id, "name": w.name, "session": w.agent.session,
        "subagent": w.agent.subagent, "platform": w.platform, "identity_from": w.identity_from,
        "store": w.store, "reservations": w.holds.iter().map(Hold::label).collect::<Vec<_>>()})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_take_ids_patterns_or_all() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        let ctx = PathContext::new(&root);
        let s = |v: &[&str], all| {
            selector(
                &ctx,
                &v.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                all,
            )
        };
        assert_eq!(s(&["r12", "3"], false).unwrap(), Selector::Ids(vec![12, 3]));
        assert_eq!(
            s(&["r12", "src/**"], false).unwrap(),
            Selector::Patterns(vec!["r12".into(), "src/**".into()])
        );
        assert_eq!(s(&[], true).unwrap(), Selector::All);
        assert!(s(&["r1"], true).is_err());
        assert!(s(&[], false).is_err());
    }

    #[test]
    fn relative_times_read_both_ways() {
        assert_eq!(relative(61_000, 1_000), "in 1m");
        assert_eq!(relative(1_000, 61_000), "1m ago");
    }
}
