//! CloudTrail digest files: their names (which chain, which hour), their content, and the
//! string CloudTrail signs.

use serde::Deserialize;

/// What a digest file says (the fields validation needs), as the digest states them.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    pub digest_start_time: String,
    pub digest_end_time: String,
    pub digest_s3_bucket: String,
    pub digest_s3_object: String,
    #[serde(default)]
    pub digest_public_key_fingerprint: Option<String>,
    #[serde(default)]
    pub digest_signature_algorithm: Option<String>,
    #[serde(default)]
    pub previous_digest_s3_bucket: Option<String>,
    #[serde(default)]
    pub previous_digest_s3_object: Option<String>,
    #[serde(default)]
    pub previous_digest_hash_value: Option<String>,
    #[serde(default)]
    pub previous_digest_hash_algorithm: Option<String>,
    #[serde(default)]
    pub previous_digest_signature: Option<String>,
    #[serde(default)]
    pub log_files: Vec<LogEntry>,
}

/// One log file a digest lists.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    pub s3_bucket: String,
    pub s3_object: String,
    pub hash_value: String,
    #[serde(default)]
    pub hash_algorithm: Option<String>,
}

impl Digest {
    /// Parses a digest's uncompressed JSON.
    pub fn parse(json: &[u8]) -> Result<Digest, String> {
        serde_json::from_slice(json).map_err(|e| format!("not a CloudTrail digest: {e}"))
    }

    /// The string CloudTrail signs (SHA256withRSA):
    /// `digestEndTime \n digestS3Bucket/digestS3Object \n sha256hex(digest) \n previousDigestSignature`,
    /// with `null` for the first digest of a chain, as the aws CLI's validator builds it.
    pub fn signing_string(&self, sha256_hex: &str) -> String {
        format!(
            "{}\n{}/{}\n{}\n{}",
            self.digest_end_time,
            self.digest_s3_bucket,
            self.digest_s3_object,
            sha256_hex,
            self.previous_digest_signature.as_deref().unwrap_or("null")
        )
    }
}

/// Which chain a digest belongs to and for which hour, from its key:
/// `AWSLogs/[o-org/]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/<account>_CloudTrail-Digest_<region>_<trail>_<home region>_<YYYYMMDDTHHMMSSZ>[_backfill].json.gz`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChainId {
    pub organization: Option<String>,
    pub account: String,
    pub region: String,
    pub trail: String,
    pub home_region: String,
}

impl ChainId {
    pub fn describe(&self) -> String {
        let org = self.organization.as_deref().map(|o| format!(" ({o})")).unwrap_or_default();
        format!(
            "trail {} (home {}) of account {}{org}, region {}",
            self.trail, self.home_region, self.account, self.region
        )
    }
}

/// A digest's key, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestName {
    pub chain: ChainId,
    /// `YYYYMMDDTHHMMSSZ`; sorts as time.
    pub stamp: String,
    pub backfill: bool,
}

/// Where a key's `AWSLogs/...` part starts, and the parts after it.
fn awslogs_parts(key: &str) -> Option<Vec<&str>> {
    let start = if key.starts_with("AWSLogs/") { 0 } else { key.find("/AWSLogs/")? + 1 };
    Some(key[start..].split('/').collect())
}

/// The kind of a file in the S3 layout: `CloudTrail`, `CloudTrail-Digest`, ... and the parts
/// from the account on (`<account>/<kind>/<region>/YYYY/MM/DD/<name>`), with the organisation.
pub fn layout(key: &str) -> Option<(Option<&str>, &str, &str, &str, &str)> {
    let parts = awslogs_parts(key)?;
    // AWSLogs / [o-org /] account / kind / region / YYYY / MM / DD / name
    let (org, rest) = match parts.get(1) {
        Some(p) if p.starts_with("o-") && parts.len() == 9 => (Some(*p), &parts[2..]),
        _ if parts.len() == 8 => (None, &parts[1..]),
        _ => return None,
    };
    let (account, kind, region, name) = (rest[0], rest[1], rest[2], rest[6]);
    Some((org, account, kind, region, name))
}

