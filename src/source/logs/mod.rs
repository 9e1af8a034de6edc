//! CloudTrail in CloudWatch Logs: the log group a trail delivers to, read with FilterLogEvents.
//!
//! A trail that sends its events to CloudWatch Logs writes every record of every region and
//! account into one log group, one log event per record (the bare record JSON, no `Records`
//! wrapper), in streams named `<account>_CloudTrail_<region>` (with `_N` suffixes at volume).
//!
//! - [`pattern`] compiles the filter to a JSON filter pattern that selects a superset of it;
//!   every term is applied locally again, so the result is exact whatever the service does.
//! - [`fetch`] pages FilterLogEvents to its end, paced, retried, with errors explained.
//!
//! [`LogsSource`] is the source: each page's CloudTrail records become one input read by the
//! same loader as archives (parsing, interning, de-duplication), and a log event that is not a
//! CloudTrail record is counted and named among the problems, never fatal.

pub mod fetch;
pub mod pattern;
pub mod store;

use super::boundary::{Links, Source};
use super::{load_found, Found, LoadOptions, Problem, SourceMsg};
use crate::model::raw::RawReader;
use crate::source::s3::fetch::Connect;
use pattern::LogsPlan;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// FilterLogEvents allows 5 requests per second per account and region (shared by every
/// log group there): one request every 200 ms, a little over it for jitter.
pub const DEFAULT_SPACING: Duration = Duration::from_millis(210);

/// How often the status is sent beside the events.
const STATUS_EVERY: Duration = Duration::from_millis(100);

/// What problems about CloudWatch Logs as a whole are reported as coming from.
pub const LOGS_INPUT: &str = "CloudWatch Logs";

/// How log groups are read.
#[derive(Clone, Debug, Default)]
pub struct LogsConfig {
    /// Profile, the region of the API calls, endpoint, timeout.
    pub connect: Connect,
    /// The log groups named (`--log-group`), names or ARNs, in the order given.
    pub groups: Vec<String>,
    /// A trail whose log group DescribeTrails names (`--trail NAME --logs`).
    pub trail: Option<String>,
    /// Spacing between requests to one region (tests may shorten it).
    pub spacing: Option<Duration>,
    /// Events per page asked for (`--logs-page-size`); `None`: the service's default.
    pub page_limit: Option<i32>,
    /// How long after an event CloudWatch Logs may stamp its log event: the request's end
    /// time is this much after the window's (the window itself is applied locally).
    pub lag_ms: i64,
    /// Never call AWS: answer from the store only (`--offline`).
    pub offline: bool,
    /// The local store; `None` runs without it (`--no-cache`).
    pub cache: Option<crate::cache::CacheConfig>,
}

impl LogsConfig {
    /// Whether a command line reads CloudWatch Logs.
    pub fn is_used(&self) -> bool {
        !self.groups.is_empty() || self.trail.is_some()
    }
}

/// A log group as named on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRef {
    /// The log group's name.
    pub name: String,
    /// The region its ARN names (else the region of the API calls).
    pub region: Option<String>,
}

impl std::fmt::Display for GroupRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.region {
            Some(r) => write!(f, "log group {} ({r})", crate::sanitize::sanitize(&self.name)),
            None => write!(f, "log group {}", crate::sanitize::sanitize(&self.name)),
        }
    }
}

/// Parses `--log-group NAME|ARN`: a name (1 to 512 of `A-Z a-z 0-9 . - _ / #`), or
/// `arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME[:*]`.
pub fn parse_group(s: &str) -> Result<GroupRef, String> {
    let bad = |why: &str| format!("--log-group {}: {why}", crate::sanitize::sanitize(s));
    let (name, region) = if let Some(rest) = s.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        if parts.len() < 5 || parts[1] != "logs" {
            return Err(bad("not a log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME)"));
        }
        let Some(name) = parts[4].strip_prefix("log-group:") else {
            return Err(bad("not a log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME)"));
        };
        let name = name.strip_suffix(":*").unwrap_or(name);
        if parts[2].is_empty() {
            return Err(bad("the ARN names no region"));
        }
        (name.to_string(), Some(parts[2].to_string()))
    } else {
        (s.to_string(), None)
    };
    if name.is_empty() {
        return Err(bad("the log group name is empty"));
    }
    if name.len() > 512 {
        return Err(bad("a log group name is at most 512 characters"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "._-/#".contains(*c))) {
        return Err(bad(&format!(
            "{} is not allowed in a log group name (letters, digits, . _ - / #)",
            crate::sanitize::sanitize(&format!("'{c}'"))
        )));
    }
    Ok(GroupRef { name, region })
}

