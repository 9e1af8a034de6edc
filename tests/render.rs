//! TestBackend renders of the panes (insta snapshots), and the rule that no control
//! character from an event ever reaches a cell.

mod common;
use common::*;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::path::Path;
use std::sync::Arc;
use trailscope::model::raw::RawReader;
use trailscope::sanitize::is_unsafe;
use trailscope::source::{load, LoadOptions};
use trailscope::tui::action::Action;
use trailscope::tui::state::{Msg, Start};

fn loaded(paths: &[&Path]) -> TestState {
    let raw = Arc::new(RawReader::new(64 << 20));
    let mut state = new_state(raw.clone(), 1_767_225_600_000);
    let paths: Vec<String> = paths.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    load(&paths, &LoadOptions::default(), &raw, &mut |m| state.apply(Msg::Load(m)));
    state.pin_load_time(std::time::Duration::from_millis(1234));
    state
}

fn render(state: &mut TestState, w: u16, h: u16) -> Terminal<TestBackend> {
    draw_state(state, w, h)
}

fn assert_no_control_chars(t: &Terminal<TestBackend>) {
    for cell in t.backend().buffer().content() {
        assert!(!cell.symbol().chars().any(is_unsafe), "unsafe character in a cell: {:?}", cell.symbol());
    }
}

fn defense_evasion() -> Vec<std::path::PathBuf> {
    stratus(); // asserts the data is there
    ["cloudtrail-delete", "cloudtrail-stop", "cloudtrail-event-selectors", "vpc-remove-flow-logs", "dns-delete-logs"]
        .iter()
        // Relative to the package root (the tests' working directory), so that snapshots do
        // not depend on where the checkout is.
        .map(|n| Path::new("../shared/data/stratus-red-team").join(format!("aws.defense-evasion.{n}.json")))
        .collect()
}

#[test]
fn list_and_detail_120x40() {
    let paths = defense_evasion();
    let mut state = loaded(&paths.iter().map(|p| p.as_path()).collect::<Vec<_>>());
    assert_eq!(state.view().len(), 5);
    state.update(Action::Down);
    let t = render(&mut state, 120, 40);
    assert_no_control_chars(&t);
    insta::assert_snapshot!("list_detail_120x40", t.backend());
}

#[test]
fn filter_with_error_and_match_80x24() {
    let paths = defense_evasion();
    let mut state = loaded(&paths.iter().map(|p| p.as_path()).collect::<Vec<_>>());
    state.update(Action::FocusFilter);
    for c in "name:Delete*".chars() {
        state.update(Action::FilterInsert(c));
    }
    state.settle();
    assert_eq!(state.view().len(), 3);
    let t = render(&mut state, 80, 24);
    insta::assert_snapshot!("filter_match_80x24", t.backend());
    for c in " \"x".chars() {
        state.update(Action::FilterInsert(c));
    }
    state.settle();
    assert_eq!(state.view().len(), 3, "a malformed filter keeps the last good result");
    let t = render(&mut state, 80, 24);
    insta::assert_snapshot!("filter_error_80x24", t.backend());
}

#[test]
fn help_and_errors_popups() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.json.gz"), &gzip(br#"{"Records":[]}"#)[..10]).unwrap();
    let paths = defense_evasion();
    let mut all: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let broken = dir.path().join("broken.json.gz");
    all.push(&broken);
    let mut state = loaded(&all);
    state.update(Action::Errors);
    let t = render(&mut state, 100, 30);
    let text = t.backend().to_string();
    assert!(text.contains("skipped: ") && text.contains("broken.json.gz") && text.contains("truncated gzip"), "{text}");
    state.update(Action::Back);
    state.update(Action::Help);
    let t = render(&mut state, 100, 30);
    let text = t.backend().to_string();
    for action in [Action::Quit, Action::FocusFilter, Action::OpenDetail] {
        let start: String = action.doc().chars().take(30).collect();
        assert!(text.contains(&start) && text.contains(action.name()), "help lacks {:?}:\n{text}", action);
    }
}

