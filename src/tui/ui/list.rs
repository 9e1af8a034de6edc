use super::theme;
use crate::model::columns;
use crate::sanitize::{sanitize, truncate_to_width};
use crate::tui::state::{Focus, State};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};
use ratatui::Frame;

/// The list's extra column after [`columns::cells`]: how long ago the event was.
pub const AGE: usize = 7;

/// Which of [`columns::cells`] (or [`AGE`]) to show and how wide, for a list `width` cells wide.
/// Time, event, principal and error always show; source IP, source and region are dropped
/// (region first) when the minimum widths do not fit.
pub fn column_plan(width: u16) -> Vec<(usize, u16)> {
    column_plan_with_time(width, 20)
}

/// As [`column_plan`], with a time column `time_width` wide (local times carry an offset).
pub fn column_plan_with_time(width: u16, time_width: i32) -> Vec<(usize, u16)> {
    // (column, min, preferred)
    let time: (usize, i32, i32) = (0, time_width, time_width);
    const FLEX: [(usize, i32, i32); 3] = [(1, 16, 30), (2, 14, 28), (6, 10, 18)];
    // Dropped from the end when they do not fit: region first, then source, IP.
    let mut optional = vec![(3usize, 15i32, 15i32), (5, 10, 16), (4, 12, 14)];
    let avail = width as i32 - 2; // marker column and its gap
    let need = |opt: &[(usize, i32, i32)]| -> i32 {
        let cols = 1 + FLEX.len() + opt.len();
        time.1 + FLEX.iter().chain(opt).map(|c| c.1).sum::<i32>() + cols as i32 - 1
    };
    while need(&optional) > avail && !optional.is_empty() {
        optional.pop();
    }
    // The age only where the other columns keep room to grow.
    if optional.len() == 3 && avail - need(&optional) >= 30 {
        optional.push((AGE, 8, 8));
    }
    let mut cols: Vec<(usize, i32, i32)> = vec![time];
    cols.extend(FLEX);
    cols.extend(optional.iter().copied());
    let mut widths: Vec<i32> = cols.iter().map(|c| c.1).collect();
    let mut spare = avail - need(&optional);
    // Grow towards preferred widths one cell at a time, then give the rest to event and principal.
    while spare > 0 {
        let mut grew = false;
        for (i, c) in cols.iter().enumerate() {
            if spare > 0 && widths[i] < c.2 {
                widths[i] += 1;
                spare -= 1;
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    widths[1] += spare / 2;
    widths[2] += spare - spare / 2;
    let mut plan: Vec<(usize, u16)> = cols.iter().zip(&widths).map(|(c, &w)| (c.0, w.max(1) as u16)).collect();
    plan.sort_by_key(|p| p.0);
    plan
}

/// A cell's text with the characters the filter's bare words matched highlighted. The
/// highlight is skipped when sanitising changed the text (the indices would not line up).
fn highlighted_cell(raw: &str, width: usize, style: Style, state: &State) -> Cell<'static> {
    let safe = sanitize(raw);
    let text = truncate_to_width(&safe, width).into_owned();
    let marks =
        if matches!(safe, std::borrow::Cow::Borrowed(_)) { state.events.matcher.highlights(raw) } else { Vec::new() };
    if marks.is_empty() {
        return Cell::from(Span::styled(text, style));
    }
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut run = String::new();
    let mut run_marked = false;
    for (i, c) in text.chars().enumerate() {
        let marked = marks.binary_search(&i).is_ok();
        if marked != run_marked && !run.is_empty() {
            let st = if run_marked { theme::matched(style) } else { style };
            spans.push(Span::styled(std::mem::take(&mut run), st));
        }
        run_marked = marked;
        run.push(c);
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, if run_marked { theme::matched(style) } else { style }));
    }
    Cell::from(Line::from(spans))
}

