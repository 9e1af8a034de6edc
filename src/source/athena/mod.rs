//! Athena as a source, for archives too large for one machine: the filter and the window are
//! compiled to SQL over the documented CloudTrail table ([`crate::athena::sql`]) and Athena
//! does the scan. The answer comes back one of two ways:
//!
//! 1. `SELECT DISTINCT "$path"`: the log files that hold matches, fetched through the S3
//!    source (its cache included) and read like any archive: complete, original records.
//! 2. When those files are too many (`--athena-max-files`), or the table has no `"$path"`, the
//!    matching rows' columns, paged 1,000 at a time and shown as events whose input says they
//!    are Athena's projection of the record.
//!
//! Every term is checked again locally by whoever shows the events, so terms Athena can only
//! narrow (bare words, `text:`) are exact in the end. [`client`] runs one query to its end.

pub mod client;
pub mod layout;
pub mod remembered;

use super::boundary::{Links, Source};
use super::s3::{KeyList, S3Archive, S3Config};
use super::{load_found, Found, LoadOptions, Problem, SourceMsg};
use crate::athena::sql::{self, Compiled, SqlOptions};
use crate::model::raw::{RawReader, SourceFile};
use crate::source::s3::fetch::Connect;
use client::{QueryError, Rows, Target};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What problems about Athena as a whole are reported as coming from.
pub const ATHENA_INPUT: &str = "Athena";
/// Rows asked of GetQueryResults at a time (its most).
pub const PAGE_ROWS: i32 = 1000;
/// At most this many files are fetched for the original records; more, and the rows' columns
/// are asked for instead.
pub const DEFAULT_MAX_FILES: usize = 2000;
/// Athena's published price, in US dollars per TB (2^40 bytes) scanned (us-east-1).
pub const USD_PER_TB: f64 = 5.0;
/// The least a query is billed for: 10 MB.
pub const MIN_BILLED_BYTES: u64 = 10 << 20;

/// How Athena is asked.
#[derive(Clone, Debug, Default)]
pub struct AthenaConfig {
    /// Profile, region, endpoint, timeout.
    pub connect: Connect,
    /// The table (`--athena TABLE`, or `DATABASE.TABLE`); `None`: Athena is not used.
    pub table: Option<String>,
    /// Its database (`--athena-database`), unless the table names it.
    pub database: Option<String>,
    /// The workgroup (`--workgroup`); `None`: the account's `primary`.
    pub workgroup: Option<String>,
    /// Where Athena writes results (`--athena-output`), unless the workgroup says.
    pub output: Option<String>,
    /// The table is an organisation trail's (partitioned by account and region too).
    pub org: bool,
    /// The most files fetched whole before the rows' columns are asked for instead.
    pub max_files: usize,
    /// The first wait between GetQueryExecution calls; `None`: 500 ms (tests shorten it).
    pub poll: Option<Duration>,
    /// How the files of `"$path"` are fetched (and cached).
    pub s3: S3Config,
    /// The local store: the files fetched, and which query answered which SQL.
    pub cache: Option<crate::cache::CacheConfig>,
}

impl AthenaConfig {
    /// Whether a command line asks Athena.
    pub fn is_used(&self) -> bool {
        self.table.is_some()
    }

    /// The database and the table, from `--athena` and `--athena-database`.
    pub fn names(&self) -> (Option<String>, String) {
        let table = self.table.clone().unwrap_or_default();
        match table.split_once('.') {
            Some((db, t)) if self.database.is_none() && !db.is_empty() && !t.is_empty() => {
                (Some(db.to_string()), t.to_string())
            }
            _ => (self.database.clone(), table),
        }
    }
}

