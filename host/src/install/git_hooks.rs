//! git's client-side hooks as a backstop: `hookgate init` makes git's
//! `pre-commit` run `hookgate git pre-commit` and its `pre-push` run
//! `hookgate git pre-push <remote> <url>` (git's stdin passed on), and
//! `hookgate uninstall` takes that out again, leaving every file as it was.
//!
//! Where: the directory git runs hooks from, as git computes it
//! (`git rev-parse --git-path hooks` in the work tree: `core.hooksPath`,
//! relative to the work tree root, or the common directory's `hooks`, which
//! linked worktrees share), created when missing. With husky v9
//! (`core.hooksPath = .husky/_`, whose stubs run `.husky/<hook>` with
//! `sh -e` and are regenerated on every `npm install`) the block goes into
//! the user script `.husky/<hook>` instead, created when missing.
//!
//! How, per hook; existing hooks are chained, never replaced:
//!
//! * none: a new `#!/bin/sh` script holding hookgate's block;
//! * an executable shell script (shebang `sh`, `bash`, `dash`, `zsh`, `ksh`,
//!   directly or through `env`, or no shebang at all, which git runs with
//!   `sh`): the block is inserted right after the shebang line (after husky
//!   v5–v8's `. "…/_/husky.sh"` line, which re-runs the script, when that
//!   follows), with the file's line endings and mode;
//! * anything else (a binary, a Python script, a symbolic link, or a hook
//!   that is not executable): moved aside to `<hook>.hookgate-chained`, and
//!   a small `sh` wrapper in its place runs the guard, then `exec`s the
//!   chained hook with the same arguments and stdin, if it is executable: a
//!   hook git ignored because it is not executable stays ignored.
//!
//! The block runs the guard and exits with its status when that is not 0.
//! For `pre-push` it first copies stdin to a temporary file, gives that to
//! the guard, then makes it the script's stdin again (`exec <file`) and
//! deletes it, so the rest of the script (or the chained hook) reads every
//! line git wrote. When the hookgate binary is not there (a teammate without
//! hookgate), the block prints one warning line on stderr and lets git go on.
//!
//! The block is delimited by [`BEGIN`] and [`END`]; its second line says how
//! it got there ([`Kind`]), so that `uninstall` removes exactly the block
//! (the file is then byte for byte what it was), deletes a file hookgate
//! created, or moves the chained hook back. A second `init` changes nothing
//! (or only the binary's path in the block, when `--bin` changed).

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::shell_word;
use crate::paths::lexical;

/// The hooks hookgate installs.
pub const HOOKS: [&str; 2] = ["pre-commit", "pre-push"];

/// The first line of hookgate's block.
pub const BEGIN: &str = "# >>> hookgate >>>";

/// The last line of hookgate's block.
pub const END: &str = "# <<< hookgate <<<";

/// What is appended to a hook's file name when it is moved aside.
pub const CHAINED_SUFFIX: &str = ".hookgate-chained";

/// The shebang of a hook file hookgate creates.
const SHEBANG: &str = "#!/bin/sh";

const INSERTED: &str =
    "# Inserted by `hookgate init`; `hookgate uninstall` removes this block and leaves the rest as it was.";
const CREATED: &str =
    "# This file was created by `hookgate init`; `hookgate uninstall` deletes it.";
const WRAPPER: &str =
    "# This wrapper was written by `hookgate init`: it runs hookgate, then the hook it moved to";

/// How hookgate's block came to be in a file (its second line says it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Inserted into the user's script: uninstall removes the block only.
    Inserted,
    /// In a file hookgate created: uninstall deletes the file.
    Created,
    /// In the wrapper in front of a hook moved to `<hook>.hookgate-chained`:
    /// uninstall deletes the wrapper and moves the hook back.
    Wrapper,
}

