//! Live event history end to end: the real `trailscope print` binary, through the real
//! aws-sdk-cloudtrail, over HTTP, against the project's LookupEvents double on loopback.

mod common;
use common::*;
use serde_json::Value;
use std::collections::HashSet;
use std::process::{Command, Output};
use trailscope_double::{Double, DoubleConfig, Faults, LogEntry, Trigger};

struct Fixture {
    _dir: tempfile::TempDir,
    archive: std::path::PathBuf,
    records: Vec<Value>,
    rt: tokio::runtime::Runtime,
}

fn fixture(events: usize, regions: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let archive = recent_archive(dir.path(), events, regions, 11, 3600, 20 * 3600);
    let records = jsonl_values(&run(&["print", archive.to_str().unwrap()]));
    assert_eq!(records.len(), events);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    Fixture { _dir: dir, archive, records, rt }
}

impl Fixture {
    fn double(&self, cfg: DoubleConfig) -> Double {
        self.rt.block_on(Double::start(&self.archive, 0, cfg)).unwrap()
    }
    fn in_region<'a>(&'a self, region: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.records.iter().filter(move |r| r["awsRegion"] == region)
    }
    fn regions(&self) -> Vec<String> {
        let mut r: Vec<String> = self.records.iter().map(|v| v["awsRegion"].as_str().unwrap().to_string()).collect();
        r.sort();
        r.dedup();
        r
    }
}

fn live(endpoint: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(bin());
    // These tests are about fetching; tests/cache.rs is about the cache.
    cmd.arg("print").arg("--no-cache").arg("--endpoint-url").arg(endpoint).args(args);
    for v in ["AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"] {
        cmd.env_remove(v);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "AKIDTRAILSCOPETEST")
        .env("AWS_SECRET_ACCESS_KEY", "not-a-secret")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd.output().unwrap()
}

/// No one-second window holds more than `max` requests of a region.
/// Requests to one region kept to AWS's limit: the double (a token bucket of 2 at 2 per second,
/// as AWS throttles) never throttled one, and they were spread out, not sent back to back: on
/// average at most one per 400 ms (the client spaces them 520 ms apart when sending; arrival
/// times jitter on a busy machine, so a one-second window could see three).
fn assert_paced(log: &[LogEntry], region: &str) {
    let mine: Vec<&LogEntry> = log.iter().filter(|e| e.region.as_deref() == Some(region)).collect();
    assert!(
        mine.iter().all(|e| e.error.as_deref() != Some("ThrottlingException")),
        "{region}: a request was throttled"
    );
    if let (Some(first), Some(last)) = (mine.first(), mine.last()) {
        let span = last.time_ms - first.time_ms;
        assert!(span >= (mine.len() as u64 - 1) * 400, "{region}: {} requests in {span} ms", mine.len());
    }
}

