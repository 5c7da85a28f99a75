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

use super::json::{first_str, str_field, type_name};
use super::tools::{apply, tool, Access, Tool};
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

/// Claude Code (the dialect's reference platform).
pub struct Claude;

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

impl Adapter for Claude {
    fn name(&self) -> &'static str {
        CLAUDE.name
    }

    fn parse_object(
        &self,
        obj: &Map<String, Value>,
        event_flag: Option<&str>,
    ) -> Result<RawEvent, ParseError> {
        CLAUDE.parse_object(obj, event_flag)
    }

    fn answer(&self, native_event: &str, decision: &Decision) -> Answer {
        CLAUDE.answer(native_event, decision)
    }

    fn can_ask(&self, native_event: &str) -> bool {
        CLAUDE.can_ask(native_event)
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
        let native = match (
            first_str(obj, &["hook_event_name", "hookEventName"])?,
            event_flag,
        ) {
            (Some(e), _) => e.to_string(),
            (None, Some(f)) => f.to_string(),
            (None, None) => {
                return Err(ParseError::Shape(
                    "no `hook_event_name` in the payload and no `--event` on the command line"
                        .into(),
                ))
            }
        };
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
                let tool = first_str(obj, &["tool_name", "toolName"])?
                    .ok_or_else(|| ParseError::Shape(format!("{native} without `tool_name`")))?
                    .to_string();
                let empty = Map::new();
                let input = match obj.get("tool_input").or_else(|| obj.get("toolInput")) {
                    None | Some(Value::Null) => &empty,
                    Some(Value::Object(o)) => o,
                    Some(other) => {
                        return Err(ParseError::Shape(format!(
                            "`tool_input` should be an object, found {}",
                            type_name(other)
                        )))
                    }
                };
                apply(self.tools, &tool, input, &mut raw)?;
                raw.tool = Some(tool);
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
                    let mut text: Vec<String> = d.ask.clone();
                    text.extend(d.warn.iter().cloned());
                    let text = cap_text(&text.join("\n"), MAX_TEXT);
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
            let mut text: Vec<String> = d.deny.clone();
            text.extend(d.ask.iter().cloned());
            text.extend(d.warn.iter().cloned());
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
        let raw = Claude
            .parse(r#"{"session_id":"s","cwd":"/r","hook_event_name":"PreToolUse","tool_name":"Edit","tool_input":{"file_path":"/r/a.rs","old_string":"a","new_string":"b"}}"#, None)
            .unwrap();
        assert_eq!(raw.writes, vec!["/r/a.rs"]);
        assert_eq!(raw.kind, Some(Kind::PreTool));
        let raw = Claude
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
            assert!(Claude.parse(bad, None).is_err(), "{bad}");
        }
        let deep = "[".repeat(100_000);
        assert!(Claude.parse(&deep, None).is_err());
    }

    #[test]
    fn answers_follow_the_dialect() {
        let d = Decision {
            outcome: Outcome::Deny,
            deny: vec!["no".into()],
            ..Decision::default()
        };
        assert_eq!(
            Claude.answer("PreToolUse", &d).stdout,
            "{\"hookSpecificOutput\":{\"hookEventName\":\"PreToolUse\",\"permissionDecision\":\"deny\",\"permissionDecisionReason\":\"no\"}}\n"
        );
        assert_eq!(
            Claude.answer("PostToolUse", &d).stdout,
            "{\"decision\":\"block\",\"reason\":\"no\"}\n"
        );
        assert_eq!(Claude.answer("SessionEnd", &d), Answer::silent());
        assert_eq!(Claude.answer("Nonsense", &d), Answer::silent());
        assert_eq!(
            Claude.answer("PreToolUse", &Decision::default()),
            Answer::silent()
        );
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::String),
            prop_oneof![
                Just("PreToolUse"),
                Just("PostToolUse"),
                Just("Edit"),
                Just("Read"),
                Just("Bash"),
                Just("Stop")
            ]
            .prop_map(|s| Value::String(s.into())),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("hook_event_name".to_string()),
                        Just("tool_name".to_string()),
                        Just("tool_input".to_string()),
                        Just("file_path".to_string()),
                        Just("command".to_string()),
                        Just("cwd".to_string()),
                        "[a-z_]{1,8}"
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_json_parses_or_errors_and_answers_are_valid(v in json_value()) {
            if let Ok(raw) = Claude.parse(&v.to_string(), None) {
                for outcome in [Outcome::Allow, Outcome::Warn, Outcome::Ask, Outcome::Deny] {
                    let d = Decision { outcome, deny: vec!["d".into()], ask: vec!["a".into()], warn: vec!["w".into()] };
                    let a = Claude.answer(&raw.native_event, &d);
                    proptest::prop_assert_eq!(a.exit_code, 0);
                    if !a.stdout.is_empty() {
                        proptest::prop_assert!(serde_json::from_str::<Value>(&a.stdout).is_ok());
                    }
                }
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(s in "\\PC{0,200}") {
            let _ = Claude.parse(&s, Some("PreToolUse"));
        }
    }
}
