//! Triage in the TUI's state: filtering off the UI thread (streamed, cancelled, narrowed),
//! pivots, the filter history, facets and the timeline, export.

mod common;
use common::*;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use trailscope::model::raw::RawReader;
use trailscope::model::SymField;
use trailscope::query::{self, Matcher};
use trailscope::source::{load, LoadOptions};
use trailscope::tui::action::Action;
use trailscope::tui::state::{Effect, Focus, Msg, State};
use trailscope::tui::ui;

const NOW: i64 = 1_767_225_600_000;

fn sample() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sample").to_string_lossy().into_owned()
}

fn loaded(paths: &[String]) -> TestState {
    let raw = Arc::new(RawReader::new(64 << 20));
    let mut state = new_state(raw.clone(), NOW);
    load(paths, &LoadOptions::default(), &raw, &mut |m| state.apply(Msg::Load(m)));
    // Twenty rows of events.
    state.resize(120, 54);
    assert_eq!(state.areas().list.height, 23);
    state.settle();
    state
}

/// The events a filter matches, computed directly (no worker, no narrowing).
fn direct(state: &State, filter: &str) -> Vec<u32> {
    let q = query::parse(filter, NOW).unwrap();
    let mut m = Matcher::new(&q);
    let store = state.store().read();
    m.prepare(&store);
    let ctx = query::matcher::MatchCtx { store: &store, raw: state.raw() };
    m.filter(state.order(), &ctx)
}

fn type_filter(state: &mut State, text: &str) {
    state.update(Action::FocusFilter);
    for c in text.chars() {
        state.update(Action::FilterInsert(c));
    }
}

fn sym(state: &State, ev: u32, f: SymField) -> String {
    let store = state.store().read();
    store.sym(&store.events[ev as usize], f).to_string()
}

#[test]
fn every_keystroke_ends_with_exactly_the_filters_matches() {
    let mut state = loaded(&[sample()]);
    assert_eq!(state.view().len(), 3000);
    // Typed a key at a time, settling after each (narrowing reuses the last result), and
    // typed at once without settling (each key cancels the last run): the same as a direct
    // evaluation of the final text, every time.
    for text in ["name:Delete", "error:Denied -user:root", "dsg", "assro", "region:us-west-2 has:key", "ip:10."] {
        type_filter(&mut state, text);
        state.settle();
        assert_eq!(state.view(), direct(&state, text), "{text} typed at once");
        state.update(Action::FilterClear);
        for c in text.chars() {
            state.update(Action::FilterInsert(c));
            state.settle();
            if let Ok(q) = query::parse(state.filter().input(), NOW) {
                let _ = q;
                assert_eq!(state.view(), direct(&state, state.filter().applied()), "{}", state.filter().applied());
            }
        }
        assert_eq!(state.view(), direct(&state, text), "{text} settled per key");
        state.update(Action::FilterClear);
        state.settle();
        assert_eq!(state.view().len(), 3000);
    }
}

#[test]
fn scanning_in_storage_order_gives_the_same_results() {
    // Large filters of every event scan in storage order; make this archive count as large.
    trailscope::query::run::SCAN_IN_STORAGE_ORDER.store(1, std::sync::atomic::Ordering::Relaxed);
    let mut state = loaded(&[sample()]);
    for text in ["name:Delete", "-error:Denied -user:root", "dsg", "region:us-west-2 has:key", "id:=none", "since:1d"] {
        state.update(Action::FocusFilter);
        state.update(Action::FilterClear);
        state.settle();
        type_filter(&mut state, text);
        state.update(Action::FilterSubmit);
        state.settle();
        assert_eq!(state.view(), direct(&state, text), "{text}");
        // A key at a time: each narrowed filter scans only the last result, in storage order.
        state.update(Action::FilterClear);
        state.settle();
        for c in text.chars() {
            state.update(Action::FilterInsert(c));
            state.settle();
            let applied = state.filter().applied().to_string();
            assert_eq!(state.view(), direct(&state, &applied), "{applied} (typing {text})");
        }
    }
}

