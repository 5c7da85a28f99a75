//! Rollout: each finding is capped by its stage, and the most severe effective
//! outcome wins.
//!
//! | stage   | deny        | ask         | warn | allow |
//! |---------|-------------|-------------|------|-------|
//! | monitor | allow (logged "would deny") | allow (logged "would ask") | allow | allow |
//! | warn    | warn        | warn        | warn | allow |
//! | enforce | deny        | ask         | warn | allow |

use crate::event::Outcome;
use crate::policy::Stage;

/// The effective outcome of a finding that asked for `would` under `stage`.
pub fn cap(stage: Stage, would: Outcome) -> Outcome {
    match stage {
        Stage::Monitor => Outcome::Allow,
        Stage::Warn => would.min(Outcome::Warn),
        Stage::Enforce => would,
    }
}

/// The decision over many effective outcomes: deny > ask > warn > allow.
pub fn decide(effective: impl IntoIterator<Item = Outcome>) -> Outcome {
    effective.into_iter().max().unwrap_or(Outcome::Allow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::*;

    #[test]
    fn table() {
        for o in [Allow, Warn, Ask, Deny] {
            assert_eq!(cap(Stage::Monitor, o), Allow);
            assert_eq!(cap(Stage::Enforce, o), o);
        }
        assert_eq!(cap(Stage::Warn, Deny), Warn);
        assert_eq!(cap(Stage::Warn, Ask), Warn);
        assert_eq!(cap(Stage::Warn, Allow), Allow);
        assert_eq!(decide([Warn, Deny, Ask]), Deny);
        assert_eq!(decide([]), Allow);
    }
}
