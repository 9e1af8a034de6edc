//! Input files and reading their content back: whole (for parsing) or one record at a time
//! (for the detail view and `print`).

mod reader;
mod spill;

pub use reader::{RawBytes, RawReader};

use crate::sanitize::sanitize;
use spill::Spill;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
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
/// a private temporary file once read, since it cannot be read twice.
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
    /// Content given in memory (pages of live history, tests).
    pub memory: OnceLock<Arc<Vec<u8>>>,
    /// A stream's content as read, kept on disk.
    spill: OnceLock<Arc<Spill>>,
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
            spill: OnceLock::new(),
            key: next_key(),
        }
    }
    /// A stream, read when its turn comes.
    pub fn stream(id: u32, path: PathBuf, kind: Stream) -> Self {
        let display =
            if kind == Stream::Stdin { "<stdin>".to_string() } else { sanitize(&path.to_string_lossy()).into_owned() };
        Self {
            id,
            path,
            display,
            size: 0,
            mtime: None,
            stream: Some(kind),
            memory: OnceLock::new(),
            spill: OnceLock::new(),
            key: next_key(),
        }
    }
    /// Content given directly (tests, and streams already read).
    pub fn in_memory(id: u32, name: &str, content: Vec<u8>) -> Self {
        let f = Self::stream(id, PathBuf::from(name), Stream::Pipe);
        let _ = f.memory.set(Arc::new(content));
        f
    }

    /// Asks the system to start reading a file on disk into memory, for it is read soon: an
    /// archive not read lately is then read from the disk while the files before it are
    /// parsed, not while a worker waits for it. Nothing for streams and content in memory,
    /// and nothing said if it cannot be done (the read itself says what is wrong).
    pub fn will_need(&self) {
        if self.stream.is_some() || self.memory.get().is_some() {
            return;
        }
        // Without waiting in the open: a file swapped for a named pipe since it was found
        // would hold this worker until a writer came (its own read says what it is).
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
        {
            use std::os::unix::fs::OpenOptionsExt;
            let open = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&self.path);
            if let Ok(f) = open {
                let _ = rustix::fs::fadvise(&f, 0, None, rustix::fs::Advice::WillNeed);
            }
        }
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
    /// No JSON value starts, or none ends, where the record was found.
    #[error("no record is where one was found; the file changed")]
    NoRecord,
    /// Content that is not JSON, found from its first bytes (what they are).
    #[error("{0}")]
    NotJson(String),
    /// A lookup-events `CloudTrailEvent` that does not decode as a JSON string.
    #[error("CloudTrailEvent is not a JSON string: {0}")]
    NotAString(serde_json::Error),
}

/// Reads a file's whole content, decompressing gzip (detected by its magic bytes).
pub fn read_content(file: &SourceFile) -> Result<(Vec<u8>, ContentNotes), ReadError> {
    let bytes = match (file.memory.get(), file.stream) {
        (Some(m), _) => m.as_ref().clone(),
        (None, Some(kind)) => {
            // Kept on disk as it comes, for reading records back: a stream is read once.
            let spill = match kind {
                Stream::Stdin => Spill::copy_from(&[], &mut std::io::stdin().lock())?,
                Stream::Pipe => Spill::copy_from(&[], &mut File::open(&file.path)?)?,
            };
            let spill = file.spill.get_or_init(|| Arc::new(spill));
            let mut buf = Vec::with_capacity(spill.len() as usize);
            spill.reader().read_to_end(&mut buf)?;
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
    decode_within(bytes, MAX_CONTENT as usize)?.ok_or(ReadError::DecompressesTooLarge)
}

/// What a failed read of a gzip stream means for the user.
fn gzip_error(e: std::io::Error) -> ReadError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        ReadError::TruncatedGzip
    } else {
        ReadError::CorruptGzip(sanitize(&e.to_string()).into_owned())
    }
}

