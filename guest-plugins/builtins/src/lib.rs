//! The built-in validators, in one component so that a hook loads and links
//! it once: `lock-check` (reservations), `write-guard` and `read-guard`
//! (path tiers), `shell-write` (what the shell analysis could not settle).
//! The host sets `access` in each one's configuration to say which it is
//! running as: `locks`, `write`, `read` or `shell`.

mod lock_check;
mod path_guard;
mod shell_write;

use shell_write::{Act, Rules};

use hookgate_sdk::tiers::{self, Tier};
use hookgate_sdk::{Event, Finding, Validator};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Access {
    Locks,
    Write,
    Read,
    Shell,
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
    /// shell-write: each rule's outcome (see `shell_write`).
    #[serde(default)]
    opaque: Option<Act>,
    #[serde(default)]
    unknown_command: Option<Act>,
    #[serde(default)]
    outside_repo: Option<Act>,
    #[serde(default)]
    git_internals: Option<Act>,
    #[serde(default)]
    no_verify: Option<Act>,
    #[serde(default)]
    hooks_path: Option<Act>,
    #[serde(default)]
    hookgate_override: Option<Act>,
    #[serde(default)]
    agent_settings: Option<Act>,
    #[serde(default)]
    git_commit: Option<Act>,
    #[serde(default)]
    git_add: Option<Act>,
    /// shell-write: absolute paths outside the repository that may be written.
    #[serde(default)]
    outside_allowed: Option<Vec<String>>,
    /// shell-write: agent hook settings files.
    #[serde(default)]
    agent_settings_paths: Option<Vec<String>>,
    /// shell-write: commands treated as known.
    #[serde(default)]
    known_commands: Option<Vec<String>>,
}

impl Config {
    fn shell(&self) -> Rules {
        let d = Rules::default();
        Rules {
            opaque: self.opaque.unwrap_or(d.opaque),
            unknown_command: self.unknown_command.unwrap_or(d.unknown_command),
            outside_repo: self.outside_repo.unwrap_or(d.outside_repo),
            git_internals: self.git_internals.unwrap_or(d.git_internals),
            no_verify: self.no_verify.unwrap_or(d.no_verify),
            hooks_path: self.hooks_path.unwrap_or(d.hooks_path),
            hookgate_override: self.hookgate_override.unwrap_or(d.hookgate_override),
            agent_settings: self.agent_settings.unwrap_or(d.agent_settings),
            git_commit: self.git_commit.unwrap_or(d.git_commit),
            git_add: self.git_add.unwrap_or(d.git_add),
            outside_allowed: self.outside_allowed.clone().unwrap_or(d.outside_allowed),
            agent_settings_paths: self
                .agent_settings_paths
                .clone()
                .unwrap_or(d.agent_settings_paths),
            known_commands: self.known_commands.clone().unwrap_or(d.known_commands),
        }
    }

    /// shell-write's keys that are set, for the error on other validators.
    fn shell_keys(&self) -> Vec<&'static str> {
        [
            ("opaque", self.opaque.is_some()),
            ("unknown_command", self.unknown_command.is_some()),
            ("outside_repo", self.outside_repo.is_some()),
            ("git_internals", self.git_internals.is_some()),
            ("no_verify", self.no_verify.is_some()),
            ("hooks_path", self.hooks_path.is_some()),
            ("hookgate_override", self.hookgate_override.is_some()),
            ("agent_settings", self.agent_settings.is_some()),
            ("git_commit", self.git_commit.is_some()),
            ("git_add", self.git_add.is_some()),
            ("outside_allowed", self.outside_allowed.is_some()),
            ("agent_settings_paths", self.agent_settings_paths.is_some()),
            ("known_commands", self.known_commands.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect()
    }

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
        if config.access != Access::Shell {
            if let Some(k) = config.shell_keys().first() {
                return Err(format!(
                    "`{k}` is a setting of shell-write, not of this validator"
                ));
            }
        }
        match config.access {
            Access::Shell => {
                if !config.tier.is_empty() {
                    return Err("shell-write takes no `tier`; write-guard and read-guard judge a command's paths".into());
                }
                shell_write::check(&config.shell())
            }
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
            Access::Shell => shell_write::validate(event, &config.shell()),
        }
    }
}

hookgate_sdk::validator!(Builtins);
