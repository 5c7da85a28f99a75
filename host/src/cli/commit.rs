//! `hookgate commit`: the agent's own changes, committed through a private
//! index under the repository's commit lock (see [`hookgate::git::commit`]).

use std::io::Read as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::json;

use hookgate::git::commit::{self, Committed, Request};
use hookgate::git::owned::{self, Claim};
use hookgate::git::{GitError, Repo};
use hookgate::policy::file::ReleaseOnCommit;
use hookgate::reservations;
use hookgate::store::now_ms;

use super::session::Session;
use super::Cli;

/// The arguments of `hookgate commit`.
pub struct Args<'a> {
    /// `-m` (each a paragraph).
    pub messages: &'a [String],
    /// `-F`.
    pub file: Option<&'a Path>,
    /// `--dry-run`.
    pub dry_run: bool,
    /// Paths.
    pub paths: &'a [String],
}

/// Exit status of a commit refused for the state of the repository or a
/// hook (nothing was changed).
const REFUSED: u8 = 1;

fn read_message(args: &Args<'_>) -> anyhow::Result<String> {
    let mut parts: Vec<String> = args.messages.to_vec();
    if let Some(f) = args.file {
        let text = if f == Path::new("-") {
            let mut s = String::new();
            std::io::stdin()
                .take(1 << 20)
                .read_to_string(&mut s)
                .context("reading the message from stdin")?;
            s
        } else {
            let meta = std::fs::metadata(f).with_context(|| format!("{}", f.display()))?;
            anyhow::ensure!(
                meta.len() <= 1 << 20,
                "{}: a commit message of {} bytes is too long (at most 1 MiB)",
                f.display(),
                meta.len()
            );
            std::fs::read_to_string(f).with_context(|| format!("{}", f.display()))?
        };
        parts.push(text);
    }
    let msg = parts.join("\n\n");
    anyhow::ensure!(
        !msg.contains('\0'),
        "the commit message contains a NUL byte"
    );
    Ok(msg)
}

/// The paths to commit: those given (inside the repository), or the
/// changes that are the agent's.
fn select(
    repo: &Repo,
    s: &Session,
    given: &[String],
) -> anyhow::Result<(Vec<String>, Option<Vec<Claim>>)> {
    let cwd = std::env::current_dir().context("current directory")?;
    if !given.is_empty() {
        let mut out = Vec::with_capacity(given.len());
        for p in given {
            match repo.relative(&cwd, p) {
                Some(r) if r == "." => out.push(".".into()),
                Some(r) => out.push(r),
                None => anyhow::bail!(
                    "`{p}` is outside the repository at {} (or inside .git); nothing was changed",
                    repo.root.display()
                ),
            }
        }
        return Ok((out, None));
    }
    let changed = owned::changed_paths(repo)?;
    let claims = owned::claims(
        &s.store_path,
        s.policy.audit,
        &s.agent.id,
        &changed,
        &s.rctx,
        now_ms(),
    )?;
    let mine = claims
        .iter()
        .filter(|c| c.mine)
        .map(|c| c.path.clone())
        .collect();
    Ok((mine, Some(claims)))
}

