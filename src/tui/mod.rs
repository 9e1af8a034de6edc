//! The terminal UI: keys become actions, actions update the state, the state is drawn.

pub mod action;
pub mod app;
pub mod command;
pub mod effects;
pub mod format;
pub mod highlight;
pub mod keymap;
pub mod layout;
pub mod mouse;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod ui;
