//! Several sources at once, seen as one: each runs on a thread of its own, and their messages
//! are merged into one stream whose batches, symbols and input numbers are the consumer's.
//!
//! Each source interns its own symbols, numbers its own inputs from 0 and counts its own
//! strings and resources, so a batch is rebased on the way through: its new symbols are
//! interned again into one table, its profiles, string and resource offsets and input
//! numbers are moved to where the merged stream has them. Exact duplicates are collapsed
//! within each source, not across sources.

use super::boundary::{Links, Source};
use super::lookup::LiveCmd;
use super::{LoadStats, SourceMsg};
use crate::model::events::Batch;
use crate::model::intern::{Interner, ProfileInterner, SymTable};
use crate::model::{Caller, Sym};
use tokio::sync::mpsc;

/// Several sources run at once, delivered as one.
pub struct Sources {
    parts: Vec<Box<dyn Source>>,
}

impl Sources {
    /// The sources to run together (one runs as it is, with nothing to merge).
    pub fn new(parts: Vec<Box<dyn Source>>) -> Self {
        Self { parts }
    }
}

impl Source for Sources {
    fn name(&self) -> String {
        self.parts.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
    }

    fn run(mut self: Box<Self>, links: Links, emit: &mut dyn FnMut(SourceMsg)) {
        match self.parts.len() {
            0 => emit(SourceMsg::Done(LoadStats::default())),
            1 => self.parts.remove(0).run(links, emit),
            _ => run_merged(self.parts, links, emit),
        }
    }
}

/// Runs every part on a thread of its own and merges what they send, until each has sent
/// its [`SourceMsg::Done`]; then one `Done` with the sums.
fn run_merged(parts: Vec<Box<dyn Source>>, links: Links, emit: &mut dyn FnMut(SourceMsg)) {
    let Links { raw, cmds, hungry } = links;
    let (cmd_txs, cmd_rxs): (Vec<_>, Vec<_>) = parts.iter().map(|_| mpsc::unbounded_channel::<LiveCmd>()).unzip();
    forward_commands(cmds, cmd_txs);
    let (msg_tx, msg_rx) = std::sync::mpsc::channel::<(usize, SourceMsg)>();
    let mut merge = Merge::new(parts.len());
    std::thread::scope(|scope| {
        for (i, (part, cmds)) in parts.into_iter().zip(cmd_rxs).enumerate() {
            let links = Links { raw: raw.clone(), cmds, hungry: hungry.clone() };
            let tx = msg_tx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("source {i}"))
                .spawn_scoped(scope, move || run_part(i, part, links, tx));
            if let Err(e) = spawned {
                merge.take(i, starting_failed(&e), emit);
                merge.take(i, SourceMsg::Done(LoadStats::default()), emit);
            }
        }
        drop(msg_tx);
        // The channel ends when every part has returned.
        for (i, msg) in msg_rx {
            merge.take(i, msg, emit);
        }
    });
    emit(SourceMsg::Done(merge.total()));
}

/// Runs part `i`, sending what it says with its number. A part that panics (a bug, not an
/// input's problem: those are caught where the input is read) is reported as failed, and
/// the others go on.
fn run_part(i: usize, part: Box<dyn Source>, links: Links, tx: std::sync::mpsc::Sender<(usize, SourceMsg)>) {
    let name = part.name();
    let mut done = false;
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        part.run(links, &mut |m| {
            done |= matches!(m, SourceMsg::Done(_));
            let _ = tx.send((i, m));
        })
    }));
    if ran.is_err() && !done {
        let reason = "internal error: it stopped; the other sources are not affected".to_string();
        let _ = tx.send((i, SourceMsg::Problem(super::Problem { input: name, reason, skipped: true })));
        let _ = tx.send((i, SourceMsg::Done(LoadStats::default())));
    }
}

fn starting_failed(e: &std::io::Error) -> SourceMsg {
    SourceMsg::Problem(super::Problem {
        input: "source".into(),
        reason: format!("could not start a thread for it: {e}"),
        skipped: true,
    })
}

/// Hands every command to every part, on a thread of its own (the parts' queries and
/// cancellations come from one consumer). It ends when the consumer drops its sender.
fn forward_commands(mut cmds: mpsc::UnboundedReceiver<LiveCmd>, txs: Vec<mpsc::UnboundedSender<LiveCmd>>) {
    let spawned = std::thread::Builder::new().name("source commands".into()).spawn(move || {
        while let Some(cmd) = cmds.blocking_recv() {
            for tx in &txs {
                let _ = tx.send(cmd.clone());
            }
        }
    });
    // Without the thread, the parts' command channels close: they run as for a consumer
    // that asks nothing more, which archives do anyway.
    drop(spawned);
}

