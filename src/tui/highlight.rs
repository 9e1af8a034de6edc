//! Pretty-printed, syntax-highlighted JSON for the detail view (syntect), produced off the
//! UI thread and drawn as ready-made lines.

use crate::sanitize::sanitize;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use std::sync::OnceLock;
use syntect::easy::HighlightLines;
use syntect::highlighting::{Color as SynColor, FontStyle, Theme, ThemeSet};
use syntect::parsing::SyntaxSet;

/// Records longer than this many lines are highlighted up to here and shown plain after.
const HIGHLIGHT_LINES: usize = 5_000;

pub struct Highlighted {
    pub lines: Vec<Line<'static>>,
}

fn assets() -> &'static (SyntaxSet, Theme) {
    static ASSETS: OnceLock<(SyntaxSet, Theme)> = OnceLock::new();
    ASSETS.get_or_init(|| {
        let ss = SyntaxSet::load_defaults_newlines();
        let mut themes = ThemeSet::load_defaults();
        let theme = themes.themes.remove("base16-ocean.dark").unwrap_or_default();
        (ss, theme)
    })
}

/// Pretty-prints a raw record (key order kept) and highlights it. Text is sanitised span by
/// span, so nothing from the record reaches the terminal raw.
pub fn highlight_record(raw: &[u8]) -> Highlighted {
    let pretty = match serde_json::from_slice::<serde_json::Value>(raw) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_else(|_| String::from_utf8_lossy(raw).into_owned()),
        Err(_) => String::from_utf8_lossy(raw).into_owned(),
    };
    highlight_json(&pretty)
}

pub fn highlight_json(text: &str) -> Highlighted {
    let (ss, theme) = assets();
    let syntax = ss.find_syntax_by_extension("json").unwrap_or_else(|| ss.find_syntax_plain_text());
    let mut h = HighlightLines::new(syntax, theme);
    // The colours of the theme in force (and the terminal's colour depth) are decided here,
    // once per record: drawing copies the lines as they are.
    let ui = crate::tui::theme::current();
    let plain = theme.settings.foreground;
    let mut lines = Vec::new();
    for (n, line) in syntect::util::LinesWithEndings::from(text).enumerate() {
        if n >= HIGHLIGHT_LINES {
            lines.push(Line::raw(sanitize(line.trim_end_matches(['\n', '\r'])).into_owned()));
            continue;
        }
        let spans = match h.highlight_line(line, ss) {
            Ok(ranges) => ranges
                .into_iter()
                .filter_map(|(style, piece)| {
                    let piece = piece.trim_end_matches(['\n', '\r']);
                    (!piece.is_empty()).then(|| Span::styled(sanitize(piece).into_owned(), convert(style, &ui, plain)))
                })
                .collect(),
            Err(_) => vec![Span::raw(sanitize(line.trim_end_matches(['\n', '\r'])).into_owned())],
        };
        lines.push(Line::from(spans));
    }
    Highlighted { lines }
}

/// A syntect style in the UI theme's colours: `plain` (the syntax theme's default foreground)
/// stays the terminal's own.
fn convert(s: syntect::highlighting::Style, ui: &crate::tui::theme::Theme, plain: Option<SynColor>) -> Style {
    let fg = s.foreground;
    let mut style = Style::default();
    if let Some(c) = ui.syntax((fg.r, fg.g, fg.b), Some(fg) == plain) {
        style = style.fg(c);
    }
    if s.font_style.contains(FontStyle::BOLD) {
        style = style.add_modifier(Modifier::BOLD);
    }
    if s.font_style.contains(FontStyle::ITALIC) {
        style = style.add_modifier(Modifier::ITALIC);
    }
    style
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_order_and_sanitises() {
        let h = highlight_record(b"{\"z\":1,\"a\":\"\\u001b]0;pwned\\u0007 \\u202e\"}");
        let text: Vec<String> = h.lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect();
        assert_eq!(text[1], "  \"z\": 1,");
        // serde_json writes ESC as \u001b itself; the bidi override is escaped by sanitize.
        assert!(text[2].contains("\\u{202e}"), "{}", text[2]);
        assert!(!text.concat().chars().any(crate::sanitize::is_unsafe));
    }

    #[test]
    fn colours_follow_the_theme_and_depth() {
        use crate::tui::theme::{with_theme, Depth, Name, Theme};
        use ratatui::style::Color;
        let record = br#"{"eventName":"DeleteTrail","n":3,"ok":true,"x":null}"#;
        let fgs = |name, depth| {
            with_theme(Theme::new(name, depth), || highlight_record(record))
                .lines
                .iter()
                .flat_map(|l| l.spans.iter().map(|s| s.style.fg))
                .collect::<Vec<_>>()
        };
        assert!(fgs(Name::Mono, Depth::TrueColor).iter().all(Option::is_none), "mono: no colour");
        assert!(fgs(Name::HighContrast, Depth::TrueColor).iter().all(Option::is_none));
        for (depth, ok) in [
            (Depth::TrueColor, (|c: Color| matches!(c, Color::Rgb(..))) as fn(Color) -> bool),
            (Depth::Ansi256, |c| matches!(c, Color::Indexed(16..))),
            (Depth::Ansi16, |c| !matches!(c, Color::Rgb(..) | Color::Indexed(_))),
        ] {
            let f = fgs(Name::Default, depth);
            // Punctuation keeps the terminal's foreground; keys, strings and numbers are coloured.
            assert!(f.contains(&None), "{depth:?}: {f:?}");
            let coloured: Vec<Color> = f.into_iter().flatten().collect();
            assert!(coloured.len() >= 4 && coloured.iter().all(|&c| ok(c)), "{depth:?}: {coloured:?}");
            let mut distinct = coloured.clone();
            distinct.sort_by_key(|c| format!("{c:?}"));
            distinct.dedup();
            assert!(distinct.len() >= 2, "{depth:?}: keys and values differ in colour: {coloured:?}");
        }
    }
}
