//! Reading untrusted hook payloads: typed field access with errors that
//! name the field, shared by every adapter.

use serde_json::{Map, Value};

use super::ParseError;

/// Parse a payload into a JSON object.
pub fn object(input: &str) -> Result<Map<String, Value>, ParseError> {
    if input.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let value: Value =
        serde_json::from_str(input).map_err(|e| ParseError::NotJson(e.to_string()))?;
    match value {
        Value::Object(o) => Ok(o),
        other => Err(ParseError::Shape(format!(
            "expected a JSON object, found {}",
            type_name(&other)
        ))),
    }
}

/// A string field; absent or `null` is `None`, another type an error.
pub fn str_field<'a>(o: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, ParseError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ParseError::Shape(format!(
            "`{key}` should be a string, found {}",
            type_name(other)
        ))),
    }
}

/// The first of `keys` that is present, as a string.
pub fn first_str<'a>(
    o: &'a Map<String, Value>,
    keys: &[&str],
) -> Result<Option<&'a str>, ParseError> {
    for k in keys {
        if let Some(s) = str_field(o, k)? {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

/// The native event name: the first of `keys` in the payload, else the
/// `--event` flag.
pub fn event_name(
    o: &Map<String, Value>,
    keys: &[&str],
    flag: Option<&str>,
) -> Result<String, ParseError> {
    first_str(o, keys)?
        .or(flag)
        .map(str::to_string)
        .ok_or_else(|| {
            ParseError::Shape(format!(
                "no `{}` in the payload and no `--event` on the command line",
                keys.first().copied().unwrap_or("event")
            ))
        })
}

/// An object field; absent or `null` is `None`. A string holding a JSON
/// object (Copilot's `toolArgs`, Cursor's MCP `tool_input`) is parsed.
pub fn obj_field(
    o: &Map<String, Value>,
    key: &str,
) -> Result<Option<Map<String, Value>>, ParseError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => Ok(Some(m)),
            Ok(other) => Err(ParseError::Shape(format!(
                "`{key}` should hold a JSON object, found {}",
                type_name(&other)
            ))),
            Err(e) => Err(ParseError::Shape(format!("`{key}` is not valid JSON: {e}"))),
        },
        Some(other) => Err(ParseError::Shape(format!(
            "`{key}` should be an object, found {}",
            type_name(other)
        ))),
    }
}

/// The first element of an array of strings (`workspace_roots`).
pub fn first_of_array<'a>(
    o: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a str>, ParseError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => match a.first() {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(ParseError::Shape(format!(
                "`{key}` should hold strings, found {}",
                type_name(other)
            ))),
        },
        Some(other) => Err(ParseError::Shape(format!(
            "`{key}` should be an array, found {}",
            type_name(other)
        ))),
    }
}

/// A JSON type's name, for errors.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
