//! String interning for repeating event fields.

use super::segments::{Appended, Segmented, Sent, SEGMENT};
use super::slots::{Narrow, Slots};
use std::hash::BuildHasher;
use std::sync::Arc;

/// An interned string's number in its [`SymTable`].
pub type Sym = u32;
/// The empty string: a field that is absent, null or empty.
pub const EMPTY: Sym = 0;

/// Where a symbol's string is: a chunk, and a range in it.
#[derive(Clone, Copy, Debug, Default)]
pub struct SymEntry {
    chunk: u32,
    off: u32,
    len: u32,
}

/// Whether `a` and `b` are the same string: those of 4 to 16 bytes (most of what is interned)
/// compared as two words each, where a call to compare bytes cost more than the comparison.
#[inline]
pub fn same(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// [`same`] of bytes.
#[inline]
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w8 = |s: &[u8], at: usize| s.get(at..at + 8).map(|w| u64::from_le_bytes(w.try_into().unwrap_or_default()));
    let w4 = |s: &[u8], at: usize| s.get(at..at + 4).map(|w| u32::from_le_bytes(w.try_into().unwrap_or_default()));
    match n {
        8..=16 => w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8),
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        _ => a == b,
    }
}

/// How many look-ups in a table of a whole load go together, their slots read first (see
/// [`Slots::warm`]).
pub const WARM_GROUP: usize = 8;

/// Symbol id to string. The strings live end to end in shared chunks (12 bytes a symbol
/// besides the text, where an `Arc<str>` each cost 50-60 with its pointers in two tables; the
/// user agents of a million events are a few hundred thousand strings). Append-only, so a
/// consumer mirrors a producer's table by appending the [`SymBatch`]es it hands out; the
/// text and every full segment of entries are shared with the mirror, not copied.
#[derive(Debug, Clone)]
pub struct SymTable {
    chunks: Vec<Arc<str>>,
    entries: Segmented<SymEntry>,
}

/// Symbols new since the last batch, with the chunks that hold their strings.
#[derive(Debug, Default, Clone)]
pub struct SymBatch {
    chunks: Vec<Arc<str>>,
    entries: Appended<SymEntry>,
}

impl SymBatch {
    /// How many symbols the batch adds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// Whether the batch adds no symbol.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Appends the batch's encoding to `out` (read back by [`SymBatch::decode`]): the count
    /// added, the chunks, then the entries added (as a tail after no segment).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend((self.len() as u64).to_le_bytes());
        out.extend((self.chunks.len() as u32).to_le_bytes());
        for c in &self.chunks {
            super::wire::put_str(out, c);
        }
        out.extend(0u32.to_le_bytes());
        out.extend((self.len() as u32).to_le_bytes());
        for e in self.entries.iter() {
            out.extend(e.chunk.to_le_bytes());
            out.extend(e.off.to_le_bytes());
            out.extend(e.len.to_le_bytes());
        }
    }

    /// A batch encoded by [`SymBatch::encode`]; `None` when the bytes are not one. The
    /// entries are not checked against the chunks: a table answers "" for one out of range.
    /// (An encoding that gives whole segments, the first starting with entries the table had,
    /// is read too: only the last of its entries, as many as it adds, are new.)
    pub fn decode(r: &mut super::wire::Reader<'_>) -> Option<SymBatch> {
        let added = usize::try_from(r.u64()?).ok()?;
        let n = r.count(4)?;
        let chunks = (0..n).map(|_| r.string().map(Arc::from)).collect::<Option<Vec<Arc<str>>>>()?;
        let segments = r.u32()? as usize;
        let tail_len = r.u32()? as usize;
        let total = segments.checked_mul(SEGMENT)?.checked_add(tail_len)?;
        let entries = r.bytes(total.checked_mul(12)?)?;
        let new = entries.chunks_exact(12).skip(total.checked_sub(added)?).map(|b| {
            let w = |i| super::wire::u32_at(b, i);
            SymEntry { chunk: w(0), off: w(4), len: w(8) }
        });
        Some(SymBatch { chunks, entries: Appended::values(new.collect()) })
    }
}

impl Default for SymTable {
    fn default() -> Self {
        Self { chunks: Vec::new(), entries: [SymEntry::default()].into_iter().collect() }
    }
}

