//! Memory on hostile and large inputs, measured with a counting allocator (bytes allocated,
//! and the peak of bytes live), not with wall-clock time. The tests here run one at a time:
//! they share the counters.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use trailscope::model::raw::RawReader;
use trailscope::print;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static TOTAL: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only counters are kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

fn grew(n: usize) {
    let live = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(live, Ordering::Relaxed);
    TOTAL.fetch_add(n as u64, Ordering::Relaxed);
}

#[global_allocator]
static ALLOC: Counting = Counting;

static SERIAL: Mutex<()> = Mutex::new(());

/// What `f` allocated: the peak of live bytes above what was live before, and the bytes
/// allocated in all.
fn measure<R>(f: impl FnOnce() -> R) -> (R, usize, u64) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let total = TOTAL.load(Ordering::Relaxed);
    let r = f();
    (r, PEAK.load(Ordering::Relaxed).saturating_sub(base), TOTAL.load(Ordering::Relaxed) - total)
}

/// JSON Lines of `n` distinct records of about a kilobyte each.
fn records(n: usize) -> Vec<u8> {
    records_of(n, 900)
}

/// JSON Lines of `n` distinct records, each with `pad` bytes of parameters.
fn records_of(n: usize, pad: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let pad = "x".repeat(pad);
        writeln!(
            out,
            r#"{{"eventVersion":"1.08","eventTime":"2024-01-01T00:{:02}:{:02}Z","eventName":"Get{i}","eventSource":"s3.amazonaws.com","eventID":"id-{i}","requestParameters":{{"pad":"{pad}"}}}}"#,
            (i / 60) % 60,
            i % 60
        )
        .unwrap();
    }
    out
}

/// Reads back up to `n` records of every input, checking each is one of the lines written;
/// the bytes allocated meanwhile.
fn read_back(loaded: &print::Loaded, raw: &RawReader, content: &[u8], n: usize) -> u64 {
    let lines: std::collections::HashSet<&[u8]> = content.split(|&b| b == b'\n').collect();
    let ((), _, total) = measure(|| {
        for ev in loaded.store.events.iter().take(n) {
            let bytes = raw.read(loaded.store.file_of(ev).unwrap(), ev.loc).unwrap();
            assert!(lines.contains(&*bytes), "a record read back is one of the lines");
        }
    });
    total
}

#[test]
fn records_of_an_input_larger_than_the_budget_cost_their_own_size_to_read_back() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let content = records(16_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.jsonl.gz");
    std::fs::write(&path, common::gzip(&content)).unwrap();
    // A budget far below the input's 15 MB: before, each record decompressed the whole
    // input again (15 MB allocated per record).
    let raw = RawReader::new(1 << 20);
    let loaded = print::load_all(&[path.to_string_lossy().into_owned()], &raw, false);
    assert_eq!(loaded.stats.events, 16_000);
    let n = 300;
    let total = read_back(&loaded, &raw, &content, n);
    eprintln!("read back: {n} records of a {} byte input over the budget: {total} bytes allocated", content.len());
    // Once: the part kept in memory while finding out the content is larger, buffers. Then
    // about a record's size per record.
    assert!(total < 8 * (1 << 20) + n as u64 * 4096, "{total} bytes allocated to read back {n} records");
}

#[test]
fn records_of_a_stream_are_read_back_from_disk_not_copied_per_record() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let content = records(16_000);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let writer = {
        let (fifo, content) = (fifo.clone(), content.clone());
        std::thread::spawn(move || std::fs::OpenOptions::new().write(true).open(fifo).unwrap().write_all(&content))
    };
    let raw = RawReader::new(1 << 20);
    let before = LIVE.load(Ordering::Relaxed);
    let loaded = print::load_all(&[fifo.to_string_lossy().into_owned()], &raw, false);
    writer.join().unwrap().unwrap();
    assert_eq!(loaded.stats.events, 16_000);
    // Once loaded, the stream's content is on disk, not in memory: what is held is the
    // events (a few megabytes), not the 15 MB read.
    let held = LIVE.load(Ordering::Relaxed);
    let grew = held.saturating_sub(before);
    assert!(grew < content.len() / 2, "{grew} bytes held after loading {} bytes", content.len());
    let n = 300;
    let total = read_back(&loaded, &raw, &content, n);
    assert!(total < n as u64 * 4096, "{total} bytes allocated to read back {n} records");
}

