//! The double through the real `aws-sdk-cloudtrail` client over HTTP, on a small archive of
//! real records (`../shared/data/stratus-red-team` beside the checkout, copied into a tempdir
//! at test time).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_cloudtrail::config::retry::RetryConfig;
use aws_sdk_cloudtrail::config::{Credentials, Region};
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{EventCategory, LookupAttribute, LookupAttributeKey};
use aws_sdk_cloudtrail::Client;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

const INSIGHT_ID: &str = "0b1c2d3e-0000-4000-8000-1a2b3c4d5e6f";
const INSIGHT_REGION: &str = "us-north-2r";

fn stratus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/stratus-red-team")
}

fn secs(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp()
}

/// "Now" for most tests: every July/August record is inside the 90 days, November's are
/// in the future.
fn now() -> i64 {
    secs("2024-10-27T00:00:00Z")
}

/// A tempdir archive of every stratus record plus one synthetic Insights event; the records.
fn archive() -> (tempfile::TempDir, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<_> = std::fs::read_dir(stratus_dir())
        .expect("real test data in ../shared/data/stratus-red-team")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut records = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        records.extend(serde_json::from_slice::<Vec<Value>>(&bytes).unwrap());
        std::fs::write(dir.path().join(f.file_name().unwrap()), bytes).unwrap();
    }
    let insight = json!({
        "eventVersion": "1.08", "eventTime": "2024-08-10T12:00:00Z", "awsRegion": INSIGHT_REGION,
        "eventID": INSIGHT_ID, "eventType": "AwsCloudTrailInsight", "recipientAccountId": "123456789012",
        "sharedEventID": "5f6e7d8c-0000-4000-8000-000000000001",
        "insightDetails": {"state": "Start", "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances",
            "insightType": "ApiCallRateInsight"},
        "eventCategory": "Insight"
    });
    std::fs::write(dir.path().join("insight.json"), serde_json::to_vec(&json!([insight])).unwrap()).unwrap();
    records.push(insight);
    (dir, records)
}

fn fast_cfg() -> DoubleConfig {
    DoubleConfig { rate_per_sec: f64::INFINITY, burst: 1000, now: Some(now()), faults: Faults::default() }
}

async fn start(cfg: DoubleConfig) -> (Double, Vec<Value>, tempfile::TempDir) {
    let (dir, records) = archive();
    let d = Double::start(dir.path(), 0, cfg).await.unwrap();
    (d, records, dir)
}

fn client_with(d: &Double, region: &str, key: &str, retries: bool) -> Client {
    // Enough attempts that requests throttled together all get through in the end.
    let retry = if retries { RetryConfig::standard().with_max_attempts(10) } else { RetryConfig::disabled() };
    let conf = aws_sdk_cloudtrail::Config::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(d.endpoint())
        .credentials_provider(Credentials::new(key, "secret", None, None, "test"))
        .retry_config(retry)
        .build();
    Client::from_conf(conf)
}

fn client(d: &Double, region: &str) -> Client {
    client_with(d, region, "AKIDTEST", false)
}

fn attr(k: &str, v: &str) -> LookupAttribute {
    LookupAttribute::builder().attribute_key(LookupAttributeKey::from(k)).attribute_value(v).build().unwrap()
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

fn time_of(r: &Value) -> i64 {
    secs(str_at(r, &["eventTime"]).unwrap())
}

/// The lookup view of a raw record, computed here independently of the double.
fn attr_values(r: &Value, key: &str) -> Vec<String> {
    let s = |p: &[&str]| str_at(r, p).map(str::to_string);
    let one = |o: Option<String>| o.into_iter().collect::<Vec<_>>();
    match key {
        "EventId" => one(s(&["eventID"])),
        "EventName" => one(s(&["eventName"]).or(s(&["insightDetails", "eventName"]))),
        "EventSource" => one(s(&["eventSource"]).or(s(&["insightDetails", "eventSource"]))),
        "ReadOnly" => one(r.get("readOnly").and_then(Value::as_bool).map(|b| b.to_string())),
        "AccessKeyId" => one(s(&["userIdentity", "accessKeyId"])),
        "Username" => one(match str_at(r, &["userIdentity", "type"]) {
            Some("Root") => Some("root".into()),
            Some("AssumedRole") => s(&["userIdentity", "arn"]).map(|a| a.rsplit('/').next().unwrap().to_string()),
            Some("FederatedUser") => s(&["userIdentity", "arn"]).map(|a| a.rsplit('/').next().unwrap().to_string()),
            _ => s(&["userIdentity", "userName"]),
        }),
        "ResourceType" | "ResourceName" => {
            let field = if key == "ResourceType" { "type" } else { "ARN" };
            r.get("resources")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| str_at(x, &[field]).map(str::to_string)).collect())
                .unwrap_or_default()
        }
        _ => unreachable!(),
    }
}

