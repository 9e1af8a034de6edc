//! Evaluating a parsed [`Query`] against loaded events.
//!
//! Terms on interned fields are evaluated once per distinct value, not once per event: the
//! matcher keeps, per term, a verdict for every symbol in the table, so filtering a million
//! events costs a lookup per event and term.

use super::fuzzy::{Engine, Fuzzy};
use super::{Field, Op, Query, TermKind};
use crate::model::raw::RawReader;
use crate::model::{
    Event, EventStore, Slot, SymField, SymTable, EMPTY, FLAG_MORE_RESOURCES, FLAG_TEXT_DECIDED, FLAG_TEXT_PASSED,
};
use std::sync::atomic::{AtomicU8, Ordering};

/// A value pattern: substring, equality, or anchored glob.
#[derive(Clone, Debug)]
pub enum Pattern {
    /// Lower-cased needle.
    ContainsCi(String),
    /// The exact value.
    Equals(String),
    /// Lower-cased segments between `*`s.
    GlobCi(Vec<String>),
    /// Segments between `*`s, case kept.
    Glob(Vec<String>),
    /// A bare word: see [`super::fuzzy`].
    Fuzzy(Fuzzy),
}

impl Pattern {
    /// The pattern of a `field:value` (`Contains`) or `field:=value` (`Exact`) term.
    pub fn new(op: Op, value: &str) -> Self {
        let glob = value.contains('*');
        match (op, glob) {
            (Op::Contains, false) => Pattern::ContainsCi(value.to_lowercase()),
            (Op::Exact, false) => Pattern::Equals(value.to_string()),
            (Op::Contains, true) => Pattern::GlobCi(value.to_lowercase().split('*').map(str::to_string).collect()),
            (Op::Exact, true) => Pattern::Glob(value.split('*').map(str::to_string).collect()),
        }
    }

    /// Whether `s` matches.
    pub fn test(&self, s: &str) -> bool {
        match self {
            Pattern::ContainsCi(n) => contains_ci(s, n),
            Pattern::Equals(v) => s == v,
            Pattern::GlobCi(parts) => {
                if s.is_ascii() {
                    glob(&s.to_ascii_lowercase(), parts)
                } else {
                    glob(&s.to_lowercase(), parts)
                }
            }
            Pattern::Glob(parts) => glob(s, parts),
            Pattern::Fuzzy(f) => f.test(s),
        }
    }
}

/// Case-insensitive substring test; `needle` is already lower case.
pub fn contains_ci(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if hay.is_ascii() && needle.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle.as_bytes());
        if n.len() > h.len() {
            return false;
        }
        // Candidates are found by the first byte in either case (memchr, a vector at a time),
        // then the rest is compared.
        let (first, rest) = (n[0], &n[1..]);
        let starts = &h[..=h.len() - n.len()];
        let at = |i: usize| h[i + 1..i + n.len()].iter().zip(rest).all(|(a, b)| a.to_ascii_lowercase() == *b);
        return if first.is_ascii_lowercase() {
            memchr::memchr2_iter(first, first.to_ascii_uppercase(), starts).any(at)
        } else {
            memchr::memchr_iter(first, starts).any(at)
        };
    }
    hay.to_lowercase().contains(needle)
}

