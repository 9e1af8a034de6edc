use super::{theme, thousands};
use crate::sanitize::{sanitize, width};
use crate::tui::state::{Focus, State};
use ratatui::layout::{Position, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

pub fn draw_filter(frame: &mut Frame, area: Rect, state: &State) {
    let focused = state.focus == Focus::Filter && state.popups.open.is_none();
    let block =
        Block::bordered().title(Span::styled(" Filter ", theme::title(focused))).border_style(theme::border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let f = &state.filter;
    // The line as spans of sanitised text with their styles, then the part of it that fits:
    // a long filter scrolls to keep the cursor in sight, and a cut is marked with `…`.
    let spans: Vec<(String, ratatui::style::Style)> = match &f.error {
        Some(e) if e.end <= f.input.len() && e.start <= e.end => {
            let (a, rest) = f.input.split_at(e.start);
            let (bad, c) = rest.split_at(e.end - e.start);
            vec![
                (sanitize(a).into_owned(), Default::default()),
                (sanitize(bad).into_owned(), theme::error().add_modifier(Modifier::UNDERLINED)),
                (sanitize(c).into_owned(), Default::default()),
            ]
        }
        _ if f.input.is_empty() && !focused => vec![(
            "press / to filter, e.g. name:Delete* -error:AccessDenied user:alice has:error".to_string(),
            theme::dim(),
        )],
        _ => vec![(sanitize(&f.input).into_owned(), Default::default())],
    };
    let cursor_col = width(&sanitize(&f.input[..f.cursor.min(f.input.len())]));
    let (input_line, start) = fit_line(&spans, inner.width as usize, if focused { Some(cursor_col) } else { None });
    let info = match &f.error {
        Some(e) => Line::styled(format!("✗ {}", e.message), theme::error()),
        None if f.input != f.applied => Line::styled(
            "press Enter to run (text:, id: and request: read every record; id:= and request:= do not)",
            theme::dim(),
        ),
        None => match &state.live {
            // The plan: what AWS is asked, what is checked here, and how far it got.
            Some(live) => {
                let st = &live.status;
                let mut s = if st.offline {
                    format!(
                        "offline · {} · cache {} · matched {}",
                        live.plan,
                        thousands(st.cached),
                        thousands(state.events.view().len())
                    )
                } else {
                    format!(
                        "{} · cache {} · AWS {} · matched {}",
                        live.plan,
                        thousands(st.cached),
                        thousands(st.scanned),
                        thousands(state.events.view().len())
                    )
                };
                if let Some(note) = st.cache_notes.last() {
                    s.push_str(&format!(" · {}", sanitize(note)));
                }
                if live.fetching() {
                    s.push_str(if state.wants_more() { " · fetching…" } else { " · more as you scroll" });
                }
                Line::styled(s, theme::dim())
            }
            None => {
                let total = state.events.store.read().len();
                let mut s = format!("{} of {} events match", thousands(state.events.view().len()), thousands(total));
                if !state.load.done {
                    s.push_str(" so far");
                }
                Line::styled(s, theme::dim())
            }
        },
    };
    let mut info = info;
    // The window given on the command line applies whatever the filter says: say so.
    if !f.base_terms.is_empty() && f.error.is_none() {
        let terms: Vec<String> = f.base_terms.iter().map(|t| t.to_string()).collect();
        info.spans.push(Span::styled(format!(" · command line: {}", terms.join(" ")), theme::dim()));
    }
    frame.render_widget(Paragraph::new(vec![input_line, info]), inner);
    if focused {
        let x = inner.x.saturating_add(cursor_col.saturating_sub(start) as u16).min(inner.right().saturating_sub(1));
        frame.set_cursor_position(Position::new(x, inner.y));
    }
}

/// The part of a line of `spans` that fits in `cols` columns, and the column it starts at:
/// from the start, or (with `cursor`, the cursor's column) scrolled so that the cursor is in
/// sight. Where text is cut off, its last column in sight shows `…`.
pub(crate) fn fit_line(
    spans: &[(String, ratatui::style::Style)],
    cols: usize,
    cursor: Option<usize>,
) -> (Line<'static>, usize) {
    let total: usize = spans.iter().map(|(t, _)| width(t)).sum();
    // The cursor after the last character needs a column of its own.
    let needed = total.max(cursor.map_or(0, |c| c + 1));
    if needed <= cols || cols < 2 {
        return (Line::from(spans.iter().map(|(t, st)| Span::styled(t.clone(), *st)).collect::<Vec<_>>()), 0);
    }
    // Scroll so that the cursor sits in the last column when it is at the end, else in the
    // last but one (the last is then `…`).
    let start = cursor.map_or(0, |c| if c >= total { c + 1 } else { c + 2 }.saturating_sub(cols)).min(total);
    let end = start + cols;
    // The characters wholly in sight, with their styles.
    let mut kept: Vec<(char, ratatui::style::Style)> = Vec::new();
    let mut col = 0;
    for (text, style) in spans {
        for ch in text.chars() {
            let w = width(ch.encode_utf8(&mut [0; 4]));
            if col >= start && col + w <= end {
                kept.push((ch, *style));
            }
            col += w;
        }
    }
    if start > 0 {
        if let Some(first) = kept.first_mut() {
            first.0 = '…';
        }
    }
    if total > end {
        if let Some(last) = kept.last_mut() {
            last.0 = '…';
        }
    }
    let mut out: Vec<Span<'static>> = Vec::new();
    for (ch, style) in kept {
        match out.last_mut() {
            Some(span) if span.style == style => span.content.to_mut().push(ch),
            _ => out.push(Span::styled(ch.to_string(), style)),
        }
    }
    (Line::from(out), start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn a_long_line_is_cut_with_an_ellipsis_and_follows_the_cursor() {
        let spans = vec![("name:DeleteBucket user:alice".to_string(), Default::default())];
        let (line, start) = fit_line(&spans, 40, None);
        assert_eq!((text(&line).as_str(), start), ("name:DeleteBucket user:alice", 0));
        let (line, start) = fit_line(&spans, 12, None);
        assert_eq!((text(&line).as_str(), start), ("name:Delete…", 0));
        // The cursor at the end: the end in sight, the start cut.
        let (line, start) = fit_line(&spans, 12, Some(28));
        assert_eq!(text(&line), "…user:alice");
        assert_eq!(start, 28 + 1 - 12);
        // In the middle: cut on both sides, the cursor's column inside.
        let (line, start) = fit_line(&spans, 12, Some(20));
        let t = text(&line);
        assert!(t.starts_with('…') && t.ends_with('…'), "{t}");
        assert!(20 >= start && 20 < start + 12);
        assert_eq!(width(&t), 12);
    }
}