/// What went wrong reading or inspecting a hook.
#[derive(Debug, thiserror::Error)]
pub enum GitHooksError {
    /// A hook or the hooks directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> GitHooksError + '_ {
    move |source| GitHooksError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One file-system step of installing or removing the hooks, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Write `new` to `path` (through a temporary file renamed over it;
    /// parents made) with permission bits `mode`.
    Write {
        /// The file.
        path: PathBuf,
        /// Its text before (`None`: absent, or moved aside by an earlier step).
        old: Option<String>,
        /// Its text after.
        new: String,
        /// Its permission bits after (the old file's when it is edited).
        mode: u32,
    },
    /// Delete `path`.
    Remove {
        /// The file.
        path: PathBuf,
        /// Its text.
        old: String,
    },
    /// Rename `from` to `to` (replacing `to`); a symbolic link is moved, not
    /// followed.
    Rename {
        /// The file now.
        from: PathBuf,
        /// Its new name.
        to: PathBuf,
    },
}

impl Step {
    /// Do it.
    pub fn apply(&self) -> io::Result<()> {
        match self {
            Step::Write {
                path, new, mode, ..
            } => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let mut tmp = path.as_os_str().to_owned();
                tmp.push(".hookgate-tmp");
                let tmp = PathBuf::from(tmp);
                std::fs::write(&tmp, new)?;
                set_mode(&tmp, *mode)?;
                std::fs::rename(&tmp, path)
            }
            Step::Remove { path, .. } => match std::fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
            Step::Rename { from, to } => std::fs::rename(from, to),
        }
    }

    /// The file it changes (for `Rename`, the one it creates).
    pub fn path(&self) -> &Path {
        match self {
            Step::Write { path, .. } | Step::Remove { path, .. } => path,
            Step::Rename { to, .. } => to,
        }
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(_meta: &std::fs::Metadata) -> u32 {
    0o755
}

/// What `init` or `uninstall` would do to the git hooks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The hooks directory git uses (`None`: not a git work tree, or git
    /// is missing; the notes say why).
    pub hooks_dir: Option<PathBuf>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// What the user should know (a hook left alone and why, a hook that
    /// stays ignored, a tracked file changed).
    pub notes: Vec<String>,
}

/// Where git runs the hooks of a work tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The hooks directory (`git rev-parse --git-path hooks`, absolute).
    pub dir: PathBuf,
    /// With husky v9 (`dir` is `.husky/_`, holding husky's `h`): the
    /// directory of the user scripts (`.husky`), where the block goes.
    pub husky: Option<PathBuf>,
    /// git's default hooks directory, `<common dir>/hooks` (`uninstall`
    /// also looks there, in case `core.hooksPath` changed since `init`).
    pub default_dir: PathBuf,
}

/// Where git runs the hooks of the work tree whose top is `root`, asking
/// git. `Err` says why there is nothing to do: git is missing, or `root` is
/// not the top of a git work tree.
pub fn locate(root: &Path) -> Result<Location, String> {
    let out = Command::new("git")
        .args([
            "rev-parse",
            "--show-toplevel",
            "--git-path",
            "hooks",
            "--git-common-dir",
        ])
        .current_dir(root)
        .output()
        .map_err(|e| format!("git could not be run ({e})"))?;
    if !out.status.success() {
        return Err(format!("{} is not in a git work tree", root.display()));
    }
    let text = String::from_utf8(out.stdout)
        .map_err(|_| "git printed a path that is not UTF-8".to_string())?;
    let mut lines = text.lines();
    let (Some(top), Some(hooks), Some(common)) = (lines.next(), lines.next(), lines.next()) else {
        return Err(format!("unexpected output of git rev-parse: {text:?}"));
    };
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    if canonical(Path::new(top)) != canonical(root) {
        return Err(format!(
            "{} is not the top of a git work tree (git's is {top})",
            root.display()
        ));
    }
    let dir = lexical(&root.join(hooks));
    let husky = if dir.file_name().is_some_and(|n| n == "_")
        && (dir.join("h").is_file() || dir.join("husky.sh").is_file())
    {
        dir.parent().map(Path::to_path_buf)
    } else {
        None
    };
    Ok(Location {
        default_dir: lexical(&root.join(common).join("hooks")),
        dir,
        husky,
    })
}

