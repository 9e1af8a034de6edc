//! A wire-faithful test double of the AWS CloudTrail `LookupEvents` API, served over HTTP on
//! loopback from a local archive. For tests and benchmarks that exercise the real AWS SDK
//! (or the AWS CLI) where no AWS account is reachable; a development tool of trailscope, not
//! part of what it ships. It reads archives with its own reader ([`archive`]), independent
//! of the trailscope loader that its clients test.
//!
//! Protocol: AWS JSON 1.1 (`POST /`, `X-Amz-Target: [com.amazonaws.cloudtrail.v20131101.]CloudTrail_20131101.LookupEvents`),
//! SigV4 `Authorization` header parsed for the access key and region but not verified.
//! Errors: HTTP 400 (or 403/500/503), `x-amzn-ErrorType: Name`, body `{"__type":"Name","message":"..."}`.
//!
//! Admin endpoints on the same port: `GET /_double/log` (the request log, JSON),
//! `DELETE /_double/log`, `GET /_double/faults`, `POST /_double/faults` (a [`Faults`] JSON
//! object; replaces the faults and restarts their request counters).

pub mod archive;
pub mod faults;
pub mod lookup;
pub mod record;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::header::HeaderValue;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use archive::{Archive, LoadReport};
pub use faults::{Faults, Trigger};
pub use lookup::ApiError;
pub use record::Record;

/// The target prefix botocore and the AWS SDKs send.
pub const TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";
/// The short form of the same target, also accepted.
pub const SHORT_TARGET_PREFIX: &str = "CloudTrail_20131101";

/// How the double behaves.
#[derive(Debug, Clone)]
pub struct DoubleConfig {
    /// Requests per second allowed per (access key id, region); `f64::INFINITY` disables
    /// throttling. The real service allows 2.
    pub rate_per_sec: f64,
    /// Token bucket size: requests allowed at once before the rate applies.
    pub burst: u32,
    /// "Now" in epoch seconds, for the 90-day lookback and the default end time; `None`
    /// follows the real clock.
    pub now: Option<i64>,
    pub faults: Faults,
}

impl Default for DoubleConfig {
    fn default() -> Self {
        DoubleConfig { rate_per_sec: 2.0, burst: 2, now: None, faults: Faults::default() }
    }
}

/// One request as the double saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Milliseconds since the double started, when the request arrived.
    pub time_ms: u64,
    /// From the SigV4 credential scope, when readable.
    pub region: Option<String>,
    pub access_key: Option<String>,
    /// The lookup attribute(s) as "Key=Value" (comma-joined if several).
    pub attribute: Option<String>,
    pub start: Option<f64>,
    pub end: Option<f64>,
    pub max_results: Option<i64>,
    pub token: bool,
    /// The HTTP status sent; `None` when the connection was dropped without a response.
    pub status: Option<u16>,
    /// The error name (`__type`) sent, if any.
    pub error: Option<String>,
    /// The injected fault(s) that applied: "drop", "drop_mid_body", "error_500", "error_503",
    /// "expired", "delay", "malformed" (comma-joined).
    pub fault: Option<String>,
    /// Events in the response.
    pub events: usize,
}