/// One query sent to Athena.
#[derive(Clone, Debug, Default)]
pub struct QueryRun {
    /// `files` (the `"$path"` query) or `rows`.
    pub kind: &'static str,
    /// The query execution id.
    pub id: String,
    /// QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED.
    pub state: String,
    /// Bytes scanned so far.
    pub scanned: u64,
    /// Time the engine took so far.
    pub engine_ms: u64,
    /// Athena reused an earlier query's results (nothing scanned, nothing billed).
    pub reused: bool,
    /// The results of an earlier run of the same SQL, remembered locally, were used.
    pub remembered: bool,
    /// Where the results are.
    pub output: Option<String>,
    /// Rows read back.
    pub rows: usize,
}

impl QueryRun {
    /// What it is billed: the bytes scanned rounded up to a megabyte, 10 MB at least; nothing
    /// for reused results.
    pub fn billed_bytes(&self) -> u64 {
        if self.reused || self.remembered || self.state == "FAILED" || self.id.is_empty() {
            return 0;
        }
        self.scanned.div_ceil(1 << 20).saturating_mul(1 << 20).max(MIN_BILLED_BYTES)
    }
}

/// What the Athena part of a load did, for the status bar and `print`'s report.
#[derive(Clone, Debug, Default)]
pub struct AthenaStatus {
    /// `database.table`.
    pub table: String,
    /// The queries sent, in order.
    pub queries: Vec<QueryRun>,
    /// The files that hold matches, when asked.
    pub files: Option<usize>,
    /// Why the rows' columns are shown instead of the original records.
    pub projection: Option<String>,
    /// Every term has an exact SQL translation (else Athena's answer is narrowed here).
    pub exact: bool,
    /// Asking Athena is over (fetching the files may go on).
    pub done: bool,
}

impl AthenaStatus {
    /// The price of the bytes scanned, at [`USD_PER_TB`].
    pub fn cost_usd(&self) -> f64 {
        let billed: u64 = self.queries.iter().map(QueryRun::billed_bytes).sum();
        billed as f64 / (1u64 << 40) as f64 * USD_PER_TB
    }

    /// One line: `athena cloudtrail_logs · files query 1a2b3c4d SUCCEEDED · 1.2 GB scanned ≈ $0.0055 · 3.4 s · 12 files`.
    pub fn plan_line(&self) -> String {
        let mut s = format!("athena {}", crate::sanitize::sanitize(&self.table));
        if let Some(q) = self.queries.last() {
            let id: String = q.id.chars().take(8).collect();
            s.push_str(&format!(" · {} query {} {}", q.kind, crate::sanitize::sanitize(&id), q.state));
        }
        let scanned: u64 = self.queries.iter().map(|q| q.scanned).sum();
        let cost = self.cost_usd();
        if cost > 0.0 && cost < 0.0001 {
            s.push_str(&format!(" · {} scanned ≈ <$0.0001", crate::sanitize::human_bytes(scanned)));
        } else {
            s.push_str(&format!(" · {} scanned ≈ ${cost:.4}", crate::sanitize::human_bytes(scanned)));
        }
        let ms: u64 = self.queries.iter().map(|q| q.engine_ms).sum();
        s.push_str(&format!(" · {:.1} s", ms as f64 / 1000.0));
        if self.queries.iter().any(|q| q.reused || q.remembered) {
            s.push_str(" · results reused");
        }
        if let Some(n) = self.files {
            s.push_str(&format!(" · {} {}", n, crate::sanitize::noun(n, "file", "files")));
        }
        if self.projection.is_some() {
            s.push_str(" · rows: Athena's projection");
        }
        s
    }
}

