//! The local store: a SQLite database of the events fetched from LookupEvents, which time
//! spans each lookup has fetched completely, and (see [`files`]) the parsed index of local
//! archive files.
//!
//! Events are stored once, keyed by (account, region, EventId), with their summary columns
//! indexed. A *lookup* is what one LookupEvents query is about: the identity it runs as (see
//! `source::lookup::scope_of`), the region, the category and the lookup attribute (or none).
//! For each lookup the store keeps the events it returned (`lookup_events`) and the spans it has
//! fetched completely (`coverage`). Coverage and events only ever change together, in one
//! transaction: a fetched page with the span it completes ([`Store::commit_page`]), a prune or
//! an eviction with the coverage it takes away. A crash at any moment leaves a consistent
//! store, and a fetch never claims a span whose events another process removed meanwhile
//! (see [`PageFetch`]). Readers take coverage and events from one snapshot
//! ([`Store::snapshot`]).
//!
//! The database lives on the thread that uses it (the live thread, the loader thread, a
//! `trailscope cache` command), never on the UI thread. Several processes may share it: WAL,
//! a busy timeout, and write transactions that take the lock up front. A cache that cannot be
//! written can still be read ([`Store::open_for_reading`]).

#![warn(missing_docs)]

pub mod coverage;
mod error;
pub mod files;
pub mod loads;
mod open;
mod read;
pub mod s3;
mod schema;
mod write;

pub use error::{Result, StoreError};
pub use read::LookupBody;
pub use write::{Committed, PageFetch};

use coverage::Covered;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};

/// The database file inside the cache directory.
pub const DB_NAME: &str = "cache.db";
/// The default size limit of the database.
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;

/// Where the store is and how large it may grow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// The cache directory (the database is [`DB_NAME`] in it).
    pub dir: PathBuf,
    /// The size limit, in bytes of database pages in use.
    pub max_bytes: u64,
}

/// `$XDG_CACHE_HOME/trailscope`, else `~/.cache/trailscope`.
pub fn default_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).filter(|p| p.is_absolute());
    let base =
        xdg.or_else(|| std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("trailscope"))
}

/// What a lookup is about (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LookupKey {
    /// Who the queries run as, and against which endpoint (`source::lookup::scope_of`).
    pub scope: String,
    /// The AWS region asked.
    pub region: String,
    /// "management" or "insight".
    pub category: String,
    /// The lookup attribute's wire name; empty for none.
    pub attr_key: String,
    /// The lookup attribute's value; empty for none.
    pub attr_value: String,
}

/// One event as stored: the summary columns and the record itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredEvent {
    /// recipientAccountId, else userIdentity.accountId.
    pub account: String,
    /// EventId.
    pub event_id: String,
    /// Event time, milliseconds since the epoch.
    pub time_ms: i64,
    /// EventName.
    pub event_name: String,
    /// EventSource.
    pub event_source: String,
    /// Username.
    pub username: String,
    /// AccessKeyId.
    pub access_key_id: String,
    /// ReadOnly, as LookupEvents gives it ("true", "false" or empty).
    pub read_only: String,
    /// errorCode of the record.
    pub error_code: String,
    /// eventCategory of the record.
    pub category: String,
    /// The CloudTrail record, as LookupEvents returns it (`CloudTrailEvent`).
    pub cloudtrail_event: String,
}

impl StoredEvent {
    /// Fills the columns that come from the record itself (account, error, category).
    pub fn fill_from_record(&mut self) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&self.cloudtrail_event) else { return };
        let s = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        self.account = s(&v, "recipientAccountId");
        if self.account.is_empty() {
            self.account = v.get("userIdentity").map(|u| s(u, "accountId")).unwrap_or_default();
        }
        self.error_code = s(&v, "errorCode");
        self.category = s(&v, "eventCategory");
        if self.event_source.is_empty() {
            self.event_source = s(&v, "eventSource");
        }
    }
}