struct FaultState {
    faults: Faults,
    /// Lookup requests since the faults were set.
    requests: u64,
    /// Successful lookups since the faults were set.
    successes: u64,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

struct State {
    archive: Archive,
    report: LoadReport,
    rate: f64,
    burst: u32,
    now: Option<i64>,
    started: Instant,
    faults: Mutex<FaultState>,
    buckets: Mutex<HashMap<(String, String), Bucket>>,
    log: Mutex<Vec<LogEntry>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl State {
    fn set_faults(&self, f: Faults) {
        *lock(&self.faults) = FaultState { faults: f, requests: 0, successes: 0 };
    }

    fn now_ms(&self) -> i64 {
        match self.now {
            Some(s) => s.saturating_mul(1000),
            None => chrono::Utc::now().timestamp_millis(),
        }
    }

    /// Takes a token from the (key, region) bucket; false when throttled.
    fn admit(&self, key: &str, region: &str) -> bool {
        if !self.rate.is_finite() {
            return true;
        }
        let now = Instant::now();
        let burst = f64::from(self.burst.max(1));
        let mut buckets = lock(&self.buckets);
        let b = buckets.entry((key.to_string(), region.to_string())).or_insert(Bucket { tokens: burst, last: now });
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * self.rate.max(0.0)).min(burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A running double. Dropping it (or [`Double::shutdown`]) stops the server.
pub struct Double {
    addr: SocketAddr,
    state: Arc<State>,
    stop: watch::Sender<bool>,
}

impl Double {
    /// Loads the archive and binds 127.0.0.1:port (0 = any free port); serves on the current
    /// tokio runtime.
    pub async fn start(archive: &Path, port: u16, cfg: DoubleConfig) -> anyhow::Result<Double> {
        let path = archive.to_path_buf();
        let (archive, report) = tokio::task::spawn_blocking(move || Archive::load(&path)).await??;
        Self::serve(archive, report, port, cfg).await
    }

    /// Serves records already in hand (no archive on disk).
    pub async fn start_with_records(records: Vec<Record>, port: u16, cfg: DoubleConfig) -> anyhow::Result<Double> {
        let report = LoadReport { events: records.len(), ..Default::default() };
        Self::serve(Archive::from_records(records), report, port, cfg).await
    }

    async fn serve(archive: Archive, report: LoadReport, port: u16, cfg: DoubleConfig) -> anyhow::Result<Double> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            archive,
            report,
            rate: cfg.rate_per_sec,
            burst: cfg.burst,
            now: cfg.now,
            started: Instant::now(),
            faults: Mutex::new(FaultState { faults: cfg.faults, requests: 0, successes: 0 }),
            buckets: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
        });
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(accept_loop(listener, state.clone(), stopped));
        Ok(Double { addr, state, stop })
    }

    /// "http://127.0.0.1:PORT"
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The request log so far (LookupEvents requests only, not admin requests).
    pub fn log(&self) -> Vec<LogEntry> {
        lock(&self.state.log).clone()
    }

    pub fn clear_log(&self) {
        lock(&self.state.log).clear();
    }

    /// Replaces the faults; their request counters (every-Nth, expire-after) restart.
    pub fn set_faults(&self, f: Faults) {
        self.state.set_faults(f);
    }

    pub fn faults(&self) -> Faults {
        lock(&self.state.faults).faults.clone()
    }

    /// The records served, newest first.
    pub fn records(&self) -> &[Record] {
        &self.state.archive.records
    }

    /// What loading the archive reported.
    pub fn load_report(&self) -> &LoadReport {
        &self.state.report
    }

    /// Stops accepting connections and closes open ones gracefully (in-flight requests finish).
    pub fn shutdown(self) {
        drop(self)
    }
}

impl Drop for Double {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, mut stopped: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            acc = listener.accept() => {
                let Ok((stream, _)) = acc else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, state.clone(), stopped.clone()));
            }
        }
    }
}

async fn serve_connection(stream: tokio::net::TcpStream, state: Arc<State>, mut stopped: watch::Receiver<bool>) {
    let io = hyper_util::rt::TokioIo::new(stream);
    let svc = hyper::service::service_fn(move |req| handle(state.clone(), req));
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, svc);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => break,
            r = stopped.changed(), if !stopping => {
                let _ = r;
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Returned by the service to make hyper close the connection without a response.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}
impl std::error::Error for DropConnection {}

/// A response body: whole, or cut off after its first part (then, once that part has been
/// flushed, the connection breaks).
struct OutBody {
    data: Option<Bytes>,
    /// Fail after sending `data` and waiting for `pause` (so the headers and data are flushed).
    cut: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl OutBody {
    fn full(b: impl Into<Bytes>) -> OutBody {
        OutBody { data: Some(b.into()), cut: None }
    }
}

impl hyper::body::Body for OutBody {
    type Data = Bytes;
    type Error = DropConnection;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, DropConnection>>> {
        if let Some(d) = self.data.take().filter(|d| !d.is_empty()) {
            return Poll::Ready(Some(Ok(Frame::data(d))));
        }
        match self.cut.as_mut() {
            None => Poll::Ready(None),
            Some(pause) => match pause.as_mut().poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(()) => {
                    self.cut = None;
                    Poll::Ready(Some(Err(DropConnection)))
                }
            },
        }
    }
    fn is_end_stream(&self) -> bool {
        self.cut.is_none() && self.data.as_ref().is_none_or(Bytes::is_empty)
    }
    fn size_hint(&self) -> SizeHint {
        match (&self.data, &self.cut) {
            (_, Some(_)) => SizeHint::default(),
            (Some(d), None) => SizeHint::with_exact(d.len() as u64),
            (None, None) => SizeHint::with_exact(0),
        }
    }
}