impl AthenaStatus {
    /// The status bar's form: `athena 1a2b3c4d SUCCEEDED · 1.2 GB ≈ $0.0055 · 12 files`.
    pub fn short_line(&self) -> String {
        let mut s = String::from("athena");
        if let Some(q) = self.queries.last() {
            let id: String = q.id.chars().take(8).collect();
            let kind = if q.kind == "rows" { " rows" } else { "" };
            s.push_str(&format!("{kind} {} {}", crate::sanitize::sanitize(&id), q.state));
        }
        let scanned: u64 = self.queries.iter().map(|q| q.scanned).sum();
        let cost = self.cost_usd();
        if cost > 0.0 && cost < 0.0001 {
            s.push_str(&format!(" · {} ≈ <$0.0001", crate::sanitize::human_bytes(scanned)));
        } else {
            s.push_str(&format!(" · {} ≈ ${cost:.4}", crate::sanitize::human_bytes(scanned)));
        }
        if self.queries.iter().any(|q| q.reused || q.remembered) {
            s.push_str(" · reused");
        }
        match (self.files, &self.projection) {
            (_, Some(_)) => s.push_str(" · Athena's projection of the rows"),
            (Some(n), None) => s.push_str(&format!(" · {} {}", n, crate::sanitize::noun(n, "file", "files"))),
            _ => {}
        }
        s
    }
}

/// Athena's answer.
enum Answer {
    /// The log files that hold matches, by bucket.
    Files(Vec<KeyList>),
    /// The row query that answered: its id, its first page of rows, and the token of the
    /// next page (the rest is read while the first is already shown).
    Rows { id: String, first: Rows, next: Option<String> },
}

/// A client and what explanations name, for the queries of one run.
struct Session {
    client: aws_sdk_athena::Client,
    region: String,
    database: Option<String>,
    table: String,
}

impl Session {
    async fn open(cfg: &AthenaConfig) -> Session {
        let sdk = crate::source::s3::fetch::sdk_config(&cfg.connect).await;
        let (database, table) = cfg.names();
        Session {
            client: client::client(&sdk, &cfg.connect),
            region: sdk.region().map_or("the default region".to_string(), |r| r.to_string()),
            database,
            table,
        }
    }

    fn target<'a>(&'a self, cfg: &'a AthenaConfig) -> Target<'a> {
        Target {
            client: &self.client,
            database: self.database.as_deref(),
            table: &self.table,
            workgroup: cfg.workgroup.as_deref(),
            output: cfg.output.as_deref(),
            region: &self.region,
            poll: cfg.poll.unwrap_or(Duration::from_millis(500)),
        }
    }
}

/// The Athena source.
pub struct AthenaSource {
    cfg: AthenaConfig,
    /// The `"$path"` query and the row query.
    files_sql: Compiled,
    rows_sql: Compiled,
    /// The window asked, ms (the filter's, or the default).
    pub window: (i64, i64),
    opts: LoadOptions,
    /// What Athena did so far, shared with whoever shows it.
    pub status: Arc<Mutex<AthenaStatus>>,
    /// Where a [`LiveCmd::Cancel`](crate::source::lookup::LiveCmd::Cancel) stops the query.
    cmds: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<crate::source::lookup::LiveCmd>>>,
}

impl AthenaSource {
    /// The source for `--athena` and a filter: the window is the filter's time terms (with
    /// `--since`/`--until` folded in), else the last `default_ms` up to `now_ms`, which is then
    /// added to the query. Returns the source and whether the default start applies (it should
    /// then be a term of the filter too, so that what is shown is the window).
    pub fn new(
        cfg: &AthenaConfig,
        q: &crate::query::Query,
        now_ms: i64,
        default_ms: i64,
        opts: LoadOptions,
    ) -> Result<(AthenaSource, bool), String> {
        if cfg.offline_only() {
            return Err("--offline: Athena cannot be asked without calling AWS".into());
        }
        let (database, table) = cfg.names();
        if table.is_empty() {
            return Err("--athena needs a table name".into());
        }
        let plan = crate::query::plan::plan(q);
        let start = plan.since.unwrap_or(now_ms - default_ms);
        let end = plan.until.unwrap_or(now_ms);
        if end < start {
            return Err("the window is empty: its start is after its end (--since, --until, since:, until:)".into());
        }
        let mut q = q.clone();
        let default_start = plan.since.is_none();
        if default_start {
            q.terms.push(crate::query::Term { negated: false, kind: crate::query::TermKind::Since(start) });
        }
        if plan.until.is_none() {
            q.terms.push(crate::query::Term { negated: false, kind: crate::query::TermKind::Until(end) });
        }
        let opts_sql = SqlOptions { table: table.clone(), database: database.clone(), org: cfg.org, paths: true };
        let files_sql = sql::compile(&q, &opts_sql);
        let rows_sql = sql::compile(&q, &SqlOptions { paths: false, ..opts_sql });
        let shown = database.map_or(table.clone(), |d| format!("{d}.{table}"));
        let status = AthenaStatus { table: shown, exact: files_sql.exact, ..Default::default() };
        Ok((
            AthenaSource {
                cfg: cfg.clone(),
                files_sql,
                rows_sql,
                window: (start, end),
                opts,
                status: Arc::new(Mutex::new(status)),
                cmds: Mutex::new(None),
            },
            default_start,
        ))
    }

