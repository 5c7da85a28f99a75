//! Reservations: leases on glob patterns (DESIGN §5).
//!
//! One function decides conflicts for every enforcement point
//! ([`conflicts`]): a request conflicts with a live reservation of another
//! agent iff some path matches both pattern sets (exact overlap, exclusions
//! honoured, `hookgate_glob::overlap`) and their modes clash. Candidates are
//! found through an index on literal prefixes, so a check looks at the few
//! reservations that can overlap, not all of them.

mod acquire;
mod lease;
mod query;
pub mod report;

use serde::Serialize;

use hookgate_glob::{PatternError, PatternSet};

use crate::paths::PathContext;
use crate::policy::{PresenceSettings, ReservationSettings};
use crate::presence::State;
use crate::store::StoreError;

pub use acquire::{acquire, acquire_in, acquire_waiting, grant_in, release_in, Grant, Request};
pub use lease::{
    extend, force_release, list, mark_released, release, release_selected, renew_on_activity,
    sets_of, Released, Selector,
};
pub use query::{against, ancestors, conflicts};

/// Reservation mode. Shared and intent coexist with each other; exclusive
/// coexists with nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// "I write this."
    Exclusive,
    /// "I read this and rely on it."
    Shared,
    /// "I am about to write."
    Intent,
}

impl Mode {
    /// Do a holder in `self` and a requester in `other` conflict?
    pub fn clashes(self, other: Mode) -> bool {
        self == Mode::Exclusive || other == Mode::Exclusive
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Exclusive => "exclusive",
            Mode::Shared => "shared",
            Mode::Intent => "intent",
        }
    }

    /// Parse a lowercase name.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "exclusive" => Some(Mode::Exclusive),
            "shared" => Some(Mode::Shared),
            "intent" => Some(Mode::Intent),
            _ => None,
        }
    }
}

/// A live reservation, with its holder's presence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    /// Reservation id (shown as `r<id>`).
    pub id: i64,
    /// Holder's agent id.
    pub agent: String,
    /// Holder's readable name.
    pub agent_name: String,
    /// Patterns, repository-relative, exclusions with `!`.
    pub patterns: Vec<String>,
    /// Mode.
    pub mode: Mode,
    /// Why it was taken.
    pub reason: String,
    /// Taken automatically by a write (`auto_reserve`).
    pub auto: bool,
    /// Granted at, ms since the epoch.
    pub created_ms: i64,
    /// Expires at, ms since the epoch.
    pub expires_ms: i64,
    /// Lease length, ms (what a renewal adds).
    pub ttl_ms: i64,
    /// Holder's presence now.
    pub holder_state: State,
    /// Holder last seen, ms since the epoch.
    pub holder_last_seen_ms: i64,
}

impl Hold {
    /// `r12`.
    pub fn label(&self) -> String {
        format!("r{}", self.id)
    }
}

/// One reason a request can't be granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// The conflicting reservation, or the queued request ahead of this one.
    pub hold: Hold,
    /// True when `hold` is a request waiting in the queue, not a grant.
    pub queued: bool,
    /// A path both match (the shortest), when one could be named.
    pub example: Option<String>,
}

/// Settings every reservation operation needs.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// Fold case when comparing patterns.
    pub fold: bool,
    /// `[reservations]`.
    pub settings: ReservationSettings,
    /// `[presence]`.
    pub presence: PresenceSettings,
}

/// Errors of reservation operations (conflicts are not errors: see [`Grant`]).
#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A pattern is malformed or escapes the repository.
    #[error("pattern `{pattern}`: {message}")]
    Pattern {
        /// As given.
        pattern: String,
        /// Why.
        message: String,
    },
    /// No including pattern.
    #[error("no pattern to reserve; give at least one that is not an exclusion (`!…`)")]
    NothingToReserve,
    /// TTL out of range.
    #[error("TTL {given} is out of range; use 1s to {max} (policy [reservations] max_ttl)")]
    Ttl {
        /// As given.
        given: String,
        /// The cap.
        max: String,
    },
    /// Too many live reservations.
    #[error("agent {agent} already holds {held} live reservations (policy cap {cap}); release some with `hookgate release`")]
    Cap {
        /// The agent.
        agent: String,
        /// How many it holds.
        held: u32,
        /// The cap.
        cap: u32,
    },
    /// The request would wait on an agent that waits on this one.
    #[error("deadlock: {me} would wait for {other} ({other_wants}), which is waiting for {me}; release something or retry without --wait")]
    Deadlock {
        /// This agent.
        me: String,
        /// The other agent.
        other: String,
        /// What the other one waits for.
        other_wants: String,
    },
    /// A reservation id or pattern that names nothing.
    #[error("{0}")]
    NotFound(String),
    /// A text field is too long or has control characters.
    #[error("{0}")]
    BadText(String),
}

