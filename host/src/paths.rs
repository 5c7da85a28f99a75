//! One path normalization for every adapter and validator: relative and
//! absolute paths, `~`, Windows separators, `.` and `..`, symlinks (where the
//! file or a parent exists), and case folding where the file system folds
//! case. Also finds the repository root and the store location without
//! spawning git.

use std::path::{Component, Path, PathBuf};

/// How paths of one event are normalized.
#[derive(Debug, Clone)]
pub struct PathContext {
    /// Absolute working directory of the agent.
    pub cwd: PathBuf,
    /// Canonical repository root, if inside a git work tree.
    pub repo_root: Option<PathBuf>,
    /// Fold case (lower-case every path).
    pub case_insensitive: bool,
    home: Option<PathBuf>,
}

impl PathContext {
    /// A context for `cwd` (made absolute against the process's directory).
    pub fn new(cwd: &Path) -> PathContext {
        let cwd = if cwd.is_absolute() {
            lexical(cwd)
        } else {
            std::env::current_dir()
                .map(|d| lexical(&d.join(cwd)))
                .unwrap_or_else(|_| lexical(cwd))
        };
        let repo_root = find_repo_root(&cwd);
        PathContext {
            cwd,
            repo_root,
            case_insensitive: false,
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }

    /// `$HOME`, for `~`.
    pub fn home(&self) -> Option<&Path> {
        self.home.as_deref()
    }

    /// Set case folding.
    pub fn with_case_fold(mut self, fold: bool) -> PathContext {
        self.case_insensitive = fold;
        self
    }

    /// Normalize one path as the platform gave it: repo-relative with `/`
    /// separators, or absolute outside the repository; `.` for the root.
    pub fn normalize(&self, raw: &str) -> String {
        let mut s = raw.trim().to_string();
        if s.contains('\\') {
            s = s.replace('\\', "/");
        }
        if s == "~" || s.starts_with("~/") {
            if let Some(h) = &self.home {
                s = format!("{}{}", h.display(), &s[1..]);
            }
        }
        let p = Path::new(&s);
        let abs = if p.is_absolute() {
            lexical(p)
        } else {
            lexical(&self.cwd.join(p))
        };
        let resolved = resolve_existing(&abs);
        let out = match &self.repo_root {
            Some(root) => match resolved.strip_prefix(root) {
                Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
                Ok(rel) => to_slash(rel),
                Err(_) => to_slash(&resolved),
            },
            None => to_slash(&resolved),
        };
        if self.case_insensitive {
            out.to_lowercase()
        } else {
            out
        }
    }
}

fn to_slash(p: &Path) -> String {
    let s = p.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        s.into_owned()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

/// Resolve `.` and `..` without touching the file system (never above `/`).
pub fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    // `..` above a relative start: keep it.
                    if !p.is_absolute() {
                        out.push("..");
                    }
                }
                if out.as_os_str().is_empty() && p.is_absolute() {
                    out.push("/");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Canonicalize the longest prefix of `abs` that exists (resolving
/// symlinks) and append the rest, so a file about to be created still
/// resolves through a symlinked parent directory.
fn resolve_existing(abs: &Path) -> PathBuf {
    let mut tail: Vec<&std::ffi::OsStr> = Vec::new();
    let mut cur = abs;
    for _ in 0..256 {
        if let Ok(c) = std::fs::canonicalize(cur) {
            let mut out = c;
            for t in tail.iter().rev() {
                out.push(t);
            }
            return out;
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                tail.push(name);
                cur = parent;
            }
            _ => break,
        }
    }
    abs.to_path_buf()
}

/// The canonical root of the git work tree containing `dir`, found by
/// walking up to a `.git` directory or file.
pub fn find_repo_root(dir: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    start
        .ancestors()
        .find(|a| a.join(".git").exists())
        .map(Path::to_path_buf)
}

/// git's common directory for the work tree at `root` (follows a `.git`
/// file of a linked worktree to the main repository's `.git`).
pub fn git_common_dir(root: &Path) -> Option<PathBuf> {
    let dot_git = root.join(".git");
    if dot_git.is_dir() {
        return Some(dot_git);
    }
    let text = std::fs::read_to_string(&dot_git).ok()?;
    let gitdir = text.lines().find_map(|l| l.strip_prefix("gitdir:"))?.trim();
    let gitdir = if Path::new(gitdir).is_absolute() {
        PathBuf::from(gitdir)
    } else {
        root.join(gitdir)
    };
    match std::fs::read_to_string(gitdir.join("commondir")) {
        Ok(common) => {
            let common = common.trim();
            let p = if Path::new(common).is_absolute() {
                PathBuf::from(common)
            } else {
                gitdir.join(common)
            };
            Some(lexical(&p))
        }
        Err(_) => Some(gitdir),
    }
}

/// The store database: `<git common dir>/hookgate/state.db` inside git, else
/// `<dir>/.hookgate/state.db`.
pub fn default_store(repo_root: Option<&Path>, cwd: &Path) -> PathBuf {
    if let Some(common) = repo_root.and_then(git_common_dir) {
        return common.join("hookgate").join("state.db");
    }
    cwd.join(".hookgate").join("state.db")
}

/// Does the file system at `dir` fold case? Probes by looking the directory
/// up with its last component's case flipped.
pub fn fs_folds_case(dir: &Path) -> bool {
    let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let flipped: String = name
        .chars()
        .map(|c| {
            if c.is_lowercase() {
                c.to_uppercase().next().unwrap_or(c)
            } else {
                c.to_lowercase().next().unwrap_or(c)
            }
        })
        .collect();
    if flipped == name {
        return false;
    }
    let other = dir.with_file_name(flipped);
    match (std::fs::metadata(dir), std::fs::metadata(&other)) {
        #[cfg(unix)]
        (Ok(a), Ok(b)) => {
            use std::os::unix::fs::MetadataExt;
            a.ino() == b.ino() && a.dev() == b.dev()
        }
        #[cfg(not(unix))]
        (Ok(_), Ok(_)) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> (tempfile::TempDir, PathContext) {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join(".git")).unwrap();
        std::fs::create_dir_all(t.path().join("src/sub")).unwrap();
        let ctx = PathContext::new(&t.path().join("src"));
        (t, ctx)
    }

    #[test]
    fn relative_absolute_and_dotdot_agree() {
        let (t, ctx) = repo();
        let root = std::fs::canonicalize(t.path()).unwrap();
        assert_eq!(ctx.normalize("main.rs"), "src/main.rs");
        assert_eq!(ctx.normalize("./sub/../main.rs"), "src/main.rs");
        assert_eq!(
            ctx.normalize(&format!("{}/src/main.rs", root.display())),
            "src/main.rs"
        );
        assert_eq!(ctx.normalize("../.env"), ".env");
        assert_eq!(ctx.normalize(".."), ".");
        assert_eq!(
            ctx.normalize("../../../../../../../etc/passwd"),
            "/etc/passwd"
        );
        assert_eq!(ctx.normalize("sub\\x.rs"), "src/sub/x.rs");
    }

    #[test]
    fn symlinks_resolve_even_for_new_files() {
        let (t, ctx) = repo();
        std::os::unix::fs::symlink(t.path().join(".git"), t.path().join("src/innocent")).unwrap();
        assert_eq!(ctx.normalize("innocent/config"), ".git/config");
        assert_eq!(ctx.normalize("innocent/new/file"), ".git/new/file");
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), t.path().join("src/out")).unwrap();
        let n = ctx.normalize("out/x");
        assert!(n.starts_with('/') && n.ends_with("/x"), "{n}");
    }

