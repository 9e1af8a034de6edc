//! Reading records back by location: for the detail view, `print` and matching on raw text.
//! The cost of a record is about the record's size whatever the input's size: decompressed
//! content is kept in memory up to a budget, larger content on disk ([`Spill`]), and plain
//! files are read by range.

use super::spill::{inflate_kept, Kept, Spill};
use super::{inflate_whole, is_gzip, ReadError, SourceFile};
use crate::model::scan::{value_end, ValueEnd};
use crate::model::RawLoc;
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::{Deref, Range};
use std::sync::{Arc, Mutex};

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
/// LRU so that paging through one archive file does not decompress it again each time, and
/// content larger than the budget on disk, so that it is decompressed once, not once a record.
pub struct RawReader {
    cache: Mutex<Lru>,
    /// Decompressed content too large for the budget, by [`SourceFile`] key.
    spills: Mutex<HashMap<u64, Arc<Spill>>>,
    /// Plain files on disk, checked (unchanged since loading) and opened once, by
    /// [`SourceFile`] key: their records are read by position, not by opening them again.
    open: Mutex<HashMap<u64, Arc<File>>>,
    /// Single records kept by the loader (those a known filter may select), by
    /// [`SourceFile`] key and offset: read from here, their file is not decompressed again.
    kept: Mutex<KeptRecords>,
    /// Whether `kept` holds anything: while it does not (the TUI), reading takes no lock for it.
    any_kept: std::sync::atomic::AtomicBool,
}

/// Records kept by [`SourceFile`] key and offset.
type KeptRecords = HashMap<(u64, u32), Box<[u8]>>;

/// Plain files kept open at most (a directory of thousands must not use up descriptors).
const OPEN_MAX: usize = 64;

struct Lru {
    /// By [`SourceFile`] key.
    map: HashMap<u64, Arc<Vec<u8>>>,
    order: VecDeque<u64>,
    bytes: usize,
    budget: usize,
}

/// Where a file's content is, for reading a record of it.
enum Whole {
    Memory(Arc<Vec<u8>>),
    Spilled(Arc<Spill>),
    /// A plain file on disk, open: read by position.
    OnDisk(Arc<File>),
}

