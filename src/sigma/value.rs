//! Field values of a record as rules see them, and the comparisons of field conditions.

use regex::Regex;
use serde_json::Value;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::net::IpAddr;

/// A field's value as text: strings as they are, numbers and booleans as JSON writes them,
/// objects and arrays as their compact JSON. Absent and `null` fields have none.
pub(crate) struct Text<'a> {
    raw: Cow<'a, str>,
    lower: OnceCell<String>,
}

impl<'a> Text<'a> {
    /// A value known as text (an event's summary field).
    pub(crate) fn of(s: &'a str) -> Self {
        Text { raw: Cow::Borrowed(s), lower: OnceCell::new() }
    }
    /// A value known as text of its own.
    pub(crate) fn owned(s: String) -> Self {
        Text { raw: Cow::Owned(s), lower: OnceCell::new() }
    }
    fn raw(&self) -> &str {
        &self.raw
    }
    pub(crate) fn lower(&self) -> &str {
        self.lower.get_or_init(|| self.raw.to_lowercase())
    }
    /// Whether the text, lowercased, holds `s` (lowercase) at `place`. ASCII text is compared
    /// without making a lowercase copy of it: its lowercase is its ASCII lowercase, and `s`
    /// has no ASCII capital, so comparing bytes with ASCII case folded gives the same answer.
    fn test_uncased(&self, place: Place, s: &str) -> bool {
        if let Some(lower) = self.lower.get() {
            return place.test(lower, s);
        }
        let (text, pat) = (self.raw.as_bytes(), s.as_bytes());
        let n = pat.len();
        match place {
            _ if !self.raw.is_ascii() => place.test(self.lower(), s),
            Place::Exact => text.eq_ignore_ascii_case(pat),
            Place::Start => text.len() >= n && text[..n].eq_ignore_ascii_case(pat),
            Place::End => text.len() >= n && text[text.len() - n..].eq_ignore_ascii_case(pat),
            Place::Anywhere => place.test(self.lower(), s),
        }
    }
    fn get(&self, cased: bool) -> &str {
        if cased {
            self.raw()
        } else {
            self.lower()
        }
    }
}

/// The fields of one record the rules name, each extracted when first asked, then kept.
pub(crate) struct Fields<'a> {
    /// Where the fields come from: a parsed record, or the raw JSON of each (by field).
    record: &'a Value,
    raws: Vec<super::extract::Raw<'a>>,
    /// Or a record read as its fields are asked for.
    lazy: Option<&'a super::extract::Lazy<'a>>,
    /// Fields known before it is read (by index in `paths`): absent (`None`), or a string;
    /// and their texts, made when first asked for (nothing is allocated for them).
    known: &'a [(usize, Option<&'a str>)],
    known_texts: [OnceCell<Text<'a>>; KNOWN_MAX],
    paths: &'a [Vec<String>],
    /// Each other field's text once found (boxed: a record's few fields are asked for, of
    /// many), made when the first of them is asked for.
    cache: OnceCell<Vec<OnceCell<Option<Box<Text<'a>>>>>>,
}

/// The most fields [`Fields::lazy`] is given as known.
pub(crate) const KNOWN_MAX: usize = 12;

impl<'a> Fields<'a> {
    pub(crate) fn new(record: &'a Value, paths: &'a [Vec<String>]) -> Self {
        Fields {
            record,
            raws: Vec::new(),
            lazy: None,
            known: &[],
            known_texts: Default::default(),
            paths,
            cache: OnceCell::new(),
        }
    }

