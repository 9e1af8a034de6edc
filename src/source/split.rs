//! One big JSON Lines file read on every core: split at line ends into parts that the
//! loader's workers parse like separate inputs, each read by position, never held whole.
//!
//! A raw newline cannot occur inside a JSON string (control characters are escaped), so in
//! JSON Lines every line end is a record boundary, found without reading what comes before
//! it. A part's records are at the same offsets, with the same verdicts, as reading the whole
//! file line by line finds them; only the way a skipped line is named differs (by its byte
//! offset: a part does not know its first line's number).

use super::files::{json_lines, read_record, skip_ws, take_parsed, InputKind, ParseOutcome, Parsed};
use super::stream::{damaged_at, describe_byte, Scanner};
use crate::model::raw::{is_gzip, SourceFile};
use crate::model::record::{max_record_len, RecordError, RecordFields};
use crate::model::scan::value_end;
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;

/// One part of an input split by [`plan`] or [`plan_elements`]: the bytes it covers, and
/// whether it is the input's last (the one that completes it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Part {
    pub(super) range: Range<u64>,
    pub(super) last: bool,
    /// For a part of a trail log or array: how its elements are named and what was found
    /// around them; `None` for JSON Lines.
    pub(super) elements: Option<Box<Elements>>,
}

/// What a part of a trail log or array needs besides its bytes to read as the whole input's
/// reader reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Elements {
    pub(super) kind: InputKind,
    /// The number of the part's first element in the input's array (`Records[N]`).
    pub(super) first: u64,
    /// What was skipped just before the part's first element: elements longer than a record
    /// may be, which are in no part.
    pub(super) before: Vec<String>,
    /// What ends the input early, or what follows its last element when that is not the end
    /// it should have (the last part only).
    pub(super) after: Option<String>,
    /// Bytes the plan read that are in no part, counted with this one: the opening before the
    /// first part, elements too long to be in one, the end after the last.
    pub(super) uncounted: u64,
}

/// The parts to read `file` in, when it is a plain JSON Lines file on disk of more than two
/// parts of `part_bytes`; `None` when it is read as one input (compressed, a stream, a trail
/// log or array, small, anything unexpected in its first line, or a line at a cut longer
/// than a record may be: a part is held whole, so none may be longer than `part_bytes` and
/// one record).
pub(super) fn plan(file: &SourceFile, part_bytes: usize) -> Option<Vec<Part>> {
    plan_with(file, part_bytes, max_record_len())
}

/// [`plan`], no line at a cut longer than `max_line`.
fn plan_with(file: &SourceFile, part_bytes: usize, max_line: usize) -> Option<Vec<Part>> {
    let part_bytes = part_bytes.max(1) as u64;
    if file.stream.is_some() || file.memory.get().is_some() || file.size <= part_bytes.saturating_mul(2) {
        return None;
    }
    let f = File::open(&file.path).ok()?;
    if f.metadata().ok()?.len() != file.size || !is_json_lines(&f) {
        return None;
    }
    let mut starts = vec![0u64];
    let mut at = part_bytes;
    while at < file.size {
        let next = line_start_from(&f, at, file.size, max_line)?;
        if next >= file.size {
            break;
        }
        if next > *starts.last()? {
            starts.push(next);
        }
        at = next.max(at) + part_bytes;
    }
    if starts.len() < 2 {
        return None;
    }
    let n = starts.len();
    Some(
        (0..n)
            .map(|i| Part {
                range: starts[i]..starts.get(i + 1).copied().unwrap_or(file.size),
                last: i + 1 == n,
                elements: None,
            })
            .collect(),
    )
}

