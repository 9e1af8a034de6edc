//! The summary of the view (facets and timeline, counted by the filter worker) and the facets
//! panel: which value is selected and which lines are on screen.

use crate::model::{EventStore, SymField, EMPTY};
use crate::query::run::{Facet, Summary, FACET_TOP};
use crate::query::{Field, Op, Term, TermKind};
use crate::tui::action::Action;
use ratatui::layout::Rect;
use std::sync::Arc;
use std::time::Instant;

#[derive(Default)]
pub struct FacetsState {
    /// The panel is shown.
    pub(crate) shown: bool,
    /// Row of the panel that is selected (over all facets' values).
    pub(crate) sel: usize,
    pub(crate) summary: Option<Arc<Summary>>,
    /// The view version the summary describes.
    pub(crate) version: u64,
    /// Whether the summary in force has the facets (they are counted only when shown).
    pub(crate) counted_facets: bool,
    /// The last summary asked for: (view version, with facets, when).
    pub(crate) asked: Option<(u64, bool, Instant)>,
    /// The field whose values are all shown (up to [`FACET_MORE`](crate::query::run::FACET_MORE)), not only the first
    /// [`FACET_TOP`].
    pub(crate) expanded: Option<(SymField, bool)>,
}

impl FacetsState {
    /// How many of a facet's values the panel shows.
    pub(crate) fn shown_values(&self, facet: &Facet) -> usize {
        if self.expanded == Some((facet.field, facet.rules)) {
            facet.top.len()
        } else {
            facet.top.len().min(FACET_TOP)
        }
    }

    /// The facet rows as the panel lists them: (facet index, value index).
    pub(crate) fn rows(&self) -> Vec<(usize, usize)> {
        let Some(s) = &self.summary else { return Vec::new() };
        s.facets.iter().enumerate().flat_map(|(f, facet)| (0..self.shown_values(facet)).map(move |v| (f, v))).collect()
    }

    /// Shows all the selected field's values (up to [`FACET_MORE`](crate::query::run::FACET_MORE)), or its first
    /// [`FACET_TOP`] again; the selection stays on its value, or on the field's last shown.
    pub(crate) fn toggle_more(&mut self) {
        let Some((field, _, nth)) = self.selected_value() else { return };
        self.expanded = if self.expanded == Some(field) { None } else { Some(field) };
        let rows = self.rows();
        if let Some(s) = &self.summary {
            if let Some(f) = s.facets.iter().position(|x| (x.field, x.rules) == field) {
                let shown = self.shown_values(&s.facets[f]);
                let v = nth.min(shown.saturating_sub(1));
                if let Some(row) = rows.iter().position(|&r| r == (f, v)) {
                    self.sel = row;
                }
            }
        }
    }

    /// Whether the summary is out of date for view `version` (the timeline needs one too).
    pub(crate) fn due(&self, version: u64, timeline: bool) -> bool {
        (self.shown || timeline) && (self.version != version || (self.shown && !self.counted_facets))
    }

    /// Whether the summary of view `version` was asked for (and so is on its way).
    pub(crate) fn awaiting(&self, version: u64) -> bool {
        self.asked.is_some_and(|(v, f, _)| v == version && f == self.shown)
    }

    pub(crate) fn apply_summary(&mut self, version: u64, facets: bool, summary: Arc<Summary>) {
        // The selection follows its field and value, not its row number: after Enter or `-`
        // the list shrinks, and the next key must act where the user was pointing.
        let before = self.selected_value();
        self.version = version;
        self.counted_facets = facets;
        self.summary = Some(summary);
        let rows = self.rows();
        if let (Some((field, sym, nth)), Some(s)) = (before, &self.summary) {
            let at = |f: usize, v: usize| rows.iter().position(|&r| r == (f, v));
            if let Some(f) = s.facets.iter().position(|x| (x.field, x.rules) == field && !x.top.is_empty()) {
                let top = &s.facets[f].top;
                let v = top.iter().position(|&(x, _)| x == sym).unwrap_or(nth.min(top.len() - 1));
                if let Some(row) = at(f, v) {
                    self.sel = row;
                }
            }
        }
        self.sel = self.sel.min(rows.len().saturating_sub(1));
    }

