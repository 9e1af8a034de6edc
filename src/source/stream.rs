//! Parsing content too large to hold whole, as it is read: a trail log (`{"Records":[...]}`
//! with `Records` first), a JSON array of records, or JSON Lines. Memory is a read buffer and
//! the record at hand (at most [`max_record_len`] bytes: a longer one is skipped and named),
//! whatever the content's size. Records are the same as the whole-content parsers find, at
//! the same offsets.

use super::files::{InputKind, ParseError, ParseOutcome, Parsed};
use crate::model::raw::{describe_non_json, MAX_CONTENT};
use crate::model::record::{max_record_len, RecordError, RecordFields};
use crate::model::scan::ValueEnd;
use std::io::Read;

/// How much is read at a time.
const BLOCK: usize = 1 << 20;

/// Reads records from `input` until its end, calling `on_record` for each; the outcome and
/// the bytes read. What the input is decided from its first bytes: anything but JSON ends
/// it at once. Damage after some records keeps them, said in the outcome (read in part).
pub fn parse_stream(
    input: &mut dyn Read,
    on_record: &mut dyn FnMut(Parsed<'_, '_>),
) -> Result<(ParseOutcome, u64), ParseError> {
    let mut s = Scanner::new(input);
    s.skip_bom();
    s.skip_ws();
    let outcome = match s.peek() {
        None => return Err(ParseError::Empty),
        Some(b'[') => {
            s.pos += 1;
            s.elements(InputKind::Array, "element", on_record)
        }
        Some(b'{') if s.records_key() => s.elements(InputKind::TrailLog, "Records", on_record),
        Some(b'{') if s.first_key_is(b"\"Events\"") => {
            return Err(ParseError::NotCloudTrail(format!(
                "lookup-events output larger than {} is not read (as JSON Lines it is: jq -c '.Events[]')",
                crate::model::record::size_text(WHOLE_LIMIT_HINT)
            )))
        }
        Some(b'{') => s.lines(on_record),
        Some(_) => {
            s.fill_to(s.pos + 8);
            return Err(ParseError::NotJson(describe_non_json(&s.buf[s.pos..])));
        }
    }?;
    Ok((outcome, s.base + s.pos as u64))
}

/// What the whole-content parsers are given at most, for the message of the one shape not
/// read as a stream.
const WHOLE_LIMIT_HINT: usize = 64 << 20;

/// A window on the input: `buf[pos..]` is what is read and not yet taken; `base` is the
/// input offset of `buf[0]`. What reads a stream, and what plans a big trail log's parts
/// ([`super::split::plan_elements`]).
pub(super) struct Scanner<'a> {
    input: &'a mut dyn Read,
    buf: Vec<u8>,
    pos: usize,
    base: u64,
    eof: bool,
    /// Why reading stopped early, when a read failed (the content ends there).
    pub(super) read_error: Option<std::io::Error>,
}

/// Why scanning stopped before the input's end.
pub(super) enum Stop {
    /// Not JSON where a value or a separator should be (the offset, what was found).
    Damaged(u64, String),
    /// The input ended inside a value.
    Truncated,
    /// More than the content limit.
    TooLarge,
}

impl Stop {
    pub(super) fn describe(&self) -> String {
        match self {
            Stop::Damaged(at, what) => format!("invalid JSON at byte {at}: {what}"),
            Stop::Truncated => "the content ends in the middle of a record".into(),
            Stop::TooLarge => format!("larger than {} GiB", MAX_CONTENT >> 30),
        }
    }
}

impl<'a> Scanner<'a> {
    pub(super) fn new(input: &'a mut dyn Read) -> Self {
        Scanner { input, buf: Vec::with_capacity(BLOCK), pos: 0, base: 0, eof: false, read_error: None }
    }

    pub(super) fn skip_bom(&mut self) {
        if self.starts_with(b"\xef\xbb\xbf") {
            self.pos += 3;
        }
    }

    /// Takes the byte `peek` saw.
    pub(super) fn advance(&mut self) {
        self.pos += 1;
    }