/// Whether the content starts as JSON Lines: its first line (after a byte order mark and
/// blank space) is a whole JSON object that is neither a trail log nor lookup-events output.
fn is_json_lines(f: &File) -> bool {
    let limit = max_record_len() + 4;
    let mut head = vec![0u8; 64 << 10];
    let mut len = 0;
    // A trail log, lookup-events output or an array says so in its first bytes: not read up to
    // its first line end, which may be its last byte.
    let n = f.read_at(&mut head, 0).unwrap_or(0);
    let start = head[..n].strip_prefix(b"\xef\xbb\xbf").unwrap_or(&head[..n]).trim_ascii_start();
    if let Some(rest) = start.strip_prefix(b"{") {
        let key = rest.trim_ascii_start();
        if key.starts_with(b"\"Records\"") || key.starts_with(b"\"Events\"") {
            return false;
        }
    } else if !start.is_empty() {
        return false;
    }
    loop {
        let n = f.read_at(&mut head[len..], len as u64).unwrap_or(0);
        len += n;
        if n == 0 || memchr::memchr(b'\n', &head[..len]).is_some() || len >= limit {
            break;
        }
        if len == head.len() {
            head.resize((head.len() * 2).min(limit), 0);
        }
    }
    let head = &head[..len];
    if is_gzip(head) {
        return false;
    }
    let Some(end) = memchr::memchr(b'\n', head) else { return false };
    let line = head[..end].strip_prefix(b"\xef\xbb\xbf").unwrap_or(&head[..end]);
    let line = line.trim_ascii();
    if !line.starts_with(b"{") {
        return false;
    }
    #[derive(serde::Deserialize)]
    struct Top {
        #[serde(rename = "Records")]
        records: Option<serde::de::IgnoredAny>,
        #[serde(rename = "Events")]
        events: Option<serde::de::IgnoredAny>,
    }
    matches!(serde_json::from_slice::<Top>(line), Ok(Top { records: None, events: None }))
}

/// The offset just after the first newline at or after `from` (the start of a line), the
/// file's end when there is none; `None` when there is none within a record's length.
fn line_start_from(f: &File, from: u64, size: u64, max_line: usize) -> Option<u64> {
    let mut buf = vec![0u8; 64 << 10];
    let mut at = from;
    let limit = from.saturating_add(max_line as u64 + 2);
    while at < size {
        if at > limit {
            return None;
        }
        let n = f.read_at(&mut buf, at).ok()?;
        if n == 0 {
            return Some(size);
        }
        if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
            return Some(at + i as u64 + 1);
        }
        at += n as u64;
    }
    Some(size)
}

/// Parses one part's content (`content` is the file's bytes from `base`): each line a record
/// or skipped with its reason, named by its byte offset. A part without a record is not an
/// error by itself: the loader decides once it has every part of the input.
pub(super) fn parse_lines(content: &[u8], base: u64, on_record: &mut dyn FnMut(Parsed<'_, '_>)) -> ParseOutcome {
    let body = match base {
        0 => content.strip_prefix(b"\xef\xbb\xbf").unwrap_or(content),
        _ => content,
    };
    json_lines(content, body, base, &|_, at| format!("the line at byte {at}"), on_record)
}

/// Whether `file` may be a trail log or array to split by [`plan_elements`]: a plain file on
/// disk of more than two parts (its content is looked at there).
pub(super) fn elements_candidate(file: &SourceFile, part_bytes: usize) -> bool {
    file.stream.is_none() && file.memory.get().is_none() && file.size > (part_bytes.max(1) as u64).saturating_mul(2)
}

/// Splits one big trail log (`{"Records":[...]}`) or array of records into parts of whole
/// elements of about `part_bytes`, handing each to `emit` as it is found (the first within a
/// part's reading, so the first records are parsed while the rest is planned). Where the
/// elements are is found by one pass over the file that follows strings and brackets 64
/// bytes at a time, without parsing ([`super::scan`]); it ends each element where the
/// stream reader would, so the parts hold the records the whole input holds, at the same
/// offsets, named alike when skipped. Returns `false`, having emitted nothing, when the file
/// is not such an input (then it is read as one); otherwise the last part emitted says so.
pub(super) fn plan_elements(file: &SourceFile, part_bytes: usize, emit: &mut dyn FnMut(Part)) -> bool {
    plan_elements_with(file, part_bytes, max_record_len(), emit)
}

/// [`plan_elements`], an element longer than `max_len` in no part.
fn plan_elements_with(file: &SourceFile, part_bytes: usize, max_len: usize, emit: &mut dyn FnMut(Part)) -> bool {
    if !elements_candidate(file, part_bytes) {
        return false;
    }
    let Ok(f) = File::open(&file.path) else { return false };
    if f.metadata().map(|m| m.len()).ok() != Some(file.size) {
        return false;
    }
    // No further than the size found: parts are read by position within it.
    let mut input = std::io::Read::take(f, file.size);
    let mut r = Scanner::new(&mut input);
    let Some(kind) = header(&mut r) else { return false };
    let mut plan = Planner {
        emit,
        kind,
        part_bytes: part_bytes.max(1) as u64,
        start: None,
        first: 0,
        before: Vec::new(),
        end: r.offset(),
        max_len: max_len as u64,
        counted: 0,
    };
    let mut after = walk(&mut r, &mut plan);
    if let Some(e) = &r.read_error {
        let e = crate::sanitize::sanitize(&e.to_string()).into_owned();
        after = Some(format!("reading stopped at byte {}: {e}; the rest is not read", r.offset()));
    }
    plan.finish(after, r.offset());
    true
}

