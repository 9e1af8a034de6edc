//! A file's events with file-local symbols, as a worker produces them, before the
//! coordinator interns them into the shared tables.

use super::files::Parsed;
use crate::cache::files::StringRefs;
use crate::model::detect::BatchHits;
use crate::model::intern::{same_bytes, ProfileInterner, StrHasher};
use crate::model::record::RecordFields;
use crate::model::summary::{Summary, SUMMARY_EVENT_ID, SUMMARY_REQUEST_ID, SUMMARY_SYMS};
use crate::model::time::parse_event_time;
use crate::model::{
    id, Caller, Event, Profile, RawLoc, Sym, SymField, CALLER_FIELDS, FLAG_ERROR, FLAG_MORE_RESOURCES, FLAG_READONLY,
    FLAG_READONLY_KNOWN, FLAG_TEXT_DECIDED, FLAG_TEXT_PASSED, MAX_RES_ARNS, MAX_RES_PARAMS, NO_TIME, OWN_FIELDS,
    SYM_FIELDS,
};
use crate::query::matcher::LoadTerms;
use crate::sigma::{RuleSet, SummaryFields};
use std::hash::BuildHasher;
use std::sync::Arc;

/// How many recent records of a file are remembered to drop exact copies of.
const RECENT: usize = 1024;

/// A file's distinct strings as local symbols: their text end to end, symbol `i` being
/// `text[ends[i - 1]..ends[i]]` with its hash in `hashes[i]` (symbol 0 is the empty string),
/// one arena instead of an allocation per string; and the symbols by hash.
pub(super) struct FileStrings {
    index: hashbrown::HashTable<Sym>,
    text: String,
    ends: Vec<usize>,
    hashes: Vec<u64>,
}

impl FileStrings {
    /// Room for `strings` strings of `bytes` bytes in all.
    fn with_capacity(strings: usize, bytes: usize) -> Self {
        let (mut ends, mut hashes) = (Vec::with_capacity(strings), Vec::with_capacity(strings));
        ends.push(0);
        hashes.push(0);
        Self { index: hashbrown::HashTable::with_capacity(strings), text: String::with_capacity(bytes), ends, hashes }
    }

    /// How many symbols there are, the empty string's included.
    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    /// How many bytes of text the strings hold.
    pub(super) fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Where symbol `sym`'s string lies in the text (empty for 0 and one out of range).
    #[inline]
    fn range(&self, sym: Sym) -> std::ops::Range<usize> {
        let i = sym as usize;
        match (self.ends.get(i.wrapping_sub(1)), self.ends.get(i)) {
            (Some(&a), Some(&b)) => a..b,
            _ => 0..0,
        }
    }

    /// The string of symbol `sym` ("" for 0 and one out of range).
    #[inline]
    fn text(&self, sym: Sym) -> &str {
        self.text.get(self.range(sym)).unwrap_or_default()
    }

    /// The bytes of symbol `sym`'s string: for comparing, with no check that the range falls
    /// between characters, which [`FileStrings::text`] makes.
    #[inline]
    fn bytes(&self, sym: Sym) -> &[u8] {
        self.text.as_bytes().get(self.range(sym)).unwrap_or_default()
    }

    /// The string of symbol `sym` (not 0), and its hash.
    #[inline]
    pub(super) fn get(&self, sym: Sym) -> (&str, u64) {
        (self.text(sym), self.hashes[sym as usize])
    }

    /// The symbol of `s` (not empty), whose hash is `hash`, if it is here.
    #[inline]
    pub(super) fn find(&self, s: &str, hash: u64) -> Option<Sym> {
        let s = s.as_bytes();
        self.index.find(hash, |&sym| same_bytes(self.bytes(sym), s)).copied()
    }

    /// The symbol of `s` (not empty), whose hash is `hash`, added if new.
    fn intern_hashed(&mut self, s: &str, hash: u64) -> Sym {
        if let Some(sym) = self.find(s, hash) {
            return sym;
        }
        let sym = self.ends.len() as Sym;
        let hashes = &self.hashes;
        self.index.insert_unique(hash, sym, |&sym| hashes[sym as usize]);
        self.text.push_str(s);
        self.ends.push(self.text.len());
        self.hashes.push(hash);
        sym
    }
}

