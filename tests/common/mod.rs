//! Shared helpers for the black-box tests: a scratch repository and a way to
//! run the real `hookgate` binary on a payload.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_hookgate");
pub const HOSTILE_WASM: &str = env!("HOOKGATE_TEST_GUEST_HOSTILE");

/// A scratch git work tree with a few files, and a private store and cache.
pub struct Repo {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
}

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().canonicalize().expect("canonical");
        std::fs::create_dir_all(root.join(".git")).unwrap();
        for (f, body) in [
            ("src/lib.rs", "pub fn f() {}\n"),
            ("deploy/key.pem", "-----BEGIN PRIVATE KEY-----\n"),
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        }
        Repo { dir, root }
    }

    /// Write `.hookgate/policy.toml`.
    pub fn policy(&self, text: &str) -> &Repo {
        std::fs::create_dir_all(self.root.join(".hookgate")).unwrap();
        std::fs::write(self.root.join(".hookgate/policy.toml"), text).unwrap();
        self
    }

    pub fn store(&self) -> PathBuf {
        self.root.join(".git/hookgate/state.db")
    }

    /// A fixture payload with `{{ROOT}}` filled in.
    pub fn fixture(&self, name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/claude")
            .join(format!("{name}.json"));
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .replace("{{ROOT}}", &self.root.display().to_string())
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .current_dir(&self.root)
            .env_remove("HOOKGATE_POLICY")
            .env_remove("HOOKGATE_STORE")
            .env_remove("HOOKGATE_AGENT")
            .env("HOOKGATE_CACHE", shared_cache());
        c
    }

    /// Run `hookgate <args>` with `stdin`.
    pub fn run(&self, args: &[&str], stdin: &str) -> Out {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hookgate");
        // The process may exit before reading (usage errors): a closed pipe is fine.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        let out = child.wait_with_output().unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Run `hookgate <args>` as agent `agent` (`HOOKGATE_AGENT`).
    pub fn run_as(&self, agent: &str, args: &[&str]) -> Out {
        let out = self
            .cmd(args)
            .env("HOOKGATE_AGENT", agent)
            .stdin(Stdio::null())
            .output()
            .expect("spawn hookgate");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// A Claude PreToolUse payload for `tool` writing or reading `rel`
    /// (repository-relative), from `session` (and `subagent`, if any).
    pub fn claude_payload(
        &self,
        session: &str,
        subagent: Option<&str>,
        tool: &str,
        rel: &str,
    ) -> String {
        let mut v = serde_json::json!({
            "session_id": session,
            "transcript_path": "/tmp/t.jsonl",
            "cwd": self.root,
            "permission_mode": "default",
            "hook_event_name": "PreToolUse",
            "tool_name": tool,
            "tool_input": {"file_path": self.root.join(rel), "old_string": "a", "new_string": "b"},
            "tool_use_id": "toolu_1",
        });
        if let Some(a) = subagent {
            v["agent_id"] = serde_json::Value::String(a.into());
            v["agent_type"] = serde_json::Value::String("general-purpose".into());
        }
        v.to_string()
    }

    /// `hookgate hook claude` on a fixture.
    pub fn hook(&self, fixture: &str) -> Out {
        self.run(&["hook", "claude"], &self.fixture(fixture))
    }
}

/// One compiled-code cache for the whole test run, so guests compile once.
pub fn shared_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hookgate-test-cache")
}

#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Claude's `(permissionDecision, permissionDecisionReason)` from stdout.
    pub fn decision(&self) -> (String, String) {
        let v = self.json();
        let field = |k: &str| {
            v["hookSpecificOutput"][k]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        (
            field("permissionDecision"),
            field("permissionDecisionReason"),
        )
    }

    /// Claude's `hookSpecificOutput.additionalContext` (empty if none).
    pub fn context(&self) -> String {
        if self.stdout.is_empty() {
            return String::new();
        }
        self.json()["hookSpecificOutput"]["additionalContext"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The stdout as JSON (panics if it is not exactly one JSON object).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?}", self.stdout))
    }
}

/// sha256 of a file, hex.
pub fn sha256_hex(path: &str) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).expect("readable");
    sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A policy that runs the hostile test guest in `mode`.
pub fn hostile_policy(mode: &str, stage: &str, on_error: &str) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(HOSTILE_WASM).expect("hostile guest built by build.rs");
    let sha: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "version = 1\non_error = \"{on_error}\"\n[[validator]]\nname = \"write-guard\"\nenabled = false\n[[validator]]\nname = \"read-guard\"\nenabled = false\n\
         [[validator]]\nname = \"hostile\"\npath = \"{}\"\nsha256 = \"{sha}\"\nstage = \"{stage}\"\ngrants = [\"reservations\"]\nlimits = {{ fuel_ms = 50, memory_mb = 32 }}\nconfig = {{ mode = \"{mode}\" }}\n",
        HOSTILE_WASM
    )
}
