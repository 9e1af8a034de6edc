//! `--trail NAME|ARN`: where a trail delivers (DescribeTrails) and when it last did
//! (GetTrailStatus).

use super::fetch::{sdk_config, Connect};
use super::layout::S3Url;
use aws_sdk_cloudtrail::error::{DisplayErrorContext, ProvideErrorMetadata};

/// A trail as DescribeTrails and GetTrailStatus describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrailInfo {
    /// The trail's name.
    pub name: String,
    /// Where it delivers: its bucket and key prefix.
    pub url: S3Url,
    /// When the trail last delivered a log file, if it says.
    pub latest_delivery_ms: Option<i64>,
    /// The last delivery error, if any.
    pub delivery_error: Option<String>,
}

fn explain<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: &aws_sdk_cloudtrail::error::SdkError<E, R>,
    call: &str,
    trail: &str,
) -> String {
    let text = match (e.code(), e.message()) {
        (Some(c @ ("AccessDeniedException" | "AccessDenied")), m) => format!(
            "{call} of trail '{trail}' was denied ({c}: {}): the identity needs cloudtrail:{call}",
            m.unwrap_or("")
        ),
        (Some(c @ ("TrailNotFoundException" | "InvalidTrailNameException")), m) => {
            format!("no trail '{trail}' ({c}: {}); `aws cloudtrail describe-trails` lists them", m.unwrap_or(""))
        }
        (Some(c), m) => format!("{call} of trail '{trail}' failed: {c}: {}", m.unwrap_or("")),
        (None, _) => format!("{call} of trail '{trail}' failed: {}", DisplayErrorContext(e)),
    };
    crate::sanitize::sanitize(&text).into_owned()
}

/// Finds the trail's bucket and prefix, and its last delivery.
pub async fn describe(c: &Connect, trail: &str) -> Result<TrailInfo, String> {
    let sdk = sdk_config(c).await;
    let client = aws_sdk_cloudtrail::Client::new(&sdk);
    let out = client
        .describe_trails()
        .trail_name_list(trail)
        .include_shadow_trails(true)
        .send()
        .await
        .map_err(|e| explain(&e, "DescribeTrails", trail))?;
    let found = out.trail_list().iter().find(|t| t.name() == Some(trail) || t.trail_arn() == Some(trail));
    let Some(t) = found else {
        return Err(crate::sanitize::sanitize(&format!(
            "no trail '{trail}' in this account and region; `aws cloudtrail describe-trails` lists them (or pass --region)"
        ))
        .into_owned());
    };
    let bucket = t.s3_bucket_name().unwrap_or("").to_string();
    if bucket.is_empty() {
        return Err(format!("trail '{}' has no S3 bucket", crate::sanitize::sanitize(trail)));
    }
    let prefix = t.s3_key_prefix().unwrap_or("").trim_matches('/').to_string();
    let name = t.name().unwrap_or(trail).to_string();
    let status = client.get_trail_status().name(t.trail_arn().unwrap_or(&name)).send().await;
    let (latest_delivery_ms, delivery_error) = match status {
        Ok(s) => (
            s.latest_delivery_time().and_then(|d| d.to_millis().ok()),
            s.latest_delivery_error().filter(|e| !e.is_empty()).map(|e| crate::sanitize::sanitize(e).into_owned()),
        ),
        Err(e) => (None, Some(explain(&e, "GetTrailStatus", trail))),
    };
    Ok(TrailInfo { name, url: S3Url { bucket, prefix }, latest_delivery_ms, delivery_error })
}
