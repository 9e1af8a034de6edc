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
    // Decided where each record is parsed: negated, a wildcard, two terms, exact case.
    check("-text:bucketName", |v| !v.to_string().to_lowercase().contains("bucketname"));
    check("text:*bucketName*:*", |v| {
        let t = v.to_string().to_lowercase();
        t.find("bucketname").is_some_and(|i| t[i..].contains(':'))
    });
    check("text:=*AssumeRole* -text:aws-cli", |v| {
        let t = v.to_string();
        t.contains("AssumeRole") && !t.to_lowercase().contains("aws-cli")
    });
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

/// An independent statement of the fuzzy rule: the word is contained (ignoring case), or its
/// letters appear in order, each right after the previous one or at the start of a word.
fn fuzzy(hay: &str, word: &str) -> bool {
    if hay.to_lowercase().contains(&word.to_lowercase()) {
        return true;
    }
    let h: Vec<char> = hay.chars().collect();
    let w: Vec<char> = word.to_lowercase().chars().collect();
    let starts_word = |i: usize| {
        i == 0 || {
            let (b, c) = (h[i - 1], h[i]);
            (!b.is_alphanumeric() && c.is_alphanumeric())
                || (b.is_lowercase() && c.is_uppercase())
                || (b.is_alphabetic() && c.is_numeric())
                || (b.is_numeric() && c.is_alphabetic())
        }
    };
    fn search(h: &[char], w: &[char], from: usize, prev: Option<usize>, starts: &dyn Fn(usize) -> bool) -> bool {
        let Some(&c) = w.first() else { return true };
        (from..h.len()).any(|i| {
            h[i].to_lowercase().eq(std::iter::once(c))
                && (prev.is_some_and(|p| p + 1 == i) || starts(i))
                && search(h, &w[1..], i + 1, Some(i), starts)
        })
    }
    search(&h, &w, 0, None, &starts_word)
}

#[test]
fn fuzzy_bare_words() {
    for word in ["gcid", "pes", "ctrail"] {
        check(word, |v| {
            let user = s(v, &["userIdentity", "userName"]);
            let arn_tail = s(v, &["userIdentity", "arn"]).rsplit(['/', ':']).next().unwrap_or("");
            let principal = if !user.is_empty() { user } else { arn_tail };
            ["eventName", "sourceIPAddress", "awsRegion", "eventSource", "errorCode"]
                .iter()
                .any(|f| fuzzy(s(v, &[f]), word))
                || fuzzy(principal, word)
        });
    }
    // Letters that are only scattered through a name do not match it.
    assert!(filtered("gtlr").iter().all(|v| s(v, &["eventName"]) != "GetCallerIdentity"));
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

/// `verified:` against verdicts set on the store's files, checked against the files' own
/// verdicts event by event.
#[test]
fn verified_terms_select_events_by_their_files_verdict() {
    use std::sync::Arc;
    use trailscope::model::events::EventStore;
    use trailscope::model::raw::RawReader;
    use trailscope::model::FileVerdict;
    use trailscope::query::{self, matcher::MatchCtx, Matcher};
    use trailscope::source::{load, LoadOptions, SourceMsg};
    let raw = Arc::new(RawReader::new(64 << 20));
    let mut store = EventStore::default();
    load(&[stratus().to_string_lossy().into_owned()], &LoadOptions::default(), &raw, &mut |m| match m {
        SourceMsg::Files(f) => store.add_files(f),
        SourceMsg::Batch(b, _) => {
            store.apply(b);
        }
        _ => {}
    });
    assert!(store.files.len() >= 4);
    let all: Vec<u32> = (0..store.len() as u32).collect();
    let select = |store: &EventStore, filter: &str| {
        let mut m = Matcher::new(&query::parse(filter, 0).unwrap());
        m.prepare(store);
        m.filter(&all, &MatchCtx { store, raw: &raw })
    };
    // Before verification, no event has a verdict: verified:false lists nothing.
    assert_eq!(select(&store, "verified:false"), Vec::<u32>::new());
    assert_eq!(select(&store, "-verified:false").len(), all.len());
    // One file altered, one not covered, one valid, the rest not checked.
    store.verdicts = vec![FileVerdict::Altered, FileVerdict::NotCovered, FileVerdict::Valid];
    let of = |store: &EventStore, want: &dyn Fn(FileVerdict) -> bool| -> Vec<u32> {
        all.iter().copied().filter(|&i| want(store.verdict_of(&store.events[i as usize]))).collect()
    };
    let failed = of(&store, &|v| matches!(v, FileVerdict::Altered | FileVerdict::NotCovered));
    assert!(!failed.is_empty() && failed.len() < all.len());
    assert_eq!(select(&store, "verified:false"), failed);
    assert_eq!(select(&store, "verified:FALSE"), failed);
    assert_eq!(select(&store, "verified:true"), of(&store, &|v| v == FileVerdict::Valid));
    assert_eq!(select(&store, "-verified:false"), of(&store, &|v| !v.failed()));
    assert_eq!(select(&store, "has:verified"), of(&store, &|v| v != FileVerdict::Unchecked));
    let e = query::parse("verified:maybe", 0).unwrap_err();
    assert!(e.message.contains("verified: takes true or false"), "{e}");
}
