//! Event and request ids, kept out of the event.
//!
//! An id is 16 random bytes at least (a UUID), which nothing compresses: kept whole, the two
//! ids were 32 of an event's 72 bytes. An [`Event`](super::Event) keeps a 32-bit hash of each
//! ([`hash32`]), which answers an exact term (`id:=…`, `request:=…`) for every event without
//! reading a record; the text itself is read from the record when it is shown, copied,
//! pivoted on, confirmed for an exact term, or matched by any other pattern.

use super::record::Lenient;
use serde::Deserialize;
use std::ops::Deref;

/// The hash that finds copies of an event by its eventID `text`, as written: odd, and 0 for
/// none (an event without an eventID is never a copy).
pub fn copy_hash(text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    xxhash_rust::xxh3::xxh3_64(text.as_bytes()) | 1
}

/// The 32-bit hash an event keeps of an id whose [`copy_hash`] is `copy`: odd, and 0 for none.
pub fn hash32_of_copy(copy: u64) -> u32 {
    if copy == 0 {
        0
    } else {
        (copy >> 32) as u32 | 1
    }
}

/// The 32-bit hash an event keeps of the id `text` (see [`hash32_of_copy`]).
pub fn hash32(text: &str) -> u32 {
    hash32_of_copy(copy_hash(text))
}

/// The ids of a record.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Ids<'a> {
    #[serde(borrow, rename = "eventID")]
    event_id: Lenient<'a>,
    #[serde(borrow, rename = "requestID")]
    request_id: Lenient<'a>,
}

/// The eventID and requestID of a record, as the loader reads them (see
/// [`Lenient::as_str`]); empty when absent or when `record` is not a JSON object.
pub fn ids_of_record(record: &[u8]) -> (String, String) {
    // (A struct also reads from an array, by position.)
    if record.trim_ascii_start().first() != Some(&b'{') {
        return Default::default();
    }
    match serde_json::from_slice::<Ids<'_>>(record) {
        Ok(ids) => (ids.event_id.as_str().to_string(), ids.request_id.as_str().to_string()),
        Err(_) => Default::default(),
    }
}

/// The ids of many events by position, for a column of output (`print`'s CSV): 17 bytes
/// each for a UUID or 16 hex digits (nearly every id), the text in an arena for any other.
#[derive(Debug, Default)]
pub struct IdColumn {
    /// Per position: the id's bits, or where its text is in `arena` (offset, length).
    bits: Vec<[u64; 2]>,
    shapes: Vec<Shape>,
    arena: String,
}

/// How an id of an [`IdColumn`] is kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Shape {
    #[default]
    None,
    UuidLower,
    UuidUpper,
    Hex16Lower,
    Hex16Upper,
    Text,
}

impl IdColumn {
    /// A column of `n` positions, none with an id.
    pub fn with_len(n: usize) -> Self {
        IdColumn { bits: vec![[0; 2]; n], shapes: vec![Shape::None; n], arena: String::new() }
    }

    /// Sets the id at position `i` (out of range: ignored).
    pub fn set(&mut self, i: usize, id: &str) {
        if i >= self.bits.len() {
            return;
        }
        let (shape, bits) = encode(id).unwrap_or_else(|| {
            let off = self.arena.len() as u64;
            self.arena.push_str(id);
            (Shape::Text, [off, id.len() as u64])
        });
        self.shapes[i] = shape;
        self.bits[i] = bits;
    }

    /// The id at position `i` ("" for none).
    pub fn get(&self, i: usize) -> IdStr<'_> {
        let (Some(&shape), Some(&[hi, lo])) = (self.shapes.get(i), self.bits.get(i)) else {
            return IdStr::Borrowed("");
        };
        let mut buf = [0u8; 36];
        match shape {
            Shape::None => IdStr::Borrowed(""),
            Shape::Text => IdStr::Borrowed(self.arena.get(hi as usize..(hi + lo) as usize).unwrap_or("")),
            Shape::UuidLower | Shape::UuidUpper => {
                let upper = shape == Shape::UuidUpper;
                put_hex(&mut buf[0..8], hi >> 32, upper);
                put_hex(&mut buf[9..13], hi >> 16, upper);
                put_hex(&mut buf[14..18], hi, upper);
                put_hex(&mut buf[19..23], lo >> 48, upper);
                put_hex(&mut buf[24..36], lo, upper);
                for i in [8, 13, 18, 23] {
                    buf[i] = b'-';
                }
                IdStr::Inline(buf, 36)
            }
            Shape::Hex16Lower | Shape::Hex16Upper => {
                put_hex(&mut buf[0..16], lo, shape == Shape::Hex16Upper);
                IdStr::Inline(buf, 16)
            }
        }
    }
}

/// An id's text: formatted on the stack, or borrowed.
pub enum IdStr<'a> {
    /// An id rebuilt from its compact form: the text and its length.
    Inline([u8; 36], u8),
    /// An id kept as text.
    Borrowed(&'a str),
}

impl Deref for IdStr<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            // Only ASCII hex digits and dashes are ever written into the buffer.
            IdStr::Inline(buf, n) => std::str::from_utf8(&buf[..*n as usize]).unwrap_or(""),
            IdStr::Borrowed(s) => s,
        }
    }
}

