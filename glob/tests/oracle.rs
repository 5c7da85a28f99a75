//! Property test: `Pattern::matches` agrees with a naive matcher written
//! straight from the DESIGN §5 rules, on random patterns and paths.

use hookgate_glob::Pattern;
use proptest::prelude::*;

/// Match one segment (no `/`) with `*` and `?`.
fn seg(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => seg(&p[1..], s) || (!s.is_empty() && seg(p, &s[1..])),
        (Some(b'?'), Some(_)) => seg(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => seg(&p[1..], &s[1..]),
        _ => false,
    }
}

/// Match segment lists, `**` spanning zero or more segments.
fn segs(p: &[&str], s: &[&str]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(&"**"), _) => segs(&p[1..], s) || (!s.is_empty() && segs(p, &s[1..])),
        (Some(a), Some(b)) => seg(a.as_bytes(), b.as_bytes()) && segs(&p[1..], &s[1..]),
        _ => false,
    }
}

fn naive(pattern: &str, path: &str) -> bool {
    let literal = !pattern.contains(['*', '?']);
    if literal {
        return path == pattern || path.starts_with(&format!("{pattern}/"));
    }
    let p: Vec<&str> = pattern.split('/').collect();
    let s: Vec<&str> = path.split('/').collect();
    segs(&p, &s)
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[ab]{1,3}",
        1 => Just("*".to_string()),
        1 => Just("a*".to_string()),
        1 => Just("*b".to_string()),
        1 => Just("?".to_string()),
        1 => Just("**".to_string()),
    ]
}

fn pattern() -> impl Strategy<Value = String> {
    prop::collection::vec(segment(), 1..5).prop_map(|v| v.join("/"))
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec("[ab]{1,3}", 1..6).prop_map(|v| v.join("/"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]
    #[test]
    fn agrees_with_the_naive_matcher(p in pattern(), s in path()) {
        // Collapse `**/**` runs, which the naive matcher treats identically anyway.
        let pat = Pattern::new(&p, false).unwrap();
        prop_assert_eq!(pat.matches(&s), naive(&p, &s), "pattern {} path {}", p, s);
    }

    #[test]
    fn braces_equal_their_expansion(a in pattern(), b in pattern(), s in path()) {
        let both = Pattern::new(&format!("{{{a},{b}}}"), false).unwrap();
        let expect = Pattern::new(&a, false).unwrap().matches(&s) || Pattern::new(&b, false).unwrap().matches(&s);
        prop_assert_eq!(both.matches(&s), expect);
    }

    #[test]
    fn arbitrary_patterns_never_panic(p in "\\PC{0,40}", s in "\\PC{0,40}") {
        if let Ok(pat) = Pattern::new(&p, false) {
            let _ = pat.matches(&s);
        }
    }
}
