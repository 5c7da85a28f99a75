//! Arbitrary text as a policy layer on top of the built-in default: loading
//! must return Ok or Err, never panic, and every diagnostic must carry a
//! 1-based line and column.
#![no_main]

use hookgate::policy::{load, Layer, PolicyError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let layers = [
        Layer::builtin(),
        Layer {
            source: "fuzz.toml".into(),
            base_dir: None,
            text: text.to_string(),
        },
    ];
    if let Err(PolicyError::Invalid(diags)) = load(&layers) {
        for d in &diags {
            assert!(d.line >= 1, "line 0 in {d:?}");
            assert!(d.column >= 1, "column 0 in {d:?}");
        }
    }
});
