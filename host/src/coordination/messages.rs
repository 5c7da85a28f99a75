//! Messages between agents (and from hookgate to agents): addressed to an
//! agent id or name, a role, or `all`; delivery recorded per recipient, so
//! each message reaches each recipient once; read and acknowledged per
//! recipient too.
//!
//! Recipients are resolved when the message is sent: `all` and `role:R`
//! mean the agents that are not gone at that moment (an agent that starts
//! later does not receive earlier broadcasts).

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use crate::policy::PresenceSettings;
use crate::presence::State;
use crate::store::StoreError;

use super::frame::control_code;

/// Longest message body stored, in bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// Longest name (recipient, thread, role), in bytes.
pub const MAX_NAME: usize = 200;
/// The sender of hookgate's own notices.
pub const HOOKGATE: &str = "hookgate";

/// How much a message matters to its recipients.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Importance {
    /// Read when convenient.
    Low,
    /// The default.
    Normal,
    /// Read soon.
    High,
    /// Read now.
    Urgent,
}

impl Importance {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Importance::Low => "low",
            Importance::Normal => "normal",
            Importance::High => "high",
            Importance::Urgent => "urgent",
        }
    }

    /// Parse a lowercase name.
    pub fn parse(s: &str) -> Option<Importance> {
        Some(match s {
            "low" => Importance::Low,
            "normal" => Importance::Normal,
            "high" => Importance::High,
            "urgent" => Importance::Urgent,
            _ => return None,
        })
    }
}

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    /// Written by an agent (`hookgate send`).
    Message,
    /// From hookgate: a force-release, an escalation, a grant.
    Notice,
    /// A path the recipient relies on was written, released or committed.
    Change,
    /// A request to release a reservation, or its answer.
    Request,
}

impl MessageKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Message => "message",
            MessageKind::Notice => "notice",
            MessageKind::Change => "change",
            MessageKind::Request => "request",
        }
    }

    fn parse(s: &str) -> MessageKind {
        match s {
            "notice" => MessageKind::Notice,
            "change" => MessageKind::Change,
            "request" => MessageKind::Request,
            _ => MessageKind::Message,
        }
    }
}

/// Why a message was not sent, read or acknowledged. Nothing is stored when
/// any of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// The body is empty.
    #[error("the message is empty")]
    Empty,
    /// The body is too long.
    #[error(
        "the message is {len} bytes; the limit is {max}. Put long text in a file and send its path"
    )]
    TooLarge {
        /// Bytes given.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A NUL byte, an escape sequence or another control character.
    #[error("{what} contains a control character ({code}); send plain text (newlines and tabs are fine in a body)")]
    Control {
        /// `the message`, `the recipient` …
        what: &'static str,
        /// `U+001B`.
        code: String,
    },
    /// A name that is too long.
    #[error("{what} is longer than {MAX_NAME} bytes")]
    NameTooLong {
        /// `the thread` …
        what: &'static str,
    },
    /// No agent by that id or name.
    #[error("no agent `{0}`; see `hookgate agents --all` for ids and names, or address `role:NAME` or `all`")]
    UnknownRecipient(String),
    /// A role or `all` that no live agent answers to.
    #[error("no live agent answers to `{0}` (other than you)")]
    NoRecipients(String),
    /// No recipient at all.
    #[error("say who the message is for: --to ID|NAME|role:R|all")]
    NoAddress,
    /// No such message for this agent.
    #[error("no message m{0} in your inbox")]
    NotFound(i64),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn sql(e: rusqlite::Error) -> MessageError {
    super::sql_error(e).into()
}

/// Check a body: not empty, at most [`MAX_BODY`] bytes, no control
/// characters but newline, tab and carriage return.
pub fn check_body(body: &str) -> Result<(), MessageError> {
    if body.len() > MAX_BODY {
        return Err(MessageError::TooLarge {
            len: body.len(),
            max: MAX_BODY,
        });
    }
    if body.trim().is_empty() {
        return Err(MessageError::Empty);
    }
    if let Some(code) = control_code(body, &['\n', '\t', '\r']) {
        return Err(MessageError::Control {
            what: "the message",
            code,
        });
    }
    Ok(())
}

/// Check a name (recipient, thread, role): one line, no control characters.
pub fn check_name(what: &'static str, s: &str) -> Result<(), MessageError> {
    if s.len() > MAX_NAME {
        return Err(MessageError::NameTooLong { what });
    }
    if let Some(code) = control_code(s, &[]) {
        return Err(MessageError::Control { what, code });
    }
    Ok(())
}

/// A message to send.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// Addresses: agent ids or names, `role:NAME`, `all`.
    pub to: Vec<String>,
    /// The text.
    pub body: String,
    /// Thread name, to group a conversation.
    pub thread: Option<String>,
    /// Importance (default normal).
    pub importance: Option<Importance>,
    /// The recipient is asked to acknowledge it (`hookgate ack`).
    pub ack_required: bool,
}

