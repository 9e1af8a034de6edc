//! The TUI's state without a terminal: the filter worker started beside it as the app does,
//! and what the app never does: waiting for the worker's results.
#![allow(dead_code)]

use std::ops::{Deref, DerefMut};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use trailscope::model::raw::RawReader;
use trailscope::query::run::{SharedStore, Worker};
use trailscope::tui::action::{Action, Focus, Pointer};
use trailscope::tui::state::{Msg, Start, State};

/// A state, and a signal each time its filter worker has sent something.
pub struct TestState {
    state: State,
    woken: mpsc::Receiver<()>,
}

impl Deref for TestState {
    type Target = State;
    fn deref(&self) -> &State {
        &self.state
    }
}

impl DerefMut for TestState {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.state
    }
}

/// A state for files, anchored at `now_ms`.
pub fn new_state(raw: Arc<RawReader>, now_ms: i64) -> TestState {
    new_state_with(raw, Start { now_ms, ..Start::default() })
}

pub fn new_state_with(raw: Arc<RawReader>, start: Start) -> TestState {
    let store = SharedStore::default();
    let worker = Worker::spawn(store.clone(), raw.clone());
    let (tx, woken) = mpsc::channel();
    worker.set_waker(Box::new(move || {
        let _ = tx.send(());
    }));
    TestState { state: State::new(store, raw, worker, start), woken }
}

impl TestState {
    /// Waits for the filter worker to finish the filter in force and the new events, and the
    /// summary when one is shown, applying its results.
    pub fn settle(&mut self) {
        loop {
            // What the worker sent, then what it should be asked next (a summary once a run
            // has finished), as the app loop does.
            self.state.apply(Msg::Work);
            self.state.maintain();
            if !self.state.busy() {
                return;
            }
            if self.woken.recv_timeout(Duration::from_secs(60)).is_err() {
                return;
            }
        }
    }

    /// Waits for the worker to send something, and applies what it sent.
    pub fn settle_step(&mut self) {
        if self.woken.recv_timeout(Duration::from_secs(60)).is_ok() {
            self.state.apply(Msg::Work);
        }
    }

    /// Selects row `row` of the list, as a click on it does.
    pub fn select_row(&mut self, row: usize) {
        self.state.update(Action::Mouse(Pointer::Click { on: Focus::List, row: Some(row) }));
    }

    /// Lays the state out for a terminal of `w` by `h`.
    pub fn resize(&mut self, w: u16, h: u16) {
        self.state.apply(Msg::Resize(ratatui::layout::Rect::new(0, 0, w, h)));
    }
}
