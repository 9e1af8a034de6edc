//! Where a JSON value ends, found 64 bytes at a time: the strings (with their escapes) and
//! the brackets of each block are bit masks, so a record is crossed in a few dozen steps
//! instead of one per byte. This is how the elements of one big trail log or array are told
//! apart before the parts are parsed on every core, how the stream reader finds each record,
//! and how a record is read back from where it starts (an event keeps its offset, not its
//! length).

/// The bytes of one block that matter: bit `i` is set where byte `i` is the character.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Masks {
    quote: u64,
    backslash: u64,
    /// `{` or `[`.
    open: u64,
    /// `}` or `]`.
    close: u64,
}

/// The masks of a block, with SSE2 (every x86-64 processor has it).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
fn masks(b: &[u8; 64]) -> Masks {
    use safe_arch::*;
    let quote = set_splat_i8_m128i(b'"' as i8);
    let backslash = set_splat_i8_m128i(b'\\' as i8);
    // `{` and `[` differ in the bit 0x20 only, as `}` and `]` do.
    let (case, open, close) =
        (set_splat_i8_m128i(0x20), set_splat_i8_m128i(b'{' as i8), set_splat_i8_m128i(b'}' as i8));
    let mut m = Masks::default();
    for (k, lane) in b.chunks_exact(16).enumerate() {
        let v = load_unaligned_m128i(lane.try_into().unwrap_or(&[0; 16]));
        let folded = bitor_m128i(v, case);
        let bits = |x: m128i| (move_mask_i8_m128i(x) as u32 as u64 & 0xffff) << (16 * k);
        m.quote |= bits(cmp_eq_mask_i8_m128i(v, quote));
        m.backslash |= bits(cmp_eq_mask_i8_m128i(v, backslash));
        m.open |= bits(cmp_eq_mask_i8_m128i(folded, open));
        m.close |= bits(cmp_eq_mask_i8_m128i(folded, close));
    }
    m
}

/// The masks of a block, eight bytes at a time in a word.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
fn masks(b: &[u8; 64]) -> Masks {
    masks_swar(b)
}

