//! One Athena query run to its end: StartQueryExecution, GetQueryExecution polled until the
//! query is over (StopQueryExecution when the user cancels), GetQueryResults paged 1,000 rows
//! at a time; every failure explained with what to do about it.

use super::{QueryRun, PAGE_ROWS};
use crate::sanitize::cut;
use crate::source::s3::fetch::{backoff, debug_status, Connect};
use aws_sdk_athena::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_athena::types::{
    QueryExecutionContext, QueryExecutionState, ResultConfiguration, ResultReuseByAgeConfiguration,
    ResultReuseConfiguration,
};
use std::time::Duration;

/// How many times one call is asked before the query stops with an error.
pub const MAX_ATTEMPTS: u32 = 6;
/// Athena reuses the results of the same SQL run in the workgroup within this many minutes.
pub const REUSE_MINUTES: i32 = 60;
/// The longest explanation kept (an endpoint may send anything).
const MAX_EXPLANATION: usize = 600;

/// Why a query gave no rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryError {
    /// The user stopped it (Esc): StopQueryExecution was sent.
    Cancelled,
    /// It failed: what happened and what to do (sanitised).
    Failed(String),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::Cancelled => f.write_str("stopped (Esc): StopQueryExecution was sent"),
            QueryError::Failed(t) => f.write_str(t),
        }
    }
}

/// Where a query runs.
pub struct Target<'a> {
    /// The client.
    pub client: &'a aws_sdk_athena::Client,
    /// The database of the query's context; `None`: the workgroup's default.
    pub database: Option<&'a str>,
    /// The table (for explanations).
    pub table: &'a str,
    /// The workgroup; `None`: the account's `primary`.
    pub workgroup: Option<&'a str>,
    /// Where results go, unless the workgroup says.
    pub output: Option<&'a str>,
    /// The region asked (for explanations).
    pub region: &'a str,
    /// Time between GetQueryExecution calls at first (it grows to 2 s).
    pub poll: Duration,
}

/// The rows of a query (the header row left out) and the names of its columns.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    /// The columns' names, in order.
    pub columns: Vec<String>,
    /// The values of each row; `None`: NULL.
    pub rows: Vec<Vec<Option<String>>>,
}

/// An Athena client: the SDK's own retries off (done here, with the error explained).
pub fn client(sdk: &aws_config::SdkConfig, c: &Connect) -> aws_sdk_athena::Client {
    let timeout = c.timeout.unwrap_or(Duration::from_secs(60));
    let conf = aws_sdk_athena::config::Builder::from(sdk)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(crate::source::attempt_timeouts(timeout))
        .build();
    aws_sdk_athena::Client::from_conf(conf)
}

/// A failed call, explained; `Err(())` is worth asking again.
fn explain<E, R>(err: &SdkError<E, R>, call: &str, t: &Target<'_>) -> (String, bool)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = err.code().unwrap_or("");
    let msg = err.message().unwrap_or("");
    let raw = DisplayErrorContext(err).to_string();
    let status = err.raw_response().map(debug_status).filter(|&s| s != 0);
    let region = t.region;
    let (text, retry) = match code {
        "AccessDeniedException" | "AccessDenied" => (
            format!("{call} was denied: the identity needs athena:{call} in {region} ({msg}); Athena also needs glue:GetTable and s3:GetObject on the table's archive, s3:PutObject on the output location"),
            false,
        ),
        "ExpiredTokenException" | "ExpiredToken" | "RequestExpired" => (
            format!("the credentials expired during {call} ({msg}); refresh them (e.g. `aws sso login`) and run again"),
            false,
        ),
        "UnrecognizedClientException" | "InvalidClientTokenId" | "InvalidSignatureException" => {
            (format!("Athena in {region} did not accept the credentials ({code}: {msg}); check the profile and keys"), false)
        }
        "InvalidRequestException" => (invalid_request(call, msg, t), false),
        "ThrottlingException" | "Throttling" | "TooManyRequestsException" => {
            (format!("Athena kept throttling {call} after {MAX_ATTEMPTS} tries; try again later"), true)
        }
        "InternalServerException" | "InternalFailure" | "ServiceUnavailableException" => {
            (format!("Athena answered {code} to {call} after {MAX_ATTEMPTS} tries ({msg})"), true)
        }
        _ => match err {
            SdkError::TimeoutError(_) => (format!("{call} timed out"), true),
            SdkError::DispatchFailure(_) => (format!("could not reach Athena in {region}: {}", brief(&raw)), true),
            SdkError::ResponseError(_) => {
                (format!("the answer to {call} could not be read (the connection may have dropped)"), true)
            }
            _ if raw.contains("no providers in chain") || raw.contains("failed to load credentials") => (
                "no AWS credentials found: set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, \
                 or run `aws configure`"
                    .to_string(),
                false,
            ),
            SdkError::ServiceError(_) if status.is_some_and(|s| s >= 500 || s == 429) => {
                (format!("Athena answered HTTP {} {code} to {call} after {MAX_ATTEMPTS} tries", status.unwrap_or(0)), true)
            }
            _ => (format!("{call} failed: {code} {msg} {}", brief(&raw)), false),
        },
    };
    (cut(&crate::sanitize::sanitize(text.trim_end()), MAX_EXPLANATION), retry)
}

