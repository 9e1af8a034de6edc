//! What each loading worker does with one input: take its stored index, or read, decompress
//! and parse it; a panic on hostile input costs that input only.

use super::files::{parse_content, parse_trail_log, InputKind, ParseError, ParseOutcome, Parsed};
use super::index::{file_key, IndexCtx, IndexUpdate};
use super::local::{summary_of, LocalBatch};
use super::split::Part;
use super::stream::parse_stream;
use crate::cache::files::{FileKey, IndexWriter};
use crate::model::intern::StrHasher;
use crate::model::raw::{open_content, ContentNotes, Opened, ReadError, SourceFile};
use crate::query::matcher::LoadTerms;
use crate::sigma::RuleSet;
use std::io::Read;
use std::sync::Arc;

impl FileOutcome {
    /// `file` not read, for `why`.
    fn failed(file: &SourceFile, why: InputError) -> Self {
        FileOutcome { file: file.id, part: None, result: Err(why), bytes: 0, content: None, index: None }
    }
}

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
    /// The part of the input this is, when it was split (see [`super::split`]).
    pub(super) part: Option<Part>,
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

/// How inputs are read: whether their content is kept for reading back, above what size it
/// is parsed as a stream instead of whole, and the detection rules each record is evaluated
/// against as it is parsed.
#[derive(Clone, Debug)]
pub(super) struct Reading {
    pub(super) retain: bool,
    pub(super) whole_max: usize,
    pub(super) rules: Option<super::SourceRules>,
    /// Terms each record is decided on as it is parsed.
    pub(super) terms: Option<Arc<LoadTerms>>,
}

/// Reads and parses one input. A bug that panics on some hostile input costs that input, not
/// the whole load.
pub(super) fn process_file(
    file: &SourceFile,
    how: &Reading,
    hasher: &StrHasher,
    index: Option<&IndexCtx>,
) -> FileOutcome {
    process_part(file, None, how, hasher, index)
}

/// [`process_file`] of one part of an input split by [`super::split::plan`] (`None`: the
/// whole input).
pub(super) fn process_part(
    file: &SourceFile,
    part: Option<&Part>,
    how: &Reading,
    hasher: &StrHasher,
    index: Option<&IndexCtx>,
) -> FileOutcome {
    CATCHING.with(|c| c.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match part {
        Some(part) => read_part(file, part, how, hasher, index),
        None => read_indexed(file, how, hasher, index),
    }));
    CATCHING.with(|c| c.set(false));
    let mut outcome = result.unwrap_or_else(|p| {
        FileOutcome::failed(
            file,
            InputError::Panicked(crate::sanitize::sanitize(&panic_message(p.as_ref())).into_owned()),
        )
    });
    outcome.part = part.cloned();
    outcome
}

/// Whether a stored archive index may stand for parsing: not when the content is kept for
/// reading back, nor when records are evaluated against rules or decided on `text:` terms
/// (`resource:` terms are answered by the stored index too).
fn index_usable(how: &Reading) -> bool {
    !how.retain && how.rules.is_none() && !how.terms.as_ref().is_some_and(|t| t.has_text())
}