impl DigestName {
    pub fn parse(key: &str) -> Option<DigestName> {
        let (org, account, kind, region, name) = layout(key)?;
        if kind != "CloudTrail-Digest" {
            return None;
        }
        let stem = name.strip_suffix(".json.gz")?;
        let (stem, backfill) = match stem.strip_suffix("_backfill") {
            Some(s) => (s, true),
            None => (stem, false),
        };
        let head = stem.strip_prefix(account)?.strip_prefix("_CloudTrail-Digest_")?.strip_prefix(region)?;
        let head = head.strip_prefix('_')?;
        // <trail>_<home>_<stamp>; a trail's name may itself hold underscores.
        let (rest, stamp) = head.rsplit_once('_')?;
        let (trail, home) = rest.rsplit_once('_')?;
        if stamp.len() != 16 || trail.is_empty() || home.is_empty() {
            return None;
        }
        Some(DigestName {
            chain: ChainId {
                organization: org.map(str::to_string),
                account: account.to_string(),
                region: region.to_string(),
                trail: trail.to_string(),
                home_region: home.to_string(),
            },
            stamp: stamp.to_string(),
            backfill,
        })
    }

    /// Epoch milliseconds of the stamp.
    pub fn time_ms(&self) -> Option<i64> {
        stamp_ms(&self.stamp)
    }
}

/// `YYYYMMDDTHHMMSSZ` or `YYYYMMDDTHHMMZ` (log file names) to epoch milliseconds.
pub fn stamp_ms(stamp: &str) -> Option<i64> {
    let b = stamp.as_bytes();
    if !(b.len() == 16 || b.len() == 14) || b[8] != b'T' || b[b.len() - 1] != b'Z' {
        return None;
    }
    let secs = if b.len() == 16 { &stamp[13..15] } else { "00" };
    let iso =
        format!("{}-{}-{}T{}:{}:{}Z", &stamp[0..4], &stamp[4..6], &stamp[6..8], &stamp[9..11], &stamp[11..13], secs);
    crate::model::time::parse_event_time(&iso)
}

/// The delivery time in a log file's name (`<account>_CloudTrail_<region>_YYYYMMDDTHHMMZ_<id>.json.gz`).
pub fn log_name_ms(name: &str) -> Option<i64> {
    let stamp = name.split('_').find(|p| p.len() == 14 && p.as_bytes().get(8) == Some(&b'T'))?;
    stamp_ms(stamp)
}

/// The key under the archive's root that an S3 object key names: from `AWSLogs/` on (a
/// trail's S3 key prefix is not part of a local copy).
pub fn local_key(s3_object: &str) -> &str {
    if s3_object.starts_with("AWSLogs/") {
        s3_object
    } else {
        s3_object.find("/AWSLogs/").map_or(s3_object, |i| &s3_object[i + 1..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        let k = "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/01/01/111122223333_CloudTrail-Digest_eu-west-1_my_trail_us-east-1_20260101T010000Z.json.gz";
        let n = DigestName::parse(k).unwrap();
        assert_eq!(n.chain.trail, "my_trail");
        assert_eq!(n.chain.home_region, "us-east-1");
        assert_eq!(n.chain.region, "eu-west-1");
        assert_eq!(n.chain.organization, None);
        assert_eq!(n.time_ms(), Some(1_767_229_200_000));
        let org = format!("prefix/AWSLogs/o-abc123/{}", &k["AWSLogs/".len()..]);
        let n = DigestName::parse(&org).unwrap();
        assert_eq!(n.chain.organization.as_deref(), Some("o-abc123"));
        assert_eq!(local_key(&org), &org["prefix/".len()..]);
        assert!(DigestName::parse("AWSLogs/1/CloudTrail/r/2026/01/01/x.json.gz").is_none());
        assert!(DigestName::parse("AWSLogs/1/CloudTrail-Digest/r/2026/01/01/garbage.json.gz").is_none());
        assert_eq!(
            log_name_ms("111122223333_CloudTrail_us-east-1_20260101T0105Z_abcdefghijklmnop.json.gz"),
            Some(1_767_229_500_000)
        );
    }

    #[test]
    fn signing_string_has_null_for_the_first_digest() {
        let d = Digest::parse(
            br#"{"digestStartTime":"a","digestEndTime":"2026-01-01T01:00:00Z","digestS3Bucket":"b","digestS3Object":"k","previousDigestSignature":null,"logFiles":[]}"#,
        )
        .unwrap();
        assert_eq!(d.signing_string("00ff"), "2026-01-01T01:00:00Z\nb/k\n00ff\nnull");
    }
}
