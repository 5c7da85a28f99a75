//! Change notifications routed by audience, and stale-read warnings.
//!
//! Hooks keep a small log beside the store (`state.db.touches`): a line per
//! read, write and notification of a path by an agent, appended under an
//! exclusive `flock`, and compacted in place (the latest line per agent,
//! path and kind within the read window) once it passes
//! [`COMPACT_BYTES`]. A read costs one append; a write one scan of the log
//! and one append; SQLite is opened only to post notices, when someone is
//! to be told. When a path is written, only these agents hear of it:
//! - those holding a live shared or intent reservation that overlaps it;
//! - those that read it within the read window and have not been told of a
//!   change since that read.
//!
//! An agent about to write a file that another agent wrote after this
//! agent last read it gets a stale-read warning: its write was composed from
//! an old read (the lost update users report). Releases tell the holders of
//! overlapping shared or intent reservations.

use std::collections::HashMap;
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use rusqlite::Transaction;

use super::log_file::{beside, io};
use super::messages::{self, Importance, MessageKind, Post};
use crate::event::Agent;
use crate::reservations::{self, Context, Mode};
use crate::store::StoreError;

/// Past this size the touch log is compacted.
pub const COMPACT_BYTES: u64 = 256 * 1024;

/// The touch log beside the store at `db`.
pub fn log_path(db: &Path) -> PathBuf {
    beside(db, ".touches")
}

/// One line of the log: `[ms, agent, kind, path]`, kind `r` (read), `w`
/// (written), `n` (told of a change).
type Touch = (i64, String, char, String);

/// The touch log, locked while this lives.
pub struct Touches {
    file: std::fs::File,
    path: PathBuf,
}

impl Touches {
    /// Open and lock the touch log of the store at `db`.
    pub fn lock(db: &Path) -> Result<Touches, StoreError> {
        let path = log_path(db);
        let file = super::log_file::open_locked(&path)?;
        Ok(Touches { file, path })
    }

    /// Append touches.
    pub fn append(&mut self, touches: &[Touch]) -> Result<(), StoreError> {
        let mut text = String::new();
        for t in touches {
            text.push_str(&serde_json::to_string(t).unwrap_or_default());
            text.push('\n');
        }
        self.file.write_all(text.as_bytes()).map_err(io(&self.path))
    }

    fn all(&mut self) -> Result<Vec<u8>, StoreError> {
        self.file.rewind().map_err(io(&self.path))?;
        let mut raw = Vec::new();
        self.file.read_to_end(&mut raw).map_err(io(&self.path))?;
        Ok(raw)
    }

    /// The touches of `paths`, by path (lines that are not whole JSON are
    /// skipped: a torn write).
    pub fn of(&mut self, paths: &[String]) -> Result<HashMap<String, Vec<Touch>>, StoreError> {
        let raw = self.all()?;
        let needles: Vec<String> = paths
            .iter()
            .map(|p| serde_json::to_string(p).unwrap_or_default())
            .collect();
        let finders: Vec<memchr::memmem::Finder<'_>> = needles
            .iter()
            .map(|n| memchr::memmem::Finder::new(n.as_bytes()))
            .collect();
        let mut out: HashMap<String, Vec<Touch>> = HashMap::new();
        for line in raw.split(|&b| b == b'\n') {
            if !finders.iter().any(|f| f.find(line).is_some()) {
                continue;
            }
            if let Ok(t) = serde_json::from_slice::<Touch>(line) {
                if paths.contains(&t.3) {
                    out.entry(t.3.clone()).or_default().push(t);
                }
            }
        }
        Ok(out)
    }

    /// Keep the latest touch per agent, path and kind, and only those within
    /// `window` of `now`, once the log passes [`COMPACT_BYTES`].
    pub fn compact(&mut self, now: i64, window: i64) -> Result<bool, StoreError> {
        let len = self.file.metadata().map_err(io(&self.path))?.len();
        if len <= COMPACT_BYTES {
            return Ok(false);
        }
        self.rewrite(now, window)?;
        Ok(true)
    }

