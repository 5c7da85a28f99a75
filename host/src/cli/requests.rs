//! `request-release`, `respond`, `requests`.

use std::process::ExitCode;

use hookgate::coordination::requests::{self, Ask, RequestView, Response, Target, Urgency};
use hookgate::reservations::Mode;
use hookgate::store::now_ms;

use super::reserve::REFUSED;
use super::session::{relative, Session};
use super::{parse_duration, Cli};

fn describe(q: &RequestView, now: i64) -> String {
    let mut s = format!(
        "{} {:<9} {} asks {} for r{} ({} as {})",
        q.label(),
        q.state,
        q.requester_name,
        q.holder_name,
        q.reservation,
        q.want.join(" "),
        q.mode.as_str()
    );
    if q.urgency == Urgency::Urgent {
        s.push_str(", urgent");
    }
    match q.state.as_str() {
        "granted" => s.push_str(&format!("; granted r{}", q.granted.unwrap_or_default())),
        "deferred" => s.push_str(&format!(
            "; deferred, ETA {}",
            q.eta_ms.map_or("?".into(), |e| relative(e, now))
        )),
        "pending" => s.push_str(&format!("; escalates {}", relative(q.deadline_ms, now))),
        _ => {}
    }
    if !q.note.is_empty() {
        s.push_str(&format!(
            "; note: \"{}\"",
            hookgate::coordination::frame::strip_controls(&q.note)
        ));
    }
    s
}

/// `request-release` arguments.
pub struct AskArgs<'a> {
    pub target: &'a [String],
    pub urgency: Urgency,
    pub wait: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub mode: Mode,
    pub ttl: Option<&'a str>,
}

pub fn request_release(cli: &Cli, a: &AskArgs<'_>, json: bool) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "request-release")?;
    let target = Target::parse(&s.paths, a.target)?;
    let wait = a.wait.map(parse_duration).transpose()?;
    let ttl_ms = match a.ttl {
        Some(t) => parse_duration(t)?.as_millis() as i64,
        None => s.rctx.settings.default_ttl_ms,
    };
    let ask = Ask {
        target,
        mode: a.mode,
        ttl_ms,
        urgency: a.urgency,
        reason: a.reason.unwrap_or("").to_string(),
        wait_ms: wait.map(|w| w.as_millis() as i64),
    };
    let settings = s.policy.coordination.requests();
    let mut store = s.store()?;
    let now = now_ms();
    let made =
        store.write_leases(|tx| requests::request(tx, &s.agent, &ask, &settings, &s.rctx, now))?;
    drop(store);
    let ids: Vec<i64> = made.iter().map(|q| q.id).collect();
    if !json {
        for q in &made {
            eprintln!("hookgate: {}", describe(q, now));
        }
    }
    let Some(wait) = wait else {
        if json {
            println!("{}", serde_json::to_string(&made)?);
        } else {
            println!(
                "asked: {} (the holder hears at its next hook; `hookgate requests` shows the answer)",
                made.iter().map(RequestView::label).collect::<Vec<_>>().join(" ")
            );
        }
        return Ok(ExitCode::SUCCESS);
    };
    let (views, settled) = requests::wait_settled(&s.store_path, &ids, &settings, &s.rctx, wait)?;
    if json {
        println!("{}", serde_json::to_string(&views)?);
    } else {
        let now = now_ms();
        for q in &views {
            println!("{}", describe(q, now));
        }
        if !settled {
            eprintln!(
                "hookgate: no answer after {}; the request stays open until its deadline",
                hookgate::duration::format(wait)
            );
        }
    }
    Ok(if requests::all_granted(&views) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(REFUSED)
    })
}

pub fn respond(
    cli: &Cli,
    id: &str,
    answer: Response,
    eta: Option<&str>,
    note: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let Some(id) = requests::parse_id(id) else {
        anyhow::bail!("`{id}` is not a release request id (rq5)");
    };
    let eta_ms = eta
        .map(parse_duration)
        .transpose()?
        .map(|d| d.as_millis() as i64);
    let s = Session::open(cli, "respond")?;
    let mut store = s.store()?;
    let now = now_ms();
    let q = store.write_leases(|tx| {
        let reply = requests::Reply {
            response: answer,
            eta_ms,
            note: note.unwrap_or(""),
        };
        requests::respond(tx, &s.agent, id, &reply, &s.rctx, now)
    })?;
    if json {
        println!("{}", serde_json::to_string(&q)?);
    } else {
        println!("{}", describe(&q, now));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn list(cli: &Cli, all: bool, everyone: bool, json: bool) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "requests")?;
    let mut store = s.store()?;
    let now = now_ms();
    let settings = s.policy.coordination.requests();
    let who = (!everyone).then(|| s.agent.id.clone());
    let list = store.write_leases(|tx| {
        requests::list_with_history(tx, &settings, &s.rctx, who.as_deref(), all, now)
    })?;
    if json {
        println!("{}", requests::history_json(&list));
        return Ok(ExitCode::SUCCESS);
    }
    if list.is_empty() {
        println!("no {}release requests", if all { "" } else { "open " });
    }
    for (q, h) in &list {
        println!("{}", describe(q, now));
        for step in h {
            println!(
                "    {:<10} {:<12} by {}",
                relative(step.ts_ms, now),
                step.action,
                step.actor
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
