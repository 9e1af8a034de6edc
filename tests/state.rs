//! State behaviour that the user feels: the list grows without jumping, filters keep the
//! selection, Esc backs out in order.

mod common;
use common::*;
use std::sync::Arc;
use std::time::Duration;
use trailscope::model::raw::RawReader;
use trailscope::source::{load, LoadOptions, SourceMsg};
use trailscope::tui::action::Action;
use trailscope::tui::state::{Focus, Msg};

fn messages() -> (Arc<RawReader>, Vec<SourceMsg>) {
    let raw = Arc::new(RawReader::new(64 << 20));
    let mut msgs = Vec::new();
    // One batch per file, as a slow load would deliver them.
    let opts = LoadOptions { batch_interval: Duration::ZERO, ..Default::default() };
    load(&[stratus().to_string_lossy().into_owned()], &opts, &raw, &mut |m| msgs.push(m));
    (raw, msgs)
}

#[test]
fn the_selected_event_stays_put_while_events_stream_in() {
    let (raw, msgs) = messages();
    let batches = msgs.iter().filter(|m| matches!(m, SourceMsg::Batch(..))).count();
    assert_eq!(batches, 35, "one batch per file when the interval is zero");
    let mut state = new_state(raw, 0);
    // Ten rows of events.
    state.resize(120, 34);
    assert_eq!(state.areas().list.height, 13);
    let mut moved_checks = 0;
    for m in msgs {
        let before = state.selected_event();
        let followed_top = state.list().selected() == 0;
        state.apply(Msg::Load(m));
        if followed_top {
            assert_eq!(state.list().selected(), 0, "at the top, the list follows the newest event");
        } else {
            assert_eq!(state.selected_event(), before, "the selection does not jump");
            moved_checks += 1;
        }
        // Move away from the top after a few batches.
        if state.view().len() > 40 && state.list().selected() == 0 {
            for _ in 0..7 {
                state.update(Action::Down);
            }
        }
    }
    assert!(moved_checks >= 3, "the test exercised a moved selection ({moved_checks})");
    assert_eq!(state.view().len(), 310);
}

#[test]
fn filtering_keeps_the_selected_event_when_it_still_matches() {
    let (raw, msgs) = messages();
    let mut state = new_state(raw, 0);
    // Ten rows of events.
    state.resize(120, 34);
    assert_eq!(state.areas().list.height, 13);
    for m in msgs {
        state.apply(Msg::Load(m));
    }
    // Select some DeleteTrail-like write, then filter on a term it matches.
    let target = state
        .view()
        .iter()
        .position(|&i| {
            let store = state.store().read();
            store.sym(&store.events[i as usize], trailscope::model::SymField::Name) == "DeleteTrail"
        })
        .unwrap();
    state.select_row(target);
    let ev = state.selected_event();
    state.update(Action::FocusFilter);
    for c in "name:Delete".chars() {
        state.update(Action::FilterInsert(c));
    }
    state.settle();
    assert_eq!(state.selected_event(), ev);
    assert!(state.view().len() < 310);
    // Esc gives the edit up: the filter in force before it (none) comes back, and the list
    // has the focus.
    state.update(Action::Back);
    state.settle();
    assert_eq!(state.view().len(), 310);
    assert_eq!(state.focus(), Focus::List);
    assert_eq!(state.selected_event(), ev);
    // With a filter submitted, editing it and pressing Esc brings it back, not nothing.
    state.update(Action::FocusFilter);
    for c in "name:Delete".chars() {
        state.update(Action::FilterInsert(c));
    }
    state.update(Action::FilterSubmit);
    state.settle();
    let deletes = state.view().to_vec();
    state.update(Action::FocusFilter);
    for c in " -name:DeleteTrail region:zz".chars() {
        state.update(Action::FilterInsert(c));
    }
    state.settle();
    assert!(state.view().is_empty());
    state.update(Action::Back);
    state.settle();
    assert_eq!(state.filter().input(), "name:Delete");
    assert_eq!(state.view(), deletes);
    assert_eq!(state.focus(), Focus::List);
    // Ctrl-U is what clears.
    state.update(Action::FocusFilter);
    state.update(Action::FilterClear);
    state.settle();
    assert_eq!(state.view().len(), 310);
    assert_eq!(state.filter().input(), "");
    state.update(Action::OpenDetail);
    assert_eq!(state.focus(), Focus::Detail);
    state.update(Action::Back);
    assert_eq!(state.focus(), Focus::List);
}

