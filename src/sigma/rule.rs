//! One Sigma rule: what it says about itself (shown with every detection, as the Detection
//! Rule License asks) and its detection, compiled.

use super::condition::{self, Cond};
use super::value::{parse_cidr, string_matcher, Fields, Matcher, Place, Text};
use crate::sanitize::sanitize;
use yaml_rust2::{Yaml, YamlLoader};

pub use crate::model::detect::{Level, RuleInfo};

/// A rule: what it says about itself, and its detection compiled.
#[derive(Debug)]
pub struct Rule {
    /// Title, id, level, author, description, references (sanitised).
    pub info: RuleInfo,
    pub(crate) detection: Detection,
}

/// A rule's searches and the condition over them.
#[derive(Debug)]
pub(crate) struct Detection {
    searches: Vec<Search>,
    cond: Cond,
}

/// A search: any of these maps, each a list of field conditions that must all hold.
#[derive(Debug)]
struct Search(Vec<Vec<FieldCond>>);

/// A field condition every match of a rule meets, tested on a field's text alone.
#[derive(Debug, Clone)]
pub(crate) struct Required {
    pub(crate) field: usize,
    pub(crate) all: bool,
    pub(crate) values: Vec<Matcher>,
}

impl Required {
    /// Whether `text`, the field's value, meets it (`none`: fields of no record, as the
    /// matchers of a requirement consult no other field).
    pub(crate) fn holds(&self, none: &Fields<'_>, text: &Text<'_>) -> bool {
        if self.all {
            self.values.iter().all(|m| m.test(none, Some(text)))
        } else {
            self.values.iter().any(|m| m.test(none, Some(text)))
        }
    }
}

/// `field|modifiers: value(s)`.
#[derive(Debug)]
struct FieldCond {
    field: usize,
    /// `|all`: every value must hold (else any).
    all: bool,
    values: Vec<Matcher>,
}

impl Detection {
    /// Conditions on single fields that must hold for the rule to match at all (each: the
    /// field, whether all values must hold, the values), as a cheap check on an event's
    /// summary can test them.
    pub(crate) fn required(&self) -> Vec<Required> {
        self.required_by(&self.cond)
    }

    fn required_by(&self, c: &Cond) -> Vec<Required> {
        match c {
            Cond::Search(i) => match self.searches[*i].0.as_slice() {
                [map] => map.iter().filter_map(FieldCond::required).collect(),
                _ => Vec::new(),
            },
            Cond::And(v) => v.iter().flat_map(|c| self.required_by(c)).collect(),
            // A field every branch requires (none with `all`): any of their values.
            Cond::Or(v) => {
                let branches: Vec<Vec<Required>> = v.iter().map(|c| self.required_by(c)).collect();
                let Some(first) = branches.first() else { return Vec::new() };
                first
                    .iter()
                    .filter_map(|r| {
                        let mut values = Vec::new();
                        for b in &branches {
                            let other = b.iter().find(|o| o.field == r.field && !o.all)?;
                            values.extend(other.values.iter().cloned());
                        }
                        Some(Required { field: r.field, all: false, values })
                    })
                    .collect()
            }
            Cond::Not(_) => Vec::new(),
        }
    }

    pub(crate) fn matches(&self, fields: &Fields<'_>) -> bool {
        self.eval(&self.cond, fields)
    }

    fn eval(&self, c: &Cond, fields: &Fields<'_>) -> bool {
        match c {
            Cond::Search(i) => self.searches[*i].0.iter().any(|map| map.iter().all(|fc| fc.test(fields))),
            Cond::And(v) => v.iter().all(|c| self.eval(c, fields)),
            Cond::Or(v) => v.iter().any(|c| self.eval(c, fields)),
            Cond::Not(c) => !self.eval(c, fields),
        }
    }
}

impl FieldCond {
    /// The condition as a requirement on the field's text alone, when it is one.
    fn required(&self) -> Option<Required> {
        self.values.iter().all(Matcher::on_text_alone).then(|| Required {
            field: self.field,
            all: self.all,
            values: self.values.clone(),
        })
    }

    fn test(&self, fields: &Fields<'_>) -> bool {
        let own = fields.get(self.field);
        if self.all {
            self.values.iter().all(|m| m.test(fields, own))
        } else {
            self.values.iter().any(|m| m.test(fields, own))
        }
    }
}

