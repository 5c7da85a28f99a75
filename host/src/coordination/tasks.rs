//! The task board: work items that agents add, claim, finish and block,
//! shared through the store like reservations.
//!
//! A task is `open`, `claimed` (by one agent) or `done`; on top of that it is
//! *blocked* while it carries a manual block reason or while any task it
//! depends on (`--after`) is not done. Claims are atomic: every write runs in
//! the caller's `BEGIN IMMEDIATE` transaction ([`crate::store::Store::write_leases`]),
//! so two agents racing for one task never both get it. A claimed task whose
//! owner is `gone` ([`crate::presence::State`]) may be claimed again
//! (reclaimed). With `[tasks] reserve_files`, a claim also reserves the
//! task's files exclusively for the claimant in the same transaction, all or
//! nothing.
//!
//! Ids are shown as `t12` ([`label`]) and read as `t12` or `12`
//! ([`parse_id`]).

use rusqlite::{params, Connection, Transaction};
use serde::Serialize;

use crate::event::Agent;
use crate::policy::{PresenceSettings, TaskSettings};
use crate::presence::{self, State};
use crate::reservations::{self, Conflict, Grant, Mode, Released, Request, ReserveError};
use crate::store::StoreError;

use super::frame::control_code;

pub mod report;

/// Longest title, in bytes.
pub const MAX_TITLE: usize = 200;
/// Longest body, in bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// Lowest priority.
pub const MIN_PRIORITY: i64 = 0;
/// Highest priority.
pub const MAX_PRIORITY: i64 = 9;
/// Priority of a task that names none.
pub const DEFAULT_PRIORITY: i64 = 5;
/// Most dependencies of one task.
pub const MAX_DEPS: usize = 64;

/// Where a task is in its life cycle, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    /// Nobody has claimed it.
    Open,
    /// An agent works on it.
    Claimed,
    /// Finished.
    Done,
}

impl TaskState {
    /// Lowercase name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Open => "open",
            TaskState::Claimed => "claimed",
            TaskState::Done => "done",
        }
    }

    /// Parse a stored name; an unknown one reads as `open`.
    fn parse(s: &str) -> TaskState {
        match s {
            "claimed" => TaskState::Claimed,
            "done" => TaskState::Done,
            _ => TaskState::Open,
        }
    }
}

/// What a task's status is now: its state, with blocking computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Free to claim.
    Open,
    /// Claimed by an agent (see [`TaskView::owner_gone`]).
    Claimed,
    /// Blocked by hand, or waiting for tasks that are not done.
    Blocked,
    /// Finished.
    Done,
}

impl Status {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Claimed => "claimed",
            Status::Blocked => "blocked",
            Status::Done => "done",
        }
    }
}

/// Which tasks [`list`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Every task that is not done (open, claimed or blocked).
    Open,
    /// The tasks the agent owns (claimed or done by it).
    Mine,
    /// Every task.
    All,
}

/// A task as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    /// Id (shown as `t12`).
    pub id: i64,
    /// One line.
    pub title: String,
    /// Details (may span lines).
    pub body: String,
    /// 0 (lowest) to 9 (highest).
    pub priority: i64,
    /// Stored state.
    pub state: TaskState,
    /// Manual block reason.
    pub blocked: Option<String>,
    /// The agent that claimed it (kept when it is done).
    pub owner: Option<String>,
    /// Repository-relative glob patterns of the files it touches.
    pub files: Vec<String>,
    /// The agent that added it.
    pub created_by: String,
    /// Added at, ms since the epoch.
    pub created_ms: i64,
    /// Last claimed at, ms since the epoch.
    pub claimed_ms: Option<i64>,
    /// Done at, ms since the epoch.
    pub done_ms: Option<i64>,
    /// The reservation taken on claim (`[tasks] reserve_files`).
    pub reservation: Option<i64>,
    /// Tasks that must be done before this one, by id.
    pub deps: Vec<i64>,
}

/// A task with its status computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskView {
    /// The stored task.
    #[serde(flatten)]
    pub task: Task,
    /// `t12`.
    pub label: String,
    /// Status now.
    pub status: Status,
    /// Dependencies that are not done yet.
    pub waiting_for: Vec<i64>,
    /// The owner's readable name.
    pub owner_name: Option<String>,
    /// The owner's presence now.
    pub owner_state: Option<State>,
    /// The owner last seen, ms since the epoch.
    pub owner_last_seen_ms: Option<i64>,
    /// The task is claimed and its owner is gone: another agent may claim it.
    pub owner_gone: bool,
}

impl TaskView {
    /// Why the task is blocked: the manual reason, else `waiting for t3,
    /// t5`; `None` when it is not blocked.
    pub fn block_reason(&self) -> Option<String> {
        if let Some(r) = &self.task.blocked {
            return Some(r.clone());
        }
        if self.waiting_for.is_empty() {
            None
        } else {
            Some(format!("waiting for {}", labels(&self.waiting_for)))
        }
    }

    /// Can `agent` claim it now (open and unblocked, or its owner is gone)?
    pub fn claimable_by(&self, agent: &str) -> bool {
        self.task.blocked.is_none()
            && self.waiting_for.is_empty()
            && match self.task.state {
                TaskState::Open => true,
                TaskState::Claimed => self.owner_gone && self.task.owner.as_deref() != Some(agent),
                TaskState::Done => false,
            }
    }
}

/// A task to add.
#[derive(Debug, Clone)]
pub struct NewTask<'a> {
    /// One line, 1 to [`MAX_TITLE`] bytes, no control characters.
    pub title: &'a str,
    /// Details, at most [`MAX_BODY`] bytes; newlines and tabs allowed.
    pub body: &'a str,
    /// [`MIN_PRIORITY`] to [`MAX_PRIORITY`] (higher is more important;
    /// [`DEFAULT_PRIORITY`] when unsure).
    pub priority: i64,
    /// Tasks that must be done first; each must exist.
    pub deps: &'a [i64],
    /// Glob patterns of the files it touches, already normalized by the
    /// caller ([`crate::reservations::normalize_pattern`]).
    pub files: &'a [String],
    /// The agent adding it.
    pub created_by: &'a str,
}

/// What claiming needs to know.
#[derive(Debug, Clone, Copy)]
pub struct ClaimOptions {
    /// Reservation settings (presence thresholds, case folding, TTL cap).
    pub reservations: reservations::Context,
    /// `[tasks]`.
    pub settings: TaskSettings,
}

/// The previous owner of a reclaimed task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviousOwner {
    /// Agent id.
    pub id: String,
    /// Readable name.
    pub name: String,
    /// Last seen, ms since the epoch.
    pub last_seen_ms: i64,
}

/// The reservation a claim took on the task's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskReservation {
    /// Reservation id (`r7`).
    pub id: i64,
    /// The patterns reserved.
    pub patterns: Vec<String>,
    /// Expiry, ms since the epoch.
    pub expires_ms: i64,
    /// An existing reservation of the claimant was renewed.
    pub renewed: bool,
}

