//! Property test: [`overlap`] against brute force. Every valid path over a
//! small alphabet (segments of one or two of `a`, `b`, `.`, up to four deep)
//! is tested against both sets with the matcher. Whenever some path matches
//! both, `overlap` must report an overlap; whenever `overlap` reports one, its
//! witness must match both sets. Together: no missed overlap, no false one.

use hookgate_glob::{overlap, PatternSet};
use proptest::prelude::*;
use std::sync::OnceLock;

fn universe() -> &'static Vec<String> {
    static PATHS: OnceLock<Vec<String>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let chars = ['a', 'b', '.'];
        let mut segs: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
        for x in chars {
            for y in chars {
                segs.push(format!("{x}{y}"));
            }
        }
        segs.retain(|s| s != "." && s != "..");
        let mut out: Vec<String> = segs.clone();
        let mut layer = segs.clone();
        for _ in 1..4 {
            let mut next = Vec::new();
            for p in &layer {
                for s in &segs {
                    next.push(format!("{p}/{s}"));
                }
            }
            out.extend(next.iter().cloned());
            layer = next;
        }
        out
    })
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[ab.]{1,2}",
        1 => Just("*".to_string()),
        1 => Just("a*".to_string()),
        1 => Just("*b".to_string()),
        1 => Just("*.*".to_string()),
        1 => Just("?".to_string()),
        1 => Just("[ab]".to_string()),
        1 => Just("[!a]*".to_string()),
        1 => Just("[a-b]?".to_string()),
        2 => Just("**".to_string()),
        1 => Just("{a,b*}".to_string()),
        1 => Just("{.a,**}".to_string()),
    ]
}

fn pattern() -> impl Strategy<Value = String> {
    prop::collection::vec(segment(), 1..4).prop_map(|v| v.join("/"))
}

fn set() -> impl Strategy<Value = Vec<String>> {
    (
        prop::collection::vec(pattern(), 1..3),
        prop::collection::vec(pattern(), 0..2),
    )
        .prop_map(|(inc, exc)| {
            inc.into_iter()
                .chain(exc.into_iter().map(|e| format!("!{e}")))
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]
    #[test]
    fn overlap_is_exact(a in set(), b in set()) {
        let (Ok(sa), Ok(sb)) = (PatternSet::new(&a, false), PatternSet::new(&b, false)) else {
            return Ok(());
        };
        let brute = universe().iter().find(|p| sa.matches(p) && sb.matches(p));
        let got = overlap(&sa, &sb).expect("small patterns stay within the state bound");
        if let Some(p) = brute {
            prop_assert!(got.is_some(), "missed overlap of {:?} and {:?}: both match {}", a, b, p);
        }
        if let Some(w) = &got {
            prop_assert!(sa.matches(w) && sb.matches(w), "false overlap of {:?} and {:?}: witness {}", a, b, w);
        }
    }

    #[test]
    fn overlap_is_symmetric(a in set(), b in set()) {
        let (Ok(sa), Ok(sb)) = (PatternSet::new(&a, false), PatternSet::new(&b, false)) else {
            return Ok(());
        };
        prop_assert_eq!(
            overlap(&sa, &sb).unwrap().is_some(),
            overlap(&sb, &sa).unwrap().is_some()
        );
    }
}
