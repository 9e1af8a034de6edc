//! `trailscope verify` through the real binary, on archives the generator writes with real
//! signed digest chains: an untouched archive, and every kind of tampering.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use trailscope_gen::{generate, public_keys_json, GenOptions};

fn opts() -> GenOptions {
    GenOptions {
        events: 600,
        per_file: 50,
        seed: 9,
        span_secs: 6 * 3600,
        accounts: 1,
        regions: 2,
        hostile: false,
        gzip_level: 1,
        ..GenOptions::default()
    }
}

/// A generated archive under `<tmp>/arch` and its public keys in `<tmp>/keys.json`.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    keys: PathBuf,
}

fn fixture(o: &GenOptions) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("arch");
    generate(o, &root).unwrap();
    let keys = dir.path().join("keys.json");
    // The archive's own keys, unless the test signs with another.
    std::fs::write(&keys, public_keys_json(&opts()).unwrap()).unwrap();
    Fixture { _dir: dir, root, keys }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn sorted(root: &Path, part: &str) -> Vec<PathBuf> {
    let mut v = Vec::new();
    files(root, &mut v);
    v.retain(|p| p.to_string_lossy().contains(part));
    v.sort();
    v
}

fn logs(root: &Path) -> Vec<PathBuf> {
    sorted(root, "/CloudTrail/")
}

/// The digests of the first chain (us-east-1), oldest first.
fn chain(root: &Path) -> Vec<PathBuf> {
    sorted(root, "/CloudTrail-Digest/us-east-1/")
}

fn gunzip(p: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap()).read_to_end(&mut out).unwrap();
    out
}

fn gzip_to(p: &Path, bytes: &[u8]) {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(1));
    enc.write_all(bytes).unwrap();
    std::fs::write(p, enc.finish().unwrap()).unwrap();
}

/// Replaces the first `from` with `to` (same length) in a gzipped file's content.
fn edit(p: &Path, from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let mut b = gunzip(p);
    let at = b.windows(from.len()).position(|w| w == from.as_bytes()).expect("text to edit");
    b[at..at + from.len()].copy_from_slice(to.as_bytes());
    gzip_to(p, &b);
}

/// Runs `trailscope verify --format jsonl`: (exit status, path -> row).
fn verify(f: &Fixture, extra: &[&str]) -> (i32, BTreeMap<String, Value>) {
    let out = Command::new(env!("CARGO_BIN_EXE_trailscope"))
        .arg("verify")
        .arg(&f.root)
        .arg("--public-keys")
        .arg(&f.keys)
        .args(["--format", "jsonl"])
        .args(extra)
        .output()
        .unwrap();
    let mut rows = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        rows.insert(v["path"].as_str().unwrap().to_string(), v);
    }
    (out.status.code().unwrap_or(-1), rows)
}

fn status<'a>(rows: &'a BTreeMap<String, Value>, p: &Path) -> &'a str {
    rows.get(p.to_str().unwrap()).unwrap_or_else(|| panic!("no row for {p:?}"))["status"].as_str().unwrap()
}

fn counts(rows: &BTreeMap<String, Value>) -> BTreeMap<(String, String), usize> {
    let mut c = BTreeMap::new();
    for v in rows.values() {
        *c.entry((v["kind"].as_str().unwrap().into(), v["status"].as_str().unwrap().into())).or_default() += 1;
    }
    c
}

fn n(c: &BTreeMap<(String, String), usize>, kind: &str, status: &str) -> usize {
    c.get(&(kind.to_string(), status.to_string())).copied().unwrap_or(0)
}

#[test]
fn an_untouched_archive_is_valid_and_its_newest_digests_unsigned() {
    let f = fixture(&opts());
    let (code, rows) = verify(&f, &[]);
    assert_eq!(code, 0, "{rows:#?}");
    let c = counts(&rows);
    let digests = sorted(&f.root, "/CloudTrail-Digest/");
    assert!(digests.len() >= 10, "{}", digests.len());
    assert_eq!(n(&c, "log", "valid"), logs(&f.root).len());
    // One chain per region; only the newest digest of each cannot be checked on a copy.
    assert_eq!(n(&c, "digest", "unsigned"), 2);
    assert_eq!(n(&c, "digest", "valid"), digests.len() - 2);
    assert_eq!(status(&rows, chain(&f.root).last().unwrap()), "unsigned");
    assert_eq!(rows.len(), digests.len() + logs(&f.root).len());
}

