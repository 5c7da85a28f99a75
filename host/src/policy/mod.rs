//! Policy: which validators run, in which order, at which rollout stage, with
//! which limits and configuration.
//!
//! Layers are merged in order (built-in default, then `.hookgate/policy.toml`,
//! then `--policy` / `$HOOKGATE_POLICY`): top-level keys of a later layer win;
//! a validator with the same name is updated key by key (a `tier` list replaces
//! the earlier one whole); new validators are appended; `enabled = false`
//! switches one off.

pub mod diff;
pub mod file;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::builtin;
use crate::event::Outcome;
use crate::runtime::cache::CacheKey;
use crate::runtime::Limits;
pub use file::{Action, CaseFold, PolicyFile};

/// The built-in default policy (also what `hookgate init` writes).
pub const DEFAULT_POLICY: &str = include_str!("../../../policies/default.toml");
/// Name shown for the built-in layer.
pub const DEFAULT_SOURCE: &str = "<built-in default>";

/// Rollout stage; ordered from least to most strict.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Record only.
    Monitor,
    /// Deny and ask become warnings.
    Warn,
    /// As the validator says.
    Enforce,
}

impl Stage {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Monitor => "monitor",
            Stage::Warn => "warn",
            Stage::Enforce => "enforce",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in a policy file, located by line and column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file (or `<built-in default>`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

/// A policy that could not be loaded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PolicyError {
    /// A file could not be read.
    #[error("policy {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// One or more problems in the files.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
}

impl PolicyError {
    /// The `on_error` the broken policy asked for, if it can still be read
    /// (so a broken policy fails the way its author meant).
    pub fn declared_on_error(layers: &[Layer]) -> Option<Outcome> {
        layers.iter().rev().find_map(|l| {
            let v: toml::Table = toml::from_str(&l.text).ok()?;
            Outcome::parse(v.get("on_error")?.as_str()?)
        })
    }
}

/// One policy source.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Path or `<built-in default>`.
    pub source: String,
    /// Directory that relative plugin paths resolve against.
    pub base_dir: Option<PathBuf>,
    /// TOML text.
    pub text: String,
}

impl Layer {
    /// The built-in default.
    pub fn builtin() -> Layer {
        Layer {
            source: DEFAULT_SOURCE.into(),
            base_dir: None,
            text: DEFAULT_POLICY.into(),
        }
    }

    /// Read a layer from a file.
    pub fn read(path: &Path) -> Result<Layer, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(Layer {
            source: path.display().to_string(),
            base_dir: path.parent().map(Path::to_path_buf),
            text,
        })
    }
}

/// Where a validator's code comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Embedded in the binary.
    Builtin,
    /// A `.wasm` file with its pinned digest.
    File {
        /// Absolute or policy-relative path resolved.
        path: PathBuf,
        /// Expected sha256, lowercase hex.
        sha256: String,
    },
}

/// One validator, checked and merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorSpec {
    /// Name.
    pub name: String,
    /// Code.
    pub source: Source,
    /// Stage.
    pub stage: Stage,
    /// Failure outcome.
    pub on_error: Outcome,
    /// CPU and memory bounds.
    pub limits: Limits,
    /// Pass the raw payload.
    pub raw_json: bool,
    /// Stage overrides by rule id.
    pub rule_stages: BTreeMap<String, Stage>,
    /// The configuration passed to the guest, as JSON.
    pub config_json: String,
    /// Host interfaces granted beyond the event (`reservations`).
    pub grants: Vec<String>,
    /// Event contents that make it run (`writes`, `reads`, `command`,
    /// `prompt`); empty: every event.
    pub when: Vec<String>,
}

impl ValidatorSpec {
    /// Does `event` carry something this validator runs on?
    pub fn wants(&self, event: &crate::event::Event) -> bool {
        self.when.is_empty()
            || self.when.iter().any(|w| match w.as_str() {
                "writes" => !event.writes.is_empty() || !event.deletes.is_empty(),
                "reads" => !event.reads.is_empty(),
                "command" => event.command.is_some(),
                "prompt" => event.prompt.is_some(),
                _ => true,
            })
    }
}

impl ValidatorSpec {
    /// The stage that applies to `rule`.
    pub fn stage_for(&self, rule: &str) -> Stage {
        self.rule_stages.get(rule).copied().unwrap_or(self.stage)
    }
}

/// Audit retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSettings {
    /// Days kept.
    pub retention_days: u32,
    /// Events kept.
    pub max_events: u32,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            retention_days: 30,
            max_events: 100_000,
        }
    }
}

/// `[reservations]`, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationSettings {
    /// Default lease, milliseconds.
    pub default_ttl_ms: i64,
    /// Longest lease, milliseconds.
    pub max_ttl_ms: i64,
    /// Most live reservations per agent.
    pub max_per_agent: u32,
    /// Hook events renew the holder's leases.
    pub renew_on_activity: bool,
    /// Gone holders still block.
    pub gone_holders_block: bool,
}

