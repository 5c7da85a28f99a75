//! Claude Code's hook dialect (reference: hook-protocols.md §1), and the
//! platforms that speak it: Codex CLI (§5), VS Code agent hooks (§6.2),
//! Factory Droid (§7.4), Qwen Code (§7.5) and Kimi CLI (§7.8). They share
//! the payload (`hook_event_name`, `session_id`, `tool_name`, `tool_input`;
//! VS Code and Droid spell some fields in camelCase) and the answer
//! (`hookSpecificOutput.permissionDecision`), and differ in tool names and
//! in whether PreToolUse can ask.
//!
//! Answers are always exit 0 with either empty stdout (no opinion) or one JSON
//! object; hookgate never exits 2, so an internal failure can never be taken
//! for a deliberate block.

use serde_json::{json, Map, Value};

use super::json::{event_name, first_str, str_field};
use super::tools::{call, tool, Access, Tool};
use super::{cap_text, Adapter, Answer, Decision, ParseError, RawEvent};
use crate::event::{Kind, Outcome};

/// A platform that speaks Claude Code's dialect.
pub struct Dialect {
    /// Its name on the command line.
    pub name: &'static str,
    /// What its tools do.
    pub tools: &'static [Tool],
    /// PreToolUse can ask the human (Codex answers `ask` by failing open).
    pub asks: bool,
}

/// Claude Code.
pub const CLAUDE: Dialect = Dialect {
    name: "claude",
    tools: CLAUDE_TOOLS,
    asks: true,
};

/// OpenAI Codex CLI: `Bash` and `apply_patch`; PreToolUse cannot ask.
pub const CODEX: Dialect = Dialect {
    name: "codex",
    tools: &[
        tool(
            &["Bash", "shell", "local_shell"],
            Access::Shell,
            &["command"],
            true,
        ),
        tool(
            &["apply_patch"],
            Access::Patch,
            &["command", "input", "patch"],
            true,
        ),
    ],
    asks: false,
};

/// VS Code agent hooks (Copilot Chat): VS Code's tool names.
pub const VSCODE: Dialect = Dialect {
    name: "vscode",
    tools: &[
        tool(
            &[
                "editFiles",
                "createFile",
                "insertEdit",
                "replaceString",
                "multiReplaceString",
                "editNotebook",
                "createDirectory",
            ],
            Access::Write,
            &["filePath", "file_path", "path", "files", "dirPath"],
            false,
        ),
        tool(
            &["readFile", "listDirectory", "fileSearch", "textSearch"],
            Access::Read,
            &["filePath", "file_path", "path", "includePattern"],
            false,
        ),
        tool(
            &["runTerminalCommand", "runInTerminal", "run_in_terminal"],
            Access::Shell,
            &["command"],
            true,
        ),
    ],
    asks: true,
};

/// Factory Droid: `Execute`, `Create`, `Edit` (with `old_str`), `Read`.
pub const DROID: Dialect = Dialect {
    name: "droid",
    tools: &[
        tool(
            &["Create", "Edit", "MultiEdit", "Write"],
            Access::Write,
            &["file_path", "filePath", "path"],
            true,
        ),
        tool(
            &["Read", "LS", "Glob", "Grep"],
            Access::Read,
            &["file_path", "filePath", "path"],
            false,
        ),
        tool(&["Execute", "Bash"], Access::Shell, &["command"], true),
    ],
    asks: true,
};

/// Qwen Code (a Gemini CLI fork with Claude-style events).
pub const QWEN: Dialect = Dialect {
    name: "qwen",
    tools: &[
        tool(
            &["write_file", "replace", "edit", "WriteFile", "Edit"],
            Access::Write,
            &["file_path", "absolute_path", "path"],
            true,
        ),
        tool(
            &[
                "read_file",
                "read_many_files",
                "ReadFile",
                "ReadManyFiles",
                "glob",
                "grep_search",
                "list_directory",
            ],
            Access::Read,
            &["file_path", "absolute_path", "paths", "path", "dir_path"],
            false,
        ),
        tool(
            &["run_shell_command", "Shell"],
            Access::Shell,
            &["command"],
            true,
        ),
    ],
    asks: true,
};

