//! Registering hookgate's MCP server (`hookgate mcp`, over stdio) in each
//! platform's *project* MCP configuration: what `hookgate init` adds (unless
//! `--no-mcp`), what `hookgate uninstall` takes out, and what `hookgate
//! doctor` checks ([`super::doctor::mcp`]).
//!
//! The server is the entry under the key `hookgate`: the program the hooks
//! run (`init --bin`, else `hookgate` on PATH, else the running binary) with
//! `args = ["mcp"]` and no environment (the server finds the agent's
//! identity itself). An entry is hookgate's when its arguments are exactly
//! `["mcp"]` and its command is the binary `init` was given or has
//! `hookgate` in its path (or, for `doctor`, is the hooks' program). An entry
//! of the user's under that key is left alone: `init` says so, `uninstall`
//! keeps it, `doctor` reports the key as taken. Everything else in a file
//! stays, a second `init` changes nothing, and `uninstall` removes a file
//! only when nothing is left in it (as for the hooks).
//!
//! | platform | file | entry | |
//! |---|---|---|---|
//! | claude | `.mcp.json` | `mcpServers.hookgate` = `{command, args}` | registered (Claude Code asks once before it starts a project server) |
//! | gemini | `.gemini/settings.json`, its hooks' file | `mcpServers.hookgate` | registered |
//! | codex | `.codex/config.toml` | `[mcp_servers.hookgate]` `command`, `args` | registered (Codex reads it only in a trusted project) |
//! | cursor | `.cursor/mcp.json` | `mcpServers.hookgate` | registered |
//! | copilot, vscode | `.vscode/mcp.json` | `servers.hookgate` = `{type: "stdio", command, args}` | registered, for VS Code's agent (Copilot Chat) |
//! | kiro | `.kiro/settings/mcp.json` | `mcpServers.hookgate` | registered |
//! | droid | `.factory/mcp.json` | `mcpServers.hookgate` | registered |
//! | qwen | `.qwen/settings.json`, its hooks' file | `mcpServers.hookgate` | registered |
//! | windsurf | `~/.codeium/windsurf/mcp_config.json` | | skipped: user level only |
//! | cline | `cline_mcp_settings.json` in VS Code's global storage | | skipped: user level only |
//! | Copilot CLI | `~/.copilot/mcp-config.json` | | skipped: user level only (it stopped reading `.vscode/mcp.json` in 1.0.37); the Copilot cloud agent takes MCP servers from the repository's settings on GitHub, not from a file |
//! | kimi | `~/.kimi/mcp.json` | | skipped: user level only (and hookgate has no hook wiring for Kimi) |
//!
//! `init` never writes outside the repository, so the skipped platforms get
//! nothing; [`skipped`] is the reason `init` and `doctor` print.
//!
//! JSON files are parsed strictly: a file that is not JSON (VS Code's
//! `mcp.json` may hold JSONC comments) is refused with an error and left
//! unwritten, as the hooks' files are. Codex's TOML is edited as text: the
//! `[mcp_servers.hookgate]` table is appended, replaced or cut out and the
//! rest of the file keeps its bytes, comments included; the result is
//! parsed and compared with the intended table. Where that does not hold
//! (the entry written as an inline table or dotted keys, `mcp_servers`
//! itself inline) the file is rewritten from its parsed TOML, which loses
//! its comments, blank lines, key order and inline-table layout.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::edit::{object_at, parse, pretty, read, Change, EditError};

/// The key of hookgate's entry.
pub const SERVER: &str = "hookgate";

/// How a platform's MCP configuration is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McpFormat {
    /// A JSON object of servers at `key`; `typed` adds `"type": "stdio"`
    /// (VS Code).
    Json {
        /// The top-level key of the servers.
        key: &'static str,
        /// Entries carry `"type": "stdio"`.
        typed: bool,
    },
    /// `[mcp_servers.NAME]` tables in TOML (Codex).
    Toml,
}

/// One platform's MCP registration.
#[derive(Debug, Clone, Copy)]
pub struct McpWiring {
    /// The platform (as in [`super::PLATFORMS`]).
    pub platform: &'static str,
    /// The file, relative to the repository root.
    pub path: &'static str,
    /// Its format.
    pub format: McpFormat,
    /// What the user must still do for the platform to start the server.
    pub note: Option<&'static str>,
}

const MCP_SERVERS: McpFormat = McpFormat::Json {
    key: "mcpServers",
    typed: false,
};

