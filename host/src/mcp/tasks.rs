//! The task board tools: `task_add`, `task_list`, `task_claim`, `task_next`,
//! `task_done`, `task_block`, `task_unblock` — the library calls of
//! `hookgate task …`, answering with its `--json` output. A claim refused by
//! the state of the board (taken, blocked, waiting, files held, nothing to
//! claim: the CLI's exit 3) is an error result listing why.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::{schemars, tool, tool_router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::coordination::tasks::{
    self, ClaimOptions, Claimed, Filter, Finished, NewTask, Skipped, Status, TaskError, TaskView,
};
use crate::reservations::{report, Conflict};
use crate::store::now_ms;

use super::session::ToolError;
use super::{answer, refusal, result, Server};

/// A task id: `t12` or 12.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum TaskId {
    /// 12.
    Number(i64),
    /// `t12`.
    Label(String),
}

impl TaskId {
    fn get(&self) -> Result<i64, ToolError> {
        Ok(match self {
            TaskId::Number(n) => tasks::parse_id(&n.to_string())?,
            TaskId::Label(s) => tasks::parse_id(s)?,
        })
    }
}

/// Which tasks `task_list` shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListArg {
    /// Tasks that are not done (default).
    #[default]
    Open,
    /// The tasks you claimed (and those you finished).
    Mine,
    /// Every task, done ones too.
    All,
}

/// Arguments of `task_add`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddArgs {
    /// One line.
    pub title: String,
    /// Details.
    #[serde(default)]
    pub body: Option<String>,
    /// 0 (lowest) to 9 (highest); default 5.
    #[serde(default)]
    pub priority: Option<i64>,
    /// Tasks that must be done first: `t12` or 12 each.
    #[serde(default)]
    pub after: Vec<TaskId>,
    /// Glob patterns of the files it touches, relative to the project directory.
    #[serde(default)]
    pub files: Vec<String>,
}

/// Arguments of `task_list`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// open (default), mine or all.
    #[serde(default)]
    pub filter: ListArg,
}

/// Arguments of the tools that name one task.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdArgs {
    /// The task: `t12` or 12.
    pub id: TaskId,
}

/// Arguments of `task_next`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NextArgs {}

/// Arguments of `task_done`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DoneArgs {
    /// The task: `t12` or 12.
    pub id: TaskId,
    /// Mark it done even though another agent owns it.
    #[serde(default)]
    pub force: bool,
}

/// Arguments of `task_block`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockArgs {
    /// The task: `t12` or 12.
    pub id: TaskId,
    /// Why it can't go ahead; shown to agents.
    pub reason: String,
}

/// One task (the fields of `hookgate task list --json`).
fn task_json(v: &TaskView, me: &str) -> Value {
    let t = &v.task;
    json!({
        "task": v.label, "id": t.id, "title": t.title, "body": t.body, "priority": t.priority,
        "status": v.status, "state": t.state, "blocked": v.block_reason(), "manual_block": t.blocked,
        "waiting_for": v.waiting_for.iter().map(|&d| tasks::label(d)).collect::<Vec<_>>(),
        "deps": t.deps.iter().map(|&d| tasks::label(d)).collect::<Vec<_>>(),
        "owner": t.owner, "owner_name": v.owner_name, "owner_state": v.owner_state,
        "owner_gone": v.owner_gone, "mine": t.owner.as_deref() == Some(me), "files": t.files,
        "created_by": t.created_by, "created_ms": t.created_ms, "claimed_ms": t.claimed_ms,
        "done_ms": t.done_ms, "reservation": t.reservation.map(|r| format!("r{r}")),
    })
}

fn conflict_json(c: &Conflict) -> Value {
    json!({
        "reservation": c.hold.label(), "holder": c.hold.agent_name, "holder_id": c.hold.agent,
        "holder_state": c.hold.holder_state, "patterns": c.hold.patterns, "mode": c.hold.mode,
        "reason": c.hold.reason, "since_ms": c.hold.created_ms, "expires_ms": c.hold.expires_ms,
        "example": c.example,
    })
}

fn skipped_json(s: &Skipped) -> Value {
    json!({
        "task": tasks::label(s.task), "title": s.title,
        "conflicts": s.conflicts.iter().map(conflict_json).collect::<Vec<_>>(),
    })
}