/// [`decode`], giving up (`None`) on content larger than `limit` bytes; content that does not
/// start as JSON does is refused from its first bytes, not after inflating all of it.
pub fn decode_within(bytes: Vec<u8>, limit: usize) -> Result<Option<(Vec<u8>, ContentNotes)>, ReadError> {
    let mut notes = ContentNotes::default();
    if !is_gzip(&bytes) {
        return Ok((bytes.len() <= limit).then_some((bytes, notes)));
    }
    if trailer_size(&bytes) <= limit {
        if let Some(out) = inflate_whole(&bytes) {
            return Ok(Some((out, notes)));
        }
    }
    let mut out = Vec::new();
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
        if members == 0 {
            // The first bytes say whether it is JSON at all (a gigabyte of zeros is not).
            // A damaged stream is said as such here: the decoder does not say it twice.
            dec.by_ref().take(HEAD).read_to_end(&mut out).map_err(gzip_error)?;
            if let Some(what) = not_json(&out) {
                return Err(ReadError::NotJson(what));
            }
            // Sized by the trailer, within reason: a trailer is easily made to lie.
            out.reserve(trailer_size(&bytes).min(limit).min(bytes.len().saturating_mul(16)));
        }
        let room = (limit + 1).saturating_sub(out.len()) as u64;
        dec.by_ref().take(room).read_to_end(&mut out).map_err(gzip_error)?;
        if out.len() > limit {
            return Ok(None);
        }
        members += 1;
        rest = dec.into_inner();
    }
    if members == 0 {
        return Err(ReadError::EmptyGzip);
    }
    Ok(Some((out, notes)))
}

/// How much is inflated to decide whether content is JSON.
const HEAD: u64 = 4096;

/// The size a gzip file's trailer states (of its last member, modulo 4 GiB).
fn trailer_size(bytes: &[u8]) -> usize {
    match bytes.len().checked_sub(4).and_then(|at| bytes.get(at..)) {
        Some(t) => u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize,
        None => 0,
    }
}

/// Why content whose first bytes are `head` is not JSON; `None` when it may be (it starts
/// with an object or an array, or with nothing but whitespace so far).
pub fn not_json(head: &[u8]) -> Option<String> {
    let body = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let first = body.iter().position(|b| !b.is_ascii_whitespace())?;
    match body[first] {
        b'{' | b'[' => None,
        _ => Some(describe_non_json(&body[first..])),
    }
}

/// What content that is not JSON starts with, for the user: its first characters, or its
/// first bytes in hex when they are not printable.
pub fn describe_non_json(b: &[u8]) -> String {
    let head = &b[..b.len().min(8)];
    let printable = head.iter().all(|c| c.is_ascii_graphic() || *c == b' ');
    if printable {
        format!("not JSON: it starts with \"{}\"", sanitize(&String::from_utf8_lossy(head)))
    } else {
        let hex: Vec<String> = head.iter().map(|c| format!("{c:02x}")).collect();
        format!("not JSON (binary content starting with bytes {})", hex.join(" "))
    }
}

/// An input's content as loading reads it: whole, or as a stream when larger than the limit
/// asked for (or when its size is not known before reading it all).
pub enum Opened {
    /// The content, decompressed, with what was wrong but did not stop the reading.
    Whole(Vec<u8>, ContentNotes),
    /// A reader of the content, decompressing as it goes.
    Stream(Box<dyn Read + Send>),
}

/// Opens an input for loading: content up to `whole_max` bytes is read whole (the fast
/// parsers work on it), larger content is handed over as a stream, so that what loading
/// holds is bounded whatever the input's size. A stream (standard input, a pipe) is kept on
/// disk as it is read, for reading records back.
pub fn open_content(file: &SourceFile, whole_max: usize) -> Result<Opened, ReadError> {
    if let Some(m) = file.memory.get() {
        // Already in memory (pages of live history): nothing is saved by streaming it.
        let (content, notes) = decode(m.as_ref().clone())?;
        return Ok(Opened::Whole(content, notes));
    }
    if let Some(kind) = file.stream {
        let spill = match kind {
            Stream::Stdin => Spill::copy_from(&[], &mut std::io::stdin().lock())?,
            Stream::Pipe => Spill::copy_from(&[], &mut File::open(&file.path)?)?,
        };
        let spill = file.spill.get_or_init(|| Arc::new(spill)).clone();
        let gzip = is_gzip(&spill.read(0..spill.len().min(2))?);
        if spill.len() <= whole_max as u64 {
            let mut bytes = Vec::with_capacity(spill.len() as usize);
            spill.reader().read_to_end(&mut bytes)?;
            if let Some((content, notes)) = decode_within(bytes, whole_max)? {
                return Ok(Opened::Whole(content, notes));
            }
        }
        let reader: Box<dyn Read + Send> = Box::new(spill.reader());
        return Ok(Opened::Stream(if gzip { gunzip(reader) } else { reader }));
    }
    let gzip = if file.size <= whole_max as u64 {
        let bytes = read_file(file)?;
        let gzip = is_gzip(&bytes);
        if let Some((content, notes)) = decode_within(bytes, whole_max)? {
            return Ok(Opened::Whole(content, notes));
        }
        gzip
    } else {
        let mut magic = [0u8; 2];
        let n = File::open(&file.path)?.read(&mut magic)?;
        n == 2 && is_gzip(&magic)
    };
    let f: Box<dyn Read + Send> = Box::new(File::open(&file.path)?);
    Ok(Opened::Stream(if gzip { gunzip(f) } else { f }))
}

