//! The list's columns, shared by the TUI list, `print --format table` and `csv`.

use super::{time, Event, EventStore, SymField};
use std::borrow::Cow;

/// Every column, as `print --format csv` and the `columns` setting name them. The first
/// [`LIST`] are the list's and `print --format table`'s; the others (the account, the
/// identity's type, the access key, the principal's ARN, the eventID) are there for CSV rows to
/// join back to the records, and for the list where configured.
pub const HEADERS: [&str; 12] = [
    "time",
    "event",
    "principal",
    "source_ip",
    "region",
    "source",
    "error",
    "account",
    "identity",
    "access_key",
    "arn",
    "event_id",
];
/// How many of [`HEADERS`] the list and the table show by default.
pub const LIST: usize = 7;

/// The index of the eventID among [`HEADERS`].
pub const EVENT_ID: usize = 11;

/// The unsanitised column values of one event. `short_source` drops `.amazonaws.com`. The
/// eventID's cell ([`EVENT_ID`]) is empty: events keep a hash of it, and whoever shows it
/// reads it from the record ([`EventStore::event_id`]), only where it is shown.
pub fn cells<'a>(store: &'a EventStore, ev: &Event, short_source: bool) -> [Cow<'a, str>; 12] {
    use std::borrow::Cow::Borrowed;
    let [t, name, principal, ip, region, source, error] = list_cells(store, ev, short_source);
    [
        t,
        name,
        principal,
        ip,
        region,
        source,
        error,
        Borrowed(account(store, ev)),
        Borrowed(store.sym(ev, SymField::IdentityType)),
        Borrowed(store.sym(ev, SymField::AccessKey)),
        Borrowed(store.sym(ev, SymField::Arn)),
        Cow::Borrowed(""),
    ]
}

/// The unsanitised values of the first [`LIST`] columns (what the list and the table show).
pub fn list_cells<'a>(store: &'a EventStore, ev: &Event, short_source: bool) -> [Cow<'a, str>; LIST] {
    use std::borrow::Cow::Borrowed;
    let source = store.sym(ev, SymField::Source);
    let source = if short_source { source.strip_suffix(".amazonaws.com").unwrap_or(source) } else { source };
    [
        time::format_list_time(ev.time()).into(),
        Borrowed(store.sym(ev, SymField::Name)),
        principal_display(
            store.sym(ev, SymField::IdentityType),
            store.sym(ev, SymField::Principal),
            store.sym(ev, SymField::IdentityAccount),
        ),
        Borrowed(store.sym(ev, SymField::Ip)),
        Borrowed(store.sym(ev, SymField::Region)),
        Borrowed(source),
        Borrowed(store.sym(ev, SymField::Error)),
    ]
}

/// The account an event is in: recipientAccountId, else the caller's account.
pub fn account<'a>(store: &'a EventStore, ev: &Event) -> &'a str {
    let own = store.sym(ev, SymField::Account);
    if own.is_empty() {
        store.sym(ev, SymField::IdentityAccount)
    } else {
        own
    }
}

/// Who acted, in the form an operator reads, from the identity's type and the principal the
/// record names (see [`RecordFields::principal`](super::record::RecordFields::principal)):
/// `root`; an IAM user's name; `sso:PermissionSet/alice@example.com` for an IAM Identity
/// Center session; `role:deploy-ci/session` for any other role session;
/// `federated:bob`; `⚙ lambda` for an AWS service; `◌ anonymous` for an unauthenticated
/// caller; `account:123456789012` for another account (`account`, the identity's). What
/// `user:` matches does not depend on this: it is defined on the record's own fields.
pub fn principal_display<'a>(kind: &str, principal: &'a str, account: &str) -> Cow<'a, str> {
    match kind {
        "Root" => Cow::Borrowed("root"),
        "AssumedRole" if !principal.is_empty() => match principal.split_once('/') {
            Some((role, session)) => match role.strip_prefix("AWSReservedSSO_") {
                // AWSReservedSSO_<permission set>_<hex id>
                Some(rest) => {
                    let set = match rest.rsplit_once('_') {
                        Some((set, id))
                            if !set.is_empty() && id.len() >= 8 && id.bytes().all(|b| b.is_ascii_hexdigit()) =>
                        {
                            set
                        }
                        _ => rest,
                    };
                    Cow::Owned(format!("sso:{set}/{session}"))
                }
                None => Cow::Owned(format!("role:{role}/{session}")),
            },
            None => Cow::Owned(format!("role:{principal}")),
        },
        "AWSService" if !principal.is_empty() => {
            Cow::Owned(format!("⚙ {}", principal.strip_suffix(".amazonaws.com").unwrap_or(principal)))
        }
        "FederatedUser" if !principal.is_empty() => Cow::Owned(format!("federated:{principal}")),
        "AWSAccount" | "Unknown" if principal.is_empty() || principal.eq_ignore_ascii_case("anonymous") => {
            Cow::Borrowed("◌ anonymous")
        }
        "AWSAccount" if principal == "ANONYMOUS_PRINCIPAL" => Cow::Borrowed("◌ anonymous"),
        "AWSAccount" if !account.is_empty() => Cow::Owned(format!("account:{account}")),
        "AWSAccount" => Cow::Owned(format!("account:{principal}")),
        _ => Cow::Borrowed(principal),
    }
}

#[cfg(test)]
mod tests {
    fn d<'a>(kind: &str, principal: &'a str) -> std::borrow::Cow<'a, str> {
        super::principal_display(kind, principal, "")
    }

    #[test]
    fn principals_read_as_who_acted() {
        assert_eq!(d("Root", "root"), "root");
        assert_eq!(d("IAMUser", "alice"), "alice");
        assert_eq!(
            d("AssumedRole", "AWSReservedSSO_ReadOnlyAccess_0b7e1c2d3e4f5a6b/alice@example.com"),
            "sso:ReadOnlyAccess/alice@example.com"
        );
        assert_eq!(d("AssumedRole", "AWSReservedSSO_Admin_Access_0123456789abcdef/bob"), "sso:Admin_Access/bob");
        assert_eq!(d("AssumedRole", "deploy-ci/i-0abc"), "role:deploy-ci/i-0abc");
        assert_eq!(d("AWSService", "lambda.amazonaws.com"), "⚙ lambda");
        assert_eq!(d("FederatedUser", "bob"), "federated:bob");
        assert_eq!(d("AWSAccount", "ANONYMOUS_PRINCIPAL"), "◌ anonymous");
        assert_eq!(d("AWSAccount", ""), "◌ anonymous");
        assert_eq!(d("AWSAccount", "AIDAEXAMPLE:x"), "account:AIDAEXAMPLE:x");
        assert_eq!(super::principal_display("AWSAccount", "AIDAEXAMPLE", "578302110721"), "account:578302110721");
        assert_eq!(d("", "something"), "something");
    }
}