/// A text field of the rule on one line (runs of white space, line breaks included, become a
/// space), sanitised; empty when absent.
fn text(y: &Yaml) -> String {
    match y {
        Yaml::String(s) | Yaml::Real(s) => sanitize(&s.split_whitespace().collect::<Vec<_>>().join(" ")).into_owned(),
        Yaml::Integer(i) => i.to_string(),
        _ => String::new(),
    }
}

/// Parses a rule. `Ok(None)`: a valid document for another log source. `field` registers a
/// field path and gives its index.
pub(crate) fn parse(yaml: &str, file: &str, field: &mut dyn FnMut(&str) -> usize) -> Result<Option<Rule>, String> {
    let docs = YamlLoader::load_from_str(yaml).map_err(|e| format!("not valid YAML: {e}"))?;
    let doc = match docs.as_slice() {
        [d] => d,
        [] => return Err("the file is empty".into()),
        _ => return Err("several YAML documents in one file (a rule collection) are not supported".into()),
    };
    if doc.as_hash().is_none() {
        return Err("not a Sigma rule: the document is not a mapping".into());
    }
    let logsource = &doc["logsource"];
    let product = logsource["product"].as_str().unwrap_or("");
    let service = logsource["service"].as_str().unwrap_or("");
    if !product.eq_ignore_ascii_case("aws") || !service.eq_ignore_ascii_case("cloudtrail") {
        if doc["detection"].is_badvalue() && doc["title"].is_badvalue() {
            return Err("not a Sigma rule: no title and no detection".into());
        }
        return Ok(None);
    }
    let title = text(&doc["title"]);
    if title.is_empty() {
        return Err("the rule has no title".into());
    }
    let level = match &doc["level"] {
        Yaml::BadValue | Yaml::Null => Level::Informational,
        y => {
            let s = y.as_str().unwrap_or("");
            Level::ALL
                .into_iter()
                .find(|l| l.name().eq_ignore_ascii_case(s))
                .ok_or_else(|| format!("unknown level '{}'", sanitize(s)))?
        }
    };
    let references = doc["references"].as_vec().map(|v| v.iter().map(text).collect()).unwrap_or_default();
    let detection = compile(&doc["detection"], field)?;
    let info = RuleInfo {
        title,
        id: text(&doc["id"]),
        level,
        status: text(&doc["status"]),
        author: text(&doc["author"]),
        description: text(&doc["description"]),
        references,
        file: sanitize(file).into_owned(),
    };
    Ok(Some(Rule { info, detection }))
}

fn compile(det: &Yaml, field: &mut dyn FnMut(&str) -> usize) -> Result<Detection, String> {
    let Some(map) = det.as_hash() else {
        return Err("the rule has no detection".into());
    };
    let mut names = Vec::new();
    let mut searches = Vec::new();
    let mut cond_text = None;
    for (k, v) in map {
        let Some(name) = k.as_str() else {
            return Err("a search name in detection is not a string".into());
        };
        if name == "condition" {
            cond_text = Some(match v {
                Yaml::String(s) => s.clone(),
                Yaml::Array(a) if a.len() == 1 => a[0].as_str().unwrap_or_default().to_string(),
                Yaml::Array(_) => return Err("several conditions in one rule are not supported".into()),
                _ => return Err("the condition is not a string".into()),
            });
            continue;
        }
        if name == "timeframe" {
            return Err("timeframe (a correlation) is not supported".into());
        }
        let search = search(v, field).map_err(|e| format!("search '{}': {e}", sanitize(name)))?;
        names.push(name.to_string());
        searches.push(search);
    }
    let cond_text = cond_text.ok_or("the detection has no condition")?;
    let cond = condition::parse(&cond_text, &names).map_err(|e| sanitize(&e).into_owned())?;
    Ok(Detection { searches, cond })
}

fn search(v: &Yaml, field: &mut dyn FnMut(&str) -> usize) -> Result<Search, String> {
    match v {
        Yaml::Hash(_) => Ok(Search(vec![field_map(v, field)?])),
        Yaml::Array(items) if !items.is_empty() && items.iter().all(|i| i.as_hash().is_some()) => {
            Ok(Search(items.iter().map(|i| field_map(i, field)).collect::<Result<_, _>>()?))
        }
        Yaml::Array(_) | Yaml::String(_) => Err("keyword searches (values without a field) are not supported".into()),
        _ => Err("not a map of fields or a list of maps".into()),
    }
}