#[test]
fn one_region_many_pages_exactly_once() {
    let f = fixture(600, 2);
    let region = f.regions()[0].clone();
    let d = f.double(DoubleConfig::default());
    let o = live(&d.endpoint(), &["--region", &region, "--since", "2d"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let expected: Vec<&Value> = f.in_region(&region).collect();
    assert!(expected.len() > 150, "several pages");
    assert_same_selection(&jsonl_values(&o), &expected, "all events");
    let log = d.log();
    assert_eq!(log.len(), expected.len().div_ceil(50), "one request per page, no page fetched twice");
    assert!(log.iter().all(|e| e.status == Some(200) && e.region.as_deref() == Some(region.as_str())));
    assert!(log.iter().skip(1).all(|e| e.token), "pages after the first use NextToken");
    assert_paced(&log, &region);
    assert!(stderr(&o).contains("AWS: all events"), "{}", stderr(&o));
    d.shutdown();
}

#[test]
fn every_lookup_attribute_goes_to_aws_and_the_rest_is_local() {
    let f = fixture(400, 1);
    let region = f.regions()[0].clone();
    let d = f.double(DoubleConfig::default());
    let pick = |pred: &dyn Fn(&Value) -> bool| f.records.iter().find(|v| pred(v)).unwrap().clone();
    let with_key = pick(&|v| v["userIdentity"]["accessKeyId"].is_string());
    let with_user = pick(&|v| v["userIdentity"]["type"] == "IAMUser" && v["userIdentity"]["userName"].is_string());
    let with_res = pick(&|v| v["resources"][0]["ARN"].is_string());
    let s = |v: &Value, p: &[&str]| {
        let mut c = v;
        for k in p {
            c = match k.parse::<usize>() {
                Ok(i) => &c[i],
                Err(_) => &c[*k],
            };
        }
        c.as_str().unwrap().to_string()
    };
    // (filter, the lookup attribute it must send, which records it selects)
    type Case = (String, String, Box<dyn Fn(&Value) -> bool>);
    let cases: Vec<Case> = vec![
        (format!("id:={}", s(&with_key, &["eventID"])), format!("EventId={}", s(&with_key, &["eventID"])), {
            let id = s(&with_key, &["eventID"]);
            Box::new(move |v| v["eventID"] == id.as_str())
        }),
        (format!("name:={}", s(&with_key, &["eventName"])), format!("EventName={}", s(&with_key, &["eventName"])), {
            let n = s(&with_key, &["eventName"]);
            Box::new(move |v| v["eventName"] == n.as_str())
        }),
        (
            format!("key:={}", s(&with_key, &["userIdentity", "accessKeyId"])),
            format!("AccessKeyId={}", s(&with_key, &["userIdentity", "accessKeyId"])),
            {
                let k = s(&with_key, &["userIdentity", "accessKeyId"]);
                Box::new(move |v| v["userIdentity"]["accessKeyId"] == k.as_str())
            },
        ),
        (
            format!("user:={}", s(&with_user, &["userIdentity", "userName"])),
            format!("Username={}", s(&with_user, &["userIdentity", "userName"])),
            {
                let u = s(&with_user, &["userIdentity", "userName"]);
                Box::new(move |v| v["userIdentity"]["userName"] == u.as_str() || v["userIdentity"]["arn"] == u.as_str())
            },
        ),
        (
            "source:=iam.amazonaws.com".into(),
            "EventSource=iam.amazonaws.com".into(),
            Box::new(|v| v["eventSource"] == "iam.amazonaws.com"),
        ),
        (
            "readonly:false has:error".into(),
            "ReadOnly=false".into(),
            Box::new(|v| v["readOnly"] == false && v["errorCode"].is_string()),
        ),
        (
            format!("resource:={}", s(&with_res, &["resources", "0", "ARN"])),
            format!("ResourceName={}", s(&with_res, &["resources", "0", "ARN"])),
            Box::new({
                let a = s(&with_res, &["resources", "0", "ARN"]);
                move |v| {
                    v["resources"].as_array().is_some_and(|r| r.iter().any(|x| x["ARN"] == a.as_str()))
                        || v["requestParameters"].as_object().is_some_and(|p| p.values().any(|x| x == a.as_str()))
                }
            }),
        ),
    ];
    let mut seen = 0;
    for (filter, attribute, pred) in &cases {
        let o = live(&d.endpoint(), &["--region", &region, "--since", "2d", "--filter", filter]);
        assert_eq!(o.status.code(), Some(0), "{filter}: {}", stderr(&o));
        let expected: Vec<&Value> = f.in_region(&region).filter(|v| pred(v)).collect();
        assert!(!expected.is_empty(), "{filter}: the case selects something");
        assert_same_selection(&jsonl_values(&o), &expected, filter);
        let log = d.log();
        let new = &log[seen..];
        seen = log.len();
        assert!(
            !new.is_empty() && new.iter().all(|e| e.attribute.as_deref() == Some(attribute.as_str())),
            "{filter}: sent {:?}",
            new
        );
        assert!(stderr(&o).contains(&format!("AWS: {attribute}")), "{filter}: the plan is shown: {}", stderr(&o));
    }
    d.shutdown();
}

#[test]
fn twenty_pages_paced_close_to_two_per_second() {
    let f = fixture(1050, 1);
    let region = f.regions()[0].clone();
    let d = f.double(DoubleConfig::default());
    let o = live(&d.endpoint(), &["--region", &region, "--since", "2d"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(jsonl_values(&o).len(), 1050);
    let log = d.log();
    assert_eq!(log.len(), 21);
    assert!(log.iter().all(|e| e.error.is_none()), "no request was throttled");
    assert_paced(&log, &region);
    let span = (log.last().unwrap().time_ms - log[0].time_ms) as f64 / 1000.0;
    let rate = (log.len() - 1) as f64 / span;
    assert!(rate > 1.7 && rate <= 2.0, "average rate {rate:.2}/s");
    d.shutdown();
}

#[test]
fn throttling_5xx_and_dropped_connections_lose_no_page() {
    let f = fixture(500, 1);
    let region = f.regions()[0].clone();
    let faults = Faults {
        error_503: Trigger::EveryNth(4),
        error_500: Trigger::EveryNth(9),
        drop: Trigger::EveryNth(7),
        drop_mid_body: Trigger::EveryNth(6),
        malformed: Trigger::EveryNth(11),
        ..Default::default()
    };
    // A double stricter than AWS: one request a second, so the client is throttled too.
    let d = f.double(DoubleConfig { rate_per_sec: 1.0, burst: 1, faults, ..Default::default() });
    let o = live(&d.endpoint(), &["--region", &region, "--since", "2d"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let expected: Vec<&Value> = f.in_region(&region).collect();
    assert_same_selection(&jsonl_values(&o), &expected, "with faults");
    let log = d.log();
    assert!(log.iter().any(|e| e.error.as_deref() == Some("ThrottlingException")), "the client was throttled");
    assert!(log.iter().any(|e| e.status == Some(503)));
    assert!(log.iter().any(|e| e.status.is_none()), "a connection was dropped");
    d.shutdown();
}

#[test]
fn two_regions_are_fetched_concurrently_and_merged() {
    let f = fixture(600, 2);
    let regions = f.regions();
    assert_eq!(regions.len(), 2);
    let d = f.double(DoubleConfig::default());
    let o = live(&d.endpoint(), &["--region", &regions.join(","), "--since", "2d"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let expected: Vec<&Value> = f.records.iter().collect();
    assert_same_selection(&jsonl_values(&o), &expected, "two regions");
    let log = d.log();
    let first_b = log.iter().position(|e| e.region.as_deref() == Some(regions[1].as_str())).unwrap();
    let last_a = log.iter().rposition(|e| e.region.as_deref() == Some(regions[0].as_str())).unwrap();
    assert!(first_b < last_a, "the regions were fetched at the same time, not one after the other");
    for r in &regions {
        assert_paced(&log, r);
    }
    d.shutdown();
}

#[test]
fn errors_are_explained() {
    let f = fixture(200, 1);
    let region = f.regions()[0].clone();
    let d =
        f.double(DoubleConfig { faults: Faults { expire_after: Some(1), ..Default::default() }, ..Default::default() });
    let o = live(&d.endpoint(), &["--region", &region, "--since", "2d"]);
    assert_eq!(o.status.code(), Some(3), "one page read, then the token expired: {}", stderr(&o));
    assert_eq!(jsonl_values(&o).len(), 50, "the page read before is kept");
    assert!(stderr(&o).contains("credentials have expired"), "{}", stderr(&o));
    d.shutdown();

    let d = f.double(DoubleConfig::default());
    let o = Command::new(bin())
        .args(["print", "--no-cache", "--endpoint-url", &d.endpoint(), "--region", &region])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("no AWS credentials found"), "{}", stderr(&o));

    d.set_faults(Faults { deny_keys: vec!["AKIDTRAILSCOPETEST".into()], ..Default::default() });
    let o = live(&d.endpoint(), &["--region", &region, "--since", "2d"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("AccessDenied") && stderr(&o).contains("cloudtrail:LookupEvents permission"),
        "{}",
        stderr(&o)
    );
    d.set_faults(Faults::default());

    let o = live(&d.endpoint(), &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no region"), "{}", stderr(&o));

    let o = live(&d.endpoint(), &["--region", &region, "--since", "2d", "--filter", "name:=NoSuchCall"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("us-east-1") && stderr(&o).contains("data events"), "{}", stderr(&o));
    d.shutdown();
}

#[test]
fn region_all_falls_back_to_the_built_in_list_when_list_regions_is_denied() {
    let f = fixture(600, 2);
    let d = f.double(DoubleConfig::default());
    // The double does not serve the Account API, so ListRegions fails as a denied call would.
    let o = live(&d.endpoint(), &["--region", "all", "--since", "2d"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let expected: Vec<&Value> = f.records.iter().collect();
    assert_same_selection(&jsonl_values(&o), &expected, "--region all");
    let asked: HashSet<String> = d.log().iter().filter_map(|e| e.region.clone()).collect();
    assert_eq!(asked.len(), trailscope::source::lookup::BUILTIN_REGIONS.len(), "{asked:?}");
    d.shutdown();
}

#[test]
fn answers_that_never_come_time_out_and_are_asked_again() {
    let f = fixture(300, 1);
    let region = f.regions()[0].clone();
    let faults = Faults { delay: Trigger::EveryNth(2), delay_ms: 60_000, ..Default::default() };
    let d = f.double(DoubleConfig { faults, ..Default::default() });
    let start = std::time::Instant::now();
    let o = live(&d.endpoint(), &["--region", &region, "--since", "2d", "--timeout", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(start.elapsed().as_secs() < 40, "each stuck request was given up after the timeout");
    let expected: Vec<&Value> = f.in_region(&region).collect();
    assert_same_selection(&jsonl_values(&o), &expected, "with stuck responses");
    // Every second request is held back: the client asked again for those pages.
    let pages = expected.len().div_ceil(50);
    let summary = stderr(&o);
    let requests: usize =
        summary.split(" requests)").next().and_then(|s| s.rsplit(' ').next()).and_then(|n| n.parse().ok()).unwrap();
    assert!(requests > pages, "{requests} requests for {pages} pages: {summary}");
    d.shutdown();
}

#[test]
fn an_unknown_profile_is_named_with_the_defined_ones() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, "[profile prod]\nregion = us-east-1\n\n[default]\nregion = eu-west-1\n").unwrap();
    let o = Command::new(bin())
        .args(["print", "--no-cache", "--endpoint-url", "http://127.0.0.1:9", "--profile", "prdo"])
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("profile prdo is not in the AWS config or credentials file (defined there: default, prod)"),
        "{}",
        stderr(&o)
    );
}

/// An instance metadata service that refuses every request (as on a host where it is turned
/// off or gives no role): its address.
fn refusing_imds() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    format!("http://{addr}")
}

/// With no credentials anywhere, and the instance metadata service (asked last) refusing,
/// print says what to do, once, as for an unknown profile, without the SDK's chain of reasons,
/// and exits 1 without asking CloudTrail.
#[test]
fn no_credentials_at_all_is_explained() {
    let f = fixture(50, 1);
    let region = f.regions()[0].clone();
    let d = f.double(DoubleConfig::default());
    let home = tempfile::tempdir().unwrap();
    let o = Command::new(bin())
        .args(["print", "--no-cache", "--endpoint-url", &d.endpoint(), "--region", &region])
        .env_clear()
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", refusing_imds())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("trailscope: no AWS credentials found: set AWS_PROFILE or --profile"), "{err}");
    assert!(!err.contains("dispatch failure") && !err.contains("IMDS"), "{err}");
    assert!(d.log().is_empty(), "CloudTrail was not asked: {:?}", d.log().len());
    d.shutdown();
}

/// `trailscope detect` over live history finds, event for event, what it finds over the same
/// events read from the archive: detections hang off the common pipeline, not one source.
#[test]
fn detect_over_live_history_equals_detect_over_the_archive() {
    let f = fixture(300, 1);
    let region = f.regions()[0].clone();
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sigma/rules");
    let rules = rules.to_str().unwrap();
    let pairs = |o: &Output| -> std::collections::BTreeSet<(String, String)> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (v["rule_id"].as_str().unwrap().to_string(), v["eventID"].as_str().unwrap().to_string())
            })
            .collect()
    };
    let files = run(&["detect", "--no-cache", "--rules", rules, f.archive.to_str().unwrap()]);
    let expected = pairs(&files);
    assert!(!expected.is_empty(), "the generated events trip some rule: {}", stderr(&files));
    assert_eq!(files.status.code(), Some(5));
    let d = f.double(DoubleConfig::default());
    let mut cmd = Command::new(bin());
    cmd.args(["detect", "--no-cache", "--endpoint-url", &d.endpoint(), "--region", &region, "--since", "2d"]);
    cmd.args(["--rules", rules]);
    for v in ["AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"] {
        cmd.env_remove(v);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "AKIDTRAILSCOPETEST")
        .env("AWS_SECRET_ACCESS_KEY", "not-a-secret")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert_eq!(pairs(&o), expected);
    d.shutdown();
}
