//! The hook's session with the reservation store: the heartbeat of the
//! event's agent, renewal of its leases, its pending notices, the read view
//! that granted validators query, and the leases they claim, taken with the
//! decision.

use std::path::Path;

use hookgate_glob::PatternSet;

use crate::chain::{Judged, PendingClaim, Verdict};
use crate::event::{Event, Outcome};
use crate::presence;
use crate::reservations::{self, Conflict, Context, Grant, Mode, Request, ReserveError};
use crate::rollout;
use crate::runtime::services::ReservationView;
use crate::store::{now_ms, Store, StoreError};

/// An open store for one event.
pub struct LeaseView {
    store: Store,
    agent: String,
    ctx: Context,
}

/// What the heartbeat found.
#[derive(Debug, Default)]
pub struct Heartbeat {
    /// The agent's name in the store.
    pub name: String,
    /// Notices waiting for it.
    pub notices: Vec<String>,
}

impl LeaseView {
    /// Open the store and record the event as a heartbeat of its agent.
    pub fn open(
        path: &Path,
        event: &Event,
        ctx: Context,
    ) -> Result<(LeaseView, Heartbeat), StoreError> {
        let mut store = Store::open(path)?;
        let now = now_ms();
        let action = match &event.tool {
            Some(t) => format!("{} {t}", event.native_event),
            None => event.native_event.clone(),
        };
        let hb = store.write(|tx| -> Result<Heartbeat, StoreError> {
            let name = match presence::touch(tx, &event.agent, &event.platform, &action, None, now)?
            {
                Ok(n) => n,
                Err(_) => event.agent.name.clone(),
            };
            if ctx.settings.renew_on_activity {
                reservations::renew_on_activity(tx, &event.agent.id, now).map_err(store_err)?;
            }
            let notices =
                reservations::pending_notices(tx, &event.agent.id, now).map_err(store_err)?;
            Ok(Heartbeat { name, notices })
        })?;
        Ok((
            LeaseView {
                store,
                agent: event.agent.id.clone(),
                ctx,
            },
            hb,
        ))
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
        // Paths the agent already holds exclusive need no lease of their own.
        let own: Vec<PatternSet> = reservations::list(
            self.store.connection(),
            Some(&self.agent),
            now_ms(),
            &self.ctx,
        )
        .unwrap_or_default()
        .into_iter()
        .filter(|h| h.mode == Mode::Exclusive && !h.auto)
        .filter_map(|h| reservations::pattern_set(&h.patterns, self.ctx.fold).ok())
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
            match reservations::acquire(
                &mut self.store,
                &event.agent,
                &event.platform,
                &req,
                &self.ctx,
            ) {
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
            let Some(set) = PatternSet::path(p, self.ctx.fold) else {
                continue;
            };
            let found = reservations::conflicts(
                self.store.connection(),
                &set,
                mode,
                &self.agent,
                now,
                &self.ctx,
            )
            .map_err(|e| e.to_string())?;
            for c in found {
                if !out.iter().any(|o| o.hold.id == c.hold.id) {
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
