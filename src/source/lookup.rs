//! Live event history: CloudTrail LookupEvents through `aws-sdk-cloudtrail`, paced at the
//! service limit, retried without losing a page, several regions at once.
//!
//! Each fetched page is handed to the same [`Ingest`] as local files (as lookup-events
//! output), so parsing, interning and de-duplication by eventID are the ones files get.

use super::raw::{RawReader, SourceFile};
use super::{Ingest, LoadMsg, LoadStats};
use crate::query::plan::{Attr, Plan};
use aws_sdk_cloudtrail::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{EventCategory, LookupAttribute, LookupAttributeKey};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch, Mutex};

/// LookupEvents allows 2 requests per second per account and region. Spacing requests a
/// little over 500 ms keeps every one-second window at two requests or fewer, even with jitter
/// between here and the service.
pub const DEFAULT_SPACING: Duration = Duration::from_millis(520);
/// How many times one page is tried before the fetch stops with an error.
pub const MAX_ATTEMPTS: u32 = 8;
/// Event history covers the last 90 days.
pub const HISTORY_DAYS: i64 = 90;

/// Said when a query of live history returns nothing.
pub const EMPTY_HINT: &str = "no events found. IAM, STS and console sign-in events are recorded in us-east-1 \
(try --region us-east-1); data events (S3 objects, Lambda invokes) are not in event history; \
delivery lags up to about 15 minutes; event history covers the last 90 days.";

/// Regions used for `--region all` when the Account API's ListRegions is not allowed.
pub const BUILTIN_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
];

#[derive(Clone, Debug, Default)]
pub struct LiveConfig {
    pub profile: Option<String>,
    /// Empty: the configured default region. `all`: every enabled region.
    pub regions: Vec<String>,
    pub endpoint_url: Option<String>,
    pub insights: bool,
    /// Spacing between requests to one region (tests may shorten it; the double enforces
    /// whatever rate it is given).
    pub spacing: Option<Duration>,
    /// Per-attempt timeout.
    pub timeout: Option<Duration>,
}

/// One query: the plan's server part and a frozen time window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveQuery {
    pub server: Option<(Attr, String)>,
    pub start_ms: i64,
    pub end_ms: i64,
}

impl LiveQuery {
    /// The request window for a plan: its time terms within the CLI window, frozen now.
    pub fn from_plan(plan: &Plan, since_ms: i64, until_ms: i64) -> LiveQuery {
        let start = plan.since.map_or(since_ms, |s| s.max(since_ms));
        let end = plan.until.map_or(until_ms, |u| u.min(until_ms));
        LiveQuery { server: plan.server.clone(), start_ms: start, end_ms: end.max(start) }
    }
}

/// What the fetch reports besides events, for the status bar and the filter pane.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveStatus {
    pub generation: u64,
    pub regions: Vec<RegionStatus>,
    pub requests: usize,
    /// Requests in the last ten seconds, per second.
    pub rate: f64,
    pub scanned: usize,
    pub done: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegionStatus {
    pub region: String,
    pub pages: usize,
    pub events: usize,
    pub oldest_ms: Option<i64>,
    pub done: bool,
    pub waiting: Option<String>,
    pub error: Option<String>,
    /// When the request in flight was sent, so the status can say what it is waiting for.
    pub requesting_since: Option<Instant>,
}

impl LiveStatus {
    /// Fraction of the window covered (newest first, so by how far back the oldest event is).
    pub fn progress(&self, q: &LiveQuery) -> f64 {
        if self.regions.is_empty() {
            return 0.0;
        }
        let span = (q.end_ms - q.start_ms).max(1) as f64;
        let per: f64 =
            self.regions
                .iter()
                .map(|r| {
                    if r.done {
                        1.0
                    } else {
                        r.oldest_ms.map_or(0.0, |o| ((q.end_ms - o) as f64 / span).clamp(0.0, 1.0))
                    }
                })
                .sum();
        per / self.regions.len() as f64
    }
}

/// Whether a dispatch failure is about credentials (none found, an SSO token that expired),
/// which asking again cannot fix.
fn credentials_problem(err: &LookupError) -> bool {
    let text = DisplayErrorContext(err).to_string().to_ascii_lowercase();
    ["credential", "no providers in chain", "sso", "token"].iter().any(|w| text.contains(w))
}

