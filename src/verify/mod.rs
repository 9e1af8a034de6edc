//! `trailscope verify`: proves that an archive in the S3 layout was not altered, from the
//! trail's signed, chained digest files.
//!
//! For each digest: its signature (from its successor's `previousDigestSignature`, since a
//! copy on disk has lost the S3 metadata that holds the newest one), that it is where it
//! says it is, and that the SHA-256 its successor records for it is its own; a digest that a
//! successor names but that is not there is missing. For each log file a digest lists: that
//! it is there and that the SHA-256 of its uncompressed content is the listed one. For each
//! log file present in the window: that some checked digest lists it.

pub mod digest;
pub mod keys;
pub mod s3;

use crate::model::raw::{decode, io_reason};
use crate::sanitize::sanitize;
use crate::source::lookup::LiveConfig;
use digest::{layout, local_key, log_name_ms, ChainId, Digest, DigestName};
use keys::PublicKey;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A summary line per status and the files that are not valid, with the reason.
    Table,
    /// One JSON object per log file and per digest file.
    Jsonl,
}

/// Exit statuses of `verify`.
pub mod exit {
    /// Every file is valid (the newest digest of a chain may be unsigned).
    pub const OK: i32 = 0;
    /// Nothing could be verified: no digests, no keys.
    pub const NOTHING: i32 = 1;
    pub const USAGE: i32 = 2;
    /// Some input could not be read (and nothing was found altered).
    pub const SOME_UNREADABLE: i32 = 3;
    /// Something was modified, missing, not covered, moved or badly signed.
    pub const FINDING: i32 = 4;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Valid,
    /// No signature can be checked here (the newest digest of a local chain).
    Unsigned,
    NotCovered,
    Missing,
    Modified,
    InvalidSignature,
    Moved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Unsigned => "unsigned",
            Status::NotCovered => "not_covered",
            Status::Missing => "missing",
            Status::Modified => "modified",
            Status::InvalidSignature => "invalid_signature",
            Status::Moved => "moved",
        }
    }
    /// What this says of a log file, as the TUI shows it.
    pub fn verdict(self) -> crate::model::FileVerdict {
        use crate::model::FileVerdict;
        match self {
            Status::Valid => FileVerdict::Valid,
            Status::NotCovered => FileVerdict::NotCovered,
            Status::Unsigned => FileVerdict::Unchecked,
            Status::Missing | Status::Modified | Status::InvalidSignature | Status::Moved => FileVerdict::Altered,
        }
    }
    /// A finding: the archive is not what CloudTrail delivered.
    pub fn is_finding(self) -> bool {
        !matches!(self, Status::Valid | Status::Unsigned)
    }
    const ALL: [Status; 7] = [
        Status::Valid,
        Status::Unsigned,
        Status::Modified,
        Status::Missing,
        Status::NotCovered,
        Status::InvalidSignature,
        Status::Moved,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Digest,
    Log,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Digest => "digest",
            Kind::Log => "log",
        }
    }
}

/// The verdict on one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub kind: Kind,
    /// Where the file is (or should be), sanitised.
    pub path: String,
    pub status: Status,
    /// Why, when not valid (sanitised).
    pub reason: Option<String>,
}

/// Where the public keys come from.
pub enum KeySource {
    /// `--public-keys FILE`.
    File(PathBuf),
    /// CloudTrail's ListPublicKeys.
    Api(LiveConfig),
}

pub struct VerifyRequest {
    pub inputs: Vec<String>,
    /// `--trail NAME|ARN`.
    pub trail: Option<String>,
    /// Epoch milliseconds.
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub keys: KeySource,
    /// `None`: a table on a terminal, JSON Lines otherwise.
    pub format: Option<Format>,
    /// How S3 is reached (`s3://` inputs, and `--trail` without one).
    pub s3: crate::source::s3::fetch::Connect,
}

/// Everything verification found.
#[derive(Debug, Default)]
pub struct Report {
    pub rows: Vec<Row>,
    /// Inputs that could not be read (not findings about the archive).
    pub problems: Vec<String>,
    pub digests_checked: usize,
    pub roots: Vec<String>,
}

