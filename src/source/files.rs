//! Recognising and parsing the kinds of input trailscope reads, by content:
//! trail log files (`{"Records":[...]}`), digest files, bare arrays of records, JSON Lines,
//! single records, and `aws cloudtrail lookup-events` output (`{"Events":[...]}`).

use crate::model::raw::{describe_non_json, ByteSpan};
use crate::model::record::{max_record_len, Lenient, RecordError, RecordFields};
use crate::model::time::parse_event_time;
use crate::sanitize::sanitize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// The kinds of input recognised, by content.
pub enum InputKind {
    /// `{"Records":[...]}`, as S3 delivers trail logs.
    TrailLog,
    /// A trail's digest file: counted, holds no events.
    Digest,
    /// A bare JSON array of records.
    Array,
    /// One record per line.
    JsonLines,
    /// One record, alone.
    SingleRecord,
    /// `aws cloudtrail lookup-events` output: `{"Events":[...]}`.
    LookupEvents,
}

impl InputKind {
    const ALL: [InputKind; 6] = [
        InputKind::TrailLog,
        InputKind::Digest,
        InputKind::Array,
        InputKind::JsonLines,
        InputKind::SingleRecord,
        InputKind::LookupEvents,
    ];
    /// A stable number for the archive index.
    pub fn code(self) -> u8 {
        Self::ALL.iter().position(|k| *k == self).unwrap_or(0) as u8
    }
    /// The kind of a [`InputKind::code`].
    pub fn from_code(c: u8) -> Option<InputKind> {
        Self::ALL.get(c as usize).copied()
    }
    /// The kind in words, for the user.
    pub fn describe(self) -> &'static str {
        match self {
            InputKind::TrailLog => "CloudTrail log file",
            InputKind::Digest => "CloudTrail digest file",
            InputKind::Array => "JSON array of records",
            InputKind::JsonLines => "JSON Lines of records",
            InputKind::SingleRecord => "single record",
            InputKind::LookupEvents => "lookup-events output",
        }
    }
}

/// One parsed record as handed to the caller.
pub struct Parsed<'r, 'a> {
    /// Where the record is in the content.
    pub span: ByteSpan,
    /// The record's summary fields.
    pub fields: &'r RecordFields<'a>,
    /// The record's own bytes (unescaped for lookup-events output).
    pub bytes: &'r [u8],
    /// lookup-events `EventTime`, used when the record itself has no readable eventTime.
    pub fallback_time: Option<i64>,
}

#[derive(Debug)]
/// What parsing an input found.
pub struct ParseOutcome {
    /// What kind of input it is.
    pub kind: InputKind,
    /// How many records were read.
    pub records: usize,
    /// Parts of the input that were skipped, each with its reason (bad lines, non-records).
    pub skipped: Vec<String>,
    /// How many parts were skipped (more than are described).
    pub skipped_count: usize,
}

const MAX_REPORTED: usize = 5;

impl ParseOutcome {
    pub(super) fn new(kind: InputKind) -> Self {
        Self { kind, records: 0, skipped: Vec::new(), skipped_count: 0 }
    }
    pub(super) fn skip(&mut self, what: String) {
        self.skipped_count += 1;
        if self.skipped.len() < MAX_REPORTED {
            self.skipped.push(what);
        }
    }
    /// One line summary of what was skipped, if anything.
    pub fn skipped_summary(&self) -> Option<String> {
        if self.skipped_count == 0 {
            return None;
        }
        let mut s = self.skipped.join("; ");
        if self.skipped_count > self.skipped.len() {
            s.push_str(&format!("; and {} more", self.skipped_count - self.skipped.len()));
        }
        Some(skipped_text(self.skipped_count, &s))
    }
}

/// What [`ParseOutcome::skipped_summary`] says of `count` parts skipped, `said` saying which.
pub(super) fn skipped_text(count: usize, said: &str) -> String {
    format!("{count}{SKIPPED}{said}")
}

/// The count and the description of a [`skipped_text`].
pub(super) fn read_skipped_text(s: &str) -> Option<(usize, &str)> {
    let (n, said) = s.split_once(SKIPPED)?;
    Some((n.parse().ok()?, said))
}

const SKIPPED: &str = " part(s) skipped: ";

fn offset_in(buf: &[u8], part: &[u8]) -> u64 {
    (part.as_ptr() as usize - buf.as_ptr() as usize) as u64
}

