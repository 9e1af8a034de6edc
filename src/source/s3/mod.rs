//! Trail archives read straight from S3.
//!
//! [`layout`] is the pure part: the layout's keys, and which day directories and which files a
//! window and a filter need.

pub mod layout;
