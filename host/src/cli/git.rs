//! `hookgate git pre-commit` and `hookgate git pre-push`: git's hooks (as
//! `hookgate init` installs them) hand what a commit or a push carries to
//! the validator chain, as the `git` dialect (see
//! [`hookgate::platform::git`]). Exit 0 lets git go on; 1 aborts, with the
//! reasons on stderr. `HOOKGATE_GUARD=warn` turns a block into a warning
//! (recorded as such in the audit log).
//!
//! Who is committing: `HOOKGATE_AGENT` (set by `hookgate commit` for the
//! hooks it runs, and by Claude Code's session environment), else the agent
//! whose hooks recorded the platform process this git runs under (its first
//! ancestor that is not a shell, a wrapper or git), else the person at the
//! terminal.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;

use hookgate::event::Agent;
use hookgate::git::{guard, push, Repo};
use hookgate::hook::{self, HookOptions};
use hookgate::platform::git::{payload, Git};
use hookgate::reservations::report::Workspace;
use hookgate::store::now_ms;

use super::Cli;

/// git's hooks that hookgate guards.
#[derive(Subcommand, Debug)]
pub enum GitHook {
    /// Judge the paths staged for the commit being made (git's pre-commit hook).
    PreCommit,
    /// Judge the paths changed by the commits being pushed (git's pre-push hook; refs on stdin).
    PrePush {
        /// The remote's name (or its URL when unnamed).
        remote: Option<String>,
        /// The remote's URL.
        url: Option<String>,
    },
}

/// Who is committing or pushing (see the module documentation).
fn who(cli: &Cli, ws: &Workspace) -> Agent {
    super::session::caller_in(cli, &ws.store_path, &ws.policy.presence)
}

/// `HOOKGATE_GUARD`: `warn` degrades blocks to warnings.
fn guard_mode() -> Option<String> {
    match std::env::var("HOOKGATE_GUARD").ok()?.trim() {
        "warn" => Some("HOOKGATE_GUARD=warn: let through with a warning".into()),
        "" | "enforce" => None,
        other => {
            eprintln!("hookgate: HOOKGATE_GUARD={other} is not `warn` or `enforce`; enforcing");
            None
        }
    }
}

/// `hookgate git <hook>`.
pub fn run(cli: &Cli, which: &GitHook) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("current directory")?;
    let repo = Repo::for_hook(&cwd)?;
    let ws = Workspace::resolve(&repo.root, cli.policy.as_deref(), cli.store.as_deref())?;
    let agent = who(cli, &ws);
    let (native, carried) = match which {
        GitHook::PreCommit => {
            let index = std::env::var_os("GIT_INDEX_FILE").map(PathBuf::from);
            ("pre-commit", guard::staged(&repo, index.as_deref()))
        }
        GitHook::PrePush { remote, .. } => {
            let mut input = Vec::new();
            std::io::stdin()
                .take(push::MAX_INPUT as u64 + 1)
                .read_to_end(&mut input)
                .context("reading git's pre-push input")?;
            let remote = remote.clone().unwrap_or_else(|| "origin".into());
            let carried = match push::parse(&input) {
                Ok(updates) => guard::pushed(
                    &repo,
                    &remote,
                    &updates,
                    &ws.store_path,
                    &agent.id,
                    &ws.rctx,
                    now_ms(),
                ),
                Err(e) => Err(hookgate::git::GitError::Refused(e.to_string())),
            };
            ("pre-push", carried)
        }
    };
    let carried = match carried {
        Ok(c) => c,
        Err(e) => {
            // Bad input or a git failure: the policy's fail mode decides.
            let on = ws.policy.on_error;
            eprintln!(
                "hookgate: {native} guard could not read what git carries: {e} (on_error = {on})"
            );
            return Ok(if on == hookgate::event::Outcome::Deny {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            });
        }
    };
    if carried.writes.is_empty() && carried.deletes.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let input = payload(
        native,
        &agent.session,
        agent.subagent.as_deref(),
        &repo.root,
        &carried.writes,
        &carried.deletes,
        &carried.what,
    );
    let opts = HookOptions {
        event_flag: None,
        policy: cli.policy.clone(),
        store: cli.store.clone(),
        agent: Some(agent.id.clone()),
        audit: true,
        one_shot: true,
        denies_warn: guard_mode(),
    };
    let r = hook::handle(&Git, &input, &opts);
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(r.answer.stderr.as_bytes());
    for d in &r.diagnostics {
        let _ = writeln!(err, "{d}");
    }
    if !carried.attributed.is_empty() && r.answer.exit_code == 0 {
        let _ = writeln!(
            err,
            "hookgate: {} path(s) pushed as their committing agent's own work ({})",
            carried.attributed.len(),
            carried
                .attributed
                .iter()
                .take(3)
                .map(|(p, a)| format!("{p} by {a}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(ExitCode::from(
        u8::try_from(r.answer.exit_code).unwrap_or(1),
    ))
}