    /// Reads more, keeping `buf[pos..]`; false at the end of the input.
    fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        // What was taken goes once it is a block: the look-ahead at the start of the content
        // (a BOM, the first key) never loses what it may go back to.
        if self.pos >= BLOCK {
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + BLOCK, 0);
        let n = loop {
            match self.input.read(&mut self.buf[len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // A read error (damaged gzip, a file cut short) ends the content here.
                Err(e) => {
                    self.read_error = Some(e);
                    break 0;
                }
            }
        };
        self.buf.truncate(len + n);
        self.eof = n == 0;
        n > 0
    }

    /// Reads until `buf` holds at least `end` bytes or the input ends.
    fn fill_to(&mut self, end: usize) {
        while self.buf.len() < end && self.fill() {}
    }

    pub(super) fn peek(&mut self) -> Option<u8> {
        if self.pos >= self.buf.len() && !self.fill() {
            return None;
        }
        self.buf.get(self.pos).copied()
    }

    fn starts_with(&mut self, lit: &[u8]) -> bool {
        self.fill_to(self.pos + lit.len());
        self.buf[self.pos..].starts_with(lit)
    }

    pub(super) fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    pub(super) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Whether the object starting here opens with `"Records": [`; if so, takes that much.
    pub(super) fn records_key(&mut self) -> bool {
        let start = self.pos;
        self.pos += 1;
        self.skip_ws();
        if self.starts_with(b"\"Records\"") {
            self.pos += 9;
            self.skip_ws();
            if self.peek() == Some(b':') {
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(b'[') {
                    self.pos += 1;
                    return true;
                }
            }
        }
        self.pos = start;
        false
    }

    /// Whether the object starting here has `key` first (nothing is taken).
    fn first_key_is(&mut self, key: &[u8]) -> bool {
        let start = self.pos;
        self.pos += 1;
        self.skip_ws();
        let yes = self.starts_with(key);
        self.pos = start;
        yes
    }

