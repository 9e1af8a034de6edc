//! Hash tables of small slots for finding many things by a hash kept in part: the copy
//! finder's events by eventID, the interner's strings, a load's profiles and callers.
//!
//! A table is spread over [`SHARDS`] tables chosen by 12 bits of a 64-bit hash; each slot keeps
//! some other bits of it beside a number (an event, a symbol), so that a table grows again from
//! what it holds, with no array of hashes beside it. Each table is open addressing with linear
//! probing, of any size (not a power of two), kept between 72% and 90% full. A growth moves one
//! table, a 4,096th of the entries, so it holds little memory twice. Entries that share the kept
//! bits are all given: the caller tells them apart.
//!
//! Two widths: [`Wide`] slots (8 bytes: 32 bits of the hash, 8.9-11.1 bytes an entry) where
//! telling entries apart is dear (the copy finder reads records back), and [`Narrow`] ones (6
//! bytes: 16 bits, 6.7-8.3 bytes an entry) where it is a comparison in memory (strings,
//! profiles), about one look-up in ten thousand comparing one entry more.

/// How many tables the entries are spread over (by 12 bits of the hash).
const SHARD_BITS: u32 = 12;
/// How many tables there are.
pub const SHARDS: usize = 1 << SHARD_BITS;

/// What a slot holds: some bits of the hash and a number plus one (all zero: empty).
pub trait Slot: Copy + Default + Eq {
    /// How many bits of the hash a slot keeps.
    const BITS: u32;
    /// The slot of `n` (below `u32::MAX`) whose kept bits are `fp`.
    fn new(fp: u32, n: u32) -> Self;
    /// The kept bits.
    fn fp(self) -> u32;
    /// The number (the slot is not empty).
    fn n(self) -> u32;
    /// Whether the slot is empty.
    #[inline]
    fn is_empty(self) -> bool {
        self == Self::default()
    }
}

/// A slot of 8 bytes: 32 bits of the hash (44 with the table's 12).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Wide(u64);

impl Slot for Wide {
    const BITS: u32 = 32;
    #[inline]
    fn new(fp: u32, n: u32) -> Self {
        Wide((fp as u64) << 32 | (n as u64 + 1))
    }
    #[inline]
    fn fp(self) -> u32 {
        (self.0 >> 32) as u32
    }
    #[inline]
    fn n(self) -> u32 {
        self.0 as u32 - 1
    }
}

/// A slot of 6 bytes: 16 bits of the hash (28 with the table's 12).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Narrow([u16; 3]);

impl Slot for Narrow {
    const BITS: u32 = 16;
    #[inline]
    fn new(fp: u32, n: u32) -> Self {
        let n = n + 1;
        Narrow([fp as u16, n as u16, (n >> 16) as u16])
    }
    #[inline]
    fn fp(self) -> u32 {
        self.0[0] as u32
    }
    #[inline]
    fn n(self) -> u32 {
        (self.0[1] as u32 | (self.0[2] as u32) << 16) - 1
    }
    #[inline]
    fn is_empty(self) -> bool {
        self.0[1] == 0 && self.0[2] == 0
    }
}

/// Numbers found by 12 + [`Slot::BITS`] bits of a 64-bit hash.
pub struct Slots<S: Slot = Wide> {
    shards: Box<[Shard<S>]>,
    /// How many entries each table is expected to hold in the end (see [`Slots::expect`]).
    expected_each: usize,
}

impl<S: Slot> Default for Slots<S> {
    fn default() -> Self {
        Slots { shards: (0..SHARDS).map(|_| Shard::default()).collect(), expected_each: 0 }
    }
}

impl<S: Slot> std::fmt::Debug for Slots<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries: usize = self.shards.iter().map(|s| s.len).sum();
        f.debug_struct("Slots").field("entries", &entries).field("slots", &self.capacity()).finish()
    }
}

/// The table of a hash and the bits kept of it.
#[inline]
fn key<S: Slot>(hash: u64) -> (usize, u32) {
    let fp = (hash << SHARD_BITS) >> (64 - S::BITS);
    ((hash >> (64 - SHARD_BITS)) as usize, fp as u32)
}

impl<S: Slot> Slots<S> {
    /// The first number entered with `hash` for which `is` says yes, in the order entered.
    #[inline]
    pub fn find(&self, hash: u64, mut is: impl FnMut(u32) -> bool) -> Option<u32> {
        let (shard, fp) = key::<S>(hash);
        let mut found = None;
        self.shards[shard].each(fp, |n| {
            if is(n) {
                found = Some(n);
                false
            } else {
                true
            }
        });
        found
    }

