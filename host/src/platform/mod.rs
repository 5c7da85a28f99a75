//! Platform adapters: parse a platform's hook payload into a [`RawEvent`] and
//! answer a [`Decision`] in that platform's exact dialect
//! (../shared/reference/hook-protocols.md). One module per dialect; the
//! Claude dialect serves the platforms that copy it.

pub mod claude;
pub mod cline;
pub mod copilot;
pub mod cursor;
pub mod gemini;
pub mod git;
pub mod json;
pub mod patch;
pub mod sniff;
pub mod tools;
pub mod windsurf;

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

impl Decision {
    /// The asks and warnings, for platforms that show them as one note.
    pub fn notes(&self) -> Vec<String> {
        self.ask.iter().chain(&self.warn).cloned().collect()
    }

    /// Every reason: denials, asks and warnings.
    pub fn reasons(&self) -> Vec<String> {
        self.deny
            .iter()
            .chain(&self.ask)
            .chain(&self.warn)
            .cloned()
            .collect()
    }
}

/// The process's answer to the platform.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answer {
    /// Exactly what goes to stdout.
    pub stdout: String,
    /// What goes to stderr before any diagnostics (the block reason of the
    /// platforms that take it there).
    pub stderr: String,
    /// Exit code.
    pub exit_code: i32,
}

impl Answer {
    /// Exit 0, nothing on stdout: no opinion.
    pub fn silent() -> Answer {
        Answer::default()
    }

    /// Exit 0 with one JSON object on stdout.
    pub fn json(v: &serde_json::Value) -> Answer {
        Answer {
            stdout: format!("{v}\n"),
            ..Answer::default()
        }
    }

    /// Exit 2 with the reason on stderr and nothing on stdout: the only
    /// block Windsurf and Kiro know.
    pub fn exit2(reason: &str) -> Answer {
        let reason = if reason.trim().is_empty() {
            "blocked by hookgate"
        } else {
            reason
        };
        Answer {
            stdout: String::new(),
            stderr: format!("{reason}\n"),
            exit_code: 2,
        }
    }
}

/// A platform dialect.
pub trait Adapter {
    /// Name on the command line.
    fn name(&self) -> &'static str;
    /// Parse a payload; `event_flag` is `--event`, used when the payload names none.
    fn parse(&self, input: &str, event_flag: Option<&str>) -> Result<RawEvent, ParseError> {
        self.parse_object(&json::object(input)?, event_flag)
    }
    /// Parse a payload already read as a JSON object (parsed once, also for
    /// [`sniff::platform`]).
    fn parse_object(
        &self,
        obj: &serde_json::Map<String, serde_json::Value>,
        event_flag: Option<&str>,
    ) -> Result<RawEvent, ParseError>;
    /// Render a decision for `native_event`. An `ask` reaches here only
    /// where [`Adapter::can_ask`] says the platform can ask.
    fn answer(&self, native_event: &str, decision: &Decision) -> Answer;
    /// Are the payload's paths already repository-relative as git names
    /// them (the git guards)? Then they are taken as they are, not resolved
    /// through the file system: a committed symlink is the link itself, and
    /// a commit of 100 files is not 100 path walks.
    fn repo_relative_paths(&self) -> bool {
        false
    }
    /// Can this event ask the human? Where it can't, the policy's
    /// `ask_fallback` turns an ask into a warning or a denial first.
    fn can_ask(&self, native_event: &str) -> bool {
        let _ = native_event;
        false
    }
}

/// Platform names the CLI accepts (DESIGN §6).
pub const PLATFORMS: &[&str] = &[
    "claude", "gemini", "cursor", "windsurf", "codex", "copilot", "vscode", "cline", "kiro",
    "droid", "qwen", "kimi",
];

/// The adapter for `name`.
pub fn adapter(name: &str) -> Option<Box<dyn Adapter>> {
    Some(match name {
        "claude" => Box::new(claude::CLAUDE),
        "codex" => Box::new(claude::CODEX),
        "vscode" => Box::new(claude::VSCODE),
        "droid" => Box::new(claude::DROID),
        "qwen" => Box::new(claude::QWEN),
        "kimi" => Box::new(claude::KIMI),
        "gemini" => Box::new(gemini::Gemini),
        "cursor" => Box::new(cursor::Cursor),
        "windsurf" => Box::new(windsurf::WINDSURF),
        "kiro" => Box::new(windsurf::KIRO),
        "copilot" => Box::new(copilot::Copilot),
        "cline" => Box::new(cline::Cline),
        _ => return None,
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::String),
            prop_oneof![
                Just("PreToolUse"),
                Just("BeforeTool"),
                Just("preToolUse"),
                Just("beforeReadFile"),
                Just("pre_run_command"),
                Just("apply_patch"),
                Just("*** Begin Patch\n*** Add File: a\n*** End Patch"),
                Just("write_file"),
                Just("bash"),
                Just("{\"command\":\"ls\"}"),
                Just("Stop"),
            ]
            .prop_map(|s| Value::String(s.into())),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("hook_event_name".to_string()),
                        Just("hookName".to_string()),
                        Just("agent_action_name".to_string()),
                        Just("tool_name".to_string()),
                        Just("toolName".to_string()),
                        Just("toolArgs".to_string()),
                        Just("tool_input".to_string()),
                        Just("tool_info".to_string()),
                        Just("preToolUse".to_string()),
                        Just("parameters".to_string()),
                        Just("command".to_string()),
                        Just("file_path".to_string()),
                        Just("path".to_string()),
                        Just("operations".to_string()),
                        Just("workspace_roots".to_string()),
                        "[a-z_]{1,8}"
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Every adapter parses or refuses any JSON, and answers every
        /// outcome validly: exit 0, 1 (Kiro's warning) or 2 (a Windsurf or
        /// Kiro block), stdout empty, one JSON object, or Kiro's context text.
        #[test]
        fn every_adapter_parses_or_refuses_and_answers_validly(v in json_value()) {
            let text = v.to_string();
            for name in PLATFORMS {
                let a = adapter(name).expect("every platform has an adapter");
                let native = match a.parse(&text, Some("PreToolUse")) {
                    Ok(raw) => raw.native_event,
                    Err(_) => "PreToolUse".into(),
                };
                for outcome in [Outcome::Allow, Outcome::Warn, Outcome::Ask, Outcome::Deny] {
                    let d = Decision { outcome, deny: vec!["d".into()], ask: vec!["a".into()], warn: vec!["w".into()] };
                    let ans = a.answer(&native, &d);
                    prop_assert!([0, 1, 2].contains(&ans.exit_code));
                    if ans.exit_code != 0 {
                        prop_assert!(matches!(*name, "windsurf" | "kiro"), "{name} exited {}", ans.exit_code);
                        prop_assert!(!ans.stderr.trim().is_empty());
                    }
                    if !ans.stdout.is_empty() && *name != "kiro" {
                        prop_assert!(serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&ans.stdout).is_ok(), "{name}: {}", ans.stdout);
                    }
                }
            }
        }

        #[test]
        fn arbitrary_text_never_panics_an_adapter(s in "\\PC{0,300}") {
            for name in PLATFORMS {
                let _ = adapter(name).expect("adapter").parse(&s, Some("PreToolUse"));
            }
            let _ = patch::parse(&s);
        }
    }
}
