//! `hookgate hook <platform>`: the hot path. Always exit 0 with a valid answer.

use std::io::{Read, Write};
use std::process::ExitCode;

use hookgate::hook::{handle_platform, MAX_PAYLOAD};
use hookgate::platform::PLATFORMS;

use super::Cli;

pub fn run(cli: &Cli, platform: &str, event: Option<String>) -> ExitCode {
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
    let opts = cli.hook_options(event, true);
    // Whatever happens inside, the platform gets a valid answer.
    let result = std::panic::catch_unwind(|| handle_platform(platform, &text, &opts));
    match result {
        Ok(Some(r)) => {
            let mut err = std::io::stderr().lock();
            for d in &r.diagnostics {
                let _ = writeln!(err, "{d}");
            }
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(r.answer.stdout.as_bytes());
            let _ = out.flush();
            ExitCode::from(u8::try_from(r.answer.exit_code).unwrap_or(0))
        }
        Ok(None) => {
            eprintln!("hookgate: no adapter for `{platform}` in this build yet; allowing");
            ExitCode::SUCCESS
        }
        Err(_) => {
            eprintln!("hookgate: internal error (panic); allowing so the agent is not wedged");
            ExitCode::SUCCESS
        }
    }
}
