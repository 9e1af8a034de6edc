use super::*;
use serde_json::json;

fn rule(detection: &str) -> String {
    format!(
        "title: T\nid: 1\nlevel: high\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n{}",
        detection.lines().map(|l| format!("  {l}\n")).collect::<String>()
    )
}

fn set(detection: &str) -> RuleSet {
    let mut s = RuleSet::new();
    s.add_yaml(&rule(detection), "t.yml");
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    s
}

fn hits(detection: &str, rec: serde_json::Value) -> bool {
    !set(detection).eval(&rec).is_empty()
}

#[test]
fn strings_ignore_case_unless_cased() {
    let r = json!({"eventName": "DeleteTrail", "userAgent": "aws-cli/2.0"});
    assert!(hits("s:\n  eventName: deletetrail\ncondition: s", r.clone()));
    assert!(!hits("s:\n  eventName|cased: deletetrail\ncondition: s", r.clone()));
    assert!(hits("s:\n  eventName|cased: DeleteTrail\ncondition: s", r.clone()));
    assert!(hits("s:\n  userAgent|startswith: AWS-CLI\ncondition: s", r.clone()));
    assert!(hits("s:\n  userAgent|endswith: '/2.0'\ncondition: s", r.clone()));
    assert!(!hits("s:\n  userAgent|contains: boto\ncondition: s", r.clone()));
    assert!(hits("s:\n  eventName:\n    - StopLogging\n    - DeleteTrail\ncondition: s", r.clone()));
    assert!(hits("s:\n  eventName: 'Delete*'\ncondition: s", r.clone()));
    assert!(!hits("s:\n  eventName: 'Delete\\*'\ncondition: s", r));
}

#[test]
fn null_means_absent_or_null() {
    let absent = json!({"eventName": "DeleteBucket"});
    let null = json!({"eventName": "DeleteBucket", "errorCode": null});
    let set_ = json!({"eventName": "DeleteBucket", "errorCode": "AccessDenied"});
    let d = "s:\n  errorCode: null\ncondition: s";
    assert!(hits(d, absent.clone()));
    assert!(hits(d, null));
    assert!(!hits(d, set_.clone()));
    // Anything but null: a string condition never holds for an absent field, so `not` does.
    assert!(hits("s:\n  errorCode|contains: '*'\ncondition: not s", absent));
    assert!(!hits("s:\n  errorCode|contains: '*'\ncondition: not s", set_));
}

#[test]
fn objects_compare_as_compact_json() {
    let r = json!({"requestParameters": {"policy": {"Effect": "Allow"}, "names": ["a", "b"]}});
    assert!(hits("s:\n  requestParameters|contains: '{\"Effect\":\"allow\"}'\ncondition: s", r.clone()));
    assert!(hits("s:\n  requestParameters.names: '[\"a\",\"b\"]'\ncondition: s", r.clone()));
    assert!(hits("s:\n  requestParameters|contains|all:\n    - '\"a\"'\n    - '\"b\"'\ncondition: s", r.clone()));
    assert!(!hits("s:\n  requestParameters|contains|all:\n    - '\"a\"'\n    - '\"c\"'\ncondition: s", r));
}

#[test]
fn regex_fieldref_cidr_exists() {
    let r = json!({"userIdentity": {"arn": "arn:aws:iam::1:user/Bob"}, "requestParameters": {"userName": "bob"},
        "sourceIPAddress": "10.1.2.3", "n": 5});
    assert!(hits("s:\n  userIdentity.arn|re: ':user/B.b$'\ncondition: s", r.clone()));
    assert!(!hits("s:\n  userIdentity.arn|re: ':user/b.b$'\ncondition: s", r.clone()));
    assert!(hits("s:\n  userIdentity.arn|re|i: ':user/b.b$'\ncondition: s", r.clone()));
    assert!(hits("s:\n  userIdentity.arn|fieldref|endswith: requestParameters.userName\ncondition: s", r.clone()));
    assert!(!hits("s:\n  userIdentity.arn|fieldref: requestParameters.userName\ncondition: s", r.clone()));
    assert!(hits("s:\n  sourceIPAddress|cidr: 10.0.0.0/8\ncondition: s", r.clone()));
    assert!(!hits("s:\n  sourceIPAddress|cidr: 192.168.0.0/16\ncondition: s", r.clone()));
    assert!(hits("s:\n  n: 5\ncondition: s", r.clone()));
    assert!(hits("s:\n  missing|exists: false\ncondition: s", r.clone()));
    assert!(!hits("s:\n  n|exists: false\ncondition: s", r));
}

