//! Keys to actions, by what has focus: one table, [`KEYS`], that both the dispatch and the
//! help screen read (with the actions' doc comments), so a key cannot be documented one way and
//! dispatched another.

use crate::tui::action::{Action, CopyWhat};
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

/// A key as the table writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySpec {
    /// A character typed without Ctrl (Shift and Alt as the terminal sends them).
    Char(char),
    /// A character typed with Ctrl.
    Ctrl(char),
    /// Any other key, whatever the modifiers.
    Code(KeyCode),
    /// Any other key, with Ctrl.
    CtrlCode(KeyCode),
    /// Any character typed without Ctrl: the action ([`Action::FilterInsert`]) gets it.
    AnyChar,
}

impl KeySpec {
    /// The action `key` gives through this spec of a row bound to `action`.
    fn matches(self, key: &KeyEvent, action: &Action) -> Option<Action> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let hit = match (self, key.code) {
            (KeySpec::Char(c), KeyCode::Char(k)) => !ctrl && c == k,
            (KeySpec::Ctrl(c), KeyCode::Char(k)) => ctrl && c == k,
            (KeySpec::Code(c), k) => c == k && !matches!(k, KeyCode::Char(_)),
            (KeySpec::CtrlCode(c), k) => ctrl && c == k,
            (KeySpec::AnyChar, KeyCode::Char(k)) if !ctrl => return Some(Action::FilterInsert(k)),
            _ => false,
        };
        hit.then(|| action.clone())
    }

    /// How the help screen writes the key.
    pub fn label(self) -> String {
        let code = |c: KeyCode| match c {
            KeyCode::Down => "↓".to_string(),
            KeyCode::Up => "↑".to_string(),
            KeyCode::Left => "←".to_string(),
            KeyCode::Right => "→".to_string(),
            KeyCode::PageDown => "PgDn".to_string(),
            KeyCode::PageUp => "PgUp".to_string(),
            KeyCode::BackTab => "Shift-Tab".to_string(),
            KeyCode::Delete => "Del".to_string(),
            other => format!("{other:?}"),
        };
        match self {
            KeySpec::Char(' ') => "Space".to_string(),
            KeySpec::Char(c) => c.to_string(),
            KeySpec::Ctrl(c) => format!("Ctrl-{c}"),
            KeySpec::Code(c) => code(c),
            KeySpec::CtrlCode(c) => format!("Ctrl-{}", code(c)),
            KeySpec::AnyChar => "a character".to_string(),
        }
    }

    /// A key event this spec takes, as a terminal sends it (`x` stands for any character).
    pub fn example(self) -> KeyEvent {
        let shift = |c: char| if c.is_uppercase() { KeyModifiers::SHIFT } else { KeyModifiers::NONE };
        match self {
            KeySpec::Char(c) => KeyEvent::new(KeyCode::Char(c), shift(c)),
            KeySpec::Ctrl(c) => KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
            KeySpec::Code(KeyCode::BackTab) => KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT),
            KeySpec::Code(c) => KeyEvent::new(c, KeyModifiers::NONE),
            KeySpec::CtrlCode(c) => KeyEvent::new(c, KeyModifiers::CONTROL),
            KeySpec::AnyChar => KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE),
        }
    }
}

/// Keys and the action they give.
pub struct Row {
    pub keys: &'static [KeySpec],
    pub action: Action,
}

/// Rows that apply in some modes, under one heading of the help screen.
pub struct Section {
    pub title: &'static str,
    pub modes: &'static [Mode],
    pub rows: &'static [Row],
}

const ALL_MODES: &[Mode] =
    &[Mode::List, Mode::Detail, Mode::Filter, Mode::Popup, Mode::Facets, Mode::Prompt, Mode::CopyMenu, Mode::Picker];
const BROWSE: &[Mode] = &[Mode::List, Mode::Detail, Mode::Facets];

macro_rules! rows {
    ($( [$($key:expr),+] => $action:expr, )*) => {
        &[ $( Row { keys: &[$($key),+], action: $action }, )* ]
    };
}

use Action as A;
use KeyCode as K;
use KeySpec::{AnyChar, Char, Code, Ctrl, CtrlCode};

