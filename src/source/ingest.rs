//! Interning parsed inputs into shared symbols, collapsing exact duplicates, handing out
//! batches.

use super::dedup::Seen;
use super::files::InputKind;
use super::local::{FileStrings, LocalBatch};
use super::worker::{process_file, FileOutcome, Reading};
use super::{LoadStats, Problem, SourceMsg};
use crate::cache::coverage::TimeSpan;
use crate::model::detect::BatchHits;
use crate::model::events::Batch;
use crate::model::intern::ProfileInterner;
use crate::model::raw::{RawReader, SourceFile};
use crate::model::{Caller, Interner, RawLoc, Sym, NO_TIME};
use std::sync::Arc;

/// The most decompressed content the reader's cache holds for the records read back to find
/// copies (they come file after file: a few files' worth).
const COPIES_CACHE_BYTES: usize = 16 << 20;

/// Interns parsed inputs into global symbols, collapses exact duplicates and hands out
/// batches. Inputs can be added as they come (files found, pages fetched).
pub struct Ingest<'a> {
    pub(super) interner: Interner,
    profiles: ProfileInterner,
    callers: ProfileInterner<Caller>,
    /// Totals including what is pending, so offsets in pending events are global.
    res_len: u64,
    /// The events taken, to find copies.
    seen: Seen,
    pub(super) files: Vec<Arc<SourceFile>>,
    raw: &'a RawReader,
    pending: Batch,
    /// The oldest and newest event time taken (events without a readable time aside).
    times: Option<(i64, i64)>,
    /// What detection rules found among the pending events, and whether any of them were
    /// evaluated (else the batch says none was).
    pending_found: BatchHits,
    pending_evaluated: bool,
    /// The input whose parts are being taken (see `split`), until its last.
    split: Option<SplitInput>,
    /// The strings of the input taken last, with their symbols.
    last: Option<LastStrings>,
    /// How large the tables of copies, strings and combinations will grow.
    forecast: Forecast,
}

/// The strings of the input taken last, with their global symbols. Most strings an input
/// shares with those before it are in the one just before it (in the generated 1M archive, 84%
/// of them: the same principals, addresses and agents, hour after hour), and finding them here
/// reads tables of one input's size, in the caches, instead of the load's table, which at a
/// million events is far larger than the caches and costs a miss for the slot, the entry and
/// the text of each.
struct LastStrings {
    strings: FileStrings,
    /// The global symbol of each local one.
    global: Vec<Sym>,
}

impl LastStrings {
    /// Above this much text an input's strings are not kept (a part of a large split input).
    const MAX_TEXT: usize = 4 << 20;

    /// The global symbol of `s` (whose hash is `hash`), if the input held it.
    fn find(&self, s: &str, hash: u64) -> Option<Sym> {
        self.global.get(self.strings.find(s, hash)? as usize).copied()
    }
}

/// What a consumer already holds, for an ingest to go on from (see [`Ingest::resume`]).
#[derive(Default)]
pub(super) struct Prior {
    /// The symbols' table, as the consumer mirrors it.
    pub(super) syms: crate::model::SymTable,
    pub(super) profiles: Vec<crate::model::Profile>,
    pub(super) callers: Vec<Caller>,
    /// References of the resource index.
    pub(super) res_len: u64,
    /// The inputs, in the order sent.
    pub(super) files: Vec<Arc<SourceFile>>,
    /// Its events, to find copies among (see [`Seen::take_known`]).
    pub(super) seen: Seen,
    /// The oldest and newest event time.
    pub(super) times: Option<(i64, i64)>,
}

/// What the parts of a split input taken so far came to: it is counted and reported as one
/// input once its last part is taken.
#[derive(Default)]
struct SplitInput {
    /// Records found in its parts (events and duplicates).
    records: usize,
    untimed: usize,
    /// Parts read (whatever they held).
    read: usize,
    /// How many parts of the content were skipped (lines, mostly), and what was said of them
    /// for each part of the input that skipped some.
    skipped: usize,
    said: Vec<String>,
}