#[test]
fn pivots_rewrite_the_filter_and_history_walks_back_and_forth() {
    let mut state = loaded(&[sample()]);
    type_filter(&mut state, "name:=ConsoleLogin user:trent");
    state.update(Action::FilterSubmit);
    state.settle();
    assert_eq!(state.view().len(), 1, "one ConsoleLogin by trent in the sample");
    let login = state.selected_event().unwrap();

    state.update(Action::PivotPrincipal);
    state.settle();
    let account = sym(&state, login, SymField::IdentityAccount);
    let arn_term = format!("user:=trent type:=IAMUser account:={account}");
    assert_eq!(state.filter().input(), arn_term, "the pivot is written into the filter");
    assert_eq!(state.view(), direct(&state, &arn_term));
    assert_eq!(state.view().len(), 20);
    assert_eq!(state.selected_event(), Some(login), "the event pivoted from stays selected");

    state.update(Action::PivotIp);
    state.settle();
    let ip = sym(&state, login, SymField::Ip);
    assert_eq!(state.filter().input(), format!("ip:={ip}"));
    assert!(state.view().iter().all(|&e| sym(&state, e, SymField::Ip) == ip));

    state.update(Action::PivotAround);
    state.settle();
    let t = state.store().read().events[login as usize].time();
    assert!(
        state.filter().input().starts_with("since:") && state.filter().input().contains(" until:"),
        "{}",
        state.filter().input()
    );
    assert!(state.view().iter().all(|&e| (state.store().read().events[e as usize].time() - t).abs() <= 15 * 60_000));
    assert!(state.view().len() > 1, "other principals' events around it are shown");

    // Back through the history, and forward again: nothing is lost.
    let expect = [format!("ip:={ip}"), arn_term.clone(), "name:=ConsoleLogin user:trent".to_string(), String::new()];
    for want in &expect {
        state.update(Action::HistoryBack);
        state.settle();
        assert_eq!(&state.filter().input(), want);
        assert_eq!(state.view(), direct(&state, want));
    }
    state.update(Action::HistoryBack);
    assert_eq!(state.filter().input(), "", "the start of the history stays put");
    for want in expect.iter().rev().skip(1) {
        state.update(Action::HistoryForward);
        state.settle();
        assert_eq!(&state.filter().input(), want);
    }
    // A new filter from the middle of the history drops what was ahead, as a browser does.
    state.update(Action::HistoryBack);
    state.settle();
    state.update(Action::PivotKey);
    state.settle();
    assert!(state.filter().input().starts_with("key:=") || state.filter().input() == "name:=ConsoleLogin user:trent");
    state.update(Action::HistoryForward);
    assert_eq!(state.filter().history().last().map(String::as_str), Some(state.filter().input()));
}

#[test]
fn pivots_on_sessions_resources_and_requests() {
    let mut state = loaded(&[sample()]);
    // A temporary key: the session is the key.
    let ev = state.view().iter().copied().find(|&e| sym(&state, e, SymField::AccessKey).starts_with("ASIA")).unwrap();
    state.select_row(state.view().iter().position(|&e| e == ev).unwrap());
    state.update(Action::PivotSession);
    state.settle();
    let key = sym(&state, ev, SymField::AccessKey);
    assert_eq!(state.filter().input(), format!("key:={key}"));
    assert!(state.view().iter().all(|&e| sym(&state, e, SymField::AccessKey) == key));

    state.update(Action::FilterClear);
    state.settle();
    let with_res = state
        .view()
        .iter()
        .position(|&e| !state.store().read().resource_syms(&state.store().read().events[e as usize]).is_empty());
    if let Some(pos) = with_res {
        state.select_row(pos);
        let ev = state.selected_event().unwrap();
        state.update(Action::PivotResource);
        state.settle();
        assert!(state.filter().input().starts_with("resource:="), "{}", state.filter().input());
        assert!(state.view().contains(&ev));
        assert_eq!(state.view(), direct(&state, state.filter().input()));
    }

    state.update(Action::FilterClear);
    state.settle();
    state.select_row(5);
    let ev = state.selected_event().unwrap();
    state.update(Action::PivotRequest);
    state.settle();
    assert!(state.filter().input().starts_with("request:="), "{}", state.filter().input());
    assert_eq!(state.view(), vec![ev]);
}

