//! Whole loads of local archives, recorded as they are sent and sent again from the cache when
//! the same unchanged files are opened (see [`crate::cache::loads`]).
//!
//! What is recorded is what the consumer was sent: inputs, batches (symbols, profiles, ids,
//! the resource index, events), problems, notes, coverage and the final counts, in order. Read
//! back, it is sent as it was, so the consumer ends up with the very store the load built,
//! without the load's work: no file is decompressed, no string interned, no event checked for
//! copies. A load is recorded, and a recording used, only where the archive index would be
//! (no detection rules, no `text:` terms, nothing kept for reading back), for every file
//! found and no window, and only when no input was skipped (a file that could not be opened
//! may open next time).

use super::discover::Found;
use super::index::found_key;
use super::ingest::Prior;
use super::{Coverage, LoadOptions, LoadStats, Problem, SourceMsg};
use crate::cache::coverage::TimeSpan;
use crate::cache::files::FileKey;
use crate::cache::loads::{LoadWriter, StoredLoad};
use crate::cache::CacheConfig;
use crate::model::events::Batch;
use crate::model::intern::SymBatch;
use crate::model::raw::SourceFile;
use crate::model::segments::Appended;
use crate::model::wire::{self, put_str, Reader};
use crate::model::{Event, RawLoc, Sym};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The encoding's version: part of a stored load's name, so another version is never read.
const VERSION: u32 = 6;
/// Bytes of one encoded event.
const EVENT_BYTES: usize = 47;
/// Batches read back and not yet applied by the consumer, at most (see [`Batch::in_flight`]).
const IN_FLIGHT: usize = 2;
/// How long a batch read back waits for the consumer to apply earlier ones, at most (a
/// consumer that keeps its batches is sent them anyway).
const WAIT: Duration = Duration::from_secs(1);

const FILES: u8 = 1;
const BATCH: u8 = 2;
const PROBLEM: u8 = 3;
const NOTE: u8 = 4;
const COVERAGE: u8 = 5;
const DONE: u8 = 6;

/// The name of the stored load of `inputs` read with `opts`, when such a load may be recorded
/// and read back: `None` without a cache, with detection rules, `text:` terms, a window,
/// content kept for reading back, or standard input.
pub(super) fn name(inputs: &[String], opts: &LoadOptions) -> Option<String> {
    opts.cache.as_ref()?;
    let usable = opts.rules.is_none()
        && !opts.retain_content
        && opts.window.is_none()
        && !opts.terms.as_ref().is_some_and(|t| t.has_text())
        && !inputs.is_empty()
        && inputs.iter().all(|i| i != "-");
    if !usable {
        return None;
    }
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&VERSION.to_le_bytes());
    h.update(&(opts.part_bytes.min(opts.whole_max) as u64).to_le_bytes());
    h.update(&(opts.whole_max as u64).to_le_bytes());
    for i in inputs {
        let canonical = std::fs::canonicalize(i).map_or_else(|_| i.clone(), |p| p.to_string_lossy().into_owned());
        h.update(&(canonical.len() as u64).to_le_bytes());
        h.update(canonical.as_bytes());
    }
    Some(format!("{:032x}", h.digest128()))
}

fn put_stats(out: &mut Vec<u8>, s: &LoadStats) {
    for n in [s.files_total, s.files_done, s.files_read, s.digests, s.events, s.duplicates, s.untimed, s.outside_window]
    {
        out.extend((n as u64).to_le_bytes());
    }
    out.extend(s.bytes.to_le_bytes());
    out.push(s.discovering as u8);
}

fn get_stats(r: &mut Reader<'_>) -> Option<LoadStats> {
    let mut n = || r.u64().and_then(|v| usize::try_from(v).ok());
    let (files_total, files_done, files_read, digests) = (n()?, n()?, n()?, n()?);
    let (events, duplicates, untimed, outside_window) = (n()?, n()?, n()?, n()?);
    Some(LoadStats {
        files_total,
        files_done,
        files_read,
        digests,
        events,
        duplicates,
        untimed,
        outside_window,
        bytes: r.u64()?,
        discovering: r.u8()? != 0,
    })
}

