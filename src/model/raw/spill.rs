//! Content kept on disk instead of in memory: what a stream delivered (it cannot be read
//! twice), and decompressed content too large to keep for reading records back. A spill is an
//! unnamed temporary file (`O_TMPFILE` where there is one: no name another user could plant a
//! link at), gone when the last handle closes.

use super::{ReadError, MAX_CONTENT};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// Bytes in an unnamed temporary file, read by range.
#[derive(Debug)]
pub(crate) struct Spill {
    file: Mutex<File>,
    len: u64,
}

impl Spill {
    /// Copies `input` into a new spill, at most [`MAX_CONTENT`] bytes; `prefix` first.
    /// `Err(TooLarge)` past that.
    pub(crate) fn copy_from(prefix: &[u8], input: &mut dyn Read) -> Result<Spill, ReadError> {
        let mut file = io::BufWriter::with_capacity(1 << 20, tempfile::tempfile()?);
        file.write_all(prefix)?;
        let copied = io::copy(&mut input.take(MAX_CONTENT + 1 - prefix.len() as u64), &mut file)?;
        let len = prefix.len() as u64 + copied;
        if len > MAX_CONTENT {
            return Err(ReadError::TooLarge);
        }
        let file = file.into_inner().map_err(|e| e.into_error())?;
        Ok(Spill { file: Mutex::new(file), len })
    }

    /// How many bytes it holds.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The bytes of `range`; `BeyondEnd` when it goes past the end.
    pub(crate) fn read(&self, range: Range<u64>) -> Result<Vec<u8>, ReadError> {
        if range.end > self.len || range.start > range.end {
            return Err(ReadError::BeyondEnd);
        }
        let mut buf = vec![0; (range.end - range.start) as usize];
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.seek(SeekFrom::Start(range.start))?;
        file.read_exact(&mut buf)?;
        Ok(buf)
    }

    /// A reader of the whole content from the start (sharing the file: one reader at a time
    /// reads it through, each read seeking to where that reader is).
    pub(crate) fn reader(self: &Arc<Self>) -> SpillReader {
        SpillReader { spill: self.clone(), pos: 0 }
    }
}

/// Reads a [`Spill`] from the start.
pub(crate) struct SpillReader {
    spill: Arc<Spill>,
    pos: u64,
}

impl Read for SpillReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.spill.len.saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        if n == 0 {
            return Ok(0);
        }
        let mut file = self.spill.file.lock().unwrap_or_else(|p| p.into_inner());
        file.seek(SeekFrom::Start(self.pos))?;
        let got = file.read(&mut buf[..n])?;
        self.pos += got as u64;
        Ok(got)
    }
}

/// Decompressed content, where it was kept.
pub(crate) enum Kept {
    /// At most the budget: in memory.
    Memory(Vec<u8>),
    /// More: on disk.
    Spilled(Spill),
}

/// Decompresses gzip `input` (every member) for reading records back: in memory up to
/// `budget` bytes, on disk past that, so that the memory this takes is bounded whatever the
/// content's size. Damage after some content ends the content there: records are read
/// back from where the load found them, and those lie before the damage.
pub(crate) fn inflate_kept(input: &mut dyn Read, budget: usize) -> Result<Kept, ReadError> {
    let mut dec = flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(1 << 16, input));
    let mut head = Vec::new();
    let read = (&mut dec).take(budget as u64 + 1).read_to_end(&mut head);
    if head.len() <= budget {
        return match read {
            Err(e) if head.is_empty() => Err(e.into()),
            _ => Ok(Kept::Memory(head)),
        };
    }
    let mut rest = Lenient(&mut dec);
    Spill::copy_from(&head, &mut rest).map(Kept::Spilled)
}

/// A reader whose first error is the end: what came before it is kept.
struct Lenient<'a>(&'a mut dyn Read);

impl Read for Lenient<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.0.read(buf).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn small_content_stays_in_memory_large_goes_to_disk() {
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let packed = gz(&data);
        match inflate_kept(&mut &packed[..], data.len()).unwrap() {
            Kept::Memory(m) => assert_eq!(m, data),
            Kept::Spilled(_) => panic!("fits the budget"),
        }
        match inflate_kept(&mut &packed[..], 1000).unwrap() {
            Kept::Spilled(s) => {
                let s = Arc::new(s);
                assert_eq!(s.len(), data.len() as u64);
                assert_eq!(s.read(400_000..400_008).unwrap(), &data[400_000..400_008]);
                assert!(matches!(s.read(799_999..800_001), Err(ReadError::BeyondEnd)));
                let mut all = Vec::new();
                s.reader().read_to_end(&mut all).unwrap();
                assert_eq!(all, data);
            }
            Kept::Memory(_) => panic!("over the budget"),
        }
        // Damage after the content keeps the content.
        let mut damaged = packed.clone();
        damaged.extend(b"GARBAGE");
        match inflate_kept(&mut &damaged[..], 1000).unwrap() {
            Kept::Spilled(s) => assert_eq!(s.len(), data.len() as u64),
            Kept::Memory(_) => panic!("over the budget"),
        }
        assert!(inflate_kept(&mut &b"not gzip"[..], 1000).is_err());
    }
}
