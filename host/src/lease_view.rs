//! The hook's session with the reservation store: the heartbeat of the
//! event's agent, renewal of its leases, its pending notices, the read view
//! that granted validators query, and the leases they claim, taken with the
//! decision.

use std::path::Path;

use hookgate_glob::PatternSet;

use crate::chain::{Judged, PendingClaim, Verdict};
use crate::event::{Event, Outcome};
use crate::presence;
use crate::reservations::{self, Conflict, Context, Grant, Hold, Mode, Request, ReserveError};
use crate::rollout;
use crate::runtime::services::ReservationView;
use crate::store::snapshot::Snapshot;
use crate::store::{now_ms, Store, StoreError};

/// The store for one event: the lease snapshot for reads, SQLite opened only
/// when something must be written (or the snapshot is missing).
pub struct LeaseView {
    db: std::path::PathBuf,
    store: Option<Store>,
    snap: Option<Snapshot>,
    agent: String,
    ctx: Context,
    root: Option<std::path::PathBuf>,
    /// The event is a shell command's: its paths with glob characters are
    /// patterns (`rm *.log`), tested for overlap rather than taken literally.
    patterns: bool,
}

/// What the heartbeat found.
#[derive(Debug, Default)]
pub struct Heartbeat {
    /// The agent's name in the store.
    pub name: String,
    /// Messages are waiting for it (the snapshot's count, or the store's).
    pub pending: bool,
}

