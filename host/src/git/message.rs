//! Commit messages: git's `whitespace` cleanup (what `git commit -m` does)
//! and the trailers that name the committing agent.

/// The trailer naming the agent.
pub const AGENT_TRAILER: &str = "Hookgate-Agent";
/// The trailer naming its platform session.
pub const SESSION_TRAILER: &str = "Hookgate-Session";

/// git's `whitespace` cleanup: trailing spaces stripped from each line,
/// runs of blank lines collapsed to one, leading and trailing blank lines
/// removed, one final newline. Empty when nothing is left.
pub fn clean(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len() + 1);
    let mut blank_run = false;
    for line in msg.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run = !out.is_empty();
            continue;
        }
        if blank_run {
            out.push('\n');
            blank_run = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Is `line` a trailer (`Token: value`, the token without spaces)?
fn is_trailer(line: &str) -> bool {
    match line.split_once(':') {
        Some((key, _)) => {
            !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        }
        None => false,
    }
}

/// `msg` (cleaned) with `trailers` appended to its trailer block: to the
/// last paragraph when it is all trailers and not the subject, else as a
/// new paragraph. A trailer already present with the same value is not
/// repeated.
pub fn with_trailers(msg: &str, trailers: &[(&str, &str)]) -> String {
    let mut text = clean(msg);
    let paragraphs: Vec<&str> = text.trim_end().split("\n\n").collect();
    let has_block =
        paragraphs.len() > 1 && paragraphs.last().is_some_and(|p| p.lines().all(is_trailer));
    let existing: Vec<String> = if has_block {
        paragraphs
            .last()
            .map(|p| p.lines().map(str::to_string).collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let new: Vec<String> = trailers
        .iter()
        .map(|(k, v)| format!("{k}: {}", one_line(v)))
        .filter(|t| !existing.contains(t))
        .collect();
    if new.is_empty() {
        return text;
    }
    if !has_block {
        text.push('\n');
    }
    for t in new {
        text.push_str(&t);
        text.push('\n');
    }
    text
}

/// A value on one line: control characters (newlines included) become spaces.
fn one_line(v: &str) -> String {
    v.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// The values of trailer `key` in `msg`'s last paragraph.
pub fn trailer_values(msg: &str, key: &str) -> Vec<String> {
    let last = msg.trim_end().rsplit("\n\n").next().unwrap_or("");
    last.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

/// The first line, for the reflog and the summary.
pub fn subject(msg: &str) -> &str {
    msg.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleanup_is_gits_whitespace_mode() {
        assert_eq!(
            clean("\n\n  fix: x  \n\n\n\nbody\t\n\n"),
            "  fix: x\n\nbody\n"
        );
        assert_eq!(clean(" \n\t\n"), "");
        assert_eq!(clean("# kept\n"), "# kept\n");
    }

    #[test]
    fn trailers_join_an_existing_block_or_start_one() {
        let t = [(AGENT_TRAILER, "a1"), (SESSION_TRAILER, "s1")];
        assert_eq!(
            with_trailers("fix: x", &t),
            "fix: x\n\nHookgate-Agent: a1\nHookgate-Session: s1\n"
        );
        assert_eq!(
            with_trailers("fix: x\n\nbody\n\nSigned-off-by: A <a@b>\n", &t),
            "fix: x\n\nbody\n\nSigned-off-by: A <a@b>\nHookgate-Agent: a1\nHookgate-Session: s1\n"
        );
        // A subject that looks like a trailer is not a trailer block.
        assert_eq!(
            with_trailers("docs: readme", &t[..1]),
            "docs: readme\n\nHookgate-Agent: a1\n"
        );
        // Idempotent, and a newline in a value can't forge another trailer.
        let once = with_trailers("x", &t);
        assert_eq!(with_trailers(&once, &t), once);
        assert_eq!(
            with_trailers("x", &[(AGENT_TRAILER, "a\nEvil: 1")]),
            "x\n\nHookgate-Agent: a Evil: 1\n"
        );
        assert_eq!(trailer_values(&once, "hookgate-agent"), ["a1"]);
    }
}
