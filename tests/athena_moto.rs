//! `--athena`: the client flow against a real Athena server (`moto_server`) on loopback, and
//! the `"$path"` files fetched from the same server's S3. moto does not run SQL: it answers
//! each query with results queued beforehand through its
//! `/moto-api/static/athena/query-results` endpoint, and walks a query through QUEUED,
//! RUNNING and SUCCEEDED as its state manager is told. So what is checked here is the flow
//! (the SQL sent, polling, paging, Esc's StopQueryExecution, errors, reuse) and what is done
//! with an answer; the SQL's meaning is checked by DuckDB in tests/athena.rs. moto never
//! answers FAILED or a permission error, so those explanations are unit-tested only.

mod common;
#[path = "common/s3.rs"]
#[allow(dead_code)]
mod s3h;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// moto's queue of results and its state manager are the server's: one test at a time.
static SERVER: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERVER.lock().unwrap_or_else(|p| p.into_inner());
    // A test that failed may have left its setting behind.
    polls_per_state(0);
    guard
}

const BUCKET: &str = "athena-archive";
const SINCE: &str = "2025-12-29T00:00:00Z";
const UNTIL: &str = "2026-01-01T00:00:00Z";

/// The columns of the row query, as Athena names them.
const ROW_COLUMNS: [&str; 27] = [
    "eventid",
    "eventtime",
    "eventversion",
    "eventsource",
    "eventname",
    "awsregion",
    "sourceipaddress",
    "useragent",
    "errorcode",
    "errormessage",
    "identitytype",
    "principalid",
    "arn",
    "identityaccountid",
    "accesskeyid",
    "username",
    "invokedby",
    "recipientaccountid",
    "requestid",
    "readonly",
    "eventtype",
    "eventcategory",
    "requestparameters",
    "responseelements",
    "additionaleventdata",
    "resourcearns",
    "path",
];

/// POSTs `body` to moto's own API.
fn moto_api(path: &str, body: &Value) {
    let body = body.to_string();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", s3h::moto().port)).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 20"), "{path}: {reply}");
}

/// Queues the answers of the next queries started: each a list of rows, the first the header.
/// The rows of one answer, as Athena's cells (`None`: NULL).
type Cells = Vec<Vec<Option<String>>>;

fn queue(results: &[(Vec<&str>, Cells)]) {
    let results: Vec<Value> = results
        .iter()
        .map(|(columns, rows)| {
            let cell = |v: &Option<String>| match v {
                Some(s) => json!({ "VarCharValue": s }),
                None => json!({}),
            };
            let mut all = vec![json!({ "Data": columns.iter().map(|c| json!({ "VarCharValue": c })).collect::<Vec<_>>() })];
            all.extend(rows.iter().map(|r| json!({ "Data": r.iter().map(cell).collect::<Vec<_>>() })));
            json!({
                "rows": all,
                "column_info": columns.iter().map(|c| json!({ "Name": c, "Label": c, "Type": "varchar" })).collect::<Vec<_>>(),
            })
        })
        .collect();
    moto_api("/moto-api/static/athena/query-results", &json!({ "region": "us-east-1", "results": results }));
}

/// How many GetQueryExecution calls a query stays in each state; 0: it is over at once.
fn polls_per_state(times: u32) {
    if times == 0 {
        moto_api("/moto-api/state-manager/unset-transition", &json!({ "model_name": "athena::execution" }));
    } else {
        moto_api(
            "/moto-api/state-manager/set-transition",
            &json!({ "model_name": "athena::execution", "transition": { "progression": "manual", "times": times } }),
        );
    }
}

fn athena() -> aws_sdk_athena::Client {
    let creds = aws_sdk_athena::config::Credentials::new("test", "test", None, None, "tests");
    let conf = aws_sdk_athena::Config::builder()
        .behavior_version(aws_sdk_athena::config::BehaviorVersion::latest())
        .region(aws_sdk_athena::config::Region::new("us-east-1"))
        .endpoint_url(s3h::moto().url())
        .credentials_provider(creds)
        .build();
    aws_sdk_athena::Client::from_conf(conf)
}

