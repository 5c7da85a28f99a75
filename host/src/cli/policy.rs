//! `hookgate policy check [FILE] [--against REV]`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use hookgate::chain::Runtime;
use hookgate::paths;
use hookgate::policy::{self, diff, Layer, PolicyError};

use super::Cli;

fn repo_root() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    paths::find_repo_root(&cwd)
}

/// Exit code when `--against` finds loosenings.
const LOOSENED: u8 = 3;

pub fn check(
    cli: &Cli,
    file: Option<&Path>,
    against: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let root = repo_root();
    let explicit = file.map(Path::to_path_buf).or_else(|| cli.policy.clone());
    let layers = policy::layers_for(root.as_deref(), explicit.as_deref())?;
    let loaded = policy::load(&layers);
    let mut problems: Vec<String> = Vec::new();
    let policy = match loaded {
        Ok(p) => Some(p),
        Err(PolicyError::Invalid(diags)) => {
            if json {
                println!("{}", serde_json::json!({"ok": false, "errors": diags}));
            } else {
                for d in &diags {
                    eprintln!("{d}");
                }
                eprintln!("{} error(s)", diags.len());
            }
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.into()),
    };
    let policy = policy.context("policy")?;
    // Load every validator and let it check its configuration (this also
    // warms the compiled-code cache, so the first hook event is fast).
    problems.extend(warm(cli, root.as_deref(), &policy)?);
    let mut loosenings = Vec::new();
    if let Some(rev) = against {
        let root = root
            .as_deref()
            .context("--against needs a git repository")?;
        let old_layer = git_policy_at(root, rev)?;
        let mut old_layers = vec![Layer::builtin()];
        old_layers.extend(old_layer);
        if let Some(e) = &explicit {
            if file.is_none() {
                old_layers.push(Layer::read(e)?);
            }
        }
        let old = policy::load(&old_layers)
            .map_err(|e| anyhow::anyhow!("the policy at {rev} is invalid:\n{e}"))?;
        loosenings = diff::loosenings(&old, &policy);
    }
    if json {
        println!(
            "{}",
            serde_json::json!({"ok": problems.is_empty(), "sources": policy.sources, "validators": policy.validators, "errors": problems, "loosened": loosenings})
        );
    } else {
        for p in &problems {
            eprintln!("{p}");
        }
        if problems.is_empty() {
            println!(
                "policy ok: {} validator(s) from {}",
                policy.validators.len(),
                policy.sources.join(" + ")
            );
            for v in &policy.validators {
                println!(
                    "  {:<14} {:<8} on_error={}",
                    v.name,
                    v.stage.as_str(),
                    v.on_error
                );
            }
        }
        if let Some(rev) = against {
            if loosenings.is_empty() {
                println!("nothing loosened since {rev}");
            } else {
                println!("loosened since {rev}:");
                for l in &loosenings {
                    println!("  {}: {}", l.target, l.change);
                }
            }
        }
    }
    Ok(if !problems.is_empty() {
        ExitCode::from(1)
    } else if !loosenings.is_empty() {
        ExitCode::from(LOOSENED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Load every validator of `policy` (compiling into the cache if needed) and
/// run its configuration check; returns one line per problem.
pub fn warm(
    cli: &Cli,
    root: Option<&Path>,
    policy: &policy::Policy,
) -> anyhow::Result<Vec<String>> {
    let rt = Runtime::for_store(&cli.store_path(root)).map_err(anyhow::Error::msg)?;
    Ok(policy
        .validators
        .iter()
        .filter_map(|v| {
            rt.prepare(v)
                .err()
                .map(|e| format!("validator `{}`: {e}", v.name))
        })
        .collect())
}

fn git_policy_at(root: &Path, rev: &str) -> anyhow::Result<Option<Layer>> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["show", &format!("{rev}:.hookgate/policy.toml")])
        .output()
        .context("running git")?;
    if !out.status.success() {
        let verify = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args([
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{rev}^{{commit}}"),
            ])
            .output()
            .context("running git")?;
        if !verify.status.success() {
            anyhow::bail!("`{rev}` is not a git revision here");
        }
        return Ok(None); // No policy file at REV: only the built-in default applied.
    }
    Ok(Some(Layer {
        source: format!("{rev}:.hookgate/policy.toml"),
        base_dir: Some(root.join(".hookgate")),
        text: String::from_utf8_lossy(&out.stdout).into_owned(),
    }))
}
