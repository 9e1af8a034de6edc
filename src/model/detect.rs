//! What detection rules found among the loaded events: the rules (as shown with every
//! detection, which their license asks for) and, per event, the rules it matched. The rules
//! are evaluated elsewhere ([`crate::sigma`]); the store keeps the results beside the events,
//! as it keeps the verdicts of log file verification.

use std::ops::Range;

/// A rule's level, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `informational` (also a rule that gives none).
    Informational,
    /// `low`
    Low,
    /// `medium`
    Medium,
    /// `high`
    High,
    /// `critical`
    Critical,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 5] = [Level::Informational, Level::Low, Level::Medium, Level::High, Level::Critical];

    /// The level as rules write it.
    pub fn name(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }

    /// One character for the list's detection column.
    pub fn mark(self) -> &'static str {
        match self {
            Level::Informational => "i",
            Level::Low => "L",
            Level::Medium => "M",
            Level::High => "H",
            Level::Critical => "C",
        }
    }

    /// A level from its name, or a prefix of it (`crit`, `med`, `info`), ignoring case.
    pub fn parse(s: &str) -> Option<Level> {
        let s = s.to_ascii_lowercase();
        if s.is_empty() {
            return None;
        }
        Level::ALL.into_iter().find(|l| l.name().starts_with(&s))
    }
}

/// What a rule says about itself, its text sanitised for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    /// `title`
    pub title: String,
    /// `id` (empty when the rule has none).
    pub id: String,
    /// `level`
    pub level: Level,
    /// `status` (empty when none).
    pub status: String,
    /// `author` (empty when none).
    pub author: String,
    /// `description` (empty when none).
    pub description: String,
    /// `references`
    pub references: Vec<String>,
    /// The file it was read from.
    pub file: String,
}

/// What a source found evaluating a batch's events against the rules it was given, where it
/// parsed each record (indices are among the batch's events).
#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub struct BatchHits {
    /// (event, the rules it matched) for the events that matched one, in event order.
    pub hits: Vec<(u32, Vec<u16>)>,
    /// (event, eventID, eventTime) as the records of matched events write them (strings, else
    /// empty), for the few where that is not what the event's summary gives back.
    pub written: Vec<(u32, String, String)>,
    /// Events the source did not evaluate, in order: they are evaluated after loading.
    pub unevaluated: Vec<Range<u32>>,
}

impl BatchHits {
    /// Notes that the events in `range` were not evaluated (after those noted before).
    pub fn not_evaluated(&mut self, range: Range<u32>) {
        push_range(&mut self.unevaluated, range);
    }
}

/// Appends `range` to `ranges`, joining it to the last one when they touch.
fn push_range(ranges: &mut Vec<Range<u32>>, range: Range<u32>) {
    if range.is_empty() {
        return;
    }
    match ranges.last_mut() {
        Some(last) if last.end == range.start => last.end = range.end,
        _ => ranges.push(range),
    }
}

/// The rules evaluated and what they matched, by event index (as in
/// [`EventStore::events`](super::EventStore::events)).
#[derive(Default, Debug, Clone)]
pub struct Detections {
    /// The rules, by the index hits refer to.
    pub rules: Vec<RuleInfo>,
    /// Matched rule indices by event, for events with at least one (a fast hash: hundreds of
    /// thousands of events may match, and the filter asks for one event at a time); up to
    /// three held in the map itself, more in `many`.
    hits: foldhash::HashMap<u32, Matched>,
    many: foldhash::HashMap<u32, Vec<u16>>,
    /// How many events have been evaluated so far (by their source, or after loading).
    pub evaluated: usize,
    /// Events matched per rule, by rule index.
    pub per_rule: Vec<usize>,
    /// Events loaded that their source did not evaluate, to be read back and evaluated
    /// ([`Detections::take_unevaluated`]).
    unevaluated: Vec<Range<u32>>,
    /// eventID and eventTime as written, for matched events whose record writes them otherwise
    /// than their summary gives them back (see [`BatchHits::written`]).
    written: foldhash::HashMap<u32, (String, String)>,
}

/// The rules one event matched, as [`Detections`] holds them: up to three here, or (`n` is
/// [`Matched::MANY`]) in `Detections::many`.
#[derive(Clone, Copy, Debug)]
struct Matched {
    n: u16,
    rules: [u16; 3],
}

impl Matched {
    const MANY: u16 = u16::MAX;
}

impl Detections {
    /// Records what matched event `index`.
    pub fn record(&mut self, index: u32, hits: Vec<u16>) {
        if hits.is_empty() {
            return;
        }
        for &h in &hits {
            let h = h as usize;
            if self.per_rule.len() <= h {
                self.per_rule.resize(h + 1, 0);
            }
            self.per_rule[h] += 1;
        }
        let matched = match hits[..] {
            [a] => Matched { n: 1, rules: [a, 0, 0] },
            [a, b] => Matched { n: 2, rules: [a, b, 0] },
            [a, b, c] => Matched { n: 3, rules: [a, b, c] },
            _ => Matched { n: Matched::MANY, rules: [0; 3] },
        };
        if matched.n == Matched::MANY {
            self.many.insert(index, hits);
        } else if !self.many.is_empty() {
            self.many.remove(&index);
        }
        self.hits.insert(index, matched);
    }

