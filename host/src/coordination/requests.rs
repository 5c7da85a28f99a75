//! Negotiated release. An agent that needs what another holds asks for it
//! (`request-release`): the holder hears at its next hook, and answers
//! `release` (the reservation passes to the requester in the same
//! transaction, so no third agent can slip in between) or `defer` with an
//! ETA. A pending request is also a place in the reservation queue: while it
//! waits, no later reservation overlapping what it wants is granted.
//!
//! Unanswered past its deadline, a request escalates: if the holder is no
//! longer active and the policy allows it, the reservation is released for
//! the requester; otherwise the operator is told (agents with the role
//! `operator`, `hookgate status`, `hookgate requests`). Every step is in the
//! request log.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use super::messages::{self, Importance, MessageKind, Post, HOOKGATE};
use crate::event::Agent;
use crate::paths::PathContext;
use crate::presence::State;
use crate::reservations::{
    self, grant_in, report, Context, Grant, Hold, Mode, Released, Request, ReserveError,
};
use crate::store::{now_ms, Store, StoreError};

/// How urgent a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    /// At the holder's convenience, within the deadline.
    Normal,
    /// As soon as possible.
    Urgent,
}

/// The holder's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Response {
    /// Release now; the requester gets it.
    Release,
    /// Not yet; an ETA says when.
    Defer,
}

/// Negotiation settings (policy `[coordination]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Deadline of a request made without `--wait`, ms.
    pub timeout_ms: i64,
    /// At the deadline, release for the requester when the holder is not
    /// active.
    pub auto_release_inactive: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timeout_ms: 10 * 60_000,
            auto_release_inactive: true,
        }
    }
}

/// Errors of negotiation; nothing is stored when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Reservations refused the operation.
    #[error(transparent)]
    Reserve(#[from] ReserveError),
    /// No release request by that id.
    #[error("no release request rq{0}; see `hookgate requests --all`")]
    NotFound(i64),
    /// Only the holder answers.
    #[error("rq{id} asks {holder} to release r{reservation}; only {holder} can answer it")]
    NotHolder {
        /// Request.
        id: i64,
        /// Holder.
        holder: String,
        /// Reservation.
        reservation: i64,
    },
    /// The request is over.
    #[error("rq{id} is already {state}")]
    Closed {
        /// Request.
        id: i64,
        /// Its state.
        state: String,
    },
    /// Nothing to ask for.
    #[error("{0}")]
    Nothing(String),
    /// A reason or note that can't be shown.
    #[error(transparent)]
    Text(#[from] messages::MessageError),
}

impl From<StoreError> for RequestError {
    fn from(e: StoreError) -> Self {
        RequestError::Reserve(ReserveError::Store(e))
    }
}

fn sql(e: rusqlite::Error) -> RequestError {
    super::sql_error(e).into()
}

/// A release request as stored.
#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    /// Id (`rq5`).
    pub id: i64,
    /// Made at, ms.
    pub ts_ms: i64,
    /// Requester's id.
    pub requester: String,
    /// Requester's name.
    pub requester_name: String,
    /// Holder's id.
    pub holder: String,
    /// Holder's name.
    pub holder_name: String,
    /// The reservation asked for.
    pub reservation: i64,
    /// What the requester wants to hold.
    pub want: Vec<String>,
    /// In which mode.
    pub mode: Mode,
    /// Its lease, ms.
    pub ttl_ms: i64,
    /// Urgency.
    pub urgency: Urgency,
    /// Why (the requester's text).
    pub reason: String,
    /// Escalates after, ms.
    pub deadline_ms: i64,
    /// pending, deferred, granted, escalated, expired.
    pub state: String,
    /// The holder's ETA when deferred, ms.
    pub eta_ms: Option<i64>,
    /// The holder's note.
    pub note: String,
    /// Last change, ms.
    pub updated_ms: i64,
    /// The reservation granted to the requester.
    pub granted: Option<i64>,
}

impl RequestView {
    /// `rq5`.
    pub fn label(&self) -> String {
        format!("rq{}", self.id)
    }

