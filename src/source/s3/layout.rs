//! The S3 layout of trail archives, and what a window and a filter need of it.
//!
//! A trail delivers to `[prefix/]AWSLogs/[o-id/]<account>/CloudTrail/<region>/YYYY/MM/DD/
//! <account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<unique>.json.gz`. The day directory and the
//! time in the name are when the file was delivered; its events happened before that, by at
//! most the delivery lag. So a window `[start, end]` needs the files delivered in
//! `[start, end + lag]`: the day directories of that span, and within them the names whose
//! time falls in it. Everything here is pure: no I/O, so planning is tested on its own and
//! the same pruning serves local archives in the S3 layout ([`wanted_local`]).

use crate::query::{Field, Op, Query, TermKind};
use std::collections::BTreeSet;

const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;

/// The default margin between an event and the delivery of the file holding it.
pub const DEFAULT_LAG_MS: i64 = 3_600_000;

/// `s3://bucket[/prefix]`: a trail's bucket and the prefix its `AWSLogs/` is under.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct S3Url {
    /// The bucket's name.
    pub bucket: String,
    /// Without leading or trailing `/`; empty when `AWSLogs/` is at the top of the bucket.
    pub prefix: String,
}

impl S3Url {
    /// Where the trail's `AWSLogs/` directory is: `prefix/AWSLogs/` (or `AWSLogs/`).
    pub fn logs_dir(&self) -> String {
        if self.prefix.is_empty() {
            "AWSLogs/".to_string()
        } else {
            format!("{}/AWSLogs/", self.prefix)
        }
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        };
        f.write_str(&crate::sanitize::sanitize(&text))
    }
}

/// Whether a command-line input names an S3 location rather than a local path.
pub fn is_s3_url(s: &str) -> bool {
    s.len() >= 5 && s[..5].eq_ignore_ascii_case("s3://")
}

/// Parses `s3://bucket[/prefix][/]`. A prefix that already ends in `AWSLogs` names the same
/// trail as the prefix before it.
pub fn parse_s3_url(s: &str) -> Result<S3Url, String> {
    let shown = || crate::sanitize::sanitize(s).into_owned();
    if !is_s3_url(s) {
        return Err(format!("'{}' is not an s3:// URL", shown()));
    }
    let rest = &s[5..];
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    // Bucket names: 3 to 63 lower-case letters, digits, dots and hyphens.
    let valid = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if !valid {
        return Err(format!(
            "'{}': '{}' is not an S3 bucket name (3 to 63 lower-case letters, digits, '.' and '-'); \
             write s3://BUCKET[/PREFIX]",
            shown(),
            crate::sanitize::sanitize(bucket)
        ));
    }
    let mut prefix = prefix.trim_matches('/').to_string();
    if prefix == "AWSLogs" {
        prefix.clear();
    } else if let Some(p) = prefix.strip_suffix("/AWSLogs") {
        prefix = p.to_string();
    }
    Ok(S3Url { bucket: bucket.to_string(), prefix })
}

/// A calendar day (UTC), as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    /// The UTC day holding `ms` (ms since the epoch).
    pub fn of_ms(ms: i64) -> Day {
        Day(ms.div_euclid(DAY_MS))
    }
    /// The first millisecond of the day.
    pub fn start_ms(self) -> i64 {
        self.0 * DAY_MS
    }
    /// The last millisecond of the day.
    pub fn end_ms(self) -> i64 {
        self.start_ms() + DAY_MS - 1
    }
    /// `YYYY/MM/DD`, as in the layout's directories.
    pub fn path(self) -> String {
        let d = chrono::DateTime::from_timestamp_millis(self.start_ms()).unwrap_or_default().date_naive();
        d.format("%Y/%m/%d").to_string()
    }
    fn from_ymd(y: &str, m: &str, d: &str) -> Option<Day> {
        let date = chrono::NaiveDate::from_ymd_opt(digits(y)? as i32, digits(m)?, digits(d)?)?;
        Some(Day::of_ms(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis()))
    }
}

fn digits(s: &str) -> Option<u32> {
    (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
}

/// The events wanted, and how late their files may be delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The first event time wanted, in ms since the epoch.
    pub start_ms: i64,
    /// The last event time wanted, in ms since the epoch.
    pub end_ms: i64,
    /// How long after an event its file may be delivered (`--delivery-lag`).
    pub lag_ms: i64,
}

