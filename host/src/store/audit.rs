//! The audit log: every event with every finding, its "would" and its
//! effective outcome; the per-rule report that drives promotion decisions;
//! and the events that `replay` runs again.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::params;
use serde::Serialize;

use super::journal::{Journal, Record};
use super::{Store, StoreError};
use crate::chain::Verdict;
use crate::event::{Event, Outcome};
use crate::policy::AuditSettings;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// One row of `hookgate report`: a validator's rule over a window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReportRow {
    /// Validator.
    pub validator: String,
    /// Rule id (`*` for the validator's own line).
    pub rule: String,
    /// Stage at the last finding.
    pub stage: String,
    /// Events the validator judged (validator line) or findings of the rule.
    pub events: u64,
    /// Findings that asked to deny.
    pub would_deny: u64,
    /// Findings that asked to ask.
    pub would_ask: u64,
    /// Findings shown as warnings.
    pub warned: u64,
    /// Findings that asked the human.
    pub asked: u64,
    /// Findings that blocked.
    pub blocked: u64,
    /// Failures of the validator.
    pub errors: u64,
}

/// The audit record of one event.
pub fn record_of(event: &Event, verdict: &Verdict, duration: Duration) -> Record {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let ts_ms = now_ms();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Record {
        uid: format!("{ts_ms}-{nanos}-{}-{seq}", std::process::id()),
        ts_ms,
        platform: event.platform.clone(),
        native_event: event.native_event.clone(),
        kind: serde_json::to_value(event.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        tool: event.tool.clone(),
        agent: event.agent.id.clone(),
        agent_name: event.agent.name.clone(),
        session: event.agent.session.clone(),
        decision: verdict.decision.as_str().to_string(),
        duration_us: i64::try_from(duration.as_micros()).unwrap_or(i64::MAX),
        event_json: serde_json::to_string(event).unwrap_or_default(),
        runs_json: serde_json::to_string(&verdict.runs).unwrap_or_default(),
        findings_json: serde_json::to_string(&verdict.findings).unwrap_or_default(),
    }
}

/// Record one event the fast way: append to the journal, and fold the journal
/// into the database when it has grown past [`super::journal::FOLD_BYTES`].
pub fn record(
    store_path: &std::path::Path,
    event: &Event,
    verdict: &Verdict,
    duration: Duration,
    retention: AuditSettings,
) -> Result<(), StoreError> {
    let journal = Journal::for_store(store_path);
    let size = journal.append(&record_of(event, verdict, duration))?;
    if size > super::journal::FOLD_BYTES {
        let mut store = Store::open(store_path)?;
        fold_into(&journal, &mut store, retention)?;
    }
    Ok(())
}

fn fold_into(
    journal: &Journal,
    store: &mut Store,
    retention: AuditSettings,
) -> Result<(), StoreError> {
    journal.fold(store)?;
    store.prune(retention)
}

/// Open the store for reading the audit log, folding the journal in first.
pub fn open_for_reading(
    store_path: &std::path::Path,
    retention: AuditSettings,
) -> Result<Store, StoreError> {
    let mut store = Store::open(store_path)?;
    fold_into(&Journal::for_store(store_path), &mut store, retention)?;
    Ok(store)
}

/// The parts of a recorded run the report reads.
#[derive(Debug, Default, serde::Deserialize)]
struct RunRecord {
    validator: String,
    stage: String,
    error: Option<String>,
}

/// The parts of a recorded finding the report reads.
#[derive(Debug, serde::Deserialize)]
struct FindingRecord {
    validator: String,
    rule: String,
    stage: String,
    would: Outcome,
    effective: Outcome,
}

/// An event read back for replay.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Row id.
    pub id: i64,
    /// When, unix ms.
    pub ts_ms: i64,
    /// The recorded decision.
    pub decision: Outcome,
    /// The normalized event.
    pub event: Event,
}