/// Every platform with a project-level MCP configuration.
pub const MCP: &[McpWiring] = &[
    McpWiring {
        platform: "claude",
        path: ".mcp.json",
        format: MCP_SERVERS,
        note: Some(
            "Claude Code asks once before it starts a server from .mcp.json: approve `hookgate`",
        ),
    },
    McpWiring {
        platform: "gemini",
        path: ".gemini/settings.json",
        format: MCP_SERVERS,
        note: None,
    },
    McpWiring {
        platform: "codex",
        path: ".codex/config.toml",
        format: McpFormat::Toml,
        note: Some("Codex reads .codex/config.toml only in a trusted project"),
    },
    McpWiring {
        platform: "cursor",
        path: ".cursor/mcp.json",
        format: MCP_SERVERS,
        note: None,
    },
    McpWiring {
        platform: "copilot",
        path: ".vscode/mcp.json",
        format: McpFormat::Json {
            key: "servers",
            typed: true,
        },
        note: Some(
            "for VS Code; Copilot CLI reads MCP servers only from ~/.copilot/mcp-config.json",
        ),
    },
    McpWiring {
        platform: "kiro",
        path: ".kiro/settings/mcp.json",
        format: MCP_SERVERS,
        note: None,
    },
    McpWiring {
        platform: "droid",
        path: ".factory/mcp.json",
        format: MCP_SERVERS,
        note: None,
    },
    McpWiring {
        platform: "qwen",
        path: ".qwen/settings.json",
        format: MCP_SERVERS,
        note: None,
    },
];

/// Platforms whose MCP configuration is user-level only, and where it is.
pub const SKIPPED: &[(&str, &str)] = &[
    (
        "windsurf",
        "Windsurf reads MCP servers only from ~/.codeium/windsurf/mcp_config.json (user level)",
    ),
    (
        "cline",
        "Cline reads MCP servers only from cline_mcp_settings.json in VS Code's global storage (user level)",
    ),
    (
        "kimi",
        "Kimi reads MCP servers only from ~/.kimi/mcp.json (user level)",
    ),
];

/// The MCP registration of `platform` (`vscode`: Copilot's row, which is
/// VS Code's file).
pub fn mcp_wiring(platform: &str) -> Option<&'static McpWiring> {
    let name = if platform == "vscode" {
        "copilot"
    } else {
        platform
    };
    MCP.iter().find(|m| m.platform == name)
}

/// Why `platform` gets no MCP registration, when it gets none.
pub fn skipped(platform: &str) -> Option<&'static str> {
    SKIPPED
        .iter()
        .find(|(p, _)| *p == platform)
        .map(|(_, why)| *why)
}

/// The file of a registration, under `root`.
pub fn path_of(m: &McpWiring, root: &Path) -> PathBuf {
    root.join(m.path)
}

/// What is under the key `hookgate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Nothing (or no file).
    Absent,
    /// hookgate's server, running `command`.
    Ours {
        /// Its program.
        command: String,
    },
    /// Another server: what it runs (its command line, or its URL).
    Theirs {
        /// Its command line or URL.
        command: String,
    },
}

/// Classify an entry from its parts; `known` are the programs that are
/// hookgate's whatever their name.
fn classify(
    command: Option<&str>,
    args: Option<Vec<&str>>,
    kind: Option<&str>,
    url: Option<&str>,
    known: &[&str],
) -> Entry {
    let ours = kind.is_none_or(|k| k == "stdio")
        && args.as_deref() == Some(&["mcp"][..])
        && command.is_some_and(|c| known.contains(&c) || c.contains("hookgate"));
    match command {
        Some(c) if ours => Entry::Ours { command: c.into() },
        Some(c) => Entry::Theirs {
            command: std::iter::once(c)
                .chain(args.unwrap_or_default())
                .collect::<Vec<_>>()
                .join(" "),
        },
        None => Entry::Theirs {
            command: url.unwrap_or("no command").into(),
        },
    }
}

fn classify_json(e: &Value, known: &[&str]) -> Entry {
    let s = |k: &str| e.get(k).and_then(Value::as_str);
    let args = e
        .get("args")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(Value::as_str).collect::<Option<Vec<_>>>());
    classify(s("command"), args, s("type"), s("url"), known)
}

