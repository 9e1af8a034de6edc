//! Input files and reading their content back: whole (for parsing) or one record at a time
//! (for the detail view and `print`).

use crate::model::RawLoc;
use crate::sanitize::sanitize;
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::{Deref, Range};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

/// Where a record sits in the decompressed content.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ByteSpan {
    /// Offset of the record's first byte.
    pub offset: u64,
    /// Length of the record in bytes.
    pub len: u32,
    /// A JSON string literal holding the record (lookup-events `CloudTrailEvent`).
    pub escaped: bool,
}

/// Decompressed content larger than this is refused rather than exhausting memory.
pub const MAX_CONTENT: u64 = 4 << 30;

/// One input: a file on disk, or a stream (standard input, a pipe) whose content is kept in
/// memory once read, since it cannot be read twice.
#[derive(Debug)]
pub struct SourceFile {
    /// The input's number within its source, in the order found.
    pub id: u32,
    /// Where it is read from.
    pub path: PathBuf,
    /// The path as shown to the user, already sanitised.
    pub display: String,
    /// Size on disk when found (0 for streams).
    pub size: u64,
    /// Modification time when found, to notice a file that changed.
    pub mtime: Option<SystemTime>,
    /// A stream, read once (`None` for a file on disk).
    pub stream: Option<Stream>,
    /// A stream's content, once read.
    pub memory: OnceLock<Arc<Vec<u8>>>,
    /// Unique in the process: what read-back caches key on. Several sources number their
    /// inputs from 0 each, and share one [`RawReader`].
    key: u64,
}

/// The next [`SourceFile::key`].
fn next_key() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// What kind of stream an input is.
pub enum Stream {
    /// Standard input (`-`).
    Stdin,
    /// A FIFO or device named on the command line (`trailscope <(zcat ...)`).
    Pipe,
}

impl SourceFile {
    /// A file found on disk, with its size and modification time.
    pub fn on_disk(id: u32, path: PathBuf, meta: &std::fs::Metadata) -> Self {
        let display = sanitize(&path.to_string_lossy()).into_owned();
        Self {
            id,
            path,
            display,
            size: meta.len(),
            mtime: meta.modified().ok(),
            stream: None,
            memory: OnceLock::new(),
            key: next_key(),
        }
    }
    /// A stream, read when its turn comes.
    pub fn stream(id: u32, path: PathBuf, kind: Stream) -> Self {
        let display =
            if kind == Stream::Stdin { "<stdin>".to_string() } else { sanitize(&path.to_string_lossy()).into_owned() };
        Self { id, path, display, size: 0, mtime: None, stream: Some(kind), memory: OnceLock::new(), key: next_key() }
    }
    /// Content given directly (tests, and streams already read).
    pub fn in_memory(id: u32, name: &str, content: Vec<u8>) -> Self {
        let f = Self::stream(id, PathBuf::from(name), Stream::Pipe);
        let _ = f.memory.set(Arc::new(content));
        f
    }
}

/// What reading a file's content produced besides the bytes.
#[derive(Debug, Default)]
pub struct ContentNotes {
    /// Things that were wrong but did not stop the reading (trailing data after gzip).
    pub warnings: Vec<String>,
}

/// Whether the bytes start with gzip's magic number.
pub fn is_gzip(b: &[u8]) -> bool {
    b.len() >= 2 && b[0] == 0x1f && b[1] == 0x8b
}

