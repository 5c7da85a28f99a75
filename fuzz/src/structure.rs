//! A normalized summary of a bash command line's structure, built from two
//! independent parsers (rable, which hookgate-shell uses, and brush-parser),
//! so that the `shell_parsers` fuzz target can compare them.
//!
//! The summary keeps what matters for effects: every simple command with its
//! words (literal source text, quotes as written) and redirections (kind, fd,
//! target text, heredoc body), how commands are joined (list operators,
//! pipelines, `!`/`time`) and the compound commands around them (subshell,
//! brace group, function definition, if/for/while/until/case/select, `[[ ]]`,
//! `(( ))`, coproc). Command and process substitutions inside words (and in
//! redirect targets) are summarized recursively, as is the literal string of
//! `bash -c '...'` / `sh -c '...'`. Differences of representation that do not
//! matter (whitespace, operator spelling, how `|&` or an `elif` chain is
//! stored, default fds written explicitly) are normalized away.

use std::fmt;

/// Deepest nesting of substitutions / `bash -c` strings summarized.
const MAX_NEST: usize = 8;

/// How a list item is joined to the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `&&`
    And,
    /// `||`
    Or,
    /// `;` or newline
    Seq,
    /// `&`
    Bg,
    /// Last item of a list (a trailing `;` is dropped).
    End,
}

/// A word: its literal source text and the substitutions it contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Source text, quotes kept.
    pub text: String,
    /// Command / process substitutions in it, in order.
    pub subs: Vec<Node>,
    /// The parsed string of `bash -c '...'`, when this word is one.
    pub inner: Option<Box<Node>>,
}

/// A redirection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redir {
    /// out / append / clobber / in / inout / dupout / dupin / outerr /
    /// appenderr / heredoc / herestring
    pub kind: &'static str,
    /// The fd, when given and not the operator's default.
    pub fd: Option<i32>,
    /// `{name}>file` form.
    pub varfd: Option<String>,
    /// The target word (heredoc: the delimiter, quotes removed).
    pub target: Word,
    /// Heredoc: (quoted delimiter, strip tabs, body).
    pub heredoc: Option<(bool, bool, String)>,
}

/// A node of the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Items, each with the operator after it. Never a single `End` item.
    List(Vec<(Node, Op)>),
    /// `[time] [!] a | b | ...` (a lone command without flags is not wrapped).
    Pipeline {
        /// `time`
        time: bool,
        /// `!`
        bang: bool,
        /// The commands.
        cmds: Vec<Node>,
    },
    /// A simple command.
    Simple {
        /// Leading `NAME=value` words.
        assigns: Vec<Word>,
        /// argv words.
        words: Vec<Word>,
        /// Redirections.
        redirs: Vec<Redir>,
    },
    /// A compound command (`kind`: subshell, brace, if, for, select, while,
    /// until, case, arith, arithfor, cond, coproc) with its parts.
    Compound {
        /// The kind.
        kind: &'static str,
        /// Header words (for/select/case words, loop variable, coproc name).
        head: Vec<String>,
        /// Bodies in order (if: cond, then, else; loops: cond/body; case:
        /// one body per item, empty list when absent).
        bodies: Vec<Node>,
        /// Case patterns and terminators, per item.
        cases: Vec<(Vec<Word>, &'static str)>,
        /// Redirections on the compound command.
        redirs: Vec<Redir>,
    },
    /// `name() body`
    Function {
        /// The name.
        name: String,
        /// The body (a compound command).
        body: Box<Node>,
    },
    /// Nothing (empty input, only comments).
    Empty,
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text)?;
        for s in &self.subs {
            write!(f, "{{{s}}}")?;
        }
        if let Some(i) = &self.inner {
            write!(f, "{{-c {i}}}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Redir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(n) = self.fd {
            write!(f, "#{n}")?;
        }
        if let Some(v) = &self.varfd {
            write!(f, "{{{v}}}")?;
        }
        write!(f, ":{}", self.target)?;
        if let Some((q, t, body)) = &self.heredoc {
            write!(f, "[q={q} t={t} {body:?}]")?;
        }
        Ok(())
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::List(items) => {
                write!(f, "(list")?;
                for (n, op) in items {
                    write!(f, " {n} {op:?}")?;
                }
                write!(f, ")")
            }
            Node::Pipeline { time, bang, cmds } => {
                write!(f, "(pipe")?;
                if *time {
                    write!(f, " time")?;
                }
                if *bang {
                    write!(f, " !")?;
                }
                for c in cmds {
                    write!(f, " {c}")?;
                }
                write!(f, ")")
            }
            Node::Simple {
                assigns,
                words,
                redirs,
            } => {
                write!(f, "(cmd")?;
                for a in assigns {
                    write!(f, " ={a}")?;
                }
                for w in words {
                    write!(f, " {w}")?;
                }
                for r in redirs {
                    write!(f, " {r}")?;
                }
                write!(f, ")")
            }
            Node::Compound {
                kind,
                head,
                bodies,
                cases,
                redirs,
            } => {
                write!(f, "({kind}")?;
                for h in head {
                    write!(f, " {h:?}")?;
                }
                for (pats, term) in cases {
                    write!(f, " [")?;
                    for p in pats {
                        write!(f, "{p}|")?;
                    }
                    write!(f, "{term}]")?;
                }
                for b in bodies {
                    write!(f, " {b}")?;
                }
                for r in redirs {
                    write!(f, " {r}")?;
                }
                write!(f, ")")
            }
            Node::Function { name, body } => write!(f, "(fn {name:?} {body})"),
            Node::Empty => write!(f, "()"),
        }
    }
}

