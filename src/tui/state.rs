//! The TUI's state and the one function that changes it, [`State::update`].

use crate::model::raw::RawReader;
use crate::model::{SymField, EMPTY};
use crate::query::plan::{plan, Plan};
use crate::query::run::{self, FilterJob, Job, Summary, SummaryJob, WorkMsg, Worker};
use crate::query::{self, Field, Matcher, Op, QueryError, Term, TermKind};
use crate::source::lookup::{LiveCmd, LiveQuery, LiveStatus};
use crate::source::{LoadStats, Problem, SourceMsg};
use crate::tui::action::Action;
use crate::tui::highlight::Highlighted;
use crate::tui::keymap::Mode;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::query::run::SharedStore;

/// How long a notice stays in the status bar.
pub const NOTICE_FOR: Duration = Duration::from_secs(6);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Filter,
    List,
    Detail,
    Facets,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Popup {
    Help,
    Errors,
    /// What to copy from the selected event.
    Copy,
    /// The saved filters, to recall one.
    Saved,
}

/// A line of text the user is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    /// A file to export the filtered events to.
    Export,
    /// A name to save the filter under.
    SaveFilter,
    /// A `:` command.
    Command,
}

#[derive(Debug)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
    pub cursor: usize,
}

/// What to copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyWhat {
    Json,
    EventId,
    Arn,
    AccessKey,
}

/// Work with side effects that [`State::update`] asks the app loop to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Effect {
    /// Copy text to the clipboard (OSC 52); `label` says what it is.
    Copy { label: &'static str, text: String },
    /// Copy an event's raw record.
    CopyRecord(u32),
    /// Show an event's record in `$PAGER`.
    Pager(u32),
    /// Write the given events (newest first) to a file.
    Export { path: String, events: Arc<Vec<u32>> },
    /// Store the saved filters.
    SaveFilters(Vec<(String, String)>),
    /// Live history: start again with another profile or other regions (`None`: unchanged).
    Reconnect { profile: Option<String>, regions: Option<Vec<String>> },
}

/// Results of background work, applied in [`State::apply`].
pub enum Msg {
    Load(SourceMsg),
    Detail {
        event: u32,
        result: Result<Arc<Highlighted>, String>,
    },
    /// The filter worker has results waiting.
    Work,
    /// A line for the status bar (the outcome of an [`Effect`]).
    Notice(String),
}

/// The filter run in progress or last finished.
struct FilterRun {
    generation: u64,
    query: query::Query,
    /// Matches from the worker, in order.
    streamed: Vec<u32>,
    /// Matches among events loaded after the run started (the worker did not see them).
    extra: Vec<u32>,
    done: bool,
    parts: usize,
    checked: usize,
    total: usize,
    /// Keep this event selected as results arrive (until the user moves).
    keep: Option<u32>,
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
    /// The event whose record is being fetched.
    pub requested: Option<u32>,
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
    pub store: SharedStore,
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
    /// Filters applied, oldest first, and which one is in force: `[` and `]` walk them.
    pub history: Vec<String>,
    pub history_pos: usize,
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
    worker: Worker,
    run: FilterRun,
    /// Counts changes of the view, so a summary can say which view it describes.
    pub view_version: u64,
    pub summary: Option<Arc<Summary>>,
    summary_version: u64,
    /// Whether the summary in force has the facets (they are counted only when shown).
    summary_facets: bool,
    summary_asked: Option<(u64, bool, Instant)>,
    pub show_facets: bool,
    pub show_timeline: bool,
    /// Row of the facets panel that is selected (over all facets' values).
    pub facet_sel: usize,
    /// Show times in the local time zone instead of UTC.
    pub local_time: bool,
    /// The engine of fuzzy bare words.
    pub fuzzy_engine: crate::query::fuzzy::Engine,
    /// The list's columns and their order (indices into the columns' headers), when the
    /// configuration chooses them.
    pub columns: Option<Vec<usize>>,
    /// Key bindings from the configuration file, over the built-in ones.
    pub user_keys: Vec<(crate::tui::keymap::Key, Action)>,
    pub prompt: Option<Prompt>,
    pub saved: Vec<(String, String)>,
    pub saved_sel: usize,
    /// Side effects for the app loop to carry out.
    pub effects: Vec<Effect>,
    /// A message for the status bar.
    pub notice: Option<Notice>,
}

/// A message shown in the status bar for [`NOTICE_FOR`].
#[derive(Clone, Debug)]
pub struct Notice {
    pub text: String,
    pub at: Instant,
    /// Something failed (shown in the error colour), as opposed to done.
    pub error: bool,
}

