//! Patterns as nondeterministic automata over the bytes of a path.
//!
//! The matcher (`fast-glob`) works on bytes, so the automata do too: `?` is one
//! byte that is not `/`, a class is a set of bytes. Each brace-free
//! alternative becomes a chain of states; `*` is a state looping on every byte
//! but `/`, a whole-segment `**` in the middle or at the start is a loop over
//! `segment/`, a trailing `**` loops on every byte, and a literal alternative
//! accepts its path and everything under it. Several automata live in one
//! [`Graph`] so that a product search can treat a set of states of all of
//! them as one bit set.

use crate::class::{self, ByteSet, ROOT};
use crate::{Alternative, Pattern};

/// One state.
#[derive(Debug, Clone, Default)]
pub(crate) struct State {
    /// Epsilon moves.
    pub(crate) eps: Vec<u32>,
    /// Moves on a byte of the set.
    pub(crate) edges: Vec<(ByteSet, u32)>,
}

/// States of several automata; each automaton is a start state and a set of
/// accepting states.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    pub(crate) states: Vec<State>,
}

/// One automaton inside a [`Graph`].
#[derive(Debug, Clone)]
pub(crate) struct Automaton {
    pub(crate) start: u32,
    pub(crate) accept: Vec<u32>,
}

impl Graph {
    fn add(&mut self) -> u32 {
        self.states.push(State::default());
        (self.states.len() - 1) as u32
    }

    fn eps(&mut self, from: u32, to: u32) {
        self.states[from as usize].eps.push(to);
    }

    fn edge(&mut self, from: u32, set: ByteSet, to: u32) {
        self.states[from as usize].edges.push((set, to));
    }

    /// A new state reached from `from` on a byte of `set`.
    fn step(&mut self, from: u32, set: ByteSet) -> u32 {
        let to = self.add();
        self.edge(from, set, to);
        to
    }

    /// A new state looping on `set`, entered from `from` by epsilon.
    fn looping(&mut self, from: u32, set: ByteSet) -> u32 {
        let s = self.add();
        self.eps(from, s);
        self.edge(s, set, s);
        s
    }