impl Window {
    /// The last delivery that can hold an event of the window.
    pub fn last_delivery_ms(&self) -> i64 {
        self.end_ms.saturating_add(self.lag_ms)
    }

    /// The day directories that can hold files of the window, newest first.
    pub fn days(&self) -> Vec<Day> {
        let (first, last) = (Day::of_ms(self.start_ms), Day::of_ms(self.last_delivery_ms()));
        (first.0..=last.0).rev().map(Day).collect()
    }

    /// Whether a file whose name says it was delivered in the minute starting at `minute_ms`
    /// can hold events of the window: delivered no earlier than the window starts (the name
    /// has minutes, so the whole minute counts), and no later than the lag after it ends.
    pub fn wants_delivery(&self, minute_ms: i64) -> bool {
        minute_ms + MINUTE_MS > self.start_ms && minute_ms <= self.last_delivery_ms()
    }

    /// Whether a listing of `day` taken at `listed_ms` has every file the window needs from
    /// that day: it was taken after the day was over, or after the window's last delivery.
    pub fn listing_complete(&self, day: Day, listed_ms: i64) -> bool {
        listed_ms > day.end_ms().min(self.last_delivery_ms())
    }
}

/// Which accounts and regions of a trail a filter can match, by its exact `account:=` and
/// `region:=` terms. `None`: any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// The only accounts the filter can match; `None`: any.
    pub accounts: Option<BTreeSet<String>>,
    /// The only regions the filter can match; `None`: any.
    pub regions: Option<BTreeSet<String>>,
    /// Accounts the filter excludes (`-account:=`).
    pub not_accounts: BTreeSet<String>,
    /// Regions the filter excludes (`-region:=`).
    pub not_regions: BTreeSet<String>,
}

impl Scope {
    /// The scope of a filter: every exact, wildcard-free term on `account` or `region` must
    /// hold, so the sets of several such terms intersect; negated ones exclude.
    pub fn of(q: &Query) -> Scope {
        let mut s = Scope::default();
        for t in &q.terms {
            let TermKind::Match { field, op: Op::Exact, value } = &t.kind else { continue };
            if value.contains('*') || value.is_empty() {
                continue;
            }
            let (only, not) = match field {
                Field::Account => (&mut s.accounts, &mut s.not_accounts),
                Field::Region => (&mut s.regions, &mut s.not_regions),
                _ => continue,
            };
            if t.negated {
                not.insert(value.clone());
            } else {
                let one: BTreeSet<String> = [value.clone()].into();
                *only = Some(match only.take() {
                    Some(set) => set.intersection(&one).cloned().collect(),
                    None => one,
                });
            }
        }
        s
    }
    /// Whether events of account `a` can match.
    pub fn wants_account(&self, a: &str) -> bool {
        self.accounts.as_ref().is_none_or(|s| s.contains(a)) && !self.not_accounts.contains(a)
    }
    /// Whether events of region `r` can match.
    pub fn wants_region(&self, r: &str) -> bool {
        self.regions.as_ref().is_none_or(|s| s.contains(r)) && !self.not_regions.contains(r)
    }
}

/// What a log file's name says: whose it is, where, and when it was delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogName<'a> {
    /// The account the file's events belong to.
    pub account: &'a str,
    /// The region the file's events were recorded in.
    pub region: &'a str,
    /// The minute of delivery, in ms since the epoch.
    pub delivered_ms: i64,
}

/// Parses `<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<unique>.json[.gz]`.
pub fn parse_log_name(name: &str) -> Option<LogName<'_>> {
    let (account, rest) = name.split_once("_CloudTrail_")?;
    let (region, rest) = rest.split_once('_')?;
    let (stamp, unique) = rest.split_once('_')?;
    if account.is_empty() || region.is_empty() || unique.is_empty() || !stamp.is_ascii() || stamp.len() != 14 {
        return None;
    }
    if &stamp[8..9] != "T" || &stamp[13..] != "Z" {
        return None;
    }
    let day = Day::from_ymd(&stamp[0..4], &stamp[4..6], &stamp[6..8])?;
    let (h, m) = (digits(&stamp[9..11])?, digits(&stamp[11..13])?);
    if h > 23 || m > 59 {
        return None;
    }
    Some(LogName { account, region, delivered_ms: day.start_ms() + (h as i64 * 60 + m as i64) * MINUTE_MS })
}