/// Why an input as a whole is not read: what is wrong with it. Problems with single records
/// are not errors: they are counted in the [`ParseOutcome`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nothing but whitespace.
    #[error("empty file")]
    Empty,
    /// Content that does not start as JSON does (what it starts with, sanitised).
    #[error("{0}")]
    NotJson(String),
    /// JSON that does not parse.
    #[error("invalid JSON at line {line} column {column}: {what}")]
    InvalidJson {
        /// Where, 1-based.
        line: usize,
        /// Where, 1-based.
        column: usize,
        /// What the parser expected or found (sanitised).
        what: String,
    },
    /// JSON that is not a CloudTrail input (what it is instead).
    #[error("not CloudTrail: {0}")]
    NotCloudTrail(String),
    /// An `{"Events": …}` document whose `Events` is not a list.
    #[error("not lookup-events output: {0}")]
    NotLookupEvents(String),
}

fn json_error(e: &serde_json::Error) -> ParseError {
    ParseError::InvalidJson { line: e.line(), column: e.column(), what: sanitize(&strip_position(e)).into_owned() }
}

fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Parses content, calling `on_record` for each record. Errors name what is wrong with the
/// input as a whole; problems with single records are collected in the outcome.
pub fn parse_content(buf: &[u8], on_record: &mut dyn FnMut(Parsed<'_, '_>)) -> Result<ParseOutcome, ParseError> {
    let body = buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(buf);
    let Some(first) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Err(ParseError::Empty);
    };
    match body[first] {
        b'[' => parse_array(buf, body, on_record),
        b'{' => parse_object_or_lines(buf, body, on_record),
        _ => Err(ParseError::NotJson(describe_non_json(&body[first..]))),
    }
}

fn each_record(
    buf: &[u8],
    items: &[&RawValue],
    what: &str,
    out: &mut ParseOutcome,
    on_record: &mut dyn FnMut(Parsed<'_, '_>),
) {
    for (i, item) in items.iter().enumerate() {
        let bytes = item.get().as_bytes();
        let at = offset_in(buf, bytes);
        take_parsed(RecordFields::parse(bytes), bytes, at, &|| format!("{what}[{i}]"), out, on_record);
    }
}

#[inline]
pub(super) fn skip_ws(b: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(pos) {
        pos += 1;
    }
    pos
}

/// The end of the JSON value of type `T` that starts at `pos` (after whitespace), and the value.
/// The text is already known to be UTF-8, so serde does not check each string again.
pub(super) fn value_at<'a, T: Deserialize<'a>>(text: &'a str, pos: usize) -> Option<(T, usize)> {
    let mut stream = serde_json::Deserializer::from_str(text.get(pos..)?).into_iter::<T>();
    let value = stream.next()?.ok()?;
    Some((value, pos + stream.byte_offset()))
}

/// The record that starts at `pos` (a `{`) read into `out`, which holds the defaults, and
/// where it ends: without serde where it can be ([`crate::model::record::read_record`]), else
/// by serde.
pub(super) fn read_record<'a>(text: &'a str, pos: usize, out: &mut RecordFields<'a>) -> Option<usize> {
    if let Some(end) = crate::model::record::read_record(text, pos, out) {
        return Some(end);
    }
    let (fields, end) = value_at::<RecordFields>(text, pos)?;
    *out = fields;
    Some(end)
}

