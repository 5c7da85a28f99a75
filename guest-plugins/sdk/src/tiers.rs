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

/// Paths to test against pattern sets. A path that is a pattern (a shell
/// command's `rm *.pem`) is compiled once, and hits a set when some path
/// could match both; an overlap too complex to decide counts as a hit.
pub struct Queries<'a> {
    items: Vec<(&'a str, Option<PatternSet>)>,
}

impl<'a> Queries<'a> {
    /// `patterns`: paths with glob characters are patterns (shell events).
    pub fn new(paths: impl IntoIterator<Item = &'a str>, patterns: bool, fold: bool) -> Self {
        Queries {
            items: paths
                .into_iter()
                .map(|p| {
                    let q = (patterns && p.chars().any(hookgate_glob::is_meta))
                        .then(|| PatternSet::new(&[p], fold).ok())
                        .flatten();
                    (p, q)
                })
                .collect(),
        }
    }

    /// The paths `set` matches (or, for patterns, may match).
    pub fn hits(&self, set: &PatternSet) -> Vec<&'a str> {
        self.items
            .iter()
            .filter(|(p, q)| match q {
                Some(q) => !matches!(hookgate_glob::overlap(q, set), Ok(None)),
                None => set.matches(p),
            })
            .map(|(p, _)| *p)
            .collect()
    }
}

/// One finding per tier that matches any of `paths`, naming the matched
/// paths. `verb` describes the access ("write", "read"). With `patterns`,
/// a path holding glob characters is a pattern ([`Queries`]).
pub fn evaluate<'a>(
    tiers: &[Tier],
    paths: impl IntoIterator<Item = &'a str>,
    case_insensitive: bool,
    patterns: bool,
    verb: &str,
) -> Result<Vec<Finding>, String> {
    let queries = Queries::new(paths, patterns, case_insensitive);
    let mut findings = Vec::new();
    for t in tiers {
        let set = t.patterns(case_insensitive)?;
        let hit = queries.hits(&set);
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
