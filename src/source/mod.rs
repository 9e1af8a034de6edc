//! Sources of events. Local files: discovery, parallel parsing, and the coordinator that
//! interns, de-duplicates and streams batches to whoever consumes them (the TUI or `print`).

pub mod boundary;
pub mod files;
pub mod lookup;
pub mod s3;

use crate::cache::files::{FileKey, IndexWriter};
use crate::model::events::Batch;
use crate::model::intern::StrHasher;
use crate::model::raw::{io_reason, read_content, RawReader, SourceFile, Stream};
use crate::model::record::RecordFields;
use crate::model::summary::{Summary, SUMMARY_EVENT_ID, SUMMARY_REQUEST_ID, SUMMARY_SYMS};
use crate::model::time::parse_event_time;
use crate::model::{
    id, intern::ProfileInterner, Event, IdBits, IdShape, Interner, Profile, RawLoc, StrRef, Sym, SymField, FLAG_ERROR,
    FLAG_READONLY, FLAG_READONLY_KNOWN, NO_TIME, OWN_FIELDS, SYM_FIELDS,
};
use files::{parse_content, parse_trail_log, InputKind, Parsed};
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An input that was skipped, or read only in part, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The input as the user named it or as found in a directory (sanitised).
    pub input: String,
    pub reason: String,
    /// The input was not read at all (as opposed to read with some parts skipped).
    pub skipped: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Inputs found so far (all of them once `discovering` is false).
    pub files_total: usize,
    /// Directories are still being searched: more inputs may come.
    pub discovering: bool,
    pub files_done: usize,
    pub files_read: usize,
    pub digests: usize,
    pub events: usize,
    pub duplicates: usize,
    /// Bytes of JSON parsed (after decompression).
    pub bytes: u64,
}

/// Everything a source tells its consumer (see [`boundary`]).
pub enum SourceMsg {
    /// Newly found inputs; ids are their indices in the order sent.
    Files(Vec<Arc<SourceFile>>),
    Batch(Batch, LoadStats),
    Problem(Problem),
    /// Progress of live event history.
    Live(lookup::LiveStatus),
    /// Something about the cache the user should know (it was moved aside, is not usable);
    /// the inputs themselves are not affected.
    Warning(String),
    Done(LoadStats),
}

#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Hand decompressed content to the raw reader (for `print`, which reads every record back).
    pub retain_content: bool,
    pub threads: usize,
    /// How often the coordinator hands over what it has (the first file goes at once).
    pub batch_interval: Duration,
    /// The store that keeps each file's parsed index; `None`: parse every file.
    pub cache: Option<crate::cache::CacheConfig>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self { retain_content: false, threads, batch_interval: Duration::from_millis(50), cache: None }
    }
}

/// Finds the files named by `inputs` (files, directories searched recursively, `-` for
/// standard input). Problems are reported, never fatal.
pub fn discover(inputs: &[String], problems: &mut Vec<Problem>) -> Vec<SourceFile> {
    let mut out = Vec::new();
    discover_into(inputs, &mut |found| match found {
        Found::File(f) => out.push(f),
        Found::Problem(p) => problems.push(p),
    });
    out
}

/// What discovery finds, in order: a file (numbered in the order found), or a problem.
pub enum Found {
    File(SourceFile),
    Problem(Problem),
}

/// [`discover`], handing each input to `sink` as soon as it is found, so that reading can
/// start before a large tree has been searched. Streams (pipes, standard input) come last,
/// so that a slow pipe does not hold back the files.
pub fn discover_into(inputs: &[String], sink: &mut dyn FnMut(Found)) {
    let mut seen_dirs = std::collections::HashSet::new();
    let mut next_id = 0u32;
    let mut numbered = |found: Found| match found {
        Found::File(mut f) => {
            f.id = next_id;
            next_id += 1;
            sink(Found::File(f));
        }
        problem => sink(problem),
    };
    let mut streams = Vec::new();
    for input in inputs {
        if input == "-" {
            streams.push(SourceFile::stream(0, PathBuf::from("-"), Stream::Stdin));
            continue;
        }
        let path = PathBuf::from(input);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => walk(&path, &mut numbered, &mut seen_dirs),
            Ok(m) if m.is_file() => numbered(Found::File(SourceFile::on_disk(0, path, &m))),
            // A pipe or a device named explicitly: `trailscope <(zcat ...)` is a FIFO. It is
            // read by a worker like any file, so it does not hold up the others.
            Ok(_) => streams.push(SourceFile::stream(0, path, Stream::Pipe)),
            Err(e) => numbered(Found::Problem(Problem {
                input: crate::sanitize::sanitize(input).into_owned(),
                reason: io_reason(&e),
                skipped: true,
            })),
        }
    }
    for f in streams {
        numbered(Found::File(f));
    }
}