fn field_map(v: &Yaml, field: &mut dyn FnMut(&str) -> usize) -> Result<Vec<FieldCond>, String> {
    let mut out = Vec::new();
    for (k, v) in v.as_hash().into_iter().flatten() {
        let key = k.as_str().ok_or("a field name is not a string")?;
        out.push(field_cond(key, v, field)?);
    }
    Ok(out)
}

/// Values in rules that stand for something the user must fill in, such as
/// `<YOUR-BUCKET-NAME>`: evaluating them as written would never match what they mean.
fn placeholder(s: &str) -> Option<&str> {
    let start = s.find('<')?;
    let end = start + s[start..].find('>')?;
    let inner = &s[start + 1..end];
    let looks = inner.len() > 2
        && inner.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && inner.chars().any(|c| c.is_ascii_uppercase());
    looks.then(|| &s[start..=end])
}

fn field_cond(key: &str, v: &Yaml, field: &mut dyn FnMut(&str) -> usize) -> Result<FieldCond, String> {
    let mut parts = key.split('|');
    let name = parts.next().unwrap_or("");
    if name.is_empty() {
        return Err("keyword searches (values without a field) are not supported".into());
    }
    let (mut place, mut all, mut cased, mut re, mut cidr, mut fieldref, mut exists) =
        (Place::Exact, false, false, false, false, false, false);
    let mut re_flags = String::new();
    for m in parts {
        match m {
            "contains" => place = Place::Anywhere,
            "startswith" => place = Place::Start,
            "endswith" => place = Place::End,
            "all" => all = true,
            "cased" => cased = true,
            "re" => re = true,
            "i" | "m" | "s" if re => re_flags.push_str(m),
            "cidr" => cidr = true,
            "fieldref" => fieldref = true,
            "exists" => exists = true,
            "expand" => return Err(format!("'{}' uses a placeholder (|expand) that must be filled in", sanitize(key))),
            other => return Err(format!("the modifier '{}' is not supported", sanitize(other))),
        }
    }
    let values: Vec<&Yaml> = match v {
        Yaml::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    if values.is_empty() {
        return Err(format!("'{}' has an empty list of values", sanitize(key)));
    }
    let own = field(name);
    let mut matchers = Vec::new();
    for y in values {
        let s = match y {
            Yaml::Null => {
                if re || cidr || fieldref || exists || place != Place::Exact {
                    return Err(format!("'{}' compares null with a modifier", sanitize(key)));
                }
                matchers.push(Matcher::Null);
                continue;
            }
            Yaml::Boolean(b) if exists => {
                matchers.push(Matcher::Exists(*b));
                continue;
            }
            Yaml::String(s) | Yaml::Real(s) => s.clone(),
            Yaml::Integer(i) => i.to_string(),
            Yaml::Boolean(b) => b.to_string(),
            _ => return Err(format!("'{}' has a value that is not a string, number, boolean or null", sanitize(key))),
        };
        if exists {
            return Err(format!("'{}': |exists takes true or false", sanitize(key)));
        }
        if let Some(p) = placeholder(&s) {
            return Err(format!(
                "'{}' holds the placeholder {}, to be replaced by a real value",
                sanitize(key),
                sanitize(p)
            ));
        }
        let m = if re {
            let pat = if re_flags.is_empty() { s.clone() } else { format!("(?{re_flags}){s}") };
            super::value::Pattern::new(&pat).map(Matcher::Regex).map_err(|e| {
                format!("'{}': the regular expression cannot be compiled: {}", sanitize(key), sanitize(&e.to_string()))
            })?
        } else if cidr {
            let (net, prefix) = parse_cidr(&s).map_err(|e| sanitize(&e).into_owned())?;
            Matcher::Cidr { net, prefix }
        } else if fieldref {
            Matcher::FieldRef { field: field(&s), place, cased }
        } else {
            string_matcher(&s, place, cased).map_err(|e| sanitize(&e).into_owned())?
        };
        matchers.push(m);
    }
    Ok(FieldCond { field: own, all, values: matchers })
}

#[cfg(test)]
mod tests {
    use super::placeholder;

    #[test]
    fn placeholders() {
        assert_eq!(placeholder(r#""arn:aws:s3:::<YOUR-BUCKET-NAME>/*""#), Some("<YOUR-BUCKET-NAME>"));
        assert_eq!(placeholder("a <b> c"), None);
        assert_eq!(placeholder("<html>"), None);
    }
}
