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
}
