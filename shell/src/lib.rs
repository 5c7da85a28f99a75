//! What a bash command line writes, deletes and reads.
//!
//! The line is parsed with a real bash parser ([`rable`]); the walk follows
//! the shell's structure (lists, pipelines, subshells, groups, functions
//! defined on the line, `cd`/`pushd`/`popd`, command and process
//! substitution, wrappers such as `sudo` and `env`, `bash -c` with a literal
//! string), expands words as far as can be done statically ([`word`]), and
//! maps each simple command to its effects through a declarative table
//! ([`model`]). What can't be known statically is reported as `opaque` with
//! a reason, never guessed.
//!
//! Paths come out absolute (joined to the working directory of the command
//! that touches them, lexically normalized); globs stay patterns, and a
//! target only known at run time comes out as the pattern that bounds it
//! (`/**` when nothing does). git's own bookkeeping (the index, refs,
//! config) is reported as its directory, `.git`; a path inside `.git` comes
//! from a command other than git.

#![deny(missing_docs)]

pub mod fs;
pub mod model;
pub mod output;
mod walk;
pub mod word;

use std::collections::BTreeSet;

use serde::Serialize;

pub use walk::analyze;

/// Most levels of `bash -c`, `eval` and function calls followed.
pub const MAX_DEPTH: usize = 4;
/// Longest command line analysed; longer ones are opaque.
pub const MAX_COMMAND: usize = 64 * 1024;
/// Deepest nesting of parentheses, braces and backquotes analysed (counted
/// on the raw text); deeper lines are opaque.
pub const MAX_NESTING: usize = 64;

/// Where and how to analyse.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Absolute working directory of the shell.
    pub cwd: String,
    /// `$HOME`, for `~` and `$HOME`.
    pub home: Option<String>,
    /// Look at the file system, as the shell will when the command runs:
    /// bash globs and `find` become the files they match now ([`fs`]),
    /// within a budget. Off, patterns stay patterns.
    pub look: bool,
}

/// The effects of one command line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Effects {
    /// Paths created, modified, truncated, moved to, or whose mode changes.
    pub writes: BTreeSet<String>,
    /// Paths deleted (including those moved away).
    pub deletes: BTreeSet<String>,
    /// Paths read.
    pub reads: BTreeSet<String>,
    /// True when some effect can't be known statically.
    pub opaque: bool,
    /// Why, one line each.
    pub reasons: Vec<String>,
    /// Commands the model does not know (they may write anything).
    pub unknown: BTreeSet<String>,
    /// Every simple command the line runs, as its words after expansion and
    /// after wrappers (`sudo`, `env`, `xargs` …) are taken off; a word only
    /// known at run time is empty. For rules about how a command is run
    /// (`git commit --no-verify`).
    #[serde(skip)]
    pub commands: Vec<Vec<String>>,
    /// Variables the line sets (`X=1 cmd`, `export X=1`, `env X=1 cmd`).
    #[serde(skip)]
    pub assigns: BTreeSet<String>,
    /// Paths above that are bash globs (`rm *.log`): bash expands them
    /// against the file system when the command runs, so a caller with the
    /// tree at hand can do the same. Other patterns (`find`'s matches, the
    /// bound of a run-time target) are not globs bash expands.
    #[serde(skip)]
    pub globs: BTreeSet<String>,
    /// Paths above whose `*`, `?` or `[` are part of a file's name (quoted
    /// on the command line: `sed -i … 'app/[id]/page.tsx'`), not a pattern.
    #[serde(skip)]
    pub literals: BTreeSet<String>,
    /// Writes and deletes above that only bound a target known at run time
    /// (`rm -rf build/$X` → `build/**`; `/**` when nothing bounds it): the
    /// command may touch some path there, not every one.
    #[serde(skip)]
    pub bounds: BTreeSet<String>,
}

impl Effects {
    /// Mark the line opaque, with a reason.
    pub fn opaque(&mut self, reason: impl Into<String>) {
        self.opaque = true;
        let r = reason.into();
        if !self.reasons.contains(&r) && self.reasons.len() < 32 {
            self.reasons.push(r);
        }
    }

    /// Writes and deletes whose place is unknown: `/**`, anywhere.
    pub fn unbounded(&self) -> bool {
        self.writes.contains("/**") || self.deletes.contains("/**")
    }
}

/// Join `path` to `cwd` and normalize `.` and `..` lexically.
pub fn resolve(cwd: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{}/{path}", cwd.trim_end_matches('/'))
    };
    let mut parts: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_lexically() {
        assert_eq!(resolve("/r", "a/../b/./c"), "/r/b/c");
        assert_eq!(resolve("/r/x", "/etc//passwd"), "/etc/passwd");
        assert_eq!(resolve("/", "../.."), "/");
    }
}