/// The bytes of `range` of a plain file on disk, for loading one part of it (see
/// `source::split`); refused when the file is no longer as it was found.
pub fn read_range(file: &SourceFile, range: std::ops::Range<u64>) -> Result<Vec<u8>, ReadError> {
    use std::os::unix::fs::FileExt;
    let f = File::open(&file.path)?;
    let meta = f.metadata()?;
    if meta.len() != file.size || meta.modified().ok() != file.mtime {
        return Err(ReadError::Changed);
    }
    if range.end > file.size || range.end < range.start {
        return Err(ReadError::BeyondEnd);
    }
    let mut buf = spare_buffer((range.end - range.start) as usize);
    f.read_exact_at(&mut buf, range.start)?;
    Ok(buf)
}

/// A reader of the gzip members of `input`, decompressed.
fn gunzip(input: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
    Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 16, input)))
}

/// The fast path: a single-member gzip file inflated in one call by libdeflate, sized by the
/// trailer's ISIZE. Anything else (several members, trailing data, damage, an implausible
/// size) returns `None` and goes the streaming way, which also explains what is wrong.
pub(crate) fn inflate_whole(bytes: &[u8]) -> Option<Vec<u8>> {
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
    if buf.capacity() < size {
        // A little over, so that the next file a little larger fits; never double.
        buf = Vec::with_capacity(size + size / 16);
    }
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

    #[cfg(target_os = "linux")]
    #[test]
    fn asking_for_a_file_ahead_never_waits_on_it() {
        // A file found on disk, then swapped for a named pipe no one writes to; and one gone.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json.gz");
        std::fs::write(&path, gz(b"{}")).unwrap();
        let found = SourceFile::on_disk(0, path.clone(), &std::fs::metadata(&path).unwrap());
        found.will_need();
        std::fs::remove_file(&path).unwrap();
        found.will_need();
        assert!(std::process::Command::new("mkfifo").arg(&path).status().unwrap().success());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            found.will_need();
            let _ = tx.send(());
        });
        rx.recv_timeout(std::time::Duration::from_secs(5)).expect("asking for a named pipe returns at once");
    }

    #[test]
    fn gzip_members_and_damage() {
        let one = gz(b"{\"hello\": ");
        let mut two = one.clone();
        two.extend(gz(b"\"world\"}"));
        assert_eq!(decode(two).unwrap().0, b"{\"hello\": \"world\"}");
        let truncated = one[..one.len() / 2].to_vec();
        assert!(decode(truncated).unwrap_err().to_string().contains("truncated"));
        let mut garbage = one.clone();
        garbage.extend(b"GARBAGE");
        let (out, notes) = decode(garbage).unwrap();
        assert_eq!(out, b"{\"hello\": ");
        assert_eq!(notes.warnings.len(), 1);
        assert_eq!(decode(b"plain".to_vec()).unwrap().0, b"plain");
        // A gzip header followed by nothing of a stream is damaged, not empty.
        let mut zeros = vec![0u8; 200];
        zeros[..2].copy_from_slice(&[0x1f, 0x8b]);
        assert!(matches!(decode(zeros).unwrap_err(), ReadError::CorruptGzip(_) | ReadError::TruncatedGzip));
    }
}
