//! `trailscope detect`: the same sources as `print`, each record evaluated against Sigma rules;
//! one line per (event, rule) as JSON Lines, or a summary per rule as a table.

use super::{build_query, exit, gather, report, s3, Loaded, Matched, PrintRequest};
use crate::model::raw::RawReader;
use crate::model::time;
use crate::query::{matcher::MatchCtx, Matcher};
use crate::sanitize::{noun, sanitize};
use crate::sigma::RuleSet;
use crate::source::boundary::{self, LiveHistory};
use crate::source::lookup::{LiveQuery, HISTORY_DAYS};
use crate::source::LoadOptions;
use rayon::prelude::*;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// How `detect` writes what it found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DetectFormat {
    /// One JSON object per (event, rule): eventID, eventTime, rule_id, title, level; newest first.
    Jsonl,
    /// One row per rule that matched: level, events, the newest event's time, id, title.
    Table,
}

/// A `detect` run: the inputs as `print` takes them, and the rules.
pub struct DetectRequest {
    /// Inputs, filter and window, as for `print` (its `format` is not used).
    pub inputs: PrintRequest,
    /// Rule files and directories.
    pub rules: Vec<PathBuf>,
    /// Output format.
    pub format: DetectFormat,
}

/// One (event, rule) pair found.
struct Hit {
    /// The event's index in the store.
    event: u32,
    rule: u16,
}

/// What `detect` found: the (event, rule) pairs newest first, and the eventID and eventTime of
/// the events read back and evaluated here, as their records write them (sanitised).
struct Found {
    hits: Vec<Hit>,
    texts: std::collections::HashMap<u32, (String, String)>,
}

impl Found {
    /// eventID and eventTime of event `i` as a detection says them: as its record writes them
    /// (strings, sanitised), which its summary gives back but for the few its source noted.
    fn texts(&self, store: &crate::model::EventStore, raw: &RawReader, i: u32) -> (String, String) {
        if let Some((id, t)) = self.texts.get(&i) {
            return (id.clone(), t.clone());
        }
        let ev = &store.events[i as usize];
        match store.detections.written(i) {
            Some((id, t)) => (sanitize(id).into_owned(), sanitize(t).into_owned()),
            // (The time as written is digits and separators: nothing to sanitise.)
            None => (owned_sanitized(store.event_id(ev, raw)), time::format_rfc3339(ev.time())),
        }
    }

    /// How many events matched a rule (the pairs are grouped by event).
    fn events(&self) -> usize {
        self.hits.windows(2).filter(|w| w[0].event != w[1].event).count() + usize::from(!self.hits.is_empty())
    }
}