    /// The rules that matched event `index` (empty: none, or not evaluated yet).
    pub fn of(&self, index: u32) -> &[u16] {
        self.hits.get(&index).map_or(&[], |m| self.rules_of(index, m))
    }

    fn rules_of<'a>(&'a self, index: u32, m: &'a Matched) -> &'a [u16] {
        match m.n {
            Matched::MANY => self.many.get(&index).map_or(&[], Vec::as_slice),
            n => &m.rules[..n as usize],
        }
    }

    /// The highest level among the rules event `index` matched.
    pub fn top_level(&self, index: u32) -> Option<Level> {
        self.of(index).iter().filter_map(|&r| self.rules.get(r as usize)).map(|r| r.level).max()
    }

    /// How many events matched at least one rule.
    pub fn events(&self) -> usize {
        self.hits.len()
    }

    /// Every (event, rules) pair, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &[u16])> {
        self.hits.iter().map(|(&i, m)| (i, self.rules_of(i, m)))
    }

    /// Takes what a source found in the batch whose events were just added at `range`:
    /// its hits, or (`None`: a source that evaluated nothing) that every event of it is still
    /// to be evaluated.
    pub fn take_batch(&mut self, range: Range<u32>, found: Option<Box<BatchHits>>) {
        let Some(found) = found.map(|f| *f) else {
            push_range(&mut self.unevaluated, range);
            return;
        };
        let start = range.start;
        let mut evaluated = range.len();
        for r in found.unevaluated {
            let r = (start + r.start).min(range.end)..(start + r.end).min(range.end);
            evaluated -= r.len();
            push_range(&mut self.unevaluated, r);
        }
        self.evaluated += evaluated;
        for (i, h) in found.hits {
            self.record(start + i, h);
        }
        for (i, id, time) in found.written {
            self.written.insert(start + i, (id, time));
        }
    }

    /// The events still to be evaluated after loading (their source did not), handed over
    /// once.
    pub fn take_unevaluated(&mut self) -> Vec<Range<u32>> {
        std::mem::take(&mut self.unevaluated)
    }

    /// eventID and eventTime as event `index`'s record writes them, when its source said they
    /// differ from what its summary gives back (only for matched events).
    pub fn written(&self, index: u32) -> Option<(&str, &str)> {
        self.written.get(&index).map(|(id, t)| (id.as_str(), t.as_str()))
    }

    /// Forgets what matched (the events are about to be replaced); the rules stay.
    pub fn clear(&mut self) {
        self.hits.clear();
        self.many.clear();
        self.per_rule.clear();
        self.evaluated = 0;
        self.unevaluated.clear();
        self.written.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_detections() {
        assert_eq!(Level::parse("HIGH"), Some(Level::High));
        assert_eq!(Level::parse("crit"), Some(Level::Critical));
        assert_eq!(Level::parse("x"), None);
        assert!(Level::Critical > Level::High && Level::Low > Level::Informational);
        let info = |level| RuleInfo {
            title: "t".into(),
            id: String::new(),
            level,
            status: String::new(),
            author: String::new(),
            description: String::new(),
            references: vec![],
            file: String::new(),
        };
        let mut d =
            Detections { rules: vec![info(Level::Low), info(Level::High), info(Level::Medium)], ..Default::default() };
        d.record(3, vec![0, 2]);
        d.record(4, vec![]);
        d.record(5, vec![2, 1]);
        assert_eq!(d.of(3), &[0, 2]);
        assert!(d.of(4).is_empty());
        assert_eq!(d.events(), 2);
        assert_eq!(d.per_rule, vec![1, 1, 2]);
        assert_eq!(d.top_level(3), Some(Level::Medium));
        assert_eq!(d.top_level(5), Some(Level::High));
        assert_eq!(d.top_level(4), None);
        // Out of order (evaluated after loading, behind later events), and again in place.
        d.record(1, vec![1]);
        d.record(7, vec![3, 0, 1, 2]);
        assert_eq!(d.of(7), &[3, 0, 1, 2]);
        d.record(7, vec![2, 0, 1]);
        assert_eq!(d.of(7), &[2, 0, 1]);
        d.record(7, vec![1]);
        d.record(4, vec![0]);
        d.record(9, vec![0]);
        d.record(5, vec![0]);
        assert_eq!((d.of(1), d.of(4), d.of(5), d.of(9)), (&[1][..], &[0][..], &[0][..], &[0][..]));
        assert!(d.of(2).is_empty() && d.of(10).is_empty());
        assert_eq!(d.events(), 6);
        d.record(8, vec![0, 1, 2, 3, 4]);
        let mut all: Vec<(u32, Vec<u16>)> = d.iter().map(|(i, h)| (i, h.to_vec())).collect();
        all.sort();
        let want = [
            (1, vec![1]),
            (3, vec![0, 2]),
            (4, vec![0]),
            (5, vec![0]),
            (7, vec![1]),
            (8, vec![0, 1, 2, 3, 4]),
            (9, vec![0]),
        ];
        assert_eq!(all, want);
    }
}
