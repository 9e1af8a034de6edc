//! Every user intent. The doc comment of each variant is its line on the help screen.

macro_rules! actions {
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
        }
    };
}

actions! {
    /// Quit trailscope
    Quit,
    /// Move the selection down one event (or scroll the detail view)
    Down,
    /// Move the selection up one event (or scroll the detail view)
    Up,
    /// Move down one page
    PageDown,
    /// Move up one page
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
    /// Back out: close a popup, leave the detail view, stop a live fetch, or clear the filter
    Back,
    /// Show this help
    Help,
    /// List the inputs that failed or were read only in part
    Errors,
    /// Apply the filter and return to the list
    FilterSubmit,
    /// Type a character into the filter
    FilterInsert(char),
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
    /// Clear the filter line
    FilterClear,
    /// Redraw the screen
    Redraw,
    /// Live history: fetch again, up to now (also after an error)
    Refresh,
}
