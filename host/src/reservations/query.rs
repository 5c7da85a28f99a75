//! The conflict check that every enforcement point calls.

use rusqlite::{params_from_iter, Connection};

use hookgate_glob::{overlap, PatternSet};

use super::{hold_set, Conflict, Context, Hold, Mode, ReserveError};
use crate::presence::State;
use crate::store::StoreError;

/// Every prefix under which a path matched by a set with literal prefix `q`
/// can be reserved: `q`'s ancestors and `q` itself (the reservation's prefix
/// contains the request's paths) — those under `q` are found by range.
pub fn ancestors(q: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    if q.is_empty() {
        return out;
    }
    let mut acc = String::new();
    for (i, seg) in q.split('/').enumerate() {
        if i > 0 {
            acc.push('/');
        }
        acc.push_str(seg);
        if !acc.is_empty() && !out.contains(&acc) {
            out.push(acc.clone());
        }
    }
    out
}

/// The columns [`hold_row`] reads, from `reservations r` joined with `agents a`.
pub(super) const HOLD_COLUMNS: &str =
    "r.id, r.agent, COALESCE(a.name, r.agent), r.patterns, r.mode, r.reason, r.auto,
     r.created_ms, r.expires_ms, COALESCE(a.last_seen_ms, 0), r.ttl_ms";

/// Read a hold from a row of [`HOLD_COLUMNS`].
pub(super) fn hold_row(
    r: &rusqlite::Row<'_>,
    now_ms: i64,
    ctx: &Context,
) -> rusqlite::Result<Hold> {
    let patterns: String = r.get(3)?;
    let mode: String = r.get(4)?;
    let last_seen: i64 = r.get(9)?;
    Ok(Hold {
        id: r.get(0)?,
        agent: r.get(1)?,
        agent_name: r.get(2)?,
        patterns: serde_json::from_str(&patterns).unwrap_or_default(),
        mode: Mode::parse(&mode).unwrap_or(Mode::Exclusive),
        reason: r.get(5)?,
        auto: r.get::<_, i64>(6)? != 0,
        created_ms: r.get(7)?,
        expires_ms: r.get(8)?,
        ttl_ms: r.get(10)?,
        holder_state: State::of(last_seen, now_ms, &ctx.presence),
        holder_last_seen_ms: last_seen,
    })
}

/// Live reservations of agents other than `agent` that could overlap `set`
/// (by prefix), newest last.
pub(super) fn candidates(
    conn: &Connection,
    set: &PatternSet,
    agent: &str,
    now_ms: i64,
    ctx: &Context,
) -> Result<Vec<Hold>, rusqlite::Error> {
    let prefixes: Vec<String> = set.prefixes().iter().map(|p| p.to_lowercase()).collect();
    if prefixes.is_empty() {
        // A set with nothing included (only exclusions) overlaps nothing.
        return Ok(Vec::new());
    }
    let mut args: Vec<String> = vec![now_ms.to_string(), agent.to_string()];
    let everywhere = prefixes.iter().any(String::is_empty);
    let filter = if everywhere {
        String::new()
    } else {
        let mut exact: Vec<String> = Vec::new();
        let mut ranges = Vec::new();
        for q in &prefixes {
            for a in ancestors(q) {
                if !exact.contains(&a) {
                    exact.push(a);
                }
            }
            args.push(format!("{q}/"));
            args.push(format!("{q}0"));
            ranges.push(format!(
                "(p.prefix >= ?{} AND p.prefix < ?{})",
                args.len() - 1,
                args.len()
            ));
        }
        let first = args.len() + 1;
        let marks: Vec<String> = (0..exact.len())
            .map(|i| format!("?{}", first + i))
            .collect();
        args.extend(exact);
        format!(
            "AND r.id IN (SELECT p.reservation FROM reservation_prefixes p WHERE p.prefix IN ({}) OR {})",
            marks.join(", "),
            ranges.join(" OR ")
        )
    };
    let sql = format!(
        "SELECT {HOLD_COLUMNS} FROM reservations r LEFT JOIN agents a ON a.id = r.agent
         WHERE r.released_ms IS NULL AND r.expires_ms > CAST(?1 AS INTEGER) AND r.agent != ?2 {filter}
         ORDER BY r.id"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(params_from_iter(args.iter()), |r| hold_row(r, now_ms, ctx))?;
    rows.collect()
}

/// Does `hold` block a request for `set` in `mode`? Returns the conflict.
pub fn against(
    hold: Hold,
    set: &PatternSet,
    mode: Mode,
    queued: bool,
    ctx: &Context,
) -> Option<Conflict> {
    if !hold.mode.clashes(mode) {
        return None;
    }
    if hold.holder_state == State::Gone && !ctx.settings.gone_holders_block {
        return None;
    }
    let Ok(theirs) = hold_set(&hold.patterns, hold.auto, ctx.fold) else {
        // A stored pattern this build can't read: fail closed.
        return Some(Conflict {
            hold,
            queued,
            example: None,
        });
    };
    match overlap(set, &theirs) {
        Ok(None) => None,
        Ok(Some(example)) => Some(Conflict {
            hold,
            queued,
            example: Some(example),
        }),
        // Too complex to decide: treated as overlapping.
        Err(_) => Some(Conflict {
            hold,
            queued,
            example: None,
        }),
    }
}

/// The live reservations of other agents that conflict with `agent`
/// acquiring (or writing, as [`Mode::Exclusive`]) `set` in `mode`. Holders
/// that are gone do not block unless the policy says so.
pub fn conflicts(
    conn: &Connection,
    set: &PatternSet,
    mode: Mode,
    agent: &str,
    now_ms: i64,
    ctx: &Context,
) -> Result<Vec<Conflict>, ReserveError> {
    let holds = candidates(conn, set, agent, now_ms, ctx).map_err(|e| {
        ReserveError::Store(StoreError::Sql {
            path: Default::default(),
            source: e,
        })
    })?;
    Ok(holds
        .into_iter()
        .filter_map(|h| against(h, set, mode, false, ctx))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_include_root_and_self() {
        assert_eq!(ancestors("src/auth"), ["", "src", "src/auth"]);
        assert_eq!(ancestors(""), [""]);
        assert_eq!(ancestors("/etc"), ["", "/etc"]);
    }
}