fn put_problem(out: &mut Vec<u8>, p: &Problem) {
    put_str(out, &p.input);
    put_str(out, &p.reason);
    out.push(p.skipped as u8);
}

fn get_problem(r: &mut Reader<'_>) -> Option<Problem> {
    Some(Problem { input: r.string()?.into(), reason: r.string()?.into(), skipped: r.u8()? != 0 })
}

fn put_event(out: &mut Vec<u8>, e: &Event) {
    out.extend(e.time().to_le_bytes());
    out.extend(e.profile.to_le_bytes());
    out.extend(e.caller.to_le_bytes());
    for s in e.own {
        out.extend(s.to_le_bytes());
    }
    out.extend(e.id_hash.to_le_bytes());
    out.extend(e.request_hash.to_le_bytes());
    out.extend(e.res_start.to_le_bytes());
    out.extend(e.res_counts().to_le_bytes());
    out.extend(e.loc.file.to_le_bytes());
    out.extend(e.loc.offset.to_le_bytes());
    out.push(e.flags());
}

fn get_event(b: &[u8]) -> Event {
    let u32_at = |i| wire::u32_at(b, i);
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
    let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let mut e = Event {
        profile: u32_at(8),
        caller: u32_at(12),
        own: [u32_at(16), u32_at(20)],
        id_hash: u32_at(24),
        request_hash: u32_at(28),
        res_start: u32_at(32),
        loc: RawLoc::new(u32_at(38), u32_at(42)),
        ..Event::default()
    };
    e.set_time(u64_at(0) as i64);
    e.set_res_counts(u16_at(36));
    e.add_flags(b[46]);
    e
}

/// Profiles or callers: their count, then their symbols.
fn put_sym_arrays<const N: usize>(out: &mut Vec<u8>, list: &Appended<[Sym; N]>) {
    out.extend((list.len() as u32).to_le_bytes());
    for s in list.iter().flatten() {
        out.extend(s.to_le_bytes());
    }
}

fn get_sym_arrays<const N: usize>(r: &mut Reader<'_>) -> Option<Vec<[Sym; N]>> {
    let n = r.count(N * 4)?;
    let bytes = r.bytes(n * N * 4)?;
    Some(
        bytes
            .chunks_exact(N * 4)
            .map(|p| {
                let mut out = [0; N];
                out.iter_mut().zip(wire::u32s(p)).for_each(|(o, s)| *o = s);
                out
            })
            .collect(),
    )
}

fn put_batch(out: &mut Vec<u8>, b: &Batch, stats: &LoadStats) {
    put_stats(out, stats);
    b.new_syms.encode(out);
    put_sym_arrays(out, &b.new_profiles);
    put_sym_arrays(out, &b.new_callers);
    out.extend((b.resources.len() as u32).to_le_bytes());
    for s in &b.resources {
        out.extend(s.to_le_bytes());
    }
    out.extend((b.events.len() as u32).to_le_bytes());
    out.reserve(b.events.len() * EVENT_BYTES);
    for e in &b.events {
        put_event(out, e);
    }
    out.extend((b.copy_hashes.len() as u32).to_le_bytes());
    for h in &b.copy_hashes {
        out.extend(h.to_le_bytes());
    }
}

fn get_batch(r: &mut Reader<'_>) -> Option<(Batch, LoadStats)> {
    let stats = get_stats(r)?;
    let new_syms = Box::new(SymBatch::decode(r)?);
    let new_profiles = Box::new(Appended::values(get_sym_arrays(r)?));
    let new_callers = Box::new(Appended::values(get_sym_arrays(r)?));
    let n = r.count(4)?;
    let resources = wire::u32s(r.bytes(n * 4)?).collect();
    let n = r.count(EVENT_BYTES)?;
    let events: Vec<Event> = r.bytes(n * EVENT_BYTES)?.chunks_exact(EVENT_BYTES).map(get_event).collect();
    let n = r.count(8)?;
    if n != events.len() {
        return None;
    }
    let copy_hashes =
        r.bytes(n * 8)?.chunks_exact(8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default())).collect();
    let batch = Batch {
        new_syms,
        new_profiles,
        new_callers,
        copy_hashes,
        resources,
        events,
        detections: None,
        in_flight: None,
    };
    Some((batch, stats))
}

