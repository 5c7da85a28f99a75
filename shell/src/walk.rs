//! The walk over the parsed line: shell structure, working directory,
//! variables and functions; each simple command goes to [`crate::model`].

use std::collections::BTreeMap;

use rable::{Node, NodeKind};

use crate::model;
use crate::output::{printed, Printed};
use crate::word::{expand, Expanded, Vars};
use crate::{resolve, Effects, Options, MAX_COMMAND, MAX_DEPTH, MAX_NESTING};

/// Shell state that flows through a list: the working directory (`None`
/// once it is unknown), variables and functions.
#[derive(Debug, Clone)]
pub(crate) struct Shell<'a> {
    pub cwd: Option<String>,
    /// Other directories the shell may be in: after `cd DIR; cmd` (not
    /// `&&`) a failed `cd` leaves `cmd` in the old one.
    pub also: Vec<String>,
    /// What the command reads on its input, when a pipe feeds it paths.
    pub stdin: Option<Printed>,
    /// The directory before a `cd` whose success nothing has checked yet.
    pub pending_cd: Option<String>,
    pub vars: Vars,
    pub dirs: Vec<Option<String>>,
    pub functions: BTreeMap<String, &'a Node>,
    pub depth: usize,
}

/// What a simple command's arguments expanded to, for the model.
#[derive(Debug, Clone)]
pub struct Arg {
    /// The expansion.
    pub word: Expanded,
}

impl Arg {
    /// A static word with this text.
    pub fn literal(text: &str) -> Arg {
        Arg {
            word: Expanded {
                values: vec![text.to_string()],
                ..Expanded::default()
            },
        }
    }

    /// The static text, if any.
    pub fn text(&self) -> Option<&str> {
        self.word.single()
    }
}

