//! The policy file format: the TOML a person writes, with source spans kept
//! for error messages. [`super::Policy`] is the checked, layered result.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::Stage;
use crate::event::Outcome;

/// One policy file (`.hookgate/policy.toml`).
#[derive(Debug, Clone, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
#[schemars(title = "hookgate policy")]
pub struct PolicyFile {
    /// Format version; must be 1.
    #[schemars(with = "u32")]
    pub version: Option<Spanned<i64>>,
    /// Stage of validators and rules that name none (default `warn`).
    pub default_stage: Option<Stage>,
    /// Outcome when a validator fails (trap, CPU or memory limit, bad output):
    /// `allow` fails open, `deny` fails closed. Default `allow`.
    pub on_error: Option<Outcome>,
    /// Case folding of paths: `auto` (ask the file system), `on`, `off`.
    pub case_fold: Option<CaseFold>,
    /// What an `ask` becomes where the platform cannot ask the human
    /// (Codex, Cursor, Copilot, Windsurf, Kiro, Cline, and events other
    /// than a pre-tool one): `warn` (default: the agent is told, the action
    /// proceeds) or `deny`. Block tiers deny everywhere regardless.
    pub ask_fallback: Option<AskFallback>,
    /// Audit log retention.
    pub audit: Option<AuditFile>,
    /// Reservation leases.
    pub reservations: Option<ReservationsFile>,
    /// When an agent counts as active, idle, stale or gone.
    pub presence: Option<PresenceFile>,
    /// The task board (`hookgate task`).
    pub tasks: Option<TasksFile>,
    /// Messages, negotiated release and change notifications.
    pub coordination: Option<CoordinationFile>,
    /// `hookgate commit` and the git guards.
    pub git: Option<GitFile>,
    /// Validators, in the order they run.
    #[serde(default)]
    pub validator: Vec<ValidatorFile>,
}

/// What an `ask` becomes where a platform cannot ask.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum AskFallback {
    /// Tell the agent; the action proceeds.
    #[default]
    Warn,
    /// Block the action.
    Deny,
}

/// Case folding of paths.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum CaseFold {
    /// Detect from the file system at the repository root.
    #[default]
    Auto,
    /// Always fold case.
    On,
    /// Never fold case.
    Off,
}

/// `[audit]`.
#[derive(Debug, Clone, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AuditFile {
    /// Days an audit record is kept (default 30).
    pub retention_days: Option<u32>,
    /// Most events kept (default 100000).
    pub max_events: Option<u32>,
}

/// `[reservations]`.
#[derive(Debug, Clone, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReservationsFile {
    /// Lease of a reservation that names no `--ttl` (default `30m`).
    #[schemars(with = "Option<String>")]
    pub default_ttl: Option<Spanned<String>>,
    /// Longest `--ttl` or `extend` accepted (default `8h`).
    #[schemars(with = "Option<String>")]
    pub max_ttl: Option<Spanned<String>>,
    /// Most live reservations one agent may hold (default 200).
    pub max_per_agent: Option<u32>,
    /// Each hook event of a holder pushes its leases' expiry forward by their
    /// TTL, so a lease lapses only a TTL after its holder stopped working
    /// (default true).
    pub renew_on_activity: Option<bool>,
    /// Reservations of a holder whose presence is `gone` still block
    /// (default false: they stop blocking).
    pub gone_holders_block: Option<bool>,
}

/// `[presence]`: thresholds on the time since an agent was last seen.
#[derive(Debug, Clone, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PresenceFile {
    /// Seen within this long: `active` (default `2m`).
    #[schemars(with = "Option<String>")]
    pub active: Option<Spanned<String>>,
    /// Seen within this long: `idle`, after that `stale` (default `15m`).
    #[schemars(with = "Option<String>")]
    pub idle: Option<Spanned<String>>,
    /// Not seen for this long: `gone` (default `1h`).
    #[schemars(with = "Option<String>")]
    pub gone: Option<Spanned<String>>,
}

/// `[coordination]`: negotiated release and change notifications.
#[derive(Debug, Clone, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CoordinationFile {
    /// A release request made without `--wait` escalates after this long
    /// unanswered (default `10m`).
    #[schemars(with = "Option<String>")]
    pub request_timeout: Option<Spanned<String>>,
    /// At a request's deadline, release the reservation for the requester
    /// when its holder is no longer active (idle, stale or gone); otherwise
    /// the operator is told (default true).
    pub auto_release_inactive: Option<bool>,
    /// When a path is written, the agents that read it within this long
    /// (and not since) are told (default `2h`).
    #[schemars(with = "Option<String>")]
    pub read_window: Option<Spanned<String>>,
    /// Tell agents with an overlapping shared or intent reservation, or a
    /// recent read, when a path is written, released or committed
    /// (default true).
    pub notify_changes: Option<bool>,
    /// Warn an agent that writes a file another agent changed after it
    /// last read it (default true).
    pub stale_read_warning: Option<bool>,
}

