//! `trailscope print`: the same sources and filters as the TUI, written to standard output.

mod athena;
pub use athena::{ddl as athena_ddl, sql as athena_sql, DdlRequest};
pub mod detect;
mod logs;
mod s3;
mod select;
mod stream;
mod write;

pub use select::{RecordRow, Row, Rows, Selection};
pub use write::{csv_cell, table_width, write_compact, write_csv_row, write_events};
pub(crate) use write::{read_event_ids, Unread};

use crate::model::raw::RawReader;
use crate::model::{time, EventStore, RawLoc};
use crate::query::{self, Term, TermKind};
use crate::sanitize::{noun, sanitize};
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
    /// How `s3://` inputs are read.
    pub s3: crate::source::s3::S3Config,
    /// Log groups of CloudWatch Logs (`--log-group`, `--trail … --logs`).
    pub logs: crate::source::logs::LogsConfig,
    /// An Athena table asked instead (`--athena`).
    pub athena: crate::source::athena::AthenaConfig,
    /// The width `--format table` fits its rows to ([`write::table_width`]); `None`: whole rows.
    pub table_width: Option<usize>,
    /// Sigma rules, evaluated when the filter asks about detections (`rule:`, `level:`,
    /// `has:rule`).
    pub rules: Vec<std::path::PathBuf>,
    /// Hands memory the process freed back to the system (the binary knows its allocator):
    /// called once the events are freed, before records are read back, so that decompressed
    /// files take the room the events left instead of adding to it.
    pub give_back_memory: Option<fn()>,
}

/// Exit statuses, as documented in `--help`.
pub mod exit {
    pub const OK: i32 = 0;
    pub const NOTHING_READ: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const SOME_SKIPPED: i32 = 3;
    /// `detect`: at least one event matched a rule (outranks 3).
    pub const DETECTED: i32 = 5;
}

/// Everything a source delivered, with what went wrong along the way.
pub struct Loaded {
    /// The events.
    pub store: EventStore,
    /// Inputs that failed or were read in part.
    pub problems: Vec<Problem>,
    /// What is worth knowing about inputs read in full (they do not change the exit status).
    pub notes: Vec<Problem>,
    /// The final counts.
    pub stats: LoadStats,
    /// About the cache, not the inputs (they do not change the exit status).
    pub warnings: Vec<String>,
    /// What each part of the source delivered completely, as it last said.
    pub coverage: Vec<Coverage>,
    /// Live history's last status, when it was asked.
    pub live: Option<LiveStatus>,
    /// With the filter known before loading (`print`): the events it selects, kept as each
    /// batch arrives (the store then keeps none).
    pub selection: Option<Selection>,
}

impl Loaded {
    pub(crate) fn new() -> Self {
        Loaded {
            store: EventStore::default(),
            problems: Vec::new(),
            notes: Vec::new(),
            stats: LoadStats::default(),
            warnings: Vec::new(),
            coverage: Vec::new(),
            live: None,
            selection: None,
        }
    }

    /// For `print` of `q` in `format`: selecting as events arrive (see [`Selection`]), with
    /// the detection `rules` the filter asks about.
    pub(crate) fn for_print(
        q: &query::Query,
        raw: &Arc<RawReader>,
        format: Format,
        rules: Option<Arc<crate::sigma::RuleSet>>,
    ) -> Self {
        let columns = matches!(format, Format::Csv | Format::Table);
        Loaded { selection: Some(Selection::new(q, raw.clone(), columns, rules)), ..Loaded::new() }
    }

