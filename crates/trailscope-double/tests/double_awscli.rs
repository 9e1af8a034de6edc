//! The LookupEvents double against an independent client: the real AWS CLI (botocore).
//! Starts the `trailscope-lookup-double` binary on a tempdir copy of the stratus records,
//! runs `aws cloudtrail lookup-events` against it and compares what botocore parsed (after
//! its automatic pagination) with the selection computed here from the raw records.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

const NOW: &str = "2024-10-27T00:00:00Z";

fn secs(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t).unwrap_or_else(|e| panic!("{t:?}: {e}")).timestamp()
}

fn str_at<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} missing in {v}"))
}

/// The double as a child process; killed on drop.
struct Server {
    child: Child,
    endpoint: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_double(archive: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trailscope-lookup-double"))
        .args(["--port", "0", "--rate", "100", "--burst", "100", "--now", NOW])
        .arg(archive)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn trailscope-lookup-double");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let endpoint =
        line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected: {line:?}")).to_string();
    Server { child, endpoint }
}

fn aws(endpoint: &str, region: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new("aws");
    cmd.args(["cloudtrail", "lookup-events", "--endpoint-url", endpoint, "--region", region, "--output", "json"])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "AKIDCLITEST")
        .env("AWS_SECRET_ACCESS_KEY", "dummy-secret")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_PAGER", "")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    match cmd.output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "the `aws` CLI is not installed, and this test needs it as an independent LookupEvents client; \
             `.ci/run` installs awscli with pip (`pip install awscli`)"
        ),
        Err(e) => panic!("cannot run aws: {e}"),
    }
}

/// Real records, copied into a tempdir archive; the records.
fn archive() -> (tempfile::TempDir, Vec<Value>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/stratus-red-team");
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&src)
        .unwrap_or_else(|e| panic!("real test data missing at {}: {e}", src.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut records = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        records.extend(serde_json::from_slice::<Vec<Value>>(&bytes).unwrap());
        std::fs::write(dir.path().join(f.file_name().unwrap()), bytes).unwrap();
    }
    (dir, records)
}

fn http_get(endpoint: &str, path: &str) -> String {
    let addr = endpoint.strip_prefix("http://").unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n").unwrap().1.to_string()
}

#[test]
fn aws_cli_pages_match_the_archive() {
    let (dir, records) = archive();
    let server = start_double(dir.path());
    let (start, end) = ("2024-07-01T00:00:00Z", NOW);
    let lo = secs(start).max(secs(NOW) - 90 * 86400);
    let hi = secs(end);
    let in_window = |r: &&Value| (lo..=hi).contains(&secs(str_at(r, "eventTime")));

    // The (region, eventName) with the most events in the window: several pages of 5.
    let mut counts = std::collections::BTreeMap::<(&str, &str), usize>::new();
    for r in records.iter().filter(in_window) {
        *counts.entry((str_at(r, "awsRegion"), str_at(r, "eventName"))).or_default() += 1;
    }
    let (&(region, name), &n) = counts.iter().max_by_key(|&(k, n)| (n, std::cmp::Reverse(*k))).unwrap();
    assert!(n > 5, "want a multi-page selection, got {n}");
    let mut want: Vec<&Value> = records
        .iter()
        .filter(in_window)
        .filter(|r| str_at(r, "awsRegion") == region && str_at(r, "eventName") == name)
        .collect();
    want.sort_by(|a, b| {
        secs(str_at(b, "eventTime"))
            .cmp(&secs(str_at(a, "eventTime")))
            .then(str_at(a, "eventID").cmp(str_at(b, "eventID")))
    });

    let attribute = format!("AttributeKey=EventName,AttributeValue={name}");
    let out = aws(
        &server.endpoint,
        region,
        &["--lookup-attributes", &attribute, "--start-time", start, "--end-time", end, "--page-size", "5"],
    );
    assert!(out.status.success(), "aws failed: {}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).expect("aws printed JSON");
    assert!(got.get("NextToken").is_none(), "the CLI should have followed every page");
    let events = got["Events"].as_array().unwrap();
    let got_ids: Vec<&str> = events.iter().map(|e| str_at(e, "EventId")).collect();
    let want_ids: Vec<&str> = want.iter().map(|r| str_at(r, "eventID")).collect();
    assert_eq!(got_ids, want_ids);
    for (e, r) in events.iter().zip(&want) {
        let parsed: Value = serde_json::from_str(str_at(e, "CloudTrailEvent")).unwrap();
        assert_eq!(&&parsed, r);
        // aws-cli v1 prints the wire value (epoch seconds); v2 an ISO 8601 string.
        let time = match &e["EventTime"] {
            Value::Number(n) => n.as_f64().unwrap(),
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp() as f64,
            other => panic!("EventTime {other}"),
        };
        assert_eq!(time, secs(str_at(r, "eventTime")) as f64, "{e}");
        assert_eq!(str_at(e, "EventName"), name);
        assert_eq!(e["EventSource"], r["eventSource"]);
    }

    // The double saw paged requests from the CLI's region and key.
    let log: Vec<Value> = serde_json::from_str(&http_get(&server.endpoint, "/_double/log")).unwrap();
    assert_eq!(log.len(), want.len().div_ceil(5).max(1), "{log:?}");
    assert!(log.iter().all(|e| e["status"] == 200 && e["region"] == region && e["access_key"] == "AKIDCLITEST"));
    assert!(log.iter().skip(1).all(|e| e["token"] == true));
    assert_eq!(log[0]["attribute"], format!("EventName={name}"));

    // Two lookup attributes: the service's error, as the CLI reports it.
    let out = aws(
        &server.endpoint,
        region,
        &["--lookup-attributes", &attribute, "AttributeKey=ReadOnly,AttributeValue=true"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("InvalidLookupAttributesException"), "{stderr}");
}
