//! Trail archives straight from S3, against a real S3 server (`moto_server`) on loopback with
//! a counting, fault-injecting proxy in front: what `print s3://…` prints is what `print` of
//! the same archive on disk prints, event for event, and the requests show the pruning.

mod common;
#[path = "common/s3.rs"]
mod s3h;

use s3h::{Fault, Proxy, Seen};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// 2026-01-01T00:00:00Z: the newest event of the generated archives.
const END: i64 = 1_767_225_600;

fn generate(dir: &Path, name: &str, events: usize, per_file: usize, days: i64, accounts: usize, seed: u64) -> PathBuf {
    let out = dir.join(name);
    let opts = trailscope_gen::GenOptions {
        events,
        per_file,
        seed,
        end_time: END,
        span_secs: days * 86_400,
        accounts,
        regions: 3,
        hostile: false,
        gzip_level: 1,
        digests: true,
        organization: None,
        signing_key: None,
    };
    trailscope_gen::generate(&opts, &out).unwrap();
    out
}

/// Uploads every file of `archive` under `prefix` (`""` or ending in `/`), keys rewritten by `map`.
fn upload(bucket: &str, archive: &Path, prefix: &str, map: impl Fn(&str) -> String) {
    let objects = s3h::files_under(archive).into_iter().map(|(k, b)| (format!("{prefix}{}", map(&k)), b)).collect();
    s3h::put_objects(bucket, objects);
}

fn trailscope(args: &[&str], cache: Option<&Path>) -> Output {
    let mut cmd = Command::new(common::bin());
    s3h::aws_env(&mut cmd);
    match cache {
        Some(dir) => cmd.env("TRAILSCOPE_CACHE_DIR", dir).env_remove("TRAILSCOPE_NO_CACHE"),
        None => cmd.env("TRAILSCOPE_NO_CACHE", "1"),
    };
    cmd.args(args).output().expect("run trailscope")
}

/// `print` of `inputs` through the proxy, in a window.
fn print(proxy: &Proxy, inputs: &[&str], extra: &[&str], cache: Option<&Path>) -> Output {
    let url = proxy.url();
    let mut args = vec!["print", "--endpoint-url", url.as_str()];
    args.extend_from_slice(extra);
    args.extend_from_slice(inputs);
    trailscope(&args, cache)
}

fn sorted_lines(o: &Output) -> Vec<String> {
    let mut l = common::stdout_lines(o);
    l.sort();
    l
}

/// The delivery minute in a log file's name, in epoch seconds.
fn delivered(key: &str) -> Option<i64> {
    let name = key.rsplit('/').next()?;
    let stamp = name.split('_').nth(3)?;
    let t = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%MZ").ok()?;
    Some(t.and_utc().timestamp())
}

fn secs(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

/// Log files of an archive (not digests) whose delivery can hold events of the window.
fn wanted_files(archive: &Path, since: &str, until: &str, lag: i64) -> BTreeSet<String> {
    s3h::files_under(archive)
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| k.contains("/CloudTrail/"))
        .filter(|k| delivered(k).is_some_and(|d| d + 60 > secs(since) && d <= secs(until) + lag))
        .collect()
}

fn gets(seen: &[Seen]) -> Vec<String> {
    seen.iter().filter(|s| s.is_get_object()).map(|s| s.path()).collect()
}

fn list_prefixes(seen: &[Seen]) -> Vec<String> {
    seen.iter().filter(|s| s.is_list()).map(|s| s.param("prefix").unwrap_or_default()).collect()
}