impl<'a> Ingest<'a> {
    /// An ingest that hands records back through `raw` when it compares contents.
    pub fn new(raw: &'a RawReader) -> Self {
        Ingest {
            interner: Interner::default(),
            profiles: ProfileInterner::large(),
            callers: ProfileInterner::large(),
            res_len: 0,
            seen: Seen::default(),
            files: Vec::new(),
            raw,
            pending: Batch::default(),
            times: None,
            pending_found: BatchHits::default(),
            pending_evaluated: false,
            split: None,
            last: None,
            forecast: Forecast::default(),
        }
    }

    /// An ingest that goes on from what a consumer was already sent (a stored load read back):
    /// new inputs' strings, profiles and copies are found among what it holds, and their
    /// events come after its own.
    pub(super) fn resume(raw: &'a RawReader, prior: Prior) -> Self {
        Ingest {
            interner: Interner::resume(prior.syms),
            profiles: ProfileInterner::resume(&prior.profiles),
            callers: ProfileInterner::resume(&prior.callers),
            res_len: prior.res_len,
            seen: prior.seen,
            // The inputs read before are not part of what is left to read.
            forecast: Forecast { counted: prior.files.len(), ..Forecast::default() },
            files: prior.files,
            times: prior.times,
            ..Ingest::new(raw)
        }
    }

    /// Registers an input; its id is its index in the order added.
    pub fn add_file(&mut self, mut f: SourceFile) -> Arc<SourceFile> {
        f.id = self.files.len() as u32;
        let f = Arc::new(f);
        self.files.push(f.clone());
        f
    }

    /// Reads, parses and takes one registered input at once (for small inputs such as pages).
    pub fn take_file(&mut self, f: &SourceFile, retain: bool, stats: &mut LoadStats, emit: &mut dyn FnMut(SourceMsg)) {
        // Not evaluated against rules here: the consumer evaluates such events after loading.
        let how = Reading { retain, whole_max: super::DEFAULT_WHOLE_MAX, rules: None, terms: None };
        let outcome = process_file(f, &how, self.interner.hasher(), None);
        self.take_outcome(outcome, stats, emit);
    }