impl State {
    pub fn new(raw: Arc<RawReader>, base_terms: Vec<query::Term>, initial_filter: Option<String>, now_ms: i64) -> Self {
        let store = SharedStore::default();
        let worker = Worker::spawn(store.clone(), raw.clone());
        let mut s = State {
            store,
            live: None,
            raw,
            order: Vec::new(),
            view: Vec::new(),
            matcher: Matcher::default(),
            base_terms,
            filter: FilterState::default(),
            history: vec![initial_filter.clone().unwrap_or_default()],
            history_pos: 0,
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
            worker,
            run: FilterRun {
                generation: 0,
                query: query::Query::default(),
                streamed: Vec::new(),
                extra: Vec::new(),
                done: true,
                parts: 0,
                checked: 0,
                total: 0,
                keep: None,
            },
            view_version: 0,
            summary: None,
            summary_version: 0,
            summary_facets: false,
            summary_asked: None,
            show_facets: false,
            show_timeline: true,
            facet_sel: 0,
            local_time: false,
            fuzzy_engine: Default::default(),
            columns: None,
            user_keys: Vec::new(),
            prompt: None,
            saved: Vec::new(),
            saved_sel: 0,
            effects: Vec::new(),
            notice: None,
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
        s.history = vec![initial_filter.clone().unwrap_or_default()];
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
        if self.prompt.is_some() {
            Mode::Prompt
        } else if let Some(p) = self.popup {
            match p {
                Popup::Copy => Mode::CopyMenu,
                Popup::Saved => Mode::Picker,
                Popup::Help | Popup::Errors => Mode::Popup,
            }
        } else {
            match self.focus {
                Focus::Filter => Mode::Filter,
                Focus::List => Mode::List,
                Focus::Detail => Mode::Detail,
                Focus::Facets => Mode::Facets,
            }
        }
    }

    pub fn selected_event(&self) -> Option<u32> {
        self.view.get(self.list.selected).copied()
    }

    /// Whether the filter worker is still checking events for the filter in force.
    pub fn filtering(&self) -> Option<(usize, usize)> {
        (!self.run.done).then_some((self.run.checked, self.run.total))
    }

    /// Whether the current filter has not sent its first results yet: the list still shows
    /// the previous filter's rows, which the app loop briefly holds back from drawing.
    pub fn awaiting_first_results(&self) -> bool {
        !self.run.done && self.run.parts == 0
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

    /// Lets the app loop wake up when the filter worker has results.
    pub fn set_worker_waker(&self, w: Box<dyn Fn() + Send + Sync>) {
        self.worker.set_waker(w);
    }

    /// Housekeeping after updates: asks the worker for facets and the timeline of the view
    /// when they are shown and out of date (at most twice a second while events stream in).
    pub fn maintain(&mut self) {
        // An old notice is dropped, so that nothing keeps the screen redrawing for it.
        if self.notice.as_ref().is_some_and(|n| n.at.elapsed() >= NOTICE_FOR) {
            self.notice = None;
        }
        if !self.run.done || !self.summary_due() {
            return;
        }
        let facets = self.show_facets;
        match self.summary_asked {
            Some((v, f, _)) if v == self.view_version && f == facets => return,
            Some((_, _, at)) if !self.load.done && at.elapsed() < Duration::from_millis(500) => return,
            _ => {}
        }
        self.summary_asked = Some((self.view_version, facets, Instant::now()));
        let job = SummaryJob { version: self.view_version, view: Arc::new(self.view.clone()), facets };
        self.worker.submit(Job::Summary(job));
    }

    /// Whether the timeline or the facets are shown and their summary is out of date.
    fn summary_due(&self) -> bool {
        (self.show_facets || self.show_timeline)
            && (self.summary_version != self.view_version || (self.show_facets && !self.summary_facets))
    }

    /// Waits for the filter worker to finish the filter in force (and the summary, when one
    /// is shown), applying its results. For tests and headless use; the TUI never blocks.
    pub fn settle(&mut self) {
        loop {
            self.maintain();
            if self.run.done && !self.summary_due() {
                return;
            }
            match self.worker.result_rx.recv_timeout(Duration::from_secs(60)) {
                Ok(m) => self.apply_work(m),
                Err(_) => return,
            }
        }
    }

    /// Waits for one message of the filter worker and applies it.
    pub fn settle_step(&mut self) {
        if let Ok(m) = self.worker.result_rx.recv_timeout(Duration::from_secs(60)) {
            self.apply_work(m);
        }
    }

    /// Sets the status-bar notice.
    pub fn notify(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice { text: text.into(), at: Instant::now(), error: false });
    }

    /// A notice that something failed.
    pub fn notify_error(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice { text: text.into(), at: Instant::now(), error: true });
    }

