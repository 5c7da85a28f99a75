//! `read-guard`: tiers of paths that agents may not read (block), may read only
//! with a human's approval (checkpoint), or are warned about (warn).

use hookgate_sdk::tiers::TierConfig;
use hookgate_sdk::{Event, Finding, Kind, Validator};

struct ReadGuard;

impl Validator for ReadGuard {
    type Config = TierConfig;

    fn check_config(config: &TierConfig) -> Result<(), String> {
        config.check()
    }

    fn validate(event: &Event, config: &TierConfig) -> Result<Vec<Finding>, String> {
        // A guard acts before the action; afterwards there is nothing left to prevent.
        if !matches!(event.kind, Kind::PreTool | Kind::PreCommit) {
            return Ok(Vec::new());
        }
        if event.reads.is_empty() {
            return Ok(Vec::new());
        }
        config.evaluate(
            event.reads.iter().map(String::as_str),
            event.case_insensitive,
            "read",
        )
    }
}

hookgate_sdk::validator!(ReadGuard);