/// Loads `path` with the given limits; what was loaded and the peak of live bytes meanwhile.
fn load_with(path: &std::path::Path, whole_max: usize) -> (print::Loaded, usize) {
    let raw = RawReader::new(1 << 20);
    let opts = trailscope::source::LoadOptions { whole_max, threads: 2, ..Default::default() };
    let (loaded, peak, _) = measure(|| print::load_all_with(&[path.to_string_lossy().into_owned()], &raw, opts));
    (loaded, peak)
}

/// A gzip file of `chunks` written one after the other (never all in memory at once).
fn gzip_file(path: &std::path::Path, chunks: impl Iterator<Item = Vec<u8>>) {
    let f = std::fs::File::create(path).unwrap();
    let mut e = flate2::write::GzEncoder::new(std::io::BufWriter::new(f), flate2::Compression::fast());
    for c in chunks {
        e.write_all(&c).unwrap();
    }
    e.finish().unwrap().flush().unwrap();
}

#[test]
fn a_gzip_of_zeros_is_refused_from_its_first_bytes() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zeros.json.gz");
    // 256 MiB of zeros in a quarter of a megabyte.
    gzip_file(&path, (0..256).map(|_| vec![0u8; 1 << 20]));
    let (loaded, peak) = load_with(&path, trailscope::source::DEFAULT_WHOLE_MAX);
    assert_eq!(loaded.problems.len(), 1);
    let why = &loaded.problems[0].reason;
    assert!(why.starts_with("not JSON (binary content starting with bytes 00 00"), "{why}");
    eprintln!("peak: 256 MiB of zeros in gzip: {peak} bytes");
    assert!(peak < 16 << 20, "{peak} bytes at the peak to refuse 256 MiB of zeros");
}

