//! Cursor (reference §3): the per-action events (`beforeShellExecution`,
//! `beforeMCPExecution`, `beforeReadFile`, `afterFileEdit`,
//! `beforeSubmitPrompt`, `stop`) and the newer `preToolUse`/`postToolUse`
//! family. The session is `conversation_id`; paths resolve against `cwd`
//! (shell events) or the first of `workspace_roots`. Only `deny` is
//! reliable in Cursor (its `ask` has been downgraded in many releases), so
//! hookgate never asks: the policy's `ask_fallback` decides. Always exit 0.

use serde_json::{json, Map, Value};

use super::json::{event_name, first_of_array, str_field};
use super::tools::{call, tool, Access, Tool};
use super::{cap_text, Adapter, Answer, Decision, ParseError, RawEvent};
use crate::event::{Kind, Outcome};

/// Cursor.
pub struct Cursor;

/// Tools of `preToolUse` (names as Cursor's agent reports them).
const TOOLS: &[Tool] = &[
    tool(
        &[
            "Write",
            "Edit",
            "MultiEdit",
            "StrReplace",
            "edit_file",
            "write",
            "search_replace",
            "Delete",
        ],
        Access::Write,
        &["file_path", "target_file", "path"],
        false,
    ),
    tool(
        &["delete_file"],
        Access::Delete,
        &["target_file", "file_path", "path"],
        false,
    ),
    tool(
        &[
            "Read",
            "read_file",
            "Grep",
            "Glob",
            "LS",
            "list_dir",
            "grep_search",
            "file_search",
        ],
        Access::Read,
        &["file_path", "target_file", "path", "target_directory"],
        false,
    ),
    tool(
        &["Shell", "Bash", "run_terminal_cmd", "run_terminal_command"],
        Access::Shell,
        &["command"],
        true,
    ),
];

const MAX_TEXT: usize = 9_000;

fn kind_of(event: &str) -> Kind {
    match event {
        "beforeShellExecution"
        | "beforeMCPExecution"
        | "beforeReadFile"
        | "beforeTabFileRead"
        | "preToolUse" => Kind::PreTool,
        "afterShellExecution"
        | "afterMCPExecution"
        | "afterFileEdit"
        | "afterTabFileEdit"
        | "postToolUse"
        | "postToolUseFailure" => Kind::PostTool,
        "beforeSubmitPrompt" => Kind::Prompt,
        "stop" | "subagentStop" => Kind::Stop,
        "sessionStart" => Kind::SessionStart,
        "sessionEnd" => Kind::SessionEnd,
        _ => Kind::Other,
    }
}

impl Adapter for Cursor {
    fn name(&self) -> &'static str {
        "cursor"
    }

    fn parse_object(
        &self,
        obj: &Map<String, Value>,
        event_flag: Option<&str>,
    ) -> Result<RawEvent, ParseError> {
        let native = event_name(obj, &["hook_event_name"], event_flag)?;
        let kind = kind_of(&native);
        let cwd = match str_field(obj, "cwd")? {
            Some(c) => Some(c),
            None => first_of_array(obj, "workspace_roots")?,
        };
        let mut raw = RawEvent {
            kind: Some(kind),
            session: str_field(obj, "conversation_id")?
                .unwrap_or("unknown")
                .to_string(),
            cwd: cwd.map(str::to_string),
            ..RawEvent::default()
        };
        match native.as_str() {
            "beforeShellExecution" | "afterShellExecution" => {
                raw.tool = Some("Shell".into());
                raw.command = Some(
                    str_field(obj, "command")?
                        .ok_or_else(|| ParseError::Shape(format!("{native} without `command`")))?
                        .to_string(),
                );
            }
            "beforeReadFile" | "beforeTabFileRead" => {
                raw.tool = Some("Read".into());
                // `content` (the whole file) is not looked at.
                raw.reads.push(
                    str_field(obj, "file_path")?
                        .ok_or_else(|| ParseError::Shape(format!("{native} without `file_path`")))?
                        .to_string(),
                );
            }
            "afterFileEdit" | "afterTabFileEdit" => {
                raw.tool = Some("Edit".into());
                if let Some(p) = str_field(obj, "file_path")? {
                    raw.writes.push(p.to_string());
                }
            }
            "beforeMCPExecution" | "afterMCPExecution" => {
                raw.tool = str_field(obj, "tool_name")?.map(|t| format!("mcp:{t}"));
            }
            "preToolUse" | "postToolUse" | "postToolUseFailure" => {
                call(
                    TOOLS,
                    obj,
                    &["tool_name", "toolName"],
                    &["tool_input"],
                    &native,
                    &mut raw,
                )?;
            }
            "beforeSubmitPrompt" => raw.prompt = str_field(obj, "prompt")?.map(str::to_string),
            _ => {}
        }
        raw.native_event = native;
        Ok(raw)
    }

    fn answer(&self, native_event: &str, d: &Decision) -> Answer {
        let join = |v: &[String]| cap_text(&v.join("\n"), MAX_TEXT);
        let notes = || join(&d.notes());
        let out: Option<Value> = match (native_event, d.outcome) {
            ("beforeShellExecution" | "beforeMCPExecution" | "preToolUse", Outcome::Deny) => {
                let r = join(&d.deny);
                Some(json!({"permission": "deny", "user_message": r, "agent_message": r}))
            }
            (
                "beforeShellExecution" | "beforeMCPExecution" | "preToolUse",
                Outcome::Warn | Outcome::Ask,
            ) => {
                let w = notes();
                Some(json!({"permission": "allow", "user_message": w, "agent_message": w}))
            }
            // Reads take `permission` only.
            ("beforeReadFile" | "beforeTabFileRead", Outcome::Deny) => {
                Some(json!({"permission": "deny"}))
            }
            ("beforeSubmitPrompt", Outcome::Deny) => {
                Some(json!({"continue": false, "user_message": join(&d.deny)}))
            }
            // `stop` ignores permissions; a follow-up message keeps the agent going.
            ("stop" | "subagentStop", Outcome::Deny) => {
                Some(json!({"followup_message": join(&d.deny)}))
            }
            ("postToolUse" | "postToolUseFailure" | "sessionStart", o) if o != Outcome::Allow => {
                Some(json!({"additional_context": join(&d.reasons())}))
            }
            _ => None,
        };
        out.map_or_else(Answer::silent, |v| Answer::json(&v))
    }
}