#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn masks_swar(b: &[u8; 64]) -> Masks {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // One bit per byte equal to `c`, packed into the word's low eight bits (exact: no carry
    // crosses from one byte to the next).
    fn eq(x: u64, c: u8) -> u64 {
        let t = x ^ (ONES * c as u64);
        let zero = !(((t & LOW7) + LOW7) | t | LOW7);
        ((zero >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
    }
    let mut m = Masks::default();
    for (k, w) in b.chunks_exact(8).enumerate() {
        let x = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
        let folded = x | (ONES * 0x20);
        m.quote |= eq(x, b'"') << (8 * k);
        m.backslash |= eq(x, b'\\') << (8 * k);
        m.open |= eq(folded, b'{') << (8 * k);
        m.close |= eq(folded, b'}') << (8 * k);
    }
    m
}

/// Bit `i` set where an odd number of bits `0..=i` of `x` are set.
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The scan of one object or array, block after block: where it ends, given what came before.
#[derive(Debug, Default)]
struct ContainerEnd {
    depth: u64,
    /// The block before ended in a backslash that escapes this block's first byte.
    escaped_carry: u64,
    /// All ones when the block before ended inside a string.
    in_string: u64,
}

impl ContainerEnd {
    /// Takes the next bytes of the value (its first byte, `{` or `[`, at the start of the
    /// first call): the index just past its closing bracket when it is among them, else
    /// `None` and everything was taken. Whole blocks of 64 are read on masks, what is left
    /// over byte by byte (which carries the state exactly to the next call).
    fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut blocks = bytes.chunks_exact(64);
        for (k, block) in (&mut blocks).enumerate() {
            if let Some(i) = self.block(block.try_into().unwrap_or(&[b' '; 64])) {
                return Some(k * 64 + i);
            }
        }
        let rest = blocks.remainder();
        self.bytes(rest).map(|i| bytes.len() - rest.len() + i)
    }

    fn block(&mut self, b: &[u8; 64]) -> Option<usize> {
        const EVEN: u64 = 0x5555_5555_5555_5555;
        let m = masks(b);
        // Escaped characters: the odd-length runs of backslashes escape the byte after them.
        let backslash = m.backslash & !self.escaped_carry;
        let follows = (backslash << 1) | self.escaped_carry;
        let odd_starts = backslash & !EVEN & !follows;
        let (even_runs, carry) = odd_starts.overflowing_add(backslash);
        let escaped = (EVEN ^ (even_runs << 1)) & follows;
        // A string runs from its opening quote up to (not including) its closing one.
        let quotes = m.quote & !escaped;
        let strings = prefix_xor(quotes) ^ self.in_string;
        if m.backslash & !strings != 0 {
            // A backslash outside a string (not JSON): it escapes nothing there, which the
            // masks cannot say; this block is read byte by byte.
            return self.bytes(b);
        }
        self.escaped_carry = carry as u64;
        self.in_string = ((strings as i64) >> 63) as u64;
        let (open, close) = (m.open & !strings, m.close & !strings);
        // Without a close that could end it, only the depth changes.
        if self.depth > close.count_ones() as u64 {
            self.depth = self.depth + open.count_ones() as u64 - close.count_ones() as u64;
            return None;
        }
        let mut brackets = open | close;
        while brackets != 0 {
            let i = brackets.trailing_zeros();
            let bit = 1u64 << i;
            if open & bit != 0 {
                self.depth += 1;
            } else {
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 0 {
                    return Some(i as usize + 1);
                }
            }
            brackets &= brackets - 1;
        }
        None
    }

    /// [`ContainerEnd::block`] one byte at a time, as the stream reader scans (inside the
    /// container, its rules for a value's end at depth 0 never apply).
    fn bytes(&mut self, b: &[u8]) -> Option<usize> {
        let depth = usize::try_from(self.depth).unwrap_or(usize::MAX);
        let mut scan = OtherEnd { depth, in_str: self.in_string != 0, escaped: self.escaped_carry != 0 };
        let end = scan.feed(b);
        self.depth = scan.depth as u64;
        self.in_string = if scan.in_str { u64::MAX } else { 0 };
        self.escaped_carry = scan.escaped as u64;
        end
    }
}

/// The stream reader's scan of a value, one byte at a time and resumable: where it ends, as
/// the stream reader ends it. For a value that is not an object or array (a string, a number,
/// a literal, or bytes that are none), and for a block of one that the masks cannot read.
#[derive(Debug, Default)]
struct OtherEnd {
    depth: usize,
    in_str: bool,
    escaped: bool,
}

impl OtherEnd {
    /// Takes the next bytes of the value: the index just past it when it ends among them
    /// (a string after its closing quote; anything else before the separator or bracket that
    /// ends it), else `None` and everything was taken.
    fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        for (i, &b) in bytes.iter().enumerate() {
            if self.in_str {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_str = false;
                    if self.depth == 0 {
                        return Some(i + 1);
                    }
                }
                continue;
            }
            match b {
                b'"' => self.in_str = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' if self.depth == 0 => return Some(i),
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        return Some(i + 1);
                    }
                }
                b',' | b' ' | b'\t' | b'\n' | b'\r' if self.depth == 0 => return Some(i),
                _ => {}
            }
        }
        None
    }
}

/// Where a JSON value ends, as the stream reader ends it, fed its bytes in pieces of any
/// size: an object or array on masks, anything else byte by byte.
#[derive(Debug)]
pub struct ValueEnd(Scan);

#[derive(Debug)]
enum Scan {
    Container(ContainerEnd),
    Other(OtherEnd),
}