/// Analyse a command line run in `opts.cwd`.
pub fn analyze(command: &str, opts: &Options) -> Effects {
    let mut fx = Effects::default();
    if command.len() > MAX_COMMAND {
        fx.opaque(format!("command is longer than {MAX_COMMAND} bytes"));
        return fx;
    }
    if command.contains("${ ")
        || command.contains("${\t")
        || command.contains("${\n")
        || command.contains("${|")
    {
        // bash 5.3 runs `${ cmd; }` and `${| cmd; }` in the current shell;
        // neither parser reads them.
        fx.opaque("`${ …; }` command substitution (bash 5.3) is not analysed");
        return fx;
    }
    // `N>&M-` moves a descriptor and `>&word-` is an ambiguous redirect;
    // the parser drops the `-` (and the descriptor).
    if moves_descriptor(command) {
        fx.opaque("`N>&M-` (moving a descriptor) is not analysed");
    }
    if command.contains('\0') {
        // A C string ends there: what runs depends on how the line reaches bash.
        fx.opaque("command contains a NUL byte");
        return fx;
    }
    // Parsing and walking deep nesting costs more than linear time; no
    // command an agent writes nests this deep.
    let mut depth = 0usize;
    let mut deepest = 0usize;
    for b in command.bytes() {
        match b {
            b'(' | b'{' | b'`' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_NESTING {
        fx.opaque(format!("command nests deeper than {MAX_NESTING} levels"));
        return fx;
    }
    let mut vars = Vars::new();
    if let Some(h) = &opts.home {
        vars.insert("HOME".into(), h.clone());
    }
    vars.insert("PWD".into(), opts.cwd.clone());
    if opts.look {
        crate::fs::reset();
        vars.insert(crate::word::LOOK.into(), String::new());
    }
    let mut sh = Shell {
        cwd: Some(opts.cwd.clone()),
        also: Vec::new(),
        stdin: None,
        pending_cd: None,
        vars,
        dirs: Vec::new(),
        functions: BTreeMap::new(),
        depth: 0,
    };
    analyze_in(command, &mut sh, &mut fx);
    fx
}

/// Parse and walk `command` in the state `sh` (also used for `bash -c`).
pub(crate) fn analyze_in(command: &str, sh: &mut Shell<'_>, fx: &mut Effects) {
    let nodes = match rable::parse(command, true) {
        Ok(n) => n,
        Err(e) => {
            fx.opaque(format!("does not parse as bash: {e}"));
            return;
        }
    };
    // The nodes live only in this call: walk them with a fresh function
    // table borrowed from them, keeping the caller's directory and variables.
    let mut inner = Shell {
        cwd: sh.cwd.clone(),
        also: sh.also.clone(),
        stdin: sh.stdin.clone(),
        pending_cd: None,
        vars: sh.vars.clone(),
        dirs: sh.dirs.clone(),
        functions: BTreeMap::new(),
        depth: sh.depth,
    };
    for n in &nodes {
        walk(n, &mut inner, fx);
    }
    sh.cwd = inner.cwd;
    sh.also = inner.also;
    sh.vars = inner.vars;
    sh.dirs = inner.dirs;
}

fn walk<'a>(node: &'a Node, sh: &mut Shell<'a>, fx: &mut Effects) {
    match &node.kind {
        NodeKind::List { items } => {
            for item in items {
                walk(&item.command, sh, fx);
                // `cd DIR; cmd`: if the `cd` fails, `cmd` still runs, in the
                // directory before it; after `cd DIR && cmd` it does not.
                match item.operator {
                    Some(rable::ListOperator::And) => sh.pending_cd = None,
                    Some(_) => {
                        if let Some(b) = sh.pending_cd.take() {
                            if !sh.also.contains(&b) && sh.cwd.as_ref() != Some(&b) {
                                sh.also.push(b);
                            }
                        }
                    }
                    None => {}
                }
            }
        }
        NodeKind::Pipeline { commands, .. } => {
            // Each part of a pipeline runs in its own subshell, reading what
            // the part before it prints.
            let mut input = sh.stdin.clone();
            for c in commands {
                let mut sub = sh.clone();
                sub.stdin = input.clone();
                walk(c, &mut sub, fx);
                input = Some(printed(c, &sh.vars, input.as_ref(), 0));
            }
        }
        NodeKind::Command {
            assignments,
            words,
            redirects,
        } => command(assignments, words, redirects, sh, fx),
        NodeKind::If {
            condition,
            then_body,
            else_body,
            redirects,
        } => {
            redirect_all(redirects, sh, fx);
            walk(condition, sh, fx);
            walk(then_body, sh, fx);
            if let Some(e) = else_body {
                walk(e, sh, fx);
            }
        }
        NodeKind::While {
            condition,
            body,
            redirects,
        }
        | NodeKind::Until {
            condition,
            body,
            redirects,
        } => {
            redirect_all(redirects, sh, fx);
            walk(condition, sh, fx);
            walk(body, sh, fx);
        }
        NodeKind::For {
            var,
            words,
            body,
            redirects,
        }
        | NodeKind::Select {
            var,
            words,
            body,
            redirects,
        } => {
            redirect_all(redirects, sh, fx);
            // The loop variable takes each word; a single static value (or a
            // glob, kept as a pattern) can stand for it, several can't.
            let mut values: Vec<Expanded> = Vec::new();
            if let Some(ws) = words {
                let mut subs = Vec::new();
                for w in ws {
                    values.push(expand(w, &sh.vars, &mut subs));
                }
                for s in subs {
                    let mut sub = sh.clone();
                    walk(s, &mut sub, fx);
                }
                let refs: Vec<&Expanded> = values.iter().collect();
                let mut sub = sh.clone();
                leftovers(&refs, &mut sub, fx);
            }
            // A glob word stands for the files it matches: the variable
            // holds the pattern, marked as one.
            let look = sh.vars.contains_key(crate::word::LOOK);
            let mut fields: Vec<String> = Vec::new();
            for v in &values {
                for f in &v.values {
                    let pattern = v.glob || v.alternatives;
                    let found = match (&sh.cwd, look && v.glob && !v.dynamic) {
                        (Some(cwd), true) => Some(crate::fs::glob(&resolve(cwd, f))),
                        _ => None,
                    };
                    match found {
                        Some(crate::fs::Found::Files(files)) if files.len() <= 64 => {
                            // In the form the word was written in.
                            let prefix = sh
                                .cwd
                                .as_deref()
                                .map(|c| format!("{}/", c.trim_end_matches('/')));
                            fields.extend(files.into_iter().map(|abs| {
                                match (&prefix, f.starts_with('/')) {
                                    (Some(p), false) => abs
                                        .strip_prefix(p.as_str())
                                        .map(str::to_string)
                                        .unwrap_or(abs),
                                    _ => abs,
                                }
                            }))
                        }
                        Some(crate::fs::Found::Nothing) => fields.push(f.clone()),
                        _ if pattern => fields.push(format!("{}{f}", crate::word::PATTERN_VALUE)),
                        _ => fields.push(f.clone()),
                    }
                }
            }
            let dynamic = values.iter().any(|v| v.dynamic);
            if !dynamic && !fields.is_empty() {
                // Walk the body once per value (bounded by brace expansion).
                for f in fields.iter().take(64) {
                    sh.vars.insert(var.clone(), f.clone());
                    walk(body, sh, fx);
                }
                sh.vars.remove(var);
            } else if words.is_none() && sh.vars.contains_key("@") {
                // `for x; do`: over the positional parameters.
                if let Some(all) = sh.vars.get("@").cloned() {
                    sh.vars.insert(var.clone(), all);
                }
                walk(body, sh, fx);
                sh.vars.remove(var);
            } else {
                // Bound by the words' patterns when each is bounded.
                let bounds: Vec<&String> = values.iter().flat_map(|v| v.bounds.iter()).collect();
                if bounds.len() == 1 && values.iter().all(|v| !v.dynamic || !v.bounds.is_empty()) {
                    sh.vars.insert(
                        var.clone(),
                        format!("{}{}", crate::word::PATTERN_VALUE, bounds[0]),
                    );
                } else {
                    sh.vars.remove(var);
                }
                walk(body, sh, fx);
                sh.vars.remove(var);
            }
        }
        NodeKind::ForArith {
            body, redirects, ..
        } => {
            redirect_all(redirects, sh, fx);
            walk(body, sh, fx);
        }
        NodeKind::Case {
            patterns,
            redirects,
            ..
        } => {
            redirect_all(redirects, sh, fx);
            for p in patterns {
                if let Some(b) = &p.body {
                    walk(b, sh, fx);
                }
            }
        }
        NodeKind::Function { name, body } => {
            sh.functions.insert(name.clone(), body);
        }
        NodeKind::Subshell { body, redirects } => {
            redirect_all(redirects, sh, fx);
            let mut sub = sh.clone();
            walk(body, &mut sub, fx);
        }
        NodeKind::BraceGroup { body, redirects } => {
            redirect_all(redirects, sh, fx);
            walk(body, sh, fx);
        }
        NodeKind::Coproc { command, .. } => {
            // rable reads `coproc X=1 cmd` with `X=1` as the command name.
            fx.opaque("`coproc` runs a command beside the shell");
            let mut sub = sh.clone();
            walk(command, &mut sub, fx);
        }
        NodeKind::Negation { pipeline } | NodeKind::Time { pipeline, .. } => walk(pipeline, sh, fx),
        NodeKind::ArithmeticCommand {
            redirects,
            raw_content,
            ..
        } => {
            redirect_all(redirects, sh, fx);
            // `(( $(cmd) ))` runs cmd.
            if raw_content.contains("$(") || raw_content.contains('`') {
                let mut sub = sh.clone();
                nested(
                    &format!(": {raw_content}"),
                    "an arithmetic command",
                    &mut sub,
                    fx,
                );
            }
        }
        NodeKind::ConditionalExpr { body, redirects } => {
            redirect_all(redirects, sh, fx);
            // `[[ $(cmd) ]]`: the terms are raw text; their substitutions run.
            let mut terms = Vec::new();
            cond_terms(body, &mut terms);
            for t in terms {
                if t.contains("$(") || t.contains('`') {
                    let mut sub = sh.clone();
                    nested(&format!(": {t}"), "a [[ ]] test", &mut sub, fx);
                }
            }
        }
        NodeKind::Redirect { .. } | NodeKind::HereDoc { .. } => redirect(node, sh, fx),
        NodeKind::Empty | NodeKind::Comment { .. } => {}
        _ => {}
    }
}

/// Does the line hold `>&word-`, `<&word-` or `>&-word`?
fn moves_descriptor(command: &str) -> bool {
    command.match_indices('&').any(|(i, _)| {
        i > 0 && matches!(command.as_bytes()[i - 1], b'>' | b'<') && {
            let rest = command[i + 1..].trim_start();
            let word: &str = rest
                .split(|c: char| c.is_whitespace() || ";|&<>()".contains(c))
                .next()
                .unwrap_or("");
            // `>&-word` closes the descriptor, then the word: parsers differ.
            word.len() > 1 && (word.ends_with('-') || word.starts_with('-'))
        }
    })
}

/// The raw terms of a `[[ ]]` expression.
fn cond_terms<'a>(node: &'a Node, out: &mut Vec<&'a str>) {
    match &node.kind {
        NodeKind::CondTerm { value, .. } => out.push(value),
        NodeKind::UnaryTest { operand, .. } | NodeKind::CondNot { operand } => {
            cond_terms(operand, out)
        }
        NodeKind::BinaryTest { left, right, .. }
        | NodeKind::CondAnd { left, right }
        | NodeKind::CondOr { left, right } => {
            cond_terms(left, out);
            cond_terms(right, out);
        }
        NodeKind::CondParen { inner } => cond_terms(inner, out),
        NodeKind::Word { value, .. } => out.push(value),
        _ => {}
    }
}