/// What `hookgate commit` does with the committer's reservations on the
/// committed paths.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseOnCommit {
    /// Release the leases writes took automatically (`auto_reserve`) on
    /// committed paths; keep reservations taken on purpose.
    #[default]
    Auto,
    /// Release every reservation of the committer that covers a committed
    /// path.
    All,
    /// Keep them all.
    None,
}

/// `[git]`: `hookgate commit` and the git guards.
#[derive(Debug, Clone, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct GitFile {
    /// How long `hookgate commit` waits for the repository's commit lock
    /// (default `2m`).
    #[schemars(with = "Option<String>")]
    pub lock_timeout: Option<Spanned<String>>,
    /// After a commit: `auto` releases the automatic leases on committed
    /// paths, `all` every reservation of the committer covering one, `none`
    /// keeps them (default `auto`).
    pub release_on_commit: Option<ReleaseOnCommit>,
}

/// `[tasks]`: the task board.
#[derive(Debug, Clone, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TasksFile {
    /// Claiming a task (`hookgate task claim`, `task next`) also reserves
    /// its files exclusively for the claimant, all or nothing: when another
    /// agent holds one of them, the claim is refused (default false).
    pub reserve_files: Option<bool>,
    /// Lease of the reservation taken on claim (default `2h`; at most
    /// `[reservations] max_ttl`). Released when the task is done.
    #[schemars(with = "Option<String>")]
    pub reserve_ttl: Option<Spanned<String>>,
}

/// One `[[validator]]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidatorFile {
    /// Built-in name (`write-guard`, `read-guard`) or the name of a user plugin.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// A user plugin: path to its `.wasm`, relative to this policy file.
    #[schemars(with = "Option<String>")]
    pub path: Option<Spanned<String>>,
    /// sha256 of the plugin's `.wasm` (64 hex digits); required with `path`.
    #[schemars(with = "Option<String>")]
    pub sha256: Option<Spanned<String>>,
    /// Rollout stage of this validator.
    pub stage: Option<Stage>,
    /// Outcome when this validator fails (overrides the top-level `on_error`).
    pub on_error: Option<Outcome>,
    /// Set false to switch off a validator that an earlier layer enabled.
    pub enabled: Option<bool>,
    /// CPU and memory bounds.
    pub limits: Option<LimitsFile>,
    /// Pass the platform's raw payload to the guest (costly for large writes).
    pub raw_json: Option<bool>,
    /// Run only on events that carry one of these: `writes` (written or
    /// deleted paths), `reads`, `command`, `prompt`. Empty or absent: every
    /// event (built-ins name theirs).
    #[schemars(with = "Option<Vec<String>>")]
    pub when: Option<Spanned<Vec<String>>>,
    /// Host interfaces the guest may call beyond the event: `reservations`.
    #[schemars(with = "Option<Vec<String>>")]
    pub grants: Option<Spanned<Vec<String>>>,
    /// Per-rule stage overrides: `rules = { "rule-id" = "monitor" }`.
    pub rules: Option<BTreeMap<String, Stage>>,
    /// Path tiers (`write-guard`, `read-guard`).
    #[schemars(with = "Option<Vec<TierFile>>")]
    pub tier: Option<Spanned<Vec<TierFile>>>,
    /// Free-form configuration passed to the guest as JSON.
    #[schemars(with = "Option<BTreeMap<String, serde_json::Value>>")]
    pub config: Option<Spanned<toml::Table>>,
}

/// `limits = { fuel_ms = 20, memory_mb = 32 }`.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// CPU budget per event in milliseconds (1–10000), enforced as fuel.
    pub fuel_ms: Option<u64>,
    /// Linear memory cap in MiB (2–4096).
    pub memory_mb: Option<u64>,
}

/// What a tier does to a matching path.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Deny.
    Block,
    /// Ask the human.
    Checkpoint,
    /// Warn the agent.
    Warn,
}

/// One `[[validator.tier]]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TierFile {
    /// Rule id in findings and reports (default `<action>:<first path>`).
    #[schemars(with = "Option<String>")]
    pub id: Option<Spanned<String>>,
    /// `block` → deny · `checkpoint` → ask the human · `warn` → warn.
    pub action: Action,
    /// Glob patterns; `!pattern` excludes.
    #[schemars(with = "Vec<String>")]
    pub paths: Vec<Spanned<String>>,
    /// Why; shown with the finding.
    pub reason: Option<String>,
    /// Where a person reads more.
    pub docs: Option<String>,
    /// Stage of this rule (overrides the validator's).
    pub stage: Option<Stage>,
}