#[test]
fn print_of_a_trail_in_s3_is_print_of_the_same_archive_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let archive = generate(dir.path(), "archive", 3000, 30, 3, 2, 11);
    let decoy = generate(dir.path(), "decoy", 300, 30, 3, 2, 12);
    s3h::create_bucket("ts-equal");
    upload("ts-equal", &archive, "trail/", |k| k.to_string());
    // Another trail's copy beside it: never read.
    upload("ts-equal", &decoy, "decoy/", |k| k.to_string());
    let (since, until) = ("2025-12-30T19:00:00Z", "2025-12-31T02:00:00Z");
    let window = ["--since", since, "--until", until];
    let proxy = Proxy::start();
    let remote = print(&proxy, &["s3://ts-equal/trail"], &window, None);
    let err = common::stderr(&remote);
    assert_eq!(remote.status.code(), Some(0), "{err}");
    let local = trailscope(&["print", "--since", since, "--until", until, archive.to_str().unwrap()], None);
    assert_eq!(local.status.code(), Some(0));
    let (got, want) = (sorted_lines(&remote), sorted_lines(&local));
    assert!(want.len() > 100, "the window holds events: {}", want.len());
    assert_eq!(got.len(), want.len(), "{err}");
    assert_eq!(got, want, "the same records, byte for byte");
    let values = common::jsonl_values(&remote);
    let times: Vec<&str> = values.iter().map(|v| v["eventTime"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    // Only the trail's prefix was read, only the files the window needs were fetched.
    let seen = proxy.seen();
    assert!(list_prefixes(&seen).iter().all(|p| p.starts_with("trail/AWSLogs/")), "{:?}", list_prefixes(&seen));
    let fetched: BTreeSet<String> =
        gets(&seen).iter().map(|p| p.strip_prefix("/ts-equal/trail/").unwrap().to_string()).collect();
    assert_eq!(fetched, wanted_files(&archive, since, until, 3600));
    assert_eq!(gets(&seen).len(), fetched.len(), "each object once");
    assert!(err.contains("s3: 2 accounts × 3 regions × 2 days"), "{err}");
    assert!(err.contains(&format!("· {} objects · lag 1h", fetched.len())), "{err}");
}

#[test]
fn a_day_of_a_30_day_bucket_lists_only_that_day_and_fetches_only_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let archive = generate(dir.path(), "archive", 6000, 10, 30, 2, 21);
    s3h::create_bucket("ts-month");
    upload("ts-month", &archive, "", |k| k.to_string());
    let (since, until) = ("2025-12-15T08:00:00Z", "2025-12-15T20:00:00Z");
    let proxy = Proxy::start();
    let o = print(&proxy, &["s3://ts-month"], &["--since", since, "--until", until], None);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let seen = proxy.seen();
    let days: BTreeSet<String> = list_prefixes(&seen)
        .iter()
        .filter(|p| p.matches('/').count() >= 7)
        .map(|p| p.rsplitn(5, '/').skip(1).take(3).collect::<Vec<_>>().join("-"))
        .collect();
    assert_eq!(days, BTreeSet::from(["15-12-2025".to_string()]), "only the day's prefixes are listed: {seen:?}");
    // 2 accounts × 3 regions day prefixes, plus the levels above them (AWSLogs/, accounts).
    let lists = list_prefixes(&seen).len();
    assert!(lists <= 6 + 1 + 2, "{lists} list requests");
    let fetched: BTreeSet<String> =
        gets(&seen).iter().map(|p| p.strip_prefix("/ts-month/").unwrap().to_string()).collect();
    let wanted = wanted_files(&archive, since, until, 3600);
    assert!(wanted.len() < s3h::files_under(&archive).len() / 20, "a day is a small part of the month");
    assert_eq!(fetched, wanted);
    let local = trailscope(&["print", "--since", since, "--until", until, archive.to_str().unwrap()], None);
    assert_eq!(sorted_lines(&o), sorted_lines(&local));
}

