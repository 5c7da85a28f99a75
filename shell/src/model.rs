//! The command model: what each command does to the files its arguments
//! name. Most commands are rows of [`TABLE`] (a shape and the options that
//! take a value); a few need their own reading of the arguments (`dd`,
//! `find`, `git`, `sed -i`, `tar`, transfer tools, package managers).

use crate::walk::{arg_file, bound, file, nested, run, Arg, Kind, Shell};
use crate::Effects;

/// How a command's positional arguments map to effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// No file effects worth a finding (`ls`, `echo`, `git status`).
    ReadOnly,
    /// Positionals after the first `skip` are read (`grep PATTERN FILE…`
    /// skips one unless `-e`/`-f` gave the pattern).
    Read {
        /// Leading positionals that are not files.
        skip: usize,
    },
    /// Positionals are written (created or modified).
    Write,
    /// Positionals are deleted.
    Delete,
    /// Positionals after `skip` are read and rewritten in place.
    Edit {
        /// Leading positionals that are not files (a script).
        skip: usize,
    },
    /// `cp`-like: sources read, the destination (last positional, or
    /// `-t DIR`) written; `moves` deletes the sources too.
    Copy {
        /// `mv`.
        moves: bool,
    },
    /// `ln`: the link (last positional) is written; targets are untouched.
    Link,
    /// `chmod`/`chown`: the first positional is a mode or owner, the rest
    /// change.
    Attr,
    /// Wrappers that run the rest of the line (`sudo`, `env`, `nice`).
    Wrapper,
    /// Runs code that can't be seen from here.
    Opaque(&'static str),
}

/// One row: names, shape, options that take a separate value.
pub struct Row {
    /// Command names.
    pub names: &'static [&'static str],
    /// Shape.
    pub shape: Shape,
    /// Options whose value is the next argument.
    pub valued: &'static [&'static str],
}

const fn row(names: &'static [&'static str], shape: Shape, valued: &'static [&'static str]) -> Row {
    Row {
        names,
        shape,
        valued,
    }
}

/// The declarative part of the model.
pub const TABLE: &[Row] = &[
    row(
        &[
            "ls", "pwd", "echo", "printf", "true", "false", "test", "[", "which", "type", "whoami",
            "date", "id", "uname", "hostname", "basename", "dirname", "realpath", "readlink",
            "stat", "file", "du", "df", "ps", "sleep", "seq", "expr", "yes", "tree", "exit",
            "return", "set", "shift", "read", "wait", "jobs", "kill", "history", "alias",
            "printenv", "tput", "clear", "nproc", "free", "uptime", ":", "hash", "trap", "shopt",
            "getopts", "let", "bg", "fg", "umask", "ulimit", "tr", "sync", "cal", "bc", "dc",
            "factor",
            // hookgate's own commands change only its store and, through
            // `hookgate commit`, git's objects and refs — under its own rules.
            "hookgate",
        ],
        Shape::ReadOnly,
        &[],
    ),
    row(
        &[
            "cat",
            "tac",
            "head",
            "tail",
            "less",
            "more",
            "wc",
            "nl",
            "od",
            "xxd",
            "hexdump",
            "strings",
            "md5sum",
            "sha1sum",
            "sha256sum",
            "cksum",
            "base64",
            "cut",
            "paste",
            "column",
            "fold",
            "fmt",
            "expand",
            "unexpand",
            "rev",
            "diff",
            "cmp",
            "comm",
            "join",
            "bat",
            "pr",
            "zless",
            "zmore",
            "look",
            "zcat",
            "bzcat",
            "xzcat",
            "source",
            ".",
        ],
        Shape::Read { skip: 0 },
        &[
            "-n", "-c", "-d", "-f", "-s", "-w", "-t", "-o", "--lines", "--bytes", "-N", "-j", "-1",
            "-2",
        ],
    ),
    row(
        &[
            "grep", "egrep", "fgrep", "rg", "ag", "ack", "zgrep", "zegrep", "zfgrep",
        ],
        Shape::Read { skip: 1 },
        &[
            "-e",
            "-f",
            "-m",
            "-A",
            "-B",
            "-C",
            "-g",
            "-t",
            "--type",
            "--glob",
            "--max-count",
            "--include",
            "--exclude",
        ],
    ),
    row(
        &["jq", "yq"],
        Shape::Read { skip: 1 },
        &["-f", "--arg", "--argjson", "--indent"],
    ),
    row(
        &["touch", "mkdir", "mkfifo", "mknod"],
        Shape::Write,
        &["-d", "-t", "-r", "-m", "--reference", "--date", "--mode"],
    ),
    row(&["rm", "unlink", "rmdir"], Shape::Delete, &[]),
    row(
        &["shred"],
        Shape::Delete,
        &["-n", "-s", "--iterations", "--size"],
    ),
    row(
        &["truncate"],
        Shape::Write,
        &["-s", "-r", "--size", "--reference"],
    ),
    row(&["tee"], Shape::Write, &[]),
    row(
        &["cp", "install"],
        Shape::Copy { moves: false },
        &[
            "-t",
            "-S",
            "-m",
            "-o",
            "-g",
            "--target-directory",
            "--suffix",
            "--mode",
            "--owner",
            "--group",
        ],
    ),
    row(
        &["mv"],
        Shape::Copy { moves: true },
        &["-t", "-S", "--target-directory", "--suffix"],
    ),
    row(
        &["ln"],
        Shape::Link,
        &["-t", "-S", "--target-directory", "--suffix"],
    ),
    row(&["chmod", "chown", "chgrp"], Shape::Attr, &[]),
    row(
        &[
            "sudo",
            "doas",
            "env",
            "nice",
            "ionice",
            "nohup",
            "timeout",
            "stdbuf",
            "command",
            "builtin",
            "exec",
            "time",
            "chrt",
            "taskset",
            "caffeinate",
            "unbuffer",
        ],
        Shape::Wrapper,
        &[],
    ),
    row(
        &[
            "black",
            "rustfmt",
            "autopep8",
            "isort",
            "yapf",
            "clang-format",
            "shfmt",
            "stylua",
        ],
        Shape::Edit { skip: 0 },
        &["--config", "-l", "--line-length", "--edition", "--style"],
    ),
    row(
        &[
            "make", "gmake", "ninja", "cmake", "just", "bazel", "gradle", "gradlew", "mvn", "ant",
            "meson",
        ],
        Shape::Opaque("build tools write outputs the policy has not named"),
        &[],
    ),
    row(
        &[
            "python",
            "python3",
            "node",
            "deno",
            "bun",
            "ruby",
            "php",
            "lua",
            "Rscript",
            "osascript",
            "pwsh",
            "powershell",
        ],
        Shape::Opaque("runs a program whose effects can't be seen from the command line"),
        &[],
    ),
    row(
        &[
            "ssh",
            "scp",
            "sftp",
            "docker",
            "podman",
            "kubectl",
            "terraform",
            "ansible-playbook",
        ],
        Shape::Opaque("acts on machines or containers whose files can't be seen from here"),
        &[],
    ),
];

fn lookup(name: &str) -> Option<&'static Row> {
    TABLE.iter().find(|r| r.names.contains(&name))
}

/// Split arguments into options (with values) and positionals.
struct Parsed<'a> {
    opts: Vec<(String, Option<&'a Arg>)>,
    pos: Vec<&'a Arg>,
}

fn parse<'a>(args: &'a [Arg], valued: &[&str]) -> Parsed<'a> {
    let mut opts = Vec::new();
    let mut pos = Vec::new();
    let mut i = 0;
    let mut ended = false;
    while i < args.len() {
        let a = &args[i];
        let t = a.text().unwrap_or("");
        if ended || !t.starts_with('-') || t == "-" || a.word.dynamic {
            pos.push(a);
        } else if t == "--" {
            ended = true;
        } else if let Some((k, _)) = t.split_once('=').filter(|_| t.starts_with("--")) {
            opts.push((k.to_string(), Some(a)));
        } else if valued.contains(&t) {
            opts.push((t.to_string(), args.get(i + 1)));
            i += 1;
        } else {
            opts.push((t.to_string(), None));
        }
        i += 1;
    }
    Parsed { opts, pos }
}

impl Parsed<'_> {
    fn has(&self, names: &[&str]) -> bool {
        self.opts.iter().any(|(o, _)| {
            names.contains(&o.as_str())
                || names.iter().any(|n| {
                    n.len() == 2
                        && n.starts_with('-')
                        && o.starts_with('-')
                        && !o.starts_with("--")
                        && o[1..].contains(&n[1..])
                })
        })
    }

    fn value(&self, names: &[&str]) -> Option<&Arg> {
        self.opts
            .iter()
            .find(|(o, _)| names.contains(&o.as_str()))
            .and_then(|(_, v)| *v)
    }
}

/// The value of `--opt=value` or of a separate `-o value`.
fn opt_text(p: &Parsed<'_>, names: &[&str]) -> Option<String> {
    let v = p.value(names)?;
    let t = v.text()?;
    Some(match t.split_once('=') {
        Some((k, val)) if k.starts_with("--") => val.to_string(),
        _ => t.to_string(),
    })
}