impl LeaseView {
    /// Record the event as a heartbeat of its agent, unless the snapshot
    /// shows it was seen moments ago with nothing waiting for it (the common
    /// case, which then costs one file read).
    pub fn open(
        path: &Path,
        event: &Event,
        ctx: Context,
    ) -> Result<(LeaseView, Heartbeat), StoreError> {
        let now = now_ms();
        let mut view = LeaseView {
            db: path.to_path_buf(),
            store: None,
            snap: Snapshot::read(path),
            agent: event.agent.id.clone(),
            ctx,
            root: event.repo_root.as_ref().map(std::path::PathBuf::from),
            patterns: event.command.is_some(),
        };
        let shell_call = shell_call(event).is_some();
        if let Some(snap) = view.snap.as_ref().filter(|_| !shell_call) {
            if let Some(me) = snap.agent(&event.agent.id) {
                let renew_due = ctx.settings.renew_on_activity && me.renew_at_ms <= now;
                if me.recent(now) && !renew_due && me.platform == event.platform {
                    // Messages waiting need no heartbeat: the hook delivers
                    // them in a transaction of their own.
                    let (name, pending) = (me.name.clone(), me.notices > 0);
                    return Ok((view, Heartbeat { name, pending }));
                }
            }
        }
        let mut store = Store::open(path)?;
        let action = match &event.tool {
            Some(t) => format!("{} {t}", event.native_event),
            None => event.native_event.clone(),
        };
        let hb = store.write_leases(|tx| -> Result<Heartbeat, StoreError> {
            record_shell_call(tx, event, now)?;
            let name = match presence::touch(tx, &event.agent, &event.platform, &action, None, now)?
            {
                Ok(n) => n,
                Err(_) => event.agent.name.clone(),
            };
            // The platform process behind this hook, for the MCP server it spawned.
            if let Some(pid) = crate::mcp::identity::host_pid() {
                presence::record_host_pid(tx, &event.agent.id, pid)?;
            }
            if ctx.settings.renew_on_activity {
                reservations::renew_on_activity(tx, &event.agent.id, now).map_err(store_err)?;
            }
            let pending: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM recipients WHERE agent = ?1 AND delivered_ms IS NULL)",
                    [&event.agent.id],
                    |r| r.get(0),
                )
                .map_err(|e| StoreError::Sql {
                    path: Default::default(),
                    source: e,
                })?;
            Ok(Heartbeat { name, pending })
        })?;
        view.snap = Snapshot::read(path);
        view.store = Some(store);
        Ok((view, hb))
    }

    /// The store, opened on first use.
    pub fn store(&mut self) -> Result<&mut Store, StoreError> {
        if self.store.is_none() {
            self.store = Some(Store::open(&self.db)?);
        }
        match self.store.as_mut() {
            Some(s) => Ok(s),
            None => unreachable!("opened just above"),
        }
    }

    /// Live reservations of other agents that could overlap `set`: from the
    /// snapshot, or from SQLite when there is none.
    fn candidates(&mut self, set: &PatternSet, now: i64) -> Result<Vec<Hold>, String> {
        let (agent, ctx) = (self.agent.clone(), self.ctx);
        if let Some(snap) = self.snap.as_mut() {
            let file = set.exact_files().filter(|f| f.len() == 1).map(|f| f[0]);
            if let Some(c) = snap.candidates(&set.prefixes(), &agent, now, &ctx, file) {
                return Ok(c);
            }
        }
        let store = self.store().map_err(|e| e.to_string())?;
        reservations::list(store.connection(), None, now, &ctx)
            .map(|v| v.into_iter().filter(|h| h.agent != agent).collect())
            .map_err(|e| e.to_string())
    }

    /// The agent's own live reservations that could cover `paths`.
    fn own(&mut self, paths: &[String], now: i64) -> Vec<Hold> {
        let (agent, ctx) = (self.agent.clone(), self.ctx);
        let prefixes: Vec<String> = paths.to_vec();
        if let Some(snap) = self.snap.as_mut() {
            if let Some(v) = snap.own(&prefixes, &agent, now, &ctx) {
                return v;
            }
        }
        match self.store() {
            Ok(store) => {
                reservations::list(store.connection(), Some(&agent), now, &ctx).unwrap_or_default()
            }
            Err(_) => Vec::new(),
        }
    }

    /// Take the leases validators claimed, if the event is allowed. A claim
    /// that lost a race to another agent's reservation turns into a denial
    /// (at the claiming validator's stage); one blocked only by a queued
    /// request is skipped, the write proceeds unreserved.
    pub fn apply_claims(&mut self, event: &Event, verdict: &mut Verdict) -> Vec<String> {
        let mut diagnostics = Vec::new();
        if verdict.decision == Outcome::Deny {
            return diagnostics;
        }
        let claims: Vec<PendingClaim> = std::mem::take(&mut verdict.claims);
        // Paths the agent already holds exclusive need no lease of their own;
        // an automatic lease with more than half its time left needs no
        // renewal yet (so a burst of edits to one file writes nothing).
        let now = now_ms();
        let claimed: Vec<String> = claims.iter().flat_map(|c| c.claim.paths.clone()).collect();
        let own: Vec<PatternSet> = self
            .own(&claimed, now)
            .into_iter()
            .filter(|h| h.mode == Mode::Exclusive && (!h.auto || h.expires_ms - now > h.ttl_ms / 2))
            .filter_map(|h| reservations::hold_set(&h.patterns, h.auto, self.ctx.fold).ok())
            .collect();
        for mut c in claims {
            c.claim
                .paths
                .retain(|p| !own.iter().any(|set| set.matches(p)));
            if c.claim.paths.is_empty() {
                continue;
            }
            let req = Request {
                patterns: c
                    .claim
                    .paths
                    .iter()
                    .map(|p| hookgate_glob::escape(p))
                    .collect(),
                mode: Mode::Exclusive,
                ttl_ms: i64::from(c.claim.ttl_secs.max(1)) * 1000,
                reason: c.claim.reason.clone(),
                auto: true,
            };
            let req = Request {
                ttl_ms: req.ttl_ms.min(self.ctx.settings.max_ttl_ms),
                ..req
            };
            let ctx = self.ctx;
            let store = match self.store() {
                Ok(s) => s,
                Err(e) => {
                    diagnostics.push(format!("hookgate: lease for the write not taken: {e}"));
                    continue;
                }
            };
            match reservations::acquire(store, &event.agent, &event.platform, &req, &ctx) {
                Ok(Grant::Granted { .. }) => {}
                Ok(Grant::Refused { conflicts }) => {
                    let held: Vec<&Conflict> = conflicts.iter().filter(|c| !c.queued).collect();
                    if held.is_empty() {
                        continue;
                    }
                    let who: Vec<String> = held
                        .iter()
                        .map(|h| {
                            format!(
                                "{} ({}) took {} {} just now",
                                h.hold.agent_name,
                                h.hold.agent,
                                h.hold.label(),
                                h.hold.patterns.join(" ")
                            )
                        })
                        .collect();
                    verdict.add(Judged {
                        validator: c.validator.clone(),
                        rule: "claim-lost".into(),
                        stage: c.stage,
                        would: Outcome::Deny,
                        effective: rollout::cap(c.stage, Outcome::Deny),
                        message: format!(
                            "another agent reserved these paths while this write was being checked: {}. Run `hookgate check {}` and coordinate before writing.",
                            who.join("; "),
                            c.claim.paths.join(" ")
                        ),
                        paths: c.claim.paths.clone(),
                        docs: Some("README.md#reservations".into()),
                    });
                }
                Err(e) => diagnostics.push(format!("hookgate: lease for the write not taken: {e}")),
            }
        }
        diagnostics
    }
}

