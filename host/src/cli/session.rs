//! What every reservation command needs: who is asking, from where, under
//! which policy, against which store. Every command is a heartbeat of its
//! agent, prints hookgate's notices for it on stderr, and says when
//! messages wait.

use std::path::PathBuf;

use anyhow::Context as _;

use hookgate::event::Agent;
use hookgate::mcp::identity;
use hookgate::paths::PathContext;
use hookgate::policy::Policy;
use hookgate::presence;
use hookgate::reservations::report::Workspace;
use hookgate::reservations::Context;
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
    if let Some(agent) = cli.agent.as_deref().and_then(identity::from_override) {
        return agent;
    }
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

/// The caller's agent, as [`caller`], but an agent's command without
/// `HOOKGATE_AGENT` (platforms that can't set it in the agent's shell) is
/// recognized by the platform process it runs under, as the MCP server
/// does: the agent whose hooks recorded that process.
pub fn caller_in(
    cli: &Cli,
    store_path: &std::path::Path,
    presence: &hookgate::policy::PresenceSettings,
) -> Agent {
    if cli.agent.is_none() {
        if let Some(host) = identity::host_pid() {
            let store = store_path.exists().then(|| Store::open(store_path));
            if let Some(Ok(store)) = store {
                if let Ok(Some(a)) = identity::agent_of_host(
                    store.connection(),
                    host,
                    identity::process_start_ms(host),
                    presence,
                    now_ms(),
                ) {
                    return a;
                }
            }
        }
    }
    caller(cli)
}

impl Session {
    /// Resolve everything and record the heartbeat (`action` names the command).
    pub fn open(cli: &Cli, action: &str) -> anyhow::Result<Session> {
        let cwd = std::env::current_dir().context("current directory")?;
        let Workspace {
            paths: ctx,
            policy,
            store_path,
            rctx,
        } = Workspace::resolve(&cwd, cli.policy.as_deref(), cli.store.as_deref())?;
        let mut agent = caller_in(cli, &store_path, &policy.presence);
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
        let now = now_ms();
        let beat = presence::command_heartbeat(
            &store_path,
            snap.as_ref(),
            None,
            &agent,
            action,
            cli.name.as_deref(),
            now,
        )?;
        for n in &beat.notices {
            eprintln!("hookgate notice: {}", n.framed(4000));
        }
        if beat.waiting > 0 {
            eprintln!(
                "hookgate: {} new message{} for you: `hookgate inbox`",
                beat.waiting,
                if beat.waiting == 1 { "" } else { "s" }
            );
        }
        Ok(Session {
            paths: ctx,
            policy,
            store_path,
            agent,
            name: beat.name,
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
    hookgate::reservations::report::relative(ms, now)
}