/// Every query moto was asked, as (id, SQL, state), in no particular order.
fn executions() -> Vec<(String, String, String)> {
    let c = athena();
    s3h::rt().block_on(async {
        let ids = c.list_query_executions().send().await.unwrap().query_execution_ids().to_vec();
        let mut out = Vec::new();
        for id in ids {
            // Asking advances a query under the state manager: only done when tests are over with it.
            let q = c.get_query_execution().query_execution_id(&id).send().await.unwrap();
            let q = q.query_execution().unwrap();
            out.push((
                id,
                q.query().unwrap_or("").to_string(),
                q.status().and_then(|s| s.state()).map(|s| s.as_str().to_string()).unwrap_or_default(),
            ));
        }
        out
    })
}

/// The generated archive (three days, two accounts, three regions), in moto's S3 under the
/// keys it has on disk, once per test binary.
fn archive() -> &'static (PathBuf, Vec<String>) {
    static ARCHIVE: std::sync::OnceLock<(PathBuf, Vec<String>)> = std::sync::OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let root = dir.join("archive");
        let opts = trailscope_gen::GenOptions {
            events: 900,
            per_file: 60,
            seed: 23,
            end_time: 1_767_225_000,
            span_secs: 2 * 86_400,
            accounts: 2,
            regions: 3,
            hostile: true,
            gzip_level: 1,
            digests: false,
            ..Default::default()
        };
        trailscope_gen::generate(&opts, &root).unwrap();
        s3h::create_bucket(BUCKET);
        let files = s3h::files_under(&root);
        let keys = files.iter().map(|(k, _)| k.clone()).collect();
        s3h::put_objects(BUCKET, files);
        (root, keys)
    })
}

fn trailscope(args: &[&str], cache: Option<&Path>) -> Output {
    let mut cmd = Command::new(common::bin());
    s3h::aws_env(&mut cmd);
    match cache {
        Some(dir) => cmd.env("TRAILSCOPE_CACHE_DIR", dir).env_remove("TRAILSCOPE_NO_CACHE"),
        None => cmd.env("TRAILSCOPE_NO_CACHE", "1"),
    };
    cmd.args(args).output().unwrap()
}

/// `print --athena` with the test's window and `filter`.
fn print_athena(filter: &str, extra: &[&str], cache: Option<&Path>) -> Output {
    print_athena_at(&s3h::moto().url(), filter, extra, cache)
}

/// `print --athena` through `url` (moto, or a proxy in front of it).
fn print_athena_at(url: &str, filter: &str, extra: &[&str], cache: Option<&Path>) -> Output {
    let f = format!("--filter={filter}");
    let mut args = vec![
        "print",
        "--endpoint-url",
        url,
        "--region",
        "us-east-1",
        "--athena",
        "trails.cloudtrail_logs",
        "--output",
        "s3://athena-results/q/",
        "--since",
        SINCE,
        "--until",
        UNTIL,
        &f,
    ];
    args.extend(extra);
    trailscope(&args, cache)
}

/// `print` of local files with the same window and filter.
fn print_local(filter: &str, paths: &[PathBuf]) -> Vec<Value> {
    let f = format!("--filter={filter}");
    let mut args = vec!["print", "--since", SINCE, "--until", UNTIL, &f];
    let p: Vec<String> = paths.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    args.extend(p.iter().map(String::as_str));
    let o = trailscope(&args, None);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    common::jsonl_values(&o)
}

fn ids(v: &[Value]) -> Vec<String> {
    v.iter().map(|r| r["eventID"].as_str().unwrap_or("").to_string()).collect()
}

fn path_rows(keys: &[&String]) -> Vec<Vec<Option<String>>> {
    keys.iter().map(|k| vec![Some(format!("s3://{BUCKET}/{k}"))]).collect()
}

