//! Reading this crate's own little-endian encodings (the archive index, stored loads) without
//! trusting them: every read is bounds-checked and says `None` past the end.

/// A cursor over encoded bytes.
pub struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `b`.
    pub fn new(b: &'a [u8]) -> Self {
        Reader { b, at: 0 }
    }
    /// Whether every byte was read.
    pub fn is_done(&self) -> bool {
        self.at == self.b.len()
    }
    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    /// The next `N` bytes, as an array.
    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bytes(N).and_then(|b| b.try_into().ok())
    }
    /// A byte.
    pub fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }
    /// A `u16`.
    pub fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }
    /// A `u32`.
    pub fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }
    /// A `u64`.
    pub fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }
    /// An `i64`.
    pub fn i64(&mut self) -> Option<i64> {
        self.array().map(i64::from_le_bytes)
    }
    /// `len` bytes of UTF-8.
    pub fn str(&mut self, len: usize) -> Option<&'a str> {
        std::str::from_utf8(self.bytes(len)?).ok()
    }
    /// A string written by [`put_str`].
    pub fn string(&mut self) -> Option<&'a str> {
        let len = self.u32()? as usize;
        self.str(len)
    }
    /// A count of items of at least `min_bytes` each, refused when the bytes left cannot
    /// hold them (so that a damaged count allocates nothing).
    pub fn count(&mut self, min_bytes: usize) -> Option<usize> {
        let n = self.u32()? as usize;
        (n.checked_mul(min_bytes.max(1))? <= self.b.len() - self.at).then_some(n)
    }
}

/// The little-endian `u32` at byte `i` of `b` (which holds it).
pub fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// The little-endian `u32`s written end to end in `b`.
pub fn u32s(b: &[u8]) -> impl Iterator<Item = u32> + '_ {
    b.chunks_exact(4).map(|c| u32_at(c, 0))
}

/// Appends a string as its length (`u32`) and bytes.
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u32).to_le_bytes());
    out.extend(s.as_bytes());
}
