//! Two arbitrary pattern sets: the exact overlap check must never panic, must
//! stay within its state bound, and any witness it returns must match both
//! sets; normalizing each pattern as an agent's reservation must never panic.
//! Input layout: first byte selects case folding (low bit); the rest (lossy
//! UTF-8) is two sets separated by a blank line, one pattern per line.
#![no_main]

use hookgate::paths::PathContext;
use hookgate::reservations::normalize_pattern;
use hookgate_glob::{overlap, PatternSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let fold = first & 1 == 1;
    let text = String::from_utf8_lossy(rest);
    let (a, b) = text.split_once("\n\n").unwrap_or((&text, "**"));
    let a: Vec<&str> = a.lines().take(16).collect();
    let b: Vec<&str> = b.lines().take(16).collect();
    let ctx = PathContext::new(std::path::Path::new("/tmp/hookgate-fuzz-repo/src")).with_case_fold(fold);
    for p in a.iter().chain(&b) {
        let _ = normalize_pattern(&ctx, p);
    }
    let (Ok(sa), Ok(sb)) = (PatternSet::new(&a, fold), PatternSet::new(&b, fold)) else {
        return;
    };
    if let Ok(Some(w)) = overlap(&sa, &sb) {
        let w = if fold { w.to_lowercase() } else { w };
        assert!(sa.matches(&w) && sb.matches(&w), "witness {w:?} for {a:?} / {b:?}");
    }
});