    /// Takes a file's events: how many were duplicates, and how many of those kept have no
    /// readable time.
    fn take(&mut self, local: LocalBatch) -> (usize, usize) {
        // The local strings' global symbols and which events are copies: each is a look-up per
        // item in a table of every string or event taken, which at millions outgrows the
        // caches, and this thread takes every file's events.
        let (interner, seen, files, raw) = (&mut self.interner, &mut self.seen, &self.files, self.raw);
        let last = self.last.take();
        // Each goes in groups whose tables' slots are read first (see `Slots::warm`).
        const GROUP: usize = crate::model::intern::WARM_GROUP;
        let (remap, copies) = side_by_side(
            || {
                // Strings of the input before are found among its own; the others in the
                // load's table, in the order of their local symbols as before, so that new
                // strings are numbered the same.
                let n = local.strings.len() as Sym;
                let mut remap = Vec::with_capacity(n as usize);
                remap.push(0);
                let mut rest = Vec::new();
                for sym in 1..n {
                    let (s, hash) = local.local(sym);
                    remap.push(last.as_ref().and_then(|l| l.find(s, hash)).unwrap_or_else(|| {
                        rest.push(sym);
                        0
                    }));
                }
                for group in rest.chunks(GROUP) {
                    interner.warm(group.iter().map(|&sym| local.local(sym).1));
                    for &sym in group {
                        let (s, hash) = local.local(sym);
                        remap[sym as usize] = interner.intern_hashed(s, hash);
                    }
                }
                remap
            },
            || {
                let mut read = |loc: RawLoc| {
                    let f = files.get(loc.file as usize)?;
                    raw.read_within(f, loc, COPIES_CACHE_BYTES).ok()
                };
                let mut copies = Vec::with_capacity(local.events.len());
                for (events, hashes) in local.events.chunks(GROUP).zip(local.hashes.chunks(GROUP)) {
                    seen.warm(hashes.iter().map(|&(id, _)| id).filter(|&id| id != 0));
                    copies.extend(
                        events
                            .iter()
                            .zip(hashes)
                            .map(|(ev, &(id, bytes))| seen.copy_or_take(id, bytes, ev.loc, &mut read)),
                    );
                }
                copies
            },
        );
        // Local profiles and callers to global ones, in the order events first use them (those
        // of events that were all duplicates are not added).
        let mut premap = vec![u32::MAX; local.profiles.len()];
        let mut cremap = vec![u32::MAX; local.callers.len()];
        let (mut pfirst, mut cfirst) = (Vec::new(), Vec::new());
        for (ev, _) in local.events.iter().zip(&copies).filter(|&(_, &copy)| !copy) {
            if std::mem::replace(&mut premap[ev.profile as usize], 0) == u32::MAX {
                pfirst.push(ev.profile);
            }
            if std::mem::replace(&mut cremap[ev.caller as usize], 0) == u32::MAX {
                cfirst.push(ev.caller);
            }
        }
        let map = |s: Sym| remap[s as usize];
        let ps = pfirst.iter().map(|&l| local.profiles.get(l)).collect::<Vec<_>>();
        let global = self.profiles.intern_all_mapped(&ps, map);
        pfirst.iter().zip(global).for_each(|(&l, g)| premap[l as usize] = g);
        let cs = cfirst.iter().map(|&l| local.callers.get(l)).collect::<Vec<_>>();
        let global = self.callers.intern_all_mapped(&cs, map);
        cfirst.iter().zip(global).for_each(|(&l, g)| cremap[l as usize] = g);
        let (mut dups, mut untimed) = (0, 0);
        // What the rules found, by local index: carried over for the events kept (an event
        // dropped as a duplicate takes its hits with it, so none is counted twice).
        let evaluated = local.found.is_some();
        self.pending_evaluated |= evaluated;
        let found = local.found.unwrap_or_default();
        // The events of this file are appended one after another: one range says those the
        // rules did not see, whatever their number.
        let first = self.pending.events.len() as u32;
        let mut hits = found.hits.into_iter().peekable();
        let mut written = found.written.into_iter().peekable();
        for (local_idx, (mut ev, copy)) in local.events.into_iter().zip(copies).enumerate() {
            if copy {
                dups += 1;
                continue;
            }
            let (local_idx, idx) = (local_idx as u32, self.pending.events.len() as u32);
            if evaluated {
                while hits.next_if(|(i, _)| *i < local_idx).is_some() {}
                if let Some((_, h)) = hits.next_if(|(i, _)| *i == local_idx) {
                    self.pending_found.hits.push((idx, h));
                }
                while written.next_if(|(i, ..)| *i < local_idx).is_some() {}
                if let Some((_, id, time)) = written.next_if(|(i, ..)| *i == local_idx) {
                    self.pending_found.written.push((idx, id, time));
                }
            }
            for s in ev.own.iter_mut() {
                *s = map(*s);
            }
            ev.profile = premap[ev.profile as usize];
            ev.caller = cremap[ev.caller as usize];
            self.pending.copy_hashes.push(local.hashes[local_idx as usize].0);
            let res_start = self.res_len as u32;
            let own = ev.res_start as usize..ev.res_start as usize + ev.res_total();
            for &r in &local.res[own] {
                self.pending.resources.push(remap[r as usize]);
            }
            self.res_len += ev.res_total() as u64;
            ev.res_start = res_start;
            widen(&mut self.times, ev.time());
            untimed += (ev.time() == NO_TIME) as usize;
            self.pending.events.push(ev);
        }
        if !evaluated {
            self.pending_found.not_evaluated(first..self.pending.events.len() as u32);
        }
        self.last = (local.strings.text_len() <= LastStrings::MAX_TEXT)
            .then(|| LastStrings { strings: local.strings, global: remap });
        (dups, untimed)
    }

