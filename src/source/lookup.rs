//! Live event history: CloudTrail LookupEvents through `aws-sdk-cloudtrail`, paced at the
//! service limit, retried without losing a page, several regions at once.
//!
//! Each fetched page is handed to the same [`Ingest`] as local files (as lookup-events
//! output), so parsing, interning and de-duplication by eventID are the ones files get.

use super::{Ingest, LoadStats, Problem, SourceMsg};
use crate::cache::coverage::{self, TimeSpan};
use crate::cache::{CacheConfig, Committed, LookupKey, PageFetch, Store, StoredEvent};
use crate::model::raw::{RawReader, SourceFile};
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
    /// The local store; `None` runs without it (`--no-cache`).
    pub cache: Option<CacheConfig>,
    /// Never call AWS: answer from the store only (`--offline`).
    pub offline: bool,
}

/// Who the queries run as, for the store's coverage: the credentials' account is not known
/// before a call (STS GetCallerIdentity may be denied, and costs a request), so the identity is
/// what selects the credentials. Environment keys win over a profile in the SDK's default chain,
/// so they come first; they are represented by a hash of the access key id (an identifier, not
/// a secret; still, no credential is written). Then the profile (`--profile`, `AWS_PROFILE`,
/// else "default"). The endpoint is part of it (a test double is not AWS), without any user
/// name or password it may carry.
pub fn scope_of(cfg: &LiveConfig) -> String {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let who = match (env("AWS_ACCESS_KEY_ID"), cfg.profile.clone().or_else(|| env("AWS_PROFILE"))) {
        (Some(key), _) => format!("key:{:016x}", xxhash_rust::xxh3::xxh3_64(key.trim().as_bytes())),
        (None, Some(p)) => format!("profile:{p}"),
        (None, None) => "profile:default".to_string(),
    };
    let endpoint = match &cfg.endpoint_url {
        Some(u) => endpoint_without_secrets(u),
        None => "aws".to_string(),
    };
    format!("{who}@{endpoint}")
}

/// An endpoint URL without user information, query or fragment.
fn endpoint_without_secrets(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or("");
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            if path.is_empty() {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}/{path}")
            }
        }
        None => url.rsplit_once('@').map_or(url, |(_, h)| h).to_string(),
    }
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
    /// Events read from the local store for this query.
    pub cached: usize,
    /// Answered from the store only (`--offline`).
    pub offline: bool,
    /// What the store had to say: it was moved aside, could not be used, ...
    pub cache_notes: Vec<String>,
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
    /// Events read from the local store.
    pub cached: usize,
    /// The spans fetched from AWS (newest first); empty when the store had everything.
    pub fetching: Vec<(i64, i64)>,
    /// When the request in flight was sent, so the status can say what it is waiting for.
    pub requesting_since: Option<Instant>,
}

