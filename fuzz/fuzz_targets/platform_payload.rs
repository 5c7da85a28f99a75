//! Arbitrary bytes as a hook payload for every platform adapter (Claude's
//! dialect and its clones, Gemini, Cursor, Windsurf, Kiro, Copilot, Cline):
//! parsing must never panic or hang, sniffing must never panic, and the
//! answer to any outcome must be valid for the platform (exit 0, or 2/1 for
//! the exit-code dialects with a reason on stderr; stdout empty or one JSON
//! object, except Kiro's context text).
#![no_main]

use hookgate::event::Outcome;
use hookgate::platform::{adapter, json, sniff, Decision, PLATFORMS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(obj) = json::object(&text) {
        let _ = sniff::platform(&obj);
    }
    for name in PLATFORMS {
        let a = adapter(name).expect("every platform has an adapter");
        let native = match a.parse(&text, None) {
            Ok(raw) => raw.native_event,
            Err(_) => "PreToolUse".to_string(),
        };
        for outcome in [Outcome::Allow, Outcome::Warn, Outcome::Ask, Outcome::Deny] {
            let d = Decision {
                outcome,
                deny: vec!["d".into()],
                ask: vec!["a".into()],
                warn: vec!["w".into()],
            };
            let ans = a.answer(&native, &d);
            assert!([0, 1, 2].contains(&ans.exit_code));
            if ans.exit_code != 0 {
                assert!(matches!(*name, "windsurf" | "kiro"), "{name}");
                assert!(!ans.stderr.trim().is_empty());
            }
            if !ans.stdout.is_empty() && *name != "kiro" {
                assert!(serde_json::from_str::<serde_json::Value>(&ans.stdout).is_ok_and(|v| v.is_object()));
            }
        }
    }
});