#[test]
fn facets_count_the_filtered_events_and_add_terms() {
    let mut state = loaded(&[sample()]);
    state.update(Action::ToggleFacets);
    assert_eq!(state.focus(), Focus::Facets);
    type_filter(&mut state, "source:ec2");
    state.update(Action::FilterSubmit);
    state.update(Action::ToggleFacets);
    state.update(Action::ToggleFacets);
    state.settle();
    let summary = state.facets().summary().cloned().unwrap();
    assert_eq!(summary.events, state.view().len());
    // Every facet's counts, checked by counting the view directly.
    for facet in &summary.facets {
        let mut naive: HashMap<String, u32> = HashMap::new();
        for &e in state.view() {
            let value = if facet.field == SymField::Principal {
                let store = state.store().read();
                let key = trailscope::query::run::principal_key(&store, &store.events[e as usize]);
                store.syms.get(key).to_string()
            } else {
                sym(&state, e, facet.field)
            };
            *naive.entry(value).or_default() += 1;
        }
        assert_eq!(facet.distinct, naive.len(), "{}", facet.label);
        let mut want: Vec<(String, u32)> = naive.into_iter().collect();
        want.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        want.truncate(facet.top.len());
        let got: Vec<(String, u32)> =
            facet.top.iter().map(|&(s, n)| (state.store().read().syms.get(s).to_string(), n)).collect();
        assert_eq!(got, want, "{}", facet.label);
    }
    let timeline_total: u32 = summary.timeline.counts.iter().sum();
    assert_eq!(timeline_total as usize, state.view().len(), "every event is in one bucket of the timeline");

    // Enter on the first error value adds it; - on a value adds its negation.
    state.update(Action::Top);
    for _ in 0..3 {
        state.update(Action::PageDown);
    }
    let rows = state.facet_rows();
    let (f, v) = rows[state.facets().selected()];
    assert_eq!(summary.facets[f].field, SymField::Error, "three page-downs reach the error field");
    let (value_sym, n) = summary.facets[f].top[v];
    let enter = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Enter);
    let action = trailscope::tui::keymap::handle_key(state.mode(), enter).unwrap();
    assert_eq!(action, Action::IncludeFacet, "Enter in the facets");
    state.update(action);
    state.settle();
    let value = state.store().read().syms.get(value_sym).to_string();
    let expected_filter =
        if value.is_empty() { "source:ec2 -has:error".to_string() } else { format!("source:ec2 error:={value}") };
    assert_eq!(state.filter().input(), expected_filter);
    assert_eq!(state.view().len(), n as usize);
    state.update(Action::HistoryBack);
    state.settle();
    state.update(Action::Top);
    state.update(Action::ExcludeFacet);
    state.settle();
    let top_name = state.store().read().syms.get(summary.facets[0].top[0].0).to_string();
    assert_eq!(state.filter().input(), format!("source:ec2 -name:={top_name}"));
    assert_eq!(state.view(), direct(&state, state.filter().input()));
}

#[test]
fn facets_count_the_same_whether_the_view_is_most_events_or_few() {
    // A large view is counted by scanning events in storage order, a small one directly.
    let state = loaded(&[sample()]);
    for filter in ["", "-name:=Decrypt", "source:ec2", "has:error"] {
        let view = direct(&state, filter);
        let s = trailscope::query::run::summarize(state.store(), &view);
        assert_eq!(s.timeline.counts.iter().sum::<u32>() as usize, view.len(), "{filter}");
        for facet in &s.facets {
            let mut naive: HashMap<u32, u32> = HashMap::new();
            let store = state.store().read();
            for &e in &view {
                let ev = &store.events[e as usize];
                let key = if facet.field == SymField::Principal {
                    trailscope::query::run::principal_key(&store, ev)
                } else {
                    store.sym_id(ev, facet.field)
                };
                *naive.entry(key).or_default() += 1;
            }
            assert_eq!(facet.distinct, naive.len(), "{filter}: {}", facet.label);
            for (sym, n) in &facet.top {
                assert_eq!(naive.get(sym), Some(n), "{filter}: {}", facet.label);
            }
        }
    }
}

#[test]
fn facets_and_timeline_render() {
    let mut state = loaded(&[sample()]);
    state.update(Action::ToggleFacets);
    type_filter(&mut state, "has:error");
    state.update(Action::FilterSubmit);
    state.settle();
    // From the list, past the detail view to the facets.
    state.update(Action::NextPane);
    state.update(Action::NextPane);
    assert_eq!(state.focus(), Focus::Facets);
    state.update(Action::Down);
    state.pin_load_time(std::time::Duration::from_millis(1234));
    let (w, h) = (120, 40);
    state.resize(w, h);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, &state)).unwrap();
    let text = t.backend().to_string();
    assert!(text.contains("Facets") && text.contains("error · ") && text.contains("per column"), "{text}");
    insta::assert_snapshot!("facets_timeline_120x40", t.backend());
}

