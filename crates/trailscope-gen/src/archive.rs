//! Log files: records shuffled within their file, written as gzipped `{"Records":[...]}`.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::Value;

use crate::pools::{log_key, FileCtx, Pools};
use crate::record::make_record;
use crate::rng::{mix, Rng, SALT_FILE};
use crate::time::parse_iso;
use crate::GenOptions;

pub(crate) struct FileInfo {
    pub(crate) acct: usize,
    pub(crate) region: usize,
    pub(crate) key: String,
    pub(crate) name_time: i64,
    pub(crate) oldest: i64,
    pub(crate) newest: i64,
    /// SHA-256 (hex) of the uncompressed content, as the hour's digest lists it.
    pub(crate) hash: String,
    pub(crate) json_bytes: u64,
    pub(crate) gz_bytes: u64,
    pub(crate) events: usize,
}

pub(crate) fn gzip(bytes: &[u8], level: u32) -> io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::with_capacity(bytes.len() / 8 + 64), Compression::new(level.min(9)));
    enc.write_all(bytes)?;
    enc.finish()
}

pub(crate) fn write_file(
    pools: &Pools,
    opts: &GenOptions,
    out_dir: &Path,
    file: u64,
    first: u64,
    count: usize,
) -> io::Result<FileInfo> {
    let ctx = FileCtx::new(opts.seed, file, opts, pools);
    let mut order: Vec<u64> = (first..first + count as u64).collect();
    Rng::new(mix(opts.seed ^ SALT_FILE ^ 0xABCD, file)).shuffle(&mut order);
    let mut json = Vec::with_capacity(count * 1100 + 16);
    json.extend_from_slice(b"{\"Records\":[");
    let mut oldest = i64::MAX;
    let mut newest = i64::MIN;
    for (i, idx) in order.iter().enumerate() {
        if i > 0 {
            json.push(b',');
        }
        let rec = make_record(pools, &ctx, opts.seed, *idx, opts);
        if let Some(t) = rec.get("eventTime").and_then(Value::as_str) {
            let t = parse_iso(t);
            oldest = oldest.min(t);
            newest = newest.max(t);
        }
        serde_json::to_writer(&mut json, &rec).map_err(io::Error::other)?;
    }
    json.extend_from_slice(b"]}");
    let gz = gzip(&json, opts.gzip_level)?;
    let key = log_key(pools, opts, &ctx);
    let path = out_dir.join(&key);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(&path, &gz)?;
    Ok(FileInfo {
        acct: ctx.acct,
        region: ctx.region,
        key,
        name_time: ctx.name_time(),
        oldest,
        newest,
        hash: crate::digest::sha256_hex(&json),
        json_bytes: json.len() as u64,
        gz_bytes: gz.len() as u64,
        events: count,
    })
}
