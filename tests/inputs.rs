//! Every input kind, read from the real records in ../shared/data, through `print`.

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::HashSet;

fn ids(values: &[Value]) -> Vec<String> {
    values.iter().map(|v| v["eventID"].as_str().unwrap_or("").to_string()).collect()
}

#[test]
fn stratus_bare_arrays_all_records_once() {
    let o = run(&["print", stratus().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = jsonl_values(&o);
    assert_eq!(out.len(), 310);
    assert_eq!(ids(&out).into_iter().collect::<HashSet<_>>().len(), 310);
    assert!(stderr(&o).contains("310 events read from 35 of 35 files, 0 duplicates collapsed"), "{}", stderr(&o));
    // Each line is the record itself, unchanged.
    let originals: HashSet<String> = stratus_records().iter().map(|v| v.to_string()).collect();
    for v in &out {
        assert!(originals.contains(&v.to_string()));
    }
    // Newest first.
    let times: Vec<&str> = out.iter().map(|v| v["eventTime"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]));
}

#[test]
fn panther_jsonl_collapses_only_true_duplicates() {
    let o = run(&["print", panther().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = jsonl_values(&o);
    assert_eq!(out.len(), 414);
    assert!(stderr(&o).contains("24 duplicates collapsed"), "{}", stderr(&o));
    assert_eq!(
        out.iter().filter(|v| v.get("eventID").is_none()).count(),
        35,
        "records without an eventID are all kept"
    );
    // Records that share an id but differ are kept: 403 with ids, 125 distinct ids.
    let with_id: Vec<&Value> = out.iter().filter(|v| v.get("eventID").is_some()).collect();
    assert_eq!(with_id.len(), 414 - 35);
    let distinct: HashSet<String> = out.iter().map(canonical).collect();
    assert_eq!(distinct.len(), 414, "no two printed records are the same");
}

fn canonical(v: &Value) -> String {
    // serde_json's Map with preserve_order keeps insertion order; sort for comparison.
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<_> = m.keys().cloned().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), sort(&m[&k]))).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            v => v.clone(),
        }
    }
    sort(v).to_string()
}