/// Records a load as it is sent, on a thread of its own that writes the stored load.
pub(super) struct Recorder {
    frames: Option<crossbeam_channel::Sender<Vec<u8>>>,
    /// Gives the stored load written, or `None` when it outgrew the cache's size limit.
    writer: Option<std::thread::JoinHandle<std::io::Result<Option<LoadWriter>>>>,
    /// Every input announced, in order.
    files: Vec<Arc<SourceFile>>,
    /// Nothing recorded makes the load unfit to stand for the next one.
    fit: bool,
    /// The events the load ended with, once it did.
    done: Option<usize>,
}

impl Recorder {
    /// Starts recording into the cache of `cfg`; `None` when nothing can be written there.
    pub(super) fn start(cfg: &CacheConfig) -> Option<Recorder> {
        let mut w = LoadWriter::create(&cfg.dir).ok()?;
        let max_bytes = cfg.max_bytes;
        // One frame waits while one is written: what recording holds stays a batch or two.
        let (tx, rx) = crossbeam_channel::bounded::<Vec<u8>>(1);
        let writer = std::thread::Builder::new()
            .name("store-load".into())
            .spawn(move || {
                for frame in rx {
                    w.frame(&frame)?;
                    // One that cannot be kept is not written on (dropped, it is removed).
                    if !w.fits(max_bytes) {
                        return Ok(None);
                    }
                }
                Ok(Some(w))
            })
            .ok()?;
        Some(Recorder { frames: Some(tx), writer: Some(writer), files: Vec::new(), fit: true, done: None })
    }

    /// Records one message sent.
    pub(super) fn record(&mut self, msg: &SourceMsg) {
        if !self.fit {
            return;
        }
        let mut out = Vec::new();
        match msg {
            SourceMsg::Files(f) => {
                self.files.extend(f.iter().cloned());
                out.push(FILES);
                out.extend((f.len() as u32).to_le_bytes());
            }
            SourceMsg::Batch(b, stats) => {
                // Without its copy hashes, a load resumed from it could not find copies.
                if b.detections.is_some() || b.copy_hashes.len() != b.events.len() {
                    self.fit = false;
                }
                out.push(BATCH);
                put_batch(&mut out, b, stats);
            }
            SourceMsg::Problem(p) | SourceMsg::Note(p) => {
                if p.skipped {
                    self.fit = false;
                }
                out.push(if matches!(msg, SourceMsg::Problem(_)) { PROBLEM } else { NOTE });
                put_problem(&mut out, p);
            }
            SourceMsg::Coverage(c) => {
                out.push(COVERAGE);
                put_str(&mut out, &c.part);
                out.extend((c.spans.len() as u32).to_le_bytes());
                for s in &c.spans {
                    out.extend(s.start.to_le_bytes());
                    out.extend(s.end.to_le_bytes());
                }
            }
            SourceMsg::Done(stats) => {
                self.done = Some(stats.events);
                out.push(DONE);
                put_stats(&mut out, stats);
            }
            // About the cache, not the inputs; and not sent by archives.
            SourceMsg::Warning(_)
            | SourceMsg::Info(_)
            | SourceMsg::Live(_)
            | SourceMsg::Remote(_)
            | SourceMsg::Logs(_)
            | SourceMsg::Athena(_)
            // A load that starts again is recorded from its new start.
            | SourceMsg::Restart => return,
        }
        self.send(out);
    }

    /// Records a frame read back from a stored load as it is (a batch, a problem, a note).
    fn record_frame(&mut self, frame: &[u8]) {
        if self.fit {
            self.send(frame.to_vec());
        }
    }

    fn send(&mut self, frame: Vec<u8>) {
        if let Some(tx) = &self.frames {
            if tx.send(frame).is_err() {
                self.fit = false;
            }
        }
    }

