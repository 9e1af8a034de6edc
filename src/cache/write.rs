//! Writing the store: fetched pages with the coverage they complete, and removing events
//! (a prune, the size limit, clearing), each in one transaction.
//!
//! Every removal of events counts itself in `meta.removals`, in the transaction that removes
//! them. A fetch ([`PageFetch`]) reads the count with each page it commits: when it changed
//! since the fetch's last page, events of its earlier pages may be gone (another process
//! pruned, or made room), and from then on the fetch claims only what its later pages hold by
//! themselves ([`PageClaims::restart`]). So coverage never names events that are not stored.
//!
//! The size limit holds at every commit, newest events first. A page that needs room is
//! stored only if it is newer than the oldest event kept, and then events older than the
//! page make room for it; a page older than everything kept is not stored (it would be the
//! first to go), nor is the rest of its window. A query over more than the cache can hold
//! keeps its newest part; asking it again fetches the rest without storing or evicting
//! anything, so no run evicts what the next one has to fetch again.

use super::coverage::{self, PageClaims, TimeSpan};
use super::{coverage_of, files, set_coverage, used_bytes, Result, Store, StoredEvent};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

/// One fetch of one window of a lookup, as it commits its pages (newest first).
#[derive(Clone, Debug)]
pub struct PageFetch {
    lookup: i64,
    claims: PageClaims,
    /// `meta.removals` after this fetch's last commit; `None` before its first page.
    removals: Option<i64>,
    /// Why the rest of the window is not stored, once it is not.
    stopped: Option<Committed>,
}

impl PageFetch {
    /// A fetch of `window` for `lookup`, whose query was frozen at `fetched_ms`.
    pub fn new(lookup: i64, window: TimeSpan, fetched_ms: i64) -> PageFetch {
        PageFetch { lookup, claims: PageClaims::new(window, fetched_ms), removals: None, stopped: None }
    }

    /// The window being fetched.
    pub fn window(&self) -> TimeSpan {
        self.claims.window()
    }
}

/// What became of a fetched page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Committed {
    /// Stored with the span it completes; `evicted` older events made room for it.
    Kept {
        /// Older events removed to make room.
        evicted: u64,
    },
    /// Not stored: the cache is at its size limit and this page (and the rest of its window,
    /// older still) would be the first to go.
    Full,
    /// Not stored: the lookup was removed (`trailscope cache clear`) during the fetch.
    Cleared,
}

/// How full the store is, for the size limit.
struct Room {
    used: u64,
    events: u64,
    oldest: Option<i64>,
    /// Bytes the store takes with no event at all: one page per table and index.
    base: u64,
}

impl Room {
    fn measure(conn: &Connection) -> Result<Room> {
        let (events, oldest): (i64, Option<i64>) =
            conn.query_row("SELECT count(*), min(time_ms) FROM events", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let trees: i64 =
            conn.query_row("SELECT count(*) + 1 FROM sqlite_master WHERE rootpage > 0", [], |r| r.get(0))?;
        let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok(Room { used: used_bytes(conn)?, events: events as u64, oldest, base: (trees * page) as u64 })
    }

    /// Bytes one event takes, all told (its row, its index entries, its link): the store's
    /// average, or for an empty store twice its text.
    fn per_event(&self, page: &[StoredEvent]) -> u64 {
        if let Some(average) = self.used.saturating_sub(self.base).checked_div(self.events) {
            return average.max(256);
        }
        let text: usize = page.iter().map(|e| e.cloudtrail_event.len() + e.event_id.len() + 200).sum();
        (2 * text / page.len().max(1)) as u64
    }
}

fn removals(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT value FROM meta WHERE key = 'removals'", [], |r| r.get(0))?)
}

fn insert_events(tx: &Connection, lookup: i64, region: &str, events: &[StoredEvent]) -> Result<()> {
    let stored = crate::model::time::now_ms();
    let mut insert = tx.prepare_cached(
        "INSERT INTO events (account, region, event_id, time_ms, event_name, event_source, username,
            access_key_id, read_only, error_code, category, stored_ms, cloudtrail_event)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (account, region, event_id) DO UPDATE SET stored_ms = excluded.stored_ms
         RETURNING id",
    )?;
    let mut link =
        tx.prepare_cached("INSERT OR IGNORE INTO lookup_events (lookup, time_ms, event) VALUES (?1, ?2, ?3)")?;
    for e in events {
        let id: i64 = insert.query_row(
            params![
                e.account,
                region,
                e.event_id,
                e.time_ms,
                e.event_name,
                e.event_source,
                e.username,
                e.access_key_id,
                e.read_only,
                e.error_code,
                e.category,
                stored,
                e.cloudtrail_event
            ],
            |r| r.get(0),
        )?;
        link.execute(params![lookup, e.time_ms, id])?;
    }
    Ok(())
}

