//! `hookgate commit`: one agent's changes, committed through a private
//! index under the repository-wide commit lock, the branch moved by
//! compare-and-swap.
//!
//! 1. Refuse what a commit must not cut into: a detached HEAD, a merge,
//!    rebase, cherry-pick, revert or `am` in progress.
//! 2. Take the commit lock (`<common dir>/hookgate/commit.lock`); finish
//!    what a holder that died left undone.
//! 3. Build a private index (`<git dir>/hookgate/index.<pid>`) from HEAD —
//!    a copy of the shared index brought to HEAD with `read-tree -m`, so
//!    the stat data of unchanged files is reused — and stage exactly the
//!    agent's paths into it with `git add -A` (additions, changes,
//!    deletions; renames are a deletion and an addition).
//! 4. Run the repository's `pre-commit`, `prepare-commit-msg` and
//!    `commit-msg` hooks against it (`GIT_INDEX_FILE`), as `git commit`
//!    would; the message carries the agent's trailers.
//! 5. `write-tree`, `commit-tree -p HEAD`, then `update-ref <branch> <new>
//!    <old>`. If the branch moved meanwhile (a commit made outside
//!    hookgate), rebuild on the new HEAD and try again — unless the new
//!    commits changed one of the agent's paths differently, which stops
//!    with the paths named and nothing changed.
//! 6. Bring the shared index's entries for exactly the committed paths up
//!    to the new commit, so `git status` stays truthful; every other entry
//!    (other agents' staged work) is left as it was. Then `post-commit`.
//!
//! Nothing before the `update-ref` touches the shared index, the work tree
//! or any ref, so every refusal leaves them exactly as they were.

use std::os::fd::AsFd as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::lock::{CommitLock, Owner, PendingRefresh};
use super::message;
use super::repo::{parse_name_status, zero_oid_like, GitError, Head, PathChange, Repo};
use crate::event::Agent;

/// Retries when the branch keeps moving under us.
const MAX_ATTEMPTS: u32 = 5;

/// What to commit.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The message as given (cleaned up and given trailers here).
    pub message: String,
    /// Repository-relative paths (files or directories) to commit.
    pub paths: Vec<String>,
    /// The committing agent.
    pub agent: &'a Agent,
    /// How long to wait for the commit lock.
    pub lock_timeout: Duration,
}

/// A commit made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Committed {
    /// The new commit.
    pub oid: String,
    /// Its parent (`None`: the branch's first commit).
    pub parent: Option<String>,
    /// The branch moved (`main`).
    pub branch: String,
    /// What it changed.
    pub changes: Vec<PathChange>,
    /// Attempts (more than one when the branch moved meanwhile).
    pub attempts: u32,
    /// Time spent waiting for the commit lock, ms.
    pub lock_wait_ms: u64,
    /// Things the committer should know (an interrupted earlier commit, a
    /// shared index that could not be refreshed, a post-commit hook that
    /// failed).
    pub notes: Vec<String>,
}

/// Where the repository stands, or why a commit can't be made now.
pub fn check_state(repo: &Repo) -> Result<Head, GitError> {
    let head = repo.head()?;
    if head.branch.is_none() {
        return Err(GitError::Refused(format!(
            "HEAD is detached{}: hookgate commit moves a branch; switch to one first (`git switch <branch>`, or `git switch -c <new-branch>` to keep these commits). Nothing was changed.",
            head.oid
                .as_deref()
                .map(|o| format!(" at {}", &o[..o.len().min(12)]))
                .unwrap_or_default()
        )));
    }
    if let Some(what) = repo.in_progress() {
        return Err(GitError::Refused(format!(
            "{what} is in progress in this work tree; finish it (or abort it) with git before committing through hookgate. Nothing was changed."
        )));
    }
    Ok(head)
}

/// A private index file of this process, removed when dropped.
struct PrivateIndex {
    path: PathBuf,
}

