//! The output formats: records as they are (JSON Lines, a JSON array), the list's columns as
//! CSV or an aligned table; and what could not be read back, said once per input.

use super::Format;
use crate::model::raw::RawReader;
use crate::model::raw::SourceFile;
use crate::model::{columns, time, Event, EventStore, RawLoc};
use crate::sanitize::{sanitize, truncate_to_width, width};
use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::Arc;

/// Writes `n` events in `format` (a table fitted to `table_width` columns when given), the
/// `k`th being `event(k)` (its symbols in `store`); how many could not be (their records
/// could not be read back), each input with such records named once on `err`.
#[allow(clippy::too_many_arguments)]
pub fn write_events(
    format: Format,
    table_width: Option<usize>,
    store: &EventStore,
    raw: &RawReader,
    n: usize,
    event: &dyn Fn(usize) -> Event,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<usize> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let mut unread = 0;
    match format {
        Format::Jsonl | Format::Json => {
            let locs: Vec<RawLoc> = (0..n).map(|k| event(k).loc).collect();
            unread = write_records(format == Format::Json, &store.files, raw, &locs, &mut out, err)?;
        }
        Format::Csv => {
            writeln!(out, "{}", columns::HEADERS.join(","))?;
            // The eventID column is the records': read first, file by file. A row whose
            // record cannot be read is written with its eventID empty, and counted.
            let (ids, missed) = event_ids(store, raw, n, event, err);
            unread = missed;
            for k in 0..n {
                write_csv_row(store, &event(k), &ids.get(k), &mut out)?;
            }
        }
        Format::Table => write_table(store, n, event, table_width, &mut out)?,
    }
    out.flush()?;
    Ok(unread)
}

/// One event as a CSV row of the list's columns (time in RFC 3339, cells neutralised), its
/// eventID `id` (read from its record: see [`EventStore::event_id`]).
pub fn write_csv_row(store: &EventStore, ev: &Event, id: &str, out: &mut dyn Write) -> io::Result<()> {
    let mut cells = columns::cells(store, ev, false);
    cells[0] = time::format_rfc3339(ev.time()).into();
    cells[columns::EVENT_ID] = id.into();
    let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
    writeln!(out, "{}", row.join(","))
}

/// Writes the records at `locs` (indices into `files`), in that order; how many could not be
/// read back. Files are decompressed on another thread in the order the records will need
/// them, a couple of files ahead, so inflating overlaps writing.
pub fn write_records(
    json: bool,
    files: &[Arc<SourceFile>],
    raw: &RawReader,
    locs: &[RawLoc],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<usize> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let mut first_need = Vec::new();
    let mut seen = vec![false; files.len()];
    for &loc in locs {
        let f = loc.file as usize;
        // A record kept at load reads no file.
        if files.get(f).is_some_and(|file| raw.is_kept(file, loc)) {
            continue;
        }
        if let Some(s) = seen.get_mut(f).filter(|s| !**s) {
            *s = true;
            first_need.push(f);
        }
    }
    let unread = std::thread::scope(|scope| {
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<()>(2);
        let order = &first_need;
        scope.spawn(move || {
            for &f in order {
                raw.prefetch(&files[f]);
                if ready_tx.send(()).is_err() {
                    break;
                }
            }
        });
        seen.iter_mut().for_each(|s| *s = false);
        if json {
            out.write_all(b"[")?;
        }
        let mut first = true;
        let mut unread = Unread::default();
        for &loc in locs {
            let Some(file) = files.get(loc.file as usize) else {
                continue;
            };
            let kept = raw.is_kept(file, loc);
            if let Some(s) = seen.get_mut(loc.file as usize).filter(|s| !**s && !kept) {
                // The first record of this file: wait until the prefetcher has it.
                *s = true;
                let _ = ready_rx.recv();
            }
            match raw.read(file, loc) {
                Ok(bytes) => {
                    if json {
                        out.write_all(if first { b"\n" } else { b",\n" })?;
                    }
                    first = false;
                    write_compact(&bytes, &mut out)?;
                    if !json {
                        out.write_all(b"\n")?;
                    }
                }
                Err(e) => unread.add(loc.file, e),
            }
        }
        // Let the prefetcher finish early if output stopped (a closed pipe).
        drop(ready_rx);
        if json {
            out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
        }
        io::Result::Ok(unread.report(files, err))
    })?;
    out.flush()?;
    Ok(unread)
}

