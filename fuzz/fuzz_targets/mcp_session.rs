//! Arbitrary bytes as the client's side of an MCP session, after a valid
//! `initialize`: the server must never panic, whatever the JSON-RPC lines,
//! tool names or argument types; it answers or closes. One scratch store is
//! shared by every input (state carried between inputs is fair game).
#![no_main]

use std::sync::OnceLock;

use hookgate::mcp::{serve_io, Options};
use libfuzzer_sys::fuzz_target;

const INIT: &str = concat!(
    r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"fuzz","version":"0"}}}"#,
    "\n",
    r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    "\n"
);

fn scratch() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("scratch dir")).path()
}

fuzz_target!(|data: &[u8]| {
    let dir = scratch();
    let mut input = INIT.as_bytes().to_vec();
    input.extend_from_slice(data);
    input.push(b'\n');
    let opts = Options {
        cwd: dir.to_path_buf(),
        store: Some(dir.join("state.db")),
        policy: None,
        agent: Some("fuzz-agent".into()),
        name: None,
    };
    let _ = serve_io(opts, std::io::Cursor::new(input), tokio::io::sink());
});
