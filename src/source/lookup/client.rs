//! The LookupEvents client: the SDK's configuration and regions, pacing, retrying and
//! explaining what AWS answered.

use super::{LiveConfig, LiveError, BUILTIN_REGIONS, DEFAULT_SPACING, MAX_ATTEMPTS};
use crate::sanitize::cut;
use aws_sdk_cloudtrail::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Whether a dispatch failure is about credentials (none found, an SSO token that expired),
/// which asking again cannot fix.
pub(super) fn credentials_problem(err: &LookupError) -> bool {
    let text = DisplayErrorContext(err).to_string().to_ascii_lowercase();
    ["credential", "no providers in chain", "sso", "token"].iter().any(|w| text.contains(w))
}

/// The SDK's error chain without the debug dump it appends.
pub(super) fn brief(full: &str) -> String {
    let cut = ["(DispatchFailure(", "(ServiceError(", "(ResponseError(", "(TimeoutError(", "(ConstructionFailure("]
        .iter()
        .filter_map(|m| full.find(m))
        .min()
        .unwrap_or(full.len());
    full[..cut].trim_end().to_string()
}

pub(super) type LookupError = SdkError<
    aws_sdk_cloudtrail::operation::lookup_events::LookupEventsError,
    aws_sdk_cloudtrail::config::http::HttpResponse,
>;

/// A client-side limiter: requests to one account-region at most every `spacing`.
pub struct Pacer {
    next: Mutex<Instant>,
    spacing: Duration,
}

impl Pacer {
    /// A pacer allowing one request every `spacing`.
    pub fn new(spacing: Duration) -> Self {
        Self { next: Mutex::new(Instant::now()), spacing }
    }
    /// Waits for the next request's turn.
    pub async fn wait(&self) {
        let mut next = self.next.lock().await;
        let now = Instant::now();
        if *next > now {
            tokio::time::sleep_until((*next).into()).await;
        }
        *next = Instant::now().max(*next) + self.spacing;
    }
}

/// Explains a failed LookupEvents call: what was asked, what AWS answered, what to do
/// (sanitised, at most [`MAX_EXPLANATION`] bytes and a note of what was cut).
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
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            format!("AccessDenied in {region}: the identity needs the cloudtrail:LookupEvents permission ({msg})")
        }
        "ExpiredTokenException" | "ExpiredToken" | "RequestExpired" => {
            format!("the credentials have expired ({msg}); refresh them, e.g. `{login}`, then press r")
        }
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "IncompleteSignatureException" => {
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
        "" if no_credentials("", &raw) => LiveError::NoCredentials { profile: profile.map(str::to_string) }.to_string(),
        "" if raw.to_ascii_lowercase().contains("sso") && (raw.contains("expired") || raw.contains("token")) => {
            format!("the SSO session has expired or is missing: run `{login}`")
        }
        "" => match err {
            SdkError::ServiceError(_) => format!(
                "CloudTrail in {region} sent a response that could not be read (HTTP {})",
                err.raw_response().map_or(0, |r| r.status().as_u16())
            ),
            SdkError::TimeoutError(_) => format!("LookupEvents in {region} timed out; AWS did not answer in time"),
            SdkError::DispatchFailure(_) => {
                format!("could not reach CloudTrail in {region}: {}", crate::sanitize::sanitize(&full))
            }
            SdkError::ResponseError(_) => format!(
                "CloudTrail in {region} sent a response that could not be read (the connection may have dropped)"
            ),
            _ => format!("LookupEvents in {region} failed: {}", crate::sanitize::sanitize(&full)),
        },
        _ => format!("LookupEvents in {region} failed: {code}: {msg}"),
    };
    cut(&crate::sanitize::sanitize(&text), MAX_EXPLANATION)
}

/// The longest explanation kept: AWS's messages are a sentence, but an endpoint may send
/// anything (a megabyte of it once), and the explanation goes to the status bar and stderr.
pub const MAX_EXPLANATION: usize = 1000;

