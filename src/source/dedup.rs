//! Whether an event is an exact copy of one already taken (the same record in two files, or
//! the same event from a trail file and from lookup-events output), in as few bytes an event
//! as the answer allows: it is kept for every event until the load ends.

use crate::model::raw::RawBytes;
use crate::model::slots::Slots;
use crate::model::RawLoc;
use std::collections::HashMap;

/// The events taken so far, found by eventID, with what compares their contents: about 2 bytes
/// an event besides the table's slot of 8 (where a table of indices, whole id hashes and the
/// bytes' hashes took 26 at a million events).
///
/// An event is a copy when an earlier one has the same eventID and the same bytes, or the same
/// eventID and the same content written differently (key order, spaces, a lookup-events string).
/// Events are found by 44 bits of their eventID's hash ([`Slots`]). An event that meets
/// earlier ones of those 44 bits has their records read back: the same bytes (their 64-bit
/// hash) make it a copy, else the records are compared structurally, eventID included, so ids
/// that differ and share the 44 bits (about 3 pairs in ten million events) cost a read, never
/// an event. Copies are rare in one trail's archive; where
/// they are many (two trails that overlap), their records are read back file after file, from
/// the reader's cache of decompressed files.
#[derive(Default)]
pub(super) struct Seen {
    /// The events by their id hash.
    by_id: Slots,
    /// Per event taken: where its record starts in its file.
    offsets: Offsets,
    /// The file of the events from each position on: (first event, file), where the file changes.
    files: Vec<(u32, u32)>,
    /// Structural hashes of records read back, by event (`None`: unreadable or not JSON).
    canonical: HashMap<u32, Option<u128>>,
}

/// Reads a record back by its location (`None`: it cannot be read).
pub(super) type ReadBack<'a> = dyn FnMut(RawLoc) -> Option<RawBytes> + 'a;

impl Seen {
    /// How many events were taken.
    pub(super) fn len(&self) -> u32 {
        self.offsets.steps.len() as u32
    }

    /// Whether the event is a copy of one taken; if it is not, it is taken (as the next event).
    /// `id_hash` is 0 for an event without an eventID, odd otherwise; `raw_hash` is the 64-bit
    /// xxh3 of its record's bytes, as `read` gives them back.
    pub(super) fn copy_or_take(&mut self, id_hash: u64, raw_hash: u64, loc: RawLoc, read: &mut ReadBack<'_>) -> bool {
        if id_hash != 0 && self.is_copy(id_hash, raw_hash, loc, read) {
            return true;
        }
        self.push(loc);
        false
    }

    fn push(&mut self, loc: RawLoc) {
        if self.files.last().is_none_or(|&(_, f)| f != loc.file) {
            self.files.push((self.len(), loc.file));
        }
        self.offsets.push(loc.offset);
    }

    /// Reads where the events of these eventID hashes would be found (see [`Slots::warm`]).
    pub(super) fn warm(&self, id_hashes: impl IntoIterator<Item = u64>) {
        self.by_id.warm(id_hashes);
    }

    /// Says how many events are expected in the end (see [`Slots::expect`]).
    pub(super) fn expect(&mut self, n: usize) {
        self.by_id.expect(n);
    }

    /// Makes room for `n` more events.
    pub(super) fn reserve(&mut self, n: usize) {
        self.by_id.reserve(n);
        self.offsets.steps.reserve(n);
    }

    /// Takes an event known to be no copy of those before (one of a stored load read back):
    /// a later event of the same id is compared with it as with any other.
    pub(super) fn take_known(&mut self, id_hash: u64, loc: RawLoc) {
        let idx = self.len();
        if id_hash != 0 {
            self.by_id.insert(id_hash, idx);
        }
        self.push(loc);
    }

