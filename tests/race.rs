//! Race test with real processes: 32 shell loops acquire and release
//! overlapping pattern sets through the CLI for 30 s (HOOKGATE_RACE_SECS),
//! while some are killed with SIGKILL mid-loop.
//!
//! Checked:
//! - a checker polls the store the whole time: two live reservations of
//!   different agents that overlap and clash never coexist;
//! - the lease log, replayed grant by grant at the end, never grants what
//!   clashes with a live reservation;
//! - no caller ever sees "database is locked" or "busy", and every command
//!   exits with 0 (granted, released) or 3 (refused);
//! - every release that succeeded is released in the store; the leases of
//!   killed workers lapse by TTL; `PRAGMA integrity_check` passes.

mod common;

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Repo;
use hookgate::reservations::{hold_set, Mode};

const WORKERS: usize = 32;
const TTL_SECS: u64 = 3;

const WORKER: &str = r#"
set -f
end=$(( $(date +%s) + SECS ))
while [ "$(date +%s)" -lt "$end" ]; do
  case $((RANDOM % 5)) in
    0) set="d$((RANDOM % 4))/**" ;;
    1) set="d$((RANDOM % 4))/f$((RANDOM % 3)).rs d$((RANDOM % 4))/g/**" ;;
    2) set="**/f$((RANDOM % 3)).rs" ;;
    3) set="d$((RANDOM % 4))/** !d$((RANDOM % 4))/g/**" ;;
    4) set="d$((RANDOM % 4))/{g,h}/*.rs" ;;
  esac
  case $((RANDOM % 3)) in 0) mode=exclusive ;; 1) mode=shared ;; 2) mode=intent ;; esac
  out=$("$HG" reserve $set --mode $mode --ttl TTLs --json 2>>"$LOG.err")
  rc=$?
  echo "reserve $rc $out" >>"$LOG"
  if [ "$rc" = 0 ]; then
    out=$("$HG" release --all --json 2>>"$LOG.err")
    rc=$?
    echo "release $rc $out" >>"$LOG"
  fi
done
echo done >>"$LOG"
"#;

struct Worker {
    agent: String,
    log: std::path::PathBuf,
    child: Child,
    killed: bool,
}

fn spawn(repo: &Repo, i: usize, secs: u64) -> Worker {
    let agent = format!("racer-{i}");
    let log = repo.root.join(format!("worker-{i}.log"));
    let script = WORKER
        .replace("SECS", &secs.to_string())
        .replace("TTL", &TTL_SECS.to_string());
    let child = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(&repo.root)
        .env("HG", common::BIN)
        .env("LOG", &log)
        .env("HOOKGATE_AGENT", &agent)
        .env("HOOKGATE_CACHE", common::shared_cache())
        .env_remove("HOOKGATE_STORE")
        .env_remove("HOOKGATE_POLICY")
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn worker");
    Worker {
        agent,
        log,
        child,
        killed: false,
    }
}

#[derive(Debug, Clone)]
struct Live {
    agent: String,
    patterns: Vec<String>,
    mode: Mode,
    expires_ms: i64,
}

fn clash(a: &Live, b: &Live) -> Option<String> {
    if a.agent == b.agent || !a.mode.clashes(b.mode) {
        return None;
    }
    let (x, y) = (
        hold_set(&a.patterns, false, false).ok()?,
        hold_set(&b.patterns, false, false).ok()?,
    );
    hookgate_glob::overlap(&x, &y).ok().flatten()
}

