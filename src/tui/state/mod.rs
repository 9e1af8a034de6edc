//! The TUI's state: sub-states (the filter, the events and their view, the list, the detail
//! view, the facets, the popups, live history), each with its own update, and the two ways in:
//! [`State::update`] for what the user does and [`State::apply`] for what background work
//! reports. Nothing here blocks or starts a thread: the filter worker is handed in by whoever
//! runs the state, and side effects are asked for as [`Effect`] values that the app carries out.

mod verify;
pub use verify::VerifyState;
mod detect;
pub use detect::DetectState;
mod apply;
mod commands;
mod detail;
mod edit;
mod events;
mod facets;
mod filter;
mod filtering;
mod list;
mod live;
mod pivot;
mod popups;

pub use crate::query::run::SharedStore;
pub use crate::tui::action::{CopyWhat, Focus};
pub use detail::{DetailState, RecordError};
pub use events::Events;
pub use facets::FacetsState;
pub use filter::FilterState;
pub use list::ListState;
pub use live::LiveState;
pub use popups::{Popup, Popups, Prompt, PromptKind};

use crate::model::raw::RawReader;
use crate::model::SymField;
use crate::query::fuzzy::Engine;
use crate::query::run::Worker;
use crate::query::{self, Term};
use crate::source::boundary::{LiveQuery, LoadStats, LogsStatus, Problem, S3Status, SourceMsg};
use crate::tui::action::{Action, Pointer};
use crate::tui::highlight::Highlighted;
use crate::tui::keymap::{Key, Mode};
use crate::tui::layout::{layout, Areas, Panes};
use edit::{edit_line, insert_text, is_line_edit};
use popups::Outcome;
use ratatui::layout::Rect;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a notice stays in the status bar.
pub const NOTICE_FOR: Duration = Duration::from_secs(6);

/// Lines the detail view and popups scroll by per step of the wheel (the list and the facets
/// move their selection by one).
pub const WHEEL_LINES: usize = 3;

/// Work with side effects that the state asks the app loop to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Effect {
    /// Copy text to the clipboard (OSC 52); `label` says what it is.
    Copy { label: &'static str, text: String },
    /// Copy an event's raw record.
    CopyRecord(u32),
    /// Show an event's record in `$PAGER`.
    Pager(u32),
    /// Write the given events (newest first) to a new file (or over it, `overwrite`).
    Export { path: String, events: Arc<Vec<u32>>, overwrite: bool },
    /// Store the saved filters.
    SaveFilters(Vec<(String, String)>),
    /// Live history: start again with another profile or other regions (`None`: unchanged).
    Reconnect { profile: Option<String>, regions: Option<Vec<String>> },
    /// Live history: fetch this query (cancelling the one before).
    LiveQuery { generation: u64, query: LiveQuery },
    /// Live history: stop fetching. Log groups too.
    LiveCancel,
    /// Log groups: read again up to now, with this filter's pattern.
    ReloadLogs { filter: String },
    /// Read and highlight an event's record for the detail view ([`Msg::Detail`] answers).
    ReadRecord(u32),
    /// Clear the screen and draw it whole.
    ClearScreen,
    /// Verify the archive's log files against its digests ([`Msg::Verified`] answers).
    Verify,
    /// Give the terminal back and stop until continued (Ctrl-Z).
    Suspend,
    /// Evaluate the detection rules against these events, which their source did not evaluate
    /// as it parsed them ([`Msg::Detected`] answers).
    Detect { generation: u64, ranges: Vec<std::ops::Range<u32>> },
}

/// What background work reports, applied in [`State::apply`].
pub enum Msg {
    Load(SourceMsg),
    /// The record of an event for the detail view, highlighted (or why it could not be read).
    Detail {
        event: u32,
        result: Result<Arc<Highlighted>, RecordError>,
    },
    /// The filter worker has results waiting.
    Work,
    /// A line for the status bar (the outcome of an [`Effect`]); `error`: something failed.
    Notice {
        text: String,
        error: bool,
    },
    /// The terminal's size.
    Resize(Rect),
    /// The source was started again (`:profile`, `:region`): the events so far are gone.
    Restarted {
        notice: String,
    },
    /// What verification found for each log file, by the path it is shown by; or why nothing
    /// could be verified.
    Verified(Result<Vec<(String, crate::model::FileVerdict)>, crate::verify::Unverified>),
    /// The detection rules were read: what each says about itself, the files that could not
    /// be used, and how many were for other log sources.
    Rules {
        rules: Vec<crate::model::detect::RuleInfo>,
        problems: Vec<crate::sigma::RuleProblem>,
        other: usize,
    },
    /// Detection rules were evaluated against `evaluated` more events: those that matched some.
    Detected {
        generation: u64,
        hits: Vec<(u32, Vec<u16>)>,
        evaluated: usize,
    },
}