/// Apply the model to one simple command (`args[0]` is `name`).
pub(crate) fn apply(name: &str, args: &[Arg], sh: &mut Shell<'_>, fx: &mut Effects) {
    let rest = &args[1..];
    match name {
        "bash" | "sh" | "zsh" | "dash" | "ksh" => return shell_c(name, rest, sh, fx),
        "xargs" | "parallel" => return xargs(name, rest, sh, fx),
        "find" | "fd" => return find(rest, sh, fx),
        "git" => return git(rest, sh, fx),
        "sed" | "gsed" => return sed(rest, sh, fx),
        "perl" => return perl(rest, sh, fx),
        "awk" | "gawk" | "mawk" | "nawk" | "busybox-awk" => return awk(rest, sh, fx),
        "dd" => return dd(rest, sh, fx),
        "sort" => {
            let p = parse(rest, &["-o", "--output", "-k", "-t", "-T", "-S"]);
            if let Some(o) = p.value(&["-o", "--output"]) {
                arg_file(sh, fx, o, Kind::Write, "sort -o");
            }
            for a in p.pos {
                arg_file(sh, fx, a, Kind::Read, "sort");
            }
            return;
        }
        "uniq" => {
            let p = parse(rest, &["-f", "-s", "-w"]);
            if let Some(a) = p.pos.first() {
                arg_file(sh, fx, a, Kind::Read, "uniq");
            }
            if let Some(a) = p.pos.get(1) {
                arg_file(sh, fx, a, Kind::Write, "uniq");
            }
            return;
        }
        "curl" => return curl(rest, sh, fx),
        "wget" => return wget(rest, sh, fx),
        "tar" | "bsdtar" => return tar(rest, sh, fx),
        "unzip" => {
            let p = parse(rest, &["-d", "-x"]);
            if let Some(a) = p.pos.first() {
                arg_file(sh, fx, a, Kind::Read, "unzip");
            }
            if p.has(&["-l", "-t", "-p", "-v", "-c", "-z", "-Z"]) {
                return;
            }
            let dir = opt_text(&p, &["-d"]).unwrap_or_else(|| ".".into());
            file(sh, fx, &dir, Kind::Write);
            return;
        }
        "zip" | "7z" | "7za" | "rar" => {
            // `zip ARCHIVE FILES…` (`7z a ARCHIVE FILES…`); `-d` deletes
            // entries and `-m` moves the files into the archive.
            let p = parse(rest, &["-x", "-i", "-b", "-n", "-t", "-tt", "-P", "-o"]);
            let pos: Vec<&Arg> = if name == "zip" {
                p.pos.clone()
            } else {
                p.pos.iter().skip(1).copied().collect()
            };
            let extract = name != "zip" && sub_is(rest, &["x", "e"]);
            if let Some(archive) = pos.first() {
                if extract {
                    arg_file(sh, fx, archive, Kind::Read, name);
                    file(sh, fx, ".", Kind::Write);
                    return;
                }
                arg_file(sh, fx, archive, Kind::Write, name);
                if name == "zip" && !archive.text().is_some_and(|t| t.contains('.')) {
                    if let Some(t) = archive.text() {
                        file(sh, fx, &format!("{t}.zip"), Kind::Write);
                    }
                }
            }
            for a in pos.iter().skip(1) {
                arg_file(sh, fx, a, Kind::Read, name);
                if p.has(&["-m"]) {
                    arg_file(sh, fx, a, Kind::Delete, name);
                }
            }
            return;
        }
        "scp" | "sftp" => {
            // Local paths are the words without `host:`; the last is the
            // destination.
            let p = parse(rest, &["-P", "-i", "-o", "-F", "-c", "-l", "-S", "-J"]);
            let remote = |a: &Arg| {
                a.text()
                    .is_none_or(|t| t.split('/').next().is_some_and(|h| h.contains(':')))
            };
            if let Some((dest, sources)) = p.pos.split_last() {
                for s in sources.iter().filter(|a| !remote(a)) {
                    arg_file(sh, fx, s, Kind::Read, name);
                }
                if !remote(dest) {
                    arg_file(sh, fx, dest, Kind::Write, name);
                }
            }
            return;
        }
        "gzip" | "gunzip" | "bzip2" | "bunzip2" | "xz" | "unxz" | "zstd" | "unzstd" | "lzma" => {
            let p = parse(rest, &["-S", "--suffix", "-b", "-T", "--threads"]);
            let to_stdout = p.has(&["-c", "--stdout", "-t", "--test", "-l", "--list"]);
            let keep = to_stdout || p.has(&["-k", "--keep"]);
            let decompress = name.starts_with("gun")
                || name.starts_with("bun")
                || name.starts_with("un")
                || p.has(&["-d", "--decompress"]);
            let ext = match name {
                "gzip" | "gunzip" => ".gz",
                "bzip2" | "bunzip2" => ".bz2",
                "xz" | "unxz" => ".xz",
                "zstd" | "unzstd" => ".zst",
                _ => ".lzma",
            };
            let ext = opt_text(&p, &["-S", "--suffix"]).unwrap_or_else(|| ext.to_string());
            for a in p.pos {
                arg_file(sh, fx, a, Kind::Read, name);
                if to_stdout {
                    continue;
                }
                for v in &a.word.values {
                    let out = if decompress {
                        v.strip_suffix(ext.as_str()).map(str::to_string)
                    } else {
                        Some(with_suffix(v, &ext))
                    };
                    match out {
                        Some(o) => file(sh, fx, &o, Kind::Write),
                        None => fx.opaque(format!("`{name}` writes a file named after `{v}`")),
                    }
                }
                if !keep {
                    arg_file(sh, fx, a, Kind::Delete, name);
                }
            }
            return;
        }
        "rsync" => return rsync(rest, sh, fx),
        "cpio" => {
            let p = parse(
                rest,
                &[
                    "-F",
                    "-O",
                    "-I",
                    "-D",
                    "-H",
                    "-E",
                    "-R",
                    "--file",
                    "--directory",
                    "--format",
                ],
            );
            let archive = p.value(&["-F", "-O", "-I", "--file"]);
            let mode = |c: char| {
                p.opts
                    .iter()
                    .any(|(o, _)| !o.starts_with("--") && o.starts_with('-') && o.contains(c))
            };
            if mode('o') || p.has(&["--create"]) {
                if let Some(a) = archive {
                    arg_file(sh, fx, a, Kind::Write, "cpio -o");
                }
            } else if mode('i') || p.has(&["--extract"]) {
                if let Some(a) = archive {
                    arg_file(sh, fx, a, Kind::Read, "cpio -i");
                }
                let dir = opt_text(&p, &["-D", "--directory"]).unwrap_or_else(|| ".".into());
                file(sh, fx, &dir, Kind::Write);
            } else if mode('p') || p.has(&["--pass-through"]) {
                for d in &p.pos {
                    arg_file(sh, fx, d, Kind::Write, "cpio -p");
                }
            }
            return;
        }
        "split" | "csplit" => {
            let p = parse(rest, &["-l", "-b", "-n", "-a", "-C", "--lines", "--bytes"]);
            if let Some(a) = p.pos.first() {
                arg_file(sh, fx, a, Kind::Read, name);
            }
            let prefix = p.pos.get(1).and_then(|a| a.text()).unwrap_or("x");
            file(sh, fx, &format!("{prefix}*"), Kind::Write);
            return;
        }
        "patch" => {
            let p = parse(
                rest,
                &["-i", "-p", "-d", "-o", "--input", "--directory", "--output"],
            );
            if let Some(i) = p.value(&["-i", "--input"]) {
                arg_file(sh, fx, i, Kind::Read, "patch");
            }
            if let Some(f) = p.pos.first() {
                arg_file(sh, fx, f, Kind::Read, "patch");
            }
            match p.value(&["-o", "--output"]) {
                Some(o) => arg_file(sh, fx, o, Kind::Write, "patch -o"),
                None => match p.pos.first() {
                    Some(f) => arg_file(sh, fx, f, Kind::Write, "patch"),
                    None => fx.opaque("patch writes the files its diff names"),
                },
            }
            return;
        }
        // `npm install …`, and bare `yarn`/`pnpm`/`bun`, which install.
        "npm" | "pnpm" | "yarn" | "bun"
            if sub_is(
                rest,
                &[
                    "install",
                    "i",
                    "ci",
                    "add",
                    "remove",
                    "rm",
                    "uninstall",
                    "update",
                    "up",
                    "upgrade",
                ],
            ) || (name != "npm"
                && rest
                    .iter()
                    .all(|a| a.text().is_some_and(|t| t.starts_with('-')))) =>
        {
            for f in [
                "package.json",
                "package-lock.json",
                "pnpm-lock.yaml",
                "yarn.lock",
                "bun.lockb",
                "node_modules",
            ] {
                file(sh, fx, f, Kind::Write);
            }
            return;
        }
        "npx" | "bunx" | "pnpx" => {
            // `npx TOOL ARGS`: the tool's own model applies (`npx prettier
            // --write f`); an unknown one stays unknown.
            let p = parse(rest, &["-p", "--package", "-c", "--call"]);
            if p.value(&["-c", "--call"]).is_some() {
                fx.opaque(format!("`{name} -c` runs a command string"));
                return;
            }
            let start = rest
                .iter()
                .position(|a| a.text().is_none_or(|t| !t.starts_with('-')))
                .unwrap_or(rest.len());
            if start < rest.len() {
                run(&rest[start..], sh, fx);
            }
            return;
        }
        "npm" | "pnpm" | "yarn" => {
            fx.opaque(format!(
                "`{name}` runs package scripts the policy has not described"
            ));
            return;
        }
        "cargo" => return cargo(rest, sh, fx),
        "pip" | "pip3" | "uv" | "poetry" => {
            let p = parse(rest, &["-r", "--requirement", "-c", "--constraint"]);
            if let Some(r) = p.value(&["-r", "--requirement"]) {
                arg_file(sh, fx, r, Kind::Read, name);
            }
            if sub_is(rest, &["add", "remove", "lock", "sync"]) {
                for f in ["pyproject.toml", "uv.lock", "poetry.lock"] {
                    file(sh, fx, f, Kind::Write);
                }
            } else if sub_is(rest, &["install", "uninstall"]) {
                fx.opaque(format!("`{name}` changes the Python environment"));
            }
            return;
        }
        "go" => {
            if sub_is(rest, &["get", "mod"]) {
                file(sh, fx, "go.mod", Kind::Write);
                file(sh, fx, "go.sum", Kind::Write);
            } else if sub_is(rest, &["fmt"]) {
                file(sh, fx, "**/*.go", Kind::Write);
            } else if sub_is(rest, &["build", "run", "test", "generate", "install"]) {
                fx.opaque("go build tools write outputs the policy has not named");
            }
            return;
        }
        "gofmt" | "goimports" => {
            let p = parse(rest, &[]);
            let kind = if p.has(&["-w"]) {
                Kind::Write
            } else {
                Kind::Read
            };
            for a in p.pos {
                arg_file(sh, fx, a, kind, name);
            }
            return;
        }
        "prettier" | "eslint" | "ruff" | "biome" => {
            let p = parse(
                rest,
                &["--config", "--parser", "-c", "--ext", "--plugin", "--rule"],
            );
            let writes = p.has(&["--write", "-w", "--fix"])
                || sub_is(rest, &["format"])
                || (name == "biome" && p.has(&["--apply"]));
            let kind = if writes { Kind::Write } else { Kind::Read };
            for a in p
                .pos
                .iter()
                .filter(|a| !matches!(a.text(), Some("format" | "check")))
            {
                arg_file(sh, fx, a, kind, name);
            }
            return;
        }
        _ => {}
    }
    let Some(row) = lookup(name) else {
        fx.unknown.insert(name.to_string());
        return;
    };
    let p = parse(rest, row.valued);
    match row.shape {
        Shape::ReadOnly => {}
        Shape::Read { skip } => {
            let skip = if p.value(&["-e", "-f", "--regexp", "--file"]).is_some() {
                0
            } else {
                skip
            };
            if let Some(f) = p.value(&["-f", "--file"]) {
                arg_file(sh, fx, f, Kind::Read, name);
            }
            for a in p.pos.iter().skip(skip) {
                arg_file(sh, fx, a, Kind::Read, name);
            }
            // `rg foo`, `grep -r foo`: a recursive search with no path reads
            // the working directory.
            let recursive = matches!(name, "rg" | "ag" | "ack")
                || (matches!(name, "grep" | "egrep" | "fgrep")
                    && p.has(&["-r", "-R", "--recursive", "--dereference-recursive"]));
            if recursive && p.pos.len() <= skip {
                file(sh, fx, ".", Kind::Read);
            }
            if matches!(name, "source" | ".") {
                fx.opaque("`source` runs a script whose effects can't be seen from here");
            }
        }
        Shape::Write => {
            if let Some(r) = p.value(&["-r", "--reference"]) {
                arg_file(sh, fx, r, Kind::Read, name);
            }
            for a in p.pos {
                arg_file(sh, fx, a, Kind::Write, name);
            }
        }
        Shape::Delete => {
            let parents = name == "rmdir" && p.has(&["-p", "--parents"]);
            for a in p.pos {
                arg_file(sh, fx, a, Kind::Delete, name);
                // `rmdir -p a/b/c` removes a/b and a too.
                if let (true, Some(t)) = (parents, a.text()) {
                    let mut cur = t.trim_end_matches('/');
                    while let Some((up, _)) = cur.rsplit_once('/') {
                        if up.is_empty() {
                            break;
                        }
                        file(sh, fx, up, Kind::Delete);
                        cur = up;
                    }
                }
            }
        }
        Shape::Edit { skip } => {
            // Formatters that only check or print: `rustfmt --check`,
            // `black --check`/`--diff`, `clang-format` without `-i`.
            let checks = p.has(&["--check", "--diff", "--dry-run", "-n", "--print"])
                || (name == "clang-format" && !p.opts.iter().any(|(o, _)| o == "-i"))
                || (matches!(name, "shfmt") && !p.has(&["-w", "--write"]));
            for a in p.pos.iter().skip(skip) {
                if checks {
                    arg_file(sh, fx, a, Kind::Read, name);
                    continue;
                }
                arg_file(sh, fx, a, Kind::Read, name);
                arg_file(sh, fx, a, Kind::Write, name);
            }
        }
        Shape::Copy { .. } if name == "install" && p.has(&["-d", "--directory"]) => {
            for a in p.pos {
                arg_file(sh, fx, a, Kind::Write, name);
            }
        }
        Shape::Copy { moves } => copy(name, &p, moves, sh, fx),
        Shape::Link => match p.value(&["-t", "--target-directory"]) {
            Some(dir) => {
                for t in &p.pos {
                    if let (Some(d), Some(t)) = (dir.text(), t.text()) {
                        let base = t.trim_end_matches('/').rsplit('/').next().unwrap_or(t);
                        file(sh, fx, &format!("{d}/{base}"), Kind::Write);
                    } else if let Some(d) = dir.text() {
                        file(sh, fx, &format!("{d}/*"), Kind::Write);
                    } else {
                        arg_file(sh, fx, dir, Kind::Write, "ln");
                    }
                }
            }
            None => match p.pos.as_slice() {
                [] => {}
                [one] => match one.text() {
                    Some(t) => {
                        let base = t.trim_end_matches('/').rsplit('/').next().unwrap_or(t);
                        file(sh, fx, base, Kind::Write);
                    }
                    None => {
                        fx.opaque("ln target only known at run time");
                        bound(sh, fx, "*", Kind::Write);
                    }
                },
                [targets @ .., last] => {
                    // `ln a b dir/` links each target into the directory.
                    let into_dir =
                        targets.len() > 1 || last.text().is_some_and(|t| t.ends_with('/'));
                    match last.text() {
                        Some(d) if into_dir => {
                            for t in targets {
                                for v in &t.word.values {
                                    let base =
                                        v.trim_end_matches('/').rsplit('/').next().unwrap_or(v);
                                    file(
                                        sh,
                                        fx,
                                        &format!("{}/{base}", d.trim_end_matches('/')),
                                        Kind::Write,
                                    );
                                }
                            }
                        }
                        _ => arg_file(sh, fx, last, Kind::Write, "ln"),
                    }
                }
            },
        },
        Shape::Attr => {
            // `chmod -x f`: a mode that starts with `-` parses as an option,
            // so every positional argument is a file.
            let dash_mode = name == "chmod"
                && p.opts.iter().any(|(o, _)| {
                    o.len() > 1
                        && o.starts_with('-')
                        && !o.starts_with("--")
                        && o[1..].chars().all(|c| "rwxXst".contains(c))
                });
            let files: Vec<&&Arg> = if dash_mode || p.opts.iter().any(|(o, _)| o == "--reference") {
                p.pos.iter().collect()
            } else {
                p.pos.iter().skip(1).collect()
            };
            for a in files {
                arg_file(sh, fx, a, Kind::Write, name);
            }
        }
        Shape::Wrapper => wrapper(name, rest, sh, fx),
        Shape::Opaque(_)
            if !rest.is_empty()
                && rest.iter().all(|a| {
                    matches!(
                        a.text(),
                        Some("--version" | "-V" | "--help" | "-h" | "version" | "help")
                    )
                }) =>
        {
            // `node --version`, `make --help`: they only print.
        }
        Shape::Opaque(why) => {
            // An interpreter given a script file reads it; `-c`/`-e` code is
            // what it runs.
            for a in p.pos.iter().take(1) {
                if let Some(t) = a.text() {
                    if t.contains('.') || t.contains('/') {
                        file(sh, fx, t, Kind::Read);
                    }
                }
            }
            fx.opaque(format!("`{name}`: {why}"));
        }
    }
}

