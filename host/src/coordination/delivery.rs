//! Messages reach a busy agent at its next hook, whatever the platform: the
//! hook adds them to its answer as findings, and the adapter renders them in
//! the platform's channel for context (Claude's `additionalContext`, Gemini's
//! and Cursor's equivalents, a notice on stderr where that is all there is).
//!
//! - A prompt or a session start carries up to [`PROMPT_MESSAGES`] messages
//!   in full (bodies up to [`PROMPT_BODY`] bytes).
//! - A tool event carries up to [`TOOL_MESSAGES`], bodies cut at
//!   [`TOOL_BODY`] bytes with a pointer to `hookgate read`.
//! - A turn's end is held up once by directed messages the agent has not
//!   acknowledged, unless the platform says a stop hook is already active.
//!
//! Whatever is shown is marked delivered, so each message reaches each
//! recipient once; what did not fit stays for the next hook, and the answer
//! says how many wait.

use rusqlite::Transaction;

use super::messages::{self, Message, MessageError};
use crate::chain::Judged;
use crate::event::{Event, Kind, Outcome};
use crate::policy::Stage;

/// Messages shown in full on a prompt or session start.
pub const PROMPT_MESSAGES: usize = 5;
/// Body bytes shown per message there.
pub const PROMPT_BODY: usize = 4000;
/// Messages shown on a tool event.
pub const TOOL_MESSAGES: usize = 3;
/// Body bytes shown per message there.
pub const TOOL_BODY: usize = 600;

fn finding(rule: &str, outcome: Outcome, message: String) -> Judged {
    Judged {
        validator: "messages".into(),
        rule: rule.into(),
        stage: Stage::Enforce,
        would: outcome,
        effective: outcome,
        message,
        paths: Vec::new(),
        docs: None,
    }
}

/// Does this event deliver through the mailbox (no SQLite)? Tool events
/// and prompts; a turn's end and a session start use the store, for
/// acknowledgements and the current task.
fn through_mailbox(event: &Event) -> bool {
    matches!(event.kind, Kind::Prompt | Kind::PreTool | Kind::PostTool)
}

/// The findings that carry up to the event's share of `agent`'s messages,
/// read from the mailbox (`more` wait besides).
fn from_mailbox(event: &Event, shown_now: &[Message], more: usize) -> Delivered {
    let body = match event.kind {
        Kind::Prompt => PROMPT_BODY,
        _ => TOOL_BODY,
    };
    let mut d = Delivered::default();
    for m in shown_now {
        let f = m.framed(body);
        d.shown.push((m.id, closing(&f)));
        d.findings.push(finding("inbox", Outcome::Warn, f));
    }
    if more > 0 {
        d.findings.push(finding(
            "inbox",
            Outcome::Warn,
            format!(
                "{} more waiting: `hookgate inbox` lists them.",
                plural(more, "message")
            ),
        ));
    }
    d
}

/// How many messages an event shows.
fn share(event: &Event) -> usize {
    match event.kind {
        Kind::Prompt | Kind::SessionStart | Kind::Stop => PROMPT_MESSAGES,
        _ => TOOL_MESSAGES,
    }
}

/// Should this event look at the store for messages? `pending` is what the
/// heartbeat saw.
fn wanted(event: &Event, pending: bool) -> bool {
    match event.kind {
        Kind::Stop => !event.stop_active,
        Kind::SessionStart => true,
        Kind::Prompt | Kind::PreTool | Kind::PostTool => pending,
        _ => false,
    }
}

/// What [`deliver`] put into the answer.
#[derive(Debug, Default)]
pub struct Delivered {
    /// Findings that carry the messages.
    pub findings: Vec<Judged>,
    /// Each message shown, with the closing line of its frame: the hook
    /// checks that the platform's answer really carries it (some events of
    /// some platforms have no channel for context) and gives back what it
    /// does not, with [`messages::undeliver`].
    pub shown: Vec<(i64, String)>,
}

fn closing(framed: &str) -> String {
    framed.lines().last().unwrap_or_default().to_string()
}