/// Largest `--reason`.
pub const MAX_REASON: usize = 500;
/// Most patterns in one request.
pub const MAX_PATTERNS: usize = 64;

/// Check a reason: bounded and free of control characters, since it is shown
/// to other agents.
pub fn check_reason(reason: &str) -> Result<String, ReserveError> {
    if reason.chars().count() > MAX_REASON {
        return Err(ReserveError::BadText(format!(
            "reason is longer than {MAX_REASON} characters"
        )));
    }
    Ok(reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string())
}

/// Normalize a pattern as an agent wrote it, relative to its working
/// directory: the literal leading part goes through the same path
/// normalization as event paths (relative, absolute, `..`, symlinks, case),
/// the wildcard part is kept. A pattern that reaches outside the repository
/// is refused. The repository root itself becomes `**`.
pub fn normalize_pattern(ctx: &PathContext, raw: &str) -> Result<String, ReserveError> {
    let err = |message: String| ReserveError::Pattern {
        pattern: raw.to_string(),
        message,
    };
    let (neg, body) = match raw.trim().strip_prefix('!') {
        Some(b) => ("!", b.trim()),
        None => ("", raw.trim()),
    };
    if body.is_empty() {
        return Err(err("empty pattern".into()));
    }
    if body.chars().any(char::is_control) {
        return Err(err("control character in pattern".into()));
    }
    let segs: Vec<&str> = body.split('/').collect();
    let k = segs
        .iter()
        .position(|s| s.chars().any(hookgate_glob::is_meta))
        .unwrap_or(segs.len());
    let literal = segs[..k].join("/");
    let rest = segs[k..].join("/");
    if segs[k..].contains(&"..") {
        return Err(err(
            "`..` after a wildcard; write the directory without `..`".into(),
        ));
    }
    let base = ctx.normalize(if literal.is_empty() { "." } else { &literal });
    if base.starts_with('/') && ctx.repo_root.is_some() {
        return Err(err(format!(
            "`{base}` is outside the repository; reservations cover paths inside it"
        )));
    }
    let joined = match (base.as_str(), rest.is_empty()) {
        (".", true) => "**".to_string(),
        (".", false) => rest,
        (b, true) => b.to_string(),
        (b, false) => format!("{}/{rest}", b.trim_end_matches('/')),
    };
    let joined = if ctx.case_insensitive {
        joined.to_lowercase()
    } else {
        joined
    };
    let out = format!("{neg}{joined}");
    hookgate_glob::Pattern::new(&out, ctx.case_insensitive).map_err(|e| err(e.to_string()))?;
    Ok(out)
}

/// The pattern set of a stored reservation. Leases taken automatically by a
/// write name paths, not patterns: `path` is exactly that file, `path/` that
/// directory and everything under it, whatever characters they contain.
pub fn hold_set(patterns: &[String], auto: bool, fold: bool) -> Result<PatternSet, ReserveError> {
    if auto {
        let paths: Vec<(&str, bool)> = patterns
            .iter()
            .map(|p| match p.strip_suffix('/') {
                Some(dir) => (dir, true),
                None => (p.as_str(), false),
            })
            .collect();
        return Ok(PatternSet::literal_paths(&paths, fold));
    }
    pattern_set(patterns, fold)
}

