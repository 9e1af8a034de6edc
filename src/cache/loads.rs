//! Whole loads of local archives, stored beside the database (in `loads/`) once a load is
//! complete, so that opening the same unchanged files again reads one file back instead of
//! taking thousands of files one by one from the archive index (re-interning their strings and
//! checking every event for copies again).
//!
//! A stored load is named by what was opened (the inputs and how they are read, see
//! `source::stored`) and lists the files it was made of, each with its size and modification
//! time: it stands for a load only when discovery finds exactly those files, unchanged. What it
//! holds is framed and checked as a whole before any of it is used:
//!
//! ```text
//! "TSLD" u8:version u8:log2(chunk) [u8; 2]:0  u64:payload-bytes  u64:files-at
//!        u128:checksum of the chunks' hashes  u64:events (how many the frames hold, to make
//!        room for them at once)
//! payload = (u64:len bytes)*  the frames, in order, up to files-at
//!           u32:nfiles (str:path i64:size i64:mtime-ns)*
//! then    u64:hash of each chunk of the payload, in order
//! ```
//! `str` is u32:len then UTF-8; integers little-endian. Each chunk's hash is the 64-bit XXH3 of
//! its bytes, and the header's checksum the 128-bit XXH3 of those hashes. A file that is short,
//! long, of another version or whose list of hashes does not match its checksum is refused
//! before anything else is read. Its frames are then either checked whole first, every chunk
//! on every core ([`StoredLoad::check`]), or read as they are checked, chunk by chunk
//! ([`StoredLoad::next_frame`] without `check`): a frame is given only once every chunk it
//! touches matched its hash, so no damaged byte is ever used, and a damaged chunk stops the
//! reading there, saying where.
//!
//! Stored loads count against the cache's size limit with the database: the oldest make room
//! first, at most [`KEEP`] are kept, and one that does not fit is not stored.

use super::files::FileKey;
use super::{database_bytes, StoreError};
use crate::model::wire::{put_str, Reader};
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::Xxh3;

/// The directory of stored loads, inside the cache directory.
pub const DIR: &str = "loads";
const MAGIC: &[u8; 4] = b"TSLD";
const VERSION: u8 = 3;
const HEADER: u64 = 48;
const SUFFIX: &str = ".load";
/// log2 of the chunk a hash is kept for: the first frame read as it is checked waits for its
/// chunk alone.
static CHUNK_LOG2: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(20);

/// Writes stored loads in chunks of `2^log2` bytes from now on (20: 1 MiB, the default; 12 to
/// 30). Each stored load says its own, so those written before are read as they are. For
/// tests, whose loads are small: with small chunks, a damaged byte lands after the first frames.
#[doc(hidden)]
pub fn set_chunk_log2(log2: u8) {
    CHUNK_LOG2.store(log2.clamp(12, 30), std::sync::atomic::Ordering::Relaxed);
}
/// At most this many stored loads are kept: the ones used or stored last.
pub const KEEP: usize = 4;

fn path_of(cache_dir: &Path, name: &str) -> PathBuf {
    cache_dir.join(DIR).join(format!("{name}{SUFFIX}"))
}

/// Whether a stored load of this name is there (it may still be refused once read).
pub fn exists(cache_dir: &Path, name: &str) -> bool {
    path_of(cache_dir, name).is_file()
}

/// The stored loads: path, bytes, when last used or stored; oldest first.
pub fn list(cache_dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let Ok(rd) = std::fs::read_dir(cache_dir.join(DIR)) else { return Vec::new() };
    let mut out: Vec<_> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(SUFFIX))
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((e.path(), m.len(), m.modified().ok()?))
        })
        .collect();
    out.sort_by_key(|&(_, _, t)| t);
    out
}

/// Removes every stored load; how many there were.
pub fn clear(cache_dir: &Path) -> super::Result<usize> {
    prune(cache_dir, std::time::SystemTime::now() + std::time::Duration::from_secs(1 << 32))
}

/// Removes the stored loads not used since `cutoff`; how many.
pub fn prune(cache_dir: &Path, cutoff: std::time::SystemTime) -> super::Result<usize> {
    let old: Vec<_> = list(cache_dir).into_iter().filter(|&(_, _, t)| t < cutoff).collect();
    for (path, _, _) in &old {
        std::fs::remove_file(path).map_err(|source| StoreError::Io { action: "remove", path: path.clone(), source })?;
    }
    Ok(old.len())
}