/// One recipient of a sent message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recipient {
    /// Agent id.
    pub id: String,
    /// Readable name.
    pub name: String,
    /// Addressed by id or name (not through a role or `all`).
    pub directed: bool,
}

/// What `send` did.
#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    /// Message id (`m12`).
    pub id: i64,
    /// Who it goes to.
    pub recipients: Vec<Recipient>,
}

/// Who `to` addresses, excluding `sender`; directed ones first.
fn resolve(
    tx: &Transaction<'_>,
    sender: &str,
    to: &[String],
    presence: &PresenceSettings,
    now: i64,
) -> Result<Vec<Recipient>, MessageError> {
    let mut out: Vec<Recipient> = Vec::new();
    let mut add = |r: Recipient| {
        if let Some(e) = out.iter_mut().find(|e| e.id == r.id) {
            e.directed |= r.directed;
        } else {
            out.push(r);
        }
    };
    for raw in to {
        for who in raw.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            check_name("the recipient", who)?;
            let live = |role: Option<&str>| -> Result<Vec<(String, String)>, MessageError> {
                let mut st = tx
                    .prepare_cached(
                        "SELECT id, name, last_seen_ms FROM agents
                         WHERE id != ?1 AND (?2 IS NULL OR role = ?2 COLLATE NOCASE)",
                    )
                    .map_err(sql)?;
                let rows = st
                    .query_map(params![sender, role], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                        ))
                    })
                    .map_err(sql)?;
                let mut v = Vec::new();
                for row in rows {
                    let (id, name, seen) = row.map_err(sql)?;
                    if State::of(seen, now, presence) != State::Gone {
                        v.push((id, name));
                    }
                }
                Ok(v)
            };
            let found = if who.eq_ignore_ascii_case("all") {
                live(None)?
            } else if let Some(role) = who.strip_prefix("role:") {
                live(Some(role.trim()))?
            } else {
                let one: Option<(String, String)> = tx
                    .query_row(
                        "SELECT id, name FROM agents WHERE id = ?1 OR name = ?1 COLLATE NOCASE
                         ORDER BY id = ?1 DESC LIMIT 1",
                        [who],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(sql)?;
                match one {
                    Some((id, name)) => {
                        add(Recipient {
                            id,
                            name,
                            directed: true,
                        });
                        continue;
                    }
                    None => return Err(MessageError::UnknownRecipient(who.to_string())),
                }
            };
            if found.is_empty() {
                return Err(MessageError::NoRecipients(who.to_string()));
            }
            for (id, name) in found {
                add(Recipient {
                    id,
                    name,
                    directed: false,
                });
            }
        }
    }
    if out.is_empty() && to.iter().all(|t| t.trim().is_empty()) {
        return Err(MessageError::NoAddress);
    }
    out.sort_by_key(|r| !r.directed);
    Ok(out)
}