    pub fn update(&mut self, action: Action) {
        use Action::*;
        if let Mouse(p) = action {
            self.pointer(p);
            return;
        }
        if self.prompt.is_some() {
            self.update_prompt(action);
            return;
        }
        if let Some(p) = self.popup {
            self.update_popup(p, action);
            return;
        }
        match action {
            Quit => self.quit = true,
            Redraw => self.full_redraw = true,
            Help => self.open_popup(Popup::Help),
            Errors => self.open_popup(Popup::Errors),
            Down | Up | PageDown | PageUp | HalfPageDown | HalfPageUp | Top | Bottom => match self.focus {
                Focus::Detail => self.scroll_detail(&action),
                Focus::Facets => self.move_facet(&action),
                _ => self.move_selection(&action),
            },
            NextPane | PrevPane => {
                let mut order = vec![Focus::Filter, Focus::List, Focus::Detail];
                if self.show_facets {
                    order.push(Focus::Facets);
                }
                let i = order.iter().position(|f| *f == self.focus).unwrap_or(1);
                let n = order.len();
                self.focus = order[if action == NextPane { (i + 1) % n } else { (i + n - 1) % n }];
            }
            FocusFilter => {
                self.focus = Focus::Filter;
                self.filter.cursor = self.filter.input.len();
            }
            OpenDetail => {
                if self.focus == Focus::Facets {
                    self.add_facet_term(false);
                } else if self.selected_event().is_some() {
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
                Focus::Detail | Focus::Facets => self.focus = Focus::List,
                Focus::Filter => {
                    if self.filter.input.is_empty() {
                        self.focus = Focus::List;
                    } else {
                        self.commit_filter(String::new());
                    }
                }
                Focus::List => {
                    if let Some(live) = self.live.as_mut().filter(|l| l.fetching()) {
                        // Esc stops a live fetch first; what was fetched stays.
                        live.outbox.push(LiveCmd::Cancel);
                    } else if !self.filter.input.is_empty() {
                        self.commit_filter(String::new());
                    }
                }
            },
            FilterSubmit => {
                self.apply_filter(true);
                if self.filter.error.is_none() {
                    self.focus = Focus::List;
                    self.filter_anchor = None;
                    self.push_history();
                }
            }
            FilterInsert(_) | FilterBackspace | FilterDelete | FilterLeft | FilterRight | FilterHome | FilterEnd
            | FilterDeleteWord => {
                if edit_line(&mut self.filter.input, &mut self.filter.cursor, &action) {
                    self.apply_filter(false);
                }
            }
            FilterClear => self.set_filter_text(String::new()),
            PivotPrincipal | PivotKey | PivotIp | PivotSession | PivotResource | PivotRequest | PivotAround => {
                self.pivot(&action)
            }
            HistoryBack => self.walk_history(-1),
            HistoryForward => self.walk_history(1),
            ToggleFacets => {
                self.show_facets = !self.show_facets;
                self.focus = if self.show_facets { Focus::Facets } else { Focus::List };
            }
            ToggleTimeline => self.show_timeline = !self.show_timeline,
            ExcludeFacet => {
                if self.focus == Focus::Facets {
                    self.add_facet_term(true);
                }
            }
            ToggleTimeZone => self.local_time = !self.local_time,
            CopyMenu => {
                if self.selected_event().is_some() {
                    self.open_popup(Popup::Copy);
                }
            }
            Copy(_) | Mouse(_) => {}
            OpenPager => {
                if let Some(ev) = self.selected_event() {
                    self.effects.push(Effect::Pager(ev));
                }
            }
            Export => self.open_prompt(PromptKind::Export, "trailscope-export.jsonl".into()),
            SaveFilter => {
                if self.filter.applied.is_empty() {
                    self.notify("nothing to save: the filter is empty");
                } else {
                    self.open_prompt(PromptKind::SaveFilter, String::new());
                }
            }
            Command => self.open_prompt(PromptKind::Command, String::new()),
            RecallFilter => {
                if self.saved.is_empty() {
                    self.notify("no saved filters yet (m saves the filter in force)");
                } else {
                    self.saved_sel = self.saved_sel.min(self.saved.len() - 1);
                    self.open_popup(Popup::Saved);
                }
            }
        }
        if self.focus != Focus::Filter {
            self.filter_anchor = None;
        }
    }

    fn update_popup(&mut self, p: Popup, action: Action) {
        use Action::*;
        match (p, action) {
            (_, Quit) => self.quit = true,
            (_, Redraw) => self.full_redraw = true,
            (Popup::Copy, Copy(what)) => {
                self.popup = None;
                self.copy(what);
            }
            (Popup::Saved, Down) => self.saved_sel = (self.saved_sel + 1).min(self.saved.len().saturating_sub(1)),
            (Popup::Saved, Up) => self.saved_sel = self.saved_sel.saturating_sub(1),
            (Popup::Saved, OpenDetail | FilterSubmit) => {
                self.popup = None;
                if let Some((_, f)) = self.saved.get(self.saved_sel).cloned() {
                    self.commit_filter(f);
                }
            }
            (Popup::Saved, FilterDelete) if self.saved_sel < self.saved.len() => {
                let (name, _) = self.saved.remove(self.saved_sel);
                self.saved_sel = self.saved_sel.min(self.saved.len().saturating_sub(1));
                self.effects.push(Effect::SaveFilters(self.saved.clone()));
                self.notify(format!("deleted the saved filter {name}"));
                if self.saved.is_empty() {
                    self.popup = None;
                }
            }
            (_, Back | Help | Errors) => self.popup = None,
            (Popup::Help | Popup::Errors, a) => match a {
                Down => self.popup_scroll += 1,
                Up => self.popup_scroll = self.popup_scroll.saturating_sub(1),
                PageDown => self.popup_scroll += 10,
                PageUp => self.popup_scroll = self.popup_scroll.saturating_sub(10),
                Top => self.popup_scroll = 0,
                Bottom => self.popup_scroll = usize::MAX / 2,
                _ => {}
            },
            _ => {}
        }
    }

    /// The mouse: the wheel scrolls what is under it (an open popup wherever it turns); a click
    /// focuses a pane and selects the list row or facet value under it.
    fn pointer(&mut self, p: crate::tui::mouse::Pointer) {
        use crate::tui::mouse::{Pointer, WHEEL_LINES};
        if self.prompt.is_some() {
            return;
        }
        if let Some(popup) = self.popup {
            if let Pointer::Scroll { down, .. } = p {
                match popup {
                    Popup::Help | Popup::Errors if down => {
                        self.popup_scroll = self.popup_scroll.saturating_add(WHEEL_LINES)
                    }
                    Popup::Help | Popup::Errors => self.popup_scroll = self.popup_scroll.saturating_sub(WHEEL_LINES),
                    Popup::Saved => self.update_popup(popup, if down { Action::Down } else { Action::Up }),
                    Popup::Copy => {}
                }
            }
            return;
        }
        match p {
            Pointer::Scroll { over, down } => {
                let step = if down { Action::Down } else { Action::Up };
                match over {
                    Some(Focus::List) => self.move_selection(&step),
                    Some(Focus::Detail) => (0..WHEEL_LINES).for_each(|_| self.scroll_detail(&step)),
                    Some(Focus::Facets) => self.move_facet(&step),
                    _ => {}
                }
            }
            Pointer::Click { on: Focus::List, row } => {
                self.focus = Focus::List;
                if let Some(row) = row.filter(|&r| r < self.view.len()) {
                    self.filter_anchor = None;
                    self.run.keep = None;
                    self.list.selected = row;
                    self.clamp_list();
                    self.sync_detail();
                }
            }
            Pointer::Click { on: Focus::Detail, .. } => {
                if self.selected_event().is_some() {
                    self.focus = Focus::Detail;
                }
            }
            Pointer::Click { on: Focus::Facets, row } => {
                self.focus = Focus::Facets;
                if let Some(row) = row.filter(|&r| r < self.facet_rows().len()) {
                    self.facet_sel = row;
                }
            }
            Pointer::Click { on: Focus::Filter, .. } => {
                self.focus = Focus::Filter;
                self.filter.cursor = self.filter.input.len();
            }
        }
        if self.focus != Focus::Filter {
            self.filter_anchor = None;
        }
    }

    fn open_prompt(&mut self, kind: PromptKind, initial: String) {
        self.prompt = Some(Prompt { kind, cursor: initial.len(), input: initial });
    }

    /// Line editing in a prompt reuses the filter's editing actions.
    fn update_prompt(&mut self, action: Action) {
        use Action::*;
        let Some(p) = self.prompt.as_mut() else { return };
        match action {
            Quit => self.quit = true,
            Back => self.prompt = None,
            FilterClear => {
                p.input.clear();
                p.cursor = 0;
            }
            FilterInsert(_) | FilterBackspace | FilterDelete | FilterLeft | FilterRight | FilterHome | FilterEnd
            | FilterDeleteWord => {
                edit_line(&mut p.input, &mut p.cursor, &action);
            }
            NextPane if p.kind == PromptKind::Command => {
                let saved: Vec<String> = self.saved.iter().map(|(n, _)| n.clone()).collect();
                if let Some(done) = crate::tui::command::complete(&p.input, &saved).first() {
                    p.input = done.clone();
                    p.cursor = p.input.len();
                }
            }
            FilterSubmit => {
                let Some(p) = self.prompt.take() else { return };
                let text = p.input.trim().to_string();
                if text.is_empty() {
                    return;
                }
                match p.kind {
                    PromptKind::Export => self.export_view(text),
                    PromptKind::Command => self.run_command(&text),
                    PromptKind::SaveFilter => self.save_filter(text),
                }
            }
            _ => {}
        }
    }

    /// Asks for the filtered events to be written to `path`, once the filter has finished.
    fn export_view(&mut self, path: String) {
        if self.run.done {
            self.effects.push(Effect::Export { path, events: Arc::new(self.view.clone()) });
        } else {
            self.notify("the filter is still running; export when it has finished");
        }
    }

    /// Saves the filter in force under `name` (replacing a filter of that name).
    fn save_filter(&mut self, name: String) {
        if self.filter.applied.is_empty() {
            self.notify("nothing to save: the filter is empty");
            return;
        }
        let f = self.filter.applied.clone();
        match self.saved.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = f,
            None => self.saved.push((name.clone(), f)),
        }
        self.effects.push(Effect::SaveFilters(self.saved.clone()));
        self.notify(format!("saved the filter as {name} (' recalls it)"));
    }

