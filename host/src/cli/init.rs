//! `hookgate init` and `hookgate uninstall`: write `.hookgate/policy.toml`
//! and merge hookgate's hook entries into each platform's configuration
//! (the named platforms, or those found in the repository and the home
//! directory), idempotently; show the diff with `--dry-run`; take the
//! entries out again. With the hooks, hookgate's MCP server (`hookgate mcp`)
//! is registered in each platform's project MCP configuration (not with
//! `--no-mcp`; see [`hookgate::install::mcp`] for which platforms have one),
//! and git's `pre-commit` and `pre-push` hooks run `hookgate git …` (not
//! with `--no-git-hooks`; see [`hookgate::install::git_hooks`]).
//!
//! `git` may be named with `--platform` like an agent platform: `init
//! --platform git` installs the git hooks (and the policy) only; `uninstall`
//! removes the git hooks when no platform is named or `git` is among them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use hookgate::install::git_hooks::{self, Step};
use hookgate::install::{self, mcp, Change, Wiring};
use hookgate::paths;
use hookgate::policy::DEFAULT_POLICY;

use super::Cli;

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

fn diff(path: &Path, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .header(
            &format!("a/{}", path.display()),
            &format!("b/{}", path.display()),
        )
        .to_string()
}

/// The repository root and the wirings to act on.
pub fn targets(
    dir: Option<PathBuf>,
    platforms: &[String],
) -> anyhow::Result<(PathBuf, Vec<&'static Wiring>)> {
    let cwd = std::env::current_dir().context("current directory")?;
    let root = match dir {
        Some(d) => d,
        None => paths::find_repo_root(&cwd).unwrap_or(cwd),
    };
    let names: Vec<String> = if platforms.is_empty() {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        install::detect(&root, home.as_deref())
            .into_iter()
            .map(str::to_string)
            .collect()
    } else {
        platforms.to_vec()
    };
    let mut wirings: Vec<&'static Wiring> = Vec::new();
    for n in &names {
        let w = install::wiring(n).with_context(|| {
            format!(
                "`{n}` has no hook configuration hookgate can write; use one of {} (vscode reads copilot's and claude's)",
                install::PLATFORMS.iter().map(|w| w.platform).collect::<Vec<_>>().join(", ")
            )
        })?;
        if !wirings.iter().any(|x| x.platform == w.platform) {
            wirings.push(w);
        }
    }
    Ok((root, wirings))
}

/// `--platform git`: git's hooks, not an agent platform.
const GIT: &str = "git";

/// Is `git` named, and the agent platforms named.
fn split_git(platforms: &[String]) -> (bool, Vec<String>) {
    (
        platforms.iter().any(|p| p == GIT),
        platforms.iter().filter(|p| *p != GIT).cloned().collect(),
    )
}

/// Show (`--dry-run`) or apply the git hooks' steps, in order; were there any?
fn show_or_apply_steps(steps: &[Step], root: &Path, dry_run: bool) -> anyhow::Result<bool> {
    let shown = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    for s in steps {
        if dry_run {
            match s {
                Step::Write { path, old, new, .. } => print!(
                    "{}",
                    diff(Path::new(&shown(path)), old.as_deref().unwrap_or(""), new)
                ),
                Step::Remove { path, old } => print!("{}", diff(Path::new(&shown(path)), old, "")),
                Step::Rename { from, to } => println!(
                    "diff --git a/{0} b/{1}\nrename from {0}\nrename to {1}",
                    shown(from),
                    shown(to)
                ),
            }
            continue;
        }
        s.apply()
            .with_context(|| format!("writing {}", s.path().display()))?;
        match s {
            Step::Write {
                path, old: None, ..
            } => println!("wrote {}", shown(path)),
            Step::Write { path, .. } => println!("updated {}", shown(path)),
            Step::Remove { path, .. } => println!("removed {}", shown(path)),
            Step::Rename { from, to } => println!("moved {} to {}", shown(from), shown(to)),
        }
    }
    Ok(!steps.is_empty())
}

fn show_or_apply(changes: &[Change], root: &Path, dry_run: bool) -> anyhow::Result<bool> {
    let mut any = false;
    for c in changes.iter().filter(|c| c.is_change()) {
        any = true;
        let shown = c.path.strip_prefix(root).unwrap_or(&c.path);
        if dry_run {
            print!(
                "{}",
                diff(
                    shown,
                    c.old.as_deref().unwrap_or(""),
                    c.new.as_deref().unwrap_or("")
                )
            );
        } else {
            c.apply()
                .with_context(|| format!("writing {}", c.path.display()))?;
            match (&c.old, &c.new) {
                (_, None) => println!("removed {}", shown.display()),
                (None, Some(_)) => println!("wrote {}", shown.display()),
                _ => println!("updated {}", shown.display()),
            }
        }
    }
    Ok(any)
}

