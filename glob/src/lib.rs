//! hookgate's path patterns, shared by the host and the guests so that every
//! enforcement point agrees on what a pattern means.
//!
//! Semantics (DESIGN §5):
//! - `*`, `?` and `[...]` never cross `/`; `**` as a whole segment spans zero or
//!   more segments; `{a,b}` is alternation.
//! - A pattern without wildcards names a file or a directory and everything
//!   under it: `.git` matches `.git`, `.git/HEAD` and `.git/refs/x`.
//! - `!pattern` inside a [`PatternSet`] excludes.
//! - Relative patterns are anchored at the repository root. A relative pattern
//!   that starts with `**/` also matches paths outside the repository (absolute
//!   paths), so `**/.ssh/**` covers `/home/u/.ssh/id_rsa`. A pattern that starts
//!   with `/` matches absolute paths only.
//! - Matching folds case when asked to (file systems that fold case).
//!
//! Matching itself is delegated to the `fast-glob` crate, maintained by the oxc
//! project: allocation-free, no regex to compile per event (validators run in
//! a fresh sandbox on every event), and small in wasm. `glob-match`, its
//! ancestor, was tried first and dropped: the property test in
//! `tests/oracle.rs` (a naive matcher written from the rules above) found it
//! failing `**/a*` against `a/a`. This crate adds the validation, bounded
//! brace expansion, the directory rule, the zero-segment trailing `/**`,
//! negation sets and the absolute-path rule.

#![deny(missing_docs)]

use std::fmt;

mod automaton;
mod class;
mod overlap;

pub use overlap::{overlap, OverlapError, MAX_OVERLAP_STATES};

/// Longest pattern accepted; longer ones are refused as hostile.
pub const MAX_PATTERN_LEN: usize = 1024;
/// Most `*`/`**` wildcards accepted in one pattern (bounds backtracking).
pub const MAX_STARS: usize = 16;
/// Deepest `{}` nesting accepted.
pub const MAX_BRACE_DEPTH: usize = 4;
/// Most alternatives one pattern may expand to through `{}`.
pub const MAX_EXPANSIONS: usize = 256;

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// The pattern is empty (or only `!`).
    Empty,
    /// Longer than [`MAX_PATTERN_LEN`].
    TooLong(usize),
    /// More wildcards than [`MAX_STARS`].
    TooManyWildcards(usize),
    /// `[` without `]`.
    UnclosedClass,
    /// `{` without `}` or `}` without `{`.
    UnbalancedBraces,
    /// Braces nested deeper than [`MAX_BRACE_DEPTH`].
    BracesTooDeep,
    /// A backslash: patterns use `/` separators on every platform.
    Backslash,
    /// A `..` segment: patterns name paths after normalization.
    ParentSegment,
    /// A NUL or other control character.
    ControlCharacter,
    /// `{}` alternation expands to more than [`MAX_EXPANSIONS`] patterns.
    TooManyAlternatives,
    /// A `/` inside `[...]`: a class matches one character of a segment.
    SlashInClass,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::Empty => write!(f, "empty pattern"),
            PatternError::TooLong(n) => {
                write!(f, "pattern is {n} bytes long; at most {MAX_PATTERN_LEN}")
            }
            PatternError::TooManyWildcards(n) => {
                write!(f, "pattern has {n} `*` wildcards; at most {MAX_STARS}")
            }
            PatternError::UnclosedClass => write!(f, "`[` without a closing `]`"),
            PatternError::UnbalancedBraces => write!(f, "unbalanced `{{` and `}}`"),
            PatternError::BracesTooDeep => {
                write!(f, "`{{}}` nested deeper than {MAX_BRACE_DEPTH}")
            }
            PatternError::Backslash => {
                write!(f, "backslash in pattern; write `/` as the separator")
            }
            PatternError::ParentSegment => write!(
                f,
                "`..` in pattern; patterns are matched against normalized paths"
            ),
            PatternError::ControlCharacter => write!(f, "control character in pattern"),
            PatternError::SlashInClass => write!(
                f,
                "`/` inside `[...]`; a class matches one character within a segment"
            ),
            PatternError::TooManyAlternatives => write!(
                f,
                "`{{}}` alternation expands to more than {MAX_EXPANSIONS} patterns"
            ),
        }
    }
}

impl std::error::Error for PatternError {}

/// One validated pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    alternatives: Vec<Alternative>,
    negated: bool,
    case_insensitive: bool,
}

