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

/// The archive index as the loader's workers share it: they read, each on a connection of its
/// own, while a thread of its own writes on another (see [`IndexWrites`]), so that a worker
/// never waits for a write.
pub(super) struct IndexCtx {
    /// The connection that writes, until the writing thread takes it.
    store: std::sync::Mutex<Option<crate::cache::Store>>,
    /// Connections for reading, opened as workers need them.
    readers: std::sync::Mutex<Vec<crate::cache::Store>>,
    /// The database.
    db: std::path::PathBuf,
}

impl IndexCtx {
    pub(super) fn get(&self, key: &FileKey) -> Option<Vec<u8>> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut store = match pooled {
            Some(s) => s,
            None => crate::cache::Store::open_another(&self.db).ok()?,
        };
        let blob = crate::cache::files::get(store.conn(), key).ok().flatten();
        self.readers.lock().unwrap_or_else(|p| p.into_inner()).push(store);
        blob
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
        Ok(store) => Some(IndexCtx {
            db: store.path().to_path_buf(),
            store: std::sync::Mutex::new(Some(store)),
            readers: std::sync::Mutex::new(Vec::new()),
        }),
        Err(e) => {
            emit(SourceMsg::Warning(
                crate::sanitize::sanitize(&format!("running without the cache: {e}")).into_owned(),
            ));
            None
        }
    }
}

/// Index updates waiting to be written, handed in groups of about [`IndexWrites::GROUP`] bytes
/// to a thread that writes each group in one transaction, and what was written.
pub(super) struct IndexWrites {
    new: Vec<(FileKey, u32, Vec<u8>)>,
    used: Vec<FileKey>,
    bytes: usize,
    /// To the writing thread; `None` when there is none (no store, or it could not start).
    to_writer: Option<crossbeam_channel::Sender<Group>>,
    writer: Option<std::thread::JoinHandle<Written>>,
}

/// New indexes and the files whose stored index was used.
type Group = (Vec<(FileKey, u32, Vec<u8>)>, Vec<FileKey>);

/// What the writing thread did.
#[derive(Default)]
struct Written {
    /// Files whose index was written, and its bytes.
    written: (usize, u64),
    /// Files whose index did not fit under the cache's size limit, and its bytes.
    did_not_fit: (usize, u64),
    /// Why writing stopped.
    failed: Option<String>,
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

impl IndexWrites {
    /// Bytes of new indexes handed to the writing thread at once: one group is written while
    /// the next fills, so that about twice this is held.
    pub(super) const GROUP: usize = 8 << 20;

    /// Starts the thread that writes to `ix` (none without one).
    pub(super) fn start(ix: Option<&IndexCtx>) -> Self {
        let mut out = IndexWrites { new: Vec::new(), used: Vec::new(), bytes: 0, to_writer: None, writer: None };
        let Some(mut store) = ix.and_then(|ix| ix.store.lock().unwrap_or_else(|p| p.into_inner()).take()) else {
            return out;
        };
        // When this load started: indexes used since are this load's own, never dropped for room.
        let started_ms = crate::model::time::now_ms();
        // A group waits for the thread to take it: what is held stays two groups.
        let (tx, rx) = crossbeam_channel::bounded::<Group>(0);
        let writer = std::thread::Builder::new().name("store-index".into()).spawn(move || {
            let mut w = Written::default();
            for (new, used) in rx {
                if w.failed.is_some() || (new.is_empty() && used.is_empty()) {
                    continue;
                }
                // The index counts against the cache's size limit like everything else stored:
                // older indexes (not this load's) make room first; what still does not fit is
                // not stored.
                let max = store.max_bytes();
                let bytes: u64 = new.iter().map(|(_, _, b)| b.len() as u64).sum();
                match crate::cache::files::put_within(store.conn(), &new, &used, max, started_ms) {
                    Ok(true) => {
                        w.written.0 += new.len();
                        w.written.1 += bytes;
                    }
                    Ok(false) => {
                        w.did_not_fit.0 += new.len();
                        w.did_not_fit.1 += bytes;
                    }
                    Err(e) => w.failed = Some(e.to_string()),
                }
            }
            w
        });
        if let Ok(writer) = writer {
            out.to_writer = Some(tx);
            out.writer = Some(writer);
        }
        out
    }

    pub(super) fn add(&mut self, u: IndexUpdate) {
        match u {
            IndexUpdate::Reused(k) => self.used.push(k),
            IndexUpdate::New(k, n, blob) => {
                self.bytes += blob.len();
                self.new.push((k, n, blob));
            }
        }
        if self.bytes > Self::GROUP {
            self.hand_over();
        }
    }

    /// Hands what is waiting to the writing thread (waiting for it to finish the group before).
    fn hand_over(&mut self) {
        let group = (std::mem::take(&mut self.new), std::mem::take(&mut self.used));
        self.bytes = 0;
        if let Some(tx) = &self.to_writer {
            if tx.send(group).is_err() {
                self.to_writer = None;
            }
        }
    }

    /// Writes what is left, waits for the writing thread, and says once what the archive index
    /// took in the cache, what did not fit under its size limit, or why it could not be stored.
    pub(super) fn finish(mut self, emit: &mut dyn FnMut(SourceMsg)) {
        self.hand_over();
        drop(self.to_writer.take());
        let Some(w) = self.writer.take().and_then(|w| w.join().ok()) else { return };
        if let Some(e) = w.failed {
            let what = format!("storing the archive index failed, the files will be parsed again next time: {e}");
            emit(SourceMsg::Warning(crate::sanitize::sanitize(&what).into_owned()));
        }
        let (files, bytes) = w.written;
        if files > 0 {
            emit(SourceMsg::Info(format!(
                "stored the archive index of {files} file{} in the cache ({}): the next open reads it \
                 (--cache-max-size limits it, --no-cache skips it)",
                if files == 1 { "" } else { "s" },
                mib(bytes)
            )));
        }
        let (files, bytes) = w.did_not_fit;
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
