//! The summary fields of a record read without serde, for the records archives are made of.
//!
//! serde's derived visitors cost more than the bytes do: a record is some twenty keys, most of
//! them short strings, and each key and value went through a visitor call, a field match and a
//! `Cow`. Here the object is walked once: keys are compared as bytes, wanted strings borrowed
//! where they lie, everything else crossed without building anything.
//!
//! The reader takes only what it reads exactly as [`RecordFields`]'s serde parse does. Anything
//! else gives `None`, and the caller parses the record with serde, which gives the same fields
//! or says what is wrong: a backslash anywhere (an escape serde would decode), a control
//! character in a string, a number that is not a plain integer (serde converts and range-checks
//! those), a number where a string field is, a field written twice, nesting deeper than
//! [`MAX_DEPTH`] or requestParameters nested as deep as the index follows them, and any JSON
//! that is not well-formed. About one record in 60 of the generated archives takes that way
//! (mostly for `"threshold":80.0` and escaped quotes), and 27 of the 748 real records of the
//! tests' data.

use super::{Identity, InsightDetails, Lenient, Obj, Params, RecordFields, Resource, Shape, MAX_PARAMS_DEPTH};
use std::borrow::Cow;

/// Deeper nesting is left to serde (whose own limit is 128).
const MAX_DEPTH: usize = 100;

/// The record (a JSON object) that starts at `pos` of `text`, and the offset just past it; `None`
/// where serde must read it (see the module's text). Whether it is a record at all
/// ([`RecordFields::is_record`]) is for the caller to ask, as after serde's parse.
pub fn record_at(text: &str, pos: usize) -> Option<(RecordFields<'_>, usize)> {
    let mut fields = RecordFields::default();
    let end = read_record(text, pos, &mut fields)?;
    Some((fields, end))
}

/// [`record_at`] into `out`, which must hold the defaults (the fields are a kilobyte: moving
/// them from call to call cost as much as reading some of them). What `out` holds after `None`
/// is unspecified.
pub fn read_record<'a>(text: &'a str, pos: usize, out: &mut RecordFields<'a>) -> Option<usize> {
    let mut r = Reader { text, b: text.as_bytes(), i: pos };
    r.record(out)?;
    Some(r.i)
}

/// A position in the text being read.
struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

/// Which known field a key names, as a bit of the set of those seen.
type Seen = u32;

