use super::theme;
use crate::query::Field;
use crate::sanitize::sanitize;
use crate::tui::keymap::{Row, KEYS};
use crate::tui::state::State;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

fn centered(area: Rect, w_pct: u16, h_pct: u16) -> Rect {
    let w = (area.width * w_pct / 100).max(20).min(area.width);
    let h = (area.height * h_pct / 100).max(5).min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

fn show(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line<'static>>, scroll: usize) {
    let r = centered(area, 80, 80);
    frame.render_widget(Clear, r);
    let block = Block::bordered()
        .title(Span::styled(format!(" {title} · j/k scroll · Esc closes "), theme::title(true)))
        .border_style(theme::border(true));
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let max = lines.len().saturating_sub(inner.height as usize);
    let start = scroll.min(max);
    // A line too long for the popup wraps under its text: a key's description under the
    // description, not under the key.
    let mut visible: Vec<Line> = Vec::new();
    for line in lines.iter().skip(start) {
        if visible.len() >= inner.height as usize {
            break;
        }
        visible.extend(super::detail::wrap_hanging(line, inner.width as usize, hanging_indent(line)));
    }
    visible.truncate(inner.height as usize);
    frame.render_widget(Paragraph::new(visible), inner);
}

/// Where a popup line's wrapped rows start: under the text after the first run of two or more
/// spaces that follows its indentation (a help row's description), else two cells further in
/// than its indentation.
fn hanging_indent(line: &Line<'_>) -> usize {
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let lead = text.len() - text.trim_start_matches(' ').len();
    let body = &text[lead..];
    match body.find("  ") {
        Some(gap) => {
            let after = body[gap..].len() - body[gap..].trim_start_matches(' ').len();
            crate::sanitize::width(&text[..lead + gap + after])
        }
        None => lead + 2,
    }
}

/// A key row of the help screen: its keys, what the action does, and the action's name (what
/// a configuration file binds a key to).
pub fn key_row(row: &Row) -> (String, &'static str, &'static str) {
    let keys: Vec<String> = row.keys.iter().map(|k| k.label()).collect();
    (keys.join(" "), row.action.doc(), row.action.name())
}

/// The help screen: every section of the key table with its actions' doc comments, then the
/// filter language.
pub fn help_lines() -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    // A column as wide as the widest of its table, and a space before the text always.
    let row = |keys: &str, w: usize, doc: &str| {
        Line::from(vec![Span::styled(format!("  {keys:<w$} "), theme::key()), Span::raw(doc.to_string())])
    };
    for (i, section) in KEYS.iter().enumerate() {
        if i > 0 {
            lines.push(Line::raw(""));
        }
        lines.push(Line::styled(section.title, theme::header()));
        // The keys in a column wide enough for the section's longest (at least 11).
        let w = section.rows.iter().map(|r| crate::sanitize::width(&key_row(r).0)).max().unwrap_or(0).max(11);
        for r in section.rows {
            let (keys, doc, name) = key_row(r);
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<w$} "), theme::key()),
                Span::raw(doc),
                Span::styled(format!("  {name}"), theme::dim()),
            ]));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Filter language (all terms must match)", theme::header()));
    let syntax = [
        ("field:value", "case-insensitive substring"),
        ("field:=value", "exact, case-sensitive"),
        ("name:Delete*", "* is a wildcard and anchors the match"),
        ("-term", "negation"),
        ("has:field", "the field is present and not empty"),
        ("agent:\"a b\"", "quote values with spaces"),
        ("since:6h until:…", "time bounds: an age (15m, 6h, 7d) or RFC 3339"),
        ("word", "a bare word matches any column of the list, fuzzily: dsg finds DeleteSecurityGroup"),
    ];
    let w = syntax.iter().map(|(s, _)| crate::sanitize::width(s)).max().unwrap_or(0).max(11);
    for (syntax, doc) in syntax {
        lines.push(row(syntax, w, doc));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Fields", theme::header()));
    let w = Field::ALL.iter().map(|f| f.name().len()).max().unwrap_or(0).max(11);
    for f in Field::ALL {
        lines.push(row(f.name(), w, f.describe()));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("In the list: ✗ a failed call (errorCode set), ● a write (readOnly false).", theme::dim()));
    lines.push(Line::styled(
        "Mouse: the wheel scrolls what is under it; a click focuses a pane and picks a row (--no-mouse: off).",
        theme::dim(),
    ));
    lines.push(Line::raw(""));
    lines.push(Line::styled("Live event history (no PATH)", theme::header()));
    lines.push(Line::raw("  One exact term (id:= key:= user:= resource:= name:= source:= readonly:) is sent to AWS;"));
    lines.push(Line::raw(
        "  the filter pane shows the plan. Pages are fetched as you scroll, at 2 requests/s per region.",
    ));
    lines.push(Line::raw(format!("  When nothing is found: {}", crate::source::boundary::EMPTY_HINT)));
    lines
}

