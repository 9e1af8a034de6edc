//! The store's own tests: pages and coverage, removals during a fetch (from another handle on
//! the same file), the size limit, opening damaged, foreign, old, new and read-only databases.

use super::coverage::{Covered, TimeSpan};
use super::*;
use proptest::prelude::*;
use rusqlite::Connection;

fn key(attr: &str) -> LookupKey {
    LookupKey {
        scope: "test".into(),
        region: "us-east-1".into(),
        category: "management".into(),
        attr_key: if attr.is_empty() { String::new() } else { "EventName".into() },
        attr_value: attr.into(),
    }
}

fn ev(id: &str, t: i64) -> StoredEvent {
    let mut e = StoredEvent {
        event_id: id.into(),
        time_ms: t,
        event_name: "RunInstances".into(),
        cloudtrail_event: format!(
            r#"{{"eventID":"{id}","eventName":"RunInstances","recipientAccountId":"123456789012","eventTime":"x","pad":"{}"}}"#,
            "p".repeat(600)
        ),
        ..Default::default()
    };
    e.fill_from_record();
    e
}

/// Commits `events` as one fetch of `window` in pages of `per_page`, newest first.
fn fetch(
    s: &mut Store,
    lookup: i64,
    window: TimeSpan,
    fetched: i64,
    events: &[StoredEvent],
    per_page: usize,
) -> Vec<Committed> {
    let mut events = events.to_vec();
    events.sort_by_key(|e| std::cmp::Reverse(e.time_ms));
    let mut f = PageFetch::new(lookup, window, fetched);
    let pages: Vec<&[StoredEvent]> = events.chunks(per_page.max(1)).collect();
    let n = pages.len().max(1);
    (0..n)
        .map(|i| {
            let page = pages.get(i).copied().unwrap_or(&[]);
            let oldest = page.iter().map(|e| e.time_ms).min();
            s.commit_page(&mut f, "us-east-1", page, oldest, i + 1 == n).unwrap()
        })
        .collect()
}

/// Every event of `truth` inside a span the lookup claims is stored.
fn assert_no_false_coverage(s: &Store, lookup: i64, truth: &[StoredEvent]) {
    let ids: std::collections::HashSet<String> = {
        let mut st = s.conn.prepare("SELECT event_id FROM events").unwrap();
        let ids = st.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect();
        ids
    };
    let cov = s.coverage(lookup).unwrap();
    for e in truth {
        if cov.iter().any(|c| (c.start..=c.end).contains(&e.time_ms)) {
            assert!(ids.contains(&e.event_id), "{} at {} is covered by {cov:?} but not stored", e.event_id, e.time_ms);
        }
    }
}

#[test]
fn pages_coverage_and_reading_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut warnings = Vec::new();
    let mut s = Store::open(dir.path(), &mut warnings).unwrap();
    assert!(warnings.is_empty());
    let l = s.lookup_id(&key(""), true).unwrap().unwrap();
    assert_eq!(s.lookup_id(&key(""), false).unwrap(), Some(l));
    assert_eq!(s.lookup_id(&key("X"), false).unwrap(), None);
    let mut f = PageFetch::new(l, TimeSpan::new(0, 400), 1000);
    let kept = Committed::Kept { evicted: 0 };
    assert_eq!(s.commit_page(&mut f, "us-east-1", &[ev("a", 300), ev("b", 200)], Some(200), false).unwrap(), kept);
    assert_eq!(s.coverage(l).unwrap(), vec![Covered { start: 201, end: 400, fetched: 1000 }]);
    // The same event again (more of its millisecond on the next page) is stored once.
    assert_eq!(s.commit_page(&mut f, "us-east-1", &[ev("b", 200), ev("c", 100)], Some(100), true).unwrap(), kept);
    assert_eq!(s.coverage(l).unwrap(), vec![Covered { start: 0, end: 400, fetched: 1000 }]);
    let mut bodies = Vec::new();
    let n = s.read_window(l, TimeSpan::new(150, 400), 1, &mut |b, n| bodies.push((b, n))).unwrap();
    assert_eq!(n, 2);
    assert_eq!(bodies.len(), 2);
    let v: serde_json::Value = serde_json::from_slice(&bodies[0].0).unwrap();
    assert_eq!(v["Events"][0]["EventId"], "a", "newest first");
    assert_eq!(v["Events"][0]["EventTime"], 0.3);
    let st = s.stats().unwrap();
    assert_eq!(st.events, 3);
    assert_eq!(st.accounts, vec![("123456789012".to_string(), 3)]);
    // An empty window still gives one (empty) body.
    let mut bodies = Vec::new();
    s.read_window(l, TimeSpan::new(1000, 2000), 10, &mut |b, n| bodies.push((b, n))).unwrap();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0].1, 0);
    // Pruning takes the events and the coverage before the cutoff.
    assert_eq!(s.prune_before(150).unwrap(), 1);
    assert_eq!(s.coverage(l).unwrap(), vec![Covered { start: 150, end: 400, fetched: 1000 }]);
    s.check().unwrap();
    s.clear().unwrap();
    assert_eq!(s.stats().unwrap().events, 0);
}