/// Why an input's content, or a record in it, could not be read. The text is what the user
/// sees beside the input's name (sanitised).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Opening, reading or seeking failed.
    #[error("{}", io_reason(.0))]
    Io(#[from] std::io::Error),
    /// More than [`MAX_CONTENT`] bytes as stored.
    #[error("larger than {} GiB", MAX_CONTENT >> 30)]
    TooLarge,
    /// More than [`MAX_CONTENT`] bytes once decompressed.
    #[error("decompresses to more than {} GiB", MAX_CONTENT >> 30)]
    DecompressesTooLarge,
    /// The gzip data ends before its end.
    #[error("truncated gzip (the file ends before the compressed data does)")]
    TruncatedGzip,
    /// The gzip data is damaged (why, sanitised).
    #[error("corrupt gzip: {0}")]
    CorruptGzip(String),
    /// A gzip header with no member after it.
    #[error("empty gzip stream")]
    EmptyGzip,
    /// A stream (standard input, a pipe) whose content was not kept.
    #[error("the stream's content is no longer available")]
    StreamGone,
    /// The file's size or modification time differ from when it was loaded.
    #[error("the file changed since it was loaded; reload to see its current content")]
    Changed,
    /// The record's place is past the content's end.
    #[error("the record lies beyond the end of the file's content; the file changed")]
    BeyondEnd,
    /// A lookup-events `CloudTrailEvent` that does not decode as a JSON string.
    #[error("CloudTrailEvent is not a JSON string: {0}")]
    NotAString(serde_json::Error),
}

/// Reads a file's whole content, decompressing gzip (detected by its magic bytes).
pub fn read_content(file: &SourceFile) -> Result<(Vec<u8>, ContentNotes), ReadError> {
    let bytes = match (file.memory.get(), file.stream) {
        (Some(m), _) => m.as_ref().clone(),
        (None, Some(kind)) => {
            let mut buf = Vec::new();
            let read = match kind {
                Stream::Stdin => std::io::stdin().lock().take(MAX_CONTENT + 1).read_to_end(&mut buf),
                Stream::Pipe => File::open(&file.path).and_then(|f| f.take(MAX_CONTENT + 1).read_to_end(&mut buf)),
            };
            read?;
            if buf.len() as u64 > MAX_CONTENT {
                return Err(ReadError::TooLarge);
            }
            let _ = file.memory.set(Arc::new(buf.clone()));
            buf
        }
        (None, None) => read_file(file)?,
    };
    decode(bytes)
}

fn read_file(file: &SourceFile) -> Result<Vec<u8>, ReadError> {
    let mut f = File::open(&file.path)?;
    let mut buf = Vec::with_capacity(file.size.min(MAX_CONTENT) as usize);
    f.by_ref().take(MAX_CONTENT + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_CONTENT {
        return Err(ReadError::TooLarge);
    }
    Ok(buf)
}

/// An I/O error as the user reads it beside an input's name: short for the usual kinds,
/// sanitised.
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file or directory".into(),
        PermissionDenied => "permission denied".into(),
        IsADirectory => "is a directory".into(),
        _ => sanitize(&e.to_string()).into_owned(),
    }
}

/// Decompresses gzip content (every member; trailing garbage after a complete member is
/// ignored with a warning); other content is returned as it is.
pub fn decode(bytes: Vec<u8>) -> Result<(Vec<u8>, ContentNotes), ReadError> {
    let mut notes = ContentNotes::default();
    if !is_gzip(&bytes) {
        return Ok((bytes, notes));
    }
    if let Some(out) = inflate_whole(&bytes) {
        return Ok((out, notes));
    }
    let hint = if bytes.len() >= 4 {
        let t = &bytes[bytes.len() - 4..];
        u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize
    } else {
        0
    };
    let mut out = Vec::with_capacity(hint.clamp(bytes.len(), 1 << 30));
    let mut rest: &[u8] = &bytes;
    let mut members = 0;
    while !rest.is_empty() {
        if !is_gzip(rest) {
            if rest.iter().all(|&b| b == 0 || b.is_ascii_whitespace()) {
                break;
            }
            notes.warnings.push(format!("{} bytes of trailing data after the gzip stream were ignored", rest.len()));
            break;
        }
        let mut dec = flate2::bufread::GzDecoder::new(rest);
        let limit = MAX_CONTENT + 1 - out.len() as u64;
        match dec.by_ref().take(limit).read_to_end(&mut out) {
            Ok(_) => {}
            Err(e) => {
                return Err(if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    ReadError::TruncatedGzip
                } else {
                    ReadError::CorruptGzip(sanitize(&e.to_string()).into_owned())
                });
            }
        }
        if out.len() as u64 > MAX_CONTENT {
            return Err(ReadError::DecompressesTooLarge);
        }
        members += 1;
        rest = dec.into_inner();
    }
    if members == 0 {
        return Err(ReadError::EmptyGzip);
    }
    Ok((out, notes))
}