    /// Puts the recording in place as `name` when the load ended and may stand for the next.
    pub(super) fn finish(mut self, cfg: &CacheConfig, name: &str, emit: &mut dyn FnMut(SourceMsg)) {
        drop(self.frames.take());
        let written = self.writer.take().map(|w| w.join());
        let keys: Option<Vec<FileKey>> = self.files.iter().map(|f| found_key(f)).collect();
        let (Some(keys), true, Some(events)) = (keys, self.fit, self.done) else { return };
        let stored = match written {
            Some(Ok(Ok(Some(w)))) => w.finish(&keys, events as u64, name, cfg.max_bytes),
            Some(Ok(Ok(None))) => Ok(None),
            Some(Ok(Err(e))) => Err(e),
            _ => Err(std::io::Error::other("the writing thread failed")),
        };
        // Stored silently: the archive index's notice already says what the cache took.
        if let Err(e) = stored {
            let what = format!("storing the whole load in the cache failed, the next open reads the files: {e}");
            emit(SourceMsg::Warning(crate::sanitize::sanitize(&what).into_owned()));
        }
    }
}

/// What opening inputs with the cache came to (see [`start`]).
pub(super) enum Start {
    /// Their stored load was sent whole: the load is over, with these counts.
    Sent(LoadStats),
    /// They are to be loaded: what was found of them already (`None`: nothing yet), what the load
    /// goes on from when a stored load was sent first, and what records it (`None`: nothing).
    Load { found: Option<Vec<Found>>, resumed: Option<Box<Resumed>>, recorder: Option<Recorder> },
}

/// A stored load sent before the files added since: its counts, what the load of those goes on
/// from, and how many files it had and were added.
pub(super) struct Resumed {
    pub(super) stats: LoadStats,
    pub(super) prior: Prior,
    pub(super) files: usize,
    pub(super) added: usize,
}

/// Opens `inputs` (with a stored load's `name`) from their stored load when there is one of
/// them: every input is found first; when its files are all found unchanged, it is sent again
/// (checked whole first, or, for a consumer that takes [`SourceMsg::Restart`] (`withdrawable`),
/// as it is checked), and the files added since (if any) are left to load after it. A stored
/// load that cannot be used is said in a warning, and the files are loaded instead: one found
/// damaged part way through is withdrawn first.
pub(super) fn start(
    inputs: &[String],
    cfg: &CacheConfig,
    name: &str,
    withdrawable: bool,
    emit: &mut dyn FnMut(SourceMsg),
) -> Start {
    if !crate::cache::loads::exists(&cfg.dir, name) {
        return Start::Load { found: None, resumed: None, recorder: Recorder::start(cfg) };
    }
    let mut all = Vec::new();
    super::discover::discover_into(inputs, &mut |f| all.push(f));
    let opened = open(cfg, name)
        .map(|o| o.and_then(|(load, keys)| matching(&keys, &all).map(|m| (load, keys.len(), m))))
        .and_then(|o| match o {
            Some((mut load, n, m)) if !withdrawable => load.check().map(|()| Some((load, n, m))),
            o => Ok(o),
        });
    let refused = |why: &str| {
        let what = format!("the stored load of these inputs {why}; reading the files instead");
        SourceMsg::Warning(crate::sanitize::sanitize(&what).into_owned())
    };
    let (load, own_files, (own, added)) = match opened {
        Ok(Some(o)) => o,
        Ok(None) => return Start::Load { found: Some(all), resumed: None, recorder: Recorder::start(cfg) },
        Err(why) => {
            emit(refused(&why));
            return Start::Load { found: Some(all), resumed: None, recorder: Recorder::start(cfg) };
        }
    };
    let mut slots: Vec<Option<Found>> = all.into_iter().map(Some).collect();
    let mut take = |i: usize| match slots[i].take() {
        Some(Found::File(f)) => Some(f),
        _ => None,
    };
    let files: Vec<SourceFile> = own.iter().filter_map(|&i| take(i)).collect();
    let rest: Vec<Found> = added.iter().filter_map(|&i| take(i)).map(Found::File).collect();
    // A load that goes on is stored again, with the files added, recorded from its start.
    let mut recorder = if rest.is_empty() { None } else { Recorder::start(cfg) };
    match replay(load, files, !rest.is_empty(), recorder.as_mut(), withdrawable, emit) {
        Replayed::Withdrawn(why) => {
            // What was sent is gone: every file is found and loaded again, and stored anew.
            emit(SourceMsg::Restart);
            emit(refused(&why));
            Start::Load { found: None, resumed: None, recorder: Recorder::start(cfg) }
        }
        Replayed::Sent { stats, prior: None } => {
            emit(read_back_info(stats.events, own_files, 0));
            Start::Sent(stats)
        }
        Replayed::Sent { stats, prior: Some(prior) } => {
            let resumed = Resumed { stats, prior: *prior, files: own_files, added: rest.len() };
            Start::Load { found: Some(rest), resumed: Some(Box::new(resumed)), recorder }
        }
    }
}

