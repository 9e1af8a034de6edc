//! The local store as log groups use it: per (identity, region, log group, pattern), the time
//! spans read completely, and the records read, so that a covered window is answered with no
//! request and `--offline` works.
//!
//! A window's pages come oldest first and streams one after another, so no page completes a
//! span by itself: the records of a span are committed together, with the span, once its last
//! page is in. A span with a record that has no eventID or no readable eventTime is not stored
//! (the store keys records by account, region and eventID).

use crate::cache::coverage::{self, TimeSpan};
use crate::cache::{CacheConfig, LookupKey, PageFetch, Store, StoredEvent};
use std::sync::Mutex;

/// How many stored records go into one body handed to the loader.
const CHUNK: usize = 5000;

/// The store as the log groups of one run share it: disabled (with a note) at the first
/// failure, so a full disk or a damaged file costs the cache, never the reading.
pub struct LogsStore {
    store: Mutex<Option<Store>>,
    /// What the store had to say (sanitised).
    pub notes: Mutex<Vec<String>>,
}

/// What the store had for one group's window.
pub struct FromStore {
    /// The group's lookup, when it has one (or one was made).
    pub lookup: Option<i64>,
    /// What is left to read, newest first.
    pub gaps: Vec<TimeSpan>,
    /// What the store does not hold at all (what `--offline` reports).
    pub missing: Vec<TimeSpan>,
    /// Records read from the store.
    pub events: usize,
}

impl LogsStore {
    /// Opens the store (for reading only with `offline`); `None` config: no store.
    pub fn open(cfg: Option<&CacheConfig>, offline: bool) -> LogsStore {
        let mut notes = Vec::new();
        let store = cfg.and_then(|c| {
            let opened = if offline {
                Store::open_for_reading(&c.dir, &mut notes)
            } else {
                Store::open(&c.dir, &mut notes).and_then(|mut s| {
                    s.enforce_limit(c.max_bytes)?;
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
        let notes = notes.iter().map(|n| crate::sanitize::sanitize(n).into_owned()).collect();
        LogsStore { store: Mutex::new(store), notes: Mutex::new(notes) }
    }

    /// Whether a store is open.
    pub fn is_open(&self) -> bool {
        self.store.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    fn failed(&self, slot: &mut Option<Store>, what: &str, e: crate::cache::StoreError) {
        *slot = None;
        let mut note = format!("{what} failed, continuing without the cache: {e}");
        if e.is_corrupt() {
            note.push_str(" (the database is damaged; it is moved aside at the next start)");
        }
        self.notes.lock().unwrap_or_else(|p| p.into_inner()).push(crate::sanitize::sanitize(&note).into_owned());
    }

    /// Reads what the store has of `key` within `window` into `out` (bodies of lookup-events
    /// output), and works out what is left to read. `create`: register the lookup (reading
    /// will follow). `None`: no store.
    pub fn read(
        &self,
        key: &LookupKey,
        window: TimeSpan,
        create: bool,
        out: &mut dyn FnMut(Vec<u8>),
    ) -> Option<FromStore> {
        let mut slot = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let s = slot.as_ref()?;
        let result = (|| {
            let Some(lookup) = s.lookup_id(key, create)? else {
                return Ok(FromStore { lookup: None, gaps: vec![window], missing: vec![window], events: 0 });
            };
            let (rows, events) = s.snapshot(|s| {
                let rows = s.coverage(lookup)?;
                let n = s.read_window(lookup, window, CHUNK, &mut |body, n| {
                    if n > 0 {
                        out(body)
                    }
                })?;
                Ok((rows, n))
            })?;
            Ok::<_, crate::cache::StoreError>(FromStore {
                lookup: Some(lookup),
                gaps: coverage::gaps(&rows, window),
                missing: coverage::missing(&rows, window),
                events,
            })
        })();
        match result {
            Ok(f) => Some(f),
            Err(e) => {
                self.failed(&mut slot, "reading the cache", e);
                None
            }
        }
    }

    /// Stores the records of a span read completely, with the span.
    pub fn commit(&self, lookup: i64, region: &str, span: TimeSpan, fetched_ms: i64, events: &[StoredEvent]) {
        let mut slot = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let Some(s) = slot.as_mut() else { return };
        let mut fetch = PageFetch::new(lookup, span, fetched_ms);
        if let Err(e) = s.commit_page(&mut fetch, region, events, None, true) {
            self.failed(&mut slot, "writing the cache", e);
        }
    }
}

/// A record as the store keeps it; `None` when it has no eventID or no readable eventTime.
pub fn stored_event(message: &str) -> Option<StoredEvent> {
    let v: serde_json::Value = serde_json::from_str(message).ok()?;
    let s = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let event_id = s(&v, "eventID");
    let time_ms = crate::model::time::parse_event_time(v.get("eventTime")?.as_str()?)?;
    if event_id.is_empty() {
        return None;
    }
    let ident = v.get("userIdentity").cloned().unwrap_or_default();
    let read_only = match v.get("readOnly") {
        Some(serde_json::Value::Bool(b)) => b.to_string(),
        Some(serde_json::Value::String(x)) => x.clone(),
        _ => String::new(),
    };
    let mut e = StoredEvent {
        event_id,
        time_ms,
        event_name: s(&v, "eventName"),
        event_source: s(&v, "eventSource"),
        username: s(&ident, "userName"),
        access_key_id: s(&ident, "accessKeyId"),
        read_only,
        cloudtrail_event: message.to_string(),
        ..Default::default()
    };
    e.fill_from_record();
    Some(e)
}
