//! `print` of log groups in CloudWatch Logs (`--log-group`, `--trail … --logs`).

use super::{Loaded, PrintRequest, DEFAULT_LIVE_WINDOW_MS};
use crate::model::raw::RawReader;
use crate::model::time;
use crate::query::{Query, Term, TermKind};
use crate::sanitize::sanitize;
use crate::sigma::RuleSet;
use crate::source::logs::{LogsSource, LogsStatus};
use crate::source::LoadOptions;
use std::io::Write;
use std::sync::Arc;

/// Loads the log groups of `req`. The window comes from `--since`/`--until` and the filter's
/// time terms, else the last 24 hours (then also a term of `q`, so that only the window is
/// printed). The plan is said on `err` first. `rules` are evaluated against each record as
/// it is parsed.
/// `into` makes what the load fills once `q` is final (`print`: a selection by `q`).
pub fn load(
    req: &PrintRequest,
    q: &mut Query,
    raw: &Arc<RawReader>,
    rules: Option<Arc<RuleSet>>,
    into: &dyn Fn(&Query) -> Loaded,
    err: &mut dyn Write,
) -> Result<(Loaded, LogsStatus), String> {
    if !req.paths.is_empty() {
        return Err("--log-group and --trail --logs read CloudWatch Logs alone: name PATHs in another run".into());
    }
    if req.s3.trail.is_some() {
        return Err("--trail without --logs reads the trail's S3 archive: with --log-group, add --logs to read the trail's log group too".into());
    }
    let opts = LoadOptions { cache: None, rules: rules.map(Into::into), ..Default::default() };
    let (source, default_start) = LogsSource::new(&req.logs, q, time::now_ms(), DEFAULT_LIVE_WINDOW_MS, opts)?;
    if default_start {
        q.terms.push(Term { negated: false, kind: TermKind::Since(source.window.0) });
    }
    let _ = writeln!(
        err,
        "trailscope: {} · window {} to {}",
        source.plan,
        time::format_rfc3339(source.window.0),
        time::format_rfc3339(source.window.1)
    );
    let mut loaded = into(q);
    source.load(raw, &mut |msg| loaded.take(msg));
    let status = source.status.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok((loaded, status))
}

/// What the CloudWatch Logs part did: the trail's group, pages and requests per group.
pub fn report(s: &LogsStatus, err: &mut dyn Write) {
    for n in &s.notes {
        let _ = writeln!(err, "trailscope: warning: {}", sanitize(n));
    }
    if let Some((trail, arn)) = &s.trail {
        let _ = writeln!(err, "trailscope: trail {} delivers to {}", sanitize(trail), sanitize(arn));
    }
    for g in &s.groups {
        let _ = writeln!(
            err,
            "trailscope: log group {} ({}){}: {} pages, {} records, {} from the cache{}",
            sanitize(&g.name),
            sanitize(&g.region),
            g.streams.map_or(String::new(), |(n, all)| format!(", {n} of {all} streams"),),
            g.pages,
            g.events,
            g.cached,
            if g.not_cloudtrail > 0 { format!(", {} not CloudTrail records", g.not_cloudtrail) } else { String::new() }
        );
    }
    let _ = writeln!(err, "trailscope: {}", s.progress_line());
}
