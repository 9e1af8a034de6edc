//! `print --athena TABLE`: the filter asked of Athena, the answer read and filtered here.

use super::{Loaded, PrintRequest, DEFAULT_LIVE_WINDOW_MS};
use crate::model::raw::RawReader;
use crate::model::time;
use crate::query::{Query, Term, TermKind};
use crate::sanitize::sanitize;
use crate::source::athena::{AthenaSource, AthenaStatus};
use crate::source::LoadOptions;
use std::io::Write;

/// Asks Athena for what `q` matches in its window (`--since`/`--until` and the filter's time
/// terms, else the last 24 hours, then also a term of `q`), and loads the answer. The plan is
/// said on `err` first.
pub fn load(
    req: &PrintRequest,
    q: &mut Query,
    raw: &RawReader,
    err: &mut dyn Write,
) -> Result<(Loaded, AthenaStatus), String> {
    if !req.paths.is_empty() || req.logs.is_used() || req.s3.trail.is_some() {
        return Err("--athena asks the table alone: name PATHs, --trail or --log-group in another run".into());
    }
    let opts = LoadOptions { cache: None, ..Default::default() };
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
    let mut loaded = Loaded::new();
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
            q.scanned,
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
