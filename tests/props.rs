//! Property tests: the parsers never panic on any input, and the filter language round-trips.

use proptest::prelude::*;
use trailscope::query;
use trailscope::sanitize::{is_unsafe, sanitize};
use trailscope::source::files::{parse_content, parse_trail_log, ParseOutcome, Parsed};

/// JSON-ish text: fragments of CloudTrail structure, glued at random.
fn jsonish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(",".to_string()),
        Just(":".to_string()),
        Just("\"Records\"".to_string()),
        Just("\"Events\"".to_string()),
        Just("\"CloudTrailEvent\"".to_string()),
        Just("\"eventTime\"".to_string()),
        Just("\"eventName\"".to_string()),
        Just("\"userIdentity\"".to_string()),
        Just("\"resources\"".to_string()),
        Just("\"2024-01-01T00:00:00Z\"".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("1.5e3".to_string()),
        Just("\n".to_string()),
        "\"[^\"\\\\]{0,8}\"",
        "\\PC{0,4}",
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

fn parse_all(bytes: &[u8]) {
    let mut n = 0usize;
    let _ = parse_content(bytes, &mut |p| {
        assert!(p.span.offset as usize + p.span.len as usize <= bytes.len());
        n += 1;
    });
}

type Seen = Vec<(u64, u32, String, String)>;

fn seen(p: Parsed<'_, '_>, into: &mut Seen) {
    into.push((p.span.offset, p.span.len, p.fields.event_name.as_str().into(), p.fields.event_id.as_str().into()));
}

fn summary(o: &ParseOutcome) -> (String, usize, usize, Vec<String>) {
    (o.kind.describe().into(), o.records, o.skipped_count, o.skipped.clone())
}

/// Where the fast path for trail logs takes an input, it finds what the general path finds.
fn fast_path_agrees(bytes: &[u8]) {
    let mut fast = Seen::new();
    let Some(fast_out) = parse_trail_log(bytes, &mut |p| seen(p, &mut fast)) else {
        return;
    };
    let mut slow = Seen::new();
    let slow_out = parse_content(bytes, &mut |p| seen(p, &mut slow)).expect("the general path reads it too");
    assert_eq!(summary(&fast_out), summary(&slow_out));
    assert_eq!(fast, slow);
}

/// Valid JSON built from record-like keys and every kind of value.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let key = prop_oneof![
        Just("eventTime".to_string()),
        Just("eventName".to_string()),
        Just("eventSource".to_string()),
        Just("eventID".to_string()),
        Just("readOnly".to_string()),
        Just("userIdentity".to_string()),
        Just("sessionContext".to_string()),
        Just("sessionIssuer".to_string()),
        Just("userName".to_string()),
        Just("arn".to_string()),
        Just("resources".to_string()),
        Just("ARN".to_string()),
        Just("insightDetails".to_string()),
        "[a-zA-Z]{1,6}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e9f64..1e9).prop_map(Value::from),
        "[a-zA-Z0-9 :./\"\\\\\u{e9}\u{1b}\n]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn record_parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_all(&bytes);
    }

    #[test]
    fn record_parser_never_panics_on_jsonish(text in jsonish()) {
        parse_all(text.as_bytes());
        parse_all(format!("{{\"Records\":[{text}]}}").as_bytes());
        parse_all(format!("[{text}]").as_bytes());
    }

    #[test]
    fn fast_trail_log_path_agrees_on_valid_json(records in prop::collection::vec(json_value(), 0..6)) {
        let doc = serde_json::json!({ "Records": records });
        let compact = serde_json::to_vec(&doc).unwrap();
        let mut fast = Seen::new();
        prop_assert!(parse_trail_log(&compact, &mut |p| seen(p, &mut fast)).is_some());
        fast_path_agrees(&compact);
        fast_path_agrees(&serde_json::to_vec_pretty(&doc).unwrap());
    }

    #[test]
    fn fast_trail_log_path_agrees_with_the_general_one(text in jsonish()) {
        fast_path_agrees(text.as_bytes());
        fast_path_agrees(format!("{{\"Records\":[{text}]}}").as_bytes());
        fast_path_agrees(format!("{{\"Records\":[{{\"eventName\":\"A\"}},{text}]}}").as_bytes());
        fast_path_agrees(format!("{{\"Records\": [{{\"eventName\":{text}}}, {{\"eventID\":\"x\",{text}}}]}}").as_bytes());
    }

    #[test]
    fn lookup_events_parser_never_panics(event in jsonish(), time in jsonish()) {
        let escaped = serde_json::to_string(&event).unwrap();
        let doc = format!("{{\"Events\":[{{\"EventTime\":{time},\"CloudTrailEvent\":{escaped}}},{{\"CloudTrailEvent\":{event}}}]}}");
        parse_all(doc.as_bytes());
    }

    #[test]
    fn filter_parser_never_panics_and_round_trips(input in "\\PC{0,40}") {
        if let Ok(q) = query::parse(&input, 1_700_000_000_000) {
            let printed = q.to_string();
            let again = query::parse(&printed, 1_700_000_000_000);
            prop_assert_eq!(again.as_ref().ok(), Some(&q), "{:?} printed as {:?}", input, printed);
        }
    }

    #[test]
    fn filter_parser_round_trips_structured_queries(
        terms in prop::collection::vec(
            (any::<bool>(), prop::sample::select(vec!["name", "user", "agent", "id", "resource", "text", "ip"]), any::<bool>(), "[ -~]{1,12}"),
            1..5,
        )
    ) {
        let input: Vec<String> = terms
            .iter()
            .map(|(neg, field, exact, value)| {
                let v = value.replace('\\', "\\\\").replace('"', "\\\"");
                format!("{}{}:{}\"{}\"", if *neg { "-" } else { "" }, field, if *exact { "=" } else { "" }, v)
            })
            .collect();
        let q = query::parse(&input.join(" "), 0).expect("well-formed terms parse");
        prop_assert_eq!(q.terms.len(), terms.len());
        prop_assert_eq!(query::parse(&q.to_string(), 0).unwrap(), q);
    }

    #[test]
    fn sanitized_text_is_always_safe(s in "\\PC*|[\\x00-\\x{9f}\\x{2000}-\\x{206f}]{0,64}") {
        prop_assert!(!sanitize(&s).chars().any(is_unsafe));
    }
}
