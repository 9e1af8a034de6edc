//! Live event history: CloudTrail LookupEvents through `aws-sdk-cloudtrail`, paced at the
//! service limit, retried without losing a page, several regions at once.
//!
//! Each fetched page is handed to the same [`Ingest`](super::Ingest) as local files (as lookup-events
//! output), so parsing, interning and de-duplication by eventID are the ones files get.

mod client;
mod fetch;
mod profiles;
mod session;
mod store;

pub use client::{connect, explain, has_credentials, Pacer};
pub use session::run_live;

use crate::cache::CacheConfig;
use crate::query::plan::{Attr, Plan};
use std::time::{Duration, Instant};

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
/// How live history connects, and where it keeps what it fetched.
pub struct LiveConfig {
    /// The AWS profile (`--profile`); `None`: the SDK's default chain.
    pub profile: Option<String>,
    /// Empty: the configured default region. `all`: every enabled region.
    pub regions: Vec<String>,
    /// `--endpoint-url`: another endpoint than AWS's (a test double, LocalStack).
    pub endpoint_url: Option<String>,
    /// CloudTrail Insights events instead of management events.
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
    /// The lookup attribute sent to AWS, if any.
    pub server: Option<(Attr, String)>,
    /// The window's start (ms, inclusive).
    pub start_ms: i64,
    /// The window's end (ms, inclusive).
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
    /// The query this is about.
    pub generation: u64,
    /// Per region, in the order asked.
    pub regions: Vec<RegionStatus>,
    /// Requests sent for this query.
    pub requests: usize,
    /// Requests in the last ten seconds, per second.
    pub rate: f64,
    /// Events fetched from AWS for this query.
    pub scanned: usize,
    /// Events read from the local store for this query.
    pub cached: usize,
    /// Answered from the store only (`--offline`).
    pub offline: bool,
    /// What the store had to say: it was moved aside, could not be used, ...
    pub cache_notes: Vec<String>,
    /// Every region is done (or failed, or was cancelled).
    pub done: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
/// One region's part of a query.
pub struct RegionStatus {
    /// The region's name.
    pub region: String,
    /// Pages fetched.
    pub pages: usize,
    /// Events fetched.
    pub events: usize,
    /// The oldest event time fetched so far (pages come newest first).
    pub oldest_ms: Option<i64>,
    /// Nothing more to fetch (or it failed, or was cancelled).
    pub done: bool,
    /// What the fetch waits for (a retry after throttling…), if anything.
    pub waiting: Option<String>,
    /// Why the region stopped, if it failed.
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

/// Commands to a running live source.
#[derive(Clone, Debug)]
pub enum LiveCmd {
    /// Start a query (cancelling the one before).
    Query {
        /// Newer generations replace older ones; status and pages carry it.
        generation: u64,
        /// What to fetch.
        query: LiveQuery,
    },
    /// Stop fetching.
    Cancel,
}

/// Why live history could not start, or go on, at all.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// `--profile NAME` names a profile that neither AWS file defines.
    #[error("{}", unknown_profile(.name, .defined))]
    UnknownProfile {
        /// The profile asked for.
        name: String,
        /// The profiles the files define, sorted.
        defined: Vec<String>,
    },
    /// No source of credentials had any (the environment, the profile, SSO, the container
    /// or instance metadata).
    #[error(
        "no AWS credentials found{}: set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws configure` (`aws sso login` for SSO); --offline reads what the cache holds",
        .profile.as_ref().map(|p| format!(" for profile {p}")).unwrap_or_default()
    )]
    NoCredentials {
        /// The profile asked for, if one was.
        profile: Option<String>,
    },
    /// No region given, none in the environment or the profile.
    #[error(
        "no region: pass --region (e.g. --region us-east-1 or --region all), or set AWS_REGION or a region in the profile"
    )]
    NoRegion,
    /// `--offline` without a usable cache (why it is not usable).
    #[error("--offline needs the cache, which is not available{}", if .why.is_empty() { String::new() } else { format!(": {}", .why) })]
    OfflineWithoutCache {
        /// What the cache said when it was opened.
        why: String,
    },
    /// `--offline`, and the cache has nothing for these credentials.
    #[error("--offline: the cache has no events for these credentials; nothing to show")]
    OfflineNothingCached,
    /// The cache could not be read for the regions to answer.
    #[error("reading the cache: {0}")]
    ReadingCache(crate::cache::StoreError),
    /// The async runtime the source runs on could not start.
    #[error("starting the runtime: {0}")]
    Runtime(std::io::Error),
}

fn unknown_profile(name: &str, defined: &[String]) -> String {
    let defined = if defined.is_empty() {
        "no profile is defined there".to_string()
    } else {
        format!("defined there: {}", defined.join(", "))
    };
    crate::sanitize::sanitize(&format!("profile {name} is not in the AWS config or credentials file ({defined})"))
        .into_owned()
}

/// What problems about live history are reported as coming from.
pub const LIVE_INPUT: &str = "live event history";

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
