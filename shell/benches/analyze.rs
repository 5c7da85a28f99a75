//! `cargo bench -p hookgate-shell`: analysis time of command lines agents
//! really send (the hook's Bash budget is a few hundred microseconds).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use hookgate_shell::{analyze, Options};

fn bench(c: &mut Criterion) {
    let opts = Options {
        cwd: "/repo".into(),
        home: Some("/home/u".into()),
        look: false,
    };
    for (name, cmd) in [
        ("simple", "ls -la src"),
        ("pipes, redirects, $()", "grep -rn TODO src | sort -u > /tmp/todo.txt && echo \"$(wc -l < /tmp/todo.txt) todos\" 2>&1 | tee -a notes.md"),
        ("sed -i in a subshell", "(cd src && sed -i 's/foo/bar/g' auth/login.py auth/session.py)"),
        ("heredoc commit", "git add -A && git commit -m \"$(cat <<'EOF'\nFix the login race\n\nDetails here.\nEOF\n)\""),
        ("find -exec and xargs", "find . -name '*.pyc' -delete; find build -type f -exec rm {} +; ls *.log | xargs gzip -9"),
    ] {
        c.bench_function(name, |b| b.iter(|| analyze(black_box(cmd), &opts)));
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
