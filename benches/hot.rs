//! Criterion benches of the hot functions on generated data: parsing a trail log file (the
//! fast path and the general one), inflating it, loading an archive, filtering a loaded store,
//! and drawing one frame of the TUI. `cargo bench --bench hot`; the archive-scale comparison
//! with zcat and jq is bench/run.sh.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::sync::Arc;
use trailscope::model::raw::{decode, RawReader};
use trailscope::model::record::{record_at, RecordFields};
use trailscope::query::{self, matcher::MatchCtx, Matcher};
use trailscope::source::files::{parse_content, parse_trail_log};
use trailscope::source::{load, LoadOptions, SourceMsg};
use trailscope::tui::state::Msg;

/// The state with its filter worker, as the tests run it.
#[path = "../tests/common/tui.rs"]
mod tui_support;
use trailscope::tui::ui;
use trailscope_gen::{generate, GenOptions};
use tui_support::{new_state, TestState};

/// A generated archive of `events` records, 2,000 to a file, without hostile strings.
fn archive(events: usize) -> (tempfile::TempDir, Vec<std::path::PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let opts = GenOptions { events, per_file: 2000, hostile: false, digests: false, ..Default::default() };
    generate(&opts, dir.path()).unwrap();
    let files = trailscope::source::discover(&[dir.path().to_string_lossy().into_owned()], &mut Vec::new())
        .into_iter()
        .map(|f| f.path)
        .collect();
    (dir, files)
}

fn parse(c: &mut Criterion) {
    let (_dir, files) = archive(2000);
    let gz = std::fs::read(&files[0]).unwrap();
    let json = decode(gz.clone()).unwrap().0;
    let mut g = c.benchmark_group("file of 2,000 records");
    g.throughput(Throughput::Bytes(json.len() as u64));
    g.bench_function("inflate", |b| b.iter_batched(|| gz.clone(), |gz| decode(gz).unwrap(), BatchSize::LargeInput));
    g.bench_function("parse, fast path", |b| {
        b.iter(|| {
            let mut n = 0usize;
            parse_trail_log(black_box(&json), &mut |p| n += p.span.len as usize).unwrap();
            n
        })
    });
    // One record's summary fields, each record of the file in turn: serde's parse, and the
    // reader that leaves to serde only what serde would read differently.
    let text = std::str::from_utf8(&json).unwrap();
    let mut starts = Vec::new();
    parse_trail_log(&json, &mut |p| starts.push(p.span.offset as usize)).unwrap();
    let serde = |at: usize| {
        let mut it = serde_json::Deserializer::from_str(&text[at..]).into_iter::<RecordFields>();
        it.next().unwrap().unwrap().params.strings.len()
    };
    g.bench_function("records, serde", |b| b.iter(|| starts.iter().map(|&at| serde(at)).sum::<usize>()));
    // As a load reads them: the reader, and serde for the records left to it.
    g.bench_function("records, reader", |b| {
        b.iter(|| {
            let one = |at| record_at(black_box(text), at).map_or_else(|| serde(at), |r| r.0.params.strings.len());
            starts.iter().map(|&at| one(at)).sum::<usize>()
        })
    });
    g.bench_function("parse, general path", |b| {
        b.iter(|| {
            let mut n = 0usize;
            parse_content(black_box(&json), &mut |p| n += p.span.len as usize).unwrap();
            n
        })
    });
    g.finish();
}

fn loaded(events: usize) -> (tempfile::TempDir, Arc<RawReader>, TestState) {
    let (dir, _) = archive(events);
    let raw = Arc::new(RawReader::new(16 << 20));
    let mut state = new_state(raw.clone(), 1_767_225_600_000);
    let paths = vec![dir.path().to_string_lossy().into_owned()];
    load(&paths, &LoadOptions::default(), &raw, &mut |m: SourceMsg| state.apply(Msg::Load(m)));
    (dir, raw, state)
}

fn load_and_filter(c: &mut Criterion) {
    let (dir, _) = archive(100_000);
    let paths = vec![dir.path().to_string_lossy().into_owned()];
    let mut g = c.benchmark_group("100,000 events");
    g.sample_size(10);
    g.bench_function("load", |b| {
        b.iter(|| {
            let raw = RawReader::new(0);
            let mut n = 0;
            load(&paths, &LoadOptions::default(), &raw, &mut |m| {
                if let SourceMsg::Batch(batch, _) = m {
                    n += batch.events.len();
                }
            });
            n
        })
    });
    let (_dir, raw, state) = loaded(100_000);
    let store = state.store().read();
    for filter in ["name:Delete*", "has:error -user:root", "id:=none", "ip:10.*"] {
        let q = query::parse(filter, 1_767_225_600_000).unwrap();
        let mut m = Matcher::new(&q);
        m.prepare(&store);
        let ctx = MatchCtx { store: &store, raw: &raw };
        g.bench_function(format!("filter {filter}"), |b| b.iter(|| m.filter(black_box(state.order()), &ctx).len()));
    }
    g.bench_function("sort newest first", |b| b.iter(|| store.sorted_indices().len()));
    g.finish();
}

fn render(c: &mut Criterion) {
    let (_dir, _raw, mut state) = loaded(20_000);
    state.settle();
    state.resize(120, 40);
    let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
    c.bench_function("draw one 120x40 frame", |b| {
        b.iter(|| {
            t.draw(|f| ui::draw(f, &state)).unwrap();
        })
    });
}

criterion_group!(benches, parse, load_and_filter, render);
criterion_main!(benches);
