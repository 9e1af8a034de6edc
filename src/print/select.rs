//! What `print` keeps of the events its filter selects. The filter is known before loading,
//! so each batch is checked as it arrives and only the events that match are kept, each in
//! the bytes its output and its order need; the store holds no event, and the strings of the
//! resource index (and the detection hits) are dropped once their batch is checked. Printing
//! every record of a million events holds 16 bytes an event (40 for CSV and a table) instead
//! of the store's 72 and its resource index.

use crate::model::events::sort_by_key;
use crate::model::raw::RawReader;
use crate::model::{Event, EventStore, RawLoc, Sym, OWN_FIELDS};
use crate::query::{matcher::MatchCtx, Matcher, Query};
use crate::sigma::RuleSet;
use std::sync::Arc;

/// An event that matched, as `print` writes it: its time and record (every format), its
/// interned fields and whether it has an eventID (the table and CSV columns; the id is read
/// from the record). 40 bytes.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    time: i64,
    loc: RawLoc,
    profile: u32,
    caller: u32,
    own: [Sym; OWN_FIELDS],
    id_hash: u32,
}

impl Row {
    fn of(ev: &Event) -> Row {
        Row { time: ev.time(), loc: ev.loc, profile: ev.profile, caller: ev.caller, own: ev.own, id_hash: ev.id_hash }
    }

    /// The event for the output's columns: what the row keeps, nothing else (no requestID,
    /// no resource index, no flags).
    pub fn event(&self) -> Event {
        let mut ev = Event {
            profile: self.profile,
            caller: self.caller,
            own: self.own,
            id_hash: self.id_hash,
            loc: self.loc,
            ..Event::default()
        };
        ev.set_time(self.time);
        ev
    }
}

/// An event that matched, as `print` writes its record (JSON Lines, a JSON array): its time
/// and where the record is. 16 bytes.
#[derive(Clone, Copy, Debug)]
pub struct RecordRow {
    time_hi: i32,
    time_lo: u32,
    loc: RawLoc,
}

impl RecordRow {
    fn of(ev: &Event) -> RecordRow {
        RecordRow { time_hi: (ev.time() >> 32) as i32, time_lo: ev.time() as u32, loc: ev.loc }
    }

    fn time(&self) -> i64 {
        (i64::from(self.time_hi) << 32) | i64::from(self.time_lo)
    }

    /// Where the record is.
    pub fn loc(&self) -> RawLoc {
        self.loc
    }
}

/// What is kept of each event that matched: the records alone, or the columns too.
pub enum Rows {
    /// For output of the records as they are.
    Records(Vec<RecordRow>),
    /// For output of the list's columns (CSV, a table).
    Columns(Vec<Row>),
}

/// The filter, checking batches as they are loaded, and what it kept.
pub struct Selection {
    matcher: Matcher,
    /// The detection rules the filter asks about (`rule:`, `level:`, `has:rule`).
    rules: Option<Arc<RuleSet>>,
    raw: Arc<RawReader>,
    rows: Rows,
    /// Strings of the resource index already dropped: the events of later batches say where
    /// their strings are counting these.
    resources_dropped: u32,
}

impl Selection {
    /// A selection by `q`, reading records back through `raw` where a term needs them, keeping
    /// the columns of what matched when `columns`, else only where its record is.
    /// With `rules`, the hits the source found as it parsed each record are the batch's; the
    /// records it did not evaluate are read back and evaluated with the batch.
    pub fn new(q: &Query, raw: Arc<RawReader>, columns: bool, rules: Option<Arc<RuleSet>>) -> Selection {
        let rows = if columns { Rows::Columns(Vec::new()) } else { Rows::Records(Vec::new()) };
        Selection { matcher: Matcher::new(q).text_decided_at_load(), rules, raw, rows, resources_dropped: 0 }
    }

    /// Checks the events of the batch just applied to `store` (its only events), keeps those
    /// that match, and empties the store of events and resource strings.
    pub fn take_batch(&mut self, store: &mut EventStore) {
        let dropped = self.resources_dropped;
        for ev in &mut store.events {
            // An event without strings may point anywhere: it reads none.
            ev.res_start = ev.res_start.wrapping_sub(dropped);
        }
        if let Some(rules) = &self.rules {
            // The batch's hits are by its events, the store's only ones.
            super::detect::fill(rules, store, &self.raw);
        }
        self.matcher.prepare(store);
        let ctx = MatchCtx { store, raw: &self.raw };
        let matched = store.events.iter().filter(|ev| self.matcher.matches(ev, &ctx));
        match &mut self.rows {
            Rows::Records(rows) => rows.extend(matched.map(RecordRow::of)),
            Rows::Columns(rows) => rows.extend(matched.map(Row::of)),
        }
        self.resources_dropped = dropped.wrapping_add(store.resources.len() as u32);
        store.resources.clear();
        store.events.clear();
        // Kept by event index, and no event stays.
        store.detections = Default::default();
    }

    /// What matched, newest first (ties by where the record is, as the store orders them).
    pub fn into_sorted(self) -> Rows {
        let mut rows = self.rows;
        match &mut rows {
            Rows::Records(r) => sort_by_key(r, |r| (std::cmp::Reverse(r.time()), r.loc.file, r.loc.offset)),
            Rows::Columns(r) => sort_by_key(r, |r| (std::cmp::Reverse(r.time), r.loc.file, r.loc.offset)),
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_40_and_16_bytes() {
        assert_eq!(std::mem::size_of::<Row>(), 40);
        assert_eq!(std::mem::size_of::<RecordRow>(), 16);
    }

    #[test]
    fn a_record_row_keeps_the_time_whole() {
        let mut ev = Event { loc: RawLoc::new(3, 7), ..Event::default() };
        for t in [0, 1, -1, 1_767_225_600_000, -62_167_219_200_000, i64::MIN, i64::MAX, 1 << 32, (1 << 32) - 1] {
            ev.set_time(t);
            // What the event holds (a time beyond about 139 years of 1970 is held as none).
            assert_eq!(ev.time() == t, Event::holds_time(t) || t == crate::model::NO_TIME, "{t}");
            let r = RecordRow::of(&ev);
            assert_eq!((r.time(), r.loc()), (ev.time(), ev.loc), "{t}");
        }
    }
}