#[test]
fn an_edited_deleted_or_added_log_file_is_found() {
    let f = fixture(&opts());
    let l = logs(&f.root);
    // Same size: one letter of an event name.
    edit(&l[0], "\"awsRegion\":\"us-", "\"awsRegion\":\"uz-");
    let (edited, deleted, added) = (
        &l[0],
        &l[1],
        l[2].with_file_name("111111111111_CloudTrail_us-east-1_20251231T2000Z_AAAAAAAAAAAAAAAA.json.gz"),
    );
    std::fs::remove_file(deleted).unwrap();
    std::fs::copy(&l[2], &added).unwrap();
    let (code, rows) = verify(&f, &[]);
    assert_eq!(code, 4);
    assert_eq!(status(&rows, edited), "modified");
    assert_eq!(status(&rows, deleted), "missing");
    assert_eq!(status(&rows, &added), "not_covered");
    assert_eq!(status(&rows, &l[2]), "valid");
    let c = counts(&rows);
    assert_eq!(n(&c, "log", "valid"), l.len() - 2);
    assert_eq!(n(&c, "digest", "unsigned"), 2);
}

#[test]
fn an_edited_digest_is_found() {
    let f = fixture(&opts());
    let ch = chain(&f.root);
    let d = &ch[ch.len() / 2];
    // Same size: the digest's start time.
    let text = String::from_utf8(gunzip(d)).unwrap();
    let start = text.split("\"digestStartTime\":\"").nth(1).unwrap()[..19].to_string();
    let changed = format!("{}9{}", &start[..17], &start[18..]);
    edit(d, &start, &changed);
    let (code, rows) = verify(&f, &[]);
    assert_eq!(code, 4);
    assert_eq!(status(&rows, d), "modified");
    assert_eq!(status(&rows, &ch[ch.len() / 2 - 1]), "valid");
    assert_eq!(status(&rows, &ch[ch.len() / 2 + 1]), "valid");
}

#[test]
fn a_deleted_digest_is_missing_and_its_log_files_not_covered() {
    let f = fixture(&opts());
    let ch = chain(&f.root);
    // A digest that lists log files.
    let d = ch[..ch.len() - 1]
        .iter()
        .find(|d| String::from_utf8(gunzip(d)).unwrap().contains("\"s3Object\""))
        .unwrap()
        .clone();
    let listed = String::from_utf8(gunzip(&d)).unwrap();
    std::fs::remove_file(&d).unwrap();
    let (code, rows) = verify(&f, &[]);
    assert_eq!(code, 4);
    assert_eq!(status(&rows, &d), "missing");
    let uncovered: Vec<&Value> = rows.values().filter(|v| v["status"] == "not_covered").collect();
    assert!(!uncovered.is_empty());
    for v in uncovered {
        let key = v["path"].as_str().unwrap().split("/arch/").nth(1).unwrap();
        assert!(listed.contains(key), "{key}");
    }
}

#[test]
fn a_moved_digest_is_found() {
    let f = fixture(&opts());
    let ch = chain(&f.root);
    let d = &ch[1];
    let dir = d.parent().unwrap().parent().unwrap().join("28");
    std::fs::create_dir_all(&dir).unwrap();
    let moved = dir.join(d.file_name().unwrap());
    std::fs::rename(d, &moved).unwrap();
    let (code, rows) = verify(&f, &[]);
    assert_eq!(code, 4);
    assert_eq!(status(&rows, &moved), "moved");
    assert_eq!(status(&rows, d), "missing");
}

#[test]
fn digests_signed_with_an_unknown_key_are_invalid() {
    let key = trailscope_gen::SigningKey::generate_pkcs8().unwrap();
    let f = fixture(&GenOptions { signing_key: Some(key), ..opts() });
    let (code, rows) = verify(&f, &[]);
    assert_eq!(code, 4);
    let c = counts(&rows);
    let digests = sorted(&f.root, "/CloudTrail-Digest/").len();
    assert_eq!(n(&c, "digest", "invalid_signature"), digests - 2);
    let bad = rows.values().find(|v| v["status"] == "invalid_signature").unwrap();
    assert!(bad["reason"].as_str().unwrap().contains("unknown key"), "{bad}");
}

