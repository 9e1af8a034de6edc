//! The parsed index of local archive files: per file (keyed by canonical path, size and
//! modification time) the summary of each record and where it lies, so that reopening an
//! archive skips decompressing and parsing files that did not change. Raw records are still
//! read from the files themselves when they are shown.
//!
//! The encoding is this crate's own and names its fields (see `model::summary::SUMMARY_FIELDS`), so it
//! does not depend on how events are laid out in memory:
//!
//! ```text
//! "TSIX" u8:version u8:kind u64:bytes str?:partial
//! u16:nfields (u8:len name u8:inline)*  the string fields of each record, by name
//! u32:nstrings (u32:len utf8)*          the file's distinct strings
//! u32:nrecords record*
//! record = field * nfields  i64:time  u8:readonly(0 unknown, 1 false, 2 true)
//! field  = u32:string-index, or for an inline field (one unique per record: ids) u32:len utf8
//!          u8:has-event-id  u64:offset  u32:len  u8:escaped  u64:raw-hash  u32:nres (u32:string-index)*
//!          u32:npar (u32:string-index)*   requestParameters' strings; npar's top bit: more
//! ```
//! All integers little-endian; `str?` is u32:len (0xffffffff: none) then the bytes.

use super::Result;
use crate::model::raw::ByteSpan;
use crate::model::summary::{Summary, SUMMARY_FIELDS};
use crate::model::wire::Reader;
use rusqlite::{params, Connection, OptionalExtension};
use std::borrow::Cow;

const MAGIC: &[u8; 4] = b"TSIX";
const VERSION: u8 = 4;
/// In a record's count of requestParameters strings: the record holds more than are kept.
const MORE: u32 = 1 << 31;
/// Fields whose values are unique per record: written in place, not through the string table.
const INLINE: [&str; 2] = ["event_id", "request_id"];
const NONE: u32 = u32::MAX;

/// A file's identity for the index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FileKey {
    /// The canonical path.
    pub path: String,
    /// Bytes on disk.
    pub size: i64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
}

/// What the index holds about a file besides its records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// `InputKind` as its code (see `InputKind::code`).
    pub kind: u8,
    /// Parts of the file that were skipped when it was parsed (reported again on reopen).
    pub partial: Option<String>,
    /// Bytes of decompressed content.
    pub bytes: u64,
    /// Records indexed.
    pub records: u32,
}

/// Encodes one file's summaries.
#[derive(Default)]
pub struct IndexWriter {
    strings: foldhash::HashMap<Box<str>, u32>,
    table: Vec<u8>,
    records: Vec<u8>,
    count: u32,
}

impl IndexWriter {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    fn string(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.strings.get(s) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.table.extend((s.len() as u32).to_le_bytes());
        self.table.extend(s.as_bytes());
        self.strings.insert(s.into(), i);
        i
    }