/// A file's events with file-local symbols, as a worker produces them.
pub(super) struct LocalBatch {
    pub(super) hasher: StrHasher,
    /// The strings of local symbols.
    pub(super) strings: FileStrings,
    /// Per field, the symbol of the last value interned by [`LocalBatch::intern_repeating`].
    pub(super) last: [Sym; SYM_FIELDS],
    pub(super) res: Vec<Sym>,
    /// Profiles of local symbols; events point into it.
    pub(super) profiles: ProfileInterner,
    /// Callers of local symbols; events point into it.
    pub(super) callers: ProfileInterner<Caller>,
    pub(super) events: Vec<Event>,
    /// Per event: hash of the eventID (0: none) and of the raw bytes.
    pub(super) hashes: Vec<(u64, u64)>,
    /// Exact copies of a recent record of the file (same eventID, same bytes), dropped here:
    /// the coordinator would collapse them anyway, and a file of one record repeated ten
    /// million times must not hold ten million events on the way.
    pub(super) dups: usize,
    /// The (eventID hash, bytes hash) of recent records, by bytes hash.
    recent: Box<[(u64, u64); RECENT]>,
    /// What detection rules found in the records kept (indices among `events`), when they
    /// were evaluated as parsed; `None`: they were not.
    pub(super) found: Option<BatchHits>,
    /// Terms each record kept is decided on (see [`LocalBatch::decide_terms`]).
    terms: Option<Arc<LoadTerms>>,
    /// Records the query may select, by offset, for the raw reader to keep.
    pub(super) kept: Vec<(u32, Box<[u8]>)>,
    /// For a batch read from a stored index: the local symbol of each string of the file's
    /// table taken so far ([`UNSEEN`] for the others), by its place in the table.
    stored: Vec<Sym>,
}

/// In [`LocalBatch::stored`]: a string not taken yet.
const UNSEEN: Sym = Sym::MAX;

impl LocalBatch {
    /// A batch sized for `content_len` bytes of records (about a kilobyte each, with a
    /// string or so of their own), so that it rarely grows while filling.
    pub(super) fn new(hasher: &StrHasher, content_len: usize) -> Self {
        let records = (content_len / 800).clamp(16, 1 << 16);
        Self {
            hasher: hasher.clone(),
            // The generated archives' files hold about 96 bytes of distinct strings a record.
            strings: FileStrings::with_capacity(records * 2, records * 128),
            last: [0; SYM_FIELDS],
            res: Vec::with_capacity(records),
            // A file of the generated archives has about half as many callers as events, and
            // somewhat fewer profiles; a table that doubled from nothing rehashed each time.
            profiles: ProfileInterner::with_capacity(records / 2),
            callers: ProfileInterner::with_capacity(records / 2),
            events: Vec::with_capacity(records),
            hashes: Vec::with_capacity(records),
            dups: 0,
            recent: Box::new([(0, 0); RECENT]),
            found: None,
            terms: None,
            kept: Vec::new(),
            stored: Vec::new(),
        }
    }

    /// The same batch, its records to be evaluated against detection rules (`yes`).
    pub(super) fn evaluating(mut self, yes: bool) -> Self {
        self.found = yes.then(BatchHits::default);
        self
    }

    /// The same batch, its records decided on `terms` (when given).
    pub(super) fn deciding(mut self, terms: Option<Arc<LoadTerms>>) -> Self {
        self.terms = terms;
        self
    }

    /// Decides event `index`, if the record `p` became it, on the load's terms, from the
    /// bytes in hand: marks it with its `text:` verdict (on the text a record is read back
    /// as), and keeps the record when it passes the `text:` and `resource:` terms. A record
    /// written as a JSON string (lookup-events output) is left to be read back.
    pub(super) fn decide_terms(&mut self, index: usize, p: &Parsed<'_, '_>) {
        let (Some(terms), Some(&ev)) = (self.terms.as_deref(), self.events.get(index)) else { return };
        if p.span.escaped {
            return;
        }
        let (mut candidate, mut flags) = (true, 0);
        if terms.has_text() {
            candidate = match std::str::from_utf8(p.bytes) {
                Ok(s) => terms.text(s),
                Err(_) => terms.text(&String::from_utf8_lossy(p.bytes)),
            };
            flags = FLAG_TEXT_DECIDED | if candidate { FLAG_TEXT_PASSED } else { 0 };
        }
        if candidate && ev.flags() & FLAG_MORE_RESOURCES == 0 {
            let own = &self.res[ev.res_start as usize..ev.res_start as usize + ev.res_total()];
            candidate = terms.resource(own.iter().filter(|&&s| s != 0).map(|&s| self.local(s).0));
        }
        let keep = candidate && terms.take(p.bytes.len());
        self.events[index].add_flags(flags);
        if keep {
            self.kept.push((ev.loc.offset, p.bytes.into()));
        }
    }

