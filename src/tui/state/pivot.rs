//! Pivots: a filter that asks about the selected event (its principal, key, IP, session, ...).

use crate::model::{EventStore, SymField, NO_TIME};
use crate::query::{Field, Op, Term, TermKind};
use crate::tui::action::Action;

/// What a pivot from event `ev` looks for, and the filter text that finds it (empty when the
/// event has nothing to pivot on).
pub(crate) fn pivot_filter(store: &EventStore, ev: u32, action: &Action) -> Option<(&'static str, String)> {
    let e = *store.events.get(ev as usize)?;
    let sym = |f| store.sym(&e, f).to_string();
    let exact = |field, value: String| {
        if value.is_empty() {
            String::new()
        } else {
            Term { negated: false, kind: TermKind::Match { field, op: Op::Exact, value } }.to_string()
        }
    };
    let arn = sym(SymField::Arn);
    let key = sym(SymField::AccessKey);
    Some(match action {
        Action::PivotPrincipal => {
            let text =
                if arn.is_empty() { exact(Field::User, sym(SymField::Principal)) } else { exact(Field::Arn, arn) };
            ("principal", text)
        }
        Action::PivotKey => ("access key", exact(Field::Key, key)),
        Action::PivotIp => ("source IP", exact(Field::Ip, sym(SymField::Ip))),
        Action::PivotSession => {
            // Temporary credentials (ASIA…) identify one session: an assumed role's or a
            // console sign-in's. A ConsoleLogin event carries no key: its session is the
            // same ARN for the 12 hours a console session can last.
            let text = if key.starts_with("ASIA") {
                exact(Field::Key, key)
            } else if store.sym(&e, SymField::Name) == "ConsoleLogin" && !arn.is_empty() && e.time != NO_TIME {
                format!(
                    "{} {} {}",
                    exact(Field::Arn, arn),
                    time_term(true, e.time),
                    time_term(false, e.time + 12 * 3_600_000)
                )
            } else if arn.contains(":assumed-role/") {
                exact(Field::Arn, arn)
            } else {
                String::new()
            };
            ("session", text)
        }
        Action::PivotResource => {
            let r = store.resource_syms(&e).first().map(|&s| store.syms.get(s).to_string()).unwrap_or_default();
            ("resource", exact(Field::Resource, r))
        }
        Action::PivotRequest => ("request id", exact(Field::Request, store.request_id(&e).to_string())),
        Action::PivotAround => {
            let text = if e.time == NO_TIME {
                String::new()
            } else {
                format!("{} {}", time_term(true, e.time - 15 * 60_000), time_term(false, e.time + 15 * 60_000))
            };
            ("time", text)
        }
        _ => return None,
    })
}

/// `since:` or `until:` at an absolute time.
fn time_term(since: bool, ms: i64) -> String {
    Term { negated: false, kind: if since { TermKind::Since(ms) } else { TermKind::Until(ms) } }.to_string()
}