    /// The union of `patterns` (their negation flags are ignored).
    pub(crate) fn union<'a>(
        &mut self,
        patterns: impl IntoIterator<Item = &'a Pattern>,
    ) -> Automaton {
        let start = self.add();
        let mut accept = Vec::new();
        for p in patterns {
            for alt in &p.alternatives {
                let (s, a) = self.alternative(alt);
                self.eps(start, s);
                accept.extend(a);
            }
        }
        Automaton { start, accept }
    }

    fn alternative(&mut self, alt: &Alternative) -> (u32, Vec<u32>) {
        let slash = ByteSet::byte(b'/');
        let start = self.add();
        let mut cur = start;
        let mut body = alt.body.as_bytes();
        let root = ByteSet::byte(ROOT);
        if alt.absolute && !alt.verbatim {
            cur = self.step(cur, root);
            body = &body[1..];
        } else if alt.any_depth {
            // A relative `**/…` pattern also matches an absolute path.
            let s = self.add();
            self.eps(cur, s);
            self.edge(cur, root, s);
            cur = s;
        }
        if alt.verbatim {
            for (i, &b) in body.iter().enumerate() {
                let b = if i == 0 && alt.absolute { ROOT } else { b };
                cur = self.step(cur, ByteSet::byte(b));
            }
            if !alt.literal {
                return (start, vec![cur]);
            }
            let t = self.step(cur, slash);
            self.edge(t, ByteSet::path(), t);
            return (start, vec![cur, t]);
        }
        let segments: Vec<&[u8]> = body.split(|&b| b == b'/').collect();
        let n = segments.len();
        let mut need_sep = false;
        for (i, seg) in segments.iter().enumerate() {
            if need_sep {
                cur = self.step(cur, slash);
            }
            if *seg == b"**" {
                if i + 1 == n {
                    // Trailing (or lone) `**`: anything, across segments.
                    cur = self.looping(cur, ByteSet::path());
                    need_sep = false;
                } else {
                    // `**/` : zero or more `segment/`.
                    let l = self.add();
                    self.eps(cur, l);
                    let m = self.add();
                    self.edge(l, ByteSet::not_slash(), m);
                    self.edge(m, ByteSet::not_slash(), m);
                    self.edge(m, slash, l);
                    cur = l;
                    need_sep = false;
                }
                continue;
            }
            let mut j = 0;
            while j < seg.len() {
                match seg[j] {
                    b'*' => {
                        while j < seg.len() && seg[j] == b'*' {
                            j += 1;
                        }
                        cur = self.looping(cur, ByteSet::not_slash());
                        continue;
                    }
                    b'?' => cur = self.step(cur, ByteSet::not_slash()),
                    b'[' => {
                        if let Some((c, next)) = class::parse(seg, j) {
                            cur = self.step(cur, c.set);
                            j = next;
                            continue;
                        }
                        cur = self.step(cur, ByteSet::byte(b'['));
                    }
                    b => cur = self.step(cur, ByteSet::byte(b)),
                }
                j += 1;
            }
            need_sep = true;
        }
        let mut accept = vec![cur];
        if alt.literal {
            // A literal names a file or a directory and everything under it.
            let t = self.step(cur, slash);
            self.edge(t, ByteSet::path(), t);
            accept.push(t);
        }
        (start, accept)
    }

    /// Valid normalized paths: relative, or absolute (a leading [`ROOT`]);
    /// non-empty segments that are not `.` or `..`.
    pub(crate) fn valid_paths(&mut self) -> Automaton {
        // Paths are UTF-8: single-byte characters are ASCII; others go
        // through the well-formed sequences of RFC 3629 below, so a witness
        // is always a real path and never half a character.
        let range = |lo: u8, hi: u8| {
            let mut s = ByteSet::EMPTY;
            for b in lo..=hi {
                s.insert(b);
            }
            s
        };
        let mut seg = range(1, 0x7f);
        seg.remove(b'/');
        let mut seg_not_dot = seg;
        seg_not_dot.remove(b'.');
        let dot = ByteSet::byte(b'.');
        let slash = ByteSet::byte(b'/');
        let start = self.add();
        let seg_start = self.add();
        let dot1 = self.add();
        let dot2 = self.add();
        let name = self.add();
        for from in [start, seg_start] {
            self.edge(from, dot, dot1);
            self.edge(from, seg_not_dot, name);
        }
        self.edge(start, ByteSet::byte(ROOT), seg_start);
        self.edge(dot1, dot, dot2);
        self.edge(dot1, seg_not_dot, name);
        self.edge(dot2, seg, name);
        self.edge(name, seg, name);
        self.edge(name, slash, seg_start);
        // Multi-byte characters: shared tails that end in `name`.
        let cont = range(0x80, 0xbf);
        let c1 = self.add();
        let c2 = self.add();
        let c3 = self.add();
        let e0 = self.add();
        let ed = self.add();
        let f0 = self.add();
        let f4 = self.add();
        self.edge(c1, cont, name);
        self.edge(c2, cont, c1);
        self.edge(c3, cont, c2);
        self.edge(e0, range(0xa0, 0xbf), c1);
        self.edge(ed, range(0x80, 0x9f), c1);
        self.edge(f0, range(0x90, 0xbf), c2);
        self.edge(f4, range(0x80, 0x8f), c2);
        let mut three = range(0xe1, 0xec);
        for b in 0xee..=0xef {
            three.insert(b);
        }
        for from in [start, seg_start, dot1, dot2, name] {
            self.edge(from, range(0xc2, 0xdf), c1);
            self.edge(from, ByteSet::byte(0xe0), e0);
            self.edge(from, three, c2);
            self.edge(from, ByteSet::byte(0xed), ed);
            self.edge(from, ByteSet::byte(0xf0), f0);
            self.edge(from, range(0xf1, 0xf3), c3);
            self.edge(from, ByteSet::byte(0xf4), f4);
        }
        Automaton {
            start,
            accept: vec![name],
        }
    }
}

/// Does `alt` match `path`? A direct simulation of the alternative's
/// automaton, for the rare bodies `fast-glob` would read differently.
pub(crate) fn matches(alt: &Alternative, path: &str) -> bool {
    let mut g = Graph::default();
    let (start, accept) = g.alternative(alt);
    let closure = |set: &mut Vec<u32>| {
        let mut i = 0;
        while i < set.len() {
            for &e in &g.states[set[i] as usize].eps {
                if !set.contains(&e) {
                    set.push(e);
                }
            }
            i += 1;
        }
    };
    let mut cur = vec![start];
    closure(&mut cur);
    for (i, &b) in path.as_bytes().iter().enumerate() {
        let b = if i == 0 && b == b'/' { ROOT } else { b };
        let mut next: Vec<u32> = Vec::new();
        for &s in &cur {
            for (set, to) in &g.states[s as usize].edges {
                if set.contains(b) && !next.contains(to) {
                    next.push(*to);
                }
            }
        }
        closure(&mut next);
        if next.is_empty() {
            return false;
        }
        cur = next;
    }
    cur.iter().any(|s| accept.contains(s))
}
