//! What every tool call needs, kept between calls: the workspace (reloaded
//! when a policy file changes), the store (opened once), and the caller —
//! resolved on each call, so a server started before its session's first
//! hook finds its agent as soon as that hook ran, and follows the platform
//! to a new session (`/clear`). Every call of an identified agent is a
//! heartbeat, written as a command's is (at most every 30 s).

use std::path::PathBuf;
use std::time::Duration;

use crate::coordination::messages::MessageError;
use crate::event::Agent;
use crate::paths::PathContext;
use crate::policy::{self, PolicyError};
use crate::presence::{self, BeatError, NameError};
use crate::reservations::report::Workspace;
use crate::reservations::{Context, ReserveError};
use crate::store::snapshot::Snapshot;
use crate::store::{now_ms, Store, StoreError};

use super::identity;
use super::Options;

/// Why a tool call failed: shown to the agent as the tool's error result.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// No `HOOKGATE_AGENT`, and no hook of this session recorded yet.
    #[error(
        "hookgate does not know which agent this MCP server speaks for yet: no hook of this session has been seen{}. \
         It is found from the hooks of the agent platform that started this server; set HOOKGATE_AGENT \
         (or pass --agent) in the server's environment to name the agent explicitly",
        match .host { Some(pid) => format!(" (platform process {pid})"), None => " (no platform process could be found: /proc is not readable)".to_string() }
    )]
    NoIdentity {
        /// The platform process searched for.
        host: Option<u32>,
    },
    /// A value the tool can't use (the types were right).
    #[error("{0}")]
    Invalid(String),
    /// Reservations refused the operation.
    #[error(transparent)]
    Reserve(#[from] ReserveError),
    /// Messages refused the operation.
    #[error(transparent)]
    Message(#[from] MessageError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The policy can't be loaded.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A name asked for is invalid or taken.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The heartbeat failed.
    #[error(transparent)]
    Beat(#[from] BeatError),
    /// Negotiation refused the operation.
    #[error(transparent)]
    Request(#[from] crate::coordination::requests::RequestError),
    /// The task board refused the operation.
    #[error(transparent)]
    Task(#[from] crate::coordination::tasks::TaskError),
}

impl From<rusqlite::Error> for ToolError {
    fn from(e: rusqlite::Error) -> Self {
        ToolError::Store(StoreError::Sql {
            path: Default::default(),
            source: e,
        })
    }
}

/// A duration argument (`30m`, `2h`); `what` names it in the error.
pub fn duration(what: &str, s: &str) -> Result<Duration, ToolError> {
    crate::duration::parse(s).map_err(|e| ToolError::Invalid(format!("{what}: {e}")))
}

/// `d` in ms (at most `i64::MAX`).
pub fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A duration argument in ms.
pub fn duration_ms(what: &str, s: &str) -> Result<i64, ToolError> {
    duration(what, s).map(ms)
}

/// The lease asked for (`ttl`), in ms, or the policy's default.
pub fn ttl_ms(ttl: Option<&str>, rctx: &Context) -> Result<i64, ToolError> {
    match ttl {
        Some(t) => duration_ms("ttl", t),
        None => Ok(rctx.settings.default_ttl_ms),
    }
}

/// Where the caller's identity came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--agent` / `HOOKGATE_AGENT`.
    Override,
    /// The agent whose hooks recorded this platform process.
    Host(u32),
}

impl Source {
    /// For `whoami`'s `identity_from`.
    pub fn describe(&self) -> String {
        match self {
            Source::Override => "--agent / HOOKGATE_AGENT".into(),
            Source::Host(pid) => {
                format!("the hooks of this session (platform process {pid}, which started this MCP server)")
            }
        }
    }
}

/// The agent a call speaks for, after its heartbeat.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The agent.
    pub agent: Agent,
    /// Its name in the store.
    pub name: String,
    /// Where its identity came from.
    pub source: Source,
    /// hookgate's notices for it, and how many messages wait (shown with
    /// the tool's answer).
    pub notices: Vec<String>,
}

/// The server's state.
pub struct State {
    opts: Options,
    base: PathContext,
    layers: Vec<String>,
    ws: Option<Workspace>,
    store: Option<Store>,
    host: Option<u32>,
    host_started_ms: Option<i64>,
    /// `--name` / `HOOKGATE_NAME` was applied by a heartbeat.
    named: bool,
}

impl State {
    /// State for a server started with `opts`; nothing is read yet.
    pub fn new(opts: Options) -> State {
        let base = PathContext::new(&opts.cwd);
        let host = identity::host_pid();
        let host_started_ms = host.and_then(identity::process_start_ms);
        State {
            opts,
            base,
            layers: Vec::new(),
            ws: None,
            store: None,
            host,
            host_started_ms,
            named: false,
        }
    }

    /// The workspace: reloaded when a policy layer's text changed since the
    /// last call (the files are small; reading them costs microseconds).
    pub fn workspace(&mut self) -> Result<&Workspace, ToolError> {
        let layers =
            policy::layers_for(self.base.repo_root.as_deref(), self.opts.policy.as_deref())?;
        let texts: Vec<String> = layers.iter().map(|l| l.text.clone()).collect();
        if self.ws.is_none() || texts != self.layers {
            let ws =
                Workspace::with_layers(self.base.clone(), &layers, self.opts.store.as_deref())?;
            if self.ws.as_ref().map(|w| &w.store_path) != Some(&ws.store_path) {
                self.store = None;
            }
            self.ws = Some(ws);
            self.layers = texts;
        }
        match self.ws.as_ref() {
            Some(ws) => Ok(ws),
            None => unreachable!("set just above"),
        }
    }

    /// The workspace as last loaded (call [`State::workspace`] first).
    pub fn ws(&self) -> Result<&Workspace, ToolError> {
        self.ws
            .as_ref()
            .ok_or_else(|| ToolError::Invalid("workspace not loaded".into()))
    }

    /// The store, opened on first use and kept.
    pub fn store(&mut self) -> Result<&mut Store, ToolError> {
        if self.store.is_none() {
            let path: PathBuf = self.ws()?.store_path.clone();
            self.store = Some(Store::open(&path)?);
        }
        match self.store.as_mut() {
            Some(s) => Ok(s),
            None => unreachable!("opened just above"),
        }
    }

    /// Who the server speaks for now, if known: the override, else the
    /// agent its platform process's hooks recorded.
    pub fn identify(&mut self) -> Result<Option<(Agent, Source)>, ToolError> {
        if let Some(a) = self.opts.agent.as_deref().and_then(identity::from_override) {
            return Ok(Some((a, Source::Override)));
        }
        let Some(host) = self.host else {
            return Ok(None);
        };
        let presence = self.workspace()?.rctx.presence;
        let started = self.host_started_ms;
        let store = self.store()?;
        let found =
            identity::agent_of_host(store.connection(), host, started, &presence, now_ms())?;
        Ok(found.map(|a| (a, Source::Host(host))))
    }

    /// The error for a call that needs an identity and has none.
    pub fn no_identity(&self) -> ToolError {
        ToolError::NoIdentity { host: self.host }
    }

    /// Identify the caller and record the call as its heartbeat (`tool` is
    /// the action, `mcp <tool>`; `name` asks for a readable name).
    pub fn caller(&mut self, tool: &str, name: Option<&str>) -> Result<Caller, ToolError> {
        let Some((agent, source)) = self.identify()? else {
            return Err(self.no_identity());
        };
        let store_path = self.ws()?.store_path.clone();
        let snap = Snapshot::read(&store_path);
        // `--name` is asked for once; repeating it would defeat the quiet path.
        let default_name = if self.named {
            None
        } else {
            self.opts.name.clone()
        };
        let name = name.map(str::to_string).or(default_name);
        let store = self.store()?;
        let beat = presence::command_heartbeat(
            &store_path,
            snap.as_ref(),
            Some(store),
            &agent,
            &format!("mcp {tool}"),
            name.as_deref(),
            now_ms(),
        )?;
        self.named = true;
        let mut notices: Vec<String> = beat
            .notices
            .iter()
            .map(|n| format!("hookgate notice: {}", n.framed(4000)))
            .collect();
        if beat.waiting > 0 {
            notices.push(format!(
                "hookgate: {} new message{} for you: call the `inbox` tool",
                beat.waiting,
                if beat.waiting == 1 { "" } else { "s" }
            ));
        }
        Ok(Caller {
            agent,
            name: beat.name,
            source,
            notices,
        })
    }
}
