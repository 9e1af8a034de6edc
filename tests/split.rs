//! One big JSON Lines file is split at line ends and parsed on every core: what it loads is
//! exactly what reading it as one input loads (the same events in the same order, the same
//! bytes read back, the same copies collapsed, the same detections), with the archive index,
//! and through `print`, beside the same records in a gzip file, which is never split.

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use trailscope::cache::CacheConfig;
use trailscope::model::events::EventStore;
use trailscope::model::raw::RawReader;
use trailscope::model::SymField;
use trailscope::source::{load, LoadOptions, LoadStats, Problem, SourceMsg, SourceRules};

/// Real records (stratus-red-team, panther), generated ones (hostile strings among them),
/// and what a big hand-made file holds besides: a byte order mark, CRLF line ends, blank
/// lines, lines that are not JSON or not records, a lookup-events item, a record without a
/// readable time, and exact copies of earlier records far from them.
fn lines() -> Vec<String> {
    let mut records: Vec<Value> = stratus_records();
    let panther = std::fs::read_to_string(panther()).unwrap();
    records.extend(panther.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()));
    let opts = trailscope_gen::GenOptions { events: 3000, seed: 5, hostile: true, ..Default::default() };
    records.extend((0..3000).map(|i| trailscope_gen::record(5, i, &opts)));
    let mut out: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    let inner = json!({"eventVersion":"1.08","eventID":"lookup-1","eventTime":"2024-05-01T00:00:00Z",
        "eventName":"GetBucketAcl","eventSource":"s3.amazonaws.com"});
    let item = json!({"EventId":"lookup-1","EventName":"GetBucketAcl","CloudTrailEvent": inner.to_string()});
    let untimed = json!({"eventVersion":"1.08","eventID":"untimed-1","eventName":"ListBuckets"});
    let specials = [
        "not json at all".to_string(),
        String::new(),
        "   ".to_string(),
        r#"{"some":"object","that":"is no record"}"#.to_string(),
        item.to_string(),
        untimed.to_string(),
        "[1,2,3]".to_string(),
    ];
    for (i, s) in specials.iter().enumerate() {
        out.insert(200 + i * 500, s.clone());
    }
    for i in [3, 1500, 2900] {
        let copy = out[i].clone();
        out.push(copy);
    }
    out
}

fn write_jsonl(path: &Path, lines: &[String]) {
    let mut text = String::from("\u{feff}");
    for (i, l) in lines.iter().enumerate() {
        text.push_str(l);
        text.push_str(if i % 5 == 0 { "\r\n" } else { "\n" });
    }
    std::fs::write(path, text).unwrap();
}

fn input() -> &'static (tempfile::TempDir, PathBuf) {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        write_jsonl(&path, &lines());
        (dir, path)
    })
}

fn rules() -> Arc<trailscope::sigma::RuleSet> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sigma/rules");
    Arc::new(trailscope::sigma::RuleSet::load(&[dir]).unwrap())
}

/// What a load delivered: each event's id, time, name (as loaded) and raw bytes read back,
/// in order; the
/// detections as (event index, rule) pairs; the problems; the counts.
struct Loaded {
    events: Vec<(String, i64, String, Vec<u8>)>,
    hits: BTreeSet<(u32, u16)>,
    problems: Vec<Problem>,
    stats: LoadStats,
    batches: usize,
}

