//! Arbitrary text as a shell command line: the analysis must never panic,
//! hang or loop, and every path it reports must be absolute.
#![no_main]

use hookgate_shell::{analyze, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let fx = analyze(
        &text,
        &Options {
            cwd: "/repo/src".into(),
            home: Some("/home/u".into()),
            look: false,
        },
    );
    for p in fx.writes.iter().chain(&fx.deletes).chain(&fx.reads) {
        assert!(p.starts_with('/'), "relative path {p:?} from {text:?}");
    }
});