    /// Takes one message of a source.
    pub(crate) fn take(&mut self, msg: SourceMsg) {
        match msg {
            SourceMsg::Files(f) => self.store.add_files(f),
            SourceMsg::Batch(b, s) => {
                self.store.apply(b);
                if let Some(sel) = &mut self.selection {
                    sel.take_batch(&mut self.store);
                }
                self.stats = s;
            }
            SourceMsg::Problem(p) => self.problems.push(p),
            SourceMsg::Note(p) => self.notes.push(p),
            SourceMsg::Warning(w) => self.warnings.push(w),
            SourceMsg::Coverage(c) => match self.coverage.iter_mut().find(|o| o.part == c.part) {
                Some(old) => *old = c,
                None => self.coverage.push(c),
            },
            SourceMsg::Live(s) => self.live = Some(s),
            // The S3 source's own status is read once it is done (print/s3.rs).
            SourceMsg::Remote(_) | SourceMsg::Logs(_) | SourceMsg::Athena(_) => {}
            // What the TUI says in its status bar; a script's stderr stays for problems.
            SourceMsg::Info(_) => {}
            SourceMsg::Done(s) => self.stats = s,
            // Sent only to a consumer that takes it (`LoadOptions::withdrawable`), which `print`
            // is not: what it writes cannot be taken back.
            SourceMsg::Restart => {}
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
    gather_into(Loaded::new(), source, raw, query, err)
}

/// [`gather`] into `loaded` (which may select as it goes).
fn gather_into(
    mut loaded: Loaded,
    source: Box<dyn Source>,
    raw: &Arc<RawReader>,
    query: Option<LiveQuery>,
    err: &mut dyn Write,
) -> Loaded {
    let (cmd_tx, cmd_rx) = tokio::sync::mpsc::unbounded_channel();
    let (_hungry_tx, hungry_rx) = tokio::sync::watch::channel(true);
    if let Some(query) = query {
        let _ = cmd_tx.send(LiveCmd::Query { generation: 1, query });
    }
    // Nothing more is asked: a source that fetches on demand ends once this query is done.
    drop(cmd_tx);
    let mut progress = Progress::new();
    let links = Links { raw: raw.clone(), cmds: cmd_rx, hungry: hungry_rx };
    source.run(links, &mut |msg| {
        if let SourceMsg::Live(s) = &msg {
            progress.report(s, err);
        }
        loaded.take(msg)
    });
    loaded
}

/// Says how a long fetch of live history is going, every few seconds.
struct Progress {
    last: std::time::Instant,
}

impl Progress {
    fn new() -> Self {
        Progress { last: std::time::Instant::now() }
    }

    fn report(&mut self, s: &LiveStatus, err: &mut dyn Write) {
        if self.last.elapsed().as_secs() >= 5 && !s.done {
            let _ = writeln!(err, "trailscope: {} requests, {} events so far", s.requests, s.scanned);
            self.last = std::time::Instant::now();
        }
    }
}

/// The problem of a source whose thread could not start: nothing comes from it.
fn thread_failed(e: &io::Error) -> SourceMsg {
    SourceMsg::Problem(Problem {
        input: crate::source::lookup::LIVE_INPUT.into(),
        reason: format!("could not start a thread for it: {e}"),
        skipped: true,
    })
}

/// Decompressed files kept while `print` reads records back. Newest-first output moves
/// through the files about as they cover time, and they are decompressed ahead in the order
/// they are first needed, so a cache for the files that overlap in time is enough.
pub const PRINT_CACHE_BYTES: usize = 128 << 20;

/// How many bytes of records the filter's `text:` and `resource:` terms may select are kept
/// as they are parsed, so that writing them decompresses no file again; past this, the rest
/// are read back.
pub const PRINT_KEEP_BYTES: usize = 16 << 20;

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

/// The window of a query's time terms, for pruning log files by the delivery time in their
/// names (`lag_ms`: how late a file may be delivered); `None` without a time term.
pub fn local_window(q: &query::Query, lag_ms: i64) -> Option<crate::source::s3::layout::Window> {
    let plan = crate::query::plan::plan(q);
    (plan.since.is_some() || plan.until.is_some()).then(|| crate::source::s3::layout::Window {
        start_ms: plan.since.unwrap_or(i64::MIN / 4),
        end_ms: plan.until.unwrap_or(i64::MAX / 4),
        lag_ms,
    })
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
    let mut q = match build_query(req.filter.as_deref(), req.since, req.until, time::now_ms()) {
        Ok(q) => q,
        Err(e) => {
            let _ = writeln!(err, "trailscope: {e}");
            return exit::USAGE;
        }
    };
    let rules = match detect::rules_for_filter(&q, &req.rules) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "trailscope: {e}");
            return exit::USAGE;
        }
    };
    if let Some(r) = &rules {
        detect::report_rules(r, err);
    }
    // Evaluated by the sources where they parse each record.
    let rules = rules.map(Arc::new);
    // Records are read back for output through a bounded cache: newest-first order visits
    // trail files mostly one after another (each covers a few minutes), so each is
    // decompressed about once, while a load that prints little holds nothing.
    let raw = Arc::new(RawReader::new(PRINT_CACHE_BYTES));
    // What each load keeps: the events the (final) filter selects, as they arrive.
    let into = |q: &query::Query| Loaded::for_print(q, &raw, req.format, rules.clone());
    let remote = crate::source::s3::is_remote(&req.paths, &req.s3);
    let mut s3_status = None;
    let mut logs_status = None;
    let mut athena_status = None;
    let (loaded, shown, written) = if req.athena.is_used() {
        match athena::load(req, &mut q, &raw, rules.clone(), &into, err) {
            Ok((mut loaded, status)) => {
                athena_status = Some(status);
                let (shown, written) = select_and_write(&mut loaded, &raw, req, out, err);
                (loaded, shown, written)
            }
            Err(e) => {
                let _ = writeln!(err, "trailscope: {}", sanitize(&e));
                return exit::USAGE;
            }
        }
    } else if req.logs.is_used() {
        match logs::load(req, &mut q, &raw, rules.clone(), &into, err) {
            Ok((mut loaded, status)) => {
                logs_status = Some(status);
                let (shown, written) = select_and_write(&mut loaded, &raw, req, out, err);
                (loaded, shown, written)
            }
            Err(e) => {
                let _ = writeln!(err, "trailscope: {}", sanitize(&e));
                return exit::USAGE;
            }
        }
    } else if remote {
        match s3::load(req, &mut q, &raw, rules.clone(), &into) {
            Ok((mut loaded, status)) => {
                s3_status = Some(status);
                let (shown, written) = select_and_write(&mut loaded, &raw, req, out, err);
                (loaded, shown, written)
            }
            Err(e) => {
                let _ = writeln!(err, "trailscope: {}", sanitize(&e));
                return exit::USAGE;
            }
        }
    } else if req.paths.is_empty() {
        match run_live(req, &q, &raw, rules.clone(), out, err) {
            Ok(done) => done,
            Err(code) => return code,
        }
    } else {
        let opts = LoadOptions {
            cache: req.cache.clone(),
            window: local_window(&q, req.s3.lag_ms),
            rules: rules.clone().map(Into::into),
            // Decided where each record is parsed, not by reading every record back.
            terms: crate::query::matcher::LoadTerms::of(&q, PRINT_KEEP_BYTES).map(Arc::new),
            ..Default::default()
        };
        // The filter selects as events arrive.
        let mut loaded = gather_into(into(&q), Box::new(boundary::for_inputs(&req.paths, &opts)), &raw, None, err);
        let (shown, written) = select_and_write(&mut loaded, &raw, req, out, err);
        (loaded, shown, written)
    };
    let unread = *written.as_ref().unwrap_or(&0);
    let counts = Matched { shown, unread, rows_kept: req.format == Format::Csv };
    if let Some(s) = &logs_status {
        logs::report(s, err);
    }
    if let Some(s) = &athena_status {
        athena::report(s, err);
    }
    match (&loaded.live, &s3_status) {
        (Some(s), _) => report_live(&loaded, s, counts, err),
        (None, Some((s, window))) => {
            s3::report(s, window, err);
            report(&loaded, counts, err)
        }
        (None, None) => report(&loaded, counts, err),
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

/// Live history for `print`: one region is written as pages arrive (unless as a table);
/// several are gathered, then sorted. `Err`: the exit status of a source that could not
/// start (said on `err`).
fn run_live(
    req: &PrintRequest,
    q: &query::Query,
    raw: &Arc<RawReader>,
    rules: Option<Arc<crate::sigma::RuleSet>>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(Loaded, usize, io::Result<usize>), i32> {
    let now = time::now_ms();
    let plan = crate::query::plan::plan(q);
    let since = req.since.unwrap_or(now - DEFAULT_LIVE_WINDOW_MS).max(now - HISTORY_DAYS * 86_400_000);
    let query = LiveQuery::from_plan(&plan, since, req.until.unwrap_or(now));
    let _ = writeln!(
        err,
        "trailscope: {plan} · window {} to {}",
        time::format_rfc3339(query.start_ms),
        time::format_rfc3339(query.end_ms)
    );
    let live = Box::new(LiveHistory { cfg: req.live.clone(), until_done: true });
    let regions = &req.live.regions;
    let one_region = regions.len() <= 1 && !regions.iter().any(|r| r == "all");
    // Detections are evaluated over what was gathered: a filter that asks about them is not streamed.
    let (mut loaded, shown, written) = if one_region && req.format != Format::Table && rules.is_none() {
        let s = stream::run(live, raw, query, q, req.format, out, err);
        (s.loaded, s.shown, s.written)
    } else {
        let mut loaded = gather_into(Loaded::for_print(q, raw, req.format, rules), live, raw, Some(query), err);
        if !loaded.problems.iter().any(|p| p.stops_live_history()) {
            let (shown, written) = select_and_write(&mut loaded, raw, req, out, err);
            (loaded, shown, written)
        } else {
            (loaded, 0, Ok(0))
        }
    };
    loaded.live.get_or_insert_with(LiveStatus::default);
    if let Some(p) = loaded.problems.iter().find(|p| p.stops_live_history()) {
        let _ = writeln!(err, "trailscope: {}", sanitize(&p.reason));
        return Err(exit::NOTHING_READ);
    }
    Ok((loaded, shown, written))
}

/// Writes what the load's selection kept, newest first; how many matched, and how writing
/// went. A load not made for `print` (no selection) writes nothing.
fn select_and_write(
    loaded: &mut Loaded,
    raw: &RawReader,
    req: &PrintRequest,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> (usize, io::Result<usize>) {
    match loaded.selection.take().map(Selection::into_sorted) {
        Some(Rows::Records(rows)) => {
            // Only where the records are is kept while they are read back: the rest of the
            // store is freed, so their decompressed content has that room.
            let locs: Vec<RawLoc> = rows.iter().map(RecordRow::loc).collect();
            drop(rows);
            let files = std::mem::take(&mut loaded.store).files;
            req.give_back_memory.inspect(|f| f());
            (locs.len(), write::write_records(req.format == Format::Json, &files, raw, &locs, out, err))
        }
        Some(Rows::Columns(rows)) => {
            let event = |k: usize| rows[k].event();
            (rows.len(), write_events(req.format, req.table_width, &loaded.store, raw, rows.len(), &event, out, err))
        }
        None => (0, Ok(0)),
    }
}

/// What matched, and how many of those could not be written (their records could not be
/// read back: the file changed or is gone).
#[derive(Clone, Copy)]
pub(crate) struct Matched {
    pub(crate) shown: usize,
    pub(crate) unread: usize,
    /// The format writes a row for a record it cannot read (CSV: its eventID left empty).
    pub(crate) rows_kept: bool,
}

impl std::fmt::Display for Matched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} matched", self.shown)?;
        if self.unread > 0 && self.rows_kept {
            write!(f, " ({} without their eventID: their records could not be read back)", self.unread)?;
        } else if self.unread > 0 {
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
    for p in &loaded.notes {
        let _ = writeln!(err, "  note: {}: {}", p.input, sanitize(&p.reason));
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
    // Files left unread because the window excludes them were not failures: nothing matched.
    let pruned_all = loaded.stats.files_total == 0 && loaded.stats.outside_window > 0 && loaded.problems.is_empty();
    if (loaded.stats.files_read == 0 && !pruned_all) || live_failed {
        exit::NOTHING_READ
    } else if !loaded.problems.is_empty() {
        exit::SOME_SKIPPED
    } else {
        exit::OK
    }
}

pub(crate) fn report(loaded: &Loaded, shown: Matched, err: &mut dyn Write) {
    for w in &loaded.warnings {
        let _ = writeln!(err, "trailscope: warning: {}", sanitize(w));
    }
    let s = &loaded.stats;
    let mut line = format!(
        "trailscope: {} {} read from {} of {} {}",
        s.events,
        noun(s.events, "event", "events"),
        s.files_read,
        s.files_total,
        noun(s.files_total, "file", "files")
    );
    if s.digests > 0 {
        line.push_str(&format!(" ({} digest {}, not events)", s.digests, noun(s.digests, "file", "files")));
    }
    if s.outside_window > 0 {
        line.push_str(&format!(
            " ({} more {} not read: delivered outside the window)",
            s.outside_window,
            noun(s.outside_window, "log file", "log files")
        ));
    }
    line.push_str(&format!(
        ", {} {} collapsed, {}",
        s.duplicates,
        noun(s.duplicates, "duplicate", "duplicates"),
        shown
    ));
    let skipped = loaded.problems.iter().filter(|p| p.skipped).count();
    let partial = loaded.problems.len() - skipped;
    if skipped > 0 {
        line.push_str(&format!(", {skipped} {} skipped", noun(skipped, "input", "inputs")));
    }
    if partial > 0 {
        line.push_str(&format!(", {partial} {} read in part", noun(partial, "input", "inputs")));
    }
    if s.untimed > 0 {
        line.push_str(&format!(", {} events without a readable eventTime", s.untimed));
    }
    let _ = writeln!(err, "{line}");
    if s.files_total == 0 && s.outside_window == 0 && loaded.problems.is_empty() {
        let _ = writeln!(err, "trailscope: no files found in the given paths");
    }
    for p in &loaded.problems {
        let what = if p.skipped { "skipped" } else { "read in part" };
        let _ = writeln!(err, "  {what}: {}: {}", p.input, sanitize(&p.reason));
    }
    for p in &loaded.notes {
        let _ = writeln!(err, "  note: {}: {}", p.input, sanitize(&p.reason));
    }
}