/// Files a path in the effects, relative to the shell's directory. A path
/// under an unknown directory (after `cd $X`) is opaque.
pub(crate) fn file(sh: &Shell<'_>, fx: &mut Effects, path: &str, kind: Kind) {
    filed(sh, fx, path, kind);
}

/// [`file`], returning the absolute paths filed.
fn filed(sh: &Shell<'_>, fx: &mut Effects, path: &str, kind: Kind) -> Vec<String> {
    // `""` names no file (the call fails with ENOENT).
    if matches!(
        path,
        "" | "/dev/null" | "/dev/stdout" | "/dev/stderr" | "/dev/stdin" | "/dev/tty" | "-"
    ) || path.starts_with("/dev/fd/")
    {
        return Vec::new();
    }
    let mut paths = match (&sh.cwd, path.starts_with('/')) {
        (_, true) => vec![resolve("/", path)],
        (Some(cwd), false) => vec![resolve(cwd, path)],
        (None, false) => {
            fx.opaque(format!(
                "`{path}` is relative to a directory only known at run time"
            ));
            // Bounded by where the directory can be: anywhere.
            let b = format!("/**/{path}");
            if kind != Kind::Read {
                fx.bounds.insert(b.clone());
            }
            vec![b]
        }
    };
    if !path.starts_with('/') {
        paths.extend(sh.also.iter().map(|d| resolve(d, path)));
    }
    for abs in &paths {
        match kind {
            Kind::Read => fx.reads.insert(abs.clone()),
            Kind::Write => fx.writes.insert(abs.clone()),
            Kind::Delete => fx.deletes.insert(abs.clone()),
        };
    }
    paths
}

