//! The task board through the real binary: a race of 16 processes for 8
//! tasks, all-or-nothing file reservations on claim, dependencies that
//! unblock when done, and the exit codes of the `task` commands.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;

use common::{Out, Repo};

fn task_id(out: &Out) -> String {
    out.json()["task"]["task"]
        .as_str()
        .unwrap_or_else(|| panic!("no task in {out:?}"))
        .to_string()
}

fn add(repo: &Repo, args: &[&str]) -> String {
    let mut all = vec!["task", "add"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = repo.run_as("maker", &all);
    assert_eq!(out.code, 0, "{out:?}");
    task_id(&out)
}

/// `task list --all --json`, by label.
fn board(repo: &Repo) -> BTreeMap<String, serde_json::Value> {
    let out = repo.run_as("observer", &["task", "list", "--all", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    out.json()["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["task"].as_str().unwrap().to_string(), t.clone()))
        .collect()
}

/// Live reservations, as `(holder id, patterns)`.
fn locks(repo: &Repo) -> Vec<(String, Vec<String>)> {
    let out = repo.run_as("observer", &["locks", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    out.json()["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["holder_id"].as_str().unwrap().to_string(),
                r["patterns"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn sixteen_processes_race_for_eight_tasks() {
    let repo = Repo::new();
    let ids: Vec<String> = (0..8)
        .map(|i| add(&repo, &[&format!("task number {i}"), "--priority", "5"]))
        .collect();
    // Spawn all 16 first, then collect: they contend for the store at once.
    let children: Vec<(String, std::process::Child)> = (0..16)
        .map(|i| {
            let agent = format!("racer-{i}");
            let child = repo
                .cmd(&["task", "next", "--json"])
                .env("HOOKGATE_AGENT", &agent)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn hookgate");
            (agent, child)
        })
        .collect();
    let mut claims: BTreeMap<String, String> = BTreeMap::new();
    let mut empty = 0;
    for (agent, child) in children {
        let o = child.wait_with_output().unwrap();
        let out = Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        };
        assert!(
            !out.stderr.contains("locked") && !out.stderr.contains("busy"),
            "{agent}: {out:?}"
        );
        match out.code {
            0 => {
                let v = out.json();
                assert_eq!(v["status"], "claimed", "{agent}: {out:?}");
                assert_eq!(v["task"]["owner"], agent.as_str());
                let id = task_id(&out);
                if let Some(other) = claims.insert(id.clone(), agent.clone()) {
                    panic!("{id} claimed by both {other} and {agent}");
                }
            }
            3 => {
                assert_eq!(out.json()["status"], "empty", "{agent}: {out:?}");
                empty += 1;
            }
            c => panic!("{agent} exited {c}: {out:?}"),
        }
    }
    assert_eq!(claims.len(), 8, "{claims:?}");
    assert_eq!(empty, 8);
    assert_eq!(
        claims.keys().cloned().collect::<BTreeSet<_>>(),
        ids.iter().cloned().collect::<BTreeSet<_>>()
    );
    // The store agrees: each task claimed once, by the agent told so.
    let b = board(&repo);
    for (id, agent) in &claims {
        assert_eq!(b[id]["status"], "claimed", "{id}");
        assert_eq!(b[id]["owner"], agent.as_str(), "{id}");
    }
    let conn = rusqlite::Connection::open(repo.store()).unwrap();
    let rows: Vec<(i64, String, Option<String>)> = conn
        .prepare("SELECT id, state, owner FROM tasks ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 8);
    let owners: BTreeSet<String> = rows.iter().filter_map(|r| r.2.clone()).collect();
    assert_eq!(owners.len(), 8, "{rows:?}");
    for (id, state, owner) in &rows {
        assert_eq!(state, "claimed");
        assert_eq!(claims[&format!("t{id}")], *owner.as_ref().unwrap());
    }
    // A racer asking again gets its own task back; a loser still gets none.
    let (id, agent) = claims.iter().next().unwrap();
    let again = repo.run_as(agent, &["task", "next", "--json"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.json()["status"], "already-yours");
    assert_eq!(&task_id(&again), id);
    let loser = (0..16)
        .map(|i| format!("racer-{i}"))
        .find(|a| !claims.values().any(|v| v == a))
        .unwrap();
    let none = repo.run_as(&loser, &["task", "next"]);
    assert_eq!(none.code, 3, "{none:?}");
    assert!(none.stderr.contains("no task to claim"), "{none:?}");
}

#[test]
fn reserving_files_on_claim_is_all_or_nothing() {
    let repo = Repo::new();
    repo.policy("version = 1\n[tasks]\nreserve_files = true\nreserve_ttl = \"1h\"\n");
    let held = repo.run_as("holder", &["reserve", "src/lib.rs", "--reason", "mine"]);
    assert_eq!(held.code, 0, "{held:?}");
    let t1 = add(
        &repo,
        &[
            "refactor", "the", "lib", "--files", "src/**", "--files", "docs/**",
        ],
    );
    assert_eq!(t1, "t1");
    // One of its files is held: refused, naming the holder; nothing stored.
    let out = repo.run_as("worker", &["task", "claim", "t1", "--json"]);
    assert_eq!(out.code, 3, "{out:?}");
    let v = out.json();
    assert_eq!(v["status"], "refused");
    assert_eq!(v["kind"], "files-held");
    assert_eq!(v["conflicts"][0]["holder_id"], "holder");
    let text = repo.run_as("worker", &["task", "claim", "1"]);
    assert_eq!(text.code, 3);
    assert!(
        text.stderr.contains("holder") && text.stderr.contains("src/lib.rs"),
        "{text:?}"
    );
    let next = repo.run_as("worker", &["task", "next", "--json"]);
    assert_eq!(next.code, 3, "{next:?}");
    assert_eq!(next.json()["skipped"][0]["task"], "t1");
    let b = board(&repo);
    assert_eq!(b["t1"]["status"], "open");
    assert_eq!(b["t1"]["owner"], serde_json::Value::Null);
    assert_eq!(b["t1"]["reservation"], serde_json::Value::Null);
    assert_eq!(
        locks(&repo),
        vec![("holder".to_string(), vec!["src/lib.rs".to_string()])],
        "no reservation left behind"
    );
    // Once the holder lets go, the claim takes every file at once.
    assert_eq!(repo.run_as("holder", &["release", "--all"]).code, 0);
    let got = repo.run_as("worker", &["task", "claim", "t1", "--json"]);
    assert_eq!(got.code, 0, "{got:?}");
    let v = got.json();
    assert_eq!(v["status"], "claimed");
    assert_eq!(
        v["reservation"]["patterns"],
        serde_json::json!(["src/**", "docs/**"])
    );
    assert_eq!(
        locks(&repo),
        vec![(
            "worker".to_string(),
            vec!["src/**".to_string(), "docs/**".to_string()]
        )]
    );
    // Now the holder is the one refused.
    let back = repo.run_as("holder", &["reserve", "src/lib.rs"]);
    assert_eq!(back.code, 3, "{back:?}");
    // Done releases it.
    let fin = repo.run_as("worker", &["task", "done", "t1", "--json"]);
    assert_eq!(fin.code, 0, "{fin:?}");
    assert!(fin.json()["released"].as_str().unwrap().starts_with('r'));
    assert!(locks(&repo).is_empty());
}

#[test]
fn dependencies_unblock_when_done() {
    let repo = Repo::new();
    let t1 = add(&repo, &["schema", "--priority", "1"]);
    let t2 = add(&repo, &["api", "--priority", "9", "--after", &t1]);
    let t3 = add(
        &repo,
        &["docs", "--priority", "9", "--after", "1", "--after", &t2],
    );
    let b = board(&repo);
    assert_eq!(b[&t2]["status"], "blocked");
    assert_eq!(b[&t2]["blocked"], "waiting for t1");
    assert_eq!(b[&t3]["waiting_for"], serde_json::json!(["t1", "t2"]));
    let refused = repo.run_as("a", &["task", "claim", &t2, "--json"]);
    assert_eq!(refused.code, 3, "{refused:?}");
    assert_eq!(refused.json()["kind"], "waiting");
    // The blocked high-priority tasks are passed over.
    let got = repo.run_as("a", &["task", "next", "--json"]);
    assert_eq!(got.code, 0, "{got:?}");
    assert_eq!(task_id(&got), t1);
    let fin = repo.run_as("a", &["task", "done", &t1, "--json"]);
    assert_eq!(fin.code, 0, "{fin:?}");
    assert_eq!(fin.json()["unblocked"], serde_json::json!([t2.clone()]));
    let got = repo.run_as("a", &["task", "next", "--json"]);
    assert_eq!(task_id(&got), t2);
    let fin = repo.run_as("a", &["task", "done", &t2]);
    assert_eq!(fin.code, 0, "{fin:?}");
    assert!(fin.stdout.contains("unblocked: t3"), "{fin:?}");
    assert_eq!(board(&repo)[&t3]["status"], "open");
}

#[test]
fn usage_errors_exit_1_with_one_line() {
    let repo = Repo::new();
    let t1 = add(&repo, &["one"]);
    for args in [
        &["task", "add", "x", "--priority", "42"][..],
        &["task", "add", "x", "--after", "t99"],
        &["task", "add", "bad\u{1b}[31m"],
        &["task", "claim", "r1"],
        &["task", "claim", "t99"],
        &["task", "block", "t1", "--reason", " "],
    ] {
        let out = repo.run_as("a", args);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert_eq!(out.stderr.trim().lines().count(), 1, "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
    }
    // Done by a non-owner needs --force.
    assert_eq!(repo.run_as("a", &["task", "claim", &t1]).code, 0);
    let out = repo.run_as("b", &["task", "done", &t1]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("--force"), "{out:?}");
    let out = repo.run_as("b", &["task", "done", &t1, "--force", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["forced"], true);
    // Block and unblock round trip.
    let t2 = add(&repo, &["two"]);
    let out = repo.run_as("a", &["task", "block", &t2, "--reason", "needs a decision"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = repo.run_as("b", &["task", "next", "--json"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(out.json()["status"], "empty");
    assert_eq!(repo.run_as("a", &["task", "unblock", "t2"]).code, 0);
    let out = repo.run_as("b", &["task", "next", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(task_id(&out), "t2");
    // Nothing refused above left a task behind.
    assert_eq!(board(&repo).len(), 2);
}
