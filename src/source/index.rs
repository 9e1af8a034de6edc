//! The archive index as loading uses it: parsed summaries of files kept in the cache, keyed
//! by path, size and modification time, read by the workers and written by the coordinator.

use super::SourceMsg;
use crate::cache::files::FileKey;
use crate::model::raw::SourceFile;

/// What a file did to the archive index.
pub(super) enum IndexUpdate {
    /// Its stored index was used.
    Reused(FileKey),
    /// It was parsed: its new index (records, encoded).
    New(FileKey, u32, Vec<u8>),
}

/// The archive index as the loader's workers share it: they read, the coordinator writes.
pub(super) struct IndexCtx {
    store: std::sync::Mutex<crate::cache::Store>,
}

impl IndexCtx {
    pub(super) fn get(&self, key: &FileKey) -> Option<Vec<u8>> {
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        crate::cache::files::get(store.conn(), key).ok().flatten()
    }
}

/// A file's identity for the archive index; `None` for streams and paths that are not UTF-8.
pub(super) fn file_key(file: &SourceFile) -> Option<FileKey> {
    key_at(file, std::fs::canonicalize(&file.path).ok()?.to_str()?.to_string())
}

/// A file's identity as discovery found it: the path as found (what led there is part of a
/// stored load's name), its size and modification time; `None` as for [`file_key`].
pub(super) fn found_key(file: &SourceFile) -> Option<FileKey> {
    key_at(file, file.path.to_str()?.to_string())
}

fn key_at(file: &SourceFile, path: String) -> Option<FileKey> {
    if file.stream.is_some() || file.memory.get().is_some() {
        return None;
    }
    let mtime_ns = file.mtime?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
    Some(FileKey { path, size: i64::try_from(file.size).ok()?, mtime_ns: i64::try_from(mtime_ns).ok()? })
}

/// Opens the store for the archive index; a store that cannot be used is a warning.
pub(super) fn open_index(c: &crate::cache::CacheConfig, emit: &mut dyn FnMut(SourceMsg)) -> Option<IndexCtx> {
    let mut warnings = Vec::new();
    let opened = crate::cache::Store::open(&c.dir, &mut warnings).and_then(|mut s| {
        s.enforce_limit(c.max_bytes)?;
        Ok(s)
    });
    for w in warnings {
        emit(SourceMsg::Warning(crate::sanitize::sanitize(&w).into_owned()));
    }
    match opened {
        Ok(store) => Some(IndexCtx { store: std::sync::Mutex::new(store) }),
        Err(e) => {
            emit(SourceMsg::Warning(
                crate::sanitize::sanitize(&format!("running without the cache: {e}")).into_owned(),
            ));
            None
        }
    }
}

/// Index updates waiting to be written, in one transaction each time, and what was written.
pub(super) struct IndexWrites {
    new: Vec<(FileKey, u32, Vec<u8>)>,
    used: Vec<FileKey>,
    pub(super) bytes: usize,
    failed: bool,
    /// When this load started: indexes used since are this load's own, never dropped for room.
    started_ms: i64,
    /// Files whose index was written, and its bytes.
    written: (usize, u64),
    /// Files whose index did not fit under the cache's size limit, and its bytes.
    did_not_fit: (usize, u64),
}

impl Default for IndexWrites {
    fn default() -> Self {
        Self {
            new: Vec::new(),
            used: Vec::new(),
            bytes: 0,
            failed: false,
            started_ms: crate::model::time::now_ms(),
            written: (0, 0),
            did_not_fit: (0, 0),
        }
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

impl IndexWrites {
    pub(super) fn add(&mut self, u: IndexUpdate) {
        match u {
            IndexUpdate::Reused(k) => self.used.push(k),
            IndexUpdate::New(k, n, blob) => {
                self.bytes += blob.len();
                self.new.push((k, n, blob));
            }
        }
    }
    pub(super) fn write(&mut self, ix: &IndexCtx, emit: &mut dyn FnMut(SourceMsg)) {
        let (new, used) = (std::mem::take(&mut self.new), std::mem::take(&mut self.used));
        self.bytes = 0;
        if self.failed || (new.is_empty() && used.is_empty()) {
            return;
        }
        let mut store = ix.store.lock().unwrap_or_else(|p| p.into_inner());
        // The index counts against the cache's size limit like everything else stored: older
        // indexes (not this load's) make room first; what still does not fit is not stored.
        let max = store.max_bytes();
        let bytes: u64 = new.iter().map(|(_, _, b)| b.len() as u64).sum();
        match crate::cache::files::put_within(store.conn(), &new, &used, max, self.started_ms) {
            Ok(true) => {
                self.written.0 += new.len();
                self.written.1 += bytes;
            }
            Ok(false) => {
                self.did_not_fit.0 += new.len();
                self.did_not_fit.1 += bytes;
            }
            Err(e) => {
                self.failed = true;
                let what = format!("storing the archive index failed, the files will be parsed again next time: {e}");
                emit(SourceMsg::Warning(crate::sanitize::sanitize(&what).into_owned()));
            }
        }
    }

    /// Says once, when the load has written its last, what the archive index took in the
    /// cache, and what did not fit under its size limit.
    pub(super) fn announce(&self, emit: &mut dyn FnMut(SourceMsg)) {
        let (files, bytes) = self.written;
        if files > 0 {
            emit(SourceMsg::Info(format!(
                "stored the archive index of {files} file{} in the cache ({}): the next open reads it \
                 (--cache-max-size limits it, --no-cache skips it)",
                if files == 1 { "" } else { "s" },
                mib(bytes)
            )));
        }
        let (files, bytes) = self.did_not_fit;
        if files > 0 {
            emit(SourceMsg::Warning(format!(
                "the archive index of {files} file{} ({}) does not fit under the cache's size limit \
                 (--cache-max-size): they will be parsed again next time",
                if files == 1 { "" } else { "s" },
                mib(bytes)
            )));
        }
    }
}