    /// The SQL of the `"$path"` query and of the row query.
    pub fn sql(&self) -> (&str, &str) {
        (&self.files_sql.sql, &self.rows_sql.sql)
    }

    fn status(&self) -> std::sync::MutexGuard<'_, AthenaStatus> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn send_status(&self, emit: &mut dyn FnMut(SourceMsg)) {
        let s = self.status().clone();
        emit(SourceMsg::Athena(Box::new(s)));
    }

    /// Asks Athena, then reads the answer, streaming to `emit` (ends with [`SourceMsg::Done`]).
    pub fn load(&self, raw: &RawReader, emit: &mut dyn FnMut(SourceMsg)) {
        let answer = self.ask(emit);
        self.status().done = true;
        self.send_status(emit);
        match answer {
            Ok(Answer::Files(lists)) if lists.is_empty() => {
                // No file holds a match: an answer, read in full, of no events.
                let id = self.status().queries.last().map(|q| q.id.clone()).unwrap_or_default();
                let name = format!("athena:{id} (no log file holds a match)");
                let search = |sink: &mut dyn FnMut(Found)| {
                    sink(Found::File(SourceFile::in_memory(0, &name, b"{\"Records\":[]}".to_vec())));
                };
                load_found(&search, "athena".to_string(), false, &self.opts, raw, emit);
            }
            Ok(Answer::Files(lists)) => {
                let mut s3 = S3Archive::from_keys("", Vec::new(), self.cfg.s3.clone(), self.opts.clone());
                s3.keys = lists;
                s3.load(raw, emit);
            }
            Ok(Answer::Rows { id, first, next }) => self.load_rows(raw, &id, &first, next, emit),
            Err(e) => {
                emit(SourceMsg::Problem(Problem { input: ATHENA_INPUT.into(), reason: e.to_string(), skipped: true }));
                emit(SourceMsg::Done(Default::default()));
            }
        }
    }

    /// Runs the queries on a runtime of this thread.
    fn ask(&self, emit: &mut dyn FnMut(SourceMsg)) -> Result<Answer, QueryError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| QueryError::Failed(format!("starting the runtime: {e}")))?;
        let mut cmds = self.cmds.lock().unwrap_or_else(|p| p.into_inner()).take();
        rt.block_on(async {
            let session = Session::open(&self.cfg).await;
            let t = session.target(&self.cfg);
            let remembered = remembered::Remembered::open(self.cfg.cache.as_ref());
            let scope = remembered::scope(&self.cfg);
            match self.run_query(&t, "files", &self.files_sql.sql, &remembered, &scope, &mut cmds, emit).await {
                Ok((id, mut rows, mut next)) => {
                    // Every page: the files are fetched once all are known.
                    while let Some(token) = next {
                        let (more, after) = client::page(&t, &id, Some(token)).await?;
                        rows.rows.extend(more.rows);
                        self.set_rows(rows.rows.len());
                        next = after;
                    }
                    self.send_status(emit);
                    let lists = paths_by_bucket(&rows);
                    let n: usize = lists.iter().map(|l| l.keys.len()).sum();
                    self.status().files = Some(n);
                    if n <= self.cfg.max_files.max(1) {
                        return Ok(Answer::Files(lists));
                    }
                    self.status().projection = Some(format!(
                        "{n} files hold matches, more than --athena-max-files {}: the matching rows' columns are shown",
                        self.cfg.max_files
                    ));
                }
                Err(QueryError::Failed(why)) if why.contains("$path") => {
                    self.status().projection = Some(format!(
                        "the table has no \"$path\" column ({why}): the matching rows' columns are shown, not the original records"
                    ));
                }
                Err(e) => return Err(e),
            }
            self.send_status(emit);
            let (id, first, next) =
                self.run_query(&t, "rows", &self.rows_sql.sql, &remembered, &scope, &mut cmds, emit).await?;
            Ok(Answer::Rows { id, first, next })
        })
    }

    /// Runs one query to its end (or reuses a remembered run of the same SQL) and reads the
    /// first page of its rows: the query's id, that page, and the token of the next.
    #[allow(clippy::too_many_arguments)]
    async fn run_query(
        &self,
        t: &Target<'_>,
        kind: &'static str,
        sql: &str,
        remembered: &remembered::Remembered,
        scope: &str,
        cmds: &mut Option<tokio::sync::mpsc::UnboundedReceiver<crate::source::lookup::LiveCmd>>,
        emit: &mut dyn FnMut(SourceMsg),
    ) -> Result<(String, Rows, Option<String>), QueryError> {
        // A run of the same SQL that is remembered and still answers: its results are read
        // again, nothing is scanned.
        if let Some(id) = remembered.get(scope, sql) {
            let mut run = QueryRun { kind, id: id.clone(), remembered: true, ..Default::default() };
            if let Ok(true) = client::poll(t, &mut run).await {
                run.remembered = true;
                self.status().queries.push(run);
                self.send_status(emit);
                match client::page(t, &id, None).await {
                    Ok((rows, next)) => {
                        self.set_rows(rows.rows.len());
                        self.send_status(emit);
                        return Ok((id, rows, next));
                    }
                    // Its results are gone (the output location was cleaned): ask again.
                    Err(_) => {
                        self.status().queries.pop();
                    }
                }
            }
        }
        let id = client::start(t, sql).await?;
        self.status().queries.push(QueryRun { kind, id: id.clone(), state: "QUEUED".into(), ..Default::default() });
        self.send_status(emit);
        let mut n = 0;
        loop {
            let mut run = self.status().queries.last().cloned().unwrap_or_default();
            let over = client::poll(t, &mut run).await;
            *self.status().queries.last_mut().expect("the query was pushed") = run;
            self.send_status(emit);
            match over {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => return Err(e),
            }
            let wait = tokio::time::sleep(client::poll_delay(t.poll, n));
            n += 1;
            tokio::select! {
                _ = wait => {}
                cmd = async { match cmds.as_mut() { Some(c) => c.recv().await, None => std::future::pending().await } } => match cmd {
                    Some(crate::source::lookup::LiveCmd::Cancel) => {
                        let stopped = client::stop(t, &id).await;
                        if let Some(q) = self.status().queries.last_mut() {
                            q.state = "CANCELLED".into();
                        }
                        self.send_status(emit);
                        return Err(stopped.err().unwrap_or(QueryError::Cancelled));
                    }
                    Some(_) => {}
                    // Nobody can cancel any more: go on to the end.
                    None => *cmds = None,
                },
            }
        }
        remembered.put(scope, sql, &id);
        let (rows, next) = client::page(t, &id, None).await?;
        self.set_rows(rows.rows.len());
        self.send_status(emit);
        Ok((id, rows, next))
    }

    /// How many rows of the last query have been read.
    fn set_rows(&self, n: usize) {
        if let Some(q) = self.status().queries.last_mut() {
            q.rows = n;
        }
    }

    /// Shows the row query's answer as Athena's projection of the records: the first page at
    /// once, each further page as it comes (read on the loader's search thread), so that the
    /// first rows are on screen while the rest of a large answer is paged.
    fn load_rows(
        &self,
        raw: &RawReader,
        id: &str,
        first: &Rows,
        next: Option<String>,
        emit: &mut dyn FnMut(SourceMsg),
    ) {
        let name = |n: usize| format!("athena-projection:{id} page {n}");
        let search = |sink: &mut dyn FnMut(Found)| {
            sink(Found::File(SourceFile::in_memory(0, &name(1), projection(first))));
            let Some(token) = next.clone() else { return };
            let rt = match runtime() {
                Ok(rt) => rt,
                Err(reason) => {
                    return sink(Found::Problem(Problem { input: ATHENA_INPUT.into(), reason, skipped: false }))
                }
            };
            rt.block_on(async {
                let session = Session::open(&self.cfg).await;
                let t = session.target(&self.cfg);
                let (mut token, mut n, mut total) = (Some(token), 1, first.rows.len());
                while let Some(tok) = token.take() {
                    match client::page(&t, id, Some(tok)).await {
                        Ok((mut rows, after)) => {
                            n += 1;
                            total += rows.rows.len();
                            self.set_rows(total);
                            rows.columns = first.columns.clone();
                            sink(Found::File(SourceFile::in_memory(0, &name(n), projection(&rows))));
                            token = after;
                        }
                        Err(e) => sink(Found::Problem(Problem {
                            input: format!("{ATHENA_INPUT} query {id}"),
                            reason: format!(
                                "page {} of the rows could not be read ({e}); the pages before it are shown",
                                n + 1
                            ),
                            skipped: false,
                        })),
                    }
                }
            });
        };
        // Athena's status goes along with the events (the rows read so far), and once more at the end.
        let mut last: Option<std::time::Instant> = None;
        let mut with_status = |m: SourceMsg| {
            if matches!(m, SourceMsg::Done(_)) || last.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)) {
                last = Some(std::time::Instant::now());
                self.send_status(emit);
            }
            emit(m);
        };
        load_found(&search, "athena".to_string(), false, &self.opts, raw, &mut with_status);
    }
}