/// Anchored glob: `parts` are the pieces between `*`s.
fn glob(s: &str, parts: &[String]) -> bool {
    let [first, middle @ .., last] = parts else {
        return parts.first().is_some_and(|p| p == s);
    };
    let Some(mut rest) = s.strip_prefix(first.as_str()) else {
        return false;
    };
    for m in middle {
        match rest.find(m.as_str()) {
            Some(i) => rest = &rest[i + m.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last.as_str())
}

/// Per-symbol verdicts, decided the first time an event with that symbol is checked: a
/// term looks only at the strings its fields actually hold, not the whole table (which also
/// holds ARNs, user agents and every other field's values). Atomic, so the threads that
/// filter one query in parallel share what each has decided.
#[derive(Debug, Default)]
struct SymVerdicts {
    /// 0: not decided yet, 1: no, 2: yes.
    v: Vec<AtomicU8>,
}

impl Clone for SymVerdicts {
    fn clone(&self) -> Self {
        SymVerdicts { v: self.v.iter().map(|a| AtomicU8::new(a.load(Ordering::Relaxed))).collect() }
    }
}

impl SymVerdicts {
    fn extend(&mut self, len: usize) {
        self.v.resize_with(len, || AtomicU8::new(0));
    }
    /// The verdict of entry `i`, decided by `decide` the first time.
    #[inline]
    fn get_or(&self, i: u32, decide: impl FnOnce() -> bool) -> bool {
        let Some(slot) = self.v.get(i as usize) else {
            return false;
        };
        match slot.load(Ordering::Relaxed) {
            1 => false,
            2 => true,
            _ => {
                let yes = decide();
                slot.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
                yes
            }
        }
    }
    #[inline]
    fn get(&self, sym: u32, syms: &SymTable, pat: &Pattern) -> bool {
        self.get_or(sym, || sym != EMPTY && pat.test(syms.get(sym)))
    }
}

#[derive(Clone, Debug)]
enum Check {
    /// A pattern on interned fields: those kept in the event (`own`, indices into
    /// [`Event::own`]) are decided per symbol, those kept in the caller (`caller`, indices into a
    /// [`crate::model::Caller`]) once per caller and those kept in the profile (`prof`, indices
    /// into a [`crate::model::Profile`]) once per profile, from the verdicts of its symbols.
    Syms {
        caller: Vec<usize>,
        own: Vec<usize>,
        prof: Vec<usize>,
        /// Whether the term also searches the event's resource index.
        resources: bool,
        verdicts: SymVerdicts,
        callers: SymVerdicts,
        profiles: SymVerdicts,
        pat: Pattern,
    },
    /// `id:` (the eventID) or `request:` (the requestID), read from the record; an exact
    /// term's `hash` (the id's [`hash32`](crate::model::id::hash32)) is checked first, so only
    /// the events it passes have their record read.
    Id {
        request: bool,
        hash: Option<u32>,
        pat: Pattern,
    },
    Text(Pattern),
    Has(Field),
    ReadOnly(bool),
    /// `verified:true`: the file passed verification; `verified:false`: it failed (altered or
    /// not covered). A file not checked is neither.
    Verified(bool),
    /// `rule:`: a rule the event matched has this in its title or id.
    Rule(Pattern),
    /// `level:`: a rule the event matched is of this level or above.
    Level(crate::model::detect::Level),
    Since(i64),
    Until(i64),
}

#[derive(Clone, Debug)]
struct CTerm {
    negated: bool,
    check: Check,
}

/// The list's columns, which a bare word searches.
pub const LIST_COLUMNS: &[SymField] =
    &[SymField::Name, SymField::Principal, SymField::Ip, SymField::Region, SymField::Source, SymField::Error];

fn sym_fields(f: Field) -> &'static [SymField] {
    match f {
        Field::Name => &[SymField::Name],
        Field::Source => &[SymField::Source],
        Field::User => &[SymField::Principal, SymField::Arn],
        Field::Arn => &[SymField::Arn],
        Field::Type => &[SymField::IdentityType],
        Field::Key => &[SymField::AccessKey],
        Field::Ip => &[SymField::Ip],
        Field::Region => &[SymField::Region],
        Field::Account => &[SymField::Account, SymField::IdentityAccount],
        Field::Error => &[SymField::Error],
        Field::Agent => &[SymField::Agent],
        Field::Category => &[SymField::Category],
        Field::Resource => &[],
        Field::Id | Field::Request | Field::ReadOnly | Field::Text | Field::Verified | Field::Rule | Field::Level => {
            &[]
        }
    }
}

/// A [`Check::Syms`] on `fields`.
fn syms_check(fields: &[SymField], resources: bool, pat: Pattern) -> Check {
    let (mut caller, mut own, mut prof) = (Vec::new(), Vec::new(), Vec::new());
    for f in fields {
        match f.slot() {
            Slot::Caller(i) => caller.push(i),
            Slot::Own(i) => own.push(i),
            Slot::Profile(i) => prof.push(i),
        }
    }
    Check::Syms {
        caller,
        own,
        prof,
        resources,
        verdicts: SymVerdicts::default(),
        callers: SymVerdicts::default(),
        profiles: SymVerdicts::default(),
        pat,
    }
}

/// What the matcher needs besides the event: the store's tables and the raw records.
pub struct MatchCtx<'a> {
    /// The events' tables.
    pub store: &'a EventStore,
    /// Where raw records are read back (for `text:` and `resource:`).
    pub raw: &'a RawReader,
}

impl MatchCtx<'_> {
    /// The index in the store of `ev`, an event of the store's (what detections are kept by);
    /// `u32::MAX` for an event from elsewhere (it has none).
    fn index_of(&self, ev: &Event) -> u32 {
        let base = self.store.events.as_ptr() as usize;
        let i = (ev as *const Event as usize).wrapping_sub(base) / std::mem::size_of::<Event>();
        match self.store.events.get(i) {
            Some(e) if std::ptr::eq(e, ev) => i as u32,
            _ => u32::MAX,
        }
    }
}