/// One log group's part of a load.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupStatus {
    /// The log group's name.
    pub name: String,
    /// The region it is read in.
    pub region: String,
    /// Pages received.
    pub pages: usize,
    /// CloudTrail records received.
    pub events: usize,
    /// Log events that were not CloudTrail records.
    pub not_cloudtrail: usize,
    /// Records read from the local store.
    pub cached: usize,
    /// Streams read of those the group has, when the filter's region narrowed them.
    pub streams: Option<(usize, usize)>,
    /// Every page was read (or it failed: see `error`).
    pub done: bool,
    /// Why it stopped, if it failed.
    pub error: Option<String>,
}

/// What the CloudWatch Logs part of a load did, for the status bar and `print`'s report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogsStatus {
    /// The plan: `CloudWatch: { … } · local: …`.
    pub plan: String,
    /// The window asked for (ms): startTime and endTime of every request.
    pub window: (i64, i64),
    /// Per log group, in the order named.
    pub groups: Vec<GroupStatus>,
    /// The trail named with `--trail … --logs` and the log group it delivers to.
    pub trail: Option<(String, String)>,
    /// FilterLogEvents requests sent (DescribeTrails and DescribeLogGroups aside).
    pub requests: usize,
    /// Requests asked again after throttling or a server error.
    pub retries: usize,
    /// Every log group is done.
    pub done: bool,
    /// Answered from the store only (`--offline`).
    pub offline: bool,
    /// What the store had to say: it was moved aside, could not be used, …
    pub notes: Vec<String>,
}

impl LogsStatus {
    /// Pages and events of every group, one line.
    pub fn progress_line(&self) -> String {
        let pages: usize = self.groups.iter().map(|g| g.pages).sum();
        let events: usize = self.groups.iter().map(|g| g.events).sum();
        let cached: usize = self.groups.iter().map(|g| g.cached).sum();
        let other: usize = self.groups.iter().map(|g| g.not_cloudtrail).sum();
        let mut s = format!(
            "logs: {} {}, {pages} pages, {events} records, {cached} from the cache{}; {} requests ({} retried)",
            self.groups.len(),
            crate::sanitize::noun(self.groups.len(), "group", "groups"),
            if self.offline { " (offline)" } else { "" },
            self.requests,
            self.retries
        );
        if other > 0 {
            s.push_str(&format!("; {other} log events were not CloudTrail records"));
        }
        s
    }
}

/// Log groups of CloudTrail records, read over a window.
pub struct LogsSource {
    /// How to reach CloudWatch Logs, and which groups.
    pub cfg: LogsConfig,
    /// The groups parsed from `cfg.groups`.
    pub groups: Vec<GroupRef>,
    /// What is sent to the service.
    pub plan: LogsPlan,
    /// The window of events wanted (ms, inclusive), frozen when the source was made.
    pub window: (i64, i64),
    /// How pages are parsed.
    pub opts: LoadOptions,
    /// What it did so far, shared with whoever shows it.
    pub status: Arc<Mutex<LogsStatus>>,
    /// Where a [`LiveCmd::Cancel`](crate::source::lookup::LiveCmd::Cancel) stops the reading
    /// (what was read stays); the TUI's Esc.
    cmds: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<crate::source::lookup::LiveCmd>>>,
    /// Whether the consumer wants more (the TUI's list is scrolled near its end); `None`:
    /// always.
    hungry: Mutex<Option<tokio::sync::watch::Receiver<bool>>>,
}

