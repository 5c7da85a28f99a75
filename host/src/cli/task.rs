//! `task add|list|claim|next|done|block|unblock`: the task board.
//!
//! Exit codes: 0 success; 3 when a claim or `next` is refused by the state
//! of the board (taken, blocked, waiting, files held, done) or there is
//! nothing to claim; 1 for usage and internal errors, one line on stderr.

use std::io::Read as _;
use std::process::ExitCode;

use clap::Subcommand;

use hookgate::coordination::tasks::{
    self, report, ClaimOptions, Claimed, Filter, Finished, NewTask, Status, TaskError, TaskView,
};
use hookgate::reservations::normalize_pattern;
use hookgate::store::now_ms;

use super::reserve::{describe, REFUSED};
use super::session::{relative, Session};
use super::Cli;

/// `hookgate task …`.
#[derive(Subcommand, Debug)]
pub enum TaskCommand {
    /// Add a task to the board.
    Add {
        /// One line (words are joined with spaces).
        #[arg(required = true, num_args = 1..)]
        title: Vec<String>,
        /// Details (`-` reads them from stdin).
        #[arg(long, default_value = "")]
        body: String,
        /// 0 (lowest) to 9 (highest).
        #[arg(long, default_value_t = tasks::DEFAULT_PRIORITY, allow_negative_numbers = true)]
        priority: i64,
        /// A task that must be done first (t12 or 12); repeatable.
        #[arg(long = "after")]
        after: Vec<String>,
        /// A glob pattern of the files it touches, relative to this directory; repeatable.
        #[arg(long = "files")]
        files: Vec<String>,
    },
    /// List tasks that are not done (--all: every task; --mine: the ones you own).
    List {
        /// Every task, done ones too.
        #[arg(long, conflicts_with = "mine")]
        all: bool,
        /// The tasks you claimed (and those you finished).
        #[arg(long)]
        mine: bool,
    },
    /// Claim a task; exit 3 when it is taken, blocked, done or its files are held.
    Claim {
        /// Task id (t12 or 12).
        id: String,
    },
    /// Claim the best unblocked task (or get back the one you have); exit 3 when there is none.
    Next,
    /// Mark a task done (yours; --force for another agent's).
    Done {
        /// Task id (t12 or 12).
        id: String,
        /// Mark it done even though you don't own it.
        #[arg(long)]
        force: bool,
    },
    /// Block a task by hand, with a reason shown to agents.
    Block {
        /// Task id (t12 or 12).
        id: String,
        /// Why it can't go ahead.
        #[arg(long, required = true)]
        reason: String,
    },
    /// Lift a manual block.
    Unblock {
        /// Task id (t12 or 12).
        id: String,
    },
}

/// Run one `task` subcommand.
pub fn run(cli: &Cli, command: &TaskCommand, json: bool) -> anyhow::Result<ExitCode> {
    match command {
        TaskCommand::Add {
            title,
            body,
            priority,
            after,
            files,
        } => add(cli, &title.join(" "), body, *priority, after, files, json),
        TaskCommand::List { all, mine } => {
            let filter = match (all, mine) {
                (true, _) => Filter::All,
                (_, true) => Filter::Mine,
                _ => Filter::Open,
            };
            list(cli, filter, json)
        }
        TaskCommand::Claim { id } => claim(cli, Some(id), json),
        TaskCommand::Next => claim(cli, None, json),
        TaskCommand::Done { id, force } => done(cli, id, *force, json),
        TaskCommand::Block { id, reason } => block(cli, id, Some(reason), json),
        TaskCommand::Unblock { id } => block(cli, id, None, json),
    }
}

/// The title line and the body, indented.
fn print_task(verb: &str, v: &TaskView) {
    println!(
        "{verb} {}: {} (priority {})",
        v.label, v.task.title, v.task.priority
    );
    for line in v.task.body.lines() {
        println!("    {line}");
    }
    if !v.task.files.is_empty() {
        println!("  files: {}", v.task.files.join(" "));
    }
}

