//! Running a `:` command line against the state.

use super::{Effect, Popup, State};
use crate::query::{self, Field, Op, Term, TermKind};
use crate::tui::action::Action;
use crate::tui::command::{self, Command as C};

impl State {
    /// Runs a `:` command.
    pub(super) fn run_command(&mut self, text: &str) {
        let cmd = match command::parse(text, self.now_ms) {
            Ok(c) => c,
            Err(e) => {
                self.notify_error(e.to_string());
                return;
            }
        };
        match cmd {
            C::Quit => self.quit = true,
            C::Help => self.popups.open(Popup::Help),
            C::Errors => self.popups.open(Popup::Errors),
            C::Facets => self.update(Action::ToggleFacets),
            C::Timeline => self.update(Action::ToggleTimeline),
            C::TimeZone(local) => self.local_time = local,
            C::Filter(f) => self.commit_filter(f),
            C::Export(path, overwrite) => self.export_view(path, overwrite),
            C::Save(name) => self.save_filter(name),
            C::Load(name) => match self.popups.saved.iter().find(|(n, _)| *n == name) {
                Some((_, f)) => {
                    let f = f.clone();
                    self.commit_filter(f);
                }
                None => self.notify(format!("no saved filter is called {name}")),
            },
            C::Since(ms) => self.set_window(true, ms),
            C::Until(ms) => self.set_window(false, ms),
            C::Region(regions) => {
                if self.live.is_some() {
                    self.effects.push(Effect::Reconnect { profile: None, regions: Some(regions) });
                } else if let [one] = regions.as_slice() {
                    let term = TermKind::Match { field: Field::Region, op: Op::Exact, value: one.clone() };
                    self.replace_terms(|k| matches!(k, TermKind::Match { field: Field::Region, .. }), term);
                } else {
                    self.notify("in files, :region takes one region (it sets the filter's region:)");
                }
            }
            C::Profile(p) => {
                if self.live.is_some() {
                    self.effects.push(Effect::Reconnect { profile: Some(p), regions: None });
                } else {
                    self.notify(":profile applies to live event history (trailscope without a PATH)");
                }
            }
        }
    }

    /// `:since` and `:until`: live history's window moves and is fetched; in files, the
    /// filter's bound is set.
    fn set_window(&mut self, since: bool, ms: i64) {
        if let Some(live) = self.live.as_mut() {
            if since {
                live.since_ms = ms;
            } else {
                live.until_ms = Some(ms);
            }
            if let Ok(q) = query::parse(&self.filter.applied, self.now_ms) {
                self.plan_live(&q, true);
            }
        } else if since {
            self.replace_terms(|k| matches!(k, TermKind::Since(_)), TermKind::Since(ms));
        } else {
            self.replace_terms(|k| matches!(k, TermKind::Until(_)), TermKind::Until(ms));
        }
    }

    /// Replaces the filter's terms that `is_old` selects with one new term.
    fn replace_terms(&mut self, is_old: impl Fn(&TermKind) -> bool, new: TermKind) {
        let Ok(mut q) = query::parse(&self.filter.applied, self.now_ms) else { return };
        q.terms.retain(|t| !is_old(&t.kind));
        q.terms.push(Term { negated: false, kind: new });
        self.commit_filter(q.to_string());
    }
}