    /// Runs a `:` command.
    fn run_command(&mut self, text: &str) {
        use crate::tui::command::Command as C;
        let cmd = match crate::tui::command::parse(text, self.now_ms) {
            Ok(c) => c,
            Err(e) => {
                self.notify_error(e);
                return;
            }
        };
        match cmd {
            C::Quit => self.quit = true,
            C::Help => self.open_popup(Popup::Help),
            C::Errors => self.open_popup(Popup::Errors),
            C::Facets => self.update(Action::ToggleFacets),
            C::Timeline => self.update(Action::ToggleTimeline),
            C::TimeZone(local) => self.local_time = local,
            C::Filter(f) => self.commit_filter(f),
            C::Export(path) => self.export_view(path),
            C::Save(name) => self.save_filter(name),
            C::Load(name) => match self.saved.iter().find(|(n, _)| *n == name) {
                Some((_, f)) => {
                    let f = f.clone();
                    self.commit_filter(f);
                }
                None => self.notify(format!("no saved filter is called {name}")),
            },
            C::Since(ms) | C::Until(ms) => {
                let since = matches!(cmd, C::Since(_));
                if let Some(live) = self.live.as_mut() {
                    // Live history: the window asked of AWS changes, and is fetched.
                    if since {
                        live.since_ms = ms;
                    } else {
                        live.until_ms = Some(ms);
                    }
                    if let Ok(q) = query::parse(&self.filter.applied, self.now_ms) {
                        self.plan_live(&q, true);
                    }
                } else if since {
                    self.replace_terms(|k| matches!(k, TermKind::Since(_)), TermKind::Since(ms));
                } else {
                    self.replace_terms(|k| matches!(k, TermKind::Until(_)), TermKind::Until(ms));
                }
            }
            C::Region(regions) => {
                if self.live.is_some() {
                    self.effects.push(Effect::Reconnect { profile: None, regions: Some(regions) });
                } else if let [one] = regions.as_slice() {
                    let term = TermKind::Match { field: Field::Region, op: Op::Exact, value: one.clone() };
                    self.replace_terms(|k| matches!(k, TermKind::Match { field: Field::Region, .. }), term);
                } else {
                    self.notify("in files, :region takes one region (it sets the filter's region:)");
                }
            }
            C::Profile(p) => {
                if self.live.is_some() {
                    self.effects.push(Effect::Reconnect { profile: Some(p), regions: None });
                } else {
                    self.notify(":profile applies to live event history (trailscope without a PATH)");
                }
            }
        }
    }

