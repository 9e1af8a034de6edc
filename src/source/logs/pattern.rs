//! A filter compiled to a CloudWatch Logs JSON filter pattern that selects a superset of what
//! the filter matches.
//!
//! Pattern comparisons are case-sensitive and see the record as stored, so only terms the
//! pattern keeps exactly or widens are sent: exact terms (`field:=value`, `*` only at the
//! ends), `has:`, and an exact negation as `($.f != "v") || ($.f NOT EXISTS) || ($.f IS NULL)`.
//! Case-insensitive terms, `user:` (a name the list derives), `text:`, `resource:` and fuzzy
//! words stay local. Every term is applied locally again, so what is shown is exact whatever the
//! service does with the pattern.
//!
//! The grammar written (AWS's "filter pattern syntax for JSON log events"): `{ EXPR }` where
//! `EXPR` is `(COND) && (COND) …`, a condition is `$.a.b = "v"`, `$.a.b != "v"`,
//! `$.a.b NOT EXISTS`, `$.a.b IS NULL`, or conditions joined with `||`, in parentheses. String
//! values are quoted, with `"` and `\` escaped by `\`; `*` is a wildcard.

use crate::query::{Field, Op, Query, Term, TermKind};
use std::fmt;

/// The longest filter pattern CloudWatch Logs accepts.
pub const MAX_PATTERN_LEN: usize = 1024;

/// How a filter is split between CloudWatch Logs and the client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogsPlan {
    /// The JSON filter pattern sent, if any term could be.
    pub pattern: Option<String>,
    /// The terms sent in the pattern (checked locally again all the same).
    pub pushed: Vec<Term>,
    /// The terms checked only locally, as the user wrote them (for display).
    pub local: Vec<Term>,
    /// The latest `since:` bound (ms): the request's startTime.
    pub since: Option<i64>,
    /// The earliest `until:` bound (ms): the request's endTime.
    pub until: Option<i64>,
    /// The regions exact `region:=` terms ask for (every one must hold): only the streams a
    /// trail writes for them (`…_CloudTrail_<region>`) can hold a match. Empty: no such term.
    pub regions: Vec<String>,
}

impl fmt::Display for LogsPlan {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match &self.pattern {
            Some(p) => write!(f, "CloudWatch: {}", crate::sanitize::sanitize(p))?,
            None => f.write_str("CloudWatch: all events")?,
        }
        if !self.local.is_empty() {
            let terms: Vec<String> =
                self.local.iter().map(|t| crate::sanitize::sanitize(&t.to_string()).into_owned()).collect();
            write!(f, " · local: {}", terms.join(" "))?;
        }
        Ok(())
    }
}

/// The JSON selectors a field's value is read from in a record, when the list's value of the
/// field is the record's string there as it is. `account` matches either of two.
///
/// Known gaps, where the list's value is not the record's string: the name of an Insights
/// record is composed from its `insightDetails` (`DeleteBucket · ApiCallRateInsight Start`),
/// and a value of another JSON type (a number) is compared as text here but not by the
/// service; an exact term written for such a value is excluded by the pattern.
fn selectors(f: Field) -> &'static [&'static str] {
    match f {
        Field::Name => &["$.eventName"],
        Field::Source => &["$.eventSource"],
        Field::Arn => &["$.userIdentity.arn"],
        Field::Type => &["$.userIdentity.type"],
        Field::Key => &["$.userIdentity.accessKeyId"],
        Field::Ip => &["$.sourceIPAddress"],
        Field::Region => &["$.awsRegion"],
        Field::Account => &["$.recipientAccountId", "$.userIdentity.accountId"],
        Field::Error => &["$.errorCode"],
        Field::Agent => &["$.userAgent"],
        Field::Id => &["$.eventID"],
        Field::Request => &["$.requestID"],
        Field::Category => &["$.eventCategory"],
        // The list's principal is derived; resources and text look into the whole record;
        // readOnly may be a boolean or a string; verification and detections are not in the
        // record.
        Field::User
        | Field::Resource
        | Field::Text
        | Field::ReadOnly
        | Field::Verified
        | Field::Rule
        | Field::Level => &[],
    }
}