pub fn draw_help(frame: &mut Frame, area: Rect, state: &State) {
    let mut lines = Vec::new();
    if !state.user_keys.is_empty() {
        lines.push(Line::styled("Your keys (configuration file; they come first)", theme::header()));
        for (k, a) in &state.user_keys {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<12}", crate::tui::keymap::key_name(*k)), theme::key()),
                Span::raw(format!("{} ({})", a.doc(), a.name())),
            ]));
        }
        lines.push(Line::raw(""));
    }
    lines.extend(help_lines());
    lines.push(Line::raw(""));
    lines.push(Line::styled("Commands (:)", theme::header()));
    for (name, args, doc) in crate::tui::command::COMMANDS {
        lines.push(Line::from(vec![
            Span::styled(format!("  :{name} {args}"), theme::key()),
            Span::raw(format!("  {doc}")),
        ]));
    }
    show(frame, area, "Help", lines, state.popups.scroll);
}

pub fn draw_errors(frame: &mut Frame, area: Rect, state: &State) {
    let mut lines = Vec::new();
    if state.problems.is_empty() {
        lines.push(Line::styled("Every input was read.", theme::ok()));
    }
    let said = |lines: &mut Vec<Line>, tag: &str, style, input: Option<&str>, reason: &str| {
        let mut first = vec![Span::styled(format!("{tag}:"), style)];
        if let Some(input) = input {
            first.push(Span::styled(format!(" {}", sanitize(input)), theme::title(false)));
        }
        lines.push(Line::from(first));
        lines.push(Line::raw(format!("    {}", sanitize(reason))));
    };
    for p in &state.problems {
        let (tag, style) = if p.skipped { ("skipped", theme::error()) } else { ("read in part", theme::write()) };
        said(&mut lines, tag, style, Some(&p.input), &p.reason);
    }
    for n in &state.notes {
        let (tag, input) = if n.cache { ("cache", None) } else { ("read in full, note", Some(n.said.input.as_str())) };
        said(&mut lines, tag, theme::write(), input, &n.said.reason);
    }
    let n = state.problems.len();
    let title = match state.notes.len() {
        0 => format!("Inputs with problems ({n})"),
        m => format!("Inputs with problems ({n}) · notes ({m})"),
    };
    show(frame, area, &title, lines, state.popups.scroll);
}

