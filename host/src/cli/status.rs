//! `status`: one screen of who is active, on what task, holding what,
//! waiting for what, and the last messages; `--json` gives the same.

use std::process::ExitCode;

use hookgate::coordination::frame::strip_controls;
use hookgate::coordination::{requests, tasks};
use hookgate::presence::{self, State};
use hookgate::reservations;
use hookgate::store::now_ms;

use super::session::{relative, Session};
use super::Cli;

/// The last messages across the store (subjects only).
fn last_messages(conn: &rusqlite::Connection, n: i64) -> rusqlite::Result<Vec<serde_json::Value>> {
    let mut st = conn.prepare(
        "SELECT m.id, m.ts_ms, COALESCE(a.name, m.sender), m.audience, m.kind, m.importance, m.body,
                (SELECT COUNT(*) FROM recipients r WHERE r.message = m.id),
                (SELECT COUNT(*) FROM recipients r WHERE r.message = m.id AND r.read_ms IS NOT NULL)
         FROM messages m LEFT JOIN agents a ON a.id = m.sender ORDER BY m.id DESC LIMIT ?1",
    )?;
    let rows = st.query_map([n], |r| {
        let body: String = r.get(6)?;
        let first = body.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let (subject, _) = hookgate::coordination::frame::clip(&strip_controls(first.trim()), 80);
        Ok(serde_json::json!({
            "id": format!("m{}", r.get::<_, i64>(0)?),
            "ts_ms": r.get::<_, i64>(1)?,
            "from": strip_controls(&r.get::<_, String>(2)?),
            "to": strip_controls(&r.get::<_, String>(3)?),
            "kind": r.get::<_, String>(4)?,
            "importance": r.get::<_, String>(5)?,
            "subject": subject,
            "recipients": r.get::<_, i64>(7)?,
            "read_by": r.get::<_, i64>(8)?,
        }))
    })?;
    rows.collect()
}

