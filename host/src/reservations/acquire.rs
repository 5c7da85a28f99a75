//! Acquisition: all or nothing in one `BEGIN IMMEDIATE` transaction, with an
//! optional fair wait queue and deadlock refusal.
//!
//! A request is granted only when no live reservation of another agent
//! conflicts and no earlier queued request of another agent does (first come,
//! first served among overlapping requests, so a stream of shared requests
//! can't starve a waiting exclusive one). Re-reserving what one already holds
//! renews the lease instead of stacking a second one.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

use hookgate_glob::PatternSet;

use super::query::{against, candidates};
use super::{hold_set, pattern_set, Conflict, Context, Hold, Mode, ReserveError, MAX_PATTERNS};
use crate::event::Agent;
use crate::presence::{self, State};
use crate::store::{now_ms, Store, StoreError};

/// A waiting process refreshes its queue entry on every poll; one not
/// refreshed for this long belongs to a process that died.
pub const WAITER_STALE_MS: i64 = 3_000;

/// What to reserve.
#[derive(Debug, Clone)]
pub struct Request {
    /// Normalized patterns (see [`super::normalize_pattern`]).
    pub patterns: Vec<String>,
    /// Mode.
    pub mode: Mode,
    /// Lease, ms.
    pub ttl_ms: i64,
    /// Why.
    pub reason: String,
    /// Taken by a write (`auto_reserve`), not asked for.
    pub auto: bool,
}

/// The answer to a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Grant {
    /// Granted (or renewed).
    Granted {
        /// Reservation id.
        id: i64,
        /// An existing reservation of the same patterns and mode was renewed.
        renewed: bool,
        /// New expiry, ms since the epoch.
        expires_ms: i64,
    },
    /// Refused: these conflict.
    Refused {
        /// The conflicts.
        conflicts: Vec<Conflict>,
    },
}

fn sql(e: rusqlite::Error) -> ReserveError {
    ReserveError::Store(StoreError::Sql {
        path: Default::default(),
        source: e,
    })
}

/// Patterns in canonical order with the mode: equal keys are the same
/// reservation, so asking again renews.
fn key_of(req: &Request) -> String {
    let mut p = req.patterns.clone();
    p.sort();
    p.dedup();
    format!("{}\n{}", req.mode.as_str(), p.join("\n"))
}

fn check(req: &Request, ctx: &Context) -> Result<PatternSet, ReserveError> {
    if req.patterns.len() > MAX_PATTERNS {
        return Err(ReserveError::BadText(format!(
            "{} patterns in one request; at most {MAX_PATTERNS}",
            req.patterns.len()
        )));
    }
    if req.ttl_ms < 1000 || req.ttl_ms > ctx.settings.max_ttl_ms {
        return Err(ReserveError::Ttl {
            given: crate::duration::format(Duration::from_millis(req.ttl_ms.max(0) as u64)),
            max: crate::duration::format(Duration::from_millis(ctx.settings.max_ttl_ms as u64)),
        });
    }
    let set = hold_set(&req.patterns, req.auto, ctx.fold)?;
    if set.is_empty() {
        return Err(ReserveError::NothingToReserve);
    }
    Ok(set)
}

fn log(
    tx: &Transaction<'_>,
    now: i64,
    action: &str,
    reservation: Option<i64>,
    agent: &str,
    actor: &str,
    detail: &serde_json::Value,
) -> Result<(), ReserveError> {
    tx.execute(
        "INSERT INTO lease_log (ts_ms, action, reservation, agent, actor, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![now, action, reservation, agent, actor, detail.to_string()],
    )
    .map_err(sql)?;
    Ok(())
}

