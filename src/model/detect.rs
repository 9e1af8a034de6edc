//! What detection rules found among the loaded events: the rules (as shown with every
//! detection, which their license asks for) and, per event, the rules it matched. The rules
//! are evaluated elsewhere ([`crate::sigma`]); the store keeps the results beside the events,
//! as it keeps the verdicts of log file verification.

use std::collections::HashMap;

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

/// The rules evaluated and what they matched, by event index (as in
/// [`EventStore::events`](super::EventStore::events)).
#[derive(Default, Debug, Clone)]
pub struct Detections {
    /// The rules, by the index hits refer to.
    pub rules: Vec<RuleInfo>,
    /// Matched rule indices by event, for events with at least one.
    hits: HashMap<u32, Vec<u16>>,
    /// Events evaluated so far (those at indices below this).
    pub evaluated: usize,
    /// Events matched per rule, by rule index.
    pub per_rule: Vec<usize>,
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
        self.hits.insert(index, hits);
    }

    /// The rules that matched event `index` (empty: none, or not evaluated yet).
    pub fn of(&self, index: u32) -> &[u16] {
        self.hits.get(&index).map_or(&[], Vec::as_slice)
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
        self.hits.iter().map(|(&i, h)| (i, h.as_slice()))
    }

    /// Forgets what matched (the events are about to be replaced); the rules stay.
    pub fn clear(&mut self) {
        self.hits.clear();
        self.per_rule.clear();
        self.evaluated = 0;
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
    }
}