/// A subagent's Bash call that runs hookgate: (session, command).
fn shell_call(event: &Event) -> Option<(&str, &str)> {
    event.agent.subagent.as_ref()?;
    let command = event.command.as_deref()?;
    (event.kind == crate::event::Kind::PreTool && crate::shell_identity::mentions_hookgate(command))
        .then_some((event.agent.session.as_str(), command))
}

fn record_shell_call(
    tx: &rusqlite::Transaction<'_>,
    event: &Event,
    now: i64,
) -> Result<(), StoreError> {
    match shell_call(event) {
        Some((session, command)) => {
            crate::shell_identity::record(tx, session, &event.agent.id, command, now)
        }
        None => Ok(()),
    }
}

fn store_err(e: ReserveError) -> StoreError {
    match e {
        ReserveError::Store(s) => s,
        other => StoreError::Io {
            path: Default::default(),
            source: std::io::Error::other(other.to_string()),
        },
    }
}

impl ReservationView for LeaseView {
    fn holders(&mut self, paths: &[String], mode: Mode) -> Result<Vec<Conflict>, String> {
        let now = now_ms();
        let mut out: Vec<Conflict> = Vec::new();
        for p in paths {
            let glob = (self.patterns && p.chars().any(hookgate_glob::is_meta))
                .then(|| PatternSet::new(std::slice::from_ref(p), self.ctx.fold).ok())
                .flatten();
            let Some(set) =
                glob.or_else(|| reservations::path_set(p, self.root.as_deref(), self.ctx.fold))
            else {
                continue;
            };
            let file = set.exact_files().is_some();
            for h in self.candidates(&set, now)? {
                if out.iter().any(|o| o.hold.id == h.id) {
                    continue;
                }
                if file && reservations::cannot_match_file(&h.patterns, h.auto, p, self.ctx.fold) {
                    continue;
                }
                if let Some(c) = reservations::against(h, &set, mode, false, &self.ctx) {
                    out.push(c);
                }
            }
        }
        Ok(out)
    }
}

/// A view for when the store can't be opened: every query fails, so the
/// validators that need it apply their `on_error`.
pub struct Unavailable(pub String);

impl ReservationView for Unavailable {
    fn holders(&mut self, _paths: &[String], _mode: Mode) -> Result<Vec<Conflict>, String> {
        Err(format!("reservation store unavailable: {}", self.0))
    }
}

/// A view with no reservations, for replaying logged events: the
/// reservations of that moment are gone, so lock-check finds nothing and its
/// claims are not taken.
pub struct Detached;

impl ReservationView for Detached {
    fn holders(&mut self, _paths: &[String], _mode: Mode) -> Result<Vec<Conflict>, String> {
        Ok(Vec::new())
    }
}
