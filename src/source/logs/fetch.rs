//! FilterLogEvents paged to its end for each log group: paced per region (shared by every
//! group there), retried on throttling and server errors, with errors that say what to do.

use super::{page_records, GroupRef, GroupStatus, LogsConfig, LogsStatus, DEFAULT_SPACING};
use crate::cache::coverage::{self, TimeSpan};
use crate::cache::{LookupKey, StoredEvent};
use crate::model::raw::SourceFile;
use crate::sanitize::cut;
use crate::source::lookup::Pacer;
use crate::source::s3::fetch::{backoff, debug_status, sdk_config};
use crate::source::{Found, Problem};
use aws_sdk_cloudwatchlogs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// How many times one page is asked before the group stops with an error.
pub const MAX_ATTEMPTS: u32 = 8;
/// startFromHead=false (newest first) is taken for windows from 2024-01-01 on.
const NEWEST_FIRST_FROM_MS: i64 = 1_704_067_200_000;
/// Empty pages answered with the token they were asked with, in a row, before a span is given up.
const MAX_SAME_TOKEN: usize = 50;
/// Non-CloudTrail log events named one by one among the problems, per group (the rest counted).
const NAMED_REJECTS: usize = 20;
/// The longest explanation kept (an endpoint may send anything).
const MAX_EXPLANATION: usize = 600;

/// A failed request, explained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What happened and what to do (sanitised).
    pub text: String,
    /// Asking again may work.
    pub retry: bool,
    /// The log group does not exist (the groups that might be meant are worth listing).
    pub no_group: bool,
}

/// Explains a failed CloudWatch Logs call about `group` in `region`.
pub fn explain<E, R>(err: &SdkError<E, R>, call: &str, group: &str, region: &str) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = err.code().unwrap_or("");
    let msg = err.message().unwrap_or("");
    let raw = DisplayErrorContext(err).to_string();
    let status = err.raw_response().map(debug_status).filter(|&s| s != 0);
    let (text, retry, no_group) = match code {
        "AccessDeniedException" | "AccessDenied" => (
            format!(
                "{call} on log group {group} in {region} was denied: the identity needs logs:{call} on \
                 arn:aws:logs:{region}:ACCOUNT:log-group:{group} ({msg})"
            ),
            false,
            false,
        ),
        "ResourceNotFoundException" => (
            format!("no log group {group} in {region} ({msg}); pass --region, or the group's ARN"),
            false,
            true,
        ),
        "ExpiredTokenException" | "ExpiredToken" | "RequestExpired" => (
            format!(
                "the credentials expired while reading log group {group} ({msg}); what was fetched is shown; \
                 refresh them (e.g. `aws sso login`) and run again"
            ),
            false,
            false,
        ),
        "UnrecognizedClientException" | "InvalidClientTokenId" | "InvalidSignatureException" => (
            format!("CloudWatch Logs in {region} did not accept the credentials ({code}: {msg}); check the profile and keys"),
            false,
            false,
        ),
        "InvalidParameterException" => (format!("{call} of log group {group} was refused: {msg}"), false, false),
        "ThrottlingException" | "Throttling" | "TooManyRequestsException" | "LimitExceededException" => (
            format!("CloudWatch Logs kept throttling {call} of log group {group} after {MAX_ATTEMPTS} tries; try again later"),
            true,
            false,
        ),
        "ServiceUnavailableException" | "InternalFailure" | "InternalServerError" => (
            format!("CloudWatch Logs answered {code} for log group {group} after {MAX_ATTEMPTS} tries ({msg})"),
            true,
            false,
        ),
        _ => match err {
            SdkError::TimeoutError(_) => (format!("{call} of log group {group} timed out"), true, false),
            SdkError::DispatchFailure(_) => (
                format!("could not reach CloudWatch Logs in {region}: {}", brief(&raw)),
                true,
                false,
            ),
            SdkError::ResponseError(_) => (
                format!("the answer to {call} of log group {group} could not be read (the connection may have dropped)"),
                true,
                false,
            ),
            _ if raw.contains("no providers in chain") || raw.contains("failed to load credentials") => (
                "no AWS credentials found: set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, \
                 or run `aws configure`"
                    .to_string(),
                false,
                false,
            ),
            SdkError::ServiceError(_) if status.is_some_and(|s| s >= 500 || s == 429) => (
                format!(
                    "CloudWatch Logs answered HTTP {} {code} for log group {group} after {MAX_ATTEMPTS} tries",
                    status.unwrap_or(0)
                ),
                true,
                false,
            ),
            _ => (format!("{call} of log group {group} in {region} failed: {code} {msg} {}", brief(&raw)), false, false),
        },
    };
    Failure { text: cut(&crate::sanitize::sanitize(text.trim_end()), MAX_EXPLANATION), retry, no_group }
}

