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
    let mut inner = block.inner(area);
    frame.render_widget(block, area);
    // The rules the event matched, above its record: each with what its license asks to be
    // shown (title, level, id, author, description, references).
    if let Some(i) = state.detail.event {
        let lines = rule_lines(&store.detections, i, inner.width as usize);
        if !lines.is_empty() {
            let h = (lines.len() as u16 + 1).min(inner.height / 2);
            let top = Rect { height: h, ..inner };
            frame.render_widget(Paragraph::new(lines), top);
            inner = Rect { y: inner.y + h, height: inner.height - h, ..inner };
        }
    }
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

/// The lines that show the rules event `i` matched, highest level first, `width` cells wide
/// (text cut to fit; every string was sanitised when the rule was read).
pub fn rule_lines(det: &crate::model::detect::Detections, i: u32, width: usize) -> Vec<Line<'static>> {
    let mut rules: Vec<&crate::model::detect::RuleInfo> =
        det.of(i).iter().filter_map(|&r| det.rules.get(r as usize)).collect();
    rules.sort_by_key(|r| std::cmp::Reverse(r.level));
    let cut = |s: String, w: usize| truncate_to_width(&s, w).into_owned();
    let mut out = Vec::new();
    for r in rules {
        let level = format!("{} {}", r.level.mark(), r.level.name());
        let head = format!(" {}", r.title);
        out.push(Line::from(vec![
            Span::styled(level.clone(), theme::level(r.level)),
            Span::styled(cut(head, width.saturating_sub(level.len())), theme::title(false)),
        ]));
        let mut by = format!("  id {}", r.id);
        if !r.author.is_empty() {
            by.push_str(&format!(" · by {}", r.author));
        }
        out.push(Line::styled(cut(by, width), theme::dim()));
        if !r.description.is_empty() {
            out.push(Line::raw(cut(format!("  {}", r.description), width)));
        }
        for reference in &r.references {
            out.push(Line::styled(cut(format!("  ↗ {reference}"), width), theme::dim()));
        }
    }
    out
}