    /// Keep the latest touch per agent, path and kind within `window` of
    /// `now`, whatever the log's size.
    pub fn rewrite(&mut self, now: i64, window: i64) -> Result<(), StoreError> {
        let raw = self.all()?;
        let mut latest: HashMap<(String, char, String), i64> = HashMap::new();
        for line in raw.split(|&b| b == b'\n') {
            if let Ok((ts, agent, kind, path)) = serde_json::from_slice::<Touch>(line) {
                if ts >= now - window {
                    let e = latest.entry((agent, kind, path)).or_insert(ts);
                    *e = (*e).max(ts);
                }
            }
        }
        let mut kept: Vec<Touch> = latest
            .into_iter()
            .map(|((agent, kind, path), ts)| (ts, agent, kind, path))
            .collect();
        kept.sort();
        self.file.set_len(0).map_err(io(&self.path))?;
        self.append(&kept)
    }
}

/// Lines of one path beyond two per agent and kind that make a write
/// compact the log at once: an agent editing one file over and over adds a
/// line per edit, and every write of that file reads them all.
const CROWDED: usize = 32;

/// Has one path gathered more lines than its readers and writers need?
fn crowded(lines: &[Touch]) -> bool {
    if lines.len() <= CROWDED {
        return false;
    }
    let mut keys: Vec<(&str, char)> = lines.iter().map(|t| (t.1.as_str(), t.2)).collect();
    keys.sort_unstable();
    keys.dedup();
    lines.len() > keys.len() * 2 + CROWDED
}

/// Append `agent`'s reads of `paths` at `now` to the touch log.
pub fn note_reads(db: &Path, agent: &str, paths: &[String], now: i64) -> Result<(), StoreError> {
    if paths.is_empty() {
        return Ok(());
    }
    let reads: Vec<Touch> = paths
        .iter()
        .map(|p| (now, agent.to_string(), 'r', p.clone()))
        .collect();
    Touches::lock(db)?.append(&reads)
}

/// A stale read found before a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The path.
    pub path: String,
    /// Who wrote it since.
    pub writer: String,
    /// When it was written, ms.
    pub written_ms: i64,
    /// When this agent last read it, ms.
    pub read_ms: i64,
}

/// What a write finds in the touch log: stale reads of the writer, and the
/// readers to tell (`agent → [(path, read ms)]`).
#[derive(Debug, Default)]
pub struct Found {
    /// The writer's stale reads.
    pub stale: Vec<Stale>,
    /// Readers to tell, with what they read and when.
    pub readers: Vec<(String, String, i64)>,
}

/// The agents other than `who` that know a file — read or wrote it at or
/// after `since`, by its touch `lines` — each with its last read or write and
/// the last time it was told of a change (0: never).
fn knowers<'a>(lines: &'a [Touch], who: &str, since: i64) -> Vec<(&'a str, i64, i64)> {
    let mut out: Vec<(&str, i64, i64)> = Vec::new();
    for t in lines.iter().filter(|t| t.1 != who) {
        let i = match out.iter().position(|k| k.0 == t.1) {
            Some(i) => i,
            None => {
                out.push((&t.1, 0, 0));
                out.len() - 1
            }
        };
        if t.2 == 'n' {
            out[i].2 = out[i].2.max(t.0);
        } else {
            out[i].1 = out[i].1.max(t.0);
        }
    }
    out.retain(|k| k.1 >= since && k.1 > 0);
    out.sort_unstable();
    out
}