/// The SDK's error chain without the debug dump it appends.
fn brief(full: &str) -> String {
    let cut_at = ["(DispatchFailure(", "(ServiceError(", "(ResponseError(", "(TimeoutError(", "(ConstructionFailure("]
        .iter()
        .filter_map(|m| full.find(m))
        .min()
        .unwrap_or(full.len());
    full[..cut_at].trim_end().to_string()
}

/// A CloudWatch Logs client for `region`: the SDK's own retries off (they are done here, so
/// that they are paced and counted).
pub fn client(sdk: &aws_config::SdkConfig, region: &str, cfg: &LogsConfig) -> aws_sdk_cloudwatchlogs::Client {
    let timeout = cfg.connect.timeout.unwrap_or(Duration::from_secs(60));
    let conf = aws_sdk_cloudwatchlogs::config::Builder::from(sdk)
        .region(aws_config::Region::new(region.to_string()))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(crate::source::attempt_timeouts(timeout))
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(conf)
}

/// The reading of every log group of a load, run on the source's runtime.
pub struct Job {
    /// How to connect, which groups.
    pub cfg: LogsConfig,
    /// The groups named on the command line.
    pub groups: Vec<GroupRef>,
    /// The JSON filter pattern sent, if any.
    pub pattern: Option<String>,
    /// The regions the filter asks for (only their streams are read); empty: every stream.
    pub regions: Vec<String>,
    /// The events wanted (ms, inclusive).
    pub window: (i64, i64),
    /// Shared with whoever shows it.
    pub status: Arc<Mutex<LogsStatus>>,
    /// The local store.
    pub store: Arc<super::store::LogsStore>,
    /// Who the requests run as, and against which endpoint (the store's key).
    pub scope: String,
    /// When the window was frozen (ms).
    pub fetched_ms: i64,
    /// Whether the consumer wants more; `None`: always.
    pub hungry: Option<tokio::sync::watch::Receiver<bool>>,
}

type Tx = UnboundedSender<Found>;

