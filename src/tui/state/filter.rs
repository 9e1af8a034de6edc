//! The filter line being edited, the filter in force, and the history of filters applied.

use crate::query::fuzzy::Engine;
use crate::query::{QueryError, Term};

#[derive(Debug, Default)]
pub struct FilterState {
    pub(crate) input: String,
    /// Byte index of the cursor in `input`.
    pub(crate) cursor: usize,
    pub(crate) error: Option<QueryError>,
    /// The text of the query in force (the last one that parsed).
    pub(crate) applied: String,
    /// Filters applied, oldest first, and which one is in force: `[` and `]` walk them.
    pub(crate) history: Vec<String>,
    pub(crate) history_pos: usize,
    /// The event selected when filter editing began: kept selected through intermediate
    /// filters that do not match it (typing `name:Delete` passes through `n`, `na`, ...).
    pub(crate) anchor: Option<u32>,
    /// While set, edits to the filter are noted and applied once when the burst of keys
    /// ends: keys typed while a large list was being filtered cost one pass, not one each.
    pub(crate) defer: bool,
    /// An edit was deferred.
    pub(crate) stale: bool,
    /// Terms from the command line (`--since`/`--until`) that always apply.
    pub(crate) base_terms: Vec<Term>,
    /// The engine of fuzzy bare words.
    pub(crate) fuzzy: Engine,
}

impl FilterState {
    pub(crate) fn new(initial: Option<String>, base_terms: Vec<Term>, fuzzy: Engine) -> Self {
        let text = initial.unwrap_or_default();
        FilterState {
            cursor: text.len(),
            input: text.clone(),
            history: vec![text],
            base_terms,
            fuzzy,
            ..Default::default()
        }
    }

    /// Replaces the text being edited, with the cursor at its end.
    pub(crate) fn set_text(&mut self, text: String) {
        self.cursor = text.len();
        self.input = text;
    }

    /// Records the filter in force as the newest of the history (dropping what was ahead of
    /// the position, as a browser does).
    pub(crate) fn push_history(&mut self) {
        let f = self.applied.clone();
        if self.history.get(self.history_pos) == Some(&f) {
            return;
        }
        self.history.truncate(self.history_pos + 1);
        self.history.push(f);
        self.history_pos = self.history.len() - 1;
    }

    /// Moves through the history by `step`; the filter there, or `None` past either end.
    pub(crate) fn walk(&mut self, step: isize) -> Option<String> {
        let pos = self.history_pos as isize + step;
        if pos < 0 || pos >= self.history.len() as isize {
            return None;
        }
        self.history_pos = pos as usize;
        Some(self.history[self.history_pos].clone())
    }

    /// The text being edited.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The text of the filter in force.
    pub fn applied(&self) -> &str {
        &self.applied
    }

    /// Filters applied, oldest first.
    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// Why the text being edited does not parse.
    pub fn error(&self) -> Option<&QueryError> {
        self.error.as_ref()
    }
}
