//! The events and the view: every event loaded (newest first), the ones the filter in force
//! matches, and the filter runs of the worker that decide them. New events are handed to the
//! worker too: nothing is matched on the UI thread.

use crate::model::raw::RawReader;
use crate::query::run::{self, BatchJob, FilterJob, Job, SharedStore, SummaryJob, Worker};
use crate::query::{self, Matcher};
use std::sync::Arc;

/// The filter run in progress or last finished.
pub(crate) struct FilterRun {
    pub(crate) generation: u64,
    pub(crate) query: query::Query,
    /// Matches from the worker, in order.
    streamed: Vec<u32>,
    /// Matches among events loaded after the run started (the worker did not see them).
    extra: Vec<u32>,
    pub(crate) done: bool,
    pub(crate) parts: usize,
    checked: usize,
    total: usize,
    /// Keep this event selected as results arrive (until the user moves).
    pub(crate) keep: Option<u32>,
    /// Batches of new events handed to the worker for this run, not answered yet.
    pending: usize,
    /// When the run found nothing and its bare words could be looked for in the whole
    /// records: that filter (`text:` for each word) and, once counted, how many it matches.
    pub(crate) text_hint: Option<(String, Option<usize>)>,
    /// The filter was submitted (Enter, a pivot), not only typed: only then is the text hint
    /// counted, so that typing does not start a scan of every record at each key.
    pub(crate) submitted: bool,
}

impl FilterRun {
    fn finished() -> Self {
        FilterRun {
            generation: 0,
            query: query::Query::default(),
            streamed: Vec::new(),
            extra: Vec::new(),
            done: true,
            parts: 0,
            checked: 0,
            total: 0,
            keep: None,
            pending: 0,
            text_hint: None,
            submitted: false,
        }
    }
}

/// How the view changed after a part of a filter run.
pub(crate) struct Part {
    /// The first part: the view was the previous filter's until now.
    pub(crate) first: bool,
}

/// The most eventIDs the list keeps read (a few screens of rows).
const LIST_IDS: usize = 1024;

pub struct Events {
    pub(crate) store: SharedStore,
    pub(crate) raw: Arc<RawReader>,
    /// Every event, newest first.
    pub(crate) order: Vec<u32>,
    /// The events that match the filter, newest first, unless `all` (see [`Events::view`]).
    view: Vec<u32>,
    /// The filter in force has no term and its run is done: the view is every event, and
    /// `view` is left empty rather than a second copy of `order` (4 bytes an event) merged
    /// into again with every batch.
    all: bool,
    /// The eventIDs the list's column read from records, by event (see
    /// [`Events::list_event_id`]).
    list_ids: std::sync::Mutex<std::collections::HashMap<u32, String>>,
    /// The matcher of the run in force (the list highlights what its bare words matched).
    pub(crate) matcher: Matcher,
    /// Counts changes of the view, so a summary can say which view it describes.
    pub(crate) view_version: u64,
    pub(crate) run: FilterRun,
    worker: Worker,
}

impl Events {
    pub(crate) fn new(store: SharedStore, raw: Arc<RawReader>, worker: Worker) -> Self {
        Events {
            store,
            raw,
            order: Vec::new(),
            view: Vec::new(),
            // The run in force is the empty filter's, done.
            all: true,
            list_ids: Default::default(),
            matcher: Matcher::default(),
            view_version: 0,
            run: FilterRun::finished(),
            worker,
        }
    }

    /// The eventID of event `i` for the list's column: read from its record the first time,
    /// then kept (the list is drawn many times a second while a load goes on; events keep only
    /// a hash of their ids). At most [`LIST_IDS`] are kept.
    pub(crate) fn list_event_id(&self, store: &crate::model::EventStore, i: u32) -> String {
        let mut ids = self.list_ids.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(id) = ids.get(&i) {
            return id.clone();
        }
        let id = store.events.get(i as usize).map(|ev| store.event_id(ev, &self.raw)).unwrap_or_default();
        if ids.len() >= LIST_IDS {
            ids.clear();
        }
        ids.insert(i, id.clone());
        id
    }