impl LiveStatus {
    /// Fraction of the window covered: what the store had, plus how far back (newest first)
    /// the fetch of the spans it lacked has come.
    pub fn progress(&self, q: &LiveQuery) -> f64 {
        if self.regions.is_empty() {
            return 0.0;
        }
        let span = (q.end_ms - q.start_ms).max(1) as f64;
        let per: f64 = self
            .regions
            .iter()
            .map(|r| {
                if r.done {
                    return 1.0;
                }
                let gaps: Vec<(i64, i64)> =
                    if r.fetching.is_empty() { vec![(q.start_ms, q.end_ms)] } else { r.fetching.clone() };
                let missing: i64 = gaps.iter().map(|(s, e)| e - s).sum();
                // Gaps come newest first; the fetch is in the one holding its oldest event.
                let fetched: i64 = match r.oldest_ms {
                    None => 0,
                    Some(o) => gaps
                        .iter()
                        .map(|&(s, e)| {
                            if o <= s {
                                e - s
                            } else if o < e {
                                e - o
                            } else {
                                0
                            }
                        })
                        .sum(),
                };
                ((span - missing as f64 + fetched as f64) / span).clamp(0.0, 1.0)
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

/// A fetched page, as lookup-events output JSON and as rows for the store.
struct Page {
    generation: u64,
    region_idx: usize,
    body: Vec<u8>,
    stored: Vec<StoredEvent>,
    events: usize,
    oldest_ms: Option<i64>,
    /// The window this page belongs to, and whether it is that window's last page.
    window: TimeSpan,
    window_last: bool,
    /// The region has nothing more to fetch.
    last: bool,
}

enum FetchNote {
    Page(Page),
    Waiting { generation: u64, region_idx: usize, what: Option<String> },
    Failed { generation: u64, region_idx: usize, error: String },
    Request { generation: u64, region_idx: usize },
}

fn stored_events(events: &[aws_sdk_cloudtrail::types::Event]) -> Vec<StoredEvent> {
    events
        .iter()
        .filter_map(|e| {
            let mut s = StoredEvent {
                event_id: e.event_id()?.to_string(),
                time_ms: e.event_time()?.to_millis().ok()?,
                event_name: e.event_name().unwrap_or("").to_string(),
                event_source: e.event_source().unwrap_or("").to_string(),
                username: e.username().unwrap_or("").to_string(),
                access_key_id: e.access_key_id().unwrap_or("").to_string(),
                read_only: e.read_only().unwrap_or("").to_string(),
                cloudtrail_event: e.cloud_trail_event()?.to_string(),
                ..Default::default()
            };
            s.fill_from_record();
            Some(s)
        })
        .collect()
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
    /// Fetches `windows` one after the other (newest first), each to its end.
    async fn run(
        self,
        q: LiveQuery,
        windows: Vec<TimeSpan>,
        generation: u64,
        hungry: watch::Receiver<bool>,
        cancel: watch::Receiver<u64>,
        tx: mpsc::UnboundedSender<FetchNote>,
    ) {
        let n = windows.len();
        for (i, w) in windows.into_iter().enumerate() {
            let go_on =
                self.run_window(&q, w, i + 1 == n, generation, hungry.clone(), cancel.clone(), tx.clone()).await;
            if !go_on {
                return;
            }
        }
    }

    /// Fetches one window; false when the fetch was stopped or failed.
    #[allow(clippy::too_many_arguments)]
    async fn run_window(
        &self,
        q: &LiveQuery,
        window: TimeSpan,
        final_window: bool,
        generation: u64,
        mut hungry: watch::Receiver<bool>,
        mut cancel: watch::Receiver<u64>,
        tx: mpsc::UnboundedSender<FetchNote>,
    ) -> bool {
        let mut token: Option<String> = None;
        // The window is frozen for the whole query: a NextToken is valid only with the exact
        // same parameters.
        let (start, end) = (DateTime::from_millis(window.start), DateTime::from_millis(window.end));
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
                    r = hungry.changed() => if r.is_err() { return false },
                    _ = cancel.changed() => if *cancel.borrow() >= generation { return false },
                }
            }
            let mut attempt = 0;
            let out = loop {
                attempt += 1;
                tokio::select! {
                    _ = self.pacer.wait() => {},
                    _ = cancel.changed() => if *cancel.borrow() >= generation { return false },
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
                    _ = cancel.changed() => if *cancel.borrow() >= generation { return false } else { continue },
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
                        return false;
                    }
                }
            };
            let _ = tx.send(FetchNote::Waiting { generation, region_idx: self.region_idx, what: None });
            token = out.next_token().map(str::to_string);
            let (body, oldest_ms) = page_body(out.events());
            let window_last = token.is_none();
            let page = Page {
                generation,
                region_idx: self.region_idx,
                body,
                stored: stored_events(out.events()),
                events: out.events().len(),
                oldest_ms,
                window,
                window_last,
                last: window_last && final_window,
            };
            if tx.send(FetchNote::Page(page)).is_err() {
                return false;
            }
            if window_last {
                return true;
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

/// What problems about live history are reported as coming from.
pub const LIVE_INPUT: &str = "live event history";

/// A named profile that is in neither AWS file is an error of its own: the SDK would go on
/// without it and fail later about something else (no region, no credentials).
async fn check_profile(name: &str) -> Result<(), String> {
    use aws_types::os_shim_internal::{Env, Fs};
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    match aws_config::profile::load(&Fs::real(), &Env::real(), &files, None).await {
        Ok(set) if set.get_profile(name).is_none() => {
            let mut names: Vec<&str> = set.profiles().collect();
            names.sort_unstable();
            let defined = if names.is_empty() {
                "no profile is defined there".to_string()
            } else {
                format!("defined there: {}", names.join(", "))
            };
            Err(crate::sanitize::sanitize(&format!(
                "profile {name} is not in the AWS config or credentials file ({defined})"
            ))
            .into_owned())
        }
        // A file that cannot be read or parsed is the SDK's to explain.
        _ => Ok(()),
    }
}

/// Resolves the SDK configuration and the list of regions.
pub async fn connect(cfg: &LiveConfig) -> Result<(aws_config::SdkConfig, Vec<String>), String> {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = &cfg.profile {
        check_profile(p).await?;
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

/// How many stored events go into one lookup-events body handed to the loader.
const CACHE_CHUNK: usize = 5000;

/// The store as the live source uses it: disabled (with a note) at the first failure, so a
/// full disk or a damaged file costs the cache, never the fetch.
struct LiveStore {
    store: Option<Store>,
    notes: Vec<String>,
}

impl LiveStore {
    fn open(cfg: &LiveConfig) -> LiveStore {
        let mut notes = Vec::new();
        let store = cfg.cache.as_ref().and_then(|c| {
            // Offline only reads: a cache that cannot be written still answers.
            let opened = if cfg.offline {
                Store::open_for_reading(&c.dir, &mut notes)
            } else {
                Store::open(&c.dir, &mut notes).and_then(|mut s| {
                    let removed = s.enforce_limit(c.max_bytes)?;
                    if removed > 0 {
                        notes.push(format!(
                            "the cache was over its size limit: the {removed} oldest events were removed"
                        ));
                    }
                    Ok(s)
                })
            };
            match opened {
                Ok(s) => Some(s),
                Err(e) => {
                    notes.push(format!("running without the cache: {e}"));
                    None
                }
            }
        });
        LiveStore { store, notes: notes.iter().map(|n| crate::sanitize::sanitize(n).into_owned()).collect() }
    }

    /// A note said once per run, however many pages it is about.
    fn note_once(&mut self, note: &str) {
        let note = crate::sanitize::sanitize(note).into_owned();
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    fn failed(&mut self, what: &str, e: crate::cache::StoreError) {
        self.store = None;
        let mut note = format!("{what} failed, continuing without the cache: {e}");
        if e.is_corrupt() {
            note.push_str(" (the database is damaged; it is moved aside at the next start)");
        }
        self.notes.push(crate::sanitize::sanitize(&note).into_owned());
    }
}

/// The regions `--offline` answers for: those named, else the environment's, else every region
/// the store has for this identity.
fn offline_regions(cfg: &LiveConfig, store: Option<&Store>, scope: &str) -> Result<Vec<String>, String> {
    let mut regions: Vec<String> = cfg.regions.iter().filter(|r| r.as_str() != "all").cloned().collect();
    if regions.is_empty() && !cfg.regions.iter().any(|r| r == "all") {
        let env =
            ["AWS_REGION", "AWS_DEFAULT_REGION"].iter().find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
        regions.extend(env);
    }
    if regions.is_empty() {
        if let Some(s) = store {
            regions = s.regions(scope).map_err(|e| format!("reading the cache: {e}"))?;
        }
    }
    regions.dedup();
    if regions.is_empty() {
        return Err("--offline: the cache has no events for these credentials; nothing to show".into());
    }
    Ok(regions)
}

/// Runs the live source until the command channel closes (TUI) or, with `until_done`, until
/// the first query has fetched everything (print). Pages stream to `emit` as batches.
///
/// With a store, each query first reads what the store has for its window, then fetches only
/// the spans the store does not cover (nothing, when it covers all); every fetched page is
/// committed with the span it completes. `--offline` stops after the store.
pub async fn run_live(
    cfg: LiveConfig,
    raw: Arc<RawReader>,
    mut cmds: mpsc::UnboundedReceiver<LiveCmd>,
    hungry: watch::Receiver<bool>,
    until_done: bool,
    emit: &mut dyn FnMut(SourceMsg),
) -> Result<(), String> {
    let mut store = LiveStore::open(&cfg);
    let scope = scope_of(&cfg);
    let category = if cfg.insights { "insight" } else { "management" };
    let (regions, clients) = if cfg.offline {
        if store.store.is_none() {
            let why = store.notes.join("; ");
            return Err(format!(
                "--offline needs the cache, which is not available{}",
                if why.is_empty() { String::new() } else { format!(": {why}") }
            ));
        }
        (offline_regions(&cfg, store.store.as_ref(), &scope)?, Vec::new())
    } else {
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
        (regions, clients)
    };
    let mut ingest = Ingest::new(&raw);
    let mut stats = LoadStats::default();
    let (note_tx, mut note_rx) = mpsc::unbounded_channel::<FetchNote>();
    let (cancel_tx, _) = watch::channel(0u64);
    let mut status = LiveStatus::default();
    let mut recent: VecDeque<Instant> = VecDeque::new();
    let mut current: Option<u64> = None;
    // Per region of the current query: its lookup in the store, and when its window was frozen.
    let mut lookups: Vec<Option<i64>> = Vec::new();
    // Per region: the window being fetched, as it commits its pages to the store.
    let mut fetches: Vec<Option<PageFetch>> = Vec::new();
    let mut fetched_at = 0i64;
    let mut open = true;
    loop {
        tokio::select! {
            cmd = cmds.recv(), if open => match cmd {
                Some(LiveCmd::Query { generation, query }) => {
                    cancel_tx.send_replace(generation.saturating_sub(1));
                    current = Some(generation);
                    fetched_at = crate::model::time::now_ms();
                    status = LiveStatus {
                        generation,
                        regions: regions.iter().map(|r| RegionStatus { region: r.clone(), ..Default::default() }).collect(),
                        offline: cfg.offline,
                        ..Default::default()
                    };
                    lookups = vec![None; regions.len()];
                    fetches = vec![None; regions.len()];
                    let window = TimeSpan::new(query.start_ms, query.end_ms);
                    for (i, region) in regions.iter().enumerate() {
                        let key = LookupKey {
                            scope: scope.clone(),
                            region: region.clone(),
                            category: category.to_string(),
                            attr_key: query.server.as_ref().map_or(String::new(), |(a, _)| a.wire_name().to_string()),
                            attr_value: query.server.as_ref().map_or(String::new(), |(_, v)| v.clone()),
                        };
                        let mut windows = vec![window];
                        if let Some(s) = store.store.as_ref() {
                            let all = LookupKey { attr_key: String::new(), attr_value: String::new(), ..key.clone() };
                            let all = (all != key).then_some(all);
                            let read = from_store(s, &key, all.as_ref(), window, !cfg.offline, &mut |body, n| {
                                let name = format!("cache {region}");
                                let file = ingest.add_file(SourceFile::in_memory(0, &name, body));
                                emit(SourceMsg::Files(vec![file.clone()]));
                                stats.files_total += 1;
                                ingest.take_file(&file, false, &mut stats, emit);
                                if let Some(b) = ingest.flush() {
                                    emit(SourceMsg::Batch(b, stats.clone()));
                                }
                                status.cached += n;
                                status.regions[i].cached += n;
                            });
                            match read {
                                Ok(r) => {
                                    lookups[i] = r.lookup;
                                    if cfg.offline {
                                        for m in r.missing {
                                            emit(SourceMsg::Problem(Problem {
                                                input: format!("cache {}", crate::sanitize::sanitize(region)),
                                                reason: format!("offline: {} is not in the cache", coverage::describe(m)),
                                                skipped: false,
                                            }));
                                        }
                                    }
                                    windows = r.gaps;
                                }
                                Err(e) => store.failed("reading the cache", e),
                            }
                        }
                        let r = &mut status.regions[i];
                        r.fetching = windows.iter().map(|w| (w.start, w.end)).collect();
                        if cfg.offline || windows.is_empty() {
                            r.done = true;
                            continue;
                        }
                        let (_, client, pacer) = &clients[i];
                        let f = RegionFetch { client: client.clone(), pacer: pacer.clone(), region: region.clone(), region_idx: i, profile: cfg.profile.clone(), insights: cfg.insights };
                        tokio::spawn(f.run(query.clone(), windows, generation, hungry.clone(), cancel_tx.subscribe(), note_tx.clone()));
                    }
                    status.cache_notes = store.notes.clone();
                    status.done = status.regions.iter().all(|r| r.done);
                    emit(SourceMsg::Live(status.clone()));
                    if status.done && until_done {
                        break;
                    }
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
                        emit(SourceMsg::Live(status.clone()));
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
                        emit(SourceMsg::Problem(super::Problem { input: format!("LookupEvents {}", r.region), reason: error, skipped: true }));
                    }
                    FetchNote::Page(p) => {
                        // Into the store first: what is shown has been kept.
                        if let (Some(s), Some(lookup)) = (store.store.as_mut(), lookups[p.region_idx]) {
                            let slot = &mut fetches[p.region_idx];
                            if slot.as_ref().is_none_or(|f| f.window() != p.window) {
                                *slot = Some(PageFetch::new(lookup, p.window, fetched_at));
                            }
                            if let Some(f) = slot.as_mut() {
                                match s.commit_page(f, &regions[p.region_idx], &p.stored, p.oldest_ms, p.window_last) {
                                    Ok(Committed::Kept { .. }) => {}
                                    Ok(Committed::Full) => store.note_once(&format!(
                                        "the cache is at its size limit ({:.1} MiB): the older events of this query are \
                                         not kept (--cache-max-size)",
                                        cfg.cache.as_ref().map_or(0.0, |c| c.max_bytes as f64 / (1u64 << 20) as f64)
                                    )),
                                    Ok(Committed::Cleared) => {
                                        store.note_once("the cache was cleared during the fetch: the rest is not kept")
                                    }
                                    Err(e) => store.failed("writing to the cache", e),
                                }
                                status.cache_notes = store.notes.clone();
                            }
                        }
                        let r = &mut status.regions[p.region_idx];
                        r.requesting_since = None;
                        r.pages += 1;
                        r.events += p.events;
                        r.oldest_ms = p.oldest_ms.or(r.oldest_ms);
                        r.done |= p.last;
                        status.scanned += p.events;
                        let name = format!("LookupEvents {} page {}", r.region, r.pages);
                        let file = ingest.add_file(SourceFile::in_memory(0, &name, p.body));
                        emit(SourceMsg::Files(vec![file.clone()]));
                        stats.files_total += 1;
                        ingest.take_file(&file, false, &mut stats, emit);
                        if let Some(b) = ingest.flush() {
                            emit(SourceMsg::Batch(b, stats.clone()));
                        }
                    }
                }
                status.done = status.regions.iter().all(|r| r.done);
                emit(SourceMsg::Live(status.clone()));
                if status.done && until_done {
                    break;
                }
            }
        }
    }
    emit(SourceMsg::Done(stats));
    Ok(())
}

/// What the store had for one region's window.
struct FromStore {
    lookup: Option<i64>,
    /// What still has to be fetched, newest first.
    gaps: Vec<TimeSpan>,
    /// What the store does not cover at all (for `--offline`).
    missing: Vec<TimeSpan>,
}

/// Reads a lookup's stored events within `window` into `out` and works out what is left to
/// fetch. `create` registers the lookup (a fetch will follow).
///
/// A query with a lookup attribute is answered from `all` (the same lookup without an
/// attribute) when that covers the whole window: every event of the window is then in the
/// store, and the filter applies the attribute's term locally anyway, so the result is the
/// one AWS would give, with no request.
fn from_store(
    s: &Store,
    key: &LookupKey,
    all: Option<&LookupKey>,
    window: TimeSpan,
    create: bool,
    out: &mut dyn FnMut(Vec<u8>, usize),
) -> Result<FromStore, crate::cache::StoreError> {
    // Coverage and the events it describes are read from one snapshot: a prune by another
    // process in between cannot make a covered window come back short.
    if let Some(all_id) = all.map(|k| s.lookup_id(k, false)).transpose()?.flatten() {
        let answered = s.snapshot(|s| {
            let covered = coverage::missing(&s.coverage(all_id)?, window).is_empty();
            if covered {
                s.read_window(all_id, window, CACHE_CHUNK, out)?;
            }
            Ok(covered)
        })?;
        if answered {
            return Ok(FromStore { lookup: None, gaps: Vec::new(), missing: Vec::new() });
        }
    }
    let Some(lookup) = s.lookup_id(key, create)? else {
        // Offline, never fetched: one empty body, so the region counts as read.
        out(crate::cache::LookupBody::new().finish(), 0);
        return Ok(FromStore { lookup: None, gaps: vec![window], missing: vec![window] });
    };
    let rows = s.snapshot(|s| {
        let rows = s.coverage(lookup)?;
        s.read_window(lookup, window, CACHE_CHUNK, out)?;
        Ok(rows)
    })?;
    Ok(FromStore {
        lookup: Some(lookup),
        gaps: coverage::gaps(&rows, window),
        missing: coverage::missing(&rows, window),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_lose_user_information() {
        assert_eq!(endpoint_without_secrets("https://user:pw@host:8443/path?token=x#f"), "https://host:8443/path");
        assert_eq!(endpoint_without_secrets("http://127.0.0.1:4566"), "http://127.0.0.1:4566");
        assert_eq!(endpoint_without_secrets("user@host"), "host");
    }

    #[test]
    fn the_scope_never_holds_a_credential() {
        let cfg = LiveConfig {
            profile: Some("prod".into()),
            endpoint_url: Some("http://a:secret@h:1".into()),
            ..Default::default()
        };
        let s = scope_of(&cfg);
        assert!(!s.contains("secret"), "{s}");
        assert!(s.ends_with("@http://h:1"), "{s}");
        if std::env::var("AWS_ACCESS_KEY_ID").is_ok_and(|k| !k.trim().is_empty()) {
            assert!(s.starts_with("key:"), "{s}");
        } else {
            assert_eq!(s, "profile:prod@http://h:1");
        }
    }

    #[test]
    fn progress_counts_what_the_store_had() {
        let q = LiveQuery { server: None, start_ms: 0, end_ms: 1000 };
        let region = |fetching: Vec<(i64, i64)>, oldest: Option<i64>| LiveStatus {
            regions: vec![RegionStatus { fetching, oldest_ms: oldest, ..Default::default() }],
            ..Default::default()
        };
        // No store: the whole window, by the oldest event so far.
        assert_eq!(region(vec![], Some(750)).progress(&q), 0.25);
        // The store had [0, 900]: only the last 100 ms are fetched.
        assert_eq!(region(vec![(900, 1000)], None).progress(&q), 0.9);
        assert_eq!(region(vec![(900, 1000)], Some(950)).progress(&q), 0.95);
        // Two gaps, the newer one done, the older one half.
        assert_eq!(region(vec![(800, 1000), (0, 200)], Some(100)).progress(&q), 0.9);
    }
}