/// The name a stored load is written under until it is complete.
const WRITING: &str = ".writing-";
/// A stored load being written that has not grown for this long was abandoned (its process
/// ended first, or was killed).
const ABANDONED: std::time::Duration = std::time::Duration::from_secs(600);

/// Removes what was abandoned while being written.
fn remove_abandoned(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.filter_map(|e| e.ok()) {
        let old = e.metadata().ok().and_then(|m| m.modified().ok()).and_then(|t| t.elapsed().ok());
        if e.file_name().to_string_lossy().starts_with(WRITING) && old.is_some_and(|o| o > ABANDONED) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// A stored load being written: frames appended and hashed as the load goes, put in place
/// (under its name) only once complete.
pub struct LoadWriter {
    cache_dir: PathBuf,
    tmp: tempfile::NamedTempFile,
    out: BufWriter<File>,
    /// The chunk being hashed, and the hashes of those before.
    hash: Xxh3,
    chunks: Vec<u8>,
    chunk: u64,
    payload: u64,
}

impl LoadWriter {
    /// A new stored load in the cache directory (not visible under a name until finished).
    pub fn create(cache_dir: &Path) -> io::Result<LoadWriter> {
        let dir = cache_dir.join(DIR);
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir)?;
        }
        remove_abandoned(&dir);
        let tmp = tempfile::Builder::new().prefix(WRITING).tempfile_in(&dir)?;
        let mut out = BufWriter::with_capacity(1 << 20, tmp.as_file().try_clone()?);
        out.write_all(&[0; HEADER as usize])?;
        Ok(LoadWriter {
            cache_dir: cache_dir.to_path_buf(),
            tmp,
            out,
            hash: Xxh3::new(),
            chunks: Vec::new(),
            chunk: 1 << CHUNK_LOG2.load(std::sync::atomic::Ordering::Relaxed),
            payload: 0,
        })
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut rest = bytes;
        while !rest.is_empty() {
            let room = (self.chunk - self.payload % self.chunk) as usize;
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.hash.update(now);
            self.payload += now.len() as u64;
            if self.payload % self.chunk == 0 {
                self.chunks.extend(self.hash.digest().to_le_bytes());
                self.hash.reset();
            }
            rest = later;
        }
        self.out.write_all(bytes)
    }

    /// Appends one frame.
    pub fn frame(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.put(&(bytes.len() as u64).to_le_bytes())?;
        self.put(bytes)
    }

    /// Bytes written so far (with the hashes of the chunks so far).
    fn len(&self) -> u64 {
        HEADER + self.payload + self.chunks.len() as u64
    }

    /// Whether what is written so far still fits under `max_bytes` with the database.
    pub fn fits(&self, max_bytes: u64) -> bool {
        self.len().saturating_add(database_bytes(&self.cache_dir)) <= max_bytes
    }

    /// Ends the stored load with the files it was made of and puts it in place as `name`,
    /// making room under `max_bytes` (with the database) by removing the oldest others. Its
    /// bytes, or `None` when it does not fit (nothing is stored then).
    pub fn finish(mut self, files: &[FileKey], events: u64, name: &str, max_bytes: u64) -> io::Result<Option<u64>> {
        let files_at = self.payload;
        let mut keys = Vec::with_capacity(16 + files.len() * 64);
        keys.extend((files.len() as u32).to_le_bytes());
        for k in files {
            put_str(&mut keys, &k.path);
            keys.extend(k.size.to_le_bytes());
            keys.extend(k.mtime_ns.to_le_bytes());
        }
        self.put(&keys)?;
        if self.payload % self.chunk != 0 {
            self.chunks.extend(self.hash.digest().to_le_bytes());
        }
        self.out.write_all(&self.chunks)?;
        let mut header = Vec::with_capacity(HEADER as usize);
        header.extend(MAGIC);
        header.extend([VERSION, self.chunk.trailing_zeros() as u8, 0, 0]);
        header.extend(self.payload.to_le_bytes());
        header.extend(files_at.to_le_bytes());
        header.extend(xxhash_rust::xxh3::xxh3_128(&self.chunks).to_le_bytes());
        header.extend(events.to_le_bytes());
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        // Not synced to disk: one cut short or never written by a crash fails its checksum.
        file.write_all(&header)?;
        file.flush()?;
        let bytes = HEADER + self.payload + self.chunks.len() as u64;
        let cache_dir = self.cache_dir;
        let target = path_of(&cache_dir, name);
        // Room: the database first, then the others, newest kept.
        let budget = max_bytes.saturating_sub(database_bytes(&cache_dir));
        let mut others: Vec<_> = list(&cache_dir).into_iter().filter(|(p, _, _)| *p != target).collect();
        while !others.is_empty() && (others.len() >= KEEP || others.iter().map(|o| o.1).sum::<u64>() + bytes > budget) {
            let (p, _, _) = others.remove(0);
            std::fs::remove_file(p)?;
        }
        if bytes > budget {
            return Ok(None);
        }
        self.tmp.persist(&target).map_err(|e| e.error)?;
        Ok(Some(bytes))
    }
}

