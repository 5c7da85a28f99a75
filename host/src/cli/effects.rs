//! `hookgate effects [--cwd DIR] [--look] -- 'COMMAND'`: the shell analysis
//! on its own.

use std::path::Path;
use std::process::ExitCode;

use hookgate::paths::PathContext;
use hookgate_shell::{analyze, Options};

pub fn run(cwd: Option<&Path>, command: &str, look: bool, json: bool) -> anyhow::Result<ExitCode> {
    let here = std::env::current_dir()?;
    let ctx = PathContext::new(cwd.unwrap_or(&here));
    let fx = analyze(
        command,
        &Options {
            cwd: ctx.cwd.display().to_string(),
            home: std::env::var("HOME").ok(),
            look,
        },
    );
    // Repository-relative inside it, as the command names them: symlinks
    // are not followed here (`rm link` removes the link), while the hook
    // resolves them so that no link leads around a guard.
    let root = ctx.repo_root.as_ref().map(|r| format!("{}/", r.display()));
    let norm = |s: &std::collections::BTreeSet<String>| -> Vec<String> {
        s.iter()
            .map(|p| match &root {
                Some(r) if p == r.trim_end_matches('/') => ".".to_string(),
                Some(r) => p.strip_prefix(r.as_str()).unwrap_or(p).to_string(),
                None => p.clone(),
            })
            .collect()
    };
    let out = serde_json::json!({
        "writes": norm(&fx.writes),
        "deletes": norm(&fx.deletes),
        "reads": norm(&fx.reads),
        "opaque": fx.opaque,
        "reasons": fx.reasons,
        "unknown": fx.unknown,
    });
    let text = if json {
        out.to_string()
    } else {
        serde_json::to_string_pretty(&out)?
    };
    // A reader that stops early (`| head`) is not an error.
    use std::io::Write as _;
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}
