//! Detections in the TUI's state, as the app runs them: the detection thread reads the rules
//! of ../shared/sigma and evaluates each batch as it loads; the list marks the events, the
//! detail view names the rules, the filter and the facets use them, and what the TUI finds is
//! what `trailscope detect` finds.

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use trailscope::model::detect::Level;
use trailscope::model::raw::RawReader;
use trailscope::sanitize::is_unsafe;
use trailscope::source::{load, LoadOptions};
use trailscope::tui::action::Action;
use trailscope::tui::state::{Effect, Msg, Start};

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sigma/rules")
}

/// A state loaded from `inputs` with the rules of `rules` evaluated as the app does (by the
/// source as it parses each record), once every event has been.
fn loaded(inputs: &[PathBuf], rules: Vec<PathBuf>, filter: Option<&str>) -> TestState {
    loaded_by(inputs, rules, filter, true)
}

/// [`loaded`], the records evaluated by the source where it parses them (`in_source`), or
/// read back and evaluated after loading by the detection thread (as for live history).
fn loaded_by(inputs: &[PathBuf], rules: Vec<PathBuf>, filter: Option<&str>, in_source: bool) -> TestState {
    let how = if in_source { Evaluated::InSource } else { Evaluated::AfterLoading };
    loaded_how(inputs, rules, filter, how, LoadOptions::default()).0
}

/// Where the records are evaluated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Evaluated {
    /// By the source, where it parses them.
    InSource,
    /// Read back by the detection thread after loading (as for live history).
    AfterLoading,
    /// As the app does: the source starts before the rules are read; they arrive once the
    /// first batch is in, and the events loaded before are left to the detection thread.
    RulesLate,
}

