//! `print` on inputs that go wrong in the middle, and options that ask for nothing: each
//! failure said once, counts that add up, the right exit status.

mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Output};
use trailscope::model::raw::RawReader;
use trailscope::print::{self, Format};
use trailscope_double::{Double, DoubleConfig, Faults};

#[test]
fn since_later_than_until_is_a_usage_error() {
    let data = stratus();
    let o =
        run(&["print", "--since", "2024-02-01T00:00:00Z", "--until", "2024-01-01T00:00:00Z", data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--since 2024-02-01T00:00:00Z is later than --until 2024-01-01T00:00:00Z"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
    // Equal bounds are a window of one instant, not an error.
    let o =
        run(&["print", "--since", "2024-01-01T00:00:00Z", "--until", "2024-01-01T00:00:00Z", data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn records_of_files_gone_since_loading_are_said_once_per_input_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut copies = Vec::new();
    for e in std::fs::read_dir(stratus()).unwrap() {
        let p = e.unwrap().path();
        let to = dir.path().join(p.file_name().unwrap());
        std::fs::copy(&p, &to).unwrap();
        copies.push(to);
    }
    let raw = RawReader::new(1 << 20);
    let loaded = print::load_all(&[dir.path().to_string_lossy().into_owned()], &raw, false);
    assert_eq!(loaded.stats.events, 310);
    // Half the files go away before the records are written.
    copies.sort();
    let gone: Vec<&std::path::PathBuf> = copies.iter().step_by(2).collect();
    for p in &gone {
        std::fs::remove_file(p).unwrap();
    }
    let shown = loaded.store.sorted_indices();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let store = &loaded.store;
    let event = |k: usize| store.events[shown[k] as usize];
    let unread =
        print::write_events(Format::Jsonl, None, store, &raw, shown.len(), &event, &mut out, &mut err).unwrap();
    let err = String::from_utf8(err).unwrap();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), gone.len(), "one line per input:\n{err}");
    for p in &gone {
        let name = p.file_name().unwrap().to_str().unwrap();
        assert_eq!(lines.iter().filter(|l| l.contains(name)).count(), 1, "{name}:\n{err}");
    }
    let said: usize = lines
        .iter()
        .map(|l| l.split("could not read back ").nth(1).unwrap().split(' ').next().unwrap().parse::<usize>().unwrap())
        .sum();
    let written = out.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(said, unread);
    assert_eq!(written + unread, shown.len(), "printed and not read back add up to what matched");
    assert!(unread > 0 && written > 0);
}

/// `print` of live history from `endpoint`, with test credentials and nothing of the user's.
fn live_command(endpoint: &str, cache: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg("print").arg("--endpoint-url").arg(endpoint).arg("--cache-dir").arg(cache).args(args);
    for v in ["AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"] {
        cmd.env_remove(v);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "AKIDTRAILSCOPEHARD")
        .env("AWS_SECRET_ACCESS_KEY", "not-a-secret")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

fn live(endpoint: &str, cache: &Path, args: &[&str]) -> Output {
    live_command(endpoint, cache, args).output().unwrap()
}

#[test]
fn every_request_failing_is_nothing_read() {
    let dir = tempfile::tempdir().unwrap();
    let archive = recent_archive(dir.path(), 100, 1, 3, 3600, 6 * 3600);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let faults = Faults { deny_keys: vec!["AKIDTRAILSCOPEHARD".into()], ..Default::default() };
    let d = rt.block_on(Double::start(&archive, 0, DoubleConfig { faults, ..Default::default() })).unwrap();
    let cache = dir.path().join("cache");
    // With the cache (which has nothing for the window) and without.
    for extra in [&[][..], &["--no-cache"][..]] {
        let mut args = vec!["--region", "us-east-1", "--since", "1d"];
        args.extend_from_slice(extra);
        let o = live(&d.endpoint(), &cache, &args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("AccessDenied"), "{}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
}

/// A double on a generated archive of `events` recent events in one region, and its runtime.
fn double_on(dir: &Path, events: usize) -> (Double, tokio::runtime::Runtime) {
    let archive = recent_archive(dir, events, 1, 7, 3600, 6 * 3600);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let d = rt.block_on(Double::start(&archive, 0, DoubleConfig::default())).unwrap();
    (d, rt)
}

#[test]
fn live_print_of_one_region_writes_the_same_bytes_as_gathering_first() {
    let dir = tempfile::tempdir().unwrap();
    let (d, _rt) = double_on(dir.path(), 260);
    let cache = dir.path().join("cache");
    for format in ["jsonl", "json", "csv"] {
        // One region is streamed; the same region named twice goes the gathering way.
        let streamed =
            live(&d.endpoint(), &cache, &["--no-cache", "--region", "us-east-1", "--since", "1d", "--format", format]);
        let gathered = live(
            &d.endpoint(),
            &cache,
            &["--no-cache", "--region", "us-east-1,us-east-1", "--since", "1d", "--format", format],
        );
        assert_eq!(streamed.status.code(), Some(0), "{}", stderr(&streamed));
        assert_eq!(gathered.status.code(), Some(0), "{}", stderr(&gathered));
        assert!(streamed.stdout.len() > 1000, "{format}");
        assert!(streamed.stdout == gathered.stdout, "{format}: streamed output differs");
    }
    // With the cache: the first run fills it, the second is answered from it; both streamed.
    let first = live(&d.endpoint(), &cache, &["--region", "us-east-1", "--since", "1d"]);
    let again = live(&d.endpoint(), &cache, &["--region", "us-east-1", "--since", "1d"]);
    let values = |o: &Output| jsonl_values(o).iter().map(|v| v["eventID"].to_string()).collect::<Vec<_>>();
    assert_eq!(values(&first).len(), 260, "{}", stderr(&first));
    let (mut a, mut b) = (values(&first), values(&again));
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert!(stderr(&again).contains("cache 260"), "{}", stderr(&again));
}

#[test]
fn live_print_of_one_region_shows_the_first_page_before_fetching_the_rest() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    // 12 pages of 50, at the service's pace of 2 requests a second: several seconds in all.
    let (d, _rt) = double_on(dir.path(), 600);
    let cache = dir.path().join("cache");
    let mut cmd = live_command(&d.endpoint(), &cache, &["--no-cache", "--region", "us-east-1", "--since", "1d"]);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // `| head -1`: the reader has what it wanted and goes away (the pipe closes here).
    assert!(first.contains("eventID"), "{first}");
    let status = child.wait().unwrap();
    let asked = d.log().iter().filter(|e| e.status == Some(200)).count();
    assert!(asked < 12, "the fetch stopped when the reader went away, not after every page ({asked} pages)");
    let _ = status;
}

#[test]
fn event_times_that_cannot_be_read_are_counted_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("times.jsonl");
    let lines = [
        r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"Fine","eventID":"1"}"#,
        r#"{"eventTime":"yesterday","eventName":"Words","eventID":"2"}"#,
        r#"{"eventTime":null,"eventName":"Null","eventID":"3"}"#,
        r#"{"eventTime":"10000-01-01T00:00:00Z","eventName":"Far","eventID":"4"}"#,
        r#"{"eventTime":"2024-02-30T00:00:00Z","eventName":"NoSuchDay","eventID":"5"}"#,
    ];
    std::fs::write(&path, lines.join("\n")).unwrap();
    let o = run(&["print", "--format", "csv", path.to_str().unwrap()]);
    let err = stderr(&o);
    // Read in full: the exit status is 0, and the summary says how many have no time.
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("5 events read from 1 of 1 file,") && err.contains("4 events without a readable eventTime"),
        "{err}"
    );
    assert!(err.contains("note: ") && err.contains("times.jsonl: 4 records without a readable eventTime"), "{err}");
    assert_eq!(stdout_lines(&o).len(), 6, "a header and every event");
}
