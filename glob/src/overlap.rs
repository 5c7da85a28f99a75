//! Exact overlap of two pattern sets: is there a path that both match?
//!
//! Both sets, their exclusions and the language of valid normalized paths are
//! compiled to automata ([`crate::automaton`]), and a breadth-first search runs
//! over their product, determinizing on the fly: a search state is the set of
//! automaton states reachable by some path prefix. The alphabet is cut into
//! byte classes that no automaton tells apart, so each state has a handful of
//! successors, not 256. The search finds the shortest path in the
//! intersection when there is one (a witness, shown in conflict messages), and
//! proves the sets disjoint otherwise. Exclusions are exact because a product
//! state knows whether each exclusion automaton accepts.

use std::collections::HashMap;

use crate::automaton::{Automaton, Graph};
use crate::class::ByteSet;
use crate::{Alternative, Pattern, PatternSet};

/// Most product states explored before giving up (see [`OverlapError`]).
pub const MAX_OVERLAP_STATES: usize = 50_000;

/// The search was abandoned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverlapError {
    /// The patterns are too complex to decide within [`MAX_OVERLAP_STATES`];
    /// callers must treat this as an overlap (fail closed).
    TooComplex,
}

impl std::fmt::Display for OverlapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "patterns too complex to compare exactly (over {MAX_OVERLAP_STATES} states); treated as overlapping"
        )
    }
}

impl std::error::Error for OverlapError {}

type Bits = Vec<u64>;

fn set(bits: &mut Bits, i: u32) {
    bits[(i / 64) as usize] |= 1 << (i % 64);
}

fn any(a: &Bits, b: &Bits) -> bool {
    a.iter().zip(b).any(|(x, y)| x & y != 0)
}

fn union_into(a: &mut Bits, b: &Bits) {
    for (x, y) in a.iter_mut().zip(b) {
        *x |= y;
    }
}

fn ones(bits: &Bits) -> impl Iterator<Item = u32> + '_ {
    bits.iter().enumerate().flat_map(|(w, &word)| {
        let mut word = word;
        std::iter::from_fn(move || {
            if word == 0 {
                return None;
            }
            let t = word.trailing_zeros();
            word &= word - 1;
            Some(w as u32 * 64 + t)
        })
    })
}

/// Rank bytes so witnesses read naturally: letters, digits, then the rest.
fn niceness(b: u8) -> u8 {
    match b {
        b'a'..=b'z' => 0,
        b'0'..=b'9' => 1,
        b'A'..=b'Z' => 2,
        b'.' | b'-' | b'_' => 3,
        0x21..=0x7e => 4,
        0 => 6,
        _ => 5,
    }
}

/// Is there a path that matches both `a` and `b` (each with its exclusions)?
/// Returns such a path (the shortest, unless a quick guess found one), or
/// `None` when the sets are disjoint.
///
/// Paths are normalized: relative or absolute, non-empty segments, no `.` or
/// `..` segment. Sets built with case folding compare their lowercased
/// patterns. An empty set (no including pattern) overlaps nothing.
pub fn overlap(a: &PatternSet, b: &PatternSet) -> Result<Option<String>, OverlapError> {
    if a.include.is_empty() || b.include.is_empty() {
        return Ok(None);
    }
    // A set of plain files (the usual hook query) overlaps exactly when the
    // other set matches one of them: no automaton needed.
    for (files, other) in [(a, b), (b, a)] {
        if let Some(paths) = files.exact_files() {
            return Ok(paths
                .into_iter()
                .find(|p| files.matches(p) && other.matches(p))
                .map(str::to_string));
        }
    }
    // Only including patterns whose last segments could name the same file
    // can meet; the others leave the automata (a tier of twenty secrets
    // patterns against `*.log` keeps the two or three that end in `*`).
    let fold = a
        .include
        .iter()
        .chain(&b.include)
        .any(|p| p.case_insensitive);
    let inc_a: Vec<&Pattern> = a
        .include
        .iter()
        .filter(|p| b.include.iter().any(|q| may_meet(p, q, fold)))
        .collect();
    let inc_b: Vec<&Pattern> = b
        .include
        .iter()
        .filter(|q| inc_a.iter().any(|p| may_meet(p, q, fold)))
        .collect();
    if inc_a.is_empty() || inc_b.is_empty() {
        return Ok(None);
    }
    // Most overlapping pairs show a witness when one pattern is filled in
    // with the other's directory (`src/**` and `**/.env` meet at
    // `src/.env`); each guess is checked with both sets' matchers, so only
    // proving disjointness needs the automata.
    for x in inc_a.iter().flat_map(|p| &p.alternatives) {
        for y in inc_b.iter().flat_map(|p| &p.alternatives) {
            for (from, into) in [(y, x), (x, y)] {
                for fill in ["", "x"] {
                    if let Some(w) = guess(&from.body, dir_prefix(&into.body), fill) {
                        if a.matches(&w) && b.matches(&w) {
                            return Ok(Some(w));
                        }
                    }
                }
            }
        }
    }
    let mut g = Graph::default();
    let valid = g.valid_paths();
    let inc_a = g.union(inc_a);
    let exc_a = g.union(&a.exclude);
    let inc_b = g.union(inc_b);
    let exc_b = g.union(&b.exclude);
    Search::new(&g, [valid, inc_a, exc_a, inc_b, exc_b]).run()
}