/// What happens to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Read.
    Read,
    /// Created, modified, truncated, moved to.
    Write,
    /// Deleted or moved away.
    Delete,
}

/// File a pattern that bounds a path only known at run time (recorded in
/// [`Effects::bounds`] for writes and deletes).
pub(crate) fn bound(sh: &Shell<'_>, fx: &mut Effects, pattern: &str, kind: Kind) {
    let paths = filed(sh, fx, pattern, kind);
    if kind != Kind::Read {
        fx.bounds.extend(paths);
    }
}

/// File every field of `arg` as `kind`. A dynamic word files the patterns
/// that bound it (`/**`, anywhere, when nothing does), and a dynamic write
/// or delete makes the line opaque.
pub(crate) fn arg_file(sh: &Shell<'_>, fx: &mut Effects, arg: &Arg, kind: Kind, what: &str) {
    if arg.word.dynamic {
        if kind != Kind::Read {
            fx.opaque(format!("{what} target is only known at run time"));
        }
        if arg.word.bounds.is_empty() && kind != Kind::Read {
            bound(sh, fx, "/**", kind);
        }
        for b in &arg.word.bounds {
            bound(sh, fx, b, kind);
        }
        return;
    }
    for v in &arg.word.values {
        let paths = filed(sh, fx, v, kind);
        if arg.word.glob {
            fx.globs.extend(paths);
        } else if !arg.word.alternatives {
            // Quoted text: `*`, `?` and `[` in it are part of the name.
            fx.literals
                .extend(paths.into_iter().filter(|p| p.contains(['*', '?', '['])));
        }
    }
}

