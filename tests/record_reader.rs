//! The record reader that works without serde (`record_at`) gives exactly what serde's parse
//! of the same text gives, or nothing (and the record is left to serde): over the real records
//! of `../shared/data`, generated ones (hostile strings among them) compact and indented,
//! hand-written awkward ones, and every one of them damaged at random.

mod common;
use common::*;
use proptest::prelude::*;
use serde_json::value::RawValue;
use std::sync::OnceLock;
use trailscope::model::record::{record_at, RecordFields};

/// serde's parse of the value at `pos`: the fields (as Debug text) and where the value ends.
fn by_serde(text: &str, pos: usize) -> Option<(String, usize)> {
    let mut stream = serde_json::Deserializer::from_str(&text[pos..]).into_iter::<RecordFields>();
    let fields = stream.next()?.ok()?;
    Some((format!("{fields:?}"), pos + stream.byte_offset()))
}

/// The reader's parse, in the same form.
fn by_reader(text: &str, pos: usize) -> Option<(String, usize)> {
    record_at(text, pos).map(|(fields, end)| (format!("{fields:?}"), end))
}

/// Checks the reader against serde on one text whose value starts at `pos`; whether the reader
/// took it.
fn agrees(text: &str, pos: usize) -> bool {
    let mine = by_reader(text, pos);
    if let Some(mine) = &mine {
        let theirs = by_serde(text, pos);
        assert_eq!(Some(mine), theirs.as_ref(), "the reader and serde differ on {text:?}");
    }
    mine.is_some()
}