/// What the content is, with its opening taken: a trail log (`{"Records":[`, the key first)
/// or an array (`[`); `None` for anything else.
fn header(r: &mut Scanner<'_>) -> Option<InputKind> {
    r.skip_bom();
    r.skip_ws();
    match r.peek()? {
        b'[' => {
            r.advance();
            Some(InputKind::Array)
        }
        b'{' if r.records_key() => Some(InputKind::TrailLog),
        _ => None,
    }
}

/// The parts found so far: the current one starts at `start` (its first element numbered
/// `first`); `end` is where the last element taken ends.
struct Planner<'e> {
    emit: &'e mut dyn FnMut(Part),
    kind: InputKind,
    part_bytes: u64,
    start: Option<u64>,
    first: u64,
    before: Vec<String>,
    end: u64,
    max_len: u64,
    /// The bytes read up to here are counted with the parts emitted.
    counted: u64,
}

impl Planner<'_> {
    fn part(&mut self, range: Range<u64>, last: bool, after: Option<String>, read_to: u64) {
        let uncounted = range.start.saturating_sub(self.counted) + read_to.saturating_sub(range.end);
        self.counted = read_to.max(range.end);
        let before = std::mem::take(&mut self.before);
        let elements = Elements { kind: self.kind, first: self.first, before, after, uncounted };
        (self.emit)(Part { range, last, elements: Some(Box::new(elements)) });
    }

    /// Element `i` starts at `at`: a new part starts with it once the current one is big
    /// enough.
    fn element(&mut self, at: u64, i: u64) {
        match self.start {
            Some(s) if at - s < self.part_bytes => {}
            Some(s) => {
                self.part(s..at, false, None, at);
                (self.start, self.first) = (Some(at), i);
            }
            None => (self.start, self.first) = (Some(at), i),
        }
    }

    /// Element `i`, at `at`, is longer than a record may be: it is in no part (a part is held
    /// whole), said before the next part's elements.
    fn too_long(&mut self, at: u64, i: u64, what: &str) {
        if let Some(s) = self.start.take().filter(|&s| s < at) {
            self.part(s..at, false, None, at);
        }
        self.first = i + 1;
        self.before.push(format!("{what}[{i}]: {}", RecordError::TooLarge(self.max_len as usize)));
    }

    /// The last part, the plan having read up to `read_to`.
    fn finish(mut self, after: Option<String>, read_to: u64) {
        let s = self.start.unwrap_or(self.end).min(self.end);
        self.part(s..self.end, true, after, read_to);
    }
}

/// The elements of the array, each found and given to the plan, then what follows them; what
/// ends the input early or wrongly, as the stream reader says it.
fn walk(r: &mut Scanner<'_>, plan: &mut Planner<'_>) -> Option<String> {
    let what = element_name(plan.kind);
    r.skip_ws();
    if r.peek() == Some(b']') {
        r.advance();
        plan.end = r.offset();
        return trailer(r, plan.kind);
    }
    for i in 0.. {
        r.skip_ws();
        let start = r.offset();
        plan.element(start, i);
        match r.take_value(&mut |_| {}) {
            Err(stop) => {
                plan.end = start;
                return Some(format!("{what}[{i}]: {}; the rest is not read", stop.describe()));
            }
            Ok(len) if len > plan.max_len => plan.too_long(start, i, what),
            Ok(_) => {}
        }
        plan.end = r.offset();
        r.skip_ws();
        match r.peek() {
            Some(b',') => r.advance(),
            Some(b']') => {
                r.advance();
                return trailer(r, plan.kind);
            }
            found => {
                let stop = damaged_at(r.offset(), found, "',' or ']'");
                return Some(format!("after {what}[{i}]: {}; the rest is not read", stop.describe()));
            }
        }
    }
    unreachable!("the loop returns")
}

/// After the array: a trail log's closing brace, then nothing but whitespace.
fn trailer(r: &mut Scanner<'_>, kind: InputKind) -> Option<String> {
    r.skip_ws();
    if kind == InputKind::TrailLog {
        if r.peek() != Some(b'}') {
            let found = r.peek();
            return Some(format!("after the records: {}", damaged_at(r.offset(), found, "'}'").describe()));
        }
        r.advance();
        r.skip_ws();
    }
    r.peek().map(|b| format!("after the records: {}", damaged_at(r.offset(), Some(b), "the end").describe()))
}