/// Record that `who` writes `paths` at `now`: find its stale reads and the
/// readers to tell (marked told), and log the write (which is also the
/// writer's knowledge of the file).
pub fn record_writes(
    t: &mut Touches,
    who: &str,
    paths: &[String],
    read_window_ms: i64,
    now: i64,
) -> Result<Found, StoreError> {
    let seen = t.of(paths)?;
    let mut found = Found::default();
    let mut new: Vec<Touch> = Vec::new();
    for p in paths {
        let lines = seen.get(p).map(Vec::as_slice).unwrap_or(&[]);
        let last = |agent: &str, kind: char| {
            lines
                .iter()
                .filter(|t| t.1 == agent && t.2 == kind)
                .map(|t| t.0)
                .max()
        };
        let my_read = last(who, 'r').max(last(who, 'w'));
        if let (Some(read), Some(w)) = (
            my_read,
            lines
                .iter()
                .filter(|t| t.2 == 'w' && t.1 != who)
                .max_by_key(|t| t.0),
        ) {
            if w.0 > read {
                found.stale.push(Stale {
                    path: p.clone(),
                    writer: w.1.clone(),
                    written_ms: w.0,
                    read_ms: read,
                });
            }
        }
        // Those that know the file and were not told of a change since.
        for (r, read, told) in knowers(lines, who, now - read_window_ms) {
            if read > told {
                found.readers.push((r.to_string(), p.clone(), read));
                new.push((now, r.to_string(), 'n', p.clone()));
            }
        }
        new.push((now, who.to_string(), 'w', p.clone()));
    }
    t.append(&new)?;
    if seen.values().any(|l| crowded(l)) {
        t.rewrite(now, read_window_ms)?;
    } else {
        t.compact(now, read_window_ms)?;
    }
    Ok(found)
}

/// An audience: agent → (paths, why).
type Audience = Vec<(String, Vec<String>, Vec<String>)>;

fn add(audience: &mut Audience, agent: String, path: &str, why: String) {
    match audience.iter_mut().find(|(a, _, _)| *a == agent) {
        Some((_, ps, whys)) => {
            if !ps.iter().any(|p| p == path) {
                ps.push(path.to_string());
            }
            if !whys.contains(&why) {
                whys.push(why);
            }
        }
        None => audience.push((agent, vec![path.to_string()], vec![why])),
    }
}

/// Post one change notice per agent of `audience`. Returns the agents told.
fn tell(
    tx: &Transaction<'_>,
    who: &Agent,
    audience: Audience,
    change: Change,
    how: &str,
    now: i64,
) -> Result<Vec<String>, messages::MessageError> {
    let mut told = Vec::new();
    for (agent, ps, whys) in audience {
        let body = format!(
            "{} {} {} ({how}); {}. Re-read before you write there.",
            who.name,
            change.verb(),
            ps.join(", "),
            whys.join("; ")
        );
        messages::post(
            tx,
            &agent,
            &Post {
                sender: &who.id,
                audience: &agent,
                kind: MessageKind::Change,
                thread: None,
                importance: Importance::Normal,
                ack_required: false,
                body: &body,
                paths: &ps,
                request: None,
            },
            now,
        )?;
        told.push(agent);
    }
    Ok(told)
}

fn why_held(h: &reservations::Hold) -> String {
    format!(
        "you hold {} ({}) as {}",
        h.label(),
        h.patterns.join(" "),
        h.mode.as_str()
    )
}

/// What happened to the paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Written (or deleted) by a tool or a shell command.
    Written,
    /// A reservation on them was released.
    Released,
    /// Committed.
    Committed,
}

impl Change {
    fn verb(self) -> &'static str {
        match self {
            Change::Written => "changed",
            Change::Released => "released",
            Change::Committed => "committed",
        }
    }
}

/// Tell the holders of live shared or intent reservations that overlap
/// `patterns` (one set, exclusions included) that `who` released or
/// committed them. Returns the agents told.
pub fn changed(
    tx: &Transaction<'_>,
    who: &Agent,
    patterns: &[String],
    change: Change,
    how: &str,
    ctx: &Context,
    now: i64,
) -> Result<Vec<String>, messages::MessageError> {
    let Ok(set) = reservations::hold_set(patterns, false, ctx.fold) else {
        return Ok(Vec::new());
    };
    let shown = patterns
        .iter()
        .filter(|p| !p.starts_with('!'))
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    holders_told(tx, who, &set, &shown, change, how, ctx, now)
}

