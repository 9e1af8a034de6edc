//! Time parsing and formatting: eventTime values, `--since`/`--until` arguments.

use chrono::{DateTime, TimeZone, Utc};

/// Parses an eventTime into milliseconds since the epoch. Fast path for CloudTrail's
/// `YYYY-MM-DDTHH:MM:SSZ`; anything else RFC 3339-like goes through chrono.
pub fn parse_event_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() == 20 && b[19] == b'Z' && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':'
    {
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let mut v = 0u32;
            for &c in &b[r] {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + (c - b'0') as u32;
            }
            Some(v)
        };
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 60 {
            return None;
        }
        let days = days_from_civil(y as i64, mo, d);
        return Some(((days * 86_400) + (h * 3600 + mi * 60 + se) as i64) * 1000);
    }
    // Not CloudTrail's format, but some exporters write epoch seconds (or milliseconds).
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let n: f64 = t.parse().ok()?;
        return Some(if n >= 1e11 { n as i64 } else { (n * 1000.0).round() as i64 });
    }
    parse_rfc3339(s)
}

/// Any RFC 3339 date-time (with `T` or a space), or a bare date taken as UTC midnight.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    let t = s.replacen(' ', "T", 1);
    if let Ok(t) = DateTime::parse_from_rfc3339(&t) {
        return Some(t.timestamp_millis());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc().timestamp_millis());
    }
    // To the minute: `2026-11-21 20:54`, `…20:54Z`, `…20:54+02:00`.
    if t.len() >= 16 && t.as_bytes()[13] == b':' && t.get(16..17).is_none_or(|c| !c.starts_with(':')) {
        let with_seconds = format!("{}:00{}", &t[..16], &t[16..]);
        if with_seconds != t {
            return parse_rfc3339(&with_seconds);
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis());
    }
    None
}

/// A relative age such as `15m`, `6h`, `7d`, `2w`, `30s`, in milliseconds.
pub fn parse_age(s: &str) -> Option<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().ok()?;
    let secs = match unit {
        "s" | "sec" | "secs" => 1,
        "m" | "min" | "mins" => 60,
        "h" | "hr" | "hrs" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "wk" | "weeks" => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(secs)?.checked_mul(1000)
}

/// The longest age `--since`/`--until` accept: 100 years, before CloudTrail and within any
/// date the list can show.
pub const MAX_AGE_MS: i64 = 36_500 * 86_400_000;

/// A `--since`/`--until` value that cannot be a time (the value, sanitised).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadTime {
    /// Neither an age nor a time.
    #[error("'{0}' is neither an age (15m, 6h, 7d) nor an RFC 3339 time (2024-05-01T12:00:00Z)")]
    NotATime(String),
    /// An age longer than [`MAX_AGE_MS`].
    #[error("'{0}' is too long ago: an age is at most 100 years (36500d)")]
    TooOld(String),
}

/// `--since`/`--until` value: a relative age before `now_ms`, or an absolute time.
pub fn parse_time_arg(s: &str, now_ms: i64) -> Result<i64, BadTime> {
    let shown = || crate::sanitize::sanitize(s).into_owned();
    let unit = s.trim().trim_start_matches(|c: char| c.is_ascii_digit());
    match parse_age(s) {
        Some(age) if age <= MAX_AGE_MS => return Ok(now_ms - age),
        Some(_) => return Err(BadTime::TooOld(shown())),
        // Digits and a unit, the number too large to count: too long ago, not a typo.
        None if unit.len() < s.trim().len() && parse_age(&format!("1{unit}")).is_some() => {
            return Err(BadTime::TooOld(shown()))
        }
        None => {}
    }
    parse_rfc3339(s).ok_or_else(|| BadTime::NotATime(shown()))
}

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// `2024-07-31 12:46:41Z`, the list's time column (always UTC, the offset always shown).
pub fn format_list_time(ms: i64) -> String {
    if ms == super::NO_TIME {
        return "(no time)".to_string();
    }
    if let Some(s) = format_fixed(ms, b' ') {
        return s;
    }
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.format("%Y-%m-%d %H:%M:%SZ").to_string(),
        None => "(bad time)".to_string(),
    }
}

/// The list's time column in the local time zone, with its offset: `2024-07-31 14:46:41+02:00`.
pub fn format_local_time(ms: i64) -> String {
    if ms == super::NO_TIME {
        return "(no time)".to_string();
    }
    match chrono::Local.timestamp_millis_opt(ms).single() {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S%:z").to_string(),
        None => "(bad time)".to_string(),
    }
}

/// How long before `now_ms` a time was: `45s ago`, `3m ago`, `2h ago`, `5d ago`; empty for
/// an unknown time.
pub fn format_age(now_ms: i64, ms: i64) -> String {
    if ms == super::NO_TIME {
        return String::new();
    }
    let d = (now_ms - ms) / 1000;
    let (n, future) = if d < 0 { (-d, true) } else { (d, false) };
    let s = match n {
        0..=59 => format!("{n}s"),
        60..=3599 => format!("{}m", n / 60),
        3600..=86_399 => format!("{}h", n / 3600),
        _ => format!("{}d", n / 86_400),
    };
    if future {
        format!("in {s}")
    } else {
        format!("{s} ago")
    }
}

