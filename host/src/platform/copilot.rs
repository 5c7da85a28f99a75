//! GitHub Copilot CLI and cloud agent (reference §6.1), in both payload
//! styles: camelCase (`{sessionId, timestamp, cwd, toolName, toolArgs}`, no
//! event name: `--event` names it, and a payload with `toolName` is taken
//! as `preToolUse`) with `toolArgs` a JSON string or an object; and
//! PascalCase (`hook_event_name`, `session_id`, `tool_name`, `tool_input`).
//! Copilot never blocks on an exit code, so hookgate always exits 0 and
//! denies in JSON, with the reason it requires. Only `deny` is processed
//! by every version, so hookgate does not ask.

use serde_json::{json, Map, Value};

use super::json::first_str;
use super::tools::{call, tool, Access, Tool};
use super::{cap_text, Adapter, Answer, Decision, ParseError, RawEvent};
use crate::event::{Kind, Outcome};

/// Copilot CLI / cloud agent.
pub struct Copilot;

const TOOLS: &[Tool] = &[
    tool(
        &["create", "edit", "str_replace_editor", "write"],
        Access::Write,
        &["path", "file_path", "filePath"],
        true,
    ),
    tool(
        &["view", "read", "glob", "grep"],
        Access::Read,
        &["path", "file_path", "filePath"],
        false,
    ),
    tool(
        &["bash", "powershell", "shell"],
        Access::Shell,
        &["command"],
        true,
    ),
];

const MAX_TEXT: usize = 9_000;

fn kind_of(event: &str) -> Kind {
    match event {
        "preToolUse" | "PreToolUse" => Kind::PreTool,
        "postToolUse" | "PostToolUse" | "postToolUseFailure" => Kind::PostTool,
        "userPromptSubmitted" | "UserPromptSubmit" => Kind::Prompt,
        "agentStop" | "subagentStop" | "Stop" | "SubagentStop" => Kind::Stop,
        "sessionStart" | "SessionStart" => Kind::SessionStart,
        "sessionEnd" | "SessionEnd" => Kind::SessionEnd,
        _ => Kind::Other,
    }
}

impl Adapter for Copilot {
    fn name(&self) -> &'static str {
        "copilot"
    }

    fn parse_object(
        &self,
        obj: &Map<String, Value>,
        event_flag: Option<&str>,
    ) -> Result<RawEvent, ParseError> {
        let named = first_str(obj, &["hook_event_name", "hookEventName"])?;
        let has_tool = obj.contains_key("toolName") || obj.contains_key("tool_name");
        let native =
            match (named, event_flag) {
                (Some(e), _) => e.to_string(),
                (None, Some(f)) => f.to_string(),
                (None, None) if has_tool => "preToolUse".to_string(),
                (None, None) => return Err(ParseError::Shape(
                    "a camelCase Copilot payload names no event: register the hook with --event"
                        .into(),
                )),
            };
        let kind = kind_of(&native);
        let mut raw = RawEvent {
            kind: Some(kind),
            session: first_str(obj, &["sessionId", "session_id"])?
                .unwrap_or("unknown")
                .to_string(),
            cwd: first_str(obj, &["cwd"])?.map(str::to_string),
            ..RawEvent::default()
        };
        match kind {
            Kind::PreTool | Kind::PostTool => {
                call(
                    TOOLS,
                    obj,
                    &["toolName", "tool_name"],
                    &["toolArgs", "tool_input"],
                    &native,
                    &mut raw,
                )?;
            }
            Kind::Prompt => raw.prompt = first_str(obj, &["prompt"])?.map(str::to_string),
            _ => {}
        }
        raw.native_event = native;
        Ok(raw)
    }

    fn answer(&self, native_event: &str, d: &Decision) -> Answer {
        let join = |v: &[String]| cap_text(&v.join("\n"), MAX_TEXT);
        let out: Option<Value> = match (kind_of(native_event), d.outcome) {
            (Kind::PreTool, Outcome::Deny) => Some(json!({
                "permissionDecision": "deny",
                "permissionDecisionReason": join(&d.deny),
            })),
            (Kind::Stop, Outcome::Deny) => {
                Some(json!({"decision": "block", "reason": join(&d.deny)}))
            }
            _ => None,
        };
        out.map_or_else(Answer::silent, |v| Answer::json(&v))
    }
}