/// The terms of a query that the loader decides where each record is parsed, its bytes in
/// hand ([`crate::source::LoadOptions::terms`]): `text:` terms, whose verdict marks the event
/// so that no record is read again for them, and `resource:` terms. A record that passes
/// both (a record the query may select) is kept in memory, within a budget, so that writing
/// the matches does not decompress its file again.
#[derive(Debug)]
pub struct LoadTerms {
    text: Vec<(bool, Pattern)>,
    resource: Vec<(bool, Pattern)>,
    /// Bytes of records that may still be kept.
    budget: std::sync::atomic::AtomicUsize,
}

impl LoadTerms {
    /// The query's `text:` and `resource:` terms, keeping up to `keep_bytes` of the records
    /// that pass them; `None` when it has neither.
    pub fn of(q: &Query, keep_bytes: usize) -> Option<Self> {
        let (mut text, mut resource) = (Vec::new(), Vec::new());
        for t in &q.terms {
            match &t.kind {
                TermKind::Match { field: Field::Text, op, value } => text.push((t.negated, Pattern::new(*op, value))),
                TermKind::Match { field: Field::Resource, op, value } => {
                    resource.push((t.negated, Pattern::new(*op, value)))
                }
                _ => {}
            }
        }
        (!text.is_empty() || !resource.is_empty()).then(|| Self {
            text,
            resource,
            budget: std::sync::atomic::AtomicUsize::new(keep_bytes),
        })
    }

    /// Whether there are `text:` terms (whose verdict the events carry).
    pub fn has_text(&self) -> bool {
        !self.text.is_empty()
    }

    /// Whether a record whose text (as read back) is `text` passes every `text:` term.
    pub fn text(&self, text: &str) -> bool {
        self.text.iter().all(|(negated, p)| p.test(text) != *negated)
    }

    /// Whether a record with these resource strings (see
    /// [`EventStore::index_syms`](crate::model::events::EventStore::index_syms)) passes every
    /// `resource:` term.
    pub fn resource<'s>(&self, strings: impl Iterator<Item = &'s str> + Clone) -> bool {
        self.resource.iter().all(|(negated, p)| strings.clone().any(|s| p.test(s)) != *negated)
    }

    /// Takes `n` bytes of the budget for keeping a record; `false` when it is spent.
    pub fn take(&self, n: usize) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        self.budget.fetch_update(Relaxed, Relaxed, |b| b.checked_sub(n)).is_ok()
    }
}

/// A query compiled for a store.
#[derive(Clone, Debug, Default)]
pub struct Matcher {
    terms: Vec<CTerm>,
    /// Whether events marked [`FLAG_TEXT_DECIDED`] were decided on this query's `text:`
    /// terms at load ([`Matcher::text_decided_at_load`], [`LoadTerms`]).
    text_at_load: bool,
}

impl Matcher {
    /// A matcher for `q`, with the default fuzzy engine.
    pub fn new(q: &Query) -> Self {
        Self::with_engine(q, Engine::default())
    }

    /// A matcher whose bare words use the given fuzzy engine.
    pub fn with_engine(q: &Query, engine: Engine) -> Self {
        let terms = q
            .terms
            .iter()
            .map(|t| {
                let check = match &t.kind {
                    TermKind::Match { field, op, value } => {
                        let pat = Pattern::new(*op, value);
                        match field {
                            Field::Id | Field::Request => {
                                let hash = match &pat {
                                    Pattern::Equals(v) => Some(crate::model::id::hash32(v)),
                                    _ => None,
                                };
                                Check::Id { request: *field == Field::Request, hash, pat }
                            }
                            Field::Text => Check::Text(pat),
                            Field::ReadOnly => Check::ReadOnly(value.eq_ignore_ascii_case("true")),
                            Field::Verified => Check::Verified(value.eq_ignore_ascii_case("true")),
                            Field::Rule => Check::Rule(pat),
                            // Checked when parsed; an unknown level matches nothing.
                            Field::Level => crate::model::detect::Level::parse(value)
                                .map_or(Check::Rule(Pattern::new(Op::Exact, "\u{0}")), Check::Level),
                            Field::Resource => syms_check(&[], true, pat),
                            f => syms_check(sym_fields(*f), false, pat),
                        }
                    }
                    TermKind::Bare(word) => syms_check(LIST_COLUMNS, false, Pattern::Fuzzy(Fuzzy::new(engine, word))),
                    TermKind::Has(f) => Check::Has(*f),
                    TermKind::Since(ms) => Check::Since(*ms),
                    TermKind::Until(ms) => Check::Until(*ms),
                };
                CTerm { negated: t.negated, check }
            })
            .collect();
        Self { terms, text_at_load: false }
    }