/// RFC 3339 for machine output (CSV).
pub fn format_rfc3339(ms: i64) -> String {
    if ms == super::NO_TIME {
        return String::new();
    }
    if let Some(s) = format_fixed(ms, b'T') {
        return s;
    }
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => String::new(),
    }
}

/// `2024-07-31T12:46:41Z` with `sep` between date and time, for years 0 to 9999; written by
/// hand (`detect` writes one per detection and `print --format table` one per row, and
/// chrono's formatter took most of that time).
fn format_fixed(ms: i64, sep: u8) -> Option<String> {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    if !(0..=9999).contains(&y) {
        return None;
    }
    let sod = secs.rem_euclid(86_400) as u32;
    let mut out = [0u8; 20];
    let mut put = |at: usize, v: u32, width: usize| {
        for i in 0..width {
            out[at + width - 1 - i] = b'0' + (v / 10u32.pow(i as u32) % 10) as u8;
        }
    };
    put(0, y as u32, 4);
    put(5, m, 2);
    put(8, d, 2);
    put(11, sod / 3600, 2);
    put(14, sod / 60 % 60, 2);
    put(17, sod % 60, 2);
    for (at, c) in [(4, b'-'), (7, b'-'), (10, sep), (13, b':'), (16, b':'), (19, b'Z')] {
        out[at] = c;
    }
    Some(out.iter().map(|&b| b as char).collect())
}

/// RFC 3339 with milliseconds when they are not zero (round-trips `since:`/`until:`).
pub fn format_rfc3339_ms(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) if ms % 1000 == 0 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => ms.to_string(),
    }
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// The date (year, month, day) `days` after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + (m <= 2) as i64, m, d)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_chrono() {
        for s in ["2024-07-31T12:46:41Z", "1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "2026-11-21T05:13:08Z"] {
            let chrono = DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
            assert_eq!(parse_event_time(s), Some(chrono), "{s}");
        }
    }

    #[test]
    fn rfc3339_and_list_time_written_as_chrono_writes_them() {
        let chrono = |ms: i64| match Utc.timestamp_millis_opt(ms).single() {
            Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            None => String::new(),
        };
        let list = |ms: i64| match Utc.timestamp_millis_opt(ms).single() {
            Some(t) => t.format("%Y-%m-%d %H:%M:%SZ").to_string(),
            None => "(bad time)".to_string(),
        };
        let year = 31_556_952_000i64;
        let mut ms: i64 = -3000 * year;
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        while ms < 12_000 * year {
            for t in [ms, ms - 1, ms + 999, ms.div_euclid(86_400_000) * 86_400_000] {
                assert_eq!(format_rfc3339(t), chrono(t), "{t}");
                assert_eq!(format_list_time(t), list(t), "{t}");
            }
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ms += (x % (90 * 86_400_000)) as i64;
        }
        for t in
            [i64::MIN + 1, i64::MAX, -62_167_219_200_000, -62_167_219_200_001, 253_402_300_799_999, 253_402_300_800_000]
        {
            assert_eq!(format_rfc3339(t), chrono(t), "{t}");
            assert_eq!(format_list_time(t), list(t), "{t}");
        }
    }

    #[test]
    fn odd_formats() {
        assert_eq!(parse_event_time("2024-07-31T12:46:41.123Z"), Some(1_722_430_001_123));
        assert_eq!(parse_event_time("2024-07-31T14:46:41+02:00"), Some(1_722_430_001_000));
        assert_eq!(parse_event_time("2024-07-31 12:46:41"), Some(1_722_430_001_000));
        assert_eq!(parse_event_time("2023-02-30T00:00:00Z"), None);
        assert_eq!(parse_event_time("yesterday"), None);
        assert_eq!(parse_event_time("1722430001"), Some(1_722_430_001_000));
        assert_eq!(parse_event_time("1722430001123"), Some(1_722_430_001_123));
        assert_eq!(parse_event_time(""), None);
    }

    #[test]
    fn ages_and_args() {
        assert_eq!(parse_age("15m"), Some(900_000));
        assert_eq!(parse_age("7d"), Some(604_800_000));
        assert_eq!(parse_age("7x"), None);
        assert_eq!(parse_age("d"), None);
        let now = 1_700_000_000_000;
        assert_eq!(parse_time_arg("36500d", now), Ok(now - MAX_AGE_MS));
        assert!(matches!(parse_time_arg("36501d", now), Err(BadTime::TooOld(_))));
        assert!(matches!(parse_time_arg("99999999999d", now), Err(BadTime::TooOld(_))));
        assert!(matches!(parse_time_arg("999999999999999999999999d", now), Err(BadTime::TooOld(_))));
        assert!(matches!(parse_time_arg("7x", now), Err(BadTime::NotATime(_))));
        assert_eq!(parse_time_arg("1h", 10_000_000), Ok(10_000_000 - 3_600_000));
        assert!(parse_time_arg("2024-05-01T00:00:00Z", 0).is_ok());
        assert!(parse_time_arg("soon", 0).is_err());
        assert_eq!(format_list_time(1_722_430_001_000), "2024-07-31 12:46:41Z");
        assert_eq!(format_age(1_000_000_000, 1_000_000_000 - 180_000), "3m ago");
        assert_eq!(format_age(1_000_000_000, 1_000_000_000 - 7_200_000), "2h ago");
        assert_eq!(format_age(1_000_000_000, 1_000_000_000 + 5_000), "in 5s");
        assert_eq!(format_age(0, super::super::NO_TIME), "");
    }
}
