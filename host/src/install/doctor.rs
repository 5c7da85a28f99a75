//! `hookgate doctor`: is each wired platform going to call hookgate, and
//! will hookgate answer? For every platform it checks that the
//! configuration is there and parses, that each event hookgate needs is
//! registered, that matchers cover the gated tools, that timeouts are sane
//! (Gemini and Qwen count milliseconds: `30` there is 30 ms), and that the
//! command's program resolves; then that the policy loads and the store
//! opens.

use std::path::Path;

use serde_json::Value;

use super::mcp::{self, Entry};
use super::{is_ours, path_of, Format, Wiring};

/// One finding of the doctor.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// The platform (or `hookgate` for the policy and store).
    pub platform: String,
    /// Passed.
    pub ok: bool,
    /// What was checked, or what is wrong.
    pub what: String,
    /// What to do about it.
    pub fix: Option<String>,
}

fn check(platform: &str, ok: bool, what: impl Into<String>, fix: Option<String>) -> Check {
    Check {
        platform: platform.into(),
        ok,
        what: what.into(),
        fix: if ok { None } else { fix },
    }
}

/// The program a hook command runs (its first shell word).
fn program(command: &str) -> String {
    let c = command.trim_start();
    if let Some(rest) = c.strip_prefix('\'') {
        return rest.split('\'').next().unwrap_or("").to_string();
    }
    if let Some(rest) = c.strip_prefix('"') {
        return rest.split('"').next().unwrap_or("").to_string();
    }
    c.split_whitespace().next().unwrap_or("").to_string()
}

/// Does `prog` resolve: an executable file, or a name on `PATH`?
fn resolves(prog: &str) -> bool {
    let executable = |p: &Path| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        #[cfg(not(unix))]
        {
            p.is_file()
        }
    };
    if prog.contains('/') {
        return executable(Path::new(prog));
    }
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| executable(&d.join(prog))))
}

/// Our handlers registered for `event` in a merged-format file: (command,
/// timeout, matcher).
fn registered(w: &Wiring, v: &Value, event: &str) -> Vec<(String, Option<i64>, Option<String>)> {
    let Some(list) = v
        .get("hooks")
        .and_then(|h| h.get(event))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let of =
        |h: &Value, matcher: Option<String>| -> Option<(String, Option<i64>, Option<String>)> {
            let s = |k: &str| h.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let args: Vec<&str> = h
                .get("args")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let command = if args.starts_with(&["hook", w.platform]) {
                format!("{} {}", s("command"), args.join(" "))
            } else {
                s("command")
            };
            is_ours(&command, w.platform)
                .then(|| (command, h.get("timeout").and_then(Value::as_i64), matcher))
        };
    for g in list {
        match g.get("hooks").and_then(Value::as_array) {
            Some(hs) => {
                let m = g.get("matcher").and_then(Value::as_str).map(str::to_string);
                out.extend(hs.iter().filter_map(|h| of(h, m.clone())));
            }
            None => out.extend(of(g, None)),
        }
    }
    out
}

fn covers(matcher: Option<&str>, tool: &str, anchored: bool) -> bool {
    match matcher {
        None | Some("" | "*") => true,
        Some(m) => {
            let re = if anchored {
                format!("^(?:{m})$")
            } else {
                m.to_string()
            };
            match regex::Regex::new(&re) {
                Ok(r) => r.is_match(tool),
                Err(_) => m == tool,
            }
        }
    }
}

/// Check one platform's wiring under `root`.
pub fn platform(w: &Wiring, root: &Path) -> Vec<Check> {
    let p = w.platform;
    let (mut out, commands) = registrations(w, root);
    let programs = programs_of(&commands);
    for prog in &programs {
        out.push(check(
            p,
            resolves(prog),
            format!(
                "`{prog}` resolves (the program of {} hook commands)",
                commands.len()
            ),
            Some(
                "install hookgate on PATH, or `hookgate init --bin /absolute/path/to/hookgate`"
                    .into(),
            ),
        ));
    }
    if p == "codex" && !commands.is_empty() {
        out.push(check(
            p,
            true,
            "Codex runs project hooks only once trusted: open `codex` in this repository and trust them under /hooks (not checkable from here)",
            None,
        ));
    }
    if out.iter().all(|c| c.ok) && !commands.is_empty() {
        let shown = w.path;
        out.insert(
            0,
            check(
                p,
                true,
                format!("{shown} runs hookgate for {} events", w.events.len()),
                None,
            ),
        );
    }
    out
}