/// What `trailscope cache stats` shows.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// The database file.
    pub path: PathBuf,
    /// The database and its write-ahead log, on disk.
    pub file_bytes: u64,
    /// Database pages in use (what the size limit counts).
    pub used_bytes: u64,
    /// The schema version.
    pub schema: i64,
    /// Events stored.
    pub events: u64,
    /// The oldest event time.
    pub oldest_ms: Option<i64>,
    /// The newest event time.
    pub newest_ms: Option<i64>,
    /// (account, events)
    pub accounts: Vec<(String, u64)>,
    /// (lookup, events in it, covered spans)
    pub lookups: Vec<(LookupKey, u64, Vec<Covered>)>,
    /// Archive files indexed.
    pub archive_files: u64,
    /// Records in the archive files indexed.
    pub archive_records: u64,
    /// Bytes of the archive index (its share of what the size limit counts, before SQLite's
    /// own overhead).
    pub archive_bytes: u64,
}

/// An open store (see the module documentation).
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The size limit that commits keep to (see [`Store::enforce_limit`]).
    max_bytes: u64,
}

impl Store {
    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The id of a lookup, created if `create`.
    pub fn lookup_id(&self, key: &LookupKey, create: bool) -> Result<Option<i64>> {
        if create {
            self.conn.execute(
                "INSERT OR IGNORE INTO lookups (scope, region, category, attr_key, attr_value) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![key.scope, key.region, key.category, key.attr_key, key.attr_value],
            )?;
        }
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM lookups WHERE scope = ?1 AND region = ?2 AND category = ?3 AND attr_key = ?4 AND attr_value = ?5",
                params![key.scope, key.region, key.category, key.attr_key, key.attr_value],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The regions the store has lookups for, under `scope`.
    pub fn regions(&self, scope: &str) -> Result<Vec<String>> {
        let mut st = self.conn.prepare("SELECT DISTINCT region FROM lookups WHERE scope = ?1 ORDER BY region")?;
        let rows = st.query_map([scope], |r| r.get(0))?.collect::<std::result::Result<Vec<String>, _>>()?;
        Ok(rows)
    }

    /// The spans a lookup has fetched completely, oldest first.
    pub fn coverage(&self, lookup: i64) -> Result<Vec<Covered>> {
        coverage_of(&self.conn, lookup)
    }

    /// Runs `f` on one snapshot of the database: the coverage it reads and the events it then
    /// reads are of the same moment, whatever other processes commit meanwhile. `f` must
    /// only read.
    pub fn snapshot<R>(&self, f: impl FnOnce(&Store) -> Result<R>) -> Result<R> {
        let tx = self.conn.unchecked_transaction()?;
        let r = f(self)?;
        tx.commit()?;
        Ok(r)
    }

    /// The connection, for the archive index.
    pub(crate) fn conn(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Checks the whole database (`PRAGMA integrity_check`); `Ok(())` when sound.
    pub fn check(&self) -> Result<()> {
        let mut st = self.conn.prepare("PRAGMA integrity_check")?;
        let rows: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<std::result::Result<_, _>>()?;
        if rows.len() == 1 && rows[0] == "ok" {
            Ok(())
        } else {
            Err(StoreError::Integrity(rows.join("; ")))
        }
    }
}

fn coverage_of(conn: &Connection, lookup: i64) -> Result<Vec<Covered>> {
    let mut st =
        conn.prepare_cached("SELECT start_ms, end_ms, fetched_ms FROM coverage WHERE lookup = ?1 ORDER BY start_ms")?;
    let rows = st
        .query_map([lookup], |r| Ok(Covered { start: r.get(0)?, end: r.get(1)?, fetched: r.get(2)? }))?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The database's bytes on disk in the cache directory `dir`, with its write-ahead log.
pub(crate) fn database_bytes(dir: &Path) -> u64 {
    [DB_NAME.to_string(), format!("{DB_NAME}-wal")]
        .iter()
        .filter_map(|n| std::fs::metadata(dir.join(n)).ok())
        .map(|m| m.len())
        .sum()
}

/// Bytes of database pages in use (not free ones).
fn used_bytes(conn: &Connection) -> Result<u64> {
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok(((pages - free).max(0) * size) as u64)
}

fn set_coverage(conn: &Connection, lookup: i64, rows: &[Covered]) -> Result<()> {
    conn.execute("DELETE FROM coverage WHERE lookup = ?1", [lookup])?;
    let mut st =
        conn.prepare_cached("INSERT INTO coverage (lookup, start_ms, end_ms, fetched_ms) VALUES (?1, ?2, ?3, ?4)")?;
    for r in rows {
        st.execute(params![lookup, r.start, r.end, r.fetched])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