fn sub_is(rest: &[Arg], subs: &[&str]) -> bool {
    rest.iter()
        .find_map(|a| a.text().filter(|t| !t.starts_with('-')))
        .is_some_and(|t| subs.contains(&t))
}

fn copy(name: &str, p: &Parsed<'_>, moves: bool, sh: &mut Shell<'_>, fx: &mut Effects) {
    // `--target-directory=DIR` carries its value in the word.
    let target = p.value(&["-t", "--target-directory"]).map(|a| {
        match opt_text(p, &["-t", "--target-directory"]) {
            Some(t) if !a.word.dynamic => Arg::literal(&t),
            _ => a.clone(),
        }
    });
    let (sources, dest): (Vec<&Arg>, Option<&Arg>) = match &target {
        Some(d) => (p.pos.clone(), Some(d)),
        None => match p.pos.split_last() {
            Some((last, rest)) if !rest.is_empty() => (rest.to_vec(), Some(*last)),
            _ => (p.pos.clone(), None),
        },
    };
    for s in &sources {
        arg_file(sh, fx, s, Kind::Read, name);
        if moves {
            arg_file(sh, fx, s, Kind::Delete, name);
        }
    }
    let Some(dest) = dest else { return };
    if dest.word.dynamic {
        // Its bound (or anywhere) covers DEST and DEST/basename alike.
        arg_file(sh, fx, dest, Kind::Write, &format!("{name} destination"));
        return;
    }
    for d in &dest.word.values {
        copy_into(name, p, &sources, d, sh, fx);
    }
}

