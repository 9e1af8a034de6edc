//! Applying the filter: parsing it, starting a run on the worker, the history, and the
//! filters written for the user (pivots, facet values).

use super::{pivot, Focus, State};
use crate::query::{self, Matcher};
use crate::tui::action::Action;

impl State {
    /// Re-parses the filter and starts a filter run for it. A filter that needs raw records
    /// (`text:`) is only run when submitted, not on every keystroke.
    pub(super) fn apply_filter(&mut self, submitted: bool) {
        if self.filter.defer && !submitted {
            self.filter.stale = true;
            return;
        }
        self.filter.stale = false;
        let mut q = match query::parse(&self.filter.input, self.now_ms) {
            Ok(q) => q,
            Err(e) => {
                self.filter.error = Some(e);
                return;
            }
        };
        self.filter.error = None;
        q.terms.extend(self.filter.base_terms.iter().cloned());
        let m = Matcher::with_engine(&q, self.filter.fuzzy);
        if m.needs_raw() && !submitted {
            return;
        }
        if submitted {
            self.plan_live(&q, false);
        }
        if self.focus == Focus::Filter && self.filter.anchor.is_none() {
            self.filter.anchor = self.selected_event();
        }
        let keep = self.filter.anchor.or(self.selected_event());
        let unchanged = self.events.unchanged(&q) && self.filter.applied == self.filter.input;
        self.filter.applied = self.filter.input.clone();
        if !unchanged {
            self.events.start(q, m, keep);
        }
        if submitted {
            self.events.run.submitted = true;
            self.events.ask_text_hint(self.filter.fuzzy);
        }
    }

    /// Sets the filter text and applies it.
    pub(super) fn set_filter_text(&mut self, text: String) {
        self.filter.set_text(text);
        self.apply_filter(true);
    }

    /// Sets the filter text, applies it and records it in the history.
    pub(super) fn commit_filter(&mut self, text: String) {
        self.set_filter_text(text);
        if self.filter.error.is_none() {
            self.filter.push_history();
        }
    }

    pub(super) fn walk_history(&mut self, step: isize) {
        match self.filter.walk(step) {
            Some(text) => self.set_filter_text(text),
            None => self.notify(if step < 0 { "no earlier filter" } else { "no later filter" }),
        }
    }

    /// Replaces the filter with a question about the selected event.
    pub(super) fn pivot(&mut self, action: &Action) {
        let Some(ev) = self.selected_event() else { return };
        let Some((what, text)) = pivot::pivot_filter(&self.events.store.read(), self.raw(), ev, action) else { return };
        if text.is_empty() {
            self.notify(format!("this event has no {what} to pivot on"));
            return;
        }
        self.filter.anchor = Some(ev);
        self.commit_filter(text);
    }

    /// Adds the selected facet value to the filter (or its negation).
    pub(super) fn add_facet_term(&mut self, negated: bool) {
        let Some(term) = self.facets.selected_term(negated, &self.events.store.read()) else { return };
        let mut text = self.filter.applied.trim_end().to_string();
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&term.to_string());
        self.commit_filter(text);
    }
}