    /// [`LocalBatch::push`], then the record evaluated against `rules` (when given and the
    /// record was kept, not dropped as a copy of a recent one).
    pub(super) fn push_evaluated(&mut self, file: u32, p: &Parsed<'_, '_>, rules: Option<&RuleSet>) {
        let before = self.events.len();
        self.push(file, p);
        self.decide_terms(before, p);
        if let Some(rules) = rules {
            self.evaluate(rules, before, p);
        }
    }

    /// Evaluates the record `p` against `rules` if it became event `index` (it was not
    /// dropped), with the summary fields already parsed ruling out most records at once.
    pub(super) fn evaluate(&mut self, rules: &RuleSet, index: usize, p: &Parsed<'_, '_>) {
        let Some(found) = self.found.as_mut() else { return };
        let Some(ev) = self.events.get(index) else { return };
        let r: &RecordFields = p.fields;
        // As the store keeps them (see sigma::summary_of): an Insights event's summary fields
        // are those of the API it concerns, so they say nothing.
        let name = r.display_name();
        let identity = r.identity.0.as_ref();
        let summary = if r.category.as_str().eq_ignore_ascii_case("insight") {
            SummaryFields::default()
        } else {
            SummaryFields {
                name: &name,
                source: r.display_source(),
                identity_type: identity.map_or("", |i| i.kind.as_str()),
                arn: identity.map_or("", |i| i.arn.as_str()),
                agent: r.user_agent.as_str(),
            }
        };
        // `detect` writes eventID and eventTime as the record does when they are strings. The
        // fields parsed give them unless they may have been a number or a boolean (then the
        // record's own are taken out, for a record that matched).
        let (id, time) = (r.event_id.as_str(), r.event_time.as_str());
        let ambiguous = || maybe_not_text(id) || maybe_not_text(time);
        let Some(h) =
            rules.eval_summarised(summary, p.bytes, &RecordFields::KEYS, || crate::sigma::known_of(r), ambiguous)
        else {
            return;
        };
        let ambiguous = ambiguous();
        let i = index as u32;
        let (id, time) = match ambiguous {
            true => (h.event_id.unwrap_or_default(), h.event_time.unwrap_or_default()),
            false => (id.to_string(), time.to_string()),
        };
        // The summary gives the same back for nearly every record; only the others carry them.
        if id != r.event_id.as_str() || !time_written_as(&time, ev.time()) {
            found.written.push((i, id, time));
        }
        found.hits.push((i, h.rules));
    }
    /// The string of local symbol `sym`, and its hash.
    pub(super) fn local(&self, sym: Sym) -> (&str, u64) {
        self.strings.get(sym)
    }
    fn intern(&mut self, s: &str) -> Sym {
        if s.is_empty() {
            return 0;
        }
        self.strings.intern_hashed(s, self.hasher.hash_one(s))
    }
    /// Interns `s`, string `at` of the stored index's table: each distinct string once, then
    /// by its place (`at` [`StringRefs::NOT_IN_TABLE`]: interned as any other).
    fn intern_stored(&mut self, at: u32, s: &str) -> Sym {
        if at == StringRefs::NOT_IN_TABLE {
            return self.intern(s);
        }
        let at = at as usize;
        if let Some(&sym) = self.stored.get(at).filter(|&&sym| sym != UNSEEN) {
            return sym;
        }
        let sym = self.intern(s);
        if at >= self.stored.len() {
            self.stored.resize(at + 1, UNSEEN);
        }
        self.stored[at] = sym;
        sym
    }
    /// Interns a value that is usually the same as the field's in the record before.
    fn intern_repeating(&mut self, f: SymField, s: &str) -> Sym {
        let last = self.last[f as usize];
        if last != 0 && same_bytes(self.strings.bytes(last), s.as_bytes()) {
            return last;
        }
        let sym = self.intern(s);
        self.last[f as usize] = sym;
        sym
    }
    /// An event's caller's index, own symbols and profile's index, from its symbols by
    /// [`SymField`].
    fn split(&mut self, syms: &[Sym; SYM_FIELDS]) -> (u32, [Sym; OWN_FIELDS], u32) {
        let (caller, rest) = syms.split_at(CALLER_FIELDS);
        let (own, profile) = rest.split_at(OWN_FIELDS);
        let caller: Caller = caller.try_into().expect("caller fields");
        let profile: Profile = profile.try_into().expect("profile fields");
        (self.callers.intern(&caller), own.try_into().expect("own fields"), self.profiles.intern(&profile))
    }
    pub(super) fn push(&mut self, file: u32, p: &Parsed<'_, '_>) {
        let r: &RecordFields = p.fields;
        let mut syms = [0; SYM_FIELDS];
        let id = r.identity.0.as_ref();
        let principal = r.principal();
        // Fields that mostly repeat within a file first try the value of the record before.
        let mut set = |f: SymField, s: &str, me: &mut Self, repeats: bool| {
            syms[f as usize] = if repeats { me.intern_repeating(f, s) } else { me.intern(s) }
        };
        set(SymField::Source, r.display_source(), self, true);
        set(SymField::Region, r.region.as_str(), self, true);
        set(SymField::Account, r.recipient_account.as_str(), self, true);
        set(SymField::Category, r.category.as_str(), self, true);
        set(SymField::EventType, r.event_type.as_str(), self, true);
        set(SymField::Name, &r.display_name(), self, false);
        set(SymField::Principal, &principal, self, false);
        set(SymField::Ip, r.source_ip.as_str(), self, false);
        set(SymField::Error, r.error_code.as_str(), self, false);
        set(SymField::Agent, r.user_agent.as_str(), self, false);
        if let Some(id) = id {
            set(SymField::IdentityType, id.kind.as_str(), self, true);
            set(SymField::IdentityAccount, id.account_id.as_str(), self, true);
            set(SymField::Arn, id.arn.as_str(), self, false);
            set(SymField::AccessKey, id.access_key_id.as_str(), self, false);
        }
        let res_start = self.res.len() as u32;
        let arns = r.resources.0.iter().filter(|res| res.arn.is_some()).map(|res| res.arn.as_str());
        let more =
            self.index_resources(arns, r.params.strings.iter().map(|s| &**s), r.params.more, |me, s| me.intern(s));
        self.finish(
            file,
            &syms,
            res_start,
            Rest {
                more_resources: more,
                time: parse_event_time(r.event_time.as_str()).or(p.fallback_time).unwrap_or(NO_TIME),
                read_only: read_only_of(r.read_only.as_str()),
                event_id: r.event_id.is_some().then(|| r.event_id.as_str()),
                request_id: r.request_id.as_str(),
                raw_hash: xxhash_rust::xxh3::xxh3_64(p.bytes),
                span: p.span,
            },
        );
    }