    /// The fields of no record, for matchers that test a text alone.
    pub(crate) fn none() -> Fields<'static> {
        Fields {
            record: &Value::Null,
            raws: Vec::new(),
            lazy: None,
            known: &[],
            known_texts: Default::default(),
            paths: &[],
            cache: OnceCell::new(),
        }
    }

    /// The fields whose raw JSON [`super::extract::Paths::extract`] took out of a record (its
    /// first `paths.len()` slots).
    pub(crate) fn extracted(mut raws: Vec<super::extract::Raw<'a>>, paths: &'a [Vec<String>]) -> Self {
        raws.truncate(paths.len());
        Fields {
            record: &Value::Null,
            raws,
            lazy: None,
            known: &[],
            known_texts: Default::default(),
            paths,
            cache: OnceCell::new(),
        }
    }

    /// The fields of a record read as they are asked for, but those `known` (by index in
    /// `paths`: `None` absent or null, else the string), which are taken as they are.
    pub(crate) fn lazy(
        record: &'a super::extract::Lazy<'a>,
        paths: &'a [Vec<String>],
        known: &'a [(usize, Option<&'a str>)],
    ) -> Self {
        assert!(known.len() <= KNOWN_MAX, "at most {KNOWN_MAX} known fields");
        Fields {
            record: &Value::Null,
            raws: Vec::new(),
            lazy: Some(record),
            known,
            known_texts: Default::default(),
            paths,
            cache: OnceCell::new(),
        }
    }

    pub(crate) fn get(&self, field: usize) -> Option<&Text<'a>> {
        if let Some(i) = self.known.iter().position(|(f, _)| *f == field) {
            let text = self.known[i].1?;
            return Some(self.known_texts[i].get_or_init(|| Text::of(text)));
        }
        let cache = self.cache.get_or_init(|| (0..self.paths.len()).map(|_| OnceCell::new()).collect());
        cache[field]
            .get_or_init(|| {
                if let Some(lazy) = self.lazy {
                    let (raw, _) = super::extract::leaf(lazy.get(&self.paths[field])?).ok()??;
                    return Some(Box::new(Text { raw, lower: OnceCell::new() }));
                }
                if !self.raws.is_empty() {
                    let (raw, _) = super::extract::leaf(self.raws[field]?).ok()??;
                    return Some(Box::new(Text { raw, lower: OnceCell::new() }));
                }
                let mut v = self.record;
                for key in &self.paths[field] {
                    v = v.as_object()?.get(key)?;
                }
                let raw: Cow<'a, str> = match v {
                    Value::Null => return None,
                    Value::String(s) => Cow::Borrowed(s.as_str()),
                    other => Cow::Owned(serde_json::to_string(other).ok()?),
                };
                Some(Box::new(Text { raw, lower: OnceCell::new() }))
            })
            .as_deref()
    }
}

/// Where a plain string must occur in a field's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// The whole text.
    Exact,
    /// At its start.
    Start,
    /// At its end.
    End,
    /// Anywhere.
    Anywhere,
}

impl Place {
    fn test(self, text: &str, s: &str) -> bool {
        match self {
            Place::Exact => text == s,
            Place::Start => text.starts_with(s),
            Place::End => text.ends_with(s),
            Place::Anywhere => text.contains(s),
        }
    }
}

/// One value of a field condition, compiled.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    /// `null`: the field is absent or null.
    Null,
    /// `|exists: true/false`.
    Exists(bool),
    /// A string without wildcards (lowercased unless cased).
    Plain { s: String, place: Place, cased: bool },
    /// A string with wildcards, or a regular expression (`|re`), over the text as it is.
    Regex(Pattern),
    /// `|cidr`: the text is an IP address in the network.
    Cidr { net: IpAddr, prefix: u8 },
    /// `|fieldref`: the text equals (or holds, at `place`) another field's.
    FieldRef { field: usize, place: Place, cased: bool },
}

impl Matcher {
    /// Whether the matcher compares a field's own text only (not null, presence or another field).
    pub(crate) fn on_text_alone(&self) -> bool {
        !matches!(self, Matcher::Null | Matcher::Exists(_) | Matcher::FieldRef { .. })
    }