impl SymTable {
    #[inline]
    /// The string of a symbol ("" for one out of range).
    pub fn get(&self, sym: Sym) -> &str {
        let Some(e) = self.entries.get(sym as usize) else {
            return "";
        };
        let chunk = self.chunks.get(e.chunk as usize).map_or("", |c| &**c);
        chunk.get(e.off as usize..e.off as usize + e.len as usize).unwrap_or("")
    }
    /// How many symbols there are, the empty string included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// Whether only the empty string is in the table.
    pub fn is_empty(&self) -> bool {
        self.len() <= 1
    }
    /// Appends the symbols a producer handed out, in order.
    pub fn extend(&mut self, new: SymBatch) {
        self.chunks.extend(new.chunks);
        self.entries.extend(new.entries);
    }
    /// Every symbol with its string, in order.
    pub fn iter(&self) -> impl Iterator<Item = (Sym, &str)> {
        (0..self.len() as Sym).map(|sym| (sym, self.get(sym)))
    }
}

/// The hash interners use for strings: seeded per process, since event text is
/// attacker-controlled (no precomputed collisions). Loader threads hash with a copy of the
/// coordinator's, so it never hashes a string twice.
pub type StrHasher = foldhash::fast::RandomState;

/// String to symbol, with the table it fills.
#[derive(Debug)]
pub struct Interner {
    hasher: StrHasher,
    /// Symbols, found by their string's hash (28 bits of it kept, in 6 bytes a slot; every
    /// match is checked by text).
    index: Slots<Narrow>,
    /// Frozen chunks, and an entry for every symbol: the ones interned since the last
    /// [`Interner::take_new`] point at the chunk being filled, `current`.
    table: SymTable,
    current: String,
    /// How many chunks, and how much of the entries, were handed out.
    sent_chunks: usize,
    sent: Sent,
}

impl Default for Interner {
    fn default() -> Self {
        let table = SymTable::default();
        Interner {
            hasher: StrHasher::default(),
            index: Slots::default(),
            current: String::new(),
            sent_chunks: 0,
            // The empty string is in every table from the start.
            sent: table.entries.all_sent(),
            table,
        }
    }
}

impl Interner {
    /// The hash the interner uses, for hashing on other threads.
    pub fn hasher(&self) -> &StrHasher {
        &self.hasher
    }
    /// The symbol of `s`, interned now if it is new.
    pub fn intern(&mut self, s: &str) -> Sym {
        let hash = self.hasher.hash_one(s);
        self.intern_hashed(s, hash)
    }

    fn text(&self, sym: Sym) -> &str {
        let e = self.table.entries.get(sym as usize).copied().unwrap_or_default();
        let chunk = match self.table.chunks.get(e.chunk as usize) {
            Some(c) => &**c,
            None => &self.current,
        };
        chunk.get(e.off as usize..e.off as usize + e.len as usize).unwrap_or("")
    }

    /// Interns `s`, whose hash under [`Interner::hasher`] is `hash`.
    pub fn intern_hashed(&mut self, s: &str, hash: u64) -> Sym {
        if s.is_empty() {
            return EMPTY;
        }
        if let Some(sym) = self.index.find(hash, |sym| same(self.text(sym), s)) {
            return sym;
        }
        if self.current.len() + s.len() > u32::MAX as usize {
            self.freeze();
        }
        let sym = self.table.len() as Sym;
        self.index.insert(hash, sym);
        let entry =
            SymEntry { chunk: self.table.chunks.len() as u32, off: self.current.len() as u32, len: s.len() as u32 };
        self.current.push_str(s);
        self.table.entries.push(entry);
        sym
    }

    /// Reads where strings of these hashes would be found (see [`Slots::warm`]).
    pub fn warm(&self, hashes: impl IntoIterator<Item = u64>) {
        self.index.warm(hashes);
    }

    fn freeze(&mut self) {
        if !self.current.is_empty() {
            let chunk: Arc<str> = Arc::from(std::mem::take(&mut self.current));
            self.table.chunks.push(chunk);
        }
    }