impl Default for ReservationSettings {
    fn default() -> Self {
        ReservationSettings {
            default_ttl_ms: 30 * 60_000,
            max_ttl_ms: 8 * 3_600_000,
            max_per_agent: 200,
            renew_on_activity: true,
            gone_holders_block: false,
        }
    }
}

/// `[presence]`, checked: milliseconds since last seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceSettings {
    /// Active below this.
    pub active_ms: i64,
    /// Idle below this, stale above.
    pub idle_ms: i64,
    /// Gone above this.
    pub gone_ms: i64,
}

impl Default for PresenceSettings {
    fn default() -> Self {
        PresenceSettings {
            active_ms: 2 * 60_000,
            idle_ms: 15 * 60_000,
            gone_ms: 60 * 60_000,
        }
    }
}

/// `[coordination]`, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinationSettings {
    /// Deadline of a request made without `--wait`, ms.
    pub request_timeout_ms: i64,
    /// Release for the requester at the deadline when the holder is inactive.
    pub auto_release_inactive: bool,
    /// Reads this recent make an agent part of a path's audience, ms.
    pub read_window_ms: i64,
    /// Change notifications on.
    pub notify_changes: bool,
    /// Stale-read warnings on.
    pub stale_read_warning: bool,
}

impl Default for CoordinationSettings {
    fn default() -> Self {
        CoordinationSettings {
            request_timeout_ms: 10 * 60_000,
            auto_release_inactive: true,
            read_window_ms: 2 * 3_600_000,
            notify_changes: true,
            stale_read_warning: true,
        }
    }
}

impl CoordinationSettings {
    /// The settings negotiation uses.
    pub fn requests(&self) -> crate::coordination::requests::Settings {
        crate::coordination::requests::Settings {
            timeout_ms: self.request_timeout_ms,
            auto_release_inactive: self.auto_release_inactive,
        }
    }
}

/// `[git]`, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitSettings {
    /// How long `hookgate commit` waits for the commit lock, ms.
    pub lock_timeout_ms: i64,
    /// What a commit does with the committer's reservations.
    pub release_on_commit: file::ReleaseOnCommit,
}

impl Default for GitSettings {
    fn default() -> Self {
        GitSettings {
            lock_timeout_ms: 2 * 60_000,
            release_on_commit: file::ReleaseOnCommit::Auto,
        }
    }
}

/// `[tasks]`, checked: the task board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSettings {
    /// Claiming a task reserves its files (exclusive, all or nothing).
    pub reserve_files: bool,
    /// Lease of that reservation, milliseconds.
    pub reserve_ttl_ms: i64,
}

impl Default for TaskSettings {
    fn default() -> Self {
        TaskSettings {
            reserve_files: false,
            reserve_ttl_ms: 2 * 3_600_000,
        }
    }
}

/// Host interfaces a policy can grant to a validator.
pub const GRANTS: &[&str] = &["reservations"];

/// What `when` may name.
pub const WHEN: &[&str] = &["writes", "reads", "command", "prompt"];

/// The effective policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Default stage.
    pub default_stage: Stage,
    /// Default failure outcome.
    pub on_error: Outcome,
    /// Case folding.
    pub case_fold: CaseFold,
    /// What `ask` becomes where a platform cannot ask.
    #[serde(default)]
    pub ask_fallback: file::AskFallback,
    /// Audit retention.
    pub audit: AuditSettings,
    /// Reservation leases.
    pub reservations: ReservationSettings,
    /// Presence thresholds.
    pub presence: PresenceSettings,
    /// The task board.
    #[serde(default)]
    pub tasks: TaskSettings,
    /// `[coordination]`.
    pub coordination: CoordinationSettings,
    /// `[git]`.
    #[serde(default)]
    pub git: GitSettings,
    /// Validators in order.
    pub validators: Vec<ValidatorSpec>,
    /// The layers that made it.
    pub sources: Vec<String>,
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |i| offset - i - 1) + 1;
    (line, col)
}

struct Diags<'a> {
    layer: &'a Layer,
    out: Vec<Diagnostic>,
}

impl Diags<'_> {
    fn at(
        &mut self,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let (line, column) = line_col(&self.layer.text, span.start);
        self.out.push(Diagnostic {
            file: self.layer.source.clone(),
            line,
            column,
            message: message.into(),
            help,
        });
    }
}

fn suggest(word: &str, candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(word, c), *c))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, c)| c.to_string())
}