    pub(crate) fn test(&self, fields: &Fields<'_>, own: Option<&Text<'_>>) -> bool {
        match self {
            Matcher::Null => own.is_none(),
            Matcher::Exists(e) => own.is_some() == *e,
            Matcher::Plain { s, place, cased: true } => own.is_some_and(|t| place.test(t.raw(), s)),
            Matcher::Plain { s, place, cased: false } => own.is_some_and(|t| t.test_uncased(*place, s)),
            Matcher::Regex(re) => own.is_some_and(|t| re.is_match(t.raw())),
            Matcher::Cidr { net, prefix } => {
                own.is_some_and(|t| t.raw().parse::<IpAddr>().is_ok_and(|ip| in_net(ip, *net, *prefix)))
            }
            Matcher::FieldRef { field, place, cased } => match (own, fields.get(*field)) {
                (Some(a), Some(b)) => place.test(a.get(*cased), b.get(*cased)),
                _ => false,
            },
        }
    }
}

/// Whether `ip` lies in `net`/`prefix` (both of the same family).
fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix as u32) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix as u32) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Parses `a.b.c.d/n` or an IPv6 network.
pub(crate) fn parse_cidr(s: &str) -> Result<(IpAddr, u8), String> {
    let (addr, prefix) = s.split_once('/').unwrap_or((s, ""));
    let net: IpAddr = addr.parse().map_err(|_| format!("'{s}' is not a network (cidr)"))?;
    let max = if net.is_ipv4() { 32 } else { 128 };
    let prefix = if prefix.is_empty() {
        max
    } else {
        prefix.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("'{s}' has a bad prefix length"))?
    };
    Ok((net, prefix))
}

/// A piece of a Sigma string value: text, or a wildcard.
#[derive(Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Many,
    One,
}

/// Splits a Sigma string into text and wildcards: `*` and `?` are wildcards, `\*`, `\?` and
/// `\\` stand for themselves, any other backslash is a backslash.
fn pieces(s: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&n @ ('*' | '?' | '\\')) => {
                    text.push(n);
                    chars.next();
                }
                _ => text.push('\\'),
            },
            '*' | '?' => {
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                out.push(if c == '*' { Piece::Many } else { Piece::One });
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}

/// A string value at `place`, compiled: plain comparison when it has no wildcard.
pub(crate) fn string_matcher(s: &str, place: Place, cased: bool) -> Result<Matcher, String> {
    let ps = pieces(s);
    if ps.iter().all(|p| matches!(p, Piece::Text(_))) {
        let text: String = ps.into_iter().map(|p| if let Piece::Text(t) = p { t } else { String::new() }).collect();
        let s = if cased { text } else { text.to_lowercase() };
        return Ok(Matcher::Plain { s, place, cased });
    }
    let mut re = String::from(if cased { "(?s)^" } else { "(?si)^" });
    if matches!(place, Place::End | Place::Anywhere) {
        re.push_str(".*");
    }
    for p in ps {
        match p {
            Piece::Text(t) => re.push_str(&regex::escape(&t)),
            Piece::Many => re.push_str(".*"),
            Piece::One => re.push('.'),
        }
    }
    if matches!(place, Place::Start | Place::Anywhere) {
        re.push_str(".*");
    }
    re.push('$');
    Pattern::new(&re).map(Matcher::Regex).map_err(|e| format!("the value '{s}' cannot be compiled: {e}"))
}

/// A regular expression, with the literal texts every match holds (found in its syntax: the
/// plain literals of its top-level sequence), which are looked for first: a text without one
/// of them is not run through the expression (most texts, for a rule's expression).
#[derive(Clone, Debug)]
pub(crate) struct Pattern {
    re: Regex,
    needs: Vec<memchr::memmem::Finder<'static>>,
}

impl Pattern {
    pub(crate) fn new(pattern: &str) -> Result<Pattern, regex::Error> {
        let re = Regex::new(pattern)?;
        Ok(Pattern { re, needs: required_literals(pattern) })
    }

    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.needs.iter().all(|f| f.find(text.as_bytes()).is_some()) && self.re.is_match(text)
    }
}