    /// Still waiting for the holder.
    pub fn open(&self) -> bool {
        matches!(self.state.as_str(), "pending" | "deferred")
    }
}

const COLUMNS: &str = "q.id, q.ts_ms, q.requester, COALESCE(a.name, q.requester), q.holder, COALESCE(h.name, q.holder),
    q.reservation, q.want, q.mode, q.ttl_ms, q.urgency, q.reason, q.deadline_ms, q.state, q.eta_ms, q.note,
    q.updated_ms, q.granted";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RequestView> {
    let want: String = r.get(7)?;
    let mode: String = r.get(8)?;
    let urgency: String = r.get(10)?;
    Ok(RequestView {
        id: r.get(0)?,
        ts_ms: r.get(1)?,
        requester: r.get(2)?,
        requester_name: r.get(3)?,
        holder: r.get(4)?,
        holder_name: r.get(5)?,
        reservation: r.get(6)?,
        want: serde_json::from_str(&want).unwrap_or_default(),
        mode: Mode::parse(&mode).unwrap_or(Mode::Exclusive),
        ttl_ms: r.get(9)?,
        urgency: if urgency == "urgent" {
            Urgency::Urgent
        } else {
            Urgency::Normal
        },
        reason: r.get(11)?,
        deadline_ms: r.get(12)?,
        state: r.get(13)?,
        eta_ms: r.get(14)?,
        note: r.get(15)?,
        updated_ms: r.get(16)?,
        granted: r.get(17)?,
    })
}

fn from() -> String {
    "FROM release_requests q LEFT JOIN agents a ON a.id = q.requester LEFT JOIN agents h ON h.id = q.holder"
        .to_string()
}

/// The requests `clause` (`WHERE … ORDER BY …`) selects.
fn select(
    conn: &Connection,
    clause: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<RequestView>, RequestError> {
    let mut st = conn
        .prepare_cached(&format!("SELECT {COLUMNS} {} {clause}", from()))
        .map_err(sql)?;
    let rows = st.query_map(params, row).map_err(sql)?;
    rows.collect::<Result<_, _>>().map_err(sql)
}

/// One request.
pub fn get(conn: &Connection, id: i64) -> Result<RequestView, RequestError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} {} WHERE q.id = ?1", from()),
        [id],
        row,
    )
    .optional()
    .map_err(sql)?
    .ok_or(RequestError::NotFound(id))
}

/// Requests that involve `agent` (made by it or asked of it), or every
/// request when `agent` is `None`; open ones only unless `all`.
pub fn list(
    conn: &Connection,
    agent: Option<&str>,
    all: bool,
) -> Result<Vec<RequestView>, RequestError> {
    select(
        conn,
        "WHERE (?1 IS NULL OR q.requester = ?1 OR q.holder = ?1)
               AND (?2 = 1 OR q.state IN ('pending', 'deferred', 'escalated'))
             ORDER BY q.id DESC LIMIT 200",
        params![agent, all],
    )
}

fn log(
    tx: &Transaction<'_>,
    now: i64,
    request: i64,
    actor: &str,
    action: &str,
    detail: serde_json::Value,
) -> Result<(), RequestError> {
    tx.execute(
        "INSERT INTO request_log (ts_ms, request, actor, action, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![now, request, actor, action, detail.to_string()],
    )
    .map_err(sql)?;
    Ok(())
}

/// One step of a request's history.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// When, ms.
    pub ts_ms: i64,
    /// Who acted (an agent id, or `hookgate`).
    pub actor: String,
    /// request, release, defer, grant, retarget, escalate, auto-release, expire.
    pub action: String,
    /// What changed.
    pub detail: serde_json::Value,
}

/// A request's history, oldest first.
pub fn history(conn: &Connection, id: i64) -> Result<Vec<Step>, RequestError> {
    let mut st = conn
        .prepare_cached(
            "SELECT ts_ms, actor, action, detail FROM request_log WHERE request = ?1 ORDER BY seq",
        )
        .map_err(sql)?;
    let rows = st
        .query_map([id], |r| {
            let d: String = r.get(3)?;
            Ok(Step {
                ts_ms: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                detail: serde_json::from_str(&d).unwrap_or(serde_json::Value::Null),
            })
        })
        .map_err(sql)?;
    rows.collect::<Result<_, _>>().map_err(sql)
}

