//! Path tiers: the `[[validator.tier]]` tables that `write-guard` and
//! `read-guard` share (block → deny, checkpoint → ask, warn → warn).

use crate::{Finding, Outcome};
use hookgate_glob::PatternSet;
use serde::Deserialize;

/// What a tier does to a matching path.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Deny.
    Block,
    /// Ask the human.
    Checkpoint,
    /// Warn the agent.
    Warn,
}

impl Action {
    /// The finding outcome for this action.
    pub fn outcome(self) -> Outcome {
        match self {
            Action::Block => Outcome::Deny,
            Action::Checkpoint => Outcome::Ask,
            Action::Warn => Outcome::Warn,
        }
    }
}

/// One tier as the host passes it (the policy table, with its id resolved).
#[derive(Debug, Clone, Deserialize)]
pub struct Tier {
    /// Rule id used in findings.
    pub id: String,
    /// What to do.
    pub action: Action,
    /// Glob patterns (`!` excludes).
    pub paths: Vec<String>,
    /// Why, shown with the finding.
    #[serde(default)]
    pub reason: Option<String>,
    /// Where to read more.
    #[serde(default)]
    pub docs: Option<String>,
}

impl Tier {
    /// The tier's patterns as a set; the error names the tier and pattern.
    pub fn patterns(&self, case_insensitive: bool) -> Result<PatternSet, String> {
        if self.paths.is_empty() {
            return Err(format!("tier `{}` has no paths", self.id));
        }
        PatternSet::new(&self.paths, case_insensitive)
            .map_err(|(p, e)| format!("tier `{}`: pattern `{p}`: {e}", self.id))
    }
}

/// Check every tier's patterns; the message names the tier and pattern.
pub fn check(tiers: &[Tier]) -> Result<(), String> {
    tiers.iter().try_for_each(|t| t.patterns(false).map(drop))
}

/// One finding per tier that matches any of `paths`, naming the matched
/// paths. `verb` describes the access ("write", "read"). With `patterns`,
/// a path holding glob characters is a pattern (a shell command's `rm
/// *.pem`) and hits a tier when some path could match both; an overlap too
/// complex to decide counts as a hit.
pub fn evaluate<'a, I>(
    tiers: &[Tier],
    paths: I,
    case_insensitive: bool,
    patterns: bool,
    verb: &str,
) -> Result<Vec<Finding>, String>
where
    I: IntoIterator<Item = &'a str> + Clone,
{
    let mut findings = Vec::new();
    for t in tiers {
        let set = t.patterns(case_insensitive)?;
        let hit: Vec<&str> = paths
            .clone()
            .into_iter()
            .filter(|p| {
                if patterns && p.chars().any(hookgate_glob::is_meta) {
                    match PatternSet::new(&[*p], case_insensitive) {
                        Ok(q) => !matches!(hookgate_glob::overlap(&q, &set), Ok(None)),
                        Err(_) => set.matches(p),
                    }
                } else {
                    set.matches(p)
                }
            })
            .collect();
        if hit.is_empty() {
            continue;
        }
        let what = match t.action {
            Action::Block => format!("{verb} blocked"),
            Action::Checkpoint => format!("{verb} needs a human's approval"),
            Action::Warn => format!("careful with this {verb}"),
        };
        let mut message = format!("{what}: {}", hit.join(", "));
        if let Some(reason) = &t.reason {
            message.push_str(" — ");
            message.push_str(reason);
        }
        let mut f = Finding::new(t.id.clone(), t.action.outcome(), message).with_paths(hit);
        if let Some(docs) = &t.docs {
            f = f.with_docs(docs.clone());
        }
        findings.push(f);
    }
    Ok(findings)
}
