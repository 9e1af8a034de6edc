//! Detections against an independent reference: pySigma's SQLite backend
//! (tests/sigma_reference.py) converts each of SigmaHQ's CloudTrail rules (../shared/sigma) to
//! SQL and runs it over the real records of ../shared/data flattened into a table; the
//! (rule, eventID) pairs `trailscope detect` finds must be the same, rule by rule.
//!
//! Where the backend and Sigma differ, the script makes the table follow Sigma rather than
//! hide the difference:
//! - SQL names are case-insensitive, Sigma's field names are not: some panther records
//!   write `userIdentity.sessioncontext`, which `userIdentity.sessionContext` must not find.
//!   The script spells capitals out in column names (and maps the queries' names the same way
//!   through a pySigma pipeline), so a plain table would have matched where Sigma does not.
//! - SQLite compares text case-insensitively only with `COLLATE NOCASE` (every column has it)
//!   and only for ASCII letters; the records here hold ASCII in the fields the rules name.
//! - `|re` becomes `REGEXP`, which SQLite leaves to the application: the script supplies
//!   Python's `re.search`, case-sensitive, as Sigma specifies; Rust's `regex` agrees on the
//!   one expression the rules use.
//! - A rule that cannot be evaluated as written is skipped by trailscope, while pySigma
//!   converts it literally: `<YOUR-BUCKET-NAME>` in the S3 Browser bucket-policy rule would be
//!   searched for as those very characters. Such rules are left out of the comparison; the
//!   test checks that the only rules trailscope skips are for placeholders.

mod common;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn rules_dir() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sigma/rules");
    assert!(p.is_dir(), "the Sigma rules are missing: expected them at {}", p.display());
    p
}

type Pairs = BTreeMap<String, BTreeSet<String>>;

fn reference(inputs: &[PathBuf]) -> Pairs {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sigma_reference.py");
    let out = Command::new("python3").arg(script).arg(rules_dir()).args(inputs).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"].as_object().map(|e| e.len()), Some(0), "pySigma could not convert: {}", v["errors"]);
    let mut pairs = Pairs::new();
    for p in v["pairs"].as_array().unwrap() {
        pairs.entry(p[0].as_str().unwrap().to_string()).or_default().insert(p[1].as_str().unwrap().to_string());
    }
    pairs
}

/// `trailscope detect` over `inputs`: its pairs, the titles of its rules, and the rule files it skipped.
fn trailscope(inputs: &[PathBuf]) -> (Pairs, BTreeMap<String, String>, Vec<String>) {
    let rules = rules_dir();
    let mut args = vec!["detect", "--no-cache", "--rules", rules.to_str().unwrap()];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    let out = common::run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let mut pairs = Pairs::new();
    let mut titles = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let id = v["rule_id"].as_str().unwrap().to_string();
        titles.insert(id.clone(), v["title"].as_str().unwrap().to_string());
        pairs.entry(id).or_default().insert(v["eventID"].as_str().unwrap().to_string());
    }
    let expected = if pairs.is_empty() { 0 } else { 5 };
    assert_eq!(out.status.code(), Some(expected), "{stderr}");
    let skipped = stderr.lines().filter(|l| l.starts_with("trailscope: rule skipped: ")).map(str::to_string).collect();
    (pairs, titles, skipped)
}

/// The rule ids in the files trailscope skipped.
fn skipped_ids(skipped: &[String]) -> BTreeSet<String> {
    skipped
        .iter()
        .map(|line| {
            let file = line.trim_start_matches("trailscope: rule skipped: ").split(".yml:").next().unwrap();
            let text = std::fs::read_to_string(format!("{file}.yml")).unwrap();
            text.lines().find_map(|l| l.strip_prefix("id: ")).unwrap().trim().to_string()
        })
        .collect()
}

fn compare(name: &str, inputs: &[PathBuf]) -> usize {
    let probe = Command::new("python3").args(["-c", "import sigma.backends.sqlite"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: python3 cannot import pySigma's SQLite backend (.ci/run installs pysigma-backend-sqlite)");
        return 0;
    }
    let theirs = reference(inputs);
    let (ours, titles, skipped) = trailscope(inputs);
    for s in &skipped {
        assert!(s.contains("placeholder"), "a SigmaHQ CloudTrail rule was skipped for another reason: {s}");
    }
    let left_out = skipped_ids(&skipped);
    assert_eq!(left_out.len(), skipped.len());
    let ids: BTreeSet<&String> = theirs.keys().chain(ours.keys()).filter(|id| !left_out.contains(*id)).collect();
    for id in &ids {
        let (a, b) = (ours.get(*id).cloned().unwrap_or_default(), theirs.get(*id).cloned().unwrap_or_default());
        let title = titles.get(*id).map_or("", String::as_str);
        assert_eq!(
            a,
            b,
            "{name}: rule {id} ({title}): trailscope found {:?} that pySigma did not, pySigma {:?} that trailscope did not",
            a.difference(&b).collect::<Vec<_>>(),
            b.difference(&a).collect::<Vec<_>>()
        );
        eprintln!("{name}: {} ({id}): {} event ids", title, a.len());
    }
    ids.len()
}

#[test]
fn stratus_red_team_detections_equal_pysigma() {
    let fired = compare("stratus-red-team", &[common::stratus()]);
    // Attack detonations: several rules must fire, or the comparison proves nothing.
    assert!(fired >= 5 || fired == 0, "{fired}");
}

#[test]
fn panther_samples_detections_equal_pysigma() {
    let fired = compare("panther", &[common::panther()]);
    assert!(fired >= 5 || fired == 0, "{fired}");
}
