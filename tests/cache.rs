//! The local store end to end: the real `trailscope print` binary against the LookupEvents
//! double, counting the requests the double saw.

mod common;
use common::*;
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use trailscope::model::time::{format_rfc3339, now_ms};
use trailscope_double::{Double, DoubleConfig, LogEntry, Record};

const SECRET: &str = "not-a-secret-c4ch3";
const KEY_ID: &str = "AKIDTRAILSCOPECACHE";

struct Fixture {
    dir: tempfile::TempDir,
    records: Vec<Value>,
    archive: PathBuf,
    rt: tokio::runtime::Runtime,
}

/// Generated events ending `ago_secs` before now over `span_secs`. The generator puts each
/// file's events in one five-minute window and one region: small files spread them.
fn generate(
    dir: &Path,
    name: &str,
    events: usize,
    regions: usize,
    seed: u64,
    ago_secs: i64,
    span_secs: i64,
) -> PathBuf {
    recent_archive_in(dir, name, events, 5, regions, seed, ago_secs, span_secs)
}

fn fixture(events: usize, regions: usize, ago_secs: i64, span_secs: i64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let archive = generate(dir.path(), "archive", events, regions, 23, ago_secs, span_secs);
    let o = run(&["print", "--no-cache", archive.to_str().unwrap()]);
    let records = jsonl_values(&o);
    assert_eq!(records.len(), events);
    let regions_seen: HashSet<&str> = records.iter().map(|v| v["awsRegion"].as_str().unwrap()).collect();
    assert_eq!(regions_seen.len(), regions, "every region has events");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    Fixture { dir, records, archive, rt }
}

impl Fixture {
    fn double(&self, cfg: DoubleConfig) -> Double {
        self.rt.block_on(Double::start(&self.archive, 0, cfg)).unwrap()
    }
    /// A double serving only some records, on a given port (0: any).
    fn double_with(&self, pred: impl Fn(&Value) -> bool, port: u16) -> Double {
        let recs: Vec<Record> = self.records.iter().filter(|v| pred(v)).filter_map(Record::from_value).collect();
        // The port of a double just shut down may take a moment to be free again.
        let start = Instant::now();
        loop {
            match self.rt.block_on(Double::start_with_records(recs.clone(), port, DoubleConfig::default())) {
                Ok(d) => return d,
                Err(e) if start.elapsed() < Duration::from_secs(10) => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("cannot start the double: {e}"),
            }
        }
    }
    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }
    fn region(&self, i: usize) -> String {
        let mut r: Vec<String> = self.records.iter().map(|v| v["awsRegion"].as_str().unwrap().to_string()).collect();
        r.sort();
        r.dedup();
        r[i].clone()
    }
    /// The records of `region` within [from, to] (ms).
    fn between(&self, region: &str, from: i64, to: i64) -> Vec<&Value> {
        self.records.iter().filter(|v| v["awsRegion"] == region && (from..=to).contains(&time_of(v))).collect()
    }
}

fn time_of(v: &Value) -> i64 {
    trailscope::model::time::parse_event_time(v["eventTime"].as_str().unwrap()).unwrap()
}