#[test]
fn the_files_athena_names_are_fetched_and_print_exactly_what_print_of_those_files_prints() {
    let _one = serial();
    let (root, keys) = archive();
    polls_per_state(2);
    // Athena says these four files hold matches (one named twice, as DISTINCT would not).
    let chosen: Vec<&String> = keys.iter().step_by(3).take(4).collect();
    let mut rows = path_rows(&chosen);
    rows.push(rows[0].clone());
    queue(&[(vec!["$path"], rows)]);
    let filter = "name:Describe* -error:AccessDenied";
    let before = executions().len();
    let o = print_athena(filter, &[], None);
    polls_per_state(0);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let got = common::jsonl_values(&o);
    let expected = print_local(filter, &chosen.iter().map(|k| root.join(k)).collect::<Vec<_>>());
    assert!(!expected.is_empty(), "the chosen files have matches");
    assert_eq!(ids(&got), ids(&expected), "newest first, each once, the filter applied here");
    assert_eq!(got, expected, "the original records, whole");
    // What was asked: the "$path" query `athena sql --paths` prints, polled to SUCCEEDED.
    let sent = executions();
    assert_eq!(sent.len(), before + 1, "one query: {sent:?}");
    let sql = common::run(&[
        "athena",
        "sql",
        "--table",
        "cloudtrail_logs",
        "--database",
        "trails",
        "--paths",
        &format!("--filter={filter}"),
        "--since",
        SINCE,
        "--until",
        UNTIL,
    ]);
    let sql = String::from_utf8(sql.stdout).unwrap();
    assert!(sent.iter().any(|(_, q, _)| q.trim() == sql.trim()), "the SQL sent is the one printed:\n{sql}\n{sent:?}");
    assert!(err.contains("athena files query") && err.contains("SUCCEEDED"), "{err}");
    assert!(err.contains("4 files"), "{err}");
    assert!(err.contains("≈ <$0.0001"), "the price is said (the 10 MB least): {err}");
}

/// One of the stratus-red-team records and generated ones, as Athena's table gives them.
fn row_of(r: &Value, path: &str) -> Vec<Option<String>> {
    let s = |v: &Value| match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    };
    let u = &r["userIdentity"];
    let arns: Vec<String> = r["resources"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["ARN"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    vec![
        s(&r["eventID"]),
        s(&r["eventTime"]),
        s(&r["eventVersion"]),
        s(&r["eventSource"]),
        s(&r["eventName"]),
        s(&r["awsRegion"]),
        s(&r["sourceIPAddress"]),
        s(&r["userAgent"]),
        s(&r["errorCode"]),
        s(&r["errorMessage"]),
        s(&u["type"]),
        s(&u["principalId"]),
        s(&u["arn"]),
        s(&u["accountId"]),
        s(&u["accessKeyId"]),
        s(&u["userName"]),
        s(&u["invokedBy"]),
        s(&r["recipientAccountId"]),
        s(&r["requestID"]),
        s(&r["readOnly"]),
        s(&r["eventType"]),
        s(&r["eventCategory"]),
        s(&r["requestParameters"]),
        s(&r["responseElements"]),
        s(&r["additionalEventData"]),
        Some(arns.join(" ")),
        Some(path.to_string()),
    ]
}

#[test]
fn too_many_files_and_the_rows_are_shown_as_athenas_projection_filtered_here() {
    let _one = serial();
    let (root, keys) = archive();
    // Every record of the window, as the rows Athena's superset would return for a bare word:
    // the local filter keeps those that match.
    let all = print_local("", std::slice::from_ref(root));
    let filter = "name:Delete* s3";
    let expected = print_local(filter, std::slice::from_ref(root));
    assert!(!expected.is_empty() && expected.len() < all.len());
    let rows: Vec<Vec<Option<String>>> = all.iter().map(|r| row_of(r, "s3://x/y.json.gz")).collect();
    let chosen: Vec<&String> = keys.iter().take(3).collect();
    queue(&[(vec!["$path"], path_rows(&chosen)), (ROW_COLUMNS.to_vec(), rows)]);
    let o = print_athena(filter, &["--athena-max-files", "2"], None);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let got = common::jsonl_values(&o);
    assert_eq!(ids(&got), ids(&expected), "{err}");
    for (g, e) in got.iter().zip(&expected) {
        for f in ["eventName", "eventSource", "awsRegion", "sourceIPAddress", "userAgent", "eventTime"] {
            assert_eq!(g[f], e[f], "{f}");
        }
        assert_eq!(g["userIdentity"]["arn"], e["userIdentity"]["arn"]);
        assert_eq!(g["requestParameters"], e["requestParameters"]);
    }
    assert!(err.contains("3 files hold matches, more than --athena-max-files 2"), "{err}");
    assert!(err.contains("athena rows query") && err.contains("rows: Athena's projection"), "{err}");
}

#[test]
fn the_same_question_again_reads_the_remembered_results_and_scans_nothing() {
    let _one = serial();
    let (_, keys) = archive();
    let cache = tempfile::tempdir().unwrap();
    let chosen: Vec<&String> = keys.iter().skip(1).take(2).collect();
    queue(&[(vec!["$path"], path_rows(&chosen))]);
    let filter = "region:=us-east-1 type:IAMUser";
    let first = print_athena(filter, &[], Some(cache.path()));
    assert_eq!(first.status.code(), Some(0), "{}", common::stderr(&first));
    let n = executions().len();
    let again = print_athena(filter, &[], Some(cache.path()));
    let err = common::stderr(&again);
    assert_eq!(again.status.code(), Some(0), "{err}");
    assert_eq!(executions().len(), n, "no new query was started: {err}");
    assert_eq!(again.stdout, first.stdout);
    assert!(err.contains("the results of the same query run before") && err.contains("≈ $0.0000"), "{err}");
    // Another filter is another question.
    queue(&[(vec!["$path"], Vec::new())]);
    let other = print_athena("region:=us-west-2", &[], Some(cache.path()));
    assert_eq!(other.status.code(), Some(0), "{}", common::stderr(&other));
    assert_eq!(executions().len(), n + 1);
    assert!(other.stdout.is_empty(), "no file holds a match: nothing");
}

#[test]
fn errors_say_what_to_do() {
    let _one = serial();
    let o = print_athena("", &["--workgroup", "no-such-workgroup"], None);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Athena") && err.contains("workgroup no-such-workgroup") && err.contains("--workgroup"),
        "{err}"
    );
    // An unreachable endpoint: said, and no hang.
    let o = trailscope(
        &["print", "--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1", "--athena", "t", "--timeout", "2"],
        None,
    );
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("could not reach Athena"), "{err}");
    // --athena with PATHs is a usage error.
    let o = trailscope(&["print", "--athena", "t", "some/dir"], None);
    assert_eq!(o.status.code(), Some(2), "{}", common::stderr(&o));
}