/// A task [`next`] passed over because another agent holds its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Task id.
    pub task: i64,
    /// Its title.
    pub title: String,
    /// The reservations in the way.
    pub conflicts: Vec<Conflict>,
}

/// A successful claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claimed {
    /// The task, as it is now.
    pub task: TaskView,
    /// The agent already had it: nothing changed.
    pub already_yours: bool,
    /// The task was claimed from an owner that is gone.
    pub reclaimed_from: Option<PreviousOwner>,
    /// The reservation taken on its files, if any.
    pub reservation: Option<TaskReservation>,
    /// Better tasks [`next`] passed over because their files are held.
    pub skipped: Vec<Skipped>,
}

/// A task marked done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finished {
    /// The task, as it is now.
    pub task: TaskView,
    /// Done by an agent other than its owner (`--force`).
    pub forced: bool,
    /// The reservation taken on claim, released now.
    pub released: Option<Released>,
    /// Tasks that waited for it and can be claimed now.
    pub unblocked: Vec<i64>,
}

/// Errors of task operations. Nothing is stored when one is returned (the
/// caller's transaction rolls back).
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reserving or releasing the task's files failed.
    #[error(transparent)]
    Reserve(#[from] ReserveError),
    /// Not a task id.
    #[error("`{0}` is not a task id; write t12 or 12")]
    BadId(String),
    /// No such task.
    #[error("no task t{0}; see `hookgate task list --all`")]
    NotFound(i64),
    /// An empty title.
    #[error("the task needs a title (one line, up to {MAX_TITLE} bytes)")]
    EmptyTitle,
    /// A title over [`MAX_TITLE`] bytes.
    #[error("the title is {0} bytes; the limit is {MAX_TITLE}. Put the details in --body")]
    TitleTooLong(usize),
    /// A body over [`MAX_BODY`] bytes.
    #[error("the body is {0} bytes; the limit is {MAX_BODY}. Put long text in a file and name its path in the body")]
    BodyTooLong(usize),
    /// A NUL, an escape sequence or another control character.
    #[error("{what} contains a control character ({code}); use plain text (newlines and tabs are fine in the body)")]
    Control {
        /// `the title`, `the body` …
        what: &'static str,
        /// `U+001B`.
        code: String,
    },
    /// Priority out of range.
    #[error("priority {0} is out of range; use {MIN_PRIORITY} (lowest) to {MAX_PRIORITY} (highest), default {DEFAULT_PRIORITY}")]
    Priority(i64),
    /// A dependency that does not exist.
    #[error("--after t{0}: no such task; see `hookgate task list --all`")]
    UnknownDep(i64),
    /// Too many dependencies.
    #[error("{0} dependencies; at most {MAX_DEPS}")]
    TooManyDeps(usize),
    /// A malformed file pattern.
    #[error("file pattern `{pattern}`: {message}")]
    BadPattern {
        /// As given.
        pattern: String,
        /// Why.
        message: String,
    },
    /// Too many file patterns.
    #[error("{0} file patterns; at most {max}", max = reservations::MAX_PATTERNS)]
    TooManyFiles(usize),
    /// Only exclusions among the file patterns.
    #[error("the file patterns are all exclusions (`!…`); add one that names files to include")]
    NoIncludedFile,
    /// A bad block reason.
    #[error("{0}")]
    BadReason(String),
    /// The task is done.
    #[error("t{0} is already done")]
    AlreadyDone(i64),
    /// Blocked by hand.
    #[error("t{id} is blocked: {reason}. `hookgate task unblock t{id}` when it can go ahead")]
    Blocked {
        /// Task id.
        id: i64,
        /// The manual reason.
        reason: String,
    },
    /// Dependencies are not done.
    #[error("t{id} is waiting for {}: those must be done first", labels(.deps))]
    Waiting {
        /// Task id.
        id: i64,
        /// The dependencies not done.
        deps: Vec<i64>,
    },
    /// Claimed by another agent that is not gone.
    #[error("t{id} is claimed by {owner_name} ({owner}, {}); it can be claimed again once that agent is gone", .owner_state.as_str())]
    Taken {
        /// Task id.
        id: i64,
        /// Owner's agent id.
        owner: String,
        /// Owner's readable name.
        owner_name: String,
        /// Owner's presence.
        owner_state: State,
    },
    /// Another agent holds a reservation overlapping the task's files.
    #[error("t{id}: {}", held(.conflicts))]
    FilesHeld {
        /// Task id.
        id: i64,
        /// The reservations in the way.
        conflicts: Vec<Conflict>,
    },
    /// Every claimable task has files another agent holds.
    #[error("every unblocked task has files another agent holds: {}", skipped_text(.0))]
    AllHeld(Vec<Skipped>),
    /// Done by an agent that is not the owner, without force.
    #[error("{}", not_yours(.id, .owner))]
    NotYours {
        /// Task id.
        id: i64,
        /// The owner (`Name (id)`), if any.
        owner: Option<String>,
    },
    /// Unblock of a task that is not blocked by hand.
    #[error("t{0} is not blocked by hand")]
    NotBlocked(i64),
}

impl TaskError {
    /// A claim refused by the state of the board (done, blocked, waiting,
    /// taken, files held) rather than by bad input or a failure: the CLI
    /// exits 3 for these.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            TaskError::AlreadyDone(_)
                | TaskError::Blocked { .. }
                | TaskError::Waiting { .. }
                | TaskError::Taken { .. }
                | TaskError::FilesHeld { .. }
                | TaskError::AllHeld(_)
        )
    }

    /// A short machine name of a refusal (`taken`, `files-held` …), for
    /// JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            TaskError::AlreadyDone(_) => "done",
            TaskError::Blocked { .. } => "blocked",
            TaskError::Waiting { .. } => "waiting",
            TaskError::Taken { .. } => "taken",
            TaskError::FilesHeld { .. } => "files-held",
            TaskError::AllHeld(_) => "files-held",
            TaskError::NotYours { .. } => "not-yours",
            _ => "error",
        }
    }

    /// What stands in the way of a refused claim: the reservations on the
    /// task's files ([`TaskError::FilesHeld`]) or the tasks passed over
    /// because theirs are held ([`TaskError::AllHeld`]); empty otherwise.
    pub fn in_the_way(&self) -> (&[Conflict], &[Skipped]) {
        match self {
            TaskError::FilesHeld { conflicts, .. } => (conflicts, &[]),
            TaskError::AllHeld(s) => (&[], s),
            _ => (&[], &[]),
        }
    }
}

fn held(conflicts: &[Conflict]) -> String {
    let each: Vec<String> = conflicts
        .iter()
        .map(|c| {
            format!(
                "{} ({}, {}) holds {} {} ({}){}",
                c.hold.agent_name,
                c.hold.agent,
                c.hold.holder_state.as_str(),
                c.hold.label(),
                c.hold.patterns.join(" "),
                c.hold.mode.as_str(),
                c.example
                    .as_deref()
                    .map(|e| format!(", e.g. `{e}`"))
                    .unwrap_or_default()
            )
        })
        .collect();
    format!(
        "its files are reserved by another agent: {}; nothing was claimed",
        each.join("; ")
    )
}

