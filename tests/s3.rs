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

/// A CloudTrail client straight to moto (which implements trails), for creating them.
fn cloudtrail() -> aws_sdk_cloudtrail::Client {
    let creds = aws_sdk_cloudtrail::config::Credentials::new("test", "test", None, None, "tests");
    let conf = aws_sdk_cloudtrail::Config::builder()
        .behavior_version(aws_sdk_cloudtrail::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudtrail::config::Region::new("us-east-1"))
        .endpoint_url(s3h::moto().url())
        .credentials_provider(creds)
        .build();
    aws_sdk_cloudtrail::Client::from_conf(conf)
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
    // The text: and resource: terms are decided as each object's records are parsed.
    let filter = format!("account:={acct} region:=us-east-1 -text:no-such-text resource:arn:aws");
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
    let ct = cloudtrail();
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
    wait_for(&format!("Events · {events} "));
    let s = wait_for(&format!("s3 {objects} objects · "));
    assert!(s.contains("fetched in"), "{s}");
    // A record, read back from the object it came from.
    tmux(&["send-keys", "-t", "s3", "Enter"]);
    // The detail pane has the keyboard (its keys in the status bar) once the key is taken;
    // the record is read off the UI thread ("reading record…" until it is in), and the pane
    // showed it as the list's selection before the key, so that alone says nothing of it.
    wait_for("j/k scroll");
    let s = wait_for("\"eventVersion\"");
    assert!(s.contains("\"userIdentity\""), "{s}");
    assert!(s.contains("Detail ·") && s.contains("_CloudTrail_"), "the object it came from:\n{s}");
    tmux(&["send-keys", "-t", "s3", "Escape"]);
    std::thread::sleep(std::time::Duration::from_millis(150));
    tmux(&["send-keys", "-t", "s3", "q"]);
    let s = wait_for("EXITED:0");
    assert!(!s.contains("events ·"), "the terminal is restored:\n{s}");
    tmux(&["kill-server"]);
}

// ---- verify s3://… ----------------------------------------------------------------------

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

/// A generated archive with signed digests, its public keys, and each digest's signature as
/// CloudTrail keeps it in the object's metadata (the newest from the generator's chain heads,
/// the others as their successor repeats them).
struct Signed {
    _dir: tempfile::TempDir,
    root: PathBuf,
    keys: PathBuf,
    /// The bucket the digests name (`digestS3Bucket`).
    bucket: String,
    signatures: std::collections::BTreeMap<String, String>,
}

fn signed_archive(seed: u64) -> Signed {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("arch");
    let opts = trailscope_gen::GenOptions {
        events: 600,
        per_file: 50,
        seed,
        span_secs: 6 * 3600,
        accounts: 1,
        regions: 2,
        hostile: false,
        gzip_level: 1,
        ..trailscope_gen::GenOptions::default()
    };
    let summary = trailscope_gen::generate(&opts, &root).unwrap();
    let keys = dir.path().join("keys.json");
    std::fs::write(&keys, trailscope_gen::public_keys_json(&opts).unwrap()).unwrap();
    let mut signatures: std::collections::BTreeMap<String, String> =
        summary.chain_heads.iter().map(|h| (h.key.clone(), h.signature.clone())).collect();
    let mut bucket = String::new();
    for (key, bytes) in s3h::files_under(&root) {
        if !key.contains("/CloudTrail-Digest/") {
            continue;
        }
        let d: serde_json::Value = serde_json::from_slice(&gunzip(&bytes)).unwrap();
        bucket = d["digestS3Bucket"].as_str().unwrap().to_string();
        if let (Some(prev), Some(sig)) = (d["previousDigestS3Object"].as_str(), d["previousDigestSignature"].as_str()) {
            signatures.insert(prev.to_string(), sig.to_string());
        }
    }
    assert!(!bucket.is_empty());
    Signed { _dir: dir, root, keys, bucket, signatures }
}

/// Uploads the archive as CloudTrail delivers it: digests with their signature metadata.
/// `signature` may change a digest's signature on the way.
fn upload_signed(s: &Signed, bucket: &str, signature: impl Fn(&str, &str) -> String) {
    let mut plain = Vec::new();
    for (key, bytes) in s3h::files_under(&s.root) {
        match s.signatures.get(&key) {
            Some(sig) => {
                let sig = signature(&key, sig);
                s3h::put_object_with_metadata(
                    bucket,
                    &key,
                    bytes,
                    &[("signature", &sig), ("signature-algorithm", "SHA256withRSA")],
                );
            }
            None => plain.push((key, bytes)),
        }
    }
    s3h::put_objects(bucket, plain);
}