/// How the stream reader names an element of this kind of input.
fn element_name(kind: InputKind) -> &'static str {
    match kind {
        InputKind::TrailLog => "Records",
        _ => "element",
    }
}

/// Parses one part of a trail log or array (`content` is the file's bytes from `base`): each
/// element a record or skipped with its reason, named by its number in the whole array,
/// after what was said before the part and before what follows it.
pub(super) fn parse_elements(
    content: &[u8],
    base: u64,
    el: &Elements,
    on_record: &mut dyn FnMut(Parsed<'_, '_>),
) -> ParseOutcome {
    let what = element_name(el.kind);
    let mut out = ParseOutcome::new(el.kind);
    for note in &el.before {
        out.skip(note.clone());
    }
    let max = max_record_len();
    // One check of the whole content (SIMD) instead of serde's check of each string.
    let text = simdutf8::basic::from_utf8(content).ok();
    let mut pos = skip_ws(content, 0);
    let mut i = el.first;
    while pos < content.len() {
        let start = pos;
        let mut fields = RecordFields::default();
        let whole = text
            .filter(|_| content[start] == b'{')
            .and_then(|t| read_record(t, start, &mut fields))
            .filter(|end| end - start <= max);
        let end = match whole {
            // A record, or none (a lookup-events item) without being parsed again.
            Some(end) => {
                let parsed = if fields.is_record() { Ok(fields) } else { Err(RecordError::NotARecord) };
                take_parsed(
                    parsed,
                    &content[start..end],
                    base + start as u64,
                    &|| format!("{what}[{i}]"),
                    &mut out,
                    on_record,
                );
                end
            }
            None => match value_end(&content[start..]) {
                Some(len) => {
                    let bytes = &content[start..start + len];
                    let at = base + start as u64;
                    take_parsed(RecordFields::parse(bytes), bytes, at, &|| format!("{what}[{i}]"), &mut out, on_record);
                    start + len
                }
                // The plan ends parts between elements: only a file changed since is read so.
                None => {
                    out.skip(format!("{what}[{i}]: the content changed while it was read"));
                    return out;
                }
            },
        };
        i += 1;
        pos = skip_ws(content, end);
        match content.get(pos) {
            Some(b',') => pos = skip_ws(content, pos + 1),
            None => break,
            Some(&b) => {
                let found = describe_byte(b);
                out.skip(format!("after {what}[{}]: the content changed while it was read (found {found})", i - 1));
                return out;
            }
        }
    }
    if let Some(after) = &el.after {
        out.skip(after.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::files::parse_content;

    fn on_disk(content: &[u8]) -> (tempfile::TempDir, SourceFile) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.jsonl");
        std::fs::write(&path, content).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        (dir, SourceFile::on_disk(0, path, &meta))
    }

    fn record(i: usize) -> String {
        format!(
            r#"{{"eventVersion":"1.08","eventID":"e{i}","eventTime":"2024-01-01T00:00:{:02}Z","eventName":"Get\nObject","requestParameters":{{"note":"a\\nb {{\"x\":[1]}}"}}}}"#,
            i % 60
        )
    }

    #[test]
    fn parts_cover_the_file_at_line_starts_and_find_what_the_whole_file_holds() {
        let mut content = String::from("\u{feff}");
        for i in 0..400 {
            content.push_str(&record(i));
            content.push_str(if i % 7 == 0 { "\r\n" } else { "\n" });
            if i % 50 == 0 {
                content.push_str("not json\n\n   \n");
            }
        }
        let (_dir, file) = on_disk(content.as_bytes());
        for part_bytes in [97, 1000, 4096, 20_000] {
            let parts = plan(&file, part_bytes).expect("split");
            assert_eq!(parts[0].range.start, 0);
            assert_eq!(parts.last().unwrap().range.end, file.size);
            assert!(parts.windows(2).all(|w| w[0].range.end == w[1].range.start && !w[0].last));
            assert!(parts.last().unwrap().last);
            let mut found = Vec::new();
            let mut skipped = 0;
            for p in &parts {
                let s = p.range.start as usize;
                assert!(s == 0 || content.as_bytes()[s - 1] == b'\n', "a part starts a line");
                let bytes = &content.as_bytes()[s..p.range.end as usize];
                let out = parse_lines(bytes, p.range.start, &mut |r| found.push((r.span.offset, r.span.len)));
                skipped += out.skipped_count;
            }
            let mut whole = Vec::new();
            let out = parse_content(content.as_bytes(), &mut |r| whole.push((r.span.offset, r.span.len))).unwrap();
            assert_eq!(found, whole, "part size {part_bytes}");
            assert_eq!(skipped, out.skipped_count);
            assert_eq!(found.len(), 400);
        }
    }

    /// Records with what makes finding their ends hard: escaped quotes and backslashes, and
    /// brackets and commas inside strings.
    fn awkward(i: usize) -> String {
        format!(
            r#"{{"eventVersion":"1.08","eventID":"e{i}","eventTime":"2024-01-01T00:00:{:02}Z","eventName":"Get\"Obj]ect\\","userAgent":"{}","requestParameters":{{"a":[1,{{"b":"}}]\\\""}}],"c":"x,y"}}}}"#,
            i % 60,
            "\\\\".repeat(i % 5)
        )
    }

    /// Records' spans, what was said of what was skipped, how much was skipped, bytes read.
    type Read = (Vec<(u64, u32)>, Vec<String>, usize, u64);

    /// What the parts `plan_elements_with` makes find, put together: the records' spans, what
    /// was said of what was skipped, in order, and how much was skipped.
    fn by_parts(content: &[u8], part_bytes: usize, max_len: usize) -> Option<Read> {
        let (_dir, file) = on_disk(content);
        let mut parts = Vec::new();
        if !plan_elements_with(&file, part_bytes, max_len, &mut |p| parts.push(p)) {
            return None;
        }
        assert!(parts.last().is_some_and(|p| p.last), "the last part says so");
        assert!(parts.iter().rev().skip(1).all(|p| !p.last));
        assert!(parts.windows(2).all(|w| w[0].range.end <= w[1].range.start), "in order, apart");
        let (mut found, mut said, mut skipped, mut read) = (Vec::new(), Vec::new(), 0, 0);
        for p in &parts {
            let bytes = &content[p.range.start as usize..p.range.end as usize];
            assert!(bytes.len() <= part_bytes + max_len + 2, "a part is a part's size and an element at most");
            let el = p.elements.as_deref().expect("elements");
            read += bytes.len() as u64 + el.uncounted;
            let out = parse_elements(bytes, p.range.start, el, &mut |r| found.push((r.span.offset, r.span.len)));
            assert!(out.skipped_count <= 5, "the test keeps each part's skips few enough to be all said");
            said.extend(out.skipped);
            skipped += out.skipped_count;
        }
        Some((found, said, skipped, read))
    }

    fn by_stream(content: &[u8]) -> Read {
        let mut found = Vec::new();
        let (out, read) =
            crate::source::stream::parse_stream(&mut &content[..], &mut |r| found.push((r.span.offset, r.span.len)))
                .unwrap();
        (found, out.skipped, out.skipped_count, read)
    }

    #[test]
    fn trail_logs_and_arrays_split_between_elements_read_as_the_stream_reader_reads_them() {
        let records: Vec<String> = (0..300).map(awkward).collect();
        let mut odd = records.clone();
        odd.insert(40, r#"{"hello":1}"#.into());
        odd.insert(90, "17".into());
        odd.insert(150, r#""a string, ] } with \" in it""#.into());
        odd.insert(200, r#"[{"eventName":"D"}]"#.into());
        let join = |v: &[String], sep: &str| v.join(sep);
        let trail = format!("\u{feff} {{ \"Records\" :\n [ {} ]\n }}\n", join(&odd, " ,\n"));
        let array = format!("[{}]", join(&records, ","));
        let mut cases: Vec<(&str, Vec<u8>)> = vec![
            ("trail log", trail.clone().into_bytes()),
            ("array", array.into_bytes()),
            ("truncated", trail.as_bytes()[..trail.len() - 700].to_vec()),
            ("garbage between elements", trail.replacen("} ,\n{", "} x\n{", 1).into_bytes()),
            ("a value missing", trail.replacen(" ,\n{", " ,,{", 1).into_bytes()),
            ("more after the records", format!("{trail}{{\"Records\":[]}}").into_bytes()),
            ("no closing brace", trail.trim_end().trim_end_matches('}').to_string().into_bytes()),
            ("empty", format!("{{\"Records\":[{}]}}", " ".repeat(20_000)).into_bytes()),
        ];
        // Text damage: a stray backslash and an unbalanced bracket between records.
        cases.push(("stray backslash", trail.replacen("} ,\n{", "} ,\\\"\n{", 1).into_bytes()));
        cases.push(("stray bracket", trail.replacen(" ,\n{", " ,\n]{", 1).into_bytes()));
        for (what, content) in &cases {
            let want = by_stream(content);
            for part_bytes in [97, 1000, 4096] {
                let got = by_parts(content, part_bytes, 1 << 20).unwrap_or_else(|| panic!("{what}: split"));
                assert_eq!(got, want, "{what}, parts of {part_bytes}");
            }
        }
        let whole = by_stream(&cases[0].1);
        assert_eq!(whole.0.len(), 300, "the records: {:?}", whole.1);
        assert_eq!(whole.2, 4);
        // Not split: JSON Lines, an object without Records first, lookup-events output, gzip.
        let lines: String = records.iter().map(|r| r.clone() + "\n").collect();
        for other in [
            lines.clone(),
            format!("{{\"x\":1,\"Records\":[{}]}}", join(&records, ",")),
            format!("{{\"Events\":[]}}{lines}"),
        ] {
            assert!(by_parts(other.as_bytes(), 1000, 1 << 20).is_none());
        }
    }

    #[test]
    fn an_element_longer_than_a_record_is_in_no_part_and_named() {
        let mut records: Vec<String> = (0..200).map(awkward).collect();
        let long = format!(r#"{{"eventName":"Big","eventTime":"2024-01-01T00:00:00Z","pad":"{}"}}"#, "x".repeat(5000));
        records.insert(0, long.clone());
        records.insert(100, long.clone());
        records.push(long);
        let content = format!("{{\"Records\":[{}]}}", records.join(","));
        let (stream_found, ..) = by_stream(content.as_bytes());
        for part_bytes in [97, 1000, 4096] {
            let (found, said, skipped, read) = by_parts(content.as_bytes(), part_bytes, 4096).unwrap();
            assert_eq!(read, content.len() as u64, "every byte read is counted once");
            assert_eq!(skipped, 3);
            assert_eq!(
                said,
                ["Records[0]", "Records[100]", "Records[202]"].map(|r| format!("{r}: {}", RecordError::TooLarge(4096)))
            );
            let short: Vec<_> = stream_found.iter().copied().filter(|s| s.1 < 4096).collect();
            assert_eq!(found, short, "parts of {part_bytes}");
        }
    }

    #[test]
    fn only_plain_json_lines_of_several_parts_is_split() {
        let lines: String = (0..100).map(|i| record(i) + "\n").collect();
        let (_d, f) = on_disk(lines.as_bytes());
        assert!(plan(&f, 1000).is_some());
        assert!(plan(&f, lines.len()).is_none(), "not more than two parts");
        let trail = format!("{{\"Records\":[{}]}}\n{}", record(0), lines);
        assert!(plan(&on_disk(trail.as_bytes()).1, 1000).is_none(), "a trail log");
        let array = format!("[{}]\n{lines}", record(0));
        assert!(plan(&on_disk(array.as_bytes()).1, 1000).is_none(), "an array");
        let pretty = format!("{{\n\"eventID\": \"x\"}}\n{lines}");
        assert!(plan(&on_disk(pretty.as_bytes()).1, 1000).is_none(), "a record over several lines");
        let events = format!("{{\"Events\":[]}}\n{lines}");
        assert!(plan(&on_disk(events.as_bytes()).1, 1000).is_none(), "lookup-events output");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, lines.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        assert!(plan(&on_disk(&gz).1, 100).is_none(), "compressed");
        // One line longer than a part: the parts around it grow, none starts inside it.
        let long = format!("{}\n{}\n{lines}", record(0), record(1).replace("1.08", &"9".repeat(5000)));
        let (_d, f) = on_disk(long.as_bytes());
        let parts = plan(&f, 1000).unwrap();
        assert!(parts.iter().all(|p| p.range.start == 0 || long.as_bytes()[p.range.start as usize - 1] == b'\n'));
        // A line at a cut longer than a record may be: not split (a part would hold it whole).
        let huge = format!("{}\n{}\n{lines}", record(0), record(1).replace("1.08", &"9".repeat(200_000)));
        let huge = on_disk(huge.as_bytes());
        assert!(plan_with(&huge.1, 1000, 100_000).is_none());
        assert!(plan_with(&huge.1, 1000, 300_000).is_some());
    }
}