/// Awkward records, each with whether the reader takes it (`false`: left to serde): escapes,
/// numbers of every kind, repeated fields, odd types, nesting, broken JSON.
fn awkward() -> Vec<(String, bool)> {
    let mut deep = "\"deep-inside\"".to_string();
    for i in 0..60 {
        deep = if i % 2 == 0 { format!("[{deep}]") } else { format!("{{\"k\":{deep}}}") };
    }
    let mut too_deep = "1".to_string();
    for _ in 0..130 {
        too_deep = format!("[{too_deep}]");
    }
    let many: Vec<String> = (0..1100).map(|i| format!("\"v{i}\"")).collect();
    let base = r#""eventTime":"2026-01-02T03:04:05Z","eventName":"PutThing","eventSource":"s3.amazonaws.com""#;
    let with = |more: &str, taken: bool| (format!("{{{base},{more}}}"), taken);
    vec![
        with(r#""eventID":"a\"b""#, false),
        with(r#""userAgent":"tab\there""#, false),
        with("\"userAgent\":\"raw\ttab\"", false),
        with(r#""readOnly":true,"errorCode":false,"awsRegion":null"#, true),
        with(r#""recipientAccountId":123456789012"#, false),
        with(r#""recipientAccountId":1.5"#, false),
        with(r#""requestParameters":{"n":1e999}"#, false),
        with(r#""requestParameters":{"n":-0,"m":12345678901234567890123,"s":"x"}"#, true),
        with(r#""requestParameters":{"n":01}"#, false),
        with(r#""requestParameters":{"n":-}"#, false),
        with(r#""requestParameters":{"a":[true,false,null,"",{"b":"c"}]}"#, true),
        with(r#""requestParameters":"plain""#, true),
        with(r#""requestParameters":{"a":" padded ","b":["  ","x"],"c":""}"#, true),
        with(r#""requestParameters":[]"#, true),
        with(r#""requestParameters":{}"#, true),
        with(&format!(r#""requestParameters":{deep}"#), false),
        with(&format!(r#""requestParameters":[{}]"#, many.join(",")), true),
        with(&format!(r#""responseElements":{too_deep}"#), false),
        with(r#""eventName":"Twice""#, false),
        with(r#""other":1,"other":2"#, true),
        with(r#""userIdentity":{"type":"IAMUser","type":"Root"}"#, false),
        with(
            r#""userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"type":"Role","userName":"r","arn":"arn:aws:iam::1:role/r","x":[1]}}}"#,
            true,
        ),
        with(r#""userIdentity":{"sessionContext":{"sessionIssuer":[1,2]}}"#, true),
        with(r#""userIdentity":"a string""#, true),
        with(r#""userIdentity":[{"type":"Root"}]"#, true),
        with(r#""userIdentity":7"#, true),
        with(r#""userIdentity":{"arn":{"nested":true}}"#, true),
        with(r#""resources":[{"ARN":"arn:1"},null,1,"s",[{"ARN":"no"}],{"type":"t"},{"ARN":"a","ARN":"b"}]"#, false),
        with(
            r#""resources":[{"ARN":"arn:1"},null,1,"s",[{"ARN":"no"}],{"type":"t"},{"ARN":["x"]},{"ARN":null}]"#,
            true,
        ),
        with(r#""resources":{"ARN":"not a list"}"#, true),
        with(r#""resources":null"#, true),
        with(
            r#""insightDetails":{"state":"Start","eventName":"X","insightType":"ApiCallRateInsight","extra":{}}"#,
            true,
        ),
        with(r#""insightDetails":null"#, true),
        with("\"eventID\" : \"spaced\" , \"x\" :\n[ 1 , 2 ]\r\n", true),
        with(r#""x":[1,]"#, false),
        with(r#""x":{"a":1,}"#, false),
        with(r#""x":tru"#, false),
        with(r#""x":nul"#, false),
        with(r#""x":"unterminated"#, false),
        with("\"x\":\"ctl\u{1}\"", false),
        with("\"userAgent\":\"caf\u{e9} \u{1F600}\"", true),
        (format!("{{{base},}}"), false),
        (format!("{{{base}"), false),
        (format!("{{{base}}} trailing"), true),
        ("{}".to_string(), true),
        (r#"{"unrelated":"object"}"#.to_string(), true),
        ("{\u{c}}".to_string(), false),
    ]
}

/// Every record text the checks start from: real, generated (compact and indented), awkward.
fn texts() -> &'static Vec<String> {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    TEXTS.get_or_init(|| {
        let mut out = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(stratus()).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(f).unwrap();
            let items: Vec<&RawValue> = serde_json::from_str(&text).unwrap();
            out.extend(items.iter().map(|r| r.get().to_string()));
        }
        let panther = std::fs::read_to_string(panther()).unwrap();
        out.extend(panther.lines().filter(|l| !l.trim().is_empty()).map(str::to_string));
        let opts = trailscope_gen::GenOptions { hostile: true, per_file: 100, ..Default::default() };
        for i in 0..400 {
            let v = trailscope_gen::record(5, i, &opts);
            out.push(if i % 4 == 0 { serde_json::to_string_pretty(&v).unwrap() } else { v.to_string() });
        }
        out.extend(awkward().into_iter().map(|(t, _)| t));
        out
    })
}

#[test]
fn the_reader_gives_what_serde_gives_and_takes_nearly_every_real_record() {
    let texts = texts();
    let real = 310 + 438;
    let mut taken = 0;
    for t in &texts[..real] {
        let pos = t.find('{').unwrap();
        taken += agrees(t, pos) as usize;
    }
    // The rest is left to serde: records with escapes or fractional numbers.
    assert!(taken * 100 >= real * 80, "the reader took {taken} of {real} real records");
    let mut generated = 0;
    for t in &texts[real..real + 400] {
        generated += agrees(t, 0) as usize;
    }
    assert!(generated >= 380, "the reader took {generated} of 400 generated records");
    eprintln!("the reader took {taken} of {real} real records, {generated} of 400 generated");
    for t in &texts[real + 400..] {
        agrees(t, 0);
    }
    // Values that start later in the text, as in a trail log.
    let log = format!("{{\"Records\":[{},{}]}}", texts[real + 1], texts[real + 2]);
    let second = log.find(&texts[real + 2]).unwrap();
    assert!(agrees(&log, 12) && agrees(&log, second));
}

#[test]
fn awkward_records_are_taken_as_serde_takes_them_or_left_to_it() {
    for (text, taken) in awkward() {
        assert_eq!(agrees(&text, 0), taken, "{text}");
    }
    // What serde refuses is left to it, so that it says what is wrong.
    for (text, _) in awkward().iter().filter(|(t, _)| t.contains("[1,]") || t.contains("Twice")) {
        assert!(by_serde(text, 0).is_none() && by_reader(text, 0).is_none(), "{text}");
    }
}

/// A change to a record's text: characters that matter to JSON, put in, taken out, repeated.
#[derive(Debug, Clone)]
enum Damage {
    Insert(usize, char),
    Remove(usize, usize),
    Repeat(usize, usize),
}

fn apply(text: &str, damage: &[Damage]) -> String {
    let mut s = text.to_string();
    let at = |s: &str, n: usize| {
        let mut i = n % (s.len() + 1);
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    for d in damage {
        match *d {
            Damage::Insert(n, c) => {
                let i = at(&s, n);
                s.insert(i, c);
            }
            Damage::Remove(n, len) => {
                let i = at(&s, n);
                let j = at(&s, i + len);
                s.replace_range(i..j.max(i), "");
            }
            Damage::Repeat(n, len) => {
                let i = at(&s, n);
                let j = at(&s, i + len).max(i);
                let piece = s[i..j].to_string();
                s.insert_str(j, &piece);
            }
        }
    }
    s
}

fn damage() -> impl Strategy<Value = Damage> {
    let significant = prop::sample::select(vec![
        '"', '\\', '{', '}', '[', ']', ',', ':', '0', '1', '.', 'e', '-', '+', ' ', '\n', '\u{1}', 't', 'n', 'u',
        '\u{e9}', '\u{c}',
    ]);
    prop_oneof![
        (any::<usize>(), significant).prop_map(|(n, c)| Damage::Insert(n, c)),
        (any::<usize>(), 1..12usize).prop_map(|(n, l)| Damage::Remove(n, l)),
        (any::<usize>(), 1..80usize).prop_map(|(n, l)| Damage::Repeat(n, l)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]
    #[test]
    fn damaged_records_are_read_as_serde_reads_them_or_left_to_it(
        pick in any::<usize>(),
        damages in prop::collection::vec(damage(), 1..4),
    ) {
        let texts = texts();
        let text = &texts[pick % texts.len()];
        let damaged = apply(text, &damages);
        if let Some(pos) = damaged.find('{') {
            agrees(&damaged, pos);
        }
    }
}
