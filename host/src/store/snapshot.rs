//! The lease snapshot: what a hook needs from the store, in one small file
//! beside it, so the common event (an agent writing a file nobody else holds)
//! costs one file read instead of opening SQLite (about half a millisecond
//! of a hook's three).
//!
//! Every transaction that changes reservations, agents or messages rewrites
//! the snapshot while it still holds SQLite's write lock, so snapshots are
//! written in commit order (write to a temporary file, then rename: readers
//! see the old or the new one, never half of one). A snapshot renamed into
//! place just before its transaction failed to commit shows a state that is,
//! if anything, more reserved than the truth, until the next write replaces
//! it. Expiry and presence are computed by the reader from timestamps.
//!
//! Format (text, one record per line, free text JSON-encoded so that tabs
//! and newlines never appear raw):
//! ```text
//! hookgate-leases 1 <written_ms>
//! A <id> <name> <last_seen_ms> <undelivered_messages> <platform>
//! R <prefix> <id> <agent> <literal> <mode> <auto> <created_ms> <expires_ms> <ttl_ms> <reason> <patterns>
//! ```
//! One `R` line per literal prefix of a reservation, so a reader finds the
//! candidates for a path by comparing prefixes, parsing only those lines;
//! `literal` is a string every file the reservation covers contains (or
//! `""`), so a check of a file skips most `**/…` reservations unparsed.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use rusqlite::{params, Transaction};

use super::StoreError;
use crate::presence::State;
use crate::reservations::{Context, Hold, Mode};

const MAGIC: &str = "hookgate-leases 4";

/// The snapshot beside the database at `db`: its reservations.
pub fn path_for(db: &Path) -> PathBuf {
    beside(db, ".leases")
}

/// Its agents (small: every hook reads it for the heartbeat).
pub fn agents_path_for(db: &Path) -> PathBuf {
    beside(db, ".agents")
}

fn beside(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    db.with_file_name(name)
}

/// Replace `target` with `text` atomically (temporary file, then rename).
pub(crate) fn replace(target: &Path, text: &str) -> Result<(), StoreError> {
    let io = |e| StoreError::Io {
        path: target.to_path_buf(),
        source: e,
    };
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".leases-")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(text.as_bytes()).map_err(io)?;
    tmp.persist(target).map_err(|e| io(e.error))?;
    Ok(())
}

