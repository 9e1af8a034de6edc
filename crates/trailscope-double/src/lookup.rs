//! The LookupEvents operation proper: request parsing and validation, the query, paging
//! tokens and the response body.

use serde::Serialize;
use serde_json::Value;

use crate::archive::Archive;
use crate::record::{AttrKey, Record};

/// How far back the service looks.
pub const RETENTION_MS: i64 = 90 * 86_400 * 1000;
pub const MAX_RESULTS: i64 = 50;

/// A service error as the wire shows it: HTTP status, `__type` / `x-amzn-ErrorType`, message.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub name: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, name: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, name, message: message.into() }
    }
    pub fn bad(name: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(400, name, message)
    }
    /// `{"__type":"Name","message":"..."}`
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"__type": self.name, "message": self.message})).unwrap_or_default()
    }
}

/// A parsed LookupEvents request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LookupRequest {
    pub attributes: Vec<(String, String)>,
    pub start: Option<f64>,
    pub end: Option<f64>,
    pub category: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

fn serialization(message: impl Into<String>) -> ApiError {
    ApiError::bad("SerializationException", message)
}

impl LookupRequest {
    /// Reads the JSON body (an empty body is an empty request, as with the real service).
    pub fn parse(body: &[u8]) -> Result<LookupRequest, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(LookupRequest::default());
        }
        let v: Value = serde_json::from_slice(body).map_err(|e| serialization(format!("Malformed JSON: {e}")))?;
        let Value::Object(map) = v else {
            return Err(serialization("Start of structure or map found where not expected."));
        };
        let mut req = LookupRequest::default();
        let num = |k: &str, v: &Value| match v {
            Value::Number(n) => n.as_f64().ok_or_else(|| serialization(format!("{k} is not a number"))),
            _ => Err(serialization(format!("STRING_VALUE can not be converted to a Timestamp ({k})"))),
        };
        let string = |k: &str, v: &Value| {
            v.as_str().map(str::to_string).ok_or_else(|| serialization(format!("{k} must be a string")))
        };
        for (k, v) in &map {
            if v.is_null() {
                continue;
            }
            match k.as_str() {
                "LookupAttributes" => {
                    let Value::Array(items) = v else {
                        return Err(serialization("LookupAttributes must be a list"));
                    };
                    for item in items {
                        let key = item.get("AttributeKey").and_then(Value::as_str);
                        let value = item.get("AttributeValue").and_then(Value::as_str);
                        match (key, value) {
                            (Some(key), Some(value)) => req.attributes.push((key.to_string(), value.to_string())),
                            _ => {
                                return Err(ApiError::bad(
                                    "InvalidLookupAttributesException",
                                    "Each lookup attribute needs an AttributeKey and an AttributeValue.",
                                ))
                            }
                        }
                    }
                }
                "StartTime" => req.start = Some(num(k, v)?),
                "EndTime" => req.end = Some(num(k, v)?),
                "EventCategory" => req.category = Some(string(k, v)?),
                "MaxResults" => {
                    req.max_results = Some(v.as_i64().ok_or_else(|| serialization("MaxResults must be an integer"))?)
                }
                "NextToken" => req.next_token = Some(string(k, v)?),
                _ => {} // the service ignores members it does not know
            }
        }
        Ok(req)
    }

    /// The attribute as the request log shows it ("Key=Value", comma-joined if several).
    pub fn attribute_text(&self) -> Option<String> {
        (!self.attributes.is_empty())
            .then(|| self.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","))
    }

    /// Hash of everything a NextToken is bound to.
    fn params_hash(&self, region: &str) -> u64 {
        let mut s = Vec::new();
        s.extend_from_slice(region.as_bytes());
        for (k, v) in &self.attributes {
            s.push(0);
            s.extend_from_slice(k.as_bytes());
            s.push(1);
            s.extend_from_slice(v.as_bytes());
        }
        s.push(2);
        for t in [self.start, self.end] {
            s.extend_from_slice(&t.map_or(u64::MAX, f64::to_bits).to_le_bytes());
        }
        s.extend_from_slice(self.category.as_deref().unwrap_or("-").as_bytes());
        xxhash_rust::xxh3::xxh3_64(&s)
    }
}