/// A runtime on the calling thread, for the one-shot calls below.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| format!("starting the runtime: {e}"))
}

/// Lists an archive (or the one `trail` delivers to) for its accounts and regions.
pub fn discover(c: &Connect, url: Option<&str>, trail: Option<&str>) -> Result<layout::Found, String> {
    runtime()?.block_on(layout::discover(c, url, trail))
}

/// Runs one statement (the DDL of `athena ddl --apply`) to its end: the query as it ended.
pub fn run_statement(cfg: &AthenaConfig, sql: &str) -> Result<QueryRun, String> {
    runtime()?.block_on(async {
        let session = Session::open(cfg).await;
        let t = session.target(cfg);
        let id = client::start(&t, sql).await.map_err(|e| e.to_string())?;
        let mut run = QueryRun { kind: "ddl", id, ..Default::default() };
        let mut n = 0;
        while !client::poll(&t, &mut run).await.map_err(|e| e.to_string())? {
            tokio::time::sleep(client::poll_delay(t.poll, n)).await;
            n += 1;
        }
        Ok(run)
    })
}

impl AthenaConfig {
    fn offline_only(&self) -> bool {
        self.s3.offline
    }
}

/// The `"$path"` values (`s3://bucket/key`) grouped by bucket, in the order first seen.
fn paths_by_bucket(rows: &Rows) -> Vec<KeyList> {
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for r in &rows.rows {
        let Some(Some(p)) = r.first() else { continue };
        let Some(rest) = p.strip_prefix("s3://") else { continue };
        let Some((bucket, key)) = rest.split_once('/') else { continue };
        if !key.is_empty() && seen.insert(p.clone()) {
            by.entry(bucket.to_string()).or_default().push(key.to_string());
        }
    }
    by.into_iter()
        .map(|(bucket, mut keys)| {
            // Newest delivery first (the time in a trail file's name), so that the newest
            // events are on screen while the rest is fetched; names of another form last.
            keys.sort_by_cached_key(|k| {
                let delivered = crate::source::s3::layout::parse_log_name(k.rsplit('/').next().unwrap_or(""))
                    .map(|n| n.delivered_ms);
                (std::cmp::Reverse(delivered), std::cmp::Reverse(k.clone()))
            });
            KeyList { bucket, keys }
        })
        .collect()
}