/// What the service should return, newest first (ties by eventID).
fn expected(
    records: &[Value],
    region: &str,
    attr: Option<(&str, &str)>,
    start: Option<i64>,
    end: Option<i64>,
    insight: bool,
    now: i64,
) -> Vec<String> {
    let lo = start.unwrap_or(i64::MIN).max(now - 90 * 86400);
    let hi = end.unwrap_or(i64::MAX).min(now);
    let mut sel: Vec<&Value> = records
        .iter()
        .filter(|r| str_at(r, &["awsRegion"]) == Some(region))
        .filter(|r| (str_at(r, &["eventCategory"]) == Some("Insight")) == insight)
        .filter(|r| (lo..=hi).contains(&time_of(r)))
        .filter(|r| attr.is_none_or(|(k, v)| attr_values(r, k).iter().any(|x| x == v)))
        .collect();
    sel.sort_by(|a, b| time_of(b).cmp(&time_of(a)).then(str_at(a, &["eventID"]).cmp(&str_at(b, &["eventID"]))));
    sel.iter().map(|r| str_at(r, &["eventID"]).unwrap().to_string()).collect()
}

/// Every page of a lookup with MaxResults `page`; the ids and the page sizes.
async fn all_pages(
    c: &Client,
    attr_kv: Option<(&str, &str)>,
    start: Option<i64>,
    end: Option<i64>,
    insight: bool,
    page: i32,
) -> (Vec<String>, Vec<usize>) {
    let mut ids = Vec::new();
    let mut sizes = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = c.lookup_events().max_results(page).set_next_token(token.clone());
        if let Some((k, v)) = attr_kv {
            req = req.lookup_attributes(attr(k, v));
        }
        if let Some(s) = start {
            req = req.start_time(DateTime::from_secs(s));
        }
        if let Some(e) = end {
            req = req.end_time(DateTime::from_secs(e));
        }
        if insight {
            req = req.event_category(EventCategory::Insight);
        }
        let out = req.send().await.unwrap();
        sizes.push(out.events().len());
        ids.extend(out.events().iter().map(|e| e.event_id().unwrap().to_string()));
        match out.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
        assert!(sizes.len() < 1000, "paging does not end");
    }
    (ids, sizes)
}

fn biggest_region(records: &[Value]) -> String {
    let mut counts = std::collections::HashMap::<&str, usize>::new();
    for r in records {
        *counts.entry(str_at(r, &["awsRegion"]).unwrap()).or_default() += 1;
    }
    counts.into_iter().max_by_key(|&(r, n)| (n, std::cmp::Reverse(r))).unwrap().0.to_string()
}

async fn code_of<T: std::fmt::Debug>(
    r: Result<T, aws_sdk_cloudtrail::error::SdkError<aws_sdk_cloudtrail::operation::lookup_events::LookupEventsError>>,
) -> String {
    let err = r.expect_err("expected an error").into_service_error();
    err.meta().code().unwrap_or("<no code>").to_string()
}