#[test]
fn an_organisation_trail_is_pruned_by_account_and_region_terms() {
    let dir = tempfile::tempdir().unwrap();
    let archive = generate(dir.path(), "archive", 1500, 15, 2, 3, 31);
    s3h::create_bucket("ts-org");
    upload("ts-org", &archive, "org/", |k| k.replacen("AWSLogs/", "AWSLogs/o-abc123def4/", 1));
    let accounts: Vec<String> = std::fs::read_dir(archive.join("AWSLogs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(accounts.len(), 3);
    let acct = &accounts[1];
    let filter = format!("account:={acct} region:=us-east-1");
    let (since, until) = ("2025-12-30T06:00:00Z", "2025-12-31T18:00:00Z");
    let proxy = Proxy::start();
    let o = print(&proxy, &["s3://ts-org/org/"], &["--since", since, "--until", until, "--filter", &filter], None);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let seen = proxy.seen();
    for p in list_prefixes(&seen) {
        let allowed = p == "org/AWSLogs/"
            || p == "org/AWSLogs/o-abc123def4/"
            || p.starts_with(&format!("org/AWSLogs/o-abc123def4/{acct}/CloudTrail/"));
        assert!(allowed, "listed {p}");
        if p.matches('/').count() >= 7 {
            assert!(p.contains("/us-east-1/"), "listed {p}");
        }
    }
    assert!(gets(&seen).iter().all(|g| g.contains(&format!("/{acct}/CloudTrail/us-east-1/"))));
    assert!(err.contains("s3: 1 account × 1 region × 2 days"), "{err}");
    assert!(err.contains(&format!("accounts {}", accounts.join(" "))), "the accounts found are named: {err}");
    let sub = archive.join(format!("AWSLogs/{acct}/CloudTrail/us-east-1"));
    let local =
        trailscope(&["print", "--since", since, "--until", until, "--filter", &filter, sub.to_str().unwrap()], None);
    let want = sorted_lines(&local);
    assert!(!want.is_empty());
    assert_eq!(sorted_lines(&o), want);
}

#[test]
fn faults_are_retried_or_named_and_nothing_is_lost_or_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let archive = generate(dir.path(), "archive", 1200, 20, 1, 1, 41);
    s3h::create_bucket("ts-faults");
    upload("ts-faults", &archive, "", |k| k.to_string());
    let (since, until) = ("2025-12-31T00:00:00Z", "2026-01-01T00:00:00Z");
    let mut keys: Vec<String> = wanted_files(&archive, since, until, 3600).into_iter().collect();
    assert!(keys.len() >= 8);
    keys.sort();
    // Two more objects in the layout: one that is not gzip nor JSON, one truncated gzip.
    let day_dir = keys[0].rsplit_once('/').unwrap().0.to_string();
    let acct = day_dir.split('/').nth(1).unwrap().to_string();
    let junk = format!("{day_dir}/{acct}_CloudTrail_us-east-1_20251231T1200Z_JUNKJUNKJUNKJUNK.json.gz");
    let cut = format!("{day_dir}/{acct}_CloudTrail_us-east-1_20251231T1205Z_CUTCUTCUTCUTCUTC.json.gz");
    let whole = common::gzip(br#"{"Records":[{"eventID":"cut-1","eventTime":"2025-12-31T12:00:00Z"}]}"#);
    s3h::put_objects(
        "ts-faults",
        vec![(junk.clone(), b"<html>not a trail</html>".to_vec()), (cut.clone(), whole[..whole.len() / 2].to_vec())],
    );
    let (slow, broken, dropped, denied) = (keys[1].clone(), keys[2].clone(), keys[3].clone(), keys[4].clone());
    let kms = keys[5].clone();
    let rule = {
        let (slow, broken, dropped, denied, kms) =
            (slow.clone(), broken.clone(), dropped.clone(), denied.clone(), kms.clone());
        move |s: &Seen, before: usize| {
            let path = s.path();
            if !s.is_get_object() {
                Fault::Pass
            } else if path.ends_with(&slow) && before < 2 {
                Fault::Error(503, "SlowDown")
            } else if path.ends_with(&broken) && before < 1 {
                Fault::Error(500, "InternalError")
            } else if path.ends_with(&dropped) && before < 1 {
                Fault::Cut
            } else if path.ends_with(&denied) {
                Fault::Error(403, "AccessDenied")
            } else if path.ends_with(&kms) {
                Fault::KmsDenied
            } else {
                Fault::Pass
            }
        }
    };
    let proxy = Proxy::with_faults(rule);
    let o = print(&proxy, &["s3://ts-faults"], &["--since", since, "--until", until], None);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(3), "some objects could not be read: {err}");
    assert!(err.contains(&format!("s3:GetObject denied on arn:aws:s3:::ts-faults/{denied}")), "{err}");
    assert!(err.contains(&format!("kms:Decrypt denied for s3://ts-faults/{kms}")), "{err}");
    assert!(err.contains(&junk) && err.contains(&cut), "each problem names its object: {err}");
    assert!(err.contains("truncated gzip"), "{err}");
    for k in [&slow, &broken, &dropped] {
        assert!(!err.contains(k.as_str()), "{k} was retried and read: {err}");
    }
    // Everything but the denied object, once each.
    let without = dir.path().join("without-denied");
    std::fs::create_dir(&without).unwrap();
    for (k, b) in s3h::files_under(&archive) {
        if k != denied && k != kms {
            let p = without.join(&k);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b).unwrap();
        }
    }
    let local = trailscope(&["print", "--since", since, "--until", until, without.to_str().unwrap()], None);
    let got = sorted_lines(&o);
    assert_eq!(got, sorted_lines(&local));
    let unique: BTreeSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "nothing doubled");
    let retried = proxy.seen().iter().filter(|s| s.path().ends_with(&slow)).count();
    assert_eq!(retried, 3, "SlowDown twice, then read");
}