fn load_with(paths: &[&Path], opts: LoadOptions) -> Loaded {
    let raw = Arc::new(RawReader::new(1 << 20));
    let mut store = EventStore::default();
    let (mut problems, mut stats, mut batches) = (Vec::new(), LoadStats::default(), 0);
    let paths: Vec<String> = paths.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    load(&paths, &opts, &raw, &mut |m| match m {
        SourceMsg::Files(f) => store.add_files(f),
        SourceMsg::Batch(b, _) => {
            batches += 1;
            store.apply(b);
        }
        SourceMsg::Problem(p) => problems.push(p),
        SourceMsg::Done(s) => stats = s,
        _ => {}
    });
    let events = (0..store.len())
        .map(|i| {
            let ev = &store.events[i];
            let bytes = raw.read(store.file_of(ev).unwrap(), ev.loc).unwrap().to_vec();
            (store.event_id(ev, &raw), ev.time(), store.sym(ev, SymField::Name).to_string(), bytes)
        })
        .collect();
    let hits = store.detections.iter().flat_map(|(i, rules)| rules.iter().map(move |r| (i, *r))).collect();
    Loaded { events, hits, problems, stats, batches }
}

/// The same events, in the same order, read back the same, and the same counts.
fn same_load(got: &Loaded, reference: &Loaded, what: &str) {
    assert!(got.events == reference.events, "{what}: the same events, in the same order, read back the same");
    let (g, r) = (&got.stats, &reference.stats);
    assert_eq!(
        (g.files_total, g.files_done, g.files_read, g.events, g.duplicates, g.untimed, g.bytes),
        (r.files_total, r.files_done, r.files_read, r.events, r.duplicates, r.untimed, r.bytes),
        "{what}"
    );
}

fn split(part_bytes: usize) -> LoadOptions {
    LoadOptions { part_bytes, threads: 3, ..Default::default() }
}

fn whole() -> LoadOptions {
    split(usize::MAX)
}

#[test]
fn a_split_file_loads_what_the_whole_file_loads() {
    let path = &input().1;
    let size = std::fs::metadata(path).unwrap().len() as usize;
    let reference = load_with(&[path], whole());
    assert_eq!(reference.stats.files_read, 1);
    assert!(reference.events.len() > 3000);
    assert!(reference.stats.duplicates >= 3, "the copies are collapsed: {:?}", reference.stats);
    assert!(reference.stats.untimed >= 1, "{:?}", reference.stats);
    assert!(reference.events.iter().any(|e| e.0 == "lookup-1"));
    for part_bytes in [size / 3, 64 << 10, 4096] {
        let got = load_with(&[path], split(part_bytes));
        let what = format!("parts of {part_bytes} bytes");
        if got.events.len() != reference.events.len() {
            let i = got.events.iter().zip(&reference.events).position(|(a, b)| a != b).unwrap();
            let show = |e: &(String, i64, String, Vec<u8>)| {
                format!("{} {} {}", e.0, e.2, String::from_utf8_lossy(&e.3[..e.3.len().min(300)]))
            };
            panic!(
                "{what}: first difference at {i}: split {} / whole {}",
                show(&got.events[i]),
                show(&reference.events[i])
            );
        }
        same_load(&got, &reference, &what);
        // The lines skipped are said once, for the file, each by its byte offset.
        assert_eq!(got.problems.len(), 1, "{what}: {:?}", got.problems);
        let p = &got.problems[0];
        assert!(!p.skipped && p.input.ends_with("events.jsonl"), "{p:?}");
        let lines = reference.problems[0].reason.split_once(' ').unwrap().0;
        assert!(p.reason.starts_with(&format!("{lines} part(s) skipped: the line at byte ")), "{}", p.reason);
        assert!(p.reason.contains("not a JSON object"), "{}", p.reason);
        assert!(got.batches > 1, "{what}: events are handed over part by part");
    }
}

#[test]
fn detections_are_the_same_split_or_whole() {
    let path = &input().1;
    let with_rules = |opts: LoadOptions| LoadOptions { rules: Some(SourceRules::Ready(rules())), ..opts };
    let reference = load_with(&[path], with_rules(whole()));
    let got = load_with(&[path], with_rules(split(8192)));
    assert!(!reference.hits.is_empty());
    let only = |a: &Loaded, b: &Loaded| a.hits.difference(&b.hits).take(5).copied().collect::<Vec<_>>();
    assert!(
        got.hits == reference.hits,
        "{} and {} hits; only split: {:?}; only whole: {:?}",
        got.hits.len(),
        reference.hits.len(),
        only(&got, &reference),
        only(&reference, &got)
    );
}