/// The SDK's error chain without the debug dump it appends.
fn brief(full: &str) -> String {
    let cut = ["(DispatchFailure(", "(ServiceError(", "(ResponseError(", "(TimeoutError(", "(ConstructionFailure("]
        .iter()
        .filter_map(|m| full.find(m))
        .min()
        .unwrap_or(full.len());
    full[..cut].trim_end().to_string()
}

type LookupError = SdkError<
    aws_sdk_cloudtrail::operation::lookup_events::LookupEventsError,
    aws_sdk_cloudtrail::config::http::HttpResponse,
>;

/// A client-side limiter: requests to one account-region at most every `spacing`.
pub struct Pacer {
    next: Mutex<Instant>,
    spacing: Duration,
}

impl Pacer {
    pub fn new(spacing: Duration) -> Self {
        Self { next: Mutex::new(Instant::now()), spacing }
    }
    pub async fn wait(&self) {
        let mut next = self.next.lock().await;
        let now = Instant::now();
        if *next > now {
            tokio::time::sleep_until((*next).into()).await;
        }
        *next = Instant::now().max(*next) + self.spacing;
    }
}

/// Explains a failed LookupEvents call: what was asked, what AWS answered, what to do.
pub fn explain(err: &LookupError, region: &str, profile: Option<&str>) -> String {
    let code = err.code().unwrap_or("");
    let msg = err.message().unwrap_or("");
    let raw = DisplayErrorContext(err).to_string();
    let full = brief(&raw);
    let login = match profile {
        Some(p) => format!("aws sso login --profile {p}"),
        None => "aws sso login".to_string(),
    };
    let text = match code {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => format!(
            "AccessDenied in {region}: the identity needs the cloudtrail:LookupEvents permission ({msg})"
        ),
        "ExpiredTokenException" | "ExpiredToken" | "RequestExpired" => {
            format!("the credentials have expired ({msg}); refresh them, e.g. `{login}`, then press r")
        }
        "UnrecognizedClientException" | "InvalidClientTokenId" | "InvalidSignatureException" | "IncompleteSignatureException" => {
            format!("AWS did not accept the credentials in {region} ({code}: {msg}); check the profile and keys")
        }
        "InvalidLookupAttributesException" => format!("invalid lookup attribute: {msg}"),
        "InvalidTimeRangeException" => format!("invalid time range (StartTime/EndTime): {msg}"),
        "InvalidMaxResultsException" => format!("invalid MaxResults: {msg}"),
        "InvalidNextTokenException" => format!("invalid NextToken (the query changed while paging): {msg}"),
        "InvalidEventCategoryException" => format!("invalid EventCategory: {msg}"),
        "ThrottlingException" | "Throttling" | "TooManyRequestsException" => {
            format!("AWS kept throttling LookupEvents in {region} after {MAX_ATTEMPTS} tries; press r to try again")
        }
        "" if ["no providers in chain", "no credentials found", "CredentialsNotLoaded", "failed to load credentials"]
            .iter()
            .any(|w| raw.contains(w)) =>
        {
            "no AWS credentials found: set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws configure`".to_string()
        }
        "" if raw.to_ascii_lowercase().contains("sso") && (raw.contains("expired") || raw.contains("token")) => {
            format!("the SSO session has expired or is missing: run `{login}`")
        }
        "" => match err {
            SdkError::ServiceError(_) => format!(
                "CloudTrail in {region} sent a response that could not be read (HTTP {})",
                err.raw_response().map_or(0, |r| r.status().as_u16())
            ),
            SdkError::TimeoutError(_) => format!("LookupEvents in {region} timed out; AWS did not answer in time"),
            SdkError::DispatchFailure(_) => format!("could not reach CloudTrail in {region}: {}", crate::sanitize::sanitize(&full)),
            SdkError::ResponseError(_) => format!("CloudTrail in {region} sent a response that could not be read (the connection may have dropped)"),
            _ => format!("LookupEvents in {region} failed: {}", crate::sanitize::sanitize(&full)),
        },
        _ => format!("LookupEvents in {region} failed: {code}: {msg}"),
    };
    crate::sanitize::sanitize(&text).into_owned()
}

fn retryable(err: &LookupError) -> bool {
    const THROTTLED: [&str; 4] =
        ["ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"];
    match err {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        // A connection closed early is "other" too; missing credentials are not worth retrying.
        SdkError::DispatchFailure(d) => d.is_io() || d.is_timeout() || (d.is_other() && !credentials_problem(err)),
        SdkError::ServiceError(_) => {
            err.code().is_some_and(|c| THROTTLED.contains(&c))
                || err.raw_response().is_some_and(|r| (500..600).contains(&r.status().as_u16()))
                // A body that could not be read (cut short, garbled) carries no error code: ask again.
                || err.code().is_none()
        }
        _ => false,
    }
}