    /// Takes one file's result: its events, its counts, and any problem it had.
    pub(super) fn take_outcome(
        &mut self,
        outcome: FileOutcome,
        stats: &mut LoadStats,
        emit: &mut dyn FnMut(SourceMsg),
    ) {
        if outcome.part.is_some() {
            return self.take_part(outcome, stats, emit);
        }
        stats.files_done += 1;
        stats.bytes += outcome.bytes;
        let file = self.files.get(outcome.file as usize).cloned();
        let display = file.as_ref().map(|f| f.display.clone()).unwrap_or_default();
        if let (Some(content), Some(file)) = (outcome.content, &file) {
            self.raw.offer(file, content);
        }
        match outcome.result {
            Ok((kind, local, partial)) => {
                stats.files_read += 1;
                if kind == InputKind::Digest {
                    stats.digests += 1;
                }
                let (_, untimed) = self.take_parsed(outcome.file, local, stats);
                if let Some(reason) = partial {
                    emit(SourceMsg::Problem(Problem { input: display.clone(), reason, skipped: false }));
                }
                untimed_note(display, untimed, emit);
            }
            Err(e) => emit(SourceMsg::Problem(Problem { input: display, reason: e.to_string(), skipped: true })),
        }
        if let Some(file) = &file {
            self.foresee(file, file.size, outcome.bytes);
        }
    }

    /// Tells the load's tables how large they are expected to grow, now that `disk` bytes on
    /// disk of `file` (all of it, or a part), holding `json` bytes of JSON, were taken.
    fn foresee(&mut self, file: &SourceFile, disk: u64, json: u64) {
        self.forecast.announce(&self.files);
        let sizes = [self.seen.len() as usize, self.interner.len(), self.profiles.len(), self.callers.len()];
        if let Some([events, strings, profiles, callers]) = self.forecast.after(Forecast::kind(file), disk, json, sizes)
        {
            self.seen.expect(events);
            self.interner.expect(strings);
            self.profiles.expect(profiles);
            self.callers.expect(callers);
        }
    }

    /// Takes one part of a split input: its events at once, what went wrong in it said (or
    /// kept for the input's account) and the input counted once, with its last part.
    fn take_part(&mut self, mut outcome: FileOutcome, stats: &mut LoadStats, emit: &mut dyn FnMut(SourceMsg)) {
        let Some(part) = outcome.part.take() else { return };
        stats.bytes += outcome.bytes;
        let file = self.files.get(outcome.file as usize).cloned();
        let display = file.as_ref().map(|f| f.display.clone()).unwrap_or_default();
        let bytes = format!("bytes {}-{}", part.range.start, part.range.end);
        let mut acc = self.split.take().unwrap_or_default();
        match outcome.result {
            Ok((_, local, partial)) => {
                let (records, untimed) = self.take_parsed(outcome.file, local, stats);
                acc.records += records;
                acc.untimed += untimed;
                acc.read += 1;
                if let Some(p) = partial {
                    // Each part says how many parts of it were skipped, and which; the input
                    // says it once for all of them.
                    let (n, what) = super::files::read_skipped_text(&p).unwrap_or((1, &p));
                    acc.skipped += n;
                    acc.said.push(what.to_string());
                }
            }
            // This part is lost, the others are not: said at once, as the input it is.
            Err(e) => emit(SourceMsg::Problem(Problem {
                input: format!("{display} ({bytes})"),
                reason: format!("these bytes were not read: {e}"),
                skipped: false,
            })),
        }
        if let Some(file) = &file {
            self.foresee(file, part.range.end.saturating_sub(part.range.start), outcome.bytes);
        }
        if !part.last {
            self.split = Some(acc);
            return;
        }
        stats.files_done += 1;
        let said = match acc.said.len() {
            0..=3 => acc.said.join("; "),
            n => format!("{}; and more in {} other parts of the file", acc.said[..3].join("; "), n - 3),
        };
        let skipped = (acc.skipped > 0).then(|| super::files::skipped_text(acc.skipped, &said));
        if acc.records == 0 {
            // As one input: nothing in it was a record (or nothing of it could be read).
            let reason = match skipped {
                _ if acc.read == 0 => "none of its parts could be read".to_string(),
                Some(why) if part.elements.is_some() => format!("not CloudTrail: no element is a record ({why})"),
                Some(why) => format!("not CloudTrail: no line is a record ({why})"),
                None => "empty file".to_string(),
            };
            emit(SourceMsg::Problem(Problem { input: display, reason, skipped: true }));
            return;
        }
        stats.files_read += 1;
        if let Some(reason) = skipped {
            emit(SourceMsg::Problem(Problem { input: display.clone(), reason, skipped: false }));
        }
        untimed_note(display, acc.untimed, emit);
    }

