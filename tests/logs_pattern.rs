//! The JSON filter patterns a filter is compiled to for CloudWatch Logs: a table of filter →
//! pattern, every pattern parsed by a small implementation of the documented grammar, and a
//! property: evaluated by a reference evaluator of the documented semantics, a pattern never
//! excludes an event the local filter (trailscope's own matcher, over the records loaded as
//! a file) keeps.
//!
//! The semantics implemented here, from AWS's "Filter pattern syntax for JSON log events":
//! `$.a.b = "v"` holds when the selector names a string that matches `v` (case-sensitive, `*`
//! a wildcard); `!=` when it names a string that does not; neither holds for a missing field, a
//! null or a value of another type. `$.a NOT EXISTS` holds when the selector names nothing;
//! `$.a IS NULL` when it names a JSON null. `&&` binds tighter than `||`; parentheses group.

use proptest::prelude::*;
use serde_json::{json, Value};
use trailscope::query::{parse, Field, Op, Query, Term, TermKind};
use trailscope::source::logs::pattern::{plan, quote, MAX_PATTERN_LEN};

// ---- the grammar ------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    LBrace,
    RBrace,
    And,
    Or,
    Sel(Vec<String>),
    Eq,
    Ne,
    NotExists,
    IsNull,
    Str(String),
}

fn lex(p: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        match c[i] {
            ' ' => i += 1,
            '(' => (out.push(Tok::Open), i += 1).1,
            ')' => (out.push(Tok::Close), i += 1).1,
            '{' => (out.push(Tok::LBrace), i += 1).1,
            '}' => (out.push(Tok::RBrace), i += 1).1,
            '&' if c.get(i + 1) == Some(&'&') => (out.push(Tok::And), i += 2).1,
            '|' if c.get(i + 1) == Some(&'|') => (out.push(Tok::Or), i += 2).1,
            '=' => (out.push(Tok::Eq), i += 1).1,
            '!' if c.get(i + 1) == Some(&'=') => (out.push(Tok::Ne), i += 2).1,
            '$' => {
                if c.get(i + 1) != Some(&'.') {
                    return Err(format!("a selector starts with $. at {i}"));
                }
                i += 2;
                let mut parts = vec![String::new()];
                while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '.' || c[i] == '_') {
                    if c[i] == '.' {
                        parts.push(String::new());
                    } else {
                        parts.last_mut().unwrap().push(c[i]);
                    }
                    i += 1;
                }
                if parts.iter().any(String::is_empty) {
                    return Err("an empty selector part".into());
                }
                out.push(Tok::Sel(parts));
            }
            '"' => {
                i += 1;
                let mut s = String::new();
                loop {
                    match c.get(i) {
                        None => return Err("an unterminated string".into()),
                        Some('"') => break,
                        Some('\\') => match c.get(i + 1) {
                            Some(e @ ('"' | '\\')) => {
                                s.push(*e);
                                i += 2;
                            }
                            other => return Err(format!("a bad escape \\{other:?}")),
                        },
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                i += 1;
                // Wildcards only at the ends.
                let inner = s.strip_prefix('*').unwrap_or(&s);
                let inner = inner.strip_suffix('*').unwrap_or(inner);
                if inner.contains('*') && s != "*" {
                    return Err(format!("a wildcard inside {s:?}"));
                }
                out.push(Tok::Str(s));
            }
            _ => {
                let rest: String = c[i..].iter().collect();
                if rest.starts_with("NOT EXISTS") {
                    out.push(Tok::NotExists);
                    i += 10;
                } else if rest.starts_with("IS NULL") {
                    out.push(Tok::IsNull);
                    i += 7;
                } else {
                    return Err(format!("unexpected {:?} at {i}", c[i]));
                }
            }
        }
    }
    Ok(out)
}

#[derive(Debug)]
enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Eq(Vec<String>, String),
    Ne(Vec<String>, String),
    NotExists(Vec<String>),
    IsNull(Vec<String>),
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }
    fn next(&mut self) -> Option<Tok> {
        self.at += 1;
        self.toks.get(self.at - 1).cloned()
    }
    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.next();
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }
    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.atom()?;
        while self.peek() == Some(&Tok::And) {
            self.next();
            e = Expr::And(Box::new(e), Box::new(self.atom()?));
        }
        Ok(e)
    }
    fn atom(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Open) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::Close) => Ok(e),
                    t => Err(format!("expected ), found {t:?}")),
                }
            }
            Some(Tok::Sel(s)) => match (self.next(), self.peek().cloned()) {
                (Some(Tok::Eq), Some(Tok::Str(v))) => (self.next(), Ok(Expr::Eq(s, v))).1,
                (Some(Tok::Ne), Some(Tok::Str(v))) => (self.next(), Ok(Expr::Ne(s, v))).1,
                (Some(Tok::NotExists), _) => Ok(Expr::NotExists(s)),
                (Some(Tok::IsNull), _) => Ok(Expr::IsNull(s)),
                (t, _) => Err(format!("expected an operator, found {t:?}")),
            },
            t => Err(format!("expected ( or a selector, found {t:?}")),
        }
    }
}

