//! The list's columns, shared by the TUI list, `print --format table` and `csv`.

use super::{time, Event, EventStore, SymField};

/// The list's columns, as `print --format csv` and `table` name them.
pub const HEADERS: [&str; 7] = ["time", "event", "principal", "source_ip", "region", "source", "error"];

/// The unsanitised column values of one event. `short_source` drops `.amazonaws.com`.
pub fn cells<'a>(store: &'a EventStore, ev: &Event, short_source: bool) -> [std::borrow::Cow<'a, str>; 7] {
    use std::borrow::Cow::Borrowed;
    let source = store.sym(ev, SymField::Source);
    let source = if short_source { source.strip_suffix(".amazonaws.com").unwrap_or(source) } else { source };
    [
        time::format_list_time(ev.time).into(),
        Borrowed(store.sym(ev, SymField::Name)),
        Borrowed(store.sym(ev, SymField::Principal)),
        Borrowed(store.sym(ev, SymField::Ip)),
        Borrowed(store.sym(ev, SymField::Region)),
        Borrowed(source),
        Borrowed(store.sym(ev, SymField::Error)),
    ]
}