/// Send `draft` from `sender`: check it, resolve its recipients and store it
/// with one delivery row per recipient, all in `tx`.
pub fn send(
    tx: &Transaction<'_>,
    sender: &str,
    draft: &Draft,
    presence: &PresenceSettings,
    now: i64,
) -> Result<Sent, MessageError> {
    check_body(&draft.body)?;
    if let Some(t) = &draft.thread {
        check_name("the thread", t)?;
    }
    let recipients = resolve(tx, sender, &draft.to, presence, now)?;
    if recipients.is_empty() {
        return Err(MessageError::NoRecipients(draft.to.join(",")));
    }
    let id = insert(
        tx,
        &Post {
            sender,
            audience: &draft.to.join(","),
            kind: MessageKind::Message,
            thread: draft.thread.as_deref(),
            importance: draft.importance.unwrap_or(Importance::Normal),
            ack_required: draft.ack_required,
            body: &draft.body,
            paths: &[],
            request: None,
        },
        now,
    )?;
    for r in &recipients {
        deliver_to(tx, id, &r.id, r.directed)?;
    }
    Ok(Sent { id, recipients })
}

/// A message hookgate composes (a notice, a change, a request).
#[derive(Debug, Clone)]
pub struct Post<'a> {
    /// Sender: an agent id, or [`HOOKGATE`].
    pub sender: &'a str,
    /// How it was addressed.
    pub audience: &'a str,
    /// Kind.
    pub kind: MessageKind,
    /// Thread.
    pub thread: Option<&'a str>,
    /// Importance.
    pub importance: Importance,
    /// Acknowledgement asked for.
    pub ack_required: bool,
    /// Text.
    pub body: &'a str,
    /// Paths or patterns it is about.
    pub paths: &'a [String],
    /// Release request it belongs to.
    pub request: Option<i64>,
}

fn insert(tx: &Transaction<'_>, p: &Post<'_>, now: i64) -> Result<i64, MessageError> {
    let (body, _) = super::frame::clip(p.body, MAX_BODY);
    tx.execute(
        "INSERT INTO messages (ts_ms, sender, audience, kind, thread, importance, ack_required, body, paths, request)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            now,
            p.sender,
            p.audience,
            p.kind.as_str(),
            p.thread,
            p.importance.as_str(),
            p.ack_required,
            body,
            serde_json::to_string(p.paths).unwrap_or_else(|_| "[]".into()),
            p.request,
        ],
    )
    .map_err(sql)?;
    Ok(tx.last_insert_rowid())
}

fn deliver_to(
    tx: &Transaction<'_>,
    id: i64,
    agent: &str,
    directed: bool,
) -> Result<(), MessageError> {
    tx.execute(
        "INSERT OR IGNORE INTO recipients (agent, message, directed) VALUES (?1, ?2, ?3)",
        params![agent, id, directed],
    )
    .map_err(sql)?;
    Ok(())
}

/// Store a message hookgate composed for one agent (directed to it).
pub fn post(tx: &Transaction<'_>, to: &str, p: &Post<'_>, now: i64) -> Result<i64, MessageError> {
    let id = insert(tx, p, now)?;
    deliver_to(tx, id, to, true)?;
    Ok(id)
}

/// A message as one recipient sees it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Message {
    /// Id (`m12`).
    pub id: i64,
    /// Sent at, ms since the epoch.
    pub ts_ms: i64,
    /// Sender's id ([`HOOKGATE`] for hookgate's own).
    pub sender: String,
    /// Sender's readable name.
    pub sender_name: String,
    /// How it was addressed.
    pub audience: String,
    /// Kind.
    pub kind: MessageKind,
    /// Thread.
    pub thread: Option<String>,
    /// Importance.
    pub importance: Importance,
    /// Acknowledgement asked for.
    pub ack_required: bool,
    /// Text (raw: frame it before it reaches an agent).
    pub body: String,
    /// Paths or patterns it is about.
    pub paths: Vec<String>,
    /// Release request it belongs to.
    pub request: Option<i64>,
    /// Addressed to this recipient by id or name.
    pub directed: bool,
    /// Delivered (pushed into the recipient's context or listed), ms.
    pub delivered_ms: Option<i64>,
    /// Read in full, ms.
    pub read_ms: Option<i64>,
    /// Acknowledged, ms.
    pub acked_ms: Option<i64>,
}