/// One brace-free form of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Alternative {
    body: String,
    /// Every byte of `body` stands for itself (a path, not a pattern).
    verbatim: bool,
    literal: bool,
    absolute: bool,
    any_depth: bool,
}

impl Alternative {
    fn new(body: String) -> Option<Alternative> {
        let mut body = body.trim_end_matches('/').to_string();
        while let Some(stripped) = body.strip_prefix("./") {
            body = stripped.to_string();
        }
        if body.is_empty() {
            return None;
        }
        Some(Alternative {
            verbatim: false,
            absolute: body.starts_with('/'),
            any_depth: body.starts_with("**/") || body == "**",
            literal: !body.chars().any(is_meta),
            body,
        })
    }

    fn matches(&self, path: &str) -> bool {
        if !self.literal && !self.verbatim && self.body.starts_with('!') {
            // fast-glob reads a leading `!` as negation; here it is a plain
            // character (the set's own `!` was already taken off), so match
            // with the automaton the overlap check uses.
            return automaton::matches(self, path);
        }
        let path_absolute = path.starts_with('/');
        if self.absolute != path_absolute {
            // A relative `**/…` pattern also reaches outside the repository.
            if self.any_depth && path_absolute {
                return self.matches_body(path.trim_start_matches('/'));
            }
            return false;
        }
        self.matches_body(path)
    }

    fn matches_body(&self, path: &str) -> bool {
        if self.verbatim && !self.literal {
            return path == self.body;
        }
        if self.literal {
            return path == self.body
                || (path.len() > self.body.len()
                    && path.starts_with(self.body.as_str())
                    && path.as_bytes()[self.body.len()] == b'/');
        }
        fast_glob::glob_match(&self.body, path)
    }
}

/// Is `c` a pattern metacharacter (`*`, `?`, `[`, `]`, `{`, `}`)? A segment
/// without any names itself literally.
pub fn is_meta(c: char) -> bool {
    matches!(c, '*' | '?' | '[' | ']' | '{' | '}')
}

fn check(body: &str) -> Result<(), PatternError> {
    if body.is_empty() {
        return Err(PatternError::Empty);
    }
    if body.len() > MAX_PATTERN_LEN {
        return Err(PatternError::TooLong(body.len()));
    }
    if body.contains('\\') {
        return Err(PatternError::Backslash);
    }
    if body.chars().any(char::is_control) {
        return Err(PatternError::ControlCharacter);
    }
    if body.split('/').any(|s| s == "..") {
        return Err(PatternError::ParentSegment);
    }
    let stars = body.matches('*').count();
    if stars > MAX_STARS {
        return Err(PatternError::TooManyWildcards(stars));
    }
    let bytes = body.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'[' => {
                let (class, next) = class::parse(bytes, i).ok_or(PatternError::UnclosedClass)?;
                if class.has_slash {
                    return Err(PatternError::SlashInClass);
                }
                i = next;
                continue;
            }
            b'{' => {
                depth += 1;
                if depth > MAX_BRACE_DEPTH {
                    return Err(PatternError::BracesTooDeep);
                }
            }
            b'}' => {
                if depth == 0 {
                    return Err(PatternError::UnbalancedBraces);
                }
                depth -= 1;
            }
            _ => {}
        }
        i += 1;
    }
    if depth != 0 {
        return Err(PatternError::UnbalancedBraces);
    }
    Ok(())
}

/// A pattern that matches exactly `path` and everything under it, whatever
/// characters the path has: wildcard characters are written as one-member
/// classes (`[*]`), and a leading `!` is kept from meaning "exclude".
pub fn escape(path: &str) -> String {
    let body = path.trim_end_matches('/');
    let exact = escape_exact(body);
    if body.chars().any(is_meta) {
        // No longer a literal, so name the tree explicitly.
        format!("{exact}{{,/**}}")
    } else {
        exact
    }
}

/// A pattern that matches exactly the file `path` (not what is under it),
/// whatever characters it has: `app/[id]/page.tsx` → `app/[[]id[]]/page.tsx`.
pub fn escape_exact(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    if path.starts_with('!') {
        out.push_str("./");
    }
    for c in path.chars() {
        if is_meta(c) {
            out.push('[');
            out.push(c);
            out.push(']');
        } else {
            out.push(c);
        }
    }
    out
}