impl PrivateIndex {
    fn new(repo: &Repo) -> Result<PrivateIndex, GitError> {
        let dir = repo.git_dir.join("hookgate");
        std::fs::create_dir_all(&dir).map_err(|e| GitError::io(&dir, e))?;
        sweep_stale(&dir);
        let path = dir.join(format!("index.{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(lock_of(&path));
        Ok(PrivateIndex { path })
    }
}

impl Drop for PrivateIndex {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_file(lock_of(&self.path));
        let _ = std::fs::remove_file(self.path.with_extension("msg"));
    }
}

fn lock_of(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// Remove private indexes (and their locks and message files) left by
/// processes that are gone.
fn sweep_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("index.")) else {
            continue;
        };
        let pid = rest.split('.').next().and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Build `index` as HEAD's tree, reusing the shared index's stat data: a
/// copy of the shared index serves as it is when it matches HEAD (nothing
/// staged: the common case, and the cheapest — a fresh `read-tree` would
/// make every later command re-read every file); otherwise `read-tree -m`
/// brings the copy to HEAD, keeping the stat data of entries that match.
fn build_index(repo: &Repo, index: &Path, head: Option<&str>) -> Result<(), GitError> {
    let _ = std::fs::remove_file(index);
    let Some(head) = head else {
        repo.run(&["read-tree", "--empty"], Some(index))?;
        return Ok(());
    };
    if std::fs::copy(&repo.index, index).is_ok() {
        let staged = repo.run(
            &["diff-index", "--cached", "--quiet", "--no-renames", head],
            Some(index),
        );
        if staged.is_ok() || repo.run(&["read-tree", "-m", head], Some(index)).is_ok() {
            return Ok(());
        }
    }
    // No shared index yet, or one read-tree -m can't use (unmerged entries).
    let _ = std::fs::remove_file(index);
    repo.run(&["read-tree", head], Some(index))?;
    Ok(())
}

/// Stage `paths` (literal pathspecs) into `index`: additions, changes and
/// deletions.
fn stage(repo: &Repo, index: &Path, paths: &[String]) -> Result<(), GitError> {
    let mut args: Vec<&str> = vec!["--literal-pathspecs", "add", "-A", "--"];
    args.extend(paths.iter().map(String::as_str));
    repo.run(&args, Some(index))
        .map(|_| ())
        .map_err(|e| match e {
            GitError::Failed { stderr, .. } => GitError::Refused(format!(
                "could not stage your paths: {}. Nothing was changed.",
                stderr.replace('\n', " ")
            )),
            other => other,
        })
}

/// What `index` changes against `head`.
fn staged_changes(
    repo: &Repo,
    index: &Path,
    head: Option<&str>,
) -> Result<Vec<PathChange>, GitError> {
    let out = match head {
        Some(h) => repo.run(
            &[
                "diff-index",
                "--cached",
                "--name-status",
                "-z",
                "--no-renames",
                h,
            ],
            Some(index),
        )?,
        None => repo.run(
            &["diff", "--cached", "--name-status", "-z", "--no-renames"],
            Some(index),
        )?,
    };
    Ok(parse_name_status(&out))
}

/// Paths changed between commits `a` and `b` among `paths`.
fn changed_between(
    repo: &Repo,
    a: &str,
    b: &str,
    paths: &[String],
) -> Result<Vec<String>, GitError> {
    let mut args: Vec<&str> = vec![
        "--literal-pathspecs",
        "diff",
        "--name-only",
        "-z",
        "--no-renames",
        a,
        b,
        "--",
    ];
    args.extend(paths.iter().map(String::as_str));
    Ok(super::repo::nul_fields(&repo.run(&args, None)?))
}

/// The hook `name`, if git would run it (a file that is executable).
pub fn hook_path(repo: &Repo, name: &str) -> Option<PathBuf> {
    let p = repo.hooks_dir.join(name);
    crate::install::git_hooks::executable(&p).then_some(p)
}

/// Run hook `name` as git does: in the work tree's root, its output on our
/// stderr, with `env`. `Ok(true)` when it passed or does not exist.
fn run_hook(
    repo: &Repo,
    name: &str,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> Result<bool, GitError> {
    let Some(path) = hook_path(repo, name) else {
        return Ok(true);
    };
    let mut c = Command::new(&path);
    c.args(args)
        .current_dir(&repo.root)
        .stdin(Stdio::null())
        .env("GIT_EDITOR", ":")
        .env_remove("GIT_INDEX_FILE");
    for (k, v) in env {
        c.env(k, v);
    }
    if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
        c.stdout(Stdio::from(fd));
    }
    let status = c.status().map_err(|e| {
        GitError::Refused(format!(
            "could not run the {name} hook {}: {e}",
            path.display()
        ))
    })?;
    Ok(status.success())
}

/// The message file beside `index`.
fn message_file(index: &Path) -> PathBuf {
    index.with_extension("msg")
}

/// What would be committed for `paths`, without committing: the private
/// index is built and thrown away, nothing shared is touched and no lock is
/// taken.
pub fn preview(repo: &Repo, paths: &[String]) -> Result<Vec<PathChange>, GitError> {
    let head = repo.head()?;
    let index = PrivateIndex::new(repo)?;
    build_index(repo, &index.path, head.oid.as_deref())?;
    stage(repo, &index.path, paths)?;
    staged_changes(repo, &index.path, head.oid.as_deref())
}

/// The `git update-index --index-info` lines that make an index's entries
/// for `paths` those of `index` (mode 0 removes an entry that `index` lacks).
fn index_info(
    repo: &Repo,
    index: &Path,
    paths: &[String],
    zero: &str,
) -> Result<Vec<u8>, GitError> {
    let mut args: Vec<&str> = vec!["--literal-pathspecs", "ls-files", "-s", "-z", "--"];
    args.extend(paths.iter().map(String::as_str));
    let out = repo.run(&args, Some(index))?;
    let mut info = Vec::with_capacity(out.len() + paths.len() * 48);
    let mut present: Vec<&[u8]> = Vec::new();
    for entry in out.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        if let Some(tab) = entry.iter().position(|b| *b == b'\t') {
            present.push(&entry[tab + 1..]);
        }
        info.extend_from_slice(entry);
        info.push(0);
    }
    for p in paths {
        if !present.contains(&p.as_bytes()) {
            info.extend_from_slice(format!("0 {zero}\t{p}").as_bytes());
            info.push(0);
        }
    }
    Ok(info)
}