fn not_yours(id: &i64, owner: &Option<String>) -> String {
    match owner {
        Some(o) => format!(
            "t{id} is claimed by {o}, not by you; its owner marks it done, or pass --force to do it anyway"
        ),
        None => format!(
            "t{id} is not claimed by you; claim it first (`hookgate task claim t{id}`) or pass --force"
        ),
    }
}

fn skipped_text(skipped: &[Skipped]) -> String {
    skipped
        .iter()
        .map(|s| {
            let who: Vec<String> = s
                .conflicts
                .iter()
                .map(|c| format!("{} holds {}", c.hold.agent_name, c.hold.label()))
                .collect();
            format!("t{} ({})", s.task, who.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `t12`.
pub fn label(id: i64) -> String {
    format!("t{id}")
}

/// `t3, t5`.
pub fn labels(ids: &[i64]) -> String {
    ids.iter().map(|&i| label(i)).collect::<Vec<_>>().join(", ")
}

/// Read a task id written `t12`, `T12` or `12`.
pub fn parse_id(s: &str) -> Result<i64, TaskError> {
    let t = s.trim();
    let digits = t
        .strip_prefix('t')
        .or_else(|| t.strip_prefix('T'))
        .unwrap_or(t);
    match digits.parse::<i64>() {
        Ok(id) if id > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(id),
        _ => Err(TaskError::BadId(s.to_string())),
    }
}

fn sql(e: rusqlite::Error) -> TaskError {
    super::sql_error(e).into()
}

/// Check and clean a title: trimmed, 1 to [`MAX_TITLE`] bytes, one line.
pub fn check_title(title: &str) -> Result<String, TaskError> {
    let t = title.trim();
    if t.is_empty() {
        return Err(TaskError::EmptyTitle);
    }
    if t.len() > MAX_TITLE {
        return Err(TaskError::TitleTooLong(t.len()));
    }
    if let Some(code) = control_code(t, &[]) {
        return Err(TaskError::Control {
            what: "the title",
            code,
        });
    }
    Ok(t.to_string())
}

/// Check and clean a body: CRLF becomes LF, at most [`MAX_BODY`] bytes, no
/// control characters but newline and tab.
pub fn check_body(body: &str) -> Result<String, TaskError> {
    if body.len() > MAX_BODY {
        return Err(TaskError::BodyTooLong(body.len()));
    }
    let b = body.replace("\r\n", "\n");
    if let Some(code) = control_code(&b, &['\n', '\t']) {
        return Err(TaskError::Control {
            what: "the body",
            code,
        });
    }
    Ok(b.trim_end().to_string())
}

fn check_files(files: &[String]) -> Result<Vec<String>, TaskError> {
    if files.len() > reservations::MAX_PATTERNS {
        return Err(TaskError::TooManyFiles(files.len()));
    }
    let mut out: Vec<String> = Vec::new();
    for f in files {
        let bad = |message: &str| TaskError::BadPattern {
            pattern: f.clone(),
            message: message.to_string(),
        };
        let body = f.strip_prefix('!').unwrap_or(f);
        if body.trim().is_empty() {
            return Err(bad("empty pattern"));
        }
        if control_code(f, &[]).is_some() {
            return Err(bad("control character in pattern"));
        }
        if f.len() > 1000 {
            return Err(bad("longer than 1000 bytes"));
        }
        hookgate_glob::Pattern::new(f, false).map_err(|e| bad(&e.to_string()))?;
        if !out.contains(f) {
            out.push(f.clone());
        }
    }
    if !out.is_empty() && out.iter().all(|f| f.starts_with('!')) {
        return Err(TaskError::NoIncludedFile);
    }
    Ok(out)
}

fn check_reason(reason: &str) -> Result<String, TaskError> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(TaskError::BadReason(
            "say why the task is blocked: --reason \"…\"".into(),
        ));
    }
    if r.chars().count() > reservations::MAX_REASON {
        return Err(TaskError::BadReason(format!(
            "the reason is longer than {} characters",
            reservations::MAX_REASON
        )));
    }
    if let Some(code) = control_code(r, &[]) {
        return Err(TaskError::Control {
            what: "the reason",
            code,
        });
    }
    Ok(r.to_string())
}

const COLUMNS: &str = "t.id, t.title, t.body, t.priority, t.state, t.blocked, t.owner, t.files,
     t.created_by, t.created_ms, t.claimed_ms, t.done_ms, t.reservation, a.name, a.last_seen_ms";

/// A row of [`COLUMNS`], without its dependencies yet.
type Row = (Task, Option<String>, Option<i64>);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let state: String = r.get(4)?;
    let files: String = r.get(7)?;
    Ok((
        Task {
            id: r.get(0)?,
            title: r.get(1)?,
            body: r.get(2)?,
            priority: r.get(3)?,
            state: TaskState::parse(&state),
            blocked: r.get(5)?,
            owner: r.get(6)?,
            files: serde_json::from_str(&files).unwrap_or_default(),
            created_by: r.get(8)?,
            created_ms: r.get(9)?,
            claimed_ms: r.get(10)?,
            done_ms: r.get(11)?,
            reservation: r.get(12)?,
            deps: Vec::new(),
        },
        r.get(13)?,
        r.get(14)?,
    ))
}

/// Complete a row: its dependencies and what they wait for, its owner's
/// presence, its status.
fn view(
    conn: &Connection,
    (mut task, owner_name, last_seen): Row,
    now: i64,
    presence: &PresenceSettings,
) -> Result<TaskView, TaskError> {
    let mut st = conn
        .prepare_cached(
            "SELECT d.dep, COALESCE(t.state, 'done') FROM task_deps d
             LEFT JOIN tasks t ON t.id = d.dep WHERE d.task = ?1 ORDER BY d.dep",
        )
        .map_err(sql)?;
    let deps: Vec<(i64, String)> = st
        .query_map([task.id], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(sql)?
        .collect::<Result<_, _>>()
        .map_err(sql)?;
    task.deps = deps.iter().map(|d| d.0).collect();
    let waiting_for: Vec<i64> = deps
        .iter()
        .filter(|d| TaskState::parse(&d.1) != TaskState::Done)
        .map(|d| d.0)
        .collect();
    let owner_state = task
        .owner
        .as_ref()
        .map(|_| State::of(last_seen.unwrap_or(0), now, presence));
    let owner_gone = task.state == TaskState::Claimed && owner_state == Some(State::Gone);
    let status = match task.state {
        TaskState::Done => Status::Done,
        _ if task.blocked.is_some() || !waiting_for.is_empty() => Status::Blocked,
        TaskState::Claimed => Status::Claimed,
        TaskState::Open => Status::Open,
    };
    Ok(TaskView {
        label: label(task.id),
        owner_name: task
            .owner
            .as_ref()
            .map(|o| owner_name.clone().unwrap_or_else(|| o.clone())),
        owner_last_seen_ms: task.owner.as_ref().map(|_| last_seen.unwrap_or(0)),
        task,
        status,
        waiting_for,
        owner_state,
        owner_gone,
    })
}

fn query_views(
    conn: &Connection,
    filter_sql: &str,
    args: &[&dyn rusqlite::ToSql],
    now: i64,
    presence: &PresenceSettings,
) -> Result<Vec<TaskView>, TaskError> {
    let rows: Vec<Row> = {
        let mut st = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM tasks t LEFT JOIN agents a ON a.id = t.owner {filter_sql}"
            ))
            .map_err(sql)?;
        let rows = st.query_map(args, row).map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)?
    };
    rows.into_iter()
        .map(|r| view(conn, r, now, presence))
        .collect()
}

