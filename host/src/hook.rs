//! The universal entrypoint: one payload in, one valid answer out, whatever
//! goes wrong in between.

use std::path::{Path, PathBuf};
use std::time::Instant;

use std::sync::{Arc, Mutex};

use crate::chain::{Runtime, Verdict};
use crate::event::{Agent, Event, Kind, Outcome};
use crate::lease_view::{LeaseView, Unavailable};
use crate::paths::{self, PathContext};
use crate::platform::{self, Adapter, Answer, RawEvent};
use crate::policy::{self, CaseFold, Policy, PolicyError};
use crate::reservations::Context;
use crate::runtime::services::SharedView;
use crate::runtime::CodeCache;

/// Largest payload read from stdin; larger ones are refused as bad input.
pub const MAX_PAYLOAD: usize = 64 << 20;

/// Options of `hookgate hook` / `explain`.
#[derive(Debug, Clone, Default)]
pub struct HookOptions {
    /// `--event`.
    pub event_flag: Option<String>,
    /// `--policy` / `$HOOKGATE_POLICY`.
    pub policy: Option<PathBuf>,
    /// `--store` / `$HOOKGATE_STORE`.
    pub store: Option<PathBuf>,
    /// `--agent` / `$HOOKGATE_AGENT`.
    pub agent: Option<String>,
    /// Write the audit record.
    pub audit: bool,
    /// The process exits right after this payload: skip tearing the wasm
    /// runtime down (unregistering types and code costs measurable time).
    pub one_shot: bool,
    /// Denials become warnings (the git guards under `HOOKGATE_GUARD=warn`).
    pub denies_warn: Option<String>,
}

