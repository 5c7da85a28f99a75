//! What the task commands answer, shared by the CLI (`--json`) and the MCP
//! server (tool results): the JSON shapes of tasks, claims, refusals and
//! finished tasks. One place, so an agent sees the same fields whichever
//! way it asks.

use rusqlite::Connection;
use serde_json::{json, Value};

use super::{label, list, Claimed, Filter, Finished, Skipped, Status, TaskError, TaskView};
use crate::policy::PresenceSettings;
use crate::reservations::Conflict;

fn labels_of(ids: &[i64]) -> Vec<String> {
    ids.iter().map(|&d| label(d)).collect()
}

/// One task (the fields of `hookgate task list --json`); `me` is the
/// caller's agent id, for `mine`.
pub fn task_json(v: &TaskView, me: &str) -> Value {
    let t = &v.task;
    json!({
        "task": v.label, "id": t.id, "title": t.title, "body": t.body, "priority": t.priority,
        "status": v.status, "state": t.state, "blocked": v.block_reason(), "manual_block": t.blocked,
        "waiting_for": labels_of(&v.waiting_for),
        "deps": labels_of(&t.deps),
        "owner": t.owner, "owner_name": v.owner_name, "owner_state": v.owner_state,
        "owner_gone": v.owner_gone, "mine": t.owner.as_deref() == Some(me), "files": t.files,
        "created_by": t.created_by, "created_ms": t.created_ms, "claimed_ms": t.claimed_ms,
        "done_ms": t.done_ms, "reservation": t.reservation.map(|r| format!("r{r}")),
    })
}

/// A reservation in the way of a task's files.
pub fn conflict_json(c: &Conflict) -> Value {
    json!({
        "reservation": c.hold.label(), "holder": c.hold.agent_name, "holder_id": c.hold.agent,
        "holder_state": c.hold.holder_state, "patterns": c.hold.patterns, "mode": c.hold.mode,
        "reason": c.hold.reason, "since_ms": c.hold.created_ms, "expires_ms": c.hold.expires_ms,
        "example": c.example,
    })
}

/// A task passed over because its files are held.
pub fn skipped_json(s: &Skipped) -> Value {
    json!({
        "task": label(s.task), "title": s.title,
        "conflicts": s.conflicts.iter().map(conflict_json).collect::<Vec<_>>(),
    })
}

/// A task just added.
pub fn added_json(v: &TaskView, me: &str) -> Value {
    json!({"status": "added", "task": task_json(v, me)})
}

/// The board as listed at `now`.
pub fn list_json(all: &[TaskView], me: &str, now: i64) -> Value {
    json!({"now_ms": now, "tasks": all.iter().map(|v| task_json(v, me)).collect::<Vec<_>>()})
}

/// A successful claim (or the task the caller already had).
pub fn claimed_json(c: &Claimed, me: &str) -> Value {
    json!({
        "status": if c.already_yours { "already-yours" } else { "claimed" },
        "task": task_json(&c.task, me),
        "reclaimed_from": c.reclaimed_from,
        "reservation": c.reservation.as_ref().map(|r| json!({
            "reservation": format!("r{}", r.id), "id": r.id, "patterns": r.patterns,
            "mode": "exclusive", "expires_ms": r.expires_ms, "renewed": r.renewed})),
        "skipped": c.skipped.iter().map(skipped_json).collect::<Vec<_>>(),
    })
}

/// A claim refused by the state of the board ([`TaskError::is_refusal`]):
/// why, what is in the way, and `next`, what to do (worded for the CLI or
/// the MCP tools).
pub fn refused_json(e: &TaskError, id: Option<i64>, next: &str) -> Value {
    let (conflicts, skipped) = e.in_the_way();
    json!({
        "status": "refused", "kind": e.kind(), "task": id.map(label),
        "message": e.to_string(),
        "conflicts": conflicts.iter().map(conflict_json).collect::<Vec<_>>(),
        "skipped": skipped.iter().map(skipped_json).collect::<Vec<_>>(),
        "next": next,
    })
}

/// A task marked done.
pub fn finished_json(f: &Finished, me: &str) -> Value {
    json!({
        "status": "done", "task": task_json(&f.task, me), "forced": f.forced,
        "released": f.released.as_ref().map(|r| format!("r{}", r.id)),
        "unblocked": labels_of(&f.unblocked),
    })
}

/// A task blocked by hand (`blocked`) or unblocked.
pub fn blocked_json(v: &TaskView, me: &str, blocked: bool) -> Value {
    json!({"status": if blocked { "blocked" } else { "unblocked" }, "task": task_json(v, me)})
}

/// Why `next` found nothing to claim for `me`, read from the open board:
/// the message (`list_hint` is how to see the board: the CLI command or the
/// tool) and its JSON.
pub fn nothing_to_claim(
    conn: &Connection,
    me: &str,
    now: i64,
    presence: &PresenceSettings,
    list_hint: &str,
) -> Result<(String, Value), TaskError> {
    let board = list(conn, Filter::Open, me, now, presence)?;
    let blocked = board.iter().filter(|v| v.status == Status::Blocked).count();
    let taken = board.len() - blocked;
    let message = if board.is_empty() {
        "no task to claim: the board has no open tasks".to_string()
    } else {
        format!(
            "no task to claim: {blocked} blocked, {taken} claimed by other agents ({list_hint})"
        )
    };
    let v = json!({"status": "empty", "message": message, "blocked": blocked, "claimed": taken});
    Ok((message, v))
}