    /// Takes one record's summary as the archive index stores it: read back from the index
    /// (with where its strings are in the file's table, `refs`), or parsed while the index is
    /// being built.
    pub(super) fn push_summary(&mut self, file: u32, s: &Summary<'_>, refs: Option<&StringRefs>) {
        let no_refs = StringRefs::default();
        let refs = refs.unwrap_or(&no_refs);
        let mut syms = [0; SYM_FIELDS];
        for (i, field) in SUMMARY_SYMS.iter().enumerate() {
            if let Some(f) = field {
                syms[*f as usize] = self.intern_stored(refs.strs[i], &s.strs[i]);
            }
        }
        let res_start = self.res.len() as u32;
        let at = |places: &[u32], i: usize| places.get(i).copied().unwrap_or(StringRefs::NOT_IN_TABLE);
        let more = self.index_resources(
            s.resources.iter().enumerate().map(|(i, a)| (at(&refs.resources, i), &**a)),
            s.params.iter().enumerate().map(|(i, p)| (at(&refs.params, i), &**p)),
            s.more_params,
            |me, (at, s)| me.intern_stored(at, s),
        );
        self.finish(
            file,
            &syms,
            res_start,
            Rest {
                more_resources: more,
                time: s.time,
                read_only: s.read_only,
                event_id: s.has_event_id.then(|| &*s.strs[SUMMARY_EVENT_ID]),
                request_id: &s.strs[SUMMARY_REQUEST_ID],
                raw_hash: s.raw_hash,
                span: s.span,
            },
        );
    }

