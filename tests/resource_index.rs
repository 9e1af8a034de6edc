//! The resource index answers `resource:` exactly as the raw records do, and `text:` answers
//! what the raw text holds: random terms built from the records' own strings, over real
//! records (`../shared/data`), generated ones and hand-written awkward ones, each compared with
//! a direct evaluation on the record's raw JSON (serde_json values, a regular expression for
//! the pattern), loaded without and with the archive index.

mod common;
use common::*;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::{Arc, OnceLock};
use trailscope::cache::CacheConfig;
use trailscope::model::events::EventStore;
use trailscope::model::raw::RawReader;
use trailscope::query::matcher::MatchCtx;
use trailscope::query::{Field, Matcher, Op, Query, Term, TermKind};
use trailscope::source::{load, LoadOptions, SourceMsg};

/// A loaded store with every record's raw JSON beside it, by event index.
struct Loaded {
    store: EventStore,
    raw: Arc<RawReader>,
    texts: Vec<String>,
    values: Vec<Value>,
}

/// A record whose requestParameters hold more strings than the index keeps, and others that
/// are awkward to read: escapes, nesting, numbers, a string instead of an object.
fn awkward_records() -> Vec<Value> {
    let many: Vec<String> = (0..1500).map(|i| format!("many-value-{i:04}")).collect();
    let base = |id: &str, params: Value| {
        json!({"eventVersion":"1.08","eventTime":"2026-01-02T03:04:05Z","eventName":"PutThing",
            "eventSource":"s3.amazonaws.com","awsRegion":"us-east-1","eventID":id,"requestParameters":params})
    };
    let mut out = vec![
        base("aw-1", json!({"list": many})),
        base(
            "aw-2",
            json!({"bucketName":"Esc\"aped\\Bucket\u{e9}", "n": 5, "deep": [[{"x": ["inner-VALUE", null, true]}]]}),
        ),
        base("aw-3", json!("a-plain-string-parameter")),
        base("aw-4", Value::Null),
        base("aw-5", json!({"only": [1, 2.5, false, null], "empty": ""})),
        base("aw-6", json!({"same":"repeated-x","again":"repeated-x","arn":"arn:aws:s3:::dup-bucket"})),
    ];
    // Deeper than the index follows: the record is read for the term.
    let mut deep = json!("deep-inside-value");
    for i in 0..60 {
        deep = if i % 2 == 0 { json!([deep]) } else { json!({"k": deep}) };
    }
    out.push(base("aw-7", deep));
    out[5]["resources"] = json!([{"ARN":"arn:aws:s3:::dup-bucket"},{"ARN":null},{"type":"AWS::S3::Object"},{"ARN":""}]);
    // More resources than the index keeps ARNs of.
    let arns: Vec<Value> = (0..100).map(|i| json!({"ARN": format!("arn:aws:s3:::many-arn-{i:03}")})).collect();
    out.push(base("aw-8", json!({"bucketName":"many-arn-bucket"})));
    out[7]["resources"] = json!(arns);
    out[1]["resources"] = json!({"ARN":"not-a-list"});
    out
}

fn inputs() -> &'static (tempfile::TempDir, Vec<String>) {
    static DIR: OnceLock<(tempfile::TempDir, Vec<String>)> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let generated = dir.path().join("generated");
        let opts = trailscope_gen::GenOptions {
            events: 3000,
            per_file: 500,
            seed: 11,
            hostile: true,
            digests: false,
            ..Default::default()
        };
        trailscope_gen::generate(&opts, &generated).unwrap();
        let awkward = dir.path().join("awkward.jsonl");
        let lines: Vec<String> = awkward_records().iter().map(|v| v.to_string()).collect();
        std::fs::write(&awkward, lines.join("\n")).unwrap();
        let paths =
            [stratus(), panther(), generated, awkward].iter().map(|p| p.to_string_lossy().into_owned()).collect();
        (dir, paths)
    })
}

