//! Which parts of a time window the store holds completely: interval arithmetic over closed
//! millisecond spans, with the delivery lag of event history taken into account.
//!
//! CloudTrail delivers an event to event history up to about 15 minutes after it happened. A
//! span fetched at time `f` is therefore final only up to `f - SETTLE_MS`; the part after that
//! is "unsettled": it answers a query that asks for nothing else (so the second identical query
//! costs no request), but when a query has to call AWS anyway, the unsettled part is fetched
//! again (de-duplication by EventId makes the overlap harmless).

/// How long after an event it may still appear in event history.
pub const SETTLE_MS: i64 = 15 * 60 * 1000;

/// A closed interval of milliseconds since the epoch: `start..=end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeSpan {
    pub start: i64,
    pub end: i64,
}

impl TimeSpan {
    pub fn new(start: i64, end: i64) -> TimeSpan {
        TimeSpan { start, end }
    }
}

/// A span fetched completely, and when it was fetched (the time the fetch's window was frozen).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Covered {
    pub start: i64,
    pub end: i64,
    pub fetched: i64,
}

impl Covered {
    fn span(&self) -> TimeSpan {
        TimeSpan::new(self.start, self.end)
    }
    /// The part that no late delivery can change any more.
    fn settled(&self) -> Option<TimeSpan> {
        let end = self.end.min(self.fetched - SETTLE_MS);
        (end >= self.start).then_some(TimeSpan::new(self.start, end))
    }
    fn fully_settled(&self) -> bool {
        self.end <= self.fetched - SETTLE_MS
    }
}

/// `window` minus the union of `spans`, oldest first.
pub fn subtract(window: TimeSpan, spans: impl IntoIterator<Item = TimeSpan>) -> Vec<TimeSpan> {
    let mut spans: Vec<TimeSpan> =
        spans.into_iter().filter(|s| s.end >= window.start && s.start <= window.end).collect();
    spans.sort_by_key(|s| s.start);
    let mut out = Vec::new();
    let mut cursor = window.start;
    for s in spans {
        if s.start > cursor {
            out.push(TimeSpan::new(cursor, s.start - 1));
        }
        cursor = cursor.max(s.end.saturating_add(1));
        if cursor > window.end {
            return out;
        }
    }
    if cursor <= window.end {
        out.push(TimeSpan::new(cursor, window.end));
    }
    out
}

/// The parts of `window` the store does not hold at all (what `--offline` reports).
pub fn missing(rows: &[Covered], window: TimeSpan) -> Vec<TimeSpan> {
    subtract(window, rows.iter().map(Covered::span))
}

/// What to fetch for `window`, newest first: nothing when the store holds all of it;
/// otherwise everything that is not settled, so that a query that calls AWS anyway also
/// picks up events delivered late to the span it fetched last time.
pub fn gaps(rows: &[Covered], window: TimeSpan) -> Vec<TimeSpan> {
    if missing(rows, window).is_empty() {
        return Vec::new();
    }
    let mut g = subtract(window, rows.iter().filter_map(Covered::settled));
    g.reverse();
    g
}

/// Adds a span fetched completely at `new.fetched`. Where it overlaps older rows it replaces
/// them (it is the fresher knowledge); neighbours are merged when no lag information is lost:
/// same fetch time, or the older side is settled anyway (then the merged row is conservative:
/// it may call part of that side unsettled, which costs a re-fetch, never a missed event).
pub fn add(rows: &[Covered], new: Covered) -> Vec<Covered> {
    if new.end < new.start {
        return rows.to_vec();
    }
    let mut pieces: Vec<Covered> = Vec::with_capacity(rows.len() + 1);
    for r in rows {
        for s in subtract(r.span(), [new.span()]) {
            pieces.push(Covered { start: s.start, end: s.end, fetched: r.fetched });
        }
    }
    pieces.push(new);
    pieces.sort_by_key(|c| c.start);
    let mut out: Vec<Covered> = Vec::with_capacity(pieces.len());
    for p in pieces {
        if let Some(last) = out.last_mut() {
            if p.start <= last.end.saturating_add(1) {
                if last.fetched == p.fetched {
                    last.end = last.end.max(p.end);
                    continue;
                }
                if last.fully_settled() && p.fetched >= last.fetched {
                    last.end = last.end.max(p.end);
                    last.fetched = p.fetched;
                    continue;
                }
                if p.fully_settled() && last.fetched >= p.fetched && p.end <= last.end {
                    continue;
                }
            }
        }
        out.push(p);
    }
    out
}