fn walk(dir: &Path, sink: &mut dyn FnMut(Found), seen: &mut std::collections::HashSet<(u64, u64)>) {
    let display = || crate::sanitize::sanitize(&dir.to_string_lossy()).into_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata(dir) {
            if !seen.insert((m.dev(), m.ino())) {
                sink(Found::Problem(Problem {
                    input: display(),
                    reason: "directory already visited (a symlink loop?); not read again".into(),
                    skipped: false,
                }));
                return;
            }
        }
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            sink(Found::Problem(Problem { input: display(), reason: io_reason(&e), skipped: true }));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let name = || crate::sanitize::sanitize(&p.to_string_lossy()).into_owned();
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => walk(&p, sink, seen),
            Ok(m) if m.is_file() => sink(Found::File(SourceFile::on_disk(0, p, &m))),
            Ok(_) => sink(Found::Problem(Problem {
                input: name(),
                reason: "not a regular file (FIFO, socket or device); skipped inside a directory".into(),
                skipped: true,
            })),
            Err(e) => sink(Found::Problem(Problem { input: name(), reason: io_reason(&e), skipped: true })),
        }
    }
}

/// A file's events with file-local symbols, as a worker produces them.
struct LocalBatch {
    hasher: StrHasher,
    /// Local symbols by the hash of their string.
    index: hashbrown::HashTable<Sym>,
    /// The strings of local symbols end to end: symbol `i` is `strings[ends[i - 1]..ends[i]]`,
    /// with its hash in `str_hashes[i]` (symbol 0 is the empty string). One arena instead of
    /// an allocation per string.
    strings: String,
    ends: Vec<usize>,
    str_hashes: Vec<u64>,
    /// Per field, the symbol of the last value interned by [`LocalBatch::intern_repeating`].
    last: [Sym; SYM_FIELDS],
    uniq: String,
    res: Vec<Sym>,
    /// Profiles of local symbols; events point into it.
    profiles: ProfileInterner,
    events: Vec<Event>,
    /// Per event: hash of the eventID (0: none) and of the raw bytes.
    hashes: Vec<(u64, u64)>,
}

impl LocalBatch {
    /// A batch sized for `content_len` bytes of records (about a kilobyte each, with a
    /// string or so of their own), so that it rarely grows while filling.
    fn new(hasher: &StrHasher, content_len: usize) -> Self {
        let records = (content_len / 800).clamp(16, 1 << 16);
        let mut ends = Vec::with_capacity(records * 2);
        ends.push(0);
        let mut str_hashes = Vec::with_capacity(records * 2);
        str_hashes.push(0);
        Self {
            hasher: hasher.clone(),
            index: hashbrown::HashTable::with_capacity(records * 2),
            strings: String::with_capacity(records * 64),
            ends,
            str_hashes,
            last: [0; SYM_FIELDS],
            uniq: String::new(),
            res: Vec::with_capacity(records),
            profiles: ProfileInterner::default(),
            events: Vec::with_capacity(records),
            hashes: Vec::with_capacity(records),
        }
    }
    /// The string of local symbol `sym`, and its hash.
    fn local(&self, sym: Sym) -> (&str, u64) {
        let i = sym as usize;
        (&self.strings[self.ends[i - 1]..self.ends[i]], self.str_hashes[i])
    }
    fn intern(&mut self, s: &str) -> Sym {
        if s.is_empty() {
            return 0;
        }
        let hash = self.hasher.hash_one(s);
        let (strings, ends) = (&self.strings, &self.ends);
        let text = |sym: Sym| &strings[ends[sym as usize - 1]..ends[sym as usize]];
        if let Some(&sym) = self.index.find(hash, |&sym| text(sym) == s) {
            return sym;
        }
        let sym = self.ends.len() as Sym;
        let hashes = &self.str_hashes;
        self.index.insert_unique(hash, sym, |&sym| hashes[sym as usize]);
        self.strings.push_str(s);
        self.ends.push(self.strings.len());
        self.str_hashes.push(hash);
        sym
    }
    /// Interns a value that is usually the same as the field's in the record before.
    fn intern_repeating(&mut self, f: SymField, s: &str) -> Sym {
        let last = self.last[f as usize];
        if last != 0 && self.local(last).0 == s {
            return last;
        }
        let sym = self.intern(s);
        self.last[f as usize] = sym;
        sym
    }
    /// An event's own symbols and its profile's index, from its symbols by [`SymField`].
    fn split(&mut self, syms: &[Sym; SYM_FIELDS]) -> ([Sym; OWN_FIELDS], u32) {
        let mut own = [0; OWN_FIELDS];
        own.copy_from_slice(&syms[..OWN_FIELDS]);
        let mut profile: Profile = Default::default();
        profile.copy_from_slice(&syms[OWN_FIELDS..]);
        (own, self.profiles.intern(&profile))
    }
    /// An id in its compact form, or as text in the batch's arena.
    fn id(&mut self, s: &str) -> (IdShape, IdBits) {
        id::encode(s).unwrap_or_else(|| {
            let off = self.uniq.len() as u32;
            self.uniq.push_str(s);
            (IdShape::Text, IdBits::text(StrRef { off, len: s.len() as u32 }))
        })
    }

