//! Triage at scale: how fast the filter answers a keystroke, how long a frame takes, and how
//! long facets and the timeline take, over a generated archive of (by default) 1,000,000
//! events, with both fuzzy engines; beside jq answering the same question over the same files.
//!
//!     cargo bench --bench triage
//!     EVENTS=200000 cargo bench --bench triage
//!     BENCH_DIR=/var/tmp/ts-bench cargo bench --bench triage     keep the archive between runs
//!     JQ=0 cargo bench --bench triage                            skip the jq baseline
//!
//! Each keystroke is timed from the key to the last part of its results (`State::settle`),
//! and to the first part (what the list shows first). Targets: re-filtering after a
//! keystroke, field terms median < 50 ms and p99 < 150 ms; `resource:` terms median < 100 ms
//! and p99 < 300 ms; fuzzy bare words median < 150 ms;
//! a frame of the list < 2 ms; facets and timeline < 100 ms.

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use trailscope::model::raw::RawReader;
use trailscope::query::fuzzy::Engine;
use trailscope::query::run::summarize;
use trailscope::source::{load, LoadOptions};
use trailscope::tui::action::Action;
use trailscope::tui::state::{Msg, Start};
use trailscope::tui::ui;

/// The state with its filter worker, as the tests run it.
#[path = "../tests/common/tui.rs"]
mod tui_support;
use tui_support::{new_state_with, TestState};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn archive(events: usize) -> (PathBuf, Option<tempfile::TempDir>) {
    let (dir, tmp) = match std::env::var_os("BENCH_DIR") {
        Some(d) => (PathBuf::from(d), None),
        None => {
            let t = tempfile::tempdir().expect("temp dir");
            (t.path().to_path_buf(), Some(t))
        }
    };
    let path = dir.join(format!("triage-archive-{events}"));
    if !path.exists() {
        eprintln!("generating {events} events into {}", path.display());
        let opts = trailscope_gen::GenOptions {
            events,
            per_file: 2000,
            seed: 1,
            span_secs: 30 * 86_400,
            hostile: false,
            digests: false,
            ..Default::default()
        };
        trailscope_gen::generate(&opts, &path).expect("generating the archive");
    }
    (path, tmp)
}

fn loaded(path: &Path, engine: Engine) -> TestState {
    let raw = Arc::new(RawReader::new(64 << 20));
    let start = Start { now_ms: 1_767_225_600_000, fuzzy: engine, show_timeline: false, ..Start::default() };
    let mut state = new_state_with(raw.clone(), start);
    load(&[path.to_string_lossy().into_owned()], &LoadOptions::default(), &raw, &mut |m| state.apply(Msg::Load(m)));
    state.settle();
    state
}

struct Stats {
    samples: Vec<Duration>,
}

impl Stats {
    fn pct(&self, p: f64) -> f64 {
        let mut v: Vec<f64> = self.samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i.min(v.len() - 1)]
    }
}

/// Types each query a key at a time (clearing the filter before each), timing every key
/// to its full result and to its first part.
fn type_queries(state: &mut TestState, queries: &[&str]) -> (Stats, Stats, Vec<usize>) {
    let (mut full, mut first, mut counts) = (Vec::new(), Vec::new(), Vec::new());
    for q in queries {
        state.update(Action::FocusFilter);
        state.update(Action::FilterClear);
        state.settle();
        for c in q.chars() {
            let t = Instant::now();
            state.update(Action::FilterInsert(c));
            let mut first_at = None;
            while state.filtering().is_some() {
                if first_at.is_none() && !state.awaiting_first_results() {
                    first_at = Some(t.elapsed());
                }
                state.settle_step();
            }
            let done = t.elapsed();
            full.push(done);
            first.push(first_at.unwrap_or(done));
        }
        counts.push(state.view().len());
    }
    (Stats { samples: full }, Stats { samples: first }, counts)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT MET"
    }
}