/// Runs `detect`; the exit status.
pub fn run(req: &DetectRequest, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    if req.rules.is_empty() {
        let _ = writeln!(err, "trailscope: no rules: give --rules DIR, or set rules = [\"DIR\"] in config.toml");
        return exit::USAGE;
    }
    let rules = match RuleSet::load(&req.rules) {
        Ok(r) => Arc::new(r),
        Err(e) => {
            let _ = writeln!(err, "trailscope: {e}");
            return exit::USAGE;
        }
    };
    report_rules(&rules, err);
    if rules.is_empty() {
        let _ = writeln!(err, "trailscope: no CloudTrail rule could be evaluated");
        return exit::USAGE;
    }
    let p = &req.inputs;
    let mut q = match build_query(p.filter.as_deref(), p.since, p.until, time::now_ms()) {
        Ok(q) => q,
        Err(e) => {
            let _ = writeln!(err, "trailscope: {e}");
            return exit::USAGE;
        }
    };
    let raw = Arc::new(RawReader::new(super::PRINT_CACHE_BYTES));
    let mut logs_status = None;
    let mut athena_status = None;
    let (mut loaded, s3_status) = if p.athena.is_used() {
        match super::athena::load(p, &mut q, &raw, Some(rules.clone()), &|_| Loaded::new(), err) {
            Ok((loaded, status)) => {
                athena_status = Some(status);
                (loaded, None)
            }
            Err(e) => {
                let _ = writeln!(err, "trailscope: {}", sanitize(&e));
                return exit::USAGE;
            }
        }
    } else if p.logs.is_used() {
        match super::logs::load(p, &mut q, &raw, Some(rules.clone()), &|_| Loaded::new(), err) {
            Ok((loaded, status)) => {
                logs_status = Some(status);
                (loaded, None)
            }
            Err(e) => {
                let _ = writeln!(err, "trailscope: {}", sanitize(&e));
                return exit::USAGE;
            }
        }
    } else if crate::source::s3::is_remote(&p.paths, &p.s3) {
        match s3::load(p, &mut q, &raw, Some(rules.clone()), &|_| Loaded::new()) {
            Ok((loaded, status)) => (loaded, Some(status)),
            Err(e) => {
                let _ = writeln!(err, "trailscope: {}", sanitize(&e));
                return exit::USAGE;
            }
        }
    } else if p.paths.is_empty() {
        let now = time::now_ms();
        let plan = crate::query::plan::plan(&q);
        let since = p.since.unwrap_or(now - super::DEFAULT_LIVE_WINDOW_MS).max(now - HISTORY_DAYS * 86_400_000);
        let query = LiveQuery::from_plan(&plan, since, p.until.unwrap_or(now));
        let live = Box::new(LiveHistory { cfg: p.live.clone(), until_done: true });
        let loaded = gather(live, &raw, Some(query), err);
        if let Some(pr) = loaded.problems.iter().find(|pr| pr.stops_live_history()) {
            let _ = writeln!(err, "trailscope: {}", sanitize(&pr.reason));
            return exit::NOTHING_READ;
        }
        (loaded, None)
    } else {
        // Each record is evaluated where it is parsed.
        let opts = LoadOptions {
            cache: p.cache.clone(),
            rules: Some(rules.clone().into()),
            window: super::local_window(&q, p.s3.lag_ms),
            ..Default::default()
        };
        (gather(Box::new(boundary::for_inputs(&p.paths, &opts)), &raw, None, err), None)
    };
    let unevaluated = loaded.store.detections.take_unevaluated();
    let (found, unread) = evaluate(&rules, &q, &loaded, &unevaluated, &raw);
    let texts = |i: u32| found.texts(&loaded.store, &raw, i);
    let written = match req.format {
        DetectFormat::Jsonl => write_jsonl(&rules, &found.hits, &texts, out),
        DetectFormat::Table => write_table(&rules, &found.hits, &texts, out),
    };
    let hits = &found.hits;
    if let Some((s, window)) = &s3_status {
        s3::report(s, window, err);
    }
    if let Some(s) = &logs_status {
        super::logs::report(s, err);
    }
    if let Some(s) = &athena_status {
        super::athena::report(s, err);
    }
    let shown = loaded.store.len();
    report(&loaded, Matched { shown, unread, rows_kept: false }, err);
    let events = found.events();
    let _ = writeln!(
        err,
        "trailscope: {} {} of {} {} in {} {}",
        hits.len(),
        noun(hits.len(), "detection", "detections"),
        rules.rules.len(),
        noun(rules.rules.len(), "rule", "rules"),
        events,
        noun(events, "event", "events"),
    );
    if let Err(e) = written {
        if e.kind() != io::ErrorKind::BrokenPipe {
            let _ = writeln!(err, "trailscope: writing output failed: {e}");
            return exit::NOTHING_READ;
        }
    }
    if !hits.is_empty() {
        return exit::DETECTED;
    }
    match super::exit_status(&loaded) {
        exit::OK if unread > 0 => exit::SOME_SKIPPED,
        status => status,
    }
}

/// Why a filter's detection terms cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// `rule:`, `level:` or `has:rule` without rules.
    #[error(
        "the filter asks about detections (rule:, level:, has:rule): give --rules DIR, or set rules in config.toml"
    )]
    NoRules,
    /// A `--rules` path that cannot be read.
    #[error(transparent)]
    Load(#[from] crate::sigma::LoadError),
}