impl Report {
    pub fn count(&self, kind: Kind, status: Status) -> usize {
        self.rows.iter().filter(|r| r.kind == kind && r.status == status).count()
    }
    pub fn exit_status(&self) -> i32 {
        if self.rows.iter().any(|r| r.status.is_finding()) {
            exit::FINDING
        } else if self.digests_checked == 0 {
            exit::NOTHING
        } else if !self.problems.is_empty() {
            exit::SOME_UNREADABLE
        } else {
            exit::OK
        }
    }
}

/// `--trail`: a name, or an ARN (`arn:aws:cloudtrail:<home region>:<account>:trail/<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailFilter {
    pub name: String,
    pub home_region: Option<String>,
    pub account: Option<String>,
}

impl TrailFilter {
    pub fn parse(s: &str) -> Result<TrailFilter, String> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            match parts.as_slice() {
                [_, "cloudtrail", region, account, res] if res.starts_with("trail/") && res.len() > 6 => {
                    Ok(TrailFilter {
                        name: res[6..].to_string(),
                        home_region: Some(region.to_string()),
                        account: Some(account.to_string()),
                    })
                }
                _ => Err(format!(
                    "--trail {}: not a trail ARN (arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME)",
                    sanitize(s)
                )),
            }
        } else if s.is_empty() || s.contains('/') {
            Err(format!("--trail {}: not a trail name or ARN", sanitize(s)))
        } else {
            Ok(TrailFilter { name: s.to_string(), home_region: None, account: None })
        }
    }

    /// Whether a chain belongs to this trail. An organisation trail's ARN names the
    /// management account, and its chains are every member's.
    fn matches(&self, c: &ChainId) -> bool {
        c.trail == self.name
            && self.home_region.as_ref().is_none_or(|r| *r == c.home_region)
            && (c.organization.is_some() || self.account.as_ref().is_none_or(|a| *a == c.account))
    }
}

/// Where an archive is: the folder holding `AWSLogs/`, or a trail's bucket and prefix.
enum Root {
    Local(PathBuf),
    S3(s3::Remote),
}

impl Root {
    fn show(&self, key: &str) -> String {
        match self {
            Root::Local(root) => show(root, key),
            Root::S3(r) => r.show(key),
        }
    }
    fn name(&self) -> String {
        match self {
            Root::Local(root) => sanitize(&root.to_string_lossy()).into_owned(),
            Root::S3(r) => r.url.to_string(),
        }
    }

    /// Reads digests (with their S3 metadata), in parallel.
    fn read_digests(&self, selected: Vec<(String, DigestName, Option<PathBuf>)>) -> Vec<Loaded> {
        let parse = |bytes: Result<Vec<u8>, ReadError>| {
            bytes.and_then(|json| {
                let sha = sha256_hex(&json);
                Digest::parse(&json).map(|d| (d, sha)).map_err(ReadError::Content)
            })
        };
        match self {
            Root::Local(_) => selected
                .into_par_iter()
                .map(|(key, name, path)| {
                    let content =
                        parse(path.as_deref().map_or(Err(ReadError::Io("no path".into())), read_uncompressed));
                    Loaded { key, name, content, meta: None }
                })
                .collect(),
            Root::S3(r) => {
                let mut names: HashMap<String, DigestName> =
                    selected.iter().map(|(k, n, _)| (k.clone(), n.clone())).collect();
                let fetched = r.fetch_all(selected.into_iter().map(|(k, _, _)| k).collect(), move |key, got| {
                    let meta = got.as_ref().ok().map(s3::Meta::of);
                    let content = parse(got.map_err(ReadError::Io).and_then(|f| decode_bytes(f.bytes)));
                    (key, content, meta)
                });
                fetched
                    .into_iter()
                    .filter_map(|(key, content, meta)| {
                        let name = names.remove(&key)?;
                        Some(Loaded { key, name, content, meta })
                    })
                    .collect()
            }
        }
    }

