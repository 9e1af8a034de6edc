//! The TUI's state and the one function that changes it, [`State::update`].

use crate::action::Action;
use crate::highlight::Highlighted;
use crate::keymap::Mode;
use crate::model::EventStore;
use crate::query::plan::{plan, Plan};
use crate::query::{self, matcher::MatchCtx, Matcher, QueryError};
use crate::source::lookup::{LiveCmd, LiveQuery, LiveStatus};
use crate::source::raw::RawReader;
use crate::source::{LoadMsg, LoadStats, Problem};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Filter,
    List,
    Detail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Popup {
    Help,
    Errors,
}

/// Results of background work, applied in [`State::apply`].
pub enum Msg {
    Load(LoadMsg),
    Detail { event: u32, result: Result<Arc<Highlighted>, String> },
}

#[derive(Debug, Default)]
pub struct FilterState {
    pub input: String,
    /// Byte index of the cursor in `input`.
    pub cursor: usize,
    pub error: Option<QueryError>,
    /// The text of the query in force (the last one that parsed).
    pub applied: String,
}

#[derive(Debug, Default)]
pub struct ListState {
    /// Index into the view.
    pub selected: usize,
    /// First view row on screen.
    pub offset: usize,
    /// Rows the list shows, written by layout.
    pub height: usize,
}

#[derive(Default)]
pub struct DetailState {
    /// The event whose record is shown (or being fetched).
    pub event: Option<u32>,
    pub content: Option<Arc<Highlighted>>,
    pub error: Option<String>,
    pub scroll: usize,
    pub height: usize,
}

#[derive(Debug, Default)]
pub struct LoadState {
    pub stats: LoadStats,
    pub done: bool,
    pub started: Option<Instant>,
    pub elapsed: Duration,
}

/// Live event history: the query in force and how its fetch is going.
pub struct LiveState {
    /// The window from the command line, before the filter's own time terms.
    pub since_ms: i64,
    pub until_ms: Option<i64>,
    pub plan: Plan,
    pub query: Option<LiveQuery>,
    pub generation: u64,
    pub status: LiveStatus,
    /// Commands for the app loop to hand to the live source.
    pub outbox: Vec<LiveCmd>,
}

impl LiveState {
    pub fn new(since_ms: i64, until_ms: Option<i64>) -> Self {
        LiveState {
            since_ms,
            until_ms,
            plan: Plan::default(),
            query: None,
            generation: 0,
            status: LiveStatus::default(),
            outbox: Vec::new(),
        }
    }
    pub fn fetching(&self) -> bool {
        self.query.is_some() && !self.status.done
    }
}

pub struct State {
    pub store: EventStore,
    /// Set when browsing live event history rather than files.
    pub live: Option<LiveState>,
    pub raw: Arc<RawReader>,
    /// Every event, newest first.
    pub order: Vec<u32>,
    /// The events that match the filter, newest first.
    pub view: Vec<u32>,
    pub matcher: Matcher,
    /// Terms from the command line (`--since`/`--until`) that always apply.
    pub base_terms: Vec<query::Term>,
    pub filter: FilterState,
    pub list: ListState,
    pub detail: DetailState,
    pub focus: Focus,
    pub popup: Option<Popup>,
    pub popup_scroll: usize,
    pub problems: Vec<Problem>,
    pub load: LoadState,
    pub quit: bool,
    /// The screen must be cleared and drawn whole (Ctrl-l).
    pub full_redraw: bool,
    /// Anchors `since:`/`until:` ages; fixed per query so results do not drift.
    pub now_ms: i64,
    /// The event selected when filter editing began: kept selected through intermediate
    /// filters that do not match it (typing `name:Delete` passes through `n`, `na`, ...).
    filter_anchor: Option<u32>,
    /// While set, edits to the filter are noted and applied once by [`State::apply_deferred`]:
    /// keys typed while a large list was being filtered cost one pass, not one each.
    pub defer_filter: bool,
    filter_stale: bool,
}

impl State {
    pub fn new(raw: Arc<RawReader>, base_terms: Vec<query::Term>, initial_filter: Option<String>, now_ms: i64) -> Self {
        let mut s = State {
            store: EventStore::default(),
            live: None,
            raw,
            order: Vec::new(),
            view: Vec::new(),
            matcher: Matcher::default(),
            base_terms,
            filter: FilterState::default(),
            list: ListState { height: 10, ..Default::default() },
            detail: DetailState { height: 10, ..Default::default() },
            focus: Focus::List,
            popup: None,
            popup_scroll: 0,
            problems: Vec::new(),
            load: LoadState { started: Some(Instant::now()), ..Default::default() },
            quit: false,
            full_redraw: false,
            now_ms,
            filter_anchor: None,
            defer_filter: false,
            filter_stale: false,
        };
        if let Some(f) = initial_filter {
            s.filter.cursor = f.len();
            s.filter.input = f;
        }
        s.apply_filter(true);
        s
    }

