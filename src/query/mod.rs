//! The filter language, the same in the TUI's filter pane and in `print --filter`.
//!
//! ```text
//! name:Delete* -error:AccessDenied user:alice agent:"aws-cli/2" has:error since:6h bucket
//! ```
//! Terms are separated by spaces and all must match. `field:value` is a case-insensitive
//! substring match, `field:=value` an exact, case-sensitive one; `*` in a value is a wildcard
//! that anchors the match. `-` negates a term, `has:FIELD` tests presence, a bare word matches
//! any of the list's columns.

pub mod fuzzy;
pub mod matcher;
pub mod plan;
pub mod run;

pub use matcher::Matcher;

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
/// A field a term can name.
pub enum Field {
    /// `name`: eventName.
    Name,
    /// `source`: eventSource.
    Source,
    /// `user`: the principal shown in the list, or userIdentity.arn.
    User,
    /// `arn`: userIdentity.arn.
    Arn,
    /// `type`: userIdentity.type.
    Type,
    /// `key`: userIdentity.accessKeyId.
    Key,
    /// `ip`: sourceIPAddress.
    Ip,
    /// `region`: awsRegion.
    Region,
    /// `account`: recipientAccountId or userIdentity.accountId.
    Account,
    /// `error`: errorCode.
    Error,
    /// `agent`: userAgent.
    Agent,
    /// `id`: eventID.
    Id,
    /// `request`: requestID.
    Request,
    /// `resource`: any resources[].ARN or string value in requestParameters.
    Resource,
    /// `category`: eventCategory.
    Category,
    /// `readonly`: readOnly.
    ReadOnly,
    /// `text`: anywhere in the raw record.
    Text,
    /// `verified`: whether the event's log file passed verification against the trail's digests.
    Verified,
    /// `rule`: the title or id of a detection rule the event matched.
    Rule,
    /// `level`: the event matched a detection rule of this level or above.
    Level,
}

impl Field {
    /// Every field, in the order the help lists them.
    pub const ALL: [Field; 20] = [
        Field::Name,
        Field::Source,
        Field::User,
        Field::Arn,
        Field::Type,
        Field::Key,
        Field::Ip,
        Field::Region,
        Field::Account,
        Field::Error,
        Field::Agent,
        Field::Id,
        Field::Request,
        Field::Resource,
        Field::Category,
        Field::ReadOnly,
        Field::Text,
        Field::Verified,
        Field::Rule,
        Field::Level,
    ];

