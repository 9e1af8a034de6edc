//! Fuzzy matching of bare words, behind one type whatever the engine.
//!
//! A bare word matches a cell that contains it (ignoring case), or that spells it out in
//! order where every letter either follows the previous one or starts a word of the cell
//! (`dsg` finds DeleteSecurityGroup, `ctrail` CreateTrail, `sts` sts.amazonaws.com). Plain
//! subsequence matching, as a file finder does, would let three letters match most of a
//! million events; this keeps a fuzzy word as selective as an operator expects.
//!
//! Two engines find the alignment: `fuzzy-matcher` (skim's algorithm) and `nucleo-matcher`
//! (helix's). `benches/triage.rs` times both over the same data; the faster is the default.

use fuzzy_matcher::skim::SkimMatcherV2;
use fuzzy_matcher::FuzzyMatcher;
use std::cell::RefCell;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
/// The fuzzy matching library bare words use.
pub enum Engine {
    /// `fuzzy-matcher`'s SkimMatcherV2.
    Skim,
    /// `nucleo-matcher`.
    #[default]
    Nucleo,
}

impl Engine {
    /// The library's name, as the configuration file writes it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Skim => "fuzzy-matcher",
            Engine::Nucleo => "nucleo-matcher",
        }
    }
}

/// A compiled bare word.
#[derive(Clone, Debug)]
pub struct Fuzzy {
    engine: Engine,
    /// Lower-cased.
    needle: String,
    needle_chars: Vec<char>,
}

fn skim() -> &'static SkimMatcherV2 {
    static SKIM: OnceLock<SkimMatcherV2> = OnceLock::new();
    SKIM.get_or_init(|| SkimMatcherV2::default().ignore_case())
}

thread_local! {
    static NUCLEO: RefCell<(nucleo_matcher::Matcher, Vec<char>, Vec<u32>)> =
        RefCell::new((nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT), Vec::new(), Vec::new()));
}

impl Fuzzy {
    /// A bare word, compiled for `engine`.
    pub fn new(engine: Engine, word: &str) -> Self {
        let needle = word.to_lowercase();
        let needle_chars = needle.chars().collect();
        Fuzzy { engine, needle, needle_chars }
    }

    /// The library the word is matched with.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Whether `hay` matches the word.
    pub fn test(&self, hay: &str) -> bool {
        if super::matcher::contains_ci(hay, &self.needle) {
            return true;
        }
        if hay.is_ascii() && self.needle.is_ascii() && !ascii_subsequence(hay.as_bytes(), self.needle.as_bytes()) {
            // Most strings do not even hold the letters in order: no engine needed.
            return false;
        }
        self.indices(hay).is_some()
    }

    /// The character indices of `hay` that the word matched, in order; `None` when it does
    /// not match. A contained word gives its first occurrence.
    pub fn indices(&self, hay: &str) -> Option<Vec<usize>> {
        if self.needle_chars.is_empty() {
            return Some(Vec::new());
        }
        if let Some(ix) = substring_indices(hay, &self.needle_chars) {
            return Some(ix);
        }
        let ix = match self.engine {
            Engine::Skim => skim().fuzzy_indices(hay, &self.needle).map(|(_, ix)| ix)?,
            Engine::Nucleo => NUCLEO.with(|cell| {
                let (m, hay_buf, ix) = &mut *cell.borrow_mut();
                let mut needle_buf = Vec::new();
                let h = nucleo_matcher::Utf32Str::new(hay, hay_buf);
                let n = nucleo_matcher::Utf32Str::new(&self.needle, &mut needle_buf);
                ix.clear();
                m.fuzzy_indices(h, n, ix)?;
                ix.sort_unstable();
                Some(ix.iter().map(|&i| i as usize).collect::<Vec<_>>())
            })?,
        };
        if tight(hay, &ix) {
            return Some(ix);
        }
        // The engine's best-scored alignment is not a tight one; another may be. Decided
        // here, not by the engine, so that the verdict is the same whatever the engine and a
        // word that matches still matches with a letter less (filtering can then narrow).
        tight_search(hay, &self.needle_chars)
    }
}

/// Whether character `i` of `h` starts a word.
fn word_start(h: &[char], i: usize) -> bool {
    let c = h[i];
    match i.checked_sub(1).map(|j| h[j]) {
        None => true,
        Some(b) => {
            (!b.is_alphanumeric() && c.is_alphanumeric())
                || (b.is_lowercase() && c.is_uppercase())
                || (b.is_alphabetic() && c.is_numeric())
                || (b.is_numeric() && c.is_alphabetic())
        }
    }
}

fn same_letter(h: char, n: char) -> bool {
    h == n || h.to_lowercase().eq(std::iter::once(n))
}

