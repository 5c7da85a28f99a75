//! A repository as git sees it: its work tree, its git directory and the
//! common one (they differ in a linked worktree), what HEAD is, and git's
//! own commands run with a controlled environment.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What can go wrong talking to git. Every variant's text is one clear line
/// for the person or agent that ran the command.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// Not inside a git work tree.
    #[error("not inside a git work tree ({0})")]
    NotARepo(String),
    /// git could not be started.
    #[error("could not run git: {0}")]
    Spawn(#[source] std::io::Error),
    /// A git command failed.
    #[error("`git {args}` failed: {stderr}")]
    Failed {
        /// The arguments, for the message.
        args: String,
        /// What git said (trimmed).
        stderr: String,
    },
    /// The repository is in a state the operation refuses (detached HEAD, a
    /// merge in progress, nothing to commit …); nothing was changed.
    #[error("{0}")]
    Refused(String),
    /// A file of hookgate's under the git directory.
    #[error("{path}: {source}")]
    Io {
        /// Which file.
        path: PathBuf,
        /// What happened.
        #[source]
        source: std::io::Error,
    },
}

impl GitError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> GitError {
        GitError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What HEAD is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The branch HEAD points at (`refs/heads/main`), `None` when detached.
    pub branch: Option<String>,
    /// The commit, `None` on an unborn branch.
    pub oid: Option<String>,
}

impl Head {
    /// `main` for `refs/heads/main`.
    pub fn short_branch(&self) -> &str {
        self.branch
            .as_deref()
            .map(|b| b.strip_prefix("refs/heads/").unwrap_or(b))
            .unwrap_or("HEAD")
    }
}

/// A git work tree and its directories.
#[derive(Debug, Clone)]
pub struct Repo {
    /// The work tree's root (canonical).
    pub root: PathBuf,
    /// This work tree's git directory (`.git`, or `.git/worktrees/<name>`).
    pub git_dir: PathBuf,
    /// The common git directory (shared by linked worktrees): the store and
    /// the commit lock live here.
    pub common_dir: PathBuf,
    /// The shared index (`GIT_INDEX_FILE` unset).
    pub index: PathBuf,
    /// The hooks directory git runs (honours `core.hooksPath`).
    pub hooks_dir: PathBuf,
}

fn absolute(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        crate::paths::lexical(&base.join(p))
    }
}

impl Repo {
    /// The repository of the work tree containing `cwd`.
    pub fn discover(cwd: &Path) -> Result<Repo, GitError> {
        let out = Command::new("git")
            .args([
                "rev-parse",
                "--show-toplevel",
                "--absolute-git-dir",
                "--git-common-dir",
                "--git-path",
                "index",
                "--git-path",
                "hooks",
            ])
            .current_dir(cwd)
            .env_remove("GIT_INDEX_FILE")
            .stdin(Stdio::null())
            .output()
            .map_err(GitError::Spawn)?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
            return Err(GitError::NotARepo(if why.is_empty() {
                cwd.display().to_string()
            } else {
                why
            }));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        let [top, git_dir, common, index, hooks] = lines[..] else {
            return Err(GitError::NotARepo(format!(
                "unexpected answer from git rev-parse: {text:?}"
            )));
        };
        let root = std::fs::canonicalize(top).unwrap_or_else(|_| PathBuf::from(top));
        Ok(Repo {
            git_dir: PathBuf::from(git_dir),
            common_dir: absolute(cwd, common),
            index: absolute(cwd, index),
            hooks_dir: absolute(cwd, hooks),
            root,
        })
    }

    /// The repository whose work tree's root is `cwd`, as git runs its
    /// hooks there, found without running git when `cwd/.git` is a plain
    /// git directory and git's environment does not point elsewhere (a
    /// hook on every commit saves a process); otherwise [`Repo::discover`].
    pub fn for_hook(cwd: &Path) -> Result<Repo, GitError> {
        let dot_git = cwd.join(".git");
        let env_set = ["GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR"]
            .iter()
            .any(|k| std::env::var_os(k).is_some());
        let hooks_path_set = std::fs::read_to_string(dot_git.join("config"))
            .map(|c| c.to_ascii_lowercase().contains("hookspath"))
            .unwrap_or(true);
        if env_set || hooks_path_set || !dot_git.is_dir() || dot_git.join("commondir").exists() {
            return Repo::discover(cwd);
        }
        let root = std::fs::canonicalize(cwd).map_err(|e| GitError::io(cwd, e))?;
        let git_dir = root.join(".git");
        Ok(Repo {
            common_dir: git_dir.clone(),
            index: git_dir.join("index"),
            hooks_dir: git_dir.join("hooks"),
            git_dir,
            root,
        })
    }

    /// hookgate's directory under the common git dir (the store, the lock).
    pub fn hookgate_dir(&self) -> PathBuf {
        self.common_dir.join("hookgate")
    }

    /// A git command in the work tree's root, with the shared index unless
    /// `index` names another.
    pub fn command(&self, index: Option<&Path>) -> Command {
        let mut c = Command::new("git");
        c.current_dir(&self.root)
            .env("GIT_OPTIONAL_LOCKS", "0")
            .stdin(Stdio::null());
        match index {
            Some(i) => c.env("GIT_INDEX_FILE", i),
            None => c.env_remove("GIT_INDEX_FILE"),
        };
        c
    }

