//! The store: one SQLite database (WAL) per repository, shared by every agent
//! and every worktree. This issue uses it for the audit log.

pub mod audit;

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

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
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
    event_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_ts ON events(ts_ms);
CREATE TABLE IF NOT EXISTS runs (
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    validator TEXT NOT NULL,
    stage TEXT NOT NULL,
    duration_us INTEGER NOT NULL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS runs_event ON runs(event_id);
CREATE TABLE IF NOT EXISTS findings (
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    validator TEXT NOT NULL,
    rule TEXT NOT NULL,
    stage TEXT NOT NULL,
    would TEXT NOT NULL,
    effective TEXT NOT NULL,
    message TEXT NOT NULL,
    paths TEXT NOT NULL,
    docs TEXT
);
CREATE INDEX IF NOT EXISTS findings_event ON findings(event_id);
";

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
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql)?;
        if version < SCHEMA_VERSION {
            conn.execute_batch("PRAGMA journal_mode=WAL;")
                .map_err(sql)?;
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            ))
            .map_err(sql)?;
        }
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
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

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sql {
            path: self.path.clone(),
            source,
        }
    }
}
