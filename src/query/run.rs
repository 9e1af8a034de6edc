//! Running a filter over the loaded events off the UI thread.
//!
//! Each change of the filter is a job with a generation number. The worker checks the
//! job's events in chunks, newest first, and sends each chunk's matches as it goes, so the
//! top of the list fills at once and the rest streams in. A newer generation cancels the
//! running one between chunks; its parts are dropped on arrival too (yazi's ticket counter).
//! When the new filter only narrows the previous one, the job checks the previous matches
//! instead of every event.
//!
//! The same worker computes the facets and the timeline of a finished view.

use super::Matcher;
use crate::model::raw::RawReader;
use crate::model::{EventStore, Slot, Sym, SymField, EMPTY, NO_TIME};
use crossbeam_channel::{Receiver, Sender};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The event store, shared between the UI thread (the only writer) and the worker.
#[derive(Clone, Default)]
pub struct SharedStore(Arc<RwLock<EventStore>>);

impl SharedStore {
    /// The store, for reading (a poisoned lock is taken over).
    pub fn read(&self) -> RwLockReadGuard<'_, EventStore> {
        self.0.read().unwrap_or_else(|p| p.into_inner())
    }
    /// The store, for writing (the UI thread only).
    pub fn write(&self) -> RwLockWriteGuard<'_, EventStore> {
        self.0.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// A filter run over the store.
pub struct FilterJob {
    /// Newer generations cancel older ones.
    pub generation: u64,
    /// The compiled filter.
    pub matcher: Matcher,
    /// The events to check, newest first: every event, or the previous generation's matches.
    pub base: Arc<Vec<u32>>,
}

/// The events a summary describes.
#[derive(Clone, Debug)]
pub enum Viewed {
    /// These, newest first.
    Listed(Arc<Vec<u32>>),
    /// The store's first `len` events, all of them: told without a copy of their order (4
    /// bytes an event, 40 MB at ten million, asked for again every half second of a load).
    First {
        /// How many.
        len: usize,
        /// The oldest and newest event time among them (`None`: none has a time).
        bounds: Option<(i64, i64)>,
    },
}

impl Viewed {
    fn as_ref(&self) -> View<'_> {
        match self {
            Viewed::Listed(v) => View::Listed(v),
            Viewed::First { len, bounds } => View::First { len: *len, bounds: *bounds },
        }
    }
}

/// [`Viewed`], borrowed.
#[derive(Clone, Copy)]
enum View<'a> {
    Listed(&'a [u32]),
    First { len: usize, bounds: Option<(i64, i64)> },
}

impl View<'_> {
    fn len(&self) -> usize {
        match self {
            View::Listed(v) => v.len(),
            View::First { len, .. } => *len,
        }
    }
    /// Which of the store's `n` events are in it, a bit each (`None`: all of the first `len`).
    fn members(&self, n: usize) -> Option<Vec<u64>> {
        match self {
            View::Listed(v) => Some(member_bits(v, n)),
            View::First { .. } => None,
        }
    }
}

/// Facets and timeline of a view.
pub struct SummaryJob {
    /// Identifies the view summarised (the UI's counter of view changes).
    pub version: u64,
    /// The events summarised.
    pub view: Viewed,
    /// Count the facets too (a table per field; only the timeline otherwise).
    pub facets: bool,
}

/// Events added after a filter run started: checked with that run's matcher, so that new
/// events are never filtered on the UI thread.
pub struct BatchJob {
    /// The filter run whose matcher checks them; the job is dropped once a newer run started
    /// (its base holds these events).
    pub generation: u64,
    /// The new events, in the order they were added.
    pub events: Vec<u32>,
}

/// How many events another filter would match: the hint that a filter of bare words that
/// matched nothing in the columns would find something in the whole records (`text:`).
pub struct CountJob {
    /// The filter run the count belongs to; dropped (or stopped) once a newer run started.
    pub generation: u64,
    /// The other filter.
    pub matcher: Matcher,
    /// The events to check.
    pub base: Arc<Vec<u32>>,
}

/// Work for the worker thread.
pub enum Job {
    /// Count what another filter would match.
    Count(CountJob),
    /// Filter the store.
    Filter(FilterJob),
    /// Check events added after a filter run started.
    Batch(BatchJob),
    /// Summarise a view.
    Summary(SummaryJob),
}

/// What the worker sends back.
pub enum WorkMsg {
    /// Matches among the next events of the base, in order. `checked` counts the base
    /// events checked so far; `done` marks the last part.
    Part {
        /// The filter run this is part of.
        generation: u64,
        /// Event indices that matched, newest first.
        matched: Vec<u32>,
        /// Base events checked so far.
        checked: usize,
        /// Base events to check in all.
        total: usize,
        /// The last part.
        done: bool,
    },
    /// The events of a [`BatchJob`] that match, in its order.
    Batch {
        /// The filter run whose matcher checked them.
        generation: u64,
        /// Event indices that matched.
        matched: Vec<u32>,
    },
    /// The answer to a [`CountJob`].
    Count {
        /// The filter run it belongs to.
        generation: u64,
        /// Events the other filter matches.
        count: usize,
    },
    /// Facets and timeline of a view.
    Summary {
        /// The view's version, as the job gave it.
        version: u64,
        /// Whether the facets were counted.
        facets: bool,
        /// The facets (empty unless counted) and the timeline.
        summary: Arc<Summary>,
    },
}

