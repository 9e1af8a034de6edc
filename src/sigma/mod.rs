//! Detections: Sigma rules for CloudTrail (`logsource: product aws, service cloudtrail`),
//! loaded from YAML files and evaluated against raw records.
//!
//! The evaluator is this crate's own rather than `sigma-rust`'s (see the README): Sigma's
//! semantics as the CloudTrail rules need them, with a field that holds an object or array
//! compared as its compact JSON text, each field a rule set names extracted once per record,
//! and a rule that cannot be evaluated as written reported with the reason instead of guessed.
//!
//! - [`rule`]: one rule's metadata and its compiled detection.
//! - [`load`]: reading rule files and directories, and what could not be used.
//! - [`RuleSet::eval`]: the rules that match one record.
//! - [`Detections`] (kept in the store, [`crate::model::detect`]): what matched, by event.

mod condition;
mod load;
pub mod rule;
mod value;

pub use crate::model::detect::{Detections, Level, RuleInfo};
pub use load::{LoadError, RuleProblem};
pub use rule::Rule;

use std::collections::HashMap;
use value::Fields;

/// Rules ready to evaluate, with the rule files that could not be used.
#[derive(Default, Debug)]
pub struct RuleSet {
    /// The rules that are evaluated, in the order loaded.
    pub rules: Vec<Rule>,
    /// Rule files that were skipped, and why (shown under `E`, said by `detect`).
    pub problems: Vec<RuleProblem>,
    /// Rule files for other log sources, which are not CloudTrail's (not an error).
    pub other_logsource: usize,
    /// Every field path the rules name, each once: a record's fields are extracted once.
    paths: Vec<Vec<String>>,
    /// Path (dotted) to its index in `paths`.
    path_index: HashMap<String, usize>,
    /// The top-level fields the paths start with: only those of a record are parsed.
    top: std::collections::HashSet<String>,
    /// Per rule: what its event's summary fields must be for it to match at all.
    required: Vec<Vec<(Summary, rule::Required)>>,
}

/// The fields of an event's summary (kept in the store) that rules often require.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Summary {
    Name,
    Source,
    IdentityType,
    Arn,
    Agent,
}

/// An event's summary fields, as [`RuleSet::may_match`] takes them (`""`: not known).
#[derive(Clone, Copy, Debug, Default)]
pub struct SummaryFields<'a> {
    /// eventName
    pub name: &'a str,
    /// eventSource (with or without `.amazonaws.com`)
    pub source: &'a str,
    /// userIdentity.type
    pub identity_type: &'a str,
    /// userIdentity.arn
    pub arn: &'a str,
    /// userAgent
    pub agent: &'a str,
}

/// The summary fields of a stored event for [`RuleSet::may_match`]. An Insights event's
/// summary names the API it concerns, not its own fields: nothing is known of it.
pub fn summary_of<'a>(store: &'a crate::model::EventStore, ev: &crate::model::Event) -> SummaryFields<'a> {
    use crate::model::SymField;
    if store.sym(ev, SymField::Category).eq_ignore_ascii_case("insight") {
        return SummaryFields::default();
    }
    SummaryFields {
        name: store.sym(ev, SymField::Name),
        source: store.sym(ev, SymField::Source),
        identity_type: store.sym(ev, SymField::IdentityType),
        arn: store.sym(ev, SymField::Arn),
        agent: store.sym(ev, SymField::Agent),
    }
}

impl RuleSet {
    /// An empty set (no rules: nothing is evaluated).
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no rule is evaluated.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Adds the rule in `text` (the content of the file `file`, named in problems). A rule
    /// for another log source is counted and left out; one that cannot be evaluated as written
    /// is recorded in [`RuleSet::problems`].
    pub fn add_yaml(&mut self, text: &str, file: &str) {
        match rule::parse(text, file, &mut |p| self.field(p)) {
            Ok(Some(r)) => {
                let required = r
                    .detection
                    .required()
                    .into_iter()
                    .filter_map(|req| {
                        let which = match self.paths[req.field].join(".").as_str() {
                            "eventName" => Summary::Name,
                            // The store keeps it short: tested on the full name (see may_match).
                            "eventSource" => Summary::Source,
                            "userIdentity.type" => Summary::IdentityType,
                            "userIdentity.arn" => Summary::Arn,
                            "userAgent" => Summary::Agent,
                            _ => return None,
                        };
                        Some((which, req))
                    })
                    .collect();
                self.required.push(required);
                self.rules.push(r)
            }
            Ok(None) => self.other_logsource += 1,
            Err(reason) => self.problems.push(RuleProblem::new(file, reason)),
        }
    }