/// What to ask for.
#[derive(Debug, Clone)]
pub enum Target {
    /// A reservation by id.
    Reservation(i64),
    /// Whatever conflicts with holding these (normalized) patterns.
    Patterns(Vec<String>),
}

impl Target {
    /// What an agent named: one reservation id (`r12`), or patterns
    /// relative to the directory of `ctx`.
    pub fn parse(ctx: &PathContext, target: &[String]) -> Result<Target, RequestError> {
        match target {
            [one] if one.starts_with('r') && one[1..].parse::<i64>().is_ok() => {
                Ok(Target::Reservation(one[1..].parse().unwrap_or_default()))
            }
            [] => Err(RequestError::Nothing(
                "say what: a reservation id (r12) or patterns".into(),
            )),
            pats => Ok(Target::Patterns(report::normalize_all(ctx, pats)?)),
        }
    }
}

/// A new request's parameters.
#[derive(Debug, Clone)]
pub struct Ask {
    /// What to ask for.
    pub target: Target,
    /// Mode wanted (default exclusive).
    pub mode: Mode,
    /// Lease wanted, ms.
    pub ttl_ms: i64,
    /// Urgency.
    pub urgency: Urgency,
    /// Why (shown to the holder, as untrusted text).
    pub reason: String,
    /// Escalate after, ms from now (default: the policy's timeout).
    pub wait_ms: Option<i64>,
}

fn live_hold(
    tx: &Connection,
    id: i64,
    now: i64,
    ctx: &Context,
) -> Result<Option<Hold>, RequestError> {
    Ok(reservations::list(tx, None, now, ctx)?
        .into_iter()
        .find(|h| h.id == id))
}

/// `h`, as [`reservations::mark_released`] takes it.
fn released(h: &Hold) -> Released {
    Released {
        id: h.id,
        agent: h.agent.clone(),
        patterns: h.patterns.clone(),
        expires_ms: h.expires_ms,
    }
}

fn agent_of(conn: &Connection, id: &str) -> Result<Agent, RequestError> {
    let rec = crate::presence::find(conn, id).map_err(sql)?;
    let (session, sub) = match rec.as_ref().and_then(|r| r.parent.clone()) {
        Some(parent) => {
            let sub = id.strip_prefix(&format!("{parent}:")).map(str::to_string);
            (parent, sub)
        }
        None => (id.to_string(), None),
    };
    let mut a = Agent::from_session(&session, sub.as_deref(), Some(id));
    if let Some(r) = rec {
        a.name = r.name;
    }
    Ok(a)
}

