//! Drawing. Every function here is pure: it reads [`State`] and writes to the frame, with no
//! I/O, parsing or highlighting.

pub mod detail;
pub mod facets;
pub mod filter;
pub mod list;
pub mod popup;
pub mod timeline;

/// The colours (a module of the layer below, where the highlighter uses them too).
pub use crate::tui::theme;

use crate::tui::state::State;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub use crate::tui::layout::{layout, pane_rows, Areas, Panes, MIN_HEIGHT, MIN_WIDTH};

pub fn draw(frame: &mut Frame, state: &State) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "trailscope needs at least {MIN_WIDTH}x{MIN_HEIGHT}; this terminal is {}x{}. q quits.",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(msg).wrap(ratatui::widgets::Wrap { trim: true }), area);
        return;
    }
    let a = layout(area, state.panes());
    filter::draw_filter(frame, a.filter, state);
    if let Some(t) = a.timeline {
        timeline::draw_timeline(frame, t, state);
    }
    list::draw_list(frame, a.list, state);
    if a.detail.height > 0 {
        detail::draw_detail(frame, a.detail, state);
    }
    if let Some(f) = a.facets {
        facets::draw_facets(frame, f, state);
    }
    draw_status(frame, a.status, state);
    match state.popups.open {
        Some(crate::tui::state::Popup::Help) => popup::draw_help(frame, area, state),
        Some(crate::tui::state::Popup::Errors) => popup::draw_errors(frame, area, state),
        Some(crate::tui::state::Popup::Copy) => popup::draw_copy_menu(frame, area, state),
        Some(crate::tui::state::Popup::Saved) => popup::draw_saved(frame, area, state),
        None => {}
    }
    if state.popups.prompt.is_some() {
        popup::draw_prompt(frame, area, state);
    }
}

/// `1234567` -> `1,234,567`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn draw_status(frame: &mut Frame, area: Rect, state: &State) {
    let mut left: Vec<Span> = Vec::new();
    let total = state.events.store.read().len();
    left.push(Span::styled(
        format!(" {}/{} events", thousands(state.events.view.len()), thousands(total)),
        theme::title(false),
    ));
    let st = &state.load.stats;
    if let Some(live) = &state.live {
        let ls = &live.status;
        let pages: usize = ls.regions.iter().map(|r| r.pages).sum();
        left.push(Span::raw(format!(
            " · {} pages · {} requests · {:.1} req/s",
            thousands(pages),
            thousands(ls.requests),
            ls.rate
        )));
        if let Some(q) = &live.query {
            if live.fetching() {
                left.push(Span::raw(format!(" · {:.0}% of window", ls.progress(q) * 100.0)));
            } else {
                left.push(Span::styled(" · complete", theme::ok()));
            }
        }
        // A request that is slow to come back: say what we are waiting for.
        let slow = ls
            .regions
            .iter()
            .filter_map(|r| r.requesting_since.map(|t| (r, t.elapsed())))
            .find(|(_, e)| e.as_secs() >= 2);
        if let Some((r, waited)) = slow {
            left.push(Span::styled(format!(" · waiting for {} ({}s)", r.region, waited.as_secs()), theme::write()));
        }
        if let Some(w) = ls.regions.iter().find_map(|r| r.waiting.as_ref().map(|w| format!("{}: {w}", r.region))) {
            left.push(Span::styled(format!(" · {}", crate::sanitize::sanitize(&w)), theme::write()));
        }
        if live.status.done && state.events.view.is_empty() && state.problems.is_empty() && live.query.is_some() {
            left.push(Span::styled(" · nothing found (see ? for why)", theme::write()));
        }
    } else if !state.load.done {
        let secs = state.load.started.map(|s| s.elapsed().as_secs_f64()).unwrap_or(0.0).max(0.001);
        left.push(Span::raw(format!(
            " · loading {}/{}{} {} · {} · {}/s",
            thousands(st.files_done),
            thousands(st.files_total),
            // Directories are still being searched.
            if st.discovering { "+" } else { "" },
            crate::sanitize::noun(st.files_total, "file", "files"),
            human_bytes(st.bytes),
            thousands((st.events as f64 / secs) as usize)
        )));
    } else {
        left.push(Span::styled(
            format!(
                " · {} {} · {} in {:.1}s",
                thousands(st.files_read),
                crate::sanitize::noun(st.files_read, "file", "files"),
                human_bytes(st.bytes),
                state.load.elapsed.as_secs_f64()
            ),
            theme::dim(),
        ));
        if st.duplicates > 0 {
            left.push(Span::styled(format!(" · {} duplicates collapsed", thousands(st.duplicates)), theme::dim()));
        }
    }
    if let Some((checked, total)) = state.filtering() {
        left.push(Span::styled(
            format!(" · filtering {:.0}%", checked as f64 * 100.0 / total.max(1) as f64),
            theme::write(),
        ));
    }
    if !state.problems.is_empty() {
        let n = state.problems.len();
        left.push(Span::raw(" · "));
        left.push(Span::styled(
            format!("{n} input{} with problems (E)", if n == 1 { "" } else { "s" }),
            theme::error(),
        ));
    }
    // A recent notice (copied, exported, saved) replaces the counts for a few seconds.
    if let Some(n) = &state.notice {
        if n.at.elapsed() < crate::tui::state::NOTICE_FOR {
            let style = if n.error { theme::error() } else { theme::ok() };
            left = vec![Span::styled(format!(" {}", crate::sanitize::sanitize(&n.text)), style)];
        }
    }
    let hints: &[(&str, &str)] = match state.focus {
        crate::tui::state::Focus::Filter => &[("Enter", "apply"), ("Esc", "clear"), ("Tab", "list")],
        crate::tui::state::Focus::Detail => &[("j/k", "scroll"), ("Esc", "back"), ("?", "help"), ("q", "quit")],
        crate::tui::state::Focus::List => &[("/", "filter"), ("p/i/s", "pivot"), ("f", "facets"), ("?", "help")],
        crate::tui::state::Focus::Facets => &[("Enter", "filter on"), ("-", "filter out"), ("Esc", "list")],
    };
    let mut right: Vec<Span> = Vec::new();
    for (k, what) in hints {
        right.push(Span::styled(*k, theme::key()));
        right.push(Span::raw(format!(" {what}  ")));
    }
    let right_width: usize = right.iter().map(|s| s.width()).sum();
    let left_width: usize = left.iter().map(|s| s.width()).sum();
    let mut spans = left;
    if left_width + right_width < area.width as usize {
        spans.push(Span::raw(" ".repeat(area.width as usize - left_width - right_width)));
        spans.extend(right);
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

#[cfg(test)]
mod tests {
    #[test]
    fn number_formats() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(1234567), "1,234,567");
        assert_eq!(super::human_bytes(999), "999 B");
        assert_eq!(super::human_bytes(1_500_000), "1.5 MB");
    }
}