/// Live reservations now, straight from the store.
fn snapshot(db: &std::path::Path) -> Option<Vec<Live>> {
    let conn = rusqlite::Connection::open(db).ok()?;
    conn.busy_timeout(Duration::from_secs(5)).ok()?;
    let now = hookgate::store::now_ms();
    let mut st = conn
        .prepare("SELECT agent, patterns, mode, expires_ms FROM reservations WHERE released_ms IS NULL AND expires_ms > ?1")
        .ok()?;
    let rows = st
        .query_map([now], |r| {
            let p: String = r.get(1)?;
            let m: String = r.get(2)?;
            Ok(Live {
                agent: r.get(0)?,
                patterns: serde_json::from_str(&p).unwrap_or_default(),
                mode: Mode::parse(&m).unwrap_or(Mode::Exclusive),
                expires_ms: r.get(3)?,
            })
        })
        .ok()?;
    rows.collect::<Result<Vec<_>, _>>().ok()
}

#[test]
fn thirty_two_processes_never_double_grant() {
    let secs: u64 = std::env::var("HOOKGATE_RACE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let repo = Repo::new();
    // Presence never marks a racer gone during the run: only TTLs end leases.
    repo.policy(
        "version = 1\n[presence]\ngone = \"1h\"\n[reservations]\nrenew_on_activity = false\n",
    );
    // Create the store before the stampede.
    assert_eq!(repo.run_as("setup", &["whoami"]).code, 0);
    let db = repo.store();

    let stop = Arc::new(AtomicBool::new(false));
    let violations: Arc<Mutex<Vec<String>>> = Arc::default();
    let checks = Arc::new(Mutex::new(0u64));
    let checker = {
        let (stop, violations, checks, db) =
            (stop.clone(), violations.clone(), checks.clone(), db.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some(live) = snapshot(&db) {
                    *checks.lock().unwrap() += 1;
                    for (i, a) in live.iter().enumerate() {
                        for b in &live[i + 1..] {
                            if let Some(w) = clash(a, b) {
                                violations.lock().unwrap().push(format!(
                                    "live together: {a:?} and {b:?} (both cover {w})"
                                ));
                            }
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };

    let started = Instant::now();
    let mut workers: Vec<Worker> = (0..WORKERS).map(|i| spawn(&repo, i, secs)).collect();
    // Kill six workers, SIGKILL to the whole process group (the loop and the
    // hookgate it is running), spread over the run.
    let victims = [3usize, 9, 14, 20, 27, 31];
    for (n, &v) in victims.iter().enumerate() {
        let at = Duration::from_millis(secs * 1000 * (n as u64 + 1) / (victims.len() as u64 + 2));
        while started.elapsed() < at {
            std::thread::sleep(Duration::from_millis(50));
        }
        let pgid = workers[v].child.id() as i32;
        let status = Command::new("kill")
            .args(["-9", "--", &format!("-{pgid}")])
            .status()
            .unwrap();
        assert!(status.success());
        workers[v].killed = true;
    }
    for w in &mut workers {
        let _ = w.child.wait();
    }
    stop.store(true, Ordering::Relaxed);
    checker.join().unwrap();

    // Every command exited 0 or 3, and no caller saw a locked database.
    let mut grants = 0;
    let mut reported: HashMap<String, usize> = HashMap::new();
    let mut released_ids: Vec<i64> = Vec::new();
    for w in &workers {
        let log = std::fs::read_to_string(&w.log).unwrap_or_default();
        let err = std::fs::read_to_string(w.log.with_extension("log.err")).unwrap_or_default();
        // Racers holding shared or intent leases hear of others' releases:
        // that line is expected, anything else on stderr is not.
        let err: String = err
            .lines()
            .filter(|l| !(l.starts_with("hookgate: ") && l.contains(" for you: `hookgate inbox`")))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(
            !err.contains("locked") && !err.contains("busy"),
            "{}: {err}",
            w.agent
        );
        if !w.killed {
            assert!(log.ends_with("done\n"), "{} did not finish: {log}", w.agent);
            assert!(err.is_empty(), "{}: {err}", w.agent);
        }
        for line in log.lines() {
            let mut parts = line.splitn(3, ' ');
            let (kind, rc, body) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
            match (kind, rc) {
                (Some("reserve"), Some("0")) => {
                    grants += 1;
                    *reported.entry(w.agent.clone()).or_default() += 1;
                }
                (Some("reserve"), Some("3")) => {}
                (Some("release"), Some("0")) => {
                    let v: serde_json::Value = serde_json::from_str(body).unwrap();
                    for r in v["released"].as_array().unwrap() {
                        let id = r["reservation"].as_str().unwrap();
                        released_ids.push(id.trim_start_matches('r').parse().unwrap());
                    }
                }
                (Some("done"), None) => {}
                // A killed worker's last line may be cut short.
                _ if w.killed => {}
                other => panic!("{}: unexpected line {other:?}: {line}", w.agent),
            }
        }
    }
    eprintln!(
        "race: {} workers for {secs}s, {} killed: {grants} grants, {} releases, {} checker passes",
        WORKERS,
        victims.len(),
        released_ids.len(),
        *checks.lock().unwrap()
    );
    assert!(grants > 100, "too few grants to mean anything: {grants}");
    let v = violations.lock().unwrap();
    assert!(v.is_empty(), "{} violations, first: {}", v.len(), v[0]);
    assert!(*checks.lock().unwrap() > 50, "the checker barely ran");

    // No release was lost.
    let conn = rusqlite::Connection::open(&db).unwrap();
    for id in &released_ids {
        let released: Option<i64> = conn
            .query_row(
                "SELECT released_ms FROM reservations WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            released.is_some(),
            "release of r{id} was reported but is not in the store"
        );
    }

    // Replay the lease log: no grant ever clashed with a live reservation.
    let mut st = conn
        .prepare("SELECT ts_ms, action, reservation, agent, detail FROM lease_log ORDER BY seq")
        .unwrap();
    let mut live: HashMap<i64, Live> = HashMap::new();
    let mut logged: HashMap<String, usize> = HashMap::new();
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (ts, action, id, agent, detail) = row.unwrap();
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
        let id = id.unwrap();
        live.retain(|_, l| l.expires_ms > ts);
        match action.as_str() {
            "grant" => {
                let new = Live {
                    agent,
                    patterns: serde_json::from_value(detail["patterns"].clone()).unwrap(),
                    mode: Mode::parse(detail["mode"].as_str().unwrap()).unwrap(),
                    expires_ms: detail["expires_ms"].as_i64().unwrap(),
                };
                for (other_id, l) in &live {
                    if let Some(w) = clash(&new, l) {
                        panic!("log replay: r{id} {new:?} granted while r{other_id} {l:?} was live (both cover {w})");
                    }
                }
                *logged.entry(new.agent.clone()).or_default() += 1;
                live.insert(id, new);
            }
            "renew" => {
                if let Some(l) = live.get_mut(&id) {
                    l.expires_ms = detail["expires_ms"].as_i64().unwrap();
                }
            }
            "release" | "force-release" => {
                live.remove(&id);
            }
            other => panic!("unknown log action {other}"),
        }
    }
    // Every reported grant is in the log. A worker killed between the grant's
    // commit and its own `echo` may have one grant it never reported.
    for w in &workers {
        let (r, l) = (
            reported.get(&w.agent).copied().unwrap_or(0),
            logged.get(&w.agent).copied().unwrap_or(0),
        );
        let ok = if w.killed {
            l == r || l == r + 1
        } else {
            l == r
        };
        assert!(ok, "{}: {r} grants reported, {l} in the log", w.agent);
    }

    // Killed workers' leases lapse by TTL.
    // (Polled: on a loaded machine the last grants land a little later.)
    let deadline = std::time::Instant::now() + Duration::from_secs(TTL_SECS + 10);
    std::thread::sleep(Duration::from_secs(TTL_SECS + 1));
    let mut left = snapshot(&db).unwrap();
    while !left.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        left = snapshot(&db).unwrap();
    }
    assert!(left.is_empty(), "still live after the TTL: {left:?}");
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}
