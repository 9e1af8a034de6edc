//! The public keys that check digest signatures: from `--public-keys FILE` (what
//! `aws cloudtrail list-public-keys` prints) or from CloudTrail's ListPublicKeys.

use crate::sanitize::sanitize;
use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine;
use md5::Digest as _;

/// One public key and when it signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// Hex MD5 of `der`, as digests name their key.
    pub fingerprint: String,
    /// PKCS#1 `RSAPublicKey`, DER.
    pub der: Vec<u8>,
    /// Epoch milliseconds, inclusive.
    pub valid_from: i64,
    pub valid_to: i64,
}

impl PublicKey {
    /// A key whose fingerprint is checked against its content.
    pub fn new(der: Vec<u8>, fingerprint: &str, valid_from: i64, valid_to: i64) -> Result<PublicKey, String> {
        let actual = fingerprint_of(&der);
        if !actual.eq_ignore_ascii_case(fingerprint.trim()) {
            return Err(format!(
                "the key listed with fingerprint {} has fingerprint {actual} (MD5 of its DER): it was altered",
                sanitize(fingerprint)
            ));
        }
        Ok(PublicKey { fingerprint: actual, der, valid_from, valid_to })
    }

    /// Checks a hex SHA256withRSA (PKCS#1 v1.5) signature of `message`.
    pub fn verify(&self, message: &[u8], signature_hex: &str) -> bool {
        let Some(sig) = unhex(signature_hex) else { return false };
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.der).verify(message, &sig).is_ok()
    }
}

pub fn fingerprint_of(der: &[u8]) -> String {
    hex(&md5::Md5::digest(der))
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

fn unhex(s: &str) -> Option<Vec<u8>> {
    let b = s.trim().as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    b.chunks(2).map(|p| Some(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

/// A time as `list-public-keys` prints it: ISO 8601 (`2026-01-01T00:00:00+00:00`) or epoch
/// seconds (the raw API's form).
fn time_value(v: Option<&serde_json::Value>) -> Option<i64> {
    match v? {
        serde_json::Value::String(s) => crate::model::time::parse_event_time(s),
        serde_json::Value::Number(n) => n.as_f64().map(|s| (s * 1000.0).round() as i64),
        _ => None,
    }
}

/// Parses `{"PublicKeyList":[{"Value","ValidityStartTime","ValidityEndTime","Fingerprint"}]}`.
/// A key that does not match its fingerprint, or cannot be read, is an error: the file is
/// what every signature is checked against.
pub fn parse_public_keys(json: &[u8]) -> Result<Vec<PublicKey>, String> {
    let v: serde_json::Value = serde_json::from_slice(json).map_err(|e| format!("not JSON: {e}"))?;
    let list = v
        .get("PublicKeyList")
        .and_then(|l| l.as_array())
        .ok_or("no \"PublicKeyList\" array (expected the output of `aws cloudtrail list-public-keys`)")?;
    let mut keys = Vec::with_capacity(list.len());
    for (i, k) in list.iter().enumerate() {
        let what = |why: &str| format!("key {} of PublicKeyList: {why}", i + 1);
        let value = k.get("Value").and_then(|x| x.as_str()).ok_or_else(|| what("no Value"))?;
        let der = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|e| what(&format!("Value is not base64 ({e})")))?;
        let fingerprint = k.get("Fingerprint").and_then(|x| x.as_str()).ok_or_else(|| what("no Fingerprint"))?;
        let from = time_value(k.get("ValidityStartTime")).ok_or_else(|| what("no readable ValidityStartTime"))?;
        let to = time_value(k.get("ValidityEndTime")).ok_or_else(|| what("no readable ValidityEndTime"))?;
        keys.push(PublicKey::new(der, fingerprint, from, to).map_err(|e| what(&e))?);
    }
    Ok(keys)
}

/// Reads `--public-keys FILE`.
pub fn read_public_keys(path: &std::path::Path) -> Result<Vec<PublicKey>, String> {
    let shown = sanitize(&path.to_string_lossy()).into_owned();
    let bytes = std::fs::read(path).map_err(|e| format!("{shown}: {}", crate::model::raw::io_reason(&e)))?;
    parse_public_keys(&bytes).map_err(|e| format!("{shown}: {e}"))
}

/// The keys CloudTrail used between `start_ms` and `end_ms`, through ListPublicKeys (in the
/// trail's home region, with the usual credential chain).
pub async fn fetch_public_keys(
    cfg: &crate::source::lookup::LiveConfig,
    region: &str,
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<PublicKey>, String> {
    let mut cfg = cfg.clone();
    cfg.regions = vec![region.to_string()];
    let (sdk, _) = crate::source::lookup::connect(&cfg).await.map_err(|e| e.to_string())?;
    let client = aws_sdk_cloudtrail::Client::new(&sdk);
    let time = |ms: i64| aws_sdk_cloudtrail::primitives::DateTime::from_millis(ms);
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .list_public_keys()
            .start_time(time(start_ms))
            .end_time(time(end_ms))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| {
                let e = aws_sdk_cloudtrail::error::DisplayErrorContext(&e).to_string();
                format!(
                    "ListPublicKeys in {region} failed: {}; give the keys with --public-keys FILE (the output of `aws cloudtrail list-public-keys`) to verify without AWS access",
                    sanitize(&e)
                )
            })?;
        for k in out.public_key_list() {
            let (Some(value), Some(fp)) = (k.value(), k.fingerprint()) else { continue };
            let from = k.validity_start_time().map_or(i64::MIN, |t| t.to_millis().unwrap_or(i64::MIN));
            let to = k.validity_end_time().map_or(i64::MAX, |t| t.to_millis().unwrap_or(i64::MAX));
            keys.push(PublicKey::new(value.as_ref().to_vec(), fp, from, to)?);
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_and_hex() {
        assert_eq!(fingerprint_of(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(fingerprint_of(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(unhex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(unhex("0g"), None);
        assert_eq!(unhex("abc"), None);
    }

    #[test]
    fn a_key_that_does_not_match_its_fingerprint_is_refused() {
        let json = br#"{"PublicKeyList":[{"Value":"AAAA","ValidityStartTime":"2026-01-01T00:00:00+00:00","ValidityEndTime":1767312000,"Fingerprint":"00"}]}"#;
        let e = parse_public_keys(json).unwrap_err();
        assert!(e.contains("altered"), "{e}");
        let fp = fingerprint_of(&[0, 0, 0]);
        let json = format!(
            r#"{{"PublicKeyList":[{{"Value":"AAAA","ValidityStartTime":"2026-01-01T00:00:00+00:00","ValidityEndTime":1767312000,"Fingerprint":"{fp}"}}]}}"#
        );
        let keys = parse_public_keys(json.as_bytes()).unwrap();
        assert_eq!((keys[0].valid_from, keys[0].valid_to), (1_767_225_600_000, 1_767_312_000_000));
        assert!(parse_public_keys(b"{}").is_err());
    }
}