/// The facet fields, in the order the panel shows them.
/// The principal's values are ARNs where events carry one, else the principal's name (see
/// [`principal_key`]).
pub const FACETS: [(SymField, &str); 10] = [
    (SymField::Name, "event"),
    (SymField::Principal, "principal"),
    (SymField::Ip, "source ip"),
    (SymField::Error, "error"),
    (SymField::Region, "region"),
    (SymField::Source, "source"),
    (SymField::Account, "account"),
    (SymField::IdentityType, "identity type"),
    (SymField::AccessKey, "access key"),
    (SymField::Agent, "user agent"),
];

/// How many values of each facet the panel shows at first.
pub const FACET_TOP: usize = 8;
/// How many values each facet keeps (the panel shows them on demand).
pub const FACET_MORE: usize = 40;
/// Buckets of the timeline as computed; the UI sums neighbours to fit its width.
pub const TIMELINE_BUCKETS: usize = 960;

#[derive(Clone, Debug, PartialEq)]
/// The top values of one field in a view.
pub struct Facet {
    /// The field counted (not used when `rules`).
    pub field: SymField,
    /// The facet of detection rules: `top` holds rule indices (into the store's
    /// [`Detections::rules`](crate::model::detect::Detections::rules)), not symbols.
    pub rules: bool,
    /// Its label in the facets panel.
    pub label: &'static str,
    /// (value, count), most frequent first; ties by value.
    pub top: Vec<(Sym, u32)>,
    /// How many distinct values the field has in the view.
    pub distinct: usize,
}

#[derive(Clone, Debug, Default, PartialEq)]
/// Events of a view per time bucket.
pub struct Timeline {
    /// Oldest and newest event time in the view (ms).
    pub start_ms: i64,
    /// Newest event time in the view (ms).
    pub end_ms: i64,
    /// Events per bucket, oldest first.
    pub counts: Vec<u32>,
}

impl Timeline {
    /// The bucket an event time falls in.
    pub fn bucket(&self, t: i64) -> Option<usize> {
        if self.counts.is_empty() || t == NO_TIME || t < self.start_ms || t > self.end_ms {
            return None;
        }
        // In 64 bits where the product fits (for any span real events have): a 128-bit
        // division is a library call, and this runs for every event of the view.
        // (Differences of times in order: they fit in 64 unsigned bits whatever the times.)
        let off = t.wrapping_sub(self.start_ms) as u64;
        let span = (self.end_ms.wrapping_sub(self.start_ms) as u64).max(1);
        let n = self.counts.len();
        let b = match (off.checked_mul(n as u64), span.checked_add(1)) {
            (Some(x), Some(d)) => x / d,
            _ => (off as u128 * n as u128 / (span as u128 + 1)) as u64,
        };
        Some((b as usize).min(n - 1))
    }

    /// The counts regrouped into `n` columns (each the sum of its buckets).
    pub fn columns(&self, n: usize) -> Vec<u64> {
        let mut out = vec![0u64; n];
        if n == 0 || self.counts.is_empty() {
            return out;
        }
        for (i, &c) in self.counts.iter().enumerate() {
            out[i * n / self.counts.len()] += c as u64;
        }
        out
    }

