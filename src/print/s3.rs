//! `print` of `s3://` inputs (mixed freely with local paths).

use super::{Loaded, PrintRequest, DEFAULT_LIVE_WINDOW_MS};
use crate::model::raw::RawReader;
use crate::model::time;
use crate::query::{Query, Term, TermKind};
use crate::sanitize::sanitize;
use crate::sigma::RuleSet;
use crate::source::s3::layout::Window;
use crate::source::s3::{S3Archive, S3Status};
use crate::source::LoadOptions;
use std::io::Write;
use std::sync::Arc;

/// Loads the local and remote inputs of `req`. The window comes from `--since`/`--until`
/// and the filter's time terms, else the last 24 hours; with only remote inputs, the
/// default window is also a term of `q`, so that events the files hold outside it are not
/// printed.
/// `rules` are evaluated against each record as it is parsed.
/// `into` makes what the load fills once `q` is final (`print`: a selection by `q`).
pub fn load(
    req: &PrintRequest,
    q: &mut Query,
    raw: &Arc<RawReader>,
    rules: Option<Arc<RuleSet>>,
    into: &dyn Fn(&Query) -> Loaded,
) -> Result<(Loaded, (S3Status, Window)), String> {
    let opts = LoadOptions {
        cache: req.cache.clone(),
        rules: rules.map(Into::into),
        // Decided as each object's records are parsed, as for local files.
        terms: crate::query::matcher::LoadTerms::of(q, super::PRINT_KEEP_BYTES).map(Arc::new),
        ..Default::default()
    };
    let (source, default_start) =
        S3Archive::for_inputs(&req.paths, q, time::now_ms(), DEFAULT_LIVE_WINDOW_MS, &req.s3, opts)?;
    if default_start {
        q.terms.push(Term { negated: false, kind: TermKind::Since(source.window.start_ms) });
    }
    let window = source.window;
    let mut loaded = into(q);
    source.load(raw, &mut |msg| loaded.take(msg));
    let status = source.status.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok((loaded, (status, window)))
}

/// What the S3 part did: the plan, the window, the requests.
pub fn report(s: &S3Status, window: &Window, err: &mut dyn Write) {
    for n in &s.notes {
        let _ = writeln!(err, "trailscope: warning: {}", sanitize(n));
    }
    if let Some(t) = &s.trail {
        let last = t.latest_delivery_ms.map_or("not known".to_string(), time::format_rfc3339);
        let _ = writeln!(err, "trailscope: trail {} delivers to {}; last delivery {last}", sanitize(&t.name), t.url);
        if let Some(e) = &t.delivery_error {
            let _ = writeln!(err, "trailscope: trail {}: last delivery error: {}", sanitize(&t.name), sanitize(e));
        }
    }
    let plan = s.plan_line().unwrap_or_else(|| "s3: nothing planned".into());
    let _ = writeln!(
        err,
        "trailscope: {plan} · window {} to {}",
        time::format_rfc3339(window.start_ms),
        time::format_rfc3339(window.end_ms)
    );
    let _ = writeln!(
        err,
        "trailscope: s3: {} of {} objects fetched ({} from the cache, {} failed), {} bytes; {} requests ({} list, {} get, {} head, {} retried)",
        s.objects_done + s.objects_cached,
        s.objects_wanted,
        s.objects_cached,
        s.objects_failed,
        s.bytes,
        s.requests(),
        s.lists,
        s.gets,
        s.heads,
        s.retries
    );
    if !s.accounts.is_empty() {
        let list = |set: &std::collections::BTreeSet<String>| {
            set.iter().map(|a| sanitize(a).into_owned()).collect::<Vec<_>>().join(" ")
        };
        let _ = writeln!(err, "trailscope: s3: accounts {}; regions {}", list(&s.accounts), list(&s.regions));
    }
}
