//! The exit-code dialects: Windsurf/Cascade (reference §4) and Kiro CLI /
//! Amazon Q CLI (§7.2). Neither documents a JSON decision: a pre-hook blocks
//! only by exiting 2 with the reason on stderr (and nothing on stdout), so
//! a denial is exactly that and everything else exits 0. Neither can ask.
//! A warning goes where the platform shows one: Kiro adds stdout of
//! `agentSpawn` and `userPromptSubmit` to the agent's context and shows the
//! stderr of a pre-hook exiting 1 to the user (and proceeds); Windsurf shows
//! the agent stderr of a post-hook that exits 2, which blocks nothing.

use serde_json::{Map, Value};

use super::json::{event_name, obj_field, str_field};
use super::tools::{call, tool, Access, Tool};
use super::{cap_text, Adapter, Answer, Decision, ParseError, RawEvent};
use crate::event::{Kind, Outcome};

/// A platform answered by exit codes.
pub struct ExitDialect {
    name: &'static str,
}

/// Windsurf / Cascade.
pub const WINDSURF: ExitDialect = ExitDialect { name: "windsurf" };
/// Kiro CLI and Amazon Q Developer CLI.
pub const KIRO: ExitDialect = ExitDialect { name: "kiro" };

const KIRO_TOOLS: &[Tool] = &[
    tool(
        &["fs_write", "write", "fsWrite"],
        Access::Write,
        &["path", "file_path"],
        true,
    ),
    tool(
        &["fs_read", "read", "fsRead"],
        Access::ReadOperations,
        &["operations"],
        false,
    ),
    tool(
        &["execute_bash", "shell", "execute_cmd", "executeBash"],
        Access::Shell,
        &["command"],
        true,
    ),
];

const MAX_TEXT: usize = 4_000;

fn windsurf_kind(event: &str) -> Kind {
    match event {
        "pre_read_code" | "pre_write_code" | "pre_run_command" | "pre_mcp_tool_use" => {
            Kind::PreTool
        }
        "post_read_code" | "post_write_code" | "post_run_command" | "post_mcp_tool_use" => {
            Kind::PostTool
        }
        "pre_user_prompt" => Kind::Prompt,
        "post_cascade_response" => Kind::Stop,
        _ => Kind::Other,
    }
}

fn kiro_kind(event: &str) -> Kind {
    match event {
        "preToolUse" => Kind::PreTool,
        "postToolUse" => Kind::PostTool,
        "userPromptSubmit" => Kind::Prompt,
        "agentSpawn" => Kind::SessionStart,
        "stop" => Kind::Stop,
        _ => Kind::Other,
    }
}

impl ExitDialect {
    fn kind(&self, event: &str) -> Kind {
        if self.name == "kiro" {
            kiro_kind(event)
        } else {
            windsurf_kind(event)
        }
    }

    fn parse_windsurf(
        &self,
        obj: &Map<String, Value>,
        flag: Option<&str>,
    ) -> Result<RawEvent, ParseError> {
        let native = event_name(obj, &["agent_action_name"], flag)?;
        let info = obj_field(obj, "tool_info")?.unwrap_or_default();
        let mut raw = RawEvent {
            kind: Some(windsurf_kind(&native)),
            session: str_field(obj, "trajectory_id")?
                .unwrap_or("unknown")
                .to_string(),
            cwd: str_field(&info, "cwd")?.map(str::to_string),
            ..RawEvent::default()
        };
        let path = || -> Result<String, ParseError> {
            str_field(&info, "file_path")?
                .map(str::to_string)
                .ok_or_else(|| ParseError::Shape(format!("{native} without `tool_info.file_path`")))
        };
        match native.as_str() {
            "pre_read_code" | "post_read_code" => {
                raw.tool = Some("read".into());
                raw.reads.push(path()?);
            }
            "pre_write_code" | "post_write_code" => {
                raw.tool = Some("write".into());
                raw.writes.push(path()?);
            }
            "pre_run_command" | "post_run_command" => {
                raw.tool = Some("run_command".into());
                raw.command = Some(
                    str_field(&info, "command_line")?
                        .ok_or_else(|| {
                            ParseError::Shape(format!("{native} without `tool_info.command_line`"))
                        })?
                        .to_string(),
                );
            }
            "pre_mcp_tool_use" | "post_mcp_tool_use" => {
                raw.tool = str_field(&info, "mcp_tool_name")?.map(|t| format!("mcp:{t}"));
            }
            "pre_user_prompt" => raw.prompt = str_field(&info, "user_prompt")?.map(str::to_string),
            _ => {}
        }
        raw.native_event = native;
        Ok(raw)
    }

    fn parse_kiro(
        &self,
        obj: &Map<String, Value>,
        flag: Option<&str>,
    ) -> Result<RawEvent, ParseError> {
        let native = event_name(obj, &["hook_event_name"], flag)?;
        let kind = kiro_kind(&native);
        // Kiro sends no session id: its hooks are children of the CLI
        // process, whose id stands for the session.
        let session = match str_field(obj, "session_id")? {
            Some(s) => s.to_string(),
            None => format!("kiro-{}", std::os::unix::process::parent_id()),
        };
        let mut raw = RawEvent {
            kind: Some(kind),
            session,
            cwd: str_field(obj, "cwd")?.map(str::to_string),
            ..RawEvent::default()
        };
        match kind {
            Kind::PreTool | Kind::PostTool => {
                call(
                    KIRO_TOOLS,
                    obj,
                    &["tool_name"],
                    &["tool_input"],
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
}

impl Adapter for ExitDialect {
    fn name(&self) -> &'static str {
        self.name
    }

    fn parse_object(
        &self,
        obj: &Map<String, Value>,
        event_flag: Option<&str>,
    ) -> Result<RawEvent, ParseError> {
        if self.name == "kiro" {
            self.parse_kiro(obj, event_flag)
        } else {
            self.parse_windsurf(obj, event_flag)
        }
    }

    fn answer(&self, native_event: &str, d: &Decision) -> Answer {
        let join = |v: &[String]| cap_text(&v.join("\n"), MAX_TEXT);
        let kind = self.kind(native_event);
        let notes = d.notes();
        match (kind, d.outcome) {
            (Kind::PreTool, Outcome::Deny) => Answer::exit2(&join(&d.deny)),
            // Kiro shows stderr of any other non-zero exit to the user as a
            // warning, and proceeds.
            (Kind::PreTool, Outcome::Warn | Outcome::Ask) if self.name == "kiro" => Answer {
                stdout: String::new(),
                stderr: format!("{}\n", join(&notes)),
                exit_code: 1,
            },
            (Kind::Prompt, Outcome::Deny) if self.name == "windsurf" => {
                Answer::exit2(&join(&d.deny))
            }
            // Kiro adds these events' stdout to the agent's context.
            (Kind::Prompt | Kind::SessionStart, o)
                if self.name == "kiro" && o != Outcome::Allow =>
            {
                let mut t = d.deny.clone();
                t.extend(notes);
                Answer {
                    stdout: format!("{}\n", join(&t)),
                    ..Answer::default()
                }
            }
            // A Windsurf post-hook's exit 2 shows stderr to the agent and
            // blocks nothing (the action already ran).
            (Kind::PostTool, o) if self.name == "windsurf" && o != Outcome::Allow => {
                let mut t = d.deny.clone();
                t.extend(notes);
                Answer::exit2(&join(&t))
            }
            _ => Answer::silent(),
        }
    }
}