fn main() {
    // `cargo bench` passes --bench; nothing else is taken.
    let events = env_usize("EVENTS", 1_000_000);
    let (path, _tmp) = archive(events);
    println!(
        "triage benchmark: {events} events, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let field_queries = ["name:Delete", "user:alice", "error:AccessDenied", "-source:s3 region:us-west-2", "ip:10."];
    let fuzzy_queries = ["dsg", "runinst", "assro", "gcid", "ctrail"];
    let mut fuzzy_medians = Vec::new();
    let mut field_result = None;
    let mut resource_count = None;
    for engine in [Engine::Skim, Engine::Nucleo] {
        let t = Instant::now();
        let mut state = loaded(&path, engine);
        let load_s = t.elapsed().as_secs_f64();
        let syms = state.store().read().syms.len();
        {
            // What the resource index holds: a reference per (event, string) and the strings.
            let store = state.store().read();
            let arns: usize = store.events.iter().map(|e| e.res_len()).sum();
            let params: usize = store.events.iter().map(|e| e.par_len()).sum();
            let mut seen = std::collections::HashSet::new();
            let text: usize =
                store.resources.iter().filter(|&&s| seen.insert(s)).map(|&s| store.syms.get(s).len()).sum();
            println!(
                "resource index: {arns} ARN and {params} requestParameters references ({:.1} MB), {} distinct strings ({:.1} MB of text)",
                (arns + params) as f64 * 4.0 / 1e6,
                seen.len(),
                text as f64 / 1e6
            );
        }
        println!(
            "\n[{}] loaded {} events in {load_s:.2}s ({syms} distinct strings)",
            engine.name(),
            state.view().len()
        );
        if field_result.is_none() {
            let (full, first, counts) = type_queries(&mut state, &field_queries);
            let (med, p99) = (full.pct(0.5), full.pct(0.99));
            println!(
                "field terms, {} keystrokes: full result median {med:.1} ms, p99 {p99:.1} ms; first part median {:.1} ms",
                full.samples.len(),
                first.pct(0.5)
            );
            println!("  results: {:?}", field_queries.iter().zip(&counts).collect::<Vec<_>>());
            println!("  target median < 50 ms: {}; p99 < 150 ms: {}", verdict(med < 50.0), verdict(p99 < 150.0));
            field_result = Some((med, p99, counts[0]));

            // `resource:`: any resources[].ARN or string in requestParameters, from the index.
            let (full, first, counts) = type_queries(&mut state, &RESOURCE_QUERIES);
            let (med, p99) = (full.pct(0.5), full.pct(0.99));
            println!(
                "resource terms, {} keystrokes: full result median {med:.1} ms, p99 {p99:.1} ms; first part median {:.1} ms",
                full.samples.len(),
                first.pct(0.5)
            );
            println!("  results: {:?}", RESOURCE_QUERIES.iter().zip(&counts).collect::<Vec<_>>());
            println!("  target median < 100 ms: {}; p99 < 300 ms: {}", verdict(med < 100.0), verdict(p99 < 300.0));
            resource_count = Some(counts[0]);

            // `text:` runs when submitted (it reads the records), streaming newest first.
            for q in ["text:config-bucket", "text:i-0ea8"] {
                state.update(Action::FocusFilter);
                state.update(Action::FilterClear);
                state.settle();
                for c in q.chars() {
                    state.update(Action::FilterInsert(c));
                }
                state.settle();
                let t = Instant::now();
                state.update(Action::FilterSubmit);
                let mut first = None;
                while state.filtering().is_some() {
                    if first.is_none() && !state.awaiting_first_results() && !state.view().is_empty() {
                        first = Some(t.elapsed());
                    }
                    state.settle_step();
                }
                let done = t.elapsed();
                let first = first.unwrap_or(done).as_secs_f64() * 1000.0;
                println!(
                    "{q} submitted: first matches {first:.0} ms, complete {:.0} ms, {} events; target first < 200 ms: {}",
                    done.as_secs_f64() * 1000.0,
                    state.view().len(),
                    verdict(first < 200.0)
                );
            }
        }
        let (full, first, counts) = type_queries(&mut state, &fuzzy_queries);
        let med = full.pct(0.5);
        println!(
            "fuzzy bare words, {} keystrokes: full result median {med:.1} ms, p99 {:.1} ms; first part median {:.1} ms",
            full.samples.len(),
            full.pct(0.99),
            first.pct(0.5)
        );
        println!("  results: {:?}", fuzzy_queries.iter().zip(&counts).collect::<Vec<_>>());
        println!("  target median < 150 ms: {}", verdict(med < 150.0));
        fuzzy_medians.push((engine, med, counts));

        if engine == Engine::Nucleo {
            frame_and_summary(&mut state);
        }
    }
    let same = fuzzy_medians[0].2 == fuzzy_medians[1].2;
    println!(
        "\nfuzzy engines: {} {:.1} ms, {} {:.1} ms (median per keystroke); same results: {same}",
        fuzzy_medians[0].0.name(),
        fuzzy_medians[0].1,
        fuzzy_medians[1].0.name(),
        fuzzy_medians[1].1
    );

    if std::env::var("JQ").map_or(true, |v| v != "0") {
        if let Some((med, _, count)) = field_result {
            jq_baseline(&path, med, count);
        }
        if let Some(count) = resource_count {
            jq_resource_count(&path, count);
        }
    }
}

/// One frame of the whole screen with every event loaded, and facets plus timeline.
fn frame_and_summary(state: &mut TestState) {
    state.update(Action::FocusFilter);
    state.update(Action::FilterClear);
    state.update(Action::FilterSubmit);
    state.settle();
    state.update(Action::ToggleTimeline);
    state.update(Action::ToggleFacets);
    // Back to the list, which the frames page through.
    state.update(Action::Back);
    state.settle();
    state.resize(120, 40);
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let mut frames = Vec::new();
    for i in 0..200 {
        // Move so each frame draws other rows, as paging does.
        state.update(if i % 2 == 0 { Action::PageDown } else { Action::Down });
        let t = Instant::now();
        term.draw(|f| ui::draw(f, state)).unwrap();
        frames.push(t.elapsed());
    }
    let frames = Stats { samples: frames };
    println!(
        "frame (120x40, list + detail + facets + timeline, {} events): median {:.3} ms, p99 {:.3} ms; target < 2 ms: {}",
        state.view().len(),
        frames.pct(0.5),
        frames.pct(0.99),
        verdict(frames.pct(0.99) < 2.0)
    );
    let mut sums = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let s = std::hint::black_box(summarize(state.store(), state.view()));
        let facet_total: u32 = s.facets[0].top.iter().map(|t| t.1).sum();
        assert!(facet_total as usize <= state.view().len());
        assert_eq!(
            s.timeline.counts.iter().map(|&c| c as usize).sum::<usize>(),
            state.view().len(),
            "every event counted once"
        );
        sums.push(t.elapsed());
    }
    let sums = Stats { samples: sums };
    println!(
        "facets + timeline of {} events: median {:.1} ms, max {:.1} ms; target < 100 ms: {}",
        state.view().len(),
        sums.pct(0.5),
        sums.pct(1.0),
        verdict(sums.pct(1.0) < 100.0)
    );
}

