//! `shell-write`: the policy for what the shell analysis could not settle,
//! and for what no path rule covers. The files a command writes and reads
//! are already in the event (lock-check and the guards judge them); these
//! rules judge the rest, each with its own outcome (`allow` turns it off)
//! and, through the policy's `rules`, its own stage:
//!
//! | rule | what |
//! |---|---|
//! | `opaque` | the analysis can't tell what the command writes (`eval`, `bash -c "$X"`, inline code, a target built at run time) |
//! | `unknown-command` | a command the model does not know, that may write anything |
//! | `outside-repo` | a write or delete outside the repository (not under `outside_allowed`) |
//! | `git-internals` | a command other than git writing inside `.git/` |
//! | `no-verify` | skipping git hooks: `--no-verify`, `git commit -n`, `HUSKY=0`, `SKIP=…` |
//! | `hooks-path` | pointing git at other hooks: `-c core.hooksPath=…`, `git config core.hooksPath` |
//! | `hookgate-override` | setting `HOOKGATE_*` variables in the command |
//! | `agent-settings` | writing an agent's hook settings (`.claude/settings.json` …) |
//! | `git-commit` | `git commit`: agents commit through `hookgate commit`; the message is the exact command to run instead |
//! | `git-add` | `git add` / `git stage` on a line that does not commit: staging into the shared index is not needed |
//!
//! Every agent in a checkout shares one git index: a plain `git commit`
//! commits what other agents staged, and two agents staging at once fail on
//! `index.lock`. `hookgate commit` commits through a private index, one
//! commit at a time, so `git-commit` turns the command line into that
//! command ([`git_plan`]): its messages (`-m`, `--message=`, `-F`, and a
//! `$(cat <<'EOF' … EOF)` message, read back from the command text), and
//! its paths (the pathspec of `git commit` and what `git add`, `git stage`,
//! `git rm` and `git mv` named before it, seen from where git ran; none
//! with `-a` or `git add -A` / `.`, where `hookgate commit` commits the
//! agent's own changes).

use hookgate_sdk::glob::PatternSet;
use hookgate_sdk::shell::{self, Analysis};
use hookgate_sdk::tiers::Queries;
use hookgate_sdk::{Event, Finding, Kind, Outcome};
use serde::Deserialize;

/// What a rule does when it fires.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Act {
    /// Off.
    Allow,
    /// Tell the agent.
    Warn,
    /// Ask the human.
    Ask,
    /// Block.
    Deny,
}

impl Act {
    fn outcome(self) -> Option<Outcome> {
        match self {
            Act::Allow => None,
            Act::Warn => Some(Outcome::Warn),
            Act::Ask => Some(Outcome::Ask),
            Act::Deny => Some(Outcome::Deny),
        }
    }
}

/// shell-write's settings (its `config` table).
#[derive(Debug, Clone)]
pub struct Rules {
    /// `opaque`.
    pub opaque: Act,
    /// `unknown-command`.
    pub unknown_command: Act,
    /// `outside-repo`.
    pub outside_repo: Act,
    /// `git-internals`.
    pub git_internals: Act,
    /// `no-verify`.
    pub no_verify: Act,
    /// `hooks-path`.
    pub hooks_path: Act,
    /// `hookgate-override`.
    pub hookgate_override: Act,
    /// `agent-settings`.
    pub agent_settings: Act,
    /// `git-commit`.
    pub git_commit: Act,
    /// `git-add`.
    pub git_add: Act,
    /// Absolute paths outside the repository that may be written.
    pub outside_allowed: Vec<String>,
    /// Agent hook settings files.
    pub agent_settings_paths: Vec<String>,
    /// Commands to treat as known (they only read, or the team trusts them).
    pub known_commands: Vec<String>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            opaque: Act::Warn,
            unknown_command: Act::Warn,
            outside_repo: Act::Warn,
            git_internals: Act::Deny,
            no_verify: Act::Deny,
            hooks_path: Act::Deny,
            hookgate_override: Act::Deny,
            agent_settings: Act::Ask,
            git_commit: Act::Deny,
            git_add: Act::Warn,
            outside_allowed: ["/tmp/**", "/var/tmp/**", "/dev/**"]
                .map(String::from)
                .to_vec(),
            agent_settings_paths: [
                "**/.claude/settings.json",
                "**/.claude/settings.local.json",
                "**/.gemini/settings.json",
                "**/.cursor/hooks.json",
                "**/.codex/config.toml",
                "**/.codex/hooks.json",
                "**/.windsurf/hooks.json",
                "**/.codeium/windsurf/hooks.json",
                "**/.github/hooks/**",
                "**/.kiro/hooks/**",
                "**/.clinerules/hooks/**",
                "**/.factory/settings.json",
                "**/.qwen/settings.json",
            ]
            .map(String::from)
            .to_vec(),
            known_commands: Vec::new(),
        }
    }
}

/// Check the settings: every pattern must be valid.
pub fn check(rules: &Rules) -> Result<(), String> {
    for (key, list) in [
        ("outside_allowed", &rules.outside_allowed),
        ("agent_settings_paths", &rules.agent_settings_paths),
    ] {
        if !list.is_empty() {
            PatternSet::new(list, false).map_err(|(p, e)| format!("{key}: pattern `{p}`: {e}"))?;
        }
    }
    Ok(())
}

fn add(out: &mut Vec<Finding>, act: Act, rule: &str, message: String, paths: Vec<String>) {
    if let Some(o) = act.outcome() {
        out.push(
            Finding::new(rule, o, message)
                .with_paths(paths)
                .with_docs("README.md#shell-write"),
        );
    }
}

