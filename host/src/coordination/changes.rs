//! Change notifications routed by audience, and stale-read warnings.
//!
//! Every read a hook lets through is appended to a small log beside the
//! store (a few microseconds, no SQLite); the log is folded into the `reads`
//! table by the next write event, which opens the store anyway. When a path
//! is written (or released, or committed), only these agents hear of it:
//! - those holding a live shared or intent reservation that overlaps it;
//! - those that read it within the read window and have not been told of a
//!   change since that read.
//!
//! An agent about to write a file that another agent wrote after this
//! agent last read it gets a stale-read warning: its write was composed from
//! an old read (the lost update users report).

use std::io::{Read as _, Seek as _, Write as _};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use rusqlite::{params, Transaction};

use super::messages::{self, Importance, MessageKind, Post};
use super::sql_error as sql;
use crate::event::Agent;
use crate::reservations::{self, Context, Mode};
use crate::store::StoreError;

/// Largest read log folded at once; past it, older entries are dropped.
const MAX_LOG: u64 = 4 << 20;

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The read log beside the store at `db`.
pub fn log_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".reads");
    db.with_file_name(name)
}

struct Locked(std::fs::File);

impl Locked {
    fn open(path: &Path) -> std::io::Result<Locked> {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        // SAFETY: flock on a descriptor this function owns; released when the file closes.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Locked(f))
    }
}

/// Append `agent`'s reads of `paths` at `now` to the read log.
pub fn note_reads(db: &Path, agent: &str, paths: &[String], now: i64) -> Result<(), StoreError> {
    if paths.is_empty() {
        return Ok(());
    }
    let path = log_path(db);
    let mut text = String::new();
    for p in paths {
        let line = serde_json::json!([now, agent, p]).to_string();
        text.push_str(&line);
        text.push('\n');
    }
    let mut f = Locked::open(&path).map_err(io(&path))?;
    f.0.write_all(text.as_bytes()).map_err(io(&path))
}

/// Fold the read log into the `reads` table and empty it.
pub fn fold_reads(tx: &Transaction<'_>, db: &Path) -> Result<usize, StoreError> {
    let path = log_path(db);
    if !path.exists() {
        return Ok(0);
    }
    let mut f = Locked::open(&path).map_err(io(&path))?;
    let len = f.0.metadata().map_err(io(&path))?.len();
    if len == 0 {
        return Ok(0);
    }
    if len > MAX_LOG {
        f.0.seek(std::io::SeekFrom::Start(len - MAX_LOG))
            .map_err(io(&path))?;
    } else {
        f.0.rewind().map_err(io(&path))?;
    }
    let mut text = String::new();
    // Bytes that are not UTF-8 (a torn write) are skipped line by line below.
    let mut raw = Vec::new();
    f.0.read_to_end(&mut raw).map_err(io(&path))?;
    text.push_str(&String::from_utf8_lossy(&raw));
    let mut st = tx
        .prepare_cached(
            "INSERT INTO reads (path, agent, ts_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (path, agent) DO UPDATE SET ts_ms = MAX(ts_ms, excluded.ts_ms)",
        )
        .map_err(sql)?;
    let mut n = 0;
    for line in text.lines() {
        let Ok((ts, agent, p)) = serde_json::from_str::<(i64, String, String)>(line) else {
            continue;
        };
        st.execute(params![p, agent, ts]).map_err(sql)?;
        n += 1;
    }
    f.0.set_len(0).map_err(io(&path))?;
    Ok(n)
}

/// A stale read found before a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The path.
    pub path: String,
    /// Who wrote it since.
    pub writer: String,
    /// When it was written, ms.
    pub written_ms: i64,
    /// When this agent last read it, ms.
    pub read_ms: i64,
}

