//! Differential: rable (hookgate-shell's parser) and brush-parser must agree
//! on the structure of a command line (simple commands, words as written,
//! redirections, list/pipeline operators, compound commands, substitutions;
//! see `hookgate_fuzz::structure`), or else hookgate's analysis of the line
//! must come out opaque. A line rable rejects must always be opaque.
#![no_main]

use std::sync::OnceLock;

use hookgate_fuzz::structure::{brush_is_wrong, from_brush, from_rable, known_class, show};
use hookgate_shell::{analyze, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let r = from_rable(&text);
    let b = from_brush(&text);
    for s in [&r, &b] {
        if let Err(e) = s {
            // A summary bug, not a parser verdict.
            assert!(!e.starts_with("internal:"), "{e} for {text:?}");
        }
    }
    // Inputs brush-parser hangs or panics on are not given to it.
    let no_brush = b.as_ref().is_err_and(|e| e.starts_with("skip:"));
    let agree = match (&r, &b) {
        _ if no_brush => true,
        (Ok(x), Ok(y)) => x == y,
        (Err(_), Err(_)) => true,
        _ => false,
    };
    if agree && r.is_ok() {
        return;
    }
    // Classes where brush-parser is the one that differs from bash (checked
    // with bash 5.2; fuzz/README.md): nothing for the analysis to answer.
    if r.is_ok() && known_class(&text, &r, &b).is_some_and(brush_is_wrong) {
        return;
    }
    // `SHELL_PARSERS_SKIP_KNOWN=1`: skip the disagreement classes already
    // reported (fuzz/README.md), to look for new ones.
    static SKIP_KNOWN: OnceLock<bool> = OnceLock::new();
    if *SKIP_KNOWN.get_or_init(|| std::env::var_os("SHELL_PARSERS_SKIP_KNOWN").is_some())
        && r.is_ok()
        && known_class(&text, &r, &b).is_some()
    {
        return;
    }
    let fx = analyze(
        &text,
        &Options {
            cwd: "/repo/src".into(),
            home: Some("/home/u".into()),
            look: false,
        },
    );
    if r.is_err() {
        assert!(fx.opaque, "rable rejects {text:?} ({}) but the analysis is not opaque", show(&r));
    }
    if no_brush {
        return;
    }
    assert!(
        fx.opaque,
        "parsers disagree on {text:?} and the analysis is not opaque\n  rable: {}\n  brush: {}\n  effects: {fx:?}",
        show(&r),
        show(&b),
    );
});
