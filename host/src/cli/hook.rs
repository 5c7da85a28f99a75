//! `hookgate hook <platform>`: the hot path. Always exit 0 with a valid answer.

use std::io::{Read, Write};
use std::process::ExitCode;

use hookgate::hook::{handle_platform, MAX_PAYLOAD};
use hookgate::platform::PLATFORMS;

use hookgate::hook::HookOptions;

/// `hook <platform> [--event E]` with at most the global flags, parsed
/// without building clap's command tree (about 50 µs of every hook); any
/// other shape returns `None` and goes through clap.
pub fn fast_args(args: &[String]) -> Option<(String, HookOptions)> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let mut opts = HookOptions {
        policy: env("HOOKGATE_POLICY").map(Into::into),
        store: env("HOOKGATE_STORE").map(Into::into),
        agent: env("HOOKGATE_AGENT").and_then(|v| v.into_string().ok()),
        audit: true,
        one_shot: true,
        ..HookOptions::default()
    };
    let mut it = args.iter();
    if it.next()? != "hook" {
        return None;
    }
    let mut platform = None;
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next().cloned());
        match flag {
            "--event" => opts.event_flag = Some(value()?),
            "--store" => opts.store = Some(value()?.into()),
            "--agent" => opts.agent = Some(value()?),
            "--policy" => opts.policy = Some(value()?.into()),
            "--json" if inline.is_none() => {}
            f if f.starts_with('-') => return None,
            p if platform.is_none() => platform = Some(p.to_string()),
            _ => return None,
        }
    }
    Some((platform?, opts))
}

pub fn run(platform: &str, opts: HookOptions) -> ExitCode {
    if !PLATFORMS.contains(&platform) {
        eprintln!(
            "hookgate: unknown platform `{platform}`; use one of {}",
            PLATFORMS.join(", ")
        );
        return ExitCode::from(1);
    }
    let mut input = Vec::new();
    let read = std::io::stdin()
        .take(MAX_PAYLOAD as u64 + 1)
        .read_to_end(&mut input);
    let text = match read {
        Ok(_) if input.len() > MAX_PAYLOAD => {
            eprintln!("hookgate: payload larger than {MAX_PAYLOAD} bytes; ignored");
            String::new()
        }
        Ok(_) => String::from_utf8_lossy(&input).into_owned(),
        Err(e) => {
            eprintln!("hookgate: could not read stdin: {e}");
            String::new()
        }
    };
    // Whatever happens inside, the platform gets a valid answer.
    let result = std::panic::catch_unwind(|| handle_platform(platform, &text, &opts));
    match result {
        Ok(Some(r)) => {
            let mut err = std::io::stderr().lock();
            // The block reason first: Windsurf, Kiro and Codex read stderr.
            let _ = err.write_all(r.answer.stderr.as_bytes());
            for d in &r.diagnostics {
                let _ = writeln!(err, "{d}");
            }
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(r.answer.stdout.as_bytes());
            let _ = out.flush();
            ExitCode::from(u8::try_from(r.answer.exit_code).unwrap_or(0))
        }
        Ok(None) => {
            eprintln!("hookgate: no adapter for `{platform}`; allowing");
            ExitCode::SUCCESS
        }
        Err(_) => {
            eprintln!("hookgate: internal error (panic); allowing so the agent is not wedged");
            ExitCode::SUCCESS
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Option<(String, HookOptions)> {
        fast_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_fast_path_takes_only_what_clap_would_take_the_same_way() {
        let (p, o) = parse(&["hook", "claude", "--event", "PreToolUse"]).unwrap();
        assert_eq!(
            (p.as_str(), o.event_flag.as_deref()),
            ("claude", Some("PreToolUse"))
        );
        let (_, o) = parse(&["hook", "--event=Stop", "claude", "--store", "/s.db"]).unwrap();
        assert_eq!(o.event_flag.as_deref(), Some("Stop"));
        assert_eq!(o.store.as_deref(), Some(std::path::Path::new("/s.db")));
        assert!(parse(&["hook"]).is_none());
        assert!(parse(&["hook", "claude", "--help"]).is_none());
        assert!(parse(&["hook", "claude", "extra"]).is_none());
        assert!(parse(&["hook", "claude", "--event"]).is_none());
        assert!(parse(&["explain", "claude"]).is_none());
    }
}