/// A word of a command line: its text, or `None` when it is only known at
/// run time (`"$MSG"`).
type Word = Option<String>;

fn word(w: &str) -> Word {
    (!w.is_empty()).then(|| w.to_string())
}

/// One git command line, split at its subcommand.
struct GitCall<'a> {
    /// The subcommand (`commit`).
    sub: Option<&'a str>,
    /// Its arguments.
    rest: Vec<&'a str>,
    /// `-c K=V` settings.
    configs: Vec<&'a str>,
    /// Where `-C DIR` runs it, relative to the command's directory (`None`:
    /// no `-C`; `Some(None)`: a directory only known at run time).
    dir: Option<Word>,
}

fn is_git(argv: &[String]) -> bool {
    argv.first().map(|c| c.rsplit('/').next().unwrap_or(c)) == Some("git")
}

/// The git subcommand of a git command line and its arguments, after the
/// global options (`-C DIR`, `-c K=V`, `--git-dir=…`).
fn git_sub(argv: &[String]) -> GitCall<'_> {
    let mut configs = Vec::new();
    let mut dir: Option<Word> = None;
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_str();
        match a {
            "-C" => {
                let d = argv.get(i + 1).and_then(|d| word(d));
                dir = Some(match (dir, d) {
                    (_, None) | (Some(None), _) => None,
                    (Some(Some(base)), Some(d)) => Some(join(&base, &d)),
                    (None, Some(d)) => Some(d),
                });
                i += 2;
            }
            "--git-dir" | "--work-tree" | "--namespace" => i += 2,
            "-c" => {
                if let Some(kv) = argv.get(i + 1) {
                    configs.push(kv.as_str());
                }
                i += 2;
            }
            _ if a.starts_with("-c") && a.len() > 2 => {
                configs.push(&a[2..]);
                i += 1;
            }
            _ if a.starts_with('-') => i += 1,
            _ => break,
        }
    }
    GitCall {
        sub: argv.get(i).map(String::as_str),
        rest: argv.iter().skip(i + 1).map(String::as_str).collect(),
        configs,
        dir,
    }
}

/// `path` seen from the directory `git -C dir` names.
fn join(dir: &str, path: &str) -> String {
    let path = path.trim_start_matches("./");
    if path.starts_with('/') || dir == "." || dir.is_empty() {
        path.to_string()
    } else if path.is_empty() || path == "." {
        dir.trim_end_matches('/').to_string()
    } else {
        format!("{}/{path}", dir.trim_end_matches('/'))
    }
}

/// A pathspec that names the whole tree (`git add .`): what it stages is
/// everyone's, so the replacement names no paths.
fn whole_tree(p: &str) -> bool {
    matches!(p, "." | "./" | ":" | ":/" | ":/*" | "*")
}

/// The arguments of `git commit` that matter to its replacement.
#[derive(Debug, Default)]
struct CommitArgs {
    amend: bool,
    /// `-a`: every tracked change (the replacement names no paths).
    all: bool,
    /// `('m', text)` for `-m`, `('F', file)` for `-F`, in order.
    messages: Vec<(char, Word)>,
    paths: Vec<Word>,
}

/// Parse `git commit`'s arguments; `None` when it commits nothing
/// (`--dry-run`, `-h`).
fn commit_args(rest: &[&str]) -> Option<CommitArgs> {
    let mut c = CommitArgs::default();
    let mut i = 0;
    let mut pathspec = false;
    while i < rest.len() {
        let a = rest[i];
        i += 1;
        if pathspec || a.is_empty() || a == "-" || !a.starts_with('-') {
            c.paths.push(word(a));
            continue;
        }
        if a == "--" {
            pathspec = true;
            continue;
        }
        if a == "-h" {
            return None;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(word(v))),
                None => (long, None),
            };
            let takes = matches!(
                name,
                "message"
                    | "file"
                    | "reuse-message"
                    | "reedit-message"
                    | "fixup"
                    | "squash"
                    | "author"
                    | "date"
                    | "template"
                    | "cleanup"
                    | "trailer"
                    | "pathspec-from-file"
            );
            let value = match value {
                Some(v) => v,
                None if takes => {
                    i += 1;
                    rest.get(i - 1).and_then(|v| word(v))
                }
                None => None,
            };
            match name {
                "dry-run" | "help" => return None,
                "amend" => c.amend = true,
                "all" | "pathspec-from-file" => c.all = true,
                "message" => c.messages.push(('m', value)),
                "file" => c.messages.push(('F', value)),
                _ => {}
            }
            continue;
        }
        // A bundle of short options: `-am MSG`, `-qmMSG`.
        for (j, ch) in a.char_indices().skip(1) {
            match ch {
                'a' => c.all = true,
                'm' | 'F' | 'C' | 'c' | 't' => {
                    let attached = &a[j + 1..];
                    let value = if attached.is_empty() {
                        i += 1;
                        rest.get(i - 1).and_then(|v| word(v))
                    } else {
                        word(attached)
                    };
                    if matches!(ch, 'm' | 'F') {
                        c.messages.push((ch, value));
                    }
                    break;
                }
                // `-S[KEYID]`, `-u[MODE]`: the rest of the bundle is theirs.
                'S' | 'u' => break,
                _ => {}
            }
        }
    }
    Some(c)
}

