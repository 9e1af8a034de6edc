//! The filter language compiled to Athena (Trino) SQL over the documented CloudTrail table.
//!
//! Field terms translate exactly: a field's value is the column with NULL read as the empty
//! string (as trailscope reads a missing field), so negations keep the rows where the field is
//! absent. `user:` is the principal as the README defines it, computed from the record's own
//! columns. Terms that no column can answer exactly (bare words, `text:`, the
//! `requestParameters` half of `resource:`) compile to a superset (`TRUE` when negated) and are
//! checked again on the records fetched.

use crate::model::time::format_rfc3339;
use crate::query::{Field, Op, Query, Term, TermKind};

/// How the delivery of a log file can lag its events: the `timestamp` partitions read are
/// widened by this on both sides.
pub const DELIVERY_LAG_MS: i64 = 3_600_000;

/// What to ask of the table.
#[derive(Clone, Debug, Default)]
pub struct SqlOptions {
    /// The table, as the DDL names it.
    pub table: String,
    /// Its database (`None`: the workgroup's default).
    pub database: Option<String>,
    /// The table is an organisation trail's, partitioned by account and region too.
    pub org: bool,
    /// Ask for the files that hold matches (`"$path"`), not the rows.
    pub paths: bool,
}

/// A compiled query: the SQL, and whether every term was translated exactly (else the rows
/// are a superset, to be checked again locally).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiled {
    /// One SELECT statement.
    pub sql: String,
    /// Every term has an exact translation.
    pub exact: bool,
}

/// The columns of the row query, `eventid` first: what a record's projection is made of
/// (every string column the documented table has for the fields the filter language reads,
/// and the ARNs of `resources` joined by spaces), so that terms checked again locally see the
/// same values Athena saw.
pub const ROW_COLUMNS: &str = "eventid, eventtime, eventversion, eventsource, eventname, awsregion, sourceipaddress, \
     useragent, errorcode, errormessage, useridentity.type AS identitytype, useridentity.principalid AS principalid, \
     useridentity.arn AS arn, useridentity.accountid AS identityaccountid, useridentity.accesskeyid AS accesskeyid, \
     useridentity.username AS username, useridentity.invokedby AS invokedby, recipientaccountid, requestid, readonly, \
     eventtype, eventcategory, requestparameters, responseelements, additionaleventdata, \
     array_join(transform(coalesce(resources, ARRAY[]), r -> coalesce(r.arn, '')), ' ') AS resourcearns, \
     \"$path\" AS path";

