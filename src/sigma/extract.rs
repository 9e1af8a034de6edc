//! The fields a rule set names, taken out of a raw record in one borrowed walk: the keys on
//! the way to a named field are followed, everything else is skipped without being built, and
//! each named field's raw JSON is kept, made into the text rules compare only when a rule asks
//! ([`leaf`]: strings borrowed where they have no escapes). The result is what
//! [`serde_json::Value`] would give for the same paths: later duplicates of a key win, objects
//! and arrays are their compact JSON, numbers are written as `serde_json` writes them, `null`
//! is no value.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// One key of the tree of named paths.
#[derive(Debug, Default)]
struct Node {
    /// The value of this path is wanted, in this slot.
    slot: Option<usize>,
    /// Keys below it, (key, node index).
    children: Vec<(String, usize)>,
    /// Every slot at or below this node, cleared when a later duplicate key replaces it.
    below: Vec<usize>,
}

/// The paths a rule set names (and two more that `detect` writes), as a tree walked once per
/// record.
#[derive(Debug)]
pub(crate) struct Paths {
    nodes: Vec<Node>,
    slots: usize,
}

/// A named field's value as found: its text, and whether the JSON value was a string.
pub(crate) type Found<'a> = Option<(Cow<'a, str>, bool)>;

/// A named field's raw JSON as found in the record.
pub(crate) type Raw<'a> = Option<&'a str>;

impl Paths {
    /// The tree of `paths` (slot `i` for `paths[i]`), plus `extra` top-level keys in the slots
    /// after them.
    pub(crate) fn new(paths: &[Vec<String>], extra: &[&str]) -> Self {
        let mut t = Paths { nodes: vec![Node::default()], slots: 0 };
        let extra: Vec<Vec<String>> = extra.iter().map(|k| vec![k.to_string()]).collect();
        for (slot, path) in paths.iter().chain(&extra).enumerate() {
            let mut at = 0;
            t.nodes[0].below.push(slot);
            for key in path {
                at = match t.nodes[at].children.iter().find(|(k, _)| k == key) {
                    Some(&(_, n)) => n,
                    None => {
                        let n = t.nodes.len();
                        t.nodes.push(Node::default());
                        t.nodes[at].children.push((key.clone(), n));
                        n
                    }
                };
                t.nodes[at].below.push(slot);
            }
            t.nodes[at].slot = Some(slot);
            t.slots = slot + 1;
        }
        t
    }

    /// The raw JSON of the named values of `raw`, by slot; `None` when `raw` is not a JSON
    /// object. With `stop`, the walk ends once it has seen each of those top-level keys (the
    /// caller knows the record holds each at most once, so nothing after can replace them).
    pub(crate) fn extract<'a>(&self, raw: &'a [u8], stop: Option<&[&str]>) -> Option<Vec<Raw<'a>>> {
        if raw.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return None;
        }
        // Checked once here, strings are not checked again one by one.
        let text = std::str::from_utf8(raw).ok()?;
        let mut out: Vec<Raw<'a>> = vec![None; self.slots];
        let mut de = serde_json::Deserializer::from_str(text);
        let mut until = stop.map(|keys| Until { keys, seen: vec![false; keys.len()], left: keys.len() });
        let walked = ObjectSeed { paths: self, node: 0, out: &mut out, until: until.as_mut() }.deserialize(&mut de);
        match walked {
            Ok(()) => de.end().ok()?,
            // Every key asked for was seen: the rest of the record is not read.
            // (Only the stop itself fails once every key was seen and read.)
            Err(_) if until.as_ref().is_some_and(|u| u.left == 0) => {}
            Err(_) => return None,
        }
        Some(out)
    }

    fn child(&self, node: usize, key: &str) -> Option<usize> {
        self.nodes[node].children.iter().find(|(k, _)| k == key).map(|&(_, n)| n)
    }
}

/// The top-level keys after which a walk may stop, and which of them it has seen.
struct Until<'k> {
    keys: &'k [&'k str],
    seen: Vec<bool>,
    left: usize,
}

/// What ends a walk early (as an error, the only way out of serde's map access).
const SEEN_ALL: &str = "trailscope: every key asked for was seen";