    /// The index of a field path, registering it.
    fn field(&mut self, dotted: &str) -> usize {
        if let Some(&i) = self.path_index.get(dotted) {
            return i;
        }
        let i = self.paths.len();
        self.top.insert(dotted.split('.').next().unwrap_or("").to_owned());
        self.paths.push(dotted.split('.').map(str::to_owned).collect());
        self.path_index.insert(dotted.to_owned(), i);
        i
    }

    /// Whether some rule can match an event with these summary fields: `false` only when every
    /// rule requires a value of eventName, eventSource or userIdentity.type that the event does
    /// not have (a field not known, `""`, rules nothing out). Reading and parsing the records
    /// of the rest is the bulk of the work, and most events are ruled out here.
    pub fn may_match(&self, ev: SummaryFields<'_>) -> bool {
        let full_source = (!ev.source.is_empty() && !ev.source.ends_with(".amazonaws.com"))
            .then(|| format!("{}.amazonaws.com", ev.source));
        let ok = |which: Summary, req: &rule::Required| match which {
            // The store keeps eventSource short: either spelling may be the record's.
            Summary::Source => {
                ev.source.is_empty() || req.holds(ev.source) || full_source.as_deref().is_some_and(|f| req.holds(f))
            }
            other => {
                let have = match other {
                    Summary::Name => ev.name,
                    Summary::IdentityType => ev.identity_type,
                    Summary::Arn => ev.arn,
                    Summary::Agent => ev.agent,
                    Summary::Source => ev.source,
                };
                have.is_empty() || req.holds(have)
            }
        };
        self.required.iter().any(|reqs| reqs.iter().all(|(w, r)| ok(*w, r)))
    }

    /// Indices (in [`RuleSet::rules`]) of the rules that match `record`.
    pub fn eval(&self, record: &serde_json::Value) -> Vec<u16> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        let fields = Fields::new(record, &self.paths);
        self.rules.iter().enumerate().filter(|(_, r)| r.detection.matches(&fields)).map(|(i, _)| i as u16).collect()
    }

    /// [`RuleSet::eval`] of a raw record; nothing for bytes that are not a JSON object. Only
    /// the top-level fields the rules name are parsed into values; the rest of the record is
    /// only scanned.
    pub fn eval_bytes(&self, raw: &[u8]) -> Vec<u16> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        match self.named_fields(raw) {
            Some(v) => self.eval(&v),
            // Keys with escapes, or not JSON: the whole record, the slow way.
            None => match serde_json::from_slice::<serde_json::Value>(raw) {
                Ok(v) if v.is_object() => self.eval(&v),
                _ => Vec::new(),
            },
        }
    }

    /// The record with only the top-level fields the rules name (later duplicates winning, as
    /// when the whole record is parsed); `None` when its keys cannot be borrowed (escapes).
    fn named_fields(&self, raw: &[u8]) -> Option<serde_json::Value> {
        let top: Vec<(&str, &serde_json::value::RawValue)> = serde_json::from_slice::<SeqMap<'_>>(raw).ok()?.0;
        let mut obj = serde_json::Map::new();
        for (k, v) in top {
            if self.top.contains(k) {
                obj.insert(k.to_owned(), serde_json::from_str(v.get()).ok()?);
            }
        }
        Some(serde_json::Value::Object(obj))
    }

    /// What each rule says about itself, by rule index (for [`Detections::rules`]).
    pub fn infos(&self) -> Vec<RuleInfo> {
        self.rules.iter().map(|r| r.info.clone()).collect()
    }
}

/// A JSON object's members in order, keys and values borrowed.
struct SeqMap<'a>(Vec<(&'a str, &'a serde_json::value::RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for SeqMap<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = SeqMap<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut m: M) -> Result<SeqMap<'a>, M::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<&'de str, &'de serde_json::value::RawValue>()? {
                    out.push((k, v));
                }
                Ok(SeqMap(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests;
