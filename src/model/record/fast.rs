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
//! that is not well-formed. Well under one record in a hundred of real and generated archives
//! takes that way.

use super::{
    Identity, InsightDetails, Issuer, Lenient, Obj, Objs, Params, RecordFields, Resource, SessionContext, Shape,
    MAX_PARAMS_DEPTH,
};
use std::borrow::Cow;

/// Deeper nesting is left to serde (whose own limit is 128).
const MAX_DEPTH: usize = 100;

/// The record (a JSON object) that starts at `pos` of `text`, and the offset just past it; `None`
/// where serde must read it (see the module's text). Whether it is a record at all
/// ([`RecordFields::is_record`]) is for the caller to ask, as after serde's parse.
pub fn record_at(text: &str, pos: usize) -> Option<(RecordFields<'_>, usize)> {
    let mut r = Reader { text, b: text.as_bytes(), i: pos };
    let fields = r.record()?;
    Some((fields, r.i))
}

/// A position in the text being read.
struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

/// Which known field a key names, as a bit of the set of those seen.
type Seen = u32;

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

    /// A string without escapes or control characters, at the current byte (a quote).
    fn string(&mut self) -> Option<&'a str> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.i + 1;
        let end = string_end(self.b, start)?;
        self.i = end + 1;
        // Both ends are ASCII quotes, so this is on character boundaries.
        self.text.get(start..end)
    }

    /// Walks an object's members, after whitespace: `member` reads each value, given its key,
    /// at the value's first byte.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.expect(b'{')?;
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.expect(b':')?;
            self.ws();
            member(self, key)?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Walks an array's elements: `element` reads each, at its first byte.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.expect(b'[')?;
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            element(self)?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => {
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

    /// An [`Obj`] field's value: an object read by `read`, anything else crossed and absent.
    fn obj<T>(&mut self, depth: usize, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Obj<T>> {
        if self.peek()? == b'{' {
            if depth >= MAX_DEPTH {
                return None;
            }
            return read(self).map(|t| Obj(Some(t)));
        }
        self.skip(depth)?;
        Some(Obj(None))
    }

    /// Sets a field once: a second time is left to serde (which refuses it).
    fn once<T>(seen: &mut Seen, bit: u32, slot: &mut T, value: T) -> Option<()> {
        if *seen & (1 << bit) != 0 {
            return None;
        }
        *seen |= 1 << bit;
        *slot = value;
        Some(())
    }

    fn record(&mut self) -> Option<RecordFields<'a>> {
        let mut f = RecordFields::default();
        let mut seen: Seen = 0;
        let d = 1;
        self.object(|r, key| {
            let s = &mut seen;
            match key {
                "eventTime" => Self::once(s, 0, &mut f.event_time, r.lenient(d)?),
                "eventName" => Self::once(s, 1, &mut f.event_name, r.lenient(d)?),
                "eventSource" => Self::once(s, 2, &mut f.event_source, r.lenient(d)?),
                "awsRegion" => Self::once(s, 3, &mut f.region, r.lenient(d)?),
                "sourceIPAddress" => Self::once(s, 4, &mut f.source_ip, r.lenient(d)?),
                "userAgent" => Self::once(s, 5, &mut f.user_agent, r.lenient(d)?),
                "errorCode" => Self::once(s, 6, &mut f.error_code, r.lenient(d)?),
                "requestID" => Self::once(s, 7, &mut f.request_id, r.lenient(d)?),
                "eventID" => Self::once(s, 8, &mut f.event_id, r.lenient(d)?),
                "readOnly" => Self::once(s, 9, &mut f.read_only, r.lenient(d)?),
                "eventType" => Self::once(s, 10, &mut f.event_type, r.lenient(d)?),
                "eventCategory" => Self::once(s, 11, &mut f.category, r.lenient(d)?),
                "recipientAccountId" => Self::once(s, 12, &mut f.recipient_account, r.lenient(d)?),
                "userIdentity" => {
                    let v = r.obj(d, |r| r.identity(d + 1))?;
                    Self::once(s, 13, &mut f.identity, v)
                }
                "resources" => {
                    let v = r.resources(d)?;
                    Self::once(s, 14, &mut f.resources, v)
                }
                "insightDetails" => {
                    let v = r.obj(d, |r| r.insight(d + 1))?;
                    Self::once(s, 15, &mut f.insight, v)
                }
                "requestParameters" => {
                    let mut p = Params::default();
                    r.collect(&mut p, 0, d)?;
                    Self::once(s, 16, &mut f.params, p)
                }
                _ => r.skip(d),
            }
        })?;
        Some(f)
    }

    fn identity(&mut self, d: usize) -> Option<Identity<'a>> {
        let mut id = Identity::default();
        let mut seen: Seen = 0;
        self.object(|r, key| {
            let s = &mut seen;
            match key {
                "type" => Self::once(s, 0, &mut id.kind, r.lenient(d)?),
                "principalId" => Self::once(s, 1, &mut id.principal_id, r.lenient(d)?),
                "arn" => Self::once(s, 2, &mut id.arn, r.lenient(d)?),
                "accountId" => Self::once(s, 3, &mut id.account_id, r.lenient(d)?),
                "accessKeyId" => Self::once(s, 4, &mut id.access_key_id, r.lenient(d)?),
                "userName" => Self::once(s, 5, &mut id.user_name, r.lenient(d)?),
                "invokedBy" => Self::once(s, 6, &mut id.invoked_by, r.lenient(d)?),
                "sessionContext" => {
                    let v = r.obj(d, |r| r.session(d + 1))?;
                    Self::once(s, 7, &mut id.session, v)
                }
                _ => r.skip(d),
            }
        })?;
        Some(id)
    }

    fn session(&mut self, d: usize) -> Option<SessionContext<'a>> {
        let mut ctx = SessionContext::default();
        let mut seen: Seen = 0;
        self.object(|r, key| match key {
            "sessionIssuer" => {
                let v = r.obj(d, |r| r.issuer(d + 1))?;
                Self::once(&mut seen, 0, &mut ctx.issuer, v)
            }
            _ => r.skip(d),
        })?;
        Some(ctx)
    }

    fn issuer(&mut self, d: usize) -> Option<Issuer<'a>> {
        let mut is = Issuer::default();
        let mut seen: Seen = 0;
        self.object(|r, key| {
            let s = &mut seen;
            match key {
                "type" => Self::once(s, 0, &mut is.kind, r.lenient(d)?),
                "userName" => Self::once(s, 1, &mut is.user_name, r.lenient(d)?),
                "arn" => Self::once(s, 2, &mut is.arn, r.lenient(d)?),
                _ => r.skip(d),
            }
        })?;
        Some(is)
    }

    fn insight(&mut self, d: usize) -> Option<InsightDetails<'a>> {
        let mut ins = InsightDetails::default();
        let mut seen: Seen = 0;
        self.object(|r, key| {
            let s = &mut seen;
            match key {
                "state" => Self::once(s, 0, &mut ins.state, r.lenient(d)?),
                "eventName" => Self::once(s, 1, &mut ins.event_name, r.lenient(d)?),
                "eventSource" => Self::once(s, 2, &mut ins.event_source, r.lenient(d)?),
                "insightType" => Self::once(s, 3, &mut ins.insight_type, r.lenient(d)?),
                _ => r.skip(d),
            }
        })?;
        Some(ins)
    }

    /// `resources`: an array of objects with an ARN; other elements, and anything but an
    /// array, are crossed.
    fn resources(&mut self, d: usize) -> Option<Objs<Resource<'a>>> {
        let mut out = Vec::new();
        if self.peek()? == b'[' {
            if d >= MAX_DEPTH {
                return None;
            }
            self.array(|r| {
                let Obj(item) = r.obj(d + 1, |r| r.resource(d + 2))?;
                out.extend(item);
                Some(())
            })?;
        } else {
            self.skip(d)?;
        }
        Some(Objs(out))
    }

    fn resource(&mut self, d: usize) -> Option<Resource<'a>> {
        let mut res = Resource::default();
        let mut seen: Seen = 0;
        self.object(|r, key| match key {
            "ARN" => {
                let v = r.lenient(d)?;
                Self::once(&mut seen, 0, &mut res.arn, v)
            }
            _ => r.skip(d),
        })?;
        Some(res)
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