/// A message shown in the status bar for [`NOTICE_FOR`].
#[derive(Clone, Debug)]
pub struct Notice {
    pub text: String,
    pub at: Instant,
    /// Something failed (shown in the error colour), as opposed to done.
    pub error: bool,
}

/// How loading is going.
#[derive(Debug, Default)]
pub struct LoadState {
    pub(crate) stats: LoadStats,
    pub(crate) done: bool,
    pub(crate) started: Option<Instant>,
    pub(crate) elapsed: Duration,
    /// What the S3 source last said of its progress, when trail archives are read from S3.
    pub(crate) remote: Option<S3Status>,
    /// What the CloudWatch Logs source last said of its progress, when log groups are read.
    pub(crate) logs: Option<LogsStatus>,
    /// What Athena was asked and what it cost.
    pub(crate) athena: Option<crate::source::boundary::AthenaStatus>,
}

impl LoadState {
    fn starting() -> Self {
        LoadState { started: Some(Instant::now()), ..Default::default() }
    }

    /// Whether the source has delivered everything.
    pub fn done(&self) -> bool {
        self.done
    }
}

/// Something said without anything lost, listed beside the problems (`E`) but not counted
/// with them: an input read in full with something worth knowing (records without a readable
/// time), or the cache (a stored load or index not used, or not written), whose inputs were
/// read from the files instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// About the cache, not an input.
    pub cache: bool,
    /// The input (`cache` for the cache) and what is said of it.
    pub said: Problem,
}

/// What a state starts with besides its events.
pub struct Start {
    /// Terms from the command line (`--since`/`--until`) that always apply.
    pub base_terms: Vec<Term>,
    pub filter: Option<String>,
    /// Anchors `since:`/`until:` ages; fixed per query so results do not drift.
    pub now_ms: i64,
    /// Live event history over `[since, until or now]`, instead of files.
    pub live: Option<(i64, Option<i64>)>,
    pub local_time: bool,
    pub fuzzy: Engine,
    /// The list's columns and their order (indices into the columns' headers).
    pub columns: Option<Vec<(usize, Option<u16>)>>,
    /// Key bindings from the configuration file, over the built-in ones.
    pub user_keys: Vec<(Key, Action)>,
    pub show_timeline: bool,
    pub saved_filters: Vec<(String, String)>,
    /// Problems known before any input is read (the configuration file's).
    pub problems: Vec<Problem>,
    /// The archive is (partly) in S3, whose loading does not fetch the digests: it is
    /// verified whether or not digest files were counted.
    pub remote_archive: bool,
    /// Detection rules were given: events are evaluated as they load.
    pub detect: bool,
    /// Log groups of CloudWatch Logs are read: they are paged as the list is scrolled.
    pub log_groups: bool,
    /// An Athena table is asked: Esc stops its query.
    pub athena: bool,
}

impl Default for Start {
    fn default() -> Self {
        Start {
            base_terms: Vec::new(),
            filter: None,
            now_ms: 0,
            live: None,
            local_time: false,
            fuzzy: Engine::default(),
            columns: None,
            user_keys: Vec::new(),
            show_timeline: true,
            saved_filters: Vec::new(),
            problems: Vec::new(),
            remote_archive: false,
            detect: false,
            log_groups: false,
            athena: false,
        }
    }
}

