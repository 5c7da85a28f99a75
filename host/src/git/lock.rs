//! The repository-wide commit lock (`<common git dir>/hookgate/commit.lock`).
//!
//! Mutual exclusion is an exclusive `flock` on the file: the kernel drops it
//! when its process dies, however it dies, so a killed commit can never
//! wedge the repository and the lock is never deleted blindly. The file
//! itself records its owner (pid, the process's start time, agent, when it
//! took the lock, and the step it is at). A waiter names the owner and says
//! whether that process is still alive; whoever takes the lock after a
//! holder died finds its record still there (a holder clears it on the way
//! out) and reports the interrupted commit, finishing what the record says
//! was left undone (see [`Owner::refresh`]).

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::repo::GitError;

/// Who holds (or held) the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// Process id.
    pub pid: u32,
    /// When that process started (ms since the epoch), to tell a reused pid
    /// from the owner; `None` where `/proc` can't say.
    pub process_started_ms: Option<i64>,
    /// The agent committing.
    pub agent: String,
    /// When it took the lock (ms since the epoch).
    pub acquired_ms: i64,
    /// A commit that moved its branch but whose shared-index entries were
    /// not yet brought up to it: the paths to refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<PendingRefresh>,
}

/// Shared-index entries still to bring up to a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRefresh {
    /// The commit.
    pub commit: String,
    /// Repository-relative paths.
    pub paths: Vec<String>,
}

impl Owner {
    /// This process, committing for `agent`.
    pub fn me(agent: &str) -> Owner {
        let pid = std::process::id();
        Owner {
            pid,
            process_started_ms: crate::mcp::identity::process_start_ms(pid),
            agent: agent.to_string(),
            acquired_ms: crate::store::now_ms(),
            refresh: None,
        }
    }

    /// Is the recorded process still running (the same process, not a
    /// later one that reused its pid)?
    pub fn alive(&self) -> bool {
        if !Path::new(&format!("/proc/{}", self.pid)).exists() {
            // SAFETY: signal 0 only checks that the process exists.
            let r = unsafe { libc::kill(self.pid as libc::pid_t, 0) };
            return r == 0;
        }
        match (
            self.process_started_ms,
            crate::mcp::identity::process_start_ms(self.pid),
        ) {
            (Some(a), Some(b)) => (a - b).abs() <= 2_000,
            _ => true,
        }
    }

    /// `agent x (pid 12, since 3s ago)`.
    pub fn describe(&self, now_ms: i64) -> String {
        format!(
            "{} (pid {}, {}, took it {} ago)",
            self.agent,
            self.pid,
            if self.alive() {
                "running"
            } else {
                "no longer running"
            },
            crate::reservations::report::relative(self.acquired_ms, now_ms)
                .trim_end_matches(" ago")
        )
    }
}

/// The commit lock, held while this lives.
#[derive(Debug)]
pub struct CommitLock {
    file: File,
    path: PathBuf,
    owner: Owner,
    /// The record of a holder that died holding it, found on taking it.
    pub interrupted: Option<Owner>,
    /// How long taking it waited.
    pub waited: Duration,
}

/// `<dir>/commit.lock`.
pub fn path_in(dir: &Path) -> PathBuf {
    dir.join("commit.lock")
}

fn read_owner(file: &mut File) -> Option<Owner> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    if text.trim().is_empty() {
        return None;
    }
    serde_json::from_str(text.trim()).ok()
}

/// Read who holds the lock in `dir` now, without taking it.
pub fn holder(dir: &Path) -> Option<Owner> {
    let mut f = File::open(path_in(dir)).ok()?;
    read_owner(&mut f)
}

