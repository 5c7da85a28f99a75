//! The rest of the lease life cycle: release, extend, force release by an
//! operator (audited, the holder is told), renewal on activity, listing, and
//! the notices that reach an agent at its next hook or command.

use std::time::Duration;

use rusqlite::{params, Connection, Transaction};
use serde::Serialize;

use super::query::{hold_row, HOLD_COLUMNS};
use super::{Context, Hold, ReserveError};
use crate::store::{Store, StoreError};

/// Which of an agent's reservations an operation applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// All of them.
    All,
    /// By id.
    Ids(Vec<i64>),
    /// Those that contain one of these (normalized) patterns.
    Patterns(Vec<String>),
}

/// A reservation an operation changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Released {
    /// Id.
    pub id: i64,
    /// Holder.
    pub agent: String,
    /// Its patterns.
    pub patterns: Vec<String>,
    /// Expiry after the operation (extend), ms since the epoch.
    pub expires_ms: i64,
}

fn sql(e: rusqlite::Error) -> ReserveError {
    ReserveError::Store(StoreError::Sql {
        path: Default::default(),
        source: e,
    })
}

/// Live reservations selected by `sel`, of `agent` (or of anyone when
/// `agent` is `None`).
pub(crate) fn select(
    tx: &Transaction<'_>,
    agent: Option<&str>,
    sel: &Selector,
    now: i64,
) -> Result<Vec<Released>, ReserveError> {
    let mut st = tx
        .prepare_cached(
            "SELECT id, agent, patterns, expires_ms FROM reservations
             WHERE released_ms IS NULL AND expires_ms > ?1 AND (?2 IS NULL OR agent = ?2) ORDER BY id",
        )
        .map_err(sql)?;
    let rows = st
        .query_map(params![now, agent], |r| {
            let p: String = r.get(2)?;
            Ok(Released {
                id: r.get(0)?,
                agent: r.get(1)?,
                patterns: serde_json::from_str(&p).unwrap_or_default(),
                expires_ms: r.get(3)?,
            })
        })
        .map_err(sql)?;
    let all: Vec<Released> = rows.collect::<Result<_, _>>().map_err(sql)?;
    let picked: Vec<Released> = all
        .into_iter()
        .filter(|r| match sel {
            Selector::All => true,
            Selector::Ids(ids) => ids.contains(&r.id),
            Selector::Patterns(ps) => ps.iter().any(|p| r.patterns.contains(p)),
        })
        .collect();
    match sel {
        Selector::Ids(ids) => {
            if let Some(missing) = ids.iter().find(|i| !picked.iter().any(|r| r.id == **i)) {
                return Err(ReserveError::NotFound(format!(
                    "no live reservation r{missing}{}; see `hookgate locks`",
                    agent.map_or(String::new(), |a| format!(" held by {a}"))
                )));
            }
        }
        Selector::Patterns(ps) => {
            if let Some(missing) = ps
                .iter()
                .find(|p| !picked.iter().any(|r| r.patterns.contains(p)))
            {
                return Err(ReserveError::NotFound(format!(
                    "no live reservation of `{missing}`{}; see `hookgate locks`",
                    agent.map_or(String::new(), |a| format!(" held by {a}"))
                )));
            }
        }
        Selector::All => {}
    }
    Ok(picked)
}

/// Mark one reservation released by `by` inside `tx`, logged as `action`.
pub fn mark_released(
    tx: &Transaction<'_>,
    r: &Released,
    by: &str,
    action: &str,
    note: &str,
    now: i64,
) -> Result<(), ReserveError> {
    tx.execute(
        "UPDATE reservations SET released_ms = ?2, released_by = ?3, release_note = ?4 WHERE id = ?1",
        params![r.id, now, by, note],
    )
    .map_err(sql)?;
    tx.execute(
        "DELETE FROM reservation_prefixes WHERE reservation = ?1",
        [r.id],
    )
    .map_err(sql)?;
    tx.execute(
        "INSERT INTO lease_log (ts_ms, action, reservation, agent, actor, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            now,
            action,
            r.id,
            r.agent,
            by,
            serde_json::json!({"patterns": r.patterns, "note": note}).to_string()
        ],
    )
    .map_err(sql)?;
    Ok(())
}

/// Release `agent`'s own reservations selected by `sel`.
pub fn release(
    store: &mut Store,
    agent: &str,
    sel: &Selector,
    now: i64,
) -> Result<Vec<Released>, ReserveError> {
    store.write_leases(|tx| release_selected(tx, agent, sel, now))
}

/// [`release`] inside the caller's transaction.
pub fn release_selected(
    tx: &Transaction<'_>,
    agent: &str,
    sel: &Selector,
    now: i64,
) -> Result<Vec<Released>, ReserveError> {
    let picked = select(tx, Some(agent), sel, now)?;
    for r in &picked {
        mark_released(tx, r, agent, "release", "", now)?;
    }
    prune(tx, now)?;
    Ok(picked)
}

