//! Hash tables of 8-byte slots for finding many things by a hash kept in part: the copy
//! finder's events by eventID, the interner's strings.
//!
//! A table is spread over [`SHARDS`] tables chosen by 12 bits of a 64-bit hash; each slot keeps
//! 32 other bits beside a number (an event, a symbol), so that a table grows again from what it
//! holds, with no array of hashes beside it. Each table is open addressing with linear probing,
//! of any size (not a power of two), kept between 72% and 90% full: 8.9-11.1 bytes an entry,
//! where a table of 4-byte slots and control bytes whose size doubles is 44-87.5% full (5.7-11.4
//! bytes) and needs the hashes kept besides to grow (4 or 8 bytes more). A growth moves one
//! table, a 4,096th of the entries, so it holds little memory twice. Entries that share the 44
//! bits are all given: the caller tells them apart.

/// How many tables the entries are spread over (by 12 bits of the hash).
const SHARD_BITS: u32 = 12;
/// How many tables there are.
pub const SHARDS: usize = 1 << SHARD_BITS;

/// Numbers found by 44 bits of a 64-bit hash.
pub struct Slots {
    shards: Box<[Shard]>,
}

impl Default for Slots {
    fn default() -> Self {
        Slots { shards: (0..SHARDS).map(|_| Shard::default()).collect() }
    }
}

impl std::fmt::Debug for Slots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries: usize = self.shards.iter().map(|s| s.len).sum();
        f.debug_struct("Slots").field("entries", &entries).field("slots", &self.capacity()).finish()
    }
}

/// The table of a hash and the 32 bits kept of it.
#[inline]
fn key(hash: u64) -> (usize, u32) {
    ((hash >> (64 - SHARD_BITS)) as usize, (hash >> 20) as u32)
}

impl Slots {
    /// The first number entered with `hash` for which `is` says yes, in the order entered.
    #[inline]
    pub fn find(&self, hash: u64, mut is: impl FnMut(u32) -> bool) -> Option<u32> {
        let (shard, fp) = key(hash);
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

    /// Every number entered with `hash` (and any other of the same 44 bits), in the order entered.
    pub fn all(&self, hash: u64) -> Vec<u32> {
        let (shard, fp) = key(hash);
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
        let mut any = 0u64;
        for hash in hashes {
            let (shard, fp) = key(hash);
            let slots = &self.shards[shard].slots;
            if !slots.is_empty() {
                any ^= slots[Shard::home(fp, slots.len())];
            }
        }
        std::hint::black_box(any);
    }

    /// Enters `n` (below `u32::MAX`) with `hash`.
    #[inline]
    pub fn insert(&mut self, hash: u64, n: u32) {
        let (shard, fp) = key(hash);
        self.shards[shard].insert(fp, n);
    }

    /// Makes room for `n` more entries, spread as hashes spread them.
    pub fn reserve(&mut self, n: usize) {
        let each = n / SHARDS + n / SHARDS / 8;
        self.shards.iter_mut().for_each(|s| s.reserve(each));
    }

    /// How many slots there are (full or empty).
    pub fn capacity(&self) -> usize {
        self.shards.iter().map(|s| s.slots.len()).sum()
    }
}

/// One table: each slot the 32 bits kept of the hash above the number plus one (0: empty).
#[derive(Default)]
struct Shard {
    slots: Vec<u64>,
    len: usize,
}

impl Shard {
    /// Fullest a table gets before it grows.
    const MAX_LOAD: (usize, usize) = (90, 100);

    #[inline]
    fn home(fp: u32, cap: usize) -> usize {
        ((fp as u64 * cap as u64) >> 32) as usize
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
            if s == 0 {
                return;
            }
            if (s >> 32) as u32 == fp && !f(s as u32 - 1) {
                return;
            }
            i = if i + 1 == cap { 0 } else { i + 1 };
        }
    }

    fn insert(&mut self, fp: u32, n: u32) {
        if (self.len + 1) * Self::MAX_LOAD.1 > self.slots.len() * Self::MAX_LOAD.0 {
            self.grow(self.len + 1);
        }
        Self::place(&mut self.slots, (fp as u64) << 32 | (n as u64 + 1));
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
        let mut slots = vec![0u64; cap];
        for &s in self.slots.iter().filter(|&&s| s != 0) {
            Self::place(&mut slots, s);
        }
        self.slots = slots;
    }

    fn place(slots: &mut [u64], s: u64) {
        let cap = slots.len();
        let mut i = Self::home((s >> 32) as u32, cap);
        while slots[i] != 0 {
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

    #[test]
    fn tables_grow_and_find_every_entry_in_order() {
        let mut t = Slots::default();
        t.reserve(1000);
        for i in 0..200_000u32 {
            assert_eq!(t.find(h(i), |_| true), None, "entry {i} before it is entered");
            t.insert(h(i), i);
        }
        for i in 0..200_000u32 {
            assert_eq!(t.find(h(i), |n| n == i), Some(i), "entry {i}");
            assert_eq!(t.all(h(i)), vec![i], "entry {i}");
        }
        // Between 72% and 90% full (and the smallest tables of 8 slots).
        let slots = t.capacity();
        assert!(slots * 90 >= 200_000 * 100 && slots * 72 <= 200_000 * 100 + SHARDS * 8 * 72, "{slots} slots");
    }

    #[test]
    fn entries_of_the_same_kept_bits_are_all_given_in_order() {
        let mut t = Slots::default();
        let base = 0x8000_0000_0000_0001u64;
        // Bits below the kept 44 do not tell entries apart; any kept bit does.
        for (n, bit) in [1, 3, 19].into_iter().enumerate() {
            t.insert(base ^ (1 << bit), n as u32);
            t.insert(base ^ (1 << (20 + bit)), 100 + n as u32);
        }
        assert_eq!(t.all(base), vec![0, 1, 2]);
        assert_eq!(t.find(base, |n| n > 0), Some(1));
        assert_eq!(t.all(base ^ (1 << 21)), vec![100]);
        assert_eq!(t.all(base ^ (1 << 63)), Vec::<u32>::new());
    }
}
