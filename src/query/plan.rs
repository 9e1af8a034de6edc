//! Splitting a filter between AWS and the client: LookupEvents takes one lookup attribute per
//! request, so the most selective exact term that maps to one is sent to AWS, and every term
//! (that one included, which costs nothing) is applied locally.

use super::{Field, Op, Query, Term, TermKind};
use std::fmt;

/// A LookupEvents lookup attribute, by its wire name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Attr {
    /// `EventId`
    EventId,
    /// `AccessKeyId`
    AccessKeyId,
    /// `Username`
    Username,
    /// `ResourceName`
    ResourceName,
    /// `EventName`
    EventName,
    /// `EventSource`
    EventSource,
    /// `ReadOnly`
    ReadOnly,
}

impl Attr {
    /// The attribute's name in a LookupEvents request.
    pub fn wire_name(self) -> &'static str {
        match self {
            Attr::EventId => "EventId",
            Attr::AccessKeyId => "AccessKeyId",
            Attr::Username => "Username",
            Attr::ResourceName => "ResourceName",
            Attr::EventName => "EventName",
            Attr::EventSource => "EventSource",
            Attr::ReadOnly => "ReadOnly",
        }
    }
    /// Lower is more selective: an event id names one event, readOnly splits the rest in two.
    fn rank(self) -> u8 {
        match self {
            Attr::EventId => 0,
            Attr::AccessKeyId => 1,
            Attr::Username => 2,
            Attr::ResourceName => 3,
            Attr::EventName => 4,
            Attr::EventSource => 5,
            Attr::ReadOnly => 6,
        }
    }
}

/// What is asked of AWS and what is checked locally.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Plan {
    /// The lookup attribute and value sent to AWS, if a term maps to one.
    pub server: Option<(Attr, String)>,
    /// The terms checked locally, as the user wrote them (for display).
    pub local: Vec<Term>,
    /// The latest `since:` bound (ms), narrowing the window asked for.
    pub since: Option<i64>,
    /// The earliest `until:` bound (ms), narrowing the window asked for.
    pub until: Option<i64>,
}

fn server_attr(t: &Term) -> Option<(Attr, String)> {
    if t.negated {
        return None;
    }
    let TermKind::Match { field, op, value } = &t.kind else { return None };
    if value.contains('*') || value.is_empty() {
        return None;
    }
    let attr = match (field, op) {
        (Field::Id, Op::Exact) => Attr::EventId,
        (Field::Key, Op::Exact) => Attr::AccessKeyId,
        // The list's principal and LookupEvents' Username agree for user names, not ARNs.
        (Field::User, Op::Exact) if !value.starts_with("arn:") => Attr::Username,
        (Field::Resource, Op::Exact) => Attr::ResourceName,
        (Field::Name, Op::Exact) => Attr::EventName,
        (Field::Source, Op::Exact) => Attr::EventSource,
        (Field::ReadOnly, _) => return Some((Attr::ReadOnly, value.to_ascii_lowercase())),
        _ => return None,
    };
    Some((attr, value.clone()))
}

/// Splits a filter between AWS (the most selective exact term with a lookup attribute) and the client.
pub fn plan(q: &Query) -> Plan {
    let server = q.terms.iter().filter_map(server_attr).min_by_key(|(a, _)| a.rank());
    let mut p = Plan { server, ..Default::default() };
    for t in &q.terms {
        match (&t.kind, t.negated) {
            // Time bounds narrow the request window instead.
            (TermKind::Since(ms), false) => p.since = Some(p.since.map_or(*ms, |s: i64| s.max(*ms))),
            (TermKind::Until(ms), false) => p.until = Some(p.until.map_or(*ms, |u: i64| u.min(*ms))),
            _ => {
                if p.server.is_none() || server_attr(t) != p.server {
                    p.local.push(t.clone());
                }
            }
        }
    }
    p
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match &self.server {
            Some((a, v)) => write!(f, "AWS: {}={}", a.wire_name(), crate::sanitize::sanitize(v))?,
            None => f.write_str("AWS: all events")?,
        }
        if !self.local.is_empty() {
            let terms: Vec<String> =
                self.local.iter().map(|t| crate::sanitize::sanitize(&t.to_string()).into_owned()).collect();
            write!(f, " · local: {}", terms.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Plan {
        plan(&super::super::parse(s, 0).unwrap())
    }

    #[test]
    fn picks_the_most_selective_exact_term() {
        let x = p("name:=DeleteBucket user:alice has:error");
        assert_eq!(x.server, Some((Attr::EventName, "DeleteBucket".into())));
        assert_eq!(x.to_string(), "AWS: EventName=DeleteBucket · local: user:alice, has:error");
        assert_eq!(p("name:=A key:=AKIDX").server, Some((Attr::AccessKeyId, "AKIDX".into())));
        assert_eq!(
            p("readonly:false source:=s3.amazonaws.com").server,
            Some((Attr::EventSource, "s3.amazonaws.com".into()))
        );
        assert_eq!(p("readonly:False").server, Some((Attr::ReadOnly, "false".into())));
        assert_eq!(p("id:=e1 name:=A").server, Some((Attr::EventId, "e1".into())));
    }

    #[test]
    fn inexact_negated_and_glob_terms_stay_local() {
        for q in
            ["name:DeleteBucket", "-name:=DeleteBucket", "name:=Delete*", "user:=arn:aws:iam::1:user/a", "agent:=x"]
        {
            assert_eq!(p(q).server, None, "{q}");
            assert_eq!(p(q).local.len(), 1, "{q}");
        }
        assert_eq!(p("").to_string(), "AWS: all events");
    }

    #[test]
    fn time_terms_become_the_window() {
        let x = p("since:2024-01-01T00:00:00Z since:2024-02-01T00:00:00Z until:2024-03-01T00:00:00Z");
        assert_eq!(x.since, Some(1_706_745_600_000));
        assert_eq!(x.until, Some(1_709_251_200_000));
        assert!(x.local.is_empty());
    }
}
