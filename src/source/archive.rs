//! The archive loader: discovery beside parallel parsing, results taken in file order,
//! streamed to the consumer, the archive index written at the end.

use super::discover::{discover_into, Found};
use super::index::{open_index, IndexWrites};
use super::ingest::Ingest;
use super::s3::layout::{wanted_local, Window};
use super::split::Part;
use super::stored;
use super::worker::{process_part, FileOutcome, Reading};
use super::{Coverage, LoadOptions, LoadStats, Problem, SourceMsg};
use crate::model::raw::{RawReader, SourceFile};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// When the coordinator last handed a batch over, and how many inputs (or parts of one) that
/// batch covered.
struct HandOver {
    last: Option<Instant>,
    sent_done: usize,
    interval: Duration,
}

impl HandOver {
    fn maybe(&mut self, coord: &mut Ingest, stats: &LoadStats, taken: usize, emit: &mut dyn FnMut(SourceMsg)) {
        // A consumer merges each batch into what it holds (the TUI's list of every event, in
        // time order), which takes longer the more it holds: past a million events, batches
        // come less often, in proportion, up to twice a second.
        let scale = (stats.events as f64 / 1e6).clamp(1.0, 10.0);
        let interval = self.interval.mul_f64(scale).min(self.interval.max(Duration::from_millis(500)));
        let due = self.last.is_none_or(|t| t.elapsed() >= interval);
        if due && taken > self.sent_done {
            self.sent_done = taken;
            emit(SourceMsg::Batch(coord.flush().unwrap_or_default(), stats.clone()));
            self.last = Some(Instant::now());
        }
    }
}

/// How many units per worker before it one is asked of the disk (see
/// [`SourceFile::will_need`]): past what the workers and the queue to the coordinator hold.
const READ_AHEAD_UNITS: usize = 4;

/// Inputs as discovery finds them, shared by the discovering thread, the workers that read
/// them in order and the coordinator that announces them.
#[derive(Default)]
struct Discovered {
    state: std::sync::Mutex<DiscoveredState>,
    more: std::sync::Condvar,
    /// Big JSON Lines files are split into parts of about this size (0: none is).
    part_bytes: usize,
    /// The id of the first input found: inputs sent before (a stored load read back) come first.
    first_id: u32,
}

/// What the workers read, in order: an input, or one part of a split one.
type Unit = (Arc<SourceFile>, Option<Part>);

#[derive(Default)]
struct DiscoveredState {
    files: Vec<Arc<SourceFile>>,
    units: Vec<Unit>,
    problems: Vec<Problem>,
    /// How many files and problems the coordinator has announced.
    sent_files: usize,
    sent_problems: usize,
    /// Log files left out because their delivery times put them outside the window.
    outside: usize,
    done: bool,
}

