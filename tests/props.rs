//! Property tests: the parsers never panic on any input, and the filter language round-trips.

use proptest::prelude::*;
use trailscope::query;
use trailscope::sanitize::{is_unsafe, sanitize};
use trailscope::source::files::parse_content;

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
