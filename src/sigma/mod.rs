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
mod extract;
mod load;
pub mod rule;
mod value;

pub use crate::model::detect::{Detections, Level, RuleInfo};
pub use load::{LoadError, RuleProblem};
pub use rule::Rule;

use std::collections::HashMap;
use value::{Fields, Text};

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
    /// Per rule: what its event's summary fields must be for it to match at all.
    required: Vec<Vec<(Summary, rule::Required)>>,
    /// Rules that require eventName to be one of a few names, by each name (lowercased), and
    /// the rest: the rules an event can match are found without testing every rule.
    by_name: foldhash::HashMap<String, Vec<u16>>,
    unindexed: Vec<u16>,
    /// `paths` as a tree, with eventID and eventTime after them: what one walk of a raw record
    /// takes out (built at the first evaluation).
    tree: std::sync::OnceLock<extract::Paths>,
    /// Which of [`KNOWN`] the rules name: (position in `KNOWN`, index in `paths`).
    known_slots: std::sync::OnceLock<Vec<(usize, usize)>>,
}

/// Fields a record's parser reads anyway, which [`RuleSet::eval_summarised`] takes from
/// [`Known`] instead of looking them up in the raw record (for an absent one, a lookup
/// reads every top-level member of the record).
pub const KNOWN: [&str; 10] = [
    "eventName",
    "eventSource",
    "errorCode",
    "userAgent",
    "sourceIPAddress",
    "eventType",
    "awsRegion",
    "userIdentity.type",
    "userIdentity.arn",
    "userIdentity.sessionContext.sessionIssuer.type",
];

/// The values of [`KNOWN`] for one record, in that order: `Some(None)` absent or null,
/// `Some(Some(text))` a string, `None` not known (another kind of value: looked up).
pub type Known<'r> = [Option<Option<&'r str>>; KNOWN.len()];

const _: () = assert!(KNOWN.len() <= value::KNOWN_MAX);

/// [`Known`] of a record as its parser read it.
pub fn known_of<'r>(r: &'r crate::model::record::RecordFields<'_>) -> Known<'r> {
    let identity = r.identity.0.as_ref();
    let issuer = identity.and_then(|i| i.session.0.as_ref()).and_then(|s| s.issuer.0.as_ref());
    [
        r.event_name.known(),
        r.event_source.known(),
        r.error_code.known(),
        r.user_agent.known(),
        r.source_ip.known(),
        r.event_type.known(),
        r.region.known(),
        // No userIdentity object: nothing under it.
        identity.map_or(Some(None), |i| i.kind.known()),
        identity.map_or(Some(None), |i| i.arn.known()),
        issuer.map_or(Some(None), |i| i.kind.known()),
    ]
}

/// The top-level fields taken out of each record besides those the rules name: what `detect`
/// writes of a record that matched.
const WRITTEN: [&str; 2] = ["eventID", "eventTime"];

/// What the rules found in one raw record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordHits {
    /// Indices (in [`RuleSet::rules`]) of the rules it matched; never empty.
    pub rules: Vec<u16>,
    /// Its eventID and eventTime as written, when they are strings (else `None`).
    pub event_id: Option<String>,
    /// See `event_id`.
    pub event_time: Option<String>,
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

/// The eventNames (lowercased) one of which a rule requires, when its requirement on eventName
/// is a list of plain names compared whole, without case.
fn names_required(required: &[(Summary, rule::Required)]) -> Option<Vec<String>> {
    use value::{Matcher, Place};
    let (_, req) = required.iter().find(|(w, r)| *w == Summary::Name && !r.all)?;
    let names = req
        .values
        .iter()
        .map(|m| match m {
            Matcher::Plain { s, place: Place::Exact, cased: false } => Some(s.clone()),
            _ => None,
        })
        .collect::<Option<Vec<String>>>()?;
    (!names.is_empty()).then_some(names)
}

/// An event's summary fields as text the requirements of rules test, each lowercased once.
struct SummaryTexts<'a> {
    ev: SummaryFields<'a>,
    name: Text<'a>,
    source: Text<'a>,
    /// eventSource with `.amazonaws.com` (the store keeps it short), made when first needed.
    full_source: std::cell::OnceCell<Option<Text<'static>>>,
    identity_type: Text<'a>,
    arn: Text<'a>,
    agent: Text<'a>,
}