/// Removes the events older than `cutoff_ms` (event time) and the coverage that described
/// them, and counts the removal; returns how many events went.
fn prune_in(tx: &Connection, cutoff_ms: i64) -> Result<u64> {
    // Through the key (lookup, time_ms): no scan of every link.
    tx.execute("DELETE FROM lookup_events WHERE lookup IN (SELECT id FROM lookups) AND time_ms < ?1", [cutoff_ms])?;
    let n = tx.execute("DELETE FROM events WHERE time_ms < ?1", [cutoff_ms])? as u64;
    let lookups: Vec<i64> = {
        let mut st = tx.prepare("SELECT DISTINCT lookup FROM coverage WHERE start_ms < ?1")?;
        let ids = st.query_map([cutoff_ms], |r| r.get(0))?.collect::<std::result::Result<Vec<i64>, _>>()?;
        ids
    };
    for l in lookups {
        let rows = coverage::clip_before(&coverage_of(tx, l)?, cutoff_ms);
        set_coverage(tx, l, &rows)?;
    }
    if n > 0 {
        tx.execute("UPDATE meta SET value = value + 1 WHERE key = 'removals'", [])?;
    }
    Ok(n)
}

/// Removes about the `n` oldest events (all of the last one's millisecond), but none at or
/// after `bound`; returns how many went and the cutoff.
fn evict_oldest(tx: &Connection, n: u64, bound: i64) -> Result<(u64, i64)> {
    let nth: Option<i64> = tx
        .query_row("SELECT time_ms FROM events ORDER BY time_ms LIMIT 1 OFFSET ?1", [n.max(1) as i64 - 1], |r| r.get(0))
        .optional()?;
    let cutoff = nth.map_or(bound, |t| t.saturating_add(1).min(bound));
    Ok((prune_in(tx, cutoff)?, cutoff))
}

/// Removes the oldest events while the store uses more than `max` bytes; returns how many
/// went and the last cutoff.
fn trim(tx: &Connection, max: u64) -> Result<(u64, Option<i64>)> {
    let (mut removed, mut cutoff) = (0, None);
    // Freed pages are counted at once; a few rounds absorb estimates that were short.
    for _ in 0..8 {
        if used_bytes(tx)? <= max {
            break;
        }
        let room = Room::measure(tx)?;
        if room.events == 0 {
            break;
        }
        let n = (room.used - max).div_ceil(room.per_event(&[])).clamp(1, room.events);
        let (r, c) = evict_oldest(tx, n, i64::MAX)?;
        removed += r;
        cutoff = Some(c);
    }
    Ok((removed, cutoff))
}