impl Discovered {
    fn lock(&self) -> std::sync::MutexGuard<'_, DiscoveredState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs the search, publishing files in small groups (the first at once); log files whose
    /// names' delivery times cannot hold an event of `window` are counted, not published.
    fn run(&self, search: &Search<'_>, window: Option<Window>) {
        /// Ends the search however this returns, so that no worker waits for more forever.
        struct Finish<'a>(&'a Discovered);
        impl Drop for Finish<'_> {
            fn drop(&mut self) {
                self.0.lock().done = true;
                self.0.more.notify_all();
            }
        }
        let _finish = Finish(self);
        const GROUP: usize = 64;
        let mut files = Vec::new();
        let mut first = true;
        // Ids are the order of publishing, whatever the search numbered.
        let mut next_id = self.first_id;
        search(&mut |f| match f {
            Found::File(f) if window.is_some_and(|w| !wanted_local(&f.path, &w)) => self.lock().outside += 1,
            Found::File(mut f) => {
                f.id = next_id;
                next_id += 1;
                // Content already in memory (an object fetched from a server) came slowly and is
                // ready: it is not held back for a group.
                let ready = f.memory.get().is_some();
                files.push(Arc::new(f));
                if first || ready || files.len() >= GROUP {
                    first = false;
                    self.publish(&mut files);
                }
            }
            Found::Problem(p) => self.lock().problems.push(p),
        });
        self.publish(&mut files);
    }

    /// Makes `files` (the next ones found, in order) available to the workers, a big JSON
    /// Lines file, trail log or array as its parts: a trail log's or array's as they are
    /// found, the first while the rest of the file is still being planned.
    fn publish(&self, files: &mut Vec<Arc<SourceFile>>) {
        let mut units = Vec::with_capacity(files.len());
        let mut announced = 0;
        for (i, f) in files.iter().enumerate() {
            if self.part_bytes == 0 {
                units.push((f.clone(), None));
                continue;
            }
            if let Some(parts) = super::split::plan(f, self.part_bytes) {
                units.extend(parts.into_iter().map(|p| (f.clone(), Some(p))));
                continue;
            }
            if super::split::elements_candidate(f, self.part_bytes) {
                self.push(&files[announced..=i], std::mem::take(&mut units));
                announced = i + 1;
                let split = super::split::plan_elements(f, self.part_bytes, &mut |p| {
                    self.push(&[], vec![(f.clone(), Some(p))]);
                });
                if split {
                    continue;
                }
            }
            units.push((f.clone(), None));
        }
        self.push(&files[announced..], units);
        files.clear();
    }

    /// Appends inputs found and units to read, and wakes the workers.
    fn push(&self, files: &[Arc<SourceFile>], mut units: Vec<Unit>) {
        let mut st = self.lock();
        st.files.extend_from_slice(files);
        st.units.append(&mut units);
        drop(st);
        self.more.notify_all();
    }

    /// The `i`th unit to read if it is found already.
    fn found(&self, i: usize) -> Option<Unit> {
        self.lock().units.get(i).cloned()
    }

    /// The `i`th unit to read, once found; `None` when the search ended with fewer.
    fn get(&self, i: usize) -> Option<Unit> {
        let mut st = self.lock();
        loop {
            if let Some(u) = st.units.get(i) {
                return Some(u.clone());
            }
            if st.done {
                return None;
            }
            st = self.more.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Announces what was found since the last call: problems, then files (ids in order).
    fn hand_over(&self, coord: &mut Ingest, stats: &mut LoadStats, emit: &mut dyn FnMut(SourceMsg)) {
        let mut st = self.lock();
        let problems: Vec<Problem> = st.problems[st.sent_problems..].to_vec();
        let files: Vec<Arc<SourceFile>> = st.files[st.sent_files..].to_vec();
        (st.sent_problems, st.sent_files) = (st.problems.len(), st.files.len());
        stats.files_total = self.first_id as usize + st.files.len();
        stats.outside_window = st.outside;
        stats.discovering = !st.done;
        drop(st);
        for p in problems {
            emit(SourceMsg::Problem(p));
        }
        if !files.is_empty() {
            coord.files.extend(files.iter().cloned());
            emit(SourceMsg::Files(files));
        }
    }
}

/// What an archive's coverage is reported as coming from: its inputs (the first few).
fn archive_part(inputs: &[String]) -> String {
    let mut named: Vec<String> = inputs.iter().take(3).map(|i| crate::sanitize::sanitize(i).into_owned()).collect();
    if inputs.len() > 3 {
        named.push(format!("and {} more", inputs.len() - 3));
    }
    format!("archive {}", named.join(", "))
}

/// Loads every input: discovery, then parallel parsing with results taken in file order
/// (so event order and de-duplication are deterministic), streaming to `emit`.
///
/// With a cache, a complete load is also stored whole (see [`super::stored`]); when one is
/// stored for these inputs, every input is found first, and when its files are all found
/// unchanged, it is sent again instead of loading them, and the files added since (if any) are
/// loaded after it.
pub fn load(inputs: &[String], opts: &LoadOptions, raw: &RawReader, emit: &mut dyn FnMut(SourceMsg)) -> LoadStats {
    let on_disk = inputs.iter().any(|i| i != "-");
    let part = archive_part(inputs);
    let (Some(cfg), Some(name)) = (opts.cache.as_ref(), stored::name(inputs, opts)) else {
        return load_found(&|sink| discover_into(inputs, sink), part, on_disk, opts, raw, emit);
    };
    let (found, resumed, mut recorder) = match stored::start(inputs, cfg, &name, opts.withdrawable, emit) {
        stored::Start::Sent(stats) => return stats,
        stored::Start::Load { found, resumed, recorder } => (found, resumed, recorder),
    };
    // What was found already is read, not searched for again.
    let found = std::sync::Mutex::new(found);
    let search = |sink: &mut dyn FnMut(Found)| match found.lock().unwrap_or_else(|p| p.into_inner()).take() {
        Some(all) => all.into_iter().for_each(sink),
        None => discover_into(inputs, sink),
    };
    let mut send = |m: SourceMsg| {
        if let Some(r) = recorder.as_mut() {
            r.record(&m);
        }
        emit(m)
    };
    let stats = match resumed {
        Some(resumed) => {
            let stored::Resumed { stats, prior, files, added } = *resumed;
            let read_back = stats.events;
            let stats = LoadStats { discovering: true, ..stats };
            let coord = Ingest::resume(raw, prior);
            let stats = load_after(&search, part, on_disk, opts, coord, stats, &mut send);
            send(stored::read_back_info(read_back, files, added));
            stats
        }
        None => load_found(&search, part, on_disk, opts, raw, &mut send),
    };
    if let Some(r) = recorder {
        r.finish(cfg, &name, emit);
    }
    stats
}

/// Finds inputs and hands each to its sink as soon as it is found (see [`discover_into`]).
pub type Search<'a> = dyn Fn(&mut dyn FnMut(Found)) + Sync + 'a;

/// [`load`] of the inputs that `search` finds (files on disk, objects fetched from a server,
/// content in memory), read and parsed by the same workers as they come. `part` names them in
/// the coverage reported; `on_disk`: some inputs may be files, for which the archive index is
/// worth opening.
pub fn load_found(
    search: &Search<'_>,
    part: String,
    on_disk: bool,
    opts: &LoadOptions,
    raw: &RawReader,
    emit: &mut dyn FnMut(SourceMsg),
) -> LoadStats {
    let stats = LoadStats { discovering: true, ..Default::default() };
    load_after(search, part, on_disk, opts, Ingest::new(raw), stats, emit)
}

/// [`load_found`] after what `coord` and `stats` say was sent already (a stored load read back).
fn load_after(
    search: &Search<'_>,
    part: String,
    on_disk: bool,
    opts: &LoadOptions,
    mut coord: Ingest<'_>,
    mut stats: LoadStats,
    emit: &mut dyn FnMut(SourceMsg),
) -> LoadStats {
    let index = match &opts.cache {
        // Records evaluated against rules are parsed: stored indexes would not be used.
        Some(c) if !opts.retain_content && opts.rules.is_none() && on_disk => open_index(c, emit),
        _ => None,
    };
    let mut index_writes = IndexWrites::start(index.as_ref());
    // A part is held whole: no larger than what is held whole of any input.
    let found = Discovered {
        part_bytes: opts.part_bytes.min(opts.whole_max),
        first_id: coord.files.len() as u32,
        ..Default::default()
    };
    let next = AtomicUsize::new(0);
    let threads = opts.threads.clamp(1, 64);
    let (tx, rx) = crossbeam_channel::bounded::<(usize, FileOutcome)>(threads * 2);
    std::thread::scope(|scope| {
        // Discovery runs beside the reading: the first files are read (and on screen) while a
        // tree of a year of archives is still being searched.
        let found = &found;
        std::thread::Builder::new()
            .name("discover".into())
            .spawn_scoped(scope, move || found.run(search, opts.window))
            .expect("starting the discovery thread");
        for _ in 0..threads {
            let tx = tx.clone();
            let next = &next;
            let how = Reading {
                retain: opts.retain_content,
                whole_max: opts.whole_max,
                rules: opts.rules.clone(),
                terms: opts.terms.clone(),
            };
            let index = index.as_ref();
            let hasher = coord.interner.hasher().clone();
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((file, part)) = found.get(i) else { break };
                // The file to be read after those the workers and the coordinator's queue
                // hold now is asked of the disk: it is read while they are parsed (each is
                // asked once, by the worker that takes the unit so many places before it).
                if let Some((ahead, None)) = found.found(i + READ_AHEAD_UNITS * threads) {
                    ahead.will_need();
                }
                if tx.send((i, process_part(&file, part.as_ref(), &how, &hasher, index))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        // Units are taken in order (an input's parts one after the other).
        let mut waiting: HashMap<usize, FileOutcome> = HashMap::new();
        let mut expect = 0usize;
        // Hand over whenever the interval has passed (the first file at once, for a fast first
        // screen), also in the middle of a run of files that were waiting.
        let mut hand_over = HandOver { last: None, sent_done: 0, interval: opts.batch_interval };
        let mut open = true;
        while open || waiting.contains_key(&expect) {
            // Wake up at least once per interval, so what is pending is handed over even while
            // the next file is slow to come (a pipe, a huge file).
            if open && !waiting.contains_key(&expect) {
                match rx.recv_timeout(opts.batch_interval) {
                    Ok((i, o)) => {
                        waiting.insert(i, o);
                    }
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                    Err(crossbeam_channel::RecvTimeoutError::Disconnected) => open = false,
                }
            }
            // Every file a worker has read was found before: announce it before its events.
            found.hand_over(&mut coord, &mut stats, emit);
            while let Some(mut outcome) = waiting.remove(&expect) {
                expect += 1;
                if let Some(update) = outcome.index.take() {
                    index_writes.add(update);
                }
                coord.take_outcome(outcome, &mut stats, emit);
                hand_over.maybe(&mut coord, &stats, expect, emit);
            }
            hand_over.maybe(&mut coord, &stats, expect, emit);
        }
    });
    found.hand_over(&mut coord, &mut stats, emit);
    if let Some(b) = coord.flush() {
        emit(SourceMsg::Batch(b, stats.clone()));
    }
    let spans = coord.time_span().into_iter().collect();
    // What only the load needed (the copy finder, the interners' tables) goes before the
    // index's last writes are waited for.
    drop(coord);
    emit(SourceMsg::Coverage(Coverage { part, spans }));
    emit(SourceMsg::Done(stats.clone()));
    // After the events are handed over: the user does not wait for the index to be written.
    index_writes.finish(emit);
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_wait_for_discovery_and_stop_when_it_ends() {
        let found = Discovered::default();
        let file = |id| Arc::new(SourceFile::in_memory(id, "f", Vec::new()));
        std::thread::scope(|scope| {
            let first = scope.spawn(|| found.get(0));
            let second = scope.spawn(|| found.get(1));
            std::thread::sleep(Duration::from_millis(50));
            assert!(!first.is_finished(), "nothing found yet: the worker waits");
            found.publish(&mut vec![file(0)]);
            assert_eq!(first.join().unwrap().map(|u| u.0.id), Some(0));
            std::thread::sleep(Duration::from_millis(50));
            assert!(!second.is_finished());
            // The end of the search releases workers asking beyond the last file (here a search
            // that finds only a problem).
            found.run(&|sink| discover_into(&["/nonexistent/trailscope-input".to_string()], sink), None);
            assert!(second.join().unwrap().is_none());
        });
        // The coordinator announces each file and problem once, in order.
        let raw = RawReader::new(1 << 20);
        let mut coord = Ingest::new(&raw);
        let mut stats = LoadStats::default();
        let mut msgs = Vec::new();
        found.hand_over(&mut coord, &mut stats, &mut |m| msgs.push(m));
        found.hand_over(&mut coord, &mut stats, &mut |m| msgs.push(m));
        assert!(matches!(&msgs[..], [SourceMsg::Problem(_), SourceMsg::Files(f)] if f.len() == 1));
        assert_eq!((stats.files_total, stats.discovering, coord.files.len()), (1, false, 1));
    }

    #[test]
    fn a_tree_searched_beside_the_reading_is_read_once_in_path_order() {
        // 1,200 files in 30 directories, published to the workers in groups as found.
        let dir = tempfile::tempdir().unwrap();
        for d in 0..30 {
            let sub = dir.path().join(format!("d{d:02}"));
            std::fs::create_dir(&sub).unwrap();
            for f in 0..40 {
                let rec = format!(r#"{{"Records":[{{"eventID":"e{d}-{f}","eventTime":"2024-01-01T00:00:00Z"}}]}}"#);
                std::fs::write(sub.join(format!("f{f:02}.json")), rec).unwrap();
            }
        }
        let raw = RawReader::new(1 << 20);
        let opts = LoadOptions { threads: 2, batch_interval: Duration::from_millis(1), ..Default::default() };
        let (mut files, mut events) = (Vec::new(), 0);
        let stats = load(&[dir.path().to_string_lossy().into_owned()], &opts, &raw, &mut |m| match m {
            SourceMsg::Files(f) => files.extend(f.iter().map(|f| (f.id, f.path.clone()))),
            SourceMsg::Batch(b, _) => events += b.events.len(),
            _ => {}
        });
        assert_eq!((stats.files_total, stats.events, events, stats.discovering), (1200, 1200, 1200, false));
        assert!(files.iter().enumerate().all(|(i, (id, _))| *id as usize == i), "ids in the order announced");
        let mut sorted = files.clone();
        sorted.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(files, sorted, "announced in path order");
    }
}