#[test]
fn a_key_outside_its_validity_window_does_not_sign() {
    let f = fixture(&opts());
    let mut keys: Value = serde_json::from_slice(&std::fs::read(&f.keys).unwrap()).unwrap();
    // Valid only until two hours before the archive's end: the last hours' digests fail.
    keys["PublicKeyList"][0]["ValidityEndTime"] = Value::from("2025-12-31T22:00:00+00:00");
    std::fs::write(&f.keys, keys.to_string()).unwrap();
    let (code, rows) = verify(&f, &[]);
    assert_eq!(code, 4);
    let ch = chain(&f.root);
    assert_eq!(status(&rows, &ch[0]), "valid");
    let late = &ch[ch.len() - 2];
    assert_eq!(status(&rows, late), "invalid_signature");
    assert!(rows[late.to_str().unwrap()]["reason"].as_str().unwrap().contains("valid from"));
}

#[test]
fn an_organisation_trail_verifies() {
    let f = fixture(&GenOptions { organization: Some("o-a1b2c3d4e5".into()), ..opts() });
    let (code, rows) = verify(&f, &[]);
    assert_eq!(code, 0, "{rows:#?}");
    assert!(rows.keys().all(|p| p.contains("/AWSLogs/o-a1b2c3d4e5/")));
    assert_eq!(n(&counts(&rows), "digest", "unsigned"), 2);
    // --trail selects the chains by name; another trail's are not checked, so nothing is.
    let (code, _) = verify(&f, &["--trail", "management-events"]);
    assert_eq!(code, 0);
    let (code, _) = verify(&f, &["--trail", "other"]);
    assert_eq!(code, 1);
}

#[test]
fn nothing_to_verify_and_usage_errors() {
    let f = fixture(&GenOptions { digests: false, ..opts() });
    assert_eq!(verify(&f, &[]).0, 1);
    assert_eq!(verify(&f, &["--trail", "arn:aws:s3:::x"]).0, 2);
}

/// The aws CLI's own validator, driven over the same files (tests/awscli_validate.py), agrees
/// with trailscope on every digest and log file both reach a verdict on.
#[test]
fn the_aws_cli_validator_agrees() {
    let probe = Command::new("python3").args(["-c", "import awscli.customizations.cloudtrail.validation"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: python3 cannot import awscli (.ci/run installs it)");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/awscli_validate.py");
    let mut compared = 0;
    let mut cli_invalid = 0;
    type Tamper = Box<dyn Fn(&Fixture)>;
    let cases: Vec<(&str, Tamper)> = vec![
        ("untouched", Box::new(|_| {})),
        ("log edited", Box::new(|f| edit(&logs(&f.root)[0], "\"awsRegion\":\"us-", "\"awsRegion\":\"uz-"))),
        ("log deleted", Box::new(|f| std::fs::remove_file(&logs(&f.root)[3]).unwrap())),
        (
            "digest edited",
            Box::new(|f| {
                let ch = chain(&f.root);
                edit(
                    &ch[2],
                    "\"digestSignatureAlgorithm\":\"SHA256withRSA\"",
                    "\"digestSignatureAlgorithm\":\"SHA256withRSa\"",
                )
            }),
        ),
        ("digest deleted", Box::new(|f| std::fs::remove_file(&chain(&f.root)[3]).unwrap())),
    ];
    for (name, tamper) in cases {
        let f = fixture(&opts());
        tamper(&f);
        let (_, ours) = verify(&f, &[]);
        let out = Command::new("python3").arg(&script).arg(&f.root).arg(&f.keys).output().unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let mut seen = BTreeSet::new();
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let path = f.root.join(v["key"].as_str().unwrap());
            let Some(row) = ours.get(path.to_str().unwrap()) else { continue };
            let theirs = v["status"].as_str().unwrap();
            let mine = row["status"].as_str().unwrap();
            if mine == "unsigned" || !seen.insert(path.clone()) {
                continue; // trailscope does not check it; or seen already
            }
            let agree = match theirs {
                "valid" => mine == "valid",
                "missing" => mine == "missing",
                _ => !matches!(mine, "valid" | "missing"),
            };
            assert!(agree, "{name}: {path:?}: aws CLI {theirs} ({}), trailscope {mine}", v["message"]);
            compared += 1;
            cli_invalid += usize::from(theirs != "valid");
        }
    }
    assert!(compared > 50, "{compared}");
    assert!(cli_invalid >= 4, "{cli_invalid}");
}