    /// The column (of `n`) a bucket falls in.
    pub fn column_of(&self, bucket: usize, n: usize) -> usize {
        bucket * n / self.counts.len().max(1)
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
/// The facets and timeline of a view.
pub struct Summary {
    /// How many events the view holds.
    pub events: usize,
    /// One per [`FACETS`] field (none when facets were not asked for).
    pub facets: Vec<Facet>,
    /// The view over time.
    pub timeline: Timeline,
}

/// The events checked per part: small first, so the screen fills at once.
fn chunk_len(part: usize) -> usize {
    (2048usize << part.min(5)).min(65_536)
}

/// The background worker. Dropping it ends its thread.
pub struct Worker {
    /// Each job with the number of summaries asked for up to it.
    job_tx: Sender<(u64, Job)>,
    /// The worker's answers.
    pub result_rx: Receiver<WorkMsg>,
    /// The generation of the newest filter job.
    current: Arc<AtomicU64>,
    /// How many summaries were asked for.
    summaries: Arc<AtomicU64>,
    waker: Arc<OnceLock<Box<dyn Fn() + Send + Sync>>>,
}

impl Worker {
    /// Starts the worker thread over `store`.
    pub fn spawn(store: SharedStore, raw: Arc<RawReader>) -> Worker {
        let (job_tx, job_rx) = crossbeam_channel::unbounded::<(u64, Job)>();
        let (result_tx, result_rx) = crossbeam_channel::unbounded();
        let current = Arc::new(AtomicU64::new(0));
        let summaries = Arc::new(AtomicU64::new(0));
        let waker: Arc<OnceLock<Box<dyn Fn() + Send + Sync>>> = Arc::new(OnceLock::new());
        let (cur, sums, wk) = (current.clone(), summaries.clone(), waker.clone());
        let spawned = std::thread::Builder::new().name("filter".into()).spawn(move || {
            let send = |m: WorkMsg| {
                let ok = result_tx.send(m).is_ok();
                if let Some(w) = wk.get() {
                    w();
                }
                ok
            };
            work(&job_rx, &store, &raw, (&cur, &sums), &send);
        });
        if let Err(e) = spawned {
            // Without a thread the jobs are never answered; say why instead of hanging.
            eprintln!("trailscope: cannot start the filter thread: {e}");
        }
        Worker { job_tx, result_rx, current, summaries, waker }
    }

    /// Called after every message sent, so an event loop can wake up for it.
    pub fn set_waker(&self, w: Box<dyn Fn() + Send + Sync>) {
        let _ = self.waker.set(w);
    }

    /// Queues a job; a filter job cancels the filter running.
    pub fn submit(&self, job: Job) {
        let ticket = match &job {
            Job::Filter(f) => {
                self.current.store(f.generation, Ordering::SeqCst);
                self.summaries.load(Ordering::SeqCst)
            }
            Job::Summary(_) => self.summaries.fetch_add(1, Ordering::SeqCst) + 1,
            Job::Batch(_) | Job::Count(_) => self.summaries.load(Ordering::SeqCst),
        };
        let _ = self.job_tx.send((ticket, job));
    }
}

/// `tickets`: the newest filter generation, and how many summaries were asked for.
fn work(
    jobs: &Receiver<(u64, Job)>,
    store: &SharedStore,
    raw: &RawReader,
    (current, summaries): (&AtomicU64, &AtomicU64),
    send: &dyn Fn(WorkMsg) -> bool,
) {
    // The matcher of the last filter run, for the batches that arrive after it started.
    let mut last: Option<(u64, Matcher)> = None;
    while let Ok(first) = jobs.recv() {
        // Only the newest filter and summary matter; every batch does.
        let (mut filter, mut batches, mut summary, mut count) = (None, Vec::new(), None, None);
        for (ticket, job) in std::iter::once(first).chain(jobs.try_iter()) {
            match job {
                Job::Filter(f) => filter = Some(f),
                Job::Batch(b) => batches.push(b),
                Job::Summary(s) => summary = Some((ticket, s)),
                Job::Count(c) => count = Some(c),
            }
        }
        if let Some(mut f) = filter {
            if !run_filter(&mut f, store, raw, current, send) {
                return;
            }
            last = Some((f.generation, f.matcher));
        }
        for b in batches {
            // A batch of an older run: the newer run's base has these events.
            if b.generation != current.load(Ordering::SeqCst) {
                continue;
            }
            let Some((_, m)) = last.as_mut().filter(|(g, _)| *g == b.generation) else { continue };
            let guard = store.read();
            m.prepare(&guard);
            let matched = filter_par(m, &guard, raw, &b.events);
            drop(guard);
            if !send(WorkMsg::Batch { generation: b.generation, matched }) {
                return;
            }
        }
        if let Some(mut c) = count.filter(|c| c.generation == current.load(Ordering::SeqCst)) {
            // In slices, so that a newer filter run stops it soon.
            let guard = store.read();
            c.matcher.prepare(&guard);
            drop(guard);
            let mut n = 0;
            let mut stopped = false;
            for slice in c.base.chunks(16_384) {
                if c.generation != current.load(Ordering::SeqCst) {
                    stopped = true;
                    break;
                }
                let guard = store.read();
                n += filter_par(&c.matcher, &guard, raw, slice).len();
            }
            if !stopped && !send(WorkMsg::Count { generation: c.generation, count: n }) {
                return;
            }
        }
        if let Some((ticket, s)) = summary {
            // Given up when a newer filter or summary was asked for: the view it describes is
            // about to change. (New events do not: when they match, a summary is asked again.)
            let generation = current.load(Ordering::SeqCst);
            let newer = || current.load(Ordering::SeqCst) != generation || summaries.load(Ordering::SeqCst) != ticket;
            let Some(summary) = summarize_viewed(store, s.view.as_ref(), s.facets, &newer) else { continue };
            if !send(WorkMsg::Summary { version: s.version, facets: s.facets, summary: Arc::new(summary) }) {
                return;
            }
        }
    }
}

/// Returns false when the receiving side is gone.
fn run_filter(
    job: &mut FilterJob,
    store: &SharedStore,
    raw: &RawReader,
    current: &AtomicU64,
    send: &dyn Fn(WorkMsg) -> bool,
) -> bool {
    let (total, generation) = (job.base.len(), job.generation);
    let cancelled = || current.load(Ordering::SeqCst) != generation;
    // Many events to check: after a first part in the base's order (the list's first screen,
    // at once), check the rest in storage order (sequential memory; the base is in time
    // order, which at ten million events took four to eight times as long), then read the
    // matches off in the base's order.
    let in_storage_order = total >= SCAN_IN_STORAGE_ORDER.load(Ordering::Relaxed) && !job.matcher.needs_raw();
    let mut member = None;
    let (mut pos, mut part) = (0usize, 0usize);
    loop {
        if cancelled() {
            return true;
        }
        if part == 1 && in_storage_order {
            let whole = total == store.read().len();
            let rest = (!whole).then_some(&job.base[pos..]);
            match matches_in_storage_order(&mut job.matcher, store, raw, rest, &cancelled) {
                Some(m) => member = Some(m),
                None => return true,
            }
        }
        let end = (pos + chunk_len(part)).min(total);
        let slice = &job.base[pos..end];
        let matched = match &member {
            Some(bits) => slice
                .iter()
                .copied()
                .filter(|&i| bits.get(i as usize / 64).is_some_and(|w| w & (1 << (i % 64)) != 0))
                .collect(),
            None => {
                // Held per chunk only: the UI thread takes the write lock to add a batch.
                let guard = store.read();
                job.matcher.prepare(&guard);
                filter_par(&job.matcher, &guard, raw, slice)
            }
        };
        pos = end;
        part += 1;
        let done = pos >= total;
        if !send(WorkMsg::Part { generation: job.generation, matched, checked: pos, total, done }) {
            return false;
        }
        if done {
            return true;
        }
    }
}

/// From this many events to check on, a filter scans them in storage order (a variable so
/// that tests can take that path with a small archive; both give the same).
pub static SCAN_IN_STORAGE_ORDER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(100_000);

/// A bit per event, set when it matches; `None` when cancelled on the way. `base`: only these
/// events are checked (every event without it).
fn matches_in_storage_order(
    m: &mut Matcher,
    store: &SharedStore,
    raw: &RawReader,
    base: Option<&[u32]>,
    cancelled: &dyn Fn() -> bool,
) -> Option<Vec<u64>> {
    let n = store.read().len();
    let members = base.map(|b| member_bits(b, n));
    let mut bits = vec![0u64; n.div_ceil(64)];
    // Blocks of whole words, so each thread writes its own; the lock is taken per block.
    const BLOCK: usize = 1 << 17;
    for (b, words) in bits.chunks_mut(BLOCK / 64).enumerate() {
        if cancelled() {
            return None;
        }
        let guard = store.read();
        m.prepare(&guard);
        let ctx = super::matcher::MatchCtx { store: &guard, raw };
        // (A store emptied meanwhile has nothing left to match.)
        let events = &guard.events[..guard.events.len().min(n)];
        let first_word = b * BLOCK / 64;
        words.par_chunks_mut(64).enumerate().for_each(|(c, ws)| {
            for (k, word) in ws.iter_mut().enumerate() {
                let w = first_word + c * 64 + k;
                let start = w * 64;
                let mut todo = members.as_ref().map_or(!0, |mb| mb[w]);
                if todo == !0 {
                    for (k, ev) in events[start.min(events.len())..(start + 64).min(events.len())].iter().enumerate() {
                        if m.matches(ev, &ctx) {
                            *word |= 1 << k;
                        }
                    }
                    continue;
                }
                while todo != 0 {
                    let k = todo.trailing_zeros() as usize;
                    todo &= todo - 1;
                    if events.get(start + k).is_some_and(|ev| m.matches(ev, &ctx)) {
                        *word |= 1 << k;
                    }
                }
            }
        });
    }
    Some(bits)
}

/// A bit per event of the first `n`, set for those in `indices`.
fn member_bits(indices: &[u32], n: usize) -> Vec<u64> {
    let mut bits = vec![0u64; n.div_ceil(64)];
    for &i in indices {
        if let Some(w) = bits.get_mut(i as usize / 64) {
            *w |= 1 << (i % 64);
        }
    }
    bits
}

/// The events of `indices` that match, in order, on all cores.
pub fn filter_par(m: &Matcher, store: &EventStore, raw: &RawReader, indices: &[u32]) -> Vec<u32> {
    let ctx = super::matcher::MatchCtx { store, raw };
    if m.is_empty() {
        return indices.to_vec();
    }
    if indices.len() < 4096 {
        return m.filter(indices, &ctx);
    }
    indices.par_chunks(4096).flat_map_iter(|c| m.filter(c, &ctx)).collect()
}

/// One lane's counts: per event-own facet field and symbol, per profile, per time bucket.
struct Counts {
    own: Vec<Vec<u32>>,
    callers: Vec<u32>,
    profiles: Vec<u32>,
    buckets: Vec<u32>,
}

/// Facets and timeline of `view` (sorted newest first), in one pass split over the cores.
/// The store is locked a block of events at a time, so that the UI thread can add events
/// meanwhile without waiting for the whole pass.
pub fn summarize(store: &SharedStore, view: &[u32]) -> Summary {
    summarize_unless(store, view, true, &|| false).unwrap_or_default()
}

/// [`summarize`], given up (`None`) as soon as `abort` says so, checked between blocks: a
/// keystroke's filter must not wait for the facets of the previous filter.
pub fn summarize_unless(
    store: &SharedStore,
    view: &[u32],
    facets: bool,
    abort: &(dyn Fn() -> bool + Sync),
) -> Option<Summary> {
    summarize_viewed(store, View::Listed(view), facets, abort)
}

/// [`summarize_unless`] of a [`Viewed`].
fn summarize_viewed(
    store: &SharedStore,
    view: View<'_>,
    facets: bool,
    abort: &(dyn Fn() -> bool + Sync),
) -> Option<Summary> {
    let (sizes, mut timeline) = {
        let s = store.read();
        // A view of events that are gone (the store was emptied since it was made: the source
        // started again): there is nothing to count.
        let gone = match view {
            View::Listed(v) => v.iter().any(|&i| i as usize >= s.events.len()),
            View::First { len, .. } => len > s.events.len(),
        };
        if gone {
            return None;
        }
        view_bounds(&s, view, facets)
    };
    // Facets of caller and profile fields are counted per caller or profile and summed per
    // value at the end; the others per symbol.
    let own_facets: Vec<usize> = FACETS
        .iter()
        .filter_map(|(f, _)| match f.slot() {
            Slot::Own(i) => Some(i),
            Slot::Caller(_) | Slot::Profile(_) => None,
        })
        .collect();
    let acc = count(store, view, sizes, &own_facets, &timeline, abort)?;
    timeline.counts = acc.buckets;
    let s = store.read();
    if s.events.len() < sizes.events
        || s.syms.len() < sizes.syms
        || s.profiles.len() < sizes.profiles
        || s.callers.len() < sizes.callers
    {
        return None;
    }
    let mut own_counts = acc.own.into_iter();
    let facets = FACETS
        .iter()
        .filter(|_| facets)
        .map(|&(field, label)| {
            let nonzero: Vec<(Sym, u32)> = match field.slot() {
                Slot::Own(_) => {
                    let c = own_counts.next().unwrap_or_default();
                    c.iter().enumerate().filter(|(_, &n)| n > 0).map(|(s, &n)| (s as Sym, n)).collect()
                }
                Slot::Caller(k) => {
                    let mut by_sym: foldhash::HashMap<Sym, u32> = Default::default();
                    for (c, &n) in acc.callers.iter().enumerate().filter(|(_, &n)| n > 0) {
                        let c = &s.callers[c];
                        // The principal facet counts a principal by its ARN where the event
                        // has one, so that same-named users of different accounts stay apart.
                        let sym = if field == SymField::Principal { caller_principal_key(c) } else { c[k] };
                        *by_sym.entry(sym).or_default() += n;
                    }
                    by_sym.into_iter().collect()
                }
                Slot::Profile(k) => {
                    let mut by_sym: foldhash::HashMap<Sym, u32> = Default::default();
                    for (p, &n) in acc.profiles.iter().enumerate().filter(|(_, &n)| n > 0) {
                        *by_sym.entry(s.profiles[p][k]).or_default() += n;
                    }
                    by_sym.into_iter().collect()
                }
            };
            top_values(&s, field, label, nonzero)
        })
        .collect::<Vec<Facet>>();
    let mut facets = facets;
    // (Counted only with the other facets: without them the summary is the timeline's.)
    if let Some(f) = (!facets.is_empty()).then(|| rule_facet(&s, view)).flatten() {
        // First: during an incident, what the rules found is the first thing to look at.
        facets.insert(0, f);
    }
    Some(Summary { events: view.len(), facets, timeline })
}

/// The sizes of the counting tables: symbols, profiles (0 and 0 without facets: a table per
/// event-own field of every distinct string is megabytes at a million events), events.
#[derive(Clone, Copy)]
struct Sizes {
    syms: usize,
    callers: usize,
    profiles: usize,
    events: usize,
}

/// The counting tables' sizes, and an empty timeline over the view's time range.
fn view_bounds(s: &EventStore, view: View<'_>, facets: bool) -> (Sizes, Timeline) {
    let bounds = match view {
        View::Listed(view) => s.time_bounds(view),
        View::First { bounds, .. } => bounds,
    };
    let mut timeline = Timeline::default();
    if let Some((lo, hi)) = bounds {
        timeline = Timeline { start_ms: lo, end_ms: hi, counts: vec![0; TIMELINE_BUCKETS] };
    }
    let (syms, callers, profiles) = if facets { (s.syms.len(), s.callers.len(), s.profiles.len()) } else { (0, 0, 0) };
    (Sizes { syms, callers, profiles, events: s.events.len() }, timeline)
}

/// How [`count`] goes over the view's events.
enum Walk<'a> {
    /// The store's first `n` events in storage order: those of `member` (every one: `None`).
    Stored { n: usize, member: Option<Vec<u64>> },
    /// The view's events in its order.
    Listed(&'a [u32]),
}

/// Counts the view's events per own-field symbol, per profile and per time bucket, split
/// over the cores; `None` when `abort` said so.
fn count(
    store: &SharedStore,
    view: View<'_>,
    sizes: Sizes,
    own_facets: &[usize],
    t: &Timeline,
    abort: &(dyn Fn() -> bool + Sync),
) -> Option<Counts> {
    // Most events in the view: mark them, then read events in storage order (sequential
    // memory) instead of jumping around in time order; every event of the first `len`: read
    // them in storage order, with nothing to mark.
    let walk = match view {
        View::Listed(v) if v.len() * 8 >= sizes.events => {
            Walk::Stored { n: sizes.events, member: Some(member_bits(v, sizes.events)) }
        }
        View::Listed(v) => Walk::Listed(v),
        View::First { len, .. } => Walk::Stored { n: len, member: None },
    };
    const BLOCK: usize = 1 << 16;
    let blocks = match &walk {
        Walk::Stored { n, .. } => n.div_ceil(BLOCK),
        Walk::Listed(v) => v.len().div_ceil(BLOCK),
    };
    let lanes = rayon::current_num_threads().max(1);
    let empty = || Counts {
        own: own_facets.iter().map(|_| vec![0u32; sizes.syms]).collect(),
        callers: vec![0u32; sizes.callers],
        profiles: vec![0u32; sizes.profiles],
        buckets: vec![0u32; t.counts.len()],
    };
    let parts: Vec<Counts> = (0..lanes)
        .into_par_iter()
        .map(|lane| {
            let mut c = empty();
            for b in (lane..blocks).step_by(lanes) {
                if abort() {
                    return None;
                }
                let s = store.read();
                // The store was emptied meanwhile (the source started again: `:profile`,
                // `:region`, `r`): these counts are for events that are gone.
                if s.events.len() < sizes.events {
                    return None;
                }
                match &walk {
                    Walk::Stored { n, member } => {
                        let range = b * BLOCK..((b + 1) * BLOCK).min(*n);
                        for (ev, i) in s.events[range.clone()].iter().zip(range) {
                            if member.as_ref().is_none_or(|bits| bits[i / 64] & (1 << (i % 64)) != 0) {
                                c.add(ev, own_facets, t);
                            }
                        }
                    }
                    Walk::Listed(v) => {
                        for &i in &v[b * BLOCK..((b + 1) * BLOCK).min(v.len())] {
                            c.add(&s.events[i as usize], own_facets, t);
                        }
                    }
                }
            }
            Some(c)
        })
        .collect::<Option<Vec<_>>>()?;
    let mut parts = parts.into_iter();
    let mut acc = parts.next().unwrap_or_else(empty);
    for c in parts {
        for (a, part) in acc.own.iter_mut().zip(c.own) {
            a.iter_mut().zip(part).for_each(|(a, p)| *a += p);
        }
        acc.callers.iter_mut().zip(c.callers).for_each(|(a, p)| *a += p);
        acc.profiles.iter_mut().zip(c.profiles).for_each(|(a, p)| *a += p);
        acc.buckets.iter_mut().zip(c.buckets).for_each(|(a, p)| *a += p);
    }
    Some(acc)
}

impl Counts {
    #[inline]
    fn add(&mut self, ev: &crate::model::Event, own_facets: &[usize], t: &Timeline) {
        for (k, &i) in own_facets.iter().enumerate() {
            if let Some(n) = self.own[k].get_mut(ev.own[i] as usize) {
                *n += 1;
            }
        }
        if let Some(n) = self.callers.get_mut(ev.caller as usize) {
            *n += 1;
        }
        if let Some(n) = self.profiles.get_mut(ev.profile as usize) {
            *n += 1;
        }
        if let Some(b) = t.bucket(ev.time()) {
            self.buckets[b] += 1;
        }
    }
}

/// What the principal facet counts a caller under: its ARN, else its principal's name.
fn caller_principal_key(c: &crate::model::Caller) -> Sym {
    // The caller's fields are the first of the symbol fields, at their own indices.
    const ARN: usize = SymField::Arn as usize;
    const PRINCIPAL: usize = SymField::Principal as usize;
    if c[ARN] != crate::model::EMPTY {
        c[ARN]
    } else {
        c[PRINCIPAL]
    }
}

/// What the principal facet counts an event under: its ARN, else its principal's name.
pub fn principal_key(store: &EventStore, ev: &crate::model::Event) -> Sym {
    store.callers.get(ev.caller as usize).map_or(crate::model::EMPTY, caller_principal_key)
}

/// The facet of `field`: its most frequent values (most first, ties by text), and how many
/// distinct values there were.
fn top_values(s: &EventStore, field: SymField, label: &'static str, mut nonzero: Vec<(Sym, u32)>) -> Facet {
    let distinct = nonzero.len();
    let by_count = |a: &(Sym, u32), b: &(Sym, u32)| b.1.cmp(&a.1).then_with(|| s.syms.get(a.0).cmp(s.syms.get(b.0)));
    if nonzero.len() > FACET_MORE {
        // The most frequent values, ties broken by their text, as sorting them all would
        // choose; the text is looked at only for the values tied with the last one kept (a
        // look-up of a value's text misses the cache: with every value of a long tail compared
        // by text, choosing took two thirds of the facets' time at a million events).
        let (_, &mut (_, last), _) = nonzero.select_nth_unstable_by(FACET_MORE - 1, |a, b| b.1.cmp(&a.1));
        let mut top: Vec<(Sym, u32)> = nonzero.iter().filter(|v| v.1 > last).copied().collect();
        let need = FACET_MORE - top.len();
        // Tied: first by the text's first eight bytes, taken once per value.
        let mut tied: Vec<(u64, Sym)> = nonzero
            .iter()
            .filter(|v| v.1 == last)
            .map(|v| {
                let text = s.syms.get(v.0).as_bytes();
                let mut head = [0u8; 8];
                let n = text.len().min(8);
                head[..n].copy_from_slice(&text[..n]);
                (u64::from_be_bytes(head), v.0)
            })
            .collect();
        let by_text = |a: &(u64, Sym), b: &(u64, Sym)| a.0.cmp(&b.0).then_with(|| s.syms.get(a.1).cmp(s.syms.get(b.1)));
        if tied.len() > need {
            tied.select_nth_unstable_by(need - 1, by_text);
            tied.truncate(need);
        }
        top.extend(tied.into_iter().map(|(_, sym)| (sym, last)));
        nonzero = top;
    }
    nonzero.sort_by(by_count);
    Facet { field, rules: false, label, top: nonzero, distinct }
}

/// The "rule" facet: events of `view` per detection rule, most first; `None` without rules.
fn rule_facet(s: &EventStore, view: View<'_>) -> Option<Facet> {
    let d = &s.detections;
    if d.rules.is_empty() {
        return None;
    }
    let mut counts = vec![0u32; d.rules.len()];
    let mut count = |rules: &[u16]| {
        for &r in rules {
            if let Some(c) = counts.get_mut(r as usize) {
                *c += 1;
            }
        }
    };
    // The matched events (fewer than the view, mostly) in the view: one pass over each, not
    // a look-up per event of the view.
    let in_view = view.members(s.len());
    let first = view.len();
    for (i, rules) in d.iter() {
        let member = match &in_view {
            Some(bits) => bits.get(i as usize / 64).is_some_and(|w| w & (1 << (i % 64)) != 0),
            None => (i as usize) < first,
        };
        if member {
            count(rules);
        }
    }
    let mut top: Vec<(Sym, u32)> =
        counts.into_iter().enumerate().filter(|(_, n)| *n > 0).map(|(r, n)| (r as Sym, n)).collect();
    let distinct = top.len();
    let title = |r: Sym| d.rules.get(r as usize).map_or("", |x| x.title.as_str());
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| title(a.0).cmp(title(b.0))));
    top.truncate(FACET_MORE);
    Some(Facet { field: SymField::Name, rules: true, label: "rule", top, distinct })
}

