//! One record as LookupEvents sees it: the fields the service filters on and returns,
//! taken from a raw CloudTrail record.

use serde_json::Value;

/// One record as LookupEvents sees it.
#[derive(Debug, Clone)]
pub struct Record {
    pub event_id: String,
    pub event_name: Option<String>,
    /// "true" / "false", as the service returns it.
    pub read_only: Option<String>,
    pub access_key_id: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub event_source: Option<String>,
    pub username: Option<String>,
    /// (ResourceType, ResourceName) pairs.
    pub resources: Vec<(Option<String>, Option<String>)>,
    pub region: String,
    pub insight: bool,
    /// The record as compact JSON text (the `CloudTrailEvent` string).
    pub json: String,
}

impl Record {
    /// Builds the lookup view of one raw CloudTrail record; `None` when it lacks an
    /// eventID, a readable eventTime or an awsRegion (the service could not have stored it).
    pub fn from_value(v: &Value) -> Option<Record> {
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let event_id = s(v, "eventID")?;
        let time = v.get("eventTime")?.as_str()?;
        let time_ms = chrono::DateTime::parse_from_rfc3339(time).ok()?.timestamp_millis();
        let region = s(v, "awsRegion")?;
        let ui = v.get("userIdentity").cloned().unwrap_or(Value::Null);
        let read_only = match v.get("readOnly") {
            Some(Value::Bool(b)) => Some(b.to_string()),
            Some(Value::String(s)) => Some(s.to_ascii_lowercase()),
            _ => None,
        };
        let resources = match v.get("resources") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|r| (s(r, "type"), s(r, "ARN").or_else(|| s(r, "arn"))))
                .filter(|(t, n)| t.is_some() || n.is_some())
                .collect(),
            _ => Vec::new(),
        };
        let insight = v.get("eventCategory").and_then(Value::as_str) == Some("Insight");
        // Insights events name the API and service they are about in insightDetails.
        let details = v.get("insightDetails").cloned().unwrap_or(Value::Null);
        Some(Record {
            event_id,
            event_name: s(v, "eventName").or_else(|| s(&details, "eventName")),
            read_only,
            access_key_id: s(&ui, "accessKeyId").filter(|k| !k.is_empty()),
            time_ms,
            event_source: s(v, "eventSource").or_else(|| s(&details, "eventSource")),
            username: username(&ui),
            resources,
            region,
            insight,
            json: serde_json::to_string(v).ok()?,
        })
    }

    /// Does this record carry `value` for the lookup attribute `key`? (exact, case-sensitive)
    pub fn matches(&self, key: AttrKey, value: &str) -> bool {
        let eq = |f: &Option<String>| f.as_deref() == Some(value);
        match key {
            AttrKey::EventId => self.event_id == value,
            AttrKey::EventName => eq(&self.event_name),
            AttrKey::ReadOnly => eq(&self.read_only),
            AttrKey::Username => eq(&self.username),
            AttrKey::ResourceType => self.resources.iter().any(|(t, _)| eq(t)),
            AttrKey::ResourceName => self.resources.iter().any(|(_, n)| eq(n)),
            AttrKey::EventSource => eq(&self.event_source),
            AttrKey::AccessKeyId => eq(&self.access_key_id),
        }
    }
}

/// The user name LookupEvents reports: the IAM user name, the session name of an assumed
/// role, "root" for the root user, else the last part of the principal's ARN.
pub fn username(ui: &Value) -> Option<String> {
    let get = |k: &str| ui.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let arn_tail = || get("arn").and_then(|a| a.rsplit('/').next()).map(str::to_string);
    match get("type") {
        Some("Root") => Some("root".to_string()),
        Some("AssumedRole") => arn_tail().or_else(|| get("userName").map(str::to_string)),
        _ => get("userName").map(str::to_string).or_else(|| {
            // A federated user's ARN ends in its name; other principals have no user name.
            get("arn").filter(|a| a.contains(":federated-user/")).and_then(|_| arn_tail())
        }),
    }
}

/// The lookup attribute keys the service knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrKey {
    EventId,
    EventName,
    ReadOnly,
    Username,
    ResourceType,
    ResourceName,
    EventSource,
    AccessKeyId,
}

impl AttrKey {
    pub fn parse(s: &str) -> Option<AttrKey> {
        Some(match s {
            "EventId" => AttrKey::EventId,
            "EventName" => AttrKey::EventName,
            "ReadOnly" => AttrKey::ReadOnly,
            "Username" => AttrKey::Username,
            "ResourceType" => AttrKey::ResourceType,
            "ResourceName" => AttrKey::ResourceName,
            "EventSource" => AttrKey::EventSource,
            "AccessKeyId" => AttrKey::AccessKeyId,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            AttrKey::EventId => "EventId",
            AttrKey::EventName => "EventName",
            AttrKey::ReadOnly => "ReadOnly",
            AttrKey::Username => "Username",
            AttrKey::ResourceType => "ResourceType",
            AttrKey::ResourceName => "ResourceName",
            AttrKey::EventSource => "EventSource",
            AttrKey::AccessKeyId => "AccessKeyId",
        }
    }
}
