//! What `print` keeps of the events its filter selects. The filter is known before loading,
//! so each batch is checked as it arrives and only the events that match are kept, each in
//! the bytes its output and its order need; the store holds no event, and the strings of the
//! resource index are dropped once their batch is checked. Printing every event of a million
//! holds 64 bytes an event instead of the store's 88 and its resource index.

use crate::model::raw::RawReader;
use crate::model::{Event, EventStore, IdBits, RawLoc, Sym, OWN_FIELDS};
use crate::query::{matcher::MatchCtx, Matcher, Query};
use std::sync::Arc;

/// An event that matched, as `print` writes it: its time and record (every format), its
/// interned fields and eventID (the table and CSV columns). 64 bytes.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    time: i64,
    event_id: IdBits,
    loc: RawLoc,
    profile: u32,
    own: [Sym; OWN_FIELDS],
    id_shapes: u8,
}

impl Row {
    fn of(ev: &Event) -> Row {
        Row {
            time: ev.time,
            event_id: ev.event_id,
            loc: ev.loc,
            profile: ev.profile,
            own: ev.own,
            // The eventID's shape; the requestID is not kept.
            id_shapes: ev.id_shapes & 0x0f,
        }
    }

    /// The event for the output's columns: what the row keeps, nothing else (no requestID,
    /// no resource index, no flags).
    pub fn event(&self) -> Event {
        Event {
            time: self.time,
            profile: self.profile,
            own: self.own,
            event_id: self.event_id,
            request_id: IdBits::default(),
            res_start: 0,
            res_len: 0,
            par_len: 0,
            loc: self.loc,
            flags: 0,
            id_shapes: self.id_shapes,
        }
    }

    /// Where the record is.
    pub fn loc(&self) -> RawLoc {
        self.loc
    }
}

/// The filter, checking batches as they are loaded, and what it kept.
pub struct Selection {
    matcher: Matcher,
    raw: Arc<RawReader>,
    rows: Vec<Row>,
    /// Strings of the resource index already dropped: the events of later batches say where
    /// their strings are counting these.
    resources_dropped: u32,
}

impl Selection {
    /// A selection by `q`, reading records back through `raw` where a term needs them.
    pub fn new(q: &Query, raw: Arc<RawReader>) -> Selection {
        Selection { matcher: Matcher::new(q).text_decided_at_load(), raw, rows: Vec::new(), resources_dropped: 0 }
    }

    /// Checks the events of the batch just applied to `store` (its only events), keeps those
    /// that match, and empties the store of events and resource strings.
    pub fn take_batch(&mut self, store: &mut EventStore) {
        let dropped = self.resources_dropped;
        for ev in &mut store.events {
            // An event without strings may point anywhere: it reads none.
            ev.res_start = ev.res_start.wrapping_sub(dropped);
        }
        self.matcher.prepare(store);
        let ctx = MatchCtx { store, raw: &self.raw };
        self.rows.extend(store.events.iter().filter(|ev| self.matcher.matches(ev, &ctx)).map(Row::of));
        self.resources_dropped = dropped.wrapping_add(store.resources.len() as u32);
        store.resources.clear();
        store.events.clear();
        // Kept by event index, and no event stays: none are asked for without rules.
        store.detections = Default::default();
    }

    /// What matched, newest first (ties by where the record is, as the store orders them).
    pub fn into_sorted(self) -> Vec<Row> {
        let mut rows = self.rows;
        let key = |r: &Row| (std::cmp::Reverse(r.time), r.loc.file, r.loc.offset);
        if rows.len() > 1 << 16 {
            use rayon::slice::ParallelSliceMut;
            rows.par_sort_unstable_by_key(key);
        } else {
            rows.sort_unstable_by_key(key);
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_64_bytes() {
        assert_eq!(std::mem::size_of::<Row>(), 64);
    }
}
