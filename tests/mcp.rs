//! Black-box: `hookgate mcp` spoken to over its real stdio with JSON-RPC —
//! the tool list, reservations and conflicts between two servers of
//! different agents, bad arguments, resources, messages, the identity shared
//! with the hooks of the same platform process, and the official Python MCP
//! client (tests/mcp_client.py).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use common::Repo;
use serde_json::{json, Value};

/// Every tool the server must offer.
const TOOLS: &[&str] = &[
    "whoami",
    "reserve",
    "release",
    "extend",
    "check",
    "locks",
    "agents",
    "send",
    "inbox",
    "read",
    "ack",
    "request_release",
    "respond",
    "requests",
    "task_add",
    "task_list",
    "task_claim",
    "task_next",
    "task_done",
    "task_block",
    "task_unblock",
];

/// A JSON-RPC client over a child's stdin and stdout.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    next: i64,
}

impl Client {
    /// `hookgate mcp` in the repository, as `agent` (none: identity from the hooks).
    fn spawn(repo: &Repo, agent: Option<&str>) -> Client {
        let mut cmd = repo.cmd(&["mcp"]);
        if let Some(a) = agent {
            cmd.env("HOOKGATE_AGENT", a);
        }
        Client::start(cmd)
    }

    fn start(mut cmd: Command) -> Client {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn hookgate mcp");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut c = Client {
            stdin: child.stdin.take(),
            child,
            lines: rx,
            next: 1,
        };
        let init = c.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "hookgate-test", "version": "1"}}),
        );
        assert_eq!(init["result"]["serverInfo"]["name"], "hookgate", "{init}");
        c.notify("notifications/initialized", json!({}));
        c
    }

    fn send(&mut self, msg: &Value) {
        let stdin = self.stdin.as_mut().expect("open stdin");
        writeln!(stdin, "{msg}").expect("write to the server");
        stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The whole response (`result` or `error`).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next;
        self.next += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("no answer to {method} within 20 s"));
            let v: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout is not JSON-RPC ({e}): {line}"));
            if v["id"] == json!(id) {
                return v;
            }
        }
    }

    /// `tools/call`: (isError, the first text content parsed as JSON, the whole result).
    fn call(&mut self, name: &str, args: Value) -> (bool, Value, Value) {
        let r = self.request("tools/call", json!({"name": name, "arguments": args}));
        let result = r
            .get("result")
            .cloned()
            .unwrap_or_else(|| panic!("{name}: protocol error {r}"));
        let text = result["content"][0]["text"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let parsed = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (result["isError"] == json!(true), parsed, result)
    }

    /// A call that must succeed: its JSON.
    fn ok(&mut self, name: &str, args: Value) -> Value {
        let (err, v, whole) = self.call(name, args);
        assert!(!err, "{name} failed: {whole}");
        v
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // Closing stdin ends the server.
        drop(self.stdin.take());
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cli_json(repo: &Repo, agent: &str, args: &[&str]) -> Value {
    let out = repo.run_as(agent, args);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {out:?}"))
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

#[test]
fn every_tool_is_listed_with_a_description_and_a_schema() {
    let repo = Repo::new();
    let mut c = Client::spawn(&repo, Some("lister"));
    let r = c.request("tools/list", json!({}));
    let tools = r["result"]["tools"].as_array().expect("tools").clone();
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    for t in TOOLS {
        assert!(names.contains(t), "{t} missing from {names:?}");
    }
    for t in &tools {
        let d = t["description"].as_str().unwrap_or("");
        assert!(
            d.len() >= 40,
            "{} needs a real description: {d:?}",
            t["name"]
        );
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert_eq!(
            t["inputSchema"]["additionalProperties"], false,
            "unknown arguments are refused: {t}"
        );
    }
    let reserve = tools.iter().find(|t| t["name"] == "reserve").unwrap();
    assert_eq!(reserve["inputSchema"]["required"], json!(["patterns"]));
    let r = c.request("resources/list", json!({}));
    let uris: Vec<&str> = r["result"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["uri"].as_str())
        .collect();
    assert_eq!(uris, ["hookgate://locks", "hookgate://agents"]);
}

#[test]
fn two_agents_reserve_conflict_and_release_through_their_own_servers() {
    let repo = Repo::new();
    let mut a = Client::spawn(&repo, Some("mcp-a"));
    let mut b = Client::spawn(&repo, Some("mcp-b"));
    let granted = a.ok(
        "reserve",
        json!({"patterns": ["src/**"], "reason": "refactor the library"}),
    );
    assert_eq!(granted["status"], "granted", "{granted}");
    assert_eq!(granted["agent"], "mcp-a");
    let id = granted["reservation"].as_str().unwrap().to_string();
    // Same shape as the CLI's --json.
    let cli = cli_json(&repo, "cli-c", &["reserve", "docs/**", "--json"]);
    assert_eq!(keys(&granted), keys(&cli));

    let (err, refused, whole) = b.call("reserve", json!({"patterns": ["src/lib.rs"]}));
    assert!(err, "a refusal is an error result: {whole}");
    assert_eq!(refused["status"], "refused", "{refused}");
    let c0 = &refused["conflicts"][0];
    assert_eq!(c0["holder_id"], "mcp-a", "{refused}");
    assert_eq!(c0["reservation"], id.as_str());
    assert_eq!(c0["reason"], "refactor the library");
    assert_eq!(c0["holder_active"], true);
    assert_eq!(c0["example"], "src/lib.rs");
    assert!(refused["next"].as_str().unwrap().contains("--wait"));

    // check and locks agree with the CLI.
    let chk = b.ok("check", json!({"paths": ["src/lib.rs", "README.md"]}));
    assert_eq!(chk["paths"][0]["free"], false);
    assert_eq!(chk["paths"][0]["held_by_others"][0]["holder_id"], "mcp-a");
    assert_eq!(chk["paths"][1]["free"], true);
    let cli_chk = cli_json(
        &repo,
        "mcp-b",
        &["check", "src/lib.rs", "README.md", "--json"],
    );
    assert_eq!(
        chk["paths"][0]["held_by_others"][0]["reservation"],
        cli_chk["paths"][0]["held_by_others"][0]["reservation"]
    );
    let mine = a.ok("locks", json!({"mine": true}));
    assert_eq!(mine["reservations"].as_array().unwrap().len(), 1);
    assert_eq!(mine["reservations"][0]["mine"], true);

    let released = a.ok("release", json!({"targets": [id]}));
    assert_eq!(
        released["released"][0]["reservation"],
        id.as_str(),
        "{released}"
    );
    let now = b.ok(
        "reserve",
        json!({"patterns": ["src/lib.rs"], "mode": "exclusive"}),
    );
    assert_eq!(now["status"], "granted", "{now}");
    let ext = b.ok("extend", json!({"all": true, "by": "1h"}));
    assert_eq!(ext["extended"].as_array().unwrap().len(), 1, "{ext}");

    // The resources show the same.
    let r = a.request("resources/read", json!({"uri": "hookgate://locks"}));
    let text = r["result"]["contents"][0]["text"].as_str().unwrap();
    let locks: Value = serde_json::from_str(text).unwrap();
    let holders: Vec<&str> = locks["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["holder_id"].as_str())
        .collect();
    assert!(
        holders.contains(&"mcp-b") && !holders.contains(&"mcp-a"),
        "{locks}"
    );
    let r = a.request("resources/read", json!({"uri": "hookgate://agents"}));
    let agents: Value =
        serde_json::from_str(r["result"]["contents"][0]["text"].as_str().unwrap()).unwrap();
    let me = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "mcp-a")
        .expect("mcp-a listed");
    assert_eq!(me["you"], true);
    // Every call is a heartbeat, recorded as `mcp <tool>`.
    let mut c = Client::spawn(&repo, Some("mcp-c"));
    let listed = c.ok("agents", json!({}));
    let me = listed["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "mcp-c")
        .cloned()
        .expect("mcp-c listed");
    assert_eq!(
        (me["last_action"].as_str(), me["you"].as_bool()),
        (Some("mcp agents"), Some(true))
    );
    let cli = cli_json(&repo, "observer", &["agents", "--json"]);
    assert_eq!(keys(&listed), keys(&cli));
    assert_eq!(keys(&listed["agents"][0]), keys(&cli["agents"][0]));
    let r = a.request("resources/read", json!({"uri": "hookgate://nothing"}));
    assert!(r.get("error").is_some(), "{r}");
}

#[test]
fn wrong_argument_types_get_a_clear_error_and_store_nothing() {
    let repo = Repo::new();
    let mut c = Client::spawn(&repo, Some("careless"));
    let bad = [
        ("reserve", json!({"patterns": "src/**"}), "invalid type"),
        ("reserve", json!({"patterns": [1]}), "invalid type"),
        (
            "reserve",
            json!({"patterns": ["a"], "mode": "loud"}),
            "unknown variant",
        ),
        (
            "reserve",
            json!({"patterns": ["a"], "ttl": 30}),
            "invalid type",
        ),
        (
            "reserve",
            json!({"patterns": ["a"], "patern": "x"}),
            "unknown field",
        ),
        ("reserve", json!({}), "missing field"),
        ("release", json!({"all": "yes"}), "invalid type"),
        ("extend", json!({"targets": "r1"}), "invalid type"),
        ("check", json!({"paths": [true]}), "invalid type"),
        (
            "send",
            json!({"to": ["x"], "message": "hi"}),
            "invalid type",
        ),
        ("send", json!({"to": "x", "message": 5}), "invalid type"),
        ("inbox", json!({"limit": -1}), "invalid value"),
        ("read", json!({"id": true}), "did not match"),
        ("ack", json!({"ids": "m1"}), "invalid type"),
        ("whoami", json!({"name": 7}), "invalid type"),
    ];
    for (tool, args, says) in bad {
        let r = c.request("tools/call", json!({"name": tool, "arguments": args}));
        // rmcp answers argument errors as an error result (isError) with
        // its invalid-params message; a JSON-RPC error would do as well.
        let text = match (r.get("error"), r.get("result")) {
            (Some(e), _) => e["message"].as_str().unwrap_or("").to_string(),
            (None, Some(res)) => {
                assert_eq!(res["isError"], true, "{tool} {args}: {r}");
                res["content"][0]["text"].as_str().unwrap_or("").to_string()
            }
            _ => panic!("{r}"),
        };
        assert!(
            text.contains("failed to deserialize parameters") && text.contains(says),
            "{tool} {args}: {text}"
        );
    }
    // Values of the right type that can't be used: an error result, nothing stored.
    for args in [
        json!({"patterns": ["src/**"], "ttl": "soon"}),
        json!({"patterns": ["src/**"], "wait": "later"}),
        json!({"patterns": ["../../etc"]}),
        json!({"patterns": ["src/**"], "ttl": "99d"}),
    ] {
        let (err, v, whole) = c.call("reserve", args.clone());
        assert!(err, "{args}: {whole}");
        assert!(
            v["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{whole}"
        );
    }
    let (err, v, _) = c.call("send", json!({"to": "nobody-here", "message": "hi"}));
    assert!(
        err && v["error"].as_str().unwrap().contains("nobody-here"),
        "{v}"
    );
    // Nothing was stored: no reservation, no message, and the rejected
    // calls were not even heartbeats.
    let locks = cli_json(&repo, "observer", &["locks", "--json"]);
    assert_eq!(locks["reservations"], json!([]), "{locks}");
    let agents = cli_json(&repo, "observer", &["agents", "--all", "--json"]);
    let careless = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "careless")
        .cloned()
        .expect("the send to an unknown recipient came after a heartbeat");
    assert_eq!(careless["reservations"], 0);
    let mut t = Client::spawn(&repo, Some("typo-only"));
    let (err, _, _) = t.call("reserve", json!({"patterns": "x"}));
    assert!(err);
    let agents = cli_json(&repo, "observer", &["agents", "--all", "--json"]);
    assert!(
        !agents["agents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == "typo-only"),
        "a call refused for its argument types records nothing: {agents}"
    );
    // An unknown tool is a protocol error.
    let r = t.request("tools/call", json!({"name": "nope", "arguments": {}}));
    assert!(r.get("error").is_some(), "{r}");
}

#[test]
fn messages_go_between_agents_and_bodies_come_back_framed() {
    let repo = Repo::new();
    let mut a = Client::spawn(&repo, Some("writer"));
    let mut b = Client::spawn(&repo, Some("reader"));
    b.ok("whoami", json!({}));
    let sent = a.ok(
        "send",
        json!({"to": "reader", "message": "please release src/\nthanks", "ack_required": true,
               "importance": "high"}),
    );
    let mid = sent["message"].as_str().unwrap().to_string();
    assert_eq!(sent["recipients"][0]["id"], "reader", "{sent}");
    let inbox = b.ok("inbox", json!({"unread": true}));
    assert_eq!(inbox["messages"][0]["id"], mid.as_str(), "{inbox}");
    assert_eq!(inbox["messages"][0]["subject"], "please release src/");
    assert_eq!(inbox["messages"][0]["ack_required"], true);
    let read = b.ok("read", json!({"id": mid}));
    let body = read["body"].as_str().unwrap();
    assert!(
        body.contains("untrusted-data") && body.contains("thanks"),
        "{body}"
    );
    let acked = b.ok("ack", json!({"ids": [mid]}));
    assert_eq!(acked["acknowledged"], 1);
    let (err, v, _) = b.call("read", json!({"id": "m999"}));
    assert!(err && v["error"].as_str().unwrap().contains("m999"), "{v}");
}

#[test]
fn a_holder_releases_on_request_through_mcp() {
    let repo = Repo::new();
    let mut holder = Client::spawn(&repo, Some("holder"));
    let mut asker = Client::spawn(&repo, Some("asker"));
    let g = holder.ok(
        "reserve",
        json!({"patterns": ["src/**"], "reason": "long job"}),
    );
    let rid = g["reservation"].as_str().unwrap().to_string();
    let made = asker.ok(
        "request_release",
        json!({"target": ["src/lib.rs"], "reason": "one-line fix", "urgency": "urgent"}),
    );
    let q = &made[0];
    assert_eq!(
        (q["holder"].as_str(), q["state"].as_str()),
        (Some("holder"), Some("pending")),
        "{made}"
    );
    let qid = q["id"].as_i64().unwrap();
    let listed = holder.ok("requests", json!({}));
    assert_eq!(listed[0]["request"]["id"], qid, "{listed}");
    let cli = cli_json(&repo, "holder", &["requests", "--json"]);
    assert_eq!(keys(&listed[0]), keys(&cli[0]));
    assert_eq!(keys(&listed[0]["request"]), keys(&cli[0]["request"]));
    // Only the holder answers.
    let (err, v, _) = asker.call(
        "respond",
        json!({"id": format!("rq{qid}"), "answer": "release"}),
    );
    assert!(
        err && v["error"].as_str().unwrap().contains("can answer it"),
        "{v}"
    );
    let done = holder.ok(
        "respond",
        json!({"id": qid, "answer": "release", "note": "go ahead"}),
    );
    assert_eq!(done["state"], "granted", "{done}");
    let locks = cli_json(&repo, "observer", &["locks", "--json"]);
    let holders: Vec<&str> = locks["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["holder_id"].as_str())
        .collect();
    assert_eq!(holders, ["asker"], "{locks} (was {rid})");
    // A request that waits returns once answered, or as an error result when not granted.
    holder.ok("reserve", json!({"patterns": ["docs/**"]}));
    let (err, v, _) = asker.call(
        "request_release",
        json!({"target": ["docs/**"], "wait": "1s"}),
    );
    assert!(err, "not answered within the wait: {v}");
    // At the deadline (the wait) it escalates: the holder is active.
    assert!(
        matches!(v[0]["state"].as_str(), Some("pending" | "escalated")),
        "{v}"
    );
}

#[test]
fn the_task_board_through_mcp() {
    let repo = Repo::new();
    let mut a = Client::spawn(&repo, Some("planner"));
    let mut b = Client::spawn(&repo, Some("worker"));
    let added = a.ok(
        "task_add",
        json!({"title": "fix the parser", "body": "see issue", "priority": 7, "files": ["src/**"]}),
    );
    assert_eq!(added["status"], "added", "{added}");
    let t = added["task"]["task"].as_str().unwrap().to_string();
    let later = a.ok(
        "task_add",
        json!({"title": "then the docs", "after": [t.clone()]}),
    );
    assert_eq!(later["task"]["status"], "blocked", "{later}");
    let cli = cli_json(&repo, "planner", &["task", "list", "--json"]);
    let mcp = a.ok("task_list", json!({}));
    assert_eq!(keys(&mcp), keys(&cli));
    assert_eq!(keys(&mcp["tasks"][0]), keys(&cli["tasks"][0]));
    let claimed = b.ok("task_next", json!({}));
    assert_eq!(
        (claimed["status"].as_str(), claimed["task"]["task"].as_str()),
        (Some("claimed"), Some(t.as_str())),
        "{claimed}"
    );
    let (err, refused, _) = a.call("task_claim", json!({"id": t}));
    assert!(err, "{refused}");
    assert_eq!(refused["kind"], "taken", "{refused}");
    let (err, none, _) = a.call("task_next", json!({}));
    assert!(err && none["status"] == "empty", "{none}");
    let done = b.ok("task_done", json!({"id": t}));
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["unblocked"].as_array().unwrap().len(), 1, "{done}");
    let id2 = later["task"]["id"].as_i64().unwrap();
    let blocked = a.ok(
        "task_block",
        json!({"id": id2, "reason": "waiting for review"}),
    );
    assert_eq!(blocked["task"]["status"], "blocked", "{blocked}");
    let unblocked = a.ok("task_unblock", json!({"id": id2}));
    assert_eq!(unblocked["task"]["status"], "open", "{unblocked}");
    let (err, v, _) = a.call("task_claim", json!({"id": "x9"}));
    assert!(
        err && v["error"].as_str().unwrap().contains("not a task id"),
        "{v}"
    );
}

/// The agents in the store (as an observer sees them).
fn agent_ids(repo: &Repo) -> Vec<String> {
    let v = cli_json(repo, "observer", &["agents", "--all", "--json"]);
    v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["id"].as_str().map(str::to_string))
        .filter(|id| id != "observer")
        .collect()
}

fn host_pid_of(repo: &Repo, agent: &str) -> Option<i64> {
    let conn = rusqlite::Connection::open(repo.store()).unwrap();
    conn.query_row("SELECT host_pid FROM agents WHERE id = ?1", [agent], |r| {
        r.get(0)
    })
    .unwrap()
}

#[test]
fn the_server_is_the_agent_whose_hooks_its_platform_process_ran() {
    let repo = Repo::new();
    // Started before any hook: it does not know whom it speaks for, and
    // says how to fix that; it creates no agent.
    let mut server = Client::spawn(&repo, None);
    let (err, v, _) = server.call("whoami", json!({}));
    assert!(err, "{v}");
    let msg = v["error"].as_str().unwrap();
    assert!(
        msg.contains("no hook of this session has been seen") && msg.contains("HOOKGATE_AGENT"),
        "{msg}"
    );
    let (err, _, _) = server.call("reserve", json!({"patterns": ["src/**"]}));
    assert!(err);
    // Read-only tools work without an identity.
    server.ok("locks", json!({}));
    assert!(agent_ids(&repo).is_empty());

    // This process plays the platform: it runs a SessionStart hook, as
    // it ran the server (both its children).
    let mut payload: Value = serde_json::from_str(&repo.fixture("session_start")).unwrap();
    payload["session_id"] = "sess-mcp".into();
    let out = repo.run(&["hook", "claude"], &payload.to_string());
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        host_pid_of(&repo, "sess-mcp"),
        Some(i64::from(std::process::id())),
        "the hook records its platform process"
    );
    // The running server now resolves to that agent.
    let me = server.ok("whoami", json!({}));
    assert_eq!(me["id"], "sess-mcp", "{me}");
    assert_eq!(
        me["platform"], "claude",
        "the platform of its hooks is kept"
    );
    assert!(
        me["identity_from"]
            .as_str()
            .unwrap()
            .contains(&std::process::id().to_string()),
        "{me}"
    );
    let g = server.ok("reserve", json!({"patterns": ["src/**"]}));
    assert_eq!(g["agent"], "sess-mcp");
    assert_eq!(agent_ids(&repo), ["sess-mcp"], "one agent, never two rows");
    // A subagent's hooks (same process) do not take the server over.
    let sub = repo.claude_payload("sess-mcp", Some("helper"), "Edit", "docs/x.md");
    assert_eq!(repo.run(&["hook", "claude"], &sub).code, 0);
    assert_eq!(server.ok("whoami", json!({}))["id"], "sess-mcp");
}

#[test]
fn a_hook_and_a_server_under_one_shell_script_are_one_agent() {
    let repo = Repo::new();
    let mut payload: Value = serde_json::from_str(&repo.fixture("session_start")).unwrap();
    payload["session_id"] = "sess-sh".into();
    let file = repo.root.join("payload.json");
    std::fs::write(&file, payload.to_string()).unwrap();
    // `sh -c` runs the hook, then the server, both as its children (no
    // exec): the shell is skipped on both sides, and the platform process
    // (here: this test) is what they share.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("\"$1\" hook claude < \"$2\" > /dev/null && \"$1\" mcp; exit $?")
        .arg("sh")
        .arg(common::BIN)
        .arg(&file)
        .current_dir(&repo.root)
        .env_remove("HOOKGATE_AGENT")
        .env_remove("HOOKGATE_STORE")
        .env_remove("HOOKGATE_POLICY")
        .env("HOOKGATE_CACHE", common::shared_cache());
    let mut server = Client::start(cmd);
    let me = server.ok("whoami", json!({}));
    assert_eq!(me["id"], "sess-sh", "{me}");
    server.ok(
        "reserve",
        json!({"patterns": ["docs/**"], "reason": "from MCP"}),
    );
    assert_eq!(agent_ids(&repo), ["sess-sh"]);
    assert_eq!(
        host_pid_of(&repo, "sess-sh"),
        Some(i64::from(std::process::id()))
    );
    let locks = cli_json(&repo, "observer", &["locks", "--json"]);
    assert_eq!(locks["reservations"][0]["holder_id"], "sess-sh");
}

/// The pinned version of the official Python MCP SDK the client test uses.
const PY_MCP: &str = "mcp==2.3.0";

fn imports_mcp(python: &std::path::Path) -> bool {
    Command::new(python)
        .args(["-c", "import mcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A python3 that can `import mcp`: the system's, else a virtual environment
/// under the test target directory, created with the pinned package from the
/// package index the first time (so `cargo test` needs no set-up of its own).
fn python_with_mcp() -> Result<std::path::PathBuf, String> {
    let system = std::path::PathBuf::from("python3");
    if imports_mcp(&system) {
        return Ok(system);
    }
    let venv = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("py-mcp");
    let python = venv.join("bin/python3");
    if imports_mcp(&python) {
        return Ok(python);
    }
    let run = |cmd: &mut Command| -> Result<(), String> {
        let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr)))
        }
    };
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(&python).args(["-m", "pip", "install", "--quiet", PY_MCP]))?;
    if imports_mcp(&python) {
        Ok(python)
    } else {
        Err(format!("{} still cannot import mcp", python.display()))
    }
}

#[test]
fn the_official_python_client_works() {
    let python = match python_with_mcp() {
        Ok(p) => p,
        Err(e) if std::env::var("HOOKGATE_SKIP_PY_MCP").as_deref() == Ok("1") => {
            eprintln!("skipped (HOOKGATE_SKIP_PY_MCP=1): {e}");
            return;
        }
        Err(e) => panic!(
            "python3 with the `mcp` package is needed ({PY_MCP}) and could not be set up: {e}; \
             set HOOKGATE_SKIP_PY_MCP=1 to skip this test"
        ),
    };
    let repo = Repo::new();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/mcp_client.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(common::BIN)
        .arg(&repo.root)
        .env("HOOKGATE_CACHE", common::shared_cache())
        .env_remove("HOOKGATE_AGENT")
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("PASS"),
        "python client failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
}
