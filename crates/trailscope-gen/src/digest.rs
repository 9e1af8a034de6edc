//! Digest files as CloudTrail writes them when log file validation is on: one per account,
//! region and hour, holding the SHA-256 of each log file delivered in that hour, chained to
//! the previous hour's digest by its hash and signature, and signed with SHA256withRSA.
//!
//! The signature of a digest is over
//! `digestEndTime \n digestS3Bucket/digestS3Object \n sha256hex(digest) \n previousDigestSignature`
//! (the literal `null` for the first digest of a chain), as the aws CLI's validator checks it.
//! In S3 it is the object's `signature` metadata; here it survives only as the next digest's
//! `previousDigestSignature` (and, for the newest of each chain, in [`GenSummary`]).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use base64::Engine;
use md5::Digest as _;
use serde_json::{json, Value};

use crate::archive::{gzip, FileInfo};
use crate::builder::s;
use crate::pools::Pools;
use crate::time::{civil, iso};
use crate::GenOptions;

/// The key the generator signs with unless it is given another: a 2048-bit RSA key made once
/// (`openssl genpkey -algorithm RSA`) and kept here, so that archives are byte-identical for a
/// seed. It signs test archives only; it protects nothing.
pub const DEFAULT_SIGNING_KEY: &[u8] = include_bytes!("../keys/digest-signing-key.pk8");

/// The trail whose digests are written; its home region is the first region.
pub const TRAIL_NAME: &str = "management-events";

/// A private key to sign digests with, and what `list-public-keys` says about its public half.
pub struct SigningKey {
    pair: RsaKeyPair,
    /// PKCS#1 `RSAPublicKey`, DER.
    pub public_der: Vec<u8>,
    /// Hex MD5 of `public_der`, as CloudTrail names its keys.
    pub fingerprint: String,
}

impl SigningKey {
    /// From an unencrypted RSA private key, PKCS#8 DER (or PKCS#1 `RSAPrivateKey` DER).
    pub fn from_pkcs8(der: &[u8]) -> io::Result<Self> {
        let pair = RsaKeyPair::from_pkcs8(der).or_else(|_| RsaKeyPair::from_der(der)).map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("signing key: not an RSA private key in DER ({e})"))
        })?;
        let public_der = pair.public_key().as_ref().to_vec();
        let fingerprint = hex(&md5::Md5::digest(&public_der));
        Ok(SigningKey { pair, public_der, fingerprint })
    }

    /// A new random 2048-bit key, as PKCS#8 DER (for tests that need a key nobody else has).
    pub fn generate_pkcs8() -> io::Result<Vec<u8>> {
        let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .map_err(|_| io::Error::other("generating an RSA key failed"))?;
        let der = pair.as_der().map_err(|_| io::Error::other("encoding an RSA key failed"))?;
        Ok(der.as_ref().to_vec())
    }

    /// The key of `opts` (or the built-in one).
    pub fn of(opts: &GenOptions) -> io::Result<Self> {
        Self::from_pkcs8(opts.signing_key.as_deref().unwrap_or(DEFAULT_SIGNING_KEY))
    }

    /// Hex of the SHA256withRSA (PKCS#1 v1.5) signature of `msg`.
    pub fn sign_hex(&self, msg: &[u8]) -> io::Result<String> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), msg, &mut sig)
            .map_err(|_| io::Error::other("signing a digest failed"))?;
        Ok(hex(&sig))
    }

    /// `{"PublicKeyList":[...]}` as `aws cloudtrail list-public-keys` prints it, for this key,
    /// valid over `[start, end]` (epoch seconds).
    pub fn public_keys_json(&self, start: i64, end: i64) -> String {
        let v = json!({
            "PublicKeyList": [{
                "Value": base64::engine::general_purpose::STANDARD.encode(&self.public_der),
                "ValidityStartTime": iso_offset(start),
                "ValidityEndTime": iso_offset(end),
                "Fingerprint": self.fingerprint,
            }]
        });
        serde_json::to_string_pretty(&v).unwrap_or_default()
    }
}

/// `2026-01-01T00:00:00+00:00`, the aws CLI's rendering of a timestamp.
fn iso_offset(t: i64) -> String {
    let (y, mo, d, h, mi, sec) = civil(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}+00:00")
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(digest(&SHA256, bytes).as_ref())
}