    /// Adds one record's summary.
    pub fn push(&mut self, s: &Summary<'_>) {
        for (f, name) in s.strs.iter().zip(SUMMARY_FIELDS) {
            if INLINE.contains(&name) {
                self.records.extend((f.len() as u32).to_le_bytes());
                self.records.extend(f.as_bytes());
            } else {
                let i = self.string(f);
                self.records.extend(i.to_le_bytes());
            }
        }
        self.records.extend(s.time.to_le_bytes());
        self.records.push(match s.read_only {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
        self.records.push(s.has_event_id as u8);
        self.records.extend(s.span.offset.to_le_bytes());
        self.records.extend(s.span.len.to_le_bytes());
        self.records.push(s.span.escaped as u8);
        self.records.extend(s.raw_hash.to_le_bytes());
        self.records.extend((s.resources.len() as u32).to_le_bytes());
        for r in &s.resources {
            let i = self.string(r);
            self.records.extend(i.to_le_bytes());
        }
        self.records.extend((s.params.len() as u32 | if s.more_params { MORE } else { 0 }).to_le_bytes());
        for p in &s.params {
            let i = self.string(p);
            self.records.extend(i.to_le_bytes());
        }
        self.count += 1;
    }

    /// Records added.
    pub fn len(&self) -> u32 {
        self.count
    }

    /// No record added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The encoded index of a file of `kind` (see `InputKind::code`) holding `bytes` of
    /// decompressed content, with what was skipped when it was parsed.
    pub fn finish(self, kind: u8, partial: Option<&str>, bytes: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.table.len() + self.records.len());
        out.extend(MAGIC);
        out.push(VERSION);
        out.push(kind);
        out.extend(bytes.to_le_bytes());
        match partial {
            Some(p) => {
                out.extend((p.len() as u32).to_le_bytes());
                out.extend(p.as_bytes());
            }
            None => out.extend(NONE.to_le_bytes()),
        }
        out.extend((SUMMARY_FIELDS.len() as u16).to_le_bytes());
        for name in SUMMARY_FIELDS {
            out.push(name.len() as u8);
            out.extend(name.as_bytes());
            out.push(INLINE.contains(&name) as u8);
        }
        out.extend((self.strings.len() as u32).to_le_bytes());
        out.extend(&self.table);
        out.extend(self.count.to_le_bytes());
        out.extend(&self.records);
        out
    }
}

/// Where a decoded summary's strings are in the file's table of distinct strings, so that a
/// reader can take each distinct string once: per field of the summary, per resource ARN and
/// per requestParameters string. [`StringRefs::NOT_IN_TABLE`] for a field written in place.
#[derive(Clone, Debug)]
pub struct StringRefs {
    /// By [`SUMMARY_FIELDS`] position.
    pub strs: [u32; SUMMARY_FIELDS.len()],
    /// By position in the summary's `resources`.
    pub resources: Vec<u32>,
    /// By position in the summary's `params`.
    pub params: Vec<u32>,
}

impl StringRefs {
    /// A string that is not in the file's table.
    pub const NOT_IN_TABLE: u32 = u32::MAX;
}

impl Default for StringRefs {
    fn default() -> Self {
        Self { strs: [Self::NOT_IN_TABLE; SUMMARY_FIELDS.len()], resources: Vec::new(), params: Vec::new() }
    }
}

/// Decodes an index, handing each record's summary to `on`, with where its strings are in the
/// file's table. `None` when the blob is not a readable index (then the file is parsed again).
pub fn decode(blob: &[u8], on: &mut dyn FnMut(&Summary<'_>, &StringRefs)) -> Option<FileInfo> {
    let mut r = Reader::new(blob);
    if r.bytes(4)? != MAGIC || r.u8()? != VERSION {
        return None;
    }
    let kind = r.u8()?;
    let bytes = r.u64()?;
    let partial = match r.u32()? {
        NONE => None,
        n => Some(r.str(n as usize)?.to_string()),
    };
    let nfields = r.u16()? as usize;
    // Where each stored field goes in this build's summary (None: a field it does not know),
    // and whether it is written in place.
    let mut slots = Vec::with_capacity(nfields);
    for _ in 0..nfields {
        let len = r.u8()? as usize;
        let name = r.str(len)?;
        let inline = r.u8()? != 0;
        slots.push((SUMMARY_FIELDS.iter().position(|f| *f == name), inline));
    }
    let nstrings = r.u32()? as usize;
    let mut strings: Vec<&str> = Vec::with_capacity(nstrings.min(blob.len()));
    for _ in 0..nstrings {
        let len = r.u32()? as usize;
        strings.push(r.str(len)?);
    }
    let count = r.u32()?;
    let string = |i: u32| strings.get(i as usize).copied();
    let mut s = Summary::default();
    let mut refs = StringRefs::default();
    for _ in 0..count {
        for &(slot, inline) in &slots {
            let (v, at) = if inline {
                let len = r.u32()? as usize;
                (r.str(len)?, StringRefs::NOT_IN_TABLE)
            } else {
                let at = r.u32()?;
                (string(at)?, at)
            };
            if let Some(k) = slot {
                s.strs[k] = Cow::Borrowed(v);
                refs.strs[k] = at;
            }
        }
        s.time = r.u64()? as i64;
        s.read_only = match r.u8()? {
            1 => Some(false),
            2 => Some(true),
            _ => None,
        };
        s.has_event_id = r.u8()? != 0;
        let offset = r.u64()?;
        let len = r.u32()?;
        let escaped = r.u8()? != 0;
        s.span = ByteSpan { offset, len, escaped };
        s.raw_hash = r.u64()?;
        let nres = r.u32()? as usize;
        s.resources.clear();
        refs.resources.clear();
        for _ in 0..nres {
            let at = r.u32()?;
            s.resources.push(Cow::Borrowed(string(at)?));
            refs.resources.push(at);
        }
        let npar = r.u32()?;
        s.more_params = npar & MORE != 0;
        s.params.clear();
        refs.params.clear();
        for _ in 0..npar & !MORE {
            let at = r.u32()?;
            s.params.push(Cow::Borrowed(string(at)?));
            refs.params.push(at);
        }
        on(&s, &refs);
    }
    r.is_done().then_some(FileInfo { kind, partial, bytes, records: count })
}

/// The stored index of a file, if it is the file's current one.
pub fn get(conn: &Connection, key: &FileKey) -> Result<Option<Vec<u8>>> {
    let mut st =
        conn.prepare_cached("SELECT summary FROM archive_files WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3")?;
    Ok(st.query_row(params![key.path, key.size, key.mtime_ns], |r| r.get(0)).optional()?)
}

/// Stores new indexes and marks reused ones as used now, in one transaction.
pub fn put(conn: &mut Connection, new: &[(FileKey, u32, Vec<u8>)], used: &[FileKey]) -> Result<()> {
    let now = crate::model::time::now_ms();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    insert(&tx, new, used, now)?;
    Ok(tx.commit()?)
}

fn insert(tx: &Connection, new: &[(FileKey, u32, Vec<u8>)], used: &[FileKey], now: i64) -> Result<()> {
    {
        let mut ins = tx.prepare_cached(
            "INSERT OR REPLACE INTO archive_files (path, size, mtime_ns, used_ms, records, summary)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (k, records, blob) in new {
            ins.execute(params![k.path, k.size, k.mtime_ns, now, records, blob])?;
        }
        let mut touch = tx.prepare_cached("UPDATE archive_files SET used_ms = ?2 WHERE path = ?1")?;
        for k in used {
            touch.execute(params![k.path, now])?;
        }
    }
    Ok(())
}

/// Drops every archive index.
pub(crate) fn clear(conn: &Connection) -> Result<()> {
    conn.execute("DELETE FROM archive_files", [])?;
    Ok(())
}

/// (files, records, bytes of their indexes) indexed.
pub(crate) fn counts(conn: &Connection) -> Result<(u64, u64, u64)> {
    Ok(conn.query_row(
        "SELECT count(*), coalesce(sum(records), 0), coalesce(sum(length(summary)), 0) FROM archive_files",
        [],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64)),
    )?)
}

