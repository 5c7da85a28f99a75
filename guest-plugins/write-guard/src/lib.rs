//! `write-guard`: tiers of paths that agents may not write (block), may write
//! only with a human's approval (checkpoint), or are warned about (warn).
//! Writes and deletes both count.

use hookgate_sdk::tiers::TierConfig;
use hookgate_sdk::{Event, Finding, Kind, Validator};

struct WriteGuard;

impl Validator for WriteGuard {
    type Config = TierConfig;

    fn check_config(config: &TierConfig) -> Result<(), String> {
        config.check()
    }

    fn validate(event: &Event, config: &TierConfig) -> Result<Vec<Finding>, String> {
        // A guard acts before the action; afterwards there is nothing left to prevent.
        if !matches!(event.kind, Kind::PreTool | Kind::PreCommit) {
            return Ok(Vec::new());
        }
        if event.writes.is_empty() && event.deletes.is_empty() {
            return Ok(Vec::new());
        }
        config.evaluate(event.written_paths(), event.case_insensitive, "write")
    }
}

hookgate_sdk::validator!(WriteGuard);
