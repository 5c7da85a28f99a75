//! The wasmtime runtime: one lean engine per process, precompiled components
//! loaded by mmap from an on-disk cache, and a fresh store with CPU and memory
//! bounds for every guest call.

pub mod bindings;
pub mod cache;
pub mod guest;
pub mod services;

pub use cache::CodeCache;
pub use guest::{GuestCall, GuestError, GuestOutput, Limits, LoadedGuest};

use wasmtime::{Config, Engine};

/// Fuel units per millisecond of CPU budget. Calibrated on the 2-core
/// reference machine: 10^7 fuel ≈ 13–15 ms of tight-loop work.
pub const FUEL_PER_MS: u64 = 700_000;

/// Build the engine every hookgate process uses. The settings are part of the
/// compiled-code cache key, so change them only together with the cache.
pub fn engine() -> Result<Engine, wasmtime::Error> {
    let mut config = Config::new();
    config.consume_fuel(true);
    config.wasm_component_model(true);
    Engine::new(&config)
}