    /// An interner that goes on from a table a consumer already holds (the mirror of one that
    /// was sent, read back): its strings are found again, sharing their text, and only the
    /// symbols interned from now on are sent.
    pub fn resume(table: SymTable) -> Interner {
        let mut i = Interner { table, ..Default::default() };
        let n = i.table.len();
        i.index.reserve(n);
        for sym in 1..n as Sym {
            let hash = i.hasher.hash_one(i.table.get(sym));
            i.index.insert(hash, sym);
        }
        (i.sent_chunks, i.sent) = (i.table.chunks.len(), i.table.entries.all_sent());
        i
    }

    /// The symbols interned since the last call, for a consumer's mirror of the table.
    pub fn take_new(&mut self) -> SymBatch {
        self.freeze();
        let chunks = self.table.chunks[self.sent_chunks..].to_vec();
        self.sent_chunks = self.table.chunks.len();
        SymBatch { chunks, entries: self.table.entries.take_new(&mut self.sent) }
    }

    /// Whether symbols were interned since the last [`Interner::take_new`].
    pub fn has_new(&self) -> bool {
        self.table.len() > self.sent.len()
    }

    /// How many symbols there are, the empty string included.
    pub fn len(&self) -> usize {
        self.table.len()
    }
    /// Says how many symbols the interner is expected to hold in the end (see
    /// [`Slots::expect`]).
    pub fn expect(&mut self, n: usize) {
        self.index.expect(n);
    }
    /// Whether only the empty string is interned.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

/// Profile or caller (a combination of symbols) to its index, with the list of them in order.
#[derive(Debug)]
pub struct ProfileInterner<P = super::Profile> {
    hasher: foldhash::fast::RandomState,
    index: ProfileIndex,
    /// Every combination, in order; a consumer's mirror shares its full segments.
    list: Segmented<P>,
    /// How much of `list` was handed out.
    sent: Sent,
    /// The last one interned, which the next event often shares.
    last: Option<u32>,
}

/// Where a [`ProfileInterner`] finds its combinations by hash.
#[derive(Debug)]
enum ProfileIndex {
    /// A table that doubles: quick to make, for the few combinations of one file.
    Small(hashbrown::HashTable<u32>),
    /// [`Slots`], for every combination of a load (hundreds of thousands of callers at a
    /// million events): 6.7-8.3 bytes each and never two whole tables at once, where a
    /// doubling table holds 5.7-11.4 bytes each and both its old and new tables while it grows.
    Large(Slots<Narrow>),
}

impl<P> Default for ProfileInterner<P> {
    fn default() -> Self {
        Self {
            hasher: Default::default(),
            index: ProfileIndex::Small(Default::default()),
            list: Segmented::default(),
            sent: Sent::default(),
            last: None,
        }
    }
}

impl<P: Copy + Eq + std::hash::Hash> ProfileInterner<P> {
    /// An interner for about `n` combinations (those of one file), which it holds without
    /// growing.
    pub fn with_capacity(n: usize) -> Self {
        Self { index: ProfileIndex::Small(hashbrown::HashTable::with_capacity(n)), ..Self::default() }
    }

    /// An interner for every combination of a load (see [`ProfileIndex::Large`]).
    pub fn large() -> Self {
        Self { index: ProfileIndex::Large(Slots::default()), ..Self::default() }
    }

    /// A [`ProfileInterner::large`] that goes on from `list` (a consumer holds it already):
    /// only combinations interned from now on are handed out.
    pub fn resume(list: &[P]) -> Self {
        let mut out = Self::large();
        for p in list {
            out.intern(p);
        }
        out.sent = out.list.all_sent();
        out
    }

    /// The combinations interned since the last call, for a consumer's mirror of the list.
    pub fn take_new(&mut self) -> Appended<P> {
        self.list.take_new(&mut self.sent)
    }

    /// Whether combinations were interned since the last [`ProfileInterner::take_new`].
    pub fn has_new(&self) -> bool {
        self.list.len() > self.sent.len()
    }

    /// The index of `p`, added at the end if new.
    pub fn intern(&mut self, p: &P) -> u32 {
        if let Some(i) = self.last.filter(|&i| self.list[i as usize] == *p) {
            return i;
        }
        self.intern_hashed(p, self.hasher.hash_one(p))
    }