/// The fast path: a single-member gzip file inflated in one call by libdeflate, sized by the
/// trailer's ISIZE. Anything else (several members, trailing data, damage, an implausible
/// size) returns `None` and goes the streaming way, which also explains what is wrong.
fn inflate_whole(bytes: &[u8]) -> Option<Vec<u8>> {
    let t = bytes.get(bytes.len().checked_sub(4)?..)?;
    let size = u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize;
    // JSON compresses 5-20x; a trailer claiming far more is damage or a bomb.
    if size == 0 || size > bytes.len().saturating_mul(64) || size as u64 > MAX_CONTENT {
        return None;
    }
    let mut out = spare_buffer(size);
    let n = libdeflater::Decompressor::new().gzip_decompress(bytes, &mut out).ok()?;
    (n == size).then_some(out)
}

/// Buffers kept for reuse no larger than this, so one huge file does not pin its memory.
const SPARE_MAX: usize = 64 << 20;

thread_local! {
    static SPARE: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A buffer of `size` bytes, the one this thread handed back last if there is one: zeroing
/// and faulting in fresh pages for every file cost more than inflating into used ones.
fn spare_buffer(size: usize) -> Vec<u8> {
    let mut buf = SPARE.with(|s| s.take());
    if buf.len() >= size {
        buf.truncate(size);
    } else {
        buf.resize(size, 0);
    }
    buf
}

/// Hands a content buffer back once its file has been parsed, for the next file this thread
/// inflates.
pub fn recycle(buf: Vec<u8>) {
    if buf.capacity() <= SPARE_MAX {
        SPARE.with(|s| s.set(buf));
    }
}

/// A record's raw bytes: a slice of cached content, or an owned copy.
pub enum RawBytes {
    /// A slice of decompressed content the reader keeps.
    Shared(Arc<Vec<u8>>, Range<usize>),
    /// A copy (read by range, or unescaped).
    Owned(Vec<u8>),
}

impl Deref for RawBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            RawBytes::Shared(a, r) => &a[r.clone()],
            RawBytes::Owned(v) => v,
        }
    }
}

/// Reads records back by location, keeping recently decompressed files in a byte-budgeted
/// LRU so that paging through one archive file does not decompress it again each time.
pub struct RawReader {
    cache: Mutex<Lru>,
}

struct Lru {
    /// By [`SourceFile::key`].
    map: HashMap<u64, Arc<Vec<u8>>>,
    order: VecDeque<u64>,
    bytes: usize,
    budget: usize,
}

impl RawReader {
    /// A reader that keeps up to `budget` bytes of decompressed content.
    pub fn new(budget: usize) -> Self {
        Self { cache: Mutex::new(Lru { map: HashMap::new(), order: VecDeque::new(), bytes: 0, budget }) }
    }

    /// Forgets every cached file (file ids are about to be reused).
    pub fn clear(&self) {
        let mut lru = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        lru.map.clear();
        lru.order.clear();
        lru.bytes = 0;
    }

    /// Offers content already decompressed by the loader.
    pub fn offer(&self, file: &SourceFile, content: Arc<Vec<u8>>) {
        let mut lru = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        lru.insert(file.key, content);
    }

    fn cached(&self, file: u64) -> Option<Arc<Vec<u8>>> {
        let mut lru = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let hit = lru.map.get(&file).cloned();
        if hit.is_some() {
            lru.touch(file);
        }
        hit
    }

    /// The raw record at `loc`, unescaped when it is a JSON string (lookup-events output).
    pub fn read(&self, file: &SourceFile, loc: RawLoc) -> Result<RawBytes, ReadError> {
        let start = loc.offset as usize;
        let range = start..start + loc.len() as usize;
        let raw = match self.whole(file)? {
            Some(content) => slice_of(content, range)?,
            None => self.read_range(file, range)?,
        };
        if loc.escaped() {
            let s: String = serde_json::from_slice(&raw).map_err(ReadError::NotAString)?;
            Ok(RawBytes::Owned(s.into_bytes()))
        } else {
            Ok(raw)
        }
    }

