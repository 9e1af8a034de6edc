//! The one place where text written by AWS callers is made safe for a terminal.
//!
//! Every string that comes from an event (userAgent, requestParameters, errorMessage, names,
//! file contents in error messages) passes through [`sanitize`] before it reaches a cell or
//! a terminal-bound stream. Control characters (C0, DEL, C1), bidirectional overrides and
//! isolates, and invisible zero-width characters become visible escapes such as `\x1b`,
//! `\u{202e}`, so an ESC sequence or a right-to-left override can never act on the
//! operator's terminal, and never hides from the operator either.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal as itself.
#[inline]
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        // bidi embeddings, overrides, isolates and marks
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        // zero-width and invisible formatting characters
        | '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{00ad}'
        // line and paragraph separators move the cursor in some terminals
        | '\u{2028}' | '\u{2029}'
        // Unicode non-characters and private-use specials a terminal may mishandle
        | '\u{fff9}'..='\u{fffb}')
}

/// Returns `s` with every unsafe character replaced by a visible escape.
/// Borrows when nothing needs replacing, which is the common case.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    // Printable ASCII (most text) is safe: checked a byte at a time, which vectorises.
    if s.bytes().all(|b| (b' '..=b'~').contains(&b)) || !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Sanitises bytes that may not be UTF-8: invalid sequences become `\xNN`.
pub fn sanitize_bytes(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => sanitize(s),
        Err(_) => {
            let mut out = String::with_capacity(b.len() + 16);
            for chunk in b.utf8_chunks() {
                out.push_str(&sanitize(chunk.valid()));
                for byte in chunk.invalid() {
                    let _ = write!(out, "\\x{byte:02x}");
                }
            }
            Cow::Owned(out)
        }
    }
}

fn push_escape(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\u{1b}' => out.push_str("\\e"),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// `text` cut to at most `max` bytes (at a character boundary), saying how much was left out:
/// for explanations quoted from a server, which may send anything.
pub fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &text[..end], text.len() - end)
}

/// A byte count for people: `812 B`, `4.2 MB`, `1.1 GB` (powers of 1000).
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(sanitize("aws-cli/2.13 Python/3.11"), Cow::Borrowed(_)));
        assert!(matches!(sanitize("東京 🚀 café"), Cow::Borrowed(_)));
    }

    #[test]
    fn escapes_become_visible() {
        assert_eq!(sanitize("a\u{1b}]0;pwned\u{7}b"), "a\\e]0;pwned\\x07b");
        assert_eq!(sanitize("\u{9b}2J"), "\\x9b2J");
        assert_eq!(sanitize("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(sanitize("nul\0del\u{7f}"), "nul\\x00del\\x7f");
        assert_eq!(sanitize("zw\u{200b}"), "zw\\u{200b}");
        assert_eq!(sanitize("a\r\nb\tc\u{8}"), "a\\r\\nb\\tc\\x08");
    }

    #[test]
    fn output_never_contains_unsafe_chars() {
        let mut all = String::new();
        for cp in (0u32..0x3000).chain(0xfe00..0x10000) {
            if let Some(c) = char::from_u32(cp) {
                all.push(c);
            }
        }
        let out = sanitize(&all);
        assert!(!out.chars().any(is_unsafe));
    }

    #[test]
    fn width_of_ascii_is_its_length_and_of_the_rest_unicode_width() {
        let printable: String = (b' '..=b'~').map(char::from).collect();
        assert_eq!(width(&printable), unicode_width::UnicodeWidthStr::width(printable.as_str()));
        for s in ["東京", "café", "a\u{301}", "🚀x", "", "a\tb", "\u{7f}"] {
            assert_eq!(width(s), unicode_width::UnicodeWidthStr::width(s), "{s:?}");
        }
        assert_eq!(width("東京"), 4);
    }

    #[test]
    fn invalid_utf8_is_shown_as_hex() {
        assert_eq!(sanitize_bytes(b"ok\xff\x1b"), "ok\\xff\\e");
    }
}

/// Display width of `s` in terminal cells.
pub fn width(s: &str) -> usize {
    // Printable ASCII (most cells) is one cell a byte.
    if s.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return s.len();
    }
    unicode_width::UnicodeWidthStr::width(s)
}

/// Characters taken in order while they fit in `max` cells.
fn take_width(chars: impl Iterator<Item = char>, max: usize) -> Vec<char> {
    let mut w = 0;
    chars
        .take_while(|&c| {
            w += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            w <= max
        })
        .collect()
}

/// The noun for `n` things: `one` for 1, `many` otherwise ("1 file", "2 files").
pub fn noun(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// Cuts `s` to at most `max` cells, ending with `…` when cut. Wide characters are never split.
pub fn truncate_to_width(s: &str, max: usize) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let mut out: String = take_width(s.chars(), max - 1).into_iter().collect();
    out.push('…');
    Cow::Owned(out)
}

/// Cuts `s` to at most `max` cells by dropping its start, beginning with `…` when cut: for
/// paths, whose end says the most.
pub fn truncate_start_to_width(s: &str, max: usize) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let kept = take_width(s.chars().rev(), max - 1);
    Cow::Owned(std::iter::once('…').chain(kept.into_iter().rev()).collect())
}

#[cfg(test)]
mod width_tests {
    use super::*;

    #[test]
    fn truncation_respects_wide_chars() {
        assert_eq!(truncate_to_width("abcdef", 4), "abc…");
        assert_eq!(truncate_to_width("東京東京", 5), "東京…");
        assert_eq!(width(&truncate_to_width("東京東京", 4)), 3);
        assert_eq!(truncate_to_width("ab", 4), "ab");
        assert_eq!(truncate_start_to_width("a/b/c/file.json", 10), "…file.json");
        assert_eq!(truncate_start_to_width("東京東京", 5), "…東京");
    }
}