/// A fetched page, as lookup-events output JSON.
struct Page {
    generation: u64,
    region_idx: usize,
    body: Vec<u8>,
    events: usize,
    oldest_ms: Option<i64>,
    last: bool,
}

enum FetchNote {
    Page(Page),
    Waiting { generation: u64, region_idx: usize, what: Option<String> },
    Failed { generation: u64, region_idx: usize, error: String },
    Request { generation: u64, region_idx: usize },
}

fn page_body(events: &[aws_sdk_cloudtrail::types::Event]) -> (Vec<u8>, Option<i64>) {
    let mut oldest = None;
    let items: Vec<serde_json::Value> = events
        .iter()
        .map(|e| {
            let ms = e.event_time().map(|t| t.to_millis().unwrap_or(0));
            if let Some(ms) = ms {
                oldest = Some(oldest.map_or(ms, |o: i64| o.min(ms)));
            }
            serde_json::json!({
                "EventId": e.event_id(),
                "EventName": e.event_name(),
                "EventTime": ms.map(|m| m as f64 / 1000.0),
                "CloudTrailEvent": e.cloud_trail_event(),
            })
        })
        .collect();
    (serde_json::to_vec(&serde_json::json!({ "Events": items })).unwrap_or_default(), oldest)
}

struct RegionFetch {
    client: aws_sdk_cloudtrail::Client,
    pacer: Arc<Pacer>,
    region: String,
    region_idx: usize,
    profile: Option<String>,
    insights: bool,
}

impl RegionFetch {
    async fn run(
        self,
        q: LiveQuery,
        generation: u64,
        mut hungry: watch::Receiver<bool>,
        mut cancel: watch::Receiver<u64>,
        tx: mpsc::UnboundedSender<FetchNote>,
    ) {
        let mut token: Option<String> = None;
        // The window is frozen for the whole query: a NextToken is valid only with the exact
        // same parameters.
        let (start, end) = (DateTime::from_millis(q.start_ms), DateTime::from_millis(q.end_ms));
        let attr = q.server.as_ref().and_then(|(a, v)| {
            LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::from(a.wire_name()))
                .attribute_value(v)
                .build()
                .ok()
        });
        loop {
            // Fetch ahead only while the consumer wants more.
            while !*hungry.borrow() {
                tokio::select! {
                    r = hungry.changed() => if r.is_err() { return },
                    _ = cancel.changed() => if *cancel.borrow() >= generation { return },
                }
            }
            let mut attempt = 0;
            let out = loop {
                attempt += 1;
                tokio::select! {
                    _ = self.pacer.wait() => {},
                    _ = cancel.changed() => if *cancel.borrow() >= generation { return },
                }
                let _ = tx.send(FetchNote::Request { generation, region_idx: self.region_idx });
                let mut req = self
                    .client
                    .lookup_events()
                    .max_results(50)
                    .start_time(start)
                    .end_time(end)
                    .set_next_token(token.clone());
                if let Some(a) = &attr {
                    req = req.lookup_attributes(a.clone());
                }
                if self.insights {
                    req = req.event_category(EventCategory::Insight);
                }
                let result = tokio::select! {
                    r = req.send() => r,
                    _ = cancel.changed() => if *cancel.borrow() >= generation { return } else { continue },
                };
                match result {
                    Ok(out) => break out,
                    Err(e) if retryable(&e) && attempt < MAX_ATTEMPTS => {
                        let backoff = Duration::from_millis((250u64 << attempt.min(7)).min(8_000)) + jitter(attempt);
                        let what = format!(
                            "{} (try {attempt} of {MAX_ATTEMPTS}), retrying in {:.1}s",
                            short_reason(&e),
                            backoff.as_secs_f64()
                        );
                        let _ =
                            tx.send(FetchNote::Waiting { generation, region_idx: self.region_idx, what: Some(what) });
                        tokio::time::sleep(backoff).await;
                    }
                    Err(e) => {
                        let error = explain(&e, &self.region, self.profile.as_deref());
                        let _ = tx.send(FetchNote::Failed { generation, region_idx: self.region_idx, error });
                        return;
                    }
                }
            };
            let _ = tx.send(FetchNote::Waiting { generation, region_idx: self.region_idx, what: None });
            token = out.next_token().map(str::to_string);
            let (body, oldest_ms) = page_body(out.events());
            let last = token.is_none();
            let page =
                Page { generation, region_idx: self.region_idx, body, events: out.events().len(), oldest_ms, last };
            if tx.send(FetchNote::Page(page)).is_err() || last {
                return;
            }
        }
    }
}

