//! hookgate: one binary that every agent platform calls on every hook event.
//!
//! The library behind the `hookgate` binary: platform adapters, the
//! normalized event, the policy, the wasm runtime, the validator chain with
//! its rollout stages, and the audit log.

pub mod builtin;
pub mod chain;
pub mod coordination;
pub mod duration;
pub mod enrich;
pub mod event;
pub mod git;
pub mod hook;
pub mod install;
pub mod lease_view;
pub mod mcp;
pub mod paths;
pub mod platform;
pub mod policy;
pub mod presence;
pub mod reservations;
pub mod rollout;
pub mod runtime;
pub mod shell_identity;
pub mod store;
