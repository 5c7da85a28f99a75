//! The store: one SQLite database (WAL) per repository, shared by every agent
//! and every worktree. This issue uses it for the audit log.

pub mod audit;
pub mod journal;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

/// Store errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("store {path}: {source}")]
    Sql {
        /// Database path.
        path: PathBuf,
        /// Cause.
        source: rusqlite::Error,
    },
    /// The directory could not be created.
    #[error("store {path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

const SCHEMA_VERSION: i64 = 3;

/// One row per event; hooks reach it through the journal (`journal.rs`), in
/// batches. Every process is the first to open the store, and
/// SQLite then rebuilds its WAL index by reading every WAL frame and forgets
/// what was already checkpointed, so its auto-checkpoint would re-copy the
/// whole WAL on every commit. Instead the per-event write is kept to one or
/// two pages (runs and findings as JSON, no secondary indexes), auto-checkpoint
/// is off, and [`Store::trim_wal`] truncates the WAL once it passes
/// [`WAL_PAGES`] pages: opens stay cheap and the fsyncs of a checkpoint are paid
/// once per ~100 events.
const SCHEMA: &str = "
DROP TABLE IF EXISTS findings;
DROP TABLE IF EXISTS runs;
DROP TABLE IF EXISTS events;
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    ts_ms INTEGER NOT NULL,
    platform TEXT NOT NULL,
    native_event TEXT NOT NULL,
    kind TEXT NOT NULL,
    tool TEXT,
    agent TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    session TEXT NOT NULL,
    decision TEXT NOT NULL,
    duration_us INTEGER NOT NULL,
    event_json TEXT NOT NULL,
    runs_json TEXT NOT NULL,
    findings_json TEXT NOT NULL
);
";

/// WAL size (pages) that triggers a checkpoint.
const WAL_PAGES: u64 = 64;

/// An open store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Open (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() && !dir.is_dir() {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
        }
        let sql = |source| StoreError::Sql {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(sql)?;
        // Every hook is a short-lived process. By default the last connection
        // to close checkpoints the WAL into the database and deletes it, which
        // costs several fsyncs per event. Keep the WAL between processes and
        // leave checkpoints to SQLite's auto-checkpoint (every ~1000 pages), so
        // a commit under synchronous=NORMAL needs no fsync at all. Durability:
        // a power loss may drop the last few audit records, never corrupt them.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )
        .map_err(sql)?;
        // A hook process touches the store for well under a millisecond. In
        // exclusive locking mode SQLite keeps the WAL index in the process's
        // memory instead of creating, truncating and re-extending the -shm file
        // and taking its locks on every open; processes take turns on the
        // database lock (busy_timeout above) instead of sharing it.
        conn.execute_batch("PRAGMA locking_mode=EXCLUSIVE;")
            .map_err(sql)?;
        let mut persist = 1;
        conn.file_control(
            Some("main"),
            rusqlite::FileControl::PersistWal(&mut persist),
        )
        .map_err(sql)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql)?;
        if version < SCHEMA_VERSION {
            conn.execute_batch("PRAGMA journal_mode=WAL;")
                .map_err(sql)?;
            // Many hook processes may open a new store at once: check the
            // version again under the write lock, so only the first migrates.
            let mut conn = conn;
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(sql)?;
            let current: i64 = tx
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(sql)?;
            if current < SCHEMA_VERSION {
                tx.execute_batch(&format!("{SCHEMA} PRAGMA user_version = {SCHEMA_VERSION};"))
                    .map_err(sql)?;
            }
            tx.commit().map_err(sql)?;
            return Self::finish_open(conn, path);
        }
        Self::finish_open(conn, path)
    }

    fn finish_open(conn: Connection, path: &Path) -> Result<Store, StoreError> {
        let sql = |source| StoreError::Sql {
            path: path.to_path_buf(),
            source,
        };
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;")
            .map_err(sql)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The database path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checkpoint and truncate the WAL once it has grown past [`WAL_PAGES`]
    /// pages. A checkpoint that meets a concurrent reader is simply retried by
    /// a later event.
    pub fn trim_wal(&self) -> Result<(), StoreError> {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        let len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        if len > WAL_PAGES * (4096 + 24) {
            self.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sql {
            path: self.path.clone(),
            source,
        }
    }
}
