//! Which platform a payload looks like it came from (reference §10.2). Hosts
//! run each other's configurations (Cursor and VS Code run hooks from
//! `.claude/settings.json`), so the platform named on the command line is
//! cross-checked against the payload, and a mismatch is recorded.

use serde_json::{Map, Value};

/// The platform the payload's shape points to, when it points to one.
/// Platforms that copy Claude's payload (Droid, Qwen, Kimi) sniff as
/// `claude`.
pub fn platform(obj: &Map<String, Value>) -> Option<&'static str> {
    let has = |k: &str| obj.contains_key(k);
    let event = obj.get("hook_event_name").and_then(Value::as_str);
    if has("agent_action_name") && has("tool_info") {
        return Some("windsurf");
    }
    if has("conversation_id") || has("cursor_version") || has("workspace_roots") {
        return Some("cursor");
    }
    if has("hookName") && (has("clineVersion") || has("taskId")) {
        return Some("cline");
    }
    if (has("toolName") || has("toolArgs")) && obj.get("timestamp").is_some_and(Value::is_number) {
        return Some("copilot");
    }
    if has("hookEventName") && has("sessionId") {
        return Some("vscode");
    }
    if matches!(
        event,
        Some(
            "BeforeTool"
                | "AfterTool"
                | "BeforeAgent"
                | "AfterAgent"
                | "BeforeModel"
                | "AfterModel"
                | "BeforeToolSelection"
                | "PreCompress"
        )
    ) {
        return Some("gemini");
    }
    if (has("turn_id") && has("model"))
        || obj.get("tool_name").and_then(Value::as_str) == Some("apply_patch")
    {
        return Some("codex");
    }
    if event.is_some_and(|e| e.starts_with(|c: char| c.is_ascii_lowercase())) && !has("session_id")
    {
        return Some("kiro");
    }
    if event.is_some_and(|e| e.starts_with(|c: char| c.is_ascii_uppercase())) && has("session_id") {
        return Some("claude");
    }
    None
}

/// Does a payload sniffed as `sniffed` fit the platform named `named`?
pub fn fits(named: &str, sniffed: &str) -> bool {
    named == sniffed
        // Claude's payload shape is copied by these (Gemini and Codex share
        // it on their session and prompt events).
        || (sniffed == "claude"
            && matches!(named, "droid" | "qwen" | "kimi" | "vscode" | "copilot" | "gemini" | "codex"))
        // Copilot's PascalCase payloads and Droid's camelCase ones are VS Code's shape.
        || (sniffed == "vscode" && matches!(named, "copilot" | "droid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sniff(s: &str) -> Option<&'static str> {
        platform(
            serde_json::from_str::<Value>(s)
                .unwrap()
                .as_object()
                .unwrap(),
        )
    }

    #[test]
    fn each_platform_is_recognized() {
        assert_eq!(
            sniff(r#"{"agent_action_name":"pre_run_command","tool_info":{}}"#),
            Some("windsurf")
        );
        assert_eq!(
            sniff(r#"{"conversation_id":"c","hook_event_name":"beforeShellExecution"}"#),
            Some("cursor")
        );
        assert_eq!(
            sniff(r#"{"hookName":"PreToolUse","clineVersion":"3"}"#),
            Some("cline")
        );
        assert_eq!(
            sniff(r#"{"sessionId":"s","timestamp":1,"toolName":"bash"}"#),
            Some("copilot")
        );
        assert_eq!(
            sniff(r#"{"hookEventName":"PreToolUse","sessionId":"s"}"#),
            Some("vscode")
        );
        assert_eq!(
            sniff(r#"{"hook_event_name":"BeforeTool","session_id":"s"}"#),
            Some("gemini")
        );
        assert_eq!(
            sniff(r#"{"hook_event_name":"PreToolUse","session_id":"s","turn_id":"1","model":"m"}"#),
            Some("codex")
        );
        assert_eq!(
            sniff(r#"{"hook_event_name":"preToolUse","cwd":"/"}"#),
            Some("kiro")
        );
        assert_eq!(
            sniff(r#"{"hook_event_name":"PreToolUse","session_id":"s"}"#),
            Some("claude")
        );
        assert_eq!(sniff(r#"{"x":1}"#), None);
        assert!(fits("droid", "claude") && !fits("claude", "cursor"));
    }
}