/// Expand `{a,b}` alternation (nesting allowed) into brace-free patterns.
fn expand_braces(s: &str, out: &mut Vec<String>) -> Result<(), PatternError> {
    let bytes = s.as_bytes();
    let mut open = None;
    let mut depth = 0usize;
    let mut commas = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'[' {
            if let Some((_, next)) = class::parse(bytes, i) {
                i = next;
                continue;
            }
        }
        match b {
            b'{' => {
                if depth == 0 {
                    open = Some(i);
                    commas.clear();
                }
                depth += 1;
            }
            b',' if depth == 1 => commas.push(i),
            b'}' => {
                depth = depth.saturating_sub(1);
                if let (0, Some(o)) = (depth, open) {
                    let (pre, post) = (&s[..o], &s[i + 1..]);
                    let mut start = o + 1;
                    let mut parts = Vec::with_capacity(commas.len() + 1);
                    for &c in &commas {
                        parts.push(&s[start..c]);
                        start = c + 1;
                    }
                    parts.push(&s[start..i]);
                    for part in parts {
                        expand_braces(&format!("{pre}{part}{post}"), out)?;
                    }
                    return Ok(());
                }
            }
            _ => {}
        }
        i += 1;
    }
    if out.len() >= MAX_EXPANSIONS {
        return Err(PatternError::TooManyAlternatives);
    }
    out.push(s.to_string());
    Ok(())
}