impl Store {
    /// Stores one fetched page of `fetch`'s window (its events, whose oldest is at
    /// `oldest_ms`; `last`: the window's last page) with the span it completes, in one
    /// transaction, keeping the size limit (see the module documentation).
    pub fn commit_page(
        &mut self,
        fetch: &mut PageFetch,
        region: &str,
        events: &[StoredEvent],
        oldest_ms: Option<i64>,
        last: bool,
    ) -> Result<Committed> {
        if let Some(why) = fetch.stopped {
            return Ok(why);
        }
        let max = self.max_bytes;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: Option<i64> =
            tx.query_row("SELECT id FROM lookups WHERE id = ?1", [fetch.lookup], |r| r.get(0)).optional()?;
        if exists.is_none() {
            fetch.stopped = Some(Committed::Cleared);
            return Ok(Committed::Cleared);
        }
        let removed_so_far = removals(&tx)?;
        if fetch.removals.is_some_and(|r| r != removed_so_far) {
            fetch.claims.restart();
        }
        let mut evicted = 0;
        let newest = events.iter().map(|e| e.time_ms).max();
        let page_oldest = events.iter().map(|e| e.time_ms).min();
        if let (Some(newest), Some(page_oldest)) = (newest, page_oldest) {
            let rough: u64 = events.iter().map(|e| 2 * (e.cloudtrail_event.len() as u64 + 200)).sum();
            if max != u64::MAX && used_bytes(&tx)? + rough > max / 2 {
                let room = Room::measure(&tx)?;
                let need = room.per_event(events) * events.len() as u64;
                if room.used + need > max {
                    if room.oldest.is_none_or(|o| newest <= o) {
                        fetch.stopped = Some(Committed::Full);
                        return Ok(Committed::Full);
                    }
                    // Only events older than the page: the fetch's earlier pages stay whole.
                    let n = (room.used + need - max).div_ceil(room.per_event(events));
                    evicted += evict_oldest(&tx, n, page_oldest)?.0;
                }
            }
        }
        insert_events(&tx, fetch.lookup, region, events)?;
        if let Some(c) = fetch.claims.next(oldest_ms, last) {
            let rows = coverage::add(&coverage_of(&tx, fetch.lookup)?, c);
            set_coverage(&tx, fetch.lookup, &rows)?;
        }
        // Estimates are estimates: what is still over goes now, oldest first.
        let (trimmed, cutoff) = if max == u64::MAX { (0, None) } else { trim(&tx, max)? };
        fetch.removals = Some(removals(&tx)?);
        tx.commit()?;
        if cutoff.is_some_and(|c| page_oldest.is_some_and(|o| c > o)) {
            // The trim reached into this page; the rest of the window is older still.
            fetch.stopped = Some(Committed::Full);
        }
        Ok(Committed::Kept { evicted: evicted + trimmed })
    }

    /// Bytes the database uses (pages in use, not free ones): what the size limit counts.
    pub fn used_bytes(&self) -> Result<u64> {
        used_bytes(&self.conn)
    }

    /// The size limit commits keep to (see [`Store::enforce_limit`]).
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Removes events older than `cutoff_ms` (event time) and the coverage that described
    /// them; returns how many events went.
    pub fn prune_before(&mut self, cutoff_ms: i64) -> Result<u64> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = prune_in(&tx, cutoff_ms)?;
        tx.commit()?;
        Ok(n)
    }

    /// Sets the size limit that every later commit keeps to, and keeps it now: the oldest
    /// events go until the database uses at most `max_bytes` (the archive index goes when no
    /// event is left); a file left much larger than the limit gives its free pages back.
    /// Returns how many events were removed.
    pub fn enforce_limit(&mut self, max_bytes: u64) -> Result<u64> {
        self.max_bytes = max_bytes;
        if used_bytes(&self.conn)? <= max_bytes {
            return Ok(0);
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (removed, _) = trim(&tx, max_bytes)?;
        if used_bytes(&tx)? > max_bytes {
            // Only the archive index takes space: drop it, it is rebuilt on the next load.
            files::clear(&tx)?;
        }
        tx.commit()?;
        let page: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let (pages, free): (i64, i64) = (
            self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?,
            self.conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?,
        );
        if (pages * page) as u64 > max_bytes && (free * page) as u64 > max_bytes / 8 {
            self.vacuum()?;
        }
        Ok(removed)
    }

    /// Empties the store (events, coverage, archive index, S3 listings and objects) and gives the space back.
    pub fn clear(&mut self) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch("DELETE FROM lookup_events; DELETE FROM coverage; DELETE FROM lookups; DELETE FROM events;")?;
        tx.execute("UPDATE meta SET value = value + 1 WHERE key = 'removals'", [])?;
        files::clear(&tx)?;
        super::s3::clear(&tx)?;
        tx.commit()?;
        self.vacuum()
    }

    /// Gives free pages back to the file system.
    pub fn vacuum(&mut self) -> Result<()> {
        self.conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }
}
