//! `send`, `inbox`, `read`, `ack`.

use std::io::Read as _;
use std::process::ExitCode;

use hookgate::coordination::messages::{self, Draft, Filter, Importance, Message};
use hookgate::store::now_ms;

use super::session::{relative, Session};
use super::Cli;

/// What `send` was given.
pub struct SendArgs<'a> {
    pub to: &'a [String],
    pub text: &'a [String],
    pub file: Option<&'a std::path::Path>,
    pub thread: Option<&'a str>,
    pub importance: Importance,
    pub ack: bool,
}

fn body_of(a: &SendArgs<'_>) -> anyhow::Result<String> {
    let limit = messages::MAX_BODY as u64 + 1;
    let mut raw = Vec::new();
    match (a.file, a.text) {
        (Some(f), []) => {
            std::fs::File::open(f)
                .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?
                .take(limit)
                .read_to_end(&mut raw)?;
        }
        (None, [dash]) if dash == "-" => {
            std::io::stdin().take(limit).read_to_end(&mut raw)?;
        }
        (None, words) if !words.is_empty() => return Ok(words.join(" ")),
        (Some(_), _) => anyhow::bail!("give the message as text or as --file, not both"),
        (None, _) => anyhow::bail!("no message: give its text, `-` for stdin, or --file PATH"),
    }
    if raw.len() as u64 >= limit {
        anyhow::bail!(
            "the message is longer than {} bytes; put long text in a file and send its path",
            messages::MAX_BODY
        );
    }
    String::from_utf8(raw).map_err(|_| anyhow::anyhow!("the message is not UTF-8 text"))
}

