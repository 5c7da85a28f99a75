//! What each platform's tools do to files, as tables: a tool name, the
//! access it makes, and the argument fields that carry its paths or
//! command. Every adapter feeds its tool call through [`apply`].

use serde_json::{Map, Value};

use super::json::type_name;
use super::{ParseError, RawEvent};

/// What a tool does with the fields named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Writes (creates, edits) the path.
    Write,
    /// Deletes the path.
    Delete,
    /// Reads the path (a string, or an array of paths or globs).
    Read,
    /// Runs the shell command.
    Shell,
    /// Codex's `apply_patch` envelope: every file it adds, updates,
    /// deletes or moves (both ends of a move).
    Patch,
    /// Kiro's `fs_read`: `operations[{mode, path}]`.
    ReadOperations,
}

/// One row: tool names, access, argument fields (the first present wins),
/// and whether the tool is malformed without one.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    /// The platform's tool names.
    pub names: &'static [&'static str],
    /// The access.
    pub access: Access,
    /// Argument fields that carry the path or command, in order.
    pub keys: &'static [&'static str],
    /// Without one of `keys` the call is malformed.
    pub required: bool,
}

/// Shorthand for a table row.
pub const fn tool(
    names: &'static [&'static str],
    access: Access,
    keys: &'static [&'static str],
    required: bool,
) -> Tool {
    Tool {
        names,
        access,
        keys,
        required,
    }
}

/// A tool call in `obj`: its name is the first of `name_keys`, its
/// arguments the first object among `input_keys` (a JSON string holding
/// one counts). Records what it does in `raw` (by `table`) and its name;
/// returns the arguments.
pub fn call(
    table: &[Tool],
    obj: &Map<String, Value>,
    name_keys: &[&str],
    input_keys: &[&str],
    native: &str,
    raw: &mut RawEvent,
) -> Result<Map<String, Value>, ParseError> {
    let tool = super::json::first_str(obj, name_keys)?
        .ok_or_else(|| ParseError::Shape(format!("{native} without `{}`", name_keys[0])))?
        .to_string();
    let mut input = None;
    for k in input_keys {
        if let Some(m) = super::json::obj_field(obj, k)? {
            input = Some(m);
            break;
        }
    }
    let input = input.unwrap_or_default();
    apply(table, &tool, &input, raw)?;
    raw.tool = Some(tool);
    Ok(input)
}

/// Record what `tool` (with arguments `input`) does in `raw`, by `table`.
/// Tools not in the table do nothing the host can see (MCP, web fetch).
pub fn apply(
    table: &[Tool],
    tool: &str,
    input: &Map<String, Value>,
    raw: &mut RawEvent,
) -> Result<(), ParseError> {
    let Some(row) = table.iter().find(|r| r.names.contains(&tool)) else {
        return Ok(());
    };
    let field = row.keys.iter().find_map(|k| match input.get(*k) {
        None | Some(Value::Null) => None,
        Some(v) => Some((*k, v)),
    });
    let Some((key, value)) = field else {
        if row.required {
            return Err(ParseError::Shape(format!(
                "{tool} without `{}` in its arguments",
                row.keys.join("` or `")
            )));
        }
        return Ok(());
    };
    let strings = |v: &Value| -> Result<Vec<String>, ParseError> {
        match v {
            Value::String(s) if !s.trim().is_empty() => Ok(vec![s.clone()]),
            Value::String(_) => Ok(Vec::new()),
            Value::Array(a) => a
                .iter()
                .map(|x| match x {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(ParseError::Shape(format!(
                        "`{key}` of {tool} should hold strings, found {}",
                        type_name(other)
                    ))),
                })
                .collect(),
            other => Err(ParseError::Shape(format!(
                "`{key}` of {tool} should be a string, found {}",
                type_name(other)
            ))),
        }
    };
    match row.access {
        Access::Write => raw.writes.extend(strings(value)?),
        Access::Delete => raw.deletes.extend(strings(value)?),
        Access::Read => raw.reads.extend(strings(value)?),
        Access::Shell => match value {
            Value::String(s) => raw.command = Some(s.clone()),
            other => {
                return Err(ParseError::Shape(format!(
                    "`{key}` of {tool} should be a string, found {}",
                    type_name(other)
                )))
            }
        },
        Access::Patch => {
            let Value::String(text) = value else {
                return Err(ParseError::Shape(format!(
                    "`{key}` of {tool} should be the patch text, found {}",
                    type_name(value)
                )));
            };
            let patch = crate::platform::patch::parse(text)?;
            raw.writes.extend(patch.writes);
            raw.deletes.extend(patch.deletes);
        }
        Access::ReadOperations => {
            let Value::Array(ops) = value else {
                return Err(ParseError::Shape(format!(
                    "`{key}` of {tool} should be an array, found {}",
                    type_name(value)
                )));
            };
            for op in ops {
                let path = op.get("path").and_then(Value::as_str).ok_or_else(|| {
                    ParseError::Shape(format!("an operation of {tool} without a `path`"))
                })?;
                raw.reads.push(path.to_string());
            }
        }
    }
    Ok(())
}
