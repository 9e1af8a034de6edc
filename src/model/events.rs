//! The loaded events, as the UI and `print` hold them, and the batches that fill them.

use super::intern::SymBatch;
use super::raw::RawReader;
use super::raw::SourceFile;
use super::segments::{Appended, Segmented};
use super::{id, Caller, Event, Profile, Slot, Sym, SymField, SymTable};
use std::sync::Arc;

/// A batch of events ready to append: symbols, arenas and events with global offsets, so
/// applying it is a few `extend`s.
#[derive(Debug, Default)]
pub struct Batch {
    /// Symbols new since the last batch.
    pub new_syms: Box<SymBatch>,
    /// Profiles new since the last batch, appended to the store's table.
    pub new_profiles: Box<Appended<Profile>>,
    /// Callers new since the last batch, appended to the store's table.
    pub new_callers: Box<Appended<Caller>>,
    /// The eventIDs' [`id::copy_hash`]es, by event (what finds copies of them in a later
    /// load: the events keep 32 bits); empty where the source does not give them.
    pub copy_hashes: Vec<u64>,
    /// The resource index of the batch's events (see [`EventStore::index_syms`]), appended to
    /// the store's.
    pub resources: Vec<Sym>,
    /// The events, with offsets into the store's tables as they are once applied.
    pub events: Vec<Event>,
    /// What detection rules matched among the events, when the source evaluated them where
    /// it parsed them; `None`: it evaluated none.
    pub detections: Option<Box<super::detect::BatchHits>>,
    /// Held by a source that produces batches faster than its consumer applies them (a stored
    /// load read back): it counts the batches still on their way by this handle's holders, and
    /// waits while there are too many. The consumer drops it with the batch.
    pub in_flight: Option<Arc<()>>,
}

/// Every loaded event, with the tables its compact fields point into.
#[derive(Debug, Default)]
pub struct EventStore {
    /// Every event, in the order loaded.
    pub events: Vec<Event>,
    /// The strings of the interned fields.
    pub syms: SymTable,
    /// Every distinct combination of the profile fields; events point into it.
    pub profiles: Segmented<Profile>,
    /// Every distinct combination of the caller fields; events point into it.
    pub callers: Segmented<Caller>,
    /// The resource index: per event its resource ARNs and requestParameters strings; each
    /// event owns a range.
    pub resources: Vec<Sym>,
    /// The inputs events are read back from, by [`RawLoc::file`](super::RawLoc::file).
    pub files: Vec<Arc<SourceFile>>,
    /// What log file verification found for each input, by the same index; shorter than
    /// `files` (or empty) where it has not run.
    pub verdicts: Vec<super::FileVerdict>,
    /// What detection rules matched, by event (empty without rules).
    pub detections: super::detect::Detections,
}

impl EventStore {
    /// Appends a batch, with what its source found evaluating detection rules (see
    /// [`Detections::take_batch`](super::detect::Detections::take_batch)); returns the range
    /// of new event indices.
    pub fn apply(&mut self, batch: Batch) -> std::ops::Range<u32> {
        let start = self.events.len() as u32;
        self.syms.extend(*batch.new_syms);
        self.profiles.extend(*batch.new_profiles);
        self.callers.extend(*batch.new_callers);
        self.resources.extend(batch.resources);
        self.events.extend(batch.events);
        let range = start..self.events.len() as u32;
        self.detections.take_batch(range.clone(), batch.detections);
        range
    }

    /// Appends inputs announced by a source.
    pub fn add_files(&mut self, files: impl IntoIterator<Item = Arc<SourceFile>>) {
        self.files.extend(files);
    }

    /// The event's eventID and requestID, read from its record through `raw` (each "" when
    /// the event has none, or its record cannot be read).
    pub fn ids(&self, ev: &Event, raw: &RawReader) -> (String, String) {
        self.read_ids(ev, raw).unwrap_or_default()
    }

    /// [`EventStore::ids`], saying why the record could not be read.
    pub fn read_ids(&self, ev: &Event, raw: &RawReader) -> Result<(String, String), super::raw::ReadError> {
        match self.file_of(ev) {
            Some(file) if ev.has_event_id() || ev.has_request_id() => {
                raw.read(file, ev.loc).map(|record| id::ids_of_record(&record))
            }
            _ => Ok(Default::default()),
        }
    }