/// A small box in the middle of the screen.
fn small(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

pub fn draw_copy_menu(frame: &mut Frame, area: Rect, _state: &State) {
    let r = small(area, 40, 8);
    frame.render_widget(Clear, r);
    let block = Block::bordered().title(Span::styled(" Copy ", theme::title(true))).border_style(theme::border(true));
    let lines: Vec<Line> = [
        ("y", "the event's JSON"),
        ("i", "the eventID"),
        ("a", "the principal ARN"),
        ("k", "the access key"),
        ("t", "the time"),
    ]
    .into_iter()
    .map(|(k, what)| Line::from(vec![Span::styled(format!(" {k}  "), theme::key()), Span::raw(what)]))
    .collect();
    frame.render_widget(Paragraph::new(lines).block(block), r);
}

pub fn draw_saved(frame: &mut Frame, area: Rect, state: &State) {
    let h = (state.popups.saved.len() as u16 + 2).min(area.height.saturating_sub(2)).max(3);
    let r = small(area, area.width.saturating_sub(8).min(100), h);
    frame.render_widget(Clear, r);
    let block = Block::bordered()
        .title(Span::styled(" Saved filters · Enter applies · d deletes · Esc closes ", theme::title(true)))
        .border_style(theme::border(true));
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let rows = inner.height as usize;
    let start = state.popups.saved_sel.saturating_sub(rows.saturating_sub(1));
    let lines: Vec<Line> = state
        .popups
        .saved
        .iter()
        .enumerate()
        .skip(start)
        .take(rows)
        .map(|(i, (name, filter))| {
            let mut l = Line::from(vec![
                Span::styled(format!(" {:<16} ", sanitize(name)), theme::key()),
                Span::raw(sanitize(filter).into_owned()),
            ]);
            if i == state.popups.saved_sel {
                l = l.style(theme::selected(true));
            }
            l
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

pub fn draw_prompt(frame: &mut Frame, area: Rect, state: &State) {
    let Some(p) = &state.popups.prompt else { return };
    let title = match p.kind {
        crate::tui::state::PromptKind::Export => format!(
            " Export {} events to (.jsonl, .json or .csv) · Enter writes · Esc cancels ",
            super::thousands(state.events.view().len())
        ),
        crate::tui::state::PromptKind::SaveFilter => " Save the filter as · Enter saves · Esc cancels ".to_string(),
        crate::tui::state::PromptKind::Command => " : · Tab completes · Enter runs · Esc cancels ".to_string(),
        crate::tui::state::PromptKind::Window => {
            " Window around this event: 15m either side, -1h before, +30m after, -1h +10m · Enter adds ".to_string()
        }
    };
    let command = p.kind == crate::tui::state::PromptKind::Command;
    let r = small(area, area.width.saturating_sub(8).min(100), if command { 4 } else { 3 });
    frame.render_widget(Clear, r);
    let block = Block::bordered().title(Span::styled(title, theme::title(true))).border_style(theme::border(true));
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let text = sanitize(&p.input).into_owned();
    let mut lines = vec![Line::raw(text)];
    if command {
        // What Tab would complete to, or what the command takes.
        let saved: Vec<String> = state.popups.saved.iter().map(|(n, _)| n.clone()).collect();
        let options = crate::tui::command::complete(&p.input, &saved);
        let word = p.input.split_whitespace().next().unwrap_or("");
        // While Tab cycles, its candidates, the one on the line marked.
        if let Some((cycle, at)) = p.cycling(&saved) {
            let mut spans = Vec::new();
            for (i, o) in cycle.iter().enumerate() {
                let last = o.trim().rsplit([' ', ',']).next().unwrap_or("");
                let style = if i == at { theme::selected(true) } else { theme::dim() };
                spans.push(Span::styled(sanitize(last).into_owned(), style));
                spans.push(Span::raw("  "));
            }
            lines.push(Line::from(spans));
        } else {
            let hint = match crate::tui::command::COMMANDS.iter().find(|c| c.0 == word) {
                Some(c) if p.input.contains(' ') => format!("{} {} — {}", c.0, c.1, c.2),
                _ => options.iter().map(|o| o.trim()).collect::<Vec<_>>().join("  "),
            };
            lines.push(Line::styled(sanitize(&hint).into_owned(), theme::dim()));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
    let before = sanitize(&p.input[..p.cursor.min(p.input.len())]).into_owned();
    let x = inner.x.saturating_add(crate::sanitize::width(&before) as u16).min(inner.right().saturating_sub(1));
    frame.set_cursor_position(ratatui::layout::Position::new(x, inner.y));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In every table of the help, the text starts in one column, after at least one space:
    /// no key runs into its text (`field:=valueexact`).
    #[test]
    fn help_columns_never_run_together() {
        let text: Vec<String> =
            help_lines().iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect();
        for (syntax, doc) in [("field:=value", "exact, case-sensitive"), ("since:6h until:…", "time bounds")] {
            let line = text.iter().find(|l| l.contains(doc)).unwrap();
            let at = line.find(doc).unwrap();
            assert!(line[..at].trim_end().ends_with(syntax) && line[..at].ends_with(' '), "{line:?}");
        }
        let starts: Vec<usize> = ["case-insensitive substring", "exact, case-sensitive", "time bounds", "negation"]
            .iter()
            .map(|d| {
                let l = text.iter().find(|l| l.contains(d)).unwrap();
                crate::sanitize::width(&l[..l.find(d).unwrap()])
            })
            .collect();
        assert!(starts.windows(2).all(|w| w[0] == w[1]), "one column: {starts:?}");
    }
}
