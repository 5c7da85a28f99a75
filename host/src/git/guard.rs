//! What the git guards judge: the paths a commit carries (`pre-commit`), and
//! the paths the commits of a push change (`pre-push`).
//!
//! A push publishes commits. A commit made through `hookgate commit` names
//! its agent in a trailer; its paths that agent holds are that agent's
//! finished work and are not held against the push. Every other path a
//! pushed commit changes is judged like a write by the pusher: one held by
//! another live agent blocks the push, naming the holder.

use std::path::Path;

use super::message::AGENT_TRAILER;
use super::push::Update;
use super::repo::{parse_name_status, GitError, Repo};
use crate::reservations::{self, Context};

/// The paths of a commit or push.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Carried {
    /// Added or changed.
    pub writes: Vec<String>,
    /// Removed.
    pub deletes: Vec<String>,
    /// One line: `git commit (3 paths)`, `git push origin refs/heads/main (2 commits)`.
    pub what: String,
    /// Paths left out because the agent named in their commit holds them.
    pub attributed: Vec<(String, String)>,
}

/// The paths staged for the commit being made: the index git commits from
/// is `$GIT_INDEX_FILE` when git set it (`git commit -a`, `git commit
/// <paths>`, `hookgate commit`), else the shared one.
pub fn staged(repo: &Repo, index_env: Option<&Path>) -> Result<Carried, GitError> {
    let index = index_env.map(|p| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            repo.root.join(p)
        }
    });
    // Against HEAD; on an unborn branch (rare: the first commit), against
    // the empty tree.
    let args = [
        "diff-index",
        "--cached",
        "--name-status",
        "-z",
        "--no-renames",
    ];
    let out = match repo.run(&[&args[..], &["HEAD"]].concat(), index.as_deref()) {
        Ok(out) => out,
        Err(GitError::Failed { .. })
            if repo
                .run(&["rev-parse", "-q", "--verify", "HEAD^{commit}"], None)
                .is_err() =>
        {
            let empty = repo.text(&["hash-object", "-t", "tree", "/dev/null"], None)?;
            repo.run(&[&args[..], &[empty.as_str()]].concat(), index.as_deref())?
        }
        Err(e) => return Err(e),
    };
    let changes = parse_name_status(&out);
    let mut c = Carried::default();
    for ch in changes {
        if ch.status == 'D' {
            c.deletes.push(ch.path);
        } else {
            c.writes.push(ch.path);
        }
    }
    c.what = format!("git commit ({} paths)", c.writes.len() + c.deletes.len());
    Ok(c)
}

/// Most commits of one push looked at.
pub const MAX_COMMITS: usize = 10_000;

/// One pushed commit: its agent (trailer) and the paths it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedCommit {
    /// Object name.
    pub oid: String,
    /// The `Hookgate-Agent` trailer, when it has one.
    pub agent: Option<String>,
    /// Paths it changes (added, modified or removed).
    pub paths: Vec<String>,
}