fn classify_toml(e: &toml::Value, known: &[&str]) -> Entry {
    let s = |k: &str| e.get(k).and_then(toml::Value::as_str);
    let args = e.get("args").and_then(toml::Value::as_array).and_then(|a| {
        a.iter()
            .map(toml::Value::as_str)
            .collect::<Option<Vec<_>>>()
    });
    classify(s("command"), args, s("type"), s("url"), known)
}

fn shape(path: &Path, message: impl Into<String>) -> EditError {
    EditError::Shape {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// The text a pending change already gives `path` (or the file's), and
/// that change's index.
fn base(pending: &[Change], path: &Path) -> Result<(Option<String>, Option<usize>), EditError> {
    match pending.iter().position(|c| c.path == path) {
        Some(i) => Ok((pending[i].new.clone(), Some(i))),
        None => Ok((read(path)?, None)),
    }
}

/// Record `new` for `path`: into the pending change of the same file, or as
/// a change of its own.
fn record(
    pending: &mut Vec<Change>,
    path: PathBuf,
    root: &Path,
    (old, at): (Option<String>, Option<usize>),
    new: Option<String>,
) {
    if new == old {
        return;
    }
    match at {
        Some(i) => pending[i].new = new,
        None => pending.push(Change {
            path,
            old,
            new,
            executable: false,
            root: root.to_path_buf(),
        }),
    }
}

/// `init`'s change for one platform, merged into `pending` (a change
/// already there for the same file, the hooks' own for Gemini and Qwen, is
/// edited rather than overwritten). `Some(message)` when the key is another
/// server's, which is left alone.
pub fn install(
    m: &McpWiring,
    root: &Path,
    bin: &str,
    pending: &mut Vec<Change>,
) -> Result<Option<String>, EditError> {
    let path = path_of(m, root);
    let start = base(pending, &path)?;
    let text = start.0.as_deref();
    let (new, theirs) = match m.format {
        McpFormat::Json { key, typed } => json_install(&path, text, key, typed, bin)?,
        McpFormat::Toml => toml_install(&path, text, bin)?,
    };
    let note = theirs.map(|c| {
        format!(
            "{}: `{SERVER}` is another MCP server (`{c}`); left alone, hookgate's is not registered there",
            m.path
        )
    });
    record(pending, path, root, start, new);
    Ok(note)
}

/// `uninstall`'s change for one platform, merged into `pending`: only
/// hookgate's entry goes; a file left with nothing in it is removed.
pub fn uninstall(m: &McpWiring, root: &Path, pending: &mut Vec<Change>) -> Result<(), EditError> {
    let path = path_of(m, root);
    let start = base(pending, &path)?;
    let new = match start.0.as_deref() {
        None => None,
        // Nothing of ours: not even parsed (a JSONC file stays untouched).
        Some(t) if !t.contains(SERVER) => Some(t.to_string()),
        Some(t) => match m.format {
            McpFormat::Json { key, .. } => json_uninstall(&path, t, key)?,
            McpFormat::Toml => toml_uninstall(&path, t)?,
        },
    };
    record(pending, path, root, start, new);
    Ok(())
}

/// What the key `hookgate` of the platform's file holds; `Err` when the
/// file is unreadable or not the documented shape. `known`: programs that
/// are hookgate's whatever their name (the hooks').
pub fn status(m: &McpWiring, root: &Path, known: &[&str]) -> Result<Entry, String> {
    let path = path_of(m, root);
    let message = |e: EditError| match e {
        EditError::Shape { message, .. } => message,
        e => e.to_string(),
    };
    let Some(text) = read(&path).map_err(message)? else {
        return Ok(Entry::Absent);
    };
    match m.format {
        McpFormat::Json { key, .. } => {
            let v = parse(&path, Some(&text)).map_err(message)?;
            match v.get(key) {
                None => Ok(Entry::Absent),
                Some(s) if !s.is_object() => Err(format!("`{key}` is not an object")),
                Some(s) => Ok(s
                    .get(SERVER)
                    .map_or(Entry::Absent, |e| classify_json(e, known))),
            }
        }
        McpFormat::Toml => {
            let t = toml_table(&path, Some(&text)).map_err(message)?;
            Ok(toml_entry(&path, &t)
                .map_err(message)?
                .map_or(Entry::Absent, |e| classify_toml(e, known)))
        }
    }
}

/// The entry `init` writes.
fn wanted_json(typed: bool, bin: &str) -> Value {
    if typed {
        json!({"type": "stdio", "command": bin, "args": ["mcp"]})
    } else {
        json!({"command": bin, "args": ["mcp"]})
    }
}

/// `v` as the file's text: `text` itself when it already says the same.
fn json_text(path: &Path, text: Option<&str>, v: &Value) -> Option<String> {
    match text {
        Some(t) if parse(path, Some(t)).ok().as_ref() == Some(v) => Some(t.to_string()),
        _ => Some(pretty(v)),
    }
}

type Edited = (Option<String>, Option<String>);

fn json_install(
    path: &Path,
    text: Option<&str>,
    key: &str,
    typed: bool,
    bin: &str,
) -> Result<Edited, EditError> {
    let mut v = parse(path, text)?;
    let servers = object_at(&mut v, key, path)?;
    let wanted = wanted_json(typed, bin);
    let mut theirs = None;
    match servers.get_mut(SERVER) {
        None => {
            servers.insert(SERVER.into(), wanted);
        }
        Some(e) => match classify_json(e, &[bin]) {
            // Ours: command, args and type as `init` writes them; what the
            // user added (`disabled`, `autoApprove`, `trust`…) stays.
            Entry::Ours { .. } => {
                if let (Some(o), Some(w)) = (e.as_object_mut(), wanted.as_object()) {
                    for (k, x) in w {
                        o.insert(k.clone(), x.clone());
                    }
                }
            }
            Entry::Theirs { command } => theirs = Some(command),
            Entry::Absent => {}
        },
    }
    Ok((json_text(path, text, &v), theirs))
}

fn json_uninstall(path: &Path, text: &str, key: &str) -> Result<Option<String>, EditError> {
    let mut v = parse(path, Some(text))?;
    let Some(o) = v.as_object_mut() else {
        return Ok(Some(text.into()));
    };
    let Some(servers) = o.get_mut(key).and_then(Value::as_object_mut) else {
        return Ok(Some(text.into()));
    };
    if !servers
        .get(SERVER)
        .is_some_and(|e| matches!(classify_json(e, &[]), Entry::Ours { .. }))
    {
        return Ok(Some(text.into()));
    }
    servers.shift_remove(SERVER);
    if servers.is_empty() {
        o.shift_remove(key);
    }
    Ok((!o.is_empty()).then(|| pretty(&v)))
}

fn toml_table(path: &Path, text: Option<&str>) -> Result<toml::Table, EditError> {
    let t = text.unwrap_or("");
    if t.trim().is_empty() {
        return Ok(toml::Table::new());
    }
    toml::from_str(t).map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| t[..s.start.min(t.len())].lines().count().max(1));
        let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
        shape(
            path,
            format!("not valid TOML{at} ({})", e.message().trim_end()),
        )
    })
}