/// With a filter in force, a batch of new events is matched by the filter worker: applying it
/// adds the events but leaves the view alone, and the worker's answer brings their matches.
#[test]
fn new_events_are_matched_by_the_worker_not_the_ui_thread() {
    let (raw, msgs) = messages();
    let start = trailscope::tui::state::Start { filter: Some("name:Delete".into()), ..Default::default() };
    let mut state = new_state_with(raw, start);
    let mut batches = 0;
    for m in msgs {
        let batch = matches!(m, SourceMsg::Batch(..));
        let (events, view) = (state.order().len(), state.view().to_vec());
        state.apply(Msg::Load(m));
        if batch {
            batches += 1;
            assert!(state.order().len() > events, "the batch's events are added");
            assert_eq!(state.view(), view, "but not matched here");
            assert!(state.busy(), "the worker has them");
        }
        state.settle();
    }
    assert_eq!(batches, 35);
    let store = state.store().read();
    let want: Vec<u32> = state
        .order()
        .iter()
        .copied()
        .filter(|&i| store.sym(&store.events[i as usize], trailscope::model::SymField::Name).contains("Delete"))
        .collect();
    assert!(!want.is_empty() && want.len() < 310, "{}", want.len());
    assert_eq!(state.view(), want);
}

/// The text of every row of a drawn screen.
fn screen_rows(t: &ratatui::Terminal<ratatui::backend::TestBackend>) -> Vec<String> {
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>())
        .collect()
}

/// A generated archive with signed digests, one log file edited (same size), and its keys.
fn tampered_archive(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    use std::io::Read;
    let opts = trailscope_gen::GenOptions {
        events: 400,
        per_file: 40,
        seed: 5,
        span_secs: 4 * 3600,
        accounts: 1,
        regions: 1,
        hostile: false,
        gzip_level: 1,
        ..trailscope_gen::GenOptions::default()
    };
    let root = dir.join("arch");
    trailscope_gen::generate(&opts, &root).unwrap();
    let keys = dir.join("keys.json");
    std::fs::write(&keys, trailscope_gen::public_keys_json(&opts).unwrap()).unwrap();
    let mut logs = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().contains("/CloudTrail/") {
                logs.push(p);
            }
        }
    }
    logs.sort();
    let edited = logs[3].clone();
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&edited).unwrap()).read_to_end(&mut text).unwrap();
    let at = text.windows(16).position(|w| w == b"\"awsRegion\":\"us-").unwrap();
    text[at + 14] = b'z';
    std::fs::write(&edited, gzip(&text)).unwrap();
    (root, keys, edited)
}