pub fn run(
    _cli: &Cli,
    dry_run: bool,
    bin: Option<String>,
    dir: Option<PathBuf>,
    platforms: &[String],
    with_mcp: bool,
    with_git_hooks: bool,
) -> anyhow::Result<ExitCode> {
    let (git_named, agents) = split_git(platforms);
    let (root, mut wirings) = targets(dir, &agents)?;
    if git_named && agents.is_empty() {
        wirings.clear();
    }
    let bin = bin.unwrap_or_else(default_bin);
    let policy_path = root.join(".hookgate").join("policy.toml");
    let mut changes = Vec::new();
    if !policy_path.exists() {
        changes.push(Change {
            path: policy_path.clone(),
            old: None,
            new: Some(DEFAULT_POLICY.to_string()),
            executable: false,
            root: root.clone(),
        });
    }
    for w in &wirings {
        changes.extend(install::install(w, &root, &bin)?);
    }
    // The MCP server, merged into the same changes (Gemini and Qwen keep
    // it in their hooks' file).
    let mut registered: Vec<&'static mcp::McpWiring> = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    for w in wirings.iter().filter(|_| with_mcp) {
        match mcp::mcp_wiring(w.platform) {
            Some(m) => match mcp::install(m, &root, &bin, &mut changes).with_context(|| {
                format!(
                    "registering the MCP server for {} (skip it with --no-mcp)",
                    w.platform
                )
            })? {
                Some(note) => taken.push(note),
                None => registered.push(m),
            },
            None => skipped.push(format!(
                "{}: {}",
                w.platform,
                mcp::skipped(w.platform).unwrap_or("no project MCP configuration")
            )),
        }
    }
    // git's pre-commit and pre-push, computed before anything is written.
    let git_plan = if with_git_hooks {
        Some(
            git_hooks::install(&root, &bin)
                .context("installing the git hooks (skip them with --no-git-hooks)")?,
        )
    } else {
        None
    };
    let any = show_or_apply(&changes, &root, dry_run)?;
    let any_git = match &git_plan {
        Some(p) => show_or_apply_steps(&p.steps, &root, dry_run)?,
        None => false,
    };
    if !any && !any_git {
        println!("nothing to change");
    }
    for t in &taken {
        println!("mcp: {t}");
    }
    for n in git_plan.iter().flat_map(|p| &p.notes) {
        println!("git: {n}");
    }
    if !dry_run {
        let names: Vec<&str> = wirings.iter().map(|w| w.platform).collect();
        if !names.is_empty() {
            println!(
                "wired {} (hooks run `{bin} hook <platform>`); `hookgate doctor` checks them, `hookgate policy check` warms the compiled-code cache",
                names.join(", ")
            );
        }
        if let Some(dir) = git_plan.as_ref().and_then(|p| p.hooks_dir.as_ref()) {
            println!(
                "git: pre-commit and pre-push in {} run `{bin} git pre-commit` and `{bin} git pre-push` (`git commit --no-verify` skips them)",
                dir.strip_prefix(&root).unwrap_or(dir).display()
            );
        }
        if names.contains(&"codex") {
            println!("codex: open `codex` here and trust the hooks under /hooks; untrusted hooks stay silent");
        }
        if !registered.is_empty() {
            println!(
                "MCP server `{bin} mcp` registered in {}",
                registered
                    .iter()
                    .map(|m| m.path)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for m in &registered {
                if let Some(n) = m.note {
                    println!("{}: {n}", m.platform);
                }
            }
        }
        for s in &skipped {
            println!("MCP server not registered for {s}; add it there yourself (command `{bin}`, args [\"mcp\"])");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn uninstall(
    dry_run: bool,
    dir: Option<PathBuf>,
    platforms: &[String],
) -> anyhow::Result<ExitCode> {
    let (git_named, agents) = split_git(platforms);
    let (root, _) = targets(dir.clone(), &agents)?;
    // With no platform named: every platform, wired or not, and git.
    let wirings: Vec<&'static Wiring> = if platforms.is_empty() {
        install::PLATFORMS.iter().collect()
    } else if agents.is_empty() {
        Vec::new()
    } else {
        targets(dir, &agents)?.1
    };
    let mut changes = Vec::new();
    for w in &wirings {
        changes.extend(install::uninstall(w, &root)?);
    }
    // hookgate's MCP server entries; the user's servers stay.
    for w in &wirings {
        if let Some(m) = mcp::mcp_wiring(w.platform) {
            mcp::uninstall(m, &root, &mut changes)
                .with_context(|| format!("removing the MCP server for {}", w.platform))?;
        }
    }
    let git_plan = if platforms.is_empty() || git_named {
        Some(git_hooks::uninstall(&root).context("removing the git hooks")?)
    } else {
        None
    };
    let any = show_or_apply(&changes, &root, dry_run)?;
    let any_git = match &git_plan {
        Some(p) => show_or_apply_steps(&p.steps, &root, dry_run)?,
        None => false,
    };
    // Not a git work tree: say so only when git was named.
    for p in git_plan
        .iter()
        .filter(|p| p.hooks_dir.is_some() || git_named)
    {
        for n in &p.notes {
            println!("git: {n}");
        }
    }
    if !any && !any_git {
        println!("nothing to remove");
    } else if !dry_run {
        println!(
            "kept .hookgate/ (the policy and the store); remove it yourself if you want them gone"
        );
    }
    Ok(ExitCode::SUCCESS)
}