    /// Whether an event of `id` (and bytes' hash `raw`) is a copy of one taken; when it is
    /// not, it is entered in its table as the next event (the caller records the rest).
    fn is_copy(&mut self, id: u64, raw: u64, loc: RawLoc, read: &mut ReadBack<'_>) -> bool {
        let new_idx = self.len();
        let candidates = self.by_id.all(id);
        if candidates.is_empty() {
            self.by_id.insert(id, new_idx);
            return false;
        }
        // The same bytes first: the common copy (the same record in two files) is found without
        // parsing either record.
        let mut theirs = Vec::with_capacity(candidates.len());
        for c in candidates {
            let bytes = read(self.loc(c));
            if bytes.as_deref().is_some_and(|b| xxhash_rust::xxh3::xxh3_64(b) == raw) {
                return true;
            }
            theirs.push((c, bytes));
        }
        // Same id hash, different bytes: the same content may still be written differently
        // (key order, whitespace, lookup-events vs trail file). Compare canonical forms.
        let mine = read(loc).and_then(|b| canonical_hash(&b));
        if mine.is_some() {
            for (c, bytes) in theirs {
                let canonical = *self.canonical.entry(c).or_insert_with(|| bytes.and_then(|b| canonical_hash(&b)));
                if canonical == mine {
                    return true;
                }
            }
        }
        // Kept for the next event of the same id (only then is it read again).
        self.canonical.insert(new_idx, mine);
        self.by_id.insert(id, new_idx);
        false
    }

    /// Where the record of taken event `idx` is.
    fn loc(&self, idx: u32) -> RawLoc {
        let run = self.files.partition_point(|&(first, _)| first <= idx).saturating_sub(1);
        let file = self.files.get(run).map_or(0, |&(_, f)| f);
        RawLoc::new(file, self.offsets.get(idx))
    }
}

/// Each taken event's offset in its file, in about 2 bytes: records lie one after another in
/// a file, so an event keeps its offset less the one taken before it, and the whole offset is
/// kept every [`Offsets::MARK`] events and wherever the difference does not fit 16 bits (a
/// record of 64 KiB, a run of records that were copies, an earlier offset: another file).
#[derive(Default)]
struct Offsets {
    /// Per event: its offset less the previous event's ([`Offsets::WHOLE`]: see `whole`).
    steps: Vec<u16>,
    /// The offset of every [`Offsets::MARK`]th event.
    marks: Vec<u32>,
    /// (event, offset) of the events whose step is [`Offsets::WHOLE`], in order.
    whole: Vec<(u32, u32)>,
    last: u32,
}

impl Offsets {
    const MARK: usize = 256;
    const WHOLE: u16 = u16::MAX;

    /// Adds the next event's offset.
    fn push(&mut self, offset: u32) {
        let idx = self.steps.len();
        if idx % Self::MARK == 0 {
            self.marks.push(offset);
        }
        match offset.checked_sub(self.last).filter(|&d| d < Self::WHOLE as u32) {
            Some(d) => self.steps.push(d as u16),
            None => {
                self.steps.push(Self::WHOLE);
                self.whole.push((idx as u32, offset));
            }
        }
        self.last = offset;
    }

    /// The offset of event `idx`: the nearest whole offset at or before it, and the steps after
    /// that.
    fn get(&self, idx: u32) -> u32 {
        let i = idx as usize;
        let mark = i - i % Self::MARK;
        let whole = self.whole.partition_point(|&(e, _)| e <= idx).checked_sub(1).map(|w| self.whole[w]);
        let (from, mut offset) = match whole {
            Some((e, o)) if e as usize >= mark => (e as usize, o),
            _ => (mark, self.marks[mark / Self::MARK]),
        };
        for &d in &self.steps[from + 1..=i] {
            offset += d as u32;
        }
        offset
    }
}

