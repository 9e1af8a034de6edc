//! `trailscope print`: the same sources and filters as the TUI, written to standard output.

use crate::model::raw::RawReader;
use crate::model::{columns, time, EventStore};
use crate::query::{self, matcher::MatchCtx, Matcher, Term, TermKind};
use crate::sanitize::{sanitize, truncate_to_width, width};
use crate::source::boundary::{self, Links, LiveHistory, Source};
use crate::source::lookup::{LiveCmd, LiveQuery, LiveStatus, HISTORY_DAYS};
use crate::source::{load, Coverage, LoadOptions, LoadStats, Problem, SourceMsg};
use std::io::{self, Write};
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Each CloudTrail record, unchanged, on one line.
    Jsonl,
    /// One JSON array of records.
    Json,
    /// A header and one row per event with the list's columns.
    Csv,
    /// Aligned columns for a terminal.
    Table,
}

pub struct PrintRequest {
    /// Files to read; empty means live event history.
    pub paths: Vec<String>,
    pub live: crate::source::lookup::LiveConfig,
    pub filter: Option<String>,
    pub format: Format,
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// The store for the archive index (live history has its own in `live`).
    pub cache: Option<crate::cache::CacheConfig>,
}

/// Exit statuses, as documented in `--help`.
pub mod exit {
    pub const OK: i32 = 0;
    pub const NOTHING_READ: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const SOME_SKIPPED: i32 = 3;
}

/// Everything a source delivered, with what went wrong along the way.
pub struct Loaded {
    /// The events.
    pub store: EventStore,
    /// Inputs that failed or were read in part.
    pub problems: Vec<Problem>,
    /// The final counts.
    pub stats: LoadStats,
    /// About the cache, not the inputs (they do not change the exit status).
    pub warnings: Vec<String>,
    /// What each part of the source delivered completely, as it last said.
    pub coverage: Vec<Coverage>,
    /// Live history's last status, when it was asked.
    pub live: Option<LiveStatus>,
}

impl Loaded {
    fn new() -> Self {
        Loaded {
            store: EventStore::default(),
            problems: Vec::new(),
            stats: LoadStats::default(),
            warnings: Vec::new(),
            coverage: Vec::new(),
            live: None,
        }
    }

    /// Takes one message of a source.
    fn take(&mut self, msg: SourceMsg) {
        match msg {
            SourceMsg::Files(f) => self.store.add_files(f),
            SourceMsg::Batch(b, s) => {
                self.store.apply(b);
                self.stats = s;
            }
            SourceMsg::Problem(p) => self.problems.push(p),
            SourceMsg::Warning(w) => self.warnings.push(w),
            SourceMsg::Coverage(c) => match self.coverage.iter_mut().find(|o| o.part == c.part) {
                Some(old) => *old = c,
                None => self.coverage.push(c),
            },
            SourceMsg::Live(s) => self.live = Some(s),
            SourceMsg::Done(s) => self.stats = s,
        }
    }
}

/// Loads inputs completely (the headless path). `retain` keeps decompressed content for
/// reading every record back.
pub fn load_all(paths: &[String], raw: &RawReader, retain: bool) -> Loaded {
    load_all_with(paths, raw, LoadOptions { retain_content: retain, ..Default::default() })
}

/// [`load_all`] with options (the archive index, threads).
pub fn load_all_with(paths: &[String], raw: &RawReader, opts: LoadOptions) -> Loaded {
    let mut loaded = Loaded::new();
    load(paths, &opts, raw, &mut |msg| loaded.take(msg));
    loaded
}

