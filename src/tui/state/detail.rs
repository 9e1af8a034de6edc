//! The detail view: the selected event's record, fetched and highlighted by the app, and how
//! far it is scrolled.

use crate::tui::action::Action;
use crate::tui::highlight::Highlighted;
use std::sync::Arc;

/// Why an event's record could not be read back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("no such event")]
    NoSuchEvent,
    #[error("no such file")]
    NoSuchFile,
    #[error("the event is not loaded")]
    NotLoaded,
    /// The reader failed; it says why.
    #[error("{0}")]
    Unreadable(String),
}

#[derive(Default)]
pub struct DetailState {
    /// The event whose record is shown (or being fetched).
    pub(crate) event: Option<u32>,
    pub(crate) content: Option<Arc<Highlighted>>,
    pub(crate) error: Option<RecordError>,
    pub(crate) scroll: usize,
    pub(crate) height: usize,
    /// The event whose record is being fetched.
    pub(crate) requested: Option<u32>,
}

impl DetailState {
    pub(crate) fn new() -> Self {
        DetailState { height: 10, ..Default::default() }
    }

    /// Scrolls by a movement action.
    pub(crate) fn step(&mut self, action: &Action) {
        let page = self.height.max(1);
        let s = self.scroll;
        self.scroll = match action {
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
        self.clamp();
    }

    pub(crate) fn clamp(&mut self) {
        let lines = self.content.as_ref().map_or(0, |c| c.lines.len());
        self.scroll = self.scroll.min(lines.saturating_sub(self.height));
    }

    /// Points the view at `event`; what it had for another event is dropped.
    pub(crate) fn show(&mut self, event: Option<u32>) {
        if event != self.event {
            self.event = event;
            self.content = None;
            self.error = None;
            self.scroll = 0;
        }
    }

    /// The event whose record the view needs and nobody is fetching yet.
    pub(crate) fn wanted(&self) -> Option<u32> {
        match (&self.event, &self.content, &self.error) {
            (Some(e), None, None) if self.requested != Some(*e) => Some(*e),
            _ => None,
        }
    }

    /// A record read (or not) for `event`.
    pub(crate) fn apply_read(&mut self, event: u32, result: Result<Arc<Highlighted>, RecordError>) {
        if self.requested == Some(event) {
            self.requested = None;
        }
        if self.event == Some(event) {
            match result {
                Ok(h) => self.content = Some(h),
                Err(e) => self.error = Some(e),
            }
            self.clamp();
        }
    }

    /// Scrolls to the next of the record's parts worth reading first (requestParameters,
    /// responseElements, additionalEventData, errorCode, errorMessage) after the line at the
    /// top, or back to the first.
    pub(crate) fn jump_section(&mut self) {
        const PARTS: [&str; 5] = [
            "\"requestParameters\"",
            "\"responseElements\"",
            "\"additionalEventData\"",
            "\"errorCode\"",
            "\"errorMessage\"",
        ];
        let Some(content) = &self.content else { return };
        let anchors: Vec<usize> = content
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
                let body = text.trim_start_matches(' ');
                text.len() - body.len() == 2 && PARTS.iter().any(|p| body.starts_with(p))
            })
            .map(|(i, _)| i)
            .collect();
        if let Some(&next) = anchors.iter().find(|&&i| i > self.scroll).or(anchors.first()) {
            self.scroll = next;
            self.clamp();
        }
    }

    /// The record as highlighted for drawing, once read.
    pub fn content(&self) -> Option<&Highlighted> {
        self.content.as_deref()
    }

    /// How far the record is scrolled, in lines.
    pub fn scroll(&self) -> usize {
        self.scroll
    }
}
