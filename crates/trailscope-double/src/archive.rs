//! The archive the double serves: every record read once at start, with what LookupEvents
//! filters on and returns precomputed, indexed by (region, category), newest first.
//!
//! The double reads archives with its own small reader, not with trailscope's loader: the
//! loader is what the double's clients test, so it must not also decide what the double
//! serves. The reader takes what trail archives and the project's test data hold: a
//! directory (searched recursively, in name order) or one file; gzip recognised by its magic
//! bytes; `{"Records":[...]}` log files, JSON arrays of records, JSON Lines, a single record.
//! Digest files (under `CloudTrail-Digest/`, or an object of digest fields) hold no records
//! and are passed over. Exact copies of a record (the same eventID and the same content, as
//! CloudTrail's occasional double delivery makes) are served once.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;

use crate::record::Record;

/// Every record, newest first (ties by eventID), with per-(region, insight) indexes.
#[derive(Debug, Default)]
pub struct Archive {
    pub records: Vec<Record>,
    /// (region, insight) → indexes into `records`, in `records` order.
    index: HashMap<(String, bool), Vec<u32>>,
}

/// What loading found besides the records.
#[derive(Debug, Default, Clone)]
pub struct LoadReport {
    pub events: usize,
    /// Records found that the double cannot serve (no eventID, readable eventTime or awsRegion).
    pub skipped: usize,
    /// Exact copies of a record already taken, not served twice.
    pub duplicates: usize,
    /// Inputs, or parts of them, that could not be read, as "input: reason".
    pub problems: Vec<String>,
}

impl Archive {
    /// Reads a directory (searched recursively) or one file of CloudTrail records.
    pub fn load(path: &Path) -> anyhow::Result<(Archive, LoadReport)> {
        let shown = printable(&path.display().to_string());
        let meta = std::fs::metadata(path)
            .with_context(|| format!("cannot read {shown}: give a directory or a file of CloudTrail records"))?;
        let mut report = LoadReport::default();
        let mut files = Vec::new();
        if meta.is_dir() {
            walk(path, &mut files, &mut report.problems, &mut HashSet::new());
        } else {
            files.push(path.to_path_buf());
        }
        let mut records: Vec<Record> = Vec::new();
        let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
        for file in files.iter().filter(|f| !is_digest_path(f)) {
            let name = || printable(&file.display().to_string());
            let found = match read_file(file) {
                Ok(found) => found,
                Err(reason) => {
                    report.problems.push(format!("{}: {reason}", name()));
                    continue;
                }
            };
            if let Some(note) = found.note {
                report.problems.push(format!("{}: {note}", name()));
            }
            for value in found.records {
                let Some(record) = Record::from_value(&value) else {
                    report.skipped += 1;
                    continue;
                };
                let same_id = by_id.entry(record.event_id.clone()).or_default();
                if same_id.iter().any(|&i| same_record(&records[i], &record, &value)) {
                    report.duplicates += 1;
                    continue;
                }
                same_id.push(records.len());
                records.push(record);
            }
        }
        if records.is_empty() && !report.problems.is_empty() {
            anyhow::bail!("cannot load {shown}: {}", report.problems.join("; "));
        }
        report.events = records.len();
        Ok((Archive::from_records(records), report))
    }

    pub fn from_records(mut records: Vec<Record>) -> Archive {
        records.sort_by(|a, b| b.time_ms.cmp(&a.time_ms).then_with(|| a.event_id.cmp(&b.event_id)));
        let mut index: HashMap<(String, bool), Vec<u32>> = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            index.entry((r.region.clone(), r.insight)).or_default().push(i as u32);
        }
        Archive { records, index }
    }

    /// The records of one region and category, newest first.
    pub fn partition(&self, region: &str, insight: bool) -> &[u32] {
        self.index.get(&(region.to_string(), insight)).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Whether `record` (parsed from `value`) is an exact copy of `kept`: the same content,
/// whatever the key order or spacing of either.
fn same_record(kept: &Record, record: &Record, value: &Value) -> bool {
    kept.json == record.json || serde_json::from_str::<Value>(&kept.json).is_ok_and(|v| v == *value)
}

/// Every regular file under `dir`, in name order; symbolic links are followed, a directory
/// reached twice is read once.
fn walk(dir: &Path, files: &mut Vec<PathBuf>, problems: &mut Vec<String>, seen: &mut HashSet<(u64, u64)>) {
    let name = |p: &Path| printable(&p.display().to_string());
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata(dir) {
            if !seen.insert((m.dev(), m.ino())) {
                return;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = seen;
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(format!("{}: {}", name(dir), printable(&e.to_string())));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => walk(&p, files, problems, seen),
            Ok(m) if m.is_file() => files.push(p),
            Ok(_) => problems.push(format!("{}: not a regular file; skipped", name(&p))),
            Err(e) => problems.push(format!("{}: {}", name(&p), printable(&e.to_string()))),
        }
    }
}

/// Digest files are delivered under `AWSLogs/<account>/CloudTrail-Digest/`.
fn is_digest_path(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "CloudTrail-Digest")
}

