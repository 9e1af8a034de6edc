//! Log file verification in the background: asked for once an archive with digests has
//! loaded, its verdicts marked on the store's files as they come back.

use super::{Effect, State};
use crate::model::FileVerdict;
use crate::verify::Unverified;
use std::collections::HashMap;

/// Where verification of the loaded archive is.
#[derive(Debug, Default)]
pub struct VerifyState {
    /// Asked for, and not back yet.
    pub running: bool,
    /// Files with events: (✓ valid, ✗ altered, ? not covered or not checked), once back.
    pub counts: Option<(usize, usize, usize)>,
    /// Why nothing could be verified.
    pub error: Option<String>,
    /// Nothing was checked: no public keys and no credentials to ask for them.
    pub no_keys: bool,
    /// The archive is read from S3, where loading does not fetch digests (so none are
    /// counted): verify it anyway.
    pub remote: bool,
}

impl VerifyState {
    /// Whether verdicts are in, so that a file without one is "not checked".
    pub fn done(&self) -> bool {
        self.counts.is_some()
    }
}

impl State {
    /// The load is over: an archive with digest files is verified, once.
    pub(super) fn start_verify(&mut self, digests: usize) {
        let v = &self.verify;
        if (digests == 0 && !v.remote) || self.live.is_some() || v.running || v.done() || v.error.is_some() || v.no_keys
        {
            return;
        }
        self.verify.running = true;
        self.effects.push(Effect::Verify);
    }

    /// Verdicts by the path a file is shown by (as `verify` names it), or why there are none.
    pub(super) fn apply_verified(&mut self, result: Result<Vec<(String, FileVerdict)>, Unverified>) {
        self.verify.running = false;
        let by_path: HashMap<String, FileVerdict> = match result {
            Ok(v) => v.into_iter().collect(),
            // Not a problem of any input: the status bar says the digests were not checked.
            Err(Unverified::NoKeys) => {
                self.verify.no_keys = true;
                return;
            }
            Err(Unverified::Failed(e)) => {
                // Listed with the inputs' problems rather than as a notice, which would hide
                // the notices of the load (the configuration's problems) when it comes back.
                let reason = crate::sanitize::sanitize(&e).into_owned();
                self.problems.push(crate::source::boundary::Problem {
                    input: "verification".into(),
                    reason,
                    skipped: false,
                });
                self.verify.error = Some(e);
                return;
            }
        };
        let counts = {
            let mut store = self.events.store.write();
            let verdicts: Vec<FileVerdict> = store
                .files
                .iter()
                .map(|f| {
                    let shown = crate::sanitize::sanitize(&f.path.to_string_lossy()).into_owned();
                    by_path.get(&shown).copied().unwrap_or_default()
                })
                .collect();
            let mut has_events = vec![false; verdicts.len()];
            for ev in &store.events {
                if let Some(h) = has_events.get_mut(ev.loc.file as usize) {
                    *h = true;
                }
            }
            let mut counts = (0, 0, 0);
            for (v, _) in verdicts.iter().zip(&has_events).filter(|(_, h)| **h) {
                match v {
                    FileVerdict::Valid => counts.0 += 1,
                    FileVerdict::Altered => counts.1 += 1,
                    FileVerdict::NotCovered | FileVerdict::Unchecked => counts.2 += 1,
                }
            }
            store.verdicts = verdicts;
            counts
        };
        self.verify.counts = Some(counts);
        if self.filter_uses_verified() {
            // The events were matched before their files had verdicts: match them again.
            self.events.rematch_all();
            self.apply_filter(true);
        }
    }

    fn filter_uses_verified(&self) -> bool {
        self.filter.applied().to_ascii_lowercase().contains("verified:")
    }

    /// The selected event's file's verdict, once verification is back.
    pub fn detail_verdict(&self) -> Option<FileVerdict> {
        if !self.verify.done() {
            return None;
        }
        let ev = self.detail.event?;
        let store = self.events.store.read();
        store.events.get(ev as usize).map(|e| store.verdict_of(e))
    }
}
