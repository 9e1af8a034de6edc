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

use crate::source::boundary::S3Status;
use crate::tui::state::State;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub use crate::tui::format::{human_bytes, thousands};
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

/// The status of trail archives read from S3: objects and bytes so far, then what came from
/// the cache; the trail's last delivery when `--trail` named it.
fn remote_status(r: &S3Status, done: bool, elapsed: std::time::Duration, now_ms: i64) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    let read = r.objects_done + r.objects_cached;
    if !done {
        out.push(Span::raw(format!(
            " · s3 {}/{} objects · {} · {} requests",
            thousands(read),
            thousands(r.objects_wanted),
            human_bytes(r.bytes),
            thousands(r.requests())
        )));
    } else {
        let cached = if r.objects_cached > 0 {
            format!(" ({} from the cache)", thousands(r.objects_cached))
        } else {
            String::new()
        };
        out.push(Span::styled(
            format!(
                " · s3 {} objects{cached} · {} fetched in {:.1}s",
                thousands(read),
                human_bytes(r.bytes),
                elapsed.as_secs_f64()
            ),
            theme::dim(),
        ));
    }
    if let Some(t) = &r.trail {
        match t.latest_delivery_ms {
            Some(ms) => out.push(Span::raw(format!(
                " · {} last delivered {}",
                crate::sanitize::sanitize(&t.name),
                crate::model::time::format_age(now_ms, ms)
            ))),
            None => out.push(Span::styled(
                format!(" · {} has not delivered yet", crate::sanitize::sanitize(&t.name)),
                theme::write(),
            )),
        }
    }
    out
}

fn draw_status(frame: &mut Frame, area: Rect, state: &State) {
    let mut left: Vec<Span> = Vec::new();
    let total = state.events.store.read().len();
    left.push(Span::styled(
        format!(" {}/{} events", thousands(state.events.view().len()), thousands(total)),
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
        if live.status.done && state.events.view().is_empty() && state.problems.is_empty() && live.query.is_some() {
            left.push(Span::styled(" · nothing found (see ? for why)", theme::write()));
        }
    } else if let Some(a) = &state.load.athena {
        left.push(Span::raw(format!(" · {}", a.short_line())));
        if !a.done {
            left.push(Span::styled(" · asking Athena (Esc stops the query)", theme::write()));
        } else if let (Some(r), false) = (&state.load.remote, state.load.done) {
            // The files fetched: how far along.
            left.extend(remote_status(r, state.load.done, state.load.elapsed, crate::model::time::now_ms()));
        }
    } else if let Some(l) = &state.load.logs {
        left.push(Span::raw(format!(" · {}", l.plan)));
        left.push(Span::styled(format!(" · {}", l.progress_line()), theme::dim()));
        // The list holds enough beyond the screen: the next page waits for scrolling.
        if !state.wants_more() && !state.load.done {
            left.push(Span::styled(" · more as you scroll", theme::dim()));
        } else if !state.load.done {
            left.push(Span::styled(" · fetching", theme::write()));
        }
    } else if let Some(r) = &state.load.remote {
        left.extend(remote_status(r, state.load.done, state.load.elapsed, crate::model::time::now_ms()));
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
        if st.outside_window > 0 {
            left.push(Span::styled(
                format!(" · {} log files outside --since/--until not read", thousands(st.outside_window)),
                theme::dim(),
            ));
        }
    }
    if state.verify.running {
        left.push(Span::styled(" · verifying", theme::dim()));
    } else if let Some((valid, altered, unknown)) = state.verify.counts {
        left.push(Span::raw(" · files "));
        left.push(Span::styled(format!("✓{}", thousands(valid)), theme::ok()));
        left.push(Span::raw(" "));
        let style = if altered > 0 { theme::error() } else { theme::dim() };
        left.push(Span::styled(format!("✗{}", thousands(altered)), style));
        left.push(Span::raw(format!(" ?{}", thousands(unknown))));
    } else if state.verify.error.is_some() {
        left.push(Span::styled(" · not verified (E)", theme::dim()));
    } else if state.verify.no_keys {
        left.push(Span::styled(" · digests not checked (no keys: --public-keys)", theme::dim()));
    }
    if state.detect.enabled {
        let pending = state.detections_pending();
        let store = state.events.store.read();
        let d = &store.detections;
        if d.rules.is_empty() {
            left.push(Span::styled(" · reading rules", theme::dim()));
        } else if pending > 0 || !state.load.done {
            let done = d.evaluated as f64 * 100.0 / store.len().max(1) as f64;
            left.push(Span::styled(format!(" · rules {done:.0}%"), theme::write()));
        } else {
            let n = d.events();
            let style = if n > 0 { theme::error() } else { theme::dim() };
            left.push(Span::styled(
                format!(
                    " · {} {} flagged by {} rules",
                    thousands(n),
                    crate::sanitize::noun(n, "event", "events"),
                    d.rules.len()
                ),
                style,
            ));
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
    } else if !state.notes.is_empty() {
        let n = state.notes.len();
        left.push(Span::raw(" · "));
        left.push(Span::styled(format!("{n} note{} (E)", if n == 1 { "" } else { "s" }), theme::write()));
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
    fn text(spans: &[ratatui::text::Span]) -> String {
        spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn the_s3_status_says_objects_bytes_and_the_trails_last_delivery() {
        use crate::source::boundary::S3Status;
        use std::time::Duration;
        let mut r = S3Status {
            objects_wanted: 412,
            objects_done: 10,
            objects_cached: 2,
            bytes: 4_500_000,
            ..Default::default()
        };
        r.lists = 7;
        r.gets = 10;
        let now = 1_700_000_000_000;
        let loading = text(&super::remote_status(&r, false, Duration::ZERO, now));
        assert_eq!(loading, " · s3 12/412 objects · 4.5 MB · 17 requests");
        let done = text(&super::remote_status(&r, true, Duration::from_millis(3100), now));
        assert_eq!(done, " · s3 12 objects (2 from the cache) · 4.5 MB fetched in 3.1s");
        // A trail named with --trail, whose name is hostile: sanitised, with its last delivery.
        let info = crate::source::s3::trail::TrailInfo {
            name: "org\x1b[2Jtrail".to_string(),
            url: crate::source::s3::layout::S3Url { bucket: "b".into(), prefix: String::new() },
            latest_delivery_ms: Some(now - 4 * 60_000),
            delivery_error: None,
        };
        r.trail = Some(info);
        let with_trail = text(&super::remote_status(&r, true, Duration::from_millis(3100), now));
        assert!(with_trail.ends_with("trail last delivered 4m ago"), "{with_trail}");
        assert!(!with_trail.contains('\x1b'), "{with_trail:?}");
    }
}