/// The paging state a NextToken carries: the parameters' hash, the time window fixed by the
/// first page, and the position of the next event in the (region, category) partition.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Token {
    hash: u64,
    lo_ms: i64,
    hi_ms: i64,
    pos: u32,
}

const TOKEN_VERSION: u8 = 1;
const TOKEN_LEN: usize = 1 + 8 + 8 + 8 + 4 + 4;

impl Token {
    fn encode(&self) -> String {
        let mut b = Vec::with_capacity(TOKEN_LEN);
        b.push(TOKEN_VERSION);
        b.extend_from_slice(&self.hash.to_le_bytes());
        b.extend_from_slice(&self.lo_ms.to_le_bytes());
        b.extend_from_slice(&self.hi_ms.to_le_bytes());
        b.extend_from_slice(&self.pos.to_le_bytes());
        let check = xxhash_rust::xxh3::xxh3_64(&b) as u32;
        b.extend_from_slice(&check.to_le_bytes());
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn decode(s: &str) -> Option<Token> {
        if s.len() != TOKEN_LEN * 2 || !s.is_ascii() {
            return None;
        }
        let b: Vec<u8> =
            (0..TOKEN_LEN).map(|i| u8::from_str_radix(&s[i * 2..i * 2 + 2], 16)).collect::<Result<_, _>>().ok()?;
        let (body, check) = b.split_at(TOKEN_LEN - 4);
        if body[0] != TOKEN_VERSION
            || xxhash_rust::xxh3::xxh3_64(body) as u32 != u32::from_le_bytes(check.try_into().ok()?)
        {
            return None;
        }
        let u64_at = |i: usize| u64::from_le_bytes(body[i..i + 8].try_into().unwrap());
        Some(Token {
            hash: u64_at(1),
            lo_ms: u64_at(9) as i64,
            hi_ms: u64_at(17) as i64,
            pos: u32::from_le_bytes(body[25..29].try_into().unwrap()),
        })
    }
}

/// One page of results.
#[derive(Debug)]
pub struct Page<'a> {
    pub events: Vec<&'a Record>,
    pub next_token: Option<String>,
}

