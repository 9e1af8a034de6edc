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
    let focused = state.focus == Focus::Facets && state.popups.open.is_none();
    let block = Block::bordered()
        .title(Span::styled(" Facets · Enter filters on · - filters out ", theme::title(focused)))
        .border_style(theme::border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(summary) = &state.facets.summary else {
        frame.render_widget(Paragraph::new(Line::styled("counting…", theme::dim())), inner);
        return;
    };
    let store = state.events.store.read();
    let w = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
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
            let value = if facet.rules {
                store.detections.rules.get(sym as usize).map_or("", |r| r.title.as_str())
            } else {
                facet_value(&store, sym)
            };
            let shown = if value.is_empty() { "(none)".into() } else { sanitize(value) };
            let room = w.saturating_sub(width(&count) + 3);
            let text = truncate_to_width(&shown, room).into_owned();
            let pad = w.saturating_sub(width(&text) + width(&count) + 2);
            let mut spans = vec![Span::raw(format!(" {text}{}", " ".repeat(pad))), Span::styled(count, theme::dim())];
            if row == state.facets.sel {
                let st = theme::selected(focused);
                spans = spans.into_iter().map(|s| s.patch_style(st)).collect();
            }
            lines.push(Line::from(spans));
            row += 1;
        }
    }
    let h = inner.height as usize;
    let start = state.facets.first_line(h);
    let visible: Vec<Line> = lines.into_iter().skip(start).take(h).collect();
    frame.render_widget(Paragraph::new(visible), inner);
}
