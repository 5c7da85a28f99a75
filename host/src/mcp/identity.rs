//! Who an MCP server speaks for: the same agent as the hooks of its session,
//! never a second one.
//!
//! An agent platform (Claude Code's node process, Codex, Gemini CLI …) runs
//! its hooks as children, often through `sh -c`, and spawns its stdio MCP
//! servers as children too. So the first ancestor of a process that is not a
//! shell or a wrapper — the *host* — is the platform process, whichever of
//! the two asks. A hook records its host's pid on its agent's row
//! (`agents.host_pid`, see [`crate::presence::record_host_pid`]); the MCP
//! server walks its own ancestors the same way and takes the agent recorded
//! for its host. `--agent` / `HOOKGATE_AGENT` override both.
//!
//! A pid can be reused by a later process: a row only counts when its agent
//! was seen after the host process started, and is not gone.

use std::sync::OnceLock;

use rusqlite::{params, Connection, OptionalExtension};

use crate::event::Agent;
use crate::policy::PresenceSettings;

/// Process names that are not the platform itself but stand between it and
/// hookgate: shells and wrappers that run a command as their child. `node`
/// is not one: it may be the platform (Claude Code), and an `npx` run shows
/// up as `node` too, which can't be told apart. `git` is one for the git
/// guards, which git runs as hooks of a commit an agent's shell started.
pub const WRAPPERS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "fish", "ksh", "mksh", "ash", "busybox", "env", "npx", "timeout",
    "sudo", "doas", "git",
];

/// The longest chain of ancestors looked at.
const MAX_DEPTH: usize = 32;

/// One process as `/proc/<pid>/stat` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcInfo {
    /// Parent pid.
    pub ppid: u32,
    /// Command name (at most 15 bytes, as the kernel keeps it).
    pub comm: String,
    /// Start time, clock ticks after boot.
    pub start_ticks: u64,
}

/// Parse the text of `/proc/<pid>/stat`: `pid (comm) state ppid …`, where
/// `comm` may itself hold spaces and parentheses (so it ends at the last `)`).
pub fn parse_stat(text: &str) -> Option<ProcInfo> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is the state (field 3); ppid is field 4, starttime field 22.
    let ppid = rest.get(1)?.parse().ok()?;
    let start_ticks = rest.get(19)?.parse().ok()?;
    Some(ProcInfo {
        ppid,
        comm,
        start_ticks,
    })
}

/// Is `comm` a shell or wrapper (see [`WRAPPERS`])?
pub fn is_wrapper(comm: &str) -> bool {
    WRAPPERS.contains(&comm)
}

/// The host among the ancestors: starting at `parent` (the asking process's
/// parent), the first process that is not a wrapper. `lookup` describes a
/// pid (in production, from `/proc`). `None` when the chain leaves what can
/// be read, reaches init, or is implausibly long.
pub fn host_among(parent: u32, lookup: impl Fn(u32) -> Option<ProcInfo>) -> Option<u32> {
    let mut pid = parent;
    for _ in 0..MAX_DEPTH {
        if pid <= 1 {
            return None;
        }
        let info = lookup(pid)?;
        if !is_wrapper(&info.comm) {
            return Some(pid);
        }
        pid = info.ppid;
    }
    None
}

/// `/proc/<pid>/stat`, parsed.
pub fn proc_info(pid: u32) -> Option<ProcInfo> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// This process's host (see the module documentation), computed once per
/// process. `None` where `/proc` can't be read.
pub fn host_pid() -> Option<u32> {
    static HOST: OnceLock<Option<u32>> = OnceLock::new();
    *HOST.get_or_init(|| host_among(std::os::unix::process::parent_id(), proc_info))
}

/// When process `pid` started, ms since the epoch (from its start ticks and
/// the boot time in `/proc/stat`); `None` where that can't be read.
pub fn process_start_ms(pid: u32) -> Option<i64> {
    let info = proc_info(pid)?;
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let btime: i64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as i64 } else { 100 };
    let ticks = i64::try_from(info.start_ticks).ok()?;
    Some(btime * 1000 + ticks * 1000 / hz)
}

/// Slack for the start time of a host process: boot time has whole seconds.
const START_SLACK_MS: i64 = 2_000;

/// The agent an explicit id names (`--agent` / `HOOKGATE_AGENT`):
/// `session` or `session:subagent`, as hooks derive ids. `None` for an
/// empty id.
pub fn from_override(id: &str) -> Option<Agent> {
    let id = id.trim();
    if id.is_empty() {
        return None;
    }
    Some(match id.split_once(':') {
        Some((session, sub)) if !session.is_empty() && !sub.is_empty() => {
            Agent::from_session(session, Some(sub), None)
        }
        _ => Agent::from_session(id, None, None),
    })
}