#[test]
fn esc_in_the_tui_stops_the_query() {
    let _one = serial();
    archive();
    // Queries of other tests may still be QUEUED (a proxy answered for them): only new ones count.
    let earlier: std::collections::HashSet<String> = executions().into_iter().map(|(id, _, _)| id).collect();
    polls_per_state(100_000);
    let url = s3h::moto().url();
    let cmd = format!(
        "env -u AWS_PROFILE AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
         AWS_CONFIG_FILE=/nonexistent AWS_EC2_METADATA_DISABLED=true TRAILSCOPE_NO_CACHE=1 {} --endpoint-url {url} \
         --athena cloudtrail_logs --since 2d; echo EXITED:$?; sleep 30",
        common::bin()
    );
    let t = Tmux::start(&cmd);
    t.wait_for("asking Athena (Esc stops the query)");
    let running: Vec<String> = executions()
        .into_iter()
        .filter(|(id, _, s)| s == "QUEUED" && !earlier.contains(id))
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(running.len(), 1, "one query waits");
    t.keys(&["Escape"]);
    let s = t.wait_for("CANCELLED");
    assert!(s.contains("athena ") && s.contains(" CANCELLED") && s.contains("1 input with problems (E)"), "{s}");
    t.keys(&["E"]);
    t.wait_for("stopped (Esc): StopQueryExecution was sent");
    t.keys(&["Escape"]);
    // r asks again, with the filter typed in the pane.
    t.keys(&["/"]);
    for k in ["n", "a", "m", "e", ":", "=", "P", "u", "t", "O", "b", "j", "e", "c", "t", "Enter", "r"] {
        t.keys(&[k]);
    }
    t.wait_for("asking Athena (Esc stops the query)");
    let again: Vec<(String, String, String)> = executions()
        .into_iter()
        .filter(|(id, _, s)| s == "QUEUED" && !earlier.contains(id) && !running.contains(id))
        .collect();
    assert_eq!(again.len(), 1, "{again:?}");
    assert!(again[0].1.contains("coalesce(eventname, '') = 'PutObject'"), "the filter in the pane: {}", again[0].1);
    t.keys(&["Escape"]);
    t.wait_for("CANCELLED");
    polls_per_state(0);
    let states: Vec<(String, String, String)> =
        executions().into_iter().filter(|(id, _, _)| running.contains(id)).collect();
    assert_eq!(states[0].2, "CANCELLED", "StopQueryExecution reached Athena: {states:?}");
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
}

