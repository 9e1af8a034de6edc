//! The mouse: wheel turns and clicks, resolved against the layout into [`Action::Mouse`].
//!
//! The terminal is asked for button presses and the wheel only (modes 1000 and 1006, not
//! 1003's every motion), which keeps input quiet over slow links such as a bastion.

use crate::tui::action::Action;
use crate::tui::state::{Focus, State};
use crate::tui::ui;
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use std::io::Write;

/// What the pointer did and where, in the state's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pointer {
    /// The wheel turned over a pane; `None`: elsewhere (while a popup is open, anywhere).
    Scroll { over: Option<Focus>, down: bool },
    /// A click on a pane, with the row under it: the list's view index, or the facets' row.
    Click { on: Focus, row: Option<usize> },
}

/// Lines the detail view and popups scroll by per step of the wheel (the list and the facets
/// move their selection by one).
pub const WHEEL_LINES: usize = 3;

/// Turns a mouse event into an action, for a screen of `screen` drawn from `state`. Motion,
/// releases and other buttons are `None`.
pub fn handle_mouse(ev: MouseEvent, screen: Rect, state: &State) -> Option<Action> {
    let down = match ev.kind {
        MouseEventKind::ScrollDown => Some(true),
        MouseEventKind::ScrollUp => Some(false),
        MouseEventKind::Down(MouseButton::Left) => None,
        _ => return None,
    };
    if screen.width < ui::MIN_WIDTH || screen.height < ui::MIN_HEIGHT || state.prompt.is_some() {
        return None;
    }
    if state.popup.is_some() {
        // A popup takes the wheel wherever it turns; clicks do nothing.
        return down.map(|down| Action::Mouse(Pointer::Scroll { over: None, down }));
    }
    let at = Position::new(ev.column, ev.row);
    let a = ui::layout(screen, ui::Panes::of(state));
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
                .then(|| state.list.offset + (at.y - first) as usize)
                .filter(|&r| r < state.view.len())
        }
        Focus::Facets => a.facets.and_then(|f| ui::facets::row_at(state, inner(f), at.y)),
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
