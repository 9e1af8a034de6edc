//! Colours, in one place. Named ANSI colours so the terminal's own palette (dark or light)
//! decides the exact shade.

use ratatui::style::{Color, Modifier, Style};

pub fn border(focused: bool) -> Style {
    if focused {
        Style::default().fg(Color::Cyan)
    } else {
        Style::default().fg(Color::DarkGray)
    }
}
pub fn title(focused: bool) -> Style {
    let s = Style::default().add_modifier(Modifier::BOLD);
    if focused {
        s.fg(Color::Cyan)
    } else {
        s
    }
}
pub fn header() -> Style {
    Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
}
pub fn selected(focused: bool) -> Style {
    if focused {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default().bg(Color::DarkGray)
    }
}
pub fn error() -> Style {
    Style::default().fg(Color::Red)
}
pub fn write() -> Style {
    Style::default().fg(Color::Yellow)
}
pub fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}
pub fn key() -> Style {
    Style::default().fg(Color::Cyan).add_modifier(Modifier::BOLD)
}
pub fn ok() -> Style {
    Style::default().fg(Color::Green)
}
/// Characters a bare word matched, on top of the cell's own style.
pub fn matched(base: Style) -> Style {
    base.fg(Color::Yellow).add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
}
/// The timeline's bars.
pub fn bars() -> Style {
    Style::default().fg(Color::Blue)
}
