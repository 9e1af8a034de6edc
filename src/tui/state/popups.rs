//! What is open over the panes: the help, the errors, the copy menu, the saved filters, and
//! the prompts that ask for a line of text.

use super::edit::{edit_line, insert_text, is_line_edit};
use crate::tui::action::{Action, CopyWhat};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Popup {
    Help,
    Errors,
    /// What to copy from the selected event.
    Copy,
    /// The saved filters, to recall one.
    Saved,
}

/// A line of text the user is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    /// A file to export the filtered events to.
    Export,
    /// A name to save the filter under.
    SaveFilter,
    /// A `:` command.
    Command,
    /// A time window around the selected event, added to the filter.
    Window,
}

#[derive(Debug)]
pub struct Prompt {
    pub(crate) kind: PromptKind,
    pub(crate) input: String,
    pub(crate) cursor: usize,
    /// Tab is cycling: the line as typed before the first Tab, and which of its completions
    /// the line now shows.
    pub(crate) cycle: Option<(String, usize)>,
}

impl Prompt {
    pub fn kind(&self) -> PromptKind {
        self.kind
    }
    pub fn input(&self) -> &str {
        &self.input
    }
    /// While Tab cycles: the completions it cycles through, and which one the line shows.
    pub fn cycling(&self, saved: &[String]) -> Option<(Vec<String>, usize)> {
        let (typed, i) = self.cycle.as_ref()?;
        let options = crate::tui::command::complete(typed, saved);
        (options.get(*i) == Some(&self.input)).then_some((options, *i))
    }
}

/// What a popup or prompt asks of the rest of the state.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Handled inside.
    Done,
    Copy(CopyWhat),
    /// Apply this saved filter.
    Recall(String),
    /// The saved filter of this name was deleted: store the list.
    Deleted(String),
    /// The prompt was answered with this (trimmed, not empty) text.
    Submit(PromptKind, String),
    /// The command line wants completing.
    Complete,
}

#[derive(Debug, Default)]
pub struct Popups {
    pub(crate) open: Option<Popup>,
    /// How far the help or errors popup is scrolled.
    pub(crate) scroll: usize,
    pub(crate) prompt: Option<Prompt>,
    /// The saved filters: (name, filter).
    pub(crate) saved: Vec<(String, String)>,
    pub(crate) saved_sel: usize,
}

impl Popups {
    pub(crate) fn open(&mut self, p: Popup) {
        self.open = Some(p);
        self.scroll = 0;
    }

    pub(crate) fn open_prompt(&mut self, kind: PromptKind, initial: String) {
        self.prompt = Some(Prompt { kind, cursor: initial.len(), input: initial, cycle: None });
    }

    /// An action while a popup is open.
    pub(crate) fn update_popup(&mut self, p: Popup, action: Action) -> Outcome {
        use Action::*;
        match (p, action) {
            (Popup::Copy, Copy(what)) => {
                self.open = None;
                return Outcome::Copy(what);
            }
            (Popup::Saved, Down) => self.saved_sel = (self.saved_sel + 1).min(self.saved.len().saturating_sub(1)),
            (Popup::Saved, Up) => self.saved_sel = self.saved_sel.saturating_sub(1),
            (Popup::Saved, ApplySaved) => {
                self.open = None;
                if let Some((_, f)) = self.saved.get(self.saved_sel) {
                    return Outcome::Recall(f.clone());
                }
            }
            (Popup::Saved, DeleteSaved) if self.saved_sel < self.saved.len() => {
                let (name, _) = self.saved.remove(self.saved_sel);
                self.saved_sel = self.saved_sel.min(self.saved.len().saturating_sub(1));
                if self.saved.is_empty() {
                    self.open = None;
                }
                return Outcome::Deleted(name);
            }
            (_, Back | Help | Errors) => self.open = None,
            (Popup::Help | Popup::Errors, a) => self.scroll_by(&a),
            _ => {}
        }
        Outcome::Done
    }

    /// Scrolls the help or errors popup.
    pub(crate) fn scroll_by(&mut self, action: &Action) {
        self.scroll = match action {
            Action::Down => self.scroll + 1,
            Action::Up => self.scroll.saturating_sub(1),
            Action::PageDown => self.scroll + 10,
            Action::PageUp => self.scroll.saturating_sub(10),
            Action::Top => 0,
            Action::Bottom => usize::MAX / 2,
            _ => self.scroll,
        };
    }

    /// An action while a prompt is open: line editing as in the filter.
    pub(crate) fn update_prompt(&mut self, action: Action) -> Outcome {
        let Some(p) = self.prompt.as_mut() else { return Outcome::Done };
        match action {
            Action::Back => self.prompt = None,
            Action::Paste(text) => {
                insert_text(&mut p.input, &mut p.cursor, &text);
            }
            Action::FilterClear => {
                p.input.clear();
                p.cursor = 0;
            }
            a if is_line_edit(&a) => {
                edit_line(&mut p.input, &mut p.cursor, &a);
            }
            Action::Complete if p.kind == PromptKind::Command => return Outcome::Complete,
            Action::PromptSubmit => {
                let Some(p) = self.prompt.take() else { return Outcome::Done };
                let text = p.input.trim().to_string();
                if !text.is_empty() {
                    return Outcome::Submit(p.kind, text);
                }
            }
            _ => {}
        }
        Outcome::Done
    }

    /// Completes the command line with its first completion; Tab again (the line unchanged)
    /// shows the next one, after the last the first again.
    pub(crate) fn complete(&mut self) {
        let saved: Vec<String> = self.saved.iter().map(|(n, _)| n.clone()).collect();
        let Some(p) = self.prompt.as_mut() else { return };
        let (typed, next) = match (p.cycling(&saved), &p.cycle) {
            (Some((_, i)), Some((typed, _))) => (typed.clone(), i + 1),
            _ => (p.input.clone(), 0),
        };
        let options = crate::tui::command::complete(&typed, &saved);
        if options.is_empty() {
            p.cycle = None;
            return;
        }
        let i = next % options.len();
        p.input = options[i].clone();
        p.cursor = p.input.len();
        p.cycle = (options.len() > 1).then_some((typed, i));
    }

    /// Saves `filter` under `name` (replacing a filter of that name).
    pub(crate) fn save(&mut self, name: String, filter: String) {
        match self.saved.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = filter,
            None => self.saved.push((name, filter)),
        }
    }

    /// The popup open, if any.
    pub fn popup(&self) -> Option<Popup> {
        self.open
    }

    /// How far the help or errors popup is scrolled.
    pub fn scroll(&self) -> usize {
        self.scroll
    }

    /// The prompt open, if any.
    pub fn prompt(&self) -> Option<&Prompt> {
        self.prompt.as_ref()
    }

    /// The saved filters: (name, filter).
    pub fn saved(&self) -> &[(String, String)] {
        &self.saved
    }
}
