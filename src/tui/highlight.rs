//! Pretty-printed, syntax-highlighted JSON for the detail view (syntect), produced off the
//! UI thread and drawn as ready-made lines.

use crate::sanitize::sanitize;
use crate::tui::format::thousands;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use std::borrow::Cow;
use std::sync::OnceLock;
use syntect::easy::HighlightLines;
use syntect::highlighting::{Color as SynColor, FontStyle, Theme, ThemeSet};
use syntect::parsing::SyntaxSet;

/// Records longer than this many lines are highlighted up to here and shown plain after.
const HIGHLIGHT_LINES: usize = 5_000;

/// Lines longer than this many characters are cut (a value of megabytes is neither
/// highlighted nor kept for drawing): the line starts with its length and the key that shows
/// the record whole in the pager (where it is on screen even when the line wraps over more
/// rows than the pane has), then come its first characters and its end.
pub const LONG_LINE: usize = 2_000;

/// Characters kept from the end of a cut line: the closing quote and comma of a value, so that
/// the highlighter sees the value end where it does.
const LONG_LINE_TAIL: usize = 2;

pub struct Highlighted {
    pub lines: Vec<Line<'static>>,
    /// The record's eventID, unsanitised (events do not keep its text).
    pub event_id: String,
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
/// JSON held in a string (a policy document in `requestParameters`) is shown decoded,
/// indented like the rest, its key marked `(a JSON string, decoded)`.
pub fn highlight_record(raw: &[u8]) -> Highlighted {
    let pretty = match serde_json::from_slice::<serde_json::Value>(raw) {
        Ok(mut v) => {
            decode_embedded(&mut v, 0);
            serde_json::to_string_pretty(&v).unwrap_or_else(|_| String::from_utf8_lossy(raw).into_owned())
        }
        Err(_) => String::from_utf8_lossy(raw).into_owned(),
    };
    Highlighted { event_id: crate::model::id::ids_of_record(raw).0, ..highlight_json(&pretty) }
}

/// Marks a key whose value was decoded from a JSON string; the pretty-printer escapes the NUL,
/// and [`highlight_json`] turns the mark into a note.
const DECODED_MARK: &str = r"\u0000decoded";

/// Replaces object values that are strings holding a JSON object or array by what they hold,
/// renaming their keys with the mark (order kept). Nested decoded JSON is decoded too, to a
/// depth of 8.
fn decode_embedded(v: &mut serde_json::Value, depth: usize) {
    use serde_json::Value;
    if depth > 64 {
        return;
    }
    match v {
        Value::Object(map) => {
            let decodes = map.values().any(|x| embedded(x).is_some());
            if decodes {
                let old = std::mem::take(map);
                for (k, mut x) in old {
                    match embedded(&x) {
                        Some(mut inner) if depth < 8 => {
                            decode_embedded(&mut inner, depth + 1);
                            map.insert(format!("{k}\u{0}decoded"), inner);
                        }
                        _ => {
                            decode_embedded(&mut x, depth + 1);
                            map.insert(k, x);
                        }
                    }
                }
            } else {
                map.values_mut().for_each(|x| decode_embedded(x, depth + 1));
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| decode_embedded(x, depth + 1)),
        _ => {}
    }
}

/// What a string holds when it is a JSON object or array (not empty), else `None`.
fn embedded(v: &serde_json::Value) -> Option<serde_json::Value> {
    let s = v.as_str()?.trim();
    if !(s.starts_with('{') && s.ends_with('}') || s.starts_with('[') && s.ends_with(']')) || s.len() < 3 {
        return None;
    }
    match serde_json::from_str::<serde_json::Value>(s).ok()? {
        x @ serde_json::Value::Object(_) | x @ serde_json::Value::Array(_) => Some(x),
        _ => None,
    }
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
        let (line, cut) = shorten(line);
        let unmarked;
        let (line, decoded) = if line.contains(DECODED_MARK) {
            unmarked = line.replacen(DECODED_MARK, "", 1);
            (unmarked.as_str(), true)
        } else {
            (line.as_ref(), false)
        };
        let note = cut
            .map(|chars| format!("(cut from {} characters; o shows the record whole) ", thousands(chars)))
            .or(decoded.then(|| "(a JSON string, decoded) ".to_string()))
            .map(|text| Span::styled(text, crate::tui::theme::dim()));
        if n >= HIGHLIGHT_LINES {
            let spans = vec![Span::raw(sanitize(line.trim_end_matches(['\n', '\r'])).into_owned())];
            lines.push(with_note(spans, note));
            continue;
        }
        let mut spans: Vec<Span<'static>> = match h.highlight_line(line, ss) {
            Ok(ranges) => ranges
                .into_iter()
                .filter_map(|(style, piece)| {
                    let piece = piece.trim_end_matches(['\n', '\r']);
                    (!piece.is_empty()).then(|| Span::styled(sanitize(piece).into_owned(), convert(style, &ui, plain)))
                })
                .collect(),
            Err(_) => vec![Span::raw(sanitize(line.trim_end_matches(['\n', '\r'])).into_owned())],
        };
        lines.push(with_note(std::mem::take(&mut spans), note));
    }
    Highlighted { lines, event_id: String::new() }
}