/// The writes of `cp`/`mv`/`install` to one destination `d`.
fn copy_into(
    _name: &str,
    p: &Parsed<'_>,
    sources: &[&Arg],
    d: &str,
    sh: &mut Shell<'_>,
    fx: &mut Effects,
) {
    // Into a directory (trailing `/`, `-t`, several sources): each source
    // lands as DEST/basename; otherwise DEST itself. Without knowing the file
    // system, write both DEST and DEST/basename for a single source.
    let on_disk_dir = sh
        .cwd
        .as_deref()
        .map(|c| crate::resolve(c, d))
        .is_some_and(|abs| std::path::Path::new(&abs).is_dir());
    let into_dir = d.ends_with('/')
        || sources.len() > 1
        || p.value(&["-t", "--target-directory"]).is_some()
        || on_disk_dir;
    if !into_dir {
        file(sh, fx, d, Kind::Write);
        return;
    }
    for s in sources {
        if s.word.dynamic {
            file(
                sh,
                fx,
                &format!("{}/**", d.trim_end_matches('/')),
                Kind::Write,
            );
            continue;
        }
        for v in &s.word.values {
            // `cp --parents a/b.rs dest/` keeps the source's whole path.
            let base = if p.has(&["--parents"]) {
                v.trim_start_matches("./").trim_end_matches('/')
            } else {
                v.trim_end_matches('/').rsplit('/').next().unwrap_or(v)
            };
            file(
                sh,
                fx,
                &format!("{}/{base}", d.trim_end_matches('/')),
                Kind::Write,
            );
        }
    }
}

/// The options of each wrapper that take a separate value (flags such as
/// `env -i`, `sudo -n` or `command -p` take none).
fn wrapper_valued(name: &str) -> &'static [&'static str] {
    match name {
        "sudo" | "doas" => &[
            "-u",
            "-g",
            "-C",
            "-D",
            "-h",
            "-p",
            "-r",
            "-t",
            "-U",
            "-T",
            "--user",
            "--group",
            "--chdir",
            "--prompt",
            "--host",
            "--close-from",
        ],
        "env" => &["-u", "--unset", "-C", "--chdir", "-S", "--split-string"],
        "nice" => &["-n", "--adjustment"],
        "ionice" => &["-c", "-n", "-p", "-P", "-u", "--class", "--classdata"],
        "timeout" => &["-s", "-k", "--signal", "--kill-after"],
        "stdbuf" => &["-i", "-o", "-e", "--input", "--output", "--error"],
        "exec" => &["-a"],
        "time" => &["-f", "-o", "--format", "--output"],
        "chrt" => &["-p"],
        "taskset" => &["-p"],
        _ => &[],
    }
}

fn wrapper(name: &str, rest: &[Arg], sh: &mut Shell<'_>, fx: &mut Effects) {
    let valued = wrapper_valued(name);
    let mut i = 0;
    let mut inner = sh.clone();
    while i < rest.len() {
        let t = rest[i].text().unwrap_or("");
        if t == "--" {
            i += 1;
            break;
        }
        if name == "env" && t.contains('=') && !t.starts_with('-') {
            if let Some((k, _)) = t.split_once('=') {
                fx.assigns.insert(k.to_string());
            }
            i += 1;
            continue;
        }
        if t.starts_with('-') && !rest[i].word.dynamic {
            let (key, attached) = match t.split_once('=') {
                Some((k, v)) if t.starts_with("--") => (k, Some(v)),
                _ => (t, None),
            };
            let value = match attached {
                Some(v) => Some(v.to_string()),
                None if valued.contains(&key) => {
                    i += 1;
                    rest.get(i).and_then(Arg::text).map(str::to_string)
                }
                None => None,
            };
            match (name, key) {
                // `command -v rm`, `command -V rm`: only says what rm is.
                ("command", "-v" | "-V") => return,
                // `env -C DIR cmd`, `sudo -D DIR cmd`: cmd runs there.
                ("env", "-C" | "--chdir") | ("sudo", "-D" | "--chdir") => match value {
                    Some(d) => {
                        inner.cwd = inner.cwd.as_deref().map(|c| crate::resolve(c, &d));
                        if d.starts_with('/') {
                            inner.cwd = Some(crate::resolve("/", &d));
                        }
                    }
                    None => inner.cwd = None,
                },
                ("env", "-S" | "--split-string") => match value {
                    Some(code) => {
                        let line = format!(
                            "{code} {}",
                            rest[i + 1..]
                                .iter()
                                .map(|a| a.text().unwrap_or("\"$UNKNOWN\""))
                                .collect::<Vec<_>>()
                                .join(" ")
                        );
                        nested(&line, "env -S", &mut inner, fx);
                        return;
                    }
                    None => {
                        fx.opaque("env -S splits a string only known at run time");
                        return;
                    }
                },
                ("time", "-o" | "--output") => {
                    if let Some(f) = value {
                        file(sh, fx, &f, Kind::Write);
                    }
                }
                // `sudo -s`/`sudo -i` without a command start a shell.
                _ => {}
            }
            i += 1;
            continue;
        }
        // `timeout 10 cmd`: the duration comes first.
        if name == "timeout" && t.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
            continue;
        }
        if name == "nice" && t.parse::<i32>().is_ok() {
            i += 1;
            continue;
        }
        // `taskset MASK cmd`, `chrt PRIO cmd`.
        if matches!(name, "taskset" | "chrt")
            && !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_hexdigit() || c == 'x' || c == ',' || c == '-')
        {
            i += 1;
            continue;
        }
        break;
    }
    if i < rest.len() {
        if matches!(name, "command" | "builtin") {
            // `command rm` skips a function named rm; `builtin` runs only
            // shell builtins.
            inner.functions.clear();
            if name == "builtin" && !is_builtin(rest[i].text().unwrap_or("")) {
                return;
            }
        }
        run(&rest[i..], &mut inner, fx);
        if matches!(name, "command" | "builtin") {
            // `builtin cd DIR` moves the shell itself.
            sh.cwd = inner.cwd;
            sh.pending_cd = inner.pending_cd;
            sh.dirs = inner.dirs;
            sh.vars = inner.vars;
        }
    }
}

/// Bash builtins that `builtin NAME` can run.
fn is_builtin(name: &str) -> bool {
    matches!(
        name,
        "cd" | "pushd"
            | "popd"
            | "echo"
            | "printf"
            | "read"
            | "source"
            | "."
            | "eval"
            | "exec"
            | "export"
            | "local"
            | "declare"
            | "typeset"
            | "readonly"
            | "unset"
            | "set"
            | "shift"
            | "test"
            | "["
            | "true"
            | "false"
            | ":"
            | "type"
            | "hash"
            | "pwd"
            | "umask"
            | "ulimit"
            | "mapfile"
            | "readarray"
            | "let"
            | "alias"
            | "unalias"
            | "trap"
            | "wait"
            | "kill"
            | "jobs"
            | "fg"
            | "bg"
            | "disown"
            | "history"
            | "fc"
            | "dirs"
            | "shopt"
            | "enable"
            | "command"
            | "builtin"
            | "getopts"
            | "return"
            | "exit"
            | "break"
            | "continue"
    )
}

fn shell_c(name: &str, rest: &[Arg], sh: &mut Shell<'_>, fx: &mut Effects) {
    let mut i = 0;
    while i < rest.len() {
        let t = rest[i].text().unwrap_or("");
        if t == "-c" || (t.starts_with('-') && !t.starts_with("--") && t.contains('c')) {
            let codes: Option<Vec<String>> = rest
                .get(i + 1)
                .filter(|a| !a.word.dynamic && !a.word.values.is_empty())
                .map(|a| a.word.values.clone());
            match codes {
                Some(codes) => {
                    // Words after the code are `$0`, `$1`, …: a path given
                    // there (`find -exec sh -c '…' _ {} \;`) is known.
                    let mut inner = sh.clone();
                    let params = rest.get(i + 2..).unwrap_or(&[]);
                    let mut all = Vec::new();
                    for (k, a) in params.iter().enumerate() {
                        match a.word.values.as_slice() {
                            [v] if !a.word.dynamic => {
                                let v = if a.word.glob || a.word.alternatives {
                                    format!("{}{v}", crate::word::PATTERN_VALUE)
                                } else {
                                    v.clone()
                                };
                                inner.vars.insert(k.to_string(), v.clone());
                                if k > 0 {
                                    all.push(v.clone());
                                }
                            }
                            _ => {
                                inner.vars.remove(&k.to_string());
                            }
                        }
                    }
                    if !all.is_empty() && all.len() + 1 == params.len() {
                        // One pattern among them makes `$@` a pattern.
                        let marked = all
                            .iter()
                            .any(|v| v.starts_with(crate::word::PATTERN_VALUE));
                        let joined = all
                            .iter()
                            .map(|v| v.trim_start_matches(crate::word::PATTERN_VALUE))
                            .collect::<Vec<_>>()
                            .join(" ");
                        let joined = if marked {
                            format!("{}{joined}", crate::word::PATTERN_VALUE)
                        } else {
                            joined
                        };
                        inner.vars.insert("@".into(), joined.clone());
                        inner.vars.insert("*".into(), joined);
                    }
                    // Several texts (a pattern spliced in by `find -exec`)
                    // are each possible code.
                    for code in codes.iter().take(crate::fs::MAX_MATCHES) {
                        nested(code, &format!("{name} -c"), &mut inner.clone(), fx);
                    }
                }
                None => fx.opaque(format!("{name} -c with code only known at run time")),
            }
            return;
        }
        if t.starts_with('-') {
            i += 1;
            continue;
        }
        // `bash script.sh`: reads and runs a script.
        if let Some(script) = rest[i].text() {
            file(sh, fx, script, Kind::Read);
        }
        fx.opaque(format!(
            "`{name}` runs a script whose effects can't be seen from here"
        ));
        return;
    }
    fx.opaque(format!("`{name}` reads commands from its input"));
}