fn redirect_all<'a>(redirects: &'a [Node], sh: &mut Shell<'a>, fx: &mut Effects) {
    for r in redirects {
        redirect(r, sh, fx);
    }
}

fn redirect<'a>(node: &'a Node, sh: &mut Shell<'a>, fx: &mut Effects) {
    if let NodeKind::HereDoc {
        content,
        quoted: false,
        ..
    } = &node.kind
    {
        // A heredoc is data, but an unquoted one expands `$(…)` and
        // backquotes in it: those commands run. Walk the text as the body of
        // a double-quoted word.
        if content.contains("$(") || content.contains('`') {
            let word = format!(": \"{}\"", content.replace('"', "\\\""));
            nested(&word, "a heredoc", sh, fx);
        }
        return;
    }
    let NodeKind::Redirect { op, target, .. } = &node.kind else {
        // Quoted heredocs and herestrings are data, not files.
        return;
    };
    let mut subs = Vec::new();
    let t = expand(target, &sh.vars, &mut subs);
    for s in subs {
        let mut sub = sh.clone();
        walk(s, &mut sub, fx);
    }
    {
        let mut sub = sh.clone();
        leftovers(&[&t], &mut sub, fx);
    }
    let text = t.single().unwrap_or("");
    let kind = match op.as_str() {
        ">" | ">|" | ">>" | "&>" | "&>>" => Some(Kind::Write),
        // `>&word` is `&>` unless the word is a file descriptor or `-`.
        ">&" if !text.is_empty() && !text.chars().all(|c| c.is_ascii_digit()) && text != "-" => {
            Some(Kind::Write)
        }
        "<" => Some(Kind::Read),
        "<>" => {
            arg_file(sh, fx, &Arg { word: t.clone() }, Kind::Read, "redirect");
            Some(Kind::Write)
        }
        _ => None,
    };
    let Some(kind) = kind else { return };
    if t.values.iter().all(String::is_empty) && !t.dynamic {
        fx.opaque(format!("redirect `{op}` without a target"));
        return;
    }
    arg_file(sh, fx, &Arg { word: t }, kind, "redirect");
}