impl Job {
    fn status(&self) -> std::sync::MutexGuard<'_, LogsStatus> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn problem(tx: &Tx, input: &str, reason: String, skipped: bool) {
        let input = crate::sanitize::sanitize(input).into_owned();
        let _ = tx.send(Found::Problem(Problem { input, reason, skipped }));
    }

    /// Reads every group (the trail's first), all at once, each page after page: first what
    /// the store has of the window, then only the spans it lacks (nothing, when it has all).
    pub async fn run(self, tx: Tx) {
        let sdk = sdk_config(&self.cfg.connect).await;
        let api_region = self
            .cfg
            .connect
            .region
            .clone()
            .or_else(|| sdk.region().map(|r| r.to_string()))
            .unwrap_or_else(|| "us-east-1".to_string());
        let mut groups = self.groups.clone();
        if let Some(trail) = &self.cfg.trail {
            if self.cfg.offline {
                Self::problem(
                    &tx,
                    &format!("trail {trail}"),
                    "offline: DescribeTrails is not asked; name the trail's log group with --log-group instead".into(),
                    true,
                );
            } else {
                match trail_group(&sdk, trail).await {
                    Ok((arn, group)) => {
                        self.status().trail = Some((trail.clone(), arn));
                        groups.insert(0, group);
                    }
                    Err(e) => Self::problem(&tx, &format!("trail {trail}"), e, true),
                }
            }
        }
        let job = Arc::new(self);
        let mut pacers: HashMap<String, Arc<Pacer>> = HashMap::new();
        let mut tasks = tokio::task::JoinSet::new();
        for g in groups {
            let region = g.region.clone().unwrap_or_else(|| api_region.clone());
            let spacing = job.cfg.spacing.unwrap_or(DEFAULT_SPACING);
            let pacer = pacers.entry(region.clone()).or_insert_with(|| Arc::new(Pacer::new(spacing))).clone();
            let idx = {
                let mut st = job.status();
                st.groups.push(GroupStatus { name: g.name.clone(), region: region.clone(), ..Default::default() });
                st.groups.len() - 1
            };
            let client = client(&sdk, &region, &job.cfg);
            let (job, tx) = (job.clone(), tx.clone());
            tasks.spawn(async move {
                let mut reading =
                    Reading { client, name: g.name, region, idx, pacer, tx, pages: 0, named_rejects: 0, sent: 0 };
                job.group(&mut reading).await
            });
        }
        while tasks.join_next().await.is_some() {}
        let notes: Vec<String> = job.store.notes.lock().unwrap_or_else(|p| p.into_inner()).clone();
        job.status().notes = notes;
    }

    /// One group: what the store has, then the spans it lacks, each paged to its end.
    async fn group(self: Arc<Self>, r: &mut Reading) {
        let input = format!("log group {}", r.name);
        let window = TimeSpan::new(self.window.0, self.window.1);
        let key = LookupKey {
            scope: self.scope.clone(),
            region: r.region.clone(),
            category: "logs".into(),
            attr_key: r.name.clone(),
            attr_value: self.pattern.clone().unwrap_or_default(),
        };
        let mut bodies = Vec::new();
        let from =
            tokio::task::block_in_place(|| self.store.read(&key, window, !self.cfg.offline, &mut |b| bodies.push(b)));
        let (lookup, gaps) = match &from {
            Some(f) => (f.lookup, f.gaps.clone()),
            None => (None, vec![window]),
        };
        for (i, body) in bodies.into_iter().enumerate() {
            let name = format!(
                "{input} ({}), from the cache{}",
                r.region,
                if i > 0 { format!(" {}", i + 1) } else { String::new() }
            );
            let _ = r.tx.send(Found::File(SourceFile::in_memory(0, &name, body)));
            r.sent += 1;
        }
        if let Some(f) = &from {
            self.status().groups[r.idx].cached = f.events;
        }
        if self.cfg.offline {
            let missing = from.as_ref().map_or(vec![window], |f| f.missing.clone());
            if !missing.is_empty() {
                let spans: Vec<String> = missing.iter().map(|s| coverage::describe(*s)).collect();
                let nothing = from.as_ref().is_none_or(|f| f.events == 0);
                Self::problem(
                    &r.tx,
                    &input,
                    format!("offline: the cache does not have {} of this window", spans.join(", ")),
                    nothing,
                );
            }
            if r.sent == 0 && missing.is_empty() {
                let name = format!("{input} ({}), from the cache", r.region);
                let _ = r.tx.send(Found::File(SourceFile::in_memory(0, &name, b"{\"Records\":[]}".to_vec())));
            }
            self.status().groups[r.idx].done = true;
            return;
        }
        // A window the store covers asks nothing, not even for the streams.
        let streams = match if gaps.is_empty() { Ok(Vec::new()) } else { self.streams(r).await } {
            Ok(s) => s,
            Err(text) => {
                let mut st = self.status();
                st.groups[r.idx].error = Some(text.clone());
                st.groups[r.idx].done = true;
                drop(st);
                Self::problem(&r.tx, &input, text, from.as_ref().is_none_or(|f| f.events == 0));
                return;
            }
        };
        for gap in gaps {
            let mut result = Ok(lookup.is_some().then(Vec::new));
            for chunk in &streams {
                match self.span(r, gap, lookup.is_some(), chunk.as_deref()).await {
                    Ok(Some(mut events)) => {
                        if let Ok(Some(all)) = result.as_mut() {
                            all.append(&mut events);
                        }
                    }
                    Ok(None) => result = result.map(|_| None),
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            match result {
                Ok(Some(events)) => {
                    if let Some(lookup) = lookup {
                        let store_region = format!("logs:{}", r.region);
                        tokio::task::block_in_place(|| {
                            self.store.commit(lookup, &store_region, gap, self.fetched_ms, &events)
                        });
                    }
                }
                Ok(None) => {}
                Err(mut text) => {
                    if r.pages > 0 {
                        text.push_str(&format!(" (stopped after {} pages)", r.pages));
                    }
                    let mut st = self.status();
                    st.groups[r.idx].error = Some(text.clone());
                    st.groups[r.idx].done = true;
                    drop(st);
                    Self::problem(&r.tx, &input, text, r.pages == 0 && from.as_ref().is_none_or(|f| f.events == 0));
                    return;
                }
            }
        }
        if r.sent == 0 {
            // Read completely and empty: still an input read, not one missing.
            let name = format!("{input} ({})", r.region);
            let _ = r.tx.send(Found::File(SourceFile::in_memory(0, &name, b"{\"Records\":[]}".to_vec())));
        }
        let mut st = self.status();
        st.groups[r.idx].done = true;
        let other = st.groups[r.idx].not_cloudtrail;
        drop(st);
        if other > r.named_rejects {
            Self::problem(
                &r.tx,
                &input,
                format!(
                    "{other} log events were not CloudTrail records and were skipped ({} named above)",
                    r.named_rejects
                ),
                false,
            );
        }
    }

    /// Pages one span of a group to its end (an empty page with a token is not the end).
    /// With `keep`, returns its records as the store keeps them (`None` when one of them
    /// cannot be stored); `Err`: why it stopped.
    async fn span(
        &self,
        r: &mut Reading,
        span: TimeSpan,
        keep: bool,
        streams: Option<&[String]>,
    ) -> Result<Option<Vec<StoredEvent>>, String> {
        let input = format!("log group {}", r.name);
        let end = span.end.saturating_add(self.cfg.lag_ms.max(0));
        let mut token: Option<String> = None;
        // Empty pages that hand back the token they were asked with, in a row.
        let mut same_token = 0usize;
        let mut kept: Option<Vec<StoredEvent>> = keep.then(Vec::new);
        // Newest first where the service allows it (a window from 2024 on), so that what is
        // read first is what the list shows first.
        let mut backwards = span.start >= NEWEST_FIRST_FROM_MS;
        loop {
            if r.pages > 0 {
                self.wait_until_wanted().await;
            }
            let mut attempt = 0;
            let out = loop {
                r.pacer.wait().await;
                self.status().requests += 1;
                let req = r
                    .client
                    .filter_log_events()
                    .log_group_name(&r.name)
                    .start_time(span.start)
                    .end_time(end)
                    .set_filter_pattern(self.pattern.clone())
                    .set_next_token(token.clone())
                    .set_limit(self.cfg.page_limit)
                    .set_log_stream_names(streams.map(<[String]>::to_vec))
                    .set_start_from_head((backwards && token.is_none()).then_some(false));
                match req.send().await {
                    Ok(out) => break Ok(out),
                    Err(e) if backwards && token.is_none() && e.code() == Some("InvalidParameterException") => {
                        // An endpoint that does not take startFromHead: oldest first, then.
                        backwards = false;
                    }
                    Err(e) => {
                        let f = explain(&e, "FilterLogEvents", &r.name, &r.region);
                        attempt += 1;
                        if !f.retry || attempt >= MAX_ATTEMPTS {
                            break Err(f);
                        }
                        self.status().retries += 1;
                        backoff(attempt).await;
                    }
                }
            };
            let out = match out {
                Ok(out) => out,
                Err(f) => {
                    let mut text = f.text;
                    if f.no_group {
                        if let Some(list) = similar_groups(&r.client, &r.pacer).await {
                            text.push_str(&list);
                        }
                    }
                    return Err(text);
                }
            };
            r.pages += 1;
            let messages: Vec<&str> = out.events().iter().map(|e| e.message().unwrap_or("")).collect();
            let (body, n, rejected) = page_records(messages.iter().copied());
            if let Some(k) = kept.as_mut() {
                let mut rejected_at = rejected.iter().map(|r| r.0).peekable();
                for (i, m) in messages.iter().enumerate() {
                    if rejected_at.peek() == Some(&i) {
                        rejected_at.next();
                        continue;
                    }
                    match super::store::stored_event(m) {
                        Some(e) => k.push(e),
                        None => {
                            kept = None;
                            break;
                        }
                    }
                }
            }
            for (i, why) in &rejected {
                if r.named_rejects < NAMED_REJECTS {
                    r.named_rejects += 1;
                    let ev = &out.events()[*i];
                    let stream = ev.log_stream_name().unwrap_or("?");
                    let id = ev.event_id().unwrap_or("?");
                    Self::problem(
                        &r.tx,
                        &format!("{input}, stream {stream}, log event {id}"),
                        format!("not a CloudTrail record ({why}); skipped"),
                        false,
                    );
                }
            }
            {
                let mut st = self.status();
                let g = &mut st.groups[r.idx];
                g.pages += 1;
                g.events += n;
                g.not_cloudtrail += rejected.len();
            }
            if n > 0 {
                let file = SourceFile::in_memory(0, &format!("{input} ({}), page {}", r.region, r.pages), body);
                let _ = r.tx.send(Found::File(file));
                r.sent += 1;
            }
            let next = out.next_token().filter(|t| !t.is_empty()).map(str::to_string);
            // An empty page with a token is not the end, even with the same token; the same
            // token again and again, with nothing, would page forever.
            same_token = if next.is_some() && next == token && out.events().is_empty() { same_token + 1 } else { 0 };
            if same_token >= MAX_SAME_TOKEN {
                Self::problem(
                    &r.tx,
                    &input,
                    format!(
                        "CloudWatch Logs answered {MAX_SAME_TOKEN} empty pages in a row with the same nextToken after {} pages; stopped there",
                        r.pages
                    ),
                    false,
                );
                return Ok(None);
            }
            token = next;
            if token.is_none() {
                return Ok(kept);
            }
        }
    }
}

impl Job {
    /// Waits while the consumer wants nothing more (the TUI's list is not scrolled near its
    /// end); a consumer gone wants everything.
    async fn wait_until_wanted(&self) {
        let Some(mut h) = self.hungry.clone() else { return };
        while !*h.borrow_and_update() {
            if h.changed().await.is_err() {
                break;
            }
        }
    }

    /// The streams to read, in requests of at most 100 names (`None`: every stream): with
    /// `region:=` terms, those a trail writes for the region (and any of another shape),
    /// listed with DescribeLogStreams. When listing is denied, every stream is read.
    async fn streams(&self, r: &mut Reading) -> Result<Vec<Option<Vec<String>>>, String> {
        if self.regions.is_empty() {
            return Ok(vec![None]);
        }
        let (mut all, mut wanted) = (0usize, Vec::new());
        let mut token: Option<String> = None;
        loop {
            let mut attempt = 0;
            let out = loop {
                r.pacer.wait().await;
                self.status().requests += 1;
                match r.client.describe_log_streams().log_group_name(&r.name).set_next_token(token.clone()).send().await
                {
                    Ok(out) => break Ok(out),
                    Err(e) => {
                        let f = explain(&e, "DescribeLogStreams", &r.name, &r.region);
                        attempt += 1;
                        if !f.retry || attempt >= MAX_ATTEMPTS {
                            break Err(f);
                        }
                        self.status().retries += 1;
                        backoff(attempt).await;
                    }
                }
            };
            let out = match out {
                Ok(out) => out,
                Err(f) if f.no_group => return Err(f.text),
                Err(f) => {
                    Self::problem(
                        &r.tx,
                        &format!("log group {}", r.name),
                        format!("{}; every stream is read instead of those of the filter's region", f.text),
                        false,
                    );
                    return Ok(vec![None]);
                }
            };
            for s in out.log_streams() {
                let name = s.log_stream_name().unwrap_or("");
                all += 1;
                if super::pattern::stream_wanted(name, &self.regions) {
                    wanted.push(name.to_string());
                }
            }
            token = out.next_token().filter(|t| !t.is_empty() && token.as_deref() != Some(*t)).map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        self.status().groups[r.idx].streams = Some((wanted.len(), all));
        if wanted.len() == all {
            return Ok(vec![None]);
        }
        Ok(wanted.chunks(100).map(|c| Some(c.to_vec())).collect())
    }
}

/// One group being read.
struct Reading {
    client: aws_sdk_cloudwatchlogs::Client,
    name: String,
    region: String,
    idx: usize,
    pacer: Arc<Pacer>,
    tx: Tx,
    /// Pages read so far.
    pages: usize,
    /// Log events that were not records, named one by one so far.
    named_rejects: usize,
    /// Inputs handed to the loader so far.
    sent: usize,
}

/// Groups whose names contain "cloudtrail" or "trail", when DescribeLogGroups is allowed:
/// `; log groups here that may be meant: a, b`.
async fn similar_groups(client: &aws_sdk_cloudwatchlogs::Client, pacer: &Pacer) -> Option<String> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        pacer.wait().await;
        let out = client.describe_log_groups().set_next_token(token.clone()).send().await.ok()?;
        for g in out.log_groups() {
            let n = g.log_group_name().unwrap_or("");
            if n.to_ascii_lowercase().contains("trail") {
                names.push(crate::sanitize::sanitize(n).into_owned());
            }
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Some(if names.is_empty() {
        "; no log group here has \"trail\" in its name".to_string()
    } else {
        names.truncate(20);
        format!("; log groups here that may be meant: {}", names.join(", "))
    })
}

/// The log group a trail delivers to (`CloudWatchLogsLogGroupArn` from DescribeTrails): its ARN
/// and the group.
async fn trail_group(sdk: &aws_config::SdkConfig, trail: &str) -> Result<(String, GroupRef), String> {
    let client = aws_sdk_cloudtrail::Client::new(sdk);
    let out =
        client.describe_trails().trail_name_list(trail).include_shadow_trails(true).send().await.map_err(|e| {
            let text = match (e.code(), e.message()) {
                (Some(c @ ("AccessDeniedException" | "AccessDenied")), m) => format!(
                "DescribeTrails of trail '{trail}' was denied ({c}: {}): the identity needs cloudtrail:DescribeTrails",
                m.unwrap_or("")
            ),
                (Some(c), m) => format!("DescribeTrails of trail '{trail}' failed: {c}: {}", m.unwrap_or("")),
                (None, _) => format!(
                    "DescribeTrails of trail '{trail}' failed: {}",
                    brief(&aws_sdk_cloudtrail::error::DisplayErrorContext(&e).to_string())
                ),
            };
            crate::sanitize::sanitize(&text).into_owned()
        })?;
    let Some(t) = out.trail_list().iter().find(|t| t.name() == Some(trail) || t.trail_arn() == Some(trail)) else {
        return Err(crate::sanitize::sanitize(&format!(
            "no trail '{trail}' in this account and region; `aws cloudtrail describe-trails` lists them (or pass --region)"
        ))
        .into_owned());
    };
    let Some(arn) = t.cloud_watch_logs_log_group_arn().filter(|a| !a.is_empty()) else {
        return Err(crate::sanitize::sanitize(&format!(
            "trail '{trail}' does not deliver to CloudWatch Logs (DescribeTrails shows no CloudWatchLogsLogGroupArn); \
             read its S3 archive with --trail {trail} without --logs"
        ))
        .into_owned());
    };
    let group = super::parse_group(arn).map_err(|e| format!("trail '{trail}': {e}"))?;
    Ok((arn.to_string(), group))
}
