//! The live source's loop: queries in, pages out through the shared ingest, the store kept
//! in step.

use super::client::{connect, region_clients, RegionClient};
use super::fetch::{FetchNote, Page, RegionFetch};
use super::store::{from_store, offline_regions, LiveStore};
use super::{scope_of, LiveCmd, LiveConfig, LiveError, LiveQuery, LiveStatus, RegionStatus};
use crate::cache::coverage::{self, TimeSpan};
use crate::cache::{Committed, LookupKey, PageFetch};
use crate::model::raw::{RawReader, SourceFile};
use crate::source::{Coverage, Ingest, LoadStats, Problem, SourceMsg};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Runs the live source until the command channel closes (TUI) or, with `until_done`, until
/// the first query has fetched everything (print). Pages stream to `emit` as batches.
///
/// With a store, each query first reads what the store has for its window, then fetches only
/// the spans the store does not cover (nothing, when it covers all); every fetched page is
/// committed with the span it completes. `--offline` stops after the store.
pub async fn run_live(
    cfg: LiveConfig,
    raw: Arc<RawReader>,
    mut cmds: mpsc::UnboundedReceiver<LiveCmd>,
    hungry: watch::Receiver<bool>,
    until_done: bool,
    emit: &mut dyn FnMut(SourceMsg),
) -> Result<(), LiveError> {
    let store = LiveStore::open(&cfg);
    let scope = scope_of(&cfg);
    let (regions, clients) = if cfg.offline {
        if store.store.is_none() {
            return Err(LiveError::OfflineWithoutCache { why: store.notes.join("; ") });
        }
        (offline_regions(&cfg, store.store.as_ref(), &scope)?, Vec::new())
    } else {
        let (sdk, regions) = connect(&cfg).await?;
        let clients = region_clients(&sdk, &regions, &cfg);
        (regions, clients)
    };
    let (note_tx, mut note_rx) = mpsc::unbounded_channel::<FetchNote>();
    let mut session = Session {
        category: if cfg.insights { "insight" } else { "management" },
        cfg,
        scope,
        regions,
        clients,
        store,
        ingest: Ingest::new(&raw),
        stats: LoadStats::default(),
        note_tx,
        cancel_tx: watch::channel(0u64).0,
        hungry,
        status: LiveStatus::default(),
        recent: VecDeque::new(),
        current: None,
        lookups: Vec::new(),
        fetches: Vec::new(),
        covered: Vec::new(),
        fetched_at: 0,
    };
    let mut open = true;
    loop {
        tokio::select! {
            cmd = cmds.recv(), if open => match cmd {
                Some(LiveCmd::Query { generation, query }) => {
                    session.start(generation, &query, emit);
                    if session.status.done && until_done {
                        break;
                    }
                }
                Some(LiveCmd::Cancel) => session.cancel(emit),
                None => {
                    open = false;
                    if !until_done {
                        break;
                    }
                }
            },
            Some(note) = note_rx.recv() => {
                if session.take_note(note, emit) && until_done {
                    break;
                }
            }
        }
    }
    emit(SourceMsg::Done(session.stats));
    Ok(())
}

/// A live source between queries: its connection, its store, what the current query has done.
struct Session<'a> {
    cfg: LiveConfig,
    scope: String,
    category: &'static str,
    regions: Vec<String>,
    /// Per region (none offline).
    clients: Vec<RegionClient>,
    store: LiveStore,
    ingest: Ingest<'a>,
    stats: LoadStats,
    note_tx: mpsc::UnboundedSender<FetchNote>,
    /// Fetches of generations up to this one stop.
    cancel_tx: watch::Sender<u64>,
    hungry: watch::Receiver<bool>,
    status: LiveStatus,
    /// When the last requests were sent, for the rate.
    recent: VecDeque<Instant>,
    current: Option<u64>,
    /// Per region of the current query: its lookup in the store.
    lookups: Vec<Option<i64>>,
    /// Per region: the window being fetched, as it commits its pages to the store.
    fetches: Vec<Option<PageFetch>>,
    /// Per region of the current query: the parts of its window delivered completely.
    covered: Vec<Vec<TimeSpan>>,
    /// When the current query's window was frozen.
    fetched_at: i64,
}