/// Tell the holders of live shared or intent reservations that overlap
/// `set` (shown as `shown`) what `who` did. Returns the agents told.
#[allow(clippy::too_many_arguments)]
fn holders_told(
    tx: &Transaction<'_>,
    who: &Agent,
    set: &hookgate_glob::PatternSet,
    shown: &str,
    change: Change,
    how: &str,
    ctx: &Context,
    now: i64,
) -> Result<Vec<String>, messages::MessageError> {
    let holds = reservations::conflicts(tx, set, Mode::Exclusive, &who.id, now, ctx).map_err(
        |e| match e {
            reservations::ReserveError::Store(s) => messages::MessageError::Store(s),
            other => messages::MessageError::Store(StoreError::Io {
                path: Default::default(),
                source: std::io::Error::other(other.to_string()),
            }),
        },
    )?;
    let mut audience: Audience = Vec::new();
    for c in holds {
        if matches!(c.hold.mode, Mode::Shared | Mode::Intent) {
            add(
                &mut audience,
                c.hold.agent.clone(),
                shown,
                why_held(&c.hold),
            );
        }
    }
    tell(tx, who, audience, change, how, now)
}

/// The hook's part: after the chain, for an action that goes ahead, note
/// its reads, warn about stale reads among its writes, record the writes and
/// tell their audience. Returns stale-read warnings (and errors, which never
/// change the decision).
pub fn on_event(
    lease: &mut crate::lease_view::LeaseView,
    db: &Path,
    event: &crate::event::Event,
    verdict: &crate::chain::Verdict,
    policy: &crate::policy::Policy,
) -> Vec<Result<crate::chain::Judged, String>> {
    use crate::event::{Kind, Outcome};
    use crate::runtime::services::ReservationView;
    let c = policy.coordination;
    if event.kind != Kind::PreTool
        || verdict.decision == Outcome::Deny
        || !(c.notify_changes || c.stale_read_warning)
    {
        return Vec::new();
    }
    // A shell command's paths with glob characters are patterns, not files.
    let literal = |v: &Vec<String>| -> Vec<String> {
        v.iter()
            .filter(|p| event.command.is_none() || !p.contains(['*', '?', '[', '{']))
            .cloned()
            .collect()
    };
    let now = crate::store::now_ms();
    let mut out = Vec::new();
    let reads = literal(&event.reads);
    if !reads.is_empty() {
        if let Err(e) = note_reads(db, &event.agent.id, &reads, now) {
            out.push(Err(e.to_string()));
        }
    }
    let mut written = literal(&event.writes);
    written.extend(literal(&event.deletes));
    if written.is_empty() {
        return out;
    }
    let found = Touches::lock(db)
        .and_then(|mut t| record_writes(&mut t, &event.agent.id, &written, c.read_window_ms, now));
    let found = match found {
        Ok(f) => f,
        Err(e) => {
            out.push(Err(e.to_string()));
            return out;
        }
    };
    let ago = |t: i64| {
        crate::duration::format(std::time::Duration::from_millis(
            now.saturating_sub(t).max(0) as u64,
        ))
    };
    if c.stale_read_warning {
        for s in &found.stale {
            out.push(Ok(crate::chain::Judged {
                validator: "coordination".into(),
                rule: "stale-read".into(),
                stage: crate::policy::Stage::Warn,
                would: Outcome::Warn,
                effective: Outcome::Warn,
                message: format!(
                    "`{}` changed since you read it: {} wrote it {} ago, you read it {} ago. Read it again and redo your change on the current text, or you overwrite theirs.",
                    s.path,
                    super::frame::strip_controls(&s.writer),
                    ago(s.written_ms),
                    ago(s.read_ms)
                ),
                paths: vec![s.path.clone()],
                docs: Some("README.md#coordination".into()),
            }));
        }
    }
    if !c.notify_changes {
        return out;
    }
    let mut audience: Audience = Vec::new();
    for (agent, path, read) in &found.readers {
        add(
            &mut audience,
            agent.clone(),
            path,
            format!("you read it {} ago", ago(*read)),
        );
    }
    for p in &written {
        // Holders from the lease snapshot (no SQLite when there is one).
        if let Ok(holds) = lease.holders(std::slice::from_ref(p), Mode::Exclusive) {
            for h in holds.into_iter().filter(|h| !h.queued) {
                if matches!(h.hold.mode, Mode::Shared | Mode::Intent) {
                    add(&mut audience, h.hold.agent.clone(), p, why_held(&h.hold));
                }
            }
        }
    }
    if audience.is_empty() {
        return out;
    }
    let how = event.tool.clone().unwrap_or_else(|| "a write".into());
    let mut who = event.agent.clone();
    if who.name.is_empty() {
        who.name = who.id.clone();
    }
    let posted = lease.store().map_err(|e| e.to_string()).and_then(|s| {
        s.write_leases(|tx| tell(tx, &who, audience, Change::Written, &how, now))
            .map_err(|e| e.to_string())
    });
    if let Err(e) = posted {
        out.push(Err(e));
    }
    out
}

