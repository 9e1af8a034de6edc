//! Listing a trail: its accounts and regions (pruned by the filter), then the day directories
//! of the window, newest first, keeping only the files delivered within the window and the lag.

use super::fetch::{backoff, explain, Asked, Bucket, Failure, MAX_ATTEMPTS};
use super::layout::{self, DayPrefix, S3Url, Scope, Window};
use std::sync::atomic::Ordering;

/// One object found by a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// The object's key.
    pub key: String,
    /// Its ETag (names this version of its content).
    pub etag: String,
    /// Its size in bytes, as stored.
    pub size: i64,
}

/// What one level of a listing with `/` as delimiter holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Level {
    /// Sub-directories, with the prefix and ending in `/`.
    pub dirs: Vec<String>,
    /// Objects at this level.
    pub objects: Vec<Listed>,
}

/// Lists everything under `prefix` (one level when `delimited`), every page, retrying pages.
pub async fn list(b: &Bucket, prefix: &str, delimited: bool) -> Result<Level, Failure> {
    let mut out = Level::default();
    let mut token: Option<String> = None;
    loop {
        let mut attempt = 0;
        let page = loop {
            b.counters.lists.fetch_add(1, Ordering::Relaxed);
            let mut req =
                b.client.list_objects_v2().bucket(&b.name).prefix(prefix).set_continuation_token(token.clone());
            if delimited {
                req = req.delimiter("/");
            }
            match req.send().await {
                Ok(p) => break p,
                Err(e) => {
                    let status = e.raw_response().map(|r| r.status().as_u16());
                    let f = explain(&e, Asked::List { bucket: &b.name, prefix }, status);
                    attempt += 1;
                    if !f.retry || attempt >= MAX_ATTEMPTS {
                        return Err(f);
                    }
                    b.counters.retries.fetch_add(1, Ordering::Relaxed);
                    backoff(attempt).await;
                }
            }
        };
        out.dirs.extend(page.common_prefixes().iter().filter_map(|p| p.prefix().map(str::to_string)));
        out.objects.extend(page.contents().iter().filter_map(|o| {
            Some(Listed {
                key: o.key()?.to_string(),
                etag: o.e_tag().unwrap_or("").to_string(),
                size: o.size().unwrap_or(0),
            })
        }));
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() || page.is_truncated() == Some(false) {
            return Ok(out);
        }
    }
}