#[test]
fn export_writes_the_filtered_set_as_print_does() {
    let mut state = loaded(&[sample()]);
    type_filter(&mut state, "name:Describe -error:Throttling has:error");
    state.update(Action::FilterSubmit);
    state.settle();
    let n = state.view().len();
    assert!(n > 0);
    let dir = tempfile::tempdir().unwrap();
    for ext in ["jsonl", "json", "csv"] {
        let path = dir.path().join(format!("out.{ext}")).to_string_lossy().into_owned();
        state.update(Action::Export);
        state.update(Action::FilterClear);
        for c in path.chars() {
            state.update(Action::FilterInsert(c));
        }
        let enter = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Enter);
        let action = trailscope::tui::keymap::handle_key(state.mode(), enter).unwrap();
        assert_eq!(action, Action::PromptSubmit, "Enter in the prompt");
        state.update(action);
        let export = state.take_effects().into_iter().find_map(|e| match e {
            Effect::Export { path, events, overwrite: false } => Some((path, events)),
            _ => None,
        });
        let Some((p, events)) = export else { panic!("no export asked for") };
        assert_eq!(p, path);
        let written = trailscope::tui::effects::export(state.store(), state.raw(), &events, &p, false).unwrap().written;
        assert_eq!(written, n);
        let format = if ext == "jsonl" { "jsonl" } else { ext };
        let o = run(&["print", "--format", format, "--filter", state.filter().applied(), &sample()]);
        assert_eq!(std::fs::read(&p).unwrap(), o.stdout, "{ext} export equals print's output");
    }
}

/// A CSV export whose records cannot all be read back (a file damaged since it was loaded)
/// writes every row, the eventID empty where its record could not be read, and says so.
#[test]
fn a_csv_export_keeps_the_rows_whose_records_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let archive = recent_archive_in(dir.path(), "archive", 300, 30, 1, 7, 3600, 86_400);
    let state = loaded(&[archive.to_string_lossy().into_owned()]);
    let events: Vec<u32> = state.view().to_vec();
    let damaged = {
        let store = state.store().read();
        store.file_of(&store.events[events[0] as usize]).unwrap().path.clone()
    };
    let in_damaged = {
        let store = state.store().read();
        events.iter().filter(|&&e| store.file_of(&store.events[e as usize]).unwrap().path == damaged).count()
    };
    assert!(in_damaged > 0 && in_damaged < events.len());
    // Damaged in place, its content no longer in memory.
    let len = std::fs::metadata(&damaged).unwrap().len() as usize;
    std::fs::write(&damaged, vec![0u8; len]).unwrap();
    state.raw().clear();
    let path = dir.path().join("out.csv").to_string_lossy().into_owned();
    let done = trailscope::tui::effects::export(state.store(), state.raw(), &events, &path, false).unwrap();
    assert_eq!((done.written, done.without_id), (events.len(), in_damaged));
    let text = done.describe(&path);
    assert!(text.contains(&format!("{in_damaged} without their eventID")), "{text}");
    let csv = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), events.len(), "every row written");
    assert_eq!(rows.iter().filter(|r| r.ends_with(',')).count(), in_damaged, "the eventID empty only there");
}

/// Runs `:line` and carries out the export it asks for: what export answered, and whether it
/// was to write over an existing file.
fn command_export(state: &mut TestState, line: &str) -> (Result<usize, String>, bool) {
    state.update(Action::Command);
    for c in line.chars() {
        state.update(Action::FilterInsert(c));
    }
    state.update(Action::PromptSubmit);
    let export = state.take_effects().into_iter().find_map(|e| match e {
        Effect::Export { path, events, overwrite } => Some((path, events, overwrite)),
        _ => None,
    });
    let (path, events, overwrite) = export.expect("an export asked for");
    (
        trailscope::tui::effects::export(state.store(), state.raw(), &events, &path, overwrite).map(|e| e.written),
        overwrite,
    )
}

/// `:export` writes a new private file and refuses an existing one; `:export!` writes over it
/// (private too); an unknown extension is refused with the known ones, and nothing is written.
#[test]
fn export_never_writes_over_a_file_unasked_and_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let mut state = loaded(&[sample()]);
    state.settle();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    let shown = path.display().to_string();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;

    let (written, overwrite) = command_export(&mut state, &format!("export {shown}"));
    assert_eq!((written, overwrite), (Ok(state.view().len()), false));
    assert_eq!(mode(&path), 0o600, "events hold IPs, ARNs and key ids");
    let first = std::fs::read(&path).unwrap();

    std::fs::write(&path, "mine").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (written, _) = command_export(&mut state, &format!("export {shown}"));
    assert_eq!(written, Err(format!("{shown} exists; :export! {shown} writes over it")));
    assert_eq!(std::fs::read(&path).unwrap(), b"mine", "left alone");

    let (written, overwrite) = command_export(&mut state, &format!("export! {shown}"));
    assert_eq!((written, overwrite), (Ok(state.view().len()), true));
    assert_eq!(std::fs::read(&path).unwrap(), first);
    assert_eq!(mode(&path), 0o600);

    let typo = dir.path().join("out.txt");
    let (written, _) = command_export(&mut state, &format!("export {}", typo.display()));
    assert_eq!(
        written,
        Err(format!("cannot export to {}: unknown extension .txt (use .jsonl, .json, .csv)", typo.display()))
    );
    assert!(!typo.exists());
}