fn toml_entry<'a>(path: &Path, t: &'a toml::Table) -> Result<Option<&'a toml::Value>, EditError> {
    match t.get("mcp_servers") {
        None => Ok(None),
        Some(toml::Value::Table(s)) => Ok(s.get(SERVER)),
        Some(_) => Err(shape(path, "`mcp_servers` is not a table")),
    }
}

/// `t` without an empty `mcp_servers` (a bare `[mcp_servers]` header
/// says nothing).
fn normalized(mut t: toml::Table) -> toml::Table {
    if t.get("mcp_servers")
        .and_then(toml::Value::as_table)
        .is_some_and(toml::Table::is_empty)
    {
        t.remove("mcp_servers");
    }
    t
}

/// The header path of a line that opens a table (`[a.b]`, `[[a.b]]`).
fn header(line: &str) -> Option<Vec<String>> {
    let l = line.trim_start();
    let inner = l.strip_prefix("[[").or_else(|| l.strip_prefix('['))?;
    let end = inner.find(']')?;
    Some(
        inner[..end]
            .split('.')
            .map(|p| p.trim().trim_matches('"').trim_matches('\'').to_string())
            .collect(),
    )
}

/// `text` with the `[mcp_servers.hookgate]` table (and its sub-tables)
/// replaced by `section`, or cut out when `section` is `None`; appended
/// when there is none. Comments and blank lines before the next table
/// stay with it.
fn splice(text: &str, section: Option<&str>) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let ours = |l: &str| {
        header(l).is_some_and(|p| p.len() >= 2 && p[0] == "mcp_servers" && p[1] == SERVER)
    };
    let Some(start) = lines.iter().position(|l| ours(l)) else {
        let Some(s) = section else {
            return text.to_string();
        };
        if text.trim().is_empty() {
            return s.to_string();
        }
        let mut out = text.to_string();
        if !out.ends_with('\n') {
            out.push('\n');
        }
        if !out.ends_with("\n\n") {
            out.push('\n');
        }
        return out + s;
    };
    let mut end = start + 1;
    while end < lines.len() && (header(lines[end]).is_none() || ours(lines[end])) {
        end += 1;
    }
    while end > start + 1 && {
        let l = lines[end - 1].trim();
        l.is_empty() || l.starts_with('#')
    } {
        end -= 1;
    }
    let mut from = start;
    if section.is_none() && from > 0 && lines[from - 1].trim().is_empty() {
        from -= 1;
    }
    let mut out: String = lines[..from].concat();
    if let Some(s) = section {
        out.push_str(s);
    }
    out.push_str(&lines[end..].concat());
    out
}