/// [`put`] under the store's size limit `max_bytes`: the indexes least recently used before
/// `keep_since_ms` (not those of the files being loaded now) are dropped to make room. When
/// the new indexes do not fit even so, none of them is stored (the used ones are still marked
/// used); whether they were.
pub fn put_within(
    conn: &mut Connection,
    new: &[(FileKey, u32, Vec<u8>)],
    used: &[FileKey],
    max_bytes: u64,
    keep_since_ms: i64,
) -> Result<bool> {
    let now = crate::model::time::now_ms();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    insert(&tx, new, used, now)?;
    loop {
        if super::used_bytes(&tx)? <= max_bytes {
            tx.commit()?;
            return Ok(true);
        }
        // The oldest quarter of what is left, at least one: a few rounds, not one per file.
        let older: i64 =
            tx.query_row("SELECT count(*) FROM archive_files WHERE used_ms < ?1", [keep_since_ms], |r| r.get(0))?;
        if older == 0 {
            break;
        }
        tx.execute(
            "DELETE FROM archive_files WHERE path IN
               (SELECT path FROM archive_files WHERE used_ms < ?1 ORDER BY used_ms LIMIT ?2)",
            params![keep_since_ms, (older / 4).max(1)],
        )?;
    }
    drop(tx);
    put(conn, &[], used)?;
    Ok(false)
}

/// Drops the indexes of files not used since `cutoff_ms`; returns how many.
pub(crate) fn prune_unused(conn: &Connection, cutoff_ms: i64) -> Result<u64> {
    Ok(conn.execute("DELETE FROM archive_files WHERE used_ms < ?1", [cutoff_ms])? as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(i: u32) -> Summary<'static> {
        let mut s = Summary::default();
        for (k, f) in s.strs.iter_mut().enumerate() {
            *f = Cow::Owned(if k % 3 == 0 { format!("v{k}") } else { format!("v{k}-{i}") });
        }
        s.has_event_id = i % 2 == 0;
        s.time = 1_700_000_000_000 + i as i64;
        s.read_only = [None, Some(false), Some(true)][i as usize % 3];
        s.resources = (0..i % 3).map(|r| Cow::Owned(format!("arn:{r}"))).collect();
        s.params = (0..i % 4).map(|r| Cow::Owned(format!("param-{r}-{}", i % 5))).collect();
        s.more_params = i % 7 == 0;
        s.span = ByteSpan { offset: 10 * i as u64, len: 9, escaped: i % 2 == 1 };
        s.raw_hash = 0xdead_beef ^ i as u64;
        s
    }

    #[test]
    fn round_trip() {
        let mut w = IndexWriter::new();
        let want: Vec<Summary> = (0..50).map(summary).collect();
        want.iter().for_each(|s| w.push(s));
        let blob = w.finish(3, Some("1 part(s) skipped: x"), 12345);
        let mut got = Vec::new();
        let info = decode(&blob, &mut |s, _| {
            let owned = Summary {
                strs: s.strs.clone().map(|c| Cow::Owned(c.into_owned())),
                resources: s.resources.iter().map(|c| Cow::Owned(c.to_string())).collect(),
                params: s.params.iter().map(|c| Cow::Owned(c.to_string())).collect(),
                ..s.clone()
            };
            got.push(owned)
        })
        .unwrap();
        assert_eq!(info, FileInfo { kind: 3, partial: Some("1 part(s) skipped: x".into()), bytes: 12345, records: 50 });
        assert_eq!(got, want);
    }

    #[test]
    fn damage_is_refused_not_misread() {
        let mut w = IndexWriter::new();
        (0..5).for_each(|i| w.push(&summary(i)));
        let blob = w.finish(0, None, 1);
        for cut in [0, 3, 10, blob.len() / 2, blob.len() - 1] {
            assert!(decode(&blob[..cut], &mut |_, _| {}).is_none(), "cut at {cut}");
        }
        let mut bad = blob.clone();
        bad[4] = 99;
        assert!(decode(&bad, &mut |_, _| {}).is_none(), "another version");
    }
}