fn load_all(cache: Option<CacheConfig>) -> Loaded {
    let raw = Arc::new(RawReader::new(64 << 20));
    let mut store = EventStore::default();
    let opts = LoadOptions { cache, ..Default::default() };
    load(&inputs().1, &opts, &raw, &mut |m| match m {
        SourceMsg::Files(f) => store.add_files(f),
        SourceMsg::Batch(b, _) => {
            store.apply(b);
        }
        _ => {}
    });
    let texts: Vec<String> = store
        .events
        .iter()
        .map(|ev| String::from_utf8(raw.read(store.file_of(ev).unwrap(), ev.loc).unwrap().to_vec()).unwrap())
        .collect();
    let values = texts.iter().map(|t| serde_json::from_str(t).unwrap()).collect();
    Loaded { store, raw, texts, values }
}

/// Loaded without a cache, and loaded a second time from the archive index it stored.
fn loaded() -> &'static [Loaded; 2] {
    static L: OnceLock<[Loaded; 2]> = OnceLock::new();
    L.get_or_init(|| {
        let cache = CacheConfig { dir: inputs().0.path().join("cache"), max_bytes: 1 << 30 };
        let plain = load_all(None);
        let _building = load_all(Some(cache.clone()));
        let reopened = load_all(Some(cache));
        assert_eq!(plain.values.len(), reopened.values.len());
        [plain, reopened]
    })
}

/// The pattern as a regular expression: `*` any run of characters; `field:value` compares
/// lower-cased text and may match anywhere, `field:=value` compares the text as written,
/// whole.
fn reference(op: Op, value: &str) -> impl Fn(&str) -> bool {
    let pieces: Vec<String> = value.split('*').map(regex::escape).collect();
    let body = pieces.join(".*");
    let (re, lower) = match (op, value.contains('*')) {
        (Op::Contains, false) => (format!("(?s){}", regex::escape(&value.to_lowercase())), true),
        (Op::Contains, true) => (format!("(?s)^{}$", body.to_lowercase()), true),
        (Op::Exact, _) => (format!("(?s)^{body}$"), false),
    };
    let re = regex::Regex::new(&re).unwrap();
    move |s: &str| if lower { re.is_match(&s.to_lowercase()) } else { re.is_match(s) }
}

/// The strings `resource:` looks at, read from the raw JSON: each non-empty resources[].ARN
/// and every non-empty string anywhere in requestParameters.
fn resource_strings(v: &Value) -> Vec<&str> {
    fn walk<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::String(s) if !s.is_empty() => out.push(s),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(list) = v["resources"].as_array() {
        out.extend(list.iter().filter_map(|r| r["ARN"].as_str()).filter(|a| !a.is_empty()));
    }
    walk(&v["requestParameters"], &mut out);
    out
}

fn selected(l: &Loaded, field: Field, op: Op, value: &str, negated: bool) -> Vec<u32> {
    let q = Query { terms: vec![Term { negated, kind: TermKind::Match { field, op, value: value.to_string() } }] };
    let mut m = Matcher::new(&q);
    m.prepare(&l.store);
    let all: Vec<u32> = (0..l.store.len() as u32).collect();
    m.filter(&all, &MatchCtx { store: &l.store, raw: &l.raw })
}

fn expected(l: &Loaded, field: Field, op: Op, value: &str, negated: bool) -> Vec<u32> {
    let test = reference(op, value);
    (0..l.values.len())
        .filter(|&i| {
            let yes = match field {
                Field::Resource => resource_strings(&l.values[i]).iter().any(|s| test(s)),
                _ => test(&l.texts[i]),
            };
            yes != negated
        })
        .map(|i| i as u32)
        .collect()
}

/// Strings to build terms from: every resource string of every record, and other fields'.
fn pool() -> &'static Vec<String> {
    static P: OnceLock<Vec<String>> = OnceLock::new();
    P.get_or_init(|| {
        let l = &loaded()[0];
        let mut out: Vec<String> = l.values.iter().flat_map(|v| resource_strings(v)).map(str::to_string).collect();
        out.extend(l.values.iter().filter_map(|v| v["eventName"].as_str()).map(str::to_string));
        out.sort();
        out.dedup();
        out
    })
}

/// The characters of `chars` between the fractions `a` and `b` of its length (at least one).
fn piece_of(chars: &[char], a: f64, b: f64) -> String {
    let (mut i, mut j) = ((a * chars.len() as f64) as usize, (b * chars.len() as f64) as usize);
    if i > j {
        std::mem::swap(&mut i, &mut j);
    }
    chars[i..(j + 1).min(chars.len())].iter().collect()
}