/// One part of a split input: from its stored index when current (keyed by the file and the
/// part's bytes), else read by position and parsed line by line.
fn read_part(
    file: &SourceFile,
    part: &Part,
    how: &Reading,
    hasher: &StrHasher,
    index: Option<&IndexCtx>,
) -> FileOutcome {
    let key = index.filter(|_| index_usable(how)).and_then(|_| file_key(file)).map(|mut k| {
        // A canonical path names a file, never a directory: nothing else is stored under this.
        k.path = format!("{}/#bytes={}-{}", k.path, part.range.start, part.range.end);
        k
    });
    if let Some(outcome) = stored(file, index, key.as_ref(), hasher) {
        return outcome;
    }
    let content = match crate::model::raw::read_range(file, part.range.clone()) {
        Ok(c) => c,
        Err(e) => return FileOutcome::failed(file, e.into()),
    };
    let rules = how.rules.as_ref().and_then(super::SourceRules::now).map(|r| &**r);
    let mut batch = LocalBatch::new(hasher, content.len()).evaluating(rules.is_some()).deciding(how.terms.clone());
    let mut writer = key.as_ref().map(|_| IndexWriter::new());
    let mut take = |p: super::files::Parsed<'_, '_>| match writer.as_mut() {
        Some(w) => push_indexed(&mut batch, w, file.id, &p, rules),
        None => batch.push_evaluated(file.id, &p, rules),
    };
    let outcome = match &part.elements {
        Some(el) => super::split::parse_elements(&content, part.range.start, el, &mut take),
        None => super::split::parse_lines(&content, part.range.start, &mut take),
    };
    let bytes = content.len() as u64 + part.elements.as_ref().map_or(0, |el| el.uncounted);
    crate::model::raw::recycle(content);
    finish(file, Ok(outcome), batch, ContentNotes::default(), key.zip(writer), bytes)
}

/// Takes a file from the archive index when its stored index is current, else reads and
/// parses it (building its index when there is a store).
pub(super) fn read_indexed(
    file: &SourceFile,
    how: &Reading,
    hasher: &StrHasher,
    index: Option<&IndexCtx>,
) -> FileOutcome {
    let key = index.filter(|_| index_usable(how)).and_then(|_| file_key(file));
    if let Some(outcome) = stored(file, index, key.as_ref(), hasher) {
        return outcome;
    }
    read_and_parse(file, how, hasher, key)
}

/// The events stored under `key` in the archive index, when they are there and readable.
fn stored(
    file: &SourceFile,
    index: Option<&IndexCtx>,
    key: Option<&FileKey>,
    hasher: &StrHasher,
) -> Option<FileOutcome> {
    let (ix, key) = (index?, key?);
    let mut outcome = ix.get(key).and_then(|blob| from_index(file, &blob, hasher))?;
    outcome.index = Some(IndexUpdate::Reused(key.clone()));
    Some(outcome)
}

/// A file's events from its stored index; `None` when the index cannot be read.
pub(super) fn from_index(file: &SourceFile, blob: &[u8], hasher: &StrHasher) -> Option<FileOutcome> {
    let mut batch = LocalBatch::new(hasher, blob.len());
    let info = crate::cache::files::decode(blob, &mut |s, refs| batch.push_summary(file.id, s, Some(refs)))?;
    let kind = InputKind::from_code(info.kind)?;
    Some(FileOutcome {
        file: file.id,
        part: None,
        result: Ok((kind, batch, info.partial)),
        bytes: info.bytes,
        content: None,
        index: None,
    })
}

pub(super) fn read_and_parse(
    file: &SourceFile,
    how: &Reading,
    hasher: &StrHasher,
    key: Option<FileKey>,
) -> FileOutcome {
    // Rules that arrive while loading apply to the inputs begun after.
    let rules = how.rules.as_ref().and_then(super::SourceRules::now).map(|r| &**r);
    let text = how.terms.as_ref();
    match open_content(file, how.whole_max) {
        Ok(Opened::Whole(content, notes)) => parse_whole(file, how.retain, (rules, text), hasher, key, content, notes),
        Ok(Opened::Stream(mut input)) => parse_streamed(file, (rules, text), hasher, key, &mut *input),
        Err(e) => FileOutcome::failed(file, e.into()),
    }
}