    fn push(&mut self, file: u32, p: &Parsed<'_, '_>) {
        let r: &RecordFields = p.fields;
        let mut syms = [0; SYM_FIELDS];
        let id = r.identity.0.as_ref();
        let principal = r.principal();
        // Fields that mostly repeat within a file first try the value of the record before.
        let mut set = |f: SymField, s: &str, me: &mut Self, repeats: bool| {
            syms[f as usize] = if repeats { me.intern_repeating(f, s) } else { me.intern(s) }
        };
        set(SymField::Source, r.display_source(), self, true);
        set(SymField::Region, r.region.as_str(), self, true);
        set(SymField::Account, r.recipient_account.as_str(), self, true);
        set(SymField::Category, r.category.as_str(), self, true);
        set(SymField::EventType, r.event_type.as_str(), self, true);
        set(SymField::Name, &r.display_name(), self, false);
        set(SymField::Principal, &principal, self, false);
        set(SymField::Ip, r.source_ip.as_str(), self, false);
        set(SymField::Error, r.error_code.as_str(), self, false);
        set(SymField::Agent, r.user_agent.as_str(), self, false);
        if let Some(id) = id {
            set(SymField::IdentityType, id.kind.as_str(), self, true);
            set(SymField::IdentityAccount, id.account_id.as_str(), self, true);
            set(SymField::Arn, id.arn.as_str(), self, false);
            set(SymField::AccessKey, id.access_key_id.as_str(), self, false);
        }
        let res_start = self.res.len() as u32;
        for res in &r.resources.0 {
            if res.arn.is_some() {
                let s = self.intern(res.arn.as_str());
                self.res.push(s);
            }
        }
        self.finish(
            file,
            &syms,
            res_start,
            Rest {
                time: parse_event_time(r.event_time.as_str()).or(p.fallback_time).unwrap_or(NO_TIME),
                read_only: read_only_of(r.read_only.as_str()),
                event_id: r.event_id.is_some().then(|| r.event_id.as_str()),
                request_id: r.request_id.as_str(),
                raw_hash: xxhash_rust::xxh3::xxh3_64(p.bytes),
                span: p.span,
            },
        );
    }

    /// Takes one record's summary as the archive index stores it (read back from the index,
    /// or parsed while the index is being built).
    fn push_summary(&mut self, file: u32, s: &Summary<'_>) {
        let mut syms = [0; SYM_FIELDS];
        for (i, field) in SUMMARY_SYMS.iter().enumerate() {
            if let Some(f) = field {
                syms[*f as usize] = self.intern(&s.strs[i]);
            }
        }
        let res_start = self.res.len() as u32;
        for arn in &s.resources {
            let sym = self.intern(arn);
            self.res.push(sym);
        }
        self.finish(
            file,
            &syms,
            res_start,
            Rest {
                time: s.time,
                read_only: s.read_only,
                event_id: s.has_event_id.then(|| &*s.strs[SUMMARY_EVENT_ID]),
                request_id: &s.strs[SUMMARY_REQUEST_ID],
                raw_hash: s.raw_hash,
                span: s.span,
            },
        );
    }

    /// Adds the event whose interned fields are `syms` and whose resources are those in `res`
    /// from `res_start`.
    fn finish(&mut self, file: u32, syms: &[Sym; SYM_FIELDS], res_start: u32, rest: Rest<'_>) {
        let mut flags = match rest.read_only {
            Some(true) => FLAG_READONLY_KNOWN | FLAG_READONLY,
            Some(false) => FLAG_READONLY_KNOWN,
            None => 0,
        };
        if syms[SymField::Error as usize] != 0 {
            flags |= FLAG_ERROR;
        }
        let (own, profile) = self.split(syms);
        let (event_shape, event_id) = self.id(rest.event_id.unwrap_or(""));
        let (request_shape, request_id) = self.id(rest.request_id);
        let id_hash = rest.event_id.map_or(0, |id| xxhash_rust::xxh3::xxh3_64(id.as_bytes()) | 1);
        self.hashes.push((id_hash, rest.raw_hash));
        self.events.push(Event {
            time: rest.time,
            profile,
            own,
            event_id,
            request_id,
            res_start,
            res_len: self.res.len() as u32 - res_start,
            // Content is at most 4 GiB (MAX_CONTENT), so offsets fit.
            loc: RawLoc::new(file, rest.span.offset as u32, rest.span.len, rest.span.escaped),
            flags,
            id_shapes: event_shape as u8 | (request_shape as u8) << 4,
        });
    }
}

/// What an event needs besides its interned fields, from a parsed record or a stored summary.
struct Rest<'a> {
    time: i64,
    read_only: Option<bool>,
    /// `None`: the record has no eventID (an empty one is `Some("")`).
    event_id: Option<&'a str>,
    request_id: &'a str,
    /// xxh3 of the record's bytes.
    raw_hash: u64,
    span: crate::model::raw::ByteSpan,
}