/// The agent whose hooks recorded `host` as their host pid: the session's
/// own agent rather than a subagent, the most recently seen, seen after the
/// host started (`host_started_ms`, when known) and not gone.
pub fn agent_of_host(
    conn: &Connection,
    host: u32,
    host_started_ms: Option<i64>,
    presence: &PresenceSettings,
    now_ms: i64,
) -> Result<Option<Agent>, rusqlite::Error> {
    let not_gone = now_ms - presence.gone_ms;
    let since = host_started_ms
        .map(|s| s - START_SLACK_MS)
        .unwrap_or(i64::MIN)
        .max(not_gone + 1);
    let row: Option<(String, String, Option<String>)> = conn
        .query_row(
            "SELECT id, session, parent FROM agents WHERE host_pid = ?1 AND last_seen_ms >= ?2
             ORDER BY parent IS NULL DESC, last_seen_ms DESC LIMIT 1",
            params![host, since],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(row.map(|(id, session, parent)| {
        let sub = parent
            .as_ref()
            .and_then(|_| id.strip_prefix(&format!("{session}:")))
            .map(str::to_string);
        Agent::from_session(&session, sub.as_deref(), Some(&id))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn table(rows: &[(u32, u32, &str)]) -> HashMap<u32, ProcInfo> {
        rows.iter()
            .map(|&(pid, ppid, comm)| {
                (
                    pid,
                    ProcInfo {
                        ppid,
                        comm: comm.into(),
                        start_ticks: 0,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn the_host_is_the_first_ancestor_that_is_not_a_shell() {
        // init → sshd → bash → claude (node) → sh → hookgate hook
        //                                    → hookgate mcp
        let t = table(&[
            (1, 0, "systemd"),
            (50, 1, "sshd"),
            (60, 50, "bash"),
            (100, 60, "claude"),
            (200, 100, "sh"),
            (300, 200, "timeout"),
        ]);
        let look = |p: u32| t.get(&p).cloned();
        // The hook, run through `sh -c` and `timeout`.
        assert_eq!(host_among(300, look), Some(100));
        // The MCP server, a direct child of the platform.
        assert_eq!(host_among(100, look), Some(100));
        // Run by hand from the user's shell: the host is sshd.
        assert_eq!(host_among(60, look), Some(50));
        // node is a host, not a wrapper (it may be the platform).
        let t2 = table(&[(10, 1, "node"), (11, 10, "env"), (12, 11, "dash")]);
        assert_eq!(host_among(12, |p| t2.get(&p).cloned()), Some(10));
    }

    #[test]
    fn the_walk_gives_up_on_init_gaps_and_loops() {
        let t = table(&[(5, 1, "bash"), (7, 99, "sh"), (8, 9, "sh"), (9, 8, "sh")]);
        let look = |p: u32| t.get(&p).cloned();
        assert_eq!(host_among(5, look), None, "only shells up to init");
        assert_eq!(host_among(7, look), None, "parent vanished");
        assert_eq!(host_among(8, look), None, "a cycle ends");
        assert_eq!(host_among(0, look), None);
        assert_eq!(host_among(1, look), None);
    }

    #[test]
    fn stat_lines_parse_with_odd_command_names() {
        let line = "4242 (my (weird) name) S 77 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10 18446744073709551615";
        let p = parse_stat(line).unwrap();
        assert_eq!(p.ppid, 77);
        assert_eq!(p.comm, "my (weird) name");
        assert_eq!(p.start_ticks, 123456);
        assert!(parse_stat("garbage").is_none());
        assert!(parse_stat("1 (x) S notanumber").is_none());
    }

    #[test]
    fn this_process_can_be_read() {
        let me = proc_info(std::process::id()).expect("/proc on Linux");
        assert_eq!(me.ppid, std::os::unix::process::parent_id());
        let started = process_start_ms(std::process::id()).unwrap();
        let now = crate::store::now_ms();
        assert!(started <= now + START_SLACK_MS && started > now - 86_400_000 * 365);
    }

    #[test]
    fn overrides_name_sessions_and_subagents() {
        let a = from_override("s1:sub").unwrap();
        assert_eq!((a.id.as_str(), a.session.as_str()), ("s1:sub", "s1"));
        assert_eq!(a.subagent.as_deref(), Some("sub"));
        let b = from_override(" s2 ").unwrap();
        assert_eq!((b.id.as_str(), b.subagent), ("s2", None));
        assert_eq!(from_override(":x").unwrap().id, ":x");
        assert!(from_override("  ").is_none());
    }

    #[test]
    fn a_host_pid_finds_the_sessions_own_agent() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = crate::store::Store::open(&dir.path().join("s.db")).unwrap();
        let p = PresenceSettings::default();
        let main = Agent::from_session("sess", None, None);
        let sub = Agent::from_session("sess", Some("a1"), None);
        let old = Agent::from_session("old", None, None);
        let now = 10_000_000_000;
        store
            .write(|tx| -> Result<(), crate::store::StoreError> {
                crate::presence::touch(tx, &old, "claude", "x", None, now - 60_000)?.unwrap();
                crate::presence::record_host_pid(tx, &old.id, 42)?;
                crate::presence::touch(tx, &main, "claude", "x", None, now - 5_000)?.unwrap();
                crate::presence::record_host_pid(tx, &main.id, 42)?;
                crate::presence::touch(tx, &sub, "claude", "x", None, now)?.unwrap();
                crate::presence::record_host_pid(tx, &sub.id, 42)?;
                Ok(())
            })
            .unwrap();
        let c = store.connection();
        let found = agent_of_host(c, 42, None, &p, now).unwrap().unwrap();
        assert_eq!(found, main, "the session's own agent, not the subagent");
        assert_eq!(agent_of_host(c, 43, None, &p, now).unwrap(), None);
        // The host started after `main` was last seen: a reused pid.
        assert_eq!(
            agent_of_host(c, 42, Some(now), &p, now).unwrap().unwrap(),
            sub
        );
        assert_eq!(
            agent_of_host(c, 42, Some(now + 60_000), &p, now).unwrap(),
            None
        );
        // Gone agents don't count.
        let later = now + p.gone_ms + 1;
        assert_eq!(agent_of_host(c, 42, None, &p, later).unwrap(), None);
    }
}