/// What a commit does to the store, in one transaction: release `release`
/// (the committer's reservations the policy lets go), tell the holders of
/// overlapping shared or intent reservations and the agents that read or
/// wrote the committed `paths` within the read window that `who` committed
/// them (`how`: `hookgate commit 1a2b3c4`). Returns (released, agents told).
#[allow(clippy::too_many_arguments)]
pub fn committed(
    store: &mut crate::store::Store,
    db: &Path,
    who: &Agent,
    paths: &[String],
    release: &[i64],
    how: &str,
    settings: &crate::policy::CoordinationSettings,
    ctx: &Context,
    now: i64,
) -> Result<(Vec<reservations::Released>, Vec<String>), messages::MessageError> {
    let mut readers: Audience = Vec::new();
    if settings.notify_changes && !paths.is_empty() {
        let mut t = Touches::lock(db)?;
        for (path, lines) in t.of(paths)? {
            for (r, _, _) in knowers(&lines, &who.id, now - settings.read_window_ms) {
                add(
                    &mut readers,
                    r.to_string(),
                    &path,
                    "you read or wrote it recently".into(),
                );
            }
        }
    }
    // Committed paths are files: exactly those, not what could be under a
    // directory of the same name.
    let files: Vec<(&str, bool)> = paths.iter().map(|p| (p.as_str(), false)).collect();
    let set = hookgate_glob::PatternSet::literal_paths(&files, ctx.fold);
    let notify = settings.notify_changes && !paths.is_empty();
    // Most commits release nothing and tell no one: then the store (and its
    // lease snapshot) is not written at all.
    let holders = notify
        && reservations::conflicts(store.connection(), &set, Mode::Exclusive, &who.id, now, ctx)
            .map_err(|e| {
                messages::MessageError::Store(StoreError::Io {
                    path: Default::default(),
                    source: std::io::Error::other(e.to_string()),
                })
            })?
            .iter()
            .any(|c| matches!(c.hold.mode, Mode::Shared | Mode::Intent));
    if release.is_empty() && readers.is_empty() && !holders {
        return Ok((Vec::new(), Vec::new()));
    }
    store.write_leases(|tx| {
        let released = if release.is_empty() {
            Vec::new()
        } else {
            reservations::release_selected(
                tx,
                &who.id,
                &reservations::Selector::Ids(release.to_vec()),
                now,
            )
            .map_err(|e| match e {
                reservations::ReserveError::Store(s) => messages::MessageError::Store(s),
                other => messages::MessageError::Store(StoreError::Io {
                    path: Default::default(),
                    source: std::io::Error::other(other.to_string()),
                }),
            })?
        };
        let mut told = Vec::new();
        if notify {
            let shown = paths.join(" ");
            told = holders_told(tx, who, &set, &shown, Change::Committed, how, ctx, now)?;
            readers.retain(|(a, _, _)| !told.contains(a));
            told.extend(tell(tx, who, readers, Change::Committed, how, now)?);
        }
        Ok((released, told))
    })
}

