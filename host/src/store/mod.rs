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
    /// The store was written by a newer hookgate.
    #[error("store {path} has schema version {found}; this hookgate knows up to {known}. Upgrade hookgate, or point --store elsewhere")]
    Newer {
        /// Database path.
        path: PathBuf,
        /// Version found.
        found: i64,
        /// Newest version this binary knows.
        known: i64,
    },
    /// The file is not a usable SQLite database.
    #[error("store {path} is damaged ({message}); move it aside and hookgate starts a new one (reservations and audit history in it are lost)")]
    Corrupt {
        /// Database path.
        path: PathBuf,
        /// SQLite's message.
        message: String,
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

/// Per-event audit writes are kept to one or two pages (runs and findings as
/// JSON, no secondary indexes). Every process is the first to open the store,
/// and SQLite then rebuilds its WAL index by reading every WAL frame and
/// forgets what was already checkpointed, so its auto-checkpoint would re-copy
/// the whole WAL on every commit. Instead auto-checkpoint is off and
/// [`Store::trim_wal`] truncates the WAL once it passes [`WAL_PAGES`] pages:
/// opens stay cheap and the fsyncs of a checkpoint are paid once per ~100
/// writes.
pub mod schema;
pub mod snapshot;

/// How long a writer waits for the write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Wait for a lock: `n` is how many times this wait already slept.
fn busy(n: i32) -> bool {
    // 1 ms, growing to 5 ms: short enough for a fair tail, long enough not
    // to starve the lock holder of CPU; about BUSY_TIMEOUT in all.
    let step = Duration::from_micros(1000 + 250 * u64::from(n.clamp(0, 16) as u32));
    if step * u32::try_from(n.max(0)).unwrap_or(u32::MAX) > BUSY_TIMEOUT * 2 {
        return false;
    }
    std::thread::sleep(step);
    true
}

/// Is this SQLite's "busy" or "locked" (worth waiting for and retrying)?
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Run `f` again while SQLite says busy or locked, up to [`BUSY_TIMEOUT`]:
/// for the steps of opening a store that its busy handler does not cover
/// (another process creating the store, or recovering its WAL, at the same
/// moment).
fn retrying<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match f() {
            Err(e) if is_busy(&e) && started.elapsed() < BUSY_TIMEOUT => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// WAL size (pages) that triggers a checkpoint.
const WAL_PAGES: u64 = 32;

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
        let mut conn = Connection::open(path).map_err(sql)?;
        // SQLite's own busy handler sleeps up to 100 ms between tries, which
        // under 32 contending processes put p99 in seconds; poll briefly
        // instead, for as long as BUSY_TIMEOUT.
        conn.busy_handler(Some(busy)).map_err(sql)?;
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
        // Normal (shared) locking: hooks of many agents read the store at
        // once, and writers queue on the write lock (busy timeout, and the
        // retry in `write`). Exclusive locking mode, tried for its cheaper
        // open, held the whole database for a process's lifetime and
        // returned "database is locked" under 16 concurrent hooks.
        let mut persist = 1;
        conn.file_control(
            Some("main"),
            rusqlite::FileControl::PersistWal(&mut persist),
        )
        .map_err(sql)?;
        let version: i64 = retrying(|| conn.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .map_err(|e| classify(path, e))?;
        if version > schema::VERSION {
            return Err(StoreError::Newer {
                path: path.to_path_buf(),
                found: version,
                known: schema::VERSION,
            });
        }
        if version < schema::VERSION {
            retrying(|| conn.execute_batch("PRAGMA journal_mode=WAL;"))
                .map_err(|e| classify(path, e))?;
            // Many processes may open a new store at once: read the version
            // again under the write lock, so each migration runs once.
            retrying(|| conn.execute_batch("BEGIN IMMEDIATE")).map_err(sql)?;
            let migrated = (|| -> Result<(), StoreError> {
                let current: i64 = conn
                    .query_row("PRAGMA user_version", [], |r| r.get(0))
                    .map_err(sql)?;
                if current > schema::VERSION {
                    return Err(StoreError::Newer {
                        path: path.to_path_buf(),
                        found: current,
                        known: schema::VERSION,
                    });
                }
                for (i, m) in schema::MIGRATIONS.iter().enumerate().skip(current as usize) {
                    conn.execute_batch(m).map_err(sql)?;
                    conn.execute_batch(&format!("PRAGMA user_version = {};", i + 1))
                        .map_err(sql)?;
                }
                conn.execute_batch("COMMIT").map_err(sql)
            })();
            if migrated.is_err() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            migrated?;
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

    /// The connection, for reads.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Run `f` in one short `BEGIN IMMEDIATE` transaction: the write lock is
    /// taken up front, so two writers never both read and then fail to
    /// upgrade; a busy store is waited for (busy timeout), never reported.
    pub fn write<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let path = self.path.clone();
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(1);
        // SQLite skips the busy handler in a few WAL cases (another
        // connection running recovery, for one): wait those out here too, so
        // "database is locked" never reaches a caller before the timeout.
        let tx = loop {
            match self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            {
                Ok(tx) => break tx,
                Err(e) if is_busy(&e) && started.elapsed() < BUSY_TIMEOUT => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) => {
                    return Err(StoreError::Sql {
                        path: path.clone(),
                        source: e,
                    }
                    .into())
                }
            }
        };
        let out = f(&tx)?;
        tx.commit()
            .map_err(|e| StoreError::Sql { path, source: e })?;
        // Every process is the first to open the store and reads the whole
        // WAL to rebuild its index: keep the WAL short.
        let _ = self.trim_wal();
        Ok(out)
    }

    /// [`Store::write`] for a transaction that may change reservations,
    /// agents or notices: the lease snapshot is rewritten before the commit.
    pub fn write_leases<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let path = self.path.clone();
        self.write(|tx| {
            let out = f(tx)?;
            snapshot::write(tx, &path, now_ms())?;
            Ok(out)
        })
    }

    /// Wrap an SQLite error with this store's path.
    pub(crate) fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sql {
            path: self.path.clone(),
            source,
        }
    }
}

/// A damaged file is reported as such; everything else as SQLite said it.
fn classify(path: &Path, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
            StoreError::Corrupt {
                path: path.to_path_buf(),
                message: e.to_string(),
            }
        }
        _ => StoreError::Sql {
            path: path.to_path_buf(),
            source: e,
        },
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