#[test]
fn parts_are_kept_in_the_archive_index_and_taken_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("indexed.jsonl");
    std::fs::copy(&input().1, &path).unwrap();
    let cache = CacheConfig { dir: dir.path().join("cache"), max_bytes: 1 << 30 };
    let opts = || LoadOptions { cache: Some(cache.clone()), ..split(16 << 10) };
    let first = load_with(&[&path], opts());
    assert!(first.events == load_with(&[&path], whole()).events);
    // The same bytes rewritten in place, one eventName changed, the modification time put
    // back: a load that reads the file sees the change, one that takes the index does not.
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let name = "\"eventName\":\"GetCallerIdentity\"";
    assert!(text.contains(name));
    std::fs::write(&path, text.replace(name, "\"eventName\":\"GetCallerIdentitx\"")).unwrap();
    std::fs::File::options().write(true).open(&path).unwrap().set_modified(mtime).unwrap();
    let names = |l: &Loaded, name: &str| l.events.iter().filter(|e| e.2 == name).count();
    let (old, new) = ("GetCallerIdentity", "GetCallerIdentitx");
    let fresh = load_with(&[&path], split(16 << 10));
    assert!(names(&fresh, new) > 0 && names(&fresh, old) == 0, "a load that reads the file");
    let reopened = load_with(&[&path], opts());
    assert_eq!(names(&reopened, old), names(&first, old), "every part taken from the index");
    assert_eq!(names(&reopened, new), 0);
    let ids = |l: &Loaded| l.events.iter().map(|e| (e.0.clone(), e.1)).collect::<Vec<_>>();
    assert_eq!(ids(&reopened), ids(&first));
}

#[test]
fn a_big_file_of_no_records_is_one_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.jsonl");
    let lines: Vec<String> =
        (0..3000).map(|i| json!({"level":"info","msg":format!("request {i}")}).to_string()).collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    let got = load_with(&[&path], split(4096));
    assert_eq!((got.stats.files_done, got.stats.files_read, got.events.len()), (1, 0, 0));
    assert_eq!(got.problems.len(), 1, "{:?}", got.problems);
    let p = &got.problems[0];
    assert!(p.skipped && p.reason.starts_with("not CloudTrail: no line is a record"), "{p:?}");
}

/// Each input read as a stream, as one too big to hold whole is when it is not split.
fn streamed() -> LoadOptions {
    LoadOptions { part_bytes: 0, whole_max: 1024, threads: 3, ..Default::default() }
}

/// The elements of the big trail log and array: every line of [`lines`] that is JSON (the
/// records, the copies, an object that is no record, a lookup-events item, an array).
fn elements() -> Vec<String> {
    lines().into_iter().filter(|l| serde_json::from_str::<Value>(l).is_ok()).collect()
}

