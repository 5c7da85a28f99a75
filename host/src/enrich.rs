//! Shell enrichment: the files a shell command writes, deletes and reads
//! (the analysis of `hookgate-shell`) join the event's paths before the
//! chain runs, so lock-check, write-guard and read-guard judge `sed -i … f`
//! as they judge an Edit of `f`, and `cat ~/.ssh/id_rsa` as a Read.
//!
//! Two kinds of result stay out of the paths and are left to the
//! `shell-write` validator's rules: writes whose place is unknown (`/**`,
//! anywhere: every reservation would "overlap" them), and git's bookkeeping
//! in its own directory (reported as `.git`), which is git doing its job.
//! Paths that are patterns (`rm *.log`, `find src -name '*.py' -delete`)
//! stay patterns; on a shell event, validators read a path with glob
//! characters as a pattern and test overlap.

use std::panic::{catch_unwind, AssertUnwindSafe};

use hookgate_shell::{analyze, Effects, Options};

use crate::event::Event;
use crate::paths::PathContext;

/// What enrichment found, for diagnostics and the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Enriched {
    /// Some effect could not be known statically.
    pub opaque: bool,
    /// Why.
    pub reasons: Vec<String>,
    /// Commands the model does not know.
    pub unknown: Vec<String>,
    /// Some write or delete may land anywhere.
    pub unbounded: bool,
    /// Patterns that bound writes and deletes whose target is only known at
    /// run time (`rm -rf build/$X` → `build/**`): the command may touch some
    /// path there. Kept out of the event's paths, where every path is one
    /// the command does touch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bounds: Vec<String>,
    /// Every simple command the line runs, as its words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<Vec<String>>,
    /// Variables the line sets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assigns: Vec<String>,
}

/// Analyse the event's shell command in its working directory and add the
/// effects to its paths (normalized like every other path).
pub fn shell(event: &mut Event, ctx: &PathContext) -> Option<Enriched> {
    let command = event.command.as_deref()?;
    let opts = Options {
        cwd: ctx.cwd.display().to_string(),
        home: ctx.home().map(|h| h.display().to_string()),
        // The hook runs where the command will: globs and `find` become the
        // files they match now.
        look: true,
    };
    // The analysis is bounded by construction and fuzzed; should it still
    // panic, the event is opaque rather than the hook unanswered.
    let fx: Effects = match catch_unwind(AssertUnwindSafe(|| analyze(command, &opts))) {
        Ok(fx) => fx,
        Err(_) => {
            return Some(Enriched {
                opaque: true,
                reasons: vec!["the shell analysis failed on this command".into()],
                unbounded: true,
                ..Enriched::default()
            })
        }
    };
    let git_dir = ctx
        .repo_root
        .as_ref()
        .map(|r| r.join(".git").display().to_string());
    let keep = |p: &String, write: bool| {
        p != "/**" && !fx.bounds.contains(p) && !(write && git_dir.as_deref() == Some(p.as_str()))
    };
    let bounds: Vec<String> = fx
        .bounds
        .iter()
        .filter(|b| b.as_str() != "/**")
        .map(|b| ctx.normalize(b))
        .collect();
    // On a shell event a path with glob characters is a pattern. The
    // analysis looked at the tree, so bash globs and `find` are already the
    // files they match (a pattern only when there were too many); a quoted
    // name with `*`, `?` or `[` is that name, escaped.
    let paths = |p: &String| -> Vec<String> {
        if fx.literals.contains(p) {
            vec![hookgate_glob::escape_exact(&ctx.normalize(p))]
        } else {
            vec![ctx.normalize(p)]
        }
    };
    for p in fx.writes.iter().filter(|p| keep(p, true)) {
        for n in paths(p) {
            push(&mut event.writes, n);
        }
    }
    for p in fx.deletes.iter().filter(|p| keep(p, false)) {
        for n in paths(p) {
            push(&mut event.deletes, n);
        }
    }
    for p in fx.reads.iter().filter(|p| keep(p, false)) {
        for n in paths(p) {
            push(&mut event.reads, n);
        }
    }
    Some(Enriched {
        opaque: fx.opaque,
        unbounded: fx.unbounded(),
        reasons: fx.reasons,
        unknown: fx.unknown.into_iter().collect(),
        commands: fx.commands,
        assigns: fx.assigns.into_iter().collect(),
        bounds,
    })
}

