//! CloudTrail in CloudWatch Logs, against a real CloudWatch Logs server (`moto_server`) on
//! loopback: what `print --log-group` prints is what `print` of the same records in a file
//! prints, event for event. moto pages FilterLogEvents, applies time bounds and streams, and
//! returns every event for a JSON filter pattern (`{ … }`): so these results are exact only
//! because every term is applied locally again.

mod common;
#[path = "common/s3.rs"]
#[allow(dead_code)]
mod s3h;

use s3h::{Fault, Proxy};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A CloudWatch Logs client straight to moto, for filling log groups.
fn logs() -> aws_sdk_cloudwatchlogs::Client {
    let creds = aws_sdk_cloudwatchlogs::config::Credentials::new("test", "test", None, None, "tests");
    let conf = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
        .endpoint_url(s3h::moto().url())
        .credentials_provider(creds)
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(conf)
}

/// Generated records (`events` of them, 2 accounts × 3 regions, the newest ten minutes ago,
/// over six hours), as a JSON Lines file and as values.
fn records(dir: &Path, events: usize, seed: u64) -> (PathBuf, Vec<Value>) {
    // Small files: each holds one account and region, so that many streams are filled.
    let archive = common::recent_archive_in(dir, "archive", events, 20, 3, seed, 600, 6 * 3600);
    // recent_archive_in makes one account; a second one comes from a second archive.
    let other = {
        let opts = trailscope_gen::GenOptions {
            events: events / 3,
            per_file: 20,
            seed: seed + 1,
            end_time: chrono::Utc::now().timestamp() - 600,
            span_secs: 6 * 3600,
            accounts: 2,
            regions: 3,
            hostile: false,
            gzip_level: 1,
            digests: false,
            ..Default::default()
        };
        let out = dir.join("other");
        trailscope_gen::generate(&opts, &out).unwrap();
        out
    };
    let mut values = Vec::new();
    for root in [&archive, &other] {
        for (_, bytes) in s3h::files_under(root) {
            let v: Value = serde_json::from_slice(&gunzip(&bytes)).unwrap();
            values.extend(v["Records"].as_array().unwrap().iter().cloned());
        }
    }
    let path = dir.join("records.jsonl");
    let lines: Vec<String> = values.iter().map(|v| serde_json::to_string(v).unwrap()).collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    (path, values)
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(b).read_to_end(&mut out).unwrap();
    out
}

fn ms(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v["eventTime"].as_str().unwrap()).unwrap().timestamp_millis()
}

/// Creates `group` and puts `records` in the streams a trail writes
/// (`<account>_CloudTrail_<region>`), each log event stamped with its record's time, and
/// `others` (messages that are not CloudTrail records) in a stream of their own.
fn fill(group: &str, records: &[&Value], others: &[&str]) {
    let c = logs();
    s3h::rt().block_on(async {
        c.create_log_group().log_group_name(group).send().await.unwrap();
        let mut by_stream: std::collections::BTreeMap<String, Vec<(i64, String)>> = Default::default();
        for r in records {
            let stream = format!(
                "{}_CloudTrail_{}",
                r["recipientAccountId"].as_str().unwrap(),
                r["awsRegion"].as_str().unwrap()
            );
            by_stream.entry(stream).or_default().push((ms(r), serde_json::to_string(r).unwrap()));
        }
        let now = chrono::Utc::now().timestamp_millis();
        by_stream
            .entry("111111111111_CloudTrail_us-east-1_2".into())
            .or_default()
            .extend(others.iter().enumerate().map(|(i, m)| (now - 60_000 - i as i64, m.to_string())));
        for (stream, mut events) in by_stream {
            c.create_log_stream().log_group_name(group).log_stream_name(&stream).send().await.unwrap();
            events.sort();
            let mut batch = Vec::new();
            let mut size = 0;
            for (i, (t, m)) in events.iter().enumerate() {
                size += m.len() + 26;
                batch.push(
                    aws_sdk_cloudwatchlogs::types::InputLogEvent::builder().timestamp(*t).message(m).build().unwrap(),
                );
                if batch.len() == 2000 || size > 700_000 || i + 1 == events.len() {
                    c.put_log_events()
                        .log_group_name(group)
                        .log_stream_name(&stream)
                        .set_log_events(Some(std::mem::take(&mut batch)))
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("put into {stream}: {e:?}"));
                    size = 0;
                }
            }
        }
    });
}