#[test]
fn conditions() {
    let r = json!({"a": "1", "b": "2"});
    let d = "sel_a:\n  a: 1\nsel_b:\n  b: 3\nfilter:\n  b: 2\n";
    assert!(hits(&format!("{d}condition: 1 of sel_*"), r.clone()));
    assert!(!hits(&format!("{d}condition: all of sel_*"), r.clone()));
    assert!(!hits(&format!("{d}condition: sel_a and not filter"), r.clone()));
    assert!(hits(&format!("{d}condition: sel_a and (sel_b or filter)"), r.clone()));
    assert!(hits(&format!("{d}condition: 1 of them"), r.clone()));
    // A list of maps is any of them.
    assert!(hits("s:\n  - a: 9\n  - b: 2\ncondition: s", r));
}

#[test]
fn what_cannot_be_evaluated_is_a_problem() {
    for (detection, why) in [
        ("s:\n  a|base64offset|contains: x\ncondition: s", "base64offset"),
        ("s:\n  a|expand: '%var%'\ncondition: s", "placeholder"),
        ("s:\n  a|contains: '\"arn:aws:s3:::<YOUR-BUCKET-NAME>/*\"'\ncondition: s", "<YOUR-BUCKET-NAME>"),
        ("s:\n  - keyword\ncondition: s", "keyword"),
        ("s:\n  a: 1\ncondition: s | count() > 3", "aggregation"),
        ("s:\n  a|re: '(?<=x)y'\ncondition: s", "regular expression"),
        ("s:\n  a: 1\ncondition: t", "'t'"),
        ("s:\n  a: 1\n", "no condition"),
    ] {
        let mut s = RuleSet::new();
        s.add_yaml(&rule(detection), "bad.yml");
        assert!(s.rules.is_empty(), "{detection}");
        assert_eq!(s.problems.len(), 1);
        assert_eq!(s.problems[0].file, "bad.yml");
        assert!(s.problems[0].reason.contains(why), "{}: {}", detection, s.problems[0].reason);
    }
}

#[test]
fn broken_yaml_names_the_file_and_other_logsources_are_left_out() {
    let mut s = RuleSet::new();
    s.add_yaml("title: [unclosed\n", "rules/broken.yml");
    assert_eq!(s.problems.len(), 1);
    assert_eq!(s.problems[0].file, "rules/broken.yml");
    assert!(s.problems[0].reason.contains("YAML"), "{}", s.problems[0].reason);
    s.add_yaml("title: W\nlogsource:\n  product: windows\ndetection:\n  s:\n    a: 1\n  condition: s\n", "w.yml");
    assert_eq!(s.other_logsource, 1);
    assert!(s.rules.is_empty());
}

#[test]
fn hostile_titles_are_sanitised() {
    let mut s = RuleSet::new();
    let yaml = rule("s:\n  a: 1\ncondition: s").replace("title: T", "title: \"evil\\e[31m\\u202e\"");
    s.add_yaml(&yaml, "t.yml");
    assert_eq!(s.rules.len(), 1, "{:?}", s.problems);
    let t = &s.rules[0].info.title;
    assert!(!t.chars().any(crate::sanitize::is_unsafe), "{t:?}");
    assert!(t.starts_with("evil"));
}

