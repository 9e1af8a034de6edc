//! Whether an event is an exact copy of one already taken (the same record in two files, or
//! the same event from a trail file and from lookup-events output), in as few bytes an event
//! as the answer allows: it is kept for every event until the load ends.

use crate::model::RawLoc;
use std::collections::HashMap;

/// The events taken so far, by eventID, with what compares their contents: 16 bytes an event
/// besides the table's slot (where two whole hashes and a whole location took 28).
///
/// An event is a copy when an earlier one has the same eventID and the same bytes, or the same
/// eventID and the same content written differently (key order, spaces, a lookup-events string).
/// The first test compares the eventID's 64-bit hash and 32 bits of the bytes' hash: two events
/// of the same id and different bytes pass it with a chance of 2^-32 (the same eventID with other
/// content is itself rare: AWS writes an event once). Any other pair of the same id hash has its
/// records read back and compared structurally, which is slow (a whole compressed file is
/// inflated to read one record), so the id hash keeps all its bits: with 40, ids that differ
/// share one often enough at ten million events to fill `print`'s cache of inflated files.
#[derive(Default)]
pub(super) struct Seen {
    /// The first event taken with each eventID, found by its id hash (4 bytes a slot).
    by_id: hashbrown::HashTable<u32>,
    /// Later events whose id hash is an earlier, different one's (rare in real trails).
    more_by_id: foldhash::HashMap<u64, Vec<u32>>,
    /// Per event taken: the hash of its eventID (0: none; such an event is never a copy), and
    /// 32 bits of the hash of its bytes.
    ids: Vec<u64>,
    raws: Vec<u32>,
    /// Per event taken: where its record starts in its file.
    offsets: Vec<u32>,
    /// The file of the events from each position on: (first event, file), where the file changes.
    files: Vec<(u32, u32)>,
    /// Structural hashes of records read back, by event (`None`: unreadable or not JSON).
    canonical: HashMap<u32, Option<u128>>,
}

impl Seen {
    /// How many events were taken.
    pub(super) fn len(&self) -> u32 {
        self.ids.len() as u32
    }

    /// Whether the event is a copy of one taken; if it is not, it is taken (as the next event).
    /// `id_hash` is 0 for an event without an eventID, odd otherwise; `read` reads a record
    /// back and gives its structural hash ([`canonical_hash`]).
    pub(super) fn copy_or_take(
        &mut self,
        id_hash: u64,
        raw_hash: u64,
        loc: RawLoc,
        read: &mut dyn FnMut(RawLoc) -> Option<u128>,
    ) -> bool {
        let raw = raw_hash as u32;
        let copy = id_hash != 0 && self.is_copy(id_hash, raw, loc, read);
        if !copy {
            self.ids.push(id_hash);
            self.raws.push(raw);
            self.offsets.push(loc.offset);
            if self.files.last().is_none_or(|&(_, f)| f != loc.file) {
                self.files.push((self.len() - 1, loc.file));
            }
        }
        copy
    }

    /// Makes room for `n` more events.
    pub(super) fn reserve(&mut self, n: usize) {
        let ids = &self.ids;
        self.by_id.reserve(n, |&i| slot(ids[i as usize]));
        self.ids.reserve(n);
        self.raws.reserve(n);
        self.offsets.reserve(n);
    }

    /// Takes an event known to be no copy of those before (one of a stored load read back),
    /// whose bytes' hash is not known: a later event of the same id is compared with it by
    /// content (read back), unless its bytes' hash happens to be [`UNKNOWN_RAW`].
    pub(super) fn take_known(&mut self, id_hash: u64, loc: RawLoc) {
        let idx = self.len();
        if id_hash != 0 {
            let ids = &self.ids;
            match self.by_id.entry(slot(id_hash), |&i| ids[i as usize] == id_hash, |&i| slot(ids[i as usize])) {
                hashbrown::hash_table::Entry::Occupied(_) => self.more_by_id.entry(id_hash).or_default().push(idx),
                hashbrown::hash_table::Entry::Vacant(e) => {
                    e.insert(idx);
                }
            }
        }
        self.ids.push(id_hash);
        self.raws.push(UNKNOWN_RAW);
        self.offsets.push(loc.offset);
        if self.files.last().is_none_or(|&(_, f)| f != loc.file) {
            self.files.push((idx, loc.file));
        }
    }