/// The last path element of a directory prefix (`a/b/c/` -> `c`).
pub fn leaf(dir: &str) -> &str {
    dir.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

/// Lists memoised by prefix: a listing the local store has (and that is still complete for
/// the window) is taken from it instead of asking S3.
pub trait Listings: Send + Sync {
    /// A stored listing of `prefix` good for the window, if any.
    fn stored(&self, prefix: &str, complete_after_ms: i64) -> Option<Level>;
    /// Keeps a listing just made.
    fn keep(&self, prefix: &str, level: &Level, listed_ms: i64);
    /// Never ask S3 (`--offline`): what is not stored is missing.
    fn offline(&self) -> bool {
        false
    }
}

/// No store: every listing is asked for.
pub struct NoStore;

impl Listings for NoStore {
    fn stored(&self, _: &str, _: i64) -> Option<Level> {
        None
    }
    fn keep(&self, _: &str, _: &Level, _: i64) {}
}

/// Lists `prefix` from the store when it has a listing taken after `complete_after_ms`, else
/// from S3 (and keeps it).
pub async fn list_via(
    b: &Bucket,
    store: &dyn Listings,
    prefix: &str,
    delimited: bool,
    complete_after_ms: i64,
) -> Result<Level, Failure> {
    if let Some(l) = store.stored(prefix, complete_after_ms) {
        return Ok(l);
    }
    if store.offline() {
        return Err(Failure::new(format!(
            "offline: the listing of s3://{}/{prefix} is not in the cache (or may lack files of the window)",
            b.name
        )));
    }
    let listed_ms = crate::model::time::now_ms();
    let level = list(b, prefix, delimited).await?;
    store.keep(prefix, &level, listed_ms);
    Ok(level)
}

/// A trail's accounts and regions to read, pruned by the filter.
#[derive(Clone, Debug, Default)]
pub struct TrailDirs {
    /// (account directory ending in `/`, account, regions)
    pub accounts: Vec<(String, String, Vec<String>)>,
    /// Every account directory the filter wants, with log files or not (a copy may hold
    /// digests only).
    pub account_dirs: Vec<String>,
    /// Accounts and regions found, before pruning (to complete in the filter).
    pub found_accounts: Vec<String>,
    /// Regions found under the accounts read, before pruning.
    pub found_regions: Vec<String>,
}

/// Finds a trail's accounts (through organisation directories) and their regions.
///
/// A directory listing taken after the window's last delivery holds every directory that has
/// files of the window, so such a stored listing is used as it is.
pub async fn trail_dirs(
    b: &Bucket,
    store: &dyn Listings,
    url: &S3Url,
    window: &Window,
    scope: &Scope,
) -> Result<TrailDirs, Failure> {
    let after = window.last_delivery_ms();
    let logs = url.logs_dir();
    let top = list_via(b, store, &logs, true, after).await?;
    if top.dirs.is_empty() {
        return Err(no_layout(b, store, url, &logs, after).await);
    }
    let mut account_dirs = Vec::new();
    for d in &top.dirs {
        let name = leaf(d);
        if name.starts_with("o-") {
            let org = list_via(b, store, d, true, after).await?;
            account_dirs.extend(org.dirs.iter().filter(|a| layout::is_account(leaf(a))).cloned());
        } else if layout::is_account(name) {
            account_dirs.push(d.clone());
        }
    }
    if account_dirs.is_empty() {
        return Err(no_layout(b, store, url, &logs, after).await);
    }
    let mut out =
        TrailDirs { found_accounts: account_dirs.iter().map(|d| leaf(d).to_string()).collect(), ..Default::default() };
    let wanted: Vec<String> = account_dirs.into_iter().filter(|d| scope.wants_account(leaf(d))).collect();
    out.account_dirs = wanted.clone();
    let listed = futures::future::join_all(wanted.iter().map(|d| {
        let prefix = format!("{d}CloudTrail/");
        async move { list_via(b, store, &prefix, true, after).await }
    }))
    .await;
    for (d, level) in wanted.iter().zip(listed) {
        let regions: Vec<String> = level?.dirs.iter().map(|r| leaf(r).to_string()).collect();
        out.found_regions.extend(regions.iter().cloned());
        let regions: Vec<String> = regions.into_iter().filter(|r| scope.wants_region(r)).collect();
        if !regions.is_empty() {
            out.accounts.push((d.clone(), leaf(d).to_string(), regions));
        }
    }
    out.found_accounts.sort();
    out.found_accounts.dedup();
    out.found_regions.sort();
    out.found_regions.dedup();
    Ok(out)
}

/// Says what is under a prefix that has no CloudTrail layout.
async fn no_layout(b: &Bucket, store: &dyn Listings, url: &S3Url, logs: &str, after: i64) -> Failure {
    let base = if url.prefix.is_empty() { String::new() } else { format!("{}/", url.prefix) };
    let found = match list_via(b, store, &base, true, after).await {
        Ok(level) => {
            let mut names: Vec<String> = level.dirs.iter().map(|d| format!("{}/", leaf(d))).collect();
            names.extend(level.objects.iter().map(|o| o.key.rsplit('/').next().unwrap_or("").to_string()));
            let n = names.len();
            names.truncate(8);
            if n == 0 {
                "nothing at all".to_string()
            } else if n > names.len() {
                format!("{} and {} more", names.join(", "), n - names.len())
            } else {
                names.join(", ")
            }
        }
        Err(f) => return f,
    };
    Failure::fatal(format!(
        "no CloudTrail layout under {url}: expected {logs}[o-ID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ but found {found} \
         (name the prefix the trail delivers to, e.g. s3://BUCKET/PREFIX if its keys are PREFIX/AWSLogs/...)"
    ))
}

/// The objects of one day directory that can hold events of the window, newest delivery first.
pub fn wanted_objects(url: &S3Url, day: &DayPrefix, level: &Level, window: &Window) -> Vec<Listed> {
    let logs = url.logs_dir();
    let mut keep: Vec<(i64, Listed)> = level
        .objects
        .iter()
        .filter_map(|o| {
            let rel = o.key.strip_prefix(&logs)?;
            let k = layout::parse_log_key(rel)?;
            (k.day == day.day && window.wants_delivery(k.name.delivered_ms)).then(|| (k.name.delivered_ms, o.clone()))
        })
        .collect();
    keep.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.key.cmp(&b.1.key)));
    keep.into_iter().map(|(_, o)| o).collect()
}
