//! The configuration file: `$XDG_CONFIG_HOME/trailscope/config.toml` (or `--config FILE`).
//!
//! ```toml
//! profile = "prod"                 # default AWS profile for live history
//! regions = ["us-east-1", "eu-west-1"]
//! since = "6h"                     # live history's default window
//! time_zone = "local"              # or "utc" (the default)
//! theme = "high-contrast"
//! columns = ["time", "event:30", "principal", "error", "source_ip", "account"]  # name:width fixes a width
//! fuzzy = "fuzzy-matcher"          # or "nucleo-matcher" (the default)
//! rules = ["~/sigma/rules/cloud/aws"]  # Sigma rules when no --rules is given (relative: to this file)
//!
//! [keys]                           # key = action name; merged over the built-in keys
//! "ctrl-p" = "PivotPrincipal"
//! "x" = "Quit"
//! ```
//!
//! A bad file or a bad entry is reported with its line and the problem; everything else in
//! the file still applies, and the rest runs on the defaults.

use crate::query::fuzzy::Engine;
use crate::tui::action::Action;
use crossterm::event::{KeyCode, KeyModifiers};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    profile: Option<String>,
    regions: Option<Vec<String>>,
    since: Option<String>,
    time_zone: Option<String>,
    theme: Option<String>,
    columns: Option<Vec<String>>,
    fuzzy: Option<String>,
    mouse: Option<bool>,
    rules: Option<Vec<String>>,
    #[serde(default)]
    keys: BTreeMap<String, String>,
}

/// A key as the keymap sees it.
pub use crate::tui::keymap::{key_name, Key};

/// The configuration in force: the file's valid entries over the defaults.
#[derive(Debug, Default, Clone)]
pub struct Config {
    pub profile: Option<String>,
    pub regions: Option<Vec<String>>,
    /// Live history's window, as an age in ms.
    pub since_ms: Option<i64>,
    pub local_time: bool,
    pub theme: Option<String>,
    /// Indices into [`crate::model::columns::HEADERS`] (its length: the age), in order, each
    /// with a fixed width when one is set.
    pub columns: Option<Vec<(usize, Option<u16>)>>,
    pub fuzzy: Engine,
    pub mouse: Option<bool>,
    /// User key bindings for the list, detail and facets panes.
    pub keys: Vec<(Key, Action)>,
    /// Sigma rule files and directories (`--rules` when none is given).
    pub rules: Vec<PathBuf>,
}

/// The file's problems, each naming the file, the line and what is wrong.
#[derive(Debug, Default)]
pub struct Loaded {
    pub config: Config,
    pub path: Option<PathBuf>,
    pub problems: Vec<String>,
}

/// `$XDG_CONFIG_HOME/trailscope/config.toml` or `~/.config/trailscope/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    crate::tui::effects::config_dir().map(|d| d.join("config.toml"))
}

/// Reads the configuration: `explicit` (from `--config`) or the default path. A missing
/// default file is no configuration; a missing explicit one is a problem.
pub fn load(explicit: Option<&Path>) -> Loaded {
    let path = match explicit.map(Path::to_path_buf).or_else(default_path) {
        Some(p) => p,
        None => return Loaded::default(),
    };
    let text = match crate::tui::effects::read_small(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => return Loaded::default(),
        Err(e) => {
            return Loaded {
                problems: vec![format!("{}: cannot read it ({e}); using the defaults", path.display())],
                path: Some(path),
                ..Default::default()
            }
        }
    };
    let mut loaded = parse(&text, &path.display().to_string());
    // Relative rule paths are the file's own: relative to the directory it is in.
    if let Some(dir) = path.parent() {
        for r in &mut loaded.config.rules {
            if r.is_relative() {
                *r = dir.join(&*r);
            }
        }
    }
    loaded.path = Some(path);
    loaded
}

/// The 1-based line of byte offset `at`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// The line where `key` is set (for problems found after parsing).
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            let k = l.split('=').next().unwrap_or("").trim().trim_matches(|c| c == '"' || c == '\'');
            k == key || l.trim_end() == format!("[{key}]")
        })
        .map(|i| i + 1)
}