/// Release anyone's reservations selected by `sel` (ids or patterns), as an
/// operator: the reason is required, the release is logged, and each holder
/// gets a notice at its next hook.
pub fn force_release(
    store: &mut Store,
    actor: &str,
    sel: &Selector,
    reason: &str,
    now: i64,
) -> Result<Vec<Released>, ReserveError> {
    if reason.trim().is_empty() {
        return Err(ReserveError::BadText(
            "force-release needs --reason: the holder is told why".into(),
        ));
    }
    if *sel == Selector::All {
        return Err(ReserveError::BadText(
            "force-release takes reservation ids or patterns, not --all".into(),
        ));
    }
    store.write_leases(|tx| {
        let picked = select(tx, None, sel, now)?;
        for r in &picked {
            mark_released(tx, r, actor, "force-release", reason, now)?;
            let text = format!(
                "Your reservation r{} ({}) was force-released by {actor}: {reason}. Reserve again with `hookgate reserve` before writing there.",
                r.id,
                r.patterns.join(" ")
            );
            crate::coordination::messages::post(
                tx,
                &r.agent,
                &crate::coordination::messages::Post {
                    sender: crate::coordination::messages::HOOKGATE,
                    audience: &r.agent,
                    kind: crate::coordination::messages::MessageKind::Notice,
                    thread: None,
                    importance: crate::coordination::messages::Importance::High,
                    ack_required: false,
                    body: &text,
                    paths: &r.patterns,
                    request: None,
                },
                now,
            )
            ?;
        }
        Ok(picked)
    })
}

/// Push the expiry of `agent`'s selected reservations out by `by`, capped at
/// `max_ttl` from now.
pub fn extend(
    store: &mut Store,
    agent: &str,
    sel: &Selector,
    by: Duration,
    ctx: &Context,
    now: i64,
) -> Result<Vec<Released>, ReserveError> {
    let by_ms = by.as_millis() as i64;
    if by_ms < 1000 || by_ms > ctx.settings.max_ttl_ms {
        return Err(ReserveError::Ttl {
            given: crate::duration::format(by),
            max: crate::duration::format(Duration::from_millis(ctx.settings.max_ttl_ms as u64)),
        });
    }
    store.write_leases(|tx| {
        let mut picked = select(tx, Some(agent), sel, now)?;
        for r in &mut picked {
            let new = (r.expires_ms.max(now) + by_ms).min(now + ctx.settings.max_ttl_ms);
            tx.execute(
                "UPDATE reservations SET expires_ms = ?2 WHERE id = ?1",
                params![r.id, new],
            )
            .map_err(sql)?;
            tx.execute(
                "INSERT INTO lease_log (ts_ms, action, reservation, agent, actor, detail) VALUES (?1, 'renew', ?2, ?3, ?3, ?4)",
                params![now, r.id, agent, serde_json::json!({"expires_ms": new}).to_string()],
            )
            .map_err(sql)?;
            r.expires_ms = new;
        }
        Ok(picked)
    })
}

/// Called on every hook event of `agent`: leases with less than half their
/// TTL left are pushed out to a full TTL, so a lease lapses only a TTL after
/// its holder stopped working.
pub fn renew_on_activity(
    tx: &Transaction<'_>,
    agent: &str,
    now: i64,
) -> Result<usize, ReserveError> {
    tx.execute(
        "UPDATE reservations SET expires_ms = ?2 + ttl_ms
         WHERE agent = ?1 AND released_ms IS NULL AND expires_ms > ?2 AND expires_ms < ?2 + ttl_ms / 2",
        params![agent, now],
    )
    .map_err(sql)
}

/// Live reservations (of `agent` only, when given), oldest first.
pub fn list(
    conn: &Connection,
    agent: Option<&str>,
    now: i64,
    ctx: &Context,
) -> Result<Vec<Hold>, ReserveError> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {HOLD_COLUMNS} FROM reservations r LEFT JOIN agents a ON a.id = r.agent
             WHERE r.released_ms IS NULL AND r.expires_ms > ?1 AND (?2 IS NULL OR r.agent = ?2)
             ORDER BY r.id"
        ))
        .map_err(sql)?;
    let rows = st
        .query_map(params![now, agent], |r| hold_row(r, now, ctx))
        .map_err(sql)?;
    rows.collect::<Result<_, _>>().map_err(sql)
}

/// `agent`'s live reservations, each with its pattern set (one whose
/// stored patterns this build can't read is left out), oldest first.
pub fn sets_of(
    conn: &Connection,
    agent: &str,
    now: i64,
    ctx: &Context,
) -> Result<Vec<(Hold, hookgate_glob::PatternSet)>, ReserveError> {
    Ok(list(conn, Some(agent), now, ctx)?
        .into_iter()
        .filter_map(|h| {
            let set = super::hold_set(&h.patterns, h.auto, ctx.fold).ok()?;
            Some((h, set))
        })
        .collect())
}

/// Drop what no one needs any more: reservations that ended a day ago, their
/// prefixes, messages read a week ago, and log entries older than a week.
fn prune(tx: &Transaction<'_>, now: i64) -> Result<(), ReserveError> {
    let day = 86_400_000;
    tx.execute(
        "DELETE FROM reservation_prefixes WHERE reservation IN
            (SELECT id FROM reservations WHERE expires_ms < ?1 OR released_ms IS NOT NULL)",
        [now],
    )
    .map_err(sql)?;
    tx.execute(
        "DELETE FROM reservations WHERE (released_ms IS NOT NULL AND released_ms < ?1) OR expires_ms < ?1",
        [now - day],
    )
    .map_err(sql)?;
    crate::coordination::messages::prune(tx, now)?;
    tx.execute("DELETE FROM lease_log WHERE ts_ms < ?1", [now - 7 * day])
        .map_err(sql)?;
    Ok(())
}