/// Parses content read whole: the fast path for trail logs, else the general one.
fn parse_whole(
    file: &SourceFile,
    retain: bool,
    (rules, text): (Option<&RuleSet>, Option<&Arc<LoadTerms>>),
    hasher: &StrHasher,
    key: Option<FileKey>,
    content: Vec<u8>,
    notes: ContentNotes,
) -> FileOutcome {
    let new_batch = || LocalBatch::new(hasher, content.len()).evaluating(rules.is_some()).deciding(text.cloned());
    let mut batch = new_batch();
    let mut writer = key.as_ref().map(|_| IndexWriter::new());
    let result = match writer.as_mut() {
        // Building the archive index: each record goes through its stored form.
        Some(w) => {
            let mut take = |p: Parsed<'_, '_>| push_indexed(&mut batch, w, file.id, &p, rules);
            match parse_trail_log(&content, &mut take) {
                Some(outcome) => Ok(outcome),
                None => {
                    batch = new_batch();
                    *w = IndexWriter::new();
                    parse_content(&content, &mut |p| push_indexed(&mut batch, w, file.id, &p, rules))
                }
            }
        }
        None => match parse_trail_log(&content, &mut |p| batch.push_evaluated(file.id, &p, rules)) {
            Some(outcome) => Ok(outcome),
            None => {
                batch = new_batch();
                parse_content(&content, &mut |p| batch.push_evaluated(file.id, &p, rules))
            }
        },
    };
    let bytes = content.len() as u64;
    let mut outcome = finish(file, result, batch, notes, key.zip(writer), bytes);
    outcome.content = if retain && outcome.result.is_ok() {
        Some(Arc::new(content))
    } else {
        crate::model::raw::recycle(content);
        None
    };
    outcome
}

/// Parses content too large to hold whole as it is read (it is not kept: records are read
/// back from the input).
fn parse_streamed(
    file: &SourceFile,
    (rules, text): (Option<&RuleSet>, Option<&Arc<LoadTerms>>),
    hasher: &StrHasher,
    key: Option<FileKey>,
    input: &mut dyn Read,
) -> FileOutcome {
    let mut batch = LocalBatch::new(hasher, 1 << 20).evaluating(rules.is_some()).deciding(text.cloned());
    let mut writer = key.as_ref().map(|_| IndexWriter::new());
    let result = parse_stream(input, &mut |p| match writer.as_mut() {
        Some(w) => push_indexed(&mut batch, w, file.id, &p, rules),
        None => batch.push_evaluated(file.id, &p, rules),
    });
    let (result, bytes) = match result {
        Ok((outcome, bytes)) => (Ok(outcome), bytes),
        Err(e) => (Err(e), 0),
    };
    finish(file, result, batch, ContentNotes::default(), key.zip(writer), bytes)
}

/// Takes a record through the form the archive index stores, adding it to the index being
/// built, and evaluates it against `rules`.
fn push_indexed(batch: &mut LocalBatch, w: &mut IndexWriter, file: u32, p: &Parsed<'_, '_>, rules: Option<&RuleSet>) {
    let s = summary_of(p);
    w.push(&s);
    let before = batch.events.len();
    batch.push_summary(file, &s, None);
    batch.decide_terms(before, p);
    if let Some(rules) = rules {
        batch.evaluate(rules, before, p);
    }
}

/// A parsed input's outcome: its events, what was skipped in it, its new index.
fn finish(
    file: &SourceFile,
    result: Result<ParseOutcome, ParseError>,
    batch: LocalBatch,
    notes: ContentNotes,
    index: Option<(FileKey, IndexWriter)>,
    bytes: u64,
) -> FileOutcome {
    let result = result.map_err(InputError::from).map(|outcome| {
        let mut partial: Vec<String> = notes.warnings;
        partial.extend(outcome.skipped_summary());
        let partial = (!partial.is_empty()).then(|| partial.join("; "));
        (outcome.kind, batch, partial)
    });
    let index = match (&result, index) {
        (Ok((kind, _, partial)), Some((key, w))) => {
            let n = w.len();
            Some(IndexUpdate::New(key, n, w.finish(kind.code(), partial.as_deref(), bytes)))
        }
        _ => None,
    };
    FileOutcome { file: file.id, part: None, result, bytes, content: None, index }
}