/// The fast path for the common case, a trail log file `{"Records":[{...},...]}`: each record is
/// parsed once, its span read from the parser's position, instead of once as a raw value to
/// find its span and again for its fields (which was a fifth of the load's time).
///
/// Returns `None` for anything else (other top-level keys, damage, trailing data): the caller
/// discards what was reported and goes the general way ([`parse_content`]), which also
/// explains what is wrong. Records that fail on their own are skipped with the same message
/// as there.
pub fn parse_trail_log(buf: &[u8], on_record: &mut dyn FnMut(Parsed<'_, '_>)) -> Option<ParseOutcome> {
    let body = buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(buf);
    let mut pos = skip_ws(body, 0);
    if body.get(pos) != Some(&b'{') {
        return None;
    }
    // One check of the whole content (SIMD) is cheaper than serde's check of each string.
    let text = simdutf8::basic::from_utf8(body).ok()?;
    pos = skip_ws(body, pos + 1);
    if !body.get(pos..)?.starts_with(b"\"Records\"") {
        return None;
    }
    pos = skip_ws(body, pos + 9);
    if body.get(pos) != Some(&b':') {
        return None;
    }
    pos = skip_ws(body, pos + 1);
    if body.get(pos) != Some(&b'[') {
        return None;
    }
    pos = skip_ws(body, pos + 1);
    let mut out = ParseOutcome::new(InputKind::TrailLog);
    if body.get(pos) == Some(&b']') {
        pos += 1;
    } else {
        for i in 0.. {
            let start = pos;
            let mut fields = RecordFields::default();
            let parsed = match body.get(start) {
                Some(b'{') => read_record(text, start, &mut fields),
                _ => None,
            };
            match parsed {
                Some(end) if fields.is_record() && end - start <= max_record_len() => {
                    out.records += 1;
                    let bytes = &body[start..end];
                    let span = ByteSpan { offset: offset_in(buf, bytes), len: bytes.len() as u32, escaped: false };
                    on_record(Parsed { span, fields: &fields, bytes, fallback_time: None });
                    pos = end;
                }
                _ => {
                    // Not a record, or not a valid one: find where the value ends, and say
                    // why exactly as the general path would. Broken JSON ends here.
                    let (_, end) = value_at::<IgnoredAny>(text, start)?;
                    match RecordFields::parse(&body[start..end]) {
                        Err(e) => out.skip(format!("Records[{i}]: {e}")),
                        Ok(_) => return None,
                    }
                    pos = end;
                }
            }
            pos = skip_ws(body, pos);
            match body.get(pos) {
                Some(b',') => pos = skip_ws(body, pos + 1),
                Some(b']') => {
                    pos += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    pos = skip_ws(body, pos);
    if body.get(pos) != Some(&b'}') {
        return None;
    }
    (skip_ws(body, pos + 1) == body.len()).then_some(out)
}

fn parse_array(buf: &[u8], body: &[u8], on_record: &mut dyn FnMut(Parsed<'_, '_>)) -> Result<ParseOutcome, ParseError> {
    let items: Vec<&RawValue> = serde_json::from_slice(body).map_err(|e| json_error(&e))?;
    let mut out = ParseOutcome::new(InputKind::Array);
    each_record(buf, &items, "element", &mut out, on_record);
    if out.records == 0 && out.skipped_count > 0 {
        return Err(ParseError::NotCloudTrail(format!(
            "a JSON array whose elements are not records ({})",
            out.skipped.join("; ")
        )));
    }
    Ok(out)
}

/// A top-level array kept as raw elements, or a note of what stood there instead.
enum RawSeq<'a> {
    Items(Vec<&'a RawValue>),
    NotArray(&'static str),
}

impl<'de: 'a, 'a> Deserialize<'de> for RawSeq<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        macro_rules! not_array {
            ($($f:ident: $t:ty => $name:literal),*) => {$(
                fn $f<E>(self, _: $t) -> Result<Self::Value, E> { Ok(RawSeq::NotArray($name)) }
            )*};
        }
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = RawSeq<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(item) = seq.next_element::<&'de RawValue>()? {
                    items.push(item);
                }
                Ok(RawSeq::Items(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(RawSeq::NotArray("an object"))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(RawSeq::NotArray("null"))
            }
            not_array!(visit_bool: bool => "a boolean", visit_i64: i64 => "a number", visit_u64: u64 => "a number",
                visit_f64: f64 => "a number", visit_str: &str => "a string");
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// What the top level of a single JSON object says about the input.
#[derive(Default)]
struct TopProbe<'a> {
    records: Option<RawSeq<'a>>,
    events: Option<RawSeq<'a>>,
    digest: bool,
    record_like: bool,
    keys: Vec<String>,
}

impl<'de: 'a, 'a> Deserialize<'de> for TopProbe<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = TopProbe<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut p = TopProbe::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match &*key {
                        "Records" => p.records = Some(map.next_value()?),
                        "Events" => p.events = Some(map.next_value()?),
                        "digestStartTime" | "digestEndTime" | "logFiles" | "digestS3Object" => {
                            p.digest = true;
                            map.next_value::<IgnoredAny>()?;
                        }
                        "eventTime" | "eventName" | "eventSource" | "eventID" => {
                            p.record_like = true;
                            map.next_value::<IgnoredAny>()?;
                        }
                        other => {
                            if p.keys.len() < 6 {
                                p.keys.push(sanitize(other).into_owned());
                            }
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(p)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData)).map_err(de::Error::custom)
    }
}

fn parse_object_or_lines(
    buf: &[u8],
    body: &[u8],
    on_record: &mut dyn FnMut(Parsed<'_, '_>),
) -> Result<ParseOutcome, ParseError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let probe = TopProbe::deserialize(&mut de);
    let single = match probe {
        Ok(p) => match de.end() {
            Ok(()) => Some(Ok(p)),
            Err(_) => None,
        },
        Err(e) => Some(Err(e)),
    };
    let lines_of_objects =
        || body.split(|&b| b == b'\n').filter(|l| l.iter().any(|b| !b.is_ascii_whitespace())).take(2).count() > 1;
    match single {
        Some(Ok(p)) => parse_single(buf, body, p, on_record),
        Some(Err(e)) if !lines_of_objects() => Err(json_error(&e)),
        _ => parse_lines(buf, body, on_record),
    }
}

fn parse_single(
    buf: &[u8],
    body: &[u8],
    p: TopProbe<'_>,
    on_record: &mut dyn FnMut(Parsed<'_, '_>),
) -> Result<ParseOutcome, ParseError> {
    if let Some(records) = p.records {
        let items = match records {
            RawSeq::Items(items) => items,
            RawSeq::NotArray(what) => {
                return Err(ParseError::NotCloudTrail(format!("\"Records\" is {what}, not an array")))
            }
        };
        let mut out = ParseOutcome::new(InputKind::TrailLog);
        each_record(buf, &items, "Records", &mut out, on_record);
        return Ok(out);
    }
    if let Some(events) = p.events {
        let items = match events {
            RawSeq::Items(items) => items,
            RawSeq::NotArray(what) => {
                return Err(ParseError::NotLookupEvents(format!("\"Events\" is {what}, not an array")))
            }
        };
        return parse_lookup_events(buf, &items, on_record);
    }
    if p.digest {
        return Ok(ParseOutcome::new(InputKind::Digest));
    }
    if p.record_like {
        let mut out = ParseOutcome::new(InputKind::SingleRecord);
        let trimmed = trim(body);
        let raw: &RawValue = serde_json::from_slice(trimmed).map_err(|e| json_error(&e))?;
        each_record(buf, &[raw], "record", &mut out, on_record);
        return Ok(out);
    }
    let keys = if p.keys.is_empty() { "it is empty".to_string() } else { format!("its keys: {}", p.keys.join(", ")) };
    Err(ParseError::NotCloudTrail(format!("a JSON object without \"Records\", \"Events\" or record fields ({keys})")))
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &b[start..end]
}

fn parse_lines(buf: &[u8], body: &[u8], on_record: &mut dyn FnMut(Parsed<'_, '_>)) -> Result<ParseOutcome, ParseError> {
    let out = json_lines(buf, body, 0, &|n, _| format!("line {n}"), on_record);
    if out.records == 0 {
        return Err(ParseError::NotCloudTrail(format!("no line is a record ({})", out.skipped.join("; "))));
    }
    Ok(out)
}

/// JSON Lines: each line of `body` (a slice of `buf`, whose first byte is at input offset
/// `base`) a record, or skipped with its reason, the line named by `name` from its number
/// (from 1) and offset. Content read whole and the parts of a split file are read this way.
pub(super) fn json_lines(
    buf: &[u8],
    body: &[u8],
    base: u64,
    name: &dyn Fn(usize, u64) -> String,
    on_record: &mut dyn FnMut(Parsed<'_, '_>),
) -> ParseOutcome {
    let mut out = ParseOutcome::new(InputKind::JsonLines);
    let mut items = 0;
    let max = max_record_len();
    // One check of the whole content (SIMD) is cheaper than serde's check of each string, as
    // for trail logs; a line that fails the fast way goes the general one, which says why.
    let text = simdutf8::basic::from_utf8(body).ok();
    // Line ends found by memchr: a byte-by-byte split is a second scan of the content.
    let ends = memchr::memchr_iter(b'\n', body).chain(std::iter::once(body.len()));
    let mut start = 0;
    for (n, end) in ends.enumerate() {
        let line = trim(&body[start..end]);
        start = end + 1;
        if line.is_empty() {
            continue;
        }
        let at = base + offset_in(buf, line);
        let from = offset_in(body, line) as usize;
        // An object only: serde would take an array as the record's fields in order. The text
        // ends with the line, so that a broken line is not read on into the next.
        let until = from + line.len();
        let fast = text.and_then(|t| t.get(..until)).filter(|_| line.len() <= max && line.first() == Some(&b'{'));
        let mut fields = RecordFields::default();
        let whole = fast.and_then(|t| read_record(t, from, &mut fields)).filter(|&end| end == until);
        // A whole object read is a record, or is none (a lookup-events item) without being
        // parsed again; anything else is parsed the general way, which says what is wrong.
        let parsed = match whole {
            Some(_) if fields.is_record() => Ok(fields),
            Some(_) => Err(RecordError::NotARecord),
            None => RecordFields::parse(line),
        };
        let records = out.records;
        if take_parsed(parsed, line, at, &|| name(n + 1, at), &mut out, on_record) {
            items += out.records - records;
        }
    }
    if items > 0 && items == out.records {
        out.kind = InputKind::LookupEvents;
    }
    out
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LookupItem<'a> {
    #[serde(borrow, rename = "CloudTrailEvent")]
    event: Option<&'a RawValue>,
    #[serde(borrow, rename = "EventTime")]
    time: Lenient<'a>,
}

/// `EventTime` is epoch seconds (the CLI's default) or ISO 8601 (`cli_timestamp_format`).
fn lookup_time(s: &str) -> Option<i64> {
    if let Ok(secs) = s.parse::<f64>() {
        return secs.is_finite().then(|| (secs * 1000.0).round() as i64);
    }
    parse_event_time(s)
}

fn parse_lookup_events(
    buf: &[u8],
    items: &[&RawValue],
    on_record: &mut dyn FnMut(Parsed<'_, '_>),
) -> Result<ParseOutcome, ParseError> {
    let mut out = ParseOutcome::new(InputKind::LookupEvents);
    for (i, item) in items.iter().enumerate() {
        let item_bytes = item.get().as_bytes();
        take_lookup_item(item_bytes, offset_in(buf, item_bytes), &|| format!("Events[{i}]"), &mut out, on_record);
    }
    Ok(out)
}

/// One `aws cloudtrail lookup-events` item (an element of `Events`, or a line of
/// `jq -c '.Events[]'`) found at input offset `at`: the record in its `CloudTrailEvent`
/// (a JSON string as the API returns it, or an object) handed to `on_record`, its `EventTime`
/// the fallback time; or skipped with why.
pub(super) fn take_lookup_item(
    item_bytes: &[u8],
    at: u64,
    what: &dyn Fn() -> String,
    out: &mut ParseOutcome,
    on_record: &mut dyn FnMut(Parsed<'_, '_>),
) {
    let parsed: LookupItem = match serde_json::from_slice(item_bytes) {
        Ok(p) => p,
        Err(e) => return out.skip(format!("{}: {}", what(), strip_position(&e))),
    };
    let Some(ev) = parsed.event else {
        return out.skip(format!("{}: no CloudTrailEvent", what()));
    };
    let fallback_time = lookup_time(parsed.time.as_str());
    let ev_bytes = ev.get().as_bytes();
    let offset = at + (ev_bytes.as_ptr() as usize - item_bytes.as_ptr() as usize) as u64;
    if ev_bytes.len() > max_record_len() {
        return out.skip(format!("{}: CloudTrailEvent: {}", what(), RecordError::TooLarge(max_record_len())));
    }
    if ev_bytes.first() == Some(&b'"') {
        let text: String = match serde_json::from_slice(ev_bytes) {
            Ok(t) => t,
            Err(e) => return out.skip(format!("{}: CloudTrailEvent: {}", what(), strip_position(&e))),
        };
        match RecordFields::parse(text.as_bytes()) {
            Ok(fields) => {
                out.records += 1;
                let span = ByteSpan { offset, len: ev_bytes.len() as u32, escaped: true };
                on_record(Parsed { span, fields: &fields, bytes: text.as_bytes(), fallback_time });
            }
            Err(e) => out.skip(format!("{}: CloudTrailEvent: {e}", what())),
        }
    } else {
        match RecordFields::parse(ev_bytes) {
            Ok(fields) => {
                out.records += 1;
                let span = ByteSpan { offset, len: ev_bytes.len() as u32, escaped: false };
                on_record(Parsed { span, fields: &fields, bytes: ev_bytes, fallback_time });
            }
            Err(e) => out.skip(format!("{}: CloudTrailEvent: {e}", what())),
        }
    }
}

/// A value of an array or a line of JSON Lines found at input offset `at`, with its parse as a
/// record (`parsed`, [`RecordFields::parse`] or the record reader's): a record, or an `aws
/// cloudtrail lookup-events` item holding one (`jq -c '.Events[]'` writes those), handed to
/// `on_record`; or skipped with why. Whether it was a lookup-events item.
pub(super) fn take_parsed(
    parsed: Result<RecordFields<'_>, RecordError>,
    bytes: &[u8],
    at: u64,
    what: &dyn Fn() -> String,
    out: &mut ParseOutcome,
    on_record: &mut dyn FnMut(Parsed<'_, '_>),
) -> bool {
    match parsed {
        Ok(fields) => {
            out.records += 1;
            let span = ByteSpan { offset: at, len: bytes.len() as u32, escaped: false };
            on_record(Parsed { span, fields: &fields, bytes, fallback_time: None });
            false
        }
        // Records have camelCase fields; lookup-events items have CloudTrailEvent beside
        // capitalised summary fields, so only an object that is no record is looked at again.
        Err(RecordError::NotARecord) if memchr::memmem::find(bytes, b"\"CloudTrailEvent\"").is_some() => {
            take_lookup_item(bytes, at, what, out, on_record);
            true
        }
        Err(e) => {
            out.skip(format!("{}: {e}", what()));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(input: &[u8]) -> Result<(InputKind, Vec<String>, usize), String> {
        names_typed(input).map_err(|e| e.to_string())
    }

    fn names_typed(input: &[u8]) -> Result<(InputKind, Vec<String>, usize), ParseError> {
        let mut names = Vec::new();
        let out = parse_content(input, &mut |p| {
            let raw = &input[p.span.offset as usize..(p.span.offset + p.span.len as u64) as usize];
            if !p.span.escaped {
                assert_eq!(raw, p.bytes);
            }
            names.push(p.fields.event_name.as_str().to_string())
        })?;
        Ok((out.kind, names, out.skipped_count))
    }

    #[test]
    fn detects_each_kind() {
        let (k, n, _) =
            names(br#"{"Records":[{"eventName":"A","eventTime":"2024-01-01T00:00:00Z"},{"eventName":"B"}]}"#).unwrap();
        assert_eq!((k, n), (InputKind::TrailLog, vec!["A".to_string(), "B".to_string()]));
        let (k, n, _) = names(b"[{\"eventName\":\"A\"}]").unwrap();
        assert_eq!((k, n.len()), (InputKind::Array, 1));
        let (k, n, _) = names(b"{\"eventName\":\"A\"}\n\n{\"eventName\":\"B\"}\n").unwrap();
        assert_eq!((k, n.len()), (InputKind::JsonLines, 2));
        let (k, n, _) = names(b"  {\"eventName\":\"A\"}  ").unwrap();
        assert_eq!((k, n.len()), (InputKind::SingleRecord, 1));
        let (k, n, _) = names(br#"{"awsAccountId":"1","digestStartTime":"x","logFiles":[]}"#).unwrap();
        assert_eq!((k, n.len()), (InputKind::Digest, 0));
        let lookup = br#"{"Events":[{"EventId":"e1","EventTime":1722430001.0,"CloudTrailEvent":"{\"eventName\":\"DeleteTrail\",\"eventID\":\"e1\"}"}]}"#;
        let (k, n, _) = names(lookup).unwrap();
        assert_eq!((k, n), (InputKind::LookupEvents, vec!["DeleteTrail".to_string()]));
    }

    /// Each record of a trail log has its own requestParameters' strings: none carried over
    /// from the record before, whether the next one has requestParameters, null ones, none, or
    /// is read by serde.
    #[test]
    fn each_record_has_its_own_request_parameters() {
        let input = br#"{"Records":[
            {"eventName":"A","requestParameters":{"bucketName":"a-1","key":"a-2"}},
            {"eventName":"B"},
            {"eventName":"C","requestParameters":{"bucketName":"c-1"}},
            {"eventName":"D","requestParameters":null},
            {"eventName":"E","requestParameters":{"x":"e-1","n":80.5}},
            {"eventName":"F","requestParameters":{"y":"f-1"}},
            {"eventName":"G","readOnly":true},
            {"eventName":"H","requestParameters":{"a":"h-1","b":["h-2","h-3",{"c":"h-4"}],"d":"h-5","e":"h-6"}},
            {"eventName":"I","requestParameters":{"a":"i-1"}}
        ]}"#;
        let mut got = Vec::new();
        let out = parse_trail_log(input, &mut |p| {
            let strings = p.fields.params.strings.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            got.push((p.fields.event_name.as_str().to_string(), strings));
        });
        assert!(out.is_some());
        let want = [
            ("A", vec!["a-1", "a-2"]),
            ("B", vec![]),
            ("C", vec!["c-1"]),
            ("D", vec![]),
            ("E", vec!["e-1"]),
            ("F", vec!["f-1"]),
            ("G", vec![]),
            ("H", vec!["h-1", "h-2", "h-3", "h-4", "h-5", "h-6"]),
            ("I", vec!["i-1"]),
        ];
        let want = want.map(|(n, s)| (n.to_string(), s.into_iter().map(String::from).collect::<Vec<_>>()));
        assert_eq!(got, want);
    }

    #[test]
    fn clear_errors() {
        assert_eq!(names(b"").unwrap_err(), "empty file");
        assert!(names(br#"{"hello":"world"}"#).unwrap_err().contains("its keys: hello"));
        assert!(names(br#"{"Records":"nope"}"#).unwrap_err().contains("\"Records\" is a string"));
        assert!(names(b"\x7fELF\x02\x01").unwrap_err().contains("binary"));
        assert!(names(br#"{"Records":[{"eventName":"A"},"#).unwrap_err().contains("invalid JSON at line 1"));
        assert!(names(b"[1,2,3]").unwrap_err().contains("not records"));
    }

    #[test]
    fn fast_path_takes_trail_logs_and_declines_the_rest() {
        let both = |input: &[u8]| {
            let mut fast = Vec::new();
            let out = parse_trail_log(input, &mut |p| fast.push((p.span, p.fields.event_name.as_str().to_string())));
            let mut slow = Vec::new();
            let general =
                parse_content(input, &mut |p| slow.push((p.span, p.fields.event_name.as_str().to_string()))).ok();
            (out.map(|o| (fast, o.skipped)), general.map(|o| (slow, o.skipped)))
        };
        for input in [
            &br#"{"Records":[{"eventName":"A","eventTime":"2024-01-01T00:00:00Z"},{"eventName":"B\"C"}]}"#[..],
            b"\xef\xbb\xbf { \"Records\" :\n [ {\"eventName\" : \"A\"} ,\n{\"eventID\":\"x\"} ] }\n",
            br#"{"Records":[]}"#,
            br#"{"Records":[1,{"eventName":"A"},"x",{"hello":1},{"eventName":"B","eventName":"C"},[{"eventName":"D"}]]}"#,
        ] {
            let (fast, general) = both(input);
            assert!(fast.is_some(), "{}", String::from_utf8_lossy(input));
            assert_eq!(fast, general, "{}", String::from_utf8_lossy(input));
        }
        for input in [
            &br#"{"Records":[{"eventName":"A"}],"x":1}"#[..],
            b"{\"Records\":[{\"eventName\":\"A\"}]}\n{\"Records\":[]}\n",
            br#"{"Records":[{"eventName":"A"},"#,
            br#"{"Records":[{"eventName":"A"} {"eventName":"B"}]}"#,
            br#"{"x":1,"Records":[]}"#,
            br#"{"Records":{}}"#,
            br#"[{"eventName":"A"}]"#,
            b"",
        ] {
            assert!(both(input).0.is_none(), "{}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn bad_lines_are_skipped_not_fatal() {
        let (_, n, skipped) = names(b"{\"eventName\":\"A\"}\n{broken\n{\"eventName\":\"B\"}\n").unwrap();
        assert_eq!(n.len(), 2);
        assert_eq!(skipped, 1);
        // A line that is not a whole record is skipped alone: an unclosed string or object, or
        // something after the object. The lines after it are records of their own.
        let text = b"{\"eventName\":\"A\"}\n{\"eventName\":\"open\n{\"eventName\":\"B\"}\n{\"eventName\":\"C\"} x\n\
            {\"eventName\":\"D\"\n,\"x\":1}\n{\"eventName\":\"E\"}\n";
        let (_, n, skipped) = names(text).unwrap();
        assert_eq!(n, ["A", "B", "E"]);
        assert_eq!(skipped, 4);
    }
}
