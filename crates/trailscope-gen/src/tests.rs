//! Determinism, layout, record shapes and hostile strings of generated archives.

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use serde_json::Value;

use crate::catalogue::REGIONS;
use crate::pools::WINDOW;
use crate::time::{iam_date, iso, parse_iso};
use crate::{generate, record, GenOptions};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    walk(dir, &mut v);
    v.sort();
    v
}

fn gunzip(p: &Path) -> Vec<u8> {
    let mut s = Vec::new();
    GzDecoder::new(fs::File::open(p).unwrap()).read_to_end(&mut s).unwrap();
    s
}

fn small() -> GenOptions {
    GenOptions { events: 1234, per_file: 100, hostile: true, ..GenOptions::default() }
}

#[test]
fn deterministic_bytes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let sa = generate(&small(), a.path()).unwrap();
    let sb = generate(&small(), b.path()).unwrap();
    assert_eq!(sa, sb);
    let fa = files(a.path());
    let fb = files(b.path());
    assert_eq!(fa.len(), fb.len());
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(x.strip_prefix(a.path()).unwrap(), y.strip_prefix(b.path()).unwrap());
        assert_eq!(fs::read(x).unwrap(), fs::read(y).unwrap(), "{x:?}");
    }
    // a different seed gives different output
    let c = tempfile::tempdir().unwrap();
    generate(&GenOptions { seed: 7, ..small() }, c.path()).unwrap();
    assert_ne!(
        files(c.path()).iter().map(|p| p.strip_prefix(c.path()).unwrap().to_path_buf()).collect::<Vec<_>>(),
        fa.iter().map(|p| p.strip_prefix(a.path()).unwrap().to_path_buf()).collect::<Vec<_>>()
    );
}

/// The archive of the default options, as it has been written since the generator was made:
/// a change to the generator that changes any record (or a file's name) fails here. Hashes
/// the decompressed contents, so that a change of gzip implementation does not.
#[test]
fn default_archive_is_unchanged() {
    let d = tempfile::tempdir().unwrap();
    generate(&GenOptions::default(), d.path()).unwrap();
    let mut all = Vec::new();
    for p in files(d.path()) {
        if p.to_str().unwrap().contains("/CloudTrail-Digest/") {
            continue;
        }
        all.extend_from_slice(p.strip_prefix(d.path()).unwrap().to_str().unwrap().as_bytes());
        all.push(0);
        all.extend_from_slice(&gunzip(&p));
    }
    assert_eq!(format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&all)), "bddb7c4db252d8e8");
}

#[test]
fn decodes_counts_unique_ids_layout_unsorted() {
    let d = tempfile::tempdir().unwrap();
    let opts = small();
    let sum = generate(&opts, d.path()).unwrap();
    assert_eq!(sum.events, 1234);
    assert_eq!(sum.files, 13);
    assert!(sum.digest_files > 0);
    let mut ids = HashSet::new();
    let mut total = 0;
    let mut logs = 0;
    let mut digests = 0;
    let mut unsorted_files = 0;
    let lo = opts.end_time - opts.span_secs;
    for p in files(d.path()) {
        let rel = p.strip_prefix(d.path()).unwrap().to_str().unwrap().to_string();
        let parts: Vec<&str> = rel.split('/').collect();
        assert_eq!(parts.len(), 8, "{rel}");
        assert_eq!(parts[0], "AWSLogs");
        let acct = parts[1];
        assert!(acct.len() == 12 && acct.bytes().all(|c| c.is_ascii_digit()));
        let region = parts[3];
        assert!(REGIONS[..3].contains(&region), "{rel}");
        let (y, m, dd) = (parts[4], parts[5], parts[6]);
        assert!(y.len() == 4 && m.len() == 2 && dd.len() == 2);
        let fname = parts[7];
        assert!(fname.ends_with(".json.gz"));
        let text = gunzip(&p);
        let v: Value = serde_json::from_slice(&text).unwrap();
        if parts[2] == "CloudTrail-Digest" {
            digests += 1;
            let prefix = format!("{acct}_CloudTrail-Digest_{region}_management-events_us-east-1_{y}{m}{dd}T");
            assert!(fname.starts_with(&prefix), "{fname}");
            for k in ["awsAccountId", "digestStartTime", "digestEndTime", "logFiles", "previousDigestSignature"] {
                assert!(v.get(k).is_some(), "{k}");
            }
            assert!(v.get("Records").is_none());
            continue;
        }
        assert_eq!(parts[2], "CloudTrail");
        logs += 1;
        let prefix = format!("{acct}_CloudTrail_{region}_{y}{m}{dd}T");
        assert!(fname.starts_with(&prefix), "{fname}");
        let stem = fname.trim_end_matches(".json.gz");
        let tail: Vec<&str> = stem.rsplitn(2, '_').collect();
        assert_eq!(tail[0].len(), 16);
        assert!(tail[0].bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(text.iter().filter(|&&c| c == b'\n').count(), 0);
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), 1);
        let recs = obj["Records"].as_array().unwrap();
        total += recs.len();
        let mut times = Vec::new();
        for r in recs {
            let id = r["eventID"].as_str().unwrap();
            assert_eq!(id.len(), 36);
            assert_eq!(&id[14..15], "4");
            assert!(ids.insert(id.to_string()), "duplicate {id}");
            assert_eq!(r["recipientAccountId"], acct);
            assert_eq!(r["awsRegion"], region);
            assert_eq!(r["managementEvent"], true);
            let t = parse_iso(r["eventTime"].as_str().unwrap());
            assert_eq!(iso(t), r["eventTime"].as_str().unwrap());
            assert!(t >= lo && t <= opts.end_time);
            times.push(t);
        }
        let (mn, mx) = (times.iter().min().unwrap(), times.iter().max().unwrap());
        assert!(mx - mn < WINDOW);
        if times.windows(2).any(|w| w[0] > w[1]) {
            unsorted_files += 1;
        }
    }
    assert_eq!(total, 1234);
    assert_eq!(logs, 13);
    assert_eq!(digests, sum.digest_files);
    assert!(unsorted_files >= 12, "records should be shuffled");
}

