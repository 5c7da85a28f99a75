//! Subagents and their shell. Claude Code's `CLAUDE_ENV_FILE` is per
//! session, so a `hookgate` command run in a subagent's shell carries the
//! session's id, not the subagent's. The subagent's PreToolUse hook for that
//! Bash call sees both the subagent id and the command, and records it here;
//! the command, when it starts a moment later with the bare session id,
//! finds its own call and acts as the subagent.

use rusqlite::{params, Transaction};

use crate::store::StoreError;

/// A recorded call is claimed within this long, or never.
pub const WINDOW_MS: i64 = 60_000;

fn sql(e: rusqlite::Error) -> StoreError {
    StoreError::Sql {
        path: Default::default(),
        source: e,
    }
}

/// Should the hook record this Bash command? Only when it runs hookgate.
pub fn mentions_hookgate(command: &str) -> bool {
    command.contains("hookgate")
}

/// Record that `agent` (a subagent of `session`) is about to run `command`.
pub fn record(
    tx: &Transaction<'_>,
    session: &str,
    agent: &str,
    command: &str,
    now: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM shell_calls WHERE ts_ms < ?1",
        [now - WINDOW_MS],
    )
    .map_err(sql)?;
    tx.execute(
        "INSERT INTO shell_calls (session, agent, command, ts_ms) VALUES (?1, ?2, ?3, ?4)",
        params![session, agent, command, now],
    )
    .map_err(sql)?;
    Ok(())
}

/// Does `command` (shell text) contain the arguments `args` in order?
fn runs(command: &str, args: &[String]) -> bool {
    let mut rest = command;
    for a in args {
        match rest.find(a.as_str()) {
            Some(i) => rest = &rest[i + a.len()..],
            None => return false,
        }
    }
    true
}

/// The subagent of `session` that recorded a call running `args` in the
/// last [`WINDOW_MS`], newest first; the record is consumed.
pub fn claim(
    tx: &Transaction<'_>,
    session: &str,
    args: &[String],
    now: i64,
) -> Result<Option<String>, StoreError> {
    let mut st = tx
        .prepare_cached(
            "SELECT id, agent, command FROM shell_calls WHERE session = ?1 AND ts_ms >= ?2 ORDER BY ts_ms DESC, id DESC",
        )
        .map_err(sql)?;
    let rows: Vec<(i64, String, String)> = st
        .query_map(params![session, now - WINDOW_MS], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .map_err(sql)?
        .collect::<Result<_, _>>()
        .map_err(sql)?;
    for (id, agent, command) in rows {
        if runs(&command, args) {
            tx.execute("DELETE FROM shell_calls WHERE id = ?1", [id])
                .map_err(sql)?;
            return Ok(Some(agent));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_are_found_in_order_in_the_shell_text() {
        let cmd = "cd src && hookgate reserve 'auth/**' --reason \"login fix\"";
        assert!(runs(
            cmd,
            &v(&["reserve", "auth/**", "--reason", "login fix"])
        ));
        assert!(!runs(cmd, &v(&["release", "auth/**"])));
        assert!(!runs(cmd, &v(&["--reason", "reserve"])));
    }

    #[test]
    fn a_call_is_claimed_once_by_the_command_that_matches() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = crate::store::Store::open(&dir.path().join("s.db")).unwrap();
        store
            .write(|tx| record(tx, "S", "S:a1", "hookgate reserve 'x/**'", 1_000))
            .unwrap();
        let other = store
            .write(|tx| claim(tx, "S", &v(&["release", "--all"]), 2_000))
            .unwrap();
        assert_eq!(other, None);
        let got = store
            .write(|tx| claim(tx, "S", &v(&["reserve", "x/**"]), 2_000))
            .unwrap();
        assert_eq!(got.as_deref(), Some("S:a1"));
        let again = store
            .write(|tx| claim(tx, "S", &v(&["reserve", "x/**"]), 2_000))
            .unwrap();
        assert_eq!(again, None, "consumed");
        store
            .write(|tx| record(tx, "S", "S:a2", "hookgate whoami", 10_000))
            .unwrap();
        let late = store
            .write(|tx| claim(tx, "S", &v(&["whoami"]), 10_000 + WINDOW_MS + 1))
            .unwrap();
        assert_eq!(late, None, "too late");
    }
}
