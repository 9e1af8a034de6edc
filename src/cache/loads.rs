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
//! "TSLD" u8:version [u8; 3]:0  u64:payload-bytes  u64:files-at  u128:checksum of the payload
//!        u64:events (how many the frames hold, to make room for them at once)
//! payload = (u64:len bytes)*  the frames, in order, up to files-at
//!           u32:nfiles (str:path i64:size i64:mtime-ns)*
//! ```
//! `str` is u32:len then UTF-8; integers little-endian. The checksum is the 128-bit XXH3 of the
//! 64-bit XXH3 of each [`CHUNK`] of the payload (so that it is checked on every core). A file
//! that is short, long, of another version or whose payload does not match its checksum is
//! refused whole, before a frame is read, so a damaged stored load is never half used.
//!
//! Stored loads count against the cache's size limit with the database: the oldest make room
//! first, at most [`KEEP`] are kept, and one that does not fit is not stored.

use super::files::FileKey;
use super::{database_bytes, StoreError};
use crate::model::wire::{put_str, Reader};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::Xxh3;

/// The directory of stored loads, inside the cache directory.
pub const DIR: &str = "loads";
const MAGIC: &[u8; 4] = b"TSLD";
const VERSION: u8 = 2;
const HEADER: u64 = 48;
const SUFFIX: &str = ".load";
/// The checksum's chunk.
const CHUNK: u64 = 8 << 20;
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
            payload: 0,
        })
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut rest = bytes;
        while !rest.is_empty() {
            let room = (CHUNK - self.payload % CHUNK) as usize;
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.hash.update(now);
            self.payload += now.len() as u64;
            if self.payload % CHUNK == 0 {
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

    /// Bytes written so far.
    fn len(&self) -> u64 {
        HEADER + self.payload
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
        let mut header = Vec::with_capacity(HEADER as usize);
        header.extend(MAGIC);
        header.extend([VERSION, 0, 0, 0]);
        header.extend(self.payload.to_le_bytes());
        header.extend(files_at.to_le_bytes());
        if self.payload % CHUNK != 0 {
            self.chunks.extend(self.hash.digest().to_le_bytes());
        }
        header.extend(xxhash_rust::xxh3::xxh3_128(&self.chunks).to_le_bytes());
        header.extend(events.to_le_bytes());
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        // Not synced to disk: one cut short or never written by a crash fails its checksum.
        file.write_all(&header)?;
        file.flush()?;
        let bytes = HEADER + self.payload;
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
    file: BufReader<File>,
    path: PathBuf,
    payload: u64,
    files_at: u64,
    hash: u128,
    events: u64,
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
        if r.bytes(4) != Some(MAGIC) || r.u8() != Some(VERSION) {
            return Err("is not a stored load of this version".into());
        }
        r.bytes(3);
        let (payload, files_at) = (r.u64().unwrap_or(0), r.u64().unwrap_or(u64::MAX));
        let hash = r.array::<16>().map(u128::from_le_bytes).unwrap_or(0);
        let events = r.u64().unwrap_or(0);
        let len = file.metadata().map_err(|e| format!("cannot be read: {e}"))?.len();
        if len != HEADER + payload || files_at > payload {
            return Err(format!("has {len} bytes where its header says {}", HEADER.saturating_add(payload)));
        }
        Ok(Some(StoredLoad {
            file: BufReader::with_capacity(1 << 20, file),
            path,
            payload,
            files_at,
            hash,
            events,
            read: 0,
        }))
    }

    /// How many events its frames hold, as its header says (not checked).
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The files it was made of, as its list says: not checked yet (see [`StoredLoad::check`]),
    /// so that a stored load of other files is told apart without reading it all.
    pub fn files(&mut self) -> Result<Vec<FileKey>, Refusal> {
        let io = |e: io::Error| format!("cannot be read: {e}");
        self.file.seek(SeekFrom::Start(HEADER + self.files_at)).map_err(io)?;
        let mut list = Vec::new();
        (&mut self.file).take(self.payload - self.files_at).read_to_end(&mut list).map_err(io)?;
        self.file.seek(SeekFrom::Start(HEADER)).map_err(io)?;
        let mut r = Reader::new(&list);
        let n = r.count(20).ok_or("has a damaged list of files")?;
        let mut keys = Vec::with_capacity(n);
        for _ in 0..n {
            let key = (|| Some(FileKey { path: r.string()?.to_string(), size: r.i64()?, mtime_ns: r.i64()? }))();
            keys.push(key.ok_or("has a damaged list of files")?);
        }
        Ok(keys)
    }

    /// Checks that every byte is as written (its checksum, chunks on every core), before any
    /// frame is read.
    pub fn check(&mut self) -> Result<(), Refusal> {
        let io = |e: io::Error| format!("cannot be read: {e}");
        let chunks = self.payload.div_ceil(CHUNK);
        let file = self.file.get_ref();
        let hashes = {
            use rayon::prelude::*;
            use std::os::unix::fs::FileExt;
            (0..chunks)
                .into_par_iter()
                .map_init(Vec::new, |buf, i| {
                    buf.resize(CHUNK.min(self.payload - i * CHUNK) as usize, 0);
                    file.read_exact_at(buf, HEADER + i * CHUNK)?;
                    Ok(xxhash_rust::xxh3::xxh3_64(buf).to_le_bytes())
                })
                .collect::<io::Result<Vec<[u8; 8]>>>()
                .map_err(io)?
        };
        if xxhash_rust::xxh3::xxh3_128(hashes.as_flattened()) != self.hash {
            return Err("is damaged (its content does not match its checksum)".into());
        }
        // Used now: the last to make room for another.
        let _ = File::options().write(true).open(&self.path).and_then(|f| f.set_modified(std::time::SystemTime::now()));
        Ok(())
    }

    /// The next frame into `buf`; `false` after the last.
    pub fn next_frame(&mut self, buf: &mut Vec<u8>) -> Result<bool, Refusal> {
        if self.read >= self.files_at {
            return Ok(false);
        }
        let io = |e: io::Error| format!("cannot be read: {e}");
        let mut len = [0u8; 8];
        self.file.read_exact(&mut len).map_err(io)?;
        let len = u64::from_le_bytes(len);
        if len > self.files_at.saturating_sub(self.read + 8) {
            return Err("has a frame past its end".into());
        }
        buf.clear();
        (&mut self.file).take(len).read_to_end(buf).map_err(io)?;
        self.read += 8 + len;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: i64) -> FileKey {
        FileKey { path: format!("/archive/{i}.json.gz"), size: 100 + i, mtime_ns: 1_700_000_000_000_000_000 + i }
    }

    /// Frames over several checksum chunks, one of them split across two, read back as written;
    /// one byte changed anywhere refuses the whole load.
    #[test]
    fn frames_over_several_chunks_read_back_and_any_change_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let frames: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; (CHUNK as usize) * 3 / 4 + i as usize]).collect();
        let mut w = LoadWriter::create(dir.path()).unwrap();
        for f in &frames {
            w.frame(f).unwrap();
        }
        let keys: Vec<FileKey> = (0..3).map(key).collect();
        let bytes = w.finish(&keys, 7, "a", u64::MAX).unwrap().expect("fits");
        let path = path_of(dir.path(), "a");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), bytes);
        assert!(bytes > 3 * CHUNK);

        let mut s = StoredLoad::open(dir.path(), "a").unwrap().unwrap();
        assert_eq!(s.files().unwrap(), keys);
        s.check().unwrap();
        assert_eq!(s.events(), 7);
        let mut buf = Vec::new();
        let mut read = Vec::new();
        while s.next_frame(&mut buf).unwrap() {
            read.push(buf.clone());
        }
        assert!(read == frames, "the frames as written");

        let good = std::fs::read(&path).unwrap();
        for at in [HEADER as usize + 3, HEADER as usize + CHUNK as usize * 2 + 17, good.len() - 5] {
            let mut bad = good.clone();
            bad[at] ^= 1;
            std::fs::write(&path, &bad).unwrap();
            let mut s = StoredLoad::open(dir.path(), "a").unwrap().unwrap();
            let keys_read = s.files();
            assert!(s.check().unwrap_err().contains("damaged"), "a byte changed at {at}: {keys_read:?}");
        }
        std::fs::write(&path, &good[..good.len() - 1]).unwrap();
        assert!(StoredLoad::open(dir.path(), "a").is_err(), "cut short");
        assert!(StoredLoad::open(dir.path(), "b").unwrap().is_none(), "none of that name");
    }
}