fn enc(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn sql(db: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::Sql {
        path: db.to_path_buf(),
        source: e,
    }
}

/// Write the snapshot of the state `tx` sees (call it last in a write
/// transaction, before the commit).
pub fn write(tx: &Transaction<'_>, db: &Path, now: i64) -> Result<(), StoreError> {
    // Deliveries hooks logged are folded in first (the counts below see
    // them), and the mailbox is rewritten under the same lock.
    let mut mail = crate::coordination::mailbox::lock(db)?;
    mail.fold(tx)?;
    let mut out = String::with_capacity(4096);
    let mut agents_out = String::with_capacity(1024);
    out.push_str(&format!("{MAGIC} {now}\n"));
    agents_out.push_str(&format!("{MAGIC} {now}\n"));
    {
        let mut st = tx
            .prepare_cached(
                "SELECT a.id, a.name, a.last_seen_ms,
                        (SELECT COUNT(*) FROM recipients n WHERE n.agent = a.id AND n.delivered_ms IS NULL),
                        a.platform,
                        (SELECT MIN(r.expires_ms - r.ttl_ms / 2) FROM reservations r
                          WHERE r.agent = a.id AND r.released_ms IS NULL AND r.expires_ms > ?1)
                 FROM agents a",
            )
            .map_err(sql(db))?;
        let mut rows = st.query(params![now]).map_err(sql(db))?;
        while let Some(r) = rows.next().map_err(sql(db))? {
            let id: String = r.get(0).map_err(sql(db))?;
            let name: String = r.get(1).map_err(sql(db))?;
            let seen: i64 = r.get(2).map_err(sql(db))?;
            let notices: i64 = r.get(3).map_err(sql(db))?;
            let platform: String = r.get(4).map_err(sql(db))?;
            let renew_at: i64 = r
                .get::<_, Option<i64>>(5)
                .map_err(sql(db))?
                .unwrap_or(i64::MAX);
            agents_out.push_str(&format!(
                "A\t{}\t{}\t{seen}\t{notices}\t{}\t{renew_at}\n",
                enc(&id),
                enc(&name),
                enc(&platform)
            ));
        }
    }
    {
        let mut st = tx
            .prepare_cached(
                "SELECT p.prefix, r.id, r.agent, r.mode, r.auto, r.created_ms, r.expires_ms, r.ttl_ms, r.reason, r.patterns
                 FROM reservation_prefixes p JOIN reservations r ON r.id = p.reservation
                 WHERE r.released_ms IS NULL AND r.expires_ms > ?1",
            )
            .map_err(sql(db))?;
        let mut rows = st.query(params![now]).map_err(sql(db))?;
        let mut lines: Vec<(String, String)> = Vec::new();
        while let Some(r) = rows.next().map_err(sql(db))? {
            let prefix: String = r.get(0).map_err(sql(db))?;
            let id: i64 = r.get(1).map_err(sql(db))?;
            let agent: String = r.get(2).map_err(sql(db))?;
            let mode: String = r.get(3).map_err(sql(db))?;
            let auto: i64 = r.get(4).map_err(sql(db))?;
            let created: i64 = r.get(5).map_err(sql(db))?;
            let expires: i64 = r.get(6).map_err(sql(db))?;
            let ttl: i64 = r.get(7).map_err(sql(db))?;
            let reason: String = r.get(8).map_err(sql(db))?;
            let patterns: String = r.get(9).map_err(sql(db))?;
            let parsed: Vec<String> = serde_json::from_str(&patterns).unwrap_or_default();
            let literal = crate::reservations::file_literal(&parsed, auto != 0);
            lines.push((
                section_key(&prefix).to_string(),
                format!(
                    "R\t{}\t{id}\t{}\t{}\t{mode}\t{auto}\t{created}\t{expires}\t{ttl}\t{}\t{patterns}\n",
                    enc(&prefix),
                    enc(&agent),
                    enc(&literal),
                    enc(&reason)
                ),
            ));
        }
        lines.sort();
        let mut body = String::with_capacity(lines.iter().map(|l| l.1.len()).sum());
        let mut sections: Vec<(String, usize, usize)> = Vec::new();
        for (key, line) in &lines {
            match sections.last_mut() {
                Some(last) if &last.0 == key => last.2 += line.len(),
                _ => sections.push((key.clone(), body.len(), body.len() + line.len())),
            }
            body.push_str(line);
        }
        let mut table = String::new();
        for (key, start, end) in &sections {
            table.push_str(&format!("S\t{}\t{start}\t{end}\n", enc(key)));
        }
        // `H` gives the header's length, in fixed width so it can be computed.
        let header_len = out.len() + "H 000000000000\n".len() + table.len();
        out.push_str(&format!("H {header_len:012}\n"));
        out.push_str(&table);
        out.push_str(&body);
    }
    replace(&path_for(db), &out)?;
    replace(&agents_path_for(db), &agents_out)?;
    mail.write(tx)?;
    Ok(())
}

/// An agent as the snapshot knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapAgent {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Last seen, ms.
    pub last_seen_ms: i64,
    /// Undelivered messages (notices among them).
    pub notices: i64,
    /// Platform of its last hook (`cli` if only commands).
    pub platform: String,
    /// When the first of its leases is due for renewal on activity (half
    /// its TTL left), ms; `i64::MAX` when it holds none.
    pub renew_at_ms: i64,
}

/// An agent seen this recently needs no new heartbeat (presence has a
/// resolution of minutes).
pub const HEARTBEAT_MS: i64 = 30_000;

impl SnapAgent {
    /// Seen within [`HEARTBEAT_MS`] of `now`, with no notice waiting: a
    /// heartbeat now would change nothing worth a write.
    pub fn quiet(&self, now: i64) -> bool {
        self.recent(now) && self.notices == 0
    }

    /// Seen within [`HEARTBEAT_MS`] of `now`: a heartbeat now would change
    /// nothing worth a write (messages waiting are delivered separately).
    pub fn recent(&self, now: i64) -> bool {
        self.last_seen_ms > now - HEARTBEAT_MS
    }
}

/// A snapshot read from disk.
/// The section a literal prefix is filed under: its first path component
/// (`src` for `src/auth`, `/etc` for `/etc/x`), `""` for patterns that can
/// match anywhere. A path's candidates are in `""` and in its own section.
pub fn section_key(prefix: &str) -> &str {
    let from = usize::from(prefix.starts_with('/'));
    match prefix[from..].find('/') {
        Some(i) => &prefix[..from + i],
        None => prefix,
    }
}

/// A snapshot read from disk: the agents, and the reservations of the
/// sections an event needs, read on demand.
#[derive(Debug)]
pub struct Snapshot {
    db: PathBuf,
    agents: Vec<SnapAgent>,
    /// The reservations file's section table, once read: (key, byte range).
    table: Option<Vec<(String, std::ops::Range<u64>)>>,
    /// Sections read so far: key, text, and each row's field ranges.
    sections: Vec<(String, String, Vec<Row>)>,
}

