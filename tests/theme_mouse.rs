//! Themes (no colour under `mono`, the high-contrast theme as drawn) and the mouse, resolved
//! against the layout and applied to the state.

mod common;
use common::{draw_state, new_state, TestState};
use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;
use std::path::Path;
use std::sync::Arc;
use trailscope::model::raw::RawReader;
use trailscope::source::{load, LoadOptions};
use trailscope::tui::action::Action;
use trailscope::tui::mouse::handle_mouse;
use trailscope::tui::state::{Focus, Msg};
use trailscope::tui::ui;
use trailscope::tui::ui::theme::{self, Depth, Name, Theme};

const NOW: i64 = 1_767_225_600_000;

fn sample_state() -> TestState {
    let raw = Arc::new(RawReader::new(64 << 20));
    let mut state = new_state(raw.clone(), NOW);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sample").to_string_lossy().into_owned();
    load(&[path], &LoadOptions::default(), &raw, &mut |m| state.apply(Msg::Load(m)));
    state.pin_load_time(std::time::Duration::from_millis(1234));
    state.settle();
    state
}

/// Draws on this thread, so under the theme in force here.
fn draw(state: &mut TestState, w: u16, h: u16) -> Terminal<TestBackend> {
    draw_state(state, w, h)
}

/// Every cell's colours, apart from the terminal's defaults.
fn coloured_cells(t: &Terminal<TestBackend>) -> Vec<(u16, u16, Color, Color)> {
    let buf = t.backend().buffer();
    let mut out = Vec::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let c = &buf[(x, y)];
            if c.fg != Color::Reset || c.bg != Color::Reset {
                out.push((x, y, c.fg, c.bg));
            }
        }
    }
    out
}

/// A state showing everything that has a colour: an error match, the facets and the
/// timeline, a matched bare word, the detail record.
fn busy_state() -> TestState {
    let mut state = sample_state();
    state.update(Action::ToggleFacets);
    state.update(Action::FocusFilter);
    for c in "has:error del".chars() {
        state.update(Action::FilterInsert(c));
    }
    state.update(Action::FilterSubmit);
    state.settle();
    assert!(state.view().len() > 1, "{}", state.view().len());
    state.update(Action::OpenDetail);
    state
}

#[test]
fn mono_draws_no_colour_at_all() {
    let mut state = busy_state();
    let default = draw(&mut state, 120, 40);
    assert!(coloured_cells(&default).len() > 100, "the default theme does colour (else this test proves nothing)");
    let mono = Theme::new(Name::Mono, Depth::TrueColor);
    theme::with_theme(mono, || {
        // The detail record is highlighted again, under mono.
        state.update(Action::Back);
        state.update(Action::Down);
        state.update(Action::Up);
        state.update(Action::OpenDetail);
        let t = draw(&mut state, 120, 40);
        assert_eq!(coloured_cells(&t), vec![], "no cell has a colour under mono");
        let text = t.backend().to_string();
        assert!(text.contains("\"eventVersion\"") && text.contains("Facets"), "{text}");
        // The selection and the focus stay visible without colour.
        let buf = t.backend().buffer();
        let reversed = (0..40).filter(|&y| buf[(5, y)].modifier.contains(Modifier::REVERSED)).count();
        assert!(reversed >= 1, "the selected row is in reverse video");
        for popup in [Action::Help, Action::Errors] {
            state.update(popup);
            assert_eq!(coloured_cells(&draw(&mut state, 120, 40)), vec![]);
            state.update(Action::Back);
        }
    });
}

#[test]
fn high_contrast_as_drawn() {
    let mut state = sample_state();
    state.update(Action::FocusFilter);
    for c in "name:Delete*".chars() {
        state.update(Action::FilterInsert(c));
    }
    state.update(Action::FilterSubmit);
    state.update(Action::Down);
    theme::with_theme(Theme::new(Name::HighContrast, Depth::Ansi256), || {
        let t = draw(&mut state, 80, 24);
        // Colours come in pairs of foreground and background, never a foreground on its own
        // against a background the theme does not know.
        for (x, y, fg, bg) in coloured_cells(&t) {
            assert!(fg != Color::Reset && bg != Color::Reset, "a lone colour at {x},{y}: {fg:?} on {bg:?}");
        }
        // The snapshot keeps the styles, not just the text.
        insta::assert_debug_snapshot!("high_contrast_80x24", t.backend().buffer());
    });
}