pub(super) fn retryable(err: &LookupError) -> bool {
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

pub(super) fn short_reason(e: &LookupError) -> String {
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

pub(super) fn jitter(attempt: u32) -> Duration {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    Duration::from_millis(((nanos as u64).wrapping_mul(attempt as u64 + 1)) % 200)
}

/// A named profile that is in neither AWS file is an error of its own: the SDK would go on
/// without it and fail later about something else (no region, no credentials).
pub(super) fn check_profile(name: &str) -> Result<(), LiveError> {
    match super::profiles::defined_profiles() {
        Some(defined) if !defined.iter().any(|d| d == name) => {
            Err(LiveError::UnknownProfile { name: name.to_string(), defined })
        }
        // A file that cannot be read is the SDK's to explain.
        _ => Ok(()),
    }
}

/// With no credentials anywhere (the default chain found none, or fell through to an instance
/// metadata service that gave none), every request would fail alike with the SDK's chain of
/// reasons: say it once instead, with what to do. Other failures (an expired SSO session) are
/// left to the requests, whose answers [`explain`] reads.
async fn check_credentials(sdk: &aws_config::SdkConfig, profile: Option<&str>) -> Result<(), LiveError> {
    use aws_sdk_cloudtrail::config::ProvideCredentials;
    let Some(provider) = sdk.credentials_provider() else { return Ok(()) };
    match provider.provide_credentials().await {
        Ok(_) => Ok(()),
        Err(e) if no_credentials(&format!("{e:?}"), &DisplayErrorContext(&e).to_string()) => {
            Err(LiveError::NoCredentials { profile: profile.map(str::to_string) })
        }
        Err(_) => Ok(()),
    }
}

/// Whether a credentials error (its debug form and its chain of reasons) means that no
/// source of credentials had any: none loaded, or the chain ended at the instance metadata
/// service, which it asks last.
pub(super) fn no_credentials(debug: &str, chain: &str) -> bool {
    debug.starts_with("CredentialsNotLoaded")
        || ["no providers in chain", "no credentials found", "CredentialsNotLoaded", "failed to load credentials"]
            .iter()
            .any(|w| chain.contains(w))
        || (chain.contains("loading credentials") && chain.contains("IMDS"))
}

/// Whether any credentials can be had the way `cfg` asks (profile, environment, instance
/// metadata): for work that is worth starting only with them (verifying digests in the
/// background). An unknown profile or another failure says yes: the work itself explains it.
pub async fn has_credentials(cfg: &LiveConfig) -> bool {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = &cfg.profile {
        loader = loader.profile_name(p);
    }
    if let Some(u) = &cfg.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    let sdk = loader.load().await;
    !matches!(check_credentials(&sdk, cfg.profile.as_deref()).await, Err(LiveError::NoCredentials { .. }))
}

/// Resolves the SDK configuration and the list of regions.
pub async fn connect(cfg: &LiveConfig) -> Result<(aws_config::SdkConfig, Vec<String>), LiveError> {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = &cfg.profile {
        check_profile(p)?;
        loader = loader.profile_name(p);
    }
    if let Some(u) = &cfg.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    if let Some(first) = cfg.regions.iter().find(|r| r.as_str() != "all") {
        loader = loader.region(aws_config::Region::new(first.clone()));
    }
    let sdk = loader.load().await;
    check_credentials(&sdk, cfg.profile.as_deref()).await?;
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
            None => return Err(LiveError::NoRegion),
        }
    }
    regions.dedup();
    Ok((sdk, regions))
}

/// The account's enabled regions (Account API ListRegions), or a built-in list when that is
/// not allowed.
pub(super) async fn enabled_regions(sdk: &aws_config::SdkConfig) -> Vec<String> {
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

/// The client of one region and the pacer its requests wait for.
pub(super) struct RegionClient {
    pub(super) client: aws_sdk_cloudtrail::Client,
    pub(super) pacer: Arc<Pacer>,
}

/// A client per region, with the SDK's own retries off (a page is retried here, paced) and
/// the per-attempt timeout of `cfg`.
pub(super) fn region_clients(sdk: &aws_config::SdkConfig, regions: &[String], cfg: &LiveConfig) -> Vec<RegionClient> {
    let spacing = cfg.spacing.unwrap_or(DEFAULT_SPACING);
    let timeout = cfg.timeout.unwrap_or(Duration::from_secs(30));
    regions
        .iter()
        .map(|r| {
            let conf = aws_sdk_cloudtrail::config::Builder::from(sdk)
                .region(aws_config::Region::new(r.clone()))
                .retry_config(aws_config::retry::RetryConfig::disabled())
                .timeout_config(crate::source::attempt_timeouts(timeout))
                .build();
            RegionClient { client: aws_sdk_cloudtrail::Client::from_conf(conf), pacer: Arc::new(Pacer::new(spacing)) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_answer_is_cut_with_a_note() {
        assert_eq!(cut("short", 10), "short");
        let long = "é".repeat(600_000);
        let c = cut(&long, MAX_EXPLANATION);
        assert!(c.len() < MAX_EXPLANATION + 40, "{}", c.len());
        assert!(c.ends_with("… (1199000 more bytes)"), "{}", &c[c.len() - 30..]);
    }
}
