//! git's client-side hooks as a dialect (../shared/reference/hook-protocols.md
//! §9): `hookgate git pre-commit` and `pre-push` describe what a commit or a
//! push carries as a small JSON payload (see [`payload`]), the chain judges
//! it like any other event, and the answer is an exit status — non-zero
//! aborts the commit or push — with the reasons on stderr, where git shows
//! them (and where an agent that ran `git commit` through its shell reads
//! them as the tool's result).

use serde_json::{json, Map, Value};

use super::{Adapter, Answer, Decision, ParseError, RawEvent};
use crate::event::{Kind, Outcome};

/// The git hooks' adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Git;

/// The payload the git guards hand the chain: the hook's name, the agent's
/// platform session (and subagent), the work tree's root, the paths the
/// commit or push adds or changes (`writes`) and removes (`deletes`), and a
/// one-line description (`git commit`, `git push origin main (3 commits)`).
pub fn payload(
    hook: &str,
    session: &str,
    subagent: Option<&str>,
    root: &std::path::Path,
    writes: &[String],
    deletes: &[String],
    what: &str,
) -> String {
    json!({
        "hook_event_name": hook,
        "session_id": session,
        "subagent": subagent,
        "cwd": root,
        "writes": writes,
        "deletes": deletes,
        "what": what,
    })
    .to_string()
}

fn strings(obj: &Map<String, Value>, key: &str) -> Result<Vec<String>, ParseError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ParseError::Shape(format!("`{key}` holds a non-string")))
            })
            .collect(),
        Some(_) => Err(ParseError::Shape(format!("`{key}` is not an array"))),
    }
}

impl Adapter for Git {
    fn name(&self) -> &'static str {
        "git"
    }

    fn parse_object(
        &self,
        obj: &Map<String, Value>,
        event_flag: Option<&str>,
    ) -> Result<RawEvent, ParseError> {
        let native = obj
            .get("hook_event_name")
            .and_then(Value::as_str)
            .or(event_flag)
            .unwrap_or_default()
            .to_string();
        let kind = match native.as_str() {
            "pre-commit" => Kind::PreCommit,
            "pre-push" => Kind::PrePush,
            other => {
                return Err(ParseError::Shape(format!(
                    "`{other}` is not a git hook hookgate guards"
                )))
            }
        };
        let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
        Ok(RawEvent {
            native_event: native,
            kind: Some(kind),
            tool: Some(if kind == Kind::PreCommit {
                "git commit".into()
            } else {
                "git push".into()
            }),
            session: text("session_id").unwrap_or_default(),
            subagent: text("subagent"),
            cwd: text("cwd"),
            writes: strings(obj, "writes")?,
            deletes: strings(obj, "deletes")?,
            reads: Vec::new(),
            command: None,
            prompt: None,
        })
    }

    fn repo_relative_paths(&self) -> bool {
        true
    }

    fn answer(&self, native_event: &str, decision: &Decision) -> Answer {
        let what = if native_event == "pre-push" {
            "push"
        } else {
            "commit"
        };
        let mut stderr = String::new();
        match decision.outcome {
            Outcome::Deny => {
                stderr.push_str(&format!("hookgate: {what} blocked:\n"));
                for r in decision.deny.iter().chain(&decision.ask) {
                    stderr.push_str(&format!("{r}\n"));
                }
                for w in &decision.warn {
                    stderr.push_str(&format!("warning: {w}\n"));
                }
                stderr.push_str(
                    "(a person may let it through with a warning instead: HOOKGATE_GUARD=warn)\n",
                );
            }
            _ => {
                for r in decision.ask.iter().chain(&decision.warn) {
                    stderr.push_str(&format!("hookgate warning: {r}\n"));
                }
            }
        }
        Answer {
            stdout: String::new(),
            stderr,
            exit_code: i32::from(decision.outcome == Outcome::Deny),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips_and_answers_are_exit_codes() {
        let p = payload(
            "pre-commit",
            "s1",
            None,
            std::path::Path::new("/r"),
            &["a".into()],
            &["b".into()],
            "git commit",
        );
        let raw = Git.parse(&p, None).unwrap();
        assert_eq!(raw.kind, Some(Kind::PreCommit));
        assert_eq!(raw.writes, ["a"]);
        assert_eq!(raw.deletes, ["b"]);
        assert!(Git
            .parse(r#"{"hook_event_name":"post-commit"}"#, None)
            .is_err());
        assert!(Git
            .parse(r#"{"hook_event_name":"pre-push","writes":[1]}"#, None)
            .is_err());
        let deny = Decision {
            outcome: Outcome::Deny,
            deny: vec!["held by A".into()],
            ..Decision::default()
        };
        let a = Git.answer("pre-commit", &deny);
        assert_eq!(a.exit_code, 1);
        assert!(a.stdout.is_empty() && a.stderr.contains("held by A"));
        let warn = Decision {
            outcome: Outcome::Warn,
            warn: vec!["w".into()],
            ..Decision::default()
        };
        assert_eq!(Git.answer("pre-push", &warn).exit_code, 0);
        assert_eq!(
            Git.answer("pre-push", &Decision::default()),
            Answer::silent()
        );
    }
}