/// `trailscope verify --format jsonl` of `inputs` against moto: (exit status, path -> row, stderr).
fn verify_s3(
    s: &Signed,
    inputs: &[&str],
    extra: &[&str],
) -> (i32, std::collections::BTreeMap<String, serde_json::Value>, String) {
    let url = s3h::moto().url();
    let mut args = vec!["verify", "--endpoint-url", url.as_str(), "--public-keys", s.keys.to_str().unwrap()];
    args.extend_from_slice(&["--format", "jsonl"]);
    args.extend_from_slice(extra);
    args.extend_from_slice(inputs);
    let o = trailscope(&args, None);
    let rows = common::jsonl_values(&o).into_iter().map(|v| (v["path"].as_str().unwrap().to_string(), v)).collect();
    (o.status.code().unwrap_or(-1), rows, common::stderr(&o))
}

fn count(rows: &std::collections::BTreeMap<String, serde_json::Value>, kind: &str, status: &str) -> usize {
    rows.values().filter(|v| v["kind"] == kind && v["status"] == status).count()
}

fn keys_of(s: &Signed, part: &str) -> Vec<String> {
    s3h::files_under(&s.root).into_iter().map(|(k, _)| k).filter(|k| k.contains(part)).collect()
}

fn status_of<'a>(rows: &'a std::collections::BTreeMap<String, serde_json::Value>, path: &str) -> &'a str {
    rows.get(path).unwrap_or_else(|| panic!("no row for {path}: {rows:#?}"))["status"].as_str().unwrap()
}