/// Every key of the TUI: the dispatch ([`handle_key`]) reads it, and the help screen lists it
/// in this order. No key is bound twice in a mode, so the order is for the reader only.
pub static KEYS: &[Section] = &[
    Section {
        title: "In the list",
        modes: &[Mode::List],
        rows: rows! {
            [Code(K::Enter)] => A::OpenDetail,
        },
    },
    Section {
        title: "In the facets panel",
        modes: &[Mode::Facets],
        rows: rows! {
            [Code(K::Enter)] => A::IncludeFacet,
            [Char('-')] => A::ExcludeFacet,
            [Char('+')] => A::MoreFacetValues,
        },
    },
    Section {
        title: "In the list, the detail view and the facets",
        modes: BROWSE,
        rows: rows! {
            [Char('/')] => A::FocusFilter,
            [Code(K::Esc)] => A::Back,
            [Code(K::Tab)] => A::NextPane,
            [Code(K::BackTab)] => A::PrevPane,
            [Char('E')] => A::Errors,
            [Char('?')] => A::Help,
            [Char('q')] => A::Quit,
            [Char('r')] => A::Refresh,
            [Char('p')] => A::PivotPrincipal,
            [Char('K')] => A::PivotKey,
            [Char('i')] => A::PivotIp,
            [Char('s')] => A::PivotSession,
            [Char('R')] => A::PivotResource,
            [Char('#')] => A::PivotRequest,
            [Char('a')] => A::PivotAround,
            [Char('A')] => A::AddWindow,
            [Char('[')] => A::HistoryBack,
            [Char(']')] => A::HistoryForward,
            [Char('f')] => A::ToggleFacets,
            [Char('t')] => A::ToggleTimeline,
            [Char('z')] => A::ToggleTimeZone,
            [Char('O')] => A::ToggleOrder,
            [Char('J')] => A::JumpSection,
            [Char('y')] => A::CopyMenu,
            [Char('o')] => A::OpenPager,
            [Char('e')] => A::Export,
            [Char('m')] => A::SaveFilter,
            [Char('\'')] => A::RecallFilter,
            [Char(':')] => A::Command,
            [Ctrl('d')] => A::HalfPageDown,
            [Ctrl('u')] => A::HalfPageUp,
            [Ctrl('f')] => A::PageDown,
            [Ctrl('b')] => A::PageUp,
        },
    },
    Section {
        title: "Moving (the list, the detail view, the facets, the help)",
        modes: &[Mode::List, Mode::Detail, Mode::Facets, Mode::Popup],
        rows: rows! {
            [Char('j'), Code(K::Down)] => A::Down,
            [Char('k'), Code(K::Up)] => A::Up,
            [Code(K::PageDown), Char(' ')] => A::PageDown,
            [Code(K::PageUp)] => A::PageUp,
            [Char('g'), Code(K::Home)] => A::Top,
            [Char('G'), Code(K::End)] => A::Bottom,
        },
    },
    Section {
        title: "In the filter",
        modes: &[Mode::Filter],
        rows: rows! {
            [Code(K::Enter), Code(K::Down)] => A::FilterSubmit,
            [Code(K::Esc)] => A::Back,
            [Code(K::Tab)] => A::NextPane,
            [Code(K::BackTab)] => A::PrevPane,
        },
    },
    Section {
        title: "In a prompt (:, export, save)",
        modes: &[Mode::Prompt],
        rows: rows! {
            [Code(K::Enter)] => A::PromptSubmit,
            [Code(K::Esc)] => A::Back,
            [Code(K::Tab)] => A::Complete,
        },
    },
    Section {
        title: "Editing the filter or a prompt",
        modes: &[Mode::Filter, Mode::Prompt],
        rows: rows! {
            [CtrlCode(K::Backspace), Ctrl('w')] => A::FilterDeleteWord,
            [Code(K::Backspace)] => A::FilterBackspace,
            [Code(K::Delete)] => A::FilterDelete,
            [Code(K::Left)] => A::FilterLeft,
            [Code(K::Right)] => A::FilterRight,
            [Code(K::Home), Ctrl('a')] => A::FilterHome,
            [Code(K::End), Ctrl('e')] => A::FilterEnd,
            [Ctrl('u')] => A::FilterClear,
            [AnyChar] => A::FilterInsert(' '),
        },
    },
    Section {
        title: "In the help and the errors",
        modes: &[Mode::Popup],
        rows: rows! {
            [Code(K::Esc), Char('q'), Char('?'), Char('E'), Code(K::Enter)] => A::Back,
        },
    },
    Section {
        title: "In the copy menu",
        modes: &[Mode::CopyMenu],
        rows: rows! {
            [Char('y'), Char('j')] => A::Copy(CopyWhat::Json),
            [Char('i')] => A::Copy(CopyWhat::EventId),
            [Char('a')] => A::Copy(CopyWhat::Arn),
            [Char('k')] => A::Copy(CopyWhat::AccessKey),
            [Char('t')] => A::Copy(CopyWhat::Time),
            [Code(K::Esc), Char('q')] => A::Back,
        },
    },
    Section {
        title: "In the saved filters",
        modes: &[Mode::Picker],
        rows: rows! {
            [Code(K::Enter)] => A::ApplySaved,
            [Char('d'), Code(K::Delete)] => A::DeleteSaved,
            [Char('j'), Code(K::Down)] => A::Down,
            [Char('k'), Code(K::Up)] => A::Up,
            [Code(K::Esc), Char('q'), Char('\'')] => A::Back,
        },
    },
    Section {
        title: "Everywhere",
        modes: ALL_MODES,
        rows: rows! {
            [Ctrl('c')] => A::Quit,
            [Ctrl('z')] => A::Suspend,
            [Ctrl('l')] => A::Redraw,
        },
    },
];

