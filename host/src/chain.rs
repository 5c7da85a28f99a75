//! The validator chain: run every enabled validator of the policy on one
//! event, each in a fresh sandbox, apply rollout stages, and decide.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmtime::Engine;

use crate::builtin;
use crate::event::{Event, Outcome};
use crate::platform::Decision;
use crate::policy::{Policy, Source, Stage, ValidatorSpec};
use crate::rollout;
use crate::runtime::cache::{CacheError, CacheKey};
use crate::runtime::services::{Claim, SharedView};
use crate::runtime::{self, CodeCache, GuestError, LoadedGuest};

/// Rule id recorded when a validator fails rather than judges.
pub const ERROR_RULE: &str = "hookgate:error";

/// One finding after rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Judged {
    /// Validator name.
    pub validator: String,
    /// Rule id.
    pub rule: String,
    /// Stage that applied.
    pub stage: Stage,
    /// What the validator asked for.
    pub would: Outcome,
    /// What happened.
    pub effective: Outcome,
    /// Message.
    pub message: String,
    /// Paths.
    pub paths: Vec<String>,
    /// Docs link.
    pub docs: Option<String>,
}

/// One validator's run.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// Validator name.
    pub validator: String,
    /// Its stage.
    pub stage: Stage,
    /// Wall time, load included.
    pub duration_us: u64,
    /// Of which loading, linking and the config check.
    pub load_us: u64,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// Lines it logged.
    pub logs: Vec<String>,
    /// True when its code was compiled now (cold cache).
    pub compiled_now: bool,
}

/// The chain's verdict on one event.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The decision.
    pub decision: Outcome,
    /// All findings, in validator order.
    pub findings: Vec<Judged>,
    /// All runs.
    pub runs: Vec<Run>,
    /// Leases validators asked for, to take if the event is allowed.
    #[serde(skip)]
    pub claims: Vec<PendingClaim>,
}

/// A lease a validator asked for, with the stage that governs what a lost
/// race costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingClaim {
    /// Validator name.
    pub validator: String,
    /// Its stage.
    pub stage: Stage,
    /// The request.
    pub claim: Claim,
}

impl Verdict {
    /// Add a finding after the chain ran (a lost claim) and decide again.
    pub fn add(&mut self, finding: Judged) {
        self.findings.push(finding);
        self.decision = rollout::decide(self.findings.iter().map(|f| f.effective));
    }

    /// The decision with the texts each platform shows.
    pub fn to_decision(&self) -> Decision {
        let mut d = Decision {
            outcome: self.decision,
            ..Decision::default()
        };
        for f in &self.findings {
            let mut text = format!("hookgate {}/{}: {}", f.validator, f.rule, f.message);
            if let Some(docs) = &f.docs {
                text.push_str(&format!(" (see {docs})"));
            }
            match f.effective {
                Outcome::Deny => d.deny.push(text),
                Outcome::Ask => d.ask.push(text),
                Outcome::Warn => {
                    // Capped by its stage (not by a platform's ask_fallback).
                    if f.would > Outcome::Warn && f.stage != crate::policy::Stage::Enforce {
                        text = format!(
                            "{text} [{} stage: would {}; allowed for now]",
                            f.stage, f.would
                        );
                    }
                    d.warn.push(text)
                }
                Outcome::Allow => {}
            }
        }
        d
    }

    /// Turn every effective `ask` into `to` (a platform that can't ask),
    /// saying so in the finding, and recompute the decision.
    pub fn degrade_asks(&mut self, to: Outcome) {
        self.degrade(
            Outcome::Ask,
            to,
            &format!(
                "needs a human's approval, which this platform can't ask for; ask_fallback = {to}"
            ),
        );
    }

    /// Turn every effective `deny` into a warning saying `why` (a person
    /// running a git guard with `HOOKGATE_GUARD=warn`), and recompute the
    /// decision. The audit log then records what really happened.
    pub fn degrade_denies(&mut self, why: &str) {
        self.degrade(Outcome::Deny, Outcome::Warn, why);
    }