#[test]
fn an_archive_with_digests_is_verified_after_loading_and_its_altered_file_shows() {
    let dir = tempfile::tempdir().unwrap();
    let (root, keys, edited) = tampered_archive(dir.path());
    let raw = Arc::new(RawReader::new(64 << 20));
    let mut msgs = Vec::new();
    load(&[root.to_string_lossy().into_owned()], &LoadOptions::default(), &raw, &mut |m| msgs.push(m));
    let mut state = new_state(raw, 1_767_225_600_000);
    // Typed before the verdicts are in: it matches nothing yet, and is matched again after.
    state.update(Action::FocusFilter);
    for c in "verified:false".chars() {
        state.update(Action::FilterInsert(c));
    }
    state.update(Action::FilterSubmit);
    for m in msgs {
        let done = matches!(m, SourceMsg::Done(_));
        state.apply(Msg::Load(m));
        let asked = state.take_effects().into_iter().any(|e| e == trailscope::tui::state::Effect::Verify);
        assert_eq!(asked, done, "verification is asked for once the load is over, not before");
    }
    state.settle();
    assert_eq!(state.view().len(), 0);
    let status = screen_rows(&draw_state(&mut state, 140, 30)).last().unwrap().clone();
    assert!(status.contains("verifying"), "{status}");
    // What the app's verification thread answers.
    let req = trailscope::verify::VerifyRequest {
        inputs: vec![root.to_string_lossy().into_owned()],
        trail: None,
        since: None,
        until: None,
        keys: trailscope::verify::KeySource::File(keys),
        format: None,
        s3: Default::default(),
    };
    let verdicts = trailscope::verify::log_verdicts(&req).unwrap();
    state.apply(Msg::Verified(Ok(verdicts)));
    state.settle();
    // Exactly the events of the edited file.
    let from_edited: Vec<u32> = {
        let store = state.store().read();
        (0..store.len() as u32).filter(|&i| store.file_of(&store.events[i as usize]).unwrap().path == edited).collect()
    };
    assert_eq!(from_edited.len(), 40);
    let mut got = state.view().to_vec();
    got.sort();
    assert_eq!(got, from_edited);
    state.update(Action::OpenDetail);
    let rows = screen_rows(&draw_state(&mut state, 140, 30));
    assert!(rows.iter().any(|r| r.contains("Detail · ✗ altered · ")), "{rows:#?}");
    let status = rows.last().unwrap();
    // Ten log files: nine valid, one altered; the newest digest is unsigned but its files valid.
    assert!(status.contains("files ✓9 ✗1 ?0"), "{status}");
    // verified:true: every other event, each marked valid.
    state.update(Action::Back);
    state.update(Action::FocusFilter);
    for _ in 0.."false".len() {
        state.update(Action::FilterBackspace);
    }
    for c in "true".chars() {
        state.update(Action::FilterInsert(c));
    }
    state.update(Action::FilterSubmit);
    state.settle();
    assert_eq!(state.view().len(), 400 - 40);
    state.update(Action::OpenDetail);
    let rows = screen_rows(&draw_state(&mut state, 140, 30));
    assert!(rows.iter().any(|r| r.contains("Detail · ✓ verified · ")), "{rows:#?}");
}

#[test]
fn an_archive_without_digests_is_not_verified() {
    let raw = Arc::new(RawReader::new(64 << 20));
    let mut state = new_state(raw.clone(), 0);
    load(&[stratus().to_string_lossy().into_owned()], &LoadOptions::default(), &raw, &mut |m| {
        state.apply(Msg::Load(m))
    });
    assert!(!state.take_effects().contains(&trailscope::tui::state::Effect::Verify));
    let rows = screen_rows(&draw_state(&mut state, 140, 30));
    assert!(!rows.last().unwrap().contains("verif"), "{:?}", rows.last());
    assert!(!rows.iter().any(|r| r.contains('✓') || r.contains('✗')));
}

/// A state that has loaded a tampered archive with digests, and asked to verify it.
fn loaded_asking_to_verify(dir: &std::path::Path) -> TestState {
    let (root, _, _) = tampered_archive(dir);
    let raw = Arc::new(RawReader::new(64 << 20));
    let mut state = new_state(raw.clone(), 1_767_225_600_000);
    load(&[root.to_string_lossy().into_owned()], &LoadOptions::default(), &raw, &mut |m| state.apply(Msg::Load(m)));
    assert!(state.take_effects().contains(&trailscope::tui::state::Effect::Verify));
    state
}

#[test]
fn without_public_keys_or_credentials_the_digests_are_not_checked_and_nothing_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = loaded_asking_to_verify(dir.path());
    state.apply(Msg::Verified(Err(trailscope::verify::Unverified::NoKeys)));
    let rows = screen_rows(&draw_state(&mut state, 140, 30));
    let status = rows.last().unwrap();
    assert!(status.contains("digests not checked"), "{status}");
    assert!(!status.contains("problems") && !status.contains("(E)"), "{status}");
    assert!(!rows.iter().any(|r| r.contains('✗')), "nothing is marked altered");
}