    /// The same matcher, for a store loaded with this query's [`LoadTerms`]: an event the
    /// source marked [`FLAG_TEXT_DECIDED`] passes the `text:` terms when it is also marked
    /// [`FLAG_TEXT_PASSED`], and its record is not read again; the others are read as usual.
    pub fn text_decided_at_load(mut self) -> Self {
        self.text_at_load = true;
        self
    }

    /// Whether the query has no term (every event matches).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Character indices of `text` (a list cell) that the filter's bare words matched, for
    /// highlighting; empty when none did.
    pub fn highlights(&self, text: &str) -> Vec<usize> {
        let mut out = Vec::new();
        for t in &self.terms {
            if let (false, Check::Syms { pat: Pattern::Fuzzy(f), .. }) = (t.negated, &t.check) {
                out.extend(f.indices(text).unwrap_or_default());
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether matching reads raw records (slow: `text:`, and `id:` or `request:` but for an
    /// exact value). `resource:` reads only the rare record whose requestParameters hold more
    /// strings than the index keeps; an exact id only the records of its hash.
    pub fn needs_raw(&self) -> bool {
        self.terms.iter().any(|t| matches!(t.check, Check::Text(_) | Check::Id { hash: None, .. }))
    }

    /// Brings per-symbol and per-profile verdicts up to date with the store's tables; call
    /// before matching events that may use new symbols or profiles.
    pub fn prepare(&mut self, store: &EventStore) {
        for t in &mut self.terms {
            if let Check::Syms { verdicts, callers, profiles, .. } = &mut t.check {
                verdicts.extend(store.syms.len());
                callers.extend(store.callers.len());
                profiles.extend(store.profiles.len());
            }
        }
    }

    /// Whether `ev` matches every term.
    pub fn matches(&self, ev: &Event, ctx: &MatchCtx<'_>) -> bool {
        if self.text_at_load && ev.flags() & FLAG_TEXT_DECIDED != 0 {
            return ev.flags() & FLAG_TEXT_PASSED != 0
                && self
                    .terms
                    .iter()
                    .filter(|t| !matches!(t.check, Check::Text(_)))
                    .all(|t| self.check(&t.check, ev, ctx) != t.negated);
        }
        self.terms.iter().all(|t| self.check(&t.check, ev, ctx) != t.negated)
    }

    fn check(&self, c: &Check, ev: &Event, ctx: &MatchCtx<'_>) -> bool {
        let store = ctx.store;
        match c {
            Check::Syms { caller, own, prof, resources, verdicts, callers, profiles, pat } => {
                own.iter().any(|&i| verdicts.get(ev.own[i], &store.syms, pat))
                    || (!caller.is_empty()
                        && callers.get_or(ev.caller, || {
                            let c = &store.callers[ev.caller as usize];
                            caller.iter().any(|&k| verdicts.get(c[k], &store.syms, pat))
                        }))
                    || (!prof.is_empty()
                        && profiles.get_or(ev.profile, || {
                            let p = &store.profiles[ev.profile as usize];
                            prof.iter().any(|&k| verdicts.get(p[k], &store.syms, pat))
                        }))
                    || (*resources
                        && (store.index_syms(ev).iter().any(|&s| verdicts.get(s, &store.syms, pat))
                            || (ev.flags() & FLAG_MORE_RESOURCES != 0 && raw_resources_any(ev, ctx, &|s| pat.test(s)))))
            }
            Check::Id { request, hash, pat } => {
                let kept = if *request { ev.request_hash } else { ev.id_hash };
                match hash {
                    // No id: nothing to read.
                    _ if kept == 0 => pat.test(""),
                    Some(h) if *h != kept => false,
                    _ => {
                        let (id, req) = store.ids(ev, ctx.raw);
                        pat.test(if *request { &req } else { &id })
                    }
                }
            }
            Check::Text(p) => raw_text(ev, ctx).is_some_and(|t| p.test(&t)),
            Check::Has(f) => has(*f, ev, ctx),
            Check::ReadOnly(v) => ev.read_only() == Some(*v),
            Check::Verified(true) => store.verdict_of(ev) == crate::model::FileVerdict::Valid,
            Check::Verified(false) => store.verdict_of(ev).failed(),
            Check::Rule(p) => {
                let d = &store.detections;
                let i = ctx.index_of(ev);
                d.of(i).iter().filter_map(|&r| d.rules.get(r as usize)).any(|r| p.test(&r.title) || p.test(&r.id))
            }
            Check::Level(l) => store.detections.top_level(ctx.index_of(ev)).is_some_and(|top| top >= *l),
            Check::Since(ms) => ev.time() != crate::model::NO_TIME && ev.time() >= *ms,
            Check::Until(ms) => ev.time() != crate::model::NO_TIME && ev.time() <= *ms,
        }
    }

    /// Indices (in the given order) of the events that match.
    pub fn filter(&self, indices: &[u32], ctx: &MatchCtx<'_>) -> Vec<u32> {
        if self.terms.is_empty() {
            return indices.to_vec();
        }
        indices.iter().copied().filter(|&i| self.matches(&ctx.store.events[i as usize], ctx)).collect()
    }
}

fn raw_text(ev: &Event, ctx: &MatchCtx<'_>) -> Option<String> {
    let file = ctx.store.file_of(ev)?;
    let raw = ctx.raw.read(file, ev.loc).ok()?;
    Some(String::from_utf8_lossy(&raw).into_owned())
}

/// Whether a non-empty string of the record's requestParameters passes `test`, read from the
/// record itself (for the rare record the resource index does not hold whole).
/// Whether `test` passes a string of the event's resource index as its record holds it (the
/// record holds more than the index keeps): a non-empty resources[].ARN, or a non-empty
/// string anywhere in requestParameters.
fn raw_resources_any(ev: &Event, ctx: &MatchCtx<'_>, test: &dyn Fn(&str) -> bool) -> bool {
    let Some(text) = raw_text(ev, ctx) else {
        return false;
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    fn any_string(v: &serde_json::Value, test: &dyn Fn(&str) -> bool) -> bool {
        match v {
            serde_json::Value::String(s) => !s.is_empty() && test(s),
            serde_json::Value::Array(a) => a.iter().any(|x| any_string(x, test)),
            serde_json::Value::Object(o) => o.values().any(|x| any_string(x, test)),
            _ => false,
        }
    }
    let arns = v.get("resources").and_then(serde_json::Value::as_array).is_some_and(|list| {
        list.iter().any(|r| r.get("ARN").and_then(serde_json::Value::as_str).is_some_and(|a| !a.is_empty() && test(a)))
    });
    arns || v.get("requestParameters").is_some_and(|p| any_string(p, test))
}

fn has(f: Field, ev: &Event, ctx: &MatchCtx<'_>) -> bool {
    match f {
        Field::Id => ev.has_event_id(),
        Field::Request => ev.has_request_id(),
        Field::ReadOnly => ev.read_only().is_some(),
        Field::Verified => ctx.store.verdict_of(ev) != crate::model::FileVerdict::Unchecked,
        Field::Rule | Field::Level => !ctx.store.detections.of(ctx.index_of(ev)).is_empty(),
        Field::Text => true,
        Field::Resource => {
            ev.res_total() > 0 || (ev.flags() & FLAG_MORE_RESOURCES != 0 && raw_resources_any(ev, ctx, &|_| true))
        }
        f => sym_fields(f).iter().any(|&s| ctx.store.sym_id(ev, s) != EMPTY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(Pattern::new(Op::Contains, "delete").test("DeleteBucket"));
        assert!(!Pattern::new(Op::Exact, "deletebucket").test("DeleteBucket"));
        assert!(Pattern::new(Op::Exact, "DeleteBucket").test("DeleteBucket"));
        assert!(Pattern::new(Op::Contains, "delete*").test("DeleteBucket"));
        assert!(!Pattern::new(Op::Contains, "bucket*").test("DeleteBucket"));
        assert!(Pattern::new(Op::Contains, "*bucket").test("DeleteBucket"));
        assert!(Pattern::new(Op::Contains, "d*e*t").test("DeleteBucket"));
        assert!(!Pattern::new(Op::Exact, "d*").test("DeleteBucket"));
        assert!(Pattern::new(Op::Contains, "*").test("x"));
        assert!(!Pattern::new(Op::Contains, "ab*ba").test("aba"));
        assert!(Pattern::new(Op::Contains, "ÉTÉ").test("l'été"));
        assert!(contains_ci("AWS-CLI/2.13", "aws-cli/2"));
    }
}