impl CommitLock {
    /// Take the lock in `dir` for `owner`, waiting up to `timeout`;
    /// `waiting` is called once, with the holder's record, if it has to
    /// wait.
    pub fn acquire(
        dir: &Path,
        owner: Owner,
        timeout: Duration,
        mut waiting: impl FnMut(Option<&Owner>),
    ) -> Result<CommitLock, GitError> {
        std::fs::create_dir_all(dir).map_err(|e| GitError::io(dir, e))?;
        let path = path_in(dir);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| GitError::io(&path, e))?;
        let start = Instant::now();
        let mut told = false;
        let mut pause = Duration::from_millis(2);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {
                    if !told {
                        let mut f = File::open(&path).map_err(|e| GitError::io(&path, e))?;
                        waiting(read_owner(&mut f).as_ref());
                        told = true;
                    }
                    if start.elapsed() >= timeout {
                        let mut f = File::open(&path).map_err(|e| GitError::io(&path, e))?;
                        let who = read_owner(&mut f)
                            .map(|o| o.describe(crate::store::now_ms()))
                            .unwrap_or_else(|| "a process that left no record".into());
                        return Err(GitError::Refused(format!(
                            "the commit lock ({}) is still held by {who} after {}s; nothing was changed. Try again, or raise [git] lock_timeout",
                            path.display(),
                            timeout.as_secs()
                        )));
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(25));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(GitError::io(&path, e)),
            }
        }
        let interrupted = read_owner(&mut file);
        let mut lock = CommitLock {
            file,
            path,
            owner,
            interrupted,
            waited: start.elapsed(),
        };
        lock.record()?;
        Ok(lock)
    }

    fn record(&mut self) -> Result<(), GitError> {
        let text = serde_json::to_string(&self.owner).unwrap_or_default();
        let path = self.path.clone();
        let io = |e| GitError::io(&path, e);
        self.file.set_len(0).map_err(io)?;
        self.file.seek(SeekFrom::Start(0)).map_err(io)?;
        self.file.write_all(text.as_bytes()).map_err(io)?;
        self.file.flush().map_err(io)
    }

    /// Record that `commit` moved the branch and the shared index's entries
    /// for `paths` are still to be brought up to it (or that they are, with
    /// `None`).
    pub fn set_refresh(&mut self, pending: Option<PendingRefresh>) -> Result<(), GitError> {
        self.owner.refresh = pending;
        self.record()
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for CommitLock {
    fn drop(&mut self) {
        // A clean exit leaves no record; the flock goes with the file.
        let _ = self.file.set_len(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_a_record_while_held() {
        let dir = tempfile::tempdir().unwrap();
        let a = CommitLock::acquire(dir.path(), Owner::me("a"), Duration::from_secs(1), |_| {})
            .unwrap();
        assert!(a.interrupted.is_none());
        assert_eq!(holder(dir.path()).unwrap().agent, "a");
        let mut saw = None;
        let err = CommitLock::acquire(dir.path(), Owner::me("b"), Duration::from_millis(50), |o| {
            saw = o.map(|o| o.agent.clone())
        })
        .unwrap_err();
        assert_eq!(saw.as_deref(), Some("a"));
        assert!(err.to_string().contains("still held by a"), "{err}");
        drop(a);
        assert!(holder(dir.path()).is_none());
        let b = CommitLock::acquire(dir.path(), Owner::me("b"), Duration::from_secs(1), |_| {})
            .unwrap();
        assert!(b.interrupted.is_none());
    }

    #[test]
    fn a_dead_holders_record_is_reported_and_its_refresh_kept() {
        let dir = tempfile::tempdir().unwrap();
        let dead = Owner {
            pid: u32::MAX - 7,
            process_started_ms: Some(1),
            agent: "gone".into(),
            acquired_ms: 5,
            refresh: Some(PendingRefresh {
                commit: "abc".into(),
                paths: vec!["x".into()],
            }),
        };
        assert!(!dead.alive());
        std::fs::write(path_in(dir.path()), serde_json::to_string(&dead).unwrap()).unwrap();
        let l = CommitLock::acquire(dir.path(), Owner::me("b"), Duration::from_secs(1), |_| {})
            .unwrap();
        assert_eq!(l.interrupted.as_ref(), Some(&dead));
        assert_eq!(holder(dir.path()).unwrap().agent, "b");
    }

    #[test]
    fn garbage_in_the_file_is_not_an_owner() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path_in(dir.path()), b"\xff\x00{not json").unwrap();
        let l = CommitLock::acquire(dir.path(), Owner::me("b"), Duration::from_secs(1), |_| {})
            .unwrap();
        assert!(l.interrupted.is_none());
    }
}