    /// The events that match the filter in force, newest first.
    pub(crate) fn view(&self) -> &[u32] {
        if self.all {
            &self.order
        } else {
            &self.view
        }
    }

    /// Whether `q` (with its prepared matcher) is the run in force, finished.
    pub(crate) fn unchanged(&self, q: &query::Query) -> bool {
        self.run.done && *q == self.run.query
    }

    /// Starts a filter run of `m` (for `q`); `keep` stays selected as results arrive.
    pub(crate) fn start(&mut self, q: query::Query, mut m: Matcher, keep: Option<u32>) {
        // A narrower filter only needs to look at what the last one matched (once that is
        // all in the view: new events still with the worker are not).
        let base = if self.run.done && self.run.pending == 0 && run::narrows(&self.run.query, &q) {
            Arc::new(self.view().to_vec())
        } else {
            Arc::new(self.order.clone())
        };
        m.prepare(&self.store.read());
        self.matcher = m.clone();
        let generation = self.run.generation + 1;
        self.run = FilterRun { generation, query: q, done: false, total: base.len(), keep, ..FilterRun::finished() };
        self.worker.submit(Job::Filter(FilterJob { generation, matcher: m, base }));
    }

    /// When the finished run matched nothing and has bare words: asks the worker how many
    /// events the same filter matches with each bare word looked for anywhere in the record.
    pub(crate) fn ask_text_hint(&mut self, fuzzy: crate::query::fuzzy::Engine) {
        use crate::query::{Field, Op, Term, TermKind};
        if !self.run.submitted
            || !self.run.done
            || !self.view().is_empty()
            || self.run.text_hint.is_some()
            || self.order.is_empty()
        {
            return;
        }
        if !self.run.query.terms.iter().any(|t| matches!(t.kind, TermKind::Bare(_))) {
            return;
        }
        let terms: Vec<Term> = self
            .run
            .query
            .terms
            .iter()
            .map(|t| match &t.kind {
                TermKind::Bare(w) => Term {
                    negated: t.negated,
                    kind: TermKind::Match { field: Field::Text, op: Op::Contains, value: w.clone() },
                },
                _ => t.clone(),
            })
            .collect();
        let text: Vec<String> = terms.iter().map(|t| t.to_string()).collect();
        let q = query::Query { terms };
        let m = Matcher::with_engine(&q, fuzzy);
        self.run.text_hint = Some((text.join(" "), None));
        let base = Arc::new(self.order.clone());
        self.worker.submit(Job::Count(run::CountJob { generation: self.run.generation, matcher: m, base }));
    }

    /// The worker's count for the run's text hint.
    pub(crate) fn apply_count(&mut self, generation: u64, count: usize) {
        if generation == self.run.generation {
            if let Some((_, n)) = self.run.text_hint.as_mut() {
                *n = Some(count);
            }
        }
    }

    /// Forgets the run in force, so that the next start runs whatever the query.
    pub(crate) fn forget_run(&mut self) {
        self.run.query = query::Query::default();
    }

    /// Makes the next run check every event, not only the last run's matches: what the
    /// same filter matches has changed (verdicts on the files arrived).
    pub(crate) fn rematch_all(&mut self) {
        self.forget_run();
        self.run.done = false;
    }

    /// Applies a part of a filter run; `None` when it belongs to an older run.
    pub(crate) fn apply_part(
        &mut self,
        generation: u64,
        matched: Vec<u32>,
        checked: usize,
        total: usize,
        done: bool,
    ) -> Option<Part> {
        if generation != self.run.generation {
            return None;
        }
        let run = &mut self.run;
        let first = run.parts == 0;
        run.parts += 1;
        run.checked = checked;
        run.total = total;
        run.done = done;
        if first {
            self.view.clear();
            self.all = false;
        }
        if run.extra.is_empty() {
            self.view.extend_from_slice(&matched);
            run.streamed.extend(matched);
        } else {
            run.streamed.extend(matched);
            let mut view = run.streamed.clone();
            self.store.read().merge_sorted(&mut view, &run.extra);
            self.view = view;
        }
        if done {
            // What was streamed is the view now; no need to keep a second copy.
            run.streamed = Vec::new();
            run.extra = Vec::new();
            if self.matcher.is_empty() {
                // Every event: the view is `order`.
                self.all = true;
                self.view = Vec::new();
            }
        }
        self.view_version += 1;
        Some(Part { first })
    }