fn short_reason(e: &LookupError) -> String {
    match e.code() {
        Some(c) => c.to_string(),
        None => match e {
            SdkError::TimeoutError(_) => "timed out".into(),
            SdkError::DispatchFailure(_) => "connection failed".into(),
            SdkError::ResponseError(_) => "unreadable response".into(),
            _ => "failed".into(),
        },
    }
}

fn jitter(attempt: u32) -> Duration {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    Duration::from_millis(((nanos as u64).wrapping_mul(attempt as u64 + 1)) % 200)
}

/// Commands to a running live source.
pub enum LiveCmd {
    /// Start a query (cancelling the one before).
    Query { generation: u64, query: LiveQuery },
    /// Stop fetching.
    Cancel,
}

/// Resolves the SDK configuration and the list of regions.
pub async fn connect(cfg: &LiveConfig) -> Result<(aws_config::SdkConfig, Vec<String>), String> {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = &cfg.profile {
        loader = loader.profile_name(p);
    }
    if let Some(u) = &cfg.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    if let Some(first) = cfg.regions.iter().find(|r| r.as_str() != "all") {
        loader = loader.region(aws_config::Region::new(first.clone()));
    }
    let sdk = loader.load().await;
    let mut regions: Vec<String> = Vec::new();
    for r in &cfg.regions {
        if r == "all" {
            regions.extend(enabled_regions(&sdk).await);
        } else if !regions.contains(r) {
            regions.push(r.clone());
        }
    }
    if regions.is_empty() {
        match sdk.region() {
            Some(r) => regions.push(r.to_string()),
            None => return Err("no region: pass --region (e.g. --region us-east-1 or --region all), or set AWS_REGION or a region in the profile".into()),
        }
    }
    regions.dedup();
    Ok((sdk, regions))
}

/// The account's enabled regions (Account API ListRegions), or a built-in list when that is
/// not allowed.
async fn enabled_regions(sdk: &aws_config::SdkConfig) -> Vec<String> {
    use aws_sdk_account::types::RegionOptStatus;
    let client = aws_sdk_account::Client::new(sdk);
    let mut out = Vec::new();
    let mut pages = client
        .list_regions()
        .region_opt_status_contains(RegionOptStatus::Enabled)
        .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => out.extend(p.regions().iter().filter_map(|r| r.region_name().map(str::to_string))),
            Err(_) => return BUILTIN_REGIONS.iter().map(|s| s.to_string()).collect(),
        }
    }
    if out.is_empty() {
        return BUILTIN_REGIONS.iter().map(|s| s.to_string()).collect();
    }
    out.sort();
    out
}