    fn degrade(&mut self, from: Outcome, to: Outcome, why: &str) {
        let mut any = false;
        for f in &mut self.findings {
            if f.effective == from {
                f.effective = to;
                f.message = format!("{} [{why}]", f.message);
                any = true;
            }
        }
        if any {
            self.decision = self
                .findings
                .iter()
                .map(|f| f.effective)
                .max()
                .unwrap_or(Outcome::Allow);
        }
    }

    /// A verdict for a failure before any validator ran (bad payload, broken
    /// policy): one finding with the fail-mode outcome.
    pub fn failure(what: &str, on_error: Outcome, message: String) -> Verdict {
        Verdict {
            decision: on_error,
            findings: vec![Judged {
                validator: what.to_string(),
                rule: ERROR_RULE.into(),
                stage: Stage::Enforce,
                would: on_error,
                effective: on_error,
                message,
                paths: Vec::new(),
                docs: None,
            }],
            runs: Vec::new(),
            claims: Vec::new(),
        }
    }
}

/// The wasm runtime for one process.
pub struct Runtime {
    engine: Engine,
    cache: CodeCache,
    /// Components loaded in this process, by sha256: validators that share a
    /// component (the built-in guards) load and link it once.
    loaded: RefCell<Vec<(String, Rc<LoadedGuest>)>>,
}

impl Runtime {
    /// Create the engine and open the cache in `cache_dir`.
    pub fn new(cache_dir: std::path::PathBuf) -> Result<Runtime, String> {
        let engine = runtime::engine().map_err(|e| format!("wasm engine: {e:#}"))?;
        let cache = CodeCache::new(&engine, cache_dir);
        Ok(Runtime {
            engine,
            cache,
            loaded: RefCell::new(Vec::new()),
        })
    }

    /// The runtime for the store at `store`: the compiled-code cache is the
    /// user's cache directory, or `cache/` beside the store.
    pub fn for_store(store: &std::path::Path) -> Result<Runtime, String> {
        Runtime::new(CodeCache::default_dir(&store.with_file_name("cache")))
    }

    /// The cache.
    pub fn cache(&self) -> &CodeCache {
        &self.cache
    }

    /// Load a component once per process; the flag says it was compiled
    /// by this call (cold cache).
    fn load(
        &self,
        sha256: &str,
        wasm: impl FnOnce() -> Result<Vec<u8>, CacheError>,
    ) -> Result<(Rc<LoadedGuest>, bool), GuestError> {
        if let Some((_, g)) = self.loaded.borrow().iter().find(|(s, _)| s == sha256) {
            return Ok((Rc::clone(g), false));
        }
        let guest = Rc::new(LoadedGuest::load(&self.engine, &self.cache, sha256, wasm)?);
        let compiled = guest.compiled_now;
        self.loaded
            .borrow_mut()
            .push((sha256.to_string(), Rc::clone(&guest)));
        Ok((guest, compiled))
    }

