//! Pivots: a filter that asks about the selected event (its principal, key, IP, session, ...).

use crate::model::raw::RawReader;
use crate::model::{EventStore, SymField, NO_TIME};
use crate::query::{Field, Op, Term, TermKind};
use crate::tui::action::Action;

/// How long a console session can last: the most a ConsoleLogin's session is looked for after it.
const CONSOLE_SESSION_MS: i64 = 12 * 3_600_000;
/// How far a console session's `creationDate` may be from its ConsoleLogin's `eventTime`.
const CREATION_SLACK_MS: i64 = 120_000;

/// What a pivot from event `ev` looks for, and the filter text that finds it (empty when the
/// event has nothing to pivot on). `raw` reads records back where the summary fields do not
/// say enough (a console session's credentials).
pub(crate) fn pivot_filter(
    store: &EventStore,
    raw: &RawReader,
    ev: u32,
    action: &Action,
) -> Option<(&'static str, String)> {
    let e = *store.events.get(ev as usize)?;
    let sym = |f| store.sym(&e, f).to_string();
    let arn = sym(SymField::Arn);
    let key = sym(SymField::AccessKey);
    Some(match action {
        Action::PivotPrincipal => {
            // An IAM user or the root user is one principal of one account, whatever fields each
            // of its events carries: some (a console sign-in's CheckMfa, a failed ConsoleLogin)
            // have a user name and an account but no ARN. Anything else (a role session, a
            // service, a federated user) is named by its ARN.
            let kind = sym(SymField::IdentityType);
            let account = {
                let own = sym(SymField::IdentityAccount);
                if own.is_empty() {
                    arn.split(':').nth(4).unwrap_or_default().to_string()
                } else {
                    own
                }
            };
            let principal = sym(SymField::Principal);
            let text = if kind == "Root" && !account.is_empty() {
                join(&[exact(Field::Type, kind), exact(Field::Account, account)])
            } else if kind == "IAMUser" && !principal.is_empty() && !account.is_empty() {
                join(&[exact(Field::User, principal), exact(Field::Type, kind), exact(Field::Account, account)])
            } else if arn.is_empty() {
                exact(Field::User, principal)
            } else {
                exact(Field::Arn, arn)
            };
            ("principal", text)
        }
        Action::PivotKey => ("access key", exact(Field::Key, key)),
        Action::PivotIp => ("source IP", exact(Field::Ip, sym(SymField::Ip))),
        Action::PivotSession => {
            // Temporary credentials (ASIA…) identify one session: an assumed role's or a
            // console sign-in's. A ConsoleLogin event carries no key: its session is the
            // events signed with the credentials issued for it (see `console_session`).
            let text = if key.starts_with("ASIA") {
                exact(Field::Key, key)
            } else if store.sym(&e, SymField::Name) == "ConsoleLogin" && !arn.is_empty() && e.time() != NO_TIME {
                console_session(store, raw, ev)
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
        Action::PivotRequest => ("request id", exact(Field::Request, store.request_id(&e, raw))),
        Action::PivotAround => {
            let text = if e.time() == NO_TIME {
                String::new()
            } else {
                format!("{} {}", time_term(true, e.time() - 15 * 60_000), time_term(false, e.time() + 15 * 60_000))
            };
            ("time", text)
        }
        _ => return None,
    })
}

/// The term `field:=value`; empty for an empty value.
fn exact(field: Field, value: String) -> String {
    if value.is_empty() {
        String::new()
    } else {
        Term { negated: false, kind: TermKind::Match { field, op: Op::Exact, value } }.to_string()
    }
}

/// The terms all of `parts` (the non-empty ones) must meet.
fn join(parts: &[String]) -> String {
    parts.iter().filter(|p| !p.is_empty()).cloned().collect::<Vec<_>>().join(" ")
}

/// The filter for the console session a ConsoleLogin (event `login`) opened: its events are
/// signed with temporary keys (ASIA…) issued to the same ARN from the same source IP, marked
/// `sessionCredentialFromConsole`, whose session was created at the sign-in
/// (`sessionContext.attributes.creationDate`). When the loaded events show exactly one such
/// key, the session is that key; with several, the same ARN and IP with temporary keys from
/// the sign-in to the session's last event; with none loaded, the same for the 12 hours a
/// console session can last. Never the user's long-term keys or other IPs.
fn console_session(store: &EventStore, raw: &RawReader, login: u32) -> String {
    let e = store.events[login as usize];
    let arn_id = store.sym_id(&e, SymField::Arn);
    let ip_id = store.sym_id(&e, SymField::Ip);
    let mut keys: Vec<String> = Vec::new();
    let mut last = None;
    for ev in &store.events {
        if ev.time() < e.time()
            || ev.time() > e.time() + CONSOLE_SESSION_MS
            || store.sym_id(ev, SymField::Arn) != arn_id
            || store.sym_id(ev, SymField::Ip) != ip_id
        {
            continue;
        }
        let key = store.sym(ev, SymField::AccessKey);
        if !key.starts_with("ASIA") || !from_console_session_at(store, raw, ev, e.time()) {
            continue;
        }
        if !keys.iter().any(|k| k == key) {
            keys.push(key.to_string());
        }
        last = Some(last.map_or(ev.time(), |l: i64| l.max(ev.time())));
    }
    let arn = store.sym(&e, SymField::Arn).to_string();
    let ip = store.sym(&e, SymField::Ip).to_string();
    if let [key] = keys.as_slice() {
        return exact(Field::Key, key.clone());
    }
    join(&[
        exact(Field::Arn, arn),
        exact(Field::Ip, ip),
        exact(Field::Key, "ASIA*".into()),
        time_term(true, e.time()),
        time_term(false, last.map_or(e.time() + CONSOLE_SESSION_MS, |l| l + 1000)),
    ])
}

/// Whether event `ev` was signed with console credentials created at about `login` (ms).
fn from_console_session_at(store: &EventStore, raw: &RawReader, ev: &crate::model::Event, login: i64) -> bool {
    let Some(file) = store.file_of(ev) else { return false };
    let Ok(bytes) = raw.read(file, ev.loc) else { return false };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else { return false };
    let console = match &v["sessionCredentialFromConsole"] {
        serde_json::Value::String(s) => s == "true",
        serde_json::Value::Bool(b) => *b,
        _ => false,
    };
    let created = v["userIdentity"]["sessionContext"]["attributes"]["creationDate"]
        .as_str()
        .and_then(crate::model::time::parse_event_time);
    console && created.is_some_and(|c| (c - login).abs() <= CREATION_SLACK_MS)
}

/// `since:` or `until:` at an absolute time.
fn time_term(since: bool, ms: i64) -> String {
    Term { negated: false, kind: if since { TermKind::Since(ms) } else { TermKind::Until(ms) } }.to_string()
}