/// The longest run of plain characters in `pattern` outside `[...]` and
/// `{...}`: any path the pattern matches contains it.
fn required_literal(pattern: &str) -> &str {
    let b = pattern.as_bytes();
    let (mut best, mut start, mut depth, mut class) = ((0, 0), 0, 0usize, false);
    for (i, &c) in b.iter().enumerate() {
        let plain = !class && depth == 0 && !matches!(c, b'*' | b'?' | b'[' | b']' | b'{' | b'}');
        if !plain {
            if i - start > best.1 - best.0 {
                best = (start, i);
            }
            start = i + 1;
        }
        match c {
            b'[' if !class => class = true,
            b']' if class => class = false,
            b'{' if !class => depth += 1,
            b'}' if !class => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if b.len() - start > best.1 - best.0 {
        best = (start, b.len());
    }
    // Whole `/`-free runs could sit at a segment start (`**/x`); keep them.
    &pattern[best.0..best.1]
}

/// True when no including pattern of a reservation can match the file
/// `path` because each lacks a literal run the path does not contain: a
/// cheap test that spares building automata for reservations like
/// `**/gen/**` when checking `src/lib.rs`. Never true when it might match.
pub fn cannot_match_file(patterns: &[String], auto: bool, path: &str, fold: bool) -> bool {
    if auto {
        return false;
    }
    let path = if fold {
        path.to_lowercase()
    } else {
        path.to_string()
    };
    patterns.iter().filter(|p| !p.starts_with('!')).all(|p| {
        let lit = required_literal(p);
        let lit = if fold {
            lit.to_lowercase()
        } else {
            lit.to_string()
        };
        let lit = lit.trim_matches('/');
        lit.len() >= 2 && !lit.contains("./") && !lit.contains("//") && !path.contains(lit)
    })
}

/// The literal every file a reservation covers must contain (see
/// [`cannot_match_file`]), or `""` when there is none to use; kept in the
/// lease snapshot so a hook can skip a reservation without parsing it.
pub fn file_literal(patterns: &[String], auto: bool) -> String {
    let includes: Vec<&String> = patterns.iter().filter(|p| !p.starts_with('!')).collect();
    if auto || includes.len() != 1 {
        return String::new();
    }
    let lit = required_literal(includes[0]).trim_matches('/');
    if lit.len() >= 2 && !lit.contains("./") && !lit.contains("//") {
        lit.to_string()
    } else {
        String::new()
    }
}

/// How a concrete path is checked: a directory that exists covers everything
/// under it; a file (or a path not yet created) is just itself. `root`
/// resolves repository-relative paths.
pub fn path_set(path: &str, root: Option<&std::path::Path>, fold: bool) -> Option<PatternSet> {
    let on_disk = match root {
        Some(r) if !path.starts_with('/') => r.join(path),
        _ => std::path::PathBuf::from(path),
    };
    if on_disk.is_dir() {
        PatternSet::path(path, fold)
    } else {
        PatternSet::file(path, fold)
    }
}

/// Build the pattern set of normalized patterns.
pub fn pattern_set(patterns: &[String], fold: bool) -> Result<PatternSet, ReserveError> {
    PatternSet::new(patterns, fold).map_err(|(pattern, e): (String, PatternError)| {
        ReserveError::Pattern {
            pattern,
            message: e.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_clash_as_designed() {
        use Mode::*;
        for (a, b, clash) in [
            (Shared, Shared, false),
            (Shared, Intent, false),
            (Intent, Intent, false),
            (Exclusive, Shared, true),
            (Intent, Exclusive, true),
            (Exclusive, Exclusive, true),
        ] {
            assert_eq!(a.clashes(b), clash, "{a:?} {b:?}");
            assert_eq!(b.clashes(a), clash);
        }
    }

    #[test]
    fn the_literal_prefilter_never_rejects_a_match() {
        assert_eq!(required_literal("**/gen-1/**"), "/gen-1/");
        assert_eq!(required_literal("src/{a,b}/*.rs"), "src/");
        assert_eq!(required_literal("[ab]cd*"), "cd");
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(cannot_match_file(
            &p(&["**/gen-1/**"]),
            false,
            "src/lib.rs",
            false
        ));
        assert!(!cannot_match_file(
            &p(&["**/gen-1/**"]),
            false,
            "a/gen-1/x",
            false
        ));
        assert!(!cannot_match_file(
            &p(&["**/*.rs"]),
            false,
            "src/lib.rs",
            false
        ));
        assert!(!cannot_match_file(
            &p(&["**/GEN/**"]),
            false,
            "a/gen/x",
            true
        ));
        // Every include must be ruled out.
        assert!(!cannot_match_file(
            &p(&["**/gen/**", "src/**"]),
            false,
            "src/lib.rs",
            false
        ));
        for (pat, path) in [
            ("**/gen-1/**", "gen-1/x"),
            ("x/**", "x"),
            ("*", "ab"),
            ("a{b,c}d", "abd"),
        ] {
            let set = pattern_set(&p(&[pat]), false).unwrap();
            if set.matches(path) {
                assert!(
                    !cannot_match_file(&p(&[pat]), false, path, false),
                    "{pat} {path}"
                );
            }
        }
    }

    #[test]
    fn patterns_normalize_against_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("src/auth")).unwrap();
        let ctx = PathContext::new(&root.join("src"));
        let n = |p: &str| normalize_pattern(&ctx, p);
        assert_eq!(n("auth/**").unwrap(), "src/auth/**");
        assert_eq!(n("../docs").unwrap(), "docs");
        assert_eq!(n("*.rs").unwrap(), "src/*.rs");
        assert_eq!(n("!auth/gen/**").unwrap(), "!src/auth/gen/**");
        assert_eq!(
            n(&format!("{}/src/a.py", root.display())).unwrap(),
            "src/a.py"
        );
        assert_eq!(n("..").unwrap(), "**");
        assert!(n("../../x").is_err(), "escapes the repository");
        assert!(n("/etc/passwd").is_err());
        assert!(n("").is_err() && n("!").is_err());
        assert!(n("a/[b").is_err());
        assert!(n("*/../x").is_err());
    }
}
