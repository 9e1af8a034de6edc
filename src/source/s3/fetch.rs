//! Talking to S3: clients per region, GetObject with retries, and errors that say what to do.
//!
//! Fetching knows nothing of the layout: it takes a bucket and keys, wherever they were found
//! (a listing here, or Athena's `"$path"`).

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How many times one request is tried before its object (or listing) is given up.
pub const MAX_ATTEMPTS: u32 = 6;
/// The first pause before asking again; it doubles each time (with jitter), up to 5 s.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// What the requests of one run did, shared by every task (for the status and the tests).
#[derive(Debug, Default)]
pub struct Counters {
    /// ListObjectsV2 requests sent (each page counts).
    pub lists: AtomicUsize,
    /// GetObject requests sent.
    pub gets: AtomicUsize,
    /// HeadBucket requests sent (to find a bucket's region).
    pub heads: AtomicUsize,
    /// Requests asked again after a failure that may pass.
    pub retries: AtomicUsize,
    /// Bytes received in object bodies, as stored (compressed).
    pub bytes: AtomicU64,
}

impl Counters {
    /// Every request sent, of any kind.
    pub fn requests(&self) -> usize {
        self.lists.load(Ordering::Relaxed) + self.gets.load(Ordering::Relaxed) + self.heads.load(Ordering::Relaxed)
    }
}

/// A request that failed, explained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What happened and what to do, sanitised.
    pub text: String,
    /// Asking again may work (throttling, a server error, a dropped connection).
    pub retry: bool,
    /// Nothing else in the bucket can work either (no such bucket, no credentials).
    pub fatal: bool,
}

impl Failure {
    /// A failure that asking again will not fix, for this request only.
    pub fn new(text: impl AsRef<str>) -> Failure {
        Failure { text: crate::sanitize::sanitize(text.as_ref()).into_owned(), retry: false, fatal: false }
    }
    /// A failure that stops every request to the bucket (no such bucket, no credentials).
    pub fn fatal(text: impl AsRef<str>) -> Failure {
        Failure { fatal: true, ..Failure::new(text) }
    }
    fn retry(text: impl AsRef<str>) -> Failure {
        Failure { retry: true, ..Failure::new(text) }
    }
}

/// What was being asked, for the explanation.
#[derive(Clone, Copy, Debug)]
pub enum Asked<'a> {
    /// ListObjectsV2.
    List {
        /// The bucket listed.
        bucket: &'a str,
        /// The prefix listed.
        prefix: &'a str,
    },
    /// GetObject.
    Get {
        /// The bucket of the object.
        bucket: &'a str,
        /// The object's key.
        key: &'a str,
    },
    /// HeadBucket, to learn the bucket's region.
    Head {
        /// The bucket asked about.
        bucket: &'a str,
    },
}

impl Asked<'_> {
    fn bucket(&self) -> &str {
        match self {
            Asked::List { bucket, .. } | Asked::Get { bucket, .. } | Asked::Head { bucket } => bucket,
        }
    }
    fn what(&self) -> String {
        match self {
            Asked::List { bucket, prefix } => format!("listing s3://{bucket}/{prefix}"),
            Asked::Get { bucket, key } => format!("fetching s3://{bucket}/{key}"),
            Asked::Head { bucket } => format!("finding the region of bucket {bucket}"),
        }
    }
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

