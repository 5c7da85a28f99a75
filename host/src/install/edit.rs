//! Computing the edits of `init` and `uninstall` as whole-file changes, so
//! the CLI can show them as a diff (`--dry-run`) or write them.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::{hook_command, is_ours, path_of, Format, Wiring};

/// One file's change: its text before (`None`: absent) and after (`None`:
/// removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The file.
    pub path: PathBuf,
    /// Text before.
    pub old: Option<String>,
    /// Text after.
    pub new: Option<String>,
    /// Written executable (Cline's per-event scripts).
    pub executable: bool,
    /// The repository root: directories emptied by a removal are removed
    /// up to it, never it.
    pub root: PathBuf,
}

impl Change {
    /// Does it change anything?
    pub fn is_change(&self) -> bool {
        self.old != self.new
    }

    /// Write it (a temporary file renamed over the target; parents made).
    pub fn apply(&self) -> std::io::Result<()> {
        match &self.new {
            None => {
                match std::fs::remove_file(&self.path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
                // The directories `init` made for it, if nothing else is in them.
                let mut dir = self.path.parent();
                while let Some(d) = dir.filter(|d| d.starts_with(&self.root) && *d != self.root) {
                    if std::fs::remove_dir(d).is_err() {
                        break;
                    }
                    dir = d.parent();
                }
                Ok(())
            }
            Some(text) => {
                if let Some(dir) = self.path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let tmp = self.path.with_extension("hookgate-tmp");
                std::fs::write(&tmp, text)?;
                #[cfg(unix)]
                if self.executable {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
                }
                std::fs::rename(&tmp, &self.path)
            }
        }
    }
}

/// What is wrong with a configuration file hookgate would edit.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// Not readable.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not the JSON shape the platform documents; hookgate won't overwrite it.
    #[error("{path}: {message}; fix it first, hookgate will not overwrite it")]
    Shape {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

pub(super) fn read(path: &Path) -> Result<Option<String>, EditError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(EditError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

pub(super) fn parse(path: &Path, text: Option<&str>) -> Result<Value, EditError> {
    match text.map(str::trim) {
        None | Some("") => Ok(json!({})),
        Some(t) => {
            let v: Value = serde_json::from_str(t).map_err(|e| EditError::Shape {
                path: path.to_path_buf(),
                message: format!("not valid JSON ({e})"),
            })?;
            if v.is_object() {
                Ok(v)
            } else {
                Err(EditError::Shape {
                    path: path.to_path_buf(),
                    message: "not a JSON object".into(),
                })
            }
        }
    }
}

pub(super) fn pretty(v: &Value) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    )
}

/// The object at `key` of `obj`, created when absent.
pub(super) fn object_at<'a>(
    obj: &'a mut Value,
    key: &str,
    path: &Path,
) -> Result<&'a mut Map<String, Value>, EditError> {
    let shape = |m: String| EditError::Shape {
        path: path.to_path_buf(),
        message: m,
    };
    obj.as_object_mut()
        .ok_or_else(|| shape("not a JSON object".into()))?
        .entry(key)
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| shape(format!("`{key}` is not an object")))
}

/// Is this handler (of any format) hookgate's, for `platform`?
fn handler_is_ours(h: &Value, platform: &str) -> bool {
    let s = |k: &str| h.get(k).and_then(Value::as_str).unwrap_or("");
    let args: Vec<&str> = h
        .get("args")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let exec = Path::new(s("command"))
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("hookgate"))
        && args.starts_with(&["hook", platform]);
    exec || is_ours(s("command"), platform) || is_ours(s("bash"), platform)
}

/// `init`'s changes for one platform.
pub fn install(w: &Wiring, root: &Path, bin: &str) -> Result<Vec<Change>, EditError> {
    edit(w, root, Some(bin))
}

/// `uninstall`'s changes for one platform: hookgate's entries go, the
/// user's stay; files that were hookgate's alone are removed.
pub fn uninstall(w: &Wiring, root: &Path) -> Result<Vec<Change>, EditError> {
    edit(w, root, None)
}

