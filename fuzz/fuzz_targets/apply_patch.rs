//! Arbitrary text as a Codex `apply_patch` envelope: the parser must never
//! panic or hang, and what it accepts names only non-empty paths.
#![no_main]

use hookgate::platform::patch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = patch::parse(&text) {
        for path in p.writes.iter().chain(&p.deletes) {
            assert!(!path.is_empty());
        }
    }
});
