//! `trailscope cache stats | clear | prune --older-than AGE`.

use super::CacheAction;
use crate::cache::{default_dir, CacheConfig, Store};
use crate::model::time::{format_rfc3339, now_ms};
use crate::sanitize::sanitize;
use std::io::Write;
use std::path::PathBuf;

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

fn when(ms: Option<i64>) -> String {
    ms.map_or("-".to_string(), format_rfc3339)
}

/// Runs one cache command; returns the exit status.
pub fn run(action: &CacheAction, dir: Option<PathBuf>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let Some(dir) = dir.or_else(default_dir) else {
        let _ = writeln!(err, "trailscope: no cache directory: set --cache-dir, XDG_CACHE_HOME or HOME");
        return crate::print::exit::USAGE;
    };
    let cfg = CacheConfig { dir, max_bytes: u64::MAX };
    let mut warnings = Vec::new();
    // Showing what the cache holds needs no writing: a read-only cache is read as it is.
    let opened = match action {
        CacheAction::Stats => Store::open_for_reading(&cfg.dir, &mut warnings),
        _ => Store::open(&cfg.dir, &mut warnings),
    };
    for w in &warnings {
        let _ = writeln!(err, "trailscope: warning: {}", sanitize(w));
    }
    let mut store = match opened {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(
                err,
                "trailscope: cannot open the cache in {}: {}",
                sanitize(&cfg.dir.to_string_lossy()),
                sanitize(&e.to_string())
            );
            return crate::print::exit::NOTHING_READ;
        }
    };
    let result = match action {
        CacheAction::Stats => store.stats().map(|s| {
            let _ = writeln!(out, "cache:     {}", sanitize(&s.path.to_string_lossy()));
            let _ = writeln!(
                out,
                "size:      {} on disk, {} in use (schema {})",
                mib(s.file_bytes),
                mib(s.used_bytes),
                s.schema
            );
            let _ =
                writeln!(out, "events:    {} (event times {} to {})", s.events, when(s.oldest_ms), when(s.newest_ms));
            for (account, n) in &s.accounts {
                let name =
                    if account.is_empty() { "(unknown account)".to_string() } else { sanitize(account).into_owned() };
                let _ = writeln!(out, "  account {name}: {n} events");
            }
            let _ = writeln!(out, "lookups:   {}", s.lookups.len());
            for (k, n, cov) in &s.lookups {
                let attr = if k.attr_key.is_empty() {
                    "all events".to_string()
                } else {
                    format!("{}={}", k.attr_key, k.attr_value)
                };
                let spans: Vec<String> =
                    cov.iter().map(|c| format!("{} to {}", format_rfc3339(c.start), format_rfc3339(c.end))).collect();
                let _ = writeln!(
                    out,
                    "  {} {} {} {}: {} events; covered: {}",
                    sanitize(&k.scope),
                    sanitize(&k.region),
                    sanitize(&k.category),
                    sanitize(&attr),
                    n,
                    if spans.is_empty() { "nothing".to_string() } else { spans.join(", ") }
                );
            }
            let _ = writeln!(
                out,
                "archives:  {} files indexed ({} records), the index taking {}",
                s.archive_files,
                s.archive_records,
                mib(s.archive_bytes)
            );
            let loads = crate::cache::loads::list(&cfg.dir);
            let _ = writeln!(
                out,
                "loads:     {} stored whole, taking {}",
                loads.len(),
                mib(loads.iter().map(|l| l.1).sum())
            );
        }),
        CacheAction::Clear => store.clear().and_then(|()| crate::cache::loads::clear(&cfg.dir)).map(|_| {
            let _ = writeln!(err, "trailscope: the cache in {} is empty", sanitize(&store.path().to_string_lossy()));
        }),
        CacheAction::Prune { older_than } => {
            let cutoff = now_ms() - older_than;
            store
                .prune_before(cutoff)
                .and_then(|n| Ok((n, crate::cache::files::prune_unused(store.conn(), cutoff)?)))
                .and_then(|(n, f)| {
                    store.vacuum()?;
                    let since = std::time::UNIX_EPOCH + std::time::Duration::from_millis(cutoff.max(0) as u64);
                    let l = crate::cache::loads::prune(&cfg.dir, since)?;
                    let _ = writeln!(
                        err,
                        "trailscope: removed {n} events from before {}, and {f} archive indexes and {l} stored loads \
                         unused since then",
                        format_rfc3339(cutoff)
                    );
                    Ok(())
                })
        }
    };
    match result {
        Ok(()) => crate::print::exit::OK,
        Err(e) => {
            let _ = writeln!(err, "trailscope: the cache command failed: {}", sanitize(&e.to_string()));
            crate::print::exit::NOTHING_READ
        }
    }
}
