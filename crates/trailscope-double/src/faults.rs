//! Fault injection: which requests fail, and how.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// When a fault fires. JSON: `"never"`, `{"probability": 0.25}`, `{"every_nth": 3}`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    #[default]
    Never,
    /// Each request independently with this probability (deterministic from the seed).
    Probability(f64),
    /// Requests number N, 2N, 3N, ... (counted from 1 since the faults were last set).
    EveryNth(u64),
}

impl Trigger {
    /// Does it fire for request number `n` (1-based)? `salt` separates the faults' dice.
    pub fn fires(self, n: u64, seed: u64, salt: u64) -> bool {
        match self {
            Trigger::Never => false,
            Trigger::EveryNth(k) => k > 0 && n % k == 0,
            Trigger::Probability(p) => {
                let mut b = [0u8; 24];
                b[..8].copy_from_slice(&seed.to_le_bytes());
                b[8..16].copy_from_slice(&n.to_le_bytes());
                b[16..].copy_from_slice(&salt.to_le_bytes());
                let x = xxhash_rust::xxh3::xxh3_64(&b);
                ((x >> 11) as f64 / (1u64 << 53) as f64) < p
            }
        }
    }
}

/// CLI syntax: `never`, `every:N`, `prob:P` (0 ≤ P ≤ 1).
impl FromStr for Trigger {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("bad fault schedule {s:?}: expected never, every:N or prob:P");
        if s == "never" {
            return Ok(Trigger::Never);
        }
        if let Some(n) = s.strip_prefix("every:") {
            let n: u64 = n.parse().map_err(|_| bad())?;
            return if n == 0 { Err(bad()) } else { Ok(Trigger::EveryNth(n)) };
        }
        if let Some(p) = s.strip_prefix("prob:") {
            let p: f64 = p.parse().map_err(|_| bad())?;
            return if (0.0..=1.0).contains(&p) { Ok(Trigger::Probability(p)) } else { Err(bad()) };
        }
        Err(bad())
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::Never => write!(f, "never"),
            Trigger::EveryNth(n) => write!(f, "every:{n}"),
            Trigger::Probability(p) => write!(f, "prob:{p}"),
        }
    }
}

/// The faults the double injects into LookupEvents requests (admin requests are never
/// affected). Checked in this order; the first that fires decides: `drop`, `error_500`,
/// `error_503`, then `expire_after`; `delay` and `drop_mid_body`/`malformed` apply on top.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// HTTP 500 `InternalFailure`.
    pub error_500: Trigger,
    /// HTTP 503 `ServiceUnavailable`.
    pub error_503: Trigger,
    /// Wait `delay_ms` before answering.
    pub delay: Trigger,
    pub delay_ms: u64,
    /// Close the connection without answering.
    pub drop: Trigger,
    /// Send the headers and half the body, then close the connection.
    pub drop_mid_body: Trigger,
    /// Answer a successful lookup with a body that is not valid JSON.
    pub malformed: Trigger,
    /// After this many successful lookups, every request fails with `ExpiredTokenException`.
    pub expire_after: Option<u64>,
    /// Seed of the probability faults' dice.
    pub seed: u64,
    /// Access key ids whose requests are denied (`AccessDeniedException`, as for an identity
    /// without the cloudtrail:LookupEvents permission).
    pub deny_keys: Vec<String>,
}

/// What the faults decided for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Decision {
    pub drop: bool,
    pub error_500: bool,
    pub error_503: bool,
    pub delay_ms: u64,
    pub drop_mid_body: bool,
    pub malformed: bool,
}

impl Faults {
    /// The decision for request number `n` (1-based since the faults were set).
    pub fn decide(&self, n: u64) -> Decision {
        let f = |t: Trigger, salt| t.fires(n, self.seed, salt);
        Decision {
            drop: f(self.drop, 1),
            error_500: f(self.error_500, 2),
            error_503: f(self.error_503, 3),
            delay_ms: if f(self.delay, 4) { self.delay_ms } else { 0 },
            drop_mid_body: f(self.drop_mid_body, 5),
            malformed: f(self.malformed, 6),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_parse_and_fire() {
        assert_eq!("every:3".parse::<Trigger>(), Ok(Trigger::EveryNth(3)));
        assert_eq!("prob:0.5".parse::<Trigger>(), Ok(Trigger::Probability(0.5)));
        assert_eq!("never".parse::<Trigger>(), Ok(Trigger::Never));
        assert!("every:0".parse::<Trigger>().is_err());
        assert!("prob:2".parse::<Trigger>().is_err());
        assert!("often".parse::<Trigger>().is_err());
        let every3: Vec<u64> = (1..=9).filter(|&n| Trigger::EveryNth(3).fires(n, 0, 0)).collect();
        assert_eq!(every3, [3, 6, 9]);
        let hits = (1..=10_000).filter(|&n| Trigger::Probability(0.25).fires(n, 7, 1)).count();
        assert!((2200..2800).contains(&hits), "{hits}");
        assert!((1..=1000).all(|n| !Trigger::Probability(0.0).fires(n, 7, 1)));
        assert!((1..=1000).all(|n| Trigger::Probability(1.0).fires(n, 7, 1)));
    }

    #[test]
    fn faults_json_round_trip() {
        let f: Faults = serde_json::from_str(
            r#"{"error_503":{"every_nth":2},"delay":{"probability":0.5},"delay_ms":30,"expire_after":4}"#,
        )
        .unwrap();
        assert_eq!(f.error_503, Trigger::EveryNth(2));
        assert_eq!(f.delay, Trigger::Probability(0.5));
        assert_eq!(f.expire_after, Some(4));
        assert_eq!(serde_json::from_str::<Faults>(&serde_json::to_string(&f).unwrap()).unwrap(), f);
        assert!(serde_json::from_str::<Faults>(r#"{"eror_500":"never"}"#).is_err());
    }
}
