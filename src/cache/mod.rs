//! The local store: a SQLite database of the events fetched from LookupEvents, which time
//! spans each lookup has fetched completely, and (see [`files`]) the parsed index of local
//! archive files.
//!
//! Events are stored once, keyed by (account, region, EventId), with their summary columns
//! indexed. A *lookup* is what one LookupEvents query is about: the identity it runs as (see
//! `source::lookup::scope_of`), the region, the category and the lookup attribute (or none).
//! For each lookup the store keeps the events it returned (`lookup_events`) and the spans it has
//! fetched completely (`coverage`). Every fetched page is committed in one transaction together
//! with the coverage it adds, so a crash at any moment leaves a consistent store.
//!
//! The database lives on the thread that uses it (the live thread, the loader thread, a
//! `trailscope cache` command), never on the UI thread. Several processes may share it: WAL,
//! a busy timeout, and write transactions that take the lock up front.

pub mod coverage;
pub mod files;
pub mod s3;
mod schema;

use coverage::{Covered, TimeSpan};
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The database file inside the cache directory.
pub const DB_NAME: &str = "cache.db";
/// The default size limit of the database.
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;
/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the store is and how large it may grow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    pub dir: PathBuf,
    pub max_bytes: u64,
}

/// `$XDG_CACHE_HOME/trailscope`, else `~/.cache/trailscope`.
pub fn default_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).filter(|p| p.is_absolute());
    let base =
        xdg.or_else(|| std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("trailscope"))
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Sql(#[from] rusqlite::Error),
    #[error("{what}: {reason}")]
    Io { what: String, reason: String },
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    fn io(what: impl Into<String>, e: &std::io::Error) -> StoreError {
        StoreError::Io { what: what.into(), reason: crate::model::raw::io_reason(e) }
    }
    /// The database file is damaged or not a database at all.
    pub fn is_corrupt(&self) -> bool {
        matches!(self, StoreError::Sql(e) if matches!(e.sqlite_error_code(), Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)))
    }
}

type Result<T> = std::result::Result<T, StoreError>;

/// What a lookup is about (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LookupKey {
    pub scope: String,
    pub region: String,
    /// "management" or "insight".
    pub category: String,
    /// The lookup attribute's wire name and value; empty for none.
    pub attr_key: String,
    pub attr_value: String,
}

/// One event as stored: the summary columns and the record itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredEvent {
    pub account: String,
    pub event_id: String,
    pub time_ms: i64,
    pub event_name: String,
    pub event_source: String,
    pub username: String,
    pub access_key_id: String,
    pub read_only: String,
    pub error_code: String,
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
    pub path: PathBuf,
    pub file_bytes: u64,
    pub used_bytes: u64,
    pub schema: i64,
    pub events: u64,
    pub oldest_ms: Option<i64>,
    pub newest_ms: Option<i64>,
    /// (account, events)
    pub accounts: Vec<(String, u64)>,
    /// (lookup, events in it, covered spans)
    pub lookups: Vec<(LookupKey, u64, Vec<Covered>)>,
    pub archive_files: u64,
    pub archive_records: u64,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// Creates `dir` (0700 when it is created here) and the database file (0600) if missing.
fn prepare_files(dir: &Path, db: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        if !dir.is_dir() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| StoreError::io(format!("cannot create {}", dir.display()), &e))?;
            // The mode given to mkdir is reduced by the umask; say it exactly.
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| StoreError::io(format!("cannot restrict {}", dir.display()), &e))?;
        }
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(db) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(StoreError::io(format!("cannot create {}", db.display()), &e)),
        }
        let meta = std::fs::metadata(db).map_err(|e| StoreError::io(format!("cannot read {}", db.display()), &e))?;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(db, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| StoreError::io(format!("cannot restrict {}", db.display()), &e))?;
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(format!("cannot create {}", dir.display()), &e))?;
    Ok(())
}