fn command<'a>(
    assignments: &'a [Node],
    words: &'a [Node],
    redirects: &'a [Node],
    sh: &mut Shell<'a>,
    fx: &mut Effects,
) {
    let mut subs: Vec<&'a Node> = Vec::new();
    let mut assigned: Vec<(String, Expanded)> = Vec::new();
    for a in assignments {
        if let NodeKind::Word { value, .. } = &a.kind {
            if let Some((name, _)) = value.split_once('=') {
                let e = expand(a, &sh.vars, &mut subs);
                let v = Expanded {
                    values: e
                        .values
                        .iter()
                        .map(|v| v.split_once('=').map_or(String::new(), |x| x.1.to_string()))
                        .collect(),
                    ..e
                };
                fx.assigns.insert(name.trim_end_matches('+').to_string());
                assigned.push((name.trim_end_matches('+').to_string(), v));
            }
        }
    }
    let args: Vec<Arg> = words
        .iter()
        .map(|w| Arg {
            word: expand(w, &sh.vars, &mut subs),
        })
        .collect();
    for s in subs {
        // Command substitutions run in a subshell before the command.
        let mut sub = sh.clone();
        walk(s, &mut sub, fx);
    }
    {
        let words: Vec<&Expanded> = args
            .iter()
            .map(|a| &a.word)
            .chain(assigned.iter().map(|(_, e)| e))
            .collect();
        let mut sub = sh.clone();
        leftovers(&words, &mut sub, fx);
    }
    redirect_all(redirects, sh, fx);
    if args.is_empty() {
        // `X=1` alone sets a shell variable for what follows.
        for (name, v) in assigned {
            match v.single() {
                Some(s) => {
                    sh.vars.insert(name, s.to_string());
                }
                None => {
                    sh.vars.remove(&name);
                }
            }
        }
        return;
    }
    run(&args, sh, fx);
}

/// Run argv: functions, shell builtins that change state, wrappers, then
/// the command model.
pub(crate) fn run<'a>(args: &[Arg], sh: &mut Shell<'a>, fx: &mut Effects) {
    // Brace expansion made separate fields: `cp x{,.bak}` is `cp x x.bak`.
    let fields: Vec<Arg>;
    let args = if args
        .iter()
        .any(|a| a.word.values.len() > 1 && !a.word.alternatives && !a.word.dynamic)
    {
        fields = args
            .iter()
            .flat_map(|a| {
                if a.word.values.len() > 1 && !a.word.alternatives && !a.word.dynamic {
                    a.word
                        .values
                        .iter()
                        .map(|v| Arg {
                            word: Expanded {
                                values: vec![v.clone()],
                                glob: a.word.glob,
                                ..Expanded::default()
                            },
                        })
                        .collect::<Vec<_>>()
                } else {
                    vec![a.clone()]
                }
            })
            .collect();
        &fields[..]
    } else {
        args
    };
    if args.is_empty() {
        return;
    }
    // Pathname expansion, as bash does it before the command runs.
    let looked: Vec<Arg>;
    let args = if sh.vars.contains_key(crate::word::LOOK)
        && args
            .iter()
            .any(|a| a.word.glob && !a.word.dynamic && !a.word.alternatives)
    {
        looked = args
            .iter()
            .flat_map(|a| pathname_expansion(a, sh))
            .collect();
        &looked[..]
    } else {
        args
    };
    let Some(name) = args[0].text().map(str::to_string) else {
        fx.opaque("the command name is only known at run time");
        return;
    };
    // A path to a program runs that program (`/usr/bin/rm`, `./x`).
    let base = name.rsplit('/').next().unwrap_or(&name).to_string();
    if let Some(body) = sh.functions.get(&name).copied() {
        if sh.depth >= MAX_DEPTH {
            fx.opaque(format!("function `{name}` nests deeper than {MAX_DEPTH}"));
            return;
        }
        sh.depth += 1;
        walk(body, sh, fx);
        sh.depth -= 1;
        return;
    }
    match base.as_str() {
        "cd" | "pushd" => {
            let target = args
                .iter()
                .skip(1)
                .find(|a| a.text().is_none_or(|t| !t.starts_with('-')));
            let next = match target {
                None => sh.vars.get("HOME").cloned(),
                Some(a) => match (a.text(), &sh.cwd) {
                    (Some("-"), _) => None,
                    (Some(t), _) if t.starts_with('/') => Some(resolve("/", t)),
                    (Some(t), Some(cwd)) => Some(resolve(cwd, t)),
                    _ => None,
                },
            };
            if base == "pushd" {
                sh.dirs.push(sh.cwd.clone());
            }
            if next != sh.cwd {
                sh.pending_cd = sh.cwd.clone();
            }
            sh.cwd = next;
            if let Some(c) = &sh.cwd {
                sh.vars.insert("PWD".into(), c.clone());
            } else {
                sh.vars.remove("PWD");
            }
        }
        "popd" => {
            let next = sh.dirs.pop().unwrap_or(None);
            if next != sh.cwd {
                sh.pending_cd = sh.cwd.clone();
            }
            sh.cwd = next;
        }
        "export" | "local" | "declare" | "typeset" | "readonly" => {
            for a in &args[1..] {
                if let Some((k, _)) = a.word.values.first().and_then(|t| t.split_once('=')) {
                    fx.assigns.insert(k.to_string());
                }
                if let Some((k, v)) = a.text().and_then(|t| t.split_once('=')) {
                    sh.vars.insert(k.to_string(), v.to_string());
                }
            }
        }
        "unset" => {
            for a in &args[1..] {
                if let Some(t) = a.text() {
                    sh.vars.remove(t);
                }
            }
        }
        "eval" => {
            let parts: Option<Vec<&str>> = args[1..].iter().map(Arg::text).collect();
            match parts {
                Some(p) => nested(&p.join(" "), "eval", sh, fx),
                None => fx.opaque("eval of text only known at run time"),
            }
        }
        _ => {
            if fx.commands.len() < 256 {
                fx.commands.push(
                    args.iter()
                        .map(|a| a.text().unwrap_or("").to_string())
                        .collect(),
                );
            }
            model::apply(&base, args, sh, fx)
        }
    }
}