    /// Takes the events an input (or a part of one) parsed, with the records it kept, into
    /// the counts; how many records it held (copies within it included), and how many of
    /// them had no readable time.
    fn take_parsed(&mut self, file: u32, mut local: LocalBatch, stats: &mut LoadStats) -> (usize, usize) {
        if let Some(file) = self.files.get(file as usize) {
            self.raw.keep_records(file, std::mem::take(&mut local.kept));
        }
        let (n, dropped) = (local.events.len(), local.dups);
        let (dups, untimed) = self.take(local);
        stats.duplicates += dups + dropped;
        stats.events += n - dups;
        stats.untimed += untimed;
        (n + dropped, untimed)
    }

    /// The span from the oldest to the newest event taken; `None` before any event with a
    /// readable time.
    pub fn time_span(&self) -> Option<TimeSpan> {
        self.times.map(|(lo, hi)| TimeSpan::new(lo, hi))
    }

    /// Everything taken since the last flush, ready to apply to an [`EventStore`](crate::model::EventStore).
    pub fn flush(&mut self) -> Option<Batch> {
        if self.pending.events.is_empty()
            && !self.interner.has_new()
            && !self.profiles.has_new()
            && !self.callers.has_new()
        {
            return None;
        }
        let mut batch = std::mem::take(&mut self.pending);
        batch.new_syms = Box::new(self.interner.take_new());
        batch.new_profiles = Box::new(self.profiles.take_new());
        batch.new_callers = Box::new(self.callers.take_new());
        let found = std::mem::take(&mut self.pending_found);
        batch.detections = std::mem::take(&mut self.pending_evaluated).then(|| Box::new(found));
        Some(batch)
    }
}

/// `a` and `b`, on two threads where more than two cores are there to run them. With two,
/// the readers keep both busy: running the halves apart made the load wait on threads handing
/// work to each other (a 1M-event load took 1.47 s against 1.41 s done in turn, alternating).
fn side_by_side<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    if rayon::current_num_threads() > 2 {
        rayon::join(a, b)
    } else {
        (a(), b())
    }
}

/// How large a load's tables will grow, foreseen from how much of its inputs was taken and how
/// fast each table grew over the recent half of that: a table that knows its final size grows
/// to it in one step instead of a quarter at a time (at a million events, moving its entries
/// about four times and missing the caches for each cost more than a tenth of the load's time).
///
/// It is measured in bytes of JSON: what is left is the size on disk of the inputs not yet
/// taken, at the ratio seen so far between the JSON and the size on disk of inputs of their
/// kind (gzip or not, by name), so that plain and compressed inputs in one load are not
/// mistaken for each other.
#[derive(Default)]
struct Forecast {
    /// How many of the inputs were counted.
    counted: usize,
    /// By kind ([`Forecast::kind`]): the size on disk of the inputs announced (streams and
    /// pages have none), of those taken, and the bytes of JSON these held.
    announced: [u64; 2],
    taken_disk: [u64; 2],
    taken_json: [u64; 2],
    /// The bytes of JSON taken, and the tables' sizes then, after each input taken.
    history: Vec<(u64, [usize; 4])>,
}

