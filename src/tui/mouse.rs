//! The mouse: wheel turns and clicks, resolved against the layout the state holds into
//! [`Action::Mouse`].
//!
//! The terminal is asked for button presses and the wheel only (modes 1000 and 1006, not
//! 1003's every motion), which keeps input quiet over slow links such as a bastion.

use crate::tui::action::{Action, Focus, Pointer};
use crate::tui::layout::{MIN_HEIGHT, MIN_WIDTH};
use crate::tui::state::State;
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use std::io::Write;

pub use crate::tui::state::WHEEL_LINES;

/// Turns a mouse event into an action, for the screen the state was laid out for. Motion,
/// releases and other buttons are `None`.
pub fn handle_mouse(ev: MouseEvent, state: &State) -> Option<Action> {
    let down = match ev.kind {
        MouseEventKind::ScrollDown => Some(true),
        MouseEventKind::ScrollUp => Some(false),
        MouseEventKind::Down(MouseButton::Left) => None,
        _ => return None,
    };
    let screen = state.screen();
    if screen.width < MIN_WIDTH || screen.height < MIN_HEIGHT || state.popups().prompt().is_some() {
        return None;
    }
    if state.popups().popup().is_some() {
        // A popup takes the wheel wherever it turns; clicks do nothing.
        return down.map(|down| Action::Mouse(Pointer::Scroll { over: None, down }));
    }
    let at = Position::new(ev.column, ev.row);
    let a = state.areas();
    let pane = if a.list.contains(at) {
        Some(Focus::List)
    } else if a.detail.contains(at) {
        Some(Focus::Detail)
    } else if a.filter.contains(at) {
        Some(Focus::Filter)
    } else if a.facets.is_some_and(|f| f.contains(at)) {
        Some(Focus::Facets)
    } else {
        None
    };
    if let Some(down) = down {
        return Some(Action::Mouse(Pointer::Scroll { over: pane, down }));
    }
    let on = pane?;
    let row = match on {
        Focus::List => {
            // Inside the border, below the header row.
            let first = a.list.y + 2;
            let bottom = a.list.bottom().saturating_sub(1);
            (at.y >= first && at.y < bottom)
                .then(|| state.list().offset() + (at.y - first) as usize)
                .filter(|&r| r < state.view().len())
        }
        Focus::Facets => a.facets.and_then(|f| state.facets().row_at(inner(f), at.y)),
        _ => None,
    };
    Some(Action::Mouse(Pointer::Click { on, row }))
}

/// The inside of a bordered pane.
fn inner(r: Rect) -> Rect {
    ratatui::widgets::Block::bordered().inner(r)
}

/// Asks the terminal to report button presses and the wheel, in SGR form.
pub fn enable_capture() -> std::io::Result<()> {
    let mut out = std::io::stdout();
    out.write_all(b"\x1b[?1000h\x1b[?1006h")?;
    out.flush()
}

/// Stops every kind of mouse reporting (also those this program does not ask for). Safe to
/// call when none is on, and on every way out.
pub fn disable_capture() -> std::io::Result<()> {
    let mut out = std::io::stdout();
    out.write_all(b"\x1b[?1006l\x1b[?1015l\x1b[?1003l\x1b[?1002l\x1b[?1000l")?;
    out.flush()
}