/// Display for a summary result.
pub fn show(r: &Result<Node, String>) -> String {
    match r {
        Ok(n) => n.to_string(),
        Err(e) => format!("Err({e})"),
    }
}

/// Build a list from items, flattening nested lists and collapsing a single
/// item.
fn make_list(items: Vec<(Node, Op)>) -> Node {
    let mut out: Vec<(Node, Op)> = Vec::new();
    for (n, op) in items {
        match n {
            Node::Empty => {
                // A dropped item (comment): keep a background operator on
                // the previous item as it is.
                continue;
            }
            Node::List(inner) => {
                let len = inner.len();
                for (i, (m, mop)) in inner.into_iter().enumerate() {
                    let o = if i + 1 == len {
                        if mop == Op::Bg {
                            Op::Bg
                        } else {
                            op
                        }
                    } else {
                        mop
                    };
                    out.push((m, o));
                }
            }
            n => out.push((n, op)),
        }
    }
    if let Some(last) = out.last_mut() {
        if last.1 == Op::Seq {
            last.1 = Op::End;
        }
    }
    match out.len() {
        0 => Node::Empty,
        1 if out[0].1 == Op::End => out.pop().unwrap().0,
        _ => Node::List(out),
    }
}

fn pipeline(time: bool, bang: bool, cmds: Vec<Node>) -> Node {
    // rable stores a bare `!` as a negated empty command.
    let mut cmds: Vec<Node> = cmds.into_iter().filter(|c| *c != Node::Empty).collect();
    if !time && !bang && cmds.len() == 1 {
        return cmds.pop().unwrap();
    }
    // `! a | b` where a lone command was itself a pipeline node: merge flags.
    if cmds.len() == 1 {
        if let Node::Pipeline {
            time: t2,
            bang: b2,
            cmds: c2,
        } = &cmds[0]
        {
            return Node::Pipeline {
                time: time || *t2,
                bang: bang ^ *b2,
                cmds: c2.clone(),
            };
        }
    }
    Node::Pipeline { time, bang, cmds }
}

/// The default fd of a redirection kind.
fn default_fd(kind: &str) -> i32 {
    match kind {
        "in" | "inout" | "dupin" | "heredoc" | "herestring" => 0,
        _ => 1,
    }
}

fn redir(
    kind: &'static str,
    fd: Option<i32>,
    varfd: Option<String>,
    target: Word,
    heredoc: Option<(bool, bool, String)>,
) -> Redir {
    let fd = fd.filter(|&n| n >= 0 && n != default_fd(kind));
    let fd = if matches!(kind, "outerr" | "appenderr") {
        None
    } else {
        fd
    };
    Redir {
        kind,
        fd,
        varfd,
        target,
        heredoc,
    }
}