    /// Every number entered with `hash` (and any other of the same kept bits), in the order
    /// entered.
    pub fn all(&self, hash: u64) -> Vec<u32> {
        let (shard, fp) = key::<S>(hash);
        let mut all = Vec::new();
        self.shards[shard].each(fp, |n| {
            all.push(n);
            true
        });
        all
    }

    /// Reads the slots where `hashes` would be found, and nothing else: what is looked up next
    /// is then in the cache. A table of millions of entries is far larger than the cache, so
    /// each look-up waits on memory; reading several homes first, whose reads do not depend on
    /// each other, waits on them together.
    pub fn warm(&self, hashes: impl IntoIterator<Item = u64>) {
        let mut any = 0u32;
        for hash in hashes {
            let (shard, fp) = key::<S>(hash);
            let slots = &self.shards[shard].slots;
            if !slots.is_empty() {
                any ^= slots[Shard::<S>::home(fp, slots.len())].fp();
            }
        }
        std::hint::black_box(any);
    }

    /// Enters `n` (below `u32::MAX`) with `hash`.
    #[inline]
    pub fn insert(&mut self, hash: u64, n: u32) {
        let (shard, fp) = key::<S>(hash);
        self.shards[shard].insert(fp, n, self.expected_each);
    }

    /// Makes room for `n` more entries, spread as hashes spread them.
    pub fn reserve(&mut self, n: usize) {
        let each = Self::each(n);
        self.shards.iter_mut().for_each(|s| s.reserve(each));
    }

    /// Says that the table is expected to hold about `n` entries in the end: a table that
    /// grows from now on grows towards that size in one step (at most eight times larger)
    /// instead of a quarter at a time, moving each entry once or twice instead of about four
    /// times. Nothing is allocated until a table would grow anyway, and a table that outgrows
    /// the expectation grows as before.
    pub fn expect(&mut self, n: usize) {
        self.expected_each = Self::each(n);
    }

    /// The entries of `n` one table holds, with room for how unevenly hashes spread them.
    fn each(n: usize) -> usize {
        n / SHARDS + n / SHARDS / 8
    }

    /// How many slots there are (full or empty).
    pub fn capacity(&self) -> usize {
        self.shards.iter().map(|s| s.slots.len()).sum()
    }
}

/// One table of slots.
struct Shard<S> {
    slots: Vec<S>,
    len: usize,
}

impl<S> Default for Shard<S> {
    fn default() -> Self {
        Shard { slots: Vec::new(), len: 0 }
    }
}

impl<S: Slot> Shard<S> {
    /// Fullest a table gets before it grows.
    const MAX_LOAD: (usize, usize) = (90, 100);
    /// The most a table grows in one step towards its expected size: an expectation formed
    /// early, from few inputs, is taken a step at a time.
    const MAX_STEP: usize = 8;

    #[inline]
    fn home(fp: u32, cap: usize) -> usize {
        ((fp as u64 * cap as u64) >> S::BITS) as usize
    }

    /// Gives `f` the numbers kept with `fp`, in the order entered, while it says to go on.
    #[inline]
    fn each(&self, fp: u32, mut f: impl FnMut(u32) -> bool) {
        let cap = self.slots.len();
        if cap == 0 {
            return;
        }
        let mut i = Self::home(fp, cap);
        loop {
            let s = self.slots[i];
            if s.is_empty() {
                return;
            }
            if s.fp() == fp && !f(s.n()) {
                return;
            }
            i = if i + 1 == cap { 0 } else { i + 1 };
        }
    }

    fn insert(&mut self, fp: u32, n: u32, expected: usize) {
        if (self.len + 1) * Self::MAX_LOAD.1 > self.slots.len() * Self::MAX_LOAD.0 {
            let toward = expected.min(self.slots.len().max(8) * Self::MAX_STEP);
            self.grow((self.len + 1).max(toward));
        }
        Self::place(&mut self.slots, S::new(fp, n));
        self.len += 1;
    }

    /// Makes room for `n` more entries without growing.
    fn reserve(&mut self, n: usize) {
        let want = self.len + n;
        if want * Self::MAX_LOAD.1 > self.slots.len() * Self::MAX_LOAD.0 {
            self.grow(want);
        }
    }

    /// Moves the slots to a table that holds `at_least` entries below [`Shard::MAX_LOAD`], a
    /// quarter larger than now at least.
    fn grow(&mut self, at_least: usize) {
        let need = (at_least * Self::MAX_LOAD.1).div_ceil(Self::MAX_LOAD.0) + 1;
        let cap = need.max(self.slots.len() + self.slots.len() / 4).max(8);
        let mut slots = vec![S::default(); cap];
        for &s in self.slots.iter().filter(|s| !s.is_empty()) {
            Self::place(&mut slots, s);
        }
        self.slots = slots;
    }

