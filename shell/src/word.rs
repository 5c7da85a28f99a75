//! Word expansion, as far as it can be done without running anything:
//! quote removal, `$'…'`, `~`, `$HOME` / `$PWD` and variables the command
//! line itself set, the common parameter operations on them (`${f%.c}`,
//! `${p##*/}`, `${x:-d}`), brace expansion; globs are kept as patterns. A
//! command substitution whose output is known as paths (`$(pwd)`,
//! `$(find . -name '*.o')`, see [`crate::output`]) stands for those paths.
//! Anything else makes the word dynamic, and the static text before the
//! first dynamic part bounds where its value can lie ([`Expanded::bounds`]).

use std::collections::BTreeMap;

use rable::{Node, NodeKind};

/// Most words a brace expansion may produce.
pub const MAX_BRACE_WORDS: usize = 256;

/// One word after expansion.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expanded {
    /// The fields it expands to (several after brace expansion).
    pub values: Vec<String>,
    /// Part of it is only known at run time.
    pub dynamic: bool,
    /// It has unquoted glob characters (`*`, `?`, `[`): a pattern.
    pub glob: bool,
    /// When dynamic: glob patterns that cover every value the word can take
    /// at run time (`/tmp/out/$x` lies in `/tmp/out/**`). Empty when nothing
    /// bounds it (the word starts with an unknown part). A dynamic part is
    /// assumed not to climb out with `..`.
    pub bounds: Vec<String>,
    /// The values are alternatives for one field (patterns a placeholder
    /// may stand for), not separate fields as brace expansion makes.
    pub alternatives: bool,
    /// Text the parser left literal although it holds command-substitution
    /// syntax that bash runs (`$(…)` nested three deep, a `$(…)` in
    /// `${x:-…}`): the caller analyses it as code.
    pub raw_code: Vec<String>,
    /// Why the parser's reading of this word can't be trusted (the line is
    /// then opaque); found by differential fuzzing against brush-parser.
    pub suspect: Vec<String>,
}

impl Expanded {
    /// The single static value, if it has exactly one and is not dynamic.
    pub fn single(&self) -> Option<&str> {
        match (self.dynamic, self.values.as_slice()) {
            (false, [v]) => Some(v),
            _ => None,
        }
    }
}

/// Variables known while walking: the environment values the host passes
/// (`HOME`, `PWD`) and assignments made earlier on the line.
pub type Vars = BTreeMap<String, String>;

/// A piece of a word: text with its quoting, or a brace alternative list.
#[derive(Debug, Clone)]
enum Piece {
    Text { text: String, quoted: bool },
    Braces(Vec<String>),
}

