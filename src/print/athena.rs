//! `print --athena TABLE`: the filter asked of Athena, the answer read and filtered here.

use super::{Loaded, PrintRequest, DEFAULT_LIVE_WINDOW_MS};
use crate::model::raw::RawReader;
use crate::model::time;
use crate::query::{Query, Term, TermKind};
use crate::sanitize::sanitize;
use crate::source::athena::{AthenaSource, AthenaStatus};
use crate::source::LoadOptions;
use std::io::Write;
use std::sync::Arc;

/// Asks Athena for what `q` matches in its window (`--since`/`--until` and the filter's time
/// terms, else the last 24 hours, then also a term of `q`), and loads the answer. The plan is
/// said on `err` first.
/// `into` makes what the load fills once `q` is final (`print`: a selection by `q`).
pub fn load(
    req: &PrintRequest,
    q: &mut Query,
    raw: &Arc<RawReader>,
    rules: Option<std::sync::Arc<crate::sigma::RuleSet>>,
    into: &dyn Fn(&Query) -> Loaded,
    err: &mut dyn Write,
) -> Result<(Loaded, AthenaStatus), String> {
    if !req.paths.is_empty() || req.logs.is_used() || req.s3.trail.is_some() {
        return Err("--athena asks the table alone: name PATHs, --trail or --log-group in another run".into());
    }
    let opts = LoadOptions { cache: None, rules: rules.map(Into::into), ..Default::default() };
    let (source, default_start) = AthenaSource::new(&req.athena, q, time::now_ms(), DEFAULT_LIVE_WINDOW_MS, opts)?;
    if default_start {
        q.terms.push(Term { negated: false, kind: TermKind::Since(source.window.0) });
    }
    let _ = writeln!(
        err,
        "trailscope: athena {} · window {} to {}",
        sanitize(&source.status.lock().unwrap_or_else(|p| p.into_inner()).table),
        time::format_rfc3339(source.window.0),
        time::format_rfc3339(source.window.1)
    );
    let mut loaded = into(q);
    source.load(raw, &mut |msg| loaded.take(msg));
    let status = source.status.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok((loaded, status))
}

/// What was asked of Athena and what it cost.
pub fn report(s: &AthenaStatus, err: &mut dyn Write) {
    for q in &s.queries {
        let _ = writeln!(
            err,
            "trailscope: athena {} query {} {}: {} scanned, engine {:.1} s, {} rows{}{}",
            q.kind,
            sanitize(&q.id),
            q.state,
            crate::sanitize::human_bytes(q.scanned),
            q.engine_ms as f64 / 1000.0,
            q.rows,
            if q.reused { ", Athena reused earlier results" } else { "" },
            if q.remembered { ", the results of the same query run before" } else { "" },
        );
    }
    if let Some(p) = &s.projection {
        let _ = writeln!(err, "trailscope: {}", sanitize(p));
    }
    if !s.exact {
        let _ = writeln!(err, "trailscope: some terms have no exact SQL: Athena's answer was narrowed here");
    }
    let _ = writeln!(err, "trailscope: {}", s.plan_line());
}

/// `trailscope athena ddl`: where the archive is, what is known of it, and whether to run it.
pub struct DdlRequest {
    /// The archive's URL (`None` with `trail`).
    pub url: Option<String>,
    /// A trail whose archive it is (DescribeTrails).
    pub trail: Option<String>,
    /// Accounts and regions given (both empty: the bucket is listed).
    pub accounts: Vec<String>,
    /// Regions given.
    pub regions: Vec<String>,
    /// The table's name.
    pub table: String,
    /// Its database.
    pub database: Option<String>,
    /// The first day projected.
    pub first_day: String,
    /// Run it in Athena too.
    pub apply: bool,
    /// How AWS is reached, and (with `apply`) the workgroup and output location.
    pub athena: crate::source::athena::AthenaConfig,
}

/// Prints the DDL (listing the bucket when the accounts and regions are not given) and, with
/// `apply`, runs it; the exit status.
pub fn ddl(req: &DdlRequest, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    use crate::print::exit;
    let (url, accounts, regions) = if !req.accounts.is_empty() && !req.regions.is_empty() {
        match &req.url {
            Some(u) => (u.clone(), req.accounts.clone(), req.regions.clone()),
            None => {
                let _ = writeln!(err, "trailscope: with --accounts and --regions, name the archive's s3:// URL");
                return exit::USAGE;
            }
        }
    } else {
        match crate::source::athena::discover(&req.athena.connect, req.url.as_deref(), req.trail.as_deref()) {
            Ok(f) if f.accounts.is_empty() || f.regions.is_empty() => {
                let _ = writeln!(err, "trailscope: {}: no account or region with logs was found", sanitize(&f.url));
                return exit::NOTHING_READ;
            }
            Ok(f) => {
                let _ = writeln!(
                    err,
                    "trailscope: {}: {} {} ({}), {} {} ({})",
                    sanitize(&f.url),
                    f.accounts.len(),
                    crate::sanitize::noun(f.accounts.len(), "account", "accounts"),
                    sanitize(&f.accounts.join(",")),
                    f.regions.len(),
                    crate::sanitize::noun(f.regions.len(), "region", "regions"),
                    sanitize(&f.regions.join(","))
                );
                (f.url, f.accounts, f.regions)
            }
            Err(e) => {
                let _ = writeln!(err, "trailscope: {}", sanitize(&e));
                return exit::NOTHING_READ;
            }
        }
    };
    let o = crate::athena::ddl::DdlOptions {
        url,
        accounts,
        regions,
        table: req.table.clone(),
        database: req.database.clone(),
        first_day: req.first_day.clone(),
    };
    let text = match crate::athena::ddl::ddl(&o) {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "trailscope: {}", sanitize(&e.to_string()));
            return exit::USAGE;
        }
    };
    if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
        return exit::NOTHING_READ;
    }
    if !req.apply {
        return exit::OK;
    }
    match crate::source::athena::run_statement(&req.athena, &text) {
        Ok(run) => {
            let _ =
                writeln!(err, "trailscope: athena ddl query {} {}: the table is created", sanitize(&run.id), run.state);
            exit::OK
        }
        Err(e) => {
            let _ = writeln!(err, "trailscope: the table was not created: {}", sanitize(&e));
            exit::NOTHING_READ
        }
    }
}

/// `trailscope athena sql`: prints the SQL of a filter and a window; the exit status.
pub fn sql(
    filter: &str,
    since: Option<i64>,
    until: Option<i64>,
    opts: &crate::athena::sql::SqlOptions,
    now_ms: i64,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    use crate::print::exit;
    let q = match super::build_query(Some(filter), since, until, now_ms) {
        Ok(q) => q,
        Err(e) => {
            let _ = writeln!(err, "trailscope: {}", sanitize(&e.to_string()));
            return exit::USAGE;
        }
    };
    let c = crate::athena::sql::compile(&q, opts);
    match writeln!(out, "{}", c.sql) {
        Ok(()) => exit::OK,
        Err(_) => exit::NOTHING_READ,
    }
}