fn trailscope(args: &[&str]) -> Output {
    let mut cmd = Command::new(common::bin());
    s3h::aws_env(&mut cmd);
    cmd.env("TRAILSCOPE_NO_CACHE", "1").args(args).output().unwrap()
}

/// `print` of log groups through `endpoint`.
fn print_logs(endpoint: &str, groups: &[&str], extra: &[&str]) -> Output {
    let mut args = vec!["print", "--endpoint-url", endpoint, "--region", "us-east-1", "--since", "1d"];
    for g in groups {
        args.extend(["--log-group", g]);
    }
    args.extend(extra);
    trailscope(&args)
}

fn print_file(path: &Path, filter: &str) -> Vec<Value> {
    let o = trailscope(&["print", "--since", "1d", "-f", filter, path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    common::jsonl_values(&o)
}

/// The most common value of a field among `values`.
fn common_value(values: &[Value], f: impl Fn(&Value) -> Option<String>) -> String {
    let mut counts: std::collections::HashMap<String, usize> = Default::default();
    for v in values {
        if let Some(s) = f(v) {
            *counts.entry(s).or_default() += 1;
        }
    }
    counts.into_iter().max_by_key(|(k, n)| (*n, k.clone())).unwrap().0
}

const NOT_RECORDS: &[&str] = &[
    "plain text, not JSON",
    r#"{"level":"info","msg":"a JSON line of another program"}"#,
    "{\"eventTime\": broken",
    "[1,2,3]",
    "\u{1b}[31mred\u{1b}[0m",
];

#[test]
fn a_log_group_prints_what_the_same_records_in_a_file_print_event_for_event() {
    let dir = tempfile::tempdir().unwrap();
    let (file, values) = records(dir.path(), 2400, 71);
    let refs: Vec<&Value> = values.iter().collect();
    fill("cl-same", &refs, NOT_RECORDS);
    let name = common_value(&values, |v| v["eventName"].as_str().map(str::to_string));
    let account = values[0]["recipientAccountId"].as_str().unwrap().to_string();
    let error = common_value(&values, |v| v["errorCode"].as_str().map(str::to_string));
    let filters = [
        String::new(),
        format!("name:={name}"),
        format!("-name:={name} has:error"),
        format!("account:={account} region:=us-east-1"),
        format!("error:={error} -user:alice"),
        "name:Describe* readonly:true".to_string(),
        "source:=*.amazonaws.com -region:=eu-west-1".to_string(),
    ];
    let mut pushed = 0;
    for f in &filters {
        let want = print_file(&file, f);
        let o = print_logs(&s3h::moto().url(), &["cl-same"], &["--logs-page-size", "300", "-f", f]);
        let err = common::stderr(&o);
        // The log events that are not records are problems, never fatal.
        assert_eq!(o.status.code(), Some(3), "{f}: {err}");
        assert!(err.contains("5 not CloudTrail records"), "{f}: {err}");
        assert!(!err.contains('\u{1b}'), "{f}: an escape reached the terminal: {err}");
        let got = common::jsonl_values(&o);
        assert!(!want.is_empty() || f.contains("alice"), "{f}: the filter matches nothing: a weak case");
        common::assert_same_selection(&got, &want.iter().collect::<Vec<_>>(), f);
        if err.contains("CloudWatch: {") {
            pushed += 1;
        }
        // Paged with small pages: every page was asked for.
        if f.is_empty() {
            let pages: usize = err
                .lines()
                .find_map(|l| l.strip_prefix("trailscope: log group cl-same (us-east-1): "))
                .and_then(|l| l.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no page count: {err}"));
            assert!(pages >= values.len() / 300, "{pages} pages for {} events: {err}", values.len());
        }
    }
    assert!(pushed >= 5, "most filters are sent as a pattern ({pushed})");
    // The plan says what is sent and what is only checked here.
    let o = print_logs(&s3h::moto().url(), &["cl-same"], &["-f", &format!("name:={name} -user:alice")]);
    let err = common::stderr(&o);
    assert!(err.contains(&format!("CloudWatch: {{ ($.eventName = \"{name}\") }} · local: -user:alice")), "{err}");
}

#[test]
fn two_log_groups_are_merged_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let (file, values) = records(dir.path(), 1200, 72);
    let even: Vec<&Value> = values.iter().step_by(2).collect();
    let odd: Vec<&Value> = values.iter().skip(1).step_by(2).collect();
    fill("cl-merge-a", &even, &[]);
    fill("cl-merge-b", &odd, &[]);
    let want = print_file(&file, "");
    let o = print_logs(&s3h::moto().url(), &["cl-merge-a", "cl-merge-b"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    common::assert_same_selection(&common::jsonl_values(&o), &want.iter().collect::<Vec<_>>(), "two groups");
    // The same group twice is read twice and shown once.
    let o = print_logs(&s3h::moto().url(), &["cl-merge-a", "cl-merge-a"], &[]);
    assert_eq!(common::jsonl_values(&o).len(), even.len(), "{}", common::stderr(&o));
}

#[test]
fn throttling_and_server_errors_are_retried_and_an_expired_token_keeps_what_was_fetched() {
    let dir = tempfile::tempdir().unwrap();
    let (file, values) = records(dir.path(), 900, 73);
    fill("cl-faults", &values.iter().collect::<Vec<_>>(), &[]);
    let want = print_file(&file, "");
    // The first two requests are throttled, the fourth fails with a 503.
    let proxy = Proxy::with_faults(|_, n| match n {
        0 | 1 => Fault::JsonError(400, "ThrottlingException"),
        3 => Fault::JsonError(503, "ServiceUnavailableException"),
        _ => Fault::Pass,
    });
    let o = print_logs(&proxy.url(), &["cl-faults"], &["--logs-page-size", "200"]);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("(3 retried)"), "{err}");
    common::assert_same_selection(&common::jsonl_values(&o), &want.iter().collect::<Vec<_>>(), "after retries");
    // Empty pages that carry a token are not the end: the second to fourth answers are empty.
    let proxy = Proxy::with_faults(|_, n| if (1..=3).contains(&n) { Fault::EmptyPage } else { Fault::Pass });
    let o = print_logs(&proxy.url(), &["cl-faults"], &["--logs-page-size", "200"]);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let pages = values.len().div_ceil(200) + 3;
    assert!(err.contains(&format!(": {pages} pages, {} records", values.len())), "and 3 empty pages: {err}");
    common::assert_same_selection(&common::jsonl_values(&o), &want.iter().collect::<Vec<_>>(), "after empty pages");
    // The credentials expire after two pages: those are shown, the rest is said to be missing.
    let proxy =
        Proxy::with_faults(|_, n| if n >= 2 { Fault::JsonError(400, "ExpiredTokenException") } else { Fault::Pass });
    let o = print_logs(&proxy.url(), &["cl-faults"], &["--logs-page-size", "200"]);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("the credentials expired") && err.contains("stopped after 2 pages"), "{err}");
    let got = common::jsonl_values(&o);
    assert_eq!(got.len(), 400, "{err}");
    let ids: std::collections::HashSet<String> = common::ids(&got).into_iter().collect();
    assert_eq!(ids.len(), got.len(), "duplicates");
    for g in &got {
        assert!(values.contains(g), "a record that is not one of the group's");
    }
}

#[test]
fn a_missing_or_denied_log_group_says_what_to_do() {
    let c = logs();
    s3h::rt().block_on(async {
        c.create_log_group().log_group_name("aws-cloudtrail-logs-4242").send().await.unwrap();
    });
    let o = print_logs(&s3h::moto().url(), &["no-such-group"], &[]);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("no log group no-such-group in us-east-1"), "{err}");
    assert!(err.contains("may be meant") && err.contains("aws-cloudtrail-logs-4242"), "{err}");
    let proxy = Proxy::with_faults(|_, _| Fault::JsonError(400, "AccessDeniedException"));
    let o = print_logs(&proxy.url(), &["aws-cloudtrail-logs-4242"], &[]);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("the identity needs logs:FilterLogEvents"), "{err}");
    // Bad input is a usage error naming it.
    for (bad, says) in [("a b", "--log-group a b"), ("arn:aws:s3:::bucket", "not a log group ARN")] {
        let o = print_logs(&s3h::moto().url(), &[bad], &[]);
        assert_eq!(o.status.code(), Some(2), "{}", common::stderr(&o));
        assert!(common::stderr(&o).contains(says), "{}", common::stderr(&o));
    }
    let o = print_logs(&s3h::moto().url(), &["g"], &["--trail", "t"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(common::stderr(&o).contains("add --logs"), "{}", common::stderr(&o));
    let o = print_logs(&s3h::moto().url(), &["g"], &["--logs-page-size", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(common::stderr(&o).contains("--logs-page-size 0"), "{}", common::stderr(&o));
}

#[test]
fn a_trail_with_logs_reads_the_log_group_describe_trails_names() {
    let dir = tempfile::tempdir().unwrap();
    let (file, values) = records(dir.path(), 300, 74);
    fill("cl-of-trail", &values.iter().collect::<Vec<_>>(), &[]);
    s3h::create_bucket("cl-trail-bucket");
    let ct = {
        let creds = aws_sdk_cloudtrail::config::Credentials::new("test", "test", None, None, "tests");
        let conf = aws_sdk_cloudtrail::Config::builder()
            .behavior_version(aws_sdk_cloudtrail::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudtrail::config::Region::new("us-east-1"))
            .endpoint_url(s3h::moto().url())
            .credentials_provider(creds)
            .build();
        aws_sdk_cloudtrail::Client::from_conf(conf)
    };
    s3h::rt().block_on(async {
        ct.create_trail()
            .name("with-logs")
            .s3_bucket_name("cl-trail-bucket")
            .cloud_watch_logs_log_group_arn("arn:aws:logs:us-east-1:123456789012:log-group:cl-of-trail:*")
            .cloud_watch_logs_role_arn("arn:aws:iam::123456789012:role/ct")
            .send()
            .await
            .unwrap();
        ct.create_trail().name("without-logs").s3_bucket_name("cl-trail-bucket").send().await.unwrap();
    });
    let want = print_file(&file, "");
    let url = s3h::moto().url();
    let o = trailscope(&["print", "--endpoint-url", &url, "--since", "1d", "--trail", "with-logs", "--logs"]);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("trail with-logs delivers to arn:aws:logs:us-east-1:123456789012:log-group:cl-of-trail"),
        "{err}"
    );
    common::assert_same_selection(&common::jsonl_values(&o), &want.iter().collect::<Vec<_>>(), "--trail --logs");
    let o = trailscope(&["print", "--endpoint-url", &url, "--since", "1d", "--trail", "without-logs", "--logs"]);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("does not deliver to CloudWatch Logs"), "{err}");
}

#[test]
fn a_covered_window_asked_again_makes_no_request_and_works_offline() {
    let dir = tempfile::tempdir().unwrap();
    let (file, values) = records(dir.path(), 600, 75);
    fill("cl-cache", &values.iter().collect::<Vec<_>>(), &["not a record"]);
    let cache = dir.path().join("cache");
    let proxy = Proxy::start();
    // A closed window, settled (its end is over 15 minutes ago), with a filter sent as a pattern.
    let since = chrono::Utc::now() - chrono::Duration::hours(8);
    let until = chrono::Utc::now() - chrono::Duration::minutes(30);
    let (since, until) = (since.to_rfc3339(), until.to_rfc3339());
    let name = common_value(&values, |v| v["eventName"].as_str().map(str::to_string));
    let filter = format!("-name:={name}");
    let url = proxy.url();
    let run = |extra: &[&str]| {
        let mut cmd = Command::new(common::bin());
        s3h::aws_env(&mut cmd);
        let mut args = vec!["print", "--endpoint-url", &url, "--log-group", "cl-cache", "--since", &since];
        args.extend(["--until", &until, "-f", &filter, "--logs-page-size", "100"]);
        args.extend(extra);
        cmd.env("TRAILSCOPE_CACHE_DIR", &cache).env_remove("TRAILSCOPE_NO_CACHE").args(&args).output().unwrap()
    };
    let want = {
        let o = trailscope(&["print", "--since", &since, "--until", &until, "-f", &filter, file.to_str().unwrap()]);
        common::jsonl_values(&o)
    };
    assert!(want.len() > 100, "{} events: a weak case", want.len());
    let first = run(&[]);
    let asked = proxy.seen().len();
    assert!(asked >= 5, "{asked} requests: {}", common::stderr(&first));
    common::assert_same_selection(&common::jsonl_values(&first), &want.iter().collect::<Vec<_>>(), "first run");
    proxy.clear();
    let again = run(&[]);
    let err = common::stderr(&again);
    assert_eq!(proxy.seen().len(), 0, "the covered window asked again: {err}");
    assert!(err.contains("0 pages, 0 records,") && err.contains("0 requests"), "{err}");
    assert_eq!(again.status.code(), Some(0), "{err}");
    common::assert_same_selection(&common::jsonl_values(&again), &want.iter().collect::<Vec<_>>(), "from the cache");
    let offline = run(&["--offline"]);
    assert_eq!(proxy.seen().len(), 0);
    assert_eq!(offline.status.code(), Some(0), "{}", common::stderr(&offline));
    common::assert_same_selection(&common::jsonl_values(&offline), &want.iter().collect::<Vec<_>>(), "offline");
    // Another pattern is another query: the store has nothing for it offline.
    let other = {
        let mut cmd = Command::new(common::bin());
        s3h::aws_env(&mut cmd);
        cmd.env("TRAILSCOPE_CACHE_DIR", &cache)
            .env_remove("TRAILSCOPE_NO_CACHE")
            .args(["print", "--endpoint-url", &proxy.url(), "--log-group", "cl-cache", "--offline"])
            .args(["--since", &since, "--until", &until, "-f", "has:error"])
            .output()
            .unwrap()
    };
    let err = common::stderr(&other);
    assert_eq!(other.status.code(), Some(1), "{err}");
    assert!(err.contains("offline: the cache does not have"), "{err}");
}

#[test]
fn a_region_term_reads_only_the_streams_of_that_region() {
    let dir = tempfile::tempdir().unwrap();
    let (file, values) = records(dir.path(), 600, 76);
    fill("cl-streams", &values.iter().collect::<Vec<_>>(), NOT_RECORDS);
    // The streams: one per account and region, and one of us-east-1 for the other messages.
    let mut streams: std::collections::BTreeSet<(String, String)> = values
        .iter()
        .map(|v| (v["recipientAccountId"].as_str().unwrap().into(), v["awsRegion"].as_str().unwrap().into()))
        .collect();
    streams.insert(("111111111111_2".into(), "us-east-1".into()));
    let of = |region: &str| streams.iter().filter(|s| s.1 == region).count();
    assert!(of("us-east-1") >= 3 && of("eu-west-1") >= 2, "{streams:?}: a weak case");
    for f in ["region:=us-east-1", "region:=eu-west-1 name:Describe*", "region:=nowhere-1"] {
        let want = print_file(&file, f);
        let o = print_logs(&s3h::moto().url(), &["cl-streams"], &["-f", f]);
        let err = common::stderr(&o);
        common::assert_same_selection(&common::jsonl_values(&o), &want.iter().collect::<Vec<_>>(), f);
        let line = err.lines().find(|l| l.contains("log group cl-streams")).unwrap_or("");
        let region = f.split_whitespace().next().unwrap().trim_start_matches("region:=");
        let read = format!("{} of {} streams", of(region), streams.len());
        assert!(line.contains(&read), "{f}: {read}: {err}");
        assert_eq!(o.status.code(), Some(if region == "us-east-1" { 3 } else { 0 }), "{f}: {err}");
    }
}

#[test]
fn the_tui_shows_a_log_group_stops_on_esc_and_reads_again_on_r() {
    let dir = tempfile::tempdir().unwrap();
    let (_, values) = records(dir.path(), 1500, 77);
    fill("cl-tui", &values.iter().collect::<Vec<_>>(), &[]);
    let name = common_value(&values, |v| v["eventName"].as_str().map(str::to_string));
    let socket = format!("trailscope-logs-{}", std::process::id());
    let tmux = |args: &[&str]| {
        let mut cmd = Command::new("tmux");
        s3h::aws_env(&mut cmd).env("TRAILSCOPE_NO_CACHE", "1").arg("-L").arg(&socket).args(args);
        cmd.output().expect("tmux is required (.ci/run installs it)")
    };
    let screen = || String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", "cl"]).stdout).into_owned();
    let wait_for = |what: &str| {
        let start = std::time::Instant::now();
        loop {
            let s = screen();
            if s.contains(what) {
                return s;
            }
            assert!(start.elapsed().as_secs() < 90, "timed out waiting for {what:?}; screen:\n{s}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    // Pages of 10 at 5 a second: 30 s for the whole group, time to stop it.
    let app = format!(
        "{} --endpoint-url {} --region us-east-1 --log-group cl-tui --logs-page-size 10; echo EXITED:$?; sleep 30",
        common::bin(),
        s3h::moto().url()
    );
    assert!(tmux(&["-f", "/dev/null", "new-session", "-d", "-s", "cl", "-x", "200", "-y", "40", &app])
        .status
        .success());
    let pages = |s: &str| -> usize {
        let i = s.find("logs: 1 group, ").unwrap_or_else(|| panic!("no status:\n{s}"));
        s[i + 15..].split(' ').next().unwrap().parse().unwrap()
    };
    // A screenful and a few more pages are read, then reading waits for the list to be scrolled.
    wait_for("more as you scroll");
    // The page asked for before the list was full still comes.
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let waiting = pages(&screen());
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(pages(&screen()), waiting, "no page is read while the list is not scrolled");
    assert!(waiting < values.len() / 10 / 2, "{waiting} pages before scrolling");
    tmux(&["send-keys", "-t", "cl", "G"]);
    let start = std::time::Instant::now();
    while pages(&screen()) <= waiting {
        assert!(start.elapsed().as_secs() < 60, "scrolling to the end reads more:\n{}", screen());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    tmux(&["send-keys", "-t", "cl", "Escape"]);
    wait_for("1 input with problems (E)");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let stopped = pages(&screen());
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let s = screen();
    assert_eq!(pages(&s), stopped, "no page is read after Esc:\n{s}");
    assert!(stopped < values.len() / 10, "stopped before the end:\n{s}");
    // A new filter, then r: the window is read again with its pattern.
    tmux(&["send-keys", "-t", "cl", "/"]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    tmux(&["send-keys", "-t", "cl", &format!("name:={name}"), "Enter"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    tmux(&["send-keys", "-t", "cl", "r"]);
    let s = wait_for(&format!("CloudWatch: {{ ($.eventName = \"{name}\") }} · logs: 1 group, "));
    assert!(!s.contains("with problems"), "the problems of the reading before are gone:\n{s}");
    tmux(&["send-keys", "-t", "cl", "q"]);
    wait_for("EXITED:0");
    tmux(&["kill-server"]);
}