/// Kimi CLI: Claude's events and tool names.
pub const KIMI: Dialect = Dialect {
    name: "kimi",
    tools: CLAUDE_TOOLS,
    asks: true,
};

const CLAUDE_TOOLS: &[Tool] = &[
    tool(
        &["Write", "Edit", "MultiEdit"],
        Access::Write,
        &["file_path"],
        true,
    ),
    tool(&["NotebookEdit"], Access::Write, &["notebook_path"], true),
    tool(&["Read"], Access::Read, &["file_path"], true),
    tool(&["Glob", "Grep"], Access::Read, &["path"], false),
    tool(&["Bash"], Access::Shell, &["command"], true),
];

/// Claude caps hook strings at 10 000 characters; stay below.
const MAX_TEXT: usize = 9_000;

fn kind_of(event: &str) -> Kind {
    match event {
        "PreToolUse" => Kind::PreTool,
        "PostToolUse" | "PostToolUseFailure" => Kind::PostTool,
        "UserPromptSubmit" => Kind::Prompt,
        "SessionStart" => Kind::SessionStart,
        "SessionEnd" => Kind::SessionEnd,
        "Stop" | "SubagentStop" => Kind::Stop,
        _ => Kind::Other,
    }
}

impl Adapter for Dialect {
    fn name(&self) -> &'static str {
        self.name
    }

    fn can_ask(&self, native_event: &str) -> bool {
        self.asks && native_event == "PreToolUse"
    }

    fn parse_object(
        &self,
        obj: &Map<String, Value>,
        event_flag: Option<&str>,
    ) -> Result<RawEvent, ParseError> {
        // VS Code and Droid spell the common fields in camelCase.
        let native = event_name(obj, &["hook_event_name", "hookEventName"], event_flag)?;
        let kind = kind_of(&native);
        let mut raw = RawEvent {
            kind: Some(kind),
            session: first_str(obj, &["session_id", "sessionId"])?
                .unwrap_or("unknown")
                .to_string(),
            subagent: first_str(obj, &["agent_id", "agentId"])?.map(str::to_string),
            cwd: str_field(obj, "cwd")?.map(str::to_string),
            ..RawEvent::default()
        };
        match kind {
            Kind::PreTool | Kind::PostTool => {
                call(
                    self.tools,
                    obj,
                    &["tool_name", "toolName"],
                    &["tool_input", "toolInput"],
                    &native,
                    &mut raw,
                )?;
            }
            Kind::Prompt => raw.prompt = str_field(obj, "prompt")?.map(str::to_string),
            _ => {}
        }
        raw.native_event = native;
        Ok(raw)
    }

    fn answer(&self, native_event: &str, d: &Decision) -> Answer {
        answer(native_event, d)
    }
}

