//! Athena for archives that outgrow one machine: the `CREATE EXTERNAL TABLE` for a trail's
//! archive ([`ddl`]) and the filter language compiled to SQL over it ([`sql`]), printed by
//! `trailscope athena ddl` and `trailscope athena sql` without any AWS call.

pub mod ddl;
pub mod sql;

use std::io::Write;

/// `trailscope athena sql`: prints the SQL of a filter and a window; the exit status.
pub fn print_sql(
    filter: &str,
    since: Option<i64>,
    until: Option<i64>,
    opts: &sql::SqlOptions,
    now_ms: i64,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let mut q = match crate::query::parse(filter, now_ms) {
        Ok(q) => q,
        Err(e) => {
            let _ = writeln!(err, "trailscope: bad filter: {}", crate::sanitize::sanitize(&e.message));
            return crate::print::exit::USAGE;
        }
    };
    let mut window = Vec::new();
    if let Some(ms) = since {
        window.push(crate::query::Term { negated: false, kind: crate::query::TermKind::Since(ms) });
    }
    if let Some(ms) = until {
        window.push(crate::query::Term { negated: false, kind: crate::query::TermKind::Until(ms) });
    }
    q.terms.extend(window);
    let c = sql::compile(&q, opts);
    match writeln!(out, "{}", c.sql) {
        Ok(()) => crate::print::exit::OK,
        Err(_) => crate::print::exit::NOTHING_READ,
    }
}

/// `trailscope athena ddl`: prints the table's DDL; the exit status.
pub fn print_ddl(o: &ddl::DdlOptions, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match ddl::ddl(o) {
        Ok(text) => match writeln!(out, "{text}") {
            Ok(()) => crate::print::exit::OK,
            Err(_) => crate::print::exit::NOTHING_READ,
        },
        Err(e) => {
            let _ = writeln!(err, "trailscope: {}", crate::sanitize::sanitize(&e.to_string()));
            crate::print::exit::USAGE
        }
    }
}