/// Expand brace content `a,b` or `1..3` into alternatives.
fn brace_alternatives(content: &str) -> Option<Vec<String>> {
    let inner = content.strip_prefix('{')?.strip_suffix('}')?;
    if let Some((a, b)) = inner.split_once("..") {
        if let (Ok(x), Ok(y)) = (a.parse::<i64>(), b.parse::<i64>()) {
            let (lo, hi) = (x.min(y), x.max(y));
            if hi - lo >= MAX_BRACE_WORDS as i64 {
                return None;
            }
            let mut v: Vec<String> = (lo..=hi).map(|n| n.to_string()).collect();
            if x > y {
                v.reverse();
            }
            return Some(v);
        }
        let (ca, cb) = (a.chars().next()?, b.chars().next()?);
        if a.chars().count() == 1 && b.chars().count() == 1 {
            let (lo, hi) = (ca.min(cb) as u32, ca.max(cb) as u32);
            if hi - lo >= MAX_BRACE_WORDS as u32 {
                return None;
            }
            return Some(
                (lo..=hi)
                    .filter_map(char::from_u32)
                    .map(String::from)
                    .collect(),
            );
        }
        return None;
    }
    // Split on top-level commas (nested braces stay inside an alternative
    // and are expanded recursively).
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in inner.chars() {
        match c {
            '{' => {
                depth += 1;
                cur.push(c);
            }
            '}' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    if out.len() < 2 {
        return None;
    }
    let mut expanded = Vec::new();
    for alt in out {
        match alt.find('{') {
            Some(i) => {
                let close = alt.rfind('}')?;
                let (pre, mid, post) = (&alt[..i], &alt[i..=close], &alt[close + 1..]);
                for m in brace_alternatives(mid).unwrap_or_else(|| vec![mid.to_string()]) {
                    expanded.push(format!("{pre}{m}{post}"));
                }
            }
            None => expanded.push(alt),
        }
        if expanded.len() > MAX_BRACE_WORDS {
            return None;
        }
    }
    Some(expanded)
}

/// Quote state carried across the parts of one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

/// Remove quotes from literal text, tracking the state across parts; every
/// character is tagged with whether it was quoted (globs need unquoted
/// metacharacters).
fn unquote(text: &str, q: &mut Quote, out: &mut Vec<(char, bool)>) {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (*q, c) {
            (Quote::None, '\'') => *q = Quote::Single,
            (Quote::Single, '\'') => *q = Quote::None,
            (Quote::None, '"') => *q = Quote::Double,
            (Quote::Double, '"') => *q = Quote::None,
            (Quote::None, '\\') => {
                if let Some(n) = chars.next() {
                    if n != '\n' {
                        out.push((n, true));
                    }
                }
            }
            (Quote::Double, '\\') => match chars.peek() {
                Some(&n) if matches!(n, '$' | '`' | '"' | '\\' | '\n') => {
                    chars.next();
                    if n != '\n' {
                        out.push((n, true));
                    }
                }
                _ => out.push(('\\', true)),
            },
            (Quote::None, c) => out.push((c, false)),
            (_, c) => out.push((c, true)),
        }
    }
}

/// Does this path text hold glob characters?
pub fn is_pattern(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

/// Present in the variables when the analysis may look at the file system
/// ([`crate::Options::look`]); not a name a shell variable can have.
pub const LOOK: &str = "\u{0}look";

/// Starts a variable's value that is a pattern (a loop over `*.html`, a
/// path `find -exec` passes): expanding it yields a glob, even in quotes.
pub const PATTERN_VALUE: char = '\u{1}';

/// Stands for a dynamic part inside a field until bounds are computed.
const MARK: char = '\u{0}';

/// Expand `word` (a `Word` node). Command substitutions inside it are
/// returned in `substitutions` so the caller can analyse them.
pub fn expand<'a>(word: &'a Node, vars: &Vars, substitutions: &mut Vec<&'a Node>) -> Expanded {
    expand_at(word, vars, substitutions, 0)
}

/// [`expand`] at a nesting depth of command substitutions (bounded by
/// [`crate::output::MAX_NESTING`]).
pub(crate) fn expand_at<'a>(
    word: &'a Node,
    vars: &Vars,
    substitutions: &mut Vec<&'a Node>,
    depth: usize,
) -> Expanded {
    let NodeKind::Word { value, parts, .. } = &word.kind else {
        return Expanded {
            dynamic: true,
            ..Expanded::default()
        };
    };
    let mut q = Quote::None;
    let mut chars: Vec<(char, bool)> = Vec::new();
    let mut pieces: Vec<Piece> = Vec::new();
    let mut dynamic = false;
    let mut raw_code: Vec<String> = Vec::new();
    let flush = |chars: &mut Vec<(char, bool)>, pieces: &mut Vec<Piece>| {
        if !chars.is_empty() {
            // Keep quoting per character by splitting runs.
            let mut run = String::new();
            let mut run_q = chars[0].1;
            for &(c, quoted) in chars.iter() {
                if quoted != run_q {
                    pieces.push(Piece::Text {
                        text: std::mem::take(&mut run),
                        quoted: run_q,
                    });
                    run_q = quoted;
                }
                run.push(c);
            }
            pieces.push(Piece::Text {
                text: run,
                quoted: run_q,
            });
            chars.clear();
        }
    };
    let parts: Vec<&Node> = if parts.is_empty() {
        Vec::new()
    } else {
        parts.iter().collect()
    };
    let synthesized = value == "\"$@\""
        && parts
            .iter()
            .all(|p| matches!(&p.kind, NodeKind::WordLiteral { value } if value == "\"$@\""));
    if synthesized {
        // The word the parser puts in `for x; do`.
        match vars.get("@") {
            Some(v) => match v.strip_prefix(PATTERN_VALUE) {
                Some(p) => chars.extend(p.chars().map(|c| (c, false))),
                None => chars.extend(v.chars().map(|c| (c, true))),
            },
            None => {
                dynamic = true;
                chars.push((MARK, true));
            }
        }
    } else if parts.is_empty() {
        if holds_code(value, q) {
            raw_code.push(value.clone());
        }
        unquote(value, &mut q, &mut chars);
    }
    for p in parts.into_iter().filter(|_| !synthesized) {
        match &p.kind {
            NodeKind::WordLiteral { value } => {
                if holds_code(value, q) {
                    raw_code.push(value.clone());
                }
                unquote(value, &mut q, &mut chars)
            }
            NodeKind::AnsiCQuote { decoded, .. } => {
                chars.extend(decoded.chars().map(|c| (c, true)));
            }
            NodeKind::LocaleString { inner, .. } => {
                // `$"…"` expands like a double-quoted string.
                if holds_code(inner, Quote::Double) {
                    raw_code.push(inner.clone());
                }
                chars.extend(inner.chars().map(|c| (c, true)));
            }
            NodeKind::ParamExpansion { param, op, arg } => {
                if let Some(a) = arg.as_deref().filter(|a| holds_code(a, Quote::None)) {
                    raw_code.push(a.to_string());
                }
                // With `IFS` changed, an unquoted expansion splits where
                // the default would not (`IFS=_; c=rm_x; $c`).
                let resplit = q == Quote::None && vars.contains_key("IFS");
                match parameter(vars, param, op.as_deref(), arg.as_deref()).filter(|_| !resplit) {
                    Some(v) => match v.strip_prefix(PATTERN_VALUE) {
                        Some(pattern) => chars.extend(pattern.chars().map(|c| (c, false))),
                        None => chars.extend(v.chars().map(|c| (c, q != Quote::None))),
                    },
                    None => {
                        dynamic = true;
                        chars.push((MARK, true));
                    }
                }
            }
            NodeKind::BraceExpansion { content } if q == Quote::None => {
                flush(&mut chars, &mut pieces);
                match brace_alternatives(content) {
                    Some(alts) => pieces.push(Piece::Braces(alts)),
                    None => pieces.push(Piece::Text {
                        text: content.clone(),
                        quoted: true,
                    }),
                }
            }
            NodeKind::BraceExpansion { content } => {
                chars.extend(content.chars().map(|c| (c, true)));
            }
            NodeKind::CommandSubstitution { command, .. } => {
                substitutions.push(command);
                match crate::output::printed(command, vars, None, depth + 1) {
                    // Known output: the paths it prints stand for the text
                    // (several become alternatives, like brace expansion).
                    crate::output::Printed::Paths(paths) if paths.len() == 1 => {
                        chars.extend(paths[0].chars().map(|c| (c, false)));
                    }
                    crate::output::Printed::Paths(paths)
                        if !paths.is_empty() && paths.len() <= MAX_BRACE_WORDS / 4 =>
                    {
                        flush(&mut chars, &mut pieces);
                        pieces.push(Piece::Braces(paths));
                    }
                    _ => {
                        dynamic = true;
                        chars.push((MARK, true));
                    }
                }
            }
            NodeKind::ProcessSubstitution { command, .. } => {
                // `<(cmd)` is a pipe (`/dev/fd/N`), not a file of the tree.
                substitutions.push(command);
                chars.extend("/dev/fd/63".chars().map(|c| (c, true)));
            }
            _ => {
                dynamic = true;
                chars.push((MARK, true));
            }
        }
    }
    flush(&mut chars, &mut pieces);
    // Cross product of brace alternatives; tilde and globs per field.
    let mut fields: Vec<(String, bool)> = vec![(String::new(), false)];
    for piece in &pieces {
        match piece {
            Piece::Text { text, quoted } => {
                let glob = !quoted && text.contains(['*', '?', '[']);
                for f in &mut fields {
                    f.0.push_str(text);
                    f.1 |= glob;
                }
            }
            Piece::Braces(alts) => {
                let mut next = Vec::with_capacity(fields.len() * alts.len());
                for f in &fields {
                    for a in alts {
                        next.push((format!("{}{a}", f.0), f.1 || a.contains(['*', '?', '['])));
                    }
                }
                if next.len() > MAX_BRACE_WORDS {
                    dynamic = true;
                    break;
                }
                fields = next;
            }
        }
    }
    let home = vars.get("HOME");
    let unquoted_tilde = pieces
        .first()
        .is_some_and(|p| matches!(p, Piece::Text { text, quoted: false } if text.starts_with('~')));
    let mut glob = false;
    let mut bounds = Vec::new();
    let mut unbounded = false;
    let values = fields
        .into_iter()
        .map(|(mut v, g)| {
            glob |= g;
            if unquoted_tilde && (v == "~" || v.starts_with("~/")) {
                match home {
                    Some(h) => v = format!("{h}{}", &v[1..]),
                    None => {
                        dynamic = true;
                        unbounded = true;
                    }
                }
            }
            if v.contains(MARK) {
                match bound(&v) {
                    Some(b) => bounds.push(b),
                    None => unbounded = true,
                }
                v.retain(|c| c != MARK);
            }
            v
        })
        .collect();
    if unbounded || !dynamic {
        bounds.clear();
    }
    let mut suspect = Vec::new();
    if swallowed(value) {
        suspect.push(format!(
            "the parser read `{}` as one word; bash splits it",
            value.chars().take(40).collect::<String>()
        ));
    }
    if value.contains('`') && value.contains('\\') {
        suspect.push("backquotes with backslashes inside are read differently by bash".into());
    }
    Expanded {
        values,
        dynamic,
        glob,
        bounds,
        alternatives: false,
        raw_code,
        suspect,
    }
}

