//! The audit journal: how a hook records its decision in tens of
//! microseconds instead of opening SQLite on every tool call.
//!
//! A hook appends one JSON line to `<store dir>/audit-journal.jsonl` under a
//! shared `flock`. Whoever folds the journal into the database (a hook once the
//! journal passes [`FOLD_BYTES`], and every reader such as `report`) takes the
//! lock exclusively, renames the file aside (new appends start a new file),
//! inserts its lines in one transaction, and deletes it. Records carry a unique
//! id and are inserted with `INSERT OR IGNORE`, so a fold that crashes half way
//! is simply repeated from the renamed file: nothing is lost or counted twice.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// Journal size past which the appending hook folds it into the database.
pub const FOLD_BYTES: u64 = 256 * 1024;

/// One audit record as journalled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Unique id (pid, time, counter) that makes folding idempotent.
    pub uid: String,
    /// Unix ms.
    pub ts_ms: i64,
    /// Platform.
    pub platform: String,
    /// Native event name.
    pub native_event: String,
    /// Normalized kind.
    pub kind: String,
    /// Tool.
    pub tool: Option<String>,
    /// Agent id.
    pub agent: String,
    /// Agent name.
    pub agent_name: String,
    /// Session.
    pub session: String,
    /// Decision.
    pub decision: String,
    /// Hook wall time.
    pub duration_us: i64,
    /// The normalized event, JSON.
    pub event_json: String,
    /// Validator runs, JSON.
    pub runs_json: String,
    /// Findings, JSON.
    pub findings_json: String,
}

/// The journal beside a store database.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.ino() == b.ino() && a.dev() == b.dev()
}

#[cfg(not(unix))]
fn same_file(_: &fs::Metadata, _: &fs::Metadata) -> bool {
    true
}

impl Journal {
    /// The journal of the store database at `db`.
    pub fn for_store(db: &Path) -> Journal {
        Journal {
            path: db.with_file_name("audit-journal.jsonl"),
        }
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record; returns the journal's size afterwards.
    pub fn append(&self, record: &Record) -> Result<u64, StoreError> {
        let mut line = serde_json::to_vec(record).map_err(|e| StoreError::Io {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        line.push(b'\n');
        if let Some(dir) = self.path.parent() {
            if !dir.is_dir() {
                fs::create_dir_all(dir).map_err(io(dir))?;
            }
        }
        for _ in 0..8 {
            let mut f = OpenOptions::new()
                .append(true)
                .create(true)
                .open(&self.path)
                .map_err(io(&self.path))?;
            f.lock_shared().map_err(io(&self.path))?;
            // A fold may have renamed the file between our open and our lock:
            // then append to the new file instead.
            let here = f.metadata().map_err(io(&self.path))?;
            match fs::metadata(&self.path) {
                Ok(now) if same_file(&here, &now) => {
                    f.write_all(&line).map_err(io(&self.path))?;
                    return Ok(here.len() + line.len() as u64);
                }
                _ => continue,
            }
        }
        Err(StoreError::Io {
            path: self.path.clone(),
            source: std::io::Error::other("journal kept being renamed under us"),
        })
    }

    /// Fold every journalled record into `store`; returns how many were read.
    pub fn fold(&self, store: &mut Store) -> Result<usize, StoreError> {
        let mut spools = self.leftover_spools();
        if let Ok(f) = File::open(&self.path) {
            f.lock().map_err(io(&self.path))?;
            let spool = self
                .path
                .with_extension(format!("jsonl.fold-{}", std::process::id()));
            // Still the live journal? (Another fold may have renamed it.)
            let live = fs::metadata(&self.path)
                .ok()
                .zip(f.metadata().ok())
                .is_some_and(|(a, b)| same_file(&a, &b));
            if live {
                fs::rename(&self.path, &spool).map_err(io(&self.path))?;
                spools.push(spool);
            }
            drop(f);
        }
        let mut total = 0;
        for spool in spools {
            let file = match File::open(&spool) {
                Ok(f) => f,
                Err(_) => continue,
            };
            // Wait out appenders that locked the file before it was renamed.
            file.lock().map_err(io(&spool))?;
            let records: Vec<Record> = BufReader::new(&file)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| serde_json::from_str(&l).ok())
                .collect();
            total += records.len();
            store.insert_records(&records)?;
            fs::remove_file(&spool).map_err(io(&spool))?;
        }
        Ok(total)
    }

    fn leftover_spools(&self) -> Vec<PathBuf> {
        let (Some(dir), Some(name)) = (self.path.parent(), self.path.file_name()) else {
            return Vec::new();
        };
        let prefix = format!("{}.fold-", name.to_string_lossy());
        fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(uid: &str) -> Record {
        Record {
            uid: uid.into(),
            ts_ms: 1,
            platform: "claude".into(),
            native_event: "PreToolUse".into(),
            kind: "pre-tool".into(),
            tool: None,
            agent: "a".into(),
            agent_name: "A".into(),
            session: "s".into(),
            decision: "allow".into(),
            duration_us: 1,
            event_json: "{}".into(),
            runs_json: "[]".into(),
            findings_json: "[]".into(),
        }
    }

    #[test]
    fn fold_is_idempotent_and_picks_up_leftover_spools() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        let j = Journal::for_store(&db);
        let mut store = Store::open(&db).unwrap();
        j.append(&record("1")).unwrap();
        j.append(&record("2")).unwrap();
        // A fold that crashed after renaming left a spool behind, with a torn last line.
        let spool = j.path().with_extension("jsonl.fold-999");
        let mut text = serde_json::to_string(&record("2")).unwrap();
        text.push('\n');
        text.push_str(&serde_json::to_string(&record("3")).unwrap());
        text.push_str("\n{\"uid\": \"4\", \"ts_");
        fs::write(&spool, text).unwrap();
        assert_eq!(j.fold(&mut store).unwrap(), 4);
        assert_eq!(store.event_count().unwrap(), 3);
        assert!(!spool.exists() && !j.path().exists());
        assert_eq!(j.fold(&mut store).unwrap(), 0);
    }

    #[test]
    fn concurrent_appends_and_folds_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        Store::open(&db).unwrap();
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let j = Journal::for_store(&db);
                    for i in 0..200 {
                        j.append(&record(&format!("{w}-{i}"))).unwrap();
                    }
                })
            })
            .collect();
        let folder = {
            let db = db.clone();
            std::thread::spawn(move || {
                let j = Journal::for_store(&db);
                for _ in 0..20 {
                    let mut s = Store::open(&db).unwrap();
                    j.fold(&mut s).unwrap();
                }
            })
        };
        for w in writers {
            w.join().unwrap();
        }
        folder.join().unwrap();
        let mut s = Store::open(&db).unwrap();
        Journal::for_store(&db).fold(&mut s).unwrap();
        assert_eq!(s.event_count().unwrap(), 800);
    }
}