fn push(list: &mut Vec<String>, p: String) {
    if !list.contains(&p) {
        list.push(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Agent, Kind};

    fn event(command: &str, cwd: &std::path::Path) -> Event {
        Event {
            platform: "claude".into(),
            native_event: "PreToolUse".into(),
            kind: Kind::PreTool,
            tool: Some("Bash".into()),
            agent: Agent::default(),
            cwd: cwd.display().to_string(),
            repo_root: None,
            writes: Vec::new(),
            deletes: Vec::new(),
            reads: Vec::new(),
            command: Some(command.into()),
            prompt: None,
            case_insensitive: false,
            raw_json: String::new(),
            shell: None,
            sniffed: None,
            stop_active: false,
        }
    }

    fn repo() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join(".git")).unwrap();
        std::fs::create_dir_all(d.path().join("src/auth")).unwrap();
        d
    }

    #[test]
    fn shell_writes_and_reads_become_event_paths() {
        let d = repo();
        let root = d.path().canonicalize().unwrap();
        let ctx = PathContext::new(&root);
        let mut e = event(
            "sed -i s/a/b/ src/auth/login.py && cat .env > /tmp/x",
            &root,
        );
        let r = shell(&mut e, &ctx).unwrap();
        assert!(!r.opaque, "{r:?}");
        assert_eq!(e.writes, ["src/auth/login.py", "/tmp/x"]);
        assert_eq!(e.reads, [".env", "src/auth/login.py"]);
    }

    #[test]
    fn git_bookkeeping_and_unbounded_writes_stay_out() {
        let d = repo();
        let root = d.path().canonicalize().unwrap();
        let ctx = PathContext::new(&root);
        let mut e = event("git add -A && git commit -m x", &root);
        shell(&mut e, &ctx).unwrap();
        assert!(e.writes.is_empty(), "{:?}", e.writes);
        let mut e = event("echo x > .git/hooks/pre-commit", &root);
        shell(&mut e, &ctx).unwrap();
        assert_eq!(e.writes, [".git/hooks/pre-commit"]);
        let mut e = event("mv \"$a\" \"$b\"", &root);
        let r = shell(&mut e, &ctx).unwrap();
        assert!(
            r.opaque && r.unbounded && e.writes.is_empty(),
            "{r:?} {e:?}"
        );
    }

    #[test]
    fn find_lists_what_it_visits_and_bounds_stay_patterns() {
        let d = repo();
        let root = d.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("src/.cache")).unwrap();
        std::fs::write(root.join("src/a.py"), "").unwrap();
        std::fs::write(root.join("src/.cache/b.py"), "").unwrap();
        let ctx = PathContext::new(&root.join("src"));
        let mut e = event("find . -name '*.py' -delete", &root.join("src"));
        shell(&mut e, &ctx).unwrap();
        assert_eq!(e.deletes, ["src/.cache/b.py", "src/a.py"]);
        let mut e = event("cp a.py \"build/$TARGET/\"", &root.join("src"));
        let r = shell(&mut e, &ctx).unwrap();
        assert!(r.opaque);
        assert!(e.writes.is_empty(), "{:?}", e.writes);
        assert_eq!(r.bounds, ["src/build/**"]);
    }

    #[test]
    fn bash_globs_become_the_files_they_match_and_quoted_names_stay_names() {
        let d = repo();
        let root = d.path().canonicalize().unwrap();
        for f in ["a.log", "b.log", ".hidden.log", "keep.txt"] {
            std::fs::write(root.join(f), "x").unwrap();
        }
        std::fs::create_dir_all(root.join("app/[id]")).unwrap();
        let ctx = PathContext::new(&root);
        let mut e = event("rm *.log", &root);
        shell(&mut e, &ctx).unwrap();
        assert_eq!(e.deletes, ["a.log", "b.log"], "bash skips hidden names");
        let mut e = event("rm *.tmp", &root);
        shell(&mut e, &ctx).unwrap();
        assert_eq!(e.deletes, ["[*].tmp"], "no match: the word itself");
        let mut e = event("sed -i s/a/b/ 'app/[id]/page.tsx'", &root);
        shell(&mut e, &ctx).unwrap();
        assert_eq!(e.writes, ["app/[[]id[]]/page.tsx"]);
        let mut e = event("for f in *.log; do gzip \"$f\"; done", &root);
        shell(&mut e, &ctx).unwrap();
        assert_eq!(e.deletes, ["a.log", "b.log"]);
    }

    #[test]
    fn no_command_no_enrichment() {
        let d = repo();
        let ctx = PathContext::new(d.path());
        let mut e = event("", d.path());
        e.command = None;
        assert!(shell(&mut e, &ctx).is_none());
    }
}
