use super::*;
use crate::query::run::Worker;

fn empty_state(start: Start) -> State {
    let raw = Arc::new(RawReader::new(1 << 20));
    let store = SharedStore::default();
    let worker = Worker::spawn(store.clone(), raw.clone());
    State::new(store, raw, worker, start)
}

#[test]
fn an_old_notice_is_dropped_so_an_idle_screen_stops_redrawing() {
    let mut state = empty_state(Start::default());
    state.apply(Msg::Notice { text: "fresh".into(), error: false });
    state.maintain();
    assert!(state.notice().is_some(), "a fresh notice stays");
    let old =
        Instant::now().checked_sub(NOTICE_FOR + Duration::from_secs(1)).expect("the clock is older than a notice");
    state.notice = Some(Notice { text: "old".into(), at: old, error: false });
    state.maintain();
    assert!(state.notice().is_none(), "an old notice is dropped");
}

#[test]
fn news_waits_behind_a_fresh_error_and_follows_it() {
    let mut state = empty_state(Start::default());
    state.apply(Msg::Notice { text: "config.toml line 6: no such action".into(), error: true });
    state.apply(Msg::Notice { text: "stored the archive index".into(), error: false });
    let shown = state.notice().expect("a notice");
    assert!(shown.error && shown.text.starts_with("config.toml"), "the error stays: {shown:?}");
    let old =
        Instant::now().checked_sub(NOTICE_FOR + Duration::from_secs(1)).expect("the clock is older than a notice");
    state.notice.as_mut().unwrap().at = old;
    state.maintain();
    let shown = state.notice().expect("the news follows");
    assert!(!shown.error && shown.text == "stored the archive index", "{shown:?}");
    state.maintain();
    assert!(state.notice().is_some(), "and stays its own time");
}

#[test]
fn a_notice_goes_when_the_user_does_something_else() {
    let mut state = empty_state(Start::default());
    state.update(Action::HistoryBack);
    assert_eq!(state.notice().map(|n| n.text.as_str()), Some("no earlier filter"));
    state.update(Action::Down);
    assert!(state.notice().is_none(), "the notice about the history no longer applies");
    state.update(Action::HistoryBack);
    state.update(Action::Redraw);
    assert!(state.notice().is_some(), "redrawing the screen is not doing something else");
}

#[test]
fn the_saved_filters_popup_has_its_own_actions() {
    let saved = vec![("denied".to_string(), "has:error".to_string()), ("root".to_string(), "user:root".to_string())];
    let mut state = empty_state(Start { saved_filters: saved, ..Start::default() });
    state.update(Action::RecallFilter);
    assert_eq!(state.mode(), Mode::Picker);
    // What other panes do with these actions is not done here.
    state.update(Action::OpenDetail);
    state.update(Action::FilterDelete);
    assert_eq!((state.mode(), state.popups().saved().len()), (Mode::Picker, 2));
    state.update(Action::Down);
    state.update(Action::DeleteSaved);
    assert_eq!(state.popups().saved().len(), 1);
    assert!(state.take_effects().contains(&Effect::SaveFilters(vec![("denied".into(), "has:error".into())])));
    state.update(Action::ApplySaved);
    assert_eq!(state.mode(), Mode::List);
    assert_eq!(state.filter().applied(), "has:error");
    // Outside the popup, the popup's actions do nothing.
    state.update(Action::DeleteSaved);
    assert_eq!(state.popups().saved().len(), 1);
}

#[test]
fn the_command_line_completes_on_its_own_action() {
    let mut state = empty_state(Start::default());
    state.update(Action::Command);
    assert_eq!(state.mode(), Mode::Prompt);
    for c in "tim".chars() {
        state.update(Action::FilterInsert(c));
    }
    state.update(Action::NextPane);
    assert_eq!(state.popups().prompt().map(|p| p.input()), Some("tim"), "NextPane does not complete");
    state.update(Action::Complete);
    assert_eq!(state.popups().prompt().map(|p| p.input()), Some("timeline"));
    state.update(Action::PromptSubmit);
    assert!(state.popups().prompt().is_none());
    assert!(!state.show_timeline, ":timeline toggled it off");
}

#[test]
fn the_layout_is_written_into_the_state() {
    let mut state = empty_state(Start::default());
    assert_eq!((state.list.height, state.detail.height), (10, 10), "before any layout");
    let screen = Rect::new(0, 0, 120, 40);
    state.apply(Msg::Resize(screen));
    let a = layout(screen, state.panes());
    assert_eq!(state.areas(), a);
    assert_eq!(state.list.height, a.list.height as usize - 3);
    state.update(Action::ToggleFacets);
    assert!(state.areas().facets.is_some(), "showing the facets lays the screen out again");
    assert_eq!(state.areas(), layout(screen, state.panes()));
}

#[test]
fn j_jumps_through_the_parts_of_a_record_worth_reading_first() {
    let mut record = serde_json::json!({ "eventVersion": "1.08", "eventName": "PutBucketPolicy" });
    for i in 0..30 {
        record[format!("field{i}")] = i.into();
    }
    record["requestParameters"] = serde_json::json!({ "bucketName": "b", "policy": "x" });
    record["errorCode"] = "AccessDenied".into();
    record["errorMessage"] = "no".into();
    for i in 0..10 {
        record[format!("after{i}")] = i.into();
    }
    let mut d = super::detail::DetailState::new();
    d.show(Some(0));
    d.height = 5;
    d.apply_read(0, Ok(Arc::new(crate::tui::highlight::highlight_record(record.to_string().as_bytes()))));
    let line = |d: &super::detail::DetailState| -> String {
        d.content().unwrap().lines[d.scroll()].spans.iter().map(|s| s.content.as_ref()).collect()
    };
    d.jump_section();
    assert!(line(&d).trim_start().starts_with("\"requestParameters\""), "{}", line(&d));
    d.jump_section();
    assert!(line(&d).trim_start().starts_with("\"errorCode\""), "{}", line(&d));
    d.jump_section();
    assert!(line(&d).trim_start().starts_with("\"errorMessage\""), "{}", line(&d));
    d.jump_section();
    assert!(line(&d).trim_start().starts_with("\"requestParameters\""), "back to the first: {}", line(&d));
}

#[test]
fn the_detail_of_the_newest_event_is_read_once_only_while_a_load_goes_on() {
    let mut state = empty_state(Start::default());
    assert!(!state.load.done);
    assert!(state.detail_follows_loading(), "the top row follows the newest event while loading");
    state.list.selected = 3;
    assert!(!state.detail_follows_loading(), "a row the user chose is browsed: its file is kept");
    state.list.selected = 0;
    state.focus = Focus::Detail;
    assert!(!state.detail_follows_loading(), "a record being read in the detail pane stays put");
    state.focus = Focus::List;
    state.apply(Msg::Load(SourceMsg::Done(LoadStats::default())));
    assert!(state.load.done);
    assert!(!state.detail_follows_loading(), "once loaded, records are read for browsing");
}