#[test]
fn a_record_over_the_limit_is_skipped_and_named_within_bounded_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json.gz");
    // One record holding a 48 MiB string between two ordinary ones.
    let parts = std::iter::once(br#"{"Records":[{"eventName":"A","eventID":"a"},{"eventName":"Huge","x":""#.to_vec())
        .chain((0..48).map(|_| vec![b'a'; 1 << 20]))
        .chain(std::iter::once(br#""},{"eventName":"B","eventID":"b"}]}"#.to_vec()));
    gzip_file(&path, parts);
    trailscope::model::record::set_max_record_len(1 << 20);
    let (loaded, peak) = load_with(&path, 4 << 20);
    trailscope::model::record::set_max_record_len(trailscope::model::record::DEFAULT_MAX_RECORD);
    assert_eq!(loaded.stats.events, 2);
    assert_eq!(loaded.problems.len(), 1, "{:?}", loaded.problems);
    let p = &loaded.problems[0];
    assert!(!p.skipped && p.reason.contains("Records[1]: larger than 1 MiB"), "{p:?}");
    eprintln!("peak: one 48 MiB record, limit 1 MiB: {peak} bytes");
    assert!(peak < 16 << 20, "{peak} bytes at the peak for a 48 MiB record");
    // The two records read back from the stream they were found in.
    let raw = RawReader::new(1 << 20);
    for ev in &loaded.store.events {
        let bytes = raw.read(loaded.store.file_of(ev).unwrap(), ev.loc).unwrap();
        assert!(bytes.starts_with(br#"{"eventName":""#), "{}", String::from_utf8_lossy(&bytes[..40]));
    }
}

#[test]
fn the_same_record_repeated_holds_one_event() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("same.jsonl.gz");
    let line = br#"{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventName":"GetObject","eventID":"one","requestParameters":{"bucketName":"b"}}
"#;
    let n = 400_000;
    gzip_file(&path, (0..n / 1000).map(|_| line.repeat(1000)));
    let (loaded, peak) = load_with(&path, 4 << 20);
    assert_eq!((loaded.stats.events, loaded.stats.duplicates), (1, n - 1));
    eprintln!("peak: {n} copies of one record: {peak} bytes");
    assert!(peak < 16 << 20, "{peak} bytes at the peak for {n} copies of one record");
}

#[test]
fn a_plain_file_larger_than_the_whole_limit_is_read_as_a_stream() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    let lines = records_of(20_000, 2400);
    let mut log = b"{\"Records\":[\n".to_vec();
    for (i, l) in lines.split(|&b| b == b'\n').filter(|l| !l.is_empty()).enumerate() {
        if i > 0 {
            log.extend_from_slice(b",\n");
        }
        log.extend_from_slice(l);
    }
    log.extend_from_slice(b"\n]}\n");
    std::fs::write(&path, &log).unwrap();
    drop(lines);
    // Not split into parts (as it is by default, which `a_split_file_stays_within_the_memory_bound`
    // bounds): read as one input, a stream.
    let raw = RawReader::new(1 << 20);
    let opts = trailscope::source::LoadOptions { whole_max: 4 << 20, part_bytes: 0, threads: 2, ..Default::default() };
    let (loaded, peak, _) = measure(|| print::load_all_with(&[path.to_string_lossy().into_owned()], &raw, opts));
    assert_eq!(loaded.stats.events, 20_000);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    eprintln!("peak: {} bytes of plain JSON streamed: {peak} bytes", log.len());
    assert!(peak < log.len() / 2, "{peak} bytes at the peak for {} bytes of JSON", log.len());
    // What the whole-content parser finds: the same records at the same places.
    let raw = RawReader::new(1 << 20);
    let whole = print::load_all_with(&[path.to_string_lossy().into_owned()], &raw, Default::default());
    let locs = |l: &print::Loaded| l.store.events.iter().map(|e| e.loc).collect::<Vec<_>>();
    assert_eq!(locs(&loaded), locs(&whole));
    // Read back from there, every tenth is the record whole.
    let raw = RawReader::new(1 << 20);
    for ev in whole.store.events.iter().step_by(10) {
        let bytes = raw.read(whole.store.file_of(ev).unwrap(), ev.loc).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(ev.id_hash, trailscope::model::id::hash32(v["eventID"].as_str().unwrap()));
    }
}

/// A record with a 32 MiB value read for the detail view: highlighting it takes a few times
/// the record (parsed, pretty-printed), not tens of times (every character of the value
/// highlighted and kept as spans), and what is kept for drawing is small.
#[test]
fn a_long_value_in_the_detail_view_takes_a_few_times_its_size() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let record =
        format!(r#"{{"eventName":"PutObject","requestParameters":{{"blob":"{}","key":"k"}}}}"#, "A".repeat(32 << 20));
    let (h, peak, _) = measure(|| trailscope::tui::highlight::highlight_record(record.as_bytes()));
    let kept: usize = h.lines.iter().flat_map(|l| l.spans.iter()).map(|s| s.content.len()).sum();
    assert!(kept < 64 << 10, "{kept} bytes kept for drawing");
    assert!(peak < 4 * record.len(), "peak {} MiB for a record of {} MiB", peak >> 20, record.len() >> 20);
    eprintln!("peak {} MiB for a record of {} MiB", peak >> 20, record.len() >> 20);
}

/// One piece of a hostile input: what decompression bombs and odd files are made of.
#[derive(Clone, Debug)]
enum Piece {
    /// Zeros (a gzip of them is tiny).
    Zeros(usize),
    /// One record, the same bytes `n` times.
    Repeated(usize),
    /// One record holding a string of `n` bytes.
    LongString(usize),
    /// `n` distinct ordinary records.
    Distinct(usize),
    /// Arbitrary bytes.
    Bytes(Vec<u8>),
    /// Arrays nested `n` deep.
    Nested(usize),
}

fn piece() -> impl proptest::strategy::Strategy<Value = Piece> {
    use proptest::prelude::*;
    prop_oneof![
        (1usize..=32 << 20).prop_map(Piece::Zeros),
        (1usize..=40_000).prop_map(Piece::Repeated),
        (1usize..=24 << 20).prop_map(Piece::LongString),
        (1usize..=2_000).prop_map(Piece::Distinct),
        proptest::collection::vec(any::<u8>(), 0..4096).prop_map(Piece::Bytes),
        (1usize..=100_000).prop_map(Piece::Nested),
    ]
}

/// The bytes of `pieces`, as JSON Lines or inside one `{"Records":[…]}`.
fn hostile_content(pieces: &[Piece], lines: bool) -> Vec<u8> {
    let record = |name: &str, extra: &str| {
        format!(
            r#"{{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventName":"{name}","eventID":"{name}"{extra}}}"#
        )
    };
    let mut parts: Vec<Vec<u8>> = Vec::new();
    for (k, p) in pieces.iter().enumerate() {
        match p {
            Piece::Zeros(n) => parts.push(vec![0u8; *n]),
            Piece::Repeated(n) => {
                let r = record(&format!("same{k}"), "");
                parts.extend(std::iter::repeat_n(r.into_bytes(), *n));
            }
            Piece::LongString(n) => {
                parts.push(record(&format!("long{k}"), &format!(r#","userAgent":"{}""#, "a".repeat(*n))).into_bytes())
            }
            Piece::Distinct(n) => parts.extend(
                (0..*n).map(|i| record(&format!("d{k}-{i}"), r#","requestParameters":{"b":"x"}"#).into_bytes()),
            ),
            Piece::Bytes(b) => parts.push(b.clone()),
            Piece::Nested(n) => parts.push(["[".repeat(*n), "]".repeat(*n)].concat().into_bytes()),
        }
    }
    if lines {
        parts.iter().flat_map(|p| p.iter().copied().chain([b'\n'])).collect()
    } else {
        let mut out = br#"{"Records":["#.to_vec();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(p);
        }
        out.extend_from_slice(b"]}");
        out
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 16, failure_persistence: None, ..Default::default() })]
    /// Whatever a file holds (zeros, one record repeated, a record with a long string, nested
    /// arrays, arbitrary bytes, ordinary records, in any order, gzip or not), loading it stays
    /// within a bound set by the limits (content held whole up to 256 KiB, one record up to
    /// 1 MiB), not by the file's size: the peak of live bytes, counted by the allocator.
    #[test]
    fn random_files_never_exceed_the_memory_bound(
        pieces in proptest::collection::vec(piece(), 1..6),
        lines in proptest::bool::ANY,
        gzip in proptest::bool::ANY,
    ) {
        let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let content = hostile_content(&pieces, lines);
        let path = dir.path().join(if gzip { "input.json.gz" } else { "input.json" });
        if gzip {
            gzip_file(&path, content.chunks(1 << 20).map(<[u8]>::to_vec));
        } else {
            std::fs::write(&path, &content).unwrap();
        }
        let size = content.len();
        drop(content);
        trailscope::model::record::set_max_record_len(1 << 20);
        let (loaded, peak) = load_with(&path, 256 << 10);
        trailscope::model::record::set_max_record_len(trailscope::model::record::DEFAULT_MAX_RECORD);
        // Up to 2,000 × 5 distinct small records are kept as events (a few MiB at most); the
        // content, up to tens of MiB, is never held whole.
        proptest::prop_assert!(
            peak < 8 << 20,
            "{peak} bytes at the peak for {size} bytes of content ({} events, problems {:?})",
            loaded.stats.events,
            loaded.problems
        );
    }
}

/// A big JSON Lines file, trail log or array is split into parts that are held whole: no part
/// is larger than what is held whole of any input; a JSON Lines file with a line at a cut
/// longer than a record may be is not split (a case the property above found: 8 MiB of lines
/// around a 5.5 MiB one), and such an element of a trail log is in no part.
#[test]
fn a_split_file_stays_within_the_memory_bound() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    for (pieces, lines) in [
        (vec![Piece::Repeated(1), Piece::LongString(5_775_899), Piece::Repeated(26_933)], true),
        (vec![Piece::Distinct(2_000), Piece::Repeated(40_000), Piece::Distinct(2_000), Piece::Repeated(40_000)], true),
        (vec![Piece::Repeated(1), Piece::LongString(5_775_899), Piece::Repeated(26_933)], false),
        (vec![Piece::Distinct(2_000), Piece::Repeated(40_000), Piece::Distinct(2_000), Piece::Repeated(40_000)], false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let content = hostile_content(&pieces, lines);
        let path = dir.path().join("input.json");
        std::fs::write(&path, &content).unwrap();
        let size = content.len();
        assert!(size > 1 << 20, "{size}: more than two parts of 256 KiB");
        drop(content);
        trailscope::model::record::set_max_record_len(1 << 20);
        let (loaded, peak) = load_with(&path, 256 << 10);
        trailscope::model::record::set_max_record_len(trailscope::model::record::DEFAULT_MAX_RECORD);
        assert!(peak < 8 << 20, "{peak} bytes at the peak for {size} bytes ({:?})", loaded.problems);
        assert!(loaded.stats.events >= 2, "{:?}", loaded.stats);
    }
}
