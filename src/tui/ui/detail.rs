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
        // The eventID is the record's, once it is read.
        let id = match state.detail.content() {
            Some(c) if !c.event_id.is_empty() => format!("{} · ", crate::sanitize::sanitize(&c.event_id)),
            _ => String::new(),
        };
        let age = crate::model::time::format_age(state.now_ms, ev.time());
        let verdict = state.detail_verdict().map(|v| format!("{} {} · ", v.badge(), v.describe())).unwrap_or_default();
        let head = if age.is_empty() {
            format!(" Detail · {verdict}{id}")
        } else {
            format!(" Detail · {verdict}{id}{age} · ")
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
        // Lines longer than the pane wrap under their own text, indented, not at the margin.
        let mut rows = Vec::new();
        for line in content.lines.iter().skip(d.scroll) {
            if rows.len() >= inner.height as usize {
                break;
            }
            rows.extend(wrap_indented(line, inner.width as usize));
        }
        rows.truncate(inner.height as usize);
        rows
    } else if let Some(e) = &d.error {
        vec![Line::styled(format!("could not read this record: {e}"), theme::error())]
    } else if d.event.is_some() {
        vec![Line::styled("reading record…", theme::dim())]
    } else {
        vec![Line::styled("select an event to see its record", theme::dim())]
    };
    let wrap = d.content.is_none();
    let para = Paragraph::new(body);
    frame.render_widget(if wrap { para.wrap(Wrap { trim: false }) } else { para }, inner);
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

/// A line cut into rows of `width` cells; the rows after the first start under the line's
/// text, two cells further in than its indentation (at most half the width in).
pub fn wrap_indented(line: &Line<'static>, width: usize) -> Vec<Line<'static>> {
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    wrap_hanging(line, width, text.len() - text.trim_start_matches(' ').len() + 2)
}

/// A line cut into rows of `width` cells, the rows after the first starting `indent` cells in
/// (at most half the width); rows break after a space where there is one, else anywhere.
pub fn wrap_hanging(line: &Line<'static>, width: usize, indent: usize) -> Vec<Line<'static>> {
    use crate::sanitize::width as w;
    let total: usize = line.spans.iter().map(|s| w(&s.content)).sum();
    if total <= width || width < 8 {
        return vec![line.clone()];
    }
    let indent = indent.min(width / 2);
    let chars: Vec<(char, usize, ratatui::style::Style)> = line
        .spans
        .iter()
        .flat_map(|s| s.content.chars().map(move |c| (c, w(c.encode_utf8(&mut [0; 4])), s.style)))
        .collect();
    let mut rows: Vec<Vec<(char, ratatui::style::Style)>> = Vec::new();
    let (mut start, mut used, mut space) = (0usize, 0usize, None::<usize>);
    let mut i = 0;
    while i < chars.len() {
        let (c, cw, _) = chars[i];
        let first = rows.is_empty();
        let room = if first { width } else { width - indent };
        if used + cw > room && i > start {
            // Break after the row's last space when it has one past its start.
            let end = match space {
                Some(sp) if sp > start => sp + 1,
                _ => i,
            };
            rows.push(chars[start..end].iter().map(|&(c, _, st)| (c, st)).collect());
            start = end;
            used = chars[start..i].iter().map(|x| x.1).sum();
            space = None;
            continue;
        }
        if c == ' ' {
            space = Some(i);
        }
        used += cw;
        i += 1;
    }
    rows.push(chars[start..].iter().map(|&(c, _, st)| (c, st)).collect());
    rows.into_iter()
        .enumerate()
        .map(|(n, row)| {
            let mut spans: Vec<Span<'static>> = Vec::new();
            if n > 0 {
                spans.push(Span::raw(" ".repeat(indent)));
            }
            let fixed = spans.len();
            for (c, st) in row {
                let joins = spans.len() > fixed && spans.last().is_some_and(|sp| sp.style == st);
                match spans.last_mut() {
                    Some(sp) if joins => sp.content.to_mut().push(c),
                    _ => spans.push(Span::styled(c.to_string(), st)),
                }
            }
            Line::from(spans)
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_under_their_text() {
        let line = Line::from(vec![
            Span::raw("    "),
            Span::raw("\"userAgent\": \"aws-cli/2.15.0 Python/3.11 Linux/6.1 exe/x86_64\","),
        ]);
        let rows = wrap_indented(&line, 30);
        assert!(rows.len() >= 2);
        let text = |l: &Line| l.spans.iter().map(|s| s.content.as_ref()).collect::<String>();
        for r in &rows[1..] {
            assert!(text(r).starts_with("      "), "{:?}", text(r));
            assert!(crate::sanitize::width(&text(r)) <= 30);
        }
        assert!(crate::sanitize::width(&text(&rows[0])) <= 30);
        let joined: String =
            rows.iter().enumerate().map(|(i, r)| if i == 0 { text(r) } else { text(r)[6..].to_string() }).collect();
        assert_eq!(joined, text(&line), "nothing lost or added but the indentation");
        // A short line stays one row.
        assert_eq!(wrap_indented(&Line::from("  \"a\": 1,"), 30).len(), 1);
    }
}
