//! The audit log: every event with every finding, its "would" and its
//! effective outcome; the per-rule report that drives promotion decisions;
//! and the events that `replay` runs again.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::params;
use serde::Serialize;

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
    /// Record one event and its verdict; prune by `retention` now and then.
    pub fn record(
        &mut self,
        event: &Event,
        verdict: &Verdict,
        duration: Duration,
        retention: AuditSettings,
    ) -> Result<i64, StoreError> {
        let path = self.path.clone();
        let sql = |source| StoreError::Sql {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        let kind = serde_json::to_value(event.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        tx.execute(
            "INSERT INTO events (ts_ms, platform, native_event, kind, tool, agent, agent_name, session,
                                 decision, duration_us, event_json, runs_json, findings_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                now_ms(),
                event.platform,
                event.native_event,
                kind,
                event.tool,
                event.agent.id,
                event.agent.name,
                event.agent.session,
                verdict.decision.as_str(),
                i64::try_from(duration.as_micros()).unwrap_or(i64::MAX),
                serde_json::to_string(event).unwrap_or_default(),
                serde_json::to_string(&verdict.runs).unwrap_or_default(),
                serde_json::to_string(&verdict.findings).unwrap_or_default(),
            ],
        )
        .map_err(sql)?;
        let id = tx.last_insert_rowid();
        if id % 256 == 0 {
            let cutoff = now_ms() - i64::from(retention.retention_days) * 86_400_000;
            tx.execute("DELETE FROM events WHERE ts_ms < ?1", params![cutoff])
                .map_err(sql)?;
            tx.execute(
                "DELETE FROM events WHERE id <= ?1 - ?2",
                params![id, i64::from(retention.max_events)],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)?;
        self.trim_wal()?;
        Ok(id)
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
        for _ in 0..1024 {
            store
                .record(&event(), &verdict, Duration::from_micros(5), keep)
                .unwrap();
        }
        let n = store.event_count().unwrap();
        // Pruning runs every 256 events, so at most max_events + 255 remain.
        assert!(n <= 100 + 255, "{n} events kept");
        assert!(n >= 100, "{n} events kept");
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
        store
            .record(&event(), &verdict, Duration::ZERO, keep)
            .unwrap();
        store
            .conn
            .execute("UPDATE events SET ts_ms = ts_ms - 3 * 86400000", [])
            .unwrap();
        for _ in 0..300 {
            store
                .record(&event(), &verdict, Duration::ZERO, keep)
                .unwrap();
        }
        assert_eq!(store.event_count().unwrap(), 300);
        let rows = store.report(0).unwrap();
        let errors = rows.iter().find(|r| r.rule == "hookgate:error").unwrap();
        assert_eq!(errors.events, 300, "the report counts only what was kept");
    }
}
