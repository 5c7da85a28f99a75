//! The mailbox: what a hook needs to deliver messages, without opening
//! SQLite. Two small files beside the store:
//!
//! - `state.db.mail`: every undelivered message, one JSON line per
//!   recipient (`[agent, message]`), rewritten by every transaction that
//!   writes the lease snapshot (so in commit order, like it);
//! - `state.db.delivered`: deliveries hooks made since (`[agent, id, ms]`),
//!   appended under an exclusive `flock`, and folded into the store by the
//!   next such transaction, which holds the same lock from the fold until
//!   the new mail file is in place.
//!
//! A hook whose agent has messages waiting (the lease snapshot counts them)
//! takes the lock, reads both files, and delivers what the mail file holds
//! and the log does not; it records what its answer carried before letting
//! go. So two hooks of one agent never deliver the same message, and a
//! delivery costs two small file reads and one append.

use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use rusqlite::{params, Transaction};

use super::log_file::{beside, io};
use super::messages::Message;
use crate::store::StoreError;

/// The mail file beside the store at `db`.
pub fn mail_path(db: &Path) -> PathBuf {
    beside(db, ".mail")
}

/// The delivery log beside the store at `db`.
pub fn log_path(db: &Path) -> PathBuf {
    beside(db, ".delivered")
}

/// The delivery log, locked (exclusive `flock`) while this lives.
pub struct Locked {
    file: std::fs::File,
    db: PathBuf,
}

/// Take the lock on the delivery log of the store at `db`.
pub fn lock(db: &Path) -> Result<Locked, StoreError> {
    let path = log_path(db);
    let file = super::log_file::open_locked(&path)?;
    Ok(Locked {
        file,
        db: db.to_path_buf(),
    })
}

impl Locked {
    /// Deliveries logged since the last fold: `(agent, message id, ms)`.
    fn logged(&mut self) -> Result<Vec<(String, i64, i64)>, StoreError> {
        let path = log_path(&self.db);
        self.file.rewind().map_err(io(&path))?;
        let mut raw = Vec::new();
        self.file.read_to_end(&mut raw).map_err(io(&path))?;
        Ok(String::from_utf8_lossy(&raw)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }

    /// Up to `max` of `agent`'s undelivered messages, most important first,
    /// and how many more wait.
    pub fn undelivered(
        &mut self,
        agent: &str,
        max: usize,
    ) -> Result<(Vec<Message>, usize), StoreError> {
        let done: Vec<i64> = self
            .logged()?
            .into_iter()
            .filter(|(a, _, _)| a == agent)
            .map(|(_, id, _)| id)
            .collect();
        let path = mail_path(&self.db);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(io(&path)(e)),
        };
        let mut mine: Vec<Message> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<(String, Message)>(l).ok())
            .filter(|(a, m)| a == agent && !done.contains(&m.id))
            .map(|(_, m)| m)
            .collect();
        mine.sort_by(|a, b| {
            b.importance
                .cmp(&a.importance)
                .then(b.directed.cmp(&a.directed))
                .then(a.id.cmp(&b.id))
        });
        let more = mine.len().saturating_sub(max);
        mine.truncate(max);
        Ok((mine, more))
    }

    /// Record that `agent` was shown `ids` at `now`.
    pub fn mark(&mut self, agent: &str, ids: &[i64], now: i64) -> Result<(), StoreError> {
        let mut text = String::new();
        for id in ids {
            text.push_str(&serde_json::json!([agent, id, now]).to_string());
            text.push('\n');
        }
        let path = log_path(&self.db);
        self.file.write_all(text.as_bytes()).map_err(io(&path))
    }

    /// Apply the logged deliveries to the store in `tx` and empty the log.
    pub fn fold(&mut self, tx: &Transaction<'_>) -> Result<usize, StoreError> {
        let logged = self.logged()?;
        if logged.is_empty() {
            return Ok(0);
        }
        let mut st = tx
            .prepare_cached(
                "UPDATE recipients SET delivered_ms = COALESCE(delivered_ms, ?3) WHERE agent = ?1 AND message = ?2",
            )
            .map_err(super::sql_error)?;
        for (agent, id, ts) in &logged {
            st.execute(params![agent, id, ts])
                .map_err(super::sql_error)?;
        }
        let path = log_path(&self.db);
        self.file.set_len(0).map_err(io(&path))?;
        Ok(logged.len())
    }

    /// Rewrite the mail file from what `tx` sees (after [`Locked::fold`]).
    pub fn write(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let all = super::messages::all_undelivered(tx).map_err(|e| match e {
            super::messages::MessageError::Store(s) => s,
            other => StoreError::Io {
                path: self.db.clone(),
                source: std::io::Error::other(other.to_string()),
            },
        })?;
        let path = mail_path(&self.db);
        // Nothing undelivered and nothing on disk to clear (the common case,
        // on every heartbeat and lease write): no file to write.
        if all.is_empty() && std::fs::metadata(&path).map_or(true, |m| m.len() == 0) {
            return Ok(());
        }
        let mut text = String::new();
        for (agent, m) in all {
            text.push_str(&serde_json::to_string(&(agent, m)).unwrap_or_default());
            text.push('\n');
        }
        crate::store::snapshot::replace(&path, &text)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::messages::{self, Draft};
    use crate::store::Store;

    #[test]
    fn a_hook_delivers_from_the_mailbox_once_and_the_store_learns_it_at_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        let mut s = Store::open(&db).unwrap();
        let now = 10_000_000;
        let p = crate::policy::PresenceSettings::default();
        s.write_leases(|tx| -> Result<(), StoreError> {
            for id in ["a", "b"] {
                tx.execute(
                    "INSERT INTO agents (id, name, platform, session, first_seen_ms, last_seen_ms)
                     VALUES (?1, ?1, 'claude', ?1, ?2, ?2)",
                    params![id, now],
                )
                .map_err(crate::coordination::sql_error)?;
            }
            Ok(())
        })
        .unwrap();
        for n in 0..4 {
            let d = Draft {
                to: vec!["b".into()],
                body: format!("note {n}"),
                ..Draft::default()
            };
            s.write_leases(|tx| messages::send(tx, "a", &d, &p, now))
                .unwrap();
        }
        let mut m = lock(&db).unwrap();
        let (first, more) = m.undelivered("b", 3).unwrap();
        assert_eq!((first.len(), more), (3, 1));
        m.mark("b", &[first[0].id, first[1].id], now).unwrap();
        drop(m);
        // Not shown (or not carried) stays; shown does not come back.
        let (next, more) = lock(&db).unwrap().undelivered("b", 3).unwrap();
        assert_eq!((next.len(), more), (2, 0));
        assert!(!next
            .iter()
            .any(|x| x.id == first[0].id || x.id == first[1].id));
        assert!(lock(&db).unwrap().undelivered("a", 3).unwrap().0.is_empty());
        // The next write folds the log into the store and rewrites the mailbox.
        s.write_leases(|_| Ok::<_, StoreError>(())).unwrap();
        let (undelivered,): (i64,) = s
            .connection()
            .query_row(
                "SELECT COUNT(*) FROM recipients WHERE delivered_ms IS NULL",
                [],
                |r| Ok((r.get(0)?,)),
            )
            .unwrap();
        assert_eq!(undelivered, 2);
        assert_eq!(std::fs::metadata(log_path(&db)).unwrap().len(), 0);
        assert_eq!(
            std::fs::read_to_string(mail_path(&db))
                .unwrap()
                .lines()
                .count(),
            2
        );
    }
}