/// The hour (index since the epoch) whose digest lists a log file delivered at `name_time`:
/// the digest ending at a full hour lists what was delivered in the hour up to it.
fn digest_hour(name_time: i64) -> i64 {
    (name_time - 1).div_euclid(3600)
}

/// The newest digest of one chain, with its signature (what S3 keeps as object metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub key: String,
    pub signature: String,
}

pub(crate) fn write_digests(
    pools: &Pools,
    opts: &GenOptions,
    key: &SigningKey,
    out_dir: &Path,
    files: &[FileInfo],
) -> io::Result<(usize, Vec<ChainHead>)> {
    let mut groups: BTreeMap<(usize, usize), BTreeMap<i64, Vec<&FileInfo>>> = BTreeMap::new();
    for f in files {
        groups.entry((f.acct, f.region)).or_default().entry(digest_hour(f.name_time)).or_default().push(f);
    }
    // Every chain has a digest for every hour the trail ran, with log files or not.
    let Some(first) = files.iter().map(|f| digest_hour(f.name_time)).min() else { return Ok((0, Vec::new())) };
    let last = files.iter().map(|f| digest_hour(f.name_time)).max().unwrap_or(first);
    let home = pools.regions[0].0;
    let bucket = &pools.trail_bucket;
    let mut written = 0;
    let mut heads = Vec::new();
    for ((ai, ri), hours) in groups {
        let acct = &pools.accounts[ai];
        let region = pools.regions[ri].0;
        let base = match &opts.organization {
            Some(org) => format!("AWSLogs/{org}/{acct}"),
            None => format!("AWSLogs/{acct}"),
        };
        let mut prev: Option<(String, String, String)> = None; // (key, sha256 hex, signature hex)
        for hour in first..=last {
            let mut hour_files = hours.get(&hour).cloned().unwrap_or_default();
            hour_files.sort_by(|a, b| a.key.cmp(&b.key));
            let start = hour * 3600;
            let end = start + 3600;
            let (y, mo, d, h, mi, sec) = civil(end);
            let obj = format!(
                "{base}/CloudTrail-Digest/{region}/{y:04}/{mo:02}/{d:02}/{acct}_CloudTrail-Digest_{region}_{TRAIL_NAME}_{home}_{y:04}{mo:02}{d:02}T{h:02}{mi:02}{sec:02}Z.json.gz"
            );
            let oldest = hour_files.iter().map(|f| f.oldest).min();
            let newest = hour_files.iter().map(|f| f.newest).max();
            let log_files: Vec<Value> = hour_files
                .iter()
                .map(|f| {
                    json!({
                        "s3Bucket": bucket,
                        "s3Object": f.key,
                        "hashValue": f.hash,
                        "hashAlgorithm": "SHA-256",
                        "newestEventTime": iso(f.newest),
                        "oldestEventTime": iso(f.oldest)
                    })
                })
                .collect();
            let (pb, pk, ph, pa, ps) = match &prev {
                Some((k, h, sig)) => (s(bucket.clone()), s(k.clone()), s(h.clone()), s("SHA-256"), s(sig.clone())),
                None => (Value::Null, Value::Null, Value::Null, Value::Null, Value::Null),
            };
            let end_iso = iso(end);
            let digest = json!({
                "awsAccountId": acct,
                "digestStartTime": iso(start),
                "digestEndTime": end_iso,
                "digestS3Bucket": bucket,
                "digestS3Object": obj,
                "digestPublicKeyFingerprint": key.fingerprint,
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
            let hash = sha256_hex(&bytes);
            let prev_sig = prev.as_ref().map_or("null", |p| p.2.as_str());
            let signature = key.sign_hex(format!("{end_iso}\n{bucket}/{obj}\n{hash}\n{prev_sig}").as_bytes())?;
            let gz = gzip(&bytes, opts.gzip_level)?;
            let path = out_dir.join(&obj);
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            fs::write(&path, &gz)?;
            written += 1;
            prev = Some((obj, hash, signature));
        }
        if let Some((key, _, signature)) = prev {
            heads.push(ChainHead { key, signature });
        }
    }
    Ok((written, heads))
}