/// Parse the arguments of `git add` / `git stage` (`stage`), `git rm` or
/// `git mv`: the paths they stage and whether they stage the whole tree;
/// `None` when they stage nothing (`-n`, `--dry-run`, `-h`).
fn staging_args(sub: &str, rest: &[&str]) -> Option<(Vec<Word>, bool)> {
    let mut paths = Vec::new();
    let mut broad = false;
    let mut i = 0;
    let mut pathspec = false;
    while i < rest.len() {
        let a = rest[i];
        i += 1;
        if pathspec || a.is_empty() || a == "-" || !a.starts_with('-') {
            paths.push(word(a));
            continue;
        }
        if a == "--" {
            pathspec = true;
            continue;
        }
        if a == "-h" {
            return None;
        }
        if let Some(long) = a.strip_prefix("--") {
            let name = long.split_once('=').map_or(long, |(n, _)| n);
            match name {
                "dry-run" | "help" => return None,
                "all" | "update" | "no-ignore-removal" | "pathspec-from-file" => broad = true,
                _ => {}
            }
            if matches!(name, "chmod" | "pathspec-from-file") && !long.contains('=') {
                i += 1;
            }
            continue;
        }
        for ch in a.chars().skip(1) {
            match ch {
                'n' => return None,
                'A' | 'u' if sub != "mv" => broad = true,
                _ => {}
            }
        }
    }
    if sub == "mv" && paths.len() > 2 {
        // `git mv a b dir`: a and b leave for dir/a and dir/b.
        let dest = paths.pop().flatten();
        let moved: Vec<Word> = paths
            .iter()
            .map(|p| {
                let (d, p) = (dest.as_deref()?, p.as_deref()?);
                Some(join(d, p.rsplit('/').next().unwrap_or(p)))
            })
            .collect();
        paths.extend(moved);
    }
    let whole = (paths.is_empty() && (broad || sub != "mv"))
        || paths.iter().flatten().any(|p| whole_tree(p));
    Some((paths, whole))
}

/// `hookgate commit` in place of one `git commit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    /// The command, quoted for a POSIX shell.
    pub command: String,
    /// It replaces `git commit --amend`.
    pub amend: bool,
    /// It names no paths: `hookgate commit` commits the agent's own changes.
    pub own_changes: bool,
    /// It holds `…` for text to fill in: a message the command did not
    /// give, or a word only known when the command runs.
    pub placeholder: bool,
}

/// How a command line uses git's shared index, and what to run instead.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct GitPlan {
    /// One replacement per `git commit`, in order.
    pub commits: Vec<Replacement>,
    /// `git add` / `git stage` on a line that commits nothing: the
    /// `hookgate commit` that commits what it stages.
    pub staged: Option<Replacement>,
    /// How the line stages, if it does: `add` or `stage` (the first).
    pub stages: Option<String>,
}

/// What was staged since the last commit on the line.
#[derive(Default)]
struct Staged {
    paths: Vec<Word>,
    whole: bool,
}

/// Quote `s` for a POSIX shell, only when it needs it.
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn render(messages: &[(char, Word)], paths: &[Word], amend: bool) -> Replacement {
    let mut words: Vec<(&str, Word)> = messages
        .iter()
        .map(|(flag, text)| (if *flag == 'F' { "-F" } else { "-m" }, text.clone()))
        .collect();
    if words.is_empty() {
        words.push(("-m", None));
    }
    let mut seen: Vec<&Word> = Vec::new();
    for p in paths {
        if !seen.contains(&p) {
            seen.push(p);
            // A path that looks like an option is named from `.`.
            let p = p.as_ref().map(|p| match p.starts_with('-') {
                true => format!("./{p}"),
                false => p.clone(),
            });
            words.push(("", p));
        }
    }
    let mut command = String::from("hookgate commit");
    let mut placeholder = false;
    for (flag, w) in words {
        command.push(' ');
        match (flag, w.as_deref()) {
            ("", _) => {}
            // A value that looks like an option is attached to the long one.
            (flag, Some(t)) if t.starts_with('-') && t != "-" => {
                command.push_str(if flag == "-F" {
                    "--file="
                } else {
                    "--message="
                });
            }
            (flag, _) => {
                command.push_str(flag);
                command.push(' ');
            }
        }
        match w {
            Some(t) => command.push_str(&quote(&t)),
            None => {
                command.push_str("'…'");
                placeholder = true;
            }
        }
    }
    Replacement {
        command,
        amend,
        own_changes: paths.is_empty(),
        placeholder,
    }
}