#[tokio::test]
async fn pages_cover_region_newest_first_without_gaps() {
    let (d, records, _dir) = start(fast_cfg()).await;
    let region = biggest_region(&records);
    let c = client(&d, &region);
    let want = expected(&records, &region, None, None, None, false, now());
    assert!(want.len() > 20, "{region}: {}", want.len());
    let (ids, sizes) = all_pages(&c, None, None, None, false, 7).await;
    assert_eq!(ids, want);
    assert!(sizes.iter().all(|&n| n <= 7) && sizes[..sizes.len() - 1].iter().all(|&n| n == 7), "{sizes:?}");
    // Default MaxResults is 50; the SDK paginator gives the same sequence.
    let (ids50, sizes50) = all_pages(&c, None, None, None, false, 50).await;
    assert_eq!((ids50, sizes50[0]), (want.clone(), 50.min(want.len())));
    let via_paginator: Vec<String> = c
        .lookup_events()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .map(|e| e.event_id().unwrap().to_string())
        .collect();
    assert_eq!(via_paginator, want);

    // Every field of every event, against its raw record.
    let out = c.lookup_events().send().await.unwrap();
    for ev in out.events() {
        let id = ev.event_id().unwrap();
        let rec = records.iter().find(|r| str_at(r, &["eventID"]) == Some(id)).unwrap();
        let parsed: Value = serde_json::from_str(ev.cloud_trail_event().unwrap()).unwrap();
        assert_eq!(&parsed, rec);
        assert_eq!(ev.event_time().unwrap().secs(), time_of(rec));
        assert_eq!(ev.event_name(), str_at(rec, &["eventName"]));
        assert_eq!(ev.event_source(), str_at(rec, &["eventSource"]));
        assert_eq!(ev.read_only().map(str::to_string), attr_values(rec, "ReadOnly").pop());
        assert_eq!(ev.access_key_id().map(str::to_string), attr_values(rec, "AccessKeyId").pop());
        assert_eq!(ev.username().map(str::to_string), attr_values(rec, "Username").pop());
        let names: Vec<String> = ev.resources().iter().filter_map(|r| r.resource_name().map(str::to_string)).collect();
        assert_eq!(names, attr_values(rec, "ResourceName"));
    }
    // Another region sees only its own events; an unknown region sees none.
    let (none, _) = all_pages(&client(&d, "us-east-1"), None, None, None, false, 50).await;
    assert!(none.is_empty());
    assert!(d.log().iter().all(|e| e.status == Some(200)));
}

#[tokio::test]
async fn each_lookup_attribute_selects_exactly() {
    let (d, records, _dir) = start(fast_cfg()).await;
    let keys =
        ["EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"];
    for key in keys {
        // A value of this attribute on a record inside the window, and its region.
        let (region, value) = records
            .iter()
            .filter(|r| str_at(r, &["eventCategory"]) != Some("Insight") && time_of(r) <= now())
            .find_map(|r| attr_values(r, key).pop().map(|v| (str_at(r, &["awsRegion"]).unwrap().to_string(), v)))
            .unwrap_or_else(|| panic!("no record has {key}"));
        let c = client(&d, &region);
        let want = expected(&records, &region, Some((key, &value)), None, None, false, now());
        assert!(!want.is_empty());
        let (ids, _) = all_pages(&c, Some((key, &value)), None, None, false, 3).await;
        assert_eq!(ids, want, "{key}={value} in {region}");
        // Case-sensitive: a different case matches nothing.
        let other = if value.to_lowercase() != value { value.to_lowercase() } else { value.to_uppercase() };
        if other != value {
            let (ids, _) = all_pages(&c, Some((key, &other)), None, None, false, 50).await;
            assert!(ids.is_empty(), "{key}={other}");
        }
    }
    // ReadOnly=false in the biggest region: a larger multi-page selection.
    let region = biggest_region(&records);
    let want = expected(&records, &region, Some(("ReadOnly", "false")), None, None, false, now());
    let (ids, _) = all_pages(&client(&d, &region), Some(("ReadOnly", "false")), None, None, false, 4).await;
    assert_eq!(ids, want);
}

