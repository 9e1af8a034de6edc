//! `verify s3://bucket/prefix`: the archive's keys listed and its objects fetched through the
//! S3 source's own listing and fetching ([`crate::source::s3`]), in parallel.
//!
//! In S3 a digest keeps its own signature as object metadata (`signature`,
//! `signature-algorithm`), so the newest digest of a chain is checked too.

use crate::sanitize::sanitize;
use crate::source::s3::fetch::{self, Bucket, Connect, Counters, Fetched};
use crate::source::s3::layout::{S3Url, Scope, Window};
use crate::source::s3::list::{self, NoStore};
use futures::StreamExt;
use std::sync::Arc;

/// Requests in flight at most, listing and fetching each.
const CONCURRENCY: usize = 16;
const HOUR_MS: i64 = 3_600_000;

/// One trail archive in S3.
pub struct Remote {
    pub url: S3Url,
    bucket: Bucket,
    rt: Arc<tokio::runtime::Runtime>,
}

/// A digest's signature as S3 keeps it, in the object's metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    pub signature: Option<String>,
    pub algorithm: Option<String>,
}

impl Meta {
    pub fn of(f: &Fetched) -> Meta {
        let get = |name: &str| {
            f.metadata.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string())
        };
        Meta { signature: get("signature").filter(|s| !s.is_empty()), algorithm: get("signature-algorithm") }
    }
}

/// A runtime for verify's S3 calls (verify itself is synchronous).
pub fn runtime() -> Result<Arc<tokio::runtime::Runtime>, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map(Arc::new)
        .map_err(|e| format!("starting the S3 client: {e}"))
}

/// Where `--trail` delivers, through DescribeTrails.
pub fn locate_trail(rt: &tokio::runtime::Runtime, connect: &Connect, trail: &str) -> Result<S3Url, String> {
    rt.block_on(crate::source::s3::trail::describe(connect, trail)).map(|t| t.url)
}

impl Remote {
    pub fn open(rt: Arc<tokio::runtime::Runtime>, connect: &Connect, url: S3Url) -> Result<Remote, String> {
        let bucket = rt.block_on(async {
            let sdk = fetch::sdk_config(connect).await;
            fetch::open_bucket(&sdk, connect, &url.bucket, Arc::new(Counters::default()), None).await
        });
        match bucket {
            Ok((bucket, _)) => Ok(Remote { url, bucket, rt }),
            Err(f) => Err(format!("{}: {}", url, f.text)),
        }
    }

    /// The full key of a key relative to the trail's prefix (`AWSLogs/...`).
    pub fn full_key(&self, key: &str) -> String {
        if self.url.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.url.prefix)
        }
    }

    /// How a key relative to the prefix is shown.
    pub fn show(&self, key: &str) -> String {
        sanitize(&format!("s3://{}/{}", self.url.bucket, self.full_key(key))).into_owned()
    }

    pub fn bucket(&self) -> &str {
        &self.url.bucket
    }

    /// The log files and digests of the trail (keys relative to its prefix, from `AWSLogs/`
    /// on): with `since`, only the day directories from the day before it to the day after
    /// `until` (the hour of slack at either end keeps the digests around the window); else
    /// every one. Problems with single directories are returned beside what was listed.
    pub fn list(&self, since: Option<i64>, until: Option<i64>) -> Result<(Vec<String>, Vec<String>), String> {
        let now = crate::model::time::now_ms();
        let window = Window {
            start_ms: since.map_or(i64::MIN / 4, |s| s - HOUR_MS),
            end_ms: until.unwrap_or(now),
            lag_ms: 2 * HOUR_MS,
        };
        let url = self.url.clone();
        let b = self.bucket.clone();
        self.rt.block_on(async move {
            let dirs = list::trail_dirs(&b, &NoStore, &url, &window, &Scope::default())
                .await
                .map_err(|f| format!("{url}: {}", f.text))?;
            // Each kind's regions on their own: a copy may hold digests without log files.
            let mut prefixes = Vec::new();
            for account_dir in &dirs.account_dirs {
                for kind in ["CloudTrail", "CloudTrail-Digest"] {
                    let top = format!("{account_dir}{kind}/");
                    if since.is_none() {
                        prefixes.push(top);
                        continue;
                    }
                    let regions = list::list(&b, &top, true).await.map_err(|f| format!("{url}: {}", f.text))?;
                    for region in &regions.dirs {
                        for day in window.days() {
                            prefixes.push(format!("{region}{}/", day.path()));
                        }
                    }
                }
            }
            let listings = prefixes.into_iter().map(|p| {
                let b = b.clone();
                async move {
                    let level = list::list(&b, &p, false).await;
                    (p, level)
                }
            });
            let mut listed = futures::stream::iter(listings).buffer_unordered(8);
            let (mut keys, mut problems) = (Vec::new(), Vec::new());
            let logs = url.logs_dir();
            let strip = logs.len() - "AWSLogs/".len();
            while let Some((prefix, level)) = listed.next().await {
                match level {
                    Ok(level) => keys.extend(level.objects.into_iter().map(|o| o.key[strip..].to_string())),
                    Err(f) if f.fatal => return Err(format!("{url}: {}", f.text)),
                    Err(f) => problems.push(format!("{}: {}", sanitize(&format!("s3://{}/{prefix}", b.name)), f.text)),
                }
            }
            keys.sort();
            Ok((keys, problems))
        })
    }

    /// Fetches `keys` (relative to the prefix), [`CONCURRENCY`] at a time, and hands each
    /// object (or why it could not be fetched) to `f` on a blocking thread, as it arrives.
    pub fn fetch_all<T, F>(&self, keys: Vec<String>, f: F) -> Vec<T>
    where
        T: Send + 'static,
        F: Fn(String, Result<Fetched, String>) -> T + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let fetches = keys.into_iter().map(|key| {
            let (b, f, full) = (self.bucket.clone(), f.clone(), self.full_key(&key));
            async move {
                let got = fetch::get_object(&b.client, &b.name, &full, &b.counters).await.map_err(|e| e.text);
                tokio::task::spawn_blocking(move || f(key, got)).await
            }
        });
        self.rt.block_on(async {
            futures::stream::iter(fetches)
                .buffer_unordered(CONCURRENCY)
                .filter_map(|r| async { r.ok() })
                .collect()
                .await
        })
    }
}
