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
    /// First millisecond.
    pub start: i64,
    /// Last millisecond.
    pub end: i64,
}

impl TimeSpan {
    /// `start..=end`.
    pub fn new(start: i64, end: i64) -> TimeSpan {
        TimeSpan { start, end }
    }
}

/// A span fetched completely, and when it was fetched (the time the fetch's window was frozen).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Covered {
    /// First millisecond covered.
    pub start: i64,
    /// Last millisecond covered.
    pub end: i64,
    /// When the fetch's window was frozen (ms).
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
    let mut m = subtract(window, rows.iter().map(Covered::span));
    m.retain(holds_a_second);
    m
}

/// What to fetch for `window`, newest first: nothing when the store holds all of it;
/// otherwise everything that is not settled, so that a query that calls AWS anyway also
/// picks up events delivered late to the span it fetched last time.
pub fn gaps(rows: &[Covered], window: TimeSpan) -> Vec<TimeSpan> {
    if missing(rows, window).is_empty() {
        return Vec::new();
    }
    let mut g = subtract(window, rows.iter().filter_map(Covered::settled));
    g.retain(holds_a_second);
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

/// What one fetch of a window may claim as covered, page after page (LookupEvents returns
/// newest first).
///
/// After a page whose oldest event is at `o`, the fetch has every event from `o + 1` to the
/// window's end, provided the events of its earlier pages are still stored (more events of
/// millisecond `o` may be on the next page, so `o` itself is not claimed). When they may not
/// be (a prune or an eviction came between two pages: [`PageClaims::restart`]), it claims only
/// what its later pages hold by themselves: up to just before the oldest event of the last
/// page before the removal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageClaims {
    window: TimeSpan,
    fetched: i64,
    /// The newest time a claim may reach.
    upper: i64,
    /// The oldest event time of the pages so far.
    oldest: Option<i64>,
}

impl PageClaims {
    /// A fetch of `window` whose query was frozen at `fetched` (ms).
    pub fn new(window: TimeSpan, fetched: i64) -> PageClaims {
        PageClaims { window, fetched, upper: window.end, oldest: None }
    }

    /// The window fetched.
    pub fn window(&self) -> TimeSpan {
        self.window
    }

    /// The events of earlier pages may have been removed: later claims stop short of them.
    pub fn restart(&mut self) {
        if let Some(o) = self.oldest {
            self.upper = self.upper.min(o - 1);
        }
    }

    /// The span covered after a page whose oldest event is at `oldest_ms` (`None`: an empty
    /// page); `last`: the window's last page, which completes it down to its start.
    pub fn next(&mut self, oldest_ms: Option<i64>, last: bool) -> Option<Covered> {
        let start = match (last, oldest_ms) {
            (true, _) => self.window.start,
            (false, Some(o)) => o.saturating_add(1).max(self.window.start),
            (false, None) => return None,
        };
        if let Some(o) = oldest_ms {
            self.oldest = Some(self.oldest.map_or(o, |p| p.min(o)));
        }
        (start <= self.upper).then_some(Covered { start, end: self.upper, fetched: self.fetched })
    }
}

/// Whether a stretch of time can hold an event: CloudTrail's event times are whole seconds,
/// so one that holds no whole second holds none (the end of one window and the start of the
/// next, a few hundred milliseconds apart, leave no gap).
fn holds_a_second(span: &TimeSpan) -> bool {
    first_second(span) <= span.end
}

fn first_second(span: &TimeSpan) -> i64 {
    span.start.div_euclid(1000).saturating_add((span.start.rem_euclid(1000) != 0) as i64).saturating_mul(1000)
}

/// A span as the user reads it: its first and last whole second (one when they are the same).
pub fn describe(span: TimeSpan) -> String {
    use crate::model::time::format_rfc3339;
    let (first, last) = (first_second(&span), span.end.div_euclid(1000) * 1000);
    if first >= last {
        format_rfc3339(first.min(span.end))
    } else {
        format!("{} to {}", format_rfc3339(first), format_rfc3339(last))
    }
}

