//! The source boundary: several sources run as one, what each delivers (events that read back
//! from the right records, counts, coverage, problems), commands reaching every part.

mod common;

use std::sync::Arc;
use trailscope::model::raw::RawReader;
use trailscope::model::{EventStore, SymField, NO_TIME};
use trailscope::print::{gather, Loaded};
use trailscope::source::boundary::{self, Archive, Links, Source, Sources};
use trailscope::source::lookup::{LiveCmd, LiveQuery};
use trailscope::source::{LoadOptions, LoadStats, Problem, SourceMsg};

/// Every event as text: its fields, ids, resources and its record read back.
fn events(store: &EventStore, raw: &RawReader) -> Vec<String> {
    let mut out: Vec<String> = store
        .events
        .iter()
        .map(|ev| {
            let fields: Vec<&str> = [SymField::Name, SymField::Principal, SymField::Arn, SymField::Ip, SymField::Error]
                .iter()
                .map(|&f| store.sym(ev, f))
                .collect();
            let mut res: Vec<&str> = store.resource_syms(ev).iter().map(|&s| store.syms.get(s)).collect();
            res.sort();
            let file = store.file_of(ev).expect("every event's input was announced");
            let bytes = raw.read(file, ev.loc).expect("every record reads back");
            format!(
                "{} {:?} {} {} {:?} {}",
                ev.time(),
                fields,
                store.event_id(ev, raw),
                store.request_id(ev, raw),
                res,
                String::from_utf8_lossy(&bytes)
            )
        })
        .collect();
    out.sort();
    out
}

fn archive(paths: &[std::path::PathBuf], retain: bool) -> Box<dyn Source> {
    let inputs = paths.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    Box::new(Archive { inputs, opts: LoadOptions { retain_content: retain, threads: 2, ..Default::default() } })
}

fn run(source: Box<dyn Source>, raw: &Arc<RawReader>, query: Option<LiveQuery>) -> Loaded {
    let mut progress = Vec::new();
    gather(source, raw, query, &mut progress)
}

#[test]
fn two_archives_at_once_deliver_what_each_does_alone() {
    let (stratus, panther) = (common::stratus(), common::panther());
    for retain in [false, true] {
        // One reader for both parts, as the TUI and print have: the parts number their files
        // from 0 each, and content one part offers must not answer for the other's file 0.
        let raw = Arc::new(RawReader::new(64 << 20));
        let merged = run(
            Box::new(Sources::new(vec![
                archive(std::slice::from_ref(&stratus), retain),
                archive(std::slice::from_ref(&panther), retain),
            ])),
            &raw,
            None,
        );
        let (a_raw, b_raw) = (Arc::new(RawReader::new(64 << 20)), Arc::new(RawReader::new(64 << 20)));
        let a = run(archive(std::slice::from_ref(&stratus), retain), &a_raw, None);
        let b = run(archive(std::slice::from_ref(&panther), retain), &b_raw, None);
        assert_eq!((a.stats.events, b.stats.events), (310, 414));
        let counts =
            |s: &LoadStats| [s.files_total, s.files_done, s.files_read, s.events, s.duplicates, s.bytes as usize];
        let sums: Vec<usize> = counts(&a.stats).iter().zip(counts(&b.stats)).map(|(x, y)| x + y).collect();
        assert_eq!(counts(&merged.stats).to_vec(), sums, "retain {retain}");
        assert_eq!(merged.store.files.len(), a.store.files.len() + b.store.files.len());
        let mut each = events(&a.store, &a_raw);
        each.extend(events(&b.store, &b_raw));
        each.sort();
        let got = events(&merged.store, &raw);
        assert_eq!(got.len(), each.len());
        if let Some(i) = (0..got.len()).find(|&i| got[i] != each[i]) {
            panic!("retain {retain}: event {i} differs:\n{}\nexpected\n{}", got[i], each[i]);
        }
        // The symbol table is one table: each string once.
        let mut names: Vec<&str> = merged.store.syms.iter().map(|(_, s)| s).collect();
        let before = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), before, "a string interned twice");
        let mut problems = a.problems.clone();
        problems.extend(b.problems.clone());
        assert_eq!(merged.problems.len(), problems.len());
        // Each part's coverage, apart.
        let mut parts: Vec<&str> = merged.coverage.iter().map(|c| c.part.as_str()).collect();
        parts.sort();
        assert_eq!(parts.len(), 2, "{parts:?}");
    }
}

#[test]
fn an_archive_covers_the_span_of_what_it_loaded() {
    let raw = Arc::new(RawReader::new(16 << 20));
    let loaded = run(
        Box::new(boundary::for_inputs(&[common::stratus().to_string_lossy().into_owned()], &LoadOptions::default())),
        &raw,
        None,
    );
    let times: Vec<i64> = loaded.store.events.iter().map(|e| e.time()).filter(|&t| t != NO_TIME).collect();
    let (lo, hi) = (times.iter().min().copied().unwrap(), times.iter().max().copied().unwrap());
    assert_eq!(loaded.coverage.len(), 1, "{:?}", loaded.coverage);
    let c = &loaded.coverage[0];
    assert!(c.part.starts_with("archive ") && c.part.contains("stratus-red-team"), "{}", c.part);
    assert_eq!(c.spans.iter().map(|s| (s.start, s.end)).collect::<Vec<_>>(), vec![(lo, hi)]);
}

