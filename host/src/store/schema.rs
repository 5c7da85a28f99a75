//! Versioned schema migrations. `PRAGMA user_version` is the version a store
//! is at; each migration moves it up by one inside the same transaction, so a
//! store is always at exactly one version. A store at a newer version than
//! this binary knows is refused, never written.

/// Migrations in order; `MIGRATIONS[i]` takes a store from version `i` to
/// `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1–3: the audit log went through three shapes before the first release;
    // a store from then is rebuilt (it held only audit records).
    "",
    "",
    "
    DROP TABLE IF EXISTS findings;
    DROP TABLE IF EXISTS runs;
    DROP TABLE IF EXISTS events;
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        ts_ms INTEGER NOT NULL,
        platform TEXT NOT NULL,
        native_event TEXT NOT NULL,
        kind TEXT NOT NULL,
        tool TEXT,
        agent TEXT NOT NULL,
        agent_name TEXT NOT NULL,
        session TEXT NOT NULL,
        decision TEXT NOT NULL,
        duration_us INTEGER NOT NULL,
        event_json TEXT NOT NULL,
        runs_json TEXT NOT NULL,
        findings_json TEXT NOT NULL
    );
    ",
    // 4: agents, reservations and their prefix index, the wait queue, the
    // lease log, and notices for agents.
    "
    CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        platform TEXT NOT NULL,
        session TEXT NOT NULL,
        parent TEXT,
        first_seen_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL,
        last_action TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE reservations (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        patterns TEXT NOT NULL,
        key TEXT NOT NULL,
        mode TEXT NOT NULL,
        reason TEXT NOT NULL,
        auto INTEGER NOT NULL,
        ttl_ms INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL,
        released_ms INTEGER,
        released_by TEXT,
        release_note TEXT
    );
    CREATE INDEX reservations_agent ON reservations(agent, key) WHERE released_ms IS NULL;
    CREATE INDEX reservations_expiry ON reservations(expires_ms) WHERE released_ms IS NULL;
    CREATE TABLE reservation_prefixes (
        prefix TEXT NOT NULL,
        reservation INTEGER NOT NULL,
        PRIMARY KEY (prefix, reservation)
    ) WITHOUT ROWID;
    CREATE TABLE waiters (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        patterns TEXT NOT NULL,
        mode TEXT NOT NULL,
        enqueued_ms INTEGER NOT NULL,
        deadline_ms INTEGER NOT NULL,
        seen_ms INTEGER NOT NULL
    );
    CREATE TABLE lease_log (
        seq INTEGER PRIMARY KEY,
        ts_ms INTEGER NOT NULL,
        action TEXT NOT NULL,
        reservation INTEGER,
        agent TEXT NOT NULL,
        actor TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE TABLE notices (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        ts_ms INTEGER NOT NULL,
        text TEXT NOT NULL,
        delivered_ms INTEGER
    );
    CREATE INDEX notices_pending ON notices(agent) WHERE delivered_ms IS NULL;
    ",
    // 5: hookgate commands a subagent is about to run in its shell, so the
    // command can act as the subagent (its shell carries the session's id).
    "
    CREATE TABLE shell_calls (
        id INTEGER PRIMARY KEY,
        session TEXT NOT NULL,
        agent TEXT NOT NULL,
        command TEXT NOT NULL,
        ts_ms INTEGER NOT NULL
    );
    CREATE INDEX shell_calls_session ON shell_calls(session, ts_ms);
    ",
    // 6: coordination. Messages and their per-recipient delivery (notices
    // become messages from `hookgate`), negotiated release requests and their
    // log, the task board, and each agent's role and the
    // process that runs it (MCP identity).
    "
    ALTER TABLE agents ADD COLUMN role TEXT;
    ALTER TABLE agents ADD COLUMN host_pid INTEGER;
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        ts_ms INTEGER NOT NULL,
        sender TEXT NOT NULL,
        audience TEXT NOT NULL,
        kind TEXT NOT NULL,
        thread TEXT,
        importance TEXT NOT NULL,
        ack_required INTEGER NOT NULL,
        body TEXT NOT NULL,
        paths TEXT NOT NULL DEFAULT '[]',
        request INTEGER
    );
    CREATE TABLE recipients (
        agent TEXT NOT NULL,
        message INTEGER NOT NULL,
        directed INTEGER NOT NULL,
        delivered_ms INTEGER,
        read_ms INTEGER,
        acked_ms INTEGER,
        stop_ms INTEGER,
        PRIMARY KEY (agent, message)
    ) WITHOUT ROWID;
    CREATE INDEX recipients_pending ON recipients(agent) WHERE delivered_ms IS NULL;
    INSERT INTO messages (id, ts_ms, sender, audience, kind, importance, ack_required, body)
        SELECT id, ts_ms, 'hookgate', agent, 'notice', 'normal', 0, text FROM notices;
    INSERT INTO recipients (agent, message, directed, delivered_ms, read_ms)
        SELECT agent, id, 1, delivered_ms, delivered_ms FROM notices;
    DROP TABLE notices;
    CREATE TABLE release_requests (
        id INTEGER PRIMARY KEY,
        ts_ms INTEGER NOT NULL,
        requester TEXT NOT NULL,
        holder TEXT NOT NULL,
        reservation INTEGER NOT NULL,
        want TEXT NOT NULL,
        mode TEXT NOT NULL,
        ttl_ms INTEGER NOT NULL,
        urgency TEXT NOT NULL,
        reason TEXT NOT NULL,
        deadline_ms INTEGER NOT NULL,
        state TEXT NOT NULL,
        eta_ms INTEGER,
        note TEXT NOT NULL DEFAULT '',
        updated_ms INTEGER NOT NULL,
        granted INTEGER
    );
    CREATE INDEX release_requests_open ON release_requests(reservation)
        WHERE state IN ('pending', 'deferred');
    CREATE TABLE request_log (
        seq INTEGER PRIMARY KEY,
        ts_ms INTEGER NOT NULL,
        request INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE TABLE tasks (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        body TEXT NOT NULL DEFAULT '',
        priority INTEGER NOT NULL,
        state TEXT NOT NULL,
        blocked TEXT,
        owner TEXT,
        files TEXT NOT NULL DEFAULT '[]',
        created_by TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        claimed_ms INTEGER,
        done_ms INTEGER,
        reservation INTEGER
    );
    CREATE TABLE task_deps (
        task INTEGER NOT NULL,
        dep INTEGER NOT NULL,
        PRIMARY KEY (task, dep)
    ) WITHOUT ROWID;
    ",
];

/// The version this binary writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_store_migrates_in_place_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            for m in &MIGRATIONS[..4] {
                conn.execute_batch(m).unwrap();
            }
            conn.execute_batch(
                "INSERT INTO agents (id, name, platform, session, first_seen_ms, last_seen_ms)
                 VALUES ('a', 'Amber', 'cli', 'a', 1, 1);
                 PRAGMA user_version = 4;",
            )
            .unwrap();
        }
        let store = crate::store::Store::open(&path).unwrap();
        let (v, n): (i64, i64) = store
            .connection()
            .query_row(
                "SELECT (SELECT user_version FROM pragma_user_version), (SELECT COUNT(*) FROM agents)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((v, n), (VERSION, 1));
    }

    #[test]
    fn every_migration_applies_in_order() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for m in MIGRATIONS {
            conn.execute_batch(m).unwrap();
        }
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 13);
    }
}