/// The plan of `hookgate init` for the work tree at `root`: hookgate's
/// block in `pre-commit` and `pre-push`, running `bin` (quoted for `sh`).
pub fn install(root: &Path, bin: &str) -> Result<Plan, GitHooksError> {
    let mut plan = Plan::default();
    let loc = match locate(root) {
        Ok(l) => l,
        Err(why) => {
            plan.notes.push(format!("hooks not installed: {why}"));
            return Ok(plan);
        }
    };
    if loc.dir.exists() && !loc.dir.is_dir() {
        plan.notes.push(format!(
            "hooks not installed: git's hooks path {} is not a directory (core.hooksPath)",
            loc.dir.display()
        ));
        return Ok(plan);
    }
    for hook in HOOKS {
        match &loc.husky {
            Some(user) => {
                if !loc.dir.join(hook).exists() {
                    plan.notes.push(format!(
                        "husky has no stub {} yet: run `npx husky` so git runs {}",
                        loc.dir.join(hook).display(),
                        user.join(hook).display()
                    ));
                }
                install_husky(&user.join(hook), hook, bin, &mut plan)?;
            }
            None => install_hook(&loc.dir.join(hook), hook, bin, &mut plan)?,
        }
    }
    let mut tracked: Vec<String> = Vec::new();
    for p in plan.steps.iter().map(Step::path) {
        let shown = p.strip_prefix(root).unwrap_or(p).display().to_string();
        if p.starts_with(root) && !p.starts_with(root.join(".git")) && !tracked.contains(&shown) {
            tracked.push(shown);
        }
    }
    if !tracked.is_empty() {
        plan.notes.push(format!(
            "{} in the work tree: once committed, the block runs hookgate for teammates who have it and only warns for those who do not",
            tracked.join(" and ") + if tracked.len() == 1 { " is" } else { " are" }
        ));
    }
    plan.hooks_dir = Some(loc.dir);
    Ok(plan)
}

/// What is at a hook's path.
enum Found {
    Absent,
    /// A regular file holding UTF-8 text without NUL bytes.
    Text {
        text: String,
        mode: u32,
    },
    /// Anything else a hook can be: a binary, a symbolic link.
    Other,
    /// A directory or other thing that is not a hook.
    NotFile,
}

fn inspect(path: &Path) -> Result<Found, GitHooksError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Found::Absent),
        Err(e) => return Err(io_err(path)(e)),
    };
    if meta.file_type().is_symlink() {
        return Ok(Found::Other);
    }
    if !meta.is_file() {
        return Ok(Found::NotFile);
    }
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) if !text.contains('\0') => Found::Text {
            text,
            mode: mode_of(&meta),
        },
        _ => Found::Other,
    })
}

/// Does git run it (executable, following a symbolic link)?
pub fn executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && mode_of(&m) & 0o111 != 0)
}

fn chained_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(CHAINED_SUFFIX);
    PathBuf::from(p)
}

fn install_hook(path: &Path, hook: &str, bin: &str, plan: &mut Plan) -> Result<(), GitHooksError> {
    let shown = path.display();
    match inspect(path)? {
        Found::Absent => plan.steps.push(Step::Write {
            path: path.to_path_buf(),
            old: None,
            new: created(hook, bin),
            mode: 0o755,
        }),
        Found::NotFile => plan.notes.push(format!(
            "{shown} is not a file: left alone, no git hook installed"
        )),
        Found::Text { text, mode } if has_block(&text) => {
            update_in_place(path, &text, mode, hook, bin, plan)
        }
        Found::Text { text, mode } if is_shell_script(&text) && mode & 0o111 != 0 => {
            plan.steps.push(Step::Write {
                path: path.to_path_buf(),
                new: insert_block(&text, hook, bin),
                old: Some(text),
                mode,
            })
        }
        Found::Text { .. } | Found::Other => {
            let chained = chained_path(path);
            if std::fs::symlink_metadata(&chained).is_ok() {
                plan.notes.push(format!(
                    "{} already exists: {shown} left alone; move one of them away and run `hookgate init` again",
                    chained.display()
                ));
                return Ok(());
            }
            if !executable(path) {
                plan.notes.push(format!(
                    "{shown} is not executable, so git ignores it: it stays ignored, as {} (the wrapper runs it only once it is executable)",
                    chained.display()
                ));
            }
            plan.steps.push(Step::Rename {
                from: path.to_path_buf(),
                to: chained,
            });
            plan.steps.push(Step::Write {
                path: path.to_path_buf(),
                old: None,
                new: wrapper(hook, bin),
                mode: 0o755,
            });
        }
    }
    Ok(())
}