/// Parses the text of a configuration file named `name` (for messages).
pub fn parse(text: &str, name: &str) -> Loaded {
    let mut problems = Vec::new();
    let table: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            let line = e.span().map(|s| line_of(text, s.start));
            let msg = e.message().trim().to_string();
            problems.push(match line {
                Some(l) => format!("{name} line {l}: {msg}; using the defaults"),
                None => format!("{name}: {msg}; using the defaults"),
            });
            return Loaded { problems, ..Default::default() };
        }
    };
    let raw = sift(table, text, name, &mut problems);
    let mut c = Config { profile: raw.profile, regions: raw.regions, mouse: raw.mouse, ..Default::default() };
    c.rules = raw.rules.unwrap_or_default().iter().map(|r| expand_home(r)).collect();
    let mut bad = |key: &str, what: String| {
        let at = line_of_key(text, key).map(|l| format!(" line {l}")).unwrap_or_default();
        problems.push(format!("{name}{at}: {what}; ignored"));
    };
    if let Some(t) = raw.theme {
        match crate::tui::ui::theme::by_name(&t) {
            Some(_) => c.theme = Some(t),
            None => bad("theme", format!("theme = {t:?}: use one of {}", crate::tui::ui::theme::NAMES.join(", "))),
        }
    }
    if let Some(s) = raw.since {
        match crate::model::time::parse_age(&s) {
            Some(ms) => c.since_ms = Some(ms),
            None => bad("since", format!("since = {s:?} is not an age such as 15m, 6h or 7d")),
        }
    }
    match raw.time_zone.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("utc") => {}
        Some("local") => c.local_time = true,
        Some(other) => bad("time_zone", format!("time_zone = {other:?}: use \"utc\" or \"local\"")),
    }
    match raw.fuzzy.as_deref() {
        None | Some("nucleo-matcher") | Some("nucleo") => {}
        Some("fuzzy-matcher") | Some("skim") => c.fuzzy = Engine::Skim,
        Some(other) => bad("fuzzy", format!("fuzzy = {other:?}: use \"nucleo-matcher\" or \"fuzzy-matcher\"")),
    }
    if let Some(cols) = raw.columns {
        let mut headers = crate::model::columns::HEADERS.to_vec();
        headers.push("age");
        let mut idx: Vec<(usize, Option<u16>)> = Vec::new();
        for col in &cols {
            // `name` or `name:width` (a fixed width in cells).
            let (name, width) = match col.trim().split_once(':') {
                Some((n, w)) => match w.trim().parse::<u16>() {
                    Ok(w) if (1..=500).contains(&w) => (n.trim(), Some(w)),
                    _ => {
                        bad("columns", format!("column {col:?}: the width after ':' is a number of cells, 1 to 500"));
                        continue;
                    }
                },
                None => (col.trim(), None),
            };
            match headers.iter().position(|h| h.eq_ignore_ascii_case(name)) {
                Some(i) if !idx.iter().any(|c| c.0 == i) => idx.push((i, width)),
                Some(_) => {}
                None => {
                    bad("columns", format!("unknown column {col:?} (columns: {})", headers.join(", ")));
                }
            }
        }
        if !idx.is_empty() {
            c.columns = Some(idx);
        }
    }
    for (key, action) in &raw.keys {
        let spec = parse_key(key);
        let act = Action::from_name(action);
        match (spec, act) {
            (Ok(k), Some(a)) => c.keys.push((k, a)),
            (Err(e), _) => bad(key, format!("key {key:?}: {e}")),
            (_, None) => bad(
                key,
                format!(
                    "{key:?} = {action:?}: no such action (the help screen, ?, lists them; e.g. PivotPrincipal, Quit)"
                ),
            ),
        }
    }
    Loaded { config: c, problems, path: None }
}

/// The settings a file may have, in the order the README lists them.
const SETTINGS: &[&str] =
    &["profile", "regions", "since", "time_zone", "columns", "fuzzy", "theme", "mouse", "rules", "keys"];

/// `~/x` under the home directory; anything else as it is.
fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(p),
    }
}