/// Bring the shared index's entries for `paths` up to the committed
/// `index` (exactly the committed blobs, whatever the work tree holds by
/// now), retrying while another git process holds the shared index's lock.
fn refresh_shared(repo: &Repo, info: &[u8]) -> Result<(), GitError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        match repo.run_with(
            &["update-index", "-z", "--index-info"],
            None,
            Some(info),
            &[],
        ) {
            Ok(_) => return Ok(()),
            Err(GitError::Failed { stderr, .. })
                if stderr.contains("index.lock") && start.elapsed() < Duration::from_secs(10) =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Bring the shared index's entries for `paths` up to `commit`'s tree.
fn refresh_shared_to(repo: &Repo, commit: &str, paths: &[String]) -> Result<(), GitError> {
    let tmp = PrivateIndex::new(repo)?;
    repo.run(&["read-tree", commit], Some(&tmp.path))?;
    let info = index_info(repo, &tmp.path, paths, &zero_oid_like(commit))?;
    refresh_shared(repo, &info)
}

/// Finish what the record of a holder that died says was left undone: the
/// shared-index refresh of a commit that did move its branch.
fn recover(repo: &Repo, dead: &Owner, notes: &mut Vec<String>) {
    let now = crate::store::now_ms();
    let mut note = format!(
        "an earlier commit by {} was interrupted (its process died holding the commit lock); the lock passed on safely",
        dead.describe(now)
    );
    if let Some(PendingRefresh { commit, paths }) = &dead.refresh {
        let contained = repo
            .run(&["merge-base", "--is-ancestor", commit, "HEAD"], None)
            .is_ok();
        if contained {
            match refresh_shared_to(repo, commit, paths) {
                Ok(()) => note.push_str(&format!(
                    "; its commit {} had landed, and the shared index now matches it for {} path(s)",
                    &commit[..commit.len().min(12)],
                    paths.len()
                )),
                Err(e) => note.push_str(&format!(
                    "; its commit had landed but the shared index could not be refreshed ({e})"
                )),
            }
        }
    }
    notes.push(note);
}

/// Make the commit (see the module documentation).
pub fn commit(repo: &Repo, req: &Request<'_>) -> Result<Committed, GitError> {
    if req.paths.is_empty() {
        return Err(GitError::Refused(
            "nothing to commit: no paths given and none of the changes are yours".into(),
        ));
    }
    let mut head = check_state(repo)?;
    let msg = message::with_trailers(
        &req.message,
        &[
            (message::AGENT_TRAILER, &req.agent.id),
            (message::SESSION_TRAILER, &req.agent.session),
        ],
    );
    if message::clean(&req.message).is_empty() {
        return Err(GitError::Refused(
            "the commit message is empty; give one with -m. Nothing was changed.".into(),
        ));
    }
    let mut notes = Vec::new();
    let mut lock = CommitLock::acquire(
        &repo.hookgate_dir(),
        Owner::me(&req.agent.id),
        req.lock_timeout,
        |o| {
            eprintln!(
                "hookgate: waiting for the commit lock, held by {}",
                o.map(|o| o.describe(crate::store::now_ms()))
                    .unwrap_or_else(|| "another process".into())
            )
        },
    )?;
    if let Some(dead) = lock.interrupted.clone() {
        recover(repo, &dead, &mut notes);
    }
    // HEAD may have moved while we waited.
    let first = head.clone();
    head = check_state(repo)?;
    if head.branch != first.branch {
        return Err(GitError::Refused(format!(
            "HEAD moved from {} to {} while waiting for the commit lock; nothing was changed",
            first.short_branch(),
            head.short_branch()
        )));
    }
    let index = PrivateIndex::new(repo)?;
    let msg_path = message_file(&index.path);
    let index_env = index.path.clone().into_os_string();
    let agent_env = std::ffi::OsString::from(&req.agent.id);
    let hook_env: Vec<(&str, &std::ffi::OsStr)> = vec![
        ("GIT_INDEX_FILE", index_env.as_os_str()),
        ("HOOKGATE_AGENT", agent_env.as_os_str()),
    ];
    let branch = head
        .branch
        .clone()
        .ok_or_else(|| GitError::Refused("HEAD is detached".into()))?;
    // `git commit` signs when commit.gpgSign says so; commit-tree does not
    // read that setting, so it is asked for explicitly.
    let sign = repo
        .text(&["config", "--bool", "--get", "commit.gpgsign"], None)
        .is_ok_and(|v| v == "true");
    let mut paths = req.paths.clone();
    let mut final_msg: Option<String> = None;
    let mut attempts = 0;
    loop {
        attempts += 1;
        build_index(repo, &index.path, head.oid.as_deref())?;
        stage(repo, &index.path, &paths)?;
        let mut changes = staged_changes(repo, &index.path, head.oid.as_deref())?;
        if changes.is_empty() {
            return Err(GitError::Refused(format!(
                "nothing to commit: {} match{} HEAD. Nothing was changed.",
                shown(&paths),
                if paths.len() == 1 { "es" } else { "" }
            )));
        }
        let msg_text = match &final_msg {
            Some(m) => m.clone(),
            None => {
                // The hooks judge the staged changes once; a retry stages
                // the same content of the same paths on a newer HEAD.
                if !run_hook(repo, "pre-commit", &[], &hook_env)? {
                    return Err(GitError::Refused(
                        "the pre-commit hook failed (its output is above); nothing was committed and nothing was changed"
                            .into(),
                    ));
                }
                // A hook may have staged more (formatters do).
                changes = staged_changes(repo, &index.path, head.oid.as_deref())?;
                if changes.is_empty() {
                    return Err(GitError::Refused(
                        "nothing to commit after the pre-commit hook ran; nothing was changed"
                            .into(),
                    ));
                }
                std::fs::write(&msg_path, &msg).map_err(|e| GitError::io(&msg_path, e))?;
                let mp = msg_path.to_string_lossy().into_owned();
                if !run_hook(repo, "prepare-commit-msg", &[&mp, "message"], &hook_env)? {
                    return Err(GitError::Refused(
                        "the prepare-commit-msg hook failed; nothing was committed".into(),
                    ));
                }
                if !run_hook(repo, "commit-msg", &[&mp], &hook_env)? {
                    return Err(GitError::Refused(
                        "the commit-msg hook failed (its output is above); nothing was committed and nothing was changed"
                            .into(),
                    ));
                }
                let edited =
                    std::fs::read_to_string(&msg_path).map_err(|e| GitError::io(&msg_path, e))?;
                let cleaned = message::clean(&edited);
                if cleaned.is_empty() {
                    return Err(GitError::Refused(
                        "the commit message is empty after the hooks ran; nothing was committed"
                            .into(),
                    ));
                }
                std::fs::write(&msg_path, &cleaned).map_err(|e| GitError::io(&msg_path, e))?;
                final_msg = Some(cleaned.clone());
                cleaned
            }
        };
        let tree = repo.text(&["write-tree"], Some(&index.path))?;
        let mp = msg_path.to_string_lossy().into_owned();
        let mut args: Vec<&str> = vec!["commit-tree", &tree];
        if sign {
            args.push("-S");
        }
        if let Some(p) = head.oid.as_deref() {
            args.extend(["-p", p]);
        }
        args.extend(["-F", &mp]);
        let oid = repo.text(&args, None)?;
        let old = head.oid.clone().unwrap_or_else(|| zero_oid_like(&oid));
        let reflog = format!(
            "commit{} (hookgate): {}",
            if head.oid.is_none() { " (initial)" } else { "" },
            message::subject(&msg_text)
        );
        match repo.run(&["update-ref", "-m", &reflog, &branch, &oid, &old], None) {
            Ok(_) => {
                let committed: Vec<String> = changes.iter().map(|c| c.path.clone()).collect();
                lock.set_refresh(Some(PendingRefresh {
                    commit: oid.clone(),
                    paths: committed.clone(),
                }))?;
                let refreshed = index_info(repo, &index.path, &committed, &zero_oid_like(&oid))
                    .and_then(|i| refresh_shared(repo, &i));
                if let Err(e) = refreshed {
                    notes.push(format!(
                        "the commit landed, but the shared index could not be brought up to it for {} ({e}); `git status` may show them as staged until `git reset -q -- <paths>`",
                        shown(&committed)
                    ));
                }
                lock.set_refresh(None)?;
                let lock_wait_ms = u64::try_from(lock.waited.as_millis()).unwrap_or(u64::MAX);
                drop(lock);
                if !run_hook(repo, "post-commit", &[], &[("HOOKGATE_AGENT", &agent_env)])? {
                    notes.push("the post-commit hook failed (the commit stands)".into());
                }
                return Ok(Committed {
                    oid,
                    parent: head.oid.clone(),
                    branch: head.short_branch().to_string(),
                    changes,
                    attempts,
                    lock_wait_ms,
                    notes,
                });
            }
            Err(e) => {
                let now = check_state(repo)?;
                if now.branch != head.branch {
                    return Err(GitError::Refused(format!(
                        "HEAD switched from {} to {} during the commit; nothing was committed",
                        head.short_branch(),
                        now.short_branch()
                    )));
                }
                if now.oid == head.oid || attempts >= MAX_ATTEMPTS {
                    return Err(GitError::Refused(format!(
                        "could not move {} to the new commit: {e}. Nothing was changed.",
                        head.short_branch()
                    )));
                }
                // The branch moved: did the new commits touch our paths?
                let ours: Vec<String> = changes.iter().map(|c| c.path.clone()).collect();
                let upstream = match (head.oid.as_deref(), now.oid.as_deref()) {
                    (Some(a), Some(b)) => changed_between(repo, a, b, &ours)?,
                    (None, Some(_)) => ours.clone(),
                    _ => Vec::new(),
                };
                let before = head.oid.clone();
                head = now;
                if !upstream.is_empty() {
                    build_index(repo, &index.path, head.oid.as_deref())?;
                    stage(repo, &index.path, &paths)?;
                    let still = staged_changes(repo, &index.path, head.oid.as_deref())?;
                    let conflicts: Vec<&String> = upstream
                        .iter()
                        .filter(|p| still.iter().any(|c| &c.path == *p))
                        .collect();
                    if !conflicts.is_empty() {
                        return Err(GitError::Refused(format!(
                            "{} changed upstream ({}..{} on {}) differently from your version; nothing was committed and your work tree is untouched. Look at `git log -p {}..{} -- <path>`, merge the change into your files, then commit again.",
                            conflicts
                                .iter()
                                .map(|p| format!("`{p}`"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            short(before.as_deref()),
                            short(head.oid.as_deref()),
                            head.short_branch(),
                            short(before.as_deref()),
                            short(head.oid.as_deref()),
                        )));
                    }
                    // Upstream already has exactly our version of those.
                    paths.retain(|p| !upstream.contains(p) || still.iter().any(|c| &c.path == p));
                    if paths.is_empty() {
                        return Err(GitError::Refused(
                            "nothing to commit: the branch already has exactly your changes; nothing was changed".into(),
                        ));
                    }
                }
            }
        }
    }
}

fn short(oid: Option<&str>) -> String {
    oid.map(|o| o[..o.len().min(10)].to_string())
        .unwrap_or_else(|| "(none)".into())
}

fn shown(paths: &[String]) -> String {
    let mut s: Vec<String> = paths.iter().take(5).map(|p| format!("`{p}`")).collect();
    if paths.len() > 5 {
        s.push(format!("and {} more", paths.len() - 5));
    }
    s.join(", ")
}
