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
    let mut out = Vec::new();
    for i in 0..n {
        let pad = "x".repeat(900);
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