/// A stored load found under its name, its frames not yet read.
pub struct StoredLoad {
    file: File,
    path: PathBuf,
    payload: u64,
    files_at: u64,
    chunk: u64,
    /// The hash of each chunk of the payload, as its list says (checked against the header).
    hashes: Vec<u64>,
    events: u64,
    /// Every chunk was checked ([`StoredLoad::check`]): frames are read without hashing again.
    checked: bool,
    /// Payload bytes from `read` on (`window[window_pos..]`), up to the end of a chunk: read
    /// (and checked, unless `checked`), not yet given.
    window: Vec<u8>,
    window_pos: usize,
    /// Where the next frame starts.
    read: u64,
}

/// Why a stored load was not used.
pub type Refusal = String;

impl StoredLoad {
    /// The stored load of this name: `Ok(None)` when there is none.
    pub fn open(cache_dir: &Path, name: &str) -> Result<Option<StoredLoad>, Refusal> {
        let path = path_of(cache_dir, name);
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot be opened: {e}")),
        };
        let mut header = [0u8; HEADER as usize];
        file.read_exact(&mut header).map_err(|_| "is shorter than its header".to_string())?;
        let mut r = Reader::new(&header);
        if r.bytes(4) != Some(MAGIC) {
            return Err("is not a stored load".into());
        }
        // One of another version (an older trailscope's) is no problem of the inputs: as if
        // there were none, it is replaced by the load that follows.
        if r.u8() != Some(VERSION) {
            return Ok(None);
        }
        let log2 = r.u8().unwrap_or(0);
        r.bytes(2);
        let (payload, files_at) = (r.u64().unwrap_or(0), r.u64().unwrap_or(u64::MAX));
        let hash = r.array::<16>().map(u128::from_le_bytes).unwrap_or(0);
        let events = r.u64().unwrap_or(0);
        if !(12..=30).contains(&log2) {
            return Err(format!("is damaged (its header gives chunks of 2^{log2} bytes)"));
        }
        let chunk = 1u64 << log2;
        let listed = payload.div_ceil(chunk).saturating_mul(8);
        let len = file.metadata().map_err(|e| format!("cannot be read: {e}"))?.len();
        let want = HEADER.saturating_add(payload).saturating_add(listed);
        if len != want || files_at > payload {
            return Err(format!("has {len} bytes where its header says {want}"));
        }
        let mut list = vec![0u8; listed as usize];
        {
            use std::os::unix::fs::FileExt;
            file.read_exact_at(&mut list, HEADER + payload).map_err(|e| format!("cannot be read: {e}"))?;
        }
        if xxhash_rust::xxh3::xxh3_128(&list) != hash {
            return Err("is damaged (its list of checksums does not match its header)".into());
        }
        let hashes = list.chunks_exact(8).map(|h| u64::from_le_bytes(h.try_into().unwrap_or_default())).collect();
        Ok(Some(StoredLoad {
            file,
            path,
            payload,
            files_at,
            chunk,
            hashes,
            events,
            checked: false,
            window: Vec::new(),
            window_pos: 0,
            read: 0,
        }))
    }

    /// How many events its frames hold, as its header says (not checked).
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The files it was made of, as its list says (the chunks that hold the list are checked,
    /// not the frames), so that a stored load of other files is told apart without reading
    /// it all.
    pub fn files(&mut self) -> Result<Vec<FileKey>, Refusal> {
        let first = self.files_at / self.chunk;
        let mut bytes = Vec::with_capacity((self.payload - first * self.chunk) as usize);
        let mut chunk = Vec::new();
        for i in first..self.hashes.len() as u64 {
            self.read_chunk(i, &mut chunk).map_err(|e| format!("cannot be read: {e}"))?;
            self.verify(i, &chunk)?;
            bytes.extend_from_slice(&chunk);
        }
        let mut r = Reader::new(&bytes[(self.files_at - first * self.chunk) as usize..]);
        let n = r.count(20).ok_or("has a damaged list of files")?;
        let mut keys = Vec::with_capacity(n);
        for _ in 0..n {
            let key = (|| Some(FileKey { path: r.string()?.to_string(), size: r.i64()?, mtime_ns: r.i64()? }))();
            keys.push(key.ok_or("has a damaged list of files")?);
        }
        Ok(keys)
    }

    /// The bytes of chunk `i`, read into `buf`.
    fn read_chunk(&self, i: u64, buf: &mut Vec<u8>) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        let start = i * self.chunk;
        buf.resize(self.chunk.min(self.payload - start) as usize, 0);
        self.file.read_exact_at(buf, HEADER + start)
    }

    /// Whether `bytes`, chunk `i`, are as written (match its hash); why not.
    fn verify(&self, i: u64, bytes: &[u8]) -> Result<(), Refusal> {
        if xxhash_rust::xxh3::xxh3_64(bytes) == self.hashes[i as usize] {
            return Ok(());
        }
        let start = i * self.chunk;
        let end = (start + self.chunk).min(self.payload);
        Err(format!("is damaged (bytes {start}-{end} of its content do not match their checksum)"))
    }

    /// Checks that every byte is as written (each chunk against its hash, on every core),
    /// before any frame is read; frames are then read without checking them again.
    pub fn check(&mut self) -> Result<(), Refusal> {
        let bad = {
            use rayon::prelude::*;
            let this = &*self;
            (0..this.hashes.len() as u64)
                .into_par_iter()
                .map_init(Vec::new, |buf, i| match this.read_chunk(i, buf) {
                    Ok(()) => Ok(this.verify(i, buf).err().map(|why| (i, why))),
                    Err(e) => Err(format!("cannot be read: {e}")),
                })
                .collect::<Result<Vec<Option<(u64, Refusal)>>, Refusal>>()?
                .into_iter()
                .flatten()
                .min_by_key(|(i, _)| *i)
        };
        // The first damaged chunk is named, whichever was found first.
        if let Some((_, why)) = bad {
            return Err(why);
        }
        self.checked = true;
        self.used();
        Ok(())
    }

    /// Marks it used now: the last to make room for another.
    fn used(&self) {
        let _ = File::options().write(true).open(&self.path).and_then(|f| f.set_modified(std::time::SystemTime::now()));
    }

    /// The next frame into `buf`; `false` after the last. Unless the whole was checked first,
    /// the chunks a frame touches are checked as they are read, before it is given: a chunk
    /// that does not match its hash stops the reading with `Err` (the frames given before it
    /// are as written).
    pub fn next_frame(&mut self, buf: &mut Vec<u8>) -> Result<bool, Refusal> {
        if self.read >= self.files_at {
            return Ok(false);
        }
        if self.read + 8 > self.files_at {
            return Err("has a frame past its end".into());
        }
        buf.clear();
        self.take_into(8, buf)?;
        let len = u64::from_le_bytes(buf[..8].try_into().unwrap_or_default());
        if len > self.files_at - self.read {
            return Err("has a frame past its end".into());
        }
        buf.clear();
        self.take_into(len, buf)?;
        if self.read >= self.files_at && !self.checked {
            self.used();
        }
        Ok(true)
    }

    /// Appends the next `n` bytes of the payload to `out`: what the window holds, then whole
    /// chunks read (and checked) straight into `out`, the last one's bytes past the `n` kept
    /// in the window for the next call.
    fn take_into(&mut self, n: u64, out: &mut Vec<u8>) -> Result<(), Refusal> {
        let end = self.read + n;
        // Room for the whole at once, and for the last chunk's bytes past it.
        out.reserve(n as usize + self.chunk as usize);
        let held = (self.window.len() - self.window_pos).min(n as usize);
        out.extend_from_slice(&self.window[self.window_pos..self.window_pos + held]);
        self.window_pos += held;
        self.read += held as u64;
        if self.window_pos == self.window.len() {
            self.window.clear();
            self.window_pos = 0;
        }
        // The window is empty from here on, and `read` at the start of a chunk.
        while self.read < end {
            let i = self.read / self.chunk;
            let start = out.len();
            let len = self.chunk.min(self.payload - self.read) as usize;
            out.resize(start + len, 0);
            {
                use std::os::unix::fs::FileExt;
                let at = HEADER + self.read;
                self.file.read_exact_at(&mut out[start..], at).map_err(|e| format!("cannot be read: {e}"))?;
            }
            if !self.checked {
                self.verify(i, &out[start..])?;
            }
            let want = (end - self.read) as usize;
            if len > want {
                self.window.extend_from_slice(&out[start + want..]);
                out.truncate(start + want);
            }
            self.read += len.min(want) as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: i64) -> FileKey {
        FileKey { path: format!("/archive/{i}.json.gz"), size: 100 + i, mtime_ns: 1_700_000_000_000_000_000 + i }
    }

    /// Frames over several checksum chunks, one of them split across two, read back as written,
    /// checked whole first or as they are read; one byte changed anywhere refuses the whole
    /// load when checked first, and when read as checked, stops the reading at the damaged
    /// chunk, every frame given before it as written.
    #[test]
    fn frames_over_several_chunks_read_back_and_any_change_is_refused() {
        const CHUNK: usize = 1 << 12;
        let dir = tempfile::tempdir().unwrap();
        let frames: Vec<Vec<u8>> = (0..7u8).map(|i| vec![i; CHUNK * 3 / 4 + i as usize]).collect();
        let mut w = LoadWriter::create(dir.path()).unwrap();
        w.chunk = CHUNK as u64;
        for f in &frames {
            w.frame(f).unwrap();
        }
        let keys: Vec<FileKey> = (0..3).map(key).collect();
        let bytes = w.finish(&keys, 7, "a", u64::MAX).unwrap().expect("fits");
        let path = path_of(dir.path(), "a");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), bytes);
        assert!(bytes > 5 * CHUNK as u64);
        let read_all = |check: bool| -> (Vec<Vec<u8>>, Result<(), Refusal>) {
            let mut s = StoredLoad::open(dir.path(), "a").unwrap().unwrap();
            assert_eq!(s.events(), 7);
            let mut read = Vec::new();
            if check {
                if let Err(e) = s.check() {
                    return (read, Err(e));
                }
            }
            let mut buf = Vec::new();
            loop {
                match s.next_frame(&mut buf) {
                    Ok(true) => read.push(buf.clone()),
                    Ok(false) => return (read, Ok(())),
                    Err(e) => return (read, Err(e)),
                }
            }
        };
        assert_eq!(StoredLoad::open(dir.path(), "a").unwrap().unwrap().files().unwrap(), keys);
        for check in [true, false] {
            let (read, end) = read_all(check);
            assert!(end.is_ok() && read == frames, "the frames as written (checked first: {check})");
        }

        let good = std::fs::read(&path).unwrap();
        let frames_at = HEADER as usize;
        for at in [frames_at + 3, frames_at + CHUNK * 2 + 17, frames_at + CHUNK * 4 + 100] {
            let mut bad = good.clone();
            bad[at] ^= 1;
            std::fs::write(&path, &bad).unwrap();
            let (read, end) = read_all(true);
            assert!(read.is_empty() && end.unwrap_err().contains("damaged"), "checked first, a byte changed at {at}");
            let (read, end) = read_all(false);
            let chunk = ((at - frames_at) / CHUNK) as u64;
            let want = format!("bytes {}-{} of its content", chunk * CHUNK as u64, (chunk + 1) * CHUNK as u64);
            assert!(end.as_ref().unwrap_err().contains(&want), "read as checked, at {at}: {end:?}");
            // Every frame that ends before the damaged chunk, and none that touches it.
            let mut ends = 0;
            let before = frames
                .iter()
                .take_while(|f| {
                    ends += 8 + f.len();
                    ends <= chunk as usize * CHUNK
                })
                .count();
            assert_eq!(read.len(), before, "a byte changed at {at}");
            assert!(read[..] == frames[..before]);
        }
        // The list of files, or the list of hashes, changed: refused at once.
        for at in [good.len() - 5, good.len() - 100] {
            let mut bad = good.clone();
            bad[at] ^= 1;
            std::fs::write(&path, &bad).unwrap();
            let refused = match StoredLoad::open(dir.path(), "a") {
                Err(e) => Some(e),
                Ok(s) => s.unwrap().files().err(),
            };
            assert!(refused.is_some_and(|e| e.contains("damaged")), "a byte changed at {at}");
        }
        std::fs::write(&path, &good[..good.len() - 1]).unwrap();
        assert!(StoredLoad::open(dir.path(), "a").is_err(), "cut short");
        // Of another version: as if there were none. Not one at all: refused.
        let mut other = good.clone();
        other[4] = VERSION + 1;
        std::fs::write(&path, &other).unwrap();
        assert!(StoredLoad::open(dir.path(), "a").unwrap().is_none(), "another version");
        other[0] = b'X';
        std::fs::write(&path, &other).unwrap();
        assert!(StoredLoad::open(dir.path(), "a").err().is_some_and(|e| e.contains("not a stored load")));
        assert!(StoredLoad::open(dir.path(), "b").unwrap().is_none(), "none of that name");
    }
}
