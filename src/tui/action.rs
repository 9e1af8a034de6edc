//! Every user intent. The doc comment of each variant is its line on the help screen.

macro_rules! actions {
    (@unit $name:ident) => { Some(Action::$name) };
    (@unit $name:ident ( $($ty:ty),* )) => { None };
    ($( $(#[doc = $doc:literal])+ $name:ident $( ( $($ty:ty),* ) )?, )*) => {
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum Action {
            $( $(#[doc = $doc])+ $name $( ( $($ty),* ) )?, )*
        }

        impl Action {
            /// The help text of an action, from its doc comment.
            pub fn doc(&self) -> &'static str {
                #[allow(unused_variables)]
                match self {
                    $( Action::$name { .. } => concat!($($doc),+).trim_ascii(), )*
                }
            }

            /// The action's name, as a configuration file binds it.
            pub fn name(&self) -> &'static str {
                #[allow(unreachable_patterns)]
                match self {
                    Action::Copy(CopyWhat::Json) => "CopyJson",
                    Action::Copy(CopyWhat::EventId) => "CopyEventId",
                    Action::Copy(CopyWhat::Arn) => "CopyArn",
                    Action::Copy(CopyWhat::AccessKey) => "CopyAccessKey",
                    Action::Copy(CopyWhat::Time) => "CopyTime",
                    $( Action::$name { .. } => stringify!($name), )*
                }
            }

            /// Every action that a key can be bound to, by name.
            pub fn bindable() -> Vec<(&'static str, Action)> {
                let mut all: Vec<(&'static str, Action)> = Vec::new();
                $( if let Some(a) = actions!(@unit $name $( ( $($ty),* ) )?) { all.push((stringify!($name), a)); } )*
                for w in [CopyWhat::Json, CopyWhat::EventId, CopyWhat::Arn, CopyWhat::AccessKey, CopyWhat::Time] {
                    let a = Action::Copy(w);
                    all.push((a.name(), a));
                }
                all
            }

            /// The action a configuration file names (case-insensitive).
            pub fn from_name(name: &str) -> Option<Action> {
                Action::bindable().into_iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, a)| a)
            }
        }
    };
}

/// The panes that can have the focus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Filter,
    List,
    Detail,
    Facets,
}

/// What to copy from the selected event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyWhat {
    Json,
    EventId,
    Arn,
    AccessKey,
    /// The event's time, as `since:`/`until:` take it.
    Time,
}

/// What the pointer did and where, in the state's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pointer {
    /// The wheel turned over a pane; `None`: elsewhere (while a popup is open, anywhere).
    Scroll { over: Option<Focus>, down: bool },
    /// A click on a pane, with the row under it: the list's view index, or the facets' row.
    Click { on: Focus, row: Option<usize> },
}

actions! {
    /// Quit trailscope
    Quit,
    /// Suspend trailscope (the shell's fg resumes it)
    Suspend,
    /// Move the selection down one event (or scroll the detail view)
    Down,
    /// Move the selection up one event (or scroll the detail view)
    Up,
    /// Move down one page (in the facets: to the next field)
    PageDown,
    /// Move up one page (in the facets: to the previous field)
    PageUp,
    /// Move down half a page
    HalfPageDown,
    /// Move up half a page
    HalfPageUp,
    /// Go to the newest event (top of the detail view)
    Top,
    /// Go to the oldest event (bottom of the detail view)
    Bottom,
    /// Focus the next pane: filter, list, detail
    NextPane,
    /// Focus the previous pane
    PrevPane,
    /// Edit the filter
    FocusFilter,
    /// Show the selected event in the detail pane and focus it
    OpenDetail,
    /// Back out: close a popup, leave the detail view, give up an edit of the filter, stop a live fetch, or clear the filter
    Back,
    /// Show this help
    Help,
    /// List the inputs that failed or were read only in part
    Errors,
    /// Apply the filter and return to the list
    FilterSubmit,
    /// Type a character (into the filter or a prompt)
    FilterInsert(char),
    /// Pasted text, into the filter or a prompt (newlines and control characters left out)
    Paste(String),
    /// Delete the character before the cursor
    FilterBackspace,
    /// Delete the character under the cursor
    FilterDelete,
    /// Move the cursor left
    FilterLeft,
    /// Move the cursor right
    FilterRight,
    /// Move the cursor to the start of the filter
    FilterHome,
    /// Move the cursor to the end of the filter
    FilterEnd,
    /// Delete the word before the cursor
    FilterDeleteWord,
    /// Clear the line (the filter or a prompt)
    FilterClear,
    /// Redraw the screen
    Redraw,
    /// The mouse: the wheel scrolls what is under it, a click focuses a pane and selects a row
    Mouse(Pointer),
    /// Live history: fetch again, up to now (also after an error); log groups: read again;
    /// Athena: ask again with the filter in the pane
    Refresh,
    /// Pivot: the same principal (an IAM user by name and account, so its events without an ARN too)
    PivotPrincipal,
    /// Pivot: events signed with the same access key
    PivotKey,
    /// Pivot: events from the same source IP
    PivotIp,
    /// Pivot: the same session (a temporary key; from a ConsoleLogin, its console credentials)
    PivotSession,
    /// Pivot: events on the same resource (the first in resources[])
    PivotResource,
    /// Pivot: events with the same request id
    PivotRequest,
    /// Pivot: every event within 15 minutes of this one, any principal
    PivotAround,
    /// Add a time window around this event to the filter (asks: 15m either side, -1h, +30m)
    AddWindow,
    /// Go back to the previous filter
    HistoryBack,
    /// Go forward to the next filter
    HistoryForward,
    /// Show or hide the facets: top values of the filtered events
    ToggleFacets,
    /// Filter on the selected value
    IncludeFacet,
    /// Filter out the selected value
    ExcludeFacet,
    /// Show all the selected field's values (up to 40), or the first 8 again
    MoreFacetValues,
    /// Show or hide the timeline of the filtered events
    ToggleTimeline,
    /// Show times in local time or UTC
    ToggleTimeZone,
    /// Detail: jump to requestParameters, responseElements, errorCode (again: the next one)
    JumpSection,
    /// Show the oldest event first (to read an attack forward), or the newest first again
    ToggleOrder,
    /// Copy from the selected event: its JSON, eventID, principal ARN, access key or time (OSC 52)
    CopyMenu,
    /// Copy one thing from the selected event
    Copy(CopyWhat),
    /// Open the selected event's record in $PAGER
    OpenPager,
    /// Export the filtered events to a file (.jsonl, .json or .csv)
    Export,
    /// Save the filter in force under a name
    SaveFilter,
    /// Recall a saved filter
    RecallFilter,
    /// Saved filters: apply the one selected
    ApplySaved,
    /// Saved filters: delete the one selected
    DeleteSaved,
    /// Enter a command (:region, :since, :export, :profile, …; Tab completes)
    Command,
    /// Command line: complete the command or its argument
    Complete,
    /// Prompt: run the command, write the export, or save the filter under the name
    PromptSubmit,
}
