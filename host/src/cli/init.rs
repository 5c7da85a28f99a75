//! `hookgate init`: write `.hookgate/policy.toml` and merge the Claude Code
//! hook entries into `.claude/settings.json`, idempotently.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use hookgate::paths;
use hookgate::policy::DEFAULT_POLICY;
use serde_json::{json, Value};

use super::Cli;

/// Claude Code events hookgate registers, with their matchers.
const EVENTS: &[(&str, Option<&str>)] = &[
    (
        "PreToolUse",
        Some("Edit|Write|MultiEdit|NotebookEdit|Read|Glob|Grep|Bash"),
    ),
    (
        "PostToolUse",
        Some("Edit|Write|MultiEdit|NotebookEdit|Read|Glob|Grep|Bash"),
    ),
    ("UserPromptSubmit", None),
    ("SessionStart", None),
    ("Stop", None),
    ("SessionEnd", None),
];

fn default_bin() -> String {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("hookgate").is_file()))
        .unwrap_or(false);
    if on_path {
        return "hookgate".into();
    }
    std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "hookgate".into())
}

fn is_ours(handler: &Value) -> bool {
    let cmd = handler.get("command").and_then(Value::as_str).unwrap_or("");
    let args: Vec<&str> = handler
        .get("args")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let exec_form = Path::new(cmd).file_name().is_some_and(|n| n == "hookgate")
        && args.starts_with(&["hook", "claude"]);
    let shell_form = cmd.contains("hookgate hook claude");
    exec_form || shell_form
}

/// Merge hookgate's entries into Claude settings, keeping everything else.
pub fn merge_settings(mut settings: Value, bin: &str) -> anyhow::Result<Value> {
    let obj = settings
        .as_object_mut()
        .context(".claude/settings.json is not a JSON object")?;
    let hooks = obj.entry("hooks").or_insert_with(|| json!({}));
    let hooks = hooks
        .as_object_mut()
        .context("`hooks` in .claude/settings.json is not an object")?;
    for (event, matcher) in EVENTS {
        let groups = hooks.entry(*event).or_insert_with(|| json!([]));
        let groups = groups
            .as_array_mut()
            .with_context(|| format!("`hooks.{event}` is not an array"))?;
        // Drop earlier hookgate handlers (so a second run changes nothing) and groups left empty.
        for g in groups.iter_mut() {
            if let Some(hs) = g.get_mut("hooks").and_then(Value::as_array_mut) {
                hs.retain(|h| !is_ours(h));
            }
        }
        groups.retain(|g| {
            g.get("hooks")
                .and_then(Value::as_array)
                .is_none_or(|h| !h.is_empty())
        });
        let mut group = serde_json::Map::new();
        if let Some(m) = matcher {
            group.insert("matcher".into(), json!(m));
        }
        group.insert(
            "hooks".into(),
            json!([{ "type": "command", "command": bin, "args": ["hook", "claude", "--event", event], "timeout": 30 }]),
        );
        groups.push(Value::Object(group));
    }
    Ok(settings)
}

fn diff(path: &Path, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .header(
            &format!("a/{}", path.display()),
            &format!("b/{}", path.display()),
        )
        .to_string()
}

pub fn run(
    _cli: &Cli,
    dry_run: bool,
    bin: Option<String>,
    dir: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("current directory")?;
    let root = match dir {
        Some(d) => d,
        None => paths::find_repo_root(&cwd).unwrap_or(cwd),
    };
    let bin = bin.unwrap_or_else(default_bin);
    let policy_path = root.join(".hookgate").join("policy.toml");
    let settings_path = root.join(".claude").join("settings.json");

    let policy_new = (!policy_path.exists()).then(|| DEFAULT_POLICY.to_string());
    let settings_old = match std::fs::read_to_string(&settings_path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", settings_path.display())),
    };
    let current: Value = if settings_old.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(&settings_old).with_context(|| {
            format!(
                "{} is not valid JSON; fix it first, hookgate will not overwrite it",
                settings_path.display()
            )
        })?
    };
    let merged = merge_settings(current, &bin)?;
    let settings_new = format!("{}\n", serde_json::to_string_pretty(&merged)?);

    if dry_run {
        if let Some(p) = &policy_new {
            print!("{}", diff(&policy_path, "", p));
        }
        if settings_new != settings_old {
            print!("{}", diff(&settings_path, &settings_old, &settings_new));
        }
        if policy_new.is_none() && settings_new == settings_old {
            println!("nothing to change");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(p) = &policy_new {
        std::fs::create_dir_all(policy_path.parent().context("policy dir")?)?;
        std::fs::write(&policy_path, p)?;
        println!("wrote {}", policy_path.display());
    } else {
        println!("kept {} (already there)", policy_path.display());
    }
    if settings_new != settings_old {
        std::fs::create_dir_all(settings_path.parent().context("settings dir")?)?;
        let tmp = settings_path.with_extension("json.hookgate-tmp");
        std::fs::write(&tmp, &settings_new)?;
        std::fs::rename(&tmp, &settings_path)?;
        println!(
            "updated {} (hooks run `{bin} hook claude`)",
            settings_path.display()
        );
    } else {
        println!("kept {} (hooks already wired)", settings_path.display());
    }
    println!(
        "next: `hookgate policy check` validates the policy and warms the compiled-code cache"
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_user_settings_and_is_idempotent() {
        let user = json!({"model": "x", "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "mine"}]}]}});
        let once = merge_settings(user, "hookgate").unwrap();
        let twice = merge_settings(once.clone(), "hookgate").unwrap();
        assert_eq!(once, twice);
        assert_eq!(once["model"], "x");
        let pre = once["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(pre.len(), 2);
        assert_eq!(pre[0]["hooks"][0]["command"], "mine");
        assert_eq!(
            pre[1]["hooks"][0]["args"],
            json!(["hook", "claude", "--event", "PreToolUse"])
        );
    }
}