pub fn run(cli: &Cli, json: bool) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "status")?;
    let mut store = s.store()?;
    let now = now_ms();
    let settings = s.policy.coordination.requests();
    store.write_leases(|tx| requests::sweep(tx, &settings, &s.rctx, now))?;
    let conn = store.connection();
    let agents = presence::list(conn)?;
    let holds = reservations::list(conn, None, now, &s.rctx)?;
    let open = requests::list(conn, None, false)?;
    let board = tasks::list(
        conn,
        tasks::Filter::All,
        &s.agent.id,
        now,
        &s.policy.presence,
    )?;
    let messages = last_messages(conn, 8)?;
    let mut rows = Vec::new();
    for a in &agents {
        let state = State::of(a.last_seen_ms, now, &s.policy.presence);
        let mine: Vec<&reservations::Hold> = holds.iter().filter(|h| h.agent == a.id).collect();
        if state == State::Gone && mine.is_empty() {
            continue;
        }
        let task = board.iter().find(|t| {
            t.task.owner.as_deref() == Some(a.id.as_str())
                && t.task.state == tasks::TaskState::Claimed
        });
        let waiting: Vec<&requests::RequestView> = open
            .iter()
            .filter(|q| q.requester == a.id && q.open())
            .collect();
        let asked: Vec<&requests::RequestView> = open
            .iter()
            .filter(|q| q.holder == a.id && q.open())
            .collect();
        let unread: i64 = conn.query_row(
            "SELECT COUNT(*) FROM recipients WHERE agent = ?1 AND read_ms IS NULL",
            [&a.id],
            |r| r.get(0),
        )?;
        rows.push((a, state, mine, task, waiting, asked, unread));
    }
    let escalated: Vec<&requests::RequestView> =
        open.iter().filter(|q| q.state == "escalated").collect();
    let count = |st: tasks::Status| board.iter().filter(|t| t.status == st).count();
    if json {
        let agents_json: Vec<serde_json::Value> = rows
            .iter()
            .map(|(a, state, mine, task, waiting, asked, unread)| {
                serde_json::json!({
                    "id": a.id, "name": a.name, "platform": a.platform, "state": state,
                    "last_seen_ms": a.last_seen_ms, "last_action": a.last_action,
                    "you": a.id == s.agent.id,
                    "task": task.map(|t| serde_json::json!({"id": t.label, "title": t.task.title})),
                    "holds": mine.iter().map(|h| serde_json::json!({
                        "id": h.label(), "patterns": h.patterns, "mode": h.mode, "expires_ms": h.expires_ms})).collect::<Vec<_>>(),
                    "waiting_for": waiting.iter().map(|q| serde_json::json!({
                        "request": q.label(), "reservation": format!("r{}", q.reservation),
                        "holder": q.holder_name, "state": q.state})).collect::<Vec<_>>(),
                    "asked_to_release": asked.iter().map(|q| serde_json::json!({
                        "request": q.label(), "reservation": format!("r{}", q.reservation),
                        "requester": q.requester_name, "state": q.state})).collect::<Vec<_>>(),
                    "unread_messages": unread,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "now_ms": now,
                "store": s.store_path,
                "agents": agents_json,
                "escalated_requests": escalated,
                "tasks": {"open": count(tasks::Status::Open), "claimed": count(tasks::Status::Claimed),
                          "blocked": count(tasks::Status::Blocked), "done": count(tasks::Status::Done)},
                "last_messages": messages,
            })
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("hookgate status · {}", s.store_path.display());
    if rows.is_empty() {
        println!(
            "no agents seen in the last {}",
            hookgate::duration::format(std::time::Duration::from_millis(
                s.policy.presence.gone_ms as u64
            ))
        );
    }
    for (a, state, mine, task, waiting, asked, unread) in &rows {
        let you = if a.id == s.agent.id { " (you)" } else { "" };
        println!(
            "{}{you}  {} · {} · seen {} · {}",
            a.name,
            a.platform,
            state.as_str(),
            relative(a.last_seen_ms, now),
            hookgate::runtime::guest::truncate(&strip_controls(&a.last_action), 40)
        );
        if let Some(t) = task {
            println!(
                "    task {} {}",
                t.label,
                hookgate::runtime::guest::truncate(&strip_controls(&t.task.title), 60)
            );
        }
        for h in mine {
            println!(
                "    holds {} {} {} (expires {})",
                h.label(),
                h.mode.as_str(),
                h.patterns.join(" "),
                relative(h.expires_ms, now)
            );
        }
        for q in waiting {
            println!(
                "    waits {} for r{} held by {} ({})",
                q.label(),
                q.reservation,
                q.holder_name,
                q.state
            );
        }
        for q in asked {
            println!(
                "    asked {} by {} to release r{} ({})",
                q.label(),
                q.requester_name,
                q.reservation,
                q.state
            );
        }
        if *unread > 0 {
            println!(
                "    {unread} unread message{}",
                if *unread == 1 { "" } else { "s" }
            );
        }
    }
    for q in &escalated {
        println!(
            "NEEDS YOU: {} {} waits for r{} held by {}: `hookgate force-release r{} --reason \"…\"`",
            q.label(),
            q.requester_name,
            q.reservation,
            q.holder_name,
            q.reservation
        );
    }
    println!(
        "tasks: {} open, {} claimed, {} blocked, {} done",
        count(tasks::Status::Open),
        count(tasks::Status::Claimed),
        count(tasks::Status::Blocked),
        count(tasks::Status::Done)
    );
    if !messages.is_empty() {
        println!("last messages:");
        for m in messages.iter().take(5) {
            println!(
                "    {} {} → {} ({} of {} read): {}",
                m["id"].as_str().unwrap_or(""),
                m["from"].as_str().unwrap_or(""),
                m["to"].as_str().unwrap_or(""),
                m["read_by"],
                m["recipients"],
                m["subject"].as_str().unwrap_or("")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