impl Message {
    /// `m12`.
    pub fn label(&self) -> String {
        format!("m{}", self.id)
    }

    /// The first line of the body, stripped and cut to `max` bytes.
    pub fn subject(&self, max: usize) -> String {
        let first = self
            .body
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let clean = super::frame::strip_controls(first.trim());
        let (s, cut) = super::frame::clip(&clean, max);
        if cut {
            format!("{s}…")
        } else {
            s
        }
    }

    /// The header hookgate writes above the frame.
    pub fn header(&self) -> String {
        let mut h = format!(
            "[{} {} from {}",
            self.kind.as_str(),
            self.label(),
            super::frame::strip_controls(&self.sender_name)
        );
        if self.sender != HOOKGATE && self.sender != self.sender_name {
            h.push_str(&format!(
                " ({})",
                super::frame::strip_controls(&self.sender)
            ));
        }
        if self.directed {
            h.push_str(" to you");
        } else {
            h.push_str(&format!(
                " to {}",
                super::frame::strip_controls(&self.audience)
            ));
        }
        if let Some(t) = &self.thread {
            h.push_str(&format!(" · thread {}", super::frame::strip_controls(t)));
        }
        if self.importance != Importance::Normal {
            h.push_str(&format!(" · {}", self.importance.as_str()));
        }
        match (self.kind, self.request) {
            // A release request is answered, not merely acknowledged.
            (MessageKind::Request, Some(rq)) if self.ack_required && self.acked_ms.is_none() => {
                h.push_str(&format!(
                    " · answer with `hookgate respond rq{rq} release` (it passes to the requester at once) \
                     or `hookgate respond rq{rq} defer --eta 10m --note \"…\"`; unanswered, it escalates"
                ));
            }
            _ if self.ack_required && self.acked_ms.is_none() => {
                h.push_str(&format!(
                    " · acknowledge with `hookgate ack {}`",
                    self.label()
                ));
            }
            _ => {}
        }
        h.push(']');
        h
    }

    /// The message framed as untrusted data, body cut at `max_body` bytes.
    pub fn framed(&self, max_body: usize) -> String {
        let intro = if self.sender == HOOKGATE {
            super::frame::NOTICE_INTRO
        } else {
            super::frame::INTRO
        };
        super::frame::frame_with(
            &self.header(),
            intro,
            &self.body,
            max_body,
            &format!("`hookgate read {}`", self.label()),
        )
    }
}

const MESSAGE_COLUMNS: &str = "m.id, m.ts_ms, m.sender, COALESCE(a.name, m.sender), m.audience, m.kind, m.thread,
     m.importance, m.ack_required, m.body, m.paths, m.request, r.directed, r.delivered_ms, r.read_ms, r.acked_ms";

fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    message_row_at(r, 0)
}

/// A message from the row's columns starting at `at`.
fn message_row_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Message> {
    let paths: String = r.get(at + 10)?;
    let kind: String = r.get(at + 5)?;
    let imp: String = r.get(at + 7)?;
    Ok(Message {
        id: r.get(at)?,
        ts_ms: r.get(at + 1)?,
        sender: r.get(at + 2)?,
        sender_name: r.get(at + 3)?,
        audience: r.get(at + 4)?,
        kind: MessageKind::parse(&kind),
        thread: r.get(at + 6)?,
        importance: Importance::parse(&imp).unwrap_or(Importance::Normal),
        ack_required: r.get(at + 8)?,
        body: r.get(at + 9)?,
        paths: serde_json::from_str(&paths).unwrap_or_default(),
        request: r.get(at + 11)?,
        directed: r.get(at + 12)?,
        delivered_ms: r.get(at + 13)?,
        read_ms: r.get(at + 14)?,
        acked_ms: r.get(at + 15)?,
    })
}

