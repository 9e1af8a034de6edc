#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// `../shared/data`, the real CloudTrail records the project tests against.
pub fn shared_data() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    assert!(p.join("stratus-red-team").is_dir(), "real test data is missing: expected it at {}", p.display());
    p
}

pub fn stratus() -> PathBuf {
    shared_data().join("stratus-red-team")
}

pub fn panther() -> PathBuf {
    shared_data().join("panther/cloudtrail-test-records.jsonl")
}

/// Every stratus record, file by file, as JSON values.
pub fn stratus_records() -> Vec<serde_json::Value> {
    let mut files: Vec<_> = std::fs::read_dir(stratus()).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| serde_json::from_slice::<Vec<serde_json::Value>>(&std::fs::read(f).unwrap()).unwrap())
        .collect()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_trailscope")
}

/// The cache the tests' runs use (never the user's): under the target directory, kept across
/// runs, so that loads of the shared data also go through the stored archive index.
pub fn test_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("trailscope-test-cache")
}

pub fn run(args: &[&str]) -> Output {
    Command::new(bin()).args(args).env("TRAILSCOPE_CACHE_DIR", test_cache_dir()).output().expect("run trailscope")
}

pub fn run_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(bin())
        .args(args)
        .env("TRAILSCOPE_CACHE_DIR", test_cache_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

pub fn stdout_lines(o: &Output) -> Vec<String> {
    String::from_utf8(o.stdout.clone()).unwrap().lines().map(str::to_string).collect()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The records of a jsonl output, parsed.
pub fn jsonl_values(o: &Output) -> Vec<serde_json::Value> {
    stdout_lines(o)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad jsonl line {e}: {l}")))
        .collect()
}

/// Writes records as a CloudTrail log file in the S3 layout under `root`; returns its path.
pub fn write_trail_file(
    root: &Path,
    account: &str,
    region: &str,
    day: &str,
    name: &str,
    records: &[serde_json::Value],
    gz: bool,
) -> PathBuf {
    let dir = root.join(format!("AWSLogs/{account}/CloudTrail/{region}/{day}"));
    std::fs::create_dir_all(&dir).unwrap();
    let body = serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap();
    let path = dir.join(if gz { format!("{name}.json.gz") } else { format!("{name}.json") });
    std::fs::write(&path, if gz { gzip(&body) } else { body }).unwrap();
    path
}

/// A generated archive of `events` records in one account, ending `ago_secs` before now and
/// spanning `span_secs`: inside live history's window, as the LookupEvents double serves it.
pub fn recent_archive(dir: &Path, events: usize, regions: usize, seed: u64, ago_secs: i64, span_secs: i64) -> PathBuf {
    let archive = dir.join("archive");
    let opts = trailscope::gen::GenOptions {
        events,
        per_file: 100,
        seed,
        end_time: chrono::Utc::now().timestamp() - ago_secs,
        span_secs,
        accounts: 1,
        regions,
        hostile: false,
        gzip_level: 1,
        digests: false,
    };
    trailscope::gen::generate(&opts, &archive).unwrap();
    archive
}