impl LogsSource {
    /// The source for a command line's log groups and filter: the window is the filter's time
    /// terms (with `--since`/`--until` folded in), else the last `default_ms` up to `now_ms`.
    /// Returns the source and whether the default start applies (it should then be a term of
    /// the filter, so that what is shown is the window).
    pub fn new(
        cfg: &LogsConfig,
        q: &crate::query::Query,
        now_ms: i64,
        default_ms: i64,
        opts: LoadOptions,
    ) -> Result<(LogsSource, bool), String> {
        if cfg.offline && cfg.cache.is_none() {
            return Err("--offline needs the cache, which --no-cache turns off".into());
        }
        let groups = cfg.groups.iter().map(|g| parse_group(g)).collect::<Result<Vec<_>, _>>()?;
        let plan = pattern::plan(q);
        let start = plan.since.unwrap_or(now_ms - default_ms);
        let end = plan.until.unwrap_or(now_ms);
        if end < start {
            return Err("the window is empty: its start is after its end (--since, --until, since:, until:)".into());
        }
        if let Some(p) = &cfg.page_limit {
            if !(1..=10_000).contains(p) {
                return Err(format!("--logs-page-size {p}: FilterLogEvents takes 1 to 10000 events a page"));
            }
        }
        let status =
            LogsStatus { plan: plan.to_string(), window: (start, end), offline: cfg.offline, ..Default::default() };
        let default_start = plan.since.is_none();
        let source = LogsSource {
            cfg: cfg.clone(),
            groups,
            plan,
            window: (start, end),
            opts,
            status: Arc::new(Mutex::new(status)),
            cmds: Mutex::new(None),
            hungry: Mutex::new(None),
        };
        Ok((source, default_start))
    }

    /// Reads every group, streaming to `emit` (ends with [`SourceMsg::Done`]).
    pub fn load(&self, raw: &RawReader, emit: &mut dyn FnMut(SourceMsg)) {
        let search = |sink: &mut dyn FnMut(Found)| self.remote(sink);
        let mut last: Option<std::time::Instant> = None;
        let mut with_status = |m: SourceMsg| {
            let done = matches!(m, SourceMsg::Done(_));
            if done || last.is_none_or(|t| t.elapsed() >= STATUS_EVERY) {
                last = Some(std::time::Instant::now());
                let status = self.status.lock().unwrap_or_else(|p| p.into_inner()).clone();
                emit(SourceMsg::Logs(Box::new(status)));
            }
            emit(m);
        };
        load_found(&search, "logs".to_string(), false, &self.opts, raw, &mut with_status);
    }

    fn remote(&self, sink: &mut dyn FnMut(Found)) {
        let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                sink(Found::Problem(Problem {
                    input: LOGS_INPUT.into(),
                    reason: format!("starting the runtime: {e}"),
                    skipped: true,
                }));
                return;
            }
        };
        rt.block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Found>();
            let store =
                tokio::task::block_in_place(|| store::LogsStore::open(self.cfg.cache.as_ref(), self.cfg.offline));
            if self.cfg.offline && !store.is_open() {
                let why = store.notes.lock().unwrap_or_else(|p| p.into_inner()).join("; ");
                let _ = tx.send(Found::Problem(Problem {
                    input: LOGS_INPUT.into(),
                    reason: format!("--offline needs the cache, which is not available: {why}"),
                    skipped: true,
                }));
                return;
            }
            let live = crate::source::lookup::LiveConfig {
                profile: self.cfg.connect.profile.clone(),
                endpoint_url: self.cfg.connect.endpoint_url.clone(),
                ..Default::default()
            };
            let job = fetch::Job {
                cfg: self.cfg.clone(),
                groups: self.groups.clone(),
                pattern: self.plan.pattern.clone(),
                regions: self.plan.regions.clone(),
                window: self.window,
                status: self.status.clone(),
                store: Arc::new(store),
                hungry: self.hungry.lock().unwrap_or_else(|p| p.into_inner()).take(),
                scope: format!("logs:{}", crate::source::lookup::scope_of(&live)),
                fetched_ms: crate::model::time::now_ms(),
            };
            let mut task = tokio::spawn(job.run(tx));
            let mut cmds = self.cmds.lock().unwrap_or_else(|p| p.into_inner()).take();
            loop {
                tokio::select! {
                    found = rx.recv() => match found {
                        Some(found) => sink(found),
                        None => break,
                    },
                    cmd = async { match cmds.as_mut() { Some(c) => c.recv().await, None => std::future::pending().await } } => match cmd {
                        Some(crate::source::lookup::LiveCmd::Cancel) => {
                            task.abort();
                            // What was sent before the stop is still taken.
                            while let Ok(found) = rx.try_recv() {
                                sink(found);
                            }
                            sink(Found::Problem(Problem {
                                input: LOGS_INPUT.into(),
                                reason: "stopped (Esc) before every page was read; what was read is shown (r reads again)".into(),
                                skipped: false,
                            }));
                            break;
                        }
                        Some(_) => {}
                        // Nobody can stop it any more: read to the end.
                        None => cmds = None,
                    },
                }
            }
            match (&mut task).await {
                Err(e) if !e.is_cancelled() => sink(Found::Problem(Problem {
                    input: LOGS_INPUT.into(),
                    reason: format!("internal error while reading CloudWatch Logs ({e}); what was fetched is shown"),
                    skipped: false,
                })),
                _ => {}
            }
        });
        self.status.lock().unwrap_or_else(|p| p.into_inner()).done = true;
    }
}

