//! `[...]` character classes, parsed exactly as the matcher (`fast-glob`)
//! reads them: an optional `!` or `^` negates, the first member is literal
//! even when it is `]`, `x-y` is a range unless `y` is the closing `]`, and
//! members are bytes. A class never matches `/`.

/// The symbol for the leading `/` of an absolute path. Paths never contain
/// NUL, so the automata can tell "absolute" apart from "starts with a
/// wildcard that could match `/`" without lookahead.
pub(crate) const ROOT: u8 = 0;

/// A set of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct ByteSet(pub(crate) [u64; 4]);

impl ByteSet {
    /// The empty set.
    pub(crate) const EMPTY: ByteSet = ByteSet([0; 4]);
    /// Every byte.
    pub(crate) const ALL: ByteSet = ByteSet([u64::MAX; 4]);

    /// One byte.
    pub(crate) fn byte(b: u8) -> ByteSet {
        let mut s = ByteSet::EMPTY;
        s.insert(b);
        s
    }

    /// Every byte that may appear in a path after its start: all but NUL,
    /// which the automata use to mark the root of an absolute path.
    pub(crate) fn path() -> ByteSet {
        let mut s = ByteSet::ALL;
        s.remove(ROOT);
        s
    }

    /// Every path byte but `/`.
    pub(crate) fn not_slash() -> ByteSet {
        let mut s = ByteSet::path();
        s.remove(b'/');
        s
    }

    pub(crate) fn insert(&mut self, b: u8) {
        self.0[(b >> 6) as usize] |= 1 << (b & 63);
    }

    pub(crate) fn remove(&mut self, b: u8) {
        self.0[(b >> 6) as usize] &= !(1 << (b & 63));
    }

    pub(crate) fn contains(&self, b: u8) -> bool {
        self.0[(b >> 6) as usize] & (1 << (b & 63)) != 0
    }

    fn complement(self) -> ByteSet {
        ByteSet([!self.0[0], !self.0[1], !self.0[2], !self.0[3]])
    }
}

/// A parsed class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Class {
    /// The bytes the class matches (never `/`).
    pub(crate) set: ByteSet,
    /// A `/` was written among the members (refused by validation).
    pub(crate) has_slash: bool,
}

/// Parse the class whose `[` is at `start`; returns it and the index after
/// its `]`, or `None` when it is never closed.
pub(crate) fn parse(glob: &[u8], start: usize) -> Option<(Class, usize)> {
    let mut i = start + 1;
    let negated = matches!(glob.get(i), Some(b'!' | b'^'));
    if negated {
        i += 1;
    }
    let mut set = ByteSet::EMPTY;
    let mut has_slash = false;
    let mut first = true;
    while i < glob.len() && (first || glob[i] != b']') {
        let low = glob[i];
        i += 1;
        let high = if i + 1 < glob.len() && glob[i] == b'-' && glob[i + 1] != b']' {
            let h = glob[i + 1];
            i += 2;
            h
        } else {
            low
        };
        for b in low..=high {
            set.insert(b);
        }
        if (low..=high).contains(&b'/') {
            has_slash = true;
        }
        first = false;
    }
    if i >= glob.len() {
        return None;
    }
    if negated {
        set = set.complement();
    }
    set.remove(b'/');
    set.remove(ROOT);
    Some((Class { set, has_slash }, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> Option<(Class, usize)> {
        parse(s.as_bytes(), 0)
    }

    #[test]
    fn members_ranges_and_negation() {
        let (c, end) = class("[a-cx]z").unwrap();
        assert_eq!(end, 6);
        assert!(c.set.contains(b'b') && c.set.contains(b'x') && !c.set.contains(b'd'));
        let (c, _) = class("[!a]").unwrap();
        assert!(!c.set.contains(b'a') && c.set.contains(b'b') && !c.set.contains(b'/'));
        let (c, _) = class("[^a]").unwrap();
        assert!(!c.set.contains(b'a'));
    }

    #[test]
    fn first_bracket_is_a_member_and_dash_before_close_is_literal() {
        let (c, end) = class("[]a]").unwrap();
        assert_eq!(end, 4);
        assert!(c.set.contains(b']') && c.set.contains(b'a'));
        let (c, _) = class("[a-]").unwrap();
        assert!(c.set.contains(b'-') && c.set.contains(b'a'));
    }

    #[test]
    fn unclosed_and_slash() {
        assert!(class("[").is_none());
        assert!(class("[]").is_none());
        assert!(class("[abc").is_none());
        assert!(class("[a/]").unwrap().0.has_slash);
        assert!(class("[!/]").unwrap().0.has_slash);
    }
}
