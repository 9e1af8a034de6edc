//! Live history of one region written as it arrives. LookupEvents pages come newest first,
//! and the source says, page by page, which part of the window it has delivered completely
//! ([`SourceMsg::Coverage`]): once the covered part reaches from some time to the window's
//! end, no event newer than that time can come any more, and the matches at or after it are
//! written at once. The output is the same bytes as sorting everything at the end; only
//! sooner (`print … | head -1` returns with the first page).

use super::write::{write_compact, write_csv_row, Unread};
use super::{Format, Loaded};
use crate::model::raw::RawReader;
use crate::model::EventStore;
use crate::query::matcher::MatchCtx;
use crate::query::{Matcher, Query};
use crate::source::boundary::{self, Links, Source};
use crate::source::lookup::{LiveCmd, LiveQuery};
use crate::source::SourceMsg;
use std::io::{self, Write};
use std::sync::Arc;

/// What a streamed run did: everything delivered, how many events matched, and the writing's
/// outcome (how many records could not be read back).
pub(super) struct Streamed {
    pub(super) loaded: Loaded,
    pub(super) shown: usize,
    pub(super) written: io::Result<usize>,
}

/// Runs `source` (live history of one region) on a thread of its own and writes the matches
/// of `q` in `format` (not a table, whose widths need every row) as the coverage allows.
/// Nothing is written when the source stops at once (no credentials…): the caller reports it.
pub(super) fn run(
    source: Box<dyn Source>,
    raw: &Arc<RawReader>,
    query: LiveQuery,
    q: &Query,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Streamed {
    let (msg_tx, msg_rx) = std::sync::mpsc::channel();
    let (cmd_tx, cmd_rx) = tokio::sync::mpsc::unbounded_channel();
    let (hungry_tx, hungry_rx) = tokio::sync::watch::channel(true);
    let window_end = query.end_ms;
    let _ = cmd_tx.send(LiveCmd::Query { generation: 1, query });
    drop(cmd_tx);
    let links = Links { raw: raw.clone(), cmds: cmd_rx, hungry: hungry_rx };
    let mut loaded = Loaded::new();
    if let Err(e) = boundary::spawn(source, "live", links, move |m| drop(msg_tx.send(m))) {
        loaded.take(super::thread_failed(&e));
    }
    let mut writer = Writer::new(format, out);
    let mut matcher = Matcher::new(q);
    let mut pending: Vec<u32> = Vec::new();
    let mut shown = 0;
    let mut progress = super::Progress::new();
    let mut failed: Option<io::Error> = None;
    for msg in msg_rx {
        match msg {
            SourceMsg::Batch(batch, stats) => {
                let new: Vec<u32> = loaded.store.apply(batch).collect();
                loaded.stats = stats;
                matcher.prepare(&loaded.store);
                let mut matched = matcher.filter(&new, &MatchCtx { store: &loaded.store, raw });
                loaded.store.sort_indices(&mut matched);
                shown += matched.len();
                loaded.store.merge_sorted(&mut pending, &matched);
            }
            SourceMsg::Coverage(c) => {
                // Everything at or after the start of the covered part that reaches the window's
                // end has come: nothing newer can follow.
                if let Some(done) = c.spans.last().filter(|s| s.end >= window_end) {
                    let upto = pending.partition_point(|&i| loaded.store.events[i as usize].time() >= done.start);
                    if failed.is_none() {
                        failed = writer.write(&loaded.store, raw, &pending[..upto]).err();
                    }
                    pending.drain(..upto);
                }
                loaded.take(SourceMsg::Coverage(c));
            }
            SourceMsg::Live(s) => {
                progress.report(&s, err);
                loaded.take(SourceMsg::Live(s));
            }
            other => loaded.take(other),
        }
        if failed.is_some() {
            // The reader went away (`| head`): nothing more is wanted.
            break;
        }
    }
    drop(hungry_tx);
    let stopped = loaded.problems.iter().any(|p| p.stops_live_history());
    let written = match failed {
        Some(e) => Err(e),
        None if stopped => Ok(0),
        None => writer.write(&loaded.store, raw, &pending).and_then(|()| writer.finish(&loaded.store, err)),
    };
    Streamed { loaded, shown, written }
}

/// Writes records as they are released, in the framing of the format.
struct Writer<'a> {
    format: Format,
    out: io::BufWriter<&'a mut dyn Write>,
    /// Something was written (the header, the opening bracket).
    started: bool,
    /// Records written so far.
    records: usize,
    unread: Unread,
}

impl<'a> Writer<'a> {
    fn new(format: Format, out: &'a mut dyn Write) -> Self {
        Writer {
            format,
            out: io::BufWriter::with_capacity(1 << 16, out),
            started: false,
            records: 0,
            unread: Unread::default(),
        }
    }

    fn start(&mut self) -> io::Result<()> {
        if !self.started {
            self.started = true;
            match self.format {
                Format::Json => self.out.write_all(b"[")?,
                Format::Csv => writeln!(self.out, "{}", crate::model::columns::HEADERS.join(","))?,
                Format::Jsonl | Format::Table => {}
            }
        }
        Ok(())
    }

    /// Writes `events` (in order) and flushes, so that a reader sees them at once.
    fn write(&mut self, store: &EventStore, raw: &RawReader, events: &[u32]) -> io::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.start()?;
        for &i in events {
            if self.format == Format::Csv {
                let ev = &store.events[i as usize];
                // The eventID column is the record's; a row whose record cannot be read is
                // written with it empty, and counted.
                let id = store.read_ids(ev, raw).map(|ids| ids.0).unwrap_or_else(|e| {
                    self.unread.add(ev.loc.file, e);
                    String::new()
                });
                write_csv_row(store, ev, &id, &mut self.out)?;
                continue;
            }
            let ev = &store.events[i as usize];
            let Some(file) = store.file_of(ev) else { continue };
            match raw.read(file, ev.loc) {
                Ok(bytes) => {
                    if self.format == Format::Json {
                        self.out.write_all(if self.records == 0 { b"\n" } else { b",\n" })?;
                    }
                    self.records += 1;
                    write_compact(&bytes, &mut self.out)?;
                    if self.format != Format::Json {
                        self.out.write_all(b"\n")?;
                    }
                }
                Err(e) => self.unread.add(ev.loc.file, e),
            }
        }
        self.out.flush()
    }

    /// Closes the output (the header or brackets of an empty result too); how many records
    /// could not be read back, said on `err`.
    fn finish(&mut self, store: &EventStore, err: &mut dyn Write) -> io::Result<usize> {
        self.start()?;
        if self.format == Format::Json {
            self.out.write_all(if self.records == 0 { b"]\n" } else { b"\n]\n" })?;
        }
        self.out.flush()?;
        Ok(self.unread.report(&store.files, err))
    }
}
