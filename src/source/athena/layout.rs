//! What `athena ddl` needs of an archive it was not told about: the accounts and regions
//! under it, found by listing the bucket's prefixes (and, for `--trail`, the trail's bucket
//! and prefix from DescribeTrails).

use crate::source::s3::fetch::{self, Connect, Counters};
use crate::source::s3::layout::{self, Scope, Window};
use crate::source::s3::list::{self, NoStore};
use std::sync::Arc;

/// An archive as found in S3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The folder the table's LOCATION names: `s3://bucket/prefix/AWSLogs`, or an
    /// organisation's `…/AWSLogs/o-ID`.
    pub url: String,
    /// The accounts with logs there.
    pub accounts: Vec<String>,
    /// The regions with logs under any of them.
    pub regions: Vec<String>,
}

/// Lists the archive at `url` (`s3://bucket[/prefix][/AWSLogs[/o-ID]]`), or the one the trail
/// `trail` delivers to, for its accounts and regions.
pub async fn discover(c: &Connect, url: Option<&str>, trail: Option<&str>) -> Result<Found, String> {
    let (s3url, org) = match (url, trail) {
        (Some(u), _) => {
            let trimmed = u.trim_end_matches('/');
            // An organisation's folder: its parent is what the layout is read from.
            let (base, org) = match trimmed.rsplit_once('/') {
                Some((parent, last)) if last.starts_with("o-") && parent.ends_with("AWSLogs") => {
                    (parent.to_string(), Some(last.to_string()))
                }
                _ => (trimmed.to_string(), None),
            };
            (layout::parse_s3_url(&base)?, org)
        }
        (None, Some(t)) => (crate::source::s3::trail::describe(c, t).await?.url, None),
        (None, None) => return Err("name the archive (s3://BUCKET/PREFIX) or a trail (--trail NAME)".into()),
    };
    let sdk = fetch::sdk_config(c).await;
    let (bucket, _) =
        fetch::open_bucket(&sdk, c, &s3url.bucket, Arc::new(Counters::default()), None).await.map_err(|f| f.text)?;
    let all = Window { start_ms: i64::MIN / 4, end_ms: i64::MAX / 4, lag_ms: 0 };
    let dirs = list::trail_dirs(&bucket, &NoStore, &s3url, &all, &Scope::default()).await.map_err(|f| f.text)?;
    // Account folders are `…/AWSLogs/ACCOUNT/` or `…/AWSLogs/o-ID/ACCOUNT/`.
    let orgs: std::collections::BTreeSet<String> = dirs
        .account_dirs
        .iter()
        .filter_map(|d| {
            let parent = d.trim_end_matches('/').rsplit_once('/')?.0;
            let last = parent.rsplit('/').next()?;
            last.starts_with("o-").then(|| last.to_string())
        })
        .collect();
    let org = match (org, orgs.len()) {
        (Some(o), _) if orgs.contains(&o) => Some(o),
        (Some(o), _) => return Err(format!("no logs of organisation {o} under {s3url}")),
        (None, 0) => None,
        (None, 1) => orgs.into_iter().next(),
        (None, _) => {
            return Err(format!(
                "{s3url} holds the logs of several organisations ({}): name one, s3://{}/{}AWSLogs/o-ID/",
                orgs.into_iter().collect::<Vec<_>>().join(", "),
                s3url.bucket,
                if s3url.prefix.is_empty() { String::new() } else { format!("{}/", s3url.prefix) }
            ))
        }
    };
    let (mut accounts, mut regions) = (Vec::new(), Vec::new());
    for (dir, account, rs) in &dirs.accounts {
        if org.as_ref().is_none_or(|o| dir.contains(&format!("/{o}/")) || dir.starts_with(&format!("{o}/"))) {
            accounts.push(account.clone());
            regions.extend(rs.iter().cloned());
        }
    }
    accounts.sort();
    accounts.dedup();
    regions.sort();
    regions.dedup();
    let logs = s3url.logs_dir();
    let url = match &org {
        Some(o) => format!("s3://{}/{logs}{o}", s3url.bucket),
        None => format!("s3://{}/{}", s3url.bucket, logs.trim_end_matches('/')),
    };
    Ok(Found { url, accounts, regions })
}
