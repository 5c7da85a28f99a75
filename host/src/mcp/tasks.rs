//! The task board tools: `task_add`, `task_list`, `task_claim`, `task_next`,
//! `task_done`, `task_block`, `task_unblock` — the library calls of
//! `hookgate task …`, answering with its `--json` output. A claim refused by
//! the state of the board (taken, blocked, waiting, files held, nothing to
//! claim: the CLI's exit 3) is an error result listing why.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::{schemars, tool, tool_router};
use serde::Deserialize;

use crate::coordination::tasks::{
    self, report as tasks_report, ClaimOptions, Filter, NewTask, TaskError,
};
use crate::reservations::report;
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

/// What to do after a refused claim, in the tools' words.
fn next_step(e: &TaskError) -> &'static str {
    match e {
        TaskError::FilesHeld { .. } | TaskError::AllHeld(_) => {
            "Next: take a task with other files (task_list), or ask the holder to release them (request_release)"
        }
        TaskError::Taken { .. } | TaskError::Blocked { .. } => "Next: task_next for another task",
        TaskError::Waiting { .. } => "Next: finish what it waits for, or task_next",
        _ => "Next: task_list shows the board",
    }
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
        let got = store.write_leases(|tx| tasks::claim_or_next(tx, id, &me.agent, &opts, now_ms()));
        match got {
            Ok(Some(c)) => Ok(answer(
                &tasks_report::claimed_json(&c, &me.agent.id),
                &me.notices,
            )),
            Ok(None) => {
                let (_, v) = tasks_report::nothing_to_claim(
                    store.connection(),
                    &me.agent.id,
                    now_ms(),
                    &presence,
                    "task_list",
                )?;
                Ok(refusal(&v, &me.notices))
            }
            Err(e) if e.is_refusal() => Ok(refusal(
                &tasks_report::refused_json(&e, id, next_step(&e)),
                &me.notices,
            )),
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
            Ok(tasks::set_block(tx, id, reason, now_ms(), &presence)?)
        })?;
        Ok(answer(
            &tasks_report::blocked_json(&v, &me.agent.id, reason.is_some()),
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
                &tasks_report::added_json(&v, &me.agent.id),
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
            Ok(answer(&tasks_report::list_json(&all, &id, now), &notices))
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
            Ok(answer(
                &tasks_report::finished_json(&f, &me.agent.id),
                &me.notices,
            ))
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
