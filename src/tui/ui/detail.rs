use super::theme;
use crate::sanitize::{truncate_start_to_width, truncate_to_width};
use crate::tui::state::{Focus, State};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

pub fn draw_detail(frame: &mut Frame, area: Rect, state: &State) {
    let focused = state.focus == Focus::Detail && state.popups.open.is_none();
    let mut title = " Detail ".to_string();
    let store = state.events.store.read();
    if let Some(ev) = state.detail.event.and_then(|i| store.events.get(i as usize)) {
        let file = store.file_of(ev).map(|f| f.display.as_str()).unwrap_or("");
        let id = crate::sanitize::sanitize(&store.event_id(ev)).into_owned();
        let age = crate::model::time::format_age(state.now_ms, ev.time);
        let verdict = state.detail_verdict().map(|v| format!("{} {} · ", v.badge(), v.describe())).unwrap_or_default();
        let head = if age.is_empty() {
            format!(" Detail · {verdict}{id} · ")
        } else {
            format!(" Detail · {verdict}{id} · {age} · ")
        };
        let room = (area.width as usize).saturating_sub(5 + crate::sanitize::width(&head));
        let t = format!("{head}{} ", truncate_start_to_width(file, room));
        title = truncate_to_width(&t, area.width.saturating_sub(4) as usize).into_owned();
    }
    let block =
        Block::bordered().title(Span::styled(title, theme::title(focused))).border_style(theme::border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let d = &state.detail;
    let body: Vec<Line> = if let Some(content) = &d.content {
        let end = (d.scroll + inner.height as usize).min(content.lines.len());
        content.lines[d.scroll.min(end)..end].to_vec()
    } else if let Some(e) = &d.error {
        vec![Line::styled(format!("could not read this record: {e}"), theme::error())]
    } else if d.event.is_some() {
        vec![Line::styled("reading record…", theme::dim())]
    } else {
        vec![Line::styled("select an event to see its record", theme::dim())]
    };
    frame.render_widget(Paragraph::new(body).wrap(Wrap { trim: false }), inner);
    if let Some(content) = &d.content {
        if content.lines.len() > inner.height as usize && inner.width > 12 {
            let pos = format!(" {}/{} ", d.scroll + 1, content.lines.len());
            let w = pos.len() as u16;
            let r =
                Rect { x: area.right().saturating_sub(w + 2), y: area.bottom().saturating_sub(1), width: w, height: 1 };
            frame.render_widget(Paragraph::new(Span::styled(pos, theme::dim())), r);
        }
    }
}