#[test]
fn verification_that_fails_is_listed_with_the_problems_without_hiding_notices() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = loaded_asking_to_verify(dir.path());
    state.apply(Msg::Notice { text: "a notice of the load".into(), error: false });
    state.apply(Msg::Verified(Err("ListPublicKeys in us-east-1 failed: \u{1b}[31mdenied".into())));
    let rows = screen_rows(&draw_state(&mut state, 140, 30));
    assert!(rows.last().unwrap().contains("a notice of the load"), "{:?}", rows.last());
    state.update(Action::Errors);
    let rows = screen_rows(&draw_state(&mut state, 140, 30));
    assert!(rows.iter().any(|r| r.contains(": verification")), "{rows:#?}");
    assert!(rows.iter().any(|r| r.contains("ListPublicKeys in us-east-1 failed: \\e[31mdenied")), "{rows:#?}");
    assert!(!rows.iter().any(|r| r.contains('\u{1b}')));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Pasted text, with any control characters, edits the line in front (the filter or a
    /// prompt) and does nothing else; in the list it does nothing at all.
    #[test]
    fn pastes_only_ever_edit_the_line(
        text in "([\\x00-\\x1f\\x7f\\u{80}-\\u{9f}]|\\PC|q|:|\\x1b\\[201~){0,40}",
        place in 0..3usize,
    ) {
        use proptest::prelude::*;
        let mut state = new_state(Arc::new(RawReader::new(1 << 20)), 0);
        match place {
            0 => {}
            1 => state.update(Action::FocusFilter),
            _ => state.update(Action::Command),
        }
        let mode = state.mode();
        let _ = state.take_effects();
        if let Some(action) = trailscope::tui::keymap::handle_paste(mode, &text) {
            prop_assert!(matches!(action, Action::Paste(_)), "{:?}", action);
            state.update(action);
        }
        prop_assert_eq!(state.mode(), mode);
        prop_assert!(!state.quitting());
        prop_assert_eq!(state.take_effects(), vec![]);
        let kept: String = text.chars().filter(|c| !c.is_control()).collect();
        match place {
            0 => prop_assert_eq!(state.filter().input(), ""),
            1 => prop_assert_eq!(state.filter().input(), kept.as_str()),
            _ => prop_assert_eq!(state.popups().prompt().map(|p| p.input()), Some(kept.as_str())),
        }
    }
}

/// A state over the stratus records with two saved filters, laid out at 120x34, brought into
/// `mode` by the built-in keys.
fn state_in(mode: trailscope::tui::keymap::Mode) -> TestState {
    use trailscope::tui::keymap::Mode;
    let saved = vec![("deletes".to_string(), "name:Delete".to_string()), ("ips".to_string(), "ip:1*".to_string())];
    let start = trailscope::tui::state::Start { saved_filters: saved, ..Default::default() };
    let (raw, msgs) = messages();
    let mut state = new_state_with(raw, start);
    state.resize(120, 34);
    for m in msgs {
        state.apply(Msg::Load(m));
    }
    state.settle();
    state.update(Action::Down);
    let steps: Vec<Action> = match mode {
        Mode::List => vec![],
        Mode::Detail => vec![Action::OpenDetail],
        Mode::Facets => vec![Action::ToggleFacets],
        Mode::Filter => {
            let mut a = vec![Action::FocusFilter];
            a.extend("name:Delete".chars().map(Action::FilterInsert));
            a.extend([Action::FilterLeft, Action::FilterLeft]);
            a
        }
        Mode::Popup => vec![Action::Help],
        Mode::Prompt => vec![Action::Command, Action::FilterInsert('r'), Action::FilterInsert('e'), Action::FilterLeft],
        Mode::CopyMenu => vec![Action::CopyMenu],
        Mode::Picker => vec![Action::RecallFilter],
    };
    for a in steps {
        state.update(a);
        state.settle();
    }
    assert_eq!(state.mode(), mode);
    state
}