#[test]
fn a_split_trail_log_or_array_loads_what_the_whole_file_loads() {
    let dir = tempfile::tempdir().unwrap();
    let elements = elements();
    let trail = dir.path().join("big-trail.json");
    // Pretty-printed around the elements, with a byte order mark, as tools write it.
    std::fs::write(&trail, format!("\u{feff}{{\n  \"Records\": [\n    {}\n  ]\n}}\n", elements.join(",\n    ")))
        .unwrap();
    let array = dir.path().join("big-array.json");
    std::fs::write(&array, format!("[{}]", elements.join(","))).unwrap();
    for path in [&trail, &array] {
        let size = std::fs::metadata(path).unwrap().len() as usize;
        // Read as a stream, as a file too big to hold whole is when it is not split.
        let reference = load_with(&[path], streamed());
        assert_eq!(reference.stats.files_read, 1, "{:?}", reference.problems);
        assert!(reference.events.len() > 3000);
        assert!(reference.stats.duplicates >= 3, "the copies are collapsed: {:?}", reference.stats);
        for part_bytes in [size / 3, 64 << 10, 4096] {
            let got = load_with(&[path], split(part_bytes));
            let what = format!("{}, parts of {part_bytes} bytes", path.display());
            assert_eq!(got.events.len(), reference.events.len(), "{what}");
            same_load(&got, &reference, &what);
            assert!(got.batches > 1, "{what}: events are handed over part by part");
            // The elements that are no record are said once, for the file, each by its number.
            assert_eq!(got.problems.len(), 1, "{what}: {:?}", got.problems);
            let p = &got.problems[0];
            assert!(!p.skipped && p.reason.starts_with("2 part(s) skipped: "), "{what}: {p:?}");
            assert!(p.reason.contains("an object with none of eventTime"), "{}", p.reason);
            assert!(p.reason.contains("not a JSON object"), "{}", p.reason);
        }
    }
    // With rules, the same detections.
    let with_rules = |opts: LoadOptions| LoadOptions { rules: Some(SourceRules::Ready(rules())), ..opts };
    let (a, b) = (load_with(&[&trail], with_rules(streamed())), load_with(&[&trail], with_rules(split(8192))));
    assert!(!a.hits.is_empty() && a.hits == b.hits);
}

#[test]
fn a_damaged_big_trail_log_keeps_what_comes_before_the_damage() {
    let dir = tempfile::tempdir().unwrap();
    let elements = elements();
    let text = format!("{{\"Records\":[{}]}}", elements.join(","));
    let cut = dir.path().join("cut.json");
    // Cut in the middle of an element far into the file.
    std::fs::write(&cut, &text.as_bytes()[..text.len() * 2 / 3]).unwrap();
    // Read as a stream, as a file too big to hold whole is when it is not split.
    let streamed = load_with(&[&cut], streamed());
    let got = load_with(&[&cut], split(4096));
    assert!(got.events.len() > 1000, "{} events; {:?}", got.events.len(), got.problems);
    assert!(got.events == streamed.events, "the records before the cut, as reading it as a stream finds them");
    assert_eq!(got.problems.len(), 1, "{:?}", got.problems);
    let p = &got.problems[0];
    assert!(p.reason.contains("the content ends in the middle of a record; the rest is not read"), "{p:?}");
}

#[test]
fn print_of_a_big_json_lines_file_equals_print_of_the_same_records_gzipped() {
    // Above twice the default part size (4 MiB), so `print` splits it.
    let dir = tempfile::tempdir().unwrap();
    let opts = trailscope_gen::GenOptions { events: 12_000, seed: 9, hostile: true, ..Default::default() };
    let lines: Vec<String> = (0..12_000).map(|i| trailscope_gen::record(9, i, &opts).to_string()).collect();
    let text = lines.join("\n") + "\n";
    assert!(text.len() > 8 << 20, "{} bytes", text.len());
    let plain = dir.path().join("big.jsonl");
    std::fs::write(&plain, &text).unwrap();
    let packed = dir.path().join("big.jsonl.gz");
    std::fs::write(&packed, gzip(text.as_bytes())).unwrap();
    for filter in ["", "resource:bucket text:Get", "name:Delete*"] {
        let args = |p: &Path| {
            let mut a = vec!["print".to_string(), "--format".into(), "jsonl".into(), p.to_string_lossy().into_owned()];
            if !filter.is_empty() {
                a.extend(["--filter".into(), filter.into()]);
            }
            a
        };
        let run_on = |p: &Path| {
            let a = args(p);
            let out = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
            assert!(out.status.success(), "{}", stderr(&out));
            out.stdout
        };
        let (a, b) = (run_on(&plain), run_on(&packed));
        assert!(!a.is_empty() || filter.is_empty());
        assert!(a == b, "filter {filter:?}: {} and {} bytes", a.len(), b.len());
    }
}