/// The file's settings that are known and of the right type; each other one is a problem
/// naming its line, and is skipped.
fn sift(table: toml::Table, text: &str, name: &str, problems: &mut Vec<String>) -> Raw {
    let mut good = toml::Table::new();
    for (key, value) in table {
        let at = line_of_key(text, &key).map(|l| format!(" line {l}")).unwrap_or_default();
        if !SETTINGS.contains(&key.as_str()) {
            problems.push(format!("{name}{at}: unknown setting {key:?} (settings: {}); ignored", SETTINGS.join(", ")));
            continue;
        }
        let value = match (key.as_str(), value) {
            ("keys", toml::Value::Table(keys)) => {
                // One binding with a value that is not a name does not cost the others.
                let mut kept = toml::Table::new();
                for (k, v) in keys {
                    match v {
                        toml::Value::String(_) => {
                            kept.insert(k, v);
                        }
                        other => {
                            let at = line_of_key(text, &k).map(|l| format!(" line {l}")).unwrap_or_default();
                            problems.push(format!(
                                "{name}{at}: {k:?} = {other}: an action is a name in quotes, e.g. \"Quit\"; ignored"
                            ));
                        }
                    }
                }
                toml::Value::Table(kept)
            }
            (_, v) => v,
        };
        let mut one = toml::Table::new();
        one.insert(key.clone(), value.clone());
        match toml::Value::Table(one).try_into::<Raw>() {
            Ok(_) => {
                good.insert(key, value);
            }
            Err(e) => {
                problems.push(format!("{name}{at}: {key} = {value}: {}; ignored", e.message().trim()));
            }
        }
    }
    toml::Value::Table(good).try_into().unwrap_or_default()
}