/// A value quoted for a pattern: `"` and `\` escaped.
pub fn quote(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

/// Whether a value can be compared by the service as the filter compares it: `*` only at its
/// ends, and something between them (a pattern of only `*` would also have to match a
/// missing field, which the service's `=` does not).
fn pushable_value(v: &str) -> bool {
    let inner = v.strip_prefix('*').unwrap_or(v);
    let inner = inner.strip_suffix('*').unwrap_or(inner);
    !inner.is_empty() && !inner.contains('*')
}

/// The condition of one term, if it can be sent.
pub fn condition(t: &Term) -> Option<String> {
    match (&t.kind, t.negated) {
        (TermKind::Match { field, op: Op::Exact, value }, false) if pushable_value(value) => {
            let sel = selectors(*field);
            let parts: Vec<String> = sel.iter().map(|s| format!("{s} = {}", quote(value))).collect();
            join_or(&parts)
        }
        // An exact negation keeps events without the field (or with null there): the service's
        // `!=` does not match those, so they are asked for too. A wildcard negation is not sent.
        (TermKind::Match { field, op: Op::Exact, value }, true) if !value.is_empty() && !value.contains('*') => {
            let sel = selectors(*field);
            if sel.is_empty() {
                return None;
            }
            let each: Vec<String> = sel
                .iter()
                .map(|s| format!("(({s} != {v}) || ({s} NOT EXISTS) || ({s} IS NULL))", v = quote(value)))
                .collect();
            Some(each.join(" && "))
        }
        // `has:` asks for a value that is not empty: any string value is a superset.
        (TermKind::Has(field), false) => {
            let parts: Vec<String> = selectors(*field).iter().map(|s| format!("{s} = \"*\"")).collect();
            join_or(&parts)
        }
        _ => None,
    }
}

fn join_or(parts: &[String]) -> Option<String> {
    match parts.len() {
        0 => None,
        1 => Some(parts[0].clone()),
        _ => Some(parts.iter().map(|p| format!("({p})")).collect::<Vec<_>>().join(" || ")),
    }
}

/// Splits a filter between CloudWatch Logs (a JSON filter pattern of every term that can be
/// sent, as long as it fits in [`MAX_PATTERN_LEN`]) and the client.
pub fn plan(q: &Query) -> LogsPlan {
    let mut p = LogsPlan::default();
    let mut conds: Vec<String> = Vec::new();
    for t in &q.terms {
        match (&t.kind, t.negated) {
            (TermKind::Since(ms), false) => p.since = Some(p.since.map_or(*ms, |s: i64| s.max(*ms))),
            (TermKind::Until(ms), false) => p.until = Some(p.until.map_or(*ms, |u: i64| u.min(*ms))),
            (TermKind::Match { field: Field::Region, op: Op::Exact, value }, false) if !value.contains('*') => {
                p.regions.push(value.clone());
                match condition(t) {
                    Some(c) if pattern_of(&conds, Some(&c)).len() <= MAX_PATTERN_LEN => {
                        conds.push(c);
                        p.pushed.push(t.clone());
                    }
                    _ => p.local.push(t.clone()),
                }
            }
            _ => match condition(t) {
                // A term that would make the pattern too long is left out of it (a pattern
                // with fewer terms selects more, never less).
                Some(c) if pattern_of(&conds, Some(&c)).len() <= MAX_PATTERN_LEN => {
                    conds.push(c);
                    p.pushed.push(t.clone());
                }
                _ => p.local.push(t.clone()),
            },
        }
    }
    if !conds.is_empty() {
        p.pattern = Some(pattern_of(&conds, None));
    }
    p
}

/// The region of a stream a trail writes: `[<org>_]<account>_CloudTrail_<region>[_N]`;
/// `None` for a name of another shape.
pub fn stream_region(name: &str) -> Option<&str> {
    let (_, rest) = name.split_once("_CloudTrail_")?;
    let region = match rest.rsplit_once('_') {
        Some((r, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => r,
        _ => rest,
    };
    (!region.is_empty()).then_some(region)
}

/// Whether a stream can hold events of every one of `regions` (a stream of another shape can).
pub fn stream_wanted(name: &str, regions: &[String]) -> bool {
    match stream_region(name) {
        Some(r) => regions.iter().all(|w| w == r),
        None => true,
    }
}

fn pattern_of(conds: &[String], more: Option<&String>) -> String {
    let all: Vec<String> = conds.iter().chain(more).map(|c| format!("({c})")).collect();
    format!("{{ {} }}", all.join(" && "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pl(s: &str) -> LogsPlan {
        plan(&crate::query::parse(s, 1_700_000_000_000).unwrap())
    }

    #[test]
    fn the_issue_example() {
        let p = pl("name:=DeleteBucket error:=AccessDenied -user:alice");
        assert_eq!(
            p.pattern.as_deref(),
            Some(r#"{ ($.eventName = "DeleteBucket") && ($.errorCode = "AccessDenied") }"#)
        );
        assert_eq!(
            p.to_string(),
            r#"CloudWatch: { ($.eventName = "DeleteBucket") && ($.errorCode = "AccessDenied") } · local: -user:alice"#
        );
    }

    #[test]
    fn streams_of_a_region() {
        assert_eq!(stream_region("111122223333_CloudTrail_eu-west-1"), Some("eu-west-1"));
        assert_eq!(stream_region("111122223333_CloudTrail_eu-west-1_2"), Some("eu-west-1"));
        assert_eq!(stream_region("o-abc_111122223333_CloudTrail_us-east-1_12"), Some("us-east-1"));
        assert_eq!(stream_region("something-else"), None);
        let r = vec!["us-east-1".to_string()];
        assert!(stream_wanted("1_CloudTrail_us-east-1_3", &r));
        assert!(!stream_wanted("1_CloudTrail_us-east-2", &r));
        assert!(stream_wanted("other", &r));
        assert_eq!(pl("region:=us-east-1 -region:=x region:=eu*").regions, r);
    }

    #[test]
    fn quoting_escapes_quotes_and_backslashes() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }

    #[test]
    fn long_patterns_keep_what_fits() {
        let long = "x".repeat(400);
        let p = pl(&format!("name:={long} agent:={long} error:={long}"));
        assert!(p.pattern.as_ref().unwrap().len() <= MAX_PATTERN_LEN);
        assert_eq!(p.pushed.len(), 2);
        assert_eq!(p.local.len(), 1);
    }
}