    /// [`ProfileInterner::intern`] of `p` whose hash is `hash`.
    fn intern_hashed(&mut self, p: &P, hash: u64) -> u32 {
        let list = &self.list;
        let found = match &self.index {
            ProfileIndex::Small(index) => index.find(hash, |&i| list[i as usize] == *p).copied(),
            ProfileIndex::Large(index) => index.find(hash, |i| list[i as usize] == *p),
        };
        let i = match found {
            Some(i) => i,
            None => {
                let i = self.list.len() as u32;
                match &mut self.index {
                    ProfileIndex::Small(index) => {
                        let hasher = &self.hasher;
                        index.insert_unique(hash, i, |&i| hasher.hash_one(list[i as usize]));
                    }
                    ProfileIndex::Large(index) => index.insert(hash, i),
                }
                self.list.push(*p);
                i
            }
        };
        self.last = Some(i);
        i
    }
    /// The combination at index `i`.
    pub fn get(&self, i: u32) -> &P {
        &self.list[i as usize]
    }
    /// How many distinct combinations there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }
    /// Says how many combinations a [`ProfileInterner::large`] is expected to hold in the end
    /// (see [`Slots::expect`]).
    pub fn expect(&mut self, n: usize) {
        if let ProfileIndex::Large(index) = &mut self.index {
            index.expect(n);
        }
    }
    /// Whether none is interned.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

impl<const N: usize> ProfileInterner<[Sym; N]> {
    /// The index of `c` with its symbols mapped by `map` (another table's to this one's),
    /// interned now if new.
    pub fn intern_mapped(&mut self, c: &[Sym; N], map: impl Fn(Sym) -> Sym) -> u32 {
        self.intern(&c.map(map))
    }

