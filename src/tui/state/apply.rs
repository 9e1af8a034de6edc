//! Applying what background work reports: the sources' events and progress, the filter
//! worker's results, records read for the detail view, the terminal's size.

use super::{Focus, LoadState, Msg, State};
use crate::query::run::WorkMsg;
use crate::source::boundary::{Problem, SourceMsg, LIVE_INPUT};

impl State {
    /// Applies what background work reports.
    pub fn apply(&mut self, msg: Msg) {
        match msg {
            Msg::Load(m) => self.apply_load(m),
            Msg::Detail { event, result } => self.detail.apply_read(event, result),
            Msg::Work => {
                for m in self.events.drain() {
                    self.apply_work(m);
                }
            }
            Msg::Notice { text, error: false } => self.notify(text),
            Msg::Notice { text, error: true } => self.notify_error(text),
            Msg::Resize(screen) => {
                self.screen = screen;
                self.relayout();
            }
            Msg::Restarted { notice } => {
                self.reset_events();
                self.notify(notice);
            }
            Msg::Verified(result) => self.apply_verified(result),
            Msg::Rules { rules, problems, other } => self.apply_rules(rules, problems, other),
            Msg::Detected { generation, hits, evaluated } => self.apply_detected(generation, hits, evaluated),
        }
    }

    pub(super) fn apply_work(&mut self, m: WorkMsg) {
        match m {
            WorkMsg::Part { generation, matched, checked, total, done } => {
                let Some(part) = self.events.apply_part(generation, matched, checked, total, done) else { return };
                // Until the user moves, the event selected before the filter changed stays
                // selected; after, whatever they selected does.
                let keep = self.events.run.keep.or(if part.first { None } else { self.selected_event() });
                self.reselect(keep, false);
                self.events.ask_text_hint(self.filter.fuzzy);
            }
            WorkMsg::Count { generation, count } => self.events.apply_count(generation, count),
            WorkMsg::Batch { generation, matched } => {
                let (follow_top, keep) = self.follow_or_keep();
                if self.events.apply_batch(generation, matched) {
                    self.reselect(keep, follow_top);
                }
            }
            WorkMsg::Summary { version, facets, summary } => self.facets.apply_summary(version, facets, summary),
        }
    }

    /// Before events are added: whether the list follows the newest event (until the user
    /// moves away from the top), and the event to keep selected otherwise.
    pub(super) fn follow_or_keep(&self) -> (bool, Option<u32>) {
        (self.list.selected == 0 && self.focus != Focus::Detail, self.selected_event())
    }

    /// After the view changed, keeps the same event selected when it is still shown.
    pub(super) fn reselect(&mut self, keep: Option<u32>, follow_top: bool) {
        match keep {
            Some(ev) if !follow_top => {
                let store = self.events.store.read();
                let key = store.events[ev as usize].order_key();
                let pos = self.events.view().partition_point(|&i| store.events[i as usize].order_key() < key);
                drop(store);
                self.list.follow(self.view_pos(pos.min(self.events.view().len().saturating_sub(1))));
            }
            _ => self.list.select_top(),
        }
        self.list.clamp(self.events.view().len());
        self.sync_detail();
    }

    pub(super) fn apply_load(&mut self, msg: SourceMsg) {
        match msg {
            SourceMsg::Files(f) => self.events.store.write().add_files(f),
            SourceMsg::Problem(p) => {
                // Live history that cannot go on (no credentials, an unknown profile, no
                // region): say so where the eye is, not only in the problems list.
                if self.live.is_some() && p.skipped && p.input == LIVE_INPUT {
                    self.notify_error(format!("live history stopped: {}", p.reason));
                }
                self.problems.push(p)
            }
            SourceMsg::Warning(reason) => {
                let said = Problem { input: "cache".into(), reason, skipped: false };
                self.notes.push(super::Note { cache: true, said })
            }
            SourceMsg::Info(text) => self.notify(text),
            SourceMsg::Coverage(_) => {}
            SourceMsg::Remote(status) => self.load.remote = Some(*status),
            SourceMsg::Logs(status) => self.load.logs = Some(*status),
            SourceMsg::Athena(status) => self.load.athena = Some(*status),
            SourceMsg::Note(p) => self.notes.push(super::Note { cache: false, said: p }),
            SourceMsg::Batch(batch, stats) => {
                self.load.stats = stats;
                let (follow_top, keep) = self.follow_or_keep();
                // What the source found is in the store with the events, before the filter
                // sees them: a filter on detections needs no second run for them.
                let found = batch.detections.as_ref().is_some_and(|f| !f.hits.is_empty());
                let mut new: Vec<u32> = self.events.store.write().apply(batch).collect();
                // Sorted under a read lock, not the write lock: a big batch is sorted on the
                // thread pool, whose threads may be counting the facets, and those take read
                // locks (waiting for them under the write lock deadlocked).
                self.events.store.read().sort_indices(&mut new);
                self.detect_unevaluated();
                self.events.add(new);
                self.reselect(keep, follow_top);
                if found {
                    self.fit_detail();
                }
            }
            SourceMsg::Live(status) => {
                if let Some(live) = self.live.as_mut() {
                    live.apply_status(status);
                }
            }
            SourceMsg::Restart => {
                // What was sent is withdrawn (a stored load found damaged part way through):
                // the load starts again, and its time counts from the first start.
                let started = self.load.started;
                self.reset_events();
                self.load.started = started;
            }
            SourceMsg::Done(stats) => {
                // The live source ends only when it cannot go on: nothing more is coming.
                if let Some(live) = self.live.as_mut() {
                    live.status.done = true;
                }
                let digests = stats.digests;
                self.load.stats = stats;
                self.load.done = true;
                self.load.elapsed = self.load.started.map(|s| s.elapsed()).unwrap_or_default();
                if self.events.matcher.needs_raw() {
                    // Events that arrived during the load were not checked: run it again.
                    self.events.forget_run();
                    self.apply_filter(true);
                }
                self.start_verify(digests);
            }
        }
    }

    /// Forgets every event, for live history started again with other credentials or regions.
    pub(super) fn reset_events(&mut self) {
        self.reset_detections();
        self.events.clear();
        self.problems.clear();
        self.notes.clear();
        self.facets.summary = None;
        self.load = LoadState::starting();
        self.list.select_top();
        self.sync_detail();
        if let Some(live) = self.live.as_mut() {
            live.query = None;
            live.status = Default::default();
        }
        self.apply_filter(true);
    }
}