/// What a key press can change, as the user sees it.
fn outcome(state: &mut TestState) -> String {
    state.settle();
    let effects = state.take_effects();
    let prompt = state.popups().prompt().map(|p| (p.kind(), p.input().to_string()));
    format!(
        "mode {:?} focus {:?} input {:?} applied {:?} prompt {:?} notice {:?} selected {:?} row {} facet {} \
         detail {} popup {:?} scroll {} saved {:?} panes {:?} quit {} view {} effects {:?}",
        state.mode(),
        state.focus(),
        state.filter().input(),
        state.filter().applied(),
        prompt,
        state.notice().map(|n| n.text.clone()),
        state.selected_event(),
        state.list().selected(),
        state.facets().selected(),
        state.detail().scroll(),
        state.popups().popup(),
        state.popups().scroll(),
        state.popups().saved(),
        state.panes(),
        state.quitting(),
        state.view().len(),
        effects,
    )
}

/// Every action a configuration file can bind does, from a bound key (a function key, a
/// Ctrl key, and in the browsing panes a letter), what its built-in key does, in every mode
/// where the built-in table offers it; the copy actions also work straight from the list.
#[test]
fn every_bindable_action_works_from_a_bound_key() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use trailscope::tui::keymap::{handle_key_with, KeySpec, Mode, KEYS};
    let modes =
        [Mode::List, Mode::Detail, Mode::Facets, Mode::Filter, Mode::Popup, Mode::Prompt, Mode::CopyMenu, Mode::Picker];
    let mut checked = 0;
    for (name, action) in trailscope::tui::action::Action::bindable() {
        let mut modes_checked = 0;
        for mode in modes {
            let Some(default_key) = KEYS
                .iter()
                .filter(|s| s.modes.contains(&mode))
                .flat_map(|s| s.rows)
                .filter(|r| r.action == action)
                .flat_map(|r| r.keys)
                .find(|k| **k != KeySpec::AnyChar)
            else {
                continue;
            };
            let mut bound_keys = vec![(KeyCode::F(2), KeyModifiers::NONE), (KeyCode::Char('g'), KeyModifiers::CONTROL)];
            if matches!(mode, Mode::List | Mode::Detail | Mode::Facets) {
                bound_keys.push((KeyCode::Char('x'), KeyModifiers::NONE));
            }
            let mut by_default = state_in(mode);
            let _ = by_default.take_effects();
            assert_eq!(handle_key_with(&[], mode, default_key.example()), Some(action.clone()), "{name} in {mode:?}");
            by_default.update(action.clone());
            let want = outcome(&mut by_default);
            for key in bound_keys {
                let user = vec![(key, action.clone())];
                let mut by_binding = state_in(mode);
                let _ = by_binding.take_effects();
                let got = handle_key_with(&user, mode, KeyEvent::new(key.0, key.1));
                assert_eq!(got.as_ref(), Some(&action), "{name} bound to {key:?} in {mode:?}");
                by_binding.update(action.clone());
                assert_eq!(outcome(&mut by_binding), want, "{name} bound to {key:?} in {mode:?}");
                checked += 1;
            }
            modes_checked += 1;
        }
        assert!(modes_checked > 0, "{name} has a built-in key somewhere");
    }
    assert!(checked > 100, "{checked}");

    // The copy actions, bound in the list, copy without the menu.
    for what in ["CopyEventId", "CopyArn", "CopyAccessKey", "CopyJson"] {
        let action = Action::from_name(what).unwrap();
        let user = vec![((KeyCode::F(2), KeyModifiers::NONE), action.clone())];
        let mut by_menu = state_in(Mode::CopyMenu);
        let _ = by_menu.take_effects();
        by_menu.update(action.clone());
        let mut direct = state_in(Mode::List);
        let _ = direct.take_effects();
        let got = handle_key_with(&user, Mode::List, KeyEvent::new(KeyCode::F(2), KeyModifiers::NONE)).unwrap();
        direct.update(got);
        let (a, b) = (outcome(&mut by_menu), outcome(&mut direct));
        assert_eq!(a, b, "{what}");
        assert!(a.contains("Copy"), "{what}: {a}");
    }

    // A letter bound to an action still types in the filter and in a prompt.
    let user = vec![((KeyCode::Char('x'), KeyModifiers::NONE), Action::Quit)];
    for mode in [Mode::Filter, Mode::Prompt] {
        let got = handle_key_with(&user, mode, KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE));
        assert_eq!(got, Some(Action::FilterInsert('x')), "{mode:?}");
    }
}

