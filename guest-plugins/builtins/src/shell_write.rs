//! `shell-write`: the policy for what the shell analysis could not settle,
//! and for what no path rule covers. The files a command writes and reads
//! are already in the event (lock-check and the guards judge them); these
//! rules judge the rest, each with its own outcome (`allow` turns it off)
//! and, through the policy's `rules`, its own stage:
//!
//! | rule | what |
//! |---|---|
//! | `opaque` | the analysis can't tell what the command writes (`eval`, `bash -c "$X"`, inline code, a target built at run time) |
//! | `unknown-command` | a command the model does not know, that may write anything |
//! | `outside-repo` | a write or delete outside the repository (not under `outside_allowed`) |
//! | `git-internals` | a command other than git writing inside `.git/` |
//! | `no-verify` | skipping git hooks: `--no-verify`, `git commit -n`, `HUSKY=0`, `SKIP=…` |
//! | `hooks-path` | pointing git at other hooks: `-c core.hooksPath=…`, `git config core.hooksPath` |
//! | `hookgate-override` | setting `HOOKGATE_*` variables in the command |
//! | `agent-settings` | writing an agent's hook settings (`.claude/settings.json` …) |

use hookgate_sdk::glob::PatternSet;
use hookgate_sdk::shell::{self, Analysis};
use hookgate_sdk::tiers::Queries;
use hookgate_sdk::{Event, Finding, Kind, Outcome};
use serde::Deserialize;

/// What a rule does when it fires.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Act {
    /// Off.
    Allow,
    /// Tell the agent.
    Warn,
    /// Ask the human.
    Ask,
    /// Block.
    Deny,
}

impl Act {
    fn outcome(self) -> Option<Outcome> {
        match self {
            Act::Allow => None,
            Act::Warn => Some(Outcome::Warn),
            Act::Ask => Some(Outcome::Ask),
            Act::Deny => Some(Outcome::Deny),
        }
    }
}

/// shell-write's settings (its `config` table).
#[derive(Debug, Clone)]
pub struct Rules {
    /// `opaque`.
    pub opaque: Act,
    /// `unknown-command`.
    pub unknown_command: Act,
    /// `outside-repo`.
    pub outside_repo: Act,
    /// `git-internals`.
    pub git_internals: Act,
    /// `no-verify`.
    pub no_verify: Act,
    /// `hooks-path`.
    pub hooks_path: Act,
    /// `hookgate-override`.
    pub hookgate_override: Act,
    /// `agent-settings`.
    pub agent_settings: Act,
    /// Absolute paths outside the repository that may be written.
    pub outside_allowed: Vec<String>,
    /// Agent hook settings files.
    pub agent_settings_paths: Vec<String>,
    /// Commands to treat as known (they only read, or the team trusts them).
    pub known_commands: Vec<String>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            opaque: Act::Warn,
            unknown_command: Act::Warn,
            outside_repo: Act::Warn,
            git_internals: Act::Deny,
            no_verify: Act::Deny,
            hooks_path: Act::Deny,
            hookgate_override: Act::Deny,
            agent_settings: Act::Ask,
            outside_allowed: ["/tmp/**", "/var/tmp/**", "/dev/**"]
                .map(String::from)
                .to_vec(),
            agent_settings_paths: [
                "**/.claude/settings.json",
                "**/.claude/settings.local.json",
                "**/.gemini/settings.json",
                "**/.cursor/hooks.json",
                "**/.codex/config.toml",
                "**/.codex/hooks.json",
                "**/.windsurf/hooks.json",
                "**/.codeium/windsurf/hooks.json",
                "**/.github/hooks/**",
                "**/.kiro/hooks/**",
                "**/.clinerules/hooks/**",
                "**/.factory/settings.json",
                "**/.qwen/settings.json",
            ]
            .map(String::from)
            .to_vec(),
            known_commands: Vec::new(),
        }
    }
}