/// Runs `source` on this thread until it is done, gathering what it delivers. `query` is
/// asked of it first (live history); progress of live history goes to `err` every few seconds.
pub fn gather(source: Box<dyn Source>, raw: &Arc<RawReader>, query: Option<LiveQuery>, err: &mut dyn Write) -> Loaded {
    let mut loaded = Loaded::new();
    let (cmd_tx, cmd_rx) = tokio::sync::mpsc::unbounded_channel();
    let (_hungry_tx, hungry_rx) = tokio::sync::watch::channel(true);
    if let Some(query) = query {
        let _ = cmd_tx.send(LiveCmd::Query { generation: 1, query });
    }
    // Nothing more is asked: a source that fetches on demand ends once this query is done.
    drop(cmd_tx);
    let mut last_report = std::time::Instant::now();
    let links = Links { raw: raw.clone(), cmds: cmd_rx, hungry: hungry_rx };
    source.run(links, &mut |msg| {
        if let SourceMsg::Live(s) = &msg {
            if last_report.elapsed().as_secs() >= 5 && !s.done {
                let _ = writeln!(err, "trailscope: {} requests, {} events so far", s.requests, s.scanned);
                last_report = std::time::Instant::now();
            }
        }
        loaded.take(msg)
    });
    loaded
}

/// Decompressed files kept while `print` reads records back. Newest-first output moves
/// through the files about as they cover time, and they are decompressed ahead in the order
/// they are first needed, so a cache for the files that overlap in time is enough.
pub const PRINT_CACHE_BYTES: usize = 128 << 20;

/// The default window of live history when neither `--since` nor `since:` says otherwise.
pub const DEFAULT_LIVE_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Why the query of a run cannot be built from its options: a usage error.
#[derive(Debug, thiserror::Error)]
pub enum QueryArgError {
    /// `--filter` does not parse.
    #[error("bad --filter: {0}")]
    Filter(#[from] query::QueryError),
    /// `--since` is later than `--until`: nothing could match.
    #[error("--since {} is later than --until {}: the window is empty", time::format_rfc3339(*.since), time::format_rfc3339(*.until))]
    EmptyWindow {
        /// `--since` (ms).
        since: i64,
        /// `--until` (ms).
        until: i64,
    },
}

/// The filter with `--since`/`--until` folded in.
pub fn build_query(
    filter: Option<&str>,
    since: Option<i64>,
    until: Option<i64>,
    now_ms: i64,
) -> Result<query::Query, QueryArgError> {
    if let (Some(since), Some(until)) = (since, until) {
        if since > until {
            return Err(QueryArgError::EmptyWindow { since, until });
        }
    }
    let mut q = query::parse(filter.unwrap_or(""), now_ms)?;
    if let Some(s) = since {
        q.terms.push(Term { negated: false, kind: TermKind::Since(s) });
    }
    if let Some(u) = until {
        q.terms.push(Term { negated: false, kind: TermKind::Until(u) });
    }
    Ok(q)
}

pub fn run(req: &PrintRequest, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let q = match build_query(req.filter.as_deref(), req.since, req.until, time::now_ms()) {
        Ok(q) => q,
        Err(e) => {
            let _ = writeln!(err, "trailscope: {e}");
            return exit::USAGE;
        }
    };
    // Records are read back for output through a bounded cache: newest-first order visits
    // trail files mostly one after another (each covers a few minutes), so each is
    // decompressed about once, while a load that prints little holds nothing.
    let raw = Arc::new(RawReader::new(PRINT_CACHE_BYTES));
    let loaded = if req.paths.is_empty() {
        let now = time::now_ms();
        let plan = crate::query::plan::plan(&q);
        let since = req.since.unwrap_or(now - DEFAULT_LIVE_WINDOW_MS).max(now - HISTORY_DAYS * 86_400_000);
        let query = LiveQuery::from_plan(&plan, since, req.until.unwrap_or(now));
        let _ = writeln!(
            err,
            "trailscope: {plan} · window {} to {}",
            time::format_rfc3339(query.start_ms),
            time::format_rfc3339(query.end_ms)
        );
        let live = LiveHistory { cfg: req.live.clone(), until_done: true };
        let mut loaded = gather(Box::new(live), &raw, Some(query), err);
        loaded.live.get_or_insert_with(LiveStatus::default);
        if let Some(p) = loaded.problems.iter().find(|p| p.stops_live_history()) {
            let _ = writeln!(err, "trailscope: {}", sanitize(&p.reason));
            return exit::NOTHING_READ;
        }
        loaded
    } else {
        let opts = LoadOptions { cache: req.cache.clone(), ..Default::default() };
        gather(Box::new(boundary::for_inputs(&req.paths, &opts)), &raw, None, err)
    };
    let mut matcher = Matcher::new(&q);
    matcher.prepare(&loaded.store);
    let ctx = MatchCtx { store: &loaded.store, raw: &raw };
    // Filter in the order events are stored (memory order, so the scan is cheap), then sort
    // only what matched, newest first.
    let all: Vec<u32> = (0..loaded.store.len() as u32).collect();
    let mut shown = matcher.filter(&all, &ctx);
    drop(all);
    loaded.store.sort_indices(&mut shown);
    let written = write_events(req.format, &loaded.store, &raw, &shown, out, err);
    let unread = *written.as_ref().unwrap_or(&0);
    let counts = Matched { shown: shown.len(), unread };
    match &loaded.live {
        Some(s) => report_live(&loaded, s, counts, err),
        None => report(&loaded, counts, err),
    }
    if let Err(e) = written {
        if e.kind() != io::ErrorKind::BrokenPipe {
            let _ = writeln!(err, "trailscope: writing output failed: {e}");
            return exit::NOTHING_READ;
        }
    }
    match exit_status(&loaded) {
        exit::OK if unread > 0 => exit::SOME_SKIPPED,
        status => status,
    }
}

/// What matched, and how many of those could not be written (their records could not be
/// read back: the file changed or is gone).
#[derive(Clone, Copy)]
struct Matched {
    shown: usize,
    unread: usize,
}

impl std::fmt::Display for Matched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} matched", self.shown)?;
        if self.unread > 0 {
            write!(f, " ({} printed, {} could not be read back)", self.shown - self.unread, self.unread)?;
        }
        Ok(())
    }
}