    /// A state that browses live event history over `[since, until or now]`.
    pub fn new_live(
        raw: Arc<RawReader>,
        since_ms: i64,
        until_ms: Option<i64>,
        initial_filter: Option<String>,
        now_ms: i64,
    ) -> Self {
        let mut s = State::new(raw, Vec::new(), None, now_ms);
        s.live = Some(LiveState::new(since_ms, until_ms));
        if let Some(f) = initial_filter {
            s.filter.cursor = f.len();
            s.filter.input = f;
        }
        s.apply_filter(true);
        s
    }

    /// Whether live history should fetch further pages: until the view holds a few pages
    /// beyond what is on screen.
    pub fn wants_more(&self) -> bool {
        self.live.as_ref().is_some_and(|l| l.fetching())
            && self.view.len() < self.list.selected + 3 * self.list.height.max(10) + 100
    }

    /// Starts (or restarts, with `refresh`) the live query the current filter needs.
    fn plan_live(&mut self, q: &query::Query, refresh: bool) {
        let now = self.now_ms;
        let Some(live) = self.live.as_mut() else { return };
        let p = plan(q);
        let oldest = now - crate::source::lookup::HISTORY_DAYS * 86_400_000;
        let until = live.until_ms.unwrap_or(if refresh { crate::model::time::now_ms() } else { now });
        let query = LiveQuery::from_plan(&p, live.since_ms.max(oldest), until);
        live.plan = p;
        if refresh || live.query.as_ref() != Some(&query) {
            live.generation += 1;
            live.status = LiveStatus { generation: live.generation, ..Default::default() };
            live.outbox.push(LiveCmd::Query { generation: live.generation, query: query.clone() });
            live.query = Some(query);
        }
    }

    pub fn mode(&self) -> Mode {
        if self.popup.is_some() {
            Mode::Popup
        } else {
            match self.focus {
                Focus::Filter => Mode::Filter,
                Focus::List => Mode::List,
                Focus::Detail => Mode::Detail,
            }
        }
    }

    pub fn selected_event(&self) -> Option<u32> {
        self.view.get(self.list.selected).copied()
    }

    /// Applies a filter edit that was deferred while a burst of keys was handled.
    pub fn apply_deferred(&mut self) {
        self.defer_filter = false;
        if self.filter_stale {
            self.apply_filter(false);
        }
    }

    /// Sizes decided by the layout, written back before drawing.
    pub fn set_layout(&mut self, list_rows: usize, detail_rows: usize) {
        self.list.height = list_rows.max(1);
        self.detail.height = detail_rows.max(1);
        self.clamp_list();
        self.clamp_detail();
    }

