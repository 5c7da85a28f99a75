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
        let event_json = serde_json::to_string(event).unwrap_or_default();
        tx.execute(
            "INSERT INTO events (ts_ms, platform, native_event, kind, tool, agent, agent_name, session, decision, duration_us, event_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                now_ms(),
                event.platform,
                event.native_event,
                serde_json::to_value(event.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
                event.tool,
                event.agent.id,
                event.agent.name,
                event.agent.session,
                verdict.decision.as_str(),
                i64::try_from(duration.as_micros()).unwrap_or(i64::MAX),
                event_json,
            ],
        )
        .map_err(sql)?;
        let id = tx.last_insert_rowid();
        {
            let mut run = tx
                .prepare_cached("INSERT INTO runs (event_id, validator, stage, duration_us, error) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(sql)?;
            for r in &verdict.runs {
                run.execute(params![
                    id,
                    r.validator,
                    r.stage.as_str(),
                    i64::try_from(r.duration_us).unwrap_or(i64::MAX),
                    r.error
                ])
                .map_err(sql)?;
            }
            let mut f = tx
                .prepare_cached(
                    "INSERT INTO findings (event_id, validator, rule, stage, would, effective, message, paths, docs)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(sql)?;
            for j in &verdict.findings {
                f.execute(params![
                    id,
                    j.validator,
                    j.rule,
                    j.stage.as_str(),
                    j.would.as_str(),
                    j.effective.as_str(),
                    j.message,
                    serde_json::to_string(&j.paths).unwrap_or_default(),
                    j.docs
                ])
                .map_err(sql)?;
            }
        }
        if id % 256 == 0 {
            let cutoff = now_ms() - i64::from(retention.retention_days) * 86_400_000;
            tx.execute("DELETE FROM events WHERE ts_ms < ?1", params![cutoff])
                .map_err(sql)?;
            tx.execute(
                "DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?1",
                params![i64::from(retention.max_events)],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)?;
        Ok(id)
    }

    /// Per validator and rule, over events since `since_ms`.
    pub fn report(&self, since_ms: i64) -> Result<Vec<ReportRow>, StoreError> {
        let mut rows = Vec::new();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.validator, MAX(r.stage), COUNT(*), SUM(r.error IS NOT NULL)
                 FROM runs r JOIN events e ON e.id = r.event_id WHERE e.ts_ms >= ?1
                 GROUP BY r.validator ORDER BY r.validator",
            )
            .map_err(|e| self.err(e))?;
        let validators = stmt
            .query_map(params![since_ms], |r| {
                Ok(ReportRow {
                    validator: r.get(0)?,
                    rule: "*".into(),
                    stage: r.get(1)?,
                    events: r.get::<_, i64>(2)? as u64,
                    errors: r.get::<_, i64>(3)? as u64,
                    ..ReportRow::default()
                })
            })
            .map_err(|e| self.err(e))?;
        for v in validators {
            rows.push(v.map_err(|e| self.err(e))?);
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT f.validator, f.rule,
                        (SELECT f2.stage FROM findings f2 WHERE f2.validator = f.validator AND f2.rule = f.rule ORDER BY f2.event_id DESC LIMIT 1),
                        COUNT(*),
                        SUM(f.would = 'deny'), SUM(f.would = 'ask'),
                        SUM(f.effective = 'warn'), SUM(f.effective = 'ask'), SUM(f.effective = 'deny')
                 FROM findings f JOIN events e ON e.id = f.event_id WHERE e.ts_ms >= ?1
                 GROUP BY f.validator, f.rule ORDER BY f.validator, f.rule",
            )
            .map_err(|e| self.err(e))?;
        let rules = stmt
            .query_map(params![since_ms], |r| {
                Ok(ReportRow {
                    validator: r.get(0)?,
                    rule: r.get(1)?,
                    stage: r.get(2)?,
                    events: r.get::<_, i64>(3)? as u64,
                    would_deny: r.get::<_, i64>(4)? as u64,
                    would_ask: r.get::<_, i64>(5)? as u64,
                    warned: r.get::<_, i64>(6)? as u64,
                    asked: r.get::<_, i64>(7)? as u64,
                    blocked: r.get::<_, i64>(8)? as u64,
                    errors: 0,
                })
            })
            .map_err(|e| self.err(e))?;
        for r in rules {
            rows.push(r.map_err(|e| self.err(e))?);
        }
        rows.sort_by(|a, b| {
            (&a.validator, a.rule != "*", &a.rule).cmp(&(&b.validator, b.rule != "*", &b.rule))
        });
        Ok(rows)
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
        let f: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM findings", [], |r| r.get(0))
            .unwrap();
        assert_eq!(f, 300, "findings of pruned events are deleted with them");
    }
}
