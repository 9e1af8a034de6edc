//! Deterministic generator of realistic CloudTrail trail archives.
//!
//! Writes `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz` files in
//! the exact layout S3 delivers (or `AWSLogs/<org>/<account>/...` for an organisation trail),
//! plus (optionally) the trail's digest files under `CloudTrail-Digest`: one per account,
//! region and hour, SHA-256 of each log file, chained and signed with SHA256withRSA like
//! CloudTrail's own, with a key given in [`GenOptions::signing_key`] or a built-in one
//! ([`public_keys_json`] is the matching `aws cloudtrail list-public-keys` output). Output is
//! byte-identical for a given seed: every file is seeded from the seed and its own index, so
//! rayon scheduling does not matter, and RSA PKCS#1 v1.5 signatures are deterministic.
//!
//! A development tool of trailscope (tests, benchmarks, the sample archive and the README's
//! demo), not part of what trailscope ships. The modules, in the order a record is made:
//! `rng` (the seeded generator), `catalogue` (services, calls, names, hostile strings),
//! `pools` (accounts, keys, addresses and resource ids drawn once per seed; which account,
//! region and time window each file gets), `builder` and `record` (one record),
//! `identity` (who made the call), `params` (what the call asked for and returned),
//! `errors` (how a call failed), `archive` (log files) and `digest` (digest files).

mod archive;
mod builder;
mod catalogue;
mod digest;
mod errors;
mod identity;
mod params;
mod pools;
mod record;
mod rng;
mod time;

#[cfg(test)]
mod tests;

use std::fs;
use std::io;
use std::path::Path;

use rayon::prelude::*;
use serde_json::Value;

use archive::{write_file, FileInfo};
use digest::write_digests;
pub use digest::{hex, ChainHead, SigningKey, DEFAULT_SIGNING_KEY, TRAIL_NAME};
use pools::{FileCtx, Pools};
use record::make_record;

/// Options for [`generate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenOptions {
    /// Total records across all files.
    pub events: usize,
    /// Records per `.json.gz` file at most.
    pub per_file: usize,
    pub seed: u64,
    /// Epoch seconds of the newest possible event.
    pub end_time: i64,
    /// Events spread over `[end_time - span_secs, end_time]`.
    pub span_secs: i64,
    /// How many account ids (>= 1).
    pub accounts: usize,
    /// How many regions used (1..=10), from a fixed list starting with us-east-1.
    pub regions: usize,
    /// Sprinkle hostile strings (terminal escapes, bidi, huge strings...).
    pub hostile: bool,
    /// flate2 compression level.
    pub gzip_level: u32,
    /// Also write digest files.
    pub digests: bool,
    /// The organisation id of an organisation trail (`o-...`): keys are
    /// `AWSLogs/<org>/<account>/...`. `None`: a trail of its own account.
    pub organization: Option<String>,
    /// The private key that signs digests (PKCS#8 DER); `None`: [`DEFAULT_SIGNING_KEY`].
    pub signing_key: Option<Vec<u8>>,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            events: 2000,
            per_file: 100,
            seed: 42,
            end_time: 1_767_225_600,
            span_secs: 3 * 86_400,
            accounts: 2,
            regions: 3,
            hostile: true,
            gzip_level: 6,
            digests: true,
            organization: None,
            signing_key: None,
        }
    }
}

/// What [`generate`] wrote. `json_bytes`/`gz_bytes` cover the log files only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenSummary {
    pub files: usize,
    pub digest_files: usize,
    pub events: usize,
    pub json_bytes: u64,
    pub gz_bytes: u64,
    /// The newest digest of each chain and its signature (which S3 would keep as the
    /// object's metadata: a copy of the files does not have it).
    pub chain_heads: Vec<ChainHead>,
}

/// One record as a serde_json::Value (for tests that want single records).
///
/// Identical to the record with the same global `index` in the archive
/// [`generate`] writes for the same options and `seed`.
pub fn record(seed: u64, index: u64, opts: &GenOptions) -> Value {
    let pools = Pools::new(seed, opts);
    let per_file = opts.per_file.max(1) as u64;
    let ctx = FileCtx::new(seed, index / per_file, opts, &pools);
    make_record(&pools, &ctx, seed, index, opts)
}

/// Write a trail archive under `out_dir` (created if needed).
pub fn generate(opts: &GenOptions, out_dir: &Path) -> io::Result<GenSummary> {
    fs::create_dir_all(out_dir)?;
    let pools = Pools::new(opts.seed, opts);
    let per_file = opts.per_file.max(1);
    let nfiles = opts.events.div_ceil(per_file);
    let infos: Vec<FileInfo> = (0..nfiles)
        .into_par_iter()
        .map(|fi| {
            let first = (fi * per_file) as u64;
            let count = per_file.min(opts.events - fi * per_file);
            write_file(&pools, opts, out_dir, fi as u64, first, count)
        })
        .collect::<io::Result<_>>()?;
    let (digest_files, chain_heads) = if opts.digests {
        write_digests(&pools, opts, &SigningKey::of(opts)?, out_dir, &infos)?
    } else {
        (0, Vec::new())
    };
    Ok(GenSummary {
        files: infos.len(),
        digest_files,
        events: infos.iter().map(|f| f.events).sum(),
        json_bytes: infos.iter().map(|f| f.json_bytes).sum(),
        gz_bytes: infos.iter().map(|f| f.gz_bytes).sum(),
        chain_heads,
    })
}

/// The `aws cloudtrail list-public-keys` output (`{"PublicKeyList":[...]}`) for the key that
/// signs the digests of `opts`, valid from a day before its first event to a day after its end.
pub fn public_keys_json(opts: &GenOptions) -> io::Result<String> {
    let key = SigningKey::of(opts)?;
    Ok(key.public_keys_json(opts.end_time - opts.span_secs.max(0) - 86_400, opts.end_time + 86_400))
}