#[test]
fn a_prune_by_another_process_between_two_pages_leaves_no_false_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let mut fetcher = Store::open(dir.path(), &mut Vec::new()).unwrap();
    let mut pruner = Store::open(dir.path(), &mut Vec::new()).unwrap();
    let l = fetcher.lookup_id(&key(""), true).unwrap().unwrap();
    let truth: Vec<StoredEvent> = (0..60).map(|i| ev(&format!("e{i}"), 1000 * (60 - i))).collect();
    let mut f = PageFetch::new(l, TimeSpan::new(0, 61_000), 100_000);
    for (k, page) in truth.chunks(10).enumerate() {
        let oldest = page.iter().map(|e| e.time_ms).min();
        fetcher.commit_page(&mut f, "us-east-1", page, oldest, k == 5).unwrap();
        if k == 3 {
            // The fetch has stored down to 21 s; the other process removes what is before 35 s.
            assert_eq!(pruner.prune_before(35_000).unwrap(), 14);
        }
        assert_no_false_coverage(&fetcher, l, &truth);
    }
    // The fetch's later pages are covered by themselves; the pruned stretch is not.
    let cov = fetcher.coverage(l).unwrap();
    assert_eq!(cov.iter().map(|c| (c.start, c.end)).collect::<Vec<_>>(), vec![(0, 20_999), (35_000, 61_000)]);
    assert_eq!(coverage::missing(&cov, TimeSpan::new(0, 61_000)), vec![TimeSpan::new(21_000, 34_999)]);
}

#[test]
fn a_clear_during_a_fetch_stops_its_pages() {
    let dir = tempfile::tempdir().unwrap();
    let mut fetcher = Store::open(dir.path(), &mut Vec::new()).unwrap();
    let mut other = Store::open(dir.path(), &mut Vec::new()).unwrap();
    let l = fetcher.lookup_id(&key(""), true).unwrap().unwrap();
    let mut f = PageFetch::new(l, TimeSpan::new(0, 100_000), 200_000);
    fetcher.commit_page(&mut f, "us-east-1", &[ev("a", 90_000)], Some(90_000), false).unwrap();
    other.clear().unwrap();
    // A new lookup never takes the old one's id: the fetch does not write into it.
    let l2 = other.lookup_id(&key("Other"), true).unwrap().unwrap();
    assert_ne!(l2, l);
    let r = fetcher.commit_page(&mut f, "us-east-1", &[ev("b", 50_000)], Some(50_000), true).unwrap();
    assert_eq!(r, Committed::Cleared);
    assert_eq!(fetcher.stats().unwrap().events, 0);
    assert_eq!(fetcher.coverage(l2).unwrap(), vec![]);
}