#[test]
fn the_detail_colours_follow_the_depth() {
    let mut state = sample_state();
    state.update(Action::OpenDetail);
    let a = ui::layout(Rect::new(0, 0, 100, 30), state.panes());
    let detail_colours = |t: &Terminal<TestBackend>| -> Vec<Color> {
        let inside = |y: u16| y > a.detail.y && y + 1 < a.detail.bottom();
        coloured_cells(t).into_iter().filter(|&(_, y, _, _)| inside(y)).map(|c| c.2).collect()
    };
    for (depth, ok) in [
        (Depth::TrueColor, (|c: &Color| matches!(c, Color::Rgb(..))) as fn(&Color) -> bool),
        (Depth::Ansi256, |c: &Color| matches!(c, Color::Indexed(n) if *n >= 16)),
        (Depth::Ansi16, |c: &Color| !matches!(c, Color::Rgb(..) | Color::Indexed(_))),
    ] {
        theme::with_theme(Theme::new(Name::Default, depth), || {
            state.update(Action::Back);
            state.update(Action::Down);
            state.update(Action::Up);
            state.update(Action::OpenDetail);
            let t = draw(&mut state, 100, 30);
            let colours = detail_colours(&t);
            assert!(!colours.is_empty(), "{depth:?}: the record is highlighted");
            assert!(colours.iter().all(ok), "{depth:?}: {colours:?}");
        });
    }
}

fn click(x: u16, y: u16) -> MouseEvent {
    MouseEvent { kind: MouseEventKind::Down(MouseButton::Left), column: x, row: y, modifiers: KeyModifiers::NONE }
}

fn wheel(down: bool, x: u16, y: u16) -> MouseEvent {
    let kind = if down { MouseEventKind::ScrollDown } else { MouseEventKind::ScrollUp };
    MouseEvent { kind, column: x, row: y, modifiers: KeyModifiers::NONE }
}

/// Resolves a mouse event against an 80x24 screen and applies it, as the app loop does.
fn mouse(state: &mut TestState, ev: MouseEvent) -> bool {
    state.resize(80, 24);
    match handle_mouse(ev, state) {
        Some(a) => {
            state.update(a);
            true
        }
        None => false,
    }
}

#[test]
fn clicks_select_and_focus_and_the_wheel_scrolls() {
    let mut state = sample_state();
    let a = ui::layout(Rect::new(0, 0, 80, 24), state.panes());
    let first_row = a.list.y + 2;
    // A click on the third row selects it.
    assert!(mouse(&mut state, click(10, first_row + 2)));
    assert_eq!(state.list().selected(), 2);
    assert_eq!(state.focus(), Focus::List);
    // The header, the border, and a row below the last do not move the selection.
    mouse(&mut state, click(10, a.list.y + 1));
    mouse(&mut state, click(10, a.list.bottom() - 1));
    assert_eq!(state.list().selected(), 2);
    // The wheel over the list moves the selection, one row a step.
    mouse(&mut state, wheel(true, 10, first_row));
    mouse(&mut state, wheel(true, 10, first_row));
    assert_eq!(state.list().selected(), 4);
    mouse(&mut state, wheel(false, 10, first_row));
    assert_eq!(state.list().selected(), 3);
    // Far down the list, a click picks the row drawn there, not the view's row of that number.
    for _ in 0..40 {
        mouse(&mut state, wheel(true, 10, first_row));
    }
    let offset = state.list().offset();
    assert!(offset > 0);
    mouse(&mut state, click(10, first_row + 1));
    assert_eq!(state.list().selected(), offset + 1);
    let selected = state.list().selected();

    // The detail: a click focuses it, the wheel scrolls it and leaves the selection alone.
    draw(&mut state, 80, 24);
    assert!(mouse(&mut state, click(10, a.detail.y + 3)));
    assert_eq!(state.focus(), Focus::Detail);
    mouse(&mut state, wheel(true, 10, a.detail.y + 3));
    mouse(&mut state, wheel(true, 10, a.detail.y + 3));
    assert_eq!(state.detail().scroll(), 6);
    mouse(&mut state, wheel(false, 10, a.detail.y + 3));
    assert_eq!(state.detail().scroll(), 3);
    assert_eq!(state.list().selected(), selected);
    // Wheel over the list while the detail has the focus: the selection moves.
    mouse(&mut state, wheel(true, 10, first_row));
    assert_eq!(state.list().selected(), selected + 1);
    assert_eq!(state.focus(), Focus::Detail);

    // The filter pane takes the focus on a click.
    mouse(&mut state, click(10, 1));
    assert_eq!(state.focus(), Focus::Filter);
    // Motion, releases and the right button do nothing.
    for kind in [MouseEventKind::Moved, MouseEventKind::Up(MouseButton::Left), MouseEventKind::Down(MouseButton::Right)]
    {
        assert!(!mouse(&mut state, MouseEvent { kind, column: 10, row: first_row, modifiers: KeyModifiers::NONE }));
    }
}