/// The dialect's answer.
fn answer(native_event: &str, d: &Decision) -> Answer {
    let join = |v: &[String]| cap_text(&v.join("\n"), MAX_TEXT);
    let warn = (!d.warn.is_empty()).then(|| join(&d.warn));
    let context = |event: &str, text: String| json!({"hookSpecificOutput": {"hookEventName": event, "additionalContext": text}});
    let out: Option<Value> = match kind_of(native_event) {
        Kind::PreTool if native_event == "PreToolUse" => match d.outcome {
            Outcome::Deny | Outcome::Ask => {
                let (decision, reasons) = if d.outcome == Outcome::Deny {
                    ("deny", &d.deny)
                } else {
                    ("ask", &d.ask)
                };
                let mut hso = json!({
                    "hookEventName": "PreToolUse",
                    "permissionDecision": decision,
                    "permissionDecisionReason": join(reasons),
                });
                if let Some(w) = warn {
                    hso["additionalContext"] = Value::String(w);
                }
                Some(json!({ "hookSpecificOutput": hso }))
            }
            Outcome::Warn => warn.map(|w| context("PreToolUse", w)),
            Outcome::Allow => None,
        },
        Kind::PostTool | Kind::Prompt | Kind::Stop => {
            let event = native_event;
            match d.outcome {
                // PostToolUse, UserPromptSubmit and Stop block with a top-level decision.
                Outcome::Deny => Some(json!({"decision": "block", "reason": join(&d.deny)})),
                // None of these events can ask; the human sees the reason as context.
                Outcome::Ask | Outcome::Warn => {
                    let text = cap_text(&d.notes().join("\n"), MAX_TEXT);
                    if matches!(event, "Stop" | "SubagentStop") {
                        Some(json!({ "systemMessage": text }))
                    } else {
                        Some(context(event, text))
                    }
                }
                Outcome::Allow => None,
            }
        }
        Kind::SessionStart => {
            let text = d.reasons();
            (!text.is_empty())
                .then(|| context("SessionStart", cap_text(&text.join("\n"), MAX_TEXT)))
        }
        // SessionEnd and unknown events cannot be influenced: answer nothing.
        _ => None,
    };
    match out {
        Some(v) => Answer::json(&v),
        None => Answer::silent(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tools_into_paths() {
        let raw = CLAUDE
            .parse(r#"{"session_id":"s","cwd":"/r","hook_event_name":"PreToolUse","tool_name":"Edit","tool_input":{"file_path":"/r/a.rs","old_string":"a","new_string":"b"}}"#, None)
            .unwrap();
        assert_eq!(raw.writes, vec!["/r/a.rs"]);
        assert_eq!(raw.kind, Some(Kind::PreTool));
        let raw = CLAUDE
            .parse(r#"{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#, None)
            .unwrap();
        assert_eq!(raw.command.as_deref(), Some("ls"));
    }

    #[test]
    fn hostile_payloads_are_errors_not_panics() {
        for bad in [
            "",
            "   ",
            "null",
            "[]",
            "42",
            "\"x\"",
            "{",
            "{\"hook_event_name\":7}",
            r#"{"hook_event_name":"PreToolUse"}"#,
            r#"{"hook_event_name":"PreToolUse","tool_name":"Edit","tool_input":{}}"#,
            r#"{"hook_event_name":"PreToolUse","tool_name":"Edit","tool_input":[1]}"#,
            r#"{"hook_event_name":"PreToolUse","tool_name":"Read","tool_input":{"file_path":{"a":1}}}"#,
            r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{}}"#,
        ] {
            assert!(CLAUDE.parse(bad, None).is_err(), "{bad}");
        }
        let deep = "[".repeat(100_000);
        assert!(CLAUDE.parse(&deep, None).is_err());
    }

    #[test]
    fn answers_follow_the_dialect() {
        let d = Decision {
            outcome: Outcome::Deny,
            deny: vec!["no".into()],
            ..Decision::default()
        };
        assert_eq!(
            CLAUDE.answer("PreToolUse", &d).stdout,
            "{\"hookSpecificOutput\":{\"hookEventName\":\"PreToolUse\",\"permissionDecision\":\"deny\",\"permissionDecisionReason\":\"no\"}}\n"
        );
        assert_eq!(
            CLAUDE.answer("PostToolUse", &d).stdout,
            "{\"decision\":\"block\",\"reason\":\"no\"}\n"
        );
        assert_eq!(CLAUDE.answer("SessionEnd", &d), Answer::silent());
        assert_eq!(CLAUDE.answer("Nonsense", &d), Answer::silent());
        assert_eq!(
            CLAUDE.answer("PreToolUse", &Decision::default()),
            Answer::silent()
        );
    }

    // Arbitrary JSON and text for every adapter, Claude included:
    // `platform::tests` (one property test over all dialects).
}
