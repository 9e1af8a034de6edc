//! Digest files: one per account, region and day, chained to the previous one.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use serde_json::{json, Value};

use crate::archive::{gzip, pseudo_sha256, FileInfo};
use crate::builder::s;
use crate::pools::Pools;
use crate::rng::{mix, Rng, HEX, SALT_DIGEST};
use crate::time::{civil, iso};
use crate::GenOptions;

pub(crate) fn write_digests(pools: &Pools, opts: &GenOptions, out_dir: &Path, files: &[FileInfo]) -> io::Result<usize> {
    // (acct, region) -> day -> files
    let mut groups: BTreeMap<(usize, usize), BTreeMap<i64, Vec<&FileInfo>>> = BTreeMap::new();
    for f in files {
        groups.entry((f.acct, f.region)).or_default().entry(f.name_time.div_euclid(86_400)).or_default().push(f);
    }
    let trail = "management-events";
    let mut written = 0;
    for ((ai, ri), days) in groups {
        let acct = &pools.accounts[ai];
        let region = pools.regions[ri].0;
        let mut r = Rng::new(mix(opts.seed ^ SALT_DIGEST, (ai * 16 + ri) as u64));
        let mut prev: Option<(String, String, String)> = None; // (key, hash, signature)
        for (day, mut day_files) in days {
            day_files.sort_by(|a, b| a.key.cmp(&b.key));
            let start = day * 86_400;
            let end = start + 86_400;
            let (y, mo, d, h, mi, sec) = civil(end);
            let key = format!(
                "AWSLogs/{acct}/CloudTrail-Digest/{region}/{y:04}/{mo:02}/{d:02}/{acct}_CloudTrail-Digest_{region}_{trail}_{region}_{y:04}{mo:02}{d:02}T{h:02}{mi:02}{sec:02}Z.json.gz"
            );
            let oldest = day_files.iter().map(|f| f.oldest).min();
            let newest = day_files.iter().map(|f| f.newest).max();
            let log_files: Vec<Value> = day_files
                .iter()
                .map(|f| {
                    json!({
                        "s3Bucket": pools.trail_bucket,
                        "s3Object": f.key,
                        "hashValue": f.hash,
                        "hashAlgorithm": "SHA-256",
                        "newestEventTime": iso(f.newest),
                        "oldestEventTime": iso(f.oldest)
                    })
                })
                .collect();
            let (pb, pk, ph, pa, ps) = match &prev {
                Some((k, h, sig)) => {
                    (s(pools.trail_bucket.clone()), s(k.clone()), s(h.clone()), s("SHA-256"), s(sig.clone()))
                }
                None => (Value::Null, Value::Null, Value::Null, Value::Null, Value::Null),
            };
            let digest = json!({
                "awsAccountId": acct,
                "digestStartTime": iso(start),
                "digestEndTime": iso(end),
                "digestS3Bucket": pools.trail_bucket,
                "digestS3Object": key,
                "digestPublicKeyFingerprint": pools.fingerprint,
                "digestSignatureAlgorithm": "SHA256withRSA",
                "newestEventTime": newest.map(iso),
                "oldestEventTime": oldest.map(iso),
                "previousDigestS3Bucket": pb,
                "previousDigestS3Object": pk,
                "previousDigestHashValue": ph,
                "previousDigestHashAlgorithm": pa,
                "previousDigestSignature": ps,
                "logFiles": log_files
            });
            let bytes = serde_json::to_vec(&digest).map_err(io::Error::other)?;
            let gz = gzip(&bytes, opts.gzip_level)?;
            let path = out_dir.join(&key);
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            fs::write(&path, &gz)?;
            written += 1;
            prev = Some((key, pseudo_sha256(&bytes), r.chars(512, HEX)));
        }
    }
    Ok(written)
}
