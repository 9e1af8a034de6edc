//! The timeline: how the filtered events spread over time, with the selected event marked.

use super::theme;
use crate::model::time::{format_list_time, format_local_time};
use crate::tui::state::State;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};
use ratatui::Frame;

pub fn draw_timeline(frame: &mut Frame, area: Rect, state: &State) {
    if area.height < 2 || area.width < 10 {
        return;
    }
    let bars = Rect { height: area.height - 1, ..area };
    let axis = Rect { y: area.bottom() - 1, height: 1, ..area };
    let Some(t) = state.facets.summary.as_ref().map(|s| &s.timeline).filter(|t| !t.counts.is_empty()) else {
        let msg = if state.facets.summary.is_some() { "timeline: no event times" } else { "timeline: counting…" };
        frame.render_widget(Paragraph::new(Line::styled(msg, theme::dim())), bars);
        return;
    };
    let cols = area.width as usize;
    let counts = t.columns(cols);
    frame.render_widget(Sparkline::default().data(&counts).style(theme::bars()), bars);
    // The axis: oldest time left, newest right, ▲ under the selected event.
    let fmt = |ms| if state.local_time { format_local_time(ms) } else { format_list_time(ms) };
    let (left, right) = (fmt(t.start_ms), fmt(t.end_ms));
    let marker = state
        .selected_event()
        .and_then(|ev| t.bucket(state.events.store.read().events[ev as usize].time()))
        .map(|b| t.column_of(b, cols))
        .filter(|&m| m < cols);
    let peak = counts.iter().copied().max().unwrap_or(0);
    let span_ms = (t.end_ms - t.start_ms).max(0);
    let mid = format!(" {} per column · peak {peak} ", span_label(span_ms / cols.max(1) as i64));
    let line = axis_line(cols, &left, &right, &mid, marker);
    let mut spans = Vec::new();
    match marker {
        Some(m) => {
            spans.push(Span::styled(line[..m].iter().collect::<String>(), theme::dim()));
            // On a label, the marker is its character shown reversed, so the label stays whole.
            match line[m] {
                ' ' => spans.push(Span::styled("▲", theme::key())),
                c => spans.push(Span::styled(c.to_string(), theme::key().add_modifier(Modifier::REVERSED))),
            }
            spans.push(Span::styled(line[m + 1..].iter().collect::<String>(), theme::dim()));
        }
        _ => spans.push(Span::styled(line.iter().collect::<String>(), theme::dim())),
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), axis);
}

/// The axis under the bars: the oldest time at the left, the newest at the right, the scale in
/// the middle. A label moves one column in from the edge when the marker is at that edge (the
/// newest or the oldest event selected); elsewhere the caller shows the marker on whatever
/// character is under it.
fn axis_line(cols: usize, left: &str, right: &str, mid: &str, marker: Option<usize>) -> Vec<char> {
    let mut line = vec![' '; cols];
    let (ll, rl, ml) = (left.chars().count(), right.chars().count(), mid.chars().count());
    let put = |line: &mut Vec<char>, start: usize, text: &str| {
        for (i, c) in text.chars().enumerate() {
            if let Some(slot) = line.get_mut(start + i) {
                *slot = c;
            }
        }
    };
    let l_start = usize::from(marker == Some(0));
    if cols <= ll + rl + 3 {
        put(&mut line, l_start, &left.chars().take(cols.saturating_sub(l_start)).collect::<String>());
        return line;
    }
    let r_start = cols - rl - usize::from(marker == Some(cols - 1));
    put(&mut line, l_start, left);
    put(&mut line, r_start, right);
    if cols > ll + rl + ml + 5 {
        put(&mut line, (cols - ml) / 2, mid);
    }
    line
}

/// `90s`, `15m`, `2h`, `3d`: the time one column covers.
fn span_label(ms: i64) -> String {
    let s = (ms / 1000).max(1);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::axis_line;

    const L: &str = "2025-12-29 02:30:04Z";
    const R: &str = "2025-12-31 23:59:59Z";
    const M: &str = " 34m per column · peak 200 ";

    fn text(line: &[char]) -> String {
        line.iter().collect()
    }

    #[test]
    fn labels_stay_whole_and_in_place() {
        let cols = 120;
        let plain = text(&axis_line(cols, L, R, M, None));
        assert!(plain.starts_with(L) && plain.ends_with(R), "{plain}");
        assert_eq!(plain.find(M), Some((cols - M.chars().count()) / 2));
        // Inside the axis the marker does not move or cover anything: the caller shows it on
        // the character under it.
        for m in [5, 19, 20, 50, 60, 100, 110, 118] {
            assert_eq!(text(&axis_line(cols, L, R, M, Some(m))), plain, "marker {m}");
        }
        // The newest event (selected first) is in the last column: the right label ends before
        // it, and the oldest's marker is before the left label.
        let t = text(&axis_line(cols, L, R, M, Some(cols - 1)));
        assert!(t.starts_with(L) && t.ends_with(&format!("{R} ")), "{t}");
        let t = text(&axis_line(cols, L, R, M, Some(0)));
        assert!(t.starts_with(&format!(" {L}")) && t.ends_with(R), "{t}");
    }

    #[test]
    fn narrow_axes_keep_what_fits() {
        for cols in [10, 20, 30, 43, 44, 45, 60, 70] {
            for m in [None, Some(0), Some(cols / 2), Some(cols - 1)] {
                let t = text(&axis_line(cols, L, R, M, m));
                assert_eq!(t.chars().count(), cols);
                if cols > 44 {
                    assert!(t.contains(R), "{cols} {m:?}: {t}");
                }
            }
        }
    }
}