/// The real binary in a real terminal: tmux on a socket of its own, ended with the test.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(cmd: &str) -> Tmux {
        let t = Tmux { socket: format!("trailscope-athena-{}", std::process::id()) };
        let ok =
            t.cmd(&["-f", "/dev/null", "new-session", "-d", "-s", "a", "-x", "150", "-y", "30", cmd]).status.success();
        assert!(ok, "tmux could not start (is tmux installed? .ci/run installs it)");
        t
    }
    fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("tmux is required")
    }
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.cmd(&["send-keys", "-t", "a", k]);
            std::thread::sleep(std::time::Duration::from_millis(150));
        }
    }
    fn wait_for(&self, what: &str) -> String {
        let start = std::time::Instant::now();
        loop {
            let s = String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "a"]).stdout).into_owned();
            if s.contains(what) {
                return s;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(20),
                "timed out waiting for {what:?}; screen:\n{s}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

/// An organisation trail's archive (two accounts, three regions) under a prefix of its bucket.
fn org_archive() -> &'static (PathBuf, String) {
    static ORG: std::sync::OnceLock<(PathBuf, String)> = std::sync::OnceLock::new();
    ORG.get_or_init(|| {
        let root = tempfile::tempdir().unwrap().keep().join("org");
        let opts = trailscope_gen::GenOptions {
            events: 300,
            per_file: 50,
            seed: 5,
            end_time: 1_767_225_000,
            span_secs: 86_400,
            accounts: 2,
            regions: 3,
            gzip_level: 1,
            digests: false,
            organization: Some("o-a1b2c3d4e5".into()),
            ..Default::default()
        };
        trailscope_gen::generate(&opts, &root).unwrap();
        s3h::create_bucket("athena-org");
        let files: Vec<(String, Vec<u8>)> =
            s3h::files_under(&root).into_iter().map(|(k, b)| (format!("audit/{k}"), b)).collect();
        s3h::put_objects("athena-org", files);
        (root, "o-a1b2c3d4e5".to_string())
    })
}

/// The accounts and regions of an archive on disk, as its folders name them.
fn layout_of(root: &Path) -> (Vec<String>, Vec<String>) {
    let (mut accounts, mut regions) = (Vec::new(), Vec::new());
    for (key, _) in s3h::files_under(root) {
        let parts: Vec<&str> = key.split('/').collect();
        if let Some(i) = parts.iter().position(|p| *p == "CloudTrail") {
            accounts.push(parts[i - 1].to_string());
            regions.push(parts[i + 1].to_string());
        }
    }
    for v in [&mut accounts, &mut regions] {
        v.sort();
        v.dedup();
    }
    (accounts, regions)
}

#[test]
fn the_ddl_of_an_archive_not_described_lists_the_bucket_and_apply_runs_it() {
    let _one = serial();
    let (root, org) = org_archive();
    let (accounts, regions) = layout_of(root);
    assert_eq!((accounts.len(), regions.len()), (2, 3));
    let url = s3h::moto().url();
    let ddl = |args: &[&str]| {
        let mut a = vec!["athena", "ddl", "--endpoint-url", &url, "--region", "us-east-1", "--database", "trails"];
        a.extend(args);
        trailscope(&a, None)
    };
    // Told nothing: the bucket is listed, through the organisation's folder.
    let listed = ddl(&["s3://athena-org/audit"]);
    let err = common::stderr(&listed);
    assert_eq!(listed.status.code(), Some(0), "{err}");
    let told = ddl(&[
        &format!("s3://athena-org/audit/AWSLogs/{org}/"),
        "--accounts",
        &accounts.join(","),
        "--regions",
        &regions.join(","),
    ]);
    assert_eq!(told.status.code(), Some(0), "{}", common::stderr(&told));
    assert!(told.stderr.is_empty(), "told everything: no AWS call, nothing said");
    assert_eq!(String::from_utf8_lossy(&listed.stdout), String::from_utf8_lossy(&told.stdout));
    let text = String::from_utf8(listed.stdout.clone()).unwrap();
    assert!(text.contains(&format!("LOCATION 's3://athena-org/audit/AWSLogs/{org}'")), "{text}");
    assert!(err.contains("2 accounts") && err.contains("3 regions"), "{err}");
    // --apply runs exactly that statement.
    let before = executions().len();
    let applied = ddl(&["s3://athena-org/audit", "--apply"]);
    let err = common::stderr(&applied);
    assert_eq!(applied.status.code(), Some(0), "{err}");
    assert!(err.contains("the table is created"), "{err}");
    let sent = executions();
    assert_eq!(sent.len(), before + 1);
    assert!(sent.iter().any(|(_, q, s)| q.trim() == text.trim() && s == "SUCCEEDED"), "{sent:?}");
    // A prefix without the layout says what it found instead.
    let o = ddl(&["s3://athena-org/elsewhere"]);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("no CloudTrail layout"), "{err}");
}