    #[test]
    fn case_folding_lowercases() {
        let (_t, ctx) = repo();
        let ctx = ctx.with_case_fold(true);
        assert_eq!(ctx.normalize("Main.RS"), "src/main.rs");
    }

    #[test]
    fn worktree_common_dir() {
        let t = tempfile::tempdir().unwrap();
        let main_git = t.path().join("main/.git");
        std::fs::create_dir_all(main_git.join("worktrees/wt")).unwrap();
        std::fs::write(main_git.join("worktrees/wt/commondir"), "../..\n").unwrap();
        std::fs::create_dir_all(t.path().join("wt")).unwrap();
        std::fs::write(
            t.path().join("wt/.git"),
            format!("gitdir: {}\n", main_git.join("worktrees/wt").display()),
        )
        .unwrap();
        assert_eq!(git_common_dir(&t.path().join("wt")).unwrap(), main_git);
        assert_eq!(
            default_store(Some(&t.path().join("wt")), t.path()),
            main_git.join("hookgate/state.db")
        );
    }

    proptest::proptest! {
        #[test]
        fn normalizing_is_idempotent_and_form_independent(parts in proptest::collection::vec("[a-c]{1,2}|\\.|\\.\\.", 1..8)) {
            let (t, ctx) = repo();
            let rel = parts.join("/");
            let once = ctx.normalize(&rel);
            let root_ctx = PathContext::new(t.path());
            // Relative to the repository root, the normalized form is a fixed point.
            if !once.starts_with('/') {
                proptest::prop_assert_eq!(root_ctx.normalize(&once), once.clone());
            }
            // The absolute spelling of the same path normalizes the same way.
            let abs = format!("{}/{}", ctx.cwd.display(), rel);
            proptest::prop_assert_eq!(ctx.normalize(&abs), once.clone());
            proptest::prop_assert!(once == "." || !once.split('/').any(|c| c == ".." || c == "."), "{}", once);
        }
    }
}