#[tokio::test]
async fn time_window_is_inclusive_and_bounded_by_90_days() {
    let (d, records, _dir) = start(fast_cfg()).await;
    let region = biggest_region(&records);
    let c = client(&d, &region);
    let all = expected(&records, &region, None, None, None, false, now());
    let pick = records.iter().find(|r| str_at(r, &["eventID"]) == Some(all[all.len() / 2].as_str())).unwrap();
    let t = time_of(pick);
    // StartTime = EndTime = the event's time: it (and any other in that second) comes back.
    let (ids, _) = all_pages(&c, None, Some(t), Some(t), false, 50).await;
    assert!(ids.contains(&all[all.len() / 2]));
    assert_eq!(ids, expected(&records, &region, None, Some(t), Some(t), false, now()));
    let (ids, _) = all_pages(&c, None, Some(t - 3600), Some(t + 3600), false, 2).await;
    assert_eq!(ids, expected(&records, &region, None, Some(t - 3600), Some(t + 3600), false, now()));
    let (ids, _) = all_pages(&c, None, Some(t + 1), None, false, 50).await;
    assert!(!ids.contains(&all[all.len() / 2]));

    // A later "now": only the last 90 days, whatever StartTime says. The line is drawn
    // through the middle of a region's events.
    let mut times = std::collections::BTreeMap::<&str, Vec<i64>>::new();
    for r in &records {
        times.entry(str_at(r, &["awsRegion"]).unwrap()).or_default().push(time_of(r));
    }
    let (recent_region, cut) = times
        .iter()
        .map(|(reg, ts)| (*reg, ts.iter().min().unwrap(), ts.iter().max().unwrap()))
        .find(|(_, lo, hi)| *hi - *lo > 3600)
        .map(|(reg, lo, hi)| (reg, (lo + hi) / 2))
        .expect("a region with events hours apart");
    let late = cut + 90 * 86400;
    let d2 = Double::start(_dir.path(), 0, DoubleConfig { now: Some(late), ..fast_cfg() }).await.unwrap();
    let c2 = client(&d2, recent_region);
    let want = expected(&records, recent_region, None, None, None, false, late);
    assert!(!want.is_empty());
    let older = records.iter().filter(|r| str_at(r, &["awsRegion"]) == Some(recent_region)).count();
    assert!(older > want.len(), "some of the region's events must be older than 90 days");
    let (ids, _) = all_pages(&c2, None, None, None, false, 5).await;
    assert_eq!(ids, want);
    let (ids, _) = all_pages(&c2, None, Some(secs("2024-01-01T00:00:00Z")), None, false, 5).await;
    assert_eq!(ids, want);
    let (ids, _) = all_pages(&c2, None, None, Some(late - 100 * 86400), false, 5).await;
    assert!(ids.is_empty());
}

#[tokio::test]
async fn insight_events_only_with_event_category() {
    let (d, records, _dir) = start(fast_cfg()).await;
    let c = client(&d, INSIGHT_REGION);
    let (ids, _) = all_pages(&c, None, None, None, false, 50).await;
    assert!(!ids.is_empty() && !ids.iter().any(|i| i == INSIGHT_ID));
    assert_eq!(ids, expected(&records, INSIGHT_REGION, None, None, None, false, now()));
    let (ids, _) = all_pages(&c, None, None, None, true, 50).await;
    assert_eq!(ids, [INSIGHT_ID]);
    let (ids, _) = all_pages(&c, Some(("EventName", "RunInstances")), None, None, true, 50).await;
    assert_eq!(ids, [INSIGHT_ID]);
    let out = c.lookup_events().event_category(EventCategory::Insight).send().await.unwrap();
    assert_eq!(out.events()[0].event_source(), Some("ec2.amazonaws.com"));
}