/// Which messages `inbox` lists.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Not yet read in full.
    pub unread: bool,
    /// Addressed to this agent by id or name.
    pub directed: bool,
    /// Only this thread.
    pub thread: Option<String>,
    /// Not acknowledged, where acknowledgement was asked.
    pub unacked: bool,
    /// Only messages about these pattern sets (the agent's reservations):
    /// their paths overlap one of them. Empty: no such filter.
    pub about: Vec<hookgate_glob::PatternSet>,
    /// Most messages returned.
    pub limit: usize,
    /// Messages skipped (paging).
    pub offset: usize,
}

/// `agent`'s messages, most important and newest first.
pub fn inbox(conn: &Connection, agent: &str, f: &Filter) -> Result<Vec<Message>, MessageError> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM recipients r JOIN messages m ON m.id = r.message
             LEFT JOIN agents a ON a.id = m.sender
             WHERE r.agent = ?1 AND (?2 = 0 OR r.read_ms IS NULL) AND (?3 = 0 OR r.directed = 1)
               AND (?4 IS NULL OR m.thread = ?4) AND (?5 = 0 OR (m.ack_required = 1 AND r.acked_ms IS NULL))
             ORDER BY (r.read_ms IS NULL) DESC, CASE m.importance WHEN 'urgent' THEN 3 WHEN 'high' THEN 2
                      WHEN 'normal' THEN 1 ELSE 0 END DESC, m.id DESC
             LIMIT ?6 OFFSET ?7"
        ))
        .map_err(sql)?;
    let about = !f.about.is_empty();
    let (limit, offset) = if about {
        (10_000, 0)
    } else {
        (f.limit.max(1) as i64, f.offset as i64)
    };
    let rows = st
        .query_map(
            params![agent, f.unread, f.directed, f.thread, f.unacked, limit, offset],
            message_row,
        )
        .map_err(sql)?;
    let all: Vec<Message> = rows.collect::<Result<_, _>>().map_err(sql)?;
    if !about {
        return Ok(all);
    }
    Ok(all
        .into_iter()
        .filter(|m| {
            m.paths.iter().any(|p| {
                let Ok(set) = hookgate_glob::PatternSet::new(std::slice::from_ref(p), false) else {
                    return false;
                };
                f.about
                    .iter()
                    .any(|mine| matches!(hookgate_glob::overlap(&set, mine), Ok(Some(_))))
            })
        })
        .skip(f.offset)
        .take(f.limit.max(1))
        .collect())
}

/// Counts for `agent`: (unread, undelivered).
pub fn counts(conn: &Connection, agent: &str) -> Result<(i64, i64), MessageError> {
    conn.query_row(
        "SELECT COALESCE(SUM(read_ms IS NULL), 0), COALESCE(SUM(delivered_ms IS NULL), 0) FROM recipients WHERE agent = ?1",
        [agent],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .map_err(sql)
}

/// Mark messages delivered to `agent`.
pub fn mark_delivered(
    tx: &Transaction<'_>,
    agent: &str,
    ids: &[i64],
    now: i64,
) -> Result<(), MessageError> {
    let mut st = tx
        .prepare_cached(
            "UPDATE recipients SET delivered_ms = ?3 WHERE agent = ?1 AND message = ?2 AND delivered_ms IS NULL",
        )
        .map_err(sql)?;
    for id in ids {
        st.execute(params![agent, id, now]).map_err(sql)?;
    }
    Ok(())
}

/// Every recipient's undelivered messages, for the mailbox file.
pub fn all_undelivered(conn: &Connection) -> Result<Vec<(String, Message)>, MessageError> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT r.agent, {MESSAGE_COLUMNS} FROM recipients r JOIN messages m ON m.id = r.message
             LEFT JOIN agents a ON a.id = m.sender
             WHERE r.delivered_ms IS NULL ORDER BY m.id LIMIT 10000"
        ))
        .map_err(sql)?;
    let rows = st
        .query_map([], |r| {
            let agent: String = r.get(0)?;
            // The message columns follow the agent.
            Ok((agent, message_row_at(r, 1)?))
        })
        .map_err(sql)?;
    rows.collect::<Result<_, _>>().map_err(sql)
}

