//! A rule's `condition`: `and`, `or`, `not`, parentheses, `1 of x*`, `all of x*`, `them`.

/// A condition over a rule's searches (by index in the rule's list of searches).
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    /// One search.
    Search(usize),
    /// All of these.
    And(Vec<Cond>),
    /// Any of these.
    Or(Vec<Cond>),
    /// Not this.
    Not(Box<Cond>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Open,
    Close,
    And,
    Or,
    Not,
    One,
    All,
    Of,
    Word(String),
}

fn tokens(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<Tok>| {
        if word.is_empty() {
            return;
        }
        let t = match word.to_ascii_lowercase().as_str() {
            "and" => Tok::And,
            "or" => Tok::Or,
            "not" => Tok::Not,
            "1" => Tok::One,
            "any" => Tok::One,
            "all" => Tok::All,
            "of" => Tok::Of,
            _ => Tok::Word(word.clone()),
        };
        out.push(t);
        word.clear();
    };
    for c in s.chars() {
        match c {
            '(' | ')' => {
                flush(&mut word, &mut out);
                out.push(if c == '(' { Tok::Open } else { Tok::Close });
            }
            '|' => return Err("aggregations in the condition (`| count()` …) are not supported".into()),
            c if c.is_whitespace() => flush(&mut word, &mut out),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    Ok(out)
}

/// Parses `cond` over searches named `names`.
pub(crate) fn parse(cond: &str, names: &[String]) -> Result<Cond, String> {
    let toks = tokens(cond)?;
    let mut p = Parser { toks, pos: 0, names };
    let c = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("the condition '{cond}' has something unexpected after position {}", p.pos));
    }
    Ok(c)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    names: &'a [String],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn or(&mut self) -> Result<Cond, String> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Cond::Or(parts) })
    }
    fn and(&mut self) -> Result<Cond, String> {
        let mut parts = vec![self.not()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Cond::And(parts) })
    }
    fn not(&mut self) -> Result<Cond, String> {
        if self.peek() == Some(&Tok::Not) {
            self.pos += 1;
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.primary()
    }
    fn primary(&mut self) -> Result<Cond, String> {
        match self.next() {
            Some(Tok::Open) => {
                let c = self.or()?;
                match self.next() {
                    Some(Tok::Close) => Ok(c),
                    _ => Err("a parenthesis in the condition is not closed".into()),
                }
            }
            Some(t @ (Tok::One | Tok::All)) => {
                if self.next() != Some(Tok::Of) {
                    return Err("expected 'of' after '1'/'all' in the condition".into());
                }
                let Some(Tok::Word(pat)) = self.next() else {
                    return Err("expected a search name or 'them' after 'of' in the condition".into());
                };
                let idx = self.matching(&pat)?;
                let parts = idx.into_iter().map(Cond::Search).collect();
                Ok(if t == Tok::One { Cond::Or(parts) } else { Cond::And(parts) })
            }
            Some(Tok::Word(w)) => match self.names.iter().position(|n| *n == w) {
                Some(i) => Ok(Cond::Search(i)),
                None => Err(format!("the condition names '{w}', which is not a search of the rule")),
            },
            Some(t) => Err(format!("unexpected {t:?} in the condition")),
            None => Err("the condition ends too soon".into()),
        }
    }
    /// Searches whose name matches `pat` (`them`: all; `*` a wildcard).
    fn matching(&self, pat: &str) -> Result<Vec<usize>, String> {
        let idx: Vec<usize> = if pat == "them" {
            (0..self.names.len()).filter(|&i| !self.names[i].starts_with('_')).collect()
        } else {
            (0..self.names.len()).filter(|&i| glob(pat, &self.names[i])).collect()
        };
        if idx.is_empty() {
            return Err(format!("'of {pat}' in the condition names no search of the rule"));
        }
        Ok(idx)
    }
}

/// `*` matches any run of characters; everything else itself.
fn glob(pat: &str, name: &str) -> bool {
    match pat.split_once('*') {
        None => pat == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len()).filter(|&i| tail.is_char_boundary(i)).any(|i| glob(rest, &tail[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(ns: &[&str]) -> Vec<String> {
        ns.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_the_forms_rules_use() {
        let n = names(&["selection", "filter_a", "filter_b", "other"]);
        assert!(matches!(parse("selection", &n), Ok(Cond::Search(0))));
        let c = parse("selection and not 1 of filter_*", &n).unwrap();
        let Cond::And(parts) = c else { panic!("{c:?}") };
        let Cond::Not(inner) = &parts[1] else { panic!() };
        assert!(matches!(&**inner, Cond::Or(v) if v.len() == 2));
        assert!(matches!(parse("all of them", &n), Ok(Cond::And(v)) if v.len() == 4));
        assert!(matches!(parse("(selection or other) and filter_a", &n), Ok(Cond::And(_))));
        assert!(parse("selection and missing", &n).is_err());
        assert!(parse("1 of nothing*", &n).is_err());
        assert!(parse("selection | count() > 5", &n).is_err());
        assert!(parse("(selection", &n).is_err());
        assert!(glob("filter*", "filter_main_x") && !glob("filter*", "selection") && glob("*_a", "filter_a"));
    }
}