/// jq answering `name:Delete` over the same files: the baseline, and a check of the count.
/// The `resource:` queries typed, the first checked against jq.
const RESOURCE_QUERIES: [&str; 4] =
    ["resource:config-bucket", "resource:i-0ea8", "resource:email-jobs", "-resource:kms"];

/// jq counts what the first resource query selects: a resources[].ARN or a string anywhere in
/// requestParameters holding `config-bucket`, without regard to case.
fn jq_resource_count(path: &Path, ours: usize) {
    let filter = r#".Records[] | select(([.resources[]?.ARN | strings] + [.requestParameters | .. | strings])
        | map(ascii_downcase | contains("config-bucket")) | any)"#;
    let cmd = format!("zcat {} | jq -c '{filter}' | wc -l", gz_files(path).join(" "));
    let t = Instant::now();
    match std::process::Command::new("bash").arg("-c").arg(&cmd).output() {
        Ok(o) if o.status.success() => {
            let n: usize = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap_or(0);
            println!(
                "jq, resource:config-bucket over the same files: {:.1} s, {n} events (ours: {ours}, {})",
                t.elapsed().as_secs_f64(),
                if n == ours { "same count" } else { "COUNTS DIFFER" }
            );
        }
        _ => println!("jq resource count skipped: zcat or jq is not available"),
    }
}

/// The archive's files, quoted for a shell.
fn gz_files(path: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(".json.gz") {
                files.push(p);
            }
        }
    }
    files.iter().map(|p| format!("'{}'", p.display())).collect()
}

fn jq_baseline(path: &Path, ours_ms: f64, ours_count: usize) {
    let list = gz_files(path);
    let cmd = format!(
        "zcat {} | jq -c '.Records[] | select(.eventName | ascii_downcase | contains(\"delete\"))' | wc -l",
        list.join(" ")
    );
    let t = Instant::now();
    let out = std::process::Command::new("bash").arg("-c").arg(&cmd).output();
    let secs = t.elapsed().as_secs_f64();
    match out {
        Ok(o) if o.status.success() => {
            let n: usize = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap_or(0);
            println!(
                "\njq baseline, name:Delete over the same files: {secs:.1} s, {n} events (ours: {ours_count}, {}); \
                 one keystroke's re-filter is {:.0}x faster",
                if n == ours_count { "same count" } else { "COUNTS DIFFER" },
                secs * 1000.0 / ours_ms.max(0.001)
            );
        }
        _ => println!("\njq baseline skipped: zcat or jq is not available"),
    }
}