fn xargs(name: &str, rest: &[Arg], sh: &mut Shell<'_>, fx: &mut Effects) {
    // Options end at the first word that is not one: the command starts
    // there. Short options cluster (`-0i`, `-n1`, `-iA`); `-I`, `-n`, `-P`,
    // `-d`, `-L`, `-s`, `-E`, `-a` take a value, attached or next; `-i`
    // takes an optional attached one.
    let mut i = 0;
    let mut placeholder: Option<String> = None;
    // Input split on newlines or NULs (`-0`, `-d`), not on every blank.
    let mut whole_lines = false;
    while i < rest.len() {
        let t = rest[i].text().unwrap_or("");
        if !t.starts_with('-') || t == "-" || rest[i].word.dynamic {
            break;
        }
        if t == "--" {
            i += 1;
            break;
        }
        if let Some(long) = t.strip_prefix("--") {
            let (key, value) = match long.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (long, None),
            };
            let takes = matches!(
                key,
                "arg-file"
                    | "delimiter"
                    | "max-args"
                    | "max-procs"
                    | "max-lines"
                    | "max-chars"
                    | "eof"
            );
            let value = match value {
                Some(v) => Some(v),
                None if takes => {
                    i += 1;
                    rest.get(i).and_then(Arg::text).map(str::to_string)
                }
                None => None,
            };
            match key {
                "replace" => placeholder = Some(value.unwrap_or_else(|| "{}".into())),
                "null" | "delimiter" => whole_lines = true,
                "arg-file" => {
                    if let Some(v) = value {
                        file(sh, fx, &v, Kind::Read);
                    }
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        let cluster: Vec<char> = t[1..].chars().collect();
        let mut k = 0;
        while k < cluster.len() {
            let c = cluster[k];
            let attached: String = cluster[k + 1..].iter().collect();
            match c {
                '0' => whole_lines = true,
                'i' => {
                    placeholder = Some(if attached.is_empty() {
                        "{}".into()
                    } else {
                        attached
                    });
                    break;
                }
                'I' | 'n' | 'P' | 'd' | 'L' | 's' | 'E' | 'a' | 'l' => {
                    let value = if !attached.is_empty() {
                        Some(attached)
                    } else if c == 'l' {
                        None
                    } else {
                        i += 1;
                        rest.get(i).and_then(Arg::text).map(str::to_string)
                    };
                    match c {
                        'I' => placeholder = value,
                        'd' => whole_lines = true,
                        'a' => {
                            if let Some(v) = value {
                                file(sh, fx, &v, Kind::Read);
                            }
                        }
                        _ => {}
                    }
                    break;
                }
                _ => {}
            }
            k += 1;
        }
        i += 1;
    }
    if i >= rest.len() {
        return;
    }
    // `-I` reads whole lines too.
    whole_lines |= placeholder.is_some();
    // The command's file arguments come from the input: what the producer
    // before the pipe prints, when that is known as paths (`find`, `ls`,
    // `echo`, `git ls-files`, through `grep`/`sort`/`head`); otherwise any
    // path at all, and the line is opaque.
    // Input known item by item (`echo a b | xargs rm`), not by pattern.
    let exact = matches!(&sh.stdin, Some(crate::output::Printed::Paths(p)) if p.iter().all(|x| !crate::word::is_pattern(x) && !x.contains(char::is_whitespace)));
    let input: Vec<String> = match &sh.stdin {
        Some(crate::output::Printed::Paths(p)) => {
            if whole_lines {
                p.clone()
            } else {
                p.iter()
                    .flat_map(|x| x.split_whitespace())
                    .map(str::to_string)
                    .collect()
            }
        }
        _ => {
            fx.opaque(format!(
                "`{name}` takes paths from an input only known at run time"
            ));
            Vec::new()
        }
    };
    let known = matches!(&sh.stdin, Some(crate::output::Printed::Paths(_)));
    // Unknown input: each item is a run-time word, bounded by nothing.
    let unknown_item = |head: &str| Arg {
        word: crate::word::Expanded {
            dynamic: true,
            bounds: crate::word::bound_of(head).into_iter().collect(),
            ..crate::word::Expanded::default()
        },
    };
    let items = if !known {
        unknown_item("")
    } else {
        Arg {
            word: crate::word::Expanded {
                values: input.clone(),
                alternatives: true,
                ..crate::word::Expanded::default()
            },
        }
    };
    let mut cmd: Vec<Arg> = rest[i..]
        .iter()
        .map(|a| match (&placeholder, a.text()) {
            (Some(ph), Some(t)) if t.contains(ph.as_str()) && !known => {
                unknown_item(&t[..t.find(ph.as_str()).unwrap_or(0)])
            }
            (Some(ph), Some(t)) if t.contains(ph.as_str()) => Arg {
                word: crate::word::Expanded {
                    values: input.iter().flat_map(|v| substitute(t, ph, v)).collect(),
                    dynamic: false,
                    glob: false,
                    bounds: Vec::new(),
                    alternatives: true,
                    ..crate::word::Expanded::default()
                },
            },
            _ => a.clone(),
        })
        .collect();
    if placeholder.is_none() {
        // Items are appended; for `cp`/`mv`/`ln` they are the sources and the
        // destination (`xargs -n2 mv`).
        cmd.push(items.clone());
        if matches!(
            lookup(cmd[0].text().unwrap_or("")).map(|r| r.shape),
            Some(Shape::Copy { .. } | Shape::Link)
        ) {
            cmd.push(items);
        }
    }
    if let Some(ph) = &placeholder {
        code_from_input(&rest[i..], ph, name, fx);
    }
    let mut sub = sh.clone();
    sub.stdin = None;
    let before = (fx.writes.len(), fx.deletes.len());
    run(&cmd, &mut sub, fx);
    if !whole_lines && (fx.writes.len(), fx.deletes.len()) != before && !exact {
        // `a b.txt` is two items: a name with a blank acts on other paths.
        fx.opaque(format!(
            "`{name}` splits its input at blanks: a name containing one stands for other paths"
        ));
    }
}

/// `sh -c 'CODE {}'` run by `xargs -I` or `find -exec`: the names are
/// spliced into the code, where a blank or a quote in one changes what the
/// code says.
fn code_from_input(cmd: &[Arg], ph: &str, via: &str, fx: &mut Effects) {
    let shell = matches!(
        cmd.first().and_then(Arg::text),
        Some("sh" | "bash" | "zsh" | "dash" | "ksh")
    );
    let spliced = cmd
        .iter()
        .skip(1)
        .filter_map(Arg::text)
        .any(|t| t.contains(ph) && t.contains(char::is_whitespace));
    if shell && spliced {
        fx.opaque(format!(
            "`{via}` splices names into shell code: a name with a blank or quote changes the code"
        ));
    }
}

/// A path or pattern with text appended to its name: a tree pattern
/// (`dir/**`) stands for every name under it (`dir/**/*.gz`).
pub(crate) fn with_suffix(path: &str, suffix: &str) -> String {
    match path.strip_suffix("/**") {
        Some(root) => format!("{root}/**/*{suffix}"),
        None => format!("{path}{suffix}"),
    }
}

/// `word` with the placeholder `ph` replaced by `value`, a path or pattern.
/// A pattern naming a tree (`dir/**`) followed by more text stands for the
/// tree's root or any name under it with that text (`{}.gz` →
/// `dir.gz`, `dir/**/*.gz`).
pub(crate) fn substitute(word: &str, ph: &str, value: &str) -> Vec<String> {
    match value.strip_suffix("/**") {
        Some(root) if !word.ends_with(ph) => vec![
            word.replace(ph, root),
            word.replace(ph, &format!("{root}/**/*")),
        ],
        _ => vec![word.replace(ph, value)],
    }
}

fn find_roots(rest: &[Arg]) -> usize {
    rest.iter()
        .position(|a| {
            let t = a.text().unwrap_or("");
            t.starts_with('-') || t == "(" || t == "!"
        })
        .unwrap_or(rest.len())
}

/// The paths `find` visits, as patterns relative to the working directory:
/// `ROOT/**`, or `ROOT/**/NAME` when a single positive `-name` narrows them
/// (negations, `-o` and several names do not). A root only known at run
/// time contributes its bound, or `/**` when nothing bounds it.
pub(crate) fn find_matches(rest: &[Arg], vars: &crate::word::Vars) -> Vec<String> {
    let i = find_roots(rest);
    let mut roots: Vec<String> = Vec::new();
    for r in &rest[..i] {
        if r.word.dynamic {
            if r.word.bounds.is_empty() {
                roots.push("/".into());
            } else {
                roots.extend(
                    r.word
                        .bounds
                        .iter()
                        .map(|b| b.trim_end_matches("/**").to_string()),
                );
            }
        } else {
            roots.extend(r.word.values.iter().cloned());
        }
    }
    if roots.is_empty() {
        roots.push(".".into());
    }
    let names: Vec<(Option<&str>, Option<&str>)> = rest
        .windows(2)
        .enumerate()
        .filter(|(_, w)| matches!(w[0].text(), Some("-name" | "-iname")))
        .map(|(k, w)| (k.checked_sub(1).and_then(|p| rest[p].text()), w[1].text()))
        .collect();
    let alternatives = rest.iter().any(|a| matches!(a.text(), Some("-o" | "-or")));
    let iname = rest.iter().any(|a| a.text() == Some("-iname"));
    let name = match names.as_slice() {
        [(before, Some(n))]
            if !matches!(before, Some("!" | "-not"))
                && !alternatives
                && !iname
                && !n.contains('/') =>
        {
            Some(*n)
        }
        _ => None,
    };
    // Looking at the tree, the matches are the files find will visit.
    let cwd = vars
        .get("PWD")
        .filter(|_| vars.contains_key(crate::word::LOOK));
    let max_depth = rest
        .windows(2)
        .find(|w| w[0].text() == Some("-maxdepth"))
        .and_then(|w| w[1].text()?.parse::<usize>().ok());
    let matcher = name.and_then(|n| hookgate_glob::Pattern::new(n, false).ok());
    // `-type f` / `-type d` (one type; `f,d` lists keep everything).
    let kind = rest
        .windows(2)
        .find(|w| w[0].text() == Some("-type"))
        .and_then(|w| w[1].text())
        .filter(|t| matches!(*t, "f" | "d"))
        .and_then(|t| t.chars().next());
    roots
        .iter()
        .flat_map(|r| {
            let r = r.trim_end_matches('/');
            let r = if r.is_empty() { "/" } else { r };
            let pattern = match name {
                Some(n) => format!("{}/**/{n}", r.trim_end_matches('/')),
                None => format!("{}/**", r.trim_end_matches('/')),
            };
            let Some(cwd) = cwd
                .filter(|_| !r.contains(['*', '?', '[']) && (name.is_none() || matcher.is_some()))
            else {
                return vec![pattern];
            };
            let abs = crate::resolve(cwd, r);
            match crate::fs::find(&abs, matcher.as_ref(), kind, max_depth) {
                // Shown as find prints them: under the root as written.
                crate::fs::Found::Files(files) => files
                    .into_iter()
                    .map(|f| match f.strip_prefix(abs.trim_end_matches('/')) {
                        Some(rel) => format!("{r}{rel}").replacen("//", "/", 1),
                        None => f,
                    })
                    .collect(),
                crate::fs::Found::Nothing => Vec::new(),
                crate::fs::Found::TooMany => vec![pattern],
            }
        })
        .collect()
}

fn find(rest: &[Arg], sh: &mut Shell<'_>, fx: &mut Effects) {
    let i = find_roots(rest);
    // What find's actions touch: the matches under each root (`ROOT/**`
    // names the root itself too).
    let matches = find_matches(rest, &sh.vars);
    let mut j = i;
    while j < rest.len() {
        match rest[j].text().unwrap_or("") {
            "-delete" => {
                for m in &matches {
                    file(sh, fx, m, Kind::Delete);
                }
            }
            "-fprint" | "-fprintf" | "-fls" | "-fprint0" => {
                if let Some(f) = rest.get(j + 1) {
                    arg_file(sh, fx, f, Kind::Write, "find");
                }
            }
            "-exec" | "-execdir" | "-ok" | "-okdir" => {
                let end = rest[j + 1..]
                    .iter()
                    .position(|a| matches!(a.text(), Some(";" | "+")))
                    .map_or(rest.len(), |p| j + 1 + p);
                let cmd: Vec<Arg> = rest[j + 1..end].to_vec();
                code_from_input(&cmd, "{}", "find -exec", fx);
                if !cmd.is_empty() {
                    // `{}` stands for each match.
                    let mut inner = Effects::default();
                    let mut sub = sh.clone();
                    // `{}` (alone or inside a word) stands for each match.
                    let forms = &matches;
                    let with_matches: Vec<Arg> = cmd
                        .iter()
                        .map(|a| match a.text() {
                            Some(t) if t.contains("{}") => Arg {
                                word: crate::word::Expanded {
                                    values: forms
                                        .iter()
                                        .flat_map(|f| substitute(t, "{}", f))
                                        .collect(),
                                    dynamic: false,
                                    glob: false,
                                    bounds: Vec::new(),
                                    alternatives: true,
                                    ..crate::word::Expanded::default()
                                },
                            },
                            _ => a.clone(),
                        })
                        .collect();
                    run(&with_matches, &mut sub, &mut inner);
                    fx.writes.extend(inner.writes);
                    fx.deletes.extend(inner.deletes);
                    fx.reads.extend(inner.reads);
                    fx.unknown.extend(inner.unknown);
                    for r in inner.reasons {
                        fx.opaque(r);
                    }
                }
                j = end;
            }
            _ => {}
        }
        j += 1;
    }
}

fn git(rest: &[Arg], sh: &mut Shell<'_>, fx: &mut Effects) {
    // Global options before the subcommand (`-C dir`, `-c k=v`).
    let mut i = 0;
    let mut inner_sh = sh.clone();
    while i < rest.len() {
        match rest[i].text() {
            Some("-C") => {
                if let (Some(d), Some(cwd)) = (rest.get(i + 1).and_then(Arg::text), &inner_sh.cwd) {
                    inner_sh.cwd = Some(crate::resolve(cwd, d));
                }
                i += 2;
            }
            Some("-c") => {
                if rest
                    .get(i + 1)
                    .and_then(Arg::text)
                    .is_some_and(|v| v.starts_with("core.hooksPath"))
                {
                    fx.opaque("git -c core.hooksPath bypasses the repository's hooks");
                }
                i += 2;
            }
            Some(t) if t.starts_with('-') => i += 1,
            _ => break,
        }
    }
    let sh = &mut inner_sh;
    let Some(sub) = rest.get(i).and_then(Arg::text) else {
        return;
    };
    let args = &rest[i + 1..];
    let p = parse(
        args,
        &[
            "-m",
            "-F",
            "-b",
            "-B",
            "-C",
            "-c",
            "--message",
            "--file",
            "-o",
            "--author",
            "-s",
        ],
    );
    let after_dashdash: Vec<&Arg> = match args.iter().position(|a| a.text() == Some("--")) {
        Some(k) => args[k + 1..].iter().collect(),
        None => Vec::new(),
    };
    match sub {
        "status" | "log" | "diff" | "show" | "blame" | "grep" | "ls-files" | "rev-parse"
        | "describe" | "shortlog" | "reflog" | "remote" | "help" | "version" | "ls-tree"
        | "cat-file" | "rev-list" | "name-rev" | "for-each-ref" | "show-ref" | "whatchanged"
        | "count-objects" | "check-ignore" | "merge-base" | "var" => {}
        "symbolic-ref" => {
            if p.pos.len() > 1 {
                file(sh, fx, ".git", Kind::Write);
            }
        }
        "branch" | "tag" => {
            if p.has(&["-d", "-D", "--delete", "-m", "-M"]) || !p.pos.is_empty() {
                file(sh, fx, ".git", Kind::Write);
            }
        }
        "add" | "commit" | "notes" | "update-index" => {
            file(sh, fx, ".git", Kind::Write);
            if let Some(f) = p.value(&["-F", "--file"]) {
                arg_file(sh, fx, f, Kind::Read, "git commit -F");
            }
        }
        "rm" => {
            file(sh, fx, ".git", Kind::Write);
            if !p.has(&["--cached"]) {
                for a in &p.pos {
                    arg_file(sh, fx, a, Kind::Delete, "git rm");
                }
            }
        }
        "mv" => {
            file(sh, fx, ".git", Kind::Write);
            if let Some((dst, srcs)) = p.pos.split_last() {
                for s in srcs {
                    arg_file(sh, fx, s, Kind::Delete, "git mv");
                }
                arg_file(sh, fx, dst, Kind::Write, "git mv");
            }
        }
        "checkout" | "restore" => {
            file(sh, fx, ".git", Kind::Write);
            let paths: Vec<&Arg> = if !after_dashdash.is_empty() {
                after_dashdash
            } else if sub == "restore" {
                p.pos.clone()
            } else {
                Vec::new()
            };
            if paths.is_empty()
                && !(sub == "restore" && p.has(&["--staged"]) && !p.has(&["--worktree"]))
            {
                // Switching branches rewrites the work tree.
                file(sh, fx, ".", Kind::Write);
            }
            for a in paths {
                arg_file(sh, fx, a, Kind::Write, "git checkout");
            }
        }
        "reset" => {
            file(sh, fx, ".git", Kind::Write);
            if p.has(&["--hard", "--merge", "--keep"]) {
                file(sh, fx, ".", Kind::Write);
            }
        }
        "clean" => {
            if p.has(&["-f", "--force"]) && !p.has(&["-n", "--dry-run"]) {
                file(sh, fx, ".", Kind::Delete);
            }
        }
        "stash" if sub_is(args, &["list", "show"]) => {}
        "stash" | "apply" | "am" | "merge" | "rebase" | "pull" | "cherry-pick" | "revert"
        | "switch" | "worktree" | "submodule" | "bisect" => {
            file(sh, fx, ".git", Kind::Write);
            file(sh, fx, ".", Kind::Write);
        }
        // Updates remote-tracking refs and FETCH_HEAD.
        "fetch" | "gc" | "prune" | "repack" | "pack-refs" | "maintenance" => {
            file(sh, fx, ".git", Kind::Write)
        }
        "config" => {
            let reads_only = p.has(&[
                "--get",
                "--get-all",
                "--get-regexp",
                "--list",
                "-l",
                "--show-origin",
                "--get-urlmatch",
            ]) || (p.pos.len() <= 1
                && !p.has(&[
                    "--unset",
                    "--unset-all",
                    "--remove-section",
                    "--rename-section",
                    "--add",
                    "--replace-all",
                    "-e",
                    "--edit",
                ]));
            if !reads_only {
                if p.has(&["--global"]) {
                    match sh.vars.get("HOME").cloned() {
                        Some(h) => file(sh, fx, &format!("{h}/.gitconfig"), Kind::Write),
                        None => fx.opaque("git config --global writes under an unknown $HOME"),
                    }
                } else if p.has(&["--system"]) {
                    file(sh, fx, "/etc/gitconfig", Kind::Write);
                } else {
                    // git's own writes to its directory are reported as `.git`.
                    file(sh, fx, ".git", Kind::Write);
                }
            }
        }
        "push" => {}
        "clone" | "init" => {
            let dest = p
                .pos
                .get(usize::from(sub == "clone"))
                .and_then(|a| a.text())
                .map(str::to_string);
            file(sh, fx, &dest.unwrap_or_else(|| ".".into()), Kind::Write);
        }
        other => {
            fx.unknown.insert(format!("git {other}"));
        }
    }
}

fn sed(rest: &[Arg], sh: &mut Shell<'_>, fx: &mut Effects) {
    let p = parse(rest, &["-e", "-f", "--expression", "--file", "-l"]);
    // `-i[SUFFIX]` (alone or ending a cluster such as `-Ei`, `-ie`: there
    // the `e` is the suffix) or `--in-place[=SUFFIX]`; a suffix keeps a
    // backup, `*` in it standing for the file's name.
    let mut in_place = false;
    let mut backup: Option<String> = None;
    for (o, v) in &p.opts {
        if o == "--in-place" {
            in_place = true;
            let text = v.and_then(Arg::text).unwrap_or("");
            if let Some(v) = text.strip_prefix("--in-place=").filter(|v| !v.is_empty()) {
                backup = Some(v.to_string());
            }
        } else if !o.starts_with("--") {
            for (k, c) in o.char_indices().skip(1) {
                match c {
                    'e' | 'f' | 'l' => break,
                    'i' => {
                        in_place = true;
                        let sfx = &o[k + 1..];
                        if !sfx.is_empty() {
                            backup = Some(sfx.to_string());
                        }
                        break;
                    }
                    _ => {}
                }
            }
        }
    }
    let script_given = p.value(&["-e", "-f", "--expression", "--file"]).is_some();
    let mut scripts: Vec<String> = p
        .opts
        .iter()
        .filter(|(o, _)| o == "-e" || o == "--expression")
        .filter_map(|(_, v)| v.and_then(|a| a.text()).map(str::to_string))
        .collect();
    let files: Vec<&Arg> = if script_given {
        p.pos.clone()
    } else {
        if let Some(s) = p.pos.first().and_then(|a| a.text()) {
            scripts.push(s.to_string());
        }
        p.pos.iter().skip(1).copied().collect()
    };
    if let Some(f) = p.value(&["-f", "--file"]) {
        arg_file(sh, fx, f, Kind::Read, "sed -f");
    }
    // `e COMMAND` and the `e` flag of `s///e` run shell commands.
    if scripts.iter().any(|s| sed_executes(s)) {
        fx.opaque("sed's `e` command runs text as a shell command");
    }
    // The `w FILE` command (and `s///w FILE`) writes a file.
    for s in &scripts {
        for line in s.split(['\n', ';']) {
            let l = line.trim();
            if let Some(f) = l
                .strip_prefix("w ")
                .or_else(|| l.rsplit_once("/w ").map(|x| x.1))
            {
                file(sh, fx, f.trim(), Kind::Write);
            }
        }
    }
    for a in files {
        arg_file(sh, fx, a, Kind::Read, "sed");
        if in_place {
            arg_file(sh, fx, a, Kind::Write, "sed -i");
            if let Some(b) = &backup {
                backup_files(sh, fx, a, b);
            }
        }
    }
}

/// The backup `sed -i SUFFIX` / `perl -i SUFFIX` keeps of `a`: the name
/// with the suffix appended, or the suffix with `*` replaced by the name.
fn backup_files(sh: &Shell<'_>, fx: &mut Effects, a: &Arg, suffix: &str) {
    if a.word.dynamic {
        arg_file(sh, fx, a, Kind::Write, "backup");
        return;
    }
    for v in &a.word.values {
        let out = if suffix.contains('*') {
            let (dir, base) = v.rsplit_once('/').map_or(("", v.as_str()), |(d, b)| (d, b));
            let named = suffix.replace('*', base);
            if named.contains('/') || dir.is_empty() {
                named
            } else {
                format!("{dir}/{named}")
            }
        } else {
            with_suffix(v, suffix)
        };
        file(sh, fx, &out, Kind::Write);
    }
}

/// Does a sed script use `e` (run a command) or `s///e`?
fn sed_executes(script: &str) -> bool {
    script.split(['\n', ';']).any(|cmd| {
        let c = cmd.trim_start_matches(|ch: char| ch.is_ascii_digit() || ",$/ !".contains(ch));
        if c == "e" || c.starts_with("e ") {
            return true;
        }
        // `s/a/b/FLAGS`: the flags after the third delimiter.
        let Some(rest) = c.strip_prefix('s') else {
            return false;
        };
        let Some(delim) = rest.chars().next() else {
            return false;
        };
        let parts: Vec<&str> = rest[delim.len_utf8()..].splitn(3, delim).collect();
        parts.len() == 3 && {
            let flags = parts[2].split('w').next().unwrap_or("");
            flags.contains('e')
        }
    })
}

fn perl(rest: &[Arg], sh: &mut Shell<'_>, fx: &mut Effects) {
    // Clusters: `-pi.bak -e CODE`, `-pe CODE`, `-i -pe CODE`: an `e`/`E` ends
    // a cluster and takes the next word as code; `i` edits in place, and
    // what follows it in the cluster is a backup suffix.
    let mut in_place = false;
    let mut backup: Option<String> = None;
    let mut code: Option<Option<String>> = None;
    let mut files: Vec<&Arg> = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        let t = rest[i].text().unwrap_or("");
        if t.starts_with('-') && !t.starts_with("--") && t.len() > 1 && !rest[i].word.dynamic {
            let cluster = &t[1..];
            if let Some(k) = cluster.find('i') {
                in_place = true;
                let sfx = &cluster[k + 1..];
                if !sfx.is_empty() && !sfx.ends_with(['e', 'E']) {
                    backup = Some(sfx.to_string());
                }
            }
            let flags = cluster.split('.').next().unwrap_or("");
            if flags.ends_with('e') || flags.ends_with('E') {
                let text = rest.get(i + 1).and_then(Arg::text).map(str::to_string);
                code = Some(match (code, text) {
                    (Some(Some(prev)), Some(t)) => Some(format!("{prev}\n{t}")),
                    (Some(None), _) | (_, None) => None,
                    (None, Some(t)) => Some(t),
                });
                i += 2;
                continue;
            }
            if matches!(flags, "M" | "I" | "l" | "0") {
                i += 1;
            }
        } else if code.is_none() && files.is_empty() && !t.is_empty() {
            // The first plain word is a script file unless -e gave code.
            code = Some(None);
            file(sh, fx, t, Kind::Read);
        } else {
            files.push(&rest[i]);
        }
        i += 1;
    }
    // In-place substitutions (`s/a/b/g`, `tr/a/b/`) act on the files given;
    // code that calls out (system, unlink, open …) can do anything.
    let plain = matches!(&code, Some(Some(c)) if !perl_calls_out(c));
    if in_place {
        for a in files {
            arg_file(sh, fx, a, Kind::Read, "perl -i");
            arg_file(sh, fx, a, Kind::Write, "perl -i");
            if let Some(b) = &backup {
                backup_files(sh, fx, a, b);
            }
        }
    } else {
        for a in files {
            arg_file(sh, fx, a, Kind::Read, "perl");
        }
    }
    if !plain {
        fx.opaque("`perl` runs code whose effects can't be seen from the command line");
    }
}

fn awk(rest: &[Arg], sh: &mut Shell<'_>, fx: &mut Effects) {
    let p = parse(
        rest,
        &[
            "-F",
            "-v",
            "-f",
            "-i",
            "--include",
            "--file",
            "--assign",
            "--field-separator",
        ],
    );
    let in_place = p.opts.iter().any(|(o, v)| {
        matches!(o.as_str(), "-i" | "--include") && v.and_then(|a| a.text()) == Some("inplace")
    });
    let from_file = p.value(&["-f", "--file"]);
    if let Some(f) = from_file {
        arg_file(sh, fx, f, Kind::Read, "awk -f");
        fx.opaque("`awk -f` runs a program whose effects can't be seen from the command line");
    }
    let (program, files): (Option<&Arg>, Vec<&Arg>) = if from_file.is_some() {
        (None, p.pos.clone())
    } else {
        (
            p.pos.first().copied(),
            p.pos.iter().skip(1).copied().collect(),
        )
    };
    if let Some(prog) = program {
        match prog.text() {
            Some(code) if awk_calls_out(code) => {
                fx.opaque("the awk program runs commands or writes files of its own")
            }
            Some(_) => {}
            None => fx.opaque("awk program only known at run time"),
        }
    }
    // `VAR=value` operands assign, they are not files.
    for a in files
        .into_iter()
        .filter(|a| a.text().is_none_or(|t| !t.contains('=')))
    {
        arg_file(sh, fx, a, Kind::Read, "awk");
        if in_place {
            arg_file(sh, fx, a, Kind::Write, "awk -i inplace");
        }
    }
}

/// Does an awk program run commands (`system`, `| "cmd"`) or write files
/// of its own (`print > "f"`)?
fn awk_calls_out(code: &str) -> bool {
    if code.contains("system") || code.replace("||", "").contains('|') || code.contains("getline") {
        return true;
    }
    code.match_indices("print").any(|(k, _)| {
        code[k..]
            .split([';', '}', '\n'])
            .next()
            .is_some_and(|stmt| stmt.contains('>'))
    })
}

/// Does inline Perl code reach outside its input and output?
fn perl_calls_out(code: &str) -> bool {
    const CALLS: &[&str] = &[
        "system", "exec", "unlink", "rename", "open", "qx", "`", "mkdir", "rmdir", "chmod",
        "chown", "link", "symlink", "truncate", "utime", "require", "use ", "do ", "eval",
        "sysopen", "print {", "printf {", "fork", "pipe", "copy", "move", "File::", "glob", "<",
        ">",
    ];
    CALLS.iter().any(|c| code.contains(c))
}

fn dd(rest: &[Arg], sh: &mut Shell<'_>, fx: &mut Effects) {
    for a in rest {
        match a.text().and_then(|t| t.split_once('=')) {
            Some(("if", f)) => file(sh, fx, f, Kind::Read),
            Some(("of", f)) => file(sh, fx, f, Kind::Write),
            _ if a.word.dynamic => {
                fx.opaque("dd operand only known at run time");
                for b in &a.word.bounds {
                    match b.strip_prefix("of=") {
                        Some("*") => bound(sh, fx, "/**", Kind::Write),
                        Some(t) => bound(sh, fx, t, Kind::Write),
                        None => {}
                    }
                }
            }
            _ => {}
        }
    }
}

fn curl(rest: &[Arg], sh: &mut Shell<'_>, fx: &mut Effects) {
    let p = parse(
        rest,
        &[
            "-o",
            "--output",
            "-d",
            "--data",
            "-H",
            "-X",
            "-u",
            "-T",
            "--upload-file",
            "-F",
            "-A",
            "-e",
            "-b",
            "-c",
            "--cookie-jar",
            "-K",
            "--config",
            "-w",
            "--output-dir",
            "--connect-timeout",
            "-m",
            "--max-time",
            "-x",
        ],
    );
    if let Some(o) = p.value(&["-o", "--output"]) {
        arg_file(sh, fx, o, Kind::Write, "curl -o");
    }
    if let Some(c) = p.value(&["-c", "--cookie-jar"]) {
        arg_file(sh, fx, c, Kind::Write, "curl -c");
    }
    if let Some(t) = p.value(&["-T", "--upload-file"]) {
        arg_file(sh, fx, t, Kind::Read, "curl -T");
    }
    if p.has(&["-O", "--remote-name", "--remote-name-all"]) {
        let dir = opt_text(&p, &["--output-dir"]);
        for u in &p.pos {
            match u.text().and_then(url_basename) {
                Some(b) => match &dir {
                    Some(d) => file(
                        sh,
                        fx,
                        &format!("{}/{b}", d.trim_end_matches('/')),
                        Kind::Write,
                    ),
                    None => file(sh, fx, &b, Kind::Write),
                },
                None => fx.opaque("curl -O writes a file named after a URL only known at run time"),
            }
        }
    }
}

fn wget(rest: &[Arg], sh: &mut Shell<'_>, fx: &mut Effects) {
    let p = parse(
        rest,
        &[
            "-O",
            "--output-document",
            "-P",
            "--directory-prefix",
            "-o",
            "-a",
            "-i",
            "--input-file",
            "-U",
            "--header",
            "-t",
            "-T",
        ],
    );
    match p.value(&["-O", "--output-document"]) {
        Some(o) => arg_file(sh, fx, o, Kind::Write, "wget -O"),
        None => {
            let dir = opt_text(&p, &["-P", "--directory-prefix"]).unwrap_or_else(|| ".".into());
            for u in &p.pos {
                match u.text().and_then(url_basename) {
                    Some(b) => file(sh, fx, &format!("{dir}/{b}"), Kind::Write),
                    None => {
                        fx.opaque("wget writes a file named after a URL only known at run time")
                    }
                }
            }
        }
    }
    for f in ["-o", "-a"] {
        if let Some(l) = p.value(&[f]) {
            arg_file(sh, fx, l, Kind::Write, "wget log");
        }
    }
}

fn url_basename(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let after_host = path.split_once("://").map_or(path, |x| x.1);
    let (_, p) = after_host.split_once('/')?;
    let base = p.rsplit('/').next()?;
    (!base.is_empty()).then(|| base.to_string())
}

fn tar(rest: &[Arg], sh: &mut Shell<'_>, fx: &mut Effects) {
    // The first word may be old-style bundled flags (`xzf`, `cfvz`): each
    // letter is an option, and those taking a value (`f`, `C`, `T`, `X`…)
    // take the next words in order, whatever they look like.
    let first = rest.first().and_then(Arg::text).unwrap_or("");
    let bundled = !first.is_empty()
        && !first.starts_with('-')
        && first.chars().all(|c| c.is_ascii_alphabetic());
    let mut args: Vec<Arg> = Vec::with_capacity(rest.len() + 4);
    if bundled {
        let mut values = rest[1..].iter();
        for c in first.chars() {
            args.push(Arg::literal(&format!("-{c}")));
            if matches!(
                c,
                'f' | 'C' | 'T' | 'X' | 'N' | 'b' | 'H' | 'I' | 'L' | 'V' | 'g'
            ) {
                if let Some(v) = values.next() {
                    args.push(v.clone());
                }
            }
        }
        args.extend(values.cloned());
    } else {
        args.extend(rest.iter().cloned());
    }
    let p = parse(
        &args,
        &[
            "-f",
            "--file",
            "-C",
            "--directory",
            "-T",
            "--files-from",
            "-X",
            "--exclude-from",
            "-N",
            "--newer",
            "-I",
            "--use-compress-program",
            "-b",
            "-H",
            "--format",
            "-L",
            "-V",
            "-g",
        ],
    );
    let flag = |c: char| {
        p.opts
            .iter()
            .any(|(o, _)| o.starts_with('-') && !o.starts_with("--") && o.contains(c))
    };
    let long = |n: &str| p.has(&[n]);
    // `-xzf ARCHIVE`: an `f` ending a cluster takes the next word.
    let cluster_f = p.opts.iter().any(|(o, v)| {
        v.is_none() && o.starts_with('-') && !o.starts_with("--") && o.len() > 2 && o.ends_with('f')
    });
    let f_takes_positional = cluster_f;
    let archive: Option<&Arg> = p
        .value(&["-f", "--file"])
        .or_else(|| f_takes_positional.then(|| p.pos.first().copied()).flatten());
    let positional: Vec<&Arg> = if f_takes_positional && p.value(&["-f", "--file"]).is_none() {
        p.pos.iter().skip(1).copied().collect()
    } else {
        p.pos.clone()
    };
    let dir = opt_text(&p, &["-C", "--directory"]).unwrap_or_else(|| ".".into());
    if flag('x') || long("--extract") || long("--get") {
        if let Some(a) = archive {
            arg_file(sh, fx, a, Kind::Read, "tar");
        }
        if flag('O') || long("--to-stdout") || flag('t') {
            return;
        }
        if positional.is_empty() {
            file(sh, fx, &dir, Kind::Write);
        } else {
            for m in positional {
                if let Some(t) = m.text() {
                    file(sh, fx, &format!("{dir}/{t}"), Kind::Write);
                }
            }
        }
    } else if flag('c') || flag('r') || flag('u') || long("--create") || long("--append") {
        if let Some(a) = archive {
            arg_file(sh, fx, a, Kind::Write, "tar");
        }
        for m in positional {
            arg_file(sh, fx, m, Kind::Read, "tar");
            if long("--remove-files") {
                arg_file(sh, fx, m, Kind::Delete, "tar --remove-files");
            }
        }
    } else if let Some(a) = archive {
        arg_file(sh, fx, a, Kind::Read, "tar");
    }
}

fn rsync(rest: &[Arg], sh: &mut Shell<'_>, fx: &mut Effects) {
    let p = parse(
        rest,
        &[
            "-e",
            "--rsh",
            "--exclude",
            "--include",
            "--exclude-from",
            "--include-from",
            "--files-from",
            "-f",
            "--filter",
            "--backup-dir",
            "--chmod",
            "-T",
        ],
    );
    let Some((dest, sources)) = p.pos.split_last() else {
        return;
    };
    let remote = |a: &Arg| {
        a.text()
            .is_some_and(|t| t.contains(':') && !t.starts_with('/'))
    };
    for s in sources {
        if !remote(s) {
            arg_file(sh, fx, s, Kind::Read, "rsync");
            if p.has(&["--remove-source-files"]) {
                arg_file(sh, fx, s, Kind::Delete, "rsync --remove-source-files");
            }
        }
    }
    if !remote(dest) {
        arg_file(sh, fx, dest, Kind::Write, "rsync");
        if p.opts.iter().any(|(o, _)| o.starts_with("--delete")) {
            arg_file(sh, fx, dest, Kind::Delete, "rsync --delete");
        }
    }
}

fn cargo(rest: &[Arg], sh: &mut Shell<'_>, fx: &mut Effects) {
    let sub = rest.iter().find_map(|a| {
        a.text()
            .filter(|t| !t.starts_with('-') && !t.starts_with('+'))
    });
    match sub {
        Some("add" | "remove" | "rm" | "update" | "upgrade" | "generate-lockfile") => {
            file(sh, fx, "Cargo.toml", Kind::Write);
            file(sh, fx, "Cargo.lock", Kind::Write);
        }
        Some("fmt") if !rest.iter().any(|a| a.text() == Some("--check")) => {
            file(sh, fx, "**/*.rs", Kind::Write);
        }
        Some("check" | "clippy") if rest.iter().any(|a| a.text() == Some("--fix")) => {
            file(sh, fx, "**/*.rs", Kind::Write);
        }
        Some(
            "fmt" | "check" | "clippy" | "doc" | "tree" | "metadata" | "search" | "version"
            | "help",
        ) => {}
        Some(other) => fx.opaque(format!(
            "`cargo {other}` writes build outputs the policy has not named"
        )),
        None => {}
    }
}
