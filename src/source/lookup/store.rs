//! The local store as live history uses it: what it has for a window, what is left to fetch.

use super::{LiveConfig, LiveError};
use crate::cache::coverage::{self, TimeSpan};
use crate::cache::{LookupKey, Store};

/// How many stored events go into one lookup-events body handed to the loader.
pub(super) const CACHE_CHUNK: usize = 5000;

/// The store as the live source uses it: disabled (with a note) at the first failure, so a
/// full disk or a damaged file costs the cache, never the fetch.
pub(super) struct LiveStore {
    pub(super) store: Option<Store>,
    pub(super) notes: Vec<String>,
}

impl LiveStore {
    pub(super) fn open(cfg: &LiveConfig) -> LiveStore {
        let mut notes = Vec::new();
        let store = cfg.cache.as_ref().and_then(|c| {
            // Offline only reads: a cache that cannot be written still answers.
            let opened = if cfg.offline {
                Store::open_for_reading(&c.dir, &mut notes)
            } else {
                Store::open(&c.dir, &mut notes).and_then(|mut s| {
                    let removed = s.enforce_limit(c.max_bytes)?;
                    if removed > 0 {
                        notes.push(format!(
                            "the cache was over its size limit: the {removed} oldest events were removed"
                        ));
                    }
                    Ok(s)
                })
            };
            match opened {
                Ok(s) => Some(s),
                Err(e) => {
                    notes.push(format!("running without the cache: {e}"));
                    None
                }
            }
        });
        LiveStore { store, notes: notes.iter().map(|n| crate::sanitize::sanitize(n).into_owned()).collect() }
    }

    /// A note said once per run, however many pages it is about.
    pub(super) fn note_once(&mut self, note: &str) {
        let note = crate::sanitize::sanitize(note).into_owned();
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    pub(super) fn failed(&mut self, what: &str, e: crate::cache::StoreError) {
        self.store = None;
        let mut note = format!("{what} failed, continuing without the cache: {e}");
        if e.is_corrupt() {
            note.push_str(" (the database is damaged; it is moved aside at the next start)");
        }
        self.notes.push(crate::sanitize::sanitize(&note).into_owned());
    }
}

/// The regions `--offline` answers for: those named, else the environment's, else every region
/// the store has for this identity.
pub(super) fn offline_regions(cfg: &LiveConfig, store: Option<&Store>, scope: &str) -> Result<Vec<String>, LiveError> {
    let mut regions: Vec<String> = cfg.regions.iter().filter(|r| r.as_str() != "all").cloned().collect();
    if regions.is_empty() && !cfg.regions.iter().any(|r| r == "all") {
        let env =
            ["AWS_REGION", "AWS_DEFAULT_REGION"].iter().find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
        regions.extend(env);
    }
    if regions.is_empty() {
        if let Some(s) = store {
            regions = s.regions(scope).map_err(LiveError::ReadingCache)?;
        }
    }
    regions.dedup();
    if regions.is_empty() {
        return Err(LiveError::OfflineNothingCached);
    }
    Ok(regions)
}

/// What the store had for one region's window.
pub(super) struct FromStore {
    pub(super) lookup: Option<i64>,
    /// What still has to be fetched, newest first.
    pub(super) gaps: Vec<TimeSpan>,
    /// What the store does not cover at all (for `--offline`).
    pub(super) missing: Vec<TimeSpan>,
}

/// Reads a lookup's stored events within `window` into `out` and works out what is left to
/// fetch. `create` registers the lookup (a fetch will follow).
///
/// A query with a lookup attribute is answered from `all` (the same lookup without an
/// attribute) when that covers the whole window: every event of the window is then in the
/// store, and the filter applies the attribute's term locally anyway, so the result is the
/// one AWS would give, with no request.
pub(super) fn from_store(
    s: &Store,
    key: &LookupKey,
    all: Option<&LookupKey>,
    window: TimeSpan,
    create: bool,
    out: &mut dyn FnMut(Vec<u8>, usize),
) -> Result<FromStore, crate::cache::StoreError> {
    // Coverage and the events it describes are read from one snapshot: a prune by another
    // process in between cannot make a covered window come back short.
    if let Some(all_id) = all.map(|k| s.lookup_id(k, false)).transpose()?.flatten() {
        let answered = s.snapshot(|s| {
            let covered = coverage::missing(&s.coverage(all_id)?, window).is_empty();
            if covered {
                s.read_window(all_id, window, CACHE_CHUNK, out)?;
            }
            Ok(covered)
        })?;
        if answered {
            return Ok(FromStore { lookup: None, gaps: Vec::new(), missing: Vec::new() });
        }
    }
    let Some(lookup) = s.lookup_id(key, create)? else {
        // Offline, never fetched: one empty body, so the region counts as read.
        out(crate::cache::LookupBody::new().finish(), 0);
        return Ok(FromStore { lookup: None, gaps: vec![window], missing: vec![window] });
    };
    let rows = s.snapshot(|s| {
        let rows = s.coverage(lookup)?;
        s.read_window(lookup, window, CACHE_CHUNK, out)?;
        Ok(rows)
    })?;
    Ok(FromStore {
        lookup: Some(lookup),
        gaps: coverage::gaps(&rows, window),
        missing: coverage::missing(&rows, window),
    })
}