/// Release `who`'s reservations selected by `sel` and, in the same
/// transaction, tell the holders of overlapping shared or intent
/// reservations (when `[coordination] notify_changes` is on). What the CLI's
/// `release` and the MCP tool both do.
pub fn release(
    store: &mut crate::store::Store,
    who: &Agent,
    sel: &reservations::Selector,
    settings: &crate::policy::CoordinationSettings,
    ctx: &Context,
    now: i64,
) -> Result<Vec<reservations::Released>, reservations::ReserveError> {
    store.write_leases(|tx| {
        let done = reservations::release_selected(tx, &who.id, sel, now)?;
        if settings.notify_changes {
            for r in &done {
                changed(
                    tx,
                    who,
                    &r.patterns,
                    Change::Released,
                    "hookgate release",
                    ctx,
                    now,
                )?;
            }
        }
        Ok(done)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_find_stale_reads_and_tell_each_reader_once_per_read() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        let day = 86_400_000;
        note_reads(&db, "e", &["src/a.rs".into(), "src/b.rs".into()], 100).unwrap();
        note_reads(&db, "e", &["src/a.rs".into()], 150).unwrap();
        note_reads(&db, "x", &["src/a.rs".into()], 160).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(log_path(&db))
            .unwrap()
            .write_all(b"torn line\n\xff\xfe\n")
            .unwrap();
        let w = |who: &str, ts: i64| {
            let mut t = Touches::lock(&db).unwrap();
            record_writes(&mut t, who, &["src/a.rs".into()], day, ts).unwrap()
        };
        let f = w("d", 200);
        let told: Vec<&str> = f.readers.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(told, ["e", "x"]);
        assert!(f.stale.is_empty(), "d never read it");
        // Told once per read: a second change before they read again tells no one.
        assert!(w("d", 210).readers.is_empty());
        // E writes from its read at 150, after D's write at 210: stale. D is
        // told (its write is its knowledge of the file).
        note_reads(&db, "x", &["src/a.rs".into()], 215).unwrap();
        let f = w("e", 220);
        assert_eq!(f.stale.len(), 1);
        assert_eq!(
            (
                f.stale[0].writer.as_str(),
                f.stale[0].read_ms,
                f.stale[0].written_ms
            ),
            ("d", 150, 210)
        );
        let told: Vec<&str> = f.readers.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(told, ["d", "x"]);
        // D's own writes never make D stale; reads outside the window tell no one.
        assert!(
            w("d", 230).stale.len() == 1,
            "d last knew it at 210, e wrote at 220"
        );
        let mut t = Touches::lock(&db).unwrap();
        let old = record_writes(&mut t, "z", &["src/b.rs".into()], 10, 1_000).unwrap();
        assert!(old.readers.is_empty(), "e read src/b.rs too long ago");
    }

    #[test]
    fn one_file_written_over_and_over_does_not_grow_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        note_reads(&db, "x", &["src/a.rs".into()], 1).unwrap();
        let mut last = None;
        for i in 0..500 {
            let mut t = Touches::lock(&db).unwrap();
            last =
                Some(record_writes(&mut t, "e", &["src/a.rs".into()], 1_000_000, 10 + i).unwrap());
            let lines = std::fs::read_to_string(log_path(&db))
                .unwrap()
                .lines()
                .count();
            assert!(lines <= CROWDED + 8, "{lines} lines after {i} writes");
        }
        // The reader's touch survives compaction (it was told once, at the first write).
        let text = std::fs::read_to_string(log_path(&db)).unwrap();
        assert!(text.contains(r#""x","r","src/a.rs""#), "{text}");
        assert!(last.unwrap().readers.is_empty());
    }

    #[test]
    fn the_log_compacts_to_the_latest_touch_per_agent_path_and_kind() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        for i in 0..12_000 {
            note_reads(&db, "e", &[format!("src/f{}.rs", i % 10)], i).unwrap();
        }
        let mut t = Touches::lock(&db).unwrap();
        assert!(t.compact(12_000, 1_000_000).unwrap());
        let text = std::fs::read_to_string(log_path(&db)).unwrap();
        assert_eq!(text.lines().count(), 10);
        assert!(text.contains("[11999,\"e\",\"r\",\"src/f9.rs\"]"));
        assert!(!t.compact(12_000, 1_000_000).unwrap(), "small now");
    }
}
