//! One big JSON Lines file read on every core: split at line ends into parts that the
//! loader's workers parse like separate inputs, each read by position, never held whole.
//!
//! A raw newline cannot occur inside a JSON string (control characters are escaped), so in
//! JSON Lines every line end is a record boundary, found without reading what comes before
//! it. A part's records are at the same offsets, with the same verdicts, as reading the whole
//! file line by line finds them; only the way a skipped line is named differs (by its byte
//! offset: a part does not know its first line's number).

use super::files::{json_lines, ParseOutcome, Parsed};
use crate::model::raw::{is_gzip, SourceFile};
use crate::model::record::max_record_len;
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;

/// One part of an input split by [`plan`]: the bytes it covers, and whether it is the input's
/// last (the one that completes it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Part {
    pub(super) range: Range<u64>,
    pub(super) last: bool,
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
            .map(|i| Part { range: starts[i]..starts.get(i + 1).copied().unwrap_or(file.size), last: i + 1 == n })
            .collect(),
    )
}

/// Whether the content starts as JSON Lines: its first line (after a byte order mark and
/// blank space) is a whole JSON object that is neither a trail log nor lookup-events output.
fn is_json_lines(f: &File) -> bool {
    let limit = max_record_len() + 4;
    let mut head = vec![0u8; 64 << 10];
    let mut len = 0;
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