    /// The field's name in the filter language.
    pub fn name(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Source => "source",
            Field::User => "user",
            Field::Arn => "arn",
            Field::Type => "type",
            Field::Key => "key",
            Field::Ip => "ip",
            Field::Region => "region",
            Field::Account => "account",
            Field::Error => "error",
            Field::Agent => "agent",
            Field::Id => "id",
            Field::Request => "request",
            Field::Resource => "resource",
            Field::Category => "category",
            Field::ReadOnly => "readonly",
            Field::Text => "text",
            Field::Verified => "verified",
            Field::Rule => "rule",
            Field::Level => "level",
        }
    }

    /// What the field matches, for the help screen.
    pub fn describe(self) -> &'static str {
        match self {
            Field::Name => "eventName",
            Field::Source => "eventSource",
            Field::User => "the principal shown in the list, or userIdentity.arn",
            Field::Arn => "userIdentity.arn",
            Field::Type => "userIdentity.type",
            Field::Key => "userIdentity.accessKeyId",
            Field::Ip => "sourceIPAddress",
            Field::Region => "awsRegion",
            Field::Account => "recipientAccountId or userIdentity.accountId",
            Field::Error => "errorCode",
            Field::Agent => "userAgent",
            Field::Id => "eventID",
            Field::Request => "requestID",
            Field::Resource => "any resources[].ARN or string value in requestParameters",
            Field::Category => "eventCategory",
            Field::ReadOnly => "readOnly (true/false)",
            Field::Text => "anywhere in the raw record",
            Field::Verified => "its log file verified against the trail's digests (true/false; the TUI)",
            Field::Rule => "the title or id of a Sigma rule it matched (--rules; has:rule: any)",
            Field::Level => "a Sigma rule of this level or above matched (low, medium, high, critical)",
        }
    }

    /// The field a name (or an alias) stands for.
    pub fn from_name(s: &str) -> Option<Field> {
        let lower = s.to_ascii_lowercase();
        Field::ALL.into_iter().find(|f| f.name() == lower)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// How a `field:value` term compares.
pub enum Op {
    /// `field:value`: case-insensitive substring (or anchored glob with `*`).
    Contains,
    /// `field:=value`: case-sensitive equality (or anchored glob with `*`).
    Exact,
}

#[derive(Clone, Debug, PartialEq, Eq)]
/// What a term asks.
pub enum TermKind {
    /// `field:value` or `field:=value`.
    Match {
        /// The field compared.
        field: Field,
        /// How.
        op: Op,
        /// With what (`*` a wildcard).
        value: String,
    },
    /// `has:field`: present and not empty.
    Has(Field),
    /// A bare word, matched fuzzily against the list's columns.
    Bare(String),
    /// `since:`: at or after this time (ms).
    Since(i64),
    /// `until:`: at or before this time (ms).
    Until(i64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
/// One term of a filter.
pub struct Term {
    /// Written with a leading `-`.
    pub negated: bool,
    /// What it asks.
    pub kind: TermKind,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
/// A parsed filter: an event matches when every term does.
pub struct Query {
    /// The terms, in the order written.
    pub terms: Vec<Term>,
}

impl Query {
    /// Whether the filter has no term.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
/// A filter that does not parse: why, and where.
pub struct QueryError {
    /// What is wrong (shown to the user as it is).
    pub message: String,
    /// Byte range of the offending term in the input.
    pub start: usize,
    /// End of the byte range.
    pub end: usize,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for QueryError {}

fn err(message: impl Into<String>, start: usize, end: usize) -> QueryError {
    QueryError { message: crate::sanitize::sanitize(&message.into()).into_owned(), start, end }
}

/// A raw token: its text with quotes resolved, where a `:` outside quotes split it, and span.
struct Token {
    start: usize,
    end: usize,
    /// Text before an unquoted `:`, if there was one.
    key: Option<String>,
    /// Whether the value part began with `=` (outside quotes).
    exact: bool,
    value: String,
    negated: bool,
    quoted_value: bool,
}

fn tokenize(input: &str) -> Result<Vec<Token>, QueryError> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].1.is_whitespace() {
            i += 1;
            continue;
        }
        let start = chars[i].0;
        let mut negated = false;
        if chars[i].1 == '-' {
            negated = true;
            i += 1;
        }
        let mut key: Option<String> = None;
        let mut exact = false;
        let mut buf = String::new();
        let mut quoted_value = false;
        let mut at_value_start = true;
        while i < chars.len() && !chars[i].1.is_whitespace() {
            let c = chars[i].1;
            if c == '"' {
                quoted_value = true;
                i += 1;
                let mut closed = false;
                while i < chars.len() {
                    match chars[i].1 {
                        '"' => {
                            closed = true;
                            i += 1;
                            break;
                        }
                        '\\' if i + 1 < chars.len() && matches!(chars[i + 1].1, '"' | '\\') => {
                            buf.push(chars[i + 1].1);
                            i += 2;
                        }
                        c => {
                            buf.push(c);
                            i += 1;
                        }
                    }
                }
                if !closed {
                    return Err(err("unterminated quote: add a closing \"", start, input.len()));
                }
                at_value_start = false;
                continue;
            }
            if c == ':' && key.is_none() && !quoted_value {
                key = Some(std::mem::take(&mut buf));
                at_value_start = true;
                i += 1;
                continue;
            }
            if c == '=' && key.is_some() && at_value_start && buf.is_empty() && !exact {
                exact = true;
                i += 1;
                continue;
            }
            at_value_start = false;
            buf.push(c);
            i += 1;
        }
        let end = if i < chars.len() { chars[i].0 } else { input.len() };
        out.push(Token { start, end, key, exact, value: buf, negated, quoted_value });
    }
    Ok(out)
}

/// `2026-11-21`.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// `20:54`, `20:54:23`, `20:54:23.5`, each with `Z` or an offset (`+02:00`) or nothing.
fn is_time_of_day(s: &str) -> bool {
    let b = s.as_bytes();
    let hm =
        b.len() >= 5 && b[..2].iter().all(u8::is_ascii_digit) && b[2] == b':' && b[3..5].iter().all(u8::is_ascii_digit);
    hm && s[5..].chars().all(|c| c.is_ascii_digit() || matches!(c, ':' | '.' | 'Z' | 'z' | '+' | '-'))
}

/// Parses a filter. `now_ms` anchors relative ages in `since:`/`until:`.
pub fn parse(input: &str, now_ms: i64) -> Result<Query, QueryError> {
    let mut terms = Vec::new();
    let mut tokens = tokenize(input)?.into_iter().peekable();
    while let Some(mut t) = tokens.next() {
        // `since:2026-11-21 20:54:23Z`, a time as the list shows it: the time of day is the
        // next word, which would otherwise read as a term of its own.
        let timed = matches!(t.key.as_deref().map(str::to_ascii_lowercase).as_deref(), Some("since" | "until"));
        if timed && !t.quoted_value && is_date(&t.value) {
            if let Some(next) = tokens.peek() {
                let text = &input[next.start..next.end];
                if is_time_of_day(text) {
                    t.value = format!("{} {text}", t.value);
                    t.end = next.end;
                    tokens.next();
                }
            }
        }
        let (s, e) = (t.start, t.end);
        let kind = match t.key {
            None => {
                if t.value.is_empty() {
                    let what = if t.negated { "'-' must be followed by a term" } else { "empty term" };
                    return Err(err(what, s, e));
                }
                TermKind::Bare(t.value)
            }
            Some(key) => {
                if t.value.is_empty() && !t.quoted_value {
                    return Err(err(format!("'{key}:' needs a value"), s, e));
                }
                match key.to_ascii_lowercase().as_str() {
                    "has" => {
                        let f = Field::from_name(&t.value)
                            .ok_or_else(|| err(format!("has: unknown field '{}' ({})", t.value, field_list()), s, e))?;
                        TermKind::Has(f)
                    }
                    k @ ("since" | "until") => {
                        if t.negated {
                            return Err(err(
                                format!(
                                    "{k}: cannot be negated; use {}: instead",
                                    if k == "since" { "until" } else { "since" }
                                ),
                                s,
                                e,
                            ));
                        }
                        let ms = crate::model::time::parse_time_arg(&t.value, now_ms)
                            .map_err(|m| err(format!("{k}: {m}"), s, e))?;
                        if k == "since" {
                            TermKind::Since(ms)
                        } else {
                            TermKind::Until(ms)
                        }
                    }
                    _ => {
                        let field = Field::from_name(&key).ok_or_else(|| {
                            let k = if key.is_empty() { "(empty)".to_string() } else { key.clone() };
                            err(
                                format!(
                                    "unknown field '{k}' (fields: {}; quote a value that contains ':')",
                                    field_list()
                                ),
                                s,
                                e,
                            )
                        })?;
                        if matches!(field, Field::ReadOnly | Field::Verified)
                            && !matches!(t.value.to_ascii_lowercase().as_str(), "true" | "false")
                        {
                            return Err(err(format!("{}: takes true or false", field.name()), s, e));
                        }
                        if field == Field::Level && crate::model::detect::Level::parse(&t.value).is_none() {
                            return Err(err(
                                "level: takes informational, low, medium, high or critical (matches it and above)",
                                s,
                                e,
                            ));
                        }
                        let op = if t.exact { Op::Exact } else { Op::Contains };
                        TermKind::Match { field, op, value: t.value }
                    }
                }
            }
        };
        terms.push(Term { negated: t.negated, kind });
    }
    Ok(Query { terms })
}

fn field_list() -> String {
    let mut names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
    names.extend(["has", "since", "until"]);
    names.join(", ")
}

fn quote_if_needed(v: &str) -> String {
    if v.is_empty()
        || v.chars().any(|c| c.is_whitespace() || c == '"' || c == ':' || c == '\\')
        || v.starts_with('-')
        || v.starts_with('=')
    {
        let mut s = String::from('"');
        for c in v.chars() {
            if c == '"' || c == '\\' {
                s.push('\\');
            }
            s.push(c);
        }
        s.push('"');
        s
    } else {
        v.to_string()
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.negated {
            f.write_str("-")?;
        }
        match &self.kind {
            TermKind::Match { field, op, value } => {
                write!(f, "{}:{}{}", field.name(), if *op == Op::Exact { "=" } else { "" }, quote_if_needed(value))
            }
            TermKind::Has(field) => write!(f, "has:{}", field.name()),
            TermKind::Bare(v) => f.write_str(&quote_if_needed(v)),
            TermKind::Since(ms) => {
                write!(f, "since:{}", crate::model::time::format_rfc3339_ms(*ms))
            }
            TermKind::Until(ms) => {
                write!(f, "until:{}", crate::model::time::format_rfc3339_ms(*ms))
            }
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Query {
        parse(s, 1_000_000_000_000).unwrap()
    }

    #[test]
    fn parses_terms() {
        let q = p(r#"name:Delete* -error:=AccessDenied agent:"aws-cli/2 x" has:error bucket readonly:false"#);
        assert_eq!(q.terms.len(), 6);
        assert_eq!(q.terms[0].kind, TermKind::Match { field: Field::Name, op: Op::Contains, value: "Delete*".into() });
        assert!(q.terms[1].negated);
        assert_eq!(
            q.terms[1].kind,
            TermKind::Match { field: Field::Error, op: Op::Exact, value: "AccessDenied".into() }
        );
        assert_eq!(
            q.terms[2].kind,
            TermKind::Match { field: Field::Agent, op: Op::Contains, value: "aws-cli/2 x".into() }
        );
        assert_eq!(q.terms[3].kind, TermKind::Has(Field::Error));
        assert_eq!(q.terms[4].kind, TermKind::Bare("bucket".into()));
        assert_eq!(p("since:1h").terms[0].kind, TermKind::Since(1_000_000_000_000 - 3_600_000));
        // A time as the list shows it, with a space, and as `y t` copies it.
        let at = crate::model::time::parse_rfc3339("2026-11-21T20:54:23Z").unwrap();
        for text in [
            "since:2026-11-21 20:54:23Z name:x",
            "since:2026-11-21T20:54:23Z name:x",
            "since:\"2026-11-21 20:54:23Z\" name:x",
        ] {
            let q = p(text);
            assert_eq!(q.terms.len(), 2, "{text}");
            assert_eq!(q.terms[0].kind, TermKind::Since(at), "{text}");
        }
        let q = p("until:2026-11-21 20:54 bucket");
        assert_eq!(q.terms[0].kind, TermKind::Until(at - 23_000));
        assert_eq!(q.terms[1].kind, TermKind::Bare("bucket".into()));
        // A date alone stays a date; a word after it is a word.
        let q = p("since:2026-11-21 bucket");
        assert_eq!(q.terms[1].kind, TermKind::Bare("bucket".into()));
        assert_eq!(p(r#""a:b""#).terms[0].kind, TermKind::Bare("a:b".into()));
        assert_eq!(
            p("NAME:x").terms[0].kind,
            TermKind::Match { field: Field::Name, op: Op::Contains, value: "x".into() }
        );
    }

    #[test]
    fn reports_errors_with_spans() {
        let e = parse("name:x foo:bar", 0).unwrap_err();
        assert!(e.message.contains("unknown field 'foo'"), "{}", e.message);
        assert_eq!((e.start, e.end), (7, 14));
        assert!(parse("name:", 0).unwrap_err().message.contains("needs a value"));
        assert!(parse("agent:\"unterminated", 0).unwrap_err().message.contains("unterminated"));
        assert!(parse("has:nope", 0).unwrap_err().message.contains("unknown field"));
        assert!(parse("since:tomorrow", 0).unwrap_err().message.contains("since:"));
        assert!(parse("readonly:maybe", 0).unwrap_err().message.contains("true or false"));
        assert!(parse("- name:x", 0).is_err());
    }

    #[test]
    fn display_round_trips() {
        for s in
            [r#"name:Delete* -error:=AccessDenied agent:"aws-cli/2 x" has:error "a:b" -word"#, r#"user:"-dash" id:="""#]
        {
            let q = p(s);
            assert_eq!(p(&q.to_string()), q, "{s} -> {q}");
        }
    }
}