/// Ask the holders of what `ask` targets to release it to `requester`: one
/// request per reservation, each holder told by a directed message.
pub fn request(
    tx: &Transaction<'_>,
    requester: &Agent,
    ask: &Ask,
    settings: &Settings,
    ctx: &Context,
    now: i64,
) -> Result<Vec<RequestView>, RequestError> {
    let reason = reservations::check_reason(&ask.reason)?;
    let (holds, want): (Vec<Hold>, Option<Vec<String>>) = match &ask.target {
        Target::Reservation(id) => {
            let h = live_hold(tx, *id, now, ctx)?.ok_or_else(|| {
                RequestError::Nothing(format!(
                    "no live reservation r{id} (released or expired?): reserve what you need with `hookgate reserve`"
                ))
            })?;
            if h.agent == requester.id {
                return Err(RequestError::Nothing(format!(
                    "r{id} is yours; release it with `hookgate release r{id}`"
                )));
            }
            (vec![h], None)
        }
        Target::Patterns(p) => {
            let set = reservations::hold_set(p, false, ctx.fold)?;
            let found: Vec<Hold> =
                reservations::conflicts(tx, &set, ask.mode, &requester.id, now, ctx)?
                    .into_iter()
                    .map(|c| c.hold)
                    .collect();
            if found.is_empty() {
                return Err(RequestError::Nothing(format!(
                    "no other agent's reservation conflicts with {} as {}: reserve it with `hookgate reserve {}`",
                    p.join(" "),
                    ask.mode.as_str(),
                    p.join(" ")
                )));
            }
            (found, Some(p.clone()))
        }
    };
    let deadline = now + ask.wait_ms.unwrap_or(settings.timeout_ms).max(1000);
    let mut out = Vec::new();
    for h in holds {
        let want = want.clone().unwrap_or_else(|| h.patterns.clone());
        if let Some(existing) = list(tx, Some(&requester.id), false)?
            .into_iter()
            .find(|q| q.requester == requester.id && q.reservation == h.id && q.open())
        {
            out.push(existing);
            continue;
        }
        tx.execute(
            "INSERT INTO release_requests (ts_ms, requester, holder, reservation, want, mode, ttl_ms, urgency, reason,
                 deadline_ms, state, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending', ?1)",
            params![
                now,
                requester.id,
                h.agent,
                h.id,
                serde_json::to_string(&want).unwrap_or_default(),
                ask.mode.as_str(),
                ask.ttl_ms,
                if ask.urgency == Urgency::Urgent { "urgent" } else { "normal" },
                reason,
                deadline
            ],
        )
        .map_err(sql)?;
        let id = tx.last_insert_rowid();
        log(
            tx,
            now,
            id,
            &requester.id,
            "request",
            serde_json::json!({"reservation": h.id, "holder": h.agent, "want": want, "mode": ask.mode,
                               "urgency": ask.urgency, "reason": reason, "deadline_ms": deadline}),
        )?;
        let because = if reason.is_empty() {
            String::new()
        } else {
            format!("\nReason given: {reason}")
        };
        let body = format!(
            "{} asks you to release r{} ({}){}; it escalates in {}.{because}",
            requester.name,
            h.id,
            h.patterns.join(" "),
            if ask.urgency == Urgency::Urgent {
                ", urgently"
            } else {
                ""
            },
            crate::duration::format(std::time::Duration::from_millis((deadline - now) as u64)),
        );
        let importance = if ask.urgency == Urgency::Urgent {
            Importance::Urgent
        } else {
            Importance::High
        };
        let voice = Voice::Ask {
            from: &requester.id,
            importance,
        };
        tell(tx, id, &h.agent, voice, &body, &h.patterns, now)?;
        out.push(get(tx, id)?);
    }
    Ok(out)
}

/// Who speaks in a request's thread, and how.
#[derive(Debug, Clone, Copy)]
enum Voice<'a> {
    /// Asks the holder to answer (release or defer): an acknowledgement is
    /// required.
    Ask {
        /// The requester, or hookgate for a request moved to a new holder.
        from: &'a str,
        /// High, or urgent.
        importance: Importance,
    },
    /// The holder's answer to the requester.
    Answer {
        /// The holder.
        from: &'a str,
    },
    /// hookgate's notice of what happened.
    Notice,
}

/// Tell `to` about request `request`, in its thread (`rq5`).
fn tell(
    tx: &Transaction<'_>,
    request: i64,
    to: &str,
    voice: Voice<'_>,
    body: &str,
    paths: &[String],
    now: i64,
) -> Result<(), RequestError> {
    let (sender, kind, importance, ack_required) = match voice {
        Voice::Ask { from, importance } => (from, MessageKind::Request, importance, true),
        Voice::Answer { from } => (from, MessageKind::Request, Importance::Normal, false),
        Voice::Notice => (HOOKGATE, MessageKind::Notice, Importance::High, false),
    };
    let post = Post {
        sender,
        audience: to,
        kind,
        thread: Some(&format!("rq{request}")),
        importance,
        ack_required,
        body,
        paths,
        request: Some(request),
    };
    messages::post(tx, to, &post, now)?;
    Ok(())
}

/// hookgate's notice to `to` about request `request`.
fn notify(
    tx: &Transaction<'_>,
    to: &str,
    request: i64,
    body: &str,
    now: i64,
) -> Result<(), RequestError> {
    tell(tx, request, to, Voice::Notice, body, &[], now)
}