/// Explains a failed S3 call: which permission or resource, what AWS said, what to do.
pub fn explain<E, R>(err: &SdkError<E, R>, asked: Asked<'_>, status: Option<u16>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = err.code().unwrap_or("");
    let msg = err.message().unwrap_or("");
    let raw = DisplayErrorContext(err).to_string();
    let bucket = asked.bucket();
    let what = asked.what();
    match (code, asked) {
        ("AccessDenied" | "AllAccessDisabled", Asked::Get { key, .. })
            if msg.to_ascii_lowercase().contains("kms") || code.contains("KMS") =>
        {
            Failure::new(format!(
                "kms:Decrypt denied for s3://{bucket}/{key}: the object is encrypted with SSE-KMS and the identity \
                 may not use its key; grant kms:Decrypt on that KMS key ({msg})"
            ))
        }
        (_, Asked::Get { key, .. }) if code.starts_with("KMS") => Failure::new(format!(
            "kms:Decrypt failed for s3://{bucket}/{key} (SSE-KMS): {code}: {msg}; the identity needs kms:Decrypt on the object's KMS key"
        )),
        ("AccessDenied", Asked::Get { key, .. }) => Failure::new(format!(
            "s3:GetObject denied on arn:aws:s3:::{bucket}/{key}: the identity needs s3:GetObject on the trail's objects ({msg})"
        )),
        ("AccessDenied", Asked::List { prefix, .. }) => Failure::fatal(format!(
            "s3:ListBucket denied on arn:aws:s3:::{bucket} (prefix '{prefix}'): the identity needs s3:ListBucket on the \
             bucket, with an s3:prefix condition that allows the trail's prefix ({msg})"
        )),
        ("AccessDenied", Asked::Head { .. }) => Failure::fatal(format!(
            "access denied to bucket {bucket} (HeadBucket needs s3:ListBucket on arn:aws:s3:::{bucket}) ({msg})"
        )),
        ("NoSuchBucket", _) => Failure::fatal(format!(
            "no such bucket '{bucket}': check the name (and the trail's S3 bucket in `aws cloudtrail describe-trails`)"
        )),
        ("NoSuchKey", Asked::Get { key, .. }) => {
            Failure::new(format!("s3://{bucket}/{key} is gone (deleted or moved since it was listed)"))
        }
        ("InvalidAccessKeyId" | "SignatureDoesNotMatch" | "InvalidToken" | "TokenRefreshRequired", _) => {
            Failure::fatal(format!("S3 did not accept the credentials while {what} ({code}: {msg}); check the profile and keys"))
        }
        ("ExpiredToken" | "ExpiredTokenException", _) => {
            Failure::fatal(format!("the credentials have expired ({msg}); refresh them (e.g. `aws sso login`) and try again"))
        }
        ("PermanentRedirect" | "AuthorizationHeaderMalformed" | "IllegalLocationConstraintException", _) => {
            Failure::fatal(format!("bucket {bucket} is in another region than asked ({code}: {msg}); pass its region with --region"))
        }
        ("SlowDown" | "ServiceUnavailable" | "InternalError" | "RequestTimeout" | "Throttling" | "ThrottlingException", _) => {
            Failure::retry(format!("{what}: S3 answered {code} ({msg}) after {MAX_ATTEMPTS} tries; try again later"))
        }
        ("", _) if ["no providers in chain", "no credentials found", "CredentialsNotLoaded", "failed to load credentials"]
            .iter()
            .any(|w| raw.contains(w)) =>
        {
            Failure::fatal(
                "no AWS credentials found: set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws configure`",
            )
        }
        _ => {
            let status = status.or_else(|| match err {
                SdkError::ServiceError(e) => Some(debug_status(e.raw())),
                _ => None,
            });
            match err {
                SdkError::TimeoutError(_) => Failure::retry(format!("{what}: S3 did not answer in time")),
                SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() || d.is_other() => {
                    Failure::retry(format!("{what}: could not reach S3: {}", brief(&raw)))
                }
                SdkError::ResponseError(_) => {
                    Failure::retry(format!("{what}: the response could not be read (the connection may have dropped)"))
                }
                SdkError::ServiceError(_) if status.is_some_and(|s| s >= 500 || s == 429) => Failure::retry(format!(
                    "{what}: S3 answered HTTP {} {code} after {MAX_ATTEMPTS} tries",
                    status.unwrap_or(0)
                )),
                SdkError::ServiceError(_) if status == Some(403) => Failure::new(format!(
                    "{what}: access denied (HTTP 403{}{})",
                    if code.is_empty() { "" } else { ", " },
                    code
                )),
                SdkError::ServiceError(_) if status == Some(404) && matches!(asked, Asked::Head { .. }) => {
                    Failure::fatal(format!("no such bucket '{bucket}'"))
                }
                SdkError::ServiceError(_) if code.is_empty() => {
                    Failure::retry(format!("{what}: S3 sent an answer that could not be read (HTTP {})", status.unwrap_or(0)))
                }
                _ => Failure::new(format!("{what} failed: {code}: {msg} {}", brief(&raw))),
            }
        }
    }
}