/// Everything that happened for one payload.
#[derive(Debug, Clone)]
pub struct HookResult {
    /// The answer to print.
    pub answer: Answer,
    /// The normalized event, when the payload parsed.
    pub event: Option<Event>,
    /// The verdict.
    pub verdict: Verdict,
    /// Messages for stderr (never stdout).
    pub diagnostics: Vec<String>,
    /// The effective policy, when it loaded.
    pub policy: Option<Policy>,
    /// The store used for the audit record.
    pub store: Option<PathBuf>,
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(v.len());
    for p in v {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// Is `p` a path as git names one in a repository: relative, `/`
/// separated, no empty, `.` or `..` component?
fn git_path(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\\')
        && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

/// Build the normalized event from a parsed payload.
pub fn normalize(
    platform: &str,
    raw: RawEvent,
    ctx: &PathContext,
    agent_override: Option<&str>,
) -> Event {
    normalize_with(platform, raw, ctx, agent_override, false)
}

/// [`normalize`], taking paths git named (`repo_relative`) as they are.
fn normalize_with(
    platform: &str,
    raw: RawEvent,
    ctx: &PathContext,
    agent_override: Option<&str>,
    repo_relative: bool,
) -> Event {
    let one = |p: &String| {
        if repo_relative && ctx.repo_root.is_some() && git_path(p) {
            if ctx.case_insensitive {
                p.to_lowercase()
            } else {
                p.clone()
            }
        } else {
            ctx.normalize(p)
        }
    };
    let norm = |v: Vec<String>| dedup(v.iter().map(one).collect());
    Event {
        platform: platform.to_string(),
        native_event: raw.native_event,
        kind: raw.kind.unwrap_or(Kind::Other),
        tool: raw.tool,
        agent: Agent::from_session(&raw.session, raw.subagent.as_deref(), agent_override),
        cwd: ctx.cwd.display().to_string(),
        repo_root: ctx.repo_root.as_ref().map(|r| r.display().to_string()),
        writes: norm(raw.writes),
        deletes: norm(raw.deletes),
        reads: norm(raw.reads),
        command: raw.command,
        prompt: raw.prompt,
        case_insensitive: ctx.case_insensitive,
        raw_json: String::new(),
        shell: None,
        sniffed: None,
        stop_active: false,
    }
}

fn fail(
    adapter: &dyn Adapter,
    native: &str,
    what: &str,
    on_error: Outcome,
    message: String,
    diagnostics: Vec<String>,
    policy: Option<Policy>,
) -> HookResult {
    let verdict = Verdict::failure(what, on_error, message.clone());
    let mut diagnostics = diagnostics;
    diagnostics.push(format!("hookgate: {message} (on_error = {on_error})"));
    HookResult {
        answer: adapter.answer(native, &verdict.to_decision()),
        event: None,
        verdict,
        diagnostics,
        policy,
        store: None,
    }
}

/// Phase timings, printed to stderr when `HOOKGATE_TIMING=1` (for `bench/`).
struct Phases {
    on: bool,
    last: Instant,
    out: Vec<String>,
}

impl Phases {
    fn new(start: Instant) -> Phases {
        Phases {
            on: std::env::var_os("HOOKGATE_TIMING").is_some_and(|v| v == "1"),
            last: start,
            out: Vec::new(),
        }
    }
    fn mark(&mut self, phase: &str) {
        if self.on {
            let now = Instant::now();
            self.out.push(format!(
                "{phase}={}us",
                now.duration_since(self.last).as_micros()
            ));
            self.last = now;
        }
    }
    fn line(&self) -> Option<String> {
        self.on
            .then(|| format!("hookgate timing: {}", self.out.join(" ")))
    }
}

/// Handle one payload for `adapter`.
pub fn handle(adapter: &dyn Adapter, input: &str, opts: &HookOptions) -> HookResult {
    let start = Instant::now();
    let mut phases = Phases::new(start);
    let fallback_native = opts
        .event_flag
        .clone()
        .unwrap_or_else(|| "PreToolUse".into());
    let process_cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));

    // The payload is read once: for the adapter, and to cross-check the
    // platform named on the command line against its shape.
    let mut sniffed = None;
    let mut stop_active = false;
    let parsed = platform::json::object(input).and_then(|obj| {
        stop_active = stop_hook_active(&obj);
        sniffed = platform::sniff::platform(&obj)
            .filter(|s| !platform::sniff::fits(adapter.name(), s))
            .map(str::to_string);
        adapter.parse_object(&obj, opts.event_flag.as_deref())
    });
    let raw = match parsed {
        Ok(p) => p,
        Err(e) => {
            // Bad input: the fail mode comes from the policy of the process's directory.
            let ctx = PathContext::new(&process_cwd);
            let on_error = policy_on_error(ctx.repo_root.as_deref(), opts.policy.as_deref());
            return fail(
                adapter,
                &fallback_native,
                "payload",
                on_error,
                e.to_string(),
                Vec::new(),
                None,
            );
        }
    };
    let cwd = raw
        .cwd
        .as_deref()
        .map(PathBuf::from)
        .unwrap_or_else(|| process_cwd.clone());
    let mut ctx = PathContext::new(&cwd);
    let native = raw.native_event.clone();

    let layers = match policy::layers_for(ctx.repo_root.as_deref(), opts.policy.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            let on_error = PolicyError::declared_on_error(&[policy::Layer::builtin()])
                .unwrap_or(Outcome::Allow);
            return fail(
                adapter,
                &native,
                "policy",
                on_error,
                e.to_string(),
                Vec::new(),
                None,
            );
        }
    };
    let store_path = opts
        .store
        .clone()
        .unwrap_or_else(|| paths::default_store(ctx.repo_root.as_deref(), &ctx.cwd));
    let cache_dir = CodeCache::default_dir(&store_path.with_file_name("cache"));
    let policy = match policy::load_cached(&layers, &cache_dir) {
        Ok(p) => p,
        Err(e) => {
            let on_error = PolicyError::declared_on_error(&layers).unwrap_or(Outcome::Allow);
            return fail(
                adapter,
                &native,
                "policy",
                on_error,
                format!("invalid policy: {e}"),
                Vec::new(),
                None,
            );
        }
    };
    phases.mark("policy");
    let fold = match policy.case_fold {
        CaseFold::On => true,
        CaseFold::Off => false,
        CaseFold::Auto => paths::fs_folds_case(ctx.repo_root.as_deref().unwrap_or(&ctx.cwd)),
    };
    ctx = ctx.with_case_fold(fold);
    let mut event = normalize_with(
        adapter.name(),
        raw,
        &ctx,
        opts.agent.as_deref(),
        adapter.repo_relative_paths(),
    );
    event.sniffed = sniffed;
    event.stop_active = stop_active;
    let mut diagnostics = Vec::new();
    if let Some(s) = &event.sniffed {
        diagnostics.push(format!(
            "hookgate: payload looks like {s}'s, not {}'s; answering as {}",
            adapter.name(),
            adapter.name()
        ));
    }
    // The raw payload (a Write carries the whole file) is copied only for
    // validators whose policy grants it.
    if policy.validators.iter().any(|v| v.raw_json) {
        event.raw_json = input.to_string();
    }
    // A shell command's files join the event's paths before the chain.
    event.shell = crate::enrich::shell(&mut event, &ctx);
    phases.mark("normalize");

