//! trailscope: a terminal UI for AWS CloudTrail event history and trail archives.
//!
//! The modules form layers that import only downward (`tests/layers.rs` keeps it so):
//!
//! ```text
//! sanitize ─► model ─► sigma ─► query, cache ─► source ─► print, verify ─► tui ─► cli, config
//! ```
//!
//! - [`sanitize`]: the one function every string from an event passes before it is shown.
//! - [`model`]: events, interned strings, ids, time, where each raw record lies and how it is
//!   read back.
//! - [`query`]: the filter language, its plan (what a server can do, what is checked here),
//!   matching, the filtering worker, facet statistics.
//! - [`sigma`]: detections: Sigma rules for CloudTrail, loaded and evaluated against records.
//! - [`cache`]: the local SQLite store (events of live history, coverage, archive indexes).
//! - [`source`]: everything that produces events, behind one boundary: archives on disk, live
//!   history through LookupEvents.
//! - [`print`](mod@print): `trailscope print` and the writers export shares with it.
//! - [`verify`](mod@verify): `trailscope verify`, log file integrity from the trail's signed
//!   digests.
//! - [`tui`]: the terminal UI: actions, keys, state, effects, drawing, the event loop.
//! - [`cli`], [`config`]: the command line and the configuration file.

#![forbid(unsafe_code)]

pub mod athena;
pub mod cache;
pub mod cli;
pub mod config;
#[warn(missing_docs)]
pub mod model;
pub mod print;
#[warn(missing_docs)]
pub mod query;
pub mod sanitize;
#[warn(missing_docs)]
pub mod sigma;
#[warn(missing_docs)]
pub mod source;
pub mod tui;
pub mod verify;
