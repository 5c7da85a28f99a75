//! Cline (reference §7.1): one executable per event, named after it
//! (`.clinerules/hooks/PreToolUse` runs `hookgate hook cline --event
//! PreToolUse`). Cline takes the last JSON object on stdout, and blocks on
//! a non-zero exit, invalid JSON or a timeout (fail closed): so hookgate
//! always exits 0 and always ends stdout with one object, `{"cancel":
//! false}` when it allows. It cannot ask.

use serde_json::{json, Map, Value};

use super::json::{event_name, first_of_array, obj_field, str_field};
use super::tools::{self, tool, Access, Tool};
use super::{cap_text, Adapter, Answer, Decision, ParseError, RawEvent};
use crate::event::{Kind, Outcome};

/// Cline.
pub struct Cline;

const TOOLS: &[Tool] = &[
    tool(
        &["write_to_file", "replace_in_file", "new_rule"],
        Access::Write,
        &["path"],
        true,
    ),
    tool(
        &[
            "read_file",
            "list_files",
            "search_files",
            "list_code_definition_names",
        ],
        Access::Read,
        &["path"],
        false,
    ),
    tool(&["execute_command"], Access::Shell, &["command"], true),
];

/// `contextModification` is capped at 50 KB by Cline.
const MAX_TEXT: usize = 9_000;

fn kind_of(event: &str) -> Kind {
    match event {
        "PreToolUse" => Kind::PreTool,
        "PostToolUse" => Kind::PostTool,
        "UserPromptSubmit" => Kind::Prompt,
        "TaskStart" | "TaskResume" => Kind::SessionStart,
        "TaskComplete" => Kind::Stop,
        "TaskCancel" => Kind::SessionEnd,
        _ => Kind::Other,
    }
}

impl Adapter for Cline {
    fn name(&self) -> &'static str {
        "cline"
    }

    fn parse_object(
        &self,
        obj: &Map<String, Value>,
        event_flag: Option<&str>,
    ) -> Result<RawEvent, ParseError> {
        let native = event_name(obj, &["hookName"], event_flag)?;
        let kind = kind_of(&native);
        let mut raw = RawEvent {
            kind: Some(kind),
            session: str_field(obj, "taskId")?.unwrap_or("unknown").to_string(),
            cwd: first_of_array(obj, "workspaceRoots")?.map(str::to_string),
            ..RawEvent::default()
        };
        match kind {
            Kind::PreTool | Kind::PostTool => {
                let key = if kind == Kind::PreTool {
                    "preToolUse"
                } else {
                    "postToolUse"
                };
                let call = obj_field(obj, key)?
                    .ok_or_else(|| ParseError::Shape(format!("{native} without `{key}`")))?;
                let what = format!("{native} `{key}`");
                tools::call(
                    TOOLS,
                    &call,
                    &["toolName"],
                    &["parameters"],
                    &what,
                    &mut raw,
                )?;
            }
            Kind::Prompt => {
                if let Some(p) = obj_field(obj, "userPromptSubmit")? {
                    raw.prompt = str_field(&p, "prompt")?.map(str::to_string);
                }
            }
            _ => {}
        }
        raw.native_event = native;
        Ok(raw)
    }

    fn answer(&self, native_event: &str, d: &Decision) -> Answer {
        let join = |v: &[String]| cap_text(&v.join("\n"), MAX_TEXT);
        let notes = d.notes();
        let blocks = matches!(kind_of(native_event), Kind::PreTool | Kind::Prompt);
        let mut out = json!({"cancel": false});
        if d.outcome == Outcome::Deny && blocks {
            out = json!({"cancel": true, "errorMessage": join(&d.deny)});
        } else {
            let mut t = if d.outcome == Outcome::Deny {
                d.deny.clone()
            } else {
                Vec::new()
            };
            t.extend(notes);
            if !t.is_empty() {
                out["contextModification"] = Value::String(join(&t));
            }
        }
        Answer::json(&out)
    }
}
