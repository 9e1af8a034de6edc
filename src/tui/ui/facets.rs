//! The facets panel: the most frequent values of a few fields among the filtered events.

use super::{theme, thousands};
use crate::query::run::facet_value;
use crate::sanitize::{sanitize, truncate_to_width, width};
use crate::tui::state::{Focus, State};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

pub fn draw_facets(frame: &mut Frame, area: Rect, state: &State) {
    let focused = state.focus == Focus::Facets && state.popup.is_none();
    let block = Block::bordered()
        .title(Span::styled(" Facets · Enter filters on · - filters out ", theme::title(focused)))
        .border_style(theme::border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(summary) = &state.summary else {
        frame.render_widget(Paragraph::new(Line::styled("counting…", theme::dim())), inner);
        return;
    };
    let store = state.store.read();
    let w = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    // The line of the selected row, so the panel can scroll to it.
    let mut selected_line = 0;
    let mut row = 0;
    for facet in &summary.facets {
        let more = if facet.distinct > facet.top.len() {
            format!(" · {} values", thousands(facet.distinct))
        } else {
            String::new()
        };
        lines.push(Line::styled(format!("{}{more}", facet.label), theme::header()));
        for &(sym, n) in &facet.top {
            let count = thousands(n as usize);
            let value = facet_value(&store, sym);
            let shown = if value.is_empty() { "(none)".into() } else { sanitize(value) };
            let room = w.saturating_sub(width(&count) + 3);
            let text = truncate_to_width(&shown, room).into_owned();
            let pad = w.saturating_sub(width(&text) + width(&count) + 2);
            let mut spans = vec![Span::raw(format!(" {text}{}", " ".repeat(pad))), Span::styled(count, theme::dim())];
            if row == state.facet_sel {
                selected_line = lines.len();
                let st = theme::selected(focused);
                spans = spans.into_iter().map(|s| s.patch_style(st)).collect();
            }
            lines.push(Line::from(spans));
            row += 1;
        }
    }
    let h = inner.height as usize;
    let start = first_line(selected_line, h);
    let visible: Vec<Line> = lines.into_iter().skip(start).take(h).collect();
    frame.render_widget(Paragraph::new(visible), inner);
}

/// The first line shown: the panel scrolls so that the selected row's line is on screen.
fn first_line(selected_line: usize, height: usize) -> usize {
    if selected_line >= height {
        selected_line + 1 - height
    } else {
        0
    }
}

/// The facets row (as [`State::facet_rows`] counts them) drawn at screen row `y` of the panel
/// whose inside is `inner`; `None` on a field's heading or below the last value.
pub fn row_at(state: &State, inner: Rect, y: u16) -> Option<usize> {
    let summary = state.summary.as_ref()?;
    if y < inner.y || y >= inner.bottom() {
        return None;
    }
    // The lines as drawn: each field's heading, then its values.
    let mut lines: Vec<Option<usize>> = Vec::new();
    let mut row = 0;
    for facet in &summary.facets {
        lines.push(None);
        for _ in &facet.top {
            lines.push(Some(row));
            row += 1;
        }
    }
    let selected_line = lines.iter().position(|l| *l == Some(state.facet_sel)).unwrap_or(0);
    let start = first_line(selected_line, inner.height as usize);
    lines.get(start + (y - inner.y) as usize).copied().flatten()
}