/// Husky v9's user script: run by husky with `sh -e`, whatever its mode or
/// first line.
fn install_husky(path: &Path, hook: &str, bin: &str, plan: &mut Plan) -> Result<(), GitHooksError> {
    match inspect(path)? {
        Found::Absent => plan.steps.push(Step::Write {
            path: path.to_path_buf(),
            old: None,
            new: created(hook, bin),
            mode: 0o755,
        }),
        Found::Text { text, mode } if has_block(&text) => {
            update_in_place(path, &text, mode, hook, bin, plan)
        }
        Found::Text { text, mode } => plan.steps.push(Step::Write {
            path: path.to_path_buf(),
            new: insert_block(&text, hook, bin),
            old: Some(text),
            mode,
        }),
        Found::Other | Found::NotFile => plan.notes.push(format!(
            "{} is not a text file: left alone; add `{} git {hook}` to it yourself",
            path.display(),
            shell_word(bin)
        )),
    }
    Ok(())
}

fn update_in_place(path: &Path, text: &str, mode: u32, hook: &str, bin: &str, plan: &mut Plan) {
    match set_block(text, hook, bin) {
        Ok(new) if new == text => {}
        Ok(new) => plan.steps.push(Step::Write {
            path: path.to_path_buf(),
            old: Some(text.to_string()),
            new,
            mode,
        }),
        Err(why) => plan
            .notes
            .push(format!("{}: {why}; fix it by hand", path.display())),
    }
}

/// The plan of `hookgate uninstall` for the work tree at `root`.
pub fn uninstall(root: &Path) -> Result<Plan, GitHooksError> {
    let mut plan = Plan::default();
    let loc = match locate(root) {
        Ok(l) => l,
        Err(why) => {
            plan.notes.push(format!("no hooks to remove: {why}"));
            return Ok(plan);
        }
    };
    let mut dirs: Vec<PathBuf> = Vec::new();
    for d in loc.husky.iter().chain([&loc.dir, &loc.default_dir]) {
        let key = d.canonicalize().unwrap_or_else(|_| d.clone());
        if !dirs
            .iter()
            .any(|x| x.canonicalize().unwrap_or_else(|_| x.clone()) == key)
        {
            dirs.push(d.clone());
        }
    }
    for dir in &dirs {
        for hook in HOOKS {
            remove_hook(&dir.join(hook), &mut plan)?;
        }
    }
    plan.hooks_dir = Some(loc.dir);
    Ok(plan)
}

fn remove_hook(path: &Path, plan: &mut Plan) -> Result<(), GitHooksError> {
    let chained = chained_path(path);
    let (text, mode) = match inspect(path)? {
        Found::Text { text, mode } if has_block(&text) => (text, mode),
        Found::Absent if std::fs::symlink_metadata(&chained).is_ok() => {
            plan.steps.push(Step::Rename {
                from: chained,
                to: path.to_path_buf(),
            });
            return Ok(());
        }
        _ => {
            if std::fs::symlink_metadata(&chained).is_ok() {
                plan.notes.push(format!(
                    "{} is left alone: {} is not hookgate's wrapper any more",
                    chained.display(),
                    path.display()
                ));
            }
            return Ok(());
        }
    };
    let block = match find_block(&text) {
        Ok(Some(b)) => b,
        Ok(None) => return Ok(()),
        Err(why) => {
            plan.notes
                .push(format!("{}: {why}; fix it by hand", path.display()));
            return Ok(());
        }
    };
    let rest = match remove_blocks(&text) {
        Ok(r) => r,
        Err(why) => {
            plan.notes
                .push(format!("{}: {why}; fix it by hand", path.display()));
            return Ok(());
        }
    };
    match block.kind {
        Kind::Wrapper => {
            plan.steps.push(Step::Remove {
                path: path.to_path_buf(),
                old: text,
            });
            if std::fs::symlink_metadata(&chained).is_ok() {
                plan.steps.push(Step::Rename {
                    from: chained,
                    to: path.to_path_buf(),
                });
            } else {
                plan.notes.push(format!(
                    "{} is gone: the hook hookgate had chained cannot be put back",
                    chained.display()
                ));
            }
        }
        Kind::Created if rest.is_empty() || rest.trim_end_matches(['\r', '\n']) == SHEBANG => {
            plan.steps.push(Step::Remove {
                path: path.to_path_buf(),
                old: text,
            })
        }
        Kind::Created => {
            plan.notes.push(format!(
                "{} was created by hookgate but has lines of yours: kept, without hookgate's block",
                path.display()
            ));
            plan.steps.push(Step::Write {
                path: path.to_path_buf(),
                old: Some(text),
                new: rest,
                mode,
            });
        }
        Kind::Inserted => plan.steps.push(Step::Write {
            path: path.to_path_buf(),
            old: Some(text),
            new: rest,
            mode,
        }),
    }
    Ok(())
}