#[tokio::test]
async fn errors_have_the_service_names() {
    let (d, records, _dir) = start(fast_cfg()).await;
    let region = biggest_region(&records);
    let c = client(&d, &region);
    let two = c.lookup_events().lookup_attributes(attr("EventName", "X")).lookup_attributes(attr("ReadOnly", "true"));
    assert_eq!(code_of(two.send().await).await, "InvalidLookupAttributesException");
    let unknown = c.lookup_events().lookup_attributes(attr("Region", "x"));
    assert_eq!(code_of(unknown.send().await).await, "InvalidLookupAttributesException");
    let backwards = c.lookup_events().start_time(DateTime::from_secs(now())).end_time(DateTime::from_secs(now() - 60));
    assert_eq!(code_of(backwards.send().await).await, "InvalidTimeRangeException");
    for m in [0, 51, -1] {
        assert_eq!(code_of(c.lookup_events().max_results(m).send().await).await, "InvalidMaxResultsException");
    }
    let cat = c.lookup_events().event_category(EventCategory::from("management"));
    assert_eq!(code_of(cat.send().await).await, "InvalidEventCategoryException");
    assert_eq!(code_of(c.lookup_events().next_token("garbage").send().await).await, "InvalidNextTokenException");

    // A token is bound to attributes, times, category and region, but not to MaxResults.
    let first = c.lookup_events().max_results(3).send().await.unwrap();
    let token = first.next_token().unwrap().to_string();
    let next = |m: i32| c.lookup_events().max_results(m).next_token(&token);
    let again = next(3).send().await.unwrap();
    assert_eq!(next(3).send().await.unwrap().events(), again.events(), "same token, same page");
    assert_eq!(next(1).send().await.unwrap().events()[0], again.events()[0]);
    let with_attr = next(3).lookup_attributes(attr("ReadOnly", "true"));
    assert_eq!(code_of(with_attr.send().await).await, "InvalidNextTokenException");
    let with_time = next(3).start_time(DateTime::from_secs(0));
    assert_eq!(code_of(with_time.send().await).await, "InvalidNextTokenException");
    let with_cat = next(3).event_category(EventCategory::Insight);
    assert_eq!(code_of(with_cat.send().await).await, "InvalidNextTokenException");
    let elsewhere = client(&d, "us-east-1").lookup_events().next_token(&token).send().await;
    assert_eq!(code_of(elsewhere).await, "InvalidNextTokenException");
    let mut tampered = token.clone().into_bytes();
    tampered[30] = if tampered[30] == b'a' { b'b' } else { b'a' };
    let tampered = c.lookup_events().next_token(String::from_utf8(tampered).unwrap()).send().await;
    assert_eq!(code_of(tampered).await, "InvalidNextTokenException");

    let log = d.log();
    assert!(log.iter().any(|e| e.error.as_deref() == Some("InvalidNextTokenException") && e.token));
    assert!(log.iter().all(|e| e.region.is_some() && e.access_key.as_deref() == Some("AKIDTEST")));
}

#[tokio::test]
async fn throttles_per_key_and_region() {
    let (d, records, _dir) = start(DoubleConfig { now: Some(now()), ..DoubleConfig::default() }).await;
    let region = biggest_region(&records);
    let c = client(&d, &region);
    let t0 = Instant::now();
    c.lookup_events().max_results(1).send().await.unwrap();
    c.lookup_events().max_results(1).send().await.unwrap();
    let third = c.lookup_events().max_results(1).send().await;
    if t0.elapsed() < Duration::from_millis(400) {
        let err = third.expect_err("third request within the burst window").into_service_error();
        assert_eq!(err.meta().code(), Some("ThrottlingException"));
        assert_eq!(err.meta().message(), Some("Rate exceeded"));
    }
    // Other key or other region: their own buckets.
    client_with(&d, &region, "AKIDOTHER", false).lookup_events().send().await.unwrap();
    client(&d, "us-east-1").lookup_events().send().await.unwrap();
    // Refilled at 2/s.
    tokio::time::sleep(Duration::from_millis(600)).await;
    c.lookup_events().max_results(1).send().await.unwrap();
    // With the SDK's standard retries, throttling is retried and the calls succeed. Four at
    // once against a bucket of two: some are throttled however slow the machine is.
    let retrying = client_with(&d, &region, "AKIDRETRY", true);
    let calls = (0..4).map(|_| retrying.lookup_events().max_results(1).send());
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    let log = d.log();
    assert!(log
        .iter()
        .any(|e| e.error.as_deref() == Some("ThrottlingException") && e.access_key.as_deref() == Some("AKIDRETRY")));
}