/// Drops what lies before `cutoff` (the events there were pruned).
pub fn clip_before(rows: &[Covered], cutoff: i64) -> Vec<Covered> {
    rows.iter().filter(|r| r.end >= cutoff).map(|r| Covered { start: r.start.max(cutoff), ..*r }).collect()
}

/// The span covered after one page of a fetch of `window` (LookupEvents returns newest
/// first): everything when the page was the last; otherwise from just after the oldest event
/// of the page (more events of that same millisecond may be on the next page) to the end.
pub fn after_page(window: TimeSpan, oldest_ms: Option<i64>, last: bool) -> Option<TimeSpan> {
    if last {
        return Some(window);
    }
    let start = oldest_ms?.saturating_add(1).max(window.start);
    (start <= window.end).then_some(TimeSpan::new(start, window.end))
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: i64 = 60_000;
    const H: i64 = 60 * M;

    fn c(start: i64, end: i64, fetched: i64) -> Covered {
        Covered { start, end, fetched }
    }

    #[test]
    fn subtracting_spans() {
        let w = TimeSpan::new(0, 100);
        assert_eq!(subtract(w, []), vec![w]);
        assert_eq!(subtract(w, [TimeSpan::new(0, 100)]), vec![]);
        assert_eq!(subtract(w, [TimeSpan::new(-5, 200)]), vec![]);
        assert_eq!(subtract(w, [TimeSpan::new(10, 20)]), vec![TimeSpan::new(0, 9), TimeSpan::new(21, 100)]);
        assert_eq!(
            subtract(w, [TimeSpan::new(50, 60), TimeSpan::new(10, 20), TimeSpan::new(15, 30)]),
            vec![TimeSpan::new(0, 9), TimeSpan::new(31, 49), TimeSpan::new(61, 100)]
        );
        assert_eq!(subtract(w, [TimeSpan::new(0, 49), TimeSpan::new(50, 100)]), vec![], "adjacent spans leave no gap");
        assert_eq!(subtract(w, [TimeSpan::new(101, 200)]), vec![w]);
    }

    #[test]
    fn a_covered_window_needs_nothing_even_when_recent() {
        let now = 100 * H;
        let rows = [c(now - 24 * H, now, now)];
        assert_eq!(gaps(&rows, TimeSpan::new(now - 24 * H, now)), vec![]);
        assert_eq!(gaps(&rows, TimeSpan::new(now - 2 * H, now - H)), vec![]);
    }

    #[test]
    fn a_later_window_fetches_the_new_part_and_the_unsettled_overlap() {
        let t1 = 100 * H;
        let rows = [c(t1 - 24 * H, t1, t1)];
        let t2 = t1 + 10 * M;
        // Asked again later: the 10 new minutes plus the 15 minutes before t1 that may still
        // receive late events.
        assert_eq!(gaps(&rows, TimeSpan::new(t2 - 24 * H, t2)), vec![TimeSpan::new(t1 - SETTLE_MS + 1, t2)]);
    }

    #[test]
    fn a_widened_window_fetches_only_the_older_gap_when_the_rest_is_settled() {
        let f = 100 * H;
        let rows = [c(f - 10 * H, f - 2 * H, f)];
        assert_eq!(gaps(&rows, TimeSpan::new(f - 20 * H, f - 2 * H)), vec![TimeSpan::new(f - 20 * H, f - 10 * H - 1)]);
        // Both sides missing: newest first.
        assert_eq!(
            gaps(&rows, TimeSpan::new(f - 20 * H, f - H)),
            vec![TimeSpan::new(f - 2 * H + 1, f - H), TimeSpan::new(f - 20 * H, f - 10 * H - 1)]
        );
    }

    #[test]
    fn missing_reports_uncovered_parts_regardless_of_lag() {
        let f = 100 * H;
        let rows = [c(f - 10 * H, f, f)];
        assert_eq!(missing(&rows, TimeSpan::new(f - 12 * H, f)), vec![TimeSpan::new(f - 12 * H, f - 10 * H - 1)]);
        assert_eq!(missing(&[], TimeSpan::new(1, 2)), vec![TimeSpan::new(1, 2)]);
    }

    #[test]
    fn adding_merges_pages_of_one_fetch() {
        let f = 100 * H;
        let w = TimeSpan::new(f - 10 * H, f);
        let mut rows = Vec::new();
        // Pages come newest first: the covered span grows downwards.
        for oldest in [f - H, f - 3 * H, f - 7 * H] {
            let s = after_page(w, Some(oldest), false).unwrap();
            rows = add(&rows, Covered { start: s.start, end: s.end, fetched: f });
            assert_eq!(rows, vec![c(oldest + 1, f, f)]);
        }
        let s = after_page(w, Some(f - 9 * H), true).unwrap();
        rows = add(&rows, Covered { start: s.start, end: s.end, fetched: f });
        assert_eq!(rows, vec![c(f - 10 * H, f, f)]);
    }

    #[test]
    fn adding_a_newer_fetch_keeps_the_older_settled_part() {
        let t1 = 100 * H;
        let rows = vec![c(t1 - 24 * H, t1, t1)];
        let t2 = t1 + 2 * H;
        let rows = add(&rows, c(t1 - SETTLE_MS + 1, t2, t2));
        // The old row was settled up to where the new one begins: one row, fetched at t2.
        assert_eq!(rows, vec![c(t1 - 24 * H, t2, t2)]);
        assert_eq!(gaps(&rows, TimeSpan::new(t1 - 24 * H, t2)), vec![]);
        assert_eq!(gaps(&rows, TimeSpan::new(t1 - 24 * H, t2 + 1)), vec![TimeSpan::new(t2 - SETTLE_MS + 1, t2 + 1)]);
    }

    #[test]
    fn a_partial_fetch_in_the_unsettled_zone_does_not_settle_older_data() {
        let t1 = 100 * H;
        let rows = vec![c(0, t1, t1)];
        // A later fetch stopped part way: it covers only the last minute of the old row.
        let t2 = t1 + M;
        let rows = add(&rows, c(t1 - M, t2, t2));
        // The stretch between t1-15m and t1-1m is still unsettled (fetched at t1).
        let g = gaps(&rows, TimeSpan::new(0, t2 + 1));
        assert_eq!(g.last().unwrap().start, t1 - SETTLE_MS + 1, "{g:?}");
    }

    #[test]
    fn an_empty_or_inverted_span_changes_nothing() {
        let rows = vec![c(10, 20, 30)];
        assert_eq!(add(&rows, c(5, 4, 40)), rows);
        assert_eq!(after_page(TimeSpan::new(0, 10), Some(10), false), None);
        assert_eq!(after_page(TimeSpan::new(0, 10), None, false), None);
        assert_eq!(after_page(TimeSpan::new(0, 10), None, true), Some(TimeSpan::new(0, 10)));
    }

    #[test]
    fn clipping_before_a_cutoff() {
        let rows = vec![c(0, 10, 50), c(20, 30, 50)];
        assert_eq!(clip_before(&rows, 25), vec![c(25, 30, 50)]);
        assert_eq!(clip_before(&rows, 5), vec![c(5, 10, 50), c(20, 30, 50)]);
    }
}
