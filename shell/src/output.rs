//! What a command prints, when that is a set of paths: the producers whose
//! output feeds `xargs`, `for x in $(…)` and `rm $(…)`. `find . -name
//! '*.o'` prints paths in `./**/*.o`, `ls` names in `*`, `pwd` the working
//! directory. Filters that only drop or reorder lines (`grep`, `sort`,
//! `head`, `uniq`) keep their input's bound. Anything else is unknown.

use rable::{Node, NodeKind};

use crate::walk::Arg;
use crate::word::{expand_at, Vars};

/// How deep command substitutions are followed for their output.
pub const MAX_NESTING: usize = 4;

/// A command's standard output, as far as it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Printed {
    /// Lines that are paths matching these patterns (or these exact paths),
    /// relative to the working directory unless absolute.
    Paths(Vec<String>),
    /// Not known to be paths.
    Unknown,
}

/// What `node` prints, given what it reads on its input (`stdin`) and the
/// known variables.
pub fn printed(node: &Node, vars: &Vars, stdin: Option<&Printed>, depth: usize) -> Printed {
    if depth > MAX_NESTING {
        return Printed::Unknown;
    }
    match &node.kind {
        NodeKind::Pipeline { commands, .. } => {
            let mut out = stdin.cloned();
            for c in commands {
                out = Some(printed(c, vars, out.as_ref(), depth));
            }
            out.unwrap_or(Printed::Unknown)
        }
        NodeKind::List { items } if items.len() == 1 => {
            printed(&items[0].command, vars, stdin, depth)
        }
        NodeKind::Command { words, .. } => {
            let mut subs = Vec::new();
            let args: Vec<Arg> = words
                .iter()
                .map(|w| Arg {
                    word: expand_at(w, vars, &mut subs, depth),
                })
                .collect();
            command(&args, vars, stdin)
        }
        _ => Printed::Unknown,
    }
}

