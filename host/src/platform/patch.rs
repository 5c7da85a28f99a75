//! Codex's `apply_patch` envelope: which files a patch adds, updates,
//! deletes and moves. Both ends of a move count (the source is deleted, the
//! destination written), and an update writes its file.
//!
//! ```text
//! *** Begin Patch
//! *** Add File: src/new.rs
//! +fn main() {}
//! *** Update File: src/app.py
//! *** Move to: src/main.py
//! @@
//! -DEBUG = False
//! +DEBUG = True
//! *** Delete File: old.txt
//! *** End Patch
//! ```

use super::ParseError;

/// The files a patch touches, as written in it (relative to the cwd).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    /// Added, updated and moved-to files.
    pub writes: Vec<String>,
    /// Deleted and moved-away files.
    pub deletes: Vec<String>,
}

/// Most file headers one patch may carry.
const MAX_FILES: usize = 10_000;

/// Parse an envelope. Malformed ones (no `*** Begin Patch`, a header with no
/// path, a `Move to` with no file before it) are errors: the adapter's
/// failure mode decides, never a silent "touches nothing".
pub fn parse(text: &str) -> Result<Patch, ParseError> {
    let bad = |m: &str| ParseError::Shape(format!("apply_patch: {m}"));
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    // Tolerate leading blank lines and a heredoc wrapper (`apply_patch <<'EOF'`).
    let first = lines
        .by_ref()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with("apply_patch"))
        .ok_or_else(|| bad("empty patch"))?;
    if first.trim() != "*** Begin Patch" {
        return Err(bad("does not start with `*** Begin Patch`"));
    }
    let mut p = Patch::default();
    let mut current: Option<String> = None;
    let mut ended = false;
    for line in lines {
        let header = |prefix: &str| line.strip_prefix(prefix).map(str::trim);
        if let Some(path) = header("*** Add File:") {
            p.writes.push(nonempty(path, "Add File")?);
            current = None;
        } else if let Some(path) = header("*** Update File:") {
            let path = nonempty(path, "Update File")?;
            p.writes.push(path.clone());
            current = Some(path);
        } else if let Some(path) = header("*** Delete File:") {
            p.deletes.push(nonempty(path, "Delete File")?);
            current = None;
        } else if let Some(path) = header("*** Move to:") {
            let from = current
                .take()
                .ok_or_else(|| bad("`*** Move to:` without an `*** Update File:` before it"))?;
            p.deletes.push(from);
            p.writes.push(nonempty(path, "Move to")?);
        } else if line.trim() == "*** End Patch" {
            ended = true;
            break;
        } else if line.starts_with("*** ") && !line.starts_with("*** End of File") {
            return Err(bad(&format!(
                "unknown header `{}`",
                line.chars().take(60).collect::<String>()
            )));
        }
        if p.writes.len() + p.deletes.len() > MAX_FILES {
            return Err(bad("too many files"));
        }
    }
    if !ended {
        return Err(bad("no `*** End Patch`"));
    }
    Ok(p)
}

fn nonempty(path: &str, what: &str) -> Result<String, ParseError> {
    if path.is_empty() {
        Err(ParseError::Shape(format!(
            "apply_patch: `*** {what}:` without a path"
        )))
    } else {
        Ok(path.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_updates_deletes_and_both_ends_of_moves() {
        let p = parse("*** Begin Patch\n*** Add File: a.rs\n+x\n*** Update File: b.py\n*** Move to: c.py\n@@\n-1\n+2\n*** Update File: d.md\n@@\n-a\n+b\n*** Delete File: e.txt\n*** End Patch\n").unwrap();
        assert_eq!(p.writes, ["a.rs", "b.py", "c.py", "d.md"]);
        assert_eq!(p.deletes, ["b.py", "e.txt"]);
    }

    #[test]
    fn malformed_envelopes_are_errors() {
        for bad in [
            "",
            "*** Update File: a\n*** End Patch",
            "*** Begin Patch\n*** Add File: \n*** End Patch",
            "*** Begin Patch\n*** Move to: x\n*** End Patch",
            "*** Begin Patch\n*** Add File: a\n",
            "*** Begin Patch\n*** Frobnicate: a\n*** End Patch",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