impl RawReader {
    /// A reader that keeps up to `budget` bytes of decompressed content in memory.
    pub fn new(budget: usize) -> Self {
        Self {
            cache: Mutex::new(Lru { map: HashMap::new(), order: VecDeque::new(), bytes: 0, budget }),
            spills: Mutex::new(HashMap::new()),
            open: Mutex::new(HashMap::new()),
            kept: Mutex::new(HashMap::new()),
            any_kept: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Keeps records of `file` the loader had in hand, by their offset (not escaped: as the
    /// content holds them), so that reading them back reads no file.
    pub fn keep_records(&self, file: &SourceFile, records: Vec<(u32, Box<[u8]>)>) {
        if records.is_empty() {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.extend(records.into_iter().map(|(offset, bytes)| ((file.key, offset), bytes)));
        self.any_kept.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Whether the record at `loc` is kept (see [`RawReader::keep_records`]).
    pub fn is_kept(&self, file: &SourceFile, loc: RawLoc) -> bool {
        self.with_kept(file, loc, |_| ()).is_some()
    }

    /// `f` of the record at `loc` when it is kept.
    fn with_kept<T>(&self, file: &SourceFile, loc: RawLoc, f: impl FnOnce(&[u8]) -> T) -> Option<T> {
        if !self.any_kept.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.get(&(file.key, loc.offset)).map(|b| f(b))
    }

    /// Forgets every cached file (file ids are about to be reused).
    pub fn clear(&self) {
        let mut lru = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        lru.map.clear();
        lru.order.clear();
        lru.bytes = 0;
        self.spills.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.open.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.kept.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.any_kept.store(false, std::sync::atomic::Ordering::Release);
    }

    /// Drops the file's decompressed content from the cache, if it is there (its records are
    /// read for good: see `print`'s CSV).
    pub fn forget(&self, file: &SourceFile) {
        let mut lru = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = lru.map.remove(&file.key) {
            lru.bytes -= old.len();
            lru.order.retain(|&f| f != file.key);
        }
    }

    /// Offers content already decompressed by the loader.
    pub fn offer(&self, file: &SourceFile, content: Arc<Vec<u8>>) {
        let mut lru = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        lru.insert_within(file.key, content, usize::MAX);
    }

    fn budget(&self) -> usize {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).budget
    }

    fn cached(&self, file: u64) -> Option<Arc<Vec<u8>>> {
        let mut lru = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let hit = lru.map.get(&file).cloned();
        if hit.is_some() {
            lru.touch(file);
        }
        hit
    }

    fn spilled(&self, file: u64) -> Option<Arc<Spill>> {
        self.spills.lock().unwrap_or_else(|p| p.into_inner()).get(&file).cloned()
    }

    /// The raw record at `loc`, unescaped when it is a JSON string (lookup-events output).
    pub fn read(&self, file: &SourceFile, loc: RawLoc) -> Result<RawBytes, ReadError> {
        self.read_keeping(file, loc, usize::MAX)
    }

    /// [`RawReader::read`] without keeping the file's decompressed content in the cache for
    /// later reads (content already there is used): for a record that is shown once, such as
    /// the newest event's while a load goes on, so that it does not push out what browsing
    /// needs nor fill the cache by itself.
    pub fn read_once(&self, file: &SourceFile, loc: RawLoc) -> Result<RawBytes, ReadError> {
        self.read_keeping(file, loc, 0)
    }

    /// [`RawReader::read`], keeping the file's decompressed content in the cache only as far as
    /// the cache then holds at most `most` bytes (less than its budget): for records read while
    /// loading, to find copies, which come file after file and must not fill the budget that
    /// `print` keeps for writing records back.
    pub fn read_within(&self, file: &SourceFile, loc: RawLoc, most: usize) -> Result<RawBytes, ReadError> {
        self.read_keeping(file, loc, most.max(1))
    }

    /// `cache`: the most bytes the cache may hold once the content read is kept (0: not kept).
    fn read_keeping(&self, file: &SourceFile, loc: RawLoc, cache: usize) -> Result<RawBytes, ReadError> {
        if let Some(bytes) = self.with_kept(file, loc, <[u8]>::to_vec) {
            return Ok(RawBytes::Owned(bytes));
        }
        let start = loc.offset as u64;
        let raw = match self.whole(file, cache)? {
            Whole::Memory(content) => {
                let from = content.get(start as usize..).ok_or(ReadError::BeyondEnd)?;
                let end = value_end(from).ok_or(ReadError::NoRecord)?;
                RawBytes::Shared(content, start as usize..start as usize + end)
            }
            Whole::Spilled(spill) => RawBytes::Owned(value_by_pieces(start, spill.len(), |r| spill.read(r))?),
            // Its size was checked against the file's when it was opened: no `stat` a record.
            Whole::OnDisk(f) => RawBytes::Owned(value_by_pieces(start, file.size, |r| read_at(&f, r))?),
        };
        if raw.first() == Some(&b'"') {
            let s: String = serde_json::from_slice(&raw).map_err(ReadError::NotAString)?;
            Ok(RawBytes::Owned(s.into_bytes()))
        } else {
            Ok(raw)
        }
    }

    /// Decompresses a file into the cache ahead of reading its records (`print` does this on
    /// another thread, in the order it will need the files).
    pub fn prefetch(&self, file: &SourceFile) {
        let _ = self.whole(file, usize::MAX);
    }

    /// Where the file's content is: in the cache or on disk already, else decompressed now
    /// (and kept in the cache when `cache` says so); a plain file on disk is read by range.
    fn whole(&self, file: &SourceFile, cache: usize) -> Result<Whole, ReadError> {
        if let Some(content) = self.cached(file.key) {
            return Ok(Whole::Memory(content));
        }
        if let Some(spill) = self.spilled(file.key) {
            return Ok(Whole::Spilled(spill));
        }
        if let Some(f) = self.open.lock().unwrap_or_else(|p| p.into_inner()).get(&file.key) {
            return Ok(Whole::OnDisk(f.clone()));
        }
        if let Some(mem) = file.memory.get() {
            if !is_gzip(mem) {
                return Ok(Whole::Memory(mem.clone()));
            }
            return Ok(self.keep(file, inflate_kept(&mut &mem[..], self.budget())?, cache));
        }
        if let Some(raw) = file.spill.get() {
            let magic = raw.read(0..raw.len().min(2))?;
            if !is_gzip(&magic) {
                return Ok(Whole::Spilled(raw.clone()));
            }
            return Ok(self.keep(file, inflate_kept(&mut raw.reader(), self.budget())?, cache));
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
        if n < 2 || !is_gzip(&magic) {
            let f = Arc::new(f);
            let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
            if open.len() >= OPEN_MAX {
                open.clear();
            }
            open.insert(file.key, f.clone());
            return Ok(Whole::OnDisk(f));
        }
        self.inflate_file(file, f, cache)
    }

    /// A gzip file's content: inflated whole in memory when its trailer says it fits the
    /// budget (the fast path, libdeflate), else streamed into memory or onto disk.
    fn inflate_file(&self, file: &SourceFile, mut f: File, cache: usize) -> Result<Whole, ReadError> {
        let budget = self.budget();
        let mut trailer = [0u8; 4];
        let size_said = match f.seek(SeekFrom::End(-4)).and_then(|_| f.read_exact(&mut trailer)) {
            Ok(()) => u32::from_le_bytes(trailer) as usize,
            Err(_) => usize::MAX,
        };
        f.seek(SeekFrom::Start(0))?;
        if file.size <= budget as u64 && size_said <= budget {
            let mut packed = Vec::with_capacity(file.size as usize);
            f.by_ref().take(budget as u64).read_to_end(&mut packed)?;
            if let Some(content) = inflate_whole(&packed) {
                return Ok(self.keep(file, Kept::Memory(content), cache));
            }
            f.seek(SeekFrom::Start(0))?;
        }
        Ok(self.keep(file, inflate_kept(&mut f, budget)?, cache))
    }

    /// Keeps decompressed content where it was put: in the cache (when `cache` says so), or
    /// with the spills (on disk, whatever `cache` says: spilling was the costly part).
    fn keep(&self, file: &SourceFile, kept: Kept, cache: usize) -> Whole {
        match kept {
            Kept::Memory(content) => {
                let content = Arc::new(content);
                if cache > 0 {
                    let mut lru = self.cache.lock().unwrap_or_else(|p| p.into_inner());
                    lru.insert_within(file.key, content.clone(), cache);
                }
                Whole::Memory(content)
            }
            Kept::Spilled(spill) => {
                let spill = Arc::new(spill);
                self.spills.lock().unwrap_or_else(|p| p.into_inner()).insert(file.key, spill.clone());
                Whole::Spilled(spill)
            }
        }
    }
}

/// The bytes of `range` of an open file, read by position (no seek: the file is shared).
fn read_at(f: &File, range: Range<u64>) -> Result<Vec<u8>, ReadError> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0; (range.end - range.start) as usize];
    f.read_exact_at(&mut buf, range.start)?;
    Ok(buf)
}

/// The JSON value that starts at `start` of content `len` bytes long, read a piece at a time
/// by `read`: two kilobytes first (a record is mostly about that), then twice as much each
/// time, so that what is read is at most about twice the record.
fn value_by_pieces(
    start: u64,
    len: u64,
    mut read: impl FnMut(Range<u64>) -> Result<Vec<u8>, ReadError>,
) -> Result<Vec<u8>, ReadError> {
    if start >= len {
        return Err(ReadError::BeyondEnd);
    }
    let mut out: Vec<u8> = Vec::new();
    let mut scan: Option<ValueEnd> = None;
    let mut piece = 2 << 10;
    loop {
        let at = start + out.len() as u64;
        if at >= len {
            return Err(ReadError::NoRecord);
        }
        let mut bytes = read(at..(at + piece).min(len))?;
        let s = match scan.as_mut() {
            Some(s) => s,
            None => scan.insert(ValueEnd::start(bytes[0]).ok_or(ReadError::NoRecord)?),
        };
        match s.feed(&bytes) {
            Some(end) if out.is_empty() => {
                bytes.truncate(end);
                return Ok(bytes);
            }
            Some(end) => {
                out.extend_from_slice(&bytes[..end]);
                return Ok(out);
            }
            None => out.extend_from_slice(&bytes),
        }
        piece = (piece * 2).min(16 << 20);
    }
}

impl Lru {
    /// Keeps `content`, then lets the least recently used go until the cache holds at most
    /// `most` bytes (and its budget).
    fn insert_within(&mut self, file: u64, content: Arc<Vec<u8>>, most: usize) {
        let most = most.min(self.budget);
        if content.len() > most {
            return;
        }
        if let Some(old) = self.map.insert(file, content.clone()) {
            self.bytes -= old.len();
            self.order.retain(|&f| f != file);
        }
        self.bytes += content.len();
        self.order.push_back(file);
        while self.bytes > most {
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

    #[test]
    fn lru_respects_budget() {
        let r = RawReader::new(10);
        let (one, two) = (SourceFile::in_memory(0, "a", Vec::new()), SourceFile::in_memory(0, "b", Vec::new()));
        r.offer(&one, Arc::new(vec![0; 6]));
        r.offer(&two, Arc::new(vec![0; 6]));
        assert!(r.cached(one.key).is_none());
        assert!(r.cached(two.key).is_some(), "files of the same number from two sources are apart");
    }

    #[test]
    fn a_record_read_once_leaves_its_file_out_of_the_cache() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"{\"a\":1}\n{\"b\":2}\n").unwrap();
        let file = SourceFile::in_memory(0, "x.json.gz", gz.finish().unwrap());
        let (a, b) = (RawLoc::new(0, 0), RawLoc::new(0, 8));
        let r = RawReader::new(1 << 20);
        assert_eq!(&*r.read_once(&file, a).unwrap(), b"{\"a\":1}");
        assert!(r.cached(file.key).is_none());
        assert_eq!(&*r.read(&file, b).unwrap(), b"{\"b\":2}");
        assert!(r.cached(file.key).is_some());
        // Once in the cache, the file is read from there.
        assert_eq!(&*r.read_once(&file, a).unwrap(), b"{\"a\":1}");
        assert!(r.cached(file.key).is_some());
    }

    #[test]
    fn records_read_within_a_bound_keep_the_cache_under_it() {
        use std::io::Write;
        let gz = |text: &str| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(text.as_bytes()).unwrap();
            gz.finish().unwrap()
        };
        // Files of 100 bytes each, read within 250 bytes of a 1 MiB budget: two stay at most.
        let files: Vec<SourceFile> = (0..5)
            .map(|i| SourceFile::in_memory(i, "x.json.gz", gz(&format!("{{\"n\":{i}}}{}", " ".repeat(93)))))
            .collect();
        let r = RawReader::new(1 << 20);
        for (i, f) in files.iter().enumerate() {
            assert_eq!(&*r.read_within(f, RawLoc::new(i as u32, 0), 250).unwrap(), format!("{{\"n\":{i}}}").as_bytes());
        }
        let kept: Vec<bool> = files.iter().map(|f| r.cached(f.key).is_some()).collect();
        assert_eq!(kept, [false, false, false, true, true]);
        // A read that keeps up to the budget keeps what is there besides.
        assert_eq!(&*r.read(&files[0], RawLoc::new(0, 0)).unwrap(), b"{\"n\":0}");
        assert!(files.iter().all(|f| [0, 3, 4].contains(&f.id) == r.cached(f.key).is_some()));
    }

    #[test]
    fn a_record_is_read_to_its_end_from_memory_from_disk_and_in_pieces() {
        // A record longer than the first piece read from disk, one with brackets and quotes in
        // its strings, and a lookup-events string holding a record.
        let long = format!("{{\"userAgent\":\"{}\",\"n\":[1,{{\"x\":\"]}}\\\"\"}}]}}", "a".repeat(40_000));
        let escaped = serde_json::to_string("{\"eventID\":\"e\"}").unwrap();
        let content = format!("{long}\n{{\"b\":2}}\n{escaped}\n");
        let at = [0, long.len() + 1, long.len() + 9];
        let want: [&[u8]; 3] = [long.as_bytes(), b"{\"b\":2}", b"{\"eventID\":\"e\"}"];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.json");
        std::fs::write(&path, &content).unwrap();
        let on_disk = SourceFile::on_disk(0, path.clone(), &std::fs::metadata(&path).unwrap());
        let in_memory = SourceFile::in_memory(0, "records.json", content.clone().into_bytes());
        for file in [&on_disk, &in_memory] {
            let r = RawReader::new(1 << 20);
            for (&offset, want) in at.iter().zip(want) {
                assert_eq!(
                    &*r.read(file, RawLoc::new(0, offset as u32)).unwrap(),
                    want,
                    "{offset} of {}",
                    file.path.display()
                );
            }
            // Where no record starts, or one starts and never ends, it says so.
            assert!(matches!(r.read(file, RawLoc::new(0, 2)), Err(ReadError::NoRecord)), "{}", file.path.display());
            assert!(matches!(r.read(file, RawLoc::new(0, content.len() as u32 + 5)), Err(ReadError::BeyondEnd)));
        }
        let cut = dir.path().join("cut.json");
        std::fs::write(&cut, &content[..long.len() - 10]).unwrap();
        let cut = SourceFile::on_disk(0, cut.clone(), &std::fs::metadata(&cut).unwrap());
        assert!(matches!(RawReader::new(1 << 20).read(&cut, RawLoc::new(0, 0)), Err(ReadError::NoRecord)));
    }
}