/// The configured columns, in their order, `width` cells wide: columns are dropped from the
/// end of the list until the rest fit (the first always stays).
pub fn custom_column_plan(width: u16, cols: &[usize], time_width: i32) -> Vec<(usize, u16)> {
    // (min, preferred) per column of columns::cells.
    let size = |c: usize| -> (i32, i32) {
        match c {
            0 => (time_width, time_width),
            1 => (16, 30),
            2 => (14, 28),
            3 => (15, 15),
            4 => (12, 14),
            5 => (10, 16),
            AGE => (8, 8),
            _ => (10, 18),
        }
    };
    let avail = width as i32 - 2;
    let mut keep: Vec<usize> = cols.to_vec();
    let need = |k: &[usize]| k.iter().map(|&c| size(c).0).sum::<i32>() + k.len() as i32 - 1;
    while keep.len() > 1 && need(&keep) > avail {
        keep.pop();
    }
    let mut widths: Vec<i32> = keep.iter().map(|&c| size(c).0).collect();
    let mut spare = avail - need(&keep);
    while spare > 0 {
        let mut grew = false;
        for (i, &c) in keep.iter().enumerate() {
            if spare > 0 && widths[i] < size(c).1 {
                widths[i] += 1;
                spare -= 1;
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    // The rest goes to the event and principal columns, else the last one.
    let flex: Vec<usize> = keep.iter().enumerate().filter(|(_, &c)| c == 1 || c == 2).map(|(i, _)| i).collect();
    let flex = if flex.is_empty() { vec![keep.len() - 1] } else { flex };
    for (n, &i) in flex.iter().enumerate() {
        let share = spare / flex.len() as i32 + i32::from((n as i32) < spare % flex.len() as i32);
        widths[i] += share.max(0);
    }
    keep.into_iter().zip(widths).map(|(c, w)| (c, w.max(1) as u16)).collect()
}

pub fn draw_list(frame: &mut Frame, area: Rect, state: &State) {
    let focused = state.focus == Focus::List && state.popups.open.is_none();
    let mut title = format!(" Events · {} ", super::thousands(state.events.view.len()));
    if let Some((checked, total)) = state.filtering() {
        title = format!(
            " Events · {} · filtering {}/{} ",
            super::thousands(state.events.view.len()),
            super::thousands(checked),
            super::thousands(total)
        );
    }
    let store = state.events.store.read();
    let block =
        Block::bordered().title(Span::styled(title, theme::title(focused))).border_style(theme::border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if state.events.view.is_empty() {
        if state.live.as_ref().is_some_and(|l| l.query.is_some() && l.status.done) {
            // Live history came back empty: say why that may be.
            let msg = if state.problems.is_empty() {
                crate::source::boundary::EMPTY_HINT.to_string()
            } else {
                "the query failed (E lists why; r tries again)".to_string()
            };
            frame.render_widget(
                Paragraph::new(Line::styled(msg, theme::dim())).wrap(ratatui::widgets::Wrap { trim: true }),
                inner,
            );
            return;
        }
        let msg = if !state.load.done && store.is_empty() {
            "loading…"
        } else if state.filtering().is_some() {
            "filtering…"
        } else if store.is_empty() {
            "no events were loaded (see E for inputs with problems)"
        } else {
            "no events match the filter (Esc clears it)"
        };
        frame.render_widget(Paragraph::new(Line::styled(msg, theme::dim())), inner);
        return;
    }
    let time_width = if state.local_time { 25 } else { 20 };
    // With detection rules, a column of one cell for the highest level an event matched.
    let detections = !store.detections.rules.is_empty();
    let width = if detections { inner.width.saturating_sub(2) } else { inner.width };
    let plan = match &state.columns {
        Some(cols) => custom_column_plan(width, cols, time_width),
        None => column_plan_with_time(width, time_width),
    };
    let lead: Vec<Cell> = if detections { vec![Cell::from(" "), Cell::from("!")] } else { vec![Cell::from(" ")] };
    let header = Row::new(
        lead.into_iter()
            .chain(plan.iter().map(|&(c, _)| Cell::from(columns::HEADERS.get(c).unwrap_or(&"age").replace('_', " ")))),
    )
    .style(theme::header());
    let rows_on_screen = inner.height.saturating_sub(1) as usize;
    let end = (state.list.offset + rows_on_screen).min(state.events.view.len());
    let rows = state.events.view[state.list.offset.min(end)..end].iter().enumerate().map(|(i, &idx)| {
        let ev = &store.events[idx as usize];
        let mut cells = columns::cells(&store, ev, true);
        if state.local_time {
            cells[0] = crate::model::time::format_local_time(ev.time).into();
        }
        let marker = if ev.is_error() {
            Cell::from(Span::styled("✗", theme::error()))
        } else if ev.is_write() {
            Cell::from(Span::styled("●", theme::write()))
        } else {
            Cell::from(" ")
        };
        let mut row_cells = vec![marker];
        if detections {
            row_cells.push(match store.detections.top_level(idx) {
                Some(level) => Cell::from(Span::styled(level.mark(), theme::level(level))),
                None => Cell::from(" "),
            });
        }
        for &(c, w) in &plan {
            let style = match c {
                1 if ev.is_error() => theme::error(),
                6 => theme::error(),
                0 => theme::dim(),
                _ => Default::default(),
            };
            if c == AGE {
                let age = crate::model::time::format_age(state.now_ms, ev.time);
                row_cells.push(Cell::from(Span::styled(age.trim_end_matches(" ago").to_string(), theme::dim())));
            } else if c == 0 {
                let text = truncate_to_width(&sanitize(&cells[c]), w as usize).into_owned();
                row_cells.push(Cell::from(Span::styled(text, style)));
            } else {
                row_cells.push(highlighted_cell(&cells[c], w as usize, style, state));
            }
        }
        let mut row = Row::new(row_cells);
        if state.list.offset + i == state.list.selected {
            row = row.style(theme::selected(focused || state.focus == Focus::Detail));
        }
        row
    });
    let lead = if detections { 2 } else { 1 };
    let widths: Vec<Constraint> = std::iter::repeat_n(Constraint::Length(1), lead)
        .chain(plan.iter().map(|&(_, w)| Constraint::Length(w)))
        .collect();
    frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_fit_their_width() {
        for w in [38u16, 60, 78, 100, 118, 160, 250] {
            let plan = column_plan(w);
            let total: u16 = plan.iter().map(|p| p.1 + 1).sum::<u16>() + 1;
            assert!(total <= w.max(63), "width {w}: {plan:?} uses {total}");
            assert_eq!(plan[0].0, 0);
            assert_eq!(plan[1].0, 1);
        }
        assert_eq!(column_plan(118).len(), 7, "no room for the age at 118");
        assert_eq!(column_plan(140).len(), 8, "the age at 140");
        assert!(column_plan(78).len() < 7);
    }

    #[test]
    fn configured_columns_keep_their_order_and_fit() {
        let cols = [6, 1, 0, 3];
        for w in [30u16, 60, 78, 120, 200] {
            let plan = custom_column_plan(w, &cols, 20);
            let order: Vec<usize> = plan.iter().map(|p| p.0).collect();
            assert_eq!(order[..], cols[..order.len()], "width {w}");
            let total: u16 = plan.iter().map(|p| p.1 + 1).sum::<u16>() + 1;
            assert!(total <= w.max(plan[0].1 + 3), "width {w}: {plan:?}");
        }
        assert_eq!(custom_column_plan(200, &cols, 20).len(), 4);
    }
}