    /// Whether the SHA-256 of each log file's uncompressed content is the listed one, in parallel.
    fn hash_logs(&self, present: Vec<(String, Option<PathBuf>, String)>) -> Vec<(String, Result<bool, ReadError>)> {
        let same = |content: Vec<u8>, hash: &str| sha256_hex(&content).eq_ignore_ascii_case(hash);
        match self {
            Root::Local(_) => present
                .into_par_iter()
                .map(|(key, path, hash)| {
                    let read = path.as_deref().map_or(Err(ReadError::Io("no path".into())), read_uncompressed);
                    (key, read.map(|c| same(c, &hash)))
                })
                .collect(),
            Root::S3(r) => {
                let hashes: HashMap<String, String> = present.into_iter().map(|(k, _, h)| (k, h)).collect();
                let keys = hashes.keys().cloned().collect();
                let hashes = std::sync::Arc::new(hashes);
                r.fetch_all(keys, move |key, got| {
                    let hash = hashes.get(&key).map_or("", String::as_str);
                    let result = got.map_err(ReadError::Io).and_then(|f| decode_bytes(f.bytes)).map(|c| same(c, hash));
                    (key, result)
                })
            }
        }
    }
}

/// The files of one archive, by key relative to its root (from `AWSLogs/` on), with the
/// path of each on disk (`None` in S3, where the key says where it is).
struct Archive {
    root: Root,
    logs: BTreeMap<String, Option<PathBuf>>,
    digests: BTreeMap<String, Option<PathBuf>>,
}

impl Archive {
    fn new(root: Root) -> Archive {
        Archive { root, logs: BTreeMap::new(), digests: BTreeMap::new() }
    }
    /// Files the S3 layout names a log file or a digest.
    fn add(&mut self, key: String, path: Option<PathBuf>) {
        let Some((_, _, kind, _, name)) = layout(&key) else { return };
        match kind {
            "CloudTrail" if name.ends_with(".json.gz") || name.ends_with(".json") => {
                self.logs.insert(key, path);
            }
            "CloudTrail-Digest" => {
                self.digests.insert(key, path);
            }
            _ => {}
        }
    }
}