impl Source for LogsSource {
    fn name(&self) -> String {
        LOGS_INPUT.into()
    }
    fn run(self: Box<Self>, links: Links, emit: &mut dyn FnMut(SourceMsg)) {
        *self.cmds.lock().unwrap_or_else(|p| p.into_inner()) = Some(links.cmds);
        *self.hungry.lock().unwrap_or_else(|p| p.into_inner()) = Some(links.hungry);
        self.load(&links.raw, emit);
    }
}

/// Splits a page's messages into one input of CloudTrail records (`{"Records":[…]}`, each
/// record as the service sent it) and the messages that are not CloudTrail records (a JSON
/// object with `eventTime` and `eventName` or `eventSource`), with why.
pub fn page_records<'a>(messages: impl IntoIterator<Item = &'a str>) -> (Vec<u8>, usize, Vec<(usize, String)>) {
    let mut out = Vec::from(&b"{\"Records\":["[..]);
    let (mut n, mut rejected) = (0usize, Vec::new());
    for (i, m) in messages.into_iter().enumerate() {
        match is_cloudtrail_record(m) {
            Ok(()) => {
                if n > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(m.trim().as_bytes());
                n += 1;
            }
            Err(why) => rejected.push((i, why)),
        }
    }
    out.extend_from_slice(b"]}");
    (out, n, rejected)
}

/// Whether a log event's message is one CloudTrail record, and if not, why.
pub fn is_cloudtrail_record(m: &str) -> Result<(), String> {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(rename = "eventTime", borrow, default)]
        event_time: Option<&'a serde_json::value::RawValue>,
        #[serde(rename = "eventName", borrow, default)]
        event_name: Option<&'a serde_json::value::RawValue>,
        #[serde(rename = "eventSource", borrow, default)]
        event_source: Option<&'a serde_json::value::RawValue>,
    }
    let t = m.trim_start();
    if !t.starts_with('{') {
        return Err("not a JSON object".into());
    }
    match serde_json::from_str::<Probe<'_>>(m) {
        Err(e) => Err(format!("not JSON ({e})")),
        Ok(p) if p.event_time.is_none() => Err("a JSON object without eventTime".into()),
        Ok(p) if p.event_name.is_none() && p.event_source.is_none() => {
            Err("a JSON object without eventName or eventSource".into())
        }
        Ok(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_and_arns() {
        assert_eq!(
            parse_group("aws-cloudtrail-logs").unwrap(),
            GroupRef { name: "aws-cloudtrail-logs".into(), region: None }
        );
        assert_eq!(
            parse_group("arn:aws:logs:eu-west-1:123456789012:log-group:/org/trail:*").unwrap(),
            GroupRef { name: "/org/trail".into(), region: Some("eu-west-1".into()) }
        );
        assert!(parse_group("arn:aws:s3:::bucket").unwrap_err().contains("--log-group arn:aws:s3:::bucket"));
        assert!(parse_group("").is_err());
        assert!(parse_group("a b").unwrap_err().contains("' '"));
        // Hostile input is named sanitised.
        assert!(!parse_group("x\u{1b}[31m").unwrap_err().contains('\u{1b}'));
    }

    #[test]
    fn pages_keep_records_and_count_the_rest() {
        let msgs = [
            r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"A","eventID":"1"}"#,
            "plain text",
            r#"{"level":"info"}"#,
            r#"{"eventTime":"2024-01-01T00:00:01Z","eventSource":"s3.amazonaws.com"}"#,
            r#"{"eventTime":"x","eventName":"B"} trailing"#,
        ];
        let (body, n, rejected) = page_records(msgs);
        assert_eq!(n, 2);
        assert_eq!(rejected.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1, 2, 4]);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["Records"].as_array().unwrap().len(), 2);
    }
}
