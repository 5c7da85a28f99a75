//! Write hookgate validators in Rust.
//!
//! A validator is a WebAssembly component that sees one normalized hook event
//! and returns findings. This crate gives you the typed event, builders for
//! findings, a `log` function, a ready-made glob-tier evaluator, and the export
//! glue; you write one `impl Validator` and one `hookgate_sdk::validator!` line.
//!
//! ```ignore
//! use hookgate_sdk::{Event, Finding, Validator};
//!
//! #[derive(serde::Deserialize, Default)]
//! struct Config { words: Vec<String> }
//!
//! struct NoTodo;
//! impl Validator for NoTodo {
//!     type Config = Config;
//!     fn validate(event: &Event, config: &Config) -> Result<Vec<Finding>, String> {
//!         let cmd = event.command.as_deref().unwrap_or("");
//!         Ok(config.words.iter().filter(|w| cmd.contains(w.as_str()))
//!             .map(|w| Finding::warn("word", format!("command mentions {w}")))
//!             .collect())
//!     }
//! }
//! hookgate_sdk::validator!(NoTodo);
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2`. Validators run
//! without WASI: do not read files, the environment or the clock, and avoid
//! `std::collections::HashMap` with its default hasher (it asks WASI for random
//! seeds); use `BTreeMap`. A call into WASI traps, and the policy's `on_error`
//! outcome applies.

#![deny(missing_docs)]

// The generated bindings name this crate by its public path.
extern crate self as hookgate_sdk;

/// The generated WIT bindings (`hookgate:plugin@0.1.2`, world `validator`).
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/v0.1.2",
        world: "validator",
        pub_export_macro: true,
        export_macro_name: "__export_validator",
        default_bindings_module: "hookgate_sdk::bindings",
        runtime_path: "hookgate_sdk::wit_bindgen::rt",
    });
}

pub mod tiers;

pub use bindings::hookgate::plugin::types::{Agent, Event, Finding, Kind, Outcome};
pub use hookgate_glob as glob;
#[doc(hidden)]
pub use wit_bindgen;

/// The API version this SDK builds against.
pub const API_VERSION: &str = "0.1.2";

/// A validator. Implement it on a unit struct and export it with
/// [`validator!`].
pub trait Validator {
    /// The validator's configuration: its table in the policy, as JSON.
    type Config: serde::de::DeserializeOwned;

    /// Extra checks on a configuration that deserialized; called when the
    /// policy loads. Return a message that tells the person what to write.
    fn check_config(_config: &Self::Config) -> Result<(), String> {
        Ok(())
    }

    /// Judge one event. Return no findings to allow it.
    fn validate(event: &Event, config: &Self::Config) -> Result<Vec<Finding>, String>;
}

fn parse_config<V: Validator>(config: &str) -> Result<V::Config, String> {
    let text = if config.trim().is_empty() {
        "{}"
    } else {
        config
    };
    serde_json::from_str(text).map_err(|e| format!("invalid configuration: {e}"))
}

#[doc(hidden)]
pub fn __validate_config<V: Validator>(config: &str) -> Result<(), String> {
    let parsed = parse_config::<V>(config)?;
    V::check_config(&parsed)
}

#[doc(hidden)]
pub fn __validate<V: Validator>(event: &Event, config: &str) -> Result<Vec<Finding>, String> {
    let parsed = parse_config::<V>(config)?;
    V::validate(event, &parsed)
}

/// Export a [`Validator`] as the component's `validate` and
/// `validate-config` functions.
#[macro_export]
macro_rules! validator {
    ($ty:ty) => {
        #[doc(hidden)]
        struct __HookgateExport;
        impl $crate::bindings::Guest for __HookgateExport {
            fn validate_config(config: String) -> Result<(), String> {
                $crate::__validate_config::<$ty>(&config)
            }
            fn validate(
                event: $crate::Event,
                config: String,
            ) -> Result<Vec<$crate::Finding>, String> {
                $crate::__validate::<$ty>(&event, &config)
            }
        }
        $crate::bindings::__export_validator!(__HookgateExport with_types_in $crate::bindings);
    };
}

/// The shared reservation store, for validators the policy grants
/// `reservations` (`grants = ["reservations"]`). Without the grant every call
/// returns an error. A validator that never calls these functions does not
/// import the interface, and needs no grant.
pub mod reservations {
    use crate::bindings::hookgate::plugin::reservations as host;
    pub use crate::bindings::hookgate::plugin::reservations::{Holder, Mode, Presence};

    /// Live reservations of other agents that cover any of `paths` and clash
    /// with `mode` (a write asks as [`Mode::Exclusive`]).
    pub fn holders(paths: &[String], mode: Mode) -> Result<Vec<Holder>, String> {
        host::holders(paths, mode)
    }

    /// Ask for an exclusive lease on `paths` for the event's agent, taken
    /// only if the event is allowed, atomically with the decision.
    pub fn claim(paths: &[String], ttl_secs: u32, reason: &str) -> Result<(), String> {
        host::claim(paths, ttl_secs, reason)
    }

    /// The host's clock, milliseconds since the Unix epoch.
    pub fn now_ms() -> i64 {
        host::now_ms()
    }
}

/// The host's analysis of the event's shell command (`hookgate effects`):
/// what it could not settle, the commands it runs and the variables it
/// sets. The files it writes, deletes and reads are already in the event's
/// paths. Needs no grant.
pub mod shell {
    pub use crate::bindings::hookgate::plugin::shell::Analysis;

    /// The analysis of the event's command; `None` when it has none.
    pub fn current() -> Option<Analysis> {
        crate::bindings::hookgate::plugin::shell::current()
    }
}

/// Diagnostics that reach hookgate's log (never the agent).
pub mod log {
    use crate::bindings::hookgate::plugin::host::{self, Level};

    /// Log at debug level.
    pub fn debug(message: &str) {
        host::log(Level::Debug, message);
    }
    /// Log at info level.
    pub fn info(message: &str) {
        host::log(Level::Info, message);
    }
    /// Log at warn level.
    pub fn warn(message: &str) {
        host::log(Level::Warn, message);
    }
    /// Log at error level.
    pub fn error(message: &str) {
        host::log(Level::Error, message);
    }
}

impl Finding {
    /// A finding with the given outcome.
    pub fn new(rule: impl Into<String>, outcome: Outcome, message: impl Into<String>) -> Finding {
        Finding {
            rule: rule.into(),
            outcome,
            message: message.into(),
            paths: Vec::new(),
            docs: None,
        }
    }
    /// Block the action (capped by the rollout stage).
    pub fn deny(rule: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding::new(rule, Outcome::Deny, message)
    }
    /// Ask the human (capped by the rollout stage).
    pub fn ask(rule: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding::new(rule, Outcome::Ask, message)
    }
    /// Tell the agent and let the action proceed.
    pub fn warn(rule: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding::new(rule, Outcome::Warn, message)
    }
    /// Name the paths the finding is about.
    pub fn with_paths<I, S>(mut self, paths: I) -> Finding
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.paths = paths.into_iter().map(Into::into).collect();
        self
    }
    /// Point at the document that explains the rule.
    pub fn with_docs(mut self, docs: impl Into<String>) -> Finding {
        self.docs = Some(docs.into());
        self
    }
}

impl Event {
    /// Is `path` a glob pattern rather than one file? On a shell event a
    /// path with glob characters is the pattern the command names or the
    /// bound of a target only known at run time (`rm *.log`, `src/**`);
    /// elsewhere paths are literal.
    pub fn is_pattern(&self, path: &str) -> bool {
        self.command.is_some() && path.chars().any(hookgate_glob::is_meta)
    }

    /// Paths the event writes or deletes.
    pub fn written_paths(&self) -> impl Iterator<Item = &str> + Clone {
        self.writes
            .iter()
            .chain(self.deletes.iter())
            .map(String::as_str)
    }
}