/// [`loaded`] with `opts`, the records evaluated `how`; with the ranges of events sent to the
/// detection thread.
fn loaded_how(
    inputs: &[PathBuf],
    rules: Vec<PathBuf>,
    filter: Option<&str>,
    how: Evaluated,
    opts: LoadOptions,
) -> (TestState, Vec<std::ops::Range<u32>>) {
    use trailscope::source::SourceRules;
    let raw = Arc::new(RawReader::new(64 << 20));
    let start =
        Start { now_ms: 1_767_225_600_000, detect: true, filter: filter.map(str::to_string), ..Start::default() };
    let mut state = new_state_with(raw.clone(), start);
    let rules = Arc::new(trailscope::sigma::RuleSet::load(&rules).unwrap());
    let (msg_tx, mut msg_rx) = tokio::sync::mpsc::unbounded_channel();
    let slot = Arc::new(std::sync::OnceLock::new());
    let (arrived_tx, arrived_rx) = std::sync::mpsc::channel::<()>();
    let read = {
        let (rules, slot) = (rules.clone(), slot.clone());
        move || {
            // The rules are read while the source runs: here, once told to.
            if how == Evaluated::RulesLate {
                arrived_rx.recv().unwrap();
            }
            let msg = Msg::rules(rules.infos(), rules.problems.clone(), rules.other_logsource);
            slot.set(rules.clone()).unwrap();
            (Some(msg), Some(rules))
        }
    };
    let detect_tx = trailscope::tui::app::spawn_detector_with(read, state.store().clone(), raw.clone(), msg_tx);
    if how != Evaluated::RulesLate {
        let _ = arrived_tx.send(());
        // The rules are known before loading starts.
        state.apply(msg_rx.blocking_recv().unwrap());
        assert!(slot.get().is_some());
    }
    let paths: Vec<String> = inputs.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let source_rules = match how {
        Evaluated::InSource => Some(SourceRules::Ready(rules.clone())),
        Evaluated::AfterLoading => None,
        Evaluated::RulesLate => Some(SourceRules::Later(slot.clone())),
    };
    let opts = LoadOptions { rules: source_rules, ..opts };
    let mut sent = Vec::new();
    let mut send = |state: &mut TestState| {
        for e in state.take_effects() {
            if let Effect::Detect { generation, ranges } = e {
                sent.extend(ranges.iter().cloned());
                detect_tx.send((generation, ranges)).unwrap();
            }
        }
    };
    load(&paths, &opts, &raw, &mut |m| {
        let batch = matches!(m, trailscope::source::SourceMsg::Batch(..));
        state.apply(Msg::Load(m));
        send(&mut state);
        if batch {
            let _ = arrived_tx.send(());
        }
    });
    send(&mut state);
    match how {
        Evaluated::InSource => assert!(sent.is_empty(), "only what the source did not evaluate is sent: {sent:?}"),
        _ => assert!(!sent.is_empty()),
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while state.detections_pending() > 0 || state.store().read().detections.rules.is_empty() {
        assert!(Instant::now() < deadline, "detections did not finish");
        match msg_rx.try_recv() {
            Ok(m) => state.apply(m),
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    state.settle();
    (state, sent)
}

/// (rule id, eventID) pairs of the state's detections.
fn pairs_of(state: &TestState) -> BTreeSet<(String, String)> {
    let store = state.store().read();
    let d = &store.detections;
    d.iter()
        .flat_map(|(i, rules)| {
            let id = store.event_id(&store.events[i as usize], state.raw());
            rules.iter().map(move |&r| (d.rules[r as usize].id.clone(), id.clone()))
        })
        .collect()
}

/// (rule id, eventID) pairs of `detect`'s output.
fn detect_pairs(out: &std::process::Output) -> BTreeSet<(String, String)> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["rule_id"].as_str().unwrap().to_string(), v["eventID"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn the_tui_finds_what_detect_finds() {
    let state = loaded(&[stratus(), panther()], vec![rules_dir()], None);
    let ours = pairs_of(&state);
    let rules = rules_dir();
    let out = run(&[
        "detect",
        "--no-cache",
        "--rules",
        rules.to_str().unwrap(),
        stratus().to_str().unwrap(),
        panther().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(5));
    let detect = detect_pairs(&out);
    assert!(!ours.is_empty());
    assert_eq!(ours, detect);
    // Evaluated after loading (as for live history), the same.
    let after = loaded_by(&[stratus(), panther()], vec![rules_dir()], None, false);
    assert_eq!(pairs_of(&after), ours);
    assert_eq!(after.store().read().detections.per_rule, state.store().read().detections.per_rule);
    // The placeholder rule is listed under E, not evaluated.
    assert!(state.problems().iter().any(|p| p.input.contains("templated") && p.reason.contains("placeholder")));
}

#[test]
fn filter_terms_and_the_rule_facet() {
    let mut state = loaded(&[stratus()], vec![rules_dir()], None);
    let (all, levels): (Vec<u32>, BTreeMap<u32, Level>) = {
        let store = state.store().read();
        let d = &store.detections;
        ((0..store.len() as u32).collect(), d.iter().filter_map(|(i, _)| Some((i, d.top_level(i)?))).collect())
    };
    assert!(levels.values().any(|l| *l >= Level::High) && levels.values().any(|l| *l < Level::High));
    let check = |state: &mut TestState, filter: &str, want: &dyn Fn(u32) -> bool| {
        state.update(Action::FocusFilter);
        state.update(Action::FilterClear);
        for c in filter.chars() {
            state.update(Action::FilterInsert(c));
        }
        state.update(Action::FilterSubmit);
        state.settle();
        let got: BTreeSet<u32> = state.view().iter().copied().collect();
        let expected: BTreeSet<u32> = all.iter().copied().filter(|&i| want(i)).collect();
        assert!(!expected.is_empty(), "{filter}");
        assert_eq!(got, expected, "{filter}");
    };
    check(&mut state, "has:rule", &|i| levels.contains_key(&i));
    check(&mut state, "-has:rule", &|i| !levels.contains_key(&i));
    check(&mut state, "level:high", &|i| levels.get(&i).is_some_and(|l| *l >= Level::High));
    check(&mut state, "level:low", &|i| levels.contains_key(&i));
    let flow: BTreeSet<u32> = {
        let store = state.store().read();
        let d = &store.detections;
        d.iter()
            .filter(|(_, rs)| rs.iter().any(|&r| d.rules[r as usize].title.contains("Flow Logs")))
            .map(|(i, _)| i)
            .collect()
    };
    check(&mut state, "rule:\"flow logs\"", &|i| flow.contains(&i));
    check(&mut state, "rule:e386b9b5", &|i| flow.contains(&i));
    // The facet of rules counts the view's events per rule, most first.
    state.update(Action::FocusFilter);
    state.update(Action::FilterClear);
    state.update(Action::FilterSubmit);
    state.update(Action::ToggleFacets);
    state.settle();
    let summary = state.facets().summary().unwrap().clone();
    let facet = &summary.facets[0];
    assert!(facet.rules && facet.label == "rule");
    let store = state.store().read();
    for &(r, n) in &facet.top {
        assert_eq!(n as usize, store.detections.per_rule[r as usize]);
    }
    assert!(facet.top.windows(2).all(|w| w[0].1 >= w[1].1));
    drop(store);
    // In a filtered view, only the view's events are counted.
    check(&mut state, "level:high", &|i| levels.get(&i).is_some_and(|l| *l >= Level::High));
    state.settle();
    let summary = state.facets().summary().unwrap().clone();
    let facet = &summary.facets[0];
    let store = state.store().read();
    let mut expected: BTreeMap<u16, u32> = BTreeMap::new();
    for &i in state.view() {
        for &r in store.detections.of(i) {
            *expected.entry(r).or_default() += 1;
        }
    }
    let got: BTreeMap<u16, u32> = facet.top.iter().map(|&(r, n)| (r as u16, n)).collect();
    assert_eq!(got, expected);
    assert!(got.values().sum::<u32>() < store.detections.per_rule.iter().sum::<usize>() as u32);
}

#[test]
fn list_and_detail_show_detections_sanitised() {
    // A rule whose title and author are hostile, matching every stratus event.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hostile.yml"),
        "title: \"Evil \\e[2J\\u202eTitle\"\nid: hostile-1\nlevel: critical\nauthor: \"x\\u0007y\"\n\
         description: \"line one\\nline two \\e]52;c;AAAA\\u0007\"\nreferences:\n  - \"https://example.com/\\e[31m\"\n\
         logsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    eventVersion|startswith: '1.'\n  condition: sel\n",
    )
    .unwrap();
    let mut state = loaded(&[stratus()], vec![dir.path().to_path_buf()], None);
    state.update(Action::OpenDetail);
    let t = draw_state(&mut state, 140, 40);
    let rows: Vec<String> = {
        let buf = t.backend().buffer();
        (0..buf.area.height).map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol().to_string()).collect()).collect()
    };
    for cell in t.backend().buffer().content() {
        assert!(!cell.symbol().chars().any(is_unsafe), "unsafe character in a cell: {:?}", cell.symbol());
    }
    let screen = rows.join("\n");
    assert!(screen.contains("C critical Evil"), "{screen}");
    assert!(screen.contains("hostile-1"), "{screen}");
    assert!(screen.contains("https://example.com/"), "{screen}");
    // The list's detection column: the critical mark on the rows.
    assert!(rows.iter().filter(|r| r.contains("│ C ") || r.contains(" C 20")).count() > 5, "{screen}");
}

/// `trailscope detect`'s exit statuses, output formats and messages.
#[test]
fn detect_command_statuses_and_formats() {
    let rules = rules_dir();
    let r = rules.to_str().unwrap();
    let stratus = stratus();
    let s = stratus.to_str().unwrap();
    // No rules at all: a usage error that says what to do.
    let out = run(&["detect", "--no-cache", "--config", "/dev/null", s]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--rules"));
    // A --rules path that does not exist.
    let out = run(&["detect", "--no-cache", "--rules", "/nonexistent/rules", s]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/rules"));
    // Detections outrank an input that could not be read, which is still named.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.json");
    std::fs::write(&bad, "not json at all").unwrap();
    let out = run(&["detect", "--no-cache", "--rules", r, s, bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.json"));
    // No detection: 0; and with the unreadable input beside it, 3.
    let quiet = dir.path().join("quiet.yml");
    std::fs::write(
        &quiet,
        "title: Never\nid: never-1\nlevel: high\nlogsource:\n  product: aws\n  service: cloudtrail\n\
         detection:\n  sel:\n    eventName: NoSuchCall\n  condition: sel\n",
    )
    .unwrap();
    let q = quiet.to_str().unwrap();
    let out = run(&["detect", "--no-cache", "--rules", q, s]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    let out = run(&["detect", "--no-cache", "--rules", q, s, bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    // A broken rule file is named, the others still run.
    let broken = dir.path().join("broken.yml");
    std::fs::write(&broken, "title: [oops\n").unwrap();
    let out = run(&["detect", "--no-cache", "--rules", r, "--rules", broken.to_str().unwrap(), s]);
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.yml") && err.contains("YAML"), "{err}");
    // The table: one row per rule that matched, the highest levels first.
    let out = run(&["detect", "--no-cache", "--format", "table", "--rules", r, s]);
    assert_eq!(out.status.code(), Some(5));
    let table = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = table.lines().skip(1).collect();
    let jsonl = run(&["detect", "--no-cache", "--rules", r, s]);
    let titles: BTreeSet<String> = String::from_utf8(jsonl.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rows.len(), titles.len(), "{table}");
    let rank = |row: &str| Level::parse(row.split_whitespace().next().unwrap()).unwrap();
    assert!(rows.windows(2).all(|w| rank(w[0]) >= rank(w[1])), "{table}");
}

/// The check on an event's summary that spares reading its record never rules out an event
/// a rule matches (every real record, every SigmaHQ rule), and does rule most out.
#[test]
fn the_summary_check_never_rules_out_a_match() {
    let raw = RawReader::new(64 << 20);
    let paths = vec![stratus().to_string_lossy().into_owned(), panther().to_string_lossy().into_owned()];
    let loaded = trailscope::print::load_all(&paths, &raw, true);
    let rules = trailscope::sigma::RuleSet::load(&[rules_dir()]).unwrap();
    let store = &loaded.store;
    let (mut matched, mut ruled_out) = (0, 0);
    for ev in &store.events {
        let bytes = raw.read(store.file_of(ev).unwrap(), ev.loc).unwrap();
        let hits = rules.eval_bytes(&bytes);
        let may = rules.may_match(trailscope::sigma::summary_of(store, ev));
        if !hits.is_empty() {
            matched += 1;
            assert!(may, "ruled out, yet matched: {}", String::from_utf8_lossy(&bytes));
        }
        ruled_out += usize::from(!may);
    }
    assert!(matched > 100, "{matched}");
    assert!(ruled_out > store.len() / 3, "{ruled_out} of {}", store.len());
}

/// With the matched rules above the record, the record still scrolls to its last line.
#[test]
fn the_detail_view_scrolls_to_the_record_end_below_the_rules() {
    let mut state = loaded(&[stratus()], vec![rules_dir()], Some("has:rule"));
    state.update(Action::OpenDetail);
    let t = draw_state(&mut state, 120, 40);
    drop(t);
    for _ in 0..50 {
        state.update(Action::PageDown);
    }
    let t = draw_state(&mut state, 120, 40);
    let buf = t.backend().buffer();
    let rows: Vec<String> =
        (0..buf.area.height).map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol().to_string()).collect()).collect();
    let screen = rows.join("\n");
    // The record's closing brace is on screen, and the position reads n/n.
    assert!(rows.iter().any(|r| r.trim_start_matches('│').starts_with('}')), "{screen}");
    let pos = rows.iter().find_map(|r| {
        r.split(' ').find(|w| w.contains('/') && w.chars().all(|c| c.is_ascii_digit() || c == '/')).map(str::to_string)
    });
    if let Some(p) = pos {
        let (a, b) = p.split_once('/').unwrap();
        let (a, b): (usize, usize) = (a.parse().unwrap(), b.parse().unwrap());
        assert!(a > 1 && a <= b, "{p}: {screen}");
    }
}

/// Gzip files holding the stratus records with copies: repeated in the same file, whole in a
/// second file, with keys reordered in a third, and two matching records whose eventTime is
/// not CloudTrail's usual form. Every (record, rule) pair is found once, as written, whether
/// the records are evaluated as they are parsed or read back after loading.
#[test]
fn copies_in_gzip_files_are_evaluated_once() {
    use std::io::Write;
    let rules = trailscope::sigma::RuleSet::load(&[rules_dir()]).unwrap();
    let records = stratus_records();
    let matching: Vec<&serde_json::Value> =
        records.iter().filter(|r| !rules.eval_bytes(r.to_string().as_bytes()).is_empty()).collect();
    assert!(matching.len() > 10, "{}", matching.len());
    let mut odd = Vec::new();
    for (n, time) in [(0, "2024-01-02T03:04:05.678Z"), (1, "1704164645")] {
        let mut r = matching[n].clone();
        r["eventID"] = format!("odd-{n}").into();
        r["eventTime"] = time.into();
        odd.push(r);
    }
    let reordered: Vec<serde_json::Value> = matching
        .iter()
        .take(5)
        .map(|r| {
            let mut m = serde_json::Map::new();
            for (k, v) in r.as_object().unwrap().iter().rev() {
                m.insert(k.clone(), v.clone());
            }
            serde_json::Value::Object(m)
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, recs: Vec<serde_json::Value>| {
        let f = std::fs::File::create(dir.path().join(name)).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        gz.write_all(serde_json::json!({ "Records": recs }).to_string().as_bytes()).unwrap();
        gz.finish().unwrap();
    };
    let mut first: Vec<serde_json::Value> = records.clone();
    first.extend(matching.iter().take(20).map(|r| (*r).clone()));
    first.extend(odd.clone());
    write("a.json.gz", first);
    write("b.json.gz", records.clone());
    write("c.json.gz", reordered);
    // What each distinct record matches, with its eventID and eventTime as written.
    let mut expected: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for r in records.iter().chain(&odd) {
        let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
        for i in rules.eval_bytes(r.to_string().as_bytes()) {
            let id = rules.rules[i as usize].info.id.clone();
            *expected.entry((text("eventID"), text("eventTime"), id)).or_default() += 1;
        }
    }
    let out = run(&["detect", "--no-cache", "--rules", rules_dir().to_str().unwrap(), dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    let mut got: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for l in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let text = |k: &str| v[k].as_str().unwrap().to_string();
        *got.entry((text("eventID"), text("eventTime"), text("rule_id"))).or_default() += 1;
    }
    assert_eq!(got, expected);
    // The TUI: the same pairs and counts by either way of evaluating.
    let parsed = loaded(&[dir.path().to_path_buf()], vec![rules_dir()], None);
    let after = loaded_by(&[dir.path().to_path_buf()], vec![rules_dir()], None, false);
    let pairs: BTreeSet<(String, String)> = expected.keys().map(|(e, _, r)| (r.clone(), e.clone())).collect();
    assert_eq!(pairs_of(&parsed), pairs);
    assert_eq!(pairs_of(&after), pairs);
    let (a, b) = (parsed.store().read(), after.store().read());
    assert_eq!(a.len(), records.len() + odd.len());
    assert_eq!((a.detections.events(), &a.detections.per_rule), (b.detections.events(), &b.detections.per_rule));
    assert_eq!(a.detections.per_rule.iter().sum::<usize>(), expected.values().sum::<usize>());
    assert_eq!((a.detections.evaluated, b.detections.evaluated), (a.len(), b.len()));
}

/// The app starts the source before the rules are read: the events of the files begun before
/// they arrive are evaluated by the detection thread after loading, the rest by the source as
/// it parses them; every event is evaluated, once, and the same pairs are found.
#[test]
fn events_loaded_before_the_rules_arrive_are_evaluated_once() {
    use std::io::Write;
    let records = stratus_records();
    // Twenty files of distinct records (copies would be collapsed), read one at a time.
    let dir = tempfile::tempdir().unwrap();
    for n in 0..20 {
        let recs: Vec<serde_json::Value> = records
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r["eventID"] = format!("{}-{n}", r["eventID"].as_str().unwrap_or("none")).into();
                r
            })
            .collect();
        let f = std::fs::File::create(dir.path().join(format!("f{n:02}.json.gz"))).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        gz.write_all(serde_json::json!({ "Records": recs }).to_string().as_bytes()).unwrap();
        gz.finish().unwrap();
    }
    let inputs = [dir.path().to_path_buf()];
    let one_by_one = || LoadOptions { threads: 1, batch_interval: Duration::ZERO, ..LoadOptions::default() };
    let (late, sent) = loaded_how(&inputs, vec![rules_dir()], None, Evaluated::RulesLate, one_by_one());
    let (early, none) = loaded_how(&inputs, vec![rules_dir()], None, Evaluated::InSource, one_by_one());
    assert!(none.is_empty());
    let store = late.store().read();
    let after: usize = sent.iter().map(|r| r.len()).sum();
    // Both ways were taken: some files before the rules arrived, some after.
    assert!(after > 0 && after < store.len(), "{after} of {} evaluated after loading", store.len());
    // Every event evaluated, none twice (a second evaluation would count its rules again).
    assert_eq!(store.detections.evaluated, store.len());
    assert_eq!(store.len(), early.store().read().len());
    assert_eq!(store.detections.per_rule, early.store().read().detections.per_rule);
    drop(store);
    assert_eq!(pairs_of(&late), pairs_of(&early));
    assert!(!pairs_of(&late).is_empty());
}

/// `print` with a filter on detections checks each batch as it is loaded, with the hits its
/// source found as it parsed the records: it prints the events `detect` finds, for one rule
/// and for any, as records and as CSV rows (by eventID: some test records share one).
#[test]
fn print_with_rule_terms_prints_what_detect_finds() {
    let rules = rules_dir();
    let (r, s, p) = (rules.to_str().unwrap(), stratus(), panther());
    let (s, p) = (s.to_str().unwrap(), p.to_str().unwrap());
    let out = run(&["detect", "--no-cache", "--rules", r, s, p]);
    assert_eq!(out.status.code(), Some(5));
    let pairs = detect_pairs(&out);
    let (rule, _) = pairs.iter().next().unwrap().clone();
    for (filter, want) in [
        ("has:rule".to_string(), pairs.iter().map(|(_, e)| e.clone()).collect::<BTreeSet<_>>()),
        (format!("rule:{rule}"), pairs.iter().filter(|(x, _)| *x == rule).map(|(_, e)| e.clone()).collect()),
    ] {
        assert!(!want.is_empty(), "{filter}");
        let out = run(&["print", "--no-cache", "--format", "jsonl", "--rules", r, "--filter", &filter, s, p]);
        let ids: Vec<String> =
            jsonl_values(&out).iter().map(|v| v["eventID"].as_str().unwrap_or("").to_string()).collect();
        assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), want, "{filter}: {}", stderr(&out));
        let csv = run(&["print", "--no-cache", "--format", "csv", "--rules", r, "--filter", &filter, s, p]);
        let csv_ids: Vec<String> =
            stdout_lines(&csv).iter().skip(1).map(|l| l.rsplit(',').next().unwrap().to_string()).collect();
        assert_eq!(csv_ids, ids, "{filter}: CSV rows in the same order");
    }
}