/// A raw HTTP/1.1 exchange; (status, lower-cased headers, body).
async fn raw_http(d: &Double, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", d.port())).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let out = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDRAW/20240101/us-north-2r/cloudtrail/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd";

#[tokio::test]
async fn wire_targets_auth_and_admin() {
    let (d, records, _dir) = start(fast_cfg()).await;
    let json = ("content-type", "application/x-amz-json-1.1");
    let date = ("x-amz-date", "20240101T000000Z");
    let auth = ("authorization", AUTH);
    let short = ("x-amz-target", "CloudTrail_20131101.LookupEvents");
    let long = ("x-amz-target", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents");
    let body = r#"{"MaxResults":2}"#;
    for target in [short, long] {
        let (status, head, out) = raw_http(&d, "POST", "/", &[json, date, auth, target], body).await;
        assert_eq!(status, 200, "{head}{out}");
        assert!(head.contains("content-type: application/x-amz-json-1.1") && head.contains("x-amzn-requestid: "));
        let v: Value = serde_json::from_str(&out).unwrap();
        let want = expected(&records, "us-north-2r", None, None, None, false, now());
        assert_eq!(v["Events"][0]["EventId"], want[0].as_str());
        assert!(v["Events"][0]["EventTime"].is_f64() && v["NextToken"].is_string());
    }
    let err_of = |(status, head, out): (u16, String, String)| {
        let v: Value = serde_json::from_str(&out).unwrap();
        let name = v["__type"].as_str().unwrap().to_string();
        assert!(head.contains(&format!("x-amzn-errortype: {}", name.to_ascii_lowercase())), "{head}");
        assert!(v["message"].is_string());
        (status, name)
    };
    let other = ("x-amz-target", "CloudTrail_20131101.DescribeTrails");
    assert_eq!(
        err_of(raw_http(&d, "POST", "/", &[json, date, auth, other], "{}").await),
        (400, "UnknownOperationException".into())
    );
    assert_eq!(
        err_of(raw_http(&d, "POST", "/", &[json, date, short], body).await),
        (400, "MissingAuthenticationTokenException".into())
    );
    let garbled = ("authorization", "Bearer xyz");
    assert_eq!(
        err_of(raw_http(&d, "POST", "/", &[json, date, garbled, short], body).await),
        (400, "IncompleteSignatureException".into())
    );
    let no_sig = ("authorization", "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/cloudtrail/aws4_request");
    assert_eq!(
        err_of(raw_http(&d, "POST", "/", &[json, date, no_sig, short], body).await),
        (400, "IncompleteSignatureException".into())
    );
    let no_key = (
        "authorization",
        "AWS4-HMAC-SHA256 Credential=/20240101/us-east-1/cloudtrail/aws4_request, SignedHeaders=host, Signature=ab",
    );
    assert_eq!(
        err_of(raw_http(&d, "POST", "/", &[json, date, no_key, short], body).await),
        (403, "UnrecognizedClientException".into())
    );
    assert_eq!(
        err_of(raw_http(&d, "POST", "/", &[json, date, auth, short], "{nope").await),
        (400, "SerializationException".into())
    );

    // Admin: faults in and out, the log out.
    let (status, _, out) = raw_http(&d, "POST", "/_double/faults", &[], r#"{"error_500":{"every_nth":1}}"#).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(d.faults().error_500, Trigger::EveryNth(1));
    assert_eq!(
        err_of(raw_http(&d, "POST", "/", &[json, date, auth, short], body).await),
        (500, "InternalFailure".into())
    );
    assert_eq!(raw_http(&d, "POST", "/_double/faults", &[], r#"{"bogus":1}"#).await.0, 400);
    assert_eq!(raw_http(&d, "POST", "/_double/faults", &[], "{}").await.0, 200);
    assert_eq!(d.faults(), Faults::default());
    let (status, _, out) = raw_http(&d, "GET", "/_double/log", &[], "").await;
    assert_eq!(status, 200);
    let log: Vec<LogEntry> = serde_json::from_str(&out).unwrap();
    assert_eq!(log, d.log());
    assert_eq!(log.len(), 9);
    assert_eq!(log[0].region.as_deref(), Some("us-north-2r"));
    assert_eq!(log[0].access_key.as_deref(), Some("AKIDRAW"));
    assert_eq!(log[0].max_results, Some(2));
    assert_eq!(log[8].fault.as_deref(), Some("error_500"));
    assert_eq!(raw_http(&d, "DELETE", "/_double/log", &[], "").await.0, 200);
    assert!(d.log().is_empty());
}

#[tokio::test]
async fn injected_faults_surface_in_the_sdk() {
    let (d, records, _dir) = start(fast_cfg()).await;
    let region = biggest_region(&records);
    let c = client(&d, &region);
    let send = || c.lookup_events().max_results(5).send();

    d.set_faults(Faults { error_503: Trigger::EveryNth(2), ..Faults::default() });
    send().await.unwrap();
    assert_eq!(code_of(send().await).await, "ServiceUnavailable");
    d.set_faults(Faults { error_500: Trigger::EveryNth(1), ..Faults::default() });
    assert_eq!(code_of(send().await).await, "InternalFailure");

    d.set_faults(Faults { drop: Trigger::EveryNth(1), ..Faults::default() });
    let e = send().await.unwrap_err();
    assert!(matches!(e, aws_sdk_cloudtrail::error::SdkError::DispatchFailure(_)), "{e:?}");
    d.set_faults(Faults { drop_mid_body: Trigger::EveryNth(1), ..Faults::default() });
    let e = send().await.unwrap_err();
    assert!(matches!(e, aws_sdk_cloudtrail::error::SdkError::ResponseError(_)), "{e:?}");
    d.set_faults(Faults { malformed: Trigger::EveryNth(1), ..Faults::default() });
    let e = send().await.unwrap_err();
    assert!(e.raw_response().is_some_and(|r| r.status().as_u16() == 200), "{e:?}");
    assert_eq!(e.as_service_error().and_then(|s| s.meta().code()), None, "{e:?}");

    d.set_faults(Faults { expire_after: Some(2), ..Faults::default() });
    send().await.unwrap();
    send().await.unwrap();
    let e = send().await.unwrap_err().into_service_error();
    assert_eq!(e.meta().code(), Some("ExpiredTokenException"));
    assert_eq!(e.meta().message(), Some("The security token included in the request is expired"));

    d.set_faults(Faults { delay: Trigger::EveryNth(1), delay_ms: 150, ..Faults::default() });
    let t = Instant::now();
    send().await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(150));

    // With the SDK's retries on, every-other 503s are retried transparently.
    d.set_faults(Faults { error_503: Trigger::EveryNth(2), ..Faults::default() });
    let retrying = client_with(&d, &region, "AKIDTEST", true);
    let (ids, sizes) = all_pages(&retrying, None, None, None, false, 20).await;
    assert!(sizes.len() > 1);
    assert_eq!(ids, expected(&records, &region, None, None, None, false, now()));
    // Probability faults are deterministic from the seed and roughly that frequent.
    d.set_faults(Faults { error_500: Trigger::Probability(0.5), seed: 9, ..Faults::default() });
    let mut failed = 0;
    for _ in 0..40 {
        failed += usize::from(send().await.is_err());
    }
    assert!((8..=32).contains(&failed), "{failed}");

    let faults: Vec<Option<String>> = d.log().iter().map(|e| e.fault.clone()).collect();
    for f in ["error_503", "error_500", "drop", "drop_mid_body", "malformed", "expired", "delay"] {
        assert!(faults.iter().any(|x| x.as_deref() == Some(f)), "{f} not logged");
    }
    let dropped = d.log().into_iter().find(|e| e.fault.as_deref() == Some("drop")).unwrap();
    assert_eq!(dropped.status, None);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let (d, records, _dir) = start(fast_cfg()).await;
    assert_eq!(d.records().len(), records.len());
    assert_eq!(d.load_report().skipped, 0);
    let port = d.port();
    d.shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err());
}