    /// Adds a record's part of the resource index to `res`: its resource ARNs, then the
    /// distinct strings of its requestParameters that are not among them. Returns whether some
    /// were left out (`more`, or more than an event can count).
    /// `intern` gives each string's symbol.
    fn index_resources<T>(
        &mut self,
        arns: impl Iterator<Item = T>,
        params: impl Iterator<Item = T>,
        more: bool,
        intern: impl Fn(&mut Self, T) -> Sym,
    ) -> (bool, u16) {
        let start = self.res.len();
        let mut left_out = more;
        for arn in arns {
            if self.res.len() - start == MAX_RES_ARNS as usize {
                left_out = true;
                break;
            }
            let sym = intern(self, arn);
            self.res.push(sym);
        }
        let arns = self.res.len() - start;
        for p in params {
            if self.res.len() - start - arns == MAX_RES_PARAMS {
                left_out = true;
                break;
            }
            let sym = intern(self, p);
            // Most records hold a few strings: a scan is cheaper than a set. Past that a repeat
            // is kept twice, which costs four bytes and changes no answer.
            if sym != 0 && (self.res.len() - start > 32 || !self.res[start..].contains(&sym)) {
                self.res.push(sym);
            }
        }
        (left_out, Event::pack_res_counts(arns, self.res.len() - start - arns))
    }

    /// Adds the event whose interned fields are `syms` and whose resource index is what `res`
    /// holds from `res_start`.
    fn finish(&mut self, file: u32, syms: &[Sym; SYM_FIELDS], res_start: u32, rest: Rest<'_>) {
        let mut flags = match rest.read_only {
            Some(true) => FLAG_READONLY_KNOWN | FLAG_READONLY,
            Some(false) => FLAG_READONLY_KNOWN,
            None => 0,
        };
        if syms[SymField::Error as usize] != 0 {
            flags |= FLAG_ERROR;
        }
        let (more, res_counts) = rest.more_resources;
        if more {
            flags |= FLAG_MORE_RESOURCES;
        }
        let id_hash = id::copy_hash(rest.event_id.unwrap_or(""));
        if id_hash != 0 {
            let slot = &mut self.recent[rest.raw_hash as usize % RECENT];
            if *slot == (id_hash, rest.raw_hash) {
                self.dups += 1;
                self.res.truncate(res_start as usize);
                return;
            }
            *slot = (id_hash, rest.raw_hash);
        }
        let (caller, own, profile) = self.split(syms);
        self.hashes.push((id_hash, rest.raw_hash));
        let mut ev = Event {
            profile,
            caller,
            own,
            id_hash: id::hash32_of_copy(id_hash),
            request_hash: id::hash32(rest.request_id),
            res_start,
            // Content is at most 4 GiB (MAX_CONTENT), so offsets fit.
            loc: RawLoc::new(file, rest.span.offset as u32),
            ..Event::default()
        };
        ev.set_time(rest.time);
        ev.set_res_counts(res_counts);
        ev.add_flags(flags);
        self.events.push(ev);
    }
}

/// What an event needs besides its interned fields, from a parsed record or a stored summary.
pub(super) struct Rest<'a> {
    /// What [`LocalBatch::index_resources`] returned.
    more_resources: (bool, u16),
    time: i64,
    read_only: Option<bool>,
    /// `None`: the record has no eventID (an empty one is `Some("")`).
    event_id: Option<&'a str>,
    request_id: &'a str,
    /// xxh3 of the record's bytes.
    raw_hash: u64,
    span: crate::model::raw::ByteSpan,
}

