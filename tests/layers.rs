//! The library's modules form layers that import only downward:
//!
//! ```text
//! sanitize ─► model ─► query, cache ─► source ─► print ─► tui ─► cli, config
//! ```
//!
//! This test reads every `crate::` path in `src/` (outside comments, string literals and test
//! modules) and fails on one that goes up a layer, or that closes a cycle between top-level
//! modules of the same layer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module and its layer: a module may use its own layer (without a cycle) and
/// the layers below.
const LAYERS: &[(&str, u8)] = &[
    ("sanitize", 0),
    ("model", 1),
    ("sigma", 2),
    ("query", 2),
    ("cache", 2),
    ("source", 3),
    ("athena", 2),
    ("print", 4),
    ("verify", 4),
    ("tui", 5),
    ("cli", 6),
    ("config", 6),
];

/// The modules inside `tui`, in layers the same way: at the bottom what knows no state (the
/// actions, the key table, the `:` commands, the geometry, the colours, the highlighter), then
/// the state, then what reads it (drawing, side effects, the mouse), then the app that runs
/// them all.
const TUI_LAYERS: &[(&str, u8)] = &[
    ("action", 0),
    ("keymap", 0),
    ("command", 0),
    ("layout", 0),
    ("theme", 0),
    ("highlight", 0),
    ("format", 0),
    ("state", 1),
    ("ui", 2),
    ("effects", 2),
    ("mouse", 2),
    ("terminal", 2),
    ("app", 3),
];