    /// The event's eventID, as written in its record ("" when it has none); see
    /// [`EventStore::ids`].
    pub fn event_id(&self, ev: &Event, raw: &RawReader) -> String {
        if !ev.has_event_id() {
            return String::new();
        }
        self.ids(ev, raw).0
    }

    /// The event's requestID, as written in its record ("" when it has none); see
    /// [`EventStore::ids`].
    pub fn request_id(&self, ev: &Event, raw: &RawReader) -> String {
        if !ev.has_request_id() {
            return String::new();
        }
        self.ids(ev, raw).1
    }

    /// The symbol of an event's field.
    #[inline]
    pub fn sym_id(&self, ev: &Event, f: SymField) -> Sym {
        match f.slot() {
            Slot::Caller(i) => self.callers.get(ev.caller as usize).map_or(super::EMPTY, |c| c[i]),
            Slot::Own(i) => ev.own[i],
            Slot::Profile(i) => self.profiles.get(ev.profile as usize).map_or(super::EMPTY, |p| p[i]),
        }
    }

    /// The text of an event's field.
    #[inline]
    pub fn sym(&self, ev: &Event, f: SymField) -> &str {
        self.syms.get(self.sym_id(ev, f))
    }

    /// The symbols of an event's resource ARNs.
    pub fn resource_syms(&self, ev: &Event) -> &[Sym] {
        let s = ev.res_start as usize;
        self.resources.get(s..s + ev.res_len()).unwrap_or(&[])
    }

    /// The symbols of an event's resource index: its resource ARNs, then the distinct string
    /// values of its requestParameters (all of them unless [`Event::flags`] has
    /// [`FLAG_MORE_RESOURCES`](super::FLAG_MORE_RESOURCES)).
    pub fn index_syms(&self, ev: &Event) -> &[Sym] {
        let s = ev.res_start as usize;
        self.resources.get(s..s + ev.res_total()).unwrap_or(&[])
    }

    /// The input an event's record is read back from.
    pub fn file_of(&self, ev: &Event) -> Option<&Arc<SourceFile>> {
        self.files.get(ev.loc.file as usize)
    }

    /// What verification found for the file an event came from.
    pub fn verdict_of(&self, ev: &Event) -> super::FileVerdict {
        self.verdicts.get(ev.loc.file as usize).copied().unwrap_or_default()
    }

    /// How many events are loaded.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether no event is loaded.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// All event indices, newest first.
    pub fn sorted_indices(&self) -> Vec<u32> {
        let mut idx: Vec<u32> = (0..self.events.len() as u32).collect();
        self.sort_indices(&mut idx);
        idx
    }

    /// Sorts event indices newest first (ties by input and place in it).
    pub fn sort_indices(&self, idx: &mut [u32]) {
        // The keys are copied out beside their index: sorting through the index would miss
        // the cache on every comparison once the events outgrow it (a million is 80 MB).
        let mut keyed: Vec<_> = idx
            .iter()
            .map(|&i| {
                let (time, file, offset) = self.events[i as usize].order_key();
                (time, file, offset, i)
            })
            .collect();
        sort_by_key(&mut keyed, |k| *k);
        for (slot, k) in idx.iter_mut().zip(keyed) {
            *slot = k.3;
        }
    }

    /// The oldest and newest time of the events of `sorted` (sorted newest first, as
    /// [`EventStore::sort_indices`] sorts, so those of unknown time are last and found by
    /// halving); `None` when none has a time.
    pub fn time_bounds(&self, sorted: &[u32]) -> Option<(i64, i64)> {
        let time_of = |i: u32| self.events[i as usize].time();
        let timed = &sorted[..sorted.partition_point(|&i| time_of(i) != super::NO_TIME)];
        Some((time_of(*timed.last()?), time_of(timed[0])))
    }