/// One task by id, with its status.
pub fn get(
    conn: &Connection,
    id: i64,
    now: i64,
    presence: &PresenceSettings,
) -> Result<Option<TaskView>, TaskError> {
    Ok(query_views(conn, "WHERE t.id = ?1", &[&id], now, presence)?
        .into_iter()
        .next())
}

fn must_get(
    conn: &Connection,
    id: i64,
    now: i64,
    presence: &PresenceSettings,
) -> Result<TaskView, TaskError> {
    get(conn, id, now, presence)?.ok_or(TaskError::NotFound(id))
}

/// Add a task. Everything is checked before anything is written: the
/// title, body, priority, file patterns, and that every dependency exists.
/// (A new task can't close a cycle: nothing existing depends on it.)
pub fn add(
    tx: &Transaction<'_>,
    new: &NewTask<'_>,
    now: i64,
    presence: &PresenceSettings,
) -> Result<TaskView, TaskError> {
    let title = check_title(new.title)?;
    let body = check_body(new.body)?;
    if !(MIN_PRIORITY..=MAX_PRIORITY).contains(&new.priority) {
        return Err(TaskError::Priority(new.priority));
    }
    let files = check_files(new.files)?;
    let mut deps: Vec<i64> = new.deps.to_vec();
    deps.sort_unstable();
    deps.dedup();
    if deps.len() > MAX_DEPS {
        return Err(TaskError::TooManyDeps(deps.len()));
    }
    for &d in &deps {
        let exists: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM tasks WHERE id = ?1)",
                [d],
                |r| r.get(0),
            )
            .map_err(sql)?;
        if !exists {
            return Err(TaskError::UnknownDep(d));
        }
    }
    let files_json = serde_json::to_string(&files).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO tasks (title, body, priority, state, files, created_by, created_ms)
         VALUES (?1, ?2, ?3, 'open', ?4, ?5, ?6)",
        params![title, body, new.priority, files_json, new.created_by, now],
    )
    .map_err(sql)?;
    let id = tx.last_insert_rowid();
    for d in &deps {
        tx.execute(
            "INSERT INTO task_deps (task, dep) VALUES (?1, ?2)",
            params![id, d],
        )
        .map_err(sql)?;
    }
    must_get(tx, id, now, presence)
}

/// The tasks `filter` selects, with their status, for `agent`: not done
/// first, then by priority (highest first), then oldest first.
pub fn list(
    conn: &Connection,
    filter: Filter,
    agent: &str,
    now: i64,
    presence: &PresenceSettings,
) -> Result<Vec<TaskView>, TaskError> {
    let order = "ORDER BY t.state = 'done', t.priority DESC, t.created_ms, t.id";
    match filter {
        Filter::Open => query_views(
            conn,
            &format!("WHERE t.state != 'done' {order}"),
            &[],
            now,
            presence,
        ),
        Filter::Mine => query_views(
            conn,
            &format!("WHERE t.owner = ?1 {order}"),
            &[&agent],
            now,
            presence,
        ),
        Filter::All => query_views(conn, order, &[], now, presence),
    }
}

/// The task `agent` works on: claimed by it and not done (the most recently
/// claimed, if several), to remind it at the start of a session.
pub fn current(
    conn: &Connection,
    agent: &str,
    now: i64,
    presence: &PresenceSettings,
) -> Result<Option<TaskView>, TaskError> {
    Ok(query_views(
        conn,
        "WHERE t.owner = ?1 AND t.state = 'claimed' ORDER BY t.claimed_ms DESC, t.id DESC",
        &[&agent],
        now,
        presence,
    )?
    .into_iter()
    .next())
}

fn heartbeat(tx: &Transaction<'_>, agent: &Agent, action: &str, now: i64) -> Result<(), TaskError> {
    // `cli` keeps the platform the agent's hooks recorded; no name is asked
    // for, so there is no name error to report.
    let _name = presence::touch(tx, agent, "cli", action, None, now)?;
    Ok(())
}

/// A title cut to fit a reservation reason.
fn reason_for(task: &Task) -> String {
    let mut r = format!("task t{}: {}", task.id, task.title);
    if r.chars().count() > reservations::MAX_REASON {
        r = r.chars().take(reservations::MAX_REASON).collect();
    }
    r
}

/// Claim `v` for `agent` (checked claimable by the caller): release a gone
/// owner's reservation, reserve the files if the policy says so, record the
/// owner. `Ok(Err(conflicts))` when another agent holds the files; the
/// caller then rolls back to its savepoint.
fn take(
    tx: &Transaction<'_>,
    v: TaskView,
    agent: &Agent,
    opts: &ClaimOptions,
    now: i64,
) -> Result<Result<Claimed, Vec<Conflict>>, TaskError> {
    let id = v.task.id;
    let reclaimed_from = match (&v.task.owner, v.task.state) {
        (Some(o), TaskState::Claimed) if *o != agent.id => Some(PreviousOwner {
            id: o.clone(),
            name: v.owner_name.clone().unwrap_or_else(|| o.clone()),
            last_seen_ms: v.owner_last_seen_ms.unwrap_or(0),
        }),
        _ => None,
    };
    if let Some(rid) = v.task.reservation {
        let note = format!("task t{id} claimed by {}", agent.id);
        reservations::release_in(tx, rid, &agent.id, &note, now)?;
    }
    let mut reservation = None;
    if opts.settings.reserve_files && !v.task.files.is_empty() {
        let req = Request {
            patterns: v.task.files.clone(),
            mode: Mode::Exclusive,
            ttl_ms: opts.settings.reserve_ttl_ms,
            reason: reason_for(&v.task),
            auto: false,
        };
        match reservations::acquire_in(tx, agent, "cli", &req, &opts.reservations, now)? {
            Grant::Granted {
                id: rid,
                renewed,
                expires_ms,
            } => {
                reservation = Some(TaskReservation {
                    id: rid,
                    patterns: req.patterns,
                    expires_ms,
                    renewed,
                })
            }
            Grant::Refused { conflicts } => return Ok(Err(conflicts)),
        }
    }
    tx.execute(
        "UPDATE tasks SET state = 'claimed', owner = ?2, claimed_ms = ?3, reservation = ?4 WHERE id = ?1",
        params![id, agent.id, now, reservation.as_ref().map(|r| r.id)],
    )
    .map_err(sql)?;
    heartbeat(tx, agent, "task claim", now)?;
    Ok(Ok(Claimed {
        task: must_get(tx, id, now, &opts.reservations.presence)?,
        already_yours: false,
        reclaimed_from,
        reservation,
        skipped: Vec::new(),
    }))
}

