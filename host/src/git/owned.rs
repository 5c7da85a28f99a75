//! Which of the work tree's changes are an agent's own, for `hookgate
//! commit` without paths.
//!
//! A changed path (against HEAD, untracked files included) is the agent's
//! when it holds a live reservation that covers it (exclusive or intent:
//! shared means "I rely on it", not "I write it"), or when the audit log
//! shows it wrote or deleted the path — through an edit tool or a shell
//! command — and no other agent wrote it after. Everything else is left for
//! its owner, with the reason shown by `--dry-run`.

use std::collections::HashMap;
use std::path::Path;

use hookgate_glob::Pattern;
use rusqlite::Connection;

use super::repo::{nul_fields, GitError, Repo};
use crate::reservations::{self, Context, Mode};

/// One changed path and whose it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Claim {
    /// Repository-relative path.
    pub path: String,
    /// Whether it is the agent's.
    pub mine: bool,
    /// Why (`you wrote it 3m ago`, `reserved by you (r4)`, `last written by
    /// AmberFox`, `no record of a write by you`).
    pub why: String,
}

/// The paths that differ from HEAD in the work tree (tracked changes,
/// deletions and untracked files that are not ignored). Reads the shared
/// index without taking its lock.
pub fn changed_paths(repo: &Repo) -> Result<Vec<String>, GitError> {
    let out = repo.run(
        &[
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--no-renames",
            "--ignore-submodules=dirty",
        ],
        None,
    )?;
    let mut paths = Vec::new();
    for entry in nul_fields(&out) {
        // `XY path`
        if entry.len() > 3 && entry.as_bytes()[2] == b' ' {
            paths.push(entry[3..].to_string());
        }
    }
    paths.sort();
    paths.dedup();
    Ok(paths)
}

/// One write in the audit log: (agent, path or shell pattern, when, from a shell command).
type Write = (String, String, i64, bool);

fn audit_writes(conn: &Connection) -> Result<Vec<Write>, rusqlite::Error> {
    let mut st = conn.prepare(
        "SELECT e.agent, j.value, MAX(e.ts_ms), json_extract(e.event_json, '$.command') IS NOT NULL
         FROM events e, json_each(e.event_json, '$.writes') j
         WHERE e.decision != 'deny' AND e.kind IN ('pre-tool', 'post-tool') AND j.type = 'text'
         GROUP BY e.agent, j.value
         UNION ALL
         SELECT e.agent, j.value, MAX(e.ts_ms), json_extract(e.event_json, '$.command') IS NOT NULL
         FROM events e, json_each(e.event_json, '$.deletes') j
         WHERE e.decision != 'deny' AND e.kind IN ('pre-tool', 'post-tool') AND j.type = 'text'
         GROUP BY e.agent, j.value",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, bool>(3)?,
        ))
    })?;
    rows.collect()
}

/// Sort `changed` into the agent's and the others', reading the audit log
/// and the reservations of the store at `store_path`.
pub fn claims(
    store_path: &Path,
    audit: crate::policy::AuditSettings,
    agent: &str,
    changed: &[String],
    rctx: &Context,
    now: i64,
) -> Result<Vec<Claim>, GitError> {
    let store_err = |e: &dyn std::fmt::Display| {
        GitError::Refused(format!(
            "could not read the audit log to find your changes ({e}); name the paths to commit"
        ))
    };
    let store =
        crate::store::audit::open_for_reading(store_path, audit).map_err(|e| store_err(&e))?;
    let conn = store.connection();
    let writes = audit_writes(conn).map_err(|e| store_err(&e))?;
    let mut holds = reservations::sets_of(conn, agent, now, rctx).map_err(|e| store_err(&e))?;
    holds.retain(|(h, _)| h.mode != Mode::Shared);
    let names: HashMap<String, String> = conn
        .prepare("SELECT id, name FROM agents")
        .and_then(|mut st| {
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<HashMap<String, String>, _>>()
        })
        .unwrap_or_default();

    let fold = |s: &str| {
        if rctx.fold {
            s.to_lowercase()
        } else {
            s.to_string()
        }
    };
    // Literal paths index directly (by their folded form); shell patterns
    // are matched one by one.
    let mut by_path: HashMap<String, Vec<(&str, i64)>> = HashMap::new();
    let mut patterns: Vec<(Pattern, &str, i64)> = Vec::new();
    for (who, p, ts, shell) in &writes {
        if *shell && p.chars().any(hookgate_glob::is_meta) {
            if let Ok(pat) = Pattern::new(p, rctx.fold) {
                patterns.push((pat, who, *ts));
            }
        } else {
            by_path.entry(fold(p)).or_default().push((who, *ts));
        }
    }
    let mut out = Vec::with_capacity(changed.len());
    for path in changed {
        if let Some((h, _)) = holds.iter().find(|(_, s)| s.matches(path)) {
            out.push(Claim {
                path: path.clone(),
                mine: true,
                why: format!("reserved by you ({})", h.label()),
            });
            continue;
        }
        let key = fold(path);
        let mut writers: Vec<(&str, i64)> = by_path.get(&key).cloned().unwrap_or_default();
        writers.extend(
            patterns
                .iter()
                .filter(|(p, _, _)| p.matches(&key))
                .map(|(_, w, ts)| (*w, *ts)),
        );
        let mine = writers
            .iter()
            .filter(|(w, _)| *w == agent)
            .map(|w| w.1)
            .max();
        let other = writers
            .iter()
            .filter(|(w, _)| *w != agent)
            .max_by_key(|w| w.1)
            .copied();
        let claim = match (mine, other) {
            (Some(m), Some((o, ots))) if ots > m => Claim {
                path: path.clone(),
                mine: false,
                why: format!(
                    "last written by {} {} (after you); name it to commit it anyway",
                    names.get(o).map(String::as_str).unwrap_or(o),
                    crate::reservations::report::relative(ots, now)
                ),
            },
            (Some(m), _) => Claim {
                path: path.clone(),
                mine: true,
                why: format!(
                    "you wrote it {}",
                    crate::reservations::report::relative(m, now)
                ),
            },
            (None, Some((o, ots))) => Claim {
                path: path.clone(),
                mine: false,
                why: format!(
                    "written by {} {}",
                    names.get(o).map(String::as_str).unwrap_or(o),
                    crate::reservations::report::relative(ots, now)
                ),
            },
            (None, None) => Claim {
                path: path.clone(),
                mine: false,
                why: "no record of a write by any agent (a person's change?); name it to commit it"
                    .into(),
            },
        };
        out.push(claim);
    }
    Ok(out)
}