// ---- The text of the block, and editing it in a script ----

/// The lines of hookgate's block for `hook` (without line endings).
fn block_lines(hook: &str, bin: &str, kind: Kind) -> Vec<String> {
    let why = match kind {
        Kind::Inserted => INSERTED.to_string(),
        Kind::Created => CREATED.to_string(),
        Kind::Wrapper => {
            format!("{WRAPPER} {hook}{CHAINED_SUFFIX}; `hookgate uninstall` moves it back.")
        }
    };
    let mut lines = vec![
        BEGIN.to_string(),
        why,
        format!("hookgate_bin={}", shell_word(bin)),
        "if command -v \"$hookgate_bin\" >/dev/null 2>&1; then".to_string(),
    ];
    if hook == "pre-push" {
        lines.extend(
            [
                "  hookgate_in=$(mktemp \"${TMPDIR:-/tmp}/hookgate-pre-push.XXXXXX\") || exit 1",
                "  cat >\"$hookgate_in\" || { rm -f \"$hookgate_in\"; exit 1; }",
                "  if \"$hookgate_bin\" git pre-push \"$@\" <\"$hookgate_in\"; then hookgate_rc=0; else hookgate_rc=$?; fi",
                "  exec <\"$hookgate_in\"",
                "  rm -f \"$hookgate_in\"",
                "  [ \"$hookgate_rc\" -eq 0 ] || exit \"$hookgate_rc\"",
                "  unset hookgate_in hookgate_rc",
            ]
            .map(String::from),
        );
    } else {
        lines.push(format!("  \"$hookgate_bin\" git {hook} || exit $?"));
    }
    let what = if hook == "pre-push" { "push" } else { "commit" };
    lines.extend([
        "else".to_string(),
        format!(
            "  echo \"hookgate: $hookgate_bin not found; this {what} is not checked by hookgate\" >&2"
        ),
        "fi".to_string(),
        "unset hookgate_bin".to_string(),
        END.to_string(),
    ]);
    lines
}

/// The block as text: lines joined by `eol`, and a final `eol` when
/// `terminated`.
fn render(hook: &str, bin: &str, kind: Kind, eol: &str, terminated: bool) -> String {
    let mut s = block_lines(hook, bin, kind).join(eol);
    if terminated {
        s.push_str(eol);
    }
    s
}

/// A new hook file: `#!/bin/sh` and the block.
pub fn created(hook: &str, bin: &str) -> String {
    format!(
        "{SHEBANG}\n{}",
        render(hook, bin, Kind::Created, "\n", true)
    )
}

/// The wrapper written in front of a hook moved to `<hook>.hookgate-chained`.
pub fn wrapper(hook: &str, bin: &str) -> String {
    format!(
        "{SHEBANG}\n{}\
         hookgate_chained=\"$(dirname \"$0\")/{hook}{CHAINED_SUFFIX}\"\n\
         # git ignores a hook that is not executable: so does this wrapper.\n\
         [ -x \"$hookgate_chained\" ] || exit 0\n\
         exec \"$hookgate_chained\" \"$@\"\n",
        render(hook, bin, Kind::Wrapper, "\n", true)
    )
}