/// Where one part's numbering stands against the merged stream's.
struct Part {
    /// The part's symbols as it sent them, to read the strings of its new ones.
    syms: SymTable,
    /// Part symbol to merged symbol.
    sym_map: Vec<Sym>,
    /// Part profile to merged profile.
    profile_map: Vec<u32>,
    /// Its callers' indices in the merged table, by its own.
    caller_map: Vec<u32>,
    /// Part input number to merged input number.
    file_map: Vec<u32>,
    /// The part's own total so far: resource references.
    resources_len: u64,
    stats: LoadStats,
    done: bool,
}

/// The merged stream's tables and totals.
struct Merge {
    parts: Vec<Part>,
    interner: Interner,
    profiles: ProfileInterner,
    callers: ProfileInterner<Caller>,
    files: u32,
    resources_len: u64,
}

impl Merge {
    fn new(n: usize) -> Self {
        let part = || Part {
            syms: SymTable::default(),
            sym_map: vec![0],
            profile_map: Vec::new(),
            caller_map: Vec::new(),
            file_map: Vec::new(),
            resources_len: 0,
            stats: LoadStats::default(),
            done: false,
        };
        Merge {
            parts: (0..n).map(|_| part()).collect(),
            interner: Interner::default(),
            profiles: ProfileInterner::large(),
            callers: ProfileInterner::large(),
            files: 0,
            resources_len: 0,
        }
    }

    /// The sums of the parts' counts.
    fn total(&self) -> LoadStats {
        let mut t = LoadStats::default();
        for s in self.parts.iter().map(|p| &p.stats) {
            t.files_total += s.files_total;
            t.discovering |= s.discovering;
            t.files_done += s.files_done;
            t.files_read += s.files_read;
            t.digests += s.digests;
            t.events += s.events;
            t.duplicates += s.duplicates;
            t.untimed += s.untimed;
            t.bytes += s.bytes;
        }
        t
    }

    /// Takes one message of part `i`, passing it on in the merged stream's terms.
    fn take(&mut self, i: usize, msg: SourceMsg, emit: &mut dyn FnMut(SourceMsg)) {
        match msg {
            SourceMsg::Files(files) => {
                let part = &mut self.parts[i];
                part.file_map.extend((0..files.len() as u32).map(|k| self.files + k));
                self.files += files.len() as u32;
                emit(SourceMsg::Files(files));
            }
            SourceMsg::Batch(batch, stats) => {
                self.parts[i].stats = stats;
                let batch = self.rebase(i, batch);
                emit(SourceMsg::Batch(batch, self.total()));
            }
            SourceMsg::Done(stats) => {
                let part = &mut self.parts[i];
                part.stats = stats;
                part.done = true;
            }
            other => emit(other),
        }
    }

    /// Part `i`'s batch with the merged stream's symbols, profiles, offsets and inputs.
    fn rebase(&mut self, i: usize, batch: Batch) -> Batch {
        let part = &mut self.parts[i];
        let first_new = part.syms.len();
        part.syms.extend(*batch.new_syms);
        for sym in first_new..part.syms.len() {
            part.sym_map.push(self.interner.intern(part.syms.get(sym as Sym)));
        }
        let map = |s: Sym| part.sym_map.get(s as usize).copied().unwrap_or(0);
        let mut out = Batch::default();
        for p in batch.new_profiles.iter() {
            part.profile_map.push(self.profiles.intern_mapped(p, map));
        }
        for c in batch.new_callers.iter() {
            part.caller_map.push(self.callers.intern_mapped(c, map));
        }
        out.new_profiles = Box::new(self.profiles.take_new());
        out.new_callers = Box::new(self.callers.take_new());
        // Offsets into the part's resources move by the difference of the totals.
        let resource_shift = self.resources_len as i64 - part.resources_len as i64;
        part.resources_len += batch.resources.len() as u64;
        self.resources_len += batch.resources.len() as u64;
        out.resources = batch.resources.into_iter().map(map).collect();
        out.copy_hashes = batch.copy_hashes;
        out.events = batch.events;
        // Indices among the batch's events, which keep their order.
        out.detections = batch.detections;
        for ev in &mut out.events {
            for s in ev.own.iter_mut() {
                *s = map(*s);
            }
            ev.profile = part.profile_map.get(ev.profile as usize).copied().unwrap_or(0);
            ev.caller = part.caller_map.get(ev.caller as usize).copied().unwrap_or(0);
            ev.res_start = (ev.res_start as i64 + resource_shift) as u32;
            ev.loc.file = part.file_map.get(ev.loc.file as usize).copied().unwrap_or(u32::MAX);
        }
        out.new_syms = Box::new(self.interner.take_new());
        out
    }
}