/// The stored load `name`, with the files it was made of; `Ok(None)` when there is none, `Err`
/// with why one could not be used.
fn open(cfg: &CacheConfig, name: &str) -> Result<Option<(StoredLoad, Vec<FileKey>)>, String> {
    let Some(mut stored) = StoredLoad::open(&cfg.dir, name)? else { return Ok(None) };
    let keys = stored.files()?;
    Ok(Some((stored, keys)))
}

/// How the files found stand to a stored load's: the position among `found` of each of its
/// files, in its order, and of the files found besides (added since), in the order found;
/// `None` when one of its files is missing or changed, or the search had a problem.
fn matching(keys: &[FileKey], found: &[Found]) -> Option<(Vec<usize>, Vec<usize>)> {
    let mut by_path: HashMap<&str, usize> = HashMap::with_capacity(found.len());
    for (i, f) in found.iter().enumerate() {
        let Found::File(f) = f else { return None };
        by_path.insert(f.path.to_str()?, i);
    }
    let mut taken = vec![false; found.len()];
    let mut own = Vec::with_capacity(keys.len());
    for k in keys {
        let i = *by_path.get(k.path.as_str())?;
        let Found::File(f) = &found[i] else { return None };
        if taken[i] || found_key(f).as_ref() != Some(k) {
            return None;
        }
        taken[i] = true;
        own.push(i);
    }
    let added = (0..found.len()).filter(|&i| !taken[i]).collect();
    Some((own, added))
}

/// What a stored load sent holds, for the load of the files added since to go on from (see
/// [`Ingest::resume`](super::ingest::Ingest::resume)).
#[derive(Default)]
struct Holding {
    prior: Prior,
}

impl Holding {
    fn add(&mut self, b: &Batch) {
        self.prior.syms.extend((*b.new_syms).clone());
        self.prior.profiles.extend(b.new_profiles.iter().copied());
        self.prior.callers.extend(b.new_callers.iter().copied());
        self.prior.res_len += b.resources.len() as u64;
        // A batch read back has a hash for each event (see `get_batch`).
        for (ev, &hash) in b.events.iter().zip(&b.copy_hashes) {
            self.prior.seen.take_known(hash, ev.loc);
            super::ingest::widen(&mut self.prior.times, ev.time());
        }
    }
}

/// A stored load sent again: the counts it ended with, and, when files were added since (it
/// was sent without its coverage and its end), what the load of those goes on from; or, sent
/// as it was checked, found damaged part way through (why), what was sent to be withdrawn.
enum Replayed {
    Sent { stats: LoadStats, prior: Option<Box<Prior>> },
    Withdrawn(String),
}