/// The rows of the row query as CloudTrail-shaped records, `{"Records":[…]}`: the columns the
/// table has, under the record's own field names.
pub fn projection(rows: &Rows) -> Vec<u8> {
    use serde_json::{Map, Value};
    let index: std::collections::HashMap<&str, usize> =
        rows.columns.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    let mut records = Vec::with_capacity(rows.rows.len());
    for r in &rows.rows {
        let get = |c: &str| index.get(c).and_then(|&i| r.get(i)).and_then(|v| v.as_deref()).filter(|v| !v.is_empty());
        let mut rec = Map::new();
        let put = |m: &mut Map<String, Value>, key: &str, col: &str| {
            if let Some(v) = get(col) {
                m.insert(key.to_string(), Value::String(v.to_string()));
            }
        };
        for (key, col) in [
            ("eventVersion", "eventversion"),
            ("eventTime", "eventtime"),
            ("eventSource", "eventsource"),
            ("eventName", "eventname"),
            ("awsRegion", "awsregion"),
            ("sourceIPAddress", "sourceipaddress"),
            ("userAgent", "useragent"),
            ("errorCode", "errorcode"),
            ("errorMessage", "errormessage"),
        ] {
            put(&mut rec, key, col);
        }
        let mut who = Map::new();
        for (key, col) in [
            ("type", "identitytype"),
            ("principalId", "principalid"),
            ("arn", "arn"),
            ("accountId", "identityaccountid"),
            ("accessKeyId", "accesskeyid"),
            ("userName", "username"),
            ("invokedBy", "invokedby"),
        ] {
            put(&mut who, key, col);
        }
        rec.insert("userIdentity".into(), Value::Object(who));
        for (key, col) in [
            ("requestParameters", "requestparameters"),
            ("responseElements", "responseelements"),
            ("additionalEventData", "additionaleventdata"),
        ] {
            if let Some(v) = get(col) {
                let parsed = serde_json::from_str::<Value>(v).unwrap_or_else(|_| Value::String(v.to_string()));
                rec.insert(key.into(), parsed);
            }
        }
        if let Some(arns) = get("resourcearns") {
            let list: Vec<Value> =
                arns.split(' ').filter(|a| !a.is_empty()).map(|a| serde_json::json!({ "ARN": a })).collect();
            if !list.is_empty() {
                rec.insert("resources".into(), Value::Array(list));
            }
        }
        for (key, col) in [("requestID", "requestid"), ("eventID", "eventid")] {
            put(&mut rec, key, col);
        }
        if let Some(ro) = get("readonly") {
            rec.insert("readOnly".into(), Value::Bool(ro.eq_ignore_ascii_case("true")));
        }
        for (key, col) in [
            ("eventType", "eventtype"),
            ("recipientAccountId", "recipientaccountid"),
            ("eventCategory", "eventcategory"),
        ] {
            put(&mut rec, key, col);
        }
        records.push(Value::Object(rec));
    }
    serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap_or_default()
}