    /// Replaces the filter's terms that `is_old` selects with one new term.
    fn replace_terms(&mut self, is_old: impl Fn(&TermKind) -> bool, new: TermKind) {
        let Ok(mut q) = query::parse(&self.filter.applied, self.now_ms) else { return };
        q.terms.retain(|t| !is_old(&t.kind));
        q.terms.push(Term { negated: false, kind: new });
        self.commit_filter(q.to_string());
    }

    /// Forgets every event, for live history started again with other credentials or regions.
    pub fn reset_events(&mut self) {
        *self.store.write() = crate::model::EventStore::default();
        self.raw.clear();
        self.order.clear();
        self.view.clear();
        self.problems.clear();
        self.summary = None;
        self.view_version += 1;
        self.load = LoadState { started: Some(Instant::now()), ..Default::default() };
        self.list.selected = 0;
        self.list.offset = 0;
        self.sync_detail();
        if let Some(live) = self.live.as_mut() {
            live.query = None;
            live.status = LiveStatus::default();
        }
        self.run.query = query::Query::default();
        self.apply_filter(true);
    }

    fn copy(&mut self, what: CopyWhat) {
        let Some(ev) = self.selected_event() else { return };
        if what == CopyWhat::Json {
            self.effects.push(Effect::CopyRecord(ev));
            return;
        }
        let store = self.store.read();
        let e = &store.events[ev as usize];
        let (label, text) = match what {
            CopyWhat::EventId => ("eventID", store.event_id(e).to_string()),
            CopyWhat::Arn => ("principal ARN", store.sym(e, SymField::Arn).to_string()),
            CopyWhat::AccessKey => ("access key", store.sym(e, SymField::AccessKey).to_string()),
            CopyWhat::Json => unreachable!("handled above"),
        };
        drop(store);
        if text.is_empty() {
            self.notify(format!("this event has no {label}"));
        } else {
            self.effects.push(Effect::Copy { label, text });
        }
    }