/// Per byte: its value as a hex digit in the low nibble, and which cases it fits in bits 4-5
/// (lowercase 1, uppercase 2, a digit both); 0 for anything else.
const HEX: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = match c as u8 {
            b'0'..=b'9' => (c as u8 - b'0') | 0x30,
            b'a'..=b'f' => (c as u8 - b'a' + 10) | 0x10,
            b'A'..=b'F' => (c as u8 - b'A' + 10) | 0x20,
            _ => 0,
        };
        c += 1;
    }
    t
};

/// Folds hex digits into `acc`; `case` keeps the cases all digits so far fit in.
#[inline]
fn fold_hex(digits: &[u8], acc: &mut u64, case: &mut u8) {
    for &c in digits {
        let t = HEX[c as usize];
        *acc = (*acc << 4) | (t & 15) as u64;
        *case &= t;
    }
}

fn shape_of(case: u8, lower: Shape, upper: Shape) -> Option<Shape> {
    match case >> 4 {
        3 | 1 => Some(lower),
        2 => Some(upper),
        _ => None,
    }
}

/// The compact form of an id, or `None` when it has to be kept as text.
fn encode(s: &str) -> Option<(Shape, [u64; 2])> {
    let b = s.as_bytes();
    let mut case = 0x30u8;
    match b.len() {
        0 => Some((Shape::None, [0; 2])),
        36 => {
            if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
                return None;
            }
            let (mut hi, mut lo) = (0u64, 0u64);
            fold_hex(&b[0..8], &mut hi, &mut case);
            fold_hex(&b[9..13], &mut hi, &mut case);
            fold_hex(&b[14..18], &mut hi, &mut case);
            fold_hex(&b[19..23], &mut lo, &mut case);
            fold_hex(&b[24..36], &mut lo, &mut case);
            shape_of(case, Shape::UuidLower, Shape::UuidUpper).map(|k| (k, [hi, lo]))
        }
        16 => {
            let mut lo = 0u64;
            fold_hex(b, &mut lo, &mut case);
            shape_of(case, Shape::Hex16Lower, Shape::Hex16Upper).map(|k| (k, [0, lo]))
        }
        _ => None,
    }
}

/// Two hex digits per byte value, lowercase and uppercase.
const HEX_PAIRS: [[[u8; 2]; 256]; 2] = {
    let mut t = [[[0u8; 2]; 256]; 2];
    let digits = [*b"0123456789abcdef", *b"0123456789ABCDEF"];
    let mut case = 0;
    while case < 2 {
        let mut b = 0;
        while b < 256 {
            t[case][b] = [digits[case][b >> 4], digits[case][b & 15]];
            b += 1;
        }
        case += 1;
    }
    t
};

/// Writes the low `out.len()` hex digits of `v` (an even count), two at a time.
#[inline]
fn put_hex(out: &mut [u8], v: u64, upper: bool) {
    let pairs = &HEX_PAIRS[upper as usize];
    let n = out.len() / 2;
    for (i, pair) in out.chunks_exact_mut(2).enumerate() {
        let byte = (v >> (8 * (n - 1 - i))) as u8;
        pair.copy_from_slice(&pairs[byte as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_the_record() {
        let rec = br#"{"eventVersion":"1.08","requestID":"3E57427F33A59F07","x":{"eventID":"no"},"eventID":"e9c43e6b-b039-4522-9cfe-087c2b8783b7"}"#;
        assert_eq!(
            ids_of_record(rec),
            ("e9c43e6b-b039-4522-9cfe-087c2b8783b7".to_string(), "3E57427F33A59F07".to_string())
        );
        assert_eq!(ids_of_record(br#"{"eventID":"a\u0041"}"#).0, "aA");
        assert_eq!(ids_of_record(br#"{"eventID":null}"#), Default::default());
        assert_eq!(ids_of_record(b"[1]"), Default::default());
    }

    #[test]
    fn hashes_say_none_only_for_no_id() {
        assert_eq!(copy_hash(""), 0);
        assert_eq!(hash32(""), 0);
        for s in ["a", "e9c43e6b-b039-4522-9cfe-087c2b8783b7", "E9C43E6B-B039-4522-9CFE-087C2B8783B7"] {
            assert_eq!(copy_hash(s) & 1, 1);
            assert_eq!(hash32(s) & 1, 1);
        }
        // The case of an id is part of it, as an exact term reads it.
        assert_ne!(hash32("abc"), hash32("ABC"));
    }

    #[test]
    fn a_column_gives_every_id_back_as_written() {
        let ids = [
            "e9c43e6b-b039-4522-9cfe-087c2b8783b7",
            "E9C43E6B-B039-4522-9CFE-087C2B8783B7",
            "00000000-0000-0000-0000-000000000000",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "3E57427F33A59F07",
            "3e57427f33a59f07",
            "0123456789012345",
            "",
            "e9c43e6b-B039-4522-9cfe-087c2b8783b7",
            "e9c43e6b-b039-4522-9cfe-087c2b8783bg",
            "e9c43e6bxb039-4522-9cfe-087c2b8783b7",
            "3E57427F33a59F07",
            "abc",
            "é9c43e6b-b039-4522-9cfe-087c2b8783b",
        ];
        let mut col = IdColumn::with_len(ids.len() + 1);
        for (i, id) in ids.iter().enumerate().rev() {
            col.set(i, id);
        }
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(&*col.get(i), *id, "{id}");
        }
        assert_eq!(&*col.get(ids.len()), "");
        assert_eq!(&*col.get(ids.len() + 5), "");
    }
}
