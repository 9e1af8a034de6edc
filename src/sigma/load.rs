//! Reading rules from files and directories.

use super::RuleSet;
use crate::sanitize::sanitize;
use std::path::{Path, PathBuf};

/// A rule file that was skipped, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleProblem {
    /// The file (sanitised).
    pub file: String,
    /// Why it was skipped (sanitised).
    pub reason: String,
}

impl RuleProblem {
    pub(crate) fn new(file: &str, reason: String) -> Self {
        RuleProblem { file: sanitize(file).into_owned(), reason: sanitize(&reason).into_owned() }
    }
}

/// A `--rules` path that cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[error("rules {}: {reason}", sanitize(&.path.display().to_string()))]
pub struct LoadError {
    /// The path as given.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

impl RuleSet {
    /// Loads every `.yml`/`.yaml` file in `paths` (files, or directories searched recursively,
    /// in name order). A file that cannot be read or used is a [`RuleSet::problems`] entry
    /// naming it; a path that does not exist or cannot be listed is an error.
    pub fn load(paths: &[PathBuf]) -> Result<RuleSet, LoadError> {
        let mut set = RuleSet::new();
        for p in paths {
            let meta = std::fs::metadata(p).map_err(|e| LoadError { path: p.clone(), reason: e.to_string() })?;
            let mut files = Vec::new();
            if meta.is_dir() {
                walk(p, &mut files).map_err(|e| LoadError { path: p.clone(), reason: e.to_string() })?;
                files.sort();
            } else {
                files.push(p.clone());
            }
            for f in files {
                let name = f.display().to_string();
                match std::fs::read(&f) {
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Ok(text) => set.add_yaml(&text, &name),
                        Err(_) => set.problems.push(RuleProblem::new(&name, "not UTF-8 text".into())),
                    },
                    Err(e) => set.problems.push(RuleProblem::new(&name, format!("cannot be read: {e}"))),
                }
            }
        }
        Ok(set)
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let ty = entry.file_type()?;
        if ty.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
    Ok(())
}