/// [`take`] inside a savepoint, undone when the files are held.
fn try_take(
    tx: &Transaction<'_>,
    v: TaskView,
    agent: &Agent,
    opts: &ClaimOptions,
    now: i64,
) -> Result<Result<Claimed, Vec<Conflict>>, TaskError> {
    tx.execute_batch("SAVEPOINT task_claim").map_err(sql)?;
    let out = take(tx, v, agent, opts, now);
    let undo = !matches!(out, Ok(Ok(_)));
    if undo {
        tx.execute_batch("ROLLBACK TO task_claim").map_err(sql)?;
    }
    tx.execute_batch("RELEASE task_claim").map_err(sql)?;
    out
}

fn yours(v: TaskView) -> Claimed {
    Claimed {
        task: v,
        already_yours: true,
        reclaimed_from: None,
        reservation: None,
        skipped: Vec::new(),
    }
}

/// Claim task `id` for `agent`, atomically (the caller runs this in one
/// `BEGIN IMMEDIATE` transaction). Refused when the task is done, blocked
/// (by hand or by dependencies not done), claimed by another agent that is
/// not gone, or (with `[tasks] reserve_files`) when another agent holds a
/// reservation overlapping its files. A task whose owner is gone is
/// reclaimed ([`Claimed::reclaimed_from`]). Claiming one's own claimed task
/// changes nothing and succeeds.
pub fn claim(
    tx: &Transaction<'_>,
    id: i64,
    agent: &Agent,
    opts: &ClaimOptions,
    now: i64,
) -> Result<Claimed, TaskError> {
    heartbeat(tx, agent, "task claim", now)?;
    let v = must_get(tx, id, now, &opts.reservations.presence)?;
    match v.task.state {
        TaskState::Done => return Err(TaskError::AlreadyDone(id)),
        TaskState::Claimed if v.task.owner.as_deref() == Some(agent.id.as_str()) => {
            return Ok(yours(v))
        }
        _ => {}
    }
    if let Some(reason) = &v.task.blocked {
        return Err(TaskError::Blocked {
            id,
            reason: reason.clone(),
        });
    }
    if !v.waiting_for.is_empty() {
        return Err(TaskError::Waiting {
            id,
            deps: v.waiting_for,
        });
    }
    if v.task.state == TaskState::Claimed && !v.owner_gone {
        return Err(TaskError::Taken {
            id,
            owner: v.task.owner.clone().unwrap_or_default(),
            owner_name: v.owner_name.clone().unwrap_or_default(),
            owner_state: v.owner_state.unwrap_or(State::Active),
        });
    }
    match try_take(tx, v, agent, opts, now)? {
        Ok(c) => Ok(c),
        Err(conflicts) => Err(TaskError::FilesHeld { id, conflicts }),
    }
}

/// Claim the best task for `agent`: unblocked, open or with a gone owner,
/// highest priority first, then oldest. If the agent already has a claimed
/// task that is not done (and not blocked by hand), that one is returned
/// instead ([`Claimed::already_yours`]). A candidate whose files another
/// agent holds is passed over ([`Claimed::skipped`]). `Ok(None)` when no
/// task can be claimed; [`TaskError::AllHeld`] when some could, but all
/// their files are held.
pub fn next(
    tx: &Transaction<'_>,
    agent: &Agent,
    opts: &ClaimOptions,
    now: i64,
) -> Result<Option<Claimed>, TaskError> {
    heartbeat(tx, agent, "task next", now)?;
    let presence = &opts.reservations.presence;
    let open = query_views(
        tx,
        "WHERE t.state != 'done' ORDER BY t.priority DESC, t.created_ms, t.id",
        &[],
        now,
        presence,
    )?;
    if let Some(mine) = open
        .iter()
        .filter(|v| {
            v.task.state == TaskState::Claimed
                && v.task.owner.as_deref() == Some(agent.id.as_str())
                && v.task.blocked.is_none()
        })
        .max_by_key(|v| (v.task.claimed_ms, v.task.id))
    {
        return Ok(Some(yours(mine.clone())));
    }
    let mut skipped = Vec::new();
    for v in open.into_iter().filter(|v| v.claimable_by(&agent.id)) {
        let (id, title) = (v.task.id, v.task.title.clone());
        match try_take(tx, v, agent, opts, now)? {
            Ok(mut c) => {
                c.skipped = skipped;
                return Ok(Some(c));
            }
            Err(conflicts) => skipped.push(Skipped {
                task: id,
                title,
                conflicts,
            }),
        }
    }
    if skipped.is_empty() {
        Ok(None)
    } else {
        Err(TaskError::AllHeld(skipped))
    }
}

/// [`claim`] task `id`, or without one take the [`next`] task.
pub fn claim_or_next(
    tx: &Transaction<'_>,
    id: Option<i64>,
    agent: &Agent,
    opts: &ClaimOptions,
    now: i64,
) -> Result<Option<Claimed>, TaskError> {
    match id {
        Some(id) => claim(tx, id, agent, opts, now).map(Some),
        None => next(tx, agent, opts, now),
    }
}

/// Mark task `id` done by `agent`. An agent other than the owner needs
/// `force`. The reservation taken on claim is released; tasks that waited
/// only for this one become claimable ([`Finished::unblocked`]).
pub fn done(
    tx: &Transaction<'_>,
    id: i64,
    agent: &str,
    force: bool,
    now: i64,
    presence: &PresenceSettings,
) -> Result<Finished, TaskError> {
    let v = must_get(tx, id, now, presence)?;
    if v.task.state == TaskState::Done {
        return Err(TaskError::AlreadyDone(id));
    }
    let mine = v.task.owner.as_deref() == Some(agent) && v.task.state == TaskState::Claimed;
    if !mine && !force {
        return Err(TaskError::NotYours {
            id,
            owner: match (&v.task.owner, v.task.state) {
                (Some(o), TaskState::Claimed) => Some(format!(
                    "{} ({o})",
                    v.owner_name.clone().unwrap_or_else(|| o.clone())
                )),
                _ => None,
            },
        });
    }
    let released = match v.task.reservation {
        Some(rid) => reservations::release_in(tx, rid, agent, &format!("task t{id} done"), now)?,
        None => None,
    };
    tx.execute(
        "UPDATE tasks SET state = 'done', done_ms = ?2 WHERE id = ?1",
        params![id, now],
    )
    .map_err(sql)?;
    let dependents: Vec<i64> = {
        let mut st = tx
            .prepare_cached("SELECT task FROM task_deps WHERE dep = ?1 ORDER BY task")
            .map_err(sql)?;
        let rows = st.query_map([id], |r| r.get(0)).map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)?
    };
    let mut unblocked = Vec::new();
    for d in dependents {
        if let Some(dv) = get(tx, d, now, presence)? {
            if dv.task.state != TaskState::Done
                && dv.task.blocked.is_none()
                && dv.waiting_for.is_empty()
            {
                unblocked.push(d);
            }
        }
    }
    Ok(Finished {
        task: must_get(tx, id, now, presence)?,
        forced: !mine,
        released,
        unblocked,
    })
}