#[test]
fn a_load_during_a_filter_run_loses_nothing() {
    // Events arriving while a run is in flight are matched beside it, not lost or doubled.
    let raw = Arc::new(RawReader::new(64 << 20));
    let mut msgs = Vec::new();
    let opts = LoadOptions { batch_interval: std::time::Duration::ZERO, ..Default::default() };
    load(&[sample()], &opts, &raw, &mut |m| msgs.push(m));
    let mut state = new_state(raw, NOW);
    for (i, m) in msgs.into_iter().enumerate() {
        if i % 7 == 3 {
            // A new filter starts, and is not waited for.
            state.update(Action::FocusFilter);
            state.update(Action::FilterClear);
            for c in "name:Describe".chars() {
                state.update(Action::FilterInsert(c));
            }
        }
        state.apply(Msg::Load(m));
        state.apply(Msg::Work);
    }
    state.settle();
    let want = direct(&state, "name:Describe");
    assert_eq!(state.view(), want);
    let mut dedup = state.view().to_vec();
    dedup.dedup();
    assert_eq!(dedup.len(), state.view().len());
}

#[test]
fn a_failure_notice_is_in_the_error_colour() {
    let mut state = loaded(&[sample()]);
    let (w, h) = (120, 40);
    assert_ne!(trailscope::tui::ui::theme::ok().fg, trailscope::tui::ui::theme::error().fg);
    for (error, style) in [(false, trailscope::tui::ui::theme::ok()), (true, trailscope::tui::ui::theme::error())] {
        let text = if error { "could not read the record: gone" } else { "saved the filter as x" };
        state.apply(Msg::Notice { text: text.into(), error });
        let t = draw_state(&mut state, w, h);
        let cell = &t.backend().buffer()[(1, h - 1)];
        assert_eq!((cell.fg, error), (style.fg.unwrap(), error), "status bar: {:?}", cell.symbol());
    }
}

/// A record by `who` (an identity object), at `time`, from `ip`.
fn record(id: &str, name: &str, time: &str, ip: &str, who: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "eventVersion": "1.08", "eventID": id, "eventName": name, "eventTime": time,
        "eventSource": "iam.amazonaws.com", "awsRegion": "us-east-1", "sourceIPAddress": ip,
        "recipientAccountId": who["accountId"].clone(), "userIdentity": who,
    })
}

fn iam_user(account: &str, name: &str, arn: bool, key: &str) -> serde_json::Value {
    let mut v =
        serde_json::json!({ "type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": account, "userName": name });
    if arn {
        v["arn"] = format!("arn:aws:iam::{account}:user/{name}").into();
    }
    if !key.is_empty() {
        v["accessKeyId"] = key.into();
    }
    v
}

/// `record` signed with console credentials created at `created`.
fn console(mut record: serde_json::Value, created: &str) -> serde_json::Value {
    record["userIdentity"]["sessionContext"] =
        serde_json::json!({ "attributes": { "creationDate": created, "mfaAuthenticated": "true" } });
    record["sessionCredentialFromConsole"] = "true".into();
    record
}

fn loaded_records(records: Vec<serde_json::Value>) -> (tempfile::TempDir, TestState) {
    let dir = tempfile::tempdir().unwrap();
    write_trail_file(dir.path(), "111111111111", "us-east-1", "2025/12/31", "people", &records, false);
    let state = loaded(&[dir.path().to_string_lossy().into_owned()]);
    (dir, state)
}

fn ids_of(state: &State) -> Vec<String> {
    let store = state.store().read();
    let mut ids: Vec<String> =
        state.view().iter().map(|&e| store.event_id(&store.events[e as usize], state.raw())).collect();
    ids.sort();
    ids
}

fn select_id(state: &mut TestState, id: &str) {
    let pos = {
        let store = state.store().read();
        state.view().iter().position(|&e| store.event_id(&store.events[e as usize], state.raw()) == id).unwrap()
    };
    state.select_row(pos);
}

