//! `cargo bench -p hookgate-glob`: the exact overlap check on the shapes a
//! store meets: a written file against a reservation (the hook's case), and
//! two pattern sets against each other (a reserve request).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use hookgate_glob::{overlap, PatternSet};

fn sets(p: &[&str]) -> PatternSet {
    PatternSet::new(p, false).unwrap()
}

fn bench(c: &mut Criterion) {
    let file = PatternSet::file("src/auth/login.py", false).unwrap();
    let tree = sets(&["src/auth/**"]);
    let anywhere = sets(&["**/gen/**", "!**/gen/keep/**"]);
    c.bench_function("file vs tree (fast path)", |b| {
        b.iter(|| overlap(black_box(&file), black_box(&tree)))
    });
    c.bench_function("file vs **/x/** with exclusion (fast path)", |b| {
        b.iter(|| overlap(black_box(&file), black_box(&anywhere)))
    });
    let a = sets(&["src/{auth,db}/**/*.py", "!src/auth/gen/**"]);
    let b2 = sets(&["src/auth/*.py"]);
    c.bench_function("sets overlapping (automata)", |b| {
        b.iter(|| overlap(black_box(&a), black_box(&b2)))
    });
    let x = sets(&["src/**/*.rs"]);
    let y = sets(&["docs/**", "**/*.md"]);
    c.bench_function("sets disjoint (automata, full search)", |b| {
        b.iter(|| overlap(black_box(&x), black_box(&y)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
