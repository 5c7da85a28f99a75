//! Host bindings for each supported version of the `hookgate:plugin` WIT.
//!
//! One module per version, as Zed does: `v0_1_0` binds `wit/v0.1.0`. When a
//! new version ships it gets its own module and converts into the newest
//! types, so the rest of the host sees one set.

/// Bindings for `hookgate:plugin@0.1.0`.
pub mod v0_1_0 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1.0",
        world: "validator",
    });
}

/// Versions of the plugin API this host can run, newest last.
pub const SUPPORTED: &[&str] = &["0.1.0"];
