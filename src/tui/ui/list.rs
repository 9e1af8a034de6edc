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
pub const AGE: usize = columns::HEADERS.len();

/// The columns the list offers when the configuration names none, in order: the list's own,
/// the account (shown when the rows on screen are not all of one account), and the age where
/// there is room.
pub fn default_columns() -> Vec<(usize, Option<u16>)> {
    (0..columns::LIST).chain([7, AGE]).map(|c| (c, None)).collect()
}

/// Columns that are hidden when every row on screen has the same value (the header says so).
fn hideable(c: usize) -> bool {
    !matches!(c, 0 | 1 | AGE)
}

/// The fewest cells a column is given before it is dropped, and the most its content is
/// given (longer values are cut with `…`).
fn bounds(c: usize, time_width: i32) -> (i32, i32) {
    match c {
        0 => (time_width, time_width),
        1 => (12, 40),
        2 => (12, 48),
        3 => (15, 39),
        4 => (9, 20),
        5 => (6, 24),
        6 => (8, 32),
        7 => (12, 12),
        8 => (7, 14),
        9 => (10, 20),
        10 => (20, 80),
        11 => (12, 36),
        _ => (4, 8),
    }
}

/// In the default set, which column goes first when they do not all fit: the age, the
/// identity, the account, region, source, the error (failed calls are marked and coloured in
/// the event column too), the source IP (kept before the region when the facets panel takes
/// width), and the principal and event last.
fn drop_rank(c: usize) -> i32 {
    match c {
        AGE => 0,
        8 => 1,
        7 => 2,
        4 => 3,
        5 => 4,
        6 => 5,
        3 => 6,
        2 => 8,
        1 => 9,
        0 => 10,
        _ => 0,
    }
}

