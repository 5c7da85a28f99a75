//! Loading one guest component and calling it under limits.

use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, ResourceLimiter, Store, Trap};

use super::bindings::v0_1_2 as v1;
use super::cache::{CacheError, CodeCache};
use super::services::{Claim, SharedView, MAX_CLAIMS, MAX_CLAIM_PATHS};
use super::FUEL_PER_MS;
use crate::event::{Event, Finding, Kind, Outcome};
use crate::presence::State;
use crate::reservations::Mode;
use v1::hookgate::plugin::{
    host as wit_host, reservations as wit_res, shell as wit_shell, types as wit,
};

/// Most findings one call may return.
pub const MAX_FINDINGS: usize = 64;
/// Longest finding message kept (longer ones are cut).
pub const MAX_MESSAGE: usize = 2_000;
/// Longest rule id accepted.
pub const MAX_RULE: usize = 64;
/// Most log lines kept per call, and the longest line.
pub const MAX_LOG_LINES: usize = 32;
const MAX_LOG_LINE: usize = 1_000;

/// CPU and memory bounds for one guest call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// CPU budget in milliseconds, enforced as fuel.
    pub fuel_ms: u64,
    /// Linear memory cap in MiB.
    pub memory_mb: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel_ms: 20,
            memory_mb: 32,
        }
    }
}

/// Why a guest did not produce findings.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum GuestError {
    /// The wasm could not be read, compiled or linked.
    #[error("could not load: {0}")]
    Load(String),
    /// Built against a plugin API this host does not know.
    #[error("{0}")]
    Version(String),
    /// Used up its CPU budget.
    #[error("ran out of its CPU budget ({0} ms)")]
    Timeout(u64),
    /// Tried to grow memory past its cap.
    #[error("exceeded its memory limit ({0} MiB)")]
    Memory(u64),
    /// Trapped (panic, unreachable, call into an import it was not granted).
    #[error("trapped: {0}")]
    Trap(String),
    /// Returned `err(...)`.
    #[error("returned an error: {0}")]
    Returned(String),
    /// Returned output the host refuses.
    #[error("returned invalid output: {0}")]
    Garbage(String),
}

/// Per-store state: the memory limiter, captured log lines, and the services
/// the guest was granted.
pub struct GuestState {
    memory_cap: usize,
    memory_exceeded: bool,
    logs: Vec<String>,
    reservations: Option<SharedView>,
    claims: Vec<Claim>,
    shell: Option<wit_shell::Analysis>,
}

const NOT_GRANTED: &str =
    "the `reservations` interface is not granted to this validator; add grants = [\"reservations\"] to its policy table";

fn mode_from(m: wit_res::Mode) -> Mode {
    match m {
        wit_res::Mode::Exclusive => Mode::Exclusive,
        wit_res::Mode::Shared => Mode::Shared,
        wit_res::Mode::Intent => Mode::Intent,
    }
}

impl wit_res::Host for GuestState {
    fn holders(
        &mut self,
        paths: Vec<String>,
        mode: wit_res::Mode,
    ) -> Result<Vec<wit_res::Holder>, String> {
        let view = self.reservations.as_ref().ok_or(NOT_GRANTED)?;
        if paths.len() > MAX_CLAIM_PATHS {
            return Err(format!("at most {MAX_CLAIM_PATHS} paths per call"));
        }
        let conflicts = view
            .lock()
            .map_err(|_| "reservation store unavailable".to_string())?
            .holders(&paths, mode_from(mode))?;
        Ok(conflicts
            .into_iter()
            .map(|c| wit_res::Holder {
                reservation: c.hold.label(),
                agent_id: c.hold.agent,
                agent_name: c.hold.agent_name,
                patterns: c.hold.patterns,
                mode: match c.hold.mode {
                    Mode::Exclusive => wit_res::Mode::Exclusive,
                    Mode::Shared => wit_res::Mode::Shared,
                    Mode::Intent => wit_res::Mode::Intent,
                },
                reason: c.hold.reason,
                since_ms: c.hold.created_ms,
                expires_ms: c.hold.expires_ms,
                presence: match c.hold.holder_state {
                    State::Active => wit_res::Presence::Active,
                    State::Idle => wit_res::Presence::Idle,
                    State::Stale => wit_res::Presence::Stale,
                    State::Gone => wit_res::Presence::Gone,
                },
                auto: c.hold.auto,
                example: c.example,
            })
            .collect())
    }