/// The eventIDs of the `n` events `event(k)`, by position, read from their records file by
/// file (see [`read_event_ids`]). How many could not be read is the second part; each input
/// with such records is named once on `err`.
fn event_ids(
    store: &EventStore,
    raw: &RawReader,
    n: usize,
    event: &dyn Fn(usize) -> Event,
    err: &mut dyn Write,
) -> (crate::model::id::IdColumn, usize) {
    let mut unread = Unread::default();
    let ids = read_event_ids(store, raw, n, event, &mut unread);
    (ids, unread.report(&store.files, err))
}

/// The eventIDs of the `n` events `event(k)`, by position, read from their records file by
/// file: each file's content is decompressed once (on every core) and let go once its
/// records are read, so that no more than a file a core is held whatever the order of the
/// output. A record that cannot be read leaves its id empty, counted in `unread`.
pub(crate) fn read_event_ids(
    store: &EventStore,
    raw: &RawReader,
    n: usize,
    event: &dyn Fn(usize) -> Event,
    unread: &mut Unread,
) -> crate::model::id::IdColumn {
    use rayon::prelude::*;
    let mut order: Vec<(RawLoc, u32)> =
        (0..n).map(|k| (event(k), k)).filter(|(ev, _)| ev.has_event_id()).map(|(ev, k)| (ev.loc, k as u32)).collect();
    order.sort_unstable_by_key(|&(loc, _)| (loc.file, loc.offset));
    let ids = std::sync::Mutex::new(crate::model::id::IdColumn::with_len(n));
    let shared = std::sync::Mutex::new(std::mem::take(unread));
    let groups: Vec<&[(RawLoc, u32)]> = order.chunk_by(|a, b| a.0.file == b.0.file).collect();
    groups.par_iter().for_each(|group| {
        let Some(file) = store.files.get(group[0].0.file as usize) else { return };
        let mut found = Vec::with_capacity(group.len());
        let mut failed = None;
        for &(loc, k) in group.iter() {
            match raw.read(file, loc) {
                Ok(bytes) => found.push((k, crate::model::id::ids_of_record(&bytes).0)),
                Err(e) => failed = Some(failed.map_or((1, e), |(n, first)| (n + 1, first))),
            }
        }
        raw.forget(file);
        let mut ids = ids.lock().unwrap_or_else(|p| p.into_inner());
        for (k, id) in found {
            ids.set(k as usize, &id);
        }
        if let Some((count, e)) = failed {
            shared.lock().unwrap_or_else(|p| p.into_inner()).add_n(group[0].0.file, count, e);
        }
    });
    *unread = shared.into_inner().unwrap_or_else(|p| p.into_inner());
    ids.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Records that could not be read back, per input: one line each, not one per record.
#[derive(Default)]
pub(crate) struct Unread {
    /// Input, records, why the first failed; in the order met.
    inputs: Vec<(u32, usize, String)>,
    /// Where each input is in `inputs`.
    index: std::collections::HashMap<u32, usize>,
}

impl Unread {
    pub(super) fn add(&mut self, file: u32, e: crate::model::raw::ReadError) {
        self.add_n(file, 1, e);
    }

    /// How many records could not be read, in all.
    pub(crate) fn total(&self) -> usize {
        self.inputs.iter().map(|(_, n, _)| n).sum()
    }

    /// The first input with records that could not be read, and why the first of them could
    /// not ("" when none).
    pub(crate) fn first(&self, files: &[Arc<SourceFile>]) -> (String, String) {
        self.inputs.first().map_or_else(Default::default, |(file, _, why)| {
            let name = files.get(*file as usize).map_or("?", |f| f.display.as_str());
            (name.to_string(), why.clone())
        })
    }

    /// `n` records of `file` could not be read, the first for `e`.
    pub(super) fn add_n(&mut self, file: u32, n: usize, e: crate::model::raw::ReadError) {
        let at = *self.index.entry(file).or_insert_with(|| {
            self.inputs.push((file, 0, e.to_string()));
            self.inputs.len() - 1
        });
        self.inputs[at].1 += n;
    }

    /// Says which inputs had records that could not be read back; how many records in all.
    pub(super) fn report(&self, files: &[Arc<SourceFile>], err: &mut dyn Write) -> usize {
        for (file, n, why) in &self.inputs {
            let name = files.get(*file as usize).map_or("?", |f| f.display.as_str());
            let records = if *n == 1 { "1 record".to_string() } else { format!("{n} records") };
            let _ = writeln!(err, "trailscope: could not read back {records} of {name}: {}", sanitize(why));
        }
        self.total()
    }
}

/// Writes a JSON document on one line: whitespace outside strings is dropped, everything
/// else is copied byte for byte, so the record is unchanged.
pub fn write_compact(bytes: &[u8], out: &mut dyn Write) -> io::Result<()> {
    if memchr::memchr2(b'\n', b'\r', bytes).is_none() {
        let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
        let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
        return out.write_all(&bytes[start..end]);
    }
    let mut buf = Vec::with_capacity(bytes.len());
    let (mut in_str, mut escaped) = (false, false);
    for &b in bytes {
        if in_str {
            buf.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
        } else if b == b'"' {
            in_str = true;
            buf.push(b);
        } else if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            buf.push(b);
        }
    }
    out.write_all(&buf)
}

