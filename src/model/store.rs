//! The loaded events, as the UI and `print` hold them, and the batches that fill them.

use super::{Event, StrRef, Sym, SymTable};
use crate::source::raw::SourceFile;
use std::sync::Arc;

/// A batch of events ready to append: symbols, arenas and events with global offsets, so
/// applying it is a few `extend`s.
#[derive(Debug, Default)]
pub struct Batch {
    pub new_syms: Vec<Arc<str>>,
    pub strings: String,
    pub resources: Vec<Sym>,
    pub events: Vec<Event>,
}

/// Every loaded event, with the tables its compact fields point into.
#[derive(Debug, Default)]
pub struct EventStore {
    pub events: Vec<Event>,
    pub syms: SymTable,
    /// Arena of unique strings (event ids, request ids).
    pub strings: String,
    /// Resource ARNs of all events; each event owns a range.
    pub resources: Vec<Sym>,
    pub files: Vec<Arc<SourceFile>>,
}

impl EventStore {
    /// Appends a batch; returns the range of new event indices.
    pub fn apply(&mut self, batch: Batch) -> std::ops::Range<u32> {
        let start = self.events.len() as u32;
        self.syms.extend(batch.new_syms);
        self.strings.push_str(&batch.strings);
        self.resources.extend(batch.resources);
        self.events.extend(batch.events);
        start..self.events.len() as u32
    }

    pub fn add_files(&mut self, files: impl IntoIterator<Item = Arc<SourceFile>>) {
        self.files.extend(files);
    }

    #[inline]
    pub fn str_ref(&self, r: StrRef) -> &str {
        self.strings.get(r.off as usize..(r.off + r.len) as usize).unwrap_or("")
    }

    #[inline]
    pub fn sym(&self, ev: &Event, f: super::SymField) -> &str {
        self.syms.get(ev.sym(f))
    }

    pub fn resource_syms(&self, ev: &Event) -> &[Sym] {
        let s = ev.res_start as usize;
        self.resources.get(s..s + ev.res_len as usize).unwrap_or(&[])
    }

    pub fn file_of(&self, ev: &Event) -> Option<&Arc<SourceFile>> {
        self.files.get(ev.loc.file as usize)
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// All event indices, newest first.
    pub fn sorted_indices(&self) -> Vec<u32> {
        let mut idx: Vec<u32> = (0..self.events.len() as u32).collect();
        self.sort_indices(&mut idx);
        idx
    }

    pub fn sort_indices(&self, idx: &mut [u32]) {
        idx.sort_unstable_by_key(|&i| self.events[i as usize].order_key());
    }

    /// Merges `new` (sorted newest first) into `into` (sorted newest first).
    pub fn merge_sorted(&self, into: &mut Vec<u32>, new: &[u32]) {
        if new.is_empty() {
            return;
        }
        if into.is_empty() {
            into.extend_from_slice(new);
            return;
        }
        let key = |i: u32| self.events[i as usize].order_key();
        // Fast path: everything new is older than what we have (common while streaming).
        if key(into[into.len() - 1]) <= key(new[0]) {
            into.extend_from_slice(new);
            return;
        }
        let old = std::mem::take(into);
        into.reserve(old.len() + new.len());
        let (mut a, mut b) = (0, 0);
        while a < old.len() && b < new.len() {
            if key(old[a]) <= key(new[b]) {
                into.push(old[a]);
                a += 1;
            } else {
                into.push(new[b]);
                b += 1;
            }
        }
        into.extend_from_slice(&old[a..]);
        into.extend_from_slice(&new[b..]);
    }
}
