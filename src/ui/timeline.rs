//! The timeline: how the filtered events spread over time, with the selected event marked.

use super::theme;
use crate::model::time::{format_list_time, format_local_time};
use crate::state::State;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};
use ratatui::Frame;

pub fn draw_timeline(frame: &mut Frame, area: Rect, state: &State) {
    if area.height < 2 || area.width < 10 {
        return;
    }
    let bars = Rect { height: area.height - 1, ..area };
    let axis = Rect { y: area.bottom() - 1, height: 1, ..area };
    let Some(t) = state.summary.as_ref().map(|s| &s.timeline).filter(|t| !t.counts.is_empty()) else {
        let msg = if state.summary.is_some() { "timeline: no event times" } else { "timeline: counting…" };
        frame.render_widget(Paragraph::new(Line::styled(msg, theme::dim())), bars);
        return;
    };
    let cols = area.width as usize;
    let counts = t.columns(cols);
    frame.render_widget(Sparkline::default().data(&counts).style(theme::bars()), bars);
    // The axis: oldest time left, newest right, ▲ under the selected event.
    let fmt = |ms| if state.local_time { format_local_time(ms) } else { format_list_time(ms) };
    let (left, right) = (fmt(t.start_ms), fmt(t.end_ms));
    let mut line: Vec<char> = vec![' '; cols];
    let peak = counts.iter().copied().max().unwrap_or(0);
    let span_ms = (t.end_ms - t.start_ms).max(0);
    let mid = format!(" {} per column · peak {peak} ", span_label(span_ms / cols.max(1) as i64));
    for (i, c) in left.chars().enumerate().take(cols) {
        line[i] = c;
    }
    let rl = right.chars().count();
    if cols > left.len() + rl + 2 {
        for (i, c) in right.chars().enumerate() {
            line[cols - rl + i] = c;
        }
        let ml = mid.chars().count();
        if cols > left.len() + rl + ml + 4 {
            let start = (cols - ml) / 2;
            for (i, c) in mid.chars().enumerate() {
                line[start + i] = c;
            }
        }
    }
    let marker = state
        .selected_event()
        .and_then(|ev| t.bucket(state.store.read().events[ev as usize].time))
        .map(|b| t.column_of(b, cols));
    let mut spans = Vec::new();
    match marker {
        Some(m) if m < cols => {
            spans.push(Span::styled(line[..m].iter().collect::<String>(), theme::dim()));
            spans.push(Span::styled("▲", theme::key()));
            spans.push(Span::styled(line[m + 1..].iter().collect::<String>(), theme::dim()));
        }
        _ => spans.push(Span::styled(line.iter().collect::<String>(), theme::dim())),
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), axis);
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