    fn is_copy(&mut self, id: u64, raw: u32, loc: RawLoc, read: &mut dyn FnMut(RawLoc) -> Option<u128>) -> bool {
        let new_idx = self.len();
        let ids = &self.ids;
        let first = match self.by_id.entry(slot(id), |&i| ids[i as usize] == id, |&i| slot(ids[i as usize])) {
            hashbrown::hash_table::Entry::Occupied(e) => *e.get(),
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(new_idx);
                return false;
            }
        };
        let later = self.more_by_id.get(&id).map_or(&[][..], Vec::as_slice);
        if std::iter::once(&first).chain(later).any(|&c| self.raws[c as usize] == raw) {
            return true;
        }
        // Same id, different bytes: the same content may still be written differently (key
        // order, whitespace, lookup-events vs trail file). Compare canonical forms.
        let candidates: Vec<u32> = std::iter::once(first).chain(later.iter().copied()).collect();
        let mine = self.canonical_of(new_idx, loc, read);
        if mine.is_some() {
            for c in candidates {
                if self.canonical_of(c, self.loc(c), read) == mine {
                    self.canonical.remove(&new_idx);
                    return true;
                }
            }
        }
        self.more_by_id.entry(id).or_default().push(new_idx);
        false
    }

    fn canonical_of(&mut self, idx: u32, loc: RawLoc, read: &mut dyn FnMut(RawLoc) -> Option<u128>) -> Option<u128> {
        if let Some(c) = self.canonical.get(&idx) {
            return *c;
        }
        let c = read(loc);
        self.canonical.insert(idx, c);
        c
    }

    /// Where the record of taken event `idx` is.
    fn loc(&self, idx: u32) -> RawLoc {
        let run = self.files.partition_point(|&(first, _)| first <= idx).saturating_sub(1);
        let file = self.files.get(run).map_or(0, |&(_, f)| f);
        RawLoc::new(file, self.offsets[idx as usize])
    }
}

/// The bytes' hash taken for an event whose own is not known (see [`Seen::take_known`]): an
/// event whose 32 bits are these and of the same id is taken for a copy without reading (one
/// in 2^32, as for any two hashes).
const UNKNOWN_RAW: u32 = 0;

/// The table's hash of an id hash: its bits mixed again (ids hash with their low bit set, 0
/// meaning none).
fn slot(id_hash: u64) -> u64 {
    id_hash ^ (id_hash >> 29)
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
        fn read(&self) -> impl FnMut(RawLoc) -> Option<u128> + '_ {
            |loc| self.0.iter().find(|(l, _)| *l == loc).and_then(|(_, s)| canonical_hash(s.as_bytes()))
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
    fn ids_that_differ_in_any_bit_are_never_read_back() {
        let mut seen = Seen::default();
        let mut never = |_| panic!("events of different ids were read back");
        let base = 0x8000_0000_0000_0001u64;
        for bit in 1..64 {
            let loc = RawLoc::new(0, bit * 10);
            assert!(!seen.copy_or_take(base ^ (1 << bit), 7, loc, &mut never), "bit {bit}");
        }
        assert!(!seen.copy_or_take(base, 7, RawLoc::new(1, 0), &mut never));
        assert_eq!(seen.len(), 64);
    }

    #[test]
    fn locations_come_back_whole() {
        let mut seen = Seen::default();
        let mut locs = Vec::new();
        let mut never = |_| panic!("nothing is read back for events of different ids");
        for i in 0..2000u32 {
            let loc = RawLoc::new(i / 7 % 5, i * 13);
            assert!(!seen.copy_or_take(h(&i.to_string()) | 1, i as u64, loc, &mut never));
            locs.push(loc);
        }
        for (i, want) in locs.into_iter().enumerate() {
            assert_eq!(seen.loc(i as u32), want, "event {i}");
        }
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