#[test]
fn the_ddl_of_a_trail_comes_from_describe_trails() {
    let _one = serial();
    let (root, _) = archive();
    let (accounts, _) = layout_of(root);
    let url = s3h::moto().url();
    let conf = aws_sdk_cloudtrail::Config::builder()
        .behavior_version(aws_sdk_cloudtrail::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudtrail::config::Region::new("us-east-1"))
        .endpoint_url(&url)
        .credentials_provider(aws_sdk_cloudtrail::config::Credentials::new("test", "test", None, None, "tests"))
        .build();
    let ct = aws_sdk_cloudtrail::Client::from_conf(conf);
    s3h::rt().block_on(async {
        ct.create_trail().name("athena-trail").s3_bucket_name(BUCKET).send().await.unwrap();
    });
    let o = trailscope(
        &["athena", "ddl", "--endpoint-url", &url, "--region", "us-east-1", "--trail", "athena-trail"],
        None,
    );
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains(&format!("LOCATION 's3://{BUCKET}/AWSLogs'")), "{text}");
    assert!(text.contains(&accounts.join(",")), "every account is projected: {text}");
}

/// GetQueryExecution's answer for a query that FAILED, as Athena words it.
fn failed(reason: &str) -> s3h::Fault {
    s3h::Fault::Json(
        json!({"QueryExecution": {"QueryExecutionId": "failed-1", "Status": {"State": "FAILED",
            "StateChangeReason": reason, "AthenaError": {"ErrorCategory": 2, "ErrorType": 1006, "Retryable": false,
            "ErrorMessage": reason}}}})
        .to_string(),
    )
}

/// One page of GetQueryResults (the first with the header row), with a next token or not.
fn page(columns: &[&str], rows: &[Vec<String>], header: bool, next: Option<&str>) -> s3h::Fault {
    let mut all: Vec<Value> = Vec::new();
    if header {
        all.push(json!({"Data": columns.iter().map(|c| json!({"VarCharValue": c})).collect::<Vec<_>>()}));
    }
    all.extend(rows.iter().map(|r| json!({"Data": r.iter().map(|c| json!({"VarCharValue": c})).collect::<Vec<_>>()})));
    let mut body = json!({"ResultSet": {"Rows": all, "ResultSetMetadata": {"ColumnInfo":
        columns.iter().map(|c| json!({"Name": c, "Type": "varchar"})).collect::<Vec<_>>()}}});
    if let Some(t) = next {
        body["NextToken"] = json!(t);
    }
    s3h::Fault::Json(body.to_string())
}

/// Counts calls per operation, for rules that answer the nth call of one.
#[derive(Default)]
struct Calls(Mutex<std::collections::HashMap<String, usize>>);

impl Calls {
    fn nth(&self, op: &str) -> usize {
        let mut m = self.0.lock().unwrap();
        let n = m.entry(op.to_string()).or_default();
        *n += 1;
        *n - 1
    }
}

// What moto cannot do, over HTTP all the same: a proxy in front of it answers some calls as
// Athena would (a FAILED query, a second page of results, a permission error).
#[test]
fn results_over_two_pages_are_all_read() {
    let _one = serial();
    let (root, keys) = archive();
    let chosen: Vec<&String> = keys.iter().skip(4).take(3).collect();
    let paths: Vec<Vec<String>> = chosen.iter().map(|k| vec![format!("s3://{BUCKET}/{k}")]).collect();
    let calls = std::sync::Arc::new(Calls::default());
    let c = calls.clone();
    let (first, second) = (paths[..2].to_vec(), paths[2..].to_vec());
    let proxy = s3h::Proxy::with_rule(move |_, op, _| {
        if op.ends_with(".GetQueryResults") {
            match c.nth(op) {
                0 => page(&["path"], &first, true, Some("page-2")),
                _ => page(&["path"], &second, false, None),
            }
        } else {
            s3h::Fault::Pass
        }
    });
    let filter = "-name:=ConsoleLogin";
    let o = print_athena_at(&proxy.url(), filter, &[], None);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("3 files"), "both pages were read: {err}");
    let expected = print_local(filter, &chosen.iter().map(|k| root.join(k)).collect::<Vec<_>>());
    assert_eq!(ids(&common::jsonl_values(&o)), ids(&expected));
}