impl Store {
    /// Insert journalled records in one transaction (duplicates by uid are
    /// ignored).
    pub fn insert_records(&mut self, records: &[Record]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let sql = |source| StoreError::Sql {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO events (uid, ts_ms, platform, native_event, kind, tool, agent, agent_name,
                         session, decision, duration_us, event_json, runs_json, findings_json)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                )
                .map_err(sql)?;
            for r in records {
                ins.execute(params![
                    r.uid,
                    r.ts_ms,
                    r.platform,
                    r.native_event,
                    r.kind,
                    r.tool,
                    r.agent,
                    r.agent_name,
                    r.session,
                    r.decision,
                    r.duration_us,
                    r.event_json,
                    r.runs_json,
                    r.findings_json
                ])
                .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
        self.trim_wal()
    }

    /// Delete events older than the retention window, and all but the newest
    /// `max_events`.
    pub fn prune(&mut self, retention: AuditSettings) -> Result<(), StoreError> {
        let path = self.path.clone();
        let sql = |source| StoreError::Sql {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        let cutoff = now_ms() - i64::from(retention.retention_days) * 86_400_000;
        tx.execute("DELETE FROM events WHERE ts_ms < ?1", params![cutoff])
            .map_err(sql)?;
        tx.execute(
            "DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?1",
            params![i64::from(retention.max_events)],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)?;
        self.trim_wal()
    }

    /// Per validator and rule, over events since `since_ms`.
    pub fn report(&self, since_ms: i64) -> Result<Vec<ReportRow>, StoreError> {
        use std::collections::BTreeMap;
        let mut stmt = self
            .conn
            .prepare("SELECT runs_json, findings_json FROM events WHERE ts_ms >= ?1 ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![since_ms], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.err(e))?;
        let mut table: BTreeMap<(String, String), ReportRow> = BTreeMap::new();
        for row in rows {
            let (runs, findings) = row.map_err(|e| self.err(e))?;
            let runs: Vec<RunRecord> = serde_json::from_str(&runs).unwrap_or_default();
            let findings: Vec<FindingRecord> = serde_json::from_str(&findings).unwrap_or_default();
            for r in runs {
                let e = table
                    .entry((r.validator.clone(), "*".into()))
                    .or_insert_with(|| ReportRow {
                        validator: r.validator.clone(),
                        rule: "*".into(),
                        ..ReportRow::default()
                    });
                e.stage = r.stage;
                e.events += 1;
                e.errors += u64::from(r.error.is_some());
            }
            for f in findings {
                let e = table
                    .entry((f.validator.clone(), f.rule.clone()))
                    .or_insert_with(|| ReportRow {
                        validator: f.validator.clone(),
                        rule: f.rule.clone(),
                        ..ReportRow::default()
                    });
                e.stage = f.stage;
                e.events += 1;
                e.would_deny += u64::from(f.would == Outcome::Deny);
                e.would_ask += u64::from(f.would == Outcome::Ask);
                e.warned += u64::from(f.effective == Outcome::Warn);
                e.asked += u64::from(f.effective == Outcome::Ask);
                e.blocked += u64::from(f.effective == Outcome::Deny);
            }
        }
        Ok(table.into_values().collect())
    }

    /// Events since `since_ms`, oldest first, at most `limit`.
    pub fn events_since(&self, since_ms: i64, limit: u32) -> Result<Vec<Logged>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, ts_ms, decision, event_json FROM events WHERE ts_ms >= ?1 ORDER BY id LIMIT ?2")
            .map_err(|e| self.err(e))?;
        let it = stmt
            .query_map(params![since_ms, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in it {
            let (id, ts_ms, decision, json) = row.map_err(|e| self.err(e))?;
            if let (Some(decision), Ok(event)) = (
                Outcome::parse(&decision),
                serde_json::from_str::<Event>(&json),
            ) {
                out.push(Logged {
                    id,
                    ts_ms,
                    decision,
                    event,
                });
            }
        }
        Ok(out)
    }

    /// Number of events recorded.
    pub fn event_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }
}

/// Unix ms now minus `d`.
pub fn since(d: Duration) -> i64 {
    now_ms() - i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Verdict;
    use crate::event::{Agent, Kind};

    fn event() -> Event {
        Event {
            platform: "claude".into(),
            native_event: "PreToolUse".into(),
            kind: Kind::PreTool,
            tool: Some("Write".into()),
            agent: Agent::from_session("s", None, None),
            cwd: "/r".into(),
            repo_root: Some("/r".into()),
            writes: vec![".env".into()],
            deletes: vec![],
            reads: vec![],
            command: None,
            prompt: None,
            case_insensitive: false,
            raw_json: String::new(),
            shell: None,
            sniffed: None,
            stop_active: false,
        }
    }

    #[test]
    fn growth_is_bounded_by_max_events() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("state.db")).unwrap();
        let verdict = Verdict::failure("x", Outcome::Deny, "m".into());
        let keep = AuditSettings {
            retention_days: 30,
            max_events: 100,
        };
        for _ in 0..4 {
            let batch: Vec<Record> = (0..256)
                .map(|_| record_of(&event(), &verdict, Duration::from_micros(5)))
                .collect();
            store.insert_records(&batch).unwrap();
            store.prune(keep).unwrap();
        }
        assert_eq!(store.event_count().unwrap(), 100);
        let logged = store.events_since(0, 10).unwrap();
        assert_eq!(logged[0].event, event());
        assert_eq!(logged[0].decision, Outcome::Deny);
    }

    #[test]
    fn old_records_are_pruned_by_age() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("state.db")).unwrap();
        let verdict = Verdict::failure("x", Outcome::Allow, "m".into());
        let keep = AuditSettings {
            retention_days: 1,
            max_events: 1_000_000,
        };
        let old = record_of(&event(), &verdict, Duration::ZERO);
        store.insert_records(&[old]).unwrap();
        store
            .conn
            .execute("UPDATE events SET ts_ms = ts_ms - 3 * 86400000", [])
            .unwrap();
        let fresh: Vec<Record> = (0..300)
            .map(|_| record_of(&event(), &verdict, Duration::ZERO))
            .collect();
        store.insert_records(&fresh).unwrap();
        store.prune(keep).unwrap();
        assert_eq!(store.event_count().unwrap(), 300);
        let rows = store.report(0).unwrap();
        let errors = rows.iter().find(|r| r.rule == "hookgate:error").unwrap();
        assert_eq!(errors.events, 300, "the report counts only what was kept");
    }
}