fn programs_of(commands: &[String]) -> Vec<String> {
    let mut programs: Vec<String> = commands.iter().map(|c| program(c)).collect();
    programs.sort();
    programs.dedup();
    programs
}

/// The programs hookgate's hook commands for `w` run under `root`.
pub fn hook_programs(w: &Wiring, root: &Path) -> Vec<String> {
    programs_of(&registrations(w, root).1)
}

/// The findings on one platform's hook registrations, and hookgate's hook
/// commands found.
fn registrations(w: &Wiring, root: &Path) -> (Vec<Check>, Vec<String>) {
    let p = w.platform;
    let path = path_of(w, root);
    let shown = path
        .strip_prefix(root)
        .unwrap_or(&path)
        .display()
        .to_string();
    let init = Some(format!("run `hookgate init --platform {p}`"));
    let mut out = Vec::new();
    let mut commands: Vec<String> = Vec::new();
    match w.format {
        Format::Scripts => {
            for (event, _) in w.events {
                let f = path.join(event);
                match std::fs::read_to_string(&f) {
                    Ok(t) if is_ours(&t, p) => {
                        let exec = {
                            #[cfg(unix)]
                            {
                                use std::os::unix::fs::PermissionsExt;
                                f.metadata()
                                    .is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
                            }
                            #[cfg(not(unix))]
                            {
                                true
                            }
                        };
                        out.push(check(
                            p,
                            exec,
                            format!("{shown}/{event} is executable"),
                            Some(format!("chmod +x {shown}/{event}")),
                        ));
                        if let Some(line) = t.lines().find(|l| l.starts_with("exec ")) {
                            commands.push(line.trim_start_matches("exec ").to_string());
                        }
                    }
                    _ => out.push(check(
                        p,
                        false,
                        format!("{shown}/{event} does not run hookgate"),
                        init.clone(),
                    )),
                }
            }
        }
        _ => {
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(_) => {
                    out.push(check(p, false, format!("{shown} is missing"), init));
                    return (out, commands);
                }
            };
            let v: Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    out.push(check(
                        p,
                        false,
                        format!("{shown} is not valid JSON: {e}"),
                        Some(format!("fix {shown}")),
                    ));
                    return (out, commands);
                }
            };
            match w.format {
                Format::Copilot | Format::Kiro => {
                    for (event, _) in w.events {
                        let cmd = match w.format {
                            Format::Copilot => {
                                v["hooks"][event][0]["bash"].as_str().map(str::to_string)
                            }
                            _ => v["hooks"]
                                .as_array()
                                .and_then(|a| a.iter().find(|h| h["trigger"] == *event))
                                .and_then(|h| h["action"]["command"].as_str())
                                .map(str::to_string),
                        };
                        match cmd.filter(|c| is_ours(c, p)) {
                            Some(c) => commands.push(c),
                            None => out.push(check(
                                p,
                                false,
                                format!("{shown}: `{event}` is not registered"),
                                init.clone(),
                            )),
                        }
                    }
                    if w.format == Format::Copilot {
                        let t = v["hooks"]["preToolUse"][0]["timeoutSec"]
                            .as_i64()
                            .unwrap_or(30);
                        out.push(check(
                            p,
                            t >= 5,
                            format!("preToolUse timeoutSec = {t} (seconds)"),
                            Some("use 30".into()),
                        ));
                    }
                }
                _ => {
                    let anchored = !matches!(p, "gemini" | "qwen");
                    for (event, _) in w.events {
                        let ours = registered(w, &v, event);
                        if ours.is_empty() {
                            out.push(check(
                                p,
                                false,
                                format!("{shown}: `{event}` is not registered"),
                                init.clone(),
                            ));
                            continue;
                        }
                        for (command, timeout, _) in &ours {
                            commands.push(command.clone());
                            if let (Format::Groups { millis, .. }, Some(t)) = (w.format, timeout) {
                                let (ok, unit) = if millis {
                                    (*t >= 1_000, "ms")
                                } else {
                                    ((5..=600).contains(t), "s")
                                };
                                out.push(check(
                                    p,
                                    ok,
                                    format!("{event} timeout = {t} {unit}"),
                                    Some(if millis {
                                        format!(
                                            "{p} counts milliseconds: `{t}` is {t} ms; use 30000"
                                        )
                                    } else {
                                        "use 30 (seconds)".into()
                                    }),
                                ));
                            }
                        }
                        let matchers: Vec<Option<&str>> =
                            ours.iter().map(|(_, _, m)| m.as_deref()).collect();
                        if w.events.iter().any(|(e, m)| e == event && m.is_some()) {
                            for tool in w.gated {
                                let ok = matchers.iter().any(|m| covers(*m, tool, anchored));
                                if !ok {
                                    out.push(check(
                                        p,
                                        false,
                                        format!("{event} matcher does not cover `{tool}`"),
                                        init.clone(),
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    (out, commands)
}

/// Check hookgate's MCP server in one platform's MCP configuration under
/// `root`: registered (and its program resolves, and is the hooks'), missing,
/// registered with a different binary than the hooks', or the key `hookgate`
/// taken by another server. A platform with user-level MCP configuration
/// only gets an informational line ([`mcp::skipped`]).
pub fn mcp(w: &Wiring, root: &Path) -> Vec<Check> {
    let p = w.platform;
    let Some(m) = mcp::mcp_wiring(p) else {
        let why = mcp::skipped(p).unwrap_or("it has no project MCP configuration");
        return vec![check(
            p,
            true,
            format!("MCP server not registered: {why}; hookgate writes only in the repository"),
            None,
        )];
    };
    let shown = m.path;
    let hooks = hook_programs(w, root);
    let known: Vec<&str> = hooks.iter().map(String::as_str).collect();
    let c = match mcp::status(m, root, &known) {
        Err(e) => check(p, false, format!("{shown}: {e}"), Some(format!("fix {shown}"))),
        // Optional (`init --no-mcp`): said, not counted as something to fix.
        Ok(Entry::Absent) => check(
            p,
            true,
            format!(
                "{shown}: MCP server `{}` is not registered (optional; `hookgate init --platform {p}` adds it)",
                mcp::SERVER
            ),
            None,
        ),
        Ok(Entry::Theirs { command }) => check(
            p,
            false,
            format!(
                "{shown}: the key `{}` is taken by another MCP server (`{command}`)",
                mcp::SERVER
            ),
            Some(format!(
                "rename or remove that server, then run `hookgate init --platform {p}`"
            )),
        ),
        Ok(Entry::Ours { command }) if !hooks.is_empty() && !hooks.contains(&command) => check(
            p,
            false,
            format!(
                "{shown}: MCP server registered with a different binary (`{command}`; the hooks run `{}`)",
                hooks.join("`, `")
            ),
            Some(format!(
                "run `hookgate init --platform {p}` (with the same --bin as the hooks)"
            )),
        ),
        Ok(Entry::Ours { command }) => {
            let ok = resolves(&command);
            check(
                p,
                ok,
                if ok {
                    format!("{shown}: MCP server registered (`{command} mcp`)")
                } else {
                    format!("{shown}: the MCP server's program `{command}` does not resolve")
                },
                Some(
                    "install hookgate on PATH, or `hookgate init --bin /absolute/path/to/hookgate`"
                        .into(),
                ),
            )
        }
    };
    vec![c]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::install::{install, wiring, PLATFORMS};

    #[test]
    fn a_fresh_install_is_clean_for_every_platform() {
        let exe = std::env::current_exe().unwrap().display().to_string();
        for w in PLATFORMS {
            let d = tempfile::tempdir().unwrap();
            let mut changes = install(w, d.path(), &exe).unwrap();
            if let Some(m) = mcp::mcp_wiring(w.platform) {
                mcp::install(m, d.path(), &exe, &mut changes).unwrap();
            }
            for c in changes {
                c.apply().unwrap();
            }
            let mut checks = platform(w, d.path());
            checks.extend(self::mcp(w, d.path()));
            assert!(checks.iter().all(|c| c.ok), "{}: {checks:#?}", w.platform);
        }
    }

    #[test]
    fn the_mcp_server_missing_foreign_or_another_binary_is_reported() {
        let exe = std::env::current_exe().unwrap().display().to_string();
        let w = wiring("cursor").unwrap();
        let m = mcp::mcp_wiring("cursor").unwrap();
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        for c in install(w, root, &exe).unwrap() {
            c.apply().unwrap();
        }
        let what = || {
            let c = self::mcp(w, root);
            assert_eq!(c.len(), 1);
            (c[0].ok, c[0].what.clone())
        };
        let (ok, w1) = what();
        assert!(ok && w1.contains("is not registered (optional"), "{w1}");
        std::fs::write(
            root.join(".cursor/mcp.json"),
            r#"{"mcpServers":{"hookgate":{"command":"python3","args":["gate.py"]}}}"#,
        )
        .unwrap();
        let (ok, w2) = what();
        assert!(
            !ok && w2.contains("taken by another MCP server (`python3 gate.py`)"),
            "{w2}"
        );
        std::fs::write(
            root.join(".cursor/mcp.json"),
            r#"{"mcpServers":{"hookgate":{"command":"/elsewhere/hookgate","args":["mcp"]}}}"#,
        )
        .unwrap();
        let (ok, w3) = what();
        assert!(
            !ok && w3.contains("different binary (`/elsewhere/hookgate`"),
            "{w3}"
        );
        std::fs::write(root.join(".cursor/mcp.json"), "{").unwrap();
        let (ok, w4) = what();
        assert!(!ok && w4.contains("not valid JSON"), "{w4}");
        let mut changes = Vec::new();
        std::fs::remove_file(root.join(".cursor/mcp.json")).unwrap();
        mcp::install(m, root, &exe, &mut changes).unwrap();
        for c in changes {
            c.apply().unwrap();
        }
        let (ok, w5) = what();
        assert!(ok && w5.contains("MCP server registered"), "{w5}");
        // User-level only: said, not failed.
        let c = self::mcp(wiring("windsurf").unwrap(), root);
        assert!(c[0].ok && c[0].what.contains("mcp_config.json"), "{c:?}");
    }

    #[test]
    fn the_gemini_milliseconds_trap_and_missing_tools_are_found() {
        let d = tempfile::tempdir().unwrap();
        let w = wiring("gemini").unwrap();
        std::fs::create_dir_all(d.path().join(".gemini")).unwrap();
        std::fs::write(
            d.path().join(".gemini/settings.json"),
            r#"{"hooks":{"BeforeTool":[{"matcher":"write_file","hooks":[{"type":"command","command":"hookgate hook gemini --event BeforeTool","timeout":30}]}]}}"#,
        )
        .unwrap();
        let bad: Vec<String> = platform(w, d.path())
            .into_iter()
            .filter(|c| !c.ok)
            .map(|c| c.what)
            .collect();
        assert!(bad.iter().any(|b| b.contains("timeout = 30 ms")), "{bad:?}");
        assert!(
            bad.iter()
                .any(|b| b.contains("does not cover `run_shell_command`")),
            "{bad:?}"
        );
        assert!(
            bad.iter()
                .any(|b| b.contains("`AfterAgent` is not registered")),
            "{bad:?}"
        );
    }
}