/// Normalize a word's source text: drop line continuations (backslash,
/// newline), which rable keeps inside `$(...)` and brush removes.
fn norm_text(s: &str) -> String {
    // brush turns tabs inside `$(...)` into spaces.
    let s = &s.replace('\t', " ");
    if !s.contains("\\\n") {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some('\n') => {
                    chars.next();
                }
                Some(_) => {
                    out.push(c);
                    out.push(chars.next().unwrap());
                }
                None => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Normalize a heredoc body: both parsers agree on it modulo the final
/// newline.
fn norm_heredoc_body(s: &str) -> String {
    s.strip_suffix('\n').unwrap_or(s).to_string()
}

/// Unquote a heredoc delimiter word as bash does (quote removal only).
fn unquote_delim(s: &str) -> (String, bool) {
    let mut out = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    let mut in_single = false;
    let mut in_double = false;
    while let Some(c) = chars.next() {
        if in_single {
            if c == '\'' {
                in_single = false;
            } else {
                out.push(c);
            }
            continue;
        }
        match c {
            '\'' if !in_double => {
                in_single = true;
                quoted = true;
            }
            '"' => {
                in_double = !in_double;
                quoted = true;
            }
            '\\' => {
                quoted = true;
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '$' if !in_double && matches!(chars.peek(), Some('\'') | Some('"')) => {
                // $'..' / $".." delimiters: keep the `$` off, like bash.
            }
            c => out.push(c),
        }
    }
    (out, quoted)
}

/// If `words` is `bash -c STRING ...` / `sh -c STRING` with a plain
/// single-quoted STRING, the unquoted string.
fn shell_c_string(words: &[String]) -> Option<(usize, String)> {
    let name = words.first()?;
    let base = name.rsplit('/').next().unwrap_or(name);
    if !matches!(base, "bash" | "sh") {
        return None;
    }
    let i = words.iter().position(|w| w == "-c")? + 1;
    let w = words.get(i)?;
    let inner = w.strip_prefix('\'')?.strip_suffix('\'')?;
    if inner.contains('\'') {
        return None;
    }
    Some((i, inner.to_string()))
}

// ---------------------------------------------------------------------------
// rable

/// Summary from rable (`rable::parse(text, true)`, as hookgate-shell does).
pub fn from_rable(text: &str) -> Result<Node, String> {
    rable_text(text, 0)
}

fn rable_text(text: &str, depth: usize) -> Result<Node, String> {
    let nodes = rable::parse(text, true).map_err(|e| format!("rable: {e}"))?;
    let mut items = Vec::new();
    for n in &nodes {
        items.push((rable_node(n, depth)?, Op::Seq));
    }
    Ok(make_list(items))
}

fn rable_word(n: &rable::Node, depth: usize) -> Result<Word, String> {
    let rable::NodeKind::Word { value, parts, .. } = &n.kind else {
        return Err(format!("internal: rable word expected, got {:?}", n.kind));
    };
    // A word that is only a process substitution.
    if let [p] = parts.as_slice() {
        if let rable::NodeKind::ProcessSubstitution { direction, command } = &p.kind {
            if value.starts_with(direction.as_str()) && value.ends_with(')') {
                return Ok(Word {
                    text: format!("{direction}(...)"),
                    subs: vec![rable_sub(command, depth)?],
                    inner: None,
                });
            }
        }
    }
    let mut subs = Vec::new();
    for p in parts {
        rable_collect_subs(p, depth, &mut subs)?;
    }
    Ok(Word {
        text: norm_text(value),
        subs,
        inner: None,
    })
}

fn rable_sub(command: &rable::Node, depth: usize) -> Result<Node, String> {
    if depth >= MAX_NEST {
        return Ok(Node::Empty);
    }
    rable_node(command, depth + 1)
}

fn rable_collect_subs(p: &rable::Node, depth: usize, out: &mut Vec<Node>) -> Result<(), String> {
    use rable::NodeKind as K;
    match &p.kind {
        K::CommandSubstitution { command, .. } => out.push(rable_sub(command, depth)?),
        K::ProcessSubstitution { command, .. } => out.push(rable_sub(command, depth)?),
        K::Word { parts, .. } => {
            for q in parts {
                rable_collect_subs(q, depth, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn rable_words(ws: &[rable::Node], depth: usize) -> Result<Vec<Word>, String> {
    let mut words = ws
        .iter()
        .map(|w| rable_word(w, depth))
        .collect::<Result<Vec<_>, _>>()?;
    add_shell_c(&mut words, depth, rable_text)?;
    Ok(words)
}

fn add_shell_c(
    words: &mut [Word],
    depth: usize,
    parse: fn(&str, usize) -> Result<Node, String>,
) -> Result<(), String> {
    let texts: Vec<String> = words.iter().map(|w| w.text.clone()).collect();
    if let Some((i, s)) = shell_c_string(&texts) {
        if depth < MAX_NEST {
            words[i].inner = Some(Box::new(parse(&s, depth + 1)?));
        }
    }
    Ok(())
}

fn rable_redirs(rs: &[rable::Node], depth: usize) -> Result<Vec<Redir>, String> {
    use rable::NodeKind as K;
    let mut out = Vec::new();
    for r in rs {
        match &r.kind {
            K::Redirect {
                op,
                target,
                fd,
                varfd,
            } => {
                let fd = Some(*fd);
                let mut t = rable_word(target, depth)?;
                let kind = match op.as_str() {
                    ">" => "out",
                    ">>" => "append",
                    ">|" => "clobber",
                    "<" => "in",
                    "<>" => "inout",
                    ">&" => "dupout",
                    "<&" => "dupin",
                    ">&-" => {
                        t = Word {
                            text: "-".into(),
                            subs: vec![],
                            inner: None,
                        };
                        "dupout"
                    }
                    "<&-" => {
                        t = Word {
                            text: "-".into(),
                            subs: vec![],
                            inner: None,
                        };
                        "dupin"
                    }
                    "&>" => "outerr",
                    "&>>" => "appenderr",
                    "<<<" => "herestring",
                    other => return Err(format!("internal: rable redirect op {other:?}")),
                };
                out.push(redir(kind, fd, varfd.clone(), t, None));
            }
            K::HereDoc {
                delimiter,
                content,
                strip_tabs,
                quoted,
                fd,
                ..
            } => {
                let (d, q) = unquote_delim(delimiter);
                out.push(redir(
                    "heredoc",
                    Some(*fd),
                    None,
                    Word {
                        text: d,
                        subs: vec![],
                        inner: None,
                    },
                    Some((*quoted || q, *strip_tabs, norm_heredoc_body(content))),
                ));
            }
            other => return Err(format!("internal: rable redirect expected, got {other:?}")),
        }
    }
    Ok(out)
}

fn compound(
    kind: &'static str,
    head: Vec<String>,
    bodies: Vec<Node>,
    redirs: Vec<Redir>,
) -> Node {
    Node::Compound {
        kind,
        head,
        bodies,
        cases: Vec::new(),
        redirs,
    }
}

fn rable_node(n: &rable::Node, depth: usize) -> Result<Node, String> {
    use rable::NodeKind as K;
    Ok(match &n.kind {
        K::List { items } => {
            let mut v = Vec::new();
            for it in items {
                let op = match it.operator {
                    Some(rable::ast::ListOperator::And) => Op::And,
                    Some(rable::ast::ListOperator::Or) => Op::Or,
                    Some(rable::ast::ListOperator::Semi) | None => Op::Seq,
                    Some(rable::ast::ListOperator::Background) => Op::Bg,
                };
                v.push((rable_node(&it.command, depth)?, op));
            }
            make_list(v)
        }
        K::Pipeline { commands, .. } => {
            let mut cmds: Vec<Node> = Vec::new();
            for c in commands {
                if matches!(c.kind, K::Redirect { .. }) {
                    // `compound |& x`: rable puts the `2>&1` in the pipeline
                    // after the compound command; brush hangs it on it.
                    let extra = rable_redirs(std::slice::from_ref(c), depth)?;
                    match cmds.last_mut() {
                        Some(Node::Compound { redirs, .. }) | Some(Node::Simple { redirs, .. }) => {
                            redirs.extend(extra)
                        }
                        Some(Node::Function { body, .. }) => match body.as_mut() {
                            // rable also accepts `function f cmd` (a simple
                            // command as the body; bash rejects it).
                            Node::Compound { redirs, .. } | Node::Simple { redirs, .. } => {
                                redirs.extend(extra)
                            }
                            _ => return Err("internal: rable |& after a function".into()),
                        },
                        _ => return Err("internal: rable |& redirect placement".into()),
                    }
                    continue;
                }
                cmds.push(rable_node(c, depth)?);
            }
            pipeline(false, false, cmds)
        }
        K::Negation { pipeline: p } => {
            let inner = rable_node(p, depth)?;
            match inner {
                Node::Pipeline { time, bang, cmds } => pipeline(time, !bang, cmds),
                other => pipeline(false, true, vec![other]),
            }
        }
        K::Time { pipeline: p, .. } => {
            let inner = rable_node(p, depth)?;
            match inner {
                Node::Pipeline { bang, cmds, .. } => pipeline(true, bang, cmds),
                Node::Empty => pipeline(true, false, vec![]),
                other => pipeline(true, false, vec![other]),
            }
        }
        K::Command {
            assignments,
            words,
            redirects,
        } => Node::Simple {
            assigns: assignments
                .iter()
                .map(|w| rable_word(w, depth))
                .collect::<Result<_, _>>()?,
            words: rable_words(words, depth)?,
            redirs: rable_redirs(redirects, depth)?,
        },
        K::If {
            condition,
            then_body,
            else_body,
            redirects,
        } => {
            let mut bodies = vec![rable_node(condition, depth)?, rable_node(then_body, depth)?];
            if let Some(e) = else_body {
                bodies.push(rable_node(e, depth)?);
            }
            compound("if", vec![], bodies, rable_redirs(redirects, depth)?)
        }
        K::While {
            condition,
            body,
            redirects,
        } => compound(
            "while",
            vec![],
            vec![rable_node(condition, depth)?, rable_node(body, depth)?],
            rable_redirs(redirects, depth)?,
        ),
        K::Until {
            condition,
            body,
            redirects,
        } => compound(
            "until",
            vec![],
            vec![rable_node(condition, depth)?, rable_node(body, depth)?],
            rable_redirs(redirects, depth)?,
        ),
        K::For {
            var,
            words,
            body,
            redirects,
        }
        | K::Select {
            var,
            words,
            body,
            redirects,
        } => {
            let kind = if matches!(n.kind, K::For { .. }) {
                "for"
            } else {
                "select"
            };
            let mut head = vec![var.clone()];
            let mut bodies = Vec::new();
            match words {
                None => head.push("\"$@\"".into()),
                Some(ws) => {
                    for w in ws {
                        let w = rable_word(w, depth)?;
                        head.push(w.text);
                        bodies.extend(w.subs);
                    }
                }
            }
            bodies.push(rable_node(body, depth)?);
            compound(kind, head, bodies, rable_redirs(redirects, depth)?)
        }
        K::ForArith {
            body, redirects, ..
        } => compound(
            "arithfor",
            vec![],
            vec![rable_node(body, depth)?],
            rable_redirs(redirects, depth)?,
        ),
        K::Case {
            word,
            patterns,
            redirects,
        } => {
            let w = rable_word(word, depth)?;
            let mut bodies = w.subs.clone();
            let mut cases = Vec::new();
            for p in patterns {
                let pats = p
                    .patterns
                    .iter()
                    .map(|x| rable_word(x, depth))
                    .collect::<Result<Vec<_>, _>>()?;
                let term = match p.terminator.as_str() {
                    ";;" => ";;",
                    ";&" => ";&",
                    ";;&" => ";;&",
                    "" | "esac" => ";;",
                    other => return Err(format!("internal: rable case terminator {other:?}")),
                };
                cases.push((pats, term));
                bodies.push(match &p.body {
                    Some(b) => rable_node(b, depth)?,
                    None => Node::Empty,
                });
            }
            Node::Compound {
                kind: "case",
                head: vec![w.text],
                bodies,
                cases,
                redirs: rable_redirs(redirects, depth)?,
            }
        }
        K::Function { name, body } => Node::Function {
            name: name.clone(),
            body: Box::new(rable_node(body, depth)?),
        },
        K::Subshell { body, redirects } => compound(
            "subshell",
            vec![],
            vec![rable_node(body, depth)?],
            rable_redirs(redirects, depth)?,
        ),
        K::BraceGroup { body, redirects } => compound(
            "brace",
            vec![],
            vec![rable_node(body, depth)?],
            rable_redirs(redirects, depth)?,
        ),
        K::Coproc { name, command } => compound(
            "coproc",
            name.iter().cloned().collect(),
            vec![rable_node(command, depth)?],
            vec![],
        ),
        K::ArithmeticCommand { redirects, .. } => {
            compound("arith", vec![], vec![], rable_redirs(redirects, depth)?)
        }
        K::ConditionalExpr { redirects, .. } => {
            compound("cond", vec![], vec![], rable_redirs(redirects, depth)?)
        }
        K::Empty | K::Comment { .. } => Node::Empty,
        other => return Err(format!("internal: rable node {other:?}")),
    })
}

// ---------------------------------------------------------------------------
// brush-parser

use brush_parser::ast as b;

fn brush_options() -> brush_parser::ParserOptions {
    brush_parser::ParserOptions {
        enable_extended_globbing: true,
        ..Default::default()
    }
}

/// Summary from brush-parser. `Err("skip: ...")` for inputs brush-parser
/// 0.4.0 can't be given at all (it hangs or panics on them).
pub fn from_brush(text: &str) -> Result<Node, String> {
    if let Some(why) = brush_unusable(text) {
        return Err(format!("skip: brush-parser {why}"));
    }
    brush_text(text, 0)
}

/// Inputs brush-parser 0.4.0 must not be given (regressions/shell_parsers/
/// brush-*):
/// * its tokenizer loops forever, allocating until out of memory, on some
///   heredoc operators with no delimiter word: `<<` then blanks and `\r`,
///   `\f`, `\v`, `)` or an operator (`<<\x0c `, `\<<<\r `, `$(f(<< )`,
///   `$(<< &$[`); all are syntax errors for bash;
/// * it panics (`unwrap` of a `ParseIntError`) on an fd number that does not
///   fit an `i32` (`2147483648>x`);
/// * its arithmetic parser takes exponential time in the nesting of
///   parentheses after `((` (`((((((((...`).
fn brush_unusable(text: &str) -> Option<&'static str> {
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(p) = text[i..].find("<<") {
        let mut j = i + p + 2;
        while j < b.len() && matches!(b[j], b' ' | b'\t' | b'-') {
            j += 1;
        }
        let herestring = j == i + p + 2 && b.get(j) == Some(&b'<');
        if !herestring
            && j < b.len()
            && matches!(
                b[j],
                b'\r' | b'\x0c' | b'\x0b' | b')' | b'(' | b'&' | b'|' | b';' | b'<' | b'>'
            )
        {
            return Some("loops on `<<` without a delimiter word");
        }
        // Overlapping: `\<<<\r ` hangs too.
        i = i + p + 1;
    }
    // Its PEG arithmetic parser backtracks exponentially on nested
    // parentheses after `((` (26 levels: seconds; under ASan: minutes).
    if text.contains("((") {
        let (mut depth, mut max) = (0usize, 0usize);
        for &c in b {
            match c {
                b'(' => {
                    depth += 1;
                    max = max.max(depth);
                }
                b')' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        if max > 12 {
            return Some("backtracks exponentially on deeply nested `((`");
        }
    }
    let mut k = 0;
    while k < b.len() {
        if b[k].is_ascii_digit() {
            let start = k;
            while k < b.len() && b[k].is_ascii_digit() {
                k += 1;
            }
            if k < b.len()
                && matches!(b[k], b'<' | b'>')
                && text[start..k].parse::<i32>().is_err()
            {
                return Some("panics on an fd number over i32::MAX");
            }
        } else {
            k += 1;
        }
    }
    None
}

fn brush_text(text: &str, depth: usize) -> Result<Node, String> {
    let mut p = brush_parser::Parser::new(std::io::Cursor::new(text.as_bytes()), &brush_options());
    let prog = p.parse_program().map_err(|e| format!("brush: {e}"))?;
    let mut items = Vec::new();
    for cc in &prog.complete_commands {
        items.push((brush_list(cc, depth)?, Op::Seq));
    }
    Ok(make_list(items))
}

fn brush_list(l: &b::CompoundList, depth: usize) -> Result<Node, String> {
    let mut items = Vec::new();
    for b::CompoundListItem(ao, sep) in &l.0 {
        let sep = match sep {
            b::SeparatorOperator::Async => Op::Bg,
            b::SeparatorOperator::Sequence => Op::Seq,
        };
        let mut pipes = vec![brush_pipeline(&ao.first, depth)?];
        let mut ops = Vec::new();
        for a in &ao.additional {
            match a {
                b::AndOr::And(p) => {
                    ops.push(Op::And);
                    pipes.push(brush_pipeline(p, depth)?);
                }
                b::AndOr::Or(p) => {
                    ops.push(Op::Or);
                    pipes.push(brush_pipeline(p, depth)?);
                }
            }
        }
        ops.push(sep);
        items.extend(pipes.into_iter().zip(ops));
    }
    Ok(make_list(items))
}

fn brush_pipeline(p: &b::Pipeline, depth: usize) -> Result<Node, String> {
    let cmds = p
        .seq
        .iter()
        .map(|c| brush_command(c, depth))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(pipeline(p.timed.is_some(), p.bang, cmds))
}

/// Undo the backslash escapes of a backquoted command substitution.
fn unbackquote(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && matches!(chars.peek(), Some('\\') | Some('`') | Some('$')) {
            out.push(chars.next().unwrap());
        } else {
            out.push(c);
        }
    }
    out
}

fn brush_collect_subs(
    pieces: &[brush_parser::word::WordPieceWithSource],
    depth: usize,
    out: &mut Vec<Node>,
) -> Result<(), String> {
    use brush_parser::word::WordPiece as P;
    for p in pieces {
        match &p.piece {
            P::CommandSubstitution(s) => out.push(brush_sub(s, depth)?),
            P::BackquotedCommandSubstitution(s) => out.push(brush_sub(&unbackquote(s), depth)?),
            P::DoubleQuotedSequence(v) | P::GettextDoubleQuotedSequence(v) => {
                brush_collect_subs(v, depth, out)?
            }
            _ => {}
        }
    }
    Ok(())
}

fn brush_sub(s: &str, depth: usize) -> Result<Node, String> {
    if depth >= MAX_NEST {
        return Ok(Node::Empty);
    }
    brush_text(s, depth + 1)
}

fn brush_word(w: &b::Word, depth: usize) -> Result<Word, String> {
    let pieces = brush_parser::word::parse(&w.value, &brush_options())
        .map_err(|e| format!("brush: word {:?}: {e}", w.value))?;
    let mut subs = Vec::new();
    brush_collect_subs(&pieces, depth, &mut subs)?;
    Ok(Word {
        text: norm_text(&w.value),
        subs,
        inner: None,
    })
}

fn brush_procsub(
    kind: &b::ProcessSubstitutionKind,
    sub: &b::SubshellCommand,
    depth: usize,
) -> Result<Word, String> {
    let dir = match kind {
        b::ProcessSubstitutionKind::Read => "<",
        b::ProcessSubstitutionKind::Write => ">",
    };
    let body = if depth >= MAX_NEST {
        Node::Empty
    } else {
        brush_list(&sub.list, depth + 1)?
    };
    Ok(Word {
        text: format!("{dir}(...)"),
        subs: vec![body],
        inner: None,
    })
}

fn plain(text: String) -> Word {
    Word {
        text,
        subs: vec![],
        inner: None,
    }
}

fn brush_redir(r: &b::IoRedirect, depth: usize) -> Result<Redir, String> {
    Ok(match r {
        b::IoRedirect::File(fd, kind, target) => {
            let k = match kind {
                b::IoFileRedirectKind::Read => "in",
                b::IoFileRedirectKind::Write => "out",
                b::IoFileRedirectKind::Append => "append",
                b::IoFileRedirectKind::ReadAndWrite => "inout",
                b::IoFileRedirectKind::Clobber => "clobber",
                b::IoFileRedirectKind::DuplicateInput => "dupin",
                b::IoFileRedirectKind::DuplicateOutput => "dupout",
            };
            let t = match target {
                b::IoFileRedirectTarget::Filename(w) | b::IoFileRedirectTarget::Duplicate(w) => {
                    brush_word(w, depth)?
                }
                b::IoFileRedirectTarget::Fd(n) => plain(n.to_string()),
                b::IoFileRedirectTarget::ProcessSubstitution(kind, sub) => {
                    brush_procsub(kind, sub, depth)?
                }
            };
            // `>&3-` (move fd 3): rable keeps only the fd number.
            let t = match (k, t.text.strip_suffix('-')) {
                ("dupout" | "dupin", Some(n))
                    if !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) =>
                {
                    plain(n.to_string())
                }
                _ => t,
            };
            redir(k, *fd, None, t, None)
        }
        b::IoRedirect::HereDocument(fd, h) => {
            let (d, q) = unquote_delim(&h.here_end.value);
            redir(
                "heredoc",
                *fd,
                None,
                plain(d),
                Some((
                    q || !h.requires_expansion,
                    h.remove_tabs,
                    norm_heredoc_body(&h.doc.value),
                )),
            )
        }
        b::IoRedirect::HereString(fd, w) => redir("herestring", *fd, None, brush_word(w, depth)?, None),
        b::IoRedirect::OutputAndError(w, append) => redir(
            if *append { "appenderr" } else { "outerr" },
            None,
            None,
            brush_word(w, depth)?,
            None,
        ),
    })
}

fn brush_redirs(l: &Option<b::RedirectList>, depth: usize) -> Result<Vec<Redir>, String> {
    match l {
        None => Ok(vec![]),
        Some(l) => l.0.iter().map(|r| brush_redir(r, depth)).collect(),
    }
}

fn brush_command(c: &b::Command, depth: usize) -> Result<Node, String> {
    Ok(match c {
        b::Command::Simple(s) => {
            let mut assigns = Vec::new();
            let mut words = Vec::new();
            let mut redirs = Vec::new();
            let prefix = s.prefix.iter().flat_map(|p| p.0.iter()).map(|i| (true, i));
            let suffix = s.suffix.iter().flat_map(|p| p.0.iter()).map(|i| (false, i));
            let mut name_done = false;
            for (is_prefix, item) in prefix.chain(suffix) {
                if !is_prefix && !name_done {
                    name_done = true;
                    if let Some(w) = &s.word_or_name {
                        words.push(brush_word(w, depth)?);
                    }
                }
                match item {
                    b::CommandPrefixOrSuffixItem::IoRedirect(r) => redirs.push(brush_redir(r, depth)?),
                    b::CommandPrefixOrSuffixItem::Word(w) => words.push(brush_word(w, depth)?),
                    b::CommandPrefixOrSuffixItem::AssignmentWord(_, w) => {
                        if is_prefix {
                            assigns.push(brush_word(w, depth)?)
                        } else {
                            words.push(brush_word(w, depth)?)
                        }
                    }
                    b::CommandPrefixOrSuffixItem::ProcessSubstitution(kind, sub) => {
                        words.push(brush_procsub(kind, sub, depth)?)
                    }
                }
            }
            if !name_done {
                if let Some(w) = &s.word_or_name {
                    words.push(brush_word(w, depth)?);
                }
            }
            add_shell_c(&mut words, depth, brush_text)?;
            Node::Simple {
                assigns,
                words,
                redirs,
            }
        }
        b::Command::Compound(cc, r) => brush_compound(cc, brush_redirs(r, depth)?, depth)?,
        b::Command::Function(f) => Node::Function {
            name: f.fname.value.clone(),
            body: Box::new(brush_compound(&f.body.0, brush_redirs(&f.body.1, depth)?, depth)?),
        },
        b::Command::ExtendedTest(_, r) => compound("cond", vec![], vec![], brush_redirs(r, depth)?),
    })
}

fn brush_compound(
    cc: &b::CompoundCommand,
    redirs: Vec<Redir>,
    depth: usize,
) -> Result<Node, String> {
    use b::CompoundCommand as C;
    Ok(match cc {
        C::Arithmetic(_) => compound("arith", vec![], vec![], redirs),
        C::ArithmeticForClause(f) => {
            compound("arithfor", vec![], vec![brush_list(&f.body.list, depth)?], redirs)
        }
        C::BraceGroup(g) => compound("brace", vec![], vec![brush_list(&g.list, depth)?], redirs),
        C::Subshell(s) => compound("subshell", vec![], vec![brush_list(&s.list, depth)?], redirs),
        C::ForClause(f) => {
            let mut head = vec![f.variable_name.clone()];
            let mut bodies = Vec::new();
            match &f.values {
                // rable stores `for x; do` as `for x in "$@"; do`.
                None => head.push("\"$@\"".into()),
                Some(ws) => {
                    for w in ws {
                        let w = brush_word(w, depth)?;
                        head.push(w.text);
                        bodies.extend(w.subs);
                    }
                }
            }
            bodies.push(brush_list(&f.body.list, depth)?);
            compound("for", head, bodies, redirs)
        }
        C::CaseClause(c) => {
            let w = brush_word(&c.value, depth)?;
            let mut bodies = w.subs.clone();
            let mut cases = Vec::new();
            for item in &c.cases {
                let pats = item
                    .patterns
                    .iter()
                    .map(|x| brush_word(x, depth))
                    .collect::<Result<Vec<_>, _>>()?;
                let term = match item.post_action {
                    b::CaseItemPostAction::ExitCase => ";;",
                    b::CaseItemPostAction::UnconditionallyExecuteNextCaseItem => ";&",
                    b::CaseItemPostAction::ContinueEvaluatingCases => ";;&",
                };
                cases.push((pats, term));
                bodies.push(match &item.cmd {
                    Some(l) => brush_list(l, depth)?,
                    None => Node::Empty,
                });
            }
            Node::Compound {
                kind: "case",
                head: vec![w.text],
                bodies,
                cases,
                redirs,
            }
        }
        C::IfClause(i) => {
            // Fold `elif` chains into nested ifs, as rable stores them.
            let mut else_node: Option<Node> = None;
            if let Some(elses) = &i.elses {
                for e in elses.iter().rev() {
                    let body = brush_list(&e.body, depth)?;
                    else_node = Some(match &e.condition {
                        None => body,
                        Some(cond) => {
                            let mut bodies = vec![brush_list(cond, depth)?, body];
                            if let Some(rest) = else_node.take() {
                                bodies.push(rest);
                            }
                            compound("if", vec![], bodies, vec![])
                        }
                    });
                }
            }
            let mut bodies = vec![brush_list(&i.condition, depth)?, brush_list(&i.then, depth)?];
            if let Some(e) = else_node {
                bodies.push(e);
            }
            compound("if", vec![], bodies, redirs)
        }
        C::WhileClause(w) => compound(
            "while",
            vec![],
            vec![brush_list(&w.0, depth)?, brush_list(&w.1.list, depth)?],
            redirs,
        ),
        C::UntilClause(w) => compound(
            "until",
            vec![],
            vec![brush_list(&w.0, depth)?, brush_list(&w.1.list, depth)?],
            redirs,
        ),
        C::Coprocess(c) => {
            let mut r = redirs;
            let body = brush_command(&c.body, depth)?;
            // brush may hang the coproc's redirects on the coproc itself.
            let _ = &mut r;
            compound(
                "coproc",
                c.name.iter().map(|w| w.value.clone()).collect(),
                vec![body],
                r,
            )
        }
    })
}

// ---------------------------------------------------------------------------
// Known disagreement classes (see the triage in fuzz/README.md), for running
// the differential while skipping what has already been reported.

impl Node {
    /// Every word in the tree (argv, assignments, redirect targets, headers
    /// are not words), including those inside substitutions.
    pub fn visit_words<'a>(&'a self, f: &mut dyn FnMut(&'a Word, bool)) {
        fn word<'a>(w: &'a Word, first: bool, f: &mut dyn FnMut(&'a Word, bool)) {
            f(w, first);
            for s in &w.subs {
                s.visit_words(f);
            }
            if let Some(i) = &w.inner {
                i.visit_words(f);
            }
        }
        fn redirs<'a>(rs: &'a [Redir], f: &mut dyn FnMut(&'a Word, bool)) {
            for r in rs {
                word(&r.target, false, f);
            }
        }
        match self {
            Node::List(items) => items.iter().for_each(|(n, _)| n.visit_words(f)),
            Node::Pipeline { cmds, .. } => cmds.iter().for_each(|n| n.visit_words(f)),
            Node::Simple {
                assigns,
                words,
                redirs: rs,
            } => {
                assigns.iter().for_each(|w| word(w, false, f));
                for (i, w) in words.iter().enumerate() {
                    word(w, i == 0, f);
                }
                redirs(rs, f);
            }
            Node::Compound {
                bodies,
                cases,
                redirs: rs,
                ..
            } => {
                bodies.iter().for_each(|n| n.visit_words(f));
                cases
                    .iter()
                    .flat_map(|(p, _)| p.iter())
                    .for_each(|w| word(w, false, f));
                redirs(rs, f);
            }
            Node::Function { body, .. } => body.visit_words(f),
            Node::Empty => {}
        }
    }

    /// Every redirection in the tree.
    pub fn visit_redirs<'a>(&'a self, f: &mut dyn FnMut(&'a Redir)) {
        match self {
            Node::List(items) => items.iter().for_each(|(n, _)| n.visit_redirs(f)),
            Node::Pipeline { cmds, .. } => cmds.iter().for_each(|n| n.visit_redirs(f)),
            Node::Simple { redirs, words, .. } => {
                redirs.iter().for_each(&mut *f);
                for w in words {
                    w.subs.iter().for_each(|s| s.visit_redirs(f));
                    if let Some(i) = &w.inner {
                        i.visit_redirs(f);
                    }
                }
            }
            Node::Compound { bodies, redirs, .. } => {
                redirs.iter().for_each(&mut *f);
                bodies.iter().for_each(|n| n.visit_redirs(f));
            }
            Node::Function { body, .. } => body.visit_redirs(f),
            Node::Empty => {}
        }
    }
}

/// The already-reported disagreement class `text` falls in, if any.
pub fn known_class(
    text: &str,
    r: &Result<Node, String>,
    b: &Result<Node, String>,
) -> Option<&'static str> {
    if text.contains('\0') {
        return Some("NUL byte");
    }
    if let Err(e) = b {
        if r.is_ok() {
            // rable accepts, brush rejects: rable's lax accepts of invalid
            // bash, or brush's false rejects (trailing `\`, unterminated
            // heredoc, `select`, ...).
            let _ = e;
            return Some("brush rejects");
        }
    }
    if text.contains("<<") && text.contains(['$', '`']) {
        return Some("heredoc and expansion on one line (brush misparse)");
    }
    let Ok(rn) = r else { return None };
    if let Ok(bn) = b {
        if count_subs(bn) > count_subs(rn) {
            return Some("rable leaves a substitution unparsed");
        }
    }
    if text.contains("((") {
        return Some("`((` arithmetic command vs nested subshells");
    }
    let mut class = None;
    rn.visit_words(&mut |w, _first| {
        let t = &w.text;
        {
            if let Some(i) = t.find('[') {
                let name = &t[..i];
                if !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && t[i..].contains([' ', '\t', '\n', '|', '&', ';', '<', '>', '(', ')'])
                {
                    class = Some("`name[` subscript scan");
                }
            }
        }
        if let Some(i) = t.find(['<', '>']) {
            if t[i + 1..].starts_with('(') && (i > 0 || !t.ends_with(')')) {
                class = Some("process substitution inside a word");
            }
        }
        if t.contains("${|") || t.split_once("${").is_some_and(|(_, rest)| rest.contains([' ', '\n'])) {
            class = Some("`${ cmd; }` (bash 5.3 funsub), blanks inside `${...}`");
        }
        if w.text.contains('`') && w.text.contains('\\') {
            class = Some("backslash escapes inside backquotes");
        }
    });
    rn.visit_redirs(&mut |rd| {
        if rd.varfd.is_some() {
            class = Some("{var}> redirection");
        }
    });
    if class.is_none() && text.contains("&-") {
        class = Some("`>&-word`");
    }
    if class.is_none() && text.contains(['<', '>']) && text.contains("&") && text.contains('-') {
        class = Some("`>&word-` (move fd)");
    }
    if class.is_none() && text.contains("$${") {
        class = Some("`$${` (brush reads a `${...}` across blanks)");
    }
    if class.is_none() && text.contains("coproc") {
        class = Some("assignment after `coproc`");
    }
    if class.is_none() && text.contains(")") && text.contains("=(") {
        class = Some("array assignment followed by text");
    }
    class
}

/// Is `class` (of [`known_class`]) one where brush-parser differs from bash
/// and rable does not? (Lines brush rejects include a few bash rejects too,
/// which rable accepts: those never run.)
pub fn brush_is_wrong(class: &str) -> bool {
    matches!(
        class,
        "brush rejects"
            | "heredoc and expansion on one line (brush misparse)"
            | "`((` arithmetic command vs nested subshells"
            | "process substitution inside a word"
            | "{var}> redirection"
            | "`>&-word`"
            | "`$${` (brush reads a `${...}` across blanks)"
            | "array assignment followed by text"
    )
}

/// How many substitutions (and `bash -c` strings) a tree holds.
fn count_subs(n: &Node) -> usize {
    let mut count = 0;
    n.visit_words(&mut |w, _| count += w.subs.len() + usize::from(w.inner.is_some()));
    count
}