#[test]
fn a_missing_bucket_and_a_prefix_without_the_layout_say_what_to_do() {
    s3h::create_bucket("ts-nolayout");
    s3h::put_objects(
        "ts-nolayout",
        vec![("exports/2025/a.csv".into(), b"x".to_vec()), ("readme.txt".into(), b"x".to_vec())],
    );
    let proxy = Proxy::start();
    let o = print(&proxy, &["s3://ts-nolayout"], &["--since", "2d"], None);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("no CloudTrail layout under s3://ts-nolayout"), "{err}");
    assert!(err.contains("exports/") && err.contains("readme.txt"), "says what is there: {err}");
    let denied = Proxy::with_faults(|s, _| if s.is_list() { Fault::Error(403, "AccessDenied") } else { Fault::Pass });
    let o = print(&denied, &["s3://ts-nolayout/trail"], &[], None);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("s3:ListBucket denied on arn:aws:s3:::ts-nolayout (prefix 'trail/AWSLogs/')"), "{err}");
    assert_eq!(denied.seen().len(), 1, "a denied listing is not asked again");
    let o = print(&proxy, &["s3://ts-no-such-bucket-here"], &[], None);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("no such bucket 'ts-no-such-bucket-here'"), "{err}");
    let o = print(&proxy, &["s3://Bad_Name"], &[], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(common::stderr(&o).contains("is not an S3 bucket name"));
}

#[test]
fn a_closed_window_asked_again_makes_no_request_and_works_offline() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let archive = generate(dir.path(), "archive", 1500, 15, 3, 2, 51);
    s3h::create_bucket("ts-cache");
    upload("ts-cache", &archive, "", |k| k.to_string());
    let window = ["--since", "2025-12-30T10:00:00Z", "--until", "2025-12-31T10:00:00Z"];
    let proxy = Proxy::start();
    let first = print(&proxy, &["s3://ts-cache"], &window, Some(&cache));
    assert_eq!(first.status.code(), Some(0), "{}", common::stderr(&first));
    let fetched = gets(&proxy.seen()).len();
    assert!(fetched > 10);
    // The window closed long ago: its listings are complete, its objects are stored (by
    // endpoint: the same proxy is asked again).
    proxy.clear();
    let again = print(&proxy, &["s3://ts-cache"], &window, Some(&cache));
    let err = common::stderr(&again);
    assert_eq!(again.status.code(), Some(0), "{err}");
    assert_eq!(proxy.seen(), vec![], "no request at all: {err}");
    assert_eq!(sorted_lines(&again), sorted_lines(&first));
    assert!(err.contains(&format!("({fetched} from the cache")), "{err}");
    // Offline, with the server gone (as far as trailscope knows: nothing may reach it).
    let mut args = vec!["print", "--offline"];
    args.extend_from_slice(&window);
    let url = proxy.url();
    args.extend_from_slice(&["--endpoint-url", url.as_str(), "s3://ts-cache"]);
    proxy.clear();
    let offline = trailscope(&args, Some(&cache));
    assert_eq!(offline.status.code(), Some(0), "{}", common::stderr(&offline));
    assert_eq!(sorted_lines(&offline), sorted_lines(&first));
    assert_eq!(proxy.seen(), vec![]);
    // A window that reaches past what was listed lists and fetches only the new part: the
    // day directories it shares with the first window are complete and not listed again.
    let wider_window = ["--since", "2025-12-30T10:00:00Z", "--until", "2025-12-31T23:00:00Z"];
    let wider = print(&proxy, &["s3://ts-cache"], &wider_window, Some(&cache));
    assert_eq!(wider.status.code(), Some(0));
    let seen = proxy.seen();
    let relisted: Vec<String> = list_prefixes(&seen).into_iter().filter(|p| p.contains("/2025/12/30/")).collect();
    assert_eq!(relisted, Vec::<String>::new(), "a complete day is not listed again");
    let refetched = gets(&seen).iter().filter(|g| g.contains("/2025/12/30/")).count();
    assert_eq!(refetched, 0, "stored objects are not fetched again");
    assert!(!gets(&seen).is_empty(), "the new part is fetched");
}