impl Pattern {
    /// Parse and validate a pattern. A leading `!` marks an exclusion.
    pub fn new(source: &str, case_insensitive: bool) -> Result<Pattern, PatternError> {
        let (negated, rest) = match source.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, source),
        };
        check(rest)?;
        let body = if case_insensitive {
            rest.to_lowercase()
        } else {
            rest.to_string()
        };
        let mut expanded = Vec::new();
        expand_braces(&body, &mut expanded)?;
        let mut alternatives: Vec<Alternative> = Vec::with_capacity(expanded.len());
        // `**` spans zero segments too, and glob-match does not let a trailing
        // `/**` match the directory itself: add that form explicitly.
        let mut forms = Vec::with_capacity(expanded.len());
        for e in expanded {
            let mut stripped = e.as_str();
            while let Some(s) = stripped.strip_suffix("/**") {
                stripped = s;
                forms.push(s.to_string());
            }
            forms.push(e);
        }
        for alt in forms.into_iter().filter_map(Alternative::new) {
            if !alternatives.contains(&alt) {
                alternatives.push(alt);
            }
        }
        if alternatives.is_empty() {
            return Err(PatternError::Empty);
        }
        Ok(Pattern {
            source: source.to_string(),
            alternatives,
            negated,
            case_insensitive,
        })
    }

    /// A path taken literally, whatever characters it has (`app/[id]/page.tsx`
    /// names exactly that file): it matches the path and everything under
    /// it. `None` for an empty path.
    pub fn path(path: &str, case_insensitive: bool) -> Option<Pattern> {
        Pattern::verbatim(path, case_insensitive, true)
    }

    /// A file path taken literally: it matches that path only, nothing under
    /// it. `None` for an empty path.
    pub fn file(path: &str, case_insensitive: bool) -> Option<Pattern> {
        Pattern::verbatim(path, case_insensitive, false)
    }

    fn verbatim(path: &str, case_insensitive: bool, tree: bool) -> Option<Pattern> {
        let mut body = path.trim_end_matches('/');
        while let Some(s) = body.strip_prefix("./") {
            body = s;
        }
        if body.is_empty() || body == "." {
            return None;
        }
        let body = if case_insensitive {
            body.to_lowercase()
        } else {
            body.to_string()
        };
        Some(Pattern {
            source: path.to_string(),
            alternatives: vec![Alternative {
                absolute: body.starts_with('/'),
                body,
                verbatim: true,
                literal: tree,
                any_depth: false,
            }],
            negated: false,
            case_insensitive,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True for an exclusion (`!pattern`).
    pub fn is_negated(&self) -> bool {
        self.negated
    }

    /// True when the pattern has no wildcard (names a file or a directory tree).
    pub fn is_literal(&self) -> bool {
        self.alternatives.iter().all(|a| a.literal)
    }

    /// Does `path` match, ignoring negation? `path` is repository-relative with
    /// `/` separators, or absolute for paths outside the repository.
    pub fn matches(&self, path: &str) -> bool {
        if self.case_insensitive {
            let folded = path.to_lowercase();
            return self.alternatives.iter().any(|a| a.matches(&folded));
        }
        self.alternatives.iter().any(|a| a.matches(path))
    }
}

/// An ordered set of patterns: a path matches if some non-negated pattern
/// matches it and no negated one does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatternSet {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
}

impl PatternSet {
    /// Build a set; the first invalid pattern is returned with its error.
    pub fn new<S: AsRef<str>>(
        patterns: &[S],
        case_insensitive: bool,
    ) -> Result<PatternSet, (String, PatternError)> {
        let mut set = PatternSet::default();
        for p in patterns {
            let pat = Pattern::new(p.as_ref(), case_insensitive)
                .map_err(|e| (p.as_ref().to_string(), e))?;
            if pat.is_negated() {
                set.exclude.push(pat);
            } else {
                set.include.push(pat);
            }
        }
        Ok(set)
    }

    /// The set of one path taken literally ([`Pattern::path`]).
    pub fn path(path: &str, case_insensitive: bool) -> Option<PatternSet> {
        Some(PatternSet {
            include: vec![Pattern::path(path, case_insensitive)?],
            exclude: Vec::new(),
        })
    }

    /// The set of several paths taken literally: each `(path, tree)` is a
    /// [`Pattern::path`] when `tree`, else a [`Pattern::file`]. Empty paths
    /// are skipped.
    pub fn literal_paths<S: AsRef<str>>(paths: &[(S, bool)], case_insensitive: bool) -> PatternSet {
        PatternSet {
            include: paths
                .iter()
                .filter_map(|(p, tree)| Pattern::verbatim(p.as_ref(), case_insensitive, *tree))
                .collect(),
            exclude: Vec::new(),
        }
    }

    /// The set of one file path taken literally ([`Pattern::file`]).
    pub fn file(path: &str, case_insensitive: bool) -> Option<PatternSet> {
        Some(PatternSet {
            include: vec![Pattern::file(path, case_insensitive)?],
            exclude: Vec::new(),
        })
    }

    /// Does `path` match the set?
    pub fn matches(&self, path: &str) -> bool {
        self.include.iter().any(|p| p.matches(path))
            && !self.exclude.iter().any(|p| p.matches(path))
    }

    /// True when the set has no including pattern.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty()
    }

    /// When the set is only exact file paths ([`Pattern::file`]), those paths.
    pub fn exact_files(&self) -> Option<Vec<&str>> {
        if !self.exclude.is_empty() {
            return None;
        }
        self.include
            .iter()
            .flat_map(|p| &p.alternatives)
            .map(|a| (a.verbatim && !a.literal).then_some(a.body.as_str()))
            .collect()
    }

    /// The literal prefixes of the including patterns: for each brace-free
    /// alternative, its leading segments up to the first wildcard (the whole
    /// path for a literal). Every path the set matches is one of these
    /// prefixes or lies under one, so an index on prefixes finds every
    /// reservation that can overlap a path: those whose prefix is an ancestor
    /// of it, equal to it, or under it. `""` means "anywhere".
    pub fn prefixes(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in &self.include {
            for alt in &p.alternatives {
                let prefix = if alt.verbatim {
                    alt.body.clone()
                } else if alt.any_depth {
                    String::new()
                } else {
                    let mut segs = Vec::new();
                    for seg in alt.body.split('/') {
                        if seg.chars().any(is_meta) {
                            break;
                        }
                        segs.push(seg);
                    }
                    segs.join("/")
                };
                if !out.contains(&prefix) {
                    out.push(prefix);
                }
            }
        }
        out
    }

    /// The patterns as written, exclusions with their `!`.
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        self.include.iter().chain(&self.exclude).map(|p| p.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, path: &str) -> bool {
        Pattern::new(p, false).unwrap().matches(path)
    }

    #[test]
    fn star_never_crosses_slash() {
        assert!(m("src/*.rs", "src/main.rs"));
        assert!(!m("src/*.rs", "src/a/main.rs"));
        assert!(!m("*.pem", "keys/a.pem"));
        assert!(m("?.txt", "a.txt"));
        assert!(!m("?", "/"));
    }

    #[test]
    fn double_star_spans_zero_or_more_segments() {
        assert!(m("**/*.pem", "a.pem"));
        assert!(m("**/*.pem", "x/y/a.pem"));
        assert!(m("src/**/mod.rs", "src/mod.rs"));
        assert!(m("src/**/mod.rs", "src/a/b/mod.rs"));
        assert!(m(".git/**", ".git/HEAD"));
    }

    #[test]
    fn literal_names_a_tree() {
        assert!(m(".git", ".git"));
        assert!(m(".git", ".git/refs/heads/main"));
        assert!(!m(".git", ".gitignore"));
        assert!(m("docs/", "docs/a.md"));
        assert!(m("./docs", "docs/a.md"));
    }

    #[test]
    fn braces_and_classes() {
        assert!(m("**/.env{,.*}", ".env"));
        assert!(m("**/.env{,.*}", "app/.env.local"));
        assert!(!m("**/.env{,.*}", ".envrc"));
        assert!(m("id_[rd]sa", "id_rsa"));
        assert!(!m("id_[rd]sa", "id_xsa"));
    }

    #[test]
    fn absolute_paths() {
        assert!(m("**/.ssh/**", "/home/u/.ssh/id_rsa"));
        assert!(!m("src/**", "/home/u/src/a"));
        assert!(m("/etc/**", "/etc/passwd"));
        assert!(!m("/etc/**", "etc/passwd"));
    }

    #[test]
    fn case_folding() {
        let p = Pattern::new("**/*.PEM", true).unwrap();
        assert!(p.matches("Keys/A.pem"));
        let p = Pattern::new("**/*.PEM", false).unwrap();
        assert!(!p.matches("keys/a.pem"));
    }

    #[test]
    fn prefixes_bound_every_match() {
        let set = PatternSet::new(
            &["src/{auth,db}/*.py", "docs", "**/*.lock", "/etc/x*"],
            false,
        )
        .unwrap();
        assert_eq!(set.prefixes(), ["src/auth", "src/db", "docs", "", "/etc"]);
    }

    #[test]
    fn paths_are_taken_literally_and_escape_round_trips() {
        let p = Pattern::path("app/[id]/page.tsx", false).unwrap();
        assert!(p.matches("app/[id]/page.tsx"));
        assert!(!p.matches("app/i/page.tsx"));
        for path in [
            "app/[id]/page.tsx",
            "a/{b,c}*?",
            "!bang",
            "plain/file.rs",
            "x/]y",
        ] {
            let e = escape(path);
            let pat = Pattern::new(&e, false).unwrap();
            assert!(pat.matches(path), "{e} should match {path}");
            assert!(pat.matches(&format!("{path}/child")), "{e} covers the tree");
            assert!(!pat.is_negated());
        }
        assert!(!Pattern::new(&escape("a/[id]"), false)
            .unwrap()
            .matches("a/i"));
    }

    #[test]
    fn negation_in_sets() {
        let set = PatternSet::new(&["**/.env*", "!**/.env.example"], false).unwrap();
        assert!(set.matches(".env"));
        assert!(set.matches("a/.env.local"));
        assert!(!set.matches(".env.example"));
    }

    #[test]
    fn hostile_patterns_are_refused() {
        assert_eq!(Pattern::new("", false), Err(PatternError::Empty));
        assert_eq!(Pattern::new("!", false), Err(PatternError::Empty));
        assert_eq!(
            Pattern::new("[abc", false),
            Err(PatternError::UnclosedClass)
        );
        assert_eq!(
            Pattern::new("{a,b", false),
            Err(PatternError::UnbalancedBraces)
        );
        assert_eq!(
            Pattern::new("a}", false),
            Err(PatternError::UnbalancedBraces)
        );
        assert_eq!(Pattern::new("a\\b", false), Err(PatternError::Backslash));
        assert_eq!(
            Pattern::new("../x", false),
            Err(PatternError::ParentSegment)
        );
        assert_eq!(
            Pattern::new("a\0", false),
            Err(PatternError::ControlCharacter)
        );
        assert!(matches!(
            Pattern::new(&"*".repeat(40), false),
            Err(PatternError::TooManyWildcards(_))
        ));
        assert!(matches!(
            Pattern::new(&"a".repeat(5000), false),
            Err(PatternError::TooLong(_))
        ));
        assert_eq!(
            Pattern::new("{{{{{a}}}}}", false),
            Err(PatternError::BracesTooDeep)
        );
        assert_eq!(
            Pattern::new("{a,b,c,d}{a,b,c,d}{a,b,c,d}{a,b,c,d}{a,b}", false),
            Err(PatternError::TooManyAlternatives)
        );
    }

    #[test]
    fn worst_case_backtracking_stays_bounded() {
        // 16 stars against a long path with no match: must finish quickly.
        let p = Pattern::new(&"*a".repeat(16), false).unwrap();
        let path = "a".repeat(200) + "b";
        assert!(!p.matches(&path));
        let p = Pattern::new(&"**/".repeat(8).to_string().add_tail("x"), false).unwrap();
        assert!(!p.matches(&"a/".repeat(100)));
    }

    trait AddTail {
        fn add_tail(self, t: &str) -> String;
    }
    impl AddTail for String {
        fn add_tail(mut self, t: &str) -> String {
            self.push_str(t);
            self
        }
    }
}
