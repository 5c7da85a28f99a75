//! `hookgate explain <platform>`: the hook's reasoning, for people.

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context;
use hookgate::hook::{handle_platform, MAX_PAYLOAD};
use hookgate::policy::Stage;

use super::Cli;

pub fn run(
    cli: &Cli,
    platform: &str,
    event: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut input = Vec::new();
    std::io::stdin()
        .take(MAX_PAYLOAD as u64)
        .read_to_end(&mut input)
        .context("reading the payload from stdin")?;
    let text = String::from_utf8_lossy(&input);
    let r = handle_platform(platform, &text, &cli.hook_options(event, false))
        .with_context(|| format!("no adapter for platform `{platform}` in this build yet"))?;
    if json {
        let out = serde_json::json!({
            "event": r.event,
            "decision": r.verdict.decision,
            "findings": r.verdict.findings,
            "validators": r.verdict.runs,
            "answer": { "stdout": r.answer.stdout, "exit_code": r.answer.exit_code },
            "diagnostics": r.diagnostics,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(e) = &r.event {
        println!(
            "event    {} {}{} by {} ({})",
            e.platform,
            e.native_event,
            e.tool
                .as_deref()
                .map(|t| format!(" {t}"))
                .unwrap_or_default(),
            e.agent.name,
            e.agent.id
        );
        for (label, paths) in [
            ("writes", &e.writes),
            ("deletes", &e.deletes),
            ("reads", &e.reads),
        ] {
            if !paths.is_empty() {
                println!("{label:<8} {}", paths.join(", "));
            }
        }
        if let Some(c) = &e.command {
            println!("command  {c}");
        }
        if let Some(sh) = &e.shell {
            if sh.opaque {
                println!("opaque   {}", sh.reasons.join("; "));
            }
            if !sh.bounds.is_empty() {
                println!(
                    "bounds   {} (run-time targets; not in the paths)",
                    sh.bounds.join(", ")
                );
            }
            if !sh.unknown.is_empty() {
                println!("unknown  {}", sh.unknown.join(", "));
            }
        }
        if let Some(s) = &e.sniffed {
            println!("sniffed  the payload looks like {s}'s");
        }
    }
    for run in &r.verdict.runs {
        let cold = if run.compiled_now {
            "  (compiled now: cold cache)"
        } else {
            ""
        };
        println!(
            "\n{}  stage={}  {:.2} ms (load {:.2} ms){cold}",
            run.validator,
            run.stage,
            run.duration_us as f64 / 1000.0,
            run.load_us as f64 / 1000.0
        );
        let mine: Vec<_> = r
            .verdict
            .findings
            .iter()
            .filter(|f| f.validator == run.validator)
            .collect();
        if mine.is_empty() {
            println!("  no findings");
        }
        for f in mine {
            let what = if f.stage == Stage::Monitor {
                format!("would {} (monitor: recorded only)", f.would)
            } else if f.effective != f.would {
                format!("would {} → {} ({} stage)", f.would, f.effective, f.stage)
            } else {
                format!("{} ({} stage)", f.effective, f.stage)
            };
            println!("  {}: {what}\n    {}", f.rule, f.message);
        }
        for l in &run.logs {
            println!("  log {l}");
        }
    }
    for f in r.verdict.findings.iter().filter(|f| {
        !r.verdict
            .runs
            .iter()
            .any(|run| run.validator == f.validator)
    }) {
        println!("\n{}: {} — {}", f.validator, f.effective, f.message);
    }
    println!("\ndecision {}", r.verdict.decision);
    let shown = if r.answer.stdout.is_empty() {
        "(empty: no opinion)".to_string()
    } else {
        r.answer.stdout.trim_end().to_string()
    };
    println!("answer   exit {} stdout {shown}", r.answer.exit_code);
    Ok(ExitCode::SUCCESS)
}