    /// [`ProfileInterner::intern_mapped`] of each of `cs`, in order, in groups whose slots are
    /// read before they are looked up (see [`Slots::warm`]).
    pub fn intern_all_mapped(&mut self, cs: &[&[Sym; N]], map: impl Fn(Sym) -> Sym) -> Vec<u32> {
        let mut out = Vec::with_capacity(cs.len());
        let mut group = Vec::with_capacity(WARM_GROUP);
        for cs in cs.chunks(WARM_GROUP) {
            group.clear();
            group.extend(cs.iter().map(|c| {
                let c = c.map(&map);
                (c, self.hasher.hash_one(c))
            }));
            if let ProfileIndex::Large(index) = &self.index {
                index.warm(group.iter().map(|&(_, hash)| hash));
            }
            for &(c, hash) in &group {
                out.push(self.intern_hashed(&c, hash));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_the_same_exactly_when_their_bytes_are() {
        // Every length up to past two words, differing at each place in turn, and differing
        // only in length.
        for n in 0..40 {
            let a: String = (0..n).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            assert!(same(&a, &a.clone()), "{a:?}");
            for at in 0..n {
                let mut b = a.clone().into_bytes();
                b[at] = b'Z';
                let b = String::from_utf8(b).unwrap();
                assert!(!same(&a, &b) && !same(&b, &a), "{a:?} and {b:?}");
            }
            let longer = format!("{a}x");
            assert!(!same(&a, &longer) && !same(&longer, &a), "{a:?} and {longer:?}");
        }
        assert!(same("", ""));
        assert!(!same("é", "e\u{301}"));
    }

    #[test]
    fn interning_is_stable_and_mirrorable() {
        let mut i = Interner::default();
        assert_eq!(i.intern(""), EMPTY);
        let a = i.intern("DeleteBucket");
        let b = i.intern("GetObject");
        assert_ne!(a, b);
        assert_eq!(i.intern("DeleteBucket"), a);
        let h = i.hasher().hash_one("GetObject");
        assert_eq!(i.intern_hashed("GetObject", h), b);
        let mut mirror = SymTable::default();
        mirror.extend(i.take_new());
        assert_eq!(mirror.len(), i.len());
        assert_eq!(mirror.get(a), "DeleteBucket");
        assert_eq!(mirror.get(b), "GetObject");
        assert_eq!(mirror.get(EMPTY), "");
        assert_eq!(mirror.get(999), "");
        // Later strings go to a new chunk; earlier ones are still found.
        for n in 0..1000 {
            i.intern(&format!("name{n}"));
        }
        assert_eq!(i.intern("DeleteBucket"), a);
        assert!(i.has_new());
        let sym = i.intern("name999");
        assert_eq!(i.text(sym), "name999");
        mirror.extend(i.take_new());
        assert!(!i.has_new());
        assert!(i.take_new().is_empty());
        assert_eq!(mirror.len(), i.len());
        assert_eq!(mirror.get(sym), "name999");
        assert_eq!(mirror.get(a), "DeleteBucket");
        assert_eq!(mirror.iter().filter(|(_, s)| s.starts_with("name")).count(), 1000);
    }

    #[test]
    fn a_mirror_follows_across_segments_in_batches_of_any_size() {
        let mut i = Interner::default();
        let mut mirror = SymTable::default();
        let mut syms = Vec::new();
        let mut n = 0;
        // Batches that end inside a segment, on its last entry, and span several.
        for batch in [1, 4094, 1, 1, 0, 4096, 9000, 3, 0, 12_288] {
            for _ in 0..batch {
                syms.push((i.intern(&format!("s{n}")), format!("s{n}")));
                n += 1;
            }
            let b = i.take_new();
            assert_eq!(b.len(), batch);
            mirror.extend(b);
            assert_eq!(mirror.len(), i.len());
            for (sym, s) in &syms {
                assert_eq!(mirror.get(*sym), s);
            }
        }
        assert_eq!(mirror.len(), n + 1);
        assert_eq!(mirror.get(n as Sym + 1), "");
        assert_eq!(i.intern("s4095"), syms[4095].0);
    }

    #[test]
    fn batches_read_back_are_appended_in_either_encoding() {
        let mut i = Interner::default();
        let (mut encoded, mut earlier) = (SymTable::default(), SymTable::default());
        let mut n = 0;
        for batch in [4000, 200, 5000, 1] {
            for _ in 0..batch {
                i.intern(&format!("s{n}"));
                n += 1;
            }
            let b = i.take_new();
            // As written now: the entries added.
            let mut out = Vec::new();
            b.encode(&mut out);
            encoded.extend(SymBatch::decode(&mut crate::model::wire::Reader::new(&out)).expect("decodes"));
            // As stored loads of version 6 were first written: every segment filled since,
            // the first starting with entries the table had, then the tail.
            let mut out = Vec::new();
            out.extend((batch as u64).to_le_bytes());
            out.extend((b.chunks.len() as u32).to_le_bytes());
            b.chunks.iter().for_each(|c| crate::model::wire::put_str(&mut out, c));
            let entries: Vec<SymEntry> = i.table.entries.iter().copied().collect();
            let segments = entries.len() / SEGMENT - (earlier.len() / SEGMENT);
            let from = earlier.len() / SEGMENT * SEGMENT;
            out.extend((segments as u32).to_le_bytes());
            out.extend(((entries.len() - from - segments * SEGMENT) as u32).to_le_bytes());
            for e in &entries[from..] {
                [e.chunk, e.off, e.len].iter().for_each(|w| out.extend(w.to_le_bytes()));
            }
            earlier.extend(SymBatch::decode(&mut crate::model::wire::Reader::new(&out)).expect("decodes"));
            for t in [&encoded, &earlier] {
                assert_eq!(t.len(), n + 1);
                assert!((1..=n).all(|k| t.get(k as Sym) == format!("s{}", k - 1)));
            }
        }
    }

    #[test]
    fn an_interner_resumed_from_a_mirror_finds_its_strings_and_sends_only_new_ones() {
        let mut i = Interner::default();
        let mut mirror = SymTable::default();
        let words: Vec<String> = (0..10_000).map(|n| format!("w{n}")).collect();
        for (n, w) in words.iter().enumerate() {
            i.intern(w);
            if n % 3_001 == 0 {
                mirror.extend(i.take_new());
            }
        }
        mirror.extend(i.take_new());
        let mut r = Interner::resume(mirror.clone());
        for w in &words {
            assert_eq!(r.intern(w), i.intern(w), "{w}");
        }
        assert!(!r.has_new());
        let new = r.intern("fresh");
        assert_eq!(new as usize, words.len() + 1);
        let batch = r.take_new();
        assert_eq!(batch.len(), 1);
        mirror.extend(batch);
        assert_eq!(mirror.get(new), "fresh");
        assert_eq!(mirror.get(r.intern("w42")), "w42");
        for _ in 0..SEGMENT {
            r.intern(&format!("more{}", r.len()));
        }
        mirror.extend(r.take_new());
        assert_eq!(mirror.len(), r.len());
        assert_eq!(mirror.get(r.len() as Sym - 1), format!("more{}", r.len() - 1));
    }

    #[test]
    fn profiles_are_interned_in_order() {
        // Both indexes: the one of a file's few combinations and the one of a whole load.
        for (kind, mut p) in [("small", ProfileInterner::default()), ("large", ProfileInterner::large())] {
            let a = [1; crate::model::PROFILE_FIELDS];
            let mut b = a;
            b[3] = 7;
            assert_eq!(p.intern(&a), 0, "{kind}");
            assert_eq!(p.intern(&a), 0, "{kind}");
            assert_eq!(p.intern(&b), 1, "{kind}");
            assert_eq!(p.intern(&a), 0, "{kind}");
            for n in 0..50_000 {
                let mut c = a;
                c[0] = n + 100;
                assert_eq!(p.intern(&c), n + 2, "{kind}");
            }
            for n in (0..50_000).rev() {
                let mut c = a;
                c[0] = n + 100;
                assert_eq!(p.intern(&c), n + 2, "{kind}: interned again");
            }
            assert_eq!(p.intern(&b), 1, "{kind}");
            assert_eq!(p.len(), 50_002, "{kind}");
            assert_eq!(*p.get(1), b, "{kind}");
            let mut resumed = ProfileInterner::resume(&(0..p.len() as u32).map(|i| *p.get(i)).collect::<Vec<_>>());
            assert_eq!(resumed.intern(&b), 1, "{kind}: resumed");
            assert_eq!(resumed.intern(&[9; crate::model::PROFILE_FIELDS]), 50_002, "{kind}: resumed");
        }
    }

    #[test]
    fn combinations_interned_in_groups_are_those_interned_one_by_one() {
        let map = |s: Sym| s * 3;
        let combos: Vec<[Sym; 3]> = (0..10_000).map(|n| [n % 101, n % 97, 1]).collect();
        let refs: Vec<&[Sym; 3]> = combos.iter().collect();
        for mut grouped in [ProfileInterner::default(), ProfileInterner::large()] {
            let mut one = ProfileInterner::large();
            grouped.intern(&[0, 0, 15]);
            one.intern(&[0, 0, 15]);
            let first = (grouped.take_new(), one.take_new());
            assert!(first.0.iter().eq(first.1.iter()) && first.0.len() == 1);
            let want: Vec<u32> = combos.iter().map(|c| one.intern_mapped(c, map)).collect();
            assert_eq!(grouped.intern_all_mapped(&refs, map), want);
            assert!(grouped.has_new());
            let (a, b) = (grouped.take_new(), one.take_new());
            assert_eq!(a.len(), b.len());
            assert!(a.iter().eq(b.iter()), "the same new combinations, in the same order");
            assert_eq!(grouped.len(), one.len());
            assert!(!grouped.has_new() && grouped.take_new().is_empty());
        }
    }

    #[test]
    fn combinations_of_group_after_group_are_those_interned_one_by_one() {
        // Files of combinations overlapping the file before, older ones and new ones, each
        // file's in an order of its own.
        let map = |s: Sym| s + 1;
        let mut grouped = ProfileInterner::large();
        let mut one = ProfileInterner::large();
        for file in 0..6u32 {
            // 200 of the file before, 100 new, and 50 of the file before that alone.
            let mut ns: Vec<u32> = (file * 100..file * 100 + 300).collect();
            if file >= 2 {
                ns.extend((file - 2) * 100..(file - 2) * 100 + 50);
            }
            if file % 2 == 1 {
                ns.reverse();
            }
            let combos: Vec<[Sym; 2]> = ns.iter().map(|&n| [n, n % 5]).collect();
            let refs: Vec<&[Sym; 2]> = combos.iter().collect();
            let want: Vec<u32> = combos.iter().map(|c| one.intern_mapped(c, map)).collect();
            assert_eq!(grouped.intern_all_mapped(&refs, map), want, "file {file}");
            let (a, b) = (grouped.take_new(), one.take_new());
            assert!(a.iter().eq(b.iter()), "the same new combinations, in the same order");
        }
        assert_eq!(grouped.len(), one.len());
    }
}