#[test]
fn a_snapshot_reads_coverage_and_events_of_one_moment() {
    let dir = tempfile::tempdir().unwrap();
    let mut reader = Store::open(dir.path(), &mut Vec::new()).unwrap();
    let mut pruner = Store::open(dir.path(), &mut Vec::new()).unwrap();
    let l = reader.lookup_id(&key(""), true).unwrap().unwrap();
    fetch(&mut reader, l, TimeSpan::new(0, 10_000), 20_000, &[ev("a", 2000), ev("b", 8000)], 50);
    let (cov, n) = reader
        .snapshot(|s| {
            let cov = s.coverage(l)?;
            pruner.prune_before(5000).unwrap();
            Ok((cov, s.read_window(l, TimeSpan::new(0, 10_000), 10, &mut |_, _| {})?))
        })
        .unwrap();
    assert_eq!((cov[0].start, n), (0, 2), "the events the coverage read describes");
    assert_eq!(reader.read_window(l, TimeSpan::new(0, 10_000), 10, &mut |_, _| {}).unwrap(), 1, "after it");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// Whatever another handle prunes or evicts between the pages of a fetch, the lookup's
    /// coverage never claims an event that is not stored.
    #[test]
    fn removals_during_a_fetch_never_leave_false_coverage(
        times in prop::collection::vec(0i64..200, 1..120),
        per_page in 1usize..25,
        removals in prop::collection::vec((0usize..10, 0i64..200, any::<bool>()), 0..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut fetcher = Store::open(dir.path(), &mut Vec::new()).unwrap();
        let mut other = Store::open(dir.path(), &mut Vec::new()).unwrap();
        let l = fetcher.lookup_id(&key(""), true).unwrap().unwrap();
        let mut truth: Vec<StoredEvent> =
            times.iter().enumerate().map(|(i, t)| ev(&format!("e{i}"), t * 1000)).collect();
        truth.sort_by_key(|e| std::cmp::Reverse(e.time_ms));
        let pages: Vec<&[StoredEvent]> = truth.chunks(per_page).collect();
        let mut f = PageFetch::new(l, TimeSpan::new(0, 200_000), 1_000_000);
        for (k, page) in pages.iter().enumerate() {
            for &(after, at, evict) in &removals {
                if after == k {
                    if evict {
                        let used = other.used_bytes().unwrap();
                        other.enforce_limit(used * at as u64 / 200).unwrap();
                    } else {
                        other.prune_before(at * 1000).unwrap();
                    }
                }
            }
            let oldest = page.iter().map(|e| e.time_ms).min();
            fetcher.commit_page(&mut f, "us-east-1", page, oldest, k + 1 == pages.len()).unwrap();
            assert_no_false_coverage(&fetcher, l, &truth);
        }
    }
}

#[test]
fn the_size_limit_holds_at_every_commit_and_a_repeated_fetch_evicts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path(), &mut Vec::new()).unwrap();
    let max = 256 * 1024;
    s.enforce_limit(max).unwrap();
    let l = s.lookup_id(&key(""), true).unwrap().unwrap();
    let window = TimeSpan::new(0, 2_000_000);
    let truth: Vec<StoredEvent> = (0..1000).map(|i| ev(&format!("id{i}"), i * 2000)).collect();
    let mut f = PageFetch::new(l, window, 3_000_000);
    let mut sorted = truth.clone();
    sorted.sort_by_key(|e| std::cmp::Reverse(e.time_ms));
    let mut results = Vec::new();
    for (k, page) in sorted.chunks(50).enumerate() {
        let oldest = page.iter().map(|e| e.time_ms).min();
        results.push(s.commit_page(&mut f, "us-east-1", page, oldest, k == 19).unwrap());
        let pages: i64 = s.conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        assert!(pages as u64 * 4096 <= max + 16 * 1024, "page {k}: the file has {pages} pages");
        assert_no_false_coverage(&s, l, &truth);
    }
    assert!(results.contains(&Committed::Full), "{results:?}");
    let kept = s.stats().unwrap().events;
    assert!(kept > 100 && kept < 1000, "{kept}");
    assert!(s.used_bytes().unwrap() > max / 2, "the limit is used: {} bytes", s.used_bytes().unwrap());
    // The same window again (what is not covered): nothing kept is evicted for older events.
    let before = s.stats().unwrap();
    let cov = s.coverage(l).unwrap();
    for gap in coverage::missing(&cov, window).into_iter().rev() {
        let older: Vec<StoredEvent> =
            truth.iter().filter(|e| (gap.start..=gap.end).contains(&e.time_ms)).cloned().collect();
        let r = fetch(&mut s, l, gap, 3_000_000, &older, 50);
        assert!(r.iter().all(|c| *c == Committed::Full), "{r:?}");
    }
    assert_eq!(s.stats().unwrap().events, before.events);
    assert_eq!(s.coverage(l).unwrap(), cov);
    // Newer events push the oldest out, and the limit holds.
    let newer: Vec<StoredEvent> = (0..100).map(|i| ev(&format!("new{i}"), 2_000_001 + i * 1000)).collect();
    let r = fetch(&mut s, l, TimeSpan::new(2_000_001, 2_200_000), 3_000_000, &newer, 50);
    assert!(r.iter().all(|c| matches!(c, Committed::Kept { evicted } if *evicted > 0)), "{r:?}");
    assert!(s.used_bytes().unwrap() <= max);
    assert_no_false_coverage(&s, l, &[truth, newer].concat());
}

