//! Borrowed, lenient deserialisation of just the summary fields of a CloudTrail record.
//!
//! Real archives hold records with `requestParameters: null`, `readOnly` as a string,
//! `userIdentity` missing, numbers where strings were expected. A field of an unexpected
//! type is treated as absent rather than failing the record; everything not listed here is
//! skipped by serde without building values.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

mod fast;
pub use fast::{read_record, record_at};

/// A string field that tolerates other JSON types: booleans and numbers become their text,
/// null, objects and arrays become absent. What the value was is kept beside (see
/// [`Lenient::known`]).
#[derive(Debug, Default, Clone)]
pub struct Lenient<'a>(pub Option<Cow<'a, str>>, pub Shape);

/// What a [`Lenient`] field's value was in the record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Shape {
    /// Not in the record (or the record's object around it was not).
    #[default]
    Absent,
    /// `null`.
    Null,
    /// A string: the text is its value.
    Str,
    /// A number, a boolean, an object or an array.
    Other,
}

impl<'a> Lenient<'a> {
    /// The field as Sigma reads it, when the parse tells it exactly: `Some(None)` for absent
    /// or null, `Some(Some(text))` for a string; `None` for any other value (its text as
    /// written is not kept).
    pub fn known(&self) -> Option<Option<&str>> {
        match self.1 {
            Shape::Absent | Shape::Null => Some(None),
            Shape::Str => Some(self.0.as_deref()),
            Shape::Other => None,
        }
    }
    /// The text, or "" when absent.
    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }
    /// Whether the field is present and not empty.
    pub fn is_some(&self) -> bool {
        self.0.as_deref().is_some_and(|s| !s.is_empty())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Lenient<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Lenient<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Lenient(Some(Cow::Borrowed(v)), Shape::Str))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Lenient(Some(Cow::Owned(v.to_owned())), Shape::Str))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Lenient(Some(Cow::Owned(v)), Shape::Str))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Lenient(Some(Cow::Borrowed(if v { "true" } else { "false" })), Shape::Other))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Lenient(Some(Cow::Owned(v.to_string())), Shape::Other))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Lenient(Some(Cow::Owned(v.to_string())), Shape::Other))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Lenient(Some(Cow::Owned(v.to_string())), Shape::Other))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Lenient(None, Shape::Null))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Lenient(None, Shape::Null))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                Lenient::deserialize(d)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Lenient(None, Shape::Other))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Lenient(None, Shape::Other))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// An object field that is treated as absent when it holds anything but an object.
#[derive(Debug, Clone)]
pub struct Obj<T>(pub Option<T>);

