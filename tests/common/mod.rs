#![allow(dead_code)]

mod tui;
pub use tui::*;

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
    recent_archive_in(dir, "archive", events, 100, regions, seed, ago_secs, span_secs)
}

/// [`recent_archive`] into `dir/name`, `per_file` records per file.
#[allow(clippy::too_many_arguments)]
pub fn recent_archive_in(
    dir: &Path,
    name: &str,
    events: usize,
    per_file: usize,
    regions: usize,
    seed: u64,
    ago_secs: i64,
    span_secs: i64,
) -> PathBuf {
    let archive = dir.join(name);
    let opts = trailscope_gen::GenOptions {
        events,
        per_file,
        seed,
        end_time: chrono::Utc::now().timestamp() - ago_secs,
        span_secs,
        accounts: 1,
        regions,
        hostile: false,
        gzip_level: 1,
        digests: false,
        ..Default::default()
    };
    trailscope_gen::generate(&opts, &archive).unwrap();
    archive
}

/// The eventIDs of records.
pub fn ids(values: &[serde_json::Value]) -> Vec<String> {
    values.iter().map(|v| v["eventID"].as_str().unwrap().to_string()).collect()
}

/// Same events, each once, newest first, byte for byte the archive's records.
pub fn assert_same_selection(got: &[serde_json::Value], expected: &[&serde_json::Value], what: &str) {
    let got_ids = ids(got);
    let set: std::collections::HashSet<&String> = got_ids.iter().collect();
    assert_eq!(set.len(), got_ids.len(), "{what}: duplicates in the result");
    let want: std::collections::HashSet<String> =
        expected.iter().map(|v| v["eventID"].as_str().unwrap().to_string()).collect();
    assert_eq!(set.len(), want.len(), "{what}: {} events, expected {}", set.len(), want.len());
    assert!(got_ids.iter().all(|i| want.contains(i)), "{what}: events outside the selection");
    let times: Vec<&str> = got.iter().map(|v| v["eventTime"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{what}: not newest first");
    for g in got {
        let original = expected.iter().find(|e| e["eventID"] == g["eventID"]).unwrap();
        assert_eq!(&g, original, "{what}: the record is not the archive's");
    }
}

/// Draws the TUI's state as the app does, on this thread: layout first, then the detail
/// record fetched and highlighted, then the frame.
pub fn draw_state(state: &mut TestState, w: u16, h: u16) -> ratatui::Terminal<ratatui::backend::TestBackend> {
    use trailscope::tui::ui;
    state.settle();
    state.resize(w, h);
    if let Some(ev) = state.detail_wanted() {
        let job = trailscope::tui::app::detail_job(state, ev).unwrap();
        state.apply(job());
    }
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, state)).unwrap();
    t
}