impl Session<'_> {
    /// Starts a query: what the store has first, then a fetch per region of what it lacks.
    fn start(&mut self, generation: u64, query: &LiveQuery, emit: &mut dyn FnMut(SourceMsg)) {
        self.cancel_tx.send_replace(generation.saturating_sub(1));
        self.current = Some(generation);
        self.fetched_at = crate::model::time::now_ms();
        self.status = LiveStatus {
            generation,
            regions: self.regions.iter().map(|r| RegionStatus { region: r.clone(), ..Default::default() }).collect(),
            offline: self.cfg.offline,
            ..Default::default()
        };
        self.lookups = vec![None; self.regions.len()];
        self.fetches = vec![None; self.regions.len()];
        self.covered = vec![Vec::new(); self.regions.len()];
        let window = TimeSpan::new(query.start_ms, query.end_ms);
        for i in 0..self.regions.len() {
            let (windows, missing) = self.read_store(i, query, emit);
            // What the store had (offline), bar what has to be fetched again (online).
            let lacking = if self.cfg.offline { missing } else { windows.clone() };
            self.cover(i, coverage::subtract(window, lacking), emit);
            let r = &mut self.status.regions[i];
            r.fetching = windows.iter().map(|w| (w.start, w.end)).collect();
            if self.cfg.offline || windows.is_empty() {
                r.done = true;
                continue;
            }
            let client = &self.clients[i];
            let fetch = RegionFetch {
                client: client.client.clone(),
                pacer: client.pacer.clone(),
                region: self.regions[i].clone(),
                region_idx: i,
                profile: self.cfg.profile.clone(),
                insights: self.cfg.insights,
            };
            tokio::spawn(fetch.run(
                query.clone(),
                windows,
                generation,
                self.hungry.clone(),
                self.cancel_tx.subscribe(),
                self.note_tx.clone(),
            ));
        }
        self.status.cache_notes = self.store.notes.clone();
        self.status.done = self.status.regions.iter().all(|r| r.done);
        emit(SourceMsg::Live(self.status.clone()));
    }

    /// Hands over what the store has for region `i`'s window; what is left to fetch, newest
    /// first (the whole window without a store), and what the store does not hold at all.
    fn read_store(
        &mut self,
        i: usize,
        query: &LiveQuery,
        emit: &mut dyn FnMut(SourceMsg),
    ) -> (Vec<TimeSpan>, Vec<TimeSpan>) {
        let window = TimeSpan::new(query.start_ms, query.end_ms);
        let Some(s) = self.store.store.as_ref() else {
            return (vec![window], vec![window]);
        };
        let region = &self.regions[i];
        let key = LookupKey {
            scope: self.scope.clone(),
            region: region.clone(),
            category: self.category.to_string(),
            attr_key: query.server.as_ref().map_or(String::new(), |(a, _)| a.wire_name().to_string()),
            attr_value: query.server.as_ref().map_or(String::new(), |(_, v)| v.clone()),
        };
        let all = LookupKey { attr_key: String::new(), attr_value: String::new(), ..key.clone() };
        let all = (all != key).then_some(all);
        let (ingest, stats, status) = (&mut self.ingest, &mut self.stats, &mut self.status);
        let read = from_store(s, &key, all.as_ref(), window, !self.cfg.offline, &mut |body, n| {
            take_body(ingest, stats, format!("cache {region}"), body, emit);
            status.cached += n;
            status.regions[i].cached += n;
        });
        match read {
            Ok(r) => {
                self.lookups[i] = r.lookup;
                if self.cfg.offline {
                    for m in &r.missing {
                        emit(SourceMsg::Problem(Problem {
                            input: format!("cache {}", crate::sanitize::sanitize(region)),
                            reason: format!("offline: {} is not in the cache", coverage::describe(*m)),
                            skipped: false,
                        }));
                    }
                }
                (r.gaps, r.missing)
            }
            Err(e) => {
                self.store.failed("reading the cache", e);
                (vec![window], vec![window])
            }
        }
    }

    /// Stops the current query's fetches.
    fn cancel(&mut self, emit: &mut dyn FnMut(SourceMsg)) {
        let Some(g) = self.current else { return };
        self.cancel_tx.send_replace(g);
        for r in self.status.regions.iter_mut().filter(|r| !r.done) {
            r.waiting = None;
            r.error = Some("cancelled".into());
            r.done = true;
        }
        self.status.done = true;
        emit(SourceMsg::Live(self.status.clone()));
    }

    /// Takes what a region's fetch reports; whether the query is now done.
    fn take_note(&mut self, note: FetchNote, emit: &mut dyn FnMut(SourceMsg)) -> bool {
        if Some(note.generation()) != self.current {
            return false;
        }
        match note {
            FetchNote::Request { region_idx, .. } => self.count_request(region_idx),
            FetchNote::Waiting { region_idx, what, .. } => {
                self.status.regions[region_idx].waiting = what;
                self.status.regions[region_idx].requesting_since = None;
            }
            FetchNote::Failed { region_idx, error, .. } => {
                let r = &mut self.status.regions[region_idx];
                r.error = Some(error.clone());
                r.waiting = None;
                r.requesting_since = None;
                r.done = true;
                emit(SourceMsg::Problem(Problem {
                    input: format!("LookupEvents {}", r.region),
                    reason: error,
                    skipped: true,
                }));
            }
            FetchNote::Page(p) => self.take_page(p, emit),
        }
        self.status.done = self.status.regions.iter().all(|r| r.done);
        emit(SourceMsg::Live(self.status.clone()));
        self.status.done
    }

    fn count_request(&mut self, region_idx: usize) {
        self.status.regions[region_idx].requesting_since = Some(Instant::now());
        self.status.requests += 1;
        let now = Instant::now();
        self.recent.push_back(now);
        while self.recent.front().is_some_and(|t| now.duration_since(*t) > Duration::from_secs(10)) {
            self.recent.pop_front();
        }
        // Requests per second over the last ten seconds (intervals, not requests).
        let span = self.recent.front().map_or(0.0, |t| now.duration_since(*t).as_secs_f64());
        self.status.rate = if span > 0.0 { (self.recent.len() - 1) as f64 / span } else { 0.0 };
    }

    /// A fetched page: into the store first (what is shown has been kept), then to the consumer.
    fn take_page(&mut self, p: Page, emit: &mut dyn FnMut(SourceMsg)) {
        let done = coverage::after_page(p.window, p.oldest_ms, p.window_last);
        if let (Some(s), Some(lookup)) = (self.store.store.as_mut(), self.lookups[p.region_idx]) {
            let slot = &mut self.fetches[p.region_idx];
            if slot.as_ref().is_none_or(|f| f.window() != p.window) {
                *slot = Some(PageFetch::new(lookup, p.window, self.fetched_at));
            }
            if let Some(f) = slot.as_mut() {
                match s.commit_page(f, &self.regions[p.region_idx], &p.stored, p.oldest_ms, p.window_last) {
                    Ok(Committed::Kept { .. }) => {}
                    Ok(Committed::Full) => self.store.note_once(&format!(
                        "the cache is at its size limit ({:.1} MiB): the older events of this query are not kept \
                         (--cache-max-size)",
                        self.cfg.cache.as_ref().map_or(0.0, |c| c.max_bytes as f64 / (1u64 << 20) as f64)
                    )),
                    Ok(Committed::Cleared) => {
                        self.store.note_once("the cache was cleared during the fetch: the rest is not kept")
                    }
                    Err(e) => self.store.failed("writing to the cache", e),
                }
                self.status.cache_notes = self.store.notes.clone();
            }
        }
        let r = &mut self.status.regions[p.region_idx];
        r.requesting_since = None;
        r.pages += 1;
        r.events += p.events;
        r.oldest_ms = p.oldest_ms.or(r.oldest_ms);
        r.done |= p.last;
        self.status.scanned += p.events;
        let name = format!("LookupEvents {} page {}", r.region, r.pages);
        take_body(&mut self.ingest, &mut self.stats, name, p.body, emit);
        if let Some(done) = done {
            let mut spans = self.covered[p.region_idx].clone();
            spans.push(done);
            self.cover(p.region_idx, spans, emit);
        }
    }

    /// Region `i` has delivered `spans` of its window completely (besides what it said before).
    fn cover(&mut self, i: usize, spans: Vec<TimeSpan>, emit: &mut dyn FnMut(SourceMsg)) {
        let (Some(first), Some(last)) = (spans.iter().map(|s| s.start).min(), spans.iter().map(|s| s.end).max()) else {
            return;
        };
        // The union, in order: what is not missing from the spans' own extent.
        let extent = TimeSpan::new(first, last);
        let union = coverage::subtract(extent, coverage::subtract(extent, spans));
        if union != self.covered[i] {
            self.covered[i] = union.clone();
            let part = format!("LookupEvents {}", self.regions[i]);
            emit(SourceMsg::Coverage(Coverage { part, spans: union }));
        }
    }
}

/// Reads a lookup-events body (a page, or events from the store) as an input of its own and
/// hands its events over at once.
fn take_body(ingest: &mut Ingest, stats: &mut LoadStats, name: String, body: Vec<u8>, emit: &mut dyn FnMut(SourceMsg)) {
    let file = ingest.add_file(SourceFile::in_memory(0, &name, body));
    emit(SourceMsg::Files(vec![file.clone()]));
    stats.files_total += 1;
    ingest.take_file(&file, false, stats, emit);
    if let Some(b) = ingest.flush() {
        emit(SourceMsg::Batch(b, stats.clone()));
    }
}