    fn claim(&mut self, paths: Vec<String>, ttl_secs: u32, reason: String) -> Result<(), String> {
        if self.reservations.is_none() {
            return Err(NOT_GRANTED.into());
        }
        if self.claims.len() >= MAX_CLAIMS || paths.len() > MAX_CLAIM_PATHS {
            return Err(format!(
                "at most {MAX_CLAIMS} claims of {MAX_CLAIM_PATHS} paths per event"
            ));
        }
        if paths.is_empty() {
            return Ok(());
        }
        self.claims.push(Claim {
            paths,
            ttl_secs,
            reason: truncate(&sanitize(&reason), 200),
        });
        Ok(())
    }

    fn now_ms(&mut self) -> i64 {
        crate::store::now_ms()
    }
}

impl ResourceLimiter for GuestState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_cap {
            self.memory_exceeded = true;
            return Err(wasmtime::Error::msg("memory limit exceeded"));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }

    fn instances(&self) -> usize {
        16
    }
    fn tables(&self) -> usize {
        16
    }
    fn memories(&self) -> usize {
        4
    }
}

impl wit_host::Host for GuestState {
    fn log(&mut self, level: wit_host::Level, message: String) {
        if self.logs.len() >= MAX_LOG_LINES {
            return;
        }
        let level = match level {
            wit_host::Level::Debug => "debug",
            wit_host::Level::Info => "info",
            wit_host::Level::Warn => "warn",
            wit_host::Level::Error => "error",
        };
        self.logs.push(format!(
            "{level}: {}",
            truncate(&sanitize(&message), MAX_LOG_LINE)
        ));
    }
}

impl wit::Host for GuestState {}

impl wit_shell::Host for GuestState {
    fn current(&mut self) -> Option<wit_shell::Analysis> {
        self.shell.clone()
    }
}

/// The event's shell analysis as the `shell` interface hands it out.
fn shell_analysis(e: &Event) -> Option<wit_shell::Analysis> {
    let a = e.shell.as_ref()?;
    Some(wit_shell::Analysis {
        opaque: a.opaque,
        reasons: a.reasons.clone(),
        unknown: a.unknown.clone(),
        unbounded: a.unbounded,
        bounds: a.bounds.clone(),
        commands: a.commands.clone(),
        assigns: a.assigns.clone(),
    })
}

/// What a successful call produced.
#[derive(Debug, Clone, Default)]
pub struct GuestOutput {
    /// Validated findings.
    pub findings: Vec<Finding>,
}

/// The result of one call: output or error, plus what the guest logged and
/// how long it took.
#[derive(Debug, Clone)]
pub struct GuestCall {
    /// Findings or the reason there are none.
    pub result: Result<GuestOutput, GuestError>,
    /// Lines the guest logged through the host.
    pub logs: Vec<String>,
    /// Leases the guest asked for.
    pub claims: Vec<Claim>,
    /// Wall time of instantiate + call.
    pub duration: Duration,
}

/// A component ready to instantiate.
pub struct LoadedGuest {
    pre: v1::ValidatorPre<GuestState>,
    /// True when the component was compiled during this load (cold cache).
    pub compiled_now: bool,
    /// The component imports the `reservations` interface.
    pub imports_reservations: bool,
}

/// Check the guest's API version; returns whether it imports `reservations`.
fn api_version(engine: &Engine, component: &Component) -> Result<bool, GuestError> {
    let ty = component.component_type();
    let mut found = None;
    let mut reservations = false;
    for (name, _) in ty.imports(engine) {
        if let Some(rest) = name.strip_prefix("hookgate:plugin/") {
            if let Some((iface, version)) = rest.split_once('@') {
                found = Some(version.to_string());
                reservations |= iface == "reservations";
            }
        }
    }
    let has_validate = ty.exports(engine).any(|(n, _)| n == "validate");
    if !has_validate {
        return Err(GuestError::Version(
            "not a hookgate validator: it exports no `validate` function (build it against hookgate-sdk)".into(),
        ));
    }
    match found {
        Some(v) if !super::bindings::SUPPORTED.contains(&v.as_str()) => {
            Err(GuestError::Version(format!(
                "built against hookgate:plugin@{v}; this hookgate runs {}",
                super::bindings::SUPPORTED.join(", ")
            )))
        }
        _ => Ok(reservations),
    }
}