fn report_live(loaded: &Loaded, s: &LiveStatus, shown: Matched, err: &mut dyn Write) {
    let regions: Vec<String> = s.regions.iter().map(|r| format!("{} {} pages", sanitize(&r.region), r.pages)).collect();
    for note in &s.cache_notes {
        let _ = writeln!(err, "trailscope: warning: {}", sanitize(note));
    }
    let source = if s.offline { "the cache (offline)" } else { "live history" };
    let _ = writeln!(
        err,
        "trailscope: {} events from {source} ({}; cache {}, AWS {}; {} requests), {} duplicates collapsed, {}",
        loaded.stats.events,
        regions.join(", "),
        s.cached,
        s.scanned,
        s.requests,
        loaded.stats.duplicates,
        shown
    );
    for p in &loaded.problems {
        let what = if p.skipped { "failed" } else { "incomplete" };
        let _ = writeln!(err, "  {what}: {}: {}", p.input, sanitize(&p.reason));
    }
    if shown.shown == 0 && loaded.problems.is_empty() && !s.offline {
        let _ = writeln!(err, "trailscope: {}", crate::source::lookup::EMPTY_HINT);
    }
}

/// 1 when nothing was read (no file; live history: every region failed before a page, and
/// the cache had nothing), 3 when some input failed, 0 otherwise. An empty result that was read
/// completely is 0.
pub fn exit_status(loaded: &Loaded) -> i32 {
    let live_failed = loaded
        .live
        .as_ref()
        .is_some_and(|s| s.cached == 0 && s.regions.iter().all(|r| r.error.is_some() && r.pages == 0));
    if loaded.stats.files_read == 0 || live_failed {
        exit::NOTHING_READ
    } else if !loaded.problems.is_empty() {
        exit::SOME_SKIPPED
    } else {
        exit::OK
    }
}