    /// Decompresses a file into the cache ahead of reading its records (`print` does this on
    /// another thread, in the order it will need the files).
    pub fn prefetch(&self, file: &SourceFile) {
        let _ = self.whole(file);
    }

    /// The file's whole content from the cache, or decompressed (and cached) now; `None` for a
    /// plain file on disk, whose records are read by range.
    fn whole(&self, file: &SourceFile) -> Result<Option<Arc<Vec<u8>>>, ReadError> {
        if let Some(content) = self.cached(file.key) {
            return Ok(Some(content));
        }
        if let Some(mem) = file.memory.get() {
            let (content, _) = decode(mem.as_ref().clone())?;
            let content = Arc::new(content);
            self.offer(file, content.clone());
            return Ok(Some(content));
        }
        if file.stream.is_some() {
            return Err(ReadError::StreamGone);
        }
        let meta = std::fs::metadata(&file.path)?;
        if meta.len() != file.size || meta.modified().ok() != file.mtime {
            return Err(ReadError::Changed);
        }
        let mut f = File::open(&file.path)?;
        let mut magic = [0u8; 2];
        let n = f.read(&mut magic)?;
        if n == 2 && is_gzip(&magic) {
            let (content, _) = decode(read_file(file)?)?;
            let content = Arc::new(content);
            self.offer(file, content.clone());
            return Ok(Some(content));
        }
        Ok(None)
    }

    fn read_range(&self, file: &SourceFile, range: Range<usize>) -> Result<RawBytes, ReadError> {
        let mut f = File::open(&file.path)?;
        f.seek(SeekFrom::Start(range.start as u64))?;
        let mut buf = vec![0; range.len()];
        f.read_exact(&mut buf)?;
        Ok(RawBytes::Owned(buf))
    }
}

fn slice_of(content: Arc<Vec<u8>>, range: Range<usize>) -> Result<RawBytes, ReadError> {
    if range.end > content.len() {
        return Err(ReadError::BeyondEnd);
    }
    Ok(RawBytes::Shared(content, range))
}

impl Lru {
    fn insert(&mut self, file: u64, content: Arc<Vec<u8>>) {
        if content.len() > self.budget {
            return;
        }
        if let Some(old) = self.map.insert(file, content.clone()) {
            self.bytes -= old.len();
            self.order.retain(|&f| f != file);
        }
        self.bytes += content.len();
        self.order.push_back(file);
        while self.bytes > self.budget {
            let Some(victim) = self.order.pop_front() else {
                break;
            };
            if let Some(old) = self.map.remove(&victim) {
                self.bytes -= old.len();
            }
        }
    }
    fn touch(&mut self, file: u64) {
        // Reading records back mostly stays in one file for a while: that one is already last.
        if self.order.back() == Some(&file) {
            return;
        }
        if let Some(pos) = self.order.iter().position(|&f| f == file) {
            self.order.remove(pos);
            self.order.push_back(file);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_members_and_damage() {
        let one = gz(b"hello ");
        let mut two = one.clone();
        two.extend(gz(b"world"));
        assert_eq!(decode(two).unwrap().0, b"hello world");
        let truncated = one[..one.len() / 2].to_vec();
        assert!(decode(truncated).unwrap_err().to_string().contains("truncated"));
        let mut garbage = one.clone();
        garbage.extend(b"GARBAGE");
        let (out, notes) = decode(garbage).unwrap();
        assert_eq!(out, b"hello ");
        assert_eq!(notes.warnings.len(), 1);
        assert_eq!(decode(b"plain".to_vec()).unwrap().0, b"plain");
    }

    #[test]
    fn lru_respects_budget() {
        let r = RawReader::new(10);
        let (one, two) = (SourceFile::in_memory(0, "a", Vec::new()), SourceFile::in_memory(0, "b", Vec::new()));
        r.offer(&one, Arc::new(vec![0; 6]));
        r.offer(&two, Arc::new(vec![0; 6]));
        assert!(r.cached(one.key).is_none());
        assert!(r.cached(two.key).is_some(), "files of the same number from two sources are apart");
    }
}