/// The output of one simple command.
pub(crate) fn command(args: &[Arg], vars: &Vars, stdin: Option<&Printed>) -> Printed {
    let Some(name) = args.first().and_then(Arg::text) else {
        return Printed::Unknown;
    };
    let name = name.rsplit('/').next().unwrap_or(name);
    let rest = &args[1..];
    let flags = || {
        rest.iter()
            .filter_map(Arg::text)
            .filter(|t| t.starts_with('-'))
    };
    let positional = || {
        rest.iter()
            .filter(|a| a.text().is_none_or(|t| !t.starts_with('-')))
    };
    // Every positional as a path (or its bound, when dynamic).
    let paths_of = |args: Vec<&Arg>| -> Printed {
        let mut out = Vec::new();
        for a in args {
            if a.word.dynamic {
                if a.word.bounds.is_empty() {
                    return Printed::Unknown;
                }
                out.extend(a.word.bounds.iter().cloned());
            } else {
                out.extend(a.word.values.iter().cloned());
            }
        }
        Printed::Paths(out)
    };
    match name {
        "pwd" => vars
            .get("PWD")
            .map_or(Printed::Unknown, |p| Printed::Paths(vec![p.clone()])),
        "find" => Printed::Paths(crate::model::find_matches(rest, vars)),
        "fd" | "fdfind" => Printed::Paths(vec!["**".into()]),
        "basename" | "dirname" => {
            let pos: Vec<&Arg> = positional().collect();
            let Some(path) = pos.first().and_then(|a| a.text()) else {
                return Printed::Unknown;
            };
            if flags().next().is_some() && !matches!(flags().next(), Some("--")) {
                return Printed::Unknown;
            }
            let trimmed = path.trim_end_matches('/');
            let out = if name == "basename" {
                let base = trimmed.rsplit('/').next().unwrap_or(trimmed);
                match pos.get(1).and_then(|a| a.text()) {
                    Some(sfx) if base != sfx => base.strip_suffix(sfx).unwrap_or(base),
                    _ => base,
                }
                .to_string()
            } else {
                match trimmed.rsplit_once('/') {
                    Some(("", _)) => "/".to_string(),
                    Some((d, _)) => d.to_string(),
                    None => ".".to_string(),
                }
            };
            Printed::Paths(vec![out])
        }
        "ls" => {
            let dirs_only = flags().any(|f| !f.starts_with("--") && f.contains('d'));
            let recursive =
                flags().any(|f| f == "--recursive" || (!f.starts_with("--") && f.contains('R')));
            let pos: Vec<&Arg> = positional().collect();
            if dirs_only && !pos.is_empty() {
                return paths_of(pos);
            }
            // `ls DIR` prints names relative to DIR: as arguments from the
            // working directory they are names in it (or files given).
            let all = flags().any(|f| !f.starts_with("--") && (f.contains('a') || f.contains('A')));
            let dir = match pos.as_slice() {
                [] => vars.get("PWD").cloned(),
                [one] => match (one.text(), vars.get("PWD")) {
                    (Some(t), Some(cwd)) => Some(crate::resolve(cwd, t)),
                    _ => None,
                },
                _ => None,
            };
            if let (Some(dir), true, false) = (dir, vars.contains_key(crate::word::LOOK), recursive)
            {
                if let crate::fs::Found::Files(files) = crate::fs::glob(&format!("{dir}/*")) {
                    let mut names: Vec<String> = files
                        .iter()
                        .filter_map(|f| f.rsplit('/').next().map(str::to_string))
                        .collect();
                    if all {
                        // Hidden names too: the pattern stands for them.
                        names.push(".*".into());
                    }
                    return Printed::Paths(names);
                }
            }
            Printed::Paths(vec![if recursive { "**" } else { "*" }.into()])
        }
        "echo" => {
            let words: Vec<&Arg> = rest
                .iter()
                .skip_while(|a| matches!(a.text(), Some("-n" | "-e" | "-E")))
                .collect();
            paths_of(words)
        }
        "git" => {
            let sub: Vec<&str> = rest.iter().filter_map(Arg::text).collect();
            let lists_files = match sub.first() {
                Some(&"ls-files") => true,
                Some(&"diff") => sub
                    .iter()
                    .any(|s| matches!(*s, "--name-only" | "--name-status")),
                _ => false,
            };
            if lists_files {
                Printed::Paths(vec!["**".into()])
            } else {
                Printed::Unknown
            }
        }
        "grep" | "egrep" | "fgrep" | "rg" => {
            let lists = flags().any(|f| {
                matches!(
                    f,
                    "--files-with-matches" | "--files-without-match" | "--files"
                ) || (!f.starts_with("--") && (f.contains('l') || f.contains('L')))
            });
            let pos: Vec<&Arg> = positional().collect();
            if lists {
                let recursive = name == "rg"
                    || flags().any(|f| {
                        f == "--recursive"
                            || (!f.starts_with("--") && (f.contains('r') || f.contains('R')))
                    });
                let files: Vec<&Arg> = pos.into_iter().skip(1).collect();
                if files.is_empty() {
                    return Printed::Paths(vec!["**".into()]);
                }
                return match paths_of(files) {
                    Printed::Paths(p) if recursive => Printed::Paths(
                        p.into_iter()
                            .map(|x| format!("{}/**", x.trim_end_matches('/')))
                            .collect(),
                    ),
                    other => other,
                };
            }
            // A filter keeps a subset of its input lines.
            let counts = flags().any(|f| {
                matches!(f, "--count" | "--only-matching")
                    || (!f.starts_with("--")
                        && (f.contains('c') || f.contains('o') || f.contains('n')))
            });
            if pos.len() <= 1 && !counts {
                stdin.cloned().unwrap_or(Printed::Unknown)
            } else {
                Printed::Unknown
            }
        }
        // Filters that drop, keep or reorder whole lines of their input.
        "sort" | "uniq" | "head" | "tail" | "tac" | "shuf" | "cat" => {
            let counts = name == "uniq" && flags().any(|f| f.contains('c'));
            // `head -n 5`, `tail +3`: counts are not files.
            let files = positional().any(|a| {
                a.text().is_none_or(|t| {
                    !t.trim_start_matches('+')
                        .chars()
                        .all(|c| c.is_ascii_digit())
                })
            });
            if !files && !counts {
                stdin.cloned().unwrap_or(Printed::Unknown)
            } else {
                Printed::Unknown
            }
        }
        _ => Printed::Unknown,
    }
}
