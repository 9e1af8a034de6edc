//! Live event history: the window asked of AWS, the query in force and how its fetch is going.

use super::Effect;
use crate::query::plan::{plan, Plan};
use crate::query::Query;
use crate::source::boundary::{LiveQuery, LiveStatus, HISTORY_DAYS};

pub struct LiveState {
    /// The window from the command line, before the filter's own time terms.
    pub(crate) since_ms: i64,
    pub(crate) until_ms: Option<i64>,
    pub(crate) plan: Plan,
    pub(crate) query: Option<LiveQuery>,
    pub(crate) generation: u64,
    pub(crate) status: LiveStatus,
}

impl LiveState {
    pub(crate) fn new(since_ms: i64, until_ms: Option<i64>) -> Self {
        LiveState {
            since_ms,
            until_ms,
            plan: Plan::default(),
            query: None,
            generation: 0,
            status: LiveStatus::default(),
        }
    }

    /// Whether pages are still being fetched for the query in force.
    pub fn fetching(&self) -> bool {
        self.query.is_some() && !self.status.done
    }

    /// The query the filter `q` needs; the effect that starts it when it is new (or with
    /// `refresh`, always: fetching again up to `fresh_now_ms`). `now_ms` anchors the window.
    pub(crate) fn plan(&mut self, q: &Query, now_ms: i64, refresh: bool, fresh_now_ms: i64) -> Option<Effect> {
        let p = plan(q);
        let oldest = now_ms - HISTORY_DAYS * 86_400_000;
        let until = self.until_ms.unwrap_or(if refresh { fresh_now_ms } else { now_ms });
        let query = LiveQuery::from_plan(&p, self.since_ms.max(oldest), until);
        self.plan = p;
        if !refresh && self.query.as_ref() == Some(&query) {
            return None;
        }
        self.generation += 1;
        self.status = LiveStatus { generation: self.generation, ..Default::default() };
        self.query = Some(query.clone());
        Some(Effect::LiveQuery { generation: self.generation, query })
    }

    /// Progress of the source, when it is about the query in force.
    pub(crate) fn apply_status(&mut self, status: LiveStatus) {
        if status.generation == self.generation {
            self.status = status;
        }
    }

    /// The generation of the query in force (progress of older ones is ignored).
    pub fn generation(&self) -> u64 {
        self.generation
    }
}