/// Parses a whole pattern `{ EXPR }`.
fn parse_pattern(p: &str) -> Result<Expr, String> {
    let toks = lex(p)?;
    if toks.first() != Some(&Tok::LBrace) || toks.last() != Some(&Tok::RBrace) {
        return Err("a JSON pattern is in braces".into());
    }
    let mut parser = Parser { toks: toks[1..toks.len() - 1].to_vec(), at: 0 };
    let e = parser.or()?;
    if parser.at != parser.toks.len() {
        return Err(format!("trailing tokens from {}", parser.at));
    }
    Ok(e)
}

fn lookup<'a>(v: &'a Value, sel: &[String]) -> Option<&'a Value> {
    sel.iter().try_fold(v, |v, k| v.as_object()?.get(k))
}

fn glob(s: &str, pat: &str) -> bool {
    let parts: Vec<&str> = pat.split('*').collect();
    if parts.len() == 1 {
        return s == pat;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

fn eval(e: &Expr, rec: &Value) -> bool {
    match e {
        Expr::And(a, b) => eval(a, rec) && eval(b, rec),
        Expr::Or(a, b) => eval(a, rec) || eval(b, rec),
        Expr::Eq(s, v) => lookup(rec, s).and_then(Value::as_str).is_some_and(|x| glob(x, v)),
        Expr::Ne(s, v) => lookup(rec, s).and_then(Value::as_str).is_some_and(|x| !glob(x, v)),
        Expr::NotExists(s) => lookup(rec, s).is_none(),
        Expr::IsNull(s) => lookup(rec, s).is_some_and(Value::is_null),
    }
}

// ---- the table ---------------------------------------------------------------------------

fn compiled(filter: &str) -> (Option<String>, Vec<String>) {
    let p = plan(&parse(filter, 1_700_000_000_000).unwrap());
    (p.pattern, p.local.iter().map(|t| t.to_string()).collect())
}

#[test]
fn filters_compile_to_the_patterns_the_grammar_documents() {
    let cases: &[(&str, Option<&str>, &[&str])] = &[
        (
            "name:=DeleteBucket error:=AccessDenied -user:alice",
            Some(r#"{ ($.eventName = "DeleteBucket") && ($.errorCode = "AccessDenied") }"#),
            &["-user:alice"],
        ),
        // Case-insensitive terms, user:, text: and fuzzy words stay local.
        (
            "name:deletebucket user:=alice text:foo bucket",
            None,
            &["name:deletebucket", "user:=alice", "text:foo", "bucket"],
        ),
        // Wildcards at the ends are the service's; inside a value they are not sent.
        ("name:=Delete*", Some(r#"{ ($.eventName = "Delete*") }"#), &[]),
        ("agent:=*boto3*", Some(r#"{ ($.userAgent = "*boto3*") }"#), &[]),
        ("name:=Del*Bucket", None, &["name:=Del*Bucket"]),
        // A pattern of only wildcards would have to match a missing field too.
        ("name:=*", None, &["name:=*"]),
        // Quotes and backslashes are escaped.
        (r#"agent:="a \"q\" b""#, Some(r#"{ ($.userAgent = "a \"q\" b") }"#), &[]),
        // An exact negation keeps events without the field, or with null there.
        (
            "-error:=AccessDenied",
            Some(r#"{ ((($.errorCode != "AccessDenied") || ($.errorCode NOT EXISTS) || ($.errorCode IS NULL))) }"#),
            &[],
        ),
        ("-name:=Delete*", None, &["-name:=Delete*"]),
        // has: is any string value.
        ("has:error", Some(r#"{ ($.errorCode = "*") }"#), &[]),
        ("-has:error", None, &["-has:error"]),
        // account is either of two fields.
        (
            "account:=123456789012",
            Some(r#"{ (($.recipientAccountId = "123456789012") || ($.userIdentity.accountId = "123456789012")) }"#),
            &[],
        ),
        // Time terms are the request's window.
        ("since:2024-01-01T00:00:00Z", None, &[]),
        ("readonly:true id:=abc", Some(r#"{ ($.eventID = "abc") }"#), &["readonly:true"]),
    ];
    for (filter, pattern, local) in cases {
        let (got, got_local) = compiled(filter);
        assert_eq!(got.as_deref(), *pattern, "{filter}");
        assert_eq!(got_local, local.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{filter}");
        if let Some(p) = &got {
            parse_pattern(p).unwrap_or_else(|e| panic!("{filter}: {p}: {e}"));
        }
    }
    assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
}

#[test]
fn the_grammar_checker_rejects_what_the_grammar_does_not_allow() {
    for bad in [
        r#"$.eventName = "x""#,
        r#"{ $.eventName = "a*b" }"#,
        r#"{ ($.eventName = "x" }"#,
        r#"{ $.eventName = "x\q" }"#,
        r#"{ $.eventName == "x" }"#,
        r#"{ $eventName = "x" }"#,
    ] {
        assert!(parse_pattern(bad).is_err(), "{bad}");
    }
    let e = parse_pattern(r#"{ ($.a = "x") || ($.b = "y") && ($.c NOT EXISTS) }"#).unwrap();
    // && binds tighter: true || (false && …).
    assert!(eval(&e, &json!({"a": "x", "c": 1})));
    assert!(!eval(&e, &json!({"a": "z", "b": "y", "c": 1})));
}

// ---- the property ------------------------------------------------------------------------

const VALUES: &[&str] = &["DeleteBucket", "deletebucket", "a\"b", "c\\d", "x y", "", "a*b"];

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => proptest::sample::select(VALUES).prop_map(|s| Value::String(s.to_string())),
        1 => Just(Value::Null),
    ]
}

/// A field that is missing, null or a string from [`VALUES`].
fn field() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![1 => Just(None), 4 => value().prop_map(Some)]
}

fn record() -> impl Strategy<Value = Value> {
    (proptest::collection::vec(field(), 10), proptest::collection::vec(field(), 4), any::<bool>()).prop_map(
        |(top, id, with_identity)| {
            let mut r = json!({"eventVersion": "1.08", "eventTime": "2024-05-01T12:00:00Z"});
            let names = [
                "eventName",
                "eventSource",
                "errorCode",
                "awsRegion",
                "recipientAccountId",
                "userAgent",
                "sourceIPAddress",
                "requestID",
                "eventCategory",
                "errorMessage",
            ];
            for (k, v) in names.iter().zip(top) {
                if let Some(v) = v {
                    r[*k] = v;
                }
            }
            if with_identity {
                let mut ident = json!({});
                for (k, v) in ["type", "arn", "accessKeyId", "accountId"].iter().zip(id) {
                    if let Some(v) = v {
                        ident[*k] = v;
                    }
                }
                r["userIdentity"] = ident;
            }
            r
        },
    )
}

fn term() -> impl Strategy<Value = Term> {
    let fields = vec![
        Field::Name,
        Field::Source,
        Field::Arn,
        Field::Type,
        Field::Key,
        Field::Ip,
        Field::Region,
        Field::Account,
        Field::Error,
        Field::Agent,
        Field::Request,
        Field::Category,
        Field::User,
    ];
    let values = vec!["DeleteBucket", "Delete*", "*Bucket", "*elete*", "a\"b", "c\\d", "x y", "a*b", "*", "", "delete"];
    (
        any::<bool>(),
        proptest::sample::select(fields),
        prop_oneof![Just(Op::Exact), Just(Op::Contains), Just(Op::Exact)],
        proptest::sample::select(values),
        0..6u8,
    )
        .prop_map(|(negated, field, op, value, kind)| Term {
            negated,
            kind: if kind == 0 {
                TermKind::Has(field)
            } else {
                TermKind::Match { field, op, value: value.to_string() }
            },
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_pattern_never_excludes_an_event_the_local_filter_keeps(
        records in proptest::collection::vec(record(), 1..40),
        terms in proptest::collection::vec(term(), 1..4),
    ) {
        let q = Query { terms };
        let p = plan(&q);
        let Some(pattern) = &p.pattern else { return Ok(()) };
        prop_assert!(pattern.len() <= MAX_PATTERN_LEN);
        let expr = parse_pattern(pattern).map_err(|e| TestCaseError::fail(format!("{pattern}: {e}")))?;
        // The records, as a file, loaded and filtered as trailscope does.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let mut text = String::new();
        for (i, r) in records.iter().enumerate() {
            let mut r = r.clone();
            r["eventID"] = json!(format!("id-{i}"));
            text.push_str(&serde_json::to_string(&r).unwrap());
            text.push('\n');
        }
        std::fs::write(&path, &text).unwrap();
        let raw = trailscope::model::raw::RawReader::new(1 << 20);
        let loaded = trailscope::print::load_all(&[path.to_string_lossy().into_owned()], &raw, true);
        prop_assert_eq!(loaded.store.len(), records.len());
        let mut m = trailscope::query::Matcher::new(&q);
        m.prepare(&loaded.store);
        let ctx = trailscope::query::matcher::MatchCtx { store: &loaded.store, raw: &raw };
        let all: Vec<u32> = (0..loaded.store.len() as u32).collect();
        for i in m.filter(&all, &ctx) {
            let id = loaded.store.event_id(&loaded.store.events[i as usize], &raw);
            let n: usize = id.trim_start_matches("id-").parse().unwrap();
            let mut rec = records[n].clone();
            rec["eventID"] = json!(id);
            prop_assert!(eval(&expr, &rec), "the pattern {} excludes {} which {} keeps", pattern, rec, q);
        }
    }
}