/// Walks an object at `node`: anything else leaves the slots below it empty.
struct ObjectSeed<'p, 'o, 'u, 'k, 'a> {
    paths: &'p Paths,
    node: usize,
    out: &'o mut Vec<Raw<'a>>,
    /// At the top level: where the walk may stop.
    until: Option<&'u mut Until<'k>>,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for ObjectSeed<'_, '_, '_, '_, 'a> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for ObjectSeed<'_, '_, '_, '_, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_map<M: MapAccess<'de>>(mut self, mut m: M) -> Result<(), M::Error> {
        let paths = self.paths;
        while let Some(key) = m.next_key::<Key<'de>>()? {
            let asked = self.until.as_deref().and_then(|u| u.keys.iter().position(|k| *k == key.0));
            let Some(n) = paths.child(self.node, &key.0) else {
                m.next_value::<IgnoredAny>()?;
                continue;
            };
            // A later duplicate replaces everything an earlier one gave.
            for &s in &paths.nodes[n].below {
                self.out[s] = None;
            }
            let node = &paths.nodes[n];
            match node.slot {
                None => m.next_value_seed(ObjectSeed { paths, node: n, out: &mut *self.out, until: None })?,
                Some(slot) => {
                    let raw: &'de RawValue = m.next_value()?;
                    self.out[slot] = Some(raw.get());
                    if !node.children.is_empty() {
                        let mut de = serde_json::Deserializer::from_str(raw.get());
                        ObjectSeed { paths, node: n, out: &mut *self.out, until: None }
                            .deserialize(&mut de)
                            .map_err(de::Error::custom)?;
                    }
                }
            }
            // Counted once the value is read: a walk that fails has not seen them all.
            if let (Some(u), Some(k)) = (self.until.as_deref_mut(), asked) {
                if !std::mem::replace(&mut u.seen[k], true) {
                    u.left -= 1;
                }
                if u.left == 0 {
                    return Err(de::Error::custom(SEEN_ALL));
                }
            }
        }
        Ok(())
    }
}

/// A record's fields found when first asked for, for a record its parser has read (so known to
/// be valid JSON): the members of each object on the way are scanned (strings skipped eight
/// bytes at a time, nothing built), and only as far as needed. The objects on the way to a
/// named path are taken apart as they are first passed over, so no part of the record is
/// scanned twice. The result is [`Paths::extract`]'s for the same path: a later duplicate of
/// a key wins, except for the top-level keys the caller knows occur at most once (`once`),
/// whose first occurrence is taken without scanning further.
pub(crate) struct Lazy<'a> {
    text: &'a str,
    paths: &'a Paths,
    once: &'a [&'a str],
    top: std::cell::RefCell<Top<'a>>,
    /// The members of the objects below the top level on the way to a named path, by where
    /// each starts.
    inner: std::cell::RefCell<Vec<(usize, Members<'a>)>>,
}

/// An object's members (key, raw JSON of the value), in order.
type Members<'a> = Vec<(Cow<'a, str>, &'a str)>;

/// The top-level members scanned so far, and where scanning goes on.
struct Top<'a> {
    members: Members<'a>,
    /// Where the next member starts (after the `{` or a `,`); `None` once the object's end
    /// (or something that is not JSON) was reached.
    next: Option<usize>,
}