/// Read a command line's `git commit`s, and the `git add`, `git stage`,
/// `git rm` and `git mv` before them, into `hookgate commit` commands.
/// `commands` are the analysis's argvs (words only known at run time are
/// empty); `text` is the command line, where a message given as
/// `"$(cat <<'EOF' … EOF)"` (or on stdin to `-F -`) is read back.
pub fn git_plan(commands: &[Vec<String>], text: Option<&str>) -> GitPlan {
    let mut plan = GitPlan::default();
    let mut staged = Staged::default();
    let mut commits: Vec<(CommitArgs, Staged)> = Vec::new();
    for argv in commands.iter().filter(|a| is_git(a)) {
        let call = git_sub(argv);
        let Some(sub) = call.sub else { continue };
        let under = |p: Word| -> Word {
            match &call.dir {
                None => p,
                Some(None) => None,
                Some(Some(d)) => p.map(|p| join(d, &p)),
            }
        };
        match sub {
            "add" | "stage" | "rm" | "mv" => {
                let Some((paths, whole)) = staging_args(sub, &call.rest) else {
                    continue;
                };
                if matches!(sub, "add" | "stage") {
                    plan.stages.get_or_insert_with(|| sub.to_string());
                }
                staged.whole |= whole && call.dir.is_none();
                staged.paths.extend(paths.into_iter().map(under));
            }
            "commit" => {
                let Some(mut c) = commit_args(&call.rest) else {
                    continue;
                };
                c.paths = c.paths.into_iter().map(under).collect();
                commits.push((c, std::mem::take(&mut staged)));
            }
            _ => {}
        }
    }
    if let Some(text) = text.filter(|_| !commits.is_empty()) {
        fill_from_heredocs(&mut commits, text);
    }
    // Paths are relative to where git ran: a line that starts in another
    // directory (`cd sub && git add a.rs && …`) is answered from there.
    let cd = text.and_then(leading_cd);
    let from = |mut r: Replacement| {
        if let Some(dir) = cd.filter(|_| !r.own_changes) {
            r.command = format!("cd {dir} && {}", r.command);
        }
        r
    };
    for (c, before) in &commits {
        let paths: Vec<Word> = if c.all || before.whole {
            Vec::new()
        } else {
            before.paths.iter().chain(&c.paths).cloned().collect()
        };
        plan.commits
            .push(from(render(&c.messages, &paths, c.amend)));
    }
    if commits.is_empty() && plan.stages.is_some() {
        let paths = if staged.whole {
            Vec::new()
        } else {
            staged.paths
        };
        plan.staged = Some(from(render(&[], &paths, false)));
    }
    plan
}

/// The directory of a line that starts with `cd DIR &&` (or `;`), when
/// DIR is a plain word.
fn leading_cd(text: &str) -> Option<&str> {
    let rest = text.trim_start().strip_prefix("cd ")?.trim_start();
    let end = rest.find(|c: char| c.is_whitespace() || c == ';' || c == '&')?;
    let (dir, after) = rest.split_at(end);
    let after = after.trim_start();
    let plain = dir
        .strip_prefix('~')
        .map_or(dir, |d| d.strip_prefix('/').unwrap_or(d));
    let plain = plain.is_empty() || quote(plain) == plain;
    (plain && !dir.is_empty() && (after.starts_with("&&") || after.starts_with(';'))).then_some(dir)
}

/// The `git-commit` message: the exact command to run instead, and why.
pub fn commit_message(plan: &GitPlan) -> String {
    let commands = plan
        .commits
        .iter()
        .map(|r| format!("`{}`", r.command))
        .collect::<Vec<_>>()
        .join(", then ");
    let mut m = if plan.commits.iter().any(|r| r.amend) {
        format!(
            "`git commit --amend` rewrites a commit that other agents may already have built on; make a new commit instead, with {commands}."
        )
    } else {
        match &plan.stages {
            Some(verb) => {
                format!("Commit with {commands} instead of `git {verb}` and `git commit`.")
            }
            None => format!("Commit with {commands} instead of `git commit`."),
        }
    };
    if plan.commits.iter().any(|r| r.own_changes) {
        m.push_str(" Without paths it commits the files you changed.");
    }
    if plan.commits.iter().any(|r| r.placeholder) {
        m.push_str(" Put your text in place of `…`.");
    }
    m.push_str(" Every agent here shares one git index: a plain `git commit` sweeps in what other agents have staged, and agents staging at the same time fail on `index.lock`. `hookgate commit` commits through a private index, one commit at a time.");
    m
}

/// Where a here-document feeds a `git commit` message.
#[derive(Debug, PartialEq, Eq)]
enum DocUse {
    /// `-m "$(cat <<'EOF'`.
    Message,
    /// `-F - <<'EOF'`.
    Stdin,
    /// Something else.
    Other,
}

/// The here-documents of a command line, in order, each with its body
/// when that is literal text (a quoted delimiter, or no `$`, `` ` `` or
/// `\`). Empty when the text holds something this reading can't follow
/// (two on one line).
fn heredocs(text: &str) -> Vec<(DocUse, Option<String>)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(off) = text[pos..].find("<<") {
        let at = pos + off;
        let mut j = at + 2;
        if text[j..].starts_with('<') {
            pos = j + 1;
            continue;
        }
        let strip_tabs = text[j..].starts_with('-');
        if strip_tabs {
            j += 1;
        }
        j += text[j..].len() - text[j..].trim_start_matches([' ', '\t']).len();
        let (delim, quoted, end) = match text[j..].chars().next() {
            Some(q @ ('\'' | '"')) => match text[j + 1..].find(q) {
                Some(close) => (&text[j + 1..j + 1 + close], true, j + 2 + close),
                None => break,
            },
            _ => {
                let len = text[j..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(text.len() - j);
                (&text[j..j + len], false, j + len)
            }
        };
        if delim.is_empty() {
            pos = end.max(at + 2);
            continue;
        }
        let Some(nl) = text[end..].find('\n') else {
            break;
        };
        if text[end..end + nl].contains("<<") {
            return Vec::new();
        }
        let line = &text[text[..at].rfind('\n').map_or(0, |i| i + 1)..at];
        let mut k = end + nl + 1;
        let mut lines = Vec::new();
        let mut closed = None;
        for l in text[k..].split_inclusive('\n') {
            let body = l.strip_suffix('\n').unwrap_or(l);
            let body = if strip_tabs {
                body.trim_start_matches('\t')
            } else {
                body
            };
            k += l.len();
            if body == delim {
                closed = Some(k);
                break;
            }
            lines.push(body);
        }
        let body = lines.join("\n");
        let literal = closed.is_some() && (quoted || !body.contains(['$', '`', '\\']));
        out.push((doc_use(line), literal.then_some(body)));
        match closed {
            Some(k) => pos = k,
            None => break,
        }
    }
    out
}