impl Source for AthenaSource {
    fn name(&self) -> String {
        ATHENA_INPUT.into()
    }
    fn run(self: Box<Self>, links: Links, emit: &mut dyn FnMut(SourceMsg)) {
        *self.cmds.lock().unwrap_or_else(|p| p.into_inner()) = Some(links.cmds);
        self.load(&links.raw, emit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(columns: &[&str], rows: &[&[Option<&str>]]) -> Rows {
        Rows {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: rows.iter().map(|r| r.iter().map(|v| v.map(str::to_string)).collect()).collect(),
        }
    }

    #[test]
    fn paths_are_grouped_by_bucket_once_each_newest_first() {
        let r = rows(
            &["path"],
            &[
                &[Some(
                    "s3://b/AWSLogs/1/CloudTrail/us-east-1/2026/01/01/1_CloudTrail_us-east-1_20260101T0005Z_a.json.gz",
                )],
                &[Some(
                    "s3://b/AWSLogs/1/CloudTrail/us-east-1/2026/01/01/1_CloudTrail_us-east-1_20260101T0010Z_b.json.gz",
                )],
                &[Some(
                    "s3://b/AWSLogs/1/CloudTrail/us-east-1/2026/01/01/1_CloudTrail_us-east-1_20260101T0005Z_a.json.gz",
                )],
                &[Some("s3://other/k.json.gz")],
                &[Some("not a url")],
                &[None],
            ],
        );
        let l = paths_by_bucket(&r);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].bucket, "b");
        assert_eq!(l[0].keys.len(), 2, "a path named twice is fetched once");
        assert!(l[0].keys[0].contains("0010Z"), "newest first: {:?}", l[0].keys);
        let r = rows(
            &["path"],
            &[
                &[Some(
                    "s3://b/AWSLogs/2/CloudTrail/us-east-1/2026/01/01/2_CloudTrail_us-east-1_20260101T0005Z_a.json.gz",
                )],
                &[Some(
                    "s3://b/AWSLogs/1/CloudTrail/eu-west-1/2026/01/01/1_CloudTrail_eu-west-1_20260101T0900Z_c.json.gz",
                )],
            ],
        );
        assert!(paths_by_bucket(&r)[0].keys[0].contains("0900Z"), "by delivery time, whatever the account");
        assert_eq!(l[1].keys, vec!["k.json.gz".to_string()]);
    }