/// A glob word as bash passes it on: the files it matches (in the form it
/// was written, relative or absolute), itself as a plain name when nothing
/// matches, or the pattern when there are too many to list.
fn pathname_expansion(a: &Arg, sh: &Shell<'_>) -> Vec<Arg> {
    if !a.word.glob || a.word.dynamic || a.word.alternatives {
        return vec![a.clone()];
    }
    let Some(cwd) = sh.cwd.as_deref() else {
        return vec![a.clone()];
    };
    let mut out = Vec::new();
    for v in &a.word.values {
        let abs = resolve(cwd, v);
        match crate::fs::glob(&abs) {
            crate::fs::Found::Files(files) => {
                let prefix = format!("{}/", cwd.trim_end_matches('/'));
                for f in files {
                    let shown = if v.starts_with('/') {
                        f
                    } else {
                        f.strip_prefix(&prefix).map(str::to_string).unwrap_or(f)
                    };
                    out.push(Arg::literal(&shown));
                }
            }
            crate::fs::Found::Nothing => out.push(Arg::literal(v)),
            crate::fs::Found::TooMany => out.push(Arg {
                word: Expanded {
                    values: vec![v.clone()],
                    glob: true,
                    ..Expanded::default()
                },
            }),
        }
    }
    out
}

/// What expansion could not take in: code the parser left as text (analysed
/// as code) and readings it can't trust (opaque).
fn leftovers(words: &[&Expanded], sh: &mut Shell<'_>, fx: &mut Effects) {
    for w in words {
        for r in &w.suspect {
            fx.opaque(r.clone());
        }
        for code in &w.raw_code {
            // What it runs is found; how the line around it reads is the
            // parser's guess (another parser reads it differently).
            fx.opaque("the parser left a command substitution as text");
            nested(
                &format!(": {code}"),
                "a substitution the parser left as text",
                sh,
                fx,
            );
        }
    }
}

/// Analyse a command string run by `bash -c`, `eval`, `find -exec` etc.
pub(crate) fn nested(text: &str, via: &str, sh: &mut Shell<'_>, fx: &mut Effects) {
    if sh.depth >= MAX_DEPTH {
        fx.opaque(format!("`{via}` nests deeper than {MAX_DEPTH}"));
        return;
    }
    sh.depth += 1;
    let mut inner = Shell {
        cwd: sh.cwd.clone(),
        also: sh.also.clone(),
        stdin: sh.stdin.clone(),
        pending_cd: None,
        vars: sh.vars.clone(),
        dirs: Vec::new(),
        functions: BTreeMap::new(),
        depth: sh.depth,
    };
    analyze_in(text, &mut inner, fx);
    sh.depth -= 1;
}