/// Block task `id` by hand, with a reason shown to agents (it keeps its
/// owner). A done task can't be blocked.
pub fn block(
    tx: &Transaction<'_>,
    id: i64,
    reason: &str,
    now: i64,
    presence: &PresenceSettings,
) -> Result<TaskView, TaskError> {
    let reason = check_reason(reason)?;
    let v = must_get(tx, id, now, presence)?;
    if v.task.state == TaskState::Done {
        return Err(TaskError::AlreadyDone(id));
    }
    tx.execute(
        "UPDATE tasks SET blocked = ?2 WHERE id = ?1",
        params![id, reason],
    )
    .map_err(sql)?;
    must_get(tx, id, now, presence)
}

/// Lift the manual block of task `id`. A task that is not blocked by hand
/// is refused ([`TaskError::Waiting`] when it waits for dependencies: it
/// unblocks by itself when they are done).
pub fn unblock(
    tx: &Transaction<'_>,
    id: i64,
    now: i64,
    presence: &PresenceSettings,
) -> Result<TaskView, TaskError> {
    let v = must_get(tx, id, now, presence)?;
    if v.task.blocked.is_none() {
        if !v.waiting_for.is_empty() && v.task.state != TaskState::Done {
            return Err(TaskError::Waiting {
                id,
                deps: v.waiting_for,
            });
        }
        return Err(TaskError::NotBlocked(id));
    }
    tx.execute("UPDATE tasks SET blocked = NULL WHERE id = ?1", [id])
        .map_err(sql)?;
    must_get(tx, id, now, presence)
}