/// The record's string fields, as [`RecordFields::KEYS`] begins.
const RECORD_STRINGS: &[&str; 13] = match RecordFields::KEYS.split_first_chunk::<13>() {
    Some((strings, _)) => strings,
    None => panic!("RecordFields::KEYS begins with the string fields"),
};

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.i += 1;
        }
    }

    /// Takes `c` (after whitespace).
    fn expect(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// Where a string without escapes or control characters, at the current byte (a quote),
    /// holds its text: from the byte after the quote to its closing quote.
    #[inline(always)]
    fn quoted(&mut self) -> Option<(usize, usize)> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.i + 1;
        let end = string_end(self.b, start)?;
        self.i = end + 1;
        Some((start, end))
    }

    /// A string without escapes or control characters, at the current byte (a quote).
    #[inline(always)]
    fn string(&mut self) -> Option<&'a str> {
        let (start, end) = self.quoted()?;
        // Both ends are ASCII quotes, so this is on character boundaries.
        self.text.get(start..end)
    }

    /// A key: a string as [`Reader::string`] reads it, as bytes (only compared with names, so
    /// not checked to fall between characters, which both quotes do anyway).
    #[inline(always)]
    fn key(&mut self) -> Option<&'a [u8]> {
        let (start, end) = self.quoted()?;
        self.b.get(start..end)
    }

    /// Walks an object's members, after whitespace: `member` reads each value, given its key,
    /// at the value's first byte.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.container(b'{', b'}', |r| {
            let key = r.key()?;
            r.expect(b':')?;
            r.ws();
            member(r, key)
        })
    }

    /// Walks an array's elements: `element` reads each, at its first byte.
    fn array(&mut self, element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.container(b'[', b']', element)
    }

    /// Walks what `open` and `close` enclose, after whitespace: `item` reads each member or
    /// element, at its first byte, and the commas between them are checked.
    fn container(&mut self, open: u8, close: u8, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.expect(open)?;
        self.ws();
        if self.peek()? == close {
            self.i += 1;
            return Some(());
        }
        loop {
            item(self)?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                c if c == close => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Crosses any value, checking it is well-formed.
    fn skip(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' if depth < MAX_DEPTH => self.object(|r, _| r.skip(depth + 1)),
            b'[' if depth < MAX_DEPTH => self.array(|r| r.skip(depth + 1)),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.integer(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.b.get(self.i..)?.starts_with(word).then(|| self.i += word.len())
    }

    /// A number without a fraction or an exponent (those are left to serde).
    fn integer(&mut self) -> Option<()> {
        if self.peek()? == b'-' {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.i += 1;
                }
            }
            _ => return None,
        }
        match self.peek() {
            Some(b'.' | b'e' | b'E' | b'0'..=b'9') => None,
            _ => Some(()),
        }
    }

    /// A [`Lenient`] field's value.
    #[inline(always)]
    fn lenient(&mut self, depth: usize) -> Option<Lenient<'a>> {
        Some(match self.peek()? {
            b'"' => Lenient(Some(Cow::Borrowed(self.string()?)), Shape::Str),
            b'n' => {
                self.literal(b"null")?;
                Lenient(None, Shape::Null)
            }
            b't' => {
                self.literal(b"true")?;
                Lenient(Some(Cow::Borrowed("true")), Shape::Other)
            }
            b'f' => {
                self.literal(b"false")?;
                Lenient(Some(Cow::Borrowed("false")), Shape::Other)
            }
            b'{' | b'[' => {
                self.skip(depth)?;
                Lenient(None, Shape::Other)
            }
            // A number becomes its text, as serde formats it.
            _ => return None,
        })
    }

    /// An [`Obj`] field's value: an object read into the slot by `read`, anything else crossed
    /// and absent.
    fn obj<T: Default>(
        &mut self,
        depth: usize,
        slot: &mut Obj<T>,
        read: impl FnOnce(&mut Self, &mut T) -> Option<()>,
    ) -> Option<()> {
        if self.peek()? == b'{' {
            if depth >= MAX_DEPTH {
                return None;
            }
            return read(self, slot.0.insert(T::default()));
        }
        self.skip(depth)?;
        slot.0 = None;
        Some(())
    }

    /// Marks a field read: a second time is left to serde (which refuses it).
    #[inline]
    fn once(seen: &mut Seen, bit: u32) -> Option<()> {
        if *seen & (1 << bit) != 0 {
            return None;
        }
        *seen |= 1 << bit;
        Some(())
    }

    /// An object's members: a key among `names` is read, at most once, as the [`Lenient`] field
    /// in the same place of `slots`; any other key goes to `other`, which reads or crosses its
    /// value.
    fn members<const N: usize>(
        &mut self,
        d: usize,
        names: &[&str; N],
        mut slots: [&mut Lenient<'a>; N],
        mut other: impl FnMut(&mut Self, &'a [u8]) -> Option<()>,
    ) -> Option<()> {
        let mut seen: Seen = 0;
        self.object(|r, key| match names.iter().position(|&n| n.as_bytes() == key) {
            Some(k) => {
                Self::once(&mut seen, k as u32)?;
                *slots[k] = r.lenient(d)?;
                Some(())
            }
            None => other(r, key),
        })
    }

    fn record(&mut self, f: &mut RecordFields<'a>) -> Option<()> {
        let d = 1;
        let strings = [
            &mut f.event_time,
            &mut f.event_name,
            &mut f.event_source,
            &mut f.region,
            &mut f.source_ip,
            &mut f.user_agent,
            &mut f.error_code,
            &mut f.request_id,
            &mut f.event_id,
            &mut f.read_only,
            &mut f.event_type,
            &mut f.category,
            &mut f.recipient_account,
        ];
        let mut seen: Seen = 0;
        self.members(d, RECORD_STRINGS, strings, |r, key| match key {
            b"userIdentity" => {
                Self::once(&mut seen, 0)?;
                r.obj(d, &mut f.identity, |r, id| r.identity(d + 1, id))
            }
            b"resources" => {
                Self::once(&mut seen, 1)?;
                r.resources(d, &mut f.resources.0)
            }
            b"insightDetails" => {
                Self::once(&mut seen, 2)?;
                r.obj(d, &mut f.insight, |r, ins| {
                    let InsightDetails { state, event_name, event_source, insight_type } = ins;
                    let names = &["state", "eventName", "eventSource", "insightType"];
                    r.members(d + 1, names, [state, event_name, event_source, insight_type], |r, _| r.skip(d + 1))
                })
            }
            b"requestParameters" => {
                Self::once(&mut seen, 3)?;
                // Once only, into the defaults `out` holds: nothing to empty first.
                r.collect(&mut f.params, 0, d)
            }
            _ => r.skip(d),
        })
    }

    fn identity(&mut self, d: usize, id: &mut Identity<'a>) -> Option<()> {
        let Identity { kind, principal_id, arn, account_id, access_key_id, user_name, invoked_by, session } = id;
        let names = &["type", "principalId", "arn", "accountId", "accessKeyId", "userName", "invokedBy"];
        let strings = [kind, principal_id, arn, account_id, access_key_id, user_name, invoked_by];
        let mut seen: Seen = 0;
        self.members(d, names, strings, |r, key| match key {
            b"sessionContext" => {
                Self::once(&mut seen, 0)?;
                // sessionContext.sessionIssuer: its type, userName and arn.
                r.obj(d, session, |r, ctx| {
                    let mut seen: Seen = 0;
                    r.members(d + 1, &[], [], |r, key| match key {
                        b"sessionIssuer" => {
                            Self::once(&mut seen, 0)?;
                            r.obj(d + 1, &mut ctx.issuer, |r, is| {
                                let strings = [&mut is.kind, &mut is.user_name, &mut is.arn];
                                r.members(d + 2, &["type", "userName", "arn"], strings, |r, _| r.skip(d + 2))
                            })
                        }
                        _ => r.skip(d + 1),
                    })
                })
            }
            _ => r.skip(d),
        })
    }

    /// `resources`: an array of objects with an ARN; other elements, and anything but an
    /// array, are crossed.
    fn resources(&mut self, d: usize, out: &mut Vec<Resource<'a>>) -> Option<()> {
        out.clear();
        if self.peek()? != b'[' {
            return self.skip(d);
        }
        if d >= MAX_DEPTH {
            return None;
        }
        self.array(|r| {
            let mut item = Obj(None);
            r.obj(d + 1, &mut item, |r, res: &mut Resource<'a>| {
                r.members(d + 2, &["ARN"], [&mut res.arn], |r, _| r.skip(d + 2))
            })?;
            out.extend(item.0);
            Some(())
        })
    }

    /// requestParameters' strings, as [`Params`]' serde walk takes them: `level` is its depth
    /// within requestParameters, `d` within the record. Where that walk stops descending (and
    /// marks the record), serde reads the record instead.
    fn collect(&mut self, p: &mut Params<'a>, level: usize, d: usize) -> Option<()> {
        match self.peek()? {
            b'"' => p.push(Cow::Borrowed(self.string()?)),
            b'{' | b'[' if level >= MAX_PARAMS_DEPTH || d >= MAX_DEPTH => return None,
            b'{' => return self.object(|r, _| r.collect(p, level + 1, d + 1)),
            b'[' => return self.array(|r| r.collect(p, level + 1, d + 1)),
            _ => return self.skip(d),
        }
        Some(())
    }
}

/// The index of the first quote, backslash or control character at or after `from`, when it is
/// a quote (the string's end); `None` for the others (left to serde) or no end.
#[inline(always)]
fn string_end(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        use safe_arch::*;
        let (quote, backslash, control) =
            (set_splat_i8_m128i(b'"' as i8), set_splat_i8_m128i(b'\\' as i8), set_splat_i8_m128i(0x1f));
        while let Some(chunk) = b.get(i..i + 16) {
            let v = load_unaligned_m128i(chunk.try_into().unwrap_or(&[0; 16]));
            // A byte is a control character where it is its own minimum with 0x1f.
            let hits = bitor_m128i(
                bitor_m128i(cmp_eq_mask_i8_m128i(v, quote), cmp_eq_mask_i8_m128i(v, backslash)),
                cmp_eq_mask_i8_m128i(min_u8_m128i(v, control), v),
            );
            let mask = move_mask_i8_m128i(hits) as u32 & 0xffff;
            if mask != 0 {
                let at = i + mask.trailing_zeros() as usize;
                return (b[at] == b'"').then_some(at);
            }
            i += 16;
        }
    }
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => return Some(i),
            b'\\' | 0..=0x1f => return None,
            _ => i += 1,
        }
    }
    None
}