    /// Run git; its stdout on success.
    pub fn run(&self, args: &[&str], index: Option<&Path>) -> Result<Vec<u8>, GitError> {
        self.run_with(args, index, None, &[])
    }

    /// Run git with `stdin` and extra environment; its stdout on success.
    pub fn run_with(
        &self,
        args: &[&str],
        index: Option<&Path>,
        stdin: Option<&[u8]>,
        env: &[(&str, &str)],
    ) -> Result<Vec<u8>, GitError> {
        let mut c = self.command(index);
        c.args(args).envs(env.iter().copied());
        if stdin.is_some() {
            c.stdin(Stdio::piped());
        }
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().map_err(GitError::Spawn)?;
        if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // git may stop reading early (an error); a broken pipe then is
            // not the error worth reporting, its exit status is.
            let _ = pipe.write_all(data);
        }
        let out = child.wait_with_output().map_err(GitError::Spawn)?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            let mut stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
            if stderr.is_empty() {
                stderr = format!("exit status {}", out.status);
            }
            Err(GitError::Failed {
                args: args.join(" "),
                stderr,
            })
        }
    }

    /// Run git and return its stdout as trimmed text.
    pub fn text(&self, args: &[&str], index: Option<&Path>) -> Result<String, GitError> {
        Ok(String::from_utf8_lossy(&self.run(args, index)?)
            .trim()
            .to_string())
    }

    /// What HEAD is now.
    pub fn head(&self) -> Result<Head, GitError> {
        let branch = match self.run(&["symbolic-ref", "-q", "HEAD"], None) {
            Ok(out) => Some(String::from_utf8_lossy(&out).trim().to_string()),
            Err(GitError::Failed { .. }) => None,
            Err(e) => return Err(e),
        };
        let oid = match self.run(&["rev-parse", "-q", "--verify", "HEAD^{commit}"], None) {
            Ok(out) => Some(String::from_utf8_lossy(&out).trim().to_string()),
            Err(GitError::Failed { .. }) => None,
            Err(e) => return Err(e),
        };
        Ok(Head { branch, oid })
    }

    /// The operation in progress in this work tree that a commit must not
    /// cut into (merge, rebase, cherry-pick, revert, am), if any.
    pub fn in_progress(&self) -> Option<&'static str> {
        let d = &self.git_dir;
        [
            ("MERGE_HEAD", "a merge"),
            ("rebase-merge", "a rebase"),
            ("rebase-apply", "a rebase or `git am`"),
            ("CHERRY_PICK_HEAD", "a cherry-pick"),
            ("REVERT_HEAD", "a revert"),
        ]
        .into_iter()
        .find(|(f, _)| d.join(f).exists())
        .map(|(_, what)| what)
    }

    /// The repository-relative form of `raw` (relative to `cwd`, or
    /// absolute), with `/` separators; `None` when it is outside the work
    /// tree or is the git directory. Symlinked directories resolve as
    /// everywhere else in hookgate; case is kept as given.
    pub fn relative(&self, cwd: &Path, raw: &str) -> Option<String> {
        let ctx = crate::paths::PathContext::new(cwd);
        let norm = ctx.normalize(raw);
        if norm.starts_with('/') || ctx.repo_root.as_deref() != Some(self.root.as_path()) {
            // `normalize` keeps absolute paths outside its root; a cwd in
            // another repository (a nested one) is outside this one.
            let abs = Path::new(&norm);
            return abs
                .strip_prefix(&self.root)
                .ok()
                .map(|r| r.to_string_lossy().replace('\\', "/"))
                .filter(|r| !r.is_empty() && !r.starts_with(".git/") && r != ".git");
        }
        if norm == ".git" || norm.starts_with(".git/") {
            return None;
        }
        Some(norm)
    }
}

/// The all-zero object name of the same length as `oid` (SHA-1 or SHA-256).
pub fn zero_oid_like(oid: &str) -> String {
    "0".repeat(oid.len().max(40))
}

/// Split NUL-terminated git output into its fields.
pub fn nul_fields(out: &[u8]) -> Vec<String> {
    out.split(|b| *b == 0)
        .filter(|f| !f.is_empty())
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect()
}

/// One changed path of `git diff --name-status -z`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PathChange {
    /// `A`, `M`, `D`, `T` (renames are a `D` and an `A`).
    pub status: char,
    /// Repository-relative path.
    pub path: String,
}

/// Parse `git diff --name-status -z --no-renames`: `status NUL path NUL` …
pub fn parse_name_status(out: &[u8]) -> Vec<PathChange> {
    let fields = nul_fields(out);
    let mut v = Vec::with_capacity(fields.len() / 2);
    let mut it = fields.into_iter();
    while let (Some(st), Some(path)) = (it.next(), it.next()) {
        let status = st.chars().next().unwrap_or('M');
        v.push(PathChange { status, path });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_status_pairs_and_odd_names() {
        let out = b"M\0src/a b.rs\0D\0old\nname\0A\0\xc3\xa9.txt\0";
        let v = parse_name_status(out);
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].status, 'M');
        assert_eq!(v[1].path, "old\nname");
        assert_eq!(v[2].path, "é.txt");
        // A torn pair is dropped, not mispaired.
        assert_eq!(parse_name_status(b"M\0").len(), 0);
    }

    #[test]
    fn zero_oid_follows_the_hash_length() {
        assert_eq!(zero_oid_like(&"a".repeat(40)).len(), 40);
        assert_eq!(zero_oid_like(&"a".repeat(64)).len(), 64);
    }
}
