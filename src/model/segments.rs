//! Append-only tables in segments: a producer (a load's interners: the strings' entries, the
//! callers, the profiles) and the mirrors it hands its additions to (the store a consumer
//! holds) share every full segment, so a table filled while loading is held once, not once by
//! the loader and again by the store.

use std::sync::Arc;

/// How many entries a full segment holds.
pub const SEGMENT: usize = 4096;

/// A table of `T`s: full segments, shared, then a tail of fewer than [`SEGMENT`].
#[derive(Debug, Clone)]
pub struct Segmented<T> {
    full: Vec<Arc<[T]>>,
    tail: Vec<T>,
}

impl<T> Default for Segmented<T> {
    fn default() -> Self {
        Segmented { full: Vec::new(), tail: Vec::new() }
    }
}

/// What a table gained since a point: the segments filled since, then the tail's new entries
/// (all of the tail when segments were filled: a mirror's tail is then the first new
/// segment's start), or entries read back that a mirror appends one by one.
#[derive(Debug, Clone)]
pub struct Appended<T> {
    full: Vec<Arc<[T]>>,
    tail: Vec<T>,
    added: usize,
}

impl<T> Default for Appended<T> {
    fn default() -> Self {
        Appended { full: Vec::new(), tail: Vec::new(), added: 0 }
    }
}

/// How much of a table was handed out (see [`Segmented::take_new`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Sent {
    full: usize,
    len: usize,
}

impl Sent {
    /// How many entries were handed out.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none was.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<T: Copy> Segmented<T> {
    /// How many entries there are.
    #[inline]
    pub fn len(&self) -> usize {
        self.full.len() * SEGMENT + self.tail.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entry `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&T> {
        let (seg, at) = (i / SEGMENT, i % SEGMENT);
        match self.full.get(seg) {
            Some(s) => s.get(at),
            None if seg == self.full.len() => self.tail.get(at),
            None => None,
        }
    }

    /// Appends `v`.
    pub fn push(&mut self, v: T) {
        if self.tail.len() == SEGMENT {
            let full = std::mem::replace(&mut self.tail, Vec::with_capacity(SEGMENT));
            self.full.push(full.into());
        }
        self.tail.push(v);
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.full.iter().flat_map(|s| s.iter()).chain(&self.tail)
    }

    /// What says all of the table was handed out already.
    pub fn all_sent(&self) -> Sent {
        Sent { full: self.full.len(), len: self.len() }
    }

    /// What the table gained since `sent`, which then says all of it was handed out.
    pub fn take_new(&self, sent: &mut Sent) -> Appended<T> {
        let full = self.full[sent.full.min(self.full.len())..].to_vec();
        let added = self.len() - sent.len;
        let tail = &self.tail[if full.is_empty() { self.tail.len() - added } else { 0 }..];
        *sent = self.all_sent();
        Appended { full, tail: tail.to_vec(), added }
    }

    /// Appends what a producer's table gained (this table holding what it held before), or
    /// entries read back.
    pub fn extend(&mut self, new: Appended<T>) {
        if new.full.is_empty() {
            new.tail.into_iter().for_each(|v| self.push(v));
        } else {
            // The first new segment starts with the tail this table had.
            self.tail.clear();
            self.full.extend(new.full);
            self.tail.extend(new.tail);
        }
    }
}

impl<T: Copy> std::ops::Index<usize> for Segmented<T> {
    type Output = T;
    #[inline]
    fn index(&self, i: usize) -> &T {
        match self.get(i) {
            Some(v) => v,
            None => panic!("entry {i} of a table of {}", self.len()),
        }
    }
}

impl<T: Copy> FromIterator<T> for Segmented<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut t = Segmented::default();
        iter.into_iter().for_each(|v| t.push(v));
        t
    }
}

impl<T: Copy> Appended<T> {
    /// Entries read back, in order, for a table to append one by one.
    pub fn values(values: Vec<T>) -> Self {
        Appended { full: Vec::new(), added: values.len(), tail: values }
    }

    /// How many entries it adds.
    pub fn len(&self) -> usize {
        self.added
    }

    /// Whether it adds none.
    pub fn is_empty(&self) -> bool {
        self.added == 0
    }

    /// The entries it adds, in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        let skip = self.full.len() * SEGMENT + self.tail.len() - self.added;
        self.full.iter().flat_map(|s| s.iter()).chain(&self.tail).skip(skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mirror_shares_the_segments_and_holds_what_the_producer_holds() {
        let mut producer = Segmented::default();
        let (mut sent, mut mirror, mut read_back) = (Sent::default(), Segmented::default(), Segmented::default());
        let mut n = 0u32;
        // Batches of every size: empty, a few, across one segment, across several.
        for size in [0, 3, 1, 4092, 0, 1, 4096, 9000, 5, 4095, 1] {
            for _ in 0..size {
                producer.push(n);
                n += 1;
            }
            let new = producer.take_new(&mut sent);
            assert_eq!(new.len(), size);
            let values: Vec<u32> = new.iter().copied().collect();
            assert_eq!(values, (n - size as u32..n).collect::<Vec<_>>());
            mirror.extend(new);
            read_back.extend(Appended::values(values));
            for t in [&mirror, &read_back] {
                assert_eq!(t.len(), n as usize);
                assert!(t.iter().copied().eq(0..n));
                assert!((0..n).all(|i| t[i as usize] == i && t.get(i as usize) == Some(&i)));
                assert_eq!(t.get(n as usize), None);
            }
        }
        // Full segments are the producer's, not copies.
        assert!(mirror.full.iter().zip(&producer.full).all(|(a, b)| Arc::ptr_eq(a, b)));
        assert_eq!(mirror.full.len(), n as usize / SEGMENT);
    }
}
