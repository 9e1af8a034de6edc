//! Bad files: each gives a clear error naming the file, the rest still loads, nothing panics
//! or hangs.

mod common;
use common::*;
use std::time::{Duration, Instant};

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn good_file(dir: &std::path::Path) -> std::path::PathBuf {
    write(dir, "good.json", &serde_json::to_vec(&serde_json::json!({"Records": stratus_records()[..20]})).unwrap())
}

fn reason_for<'a>(err: &'a str, file: &str) -> &'a str {
    err.lines().find(|l| l.contains(file)).unwrap_or_else(|| panic!("{file} not reported:\n{err}"))
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    good_file(dir.path());
    let deep = format!("{{\"Records\":[{}{}]}}", "[".repeat(10_000), "]".repeat(10_000));
    write(dir.path(), "deep.json", deep.as_bytes());
    let deep_params = format!(
        "{{\"Records\":[{{\"eventName\":\"X\",\"requestParameters\":{}1{}}}]}}",
        "{\"a\":".repeat(10_000),
        "}".repeat(10_000)
    );
    write(dir.path(), "deep-params.json", deep_params.as_bytes());
    let o = run(&["print", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    // Nesting inside a record is valid JSON: the record is kept, and printed unchanged.
    let lines = stdout_lines(&o);
    assert_eq!(lines.len(), 21);
    let inner = &deep_params["{\"Records\":[".len()..deep_params.len() - 2];
    assert!(lines.iter().any(|l| l == inner), "the deeply nested record is printed as it was");
    // Nesting where records should be is not a record.
    assert!(reason_for(&stderr(&o), "deep.json").contains("Records[0]: not a JSON object"), "{}", stderr(&o));
}

#[test]
fn a_huge_record_loads_and_prints_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let big = "A".repeat(50 << 20);
    let rec =
        serde_json::json!({"eventTime":"2024-01-01T00:00:00Z","eventName":"Big","eventID":"big-1","userAgent": big});
    write(dir.path(), "big.json", &serde_json::to_vec(&serde_json::json!({"Records":[rec]})).unwrap());
    let o = run(&["print", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = jsonl_values(&o);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["userAgent"].as_str().unwrap().len(), 50 << 20);
}

#[test]
fn invalid_utf8_missing_fields_and_odd_times() {
    let dir = tempfile::tempdir().unwrap();
    good_file(dir.path());
    write(dir.path(), "latin1.json", b"{\"Records\":[{\"eventName\":\"caf\xe9\"}]}");
    let odd = serde_json::json!({"Records": [
        {"eventName": "NoTime", "eventID": "t1"},
        {"eventTime": "2024-07-31T12:46:41Z", "eventID": "t2"},
        {"eventTime": "2024-07-31 12:46:41", "eventName": "SpaceTime", "eventID": "t3"},
        {"eventTime": "2024-07-31T14:46:41+02:00", "eventName": "OffsetTime", "eventID": "t4"},
        {"eventTime": "yesterday", "eventName": "BadTime", "eventID": "t5"},
        {"eventTime": 1722430001, "eventName": "NumberTime", "eventID": "t6"}
    ]});
    write(dir.path(), "odd.json", odd.to_string().as_bytes());
    let o = run(&["print", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = jsonl_values(&o);
    assert_eq!(out.len(), 26, "records with missing or odd times are kept");
    assert!(reason_for(&stderr(&o), "latin1.json").contains("invalid JSON"), "{}", stderr(&o));
    // Records whose time cannot be read sort last, after every dated record.
    let last: Vec<&str> = out[out.len() - 2..].iter().map(|v| v["eventID"].as_str().unwrap()).collect();
    for id in ["t1", "t5"] {
        assert!(last.contains(&id), "{id} sorts last: {last:?}");
    }
}

#[test]
fn gzip_with_trailing_garbage_loads_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut gz = gzip(&serde_json::to_vec(&serde_json::json!({"Records": stratus_records()[..5]})).unwrap());
    gz.extend_from_slice(b"this is not gzip");
    write(dir.path(), "trailing.json.gz", &gz);
    let o = run(&["print", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(jsonl_values(&o).len(), 5);
    let err = stderr(&o);
    let line = reason_for(&err, "trailing.json.gz");
    assert!(line.contains("read in part") && line.contains("trailing data"), "{line}");
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_fifos_in_directories_do_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    good_file(dir.path());
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    assert!(std::process::Command::new("mkfifo").arg(dir.path().join("pipe")).status().unwrap().success());
    let start = Instant::now();
    let o = run(&["print", dir.path().to_str().unwrap()]);
    assert!(start.elapsed() < Duration::from_secs(20));
    assert_eq!(jsonl_values(&o).len(), 20, "the file is read once, not once per loop");
    assert!(reason_for(&stderr(&o), "pipe").contains("not a regular file"), "{}", stderr(&o));
    assert!(stderr(&o).contains("already visited"), "{}", stderr(&o));
}

#[test]
fn an_empty_directory_reads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["print", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no files found"), "{}", stderr(&o));
}

/// The summary counts in words that agree with the number: one file, one input skipped.
#[test]
fn the_summary_says_one_file_and_one_input() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_file(dir.path());
    let o = run(&["print", good.to_str().unwrap()]);
    assert!(stderr(&o).contains("20 events read from 1 of 1 file, 0 duplicates collapsed"), "{}", stderr(&o));
    let bad = write(dir.path(), "bad.json", b"not json at all");
    let o = run(&["print", good.to_str().unwrap(), bad.to_str().unwrap()]);
    let err = stderr(&o);
    assert!(err.contains("from 1 of 2 files") && err.contains(", 1 input skipped"), "{err}");
    assert!(!err.contains("1 inputs") && !err.contains("1 files"), "{err}");
}
