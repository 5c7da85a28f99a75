//! Wiring hookgate into each platform's hook configuration: what `hookgate
//! init` writes and `hookgate uninstall` removes, and what `hookgate doctor`
//! checks ([`doctor`]). Each platform is a row of [`PLATFORMS`]: where its
//! project configuration lives, its format, the events hookgate registers
//! and the tools its matchers must cover. Writes merge with what is there,
//! keep everything that is not hookgate's, and change nothing when run
//! twice. [`mcp`] does the same for hookgate's MCP server in each
//! platform's MCP configuration.

pub mod doctor;
mod edit;
pub mod git_hooks;
pub mod mcp;

use std::path::{Path, PathBuf};

pub use edit::{install, uninstall, Change, EditError};

/// How a platform's configuration file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `{"hooks": {Event: [{"matcher": M, "hooks": [{"type": "command", …}]}]}}`
    /// (Claude Code, Codex, Gemini, Droid, Qwen). `exec` writes Claude's exec
    /// form (`command` + `args`); `millis` when `timeout` is in ms.
    Groups {
        /// Claude's exec form.
        exec: bool,
        /// Timeouts in milliseconds.
        millis: bool,
    },
    /// `{"version": 1, "hooks": {event: [{"command": …}]}}` (Cursor).
    Cursor,
    /// `{"hooks": {event: [{"command": …, "show_output": false}]}}` (Windsurf).
    Windsurf,
    /// A file of hookgate's own: `{"version": 1, "hooks": {event: [{"type":
    /// "command", "bash": …, "timeoutSec": 30}]}}` (Copilot CLI and cloud
    /// agent; VS Code reads it too).
    Copilot,
    /// A file of hookgate's own, Kiro's standalone hooks:
    /// `{"version": "v1", "hooks": [{name, trigger, matcher, action}]}`.
    Kiro,
    /// One executable script per event in a directory (Cline).
    Scripts,
}

/// One platform's wiring.
#[derive(Debug, Clone, Copy)]
pub struct Wiring {
    /// The platform's name on the command line.
    pub platform: &'static str,
    /// The configuration file (or directory, for scripts), relative to the
    /// repository root.
    pub path: &'static str,
    /// Its format.
    pub format: Format,
    /// Events registered, each with its matcher (`None`: no matcher).
    pub events: &'static [(&'static str, Option<&'static str>)],
    /// Tools the matchers must cover (doctor checks it).
    pub gated: &'static [&'static str],
    /// Directories whose presence (in the repository or the home
    /// directory) shows the platform is used.
    pub markers: &'static [&'static str],
}

const CLAUDE_TOOLS: &str = "Edit|Write|MultiEdit|NotebookEdit|Read|Glob|Grep|Bash";
const GEMINI_TOOLS: &str =
    "write_file|replace|read_file|read_many_files|run_shell_command|glob|grep_search|list_directory";