/// Check the settings: every pattern must be valid.
pub fn check(rules: &Rules) -> Result<(), String> {
    for (key, list) in [
        ("outside_allowed", &rules.outside_allowed),
        ("agent_settings_paths", &rules.agent_settings_paths),
    ] {
        if !list.is_empty() {
            PatternSet::new(list, false).map_err(|(p, e)| format!("{key}: pattern `{p}`: {e}"))?;
        }
    }
    Ok(())
}

fn add(out: &mut Vec<Finding>, act: Act, rule: &str, message: String, paths: Vec<String>) {
    if let Some(o) = act.outcome() {
        out.push(
            Finding::new(rule, o, message)
                .with_paths(paths)
                .with_docs("README.md#shell-write"),
        );
    }
}

/// The git subcommand of a git command line and its arguments, after the
/// global options (`-C DIR`, `-c K=V`, `--git-dir=…`).
fn git_sub(argv: &[String]) -> (Option<&str>, Vec<&str>, Vec<&str>) {
    let mut configs = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_str();
        match a {
            "-C" | "--git-dir" | "--work-tree" | "--namespace" => i += 2,
            "-c" => {
                if let Some(kv) = argv.get(i + 1) {
                    configs.push(kv.as_str());
                }
                i += 2;
            }
            _ if a.starts_with("-c") && a.len() > 2 => {
                configs.push(&a[2..]);
                i += 1;
            }
            _ if a.starts_with('-') => i += 1,
            _ => break,
        }
    }
    let sub = argv.get(i).map(String::as_str);
    let rest = argv.iter().skip(i + 1).map(String::as_str).collect();
    (sub, rest, configs)
}

/// Judge one event.
pub fn validate(event: &Event, rules: &Rules) -> Result<Vec<Finding>, String> {
    if !matches!(event.kind, Kind::PreTool) {
        return Ok(Vec::new());
    }
    let Some(a) = shell::current() else {
        return Ok(Vec::new());
    };
    Ok(judge(event, rules, &a))
}

