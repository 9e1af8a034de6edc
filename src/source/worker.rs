//! What each loading worker does with one input: take its stored index, or read, decompress
//! and parse it; a panic on hostile input costs that input only.

use super::files::ParseError;
use super::files::{parse_content, parse_trail_log, InputKind, Parsed};
use super::index::{file_key, IndexCtx, IndexUpdate};
use super::local::{summary_of, LocalBatch};
use crate::cache::files::{FileKey, IndexWriter};
use crate::model::intern::StrHasher;
use crate::model::raw::{read_content, ReadError, SourceFile};
use std::sync::Arc;

/// Why an input was not read at all.
#[derive(Debug, thiserror::Error)]
pub(super) enum InputError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A bug met on this input (the panic's message, sanitised).
    #[error("internal error while reading this input ({0}); the other inputs are not affected")]
    Panicked(String),
}

/// One input as a worker read it: its events with file-local symbols, its kind and what was
/// skipped in it (or why it was not read), and what it did to the archive index.
pub(super) struct FileOutcome {
    pub(super) file: u32,
    pub(super) result: Result<(InputKind, LocalBatch, Option<String>), InputError>,
    pub(super) bytes: u64,
    pub(super) content: Option<Arc<Vec<u8>>>,
    pub(super) index: Option<IndexUpdate>,
}

thread_local! {
    static CATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is reading an input under `catch_unwind`: a panic there becomes that
/// input's problem, so the panic hook should stay quiet rather than write over the screen.
pub fn catching_panic() -> bool {
    CATCHING.with(|c| c.get())
}

/// Wraps the current panic hook so that panics caught while reading an input are not printed.
pub fn install_panic_filter() {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !catching_panic() {
            prev(info);
        }
    }));
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_default()
}

/// Reads and parses one input. A bug that panics on some hostile input costs that input, not
/// the whole load.
pub(super) fn process_file(
    file: &SourceFile,
    retain: bool,
    hasher: &StrHasher,
    index: Option<&IndexCtx>,
) -> FileOutcome {
    CATCHING.with(|c| c.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_indexed(file, retain, hasher, index)));
    CATCHING.with(|c| c.set(false));
    result.unwrap_or_else(|p| FileOutcome {
        file: file.id,
        result: Err(InputError::Panicked(crate::sanitize::sanitize(&panic_message(p.as_ref())).into_owned())),
        bytes: 0,
        content: None,
        index: None,
    })
}

/// Takes a file from the archive index when its stored index is current, else reads and
/// parses it (building its index when there is a store).
pub(super) fn read_indexed(
    file: &SourceFile,
    retain: bool,
    hasher: &StrHasher,
    index: Option<&IndexCtx>,
) -> FileOutcome {
    // Content kept for reading back (`retain`) has to be read anyway.
    let key = index.filter(|_| !retain).and_then(|_| file_key(file));
    if let (Some(ix), Some(key)) = (index, &key) {
        if let Some(mut outcome) = ix.get(key).and_then(|blob| from_index(file, &blob, hasher)) {
            outcome.index = Some(IndexUpdate::Reused(key.clone()));
            return outcome;
        }
    }
    read_and_parse(file, retain, hasher, key)
}

/// A file's events from its stored index; `None` when the index cannot be read.
pub(super) fn from_index(file: &SourceFile, blob: &[u8], hasher: &StrHasher) -> Option<FileOutcome> {
    let mut batch = LocalBatch::new(hasher, blob.len());
    let info = crate::cache::files::decode(blob, &mut |s| batch.push_summary(file.id, s))?;
    let kind = InputKind::from_code(info.kind)?;
    Some(FileOutcome {
        file: file.id,
        result: Ok((kind, batch, info.partial)),
        bytes: info.bytes,
        content: None,
        index: None,
    })
}

pub(super) fn read_and_parse(file: &SourceFile, retain: bool, hasher: &StrHasher, key: Option<FileKey>) -> FileOutcome {
    let (content, notes) = match read_content(file) {
        Ok(c) => c,
        Err(e) => return FileOutcome { file: file.id, result: Err(e.into()), bytes: 0, content: None, index: None },
    };
    let mut batch = LocalBatch::new(hasher, content.len());
    let mut writer = key.as_ref().map(|_| IndexWriter::new());
    let result = match writer.as_mut() {
        // Building the archive index: each record goes through its stored form.
        Some(w) => {
            let mut take = |p: Parsed<'_, '_>| {
                let s = summary_of(&p);
                w.push(&s);
                batch.push_summary(file.id, &s);
            };
            match parse_trail_log(&content, &mut take) {
                Some(outcome) => Ok(outcome),
                None => {
                    batch = LocalBatch::new(hasher, content.len());
                    *w = IndexWriter::new();
                    parse_content(&content, &mut |p| {
                        let s = summary_of(&p);
                        w.push(&s);
                        batch.push_summary(file.id, &s);
                    })
                }
            }
        }
        None => match parse_trail_log(&content, &mut |p| batch.push(file.id, &p)) {
            Some(outcome) => Ok(outcome),
            None => {
                batch = LocalBatch::new(hasher, content.len());
                parse_content(&content, &mut |p| batch.push(file.id, &p))
            }
        },
    };
    let bytes = content.len() as u64;
    let result = result.map_err(InputError::from).map(|outcome| {
        let mut partial: Vec<String> = notes.warnings;
        partial.extend(outcome.skipped_summary());
        let partial = (!partial.is_empty()).then(|| partial.join("; "));
        (outcome.kind, batch, partial)
    });
    let index = match (&result, key, writer) {
        (Ok((kind, _, partial)), Some(key), Some(w)) => {
            let n = w.len();
            Some(IndexUpdate::New(key, n, w.finish(kind.code(), partial.as_deref(), bytes)))
        }
        _ => None,
    };
    let content = if retain && result.is_ok() {
        Some(Arc::new(content))
    } else {
        crate::model::raw::recycle(content);
        None
    };
    FileOutcome { file: file.id, result, bytes, content, index }
}
