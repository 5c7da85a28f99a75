//! Arbitrary pattern and path: validating a pattern, matching it and building
//! a set from it must never panic. Input layout: first byte selects case
//! folding (low bit), the rest is `pattern\npath` (lossy UTF-8).
#![no_main]

use hookgate_glob::{Pattern, PatternSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let case_insensitive = first & 1 == 1;
    let text = String::from_utf8_lossy(rest);
    let (pattern, path) = text.split_once('\n').unwrap_or((&text, ""));
    if let Ok(p) = Pattern::new(pattern, case_insensitive) {
        let _ = p.matches(path);
    }
    if let Ok(set) = PatternSet::new(&[pattern], case_insensitive) {
        let _ = set.matches(path);
    }
});