/// Queued requests of other agents, ahead of `mine` (all of them when this
/// request is not queued), that conflict with `set` in `mode`.
fn queued_ahead(
    tx: &Transaction<'_>,
    set: &PatternSet,
    mode: Mode,
    agent: &str,
    mine: Option<(i64, i64)>,
    now: i64,
    ctx: &Context,
) -> Result<Vec<Conflict>, ReserveError> {
    let mut st = tx
        .prepare_cached(
            "SELECT w.id, w.agent, COALESCE(a.name, w.agent), w.patterns, w.mode, w.enqueued_ms, w.deadline_ms,
                    COALESCE(a.last_seen_ms, 0), 0
             FROM waiters w LEFT JOIN agents a ON a.id = w.agent
             WHERE w.agent != ?1 AND w.seen_ms > ?2
             UNION ALL
             SELECT q.id, q.requester, COALESCE(a.name, q.requester), q.want, q.mode, q.ts_ms, q.deadline_ms,
                    COALESCE(a.last_seen_ms, 0), 1
             FROM release_requests q LEFT JOIN agents a ON a.id = q.requester
             WHERE q.requester != ?1 AND q.state IN ('pending', 'deferred') AND q.deadline_ms > ?3
             ORDER BY 6, 1",
        )
        .map_err(sql)?;
    let rows = st
        .query_map(params![agent, now - WAITER_STALE_MS, now], |r| {
            let patterns: String = r.get(3)?;
            let m: String = r.get(4)?;
            let last_seen: i64 = r.get(7)?;
            let request: bool = r.get(8)?;
            let id: i64 = r.get(0)?;
            Ok(Hold {
                id,
                agent: r.get(1)?,
                agent_name: r.get(2)?,
                patterns: serde_json::from_str(&patterns).unwrap_or_default(),
                mode: Mode::parse(&m).unwrap_or(Mode::Exclusive),
                reason: if request {
                    format!("asked for its release first (rq{id})")
                } else {
                    "waiting in the queue".into()
                },
                auto: false,
                created_ms: r.get(5)?,
                expires_ms: r.get(6)?,
                ttl_ms: 0,
                holder_state: State::of(last_seen, now, &ctx.presence),
                holder_last_seen_ms: last_seen,
            })
        })
        .map_err(sql)?;
    let mut out = Vec::new();
    for w in rows {
        let w = w.map_err(sql)?;
        if let Some((my_id, my_enqueued)) = mine {
            if (w.created_ms, w.id) >= (my_enqueued, my_id) {
                continue;
            }
        }
        if let Some(c) = against(w, set, mode, true, ctx) {
            out.push(c);
        }
    }
    Ok(out)
}

/// One attempt inside a write transaction.
#[allow(clippy::too_many_arguments)]
fn attempt(
    tx: &Transaction<'_>,
    agent: &Agent,
    platform: Option<&str>,
    req: &Request,
    set: &PatternSet,
    ctx: &Context,
    now: i64,
    waiter: Option<(i64, i64)>,
) -> Result<Grant, ReserveError> {
    let action = if req.auto { "write" } else { "reserve" };
    if let Some(platform) = platform {
        if let Err(e) = presence::touch(tx, agent, platform, action, None, now)? {
            return Err(ReserveError::BadText(e.to_string()));
        }
    }
    let key = key_of(req);
    let existing: Option<i64> = tx
        .query_row(
            "SELECT id FROM reservations WHERE agent = ?1 AND key = ?2 AND released_ms IS NULL AND expires_ms > ?3",
            params![agent.id, key, now],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)?;
    let holds = candidates(tx, set, &agent.id, now, ctx).map_err(sql)?;
    let mut conflicts: Vec<Conflict> = holds
        .into_iter()
        .filter_map(|h| against(h, set, req.mode, false, ctx))
        .collect();
    if let Some(id) = existing {
        // Renewal: what one holds is not blocked by the queue, but a holder
        // that was gone may have been overtaken meanwhile.
        if !conflicts.is_empty() {
            return Ok(Grant::Refused { conflicts });
        }
        let expires = now + req.ttl_ms;
        tx.execute(
            "UPDATE reservations SET expires_ms = ?2, ttl_ms = ?3, reason = ?4 WHERE id = ?1",
            params![id, expires, req.ttl_ms, req.reason],
        )
        .map_err(sql)?;
        log(
            tx,
            now,
            "renew",
            Some(id),
            &agent.id,
            &agent.id,
            &serde_json::json!({"expires_ms": expires}),
        )?;
        return Ok(Grant::Granted {
            id,
            renewed: true,
            expires_ms: expires,
        });
    }
    conflicts.extend(queued_ahead(
        tx, set, req.mode, &agent.id, waiter, now, ctx,
    )?);
    if !conflicts.is_empty() {
        return Ok(Grant::Refused { conflicts });
    }
    let held: u32 = tx
        .query_row(
            "SELECT COUNT(*) FROM reservations WHERE agent = ?1 AND released_ms IS NULL AND expires_ms > ?2",
            params![agent.id, now],
            |r| r.get(0),
        )
        .map_err(sql)?;
    if held >= ctx.settings.max_per_agent {
        return Err(ReserveError::Cap {
            agent: agent.id.clone(),
            held,
            cap: ctx.settings.max_per_agent,
        });
    }
    let expires = now + req.ttl_ms;
    let patterns = serde_json::to_string(&req.patterns).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO reservations (agent, patterns, key, mode, reason, auto, ttl_ms, created_ms, expires_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            agent.id,
            patterns,
            key,
            req.mode.as_str(),
            req.reason,
            req.auto as i64,
            req.ttl_ms,
            now,
            expires
        ],
    )
    .map_err(sql)?;
    let id = tx.last_insert_rowid();
    for p in set.prefixes() {
        tx.execute(
            "INSERT OR IGNORE INTO reservation_prefixes (prefix, reservation) VALUES (?1, ?2)",
            params![p.to_lowercase(), id],
        )
        .map_err(sql)?;
    }
    log(
        tx,
        now,
        "grant",
        Some(id),
        &agent.id,
        &agent.id,
        &serde_json::json!({"patterns": req.patterns, "mode": req.mode, "expires_ms": expires}),
    )?;
    if let Some((wid, _)) = waiter {
        tx.execute("DELETE FROM waiters WHERE id = ?1", [wid])
            .map_err(sql)?;
    }
    Ok(Grant::Granted {
        id,
        renewed: false,
        expires_ms: expires,
    })
}