/// A log file's key under a trail's `AWSLogs/`, taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogKey<'a> {
    /// `o-…` for an organisation trail.
    pub org: Option<&'a str>,
    /// The account the file's events belong to.
    pub account: &'a str,
    /// The region the file's events were recorded in.
    pub region: &'a str,
    /// The day directory it is in (the day of delivery).
    pub day: Day,
    /// What the file's own name says.
    pub name: LogName<'a>,
}

/// Parses a key relative to `AWSLogs/`: `[o-id/]<account>/CloudTrail/<region>/YYYY/MM/DD/<name>`.
/// Digest files (`CloudTrail-Digest/`) and anything else are `None`.
pub fn parse_log_key(rel: &str) -> Option<LogKey<'_>> {
    let parts: Vec<&str> = rel.split('/').collect();
    let (org, p) = match parts.first() {
        Some(o) if o.starts_with("o-") => (Some(*o), &parts[1..]),
        _ => (None, &parts[..]),
    };
    let [account, "CloudTrail", region, y, m, d, name] = p else { return None };
    let day = Day::from_ymd(y, m, d)?;
    let parsed = parse_log_name(name)?;
    Some(LogKey { org, account, region, day, name: parsed })
}

/// An AWS account id: 12 digits.
pub fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a file of a local archive can hold events of `window`: files named as the S3
/// layout names them are judged by their delivery time; any other file is always read.
pub fn wanted_local(path: &std::path::Path, window: &Window) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return true };
    match parse_log_name(name) {
        Some(n) => window.wants_delivery(n.delivered_ms),
        None => true,
    }
}

/// One day directory of one account and region, to be listed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DayPrefix {
    /// The day directory it is in (the day of delivery).
    pub day: Day,
    /// The account directory's account.
    pub account: String,
    /// The region directory's region.
    pub region: String,
    /// The full key prefix, ending in `/`.
    pub prefix: String,
}

/// The day directories to list for a trail's account directories (`…/AWSLogs/[o-id/]<account>/`)
/// and their regions: every day of the window, newest first, then account and region.
pub fn day_prefixes(regions_of: &[(String, String, Vec<String>)], window: &Window) -> Vec<DayPrefix> {
    let mut out = Vec::new();
    for day in window.days() {
        for (account_dir, account, regions) in regions_of {
            for region in regions {
                out.push(DayPrefix {
                    day,
                    account: account.clone(),
                    region: region.clone(),
                    prefix: format!("{account_dir}CloudTrail/{region}/{}/", day.path()),
                });
            }
        }
    }
    out
}

/// What the planner decided, as shown to the user:
/// `s3: 2 accounts × 3 regions × 2 days · 412 objects · lag 1h`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanSummary {
    /// Accounts to read, after pruning by the filter.
    pub accounts: usize,
    /// Regions to read (at most), after pruning by the filter.
    pub regions: usize,
    /// Day directories of the window (with the delivery lag).
    pub days: usize,
    /// Objects to fetch (after pruning by delivery time); `None` before listing.
    pub objects: Option<usize>,
    /// How long after an event its file may be delivered (`--delivery-lag`).
    pub lag_ms: i64,
}

impl std::fmt::Display for PlanSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
        write!(
            f,
            "s3: {} × {} × {}",
            n(self.accounts, "account", "accounts"),
            n(self.regions, "region", "regions"),
            n(self.days, "day", "days")
        )?;
        if let Some(o) = self.objects {
            write!(f, " · {}", n(o, "object", "objects"))?;
        }
        write!(f, " · lag {}", format_lag(self.lag_ms))
    }
}

