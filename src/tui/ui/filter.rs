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
    let input_line = match &f.error {
        Some(e) if e.end <= f.input.len() && e.start <= e.end => {
            let (a, rest) = f.input.split_at(e.start);
            let (bad, c) = rest.split_at(e.end - e.start);
            Line::from(vec![
                Span::raw(sanitize(a).into_owned()),
                Span::styled(sanitize(bad).into_owned(), theme::error().add_modifier(Modifier::UNDERLINED)),
                Span::raw(sanitize(c).into_owned()),
            ])
        }
        _ if f.input.is_empty() && !focused => {
            Line::styled("press / to filter, e.g. name:Delete* -error:AccessDenied user:alice has:error", theme::dim())
        }
        _ => Line::raw(sanitize(&f.input).into_owned()),
    };
    let info = match &f.error {
        Some(e) => Line::styled(format!("✗ {}", e.message), theme::error()),
        None if f.input != f.applied => {
            Line::styled("press Enter to run this filter (text: and resource: read every record)", theme::dim())
        }
        None => match &state.live {
            // The plan: what AWS is asked, what is checked here, and how far it got.
            Some(live) => {
                let st = &live.status;
                let mut s = if st.offline {
                    format!(
                        "offline · {} · cache {} · matched {}",
                        live.plan,
                        thousands(st.cached),
                        thousands(state.events.view.len())
                    )
                } else {
                    format!(
                        "{} · cache {} · AWS {} · matched {}",
                        live.plan,
                        thousands(st.cached),
                        thousands(st.scanned),
                        thousands(state.events.view.len())
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
                let mut s = format!("{} of {} events match", thousands(state.events.view.len()), thousands(total));
                if !state.load.done {
                    s.push_str(" so far");
                }
                Line::styled(s, theme::dim())
            }
        },
    };
    frame.render_widget(Paragraph::new(vec![input_line, info]), inner);
    if focused {
        let before = sanitize(&f.input[..f.cursor.min(f.input.len())]).into_owned();
        let x = inner.x.saturating_add(width(&before) as u16).min(inner.right().saturating_sub(1));
        frame.set_cursor_position(Position::new(x, inner.y));
    }
}