    // Every event is a heartbeat of its agent; the store also serves the
    // validators granted `reservations`.
    let rctx = Context {
        fold,
        settings: policy.reservations,
        presence: policy.presence,
    };
    let needs_store =
        event.kind != Kind::Other || policy.validators.iter().any(|v| !v.grants.is_empty());
    let mut lease: Option<Arc<Mutex<LeaseView>>> = None;
    let mut pending = false;
    let view: Option<SharedView> = if needs_store {
        match LeaseView::open(&store_path, &event, rctx) {
            Ok((v, hb)) => {
                event.agent.name = hb.name;
                pending = hb.pending;
                let v = Arc::new(Mutex::new(v));
                lease = Some(Arc::clone(&v));
                Some(v as SharedView)
            }
            Err(e) => {
                diagnostics.push(format!("hookgate: {e}"));
                Some(Arc::new(Mutex::new(Unavailable(e.to_string()))) as SharedView)
            }
        }
    } else {
        None
    };
    phases.mark("store");
    if event.kind == Kind::SessionStart && adapter.name() == "claude" {
        if let Err(e) = export_identity(&event) {
            diagnostics.push(format!("hookgate: CLAUDE_ENV_FILE not updated: {e}"));
        }
    }

    if event.kind == Kind::Other {
        // Events hookgate has no use for are allowed silently.
        return HookResult {
            answer: Answer::silent(),
            event: Some(event),
            verdict: Verdict {
                decision: Outcome::Allow,
                findings: Vec::new(),
                runs: Vec::new(),
                claims: Vec::new(),
            },
            diagnostics,
            policy: Some(policy),
            store: None,
        };
    }