/// The list's columns for `avail` cells: which of `choice` (index, fixed width) show and how
/// wide, given `content[c]`, the widest value of column `c` among the rows on screen
/// (its header included), and `constant[c]`, whether every row on screen has the same value.
/// Constant columns are hidden (see [`hideable`]); when the rest do not fit at their least
/// width, columns are dropped (by [`drop_rank`] for the default set, from the end of a
/// configured one); then the width left goes to the columns that are cut, the event and the
/// principal first. Returns the plan and the columns hidden as constant.
pub fn plan_columns(
    avail: u16,
    choice: &[(usize, Option<u16>)],
    configured: bool,
    content: &dyn Fn(usize) -> i32,
    constant: &dyn Fn(usize) -> bool,
    time_width: i32,
) -> (Vec<(usize, u16)>, Vec<usize>) {
    let avail = avail as i32 - 2; // marker column and its gap
    let mut hidden = Vec::new();
    let mut keep: Vec<(usize, Option<u16>)> = Vec::new();
    for &(c, w) in choice {
        if hideable(c) && constant(c) {
            hidden.push(c);
        } else {
            keep.push((c, w));
        }
    }
    let want = |&(c, w): &(usize, Option<u16>)| -> i32 {
        match w {
            Some(w) => w as i32,
            None => {
                let (min, max) = bounds(c, time_width);
                content(c).clamp(min.min(content(c).max(1)), max)
            }
        }
    };
    let least = |cw: &(usize, Option<u16>)| -> i32 {
        match cw.1 {
            Some(w) => w as i32,
            None => bounds(cw.0, time_width).0.min(want(cw)),
        }
    };
    // The least width with the event and the principal given up to `core` cells of their
    // content: the other columns make room for them first.
    let least_with = |core: i32, cw: &(usize, Option<u16>)| -> i32 {
        if cw.1.is_none() && (cw.0 == 1 || cw.0 == 2) {
            least(cw).max(want(cw).min(core))
        } else {
            least(cw)
        }
    };
    let need = |core: i32, k: &[(usize, Option<u16>)]| {
        k.iter().map(|cw| least_with(core, cw)).sum::<i32>() + k.len() as i32 - 1
    };
    if !configured {
        // The whole event name and principal if dropping the age, the identity, the account
        // and the region gives it; else 28 cells of each, the source going too if need be;
        // else 20, then 16, dropping up to the error (a failed call's event is marked and
        // coloured); else everything at its least.
        for (core, rank) in [(i32::MAX, 3), (28, 4), (20, 5), (16, 5)] {
            let mut k = keep.clone();
            while need(core, &k) > avail && k.iter().any(|cw| drop_rank(cw.0) <= rank) {
                let at = (0..k.len()).min_by_key(|&i| (drop_rank(k[i].0), std::cmp::Reverse(i))).unwrap_or(0);
                k.remove(at);
            }
            if need(core, &k) <= avail {
                keep = k;
                break;
            }
        }
    }
    while keep.len() > 1 && need(0, &keep) > avail {
        let at = if configured {
            keep.len() - 1
        } else {
            (0..keep.len()).min_by_key(|&i| (drop_rank(keep[i].0), std::cmp::Reverse(i))).unwrap_or(keep.len() - 1)
        };
        keep.remove(at);
    }
    let need = |k: &[(usize, Option<u16>)]| need(0, k);
    let mut widths: Vec<i32> = keep.iter().map(least).collect();
    let mut spare = avail - need(&keep);
    // The width left goes to what is cut: the event and the principal first, then the rest,
    // a cell at a time to each.
    for group in [&[1usize, 2][..], &[3, 4, 5, 6, 7, 8, 9, 10, 11]] {
        loop {
            let mut grew = false;
            for (i, cw) in keep.iter().enumerate() {
                if spare > 0 && group.contains(&cw.0) && widths[i] < want(cw) {
                    widths[i] += 1;
                    spare -= 1;
                    grew = true;
                }
            }
            if !grew {
                break;
            }
        }
    }
    // Width still left: to what is still cut, past the usual most (a long region name).
    loop {
        let mut grew = false;
        for (i, cw) in keep.iter().enumerate() {
            if spare > 0 && cw.1.is_none() && widths[i] < content(cw.0) {
                widths[i] += 1;
                spare -= 1;
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    let plan = keep.iter().zip(widths).map(|(cw, w)| (cw.0, w.max(1) as u16)).collect();
    (plan, hidden)
}

/// The age column's text: how long before `now_ms` an event at `time` was.
fn age_text(now_ms: i64, time: i64) -> String {
    crate::model::time::format_age(now_ms, time).trim_end_matches(" ago").to_string()
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

pub fn draw_list(frame: &mut Frame, area: Rect, state: &State) {
    let focused = state.focus == Focus::List && state.popups.open.is_none();
    let order = if state.oldest_first { " · oldest first" } else { "" };
    let mut title = format!(" Events · {}{order} ", super::thousands(state.events.view().len()));
    if let Some((checked, total)) = state.filtering() {
        title = format!(
            " Events · {} · filtering {}/{} ",
            super::thousands(state.events.view().len()),
            super::thousands(checked),
            super::thousands(total)
        );
    }
    let store = state.events.store.read();
    let block = Block::bordered()
        .title(Span::styled(title.clone(), theme::title(focused)))
        .border_style(theme::border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if state.events.view().is_empty() {
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
            "loading…".to_string()
        } else if state.filtering().is_some() {
            "filtering…".to_string()
        } else if store.is_empty() {
            "no events were loaded (see E for inputs with problems)".to_string()
        } else {
            // Bare words look in the list's columns; say what looking in the whole records
            // would find.
            match &state.events.run.text_hint {
                Some((text, Some(0))) => {
                    format!("no events match the filter (Esc clears it); {} matches none either", sanitize(text))
                }
                Some((text, Some(n))) => format!(
                    "no events match the filter in the list's columns; {} (anywhere in the record) matches {}",
                    sanitize(text),
                    super::thousands(*n)
                ),
                Some((text, None)) => {
                    format!("no events match the filter (Esc clears it); counting what {} matches…", sanitize(text))
                }
                None => "no events match the filter (Esc clears it)".to_string(),
            }
        };
        frame.render_widget(
            Paragraph::new(Line::styled(msg, theme::dim())).wrap(ratatui::widgets::Wrap { trim: true }),
            inner,
        );
        return;
    }
    let rows_on_screen = inner.height.saturating_sub(1) as usize;
    let end = (state.list.offset + rows_on_screen).min(state.events.view().len());
    let on_screen: Vec<u32> =
        (state.list.offset.min(end)..end).map(|row| state.events.view()[state.view_pos(row)]).collect();
    let (choice, configured) = match &state.columns {
        Some(cols) => (cols.clone(), true),
        None => (default_columns(), false),
    };
    // The eventID is read from the records on screen, only where it is shown, and once.
    let ids = choice.iter().any(|&(c, _)| c == columns::EVENT_ID);
    let all_cells: Vec<_> = on_screen
        .iter()
        .map(|&idx| {
            let ev = &store.events[idx as usize];
            let mut cells = columns::cells(&store, ev, true);
            if ids {
                cells[columns::EVENT_ID] = state.events.list_event_id(&store, idx).into();
            }
            if state.local_time {
                cells[0] = crate::model::time::format_local_time(ev.time()).into();
            }
            cells
        })
        .collect();
    // Columns sized from what is on screen: the widest value (and the header), and whether
    // every row has the same value (then the column is hidden and the title says so).
    let time_width = if state.local_time { 25 } else { 20 };
    let header_of = |c: usize| columns::HEADERS.get(c).copied().unwrap_or("age").replace('_', " ");
    // Each once per frame: the planner asks for them many times.
    let widest: Vec<i32> = (0..=AGE)
        .map(|c| {
            let widest = if c == AGE {
                on_screen
                    .iter()
                    .map(|&i| age_text(state.now_ms, store.events[i as usize].time()).chars().count())
                    .max()
                    .unwrap_or(0)
            } else {
                all_cells.iter().map(|cells| crate::sanitize::width(&sanitize(&cells[c]))).max().unwrap_or(0)
            };
            widest.max(crate::sanitize::width(&header_of(c))) as i32
        })
        .collect();
    let same: Vec<bool> = (0..=AGE)
        .map(|c| c != AGE && all_cells.len() >= 2 && all_cells.iter().all(|cells| cells[c] == all_cells[0][c]))
        .collect();
    let content = |c: usize| widest.get(c).copied().unwrap_or(0);
    let constant = |c: usize| same.get(c).copied().unwrap_or(false);
    // With detection rules, a column of one cell for the highest level an event matched.
    let detections = !store.detections.rules.is_empty();
    let width = if detections { inner.width.saturating_sub(2) } else { inner.width };
    let (plan, hidden) = plan_columns(width, &choice, configured, &content, &constant, time_width);
    let lead: Vec<Cell> = if detections { vec![Cell::from(" "), Cell::from("!")] } else { vec![Cell::from(" ")] };
    let header =
        Row::new(lead.into_iter().chain(plan.iter().map(|&(c, _)| Cell::from(header_of(c))))).style(theme::header());
    if !hidden.is_empty() {
        // The hidden columns' one value, in the title's room.
        let said: Vec<String> = hidden
            .iter()
            .map(|&c| {
                let v = &all_cells[0][c];
                if v.is_empty() {
                    format!("no {}", header_of(c))
                } else {
                    format!("{} {}", header_of(c), truncate_to_width(&sanitize(v), 40))
                }
            })
            .collect();
        let text = format!(" all rows on screen: {} ", said.join(", "));
        let room = (area.width as usize).saturating_sub(crate::sanitize::width(&title) + 4);
        if room > 12 {
            let t = Span::styled(truncate_to_width(&text, room).into_owned(), theme::dim());
            let x = area.x + 1 + crate::sanitize::width(&title) as u16;
            frame.render_widget(Paragraph::new(Line::from(t)), Rect::new(x, area.y, room as u16, 1));
        }
    }
    let rows = on_screen.iter().zip(all_cells.iter()).enumerate().map(|(i, (&idx, cells))| {
        let ev = &store.events[idx as usize];
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
                row_cells.push(Cell::from(Span::styled(age_text(state.now_ms, ev.time()), theme::dim())));
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

    /// Content widths like a real trail's: long event names and principals, IPv4 addresses.
    fn content(c: usize) -> i32 {
        [20, 33, 41, 15, 14, 16, 21, 12, 11, 20, 60, 36].get(c).copied().unwrap_or(8)
    }

    fn plan(w: u16, constant: &dyn Fn(usize) -> bool) -> (Vec<(usize, u16)>, Vec<usize>) {
        plan_columns(w, &default_columns(), false, &content, constant, 20)
    }

    fn total(plan: &[(usize, u16)]) -> u16 {
        plan.iter().map(|p| p.1 + 1).sum::<u16>() + 1
    }

    #[test]
    fn plans_fit_their_width_and_keep_time_and_event() {
        for w in [60u16, 78, 100, 118, 120, 140, 160, 250] {
            let (p, _) = plan(w, &|_| false);
            assert!(total(&p) <= w, "width {w}: {p:?} uses {}", total(&p));
            assert_eq!((p[0].0, p[1].0), (0, 1), "{w}");
        }
    }

    #[test]
    fn the_event_and_the_principal_get_their_content_first() {
        // At 130 with every column varying: the event name and the principal whole, the
        // region, the account and the age given up for them.
        let (p, _) = plan(130, &|_| false);
        let w = |c| p.iter().find(|x| x.0 == c).map(|x| x.1 as i32);
        assert_eq!(w(1), Some(content(1)), "{p:?}");
        assert_eq!(w(2), Some(content(2)), "{p:?}");
        // A column is never wider than its content.
        for &(c, width) in &p {
            assert!(width as i32 <= content(c).max(bounds(c, 20).0), "{c}: {p:?}");
        }
        // Width left over goes to a column cut at its usual most.
        let wide = |c: usize| if c == 4 { 30 } else { content(c) };
        let (p, _) = plan_columns(250, &default_columns(), false, &wide, &|_| false, 20);
        assert_eq!(p.iter().find(|x| x.0 == 4).map(|x| x.1), Some(30), "{p:?}");
        // At 120 they share what is left once the others have their least.
        let (p, _) = plan(120, &|_| false);
        let w = |c| p.iter().find(|x| x.0 == c).map(|x| x.1 as i32).unwrap();
        assert!(w(1) >= 28 && w(2) >= 28, "{p:?}");
    }

    #[test]
    fn a_column_with_one_value_on_screen_is_hidden_and_named() {
        let (p, hidden) = plan(120, &|c| c == 6 || c == 4);
        assert!(p.iter().all(|x| x.0 != 6 && x.0 != 4), "{p:?}");
        assert_eq!(hidden, vec![4, 6]);
        // The time and the event never go, even when constant.
        let (p, hidden) = plan(120, &|_| true);
        assert_eq!(p.iter().map(|x| x.0).collect::<Vec<_>>(), [0, 1, AGE]);
        assert!(!hidden.contains(&0) && !hidden.contains(&1));
    }

    #[test]
    fn narrower_the_region_goes_before_the_ip() {
        // As with the facets panel open beside the list.
        let (p, _) = plan(84, &|c| c == 7);
        let cols: Vec<usize> = p.iter().map(|x| x.0).collect();
        assert!(cols.contains(&3), "the IP stays: {cols:?}");
        assert!(!cols.contains(&4), "the region goes first: {cols:?}");
    }

    #[test]
    fn configured_columns_keep_their_order_and_widths() {
        let cols = [(6, None), (1, Some(30)), (0, None), (3, None)];
        for w in [40u16, 60, 78, 120, 200] {
            let (p, _) = plan_columns(w, &cols, true, &content, &|_| false, 20);
            let order: Vec<usize> = p.iter().map(|x| x.0).collect();
            let want: Vec<usize> = cols.iter().map(|c| c.0).collect();
            assert_eq!(order[..], want[..order.len()], "width {w}");
            assert!(total(&p) <= w.max(p[0].1 + 3), "width {w}: {p:?}");
            if let Some(e) = p.iter().find(|x| x.0 == 1) {
                assert_eq!(e.1, 30, "a fixed width is kept");
            }
        }
    }
}