/// Help text for serde's own messages from `toml`.
fn serde_help(message: &str) -> Option<String> {
    if message.contains("unknown field") {
        if let Some(exp) = message.split("expected one of ").nth(1) {
            return Some(format!("valid keys here: {}", exp.trim()));
        }
    }
    if message.contains("unknown variant") {
        if let Some(exp) = message.split("expected one of ").nth(1) {
            return Some(format!("write one of {}", exp.trim()));
        }
        if let Some(exp) = message.split("expected ").nth(1) {
            return Some(format!("write {}", exp.trim()));
        }
    }
    if message.contains("missing field") {
        return Some("add the field shown; see policies/default.toml for an example".into());
    }
    None
}

const RULE_CHARS: &str = "letters, digits and - _ . : /";

fn valid_rule_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/'))
}

/// Parse one layer into its file form, reporting every problem found.
pub fn parse_layer(layer: &Layer) -> Result<PolicyFile, Vec<Diagnostic>> {
    let mut d = Diags {
        layer,
        out: Vec::new(),
    };
    let file: PolicyFile = match toml::from_str(&layer.text) {
        Ok(f) => f,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let msg = e.message().trim().to_string();
            let help = serde_help(&msg);
            d.at(span, msg, help);
            return Err(d.out);
        }
    };
    if let Some(v) = &file.version {
        if *v.get_ref() != 1 {
            d.at(
                v.span(),
                format!("unsupported policy version {}", v.get_ref()),
                Some("write `version = 1`".into()),
            );
        }
    }
    let mut dur = |sp: &Option<toml::Spanned<String>>, key: &str| {
        if let Some(v) = sp {
            match crate::duration::parse(v.get_ref()) {
                Ok(x) if x.as_secs() >= 1 => {}
                Ok(_) => d.at(v.span(), format!("`{key}` must be at least 1s"), None),
                Err(e) => d.at(v.span(), format!("`{key}`: {e}"), None),
            }
        }
    };
    if let Some(r) = &file.reservations {
        dur(&r.default_ttl, "default_ttl");
        dur(&r.max_ttl, "max_ttl");
    }
    if let Some(p) = &file.presence {
        dur(&p.active, "active");
        dur(&p.idle, "idle");
        dur(&p.gone, "gone");
    }
    if let Some(t) = &file.tasks {
        dur(&t.reserve_ttl, "reserve_ttl");
    }
    if let Some(g) = &file.git {
        dur(&g.lock_timeout, "lock_timeout");
    }
    if let Some(c) = &file.coordination {
        dur(&c.request_timeout, "request_timeout");
        dur(&c.read_window, "read_window");
    }
    let builtins = builtin::names();
    let mut seen: Vec<&str> = Vec::new();
    for v in &file.validator {
        let name = v.name.get_ref().as_str();
        if seen.contains(&name) {
            d.at(
                v.name.span(),
                format!("validator `{name}` appears twice in this file"),
                Some("merge the two tables into one".into()),
            );
        }
        seen.push(name);
        match (&v.path, &v.sha256) {
            (None, Some(s)) => d.at(
                s.span(),
                "`sha256` without `path`",
                Some("built-ins are pinned by the binary; remove `sha256` or add `path`".into()),
            ),
            (Some(p), None) => d.at(
                p.span(),
                format!("plugin `{name}` has a `path` but no `sha256`"),
                Some("add `sha256 = \"<64 hex digits>\"` (run `sha256sum` on the .wasm)".into()),
            ),
            (Some(_), Some(s)) => {
                let h = s.get_ref();
                if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    d.at(
                        s.span(),
                        "`sha256` must be 64 hex digits",
                        Some("copy the first field of `sha256sum plugin.wasm`".into()),
                    );
                }
            }
            (None, None) => {
                if !builtins.contains(&name) && v.enabled != Some(false) {
                    let help = match suggest(name, &builtins) {
                        Some(s) => format!("did you mean `{s}`? Built-ins: {}; a user plugin needs `path` and `sha256`", builtins.join(", ")),
                        None => format!("built-ins: {}; a user plugin needs `path` and `sha256`", builtins.join(", ")),
                    };
                    d.at(
                        v.name.span(),
                        format!("unknown built-in validator `{name}`"),
                        Some(help),
                    );
                }
            }
        }
        if let Some(l) = &v.limits {
            if let Some(f) = l.fuel_ms {
                if !(1..=10_000).contains(&f) {
                    d.at(
                        v.name.span(),
                        format!("validator `{name}`: limits.fuel_ms = {f} is out of range"),
                        Some("use 1 to 10000 (milliseconds of CPU per event)".into()),
                    );
                }
            }
            if let Some(m) = l.memory_mb {
                if !(2..=4096).contains(&m) {
                    d.at(
                        v.name.span(),
                        format!("validator `{name}`: limits.memory_mb = {m} is out of range"),
                        Some("use 2 to 4096 (a Rust guest needs about 2 MiB to start)".into()),
                    );
                }
            }
        }
        if let Some(w) = &v.when {
            for name in w.get_ref() {
                if !WHEN.contains(&name.as_str()) {
                    d.at(
                        w.span(),
                        format!("unknown `when` value `{name}`"),
                        Some(format!(
                            "use any of {}, or [] for every event",
                            WHEN.join(", ")
                        )),
                    );
                }
            }
        }
        if let Some(g) = &v.grants {
            for name in g.get_ref() {
                if !GRANTS.contains(&name.as_str()) {
                    d.at(
                        g.span(),
                        format!("unknown grant `{name}`"),
                        Some(format!("grants: {}", GRANTS.join(", "))),
                    );
                }
            }
        }
        if let Some(rules) = &v.rules {
            for id in rules.keys() {
                if !valid_rule_id(id) {
                    d.at(
                        v.name.span(),
                        format!("rule id `{id}` in `rules` is not valid"),
                        Some(format!("use 1-64 of {RULE_CHARS}")),
                    );
                }
            }
        }
        if let Some(tiers) = &v.tier {
            let mut ids: Vec<String> = Vec::new();
            for t in tiers.get_ref() {
                if t.paths.is_empty() {
                    d.at(
                        tiers.span(),
                        "a tier with no `paths`",
                        Some("add `paths = [\"glob\", ...]`".into()),
                    );
                }
                for p in &t.paths {
                    if let Err(e) = hookgate_glob::Pattern::new(p.get_ref(), false) {
                        d.at(p.span(), format!("pattern `{}`: {e}", p.get_ref()), Some("patterns use `/`, `*`, `**`, `?`, `[..]`, `{a,b}`, and `!` to exclude".into()));
                    }
                }
                let id = tier_id(t);
                if let Some(sp) = &t.id {
                    if !valid_rule_id(sp.get_ref()) {
                        d.at(
                            sp.span(),
                            format!("tier id `{}` is not valid", sp.get_ref()),
                            Some(format!("use 1-64 of {RULE_CHARS}")),
                        );
                    }
                }
                if ids.contains(&id) {
                    d.at(
                        t.id.as_ref().map_or(tiers.span(), |s| s.span()),
                        format!("two tiers have the id `{id}`"),
                        Some("give each tier a distinct `id`".into()),
                    );
                }
                ids.push(id);
            }
        }
    }
    if d.out.is_empty() {
        Ok(file)
    } else {
        Err(d.out)
    }
}

