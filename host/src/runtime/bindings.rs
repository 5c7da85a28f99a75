//! Host bindings of the `hookgate:plugin` WIT.
//!
//! The host binds the newest version, 0.1.1. Guests built against 0.1.0 link
//! unchanged: 0.1.1 only adds the `reservations` interface, and wasmtime's
//! linker resolves a guest's `@0.1.0` imports to the semver-compatible
//! `@0.1.1` definitions. A breaking version (0.2) would get a module of its
//! own here, converting into the newest types, as Zed does.

/// Bindings for `hookgate:plugin@0.1.1`.
pub mod v0_1_1 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1.1",
        world: "validator",
    });
}

/// Versions of the plugin API this host can run, oldest first.
pub const SUPPORTED: &[&str] = &["0.1.0", "0.1.1"];