pub struct State {
    /// Log groups are read (paged as the list is scrolled, read again with `r`).
    pub(crate) log_groups: bool,
    /// An Athena table is asked (Esc stops its query while it runs).
    pub(crate) athena: bool,
    pub(crate) events: Events,
    pub(crate) filter: FilterState,
    pub(crate) list: ListState,
    pub(crate) detail: DetailState,
    pub(crate) facets: FacetsState,
    pub(crate) popups: Popups,
    /// Set when browsing live event history rather than files.
    pub(crate) live: Option<LiveState>,
    pub(crate) load: LoadState,
    pub(crate) problems: Vec<Problem>,
    /// What was said without anything lost (see [`Note`]).
    pub(crate) notes: Vec<Note>,
    pub(crate) focus: Focus,
    pub(crate) now_ms: i64,
    pub(crate) show_timeline: bool,
    /// Show times in the local time zone instead of UTC.
    pub(crate) local_time: bool,
    /// The list shows the oldest event first (the view itself stays newest first).
    pub(crate) oldest_first: bool,
    pub(crate) columns: Option<Vec<(usize, Option<u16>)>>,
    pub(crate) user_keys: Vec<(Key, Action)>,
    /// The terminal's size, and where the panes are on it.
    pub(crate) screen: Rect,
    pub(crate) areas: Areas,
    pub(crate) notice: Option<Notice>,
    /// A notice that came while a fresh error was shown: it follows once the error has been
    /// read, rather than hiding it.
    queued_notice: Option<String>,
    pub(crate) verify: VerifyState,
    pub(crate) detect: DetectState,
    quit: bool,
    effects: Vec<Effect>,
}

impl State {
    /// A state over `store` (empty), whose records `raw` reads back, filtered by `worker` (a
    /// thread that whoever runs the state started over the same store and reader).
    pub fn new(store: SharedStore, raw: Arc<RawReader>, worker: Worker, start: Start) -> Self {
        let mut s = State {
            events: Events::new(store, raw, worker),
            filter: FilterState::new(start.filter, start.base_terms, start.fuzzy),
            list: ListState::default(),
            detail: DetailState::new(),
            facets: FacetsState::default(),
            popups: Popups { saved: start.saved_filters, ..Default::default() },
            live: start.live.map(|(since, until)| LiveState::new(since, until)),
            load: LoadState::starting(),
            problems: start.problems,
            notes: Vec::new(),
            focus: Focus::List,
            now_ms: start.now_ms,
            show_timeline: start.show_timeline,
            local_time: start.local_time,
            oldest_first: false,
            columns: start.columns,
            user_keys: start.user_keys,
            screen: Rect::default(),
            areas: Areas::default(),
            notice: None,
            queued_notice: None,
            verify: VerifyState { remote: start.remote_archive, ..VerifyState::default() },
            detect: DetectState { enabled: start.detect, ..Default::default() },
            log_groups: start.log_groups,
            athena: start.athena,
            quit: false,
            effects: Vec::new(),
        };
        s.apply_filter(true);
        s
    }

    pub fn mode(&self) -> Mode {
        if self.popups.prompt.is_some() {
            return Mode::Prompt;
        }
        match (self.popups.open, self.focus) {
            (Some(Popup::Copy), _) => Mode::CopyMenu,
            (Some(Popup::Saved), _) => Mode::Picker,
            (Some(Popup::Help | Popup::Errors), _) => Mode::Popup,
            (None, Focus::Filter) => Mode::Filter,
            (None, Focus::List) => Mode::List,
            (None, Focus::Detail) => Mode::Detail,
            (None, Focus::Facets) => Mode::Facets,
        }
    }

    /// The events that match the filter, newest first.
    pub fn view(&self) -> &[u32] {
        self.events.view()
    }

    /// Every event, newest first.
    pub fn order(&self) -> &[u32] {
        &self.events.order
    }

    pub fn store(&self) -> &SharedStore {
        &self.events.store
    }

    pub fn raw(&self) -> &Arc<RawReader> {
        &self.events.raw
    }

    pub fn selected_event(&self) -> Option<u32> {
        if self.list.selected >= self.events.view().len() {
            return None;
        }
        self.events.view().get(self.view_pos(self.list.selected)).copied()
    }

    /// The place in the view (newest first) of the list's row `row`, and the other way round:
    /// the list shows the view reversed when the oldest come first.
    pub fn view_pos(&self, row: usize) -> usize {
        if self.oldest_first {
            self.events.view().len().saturating_sub(1).saturating_sub(row)
        } else {
            row
        }
    }

    /// Whether the list shows the oldest event first.
    pub fn oldest_first(&self) -> bool {
        self.oldest_first
    }

    pub fn focus(&self) -> Focus {
        self.focus
    }

    pub fn filter(&self) -> &FilterState {
        &self.filter
    }

    pub fn list(&self) -> &ListState {
        &self.list
    }