impl<'a> Lazy<'a> {
    /// The record `raw`, read from as the fields of `paths` are asked for; `None` when it is
    /// not a JSON object or not UTF-8 (which [`Paths::extract`] refuses too).
    pub(crate) fn new(raw: &'a [u8], paths: &'a Paths, once: &'a [&'a str]) -> Option<Self> {
        let start = skip_ws(raw, 0);
        if raw.get(start) != Some(&b'{') {
            return None;
        }
        let text = simdutf8::basic::from_utf8(raw).ok()?;
        let top = std::cell::RefCell::new(Top { members: Vec::new(), next: Some(skip_ws(raw, start + 1)) });
        Some(Lazy { text, paths, once, top, inner: Default::default() })
    }

    /// The raw JSON of the value at `path` (`None`: absent, or a key on the way is not an
    /// object).
    pub(crate) fn get(&self, path: &[impl AsRef<str>]) -> Raw<'a> {
        let (first, rest) = path.split_first()?;
        let mut raw = self.top_level(first.as_ref())?;
        let mut node = self.paths.child(0, first.as_ref());
        for key in rest {
            raw = self.member(raw, node, key.as_ref())?;
            node = node.and_then(|n| self.paths.child(n, key.as_ref()));
        }
        Some(raw)
    }

    /// The last value of `key` in `obj` (the raw JSON of an object at tree node `node`, else
    /// nothing).
    fn member(&self, obj: &'a str, node: Option<usize>, key: &str) -> Raw<'a> {
        if obj.as_bytes().first() != Some(&b'{') {
            return None;
        }
        let at = obj.as_ptr() as usize - self.text.as_ptr() as usize;
        let mut inner = self.inner.borrow_mut();
        if !inner.iter().any(|(start, _)| *start == at) {
            // Not on the way to a named path (or not reached yet): taken apart now.
            let (members, _) = object(self.text, self.paths, node, at, &mut inner)?;
            inner.push((at, members));
        }
        let (_, members) = inner.iter().find(|(start, _)| *start == at)?;
        members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    fn top_level(&self, key: &str) -> Raw<'a> {
        let once = self.once.contains(&key);
        let mut top = self.top.borrow_mut();
        if once {
            if let Some((_, v)) = top.members.iter().find(|(k, _)| k == key) {
                return Some(v);
            }
        }
        let mut inner = self.inner.borrow_mut();
        while let Some(at) = top.next {
            let Some((k, v, next)) = next_member(self.text, self.paths, Some(0), at, &mut inner) else {
                top.next = None;
                break;
            };
            top.next = next;
            let found = once && k == key;
            top.members.push((k, v));
            if found {
                return Some(v);
            }
        }
        // Every member is known: the last one of that key is the value.
        top.members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

/// The members of the object at `at` (at tree node `node`) and just after its end; the objects
/// in it on the way to a named path are taken apart into `inner` on the way.
fn object<'a>(
    text: &'a str,
    paths: &Paths,
    node: Option<usize>,
    at: usize,
    inner: &mut Vec<(usize, Members<'a>)>,
) -> Option<(Members<'a>, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let first = skip_ws(b, at + 1);
    if b.get(first) == Some(&b'}') {
        return Some((out, first + 1));
    }
    let mut next = first;
    loop {
        let (k, v, after) = next_member(text, paths, node, next, inner)?;
        let end = v.as_ptr() as usize - text.as_ptr() as usize + v.len();
        out.push((k, v));
        match after {
            Some(i) => next = i,
            None => return Some((out, skip_ws(b, end) + 1)),
        }
    }
}

/// The member of an object (at tree node `node`) starting at `i`: its key, its value's raw
/// JSON, and where the next member starts (`None` after the last); `None` at anything that is
/// not JSON. A value that is an object on the way to a named path is taken apart into `inner`.
fn next_member<'a>(
    text: &'a str,
    paths: &Paths,
    node: Option<usize>,
    i: usize,
    inner: &mut Vec<(usize, Members<'a>)>,
) -> Option<(Cow<'a, str>, &'a str, Option<usize>)> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let key_end = string_end(b, i)?;
    let key_raw = text.get(i + 1..key_end - 1)?;
    let key = if key_raw.contains('\\') {
        Cow::Owned(serde_json::from_str::<String>(text.get(i..key_end)?).ok()?)
    } else {
        Cow::Borrowed(key_raw)
    };
    let colon = skip_ws(b, key_end);
    if b.get(colon) != Some(&b':') {
        return None;
    }
    let start = skip_ws(b, colon + 1);
    // (Only an object is looked up in the tree: most values are not.)
    let object_at = |n: usize| (b.get(start) == Some(&b'{')).then(|| paths.child(n, &key)).flatten();
    let child = node.and_then(object_at).filter(|&c| !paths.nodes[c].children.is_empty());
    let end = match child {
        Some(c) if !inner.iter().any(|(s, _)| *s == start) => {
            let (members, end) = object(text, paths, Some(c), start, inner)?;
            inner.push((start, members));
            end
        }
        _ => value_end(b, start)?,
    };
    let value = text.get(start..end)?;
    let after = skip_ws(b, end);
    let next = match b.get(after) {
        Some(b',') => Some(skip_ws(b, after + 1)),
        Some(b'}') => None,
        _ => return None,
    };
    Some((key, value, next))
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The first of the bytes `find` in `b` from `i` (eight bytes at a time, then one by one).
fn find_any(b: &[u8], mut i: usize, find: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().ok()?);
        // A byte equal to c is a zero byte of w ^ c: the lowest flagged byte is the first
        // (flags above a true one may be false, never below).
        let hit = find.iter().fold(0, |acc, &c| {
            let x = w ^ (LO * c as u64);
            acc | (x.wrapping_sub(LO) & !x & HI)
        });
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b.get(i..)?.iter().position(|c| find.contains(c)).map(|p| i + p)
}

/// Just after the string whose opening quote is at `i`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let k = find_any(b, j, b"\"\\")?;
        if b[k] == b'"' {
            return Some(k + 1);
        }
        j = k + 2;
    }
}