#[test]
fn record_fn_equals_archived_record() {
    let opts = GenOptions { events: 250, per_file: 40, digests: false, ..GenOptions::default() };
    let d = tempfile::tempdir().unwrap();
    generate(&opts, d.path()).unwrap();
    let mut by_id = std::collections::HashMap::new();
    for p in files(d.path()) {
        let v: Value = serde_json::from_slice(&gunzip(&p)).unwrap();
        for r in v["Records"].as_array().unwrap() {
            by_id.insert(r["eventID"].as_str().unwrap().to_string(), r.clone());
        }
    }
    assert_eq!(by_id.len(), 250);
    for i in [0u64, 39, 40, 133, 249] {
        let r = record(opts.seed, i, &opts);
        assert_eq!(by_id.get(r["eventID"].as_str().unwrap()), Some(&r), "index {i}");
    }
}

#[test]
fn record_matches_archive_and_shapes() {
    let opts = GenOptions { events: 3000, per_file: 500, ..GenOptions::default() };
    let a = record(opts.seed, 17, &opts);
    assert_eq!(a, record(opts.seed, 17, &opts));
    assert_ne!(a["eventID"], record(opts.seed, 18, &opts)["eventID"]);
    let mut reads = 0;
    let mut errors = 0;
    let mut kinds = HashSet::new();
    let mut services = HashSet::new();
    let mut total_len = 0;
    let n = 3000;
    for i in 0..n {
        let r = record(opts.seed, i, &opts);
        for k in [
            "eventVersion",
            "userIdentity",
            "eventTime",
            "eventSource",
            "eventName",
            "awsRegion",
            "sourceIPAddress",
            "userAgent",
            "requestParameters",
            "responseElements",
            "eventID",
            "readOnly",
            "eventType",
            "managementEvent",
            "recipientAccountId",
            "eventCategory",
        ] {
            assert!(r.get(k).is_some(), "{k} missing in {r}");
        }
        if r["readOnly"] == true {
            reads += 1;
        }
        if r.get("errorCode").is_some() {
            errors += 1;
        }
        let ty = r["userIdentity"].get("type").and_then(Value::as_str).unwrap_or("");
        kinds.insert(ty.to_string());
        services.insert(r["eventSource"].as_str().unwrap().to_string());
        if r["eventName"] == "ConsoleLogin" {
            assert_eq!(r["eventType"], "AwsConsoleSignIn");
            assert_eq!(r["awsRegion"], "us-east-1");
        }
        if ty == "AWSService" {
            assert_eq!(r["sourceIPAddress"], r["userIdentity"]["invokedBy"]);
            assert!(r["userIdentity"].get("arn").is_none());
        }
        if let Some(k) = r["userIdentity"].get("accessKeyId").and_then(Value::as_str) {
            assert_eq!(k.len(), 20);
            assert!(k.starts_with("AKIA") || k.starts_with("ASIA"));
        }
        total_len += serde_json::to_vec(&r).unwrap().len();
    }
    let avg = total_len / n as usize;
    assert!((800..=1300).contains(&avg), "avg record size {avg}");
    assert!((0.65..0.85).contains(&(reads as f64 / n as f64)), "reads {reads}");
    assert!((0.02..0.10).contains(&(errors as f64 / n as f64)), "errors {errors}");
    for k in ["IAMUser", "AssumedRole", "Root", "AWSService", "FederatedUser", "AWSAccount"] {
        assert!(kinds.contains(k), "{k}");
    }
    assert!(services.len() >= 35, "{}", services.len());
}

#[test]
fn hostile_strings_present_only_when_enabled() {
    let has_control = |v: &Value| {
        let s = v.to_string();
        s.contains("\\u001b") || s.contains('\u{9b}') || s.contains('\u{202e}') || s.contains("\\u0000")
    };
    let on = GenOptions::default();
    let off = GenOptions { hostile: false, ..GenOptions::default() };
    let hits = (0..6000).filter(|i| has_control(&record(1, *i, &on))).count();
    assert!(hits > 3, "hits {hits}");
    assert!((0..3000).all(|i| !has_control(&record(1, i, &off))));
}

#[test]
fn civil_roundtrip() {
    for t in [0i64, 951_782_400, 1_767_225_599, 1_767_225_600, 4_102_444_800] {
        assert_eq!(parse_iso(&iso(t)), t);
    }
    assert_eq!(iso(1_767_225_600), "2026-01-01T00:00:00Z");
    assert_eq!(iam_date(1_767_225_600), "Jan 1, 2026, 12:00:00 AM");
}