    pub fn detail(&self) -> &DetailState {
        &self.detail
    }

    pub fn facets(&self) -> &FacetsState {
        &self.facets
    }

    pub fn popups(&self) -> &Popups {
        &self.popups
    }

    pub fn live(&self) -> Option<&LiveState> {
        self.live.as_ref()
    }

    pub fn load(&self) -> &LoadState {
        &self.load
    }

    /// Inputs that failed or were read only in part.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// What was said of inputs or of the cache without anything lost.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    pub fn notice(&self) -> Option<&Notice> {
        self.notice.as_ref()
    }

    /// The user asked to quit.
    pub fn quitting(&self) -> bool {
        self.quit
    }

    /// The facet rows as the panel lists them: (facet index, value index).
    pub fn facet_rows(&self) -> Vec<(usize, usize)> {
        self.facets.rows()
    }

    /// Which panes besides the fixed ones are shown.
    pub fn panes(&self) -> Panes {
        Panes { timeline: self.show_timeline, facets: self.facets.shown }
    }

    /// Where the panes are, for the last size of the terminal.
    pub fn areas(&self) -> Areas {
        self.areas
    }

    /// The terminal's size, as last reported.
    pub fn screen(&self) -> Rect {
        self.screen
    }

    /// Whether the filter worker is still checking events for the filter in force.
    pub fn filtering(&self) -> Option<(usize, usize)> {
        self.events.filtering()
    }

    /// Whether the current filter has not sent its first results yet: the list still shows
    /// the previous filter's rows, which the app loop briefly holds back from drawing.
    pub fn awaiting_first_results(&self) -> bool {
        !self.events.run.done && self.events.run.parts == 0
    }

    /// Whether background work that changes what is shown is under way: a filter run, new
    /// events with the worker, the summary (facets, timeline) asked for the view, or the count
    /// of what `text:` would match when bare words matched nothing.
    pub fn busy(&self) -> bool {
        !self.events.idle()
            || (self.summary_due() && self.facets.awaiting(self.events.view_version))
            || matches!(self.events.run.text_hint, Some((_, None)))
    }

    /// Whether live history (or a log group) should fetch further pages: until the view holds a few pages
    /// beyond what is on screen.
    pub fn wants_more(&self) -> bool {
        (self.live.as_ref().is_some_and(|l| l.fetching()) || (self.log_groups && !self.load.done))
            && self.events.view().len() < self.view_pos(self.list.selected) + 3 * self.list.height.max(10) + 100
    }

    /// Whether the detail pane shows the newest event of a load that goes on: it changes with
    /// the batches, so each record read for it is read once, its file not kept for later reads.
    pub fn detail_follows_loading(&self) -> bool {
        !self.load.done && self.follow_or_keep().0
    }

    /// The event whose record the detail view needs and nobody is fetching yet.
    pub fn detail_wanted(&self) -> Option<u32> {
        self.detail.wanted()
    }

    /// The side effects asked for since the last call, for the app to carry out; the record
    /// the detail view needs is among them.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        if let Some(ev) = self.detail.wanted() {
            self.detail.requested = Some(ev);
            self.effects.push(Effect::ReadRecord(ev));
        }
        std::mem::take(&mut self.effects)
    }

    /// Lets the app loop wake up when the filter worker has results ([`Msg::Work`]).
    pub fn set_worker_waker(&self, w: Box<dyn Fn() + Send + Sync>) {
        self.events.set_waker(w);
    }

    /// A burst of keys begins: filter edits are noted and applied once, when it ends.
    pub fn begin_burst(&mut self) {
        self.filter.defer = true;
    }

    /// The burst of keys ended: applies a filter edit noted meanwhile.
    pub fn end_burst(&mut self) {
        self.filter.defer = false;
        if self.filter.stale {
            self.apply_filter(false);
        }
    }

    /// Shows `d` as the time loading took: reproducible screens (snapshots, screenshots).
    pub fn pin_load_time(&mut self, d: Duration) {
        self.load.elapsed = d;
    }

    /// Housekeeping after updates: drops an old notice, and asks the worker for the facets
    /// and the timeline of the view when they are shown and out of date (at most twice a
    /// second while events stream in).
    pub fn maintain(&mut self) {
        // An old notice is dropped, so that nothing keeps the screen redrawing for it.
        if self.notice.as_ref().is_some_and(|n| n.at.elapsed() >= NOTICE_FOR) {
            self.notice = self.queued_notice.take().map(|text| Notice { text, at: Instant::now(), error: false });
        }
        if !self.events.run.done || !self.summary_due() {
            return;
        }
        let facets = self.facets.shown;
        match self.facets.asked {
            Some((v, f, _)) if v == self.events.view_version && f == facets => return,
            Some((_, _, at)) if !self.load.done && at.elapsed() < Duration::from_millis(500) => return,
            _ => {}
        }
        self.facets.asked = Some((self.events.view_version, facets, Instant::now()));
        self.events.ask_summary(facets);
    }

    /// Whether the timeline or the facets are shown and their summary is out of date.
    fn summary_due(&self) -> bool {
        self.facets.due(self.events.view_version, self.show_timeline)
    }

    /// Shows `text` in the status bar. An error still fresh there is not covered by news that
    /// came in meanwhile (a source's remark as loading ends): that waits its turn.
    pub(crate) fn notify(&mut self, text: impl Into<String>) {
        if self.notice.as_ref().is_some_and(|n| n.error && n.at.elapsed() < NOTICE_FOR) {
            self.queued_notice = Some(text.into());
            return;
        }
        self.notice = Some(Notice { text: text.into(), at: Instant::now(), error: false });
    }

    pub(crate) fn notify_error(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice { text: text.into(), at: Instant::now(), error: true });
    }

    /// Applies what the user did.
    pub fn update(&mut self, action: Action) {
        // A notice answers the last thing done ("no earlier filter", "this event has no
        // session"): once the user does something else it no longer applies. What this action
        // has to say (or an effect's outcome, later) is the new notice.
        if action != Action::Redraw {
            self.notice = None;
            self.queued_notice = None;
        }
        // The same in every mode.
        match action {
            Action::Mouse(p) => self.pointer(p),
            Action::Quit => self.quit = true,
            Action::Suspend => self.effects.push(Effect::Suspend),
            Action::Redraw => self.effects.push(Effect::ClearScreen),
            action => self.update_in_mode(action),
        }
    }

    /// An action for whatever is in front: a prompt, a popup, or the panes.
    fn update_in_mode(&mut self, action: Action) {
        if self.popups.prompt.is_some() {
            let outcome = self.popups.update_prompt(action);
            self.follow(outcome);
        } else if let Some(p) = self.popups.open {
            let outcome = self.popups.update_popup(p, action);
            self.follow(outcome);
        } else {
            self.update_panes(action);
            if self.focus != Focus::Filter {
                self.filter.anchor = None;
            }
        }
    }

    /// Carries out what a popup or prompt asked for.
    fn follow(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Done => {}
            Outcome::Copy(what) => self.copy(what),
            Outcome::Recall(filter) => self.commit_filter(filter),
            Outcome::Deleted(name) => {
                self.effects.push(Effect::SaveFilters(self.popups.saved.clone()));
                self.notify(format!("deleted the saved filter {name}"));
            }
            Outcome::Submit(PromptKind::Export, path) => self.export_view(path, false),
            Outcome::Submit(PromptKind::Command, line) => self.run_command(&line),
            Outcome::Submit(PromptKind::SaveFilter, name) => self.save_filter(name),
            Outcome::Submit(PromptKind::Window, spec) => self.add_window(&spec),
            Outcome::Complete => self.popups.complete(),
        }
    }

    /// An action in the panes (no popup or prompt open).
    fn update_panes(&mut self, action: Action) {
        use Action::*;
        match action {
            Help => self.popups.open(Popup::Help),
            Errors => self.popups.open(Popup::Errors),
            Down | Up | PageDown | PageUp | HalfPageDown | HalfPageUp | Top | Bottom => match self.focus {
                Focus::Detail => self.detail.step(&action),
                Focus::Facets => self.facets.step(&action),
                _ => self.move_selection(&action),
            },
            NextPane | PrevPane => self.cycle_focus(action == NextPane),
            FocusFilter => self.focus_filter(),
            OpenDetail => {
                if self.selected_event().is_some() {
                    self.focus = Focus::Detail;
                }
            }
            IncludeFacet | ExcludeFacet => {
                if self.focus == Focus::Facets {
                    self.add_facet_term(action == ExcludeFacet);
                }
            }
            MoreFacetValues => {
                if self.focus == Focus::Facets {
                    self.facets.toggle_more();
                }
            }
            Refresh => self.refresh(),
            Back => self.back(),
            FilterSubmit => {
                self.apply_filter(true);
                if self.filter.error.is_none() {
                    self.focus = Focus::List;
                    self.filter.anchor = None;
                    self.filter.push_history();
                }
            }
            a if is_line_edit(&a) => {
                if edit_line(&mut self.filter.input, &mut self.filter.cursor, &a) {
                    self.apply_filter(false);
                }
            }
            Paste(text) => {
                // Into the filter when it is being edited; a paste is never keys.
                if self.focus == Focus::Filter && insert_text(&mut self.filter.input, &mut self.filter.cursor, &text) {
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
                self.facets.shown = !self.facets.shown;
                self.focus = if self.facets.shown { Focus::Facets } else { Focus::List };
                self.relayout();
            }
            ToggleTimeline => {
                self.show_timeline = !self.show_timeline;
                self.relayout();
            }
            ToggleTimeZone => self.local_time = !self.local_time,
            JumpSection => self.detail.jump_section(),
            ToggleOrder => {
                let keep = self.selected_event();
                self.oldest_first = !self.oldest_first;
                self.reselect(keep, false);
                self.notify(if self.oldest_first { "oldest first" } else { "newest first" });
            }
            CopyMenu => {
                if self.selected_event().is_some() {
                    self.popups.open(Popup::Copy);
                }
            }
            Copy(what) => self.copy(what),
            OpenPager => {
                if let Some(ev) = self.selected_event() {
                    self.effects.push(Effect::Pager(ev));
                }
            }
            other => self.open_something(other),
        }
    }

    /// The actions that open a prompt or a popup from the panes.
    fn open_something(&mut self, action: Action) {
        match action {
            Action::Export => self.popups.open_prompt(PromptKind::Export, "trailscope-export.jsonl".into()),
            Action::AddWindow => {
                match self.selected_event().map(|ev| self.events.store.read().events[ev as usize].time()) {
                    Some(t) if t != crate::model::NO_TIME => self.popups.open_prompt(PromptKind::Window, "15m".into()),
                    Some(_) => self.notify("this event has no time to put a window around"),
                    None => {}
                }
            }
            Action::SaveFilter => {
                if self.filter.applied.is_empty() {
                    self.notify("nothing to save: the filter is empty");
                } else {
                    self.popups.open_prompt(PromptKind::SaveFilter, String::new());
                }
            }
            Action::Command => self.popups.open_prompt(PromptKind::Command, String::new()),
            Action::RecallFilter => {
                if self.popups.saved.is_empty() {
                    self.notify("no saved filters yet (m saves the filter in force)");
                } else {
                    self.popups.saved_sel = self.popups.saved_sel.min(self.popups.saved.len() - 1);
                    self.popups.open(Popup::Saved);
                }
            }
            // The rest act only in a popup or a prompt.
            _ => {}
        }
    }

    fn cycle_focus(&mut self, next: bool) {
        let mut order = vec![Focus::Filter, Focus::List, Focus::Detail];
        if self.facets.shown {
            order.push(Focus::Facets);
        }
        let i = order.iter().position(|f| *f == self.focus).unwrap_or(1);
        let n = order.len();
        self.focus = order[if next { (i + 1) % n } else { (i + n - 1) % n }];
    }

    fn focus_filter(&mut self) {
        self.focus = Focus::Filter;
        self.filter.cursor = self.filter.input.len();
    }

    /// Esc: close what is open, or clear the filter, or stop a live fetch.
    fn back(&mut self) {
        match self.focus {
            Focus::Detail | Focus::Facets => self.focus = Focus::List,
            Focus::Filter => {
                // Editing is given up: the filter in force before it (the last one submitted,
                // pivots and history walks included) comes back; Ctrl-U is what clears.
                let last = self.filter.history.get(self.filter.history_pos).cloned().unwrap_or_default();
                if self.filter.input != last || self.filter.applied != last {
                    self.set_filter_text(last);
                }
                self.focus = Focus::List;
                self.filter.anchor = None;
            }
            Focus::List => {
                let asking_athena = self.athena && self.load.athena.as_ref().is_none_or(|a| !a.done);
                if self.live.as_ref().is_some_and(|l| l.fetching())
                    || (self.log_groups && !self.load.done)
                    || asking_athena
                {
                    // Esc stops a live fetch (the reading of log groups, Athena's query)
                    // first; what was fetched stays.
                    self.effects.push(Effect::LiveCancel);
                } else if !self.filter.input.is_empty() {
                    self.commit_filter(String::new());
                }
            }
        }
    }

    /// Live history: fetch again, up to now.
    fn refresh(&mut self) {
        if self.live.is_some() {
            if let Ok(q) = query::parse(&self.filter.applied, self.now_ms) {
                self.plan_live(&q, true);
            }
        } else if self.log_groups || self.athena {
            // Log groups are read again up to now, with the filter's pattern; Athena is asked
            // the filter in the pane (a question asked before costs nothing: its results are
            // remembered).
            self.effects.push(Effect::ReloadLogs { filter: self.filter.applied.clone() });
        }
    }

    /// Starts (or restarts, with `refresh`) the live query the filter `q` needs.
    fn plan_live(&mut self, q: &query::Query, refresh: bool) {
        let fresh_now = if refresh { crate::model::time::now_ms() } else { self.now_ms };
        if let Some(cmd) = self.live.as_mut().and_then(|l| l.plan(q, self.now_ms, refresh, fresh_now)) {
            self.effects.push(cmd);
        }
    }

    /// The mouse: the wheel scrolls what is under it (an open popup wherever it turns); a click
    /// focuses a pane and selects the list row or facet value under it.
    fn pointer(&mut self, p: Pointer) {
        if self.popups.prompt.is_some() {
            return;
        }
        if let Some(popup) = self.popups.open {
            if let Pointer::Scroll { down, .. } = p {
                let step = if down { Action::Down } else { Action::Up };
                match popup {
                    Popup::Help | Popup::Errors => (0..WHEEL_LINES).for_each(|_| self.popups.scroll_by(&step)),
                    Popup::Saved => {
                        self.popups.update_popup(popup, step);
                    }
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
                    Some(Focus::Detail) => (0..WHEEL_LINES).for_each(|_| self.detail.step(&step)),
                    Some(Focus::Facets) => self.facets.step(&step),
                    _ => {}
                }
            }
            Pointer::Click { on: Focus::List, row } => {
                self.focus = Focus::List;
                if let Some(row) = row.filter(|&r| r < self.events.view().len()) {
                    self.filter.anchor = None;
                    self.events.run.keep = None;
                    self.list.selected = row;
                    self.list.clamp(self.events.view().len());
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
                if let Some(row) = row.filter(|&r| r < self.facets.rows().len()) {
                    self.facets.sel = row;
                }
            }
            Pointer::Click { on: Focus::Filter, .. } => self.focus_filter(),
        }
        if self.focus != Focus::Filter {
            self.filter.anchor = None;
        }
    }

    /// Where the panes go, after the terminal's size or the panes shown changed; page
    /// heights follow.
    fn relayout(&mut self) {
        if self.screen.area() == 0 {
            // Not laid out yet: the defaults stand.
            return;
        }
        self.areas = layout(self.screen, self.panes());
        self.list.height = (self.areas.list.height.saturating_sub(3) as usize).max(1);
        self.list.clamp(self.events.view().len());
        self.fit_detail();
    }

    /// The detail view's page: its inside less the lines of the rules the event matched,
    /// which the view shows above the record (as `ui::detail` lays them out).
    pub(crate) fn fit_detail(&mut self) {
        if self.screen.area() == 0 {
            // Not laid out yet: the defaults stand.
            return;
        }
        let inner = self.areas.detail.height.saturating_sub(2) as usize;
        let rules = self.detail.event.map_or(0, |i| {
            let store = self.events.store.read();
            let d = &store.detections;
            d.of(i)
                .iter()
                .filter_map(|&r| d.rules.get(r as usize))
                .map(|r| 2 + usize::from(!r.description.is_empty()) + r.references.len())
                .sum::<usize>()
        });
        let header = if rules == 0 { 0 } else { (rules + 1).min(inner / 2) };
        self.detail.height = inner.saturating_sub(header).max(1);
        self.detail.clamp();
    }

    fn move_selection(&mut self, action: &Action) {
        self.filter.anchor = None;
        self.events.run.keep = None;
        self.list.step(action, self.events.view().len());
        self.sync_detail();
    }

    /// Points the detail view at the selected event; the app fetches what is missing.
    fn sync_detail(&mut self) {
        self.detail.show(self.selected_event());
        self.fit_detail();
    }

    fn copy(&mut self, what: CopyWhat) {
        let Some(ev) = self.selected_event() else { return };
        if what == CopyWhat::Json {
            self.effects.push(Effect::CopyRecord(ev));
            return;
        }
        let store = self.events.store.read();
        let e = &store.events[ev as usize];
        let (label, text) = match what {
            CopyWhat::EventId => ("eventID", store.event_id(e, &self.events.raw)),
            CopyWhat::Arn => ("principal ARN", store.sym(e, SymField::Arn).to_string()),
            CopyWhat::AccessKey | CopyWhat::Json => ("access key", store.sym(e, SymField::AccessKey).to_string()),
            CopyWhat::Time if e.time() == crate::model::NO_TIME => ("time", String::new()),
            CopyWhat::Time => ("time", crate::model::time::format_rfc3339(e.time())),
        };
        drop(store);
        if text.is_empty() {
            self.notify(format!("this event has no {label}"));
        } else {
            self.effects.push(Effect::Copy { label, text });
        }
    }

    /// Asks for the filtered events to be written to `path` (over an existing file only when
    /// `overwrite`), once the filter has finished.
    fn export_view(&mut self, path: String, overwrite: bool) {
        if self.events.run.done {
            self.effects.push(Effect::Export { path, events: Arc::new(self.events.view().to_vec()), overwrite });
        } else {
            self.notify("the filter is still running; export when it has finished");
        }
    }

    /// Adds a time window around the selected event to the filter in force, in place of the
    /// time bounds it had: `15m` either side, `-1h` the hour before the event, `+30m` the half
    /// hour after it, `-1h +10m` an hour before to ten minutes after.
    fn add_window(&mut self, spec: &str) {
        let Some(ev) = self.selected_event() else { return };
        let at = self.events.store.read().events[ev as usize].time();
        let Some((before, after)) = parse_window(spec) else {
            self.notify_error(format!(
                "{}: not a window (15m either side, -1h before, +30m after, -1h +10m)",
                crate::sanitize::sanitize(spec)
            ));
            return;
        };
        let Ok(q) = query::parse(&self.filter.applied, self.now_ms) else { return };
        let mut terms: Vec<String> = q
            .terms
            .iter()
            .filter(|t| !matches!(t.kind, query::TermKind::Since(_) | query::TermKind::Until(_)))
            .map(|t| t.to_string())
            .collect();
        terms.push(query::Term { negated: false, kind: query::TermKind::Since(at - before) }.to_string());
        terms.push(query::Term { negated: false, kind: query::TermKind::Until(at + after) }.to_string());
        self.filter.anchor = Some(ev);
        self.commit_filter(terms.join(" "));
    }

    /// Saves the filter in force under `name` (replacing a filter of that name).
    fn save_filter(&mut self, name: String) {
        if self.filter.applied.is_empty() {
            self.notify("nothing to save: the filter is empty");
            return;
        }
        self.popups.save(name.clone(), self.filter.applied.clone());
        self.effects.push(Effect::SaveFilters(self.popups.saved.clone()));
        self.notify(format!("saved the filter as {name} (' recalls it)"));
    }
}

#[cfg(test)]
mod tests;

/// A window's extent before and after an event, in ms: `15m` either side, `-1h` before only,
/// `+30m` after only, `-1h +10m` both.
fn parse_window(spec: &str) -> Option<(i64, i64)> {
    let words: Vec<&str> = spec.split_whitespace().collect();
    let age = |w: &str| crate::model::time::parse_age(w).filter(|&ms| ms <= 366 * 86_400_000);
    match words.as_slice() {
        [w] if !w.starts_with(['-', '+']) => age(w).map(|ms| (ms, ms)),
        [w] if w.starts_with('-') => age(&w[1..]).map(|ms| (ms, 0)),
        [w] => age(&w[1..]).map(|ms| (0, ms)),
        [a, b] if a.starts_with('-') && b.starts_with('+') => Some((age(&a[1..])?, age(&b[1..])?)),
        [a, b] if a.starts_with('+') && b.starts_with('-') => Some((age(&b[1..])?, age(&a[1..])?)),
        _ => None,
    }
}