/// Give messages back to `agent` as undelivered (and not yet shown at a
/// turn's end): the platform's answer could not carry them.
pub fn undeliver(tx: &Transaction<'_>, agent: &str, ids: &[i64]) -> Result<(), MessageError> {
    let mut st = tx
        .prepare_cached(
            "UPDATE recipients SET delivered_ms = NULL, stop_ms = NULL
             WHERE agent = ?1 AND message = ?2 AND read_ms IS NULL",
        )
        .map_err(sql)?;
    for id in ids {
        st.execute(params![agent, id]).map_err(sql)?;
    }
    Ok(())
}

/// Up to `max` undelivered messages of `agent`, most important first (not
/// yet marked delivered: the caller marks what it shows).
pub fn undelivered(
    conn: &Connection,
    agent: &str,
    max: usize,
) -> Result<Vec<Message>, MessageError> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM recipients r JOIN messages m ON m.id = r.message
             LEFT JOIN agents a ON a.id = m.sender
             WHERE r.agent = ?1 AND r.delivered_ms IS NULL
             ORDER BY CASE m.importance WHEN 'urgent' THEN 3 WHEN 'high' THEN 2
                      WHEN 'normal' THEN 1 ELSE 0 END DESC, r.directed DESC, m.id
             LIMIT ?2"
        ))
        .map_err(sql)?;
    let rows = st
        .query_map(params![agent, max as i64], message_row)
        .map_err(sql)?;
    rows.collect::<Result<_, _>>().map_err(sql)
}

/// Directed, unacknowledged messages (from agents, or release requests) that
/// have not yet held up a turn's end of `agent`: marked as having done so now.
pub fn stop_blockers(
    tx: &Transaction<'_>,
    agent: &str,
    now: i64,
) -> Result<Vec<Message>, MessageError> {
    let found: Vec<Message> = {
        let mut st = tx
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM recipients r JOIN messages m ON m.id = r.message
                 LEFT JOIN agents a ON a.id = m.sender
                 WHERE r.agent = ?1 AND r.directed = 1 AND r.acked_ms IS NULL AND r.stop_ms IS NULL
                   AND m.kind IN ('message', 'request')
                 ORDER BY m.id LIMIT 5"
            ))
            .map_err(sql)?;
        let rows = st.query_map(params![agent], message_row).map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)?
    };
    for m in &found {
        tx.execute(
            "UPDATE recipients SET stop_ms = ?3, delivered_ms = COALESCE(delivered_ms, ?3) WHERE agent = ?1 AND message = ?2",
            params![agent, m.id, now],
        )
        .map_err(sql)?;
    }
    Ok(found)
}

/// One message of `agent`'s, marked read (and delivered).
pub fn read(tx: &Transaction<'_>, agent: &str, id: i64, now: i64) -> Result<Message, MessageError> {
    let n = tx
        .execute(
            "UPDATE recipients SET read_ms = COALESCE(read_ms, ?3), delivered_ms = COALESCE(delivered_ms, ?3)
             WHERE agent = ?1 AND message = ?2",
            params![agent, id, now],
        )
        .map_err(sql)?;
    if n == 0 {
        return Err(MessageError::NotFound(id));
    }
    tx.query_row(
        &format!(
            "SELECT {MESSAGE_COLUMNS} FROM recipients r JOIN messages m ON m.id = r.message
             LEFT JOIN agents a ON a.id = m.sender WHERE r.agent = ?1 AND r.message = ?2"
        ),
        params![agent, id],
        message_row,
    )
    .map_err(sql)
}