/// Moves a damaged database (and its WAL) aside, keeping it for inspection; returns where.
fn move_aside(db: &Path) -> std::io::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut n = 0;
    let target = loop {
        let suffix = if n == 0 { format!("corrupt-{stamp}") } else { format!("corrupt-{stamp}-{n}") };
        let t = db.with_file_name(format!("{DB_NAME}.{suffix}"));
        if !t.exists() {
            break t;
        }
        n += 1;
    };
    std::fs::rename(db, &target)?;
    for ext in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{ext}", db.display()));
        if side.exists() {
            let _ = std::fs::rename(&side, PathBuf::from(format!("{}{ext}", target.display())));
        }
    }
    Ok(target)
}

impl Store {
    /// Opens (creating, migrating) the store in `dir`. A damaged database is moved aside
    /// and a new one started, with a warning in `warnings`; it is never deleted.
    pub fn open(dir: &Path, warnings: &mut Vec<String>) -> Result<Store> {
        let db = dir.join(DB_NAME);
        prepare_files(dir, &db)?;
        match Store::open_file(&db) {
            Err(e) if e.is_corrupt() => {
                let moved = move_aside(&db).map_err(|io| {
                    StoreError::io(
                        format!("the cache {} is damaged ({e}) and cannot be moved aside", db.display()),
                        &io,
                    )
                })?;
                warnings.push(format!(
                    "the cache database {} could not be read ({e}); it was moved to {} and a new one was started",
                    db.display(),
                    moved.display()
                ));
                prepare_files(dir, &db)?;
                Store::open_file(&db)
            }
            other => other,
        }
    }