fn claimed_json(c: &Claimed, me: &str) -> Value {
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

fn refused_json(e: &TaskError, id: Option<i64>) -> Value {
    let (conflicts, skipped): (&[Conflict], &[Skipped]) = match e {
        TaskError::FilesHeld { conflicts, .. } => (conflicts, &[]),
        TaskError::AllHeld(s) => (&[], s),
        _ => (&[], &[]),
    };
    let next = match e {
        TaskError::FilesHeld { .. } | TaskError::AllHeld(_) => {
            "Next: take a task with other files (task_list), or ask the holder to release them (request_release)"
        }
        TaskError::Taken { .. } | TaskError::Blocked { .. } => "Next: task_next for another task",
        TaskError::Waiting { .. } => "Next: finish what it waits for, or task_next",
        _ => "Next: task_list shows the board",
    };
    json!({
        "status": "refused", "kind": e.kind(), "task": id.map(tasks::label),
        "message": e.to_string(),
        "conflicts": conflicts.iter().map(conflict_json).collect::<Vec<_>>(),
        "skipped": skipped.iter().map(skipped_json).collect::<Vec<_>>(),
        "next": next,
    })
}

fn finished_json(f: &Finished, me: &str) -> Value {
    json!({
        "status": "done", "task": task_json(&f.task, me), "forced": f.forced,
        "released": f.released.as_ref().map(|r| format!("r{}", r.id)),
        "unblocked": f.unblocked.iter().map(|&d| tasks::label(d)).collect::<Vec<_>>(),
    })
}

impl Server {
    /// `task_claim` (with an id) and `task_next` (without).
    fn claim_task(&self, id: Option<&TaskId>) -> Result<CallToolResult, ToolError> {
        let mut st = self.state();
        let ws = st.workspace()?;
        let opts = ClaimOptions {
            reservations: ws.rctx,
            settings: ws.policy.tasks,
        };
        let presence = ws.rctx.presence;
        let id = id.map(TaskId::get).transpose()?;
        let me = st.caller(
            if id.is_some() {
                "task claim"
            } else {
                "task next"
            },
            None,
        )?;
        let store = st.store()?;
        let got = store.write_leases(|tx| {
            let now = now_ms();
            match id {
                Some(id) => tasks::claim(tx, id, &me.agent, &opts, now).map(Some),
                None => tasks::next(tx, &me.agent, &opts, now),
            }
        });
        match got {
            Ok(Some(c)) => Ok(answer(&claimed_json(&c, &me.agent.id), &me.notices)),
            Ok(None) => {
                let board = tasks::list(
                    store.connection(),
                    Filter::Open,
                    &me.agent.id,
                    now_ms(),
                    &presence,
                )?;
                let blocked = board.iter().filter(|v| v.status == Status::Blocked).count();
                let taken = board.len() - blocked;
                let message = if board.is_empty() {
                    "no task to claim: the board has no open tasks".to_string()
                } else {
                    format!(
                        "no task to claim: {blocked} blocked, {taken} claimed by other agents (task_list)"
                    )
                };
                Ok(refusal(
                    &json!({"status": "empty", "message": message, "blocked": blocked, "claimed": taken}),
                    &me.notices,
                ))
            }
            Err(e) if e.is_refusal() => Ok(refusal(&refused_json(&e, id), &me.notices)),
            Err(e) => Err(e.into()),
        }
    }

    /// `task_block` (with a reason) and `task_unblock` (without).
    fn block_task(&self, id: &TaskId, reason: Option<&str>) -> Result<CallToolResult, ToolError> {
        let mut st = self.state();
        let presence = st.workspace()?.rctx.presence;
        let id = id.get()?;
        let me = st.caller(
            if reason.is_some() {
                "task block"
            } else {
                "task unblock"
            },
            None,
        )?;
        let v = st.store()?.write(|tx| -> Result<_, ToolError> {
            Ok(match reason {
                Some(r) => tasks::block(tx, id, r, now_ms(), &presence)?,
                None => tasks::unblock(tx, id, now_ms(), &presence)?,
            })
        })?;
        Ok(answer(
            &json!({"status": if reason.is_some() { "blocked" } else { "unblocked" },
                "task": task_json(&v, &me.agent.id)}),
            &me.notices,
        ))
    }
}

#[tool_router(router = task_tools, vis = "pub(crate)")]
impl Server {
    /// `task_add`.
    #[tool(
        description = "Add a task to the shared board: a one-line title, optional body, priority 0-9 (default 5), \
tasks it must wait for (`after`) and the files it touches (glob patterns). Answers the task with its id (`t12`) and \
status."
    )]
    pub async fn task_add(&self, Parameters(args): Parameters<AddArgs>) -> CallToolResult {
        result((|| -> Result<CallToolResult, ToolError> {
            let mut st = self.state();
            let ws = st.workspace()?;
            let presence = ws.rctx.presence;
            let deps: Vec<i64> = args
                .after
                .iter()
                .map(TaskId::get)
                .collect::<Result<_, _>>()?;
            let files = report::normalize_all(&ws.paths, &args.files)?;
            let me = st.caller("task add", None)?;
            let body = args.body.clone().unwrap_or_default();
            let new = NewTask {
                title: &args.title,
                body: &body,
                priority: args.priority.unwrap_or(tasks::DEFAULT_PRIORITY),
                deps: &deps,
                files: &files,
                created_by: &me.agent.id,
            };
            let v = st.store()?.write(|tx| -> Result<_, ToolError> {
                Ok(tasks::add(tx, &new, now_ms(), &presence)?)
            })?;
            Ok(answer(
                &json!({"status": "added", "task": task_json(&v, &me.agent.id)}),
                &me.notices,
            ))
        })())
    }

    /// `task_list`.
    #[tool(
        description = "The task board: tasks that are not done (`filter`: open, default; mine; all), best first, with \
status (open, claimed, blocked, done), why blocked, owner and its presence, priority and files; `mine` marks yours."
    )]
    pub async fn task_list(&self, Parameters(args): Parameters<ListArgs>) -> CallToolResult {
        result((|| -> Result<CallToolResult, ToolError> {
            let mut st = self.state();
            let presence = st.workspace()?.rctx.presence;
            let me = match st.identify()? {
                Some(_) => Some(st.caller("task list", None)?),
                None if args.filter == ListArg::Mine => return Err(st.no_identity()),
                None => None,
            };
            let id = me.as_ref().map(|m| m.agent.id.clone()).unwrap_or_default();
            let filter = match args.filter {
                ListArg::Open => Filter::Open,
                ListArg::Mine => Filter::Mine,
                ListArg::All => Filter::All,
            };
            let now = now_ms();
            let all = tasks::list(st.store()?.connection(), filter, &id, now, &presence)?;
            let notices = me.map(|m| m.notices).unwrap_or_default();
            Ok(answer(
                &json!({"now_ms": now, "tasks": all.iter().map(|v| task_json(v, &id)).collect::<Vec<_>>()}),
                &notices,
            ))
        })())
    }

    /// `task_claim`.
    #[tool(
        description = "Claim a task (`t12`): it becomes yours (with its files reserved for you when the policy says \
so). isError when it is taken by an active agent, blocked, waiting for other tasks, done, or its files are held."
    )]
    pub async fn task_claim(&self, Parameters(args): Parameters<IdArgs>) -> CallToolResult {
        result(self.claim_task(Some(&args.id)))
    }

    /// `task_next`.
    #[tool(
        description = "Claim the best unblocked task (highest priority, oldest first; tasks whose files another \
agent holds are passed over), or get back the one you already have. isError when there is nothing to claim."
    )]
    pub async fn task_next(&self, Parameters(_args): Parameters<NextArgs>) -> CallToolResult {
        result(self.claim_task(None))
    }

    /// `task_done`.
    #[tool(
        description = "Mark your task done (`force: true` for another agent's): releases the reservation its claim \
took, and answers the tasks that were waiting for it and can be claimed now."
    )]
    pub async fn task_done(&self, Parameters(args): Parameters<DoneArgs>) -> CallToolResult {
        result((|| -> Result<CallToolResult, ToolError> {
            let mut st = self.state();
            let presence = st.workspace()?.rctx.presence;
            let id = args.id.get()?;
            let me = st.caller("task done", None)?;
            let f = st.store()?.write_leases(|tx| -> Result<_, ToolError> {
                Ok(tasks::done(
                    tx,
                    id,
                    &me.agent.id,
                    args.force,
                    now_ms(),
                    &presence,
                )?)
            })?;
            Ok(answer(&finished_json(&f, &me.agent.id), &me.notices))
        })())
    }

    /// `task_block`.
    #[tool(
        description = "Block a task by hand with a reason shown to agents (it can't be claimed until unblocked)."
    )]
    pub async fn task_block(&self, Parameters(args): Parameters<BlockArgs>) -> CallToolResult {
        result(self.block_task(&args.id, Some(&args.reason)))
    }

    /// `task_unblock`.
    #[tool(description = "Lift a manual block from a task (`t12`), so it can be claimed again.")]
    pub async fn task_unblock(&self, Parameters(args): Parameters<IdArgs>) -> CallToolResult {
        result(self.block_task(&args.id, None))
    }
}