    #[test]
    fn a_row_becomes_a_record_under_the_records_own_names() {
        let r = rows(
            &[
                "eventid",
                "eventtime",
                "eventname",
                "identitytype",
                "arn",
                "readonly",
                "requestparameters",
                "resourcearns",
                "errorcode",
            ],
            &[&[
                Some("e1"),
                Some("2026-01-01T00:00:00Z"),
                Some("DeleteBucket"),
                Some("IAMUser"),
                Some("arn:aws:iam::1:user/alice"),
                Some("false"),
                Some("{\"bucketName\":\"b-22\"}"),
                Some("arn:aws:s3:::b-22 arn:aws:s3:::b-23"),
                None,
            ]],
        );
        let v: serde_json::Value = serde_json::from_slice(&projection(&r)).unwrap();
        let rec = &v["Records"][0];
        assert_eq!(rec["eventID"], "e1");
        assert_eq!(rec["userIdentity"]["arn"], "arn:aws:iam::1:user/alice");
        assert_eq!(rec["readOnly"], false);
        assert_eq!(rec["requestParameters"]["bucketName"], "b-22");
        assert_eq!(rec["resources"][1]["ARN"], "arn:aws:s3:::b-23");
        assert!(rec.get("errorCode").is_none(), "a NULL column is no field");
    }

    #[test]
    fn the_price_is_per_terabyte_with_a_ten_megabyte_least() {
        let q = |scanned, reused| QueryRun {
            id: "x".into(),
            state: "SUCCEEDED".into(),
            scanned,
            reused,
            ..Default::default()
        };
        assert_eq!(q(1, false).billed_bytes(), MIN_BILLED_BYTES);
        assert_eq!(q(0, true).billed_bytes(), 0);
        let s = AthenaStatus { queries: vec![q(1u64 << 40, false)], ..Default::default() };
        assert!((s.cost_usd() - 5.0).abs() < 1e-9);
        assert!(s.plan_line().contains("≈ $5.0000"), "{}", s.plan_line());
        let small = AthenaStatus { queries: vec![q(1, false)], ..Default::default() };
        assert!(small.plan_line().contains("≈ <$0.0001"), "the 10 MB least is not nothing: {}", small.plan_line());
    }
}