/// Structural hash of a JSON document, independent of object key order and whitespace.
pub fn canonical_hash(bytes: &[u8]) -> Option<u128> {
    fn walk(v: &serde_json::Value, h: &mut Vec<u8>) {
        use serde_json::Value::*;
        match v {
            Null => h.push(0),
            Bool(b) => h.extend([1, *b as u8]),
            Number(n) => {
                h.push(2);
                h.extend(n.to_string().as_bytes());
                h.push(0xff);
            }
            String(s) => {
                h.push(3);
                h.extend((s.len() as u64).to_le_bytes());
                h.extend(s.as_bytes());
            }
            Array(a) => {
                h.push(4);
                h.extend((a.len() as u64).to_le_bytes());
                a.iter().for_each(|x| walk(x, h));
            }
            Object(o) => {
                h.push(5);
                h.extend((o.len() as u64).to_le_bytes());
                let mut keys: Vec<_> = o.iter().collect();
                keys.sort_by(|a, b| a.0.cmp(b.0));
                for (k, v) in keys {
                    h.extend((k.len() as u64).to_le_bytes());
                    h.extend(k.as_bytes());
                    walk(v, h);
                }
            }
        }
    }
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let mut buf = Vec::with_capacity(bytes.len());
    walk(&v, &mut buf);
    Some(xxhash_rust::xxh3::xxh3_128(&buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records by location, as a file would hold them.
    struct Files(Vec<(RawLoc, &'static str)>);

    impl Files {
        fn read(&self) -> impl FnMut(RawLoc) -> Option<RawBytes> + '_ {
            |loc| self.0.iter().find(|(l, _)| *l == loc).map(|(_, s)| RawBytes::Owned(s.as_bytes().to_vec()))
        }
    }

    fn h(s: &str) -> u64 {
        xxhash_rust::xxh3::xxh3_64(s.as_bytes())
    }

    #[test]
    fn copies_are_found_by_bytes_or_content_and_others_are_kept() {
        let a = r#"{"eventID":"a","x":1,"y":2}"#;
        let a_spaced = r#"{ "y": 2, "eventID": "a", "x": 1 }"#;
        let a_other = r#"{"eventID":"a","x":9,"y":2}"#;
        let b = r#"{"eventID":"b","x":1,"y":2}"#;
        let loc = RawLoc::new;
        let files = Files(vec![
            (loc(0, 0), a),
            (loc(0, 40), b),
            (loc(1, 0), a_other),
            (loc(2, 7), a_spaced),
            (loc(2, 90), a),
            (loc(3, 0), a_other),
        ]);
        let (id_a, id_b) = (h("a") | 1, h("b") | 1);
        let mut read = files.read();
        let mut seen = Seen::default();
        // Two different events, then one with a's id and other content: all taken.
        assert!(!seen.copy_or_take(id_a, h(a), files.0[0].0, &mut read));
        assert!(!seen.copy_or_take(id_b, h(b), files.0[1].0, &mut read));
        assert!(!seen.copy_or_take(id_a, h(a_other), files.0[2].0, &mut read));
        // a written differently, in a lookup-events string: a copy, found by reading back.
        assert!(seen.copy_or_take(id_a, h(a_spaced), files.0[3].0, &mut read));
        // The same bytes again, and the other content again: copies.
        assert!(seen.copy_or_take(id_a, h(a), files.0[4].0, &mut read));
        assert!(seen.copy_or_take(id_a, h(a_other), files.0[5].0, &mut read));
        // Events without an id are never copies.
        assert!(!seen.copy_or_take(0, h(a), files.0[0].0, &mut read));
        assert!(!seen.copy_or_take(0, h(a), files.0[0].0, &mut read));
        assert_eq!(seen.len(), 5);
        // Locations come back whole, across the files' runs.
        for (i, want) in [files.0[0].0, files.0[1].0, files.0[2].0].into_iter().enumerate() {
            assert_eq!(seen.loc(i as u32), want);
        }
    }

    #[test]
    fn ids_that_differ_in_a_kept_bit_are_never_read_back() {
        let mut seen = Seen::default();
        let mut never = |_| panic!("events of different ids were read back");
        let base = 0x8000_0000_0000_0001u64;
        for bit in 20..64 {
            let loc = RawLoc::new(0, bit * 10);
            assert!(!seen.copy_or_take(base ^ (1 << bit), 7, loc, &mut never), "bit {bit}");
        }
        assert!(!seen.copy_or_take(base, 7, RawLoc::new(1, 0), &mut never));
        assert_eq!(seen.len(), 45);
    }

    #[test]
    fn ids_that_share_the_kept_bits_are_told_apart_by_content() {
        // Two eventIDs whose hashes differ only in bits the tables do not keep: their records
        // are read back, and each is kept.
        let a = r#"{"eventID":"a","x":1}"#;
        let b = r#"{"eventID":"b","x":1}"#;
        let files = Files(vec![(RawLoc::new(0, 0), a), (RawLoc::new(0, 30), b), (RawLoc::new(1, 0), b)]);
        let reads = std::cell::Cell::new(0);
        let mut read = |loc| {
            reads.set(reads.get() + 1);
            files.read()(loc)
        };
        let mut seen = Seen::default();
        let id_a = 0x8000_0000_0000_0001u64;
        let id_b = id_a ^ (1 << 5);
        assert!(!seen.copy_or_take(id_a, h(a), files.0[0].0, &mut read));
        assert_eq!(reads.get(), 0);
        // b meets a's slot: both records are read back, they differ, b is kept.
        assert!(!seen.copy_or_take(id_b, h(b), files.0[1].0, &mut read));
        assert_eq!(reads.get(), 2);
        // b again, from another file: a copy of the b kept, by its bytes (a's and b's records
        // read back, neither parsed).
        assert!(seen.copy_or_take(id_b, h(b), files.0[2].0, &mut read));
        assert_eq!(reads.get(), 4);
        assert_eq!(seen.len(), 2);
    }

    #[test]
    fn tables_grow_and_find_every_event() {
        let mut seen = Seen::default();
        seen.reserve(1000);
        let mut never = |_| panic!("nothing is read back for events of different ids");
        let ids: Vec<u64> = (0..200_000u32).map(|i| h(&i.to_string()) | 1).collect();
        let record = |i: u32| format!("{{\"eventID\":\"{i}\"}}");
        for (i, &id) in ids.iter().enumerate() {
            let raw = h(&record(i as u32));
            assert!(!seen.copy_or_take(id, raw, RawLoc::new(0, i as u32), &mut never), "event {i}");
        }
        // Every one is found again: the same bytes, a copy, with its own record read back.
        let mut reads = 0;
        let mut read = |loc: RawLoc| {
            assert_eq!(loc.file, 0, "only the records taken are read back");
            reads += 1;
            Some(RawBytes::Owned(record(loc.offset).into_bytes()))
        };
        for (i, &id) in ids.iter().enumerate() {
            let raw = h(&record(i as u32));
            assert!(seen.copy_or_take(id, raw, RawLoc::new(1, i as u32), &mut read), "event {i}");
        }
        assert_eq!(reads, 200_000, "one record read back a copy (no two ids share the kept bits here)");
        assert_eq!(seen.len(), 200_000);
    }

    #[test]
    fn locations_come_back_whole() {
        let mut seen = Seen::default();
        let mut locs = Vec::new();
        let mut never = |_| panic!("nothing is read back for events of different ids");
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let (mut file, mut offset) = (0u32, 0u32);
        for i in 0..20_000u32 {
            // Files of one event to a few thousand; records of a few bytes to 200 KB; now and
            // then an offset back (a part of an input read again) or the same one twice.
            if next(600) == 0 {
                file = next(7) as u32;
                offset = next(1 << 20) as u32;
            }
            offset = match next(100) {
                0 => offset.saturating_sub(next(5000) as u32),
                1 => offset,
                2..=4 => offset + 65_000 + next(200_000) as u32,
                _ => offset + 1 + next(3000) as u32,
            };
            let loc = RawLoc::new(file, offset);
            assert!(!seen.copy_or_take(h(&i.to_string()) | 1, i as u64, loc, &mut never));
            locs.push(loc);
        }
        for (i, want) in locs.into_iter().enumerate() {
            assert_eq!(seen.loc(i as u32), want, "event {i}");
        }
        // About 2 bytes an event: whole offsets only at marks, files and long steps.
        assert!(seen.offsets.whole.len() < 20_000 / 20, "{} whole offsets", seen.offsets.whole.len());
    }

    #[test]
    fn canonical_hash_ignores_key_order_and_space() {
        let a = canonical_hash(br#"{"a":1,"b":[1,{"x":"y","z":null}]}"#);
        let b = canonical_hash(b"{ \"b\" : [1, {\"z\":null, \"x\":\"y\"}], \"a\": 1 }");
        let c = canonical_hash(br#"{"a":2,"b":[1,{"x":"y","z":null}]}"#);
        assert!(a.is_some());
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
