//! git's pre-push protocol: one line per ref on stdin, `<local ref> SP
//! <local oid> SP <remote ref> SP <remote oid> LF` (githooks(5)). A
//! deletion has local ref `(delete)` and an all-zero local oid; a new remote
//! branch an all-zero remote oid (40 hex digits for SHA-1, 64 for SHA-256).

/// Longest stdin read (a push of every ref of a huge repository fits).
pub const MAX_INPUT: usize = 16 << 20;

/// One ref update being pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// Local ref (`refs/heads/main`, or `(delete)`).
    pub local_ref: String,
    /// Local object.
    pub local_oid: String,
    /// Remote ref.
    pub remote_ref: String,
    /// Remote object (all zeros when the remote lacks the ref).
    pub remote_oid: String,
}

impl Update {
    /// The update deletes the remote ref.
    pub fn is_delete(&self) -> bool {
        is_zero(&self.local_oid)
    }

    /// The remote ref is new.
    pub fn is_new(&self) -> bool {
        is_zero(&self.remote_oid)
    }
}

/// Why stdin is not git's pre-push protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushInputError {
    /// Not text.
    #[error("pre-push input is not UTF-8")]
    NotText,
    /// A line of the wrong shape.
    #[error("pre-push input line {line} is not `<local ref> <local oid> <remote ref> <remote oid>`: {text:?}")]
    BadLine {
        /// 1-based.
        line: usize,
        /// The line (cut to 200 characters).
        text: String,
    },
    /// Too much input.
    #[error("pre-push input is larger than {MAX_INPUT} bytes")]
    TooLarge,
}

fn is_oid(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_zero(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b == b'0')
}

fn is_ref(s: &str) -> bool {
    !s.is_empty() && !s.starts_with('-') && !s.bytes().any(|b| b.is_ascii_control() || b == b' ')
}

/// Parse the whole of stdin. Blank lines are skipped; a trailing `\r` is
/// tolerated; anything else malformed is an error (the guard then applies
/// the policy's `on_error`).
pub fn parse(input: &[u8]) -> Result<Vec<Update>, PushInputError> {
    if input.len() > MAX_INPUT {
        return Err(PushInputError::TooLarge);
    }
    let text = std::str::from_utf8(input).map_err(|_| PushInputError::NotText)?;
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(' ').collect();
        let ok = f.len() == 4
            && (is_ref(f[0]) || f[0] == "(delete)")
            && is_oid(f[1])
            && is_ref(f[2])
            && is_oid(f[3])
            && f[1].len() == f[3].len();
        if !ok {
            return Err(PushInputError::BadLine {
                line: i + 1,
                text: line.chars().take(200).collect(),
            });
        }
        out.push(Update {
            local_ref: f[0].to_string(),
            local_oid: f[1].to_ascii_lowercase(),
            remote_ref: f[2].to_string(),
            remote_oid: f[3].to_ascii_lowercase(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const Z: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn updates_new_branches_and_deletions() {
        let input = format!(
            "refs/heads/main {A} refs/heads/main {A}\n\
             refs/heads/topic {A} refs/heads/topic {Z}\r\n\
             \n\
             (delete) {Z} refs/heads/old {A}\n"
        );
        let v = parse(input.as_bytes()).unwrap();
        assert_eq!(v.len(), 3);
        assert!(!v[0].is_new() && !v[0].is_delete());
        assert!(v[1].is_new());
        assert!(v[2].is_delete());
        let sha256 = "a".repeat(64);
        assert_eq!(
            parse(format!("refs/heads/x {sha256} refs/heads/x {}\n", "0".repeat(64)).as_bytes())
                .unwrap()
                .len(),
            1
        );
        assert!(parse(b"").unwrap().is_empty());
    }

    #[test]
    fn hostile_input_is_an_error_not_a_guess() {
        for bad in [
            "refs/heads/main".to_string(),
            format!("refs/heads/main {A} refs/heads/main"),
            format!("refs/heads/main {A} refs/heads/main {A} extra"),
            format!("refs/heads/main {} refs/heads/main {A}", "g".repeat(40)),
            format!("refs/heads/main {A}  refs/heads/main {A}"),
            format!("--upload-pack=x {A} refs/heads/main {A}"),
            format!("refs/heads/main {A} refs/heads/main {}", "0".repeat(64)),
            format!("refs/heads/m\x1bain {A} refs/heads/main {A}"),
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert_eq!(parse(b"\xff\xfe"), Err(PushInputError::NotText));
        assert_eq!(
            parse(&vec![b' '; MAX_INPUT + 1]),
            Err(PushInputError::TooLarge)
        );
    }
}