/// Whether every event matching `new` also matches `old`, judged from the text of the two
/// queries: `new` keeps each term of `old` or narrows it (a longer substring or bare word,
/// an added term). Then filtering `old`'s matches gives `new`'s.
pub fn narrows(old: &super::Query, new: &super::Query) -> bool {
    use super::{Op, TermKind};
    if old.terms.len() > new.terms.len() {
        return false;
    }
    old.terms.iter().zip(&new.terms).all(|(o, n)| {
        if o == n {
            return true;
        }
        if o.negated || n.negated {
            return false;
        }
        match (&o.kind, &n.kind) {
            (TermKind::Bare(a), TermKind::Bare(b)) => {
                // A fuzzy word matches what contains it or spells it at word starts; a word
                // with more letters appended matches only a subset of that.
                b.to_lowercase().starts_with(&a.to_lowercase())
            }
            (
                TermKind::Match { field: fa, op: Op::Contains, value: a },
                TermKind::Match { field: fb, op: Op::Contains, value: b },
            ) => fa == fb && !a.contains('*') && !b.contains('*') && b.to_lowercase().contains(&a.to_lowercase()),
            _ => false,
        }
    })
}

/// The symbol a facet value stands for, for tests and the panel.
pub fn facet_value(store: &EventStore, s: Sym) -> &str {
    if s == EMPTY {
        ""
    } else {
        store.syms.get(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_values_are_the_most_frequent_ties_by_text_as_a_full_sort_chooses() {
        let mut interner = crate::model::intern::Interner::default();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // Texts that share their first eight bytes, are prefixes of each other, hold NUL and
        // bytes above 0x7f; counts with long runs of ties.
        let stems = ["arn:aws:iam::1", "arn:aws:iam::2", "10.0.0.", "ab", "ab\0", "é", ""];
        let syms: Vec<Sym> = (0..3000)
            .map(|i| {
                let stem = stems[i % stems.len()];
                let text = format!("{stem}{}", if i % 5 == 0 { String::new() } else { (next() % 997).to_string() });
                interner.intern(&format!("{text}#{i}"))
            })
            .collect();
        let mut store = EventStore::default();
        store.syms.extend(interner.take_new());
        for spread in [1, 3, 50, 100_000] {
            let nonzero: Vec<(Sym, u32)> = syms.iter().map(|&s| (s, 1 + (next() % spread) as u32)).collect();
            for n in [10, FACET_MORE, FACET_MORE + 1, 500, 3000] {
                let values = nonzero[..n].to_vec();
                let mut want = values.clone();
                want.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| store.syms.get(a.0).cmp(store.syms.get(b.0))));
                want.truncate(FACET_MORE);
                let got = top_values(&store, SymField::Ip, "source ip", values);
                assert_eq!(got.top, want, "spread {spread}, {n} values");
                assert_eq!(got.distinct, n);
            }
        }
    }

    fn q(s: &str) -> super::super::Query {
        super::super::parse(s, 0).unwrap()
    }

    #[test]
    fn narrowing_is_judged_conservatively() {
        assert!(narrows(&q(""), &q("name:Del")));
        assert!(narrows(&q("name:Del"), &q("name:Dele")));
        assert!(narrows(&q("name:Del"), &q("name:Del user:bob")));
        assert!(narrows(&q("del"), &q("dels")));
        assert!(!narrows(&q("name:Del"), &q("name:De")));
        assert!(!narrows(&q("-name:Del"), &q("-name:Dele")));
        assert!(!narrows(&q("name:=Del"), &q("name:=Dele")));
        assert!(!narrows(&q("name:D*"), &q("name:D*x")));
        assert!(!narrows(&q("name:Del"), &q("user:Del")));
        assert!(!narrows(&q("name:Del user:x"), &q("name:Del")));
        // "dsg" spells DeleteSecurityGroup's word starts; "dsgx" cannot match more.
        assert!(narrows(&q("dsg"), &q("dsgx")));
        // Inserting a letter in the middle of a fuzzy word is not a narrowing.
        assert!(!narrows(&q("dsg"), &q("desg")));
    }

    fn store(n: usize) -> SharedStore {
        use crate::model::{Event, RawLoc};
        let events = (0..n)
            .map(|i| Event { loc: RawLoc::new(0, i as u32), ..Event::default() }.timed(i as i64 * 1000))
            .collect();
        let s = SharedStore::default();
        *s.write() = EventStore {
            events,
            profiles: [Default::default()].into_iter().collect(),
            callers: [Default::default()].into_iter().collect(),
            ..Default::default()
        };
        s
    }

    #[test]
    fn every_event_is_summarised_as_its_listed_order_is() {
        use crate::model::{Event, RawLoc, NO_TIME};
        let n = 150_000usize;
        let time = |i: usize| if i % 1000 == 7 { NO_TIME } else { (i as i64 * 7919) % 1_000_003 * 1000 };
        let events = (0..n)
            .map(|i| {
                Event {
                    profile: (i % 3) as u32,
                    caller: (i % 2) as u32,
                    loc: RawLoc::new(0, i as u32),
                    ..Event::default()
                }
                .timed(time(i))
            })
            .collect();
        let s = SharedStore::default();
        *s.write() = EventStore {
            events,
            profiles: [Default::default(); 3].into_iter().collect(),
            callers: [Default::default(); 2].into_iter().collect(),
            ..Default::default()
        };
        // Newest first, unknown times last, as the list orders them.
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by_key(|&i| std::cmp::Reverse((time(i as usize) != NO_TIME, time(i as usize), i)));
        let timed = || order.iter().map(|&i| time(i as usize)).filter(|&t| t != NO_TIME);
        let bounds = timed().next_back().zip(timed().next());
        for facets in [false, true] {
            let listed = summarize_unless(&s, &order, facets, &|| false).expect("listed");
            let first = summarize_viewed(&s, View::First { len: n, bounds }, facets, &|| false).expect("first");
            assert_eq!(first, listed, "facets {facets}");
            assert_eq!(first.events, n);
            assert_eq!(first.timeline.counts.iter().map(|&c| c as usize).sum::<usize>(), n - n / 1000);
        }
        // Fewer than the store holds (events added since the view was told): only those.
        let part = summarize_viewed(&s, View::First { len: 1000, bounds }, false, &|| false).expect("part");
        assert_eq!(part.timeline.counts.iter().map(|&c| c as usize).sum::<usize>(), 999);
        // More than it holds (the store was emptied since): nothing.
        assert!(summarize_viewed(&s, View::First { len: n + 1, bounds }, false, &|| false).is_none());
    }

    #[test]
    fn a_store_emptied_while_its_view_is_counted_is_no_panic() {
        let s = store(200_000);
        let view: Vec<u32> = (0..200_000u32).rev().collect();
        assert!(summarize_unless(&s, &view, false, &|| false).is_some());
        // Emptied between the view and its summary (a source started again): nothing to count.
        let emptied = store(0);
        assert!(summarize_unless(&emptied, &view, false, &|| false).is_none());
        // Emptied while the blocks are counted.
        let cleared = std::sync::atomic::AtomicBool::new(false);
        let during = || {
            if !cleared.swap(true, std::sync::atomic::Ordering::SeqCst) {
                *s.write() = EventStore::default();
            }
            false
        };
        assert!(summarize_unless(&s, &view, false, &during).is_none());
    }

    #[test]
    fn timeline_columns_keep_every_event() {
        let t = Timeline { start_ms: 0, end_ms: 999, counts: (0..TIMELINE_BUCKETS as u32).collect() };
        let total: u64 = t.counts.iter().map(|&c| c as u64).sum();
        for n in [1, 7, 80, 119, 960, 2000] {
            assert_eq!(t.columns(n).iter().sum::<u64>(), total, "{n} columns");
        }
        assert_eq!(t.bucket(0), Some(0));
        assert_eq!(t.bucket(999), Some(TIMELINE_BUCKETS - 1));
        assert_eq!(t.bucket(1000), None);
    }

    #[test]
    fn buckets_are_those_of_exact_arithmetic_over_any_span() {
        let exact = |t: &Timeline, at: i64| {
            let span = (t.end_ms as i128 - t.start_ms as i128).max(1);
            let b = (at as i128 - t.start_ms as i128) * t.counts.len() as i128 / (span + 1);
            (b as usize).min(t.counts.len() - 1)
        };
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let spans =
            [(0, 1), (0, 999), (1_700_000_000_000, 1_800_000_000_000), (-5, i64::MAX), (i64::MIN + 1, i64::MAX)];
        for (start, end) in spans {
            for len in [1, 7, TIMELINE_BUCKETS] {
                let t = Timeline { start_ms: start, end_ms: end, counts: vec![0; len] };
                let width = (end as i128 - start as i128) as u128;
                let inside = (0..2000).map(|_| (start as i128 + (next() as u128 % (width + 1)) as i128) as i64);
                for at in [start, end].into_iter().chain(inside) {
                    assert_eq!(t.bucket(at), Some(exact(&t, at)), "{at} in {start}..={end}, {len} buckets");
                }
            }
        }
    }
}
