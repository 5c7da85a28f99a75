//! The built-in validators. Their components are compiled for wasm32-wasip2 by
//! `build.rs` and embedded in the binary; several validators may share one
//! component with different host-set configuration (`lock-check`,
//! `write-guard`, `read-guard` and `shell-write` are all `builtins`), so a
//! hook loads and links one component.

include!(concat!(env!("OUT_DIR"), "/builtin_guests.rs"));

/// A built-in validator.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// Its name in policies.
    pub name: &'static str,
    /// The component's name.
    pub component: &'static str,
    /// The component.
    pub wasm: &'static [u8],
    /// sha256 of `wasm`, hex.
    pub sha256: &'static str,
    /// Configuration keys the host sets (JSON object members), after the policy's.
    pub host_config: &'static [(&'static str, &'static str)],
    /// Host interfaces it is granted by default.
    pub grants: &'static [&'static str],
    /// Event contents it runs on by default (policy `when`).
    pub when: &'static [&'static str],
}

/// Configuration keys the host sets for a built-in validator.
type HostConfig = &'static [(&'static str, &'static str)];

/// One built-in: (validator, component, host-set configuration, default
/// grants, default `when`).
type Entry = (
    &'static str,
    &'static str,
    HostConfig,
    &'static [&'static str],
    &'static [&'static str],
);

const VALIDATORS: &[Entry] = &[
    (
        "lock-check",
        "builtins",
        &[("access", "locks")],
        &["reservations"],
        // `command`: a shell command's run-time targets are checked too.
        &["writes", "reads", "command"],
    ),
    (
        "write-guard",
        "builtins",
        &[("access", "write")],
        &[],
        &["writes"],
    ),
    (
        "read-guard",
        "builtins",
        &[("access", "read")],
        &[],
        &["reads"],
    ),
    (
        "shell-write",
        "builtins",
        &[("access", "shell")],
        &[],
        &["command"],
    ),
];

/// Look a built-in validator up by name.
pub fn find(name: &str) -> Option<Builtin> {
    let &(name, component, host_config, grants, when) =
        VALIDATORS.iter().find(|(n, ..)| *n == name)?;
    let &(_, wasm, sha256) = BUILTIN_COMPONENTS
        .iter()
        .find(|(c, _, _)| *c == component)?;
    Some(Builtin {
        name,
        component,
        wasm,
        sha256,
        host_config,
        grants,
        when,
    })
}

/// Names of all built-in validators.
pub fn names() -> Vec<&'static str> {
    VALIDATORS.iter().map(|(n, ..)| *n).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_has_its_component() {
        for n in super::names() {
            let b = super::find(n).unwrap();
            assert!(!b.wasm.is_empty() && b.sha256.len() == 64, "{n}");
        }
    }
}