/// The rules a filter needs: `None` when it does not ask about detections.
pub fn rules_for_filter(q: &crate::query::Query, paths: &[PathBuf]) -> Result<Option<RuleSet>, RulesError> {
    use crate::query::{Field, TermKind};
    let asks = q.terms.iter().any(|t| match &t.kind {
        TermKind::Match { field, .. } | TermKind::Has(field) => matches!(field, Field::Rule | Field::Level),
        _ => false,
    });
    if !asks {
        return Ok(None);
    }
    if paths.is_empty() {
        return Err(RulesError::NoRules);
    }
    Ok(Some(RuleSet::load(paths)?))
}

/// Completes the store's detections: the events their source did not evaluate as it parsed
/// them (live history) are read back and evaluated against `rules` (on all cores), as the TUI
/// does.
pub fn fill(rules: &RuleSet, store: &mut crate::model::EventStore, raw: &RawReader) {
    let pending: Vec<u32> = store.detections.take_unevaluated().into_iter().flatten().collect();
    let s = &*store;
    let hits: Vec<(u32, Vec<u16>)> = pending
        .par_iter()
        .filter_map(|&i| {
            let ev = &s.events[i as usize];
            if !rules.may_match(crate::sigma::summary_of(s, ev)) {
                return None;
            }
            let bytes = raw.read(s.file_of(ev)?, ev.loc).ok()?;
            let h = rules.eval_bytes(&bytes);
            (!h.is_empty()).then_some((i, h))
        })
        .collect();
    store.detections.rules = rules.infos();
    for (i, h) in hits {
        store.detections.record(i, h);
    }
    store.detections.evaluated += pending.len();
}

/// Says which rule files were skipped and why, and how many are for other log sources.
pub fn report_rules(rules: &RuleSet, err: &mut dyn Write) {
    for p in &rules.problems {
        let _ = writeln!(err, "trailscope: rule skipped: {}: {}", p.file, p.reason);
    }
    if rules.other_logsource > 0 {
        let n = rules.other_logsource;
        let _ = writeln!(err, "trailscope: {n} rule {} for other log sources left out", noun(n, "file", "files"));
    }
}

