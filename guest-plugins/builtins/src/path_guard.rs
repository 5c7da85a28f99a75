//! `write-guard` and `read-guard`: tiers of paths that agents may not touch
//! (block), may touch only with a human's approval (checkpoint), or are
//! warned about (warn). `write` judges the paths an event writes or deletes,
//! `read` the paths it reads. At a commit or a push (the git hooks'
//! backstop) the committed or pushed paths are judged again, so what slipped
//! past the tool hooks (a shell write the analysis missed, a human's
//! change) is caught before it is published.

use hookgate_sdk::tiers::{self, Tier};
use hookgate_sdk::{Event, Finding, Kind};

/// Judge `event` against `tier` for writes (`write`) or reads.
pub fn validate(event: &Event, tier: &[Tier], write: bool) -> Result<Vec<Finding>, String> {
    // A guard acts before the action; afterwards there is nothing left to prevent.
    let verb = match event.kind {
        Kind::PreTool => "write",
        Kind::PreCommit => "commit",
        Kind::PrePush => "push",
        _ => return Ok(Vec::new()),
    };
    if write && (!event.writes.is_empty() || !event.deletes.is_empty()) {
        return tiers::evaluate(
            tier,
            event.written_paths(),
            event.case_insensitive,
            event.command.is_some(),
            verb,
        );
    }
    if !write && !event.reads.is_empty() {
        return tiers::evaluate(
            tier,
            event.reads.iter().map(String::as_str),
            event.case_insensitive,
            event.command.is_some(),
            "read",
        );
    }
    Ok(Vec::new())
}