/// The findings that carry `event`'s agent's messages, marking what they
/// show as delivered.
pub fn deliver(
    tx: &Transaction<'_>,
    db: &std::path::Path,
    event: &Event,
    presence: &crate::policy::PresenceSettings,
    now: i64,
) -> Result<Delivered, MessageError> {
    let agent = &event.agent.id;
    // What hooks delivered through the mailbox is not delivered again.
    super::mailbox::lock(db)?.fold(tx)?;
    let mut out = Vec::new();
    let mut shown = Vec::new();
    if event.kind == Kind::SessionStart {
        if let Ok(Some(t)) = super::tasks::current(tx, agent, now, presence) {
            let (title, _) = super::frame::clip(&super::frame::strip_controls(&t.task.title), 200);
            let mut text = format!(
                "Your current task is {}: \"{}\" (claimed {} ago). `hookgate task done {}` when it is finished; `hookgate task list` shows the board.",
                t.label,
                title,
                crate::duration::format(std::time::Duration::from_millis(
                    now.saturating_sub(t.task.claimed_ms.unwrap_or(now)).max(0) as u64
                )),
                t.label
            );
            if !t.task.files.is_empty() {
                text.push_str(&format!(" Its files: {}.", t.task.files.join(" ")));
            }
            out.push(finding("task", Outcome::Warn, text));
        }
    }
    if event.kind == Kind::Stop && !event.stop_active {
        let blockers = messages::stop_blockers(tx, agent, now)?;
        if !blockers.is_empty() {
            let mut text = format!(
                "Before you end this turn: {} addressed to you {} not acknowledged.",
                plural(blockers.len(), "message"),
                if blockers.len() == 1 { "is" } else { "are" }
            );
            for m in &blockers {
                let f = m.framed(PROMPT_BODY);
                shown.push((m.id, closing(&f)));
                text.push_str("\n\n");
                text.push_str(&f);
            }
            let labels: Vec<String> = blockers.iter().map(Message::label).collect();
            text.push_str(&format!(
                "\n\nAct on them if they concern your work, then acknowledge with `hookgate ack {}` \
                 (reply with `hookgate send --to NAME \"…\"`). This holds up your turn's end once.",
                labels.join(" ")
            ));
            out.push(finding("unacknowledged", Outcome::Deny, text));
        }
    }
    let (max, body) = match event.kind {
        Kind::Prompt | Kind::SessionStart | Kind::Stop => (PROMPT_MESSAGES, PROMPT_BODY),
        Kind::PreTool | Kind::PostTool => (TOOL_MESSAGES, TOOL_BODY),
        _ => {
            return Ok(Delivered {
                findings: out,
                shown,
            })
        }
    };
    let waiting = messages::undelivered(tx, agent, max + 1)?;
    let more = waiting.len() > max;
    let shown_now = &waiting[..waiting.len().min(max)];
    let ids: Vec<i64> = shown_now.iter().map(|m| m.id).collect();
    messages::mark_delivered(tx, agent, &ids, now)?;
    for m in shown_now {
        let f = m.framed(body);
        shown.push((m.id, closing(&f)));
        out.push(finding("inbox", Outcome::Warn, f));
    }
    if more {
        let (_, undelivered) = messages::counts(tx, agent)?;
        out.push(finding(
            "inbox",
            Outcome::Warn,
            format!(
                "{} more waiting: `hookgate inbox` lists them.",
                plural(undelivered as usize, "message")
            ),
        ));
    }
    Ok(Delivered {
        findings: out,
        shown,
    })
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The messages an answer is about to carry, settled once the answer is
/// known: a message counts as delivered only if the answer carries it (some
/// events of some platforms have no channel for context, and long answers
/// are cut).
#[derive(Default)]
pub struct Outgoing {
    /// Held from [`collect`] to [`Outgoing::settle`] for the mailbox path.
    mailbox: Option<super::mailbox::Locked>,
    /// Shown from the mailbox (recorded at settle if carried).
    from_mailbox: Vec<(i64, String)>,
    /// Shown through the store (given back at settle if not carried).
    from_store: Vec<(i64, String)>,
}

/// Find what `event`'s agent should be told now (`pending`: the heartbeat
/// saw messages waiting) and the findings that carry it. Tool events and
/// prompts read the mailbox (no SQLite); a turn's end and a session start
/// use the store, for acknowledgements and the current task. Call it after
/// every store transaction of the hook: the mailbox stays locked until
/// [`Outgoing::settle`].
pub fn collect(
    lease: &mut crate::lease_view::LeaseView,
    db: &std::path::Path,
    event: &Event,
    pending: bool,
    presence: &crate::policy::PresenceSettings,
) -> Result<(Outgoing, Vec<Judged>), String> {
    let mut out = Outgoing::default();
    if !wanted(event, pending) {
        return Ok((out, Vec::new()));
    }
    if through_mailbox(event) {
        let mut m = super::mailbox::lock(db).map_err(|e| e.to_string())?;
        let (msgs, more) = m
            .undelivered(&event.agent.id, share(event))
            .map_err(|e| e.to_string())?;
        let d = from_mailbox(event, &msgs, more);
        out.mailbox = Some(m);
        out.from_mailbox = d.shown;
        return Ok((out, d.findings));
    }
    let now = crate::store::now_ms();
    let store = lease.store().map_err(|e| e.to_string())?;
    let d = store
        .write_leases(|tx| deliver(tx, db, event, presence, now))
        .map_err(|e| e.to_string())?;
    out.from_store = d.shown;
    Ok((out, d.findings))
}

impl Outgoing {
    /// Record what `answer` carries as delivered and give back the rest;
    /// returns how many were given back.
    pub fn settle(
        mut self,
        db: &std::path::Path,
        agent: &str,
        answer: &crate::platform::Answer,
    ) -> Result<usize, String> {
        let carried = |marker: &String| {
            answer.stdout.contains(marker.as_str()) || answer.stderr.contains(marker.as_str())
        };
        let ids = |shown: &[(i64, String)], keep: bool| -> Vec<i64> {
            shown
                .iter()
                .filter(|(_, marker)| carried(marker) == keep)
                .map(|(id, _)| *id)
                .collect()
        };
        let mut back = 0;
        if let Some(mut m) = self.mailbox.take() {
            let delivered = ids(&self.from_mailbox, true);
            back += self.from_mailbox.len() - delivered.len();
            m.mark(agent, &delivered, crate::store::now_ms())
                .map_err(|e| e.to_string())?;
        }
        let lost = ids(&self.from_store, false);
        if !lost.is_empty() {
            let mut store = crate::store::Store::open(db).map_err(|e| e.to_string())?;
            store
                .write_leases(|tx| messages::undeliver(tx, agent, &lost))
                .map_err(|e| e.to_string())?;
            back += lost.len();
        }
        Ok(back)
    }
}