fn set_state(
    tx: &Transaction<'_>,
    id: i64,
    state: &str,
    granted: Option<i64>,
    now: i64,
) -> Result<(), RequestError> {
    tx.execute(
        "UPDATE release_requests SET state = ?2, granted = COALESCE(?3, granted), updated_ms = ?4 WHERE id = ?1",
        params![id, state, granted, now],
    )
    .map_err(sql)?;
    Ok(())
}

/// Serve the open requests whose reservation is no longer live, first come
/// first served: grant what can be granted; point the rest at whoever now
/// holds what they want.
fn serve(tx: &Transaction<'_>, ctx: &Context, now: i64) -> Result<Vec<i64>, RequestError> {
    let open = select(
        tx,
        "WHERE q.state IN ('pending', 'deferred') ORDER BY q.ts_ms, q.id",
        [],
    )?;
    let mut changed = Vec::new();
    for q in open {
        if live_hold(tx, q.reservation, now, ctx)?.is_some() {
            continue;
        }
        let requester = agent_of(tx, &q.requester)?;
        let req = Request {
            patterns: q.want.clone(),
            mode: q.mode,
            ttl_ms: q.ttl_ms.clamp(1000, ctx.settings.max_ttl_ms),
            reason: format!("granted by release request rq{}", q.id),
            auto: false,
        };
        match grant_in(tx, &requester, &req, ctx, now, q.ts_ms)? {
            Grant::Granted { id, .. } => {
                set_state(tx, q.id, "granted", Some(id), now)?;
                log(
                    tx,
                    now,
                    q.id,
                    HOOKGATE,
                    "grant",
                    serde_json::json!({"reservation": id}),
                )?;
                notify(
                    tx,
                    &q.requester,
                    q.id,
                    &format!(
                        "rq{}: {} released r{}; you now hold r{id} ({}) as {}.",
                        q.id,
                        q.holder_name,
                        q.reservation,
                        q.want.join(" "),
                        q.mode.as_str()
                    ),
                    now,
                )?;
                changed.push(q.id);
            }
            Grant::Refused { conflicts } => {
                // Someone else holds (part of) it now: ask them instead.
                if let Some(c) = conflicts.iter().find(|c| !c.queued) {
                    tx.execute(
                        "UPDATE release_requests SET holder = ?2, reservation = ?3, updated_ms = ?4 WHERE id = ?1",
                        params![q.id, c.hold.agent, c.hold.id, now],
                    )
                    .map_err(sql)?;
                    log(
                        tx,
                        now,
                        q.id,
                        HOOKGATE,
                        "retarget",
                        serde_json::json!({"reservation": c.hold.id, "holder": c.hold.agent}),
                    )?;
                    let body = format!(
                        "{} is waiting for what you now hold as r{} ({}): its request rq{} moved to you. \
                         Answer with `hookgate respond rq{} release` or `hookgate respond rq{} defer --eta 10m`.",
                        q.requester_name,
                        c.hold.id,
                        c.hold.patterns.join(" "),
                        q.id,
                        q.id,
                        q.id
                    );
                    let voice = Voice::Ask {
                        from: HOOKGATE,
                        importance: Importance::High,
                    };
                    tell(tx, q.id, &c.hold.agent, voice, &body, &c.hold.patterns, now)?;
                    changed.push(q.id);
                }
            }
        }
    }
    Ok(changed)
}

/// The holder's answer to a request.
#[derive(Debug, Clone, Copy)]
pub struct Reply<'a> {
    /// Release or defer.
    pub response: Response,
    /// When it expects to release (defer), ms from now; default 10 min.
    pub eta_ms: Option<i64>,
    /// A note for the requester.
    pub note: &'a str,
}

