//! Event and request ids in 16 bytes.
//!
//! Nearly every eventID and requestID is a UUID (36 characters) or, for S3, 16 hex digits.
//! Those shapes are kept as their bits, with a 3-bit tag saying how to write them back; any
//! other text goes to the store's string arena, so every id still reads back exactly as it
//! was written.

use super::StrRef;
use std::ops::Deref;

/// How an id is kept. Stored in 3 bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum IdShape {
    /// No id (absent, null or empty).
    #[default]
    None = 0,
    /// `8-4-4-4-12` lowercase hex (digits-only UUIDs too).
    UuidLower = 1,
    /// A UUID in upper case.
    UuidUpper = 2,
    /// 16 hex digits, as S3 request ids are.
    Hex16Upper = 3,
    /// 16 hex digits in lower case.
    Hex16Lower = 4,
    /// Any other text, in the arena: `hi` is the offset, `lo` the length.
    Text = 5,
}

impl IdShape {
    /// The shape stored in an event's nibble (unknown values read as none).
    pub fn from_bits(b: u8) -> IdShape {
        match b & 7 {
            1 => IdShape::UuidLower,
            2 => IdShape::UuidUpper,
            3 => IdShape::Hex16Upper,
            4 => IdShape::Hex16Lower,
            5 => IdShape::Text,
            _ => IdShape::None,
        }
    }
}

/// The bits of an id; what they mean depends on its [`IdShape`]. Two `u64`s rather than a
/// `u128` so that [`Event`](super::Event) stays 8-byte aligned without padding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct IdBits {
    /// The high 64 bits (for text: the arena offset).
    pub hi: u64,
    /// The low 64 bits (for text: the length).
    pub lo: u64,
}

impl IdBits {
    /// An id kept as text in the store's arena.
    pub fn text(r: StrRef) -> IdBits {
        IdBits { hi: r.off as u64, lo: r.len as u64 }
    }
    /// Where the text of a text id is in the arena.
    pub fn str_ref(self) -> StrRef {
        StrRef { off: self.hi as u32, len: self.lo as u32 }
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

fn shape_of(case: u8, lower: IdShape, upper: IdShape) -> Option<IdShape> {
    match case >> 4 {
        3 | 1 => Some(lower),
        2 => Some(upper),
        _ => None,
    }
}

/// The hash that finds copies of an event by its eventID `text`, as written (kept as `shape`
/// and `bits`, see [`encode`]): of the bits for an id kept as bits, with its shape (the same
/// bits write an id in lower and in upper case), else of the text; odd, and 0 for none (an
/// event without an eventID is never a copy). Taken from the compact form, so that an event
/// read back from a stored load hashes as it did when parsed.
pub fn copy_hash(shape: IdShape, bits: IdBits, text: &str) -> u64 {
    let hash = match shape {
        IdShape::None => return 0,
        IdShape::Text => xxhash_rust::xxh3::xxh3_64(text.as_bytes()),
        _ => {
            let mut b = [0u8; 17];
            b[0] = shape as u8;
            b[1..9].copy_from_slice(&bits.hi.to_le_bytes());
            b[9..].copy_from_slice(&bits.lo.to_le_bytes());
            xxhash_rust::xxh3::xxh3_64(&b)
        }
    };
    hash | 1
}

/// The compact form of an id, or `None` when it has to be kept as text.
pub fn encode(s: &str) -> Option<(IdShape, IdBits)> {
    let b = s.as_bytes();
    let mut case = 0x30u8;
    match b.len() {
        0 => Some((IdShape::None, IdBits::default())),
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
            shape_of(case, IdShape::UuidLower, IdShape::UuidUpper).map(|k| (k, IdBits { hi, lo }))
        }
        16 => {
            let mut lo = 0u64;
            fold_hex(b, &mut lo, &mut case);
            shape_of(case, IdShape::Hex16Lower, IdShape::Hex16Upper).map(|k| (k, IdBits { hi: 0, lo }))
        }
        _ => None,
    }
}

/// An id's text: formatted on the stack, or borrowed from the arena.
pub enum IdStr<'a> {
    /// An id rebuilt from its compact form: the text and its length.
    Inline([u8; 36], u8),
    /// An id kept as text, borrowed from the arena.
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

impl std::fmt::Display for IdStr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
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

/// Writes an id back as text; `arena` resolves [`IdShape::Text`].
pub fn decode<'a>(shape: IdShape, bits: IdBits, arena: &'a str) -> IdStr<'a> {
    let mut buf = [0u8; 36];
    match shape {
        IdShape::None => IdStr::Borrowed(""),
        IdShape::Text => {
            let r = bits.str_ref();
            IdStr::Borrowed(arena.get(r.off as usize..(r.off as usize + r.len as usize)).unwrap_or(""))
        }
        IdShape::UuidLower | IdShape::UuidUpper => {
            let upper = shape == IdShape::UuidUpper;
            put_hex(&mut buf[0..8], bits.hi >> 32, upper);
            put_hex(&mut buf[9..13], bits.hi >> 16, upper);
            put_hex(&mut buf[14..18], bits.hi, upper);
            put_hex(&mut buf[19..23], bits.lo >> 48, upper);
            put_hex(&mut buf[24..36], bits.lo, upper);
            for i in [8, 13, 18, 23] {
                buf[i] = b'-';
            }
            IdStr::Inline(buf, 36)
        }
        IdShape::Hex16Lower | IdShape::Hex16Upper => {
            put_hex(&mut buf[0..16], bits.lo, shape == IdShape::Hex16Upper);
            IdStr::Inline(buf, 16)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(s: &str) -> Option<String> {
        let (k, b) = encode(s)?;
        Some(decode(k, b, "").to_string())
    }

    #[test]
    fn common_shapes_round_trip() {
        for s in [
            "e9c43e6b-b039-4522-9cfe-087c2b8783b7",
            "E9C43E6B-B039-4522-9CFE-087C2B8783B7",
            "00000000-0000-0000-0000-000000000000",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "3E57427F33A59F07",
            "3e57427f33a59f07",
            "0123456789012345",
            "",
        ] {
            assert_eq!(round_trip(s).as_deref(), Some(s), "{s}");
        }
    }

    #[test]
    fn other_text_is_not_encoded() {
        for s in [
            "e9c43e6b-B039-4522-9cfe-087c2b8783b7",
            "e9c43e6b-b039-4522-9cfe-087c2b8783bg",
            "e9c43e6bxb039-4522-9cfe-087c2b8783b7",
            "3E57427F33a59F07",
            "3E57427F33A59F0",
            "abc",
            "é9c43e6b-b039-4522-9cfe-087c2b8783b",
        ] {
            assert!(encode(s).is_none(), "{s}");
        }
    }

    #[test]
    fn text_ids_come_from_the_arena() {
        let arena = "xxid-1yy";
        let bits = IdBits::text(StrRef { off: 2, len: 4 });
        assert_eq!(&*decode(IdShape::Text, bits, arena), "id-1");
        assert_eq!(&*decode(IdShape::Text, IdBits::text(StrRef { off: 7, len: 4 }), arena), "");
    }
}