/// The span a fetch of `window` has delivered after one page (LookupEvents returns newest
/// first): everything when the page was the last; otherwise from just after the oldest event
/// of the page (more events of that same millisecond may be on the next page) to the end.
/// What the store may claim is decided by [`PageClaims`]; this is what the consumer was sent.
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
        assert_eq!(missing(&[], TimeSpan::new(1, 2000)), vec![TimeSpan::new(1, 2000)]);
    }

    #[test]
    fn adding_merges_pages_of_one_fetch() {
        let f = 100 * H;
        let w = TimeSpan::new(f - 10 * H, f);
        let mut claims = PageClaims::new(w, f);
        let mut rows = Vec::new();
        // Pages come newest first: the covered span grows downwards.
        for oldest in [f - H, f - 3 * H, f - 7 * H] {
            rows = add(&rows, claims.next(Some(oldest), false).unwrap());
            assert_eq!(rows, vec![c(oldest + 1, f, f)]);
        }
        rows = add(&rows, claims.next(Some(f - 9 * H), true).unwrap());
        assert_eq!(rows, vec![c(f - 10 * H, f, f)]);
    }

    #[test]
    fn after_a_removal_a_fetch_claims_only_what_its_later_pages_hold() {
        let f = 100 * H;
        let mut claims = PageClaims::new(TimeSpan::new(0, f), f);
        assert_eq!(claims.next(Some(f - H), false), Some(c(f - H + 1, f, f)));
        assert_eq!(claims.next(Some(f - 2 * H), false), Some(c(f - 2 * H + 1, f, f)));
        // Events older than f - 90m were pruned after that page: the page's oldest millisecond
        // is no longer claimed, nor anything newer.
        claims.restart();
        assert_eq!(claims.next(Some(f - 3 * H), false), Some(c(f - 3 * H + 1, f - 2 * H - 1, f)));
        assert_eq!(claims.next(None, false), None, "an empty page claims nothing");
        assert_eq!(claims.next(Some(f - 4 * H), true), Some(c(0, f - 2 * H - 1, f)));
        // A removal before the first page: the first page holds its span by itself.
        let mut claims = PageClaims::new(TimeSpan::new(0, f), f);
        claims.restart();
        assert_eq!(claims.next(Some(f - H), false), Some(c(f - H + 1, f, f)));
    }

    #[test]
    fn a_stretch_without_a_whole_second_is_no_gap() {
        let rows = [c(0, 5_200, 10_000)];
        assert_eq!(missing(&rows, TimeSpan::new(0, 5_900)), vec![]);
        assert_eq!(gaps(&rows, TimeSpan::new(0, 5_900)), vec![]);
        assert_eq!(missing(&rows, TimeSpan::new(0, 6_000)), vec![TimeSpan::new(5_201, 6_000)]);
        assert_eq!(describe(TimeSpan::new(5_201, 6_000)), "1970-01-01T00:00:06Z");
        assert_eq!(describe(TimeSpan::new(5_201, 9_500)), "1970-01-01T00:00:06Z to 1970-01-01T00:00:09Z");
        assert_eq!(describe(TimeSpan::new(-1_500, -1_000)), "1969-12-31T23:59:59Z");
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
        // One more second: what is not settled is asked for again.
        let later = TimeSpan::new(t1 - 24 * H, t2 + 1000);
        assert_eq!(gaps(&rows, later), vec![TimeSpan::new(t2 - SETTLE_MS + 1, t2 + 1000)]);
    }

    #[test]
    fn a_partial_fetch_in_the_unsettled_zone_does_not_settle_older_data() {
        let t1 = 100 * H;
        let rows = vec![c(0, t1, t1)];
        // A later fetch stopped part way: it covers only the last minute of the old row.
        let t2 = t1 + M;
        let rows = add(&rows, c(t1 - M, t2, t2));
        // The stretch between t1-15m and t1-1m is still unsettled (fetched at t1).
        let g = gaps(&rows, TimeSpan::new(0, t2 + 1000));
        assert_eq!(g.last().unwrap().start, t1 - SETTLE_MS + 1, "{g:?}");
    }

    #[test]
    fn an_empty_or_inverted_span_changes_nothing() {
        let rows = vec![c(10, 20, 30)];
        assert_eq!(add(&rows, c(5, 4, 40)), rows);
        let claims = || PageClaims::new(TimeSpan::new(0, 10), 50);
        assert_eq!(claims().next(Some(10), false), None);
        assert_eq!(claims().next(None, false), None);
        assert_eq!(claims().next(None, true), Some(c(0, 10, 50)));
    }

    #[test]
    fn clipping_before_a_cutoff() {
        let rows = vec![c(0, 10, 50), c(20, 30, 50)];
        assert_eq!(clip_before(&rows, 25), vec![c(25, 30, 50)]);
        assert_eq!(clip_before(&rows, 5), vec![c(5, 10, 50), c(20, 30, 50)]);
    }
}
