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
    event_id: String,
    event_time: String,
    rule: u16,
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
        match super::athena::load(p, &mut q, &raw, Some(rules.clone()), err) {
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
        match super::logs::load(p, &mut q, &raw, Some(rules.clone()), err) {
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
        match s3::load(p, &mut q, &raw, Some(rules.clone())) {
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
    let (hits, unread) = evaluate(&rules, &q, &loaded, &unevaluated, &raw);
    let written = match req.format {
        DetectFormat::Jsonl => write_jsonl(&rules, &hits, out),
        DetectFormat::Table => write_table(&rules, &hits, out),
    };
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
    report(&loaded, Matched { shown, unread }, err);
    let events = hits.iter().map(|h| h.event).collect::<std::collections::HashSet<u32>>().len();
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
) -> (Vec<Hit>, usize) {
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
    let found: Vec<(u32, &[u16])> =
        store.detections.iter().filter(|&(i, _)| is_shown.get(i as usize) == Some(&true) && !pending(i)).collect();
    let mut per_event: Vec<Option<Vec<Hit>>> = found
        .par_iter()
        .map(|&(i, found)| {
            let ev = &store.events[i as usize];
            // As the record writes them: the summary gives them back, but for the few
            // records the source noted.
            let (event_id, event_time) = match store.detections.written(i) {
                Some((id, t)) => (sanitize(id).into_owned(), sanitize(t).into_owned()),
                // (The time as written is digits and separators: nothing to sanitise.)
                None => (owned_sanitized(store.event_id(ev).to_string()), time::format_rfc3339(ev.time)),
            };
            Some(
                found
                    .iter()
                    .map(|&rule| Hit { event: i, event_id: event_id.clone(), event_time: event_time.clone(), rule })
                    .collect(),
            )
        })
        .collect();
    drop(found);
    // The events their source did not evaluate are read back and evaluated here.
    let unevaluated: Vec<u32> =
        if unevaluated.is_empty() { Vec::new() } else { shown.into_iter().filter(|&i| pending(i)).collect() };
    per_event.par_extend(unevaluated.par_iter().map(|&i| {
        let ev = &store.events[i as usize];
        if !rules.may_match(crate::sigma::summary_of(store, ev)) {
            return Some(Vec::new());
        }
        let bytes = raw.read(store.file_of(ev)?, ev.loc).ok()?;
        let Some(found) = rules.eval_record(&bytes) else {
            return Some(Vec::new());
        };
        let text = |s: Option<String>| s.map(|s| sanitize(&s).into_owned()).unwrap_or_default();
        let (event_id, event_time) = (text(found.event_id), text(found.event_time));
        Some(
            found
                .rules
                .into_iter()
                .map(|rule| Hit { event: i, event_id: event_id.clone(), event_time: event_time.clone(), rule })
                .collect(),
        )
    }));
    let unread = per_event.iter().filter(|h| h.is_none()).count();
    per_event.retain(|h| h.as_ref().is_some_and(|h| !h.is_empty()));
    let mut hits: Vec<Hit> = per_event.into_iter().flatten().flatten().collect();
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
    (hits, unread)
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

fn write_jsonl(rules: &RuleSet, hits: &[Hit], out: &mut dyn Write) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    for h in hits {
        let r = &rules.rules[h.rule as usize].info;
        let line = Line {
            event_id: &h.event_id,
            event_time: &h.event_time,
            rule_id: &r.id,
            title: &r.title,
            level: r.level.name(),
        };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

fn write_table(rules: &RuleSet, hits: &[Hit], out: &mut dyn Write) -> io::Result<()> {
    // Each (event, rule) pair is found once: a rule's detections are the events it matched.
    let mut per_rule = vec![0usize; rules.rules.len()];
    let mut newest: Vec<&str> = vec![""; rules.rules.len()];
    for h in hits {
        let r = h.rule as usize;
        per_rule[r] += 1;
        if newest[r].is_empty() {
            newest[r] = &h.event_time;
        }
    }
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