/// Every (event, rule) pair among the events the query selects, newest first; how many
/// records could not be read back. What the source found as it parsed the records is in the
/// store; the events in `unevaluated` (which their source did not evaluate) are read back and
/// evaluated here.
fn evaluate(
    rules: &RuleSet,
    q: &crate::query::Query,
    loaded: &Loaded,
    unevaluated: &[std::ops::Range<u32>],
    raw: &RawReader,
) -> (Found, usize) {
    let store = &loaded.store;
    let mut matcher = Matcher::new(q);
    matcher.prepare(store);
    let ctx = MatchCtx { store, raw };
    let all: Vec<u32> = (0..store.len() as u32).collect();
    // In the order stored (by file, as loaded): each file is read back about once. Events whose
    // summary no rule can match are not read at all.
    let shown = matcher.filter(&all, &ctx);
    drop(all);
    let pending = |i: u32| {
        let at = unevaluated.partition_point(|r| r.end <= i);
        unevaluated.get(at).is_some_and(|r| r.contains(&i))
    };
    // The events their source evaluated: what they matched is in the store, read from its
    // hits rather than looked up event by event (most events match nothing).
    let mut is_shown = vec![false; store.len()];
    for &i in &shown {
        is_shown[i as usize] = true;
    }
    let mut hits: Vec<Hit> = Vec::new();
    for (i, rules) in store.detections.iter() {
        if is_shown.get(i as usize) == Some(&true) && !pending(i) {
            hits.extend(rules.iter().map(|&rule| Hit { event: i, rule }));
        }
    }
    // The events their source did not evaluate are read back and evaluated here (`Err`: the
    // record could not be read).
    let unevaluated: Vec<u32> =
        if unevaluated.is_empty() { Vec::new() } else { shown.into_iter().filter(|&i| pending(i)).collect() };
    let read_here: Vec<Result<Option<(u32, crate::sigma::RecordHits)>, ()>> = unevaluated
        .par_iter()
        .map(|&i| {
            let ev = &store.events[i as usize];
            if !rules.may_match(crate::sigma::summary_of(store, ev)) {
                return Ok(None);
            }
            let bytes = raw.read(store.file_of(ev).ok_or(())?, ev.loc).map_err(|_| ())?;
            Ok(rules.eval_record(&bytes).map(|found| (i, found)))
        })
        .collect();
    let unread = read_here.iter().filter(|r| r.is_err()).count();
    let mut texts = std::collections::HashMap::new();
    for (i, found) in read_here.into_iter().flatten().flatten() {
        let text = |s: Option<String>| s.map(|s| sanitize(&s).into_owned()).unwrap_or_default();
        texts.insert(i, (text(found.event_id), text(found.event_time)));
        hits.extend(found.rules.into_iter().map(|rule| Hit { event: i, rule }));
    }
    // Newest first, as print writes events.
    let mut order: Vec<u32> = hits.iter().map(|h| h.event).collect();
    order.dedup();
    store.sort_indices(&mut order);
    let mut rank = vec![u32::MAX; store.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    // Each (event, rule) pair is found once: the key is unique.
    hits.sort_unstable_by_key(|h| (rank[h.event as usize], h.rule));
    (Found { hits, texts }, unread)
}

/// `s` sanitised, without copying it when it is safe as it is.
fn owned_sanitized(s: String) -> String {
    match sanitize(&s) {
        std::borrow::Cow::Borrowed(_) => s,
        std::borrow::Cow::Owned(o) => o,
    }
}

/// One line of `detect`'s JSON Lines, written straight from borrowed text.
#[derive(serde::Serialize)]
struct Line<'a> {
    #[serde(rename = "eventID")]
    event_id: &'a str,
    #[serde(rename = "eventTime")]
    event_time: &'a str,
    rule_id: &'a str,
    title: &'a str,
    level: &'a str,
}

fn write_jsonl(
    rules: &RuleSet,
    hits: &[Hit],
    texts: &dyn Fn(u32) -> (String, String),
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    // An event's lines are together: its texts are made once.
    let mut last: Option<(u32, (String, String))> = None;
    for h in hits {
        if last.as_ref().is_none_or(|(e, _)| *e != h.event) {
            last = Some((h.event, texts(h.event)));
        }
        let Some((_, (event_id, event_time))) = &last else { continue };
        let r = &rules.rules[h.rule as usize].info;
        let line = Line { event_id, event_time, rule_id: &r.id, title: &r.title, level: r.level.name() };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

fn write_table(
    rules: &RuleSet,
    hits: &[Hit],
    texts: &dyn Fn(u32) -> (String, String),
    out: &mut dyn Write,
) -> io::Result<()> {
    // Each (event, rule) pair is found once: a rule's detections are the events it matched.
    let mut per_rule = vec![0usize; rules.rules.len()];
    let mut newest: Vec<Option<u32>> = vec![None; rules.rules.len()];
    for h in hits {
        let r = h.rule as usize;
        per_rule[r] += 1;
        newest[r].get_or_insert(h.event);
    }
    let newest: Vec<String> = newest.into_iter().map(|e| e.map(|e| texts(e).1).unwrap_or_default()).collect();
    let mut rows: Vec<usize> = (0..rules.rules.len()).filter(|&i| per_rule[i] > 0).collect();
    rows.sort_by_key(|&i| (std::cmp::Reverse(rules.rules[i].info.level), std::cmp::Reverse(per_rule[i]), i));
    let mut out = io::BufWriter::new(out);
    writeln!(out, "{:<13} {:>6}  {:<24}  {:<36}  TITLE", "LEVEL", "EVENTS", "NEWEST", "RULE ID")?;
    for i in rows {
        let r = &rules.rules[i].info;
        writeln!(out, "{:<13} {:>6}  {:<24}  {:<36}  {}", r.level.name(), per_rule[i], newest[i], r.id, r.title)?;
    }
    out.flush()
}
