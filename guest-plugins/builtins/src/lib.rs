//! The built-in validators, in one component so that a hook loads and links
//! it once: `lock-check` (reservations), `write-guard` and `read-guard`
//! (path tiers). The host sets `access` in each one's configuration to say
//! which it is running as: `locks`, `write` or `read`.

mod lock_check;
mod path_guard;

use hookgate_sdk::tiers::{self, Tier};
use hookgate_sdk::{Event, Finding, Validator};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Access {
    Locks,
    Write,
    Read,
}

fn yes() -> bool {
    true
}

fn fifteen_minutes() -> String {
    "15m".into()
}

/// One flat struct for all three (no `#[serde(flatten)]` or tagged enum,
/// which would buffer and parse the config twice): this runs on every event.
#[derive(Debug, Deserialize)]
struct Config {
    access: Access,
    /// write-guard, read-guard: path tiers.
    #[serde(default)]
    tier: Vec<Tier>,
    /// lock-check: lease what an agent writes.
    #[serde(default = "yes")]
    auto_reserve: bool,
    /// lock-check: length of that lease.
    #[serde(default = "fifteen_minutes")]
    auto_reserve_ttl: String,
    /// lock-check: note reads of paths another agent holds exclusive.
    #[serde(default = "yes")]
    note_reads: bool,
}

impl Config {
    fn locks(&self) -> lock_check::Locks<'_> {
        lock_check::Locks {
            auto_reserve: self.auto_reserve,
            auto_reserve_ttl: &self.auto_reserve_ttl,
            note_reads: self.note_reads,
        }
    }
}

struct Builtins;

impl Validator for Builtins {
    type Config = Config;

    fn check_config(config: &Config) -> Result<(), String> {
        match config.access {
            Access::Locks => {
                if !config.tier.is_empty() {
                    return Err("lock-check takes no `tier`; it enforces reservations".into());
                }
                lock_check::check(&config.locks())
            }
            Access::Write | Access::Read => tiers::check(&config.tier),
        }
    }

    fn validate(event: &Event, config: &Config) -> Result<Vec<Finding>, String> {
        match config.access {
            Access::Locks => lock_check::validate(event, &config.locks()),
            Access::Write => path_guard::validate(event, &config.tier, true),
            Access::Read => path_guard::validate(event, &config.tier, false),
        }
    }
}

hookgate_sdk::validator!(Builtins);