#[test]
fn a_file_that_is_not_a_database_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DB_NAME);
    std::fs::write(&db, vec![0x5a; 8192]).unwrap();
    let mut warnings = Vec::new();
    let s = Store::open(dir.path(), &mut warnings).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("moved to"), "{warnings:?}");
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("cache.db.corrupt-"))
        .collect();
    assert_eq!(kept.len(), 1, "the damaged file is kept");
    assert_eq!(std::fs::read(dir.path().join(&kept[0])).unwrap(), vec![0x5a; 8192]);
    s.check().unwrap();
}

#[test]
fn a_database_of_another_application_is_refused_in_one_sentence_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DB_NAME);
    let c = Connection::open(&db).unwrap();
    c.execute_batch(
        "CREATE TABLE events (id INTEGER PRIMARY KEY); CREATE TABLE a (x); CREATE TABLE b (x); \
         CREATE TABLE c (x); CREATE TABLE \"d\nEOL\" (x); CREATE TABLE e (x);",
    )
    .unwrap();
    drop(c);
    let bytes = std::fs::read(&db).unwrap();
    let e = Store::open(dir.path(), &mut Vec::new()).err().unwrap();
    assert!(matches!(e, StoreError::Foreign { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("{} is a database of another application (tables a, b, c, d", db.display())),
        "{text}"
    );
    assert!(text.contains("and 2 more") && !text.contains("CREATE"), "{text}");
    assert_eq!(std::fs::read(&db).unwrap(), bytes);
    assert!(Store::open_for_reading(dir.path(), &mut Vec::new()).is_err());
}

#[test]
fn an_older_schema_is_migrated_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let c = Connection::open(dir.path().join(DB_NAME)).unwrap();
    c.execute_batch(schema::MIGRATIONS[0]).unwrap();
    c.pragma_update(None, "user_version", 1).unwrap();
    c.execute(
        "INSERT INTO lookups (scope, region, category, attr_key, attr_value) VALUES ('test', 'us-east-1', 'management', '', '')",
        [],
    )
    .unwrap();
    drop(c);
    let s = Store::open(dir.path(), &mut Vec::new()).unwrap();
    let st = s.stats().unwrap();
    assert_eq!(st.schema, schema::latest());
    assert_eq!(st.lookups.len(), 1, "the data of version 1 is still there");
    assert_eq!(st.archive_files, 0, "the tables of version 2 exist");
}

#[test]
fn a_newer_schema_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), &mut Vec::new()).unwrap());
    let c = Connection::open(dir.path().join(DB_NAME)).unwrap();
    c.pragma_update(None, "user_version", 999).unwrap();
    drop(c);
    let e = Store::open(dir.path(), &mut Vec::new()).err().unwrap();
    assert!(matches!(e, StoreError::NewerSchema { found: 999, .. }), "{e:?}");
    assert!(e.to_string().contains("newer trailscope"), "{e}");
}

#[test]
fn a_read_only_store_reads_and_never_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path(), &mut Vec::new()).unwrap();
    let l = s.lookup_id(&key(""), true).unwrap().unwrap();
    fetch(&mut s, l, TimeSpan::new(0, 10_000), 20_000, &[ev("a", 2000)], 50);
    drop(s);
    let db = dir.path().join(DB_NAME);
    let bytes = std::fs::read(&db).unwrap();
    let mut ro = Store::open_read_only(&db).unwrap();
    assert_eq!(ro.stats().unwrap().events, 1);
    assert_eq!(ro.read_window(l, TimeSpan::new(0, 10_000), 10, &mut |_, _| {}).unwrap(), 1);
    let e = ro.prune_before(i64::MAX).unwrap_err();
    assert!(e.is_cannot_write(), "{e:?}");
    drop(ro);
    assert_eq!(std::fs::read(&db).unwrap(), bytes);
    // As immutable, as where the directory cannot be written.
    let c = Connection::open_with_flags(
        super::open::immutable_uri(&db),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )
    .unwrap();
    let n: i64 = c.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
}

