//! Claude Code's hook dialect (reference: hook-protocols.md §1).
//!
//! Answers are always exit 0 with either empty stdout (no opinion) or one JSON
//! object; hookgate never exits 2, so an internal failure can never be taken
//! for a deliberate block.

use serde_json::{json, Map, Value};

use super::{cap_text, Adapter, Answer, Decision, ParseError, RawEvent};
use crate::event::{Kind, Outcome};

/// Claude Code.
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

fn str_field<'a>(o: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, ParseError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ParseError::Shape(format!(
            "`{key}` should be a string, found {}",
            type_name(other)
        ))),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn required_path(input: &Map<String, Value>, tool: &str, key: &str) -> Result<String, ParseError> {
    match str_field(input, key)? {
        Some(p) if !p.trim().is_empty() => Ok(p.to_string()),
        _ => Err(ParseError::Shape(format!(
            "{tool} without `tool_input.{key}`"
        ))),
    }
}

impl Adapter for Claude {
    fn name(&self) -> &'static str {
        "claude"
    }

    fn parse(&self, input: &str, event_flag: Option<&str>) -> Result<RawEvent, ParseError> {
        if input.trim().is_empty() {
            return Err(ParseError::Empty);
        }
        let value: Value =
            serde_json::from_str(input).map_err(|e| ParseError::NotJson(e.to_string()))?;
        let obj = value.as_object().ok_or_else(|| {
            ParseError::Shape(format!(
                "expected a JSON object, found {}",
                type_name(&value)
            ))
        })?;
        let native = match (str_field(obj, "hook_event_name")?, event_flag) {
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
            session: str_field(obj, "session_id")?
                .unwrap_or("unknown")
                .to_string(),
            subagent: str_field(obj, "agent_id")?.map(str::to_string),
            cwd: str_field(obj, "cwd")?.map(str::to_string),
            ..RawEvent::default()
        };
        match kind {
            Kind::PreTool | Kind::PostTool => {
                let tool = str_field(obj, "tool_name")?
                    .ok_or_else(|| ParseError::Shape(format!("{native} without `tool_name`")))?
                    .to_string();
                let empty = Map::new();
                let input = match obj.get("tool_input") {
                    None | Some(Value::Null) => &empty,
                    Some(Value::Object(o)) => o,
                    Some(other) => {
                        return Err(ParseError::Shape(format!(
                            "`tool_input` should be an object, found {}",
                            type_name(other)
                        )))
                    }
                };
                match tool.as_str() {
                    "Write" | "Edit" | "MultiEdit" => {
                        raw.writes.push(required_path(input, &tool, "file_path")?);
                    }
                    "NotebookEdit" => {
                        raw.writes
                            .push(required_path(input, &tool, "notebook_path")?)
                    }
                    "Read" => raw.reads.push(required_path(input, &tool, "file_path")?),
                    "Glob" | "Grep" => {
                        if let Some(p) = str_field(input, "path")?.filter(|p| !p.trim().is_empty())
                        {
                            raw.reads.push(p.to_string());
                        }
                    }
                    "Bash" => {
                        raw.command = Some(
                            str_field(input, "command")?
                                .ok_or_else(|| {
                                    ParseError::Shape("Bash without `tool_input.command`".into())
                                })?
                                .to_string(),
                        );
                    }
                    _ => {}
                }
                raw.tool = Some(tool);
            }
            Kind::Prompt => raw.prompt = str_field(obj, "prompt")?.map(str::to_string),
            _ => {}
        }
        raw.native_event = native;
        Ok(raw)
    }

    fn answer(&self, native_event: &str, d: &Decision) -> Answer {
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
            Some(v) => Answer {
                stdout: format!("{v}\n"),
                exit_code: 0,
            },
            None => Answer::silent(),
        }
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