/// `'text'` with its quotes doubled.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A double-quoted identifier (`"my-table"`), for names that are not plain words.
pub fn ident(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// The value of a field as trailscope reads it: NULL is the empty string.
fn col(c: &str) -> String {
    format!("coalesce({c}, '')")
}

/// The principal, as `user:` defines it (README, the filter language).
fn principal() -> String {
    // The ARN's resource (after its fifth ':'), without the first of these prefixes that has
    // something after it.
    let res = "regexp_replace(useridentity.arn, '^arn:[^:]*:[^:]*:[^:]*:[^:]*:', '')";
    let mut last = String::from("(CASE");
    for p in ["user/", "assumed-role/", "role/", "federated-user/", "group/"] {
        last.push_str(&format!(" WHEN {res} LIKE '{p}_%' THEN substr({res}, {})", p.len() + 1));
    }
    last.push_str(&format!(" ELSE {res} END)"));
    format!(
        "(CASE WHEN useridentity.type = 'Root' THEN 'root' \
         WHEN coalesce(useridentity.username, '') <> '' THEN useridentity.username \
         WHEN coalesce(useridentity.arn, '') <> '' THEN (CASE WHEN useridentity.arn LIKE 'arn:%:%:%:%:%' \
         THEN {last} ELSE useridentity.arn END) \
         WHEN coalesce(useridentity.invokedby, '') <> '' THEN useridentity.invokedby \
         WHEN coalesce(useridentity.sessioncontext.sessionissuer.username, '') <> '' \
         THEN useridentity.sessioncontext.sessionissuer.username \
         WHEN coalesce(useridentity.principalid, '') <> '' THEN useridentity.principalid \
         ELSE coalesce(useridentity.accountid, '') END)"
    )
}

/// The columns (as values) a field's term compares: any of them matching is enough.
fn columns(f: Field) -> Vec<String> {
    match f {
        Field::Name => vec![col("eventname")],
        Field::Source => vec![col("eventsource")],
        Field::User => vec![principal(), col("useridentity.arn")],
        Field::Arn => vec![col("useridentity.arn")],
        Field::Type => vec![col("useridentity.type")],
        Field::Key => vec![col("useridentity.accesskeyid")],
        Field::Ip => vec![col("sourceipaddress")],
        Field::Region => vec![col("awsregion")],
        Field::Account => vec![col("recipientaccountid"), col("useridentity.accountid")],
        Field::Error => vec![col("errorcode")],
        Field::Agent => vec![col("useragent")],
        Field::Id => vec![col("eventid")],
        Field::Request => vec![col("requestid")],
        Field::Category => vec![col("eventcategory")],
        Field::Resource | Field::ReadOnly | Field::Text | Field::Verified | Field::Rule | Field::Level => Vec::new(),
    }
}

/// `LIKE` text for a literal piece (escaping `%`, `_` and the escape character `\`).
fn like_piece(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A value compared with a term's pattern, as trailscope's matcher does.
fn pattern(value: &str, op: Op, v: &str) -> String {
    let glob = v.contains('*');
    match (op, glob) {
        (Op::Contains, false) if v.is_empty() => "TRUE".to_string(),
        (Op::Contains, false) => format!("strpos(lower({value}), {}) > 0", quote(&v.to_lowercase())),
        (Op::Exact, false) => format!("{value} = {}", quote(v)),
        (Op::Contains, true) => {
            let like: Vec<String> = v.to_lowercase().split('*').map(like_piece).collect();
            format!("lower({value}) LIKE {} ESCAPE '\\'", quote(&like.join("%")))
        }
        (Op::Exact, true) => {
            let like: Vec<String> = v.split('*').map(like_piece).collect();
            format!("{value} LIKE {} ESCAPE '\\'", quote(&like.join("%")))
        }
    }
}

/// A term's condition, and whether it is exact (else a superset of the rows it keeps).
fn condition(t: &Term) -> (String, bool) {
    match &t.kind {
        TermKind::Match { field: Field::Resource, op, value } => {
            // Any resources[].ARN exactly; any string in requestParameters: its JSON text
            // contains the value (a superset).
            let arns = format!("cardinality(filter(resources, r -> {})) > 0", pattern("coalesce(r.arn, '')", *op, value));
            // The longest literal piece, looked for in the JSON text: only where JSON writes it
            // as it is (printable ASCII without `"` and `\`), else no condition there.
            let piece = value.split('*').max_by_key(|s| s.len()).unwrap_or("");
            let plain = piece.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
            let params = match op {
                _ if !plain => "TRUE".to_string(),
                Op::Exact => format!("strpos(coalesce(requestparameters, ''), {}) > 0", quote(piece)),
                Op::Contains => {
                    format!("strpos(lower(coalesce(requestparameters, '')), {}) > 0", quote(&piece.to_lowercase()))
                }
            };
            (format!("({arns} OR {params})"), false)
        }
        TermKind::Match { field: Field::ReadOnly, value, .. } => {
            let v = if value.eq_ignore_ascii_case("true") { "true" } else { "false" };
            (format!("lower(coalesce(readonly, '')) = '{v}'"), true)
        }
        TermKind::Match { field: Field::Text, .. } | TermKind::Bare(_) => ("TRUE".to_string(), false),
        // Verification and detections are trailscope's own, decided on the records fetched.
        TermKind::Match { field: Field::Verified | Field::Rule | Field::Level, .. }
        | TermKind::Has(Field::Verified | Field::Rule | Field::Level) => ("TRUE".to_string(), false),
        TermKind::Match { field, op, value } => {
            let parts: Vec<String> = columns(*field).iter().map(|c| pattern(c, *op, value)).collect();
            (format!("({})", parts.join(" OR ")), true)
        }
        TermKind::Has(Field::Text) => ("TRUE".to_string(), true),
        TermKind::Has(Field::ReadOnly) => ("coalesce(readonly, '') <> ''".to_string(), true),
        TermKind::Has(Field::Resource) => (
            "(cardinality(coalesce(resources, ARRAY[])) > 0 OR coalesce(requestparameters, '') NOT IN ('', 'null', '{}'))"
                .to_string(),
            false,
        ),
        TermKind::Has(f) => {
            let parts: Vec<String> = columns(*f).iter().map(|c| format!("{c} <> ''")).collect();
            (format!("({})", parts.join(" OR ")), true)
        }
        TermKind::Since(ms) => (format!("coalesce(eventtime, '') >= {}", quote(&format_rfc3339(ceil_second(*ms)))), true),
        TermKind::Until(ms) => {
            (format!("(coalesce(eventtime, '') <> '' AND eventtime <= {})", quote(&format_rfc3339(*ms))), true)
        }
    }
}

/// `ms` rounded up to a whole second (event times are whole seconds).
fn ceil_second(ms: i64) -> i64 {
    ms.div_euclid(1000) * 1000 + if ms.rem_euclid(1000) > 0 { 1000 } else { 0 }
}

/// The `timestamp` partitions (`yyyy/MM/dd`) a window needs, widened by [`DELIVERY_LAG_MS`].
fn partitions(since: Option<i64>, until: Option<i64>) -> Vec<String> {
    let day = |ms: i64| format_rfc3339(ms).get(..10).unwrap_or("").replace('-', "/");
    let mut out = Vec::new();
    if let Some(s) = since {
        out.push(format!("\"timestamp\" >= {}", quote(&day(s - DELIVERY_LAG_MS))));
    }
    if let Some(u) = until {
        out.push(format!("\"timestamp\" <= {}", quote(&day(u + DELIVERY_LAG_MS))));
    }
    out
}

/// The SQL for `q` over the table `opts` names.
pub fn compile(q: &Query, opts: &SqlOptions) -> Compiled {
    let mut conds = Vec::new();
    let mut exact = true;
    let (mut since, mut until): (Option<i64>, Option<i64>) = (None, None);
    let mut regions = Vec::new();
    for t in &q.terms {
        match t.kind {
            TermKind::Since(ms) => since = Some(since.map_or(ms, |s| s.max(ms))),
            TermKind::Until(ms) => until = Some(until.map_or(ms, |u| u.min(ms))),
            TermKind::Match { field: Field::Region, op: Op::Exact, ref value }
                if !t.negated && !value.contains('*') =>
            {
                regions.push(value.clone())
            }
            _ => {}
        }
        let (c, is_exact) = condition(t);
        exact &= is_exact;
        if t.negated {
            // A superset negated would drop rows that match: only an exact term can be negated.
            if is_exact {
                conds.push(format!("NOT {c}"));
            }
        } else if c != "TRUE" {
            conds.push(c);
        }
    }
    let mut prune = partitions(since, until);
    if opts.org {
        for r in &regions {
            prune.push(format!("\"region\" = {}", quote(r)));
        }
    }
    let table = match &opts.database {
        Some(db) => format!("{}.{}", ident(db), ident(&opts.table)),
        None => ident(&opts.table),
    };
    let wheres: Vec<String> = prune.into_iter().chain(conds).collect();
    let where_sql = if wheres.is_empty() { String::new() } else { format!("\nWHERE {}", wheres.join("\n  AND ")) };
    let sql = if opts.paths {
        format!("SELECT DISTINCT \"$path\"\nFROM {table}{where_sql}")
    } else {
        format!("SELECT {ROW_COLUMNS}\nFROM {table}{where_sql}\nORDER BY eventtime DESC")
    };
    Compiled { sql, exact }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(filter: &str) -> Compiled {
        let q = crate::query::parse(filter, 1_764_000_000_000).unwrap();
        compile(&q, &SqlOptions { table: "cloudtrail_logs".into(), ..Default::default() })
    }

    #[test]
    fn terms_compile_to_conditions() {
        let c = sql("name:=DeleteBucket -error:AccessDenied");
        assert!(c.exact);
        assert!(c.sql.contains("coalesce(eventname, '') = 'DeleteBucket'"), "{}", c.sql);
        assert!(c.sql.contains("NOT (strpos(lower(coalesce(errorcode, '')), 'accessdenied') > 0)"), "{}", c.sql);
        let c = sql("agent:\"it's\" name:Get*Obj%ect");
        assert!(c.sql.contains("'it''s'"), "{}", c.sql);
        assert!(c.sql.contains("LIKE 'get%obj\\%ect' ESCAPE '\\'"), "{}", c.sql);
        let c = sql("dsg -text:x");
        assert!(!c.exact);
        assert!(!c.sql.contains("WHERE"), "a superset has no condition: {}", c.sql);
        let c = sql("since:2026-11-21T23:30:00Z until:2026-11-22T00:10:00Z");
        assert!(
            c.sql.contains("\"timestamp\" >= '2026/11/21'") && c.sql.contains("\"timestamp\" <= '2026/11/22'"),
            "{}",
            c.sql
        );
    }
}
