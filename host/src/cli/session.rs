//! What every reservation command needs: who is asking, from where, under
//! which policy, against which store. Every command is a heartbeat of its
//! agent, prints hookgate's notices for it on stderr, and says when
//! messages wait.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use hookgate::event::Agent;
use hookgate::paths::{self, PathContext};
use hookgate::policy::{self, CaseFold, Policy};
use hookgate::presence;
use hookgate::reservations::Context;
use hookgate::runtime::CodeCache;
use hookgate::store::{now_ms, Store};

use super::Cli;

/// A command's view of the world.
pub struct Session {
    /// Path normalization for the caller's directory.
    pub paths: PathContext,
    /// Effective policy.
    pub policy: Policy,
    /// Store file.
    pub store_path: PathBuf,
    /// The caller.
    pub agent: Agent,
    /// Its name in the store.
    pub name: String,
    /// Reservation settings.
    pub rctx: Context,
}

/// The caller's agent: `--agent` / `$HOOKGATE_AGENT` (`session` or
/// `session:subagent`, as hooks derive it), else the person at the terminal.
pub fn caller(cli: &Cli) -> Agent {
    match cli
        .agent
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        Some(id) => match id.split_once(':') {
            Some((session, sub)) if !session.is_empty() && !sub.is_empty() => {
                Agent::from_session(session, Some(sub), None)
            }
            _ => Agent::from_session(id, None, None),
        },
        None => {
            let user = std::env::var("USER")
                .or_else(|_| std::env::var("USERNAME"))
                .unwrap_or_else(|_| "operator".into());
            let host = std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_default();
            let id = if host.is_empty() {
                user
            } else {
                format!("{user}@{host}")
            };
            Agent::from_session(&id, None, None)
        }
    }
}

impl Session {
    /// Resolve everything and record the heartbeat (`action` names the command).
    pub fn open(cli: &Cli, action: &str) -> anyhow::Result<Session> {
        let cwd = std::env::current_dir().context("current directory")?;
        let ctx = PathContext::new(&cwd);
        let layers = policy::layers_for(ctx.repo_root.as_deref(), cli.policy.as_deref())?;
        let store_path = cli.store_path(ctx.repo_root.as_deref());
        let cache_dir = CodeCache::default_dir(&store_path.with_file_name("cache"));
        let policy = policy::load_cached(&layers, &cache_dir)?;
        let fold = match policy.case_fold {
            CaseFold::On => true,
            CaseFold::Off => false,
            CaseFold::Auto => paths::fs_folds_case(ctx.repo_root.as_deref().unwrap_or(&ctx.cwd)),
        };
        let ctx = ctx.with_case_fold(fold);
        let mut agent = caller(cli);
        let snap = hookgate::store::snapshot::Snapshot::read(&store_path);
        let prefix = format!("{}:", agent.id);
        let has_subagents = snap
            .as_ref()
            .is_some_and(|s| s.agents().iter().any(|a| a.id.starts_with(&prefix)));
        if agent.subagent.is_none() && cli.agent.is_some() && has_subagents {
            // A subagent's shell carries its session's id: if the subagent's
            // hook just recorded this very command, act as the subagent.
            let args: Vec<String> = std::env::args().skip(1).collect();
            let now = now_ms();
            if let Ok(mut store) = Store::open(&store_path) {
                let session = agent.id.clone();
                if let Ok(Some(sub)) =
                    store.write(|tx| hookgate::shell_identity::claim(tx, &session, &args, now))
                {
                    if let Some((s, a)) = sub.split_once(':') {
                        agent = Agent::from_session(s, Some(a), None);
                    }
                }
            }
        }
        let rctx = Context {
            fold,
            settings: policy.reservations,
            presence: policy.presence,
        };
        let now = now_ms();
        // Seen moments ago, with nothing waiting and no new name: no write.
        if cli.name.is_none() {
            if let Some(me) = snap.as_ref().and_then(|s| s.agent(&agent.id)).cloned() {
                if me.quiet(now) {
                    return Ok(Session {
                        paths: ctx,
                        policy,
                        store_path,
                        agent,
                        name: me.name,
                        rctx,
                    });
                }
            }
        }
        let mut store = Store::open(&store_path)?;
        let (name, notices) = store.write_leases(|tx| -> anyhow::Result<_> {
            let name = presence::touch(tx, &agent, "cli", action, cli.name.as_deref(), now)??;
            let notices = hookgate::coordination::messages::take_notices(tx, &agent.id, now)?;
            Ok((name, notices))
        })?;
        let (notices, waiting) = notices;
        for n in notices {
            eprintln!("hookgate notice: {}", n.framed(4000));
        }
        if waiting > 0 {
            eprintln!(
                "hookgate: {waiting} new message{} for you: `hookgate inbox`",
                if waiting == 1 { "" } else { "s" }
            );
        }
        Ok(Session {
            paths: ctx,
            policy,
            store_path,
            agent,
            name,
            rctx,
        })
    }

    /// Open the store (briefly: commands close it before they wait or print).
    pub fn store(&self) -> anyhow::Result<Store> {
        Ok(Store::open(&self.store_path)?)
    }
}

/// `in 29m`, `3m ago`.
pub fn relative(ms: i64, now: i64) -> String {
    let d = Duration::from_millis(ms.abs_diff(now));
    let f = hookgate::duration::format(d);
    if ms >= now {
        format!("in {f}")
    } else {
        format!("{f} ago")
    }
}