    fn place(slots: &mut [S], s: S) {
        let cap = slots.len();
        let mut i = Self::home(s.fp(), cap);
        while !slots[i].is_empty() {
            i = if i + 1 == cap { 0 } else { i + 1 };
        }
        slots[i] = s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(i: u32) -> u64 {
        xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes())
    }

    fn grow_and_find_every_entry_in_order<S: Slot>() {
        let mut t = Slots::<S>::default();
        t.reserve(1000);
        let mut others = 0;
        for i in 0..200_000u32 {
            assert_eq!(t.find(h(i), |n| n == i), None, "entry {i} before it is entered");
            t.insert(h(i), i);
        }
        for i in 0..200_000u32 {
            assert_eq!(t.find(h(i), |n| n == i), Some(i), "entry {i}");
            let all = t.all(h(i));
            assert!(all.contains(&i), "entry {i}: {all:?}");
            others += all.len() - 1;
        }
        // Wide slots keep 44 bits of the hash: no two of these entries share them. Narrow ones
        // keep 28: about 200,000^2 / 2^29 (75) pairs do, each given for both.
        match S::BITS {
            32 => assert_eq!(others, 0),
            _ => assert!((50..=250).contains(&others), "{others} entries given with others"),
        }
        // Between 72% and 90% full (and the smallest tables of 8 slots).
        let slots = t.capacity();
        assert!(slots * 90 >= 200_000 * 100 && slots * 72 <= 200_000 * 100 + SHARDS * 8 * 72, "{slots} slots");
    }

    #[test]
    fn a_table_told_its_size_grows_to_it_in_few_steps() {
        let n = 400_000u32;
        let mut t = Slots::<Wide>::default();
        t.expect(n as usize);
        // The first entries: each table grows from nothing to eight times its first size.
        for i in 0..SHARDS as u32 * 8 {
            t.insert(h(i), i);
        }
        let first = t.capacity();
        assert!((SHARDS * 64..=SHARDS * 73).contains(&first), "{first} slots");
        for i in SHARDS as u32 * 8..n {
            t.insert(h(i), i);
        }
        // Then to the expected size at once (with an eighth more for how unevenly the hashes
        // spread, and the fullest tables a quarter more again): 77% full, where growing a
        // quarter at a time from the start leaves 72% to 90%.
        let slots = t.capacity();
        assert!(slots * 90 >= n as usize * 100 && slots * 100 <= n as usize * 130, "{slots} slots");
        assert!((0..n).all(|i| t.find(h(i), |x| x == i) == Some(i)));
        // Expected smaller than it turns out: it grows on as before.
        let mut t = Slots::<Narrow>::default();
        t.expect(1000);
        for i in 0..n {
            t.insert(h(i), i);
        }
        assert!(t.capacity() * 90 >= n as usize * 100);
        assert!((0..n).all(|i| t.find(h(i), |x| x == i) == Some(i)));
    }

    #[test]
    fn tables_grow_and_find_every_entry_in_order() {
        grow_and_find_every_entry_in_order::<Wide>();
        grow_and_find_every_entry_in_order::<Narrow>();
    }

    fn same_kept_bits_are_all_given_in_order<S: Slot>() {
        let mut t = Slots::<S>::default();
        let base = 0x8000_0000_0000_0001u64;
        // The kept bits are those below the table's 12; bits below them do not tell entries
        // apart, any kept bit does.
        let low = 64 - SHARD_BITS - S::BITS;
        for (n, bit) in [1, 3, 15].into_iter().enumerate() {
            t.insert(base ^ (1 << bit), n as u32);
            t.insert(base ^ (1 << (low + bit)), 100 + n as u32);
        }
        assert_eq!(t.all(base), vec![0, 1, 2]);
        assert_eq!(t.find(base, |n| n > 0), Some(1));
        assert_eq!(t.all(base ^ (1 << (low + 1))), vec![100]);
        assert_eq!(t.all(base ^ (1 << 63)), Vec::<u32>::new());
        // Numbers up to the largest.
        t.insert(base ^ (1 << (low + 5)), u32::MAX - 1);
        assert_eq!(t.all(base ^ (1 << (low + 5))), vec![u32::MAX - 1]);
    }

    #[test]
    fn entries_of_the_same_kept_bits_are_all_given_in_order() {
        same_kept_bits_are_all_given_in_order::<Wide>();
        same_kept_bits_are_all_given_in_order::<Narrow>();
    }
}