    /// The elements of an array whose `[` was taken, each a record or skipped with its reason;
    /// then the end of the content.
    fn elements(
        &mut self,
        kind: InputKind,
        what: &str,
        on_record: &mut dyn FnMut(Parsed<'_, '_>),
    ) -> Result<ParseOutcome, ParseError> {
        let mut out = ParseOutcome::new(kind);
        let mut rec = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return self.end(kind, out);
        }
        for i in 0.. {
            self.skip_ws();
            let start = self.offset();
            match self.value(&mut rec) {
                Err(stop) => {
                    out.skip(format!("{what}[{i}]: {}; the rest is not read", stop.describe()));
                    return Ok(out);
                }
                Ok(false) => out.skip(format!("{what}[{i}]: {}", RecordError::TooLarge(max_record_len()))),
                Ok(true) => {
                    take(&rec, start, &mut out, &|| format!("{what}[{i}]"), on_record);
                }
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return self.end(kind, out);
                }
                found => {
                    let stop = self.damaged(found, "',' or ']'");
                    out.skip(format!("after {what}[{i}]: {}; the rest is not read", stop.describe()));
                    return Ok(out);
                }
            }
        }
        unreachable!("the loop returns")
    }

    /// After the records: a trail log's closing brace, then nothing but whitespace.
    fn end(&mut self, kind: InputKind, mut out: ParseOutcome) -> Result<ParseOutcome, ParseError> {
        self.skip_ws();
        if kind == InputKind::TrailLog {
            if self.peek() != Some(b'}') {
                let found = self.peek();
                out.skip(format!("after the records: {}", self.damaged(found, "'}'").describe()));
                return Ok(out);
            }
            self.pos += 1;
            self.skip_ws();
        }
        if let Some(b) = self.peek() {
            out.skip(format!("after the records: {}", self.damaged(Some(b), "the end").describe()));
        }
        if out.records == 0 && out.skipped_count > 0 && kind == InputKind::Array {
            return Err(ParseError::NotCloudTrail(format!(
                "a JSON array whose elements are not records ({})",
                out.skipped.join("; ")
            )));
        }
        Ok(out)
    }

    fn damaged(&mut self, found: Option<u8>, expected: &str) -> Stop {
        damaged_at(self.offset(), found, expected)
    }

    /// JSON Lines: each line a record, or skipped with its reason.
    fn lines(&mut self, on_record: &mut dyn FnMut(Parsed<'_, '_>)) -> Result<ParseOutcome, ParseError> {
        let mut out = ParseOutcome::new(InputKind::JsonLines);
        let mut items = 0;
        let mut line = Vec::new();
        for n in 1.. {
            let start = self.offset();
            let (complete, more) = self.line(&mut line);
            if self.offset() > MAX_CONTENT {
                out.skip(format!("line {n}: {}; the rest is not read", Stop::TooLarge.describe()));
                break;
            }
            let trimmed = trim(&line);
            if !complete {
                out.skip(format!("line {n}: {}", RecordError::TooLarge(max_record_len())));
            } else if !trimmed.is_empty() {
                let lead = line.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0) as u64;
                let records = out.records;
                if take(trimmed, start + lead, &mut out, &|| format!("line {n}"), on_record) {
                    items += out.records - records;
                }
            }
            if !more {
                break;
            }
        }
        if items > 0 && items == out.records {
            out.kind = InputKind::LookupEvents;
        }
        if out.records == 0 {
            return Err(ParseError::NotCloudTrail(format!("no line is a record ({})", out.skipped.join("; "))));
        }
        Ok(out)
    }

    /// The next line into `line` (without its newline): whether it was kept whole (not longer
    /// than a record may be), and whether more follows.
    fn line(&mut self, line: &mut Vec<u8>) -> (bool, bool) {
        line.clear();
        let max = max_record_len();
        let mut whole = true;
        loop {
            if self.pos >= self.buf.len() && !self.fill() {
                return (whole, false);
            }
            let rest = &self.buf[self.pos..];
            let (part, newline) = match memchr::memchr(b'\n', rest) {
                Some(i) => (&rest[..i], true),
                None => (rest, false),
            };
            if whole && line.len() + part.len() <= max {
                line.extend_from_slice(part);
            } else {
                whole = false;
                line.clear();
            }
            self.pos += part.len() + newline as usize;
            if newline {
                return (whole, true);
            }
        }
    }

    /// Takes the JSON value starting here into `rec` (cleared first): `Ok(true)` when it was
    /// kept, `Ok(false)` when it was longer than a record may be (taken, not kept).
    fn value(&mut self, rec: &mut Vec<u8>) -> Result<bool, Stop> {
        rec.clear();
        let max = max_record_len();
        let mut keep = true;
        self.take_value(&mut |bytes| {
            if keep && rec.len() + bytes.len() <= max {
                rec.extend_from_slice(bytes);
            } else {
                keep = false;
                rec.clear();
            }
        })?;
        Ok(keep)
    }

    /// Takes the JSON value starting here, handing its bytes to `sink` piece by piece; its
    /// length. Where it ends is found as a split trail log's elements are ([`super::scan`]).
    pub(super) fn take_value(&mut self, sink: &mut dyn FnMut(&[u8])) -> Result<u64, Stop> {
        let first = self.peek().ok_or(Stop::Truncated)?;
        let Some(mut scan) = ValueEnd::start(first) else {
            return Err(self.damaged(Some(first), "a value"));
        };
        let begin = self.offset();
        loop {
            if self.pos >= self.buf.len() && !self.fill() {
                return Err(Stop::Truncated);
            }
            if self.offset() > MAX_CONTENT {
                return Err(Stop::TooLarge);
            }
            let start = self.pos;
            let end = scan.feed(&self.buf[start..]).map(|i| start + i);
            let stop = end.unwrap_or(self.buf.len());
            sink(&self.buf[start..stop]);
            self.pos = stop;
            if end.is_some() {
                return Ok(self.offset() - begin);
            }
        }
    }
}

/// A value found at input offset `start`: a record (or a lookup-events item holding one)
/// handed to `on_record`, or skipped with why. Whether it was a lookup-events item.
fn take(
    bytes: &[u8],
    start: u64,
    out: &mut ParseOutcome,
    what: &dyn Fn() -> String,
    on_record: &mut dyn FnMut(Parsed<'_, '_>),
) -> bool {
    super::files::take_parsed(RecordFields::parse(bytes), bytes, start, what, out, on_record)
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &b[start..end]
}

/// Why reading stopped at input offset `at`, where `expected` was due and `found` stood.
pub(super) fn damaged_at(at: u64, found: Option<u8>, expected: &str) -> Stop {
    match found {
        None => Stop::Truncated,
        Some(b) => Stop::Damaged(at, format!("expected {expected}, found {}", describe_byte(b))),
    }
}