/// `hookgate commit`.
pub fn run(cli: &Cli, args: &Args<'_>, json: bool) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("current directory")?;
    let repo = Repo::discover(&cwd)?;
    let message = read_message(args)?;
    if !args.dry_run && hookgate::git::message::clean(&message).is_empty() {
        anyhow::bail!("give a commit message with -m MSG (or -F FILE); nothing was changed");
    }
    let s = Session::open(cli, "commit")?;
    let (paths, claims) = select(&repo, &s, args.paths)?;
    if args.dry_run {
        return dry_run(&repo, &s, &paths, claims.as_deref(), json);
    }
    if paths.is_empty() {
        let others = claims.as_deref().unwrap_or_default();
        let mut msg = String::from("nothing of yours to commit");
        if others.is_empty() {
            msg.push_str(": the work tree has no changes");
        } else {
            msg.push_str(&format!(
                ": {} changed path{} to others or {} no record of a write by you ({}); name the paths to commit them, and see `hookgate commit --dry-run`",
                others.len(),
                if others.len() == 1 { " belongs" } else { "s belong" },
                if others.len() == 1 { "has" } else { "have" },
                others
                    .iter()
                    .take(3)
                    .map(|c| format!("{}: {}", c.path, c.why))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        eprintln!("hookgate: {msg}");
        return Ok(ExitCode::from(REFUSED));
    }
    let req = Request {
        message,
        paths,
        agent: &s.agent,
        lock_timeout: Duration::from_millis(s.policy.git.lock_timeout_ms.max(0) as u64),
    };
    let done = match commit::commit(&repo, &req) {
        Ok(c) => c,
        Err(GitError::Refused(m)) => {
            if json {
                println!("{}", json!({"committed": false, "error": m}));
            }
            eprintln!("hookgate: {m}");
            return Ok(ExitCode::from(REFUSED));
        }
        Err(e) => return Err(e.into()),
    };
    let (released, told, store_note) = after(&s, &done);
    if json {
        println!(
            "{}",
            json!({
                "committed": true,
                "commit": done.oid,
                "parent": done.parent,
                "branch": done.branch,
                "changes": done.changes,
                "attempts": done.attempts,
                "lock_wait_ms": done.lock_wait_ms,
                "released": released,
                "notified": told,
                "notes": done.notes.iter().chain(store_note.iter()).collect::<Vec<_>>(),
            })
        );
    } else {
        let subject = hookgate::git::message::subject(&req.message).to_string();
        println!(
            "[{} {}{}] {}",
            done.branch,
            if done.parent.is_none() {
                "(root-commit) "
            } else {
                ""
            },
            &done.oid[..done.oid.len().min(10)],
            subject
        );
        for c in &done.changes {
            println!(" {} {}", c.status, c.path);
        }
        println!(
            "{} path{} committed as {} ({}){}",
            done.changes.len(),
            if done.changes.len() == 1 { "" } else { "s" },
            s.name,
            s.agent.id,
            if done.attempts > 1 {
                format!(
                    "; the branch moved meanwhile, made on the new HEAD (attempt {})",
                    done.attempts
                )
            } else {
                String::new()
            }
        );
        if !released.is_empty() {
            println!(
                "released {}",
                released
                    .iter()
                    .map(|r| format!("r{r}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        if !told.is_empty() {
            println!("told {} agent(s) of the commit", told.len());
        }
        for n in done.notes.iter().chain(store_note.iter()) {
            eprintln!("hookgate: {n}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// After the commit: release reservations per `[git] release_on_commit`,
/// and tell the audience. A failure here does not undo the commit; it is
/// reported.
fn after(s: &Session, done: &Committed) -> (Vec<i64>, Vec<String>, Option<String>) {
    let now = now_ms();
    let paths: Vec<String> = done.changes.iter().map(|c| c.path.clone()).collect();
    let result = (|| -> anyhow::Result<(Vec<i64>, Vec<String>)> {
        let mut store = s.store()?;
        let release: Vec<i64> = match s.policy.git.release_on_commit {
            ReleaseOnCommit::None => Vec::new(),
            mode => reservations::sets_of(store.connection(), &s.agent.id, now, &s.rctx)?
                .into_iter()
                .filter(|(h, set)| {
                    (mode == ReleaseOnCommit::All || h.auto) && paths.iter().any(|p| set.matches(p))
                })
                .map(|(h, _)| h.id)
                .collect(),
        };
        let how = format!("hookgate commit {}", &done.oid[..done.oid.len().min(10)]);
        let (released, told) = hookgate::coordination::changes::committed(
            &mut store,
            &s.store_path,
            &s.agent,
            &paths,
            &release,
            &how,
            &s.policy.coordination,
            &s.rctx,
            now,
        )?;
        Ok((released.into_iter().map(|r| r.id).collect(), told))
    })();
    match result {
        Ok((r, t)) => (r, t, None),
        Err(e) => (
            Vec::new(),
            Vec::new(),
            Some(format!(
                "the commit stands, but its reservations and notifications were not updated: {e:#}"
            )),
        ),
    }
}

fn dry_run(
    repo: &Repo,
    s: &Session,
    paths: &[String],
    claims: Option<&[Claim]>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let changes = if paths.is_empty() {
        Vec::new()
    } else {
        match commit::preview(repo, paths) {
            Ok(c) => c,
            Err(GitError::Refused(m)) => {
                eprintln!("hookgate: {m}");
                return Ok(ExitCode::from(REFUSED));
            }
            Err(e) => return Err(e.into()),
        }
    };
    let head = repo.head()?;
    let state = commit::check_state(repo).err().map(|e| e.to_string());
    let why = |p: &str| {
        claims
            .and_then(|cs| cs.iter().find(|c| c.path == p))
            .map(|c| c.why.clone())
            .unwrap_or_else(|| "named on the command line".into())
    };
    if json {
        println!(
            "{}",
            json!({
                "branch": head.short_branch(),
                "agent": s.agent.id,
                "would_commit": changes.iter().map(|c| json!({"status": c.status.to_string(), "path": c.path, "why": why(&c.path)})).collect::<Vec<_>>(),
                "left_out": claims.unwrap_or_default().iter().filter(|c| !c.mine).collect::<Vec<_>>(),
                "blocked": state,
            })
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "would commit on {} as {} ({}): {} path{}",
        head.short_branch(),
        s.name,
        s.agent.id,
        changes.len(),
        if changes.len() == 1 { "" } else { "s" }
    );
    for c in &changes {
        println!("  {} {}  ({})", c.status, c.path, why(&c.path));
    }
    let left: Vec<&Claim> = claims
        .unwrap_or_default()
        .iter()
        .filter(|c| !c.mine)
        .collect();
    if !left.is_empty() {
        println!("left out ({}):", left.len());
        for c in left {
            println!("  {}  ({})", c.path, c.why);
        }
    }
    if let Some(st) = state {
        println!("but a commit can't be made now: {st}");
    }
    Ok(ExitCode::SUCCESS)
}