#[test]
fn a_principal_pivot_finds_the_users_events_without_an_arn_and_no_one_elses() {
    let role = |account: &str, session: &str| {
        serde_json::json!({ "type": "AssumedRole", "accountId": account, "principalId": "AROAEXAMPLE:x",
            "arn": format!("arn:aws:sts::{account}:assumed-role/deploy/{session}"), "accessKeyId": "ASIAROLE" })
    };
    let (_dir, mut state) = loaded_records(vec![
        record(
            "a1",
            "ListUsers",
            "2025-12-31T10:00:00Z",
            "1.1.1.1",
            iam_user("111111111111", "alice", true, "AKIAALICE"),
        ),
        record("a2", "CheckMfa", "2025-12-31T09:59:00Z", "1.1.1.1", iam_user("111111111111", "alice", false, "")),
        record(
            "b1",
            "ListUsers",
            "2025-12-31T10:01:00Z",
            "1.1.1.1",
            iam_user("222222222222", "alice", true, "AKIAOTHER"),
        ),
        record("r1", "ListUsers", "2025-12-31T10:02:00Z", "1.1.1.1", role("111111111111", "alice")),
        record(
            "t1",
            "GetCallerIdentity",
            "2025-12-31T10:03:00Z",
            "1.1.1.1",
            iam_user("111111111111", "trent", true, "AKIATRENT"),
        ),
    ]);
    select_id(&mut state, "a1");
    state.update(Action::PivotPrincipal);
    state.settle();
    assert_eq!(ids_of(&state), ["a1", "a2"], "{}", state.filter().input());
    assert_eq!(state.view(), direct(&state, state.filter().input()));
    // From the event without an ARN, the same principal.
    select_id(&mut state, "a2");
    state.update(Action::PivotPrincipal);
    state.settle();
    assert_eq!(ids_of(&state), ["a1", "a2"], "{}", state.filter().input());
    // A role session stays named by its ARN.
    state.update(Action::FilterClear);
    state.settle();
    select_id(&mut state, "r1");
    state.update(Action::PivotPrincipal);
    state.settle();
    assert_eq!(ids_of(&state), ["r1"], "{}", state.filter().input());
}

#[test]
fn a_session_pivot_from_a_console_login_finds_the_events_signed_with_its_credentials() {
    let user = |arn, key| iam_user("111111111111", "alice", arn, key);
    let (_dir, mut state) = loaded_records(vec![
        record("login1", "ConsoleLogin", "2025-12-31T08:00:00Z", "1.1.1.1", user(true, "")),
        console(
            record("s1", "ListBuckets", "2025-12-31T08:01:00Z", "1.1.1.1", user(true, "ASIAONE")),
            "2025-12-31T08:00:01Z",
        ),
        console(
            record("s2", "GetBucketPolicy", "2025-12-31T08:05:00Z", "1.1.1.1", user(true, "ASIAONE")),
            "2025-12-31T08:00:01Z",
        ),
        // The same user's automation with a long-term key from elsewhere, during the session.
        record("auto", "PutObject", "2025-12-31T08:03:00Z", "3.3.3.3", user(true, "AKIAAUTO")),
        // A second sign-in later the same day, from the same IP.
        record("login2", "ConsoleLogin", "2025-12-31T12:00:00Z", "1.1.1.1", user(true, "")),
        console(
            record("t1", "ListUsers", "2025-12-31T12:02:00Z", "1.1.1.1", user(true, "ASIATWO")),
            "2025-12-31T12:00:00Z",
        ),
        // The second session's credentials rotated: two keys, one session.
        console(
            record("t2", "ListRoles", "2025-12-31T13:02:00Z", "1.1.1.1", user(true, "ASIATHREE")),
            "2025-12-31T12:00:00Z",
        ),
        // Not from the console: temporary keys of GetSessionToken, same user and IP.
        record("cli", "ListRoles", "2025-12-31T14:00:00Z", "1.1.1.1", user(true, "ASIACLI")),
    ]);
    select_id(&mut state, "login1");
    state.update(Action::PivotSession);
    state.settle();
    assert_eq!(ids_of(&state), ["s1", "s2"], "{}", state.filter().input());
    state.update(Action::FilterClear);
    state.settle();
    select_id(&mut state, "login2");
    state.update(Action::PivotSession);
    state.settle();
    assert_eq!(ids_of(&state), ["t1", "t2"], "{}", state.filter().input());
}