    /// The selected value: its field, the value, and its place among the field's values.
    fn selected_value(&self) -> Option<((SymField, bool), crate::model::Sym, usize)> {
        let (f, v) = *self.rows().get(self.sel)?;
        let facet = self.summary.as_ref()?.facets.get(f)?;
        Some(((facet.field, facet.rules), facet.top.get(v)?.0, v))
    }

    /// j/k move by value; page keys jump to the next or previous field.
    pub(crate) fn step(&mut self, action: &Action) {
        let rows = self.rows();
        let last = rows.len().saturating_sub(1);
        let sel = self.sel.min(last);
        let group = rows.get(sel).map_or(0, |r| r.0);
        let group_start = |g: usize| rows.iter().position(|r| r.0 >= g);
        self.sel = match action {
            Action::Down => sel + 1,
            Action::Up => sel.saturating_sub(1),
            Action::PageDown | Action::HalfPageDown => group_start(group + 1).unwrap_or(last),
            Action::PageUp | Action::HalfPageUp => {
                let start = group_start(group).unwrap_or(0);
                if sel > start {
                    start
                } else {
                    rows.iter().rposition(|r| r.0 < group).and_then(|i| group_start(rows[i].0)).unwrap_or(0)
                }
            }
            Action::Top => 0,
            _ => last,
        }
        .min(last);
    }

    /// The term that filters on the selected value (or out of it, `negated`).
    pub(crate) fn selected_term(&self, negated: bool, store: &EventStore) -> Option<Term> {
        let rows = self.rows();
        let (&(f, v), summary) = (rows.get(self.sel)?, self.summary.as_ref()?);
        let facet = &summary.facets[f];
        let (sym, _) = facet.top[v];
        if facet.rules {
            // A rule by its id (exact), or by its title when it has none.
            let r = store.detections.rules.get(sym as usize)?;
            let value = if r.id.is_empty() { r.title.clone() } else { r.id.clone() };
            return Some(Term { negated, kind: TermKind::Match { field: Field::Rule, op: Op::Exact, value } });
        }
        let field = match facet.field {
            SymField::Name => Field::Name,
            // Counted by ARN where events have one (see `run::principal_key`).
            SymField::Principal if store.syms.get(sym).starts_with("arn:") => Field::Arn,
            SymField::Principal => Field::User,
            SymField::Ip => Field::Ip,
            SymField::Error => Field::Error,
            SymField::Region => Field::Region,
            SymField::Source => Field::Source,
            SymField::Agent => Field::Agent,
            SymField::Account => Field::Account,
            SymField::IdentityType => Field::Type,
            SymField::AccessKey => Field::Key,
            _ => return None,
        };
        Some(if sym == EMPTY {
            // "(none)": the field is absent.
            Term { negated: !negated, kind: TermKind::Has(field) }
        } else {
            let value = store.syms.get(sym).to_string();
            Term { negated, kind: TermKind::Match { field, op: Op::Exact, value } }
        })
    }

    /// The panel's lines as drawn: each field's heading (`None`), then its values' rows.
    pub(crate) fn lines(&self) -> Vec<Option<usize>> {
        let mut lines = Vec::new();
        let Some(summary) = &self.summary else { return lines };
        let mut row = 0;
        for facet in &summary.facets {
            lines.push(None);
            for _ in 0..self.shown_values(facet) {
                lines.push(Some(row));
                row += 1;
            }
        }
        lines
    }

    /// The first line shown in a panel `height` lines high: the panel scrolls so that the
    /// selected row's line is on screen.
    pub(crate) fn first_line(&self, height: usize) -> usize {
        let selected_line = self.lines().iter().position(|l| *l == Some(self.sel)).unwrap_or(0);
        if selected_line >= height {
            selected_line + 1 - height
        } else {
            0
        }
    }

    /// The row drawn at screen row `y` of the panel whose inside is `inner`; `None` on a
    /// field's heading or below the last value.
    pub(crate) fn row_at(&self, inner: Rect, y: u16) -> Option<usize> {
        if self.summary.is_none() || y < inner.y || y >= inner.bottom() {
            return None;
        }
        let start = self.first_line(inner.height as usize);
        self.lines().get(start + (y - inner.y) as usize).copied().flatten()
    }

    /// The selected row.
    pub fn selected(&self) -> usize {
        self.sel
    }

    /// The summary of the view, once counted.
    pub fn summary(&self) -> Option<&Arc<Summary>> {
        self.summary.as_ref()
    }
}