/// Paths among `paths` that another agent wrote after `agent` last read them.
pub fn stale_reads(
    tx: &Transaction<'_>,
    agent: &str,
    paths: &[String],
) -> Result<Vec<Stale>, StoreError> {
    let mut st = tx
        .prepare_cached(
            "SELECT r.ts_ms, COALESCE(a.name, w.agent), w.ts_ms FROM reads r
             JOIN writes w ON w.path = r.path LEFT JOIN agents a ON a.id = w.agent
             WHERE r.path = ?1 AND r.agent = ?2 AND w.agent != ?2 AND w.ts_ms > r.ts_ms",
        )
        .map_err(sql)?;
    let mut out = Vec::new();
    for p in paths {
        let found = st
            .query_map(params![p, agent], |r| {
                Ok(Stale {
                    path: p.clone(),
                    read_ms: r.get(0)?,
                    writer: r.get(1)?,
                    written_ms: r.get(2)?,
                })
            })
            .map_err(sql)?;
        for f in found {
            out.push(f.map_err(sql)?);
        }
    }
    Ok(out)
}

/// What happened to the paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Written (or deleted) by a tool or a shell command.
    Written,
    /// A reservation on them was released.
    Released,
    /// Committed.
    Committed,
}

impl Change {
    fn verb(self) -> &'static str {
        match self {
            Change::Written => "changed",
            Change::Released => "released",
            Change::Committed => "committed",
        }
    }
}