#[test]
fn the_wheel_scrolls_popups_and_clicks_pick_facets() {
    let mut state = sample_state();
    state.update(Action::Help);
    for _ in 0..3 {
        mouse(&mut state, wheel(true, 1, 1));
    }
    assert_eq!(state.popups().scroll(), 9);
    mouse(&mut state, wheel(false, 70, 20));
    assert_eq!(state.popups().scroll(), 6);
    // While a popup is open, clicks do nothing underneath it.
    assert!(!mouse(&mut state, click(10, 8)));
    assert_eq!(state.list().selected(), 0);
    state.update(Action::Back);

    // Facets: a click on a value selects it (headings do not); the wheel moves along them.
    state.update(Action::ToggleFacets);
    state.update(Action::Back);
    assert_eq!(state.focus(), Focus::List);
    state.settle();
    let a = ui::layout(Rect::new(0, 0, 80, 24), state.panes());
    let f = a.facets.unwrap();
    // Line 0 inside the panel is the first field's heading; line 2 its second value.
    assert!(mouse(&mut state, click(f.x + 3, f.y + 1 + 2)));
    assert_eq!(state.focus(), Focus::Facets);
    assert_eq!(state.facets().selected(), 1);
    mouse(&mut state, click(f.x + 3, f.y + 1));
    assert_eq!(state.facets().selected(), 1, "a heading selects nothing");
    mouse(&mut state, wheel(true, f.x + 3, f.y + 4));
    assert_eq!(state.facets().selected(), 2);
    // The picked value is what Enter filters on.
    let rows = state.facet_rows();
    let summary = state.facets().summary().cloned().unwrap();
    let (fi, vi) = rows[2];
    let value = state.store().read().syms.get(summary.facets[fi].top[vi].0).to_string();
    let enter = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Enter);
    let action = trailscope::tui::keymap::handle_key(state.mode(), enter).unwrap();
    assert_eq!(action, Action::IncludeFacet, "Enter in the facets");
    state.update(action);
    assert!(state.filter().input().contains(&value), "{} / {value}", state.filter().input());
}

/// An unknown TRAILSCOPE_THEME is a warning in print, which goes on (the TUI says it in its
/// status bar: tests/e2e_tmux.rs).
#[test]
fn an_unknown_theme_is_a_warning_in_print() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_trailscope"))
        .env("TRAILSCOPE_THEME", "neon")
        .args(["print", "--no-cache", "--format", "csv"])
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sample"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("trailscope: warning: unknown theme \"neon\"") && err.contains("default, high-contrast, mono"),
        "{err}"
    );
    assert!(!o.stdout.is_empty());
}