/// Every platform `init` can wire (VS Code reads Claude's and Copilot's).
pub const PLATFORMS: &[Wiring] = &[
    Wiring {
        platform: "claude",
        path: ".claude/settings.json",
        format: Format::Groups {
            exec: true,
            millis: false,
        },
        events: &[
            ("PreToolUse", Some(CLAUDE_TOOLS)),
            ("PostToolUse", Some(CLAUDE_TOOLS)),
            ("UserPromptSubmit", None),
            ("SessionStart", None),
            ("Stop", None),
            ("SessionEnd", None),
        ],
        gated: &[
            "Edit",
            "Write",
            "MultiEdit",
            "NotebookEdit",
            "Read",
            "Glob",
            "Grep",
            "Bash",
        ],
        markers: &[".claude"],
    },
    Wiring {
        platform: "gemini",
        path: ".gemini/settings.json",
        format: Format::Groups {
            exec: false,
            millis: true,
        },
        events: &[
            ("BeforeTool", Some(GEMINI_TOOLS)),
            ("AfterTool", Some(GEMINI_TOOLS)),
            ("BeforeAgent", None),
            ("AfterAgent", None),
            ("SessionStart", None),
            ("SessionEnd", None),
        ],
        gated: &[
            "write_file",
            "replace",
            "read_file",
            "read_many_files",
            "run_shell_command",
        ],
        markers: &[".gemini"],
    },
    Wiring {
        platform: "codex",
        path: ".codex/hooks.json",
        format: Format::Groups {
            exec: false,
            millis: false,
        },
        events: &[
            ("PreToolUse", Some("Bash|apply_patch")),
            ("PostToolUse", Some("Bash|apply_patch")),
            ("UserPromptSubmit", None),
            ("Stop", None),
            ("SessionStart", None),
        ],
        gated: &["Bash", "apply_patch"],
        markers: &[".codex"],
    },
    Wiring {
        platform: "cursor",
        path: ".cursor/hooks.json",
        format: Format::Cursor,
        events: &[
            ("beforeShellExecution", None),
            ("beforeMCPExecution", None),
            ("beforeReadFile", None),
            ("preToolUse", None),
            ("postToolUse", None),
            ("afterFileEdit", None),
            ("beforeSubmitPrompt", None),
            ("stop", None),
            ("sessionStart", None),
        ],
        gated: &[],
        markers: &[".cursor"],
    },
    Wiring {
        platform: "windsurf",
        path: ".windsurf/hooks.json",
        format: Format::Windsurf,
        events: &[
            ("pre_read_code", None),
            ("pre_write_code", None),
            ("pre_run_command", None),
            ("pre_mcp_tool_use", None),
            ("pre_user_prompt", None),
            ("post_write_code", None),
            ("post_run_command", None),
        ],
        gated: &[],
        markers: &[".windsurf", ".codeium/windsurf"],
    },
    Wiring {
        platform: "copilot",
        path: ".github/hooks/hookgate.json",
        format: Format::Copilot,
        events: &[
            ("preToolUse", None),
            ("postToolUse", None),
            ("userPromptSubmitted", None),
            ("agentStop", None),
            ("sessionStart", None),
            ("sessionEnd", None),
        ],
        gated: &[],
        markers: &[".github/hooks", ".copilot"],
    },
    Wiring {
        platform: "cline",
        path: ".clinerules/hooks",
        format: Format::Scripts,
        events: &[
            ("PreToolUse", None),
            ("PostToolUse", None),
            ("UserPromptSubmit", None),
            ("TaskStart", None),
            ("TaskResume", None),
            ("TaskComplete", None),
            ("TaskCancel", None),
        ],
        gated: &[],
        markers: &[".clinerules", "Documents/Cline"],
    },
    Wiring {
        platform: "kiro",
        path: ".kiro/hooks/hookgate.json",
        format: Format::Kiro,
        events: &[
            ("preToolUse", Some("*")),
            ("postToolUse", Some("*")),
            ("userPromptSubmit", None),
            ("agentSpawn", None),
            ("stop", None),
        ],
        gated: &[],
        markers: &[".kiro", ".aws/amazonq"],
    },
    Wiring {
        platform: "droid",
        path: ".factory/settings.json",
        format: Format::Groups {
            exec: false,
            millis: false,
        },
        events: &[
            (
                "PreToolUse",
                Some("Execute|Create|Edit|MultiEdit|Read|LS|Glob|Grep"),
            ),
            (
                "PostToolUse",
                Some("Execute|Create|Edit|MultiEdit|Read|LS|Glob|Grep"),
            ),
            ("UserPromptSubmit", None),
            ("SessionStart", None),
            ("Stop", None),
        ],
        gated: &["Execute", "Create", "Edit", "Read"],
        markers: &[".factory"],
    },
    Wiring {
        platform: "qwen",
        path: ".qwen/settings.json",
        format: Format::Groups {
            exec: false,
            millis: true,
        },
        events: &[
            ("PreToolUse", Some(GEMINI_TOOLS)),
            ("PostToolUse", Some(GEMINI_TOOLS)),
            ("UserPromptSubmit", None),
            ("SessionStart", None),
            ("Stop", None),
        ],
        gated: &["write_file", "replace", "read_file", "run_shell_command"],
        markers: &[".qwen"],
    },
];

/// The wiring of `platform` (`vscode` is wired by Copilot's file, which VS
/// Code reads, and by Claude's settings).
pub fn wiring(platform: &str) -> Option<&'static Wiring> {
    let name = if platform == "vscode" {
        "copilot"
    } else {
        platform
    };
    PLATFORMS.iter().find(|w| w.platform == name)
}

/// Platforms in use for the repository at `root`: a marker directory in it
/// or in `home`. Claude Code when none is found.
pub fn detect(root: &Path, home: Option<&Path>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = PLATFORMS
        .iter()
        .filter(|w| {
            w.markers
                .iter()
                .any(|m| root.join(m).exists() || home.is_some_and(|h| h.join(m).exists()))
        })
        .map(|w| w.platform)
        .collect();
    if out.is_empty() {
        out.push("claude");
    }
    out
}

/// The command line a platform's hook runs for `event`.
pub fn hook_command(bin: &str, platform: &str, event: &str) -> String {
    format!("{} hook {platform} --event {event}", shell_word(bin))
}

/// Quote a word for a shell command line when it needs it.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Is this a command hookgate wrote for `platform`?
pub fn is_ours(command: &str, platform: &str) -> bool {
    command.contains("hookgate") && command.contains(&format!(" hook {platform}"))
}

/// The file a wiring writes, under `root`.
pub fn path_of(w: &Wiring, root: &Path) -> PathBuf {
    root.join(w.path)
}