/// A key as written in the file: `x`, `X`, `ctrl-x`, `alt-x`, `enter`, `esc`, `tab`,
/// `backtab`, `space`, `up`, `down`, `left`, `right`, `pgup`, `pgdn`, `home`, `end`,
/// `delete`, `backspace`, `f1`…`f12`.
pub fn parse_key(spec: &str) -> Result<Key, String> {
    let mut mods = KeyModifiers::NONE;
    let mut rest = spec.trim();
    loop {
        let lower = rest.to_ascii_lowercase();
        if let Some(r) = lower.strip_prefix("ctrl-").or_else(|| lower.strip_prefix("c-")) {
            mods |= KeyModifiers::CONTROL;
            rest = &rest[rest.len() - r.len()..];
        } else if let Some(r) = lower.strip_prefix("alt-").or_else(|| lower.strip_prefix("m-")) {
            mods |= KeyModifiers::ALT;
            rest = &rest[rest.len() - r.len()..];
        } else {
            break;
        }
    }
    let mut chars = rest.chars();
    let code = match (chars.next(), chars.next()) {
        (Some(c), None) => {
            if mods.contains(KeyModifiers::CONTROL) {
                KeyCode::Char(c.to_ascii_lowercase())
            } else {
                KeyCode::Char(c)
            }
        }
        _ => match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "delete" | "del" => KeyCode::Delete,
            "backspace" => KeyCode::Backspace,
            f if f.starts_with('f') && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) => {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            "" => return Err("empty key".into()),
            _ => return Err("not a key (x, ctrl-x, alt-x, enter, esc, tab, up, pgdn, f1, …)".into()),
        },
    };
    Ok((code, mods))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_applies() {
        let text = r#"
profile = "prod"
regions = ["us-east-1", "eu-west-1"]
since = "6h"
time_zone = "local"
theme = "high-contrast"
columns = ["time", "event", "error:20"]
fuzzy = "fuzzy-matcher"
mouse = false

[keys]
"ctrl-p" = "PivotPrincipal"
"x" = "quit"
"F2" = "CopyEventId"
"#;
        let l = parse(text, "config.toml");
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        let c = l.config;
        assert_eq!(c.profile.as_deref(), Some("prod"));
        assert_eq!(c.regions, Some(vec!["us-east-1".to_string(), "eu-west-1".to_string()]));
        assert_eq!(c.since_ms, Some(6 * 3_600_000));
        assert!(c.local_time);
        assert_eq!(c.columns, Some(vec![(0, None), (1, None), (6, Some(20))]));
        assert_eq!(c.fuzzy, Engine::Skim);
        assert_eq!(c.mouse, Some(false));
        assert!(c.keys.contains(&((KeyCode::Char('p'), KeyModifiers::CONTROL), Action::PivotPrincipal)));
        assert!(c.keys.contains(&((KeyCode::Char('x'), KeyModifiers::NONE), Action::Quit)));
        assert!(c
            .keys
            .contains(&((KeyCode::F(2), KeyModifiers::NONE), Action::Copy(crate::tui::state::CopyWhat::EventId))));
    }

    #[test]
    fn problems_name_the_line_and_keep_the_rest() {
        let text =
            "profile = \"dev\"\nsince = \"soon\"\n\n[keys]\n\"x\" = \"Qiut\"\n\"ctrl-\" = \"Quit\"\n\"y\" = \"Help\"\n";
        let l = parse(text, "config.toml");
        assert_eq!(l.config.profile.as_deref(), Some("dev"), "valid entries still apply");
        assert_eq!(l.config.keys, vec![((KeyCode::Char('y'), KeyModifiers::NONE), Action::Help)]);
        let all = l.problems.join("\n");
        assert!(all.contains("config.toml line 2: since = \"soon\""), "{all}");
        assert!(all.contains("config.toml line 5: \"x\" = \"Qiut\": no such action"), "{all}");
        assert!(all.contains("config.toml line 6: key \"ctrl-\""), "{all}");

        let l = parse("profile = \"dev\"\nregions = us-east-1\n", "c.toml");
        assert_eq!(l.problems.len(), 1);
        assert!(l.problems[0].starts_with("c.toml line 2: "), "{:?}", l.problems);
        assert!(l.config.profile.is_none(), "a file that does not parse is not used at all");

        let l = parse("theme = \"neon\"\n", "c.toml");
        assert!(
            l.problems[0].starts_with("c.toml line 1: theme = \"neon\": use one of default, high-contrast, mono"),
            "{:?}",
            l.problems
        );

        let l = parse("colour = \"red\"\n", "c.toml");
        assert!(l.problems[0].starts_with("c.toml line 1: ") && l.problems[0].contains("colour"), "{:?}", l.problems);
    }

    /// An unknown setting, a value of the wrong type and a binding that is not a name are
    /// each reported with their line and skipped; everything else applies.
    #[test]
    fn unknown_settings_and_wrong_types_are_skipped_alone() {
        let text = "colour = \"x\"\nprofile = \"dev\"\nmouse = \"yes\"\nsince = \"2h\"\n[palette]\nred = 1\n\n[keys]\n\"z\" = 3\n\"F2\" = \"CopyEventId\"\n";
        let l = parse(text, "c.toml");
        let c = &l.config;
        assert_eq!(c.profile.as_deref(), Some("dev"), "{:?}", l.problems);
        assert_eq!(c.since_ms, Some(2 * 3_600_000));
        assert_eq!(c.mouse, None);
        assert_eq!(
            c.keys,
            vec![((KeyCode::F(2), KeyModifiers::NONE), Action::Copy(crate::tui::action::CopyWhat::EventId))]
        );
        assert_eq!(l.problems.len(), 4, "{:?}", l.problems);
        let all = l.problems.join("\n");
        assert!(all.contains("c.toml line 1: unknown setting \"colour\" (settings: profile, regions,"), "{all}");
        assert!(all.contains("c.toml line 3: mouse = \"yes\": "), "{all}");
        assert!(all.contains("c.toml line 5: unknown setting \"palette\""), "{all}");
        assert!(all.contains("c.toml line 9: \"z\" = 3: an action is a name in quotes"), "{all}");
        assert!(l.problems.iter().all(|p| p.ends_with("; ignored")), "{all}");
    }

    #[test]
    fn a_configuration_file_is_read_up_to_1_mib() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(&p, "# a comment\n".repeat(200_000)).unwrap();
        let l = load(Some(&p));
        assert_eq!(l.problems.len(), 1, "{:?}", l.problems);
        assert!(
            l.problems[0].contains(&p.display().to_string()) && l.problems[0].contains("1 MiB"),
            "{:?}",
            l.problems
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_device_is_not_read_whole() {
        for endless in ["/dev/zero", "/dev/urandom"] {
            let l = load(Some(Path::new(endless)));
            assert_eq!(l.problems.len(), 1, "{:?}", l.problems);
            assert!(l.problems[0].starts_with(endless) && l.problems[0].contains("1 MiB"), "{:?}", l.problems);
        }
    }

    #[test]
    fn keys_round_trip_their_names() {
        for spec in ["x", "X", "ctrl-x", "alt-q", "enter", "esc", "tab", "pgdn", "f5", "space", "#"] {
            let k = parse_key(spec).unwrap();
            assert_eq!(parse_key(&key_name(k).replace("Ctrl-", "ctrl-").replace("Alt-", "alt-")).unwrap(), k, "{spec}");
        }
        assert!(parse_key("hyper-x").is_err());
    }

    #[test]
    fn every_action_without_a_payload_is_bindable_by_name() {
        let all = Action::bindable();
        assert!(all.len() > 40, "{}", all.len());
        for (name, a) in &all {
            assert_eq!(Action::from_name(name).as_ref(), Some(a));
            assert_eq!(a.name(), *name);
        }
        assert!(Action::from_name("FilterInsert").is_none(), "typing a character is not a bindable action");
    }
}