/// `readOnly` as written: CloudTrail writes a boolean, some exports a string.
pub(super) fn read_only_of(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// The summary of a parsed record.
pub(super) fn summary_of<'r>(p: &Parsed<'r, '_>) -> Summary<'r> {
    use std::borrow::Cow;
    let r: &'r RecordFields = p.fields;
    let (arn, kind, key, acct) = match r.identity.0.as_ref() {
        Some(i) => (i.arn.as_str(), i.kind.as_str(), i.access_key_id.as_str(), i.account_id.as_str()),
        None => ("", "", "", ""),
    };
    let strs: [Cow<'r, str>; 16] = [
        r.display_name(),
        Cow::Borrowed(r.display_source()),
        Cow::Borrowed(r.region.as_str()),
        r.principal(),
        Cow::Borrowed(arn),
        Cow::Borrowed(kind),
        Cow::Borrowed(key),
        Cow::Borrowed(r.source_ip.as_str()),
        Cow::Borrowed(r.recipient_account.as_str()),
        Cow::Borrowed(acct),
        Cow::Borrowed(r.error_code.as_str()),
        Cow::Borrowed(r.user_agent.as_str()),
        Cow::Borrowed(r.category.as_str()),
        Cow::Borrowed(r.event_type.as_str()),
        Cow::Borrowed(r.event_id.as_str()),
        Cow::Borrowed(r.request_id.as_str()),
    ];
    let read_only = read_only_of(r.read_only.as_str());
    Summary {
        strs,
        has_event_id: r.event_id.is_some(),
        time: parse_event_time(r.event_time.as_str()).or(p.fallback_time).unwrap_or(NO_TIME),
        read_only,
        resources: r
            .resources
            .0
            .iter()
            .filter(|res| res.arn.is_some())
            .map(|res| Cow::Borrowed(res.arn.as_str()))
            .collect(),
        params: r.params.strings.iter().map(|p| Cow::Borrowed(&**p)).collect(),
        more_params: r.params.more,
        span: p.span,
        raw_hash: xxhash_rust::xxh3::xxh3_64(p.bytes),
    }
}

/// Whether `written`, an eventTime as a record writes it, is what the event's time `ms` is
/// written as when given back ([`crate::model::time::format_rfc3339`]).
fn time_written_as(written: &str, ms: i64) -> bool {
    // CloudTrail's own form, which the summary's time gives back exactly (a leap second aside).
    if written.len() == 20 && parse_event_time(written) == Some(ms) && written.get(17..19).is_none_or(|s| s != "60") {
        return true;
    }
    written == crate::model::time::format_rfc3339(ms)
}

/// Whether `s`, a field's text as the record parser gives it, may stand for a number or a
/// boolean in the record rather than a string: the parser writes a number as digits, a minus
/// sign and a point (never an exponent), a boolean as `true` or `false`.
fn maybe_not_text(s: &str) -> bool {
    s == "true" || s == "false" || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'-' || b == b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file's table holds each distinct string once: the same text is found again, whatever
    /// its length, and texts that differ anywhere (first byte, last byte, middle) are told apart.
    #[test]
    fn a_files_table_holds_each_string_once_and_tells_near_strings_apart() {
        let hasher = StrHasher::default();
        let mut t = FileStrings::with_capacity(4, 16);
        let mut texts: Vec<String> = Vec::new();
        for len in [1usize, 3, 4, 7, 8, 9, 15, 16, 17, 40, 200] {
            let base: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            texts.push(base.clone());
            for at in [0, len / 2, len - 1] {
                let mut b = base.clone().into_bytes();
                b[at] = b'Z';
                texts.push(String::from_utf8(b).unwrap());
            }
        }
        texts.push("é".into());
        texts.push("ée".into());
        texts.sort();
        texts.dedup();
        let syms: Vec<Sym> = texts.iter().map(|s| t.intern_hashed(s, hasher.hash_one(s))).collect();
        assert_eq!(t.len(), texts.len() + 1, "one symbol a string, and the empty string's");
        for (s, &sym) in texts.iter().zip(&syms) {
            assert_eq!(t.intern_hashed(s, hasher.hash_one(s)), sym, "{s} again");
            assert_eq!(t.find(s, hasher.hash_one(s)), Some(sym), "{s}");
            assert_eq!(t.get(sym), (s.as_str(), hasher.hash_one(s)));
        }
        assert_eq!(t.len(), texts.len() + 1, "nothing added by the second time");
        assert_eq!(t.find("absent", hasher.hash_one("absent")), None);
        assert_eq!(t.bytes(0), b"");
        assert_eq!(t.bytes(t.len() as Sym), b"", "a symbol out of range");
    }
}