/// Sends a stored load (see [`open`]) again with `files`, the inputs found that it was made
/// of, in its order: checked whole first ([`StoredLoad::check`]), or, `withdrawable`, as it
/// is checked; then a frame that cannot be used is given as [`Replayed::Withdrawn`]
/// (nothing is said of it), the frames sent before it to be withdrawn. `and_more`: files were
/// added since, which are loaded after it (see [`Replayed`]); what is sent is then recorded as
/// read by `recorder`, for the load that goes on.
fn replay(
    mut stored: StoredLoad,
    files: Vec<SourceFile>,
    and_more: bool,
    mut recorder: Option<&mut Recorder>,
    withdrawable: bool,
    emit: &mut dyn FnMut(SourceMsg),
) -> Replayed {
    let mut files = files.into_iter();
    let mut holding = and_more.then(|| {
        let mut h = Holding::default();
        h.prior.seen.reserve(usize::try_from(stored.events()).unwrap_or(0).min(1 << 32));
        h
    });
    let mut next_file = 0u32;
    let mut done = false;
    // Why the frames stopped before their end (`is damaged …`, `could not be read back whole`).
    let mut failed: Option<String> = None;
    let mut buf = Vec::new();
    let ticket = Arc::new(());
    let mut stats = LoadStats::default();
    loop {
        match stored.next_frame(&mut buf) {
            Ok(true) => {}
            Ok(false) => break,
            // Checked whole first, only the disk failing gets here; read as checked, damage too.
            Err(why) => {
                failed = Some(why);
                break;
            }
        }
        let mut r = Reader::new(&buf);
        let msg = match r.u8() {
            Some(FILES) => r.u32().and_then(|n| {
                let out = (0..n)
                    .map(|_| {
                        let mut f = files.next()?;
                        f.id = next_file;
                        next_file += 1;
                        Some(Arc::new(f))
                    })
                    .collect::<Option<Vec<_>>>()?;
                if let Some(h) = holding.as_mut() {
                    h.prior.files.extend(out.iter().cloned());
                }
                Some(Some(SourceMsg::Files(out)))
            }),
            Some(BATCH) => get_batch(&mut r).map(|(mut b, s)| {
                if let Some(h) = holding.as_mut() {
                    h.add(&b);
                }
                let since = Instant::now();
                while Arc::strong_count(&ticket) > IN_FLIGHT && since.elapsed() < WAIT {
                    std::thread::sleep(Duration::from_millis(1));
                }
                b.in_flight = Some(ticket.clone());
                stats = s.clone();
                Some(SourceMsg::Batch(b, s))
            }),
            Some(tag @ (PROBLEM | NOTE)) => get_problem(&mut r)
                .map(|p| Some(if tag == PROBLEM { SourceMsg::Problem(p) } else { SourceMsg::Note(p) })),
            // With files added, the load that goes on says what it covers once it ends.
            Some(COVERAGE) if holding.is_some() => Some(None),
            Some(COVERAGE) => (|| {
                let part = r.string()?.to_string();
                let n = r.count(16)?;
                let spans = (0..n).map(|_| Some(TimeSpan::new(r.i64()?, r.i64()?))).collect::<Option<Vec<_>>>()?;
                Some(Some(SourceMsg::Coverage(Coverage { part, spans })))
            })(),
            Some(DONE) => get_stats(&mut r).map(|s| {
                stats = s.clone();
                done = true;
                holding.is_none().then_some(SourceMsg::Done(s))
            }),
            _ => None,
        };
        if let (Some(rec), Some(Some(m))) = (recorder.as_deref_mut(), &msg) {
            match m {
                SourceMsg::Files(_) => rec.record(m),
                _ => rec.record_frame(&buf),
            }
        }
        match msg {
            Some(Some(m)) => emit(m),
            Some(None) => {}
            // Its checksum held: only a stored load written wrongly gets here.
            None => {
                failed = Some("could not be read back whole".into());
                break;
            }
        }
    }
    if let Some(why) = failed {
        // What was not read back is not stored again as if it had been.
        if let Some(rec) = recorder {
            rec.fit = false;
        }
        if withdrawable {
            return Replayed::Withdrawn(why);
        }
        emit(SourceMsg::Problem(Problem {
            input: "cache".into(),
            reason: format!("a stored load {why}"),
            skipped: false,
        }));
    }
    if !done && holding.is_none() {
        emit(SourceMsg::Done(stats.clone()));
    }
    Replayed::Sent { stats, prior: holding.map(|h| Box::new(h.prior)) }
}