    let mut verdict = if !policy.validators.iter().any(|v| v.wants(&event)) {
        // No validator runs on what this event carries: no engine needed.
        Verdict {
            decision: Outcome::Allow,
            findings: Vec::new(),
            runs: Vec::new(),
            claims: Vec::new(),
        }
    } else {
        match Runtime::new(cache_dir) {
            Ok(rt) => {
                phases.mark("engine");
                let v = rt.run_with(&policy, &event, view.clone());
                if opts.one_shot {
                    std::mem::forget(rt);
                }
                v
            }
            Err(e) => Verdict::failure("runtime", policy.on_error, e),
        }
    };
    drop(view);
    // A platform that can't ask gets what the policy says instead (before
    // leases are taken: they are taken only if the action proceeds).
    if !adapter.can_ask(&event.native_event) {
        verdict.degrade_asks(match policy.ask_fallback {
            policy::file::AskFallback::Warn => Outcome::Warn,
            policy::file::AskFallback::Deny => Outcome::Deny,
        });
    }
    if let Some(why) = &opts.denies_warn {
        verdict.degrade_denies(why);
    }
    if let Some(lease) = &lease {
        if let Ok(mut l) = lease.lock() {
            diagnostics.extend(l.apply_claims(&event, &mut verdict));
        }
    }
    if let Some(lease) = &lease {
        if let Ok(mut l) = lease.lock() {
            for f in crate::coordination::changes::on_event(
                &mut l,
                &store_path,
                &event,
                &verdict,
                &policy,
            ) {
                match f {
                    Ok(j) => verdict.add(j),
                    Err(e) => diagnostics.push(format!("hookgate: change tracking: {e}")),
                }
            }
        }
    }
    // Messages last: the mailbox lock, held from here until the answer says
    // what it carried, must not be held by a transaction of this process.
    let mut outgoing = crate::coordination::delivery::Outgoing::default();
    if let Some(lease) = &lease {
        if let Ok(mut l) = lease.lock() {
            match crate::coordination::delivery::collect(
                &mut l,
                &store_path,
                &event,
                pending,
                &policy.presence,
            ) {
                Ok((o, findings)) => {
                    findings.into_iter().for_each(|f| verdict.add(f));
                    outgoing = o;
                }
                Err(e) => diagnostics.push(format!("hookgate: messages not delivered: {e}")),
            }
        }
    }
    drop(lease);
    phases.mark("chain");
    for r in &verdict.runs {
        if let Some(e) = &r.error {
            diagnostics.push(format!("hookgate: validator `{}` failed: {e}", r.validator));
        }
    }
    if opts.audit {
        if let Err(e) = crate::store::audit::record(
            &store_path,
            &event,
            &verdict,
            start.elapsed(),
            policy.audit,
        ) {
            diagnostics.push(format!("hookgate: audit record not written: {e}"));
        }
        phases.mark("audit");
    }
    let answer = adapter.answer(&event.native_event, &verdict.to_decision());
    match outgoing.settle(&store_path, &event.agent.id, &answer) {
        Ok(0) => {}
        Ok(n) => diagnostics.push(format!(
            "hookgate: {} {} cannot show messages; {n} kept for a later hook or `hookgate inbox`",
            adapter.name(),
            event.native_event,
        )),
        Err(e) => diagnostics.push(format!("hookgate: message delivery not recorded: {e}")),
    }
    phases.mark("answer");
    diagnostics.extend(phases.line());
    HookResult {
        answer,
        event: Some(event),
        verdict,
        diagnostics,
        policy: Some(policy),
        store: Some(store_path),
    }
}

/// Has a stop hook already made the agent continue? Claude, Gemini and
/// Copilot say `stop_hook_active`; Cursor counts `loop_count`.
fn stop_hook_active(obj: &serde_json::Map<String, serde_json::Value>) -> bool {
    let flag = |k: &str| obj.get(k).and_then(serde_json::Value::as_bool) == Some(true);
    flag("stop_hook_active")
        || flag("stopHookActive")
        || obj
            .get("loop_count")
            .and_then(serde_json::Value::as_u64)
            .is_some_and(|n| n > 0)
}

/// Claude Code's SessionStart hook may append `export` lines to the file
/// named by `CLAUDE_ENV_FILE`; Claude sources it before each Bash command, so
/// `hookgate` commands the agent runs resolve to the same identity as its
/// hooks.
fn export_identity(event: &Event) -> std::io::Result<()> {
    let Some(file) = std::env::var_os("CLAUDE_ENV_FILE") else {
        return Ok(());
    };
    let quoted = format!("'{}'", event.agent.id.replace('\'', "'\\''"));
    let line = format!("export HOOKGATE_AGENT={quoted}\n");
    if let Ok(existing) = std::fs::read_to_string(&file) {
        if existing.contains(line.trim_end()) {
            return Ok(());
        }
    }
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)?;
    f.write_all(line.as_bytes())
}

fn policy_on_error(repo_root: Option<&Path>, explicit: Option<&Path>) -> Outcome {
    match policy::layers_for(repo_root, explicit) {
        Ok(layers) => match policy::load(&layers) {
            Ok(p) => p.on_error,
            Err(_) => PolicyError::declared_on_error(&layers).unwrap_or(Outcome::Allow),
        },
        Err(_) => Outcome::Allow,
    }
}

/// Handle a payload for a platform by name; platforms without an adapter yet
/// get a silent allow and a message on stderr.
pub fn handle_platform(platform: &str, input: &str, opts: &HookOptions) -> Option<HookResult> {
    let adapter = platform::adapter(platform)?;
    Some(handle(adapter.as_ref(), input, opts))
}