/// Splits a path at its last `AWSLogs` component: (root, key).
fn split_root(path: &Path) -> Option<(PathBuf, String)> {
    let comps: Vec<_> = path.components().collect();
    let at = comps.iter().rposition(|c| c.as_os_str() == "AWSLogs")?;
    let root: PathBuf = comps[..at].iter().collect();
    let key: Vec<String> = comps[at..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    Some((root, key.join("/")))
}

fn show(root: &Path, key: &str) -> String {
    sanitize(&root.join(key).to_string_lossy()).into_owned()
}

/// Reads a file and returns its uncompressed content.
fn read_uncompressed(path: &Path) -> Result<Vec<u8>, ReadError> {
    let bytes = std::fs::read(path).map_err(|e| ReadError::Io(io_reason(&e)))?;
    decode_bytes(bytes)
}

fn decode_bytes(bytes: Vec<u8>) -> Result<Vec<u8>, ReadError> {
    decode(bytes).map(|(b, _)| b).map_err(|e| ReadError::Content(e.to_string()))
}

enum ReadError {
    /// The file cannot be read at all (a problem of this machine, not of the archive).
    Io(String),
    /// Its content cannot be decompressed (it was altered).
    Content(String),
}

fn sha256_hex(bytes: &[u8]) -> String {
    keys::hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

/// One digest as read.
struct Loaded {
    key: String,
    name: DigestName,
    /// The digest and the SHA-256 of its uncompressed content.
    content: Result<(Digest, String), ReadError>,
    /// Its signature from its S3 object metadata (`None` on disk, where it is lost).
    meta: Option<s3::Meta>,
}

/// Asked for the public keys of the home regions found, between two times (epoch ms).
pub type GetKeys<'a> = dyn FnMut(&[String], i64, i64) -> Result<Vec<PublicKey>, String> + 'a;

/// Verifies the archives under `inputs`: local folders, and `s3://bucket/prefix` URLs read
/// through `connect` (with none and `--trail`, the trail's own, through DescribeTrails).
/// `get_keys` is asked once, for the home regions and the span of digest end times (epoch
/// ms) found, and may fail (nothing is verified then).
pub fn verify(
    inputs: &[String],
    trail: Option<&TrailFilter>,
    since: Option<i64>,
    until: Option<i64>,
    connect: &crate::source::s3::fetch::Connect,
    get_keys: &mut GetKeys<'_>,
) -> Result<Report, String> {
    use crate::source::s3::layout::{is_s3_url, parse_s3_url};
    let mut report = Report::default();
    let (remote, local): (Vec<&String>, Vec<&String>) = inputs.iter().partition(|i| is_s3_url(i));
    let mut urls = remote.iter().map(|u| parse_s3_url(u)).collect::<Result<Vec<_>, _>>()?;
    let mut archives: Vec<Archive> = Vec::new();
    if !local.is_empty() {
        let local: Vec<String> = local.into_iter().cloned().collect();
        let mut discovery_problems = Vec::new();
        let mut by_root: BTreeMap<PathBuf, Archive> = BTreeMap::new();
        for f in crate::source::discover(&local, &mut discovery_problems) {
            let Some((root, key)) = split_root(&f.path) else { continue };
            by_root.entry(root.clone()).or_insert_with(|| Archive::new(Root::Local(root))).add(key, Some(f.path));
        }
        for p in discovery_problems {
            report.problems.push(format!("{}: {}", p.input, p.reason));
        }
        archives.extend(by_root.into_values());
    }
    let rt = if urls.is_empty() && !(inputs.is_empty() && trail.is_some()) { None } else { Some(s3::runtime()?) };
    if let (Some(rt), Some(t), true) = (&rt, trail, inputs.is_empty()) {
        let asked = t.home_region.as_ref().map_or(t.name.clone(), |r| {
            format!("arn:aws:cloudtrail:{r}:{}:trail/{}", t.account.as_deref().unwrap_or(""), t.name)
        });
        urls.push(s3::locate_trail(rt, connect, &asked)?);
    }
    for url in urls {
        let Some(rt) = &rt else { break };
        let shown = url.to_string();
        let listed = s3::Remote::open(rt.clone(), connect, url).and_then(|r| r.list(since, until).map(|l| (r, l)));
        match listed {
            Ok((r, (keys, problems))) => {
                report.problems.extend(problems);
                let mut a = Archive::new(Root::S3(r));
                for k in keys {
                    a.add(k, None);
                }
                archives.push(a);
            }
            Err(e) => report.problems.push(if e.starts_with(&shown) { e } else { format!("{shown}: {e}") }),
        }
    }
    // A digest lists what was delivered in the hour before its end time: an hour of slack on
    // the window's end keeps the digest of its last log files.
    let hour = 3_600_000;
    let in_window = |t: Option<i64>, slack: i64| {
        t.is_none_or(|t| since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u + slack))
    };

    // Read every digest of the selected chains, in parallel.
    let mut per_root: Vec<(Archive, Vec<Loaded>)> = Vec::new();
    for archive in archives {
        let mut selected = Vec::new();
        for (key, path) in &archive.digests {
            match DigestName::parse(key) {
                Some(name) => {
                    if trail.is_some_and(|t| !t.matches(&name.chain)) || !in_window(name.time_ms(), hour) {
                        continue;
                    }
                    selected.push((key.clone(), name, path.clone()));
                }
                None if trail.is_none() => report.rows.push(Row {
                    kind: Kind::Digest,
                    path: archive.root.show(key),
                    status: Status::Moved,
                    reason: Some("not named as CloudTrail names digest files in this folder".into()),
                }),
                None => {}
            }
        }
        let loaded = archive.root.read_digests(selected);
        per_root.push((archive, loaded));
    }
    let total: usize = per_root.iter().map(|(_, l)| l.len()).sum();
    if total == 0 {
        let which = trail.map(|t| format!(" of trail {}", sanitize(&t.name))).unwrap_or_default();
        let wheres: Vec<String> = if per_root.is_empty() {
            inputs.iter().map(|i| sanitize(i).into_owned()).collect()
        } else {
            per_root.iter().map(|(a, _)| a.root.name()).collect()
        };
        let problems =
            if report.problems.is_empty() { String::new() } else { format!("; {}", report.problems.join("; ")) };
        return Err(format!(
            "no digest files{which} found under {} (in AWSLogs/.../CloudTrail-Digest/...{}): nothing to verify; \
             the trail needs log file validation turned on{problems}",
            wheres.join(", "),
            if since.is_some() || until.is_some() { ", in the time window" } else { "" }
        ));
    }
    let mut regions: Vec<String> = per_root
        .iter()
        .flat_map(|(_, l)| l.iter().map(|d| d.name.chain.home_region.clone()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    regions.dedup();
    let times = per_root.iter().flat_map(|(_, l)| l.iter().filter_map(|d| d.name.time_ms()));
    let (lo, hi) = times.fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let keys = get_keys(&regions, lo.min(hi) - 2 * hour, hi.max(lo) + 2 * hour)?;
    if keys.is_empty() {
        return Err("no public keys to check signatures with: nothing could be verified".into());
    }
    let keys: HashMap<&str, &PublicKey> = keys.iter().map(|k| (k.fingerprint.as_str(), k)).collect();

    for (archive, loaded) in per_root {
        report.roots.push(archive.root.name());
        report.digests_checked += loaded.len();
        check_root(&archive, loaded, &keys, &mut report, &|t| in_window(t, 0));
    }
    report.rows.sort_by(|a, b| (a.kind, &a.path).cmp(&(b.kind, &b.path)));
    Ok(report)
}

fn check_root(
    archive: &Archive,
    loaded: Vec<Loaded>,
    keys: &HashMap<&str, &PublicKey>,
    report: &mut Report,
    log_in_window: &dyn Fn(Option<i64>) -> bool,
) {
    // What successors say about their predecessor: local key -> (successor, its digest).
    let mut successor: HashMap<&str, (&str, &Digest)> = HashMap::new();
    for l in &loaded {
        if let Ok((d, _)) = &l.content {
            if let Some(prev) = &d.previous_digest_s3_object {
                successor.insert(local_key(prev), (l.key.as_str(), d));
            }
        }
    }
    // The newest stamp of each chain: an older digest without a successor lost it.
    let mut newest: HashMap<&ChainId, &str> = HashMap::new();
    for l in &loaded {
        let n = newest.entry(&l.name.chain).or_insert(l.name.stamp.as_str());
        if l.name.stamp.as_str() > *n {
            *n = l.name.stamp.as_str();
        }
    }
    // Log file (local key) -> (hash a digest lists, which digest).
    let mut listed: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    let mut missing_digests: BTreeMap<String, String> = BTreeMap::new();
    for l in &loaded {
        let path = archive.root.show(&l.key);
        let (d, sha) = match &l.content {
            Ok(c) => c,
            Err(ReadError::Io(e)) => {
                report.problems.push(format!("{path}: {e}"));
                continue;
            }
            Err(ReadError::Content(e)) => {
                report.rows.push(Row {
                    kind: Kind::Digest,
                    path,
                    status: Status::Modified,
                    reason: Some(format!("cannot be read as a digest file: {}", sanitize(e))),
                });
                continue;
            }
        };
        for f in &d.log_files {
            listed.entry(local_key(&f.s3_object)).or_insert((f.hash_value.as_str(), l.key.as_str()));
        }
        if let Some(prev) = &d.previous_digest_s3_object {
            let prev = local_key(prev);
            let prev_time = DigestName::parse(prev).and_then(|n| n.time_ms());
            if !archive.digests.contains_key(prev) && log_in_window(prev_time) {
                missing_digests.insert(prev.to_string(), l.key.clone());
            }
        }
        let is_newest = newest.get(&l.name.chain).is_some_and(|n| *n == l.name.stamp.as_str());
        let (status, reason) =
            check_digest(&archive.root, l, d, sha, successor.get(l.key.as_str()).copied(), is_newest, keys);
        report.rows.push(Row { kind: Kind::Digest, path, status, reason });
    }
    for (key, named_by) in missing_digests {
        report.rows.push(Row {
            kind: Kind::Digest,
            path: archive.root.show(&key),
            status: Status::Missing,
            reason: Some(format!(
                "the digest after it ({}) names it as its previous digest; it is not in the archive",
                sanitize(&named_by)
            )),
        });
    }

    check_logs(archive, &listed, report, log_in_window);
}

/// The log files: each listed one present and unchanged, each present one listed.
fn check_logs(
    archive: &Archive,
    listed: &BTreeMap<&str, (&str, &str)>,
    report: &mut Report,
    log_in_window: &dyn Fn(Option<i64>) -> bool,
) {
    // Hash every listed log file that is present, in parallel.
    let present: Vec<(String, Option<PathBuf>, String)> = listed
        .iter()
        .filter_map(|(key, (hash, _))| archive.logs.get(*key).map(|p| (key.to_string(), p.clone(), hash.to_string())))
        .collect();
    let mut hashed = archive.root.hash_logs(present);
    hashed.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, result) in hashed {
        let key = key.as_str();
        let path = archive.root.show(key);
        let (status, reason) = match result {
            Ok(true) => (Status::Valid, None),
            Ok(false) => (
                Status::Modified,
                Some(format!(
                    "the SHA-256 of its content differs from the one {} lists",
                    sanitize(listed.get(key).map_or("", |l| l.1))
                )),
            ),
            Err(ReadError::Content(e)) => (Status::Modified, Some(format!("cannot be decompressed: {}", sanitize(&e)))),
            Err(ReadError::Io(e)) => {
                report.problems.push(format!("{path}: {e}"));
                continue;
            }
        };
        report.rows.push(Row { kind: Kind::Log, path, status, reason });
    }
    for (key, (_, digest_key)) in listed {
        if !archive.logs.contains_key(*key) {
            report.rows.push(Row {
                kind: Kind::Log,
                path: archive.root.show(key),
                status: Status::Missing,
                reason: Some(format!("listed by {}; not in the archive", sanitize(digest_key))),
            });
        }
    }
    for key in archive.logs.keys() {
        if listed.contains_key(key.as_str()) {
            continue;
        }
        let name = key.rsplit('/').next().unwrap_or(key);
        if !log_in_window(log_name_ms(name)) {
            continue;
        }
        report.rows.push(Row {
            kind: Kind::Log,
            path: archive.root.show(key),
            status: Status::NotCovered,
            reason: Some(
                "no digest that was checked lists it: added after delivery, or its digest is missing or was not checked"
                    .into(),
            ),
        });
    }
}

/// The verdict on one digest. `successor`: the digest that names it as its previous one.
/// Its signature is the one its S3 object metadata holds, else the one its successor
/// repeats (a copy on disk has lost the metadata).
fn check_digest(
    root: &Root,
    l: &Loaded,
    d: &Digest,
    sha: &str,
    successor: Option<(&str, &Digest)>,
    is_newest: bool,
    keys: &HashMap<&str, &PublicKey>,
) -> (Status, Option<String>) {
    let key = l.key.as_str();
    match root {
        Root::Local(_) if local_key(&d.digest_s3_object) != key => {
            return (
                Status::Moved,
                Some(format!("it says it is {}: it was moved from there", sanitize(&d.digest_s3_object))),
            );
        }
        Root::S3(r) if d.digest_s3_object != r.full_key(key) || d.digest_s3_bucket != r.bucket() => {
            return (
                Status::Moved,
                Some(format!(
                    "it says it is s3://{}/{}: it was moved or copied from there",
                    sanitize(&d.digest_s3_bucket),
                    sanitize(&d.digest_s3_object)
                )),
            );
        }
        _ => {}
    }
    if let Some((next_key, next)) = successor {
        if let Some(h) = &next.previous_digest_hash_value {
            if !h.eq_ignore_ascii_case(sha) {
                return (
                    Status::Modified,
                    Some(format!(
                        "its SHA-256 differs from the previousDigestHashValue in the digest after it ({})",
                        sanitize(next_key)
                    )),
                );
            }
        }
    }
    let own = l.meta.as_ref().and_then(|m| m.signature.as_deref());
    let algorithm = match &l.meta {
        Some(s3::Meta { signature: Some(_), algorithm }) => algorithm.as_deref(),
        _ => d.digest_signature_algorithm.as_deref(),
    };
    let signature = match (own, successor) {
        (Some(sig), _) => sig,
        (None, Some((next_key, next))) => match &next.previous_digest_signature {
            Some(sig) => sig.as_str(),
            None => {
                return (
                    Status::Unsigned,
                    Some(format!("the digest after it ({}) holds no signature", sanitize(next_key))),
                )
            }
        },
        (None, None) => {
            let why = match (root, is_newest) {
                (Root::S3(_), _) => "its S3 object has no signature metadata, and no digest after it repeats it",
                (Root::Local(_), true) => {
                    "signature not available locally: it is the newest digest of its chain here, and S3 keeps its signature as object metadata"
                }
                (Root::Local(_), false) => {
                    "signature not available locally: no digest after it names it as its previous one (the next one is missing or starts a new chain)"
                }
            };
            return (Status::Unsigned, Some(why.to_string()));
        }
    };
    if algorithm.is_some_and(|a| a != "SHA256withRSA") {
        return (
            Status::InvalidSignature,
            Some(format!("signature algorithm {} is not SHA256withRSA", sanitize(algorithm.unwrap_or("")))),
        );
    }
    let fingerprint = d.digest_public_key_fingerprint.as_deref().unwrap_or("");
    let Some(key) = keys.get(fingerprint.to_ascii_lowercase().as_str()) else {
        return (
            Status::InvalidSignature,
            Some(format!("no public key with fingerprint {} (signed by an unknown key)", sanitize(fingerprint))),
        );
    };
    let end = crate::model::time::parse_event_time(&d.digest_end_time);
    if end.is_none_or(|t| t < key.valid_from || t > key.valid_to) {
        return (
            Status::InvalidSignature,
            Some(format!(
                "key {} is valid from {} to {}, not at the digest's end time {}",
                key.fingerprint,
                crate::model::time::format_rfc3339(key.valid_from),
                crate::model::time::format_rfc3339(key.valid_to),
                sanitize(&d.digest_end_time)
            )),
        );
    }
    if key.verify(d.signing_string(sha).as_bytes(), signature) {
        (Status::Valid, None)
    } else {
        (
            Status::InvalidSignature,
            Some(
                "the signature does not match: its content, time or location was altered, or another key signed it"
                    .into(),
            ),
        )
    }
}

/// The public keys for the home regions `regions` between two times (epoch ms).
pub fn public_keys(source: &KeySource, regions: &[String], from: i64, to: i64) -> Result<Vec<PublicKey>, String> {
    match source {
        KeySource::File(p) => keys::read_public_keys(p),
        KeySource::Api(cfg) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("starting the AWS client: {e}"))?;
            let mut all = Vec::new();
            for r in regions {
                all.extend(rt.block_on(keys::fetch_public_keys(cfg, r, from, to))?);
            }
            Ok(all)
        }
    }
}

