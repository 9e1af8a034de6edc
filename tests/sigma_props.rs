//! Property: a Sigma rule with one field condition built from a real record (a field it has,
//! compared whole or by a piece of its value, through a random modifier, with the case of
//! its letters changed where Sigma ignores case) matches that record; `not` the same
//! condition does not. A field the record lacks matches `null`.

mod common;

use proptest::prelude::*;
use serde_json::Value;
use std::sync::OnceLock;
use trailscope::sigma::RuleSet;

fn records() -> &'static Vec<Value> {
    static R: OnceLock<Vec<Value>> = OnceLock::new();
    R.get_or_init(common::stratus_records)
}

/// Every (dotted path, value as Sigma compares it) of a record: strings as they are, other
/// values as compact JSON, objects too (and their fields). Paths whose keys a rule could not
/// name plainly are left out.
fn fields(v: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
    let Some(obj) = v.as_object() else { return };
    for (k, v) in obj {
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            continue;
        }
        let path = format!("{prefix}{k}");
        match v {
            Value::Null => {}
            Value::String(s) => out.push((path.clone(), s.clone())),
            other => out.push((path.clone(), serde_json::to_string(other).unwrap())),
        }
        if v.is_object() {
            fields(v, &format!("{path}."), out);
        }
    }
}

/// `s` with Sigma's wildcards and escape character escaped.
fn escape(s: &str) -> String {
    s.chars().fold(String::new(), |mut o, c| {
        if matches!(c, '*' | '?' | '\\') {
            o.push('\\');
        }
        o.push(c);
        o
    })
}

/// ASCII letters of `s` in the other case where `flips` says so.
fn flip_case(s: &str, flips: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if flips >> (i % 64) & 1 == 1 {
                if c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            } else {
                c
            }
        })
        .collect()
}

fn rule(key: &str, value: &str, negated: bool) -> String {
    // A JSON string is a YAML double-quoted scalar.
    let value = if value == "null" { "null".to_string() } else { serde_json::to_string(value).unwrap() };
    let condition = if negated { "not sel" } else { "sel" };
    format!(
        "title: property\nid: p\nlevel: low\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    {key}: {value}\n  condition: {condition}\n"
    )
}

fn matches(yaml: &str, record: &Value) -> bool {
    let mut set = RuleSet::new();
    set.add_yaml(yaml, "property.yml");
    assert!(set.problems.is_empty(), "{:?}\n{yaml}", set.problems);
    assert_eq!(set.rules.len(), 1);
    !set.eval(record).is_empty()
}

/// A substring of `s` from `a` to `b` (in characters, ordered, clamped).
fn piece(s: &str, a: usize, b: usize) -> String {
    let n = s.chars().count();
    let (a, b) = (a % (n + 1), b % (n + 1));
    let (a, b) = (a.min(b), a.max(b));
    s.chars().skip(a).take(b - a).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn a_condition_from_a_record_matches_it_and_its_negation_does_not(
        rec in 0usize..10_000, pick in any::<usize>(), how in 0u8..9, a in any::<usize>(), b in any::<usize>(), flips in any::<u64>()
    ) {
        let records = records();
        let record = &records[rec % records.len()];
        let mut fs = Vec::new();
        fields(record, "", &mut fs);
        let (path, value) = fs[pick % fs.len()].clone();
        let n = value.chars().count();
        let (key, v) = match how {
            0 => (path.clone(), flip_case(&escape(&value), flips)),
            1 => (format!("{path}|cased"), escape(&value)),
            2 => (format!("{path}|contains"), flip_case(&escape(&piece(&value, a, b)), flips)),
            3 => (format!("{path}|startswith"), flip_case(&escape(&piece(&value, 0, a % (n + 1))), flips)),
            4 => (format!("{path}|endswith"), flip_case(&escape(&piece(&value, a % (n + 1), n)), flips)),
            5 => (format!("{path}|re"), regex::escape(&piece(&value, a, b))),
            6 => (format!("{path}|fieldref"), path.clone()),
            7 => (format!("{path}|contains|cased"), escape(&piece(&value, a, b))),
            // A field the record does not have.
            _ => (format!("{path}Missing"), "null".to_string()),
        };
        prop_assert!(matches(&rule(&key, &v, false), record), "{key}: {v:?} on {value:?}");
        prop_assert!(!matches(&rule(&key, &v, true), record), "not {key}: {v:?} on {value:?}");
    }
}