    fn open_file(db: &Path) -> Result<Store> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(db, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Reading the schema is what finds a file that is not a database.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Other(format!("the cache cannot use WAL mode (journal mode {mode})")));
        }
        // With WAL, NORMAL keeps the database consistent after a crash; at worst the last
        // transactions before a power loss are lost, and they are fetched again.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let mut store = Store { conn, path: db.to_path_buf() };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > schema::latest() {
            return Err(StoreError::Other(format!(
                "the cache {} was written by a newer trailscope (schema {version}, this one knows {}); \
                 it is left as it is",
                self.path.display(),
                schema::latest()
            )));
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Another process may have migrated while this one waited for the lock.
            let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if now > i as i64 {
                continue;
            }
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

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

    /// Stores one fetched page and the span it completes, in one transaction.
    pub fn commit_page(
        &mut self,
        lookup: i64,
        region: &str,
        events: &[StoredEvent],
        covered: Option<Covered>,
    ) -> Result<()> {
        let stored = crate::model::time::now_ms();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (account, region, event_id, time_ms, event_name, event_source, username,
                    access_key_id, read_only, error_code, category, stored_ms, cloudtrail_event)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (account, region, event_id) DO UPDATE SET stored_ms = excluded.stored_ms
                 RETURNING id",
            )?;
            let mut link =
                tx.prepare_cached("INSERT OR IGNORE INTO lookup_events (lookup, time_ms, event) VALUES (?1, ?2, ?3)")?;
            for e in events {
                let id: i64 = insert.query_row(
                    params![
                        e.account,
                        region,
                        e.event_id,
                        e.time_ms,
                        e.event_name,
                        e.event_source,
                        e.username,
                        e.access_key_id,
                        e.read_only,
                        e.error_code,
                        e.category,
                        stored,
                        e.cloudtrail_event
                    ],
                    |r| r.get(0),
                )?;
                link.execute(params![lookup, e.time_ms, id])?;
            }
        }
        if let Some(c) = covered {
            let rows = coverage::add(&coverage_of(&tx, lookup)?, c);
            set_coverage(&tx, lookup, &rows)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The events a lookup returned within `span`, newest first (then by EventId, as the
    /// service orders them), as lookup-events output
    /// bodies of at most `chunk` events each (at least one body, maybe empty).
    pub fn read_window(
        &self,
        lookup: i64,
        span: TimeSpan,
        chunk: usize,
        out: &mut dyn FnMut(Vec<u8>, usize),
    ) -> Result<usize> {
        // The index gives time order; ties (events of the same second) are put in EventId
        // order here rather than by SQLite, which would sort the whole window.
        let mut st = self.conn.prepare_cached(
            "SELECT e.event_id, e.event_name, e.time_ms, e.cloudtrail_event
             FROM lookup_events l JOIN events e ON e.id = l.event
             WHERE l.lookup = ?1 AND l.time_ms BETWEEN ?2 AND ?3
             ORDER BY l.time_ms DESC",
        )?;
        let mut rows = st.query(params![lookup, span.start, span.end])?;
        let mut body = LookupBody::new();
        let mut total = 0;
        let mut same_time: Vec<(String, String, i64, String)> = Vec::new();
        let mut flush = |same: &mut Vec<(String, String, i64, String)>, body: &mut LookupBody| {
            same.sort_by(|a, b| a.0.cmp(&b.0));
            for (id, name, time, record) in same.drain(..) {
                body.push(&id, &name, time, &record);
                if body.count >= chunk.max(1) {
                    let n = body.count;
                    out(std::mem::take(body).finish(), n);
                }
            }
        };
        while let Some(r) = rows.next()? {
            let time: i64 = r.get(2)?;
            if same_time.first().is_some_and(|f| f.2 != time) {
                flush(&mut same_time, &mut body);
            }
            same_time.push((r.get(0)?, r.get(1)?, time, r.get(3)?));
            total += 1;
        }
        flush(&mut same_time, &mut body);
        if body.count > 0 || total == 0 {
            let n = body.count;
            out(body.finish(), n);
        }
        Ok(total)
    }

    /// Bytes the database uses (pages in use, not free ones).
    pub fn used_bytes(&self) -> Result<u64> {
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let free: i64 = self.conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
        let size: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok(((pages - free).max(0) * size) as u64)
    }

    /// Removes events older than `cutoff_ms` (event time) and the coverage that described
    /// them; returns how many events went.
    pub fn prune_before(&mut self, cutoff_ms: i64) -> Result<u64> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM lookup_events WHERE time_ms < ?1", [cutoff_ms])?;
        let n = tx.execute("DELETE FROM events WHERE time_ms < ?1", [cutoff_ms])? as u64;
        let lookups: Vec<i64> = {
            let mut st = tx.prepare("SELECT DISTINCT lookup FROM coverage WHERE start_ms < ?1")?;
            let ids = st.query_map([cutoff_ms], |r| r.get(0))?.collect::<std::result::Result<Vec<i64>, _>>()?;
            ids
        };
        for l in lookups {
            let rows = coverage::clip_before(&coverage_of(&tx, l)?, cutoff_ms);
            set_coverage(&tx, l, &rows)?;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Keeps the database under `max_bytes`: when over, the oldest events go until it uses
    /// about 80% of it. Returns how many events were removed.
    pub fn enforce_limit(&mut self, max_bytes: u64) -> Result<u64> {
        let used = self.used_bytes()?;
        if used <= max_bytes {
            return Ok(0);
        }
        let events: i64 = self.conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
        if events == 0 {
            // Only the archive index takes space: drop it, it is rebuilt on the next load.
            files::clear(&self.conn)?;
            return Ok(0);
        }
        let target = max_bytes as f64 * 0.8;
        let drop = ((events as f64) * (1.0 - target / used as f64)).ceil().clamp(1.0, events as f64) as i64;
        let cutoff: i64 =
            self.conn
                .query_row("SELECT time_ms FROM events ORDER BY time_ms LIMIT 1 OFFSET ?1", [drop - 1], |r| r.get(0))?;
        self.prune_before(cutoff + 1)
    }

    /// Empties the store (events, coverage, archive index) and gives the space back.
    pub fn clear(&mut self) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch("DELETE FROM lookup_events; DELETE FROM coverage; DELETE FROM lookups; DELETE FROM events;")?;
        files::clear(&tx)?;
        s3::clear(&tx)?;
        tx.commit()?;
        self.vacuum()
    }

    /// Gives free pages back to the file system.
    pub fn vacuum(&mut self) -> Result<()> {
        self.conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }

    pub fn stats(&self) -> Result<Stats> {
        let c = &self.conn;
        let file_bytes = [DB_NAME.to_string(), format!("{DB_NAME}-wal")]
            .iter()
            .filter_map(|n| std::fs::metadata(self.path.with_file_name(n)).ok())
            .map(|m| m.len())
            .sum();
        let (events, oldest_ms, newest_ms): (i64, Option<i64>, Option<i64>) =
            c.query_row("SELECT count(*), min(time_ms), max(time_ms) FROM events", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        let accounts = {
            let mut st = c.prepare("SELECT account, count(*) FROM events GROUP BY account ORDER BY account")?;
            let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
            rows.collect::<std::result::Result<Vec<_>, _>>()?
        };
        let mut lookups = Vec::new();
        {
            let mut st = c.prepare(
                "SELECT id, scope, region, category, attr_key, attr_value,
                    (SELECT count(*) FROM lookup_events WHERE lookup = lookups.id)
                 FROM lookups ORDER BY scope, region, category, attr_key, attr_value",
            )?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    LookupKey {
                        scope: r.get(1)?,
                        region: r.get(2)?,
                        category: r.get(3)?,
                        attr_key: r.get(4)?,
                        attr_value: r.get(5)?,
                    },
                    r.get::<_, i64>(6)? as u64,
                ))
            })?;
            for row in rows {
                let (id, key, n) = row?;
                lookups.push((key, n, coverage_of(c, id)?));
            }
        }
        let (archive_files, archive_records) = files::counts(c)?;
        Ok(Stats {
            path: self.path.clone(),
            file_bytes,
            used_bytes: self.used_bytes()?,
            schema: c.query_row("PRAGMA user_version", [], |r| r.get(0))?,
            events: events as u64,
            oldest_ms,
            newest_ms,
            accounts,
            lookups,
            archive_files,
            archive_records,
        })
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
            Err(StoreError::Other(rows.join("; ")))
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