/// A tight alignment of `needle` (lower case) in `hay`, if there is one: dynamic programming
/// from the end, O(len(hay) x len(needle)).
fn tight_search(hay: &str, needle: &[char]) -> Option<Vec<usize>> {
    let h: Vec<char> = hay.chars().collect();
    let (n, m) = (h.len(), needle.len());
    if m == 0 || m > n {
        return None;
    }
    // ok[j][i]: needle[j..] matches with needle[j] at i (the rest consecutive or at word starts).
    let mut ok = vec![vec![false; n + 1]; m];
    for j in (0..m).rev() {
        // Whether needle[j+1..] can start at some word start at or after position p.
        let mut later_start = vec![false; n + 2];
        if j + 1 < m {
            for p in (0..n).rev() {
                later_start[p] = later_start[p + 1] || (ok[j + 1][p] && word_start(&h, p));
            }
        }
        for i in 0..n {
            if !same_letter(h[i], needle[j]) {
                continue;
            }
            ok[j][i] = j + 1 == m || (i + 1 < n && ok[j + 1][i + 1]) || later_start[i + 1];
        }
    }
    let mut out = Vec::with_capacity(m);
    let mut i = (0..n).find(|&i| ok[0][i] && word_start(&h, i))?;
    out.push(i);
    for row in &ok[1..] {
        i = if i + 1 < n && row[i + 1] { i + 1 } else { (i + 1..n).find(|&p| row[p] && word_start(&h, p))? };
        out.push(i);
    }
    Some(out)
}

/// Whether the (lower-case) needle's bytes appear in order in `hay`, ignoring ASCII case.
fn ascii_subsequence(hay: &[u8], needle: &[u8]) -> bool {
    let mut n = needle.iter().peekable();
    for &b in hay {
        match n.peek() {
            Some(&&c) if b.to_ascii_lowercase() == c => {
                n.next();
            }
            Some(_) => {}
            None => return true,
        }
    }
    n.peek().is_none()
}

/// Case-insensitive substring position, as character indices.
fn substring_indices(hay: &str, needle: &[char]) -> Option<Vec<usize>> {
    let chars: Vec<char> = hay.chars().flat_map(char::to_lowercase).collect();
    if chars.len() != hay.chars().count() {
        // Lower-casing changed the length (rare scripts): no position to give.
        return None;
    }
    let n = needle.len();
    (0..=chars.len().checked_sub(n)?).find(|&i| chars[i..i + n] == *needle).map(|i| (i..i + n).collect())
}

/// Every matched character follows the previous one or starts a word.
fn tight(hay: &str, ix: &[usize]) -> bool {
    let chars: Vec<char> = hay.chars().collect();
    let mut prev: Option<usize> = None;
    for &i in ix {
        let Some(&c) = chars.get(i) else { return false };
        let consecutive = prev.is_some_and(|p| p + 1 == i);
        let word_start = match i.checked_sub(1).and_then(|j| chars.get(j)) {
            None => true,
            Some(&b) => {
                (!b.is_alphanumeric() && c.is_alphanumeric())
                    || (b.is_lowercase() && c.is_uppercase())
                    || (b.is_alphabetic() && c.is_numeric())
                    || (b.is_numeric() && c.is_alphabetic())
            }
        };
        if !consecutive && !word_start {
            return false;
        }
        prev = Some(i);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_engines_agree_on_what_matches() {
        let cases = [
            ("dsg", "DeleteSecurityGroup", true),
            ("delsg", "DeleteSecurityGroup", true),
            ("ctrail", "CreateTrail", true),
            ("ctrail", "ConsoleLogin", false),
            ("sts", "sts.amazonaws.com", true),
            ("admin", "AdministratorAccess", true),
            ("assro", "AssumeRole", true),
            ("ar", "AssumeRole", true),
            ("aole", "AssumeRole", false),
            ("xyz", "DeleteBucket", false),
            ("deny", "AccessDenied", false),
            ("denied", "AccessDenied", true),
            ("accden", "AccessDenied", true),
            ("cessde", "AccessDenied", true),
            ("10.0", "10.0.3.17", true),
            ("ÉTÉ", "l'été", true),
            ("ec2", "ec2.amazonaws.com", true),
            ("runi", "RunInstances", true),
            ("runi", "TerminateInstances", false),
        ];
        for engine in [Engine::Skim, Engine::Nucleo] {
            for (word, hay, want) in cases {
                assert_eq!(Fuzzy::new(engine, word).test(hay), want, "{engine:?}: {word} in {hay}");
            }
        }
    }

    #[test]
    fn a_tight_alignment_is_found_when_the_engine_prefers_another() {
        // "ds": D then the s of "Describe" scores well but is not tight; D + Scaling is.
        for engine in [Engine::Skim, Engine::Nucleo] {
            let f = Fuzzy::new(engine, "ds");
            assert_eq!(f.indices("DescribeAutoScalingGroups"), Some(vec![0, 12]), "{engine:?}");
            assert!(!f.test("Describe"), "{engine:?}");
        }
        assert_eq!(tight_search("ab-cd", &['a', 'c']), Some(vec![0, 3]));
        assert_eq!(tight_search("abcd", &['a', 'c']), None);
    }

    #[test]
    fn indices_mark_the_matched_characters() {
        for engine in [Engine::Skim, Engine::Nucleo] {
            assert_eq!(Fuzzy::new(engine, "dsg").indices("DeleteSecurityGroup"), Some(vec![0, 6, 14]));
            assert_eq!(Fuzzy::new(engine, "curi").indices("DeleteSecurityGroup"), Some(vec![8, 9, 10, 11]));
            assert_eq!(Fuzzy::new(engine, "zz").indices("DeleteSecurityGroup"), None);
        }
    }
}