#[derive(Debug, Clone)]
struct Row {
    prefix: std::ops::Range<usize>,
    agent: std::ops::Range<usize>,
    literal: std::ops::Range<usize>,
    line: std::ops::Range<usize>,
}

fn dec(s: &str) -> Option<String> {
    serde_json::from_str(s).ok()
}

fn read_at(file: &std::fs::File, range: std::ops::Range<u64>) -> Option<String> {
    use std::os::unix::fs::FileExt;
    // Offsets come from the file itself: never trust them past its end.
    if range.end > file.metadata().ok()?.len() {
        return None;
    }
    let len = usize::try_from(range.end.checked_sub(range.start)?).ok()?;
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, range.start).ok()?;
    String::from_utf8(buf).ok()
}

/// Index the `R` lines of a section.
fn index(text: &str) -> Option<Vec<Row>> {
    let mut rows = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let line = line.strip_suffix('\n').unwrap_or(line);
        let rest = line.strip_prefix("R\t")?;
        // prefix \t id \t agent \t literal \t …
        let base = start + 2;
        let mut ends = rest.match_indices('\t').map(|(i, _)| base + i);
        let (Some(e0), Some(e1), Some(e2), Some(e3)) =
            (ends.next(), ends.next(), ends.next(), ends.next())
        else {
            return None;
        };
        rows.push(Row {
            prefix: base..e0,
            agent: e1 + 1..e2,
            literal: e2 + 1..e3,
            line: base..start + line.len(),
        });
    }
    Some(rows)
}

impl Snapshot {
    /// Read the agents beside `db` (what every hook needs); reservations are
    /// read per section when asked for. `None` when missing or damaged
    /// (callers then use SQLite, which writes a new snapshot).
    pub fn read(db: &Path) -> Option<Snapshot> {
        let text = std::fs::read_to_string(agents_path_for(db)).ok()?;
        if !text.starts_with(MAGIC) {
            return None;
        }
        let mut agents = Vec::new();
        for line in text.lines().skip(1) {
            let rest = line.strip_prefix("A\t")?;
            let f: Vec<&str> = rest.split('\t').collect();
            if f.len() != 6 {
                return None;
            }
            agents.push(SnapAgent {
                id: dec(f[0])?,
                name: dec(f[1])?,
                last_seen_ms: f[2].parse().ok()?,
                notices: f[3].parse().ok()?,
                platform: dec(f[4])?,
                renew_at_ms: f[5].parse().ok()?,
            });
        }
        Some(Snapshot {
            db: db.to_path_buf(),
            agents,
            table: None,
            sections: Vec::new(),
        })
    }

    /// All agents.
    pub fn agents(&self) -> &[SnapAgent] {
        &self.agents
    }

    /// An agent by id.
    pub fn agent(&self, id: &str) -> Option<&SnapAgent> {
        self.agents.iter().find(|a| a.id == id)
    }