fn layer_in(layers: &[(&str, u8)], module: &str) -> Option<u8> {
    layers.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn layer(module: &str) -> Option<u8> {
    layer_in(LAYERS, module)
}

/// Code with comments, string and char literals blanked out, and `#[cfg(test)]` items removed.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &src[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').map_or(b.len(), |n| i + n);
            i = end;
        } else if rest.starts_with("/*") {
            let mut depth = 0;
            while i < b.len() {
                if src[i..].starts_with("/*") {
                    depth += 1;
                    i += 2;
                } else if src[i..].starts_with("*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(rest) {
            let close = format!("\"{}", "#".repeat(hashes));
            let body = i + 2 + hashes;
            i = src[body..].find(&close).map_or(b.len(), |n| body + n + close.len());
            out.push_str("\"\"");
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && char_literal_len(rest).is_some() {
            i += char_literal_len(rest).unwrap_or(1);
            out.push_str("' '");
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    strip_test_items(&out)
}

/// `r"`, `r#"`, `br"`…: the number of `#`.
fn raw_string_start(s: &str) -> Option<usize> {
    let s = s.strip_prefix('b').unwrap_or(s);
    let s = s.strip_prefix('r')?;
    let hashes = s.bytes().take_while(|&c| c == b'#').count();
    (s.as_bytes().get(hashes) == Some(&b'"')).then_some(hashes)
}

/// The length of a char literal at the start of `s` (`'a'`, `'\n'`, `'\u{1b}'`), or `None`
/// for a lifetime.
fn char_literal_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.get(1) == Some(&b'\\') {
        let close = s[2..].find('\'')?;
        return Some(close + 3);
    }
    let c = s[1..].chars().next()?;
    let after = 1 + c.len_utf8();
    (b.get(after) == Some(&b'\'')).then_some(after + 1)
}

/// Removes each item that follows `#[cfg(test)]` (a test module, a test-only function).
fn strip_test_items(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        // The item ends at the `;` before any brace, or where its first brace closes.
        let semi = after.find(';');
        let brace = after.find('{');
        let end = match (semi, brace) {
            (Some(s), Some(b)) if s < b => s + 1,
            (_, Some(b)) => {
                let mut depth = 0;
                let mut end = after.len();
                for (i, c) in after[b..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = b + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (Some(s), None) => s + 1,
            (None, None) => after.len(),
        };
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The top-level modules that `code` names through `crate::`, including `use crate::{a, b}`.
fn crate_paths(code: &str) -> BTreeSet<String> {
    paths_after(code, "crate::")
}

/// The modules that `code` names right after `prefix` (`crate::`, `crate::tui::`).
fn paths_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None` for the crate roots and binaries).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    if first == "lib.rs" || first == "main.rs" || first == "bin" {
        return None;
    }
    Some(first.trim_end_matches(".rs").to_string())
}

/// Every violation in a set of (module, imported module) edges.
fn violations(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    violations_in(LAYERS, "crate::", edges)
}

/// Every violation of `layers` in a set of (module, imported module) edges; `prefix` is how
/// the modules are named (`crate::`, `crate::tui::`).
fn violations_in(layers: &[(&str, u8)], prefix: &str, edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let layer = |m: &str| layer_in(layers, m);
    let mut bad = Vec::new();
    for (from, tos) in edges {
        let Some(lf) = layer(from) else {
            bad.push(format!("module {from} is in no layer (add it to the layers)"));
            continue;
        };
        for to in tos {
            match layer(to) {
                None => bad.push(format!("{from} uses {prefix}{to}, which is in no layer")),
                Some(lt) if lt > lf => {
                    bad.push(format!("{from} (layer {lf}) uses {prefix}{to} (layer {lt}): an upward import"))
                }
                _ => {}
            }
        }
    }
    // Cycles among modules of one layer.
    for (from, tos) in edges {
        for to in tos {
            if to != from && reaches(edges, to, from, &mut BTreeSet::new()) {
                bad.push(format!("{from} and {to} import each other (a cycle)"));
            }
        }
    }
    bad
}

fn reaches(edges: &BTreeMap<String, BTreeSet<String>>, from: &str, target: &str, seen: &mut BTreeSet<String>) -> bool {
    if from == target {
        return true;
    }
    if !seen.insert(from.to_string()) {
        return false;
    }
    edges.get(from).is_some_and(|tos| tos.iter().any(|t| t != from && reaches(edges, t, target, seen)))
}

#[test]
fn modules_import_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut wheres: Vec<String> = Vec::new();
    for f in &files {
        let Some(module) = module_of(&src, f) else { continue };
        let code = code_only(&std::fs::read_to_string(f).unwrap());
        let paths = crate_paths(&code);
        for p in &paths {
            if p != &module && layer(p).zip(layer(&module)).is_none_or(|(lp, lm)| lp > lm) {
                wheres.push(format!("{}: crate::{p}", f.strip_prefix(&src).unwrap().display()));
            }
        }
        edges.entry(module).or_default().extend(paths);
    }
    for tos in edges.values_mut() {
        tos.retain(|t| t != "self");
    }
    let bad = violations(&edges);
    assert!(bad.is_empty(), "layering violations:\n  {}\nwhere:\n  {}", bad.join("\n  "), wheres.join("\n  "));
    assert!(edges.len() >= 8, "too few modules found: {edges:?}");
}

#[test]
fn the_check_sees_upward_imports_and_cycles() {
    let code = code_only(
        "use crate::model::time;\n// use crate::tui::app;\nlet s = \"crate::cli\";\nuse crate::{query, source::files};\n\
         #[cfg(test)]\nmod tests { use crate::tui; }\nfn f<'a>(x: &'a str) -> char { let _ = crate::print::exit::OK; 'x' }\n",
    );
    assert_eq!(
        crate_paths(&code),
        ["model", "print", "query", "source"].iter().map(|s| s.to_string()).collect::<BTreeSet<_>>()
    );
    let edges = |pairs: &[(&str, &str)]| {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in pairs {
            m.entry(a.to_string()).or_default().insert(b.to_string());
        }
        m
    };
    assert!(violations(&edges(&[("tui", "source"), ("source", "model"), ("cli", "tui")])).is_empty());
    let up = violations(&edges(&[("model", "source")]));
    assert_eq!(up.len(), 1, "{up:?}");
    assert!(up[0].contains("upward"), "{up:?}");
    let cycle = violations(&edges(&[("query", "cache"), ("cache", "query")]));
    assert!(cycle.iter().any(|v| v.contains("cycle")), "{cycle:?}");
    assert!(!violations(&edges(&[("mystery", "model")])).is_empty());
    // Inside tui: the state may not use what draws it, nor the bottom the state.
    assert!(violations_in(
        TUI_LAYERS,
        "crate::tui::",
        &edges(&[("app", "state"), ("state", "keymap"), ("ui", "state")])
    )
    .is_empty());
    assert_eq!(violations_in(TUI_LAYERS, "crate::tui::", &edges(&[("state", "ui")])).len(), 1);
    assert_eq!(violations_in(TUI_LAYERS, "crate::tui::", &edges(&[("action", "state")])).len(), 1);
    assert_eq!(
        paths_after("use crate::tui::{action::Action, state};\nlet x = crate::tui::ui::draw;", "crate::tui::"),
        ["action", "state", "ui"].iter().map(|s| s.to_string()).collect::<BTreeSet<_>>()
    );
}

/// The modules inside `tui` import only downward too, and reach the sources only through
/// `source::boundary`.
#[test]
fn tui_modules_import_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let tui = src.join("tui");
    let mut files = Vec::new();
    rust_files(&tui, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut wheres: Vec<String> = Vec::new();
    let mut sources: Vec<String> = Vec::new();
    for f in &files {
        let Some(module) = module_of(&tui, f).filter(|m| m != "mod") else { continue };
        let code = code_only(&std::fs::read_to_string(f).unwrap());
        let where_ = f.strip_prefix(&src).unwrap().display().to_string();
        for p in paths_after(&code, "crate::source::") {
            if p != "boundary" {
                sources.push(format!("{where_}: crate::source::{p}"));
            }
        }
        let paths = paths_after(&code, "crate::tui::");
        for p in &paths {
            if p != &module && layer_in(TUI_LAYERS, p).zip(layer_in(TUI_LAYERS, &module)).is_none_or(|(lp, lm)| lp > lm)
            {
                wheres.push(format!("{where_}: crate::tui::{p}"));
            }
        }
        edges.entry(module).or_default().extend(paths);
    }
    let bad = violations_in(TUI_LAYERS, "crate::tui::", &edges);
    assert!(bad.is_empty(), "layering violations in tui:\n  {}\nwhere:\n  {}", bad.join("\n  "), wheres.join("\n  "));
    assert!(edges.len() >= 10, "too few modules found: {edges:?}");
    assert!(sources.is_empty(), "tui uses sources past their boundary:\n  {}", sources.join("\n  "));
}