impl SummaryTexts<'_> {
    /// Whether the event's `which` field meets `req` (a field not known meets everything).
    fn allows(&self, which: Summary, req: &rule::Required) -> bool {
        let none = Fields::none();
        match which {
            // The store keeps eventSource short: either spelling may be the record's.
            Summary::Source => {
                let src = self.ev.source;
                src.is_empty()
                    || req.holds(&none, &self.source)
                    || self
                        .full_source
                        .get_or_init(|| {
                            (!src.ends_with(".amazonaws.com")).then(|| Text::owned(format!("{src}.amazonaws.com")))
                        })
                        .as_ref()
                        .is_some_and(|f| req.holds(&none, f))
            }
            other => {
                let (have, text) = match other {
                    Summary::Name => (self.ev.name, &self.name),
                    Summary::IdentityType => (self.ev.identity_type, &self.identity_type),
                    Summary::Arn => (self.ev.arn, &self.arn),
                    Summary::Agent => (self.ev.agent, &self.agent),
                    Summary::Source => (self.ev.source, &self.source),
                };
                have.is_empty() || req.holds(&none, text)
            }
        }
    }
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
        let parsed = rule::parse(text, file, &mut |p| self.field(p));
        match parsed {
            Ok(Some(r)) => {
                let required: Vec<(Summary, rule::Required)> = r
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
                let index = self.rules.len() as u16;
                match names_required(&required) {
                    Some(names) => {
                        for n in names {
                            let rules = self.by_name.entry(n).or_default();
                            if rules.last() != Some(&index) {
                                rules.push(index);
                            }
                        }
                    }
                    None => self.unindexed.push(index),
                }
                self.required.push(required);
                self.rules.push(r)
            }
            Ok(None) => self.other_logsource += 1,
            Err(reason) => self.problems.push(RuleProblem::new(file, reason)),
        }
        self.tree = Default::default();
    }

    fn tree(&self) -> &extract::Paths {
        self.tree.get_or_init(|| extract::Paths::new(&self.paths, &WRITTEN))
    }

    fn known_slots(&self) -> &[(usize, usize)] {
        self.known_slots.get_or_init(|| {
            KNOWN.iter().enumerate().filter_map(|(k, dotted)| Some((k, *self.path_index.get(*dotted)?))).collect()
        })
    }

    /// The index of a field path, registering it.
    fn field(&mut self, dotted: &str) -> usize {
        if let Some(&i) = self.path_index.get(dotted) {
            return i;
        }
        let i = self.paths.len();
        self.paths.push(dotted.split('.').map(str::to_owned).collect());
        self.path_index.insert(dotted.to_owned(), i);
        i
    }

    /// Whether some rule can match an event with these summary fields: `false` only when every
    /// rule requires a value of eventName, eventSource or userIdentity.type that the event does
    /// not have (a field not known, `""`, rules nothing out). Reading and parsing the records
    /// of the rest is the bulk of the work, and most events are ruled out here.
    pub fn may_match(&self, ev: SummaryFields<'_>) -> bool {
        !self.candidates(ev).is_empty()
    }

    /// The rules (indices in [`RuleSet::rules`], in order) that can match an event with these
    /// summary fields, as [`RuleSet::may_match`] decides: only the rules that name the
    /// event's eventName (or none) are tested, each field's text lowercased once for all.
    fn candidates(&self, ev: SummaryFields<'_>) -> Vec<u16> {
        let mut out = Vec::new();
        self.candidates_into(ev, &mut out);
        out
    }

    /// [`RuleSet::candidates`] into `out` (emptied first).
    fn candidates_into(&self, ev: SummaryFields<'_>, out: &mut Vec<u16>) {
        out.clear();
        let texts = SummaryTexts {
            name: Text::of(ev.name),
            source: Text::of(ev.source),
            full_source: std::cell::OnceCell::new(),
            identity_type: Text::of(ev.identity_type),
            arn: Text::of(ev.arn),
            agent: Text::of(ev.agent),
            ev,
        };
        let allowed = |&i: &u16| self.required[i as usize].iter().all(|(w, r)| texts.allows(*w, r));
        if ev.name.is_empty() {
            // Not known: no requirement on it rules a rule out.
            out.extend((0..self.rules.len() as u16).filter(allowed));
            return;
        }
        // The name lowercased: an ASCII one (every real one) on the stack, not allocated.
        let mut buf = [0u8; 64];
        let key = match buf.get_mut(..ev.name.len()) {
            Some(b) if ev.name.is_ascii() => {
                b.copy_from_slice(ev.name.as_bytes());
                b.make_ascii_lowercase();
                std::str::from_utf8(b).unwrap_or_default()
            }
            _ => texts.name.lower(),
        };
        let named = self.by_name.get(key).map_or(&[][..], Vec::as_slice);
        let (mut a, mut b) = (named.iter().peekable(), self.unindexed.iter().peekable());
        // Both lists are in rule order: merged, in rule order.
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(&&x), Some(&&y)) if x <= y => a.next(),
                (Some(_), Some(_)) | (None, Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, None) => break,
            };
            if let Some(&i) = next.filter(|i| allowed(i)) {
                out.push(i);
            }
        }
    }
    /// Indices (in [`RuleSet::rules`]) of the rules that match `record`.
    pub fn eval(&self, record: &serde_json::Value) -> Vec<u16> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        let fields = Fields::new(record, &self.paths);
        self.rules.iter().enumerate().filter(|(_, r)| r.detection.matches(&fields)).map(|(i, _)| i as u16).collect()
    }

    /// [`RuleSet::eval`] of a raw record; nothing for bytes that are not a JSON object. The
    /// fields the rules name are taken out of the record in one borrowed walk; the rest of it
    /// is only scanned.
    pub fn eval_bytes(&self, raw: &[u8]) -> Vec<u16> {
        self.eval_record(raw).map(|h| h.rules).unwrap_or_default()
    }

    /// The rules a raw record matches, with its eventID and eventTime as written; `None` when
    /// it matches none (or is not a JSON object).
    pub fn eval_record(&self, raw: &[u8]) -> Option<RecordHits> {
        if self.rules.is_empty() {
            return None;
        }
        let raws = self.tree().extract(raw, None)?;
        let written: Vec<extract::Raw<'_>> = raws[self.paths.len()..].to_vec();
        let fields = Fields::extracted(raws, &self.paths);
        let rules: Vec<u16> =
            (0..self.rules.len() as u16).filter(|&i| self.rules[i as usize].detection.matches(&fields)).collect();
        if rules.is_empty() {
            return None;
        }
        // As strings only (what `detect` writes; anything else is no text).
        let mut text = written.into_iter().map(|r| match r.map(extract::leaf) {
            Some(Ok(Some((s, true)))) => Some(s.into_owned()),
            _ => None,
        });
        let (event_id, event_time) = (text.next().flatten(), text.next().flatten());
        Some(RecordHits { rules, event_id, event_time })
    }

    /// [`RuleSet::eval_record`] of a record whose summary fields are `summary`, which its
    /// parser has read (so `raw` is valid JSON): nothing is read of a record no rule can match
    /// by them ([`RuleSet::may_match`]), only the rules that can are evaluated, and of the
    /// record only what they ask for, as they ask for it ([`extract::Lazy`]). `once`:
    /// top-level keys the parser guarantees occur at most once in the record (it rejects a
    /// record that repeats them): the first one found is taken without reading further.
    /// `written`: whether eventID and eventTime as written are wanted (else they are left
    /// `None`), asked only of a record that matched.
    ///
    /// `known`: fields the parser read, taken as they are (see [`Known`]); asked only of a
    /// record some rule may match.
    pub fn eval_summarised<'r>(
        &'r self,
        summary: SummaryFields<'_>,
        raw: &'r [u8],
        once: &'r [&'r str],
        known: impl FnOnce() -> Known<'r>,
        written: impl FnOnce() -> bool,
    ) -> Option<RecordHits> {
        thread_local! {
            /// The candidate rules of the record at hand: one buffer a thread, not one a record.
            static CANDIDATES: std::cell::Cell<Vec<u16>> = const { std::cell::Cell::new(Vec::new()) };
        }
        let mut candidates = CANDIDATES.with(|c| c.take());
        self.candidates_into(summary, &mut candidates);
        let hits = self.eval_candidates(&candidates, raw, once, known, written);
        CANDIDATES.with(|c| c.set(candidates));
        hits
    }

    /// [`RuleSet::eval_summarised`] of the rules `candidates`.
    fn eval_candidates<'r>(
        &'r self,
        candidates: &[u16],
        raw: &'r [u8],
        once: &'r [&'r str],
        known: impl FnOnce() -> Known<'r>,
        written: impl FnOnce() -> bool,
    ) -> Option<RecordHits> {
        if candidates.is_empty() {
            return None;
        }
        let record = extract::Lazy::new(raw, self.tree(), once)?;
        let known = known();
        let mut given = [(0usize, None); KNOWN.len()];
        let mut n = 0;
        for &(k, field) in self.known_slots() {
            if let Some(v) = known[k] {
                given[n] = (field, v);
                n += 1;
            }
        }
        let fields = Fields::lazy(&record, &self.paths, &given[..n]);
        let rules: Vec<u16> =
            candidates.iter().copied().filter(|&i| self.rules[i as usize].detection.matches(&fields)).collect();
        if rules.is_empty() {
            return None;
        }
        // As strings only (what `detect` writes; anything else is no text).
        let text = |key: &str| match record.get(&[key]).map(extract::leaf) {
            Some(Ok(Some((s, true)))) => Some(s.into_owned()),
            _ => None,
        };
        let (event_id, event_time) = match written() {
            true => (text(WRITTEN[0]), text(WRITTEN[1])),
            false => (None, None),
        };
        Some(RecordHits { rules, event_id, event_time })
    }

    /// What each rule says about itself, by rule index (for [`Detections::rules`]).
    pub fn infos(&self) -> Vec<RuleInfo> {
        self.rules.iter().map(|r| r.info.clone()).collect()
    }
}

#[cfg(test)]
mod tests;
