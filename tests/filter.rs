//! The filter language against real records, checked against an independent evaluation in
//! the test (serde_json values), through `print`.

mod common;
use common::*;
use serde_json::Value;

fn all_records() -> Vec<Value> {
    jsonl_values(&run(&["print", stratus().to_str().unwrap(), panther().to_str().unwrap()]))
}

fn filtered(filter: &str) -> Vec<Value> {
    let o = run(&["print", "--filter", filter, stratus().to_str().unwrap(), panther().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{filter}: {}", stderr(&o));
    jsonl_values(&o)
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str().unwrap_or("")
}

fn check(filter: &str, pred: impl Fn(&Value) -> bool) {
    let expected: Vec<Value> = all_records().into_iter().filter(|v| pred(v)).collect();
    let got = filtered(filter);
    assert!(!expected.is_empty(), "{filter}: the test should select something");
    assert_eq!(got.len(), expected.len(), "{filter}");
    assert_eq!(got, expected, "{filter}");
}

#[test]
fn field_terms() {
    check("name:Delete*", |v| s(v, &["eventName"]).to_lowercase().starts_with("delete"));
    check("name:=DeleteTrail", |v| s(v, &["eventName"]) == "DeleteTrail");
    assert!(filtered("name:=deletetrail").is_empty(), "exact matching is case-sensitive");
    check("source:iam", |v| s(v, &["eventSource"]).contains("iam"));
    check("error:AccessDenied", |v| s(v, &["errorCode"]).to_lowercase().contains("accessdenied"));
    check("-error:AccessDenied has:error", |v| {
        !s(v, &["errorCode"]).is_empty() && !s(v, &["errorCode"]).to_lowercase().contains("accessdenied")
    });
    check("type:=Root", |v| s(v, &["userIdentity", "type"]) == "Root");
    check("arn:*:assumed-role/*", |v| {
        let a = s(v, &["userIdentity", "arn"]).to_lowercase();
        a.starts_with("arn:") && a.contains(":assumed-role/")
    });
    check("region:us-west-2", |v| s(v, &["awsRegion"]).contains("us-west-2"));
    // readOnly is a boolean, but some producers write it as a string ("true", "True").
    check("readonly:true", |v| {
        v["readOnly"] == Value::Bool(true) || v["readOnly"].as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
    });
    check("agent:\"aws-cli/2\"", |v| s(v, &["userAgent"]).to_lowercase().contains("aws-cli/2"));
    check("key:ASIA", |v| s(v, &["userIdentity", "accessKeyId"]).to_lowercase().contains("asia"));
    check("text:bucketName", |v| v.to_string().to_lowercase().contains("bucketname"));
    check("category:management", |v| s(v, &["eventCategory"]).to_lowercase().contains("management"));
}

#[test]
fn has_and_bare_words() {
    check("has:key", |v| !s(v, &["userIdentity", "accessKeyId"]).is_empty());
    check("-has:id", |v| s(v, &["eventID"]).is_empty());
    check("GetObject", |v| {
        ["eventName", "sourceIPAddress", "awsRegion", "eventSource", "errorCode"]
            .iter()
            .any(|f| s(v, &[f]).to_lowercase().contains("getobject"))
            || s(v, &["userIdentity", "userName"]).to_lowercase().contains("getobject")
    });
}

#[test]
fn time_bounds() {
    check("since:2024-07-31T00:00:00Z until:2024-08-01T00:00:00Z", |v| {
        let t = s(v, &["eventTime"]);
        ("2024-07-31T00:00:00Z"..="2024-08-01T00:00:00Z").contains(&t) && t.len() == 20
    });
    let o = run(&[
        "print",
        "--since",
        "2024-07-31T00:00:00Z",
        "--until",
        "2024-08-01T00:00:00Z",
        stratus().to_str().unwrap(),
        panther().to_str().unwrap(),
    ]);
    assert_eq!(jsonl_values(&o), filtered("since:2024-07-31T00:00:00Z until:2024-08-01T00:00:00Z"));
}

#[test]
fn resource_matches_arns_and_request_parameters() {
    check("resource:stratus-red-team", |v| {
        let arns = v["resources"]
            .as_array()
            .map(|a| a.iter().any(|r| s(r, &["ARN"]).to_lowercase().contains("stratus-red-team")))
            .unwrap_or(false);
        fn any(v: &Value) -> bool {
            match v {
                Value::String(x) => x.to_lowercase().contains("stratus-red-team"),
                Value::Array(a) => a.iter().any(any),
                Value::Object(o) => o.values().any(any),
                _ => false,
            }
        }
        arns || any(&v["requestParameters"])
    });
}