impl ValueEnd {
    /// The scan of a value whose first byte is `first`; `None` when no JSON value starts so
    /// (the stream reader stops there: "expected a value").
    pub fn start(first: u8) -> Option<ValueEnd> {
        Some(ValueEnd(match first {
            b'{' | b'[' => Scan::Container(ContainerEnd::default()),
            b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => Scan::Other(OtherEnd::default()),
            _ => return None,
        }))
    }

    /// Takes the next bytes of the value (from its first byte on the first call): the index
    /// just past it when it ends among them, else `None` and everything was taken.
    pub fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        match &mut self.0 {
            Scan::Container(c) => c.feed(bytes),
            Scan::Other(o) => o.feed(bytes),
        }
    }
}

/// The end of the value starting at `bytes[0]` (not whitespace), when it ends within `bytes`.
pub fn value_end(bytes: &[u8]) -> Option<usize> {
    ValueEnd::start(*bytes.first()?)?.feed(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stream reader's way: one byte at a time.
    fn naive_end(bytes: &[u8]) -> Option<usize> {
        let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
        for (i, &b) in bytes.iter().enumerate() {
            if in_str {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_str = false;
                }
                continue;
            }
            match b {
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        }
        None
    }

    fn fed(bytes: &[u8], step: usize) -> Option<usize> {
        let mut s = ValueEnd::start(bytes[0]).unwrap();
        let mut at = 0;
        while at < bytes.len() {
            let n = step.min(bytes.len() - at);
            if let Some(i) = s.feed(&bytes[at..at + n]) {
                return Some(at + i);
            }
            at += n;
        }
        None
    }

    #[test]
    fn masks_are_exact() {
        let mut b = [0u8; 64];
        for seed in 0..2000u64 {
            let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            for byte in b.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *byte = match x % 9 {
                    0 => b'"',
                    1 => b'\\',
                    2 => b'{',
                    3 => b'[',
                    4 => b'}',
                    5 => b']',
                    _ => (x >> 8) as u8,
                };
            }
            let mut want = Masks::default();
            for (i, &c) in b.iter().enumerate() {
                want.quote |= ((c == b'"') as u64) << i;
                want.backslash |= ((c == b'\\') as u64) << i;
                want.open |= ((c == b'{' || c == b'[') as u64) << i;
                want.close |= ((c == b'}' || c == b']') as u64) << i;
            }
            assert_eq!(masks(&b), want);
            assert_eq!(masks_swar(&b), want);
        }
    }

    #[test]
    fn ends_are_found_as_the_stream_reader_finds_them() {
        let cases: &[&[u8]] = &[
            br#"{"a":"}"}"#,
            br#"{"a":"\"}"}, x"#,
            br#"{"a":"\\"}, x"#,
            br#"{"a":"\\\"]"}]"#,
            br#"[{"k":[1,2,{"x":"]]]"}]},"\\\\\\"]tail"#,
            br#"{"a":{"b":{"c":"d"}}}"#,
            br#"{"unclosed":"#,
            br#"{"a":"b"]"#,
        ];
        for c in cases {
            for step in [1, 37, 64, 128, 1 << 20] {
                assert_eq!(fed(c, step), naive_end(c), "{}", String::from_utf8_lossy(c));
            }
        }
        // Random bytes of the characters that matter, over block edges, fed in blocks of
        // several sizes: the same ends as the byte-by-byte scan.
        for seed in 0..3000u64 {
            let mut x = seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1;
            let len = 1 + (seed as usize * 37) % 700;
            let mut v = vec![b'{'];
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                v.push(match x % 12 {
                    0 | 1 => b'"',
                    2 | 3 => b'\\',
                    4 => b'{',
                    5 => b'[',
                    6 => b'}',
                    7 => b']',
                    8 => b' ',
                    _ => b'a',
                });
            }
            for step in [1, 37, 64, 100, 192, 4096] {
                assert_eq!(fed(&v, step), naive_end(&v), "seed {seed} step {step}");
            }
        }
    }
}