    /// Read the sections `keys` of the reservations file (once each).
    fn load(&mut self, keys: &[&str]) -> Option<()> {
        let missing: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| !self.sections.iter().any(|s| s.0 == *k))
            .collect();
        if missing.is_empty() && self.table.is_some() {
            return Some(());
        }
        let file = std::fs::File::open(path_for(&self.db)).ok()?;
        if self.table.is_none() {
            let size = file.metadata().ok()?.len();
            let head = read_at(&file, 0..size.min((MAGIC.len() + 40) as u64))?;
            let mut lines = head.lines();
            if !lines.next()?.starts_with(MAGIC) {
                return None;
            }
            let header_len: u64 = lines.next()?.strip_prefix("H ")?.parse().ok()?;
            let header = read_at(&file, 0..header_len)?;
            let mut table = Vec::new();
            for line in header.lines().skip(2) {
                let f: Vec<&str> = line.strip_prefix("S\t")?.split('\t').collect();
                if f.len() != 3 {
                    return None;
                }
                let (start, end): (u64, u64) = (f[1].parse().ok()?, f[2].parse().ok()?);
                table.push((dec(f[0])?, header_len + start..header_len + end));
            }
            self.table = Some(table);
        }
        for key in missing {
            let range = self
                .table
                .as_ref()?
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, r)| r.clone());
            let text = match range {
                Some(r) => read_at(&file, r)?,
                None => String::new(),
            };
            let rows = index(&text)?;
            self.sections.push((key.to_string(), text, rows));
        }
        Some(())
    }

    fn hold(&self, f: &[&str], now: i64, ctx: &Context) -> Option<Hold> {
        // f: prefix id agent literal mode auto created expires ttl reason patterns
        let agent: String = dec(f[2])?;
        let (name, seen) = match self.agent(&agent) {
            Some(a) => (a.name.clone(), a.last_seen_ms),
            None => (agent.clone(), 0),
        };
        Some(Hold {
            id: f[1].parse().ok()?,
            agent,
            agent_name: name,
            patterns: serde_json::from_str(f[10]).ok()?,
            mode: Mode::parse(f[4])?,
            reason: dec(f[9])?,
            auto: f[5] == "1",
            created_ms: f[6].parse().ok()?,
            expires_ms: f[7].parse().ok()?,
            ttl_ms: f[8].parse().ok()?,
            holder_state: State::of(seen, now, &ctx.presence),
            holder_last_seen_ms: seen,
        })
    }

    /// Live reservations that could overlap a set with literal `prefixes`
    /// (the same rule as the SQL index: the reservation's prefix is an
    /// ancestor of, equal to, or under one of them), whose agent satisfies
    /// `agent_filter` (given JSON-encoded); when `file` is given, those whose
    /// literal it lacks are skipped unparsed. `None` when damaged.
    fn select(
        &mut self,
        prefixes: &[String],
        now: i64,
        ctx: &Context,
        agent_filter: impl Fn(&str) -> bool,
        file: Option<&str>,
    ) -> Option<Vec<Hold>> {
        let prefixes: Vec<String> = prefixes.iter().map(|q| q.to_lowercase()).collect();
        let everywhere = prefixes.iter().any(String::is_empty);
        let keys: Vec<String> = if everywhere {
            self.load(&[""])?;
            self.table
                .as_ref()?
                .iter()
                .map(|(k, _)| k.clone())
                .collect()
        } else {
            let mut k = vec![String::new()];
            k.extend(prefixes.iter().map(|q| section_key(q).to_string()));
            k
        };
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.load(&key_refs)?;
        let mut exact: Vec<String> = Vec::new();
        let mut under: Vec<String> = Vec::new();
        for q in &prefixes {
            for a in crate::reservations::ancestors(q) {
                let e = enc(&a);
                if !exact.contains(&e) {
                    exact.push(e);
                }
            }
            // `"q/…"`: the encoded prefix without its closing quote, then `/`.
            let e = enc(q);
            under.push(format!("{}/", &e[..e.len() - 1]));
        }
        let keep = |p: &str| {
            everywhere
                || exact.iter().any(|e| e == p)
                || under.iter().any(|u| p.starts_with(u.as_str()))
        };
        let file = file.map(|f| {
            if ctx.fold {
                f.to_lowercase()
            } else {
                f.to_string()
            }
        });
        let mut out: Vec<Hold> = Vec::new();
        for (key, t, rows) in &self.sections {
            if !keys.contains(key) {
                continue;
            }
            for row in rows {
                if !keep(&t[row.prefix.clone()]) || !agent_filter(&t[row.agent.clone()]) {
                    continue;
                }
                let literal = &t[row.literal.clone()];
                if let Some(path) = &file {
                    if literal.len() > 2 {
                        let lit: String = dec(literal)?;
                        let lit = if ctx.fold { lit.to_lowercase() } else { lit };
                        if !path.contains(&lit) {
                            continue;
                        }
                    }
                }
                let f: Vec<&str> = t[row.line.clone()].splitn(11, '\t').collect();
                if f.len() != 11 {
                    return None;
                }
                let h = self.hold(&f, now, ctx)?;
                if h.expires_ms > now && !out.iter().any(|o| o.id == h.id) {
                    out.push(h);
                }
            }
        }
        Some(out)
    }

    /// Live reservations of agents other than `agent` that could overlap a
    /// set with literal `prefixes`.
    pub fn candidates(
        &mut self,
        prefixes: &[String],
        agent: &str,
        now: i64,
        ctx: &Context,
        file: Option<&str>,
    ) -> Option<Vec<Hold>> {
        let me = enc(agent);
        self.select(prefixes, now, ctx, |a| a != me, file)
    }

    /// Live reservations of `agent` that could overlap a set with literal
    /// `prefixes` (`[""]`: all of them).
    pub fn own(
        &mut self,
        prefixes: &[String],
        agent: &str,
        now: i64,
        ctx: &Context,
    ) -> Option<Vec<Hold>> {
        let me = enc(agent);
        self.select(prefixes, now, ctx, |a| a == me, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Agent;
    use crate::policy::{PresenceSettings, ReservationSettings};
    use crate::reservations::{acquire, Grant, Request};
    use crate::store::{now_ms, Store};

    fn ctx() -> Context {
        Context {
            fold: false,
            settings: ReservationSettings::default(),
            presence: PresenceSettings::default(),
        }
    }

    #[test]
    fn a_write_leaves_a_snapshot_that_reads_back_the_same_holds() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        let mut store = Store::open(&db).unwrap();
        let a = Agent::from_session("agent\ta", None, None);
        let reqs = [
            vec!["src/auth/**".to_string()],
            vec!["**/gen/**".to_string(), "!**/gen/keep/**".to_string()],
            vec!["docs/{a,b}.md".to_string()],
        ];
        for (i, patterns) in reqs.iter().enumerate() {
            let req = Request {
                patterns: patterns.clone(),
                mode: if i == 0 {
                    Mode::Exclusive
                } else {
                    Mode::Shared
                },
                ttl_ms: 60_000,
                reason: format!("reason \"{i}\"\twith\ttabs"),
                auto: false,
            };
            assert!(matches!(
                acquire(&mut store, &a, "claude", &req, &ctx()).unwrap(),
                Grant::Granted { .. }
            ));
        }
        let mut snap = Snapshot::read(&db).expect("a snapshot that parses");
        let me = snap.agent("agent\ta").expect("the agent");
        assert_eq!(me.platform, "claude");
        assert!(me.renew_at_ms > now_ms() && me.renew_at_ms < now_ms() + 60_000);
        assert_eq!(me.notices, 0);
        let now = now_ms();
        let own = snap
            .own(&["".into()], "agent\ta", now, &ctx())
            .expect("parses");
        let sql =
            crate::reservations::list(store.connection(), Some("agent\ta"), now, &ctx()).unwrap();
        let key = |h: &Hold| {
            (
                h.id,
                h.patterns.clone(),
                h.mode.as_str(),
                h.reason.clone(),
                h.expires_ms,
                h.ttl_ms,
            )
        };
        let mut x: Vec<_> = own.iter().map(key).collect();
        let mut y: Vec<_> = sql.iter().map(key).collect();
        x.sort();
        y.sort();
        assert_eq!(x, y);
        // Another agent's view: candidates by prefix, as the SQL index finds them.
        let c = snap
            .candidates(
                &["src/auth/login.py".into()],
                "other",
                now,
                &ctx(),
                Some("src/auth/login.py"),
            )
            .unwrap();
        let ids: Vec<i64> = c.iter().map(|h| h.id).collect();
        assert!(ids.contains(
            &own.iter()
                .find(|h| h.patterns[0] == "src/auth/**")
                .unwrap()
                .id
        ));
        assert!(
            !c.iter().any(|h| h.patterns[0] == "**/gen/**"),
            "skipped by its literal"
        );
        assert!(
            !c.iter().any(|h| h.patterns[0].starts_with("docs")),
            "another prefix"
        );
        assert!(
            snap.candidates(&["x".into()], "agent\ta", now, &ctx(), None)
                .unwrap()
                .is_empty(),
            "own holds are not candidates"
        );
    }

    #[test]
    fn sections_are_first_components() {
        assert_eq!(section_key(""), "");
        assert_eq!(section_key("src"), "src");
        assert_eq!(section_key("src/auth/x"), "src");
        assert_eq!(section_key("/etc/x"), "/etc");
        assert_eq!(section_key("/etc"), "/etc");
    }

    #[test]
    fn a_damaged_snapshot_reads_as_none() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        std::fs::write(agents_path_for(&db), format!("{MAGIC} 1\nA\tbroken\n")).unwrap();
        assert!(Snapshot::read(&db).is_none());
        std::fs::write(agents_path_for(&db), format!("{MAGIC} 1\n")).unwrap();
        let mut snap = Snapshot::read(&db).unwrap();
        let c = |s: &mut Snapshot| s.candidates(&["src".into()], "a", 0, &ctx(), None);
        std::fs::write(path_for(&db), "something else").unwrap();
        assert!(c(&mut snap).is_none());
        let mut snap = Snapshot::read(&db).unwrap();
        std::fs::write(path_for(&db), format!("{MAGIC} 1\nH 999999999999\n")).unwrap();
        assert!(c(&mut snap).is_none());
        let mut snap = Snapshot::read(&db).unwrap();
        std::fs::write(path_for(&db), format!("{MAGIC} 1\nH x\n")).unwrap();
        assert!(c(&mut snap).is_none());
    }
}
