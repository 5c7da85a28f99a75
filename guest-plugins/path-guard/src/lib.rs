//! `path-guard`: the component behind the built-in `write-guard` and
//! `read-guard` validators. Tiers of paths that agents may not touch (block),
//! may touch only with a human's approval (checkpoint), or are warned about
//! (warn). The host sets `access`: `write` judges the paths an event writes or
//! deletes, `read` the paths it reads. One component serves both, so a hook
//! loads and links it once.

use hookgate_sdk::tiers::{self, Tier};
use hookgate_sdk::{Event, Finding, Kind, Validator};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Access {
    Write,
    Read,
}

/// A plain struct (no `#[serde(flatten)]`, which would buffer and parse the
/// config twice): this runs on every event.
#[derive(Debug, Deserialize)]
struct Config {
    access: Access,
    #[serde(default)]
    tier: Vec<Tier>,
}

struct PathGuard;

impl Validator for PathGuard {
    type Config = Config;

    fn check_config(config: &Config) -> Result<(), String> {
        tiers::check(&config.tier)
    }

    fn validate(event: &Event, config: &Config) -> Result<Vec<Finding>, String> {
        // A guard acts before the action; afterwards there is nothing left to prevent.
        if !matches!(event.kind, Kind::PreTool | Kind::PreCommit) {
            return Ok(Vec::new());
        }
        match config.access {
            Access::Write if !event.writes.is_empty() || !event.deletes.is_empty() => {
                tiers::evaluate(
                    &config.tier,
                    event.written_paths(),
                    event.case_insensitive,
                    "write",
                )
            }
            Access::Read if !event.reads.is_empty() => tiers::evaluate(
                &config.tier,
                event.reads.iter().map(String::as_str),
                event.case_insensitive,
                "read",
            ),
            _ => Ok(Vec::new()),
        }
    }
}

hookgate_sdk::validator!(PathGuard);