/// Acknowledge messages of `agent` (all of them when `ids` is empty):
/// acknowledged means read, too. Returns how many changed.
pub fn ack(
    tx: &Transaction<'_>,
    agent: &str,
    ids: &[i64],
    now: i64,
) -> Result<usize, MessageError> {
    if ids.is_empty() {
        return tx
            .execute(
                "UPDATE recipients SET acked_ms = ?2, read_ms = COALESCE(read_ms, ?2), delivered_ms = COALESCE(delivered_ms, ?2)
                 WHERE agent = ?1 AND acked_ms IS NULL",
                params![agent, now],
            )
            .map_err(sql);
    }
    let mut n = 0;
    for id in ids {
        let changed = tx
            .execute(
                "UPDATE recipients SET acked_ms = COALESCE(acked_ms, ?3), read_ms = COALESCE(read_ms, ?3),
                     delivered_ms = COALESCE(delivered_ms, ?3)
                 WHERE agent = ?1 AND message = ?2",
                params![agent, id, now],
            )
            .map_err(sql)?;
        if changed == 0 {
            return Err(MessageError::NotFound(*id));
        }
        n += changed;
    }
    Ok(n)
}

/// Parse `m12` or `12`.
pub fn parse_id(s: &str) -> Option<i64> {
    s.trim()
        .trim_start_matches('m')
        .parse()
        .ok()
        .filter(|&n| n > 0)
}

/// Drop messages every recipient acknowledged or read more than a week ago.
pub fn prune(tx: &Transaction<'_>, now: i64) -> Result<(), MessageError> {
    let week = 7 * 86_400_000;
    tx.execute(
        "DELETE FROM recipients WHERE COALESCE(acked_ms, read_ms, delivered_ms) < ?1",
        [now - week],
    )
    .map_err(sql)?;
    tx.execute(
        "DELETE FROM messages WHERE id NOT IN (SELECT message FROM recipients) AND ts_ms < ?1",
        [now - week],
    )
    .map_err(sql)?;
    Ok(())
}

impl From<MessageError> for crate::reservations::ReserveError {
    fn from(e: MessageError) -> Self {
        match e {
            MessageError::Store(s) => crate::reservations::ReserveError::Store(s),
            other => crate::reservations::ReserveError::BadText(other.to_string()),
        }
    }
}