/// Why there are no verdicts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unverified {
    /// No public keys to check signatures with: no `--public-keys` file and no AWS
    /// credentials to ask ListPublicKeys with. Nothing failed; nothing was checked.
    NoKeys,
    /// Verification failed (the keys could not be had, the archive could not be read), and why.
    Failed(String),
}

impl From<String> for Unverified {
    fn from(reason: String) -> Self {
        Unverified::Failed(reason)
    }
}

impl From<&str> for Unverified {
    fn from(reason: &str) -> Self {
        Unverified::Failed(reason.to_string())
    }
}

/// What verification says of each log file of `req`'s inputs, by the path as shown
/// (sanitised: a local path, or `s3://bucket/key`): for the TUI, which marks events by it.
pub fn log_verdicts(req: &VerifyRequest) -> Result<Vec<(String, crate::model::FileVerdict)>, Unverified> {
    let trail = req.trail.as_deref().map(TrailFilter::parse).transpose()?;
    if let KeySource::Api(cfg) = &req.keys {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting the AWS client: {e}"))?;
        if !rt.block_on(crate::source::lookup::has_credentials(cfg)) {
            return Err(Unverified::NoKeys);
        }
    }
    let mut get_keys = |regions: &[String], from: i64, to: i64| public_keys(&req.keys, regions, from, to);
    let report = verify(&req.inputs, trail.as_ref(), req.since, req.until, &req.s3, &mut get_keys)?;
    Ok(report.rows.into_iter().filter(|r| r.kind == Kind::Log).map(|r| (r.path, r.status.verdict())).collect())
}