/// [`block`] task `id` with `reason`, or without one [`unblock`] it.
pub fn set_block(
    tx: &Transaction<'_>,
    id: i64,
    reason: Option<&str>,
    now: i64,
    presence: &PresenceSettings,
) -> Result<TaskView, TaskError> {
    match reason {
        Some(r) => block(tx, id, r, now, presence),
        None => unblock(tx, id, now, presence),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::ReservationSettings;

    const HOUR: i64 = 3_600_000;

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        for m in crate::store::schema::MIGRATIONS {
            c.execute_batch(m).unwrap();
        }
        c
    }

    /// Run `f` in a transaction, committed only when it succeeds.
    fn w<T>(
        c: &mut Connection,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, TaskError>,
    ) -> Result<T, TaskError> {
        let tx = c.transaction().unwrap();
        let out = f(&tx);
        if out.is_ok() {
            tx.commit().unwrap();
        }
        out
    }

    fn opts(reserve_files: bool) -> ClaimOptions {
        ClaimOptions {
            reservations: reservations::Context {
                fold: false,
                settings: ReservationSettings::default(),
                presence: PresenceSettings::default(),
            },
            settings: TaskSettings {
                reserve_files,
                reserve_ttl_ms: 2 * HOUR,
            },
        }
    }

    fn agent(id: &str) -> Agent {
        Agent::from_session(id, None, None)
    }

    fn p() -> PresenceSettings {
        PresenceSettings::default()
    }

    fn add_task(
        c: &mut Connection,
        title: &str,
        priority: i64,
        deps: &[i64],
        files: &[&str],
        now: i64,
    ) -> i64 {
        let files: Vec<String> = files.iter().map(|s| s.to_string()).collect();
        w(c, |tx| {
            add(
                tx,
                &NewTask {
                    title,
                    body: "",
                    priority,
                    deps,
                    files: &files,
                    created_by: "maker",
                },
                now,
                &p(),
            )
        })
        .unwrap()
        .task
        .id
    }

    fn count(c: &Connection, table: &str) -> i64 {
        c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn ids_read_with_or_without_t() {
        assert_eq!(parse_id("t12").unwrap(), 12);
        assert_eq!(parse_id("12").unwrap(), 12);
        assert_eq!(parse_id(" T3 ").unwrap(), 3);
        for bad in [
            "",
            "t",
            "r12",
            "t-1",
            "0",
            "t+4",
            "12x",
            "99999999999999999999",
        ] {
            assert!(matches!(parse_id(bad), Err(TaskError::BadId(_))), "{bad}");
        }
        assert_eq!(label(7), "t7");
    }

    #[test]
    fn dependencies_block_until_done() {
        let mut c = db();
        let t1 = add_task(&mut c, "schema", 1, &[], &[], 1);
        let t2 = add_task(&mut c, "api", 9, &[t1], &[], 2);
        let t3 = add_task(&mut c, "docs", 9, &[t1, t2], &[], 3);
        let v2 = get(&c, t2, 10, &p()).unwrap().unwrap();
        assert_eq!(v2.status, Status::Blocked);
        assert_eq!(v2.block_reason().unwrap(), format!("waiting for t{t1}"));
        let err = w(&mut c, |tx| claim(tx, t2, &agent("a"), &opts(false), 10)).unwrap_err();
        assert!(
            matches!(&err, TaskError::Waiting { deps, .. } if deps == &[t1]),
            "{err}"
        );
        assert!(err.is_refusal());
        // `next` skips the blocked high-priority tasks and takes t1.
        let c1 = w(&mut c, |tx| next(tx, &agent("a"), &opts(false), 11))
            .unwrap()
            .unwrap();
        assert_eq!(c1.task.task.id, t1);
        assert!(w(&mut c, |tx| next(tx, &agent("b"), &opts(false), 12))
            .unwrap()
            .is_none());
        let fin = w(&mut c, |tx| done(tx, t1, "a", false, 13, &p())).unwrap();
        assert_eq!(fin.unblocked, vec![t2], "t3 still waits for t2");
        assert!(!fin.forced);
        let v3 = get(&c, t3, 14, &p()).unwrap().unwrap();
        assert_eq!(v3.waiting_for, vec![t2]);
        let c2 = w(&mut c, |tx| next(tx, &agent("b"), &opts(false), 14))
            .unwrap()
            .unwrap();
        assert_eq!(c2.task.task.id, t2);
        let fin = w(&mut c, |tx| done(tx, t2, "b", false, 15, &p())).unwrap();
        assert_eq!(fin.unblocked, vec![t3]);
    }

    #[test]
    fn next_takes_highest_priority_then_oldest() {
        let mut c = db();
        let low = add_task(&mut c, "low", 1, &[], &[], 1);
        let high_old = add_task(&mut c, "high old", 9, &[], &[], 2);
        let mid = add_task(&mut c, "mid", 5, &[], &[], 3);
        let high_new = add_task(&mut c, "high new", 9, &[], &[], 4);
        let mut got = Vec::new();
        for (i, who) in ["a", "b", "c", "d"].iter().enumerate() {
            let cl = w(&mut c, |tx| {
                next(tx, &agent(who), &opts(false), 10 + i as i64)
            })
            .unwrap()
            .unwrap();
            assert!(!cl.already_yours);
            got.push(cl.task.task.id);
        }
        assert_eq!(got, vec![high_old, high_new, mid, low]);
        // An agent with a task gets it again rather than a second one.
        let again = w(&mut c, |tx| next(tx, &agent("a"), &opts(false), 20))
            .unwrap()
            .unwrap();
        assert!(again.already_yours);
        assert_eq!(again.task.task.id, high_old);
        // The board is empty for a newcomer.
        assert!(w(&mut c, |tx| next(tx, &agent("e"), &opts(false), 21))
            .unwrap()
            .is_none());
        let listed: Vec<i64> = list(&c, Filter::All, "a", 22, &p())
            .unwrap()
            .iter()
            .map(|v| v.task.id)
            .collect();
        assert_eq!(listed, vec![high_old, high_new, mid, low]);
        let mine = list(&c, Filter::Mine, "c", 22, &p()).unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].task.id, mid);
        assert_eq!(current(&c, "d", 22, &p()).unwrap().unwrap().task.id, low);
        assert!(current(&c, "e", 22, &p()).unwrap().is_none());
    }

    #[test]
    fn a_gone_owner_loses_its_task_to_the_next_claimant() {
        let mut c = db();
        let t1 = add_task(&mut c, "one", 5, &[], &["src/one/**"], 0);
        let t2 = add_task(&mut c, "two", 5, &[], &[], 0);
        let t0 = 1_000_000;
        let mine = w(&mut c, |tx| claim(tx, t1, &agent("a"), &opts(true), t0)).unwrap();
        let rid = mine.reservation.as_ref().unwrap().id;
        w(&mut c, |tx| claim(tx, t2, &agent("a"), &opts(true), t0)).unwrap();
        // Claiming one's own task again is a no-op.
        let again = w(&mut c, |tx| claim(tx, t1, &agent("a"), &opts(true), t0 + 5)).unwrap();
        assert!(again.already_yours);
        // A is idle, not gone: refused, naming A.
        let err = w(&mut c, |tx| {
            claim(tx, t1, &agent("b"), &opts(true), t0 + HOUR / 2)
        })
        .unwrap_err();
        match &err {
            TaskError::Taken {
                owner, owner_state, ..
            } => assert_eq!((owner.as_str(), *owner_state), ("a", State::Stale)),
            e => panic!("{e}"),
        }
        // 90 minutes later A is gone (its lease is still live): B
        // reclaims, A's reservation goes.
        let later = t0 + HOUR + HOUR / 2;
        let v = get(&c, t1, later, &p()).unwrap().unwrap();
        assert!(v.owner_gone && v.claimable_by("b"));
        let got = w(&mut c, |tx| claim(tx, t1, &agent("b"), &opts(true), later)).unwrap();
        assert_eq!(got.reclaimed_from.as_ref().unwrap().id, "a");
        assert_eq!(got.task.task.owner.as_deref(), Some("b"));
        let new_rid = got.reservation.as_ref().unwrap().id;
        assert_ne!(new_rid, rid);
        let released: Option<i64> = c
            .query_row(
                "SELECT released_ms FROM reservations WHERE id = ?1",
                [rid],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(released, Some(later));
        // `next` reclaims too.
        let n = w(&mut c, |tx| next(tx, &agent("c"), &opts(true), later))
            .unwrap()
            .unwrap();
        assert_eq!(n.task.task.id, t2);
        assert_eq!(n.reclaimed_from.unwrap().id, "a");
    }

    #[test]
    fn done_by_a_non_owner_needs_force() {
        let mut c = db();
        let t1 = add_task(&mut c, "one", 5, &[], &[], 0);
        let t2 = add_task(&mut c, "two", 5, &[], &[], 0);
        w(&mut c, |tx| claim(tx, t1, &agent("a"), &opts(false), 10)).unwrap();
        let err = w(&mut c, |tx| done(tx, t1, "b", false, 11, &p())).unwrap_err();
        assert!(
            matches!(&err, TaskError::NotYours { owner: Some(o), .. } if o.contains("(a)")),
            "{err}"
        );
        assert!(!err.is_refusal());
        assert_eq!(
            get(&c, t1, 12, &p()).unwrap().unwrap().status,
            Status::Claimed
        );
        // Unclaimed: also not the caller's.
        assert!(matches!(
            w(&mut c, |tx| done(tx, t2, "b", false, 12, &p())),
            Err(TaskError::NotYours { owner: None, .. })
        ));
        let forced = w(&mut c, |tx| done(tx, t1, "b", true, 13, &p())).unwrap();
        assert!(forced.forced);
        assert_eq!(forced.task.status, Status::Done);
        assert_eq!(forced.task.task.owner.as_deref(), Some("a"));
        assert!(matches!(
            w(&mut c, |tx| done(tx, t1, "a", false, 14, &p())),
            Err(TaskError::AlreadyDone(_))
        ));
        assert!(matches!(
            w(&mut c, |tx| claim(tx, t1, &agent("c"), &opts(false), 14)),
            Err(TaskError::AlreadyDone(_))
        ));
        w(&mut c, |tx| claim(tx, t2, &agent("a"), &opts(false), 15)).unwrap();
        let own = w(&mut c, |tx| done(tx, t2, "a", false, 16, &p())).unwrap();
        assert!(!own.forced);
        assert_eq!(own.task.task.done_ms, Some(16));
        assert!(matches!(
            w(&mut c, |tx| done(tx, 99, "a", true, 17, &p())),
            Err(TaskError::NotFound(99))
        ));
    }

    #[test]
    fn bad_input_is_refused_and_nothing_is_stored() {
        let mut c = db();
        let t1 = add_task(&mut c, "fine", 5, &[], &[], 0);
        let try_add = |c: &mut Connection,
                       title: &str,
                       body: &str,
                       priority: i64,
                       deps: &[i64],
                       files: &[&str]| {
            let files: Vec<String> = files.iter().map(|s| s.to_string()).collect();
            w(c, |tx| {
                add(
                    tx,
                    &NewTask {
                        title,
                        body,
                        priority,
                        deps,
                        files: &files,
                        created_by: "x",
                    },
                    1,
                    &p(),
                )
            })
        };
        let cases: Vec<(TaskError, &str)> = vec![
            (
                try_add(&mut c, "a\0b", "", 5, &[], &[]).unwrap_err(),
                "U+0000",
            ),
            (
                try_add(&mut c, "red \x1b[31m", "", 5, &[], &[]).unwrap_err(),
                "U+001B",
            ),
            (
                try_add(&mut c, "two\nlines", "", 5, &[], &[]).unwrap_err(),
                "U+000A",
            ),
            (
                try_add(&mut c, "ok", "bell\x07", 5, &[], &[]).unwrap_err(),
                "U+0007",
            ),
            (
                try_add(&mut c, "ok", &"x".repeat(10 << 20), 5, &[], &[]).unwrap_err(),
                "10485760 bytes",
            ),
            (
                try_add(&mut c, &"t".repeat(201), "", 5, &[], &[]).unwrap_err(),
                "201 bytes",
            ),
            (
                try_add(&mut c, "   ", "", 5, &[], &[]).unwrap_err(),
                "needs a title",
            ),
            (
                try_add(&mut c, "ok", "", 42, &[], &[]).unwrap_err(),
                "priority 42",
            ),
            (
                try_add(&mut c, "ok", "", -1, &[], &[]).unwrap_err(),
                "priority -1",
            ),
            (
                try_add(&mut c, "ok", "", 5, &[t1, 77], &[]).unwrap_err(),
                "--after t77",
            ),
            (
                try_add(&mut c, "ok", "", 5, &[], &["src/[x"]).unwrap_err(),
                "src/[x",
            ),
            (
                try_add(&mut c, "ok", "", 5, &[], &["!src/**"]).unwrap_err(),
                "exclusions",
            ),
        ];
        for (err, needle) in &cases {
            assert!(err.to_string().contains(needle), "{err} lacks {needle}");
            assert!(!err.is_refusal());
        }
        assert_eq!(count(&c, "tasks"), 1);
        assert_eq!(count(&c, "task_deps"), 0);
        // Limits are inclusive; a body keeps its lines and tabs.
        let body = format!("line 1\r\n\tline 2{}", "y".repeat(MAX_BODY - 20));
        let v = try_add(
            &mut c,
            &"t".repeat(200),
            &body,
            9,
            &[t1, t1],
            &["src/**", "!src/gen/**"],
        )
        .unwrap();
        assert!(v.task.body.starts_with("line 1\n\tline 2"));
        assert_eq!(v.task.deps, vec![t1]);
        assert_eq!(v.task.files, vec!["src/**", "!src/gen/**"]);
        assert_eq!(v.task.priority, 9);
        assert!(try_add(&mut c, "zero", "", 0, &[], &[]).is_ok());
        assert_eq!(count(&c, "tasks"), 3);
    }

    #[test]
    fn manual_blocks_stop_claims_until_lifted() {
        let mut c = db();
        let t1 = add_task(&mut c, "one", 5, &[], &[], 0);
        let t2 = add_task(&mut c, "two", 5, &[t1], &[], 0);
        let v = w(&mut c, |tx| block(tx, t1, "needs a decision", 1, &p())).unwrap();
        assert_eq!(v.status, Status::Blocked);
        assert_eq!(v.block_reason().as_deref(), Some("needs a decision"));
        assert!(matches!(
            w(&mut c, |tx| claim(tx, t1, &agent("a"), &opts(false), 2)),
            Err(TaskError::Blocked { .. })
        ));
        assert!(w(&mut c, |tx| next(tx, &agent("a"), &opts(false), 2))
            .unwrap()
            .is_none());
        assert!(matches!(
            w(&mut c, |tx| block(tx, t1, " \x1b ", 3, &p())),
            Err(TaskError::Control { .. })
        ));
        assert!(matches!(
            w(&mut c, |tx| block(tx, t1, "  ", 3, &p())),
            Err(TaskError::BadReason(_))
        ));
        assert!(matches!(
            w(&mut c, |tx| unblock(tx, t2, 3, &p())),
            Err(TaskError::Waiting { .. })
        ));
        assert_eq!(
            w(&mut c, |tx| unblock(tx, t1, 3, &p())).unwrap().status,
            Status::Open
        );
        assert!(matches!(
            w(&mut c, |tx| unblock(tx, t1, 4, &p())),
            Err(TaskError::NotBlocked(_))
        ));
        let got = w(&mut c, |tx| next(tx, &agent("a"), &opts(false), 5))
            .unwrap()
            .unwrap();
        assert_eq!(got.task.task.id, t1);
    }

    #[test]
    fn reserving_files_is_all_or_nothing() {
        let mut c = db();
        let o = opts(true);
        let both = add_task(&mut c, "both", 9, &[], &["src/a/**", "src/b.rs"], 0);
        let free = add_task(&mut c, "free", 1, &[], &["docs/**"], 0);
        // B holds src/b.rs.
        let req = Request {
            patterns: vec!["src/b.rs".into()],
            mode: Mode::Exclusive,
            ttl_ms: HOUR,
            reason: "mine".into(),
            auto: false,
        };
        let g = w(&mut c, |tx| {
            Ok(reservations::acquire_in(
                tx,
                &agent("b"),
                "cli",
                &req,
                &o.reservations,
                10,
            )?)
        })
        .unwrap();
        assert!(matches!(g, Grant::Granted { .. }));
        let live = |c: &Connection, who: &str| -> i64 {
            c.query_row(
                "SELECT COUNT(*) FROM reservations WHERE agent = ?1 AND released_ms IS NULL",
                [who],
                |r| r.get(0),
            )
            .unwrap()
        };
        let err = w(&mut c, |tx| claim(tx, both, &agent("a"), &o, 20)).unwrap_err();
        assert!(err.is_refusal());
        let text = err.to_string();
        assert!(
            text.contains("(b, active)") && text.contains("src/b.rs"),
            "{text}"
        );
        assert_eq!(
            get(&c, both, 21, &p()).unwrap().unwrap().status,
            Status::Open
        );
        assert_eq!(live(&c, "a"), 0);
        // `next` passes over it and takes the free one.
        let n = w(&mut c, |tx| next(tx, &agent("a"), &o, 22))
            .unwrap()
            .unwrap();
        assert_eq!(n.task.task.id, free);
        assert_eq!(n.skipped.len(), 1);
        assert_eq!(n.skipped[0].task, both);
        assert_eq!(n.skipped[0].conflicts[0].hold.agent, "b");
        let rid = n.reservation.as_ref().unwrap().id;
        assert_eq!(n.task.task.reservation, Some(rid));
        assert_eq!(live(&c, "a"), 1);
        assert_eq!(
            get(&c, both, 23, &p()).unwrap().unwrap().status,
            Status::Open
        );
        // Nothing else to claim for C: all held.
        assert!(matches!(
            w(&mut c, |tx| next(tx, &agent("c"), &o, 24)),
            Err(TaskError::AllHeld(s)) if s.len() == 1
        ));
        // Done releases the reservation.
        let fin = w(&mut c, |tx| done(tx, free, "a", false, 25, &p())).unwrap();
        assert_eq!(fin.released.as_ref().map(|r| r.id), Some(rid));
        assert_eq!(live(&c, "a"), 0);
        // Without reserve_files the same claim goes through, reserving nothing.
        let plain = w(&mut c, |tx| claim(tx, both, &agent("a"), &opts(false), 26)).unwrap();
        assert!(plain.reservation.is_none());
        assert_eq!(live(&c, "a"), 0);
    }
}
