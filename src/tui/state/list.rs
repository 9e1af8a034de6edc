//! The event list: which row of the view is selected, and which is the first on screen.

use crate::tui::action::Action;

#[derive(Debug)]
pub struct ListState {
    /// Index into the view.
    pub(crate) selected: usize,
    /// First view row on screen.
    pub(crate) offset: usize,
    /// Rows the list shows, written by layout.
    pub(crate) height: usize,
}

impl Default for ListState {
    fn default() -> Self {
        // Until the first layout, as a small terminal would show.
        ListState { selected: 0, offset: 0, height: 10 }
    }
}

impl ListState {
    /// Moves the selection by a movement action over a view of `len` rows.
    pub(crate) fn step(&mut self, action: &Action, len: usize) {
        let page = self.height.max(1);
        let last = len.saturating_sub(1);
        let sel = self.selected;
        self.selected = match action {
            Action::Down => (sel + 1).min(last),
            Action::Up => sel.saturating_sub(1),
            Action::PageDown => (sel + page).min(last),
            Action::PageUp => sel.saturating_sub(page),
            Action::HalfPageDown => (sel + page / 2).min(last),
            Action::HalfPageUp => sel.saturating_sub(page / 2),
            Action::Top => 0,
            Action::Bottom => last,
            _ => sel,
        };
        self.clamp(len);
    }

    /// Keeps the selection inside a view of `len` rows and on screen.
    pub(crate) fn clamp(&mut self, len: usize) {
        if len == 0 {
            self.selected = 0;
            self.offset = 0;
            return;
        }
        self.selected = self.selected.min(len - 1);
        let h = self.height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + h {
            self.offset = self.selected + 1 - h;
        }
        self.offset = self.offset.min(len.saturating_sub(h));
    }

    /// Selects row `pos`, moving the screen along with it (the selected event keeps its place
    /// on screen while rows are added above it).
    pub(crate) fn follow(&mut self, pos: usize) {
        let shift = pos as isize - self.selected as isize;
        self.selected = pos;
        self.offset = (self.offset as isize + shift).max(0) as usize;
    }

    pub(crate) fn select_top(&mut self) {
        self.selected = 0;
        self.offset = 0;
    }

    /// The selected row of the view.
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The first row on screen.
    pub fn offset(&self) -> usize {
        self.offset
    }
}