fn tier_id(t: &file::TierFile) -> String {
    match &t.id {
        Some(id) => id.get_ref().clone(),
        None => {
            let action = match t.action {
                Action::Block => "block",
                Action::Checkpoint => "checkpoint",
                Action::Warn => "warn",
            };
            let first = t.paths.first().map(|p| p.get_ref().as_str()).unwrap_or("");
            format!("{action}:{first}")
        }
    }
}

/// A validator while layers merge.
struct Merging {
    name: String,
    source: Source,
    stage: Option<Stage>,
    on_error: Option<Outcome>,
    enabled: bool,
    limits: Limits,
    raw_json: bool,
    grants: Option<Vec<String>>,
    when: Option<Vec<String>>,
    rules: BTreeMap<String, Stage>,
    tiers: Option<Vec<file::TierFile>>,
    config: Option<toml::Table>,
}

/// Merge layers (first is lowest) into the effective policy.
pub fn load(layers: &[Layer]) -> Result<Policy, PolicyError> {
    let mut diags = Vec::new();
    let mut files = Vec::new();
    for l in layers {
        match parse_layer(l) {
            Ok(f) => files.push((l, f)),
            Err(mut d) => diags.append(&mut d),
        }
    }
    if !diags.is_empty() {
        return Err(PolicyError::Invalid(diags));
    }
    let mut default_stage = Stage::Warn;
    let mut on_error = Outcome::Allow;
    let mut case_fold = CaseFold::Auto;
    let mut ask_fallback = file::AskFallback::Warn;
    let mut audit = AuditSettings::default();
    let mut reservations = ReservationSettings::default();
    let mut presence = PresenceSettings::default();
    let mut tasks = TaskSettings::default();
    let mut coordination = CoordinationSettings::default();
    let mut git = GitSettings::default();
    let ms = |s: &toml::Spanned<String>| {
        crate::duration::parse(s.get_ref()).map_or(0, |d| d.as_millis() as i64)
    };
    let mut merged: Vec<Merging> = Vec::new();
    for (layer, f) in files {
        if let Some(r) = &f.reservations {
            if let Some(v) = &r.default_ttl {
                reservations.default_ttl_ms = ms(v);
            }
            if let Some(v) = &r.max_ttl {
                reservations.max_ttl_ms = ms(v);
            }
            reservations.max_per_agent = r.max_per_agent.unwrap_or(reservations.max_per_agent);
            reservations.renew_on_activity = r
                .renew_on_activity
                .unwrap_or(reservations.renew_on_activity);
            reservations.gone_holders_block = r
                .gone_holders_block
                .unwrap_or(reservations.gone_holders_block);
        }
        if let Some(p) = &f.presence {
            if let Some(v) = &p.active {
                presence.active_ms = ms(v);
            }
            if let Some(v) = &p.idle {
                presence.idle_ms = ms(v);
            }
            if let Some(v) = &p.gone {
                presence.gone_ms = ms(v);
            }
        }
        if let Some(c) = &f.coordination {
            if let Some(v) = &c.request_timeout {
                coordination.request_timeout_ms = ms(v);
            }
            if let Some(v) = &c.read_window {
                coordination.read_window_ms = ms(v);
            }
            coordination.auto_release_inactive = c
                .auto_release_inactive
                .unwrap_or(coordination.auto_release_inactive);
            coordination.notify_changes = c.notify_changes.unwrap_or(coordination.notify_changes);
            coordination.stale_read_warning = c
                .stale_read_warning
                .unwrap_or(coordination.stale_read_warning);
        }
        if let Some(g) = &f.git {
            if let Some(v) = &g.lock_timeout {
                git.lock_timeout_ms = ms(v);
            }
            git.release_on_commit = g.release_on_commit.unwrap_or(git.release_on_commit);
        }
        if let Some(t) = &f.tasks {
            tasks.reserve_files = t.reserve_files.unwrap_or(tasks.reserve_files);
            if let Some(v) = &t.reserve_ttl {
                tasks.reserve_ttl_ms = ms(v);
            }
        }
        default_stage = f.default_stage.unwrap_or(default_stage);
        on_error = f.on_error.unwrap_or(on_error);
        case_fold = f.case_fold.unwrap_or(case_fold);
        ask_fallback = f.ask_fallback.unwrap_or(ask_fallback);
        if let Some(a) = &f.audit {
            audit.retention_days = a.retention_days.unwrap_or(audit.retention_days);
            audit.max_events = a.max_events.unwrap_or(audit.max_events);
        }
        for v in f.validator {
            let name = v.name.into_inner();
            let idx = match merged.iter().position(|m| m.name == name) {
                Some(i) => i,
                None => {
                    merged.push(Merging {
                        name: name.clone(),
                        source: Source::Builtin,
                        stage: None,
                        on_error: None,
                        enabled: true,
                        limits: Limits::default(),
                        raw_json: false,
                        grants: None,
                        when: None,
                        rules: BTreeMap::new(),
                        tiers: None,
                        config: None,
                    });
                    merged.len() - 1
                }
            };
            let m = &mut merged[idx];
            if let (Some(p), Some(s)) = (v.path, v.sha256) {
                let p = PathBuf::from(p.into_inner());
                let path = match (&layer.base_dir, p.is_absolute()) {
                    (Some(base), false) => base.join(p),
                    _ => p,
                };
                m.source = Source::File {
                    path,
                    sha256: s.into_inner().to_ascii_lowercase(),
                };
            }
            m.stage = v.stage.or(m.stage);
            m.on_error = v.on_error.or(m.on_error);
            m.enabled = v.enabled.unwrap_or(m.enabled);
            if let Some(l) = v.limits {
                m.limits.fuel_ms = l.fuel_ms.unwrap_or(m.limits.fuel_ms);
                m.limits.memory_mb = l.memory_mb.unwrap_or(m.limits.memory_mb);
            }
            m.raw_json = v.raw_json.unwrap_or(m.raw_json);
            if let Some(g) = v.grants {
                m.grants = Some(g.into_inner());
            }
            if let Some(w) = v.when {
                m.when = Some(w.into_inner());
            }
            if let Some(r) = v.rules {
                m.rules.extend(r);
            }
            if let Some(t) = v.tier {
                m.tiers = Some(t.into_inner());
            }
            if let Some(c) = v.config {
                let c = c.into_inner();
                match &mut m.config {
                    Some(existing) => existing.extend(c),
                    None => m.config = Some(c),
                }
            }
        }
    }
    let validators = merged
        .into_iter()
        .filter(|m| m.enabled)
        .map(|m| {
            let stage = m.stage.unwrap_or(default_stage);
            let mut rule_stages = BTreeMap::new();
            let mut cfg = serde_json::Map::new();
            if let Some(c) = m.config {
                for (k, v) in c {
                    cfg.insert(k, toml_to_json(v));
                }
            }
            if let Some(tiers) = &m.tiers {
                let list: Vec<serde_json::Value> = tiers
                    .iter()
                    .map(|t| {
                        let id = tier_id(t);
                        if let Some(s) = t.stage {
                            rule_stages.insert(id.clone(), s);
                        }
                        serde_json::json!({
                            "id": id,
                            "action": t.action,
                            "paths": t.paths.iter().map(|p| p.get_ref().clone()).collect::<Vec<_>>(),
                            "reason": t.reason,
                            "docs": t.docs,
                        })
                    })
                    .collect();
                cfg.insert("tier".into(), serde_json::Value::Array(list));
            }
            rule_stages.extend(m.rules);
            if m.source == Source::Builtin {
                if let Some(b) = builtin::find(&m.name) {
                    for (k, v) in b.host_config {
                        cfg.insert((*k).to_string(), serde_json::Value::String((*v).to_string()));
                    }
                }
            }
            let grants = match m.grants {
                Some(g) => g,
                None => builtin::find(&m.name)
                    .filter(|_| m.source == Source::Builtin)
                    .map(|b| b.grants.iter().map(|g| (*g).to_string()).collect())
                    .unwrap_or_default(),
            };
            let when = match m.when {
                Some(w) => w,
                None => builtin::find(&m.name)
                    .filter(|_| m.source == Source::Builtin)
                    .map(|b| b.when.iter().map(|g| (*g).to_string()).collect())
                    .unwrap_or_default(),
            };
            ValidatorSpec {
                grants,
                when,
                name: m.name,
                source: m.source,
                stage,
                on_error: m.on_error.unwrap_or(on_error),
                limits: m.limits,
                raw_json: m.raw_json,
                rule_stages,
                config_json: serde_json::Value::Object(cfg).to_string(),
            }
        })
        .collect();
    let mut problems = Vec::new();
    if reservations.default_ttl_ms > reservations.max_ttl_ms {
        problems.push("[reservations] default_ttl is longer than max_ttl".to_string());
    }
    if !(presence.active_ms <= presence.idle_ms && presence.idle_ms <= presence.gone_ms) {
        problems.push("[presence] needs active <= idle <= gone".to_string());
    }
    if tasks.reserve_ttl_ms > reservations.max_ttl_ms {
        problems.push("[tasks] reserve_ttl is longer than [reservations] max_ttl".to_string());
    }
    if !problems.is_empty() {
        return Err(PolicyError::Invalid(
            problems
                .into_iter()
                .map(|message| Diagnostic {
                    file: layers.last().map(|l| l.source.clone()).unwrap_or_default(),
                    line: 1,
                    column: 1,
                    message,
                    help: Some("fix the values; durations read like 30m, 8h".into()),
                })
                .collect(),
        ));
    }
    Ok(Policy {
        default_stage,
        on_error,
        case_fold,
        ask_fallback,
        audit,
        reservations,
        presence,
        tasks,
        coordination,
        git,
        validators,
        sources: layers.iter().map(|l| l.source.clone()).collect(),
    })
}

