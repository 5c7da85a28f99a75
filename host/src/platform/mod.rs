//! Platform adapters: parse a platform's hook payload into a [`RawEvent`] and
//! answer a [`Decision`] in that platform's exact dialect.

pub mod claude;

use crate::event::{Kind, Outcome};

/// A payload as the platform sent it, before path normalization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawEvent {
    /// The platform's event name.
    pub native_event: String,
    /// Normalized kind.
    pub kind: Option<Kind>,
    /// Tool name.
    pub tool: Option<String>,
    /// Platform session id.
    pub session: String,
    /// Subagent id.
    pub subagent: Option<String>,
    /// Working directory, as given.
    pub cwd: Option<String>,
    /// Paths written, as given.
    pub writes: Vec<String>,
    /// Paths deleted, as given.
    pub deletes: Vec<String>,
    /// Paths read, as given.
    pub reads: Vec<String>,
    /// Shell command.
    pub command: Option<String>,
    /// User prompt.
    pub prompt: Option<String>,
}

/// Why a payload could not be understood.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    /// Nothing on stdin.
    #[error("empty hook payload on stdin")]
    Empty,
    /// Not JSON.
    #[error("hook payload is not JSON: {0}")]
    NotJson(String),
    /// JSON of the wrong shape.
    #[error("hook payload has the wrong shape: {0}")]
    Shape(String),
}

/// What the chain decided, ready to render.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// The most severe effective outcome.
    pub outcome: Outcome,
    /// Reasons of effective denials.
    pub deny: Vec<String>,
    /// Reasons of effective asks.
    pub ask: Vec<String>,
    /// Warnings (warn-stage findings and warn outcomes).
    pub warn: Vec<String>,
}

/// The process's answer to the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Exactly what goes to stdout.
    pub stdout: String,
    /// Exit code.
    pub exit_code: i32,
}

impl Answer {
    /// Exit 0, nothing on stdout: no opinion.
    pub fn silent() -> Answer {
        Answer {
            stdout: String::new(),
            exit_code: 0,
        }
    }
}

/// A platform dialect.
pub trait Adapter {
    /// Name on the command line.
    fn name(&self) -> &'static str;
    /// Parse a payload; `event_flag` is `--event`, used when the payload names none.
    fn parse(&self, input: &str, event_flag: Option<&str>) -> Result<RawEvent, ParseError>;
    /// Render a decision for `native_event`.
    fn answer(&self, native_event: &str, decision: &Decision) -> Answer;
}

/// Platform names the CLI accepts (DESIGN §6).
pub const PLATFORMS: &[&str] = &[
    "claude", "gemini", "cursor", "windsurf", "codex", "copilot", "vscode", "cline", "kiro",
    "droid", "qwen",
];

/// The adapter for `name`, if this build has one.
pub fn adapter(name: &str) -> Option<Box<dyn Adapter>> {
    match name {
        "claude" => Some(Box::new(claude::Claude)),
        _ => None,
    }
}

/// Cap text at `max` characters (platforms cap hook strings; Claude at 10 000).
pub fn cap_text(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