#[test]
fn facets_show_more_values_on_demand_and_count_accounts_identities_and_keys() {
    let mut state = loaded(&[sample()]);
    state.update(Action::ToggleFacets);
    state.settle();
    let summary = state.facets().summary().cloned().unwrap();
    let labels: Vec<&str> = summary.facets.iter().map(|f| f.label).collect();
    for want in ["account", "identity type", "access key"] {
        assert!(labels.contains(&want), "{labels:?}");
    }
    // The principal field: 8 values, then all that were kept on `+`, then 8 again.
    state.update(Action::Top);
    state.update(Action::PageDown);
    let field_rows = |state: &TestState, f: usize| state.facet_rows().iter().filter(|r| r.0 == f).count();
    let (f, _) = state.facet_rows()[state.facets().selected()];
    assert_eq!(summary.facets[f].field, SymField::Principal);
    assert!(summary.facets[f].distinct > 8);
    assert_eq!(field_rows(&state, f), 8);
    let plus = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('+'));
    let action = trailscope::tui::keymap::handle_key(state.mode(), plus).unwrap();
    assert_eq!(action, Action::MoreFacetValues);
    state.update(action);
    assert_eq!(field_rows(&state, f), summary.facets[f].top.len());
    assert_eq!(summary.facets[f].top.len(), summary.facets[f].distinct.min(trailscope::query::run::FACET_MORE));
    assert!(field_rows(&state, f) > 8);
    state.update(Action::MoreFacetValues);
    assert_eq!(field_rows(&state, f), 8);

    // Enter on a value of each new field filters on exactly the events that have it.
    for (field, label) in
        [(SymField::Account, "account"), (SymField::IdentityType, "identity type"), (SymField::AccessKey, "access key")]
    {
        state.update(Action::FilterClear);
        state.settle();
        state.update(Action::ToggleFacets);
        state.update(Action::ToggleFacets);
        state.settle();
        let rows = state.facet_rows();
        let summary = state.facets().summary().cloned().unwrap();
        let f = summary.facets.iter().position(|x| x.label == label).unwrap();
        let row = rows.iter().position(|r| r.0 == f && summary.facets[f].top[r.1].0 != 0).unwrap();
        while state.facets().selected() < row {
            state.update(Action::Down);
        }
        let (sym_id, n) = summary.facets[f].top[rows[row].1];
        let value = state.store().read().syms.get(sym_id).to_string();
        state.update(Action::IncludeFacet);
        state.settle();
        assert_eq!(state.view().len(), n as usize, "{label} {value}: {}", state.filter().input());
        assert!(state.view().iter().all(|&e| sym(&state, e, field) == value), "{label}");
    }
}

#[test]
fn the_list_reads_oldest_first_on_a_key_and_keeps_the_selection() {
    let mut state = loaded(&[sample()]);
    type_filter(&mut state, "source:ec2");
    state.update(Action::FilterSubmit);
    state.settle();
    state.select_row(3);
    let picked = state.selected_event();
    let o = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('O'));
    let action = trailscope::tui::keymap::handle_key(state.mode(), o).unwrap();
    assert_eq!(action, Action::ToggleOrder);
    state.update(action);
    assert!(state.oldest_first());
    assert_eq!(state.selected_event(), picked, "the same event stays selected");
    state.select_row(0);
    assert_eq!(state.selected_event(), state.view().last().copied(), "the first row is the oldest");
    // On screen: times go up from row to row.
    let t = draw_state(&mut state, 120, 40);
    let screen = t.backend().to_string();
    assert!(screen.contains("oldest first"), "{screen}");
    let times: Vec<String> = screen
        .lines()
        .filter_map(|l| {
            l.split_whitespace().find(|w| w.starts_with("2025-") || w.starts_with("2026-")).map(|d| {
                let i = l.find(d).unwrap();
                l[i..i + 20].to_string()
            })
        })
        .collect();
    let list_times: Vec<&String> = times.iter().skip(2).take(10).collect();
    assert!(list_times.len() >= 5 && list_times.windows(2).all(|w| w[0] <= w[1]), "{list_times:?}");
    state.update(Action::ToggleOrder);
    state.select_row(0);
    assert_eq!(state.selected_event(), state.view().first().copied());
}