/// The TOML text of `t` after the edit that made `wanted` of `text`:
/// spliced when that says exactly `wanted`, else rewritten whole.
fn toml_text(text: &str, section: Option<&str>, wanted: toml::Table) -> Option<String> {
    let wanted = normalized(wanted);
    let spliced = splice(text, section);
    let same = toml::from_str::<toml::Table>(&spliced)
        .ok()
        .map(normalized)
        .is_some_and(|t| t == wanted);
    let out = if same {
        spliced
    } else {
        toml::to_string(&wanted).unwrap_or(spliced)
    };
    (!out.trim().is_empty()).then_some(out)
}

fn toml_install(path: &Path, text: Option<&str>, bin: &str) -> Result<Edited, EditError> {
    let mut table = toml_table(path, text)?;
    let mut entry = match toml_entry(path, &table)? {
        None => toml::Table::new(),
        Some(e) => match classify_toml(e, &[bin]) {
            Entry::Theirs { command } => return Ok((text.map(str::to_string), Some(command))),
            Entry::Ours { command } if command == bin => {
                return Ok((text.map(str::to_string), None))
            }
            // Ours with another binary: keep what the user added to it.
            _ => e.as_table().cloned().unwrap_or_default(),
        },
    };
    entry.insert("command".into(), bin.into());
    entry.insert("args".into(), toml::Value::Array(vec!["mcp".into()]));
    let mut servers = table
        .get("mcp_servers")
        .and_then(toml::Value::as_table)
        .cloned()
        .unwrap_or_default();
    servers.insert(SERVER.into(), toml::Value::Table(entry.clone()));
    table.insert("mcp_servers".into(), toml::Value::Table(servers));
    let section = toml_section(path, &entry)?;
    Ok((toml_text(text.unwrap_or(""), Some(&section), table), None))
}

/// The `[mcp_servers.hookgate]` table of `entry` as text: `command` and
/// `args` first, then what else the entry holds (sub-tables after).
fn toml_section(path: &Path, entry: &toml::Table) -> Result<String, EditError> {
    let header = format!("[mcp_servers.{SERVER}]\n");
    let mut out = header.clone();
    for k in ["command", "args"] {
        if let Some(v) = entry.get(k) {
            out.push_str(&format!("{k} = {v}\n"));
        }
    }
    let mut rest = entry.clone();
    rest.remove("command");
    rest.remove("args");
    if rest.is_empty() {
        return Ok(out);
    }
    let mut one = toml::Table::new();
    one.insert(SERVER.into(), toml::Value::Table(rest));
    let mut wrap = toml::Table::new();
    wrap.insert("mcp_servers".into(), toml::Value::Table(one));
    let rest = toml::to_string(&wrap).map_err(|e| shape(path, e.to_string()))?;
    match rest.strip_prefix(&header) {
        Some(keys) => out.push_str(keys),
        None => {
            out.push('\n');
            out.push_str(&rest);
        }
    }
    Ok(out)
}

