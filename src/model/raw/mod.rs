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
}
