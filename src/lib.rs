//! trailscope: a terminal UI for AWS CloudTrail event history and trail archives.

pub mod cli;
pub mod model;
pub mod print;
pub mod query;
pub mod sanitize;
pub mod source;
