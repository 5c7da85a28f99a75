//! The labelled table of `cases.txt`: every case is analysed (cwd `/r`, home
//! `/home/u`) and every failing assertion is collected, so one run shows
//! every gap. Cases after the `# --- known gaps ---` marker are true labels
//! the analyzer does not meet yet: they are run and printed, not failed.

use std::collections::BTreeSet;

use hookgate_shell::{analyze, Effects, Options};

const CASES: &str = include_str!("cases.txt");
const GAP_MARKER: &str = "# --- known gaps ---";

struct Case {
    line: usize,
    command: String,
    asserts: Vec<(usize, String)>,
    gap: bool,
}

fn parse(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    let mut gap = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if line.trim() == GAP_MARKER {
            gap = true;
            continue;
        }
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            cases.push(Case {
                line: i + 1,
                command: cmd.replace("\\n", "\n"),
                asserts: Vec::new(),
                gap,
            });
        } else {
            let case = cases
                .last_mut()
                .unwrap_or_else(|| panic!("cases.txt:{}: assertion before any `$ ` case", i + 1));
            case.asserts.push((i + 1, line.trim().to_string()));
        }
    }
    cases
}

/// `*` and `?` within one segment; a `**` segment spans any number of
/// segments (none included, so a trailing `/**` matches the directory).
fn glob(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').collect();
    let s: Vec<&str> = path.split('/').collect();
    segments(&p, &s)
}

fn segments(p: &[&str], s: &[&str]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((&"**", rest)) => (0..=s.len()).any(|k| segments(rest, &s[k..])),
        Some((first, rest)) => match s.split_first() {
            Some((seg, srest)) => {
                segment(first.as_bytes(), seg.as_bytes()) && segments(rest, srest)
            }
            None => false,
        },
    }
}

fn segment(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|k| segment(rest, &s[k..])),
        Some((b'?', rest)) => !s.is_empty() && segment(rest, &s[1..]),
        Some((c, rest)) => s.first() == Some(c) && segment(rest, &s[1..]),
    }
}

/// An entry covers `path` when it is equal to it, a directory above it, or a
/// glob pattern matching it or a directory above it.
fn covers(entry: &str, path: &str) -> bool {
    let mut p = path.to_string();
    loop {
        if entry == p || glob(entry, &p) {
            return true;
        }
        match p.rfind('/') {
            Some(0) if p.len() > 1 => p = "/".into(),
            Some(k) if k > 0 => p.truncate(k),
            _ => return false,
        }
    }
}

fn covered(e: &Effects, path: &str) -> bool {
    e.writes
        .iter()
        .chain(e.deletes.iter())
        .any(|w| covers(w, path))
}

fn set(words: &[&str]) -> BTreeSet<String> {
    words.iter().map(|s| s.to_string()).collect()
}

/// The assertions of one case that fail, each with why.
fn check(case: &Case, e: &Effects) -> Vec<String> {
    let mut failed = Vec::new();
    for (line, a) in &case.asserts {
        let words: Vec<&str> = a.split_whitespace().collect();
        let (kind, rest) = (words[0], &words[1..]);
        let ok = match kind {
            "writes" => e.writes == set(rest),
            "deletes" => e.deletes == set(rest),
            "reads" => e.reads == set(rest),
            "clean" => !e.opaque && e.unknown.is_empty(),
            "opaque" => e.opaque,
            "covers" => rest.iter().all(|p| covered(e, p)),
            "opaque-or-covers" => e.opaque || rest.iter().all(|p| covered(e, p)),
            // The name may have a space (`git frobnicate`).
            "unknown" => e.unknown.contains(&rest.join(" ")),
            other => panic!("cases.txt:{line}: unknown assertion `{other}`"),
        };
        if !ok {
            failed.push(format!("line {line}: `{a}`"));
        }
    }
    failed
}

fn show(e: &Effects) -> String {
    let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(" ");
    format!(
        "writes [{}] deletes [{}] reads [{}] opaque {} unknown [{}] reasons {:?}",
        list(&e.writes),
        list(&e.deletes),
        list(&e.reads),
        e.opaque,
        list(&e.unknown),
        e.reasons
    )
}

#[test]
fn labelled_cases() {
    let cases = parse(CASES);
    let opts = Options {
        cwd: "/r".into(),
        home: Some("/home/u".into()),
        look: false,
    };
    let mut failures = Vec::new();
    let mut gaps = Vec::new();
    let mut fixed = Vec::new();
    for case in &cases {
        assert!(
            !case.asserts.is_empty(),
            "cases.txt:{}: case without assertions",
            case.line
        );
        let e = analyze(&case.command, &opts);
        let failed = check(case, &e);
        let report = format!(
            "cases.txt:{}: $ {}\n    failed: {}\n    actual: {}",
            case.line,
            case.command.replace('\n', "\\n"),
            failed.join(", "),
            show(&e)
        );
        match (case.gap, failed.is_empty()) {
            (false, false) => failures.push(report),
            (true, false) => gaps.push(report),
            (true, true) => fixed.push(format!(
                "cases.txt:{}: $ {}",
                case.line,
                case.command.replace('\n', "\\n")
            )),
            (false, true) => {}
        }
    }
    let gap_count = cases.iter().filter(|c| c.gap).count();
    println!(
        "{} cases: {} pass, {} fail, {} known gaps ({} of them now pass)",
        cases.len(),
        cases.len() - failures.len() - gaps.len(),
        failures.len(),
        gap_count,
        fixed.len()
    );
    for g in &gaps {
        println!("known gap {g}");
    }
    for f in &fixed {
        println!("known gap now passes, move it up: {f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_glob_matcher() {
    assert!(covers("/r/**", "/r"));
    assert!(covers("/r/**", "/r/a/b"));
    assert!(covers("/r/**/*.o", "/r/x.o"));
    assert!(covers("/r/**/*.o", "/r/a/b/x.o"));
    assert!(!covers("/r/**/*.o", "/r/a/x.c"));
    assert!(covers("/r/*.log", "/r/a.log"));
    assert!(!covers("/r/*.log", "/r/a/b.txt"));
    assert!(covers("/r/build/*", "/r/build/a/b"));
    assert!(covers("/r/part-?a", "/r/part-aa"));
    assert!(covers("/r/build", "/r/build/x"));
    assert!(!covers("/r/build", "/r/buildx"));
    assert!(covers("/", "/etc/x"));
    assert!(covers("/r", "/r/x"));
}