/// Validates and runs one lookup against `archive` for `region`, at wall-clock `now_ms`.
pub fn lookup<'a>(archive: &'a Archive, req: &LookupRequest, region: &str, now_ms: i64) -> Result<Page<'a>, ApiError> {
    if req.attributes.len() > 1 {
        return Err(ApiError::bad(
            "InvalidLookupAttributesException",
            "You cannot have more than one lookup attribute in a single request.",
        ));
    }
    let attr = match req.attributes.first() {
        None => None,
        Some((k, v)) => match AttrKey::parse(k) {
            Some(key) => Some((key, v.as_str())),
            None => {
                return Err(ApiError::bad(
                    "InvalidLookupAttributesException",
                    format!("Lookup attribute key {k} is not valid."),
                ))
            }
        },
    };
    let insight = match req.category.as_deref() {
        None => false,
        Some("insight") => true,
        Some(c) => {
            return Err(ApiError::bad("InvalidEventCategoryException", format!("Event category {c} is not valid.")))
        }
    };
    if let (Some(s), Some(e)) = (req.start, req.end) {
        if s > e {
            return Err(ApiError::bad("InvalidTimeRangeException", "Start time must not be after end time."));
        }
    }
    let max = req.max_results.unwrap_or(MAX_RESULTS);
    if !(1..=MAX_RESULTS).contains(&max) {
        return Err(ApiError::bad(
            "InvalidMaxResultsException",
            format!("Value {max} for MaxResults is not valid; it must be between 1 and {MAX_RESULTS}."),
        ));
    }
    let hash = req.params_hash(region);
    let part = archive.partition(region, insight);
    let recs = &archive.records;
    let (lo_ms, hi_ms, from) = match &req.next_token {
        Some(t) => {
            let tok = Token::decode(t)
                .filter(|tok| tok.hash == hash && tok.pos as usize <= part.len())
                .ok_or_else(|| ApiError::bad("InvalidNextTokenException", "Invalid NextToken."))?;
            (tok.lo_ms, tok.hi_ms, tok.pos as usize)
        }
        None => {
            let start_ms = req.start.map_or(i64::MIN, |s| (s * 1000.0).ceil() as i64);
            let end_ms = req.end.map_or(i64::MAX, |e| (e * 1000.0).floor() as i64);
            let lo = start_ms.max(now_ms.saturating_sub(RETENTION_MS));
            let hi = end_ms.min(now_ms);
            (lo, hi, part.partition_point(|&i| recs[i as usize].time_ms > hi))
        }
    };
    let mut events = Vec::new();
    let mut next_token = None;
    for (pos, &i) in part.iter().enumerate().skip(from) {
        let r = &recs[i as usize];
        if r.time_ms < lo_ms {
            break;
        }
        if r.time_ms > hi_ms || !attr.is_none_or(|(k, v)| r.matches(k, v)) {
            continue;
        }
        if events.len() as i64 == max {
            next_token = Some(Token { hash, lo_ms, hi_ms, pos: pos as u32 }.encode());
            break;
        }
        events.push(r);
    }
    Ok(Page { events, next_token })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OutResource<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_name: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OutEvent<'a> {
    event_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_only: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<&'a str>,
    event_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_source: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    resources: Vec<OutResource<'a>>,
    cloud_trail_event: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OutPage<'a> {
    events: Vec<OutEvent<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<&'a str>,
}

impl Page<'_> {
    /// The response body.
    pub fn body(&self) -> Vec<u8> {
        let events = self
            .events
            .iter()
            .map(|r| OutEvent {
                event_id: &r.event_id,
                event_name: r.event_name.as_deref(),
                read_only: r.read_only.as_deref(),
                access_key_id: r.access_key_id.as_deref(),
                event_time: r.time_ms as f64 / 1000.0,
                event_source: r.event_source.as_deref(),
                username: r.username.as_deref(),
                resources: r
                    .resources
                    .iter()
                    .map(|(t, n)| OutResource { resource_type: t.as_deref(), resource_name: n.as_deref() })
                    .collect(),
                cloud_trail_event: &r.json,
            })
            .collect();
        serde_json::to_vec(&OutPage { events, next_token: self.next_token.as_deref() }).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trip_and_tamper() {
        let t = Token { hash: 0xdead_beef_1234, lo_ms: -5, hi_ms: 1_700_000_000_000, pos: 77 };
        let s = t.encode();
        assert_eq!(Token::decode(&s), Some(t));
        let mut bad = s.clone().into_bytes();
        bad[20] = if bad[20] == b'0' { b'1' } else { b'0' };
        assert_eq!(Token::decode(std::str::from_utf8(&bad).unwrap()), None);
        assert_eq!(Token::decode("abc"), None);
        assert_eq!(Token::decode(&"zz".repeat(TOKEN_LEN)), None);
    }

    #[test]
    fn parse_request() {
        let r = LookupRequest::parse(
            br#"{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"X"}],"StartTime":1.5,"EndTime":2,"MaxResults":5}"#,
        )
        .unwrap();
        assert_eq!(r.attributes, vec![("EventName".to_string(), "X".to_string())]);
        assert_eq!((r.start, r.end, r.max_results), (Some(1.5), Some(2.0), Some(5)));
        assert_eq!(LookupRequest::parse(b"").unwrap(), LookupRequest::default());
        assert_eq!(LookupRequest::parse(b"{").unwrap_err().name, "SerializationException");
        assert_eq!(LookupRequest::parse(br#"{"StartTime":"x"}"#).unwrap_err().name, "SerializationException");
    }
}
