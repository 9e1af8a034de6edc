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

/// The files of one archive: the folder holding `AWSLogs/`, and keys relative to it.
#[derive(Default)]
struct Archive {
    logs: BTreeMap<String, PathBuf>,
    digests: BTreeMap<String, PathBuf>,
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
}

/// Asked for the public keys of the home regions found, between two times (epoch ms).
pub type GetKeys<'a> = dyn FnMut(&[String], i64, i64) -> Result<Vec<PublicKey>, String> + 'a;

/// Verifies the archives under `inputs`. `get_keys` is asked once, for the home regions and
/// the span of digest end times (epoch ms) found, and may fail (nothing is verified then).
pub fn verify(
    inputs: &[String],
    trail: Option<&TrailFilter>,
    since: Option<i64>,
    until: Option<i64>,
    get_keys: &mut GetKeys<'_>,
) -> Result<Report, String> {
    let mut report = Report::default();
    let mut found = Vec::new();
    let mut discovery_problems = Vec::new();
    for f in crate::source::discover(inputs, &mut discovery_problems) {
        found.push(f.path);
    }
    for p in discovery_problems {
        report.problems.push(format!("{}: {}", p.input, p.reason));
    }
    let mut archives: BTreeMap<PathBuf, Archive> = BTreeMap::new();
    for path in found {
        let Some((root, key)) = split_root(&path) else { continue };
        let Some((_, _, kind, _, name)) = layout(&key) else { continue };
        let a = archives.entry(root).or_default();
        match kind {
            "CloudTrail" if name.ends_with(".json.gz") || name.ends_with(".json") => {
                a.logs.insert(key, path);
            }
            "CloudTrail-Digest" => {
                a.digests.insert(key, path);
            }
            _ => {}
        }
    }
    // A digest lists what was delivered in the hour before its end time: an hour of slack on
    // the window's end keeps the digest of its last log files.
    let hour = 3_600_000;
    let in_window = |t: Option<i64>, slack: i64| {
        t.is_none_or(|t| since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u + slack))
    };

    // Read every digest of the selected chains, in parallel.
    let mut per_root: Vec<(PathBuf, Archive, Vec<Loaded>)> = Vec::new();
    for (root, archive) in archives {
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
                    path: show(&root, key),
                    status: Status::Moved,
                    reason: Some("not named as CloudTrail names digest files in this folder".into()),
                }),
                None => {}
            }
        }
        let loaded: Vec<Loaded> = selected
            .into_par_iter()
            .map(|(key, name, path)| {
                let content = read_uncompressed(&path).and_then(|json| {
                    let sha = sha256_hex(&json);
                    Digest::parse(&json).map(|d| (d, sha)).map_err(ReadError::Content)
                });
                Loaded { key, name, content }
            })
            .collect();
        per_root.push((root, archive, loaded));
    }
    let total: usize = per_root.iter().map(|(_, _, l)| l.len()).sum();
    if total == 0 {
        let which = trail.map(|t| format!(" of trail {}", sanitize(&t.name))).unwrap_or_default();
        return Err(format!(
            "no digest files{which} found under {} (in AWSLogs/.../CloudTrail-Digest/...{}): nothing to verify; \
             the trail needs log file validation turned on",
            inputs.iter().map(|i| sanitize(i).into_owned()).collect::<Vec<_>>().join(", "),
            if since.is_some() || until.is_some() { ", in the time window" } else { "" }
        ));
    }
    let mut regions: Vec<String> = per_root
        .iter()
        .flat_map(|(_, _, l)| l.iter().map(|d| d.name.chain.home_region.clone()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    regions.dedup();
    let times = per_root.iter().flat_map(|(_, _, l)| l.iter().filter_map(|d| d.name.time_ms()));
    let (lo, hi) = times.fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let keys = get_keys(&regions, lo.min(hi) - 2 * hour, hi.max(lo) + 2 * hour)?;
    if keys.is_empty() {
        return Err("no public keys to check signatures with: nothing could be verified".into());
    }
    let keys: HashMap<&str, &PublicKey> = keys.iter().map(|k| (k.fingerprint.as_str(), k)).collect();

    for (root, archive, loaded) in per_root {
        report.roots.push(sanitize(&root.to_string_lossy()).into_owned());
        report.digests_checked += loaded.len();
        check_root(&root, &archive, loaded, &keys, &mut report, &|t| in_window(t, 0));
    }
    report.rows.sort_by(|a, b| (a.kind, &a.path).cmp(&(b.kind, &b.path)));
    Ok(report)
}

fn check_root(
    root: &Path,
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
        let path = show(root, &l.key);
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
        let (status, reason) = check_digest(&l.key, d, sha, successor.get(l.key.as_str()).copied(), is_newest, keys);
        report.rows.push(Row { kind: Kind::Digest, path, status, reason });
    }
    for (key, named_by) in missing_digests {
        report.rows.push(Row {
            kind: Kind::Digest,
            path: show(root, &key),
            status: Status::Missing,
            reason: Some(format!(
                "the digest after it ({}) names it as its previous digest; it is not in the archive",
                sanitize(&named_by)
            )),
        });
    }

    check_logs(root, archive, &listed, report, log_in_window);
}