/// The rules over an event and its analysis.
pub fn judge(event: &Event, rules: &Rules, a: &Analysis) -> Vec<Finding> {
    let mut out = Vec::new();
    if a.opaque {
        let mut why: Vec<&str> = a.reasons.iter().map(String::as_str).take(4).collect();
        if why.is_empty() {
            why.push("its effects depend on run-time values");
        }
        add(
            &mut out,
            rules.opaque,
            "opaque",
            format!(
                "hookgate can't tell what this command writes: {}.{} Prefer a command with explicit paths, or reserve what it touches first (`hookgate reserve PATTERN`).",
                why.join("; "),
                if a.unbounded { " It may write anywhere." } else { "" }
            ),
            Vec::new(),
        );
    }
    let unknown: Vec<&str> = a
        .unknown
        .iter()
        .map(String::as_str)
        .filter(|u| !rules.known_commands.iter().any(|k| k == u))
        .collect();
    if !unknown.is_empty() {
        add(
            &mut out,
            rules.unknown_command,
            "unknown-command",
            format!(
                "{} not in hookgate's command model, so what it writes is unknown. If it only reads, add it to shell-write's `known_commands`.",
                unknown.iter().map(|u| format!("`{u}`")).collect::<Vec<_>>().join(", ")
                    + if unknown.len() == 1 { " is" } else { " are" }
            ),
            Vec::new(),
        );
    }
    let written: Vec<&str> = event.written_paths().collect();
    let queries = Queries::new(
        written.iter().copied(),
        event.command.is_some(),
        event.case_insensitive,
    );
    if rules.outside_repo != Act::Allow {
        let allowed = PatternSet::new(&rules.outside_allowed, false).unwrap_or_default();
        let allowed_hits = queries.hits(&allowed);
        let outside: Vec<String> = written
            .iter()
            .filter(|p| p.starts_with('/') && *p != &"/**" && !allowed_hits.contains(p))
            .map(|p| p.to_string())
            .collect();
        if !outside.is_empty() {
            add(
                &mut out,
                rules.outside_repo,
                "outside-repo",
                format!(
                    "this command writes outside the repository: {}. Other agents and reservations can't see there.",
                    outside.join(", ")
                ),
                outside,
            );
        }
    }
    let internals: Vec<String> = written
        .iter()
        .filter(|p| p.starts_with(".git/") || **p == ".git")
        .map(|p| p.to_string())
        .collect();
    if !internals.is_empty() {
        add(
            &mut out,
            rules.git_internals,
            "git-internals",
            format!(
                "this command changes git's internals directly: {}. Use git commands (and `hookgate commit`) instead.",
                internals.join(", ")
            ),
            internals,
        );
    }
    let mut no_verify = Vec::new();
    let mut hooks_path = Vec::new();
    for argv in &a.commands {
        if argv.first().map(|c| c.rsplit('/').next().unwrap_or(c)) != Some("git") {
            continue;
        }
        let (sub, rest, configs) = git_sub(argv);
        for kv in configs {
            if kv.to_ascii_lowercase().starts_with("core.hookspath") {
                hooks_path.push(format!("git -c {kv}"));
            }
        }
        match sub {
            Some("commit" | "push" | "merge" | "am" | "rebase" | "cherry-pick" | "revert") => {
                let commit = sub == Some("commit");
                let skips = rest.iter().any(|r| {
                    *r == "--no-verify"
                        || (commit
                            && r.starts_with('-')
                            && !r.starts_with("--")
                            && r[1..]
                                .chars()
                                .take_while(|c| *c != 'm' && *c != 'F')
                                .any(|c| c == 'n'))
                });
                if skips {
                    no_verify.push(format!("git {}", sub.unwrap_or("")));
                }
            }
            Some("config")
                if rest.len() >= 2
                    && rest
                        .iter()
                        .any(|r| r.eq_ignore_ascii_case("core.hooksPath"))
                    && !rest
                        .iter()
                        .any(|r| matches!(*r, "--get" | "--get-all" | "-l" | "--list")) =>
            {
                hooks_path.push("git config core.hooksPath".into());
            }
            _ => {}
        }
    }
    for v in &a.assigns {
        if matches!(
            v.as_str(),
            "HUSKY" | "HUSKY_SKIP_HOOKS" | "SKIP" | "PRE_COMMIT_ALLOW_NO_CONFIG"
        ) {
            no_verify.push(format!("{v}=…"));
        }
        if v.starts_with("GIT_CONFIG_") {
            hooks_path.push(format!("{v}=…"));
        }
    }
    if !no_verify.is_empty() {
        add(
            &mut out,
            rules.no_verify,
            "no-verify",
            format!(
                "this command skips the repository's git hooks ({}). Run it without that; if a hook fails, fix what it reports.",
                no_verify.join(", ")
            ),
            Vec::new(),
        );
    }
    if !hooks_path.is_empty() {
        add(
            &mut out,
            rules.hooks_path,
            "hooks-path",
            format!(
                "this command points git at other hooks ({}), which bypasses the repository's checks.",
                hooks_path.join(", ")
            ),
            Vec::new(),
        );
    }
    let overrides: Vec<&str> = a
        .assigns
        .iter()
        .map(String::as_str)
        .filter(|v| v.starts_with("HOOKGATE_"))
        .collect();
    if !overrides.is_empty() {
        add(
            &mut out,
            rules.hookgate_override,
            "hookgate-override",
            format!(
                "this command sets {}: hookgate's identity and guards are not changed from an agent's shell.",
                overrides.join(", ")
            ),
            Vec::new(),
        );
    }
    if rules.agent_settings != Act::Allow && !rules.agent_settings_paths.is_empty() {
        if let Ok(set) = PatternSet::new(&rules.agent_settings_paths, event.case_insensitive) {
            let hit: Vec<String> = queries.hits(&set).into_iter().map(str::to_string).collect();
            if !hit.is_empty() {
                add(
                    &mut out,
                    rules.agent_settings,
                    "agent-settings",
                    format!(
                        "this command changes an agent's hook settings ({}); a human approves that.",
                        hit.join(", ")
                    ),
                    hit,
                );
            }
        }
    }
    out
}