fn toml_uninstall(path: &Path, text: &str) -> Result<Option<String>, EditError> {
    let mut table = toml_table(path, Some(text))?;
    if !toml_entry(path, &table)?
        .is_some_and(|e| matches!(classify_toml(e, &[]), Entry::Ours { .. }))
    {
        return Ok(Some(text.into()));
    }
    if let Some(s) = table
        .get_mut("mcp_servers")
        .and_then(toml::Value::as_table_mut)
    {
        s.remove(SERVER);
    }
    Ok(toml_text(text, None, table))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIN: &str = "/opt/bin/hookgate";

    fn apply(changes: &[Change]) {
        for c in changes {
            c.apply().unwrap();
        }
    }

    fn run_install(m: &McpWiring, root: &Path, bin: &str) -> (Vec<Change>, Option<String>) {
        let mut pending = Vec::new();
        let note = install(m, root, bin, &mut pending).unwrap();
        (pending, note)
    }

    fn run_uninstall(m: &McpWiring, root: &Path) -> Vec<Change> {
        let mut pending = Vec::new();
        uninstall(m, root, &mut pending).unwrap();
        pending
    }

    fn json_at(root: &Path, rel: &str) -> Value {
        serde_json::from_str(&std::fs::read_to_string(root.join(rel)).unwrap()).unwrap()
    }

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn every_registration_installs_idempotently_and_uninstalls_cleanly() {
        for m in MCP {
            let d = tempfile::tempdir().unwrap();
            let root = d.path();
            let (once, note) = run_install(m, root, BIN);
            assert!(note.is_none());
            assert_eq!(once.len(), 1, "{}", m.platform);
            assert!(once[0].is_change());
            apply(&once);
            assert_eq!(
                status(m, root, &[]).unwrap(),
                Entry::Ours {
                    command: BIN.into()
                },
                "{}",
                m.platform
            );
            let (twice, _) = run_install(m, root, BIN);
            assert!(twice.is_empty(), "{}: {twice:?}", m.platform);
            apply(&run_uninstall(m, root));
            assert!(
                std::fs::read_dir(root).unwrap().next().is_none(),
                "{}: left files behind",
                m.platform
            );
            assert_eq!(status(m, root, &[]).unwrap(), Entry::Absent);
        }
    }

    #[test]
    fn the_shapes_are_the_platforms() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        for m in MCP {
            apply(&run_install(m, root, "hookgate").0);
        }
        assert_eq!(
            json_at(root, ".mcp.json"),
            json!({"mcpServers": {"hookgate": {"command": "hookgate", "args": ["mcp"]}}})
        );
        assert_eq!(
            json_at(root, ".vscode/mcp.json"),
            json!({"servers": {"hookgate": {"type": "stdio", "command": "hookgate", "args": ["mcp"]}}})
        );
        for f in [
            ".gemini/settings.json",
            ".cursor/mcp.json",
            ".kiro/settings/mcp.json",
            ".factory/mcp.json",
            ".qwen/settings.json",
        ] {
            assert_eq!(
                json_at(root, f)["mcpServers"]["hookgate"],
                json!({"command": "hookgate", "args": ["mcp"]}),
                "{f}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(root.join(".codex/config.toml")).unwrap(),
            "[mcp_servers.hookgate]\ncommand = \"hookgate\"\nargs = [\"mcp\"]\n"
        );
        assert_eq!(mcp_wiring("vscode").unwrap().path, ".vscode/mcp.json");
        for p in ["windsurf", "cline", "kimi"] {
            assert!(mcp_wiring(p).is_none() && skipped(p).is_some(), "{p}");
        }
    }

    #[test]
    fn other_servers_stay_through_install_and_uninstall() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let m = mcp_wiring("cursor").unwrap();
        let mine = "{\n  \"mcpServers\": {\n    \"github\": {\"command\": \"npx\", \"args\": [\"-y\", \"gh-mcp\"]}\n  },\n  \"other\": 1\n}\n";
        write(root, ".cursor/mcp.json", mine);
        apply(&run_install(m, root, BIN).0);
        let v = json_at(root, ".cursor/mcp.json");
        assert_eq!(v["mcpServers"]["github"]["command"], "npx");
        assert_eq!(v["mcpServers"]["hookgate"]["command"], BIN);
        assert_eq!(v["other"], 1);
        assert!(run_install(m, root, BIN).0.is_empty(), "idempotent");
        apply(&run_uninstall(m, root));
        let v = json_at(root, ".cursor/mcp.json");
        assert_eq!(
            v,
            json!({"mcpServers": {"github": {"command": "npx", "args": ["-y", "gh-mcp"]}}, "other": 1})
        );
    }

    #[test]
    fn a_new_binary_replaces_ours_and_keeps_what_the_user_added() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let m = mcp_wiring("kiro").unwrap();
        write(
            root,
            ".kiro/settings/mcp.json",
            r#"{"mcpServers":{"hookgate":{"command":"/old/hookgate","args":["mcp"],"disabled":false}}}"#,
        );
        let (changes, note) = run_install(m, root, BIN);
        assert!(note.is_none());
        apply(&changes);
        assert_eq!(
            json_at(root, ".kiro/settings/mcp.json")["mcpServers"]["hookgate"],
            json!({"command": BIN, "args": ["mcp"], "disabled": false})
        );
    }

    #[test]
    fn the_users_own_hookgate_key_is_left_alone_and_reported() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let m = mcp_wiring("claude").unwrap();
        let mine = r#"{"mcpServers":{"hookgate":{"command":"node","args":["my-gate.js"]}}}"#;
        write(root, ".mcp.json", mine);
        let (changes, note) = run_install(m, root, BIN);
        assert!(changes.is_empty(), "{changes:?}");
        assert!(note.unwrap().contains("node my-gate.js"));
        assert_eq!(
            status(m, root, &[]).unwrap(),
            Entry::Theirs {
                command: "node my-gate.js".into()
            }
        );
        assert!(run_uninstall(m, root).is_empty());
        assert_eq!(
            std::fs::read_to_string(root.join(".mcp.json")).unwrap(),
            mine
        );
        // A URL server under the key is someone else's too.
        let m = mcp_wiring("vscode").unwrap();
        write(
            root,
            ".vscode/mcp.json",
            r#"{"servers":{"hookgate":{"type":"http","url":"https://example.com/mcp"}}}"#,
        );
        assert!(run_install(m, root, BIN)
            .1
            .unwrap()
            .contains("https://example.com/mcp"));
    }

    #[test]
    fn malformed_files_are_refused_and_not_written() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let cases = [
            ("claude", ".mcp.json", "{ \"mcpServers\": "),
            (
                "copilot",
                ".vscode/mcp.json",
                "// comment\n{\"servers\": {}}",
            ),
            ("cursor", ".cursor/mcp.json", "[1, 2]"),
            ("kiro", ".kiro/settings/mcp.json", r#"{"mcpServers": []}"#),
            ("codex", ".codex/config.toml", "model = \n"),
            ("codex", ".codex/config.toml", "mcp_servers = 3\n"),
        ];
        for (p, f, text) in cases {
            write(root, f, text);
            let mut pending = Vec::new();
            let err = install(mcp_wiring(p).unwrap(), root, BIN, &mut pending).unwrap_err();
            assert!(matches!(err, EditError::Shape { .. }), "{p}: {err}");
            assert!(err.to_string().contains(f), "{err}");
            assert!(pending.is_empty());
            assert_eq!(std::fs::read_to_string(root.join(f)).unwrap(), text);
            assert!(status(mcp_wiring(p).unwrap(), root, &[]).is_err());
        }
        // Uninstall refuses too when the broken file may hold our entry,
        // and leaves a file without any alone.
        write(root, ".mcp.json", "{ \"mcpServers\": {\"hookgate\": ");
        let mut pending = Vec::new();
        assert!(uninstall(mcp_wiring("claude").unwrap(), root, &mut pending).is_err());
        write(root, ".vscode/mcp.json", "// mine\n{\"servers\": {}}\n");
        assert!(run_uninstall(mcp_wiring("copilot").unwrap(), root).is_empty());
    }

    #[test]
    fn gemini_hooks_and_server_share_one_file_and_one_change() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        write(root, ".gemini/settings.json", r#"{"theme":"dark"}"#);
        let w = crate::install::wiring("gemini").unwrap();
        let m = mcp_wiring("gemini").unwrap();
        let mut pending = crate::install::install(w, root, BIN).unwrap();
        install(m, root, BIN, &mut pending).unwrap();
        assert_eq!(pending.len(), 1);
        apply(&pending);
        let v = json_at(root, ".gemini/settings.json");
        assert_eq!(v["theme"], "dark");
        assert!(v["hooks"]["BeforeTool"].is_array());
        assert_eq!(v["mcpServers"]["hookgate"]["command"], BIN);
        // Twice: nothing.
        let mut again = crate::install::install(w, root, BIN).unwrap();
        install(m, root, BIN, &mut again).unwrap();
        assert!(!again.iter().any(Change::is_change), "{again:?}");
        // Out again: the user's setting alone is left.
        let mut out = crate::install::uninstall(w, root).unwrap();
        uninstall(m, root, &mut out).unwrap();
        apply(&out);
        assert_eq!(
            json_at(root, ".gemini/settings.json"),
            json!({"theme": "dark"})
        );
        // A file of hookgate's alone goes entirely.
        std::fs::remove_file(root.join(".gemini/settings.json")).unwrap();
        let mut pending = crate::install::install(w, root, BIN).unwrap();
        install(m, root, BIN, &mut pending).unwrap();
        apply(&pending);
        let mut out = crate::install::uninstall(w, root).unwrap();
        uninstall(m, root, &mut out).unwrap();
        apply(&out);
        assert!(!root.join(".gemini").exists());
    }

    #[test]
    fn codex_toml_keeps_comments_and_other_servers() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let m = mcp_wiring("codex").unwrap();
        let mine = "# my settings\nmodel = \"o3\" # the best\n\n[mcp_servers.docs]\ncommand = \"npx\" # docs server\nargs = [\"-y\", \"docs-mcp\"]\n\n# profiles below\n[profiles.fast]\nmodel = \"o4-mini\"\n";
        write(root, ".codex/config.toml", mine);
        apply(&run_install(m, root, BIN).0);
        let text = std::fs::read_to_string(root.join(".codex/config.toml")).unwrap();
        assert!(text.starts_with(mine), "{text}");
        assert!(text.ends_with(&format!(
            "\n\n[mcp_servers.hookgate]\ncommand = \"{BIN}\"\nargs = [\"mcp\"]\n"
        )));
        assert!(run_install(m, root, BIN).0.is_empty(), "idempotent");
        // A new binary: replaced in place.
        apply(&run_install(m, root, "/usr/local/bin/hookgate").0);
        let text = std::fs::read_to_string(root.join(".codex/config.toml")).unwrap();
        assert!(text.contains("command = \"/usr/local/bin/hookgate\""));
        assert!(!text.contains(BIN));
        apply(&run_uninstall(m, root));
        assert_eq!(
            std::fs::read_to_string(root.join(".codex/config.toml")).unwrap(),
            mine
        );
        // Ours in the middle of the file, with a sub-table: cut out, the
        // comment before the next table stays.
        let middle = "model = \"o3\"\n\n[mcp_servers.hookgate]\ncommand = \"hookgate\"\nargs = [\"mcp\"]\n\n[mcp_servers.hookgate.env]\nX = \"1\"\n\n# profiles\n[profiles.fast]\nmodel = \"o4-mini\"\n";
        write(root, ".codex/config.toml", middle);
        // A new binary keeps what the user added to the entry.
        apply(&run_install(m, root, BIN).0);
        let text = std::fs::read_to_string(root.join(".codex/config.toml")).unwrap();
        assert!(
            text.contains(&format!(
                "[mcp_servers.hookgate]\ncommand = \"{BIN}\"\nargs = [\"mcp\"]\n\n[mcp_servers.hookgate.env]\nX = \"1\"\n\n# profiles\n"
            )),
            "{text}"
        );
        write(root, ".codex/config.toml", middle);
        apply(&run_uninstall(m, root));
        assert_eq!(
            std::fs::read_to_string(root.join(".codex/config.toml")).unwrap(),
            "model = \"o3\"\n\n# profiles\n[profiles.fast]\nmodel = \"o4-mini\"\n"
        );
    }

    #[test]
    fn codex_toml_falls_back_to_a_rewrite_when_the_text_cannot_be_spliced() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let m = mcp_wiring("codex").unwrap();
        // `mcp_servers` as an inline table: a `[mcp_servers.hookgate]`
        // header cannot extend it.
        write(
            root,
            ".codex/config.toml",
            "# lost in a rewrite\nmcp_servers = { docs = { command = \"npx\" } }\n",
        );
        apply(&run_install(m, root, BIN).0);
        let text = std::fs::read_to_string(root.join(".codex/config.toml")).unwrap();
        let t: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(t["mcp_servers"]["docs"]["command"].as_str(), Some("npx"));
        assert_eq!(t["mcp_servers"]["hookgate"]["command"].as_str(), Some(BIN));
        assert!(run_install(m, root, BIN).0.is_empty(), "idempotent");
        apply(&run_uninstall(m, root));
        let t: toml::Table =
            toml::from_str(&std::fs::read_to_string(root.join(".codex/config.toml")).unwrap())
                .unwrap();
        assert!(t["mcp_servers"].get("hookgate").is_none());
        assert_eq!(t["mcp_servers"]["docs"]["command"].as_str(), Some("npx"));
    }
}