    /// Replaces the filter with a question about the selected event.
    fn pivot(&mut self, action: &Action) {
        let Some(ev) = self.selected_event() else { return };
        let store = self.store.read();
        let e = store.events[ev as usize];
        let sym = |f| store.sym(&e, f).to_string();
        let exact = |field, value: String| {
            Term { negated: false, kind: TermKind::Match { field, op: Op::Exact, value } }.to_string()
        };
        let arn = sym(SymField::Arn);
        let key = sym(SymField::AccessKey);
        let (what, text) = match action {
            Action::PivotPrincipal => {
                let p = sym(SymField::Principal);
                (
                    "principal",
                    if !arn.is_empty() {
                        exact(Field::Arn, arn)
                    } else if p.is_empty() {
                        String::new()
                    } else {
                        exact(Field::User, p)
                    },
                )
            }
            Action::PivotKey => ("access key", if key.is_empty() { String::new() } else { exact(Field::Key, key) }),
            Action::PivotIp => {
                let ip = sym(SymField::Ip);
                ("source IP", if ip.is_empty() { String::new() } else { exact(Field::Ip, ip) })
            }
            Action::PivotSession => {
                // Temporary credentials (ASIA…) identify one session: an assumed role's or a
                // console sign-in's. A ConsoleLogin event carries no key: its session is the
                // same ARN for the 12 hours a console session can last.
                let text = if key.starts_with("ASIA") {
                    exact(Field::Key, key)
                } else if store.sym(&e, SymField::Name) == "ConsoleLogin"
                    && !arn.is_empty()
                    && e.time != crate::model::NO_TIME
                {
                    format!(
                        "{} {} {}",
                        exact(Field::Arn, arn),
                        time_term(true, e.time),
                        time_term(false, e.time + 12 * 3_600_000)
                    )
                } else if arn.contains(":assumed-role/") {
                    exact(Field::Arn, arn)
                } else {
                    String::new()
                };
                ("session", text)
            }
            Action::PivotResource => {
                let r = store.resource_syms(&e).first().map(|&s| store.syms.get(s).to_string()).unwrap_or_default();
                ("resource", if r.is_empty() { String::new() } else { exact(Field::Resource, r) })
            }
            Action::PivotRequest => {
                let r = store.request_id(&e).to_string();
                ("request id", if r.is_empty() { String::new() } else { exact(Field::Request, r) })
            }
            Action::PivotAround => {
                let text = if e.time == crate::model::NO_TIME {
                    String::new()
                } else {
                    format!("{} {}", time_term(true, e.time - 15 * 60_000), time_term(false, e.time + 15 * 60_000))
                };
                ("time", text)
            }
            _ => return,
        };
        drop(store);
        if text.is_empty() {
            self.notify(format!("this event has no {what} to pivot on"));
            return;
        }
        self.filter_anchor = Some(ev);
        self.commit_filter(text);
    }

    /// Sets the filter text, applies it and records it in the history.
    fn commit_filter(&mut self, text: String) {
        self.set_filter_text(text);
        if self.filter.error.is_none() {
            self.push_history();
        }
    }

    fn push_history(&mut self) {
        let f = self.filter.applied.clone();
        if self.history.get(self.history_pos) == Some(&f) {
            return;
        }
        self.history.truncate(self.history_pos + 1);
        self.history.push(f);
        self.history_pos = self.history.len() - 1;
    }

    fn walk_history(&mut self, step: isize) {
        let pos = self.history_pos as isize + step;
        if pos < 0 || pos >= self.history.len() as isize {
            self.notify(if step < 0 { "no earlier filter" } else { "no later filter" });
            return;
        }
        self.history_pos = pos as usize;
        let text = self.history[self.history_pos].clone();
        self.set_filter_text(text);
    }

    /// The facet rows as the panel lists them: (facet index, value index).
    pub fn facet_rows(&self) -> Vec<(usize, usize)> {
        let Some(s) = &self.summary else { return Vec::new() };
        s.facets.iter().enumerate().flat_map(|(f, facet)| (0..facet.top.len()).map(move |v| (f, v))).collect()
    }

    /// j/k move by value; page keys jump to the next or previous field.
    fn move_facet(&mut self, action: &Action) {
        let rows = self.facet_rows();
        let last = rows.len().saturating_sub(1);
        let sel = self.facet_sel.min(last);
        let group = rows.get(sel).map_or(0, |r| r.0);
        let group_start = |g: usize| rows.iter().position(|r| r.0 >= g);
        self.facet_sel = match action {
            Action::Down => sel + 1,
            Action::Up => sel.saturating_sub(1),
            Action::PageDown | Action::HalfPageDown => group_start(group + 1).unwrap_or(last),
            Action::PageUp | Action::HalfPageUp => {
                let start = group_start(group).unwrap_or(0);
                if sel > start {
                    start
                } else {
                    rows.iter().rposition(|r| r.0 < group).and_then(|i| group_start(rows[i].0)).unwrap_or(0)
                }
            }
            Action::Top => 0,
            _ => last,
        }
        .min(last);
    }