/// The log files: each listed one present and unchanged, each present one listed.
fn check_logs(
    root: &Path,
    archive: &Archive,
    listed: &BTreeMap<&str, (&str, &str)>,
    report: &mut Report,
    log_in_window: &dyn Fn(Option<i64>) -> bool,
) {
    // Hash every listed log file that is present, in parallel.
    let present: Vec<(&str, &Path, &str)> = listed
        .iter()
        .filter_map(|(key, (hash, _))| archive.logs.get(*key).map(|p| (*key, p.as_path(), *hash)))
        .collect();
    let hashed: Vec<(&str, Result<bool, ReadError>)> = present
        .into_par_iter()
        .map(|(key, path, hash)| (key, read_uncompressed(path).map(|c| sha256_hex(&c).eq_ignore_ascii_case(hash))))
        .collect();
    for (key, result) in hashed {
        let path = show(root, key);
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
                path: show(root, key),
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
            path: show(root, key),
            status: Status::NotCovered,
            reason: Some(
                "no digest that was checked lists it: added after delivery, or its digest is missing or was not checked"
                    .into(),
            ),
        });
    }
}

/// The verdict on one digest. `successor`: the digest that names it as its previous one.
fn check_digest(
    key: &str,
    d: &Digest,
    sha: &str,
    successor: Option<(&str, &Digest)>,
    is_newest: bool,
    keys: &HashMap<&str, &PublicKey>,
) -> (Status, Option<String>) {
    if local_key(&d.digest_s3_object) != key {
        return (
            Status::Moved,
            Some(format!("it says it is {}: it was moved from there", sanitize(&d.digest_s3_object))),
        );
    }
    let Some((next_key, next)) = successor else {
        let why = if is_newest {
            "it is the newest digest of its chain here, and S3 keeps its signature as object metadata"
        } else {
            "no digest after it names it as its previous one (the next one is missing or starts a new chain)"
        };
        return (Status::Unsigned, Some(format!("signature not available locally: {why}")));
    };
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
    let Some(signature) = &next.previous_digest_signature else {
        return (Status::Unsigned, Some(format!("the digest after it ({}) holds no signature", sanitize(next_key))));
    };
    if d.digest_signature_algorithm.as_deref().is_some_and(|a| a != "SHA256withRSA") {
        return (
            Status::InvalidSignature,
            Some(format!(
                "signature algorithm {} is not SHA256withRSA",
                sanitize(d.digest_signature_algorithm.as_deref().unwrap_or(""))
            )),
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

/// Runs `trailscope verify` and returns the exit status.
pub fn run(req: &VerifyRequest, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let trail = match req.trail.as_deref().map(TrailFilter::parse).transpose() {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "trailscope: {e}");
            return exit::USAGE;
        }
    };
    if req.inputs.is_empty() {
        let _ =
            writeln!(err, "trailscope: verify needs a PATH: the folder that holds AWSLogs/ (S3 is not supported yet)");
        return exit::USAGE;
    }
    if let Some(s3) = req.inputs.iter().find(|i| i.starts_with("s3://")) {
        let _ = writeln!(
            err,
            "trailscope: {}: reading S3 directly is not supported yet; copy the bucket (aws s3 sync) and verify the copy",
            sanitize(s3)
        );
        return exit::USAGE;
    }
    let mut get_keys = |regions: &[String], from: i64, to: i64| -> Result<Vec<PublicKey>, String> {
        match &req.keys {
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
    };
    let report = match verify(&req.inputs, trail.as_ref(), req.since, req.until, &mut get_keys) {
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