pub fn send(cli: &Cli, a: &SendArgs<'_>, json: bool) -> anyhow::Result<ExitCode> {
    let body = body_of(a)?;
    let s = Session::open(cli, "send")?;
    let draft = Draft {
        to: a.to.to_vec(),
        body,
        thread: a.thread.map(str::to_string),
        importance: Some(a.importance),
        ack_required: a.ack,
    };
    let mut store = s.store()?;
    let now = now_ms();
    let presence = s.policy.presence;
    let sent = store.write_leases(|tx| messages::send(tx, &s.agent.id, &draft, &presence, now))?;
    if json {
        println!(
            "{}",
            serde_json::json!({"message": format!("m{}", sent.id), "recipients": sent.recipients})
        );
    } else {
        let names: Vec<&str> = sent.recipients.iter().map(|r| r.name.as_str()).collect();
        println!(
            "sent m{} to {} (delivered at their next hook)",
            sent.id,
            names.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn line(m: &Message, now: i64) -> String {
    let mut flags = String::new();
    if m.read_ms.is_none() {
        flags.push('*');
    }
    if m.ack_required && m.acked_ms.is_none() {
        flags.push('!');
    }
    let to = if m.directed {
        "you"
    } else {
        m.audience.as_str()
    };
    format!(
        "{:<2} {:<6} {:<8} {:<9} {:<16} {:<10} to {}: {}",
        flags,
        m.label(),
        m.kind.as_str(),
        m.importance.as_str(),
        hookgate::coordination::frame::strip_controls(&m.sender_name),
        relative(m.ts_ms, now),
        hookgate::coordination::frame::strip_controls(to),
        m.subject(80)
    )
}

/// Inbox filters.
pub struct InboxArgs<'a> {
    pub unread: bool,
    pub directed: bool,
    pub unacked: bool,
    pub about_mine: bool,
    pub thread: Option<&'a str>,
    pub limit: usize,
    pub page: usize,
}

pub fn inbox(cli: &Cli, a: &InboxArgs<'_>, json: bool) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "inbox")?;
    let mut store = s.store()?;
    let now = now_ms();
    let about = if a.about_mine {
        let store = s.store()?;
        let sets: Vec<hookgate_glob::PatternSet> =
            hookgate::reservations::sets_of(store.connection(), &s.agent.id, now, &s.rctx)?
                .into_iter()
                .map(|(_, set)| set)
                .collect();
        if sets.is_empty() {
            println!("you hold no reservations, so no message is about them");
            return Ok(ExitCode::SUCCESS);
        }
        sets
    } else {
        Vec::new()
    };
    let filter = Filter {
        about,
        unread: a.unread,
        directed: a.directed,
        unacked: a.unacked,
        thread: a.thread.map(str::to_string),
        limit: a.limit.clamp(1, 200),
        offset: a.page.saturating_sub(1) * a.limit.clamp(1, 200),
    };
    let agent = s.agent.id.clone();
    let (list, (unread, _)) = store.write_leases(|tx| -> Result<_, messages::MessageError> {
        let list = messages::inbox(tx, &agent, &filter)?;
        // Listed is delivered: the agent has seen that they exist.
        let ids: Vec<i64> = list.iter().map(|m| m.id).collect();
        messages::mark_delivered(tx, &agent, &ids, now)?;
        Ok((list, messages::counts(tx, &agent)?))
    })?;
    if json {
        let items: Vec<serde_json::Value> = list
            .iter()
            .map(|m| {
                serde_json::json!({
                    "id": m.label(), "ts_ms": m.ts_ms, "from": m.sender, "from_name": m.sender_name,
                    "to": if m.directed { "you".to_string() } else { m.audience.clone() },
                    "kind": m.kind, "thread": m.thread, "importance": m.importance,
                    "ack_required": m.ack_required, "read": m.read_ms.is_some(), "acked": m.acked_ms.is_some(),
                    "subject": m.subject(200), "paths": m.paths,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({"unread": unread, "page": a.page.max(1), "messages": items})
        );
        return Ok(ExitCode::SUCCESS);
    }
    if list.is_empty() {
        println!(
            "no messages{}",
            if a.page > 1 { " on this page" } else { "" }
        );
        return Ok(ExitCode::SUCCESS);
    }
    // Subjects are other agents' text: the list goes out framed as such.
    let lines: Vec<String> = list.iter().map(|m| line(m, now)).collect();
    println!(
        "{}",
        hookgate::coordination::frame::frame(
            "[hookgate inbox: flags, id, kind, importance, sender, age, and the first line of each message]",
            &lines.join("\n"),
            messages::MAX_BODY,
            "`hookgate inbox --page 2`",
        )
    );
    println!(
        "{unread} unread (* unread, ! acknowledgement asked). `hookgate read ID` shows one; `hookgate ack ID` acknowledges; --page {} for more.",
        a.page.max(1) + 1
    );
    Ok(ExitCode::SUCCESS)
}

pub fn read(cli: &Cli, id: &str, json: bool) -> anyhow::Result<ExitCode> {
    let Some(id) = messages::parse_id(id) else {
        anyhow::bail!("`{id}` is not a message id (m12)");
    };
    let s = Session::open(cli, "read")?;
    let mut store = s.store()?;
    let now = now_ms();
    let m = store.write_leases(|tx| messages::read(tx, &s.agent.id, id, now))?;
    if json {
        println!("{}", serde_json::to_string(&m)?);
    } else {
        println!("{}", m.framed(messages::MAX_BODY));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn ack(cli: &Cli, ids: &[String], all: bool, json: bool) -> anyhow::Result<ExitCode> {
    let parsed: Vec<i64> = ids
        .iter()
        .map(|i| {
            messages::parse_id(i).ok_or_else(|| anyhow::anyhow!("`{i}` is not a message id (m12)"))
        })
        .collect::<Result<_, _>>()?;
    if parsed.is_empty() && !all {
        anyhow::bail!("say which: `hookgate ack m12 …` or `hookgate ack --all`");
    }
    let s = Session::open(cli, "ack")?;
    let mut store = s.store()?;
    let now = now_ms();
    let n = store.write_leases(|tx| messages::ack(tx, &s.agent.id, &parsed, now))?;
    if json {
        println!("{}", serde_json::json!({"acknowledged": n}));
    } else {
        println!("acknowledged {n} message{}", if n == 1 { "" } else { "s" });
    }
    Ok(ExitCode::SUCCESS)
}