fn toml_to_json(v: toml::Value) -> serde_json::Value {
    match v {
        toml::Value::String(s) => serde_json::Value::String(s),
        toml::Value::Integer(i) => serde_json::Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        toml::Value::Boolean(b) => serde_json::Value::Bool(b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(toml_to_json).collect())
        }
        toml::Value::Table(t) => {
            serde_json::Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

/// [`load`], remembered in `cache_dir` by the exact text of the layers and the
/// identity of this executable: parsing and checking TOML costs more than a
/// hook can spare on every event, and the layers rarely change. An edited
/// layer has a new key; a cached entry that does not read back is rebuilt.
pub fn load_cached(layers: &[Layer], cache_dir: &Path) -> Result<Policy, PolicyError> {
    let mut key = CacheKey::new().part(env!("CARGO_PKG_VERSION").as_bytes());
    if let Ok(meta) = std::env::current_exe().and_then(std::fs::metadata) {
        key = key.part(&meta.len().to_le_bytes());
        if let Ok(t) = meta.modified() {
            let t = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            key = key.part(&t.as_nanos().to_le_bytes());
        }
    }
    for l in layers {
        let base = l
            .base_dir
            .as_deref()
            .map(|p| p.as_os_str().as_encoded_bytes());
        key = key
            .part(l.source.as_bytes())
            .part(base.unwrap_or_default())
            .part(l.text.as_bytes());
    }
    let key = key.finish();
    let path = cache_dir.join(format!("policy-{key}.json"));
    if let Ok(bytes) = std::fs::read(&path) {
        if let Ok(p) = serde_json::from_slice::<Policy>(&bytes) {
            return Ok(p);
        }
    }
    let policy = load(layers)?;
    if let Ok(json) = serde_json::to_vec(&policy) {
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::create_dir_all(cache_dir).is_ok() && std::fs::write(&tmp, json).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
    Ok(policy)
}

/// The layers for a repository: the built-in default, `.hookgate/policy.toml`
/// under `repo_root` if present, and `explicit` (`--policy`, `$HOOKGATE_POLICY`).
pub fn layers_for(
    repo_root: Option<&Path>,
    explicit: Option<&Path>,
) -> Result<Vec<Layer>, PolicyError> {
    let mut layers = vec![Layer::builtin()];
    if let Some(root) = repo_root {
        let p = root.join(".hookgate").join("policy.toml");
        if p.is_file() {
            layers.push(Layer::read(&p)?);
        }
    }
    if let Some(e) = explicit {
        layers.push(Layer::read(e)?);
    }
    Ok(layers)
}

/// The JSON Schema of the policy file format.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(PolicyFile);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(text: &str) -> Layer {
        Layer {
            source: "p.toml".into(),
            base_dir: None,
            text: text.into(),
        }
    }

    #[test]
    fn default_policy_loads() {
        let p = load(&[Layer::builtin()]).unwrap();
        assert_eq!(p.validators.len(), 4);
        assert_eq!(p.validators[3].name, "shell-write");
        assert_eq!(p.validators[3].stage_for("no-verify"), Stage::Enforce);
        assert_eq!(p.validators[3].stage_for("opaque"), Stage::Monitor);
        assert_eq!(p.validators[0].name, "lock-check");
        assert_eq!(p.validators[0].grants, ["reservations"]);
        assert_eq!(p.validators[1].name, "write-guard");
        assert!(p.validators[1].grants.is_empty());
        assert_eq!(p.validators[1].stage_for("lockfiles"), Stage::Monitor);
        assert_eq!(p.validators[1].stage_for("secrets"), Stage::Enforce);
        assert_eq!(p.reservations.default_ttl_ms, 30 * 60_000);
        assert_eq!(p.presence.gone_ms, 3_600_000);
    }

    #[test]
    fn reservation_settings_are_checked() {
        let err = parse_layer(&layer("[reservations]\ndefault_ttl = \"soon\"\n")).unwrap_err();
        assert_eq!(err[0].line, 2);
        let err = parse_layer(&layer(
            "[[validator]]\nname = \"write-guard\"\ngrants = [\"network\"]\n",
        ))
        .unwrap_err();
        assert!(
            err[0].help.as_deref().unwrap().contains("reservations"),
            "{err:?}"
        );
        let bad = layer("[presence]\nactive = \"2h\"\ngone = \"1h\"\n");
        assert!(load(&[Layer::builtin(), bad]).is_err());
        let ok = layer("[reservations]\ndefault_ttl = \"10m\"\n[presence]\ngone = \"5h\"\n");
        let p = load(&[Layer::builtin(), ok]).unwrap();
        assert_eq!(
            (p.reservations.default_ttl_ms, p.presence.gone_ms),
            (600_000, 5 * 3_600_000)
        );
    }

    #[test]
    fn task_settings_merge_and_are_checked() {
        let p = load(&[Layer::builtin()]).unwrap();
        assert_eq!(p.tasks, TaskSettings::default());
        assert!(!p.tasks.reserve_files);
        let on = layer("[tasks]\nreserve_files = true\nreserve_ttl = \"45m\"\n");
        let p = load(&[Layer::builtin(), on]).unwrap();
        assert_eq!(
            (p.tasks.reserve_files, p.tasks.reserve_ttl_ms),
            (true, 45 * 60_000)
        );
        let err = parse_layer(&layer("[tasks]\nreserve_ttl = \"later\"\n")).unwrap_err();
        assert_eq!(err[0].line, 2);
        assert!(parse_layer(&layer("[tasks]\nreserve = true\n")).is_err());
        let long = layer("[tasks]\nreserve_ttl = \"9h\"\n");
        assert!(
            load(&[Layer::builtin(), long]).is_err(),
            "longer than max_ttl"
        );
    }

    #[test]
    fn errors_point_at_the_line_with_help() {
        let err = parse_layer(&layer(
            "version = 1\n[[validator]]\nname = \"write-gaurd\"\n",
        ))
        .unwrap_err();
        assert_eq!(err[0].line, 3);
        assert!(
            err[0].help.as_deref().unwrap().contains("write-guard"),
            "{err:?}"
        );
        let err = parse_layer(&layer(
            "version = 1\n[[validator]]\nname = \"write-guard\"\nstage = \"enforced\"\n",
        ))
        .unwrap_err();
        assert_eq!(err[0].line, 4);
        assert!(
            err[0].help.as_deref().unwrap().contains("enforce"),
            "{err:?}"
        );
        let err =
            parse_layer(&layer("[[validator]]\nname = \"x\"\npath = \"x.wasm\"\n")).unwrap_err();
        assert!(err[0].message.contains("sha256"), "{err:?}");
        let err = parse_layer(&layer("[[validator]]\nname = \"write-guard\"\n[[validator.tier]]\naction = \"block\"\npaths = [\"ok\", \"[bad\"]\n")).unwrap_err();
        assert_eq!((err[0].line, err[0].column), (5, 16));
    }

    #[test]
    fn layers_merge_by_validator_name() {
        let over = layer("default_stage = \"monitor\"\n[[validator]]\nname = \"read-guard\"\nstage = \"warn\"\n[[validator]]\nname = \"write-guard\"\nenabled = false\n[[validator]]\nname = \"lock-check\"\nenabled = false\n[[validator]]\nname = \"shell-write\"\nenabled = false\n");
        let p = load(&[Layer::builtin(), over]).unwrap();
        assert_eq!(p.validators.len(), 1);
        assert_eq!(p.validators[0].name, "read-guard");
        assert_eq!(p.validators[0].stage, Stage::Warn);
        assert_eq!(p.default_stage, Stage::Monitor);
        assert!(p.validators[0].config_json.contains("private-keys"));
    }

    #[test]
    fn cached_policy_equals_parsed_and_follows_edits() {
        let dir = tempfile::tempdir().unwrap();
        let a = layer("[[validator]]\nname = \"read-guard\"\nstage = \"monitor\"\n");
        let layers = [Layer::builtin(), a];
        let first = load_cached(&layers, dir.path()).unwrap();
        assert_eq!(first, load(&layers).unwrap());
        assert_eq!(load_cached(&layers, dir.path()).unwrap(), first);
        let b = layer("[[validator]]\nname = \"read-guard\"\nstage = \"warn\"\n");
        let edited = load_cached(&[Layer::builtin(), b], dir.path()).unwrap();
        assert_eq!(edited.validators[2].stage, Stage::Warn);
        // A damaged entry is rebuilt, not trusted.
        for e in std::fs::read_dir(dir.path()).unwrap() {
            std::fs::write(e.unwrap().path(), b"{garbage").unwrap();
        }
        assert_eq!(load_cached(&layers, dir.path()).unwrap(), first);
    }

    #[test]
    fn broken_policy_still_tells_its_on_error() {
        let l = layer("on_error = \"deny\"\n[[validator]]\nname = 3\n");
        assert!(load(std::slice::from_ref(&l)).is_err());
        assert_eq!(PolicyError::declared_on_error(&[l]), Some(Outcome::Deny));
    }

    #[test]
    fn hostile_policies_are_errors_with_locations_not_panics() {
        let hostile = [
            "",
            "version = 2",
            "version = -1\n",
            "version = 99999999999999999999",
            "[[validator]]",
            "[[validator]]\nname = \"\"",
            "[[validator]]\nname = \"write-guard\"\nlimits = { fuel_ms = 18446744073709551615 }",
            "[[validator]]\nname = \"write-guard\"\nlimits = { memory_mb = -5 }",
            "[[validator]]\nname = \"write-guard\"\n[[validator.tier]]\naction = \"block\"\npaths = []",
            "[[validator]]\nname = \"write-guard\"\n[[validator.tier]]\naction = \"nuke\"\npaths = [\"a\"]",
            "[[validator]]\nname = \"write-guard\"\n[[validator.tier]]\naction = \"block\"\npaths = [\"{{{{{{a}}}}}}\", \"\\\\x\"]",
            "[[validator]]\nname = \"x\"\npath = \"/dev/zero\"\nsha256 = \"zz\"",
            "[[validator]]\nname = \"write-guard\"\nrules = { \"bad id!\" = \"warn\" }",
            "[[validator]]\nname = \"write-guard\"\n[[validator]]\nname = \"write-guard\"",
            "on_error = \"explode\"",
            "default_stage = 3",
            "[audit]\nretention_days = \"forever\"",
            "unknown_key = 1",
            "\u{0}\u{1}\u{2}",
            &"[".repeat(10_000),
            &format!("a = {}", "[".repeat(5_000)),
        ];
        for text in hostile {
            match load(&[Layer::builtin(), layer(text)]) {
                Ok(_) => assert!(text.is_empty(), "accepted {text:?}"),
                Err(PolicyError::Invalid(d)) => {
                    assert!(!d.is_empty());
                    for x in &d {
                        assert!(x.line >= 1 && x.column >= 1, "{x:?}");
                        assert!(!x.message.is_empty());
                    }
                }
                Err(e) => panic!("{text:?}: {e}"),
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = load(&[Layer::builtin(), layer(&text)]);
        }

        #[test]
        fn arbitrary_validator_tables_never_panic(
            name in "[a-z-]{0,12}",
            stage in "[a-z]{0,8}",
            fuel in proptest::num::i64::ANY,
            pat in "\\PC{0,20}",
        ) {
            let text = format!(
                "[[validator]]\nname = {name:?}\nstage = {stage:?}\nlimits = {{ fuel_ms = {fuel} }}\n[[validator.tier]]\naction = \"block\"\npaths = [{pat:?}]\n"
            );
            let _ = load(&[Layer::builtin(), layer(&text)]);
        }
    }
}
