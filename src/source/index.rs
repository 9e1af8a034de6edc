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
    if file.stream.is_some() || file.memory.get().is_some() {
        return None;
    }
    let mtime_ns = file.mtime?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
    let path = std::fs::canonicalize(&file.path).ok()?.to_str()?.to_string();
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

/// Index updates waiting to be written, in one transaction each time.
#[derive(Default)]
pub(super) struct IndexWrites {
    new: Vec<(FileKey, u32, Vec<u8>)>,
    used: Vec<FileKey>,
    pub(super) bytes: usize,
    failed: bool,
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
        if let Err(e) = crate::cache::files::put(store.conn(), &new, &used) {
            self.failed = true;
            let what = format!("storing the archive index failed, the files will be parsed again next time: {e}");
            emit(SourceMsg::Warning(crate::sanitize::sanitize(&what).into_owned()));
        }
    }
}
