//! Host bindings of the `hookgate:plugin` WIT.
//!
//! The host binds the newest version, 0.1.2. Guests built against 0.1.0 and
//! 0.1.1 link unchanged: 0.1.1 only added the `reservations` interface and
//! 0.1.2 the `shell` one, and wasmtime's linker resolves a guest's `@0.1.0`
//! or `@0.1.1` imports to the semver-compatible `@0.1.2` definitions. A breaking version (0.2) would get a module of its
//! own here, converting into the newest types, as Zed does.

/// Bindings for `hookgate:plugin@0.1.2`.
pub mod v0_1_2 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1.2",
        world: "validator",
    });
}

/// Versions of the plugin API this host can run, oldest first.
pub const SUPPORTED: &[&str] = &["0.1.0", "0.1.1", "0.1.2"];