    /// Load a validator's code and check its configuration (once per
    /// configuration; remembered in the cache).
    pub fn prepare(&self, spec: &ValidatorSpec) -> Result<(Rc<LoadedGuest>, bool), GuestError> {
        let (sha, (guest, compiled)) = match &spec.source {
            Source::Builtin => {
                let b = builtin::find(&spec.name).ok_or_else(|| {
                    GuestError::Load(format!("no built-in validator `{}`", spec.name))
                })?;
                (
                    b.sha256.to_string(),
                    self.load(b.sha256, || Ok(b.wasm.to_vec()))?,
                )
            }
            Source::File { path, sha256 } => {
                let bytes = std::fs::read(path)
                    .map_err(|e| GuestError::Load(format!("{}: {e}", path.display())))?;
                let actual = hex(&Sha256::digest(&bytes));
                if &actual != sha256 {
                    return Err(GuestError::Load(format!(
                        "{}: sha256 is {actual} but the policy pins {sha256}; if you rebuilt the plugin on purpose, update `sha256` in the policy",
                        path.display()
                    )));
                }
                (
                    sha256.clone(),
                    self.load(sha256, move || Ok::<_, CacheError>(bytes))?,
                )
            }
        };
        let key = CacheKey::new()
            .part(sha.as_bytes())
            .part(spec.config_json.as_bytes())
            .finish();
        // Built-ins share one component; only granted ones get the view.
        if guest.imports_reservations
            && spec.source != Source::Builtin
            && !spec.grants.iter().any(|g| g == "reservations")
        {
            return Err(GuestError::Load(format!(
                "imports the `reservations` interface, which the policy does not grant; add grants = [\"reservations\"] to validator `{}` if it should read reservations",
                spec.name
            )));
        }
        if !self.cache.config_ok(&key) {
            match guest.validate_config(&spec.config_json, spec.limits)? {
                Ok(()) => {
                    let _ = self.cache.mark_config_ok(&key);
                }
                Err(msg) => {
                    return Err(GuestError::Returned(format!(
                        "configuration refused: {msg}"
                    )))
                }
            }
        }
        Ok((guest, compiled))
    }

    /// Run the policy's chain on `event`, without the reservation store.
    pub fn run(&self, policy: &Policy, event: &Event) -> Verdict {
        self.run_with(policy, event, None)
    }

    /// Run the policy's chain on `event`; validators granted `reservations`
    /// get `view`.
    pub fn run_with(&self, policy: &Policy, event: &Event, view: Option<SharedView>) -> Verdict {
        let mut findings = Vec::new();
        let mut runs = Vec::new();
        let mut claims = Vec::new();
        for spec in policy.validators.iter().filter(|s| s.wants(event)) {
            let start = Instant::now();
            let mut compiled_now = false;
            let mut load_us = 0;
            let call = self.prepare(spec).map(|(guest, compiled)| {
                compiled_now = compiled;
                load_us = micros(start.elapsed());
                let granted = spec.grants.iter().any(|g| g == "reservations");
                let v = view.clone().filter(|_| granted);
                guest.validate(event, spec.raw_json, &spec.config_json, spec.limits, v)
            });
            let (result, logs) = match call {
                Ok(c) => {
                    claims.extend(c.claims.into_iter().map(|claim| PendingClaim {
                        validator: spec.name.clone(),
                        stage: spec.stage,
                        claim,
                    }));
                    (c.result, c.logs)
                }
                Err(e) => (Err(e), Vec::new()),
            };
            let duration = start.elapsed();
            let error = match result {
                Ok(out) => {
                    for f in out.findings {
                        let stage = spec.stage_for(&f.rule);
                        findings.push(Judged {
                            validator: spec.name.clone(),
                            effective: rollout::cap(stage, f.outcome),
                            stage,
                            would: f.outcome,
                            rule: f.rule,
                            message: f.message,
                            paths: f.paths,
                            docs: f.docs,
                        });
                    }
                    None
                }
                Err(e) => {
                    let message = format!(
                        "validator `{}` {e}; on_error = {}",
                        spec.name, spec.on_error
                    );
                    findings.push(Judged {
                        validator: spec.name.clone(),
                        rule: ERROR_RULE.into(),
                        stage: spec.stage,
                        would: spec.on_error,
                        // Failing open is never silent: the agent is told
                        // the check did not run (monitor still records only).
                        effective: rollout::cap(spec.stage, spec.on_error.max(Outcome::Warn)),
                        message,
                        paths: Vec::new(),
                        docs: None,
                    });
                    Some(e.to_string())
                }
            };
            runs.push(Run {
                validator: spec.name.clone(),
                stage: spec.stage,
                duration_us: micros(duration),
                load_us,
                error,
                logs,
                compiled_now,
            });
        }
        Verdict {
            decision: rollout::decide(findings.iter().map(|f| f.effective)),
            findings,
            runs,
            claims,
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