/// A CSV cell: sanitised, quoted when needed, and neutralised against spreadsheet formula
/// injection (a leading `=`, `+`, `-`, `@`, tab or CR gets a `'` in front).
pub fn csv_cell(s: &str) -> String {
    let s = sanitize(s);
    let s: std::borrow::Cow<str> = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}").into() } else { s };
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

/// The width `print --format table` fits its rows to: when standard output is a terminal,
/// `COLUMNS` (as a shell sets it) or else the terminal's width; none (rows as wide as their
/// cells) when output goes to a pipe or a file.
pub fn table_width(stdout_is_terminal: bool, columns: Option<&str>, terminal: Option<u16>) -> Option<usize> {
    if !stdout_is_terminal {
        return None;
    }
    columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
        .or(terminal.map(usize::from).filter(|&c| c > 0))
}

/// Column widths that fit `total` cells with two spaces between columns. The columns read
/// least (source IP, region, source, error) give first, down to what still reads (a whole
/// IPv4 address, `us-east-1`); then every column, widest first, down to its header. The time
/// is never cut.
fn fit_widths(mut widths: [usize; 7], total: usize) -> [usize; 7] {
    const READABLE: [usize; 7] = [0, 0, 0, 15, 9, 10, 12];
    let header = |c: usize| columns::HEADERS[c].len().max(5);
    let needed = |w: &[usize; 7]| w.iter().sum::<usize>() + 2 * (w.len() - 1);
    for (columns, floors) in [(3..7, READABLE), (1..7, [0; 7])] {
        while needed(&widths) > total {
            let Some(c) =
                columns.clone().filter(|&c| widths[c] > floors[c].max(header(c))).max_by_key(|&c| (widths[c], c))
            else {
                break;
            };
            widths[c] -= 1;
        }
    }
    widths
}