/// Runs the live source until the command channel closes (TUI) or, with `until_done`, until
/// the first query has fetched everything (print). Pages stream to `emit` as batches.
pub async fn run_live(
    cfg: LiveConfig,
    raw: Arc<RawReader>,
    mut cmds: mpsc::UnboundedReceiver<LiveCmd>,
    hungry: watch::Receiver<bool>,
    until_done: bool,
    emit: &mut dyn FnMut(LoadMsg),
) -> Result<(), String> {
    let (sdk, regions) = connect(&cfg).await?;
    let spacing = cfg.spacing.unwrap_or(DEFAULT_SPACING);
    let timeout = cfg.timeout.unwrap_or(Duration::from_secs(30));
    let clients: Vec<(String, aws_sdk_cloudtrail::Client, Arc<Pacer>)> = regions
        .iter()
        .map(|r| {
            let conf = aws_sdk_cloudtrail::config::Builder::from(&sdk)
                .region(aws_config::Region::new(r.clone()))
                .retry_config(aws_config::retry::RetryConfig::disabled())
                .timeout_config(
                    aws_config::timeout::TimeoutConfig::builder()
                        .operation_attempt_timeout(timeout)
                        .connect_timeout(Duration::from_secs(10))
                        .build(),
                )
                .build();
            (r.clone(), aws_sdk_cloudtrail::Client::from_conf(conf), Arc::new(Pacer::new(spacing)))
        })
        .collect();
    let mut ingest = Ingest::new(&raw);
    let mut stats = LoadStats::default();
    let (note_tx, mut note_rx) = mpsc::unbounded_channel::<FetchNote>();
    let (cancel_tx, _) = watch::channel(0u64);
    let mut status = LiveStatus::default();
    let mut recent: VecDeque<Instant> = VecDeque::new();
    let mut current: Option<u64> = None;
    let mut open = true;
    loop {
        tokio::select! {
            cmd = cmds.recv(), if open => match cmd {
                Some(LiveCmd::Query { generation, query }) => {
                    cancel_tx.send_replace(generation.saturating_sub(1));
                    current = Some(generation);
                    status = LiveStatus {
                        generation,
                        regions: regions.iter().map(|r| RegionStatus { region: r.clone(), ..Default::default() }).collect(),
                        ..Default::default()
                    };
                    for (i, (region, client, pacer)) in clients.iter().enumerate() {
                        let f = RegionFetch { client: client.clone(), pacer: pacer.clone(), region: region.clone(), region_idx: i, profile: cfg.profile.clone(), insights: cfg.insights };
                        tokio::spawn(f.run(query.clone(), generation, hungry.clone(), cancel_tx.subscribe(), note_tx.clone()));
                    }
                    emit(LoadMsg::Live(status.clone()));
                }
                Some(LiveCmd::Cancel) => {
                    if let Some(g) = current {
                        cancel_tx.send_replace(g);
                        for r in status.regions.iter_mut().filter(|r| !r.done) {
                            r.waiting = None;
                            r.error = Some("cancelled".into());
                            r.done = true;
                        }
                        status.done = true;
                        emit(LoadMsg::Live(status.clone()));
                    }
                }
                None => {
                    open = false;
                    if !until_done {
                        break;
                    }
                }
            },
            Some(note) = note_rx.recv() => {
                let gen_of = |n: &FetchNote| match n {
                    FetchNote::Page(p) => p.generation,
                    FetchNote::Waiting { generation, .. }
                    | FetchNote::Failed { generation, .. }
                    | FetchNote::Request { generation, .. } => *generation,
                };
                if Some(gen_of(&note)) != current {
                    continue;
                }
                match note {
                    FetchNote::Request { region_idx, .. } => {
                        status.regions[region_idx].requesting_since = Some(Instant::now());
                        status.requests += 1;
                        let now = Instant::now();
                        recent.push_back(now);
                        while recent.front().is_some_and(|t| now.duration_since(*t) > Duration::from_secs(10)) {
                            recent.pop_front();
                        }
                        // Requests per second over the last ten seconds (intervals, not requests).
                        let span = recent.front().map_or(0.0, |t| now.duration_since(*t).as_secs_f64());
                        status.rate = if span > 0.0 { (recent.len() - 1) as f64 / span } else { 0.0 };
                    }
                    FetchNote::Waiting { region_idx, what, .. } => {
                        status.regions[region_idx].waiting = what;
                        status.regions[region_idx].requesting_since = None;
                    }
                    FetchNote::Failed { region_idx, error, .. } => {
                        let r = &mut status.regions[region_idx];
                        r.error = Some(error.clone());
                        r.waiting = None;
                        r.requesting_since = None;
                        r.done = true;
                        emit(LoadMsg::Problem(super::Problem { input: format!("LookupEvents {}", r.region), reason: error, skipped: true }));
                    }
                    FetchNote::Page(p) => {
                        let r = &mut status.regions[p.region_idx];
                        r.requesting_since = None;
                        r.pages += 1;
                        r.events += p.events;
                        r.oldest_ms = p.oldest_ms.or(r.oldest_ms);
                        r.done |= p.last;
                        status.scanned += p.events;
                        let name = format!("LookupEvents {} page {}", r.region, r.pages);
                        let file = ingest.add_file(SourceFile::in_memory(0, &name, p.body));
                        emit(LoadMsg::Files(vec![file.clone()]));
                        stats.files_total += 1;
                        ingest.take_file(&file, false, &mut stats, emit);
                        if let Some(b) = ingest.flush() {
                            emit(LoadMsg::Batch(b, stats.clone()));
                        }
                    }
                }
                status.done = status.regions.iter().all(|r| r.done);
                emit(LoadMsg::Live(status.clone()));
                if status.done && until_done {
                    break;
                }
            }
        }
    }
    emit(LoadMsg::Done(stats));
    Ok(())
}
