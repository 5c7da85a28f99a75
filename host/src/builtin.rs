//! The built-in validators, compiled for wasm32-wasip2 by `build.rs` and
//! embedded in the binary.

include!(concat!(env!("OUT_DIR"), "/builtin_guests.rs"));

/// A built-in validator.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// Its name in policies.
    pub name: &'static str,
    /// The component.
    pub wasm: &'static [u8],
    /// sha256 of `wasm`, hex.
    pub sha256: &'static str,
}

/// Look a built-in up by name.
pub fn find(name: &str) -> Option<Builtin> {
    BUILTIN_GUESTS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(name, wasm, sha256)| Builtin { name, wasm, sha256 })
}

/// Names of all built-ins.
pub fn names() -> Vec<&'static str> {
    BUILTIN_GUESTS.iter().map(|(n, _, _)| *n).collect()
}