/// Parse `git log --format=%x1e%H%x1f<trailer>%x1f --name-only -z`.
pub fn parse_log(out: &[u8]) -> Vec<PushedCommit> {
    let mut v = Vec::new();
    for chunk in out.split(|b| *b == 0x1e).filter(|c| !c.is_empty()) {
        let mut parts = chunk.splitn(3, |b| *b == 0x1f);
        let (Some(oid), Some(trailer), Some(rest)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let oid = String::from_utf8_lossy(oid).trim().to_string();
        let agent = String::from_utf8_lossy(trailer)
            .split(',')
            .map(str::trim)
            .find(|s| !s.is_empty())
            .map(str::to_string);
        let paths = rest
            .split(|b| *b == 0)
            .map(|p| {
                String::from_utf8_lossy(p)
                    .trim_start_matches('\n')
                    .to_string()
            })
            .filter(|p| !p.is_empty())
            .collect();
        v.push(PushedCommit { oid, agent, paths });
    }
    v
}

/// The commits a push of `updates` to `remote` publishes.
pub fn pushed_commits(
    repo: &Repo,
    remote: &str,
    updates: &[Update],
) -> Result<Vec<PushedCommit>, GitError> {
    let format =
        format!("--format=%x1e%H%x1f%(trailers:key={AGENT_TRAILER},valueonly,separator=%x2c)%x1f");
    let max = format!("--max-count={MAX_COMMITS}");
    let remotes = format!("--remotes={remote}");
    let mut out: Vec<PushedCommit> = Vec::new();
    for u in updates.iter().filter(|u| !u.is_delete()) {
        let base = |extra: &[&str]| -> Vec<String> {
            let mut a: Vec<String> = [
                "log",
                format.as_str(),
                "--name-only",
                "--no-renames",
                "-z",
                max.as_str(),
                u.local_oid.as_str(),
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            a.extend(extra.iter().map(|s| s.to_string()));
            a
        };
        let known_remote = !u.is_new()
            && repo
                .run(
                    &["cat-file", "-e", &format!("{}^{{commit}}", u.remote_oid)],
                    None,
                )
                .is_ok();
        let not = format!("^{}", u.remote_oid);
        let args = if known_remote {
            base(&[&not])
        } else {
            base(&["--not", &remotes])
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        for c in parse_log(&repo.run(&args, None)?) {
            if !out.iter().any(|o| o.oid == c.oid) {
                out.push(c);
            }
        }
    }
    Ok(out)
}

/// What a push carries, for the chain: every path of the pushed commits,
/// except those that only commits of the agent holding them now (by their
/// trailer) change.
pub fn pushed(
    repo: &Repo,
    remote: &str,
    updates: &[Update],
    store_path: &Path,
    pusher: &str,
    rctx: &Context,
    now: i64,
) -> Result<Carried, GitError> {
    let commits = pushed_commits(repo, remote, updates)?;
    let conn = crate::store::Store::open(store_path).ok();
    let mut c = Carried::default();
    let mut holds_of: std::collections::HashMap<String, Vec<(reservations::Hold, _)>> =
        std::collections::HashMap::new();
    for commit in &commits {
        for p in &commit.paths {
            let attributed = match (&commit.agent, &conn) {
                (Some(a), Some(store)) if a != pusher => holds_of
                    .entry(a.clone())
                    .or_insert_with(|| {
                        reservations::sets_of(store.connection(), a, now, rctx).unwrap_or_default()
                    })
                    .iter()
                    .any(|(_, s)| s.matches(p)),
                _ => false,
            };
            if attributed {
                if let Some(a) = &commit.agent {
                    if !c.attributed.iter().any(|(q, _)| q == p) {
                        c.attributed.push((p.clone(), a.clone()));
                    }
                }
            } else if !c.writes.contains(p) {
                c.writes.push(p.clone());
            }
        }
    }
    // A path that some pushed commit changes without its holder's name is
    // judged, whatever other commits of the push say about it.
    c.attributed.retain(|(q, _)| !c.writes.contains(q));
    let refs: Vec<&str> = updates
        .iter()
        .filter(|u| !u.is_delete())
        .map(|u| u.remote_ref.as_str())
        .collect();
    c.what = format!(
        "git push {remote} {} ({} commit{})",
        refs.join(" "),
        commits.len(),
        if commits.len() == 1 { "" } else { "s" }
    );
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_parsing_keeps_commits_agents_and_odd_paths() {
        let out = b"\x1eaaa\x1f\x1f\0\nb\0d/c\0\x1ebbb\x1fag1, ag2\x1f\0\na b\0";
        let v = parse_log(out);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].agent, None);
        assert_eq!(v[0].paths, ["b", "d/c"]);
        assert_eq!(v[1].agent.as_deref(), Some("ag1"));
        assert_eq!(v[1].paths, ["a b"]);
        assert!(parse_log(b"\x1etorn").is_empty());
    }
}
