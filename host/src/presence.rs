//! Agents and their presence. Every hook event and every command an agent
//! runs is a heartbeat; the time since the last one says whether the agent is
//! active, idle, stale or gone ([`PresenceSettings`]). Each agent has a
//! readable name, unique in the store.

use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

use crate::event::{readable_name, Agent};
use crate::policy::PresenceSettings;
use crate::store::StoreError;

/// How recently an agent was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Seen within `active`.
    Active,
    /// Seen within `idle`.
    Idle,
    /// Seen within `gone`.
    Stale,
    /// Not seen for `gone` or longer: its reservations stop blocking.
    Gone,
}

impl State {
    /// The state of an agent last seen at `last_seen_ms`.
    pub fn of(last_seen_ms: i64, now_ms: i64, t: &PresenceSettings) -> State {
        let age = now_ms.saturating_sub(last_seen_ms);
        if age < t.active_ms {
            State::Active
        } else if age < t.idle_ms {
            State::Idle
        } else if age < t.gone_ms {
            State::Stale
        } else {
            State::Gone
        }
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Idle => "idle",
            State::Stale => "stale",
            State::Gone => "gone",
        }
    }
}

/// One agent as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentRecord {
    /// Id.
    pub id: String,
    /// Readable name.
    pub name: String,
    /// Platform of its last hook (`cli` when only seen through commands).
    pub platform: String,
    /// Platform session.
    pub session: String,
    /// The session's own agent, for a subagent.
    pub parent: Option<String>,
    /// First seen, ms since the epoch.
    pub first_seen_ms: i64,
    /// Last seen, ms since the epoch.
    pub last_seen_ms: i64,
    /// What it did last (`PreToolUse Edit`, `reserve`).
    pub last_action: String,
}

/// Names may be set with `--name`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Not 1–40 of letters, digits, `-`, `_`.
    #[error("`{0}` is not a valid agent name; use 1-40 letters, digits, - or _")]
    Invalid(String),
    /// Another agent has it.
    #[error("the name `{name}` belongs to agent {owner}; choose another")]
    Taken {
        /// The name.
        name: String,
        /// Its owner's id.
        owner: String,
    },
}

/// Check a name given with `--name`.
pub fn valid_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn name_owner(tx: &Transaction<'_>, name: &str) -> Result<Option<String>, rusqlite::Error> {
    tx.query_row(
        "SELECT id FROM agents WHERE name = ?1 COLLATE NOCASE",
        [name],
        |r| r.get(0),
    )
    .optional()
}

/// A readable name for `id` that no other agent in the store has: the
/// name derived from the id, else one derived from the id and a counter,
/// else the derived name with a number.
fn unique_name(tx: &Transaction<'_>, id: &str) -> Result<String, rusqlite::Error> {
    for salt in 0..16 {
        let candidate = if salt == 0 {
            readable_name(id)
        } else {
            readable_name(&format!("{id}#{salt}"))
        };
        if name_owner(tx, &candidate)?.is_none() {
            return Ok(candidate);
        }
    }
    let base = readable_name(id);
    for n in 2.. {
        let candidate = format!("{base}{n}");
        if name_owner(tx, &candidate)?.is_none() {
            return Ok(candidate);
        }
    }
    unreachable!("the loop above runs until a free name is found")
}

/// Record a heartbeat of `agent` (registering it on first sight) and return
/// its name in the store. `name` asks for a specific name (`--name`).
pub fn touch(
    tx: &Transaction<'_>,
    agent: &Agent,
    platform: &str,
    action: &str,
    name: Option<&str>,
    now_ms: i64,
) -> Result<Result<String, NameError>, StoreError> {
    let sql = |e| StoreError::Sql {
        path: Default::default(),
        source: e,
    };
    if let Some(n) = name {
        if !valid_name(n) {
            return Ok(Err(NameError::Invalid(n.to_string())));
        }
        if let Some(owner) = name_owner(tx, n).map_err(sql)? {
            if owner != agent.id {
                return Ok(Err(NameError::Taken {
                    name: n.to_string(),
                    owner,
                }));
            }
        }
    }
    let existing: Option<String> = tx
        .query_row(
            "UPDATE agents SET last_seen_ms = MAX(last_seen_ms, ?2), last_action = ?3,
                 platform = CASE WHEN ?4 = 'cli' THEN platform ELSE ?4 END
             WHERE id = ?1 RETURNING name",
            params![agent.id, now_ms, action, platform],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)?;
    let current = match existing {
        Some(n) => n,
        None => {
            let n = match name {
                Some(n) => n.to_string(),
                None => unique_name(tx, &agent.id).map_err(sql)?,
            };
            let parent = agent.subagent.as_ref().map(|_| agent.session.clone());
            tx.execute(
                "INSERT INTO agents (id, name, platform, session, parent, first_seen_ms, last_seen_ms, last_action)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
                params![agent.id, n, platform, agent.session, parent, now_ms, action],
            )
            .map_err(sql)?;
            return Ok(Ok(n));
        }
    };
    if let Some(n) = name {
        if n != current {
            tx.execute(
                "UPDATE agents SET name = ?2 WHERE id = ?1",
                params![agent.id, n],
            )
            .map_err(sql)?;
            return Ok(Ok(n.to_string()));
        }
    }
    Ok(Ok(current))
}

/// Record the process that runs `agent`: its platform's process, the first
/// ancestor of its hook that is not a shell or wrapper (see
/// [`crate::mcp::identity`]). The MCP server the same platform spawned finds
/// its agent by it.
pub fn record_host_pid(tx: &Transaction<'_>, agent: &str, pid: u32) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE agents SET host_pid = ?2 WHERE id = ?1 AND host_pid IS NOT ?2",
        params![agent, pid],
    )
    .map_err(|e| StoreError::Sql {
        path: Default::default(),
        source: e,
    })?;
    Ok(())
}