/// What lost nothing (records without a readable time, read in full; the cache not used) is
/// listed with the problems but not counted as one: the status bar says notes until an input
/// has a problem.
#[test]
fn notes_are_listed_with_the_problems_but_not_counted_as_problems() {
    use trailscope::source::SourceMsg;
    let dir = tempfile::tempdir().unwrap();
    let untimed = dir.path().join("untimed.jsonl");
    std::fs::write(&untimed, "{\"eventVersion\":\"1.08\",\"eventID\":\"u-1\",\"eventName\":\"ListBuckets\"}\n")
        .unwrap();
    let paths = defense_evasion();
    let mut all: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    all.push(&untimed);
    let mut state = loaded(&all);
    state.apply(Msg::Load(SourceMsg::Warning("the stored load of these inputs is damaged; reading the files".into())));
    assert!(state.problems().is_empty(), "{:?}", state.problems());
    assert_eq!(state.notes().len(), 2, "{:?}", state.notes());
    let text = render(&mut state, 100, 30).backend().to_string();
    assert!(text.contains("2 notes (E)") && !text.contains("with problems"), "{text}");
    state.update(Action::Errors);
    let text = render(&mut state, 100, 30).backend().to_string();
    assert!(text.contains("Inputs with problems (0) · notes (2)") && text.contains("Every input was read."), "{text}");
    assert!(text.contains("read in full, note: ") && text.contains("untimed.jsonl"), "{text}");
    assert!(text.contains("cache:") && text.contains("stored load of these inputs is damaged"), "{text}");
    state.update(Action::Back);

    // An input with a problem besides: counted, the notes still listed.
    std::fs::write(dir.path().join("broken.json.gz"), &gzip(br#"{"Records":[]}"#)[..10]).unwrap();
    let broken = dir.path().join("broken.json.gz");
    all.push(&broken);
    let mut state = loaded(&all);
    let text = render(&mut state, 100, 30).backend().to_string();
    assert!(text.contains("1 input with problems (E)") && !text.contains("note (E)"), "{text}");
    state.update(Action::Errors);
    let text = render(&mut state, 100, 30).backend().to_string();
    assert!(text.contains("Inputs with problems (1) · notes (1)") && text.contains("skipped: "), "{text}");
}

fn hostile_record(i: usize, s: &str) -> serde_json::Value {
    serde_json::json!({
        "eventVersion": "1.08",
        "eventTime": format!("2025-01-01T00:00:{:02}Z", i % 60),
        "eventName": format!("Get{s}Object"),
        "eventSource": "s3.amazonaws.com",
        "awsRegion": format!("us-east-1{s}"),
        "sourceIPAddress": format!("1.2.3.{i}{s}"),
        "userAgent": format!("aws-cli/2 {s}"),
        "errorCode": format!("AccessDenied{s}"),
        "errorMessage": s,
        "eventID": format!("id-{i}-{s}"),
        "userIdentity": {"type": "IAMUser", "userName": format!("mallory{s}"), "arn": format!("arn:aws:iam::1:user/m{s}")},
        "requestParameters": {"bucketName": s, s: s},
    })
}

pub const HOSTILE: &[&str] = &[
    "\u{1b}]0;pwned\u{7}",
    "\u{1b}[2J\u{1b}[H",
    "\u{1b}[31mred\u{1b}[0m",
    "\u{1b}]52;c;cHduZWQ=\u{7}",
    "\u{9b}2J",
    "\u{85}\u{9d}",
    "bell\u{7}back\u{8}cr\r\nnul\0del\u{7f}",
    "\u{202e}evil\u{202c}\u{2066}x\u{2069}",
    "zero\u{200b}width\u{feff}",
    "東京🚀wide",
];

#[test]
fn hostile_strings_never_reach_a_cell() {
    let dir = tempfile::tempdir().unwrap();
    let mut recs: Vec<serde_json::Value> = HOSTILE.iter().enumerate().map(|(i, s)| hostile_record(i, s)).collect();
    recs.push(hostile_record(99, &"x\u{1b}[2J".repeat(2000)));
    let path = dir.path().join("hostile.json");
    std::fs::write(&path, serde_json::to_vec(&recs).unwrap()).unwrap();
    let mut state = loaded(&[&path]);
    assert_eq!(state.view().len(), HOSTILE.len() + 1);
    for (w, h) in [(120, 40), (80, 24), (200, 60)] {
        for _ in 0..state.view().len() {
            let t = render(&mut state, w, h);
            assert_no_control_chars(&t);
            state.update(Action::Down);
        }
        state.update(Action::OpenDetail);
        for _ in 0..40 {
            state.update(Action::PageDown);
            assert_no_control_chars(&render(&mut state, w, h));
        }
        state.update(Action::Back);
        state.update(Action::Top);
    }
    state.update(Action::Help);
    assert_no_control_chars(&render(&mut state, 120, 40));
}

/// The list's eventID column reads the ids from the records (events keep only a hash of them),
/// hostile ones included: every row on screen shows its own, and nothing reaches a cell raw.
#[test]
fn the_event_id_column_shows_each_rows_id_from_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let recs: Vec<serde_json::Value> = HOSTILE.iter().enumerate().map(|(i, s)| hostile_record(i, s)).collect();
    let path = dir.path().join("hostile.json");
    std::fs::write(&path, serde_json::to_vec(&recs).unwrap()).unwrap();
    let raw = Arc::new(RawReader::new(64 << 20));
    let columns = Some(vec![(0, None), (1, Some(12)), (11, None)]);
    let mut state = new_state_with(raw.clone(), Start { now_ms: 1_767_225_600_000, columns, ..Start::default() });
    load(&[path.to_string_lossy().into_owned()], &LoadOptions::default(), &raw, &mut |m| state.apply(Msg::Load(m)));
    for _ in 0..2 {
        // Drawn twice: the second time from what the first read.
        let t = render(&mut state, 200, 40);
        assert_no_control_chars(&t);
        let rows: Vec<String> = (0..40u16)
            .map(|y| (0..200u16).map(|x| t.backend().buffer()[(x, y)].symbol().to_string()).collect())
            .collect();
        for i in 0..HOSTILE.len() {
            let prefix = format!("id-{i}-");
            // In the list (the detail's title has the selected one's too).
            let in_list = rows.iter().filter(|r| r.contains("2025-01-01 00:00") && r.contains(&prefix)).count();
            assert_eq!(in_list, 1, "{prefix}: {rows:#?}");
        }
    }
}

#[test]
fn tiny_terminals_do_not_panic() {
    let paths = defense_evasion();
    let mut state = loaded(&paths.iter().map(|p| p.as_path()).collect::<Vec<_>>());
    for (w, h) in [(1, 1), (2, 1), (1, 5), (10, 3), (39, 11), (40, 12), (41, 13), (80, 24)] {
        let t = render(&mut state, w, h);
        assert_no_control_chars(&t);
        state.update(Action::Help);
        render(&mut state, w, h);
        state.update(Action::Back);
        state.update(Action::OpenDetail);
        render(&mut state, w, h);
        state.update(Action::Back);
    }
}

/// The same hostile strings through `print --format table` and `csv`, and through error
/// messages about a file whose name and keys are hostile: nothing raw on either stream.
#[test]
fn hostile_strings_never_reach_print_output_or_error_messages() {
    let dir = tempfile::tempdir().unwrap();
    let mut recs: Vec<serde_json::Value> = HOSTILE.iter().enumerate().map(|(i, s)| hostile_record(i, s)).collect();
    for (i, r) in recs.iter_mut().enumerate() {
        r["resources"] = serde_json::json!([{ "ARN": format!("arn:aws:s3:::b{}", HOSTILE[i]) }]);
    }
    std::fs::write(dir.path().join("hostile.json"), serde_json::to_vec(&recs).unwrap()).unwrap();
    let evil_name = dir.path().join("evil\u{1b}]0;pwned\u{7}\u{202e}.json");
    std::fs::write(&evil_name, "{\"\u{1b}[2J\": 1, \"\u{9b}31m\": 2}").unwrap();
    let bad = |bytes: &[u8]| {
        bytes.iter().any(|&b| b == 0x1b || b == 0x07 || b == 0x00 || b == 0x08 || b == 0x7f || b == b'\r')
            || String::from_utf8_lossy(bytes).chars().any(|c| is_unsafe(c) && c != '\n')
    };
    for format in ["table", "csv"] {
        let o = run(&["print", "--format", format, dir.path().to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(3));
        assert_eq!(stdout_lines(&o).len(), HOSTILE.len() + 1, "{format}: one line per event and a header");
        assert!(!bad(&o.stdout), "{format}: raw control characters on stdout");
        assert!(!bad(&o.stderr), "raw control characters in the error messages: {:?}", stderr(&o));
        assert!(stderr(&o).contains("evil\\e]0;pwned\\x07\\u{202e}.json"), "{}", stderr(&o));
    }
    // The TUI's errors popup says the same, safely.
    let mut state = loaded(&[dir.path()]);
    state.update(Action::Errors);
    let t = render(&mut state, 120, 30);
    assert_no_control_chars(&t);
    assert!(t.backend().to_string().contains("evil\\e]0;pwned"));
}

/// Wide characters keep the table's columns aligned.
#[test]
fn table_columns_stay_aligned_with_wide_characters() {
    let dir = tempfile::tempdir().unwrap();
    let recs: Vec<serde_json::Value> = ["東京", "🚀🚀", "ascii", "Ünïcödé", "한국어텍스트"]
        .iter()
        .enumerate()
        .map(|(i, s)| {
            serde_json::json!({"eventTime": format!("2025-01-01T00:00:0{i}Z"), "eventName": format!("Get{s}"), "sourceIPAddress": "1.2.3.4",
                "userIdentity": {"type": "IAMUser", "userName": *s}, "awsRegion": "us-east-1"})
        })
        .collect();
    std::fs::write(dir.path().join("wide.json"), serde_json::to_vec(&recs).unwrap()).unwrap();
    let o = run(&["print", "--format", "table", dir.path().to_str().unwrap()]);
    let lines = stdout_lines(&o);
    let col = |line: &str, needle: &str| line.find(needle).map(|i| trailscope::sanitize::width(&line[..i]));
    let ip_col = col(&lines[0], "SOURCE_IP").unwrap();
    let region_col = col(&lines[0], "REGION").unwrap();
    for l in &lines[1..] {
        assert_eq!(col(l, "1.2.3.4"), Some(ip_col), "{l}");
        assert_eq!(col(l, "us-east-1"), Some(region_col), "{l}");
    }
}

/// The filter pane of live history says where the events came from, and what the cache said.
#[test]
fn live_filter_pane_shows_cache_and_aws() {
    use trailscope::source::lookup::{LiveStatus, RegionStatus};
    use trailscope::source::SourceMsg;
    let raw = Arc::new(RawReader::new(1 << 20));
    let now = 1_767_225_600_000;
    let start = Start {
        live: Some((now - 86_400_000, None)),
        filter: Some("name:=DeleteTrail".into()),
        now_ms: now,
        ..Start::default()
    };
    let mut state = new_state_with(raw, start);
    let generation = state.live().unwrap().generation();
    let status = LiveStatus {
        generation,
        regions: vec![RegionStatus { region: "us-east-1".into(), ..Default::default() }],
        cached: 1234,
        scanned: 50,
        cache_notes: vec!["running without the cache: disk \u{1b}[2Jfull".into()],
        ..Default::default()
    };
    state.apply(Msg::Load(SourceMsg::Live(status.clone())));
    let t = render(&mut state, 160, 30);
    let text: String = t.backend().buffer().content().iter().map(|c| c.symbol()).collect();
    assert!(text.contains("AWS: EventName=DeleteTrail · cache 1,234 · AWS 50 · matched 0"), "{text}");
    assert!(text.contains("running without the cache: disk"), "{text}");
    assert_no_control_chars(&t);
    // Offline: no AWS figure, and it says so.
    state.apply(Msg::Load(SourceMsg::Live(LiveStatus { offline: true, cache_notes: Vec::new(), ..status })));
    let t = render(&mut state, 160, 30);
    let text: String = t.backend().buffer().content().iter().map(|c| c.symbol()).collect();
    assert!(text.contains("offline · AWS: EventName=DeleteTrail · cache 1,234 · matched 0"), "{text}");
}

/// A record with a 100 MB value (read with a record limit raised above it, as
/// `--max-record-size 128M` does): the detail view shows the start of the value, sanitised,
/// its length and the key that shows the record whole; the lines kept for drawing are small,
/// and drawing stays quick.
#[test]
fn a_100_mb_value_in_the_detail_view() {
    let dir = tempfile::tempdir().unwrap();
    // An escape sequence first: the start of the value is shown, as visible escapes.
    let blob = format!("\u{1b}[2J{}", "x".repeat(100 << 20));
    let mut big = hostile_record(1, "big");
    big["requestParameters"] = serde_json::json!({ "policy": blob });
    let path = dir.path().join("big.json");
    std::fs::write(&path, serde_json::to_vec(&vec![big]).unwrap()).unwrap();
    trailscope::model::record::set_max_record_len(128 << 20);
    let mut state = loaded(&[&path]);
    trailscope::model::record::set_max_record_len(trailscope::model::record::DEFAULT_MAX_RECORD);
    assert_eq!(state.view().len(), 1);
    state.update(Action::OpenDetail);
    // Reading and highlighting the record (off the UI thread in the app), then frames.
    render(&mut state, 120, 40);
    let kept: usize = state
        .detail()
        .content()
        .map(|h| h.lines.iter().flat_map(|l| l.spans.iter()).map(|s| s.content.len()).sum())
        .unwrap_or(0);
    assert!(kept > 0 && kept < 64 << 10, "{kept} bytes of lines kept for drawing");
    state.update(Action::Bottom);
    let start = std::time::Instant::now();
    let mut t = render(&mut state, 120, 40);
    for _ in 0..10 {
        t = render(&mut state, 120, 40);
    }
    assert!(start.elapsed() < std::time::Duration::from_secs(5), "{:?} for 11 frames", start.elapsed());
    assert_no_control_chars(&t);
    let text = t.backend().to_string();
    let chars = "    \"policy\": \"\"".len() + serde_json::to_string(&blob).unwrap().chars().count() - 2;
    let note = format!("(cut from {} characters; o shows the record whole)", trailscope::tui::ui::thousands(chars));
    let screen: String = t.backend().buffer().content().iter().map(|c| c.symbol()).collect();
    assert!(screen.contains(&format!("{note} \"policy\":")), "{note} not on screen:\n{text}");
    assert!(screen.contains("\"\\u001b[2Jxxxx"), "the value's start is shown:\n{text}");
}