/// Runs `trailscope verify` and returns the exit status.
pub fn run(req: &VerifyRequest, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let trail = match req.trail.as_deref().map(TrailFilter::parse).transpose() {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "trailscope: {e}");
            return exit::USAGE;
        }
    };
    if req.inputs.is_empty() && trail.is_none() {
        let _ = writeln!(
            err,
            "trailscope: verify needs a PATH (the folder that holds AWSLogs/, or s3://BUCKET/PREFIX), or --trail"
        );
        return exit::USAGE;
    }
    for url in req.inputs.iter().filter(|i| crate::source::s3::layout::is_s3_url(i)) {
        if let Err(e) = crate::source::s3::layout::parse_s3_url(url) {
            let _ = writeln!(err, "trailscope: {e}");
            return exit::USAGE;
        }
    }
    let mut get_keys = |regions: &[String], from: i64, to: i64| public_keys(&req.keys, regions, from, to);
    let report = match verify(&req.inputs, trail.as_ref(), req.since, req.until, &req.s3, &mut get_keys) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "trailscope: {e}");
            return exit::NOTHING;
        }
    };
    for p in &report.problems {
        let _ = writeln!(err, "trailscope: could not read {p}");
    }
    use std::io::IsTerminal;
    let format = req.format.unwrap_or(if std::io::stdout().is_terminal() { Format::Table } else { Format::Jsonl });
    let written = match format {
        Format::Jsonl => write_jsonl(&report, out),
        Format::Table => write_table(&report, out),
    };
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            let _ = writeln!(err, "trailscope: writing the report failed: {e}");
        }
    }
    report.exit_status()
}

