//! What can go wrong in the store, typed: the caller decides what to do (move a damaged file
//! aside, read a cache it cannot write, run without one), the user reads the message.

use crate::model::raw::io_reason;
use rusqlite::ErrorCode;
use std::path::PathBuf;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused a statement: the database is locked, full, damaged, cannot be written…
    #[error("{0}")]
    Sql(#[from] rusqlite::Error),
    /// A file operation on the cache directory or the database file failed.
    #[error("cannot {action} {}: {}", path.display(), io_reason(source))]
    Io {
        /// What was being done to `path`: "create", "restrict", "read".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The database is damaged and could not be moved aside to start a new one.
    #[error("the cache {} is damaged ({damage}) and cannot be moved aside: {}", path.display(), io_reason(source))]
    Stuck {
        /// The database file.
        path: PathBuf,
        /// What opening it said.
        damage: Box<StoreError>,
        /// Why it could not be moved.
        #[source]
        source: std::io::Error,
    },
    /// The database was written by a newer trailscope; it is not touched.
    #[error(
        "the cache {} was written by a newer trailscope (schema {found}, this one knows {known}); it is left as it is",
        path.display()
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The file is a SQLite database, but not a trailscope cache; it is not touched.
    #[error(
        "{} is a database of another application (tables {tables}), not a trailscope cache; it is left as it is \
         (choose another --cache-dir)",
        path.display()
    )]
    Foreign {
        /// The database file.
        path: PathBuf,
        /// A few of its table names, for the user to recognise it.
        tables: String,
    },
    /// Opened read-only, the database is of a schema this build reads only after updating it.
    #[error(
        "the cache {} has schema {found}, which this trailscope reads only after updating it, and it cannot be written",
        path.display()
    )]
    TooOldToRead {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
    },
    /// The file system does not allow write-ahead logging.
    #[error("the cache cannot use WAL mode (journal mode {mode})")]
    NoWal {
        /// The journal mode SQLite kept.
        mode: String,
    },
    /// `PRAGMA integrity_check` found problems (its findings, joined).
    #[error("{0}")]
    Integrity(String),
}

/// The store's results.
pub type Result<T> = std::result::Result<T, StoreError>;

impl StoreError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> StoreError {
        StoreError::Io { action, path: path.into(), source }
    }

    /// The database file is damaged or not a database at all.
    pub fn is_corrupt(&self) -> bool {
        matches!(self, StoreError::Sql(e) if matches!(e.sqlite_error_code(), Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)))
    }

    /// Another process held the database at a moment it could not be waited for (while it
    /// switched the journal, or created the schema): opening again shortly works.
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Sql(e) if matches!(e.sqlite_error_code(), Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)))
    }

    /// The failure is about writing (a read-only directory, file or file system): the cache
    /// may still be read as it is.
    pub fn is_cannot_write(&self) -> bool {
        use std::io::ErrorKind;
        match self {
            StoreError::Sql(e) => matches!(
                e.sqlite_error_code(),
                Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied)
            ),
            StoreError::Io { source, .. } => {
                matches!(source.kind(), ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem)
            }
            _ => false,
        }
    }
}
