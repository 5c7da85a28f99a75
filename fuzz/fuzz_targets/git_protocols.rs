//! What git hands the guards, as a hostile process could shape it: the
//! pre-push stdin protocol, `diff --name-status -z` output and the pushed
//! commits' `log -z` output. Parsing never panics; every accepted pre-push
//! update has well-formed object names of one length, and a deletion is
//! exactly an all-zero local name; every commit message gets its trailers
//! on their own lines.
#![no_main]

use hookgate::git::guard::parse_log;
use hookgate::git::message::{trailer_values, with_trailers, AGENT_TRAILER};
use hookgate::git::push::parse;
use hookgate::git::repo::parse_name_status;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(updates) = parse(data) {
        for u in updates {
            assert!(u.local_oid.len() == 40 || u.local_oid.len() == 64);
            assert_eq!(u.local_oid.len(), u.remote_oid.len());
            assert!(u.local_oid.bytes().all(|b| b.is_ascii_hexdigit()));
            assert_eq!(u.is_delete(), u.local_oid.bytes().all(|b| b == b'0'));
            assert!(!u.remote_ref.contains(' ') && !u.remote_ref.is_empty());
        }
    }
    for c in parse_name_status(data) {
        assert!(!c.path.is_empty());
    }
    for c in parse_log(data) {
        assert!(c.paths.iter().all(|p| !p.is_empty()));
    }
    let text = String::from_utf8_lossy(data);
    let msg = with_trailers(&text, &[(AGENT_TRAILER, "agent-1")]);
    assert!(msg.ends_with('\n'));
    assert!(
        trailer_values(&msg, AGENT_TRAILER).iter().any(|v| v == "agent-1"),
        "{msg:?}"
    );
});
