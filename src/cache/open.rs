//! Opening the store: a private directory and file, a damaged database moved aside, another
//! application's database left alone, migrations, and reading a cache that cannot be written.

use super::{schema, Result, Store, StoreError, DB_NAME};
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// The oldest schema that a read-only store can read as it is: every table the reading paths
/// use exists from it on.
const READABLE_FROM: i64 = 2;
/// Tables every trailscope cache has (from schema 1).
const OWN_TABLES: [&str; 4] = ["coverage", "events", "lookup_events", "lookups"];

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
                .map_err(|e| StoreError::io("create", dir, e))?;
            // The mode given to mkdir is reduced by the umask; say it exactly.
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| StoreError::io("restrict", dir, e))?;
        }
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(db) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(StoreError::io("create", db, e)),
        }
        let meta = std::fs::metadata(db).map_err(|e| StoreError::io("read", db, e))?;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(db, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| StoreError::io("restrict", db, e))?;
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io("create", dir, e))?;
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

/// Refuses a database that is not a trailscope cache: one with tables, but not the cache's
/// (or not at a schema version of the cache's). An empty database is taken as a new cache.
fn check_ours(conn: &Connection, db: &Path) -> Result<()> {
    // The version and the tables are read in one transaction: another process that creates
    // the cache meanwhile is seen wholly or not at all (never its tables with the version
    // from before it).
    let tx = conn.unchecked_transaction()?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables = {
        let mut st = tx.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()?
    };
    tx.commit()?;
    if tables.is_empty() || (version >= 1 && OWN_TABLES.iter().all(|t| tables.iter().any(|n| n == t))) {
        return Ok(());
    }
    const SHOWN: usize = 4;
    let mut names = tables.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if tables.len() > SHOWN {
        names.push_str(&format!(" and {} more", tables.len() - SHOWN));
    }
    Err(StoreError::Foreign { path: db.to_path_buf(), tables: names })
}

/// The `file:` URI of a path that SQLite opens as immutable (no locks, no WAL index).
pub(super) fn immutable_uri(db: &Path) -> String {
    let mut uri = String::from("file:");
    for &b in db.to_string_lossy().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

impl Store {
    /// Opens (creating, migrating) the store in `dir`. A damaged database is moved aside
    /// and a new one started, with a warning in `warnings`; it is never deleted. A database
    /// of another application is refused and left as it is.
    pub fn open(dir: &Path, warnings: &mut Vec<String>) -> Result<Store> {
        let db = dir.join(DB_NAME);
        prepare_files(dir, &db)?;
        match Store::open_file(&db) {
            Err(e) if e.is_corrupt() => {
                let moved = match move_aside(&db) {
                    Ok(moved) => moved,
                    Err(io) => return Err(StoreError::Stuck { path: db, damage: Box::new(e), source: io }),
                };
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

    /// Opens the store in `dir` for commands that only read it (`--offline`, `cache stats`):
    /// as [`Store::open`] does when the cache can be written, else read-only, as it is.
    pub fn open_for_reading(dir: &Path, warnings: &mut Vec<String>) -> Result<Store> {
        match Store::open(dir, warnings) {
            Err(e) if e.is_cannot_write() => Store::open_read_only(&dir.join(DB_NAME)).map_err(|ro| {
                // A read-only open that cannot even find the file says less than the first error.
                if matches!(&ro, StoreError::Sql(s) if s.sqlite_error_code() == Some(ErrorCode::CannotOpen)) {
                    e
                } else {
                    ro
                }
            }),
            other => other,
        }
    }

    /// Opens an existing database read-only, never writing to it or beside it. Where the
    /// WAL index cannot be created (a read-only directory), the file is read as immutable.
    pub(super) fn open_read_only(db: &Path) -> Result<Store> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = match Connection::open_with_flags(db, flags).and_then(|c| Store::probe(&c).map(|()| c)) {
            Ok(c) => c,
            Err(e)
                if matches!(e.sqlite_error_code(), Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly))
                    && db.is_file() =>
            {
                let c = Connection::open_with_flags(immutable_uri(db), flags | OpenFlags::SQLITE_OPEN_URI)?;
                Store::probe(&c)?;
                c
            }
            Err(e) => return Err(e.into()),
        };
        check_ours(&conn, db)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > schema::latest() {
            return Err(StoreError::NewerSchema { path: db.to_path_buf(), found: version, known: schema::latest() });
        }
        if version < READABLE_FROM {
            return Err(StoreError::TooOldToRead { path: db.to_path_buf(), found: version });
        }
        Ok(Store { conn, path: db.to_path_buf(), max_bytes: u64::MAX })
    }

    /// Another connection to the database `db` a store has open, for reading beside the one
    /// that writes (WAL: a read never waits for a write). A database that cannot be opened is an
    /// error here, never moved aside.
    pub fn open_another(db: &Path) -> Result<Store> {
        Store::open_file(db)
    }

    /// Reading the schema is what finds a file that is not a database.
    fn probe(conn: &Connection) -> rusqlite::Result<()> {
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).map(|_| ())
    }

    /// Opens, creates or migrates the database, asking again while another process holds it
    /// in a way SQLite does not wait for (a reader in the way of the switch to WAL).
    fn open_file(db: &Path) -> Result<Store> {
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            match Store::open_file_once(db) {
                Err(e) if e.is_busy() && started.elapsed() < BUSY_TIMEOUT => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(200));
                }
                other => return other,
            }
        }
    }

    fn open_file_once(db: &Path) -> Result<Store> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(db, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Store::probe(&conn)?;
        // Before anything is written to it, not even the journal mode.
        check_ours(&conn, db)?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NoWal { mode });
        }
        // With WAL, NORMAL keeps the database consistent after a crash; at worst the last
        // transactions before a power loss are lost, and they are fetched again.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let mut store = Store { conn, path: db.to_path_buf(), max_bytes: u64::MAX };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > schema::latest() {
            return Err(StoreError::NewerSchema { path: self.path.clone(), found: version, known: schema::latest() });
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
}