#[test]
fn s3_layout_gzip_digests_and_plain_json() {
    let dir = tempfile::tempdir().unwrap();
    let recs = stratus_records();
    write_trail_file(dir.path(), "111122223333", "us-east-1", "2024/07/31", "a", &recs[..100], true);
    write_trail_file(dir.path(), "111122223333", "eu-west-1", "2024/07/31", "b", &recs[100..200], false);
    // An organisation trail's layout.
    write_trail_file(&dir.path().join("o-abc123"), "444455556666", "us-west-2", "2024/08/01", "c", &recs[200..], true);
    let digest_dir = dir.path().join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/07/31");
    std::fs::create_dir_all(&digest_dir).unwrap();
    let digest = json!({"awsAccountId":"111122223333","digestStartTime":"2024-07-31T00:00:00Z","digestEndTime":"2024-07-31T01:00:00Z",
        "digestS3Bucket":"b","digestS3Object":"o","logFiles":[]});
    std::fs::write(digest_dir.join("d.json.gz"), gzip(digest.to_string().as_bytes())).unwrap();
    let o = run(&["print", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(jsonl_values(&o).len(), 310);
    assert!(stderr(&o).contains("from 4 of 4 files (1 digest file, not events)"), "{}", stderr(&o));
}

/// `aws cloudtrail lookup-events` output, with EventTime as epoch seconds and as ISO 8601.
#[test]
fn lookup_events_output_gives_the_same_records() {
    let recs = stratus_records();
    let events = |iso: bool| -> Value {
        let items: Vec<Value> = recs
            .iter()
            .map(|r| {
                let t = chrono::DateTime::parse_from_rfc3339(r["eventTime"].as_str().unwrap()).unwrap();
                json!({
                    "EventId": r["eventID"], "EventName": r["eventName"], "ReadOnly": "true",
                    "EventTime": if iso { json!(t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()) } else { json!(t.timestamp() as f64) },
                    "EventSource": r["eventSource"], "Resources": [],
                    "CloudTrailEvent": r.to_string(),
                })
            })
            .collect();
        json!({ "Events": items })
    };
    let direct = run(&["print", stratus().to_str().unwrap()]);
    for iso in [false, true] {
        let o = run_stdin(&["print", "-"], serde_json::to_string_pretty(&events(iso)).unwrap().as_bytes());
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(jsonl_values(&o), jsonl_values(&direct));
    }
    // The same events from a trail file and from lookup-events output are one event each.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lookup.json"), events(false).to_string()).unwrap();
    let o = run(&["print", dir.path().to_str().unwrap(), stratus().to_str().unwrap()]);
    assert_eq!(jsonl_values(&o).len(), 310);
    assert!(stderr(&o).contains("310 duplicates collapsed"), "{}", stderr(&o));
}

/// JSON Lines of lookup-events items, as `aws cloudtrail lookup-events | jq -c '.Events[]'`
/// writes them (plaso's test files too, with EventTime as `2022-02-08 09:23:37+11:00`), read
/// like the `{"Events":[…]}` form; EventTime stands in for a record without eventTime.
#[test]
fn lookup_events_json_lines_give_the_same_records() {
    let recs = stratus_records();
    let plus11 = chrono::FixedOffset::east_opt(11 * 3600).unwrap();
    let item = |r: &Value, time: String| -> String {
        json!({
            "EventId": r["eventID"], "EventName": r["eventName"], "ReadOnly": "true",
            "EventTime": time, "EventSource": r["eventSource"], "Resources": [],
            "CloudTrailEvent": r.to_string(),
        })
        .to_string()
    };
    let lines: String = recs
        .iter()
        .map(|r| {
            let t = chrono::DateTime::parse_from_rfc3339(r["eventTime"].as_str().unwrap()).unwrap();
            item(r, t.with_timezone(&plus11).format("%Y-%m-%d %H:%M:%S%:z").to_string()) + "\n"
        })
        .collect();
    let direct = run(&["print", stratus().to_str().unwrap()]);
    let o = run_stdin(&["print", "-"], lines.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(jsonl_values(&o), jsonl_values(&direct));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lookup.jsonl");
    std::fs::write(&file, &lines).unwrap();
    let o = run(&["print", file.to_str().unwrap()]);
    assert_eq!(jsonl_values(&o), jsonl_values(&direct), "{}", stderr(&o));
    assert!(stderr(&o).contains("310 events read from 1 of 1"), "{}", stderr(&o));

    // A record without eventTime takes the item's EventTime, whatever its offset.
    let mut untimed = recs[0].clone();
    untimed.as_object_mut().unwrap().remove("eventTime");
    let text = item(&untimed, "2022-02-08 09:23:37+11:00".into()) + "\n" + &item(&recs[1], "1700000000".into());
    let o = run_stdin(
        &["print", "--format", "csv", "--filter", "since:2022-02-07T22:00:00Z until:2022-02-07T23:00:00Z", "-"],
        text.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(out.lines().count(), 2, "a header and the untimed record: {out}");
    assert!(out.contains("2022-02-07T22:23:37Z"), "{out}");
}

#[test]
fn bad_inputs_are_named_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    let recs = stratus_records();
    let good = write_trail_file(dir.path(), "111122223333", "us-east-1", "2024/07/31", "good", &recs[..50], true);
    let gz = std::fs::read(&good).unwrap();
    let d = dir.path();
    std::fs::write(d.join("truncated.json.gz"), &gz[..gz.len() / 2]).unwrap();
    std::fs::write(d.join("empty.json"), b"").unwrap();
    std::fs::write(d.join("empty.json.gz"), gzip(b"")).unwrap();
    std::fs::write(d.join("other.json"), br#"{"hello":"world"}"#).unwrap();
    std::fs::write(d.join("records-not-array.json"), br#"{"Records":{"a":1}}"#).unwrap();
    std::fs::write(d.join("invalid.json"), br#"{"Records":[{"eventName":"A"},"#).unwrap();
    std::fs::write(d.join("binary.bin"), [0x7f, b'E', b'L', b'F', 0, 1, 2, 3]).unwrap();
    let o = run(&["print", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(jsonl_values(&o).len(), 50);
    let err = stderr(&o);
    for (file, reason) in [
        ("truncated.json.gz", "truncated gzip"),
        ("empty.json:", "empty file"),
        ("empty.json.gz", "empty file"),
        ("other.json", "not CloudTrail"),
        ("records-not-array.json", "\"Records\" is an object, not an array"),
        ("invalid.json", "invalid JSON at line 1"),
        ("binary.bin", "binary content"),
    ] {
        let line = err.lines().find(|l| l.contains(file)).unwrap_or_else(|| panic!("{file} not reported:\n{err}"));
        assert!(line.contains("skipped") && line.contains(reason), "{file}: {line}");
    }
}

#[test]
fn exit_statuses() {
    let missing = run(&["print", "/nonexistent/path"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("/nonexistent/path: no such file or directory"), "{}", stderr(&missing));
    let partly = run(&["print", stratus().to_str().unwrap(), "/nonexistent/path"]);
    assert_eq!(partly.status.code(), Some(3));
    assert_eq!(jsonl_values(&partly).len(), 310);
    let usage = run(&["print", "--filter", "nosuch:x", stratus().to_str().unwrap()]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(stderr(&usage).contains("unknown field 'nosuch'"));
    assert!(usage.stdout.is_empty());
    assert_eq!(run(&["print", "--format", "xml", "x"]).status.code(), Some(2));
    assert_eq!(run(&["print", "--since", "yesterday", "x"]).status.code(), Some(2));
}

#[test]
fn jsonl_lines_with_a_bad_line_keep_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(panther()).unwrap();
    let mut lines: Vec<&str> = text.lines().take(20).collect();
    lines.insert(5, "{\"eventName\": broken");
    let path = dir.path().join("part.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let o = run(&["print", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("read in part") && stderr(&o).contains("line 6"), "{}", stderr(&o));
    assert!(jsonl_values(&o).len() >= 19 - 2, "the good lines load");
}

#[test]
fn completions_and_man_page_come_from_the_cli_definitions() {
    let bash = run(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    let text = String::from_utf8(bash.stdout).unwrap();
    for word in ["print", "--filter", "--format", "--region", "--endpoint-url", "jsonl"] {
        assert!(text.contains(word), "bash completion lacks {word}");
    }
    let man = run(&["man"]);
    assert_eq!(man.status.code(), Some(0));
    let roff = String::from_utf8(man.stdout).unwrap();
    assert!(roff.starts_with(".ie") || roff.contains(".TH trailscope"), "{}", &roff[..roff.len().min(200)]);
    assert!(roff.contains("LookupEvents") && roff.contains("\\-\\-since"), "the manual has the options");
    assert_eq!(run(&["completions", "tcsh"]).status.code(), Some(2), "an unknown shell is a usage error");
}

/// `--no-mouse` is the TUI's: listed in its help, not in print's, which refuses it.
#[test]
fn no_mouse_belongs_to_the_tui_only() {
    let tui = String::from_utf8(run(&["--help"]).stdout).unwrap();
    assert!(tui.contains("--no-mouse"), "{tui}");
    let print = run(&["print", "--help"]);
    let text = String::from_utf8(print.stdout).unwrap();
    assert!(text.contains("--format") && !text.contains("--no-mouse"), "{text}");
    assert_eq!(run(&["print", "--no-mouse", "-"]).status.code(), Some(2), "a usage error in print");
}

/// Every interned field of every loaded event, the five kept in the event and the nine kept in
/// its profile, reads back as its record has it; profiles are distinct and shared.
#[test]
fn every_field_reads_back_from_its_record() {
    use trailscope::model::raw::RawReader;
    use trailscope::model::{EventStore, SymField::*};
    use trailscope::source::{load, LoadOptions, SourceMsg};
    let raw = RawReader::new(1 << 20);
    let mut store = EventStore::default();
    let inputs = [stratus(), panther()].map(|p| p.to_string_lossy().into_owned());
    let opts = LoadOptions { threads: 2, ..Default::default() };
    load(&inputs, &opts, &raw, &mut |m| match m {
        SourceMsg::Files(f) => store.add_files(f),
        SourceMsg::Batch(b, _) => {
            store.apply(b);
        }
        _ => {}
    });
    assert!(store.len() > 700, "{} events", store.len());
    let distinct: HashSet<_> = store.profiles.iter().collect();
    assert_eq!(distinct.len(), store.profiles.len(), "a profile is stored once");
    assert!(store.profiles.len() < store.len(), "{} profiles for {} events", store.profiles.len(), store.len());
    let distinct: HashSet<_> = store.callers.iter().collect();
    assert_eq!(distinct.len(), store.callers.len(), "a caller is stored once");
    assert!(store.callers.len() < store.len(), "{} callers for {} events", store.callers.len(), store.len());
    for ev in &store.events {
        let bytes = raw.read(store.file_of(ev).unwrap(), ev.loc).unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let text = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
        let mut fields = vec![
            (Region, "/awsRegion"),
            (Account, "/recipientAccountId"),
            (IdentityType, "/userIdentity/type"),
            (IdentityAccount, "/userIdentity/accountId"),
            (Error, "/errorCode"),
            (Category, "/eventCategory"),
            (EventType, "/eventType"),
            (Ip, "/sourceIPAddress"),
            (Agent, "/userAgent"),
            (AccessKey, "/userIdentity/accessKeyId"),
            (Arn, "/userIdentity/arn"),
        ];
        if v.get("insightDetails").is_none() {
            fields.extend([(Name, "/eventName"), (Source, "/eventSource")]);
        }
        for (f, pointer) in fields {
            assert_eq!(store.sym(ev, f), text(pointer), "{f:?} of {}", text("/eventID"));
        }
        assert_eq!(ev.is_error(), !text("/errorCode").is_empty());
    }
}

/// Every record under `root` (gzip or not), as values.
fn records_under(root: &std::path::Path) -> Vec<Value> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let raw = std::fs::read(&p).unwrap();
            let mut text = Vec::new();
            if p.extension().is_some_and(|x| x == "gz") {
                flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut text).unwrap();
            } else {
                text = raw;
            }
            let v: Value = serde_json::from_slice(&text).unwrap();
            out.extend(v["Records"].as_array().cloned().unwrap_or_default());
        }
    }
    out
}

/// A window over a local archive reads only the log files whose delivery times (in their
/// names) can hold its events, and prints exactly what the whole archive holds in it.
#[test]
fn a_window_reads_only_the_files_delivered_in_it_and_misses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("a");
    let opts = trailscope_gen::GenOptions {
        events: 2000,
        per_file: 20,
        seed: 3,
        end_time: 1_767_225_600,
        span_secs: 5 * 86_400,
        accounts: 1,
        regions: 2,
        hostile: false,
        gzip_level: 1,
        digests: false,
        ..Default::default()
    };
    trailscope_gen::generate(&opts, &root).unwrap();
    // A file of another name is always read: its events count whatever it is called.
    let stray = json!({"Records": [{"eventVersion": "1.08", "eventTime": "2025-12-30T12:00:00Z", "eventName": "Stray",
        "eventSource": "s3.amazonaws.com", "awsRegion": "us-east-1", "eventID": "stray-1",
        "userIdentity": {"type": "Root", "arn": "arn:aws:iam::1:root"}}]});
    std::fs::write(root.join("exported.json"), stray.to_string()).unwrap();
    let all = records_under(&root);
    let (since, until) = ("2025-12-30T00:00:00Z", "2025-12-30T23:59:59Z");
    let mut want: Vec<&Value> = all
        .iter()
        .filter(|r| {
            let t = r["eventTime"].as_str().unwrap();
            t >= since && t <= until
        })
        .collect();
    want.sort_by(|a, b| b["eventTime"].as_str().cmp(&a["eventTime"].as_str()));
    assert!(want.len() > 100 && want.len() < all.len() / 2, "{} of {}", want.len(), all.len());
    let o = run(&["print", "--no-cache", "--since", since, "--until", until, root.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_same_selection(&jsonl_values(&o), &want, "one day of five");
    let files = all.len() / 20;
    let skipped: usize = err
        .split(" more log files not read")
        .next()
        .and_then(|s| s.rsplit('(').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("says how many were not read: {err}"));
    assert!(skipped > files / 2, "most of the {files} files were not read: {err}");
    // Nothing in the window at all: no file is read, and that is no failure.
    let logs = root.join("AWSLogs");
    let o = run(&[
        "print",
        "--no-cache",
        "--since",
        "2020-01-01T00:00:00Z",
        "--until",
        "2020-01-02T00:00:00Z",
        logs.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(jsonl_values(&o).is_empty() && !err.contains("no files found"), "{err}");
}

/// CSV's eventID column is read from the records (events keep only a hash of it): row for
/// row, it is the eventID of the record JSON Lines prints in the same place, over real
/// records and a generated archive of many files whose records interleave in time.
#[test]
fn csv_event_ids_are_the_records_own_row_for_row() {
    let dir = tempfile::tempdir().unwrap();
    let archive = recent_archive_in(dir.path(), "archive", 3000, 60, 3, 11, 3600, 6 * 3600);
    // lookup-events output: each record a JSON string.
    let items: Vec<Value> = stratus_records()
        .iter()
        .map(|r| json!({ "EventId": r["eventID"], "EventName": r["eventName"], "CloudTrailEvent": r.to_string() }))
        .collect();
    let lookup = dir.path().join("lookup.json");
    std::fs::write(&lookup, json!({ "Events": items }).to_string()).unwrap();
    for input in [stratus(), panther(), archive, lookup] {
        let input = input.to_str().unwrap();
        let jsonl = run(&["print", "--no-cache", "--format", "jsonl", input]);
        let csv = run(&["print", "--no-cache", "--format", "csv", input]);
        assert_eq!(csv.status.code(), jsonl.status.code(), "{}", stderr(&csv));
        let records = jsonl_values(&jsonl);
        // The eventID is the last column; no id holds a comma or a quote, and cells hold no
        // line break (control characters are sanitised), so a row is a line.
        let lines = stdout_lines(&csv);
        assert!(lines[0].ends_with(",event_id"), "{}", lines[0]);
        let column: Vec<String> = lines[1..].iter().map(|l| l.rsplit(',').next().unwrap().to_string()).collect();
        assert_eq!(column.len(), records.len(), "{input}");
        assert!(records.len() > 300, "{input}");
        // (CSV cells are neutralised: an id starting with - would be written '-…; none does.)
        assert_eq!(column, ids(&records), "{input}");
    }
}