fn edit(w: &Wiring, root: &Path, bin: Option<&str>) -> Result<Vec<Change>, EditError> {
    let path = path_of(w, root);
    match w.format {
        Format::Scripts => Ok(w
            .events
            .iter()
            .map(|(event, _)| {
                let p = path.join(event);
                let old = std::fs::read_to_string(&p).ok();
                let theirs = old.as_deref().is_some_and(|o| !is_ours(o, w.platform));
                let new = match (bin, theirs) {
                    // A script of the user's own stays.
                    (_, true) => old.clone(),
                    (Some(b), false) => Some(format!(
                        "#!/bin/sh\n# Written by `hookgate init`; `hookgate uninstall` removes it.\nexec {}\n",
                        hook_command(b, w.platform, event)
                    )),
                    (None, false) => None,
                };
                Change {
                    path: p,
                    old,
                    new,
                    executable: true,
                    root: root.to_path_buf(),
                }
            })
            .collect()),
        Format::Copilot | Format::Kiro => {
            // Files of hookgate's own.
            let old = read(&path)?;
            let new = bin.map(|b| pretty(&own_file(w, b)));
            Ok(vec![Change {
                path,
                old,
                new,
                executable: false,
                root: root.to_path_buf(),
            }])
        }
        Format::Groups { .. } | Format::Cursor | Format::Windsurf => {
            let old = read(&path)?;
            let mut v = parse(&path, old.as_deref())?;
            let hooks = object_at(&mut v, "hooks", &path)?;
            for (event, matcher) in w.events {
                let list = hooks.entry(*event).or_insert_with(|| json!([]));
                let list = list.as_array_mut().ok_or_else(|| EditError::Shape {
                    path: path.clone(),
                    message: format!("`hooks.{event}` is not an array"),
                })?;
                // Drop hookgate's earlier entries, so a second run changes nothing.
                if matches!(w.format, Format::Groups { .. }) {
                    for g in list.iter_mut() {
                        if let Some(hs) = g.get_mut("hooks").and_then(Value::as_array_mut) {
                            hs.retain(|h| !handler_is_ours(h, w.platform));
                        }
                    }
                    list.retain(|g| {
                        g.get("hooks")
                            .and_then(Value::as_array)
                            .is_none_or(|h| !h.is_empty())
                    });
                } else {
                    list.retain(|h| !handler_is_ours(h, w.platform));
                }
                if let Some(b) = bin {
                    list.push(entry(w, b, event, *matcher));
                }
            }
            // Leave no empty lists or objects behind on uninstall.
            hooks.retain(|_, l| l.as_array().is_none_or(|a| !a.is_empty()));
            if hooks.is_empty() && bin.is_none() {
                if let Some(o) = v.as_object_mut() {
                    o.remove("hooks");
                }
            }
            if w.format == Format::Cursor && bin.is_some() {
                if let Some(o) = v.as_object_mut() {
                    o.entry("version").or_insert(json!(1));
                }
            }
            // Only Cursor's `version` left: nothing of the user's.
            let empty = v
                .as_object()
                .is_some_and(|o| o.keys().all(|k| w.format == Format::Cursor && k == "version"));
            let new = match (&old, empty) {
                // Nothing left of a file hookgate created: remove it.
                (_, true) if bin.is_none() => None,
                _ => Some(pretty(&v)),
            };
            // Unchanged content keeps its bytes.
            let new = match (&old, &new) {
                (Some(o), Some(n)) if parse(&path, Some(o)).ok().as_ref() == serde_json::from_str::<Value>(n).ok().as_ref() => Some(o.clone()),
                _ => new,
            };
            Ok(vec![Change {
                path,
                old,
                new,
                executable: false,
                root: root.to_path_buf(),
            }])
        }
    }
}

/// One registration in a merged file.
fn entry(w: &Wiring, bin: &str, event: &str, matcher: Option<&str>) -> Value {
    match w.format {
        Format::Groups { exec, millis } => {
            let timeout = if millis { 30_000 } else { 30 };
            let handler = if exec {
                json!({"type": "command", "command": bin, "args": ["hook", w.platform, "--event", event], "timeout": timeout})
            } else {
                json!({"type": "command", "command": hook_command(bin, w.platform, event), "timeout": timeout})
            };
            let mut g = Map::new();
            if let Some(m) = matcher {
                g.insert("matcher".into(), json!(m));
            }
            g.insert("hooks".into(), json!([handler]));
            Value::Object(g)
        }
        Format::Cursor => json!({"command": hook_command(bin, w.platform, event)}),
        Format::Windsurf => {
            json!({"command": hook_command(bin, w.platform, event), "show_output": false})
        }
        _ => Value::Null,
    }
}