/// `1h`, `90m`, `30s`: the largest unit that divides the lag.
pub fn format_lag(ms: i64) -> String {
    let s = ms / 1000;
    if s % 86_400 == 0 && s > 0 {
        format!("{}d", s / 86_400)
    } else if s % 3600 == 0 && s > 0 {
        format!("{}h", s / 3600)
    } else if s % 60 == 0 && s > 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn ms(s: &str) -> i64 {
        crate::model::time::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn urls() {
        let u = parse_s3_url("s3://my-trail-bucket").unwrap();
        assert_eq!((u.bucket.as_str(), u.prefix.as_str(), u.logs_dir()), ("my-trail-bucket", "", "AWSLogs/".into()));
        let u = parse_s3_url("S3://b.logs/org/trail/").unwrap();
        assert_eq!((u.prefix.as_str(), u.logs_dir()), ("org/trail", "org/trail/AWSLogs/".to_string()));
        assert_eq!(parse_s3_url("s3://bkt/x/AWSLogs/").unwrap().prefix, "x");
        assert_eq!(parse_s3_url("s3://bkt/AWSLogs").unwrap().prefix, "");
        assert_eq!(u.to_string(), "s3://b.logs/org/trail");
        for bad in ["s3://", "s3://A_B", "s3://ab", "s3://bad\u{1b}[2J/x", "/local/path"] {
            let e = parse_s3_url(bad).unwrap_err();
            assert!(!e.contains('\u{1b}'), "sanitised: {e}");
        }
        assert!(is_s3_url("s3://x") && !is_s3_url("AWSLogs/") && !is_s3_url("s3:"));
    }

    #[test]
    fn keys_and_names() {
        let k = parse_log_key(
            "o-abc123/111122223333/CloudTrail/eu-west-1/2024/03/05/111122223333_CloudTrail_eu-west-1_20240305T2355Z_AbC.json.gz",
        )
        .unwrap();
        assert_eq!((k.org, k.account, k.region), (Some("o-abc123"), "111122223333", "eu-west-1"));
        assert_eq!(k.day, Day::of_ms(ms("2024-03-05T00:00:00Z")));
        assert_eq!(k.name.delivered_ms, ms("2024-03-05T23:55:00Z"));
        let plain = parse_log_key(
            "111122223333/CloudTrail/us-east-1/2024/03/05/111122223333_CloudTrail_us-east-1_20240305T0000Z_x.json.gz",
        )
        .unwrap();
        assert_eq!(plain.org, None);
        // Digests, other directories and damaged names are not log files.
        for not in [
            "111122223333/CloudTrail-Digest/us-east-1/2024/03/05/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20240305T000000Z.json.gz",
            "111122223333/CloudTrail/us-east-1/2024/03/05/",
            "111122223333/CloudTrail/us-east-1/2024/13/05/111122223333_CloudTrail_us-east-1_20240305T0000Z_x.json.gz",
            "111122223333/CloudTrail/us-east-1/2024/03/05/111122223333_CloudTrail_us-east-1_20240305T2460Z_x.json.gz",
            "111122223333/CloudTrail/us-east-1/2024/03/05/notes.txt",
        ] {
            assert_eq!(parse_log_key(not), None, "{not}");
        }
        assert_eq!(Day::of_ms(ms("2024-02-29T12:00:00Z")).path(), "2024/02/29");
        assert!(is_account("111122223333") && !is_account("o-abc") && !is_account("1111222233334"));
    }

    #[test]
    fn a_window_lists_its_days_and_the_lag_newest_first() {
        let w =
            Window { start_ms: ms("2024-03-05T10:00:00Z"), end_ms: ms("2024-03-05T23:30:00Z"), lag_ms: DEFAULT_LAG_MS };
        // The lag reaches into the next day: its directory can hold the window's last events.
        let days: Vec<String> = w.days().iter().map(|d| d.path()).collect();
        assert_eq!(days, ["2024/03/06", "2024/03/05"]);
        let w0 = Window { lag_ms: 0, ..w };
        assert_eq!(w0.days().len(), 1);
        let month = Window { start_ms: ms("2024-03-01T00:00:00Z"), end_ms: ms("2024-03-30T23:59:59Z"), lag_ms: 0 };
        assert_eq!(month.days().len(), 30);
        assert_eq!(month.days()[0].path(), "2024/03/30");
    }

    #[test]
    fn delivery_time_prunes_files() {
        let w =
            Window { start_ms: ms("2024-03-05T10:00:30Z"), end_ms: ms("2024-03-05T12:00:00Z"), lag_ms: DEFAULT_LAG_MS };
        let wants = |t: &str| w.wants_delivery(ms(t));
        // Delivered before the window started: every event in it is older.
        assert!(!wants("2024-03-05T09:59:00Z"));
        // The minute the window starts in may have been delivered after the start.
        assert!(wants("2024-03-05T10:00:00Z"));
        assert!(wants("2024-03-05T12:30:00Z"));
        assert!(wants("2024-03-05T13:00:00Z"));
        // More than the lag after the end: every event in it is newer.
        assert!(!wants("2024-03-05T13:01:00Z"));
    }

    #[test]
    fn a_listing_is_complete_once_the_day_or_the_window_is_over() {
        let w =
            Window { start_ms: ms("2024-03-05T10:00:00Z"), end_ms: ms("2024-03-05T12:00:00Z"), lag_ms: DEFAULT_LAG_MS };
        let day = Day::of_ms(w.start_ms);
        assert!(!w.listing_complete(day, ms("2024-03-05T12:59:00Z")), "files of the window may still come");
        assert!(w.listing_complete(day, ms("2024-03-05T13:00:01Z")), "past the window's last delivery");
        let whole = Window { end_ms: ms("2024-03-06T12:00:00Z"), ..w };
        assert!(!whole.listing_complete(day, ms("2024-03-05T23:00:00Z")));
        assert!(whole.listing_complete(day, ms("2024-03-06T00:00:00Z")), "the day is over");
    }

    #[test]
    fn exact_account_and_region_terms_prune() {
        let q = |s: &str| Scope::of(&crate::query::parse(s, 0).unwrap());
        let s = q("account:=111122223333 region:=eu-west-1 name:Get*");
        assert!(s.wants_account("111122223333") && !s.wants_account("444455556666"));
        assert!(s.wants_region("eu-west-1") && !s.wants_region("us-east-1"));
        // Substring, wildcard and other terms do not prune.
        let s = q("account:1111 region:=eu-* user:=alice");
        assert_eq!(s, Scope::default());
        // Two exact terms that cannot both hold leave nothing; negated ones exclude.
        let s = q("account:=111122223333 account:=444455556666 -region:=us-east-1");
        assert!(!s.wants_account("111122223333") && !s.wants_account("444455556666"));
        assert!(!s.wants_region("us-east-1") && s.wants_region("eu-west-1"));
    }

    #[test]
    fn local_files_in_the_s3_layout_are_pruned_by_name() {
        let w =
            Window { start_ms: ms("2024-03-05T10:00:00Z"), end_ms: ms("2024-03-05T12:00:00Z"), lag_ms: DEFAULT_LAG_MS };
        let p = |name: &str| wanted_local(Path::new(&format!("AWSLogs/1/CloudTrail/us-east-1/2024/03/05/{name}")), &w);
        assert!(p("111122223333_CloudTrail_us-east-1_20240305T1105Z_x.json.gz"));
        assert!(!p("111122223333_CloudTrail_us-east-1_20240305T0905Z_x.json.gz"));
        assert!(!p("111122223333_CloudTrail_us-east-1_20240306T0005Z_x.json.gz"));
        // No date in the name: always read.
        assert!(p("events.json"));
        assert!(p("export-2024.jsonl.gz"));
    }

    #[test]
    fn day_prefixes_and_the_plan_line() {
        let w =
            Window { start_ms: ms("2024-03-05T22:00:00Z"), end_ms: ms("2024-03-05T23:30:00Z"), lag_ms: DEFAULT_LAG_MS };
        let accts = vec![
            ("AWSLogs/o-1/111122223333/".to_string(), "111122223333".to_string(), vec!["us-east-1".to_string()]),
            (
                "AWSLogs/o-1/444455556666/".to_string(),
                "444455556666".to_string(),
                vec!["us-east-1".into(), "eu-west-1".into()],
            ),
        ];
        let ps = day_prefixes(&accts, &w);
        assert_eq!(ps.len(), 6);
        assert_eq!(ps[0].prefix, "AWSLogs/o-1/111122223333/CloudTrail/us-east-1/2024/03/06/");
        assert!(ps[..3].iter().all(|p| p.day.path() == "2024/03/06"), "newest day first");
        let summary = PlanSummary { accounts: 2, regions: 3, days: 2, objects: Some(412), lag_ms: DEFAULT_LAG_MS };
        assert_eq!(summary.to_string(), "s3: 2 accounts × 3 regions × 2 days · 412 objects · lag 1h");
        assert_eq!(format_lag(90 * 60_000), "90m");
    }
}