/// What the text before a `<<` on its line says the document is for.
fn doc_use(before: &str) -> DocUse {
    if let Some(b) = before
        .trim_end()
        .strip_suffix("cat")
        .and_then(|b| b.trim_end().strip_suffix("$("))
    {
        let b = b.trim_end_matches('"').trim_end();
        let last = b.split_whitespace().last().unwrap_or("");
        let short_m = last.starts_with('-') && !last.starts_with("--") && last.ends_with('m');
        if short_m || last == "--message" || last == "--message=" {
            return DocUse::Message;
        }
        return DocUse::Other;
    }
    let words: Vec<&str> = before.split_whitespace().collect();
    let stdin = words
        .windows(2)
        .any(|w| matches!(w, ["-F" | "--file", "-"]))
        || words.iter().any(|w| matches!(*w, "-F-" | "--file=-"));
    if stdin && words.contains(&"commit") {
        DocUse::Stdin
    } else {
        DocUse::Other
    }
}

/// Put the bodies of here-documents in place of the messages the analysis
/// could not know: each `-m` word only known at run time takes the next
/// `-m "$(cat <<…)"` document, and `-F -` the document on its stdin, when
/// the counts agree (otherwise nothing is guessed).
fn fill_from_heredocs(commits: &mut [(CommitArgs, Staged)], text: &str) {
    if !text.contains("<<") {
        return;
    }
    let docs = heredocs(text);
    for (kind, flag) in [(DocUse::Message, 'm'), (DocUse::Stdin, 'F')] {
        let bodies: Vec<&Option<String>> = docs
            .iter()
            .filter(|(u, _)| *u == kind)
            .map(|(_, b)| b)
            .collect();
        let mut slots: Vec<&mut (char, Word)> = commits
            .iter_mut()
            .flat_map(|(c, _)| c.messages.iter_mut())
            .filter(|(f, w)| {
                *f == flag
                    && if flag == 'm' {
                        w.is_none()
                    } else {
                        w.as_deref() == Some("-")
                    }
            })
            .collect();
        if slots.is_empty() || slots.len() != bodies.len() {
            continue;
        }
        for (slot, body) in slots.iter_mut().zip(bodies) {
            if let Some(b) = body {
                **slot = ('m', Some(b.clone()));
            }
        }
    }
}

/// Judge one event.
pub fn validate(event: &Event, rules: &Rules) -> Result<Vec<Finding>, String> {
    if !matches!(event.kind, Kind::PreTool) {
        return Ok(Vec::new());
    }
    let Some(a) = shell::current() else {
        return Ok(Vec::new());
    };
    Ok(judge(event, rules, &a))
}