/// [`handle_key`] with the user's bindings (from the configuration file) first. In the list,
/// detail and facets panes every binding applies; elsewhere (the filter, a prompt, a popup) a
/// binding applies when its action is one that mode offers, and never to a character the
/// filter or a prompt would type.
pub fn handle_key_with(user: &[(Key, Action)], mode: Mode, key: KeyEvent) -> Option<Action> {
    if key.kind != KeyEventKind::Release {
        // Shift is part of the character for letters ('X'), not a modifier to match.
        let mods = key.modifiers - KeyModifiers::SHIFT;
        let typed = matches!(mode, Mode::Filter | Mode::Prompt)
            && matches!(key.code, KeyCode::Char(_))
            && !mods.contains(KeyModifiers::CONTROL);
        let bound = user
            .iter()
            .filter(|((code, m), _)| *code == key.code && *m == mods)
            .find(|(_, a)| BROWSE.contains(&mode) || (!typed && offers(mode, a)));
        if let Some((_, a)) = bound {
            return Some(a.clone());
        }
    }
    handle_key(mode, key)
}

/// What pasted text does in a mode: it is text for the line being edited (the filter or a
/// prompt), with newlines and control characters left out; elsewhere it does nothing. A paste
/// is never keys.
pub fn handle_paste(mode: Mode, text: &str) -> Option<Action> {
    if !matches!(mode, Mode::Filter | Mode::Prompt) {
        return None;
    }
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    (!text.is_empty()).then_some(Action::Paste(text))
}

/// Whether some key of `mode` gives `action` in the built-in table.
pub fn offers(mode: Mode, action: &Action) -> bool {
    KEYS.iter().filter(|s| s.modes.contains(&mode)).flat_map(|s| s.rows).any(|r| r.action == *action)
}