impl LoadedGuest {
    /// Load (from the cache, compiling on a miss) and link a guest.
    pub fn load(
        engine: &Engine,
        cache: &CodeCache,
        sha256: &str,
        wasm: impl FnOnce() -> Result<Vec<u8>, CacheError>,
    ) -> Result<LoadedGuest, GuestError> {
        let (component, compiled_now) = cache
            .load(engine, sha256, wasm)
            .map_err(|e| GuestError::Load(e.to_string()))?;
        let imports_reservations = api_version(engine, &component)?;
        let mut linker: Linker<GuestState> = Linker::new(engine);
        v1::Validator::add_to_linker::<GuestState, HasSelf<GuestState>>(&mut linker, |s| s)
            .map_err(|e| GuestError::Load(format!("{e:#}")))?;
        // Validators get no WASI: whatever std links is a trap if called.
        linker
            .define_unknown_imports_as_traps(&component)
            .map_err(|e| GuestError::Load(format!("{e:#}")))?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(|e| GuestError::Load(format!("{e:#}")))?;
        let pre = v1::ValidatorPre::new(pre).map_err(|e| GuestError::Load(format!("{e:#}")))?;
        Ok(LoadedGuest {
            pre,
            compiled_now,
            imports_reservations,
        })
    }

    fn store(
        &self,
        limits: Limits,
        reservations: Option<SharedView>,
    ) -> Result<Store<GuestState>, GuestError> {
        let cap = usize::try_from(limits.memory_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        let mut store = Store::new(
            self.pre.engine(),
            GuestState {
                memory_cap: cap,
                memory_exceeded: false,
                logs: Vec::new(),
                reservations,
                claims: Vec::new(),
                shell: None,
            },
        );
        store.limiter(|s| s as &mut dyn ResourceLimiter);
        store
            .set_fuel(limits.fuel_ms.saturating_mul(FUEL_PER_MS))
            .map_err(|e| GuestError::Load(format!("{e:#}")))?;
        Ok(store)
    }

    fn classify(store: &Store<GuestState>, limits: Limits, e: wasmtime::Error) -> GuestError {
        if store.data().memory_exceeded {
            return GuestError::Memory(limits.memory_mb);
        }
        if let Some(Trap::OutOfFuel) = e.downcast_ref::<Trap>() {
            return GuestError::Timeout(limits.fuel_ms);
        }
        let text = format!("{e:#}");
        if text.contains("exceeds memory limits") || text.contains("memory minimum size") {
            return GuestError::Memory(limits.memory_mb);
        }
        GuestError::Trap(truncate(&sanitize(&text.replace('\n', " ")), 500))
    }

    /// Ask the guest whether it accepts `config`. `Ok(Err(msg))` is a refusal.
    pub fn validate_config(
        &self,
        config: &str,
        limits: Limits,
    ) -> Result<Result<(), String>, GuestError> {
        let mut store = self.store(limits, None)?;
        let inst = match self.pre.instantiate(&mut store) {
            Ok(i) => i,
            Err(e) => return Err(Self::classify(&store, limits, e)),
        };
        match inst.call_validate_config(&mut store, config) {
            Ok(r) => Ok(r.map_err(|m| truncate(&sanitize(&m), MAX_MESSAGE))),
            Err(e) => Err(Self::classify(&store, limits, e)),
        }
    }

    /// Judge one event in a fresh store; `reservations` is the granted view
    /// of the store, if any.
    pub fn validate(
        &self,
        event: &Event,
        raw_json: bool,
        config: &str,
        limits: Limits,
        reservations: Option<SharedView>,
    ) -> GuestCall {
        let start = Instant::now();
        let mut logs = Vec::new();
        let mut claims = Vec::new();
        let result = (|| {
            let mut store = self.store(limits, reservations)?;
            store.data_mut().shell = shell_analysis(event);
            let ev = to_wit(event, raw_json);
            let out = match self.pre.instantiate(&mut store) {
                Ok(inst) => inst.call_validate(&mut store, &ev, config),
                Err(e) => Err(e),
            };
            logs = std::mem::take(&mut store.data_mut().logs);
            claims = std::mem::take(&mut store.data_mut().claims);
            match out {
                Ok(Ok(findings)) => check_output(findings),
                Ok(Err(msg)) => Err(GuestError::Returned(truncate(&sanitize(&msg), MAX_MESSAGE))),
                Err(e) => Err(Self::classify(&store, limits, e)),
            }
        })();
        if result.is_err() {
            // A guest that failed gets none of what it asked for.
            claims.clear();
        }
        GuestCall {
            result,
            logs,
            claims,
            duration: start.elapsed(),
        }
    }
}

fn to_wit(e: &Event, raw_json: bool) -> wit::Event {
    wit::Event {
        platform: e.platform.clone(),
        native_event: e.native_event.clone(),
        kind: match e.kind {
            Kind::PreTool => wit::Kind::PreTool,
            Kind::PostTool => wit::Kind::PostTool,
            Kind::Prompt => wit::Kind::Prompt,
            Kind::SessionStart => wit::Kind::SessionStart,
            Kind::SessionEnd => wit::Kind::SessionEnd,
            Kind::Stop => wit::Kind::Stop,
            Kind::PreCommit => wit::Kind::PreCommit,
            Kind::PrePush => wit::Kind::PrePush,
            Kind::Other => wit::Kind::Other,
        },
        tool: e.tool.clone(),
        agent: wit::Agent {
            id: e.agent.id.clone(),
            name: e.agent.name.clone(),
            session: e.agent.session.clone(),
            subagent: e.agent.subagent.clone(),
        },
        cwd: e.cwd.clone(),
        repo_root: e.repo_root.clone(),
        writes: e.writes.clone(),
        deletes: e.deletes.clone(),
        reads: e.reads.clone(),
        command: e.command.clone(),
        prompt: e.prompt.clone(),
        raw_json: raw_json.then(|| e.raw_json.clone()),
        case_insensitive: e.case_insensitive,
    }
}

fn valid_rule(rule: &str) -> bool {
    !rule.is_empty()
        && rule.len() <= MAX_RULE
        && rule
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/'))
}

fn check_output(findings: Vec<wit::Finding>) -> Result<GuestOutput, GuestError> {
    if findings.len() > MAX_FINDINGS {
        return Err(GuestError::Garbage(format!(
            "{} findings; at most {MAX_FINDINGS}",
            findings.len()
        )));
    }
    let mut out = Vec::with_capacity(findings.len());
    for f in findings {
        if !valid_rule(&f.rule) {
            return Err(GuestError::Garbage(format!(
                "rule id {:?} is not 1–{MAX_RULE} characters of [A-Za-z0-9-_.:/]",
                truncate(&f.rule, 80)
            )));
        }
        out.push(Finding {
            rule: f.rule,
            outcome: match f.outcome {
                wit::Outcome::Allow => Outcome::Allow,
                wit::Outcome::Warn => Outcome::Warn,
                wit::Outcome::Ask => Outcome::Ask,
                wit::Outcome::Deny => Outcome::Deny,
            },
            message: truncate(&sanitize(&f.message), MAX_MESSAGE),
            paths: f
                .paths
                .into_iter()
                .take(64)
                .map(|p| truncate(&sanitize(&p), 512))
                .collect(),
            docs: f.docs.map(|d| truncate(&sanitize(&d), 512)),
        });
    }
    Ok(GuestOutput { findings: out })
}

/// Replace control characters (except newline and tab) so guest text cannot
/// smuggle terminal escapes or NULs into answers and logs.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// Cut `s` to at most `max` bytes on a character boundary, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}