/// The rules over an event and its analysis.
pub fn judge(event: &Event, rules: &Rules, a: &Analysis) -> Vec<Finding> {
    let mut out = Vec::new();
    if a.opaque {
        let mut why: Vec<&str> = a.reasons.iter().map(String::as_str).take(4).collect();
        if why.is_empty() {
            why.push("its effects depend on run-time values");
        }
        add(
            &mut out,
            rules.opaque,
            "opaque",
            format!(
                "hookgate can't tell what this command writes: {}.{} Prefer a command with explicit paths, or reserve what it touches first (`hookgate reserve PATTERN`).",
                why.join("; "),
                if a.unbounded { " It may write anywhere." } else { "" }
            ),
            Vec::new(),
        );
    }
    let unknown: Vec<&str> = a
        .unknown
        .iter()
        .map(String::as_str)
        .filter(|u| !rules.known_commands.iter().any(|k| k == u))
        .collect();
    if !unknown.is_empty() {
        add(
            &mut out,
            rules.unknown_command,
            "unknown-command",
            format!(
                "{} not in hookgate's command model, so what it writes is unknown. If it only reads, add it to shell-write's `known_commands`.",
                unknown.iter().map(|u| format!("`{u}`")).collect::<Vec<_>>().join(", ")
                    + if unknown.len() == 1 { " is" } else { " are" }
            ),
            Vec::new(),
        );
    }
    let written: Vec<&str> = event.written_paths().collect();
    let queries = Queries::new(
        written.iter().copied(),
        event.command.is_some(),
        event.case_insensitive,
    );
    if rules.outside_repo != Act::Allow {
        let allowed = PatternSet::new(&rules.outside_allowed, false).unwrap_or_default();
        let allowed_hits = queries.hits(&allowed);
        let outside: Vec<String> = written
            .iter()
            .filter(|p| p.starts_with('/') && *p != &"/**" && !allowed_hits.contains(p))
            .map(|p| p.to_string())
            .collect();
        if !outside.is_empty() {
            add(
                &mut out,
                rules.outside_repo,
                "outside-repo",
                format!(
                    "this command writes outside the repository: {}. Other agents and reservations can't see there.",
                    outside.join(", ")
                ),
                outside,
            );
        }
    }
    let internals: Vec<String> = written
        .iter()
        .filter(|p| p.starts_with(".git/") || **p == ".git")
        .map(|p| p.to_string())
        .collect();
    if !internals.is_empty() {
        add(
            &mut out,
            rules.git_internals,
            "git-internals",
            format!(
                "this command changes git's internals directly: {}. Use git commands (and `hookgate commit`) instead.",
                internals.join(", ")
            ),
            internals,
        );
    }
    let mut no_verify = Vec::new();
    let mut hooks_path = Vec::new();
    for argv in a.commands.iter().filter(|a| is_git(a)) {
        let GitCall {
            sub, rest, configs, ..
        } = git_sub(argv);
        for kv in configs {
            if kv.to_ascii_lowercase().starts_with("core.hookspath") {
                hooks_path.push(format!("git -c {kv}"));
            }
        }
        match sub {
            Some("commit" | "push" | "merge" | "am" | "rebase" | "cherry-pick" | "revert") => {
                let commit = sub == Some("commit");
                let skips = rest.iter().any(|r| {
                    *r == "--no-verify"
                        || (commit
                            && r.starts_with('-')
                            && !r.starts_with("--")
                            && r[1..]
                                .chars()
                                .take_while(|c| *c != 'm' && *c != 'F')
                                .any(|c| c == 'n'))
                });
                if skips {
                    no_verify.push(format!("git {}", sub.unwrap_or("")));
                }
            }
            Some("config")
                if rest.len() >= 2
                    && rest
                        .iter()
                        .any(|r| r.eq_ignore_ascii_case("core.hooksPath"))
                    && !rest
                        .iter()
                        .any(|r| matches!(*r, "--get" | "--get-all" | "-l" | "--list")) =>
            {
                hooks_path.push("git config core.hooksPath".into());
            }
            _ => {}
        }
    }
    for v in &a.assigns {
        if matches!(
            v.as_str(),
            "HUSKY" | "HUSKY_SKIP_HOOKS" | "SKIP" | "PRE_COMMIT_ALLOW_NO_CONFIG"
        ) {
            no_verify.push(format!("{v}=…"));
        }
        if v.starts_with("GIT_CONFIG_") {
            hooks_path.push(format!("{v}=…"));
        }
    }
    if !no_verify.is_empty() {
        add(
            &mut out,
            rules.no_verify,
            "no-verify",
            format!(
                "this command skips the repository's git hooks ({}). Run it without that; if a hook fails, fix what it reports.",
                no_verify.join(", ")
            ),
            Vec::new(),
        );
    }
    if !hooks_path.is_empty() {
        add(
            &mut out,
            rules.hooks_path,
            "hooks-path",
            format!(
                "this command points git at other hooks ({}), which bypasses the repository's checks.",
                hooks_path.join(", ")
            ),
            Vec::new(),
        );
    }
    if rules.git_commit != Act::Allow || rules.git_add != Act::Allow {
        let plan = git_plan(&a.commands, event.command.as_deref());
        if !plan.commits.is_empty() {
            add(
                &mut out,
                rules.git_commit,
                "git-commit",
                commit_message(&plan),
                Vec::new(),
            );
        } else if let (Some(r), Some(verb)) = (&plan.staged, &plan.stages) {
            add(
                &mut out,
                rules.git_add,
                "git-add",
                format!(
                    "No need to stage: `git {verb}` puts files in the git index that every agent here shares, where another agent's commit may sweep them in. When you are ready, commit with `{}`{} (through a private index; nothing is staged).",
                    r.command,
                    if r.own_changes {
                        ", which commits the files you changed"
                    } else {
                        ""
                    }
                ),
                Vec::new(),
            );
        }
    }
    let overrides: Vec<&str> = a
        .assigns
        .iter()
        .map(String::as_str)
        .filter(|v| v.starts_with("HOOKGATE_"))
        .collect();
    if !overrides.is_empty() {
        add(
            &mut out,
            rules.hookgate_override,
            "hookgate-override",
            format!(
                "this command sets {}: hookgate's identity and guards are not changed from an agent's shell.",
                overrides.join(", ")
            ),
            Vec::new(),
        );
    }
    if rules.agent_settings != Act::Allow && !rules.agent_settings_paths.is_empty() {
        if let Ok(set) = PatternSet::new(&rules.agent_settings_paths, event.case_insensitive) {
            let hit: Vec<String> = queries.hits(&set).into_iter().map(str::to_string).collect();
            if !hit.is_empty() {
                add(
                    &mut out,
                    rules.agent_settings,
                    "agent-settings",
                    format!(
                        "this command changes an agent's hook settings ({}); a human approves that.",
                        hit.join(", ")
                    ),
                    hit,
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_sdk::Agent;

    /// Argvs of a line: commands split at ` && `, words at spaces, `_`
    /// for a space inside a word, `$` for a word only known at run time.
    fn line(text: &str) -> Vec<Vec<String>> {
        text.split(" && ")
            .map(|c| {
                c.split(' ')
                    .map(|w| {
                        if w == "$" {
                            String::new()
                        } else {
                            w.replace('_', " ")
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn suggest(text: &str) -> Vec<String> {
        git_plan(&line(text), None)
            .commits
            .into_iter()
            .map(|r| r.command)
            .collect()
    }

    #[test]
    fn quoting_only_when_needed() {
        assert_eq!(quote("src/a.rs"), "src/a.rs");
        assert_eq!(quote("fix:x,y@1%+=-_."), "fix:x,y@1%+=-_.");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("fix: x"), "'fix: x'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$HOME"), "'$HOME'");
        assert_eq!(quote("a*b"), "'a*b'");
        assert_eq!(quote("~/x"), "'~/x'");
        assert_eq!(quote("two\nlines"), "'two\nlines'");
    }

    #[test]
    fn messages_and_paths_become_hookgate_commit() {
        for (text, want) in [
            (
                "git add src/a.rs src/b.rs && git commit -m fix:_x",
                "hookgate commit -m 'fix: x' src/a.rs src/b.rs",
            ),
            ("git commit -m wip", "hookgate commit -m wip"),
            ("git commit -am wip", "hookgate commit -m wip"),
            ("git commit -a -m wip", "hookgate commit -m wip"),
            ("git commit --all --message=wip", "hookgate commit -m wip"),
            ("git commit -qmwip", "hookgate commit -m wip"),
            (
                "git commit --message=one -m two --message three",
                "hookgate commit -m one -m two -m three",
            ),
            (
                "git commit -F msg.txt a.rs",
                "hookgate commit -F msg.txt a.rs",
            ),
            ("git commit --file=msg.txt", "hookgate commit -F msg.txt"),
            ("git commit --file msg.txt", "hookgate commit -F msg.txt"),
            ("git commit -Fmsg.txt", "hookgate commit -F msg.txt"),
            (
                "git commit -m x -- a.rs -b.rs",
                "hookgate commit -m x a.rs ./-b.rs",
            ),
            (
                "git commit -m -x -F -y -F -",
                "hookgate commit --message=-x --file=-y -F -",
            ),
            ("git commit -m -_x", "hookgate commit --message='- x'"),
            (
                "git commit -m x a.rs b.rs",
                "hookgate commit -m x a.rs b.rs",
            ),
            (
                "git commit -m it's_done",
                "hookgate commit -m 'it'\\''s done'",
            ),
            (
                "git commit -s --author A_<a@b> --date now -v -m x a.rs",
                "hookgate commit -m x a.rs",
            ),
            ("git commit -S -m x", "hookgate commit -m x"),
            ("git commit -m x -uno", "hookgate commit -m x"),
            // No message: one to write.
            ("git commit", "hookgate commit -m '…'"),
            ("git commit -C HEAD a.rs", "hookgate commit -m '…' a.rs"),
            // `-a` and whole-tree staging commit the agent's own changes.
            ("git add -A && git commit -m x", "hookgate commit -m x"),
            ("git add . && git commit -m x", "hookgate commit -m x"),
            (
                "git add a.rs && git add -u && git commit -m x",
                "hookgate commit -m x",
            ),
            ("git add a.rs && git commit -am x", "hookgate commit -m x"),
            (
                "git add -u src && git commit -m x",
                "hookgate commit -m x src",
            ),
            // Staging by other means, and dry runs that stage nothing.
            (
                "git stage a.rs && git commit -m x",
                "hookgate commit -m x a.rs",
            ),
            (
                "git rm old.rs && git mv a.rs b.rs && git commit -m x",
                "hookgate commit -m x old.rs a.rs b.rs",
            ),
            (
                "git mv a.rs src/b.rs lib && git commit -m x",
                "hookgate commit -m x a.rs src/b.rs lib/a.rs lib/b.rs",
            ),
            (
                "git add -n a.rs && git commit -m x b.rs",
                "hookgate commit -m x b.rs",
            ),
            (
                "git add a.rs a.rs && git commit -m x a.rs",
                "hookgate commit -m x a.rs",
            ),
            // `git -C DIR`: paths as seen from here.
            (
                "git -C sub add a.rs && git -C sub commit -m x -- b.rs",
                "hookgate commit -m x sub/a.rs sub/b.rs",
            ),
            (
                "git -C sub add . && git -C sub commit -m x",
                "hookgate commit -m x sub",
            ),
            ("git -C /r commit -m x a.rs", "hookgate commit -m x /r/a.rs"),
            ("git -c user.name=x commit -m y", "hookgate commit -m y"),
            // Words only known at run time.
            ("git commit -m $", "hookgate commit -m '…'"),
            ("git add $ && git commit -m x", "hookgate commit -m x '…'"),
            ("git -C $ commit -m x a.rs", "hookgate commit -m x '…'"),
        ] {
            assert_eq!(suggest(text), [want], "{text}");
        }
    }

    #[test]
    fn a_line_that_starts_elsewhere_is_answered_from_there() {
        let cases = [
            (
                "cd src && git add a.rs && git commit -m x",
                "cd src && hookgate commit -m x a.rs",
            ),
            (
                "cd ~/r/src; git commit -m x a.rs",
                "cd ~/r/src && hookgate commit -m x a.rs",
            ),
            ("cd /r && git commit -am x", "hookgate commit -m x"),
            (
                "cd \"$D\" && git commit -m x a.rs",
                "hookgate commit -m x a.rs",
            ),
            (
                "cd src || exit; git commit -m x a.rs",
                "hookgate commit -m x a.rs",
            ),
        ];
        for (text, want) in cases {
            let argvs: Vec<Vec<String>> = text
                .split(['&', ';', '|'])
                .map(str::trim)
                .filter(|c| c.starts_with("git"))
                .flat_map(line)
                .collect();
            let plan = git_plan(&argvs, Some(text));
            assert_eq!(plan.commits[0].command, want, "{text}");
        }
        let plan = git_plan(&line("git add a.rs"), Some("cd src && git add a.rs"));
        assert_eq!(
            plan.staged.unwrap().command,
            "cd src && hookgate commit -m '…' a.rs"
        );
    }

    #[test]
    fn what_commits_nothing_is_left_alone() {
        for text in [
            "git commit --dry-run -m x",
            "git commit -h",
            "git commit --help",
            "git status && git log -1",
            "git show HEAD:a.rs",
            "echo git commit",
        ] {
            let plan = git_plan(&line(text), None);
            assert_eq!(plan.commits, [], "{text}");
            assert_eq!(plan.staged, None, "{text}");
        }
    }

    #[test]
    fn amend_and_several_commits() {
        let plan = git_plan(&line("git commit --amend --no-edit"), None);
        assert_eq!(plan.commits.len(), 1);
        let r = &plan.commits[0];
        assert!(r.amend && r.placeholder && r.own_changes, "{r:?}");
        assert_eq!(r.command, "hookgate commit -m '…'");
        assert_eq!(
            suggest("git add a && git commit -m one && git add b && git commit -m two"),
            ["hookgate commit -m one a", "hookgate commit -m two b"]
        );
    }

    #[test]
    fn staging_alone_is_its_own_plan() {
        let plan = git_plan(&line("git add src/a.rs src/b.rs"), None);
        assert!(plan.commits.is_empty());
        assert_eq!(plan.stages.as_deref(), Some("add"));
        let r = plan.staged.unwrap();
        assert_eq!(r.command, "hookgate commit -m '…' src/a.rs src/b.rs");
        let plan = git_plan(&line("git stage -A"), None);
        assert_eq!(plan.stages.as_deref(), Some("stage"));
        let r = plan.staged.unwrap();
        assert!(r.own_changes);
        assert_eq!(r.command, "hookgate commit -m '…'");
        for text in [
            "git add --dry-run a",
            "git add -nv a",
            "git rm a",
            "git mv a b",
        ] {
            assert_eq!(git_plan(&line(text), None).staged, None, "{text}");
        }
    }

    #[test]
    fn heredoc_messages_are_read_back_from_the_text() {
        // Claude Code's own way of committing.
        let text = "git add src/a.rs && git commit -m \"$(cat <<'EOF'\nfix: it's done\n\nBody $HOME.\nEOF\n)\"";
        let commands = vec![
            line("git add src/a.rs").remove(0),
            vec!["cat".to_string()],
            vec!["git".into(), "commit".into(), "-m".into(), String::new()],
        ];
        let plan = git_plan(&commands, Some(text));
        assert_eq!(
            plan.commits[0].command,
            "hookgate commit -m 'fix: it'\\''s done\n\nBody $HOME.' src/a.rs"
        );
        assert!(!plan.commits[0].placeholder);
        // `-F -` with the document on stdin; `<<-` strips tabs.
        let text = "git commit -F - a.rs <<-EOF\n\tfix: x\n\tEOF";
        let plan = git_plan(&line("git commit -F - a.rs"), Some(text));
        assert_eq!(plan.commits[0].command, "hookgate commit -m 'fix: x' a.rs");
        // An unquoted document with expansions is not literal: nothing is guessed.
        let text = "git commit -m \"$(cat <<EOF\nfix $X\nEOF\n)\"";
        let plan = git_plan(&line("cat && git commit -m $"), Some(text));
        assert_eq!(plan.commits[0].command, "hookgate commit -m '…'");
        // Counts that disagree guess nothing.
        let text = "cat <<'A' > f\nx\nA\ngit commit -m \"$MSG\"";
        let plan = git_plan(&line("cat && git commit -m $"), Some(text));
        assert_eq!(plan.commits[0].command, "hookgate commit -m '…'");
        // Hostile texts end.
        for text in [
            "<<",
            "<<'",
            "<<-",
            "<< <<",
            "x <<E\n",
            "$((1<<2))",
            "<<<x",
            "-m \"$(cat <<'E'",
        ] {
            let _ = heredocs(text);
            let _ = git_plan(&line("git commit -m $"), Some(text));
        }
    }

    fn event(command: &str) -> Event {
        Event {
            platform: "claude".into(),
            native_event: "PreToolUse".into(),
            kind: Kind::PreTool,
            tool: Some("Bash".into()),
            agent: Agent {
                id: "a".into(),
                name: "A".into(),
                session: "a".into(),
                subagent: None,
            },
            cwd: "/r".into(),
            repo_root: Some("/r".into()),
            writes: Vec::new(),
            deletes: Vec::new(),
            reads: Vec::new(),
            command: Some(command.into()),
            prompt: None,
            raw_json: None,
            case_insensitive: false,
        }
    }

    fn analysis(commands: Vec<Vec<String>>) -> Analysis {
        Analysis {
            opaque: false,
            reasons: Vec::new(),
            unknown: Vec::new(),
            unbounded: false,
            bounds: Vec::new(),
            commands,
            assigns: Vec::new(),
        }
    }

    #[test]
    fn one_finding_per_line_and_each_rule_can_be_turned_off() {
        let e = event("git add a.rs && git commit -m x");
        let a = analysis(line("git add a.rs && git commit -m x"));
        let rules = Rules::default();
        let found = judge(&e, &rules, &a);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].rule.as_str(), found[0].outcome),
            ("git-commit", Outcome::Deny)
        );
        assert!(
            found[0].message.starts_with(
                "Commit with `hookgate commit -m x a.rs` instead of `git add` and `git commit`."
            ),
            "{}",
            found[0].message
        );
        let found = judge(
            &e,
            &Rules {
                git_commit: Act::Allow,
                ..Rules::default()
            },
            &a,
        );
        assert_eq!(found.len(), 0, "{found:?}");
        let a = analysis(line("git add a.rs"));
        let found = judge(&e, &rules, &a);
        assert_eq!(
            (found[0].rule.as_str(), found[0].outcome),
            ("git-add", Outcome::Warn)
        );
        assert!(judge(
            &e,
            &Rules {
                git_add: Act::Allow,
                ..Rules::default()
            },
            &a
        )
        .is_empty());
    }
}