fn command(endpoint: &str, cache: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg("print").arg("--endpoint-url").arg(endpoint).arg("--cache-dir").arg(cache).args(args);
    for v in [
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_SESSION_TOKEN",
        "TRAILSCOPE_CACHE_DIR",
    ] {
        cmd.env_remove(v);
    }
    cmd.env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

fn cached(endpoint: &str, cache: &Path, args: &[&str]) -> Output {
    command(endpoint, cache, args).output().unwrap()
}

fn rfc(ms: i64) -> String {
    format_rfc3339(ms)
}

/// The request window of a log entry, in ms.
fn window(e: &LogEntry) -> (i64, i64) {
    ((e.start.unwrap() * 1000.0).round() as i64, (e.end.unwrap() * 1000.0).round() as i64)
}

/// The requests that were answered with a page (a request throttled or failed on the way is
/// asked again; the tests count pages).
fn answered(log: &[LogEntry]) -> usize {
    log.iter().filter(|e| e.status == Some(200)).count()
}

fn pages(n: usize) -> usize {
    n.div_ceil(50).max(1)
}

#[test]
fn the_second_identical_query_makes_no_request() {
    let f = fixture(400, 1, 3600, 20 * 3600);
    let region = f.region(0);
    let d = f.double(DoubleConfig::default());
    let now = now_ms() / 1000 * 1000;
    let (since, until) = (rfc(now - 2 * 86_400_000), rfc(now - 600_000));
    let args = ["--region", &region, "--since", &since, "--until", &until];
    let first = cached(&d.endpoint(), &f.cache(), &args);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let expected = f.between(&region, now - 2 * 86_400_000, now - 600_000);
    assert_same_selection(&jsonl_values(&first), &expected, "first run");
    let fetched = d.log().len();
    assert_eq!(answered(&d.log()), pages(expected.len()));

    let second = cached(&d.endpoint(), &f.cache(), &args);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_eq!(d.log().len(), fetched, "the second identical query made no request");
    eprintln!("identical query: first run {fetched} requests, second run 0 ({} events from the cache)", expected.len());
    assert!(second.stdout == first.stdout, "the same output, from the cache");
    let e = stderr(&second);
    assert!(e.contains(&format!("cache {}, AWS 0; 0 requests", expected.len())), "{e}");

    // A filter with an exact name (a lookup attribute) inside the window fetched without one:
    // every event of the window is stored, so no request either, and the same selection.
    let name = expected[0]["eventName"].as_str().unwrap();
    let third = cached(&d.endpoint(), &f.cache(), &[&args[..], &["--filter", &format!("name:={name}")]].concat());
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    assert!(stderr(&third).contains(&format!("AWS: EventName={name}")), "{}", stderr(&third));
    let named: Vec<&Value> = expected.iter().copied().filter(|v| v["eventName"] == name).collect();
    assert_same_selection(&jsonl_values(&third), &named, "by name, from the cache");
    assert_eq!(d.log().len(), fetched, "answered from the lookup without attribute");
    // A wider window is not covered by it: that query goes to AWS with its attribute.
    let o = cached(
        &d.endpoint(),
        &f.cache(),
        &["--region", &region, "--since", "3d", "--until", &until, "--filter", &format!("name:={name}")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let log = d.log();
    assert!(
        log.len() > fetched
            && log[fetched..].iter().all(|e| e.attribute.as_deref() == Some(&format!("EventName={name}")[..]))
    );
    d.shutdown();
}

#[test]
fn a_widened_window_requests_only_the_gap() {
    let f = fixture(500, 1, 3600, 20 * 3600);
    let region = f.region(0);
    let d = f.double(DoubleConfig::default());
    let now = now_ms() / 1000 * 1000;
    let until = now - 2 * 3_600_000;
    let (old, older) = (now - 8 * 3_600_000, now - 30 * 3_600_000);
    let o = cached(&d.endpoint(), &f.cache(), &["--region", &region, "--since", &rfc(old), "--until", &rfc(until)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let first = d.log().len();
    assert_eq!(answered(&d.log()), pages(f.between(&region, old, until).len()));

    let o = cached(&d.endpoint(), &f.cache(), &["--region", &region, "--since", &rfc(older), "--until", &rfc(until)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_same_selection(&jsonl_values(&o), &f.between(&region, older, until), "widened window");
    let log = d.log();
    let gap = &log[first..];
    let in_gap = f.between(&region, older, old - 1).len();
    assert_eq!(answered(gap), pages(in_gap), "only the pages of the gap: {gap:?}");
    eprintln!("widened window: first run {first} requests, widened run {} (the gap's {in_gap} events)", gap.len());
    for e in gap {
        let (s, t) = window(e);
        assert_eq!(s, older, "the gap starts where the window does");
        assert!(t < old, "the gap ends before the span already fetched ({t} >= {old})");
    }
    d.shutdown();
}

#[test]
fn a_refresh_after_new_events_arrive_requests_only_the_new_part() {
    // Older events, and 40 more of the last ten minutes that arrive between the two runs.
    let mut f = fixture(300, 1, 11 * 60, 4 * 3600);
    let region = f.region(0);
    let cutoff = now_ms() - 10 * 60_000 - 30_000;
    let newer = generate(f.dir.path(), "newer", 40, 1, 99, 10, 9 * 60);
    let o = run(&["print", "--no-cache", newer.to_str().unwrap()]);
    f.records.extend(jsonl_values(&o));
    assert_eq!(f.records.len(), 340);
    assert!(f.records.iter().any(|v| time_of(v) >= cutoff));
    let d = f.double_with(|v| time_of(v) < cutoff, 0);
    let port = d.port();
    let before_first = now_ms();
    let o = cached(&d.endpoint(), &f.cache(), &["--region", &region, "--since", "1d"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let old: Vec<&Value> = f.records.iter().filter(|v| time_of(v) < cutoff).collect();
    assert_eq!(old.len(), 300);
    assert_same_selection(&jsonl_values(&o), &old, "before");
    assert_eq!(answered(&d.log()), pages(old.len()));
    d.shutdown();

    // New events arrive: the same account now has all of them.
    let d = f.double_with(|_| true, port);
    let o = cached(&d.endpoint(), &f.cache(), &["--region", &region, "--since", "1d"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let all: Vec<&Value> = f.records.iter().collect();
    assert_same_selection(&jsonl_values(&o), &all, "after");
    let log = d.log();
    // Only the new part, with the last 15 minutes of the earlier fetch asked again (events
    // may be delivered to event history up to 15 minutes late).
    let overlap = trailscope::cache::coverage::SETTLE_MS;
    let refetched = f.records.iter().filter(|v| time_of(v) >= before_first - overlap).count();
    assert_eq!(answered(&log), pages(refetched), "{log:?}");
    eprintln!(
        "refresh: first run {} requests, refresh {} requests for {refetched} events of the new part and the overlap",
        pages(old.len()),
        log.len()
    );
    for e in &log {
        let (s, _) = window(e);
        assert!(s >= before_first - overlap - 1000, "asked from {} only", rfc(s));
    }
    let e = stderr(&o);
    assert!(e.contains(&format!("cache {}", old.len())), "{e}");
    d.shutdown();
}

/// Opens the store of a test as the app does and checks what it claims: every event of the
/// archive inside a covered span is there, once.
fn assert_store_consistent(cache: &Path, records: &[Value], region: &str) -> (usize, Vec<(i64, i64)>) {
    let conn = rusqlite::Connection::open(cache.join(trailscope::cache::DB_NAME)).unwrap();
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let (n, distinct): (i64, i64) = conn
        .query_row("SELECT count(*), count(DISTINCT event_id) FROM events", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(n, distinct, "no event stored twice");
    let spans: Vec<(i64, i64)> = conn
        .prepare("SELECT start_ms, end_ms FROM coverage ORDER BY start_ms")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let stored: HashSet<String> = conn
        .prepare("SELECT event_id FROM events")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for v in records.iter().filter(|v| v["awsRegion"] == region) {
        let t = time_of(v);
        if spans.iter().any(|&(s, e)| (s..=e).contains(&t)) {
            assert!(stored.contains(v["eventID"].as_str().unwrap()), "a covered event is missing from the store");
        }
    }
    (n as usize, spans)
}

#[test]
fn kill_9_during_a_fetch_leaves_a_consistent_store_that_the_next_run_completes() {
    let f = fixture(1000, 1, 3600, 20 * 3600);
    let region = f.region(0);
    let d = f.double(DoubleConfig::default());
    let args = ["--region", &region, "--since", "2d"];
    let mut child =
        command(&d.endpoint(), &f.cache(), &args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let start = Instant::now();
    while d.log().len() < 6 {
        assert!(start.elapsed() < Duration::from_secs(30), "the fetch did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = d.log().len();
    assert!(before < pages(1000), "killed part way ({before} requests)");
    let (stored, spans) = assert_store_consistent(&f.cache(), &f.records, &region);
    assert!(stored >= 4 * 50, "the pages before the kill were kept ({stored} events)");
    assert_eq!(spans.len(), 1, "one covered span, from the newest end: {spans:?}");

    // Offline: what the store has, no request, and the part not covered is named.
    let o = cached(&d.endpoint(), &f.cache(), &[&args[..], &["--offline"]].concat());
    assert_eq!(o.status.code(), Some(3), "incomplete: {}", stderr(&o));
    assert_eq!(d.log().len(), before, "--offline made no request");
    let got = jsonl_values(&o);
    assert_eq!(got.len(), stored);
    assert_eq!(ids(&got).iter().collect::<HashSet<_>>().len(), got.len(), "no duplicates");
    assert!(stderr(&o).contains("is not in the cache"), "{}", stderr(&o));

    // The next run fetches the rest, not everything again.
    let o = cached(&d.endpoint(), &f.cache(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let all: Vec<&Value> = f.records.iter().collect();
    assert_same_selection(&jsonl_values(&o), &all, "completed");
    let after = answered(&d.log()[before..]);
    eprintln!("kill -9: {before} requests before the kill, {stored} events kept; the next run made {after} requests (all: {})", pages(1000));
    assert!(after < pages(1000), "{after} requests to complete, {} for everything", pages(1000));
    // The rest, plus the events of the oldest second already kept (the span stopped just
    // after it: more of that second could have been on the next page), plus one request for
    // what may have arrived since.
    assert!(after <= pages(1000 - stored + 50) + 1, "{after} requests for {} missing events", 1000 - stored);
    let (n, spans) = assert_store_consistent(&f.cache(), &f.records, &region);
    assert_eq!(n, 1000);
    assert_eq!(spans.len(), 1, "{spans:?}");
    d.shutdown();
}

#[test]
fn a_corrupt_database_is_moved_aside_and_rebuilt() {
    let f = fixture(120, 1, 3600, 10 * 3600);
    let region = f.region(0);
    let d = f.double(DoubleConfig::default());
    std::fs::create_dir_all(f.cache()).unwrap();
    let garbage: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(f.cache().join("cache.db"), &garbage).unwrap();
    let until = rfc(now_ms() - 1000);
    let args = ["--region", &region, "--since", "2d", "--until", &until];
    let o = cached(&d.endpoint(), &f.cache(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(jsonl_values(&o).len(), 120);
    let e = stderr(&o);
    assert!(e.contains("warning") && e.contains("could not be read") && e.contains("moved to"), "{e}");
    let kept: Vec<PathBuf> = std::fs::read_dir(f.cache())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("cache.db.corrupt-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read(&kept[0]).unwrap(), garbage, "the damaged file is kept as it was");
    // The new database works: the same query again needs no request.
    let n = d.log().len();
    let o = cached(&d.endpoint(), &f.cache(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(jsonl_values(&o).len(), 120);
    assert_eq!(d.log().len(), n);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    d.shutdown();
}

#[cfg(unix)]
#[test]
fn the_store_is_private_and_holds_no_credentials() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture(100, 1, 3600, 10 * 3600);
    let region = f.region(0);
    let d = f.double(DoubleConfig::default());
    let cache = f.dir.path().join("a/b/cache");
    let o = cached(&d.endpoint(), &cache, &["--region", &region, "--since", "2d"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&cache), 0o700);
    for entry in std::fs::read_dir(&cache).unwrap() {
        let p = entry.unwrap().path();
        assert_eq!(mode(&p), 0o600, "{}", p.display());
        let bytes = std::fs::read(&p).unwrap();
        for secret in [SECRET, KEY_ID] {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} in {}", p.display());
        }
    }
    assert!(cache.join("cache.db").exists());
    d.shutdown();
}

#[test]
fn an_unusable_cache_directory_means_running_without_the_cache() {
    let f = fixture(100, 1, 3600, 10 * 3600);
    let region = f.region(0);
    let d = f.double(DoubleConfig::default());
    // Tests run as root, so mode bits would not stop them: a path under a regular file can
    // never be created.
    let file = f.dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let o = cached(&d.endpoint(), &file.join("cache"), &["--region", &region, "--since", "2d"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(jsonl_values(&o).len(), 100);
    assert!(stderr(&o).contains("warning: running without the cache"), "{}", stderr(&o));
    // --offline has nothing to answer from.
    let o = cached(&d.endpoint(), &file.join("cache"), &["--region", &region, "--since", "2d", "--offline"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("--offline needs the cache"), "{}", stderr(&o));
    d.shutdown();
}

#[test]
fn two_processes_share_one_store() {
    let f = fixture(400, 2, 3600, 10 * 3600);
    let (r0, r1) = (f.region(0), f.region(1));
    let d = f.double(DoubleConfig::default());
    let until = rfc(now_ms() - 1000);
    let spawn = |region: &str| {
        command(&d.endpoint(), &f.cache(), &["--region", region, "--since", "2d", "--until", &until])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Both write the same database at the same time, and a third reads the same lookups.
    let (a, b, c) = (spawn(&r0), spawn(&r1), spawn(&r0));
    for (child, region) in [(a, &r0), (b, &r1), (c, &r0)] {
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let expected: Vec<&Value> = f.records.iter().filter(|v| v["awsRegion"] == region.as_str()).collect();
        assert_same_selection(&jsonl_values(&o), &expected, region);
        assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    }
    let n = d.log().len();
    let o = cached(&d.endpoint(), &f.cache(), &["--region", &format!("{r0},{r1}"), "--since", "2d", "--until", &until]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_same_selection(&jsonl_values(&o), &f.records.iter().collect::<Vec<_>>(), "both regions");
    assert_eq!(d.log().len(), n, "everything came from the store");
    d.shutdown();
}

#[test]
fn offline_and_the_cache_command() {
    let f = fixture(200, 1, 3600, 10 * 3600);
    let region = f.region(0);
    let d = f.double(DoubleConfig::default());
    let now = now_ms() / 1000 * 1000;
    let since = now - 6 * 3_600_000;
    let o = cached(&d.endpoint(), &f.cache(), &["--region", &region, "--since", &rfc(since), "--until", &rfc(now)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let n = d.log().len();
    // Offline over the same window: complete, from the store. No region named: the store's.
    let o = cached(&d.endpoint(), &f.cache(), &["--offline", "--since", &rfc(since), "--until", &rfc(now)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_same_selection(&jsonl_values(&o), &f.between(&region, since, now), "offline");
    assert!(stderr(&o).contains("from the cache (offline)"), "{}", stderr(&o));
    // A wider window: what the store has, and which part is not covered.
    let o = cached(&d.endpoint(), &f.cache(), &["--offline", "--region", &region, "--since", "2d"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_same_selection(&jsonl_values(&o), &f.between(&region, since, now), "offline, wider");
    let e = stderr(&o);
    assert!(e.contains("incomplete: cache") && e.contains("is not in the cache"), "{e}");
    assert!(e.contains(&format!("to {}", rfc(since - 1))), "names the uncovered span: {e}");
    assert_eq!(d.log().len(), n, "--offline never calls AWS");

    let cache_cmd =
        |args: &[&str]| Command::new(bin()).arg("cache").args(args).arg("--cache-dir").arg(f.cache()).output().unwrap();
    let o = cache_cmd(&["stats"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains(&format!("events:    {}", f.between(&region, since, now).len())), "{out}");
    assert!(out.contains(&format!("{region} management all events")), "{out}");
    assert!(!out.contains(KEY_ID), "{out}");
    let o = cache_cmd(&["prune", "--older-than", "3h"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let removed = f.between(&region, since, now - 3 * 3_600_000 - 1).len();
    let said: usize = stderr(&o).split("removed ").nth(1).and_then(|s| s.split(' ').next()).unwrap().parse().unwrap();
    // The command's "now" is a moment later than the test's.
    assert!((removed..=removed + 2).contains(&said), "removed {said}, expected {removed}: {}", stderr(&o));
    let o = cache_cmd(&["stats"]);
    let left = f.between(&region, since, now).len() - said;
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("events:    {left}")));
    let o = cache_cmd(&["clear"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = cache_cmd(&["stats"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("events:    0"));
    let o = cache_cmd(&["prune", "--older-than", "soon"]);
    assert_eq!(o.status.code(), Some(2));
    d.shutdown();
}

/// Sets a file's modification time (to put back the time of a file rewritten in place).
fn set_mtime(p: &Path, t: std::time::SystemTime) {
    std::fs::File::options().write(true).open(p).unwrap().set_modified(t).unwrap();
}

#[test]
fn the_archive_index_skips_unchanged_files_and_rereads_changed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let archive = generate(dir.path(), "archive", 400, 2, 5, 3600, 86_400);
    let cache = dir.path().join("cache");
    let print = |extra: &[&str]| {
        let mut cmd = Command::new(bin());
        cmd.arg("print").arg("--cache-dir").arg(&cache).args(extra).arg(&archive).env_remove("TRAILSCOPE_CACHE_DIR");
        cmd.output().unwrap()
    };
    let plain = print(&["--no-cache", "--format", "csv"]);
    assert!(!cache.exists(), "--no-cache leaves no cache behind");
    let first = print(&["--format", "csv"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(first.stdout == plain.stdout, "the same list with the index being built");
    let o = Command::new(bin()).args(["cache", "stats", "--cache-dir"]).arg(&cache).output().unwrap();
    let stats = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(stats.contains("archives:  80 files indexed (400 records)"), "{stats}");

    // Reopened: the same list and the same records, from the index.
    let second = print(&["--format", "csv"]);
    assert!(second.stdout == plain.stdout, "the same list from the index");
    assert_eq!(stderr(&second), stderr(&first));
    let jsonl = print(&["--format", "jsonl"]);
    assert!(jsonl.stdout == print(&["--no-cache", "--format", "jsonl"]).stdout, "records read back from the files");

    // A file damaged in place, with its size and time kept: the index is used, so the file
    // is not even decompressed for the list's columns (the table still shows its events); the
    // CSV's eventID column is read from the records, and those of that file are named.
    let plain_table = print(&["--no-cache", "--format", "table"]);
    assert_eq!(plain_table.status.code(), Some(0), "{}", stderr(&plain_table));
    let files: Vec<PathBuf> = trailscope::source::discover(&[archive.to_string_lossy().into_owned()], &mut Vec::new())
        .into_iter()
        .map(|f| f.path)
        .collect();
    let victim = &files[3];
    let meta = std::fs::metadata(victim).unwrap();
    let mut junk = vec![0u8; meta.len() as usize];
    junk[..2].copy_from_slice(&[0x1f, 0x8b]);
    std::fs::write(victim, junk).unwrap();
    set_mtime(victim, meta.modified().unwrap());
    let o = print(&["--format", "table"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout == plain_table.stdout, "unchanged size and time: the stored index");
    let o = print(&["--format", "csv"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let victim_name = victim.file_name().unwrap().to_string_lossy().into_owned();
    assert!(stderr(&o).contains("could not read back") && stderr(&o).contains(&victim_name), "{}", stderr(&o));
    assert!(stderr(&o).contains("without their eventID"), "{}", stderr(&o));
    let (rows, plain_rows) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&plain.stdout));
    assert_eq!(rows.lines().count(), plain_rows.lines().count(), "every row is written");
    assert!(rows.lines().any(|l| l.ends_with(',')), "rows of that file have no eventID");
    // Once its time changes it is read again, and found damaged.
    set_mtime(victim, meta.modified().unwrap() + Duration::from_secs(1));
    let o = print(&["--format", "csv"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("gzip"), "{}", stderr(&o));
    // A new file is read too.
    let extra = generate(dir.path(), "extra", 5, 1, 77, 3600, 600);
    let mut new_files = Vec::new();
    let mut stack = vec![extra];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                new_files.push(p);
            }
        }
    }
    std::fs::copy(&new_files[0], archive.join("new.json.gz")).unwrap();
    let o = print(&["--format", "csv", "--filter", "-id:=none"]);
    let rows = String::from_utf8_lossy(&o.stdout).lines().count() - 1;
    assert_eq!(rows, 400 - 5 + 5, "the damaged file's 5 events out, the new file's 5 in: {}", stderr(&o));
}

/// The events stored, by eventID.
fn stored_ids(cache: &Path) -> HashSet<String> {
    let conn = rusqlite::Connection::open(cache.join(trailscope::cache::DB_NAME)).unwrap();
    let mut st = conn.prepare("SELECT event_id FROM events").unwrap();
    let ids = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    ids
}

/// The bytes the cache takes on disk: the database and its write-ahead log.
fn on_disk(cache: &Path) -> u64 {
    ["cache.db", "cache.db-wal"].iter().filter_map(|n| std::fs::metadata(cache.join(n)).ok()).map(|m| m.len()).sum()
}

fn cache_command(cache: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg("cache").args(args).arg("--cache-dir").arg(cache).env_remove("TRAILSCOPE_CACHE_DIR");
    cmd
}

#[test]
fn a_prune_during_a_fetch_leaves_no_false_coverage() {
    // 1000 events over 60 days: 20 pages, newest first, two requests a second.
    let f = fixture(1000, 1, 3600, 60 * 86_400);
    let region = f.region(0);
    let d = f.double(DoubleConfig::default());
    let until = rfc(now_ms() / 1000 * 1000 - 1000);
    let args = ["--region", &region, "--since", "61d", "--until", &until];
    let child =
        command(&d.endpoint(), &f.cache(), &args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // Once the fetch is past 30 days back (page 11 and on), another process prunes what is older.
    let start = Instant::now();
    while d.log().len() < 14 {
        assert!(start.elapsed() < Duration::from_secs(60), "the fetch did not get far enough");
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = cache_command(&f.cache(), &["prune", "--older-than", "30d"]).output().unwrap();
    let during = d.log().len();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let removed: usize =
        stderr(&o).split("removed ").nth(1).and_then(|s| s.split(' ').next()).unwrap().parse().unwrap();
    assert!(removed > 0, "the prune removed events the fetch had stored: {}", stderr(&o));
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(during < answered(&d.log()), "the prune ran while the fetch went on");
    assert_same_selection(&jsonl_values(&o), &f.records.iter().collect::<Vec<_>>(), "the fetch itself");

    // What the store says it covers, it holds: the pruned stretch is not covered.
    let (stored, _) = assert_store_consistent(&f.cache(), &f.records, &region);
    assert!(stored < 1000, "{stored}");
    let n = d.log().len();
    let o = cached(&d.endpoint(), &f.cache(), &[&args[..], &["--offline"]].concat());
    assert_eq!(o.status.code(), Some(3), "the pruned stretch is missing: {}", stderr(&o));
    assert!(stderr(&o).contains("is not in the cache"), "{}", stderr(&o));
    assert_eq!(jsonl_values(&o).len(), stored);
    // The next run fetches what was pruned, and only that.
    let o = cached(&d.endpoint(), &f.cache(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_same_selection(&jsonl_values(&o), &f.records.iter().collect::<Vec<_>>(), "completed");
    assert!(answered(&d.log()[n..]) <= pages(1000 - stored) + 2, "{} requests", answered(&d.log()[n..]));
    let (stored, spans) = assert_store_consistent(&f.cache(), &f.records, &region);
    assert_eq!((stored, spans.len()), (1000, 1), "{spans:?}");
    d.shutdown();
}

#[test]
fn the_size_limit_holds_and_a_repeated_query_evicts_nothing() {
    // About 1.5 MiB of events for a cache of 512 KiB.
    let f = fixture(800, 1, 3600, 5 * 86_400);
    let region = f.region(0);
    let d = f.double(DoubleConfig::default());
    let until = rfc(now_ms() / 1000 * 1000 - 1000);
    let args = ["--region", &region, "--since", "6d", "--until", &until, "--cache-max-size", "512K"];
    let limit = 512 * 1024;
    let all: Vec<&Value> = f.records.iter().collect();
    let o = cached(&d.endpoint(), &f.cache(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_same_selection(&jsonl_values(&o), &all, "first run");
    let size = on_disk(&f.cache());
    assert!(size <= limit + 64 * 1024, "the cache takes {size} bytes for a limit of {limit}");
    let (kept, _) = assert_store_consistent(&f.cache(), &f.records, &region);
    assert!(kept > 100 && kept < 800, "{kept} events kept");
    let first = stored_ids(&f.cache());

    // Asked again: the events kept answer, the rest comes from AWS, and nothing is evicted to
    // make room for events that would be the first to go.
    let mut requests = Vec::new();
    for run in ["second run", "third run"] {
        let n = d.log().len();
        let o = cached(&d.endpoint(), &f.cache(), &args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_same_selection(&jsonl_values(&o), &all, run);
        let e = stderr(&o);
        assert!(!e.contains("over its size limit"), "{run}: {e}");
        assert!(e.contains(&format!("cache {kept},")), "{run}: {e}");
        assert!(on_disk(&f.cache()) <= limit + 64 * 1024, "{run}: {} bytes", on_disk(&f.cache()));
        assert_eq!(stored_ids(&f.cache()), first, "{run}: the same events kept");
        assert_store_consistent(&f.cache(), &f.records, &region);
        requests.push(answered(&d.log()[n..]));
    }
    eprintln!("size limit: {kept} of 800 events kept in {size} bytes; later runs made {requests:?} requests");
    // The rest (with the events of the oldest millisecond kept, which the covered span stops
    // just after), and one request for the last 15 minutes, which may still receive events.
    assert!(requests[0] <= pages(800 - kept + 1) + 1, "{requests:?}");
    assert_eq!(requests[0], requests[1], "a steady state");
    d.shutdown();
}

#[test]
fn offline_right_after_a_fetch_reports_no_empty_gap() {
    let f = fixture(100, 1, 3600, 10 * 3600);
    let region = f.region(0);
    let d = f.double(DoubleConfig::default());
    // The fetch's window ends part way through a second, the offline one later in that same
    // second: event times are whole seconds, so nothing can lie between them.
    let t = now_ms() / 1000 * 1000 - 5000;
    let at = |ms: i64| trailscope::model::time::format_rfc3339_ms(ms);
    let o = cached(&d.endpoint(), &f.cache(), &["--region", &region, "--since", "1d", "--until", &at(t + 200)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let fetched = jsonl_values(&o);
    let o = cached(
        &d.endpoint(),
        &f.cache(),
        &["--region", &region, "--since", "1d", "--until", &at(t + 900), "--offline"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("is not in the cache"), "{}", stderr(&o));
    assert_eq!(jsonl_values(&o), fetched);
    // A window that holds one more whole second does miss that second, and says which.
    let o = cached(
        &d.endpoint(),
        &f.cache(),
        &["--region", &region, "--since", "1d", "--until", &at(t + 1500), "--offline"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains(&format!("offline: {} is not in the cache", rfc(t + 1000))), "{e}");
    d.shutdown();
}

#[cfg(unix)]
#[test]
fn a_read_only_cache_answers_offline_and_stats() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let f = fixture(120, 1, 3600, 10 * 3600);
    let region = f.region(0);
    let d = f.double(DoubleConfig::default());
    let until = rfc(now_ms() / 1000 * 1000 - 1000);
    let args = ["--region", &region, "--since", "2d", "--until", &until];
    let o = cached(&d.endpoint(), &f.cache(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The directory can be read, not written. Mode bits do not stop root: as root, the runs
    // below run as nobody, who owns the cache.
    let root = unsafe { libc::geteuid() } == 0;
    let cache = f.cache();
    if root {
        std::fs::set_permissions(f.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        for entry in std::fs::read_dir(&cache).unwrap() {
            std::os::unix::fs::chown(entry.unwrap().path(), Some(65534), Some(65534)).unwrap();
        }
        std::os::unix::fs::chown(&cache, Some(65534), Some(65534)).unwrap();
    }
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o500)).unwrap();
    let before: Vec<_> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().file_name()).collect();
    let as_reader = |cmd: &mut Command| {
        if root {
            cmd.uid(65534).gid(65534);
        }
        cmd.output().unwrap()
    };
    let o = as_reader(&mut cache_command(&cache, &["stats"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("events:    120"), "{}", String::from_utf8_lossy(&o.stdout));
    let o = as_reader(&mut command(&d.endpoint(), &cache, &[&args[..], &["--offline"]].concat()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(jsonl_values(&o).len(), 120);
    let after: Vec<_> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(before, after);
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o700)).unwrap();
    d.shutdown();
}

#[test]
fn a_database_of_another_application_is_named_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let schemas = [
        // A table of the same name as one of the cache's.
        "CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT); CREATE TABLE moz_places (url TEXT);",
        // No clash at all.
        "CREATE TABLE moz_places (url TEXT, title TEXT); CREATE INDEX moz_url ON moz_places (url);",
        // Its own schema version.
        "CREATE TABLE moz_places (url TEXT); PRAGMA user_version = 7;",
    ];
    for (i, schema) in schemas.iter().enumerate() {
        let cache = dir.path().join(format!("c{i}"));
        std::fs::create_dir(&cache).unwrap();
        let db = cache.join("cache.db");
        rusqlite::Connection::open(&db).unwrap().execute_batch(schema).unwrap();
        let bytes = std::fs::read(&db).unwrap();
        let o = cache_command(&cache, &["stats"]).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "one line: {e}");
        assert!(e.contains(&db.display().to_string()) && e.contains("another application"), "{e}");
        assert!(!e.contains("CREATE") && !e.contains("newer trailscope"), "{e}");
        assert_eq!(std::fs::read(&db).unwrap(), bytes, "the database is left as it was");
    }
}

/// Bytes in use in the cache's database (what `--cache-max-size` counts) and the archive
/// index's files.
fn used_and_indexed(cache: &Path) -> (u64, u64) {
    let conn = rusqlite::Connection::open(cache.join(trailscope::cache::DB_NAME)).unwrap();
    let q = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64;
    let used = (q("PRAGMA page_count") - q("PRAGMA freelist_count")) * q("PRAGMA page_size");
    (used, q("SELECT count(*) FROM archive_files"))
}

#[test]
fn the_archive_index_counts_against_the_cache_size_limit_and_is_shown_apart() {
    let dir = tempfile::tempdir().unwrap();
    let a = generate(dir.path(), "a", 3000, 1, 5, 3600, 86_400);
    let b = generate(dir.path(), "b", 3000, 1, 6, 3600, 86_400);
    let cache = dir.path().join("cache");
    let print = |archive: &Path, limit: &str| {
        let mut cmd = Command::new(bin());
        cmd.args(["print", "--format", "csv", "--cache-max-size", limit, "--cache-dir"])
            .arg(&cache)
            .arg(archive)
            .env_remove("TRAILSCOPE_CACHE_DIR");
        cmd.output().unwrap()
    };
    let first = print(&a, "1G");
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let (used_a, files_a) = used_and_indexed(&cache);
    assert_eq!(files_a, 600, "every file of a indexed");
    let o = Command::new(bin()).args(["cache", "stats", "--cache-dir"]).arg(&cache).output().unwrap();
    let stats = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(stats.contains("archives:  600 files indexed (3000 records), the index taking "), "{stats}");

    // Room for about one archive's index: b's is stored, a's (used before) makes room for it.
    let limit = used_a + used_a / 4;
    let second = print(&b, &limit.to_string());
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert!(second.stdout != first.stdout);
    let (used, files) = used_and_indexed(&cache);
    assert!(used <= limit, "{used} bytes in use over the limit of {limit}");
    assert!((600..1200).contains(&files), "b's 600 files indexed, part of a's dropped for them: {files}");
    let conn = rusqlite::Connection::open(cache.join(trailscope::cache::DB_NAME)).unwrap();
    let b_files: i64 = conn
        .query_row(
            "SELECT count(*) FROM archive_files WHERE path LIKE ?1",
            [format!("{}%", std::fs::canonicalize(&b).unwrap().display())],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(b_files, 600, "the files being loaded keep their index");

    // A limit that cannot hold one archive's index: nothing is stored, and stderr says so.
    std::fs::remove_dir_all(&cache).unwrap();
    let tight = print(&a, &(used_a / 3).to_string());
    assert_eq!(tight.status.code(), Some(0), "{}", stderr(&tight));
    assert!(tight.stdout == first.stdout, "the same list whatever the cache holds");
    assert!(stderr(&tight).contains("does not fit under the cache's size limit"), "{}", stderr(&tight));
    let (used, files) = used_and_indexed(&cache);
    assert_eq!(files, 0);
    assert!(used <= used_a / 3, "{used}");
}

/// What a consumer of a load ends up with: every event as text (its fields, ids, resource
/// index, where its record is), and what it was told besides.
#[derive(Default)]
struct Consumed {
    events: Vec<String>,
    /// The same without where each record lies.
    contents: Vec<String>,
    problems: Vec<String>,
    infos: Vec<String>,
    warnings: Vec<String>,
    coverage: Vec<String>,
    done: Option<trailscope::source::LoadStats>,
    /// How many times what was sent was withdrawn, and the events withdrawn.
    restarts: usize,
    withdrawn: usize,
}

fn consume(inputs: &[&Path], cache: Option<&Path>, max_bytes: u64) -> Consumed {
    consume_with(inputs, cache, max_bytes, false)
}

/// [`consume`] by a consumer that takes a load withdrawn (as the TUI does): it forgets what it
/// was sent when told to.
fn consume_with(inputs: &[&Path], cache: Option<&Path>, max_bytes: u64, withdrawable: bool) -> Consumed {
    use trailscope::model::raw::RawReader;
    use trailscope::model::{EventStore, SymField};
    use trailscope::source::{load, LoadOptions, SourceMsg};
    let raw = RawReader::new(1 << 20);
    let mut store = EventStore::default();
    let cache = cache.map(|d| trailscope::cache::CacheConfig { dir: d.to_path_buf(), max_bytes });
    let opts = LoadOptions { threads: 2, cache, withdrawable, ..Default::default() };
    let inputs: Vec<String> = inputs.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let mut out = Consumed::default();
    load(&inputs, &opts, &raw, &mut |m| match m {
        SourceMsg::Restart => {
            assert!(withdrawable, "withdrawn from a consumer that does not take it");
            let withdrawn = out.withdrawn + store.events.len();
            out = Consumed { restarts: out.restarts + 1, withdrawn, ..Default::default() };
            store = EventStore::default();
            raw.clear();
        }
        SourceMsg::Files(f) => store.add_files(f),
        SourceMsg::Batch(b, _) => {
            store.apply(b);
        }
        SourceMsg::Problem(p) => out.problems.push(format!("problem {} {} {}", p.input, p.reason, p.skipped)),
        SourceMsg::Note(p) => out.problems.push(format!("note {} {} {}", p.input, p.reason, p.skipped)),
        SourceMsg::Info(t) => out.infos.push(t),
        SourceMsg::Warning(t) => out.warnings.push(t),
        SourceMsg::Coverage(c) => out.coverage.push(format!("{} {:?}", c.part, c.spans)),
        SourceMsg::Done(s) => out.done = Some(s),
        _ => {}
    });
    const FIELDS: [SymField; 14] = [
        SymField::Principal,
        SymField::Arn,
        SymField::AccessKey,
        SymField::Ip,
        SymField::Agent,
        SymField::Name,
        SymField::Source,
        SymField::Region,
        SymField::IdentityType,
        SymField::Account,
        SymField::IdentityAccount,
        SymField::Error,
        SymField::Category,
        SymField::EventType,
    ];
    for ev in &store.events {
        let fields: Vec<&str> = FIELDS.iter().map(|&f| store.sym(ev, f)).collect();
        let index: Vec<&str> = store.index_syms(ev).iter().map(|&s| store.syms.get(s)).collect();
        let file = store.file_of(ev).map(|f| f.path.clone());
        out.contents.push(format!(
            "{} {fields:?} {} {} {index:?} {}+{} {}",
            ev.time(),
            store.event_id(ev, &raw),
            store.request_id(ev, &raw),
            ev.res_len(),
            ev.par_len(),
            ev.flags()
        ));
        out.events.push(format!(
            "{} {fields:?} {} {} {index:?} {}+{} {file:?} {} {}",
            ev.time(),
            store.event_id(ev, &raw),
            store.request_id(ev, &raw),
            ev.res_len(),
            ev.par_len(),
            ev.loc.offset,
            ev.flags()
        ));
    }
    out
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// Checks `got` against a load without the cache of the same inputs, whatever the order the
/// events were loaded in.
fn assert_same_events(got: &Consumed, want: &Consumed, what: &str) {
    assert_eq!(got.events.len(), want.events.len(), "{what}: events");
    assert!(sorted(&got.events) == sorted(&want.events), "{what}: the same events, with the same fields");
    assert_eq!(sorted(&got.problems), sorted(&want.problems), "{what}: problems and notes");
    assert_eq!(got.coverage, want.coverage, "{what}: coverage");
    assert_eq!(got.done, want.done, "{what}: the final counts");
}

fn stored_loads(cache: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(cache.join("loads"))
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn read_back(c: &Consumed) -> bool {
    c.infos.iter().any(|i| i.contains("files back from the cache"))
}

/// Checks `got` against a load without the cache of the same inputs.
fn assert_same_load(got: &Consumed, want: &Consumed, what: &str) {
    assert_eq!(got.events.len(), want.events.len(), "{what}: events");
    assert!(got.events == want.events, "{what}: the same events, in the same order, with the same fields");
    assert_eq!(got.problems, want.problems, "{what}: problems and notes");
    assert_eq!(got.coverage, want.coverage, "{what}: coverage");
    assert_eq!(got.done, want.done, "{what}: the final counts");
}

#[test]
fn a_whole_load_is_stored_and_sent_again_only_for_the_same_unchanged_files() {
    let dir = tempfile::tempdir().unwrap();
    let archive = generate(dir.path(), "archive", 600, 2, 11, 3600, 86_400);
    // Real records besides: a JSON Lines corpus with copies, ids reused for other events and
    // records without an eventID, and arrays of records.
    let inputs = [archive.as_path(), &panther(), &stratus()];
    let cache = dir.path().join("cache");
    let plain = consume(&inputs, None, u64::MAX);
    assert!(plain.done.as_ref().unwrap().duplicates > 0, "the real records hold copies");
    assert!(plain.events.len() > 1300, "{}", plain.events.len());

    let first = consume(&inputs, Some(&cache), u64::MAX);
    assert_same_load(&first, &plain, "the load that stores");
    assert!(!read_back(&first));
    assert_eq!(stored_loads(&cache).len(), 1, "one stored load, nothing else left in its directory");

    let second = consume(&inputs, Some(&cache), u64::MAX);
    assert!(read_back(&second), "{:?} {:?}", second.infos, second.warnings);
    assert_same_load(&second, &plain, "read back");
    assert!(second.warnings.is_empty(), "{:?}", second.warnings);

    // A file touched: its content may have changed, so every file is loaded (the unchanged
    // ones from the archive index) and the load is stored again.
    let files: Vec<PathBuf> = trailscope::source::discover(&[archive.to_string_lossy().into_owned()], &mut Vec::new())
        .into_iter()
        .map(|f| f.path)
        .collect();
    let touched = &files[5];
    set_mtime(touched, std::fs::metadata(touched).unwrap().modified().unwrap() + Duration::from_secs(1));
    let c = consume(&inputs, Some(&cache), u64::MAX);
    assert!(!read_back(&c), "a changed file is read");
    assert_same_load(&c, &plain, "after a file changed");
    assert!(read_back(&consume(&inputs, Some(&cache), u64::MAX)), "stored again");
    assert_eq!(stored_loads(&cache).len(), 1, "the new one replaced the old");

    // A file added: the stored load is read back, the new file loaded after it, and the
    // whole stored again. The same events as a load without the cache, in another load order
    // (the new file's events come last), which the list's time order does not show.
    let extra = generate(dir.path(), "extra", 7, 1, 78, 3600, 600);
    let extra_file = trailscope::source::discover(&[extra.to_string_lossy().into_owned()], &mut Vec::new())
        .into_iter()
        .find(|f| f.path.to_string_lossy().ends_with(".json.gz"))
        .unwrap()
        .path;
    let added = archive.join("added.json.gz");
    std::fs::copy(&extra_file, &added).unwrap();
    let with_added = consume(&inputs, None, u64::MAX);
    let c = consume(&inputs, Some(&cache), u64::MAX);
    assert!(c.infos.iter().any(|i| i.contains("then the 1 file added since")), "{:?}", c.infos);
    assert_same_events(&c, &with_added, "with a file added");
    assert!(c.events.len() > plain.events.len());
    let again = consume(&inputs, Some(&cache), u64::MAX);
    assert!(read_back(&again) && !again.infos.iter().any(|i| i.contains("added since")), "{:?}", again.infos);
    assert_same_events(&again, &with_added, "stored again with the file added");
    // A copy of a file already loaded, added: every event in it is found a copy of one read
    // back (compared by content, as their bytes' hashes are not stored).
    let copied = archive.join("copied.json.gz");
    std::fs::copy(&files[2], &copied).unwrap();
    let fresh = consume(&inputs, None, u64::MAX);
    let c = consume(&inputs, Some(&cache), u64::MAX);
    assert!(c.infos.iter().any(|i| i.contains("then the 1 file added since")), "{:?}", c.infos);
    assert_eq!(c.done, fresh.done, "the same counts: copies collapsed");
    assert_eq!(c.events.len(), with_added.events.len());
    assert_eq!(sorted(&c.contents), sorted(&fresh.contents), "the same events, wherever each copy was kept");
    std::fs::remove_file(&copied).unwrap();
    // A file removed: the stored load is not read back.
    std::fs::remove_file(&added).unwrap();
    let c = consume(&inputs, Some(&cache), u64::MAX);
    assert!(!read_back(&c), "a removed file is missed");
    assert_same_load(&c, &plain, "with the file removed again");

    // Damaged in the middle, or cut short: refused whole, said, and the files are read.
    for (damage, says) in [("flip", "is damaged"), ("cut", "bytes where its header says")] {
        let stored = &stored_loads(&cache)[0];
        let mut bytes = std::fs::read(stored).unwrap();
        match damage {
            "flip" => {
                let mid = bytes.len() / 2;
                bytes[mid] ^= 0x20;
            }
            _ => bytes.truncate(bytes.len() - 100),
        }
        std::fs::write(stored, &bytes).unwrap();
        let c = consume(&inputs, Some(&cache), u64::MAX);
        assert!(!read_back(&c), "{damage}");
        assert!(c.warnings.iter().any(|w| w.contains(says)), "{damage}: {:?}", c.warnings);
        assert_same_load(&c, &plain, damage);
        let again = consume(&inputs, Some(&cache), u64::MAX);
        assert!(read_back(&again), "{damage}: stored again whole");
        assert_same_load(&again, &plain, damage);
    }
}

/// Read as it is checked (the TUI's way: its first events at once), a stored load damaged part
/// way through is withdrawn once the damage is read, after events were sent; the files are
/// read instead, and the consumer ends with the same load as without the cache.
#[test]
fn a_stored_load_found_damaged_part_way_through_is_withdrawn_and_the_files_read() {
    // Chunks of 4 KiB: the damage lands after the first frames (each stored load says its own
    // chunk, so the other tests read theirs whatever this sets).
    trailscope::cache::loads::set_chunk_log2(12);
    let dir = tempfile::tempdir().unwrap();
    let archive = generate(dir.path(), "archive", 600, 2, 12, 3600, 86_400);
    let inputs = [archive.as_path(), &panther(), &stratus()];
    let cache = dir.path().join("cache");
    let plain = consume(&inputs, None, u64::MAX);
    consume(&inputs, Some(&cache), u64::MAX);
    let c = consume_with(&inputs, Some(&cache), u64::MAX, true);
    assert!(read_back(&c) && c.restarts == 0 && c.warnings.is_empty(), "{:?} {:?}", c.infos, c.warnings);
    assert_same_load(&c, &plain, "read back as checked");

    let stored = &stored_loads(&cache)[0];
    let good = std::fs::read(stored).unwrap();
    // The frames are the payload up to files-at (header: magic, version, chunk, 2, payload,
    // files-at), after a header of 48 bytes.
    let files_at = u64::from_le_bytes(good[16..24].try_into().unwrap()) as usize;
    let at = 48 + files_at * 3 / 4;
    let mut bad = good.clone();
    bad[at] ^= 0x20;
    std::fs::write(stored, &bad).unwrap();
    let c = consume_with(&inputs, Some(&cache), u64::MAX, true);
    assert_eq!(c.restarts, 1, "{:?}", c.warnings);
    assert!(c.withdrawn > 0, "events were sent before the damage was read");
    assert!(c.warnings.iter().any(|w| w.contains("is damaged (bytes")), "{:?}", c.warnings);
    assert!(!read_back(&c));
    assert_same_load(&c, &plain, "withdrawn, then the files read");
    let again = consume_with(&inputs, Some(&cache), u64::MAX, true);
    assert!(read_back(&again) && again.restarts == 0, "stored again whole: {:?}", again.warnings);
    assert_same_load(&again, &plain, "stored again");

    // Checked whole first (`print`'s way), the same damage refuses it before anything is sent.
    std::fs::write(stored, &bad).unwrap();
    let c = consume(&inputs, Some(&cache), u64::MAX);
    assert!(c.restarts == 0 && c.warnings.iter().any(|w| w.contains("is damaged")), "{:?}", c.warnings);
    assert_same_load(&c, &plain, "refused whole");
}

#[test]
fn stored_loads_count_against_the_size_limit_and_the_cache_command_shows_and_clears_them() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let archives: Vec<PathBuf> =
        (0..6).map(|i| generate(dir.path(), &format!("a{i}"), 60, 1, 30 + i as u64, 3600, 7200)).collect();
    // Too small a limit: nothing stored, and nothing half written left behind.
    consume(&[&archives[0]], Some(&cache), 64 << 10);
    assert!(stored_loads(&cache).is_empty(), "{:?}", stored_loads(&cache));
    // Each set of inputs has its own; the ones used last are kept.
    for (i, a) in archives.iter().enumerate() {
        consume(&[a], Some(&cache), u64::MAX);
        assert_eq!(stored_loads(&cache).len(), (i + 1).min(4), "stored");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(stored_loads(&cache).len(), 4, "at most four");
    assert!(read_back(&consume(&[&archives[5]], Some(&cache), u64::MAX)));
    assert!(!read_back(&consume(&[&archives[0]], Some(&cache), u64::MAX)), "the oldest made room");
    let o = cache_command(&cache, &["stats"]).output().unwrap();
    let stats = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(stats.contains("loads:     4 stored whole, taking"), "{stats}");
    // One not used for two days goes with a prune of what is older than a day.
    let old = stored_loads(&cache)[0].clone();
    set_mtime(&old, std::time::SystemTime::now() - Duration::from_secs(2 * 86_400));
    let o = cache_command(&cache, &["prune", "--older-than", "1d"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("and 1 stored loads unused since then"), "{}", stderr(&o));
    assert_eq!(stored_loads(&cache).len(), 3);
    assert!(!old.exists());
    let o = cache_command(&cache, &["clear"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stored_loads(&cache).is_empty());
    assert!(!read_back(&consume(&[&archives[5]], Some(&cache), u64::MAX)));
}
