//! Gemini CLI (reference §2). Events `BeforeTool`, `AfterTool`,
//! `BeforeAgent`, `AfterAgent`, `SessionStart`, `SessionEnd`; timeouts in
//! milliseconds. Gemini reads stdout (or, when stdout is empty, stderr) as
//! the hook's output whatever the exit code, and denies on any exit ≥ 2
//! with text: so hookgate always exits 0, prints nothing or exactly one
//! JSON object, and never writes JSON to stderr.

use serde_json::{json, Map, Value};

use super::json::{event_name, str_field};
use super::tools::{call, tool, Access, Tool};
use super::{cap_text, Adapter, Answer, Decision, ParseError, RawEvent};
use crate::event::{Kind, Outcome};

/// Gemini CLI.
pub struct Gemini;

const TOOLS: &[Tool] = &[
    tool(
        &["write_file", "replace"],
        Access::Write,
        &["file_path", "absolute_path", "path"],
        true,
    ),
    tool(
        &["read_file"],
        Access::Read,
        &["file_path", "absolute_path", "path"],
        true,
    ),
    tool(
        &["read_many_files"],
        Access::Read,
        &["include", "paths"],
        false,
    ),
    tool(
        &[
            "list_directory",
            "glob",
            "grep_search",
            "search_file_content",
        ],
        Access::Read,
        &["dir_path", "path"],
        false,
    ),
    tool(&["run_shell_command"], Access::Shell, &["command"], true),
];

/// Gemini shows long texts in full; keep them readable.
const MAX_TEXT: usize = 9_000;

fn kind_of(event: &str) -> Kind {
    match event {
        "BeforeTool" => Kind::PreTool,
        "AfterTool" => Kind::PostTool,
        "BeforeAgent" => Kind::Prompt,
        "AfterAgent" => Kind::Stop,
        "SessionStart" => Kind::SessionStart,
        "SessionEnd" => Kind::SessionEnd,
        _ => Kind::Other,
    }
}

impl Adapter for Gemini {
    fn name(&self) -> &'static str {
        "gemini"
    }

    /// `{"decision":"ask"}` opens Gemini's confirmation dialog (source
    /// behaviour, reference §2.4).
    fn can_ask(&self, native_event: &str) -> bool {
        native_event == "BeforeTool"
    }

    fn parse_object(
        &self,
        obj: &Map<String, Value>,
        event_flag: Option<&str>,
    ) -> Result<RawEvent, ParseError> {
        let native = event_name(obj, &["hook_event_name"], event_flag)?;
        let kind = kind_of(&native);
        let mut raw = RawEvent {
            kind: Some(kind),
            session: str_field(obj, "session_id")?
                .unwrap_or("unknown")
                .to_string(),
            cwd: str_field(obj, "cwd")?.map(str::to_string),
            ..RawEvent::default()
        };
        match kind {
            Kind::PreTool | Kind::PostTool => {
                let input = call(
                    TOOLS,
                    obj,
                    &["tool_name"],
                    &["tool_input"],
                    &native,
                    &mut raw,
                )?;
                // `dir_path` runs the shell command elsewhere.
                if raw.tool.as_deref() == Some("run_shell_command") {
                    if let Some(d) = str_field(&input, "dir_path")? {
                        raw.cwd = Some(match &raw.cwd {
                            Some(c) if !d.starts_with('/') => format!("{c}/{d}"),
                            _ => d.to_string(),
                        });
                    }
                }
            }
            Kind::Prompt => raw.prompt = str_field(obj, "prompt")?.map(str::to_string),
            _ => {}
        }
        raw.native_event = native;
        Ok(raw)
    }

    fn answer(&self, native_event: &str, d: &Decision) -> Answer {
        let join = |v: &[String]| cap_text(&v.join("\n"), MAX_TEXT);
        let notes = || join(&d.notes());
        let context = |text: String| json!({"hookSpecificOutput": {"additionalContext": text}});
        let out: Option<Value> = match (kind_of(native_event), d.outcome) {
            (Kind::PreTool | Kind::PostTool | Kind::Prompt | Kind::Stop, Outcome::Deny) => {
                let mut v = json!({"decision": "deny", "reason": join(&d.deny)});
                if !d.warn.is_empty() {
                    v["systemMessage"] = Value::String(join(&d.warn));
                }
                Some(v)
            }
            (Kind::PreTool, Outcome::Ask) => {
                Some(json!({"decision": "ask", "systemMessage": notes()}))
            }
            (Kind::PreTool, Outcome::Warn) => Some(json!({"systemMessage": notes()})),
            // Context for the model: AfterTool, BeforeAgent, SessionStart.
            (Kind::PostTool | Kind::Prompt, Outcome::Ask | Outcome::Warn) => Some(context(notes())),
            (Kind::SessionStart, o) if o != Outcome::Allow => Some(context(join(&d.reasons()))),
            (Kind::Stop, Outcome::Ask | Outcome::Warn) => Some(json!({"systemMessage": notes()})),
            _ => None,
        };
        out.map_or_else(Answer::silent, |v| Answer::json(&v))
    }
}