/// A line's spans with the note of a cut line after its indentation.
fn with_note(mut spans: Vec<Span<'static>>, note: Option<Span<'static>>) -> Line<'static> {
    if let Some(note) = note {
        let at = spans.iter().position(|s| !s.content.trim().is_empty()).unwrap_or(spans.len());
        match spans.get(at).map(|s| s.content.len() - s.content.trim_start().len()) {
            // The indentation and the text in one span: split it.
            Some(indent) if indent > 0 => {
                let first = spans.remove(at);
                let (lead, rest) = first.content.split_at(indent);
                let (lead, rest) = (lead.to_string(), rest.to_string());
                spans.insert(at, Span::styled(rest, first.style));
                spans.insert(at, note);
                spans.insert(at, Span::styled(lead, first.style));
            }
            _ => spans.insert(at, note),
        }
    }
    Line::from(spans)
}

/// A line cut to [`LONG_LINE`] characters (its start, `…`, its last characters), with the
/// number of characters it had; the line itself when it is not longer.
fn shorten(line: &str) -> (Cow<'_, str>, Option<usize>) {
    let body = line.trim_end_matches(['\n', '\r']);
    // Bytes bound characters: most lines are decided without counting.
    if body.len() <= LONG_LINE {
        return (Cow::Borrowed(line), None);
    }
    let chars = body.chars().count();
    if chars <= LONG_LINE {
        return (Cow::Borrowed(line), None);
    }
    let head = body.char_indices().nth(LONG_LINE - LONG_LINE_TAIL - 1).map_or(body.len(), |(i, _)| i);
    let tail = body.char_indices().rev().nth(LONG_LINE_TAIL - 1).map_or(head, |(i, _)| i.max(head));
    (Cow::Owned(format!("{}…{}{}", &body[..head], &body[tail..], &line[body.len()..])), Some(chars))
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
    fn json_in_a_string_is_shown_decoded_and_marked() {
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        let record = serde_json::json!({
            "eventName": "CreatePolicy",
            "requestParameters": { "policyName": "p", "policyDocument": policy, "note": "{not json" },
        });
        let h = highlight_record(record.to_string().as_bytes());
        let text: Vec<String> = h.lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect();
        let at = text.iter().position(|l| l.contains("\"policyDocument\": {")).expect("the key opens an object");
        assert!(text[at].contains("(a JSON string, decoded)"), "{}", text[at]);
        assert!(text.iter().any(|l| l.trim() == "\"Version\": \"2012-10-17\","), "{text:#?}");
        assert!(text.iter().any(|l| l.trim() == "\"Effect\": \"Allow\","), "{text:#?}");
        assert!(text.iter().any(|l| l.contains("\"note\": \"{not json\"")), "not JSON: left as it is");
        assert!(text.iter().all(|l| !l.contains("u0000")), "{text:#?}");
        // Key order is kept around the decoded value.
        let keys: Vec<usize> = ["policyName", "policyDocument", "note"]
            .iter()
            .map(|k| text.iter().position(|l| l.contains(&format!("\"{k}\""))).unwrap())
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    }

    #[test]
    fn keeps_key_order_and_sanitises() {
        let h = highlight_record(b"{\"z\":1,\"a\":\"\\u001b]0;pwned\\u0007 \\u202e\"}");
        let text: Vec<String> = h.lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect();
        assert_eq!(text[1], "  \"z\": 1,");
        // serde_json writes ESC as \u001b itself; the bidi override is escaped by sanitize.
        assert!(text[2].contains("\\u{202e}"), "{}", text[2]);
        assert!(!text.concat().chars().any(crate::sanitize::is_unsafe));
    }

    /// A value of 100 MB is cut before it is highlighted: the lines kept for drawing stay
    /// small, and say how long the line was and which key shows it whole.
    #[test]
    fn a_100_mb_value_is_cut_not_highlighted_whole() {
        let blob = "A".repeat(100 << 20);
        let record = format!(r#"{{"eventName":"PutObject","requestParameters":{{"blob":"{blob}","key":"k"}}}}"#);
        let start = std::time::Instant::now();
        let h = highlight_record(record.as_bytes());
        let took = start.elapsed();
        let text: Vec<String> = h.lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect();
        let total: usize = text.iter().map(|l| l.len()).sum();
        assert!(total < 4 * LONG_LINE, "{total} bytes of lines kept");
        let line = text.iter().find(|l| l.contains("\"blob\"")).unwrap();
        let chars = "    \"blob\": \"\",".len() + blob.len();
        let note = format!("    (cut from {} characters; o shows the record whole) \"blob\": \"AAAA", thousands(chars));
        assert!(line.starts_with(&note), "{}", &line[..120]);
        assert!(line.ends_with("AAA…\","), "{}", &line[line.len() - 40..]);
        assert_eq!(line.chars().count(), LONG_LINE + note.chars().count() - "\"blob\": \"AAAA".len() - 4);
        // The value ends where it did: the line after it is highlighted as a key and a value,
        // like the line of the same shape before it.
        let shape = |needle: &str| -> Vec<Style> {
            let at = text.iter().position(|l| l.contains(needle)).unwrap();
            h.lines[at]
                .spans
                .iter()
                .filter(|s| !s.content.trim().is_empty() && s.content != ",")
                .map(|s| s.style)
                .collect()
        };
        assert_eq!(shape("\"key\": \"k\""), shape("\"eventName\": \"PutObject\""));
        assert!(shape("\"key\": \"k\"").len() >= 3);
        assert!(took < std::time::Duration::from_secs(20), "{took:?}");
        // Short lines, and lines of exactly the limit, are kept whole.
        let exact = format!("{{\"a\":\"{}\"}}", "b".repeat(LONG_LINE - 10));
        let kept = highlight_record(exact.as_bytes());
        assert!(kept.lines.iter().all(|l| !l.spans.iter().any(|s| s.content.contains("o shows the record"))));
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