fn json_response(status: u16, body: Vec<u8>) -> Response<OutBody> {
    let mut r = Response::new(OutBody::full(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert("content-type", HeaderValue::from_static("application/x-amz-json-1.1"));
    r
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<OutBody>, DropConnection> {
    if req.uri().path().starts_with("/_double/") {
        return Ok(admin(&state, req).await);
    }
    let arrived = state.started.elapsed().as_millis() as u64;
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(DropConnection),
    };
    let (decision, n) = {
        let mut fs = lock(&state.faults);
        fs.requests += 1;
        (fs.faults.decide(fs.requests), fs.requests)
    };
    let mut entry = LogEntry {
        time_ms: arrived,
        region: None,
        access_key: None,
        attribute: None,
        start: None,
        end: None,
        max_results: None,
        token: false,
        status: None,
        error: None,
        fault: None,
        events: 0,
    };
    let mut applied: Vec<&str> = Vec::new();
    if decision.delay_ms > 0 {
        applied.push("delay");
        tokio::time::sleep(Duration::from_millis(decision.delay_ms)).await;
    }
    let outcome =
        api(&state, &parts.method, parts.uri.path(), &parts.headers, &body, decision, &mut entry, &mut applied);
    let request_id = request_id(n, arrived);
    let result = match outcome {
        None => {
            entry.fault = Some(applied.join(","));
            Err(DropConnection)
        }
        Some((status, mut bytes, error)) => {
            if status == 200 && decision.malformed {
                applied.push("malformed");
                bytes.truncate(bytes.len() / 2);
                bytes.extend_from_slice(b"\x00<html>malformed");
            }
            let total = bytes.len();
            let mut resp = json_response(status, bytes);
            if let Some(name) = error {
                entry.error = Some(name.to_string());
                if let Ok(v) = HeaderValue::from_str(name) {
                    resp.headers_mut().insert("x-amzn-errortype", v);
                }
            }
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                resp.headers_mut().insert("x-amzn-requestid", v);
            }
            if decision.drop_mid_body {
                applied.push("drop_mid_body");
                let body = resp.body_mut();
                body.data = body.data.take().map(|d| d.slice(..total / 2));
                body.cut = Some(Box::pin(tokio::time::sleep(Duration::from_millis(20))));
                resp.headers_mut().insert("content-length", HeaderValue::from(total));
            }
            entry.status = Some(status);
            entry.fault = (!applied.is_empty()).then(|| applied.join(","));
            Ok(resp)
        }
    };
    if entry.fault.as_deref() == Some("") {
        entry.fault = None;
    }
    lock(&state.log).push(entry);
    result
}

fn request_id(n: u64, t: u64) -> String {
    let a = xxhash_rust::xxh3::xxh3_64(&[n.to_le_bytes(), t.to_le_bytes()].concat());
    let b = xxhash_rust::xxh3::xxh3_64(&a.to_le_bytes());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

/// One LookupEvents request, faults applied. `None` = drop the connection; otherwise
/// (status, body, error name).
#[allow(clippy::too_many_arguments)]
fn api(
    state: &State,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    decision: faults::Decision,
    entry: &mut LogEntry,
    applied: &mut Vec<&'static str>,
) -> Option<(u16, Vec<u8>, Option<&'static str>)> {
    if decision.drop {
        applied.push("drop");
        return None;
    }
    let err = |e: ApiError| Some((e.status, e.body(), Some(e.name)));
    if decision.error_500 {
        applied.push("error_500");
        return err(ApiError::new(
            500,
            "InternalFailure",
            "The request processing has failed because of an unknown error, exception or failure.",
        ));
    }
    if decision.error_503 {
        applied.push("error_503");
        return err(ApiError::new(
            503,
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        ));
    }
    let (key, region) = match credential(headers) {
        Ok(kr) => kr,
        Err(e) => return err(e),
    };
    entry.access_key = Some(key.clone());
    entry.region = Some(region.clone());
    if lock(&state.faults).faults.deny_keys.contains(&key) {
        applied.push("denied");
        return err(ApiError::bad(
            "AccessDeniedException",
            format!(
                "User: arn:aws:iam::123456789012:user/{key} is not authorized to perform: cloudtrail:LookupEvents \
                 because no identity-based policy allows the cloudtrail:LookupEvents action"
            ),
        ));
    }
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
    let op = target.strip_prefix(TARGET_PREFIX).or_else(|| target.strip_prefix(SHORT_TARGET_PREFIX));
    if method != Method::POST || path != "/" || op != Some(".LookupEvents") {
        return err(ApiError::bad("UnknownOperationException", ""));
    }
    let req = match lookup::LookupRequest::parse(body) {
        Ok(r) => r,
        Err(e) => return err(e),
    };
    entry.attribute = req.attribute_text();
    entry.start = req.start;
    entry.end = req.end;
    entry.max_results = req.max_results;
    entry.token = req.next_token.is_some();
    {
        let fs = lock(&state.faults);
        if fs.faults.expire_after.is_some_and(|k| fs.successes >= k) {
            drop(fs);
            applied.push("expired");
            return err(ApiError::bad(
                "ExpiredTokenException",
                "The security token included in the request is expired",
            ));
        }
    }
    if !state.admit(&key, &region) {
        return err(ApiError::bad("ThrottlingException", "Rate exceeded"));
    }
    match lookup::lookup(&state.archive, &req, &region, state.now_ms()) {
        Ok(page) => {
            lock(&state.faults).successes += 1;
            entry.events = page.events.len();
            Some((200, page.body(), None))
        }
        Err(e) => err(e),
    }
}

/// The access key id and region of a SigV4 `Authorization` header (not verified).
fn credential(headers: &HeaderMap) -> Result<(String, String), ApiError> {
    let Some(auth) = headers.get("authorization") else {
        return Err(ApiError::bad("MissingAuthenticationTokenException", "Missing Authentication Token"));
    };
    let auth = auth.to_str().unwrap_or("");
    let incomplete = |what: &str| {
        ApiError::bad(
            "IncompleteSignatureException",
            format!("{what} Authorization={}", auth.split(' ').next().unwrap_or("")),
        )
    };
    let Some(params) = auth.strip_prefix("AWS4-HMAC-SHA256 ") else {
        return Err(incomplete("Unsupported authorization type or malformed Authorization header."));
    };
    let mut fields: HashMap<&str, &str> = HashMap::new();
    for p in params.split(',') {
        if let Some((k, v)) = p.trim().split_once('=') {
            fields.insert(k, v);
        }
    }
    let mut missing = Vec::new();
    for k in ["Credential", "SignedHeaders", "Signature"] {
        if fields.get(k).is_none_or(|v| v.is_empty()) {
            missing.push(format!("Authorization header requires '{k}' parameter."));
        }
    }
    if !headers.contains_key("x-amz-date") && !headers.contains_key("date") {
        missing.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.".into());
    }
    if !missing.is_empty() {
        return Err(incomplete(&missing.join(" ")));
    }
    let scope: Vec<&str> = fields["Credential"].split('/').collect();
    let [key, date, region, service, term] = scope[..] else {
        return Err(incomplete(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term,",
        ));
    };
    if term != "aws4_request" || date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) || region.is_empty() {
        return Err(incomplete("Credential should be scoped to a valid region, and terminated by 'aws4_request'."));
    }
    if service != "cloudtrail" {
        return Err(ApiError::new(
            403,
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'cloudtrail'.",
        ));
    }
    if key.is_empty() {
        return Err(ApiError::new(
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    }
    Ok((key.to_string(), region.to_string()))
}

async fn admin(state: &State, req: Request<Incoming>) -> Response<OutBody> {
    let text = |status: u16, msg: &str| {
        json_response(status, serde_json::to_vec(&serde_json::json!({"message": msg})).unwrap_or_default())
    };
    match (req.method().clone(), req.uri().path()) {
        (Method::GET, "/_double/log") => json_response(200, serde_json::to_vec(&*lock(&state.log)).unwrap_or_default()),
        (Method::DELETE, "/_double/log") => {
            lock(&state.log).clear();
            text(200, "log cleared")
        }
        (Method::GET, "/_double/faults") => {
            json_response(200, serde_json::to_vec(&lock(&state.faults).faults).unwrap_or_default())
        }
        (Method::POST | Method::PUT, "/_double/faults") => {
            let body = match req.into_body().collect().await {
                Ok(b) => b.to_bytes(),
                Err(_) => return text(400, "cannot read body"),
            };
            match serde_json::from_slice::<Faults>(&body) {
                Ok(f) => {
                    let out = serde_json::to_vec(&f).unwrap_or_default();
                    state.set_faults(f);
                    json_response(200, out)
                }
                Err(e) => text(400, &format!("bad faults: {e}")),
            }
        }
        _ => text(404, "unknown admin endpoint; try GET /_double/log, GET|POST /_double/faults"),
    }
}
