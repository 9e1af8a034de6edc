//! trailscope: a terminal UI for AWS CloudTrail event history and trail archives.

pub mod action;
pub mod app;
pub mod cli;
pub mod command;
pub mod config;
pub mod double;
pub mod effects;
pub mod gen;
pub mod highlight;
pub mod keymap;
pub mod model;
pub mod mouse;
pub mod print;
pub mod query;
pub mod sanitize;
pub mod source;
pub mod state;
pub mod store;
pub mod ui;