/// The records of one file, and a note of what was passed over in it.
struct Found {
    records: Vec<Value>,
    note: Option<String>,
}

/// Reads one file, gunzipping it when it starts with gzip's magic bytes.
fn read_file(path: &Path) -> Result<Found, String> {
    let raw = std::fs::read(path).map_err(|e| printable(&e.to_string()))?;
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return parse(&raw);
    }
    let mut text = Vec::with_capacity(raw.len() * 8);
    flate2::read::MultiGzDecoder::new(&raw[..])
        .read_to_end(&mut text)
        .map_err(|e| format!("corrupt gzip: {}", printable(&e.to_string())))?;
    parse(&text)
}

/// Keys only a digest file has at its top level.
const DIGEST_KEYS: [&str; 4] = ["digestStartTime", "digestEndTime", "logFiles", "digestS3Object"];
/// Keys that make a lone object a record.
const RECORD_KEYS: [&str; 4] = ["eventTime", "eventName", "eventSource", "eventID"];

/// The records in a file's content: `{"Records":[...]}`, an array, JSON Lines or one record.
fn parse(content: &[u8]) -> Result<Found, String> {
    let body = content.strip_prefix(b"\xef\xbb\xbf").unwrap_or(content);
    let Some(first) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Err("empty file".into());
    };
    let invalid = |e: serde_json::Error| format!("invalid JSON: {}", printable(&e.to_string()));
    match body[first] {
        b'[' => match serde_json::from_slice(body).map_err(invalid)? {
            Value::Array(items) => Ok(objects(items, "array element")),
            _ => Err("not a JSON array".into()),
        },
        b'{' => match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(mut top)) => match top.remove("Records") {
                Some(Value::Array(items)) => Ok(objects(items, "Records element")),
                Some(_) => Err("not CloudTrail: \"Records\" is not an array".into()),
                None if DIGEST_KEYS.iter().any(|k| top.contains_key(*k)) => {
                    Ok(Found { records: Vec::new(), note: None })
                }
                None if RECORD_KEYS.iter().any(|k| top.contains_key(*k)) => {
                    Ok(Found { records: vec![Value::Object(top)], note: None })
                }
                None => Err("not CloudTrail: a JSON object without \"Records\" or record fields".into()),
            },
            Ok(_) => Err("not a JSON object".into()),
            Err(e) => {
                let mut lines = body.split(|&b| b == b'\n').filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()));
                if lines.nth(1).is_none() {
                    return Err(invalid(e));
                }
                json_lines(body)
            }
        },
        _ => {
            let head = String::from_utf8_lossy(&body[first..body.len().min(first + 12)]).into_owned();
            Err(format!("not JSON: it starts with \"{}\"", printable(&head)))
        }
    }
}

/// One record a line; lines that are not a JSON object are passed over (and noted).
fn json_lines(body: &[u8]) -> Result<Found, String> {
    let mut records = Vec::new();
    let mut bad = Vec::new();
    for (n, line) in body.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(v @ Value::Object(_)) => records.push(v),
            _ => bad.push(n + 1),
        }
    }
    if records.is_empty() {
        return Err("not CloudTrail: no line is a JSON object".into());
    }
    let shown: Vec<String> = bad.iter().take(5).map(usize::to_string).collect();
    let more = if bad.len() > shown.len() { ", ..." } else { "" };
    let note = (!bad.is_empty())
        .then(|| format!("{} line(s) that are not a JSON object skipped (line {}{more})", bad.len(), shown.join(", ")));
    Ok(Found { records, note })
}

/// The objects among `items`, with a note of how many were something else.
fn objects(items: Vec<Value>, what: &str) -> Found {
    let total = items.len();
    let records: Vec<Value> = items.into_iter().filter(Value::is_object).collect();
    let others = total - records.len();
    let note = (others > 0).then(|| format!("{others} {what}(s) that are not a JSON object skipped"));
    Found { records, note }
}