    /// Adds the selected facet value to the filter (or its negation).
    fn add_facet_term(&mut self, negated: bool) {
        let rows = self.facet_rows();
        let (Some(&(f, v)), Some(summary)) = (rows.get(self.facet_sel), self.summary.clone()) else { return };
        let facet = &summary.facets[f];
        let (sym, _) = facet.top[v];
        let field = match facet.field {
            SymField::Name => Field::Name,
            SymField::Principal => Field::User,
            SymField::Ip => Field::Ip,
            SymField::Error => Field::Error,
            SymField::Region => Field::Region,
            SymField::Source => Field::Source,
            SymField::Agent => Field::Agent,
            _ => return,
        };
        let term = if sym == EMPTY {
            // "(none)": the field is absent.
            Term { negated: !negated, kind: TermKind::Has(field) }
        } else {
            let value = self.store.read().syms.get(sym).to_string();
            Term { negated, kind: TermKind::Match { field, op: Op::Exact, value } }
        };
        let mut text = self.filter.applied.trim_end().to_string();
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&term.to_string());
        self.commit_filter(text);
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
        self.run.keep = None;
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

    /// The event whose record the detail pane needs and nobody is fetching yet.
    pub fn detail_wanted(&self) -> Option<u32> {
        match (&self.detail.event, &self.detail.content, &self.detail.error) {
            (Some(e), None, None) if self.detail.requested != Some(*e) => Some(*e),
            _ => None,
        }
    }

    /// Notes that the record of `event` is being fetched.
    pub fn detail_requested(&mut self, event: u32) {
        self.detail.requested = Some(event);
    }

    /// Re-parses the filter and starts a filter run for it. A filter that needs raw records
    /// (`text:`, `resource:`) is only run when submitted, not on every keystroke.
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
                let mut m = Matcher::with_engine(&q, self.fuzzy_engine);
                if m.needs_raw() && !submitted {
                    return;
                }
                if submitted {
                    self.plan_live(&q, false);
                }
                if self.focus == Focus::Filter && self.filter_anchor.is_none() {
                    self.filter_anchor = self.selected_event();
                }
                let keep = self.filter_anchor.or(self.selected_event());
                let unchanged = self.run.done && q == self.run.query && self.filter.applied == self.filter.input;
                self.filter.applied = self.filter.input.clone();
                if unchanged {
                    return;
                }
                // A narrower filter only needs to look at what the last one matched.
                let base = if self.run.done && run::narrows(&self.run.query, &q) {
                    Arc::new(self.view.clone())
                } else {
                    Arc::new(self.order.clone())
                };
                m.prepare(&self.store.read());
                self.matcher = m.clone();
                let generation = self.run.generation + 1;
                self.run = FilterRun {
                    generation,
                    query: q,
                    streamed: Vec::new(),
                    extra: Vec::new(),
                    done: false,
                    parts: 0,
                    checked: 0,
                    total: base.len(),
                    keep,
                };
                self.worker.submit(Job::Filter(FilterJob { generation, matcher: m, base }));
            }
        }
    }

    /// Applies whatever the filter worker has sent.
    pub fn pump(&mut self) {
        while let Ok(m) = self.worker.result_rx.try_recv() {
            self.apply_work(m);
        }
    }

    fn apply_work(&mut self, m: WorkMsg) {
        match m {
            WorkMsg::Part { generation, matched, checked, total, done } => {
                if generation != self.run.generation {
                    return;
                }
                let first = self.run.parts == 0;
                self.run.parts += 1;
                self.run.checked = checked;
                self.run.total = total;
                self.run.done = done;
                if first {
                    self.view.clear();
                }
                if self.run.extra.is_empty() {
                    self.view.extend_from_slice(&matched);
                    self.run.streamed.extend(matched);
                } else {
                    self.run.streamed.extend(matched);
                    let mut view = self.run.streamed.clone();
                    self.store.read().merge_sorted(&mut view, &self.run.extra);
                    self.view = view;
                }
                if done {
                    // What was streamed is the view now; no need to keep a second copy.
                    self.run.streamed = Vec::new();
                    self.run.extra = Vec::new();
                }
                self.view_version += 1;
                // Until the user moves, the event selected before the filter changed stays
                // selected; after, whatever they selected does.
                let keep = self.run.keep.or(if first { None } else { self.selected_event() });
                self.reselect(keep, false);
            }
            WorkMsg::Summary { version, facets, summary } => {
                self.summary_version = version;
                self.summary_facets = facets;
                self.summary = Some(summary);
                let n = self.facet_rows().len();
                self.facet_sel = self.facet_sel.min(n.saturating_sub(1));
            }
        }
    }

    /// After the view changed, keeps the same event selected when it is still shown.
    fn reselect(&mut self, keep: Option<u32>, follow_top: bool) {
        if follow_top {
            self.list.selected = 0;
            self.list.offset = 0;
        } else if let Some(ev) = keep {
            let store = self.store.read();
            let key = store.events[ev as usize].order_key();
            let pos = self.view.partition_point(|&i| store.events[i as usize].order_key() < key);
            drop(store);
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
                if self.detail.requested == Some(event) {
                    self.detail.requested = None;
                }
                if self.detail.event == Some(event) {
                    match result {
                        Ok(h) => self.detail.content = Some(h),
                        Err(e) => self.detail.error = Some(e),
                    }
                    self.clamp_detail();
                }
            }
            Msg::Work => self.pump(),
            Msg::Notice(text) => self.notify(text),
        }
    }

    fn apply_load(&mut self, msg: SourceMsg) {
        match msg {
            SourceMsg::Files(f) => self.store.write().add_files(f),
            SourceMsg::Problem(p) => {
                // Live history that cannot go on (no credentials, an unknown profile, no
                // region): say so where the eye is, not only in the problems list.
                if self.live.is_some() && p.skipped && p.input == crate::source::lookup::LIVE_INPUT {
                    self.notify_error(format!("live history stopped: {}", p.reason));
                }
                self.problems.push(p)
            }
            SourceMsg::Warning(reason) => self.problems.push(Problem { input: "cache".into(), reason, skipped: false }),
            SourceMsg::Coverage(_) => {}
            SourceMsg::Note(p) => self.problems.push(p),
            SourceMsg::Batch(batch, stats) => {
                self.load.stats = stats;
                let store = self.store.clone();
                let mut store = store.write();
                let range = store.apply(batch);
                let mut new: Vec<u32> = range.collect();
                store.sort_indices(&mut new);
                // Follow the newest events until the user moves away from the top.
                let follow_top = self.list.selected == 0 && self.focus != Focus::Detail;
                let keep = self.selected_event();
                store.merge_sorted(&mut self.order, &new);
                self.matcher.prepare(&store);
                let matched = if self.matcher.needs_raw() {
                    Vec::new()
                } else {
                    run::filter_par(&self.matcher, &store, &self.raw, &new)
                };
                if !matched.is_empty() {
                    if self.run.done {
                        store.merge_sorted(&mut self.view, &matched);
                    } else {
                        // The worker's base predates these events: keep them beside its results.
                        store.merge_sorted(&mut self.run.extra, &matched);
                        let mut view = self.run.streamed.clone();
                        store.merge_sorted(&mut view, &self.run.extra);
                        self.view = view;
                    }
                    self.view_version += 1;
                }
                drop(store);
                self.reselect(keep, follow_top);
            }
            SourceMsg::Live(status) => {
                if let Some(live) = self.live.as_mut() {
                    if status.generation == live.generation {
                        live.status = status;
                    }
                }
            }
            SourceMsg::Done(stats) => {
                // The live source ends only when it cannot go on: nothing more is coming.
                if let Some(live) = self.live.as_mut() {
                    live.status.done = true;
                }
                self.load.stats = stats;
                self.load.done = true;
                self.load.elapsed = self.load.started.map(|s| s.elapsed()).unwrap_or_default();
                if self.matcher.needs_raw() {
                    // Events that arrived during the load were not checked: run it again.
                    self.run.query = query::Query::default();
                    self.apply_filter(true);
                }
            }
        }
    }
}