fn report(loaded: &Loaded, shown: Matched, err: &mut dyn Write) {
    for w in &loaded.warnings {
        let _ = writeln!(err, "trailscope: warning: {}", sanitize(w));
    }
    let s = &loaded.stats;
    let mut line = format!("trailscope: {} events read from {} of {} files", s.events, s.files_read, s.files_total);
    if s.digests > 0 {
        line.push_str(&format!(" ({} digest files, not events)", s.digests));
    }
    line.push_str(&format!(", {} duplicates collapsed, {}", s.duplicates, shown));
    let skipped = loaded.problems.iter().filter(|p| p.skipped).count();
    let partial = loaded.problems.len() - skipped;
    if skipped > 0 {
        line.push_str(&format!(", {skipped} inputs skipped"));
    }
    if partial > 0 {
        line.push_str(&format!(", {partial} inputs read in part"));
    }
    let _ = writeln!(err, "{line}");
    if s.files_total == 0 && loaded.problems.is_empty() {
        let _ = writeln!(err, "trailscope: no files found in the given paths");
    }
    for p in &loaded.problems {
        let what = if p.skipped { "skipped" } else { "read in part" };
        let _ = writeln!(err, "  {what}: {}: {}", p.input, sanitize(&p.reason));
    }
}

/// Writes the `shown` events in `format`; how many could not be (their records could not be
/// read back), each input with such records named once on `err`.
pub fn write_events(
    format: Format,
    store: &EventStore,
    raw: &RawReader,
    shown: &[u32],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<usize> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let mut unread = 0;
    match format {
        Format::Jsonl | Format::Json => {
            unread = write_records(format == Format::Json, store, raw, shown, &mut out, err)?;
        }
        Format::Csv => {
            writeln!(out, "{}", columns::HEADERS.join(","))?;
            for &i in shown {
                write_csv_row(store, i, &mut out)?;
            }
        }
        Format::Table => write_table(store, shown, &mut out)?,
    }
    out.flush()?;
    Ok(unread)
}

/// One event as a CSV row of the list's columns (time in RFC 3339, cells neutralised).
pub fn write_csv_row(store: &EventStore, event: u32, out: &mut dyn Write) -> io::Result<()> {
    let ev = &store.events[event as usize];
    let mut cells = columns::cells(store, ev, false);
    cells[0] = time::format_rfc3339(ev.time).into();
    let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
    writeln!(out, "{}", row.join(","))
}

/// Writes every shown record back; how many could not be read back. Files are decompressed
/// on another thread in the order the records will need them, a couple of files ahead, so
/// inflating overlaps writing.
fn write_records(
    json: bool,
    store: &EventStore,
    raw: &RawReader,
    shown: &[u32],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<usize> {
    let mut first_need = Vec::new();
    let mut seen = vec![false; store.files.len()];
    for &i in shown {
        let f = store.events[i as usize].loc.file as usize;
        if let Some(s) = seen.get_mut(f).filter(|s| !**s) {
            *s = true;
            first_need.push(f);
        }
    }
    std::thread::scope(|scope| {
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<()>(2);
        let order = &first_need;
        scope.spawn(move || {
            for &f in order {
                raw.prefetch(&store.files[f]);
                if ready_tx.send(()).is_err() {
                    break;
                }
            }
        });
        seen.iter_mut().for_each(|s| *s = false);
        if json {
            out.write_all(b"[")?;
        }
        let mut first = true;
        let mut unread = Unread::default();
        for &i in shown {
            let ev = &store.events[i as usize];
            let Some(file) = store.file_of(ev) else {
                continue;
            };
            if let Some(s) = seen.get_mut(ev.loc.file as usize).filter(|s| !**s) {
                // The first record of this file: wait until the prefetcher has it.
                *s = true;
                let _ = ready_rx.recv();
            }
            match raw.read(file, ev.loc) {
                Ok(bytes) => {
                    if json {
                        out.write_all(if first { b"\n" } else { b",\n" })?;
                    }
                    first = false;
                    write_compact(&bytes, out)?;
                    if !json {
                        out.write_all(b"\n")?;
                    }
                }
                Err(e) => unread.add(ev.loc.file, e),
            }
        }
        // Let the prefetcher finish early if output stopped (a closed pipe).
        drop(ready_rx);
        if json {
            out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
        }
        Ok(unread.report(store, err))
    })
}

/// Records that could not be read back, per input: one line each, not one per record.
#[derive(Default)]
struct Unread {
    /// Input, records, why the first failed; in the order met.
    inputs: Vec<(u32, usize, String)>,
    /// Where each input is in `inputs`.
    index: std::collections::HashMap<u32, usize>,
}

impl Unread {
    fn add(&mut self, file: u32, e: crate::model::raw::ReadError) {
        let at = *self.index.entry(file).or_insert_with(|| {
            self.inputs.push((file, 0, e.to_string()));
            self.inputs.len() - 1
        });
        self.inputs[at].1 += 1;
    }

    /// Says which inputs had records that could not be read back; how many records in all.
    fn report(&self, store: &EventStore, err: &mut dyn Write) -> usize {
        for (file, n, why) in &self.inputs {
            let name = store.files.get(*file as usize).map_or("?", |f| f.display.as_str());
            let records = if *n == 1 { "1 record".to_string() } else { format!("{n} records") };
            let _ = writeln!(err, "trailscope: could not read back {records} of {name}: {}", sanitize(why));
        }
        self.inputs.iter().map(|(_, n, _)| n).sum()
    }
}

/// Writes a JSON document on one line: whitespace outside strings is dropped, everything
/// else is copied byte for byte, so the record is unchanged.
pub fn write_compact(bytes: &[u8], out: &mut dyn Write) -> io::Result<()> {
    if memchr::memchr2(b'\n', b'\r', bytes).is_none() {
        let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
        let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
        return out.write_all(&bytes[start..end]);
    }
    let mut buf = Vec::with_capacity(bytes.len());
    let (mut in_str, mut escaped) = (false, false);
    for &b in bytes {
        if in_str {
            buf.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
        } else if b == b'"' {
            in_str = true;
            buf.push(b);
        } else if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            buf.push(b);
        }
    }
    out.write_all(&buf)
}

