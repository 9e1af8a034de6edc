//! Pretty-printed, syntax-highlighted JSON for the detail view (syntect), produced off the
//! UI thread and drawn as ready-made lines.

use crate::sanitize::sanitize;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use std::sync::OnceLock;
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme, ThemeSet};
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
                    (!piece.is_empty()).then(|| Span::styled(sanitize(piece).into_owned(), convert(style)))
                })
                .collect(),
            Err(_) => vec![Span::raw(sanitize(line.trim_end_matches(['\n', '\r'])).into_owned())],
        };
        lines.push(Line::from(spans));
    }
    Highlighted { lines }
}

fn convert(s: syntect::highlighting::Style) -> Style {
    let fg = s.foreground;
    let mut style = Style::default().fg(Color::Rgb(fg.r, fg.g, fg.b));
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
}