/// What the user is told of a stored load read back: its events, its files, and the files
/// added since (loaded after it).
pub(super) fn read_back_info(events: usize, files: usize, added: usize) -> SourceMsg {
    SourceMsg::Info(match added {
        0 => format!("read {events} events of {files} files back from the cache (--no-cache reads the files)"),
        1 => format!("read {events} events of {files} files back from the cache, then the 1 file added since"),
        n => format!("read {events} events of {files} files back from the cache, then the {n} files added since"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::matcher::LoadTerms;

    fn terms(filter: &str) -> Option<Arc<LoadTerms>> {
        LoadTerms::of(&crate::query::parse(filter, 0).unwrap(), 1 << 20).map(Arc::new)
    }

    /// A frame that cannot be read back (its checksum held, so only one written wrongly) is
    /// said, the load still ends, and what goes on from it is not stored as if it were whole;
    /// read as it is checked, the load is withdrawn instead, nothing said of it but why.
    #[test]
    fn a_frame_that_cannot_be_read_back_is_said_and_spoils_the_next_stored_load() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = CacheConfig { dir: dir.path().into(), max_bytes: u64::MAX };
        let mut w = LoadWriter::create(dir.path()).unwrap();
        w.frame(&[FILES, 0, 0, 0, 0]).unwrap();
        w.frame(&[99]).unwrap();
        w.finish(&[], 0, "x", u64::MAX).unwrap().unwrap();
        for withdrawable in [false, true] {
            for and_more in [false, true] {
                let (mut load, keys) = open(&cfg, "x").unwrap().unwrap();
                assert!(keys.is_empty());
                if !withdrawable {
                    load.check().unwrap();
                }
                let mut rec = Recorder::start(&cfg).unwrap();
                let mut said = Vec::new();
                let sent = replay(load, Vec::new(), and_more, Some(&mut rec), withdrawable, &mut |m| said.push(m));
                assert!(!rec.fit, "not stored again");
                match sent {
                    Replayed::Sent { prior, .. } => {
                        assert!(!withdrawable);
                        let problem =
                            |m: &SourceMsg| matches!(m, SourceMsg::Problem(p) if p.reason.contains("read back whole"));
                        assert!(said.iter().any(problem));
                        let end = matches!(said.last(), Some(SourceMsg::Done(_)));
                        assert_eq!(end, !and_more, "the end, unless a load goes on");
                        assert_eq!(prior.is_some(), and_more);
                    }
                    Replayed::Withdrawn(why) => {
                        assert!(withdrawable && why.contains("read back whole"), "{why}");
                        assert!(matches!(&said[..], [SourceMsg::Files(f)] if f.is_empty()), "only what came before");
                    }
                }
            }
        }
    }

    #[test]
    fn only_loads_the_archive_index_would_stand_for_are_stored() {
        let inputs = vec!["some/dir".to_string()];
        let cache = Some(CacheConfig { dir: "c".into(), max_bytes: 1 << 30 });
        let plain = LoadOptions { cache: cache.clone(), ..Default::default() };
        let name = name(&inputs, &plain).expect("a plain load is stored");
        assert_eq!(name.len(), 32);
        assert_eq!(self::name(&inputs, &plain), Some(name.clone()), "the same inputs, the same name");
        assert_ne!(self::name(&["other".into()], &plain), Some(name.clone()));
        let parts = LoadOptions { part_bytes: 1 << 10, ..plain.clone() };
        assert_ne!(self::name(&inputs, &parts), Some(name.clone()), "read another way, another name");
        let resource = LoadOptions { terms: terms("resource:bucket"), ..plain.clone() };
        assert!(resource.terms.is_some());
        assert_eq!(self::name(&inputs, &resource), Some(name), "resource: terms are answered by the index too");

        let rules = Arc::new(crate::sigma::RuleSet::default());
        let not = [
            LoadOptions { cache: None, ..plain.clone() },
            LoadOptions { rules: Some(rules.into()), ..plain.clone() },
            LoadOptions { terms: terms("text:secret"), ..plain.clone() },
            LoadOptions { retain_content: true, ..plain.clone() },
            LoadOptions {
                window: Some(super::super::s3::layout::Window { start_ms: 0, end_ms: 1, lag_ms: 0 }),
                ..plain.clone()
            },
        ];
        for opts in &not {
            assert_eq!(self::name(&inputs, opts), None, "{opts:?}");
        }
        assert_eq!(self::name(&["-".into()], &plain), None, "standard input");
        assert_eq!(self::name(&[], &plain), None);
    }
}