/// Reading a window out of a store with a million events (run with `--ignored --nocapture`,
/// in release mode: `cargo test --release --lib million -- --ignored --nocapture`).
#[test]
#[ignore]
fn a_window_out_of_a_million_events() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path(), &mut Vec::new()).unwrap();
    let l = s.lookup_id(&key(""), true).unwrap().unwrap();
    let t0 = std::time::Instant::now();
    // A million events over 30 days, in pages of 50, as fetched (newest first).
    let step = 30 * 86_400_000 / 1_000_000;
    let record = "x".repeat(900);
    let mut f = PageFetch::new(l, TimeSpan::new(0, 1_000_000 * step), i64::MAX / 2);
    for page in (0..20_000i64).rev() {
        let events: Vec<StoredEvent> = (0..50)
            .rev()
            .map(|i| {
                let n = page * 50 + i;
                StoredEvent {
                    account: "123456789012".into(),
                    event_id: format!("{n:036}"),
                    time_ms: n * step,
                    event_name: format!("Name{}", n % 300),
                    event_source: "ec2.amazonaws.com".into(),
                    cloudtrail_event: record.clone(),
                    ..Default::default()
                }
            })
            .collect();
        s.commit_page(&mut f, "us-east-1", &events, Some(page * 50 * step), page == 0).unwrap();
    }
    eprintln!("stored 1,000,000 events in 20,000 page transactions: {:.1?}", t0.elapsed());
    for (what, hours) in [("one hour", 1), ("one day", 24), ("30 days", 720)] {
        let t = std::time::Instant::now();
        let span = TimeSpan::new(15 * 86_400_000, 15 * 86_400_000 + hours * 3_600_000 - 1);
        let n = s.read_window(l, span, 5000, &mut |_, _| {}).unwrap();
        eprintln!("read {what} ({n} events): {:.1?}", t.elapsed());
    }
    eprintln!("database: {} MB in use", s.used_bytes().unwrap() >> 20);
}

#[test]
fn a_full_disk_is_an_error_and_the_store_stays_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path(), &mut Vec::new()).unwrap();
    let l = s.lookup_id(&key(""), true).unwrap().unwrap();
    fetch(&mut s, l, TimeSpan::new(5, 20), 100, &[ev("a", 10)], 50);
    // As if the disk were full: no page may be added any more.
    let pages: i64 = s.conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    let _: i64 = s.conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| r.get(0)).unwrap();
    let many: Vec<StoredEvent> = (0..500).map(|i| ev(&format!("x{i}"), 30 + i)).collect();
    let mut f = PageFetch::new(l, TimeSpan::new(21, 600), 100);
    let e = s.commit_page(&mut f, "us-east-1", &many, Some(30), true).unwrap_err();
    assert!(e.to_string().contains("full"), "{e}");
    // The page and its coverage went together: neither is there.
    assert_eq!(s.coverage(l).unwrap(), vec![Covered { start: 5, end: 20, fetched: 100 }]);
    assert_eq!(s.stats().unwrap().events, 1);
}

#[test]
fn the_size_limit_drops_the_oldest_events() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path(), &mut Vec::new()).unwrap();
    let l = s.lookup_id(&key(""), true).unwrap().unwrap();
    let events: Vec<StoredEvent> = (0..2000).map(|i| ev(&format!("id{i}"), i * 10)).collect();
    fetch(&mut s, l, TimeSpan::new(0, 20_000), 30_000, &events, 2000);
    let used = s.used_bytes().unwrap();
    let removed = s.enforce_limit(used / 2).unwrap();
    assert!(removed > 0);
    assert!(s.used_bytes().unwrap() <= used / 2, "{} > {}", s.used_bytes().unwrap(), used / 2);
    let st = s.stats().unwrap();
    assert_eq!(st.events, 2000 - removed);
    // What remains is the newest, and coverage starts where the kept events do.
    let cov = s.coverage(l).unwrap();
    assert_eq!(cov.len(), 1);
    assert!(cov[0].start > st.oldest_ms.unwrap() - 10 && cov[0].start <= st.oldest_ms.unwrap());
    // The file gave its free pages back.
    let file = std::fs::metadata(s.path()).unwrap().len();
    assert!(file <= used / 2 + used / 8, "{file} bytes on disk");
}

#[test]
fn processes_creating_one_cache_at_once_all_take_it_for_theirs() {
    // Several openers race to create the same new cache: each must see it whole (a trailscope
    // cache) or not at all, never another application's database.
    for _ in 0..30 {
        let dir = tempfile::tempdir().unwrap();
        let start = std::sync::Arc::new(std::sync::Barrier::new(6));
        let openers: Vec<_> = (0..6)
            .map(|_| {
                let (dir, start) = (dir.path().to_path_buf(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    let mut warnings = Vec::new();
                    Store::open(&dir, &mut warnings).map(|_| ()).map_err(|e| e.to_string())
                })
            })
            .collect();
        for o in openers {
            let r = o.join().unwrap();
            assert!(r.is_ok(), "{r:?}");
        }
    }
}
