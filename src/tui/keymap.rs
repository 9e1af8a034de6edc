//! Keys to actions, by what has focus. The help screen is generated from this table and the
//! actions' doc comments.

use crate::tui::action::Action;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    List,
    Detail,
    Filter,
    /// The help or errors popup.
    Popup,
    /// The facets panel.
    Facets,
    /// A line of text asked for (export path, filter name).
    Prompt,
    /// What to copy.
    CopyMenu,
    /// The saved filters.
    Picker,
}

/// A binding as shown on the help screen.
pub struct Binding {
    pub keys: &'static str,
    pub action: Action,
}

/// The bindings of the list and detail panes (the help screen lists these).
pub fn browse_bindings() -> Vec<Binding> {
    use Action::*;
    let b = |keys, action| Binding { keys, action };
    vec![
        b("j ↓", Down),
        b("k ↑", Up),
        b("PgDn", PageDown),
        b("PgUp", PageUp),
        b("Ctrl-d", HalfPageDown),
        b("Ctrl-u", HalfPageUp),
        b("g Home", Top),
        b("G End", Bottom),
        b("Enter", OpenDetail),
        b("Tab", NextPane),
        b("Shift-Tab", PrevPane),
        b("/", FocusFilter),
        b("Esc", Back),
        b("E", Errors),
        b("?", Help),
        b("q Ctrl-c", Quit),
        b("Ctrl-l", Redraw),
        b("r", Refresh),
        b("p", PivotPrincipal),
        b("K", PivotKey),
        b("i", PivotIp),
        b("s", PivotSession),
        b("R", PivotResource),
        b("#", PivotRequest),
        b("a", PivotAround),
        b("[", HistoryBack),
        b("]", HistoryForward),
        b("f", ToggleFacets),
        b("t", ToggleTimeline),
        b("z", ToggleTimeZone),
        b("y", CopyMenu),
        b("o", OpenPager),
        b("e", Export),
        b("m", SaveFilter),
        b("'", RecallFilter),
        b(":", Command),
    ]
}

/// The bindings of the facets panel.
pub fn facet_bindings() -> Vec<Binding> {
    use Action::*;
    let b = |keys, action| Binding { keys, action };
    vec![
        b("j k", Down),
        b("PgDn PgUp", PageDown),
        b("Enter", OpenDetail),
        b("-", ExcludeFacet),
        b("f", ToggleFacets),
        b("Esc", Back),
    ]
}

/// The bindings while editing the filter.
pub fn filter_bindings() -> Vec<Binding> {
    use Action::*;
    let b = |keys, action| Binding { keys, action };
    vec![
        b("Enter", FilterSubmit),
        b("Esc", Back),
        b("←", FilterLeft),
        b("→", FilterRight),
        b("Home Ctrl-a", FilterHome),
        b("End Ctrl-e", FilterEnd),
        b("Ctrl-w", FilterDeleteWord),
        b("Ctrl-u", FilterClear),
        b("Tab", NextPane),
    ]
}

/// Moving through a list, a record or a popup: the same keys everywhere.
fn movement(code: KeyCode) -> Option<Action> {
    use Action::*;
    Some(match code {
        KeyCode::Char('j') | KeyCode::Down => Down,
        KeyCode::Char('k') | KeyCode::Up => Up,
        KeyCode::PageDown | KeyCode::Char(' ') => PageDown,
        KeyCode::PageUp => PageUp,
        KeyCode::Char('g') | KeyCode::Home => Top,
        KeyCode::Char('G') | KeyCode::End => Bottom,
        _ => return None,
    })
}

/// [`handle_key`] with the user's bindings (from the configuration file) first, in the list,
/// detail and facets panes.
pub fn handle_key_with(user: &[(Key, Action)], mode: Mode, key: KeyEvent) -> Option<Action> {
    if key.kind != KeyEventKind::Release && matches!(mode, Mode::List | Mode::Detail | Mode::Facets) {
        // Shift is part of the character for letters ('X'), not a modifier to match.
        let mods = key.modifiers - KeyModifiers::SHIFT;
        if let Some((_, a)) = user.iter().find(|((code, m), _)| *code == key.code && *m == mods) {
            return Some(a.clone());
        }
    }
    handle_key(mode, key)
}