/// hookgate's undelivered notices for `agent`, marked delivered (commands
/// print them on stderr), and how many other messages are undelivered.
pub fn take_notices(
    tx: &Transaction<'_>,
    agent: &str,
    now: i64,
) -> Result<(Vec<Message>, i64), MessageError> {
    let all = undelivered(tx, agent, 1000)?;
    let (notices, others): (Vec<Message>, Vec<Message>) =
        all.into_iter().partition(|m| m.kind == MessageKind::Notice);
    let ids: Vec<i64> = notices.iter().map(|m| m.id).collect();
    mark_delivered(tx, agent, &ids, now)?;
    Ok((notices, others.len() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("state.db")).unwrap();
        (dir, s)
    }

    fn agent(s: &mut Store, id: &str, role: Option<&str>, seen: i64) {
        s.write(|tx| -> Result<(), StoreError> {
            tx.execute(
                "INSERT INTO agents (id, name, platform, session, first_seen_ms, last_seen_ms, role)
                 VALUES (?1, ?1, 'claude', ?1, ?2, ?2, ?3)",
                params![id, seen, role],
            )
            .map_err(|e| StoreError::Sql { path: Default::default(), source: e })?;
            Ok(())
        })
        .unwrap();
    }

    fn draft(to: &[&str], body: &str) -> Draft {
        Draft {
            to: to.iter().map(|s| s.to_string()).collect(),
            body: body.into(),
            ..Draft::default()
        }
    }

    #[test]
    fn addresses_resolve_to_live_agents_and_never_the_sender() {
        let (_d, mut s) = store();
        let now = 10_000_000;
        let p = PresenceSettings::default();
        agent(&mut s, "a", None, now);
        agent(&mut s, "b", Some("reviewer"), now);
        agent(&mut s, "c", Some("Reviewer"), now);
        agent(&mut s, "old", Some("reviewer"), now - 2 * p.gone_ms);
        let sent = s
            .write(|tx| send(tx, "a", &draft(&["role:reviewer", "b"], "hi"), &p, now))
            .unwrap();
        let ids: Vec<(&str, bool)> = sent
            .recipients
            .iter()
            .map(|r| (r.id.as_str(), r.directed))
            .collect();
        assert_eq!(
            ids,
            [("b", true), ("c", false)],
            "directed first, gone and sender left out"
        );
        let all = s
            .write(|tx| send(tx, "a", &draft(&["all"], "x"), &p, now))
            .unwrap();
        assert_eq!(all.recipients.len(), 2);
        assert!(matches!(
            s.write(|tx| send(tx, "a", &draft(&["role:ghost"], "x"), &p, now)),
            Err(MessageError::NoRecipients(_))
        ));
        assert!(matches!(
            s.write(|tx| send(tx, "a", &draft(&["zed"], "x"), &p, now)),
            Err(MessageError::UnknownRecipient(_))
        ));
    }

    #[test]
    fn bodies_and_names_are_checked() {
        assert!(check_body("line one\n\tline two\r\n").is_ok());
        assert!(matches!(
            check_body("a\0b"),
            Err(MessageError::Control { .. })
        ));
        assert!(matches!(
            check_body("\u{1b}[2J"),
            Err(MessageError::Control { .. })
        ));
        assert!(matches!(
            check_body("\u{202E}evil"),
            Err(MessageError::Control { .. })
        ));
        assert!(matches!(check_body(" \n "), Err(MessageError::Empty)));
        assert!(matches!(
            check_body(&"x".repeat(MAX_BODY + 1)),
            Err(MessageError::TooLarge { .. })
        ));
        assert!(check_name("the thread", "api-v2").is_ok());
        assert!(check_name("the thread", "a\nb").is_err());
    }

    #[test]
    fn delivery_read_and_ack_are_per_recipient() {
        let (_d, mut s) = store();
        let now = 10_000_000;
        let p = PresenceSettings::default();
        for id in ["a", "b", "c"] {
            agent(&mut s, id, None, now);
        }
        let sent = s
            .write(|tx| {
                send(
                    tx,
                    "a",
                    &Draft {
                        ack_required: true,
                        ..draft(&["b", "c"], "hello")
                    },
                    &p,
                    now,
                )
            })
            .unwrap();
        let b = s.write(|tx| undelivered(tx, "b", 10)).unwrap();
        assert_eq!(b.len(), 1);
        s.write(|tx| mark_delivered(tx, "b", &[sent.id], now))
            .unwrap();
        assert!(s.write(|tx| undelivered(tx, "b", 10)).unwrap().is_empty());
        assert_eq!(
            s.write(|tx| undelivered(tx, "c", 10)).unwrap().len(),
            1,
            "c still has it"
        );
        // Stop blocks once per message.
        assert_eq!(s.write(|tx| stop_blockers(tx, "b", now)).unwrap().len(), 1);
        assert!(s
            .write(|tx| stop_blockers(tx, "b", now))
            .unwrap()
            .is_empty());
        assert_eq!(s.write(|tx| ack(tx, "c", &[sent.id], now)).unwrap(), 1);
        assert!(
            s.write(|tx| stop_blockers(tx, "c", now))
                .unwrap()
                .is_empty(),
            "acknowledged"
        );
        assert!(matches!(
            s.write(|tx| ack(tx, "c", &[999], now)),
            Err(MessageError::NotFound(999))
        ));
        assert!(
            matches!(
                s.write(|tx| read(tx, "a", sent.id, now)),
                Err(MessageError::NotFound(_))
            ),
            "the sender is no recipient"
        );
    }
}
