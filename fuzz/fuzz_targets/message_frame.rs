//! Arbitrary text as another agent's message: checking it never panics, and
//! whatever passes is framed so that the block has exactly one opening and
//! one closing marker, the closing one last, and no control characters but
//! newline and tab.
#![no_main]

use hookgate::coordination::frame::{frame, MARKER};
use hookgate::coordination::messages::{check_body, check_name};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = check_name("the recipient", &text);
    let _ = check_body(&text);
    let f = frame("[message m1 from X]", &text, 4096, "`hookgate read m1`");
    let opens = f
        .lines()
        .filter(|l| l.starts_with(&format!("<<<{MARKER} ")))
        .count();
    let closes: Vec<&str> = f
        .lines()
        .filter(|l| l.starts_with(&format!("{MARKER} ")) && l.ends_with(">>>"))
        .collect();
    assert_eq!(opens, 1, "{f:?}");
    assert_eq!(closes.len(), 1, "{f:?}");
    assert!(f.ends_with(closes[0]));
    assert!(!f.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
});