/// The whole content of a file that is hookgate's own.
fn own_file(w: &Wiring, bin: &str) -> Value {
    match w.format {
        Format::Copilot => {
            let mut hooks = Map::new();
            for (event, _) in w.events {
                hooks.insert(
                    (*event).into(),
                    json!([{"type": "command", "bash": hook_command(bin, w.platform, event), "timeoutSec": 30,
                            "comment": "hookgate: `hookgate uninstall` removes this file"}]),
                );
            }
            json!({"version": 1, "hooks": hooks})
        }
        _ => {
            let hooks: Vec<Value> = w
                .events
                .iter()
                .map(|(event, matcher)| {
                    let mut h = json!({
                        "name": format!("hookgate-{event}"),
                        "trigger": event,
                        "action": {"type": "command", "command": hook_command(bin, w.platform, event)},
                        "timeout_ms": 30_000,
                        "enabled": true,
                    });
                    if let Some(m) = matcher {
                        h["matcher"] = json!(m);
                    }
                    h
                })
                .collect();
            json!({"version": "v1", "hooks": hooks})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::install::{wiring, PLATFORMS};

    #[test]
    fn every_platform_installs_idempotently_and_uninstalls_cleanly() {
        for w in PLATFORMS {
            let d = tempfile::tempdir().unwrap();
            let root = d.path();
            let once = install(w, root, "/opt/bin/hookgate").unwrap();
            assert!(once.iter().any(Change::is_change), "{}", w.platform);
            for c in &once {
                c.apply().unwrap();
            }
            let twice = install(w, root, "/opt/bin/hookgate").unwrap();
            assert!(
                !twice.iter().any(Change::is_change),
                "{}: {twice:?}",
                w.platform
            );
            for c in uninstall(w, root).unwrap() {
                c.apply().unwrap();
            }
            let left: Vec<_> = walk(root);
            assert!(left.is_empty(), "{}: left {left:?}", w.platform);
        }
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
        out
    }

    #[test]
    fn the_users_entries_stay() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let w = wiring("gemini").unwrap();
        std::fs::create_dir_all(root.join(".gemini")).unwrap();
        let mine = r#"{"theme":"dark","hooks":{"BeforeTool":[{"matcher":"write_file","hooks":[{"type":"command","command":"./lint.sh","timeout":5000}]}]}}"#;
        std::fs::write(root.join(".gemini/settings.json"), mine).unwrap();
        for c in install(w, root, "hookgate").unwrap() {
            c.apply().unwrap();
        }
        let v: Value = serde_json::from_str(
            &std::fs::read_to_string(root.join(".gemini/settings.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(v["theme"], "dark");
        let before = v["hooks"]["BeforeTool"].as_array().unwrap();
        assert_eq!(before[0]["hooks"][0]["command"], "./lint.sh");
        assert_eq!(
            before[1]["hooks"][0]["command"],
            "hookgate hook gemini --event BeforeTool"
        );
        assert_eq!(
            before[1]["hooks"][0]["timeout"], 30_000,
            "Gemini counts milliseconds"
        );
        for c in uninstall(w, root).unwrap() {
            c.apply().unwrap();
        }
        let v: Value = serde_json::from_str(
            &std::fs::read_to_string(root.join(".gemini/settings.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(v["hooks"]["BeforeTool"].as_array().unwrap().len(), 1);
        assert_eq!(v["theme"], "dark");
    }

    #[test]
    fn a_broken_file_is_refused_not_overwritten() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join(".cursor")).unwrap();
        std::fs::write(d.path().join(".cursor/hooks.json"), "{ not json").unwrap();
        assert!(matches!(
            install(wiring("cursor").unwrap(), d.path(), "hookgate"),
            Err(EditError::Shape { .. })
        ));
    }
}