pub fn handle_key(mode: Mode, key: KeyEvent) -> Option<Action> {
    use Action::*;
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Quit);
    }
    if ctrl && key.code == KeyCode::Char('l') {
        return Some(Redraw);
    }
    match mode {
        // The filter and the prompts edit a line the same way.
        Mode::Filter | Mode::Prompt => Some(match key.code {
            KeyCode::Enter => FilterSubmit,
            KeyCode::Esc => Back,
            KeyCode::Tab => NextPane,
            KeyCode::BackTab => PrevPane,
            KeyCode::Backspace if ctrl => FilterDeleteWord,
            KeyCode::Backspace => FilterBackspace,
            KeyCode::Delete => FilterDelete,
            KeyCode::Left => FilterLeft,
            KeyCode::Right => FilterRight,
            KeyCode::Home => FilterHome,
            KeyCode::End => FilterEnd,
            KeyCode::Down if mode == Mode::Filter => FilterSubmit,
            KeyCode::Char('a') if ctrl => FilterHome,
            KeyCode::Char('e') if ctrl => FilterEnd,
            KeyCode::Char('w') if ctrl => FilterDeleteWord,
            KeyCode::Char('u') if ctrl => FilterClear,
            KeyCode::Char(_) if ctrl => return None,
            KeyCode::Char(c) => FilterInsert(c),
            _ => return None,
        }),
        Mode::Popup => match key.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Char('E') | KeyCode::Enter => Some(Back),
            code => movement(code),
        },
        Mode::CopyMenu => Some(match key.code {
            KeyCode::Char('y') | KeyCode::Char('j') => Copy(crate::tui::state::CopyWhat::Json),
            KeyCode::Char('i') => Copy(crate::tui::state::CopyWhat::EventId),
            KeyCode::Char('a') => Copy(crate::tui::state::CopyWhat::Arn),
            KeyCode::Char('k') => Copy(crate::tui::state::CopyWhat::AccessKey),
            KeyCode::Esc | KeyCode::Char('q') => Back,
            _ => return None,
        }),
        Mode::Picker => Some(match key.code {
            KeyCode::Enter => OpenDetail,
            KeyCode::Char('d') | KeyCode::Delete => FilterDelete,
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('\'') => Back,
            KeyCode::Char('j') | KeyCode::Down => Down,
            KeyCode::Char('k') | KeyCode::Up => Up,
            _ => return None,
        }),
        Mode::List | Mode::Detail | Mode::Facets => Some(match key.code {
            KeyCode::Char('d') if ctrl => HalfPageDown,
            KeyCode::Char('u') if ctrl => HalfPageUp,
            KeyCode::Char('f') if ctrl => PageDown,
            KeyCode::Char('b') if ctrl => PageUp,
            KeyCode::Char(_) if ctrl => return None,
            code if movement(code).is_some() => return movement(code),
            KeyCode::Enter if mode != Mode::Detail => OpenDetail,
            KeyCode::Char('-') if mode == Mode::Facets => ExcludeFacet,
            KeyCode::Tab => NextPane,
            KeyCode::BackTab => PrevPane,
            KeyCode::Char('/') => FocusFilter,
            KeyCode::Esc => Back,
            KeyCode::Char('?') => Help,
            KeyCode::Char('E') => Errors,
            KeyCode::Char('q') => Quit,
            KeyCode::Char('r') => Refresh,
            KeyCode::Char('p') => PivotPrincipal,
            KeyCode::Char('K') => PivotKey,
            KeyCode::Char('i') => PivotIp,
            KeyCode::Char('s') => PivotSession,
            KeyCode::Char('R') => PivotResource,
            KeyCode::Char('#') => PivotRequest,
            KeyCode::Char('a') => PivotAround,
            KeyCode::Char('[') => HistoryBack,
            KeyCode::Char(']') => HistoryForward,
            KeyCode::Char('f') => ToggleFacets,
            KeyCode::Char('t') => ToggleTimeline,
            KeyCode::Char('z') => ToggleTimeZone,
            KeyCode::Char('y') => CopyMenu,
            KeyCode::Char('o') => OpenPager,
            KeyCode::Char('e') => Export,
            KeyCode::Char('m') => SaveFilter,
            KeyCode::Char('\'') => RecallFilter,
            KeyCode::Char(':') => Command,
            _ => return None,
        }),
    }
}

/// A key and its modifiers, as bound in `[keys]`.
pub type Key = (KeyCode, KeyModifiers);

/// How a key is written in the file and on the help screen.
pub fn key_name((code, mods): Key) -> String {
    let mut s = String::new();
    if mods.contains(KeyModifiers::CONTROL) {
        s.push_str("Ctrl-");
    }
    if mods.contains(KeyModifiers::ALT) {
        s.push_str("Alt-");
    }
    match code {
        KeyCode::Char(' ') => s.push_str("Space"),
        KeyCode::Char(c) => s.push(c),
        KeyCode::F(n) => s.push_str(&format!("F{n}")),
        other => s.push_str(&format!("{other:?}")),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn q_types_in_the_filter_but_quits_elsewhere() {
        assert_eq!(handle_key(Mode::Filter, key(KeyCode::Char('q'))), Some(Action::FilterInsert('q')));
        assert_eq!(handle_key(Mode::List, key(KeyCode::Char('q'))), Some(Action::Quit));
        assert_eq!(
            handle_key(Mode::Filter, KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
    }

    #[test]
    fn user_bindings_come_first_in_the_browsing_panes_only() {
        let user = vec![
            ((KeyCode::Char('x'), KeyModifiers::NONE), Action::Quit),
            ((KeyCode::Char('p'), KeyModifiers::CONTROL), Action::PivotIp),
            ((KeyCode::Char('j'), KeyModifiers::NONE), Action::PageDown),
            ((KeyCode::Char('P'), KeyModifiers::NONE), Action::PivotPrincipal),
        ];
        let k = |c, m| KeyEvent::new(KeyCode::Char(c), m);
        assert_eq!(handle_key_with(&user, Mode::List, k('x', KeyModifiers::NONE)), Some(Action::Quit));
        assert_eq!(handle_key_with(&user, Mode::List, k('p', KeyModifiers::CONTROL)), Some(Action::PivotIp));
        assert_eq!(handle_key_with(&user, Mode::Detail, k('j', KeyModifiers::NONE)), Some(Action::PageDown));
        assert_eq!(handle_key_with(&user, Mode::List, k('P', KeyModifiers::SHIFT)), Some(Action::PivotPrincipal));
        // The filter still types the letter; unbound keys keep their defaults.
        assert_eq!(handle_key_with(&user, Mode::Filter, k('x', KeyModifiers::NONE)), Some(Action::FilterInsert('x')));
        assert_eq!(handle_key_with(&user, Mode::List, k('k', KeyModifiers::NONE)), Some(Action::Up));
        assert_eq!(handle_key_with(&[], Mode::List, k('x', KeyModifiers::NONE)), None);
    }

    #[test]
    fn every_binding_has_help_text() {
        for b in browse_bindings().into_iter().chain(filter_bindings()).chain(facet_bindings()) {
            assert!(!b.action.doc().is_empty(), "{:?}", b.action);
        }
    }
}