#[test]
fn a_window_around_the_event_is_added_to_the_filter_in_place_of_its_time_bounds() {
    let mut state = loaded(&[sample()]);
    type_filter(&mut state, "source:ec2 since:30d");
    state.update(Action::FilterSubmit);
    state.settle();
    state.select_row(10);
    let ev = state.selected_event().unwrap();
    let t = state.store().read().events[ev as usize].time();
    let a = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('A'));
    let action = trailscope::tui::keymap::handle_key(state.mode(), a).unwrap();
    assert_eq!(action, Action::AddWindow);
    state.update(action);
    state.update(Action::FilterClear);
    for c in "-1h +10m".chars() {
        state.update(Action::FilterInsert(c));
    }
    state.update(Action::PromptSubmit);
    state.settle();
    let filter = state.filter().input().to_string();
    assert!(filter.starts_with("source:ec2 since:") && filter.contains(" until:"), "{filter}");
    assert!(!filter.contains("30d"), "the window replaces the time bounds: {filter}");
    assert_eq!(state.view(), direct(&state, &filter));
    assert!(state.view().contains(&ev), "the event itself is in its window");
    let store = state.store().read();
    for &e in state.view() {
        let et = store.events[e as usize].time();
        assert!(et >= t - 3_600_000 && et <= t + 600_000);
        assert!(store.sym(&store.events[e as usize], SymField::Source).contains("ec2"));
    }
    drop(store);
    // A bad window is refused with what to type.
    state.update(Action::AddWindow);
    state.update(Action::FilterClear);
    for c in "soon".chars() {
        state.update(Action::FilterInsert(c));
    }
    state.update(Action::PromptSubmit);
    assert!(state.notice().is_some_and(|n| n.text.contains("not a window")));
    assert_eq!(state.filter().input(), filter);
}

#[test]
fn a_bare_word_that_matches_no_column_says_what_text_would_match() {
    let mut state = loaded(&[sample()]);
    // Part of an eventID: in every record's text, in none of the list's columns.
    let word = {
        let store = state.store().read();
        store.event_id(&store.events[state.view()[5] as usize], state.raw())[..13].to_string()
    };
    type_filter(&mut state, &word);
    state.settle();
    let typing = draw_state(&mut state, 160, 40).backend().to_string();
    assert!(!typing.contains("text:"), "typing alone reads no record: {typing}");
    state.update(Action::FilterSubmit);
    state.settle();
    assert!(state.view().is_empty(), "{word} matched a column");
    let want = direct(&state, &format!("text:{word}")).len();
    assert!(want >= 1);
    let screen = draw_state(&mut state, 160, 40).backend().to_string();
    assert!(screen.contains(&format!("text:{word} (anywhere in the record) matches {want}")), "{screen}");
    // A word found nowhere says so.
    state.update(Action::FocusFilter);
    state.update(Action::FilterClear);
    type_filter(&mut state, "zqxjkvbw");
    state.update(Action::FilterSubmit);
    state.settle();
    let screen = draw_state(&mut state, 160, 40).backend().to_string();
    assert!(screen.contains("text:zqxjkvbw matches none either"), "{screen}");
}

#[test]
fn the_principal_facet_keeps_same_named_users_of_different_accounts_apart() {
    let (_dir, mut state) = loaded_records(vec![
        record(
            "a1",
            "ListUsers",
            "2025-12-31T10:00:00Z",
            "1.1.1.1",
            iam_user("111111111111", "alice", true, "AKIAONE"),
        ),
        record(
            "a2",
            "ListRoles",
            "2025-12-31T10:01:00Z",
            "1.1.1.1",
            iam_user("111111111111", "alice", true, "AKIAONE"),
        ),
        record(
            "b1",
            "ListUsers",
            "2025-12-31T10:02:00Z",
            "2.2.2.2",
            iam_user("222222222222", "alice", true, "AKIATWO"),
        ),
    ]);
    state.update(Action::ToggleFacets);
    state.settle();
    let summary = state.facets().summary().cloned().unwrap();
    let f = summary.facets.iter().position(|x| x.field == SymField::Principal).unwrap();
    assert_eq!(summary.facets[f].top.len(), 2, "alice of each account apart");
    let screen = draw_state(&mut state, 160, 40).backend().to_string();
    assert!(screen.contains("alice · 111111111111") && screen.contains("alice · 222222222222"), "{screen}");
    // Enter on the first (the account with two events): exactly its events.
    let rows = state.facet_rows();
    let row = rows.iter().position(|r| r.0 == f).unwrap();
    while state.facets().selected() < row {
        state.update(Action::Down);
    }
    state.update(Action::IncludeFacet);
    state.settle();
    assert_eq!(state.filter().input(), "arn:=\"arn:aws:iam::111111111111:user/alice\"");
    assert_eq!(ids_of(&state), ["a1", "a2"]);
}