/// `s` with control characters and bidirectional controls written as escapes: problem
/// messages name paths and quote input, and the double prints them on a terminal.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use serde_json::json;

    use super::*;

    fn record(id: &str, region: &str) -> Value {
        json!({"eventVersion": "1.08", "eventTime": "2024-08-01T12:00:00Z", "eventID": id, "awsRegion": region,
               "eventName": "RunInstances", "eventSource": "ec2.amazonaws.com"})
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn ids(archive: &Archive) -> Vec<&str> {
        let mut ids: Vec<&str> = archive.records.iter().map(|r| r.event_id.as_str()).collect();
        ids.sort();
        ids
    }

    #[test]
    fn reads_each_kind_of_input_and_passes_over_digests() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let log = json!({"Records": [record("a", "us-east-1"), record("b", "eu-west-1"), "not a record"]});
        std::fs::create_dir_all(p.join("AWSLogs/1/CloudTrail/us-east-1")).unwrap();
        // A trail log file, gzipped, with a name that does not say so.
        std::fs::write(p.join("AWSLogs/1/CloudTrail/us-east-1/log"), gzip(&serde_json::to_vec(&log).unwrap())).unwrap();
        // A digest, by place and by content: no records, no problem.
        std::fs::create_dir_all(p.join("AWSLogs/1/CloudTrail-Digest/us-east-1")).unwrap();
        std::fs::write(p.join("AWSLogs/1/CloudTrail-Digest/us-east-1/d.json.gz"), gzip(b"{\"Records\":[]}")).unwrap();
        std::fs::write(p.join("digest.json"), br#"{"awsAccountId":"1","digestStartTime":"x","logFiles":[]}"#).unwrap();
        // An array (with a byte order mark), JSON Lines with a bad line, a lone record.
        let array = serde_json::to_vec(&json!([record("c", "us-east-1")])).unwrap();
        std::fs::write(p.join("array.json"), [b"\xef\xbb\xbf".as_slice(), &array].concat()).unwrap();
        let lines = format!("{}\nnot json\n\n{}\n", record("d", "us-east-1"), record("e", "us-east-1"));
        std::fs::write(p.join("lines.jsonl"), lines).unwrap();
        std::fs::write(p.join("one.json"), record("f", "us-east-1").to_string()).unwrap();
        // Not records: problems, not failures.
        std::fs::write(p.join("empty.json"), "").unwrap();
        std::fs::write(p.join("other.json"), r#"{"hello":1}"#).unwrap();
        std::fs::write(p.join("notes.txt"), "\u{1b}[31mred").unwrap();

        let (archive, report) = Archive::load(p).unwrap();
        assert_eq!(ids(&archive), ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(report.events, 6);
        assert_eq!(archive.partition("us-east-1", false).len(), 5);
        let problems = report.problems.join("\n");
        for (file, why) in [
            ("log", "1 Records element(s) that are not a JSON object skipped"),
            ("lines.jsonl", "1 line(s) that are not a JSON object skipped (line 2)"),
            ("empty.json", "empty file"),
            ("other.json", "without \"Records\" or record fields"),
            ("notes.txt", "not JSON: it starts with \"\\u{1b}[31mred\""),
        ] {
            assert!(report.problems.iter().any(|p| p.contains(file) && p.contains(why)), "{file}: {problems}");
        }
        assert_eq!(report.problems.len(), 5, "{problems}");
        assert!(!problems.contains("digest"), "{problems}");
        assert!(!problems.contains('\u{1b}'), "{problems}");
    }

    #[test]
    fn exact_copies_are_served_once_and_unservable_records_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let a = record("a", "us-east-1");
        // The same content with its keys in another order and other spacing: a copy.
        let mut keys: Vec<(&String, &Value)> = a.as_object().unwrap().iter().collect();
        keys.reverse();
        let reordered =
            format!("{{ {} }}", keys.iter().map(|(k, v)| format!("{:?} : {}", k, v)).collect::<Vec<_>>().join(" , "));
        // The same id with other content: a different event, served too.
        let mut other = a.clone();
        other["eventName"] = json!("TerminateInstances");
        let no_region = json!({"eventID": "x", "eventTime": "2024-08-01T12:00:00Z"});
        std::fs::write(dir.path().join("1.json"), serde_json::to_vec(&json!([a, other, no_region])).unwrap()).unwrap();
        std::fs::write(dir.path().join("2.json"), format!("[{reordered}, {a}]", a = record("a", "us-east-1"))).unwrap();
        let (archive, report) = Archive::load(dir.path()).unwrap();
        assert_eq!(ids(&archive), ["a", "a"]);
        assert_eq!((report.duplicates, report.skipped), (2, 1), "{report:?}");
    }

    #[test]
    fn nothing_readable_is_an_error_that_says_why() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.json"), "{").unwrap();
        let err = Archive::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("bad.json") && err.contains("invalid JSON"), "{err}");
        let err = Archive::load(&dir.path().join("missing")).unwrap_err().to_string();
        assert!(err.contains("missing") && err.contains("give a directory or a file"), "{err}");
        // An empty directory serves nothing, without error.
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(Archive::load(empty.path()).unwrap().0.records.len(), 0);
    }

    #[test]
    fn messages_escape_terminal_controls() {
        assert_eq!(printable("a\u{1b}[31mb\u{202e}c\u{9b}"), "a\\u{1b}[31mb\\u{202e}c\\u{9b}");
        assert_eq!(printable("plain/path é"), "plain/path é");
    }
}