    /// Adds newly loaded events (sorted newest first) to every event; the ones that match go
    /// to the view at once when there is no filter, else when the worker has checked them.
    /// Returns whether the view changed.
    pub(crate) fn add(&mut self, new: Vec<u32>) -> bool {
        self.store.read().merge_sorted(&mut self.order, &new);
        if self.matcher.is_empty() {
            return self.add_matched(&new);
        }
        if !self.matcher.needs_raw() && !new.is_empty() {
            // Reading records back is left for the run again at the end of the load.
            self.run.pending += 1;
            self.worker.submit(Job::Batch(BatchJob { generation: self.run.generation, events: new }));
        }
        false
    }

    /// The worker's matches among new events; returns whether the view changed.
    pub(crate) fn apply_batch(&mut self, generation: u64, matched: Vec<u32>) -> bool {
        if generation != self.run.generation {
            return false;
        }
        self.run.pending = self.run.pending.saturating_sub(1);
        self.add_matched(&matched)
    }

    fn add_matched(&mut self, matched: &[u32]) -> bool {
        if matched.is_empty() {
            return false;
        }
        let store = self.store.read();
        if self.all {
            // `order` has them already.
        } else if self.run.done {
            store.merge_sorted(&mut self.view, matched);
        } else {
            // The worker's base predates these events: keep them beside its results.
            store.merge_sorted(&mut self.run.extra, matched);
            let mut view = self.run.streamed.clone();
            store.merge_sorted(&mut view, &self.run.extra);
            self.view = view;
        }
        drop(store);
        self.view_version += 1;
        true
    }

    /// Asks the worker for the facets and the timeline of the view.
    pub(crate) fn ask_summary(&self, facets: bool) {
        let view = if self.all {
            // Every event: the store's first so many, with the bounds of their times.
            let bounds = self.store.read().time_bounds(&self.order);
            run::Viewed::First { len: self.order.len(), bounds }
        } else {
            run::Viewed::Listed(Arc::new(self.view.clone()))
        };
        let job = SummaryJob { version: self.view_version, view, facets };
        self.worker.submit(Job::Summary(job));
    }

    /// What the worker has sent, without waiting.
    pub(crate) fn drain(&self) -> Vec<run::WorkMsg> {
        self.worker.result_rx.try_iter().collect()
    }

    /// Lets the app loop wake up when the worker has results.
    pub(crate) fn set_waker(&self, w: Box<dyn Fn() + Send + Sync>) {
        self.worker.set_waker(w);
    }

    /// Forgets every event, for a source started again. The run in force starts again over
    /// nothing, so that whatever the worker still sends about the old events is dropped, and
    /// events of the new source are matched as before; the next start runs whatever the query.
    pub(crate) fn clear(&mut self) {
        {
            // The rules stay; what they matched goes with the events.
            let mut store = self.store.write();
            let rules = std::mem::take(&mut store.detections.rules);
            *store = crate::model::EventStore::default();
            store.detections.rules = rules;
        }
        self.raw.clear();
        // Event numbers are about to be reused.
        self.list_ids.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.order.clear();
        self.view.clear();
        self.all = false;
        self.view_version += 1;
        let (q, m) = (std::mem::take(&mut self.run.query), self.matcher.clone());
        self.start(q, m, None);
        self.forget_run();
    }

    /// (checked, total) while the filter in force is still being run.
    pub(crate) fn filtering(&self) -> Option<(usize, usize)> {
        (!self.run.done).then_some((self.run.checked, self.run.total))
    }

    /// Whether the worker has nothing of the filter in force left to answer.
    pub(crate) fn idle(&self) -> bool {
        self.run.done && self.run.pending == 0
    }
}