/// What a command's heartbeat found.
#[derive(Debug, Clone, Default)]
pub struct Beat {
    /// The agent's name in the store.
    pub name: String,
    /// hookgate's notices for it, now marked delivered: the caller shows them.
    pub notices: Vec<crate::coordination::messages::Message>,
    /// Other messages waiting for it.
    pub waiting: i64,
}

/// Why a command's heartbeat failed.
#[derive(Debug, thiserror::Error)]
pub enum BeatError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The name asked for is invalid or taken.
    #[error(transparent)]
    Name(#[from] NameError),
    /// Reading the notices failed.
    #[error(transparent)]
    Message(#[from] crate::coordination::messages::MessageError),
}

/// The heartbeat of a command (CLI or MCP tool) run by `agent`: recorded
/// with `action`, keeping the platform its hooks reported, and hookgate's
/// notices taken for the caller to show. Skipped when the lease snapshot
/// `snap` shows the agent seen moments ago with nothing waiting and no new
/// `name` is asked for (then nothing is written). `store` is used when
/// given, else the store at `store_path` is opened.
pub fn command_heartbeat(
    store_path: &std::path::Path,
    snap: Option<&crate::store::snapshot::Snapshot>,
    store: Option<&mut crate::store::Store>,
    agent: &Agent,
    action: &str,
    name: Option<&str>,
    now_ms: i64,
) -> Result<Beat, BeatError> {
    if name.is_none() {
        if let Some(me) = snap.and_then(|s| s.agent(&agent.id)) {
            if me.quiet(now_ms) {
                return Ok(Beat {
                    name: me.name.clone(),
                    ..Beat::default()
                });
            }
        }
    }
    let mut opened;
    let store = match store {
        Some(s) => s,
        None => {
            opened = crate::store::Store::open(store_path)?;
            &mut opened
        }
    };
    store.write_leases(|tx| -> Result<Beat, BeatError> {
        let name = touch(tx, agent, "cli", action, name, now_ms)??;
        let (notices, waiting) =
            crate::coordination::messages::take_notices(tx, &agent.id, now_ms)?;
        Ok(Beat {
            name,
            notices,
            waiting,
        })
    })
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AgentRecord> {
    Ok(AgentRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        platform: r.get(2)?,
        session: r.get(3)?,
        parent: r.get(4)?,
        first_seen_ms: r.get(5)?,
        last_seen_ms: r.get(6)?,
        last_action: r.get(7)?,
    })
}

const COLUMNS: &str =
    "id, name, platform, session, parent, first_seen_ms, last_seen_ms, last_action";

/// Every agent, most recently seen first.
pub fn list(conn: &rusqlite::Connection) -> Result<Vec<AgentRecord>, rusqlite::Error> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM agents ORDER BY last_seen_ms DESC"
    ))?;
    let rows = st.query_map([], row)?;
    rows.collect()
}

/// One agent by id, or by name (case-insensitive).
pub fn find(
    conn: &rusqlite::Connection,
    who: &str,
) -> Result<Option<AgentRecord>, rusqlite::Error> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM agents WHERE id = ?1 OR name = ?1 COLLATE NOCASE ORDER BY id = ?1 DESC LIMIT 1"),
        [who],
        row,
    )
    .optional()
}

/// Set `agent`'s role (`reviewer`, `operator` …; empty clears it): messages
/// to `role:NAME` reach the live agents with that role.
pub fn set_role(tx: &Transaction<'_>, agent: &str, role: &str) -> Result<(), StoreError> {
    let role = role.trim();
    tx.execute(
        "UPDATE agents SET role = ?2 WHERE id = ?1",
        params![agent, (!role.is_empty()).then_some(role)],
    )
    .map_err(|e| StoreError::Sql {
        path: Default::default(),
        source: e,
    })?;
    Ok(())
}

/// `agent`'s role, if it has one.
pub fn role_of(
    conn: &rusqlite::Connection,
    agent: &str,
) -> Result<Option<String>, rusqlite::Error> {
    conn.query_row("SELECT role FROM agents WHERE id = ?1", [agent], |r| {
        r.get(0)
    })
    .optional()
    .map(Option::flatten)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_thresholds() {
        let t = PresenceSettings::default();
        assert_eq!(State::of(1000, 1000, &t), State::Active);
        assert_eq!(State::of(0, t.active_ms, &t), State::Idle);
        assert_eq!(State::of(0, t.idle_ms, &t), State::Stale);
        assert_eq!(State::of(0, t.gone_ms, &t), State::Gone);
    }

    #[test]
    fn names_are_unique_and_settable() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = crate::store::Store::open(&dir.path().join("s.db")).unwrap();
        let a = Agent::from_session("s1", None, None);
        let b = Agent::from_session("s2", None, None);
        let na = store
            .write(|tx| touch(tx, &a, "claude", "x", None, 1))
            .unwrap()
            .unwrap();
        // b asks for a's name: refused; then gets its own.
        let clash = store
            .write(|tx| touch(tx, &b, "claude", "x", Some(&na), 2))
            .unwrap();
        assert!(matches!(clash, Err(NameError::Taken { .. })));
        let nb = store
            .write(|tx| touch(tx, &b, "claude", "x", None, 2))
            .unwrap()
            .unwrap();
        assert_ne!(na, nb);
        let renamed = store
            .write(|tx| touch(tx, &b, "cli", "whoami", Some("Reviewer"), 3))
            .unwrap()
            .unwrap();
        assert_eq!(renamed, "Reviewer");
        let rec = find(store.connection(), "reviewer").unwrap().unwrap();
        assert_eq!((rec.id.as_str(), rec.platform.as_str()), ("s2", "claude"));
    }
}