/// InvalidRequestException says many different things: the output location, the workgroup.
fn invalid_request(call: &str, msg: &str, t: &Target<'_>) -> String {
    let lower = msg.to_ascii_lowercase();
    if lower.contains("output location") || lower.contains("outputlocation") {
        format!(
            "Athena has nowhere to write the results ({msg}): pass --output s3://BUCKET/PREFIX/, or set an \
             output location on the workgroup"
        )
    } else if lower.contains("workgroup") {
        format!("workgroup {} ({msg}): pass --workgroup with one that exists", t.workgroup.unwrap_or("primary"))
    } else {
        format!("Athena refused {call}: {msg}")
    }
}

/// What a query that ended FAILED means, from its state change reason.
pub fn failed_reason(reason: &str, t: &Target<'_>) -> String {
    let table = t.database.map_or(t.table.to_string(), |d| format!("{d}.{}", t.table));
    let lower = reason.to_ascii_lowercase();
    let text = if lower.contains("table_not_found") || lower.contains("does not exist") && lower.contains("table") {
        format!(
            "table {table} does not exist ({reason}): create it with the statement `trailscope athena ddl` prints \
             (--apply runs it)"
        )
    } else if lower.contains("schema_not_found") || lower.contains("database") && lower.contains("not") {
        format!(
            "database {} does not exist ({reason}): pass --athena-database, or name the table as DATABASE.TABLE",
            t.database.unwrap_or("default")
        )
    } else if lower.contains("access denied") || lower.contains("accessdenied") || lower.contains("permission") {
        let action = if lower.contains("glue") {
            "glue:GetTable (and glue:GetDatabase, glue:GetPartitions) on the table"
        } else if lower.contains("output") || lower.contains("putobject") {
            "s3:PutObject on the output location"
        } else {
            "s3:GetObject and s3:ListBucket on the trail's archive"
        };
        format!("Athena was denied access while running the query ({reason}): the identity needs {action}")
    } else {
        format!("the query FAILED: {reason}")
    };
    cut(&crate::sanitize::sanitize(&text), MAX_EXPLANATION)
}

fn brief(raw: &str) -> String {
    cut(raw.lines().next().unwrap_or(""), 200)
}

/// Asks `f` until it succeeds, fails for good, or was asked [`MAX_ATTEMPTS`] times.
async fn attempt<T, E, R, F, Fut>(call: &str, t: &Target<'_>, mut f: F) -> Result<T, QueryError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SdkError<E, R>>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                let (text, retry) = explain(&e, call, t);
                if !retry || tries >= MAX_ATTEMPTS {
                    return Err(QueryError::Failed(text));
                }
                backoff(tries).await;
            }
        }
    }
}

/// Starts `sql`; the query's id.
pub async fn start(t: &Target<'_>, sql: &str) -> Result<String, QueryError> {
    let reuse = ResultReuseConfiguration::builder()
        .result_reuse_by_age_configuration(
            ResultReuseByAgeConfiguration::builder().enabled(true).max_age_in_minutes(REUSE_MINUTES).build(),
        )
        .build();
    let out = attempt("StartQueryExecution", t, || {
        let mut req = t.client.start_query_execution().query_string(sql).result_reuse_configuration(reuse.clone());
        if let Some(db) = t.database {
            req = req.query_execution_context(QueryExecutionContext::builder().database(db).build());
        }
        if let Some(w) = t.workgroup {
            req = req.work_group(w);
        }
        if let Some(o) = t.output {
            req = req.result_configuration(ResultConfiguration::builder().output_location(o).build());
        }
        req.send()
    })
    .await?;
    out.query_execution_id()
        .map(|id| crate::sanitize::sanitize(id).into_owned())
        .ok_or_else(|| QueryError::Failed("StartQueryExecution answered without a query id".into()))
}

/// Asks for the query's state once, filling in `run`; whether it is over.
pub async fn poll(t: &Target<'_>, run: &mut QueryRun) -> Result<bool, QueryError> {
    let out =
        attempt("GetQueryExecution", t, || t.client.get_query_execution().query_execution_id(&run.id).send()).await?;
    let Some(q) = out.query_execution() else { return Ok(false) };
    if let Some(s) = q.statistics() {
        run.scanned = s.data_scanned_in_bytes().unwrap_or(0).max(0) as u64;
        run.engine_ms = s.engine_execution_time_in_millis().unwrap_or(0).max(0) as u64;
        run.reused = s.result_reuse_information().is_some_and(|r| r.reused_previous_result());
    }
    if let Some(rc) = q.result_configuration() {
        run.output = rc.output_location().map(str::to_string);
    }
    let Some(status) = q.status() else { return Ok(false) };
    let state = status.state().cloned().unwrap_or(QueryExecutionState::Queued);
    // What the server calls the state is shown as it is: made safe once, here.
    run.state = crate::sanitize::sanitize(state.as_str()).into_owned();
    match state {
        QueryExecutionState::Succeeded => Ok(true),
        QueryExecutionState::Failed => {
            let reason = status
                .athena_error()
                .and_then(|e| e.error_message())
                .or(status.state_change_reason())
                .unwrap_or("no reason given");
            Err(QueryError::Failed(failed_reason(reason, t)))
        }
        QueryExecutionState::Cancelled => Err(QueryError::Failed("the query was cancelled in Athena".into())),
        _ => Ok(false),
    }
}

