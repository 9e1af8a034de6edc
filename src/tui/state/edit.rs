//! Editing a line of text: the filter and the prompts share it.

use crate::tui::action::Action;

/// Applies a line-editing action to `input` and its cursor (a byte index); returns whether
/// the text changed.
pub(crate) fn edit_line(input: &mut String, cursor: &mut usize, action: &Action) -> bool {
    let before = |input: &str, cursor: usize| input[..cursor].chars().next_back();
    match *action {
        Action::FilterInsert(c) if !c.is_control() => {
            input.insert(*cursor, c);
            *cursor += c.len_utf8();
            true
        }
        Action::FilterBackspace => match before(input, *cursor) {
            Some(c) => {
                *cursor -= c.len_utf8();
                input.remove(*cursor);
                true
            }
            None => false,
        },
        Action::FilterDelete if *cursor < input.len() => {
            input.remove(*cursor);
            true
        }
        Action::FilterLeft => {
            if let Some(c) = before(input, *cursor) {
                *cursor -= c.len_utf8();
            }
            false
        }
        Action::FilterRight => {
            if let Some(c) = input[*cursor..].chars().next() {
                *cursor += c.len_utf8();
            }
            false
        }
        Action::FilterHome => {
            *cursor = 0;
            false
        }
        Action::FilterEnd => {
            *cursor = input.len();
            false
        }
        Action::FilterDeleteWord => {
            let start = input[..*cursor].trim_end().rfind(char::is_whitespace).map_or(0, |i| i + 1);
            input.replace_range(start..*cursor, "");
            *cursor = start;
            true
        }
        _ => false,
    }
}

/// Whether an action edits a line (and so goes to [`edit_line`]).
pub(crate) fn is_line_edit(action: &Action) -> bool {
    use Action::*;
    matches!(
        action,
        FilterInsert(_)
            | FilterBackspace
            | FilterDelete
            | FilterLeft
            | FilterRight
            | FilterHome
            | FilterEnd
            | FilterDeleteWord
    )
}

/// Inserts pasted text (already without control characters) at the cursor; returns whether
/// the text changed.
pub(crate) fn insert_text(input: &mut String, cursor: &mut usize, text: &str) -> bool {
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    input.insert_str(*cursor, &text);
    *cursor += text.len();
    !text.is_empty()
}