/// Applies a line-editing action to `input` and its cursor (a byte index); returns whether
/// the text changed. The filter and the prompts share it.
fn edit_line(input: &mut String, cursor: &mut usize, action: &Action) -> bool {
    let before = |input: &str, cursor: usize| input[..cursor].chars().next_back();
    match *action {
        Action::FilterInsert(c) if !c.is_control() => {
            input.insert(*cursor, c);
            *cursor += c.len_utf8();
            true
        }
        Action::FilterBackspace => match before(input, *cursor) {
            Some(c) => {
                *cursor -= c.len_utf8();
                input.remove(*cursor);
                true
            }
            None => false,
        },
        Action::FilterDelete if *cursor < input.len() => {
            input.remove(*cursor);
            true
        }
        Action::FilterLeft => {
            if let Some(c) = before(input, *cursor) {
                *cursor -= c.len_utf8();
            }
            false
        }
        Action::FilterRight => {
            if let Some(c) = input[*cursor..].chars().next() {
                *cursor += c.len_utf8();
            }
            false
        }
        Action::FilterHome => {
            *cursor = 0;
            false
        }
        Action::FilterEnd => {
            *cursor = input.len();
            false
        }
        Action::FilterDeleteWord => {
            let start = input[..*cursor].trim_end().rfind(char::is_whitespace).map_or(0, |i| i + 1);
            input.replace_range(start..*cursor, "");
            *cursor = start;
            true
        }
        _ => false,
    }
}

/// `since:` or `until:` at an absolute time.
fn time_term(since: bool, ms: i64) -> String {
    Term { negated: false, kind: if since { TermKind::Since(ms) } else { TermKind::Until(ms) } }.to_string()
}