/// `readOnly` as written: CloudTrail writes a boolean, some exports a string.
fn read_only_of(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// The summary of a parsed record.
fn summary_of<'r>(p: &Parsed<'r, '_>) -> Summary<'r> {
    use std::borrow::Cow;
    let r: &'r RecordFields = p.fields;
    let (arn, kind, key, acct) = match r.identity.0.as_ref() {
        Some(i) => (i.arn.as_str(), i.kind.as_str(), i.access_key_id.as_str(), i.account_id.as_str()),
        None => ("", "", "", ""),
    };
    let strs: [Cow<'r, str>; 16] = [
        r.display_name(),
        Cow::Borrowed(r.display_source()),
        Cow::Borrowed(r.region.as_str()),
        r.principal(),
        Cow::Borrowed(arn),
        Cow::Borrowed(kind),
        Cow::Borrowed(key),
        Cow::Borrowed(r.source_ip.as_str()),
        Cow::Borrowed(r.recipient_account.as_str()),
        Cow::Borrowed(acct),
        Cow::Borrowed(r.error_code.as_str()),
        Cow::Borrowed(r.user_agent.as_str()),
        Cow::Borrowed(r.category.as_str()),
        Cow::Borrowed(r.event_type.as_str()),
        Cow::Borrowed(r.event_id.as_str()),
        Cow::Borrowed(r.request_id.as_str()),
    ];
    let read_only = read_only_of(r.read_only.as_str());
    Summary {
        strs,
        has_event_id: r.event_id.is_some(),
        time: parse_event_time(r.event_time.as_str()).or(p.fallback_time).unwrap_or(NO_TIME),
        read_only,
        resources: r
            .resources
            .0
            .iter()
            .filter(|res| res.arn.is_some())
            .map(|res| Cow::Borrowed(res.arn.as_str()))
            .collect(),
        span: p.span,
        raw_hash: xxhash_rust::xxh3::xxh3_64(p.bytes),
    }
}

struct FileOutcome {
    file: u32,
    result: Result<(InputKind, LocalBatch, Option<String>), String>,
    bytes: u64,
    content: Option<Arc<Vec<u8>>>,
    index: Option<IndexUpdate>,
}

/// What a file did to the archive index.
enum IndexUpdate {
    /// Its stored index was used.
    Reused(FileKey),
    /// It was parsed: its new index (records, encoded).
    New(FileKey, u32, Vec<u8>),
}

/// The archive index as the loader's workers share it: they read, the coordinator writes.
struct IndexCtx {
    store: std::sync::Mutex<crate::cache::Store>,
}

impl IndexCtx {
    fn get(&self, key: &FileKey) -> Option<Vec<u8>> {
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        crate::cache::files::get(store.conn(), key).ok().flatten()
    }
}

/// A file's identity for the archive index; `None` for streams and paths that are not UTF-8.
fn file_key(file: &SourceFile) -> Option<FileKey> {
    if file.stream.is_some() || file.memory.get().is_some() {
        return None;
    }
    let mtime_ns = file.mtime?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
    let path = std::fs::canonicalize(&file.path).ok()?.to_str()?.to_string();
    Some(FileKey { path, size: i64::try_from(file.size).ok()?, mtime_ns: i64::try_from(mtime_ns).ok()? })
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
fn process_file(file: &SourceFile, retain: bool, hasher: &StrHasher, index: Option<&IndexCtx>) -> FileOutcome {
    CATCHING.with(|c| c.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_indexed(file, retain, hasher, index)));
    CATCHING.with(|c| c.set(false));
    result.unwrap_or_else(|p| FileOutcome {
        file: file.id,
        result: Err(format!(
            "internal error while reading this input ({}); the other inputs are not affected",
            crate::sanitize::sanitize(&panic_message(p.as_ref()))
        )),
        bytes: 0,
        content: None,
        index: None,
    })
}

/// Takes a file from the archive index when its stored index is current, else reads and
/// parses it (building its index when there is a store).
fn read_indexed(file: &SourceFile, retain: bool, hasher: &StrHasher, index: Option<&IndexCtx>) -> FileOutcome {
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
fn from_index(file: &SourceFile, blob: &[u8], hasher: &StrHasher) -> Option<FileOutcome> {
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

fn read_and_parse(file: &SourceFile, retain: bool, hasher: &StrHasher, key: Option<FileKey>) -> FileOutcome {
    let (content, notes) = match read_content(file) {
        Ok(c) => c,
        Err(reason) => return FileOutcome { file: file.id, result: Err(reason), bytes: 0, content: None, index: None },
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
    let result = result.map(|outcome| {
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

/// Interns parsed inputs into global symbols, collapses exact duplicates and hands out
/// batches. Inputs can be added as they come (files found, pages fetched).
pub struct Ingest<'a> {
    interner: Interner,
    profiles: ProfileInterner,
    /// Totals including what is pending, so offsets in pending events are global.
    strings_len: u64,
    res_len: u64,
    events_len: u32,
    /// The first event taken with each eventID, found by the hash in `id_hashes` (5 bytes a
    /// slot instead of 17 for a map from hash to index).
    by_id: hashbrown::HashTable<u32>,
    /// Later events that share an id with an earlier, different one (rare in real trails).
    more_by_id: foldhash::HashMap<u64, Vec<u32>>,
    /// Per event taken: the hash of its eventID (0: none), of its raw bytes, and where it
    /// lives, to compare contents.
    id_hashes: Vec<u64>,
    raw_hashes: Vec<u64>,
    locs: Vec<RawLoc>,
    canonical: HashMap<u32, Option<u128>>,
    files: Vec<Arc<SourceFile>>,
    raw: &'a RawReader,
    pending: Batch,
}

impl<'a> Ingest<'a> {
    pub fn new(raw: &'a RawReader) -> Self {
        Ingest {
            interner: Interner::default(),
            profiles: ProfileInterner::default(),
            strings_len: 0,
            res_len: 0,
            events_len: 0,
            by_id: hashbrown::HashTable::new(),
            more_by_id: Default::default(),
            id_hashes: Vec::new(),
            raw_hashes: Vec::new(),
            locs: Vec::new(),
            canonical: HashMap::new(),
            files: Vec::new(),
            raw,
            pending: Batch::default(),
        }
    }

    /// Registers an input; its id is its index in the order added.
    pub fn add_file(&mut self, mut f: SourceFile) -> Arc<SourceFile> {
        f.id = self.files.len() as u32;
        let f = Arc::new(f);
        self.files.push(f.clone());
        f
    }

    /// Reads, parses and takes one registered input at once (for small inputs such as pages).
    pub fn take_file(&mut self, f: &SourceFile, retain: bool, stats: &mut LoadStats, emit: &mut dyn FnMut(SourceMsg)) {
        let outcome = process_file(f, retain, self.interner.hasher(), None);
        self.take_outcome(outcome, stats, emit);
    }

    fn canonical_of(&mut self, idx: u32, loc: RawLoc) -> Option<u128> {
        if let Some(c) = self.canonical.get(&idx) {
            return *c;
        }
        let c =
            self.files.get(loc.file as usize).and_then(|f| self.raw.read(f, loc).ok()).and_then(|b| canonical_hash(&b));
        self.canonical.insert(idx, c);
        c
    }

    /// Whether the event is an exact copy of one already taken.
    fn is_duplicate(&mut self, id_hash: u64, raw_hash: u64, loc: RawLoc) -> bool {
        if id_hash == 0 {
            return false;
        }
        let new_idx = self.events_len;
        let ids = &self.id_hashes;
        // Id hashes have their low bit set (0 means no id); mix it away for the table.
        let slot = |h: u64| h ^ (h >> 29);
        let first = match self.by_id.entry(slot(id_hash), |&i| ids[i as usize] == id_hash, |&i| slot(ids[i as usize])) {
            hashbrown::hash_table::Entry::Occupied(e) => *e.get(),
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(new_idx);
                return false;
            }
        };
        let mut candidates = vec![first];
        candidates.extend(self.more_by_id.get(&id_hash).into_iter().flatten());
        if candidates.iter().any(|&c| self.raw_hashes[c as usize] == raw_hash) {
            return true;
        }
        // Same id, different bytes: the same content may still be written differently
        // (key order, whitespace, lookup-events vs trail file). Compare canonical forms.
        let mine = self.canonical_of(new_idx, loc);
        if mine.is_some() {
            for c in candidates {
                let other_loc = self.locs[c as usize];
                if self.canonical_of(c, other_loc) == mine {
                    self.canonical.remove(&new_idx);
                    return true;
                }
            }
        }
        self.more_by_id.entry(id_hash).or_default().push(new_idx);
        false
    }

    fn take(&mut self, local: LocalBatch) -> usize {
        let remap: Vec<Sym> = std::iter::once(0)
            .chain((1..local.ends.len() as Sym).map(|sym| {
                let (s, hash) = local.local(sym);
                self.interner.intern_hashed(s, hash)
            }))
            .collect();
        // Local profiles to global ones, as events use them (the profile of events that were
        // all duplicates is not added).
        let mut premap = vec![u32::MAX; local.profiles.len()];
        let uniq_base = self.strings_len as u32;
        let mut dups = 0;
        let mut kept_uniq = String::new();
        for (mut ev, (id_hash, raw_hash)) in local.events.into_iter().zip(local.hashes) {
            if self.is_duplicate(id_hash, raw_hash, ev.loc) {
                dups += 1;
                continue;
            }
            for s in ev.own.iter_mut() {
                *s = remap[*s as usize];
            }
            let global = &mut premap[ev.profile as usize];
            if *global == u32::MAX {
                let p = local.profiles.get(ev.profile).map(|s| remap[s as usize]);
                let before = self.profiles.len();
                *global = self.profiles.intern(&p);
                if self.profiles.len() > before {
                    self.pending.new_profiles.push(p);
                }
            }
            ev.profile = *global;
            let mut copy = |r: StrRef| {
                let s = &local.uniq[r.off as usize..(r.off + r.len) as usize];
                let off = uniq_base + kept_uniq.len() as u32;
                kept_uniq.push_str(s);
                StrRef { off, len: r.len }
            };
            if ev.event_id_shape() == IdShape::Text {
                ev.event_id = IdBits::text(copy(ev.event_id.str_ref()));
            }
            if ev.request_id_shape() == IdShape::Text {
                ev.request_id = IdBits::text(copy(ev.request_id.str_ref()));
            }
            let res_start = self.res_len as u32;
            for &r in &local.res[ev.res_start as usize..(ev.res_start + ev.res_len) as usize] {
                self.pending.resources.push(remap[r as usize]);
            }
            self.res_len += ev.res_len as u64;
            ev.res_start = res_start;
            self.id_hashes.push(id_hash);
            self.raw_hashes.push(raw_hash);
            self.locs.push(ev.loc);
            self.pending.events.push(ev);
            self.events_len += 1;
        }
        self.strings_len += kept_uniq.len() as u64;
        self.pending.strings.push_str(&kept_uniq);
        dups
    }

    /// Takes one file's result: its events, its counts, and any problem it had.
    fn take_outcome(&mut self, outcome: FileOutcome, stats: &mut LoadStats, emit: &mut dyn FnMut(SourceMsg)) {
        stats.files_done += 1;
        stats.bytes += outcome.bytes;
        let display = self.files.get(outcome.file as usize).map(|f| f.display.clone()).unwrap_or_default();
        if let Some(content) = outcome.content {
            self.raw.offer(outcome.file, content);
        }
        match outcome.result {
            Ok((kind, local, partial)) => {
                stats.files_read += 1;
                if kind == InputKind::Digest {
                    stats.digests += 1;
                }
                let n = local.events.len();
                let dups = self.take(local);
                stats.duplicates += dups;
                stats.events += n - dups;
                if let Some(reason) = partial {
                    emit(SourceMsg::Problem(Problem { input: display, reason, skipped: false }));
                }
            }
            Err(reason) => emit(SourceMsg::Problem(Problem { input: display, reason, skipped: true })),
        }
    }

    /// Everything taken since the last flush, ready to apply to an [`EventStore`](crate::model::EventStore).
    pub fn flush(&mut self) -> Option<Batch> {
        if self.pending.events.is_empty() && !self.interner.has_new() && self.pending.new_profiles.is_empty() {
            return None;
        }
        let mut batch = std::mem::take(&mut self.pending);
        batch.new_syms = self.interner.take_new();
        Some(batch)
    }
}

/// Structural hash of a JSON document, independent of object key order and whitespace.
pub fn canonical_hash(bytes: &[u8]) -> Option<u128> {
    fn walk(v: &serde_json::Value, h: &mut Vec<u8>) {
        use serde_json::Value::*;
        match v {
            Null => h.push(0),
            Bool(b) => h.extend([1, *b as u8]),
            Number(n) => {
                h.push(2);
                h.extend(n.to_string().as_bytes());
                h.push(0xff);
            }
            String(s) => {
                h.push(3);
                h.extend((s.len() as u64).to_le_bytes());
                h.extend(s.as_bytes());
            }
            Array(a) => {
                h.push(4);
                h.extend((a.len() as u64).to_le_bytes());
                a.iter().for_each(|x| walk(x, h));
            }
            Object(o) => {
                h.push(5);
                h.extend((o.len() as u64).to_le_bytes());
                let mut keys: Vec<_> = o.iter().collect();
                keys.sort_by(|a, b| a.0.cmp(b.0));
                for (k, v) in keys {
                    h.extend((k.len() as u64).to_le_bytes());
                    h.extend(k.as_bytes());
                    walk(v, h);
                }
            }
        }
    }
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let mut buf = Vec::with_capacity(bytes.len());
    walk(&v, &mut buf);
    Some(xxhash_rust::xxh3::xxh3_128(&buf))
}

/// When the coordinator last handed a batch over, and how many files that batch covered.
struct HandOver {
    last: Option<Instant>,
    sent_done: usize,
    interval: Duration,
}

impl HandOver {
    fn maybe(&mut self, coord: &mut Ingest, stats: &LoadStats, emit: &mut dyn FnMut(SourceMsg)) {
        let due = self.last.is_none_or(|t| t.elapsed() >= self.interval);
        if due && stats.files_done > self.sent_done {
            self.sent_done = stats.files_done;
            emit(SourceMsg::Batch(coord.flush().unwrap_or_default(), stats.clone()));
            self.last = Some(Instant::now());
        }
    }
}

/// Inputs as discovery finds them, shared by the discovering thread, the workers that read
/// them in order and the coordinator that announces them.
#[derive(Default)]
struct Discovered {
    state: std::sync::Mutex<DiscoveredState>,
    more: std::sync::Condvar,
}

#[derive(Default)]
struct DiscoveredState {
    files: Vec<Arc<SourceFile>>,
    problems: Vec<Problem>,
    /// How many files and problems the coordinator has announced.
    sent_files: usize,
    sent_problems: usize,
    done: bool,
}

impl Discovered {
    fn lock(&self) -> std::sync::MutexGuard<'_, DiscoveredState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs the search, publishing files in small groups (the first at once).
    fn run(&self, search: &Search<'_>) {
        /// Ends the search however this returns, so that no worker waits for more forever.
        struct Finish<'a>(&'a Discovered);
        impl Drop for Finish<'_> {
            fn drop(&mut self) {
                self.0.lock().done = true;
                self.0.more.notify_all();
            }
        }
        let _finish = Finish(self);
        const GROUP: usize = 64;
        let mut files = Vec::new();
        let mut first = true;
        // Ids are the order of publishing, whatever the search numbered.
        let mut next_id = 0u32;
        search(&mut |f| match f {
            Found::File(mut f) => {
                f.id = next_id;
                next_id += 1;
                // Content already in memory (an object fetched from a server) came slowly and is
                // ready: it is not held back for a group.
                let ready = f.memory.get().is_some();
                files.push(Arc::new(f));
                if first || ready || files.len() >= GROUP {
                    first = false;
                    self.publish(&mut files);
                }
            }
            Found::Problem(p) => self.lock().problems.push(p),
        });
        self.publish(&mut files);
    }

    /// Makes `files` (the next ones found, in order) available to the workers.
    fn publish(&self, files: &mut Vec<Arc<SourceFile>>) {
        self.lock().files.append(files);
        self.more.notify_all();
    }

    /// The `i`th input, once found; `None` when the search ended with fewer.
    fn get(&self, i: usize) -> Option<Arc<SourceFile>> {
        let mut st = self.lock();
        loop {
            if let Some(f) = st.files.get(i) {
                return Some(f.clone());
            }
            if st.done {
                return None;
            }
            st = self.more.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Announces what was found since the last call: problems, then files (ids in order).
    fn hand_over(&self, coord: &mut Ingest, stats: &mut LoadStats, emit: &mut dyn FnMut(SourceMsg)) {
        let mut st = self.lock();
        let problems: Vec<Problem> = st.problems[st.sent_problems..].to_vec();
        let files: Vec<Arc<SourceFile>> = st.files[st.sent_files..].to_vec();
        (st.sent_problems, st.sent_files) = (st.problems.len(), st.files.len());
        stats.files_total = st.files.len();
        stats.discovering = !st.done;
        drop(st);
        for p in problems {
            emit(SourceMsg::Problem(p));
        }
        if !files.is_empty() {
            coord.files.extend(files.iter().cloned());
            emit(SourceMsg::Files(files));
        }
    }
}

/// Finds inputs and hands each to its sink as soon as it is found (see [`discover_into`]).
pub type Search<'a> = dyn Fn(&mut dyn FnMut(Found)) + Sync + 'a;

/// Loads every input: discovery, then parallel parsing with results taken in file order
/// (so event order and de-duplication are deterministic), streaming to `emit`.
pub fn load(inputs: &[String], opts: &LoadOptions, raw: &RawReader, emit: &mut dyn FnMut(SourceMsg)) -> LoadStats {
    let on_disk = inputs.iter().any(|i| i != "-");
    load_found(&|sink| discover_into(inputs, sink), on_disk, opts, raw, emit)
}

/// [`load`] of the inputs that `search` finds (files on disk, objects fetched from a server,
/// content in memory), read and parsed by the same workers as they come. `on_disk`: some
/// inputs may be files, for which the archive index is worth opening.
pub fn load_found(
    search: &Search<'_>,
    on_disk: bool,
    opts: &LoadOptions,
    raw: &RawReader,
    emit: &mut dyn FnMut(SourceMsg),
) -> LoadStats {
    let mut stats = LoadStats { discovering: true, ..Default::default() };
    let mut coord = Ingest::new(raw);
    let index = match &opts.cache {
        Some(c) if !opts.retain_content && on_disk => open_index(c, emit),
        _ => None,
    };
    let mut index_writes = IndexWrites::default();
    let found = Discovered::default();
    let next = AtomicUsize::new(0);
    let threads = opts.threads.clamp(1, 64);
    let (tx, rx) = crossbeam_channel::bounded::<FileOutcome>(threads * 4);
    std::thread::scope(|scope| {
        // Discovery runs beside the reading: the first files are read (and on screen) while a
        // tree of a year of archives is still being searched.
        let found = &found;
        std::thread::Builder::new()
            .name("discover".into())
            .spawn_scoped(scope, move || found.run(search))
            .expect("starting the discovery thread");
        for _ in 0..threads {
            let tx = tx.clone();
            let next = &next;
            let retain = opts.retain_content;
            let index = index.as_ref();
            let hasher = coord.interner.hasher().clone();
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(file) = found.get(i) else { break };
                if tx.send(process_file(&file, retain, &hasher, index)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut waiting: HashMap<u32, FileOutcome> = HashMap::new();
        let mut expect = 0u32;
        // Hand over whenever the interval has passed (the first file at once, for a fast first
        // screen), also in the middle of a run of files that were waiting.
        let mut hand_over = HandOver { last: None, sent_done: 0, interval: opts.batch_interval };
        let mut open = true;
        while open || waiting.contains_key(&expect) {
            // Wake up at least once per interval, so what is pending is handed over even while
            // the next file is slow to come (a pipe, a huge file).
            if open && !waiting.contains_key(&expect) {
                match rx.recv_timeout(opts.batch_interval) {
                    Ok(o) => {
                        waiting.insert(o.file, o);
                    }
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                    Err(crossbeam_channel::RecvTimeoutError::Disconnected) => open = false,
                }
            }
            // Every file a worker has read was found before: announce it before its events.
            found.hand_over(&mut coord, &mut stats, emit);
            while let Some(mut outcome) = waiting.remove(&expect) {
                expect += 1;
                if let (Some(ix), Some(update)) = (index.as_ref(), outcome.index.take()) {
                    index_writes.add(update);
                    if index_writes.bytes > 64 << 20 {
                        index_writes.write(ix, emit);
                    }
                }
                coord.take_outcome(outcome, &mut stats, emit);
                hand_over.maybe(&mut coord, &stats, emit);
            }
            hand_over.maybe(&mut coord, &stats, emit);
        }
    });
    found.hand_over(&mut coord, &mut stats, emit);
    if let Some(b) = coord.flush() {
        emit(SourceMsg::Batch(b, stats.clone()));
    }
    emit(SourceMsg::Done(stats.clone()));
    // After the events are handed over: the user does not wait for the index to be written.
    if let Some(ix) = index.as_ref() {
        index_writes.write(ix, emit);
    }
    stats
}

/// Opens the store for the archive index; a store that cannot be used is a warning.
fn open_index(c: &crate::cache::CacheConfig, emit: &mut dyn FnMut(SourceMsg)) -> Option<IndexCtx> {
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
struct IndexWrites {
    new: Vec<(FileKey, u32, Vec<u8>)>,
    used: Vec<FileKey>,
    bytes: usize,
    failed: bool,
}

impl IndexWrites {
    fn add(&mut self, u: IndexUpdate) {
        match u {
            IndexUpdate::Reused(k) => self.used.push(k),
            IndexUpdate::New(k, n, blob) => {
                self.bytes += blob.len();
                self.new.push((k, n, blob));
            }
        }
    }
    fn write(&mut self, ix: &IndexCtx, emit: &mut dyn FnMut(SourceMsg)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_wait_for_discovery_and_stop_when_it_ends() {
        let found = Discovered::default();
        let file = |id| Arc::new(SourceFile::in_memory(id, "f", Vec::new()));
        std::thread::scope(|scope| {
            let first = scope.spawn(|| found.get(0));
            let second = scope.spawn(|| found.get(1));
            std::thread::sleep(Duration::from_millis(50));
            assert!(!first.is_finished(), "nothing found yet: the worker waits");
            found.publish(&mut vec![file(0)]);
            assert_eq!(first.join().unwrap().map(|f| f.id), Some(0));
            std::thread::sleep(Duration::from_millis(50));
            assert!(!second.is_finished());
            // The end of the search releases workers asking beyond the last file (here a search
            // that finds only a problem).
            found.run(&|sink| discover_into(&["/nonexistent/trailscope-input".to_string()], sink));
            assert!(second.join().unwrap().is_none());
        });
        // The coordinator announces each file and problem once, in order.
        let raw = RawReader::new(1 << 20);
        let mut coord = Ingest::new(&raw);
        let mut stats = LoadStats::default();
        let mut msgs = Vec::new();
        found.hand_over(&mut coord, &mut stats, &mut |m| msgs.push(m));
        found.hand_over(&mut coord, &mut stats, &mut |m| msgs.push(m));
        assert!(matches!(&msgs[..], [SourceMsg::Problem(_), SourceMsg::Files(f)] if f.len() == 1));
        assert_eq!((stats.files_total, stats.discovering, coord.files.len()), (1, false, 1));
    }

    #[test]
    fn a_tree_searched_beside_the_reading_is_read_once_in_path_order() {
        // 1,200 files in 30 directories, published to the workers in groups as found.
        let dir = tempfile::tempdir().unwrap();
        for d in 0..30 {
            let sub = dir.path().join(format!("d{d:02}"));
            std::fs::create_dir(&sub).unwrap();
            for f in 0..40 {
                let rec = format!(r#"{{"Records":[{{"eventID":"e{d}-{f}","eventTime":"2024-01-01T00:00:00Z"}}]}}"#);
                std::fs::write(sub.join(format!("f{f:02}.json")), rec).unwrap();
            }
        }
        let raw = RawReader::new(1 << 20);
        let opts = LoadOptions { threads: 2, batch_interval: Duration::from_millis(1), ..Default::default() };
        let (mut files, mut events) = (Vec::new(), 0);
        let stats = load(&[dir.path().to_string_lossy().into_owned()], &opts, &raw, &mut |m| match m {
            SourceMsg::Files(f) => files.extend(f.iter().map(|f| (f.id, f.path.clone()))),
            SourceMsg::Batch(b, _) => events += b.events.len(),
            _ => {}
        });
        assert_eq!((stats.files_total, stats.events, events, stats.discovering), (1200, 1200, 1200, false));
        assert!(files.iter().enumerate().all(|(i, (id, _))| *id as usize == i), "ids in the order announced");
        let mut sorted = files.clone();
        sorted.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(files, sorted, "announced in path order");
    }

    #[test]
    fn canonical_hash_ignores_key_order_and_space() {
        let a = canonical_hash(br#"{"a":1,"b":[1,{"x":"y","z":null}]}"#);
        let b = canonical_hash(b"{ \"b\" : [1, {\"z\":null, \"x\":\"y\"}], \"a\": 1 }");
        let c = canonical_hash(br#"{"a":2,"b":[1,{"x":"y","z":null}]}"#);
        assert!(a.is_some());
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