/// Just after the JSON value starting at `i` (valid JSON assumed: only strings and the
/// brackets of the value's own kind are looked at).
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    let (open, close) = match *b.get(i)? {
        b'"' => return string_end(b, i),
        b'{' => (b'{', b'}'),
        b'[' => (b'[', b']'),
        _ => {
            let len = b.get(i..)?.iter().position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'));
            let end = i + len.unwrap_or(b.len() - i);
            return (end > i).then_some(end);
        }
    };
    let mut depth = 0usize;
    let mut j = i;
    loop {
        j = find_any(b, j, &[b'"', open, close])?;
        match b[j] {
            b'"' => {
                j = string_end(b, j)?;
                continue;
            }
            c if c == open => depth += 1,
            _ => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
        }
        j += 1;
    }
}

/// A named field's text from its raw JSON (as [`Paths::extract`] found it, so valid).
pub(crate) fn leaf(raw: &str) -> Result<Found<'_>, serde_json::Error> {
    Ok(match raw.as_bytes().first() {
        Some(b'"') => {
            let s: Cow<'_, str> = match serde_json::from_str::<&str>(raw) {
                Ok(s) => Cow::Borrowed(s),
                // Escapes: the string has to be unescaped into one of its own.
                Err(_) => Cow::Owned(serde_json::from_str::<String>(raw)?),
            };
            Some((s, true))
        }
        Some(b'n') => None,
        Some(b't') => Some((Cow::Borrowed("true"), false)),
        Some(b'f') => Some((Cow::Borrowed("false"), false)),
        // Numbers, objects and arrays: as serde_json writes the value (compact).
        _ => {
            let v: serde_json::Value = serde_json::from_str(raw)?;
            Some((Cow::Owned(serde_json::to_string(&v)?), false))
        }
    })
}