/// Is this script run by a POSIX shell? A shebang naming `sh`, `bash`,
/// `dash`, `zsh`, `ksh`, `mksh` or `ash` (directly or through `env`, with
/// or without arguments), or no shebang (git runs such a file with `sh`).
pub fn is_shell_script(text: &str) -> bool {
    let first = text.lines().next().unwrap_or("");
    let Some(rest) = first.strip_prefix("#!") else {
        return true;
    };
    let base = |w: &str| w.rsplit('/').next().unwrap_or(w).to_string();
    let mut words = rest.split_whitespace();
    let Some(mut prog) = words.next().map(base) else {
        return false;
    };
    if prog == "env" {
        match words.find(|w| !w.starts_with('-') && !w.contains('=')) {
            Some(w) => prog = base(w),
            None => return false,
        }
    }
    ["sh", "bash", "dash", "zsh", "ksh", "mksh", "ash"].contains(&prog.as_str())
}

/// The lines of `text` with their byte offsets (each with its terminator).
fn lines_at(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n').scan(0, |at, l| {
        let start = *at;
        *at += l.len();
        Some((start, l))
    })
}

fn bare(line: &str) -> &str {
    line.trim_end_matches(['\n', '\r'])
}

/// Where the block goes: after the shebang line, and after husky v5–v8's
/// `. "$(dirname -- "$0")/_/husky.sh"` when it follows (husky.sh re-runs
/// the script under `sh -e`: the block then runs once, in that run).
fn insertion_point(text: &str) -> usize {
    let mut at = 0;
    let mut lines = text.split_inclusive('\n');
    if text.starts_with("#!") {
        if let Some(l) = lines.next() {
            at += l.len();
        }
    }
    if let Some(l) = lines.next() {
        let t = l.trim();
        if l.ends_with('\n') && t.starts_with(". ") && t.contains("/_/husky.sh") {
            at += l.len();
        }
    }
    at
}

/// The file's line ending: its first line's.
fn eol_of(text: &str) -> &'static str {
    match text.split_inclusive('\n').next() {
        Some(l) if l.ends_with("\r\n") => "\r\n",
        _ => "\n",
    }
}

/// `text` with the block (kind [`Kind::Inserted`]) inserted after its
/// shebang line, in its line endings. When that line ends the file without
/// a line ending, one is added before the block and the block gets none, so
/// that removing the block gives `text` back.
pub fn insert_block(text: &str, hook: &str, bin: &str) -> String {
    let at = insertion_point(text);
    let eol = eol_of(text);
    let (before, after) = text.split_at(at);
    if at > 0 && !before.ends_with('\n') {
        format!(
            "{before}{eol}{}",
            render(hook, bin, Kind::Inserted, eol, false)
        )
    } else {
        format!(
            "{before}{}{after}",
            render(hook, bin, Kind::Inserted, eol, true)
        )
    }
}

/// Where hookgate's block is in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BlockAt {
    /// Offset of its first line.
    start: usize,
    /// Offset just past its last line (and that line's ending, if any).
    end: usize,
    /// Its last line has a line ending.
    terminated: bool,
    /// Its line ending.
    eol: &'static str,
    kind: Kind,
}

fn has_block(text: &str) -> bool {
    lines_at(text).any(|(_, l)| bare(l) == BEGIN)
}

/// The first block of `text`; `Err` when it has no end.
fn find_block(text: &str) -> Result<Option<BlockAt>, String> {
    let mut lines = lines_at(text);
    let Some((start, first)) = lines.by_ref().find(|(_, l)| bare(l) == BEGIN) else {
        return Ok(None);
    };
    let mut kind = Kind::Inserted;
    let mut seen_second = false;
    for (at, l) in lines {
        if !seen_second {
            seen_second = true;
            let b = bare(l);
            if b.starts_with(CREATED) {
                kind = Kind::Created;
            } else if b.starts_with(WRAPPER) {
                kind = Kind::Wrapper;
            }
        }
        if bare(l) == END {
            return Ok(Some(BlockAt {
                start,
                end: at + l.len(),
                terminated: l.ends_with('\n'),
                eol: if first.ends_with("\r\n") {
                    "\r\n"
                } else {
                    "\n"
                },
                kind,
            }));
        }
    }
    Err(format!("hookgate's block has `{BEGIN}` but no `{END}`"))
}