pub(super) fn describe_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("byte {b:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::files::parse_content;

    /// A reader that hands over one byte at a time: every boundary falls everywhere once.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(slot)) => {
                    *slot = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    /// Records found: offset, length, name.
    type Found = Vec<(u64, u32, String)>;

    /// What each parser finds: the records, and how many parts the stream skipped.
    fn both(input: &[u8]) -> (Found, Found, usize) {
        let mut streamed = Vec::new();
        let (out, bytes) = parse_stream(&mut &input[..], &mut |p| {
            streamed.push((p.span.offset, p.span.len, p.fields.event_name.as_str().to_string()))
        })
        .unwrap();
        assert_eq!(bytes, input.len() as u64);
        let mut trickled = Vec::new();
        parse_stream(&mut Trickle(input), &mut |p| {
            trickled.push((p.span.offset, p.span.len, p.fields.event_name.as_str().to_string()))
        })
        .unwrap();
        assert_eq!(trickled, streamed, "read a byte at a time");
        let mut whole = Vec::new();
        parse_content(input, &mut |p| {
            whole.push((p.span.offset, p.span.len, p.fields.event_name.as_str().to_string()))
        })
        .unwrap();
        (streamed, whole, out.skipped_count)
    }

    #[test]
    fn a_stream_finds_what_the_whole_content_parsers_find() {
        for input in [
            &b"\xef\xbb\xbf { \"Records\" :\n [ {\"eventName\" : \"A\"} ,\n{\"eventID\":\"x\",\"s\":\"}]\\\"{\"} ] }\n"
                [..],
            br#"{"Records":[1,{"eventName":"A"},"x",{"hello":1},[{"eventName":"D"}],{"eventName":"B"}]}"#,
            br#"{"Records":[]}"#,
            b"[{\"eventName\":\"A\"}, {\"eventName\":\"B\"}]",
            b"{\"eventName\":\"A\"}\n\n  {\"eventName\":\"B\"}  \r\n{broken\n{\"eventName\":\"C\"}",
            br#"{"EventId":"1","EventTime":"2022-02-08 09:23:37+11:00","CloudTrailEvent":"{\"eventName\":\"A\"}"}
{"EventId":"2","CloudTrailEvent":{"eventName":"B"}}
{"EventId":"3","EventName":"C"}"#,
        ] {
            let (streamed, whole, _) = both(input);
            assert_eq!(streamed, whole, "{}", String::from_utf8_lossy(input));
            assert!(!whole.is_empty() || input.len() < 20, "{}", String::from_utf8_lossy(input));
        }
        // Lookup-events items as lines: the record inside each, where it is in the content.
        let input = br#"{"EventId":"1","EventTime":"1","CloudTrailEvent":"{\"eventName\":\"A\"}"}
{"EventId":"2","CloudTrailEvent":{"eventName":"B"}}"#;
        let (streamed, _, skipped) = both(input);
        assert_eq!(skipped, 0);
        let names: Vec<&str> = streamed.iter().map(|f| f.2.as_str()).collect();
        assert_eq!(names, ["A", "B"]);
        let (off, len) = (streamed[1].0 as usize, streamed[1].1 as usize);
        assert_eq!(&input[off..off + len], br#"{"eventName":"B"}"#);
    }

    #[test]
    fn a_stream_says_early_what_is_not_json_and_keeps_records_before_damage() {
        let zeros = vec![0u8; 3 * BLOCK];
        let e = parse_stream(&mut &zeros[..], &mut |_| {}).unwrap_err();
        assert!(e.to_string().starts_with("not JSON (binary content starting with bytes 00 00"), "{e}");
        let mut n = 0;
        let (out, _) =
            parse_stream(&mut &br#"{"Records":[{"eventName":"A"},{"eventName":"B"} x"#[..], &mut |_| n += 1).unwrap();
        assert_eq!(n, 2);
        assert!(out.skipped[0].contains("invalid JSON at byte"), "{:?}", out.skipped);
        let (out, _) = parse_stream(&mut &br#"[{"eventName":"A"},{"eventName":"B"#[..], &mut |_| n += 1).unwrap();
        assert!(out.skipped[0].contains("ends in the middle"), "{:?}", out.skipped);
    }
}
