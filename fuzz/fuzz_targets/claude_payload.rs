//! Arbitrary bytes as a Claude Code hook payload: parsing must return Ok or
//! Err, never panic; a parsed event must render to an answer that is exit 0
//! with empty stdout or one JSON value.
#![no_main]

use hookgate::platform::claude::CLAUDE;
use hookgate::platform::{Adapter, Decision};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    for flag in [None, Some("PreToolUse")] {
        let Ok(raw) = Adapter::parse(&CLAUDE, &input, flag) else {
            continue;
        };
        let answer = Adapter::answer(&CLAUDE, &raw.native_event, &Decision::default());
        assert_eq!(answer.exit_code, 0, "non-zero exit for {:?}", raw.native_event);
        assert!(
            answer.stdout.is_empty()
                || serde_json::from_str::<serde_json::Value>(&answer.stdout).is_ok(),
            "stdout is neither empty nor JSON: {:?}",
            answer.stdout
        );
    }
});
