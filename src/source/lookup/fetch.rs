//! Fetching one region's windows page by page, paced, retried, cancelled when the query
//! changes.

use super::client::{explain, jitter, retryable, short_reason, Pacer};
use super::{LiveQuery, MAX_ATTEMPTS};
use crate::cache::coverage::TimeSpan;
use crate::cache::StoredEvent;
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{EventCategory, LookupAttribute, LookupAttributeKey};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// A fetched page, as lookup-events output JSON and as rows for the store.
pub(super) struct Page {
    pub(super) generation: u64,
    pub(super) region_idx: usize,
    pub(super) body: Vec<u8>,
    pub(super) stored: Vec<StoredEvent>,
    pub(super) events: usize,
    pub(super) oldest_ms: Option<i64>,
    /// The window this page belongs to, and whether it is that window's last page.
    pub(super) window: TimeSpan,
    pub(super) window_last: bool,
    /// The region has nothing more to fetch.
    pub(super) last: bool,
}

pub(super) enum FetchNote {
    Page(Page),
    Waiting { generation: u64, region_idx: usize, what: Option<String> },
    Failed { generation: u64, region_idx: usize, error: String },
    Request { generation: u64, region_idx: usize },
}

pub(super) fn stored_events(events: &[aws_sdk_cloudtrail::types::Event]) -> Vec<StoredEvent> {
    events
        .iter()
        .filter_map(|e| {
            let mut s = StoredEvent {
                event_id: e.event_id()?.to_string(),
                time_ms: e.event_time()?.to_millis().ok()?,
                event_name: e.event_name().unwrap_or("").to_string(),
                event_source: e.event_source().unwrap_or("").to_string(),
                username: e.username().unwrap_or("").to_string(),
                access_key_id: e.access_key_id().unwrap_or("").to_string(),
                read_only: e.read_only().unwrap_or("").to_string(),
                cloudtrail_event: e.cloud_trail_event()?.to_string(),
                ..Default::default()
            };
            s.fill_from_record();
            Some(s)
        })
        .collect()
}

pub(super) fn page_body(events: &[aws_sdk_cloudtrail::types::Event]) -> (Vec<u8>, Option<i64>) {
    let mut oldest = None;
    let items: Vec<serde_json::Value> = events
        .iter()
        .map(|e| {
            let ms = e.event_time().map(|t| t.to_millis().unwrap_or(0));
            if let Some(ms) = ms {
                oldest = Some(oldest.map_or(ms, |o: i64| o.min(ms)));
            }
            serde_json::json!({
                "EventId": e.event_id(),
                "EventName": e.event_name(),
                "EventTime": ms.map(|m| m as f64 / 1000.0),
                "CloudTrailEvent": e.cloud_trail_event(),
            })
        })
        .collect();
    (serde_json::to_vec(&serde_json::json!({ "Events": items })).unwrap_or_default(), oldest)
}

pub(super) struct RegionFetch {
    pub(super) client: aws_sdk_cloudtrail::Client,
    pub(super) pacer: Arc<Pacer>,
    pub(super) region: String,
    pub(super) region_idx: usize,
    pub(super) profile: Option<String>,
    pub(super) insights: bool,
}

impl RegionFetch {
    /// Fetches `windows` one after the other (newest first), each to its end.
    pub(super) async fn run(
        self,
        q: LiveQuery,
        windows: Vec<TimeSpan>,
        generation: u64,
        hungry: watch::Receiver<bool>,
        cancel: watch::Receiver<u64>,
        tx: mpsc::UnboundedSender<FetchNote>,
    ) {
        let n = windows.len();
        for (i, w) in windows.into_iter().enumerate() {
            let go_on =
                self.run_window(&q, w, i + 1 == n, generation, hungry.clone(), cancel.clone(), tx.clone()).await;
            if !go_on {
                return;
            }
        }
    }

    /// Fetches one window; false when the fetch was stopped or failed.
    #[allow(clippy::too_many_arguments)]
    async fn run_window(
        &self,
        q: &LiveQuery,
        window: TimeSpan,
        final_window: bool,
        generation: u64,
        mut hungry: watch::Receiver<bool>,
        mut cancel: watch::Receiver<u64>,
        tx: mpsc::UnboundedSender<FetchNote>,
    ) -> bool {
        let mut token: Option<String> = None;
        // The window is frozen for the whole query: a NextToken is valid only with the exact
        // same parameters.
        let (start, end) = (DateTime::from_millis(window.start), DateTime::from_millis(window.end));
        let attr = q.server.as_ref().and_then(|(a, v)| {
            LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::from(a.wire_name()))
                .attribute_value(v)
                .build()
                .ok()
        });
        loop {
            // Fetch ahead only while the consumer wants more.
            while !*hungry.borrow() {
                tokio::select! {
                    r = hungry.changed() => if r.is_err() { return false },
                    _ = cancel.changed() => if *cancel.borrow() >= generation { return false },
                }
            }
            let mut attempt = 0;
            let out = loop {
                attempt += 1;
                tokio::select! {
                    _ = self.pacer.wait() => {},
                    _ = cancel.changed() => if *cancel.borrow() >= generation { return false },
                }
                let _ = tx.send(FetchNote::Request { generation, region_idx: self.region_idx });
                let mut req = self
                    .client
                    .lookup_events()
                    .max_results(50)
                    .start_time(start)
                    .end_time(end)
                    .set_next_token(token.clone());
                if let Some(a) = &attr {
                    req = req.lookup_attributes(a.clone());
                }
                if self.insights {
                    req = req.event_category(EventCategory::Insight);
                }
                let result = tokio::select! {
                    r = req.send() => r,
                    _ = cancel.changed() => if *cancel.borrow() >= generation { return false } else { continue },
                };
                match result {
                    Ok(out) => break out,
                    Err(e) if retryable(&e) && attempt < MAX_ATTEMPTS => {
                        let backoff = Duration::from_millis((250u64 << attempt.min(7)).min(8_000)) + jitter(attempt);
                        let what = format!(
                            "{} (try {attempt} of {MAX_ATTEMPTS}), retrying in {:.1}s",
                            short_reason(&e),
                            backoff.as_secs_f64()
                        );
                        let _ =
                            tx.send(FetchNote::Waiting { generation, region_idx: self.region_idx, what: Some(what) });
                        tokio::time::sleep(backoff).await;
                    }
                    Err(e) => {
                        let error = explain(&e, &self.region, self.profile.as_deref());
                        let _ = tx.send(FetchNote::Failed { generation, region_idx: self.region_idx, error });
                        return false;
                    }
                }
            };
            let _ = tx.send(FetchNote::Waiting { generation, region_idx: self.region_idx, what: None });
            token = out.next_token().map(str::to_string);
            let (body, oldest_ms) = page_body(out.events());
            let window_last = token.is_none();
            let page = Page {
                generation,
                region_idx: self.region_idx,
                body,
                stored: stored_events(out.events()),
                events: out.events().len(),
                oldest_ms,
                window,
                window_last,
                last: window_last && final_window,
            };
            if tx.send(FetchNote::Page(page)).is_err() {
                return false;
            }
            if window_last {
                return true;
            }
        }
    }
}

impl FetchNote {
    /// The query the note is about.
    pub(super) fn generation(&self) -> u64 {
        match self {
            FetchNote::Page(p) => p.generation,
            FetchNote::Waiting { generation, .. }
            | FetchNote::Failed { generation, .. }
            | FetchNote::Request { generation, .. } => *generation,
        }
    }
}