/// Does the text hold command-substitution syntax outside single quotes
/// (`$(`, `` ` ``, and unquoted `<(`/`>(`), starting in quote state `q`?
fn holds_code(text: &str, q: Quote) -> bool {
    let mut q = q;
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match (q, b[i]) {
            (Quote::Single, b'\'') => q = Quote::None,
            (Quote::Single, _) => {}
            (_, b'\\') => i += 1,
            (Quote::None, b'\'') => q = Quote::Single,
            (Quote::None, b'"') => q = Quote::Double,
            (Quote::Double, b'"') => q = Quote::None,
            (_, b'`') => return true,
            (_, b'$') if b.get(i + 1) == Some(&b'(') => return true,
            (Quote::None, b'<' | b'>') if b.get(i + 1) == Some(&b'(') => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// A word the parser swallowed past where bash ends it: a `NAME[` (an
/// array subscript as rable sees it) at the start of the word or after an
/// unquoted blank, with a blank or an operator character before its `]`.
/// A word bash reads never holds an unquoted blank, so this is rable
/// reading on past the word's end.
fn swallowed(value: &str) -> bool {
    let b = value.as_bytes();
    let mut q = Quote::None;
    let mut i = 0;
    let mut word_start = true;
    while i < b.len() {
        let c = b[i];
        match (q, c) {
            (Quote::Single, b'\'') => q = Quote::None,
            (Quote::Single, _) => {}
            (Quote::Double, b'"') => q = Quote::None,
            (Quote::Double, b'\\') | (Quote::None, b'\\') => i += 1,
            (Quote::Double, _) => {}
            (Quote::None, b'\'') => q = Quote::Single,
            (Quote::None, b'"') => q = Quote::Double,
            (Quote::None, c) if word_start && (c.is_ascii_alphabetic() || c == b'_') => {
                let mut j = i;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                if b.get(j) == Some(&b'[') {
                    let end = b[j + 1..]
                        .iter()
                        .position(|&x| x == b']')
                        .map_or(b.len(), |k| j + 1 + k);
                    if b[j + 1..end]
                        .iter()
                        .any(|&x| x.is_ascii_whitespace() || b";|&<>()".contains(&x))
                    {
                        return true;
                    }
                }
                word_start = false;
                i = j;
                continue;
            }
            _ => {}
        }
        word_start = q == Quote::None && c.is_ascii_whitespace();
        i += 1;
    }
    false
}

/// The bound of a word whose text after `head` is only known at run time
/// (`/tmp/x/` → `/tmp/x/**`, `a_` → `a_*`); `None` when `head` is empty.
pub fn bound_of(head: &str) -> Option<String> {
    bound(&format!("{head}{MARK}"))
}

/// A pattern covering every value of a field whose dynamic parts are
/// marked: the directory of the static text before the first one, and all
/// below it (`/tmp/x/$y` → `/tmp/x/**`, `a_$y` → `a_*`). `None` when the
/// field starts with a dynamic part (it may be any path at all).
fn bound(field: &str) -> Option<String> {
    let head = &field[..field.find(MARK)?];
    if head.is_empty() || head == "~" {
        return None;
    }
    Some(match head.rfind('/') {
        Some(i) => format!("{}**", &head[..=i]),
        None => format!("{head}*"),
    })
}

/// The value of `$param` or `${param OP arg}` when it is known statically:
/// plain values, defaults (`:-`, `-`, `:+`, `+`), and prefix/suffix removal
/// with a literal text or the common `*/` and `/*` forms.
fn parameter(vars: &Vars, param: &str, op: Option<&str>, arg: Option<&str>) -> Option<String> {
    if let Some(pattern) = vars.get(param).and_then(|r| r.strip_prefix(PATTERN_VALUE)) {
        // Operations on a pattern keep it a pattern.
        let mut plain = Vars::new();
        plain.insert(param.to_string(), pattern.to_string());
        return parameter(&plain, param, op, arg).map(|v| format!("{PATTERN_VALUE}{v}"));
    }
    parameter_plain(vars, param, op, arg)
}

fn parameter_plain(
    vars: &Vars,
    param: &str,
    op: Option<&str>,
    arg: Option<&str>,
) -> Option<String> {
    let value = vars.get(param);
    let literal = |a: &str| !a.contains(['$', '`', '*', '?', '[', '\\', '"', '\'']);
    let Some(op) = op else {
        return value.cloned();
    };
    let arg = arg.unwrap_or("");
    match op {
        ":-" | "-" | ":=" | "=" => match value {
            Some(v) if !v.is_empty() || !op.starts_with(':') => Some(v.clone()),
            _ if literal(arg) => Some(arg.to_string()),
            _ => None,
        },
        ":+" | "+" => match value {
            Some(v) if !v.is_empty() || !op.starts_with(':') => {
                literal(arg).then(|| arg.to_string())
            }
            _ => Some(String::new()),
        },
        "%" | "%%" | "#" | "##" => {
            let v = value?;
            if v.contains(['*', '?', '[']) && !literal(arg) {
                return None;
            }
            Some(match (op, arg) {
                ("##", "*/") => v.rsplit('/').next().unwrap_or(v).to_string(),
                ("#", "*/") => v.split_once('/').map_or(v.as_str(), |x| x.1).to_string(),
                ("%", "/*") => v.rsplit_once('/').map_or(v.as_str(), |x| x.0).to_string(),
                ("%%", "/*") => v.split_once('/').map_or(v.as_str(), |x| x.0).to_string(),
                ("%" | "%%", a) if literal(a) => v.strip_suffix(a).unwrap_or(v).to_string(),
                ("#" | "##", a) if literal(a) => v.strip_prefix(a).unwrap_or(v).to_string(),
                _ => return None,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(src: &str) -> Vec<Expanded> {
        let nodes = rable::parse(src, true).unwrap();
        let NodeKind::Command { words, .. } = &nodes[0].kind else {
            panic!("not a command: {src}");
        };
        let mut vars = Vars::new();
        vars.insert("HOME".into(), "/home/u".into());
        let mut subs = Vec::new();
        words.iter().map(|w| expand(w, &vars, &mut subs)).collect()
    }

    fn one(src: &str) -> String {
        words(src)[1].single().unwrap_or("<dynamic>").to_string()
    }

    #[test]
    fn quotes_are_removed_and_splices_rejoined() {
        assert_eq!(words("r''m x")[0].single(), Some("rm"));
        assert_eq!(words("\\rm x")[0].single(), Some("rm"));
        assert_eq!(one("echo \"a b\""), "a b");
        assert_eq!(one("echo 'a\"b'"), "a\"b");
        assert_eq!(one("echo \"a\\\"b\""), "a\"b");
        assert_eq!(one("echo $'x\\ty'"), "x\ty");
    }

    #[test]
    fn home_tilde_and_variables() {
        assert_eq!(one("cat ~/.ssh/id_rsa"), "/home/u/.ssh/id_rsa");
        assert_eq!(one("cat $HOME/x"), "/home/u/x");
        assert_eq!(one("cat \"$HOME\"/x"), "/home/u/x");
        assert_eq!(one("cat '~/x'"), "~/x");
        assert!(words("cat $X/y")[1].dynamic);
        assert!(words("cat $(pwd)/y")[1].dynamic);
    }

    #[test]
    fn braces_expand_and_globs_stay_patterns() {
        assert_eq!(words("rm a.{log,txt}")[1].values, ["a.log", "a.txt"]);
        assert_eq!(words("rm f{1..3}")[1].values, ["f1", "f2", "f3"]);
        assert_eq!(words("rm '{a,b}'")[1].values, ["{a,b}"]);
        let g = &words("rm src/*.rs")[1];
        assert!(g.glob && g.values == ["src/*.rs"]);
        assert!(!words("rm 'src/*.rs'")[1].glob);
    }
}
