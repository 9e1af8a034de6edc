//! `trailscope athena sql` and `athena ddl`. There is no Athena here, so the SQL's meaning is
//! checked against an independent engine: sqlglot parses it as Trino (Athena's dialect) and
//! transpiles it to DuckDB, which runs it over the same files through a table that mirrors the
//! documented CloudTrail table (tests/athena_duckdb.py). For a table of filters, the eventIDs
//! DuckDB returns equal those `trailscope print` returns on the same files, or (for terms no
//! column answers exactly) include them. This proves the translation, not Athena itself.

mod common;
use common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A generated archive over three days (two accounts, three regions, hostile strings), and the
/// stratus-red-team records.
fn archive(dir: &Path) -> Vec<PathBuf> {
    let root = dir.join("archive");
    let opts = trailscope_gen::GenOptions {
        events: 1500,
        per_file: 50,
        seed: 11,
        end_time: 1_767_225_600,
        span_secs: 3 * 86_400,
        accounts: 2,
        regions: 3,
        hostile: true,
        gzip_level: 1,
        digests: false,
        ..Default::default()
    };
    trailscope_gen::generate(&opts, &root).unwrap();
    vec![root, stratus()]
}

fn sql_of(filter: &str) -> String {
    let o = run(&["athena", "sql", "--table", "cloudtrail", &format!("--filter={filter}")]);
    assert_eq!(o.status.code(), Some(0), "{filter}: {}", stderr(&o));
    assert!(o.stderr.is_empty(), "nothing on stderr when it succeeds: {}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

fn printed_ids(filter: &str, inputs: &[PathBuf]) -> Vec<String> {
    let f = format!("--filter={filter}");
    let mut args = vec!["print", "--no-cache", "--format", "jsonl", &f];
    let paths: Vec<String> = inputs.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    args.extend(paths.iter().map(String::as_str));
    let o = run(&args);
    assert!(matches!(o.status.code(), Some(0) | Some(3)), "{filter}: {}", stderr(&o));
    let mut ids: Vec<String> =
        jsonl_values(&o).iter().map(|v| v["eventID"].as_str().unwrap_or("").to_string()).collect();
    ids.sort();
    ids
}

/// Runs `statements` in DuckDB over `inputs`: each one's first column, sorted.
fn duckdb(statements: &[String], inputs: &[PathBuf]) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("statements.json");
    std::fs::write(&file, serde_json::to_vec(statements).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/athena_duckdb.py");
    let o = Command::new("python3").arg(script).arg(&file).args(inputs).output().expect("python3");
    assert!(o.status.success(), "athena_duckdb.py: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn the_sql_selects_what_the_filter_selects_in_an_independent_engine() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = archive(dir.path());
    let all = printed_ids("", &inputs);
    let some_id = all[all.len() / 2].clone();
    // (filter, exact): exact filters must select the same events; the others a superset.
    let filters: Vec<(String, bool)> = [
        ("", true),
        ("name:=DeleteBucket", true),
        ("name:delete", true),
        ("name:Delete*", true),
        ("name:*Bucket*", true),
        ("-name:Get*", true),
        ("name:=get*", true),
        ("error:AccessDenied", true),
        ("-error:AccessDenied", true),
        ("has:error", true),
        ("-has:error", true),
        ("user:alice", true),
        ("user:=root", true),
        ("-user:role", true),
        ("user:admin", true),
        ("user:=s3.amazonaws.com", true),
        ("arn:assumed-role", true),
        ("type:=AssumedRole -type:=IAMUser", true),
        ("key:ASIA", true),
        ("-has:key", true),
        ("ip:\"AWS Internal\"", true),
        ("region:=us-east-1", true),
        ("-region:=us-east-1 has:region", true),
        ("account:11", true),
        ("agent:aws-cli", true),
        ("agent:\"it's\"", true),
        ("name:50%", true),
        ("name:a_b", true),
        ("category:=Management", true),
        ("readonly:false", true),
        ("readonly:true", true),
        ("-readonly:true", true),
        ("source:s3", true),
        ("source:=iam.amazonaws.com", true),
        ("since:2025-12-29T23:30:00Z until:2025-12-30T00:30:00Z", true),
        ("since:2025-12-30T12:00:00.500Z", true),
        ("until:2024-08-01T00:00:00Z", true),
        ("resource:bucket", false),
        ("resource:=arn:aws:s3:::*", false),
        ("resource:\"a\\\"b\"", false),
        ("text:Console", false),
        ("dsg", false),
        ("-text:Console", false),
    ]
    .iter()
    .map(|(f, e)| (f.to_string(), *e))
    .chain([(format!("id:={some_id}"), true), (format!("-id:={some_id}"), true)])
    .collect();
    let statements: Vec<String> = filters.iter().map(|(f, _)| sql_of(f)).collect();
    let answers = duckdb(&statements, &inputs);
    let mut nonempty = 0;
    for ((filter, exact), got) in filters.iter().zip(&answers) {
        let want = printed_ids(filter, &inputs);
        if *exact {
            assert_eq!(got, &want, "{filter}: DuckDB {} ids, trailscope {}\n{}", got.len(), want.len(), statements[0]);
        } else {
            let got: BTreeSet<&String> = got.iter().collect();
            let missing: Vec<&String> = want.iter().filter(|i| !got.contains(i)).collect();
            assert!(missing.is_empty(), "{filter}: the SQL's superset misses {missing:?}");
        }
        nonempty += usize::from(!want.is_empty() && want.len() < all.len());
    }
    assert!(nonempty >= 25, "most filters select some events but not all: {nonempty}");
}

#[test]
fn paths_and_windows_prune_partitions_and_the_ddl_is_the_documented_table() {
    let o = run(&[
        "athena",
        "sql",
        "--table",
        "ct",
        "--database",
        "logs",
        "--org",
        "--paths",
        "--filter",
        "region:=eu-west-1",
        "--since",
        "2026-11-21T00:10:00Z",
        "--until",
        "2026-11-22T23:00:00Z",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let sql = String::from_utf8_lossy(&o.stdout);
    assert!(sql.starts_with("SELECT DISTINCT \"$path\"\nFROM logs.ct\n"), "{sql}");
    assert!(sql.contains("\"timestamp\" >= '2026/11/20'"), "the delivery lag widens the first day: {sql}");
    assert!(sql.contains("\"timestamp\" <= '2026/11/23'"), "{sql}");
    assert!(sql.contains("\"region\" = 'eu-west-1'"), "{sql}");
    assert_eq!(sql.matches(';').count(), 0, "one statement: {sql}");

    let bad = run(&["athena", "sql", "--table", "ct", "--filter", "name:"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("bad --filter"), "{}", stderr(&bad));

    let o = run(&[
        "athena",
        "ddl",
        "s3://trail-bucket/org",
        "--accounts",
        "111122223333,444455556666",
        "--regions",
        "us-east-1,eu-west-1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ddl = String::from_utf8_lossy(&o.stdout);
    for want in [
        "CREATE EXTERNAL TABLE cloudtrail_logs (",
        "requestparameters STRING",
        "resources ARRAY<STRUCT<arn: STRING, accountid: STRING, type: STRING>>",
        "PARTITIONED BY (`account` STRING, `region` STRING, `timestamp` STRING)",
        "'com.amazon.emr.cloudtrail.CloudTrailInputFormat'",
        "'projection.account.values'='111122223333,444455556666'",
        "'storage.location.template'='s3://trail-bucket/org/AWSLogs/${account}/CloudTrail/${region}/${timestamp}'",
    ] {
        assert!(ddl.contains(want), "{want}\n{ddl}");
    }
    // The DDL parses as Hive (Athena's DDL dialect).
    let py = "import sqlglot,sys; sqlglot.parse_one(sys.stdin.read(), read='hive'); print('ok')";
    let mut child = Command::new("python3")
        .args(["-c", py])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(ddl.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok", "{}", String::from_utf8_lossy(&out.stderr));

    let no = run(&["athena", "ddl", "bucket/prefix", "--accounts", "1", "--regions", "r"]);
    assert_eq!(no.status.code(), Some(2));
    assert!(stderr(&no).contains("not an s3://bucket/prefix URL"), "{}", stderr(&no));
}