/// The action of a key in a mode, from [`KEYS`].
pub fn handle_key(mode: Mode, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    KEYS.iter()
        .filter(|s| s.modes.contains(&mode))
        .flat_map(|s| s.rows)
        .find_map(|row| row.keys.iter().find_map(|k| k.matches(&key, &row.action)))
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

    /// Every key of every row does what the row says in every mode of its section: no row is
    /// shadowed by an earlier one.
    #[test]
    fn every_row_of_the_table_is_reachable() {
        let mut checked = 0;
        for s in KEYS {
            for &mode in s.modes {
                for row in s.rows {
                    for &k in row.keys {
                        let want = match k {
                            KeySpec::AnyChar => Action::FilterInsert('x'),
                            _ => row.action.clone(),
                        };
                        assert_eq!(
                            handle_key(mode, k.example()),
                            Some(want),
                            "{} in {mode:?} ({})",
                            k.label(),
                            s.title
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 100, "{checked}");
    }

    /// Every action a key can give has a key in the table, and help text.
    #[test]
    fn every_action_is_in_the_table() {
        let in_table = |a: &Action| KEYS.iter().flat_map(|s| s.rows).any(|r| r.action == *a);
        for (name, a) in Action::bindable() {
            assert!(in_table(&a), "{name} has no key");
            assert!(!a.doc().is_empty(), "{name}");
        }
        assert!(in_table(&Action::FilterInsert(' ')));
        for row in KEYS.iter().flat_map(|s| s.rows) {
            if row.keys.contains(&KeySpec::AnyChar) {
                assert!(matches!(row.action, Action::FilterInsert(_)), "a typed character only types");
            }
        }
    }

    /// No two rows of one mode name the same key: the order of the table never decides.
    #[test]
    fn no_key_is_bound_twice_in_a_mode() {
        for mode in ALL_MODES {
            let mut seen: Vec<(KeySpec, &str)> = Vec::new();
            for s in KEYS.iter().filter(|s| s.modes.contains(mode)) {
                for row in s.rows {
                    for &k in row.keys {
                        if let Some((_, other)) = seen.iter().find(|(x, _)| *x == k) {
                            panic!("{} is bound in {other} and {} in {mode:?}", k.label(), s.title);
                        }
                        seen.push((k, s.title));
                    }
                }
            }
        }
    }

    /// Pasted text: control characters, newlines, escape sequences (the end of a bracketed
    /// paste among them) and keys that mean something.
    fn pasted() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            any::<char>().prop_map(String::from),
            Just("\x1b[201~".to_string()),
            Just("\x1b[200~".to_string()),
            Just("\r\n".to_string()),
            Just("\x03".to_string()),
            Just("\x1a".to_string()),
            Just("q".to_string()),
            Just(":".to_string()),
            "[a-zA-Z:=\"' /*-]{0,6}",
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        /// A paste is text for the line being edited, without control characters, and nothing
        /// anywhere else: never a key, never another action.
        #[test]
        fn a_paste_is_only_ever_text(text in pasted(), mode in 0..ALL_MODES.len()) {
            let mode = ALL_MODES[mode];
            let editing = matches!(mode, Mode::Filter | Mode::Prompt);
            let kept: String = text.chars().filter(|c| !c.is_control()).collect();
            match handle_paste(mode, &text) {
                None => proptest::prop_assert!(!editing || kept.is_empty()),
                Some(Action::Paste(t)) => {
                    proptest::prop_assert!(editing);
                    proptest::prop_assert!(!t.chars().any(char::is_control));
                    proptest::prop_assert_eq!(t, kept);
                }
                Some(other) => proptest::prop_assert!(false, "a paste gave {:?}", other),
            }
        }
    }

    /// The dispatch before the table, kept to show that the table gives every key the same
    /// action, apart from the actions that now have one meaning each.
    fn handle_key_before(mode: Mode, key: KeyEvent) -> Option<Action> {
        use Action::*;
        let movement = |code: KeyCode| {
            Some(match code {
                KeyCode::Char('j') | KeyCode::Down => Down,
                KeyCode::Char('k') | KeyCode::Up => Up,
                KeyCode::PageDown | KeyCode::Char(' ') => PageDown,
                KeyCode::PageUp => PageUp,
                KeyCode::Char('g') | KeyCode::Home => Top,
                KeyCode::Char('G') | KeyCode::End => Bottom,
                _ => return None,
            })
        };
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
                KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Char('E') | KeyCode::Enter => {
                    Some(Back)
                }
                code => movement(code),
            },
            Mode::CopyMenu => Some(match key.code {
                KeyCode::Char('y') | KeyCode::Char('j') => Copy(CopyWhat::Json),
                KeyCode::Char('i') => Copy(CopyWhat::EventId),
                KeyCode::Char('a') => Copy(CopyWhat::Arn),
                KeyCode::Char('k') => Copy(CopyWhat::AccessKey),
                KeyCode::Char('t') => Copy(CopyWhat::Time),
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
                KeyCode::Char('+') if mode == Mode::Facets => MoreFacetValues,
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
                KeyCode::Char('O') => ToggleOrder,
                KeyCode::Char('J') => JumpSection,
                KeyCode::Char('y') => CopyMenu,
                KeyCode::Char('o') => OpenPager,
                KeyCode::Char('e') => Export,
                KeyCode::Char('A') => AddWindow,
                KeyCode::Char('m') => SaveFilter,
                KeyCode::Char('\'') => RecallFilter,
                KeyCode::Char(':') => Command,
                _ => return None,
            }),
        }
    }

    /// Every key (printable characters, special keys, with and without modifiers) in every
    /// mode gives the action it gave before the table. The differences are the actions that
    /// had two meanings: Enter in the facets and the saved filters, d in the saved filters,
    /// Enter and Tab in a prompt (and Shift-Tab there, which did nothing); in the popups
    /// (help, errors, copy menu, saved filters), Ctrl with a character no longer acts as the
    /// character (Ctrl-j moved, Ctrl-q closed, Ctrl-d deleted), as in the other modes; and
    /// Ctrl-z, which did nothing, suspends.
    #[test]
    fn the_table_dispatches_every_key_as_before() {
        let mut codes: Vec<KeyCode> = (' '..='~').chain(['é', '東']).map(KeyCode::Char).collect();
        codes.extend([
            KeyCode::Enter,
            KeyCode::Esc,
            KeyCode::Tab,
            KeyCode::BackTab,
            KeyCode::Backspace,
            KeyCode::Delete,
            KeyCode::Insert,
            KeyCode::Left,
            KeyCode::Right,
            KeyCode::Up,
            KeyCode::Down,
            KeyCode::Home,
            KeyCode::End,
            KeyCode::PageUp,
            KeyCode::PageDown,
            KeyCode::F(1),
            KeyCode::F(2),
        ]);
        let mods = [
            KeyModifiers::NONE,
            KeyModifiers::SHIFT,
            KeyModifiers::CONTROL,
            KeyModifiers::ALT,
            KeyModifiers::CONTROL | KeyModifiers::SHIFT,
            KeyModifiers::CONTROL | KeyModifiers::ALT,
        ];
        let mut compared = 0;
        for &mode in ALL_MODES {
            for &code in &codes {
                for m in mods {
                    let key = KeyEvent::new(code, m);
                    let before = handle_key_before(mode, key).map(|a| match (mode, a) {
                        (Mode::Facets, Action::OpenDetail) => Action::IncludeFacet,
                        (Mode::Picker, Action::OpenDetail) => Action::ApplySaved,
                        (Mode::Picker, Action::FilterDelete) => Action::DeleteSaved,
                        (Mode::Prompt, Action::FilterSubmit) => Action::PromptSubmit,
                        (Mode::Prompt, Action::NextPane) => Action::Complete,
                        (_, a) => a,
                    });
                    let before = before.filter(|a| !(mode == Mode::Prompt && *a == Action::PrevPane));
                    let ctrl_char =
                        m.contains(KeyModifiers::CONTROL) && matches!(code, KeyCode::Char(c) if c != 'c' && c != 'l');
                    let popup = matches!(mode, Mode::Popup | Mode::CopyMenu | Mode::Picker);
                    let before = before.filter(|_| !(popup && ctrl_char));
                    let before = if code == KeyCode::Char('z') && m.contains(KeyModifiers::CONTROL) {
                        assert_eq!(before, None);
                        Some(Action::Suspend)
                    } else {
                        before
                    };
                    assert_eq!(handle_key(mode, key), before, "{code:?} {m:?} in {mode:?}");
                    let mut release = key;
                    release.kind = KeyEventKind::Release;
                    assert_eq!(handle_key(mode, release), None);
                    compared += 1;
                }
            }
        }
        assert!(compared > 5000, "{compared}");
    }
}