#[test]
fn verify_of_a_trail_in_s3_checks_every_digest_including_the_newest() {
    let s = signed_archive(101);
    s3h::create_bucket(&s.bucket);
    upload_signed(&s, &s.bucket, |_, sig| sig.to_string());
    let (digests, logs) = (keys_of(&s, "/CloudTrail-Digest/"), keys_of(&s, "/CloudTrail/"));
    assert!(digests.len() >= 10 && logs.len() >= 10);
    let url = format!("s3://{}", s.bucket);
    let (code, rows, err) = verify_s3(&s, &[&url], &[]);
    assert_eq!(code, 0, "{err} {rows:#?}");
    assert_eq!(count(&rows, "digest", "valid"), digests.len(), "the newest digests too: {rows:#?}");
    assert_eq!(count(&rows, "digest", "unsigned"), 0);
    assert_eq!(count(&rows, "log", "valid"), logs.len());
    assert_eq!(rows.len(), digests.len() + logs.len());
    let newest = digests.iter().filter(|k| k.contains("/us-east-1/")).max().unwrap();
    assert_eq!(status_of(&rows, &format!("{url}/{newest}")), "valid");
    // The same trail located by --trail (DescribeTrails), without a PATH.
    let ct = cloudtrail();
    s3h::rt().block_on(async {
        ct.create_trail().name(trailscope_gen::TRAIL_NAME).s3_bucket_name(&s.bucket).send().await.unwrap();
    });
    let (code, by_trail, err) = verify_s3(&s, &[], &["--trail", trailscope_gen::TRAIL_NAME]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(by_trail, rows);
    // A window: only the digests and log files around it.
    let (code, windowed, err) =
        verify_s3(&s, &[&url], &["--since", "2025-12-31T21:00:00Z", "--until", "2025-12-31T22:00:00Z"]);
    assert_eq!(code, 0, "{err}");
    assert!(!windowed.is_empty() && windowed.len() < rows.len() / 2, "{}", windowed.len());
    assert!(windowed.values().all(|v| v["status"] == "valid"), "{windowed:#?}");
}

#[test]
fn verify_of_s3_finds_a_log_file_edited_deleted_or_added() {
    let s = signed_archive(102);
    let logs = keys_of(&s, "/CloudTrail/");
    let path = |k: &str| s.root.join(k);
    // Same size: one letter of a region, re-compressed.
    let mut text = gunzip(&std::fs::read(path(&logs[0])).unwrap());
    let at = text.windows(16).position(|w| w == b"\"awsRegion\":\"us-").unwrap();
    text[at + 14] = b'z';
    std::fs::write(path(&logs[0]), common::gzip(&text)).unwrap();
    std::fs::remove_file(path(&logs[1])).unwrap();
    let added = logs[2].replace(".json.gz", "").rsplit_once('_').unwrap().0.to_string() + "_AAAAAAAAAAAAAAAA.json.gz";
    std::fs::copy(path(&logs[2]), path(&added)).unwrap();
    s3h::create_bucket(&s.bucket);
    upload_signed(&s, &s.bucket, |_, sig| sig.to_string());
    let url = format!("s3://{}", s.bucket);
    let (code, rows, err) = verify_s3(&s, &[&url], &[]);
    assert_eq!(code, 4, "{err}");
    assert_eq!(status_of(&rows, &format!("{url}/{}", logs[0])), "modified");
    assert_eq!(status_of(&rows, &format!("{url}/{}", logs[1])), "missing");
    assert_eq!(status_of(&rows, &format!("{url}/{added}")), "not_covered");
    assert_eq!(status_of(&rows, &format!("{url}/{}", logs[2])), "valid");
    assert_eq!(count(&rows, "log", "valid"), logs.len() - 2);
    assert_eq!(count(&rows, "digest", "valid"), keys_of(&s, "/CloudTrail-Digest/").len());
}

#[test]
fn verify_of_s3_checks_each_digest_against_its_own_metadata_signature() {
    let s = signed_archive(103);
    let chain: Vec<String> = keys_of(&s, "/CloudTrail-Digest/us-east-1/");
    let (middle, newest) = (chain[chain.len() / 2].clone(), chain.last().unwrap().clone());
    s3h::create_bucket(&s.bucket);
    // Another digest's signature: a valid signature of the wrong content.
    let other = s.signatures[&chain[0]].clone();
    let (m, n) = (middle.clone(), newest.clone());
    upload_signed(&s, &s.bucket, move |k, sig| if k == m || k == n { other.clone() } else { sig.to_string() });
    let url = format!("s3://{}", s.bucket);
    let (code, rows, err) = verify_s3(&s, &[&url], &[]);
    assert_eq!(code, 4, "{err}");
    assert_eq!(status_of(&rows, &format!("{url}/{newest}")), "invalid_signature");
    assert_eq!(status_of(&rows, &format!("{url}/{middle}")), "invalid_signature");
    assert_eq!(status_of(&rows, &format!("{url}/{}", chain[chain.len() / 2 - 1])), "valid");
    assert_eq!(status_of(&rows, &format!("{url}/{}", chain[chain.len() / 2 + 1])), "valid");
    assert_eq!(count(&rows, "digest", "invalid_signature"), 2);
    assert_eq!(count(&rows, "log", "valid"), keys_of(&s, "/CloudTrail/").len());
}

#[test]
fn a_digest_copied_to_another_bucket_is_moved() {
    let s = signed_archive(104);
    let chain: Vec<String> = keys_of(&s, "/CloudTrail-Digest/us-east-1/");
    let copied = &chain[1];
    s3h::create_bucket(&s.bucket);
    upload_signed(&s, &s.bucket, |_, sig| sig.to_string());
    // The same object, metadata and all, in another bucket.
    s3h::create_bucket("ts-verify-copy");
    let bytes = std::fs::read(s.root.join(copied)).unwrap();
    let sig = s.signatures[copied].clone();
    s3h::put_object_with_metadata(
        "ts-verify-copy",
        copied,
        bytes,
        &[("signature", &sig), ("signature-algorithm", "SHA256withRSA")],
    );
    let (code, rows, err) = verify_s3(&s, &["s3://ts-verify-copy"], &[]);
    assert_eq!(code, 4, "{err}");
    let row = &rows[&format!("s3://ts-verify-copy/{copied}")];
    assert_eq!(row["status"], "moved", "{row}");
    assert!(row["reason"].as_str().unwrap().contains(&format!("s3://{}/", s.bucket)), "{row}");
    // The original, in its own bucket, is valid.
    let url = format!("s3://{}", s.bucket);
    let (code, rows, err) = verify_s3(&s, &[&url], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(status_of(&rows, &format!("{url}/{copied}")), "valid");
}

/// The TUI over a trail in S3: loading fetches no digests, the archive is verified anyway,
/// and `verified:false` lists exactly the events of the file that was edited in the bucket.
#[test]
fn the_tui_verifies_a_trail_in_s3_and_lists_the_events_of_an_edited_file() {
    use std::sync::Arc;
    use trailscope::model::raw::RawReader;
    use trailscope::tui::action::Action;
    use trailscope::tui::state::{Effect, Msg, Start};
    // The SDK in this process: the same credentials the binary gets from aws_env.
    std::env::set_var("AWS_ACCESS_KEY_ID", "test");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
    std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/config");
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    let s = signed_archive(105);
    let logs = keys_of(&s, "/CloudTrail/");
    let edited = logs[4].clone();
    let path = s.root.join(&edited);
    let mut text = gunzip(&std::fs::read(&path).unwrap());
    let at = text.windows(16).position(|w| w == b"\"awsRegion\":\"us-").unwrap();
    text[at + 14] = b'z';
    std::fs::write(&path, common::gzip(&text)).unwrap();
    s3h::create_bucket(&s.bucket);
    upload_signed(&s, &s.bucket, |_, sig| sig.to_string());
    let url = format!("s3://{}", s.bucket);
    let connect = trailscope::source::s3::fetch::Connect {
        endpoint_url: Some(s3h::moto().url()),
        region: Some("us-east-1".into()),
        ..Default::default()
    };
    let cfg = trailscope::source::s3::S3Config { connect: connect.clone(), ..Default::default() };
    let now = END * 1000;
    let q = trailscope::query::parse("since:2025-12-31T00:00:00Z until:2026-01-01T00:00:00Z", now).unwrap();
    let (source, _) = trailscope::source::s3::S3Archive::for_inputs(
        std::slice::from_ref(&url),
        &q,
        now,
        0,
        &cfg,
        trailscope::source::LoadOptions::default(),
    )
    .unwrap();
    let raw = Arc::new(RawReader::new(64 << 20));
    let mut state =
        common::new_state_with(raw.clone(), Start { now_ms: now, remote_archive: true, ..Start::default() });
    source.load(&raw, &mut |m| state.apply(Msg::Load(m)));
    assert_eq!(state.store().read().len(), 600, "every event of the trail was loaded");
    assert!(state.take_effects().contains(&Effect::Verify), "verified though no digest was fetched");
    let req = trailscope::verify::VerifyRequest {
        inputs: vec![url.clone()],
        trail: None,
        since: Some(chrono::DateTime::parse_from_rfc3339("2025-12-31T00:00:00Z").unwrap().timestamp_millis()),
        until: Some(now),
        keys: trailscope::verify::KeySource::File(s.keys.clone()),
        format: None,
        s3: connect,
    };
    state.apply(Msg::Verified(trailscope::verify::log_verdicts(&req)));
    state.update(Action::FocusFilter);
    for c in "verified:false".chars() {
        state.update(Action::FilterInsert(c));
    }
    state.update(Action::FilterSubmit);
    state.settle();
    let store = state.store().read();
    let want: BTreeSet<u32> = (0..store.len() as u32)
        .filter(|&i| store.file_of(&store.events[i as usize]).unwrap().path == Path::new(&format!("{url}/{edited}")))
        .collect();
    assert_eq!(want.len(), 50);
    assert_eq!(state.view().iter().copied().collect::<BTreeSet<u32>>(), want);
}

/// `trailscope detect s3://…` finds the (rule, eventID) pairs `detect` finds in the same
/// archive on disk, in the same window: detections hang off the common pipeline.
#[test]
fn detect_of_a_trail_in_s3_is_detect_of_the_same_archive_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let archive = generate(dir.path(), "archive", 1500, 30, 2, 1, 21);
    s3h::create_bucket("ts-detect");
    upload("ts-detect", &archive, "", |k| k.to_string());
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sigma/rules");
    let rules = rules.to_str().unwrap();
    let window = ["--since", "2025-12-30T00:00:00Z", "--until", "2026-01-01T00:00:00Z"];
    let proxy = Proxy::start();
    let url = proxy.url();
    let mut args = vec!["detect", "--endpoint-url", url.as_str(), "--rules", rules];
    args.extend_from_slice(&window);
    args.push("s3://ts-detect");
    let remote = trailscope(&args, None);
    let mut args = vec!["detect", "--rules", rules];
    args.extend_from_slice(&window);
    let archive_arg = archive.to_str().unwrap();
    args.push(archive_arg);
    let local = trailscope(&args, None);
    assert_eq!(local.status.code(), Some(5), "the generated events trip some rule: {}", common::stderr(&local));
    assert_eq!(remote.status.code(), Some(5), "{}", common::stderr(&remote));
    assert_eq!(sorted_lines(&remote), sorted_lines(&local));
}