/// The facets panel's selection as (field, value).
fn selected_facet(state: &TestState) -> (trailscope::model::SymField, String) {
    let (f, v) = state.facet_rows()[state.facets().selected()];
    let summary = state.facets().summary().unwrap();
    let store = state.store().read();
    (summary.facets[f].field, store.syms.get(summary.facets[f].top[v].0).to_string())
}

/// After Enter or `-` in the facets, the selection stays on the field it was on: on the same
/// value when it is still listed, else on the value that took its place.
#[test]
fn facet_selection_stays_on_its_field_after_include_and_exclude() {
    use trailscope::model::SymField;
    let (raw, msgs) = messages();
    let mut state = new_state(raw, 0);
    state.resize(120, 40);
    for m in msgs {
        state.apply(Msg::Load(m));
    }
    state.update(Action::ToggleFacets);
    state.settle();
    // The second value of the source IPs (the third field).
    state.update(Action::PageDown);
    state.update(Action::PageDown);
    state.update(Action::Down);
    let (field, excluded) = selected_facet(&state);
    assert_eq!(field, SymField::Ip);
    let next = {
        let (f, v) = state.facet_rows()[state.facets().selected() + 1];
        let summary = state.facets().summary().unwrap();
        assert_eq!(summary.facets[f].field, SymField::Ip, "the field has a third value");
        state.store().read().syms.get(summary.facets[f].top[v].0).to_string()
    };
    state.update(Action::ExcludeFacet);
    state.settle();
    assert!(state.filter().applied().contains(&format!("-ip:={excluded}")), "{}", state.filter().applied());
    assert_eq!(selected_facet(&state), (SymField::Ip, next.clone()), "the value after the one excluded");

    state.update(Action::IncludeFacet);
    state.settle();
    assert!(state.filter().applied().contains(&format!(" ip:={next}")), "{}", state.filter().applied());
    assert_eq!(selected_facet(&state), (SymField::Ip, next), "the value included, alone in its field now");
}

/// Tab on the `:` line cycles through the completions (back to the first after the last) and
/// lists them under the line; typing starts again from what is typed.
#[test]
fn tab_cycles_through_the_completions_and_lists_them() {
    let (raw, _) = messages();
    let mut state = new_state(raw, 0);
    state.update(Action::Command);
    for c in "region ap-".chars() {
        state.update(Action::FilterInsert(c));
    }
    let want = trailscope::tui::command::complete("region ap-", &[]);
    assert!(want.len() > 2, "{want:?}");
    let line = |state: &TestState| state.popups().prompt().unwrap().input().to_string();
    for round in 0..2 {
        for w in &want {
            state.update(Action::Complete);
            assert_eq!(&line(&state), w, "round {round}");
        }
    }
    // The candidates are listed under the line.
    let t = draw_state(&mut state, 140, 30);
    let screen = t.backend().to_string();
    let names: Vec<&str> = want.iter().map(|w| w.rsplit(' ').next().unwrap()).collect();
    assert!(screen.contains(&names[..3].join("  ")), "{screen}");
    // An edit ends the cycle: Tab completes what is typed now.
    state.update(Action::FilterBackspace);
    let typed = line(&state);
    state.update(Action::Complete);
    assert_eq!(line(&state), trailscope::tui::command::complete(&typed, &[])[0]);
    // One completion: Tab keeps it.
    state.update(Action::FilterClear);
    for c in "region eu-west-3".chars() {
        state.update(Action::FilterInsert(c));
    }
    state.update(Action::Complete);
    state.update(Action::Complete);
    assert_eq!(line(&state), "region eu-west-3");
}

