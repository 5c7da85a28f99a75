//! `cargo bench -p hookgate-shell`: analysis time of command lines agents
//! really send (the hook's Bash budget is a few hundred microseconds), and
//! of the 293 real commands of the shell-effects corpus
//! (`../shared/bench-data/shell-effects/corpus.jsonl`, skipped when absent):
//! criterion times one pass over all of them, and the per-command median,
//! p90 and maximum are printed from 200 timed runs of each.

use std::time::Instant;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use hookgate_shell::{analyze, Options};

fn opts() -> Options {
    Options {
        cwd: "/repo".into(),
        home: Some("/home/u".into()),
        look: false,
    }
}

fn corpus() -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/bench-data/shell-effects/corpus.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("corpus not found at {}: skipped", path.display());
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["cmd"].as_str().map(str::to_string))
        .collect()
}

fn bench(c: &mut Criterion) {
    let opts = opts();
    for (name, cmd) in [
        ("simple", "ls -la src"),
        ("pipes, redirects, $()", "grep -rn TODO src | sort -u > /tmp/todo.txt && echo \"$(wc -l < /tmp/todo.txt) todos\" 2>&1 | tee -a notes.md"),
        ("sed -i in a subshell", "(cd src && sed -i 's/foo/bar/g' auth/login.py auth/session.py)"),
        ("heredoc commit", "git add -A && git commit -m \"$(cat <<'EOF'\nFix the login race\n\nDetails here.\nEOF\n)\""),
        ("find -exec and xargs", "find . -name '*.pyc' -delete; find build -type f -exec rm {} +; ls *.log | xargs gzip -9"),
    ] {
        c.bench_function(name, |b| b.iter(|| analyze(black_box(cmd), &opts)));
    }
    let cmds = corpus();
    if cmds.is_empty() {
        return;
    }
    c.bench_function(
        &format!("corpus: one pass over {} commands", cmds.len()),
        |b| {
            b.iter(|| {
                for cmd in &cmds {
                    black_box(analyze(black_box(cmd), &opts));
                }
            })
        },
    );
    // Per-command distribution.
    let mut per: Vec<f64> = cmds
        .iter()
        .map(|cmd| {
            let mut t: Vec<f64> = (0..200)
                .map(|_| {
                    let s = Instant::now();
                    black_box(analyze(black_box(cmd), &opts));
                    s.elapsed().as_secs_f64() * 1e6
                })
                .collect();
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect();
    per.sort_by(f64::total_cmp);
    let at = |q: f64| per[((per.len() - 1) as f64 * q) as usize];
    println!(
        "corpus per-command analysis (median of 200 runs each, {} commands): median {:.1} µs, p90 {:.1} µs, max {:.1} µs",
        per.len(),
        at(0.5),
        at(0.9),
        at(1.0)
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