/// Writes the table in two passes over the events, so no row is held: the first measures
/// each column's widest cell, the second writes the rows. A million rows cost the memory of
/// one.
fn write_table(
    store: &EventStore,
    n: usize,
    event: &dyn Fn(usize) -> Event,
    fit: Option<usize>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut widths: [usize; 7] = std::array::from_fn(|c| columns::HEADERS[c].len());
    for k in 0..n {
        let cells = table_cells(store, &event(k));
        for c in 0..7 {
            widths[c] = widths[c].max(width(&cells[c]));
        }
    }
    if let Some(total) = fit {
        widths = fit_widths(widths, total);
    }
    let mut line = String::new();
    let mut write_line = |cells: &[Cow<str>; 7], out: &mut dyn Write| {
        line.clear();
        for (c, cell) in cells.iter().enumerate() {
            let cell = truncate_to_width(cell, widths[c]);
            line.push_str(&cell);
            if c + 1 < cells.len() {
                line.extend(std::iter::repeat_n(' ', widths[c].saturating_sub(width(&cell)) + 2));
            }
        }
        line.truncate(line.trim_end().len());
        line.push('\n');
        out.write_all(line.as_bytes())
    };
    let headers: [Cow<str>; 7] = std::array::from_fn(|c| columns::HEADERS[c].to_uppercase().into());
    write_line(&headers, out)?;
    for k in 0..n {
        write_line(&table_cells(store, &event(k)), out)?;
    }
    Ok(())
}

/// One event's cells in the table, sanitised and cut to each column's widest.
fn table_cells<'a>(store: &'a EventStore, ev: &Event) -> [Cow<'a, str>; 7] {
    const MAX: [usize; 7] = [20, 40, 40, 39, 16, 32, 32];
    let cells = columns::list_cells(store, ev, true);
    let mut cells = cells.into_iter();
    std::array::from_fn(|c| {
        let cell = cells.next().unwrap_or_default();
        let cut = match sanitize(&cell) {
            Cow::Borrowed(s) => match truncate_to_width(s, MAX[c]) {
                Cow::Borrowed(_) => None,
                Cow::Owned(t) => Some(t),
            },
            Cow::Owned(s) => Some(truncate_to_width(&s, MAX[c]).into_owned()),
        };
        match cut {
            Some(t) => Cow::Owned(t),
            None => cell,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacting_keeps_strings() {
        let mut out = Vec::new();
        write_compact(b"{\n  \"a\": \"x y\\\" \\n z\",\n  \"b\" : [1, 2]\n}\n", &mut out).unwrap();
        assert_eq!(out, b"{\"a\":\"x y\\\" \\n z\",\"b\":[1,2]}");
    }

    #[test]
    fn a_table_is_fitted_on_a_terminal_only() {
        assert_eq!(table_width(true, Some("80"), Some(200)), Some(80), "COLUMNS first");
        assert_eq!(table_width(true, None, Some(132)), Some(132));
        assert_eq!(table_width(true, Some("wide"), Some(100)), Some(100));
        assert_eq!(table_width(true, None, None), None);
        assert_eq!(table_width(false, Some("80"), Some(80)), None, "a pipe gets whole rows");
    }

    #[test]
    fn columns_give_width_least_read_first_and_never_below_their_header() {
        // time, event, principal, source_ip, region, source, error
        let natural = [20, 40, 40, 15, 14, 20, 32];
        assert_eq!(fit_widths(natural, 120), [20, 21, 21, 15, 9, 10, 12], "event and principal keep the most");
        assert_eq!(fit_widths(natural, 80), [20, 8, 9, 9, 8, 7, 7]);
        for total in [80, 100, 120, 140, 157] {
            let w = fit_widths(natural, total);
            assert_eq!(w.iter().sum::<usize>() + 12, total, "{total}: {w:?}");
            assert_eq!(w[0], 20, "the time is whole");
        }
        assert_eq!(fit_widths(natural, 400), natural, "room enough: unchanged");
        let narrow = fit_widths(natural, 20);
        assert_eq!(narrow, [20, 5, 9, 9, 6, 6, 5], "at most down to the headers");
    }

    #[test]
    fn csv_cells_are_safe() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("a\u{1b}[2Jb"), "a\\e[2Jb");
        assert_eq!(csv_cell("plain"), "plain");
    }
}