#[test]
fn a_table_without_path_gives_the_rows_and_failures_say_what_to_do() {
    let _one = serial();
    let (root, _) = archive();
    // "$path" cannot be resolved: the row query follows, and its rows are shown.
    let all = print_local("", std::slice::from_ref(root));
    let rows: Vec<Vec<Option<String>>> = all.iter().take(50).map(|r| row_of(r, "s3://x/y.json.gz")).collect();
    queue(&[(vec!["$path"], Vec::new()), (ROW_COLUMNS.to_vec(), rows)]);
    let calls = std::sync::Arc::new(Calls::default());
    let c = calls.clone();
    let proxy = s3h::Proxy::with_rule(move |_, op, _| {
        if op.ends_with(".GetQueryExecution") && c.nth(op) == 0 {
            failed("COLUMN_NOT_FOUND: line 1:17: Column '$path' cannot be resolved or requester is not authorized to access requested resources")
        } else {
            s3h::Fault::Pass
        }
    });
    let o = print_athena_at(&proxy.url(), "", &[], None);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("the table has no \"$path\" column") && err.contains("rows: Athena's projection"), "{err}");
    let mut want: Vec<String> = all.iter().take(50).map(|r| r["eventID"].as_str().unwrap().to_string()).collect();
    let mut got = ids(&common::jsonl_values(&o));
    want.sort();
    got.sort();
    assert_eq!(got, want);
    // No such table: what to do.
    let proxy = s3h::Proxy::with_rule(|_, op, _| {
        if op.ends_with(".GetQueryExecution") {
            failed("TABLE_NOT_FOUND: line 2:6: Table 'awsdatacatalog.trails.cloudtrail_logs' does not exist")
        } else {
            s3h::Fault::Pass
        }
    });
    let o = print_athena_at(&proxy.url(), "", &[], None);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("table trails.cloudtrail_logs does not exist") && err.contains("athena ddl"), "{err}");
    // Permission denied: the action named.
    let proxy = s3h::Proxy::with_rule(|_, op, _| {
        if op.ends_with(".StartQueryExecution") {
            s3h::Fault::JsonError(400, "AccessDeniedException")
        } else {
            s3h::Fault::Pass
        }
    });
    let o = print_athena_at(&proxy.url(), "", &[], None);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("athena:StartQueryExecution"), "{err}");
}

#[test]
fn rows_over_several_pages_are_all_shown() {
    let _one = serial();
    let (root, keys) = archive();
    let all = print_local("", std::slice::from_ref(root));
    let row = |r: &Value| -> Vec<String> {
        row_of(r, "s3://x/y.json.gz").into_iter().map(Option::unwrap_or_default).collect()
    };
    let pages: Vec<Vec<Vec<String>>> = all.chunks(40).take(3).map(|c| c.iter().map(row).collect()).collect();
    let paths: Vec<Vec<String>> = keys.iter().take(3).map(|k| vec![format!("s3://{BUCKET}/{k}")]).collect();
    let calls = std::sync::Arc::new(Calls::default());
    let c = calls.clone();
    let rows_pages = pages.clone();
    // The files query: three files, more than --athena-max-files 2; then the rows, in three pages.
    let proxy = s3h::Proxy::with_rule(move |_, op, _| {
        if !op.ends_with(".GetQueryResults") {
            return s3h::Fault::Pass;
        }
        match c.nth(op) {
            0 => page(&["path"], &paths, true, None),
            1 => page(&ROW_COLUMNS, &rows_pages[0], true, Some("rows-2")),
            2 => page(&ROW_COLUMNS, &rows_pages[1], false, Some("rows-3")),
            _ => page(&ROW_COLUMNS, &rows_pages[2], false, None),
        }
    });
    let o = print_athena_at(&proxy.url(), "", &["--athena-max-files", "2"], None);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let mut want: Vec<String> = all.iter().take(120).map(|r| r["eventID"].as_str().unwrap().to_string()).collect();
    let mut got = ids(&common::jsonl_values(&o));
    want.sort();
    got.sort();
    assert_eq!(got, want, "every page's rows: {err}");
    assert!(err.contains("athena rows query") && err.contains("120 rows"), "{err}");
}