/// An object key, borrowed unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> de::Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(ps: &[&str]) -> Paths {
        let v: Vec<Vec<String>> = ps.iter().map(|p| p.split('.').map(str::to_owned).collect()).collect();
        Paths::new(&v, &["eventID"])
    }

    fn texts(p: &Paths, raw: &str) -> Vec<Option<String>> {
        let raws = p.extract(raw.as_bytes(), None).unwrap();
        raws.into_iter().map(|r| r.and_then(|r| leaf(r).unwrap()).map(|(s, _)| s.into_owned())).collect()
    }

    #[test]
    fn named_paths_as_value_gives_them() {
        let p = paths(&["a", "a.b", "c.d.e", "n", "x", "o", "num"]);
        let raw = r#"{"a":{"b":"B\"q","z":[1, 2]},"c":{"d":{"e":true}},"n":null,"o":{ "k" : [1,"X"] },
            "num":1.50,"skip":{"a":{"b":1}},"eventID":"id-1"}"#;
        assert_eq!(
            texts(&p, raw),
            vec![
                Some(r#"{"b":"B\"q","z":[1,2]}"#.into()),
                Some("B\"q".into()),
                Some("true".into()),
                None,
                None,
                Some(r#"{"k":[1,"X"]}"#.into()),
                Some("1.5".into()),
                Some("id-1".into()),
            ]
        );
        // A later duplicate wins, wholly: what the earlier one had below it is gone.
        let dup = r#"{"c":{"d":{"e":"first"}},"c":{"f":1},"a":"s","a":{"b":"2"}}"#;
        let t = texts(&p, dup);
        assert_eq!((t[0].as_deref(), t[1].as_deref(), t[2].as_deref()), (Some(r#"{"b":"2"}"#), Some("2"), None));
        // Escaped keys are followed; a path through a non-object gives nothing.
        assert_eq!(texts(&p, r#"{"\u0061":{"b":"x"},"c":"d"}"#)[1].as_deref(), Some("x"));
        assert!(p.extract(b" [1]", None).is_none());
        assert!(p.extract(b"{\"a\":", None).is_none());
        // Stopping once the keys asked for were seen: what follows them is not read.
        let raws = p.extract(br#"{"x":1,"a":{"b":"B"},"c":{"d":{"e":"E"}},"broken""#, Some(&["a", "x"])).unwrap();
        assert_eq!((raws[1], raws[2], raws[4]), (Some(r#""B""#), None, Some("1")));
        assert!(p.extract(br#"{"x":1,"a":{"b":"B"},"broken""#, Some(&["a", "c"])).is_none());
    }

    /// Every path of `p` looked up lazily in `raw` gives what the whole walk gives.
    fn lazy_agrees(p: &Paths, paths: &[Vec<String>], raw: &str, once: &[&str]) {
        let walked = p.extract(raw.as_bytes(), None).unwrap();
        let lazy = Lazy::new(raw.as_bytes(), p, once).unwrap();
        // In both orders of asking: what was taken apart before must not change an answer.
        for path in paths.iter().chain(paths.iter().rev()) {
            let slot = paths.iter().position(|q| q == path).unwrap();
            assert_eq!(lazy.get(path), walked[slot], "{path:?} in {raw}");
        }
    }

    #[test]
    fn lazy_lookup_gives_what_the_walk_gives() {
        let names = ["a", "a.b", "a.b.c", "c.d.e", "n", "x", "o", "num", "q", "arr", "k\"ey", "e.f"];
        let paths: Vec<Vec<String>> = names.iter().map(|p| p.split('.').map(str::to_owned).collect()).collect();
        let p = Paths::new(&paths, &[]);
        let docs = [
            r#"{"a":{"b":"B\"q","z":[1, 2]},"c":{"d":{"e":true}},"n":null,"o":{ "k" : [1,"X"] },
                "num":1.50,"skip":{"a":{"b":1}},"eventID":"id-1"}"#,
            r#"{"c":{"d":{"e":"first"}},"c":{"f":1},"a":"s","a":{"b":"2"}}"#,
            r#"{"\u0061":{"b":"x"},"c":"d"}"#,
            r#" { "q" : "a string with } and ] and { and [ and \\ and \" inside, long enough" ,
                "arr":[{"x":"]"},[["}"]],"\\\"",-1.5e3,true,false,null] , "a" : { "b" : { "c" : 0 } } } "#,
            r#"{"k\"ey":"v","e":{"f":{},"f":[]},"x":{},"x":-0,"a":{"b":{"c":"1"},"b":{"d":"2"}}}"#,
            r#"{"a":{"b":{"c":"\\\\\\\"\"\\"}},"o":[],"num":12345678901234567890,"q":"\u00e9\ud83d\ude00"}"#,
            "{}",
        ];
        for raw in docs {
            lazy_agrees(&p, &paths, raw, &[]);
        }
        // A key known to be there once is taken at its first sight (the caller's guarantee).
        lazy_agrees(&p, &paths, r#"{"x":1,"a":{"b":"B"},"q":"Q"}"#, &["a", "x", "q"]);
        // Generated records: strings of every length around the eight bytes read at a time,
        // escapes at every place, objects nested on and off the named paths.
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..3000 {
            let mut raw = String::from("{");
            for m in 0..next(7) {
                if m > 0 {
                    raw.push(',');
                }
                let key = ["a", "c", "x", "o", "q", "zz", "e"][next(7) as usize];
                raw.push_str(&format!("\"{key}\" : "));
                gen_value(&mut raw, &mut next, 3);
            }
            raw.push('}');
            lazy_agrees(&p, &paths, &raw, &[]);
        }
    }

    fn gen_value(out: &mut String, next: &mut dyn FnMut(u64) -> u64, depth: u32) {
        match next(if depth == 0 { 4 } else { 6 }) {
            0 => {
                out.push('"');
                for _ in 0..next(20) {
                    out.push_str(["x", "\\\"", "\\\\", "}", "]", "{", "\\u0041", " ", "é"][next(9) as usize]);
                }
                out.push('"');
            }
            1 => out.push_str(["1", "-2.5", "1e3", "0"][next(4) as usize]),
            2 => out.push_str(["true", "false"][next(2) as usize]),
            3 => out.push_str("null"),
            4 => {
                out.push('[');
                for i in 0..next(4) {
                    if i > 0 {
                        out.push_str(" , ");
                    }
                    gen_value(out, next, depth - 1);
                }
                out.push(']');
            }
            _ => {
                out.push('{');
                for i in 0..next(4) {
                    if i > 0 {
                        out.push(',');
                    }
                    let key = ["b", "c", "d", "e", "f", "b\\u0062"][next(6) as usize];
                    out.push_str(&format!("\"{key}\":"));
                    gen_value(out, next, depth - 1);
                }
                out.push('}');
            }
        }
    }
}