/// The literals every match of `pattern` holds: those of its top-level sequence (a literal
/// under a repetition, an alternation or a case-insensitive flag is not one: the parser makes
/// a case-insensitive letter a class).
fn required_literals(pattern: &str) -> Vec<memchr::memmem::Finder<'static>> {
    use regex_syntax::hir::HirKind;
    let Ok(mut hir) = regex_syntax::parse(pattern) else { return Vec::new() };
    while let HirKind::Capture(c) = hir.kind() {
        hir = (*c.sub).clone();
    }
    let parts = match hir.kind() {
        HirKind::Concat(parts) => parts.clone(),
        _ => vec![hir],
    };
    parts
        .iter()
        .filter_map(|h| match h.kind() {
            HirKind::Literal(l) if l.0.len() >= 2 => Some(memchr::memmem::Finder::new(&l.0).into_owned()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn patterns_look_for_their_literals_first_and_match_as_the_expression_does() {
        let patterns = [
            ".+:assumed-role/aws:.+",
            "(?i).+:ASSUMED-role/aws:.+",
            "(ab|cd)ef",
            "x(yz)*w",
            "^prefix-[0-9]+$",
            "(?s)^.*a\\.b.*$",
            "(literal)",
            "é+ü",
            "",
        ];
        let texts = [
            "arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1",
            "arn:aws:sts::1:ASSUMED-ROLE/AWS:x",
            "cdef",
            "xw",
            "xyzyzw",
            "prefix-12",
            "a.b",
            "aXb",
            "literal",
            "éüü",
            "",
        ];
        for p in patterns {
            let (ours, theirs) = (Pattern::new(p).unwrap(), Regex::new(p).unwrap());
            for t in texts {
                assert_eq!(ours.is_match(t), theirs.is_match(t), "{p:?} on {t:?}");
            }
        }
        assert_eq!(required_literals(".+:assumed-role/aws:.+").len(), 1);
        assert_eq!(required_literals("(?i).+:assumed-role/aws:.+").len(), 0);
        assert_eq!(required_literals("(ab|cd)ef").len(), 1);
    }

    use super::*;

    #[test]
    fn wildcards_and_escapes() {
        assert_eq!(pieces(r"a\*b"), vec![Piece::Text("a*b".into())]);
        assert_eq!(pieces(r"a\b"), vec![Piece::Text(r"a\b".into())]);
        assert_eq!(pieces("a*"), vec![Piece::Text("a".into()), Piece::Many]);
        let paths = vec![vec!["f".to_string()]];
        let rec = serde_json::json!({"f": "Hello World"});
        let fields = Fields::new(&rec, &paths);
        let t = fields.get(0);
        let m = |s: &str, place, cased| string_matcher(s, place, cased).unwrap().test(&fields, t);
        assert!(m("hello world", Place::Exact, false));
        assert!(!m("hello world", Place::Exact, true));
        assert!(m("h?llo*", Place::Exact, false));
        assert!(!m("h?llo", Place::Exact, false));
        assert!(m("o w", Place::Anywhere, false));
        assert!(m("*", Place::Anywhere, false));
        assert!(m("WORLD", Place::End, false));
        assert!(!m("WORLD", Place::End, true));
    }

    #[test]
    fn networks() {
        let (n, p) = parse_cidr("10.0.0.0/8").unwrap();
        assert!(in_net("10.2.3.4".parse().unwrap(), n, p));
        assert!(!in_net("11.2.3.4".parse().unwrap(), n, p));
        assert!(parse_cidr("10.0.0.0/33").is_err());
        let (n, p) = parse_cidr("2001:db8::/32").unwrap();
        assert!(in_net("2001:db8::1".parse().unwrap(), n, p));
    }

    #[test]
    fn objects_are_compact_json() {
        let paths = vec![vec!["o".to_string()], vec!["o".to_string(), "k".to_string()], vec!["n".to_string()]];
        let rec = serde_json::json!({"o": {"k": [1, "X"]}, "n": null});
        let fields = Fields::new(&rec, &paths);
        assert_eq!(fields.get(0).map(|t| t.raw().to_string()).as_deref(), Some(r#"{"k":[1,"X"]}"#));
        assert_eq!(fields.get(1).map(|t| t.raw().to_string()).as_deref(), Some(r#"[1,"X"]"#));
        assert!(fields.get(2).is_none());
    }
}