/// Reserve `req` for `agent` now, or report what conflicts.
pub fn acquire(
    store: &mut Store,
    agent: &Agent,
    platform: &str,
    req: &Request,
    ctx: &Context,
) -> Result<Grant, ReserveError> {
    let set = check(req, ctx)?;
    // The clock is read under the write lock, so grants are judged in the
    // order they commit.
    store.write_leases(|tx| attempt(tx, agent, Some(platform), req, &set, ctx, now_ms(), None))
}

/// Grant `req` to `agent` inside `tx`, on its behalf: no heartbeat of the
/// agent is recorded (another agent's action hands it over). Queue entries
/// enqueued at or after `queued_since` are behind this one, so a release
/// request is served in the order it was made.
pub fn grant_in(
    tx: &Transaction<'_>,
    agent: &Agent,
    req: &Request,
    ctx: &Context,
    now: i64,
    queued_since: i64,
) -> Result<Grant, ReserveError> {
    let set = check(req, ctx)?;
    attempt(
        tx,
        agent,
        None,
        req,
        &set,
        ctx,
        now,
        Some((0, queued_since)),
    )
}

/// Is there a chain of waits from one of `blockers` back to `me`? Returns the
/// agent in the cycle that `me` would wait for, and what it waits for.
fn deadlock(
    tx: &Transaction<'_>,
    me: &str,
    blockers: &[String],
    now: i64,
    ctx: &Context,
) -> Result<Option<(String, String)>, ReserveError> {
    let mut seen: Vec<String> = Vec::new();
    let mut stack: Vec<(String, String)> =
        blockers.iter().map(|b| (b.clone(), b.clone())).collect();
    while let Some((agent, first)) = stack.pop() {
        if seen.contains(&agent) || seen.len() > 64 {
            continue;
        }
        seen.push(agent.clone());
        let waits: Vec<(i64, i64, String, String)> = {
            let mut st = tx
                .prepare_cached(
                    "SELECT id, enqueued_ms, patterns, mode FROM waiters WHERE agent = ?1 AND seen_ms > ?2",
                )
                .map_err(sql)?;
            let rows = st
                .query_map(params![agent, now - WAITER_STALE_MS], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .map_err(sql)?;
            rows.collect::<Result<_, _>>().map_err(sql)?
        };
        for (wid, enq, patterns, mode) in waits {
            let pats: Vec<String> = serde_json::from_str(&patterns).unwrap_or_default();
            let Ok(set) = pattern_set(&pats, ctx.fold) else {
                continue;
            };
            let mode = Mode::parse(&mode).unwrap_or(Mode::Exclusive);
            let mut next: Vec<String> = candidates(tx, &set, &agent, now, ctx)
                .map_err(sql)?
                .into_iter()
                .filter_map(|h| against(h, &set, mode, false, ctx))
                .map(|c| c.hold.agent)
                .collect();
            next.extend(
                queued_ahead(tx, &set, mode, &agent, Some((wid, enq)), now, ctx)?
                    .into_iter()
                    .map(|c| c.hold.agent),
            );
            if next.iter().any(|n| n == me) {
                return Ok(Some((first, pats.join(" "))));
            }
            stack.extend(next.into_iter().map(|n| (n, first.clone())));
        }
    }
    Ok(None)
}

enum Step {
    Done(Grant),
    Wait,
}

/// Reserve `req`, waiting in the fair queue until `wait` has passed. The
/// store is opened for each attempt and closed between them, so a waiting
/// process never holds it. Gives up cleanly at the deadline (its queue entry
/// is removed) and refuses at once a wait that would deadlock.
pub fn acquire_waiting(
    store_path: &Path,
    agent: &Agent,
    platform: &str,
    req: &Request,
    ctx: &Context,
    wait: Duration,
) -> Result<Grant, ReserveError> {
    let set = check(req, ctx)?;
    let started = Instant::now();
    let deadline_ms = now_ms() + wait.as_millis() as i64;
    let mut waiter: Option<(i64, i64)> = None;
    let mut poll = Duration::from_millis(20);
    loop {
        let mut store = Store::open(store_path)?;
        let give_up = started.elapsed() >= wait;
        let step = store.write_leases(|tx| {
            let now = now_ms();
            tx.execute(
                "DELETE FROM waiters WHERE seen_ms <= ?1",
                [now - WAITER_STALE_MS],
            )
            .map_err(sql)?;
            if let Some((wid, _)) = waiter {
                let alive = tx
                    .execute("UPDATE waiters SET seen_ms = ?2 WHERE id = ?1", params![wid, now])
                    .map_err(sql)?;
                if alive == 0 {
                    // Our entry was purged (we stalled): queue again, at the back.
                    waiter = None;
                }
            }
            let g = attempt(tx, agent, Some(platform), req, &set, ctx, now, waiter)?;
            match g {
                Grant::Granted { .. } => Ok(Step::Done(g)),
                Grant::Refused { conflicts } => {
                    if give_up {
                        if let Some((wid, _)) = waiter {
                            tx.execute("DELETE FROM waiters WHERE id = ?1", [wid])
                                .map_err(sql)?;
                        }
                        return Ok(Step::Done(Grant::Refused { conflicts }));
                    }
                    if waiter.is_none() {
                        tx.execute(
                            "INSERT INTO waiters (agent, patterns, mode, enqueued_ms, deadline_ms, seen_ms)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?4)",
                            params![
                                agent.id,
                                serde_json::to_string(&req.patterns).unwrap_or_default(),
                                req.mode.as_str(),
                                now,
                                deadline_ms
                            ],
                        )
                        .map_err(sql)?;
                        waiter = Some((tx.last_insert_rowid(), now));
                    }
                    let blockers: Vec<String> =
                        conflicts.iter().map(|c| c.hold.agent.clone()).collect();
                    if let Some((other, wants)) = deadlock(tx, &agent.id, &blockers, now, ctx)? {
                        if let Some((wid, _)) = waiter {
                            tx.execute("DELETE FROM waiters WHERE id = ?1", [wid])
                                .map_err(sql)?;
                        }
                        let other_name = presence::find(tx, &other)
                            .map_err(sql)?
                            .map_or(other.clone(), |a| format!("{} ({})", a.name, a.id));
                        let me = presence::find(tx, &agent.id)
                            .map_err(sql)?
                            .map_or(agent.id.clone(), |a| format!("{} ({})", a.name, a.id));
                        return Err(ReserveError::Deadlock {
                            me,
                            other: other_name,
                            other_wants: wants,
                        });
                    }
                    Ok(Step::Wait)
                }
            }
        })?;
        drop(store);
        match step {
            Step::Done(g) => return Ok(g),
            Step::Wait => {
                let left = wait.saturating_sub(started.elapsed());
                std::thread::sleep(poll.min(left));
                poll = (poll * 2).min(Duration::from_millis(250));
            }
        }
    }
}

/// [`acquire`] inside the caller's write transaction `tx` (its `BEGIN
/// IMMEDIATE`), so a reservation can be taken atomically with other writes
/// (a task claim): the same conflict check, queue, renewal, per-agent cap,
/// heartbeat and lease log. A refusal writes nothing but the heartbeat; the
/// caller commits or rolls back the whole.
pub fn acquire_in(
    tx: &Transaction<'_>,
    agent: &Agent,
    platform: &str,
    req: &Request,
    ctx: &Context,
    now: i64,
) -> Result<Grant, ReserveError> {
    let set = check(req, ctx)?;
    attempt(tx, agent, Some(platform), req, &set, ctx, now, None)
}

/// Release reservation `id` inside `tx`, whoever holds it, as `by` (logged
/// as a `release`, with `note`). Returns what was released, or `None` when
/// it had already been released or had expired.
pub fn release_in(
    tx: &Transaction<'_>,
    id: i64,
    by: &str,
    note: &str,
    now: i64,
) -> Result<Option<super::Released>, ReserveError> {
    let live = tx
        .query_row(
            "SELECT agent, patterns, expires_ms FROM reservations
             WHERE id = ?1 AND released_ms IS NULL AND expires_ms > ?2",
            params![id, now],
            |r| {
                let patterns: String = r.get(1)?;
                Ok(super::Released {
                    id,
                    agent: r.get(0)?,
                    patterns: serde_json::from_str(&patterns).unwrap_or_default(),
                    expires_ms: r.get(2)?,
                })
            },
        )
        .optional()
        .map_err(sql)?;
    let Some(r) = live else {
        return Ok(None);
    };
    super::lease::mark_released(tx, &r, by, "release", note, now)?;
    Ok(Some(r))
}