#[test]
fn raw_records_evaluate_as_parsed_ones() {
    let s = set("s:\n  userIdentity.type: AssumedRole\n  eventName|startswith: Get\ncondition: s");
    for raw in [
        r#"{"eventName":"GetObject","userIdentity":{"type":"AssumedRole"},"other":[1,{"x":"y"}]}"#,
        r#"{"eventName":"PutObject","userIdentity":{"type":"AssumedRole"}}"#,
        // An escaped key: parsed whole.
        r#"{"event\u004eame":"GetObject","userIdentity":{"type":"AssumedRole"}}"#,
        // A later duplicate wins, both ways.
        r#"{"eventName":"GetObject","eventName":"PutObject","userIdentity":{"type":"AssumedRole"}}"#,
        "not json",
        "[1,2]",
    ] {
        let whole = serde_json::from_str::<serde_json::Value>(raw).ok().filter(|v| v.is_object());
        let expected = whole.map(|v| s.eval(&v)).unwrap_or_default();
        assert_eq!(s.eval_bytes(raw.as_bytes()), expected, "{raw}");
        // Where records are parsed (valid JSON), the fields are read as the rules ask for them.
        if serde_json::from_str::<serde_json::Value>(raw).is_ok() {
            let lazily =
                s.eval_summarised(SummaryFields::default(), raw.as_bytes(), &[], || [None; KNOWN.len()], || false);
            assert_eq!(lazily.map(|h| h.rules).unwrap_or_default(), expected, "{raw}");
        }
    }
}

#[test]
fn fields_the_parser_read_are_taken_as_a_lookup_would_find_them() {
    // One rule per field the parser reads, each true only for a string value, and one per field
    // true for absent or null: every way each field can be written must give the lookup's answer.
    let mut detection = String::new();
    let mut names = Vec::new();
    for (i, path) in KNOWN.iter().enumerate() {
        detection.push_str(&format!("a{i}:\n  {path}|contains: x\nn{i}:\n  {path}: null\n"));
        names.push(format!("a{i}"));
        names.push(format!("n{i}"));
    }
    let conditions: Vec<String> = names.iter().map(|n| format!("title: T{n}\nid: {n}\nlevel: high\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  {}\n  condition: {n}\n", detection.replace('\n', "\n  "))).collect();
    let mut s = RuleSet::new();
    for (i, y) in conditions.iter().enumerate() {
        s.add_yaml(y, &format!("r{i}.yml"));
    }
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    assert_eq!(s.rules.len(), 2 * KNOWN.len());
    let values = [
        json!("x-value"),
        json!("no"),
        json!(""),
        json!("esc\"x\u{e9}"),
        json!(null),
        json!(5),
        json!(1.5e3),
        json!(true),
        json!({"x": 1}),
        json!(["x"]),
    ];
    let nested = |path: &str, v: &serde_json::Value| {
        let mut out = v.clone();
        for key in path.split('.').rev() {
            out = json!({ key: out });
        }
        out
    };
    let merge = |a: &mut serde_json::Value, b: serde_json::Value| {
        fn go(a: &mut serde_json::Value, b: serde_json::Value) {
            match (a, b) {
                (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
                    for (k, v) in b {
                        match a.get_mut(&k) {
                            Some(x) if x.is_object() && v.is_object() => go(x, v),
                            _ => {
                                a.insert(k, v);
                            }
                        }
                    }
                }
                (a, b) => *a = b,
            }
        }
        go(a, b)
    };
    let mut checked = 0;
    for (n, v) in values.iter().enumerate() {
        for skip in 0..KNOWN.len() + 1 {
            // Every field with this value but one (left out), beside a record's usual fields.
            let mut rec = json!({"eventTime": "2024-01-01T00:00:00Z", "eventID": format!("id-{n}")});
            for (i, path) in KNOWN.iter().enumerate() {
                if i != skip {
                    merge(&mut rec, nested(path, v));
                }
            }
            // userIdentity as something other than an object: nothing under it.
            if skip == KNOWN.len() && n % 2 == 0 {
                rec["userIdentity"] = v.clone();
            }
            let raw = rec.to_string();
            let Ok(fields) = crate::model::record::RecordFields::parse(raw.as_bytes()) else { continue };
            let expected = s.eval(&rec);
            let known = known_of(&fields);
            let got = s.eval_summarised(SummaryFields::default(), raw.as_bytes(), &[], || known, || false);
            assert_eq!(got.map(|h| h.rules).unwrap_or_default(), expected, "{raw}");
            checked += 1;
        }
    }
    assert!(checked > 80, "{checked}");
}