impl Forecast {
    /// At most this many points of the history are kept: past it every other one is dropped.
    const HISTORY: usize = 1024;
    /// Bytes of JSON a byte on disk holds, for a kind none of whose inputs was taken yet
    /// (CloudTrail's gzip files hold about ten).
    const UNSEEN_RATIO: [u64; 2] = [1, 10];

    /// 1 for an input read through gzip (by its name), else 0.
    fn kind(f: &SourceFile) -> usize {
        f.path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz")) as usize
    }

    /// Counts the inputs added since the last call.
    fn announce(&mut self, files: &[Arc<SourceFile>]) {
        if let Some(new) = files.get(self.counted..) {
            for f in new {
                self.announced[Self::kind(f)] += f.size;
            }
            self.counted = files.len();
        }
    }

    /// The sizes the tables are foreseen to reach, now that `disk` bytes on disk of an input
    /// of `kind` (`json` bytes of JSON) were taken and they are at `sizes`; `None` until
    /// enough was taken to say (a sixty-fourth of the whole, and two inputs: the first hold
    /// more new strings than later ones), or when nothing is left to take.
    fn after(&mut self, kind: usize, disk: u64, json: u64, sizes: [usize; 4]) -> Option<[usize; 4]> {
        self.taken_disk[kind] += disk;
        self.taken_json[kind] += json;
        let taken = self.taken_json.iter().sum::<u64>();
        if self.history.len() == Self::HISTORY {
            let mut odd = true;
            self.history.retain(|_| {
                odd = !odd;
                odd
            });
        }
        self.history.push((taken, sizes));
        let left: u128 = (0..2)
            .map(|k| {
                let on_disk = self.announced[k].saturating_sub(self.taken_disk[k]) as u128;
                match self.taken_disk[k] {
                    0 => on_disk * Self::UNSEEN_RATIO[k] as u128,
                    seen => on_disk * self.taken_json[k] as u128 / seen as u128,
                }
            })
            .sum();
        if left == 0 || self.history.len() < 2 || (taken as u128) * 64 < taken as u128 + left {
            return None;
        }
        // The growth over the recent half: from the last point at or before half-way.
        let at = self.history.partition_point(|&(at, _)| at <= taken / 2);
        let (from, before) = at.checked_sub(1).map_or((0, [0; 4]), |i| self.history[i]);
        let span = taken.saturating_sub(from).max(1) as u128;
        Some(std::array::from_fn(|k| {
            let grown = sizes[k].saturating_sub(before[k]) as u128;
            sizes[k].saturating_add((grown * left / span).min(usize::MAX as u128) as usize)
        }))
    }
}

/// Widens the span from the oldest to the newest event time by `time` ([`NO_TIME`]: no time).
pub(super) fn widen(times: &mut Option<(i64, i64)>, time: i64) {
    if time != NO_TIME {
        let (lo, hi) = times.get_or_insert((time, time));
        (*lo, *hi) = ((*lo).min(time), (*hi).max(time));
    }
}