/// A CSV cell: sanitised, quoted when needed, and neutralised against spreadsheet formula
/// injection (a leading `=`, `+`, `-`, `@`, tab or CR gets a `'` in front).
pub fn csv_cell(s: &str) -> String {
    let s = sanitize(s);
    let s: std::borrow::Cow<str> = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}").into() } else { s };
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

fn write_table(store: &EventStore, shown: &[u32], out: &mut dyn Write) -> io::Result<()> {
    const MAX: [usize; 7] = [20, 40, 40, 39, 16, 32, 32];
    let rows: Vec<[String; 7]> = shown
        .iter()
        .map(|&i| {
            let cells = columns::cells(store, &store.events[i as usize], true);
            std::array::from_fn(|c| truncate_to_width(&sanitize(&cells[c]), MAX[c]).into_owned())
        })
        .collect();
    let mut widths: [usize; 7] = std::array::from_fn(|c| columns::HEADERS[c].len());
    for r in &rows {
        for c in 0..7 {
            widths[c] = widths[c].max(width(&r[c]));
        }
    }
    let line = |cells: &[&str]| {
        let mut s = String::new();
        for (c, cell) in cells.iter().enumerate() {
            s.push_str(cell);
            if c + 1 < cells.len() {
                s.push_str(&" ".repeat(widths[c] - width(cell) + 2));
            }
        }
        s.truncate(s.trim_end().len());
        s
    };
    let headers: Vec<String> = columns::HEADERS.iter().map(|h| h.to_uppercase()).collect();
    writeln!(out, "{}", line(&headers.iter().map(String::as_str).collect::<Vec<_>>()))?;
    for r in &rows {
        writeln!(out, "{}", line(&r.iter().map(String::as_str).collect::<Vec<_>>()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacting_keeps_strings() {
        let mut out = Vec::new();
        write_compact(b"{\n  \"a\": \"x y\\\" \\n z\",\n  \"b\" : [1, 2]\n}\n", &mut out).unwrap();
        assert_eq!(out, b"{\"a\":\"x y\\\" \\n z\",\"b\":[1,2]}");
    }

    #[test]
    fn csv_cells_are_safe() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("a\u{1b}[2Jb"), "a\\e[2Jb");
        assert_eq!(csv_cell("plain"), "plain");
    }
}