/// A term's value from a string: a piece of it, its case changed or kept, with wildcards.
fn value() -> impl Strategy<Value = (String, Op)> {
    (any::<prop::sample::Index>(), 0.0..1.0f64, 0.0..1.0f64, 0u8..8, any::<bool>(), 0usize..3).prop_map(
        |(pick, a, b, shape, upper, star)| {
            let s = pool()[pick.index(pool().len())].clone();
            let chars: Vec<char> = s.chars().collect();
            let piece = piece_of(&chars, a, b);
            let cased = if upper { piece.to_uppercase() } else { piece.clone() };
            match shape {
                // The whole string, exactly.
                0 => (s, Op::Exact),
                1 => (format!("{}*", chars[..chars.len().min(star + 3)].iter().collect::<String>()), Op::Exact),
                2 => (format!("*{cased}*"), Op::Contains),
                3 => (format!("{cased}*"), Op::Contains),
                4 => (
                    format!("*{}", chars[chars.len().saturating_sub(star + 4)..].iter().collect::<String>()),
                    Op::Contains,
                ),
                _ => (cased, Op::Contains),
            }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
    #[test]
    fn resource_and_text_terms_select_what_the_raw_records_hold(
        (v, op) in value(),
        negated in any::<bool>(),
        text in prop::bool::weighted(0.25),
    ) {
        prop_assume!(!v.is_empty() && v != "*");
        let field = if text { Field::Text } else { Field::Resource };
        for l in loaded() {
            let got = selected(l, field, op, &v, negated);
            let want = expected(l, field, op, &v, negated);
            prop_assert_eq!(got, want, "{:?} {:?} {:?} negated {}", field, op, v, negated);
        }
    }
}

#[test]
fn every_kind_of_value_is_found_and_has_resource_means_one_string() {
    for l in loaded() {
        let ids = |sel: Vec<u32>| -> Vec<String> {
            sel.iter().map(|&i| l.values[i as usize]["eventID"].as_str().unwrap_or("").to_string()).collect()
        };
        let one = |op, v: &str| ids(selected(l, Field::Resource, op, v, false));
        // Past the strings the index keeps, the record itself is read.
        assert_eq!(one(Op::Exact, "many-value-0003"), ["aw-1"]);
        assert_eq!(one(Op::Exact, "many-value-1499"), ["aw-1"]);
        assert_eq!(one(Op::Exact, "arn:aws:s3:::many-arn-000"), ["aw-8"]);
        assert_eq!(one(Op::Exact, "arn:aws:s3:::many-arn-099"), ["aw-8"], "past the ARNs the index keeps");
        assert_eq!(one(Op::Contains, "many-arn-bucket"), ["aw-8"]);
        assert_eq!(one(Op::Contains, "ESC\"APED\\BUCKETÉ"), ["aw-2"], "escapes and case");
        assert_eq!(one(Op::Contains, "inner-value"), ["aw-2"], "nested in arrays and objects");
        assert_eq!(one(Op::Exact, "a-plain-string-parameter"), ["aw-3"]);
        assert_eq!(one(Op::Contains, "DEEP-inside"), ["aw-7"], "nested deeper than the index follows");
        assert_eq!(one(Op::Contains, "repeated-x"), ["aw-6"]);
        assert_eq!(one(Op::Contains, "dup-bucket"), ["aw-6"]);
        assert!(one(Op::Contains, "not-a-list").is_empty(), "resources must be a list");
        assert!(!one(Op::Exact, "5").contains(&"aw-2".to_string()), "numbers are not strings");
        assert!(!one(Op::Contains, "2.5").contains(&"aw-5".to_string()), "numbers are not strings");

        let q = Query { terms: vec![Term { negated: false, kind: TermKind::Has(Field::Resource) }] };
        let mut m = Matcher::new(&q);
        m.prepare(&l.store);
        let all: Vec<u32> = (0..l.store.len() as u32).collect();
        let has = m.filter(&all, &MatchCtx { store: &l.store, raw: &l.raw });
        let want: Vec<u32> =
            (0..l.values.len() as u32).filter(|&i| !resource_strings(&l.values[i as usize]).is_empty()).collect();
        assert_eq!(has, want, "has:resource");
        let awkward_without = ["aw-4", "aw-5"];
        for i in &has {
            assert!(!awkward_without.contains(&l.values[*i as usize]["eventID"].as_str().unwrap_or("")));
        }
        // The terms stay fast: no record is read for them but those holding too many strings.
        assert!(!Matcher::new(&trailscope::query::parse("resource:bucket", 0).unwrap()).needs_raw());
    }
}

/// `print`'s load decides `text:` where each record is parsed and keeps the records the
/// filter may select within a budget: the events it selects, and the bytes read back, are
/// those of a plain load, whether a record was kept or read from its file.
#[test]
fn terms_decided_at_load_select_and_read_back_what_a_plain_load_does() {
    use trailscope::query::matcher::LoadTerms;
    let plain = &loaded()[0];
    for (filter, budget) in [
        ("resource:bucket text:s3", 20_000),
        ("-text:aws-cli resource:arn:aws", 20_000),
        ("text:=*AssumeRole* -resource:role", 4_000),
    ] {
        let q = trailscope::query::parse(filter, 0).unwrap();
        let terms = Arc::new(LoadTerms::of(&q, budget).unwrap());
        let raw = Arc::new(RawReader::new(64 << 20));
        let mut store = EventStore::default();
        let opts = LoadOptions { terms: Some(terms), ..Default::default() };
        load(&inputs().1, &opts, &raw, &mut |m| match m {
            SourceMsg::Files(f) => store.add_files(f),
            SourceMsg::Batch(b, _) => {
                store.apply(b);
            }
            _ => {}
        });
        let all: Vec<u32> = (0..store.len() as u32).collect();
        let mut m = Matcher::new(&q).text_decided_at_load();
        m.prepare(&store);
        let got = m.filter(&all, &MatchCtx { store: &store, raw: &raw });
        let mut m = Matcher::new(&q);
        m.prepare(&plain.store);
        let want = m.filter(
            &(0..plain.store.len() as u32).collect::<Vec<_>>(),
            &MatchCtx { store: &plain.store, raw: &plain.raw },
        );
        assert!(!want.is_empty(), "{filter}");
        let text = |s: &EventStore, r: &RawReader, i: u32| {
            let ev = &s.events[i as usize];
            r.read(s.file_of(ev).unwrap(), ev.loc).unwrap().to_vec()
        };
        let got_texts: Vec<Vec<u8>> = got.iter().map(|&i| text(&store, &raw, i)).collect();
        let want_texts: Vec<Vec<u8>> = want.iter().map(|&i| text(&plain.store, &plain.raw, i)).collect();
        assert_eq!(got_texts, want_texts, "{filter}");
        let kept = got
            .iter()
            .filter(|&&i| raw.is_kept(store.file_of(&store.events[i as usize]).unwrap(), store.events[i as usize].loc))
            .count();
        assert!(kept > 0, "{filter}: some records are kept");
        assert!(kept < got.len(), "{filter}: the budget runs out ({kept} of {})", got.len());
    }
}

/// `print` checks each batch as it is loaded and keeps only what matched, dropping each
/// batch's resource strings once checked: over every input (many files, so many batches), the
/// records it prints for `resource:` and `text:` terms are those the raw records select, newest
/// first.
#[test]
fn print_selecting_as_it_loads_prints_what_the_raw_records_select() {
    let plain = &loaded()[0];
    let simple = |s: &&String| {
        s.len() >= 4 && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_:/.".contains(c)) && !s.ends_with(':')
    };
    let values: Vec<&String> = pool().iter().filter(simple).step_by(37).take(12).collect();
    assert!(values.len() >= 8, "{} values", values.len());
    let mut terms = Vec::new();
    for (k, v) in values.iter().enumerate() {
        let (field, negated) = match k % 4 {
            0 | 1 => (Field::Resource, false),
            2 => (Field::Text, false),
            _ => (Field::Resource, true),
        };
        terms.push((field, negated, v.to_string()));
    }
    let mut nonempty = 0;
    for (field, negated, v) in terms {
        let name = if field == Field::Text { "text" } else { "resource" };
        let filter = format!("{}{name}:={v}", if negated { "-" } else { "" });
        let mut args = vec!["print", "--no-cache", "--format", "jsonl", "--filter", &filter];
        args.extend(inputs().1.iter().map(String::as_str));
        let out = run(&args);
        assert!(matches!(out.status.code(), Some(0 | 3)), "{filter}: {}", stderr(&out));
        let got = jsonl_values(&out);
        // The same selection as CSV (whose rows keep the columns, not the records): the same
        // events in the same order, by the eventID in its last column.
        args[3] = "csv";
        let csv = run(&args);
        let csv_ids: Vec<String> = stdout_lines(&csv)
            .iter()
            .skip(1)
            .map(|l| l.rsplit(',').next().unwrap().trim_matches('"').to_string())
            .collect();
        let json_ids: Vec<String> = got.iter().map(|v| v["eventID"].as_str().unwrap_or("").to_string()).collect();
        assert_eq!(csv_ids, json_ids, "{filter}: csv and jsonl select the same events");
        let times: Vec<i64> = got
            .iter()
            .map(|v| v["eventTime"].as_str().and_then(trailscope::model::time::parse_event_time).unwrap_or(i64::MIN))
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "{filter}: not newest first");
        let mut got: Vec<String> = got.iter().map(Value::to_string).collect();
        let mut want: Vec<String> = expected(plain, field, Op::Exact, &v, negated)
            .iter()
            .map(|&i| plain.values[i as usize].to_string())
            .collect();
        got.sort();
        want.sort();
        nonempty += usize::from(!want.is_empty());
        assert_eq!(got, want, "{filter}");
    }
    assert!(nonempty >= 6, "most terms select something ({nonempty})");
}

/// The eventID or requestID as the loader reads it from the raw JSON ("" when absent, null or
/// not text).
fn id_text(v: &Value, request: bool) -> String {
    match &v[if request { "requestID" } else { "eventID" }] {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// Every record's ids, to build `id:` and `request:` terms from.
fn id_pool() -> &'static Vec<String> {
    static P: OnceLock<Vec<String>> = OnceLock::new();
    P.get_or_init(|| {
        let l = &loaded()[0];
        let mut out: Vec<String> =
            l.values.iter().flat_map(|v| [id_text(v, false), id_text(v, true)]).filter(|s| !s.is_empty()).collect();
        out.sort();
        out.dedup();
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    /// Events keep only a hash of their ids: an exact term is decided by it and confirmed on
    /// the record, any other pattern reads the record. Both select what the records hold.
    #[test]
    fn id_and_request_terms_select_what_the_raw_records_hold(
        pick in any::<prop::sample::Index>(),
        (a, b) in (0.0..1.0f64, 0.0..1.0f64),
        shape in 0u8..5,
        request in any::<bool>(),
        negated in any::<bool>(),
    ) {
        let s = id_pool()[pick.index(id_pool().len())].clone();
        let piece = piece_of(&s.chars().collect::<Vec<char>>(), a, b);
        let (v, op) = match shape {
            0 => (s.clone(), Op::Exact),
            // The same id in the other case: not the id, as an exact term reads it.
            1 => (if s.to_uppercase() == s { s.to_lowercase() } else { s.to_uppercase() }, Op::Exact),
            2 => (format!("{piece}*"), Op::Exact),
            3 => (piece.to_uppercase(), Op::Contains),
            _ => (piece, Op::Contains),
        };
        prop_assume!(!v.is_empty() && v != "*");
        let field = if request { Field::Request } else { Field::Id };
        for l in loaded() {
            let got = selected(l, field, op, &v, negated);
            let test = reference(op, &v);
            let want: Vec<u32> = (0..l.values.len())
                .filter(|&k| test(&id_text(&l.values[k], request)) != negated)
                .map(|k| k as u32)
                .collect();
            prop_assert_eq!(got, want, "{:?} {:?} {:?} negated {}", field, op, v, negated);
        }
    }
}

#[test]
fn an_exact_id_is_answered_by_its_hash_and_the_record() {
    for l in loaded() {
        for (k, v) in l.values.iter().enumerate() {
            let ev = &l.store.events[k];
            for request in [false, true] {
                let text = id_text(v, request);
                let kept = if request { ev.request_hash } else { ev.id_hash };
                assert_eq!(kept, trailscope::model::id::hash32(&text), "event {k}");
                let read = if request { l.store.request_id(ev, &l.raw) } else { l.store.event_id(ev, &l.raw) };
                assert_eq!(read, text, "event {k}");
            }
        }
    }
}