    /// Merges `new` (sorted newest first) into `into` (sorted newest first).
    pub fn merge_sorted(&self, into: &mut Vec<u32>, new: &[u32]) {
        if new.is_empty() {
            return;
        }
        if into.is_empty() {
            into.extend_from_slice(new);
            return;
        }
        let key = |i: u32| self.events[i as usize].order_key();
        // Fast path: everything new is older than what we have (common while streaming).
        if key(into[into.len() - 1]) <= key(new[0]) {
            into.extend_from_slice(new);
            return;
        }
        // In place, from the back: the vector grows at its end (no new allocation: a fresh one,
        // faulted in page by page and copied into for every batch, was a third of the TUI's
        // time loading ten million events), and each new index, last first, moves the old
        // ones that go after it in one copy. Where they start is found by galloping back from
        // the last old index not yet moved: a batch of newer events lands at the front in a
        // few comparisons and one copy, where comparing every old element would miss the
        // cache on each (the events are 80 MB at a million).
        let mut i = into.len();
        into.resize(i + new.len(), 0);
        let mut w = into.len();
        for &n in new.iter().rev() {
            let kn = key(n);
            // Old indices in [hi, i) go after `n` (old before new on ties).
            let (mut hi, mut step) = (i, 1);
            while hi >= step && key(into[hi - step]) > kn {
                hi -= step;
                step *= 2;
            }
            let lo = hi.saturating_sub(step);
            let p = lo + into[lo..hi].partition_point(|&o| key(o) <= kn);
            let run = i - p;
            into.copy_within(p..i, w - run);
            w -= run + 1;
            into[w] = n;
            i = p;
        }
    }
}

/// Sorts `items` by `key` (unstable), on every core when there are many.
pub fn sort_by_key<T: Send, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K + Sync) {
    if items.len() > 1 << 16 {
        use rayon::slice::ParallelSliceMut;
        items.par_sort_unstable_by_key(key);
    } else {
        items.sort_unstable_by_key(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RawLoc;

    fn store(times: &[i64]) -> EventStore {
        let events = times
            .iter()
            .enumerate()
            .map(|(i, &time)| Event { loc: RawLoc::new(0, i as u32 % 7), ..Event::default() }.timed(time))
            .collect();
        EventStore {
            events,
            profiles: [Default::default()].into_iter().collect(),
            callers: [Default::default()].into_iter().collect(),
            ..Default::default()
        }
    }

    #[test]
    fn time_bounds_are_those_of_the_timed_events() {
        use crate::model::NO_TIME;
        let cases: [&[i64]; 5] = [&[], &[NO_TIME, NO_TIME], &[5], &[7, NO_TIME, -3, 7, 2, NO_TIME], &[0, 1_000, -1]];
        for times in cases {
            let s = store(times);
            let mut sorted: Vec<u32> = (0..times.len() as u32).collect();
            s.sort_indices(&mut sorted);
            let timed = times.iter().copied().filter(|&t| t != NO_TIME);
            let want = timed.clone().min().zip(timed.max());
            assert_eq!(s.time_bounds(&sorted), want, "{times:?}");
        }
        // A million events without a time after ten with one: found without walking them.
        let mut times = vec![NO_TIME; 1_000_000];
        times[..10].copy_from_slice(&[9, 3, 4, 8, 1, 2, 7, 6, 5, 0]);
        let s = store(&times);
        let mut sorted: Vec<u32> = (0..times.len() as u32).collect();
        s.sort_indices(&mut sorted);
        assert_eq!(s.time_bounds(&sorted), Some((0, 9)));
    }

    #[test]
    fn merging_equals_sorting_everything() {
        // Times with ties and runs, split into an old part and batches in every position.
        let times: Vec<i64> = (0..400).map(|i| (i * 7919 % 97) as i64 / 3).collect();
        let s = store(&times);
        let expected = s.sorted_indices();
        for split in [0, 1, 50, 199, 200, 399, 400] {
            for chunk in [1, 3, 64, 400] {
                let mut into: Vec<u32> = (0..split as u32).collect();
                s.sort_indices(&mut into);
                for batch in (split as u32..400).collect::<Vec<_>>().chunks(chunk) {
                    let mut batch = batch.to_vec();
                    s.sort_indices(&mut batch);
                    s.merge_sorted(&mut into, &batch);
                }
                assert_eq!(into, expected, "split {split} chunk {chunk}");
            }
        }
    }
}
