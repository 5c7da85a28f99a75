//! Round-trip latency of `hookgate mcp` over stdio: one server process,
//! initialized once, then N `tools/call` round trips each of `check` and
//! `whoami` (write one request line, read one response line), against a
//! floor measured in the same run: a trivial Rust JSON-RPC responder (this
//! executable re-run as an echo server) that parses each request and answers
//! a fixed tool result over the same kind of pipes. The three are
//! interleaved in rounds, so a noisy moment hits all of them.
//!
//! Run by `bench/mcp-latency.sh` (which builds the release binary and a
//! store with 1,000 live reservations); directly:
//! `MCP_BENCH_REPO=DIR cargo bench -p hookgate --bench mcp_latency -- [N]`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_hookgate");
const ECHO_ENV: &str = "MCP_BENCH_ECHO";

/// The floor: answer every JSON-RPC request line with a fixed tool result.
fn echo_server() {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(req) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let Some(id) = req.get("id") else { continue };
        let resp = json!({"jsonrpc": "2.0", "id": id,
            "result": {"content": [{"type": "text", "text": "{}"}], "isError": false}});
        if writeln!(out, "{resp}").and_then(|_| out.flush()).is_err() {
            break;
        }
    }
}

struct Peer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next: i64,
    line: String,
}

impl Peer {
    fn spawn(mut cmd: Command) -> Peer {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Peer {
            child,
            stdin,
            stdout,
            next: 1,
            line: String::new(),
        }
    }

    /// One request, its response line parsed (for checks outside the timing).
    fn request(&mut self, method: &str, params: &Value) -> Value {
        let id = self.next;
        self.next += 1;
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        writeln!(self.stdin, "{msg}").expect("write");
        self.stdin.flush().expect("flush");
        loop {
            self.line.clear();
            let n = self.stdout.read_line(&mut self.line).expect("read");
            assert!(n > 0, "the server closed stdout");
            let v: Value = serde_json::from_str(&self.line).expect("JSON-RPC line");
            if v["id"] == json!(id) {
                return v;
            }
        }
    }

    /// One timed round trip: the request is serialized before the clock
    /// starts; the clock stops when the response line has been read.
    fn timed(&mut self, body: &str) -> f64 {
        let id = self.next;
        self.next += 1;
        let msg = format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},{body}}}\n");
        let t = Instant::now();
        self.stdin.write_all(msg.as_bytes()).expect("write");
        self.stdin.flush().expect("flush");
        self.line.clear();
        self.stdout.read_line(&mut self.line).expect("read");
        let dt = t.elapsed().as_secs_f64() * 1000.0;
        assert!(
            self.line.contains(&format!("\"id\":{id}")) && !self.line.contains("\"isError\":true"),
            "unexpected answer: {}",
            self.line
        );
        dt
    }

    fn init(&mut self) {
        let r = self.request(
            "initialize",
            &json!({"protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "bench", "version": "1"}}),
        );
        assert!(r.get("result").is_some(), "{r}");
        writeln!(
            self.stdin,
            "{}",
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
        )
        .expect("write");
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    if std::env::var_os(ECHO_ENV).is_some() {
        echo_server();
        return;
    }
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2000);
    let repo = std::env::var("MCP_BENCH_REPO").expect(
        "MCP_BENCH_REPO: a git work tree whose store to use (bench/mcp-latency.sh makes one)",
    );
    let check_path = std::env::var("MCP_BENCH_PATH").unwrap_or_else(|_| "area1/mod2/x.rs".into());

    let mut server = {
        let mut c = Command::new(BIN);
        c.arg("mcp")
            .current_dir(&repo)
            .env("HOOKGATE_AGENT", "bench-mcp")
            .env_remove("HOOKGATE_STORE")
            .env_remove("HOOKGATE_POLICY");
        Peer::spawn(c)
    };
    server.init();
    let mut floor = {
        let mut c = Command::new(std::env::current_exe().expect("current exe"));
        c.env(ECHO_ENV, "1");
        Peer::spawn(c)
    };
    floor.init_echo();

    let check = format!(
        "\"method\":\"tools/call\",\"params\":{{\"name\":\"check\",\"arguments\":{{\"paths\":[\"{check_path}\"]}}}}"
    );
    let whoami = "\"method\":\"tools/call\",\"params\":{\"name\":\"whoami\",\"arguments\":{}}";
    // What check answers, once, outside the timing.
    let sample = server.request(
        "tools/call",
        &json!({"name": "check", "arguments": {"paths": [check_path]}}),
    );
    let text = sample["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or("");
    let answer: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let holders = answer["paths"][0]["held_by_others"]
        .as_array()
        .map_or(0, Vec::len);
    let live = {
        let r = server.request("tools/call", &json!({"name": "locks", "arguments": {}}));
        let t = r["result"]["content"][0]["text"].as_str().unwrap_or("");
        serde_json::from_str::<Value>(t)
            .ok()
            .and_then(|v| v["reservations"].as_array().map(Vec::len))
            .unwrap_or(0)
    };

    // Warm up.
    for _ in 0..200 {
        server.timed(&check);
        server.timed(whoami);
        floor.timed(whoami);
    }
    let (mut f, mut c, mut w) = (Vec::new(), Vec::new(), Vec::new());
    let rounds = 20;
    for r in 0..rounds {
        let k = n / rounds + usize::from(r < n % rounds);
        for _ in 0..k {
            f.push(floor.timed(whoami));
        }
        for _ in 0..k {
            c.push(server.timed(&check));
        }
        for _ in 0..k {
            w.push(server.timed(whoami));
        }
    }
    println!(
        "hookgate mcp round trips over stdio: N={n} per row, {live} live reservations in the store, \
         `check {check_path}` held by {holders} other agent(s)"
    );
    println!(
        "{:<44} {:>9} {:>9} {:>9} {:>12}",
        "", "median", "p90", "p99", "median-floor"
    );
    let mut fm = 0.0;
    for (name, v) in [
        ("floor: Rust JSON-RPC echo responder", &mut f),
        ("tools/call check (1 path)", &mut c),
        ("tools/call whoami", &mut w),
    ] {
        v.sort_by(f64::total_cmp);
        let med = pct(v, 0.5);
        if fm == 0.0 {
            fm = med;
        }
        println!(
            "{name:<44} {:>7.3}ms {:>7.3}ms {:>7.3}ms {:>10.3}ms",
            med,
            pct(v, 0.9),
            pct(v, 0.99),
            med - fm
        );
    }
    let worst = pct(&c, 0.5).max(pct(&w, 0.5));
    println!(
        "target: median <= 2 ms: {}",
        if worst <= 2.0 { "met" } else { "MISSED" }
    );
}

impl Peer {
    /// The echo floor needs no handshake; one round trip warms it.
    fn init_echo(&mut self) {
        let r = self.request("ping", &json!({}));
        assert!(r.get("result").is_some(), "{r}");
    }
}