/// Says of `input` that `untimed` of its records have no readable time (nothing when none).
fn untimed_note(input: String, untimed: usize, emit: &mut dyn FnMut(SourceMsg)) {
    if untimed == 0 {
        return;
    }
    let records = if untimed == 1 { "1 record".to_string() } else { format!("{untimed} records") };
    let reason = format!("{records} without a readable eventTime, listed as \"(no time)\" after the rest");
    emit(SourceMsg::Note(Problem { input, reason, skipped: false }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EventStore, SymField};

    fn sized(sizes: &[u64]) -> Vec<Arc<SourceFile>> {
        named(sizes, "f.json")
    }

    fn named(sizes: &[u64], name: &str) -> Vec<Arc<SourceFile>> {
        let file = |(i, &size): (usize, &u64)| {
            let mut f = SourceFile::in_memory(i as u32, name, Vec::new());
            f.size = size;
            Arc::new(f)
        };
        sizes.iter().enumerate().map(file).collect()
    }

    #[test]
    fn tables_are_foreseen_from_the_recent_half_of_the_inputs_taken() {
        // 400 inputs of 1,000 bytes: 100 events each; strings that slow down (30 new in each of
        // the first 200, 10 in each after); no combination.
        let mut f = Forecast::default();
        f.announce(&sized(&[1000; 400]));
        let mut said = Vec::new();
        for n in 1..=400usize {
            let strings = 30 * n.min(200) + 10 * n.saturating_sub(200);
            said.push(f.after(0, 1000, 1000, [100 * n, strings, 7, 0]));
        }
        // Nothing from fewer than a sixty-fourth of the whole (7 of 400 inputs), nor at the end.
        assert!(said[..6].iter().all(Option::is_none), "{:?}", &said[..6]);
        assert_eq!(said[399], None);
        // Events as they go; strings from the rate of the half before; what does not grow, not.
        assert_eq!(said[99], Some([40_000, 30 * 400, 7, 0]));
        // (After 300 inputs, 7,000 strings; after 150, 4,500: 2,500 in 150 inputs, 100 to go.)
        assert_eq!(said[299], Some([40_000, 7000 + 2500 * 100 / 150, 7, 0]));
        assert_eq!(said[398], Some([40_000, 30 * 200 + 10 * 200, 7, 0]));
        // Inputs announced later count once each; those of a load read before do not.
        f.announce(&sized(&[1000; 401]));
        assert_eq!(f.announced, [401_000, 0]);
        let mut resumed = Forecast { counted: 400, ..Forecast::default() };
        resumed.announce(&sized(&[1000; 410]));
        assert_eq!(resumed.announced, [10_000, 0]);
    }

    #[test]
    fn plain_and_compressed_inputs_are_foreseen_by_the_json_they_hold() {
        // 100 gzip files of 1,000 bytes holding 8,000 bytes of JSON and 100 events each, then
        // one plain file of 800,000 bytes holding 10,000 events: 20,000 in all.
        let mut files = named(&[1000; 100], "CloudTrail_us-east-1_x.json.GZ");
        files.extend(named(&[800_000], "export.jsonl"));
        let mut f = Forecast::default();
        f.announce(&files);
        let mut said = None;
        for n in 1..=50 {
            said = f.after(1, 1000, 8000, [100 * n, 0, 0, 0]);
        }
        // By size on disk, 850,000 bytes left at 100 events a kilobyte would say 90,000.
        assert_eq!(said, Some([20_000, 0, 0, 0]));
        // The plain file first, in 16 parts: before any gzip file was taken, each is taken to
        // hold ten times its size (1,000,000 bytes of JSON for the 100, which hold 800,000).
        let mut g = Forecast::default();
        g.announce(&files);
        for part in 1..=16 {
            said = g.after(0, 50_000, 50_000, [625 * part, 0, 0, 0]);
        }
        assert_eq!(said, Some([10_000 + 12_500, 0, 0, 0]));
    }

    #[test]
    fn a_long_history_is_thinned_and_sizes_unknown_say_nothing() {
        let mut f = Forecast::default();
        f.announce(&sized(&[10; 5000]));
        for n in 1..5000 {
            let said = f.after(0, 10, 10, [n, 2 * n, 0, 0]);
            assert!(f.history.len() <= Forecast::HISTORY);
            if n >= 100 {
                assert_eq!(said, Some([5000, 10_000, 0, 0]), "after {n} inputs");
            }
        }
        // Pages and streams have no size: nothing is foreseen.
        let mut pages = Forecast::default();
        pages.announce(&sized(&[0; 10]));
        assert!((1..10).all(|n| pages.after(0, 0, 2000, [n, n, n, n]).is_none()));
    }

    /// A trail log file of records with these (eventID, user agent, source IP, request
    /// parameter) values.
    fn log(records: &[(&str, &str, &str, &str)]) -> Vec<u8> {
        let records: Vec<String> = records
            .iter()
            .map(|(id, agent, ip, param)| {
                format!(
                    r#"{{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"{ip}","userAgent":"{agent}","requestParameters":{{"bucketName":"{param}"}},"eventID":"{id}"}}"#
                )
            })
            .collect();
        format!(r#"{{"Records":[{}]}}"#, records.join(",")).into_bytes()
    }

    #[test]
    fn strings_of_the_input_before_and_of_older_ones_get_the_symbols_the_load_gave_them() {
        // The second file repeats strings of the first (found among the first's own), the
        // third strings of the first only (found in the load's table) and of the second, with
        // new ones between them; in a string the same length as another, one byte differs.
        let files = [
            log(&[("a1", "agent-one", "10.0.0.1", "bucket-a"), ("a2", "agent-two", "10.0.0.2", "bucket-b")]),
            log(&[("b1", "agent-two", "10.0.0.3", "bucket-a"), ("b2", "agent-twO", "10.0.0.1", "bucket-c")]),
            log(&[("c1", "agent-one", "10.0.0.3", "bucket-b"), ("c2", "agent-twO", "10.0.0.4", "bucket-a")]),
        ];
        let raw = RawReader::new(1 << 20);
        let mut ingest = Ingest::new(&raw);
        let mut stats = LoadStats::default();
        let mut store = EventStore::default();
        for (i, content) in files.iter().enumerate() {
            let f = ingest.add_file(SourceFile::in_memory(0, &format!("f{i}"), content.clone()));
            ingest.take_file(&f, false, &mut stats, &mut |m| {
                if let SourceMsg::Problem(p) = m {
                    panic!("{}: {}", p.input, p.reason);
                }
            });
        }
        store.add_files(ingest.files.clone());
        store.apply(ingest.flush().expect("events"));
        let got: Vec<(String, String, String)> = store
            .events
            .iter()
            .map(|ev| {
                let params: Vec<&str> = store.index_syms(ev).iter().map(|&s| store.syms.get(s)).collect();
                (store.sym(ev, SymField::Agent).into(), store.sym(ev, SymField::Ip).into(), params.join(","))
            })
            .collect();
        let want = [
            ("agent-one", "10.0.0.1", "bucket-a"),
            ("agent-two", "10.0.0.2", "bucket-b"),
            ("agent-two", "10.0.0.3", "bucket-a"),
            ("agent-twO", "10.0.0.1", "bucket-c"),
            ("agent-one", "10.0.0.3", "bucket-b"),
            ("agent-twO", "10.0.0.4", "bucket-a"),
        ];
        let want: Vec<(String, String, String)> =
            want.iter().map(|(a, i, p)| (a.to_string(), i.to_string(), p.to_string())).collect();
        assert_eq!(got, want);
        // Each distinct string once in the table, numbered in the order first met.
        let agents: Vec<Sym> = store.events.iter().map(|ev| store.sym_id(ev, SymField::Agent)).collect();
        assert_eq!(agents[0], agents[4]);
        assert_eq!((agents[1], agents[3]), (agents[2], agents[5]));
        assert!(agents[0] < agents[1] && agents[1] < agents[3]);
        let distinct: std::collections::HashSet<&str> =
            (1..store.syms.len() as Sym).map(|s| store.syms.get(s)).collect();
        assert_eq!(distinct.len(), store.syms.len() - 1, "no string twice");
    }
}