/// The status bar counts one file as "1 file".
#[test]
fn the_status_bar_says_one_file() {
    let raw = Arc::new(RawReader::new(64 << 20));
    let one = stratus().join("aws.credential-access.ec2-get-password-data.json");
    let mut msgs = Vec::new();
    load(&[one.to_string_lossy().into_owned()], &LoadOptions::default(), &raw, &mut |m| msgs.push(m));
    let mut state = new_state(raw, 0);
    for m in msgs {
        state.apply(Msg::Load(m));
    }
    state.settle();
    let t = draw_state(&mut state, 120, 30);
    let screen = t.backend().to_string();
    assert!(screen.contains(" · 1 file · "), "{screen}");
}

/// Loading an archive with the cache says once, in the status bar, what its index took there;
/// the second load, which reads the index, says nothing of it.
#[test]
fn the_archive_index_written_to_the_cache_is_announced_once_with_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let cache = trailscope::cache::CacheConfig { dir: dir.path().join("cache"), max_bytes: 1 << 30 };
    let screen_after_load = || {
        let raw = Arc::new(RawReader::new(64 << 20));
        let opts = LoadOptions { cache: Some(cache.clone()), ..Default::default() };
        let mut msgs = Vec::new();
        load(&[stratus().to_string_lossy().into_owned()], &opts, &raw, &mut |m| msgs.push(m));
        let mut state = new_state(raw, 0);
        for m in msgs {
            state.apply(Msg::Load(m));
        }
        state.settle();
        draw_state(&mut state, 160, 30).backend().to_string()
    };
    let first = screen_after_load();
    assert!(first.contains("stored the archive index of 35 files in the cache ("), "{first}");
    assert!(first.contains(" MiB): the next open reads it"), "{first}");
    let second = screen_after_load();
    assert!(!second.contains("stored the archive index"), "{second}");
}

/// A window given on the command line stays in sight in the filter pane, whatever the filter
/// says, and a filter longer than the pane is cut with `…`, scrolled to the cursor while typed.
#[test]
fn the_filter_pane_shows_the_command_lines_window_and_cuts_long_filters_visibly() {
    let (raw, msgs) = messages();
    let now = 1_800_000_000_000;
    let base_terms = trailscope::query::parse("since:2026-11-01T00:00:00Z", now).unwrap().terms;
    let mut state =
        new_state_with(raw, trailscope::tui::state::Start { now_ms: now, base_terms, ..Default::default() });
    for m in msgs {
        state.apply(Msg::Load(m));
    }
    state.settle();
    let t = draw_state(&mut state, 120, 30);
    let rows = screen_rows(&t);
    assert!(rows[2].contains("command line: since:2026-11-01T00:00:00Z"), "{}", rows[2]);

    let long = "name:DeleteBucket user:alice -error:AccessDenied region:us-east-1 agent:\"aws-cli/2\" source:s3 has:key has:resource";
    state.update(Action::FocusFilter);
    for c in long.chars() {
        state.update(Action::FilterInsert(c));
    }
    let t = draw_state(&mut state, 80, 30);
    let line = screen_rows(&t)[1].clone();
    assert!(
        line.starts_with("│…") && line.contains(" has:key has:resource "),
        "typing: the end in sight, the start cut: {line}"
    );
    state.update(Action::FilterHome);
    let t = draw_state(&mut state, 80, 30);
    let line = screen_rows(&t)[1].clone();
    assert!(line.contains("│name:DeleteBucket") && line.trim_end().ends_with("…│"), "{line}");
}