/// Stops the query (the user's Esc).
pub async fn stop(t: &Target<'_>, id: &str) -> Result<(), QueryError> {
    attempt("StopQueryExecution", t, || t.client.stop_query_execution().query_execution_id(id).send()).await?;
    Ok(())
}

/// The time to wait before the `n`th poll (from 0): `first`, then growing to 2 s.
pub fn poll_delay(first: Duration, n: u32) -> Duration {
    first.saturating_mul(1 << n.min(4)).min(Duration::from_secs(2).max(first))
}

/// One page of a query's results: the rows of [`PAGE_ROWS`] at most, and the token of the
/// next page (`None`: the last). The first page (`token` `None`) names the columns, and its
/// first row, the column names of a SELECT, is left out.
pub async fn page(t: &Target<'_>, id: &str, token: Option<String>) -> Result<(Rows, Option<String>), QueryError> {
    let first = token.is_none();
    let page = attempt("GetQueryResults", t, || {
        t.client.get_query_results().query_execution_id(id).max_results(PAGE_ROWS).set_next_token(token.clone()).send()
    })
    .await?;
    let mut out = Rows::default();
    let Some(set) = page.result_set() else { return Ok((out, None)) };
    if first {
        if let Some(meta) = set.result_set_metadata() {
            out.columns = meta.column_info().iter().map(|c| c.name().to_string()).collect();
        }
    }
    let mut rows = set
        .rows()
        .iter()
        .map(|r| r.data().iter().map(|d| d.var_char_value().map(str::to_string)).collect::<Vec<Option<String>>>());
    if first {
        let header = rows.next();
        if out.columns.is_empty() {
            out.columns = header.unwrap_or_default().into_iter().map(Option::unwrap_or_default).collect();
        }
    }
    out.rows.extend(rows);
    Ok((out, page.next_token().map(str::to_string)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_target(f: impl FnOnce(&Target<'_>)) {
        let conf = aws_sdk_athena::Config::builder()
            .behavior_version(aws_sdk_athena::config::BehaviorVersion::latest())
            .region(aws_sdk_athena::config::Region::new("us-east-1"))
            .build();
        let client = aws_sdk_athena::Client::from_conf(conf);
        let t = Target {
            client: &client,
            database: Some("trails"),
            table: "cloudtrail_logs",
            workgroup: Some("wg"),
            output: None,
            region: "us-east-1",
            poll: Duration::from_millis(10),
        };
        f(&t);
    }

    // moto never answers FAILED: Athena's own reasons, as it words them, are explained here.
    #[test]
    fn a_failed_query_says_what_to_do() {
        with_target(|t| {
            let r = failed_reason(
                "TABLE_NOT_FOUND: line 2:6: Table 'awsdatacatalog.trails.cloudtrail_logs' does not exist",
                t,
            );
            assert!(r.starts_with("table trails.cloudtrail_logs does not exist") && r.contains("athena ddl"), "{r}");
            let r = failed_reason("SCHEMA_NOT_FOUND: line 2:6: Schema 'trails' does not exist", t);
            assert!(r.starts_with("database trails does not exist"), "{r}");
            let r = failed_reason(
                "Permission denied on S3 path: s3://archive/AWSLogs/1/CloudTrail/us-east-1/2026/01/01/x.json.gz",
                t,
            );
            assert!(r.contains("s3:GetObject"), "{r}");
            let r = failed_reason("Insufficient permissions to execute the query. glue:GetTable denied", t);
            assert!(r.contains("glue:GetTable"), "{r}");
            let r = failed_reason("GENERIC_INTERNAL_ERROR: \u{1b}[31mboom", t);
            assert!(r.starts_with("the query FAILED: GENERIC_INTERNAL_ERROR") && !r.contains('\u{1b}'), "{r}");
            let r = invalid_request("StartQueryExecution", "No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.", t);
            assert!(r.contains("--output s3://"), "{r}");
        });
    }

    #[test]
    fn polls_grow_to_two_seconds() {
        let d: Vec<u64> = (0..7).map(|n| poll_delay(Duration::from_millis(500), n).as_millis() as u64).collect();
        assert_eq!(d, vec![500, 1000, 2000, 2000, 2000, 2000, 2000]);
    }
}
