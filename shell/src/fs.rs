//! Looking at the file system, as the shell and `find` will: bash globs
//! expand to the names they match (a name starting with `.` only when the
//! pattern's segment does), and `find ROOT -name N` lists what it visits.
//! Used only when [`crate::Options::look`] is set (the host's hook, which
//! runs where the command will); bounded by a budget of directory entries
//! per analysis, past which the pattern stands for its matches.

use std::cell::Cell;

use hookgate_glob::Pattern;

/// Directory entries one analysis may read.
pub const SCAN_BUDGET: usize = 5_000;
/// Most files one glob or `find` may stand for.
pub const MAX_MATCHES: usize = 256;

thread_local! {
    static BUDGET: Cell<usize> = const { Cell::new(0) };
}

/// Reset the budget at the start of an analysis.
pub(crate) fn reset() {
    BUDGET.with(|b| b.set(SCAN_BUDGET));
}

/// Take one entry from the budget; false once it is spent.
fn spend() -> bool {
    BUDGET.with(|b| match b.get() {
        0 => false,
        n => {
            b.set(n - 1);
            true
        }
    })
}

fn entries(dir: &str) -> Option<Vec<(String, bool)>> {
    let rd = std::fs::read_dir(if dir.is_empty() { "/" } else { dir }).ok()?;
    let mut out = Vec::new();
    for e in rd.flatten() {
        if !spend() {
            return None;
        }
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        // Not following symlinks, as find does by default.
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        out.push((name, is_dir));
    }
    out.sort();
    Some(out)
}

/// What a glob finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// These files (absolute, sorted).
    Files(Vec<String>),
    /// Nothing matches: bash passes the word on as it is.
    Nothing,
    /// Too many to list, or the budget ran out: the pattern stands.
    TooMany,
}

/// Expand an absolute bash glob against the file system.
pub fn glob(pattern: &str) -> Found {
    let mut dirs: Vec<String> = vec![String::new()];
    for seg in pattern.split('/').filter(|s| !s.is_empty()) {
        if !seg.chars().any(hookgate_glob::is_meta) {
            for d in &mut dirs {
                d.push('/');
                d.push_str(seg);
            }
            continue;
        }
        let Ok(matcher) = Pattern::new(seg, false) else {
            return Found::Nothing;
        };
        let mut next = Vec::new();
        for d in &dirs {
            let Some(list) = entries(d) else {
                if BUDGET.with(Cell::get) == 0 {
                    return Found::TooMany;
                }
                continue;
            };
            for (name, _) in list {
                if name.starts_with('.') && !seg.starts_with('.') {
                    continue;
                }
                if matcher.matches(&name) {
                    next.push(format!("{d}/{name}"));
                    if next.len() > MAX_MATCHES {
                        return Found::TooMany;
                    }
                }
            }
        }
        dirs = next;
        if dirs.is_empty() {
            return Found::Nothing;
        }
    }
    // A literal pattern (no wildcard left) exists or not.
    dirs.retain(|d| std::fs::symlink_metadata(d).is_ok());
    if dirs.is_empty() {
        Found::Nothing
    } else {
        Found::Files(dirs)
    }
}

/// What `find ROOT` visits (ROOT itself and everything under it, hidden
/// names too, symlinks not followed), keeping those whose name `name`
/// matches when given, of type `kind` (`'f'` files, `'d'` directories)
/// when given, within `max_depth`. `root` is absolute.
pub fn find(
    root: &str,
    name: Option<&Pattern>,
    kind: Option<char>,
    max_depth: Option<usize>,
) -> Found {
    let Ok(meta) = std::fs::symlink_metadata(root) else {
        return Found::Nothing;
    };
    let of_kind = |is_dir: bool| match kind {
        Some('d') => is_dir,
        Some('f') => !is_dir,
        _ => true,
    };
    let mut out = Vec::new();
    let base = root.rsplit('/').next().unwrap_or(root);
    if name.is_none_or(|n| n.matches(base)) && of_kind(meta.is_dir()) {
        out.push(root.to_string());
    }
    let mut stack = vec![(root.to_string(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        if max_depth.is_some_and(|m| depth >= m) {
            continue;
        }
        if !std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        let Some(list) = entries(&dir) else {
            return Found::TooMany;
        };
        for (n, is_dir) in list {
            let path = format!("{}/{n}", dir.trim_end_matches('/'));
            if name.is_none_or(|p| p.matches(&n)) && of_kind(is_dir) {
                out.push(path.clone());
                if out.len() > MAX_MATCHES {
                    return Found::TooMany;
                }
            }
            if is_dir {
                stack.push((path, depth + 1));
            }
        }
    }
    out.sort();
    if out.is_empty() {
        Found::Nothing
    } else {
        Found::Files(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_find_look_at_the_tree() {
        let d = std::env::temp_dir().join(format!("hookgate-shell-fs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("src/.cache")).unwrap();
        for f in ["a.log", "b.log", ".h.log", "src/x.py", "src/.cache/y.py"] {
            std::fs::write(d.join(f), "").unwrap();
        }
        let r = d.display().to_string();
        reset();
        assert_eq!(
            glob(&format!("{r}/*.log")),
            Found::Files(vec![format!("{r}/a.log"), format!("{r}/b.log")])
        );
        assert_eq!(glob(&format!("{r}/*.tmp")), Found::Nothing);
        let py = Pattern::new("*.py", false).unwrap();
        assert_eq!(
            find(&format!("{r}/src"), Some(&py), None, None),
            Found::Files(vec![
                format!("{r}/src/.cache/y.py"),
                format!("{r}/src/x.py")
            ])
        );
        BUDGET.with(|b| b.set(1));
        assert_eq!(glob(&format!("{r}/*.log")), Found::TooMany);
        let _ = std::fs::remove_dir_all(&d);
    }
}