/// The holder answers request `id`.
pub fn respond(
    tx: &Transaction<'_>,
    holder: &Agent,
    id: i64,
    reply: &Reply<'_>,
    ctx: &Context,
    now: i64,
) -> Result<RequestView, RequestError> {
    let (answer, eta_ms) = (reply.response, reply.eta_ms);
    let note = reservations::check_reason(reply.note)?;
    let q = get(tx, id)?;
    if q.holder != holder.id {
        return Err(RequestError::NotHolder {
            id,
            holder: q.holder_name,
            reservation: q.reservation,
        });
    }
    if !q.open() {
        return Err(RequestError::Closed { id, state: q.state });
    }
    // The request message is answered: acknowledge it for the holder.
    tx.execute(
        "UPDATE recipients SET acked_ms = COALESCE(acked_ms, ?3), read_ms = COALESCE(read_ms, ?3),
             delivered_ms = COALESCE(delivered_ms, ?3)
         WHERE agent = ?1 AND message IN (SELECT id FROM messages WHERE request = ?2)",
        params![holder.id, id, now],
    )
    .map_err(sql)?;
    match answer {
        Response::Release => {
            if let Some(h) = live_hold(tx, q.reservation, now, ctx)? {
                reservations::mark_released(
                    tx,
                    &released(&h),
                    &holder.id,
                    "release",
                    &format!("released for rq{id}"),
                    now,
                )?;
            }
            log(
                tx,
                now,
                id,
                &holder.id,
                "release",
                serde_json::json!({"note": note}),
            )?;
            serve(tx, ctx, now)?;
        }
        Response::Defer => {
            let eta = eta_ms.unwrap_or(10 * 60_000).max(0);
            tx.execute(
                "UPDATE release_requests SET state = 'deferred', eta_ms = ?2, note = ?3, updated_ms = ?4,
                     deadline_ms = MAX(deadline_ms, ?2)
                 WHERE id = ?1",
                params![id, now + eta, note, now],
            )
            .map_err(sql)?;
            log(
                tx,
                now,
                id,
                &holder.id,
                "defer",
                serde_json::json!({"eta_ms": now + eta, "note": note}),
            )?;
            let body = format!(
                "{} defers rq{id} (r{}): expect it in {}.{}",
                holder.name,
                q.reservation,
                crate::duration::format(std::time::Duration::from_millis(eta as u64)),
                if note.is_empty() {
                    String::new()
                } else {
                    format!(" Note: {note}")
                }
            );
            let voice = Voice::Answer { from: &holder.id };
            tell(tx, id, &q.requester, voice, &body, &q.want, now)?;
        }
    }
    get(tx, id)
}

/// Move requests along: serve those whose reservation ended, and escalate
/// those past their deadline. Returns the ids that changed.
pub fn sweep(
    tx: &Transaction<'_>,
    settings: &Settings,
    ctx: &Context,
    now: i64,
) -> Result<Vec<i64>, RequestError> {
    let mut changed = serve(tx, ctx, now)?;
    let due = select(
        tx,
        "WHERE q.state IN ('pending', 'deferred') AND q.deadline_ms <= ?1
                 ORDER BY q.ts_ms, q.id",
        [now],
    )?;
    for q in due {
        let Some(h) = live_hold(tx, q.reservation, now, ctx)? else {
            continue;
        };
        if settings.auto_release_inactive && h.holder_state != State::Active {
            reservations::mark_released(
                tx,
                &released(&h),
                HOOKGATE,
                "force-release",
                &format!(
                    "rq{} unanswered and the holder {}",
                    q.id,
                    h.holder_state.as_str()
                ),
                now,
            )?;
            log(
                tx,
                now,
                q.id,
                HOOKGATE,
                "auto-release",
                serde_json::json!({"reservation": h.id, "holder_state": h.holder_state}),
            )?;
            notify(
                tx,
                &h.agent,
                q.id,
                &format!(
                    "Your reservation r{} ({}) was released for {} (rq{}): the request went unanswered while you were {}. \
                     Reserve again before writing there.",
                    h.id,
                    h.patterns.join(" "),
                    q.requester_name,
                    q.id,
                    h.holder_state.as_str()
                ),
                now,
            )?;
            changed.extend(serve(tx, ctx, now)?);
        } else {
            set_state(tx, q.id, "escalated", None, now)?;
            log(
                tx,
                now,
                q.id,
                HOOKGATE,
                "escalate",
                serde_json::json!({"holder_state": h.holder_state}),
            )?;
            let text = format!(
                "rq{}: {} asked {} to release r{} ({}) and got no release by the deadline; the holder is {}. \
                 An operator decides: `hookgate force-release r{} --reason \"…\"`, or the agents agree.",
                q.id,
                q.requester_name,
                q.holder_name,
                h.id,
                h.patterns.join(" "),
                h.holder_state.as_str(),
                h.id
            );
            notify(tx, &q.requester, q.id, &text, now)?;
            let operators: Vec<String> = {
                let mut st = tx
                    .prepare_cached("SELECT id FROM agents WHERE role = 'operator' COLLATE NOCASE")
                    .map_err(sql)?;
                let rows = st.query_map([], |r| r.get(0)).map_err(sql)?;
                rows.collect::<Result<_, _>>().map_err(sql)?
            };
            for op in operators.iter().filter(|o| **o != q.requester) {
                notify(tx, op, q.id, &text, now)?;
            }
            changed.push(q.id);
        }
    }
    Ok(changed)
}