    pub fn update(&mut self, action: Action) {
        use Action::*;
        if self.popup.is_some() {
            match action {
                Back | Help | Errors => self.popup = None,
                Down => self.popup_scroll += 1,
                Up => self.popup_scroll = self.popup_scroll.saturating_sub(1),
                PageDown => self.popup_scroll += 10,
                PageUp => self.popup_scroll = self.popup_scroll.saturating_sub(10),
                Top => self.popup_scroll = 0,
                Bottom => self.popup_scroll = usize::MAX / 2,
                Quit => self.quit = true,
                Redraw => self.full_redraw = true,
                _ => {}
            }
            return;
        }
        match action {
            Quit => self.quit = true,
            Redraw => self.full_redraw = true,
            Help => self.open_popup(Popup::Help),
            Errors => self.open_popup(Popup::Errors),
            Down | Up | PageDown | PageUp | HalfPageDown | HalfPageUp | Top | Bottom => {
                if self.focus == Focus::Detail {
                    self.scroll_detail(&action);
                } else {
                    self.move_selection(&action);
                }
            }
            NextPane => {
                self.focus = match self.focus {
                    Focus::Filter => Focus::List,
                    Focus::List => Focus::Detail,
                    Focus::Detail => Focus::Filter,
                }
            }
            PrevPane => {
                self.focus = match self.focus {
                    Focus::Filter => Focus::Detail,
                    Focus::List => Focus::Filter,
                    Focus::Detail => Focus::List,
                }
            }
            FocusFilter => {
                self.focus = Focus::Filter;
                self.filter.cursor = self.filter.input.len();
            }
            OpenDetail => {
                if self.selected_event().is_some() {
                    self.focus = Focus::Detail;
                }
            }
            Refresh => {
                if self.live.is_some() {
                    if let Ok(q) = query::parse(&self.filter.applied, self.now_ms) {
                        self.plan_live(&q, true);
                    }
                }
            }
            Back => match self.focus {
                Focus::Detail => self.focus = Focus::List,
                Focus::Filter => {
                    if self.filter.input.is_empty() {
                        self.focus = Focus::List;
                    } else {
                        self.set_filter_text(String::new());
                    }
                }
                Focus::List => {
                    if let Some(live) = self.live.as_mut().filter(|l| l.fetching()) {
                        // Esc stops a live fetch first; what was fetched stays.
                        live.outbox.push(LiveCmd::Cancel);
                    } else if !self.filter.input.is_empty() {
                        self.set_filter_text(String::new());
                    }
                }
            },
            FilterSubmit => {
                self.apply_filter(true);
                if self.filter.error.is_none() {
                    self.focus = Focus::List;
                    self.filter_anchor = None;
                }
            }
            FilterInsert(c) => {
                if !c.is_control() {
                    self.filter.input.insert(self.filter.cursor, c);
                    self.filter.cursor += c.len_utf8();
                    self.apply_filter(false);
                }
            }
            FilterBackspace => {
                if let Some(c) = self.filter.input[..self.filter.cursor].chars().next_back() {
                    self.filter.cursor -= c.len_utf8();
                    self.filter.input.remove(self.filter.cursor);
                    self.apply_filter(false);
                }
            }
            FilterDelete => {
                if self.filter.cursor < self.filter.input.len() {
                    self.filter.input.remove(self.filter.cursor);
                    self.apply_filter(false);
                }
            }
            FilterLeft => {
                if let Some(c) = self.filter.input[..self.filter.cursor].chars().next_back() {
                    self.filter.cursor -= c.len_utf8();
                }
            }
            FilterRight => {
                if let Some(c) = self.filter.input[self.filter.cursor..].chars().next() {
                    self.filter.cursor += c.len_utf8();
                }
            }
            FilterHome => self.filter.cursor = 0,
            FilterEnd => self.filter.cursor = self.filter.input.len(),
            FilterDeleteWord => {
                let before = &self.filter.input[..self.filter.cursor];
                let trimmed = before.trim_end();
                let start = trimmed.rfind(char::is_whitespace).map_or(0, |i| i + 1);
                self.filter.input.replace_range(start..self.filter.cursor, "");
                self.filter.cursor = start;
                self.apply_filter(false);
            }
            FilterClear => self.set_filter_text(String::new()),
        }
        if self.focus != Focus::Filter {
            self.filter_anchor = None;
        }
    }

    fn open_popup(&mut self, p: Popup) {
        self.popup = Some(p);
        self.popup_scroll = 0;
    }

    fn set_filter_text(&mut self, text: String) {
        self.filter.cursor = text.len();
        self.filter.input = text;
        self.apply_filter(true);
    }

    fn move_selection(&mut self, action: &Action) {
        self.filter_anchor = None;
        let page = self.list.height.max(1);
        let last = self.view.len().saturating_sub(1);
        let sel = self.list.selected;
        self.list.selected = match action {
            Action::Down => (sel + 1).min(last),
            Action::Up => sel.saturating_sub(1),
            Action::PageDown => (sel + page).min(last),
            Action::PageUp => sel.saturating_sub(page),
            Action::HalfPageDown => (sel + page / 2).min(last),
            Action::HalfPageUp => sel.saturating_sub(page / 2),
            Action::Top => 0,
            Action::Bottom => last,
            _ => sel,
        };
        self.clamp_list();
        self.sync_detail();
    }

    fn scroll_detail(&mut self, action: &Action) {
        let page = self.detail.height.max(1);
        let s = self.detail.scroll;
        self.detail.scroll = match action {
            Action::Down => s + 1,
            Action::Up => s.saturating_sub(1),
            Action::PageDown => s + page,
            Action::PageUp => s.saturating_sub(page),
            Action::HalfPageDown => s + page / 2,
            Action::HalfPageUp => s.saturating_sub(page / 2),
            Action::Top => 0,
            Action::Bottom => usize::MAX / 2,
            _ => s,
        };
        self.clamp_detail();
    }

    fn clamp_list(&mut self) {
        let n = self.view.len();
        if n == 0 {
            self.list.selected = 0;
            self.list.offset = 0;
            return;
        }
        self.list.selected = self.list.selected.min(n - 1);
        let h = self.list.height.max(1);
        if self.list.selected < self.list.offset {
            self.list.offset = self.list.selected;
        } else if self.list.selected >= self.list.offset + h {
            self.list.offset = self.list.selected + 1 - h;
        }
        self.list.offset = self.list.offset.min(n.saturating_sub(h));
    }

    fn clamp_detail(&mut self) {
        let lines = self.detail.content.as_ref().map_or(0, |c| c.lines.len());
        self.detail.scroll = self.detail.scroll.min(lines.saturating_sub(self.detail.height));
    }