fn add(
    cli: &Cli,
    title: &str,
    body: &str,
    priority: i64,
    after: &[String],
    files: &[String],
    json: bool,
) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "task add")?;
    let body = if body == "-" {
        let mut b = String::new();
        std::io::stdin()
            .take(tasks::MAX_BODY as u64 + 1)
            .read_to_string(&mut b)?;
        b
    } else {
        body.to_string()
    };
    let deps: Vec<i64> = after
        .iter()
        .map(|a| tasks::parse_id(a))
        .collect::<Result<_, _>>()?;
    let files: Vec<String> = files
        .iter()
        .map(|p| normalize_pattern(&s.paths, p))
        .collect::<Result<_, _>>()?;
    let new = NewTask {
        title,
        body: &body,
        priority,
        deps: &deps,
        files: &files,
        created_by: &s.agent.id,
    };
    let presence = s.policy.presence;
    let mut store = s.store()?;
    let v = store.write(|tx| tasks::add(tx, &new, now_ms(), &presence))?;
    if json {
        println!("{}", report::added_json(&v, &s.agent.id));
    } else {
        print_task("added", &v);
        if let Some(why) = v.block_reason() {
            println!("  blocked: {why}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn owner_text(v: &TaskView, me: &str) -> String {
    match (&v.task.owner, &v.owner_name) {
        (Some(o), Some(n)) if o == me => format!("{n} (you)"),
        (Some(_), Some(n)) if v.owner_gone => format!("{n} (gone)"),
        (Some(_), Some(n)) => n.clone(),
        _ => "-".into(),
    }
}

fn list(cli: &Cli, filter: Filter, json: bool) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "task list")?;
    let store = s.store()?;
    let now = now_ms();
    let all = tasks::list(
        store.connection(),
        filter,
        &s.agent.id,
        now,
        &s.policy.presence,
    )?;
    drop(store);
    if json {
        println!("{}", report::list_json(&all, &s.agent.id, now));
        return Ok(ExitCode::SUCCESS);
    }
    if all.is_empty() {
        println!(
            "{}",
            match filter {
                Filter::Open => "no open tasks; add one with `hookgate task add TITLE`",
                Filter::Mine => "you own no tasks; take one with `hookgate task next`",
                Filter::All => "no tasks; add one with `hookgate task add TITLE`",
            }
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<6} {:<3} {:<8} {:<22} title",
        "id", "pri", "status", "owner"
    );
    for v in &all {
        let note = match (v.status, v.block_reason()) {
            (Status::Blocked, Some(why)) => format!(" [{why}]"),
            (Status::Claimed, _) if v.owner_gone => " [owner gone: claimable]".to_string(),
            _ => String::new(),
        };
        println!(
            "{:<6} {:<3} {:<8} {:<22} {}{note}",
            v.label,
            v.task.priority,
            v.status.as_str(),
            owner_text(v, &s.agent.id),
            v.task.title,
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_claimed(c: &Claimed, me: &str, json: bool, now: i64) {
    if json {
        println!("{}", report::claimed_json(c, me));
        return;
    }
    print_task(
        if c.already_yours {
            "you already have"
        } else {
            "claimed"
        },
        &c.task,
    );
    if let Some(p) = &c.reclaimed_from {
        println!(
            "  reclaimed from {} ({}), gone: last seen {}",
            p.name,
            p.id,
            relative(p.last_seen_ms, now)
        );
    }
    if let Some(r) = &c.reservation {
        println!(
            "  reserved r{}: {} (exclusive), expires {}; released when the task is done",
            r.id,
            r.patterns.join(" "),
            relative(r.expires_ms, now)
        );
    }
    for s in &c.skipped {
        let who: Vec<String> = s
            .conflicts
            .iter()
            .map(|c| format!("{} holds {}", c.hold.agent_name, c.hold.label()))
            .collect();
        println!(
            "  passed over t{} ({}): its files are held ({})",
            s.task,
            s.title,
            who.join(", ")
        );
    }
    if c.task.block_reason().is_some() {
        println!(
            "  note: it is blocked ({})",
            c.task.block_reason().unwrap_or_default()
        );
    }
    println!("When it is finished: `hookgate task done {}`", c.task.label);
}

/// A refused claim: exit 3, the reason and what to do.
fn refused(e: &TaskError, id: Option<i64>, json: bool, now: i64) -> ExitCode {
    let next = match e {
        TaskError::FilesHeld { .. } | TaskError::AllHeld(_) => {
            "Next: take a task with other files (`hookgate task list`), or ask the holder to release them"
        }
        TaskError::Taken { .. } => "Next: `hookgate task next` for another task",
        TaskError::Waiting { .. } => "Next: finish what it waits for, or `hookgate task next`",
        TaskError::Blocked { .. } => "Next: `hookgate task next` for another task",
        _ => "Next: `hookgate task list` shows the board",
    };
    if json {
        println!("{}", report::refused_json(e, id, next));
    } else {
        let (conflicts, skipped) = e.in_the_way();
        eprintln!("hookgate: refused: {e}");
        for c in conflicts {
            eprintln!("  - {}", describe(c, now));
        }
        for s in skipped {
            for c in &s.conflicts {
                eprintln!("  - t{}: {}", s.task, describe(c, now));
            }
        }
        eprintln!("{next}");
    }
    ExitCode::from(REFUSED)
}

fn claim(cli: &Cli, id: Option<&String>, json: bool) -> anyhow::Result<ExitCode> {
    let action = if id.is_some() {
        "task claim"
    } else {
        "task next"
    };
    let s = Session::open(cli, action)?;
    let id = id.map(|i| tasks::parse_id(i)).transpose()?;
    let opts = ClaimOptions {
        reservations: s.rctx,
        settings: s.policy.tasks,
    };
    let mut store = s.store()?;
    let got = store.write_leases(|tx| tasks::claim_or_next(tx, id, &s.agent, &opts, now_ms()));
    let now = now_ms();
    match got {
        Ok(Some(c)) => {
            print_claimed(&c, &s.agent.id, json, now);
            Ok(ExitCode::SUCCESS)
        }
        Ok(None) => {
            let (message, v) = report::nothing_to_claim(
                store.connection(),
                &s.agent.id,
                now,
                &s.policy.presence,
                "`hookgate task list`",
            )?;
            if json {
                println!("{v}");
            } else {
                eprintln!("hookgate: {message}");
            }
            Ok(ExitCode::from(REFUSED))
        }
        Err(e) if e.is_refusal() => Ok(refused(&e, id, json, now)),
        Err(e) => Err(e.into()),
    }
}

fn print_finished(f: &Finished, me: &str, json: bool) {
    if json {
        println!("{}", report::finished_json(f, me));
        return;
    }
    println!("done {}: {}", f.task.label, f.task.task.title);
    if f.forced {
        println!(
            "  (marked done with --force; its owner was {})",
            f.task.owner_name.as_deref().unwrap_or("nobody")
        );
    }
    if let Some(r) = &f.released {
        println!("  released r{}: {}", r.id, r.patterns.join(" "));
    }
    if !f.unblocked.is_empty() {
        println!(
            "  unblocked: {} (`hookgate task next` takes the best one)",
            tasks::labels(&f.unblocked)
        );
    }
}

fn done(cli: &Cli, id: &str, force: bool, json: bool) -> anyhow::Result<ExitCode> {
    let s = Session::open(cli, "task done")?;
    let id = tasks::parse_id(id)?;
    let presence = s.policy.presence;
    let mut store = s.store()?;
    let f =
        store.write_leases(|tx| tasks::done(tx, id, &s.agent.id, force, now_ms(), &presence))?;
    print_finished(&f, &s.agent.id, json);
    Ok(ExitCode::SUCCESS)
}

/// `block ID --reason R` (with a reason) or `unblock ID`.
fn block(cli: &Cli, id: &str, reason: Option<&String>, json: bool) -> anyhow::Result<ExitCode> {
    let s = Session::open(
        cli,
        if reason.is_some() {
            "task block"
        } else {
            "task unblock"
        },
    )?;
    let id = tasks::parse_id(id)?;
    let presence = s.policy.presence;
    let mut store = s.store()?;
    let v = store
        .write(|tx| tasks::set_block(tx, id, reason.map(String::as_str), now_ms(), &presence))?;
    if json {
        println!(
            "{}",
            report::blocked_json(&v, &s.agent.id, reason.is_some())
        );
    } else if let Some(r) = reason {
        println!("blocked {}: {} ({})", v.label, v.task.title, r.trim());
    } else {
        println!(
            "unblocked {}: {} (now {})",
            v.label,
            v.task.title,
            v.status.as_str()
        );
    }
    Ok(ExitCode::SUCCESS)
}
