//! Detections in the TUI: the sources evaluate each record against the rules as they parse it
//! and the hits come in the batches; the detection thread evaluates the events a source did
//! not (live history). Results are kept in the store ([`crate::model::detect::Detections`])
//! and a filter that asks about them is run again for those that come late.

use super::{Effect, Msg, State};
use crate::model::detect::RuleInfo;
use crate::sigma::RuleProblem;
use crate::source::boundary::Problem;
use std::time::{Duration, Instant};

/// Whether rules are evaluated, and which generation of events their results are for.
#[derive(Debug, Default)]
pub struct DetectState {
    /// Rules were given: every event is evaluated (by its source, or sent to be).
    pub(crate) enabled: bool,
    /// Bumped when the events are replaced, so that results for the old ones are dropped.
    pub(crate) generation: u64,
    /// When a filter that asks about detections was last run again for new results.
    pub(crate) last_rematch: Option<Instant>,
    /// Results not yet reflected in such a filter.
    pub(crate) stale: bool,
}

/// How often, at most, a filter with `rule:`, `has:rule` or `level:` is run again while
/// results keep arriving.
const REMATCH_EVERY: Duration = Duration::from_millis(700);

impl State {
    /// Asks for the events just added that their source did not evaluate to be evaluated.
    pub(super) fn detect_unevaluated(&mut self) {
        let ranges = self.events.store.write().detections.take_unevaluated();
        if self.detect.enabled && !ranges.is_empty() {
            self.effects.push(Effect::Detect { generation: self.detect.generation, ranges });
        }
    }

    /// The rules the detection thread loaded, and the rule files it could not use.
    pub(super) fn apply_rules(&mut self, rules: Vec<RuleInfo>, problems: Vec<RuleProblem>, other: usize) {
        for p in problems {
            self.problems.push(Problem {
                input: p.file,
                reason: format!("Sigma rule not evaluated: {}", p.reason),
                skipped: false,
            });
        }
        if rules.is_empty() {
            self.detect.enabled = false;
            let more = if other > 0 { format!(" ({other} for other log sources)") } else { String::new() };
            self.notify_error(format!("no CloudTrail Sigma rule could be loaded{more}; E lists problems"));
        }
        self.events.store.write().detections.rules = rules;
    }

    /// Results of evaluating `evaluated` events, unless they are for events since replaced.
    pub(super) fn apply_detected(&mut self, generation: u64, hits: Vec<(u32, Vec<u16>)>, evaluated: usize) {
        if generation != self.detect.generation {
            return;
        }
        let found = !hits.is_empty();
        {
            let mut store = self.events.store.write();
            let n = store.len() as u32;
            for (ev, h) in hits.into_iter().filter(|(ev, _)| *ev < n) {
                store.detections.record(ev, h);
            }
            store.detections.evaluated = (store.detections.evaluated + evaluated).min(store.len());
        }
        self.detect.stale |= found;
        if found {
            self.fit_detail();
        }
        if found && self.facets.shown {
            // The same view, counted again: the rule facet has new counts.
            self.events.view_version += 1;
        }
        let caught_up = self.load.done && self.detections_pending() == 0;
        let due = self.detect.last_rematch.is_none_or(|t| t.elapsed() >= REMATCH_EVERY);
        if self.detect.stale && (caught_up || due) && self.filter_uses_detections() {
            self.detect.stale = false;
            self.detect.last_rematch = Some(Instant::now());
            self.events.rematch_all();
            self.apply_filter(true);
        }
    }

    /// Events loaded but not evaluated yet (0 without rules).
    pub fn detections_pending(&self) -> usize {
        if !self.detect.enabled {
            return 0;
        }
        let store = self.events.store.read();
        store.len().saturating_sub(store.detections.evaluated)
    }

    fn filter_uses_detections(&self) -> bool {
        let f = self.filter.applied().to_ascii_lowercase();
        f.contains("rule:") || f.contains("has:rule") || f.contains("level:")
    }

    /// The events were replaced: results still coming for the old ones are dropped.
    pub(super) fn reset_detections(&mut self) {
        self.detect.generation += 1;
        self.detect.stale = false;
        self.events.store.write().detections.clear();
    }
}

impl Msg {
    /// What the detection thread sends once it has read the rules.
    pub fn rules(rules: Vec<RuleInfo>, problems: Vec<RuleProblem>, other: usize) -> Msg {
        Msg::Rules { rules, problems, other }
    }
}