impl<T> Default for Obj<T> {
    fn default() -> Self {
        Obj(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| Obj(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Obj(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                Obj::deserialize(d)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Obj(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Obj(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Obj(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Obj(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Obj(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Obj(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Obj(None))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// An array of objects; anything else (or any non-object element) is skipped.
#[derive(Debug, Clone)]
pub struct Objs<T>(pub Vec<T>);

impl<T> Default for Objs<T> {
    fn default() -> Self {
        Objs(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Objs<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Objs<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of objects")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(Obj(item)) = seq.next_element::<Obj<T>>()? {
                    out.extend(item);
                }
                Ok(Objs(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Objs(Vec::new()))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                Objs::deserialize(d)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Objs(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Objs(Vec::new()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Objs(Vec::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Objs(Vec::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Objs(Vec::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Objs(Vec::new()))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Objs(Vec::new()))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// The most string values of one record's requestParameters the resource index keeps; a
/// record with more is marked, and `resource:` reads that record itself.
pub const MAX_PARAMS: usize = 1024;

/// Every string value in `requestParameters`, at any depth (keys are names, not values; numbers
/// and booleans are not strings), in the order written; empty strings are left out. At most
/// [`MAX_PARAMS`]; `more` when the record holds others.
#[derive(Debug, Default)]
pub struct Params<'a> {
    /// The values, borrowed from the record unless they hold escapes.
    pub strings: ParamStrings<'a>,
    /// The record holds more than [`MAX_PARAMS`].
    pub more: bool,
}

/// A record's requestParameters strings: the first [`ParamStrings::IN_LINE`] kept in line, so
/// that most records (which hold at most four) allocate no list for them.
#[derive(Debug, Default)]
pub struct ParamStrings<'a> {
    head: [Cow<'a, str>; ParamStrings::IN_LINE],
    head_len: usize,
    rest: Vec<Cow<'a, str>>,
}

impl<'a> ParamStrings<'a> {
    /// How many strings are kept in line.
    pub const IN_LINE: usize = 4;

    /// Adds `s` after the others.
    pub fn push(&mut self, s: Cow<'a, str>) {
        match self.head.get_mut(self.head_len) {
            Some(slot) => {
                *slot = s;
                self.head_len += 1;
            }
            None => self.rest.push(s),
        }
    }
    /// How many strings there are.
    pub fn len(&self) -> usize {
        self.head_len + self.rest.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.head_len == 0
    }
    /// The strings in the order added.
    pub fn iter(&self) -> impl Iterator<Item = &Cow<'a, str>> {
        self.head[..self.head_len].iter().chain(&self.rest)
    }
}

impl<'a> Params<'a> {
    fn push(&mut self, s: Cow<'a, str>) {
        if s.is_empty() {
        } else if self.strings.len() < MAX_PARAMS {
            self.strings.push(s);
        } else {
            self.more = true;
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Params<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut out = Params::default();
        d.deserialize_any(Collect(&mut out, 0))?;
        Ok(out)
    }
}

/// How deep in requestParameters strings are collected. Deeper values are skipped (the
/// record is marked `more`, so `resource:` reads it), as the JSON parser refuses to build
/// values nested much deeper, while a record nested so is still valid and kept.
const MAX_PARAMS_DEPTH: usize = 48;

/// Walks a value, pushing its strings into a [`Params`]; the depth it is at.
struct Collect<'p, 'a>(&'p mut Params<'a>, usize);

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for Collect<'_, 'a> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Collect<'_, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        self.0.push(Cow::Borrowed(v));
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.push(Cow::Owned(v.to_owned()));
        Ok(())
    }
    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.0.push(Cow::Owned(v));
        Ok(())
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
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.1 >= MAX_PARAMS_DEPTH {
            self.0.more = true;
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        while seq.next_element_seed(Collect(&mut *self.0, self.1 + 1))?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.1 >= MAX_PARAMS_DEPTH {
            self.0.more = true;
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(Collect(&mut *self.0, self.1 + 1))?;
        }
        Ok(())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
/// `userIdentity.sessionContext.sessionIssuer`.
pub struct Issuer<'a> {
    #[serde(borrow, rename = "type")]
    /// type
    pub kind: Lenient<'a>,
    #[serde(borrow, rename = "userName")]
    /// userName
    pub user_name: Lenient<'a>,
    #[serde(borrow)]
    /// arn
    pub arn: Lenient<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
/// `userIdentity.sessionContext`.
pub struct SessionContext<'a> {
    #[serde(borrow, rename = "sessionIssuer")]
    /// sessionIssuer
    pub issuer: Obj<Issuer<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
/// `userIdentity`.
pub struct Identity<'a> {
    #[serde(borrow, rename = "type")]
    /// type
    pub kind: Lenient<'a>,
    #[serde(borrow, rename = "principalId")]
    /// principalId
    pub principal_id: Lenient<'a>,
    #[serde(borrow)]
    /// arn
    pub arn: Lenient<'a>,
    #[serde(borrow, rename = "accountId")]
    /// accountId
    pub account_id: Lenient<'a>,
    #[serde(borrow, rename = "accessKeyId")]
    /// accessKeyId
    pub access_key_id: Lenient<'a>,
    #[serde(borrow, rename = "userName")]
    /// userName
    pub user_name: Lenient<'a>,
    #[serde(borrow, rename = "invokedBy")]
    /// invokedBy
    pub invoked_by: Lenient<'a>,
    #[serde(borrow, rename = "sessionContext")]
    /// sessionContext
    pub session: Obj<SessionContext<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
/// One of `resources`.
pub struct Resource<'a> {
    #[serde(borrow, rename = "ARN")]
    /// ARN
    pub arn: Lenient<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
/// `insightDetails` of a CloudTrail Insights event.
pub struct InsightDetails<'a> {
    #[serde(borrow)]
    /// state
    pub state: Lenient<'a>,
    #[serde(borrow, rename = "eventName")]
    /// eventName
    pub event_name: Lenient<'a>,
    #[serde(borrow, rename = "eventSource")]
    /// eventSource
    pub event_source: Lenient<'a>,
    #[serde(borrow, rename = "insightType")]
    /// insightType
    pub insight_type: Lenient<'a>,
}

/// The summary fields of one record.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RecordFields<'a> {
    #[serde(borrow, rename = "eventTime")]
    /// eventTime
    pub event_time: Lenient<'a>,
    #[serde(borrow, rename = "eventName")]
    /// eventName
    pub event_name: Lenient<'a>,
    #[serde(borrow, rename = "eventSource")]
    /// eventSource
    pub event_source: Lenient<'a>,
    #[serde(borrow, rename = "awsRegion")]
    /// awsRegion
    pub region: Lenient<'a>,
    #[serde(borrow, rename = "sourceIPAddress")]
    /// sourceIPAddress
    pub source_ip: Lenient<'a>,
    #[serde(borrow, rename = "userAgent")]
    /// userAgent
    pub user_agent: Lenient<'a>,
    #[serde(borrow, rename = "errorCode")]
    /// errorCode
    pub error_code: Lenient<'a>,
    #[serde(borrow, rename = "requestID")]
    /// requestID
    pub request_id: Lenient<'a>,
    #[serde(borrow, rename = "eventID")]
    /// eventID
    pub event_id: Lenient<'a>,
    #[serde(borrow, rename = "readOnly")]
    /// readOnly (a boolean, or a string in some exports)
    pub read_only: Lenient<'a>,
    #[serde(borrow, rename = "eventType")]
    /// eventType
    pub event_type: Lenient<'a>,
    #[serde(borrow, rename = "eventCategory")]
    /// eventCategory
    pub category: Lenient<'a>,
    #[serde(borrow, rename = "recipientAccountId")]
    /// recipientAccountId
    pub recipient_account: Lenient<'a>,
    #[serde(borrow, rename = "userIdentity")]
    /// userIdentity
    pub identity: Obj<Identity<'a>>,
    #[serde(borrow)]
    /// resources
    pub resources: Objs<Resource<'a>>,
    #[serde(borrow, rename = "insightDetails")]
    /// insightDetails
    pub insight: Obj<InsightDetails<'a>>,
    #[serde(borrow, rename = "requestParameters")]
    /// The string values of requestParameters
    pub params: Params<'a>,
}

impl<'a> RecordFields<'a> {
    /// The top-level keys these fields are read from. A record that repeats one of them is
    /// not parsed (serde refuses a duplicate field), so a record parsed holds each at most once.
    pub const KEYS: [&'static str; 17] = [
        "eventTime",
        "eventName",
        "eventSource",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "errorCode",
        "requestID",
        "eventID",
        "readOnly",
        "eventType",
        "eventCategory",
        "recipientAccountId",
        "userIdentity",
        "resources",
        "insightDetails",
        "requestParameters",
    ];

    /// Parses the summary of one record. The input must be a JSON object.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, RecordError> {
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => {}
            Some(_) => return Err(RecordError::NotAnObject),
            None => return Err(RecordError::Empty),
        }
        if bytes.len() > max_record_len() {
            return Err(RecordError::TooLarge(max_record_len()));
        }
        let quick = simdutf8::basic::from_utf8(bytes).ok().and_then(|text| {
            let (r, end) = record_at(text, 0)?;
            bytes[end..].iter().all(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t')).then_some(r)
        });
        let r = match quick {
            Some(r) => r,
            None => serde_json::from_slice(bytes).map_err(RecordError::Json)?,
        };
        if !r.is_record() {
            return Err(RecordError::NotARecord);
        }
        Ok(r)
    }

    /// Whether the object has any of the fields every record has.
    pub fn is_record(&self) -> bool {
        self.event_time.is_some() || self.event_name.is_some() || self.event_source.is_some() || self.event_id.is_some()
    }

    /// The principal shown in the list: userName, else the ARN's last part, else invokedBy.
    pub fn principal(&self) -> Cow<'_, str> {
        let Some(id) = &self.identity.0 else {
            return Cow::Borrowed("");
        };
        // The root user: some of its records carry the account's alias as userName, which
        // would read as an IAM user's name.
        if id.kind.as_str() == "Root" {
            return Cow::Borrowed("root");
        }
        if id.user_name.is_some() {
            return Cow::Borrowed(id.user_name.as_str());
        }
        if id.arn.is_some() {
            return Cow::Borrowed(arn_last_part(id.arn.as_str()));
        }
        if id.invoked_by.is_some() {
            return Cow::Borrowed(id.invoked_by.as_str());
        }
        if let Some(issuer) = id.session.0.as_ref().and_then(|s| s.issuer.0.as_ref()) {
            if issuer.user_name.is_some() {
                return Cow::Borrowed(issuer.user_name.as_str());
            }
        }
        if id.principal_id.is_some() {
            return Cow::Borrowed(id.principal_id.as_str());
        }
        Cow::Borrowed(id.account_id.as_str())
    }

    /// eventSource, or for an Insights record the source of the API it concerns.
    pub fn display_source(&self) -> &str {
        match &self.insight.0 {
            Some(ins) if !self.event_source.is_some() => ins.event_source.as_str(),
            _ => self.event_source.as_str(),
        }
    }

    /// The list's event name. An Insights record shows the API it concerns, its insight type
    /// and its state: `DeleteBucket · ApiCallRateInsight Start`.
    pub fn display_name(&self) -> Cow<'_, str> {
        if let Some(ins) = &self.insight.0 {
            let api = if ins.event_name.is_some() { ins.event_name.as_str() } else { self.event_name.as_str() };
            return Cow::Owned(
                format!("{api} · {} {}", ins.insight_type.as_str(), ins.state.as_str()).trim_end().to_string(),
            );
        }
        Cow::Borrowed(self.event_name.as_str())
    }
}

/// `arn:aws:iam::123:user/alice` -> `alice`; `...:assumed-role/Admin/s` -> `Admin/s`;
/// `...:root` -> `root`. Anything that is not an ARN is returned whole.
pub fn arn_last_part(arn: &str) -> &str {
    // What follows the fifth colon, the first closing `arn`. (Bytes, not characters: this
    // runs for nearly every record, and a colon is one byte in UTF-8.)
    let mut colons = arn.bytes().enumerate().filter(|&(_, b)| b == b':').map(|(i, _)| i);
    if !arn.starts_with("arn") || colons.next() != Some(3) {
        return arn;
    }
    let Some(resource) = colons.nth(3).and_then(|at| arn.get(at + 1..)) else {
        return arn;
    };
    for prefix in ["user/", "assumed-role/", "role/", "federated-user/", "group/"] {
        if let Some(rest) = resource.strip_prefix(prefix) {
            if !rest.is_empty() {
                return rest;
            }
        }
    }
    resource
}

/// The default of [`max_record_len`]: real records are a few kilobytes, the largest a few
/// hundred.
pub const DEFAULT_MAX_RECORD: usize = 64 << 20;

static MAX_RECORD: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(DEFAULT_MAX_RECORD);

/// The longest record read (bytes as stored); a longer one is skipped and named, so that one
/// hostile record cannot take the memory of a load.
pub fn max_record_len() -> usize {
    MAX_RECORD.load(std::sync::atomic::Ordering::Relaxed)
}

/// The most [`max_record_len`] can be: 2 GiB - 1 (lengths are kept in 31 bits beside a flag
/// in the archive index).
pub const MAX_RECORD_LEN: usize = (1 << 31) - 1;

/// Sets [`max_record_len`] for the process (`--max-record-size`); at most [`MAX_RECORD_LEN`].
pub fn set_max_record_len(n: usize) {
    MAX_RECORD.store(n.min(MAX_RECORD_LEN), std::sync::atomic::Ordering::Relaxed);
}

/// A size as people say it: `64 MiB`, `2 GiB`, or bytes.
pub fn size_text(n: usize) -> String {
    if n >= 1 << 30 && n % (1 << 30) == 0 {
        format!("{} GiB", n >> 30)
    } else if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n % (1 << 10) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// Why a value is not read as a record.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("not a JSON object")]
    /// Not a JSON object.
    NotAnObject,
    #[error("empty")]
    /// Nothing but whitespace.
    Empty,
    #[error("an object with none of eventTime, eventName, eventSource, eventID")]
    /// An object without any of the fields a record has.
    NotARecord,
    #[error("larger than {} (the limit of one record; --max-record-size)", size_text(*.0))]
    /// Longer than the limit of one record (the limit).
    TooLarge(usize),
    #[error("invalid JSON: {0}")]
    /// JSON that does not parse.
    Json(serde_json::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_fields() {
        let raw = br#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","readOnly":"true","awsRegion":5,
            "userIdentity":"weird","resources":{"a":1},"requestParameters":{"deep":[1,{"x":null}]}}"#;
        let r = RecordFields::parse(raw).unwrap();
        assert_eq!(r.read_only.as_str(), "true");
        assert_eq!(r.region.as_str(), "5");
        assert!(r.identity.0.is_none());
        assert!(r.resources.0.is_empty());
    }

    #[test]
    fn an_arn_s_last_part_is_its_resource_without_the_kind() {
        let cases = [
            ("arn:aws:iam::123:user/alice", "alice"),
            ("arn:aws:sts::123:assumed-role/Admin/s", "Admin/s"),
            ("arn:aws:iam::123:root", "root"),
            ("arn:aws:iam::123:role/", "role/"),
            ("arn:aws:s3:::bucket/key:with:colons", "bucket/key:with:colons"),
            ("arn:aws:logs:eu-west-1:123:log-group:/ecs/a:*", "log-group:/ecs/a:*"),
            ("arn:aws:iam::123:", ""),
            ("arn:aws:iam::123", "arn:aws:iam::123"),
            ("arn", "arn"),
            ("arn:", "arn:"),
            ("ARN:aws:iam::123:user/alice", "ARN:aws:iam::123:user/alice"),
            ("AIDAEXAMPLE", "AIDAEXAMPLE"),
            ("", ""),
            ("arn:aws:iam::123:user/é", "é"),
        ];
        for (arn, want) in cases {
            assert_eq!(arn_last_part(arn), want, "{arn}");
        }
    }

    #[test]
    fn principals() {
        let p = |j: &str| RecordFields::parse(j.as_bytes()).unwrap().principal().into_owned();
        assert_eq!(
            p(
                r#"{"eventName":"a","userIdentity":{"type":"IAMUser","userName":"alice","arn":"arn:aws:iam::1:user/alice"}}"#
            ),
            "alice"
        );
        assert_eq!(
            p(
                r#"{"eventName":"a","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/Admin/bob"}}"#
            ),
            "Admin/bob"
        );
        assert_eq!(p(r#"{"eventName":"a","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"}}"#), "root");
        assert_eq!(
            p(r#"{"eventName":"a","userIdentity":{"type":"Root","userName":"my-alias","arn":"arn:aws:iam::1:root"}}"#),
            "root",
            "the account alias is not a user's name"
        );
        assert_eq!(
            p(r#"{"eventName":"a","userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"}}"#),
            "ec2.amazonaws.com"
        );
        assert_eq!(p(r#"{"eventName":"a"}"#), "");
    }

    #[test]
    fn insights_show_type_state_and_api() {
        let r = RecordFields::parse(br#"{"eventVersion":"1.07","eventTime":"2024-01-01T00:00:00Z","eventType":"AwsCloudTrailInsight",
            "eventCategory":"Insight","insightDetails":{"state":"Start","eventSource":"s3.amazonaws.com","eventName":"DeleteBucket",
            "insightType":"ApiCallRateInsight"}}"#).unwrap();
        assert_eq!(r.display_name(), "DeleteBucket · ApiCallRateInsight Start");
        assert_eq!(r.display_source(), "s3.amazonaws.com");
    }

    #[test]
    fn rejects_non_records() {
        assert!(matches!(RecordFields::parse(b"[1,2]"), Err(RecordError::NotAnObject)));
        // Each of KEYS at most once (detections stop reading a record once they have seen them).
        for k in RecordFields::KEYS {
            let twice = format!(r#"{{"eventVersion":"1.08","eventID":"x","{k}":{{}},"{k}":"again"}}"#);
            assert!(RecordFields::parse(twice.as_bytes()).is_err(), "{k}");
        }
        assert!(matches!(RecordFields::parse(br#"{"hello":"world"}"#), Err(RecordError::NotARecord)));
        assert!(matches!(RecordFields::parse(b"{\"eventName\":"), Err(RecordError::Json(_))));
    }
}
