//! Where the panes go: geometry only, decided from the screen size and which panes are shown.
//! The state keeps the result (page heights, where the mouse lands); drawing uses the same.

use ratatui::layout::{Constraint, Layout, Rect};

/// Below this size the panes cannot be drawn usefully; a notice is shown instead.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 12;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    pub filter: Rect,
    pub timeline: Option<Rect>,
    pub list: Rect,
    pub detail: Rect,
    pub facets: Option<Rect>,
    pub status: Rect,
}

/// What the layout depends on besides the terminal size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Panes {
    pub timeline: bool,
    pub facets: bool,
}

/// The timeline takes rows only where the list keeps enough of them.
const TIMELINE_MIN_BODY: u16 = 22;
const TIMELINE_ROWS: u16 = 3;
const FACETS_WIDTH: u16 = 44;
/// From this width on the facets sit beside the list and detail; below, in the detail's place.
const FACETS_BESIDE_FROM: u16 = 110;

/// Where each pane goes on a screen of `area`.
pub fn layout(area: Rect, panes: Panes) -> Areas {
    let [filter, mut body, status] =
        Layout::vertical([Constraint::Length(4), Constraint::Min(0), Constraint::Length(1)]).areas(area);
    let mut timeline = None;
    if panes.timeline && body.height >= TIMELINE_MIN_BODY {
        let [t, rest] = Layout::vertical([Constraint::Length(TIMELINE_ROWS), Constraint::Min(0)]).areas(body);
        timeline = Some(t);
        body = rest;
    }
    if panes.facets && body.width < FACETS_BESIDE_FROM {
        // Narrow: the facets take the detail view's place, so the list keeps its width.
        let [list, f] = Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body);
        return Areas { filter, timeline, list, detail: Rect { height: 0, ..f }, facets: Some(f), status };
    }
    let mut facets = None;
    if panes.facets {
        let w = FACETS_WIDTH.min(body.width / 2);
        let [main, f] = Layout::horizontal([Constraint::Min(0), Constraint::Length(w)]).areas(body);
        facets = Some(f);
        body = main;
    }
    let [list, detail] = Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body);
    Areas { filter, timeline, list, detail, facets, status }
}

/// Rows of events the list shows, and lines the detail view shows, for a terminal size.
pub fn pane_rows(area: Rect, panes: Panes) -> (usize, usize) {
    let a = layout(area, panes);
    (a.list.height.saturating_sub(3) as usize, a.detail.height.saturating_sub(2) as usize)
}