/// `text` without hookgate's block(s): byte for byte the text before
/// [`insert_block`] (including the line ending it added, if any).
pub fn remove_blocks(text: &str) -> Result<String, String> {
    let mut text = text.to_string();
    while let Some(b) = find_block(&text)? {
        let mut start = b.start;
        if !b.terminated && text[..start].ends_with(b.eol) {
            start -= b.eol.len();
        }
        text.replace_range(start..b.end, "");
    }
    Ok(text)
}

/// `text` with hookgate's block for `hook` running `bin`: the existing block
/// rewritten in place (same kind, line endings and position), or one
/// inserted.
pub fn set_block(text: &str, hook: &str, bin: &str) -> Result<String, String> {
    match find_block(text)? {
        Some(b) => {
            let mut out = text.to_string();
            out.replace_range(
                b.start..b.end,
                &render(hook, bin, b.kind, b.eol, b.terminated),
            );
            Ok(out)
        }
        None => Ok(insert_block(text, hook, bin)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIN: &str = "/opt/hook gate/hookgate";

    fn roundtrip(text: &str, hook: &str) -> String {
        let with = insert_block(text, hook, BIN);
        assert_ne!(with, text);
        assert_eq!(remove_blocks(&with).unwrap(), text, "{with:?}");
        assert_eq!(set_block(&with, hook, BIN).unwrap(), with, "idempotent");
        with
    }

    #[test]
    fn inserted_right_after_the_shebang_and_removed_byte_for_byte() {
        let with = roundtrip("#!/bin/sh\necho hi\nexit 0\n", "pre-commit");
        assert!(with.starts_with(&format!("#!/bin/sh\n{BEGIN}\n{INSERTED}\n")));
        assert!(with.ends_with(&format!("{END}\necho hi\nexit 0\n")));
        assert!(with.contains("hookgate_bin='/opt/hook gate/hookgate'\n"));
        assert!(with.contains("\"$hookgate_bin\" git pre-commit || exit $?\n"));
    }

    #[test]
    fn no_trailing_newline() {
        // The shebang ends the file: a line ending is added before the block,
        // and taken away with it.
        let with = roundtrip("#!/bin/sh", "pre-commit");
        assert!(with.starts_with(&format!("#!/bin/sh\n{BEGIN}\n")));
        assert!(with.ends_with(END));
        roundtrip("#!/bin/sh\necho hi", "pre-push");
        roundtrip("#!/bin/sh\r", "pre-commit");
        roundtrip("echo hi", "pre-commit");
    }

    #[test]
    fn crlf_line_endings_are_kept() {
        let text = "#!/bin/sh\r\necho hi\r\n";
        let with = roundtrip(text, "pre-push");
        let inserted = &with["#!/bin/sh\r\n".len()..with.len() - "echo hi\r\n".len()];
        assert!(inserted.ends_with(&format!("{END}\r\n")));
        assert_eq!(
            inserted.matches('\n').count(),
            inserted.matches("\r\n").count(),
            "{inserted:?}"
        );
        roundtrip("#!/bin/sh\r\n", "pre-commit");
    }

    #[test]
    fn no_shebang_goes_first() {
        let with = roundtrip("echo hi\n", "pre-commit");
        assert!(with.starts_with(&format!("{BEGIN}\n")));
        assert!(with.ends_with(&format!("{END}\necho hi\n")));
        let with = roundtrip("", "pre-push");
        assert!(with.starts_with(BEGIN) && with.ends_with(&format!("{END}\n")));
        roundtrip("\n\necho hi\n", "pre-commit");
    }

    #[test]
    fn shebang_with_arguments() {
        let text = "#!/bin/bash -eu\nset -o pipefail\n";
        let with = roundtrip(text, "pre-commit");
        assert!(with.starts_with(&format!("#!/bin/bash -eu\n{BEGIN}\n")));
        roundtrip("#!/usr/bin/env -S bash -e\ntrue\n", "pre-push");
    }

    #[test]
    fn husky_v5_to_v8_block_goes_after_husky_sh() {
        let text = "#!/usr/bin/env sh\n. \"$(dirname -- \"$0\")/_/husky.sh\"\n\nnpx lint-staged\n";
        let with = roundtrip(text, "pre-commit");
        assert!(with.starts_with(&format!(
            "#!/usr/bin/env sh\n. \"$(dirname -- \"$0\")/_/husky.sh\"\n{BEGIN}\n"
        )));
    }

    #[test]
    fn an_existing_block_is_kept_or_rewritten_in_place() {
        let text = "#!/bin/sh\necho hi\n";
        let with = insert_block(text, "pre-commit", BIN);
        assert_eq!(set_block(&with, "pre-commit", BIN).unwrap(), with);
        let moved = set_block(&with, "pre-commit", "hookgate").unwrap();
        assert!(moved.contains("hookgate_bin=hookgate\n") && !moved.contains(BIN));
        assert_eq!(moved.matches(BEGIN).count(), 1);
        assert_eq!(remove_blocks(&moved).unwrap(), text);
        // A block the user moved further down stays there.
        let lower = format!("#!/bin/sh\necho first\n{}", &with["#!/bin/sh\n".len()..]);
        let rewritten = set_block(&lower, "pre-commit", "hookgate").unwrap();
        assert!(rewritten.starts_with(&format!("#!/bin/sh\necho first\n{BEGIN}\n")));
        // Created and wrapper files keep their kind.
        let created = created("pre-push", BIN);
        assert_eq!(set_block(&created, "pre-push", BIN).unwrap(), created);
        assert_eq!(
            find_block(&created).unwrap().map(|b| b.kind),
            Some(Kind::Created)
        );
        assert_eq!(remove_blocks(&created).unwrap(), "#!/bin/sh\n");
        let w = wrapper("pre-commit", BIN);
        assert_eq!(find_block(&w).unwrap().map(|b| b.kind), Some(Kind::Wrapper));
        assert!(w.contains("/pre-commit.hookgate-chained\"\n"));
        assert!(w.ends_with("exec \"$hookgate_chained\" \"$@\"\n"));
    }

    #[test]
    fn an_unterminated_block_is_refused() {
        let text = format!("#!/bin/sh\n{BEGIN}\necho half\n");
        assert!(remove_blocks(&text).is_err());
        assert!(set_block(&text, "pre-commit", BIN).is_err());
    }

    #[test]
    fn pre_push_block_gives_stdin_back() {
        let with = insert_block("#!/bin/sh\ncat >out\n", "pre-push", "hookgate");
        for l in [
            "  cat >\"$hookgate_in\" || { rm -f \"$hookgate_in\"; exit 1; }\n",
            "\"$hookgate_bin\" git pre-push \"$@\" <\"$hookgate_in\"",
            "  exec <\"$hookgate_in\"\n",
            "  rm -f \"$hookgate_in\"\n",
        ] {
            assert!(with.contains(l), "{l}: {with}");
        }
        assert!(
            with.find("exec <").unwrap() < with.find("|| exit \"$hookgate_rc\"").unwrap(),
            "stdin restored before a blocked push exits (the file is removed)"
        );
    }

    #[test]
    fn shell_detection() {
        for s in [
            "#!/bin/sh\n",
            "#!/bin/bash\n",
            "#! /bin/dash -e\n",
            "#!/usr/bin/env bash\n",
            "#!/usr/bin/env -S zsh -f\n",
            "#!/usr/bin/env sh\n",
            "echo no shebang\n",
            "",
        ] {
            assert!(is_shell_script(s), "{s:?}");
        }
        for s in [
            "#!/usr/bin/env python3\n",
            "#!/usr/bin/python\n",
            "#!/usr/bin/env node\n",
            "#!\n",
            "#!/usr/bin/env\n",
        ] {
            assert!(!is_shell_script(s), "{s:?}");
        }
    }
}