fn set_coverage(conn: &Connection, lookup: i64, rows: &[Covered]) -> Result<()> {
    conn.execute("DELETE FROM coverage WHERE lookup = ?1", [lookup])?;
    let mut st =
        conn.prepare_cached("INSERT INTO coverage (lookup, start_ms, end_ms, fetched_ms) VALUES (?1, ?2, ?3, ?4)")?;
    for r in rows {
        st.execute(params![lookup, r.start, r.end, r.fetched])?;
    }
    Ok(())
}

/// Builds a lookup-events output document (`{"Events":[...]}`), the shape the loader reads
/// for fetched pages, so that stored events take exactly the path fetched ones take.
pub struct LookupBody {
    buf: Vec<u8>,
    count: usize,
}

impl Default for LookupBody {
    fn default() -> Self {
        Self::new()
    }
}

impl LookupBody {
    pub fn new() -> Self {
        LookupBody { buf: b"{\"Events\":[".to_vec(), count: 0 }
    }
    pub fn push(&mut self, event_id: &str, event_name: &str, time_ms: i64, record: &str) {
        if self.count > 0 {
            self.buf.push(b',');
        }
        self.buf.extend_from_slice(b"{\"EventId\":");
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.buf, event_id);
        self.buf.extend_from_slice(b",\"EventName\":");
        let _ = serde_json::to_writer(&mut self.buf, event_name);
        self.buf.extend_from_slice(b",\"EventTime\":");
        let _ = serde_json::to_writer(&mut self.buf, &(time_ms as f64 / 1000.0));
        self.buf.extend_from_slice(b",\"CloudTrailEvent\":");
        let _ = serde_json::to_writer(&mut self.buf, record);
        self.buf.push(b'}');
        self.count += 1;
    }
    pub fn len(&self) -> usize {
        self.count
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(b"]}");
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(attr: &str) -> LookupKey {
        LookupKey {
            scope: "test".into(),
            region: "us-east-1".into(),
            category: "management".into(),
            attr_key: if attr.is_empty() { String::new() } else { "EventName".into() },
            attr_value: attr.into(),
        }
    }

    fn ev(id: &str, t: i64) -> StoredEvent {
        let mut e = StoredEvent {
            event_id: id.into(),
            time_ms: t,
            event_name: "RunInstances".into(),
            cloudtrail_event: format!(
                r#"{{"eventID":"{id}","eventName":"RunInstances","recipientAccountId":"123456789012","eventTime":"x"}}"#
            ),
            ..Default::default()
        };
        e.fill_from_record();
        e
    }

    #[test]
    fn pages_coverage_and_reading_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut warnings = Vec::new();
        let mut s = Store::open(dir.path(), &mut warnings).unwrap();
        assert!(warnings.is_empty());
        let l = s.lookup_id(&key(""), true).unwrap().unwrap();
        assert_eq!(s.lookup_id(&key(""), false).unwrap(), Some(l));
        assert_eq!(s.lookup_id(&key("X"), false).unwrap(), None);
        s.commit_page(
            l,
            "us-east-1",
            &[ev("a", 300), ev("b", 200)],
            Some(Covered { start: 201, end: 400, fetched: 1000 }),
        )
        .unwrap();
        // The same event again (an overlapping fetch) is stored once.
        s.commit_page(
            l,
            "us-east-1",
            &[ev("b", 200), ev("c", 100)],
            Some(Covered { start: 0, end: 400, fetched: 1000 }),
        )
        .unwrap();
        assert_eq!(s.coverage(l).unwrap(), vec![Covered { start: 0, end: 400, fetched: 1000 }]);
        let mut bodies = Vec::new();
        let n = s.read_window(l, TimeSpan::new(150, 400), 1, &mut |b, n| bodies.push((b, n))).unwrap();
        assert_eq!(n, 2);
        assert_eq!(bodies.len(), 2);
        let v: serde_json::Value = serde_json::from_slice(&bodies[0].0).unwrap();
        assert_eq!(v["Events"][0]["EventId"], "a", "newest first");
        assert_eq!(v["Events"][0]["EventTime"], 0.3);
        let st = s.stats().unwrap();
        assert_eq!(st.events, 3);
        assert_eq!(st.accounts, vec![("123456789012".to_string(), 3)]);
        // An empty window still gives one (empty) body.
        let mut bodies = Vec::new();
        s.read_window(l, TimeSpan::new(1000, 2000), 10, &mut |b, n| bodies.push((b, n))).unwrap();
        assert_eq!(bodies.len(), 1);
        assert_eq!(bodies[0].1, 0);
        // Pruning takes the events and the coverage before the cutoff.
        assert_eq!(s.prune_before(150).unwrap(), 1);
        assert_eq!(s.coverage(l).unwrap(), vec![Covered { start: 150, end: 400, fetched: 1000 }]);
        s.check().unwrap();
        s.clear().unwrap();
        assert_eq!(s.stats().unwrap().events, 0);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(DB_NAME);
        std::fs::write(&db, vec![0x5a; 8192]).unwrap();
        let mut warnings = Vec::new();
        let s = Store::open(dir.path(), &mut warnings).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("moved to"), "{warnings:?}");
        let kept: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("cache.db.corrupt-"))
            .collect();
        assert_eq!(kept.len(), 1, "the damaged file is kept");
        assert_eq!(std::fs::read(dir.path().join(&kept[0])).unwrap(), vec![0x5a; 8192]);
        s.check().unwrap();
    }

    #[test]
    fn an_older_schema_is_migrated_and_keeps_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let c = Connection::open(dir.path().join(DB_NAME)).unwrap();
        c.execute_batch(schema::MIGRATIONS[0]).unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        c.execute(
            "INSERT INTO lookups (scope, region, category, attr_key, attr_value) VALUES ('test', 'us-east-1', 'management', '', '')",
            [],
        )
        .unwrap();
        drop(c);
        let s = Store::open(dir.path(), &mut Vec::new()).unwrap();
        let st = s.stats().unwrap();
        assert_eq!(st.schema, schema::latest());
        assert_eq!(st.lookups.len(), 1, "the data of version 1 is still there");
        assert_eq!(st.archive_files, 0, "the tables of version 2 exist");
    }

    #[test]
    fn a_newer_schema_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path(), &mut Vec::new()).unwrap());
        let c = Connection::open(dir.path().join(DB_NAME)).unwrap();
        c.pragma_update(None, "user_version", 999).unwrap();
        drop(c);
        let e = Store::open(dir.path(), &mut Vec::new()).err().unwrap();
        assert!(e.to_string().contains("newer trailscope"), "{e}");
    }

    /// Reading a window out of a store with a million events (run with `--ignored --nocapture`,
    /// in release mode: `cargo test --release --lib million -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn a_window_out_of_a_million_events() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path(), &mut Vec::new()).unwrap();
        let l = s.lookup_id(&key(""), true).unwrap().unwrap();
        let t0 = std::time::Instant::now();
        // A million events over 30 days, in pages of 50, as fetched.
        let step = 30 * 86_400_000 / 1_000_000;
        let record = "x".repeat(900);
        for page in 0..20_000i64 {
            let events: Vec<StoredEvent> = (0..50)
                .map(|i| {
                    let n = page * 50 + i;
                    StoredEvent {
                        account: "123456789012".into(),
                        event_id: format!("{n:036}"),
                        time_ms: n * step,
                        event_name: format!("Name{}", n % 300),
                        event_source: "ec2.amazonaws.com".into(),
                        cloudtrail_event: record.clone(),
                        ..Default::default()
                    }
                })
                .collect();
            let end = (page + 1) * 50 * step - 1;
            s.commit_page(
                l,
                "us-east-1",
                &events,
                Some(Covered { start: page * 50 * step, end, fetched: i64::MAX / 2 }),
            )
            .unwrap();
        }
        eprintln!("stored 1,000,000 events in 20,000 page transactions: {:.1?}", t0.elapsed());
        for (what, hours) in [("one hour", 1), ("one day", 24), ("30 days", 720)] {
            let t = std::time::Instant::now();
            let span = TimeSpan::new(15 * 86_400_000, 15 * 86_400_000 + hours * 3_600_000 - 1);
            let n = s.read_window(l, span, 5000, &mut |_, _| {}).unwrap();
            eprintln!("read {what} ({n} events): {:.1?}", t.elapsed());
        }
        eprintln!("database: {} MB in use", s.used_bytes().unwrap() >> 20);
    }

    #[test]
    fn a_full_disk_is_an_error_and_the_store_stays_consistent() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path(), &mut Vec::new()).unwrap();
        let l = s.lookup_id(&key(""), true).unwrap().unwrap();
        s.commit_page(l, "us-east-1", &[ev("a", 10)], Some(Covered { start: 5, end: 20, fetched: 100 })).unwrap();
        // As if the disk were full: no page may be added any more.
        let pages: i64 = s.conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        let _: i64 = s.conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| r.get(0)).unwrap();
        let many: Vec<StoredEvent> = (0..500).map(|i| ev(&format!("x{i}"), 30 + i)).collect();
        let e = s.commit_page(l, "us-east-1", &many, Some(Covered { start: 21, end: 600, fetched: 100 })).unwrap_err();
        assert!(e.to_string().contains("full"), "{e}");
        // The page and its coverage went together: neither is there.
        assert_eq!(s.coverage(l).unwrap(), vec![Covered { start: 5, end: 20, fetched: 100 }]);
        assert_eq!(s.stats().unwrap().events, 1);
    }

    #[test]
    fn the_size_limit_drops_the_oldest_events() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path(), &mut Vec::new()).unwrap();
        let l = s.lookup_id(&key(""), true).unwrap().unwrap();
        let events: Vec<StoredEvent> = (0..2000).map(|i| ev(&format!("id{i}"), i * 10)).collect();
        s.commit_page(l, "us-east-1", &events, Some(Covered { start: 0, end: 20_000, fetched: 30_000 })).unwrap();
        let used = s.used_bytes().unwrap();
        let removed = s.enforce_limit(used / 2).unwrap();
        assert!(removed > 0);
        assert!(s.used_bytes().unwrap() <= used / 2 + 64 * 1024, "{} > {}", s.used_bytes().unwrap(), used / 2);
        let st = s.stats().unwrap();
        assert_eq!(st.events, 2000 - removed);
        // What remains is the newest, and coverage starts where the kept events do.
        let cov = s.coverage(l).unwrap();
        assert_eq!(cov.len(), 1);
        assert!(cov[0].start > st.oldest_ms.unwrap() - 10 && cov[0].start <= st.oldest_ms.unwrap());
    }
}