/// A part that answers the first command it is given with a problem naming it.
struct Echo(&'static str);

impl Source for Echo {
    fn name(&self) -> String {
        self.0.into()
    }
    fn run(self: Box<Self>, mut links: Links, emit: &mut dyn FnMut(SourceMsg)) {
        let reason = match links.cmds.blocking_recv() {
            Some(LiveCmd::Query { generation, query }) => format!("query {generation} from {}", query.start_ms),
            Some(LiveCmd::Cancel) => "cancel".into(),
            None => "no command".into(),
        };
        emit(SourceMsg::Problem(Problem { input: self.0.into(), reason, skipped: false }));
        emit(SourceMsg::Done(LoadStats { files_total: 1, ..Default::default() }));
    }
}

/// A part with a bug.
struct Panics;

impl Source for Panics {
    fn name(&self) -> String {
        "panics".into()
    }
    fn run(self: Box<Self>, _: Links, _: &mut dyn FnMut(SourceMsg)) {
        panic!("a bug in a source");
    }
}

#[test]
fn every_part_gets_the_query_and_a_part_that_fails_does_not_stop_the_others() {
    let raw = Arc::new(RawReader::new(1 << 20));
    let query = LiveQuery { server: None, start_ms: 1234, end_ms: 5678 };
    let parts: Vec<Box<dyn Source>> = vec![Box::new(Echo("a")), Box::new(Panics), Box::new(Echo("b"))];
    let mut seen = Vec::new();
    let loaded = run(Box::new(Sources::new(parts)), &raw, Some(query));
    for p in &loaded.problems {
        seen.push((p.input.as_str(), p.reason.as_str(), p.skipped));
    }
    seen.sort();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[0], ("a", "query 1 from 1234", false));
    assert_eq!(seen[1], ("b", "query 1 from 1234", false));
    assert_eq!((seen[2].0, seen[2].2), ("panics", true));
    assert!(seen[2].1.contains("internal error"), "{}", seen[2].1);
    assert_eq!(loaded.stats.files_total, 2, "the parts' counts are summed once each is done");
}

#[test]
fn no_source_is_done_at_once() {
    let raw = Arc::new(RawReader::new(1 << 20));
    let loaded = run(Box::new(Sources::new(Vec::new())), &raw, None);
    assert_eq!(loaded.stats, LoadStats::default());
    assert!(loaded.store.is_empty());
}

#[test]
fn live_history_covers_each_region_as_pages_come_and_the_whole_window_once_fetched() {
    use trailscope::source::boundary::LiveHistory;
    use trailscope::source::lookup::LiveConfig;
    use trailscope_double::{Double, DoubleConfig};
    // The only test here that reads the AWS environment.
    for v in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"] {
        std::env::remove_var(v);
    }
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDTRAILSCOPETEST");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "not-a-secret");
    std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/config");
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    let dir = tempfile::tempdir().unwrap();
    let archive = common::recent_archive(dir.path(), 240, 2, 5, 3600, 6 * 3600);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let double = rt
        .block_on(Double::start(&archive, 0, DoubleConfig { rate_per_sec: f64::INFINITY, ..Default::default() }))
        .unwrap();
    let now = trailscope::model::time::now_ms();
    let query = LiveQuery { server: None, start_ms: now - 8 * 3_600_000, end_ms: now };
    let cfg = LiveConfig {
        regions: vec!["us-east-1".into(), "us-east-2".into()],
        endpoint_url: Some(double.endpoint()),
        spacing: Some(std::time::Duration::from_millis(1)),
        ..Default::default()
    };
    let raw = Arc::new(RawReader::new(1 << 20));
    let (tx, rx) = std::sync::mpsc::channel();
    let (_cmd_tx, cmd_rx) = tokio::sync::mpsc::unbounded_channel();
    let (_hungry_tx, hungry) = tokio::sync::watch::channel(true);
    _cmd_tx.send(LiveCmd::Query { generation: 1, query: query.clone() }).unwrap();
    drop(_cmd_tx);
    let links = Links { raw, cmds: cmd_rx, hungry };
    Box::new(LiveHistory { cfg, until_done: true }).run(links, &mut |m| {
        if let SourceMsg::Coverage(c) = m {
            tx.send(c).unwrap();
        }
    });
    let said: Vec<_> = rx.try_iter().collect();
    for region in ["us-east-1", "us-east-2"] {
        let mine: Vec<_> = said.iter().filter(|c| c.part == format!("LookupEvents {region}")).collect();
        if region == "us-east-1" {
            // Most of the events, several pages.
            assert!(mine.len() >= 2, "{region}: pages cover the window bit by bit: {mine:?}");
        }
        // Newest first: each says more, from the window's end back.
        for c in &mine {
            assert_eq!(c.spans.len(), 1, "{c:?}");
            assert_eq!(c.spans[0].end, query.end_ms);
        }
        assert!(mine.windows(2).all(|w| w[1].spans[0].start < w[0].spans[0].start), "{mine:?}");
        let last = mine.last().unwrap();
        assert_eq!((last.spans[0].start, last.spans[0].end), (query.start_ms, query.end_ms));
    }
}