    /// Points the detail pane at the selected event; the app loop fetches what is missing.
    fn sync_detail(&mut self) {
        let sel = self.selected_event();
        if sel != self.detail.event {
            self.detail.event = sel;
            self.detail.content = None;
            self.detail.error = None;
            self.detail.scroll = 0;
        }
    }

    /// The event the detail pane is waiting for, if any.
    pub fn detail_wanted(&self) -> Option<u32> {
        match (&self.detail.event, &self.detail.content, &self.detail.error) {
            (Some(e), None, None) => Some(*e),
            _ => None,
        }
    }

    /// Re-parses the filter. A filter that needs raw records (`text:`, `resource:`) is only
    /// run when submitted, not on every keystroke.
    fn apply_filter(&mut self, submitted: bool) {
        if self.defer_filter && !submitted {
            self.filter_stale = true;
            return;
        }
        self.filter_stale = false;
        match query::parse(&self.filter.input, self.now_ms) {
            Err(e) => self.filter.error = Some(e),
            Ok(mut q) => {
                self.filter.error = None;
                q.terms.extend(self.base_terms.iter().cloned());
                let mut m = Matcher::new(&q);
                if m.needs_raw() && !submitted {
                    return;
                }
                if submitted {
                    self.plan_live(&q, false);
                }
                m.prepare(&self.store.syms);
                self.matcher = m;
                self.filter.applied = self.filter.input.clone();
                if self.focus == Focus::Filter && self.filter_anchor.is_none() {
                    self.filter_anchor = self.selected_event();
                }
                let keep = self.filter_anchor.or(self.selected_event());
                let ctx = MatchCtx { store: &self.store, raw: &self.raw };
                self.view = self.matcher.filter(&self.order, &ctx);
                self.reselect(keep, false);
            }
        }
    }

    /// After the view changed, keeps the same event selected when it is still shown.
    fn reselect(&mut self, keep: Option<u32>, follow_top: bool) {
        if follow_top {
            self.list.selected = 0;
            self.list.offset = 0;
        } else if let Some(ev) = keep {
            let key = self.store.events[ev as usize].order_key();
            let pos = self.view.partition_point(|&i| self.store.events[i as usize].order_key() < key);
            let shift = pos as isize - self.list.selected as isize;
            self.list.selected = pos;
            self.list.offset = (self.list.offset as isize + shift).max(0) as usize;
        } else {
            self.list.selected = 0;
            self.list.offset = 0;
        }
        self.clamp_list();
        self.sync_detail();
    }

    pub fn apply(&mut self, msg: Msg) {
        match msg {
            Msg::Load(m) => self.apply_load(m),
            Msg::Detail { event, result } => {
                if self.detail.event == Some(event) {
                    match result {
                        Ok(h) => self.detail.content = Some(h),
                        Err(e) => self.detail.error = Some(e),
                    }
                    self.clamp_detail();
                }
            }
        }
    }

    fn apply_load(&mut self, msg: LoadMsg) {
        match msg {
            LoadMsg::Files(f) => self.store.add_files(f),
            LoadMsg::Problem(p) => self.problems.push(p),
            LoadMsg::Warning(reason) => self.problems.push(Problem { input: "cache".into(), reason, skipped: false }),
            LoadMsg::Batch(batch, stats) => {
                self.load.stats = stats;
                let range = self.store.apply(batch);
                let mut new: Vec<u32> = range.collect();
                self.store.sort_indices(&mut new);
                // Follow the newest events until the user moves away from the top.
                let follow_top = self.list.selected == 0 && self.focus != Focus::Detail;
                let keep = self.selected_event();
                let mut order = std::mem::take(&mut self.order);
                self.store.merge_sorted(&mut order, &new);
                self.order = order;
                self.matcher.prepare(&self.store.syms);
                let ctx = MatchCtx { store: &self.store, raw: &self.raw };
                let matched = if self.matcher.needs_raw() { Vec::new() } else { self.matcher.filter(&new, &ctx) };
                let mut view = std::mem::take(&mut self.view);
                self.store.merge_sorted(&mut view, &matched);
                self.view = view;
                self.reselect(keep, follow_top);
            }
            LoadMsg::Live(status) => {
                if let Some(live) = self.live.as_mut() {
                    if status.generation == live.generation {
                        live.status = status;
                    }
                }
            }
            LoadMsg::Done(stats) => {
                self.load.stats = stats;
                self.load.done = true;
                self.load.elapsed = self.load.started.map(|s| s.elapsed()).unwrap_or_default();
                if self.matcher.needs_raw() {
                    self.apply_filter(true);
                }
            }
        }
    }
}