/// The HTTP status of a raw response, through its debug form (the response type differs
/// between operations; all print `status: StatusCode(NNN)`).
pub(crate) fn debug_status(r: &impl std::fmt::Debug) -> u16 {
    let s = format!("{r:?}");
    s.find("StatusCode(").and_then(|i| s[i + 11..].split(')').next()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Sleeps before attempt `attempt` (1 = the first retry): doubling, with jitter, at most 5 s.
pub async fn backoff(attempt: u32) {
    let base = FIRST_BACKOFF.as_millis() as u64 * (1u64 << attempt.min(6));
    let jitter = xxhash_rust::xxh3::xxh3_64(&crate::model::time::now_ms().to_le_bytes()) % (base / 2 + 1);
    tokio::time::sleep(Duration::from_millis((base + jitter).min(5_000))).await;
}

/// Everything needed to reach S3 as the user asked.
#[derive(Clone, Debug, Default)]
pub struct Connect {
    /// The AWS profile (`--profile`); the default credential chain without it.
    pub profile: Option<String>,
    /// The region of the API calls (`--region`); buckets are asked in their own region.
    pub region: Option<String>,
    /// Another endpoint than AWS's (`--endpoint-url`: a local S3 server, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// How long one request may take before it is given up and asked again.
    pub timeout: Option<Duration>,
}

/// The shared SDK configuration (credential chain, profile, endpoint).
pub async fn sdk_config(c: &Connect) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = &c.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &c.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    if let Some(u) = &c.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    loader.load().await
}

/// An S3 client for `region`: the SDK's own retries off (they are done here, where a body
/// cut short is retried too), path-style addressing with an endpoint URL.
pub fn client(sdk: &aws_config::SdkConfig, region: &str, c: &Connect) -> aws_sdk_s3::Client {
    let timeout = c.timeout.unwrap_or(Duration::from_secs(60));
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .region(aws_config::Region::new(region.to_string()))
        .force_path_style(c.endpoint_url.is_some())
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(crate::source::attempt_timeouts(timeout))
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// The bucket's region: HeadBucket's `x-amz-bucket-region` (answered even when the bucket
/// is in another region or access is denied), else `fallback`.
pub async fn bucket_region(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    fallback: &str,
    counters: &Counters,
) -> Result<String, Failure> {
    let mut attempt = 0;
    loop {
        counters.heads.fetch_add(1, Ordering::Relaxed);
        let err = match client.head_bucket().bucket(bucket).send().await {
            Ok(out) => return Ok(out.bucket_region().unwrap_or(fallback).to_string()),
            Err(e) => e,
        };
        let header = err.raw_response().and_then(|r| r.headers().get("x-amz-bucket-region")).map(str::to_string);
        if let Some(region) = header {
            return Ok(region);
        }
        let status = err.raw_response().map(|r| r.status().as_u16());
        let f = explain(&err, Asked::Head { bucket }, status);
        attempt += 1;
        if !f.retry || attempt >= MAX_ATTEMPTS {
            return Err(f);
        }
        counters.retries.fetch_add(1, Ordering::Relaxed);
        backoff(attempt).await;
    }
}

/// One object as fetched: its bytes as stored (gzip is recognised later by its magic bytes,
/// whatever `Content-Encoding` says).
pub struct Fetched {
    /// The object's key.
    pub key: String,
    /// Its ETag, which names this version of its content in the local store.
    pub etag: String,
    /// Its content.
    pub bytes: Vec<u8>,
    /// The object's user metadata (`x-amz-meta-*`, without the prefix): a digest's
    /// `signature` and `signature-algorithm`.
    pub metadata: std::collections::HashMap<String, String>,
}

/// GetObject, retried on throttling, server errors and bodies cut short.
pub async fn get_object(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    counters: &Counters,
) -> Result<Fetched, Failure> {
    let asked = Asked::Get { bucket, key };
    let mut attempt = 0;
    loop {
        counters.gets.fetch_add(1, Ordering::Relaxed);
        let failure = match client.get_object().bucket(bucket).key(key).send().await {
            Ok(out) => {
                let etag = out.e_tag().unwrap_or("").to_string();
                let metadata = out.metadata().cloned().unwrap_or_default();
                let expected = out.content_length();
                match out.body.collect().await {
                    Ok(b) => {
                        let bytes = b.into_bytes().to_vec();
                        if expected.is_some_and(|n| n >= 0 && n as usize != bytes.len()) {
                            Failure::retry(format!(
                                "{}: the body ended after {} of {} bytes",
                                asked.what(),
                                bytes.len(),
                                expected.unwrap_or(0)
                            ))
                        } else {
                            counters.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                            return Ok(Fetched { key: key.to_string(), etag, bytes, metadata });
                        }
                    }
                    Err(e) => Failure::retry(format!(
                        "{}: the connection dropped while reading the object ({})",
                        asked.what(),
                        crate::sanitize::sanitize(&e.to_string())
                    )),
                }
            }
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                explain(&e, asked, status)
            }
        };
        attempt += 1;
        if !failure.retry || attempt >= MAX_ATTEMPTS {
            return Err(failure);
        }
        counters.retries.fetch_add(1, Ordering::Relaxed);
        backoff(attempt).await;
    }
}

/// A client for bucket `name` in the bucket's own region: `known_region` when the caller
/// knows it, the asked region with an endpoint URL (an S3-compatible store has one region,
/// whatever it is called), else HeadBucket's answer. Returns the region too.
pub async fn open_bucket(
    sdk: &aws_config::SdkConfig,
    c: &Connect,
    name: &str,
    counters: Arc<Counters>,
    known_region: Option<String>,
) -> Result<(Bucket, String), Failure> {
    let asked_region =
        c.region.clone().or_else(|| sdk.region().map(|r| r.to_string())).unwrap_or_else(|| "us-east-1".to_string());
    let region = if c.endpoint_url.is_some() {
        asked_region
    } else if let Some(r) = known_region {
        r
    } else {
        let probe = client(sdk, &asked_region, c);
        bucket_region(&probe, name, &asked_region, &counters).await?
    };
    Ok((Bucket { client: client(sdk, &region, c), name: name.to_string(), counters }, region))
}

/// A bucket as the tasks of one run share it.
#[derive(Clone)]
pub struct Bucket {
    /// A client for the bucket's own region.
    pub client: aws_sdk_s3::Client,
    /// The bucket's name.
    pub name: String,
    /// What the run's requests did.
    pub counters: Arc<Counters>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_from_a_debug_dump() {
        assert_eq!(debug_status(&"Response { status: StatusCode(503), headers: {} }"), 503);
        assert_eq!(debug_status(&"nothing"), 0);
    }
}