/// The literal directories a pattern starts with (`src/auth/` of
/// `src/auth/*.rs`), empty when it starts with a wildcard.
fn dir_prefix(body: &str) -> &str {
    let head = body.find(crate::is_meta).unwrap_or(body.len());
    match body[..head].rfind('/') {
        Some(i) => &body[..=i],
        None => "",
    }
}

/// A concrete path a pattern body matches, guessed: a leading `**/` takes
/// `prefix`, other `**` segments vanish, `*` becomes `fill`, `?` an `x`,
/// a class its first member. `None` when that does not give a valid path.
fn guess(body: &str, prefix: &str, fill: &str) -> Option<String> {
    let mut out = String::new();
    let rest = match body.strip_prefix("**/") {
        Some(r) if !body.starts_with('/') => {
            out.push_str(prefix);
            r
        }
        _ => body,
    };
    let rest = rest.trim_end_matches("/**");
    let mut segs: Vec<String> = Vec::new();
    for seg in rest.split('/') {
        if seg == "**" {
            continue;
        }
        let bytes = seg.as_bytes();
        let mut s = String::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'*' => {
                    s.push_str(fill);
                    i += 1;
                }
                b'?' => {
                    s.push('x');
                    i += 1;
                }
                b'[' => {
                    let (set, next) = crate::class::parse(bytes, i)?;
                    let c = (1u8..=127).find(|c| set.set.contains(*c) && *c != b'/')?;
                    s.push(c as char);
                    i = next;
                }
                b'{' | b'}' => return None,
                _ => {
                    let ch = seg[i..].chars().next()?;
                    s.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        segs.push(s);
    }
    out.push_str(&segs.join("/"));
    let path = out.trim_end_matches('/');
    let valid = !path.is_empty()
        && path
            .trim_start_matches('/')
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..");
    valid.then(|| path.to_string())
}

/// The fixed text at the start and at the end of the last segment of every
/// path an alternative matches, when it constrains that segment: not for a
/// literal (it names a tree) or verbatim path, nor a last segment `**`.
fn leaf(alt: &Alternative) -> Option<(&str, &str)> {
    if alt.literal || alt.verbatim {
        return None;
    }
    let last = alt.body.rsplit('/').next().unwrap_or(&alt.body);
    if last == "**" || last.is_empty() {
        return None;
    }
    let head = last.find(crate::is_meta).unwrap_or(last.len());
    let tail = last.rfind(crate::is_meta).map_or(0, |i| i + 1);
    Some((&last[..head], &last[tail..]))
}

/// Could some alternative of `p` and some of `q` match one name in their
/// last segment? A necessary condition for overlap: fixed prefixes (and
/// suffixes) must agree as far as both go.
fn may_meet(p: &Pattern, q: &Pattern, fold: bool) -> bool {
    p.alternatives.iter().any(|x| {
        q.alternatives.iter().any(|y| match (leaf(x), leaf(y)) {
            (Some((p1, s1)), Some((p2, s2))) => {
                let (p1, s1, p2, s2) = if fold {
                    (
                        p1.to_lowercase(),
                        s1.to_lowercase(),
                        p2.to_lowercase(),
                        s2.to_lowercase(),
                    )
                } else {
                    (
                        p1.to_string(),
                        s1.to_string(),
                        p2.to_string(),
                        s2.to_string(),
                    )
                };
                (p1.starts_with(&p2) || p2.starts_with(&p1))
                    && (s1.ends_with(&s2) || s2.ends_with(&s1))
            }
            _ => true,
        })
    })
}

struct Search {
    /// Epsilon closure of each state.
    closure: Vec<Bits>,
    /// Representative byte of each class.
    reps: Vec<u8>,
    /// Per state: (class id → successors), as a bit set.
    moves: Vec<Vec<(u8, u32)>>,
    /// Accepting states of valid, incA, excA, incB, excB.
    accept: [Bits; 5],
    /// All states of each automaton that must stay alive (valid, incA, incB).
    alive: [Bits; 3],
    start: Bits,
}

impl Search {
    fn new(g: &Graph, autos: [Automaton; 5]) -> Search {
        let n = g.states.len();
        let words = n.div_ceil(64);
        let empty: Bits = vec![0; words];

        // Byte classes: refine one class by every distinct edge set.
        let mut class_of = [0u16; 256];
        let mut count = 1usize;
        let mut seen: Vec<ByteSet> = Vec::new();
        for st in &g.states {
            for (s, _) in &st.edges {
                if seen.contains(s) {
                    continue;
                }
                seen.push(*s);
                let mut remap = vec![[u16::MAX; 2]; count];
                let mut next = 0u16;
                for b in 0..=255u8 {
                    let slot = &mut remap[class_of[b as usize] as usize][s.contains(b) as usize];
                    if *slot == u16::MAX {
                        *slot = next;
                        next += 1;
                    }
                    class_of[b as usize] = *slot;
                }
                count = next as usize;
            }
        }
        let mut reps = vec![0u8; count];
        let mut best = vec![u8::MAX; count];
        for b in 0..=255u8 {
            let c = class_of[b as usize] as usize;
            let rank = niceness(b);
            if rank < best[c] {
                best[c] = rank;
                reps[c] = b;
            }
        }

        // Epsilon closures (graphs are small; a DFS per state).
        let mut closure = vec![empty.clone(); n];
        for (s, c) in closure.iter_mut().enumerate() {
            let mut stack = vec![s as u32];
            set(c, s as u32);
            while let Some(x) = stack.pop() {
                for &e in &g.states[x as usize].eps {
                    if c[(e / 64) as usize] & (1 << (e % 64)) == 0 {
                        set(c, e);
                        stack.push(e);
                    }
                }
            }
        }
        let moves = g
            .states
            .iter()
            .map(|st| {
                let mut m = Vec::new();
                for (s, to) in &st.edges {
                    for (c, &r) in reps.iter().enumerate() {
                        if s.contains(r) {
                            m.push((c as u8, *to));
                        }
                    }
                }
                m
            })
            .collect();

        let mut accept: [Bits; 5] = std::array::from_fn(|_| empty.clone());
        for (i, a) in autos.iter().enumerate() {
            for &s in &a.accept {
                set(&mut accept[i], s);
            }
        }
        // The states of automaton i are those created for it: ranges follow
        // creation order, so collect them from the start states' closures
        // and their reachable sets.
        let mut alive: [Bits; 3] = std::array::from_fn(|_| empty.clone());
        for (slot, idx) in [0usize, 1, 3].into_iter().enumerate() {
            let mut stack = vec![autos[idx].start];
            set(&mut alive[slot], autos[idx].start);
            while let Some(x) = stack.pop() {
                let st = &g.states[x as usize];
                for t in st.eps.iter().copied().chain(st.edges.iter().map(|e| e.1)) {
                    if alive[slot][(t / 64) as usize] & (1 << (t % 64)) == 0 {
                        set(&mut alive[slot], t);
                        stack.push(t);
                    }
                }
            }
        }
        let mut start = empty.clone();
        for a in &autos {
            union_into(&mut start, &closure[a.start as usize]);
        }
        Search {
            closure,
            reps,
            moves,
            accept,
            alive,
            start,
        }
    }

    fn accepting(&self, s: &Bits) -> bool {
        any(s, &self.accept[0])
            && any(s, &self.accept[1])
            && !any(s, &self.accept[2])
            && any(s, &self.accept[3])
            && !any(s, &self.accept[4])
    }

    fn run(&self) -> Result<Option<String>, OverlapError> {
        let mut index: HashMap<Bits, usize> = HashMap::new();
        // (state, parent, byte)
        let mut nodes: Vec<(Bits, usize, u8)> = vec![(self.start.clone(), usize::MAX, 0)];
        index.insert(self.start.clone(), 0);
        let mut head = 0;
        let words = self.start.len();
        while head < nodes.len() {
            if self.accepting(&nodes[head].0) {
                let mut bytes = Vec::new();
                let mut i = head;
                while nodes[i].1 != usize::MAX {
                    bytes.push(nodes[i].2);
                    i = nodes[i].1;
                }
                bytes.reverse();
                if bytes.first() == Some(&crate::class::ROOT) {
                    bytes[0] = b'/';
                }
                return Ok(Some(String::from_utf8_lossy(&bytes).into_owned()));
            }
            let mut next: Vec<Bits> = vec![vec![0; words]; self.reps.len()];
            let mut touched = vec![false; self.reps.len()];
            for s in ones(&nodes[head].0) {
                for &(c, to) in &self.moves[s as usize] {
                    union_into(&mut next[c as usize], &self.closure[to as usize]);
                    touched[c as usize] = true;
                }
            }
            for (c, succ) in next.into_iter().enumerate() {
                if !touched[c] || !self.alive.iter().all(|a| any(&succ, a)) {
                    continue;
                }
                if index.contains_key(&succ) {
                    continue;
                }
                if nodes.len() >= MAX_OVERLAP_STATES {
                    return Err(OverlapError::TooComplex);
                }
                index.insert(succ.clone(), nodes.len());
                nodes.push((succ, head, self.reps[c]));
            }
            head += 1;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(p: &[&str]) -> PatternSet {
        PatternSet::new(p, false).unwrap()
    }

    fn ov(a: &[&str], b: &[&str]) -> Option<String> {
        let w = overlap(&set(a), &set(b)).unwrap();
        if let Some(w) = &w {
            assert!(set(a).matches(w) && set(b).matches(w), "witness {w}");
        }
        w
    }

    #[test]
    fn trees_and_globs() {
        assert_eq!(
            ov(&["src/auth/**"], &["src/auth/login.py"]).as_deref(),
            Some("src/auth/login.py")
        );
        assert!(ov(&["src"], &["src/a/b.rs"]).is_some());
        // A literal is a tree: `src/a/b.py/x.rs` could exist.
        assert!(ov(&["src/**/*.rs"], &["src/a/b.py"]).is_some());
        assert!(ov(&["src/*.rs"], &["src/a.py"]).is_none());
        assert!(ov(&["src/*.rs"], &["src/a/**"]).is_none());
        assert!(ov(&["**/*.rs"], &["docs/**"]).is_some());
        assert!(ov(&["a*"], &["*b"]).is_some());
        assert!(ov(&["a*c"], &["*b"]).is_none());
        assert!(ov(&["src/{a,b}/x"], &["src/b"]).is_some());
        assert!(ov(&["src/[!a]*"], &["src/a*"]).is_none());
        assert!(ov(&["src/[!a]*"], &["src/?b"]).is_some());
    }

    #[test]
    fn exclusions_are_exact() {
        assert!(ov(&["src/**", "!src/gen/**"], &["src/gen/x.rs"]).is_none());
        // `src/gen/**` also names `src/gen` itself.
        assert!(ov(&["src/**", "!src/gen/**"], &["src/gen"]).is_none());
        assert!(ov(&["src/**", "!src/gen/*"], &["src/gen"]).is_some());
        assert!(ov(&["**/*.rs", "!**/*_test.rs"], &["src/*_test.rs"]).is_none());
        assert!(ov(&["**/*.rs", "!**/*_test.rs"], &["src/*test.rs"]).is_some());
        assert!(ov(&["a/**", "!a/b"], &["a/b/c"]).is_none());
    }

    #[test]
    fn dot_segments_and_empty_sets() {
        // `*` can't make `.` or `..` a segment.
        assert!(ov(&["a/*/b"], &["a/./b"]).is_none());
        assert!(overlap(&PatternSet::default(), &set(&["**"]))
            .unwrap()
            .is_none());
    }

    #[test]
    fn files_take_the_fast_path_with_the_same_answer() {
        let f = PatternSet::file("src/a.rs", false).unwrap();
        assert_eq!(
            overlap(&f, &set(&["src/*.rs"])).unwrap().as_deref(),
            Some("src/a.rs")
        );
        assert_eq!(overlap(&set(&["src/*.rs", "!src/a.rs"]), &f).unwrap(), None);
        assert_eq!(overlap(&f, &set(&["src/a.rs/*"])).unwrap(), None);
        // A trailing `/**` also names the directory itself.
        assert!(overlap(&f, &set(&["src/a.rs/**"])).unwrap().is_some());
    }

    #[test]
    fn a_body_starting_with_bang_is_a_plain_character() {
        // Found by the reservation_overlap fuzz target: `!!/**` excludes the
        // paths matching `!/**` (a directory named `!`), nothing else.
        let a = PatternSet::new(&["IIIIIII", "!!/**"], true).unwrap();
        let b = set(&["**"]);
        let w = overlap(&a, &b).unwrap().unwrap();
        assert!(a.matches(&w.to_lowercase()) && b.matches(&w));
        assert!(a.matches("iiiiiii"));
        let bang = set(&["!!x*"]);
        assert!(bang.is_empty());
        let p = set(&["{!a,b}*"]);
        assert!(p.matches("!ab") && p.matches("bz") && !p.matches("az"));
    }

    #[test]
    fn witnesses_are_whole_utf8_characters() {
        // Found by the fuzz target: a class of one non-ASCII character matches
        // one byte, so it can't match a real (UTF-8) path segment at all.
        let a = set(&["[\u{e9}]/]/*"]);
        assert_eq!(overlap(&a, &set(&["**"])).unwrap(), None);
        let b = set(&["caf\u{e9}/*"]);
        let w = overlap(&b, &set(&["**/*"])).unwrap().unwrap();
        assert!(w.starts_with("caf\u{e9}/"), "{w}");
        assert!(b.matches(&w));
    }

    #[test]
    fn hostile_overlaps_stay_bounded() {
        let star16 = "*a".repeat(16);
        let braces = "{a,b,c,d}{a,b,c,d}{a,b,c,d}{a,b,c,d}";
        let deep = "**/".repeat(8) + "x";
        let long = "a/".repeat(400) + "b";
        let cases: [(&str, &str); 5] = [
            (&star16, &star16),
            (braces, "**/*[!a]?"),
            (&deep, &deep),
            (&long, "**/b"),
            ("**/*a*a*a*a*a*a*a*a*", "**/*b*b*b*b*b*b*b*b*"),
        ];
        for (a, b) in cases {
            let (x, y) = (set(&[a]), set(&[b]));
            let t = std::time::Instant::now();
            match overlap(&x, &y) {
                Ok(Some(w)) => assert!(x.matches(&w) && y.matches(&w), "{a} {b}: {w}"),
                Ok(None) | Err(OverlapError::TooComplex) => {}
            }
            assert!(
                t.elapsed() < std::time::Duration::from_secs(5),
                "{a} / {b} took {:?}",
                t.elapsed()
            );
        }
    }

    #[test]
    fn absolute_paths() {
        assert!(ov(&["**/.ssh/**"], &["/home/u/.ssh"]).is_some());
        assert!(ov(&["src/**"], &["/src/a"]).is_none());
    }
}