pub fn write_jsonl(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut buf = std::io::BufWriter::new(out);
    for r in &report.rows {
        let v = serde_json::json!({
            "kind": r.kind.as_str(),
            "path": r.path,
            "status": r.status.as_str(),
            "reason": r.reason,
        });
        serde_json::to_writer(&mut buf, &v)?;
        buf.write_all(b"\n")?;
    }
    buf.flush()
}

pub fn write_table(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut buf = std::io::BufWriter::new(out);
    for kind in [Kind::Digest, Kind::Log] {
        let counts: Vec<String> = Status::ALL
            .iter()
            .map(|s| (s, report.count(kind, *s)))
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| format!("{n} {}", s.as_str().replace('_', " ")))
            .collect();
        let counts = if counts.is_empty() { "none".to_string() } else { counts.join(", ") };
        writeln!(buf, "{:<13} {counts}", format!("{} files:", kind.as_str()))?;
    }
    let not_valid: Vec<&Row> = report.rows.iter().filter(|r| r.status != Status::Valid).collect();
    if !not_valid.is_empty() {
        writeln!(buf)?;
        writeln!(buf, "{:<17}  {:<6}  PATH  REASON", "STATUS", "KIND")?;
        for r in not_valid {
            writeln!(
                buf,
                "{:<17}  {:<6}  {}  {}",
                r.status.as_str(),
                r.kind.as_str(),
                r.path,
                r.reason.as_deref().unwrap_or("")
            )?;
        }
    }
    buf.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_filter_parses_names_and_arns() {
        let t = TrailFilter::parse("arn:aws:cloudtrail:us-east-1:111122223333:trail/main").unwrap();
        assert_eq!(t.name, "main");
        assert_eq!(t.home_region.as_deref(), Some("us-east-1"));
        assert!(TrailFilter::parse("arn:aws:s3:::bucket").is_err());
        assert_eq!(TrailFilter::parse("main").unwrap().home_region, None);
        assert!(TrailFilter::parse("a/b").is_err());
    }

    #[test]
    fn roots_split_at_the_last_awslogs() {
        let (root, key) = split_root(Path::new("/x/AWSLogs/y/AWSLogs/1/CloudTrail/r/2026/01/01/f.json.gz")).unwrap();
        assert_eq!(root, Path::new("/x/AWSLogs/y"));
        assert_eq!(key, "AWSLogs/1/CloudTrail/r/2026/01/01/f.json.gz");
        assert!(split_root(Path::new("/x/y.json")).is_none());
    }

    #[test]
    fn exit_status_precedence() {
        let mut r = Report { digests_checked: 1, ..Default::default() };
        assert_eq!(r.exit_status(), exit::OK);
        r.problems.push("x".into());
        assert_eq!(r.exit_status(), exit::SOME_UNREADABLE);
        r.rows.push(Row { kind: Kind::Log, path: "p".into(), status: Status::NotCovered, reason: None });
        assert_eq!(r.exit_status(), exit::FINDING);
        r.rows[0].status = Status::Unsigned;
        assert_eq!(r.exit_status(), exit::SOME_UNREADABLE);
    }
}