#[test]
fn a_trail_named_with_trail_is_read_from_the_bucket_and_prefix_describe_trails_gives() {
    let dir = tempfile::tempdir().unwrap();
    let archive = generate(dir.path(), "archive", 600, 20, 1, 1, 61);
    s3h::create_bucket("ts-trail");
    upload("ts-trail", &archive, "audit/", |k| k.to_string());
    let creds = aws_sdk_cloudtrail::config::Credentials::new("test", "test", None, None, "tests");
    let conf = aws_sdk_cloudtrail::Config::builder()
        .behavior_version(aws_sdk_cloudtrail::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudtrail::config::Region::new("us-east-1"))
        .endpoint_url(s3h::moto().url())
        .credentials_provider(creds)
        .build();
    let ct = aws_sdk_cloudtrail::Client::from_conf(conf);
    s3h::rt().block_on(async {
        ct.create_trail().name("audit-trail").s3_bucket_name("ts-trail").s3_key_prefix("audit").send().await.unwrap();
        ct.start_logging().name("audit-trail").send().await.unwrap();
    });
    let (since, until) = ("2025-12-31T06:00:00Z", "2025-12-31T18:00:00Z");
    let proxy = Proxy::start();
    let o = print(&proxy, &[], &["--trail", "audit-trail", "--since", since, "--until", until], None);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("trail audit-trail delivers to s3://ts-trail/audit"), "{err}");
    let local = trailscope(&["print", "--since", since, "--until", until, archive.to_str().unwrap()], None);
    let want = sorted_lines(&local);
    assert!(!want.is_empty());
    assert_eq!(sorted_lines(&o), want);
    // A trail that does not exist is named, with what to do.
    let o = print(&proxy, &[], &["--trail", "no-such-trail", "--since", since], None);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("no-such-trail"), "{err}");
}

/// The TUI on a trail in S3, in a real terminal (tmux): the events of the window, the S3
/// status in the status bar, and a record read back from its fetched object.
#[test]
fn the_tui_on_a_trail_in_s3_shows_its_events_the_s3_status_and_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let archive = generate(dir.path(), "archive", 900, 30, 2, 1, 71);
    s3h::create_bucket("ts-tui");
    upload("ts-tui", &archive, "", |k| k.to_string());
    let (since, until) = ("2025-12-31T00:00:00Z", "2025-12-31T12:00:00Z");
    let local = trailscope(&["print", "--since", since, "--until", until, archive.to_str().unwrap()], None);
    let events = sorted_lines(&local).len();
    assert!(events > 50, "the window holds events: {events}");
    let objects = wanted_files(&archive, since, until, 3600).len();

    let proxy = Proxy::start();
    let socket = format!("trailscope-s3-{}", std::process::id());
    let tmux = |args: &[&str]| {
        let mut cmd = Command::new("tmux");
        s3h::aws_env(&mut cmd).env("TRAILSCOPE_NO_CACHE", "1").arg("-L").arg(&socket).args(args);
        cmd.output().expect("tmux is required (.ci/run installs it)")
    };
    let screen = || String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", "s3"]).stdout).into_owned();
    let wait_for = |what: &str| {
        let start = std::time::Instant::now();
        loop {
            let s = screen();
            if s.contains(what) {
                return s;
            }
            assert!(start.elapsed().as_secs() < 30, "timed out waiting for {what:?}; screen:\n{s}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    let app = format!(
        "{} --endpoint-url {} --since {since} --until {until} s3://ts-tui; echo EXITED:$?; sleep 30",
        common::bin(),
        proxy.url()
    );
    assert!(tmux(&["-f", "/dev/null", "new-session", "-d", "-s", "s3", "-x", "140", "-y", "40", &app])
        .status
        .success());
    // Loaded: every object of the window, and the window's events (the objects also hold
    // events just outside it, loaded and filtered out).
    let s = wait_for(&format!("s3 {objects} objects · "));
    assert!(s.contains("fetched in"), "{s}");
    assert!(s.contains(&format!("Events · {events} ")), "{s}");
    // A record, read back from the object it came from.
    tmux(&["send-keys", "-t", "s3", "Enter"]);
    let s = wait_for("j/k scroll");
    assert!(s.contains("\"eventVersion\"") && s.contains("\"userIdentity\""), "{s}");
    assert!(s.contains("Detail ·") && s.contains("_CloudTrail_"), "the object it came from:\n{s}");
    tmux(&["send-keys", "-t", "s3", "Escape"]);
    std::thread::sleep(std::time::Duration::from_millis(150));
    tmux(&["send-keys", "-t", "s3", "q"]);
    let s = wait_for("EXITED:0");
    assert!(!s.contains("events ·"), "the terminal is restored:\n{s}");
    tmux(&["kill-server"]);
}