/// Record that `who` changed `paths` (`how`: the tool) and tell the
/// audience. Returns the agents told.
#[allow(clippy::too_many_arguments)]
pub fn changed(
    tx: &Transaction<'_>,
    who: &Agent,
    paths: &[String],
    change: Change,
    how: &str,
    read_window_ms: i64,
    ctx: &Context,
    now: i64,
) -> Result<Vec<String>, messages::MessageError> {
    // audience: agent -> (paths, why)
    let mut audience: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    let mut add = |agent: String, path: &str, why: String| match audience
        .iter_mut()
        .find(|(a, _, _)| *a == agent)
    {
        Some((_, ps, whys)) => {
            if !ps.iter().any(|p| p == path) {
                ps.push(path.to_string());
            }
            if !whys.contains(&why) {
                whys.push(why);
            }
        }
        None => audience.push((agent, vec![path.to_string()], vec![why])),
    };
    for p in paths {
        if change == Change::Written {
            tx.execute(
                "INSERT INTO writes (path, agent, ts_ms, how) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (path) DO UPDATE SET agent = excluded.agent, ts_ms = excluded.ts_ms, how = excluded.how",
                params![p, who.id, now, how],
            )
            .map_err(|e| messages::MessageError::Store(sql(e)))?;
            // The writer knows what it wrote: as good as a fresh read.
            tx.execute(
                "INSERT INTO reads (path, agent, ts_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (path, agent) DO UPDATE SET ts_ms = MAX(ts_ms, excluded.ts_ms)",
                params![p, who.id, now],
            )
            .map_err(|e| messages::MessageError::Store(sql(e)))?;
        }
        // Readers since the window opened, not told since their read (a
        // release changes no file: only holders hear of it).
        let readers: Vec<(String, i64)> = if change == Change::Released {
            Vec::new()
        } else {
            let mut st = tx
                .prepare_cached(
                    "UPDATE reads SET notified_ms = ?4
                     WHERE path = ?1 AND agent != ?2 AND ts_ms >= ?3 AND ts_ms > notified_ms
                     RETURNING agent, ts_ms",
                )
                .map_err(|e| messages::MessageError::Store(sql(e)))?;
            let rows = st
                .query_map(params![p, who.id, now - read_window_ms, now], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .map_err(|e| messages::MessageError::Store(sql(e)))?;
            rows.collect::<Result<_, _>>()
                .map_err(|e| messages::MessageError::Store(sql(e)))?
        };
        for (agent, read_ms) in readers {
            let ago = crate::duration::format(std::time::Duration::from_millis(
                now.saturating_sub(read_ms).max(0) as u64,
            ));
            add(agent, p, format!("you read it {ago} ago"));
        }
        // Holders of overlapping shared or intent reservations. A released
        // reservation is one set, its exclusions with it.
        let set = if change == Change::Released {
            if p.starts_with('!') {
                continue;
            }
            reservations::hold_set(paths, false, ctx.fold).ok()
        } else if p.contains(['*', '?', '[', '{']) {
            reservations::pattern_set(std::slice::from_ref(p), ctx.fold).ok()
        } else {
            reservations::path_set(p, None, ctx.fold)
        };
        if let Some(set) = set {
            let holds = reservations::conflicts(tx, &set, Mode::Exclusive, &who.id, now, ctx)
                .map_err(|e| {
                    messages::MessageError::Store(match e {
                        reservations::ReserveError::Store(s) => s,
                        other => StoreError::Io {
                            path: Default::default(),
                            source: std::io::Error::other(other.to_string()),
                        },
                    })
                })?;
            for c in holds {
                if matches!(c.hold.mode, Mode::Shared | Mode::Intent) {
                    add(
                        c.hold.agent.clone(),
                        p,
                        format!(
                            "you hold {} ({}) as {}",
                            c.hold.label(),
                            c.hold.patterns.join(" "),
                            c.hold.mode.as_str()
                        ),
                    );
                }
            }
        }
    }
    let mut told = Vec::new();
    for (agent, ps, whys) in audience {
        let body = format!(
            "{} {} {} ({how}); {}. Re-read before you write there.",
            who.name,
            change.verb(),
            ps.join(", "),
            whys.join("; ")
        );
        messages::post(
            tx,
            &agent,
            &Post {
                sender: &who.id,
                audience: &agent,
                kind: MessageKind::Change,
                thread: None,
                importance: Importance::Normal,
                ack_required: false,
                body: &body,
                paths: &ps,
                request: None,
            },
            now,
        )?;
        told.push(agent);
    }
    Ok(told)
}

/// The hook's part: after the chain, for an action that goes ahead, note
/// its reads, warn about stale reads among its writes, record the writes and
/// tell their audience. Returns stale-read warnings (and errors, which never
/// change the decision).
pub fn on_event(
    lease: &mut crate::lease_view::LeaseView,
    db: &Path,
    event: &crate::event::Event,
    verdict: &crate::chain::Verdict,
    policy: &crate::policy::Policy,
) -> Vec<Result<crate::chain::Judged, String>> {
    use crate::event::{Kind, Outcome};
    let c = policy.coordination;
    if event.kind != Kind::PreTool
        || verdict.decision == Outcome::Deny
        || !(c.notify_changes || c.stale_read_warning)
    {
        return Vec::new();
    }
    // A shell command's paths with glob characters are patterns, not files.
    let literal = |v: &Vec<String>| -> Vec<String> {
        v.iter()
            .filter(|p| event.command.is_none() || !p.contains(['*', '?', '[', '{']))
            .cloned()
            .collect()
    };
    let now = crate::store::now_ms();
    let mut out = Vec::new();
    let reads = literal(&event.reads);
    if !reads.is_empty() {
        if let Err(e) = note_reads(db, &event.agent.id, &reads, now) {
            out.push(Err(e.to_string()));
        }
    }
    let mut written = literal(&event.writes);
    written.extend(literal(&event.deletes));
    if written.is_empty() {
        return out;
    }
    let how = event.tool.clone().unwrap_or_else(|| "a write".into());
    let ctx = Context {
        fold: event.case_insensitive,
        settings: policy.reservations,
        presence: policy.presence,
    };
    let store = match lease.store() {
        Ok(s) => s,
        Err(e) => {
            out.push(Err(e.to_string()));
            return out;
        }
    };
    // A plain write transaction: the lease snapshot (which counts undelivered
    // messages) is rewritten only when a change notice was posted.
    let result = store.write(|tx| -> Result<Vec<Stale>, messages::MessageError> {
        fold_reads(tx, db)?;
        let stale = if c.stale_read_warning {
            stale_reads(tx, &event.agent.id, &written)?
        } else {
            Vec::new()
        };
        if c.notify_changes {
            let told = changed(
                tx,
                &event.agent,
                &written,
                Change::Written,
                &how,
                c.read_window_ms,
                &ctx,
                now,
            )?;
            if !told.is_empty() {
                crate::store::snapshot::write(tx, db, now)?;
            }
        } else {
            for p in &written {
                tx.execute(
                    "INSERT INTO writes (path, agent, ts_ms, how) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (path) DO UPDATE SET agent = excluded.agent, ts_ms = excluded.ts_ms, how = excluded.how",
                    params![p, event.agent.id, now, how],
                )
                .map_err(|e| messages::MessageError::Store(sql(e)))?;
            }
        }
        Ok(stale)
    });
    match result {
        Ok(stale) => {
            for s in stale {
                let ago = |t: i64| {
                    crate::duration::format(std::time::Duration::from_millis(
                        now.saturating_sub(t).max(0) as u64,
                    ))
                };
                out.push(Ok(crate::chain::Judged {
                    validator: "coordination".into(),
                    rule: "stale-read".into(),
                    stage: crate::policy::Stage::Warn,
                    would: Outcome::Warn,
                    effective: Outcome::Warn,
                    message: format!(
                        "`{}` changed since you read it: {} wrote it {} ago, you read it {} ago. Read it again and redo your change on the current text, or you overwrite theirs.",
                        s.path,
                        super::frame::strip_controls(&s.writer),
                        ago(s.written_ms),
                        ago(s.read_ms)
                    ),
                    paths: vec![s.path],
                    docs: Some("README.md#coordination".into()),
                }));
            }
        }
        Err(e) => out.push(Err(e.to_string())),
    }
    out
}

/// Release `who`'s reservations selected by `sel` and, in the same
/// transaction, tell the holders of overlapping shared or intent
/// reservations (when `[coordination] notify_changes` is on). What the CLI's
/// `release` and the MCP tool both do.
pub fn release(
    store: &mut crate::store::Store,
    who: &Agent,
    sel: &reservations::Selector,
    settings: &crate::policy::CoordinationSettings,
    ctx: &Context,
    now: i64,
) -> Result<Vec<reservations::Released>, reservations::ReserveError> {
    store.write_leases(|tx| {
        let done = reservations::release_selected(tx, &who.id, sel, now)?;
        if settings.notify_changes {
            for r in &done {
                changed(
                    tx,
                    who,
                    &r.patterns,
                    Change::Released,
                    "hookgate release",
                    settings.read_window_ms,
                    ctx,
                    now,
                )?;
            }
        }
        Ok(done)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn reads_fold_from_the_log_and_stale_writes_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        let mut s = Store::open(&db).unwrap();
        note_reads(&db, "e", &["src/a.rs".into(), "src/b.rs".into()], 100).unwrap();
        note_reads(&db, "e", &["src/a.rs".into()], 150).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(log_path(&db))
            .unwrap()
            .write_all(b"torn line\n\xff\xfe\n")
            .unwrap();
        let n = s.write(|tx| fold_reads(tx, &db)).unwrap();
        assert_eq!(n, 3, "torn lines are skipped");
        assert_eq!(std::fs::metadata(log_path(&db)).unwrap().len(), 0);
        let ctx = Context {
            fold: false,
            settings: crate::policy::ReservationSettings::default(),
            presence: crate::policy::PresenceSettings::default(),
        };
        let d = Agent::from_session("d", None, None);
        // D edits src/a.rs at `now`: who is told.
        let d_writes = |s: &mut Store, now: i64| {
            s.write(|tx| {
                let paths = ["src/a.rs".to_string()];
                changed(
                    tx,
                    &d,
                    &paths,
                    Change::Written,
                    "Edit",
                    3_600_000,
                    &ctx,
                    now,
                )
            })
            .unwrap()
        };
        assert_eq!(d_writes(&mut s, 200), ["e"]);
        // Told once per read: a second change before E reads again tells no one.
        assert!(d_writes(&mut s, 210).is_empty());
        let stale = s
            .write(|tx| stale_reads(tx, "e", &["src/a.rs".into(), "src/b.rs".into()]))
            .unwrap();
        assert_eq!(stale.len(), 1);
        assert_eq!(
            (
                stale[0].path.as_str(),
                stale[0].read_ms,
                stale[0].written_ms
            ),
            ("src/a.rs", 150, 210)
        );
        // D's own write never makes D stale.
        assert!(s
            .write(|tx| stale_reads(tx, "d", &["src/a.rs".into()]))
            .unwrap()
            .is_empty());
    }
}