/// Wait up to `wait` for the requests `ids` to settle (no longer pending
/// or deferred), polling the store at `store_path` with a growing pause;
/// each poll also moves requests along ([`sweep`]: a lapsed reservation is
/// served, a deadline escalates). Returns the requests as they are at the
/// end, and whether they all settled.
pub fn wait_settled(
    store_path: &Path,
    ids: &[i64],
    settings: &Settings,
    ctx: &Context,
    wait: Duration,
) -> Result<(Vec<RequestView>, bool), RequestError> {
    let started = Instant::now();
    let mut poll = Duration::from_millis(20);
    loop {
        let mut store = Store::open(store_path)?;
        let now = now_ms();
        let views = store.write_leases(|tx| -> Result<Vec<RequestView>, RequestError> {
            sweep(tx, settings, ctx, now)?;
            ids.iter().map(|id| get(tx, *id)).collect()
        })?;
        drop(store);
        let settled = views.iter().all(|q| !q.open());
        // The deadline was set from the request's own clock reading, a little
        // before `started`: past the wait, poll on until the sweep has seen
        // every open request's deadline pass (bounded by one more second).
        let due_seen = views.iter().all(|q| !q.open() || q.deadline_ms <= now);
        let elapsed = started.elapsed();
        if settled || (elapsed >= wait && due_seen) || elapsed >= wait + Duration::from_secs(1) {
            return Ok((views, settled));
        }
        let left = wait
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(5));
        std::thread::sleep(poll.min(left));
        poll = (poll * 2).min(Duration::from_millis(200));
    }
}

/// Every request granted (what `request-release` waits for).
pub fn all_granted(views: &[RequestView]) -> bool {
    views.iter().all(|q| q.state == "granted")
}

/// Move requests along ([`sweep`]), then the requests [`list`] selects,
/// each with its [`history`].
pub fn list_with_history(
    tx: &Transaction<'_>,
    settings: &Settings,
    ctx: &Context,
    agent: Option<&str>,
    all: bool,
    now: i64,
) -> Result<Vec<(RequestView, Vec<Step>)>, RequestError> {
    sweep(tx, settings, ctx, now)?;
    list(tx, agent, all)?
        .into_iter()
        .map(|q| {
            let h = history(tx, q.id)?;
            Ok((q, h))
        })
        .collect()
}

/// `requests --json`: each request with its history.
pub fn history_json(items: &[(RequestView, Vec<Step>)]) -> serde_json::Value {
    serde_json::Value::Array(
        items
            .iter()
            .map(|(q, h)| serde_json::json!({"request": q, "history": h}))
            .collect(),
    )
}

/// Parse `rq5` or `5`.
pub fn parse_id(s: &str) -> Option<i64> {
    s.trim()
        .trim_start_matches("rq")
        .parse()
        .ok()
        .filter(|&n| n > 0)
}
