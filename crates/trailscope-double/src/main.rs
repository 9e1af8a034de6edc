//! trailscope-lookup-double: a local test double of the AWS CloudTrail LookupEvents API.

use std::io::Write;
use std::path::PathBuf;

use clap::Parser;
use trailscope_double::archive::printable;
use trailscope_double::{Double, DoubleConfig, Faults, Trigger};

/// TEST-SUPPORT TOOL, not part of trailscope proper: a wire-faithful test double of the AWS
/// CloudTrail LookupEvents API on 127.0.0.1, serving the records of a local archive.
///
/// Point the AWS SDK or CLI at it with an endpoint URL (`aws cloudtrail lookup-events
/// --endpoint-url http://127.0.0.1:PORT --region R ...`, any dummy credentials). Requests are
/// signed with SigV4 as usual; the signature is not checked, but the region of its credential
/// scope selects the events (their awsRegion). Prints `listening on http://127.0.0.1:PORT`
/// once ready, then serves until killed.
///
/// Fault schedules (SCHEDULE): `never`, `every:N` (requests N, 2N, ...), `prob:P` (each
/// request with probability P, deterministic from --seed). Faults can also be changed at run
/// time: `POST /_double/faults` with a JSON object such as
/// `{"error_503":{"every_nth":3},"delay":{"probability":0.5},"delay_ms":200,"expire_after":10}`.
/// The request log is at `GET /_double/log`.
#[derive(Parser, Debug)]
#[command(name = "trailscope-lookup-double", version, verbatim_doc_comment)]
struct Args {
    /// Directory (or file) of CloudTrail records: trail archives (.json.gz), JSON arrays, etc.
    archive: PathBuf,
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Requests per second per (access key, region) before ThrottlingException (0 = no limit).
    #[arg(long, default_value_t = 2.0)]
    rate: f64,
    /// Token bucket burst for the rate limit.
    #[arg(long, default_value_t = 2)]
    burst: u32,
    /// "Now" (RFC 3339), for the 90-day lookback and the default end time; default the clock.
    #[arg(long, value_parser = parse_now)]
    now: Option<i64>,
    /// HTTP 500 InternalFailure on this schedule.
    #[arg(long, value_name = "SCHEDULE")]
    fail_500: Option<Trigger>,
    /// HTTP 503 ServiceUnavailable on this schedule.
    #[arg(long, value_name = "SCHEDULE")]
    fail_503: Option<Trigger>,
    /// Delay responses by --delay-ms on this schedule.
    #[arg(long, value_name = "SCHEDULE")]
    delay: Option<Trigger>,
    /// Milliseconds of delay for --delay.
    #[arg(long, default_value_t = 1000)]
    delay_ms: u64,
    /// Close the connection without a response on this schedule.
    #[arg(long, value_name = "SCHEDULE")]
    drop: Option<Trigger>,
    /// Send headers and half the body, then close the connection, on this schedule.
    #[arg(long, value_name = "SCHEDULE")]
    drop_mid_body: Option<Trigger>,
    /// Answer successful lookups with a body that is not valid JSON on this schedule.
    #[arg(long, value_name = "SCHEDULE")]
    malformed: Option<Trigger>,
    /// After N successful lookups, fail every request with ExpiredTokenException.
    #[arg(long, value_name = "N")]
    expire_after: Option<u64>,
    /// Seed for probabilistic faults.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Deny requests signed with this access key id (AccessDeniedException); repeatable.
    #[arg(long, value_name = "KEY")]
    deny_key: Vec<String>,
}

fn parse_now(s: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(s).map(|t| t.timestamp()).map_err(|e| format!("{s:?} is not RFC 3339: {e}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let faults = Faults {
        error_500: a.fail_500.unwrap_or_default(),
        error_503: a.fail_503.unwrap_or_default(),
        delay: a.delay.unwrap_or_default(),
        delay_ms: a.delay_ms,
        drop: a.drop.unwrap_or_default(),
        drop_mid_body: a.drop_mid_body.unwrap_or_default(),
        malformed: a.malformed.unwrap_or_default(),
        expire_after: a.expire_after,
        seed: a.seed,
        deny_keys: a.deny_key,
    };
    let rate = if a.rate > 0.0 { a.rate } else { f64::INFINITY };
    let cfg = DoubleConfig { rate_per_sec: rate, burst: a.burst, now: a.now, faults };
    let double = Double::start(&a.archive, a.port, cfg).await?;
    let report = double.load_report();
    for p in &report.problems {
        eprintln!("trailscope-lookup-double: {p}");
    }
    let mut notes = Vec::new();
    if report.skipped > 0 {
        notes.push(format!("{} records without an eventID, eventTime or awsRegion skipped", report.skipped));
    }
    if report.duplicates > 0 {
        notes.push(format!("{} exact duplicates served once", report.duplicates));
    }
    eprintln!(
        "trailscope-lookup-double: serving {} events from {}{}",
        report.events,
        printable(&a.archive.display().to_string()),
        if notes.is_empty() { String::new() } else { format!(" ({})", notes.join(", ")) }
    );
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", double.endpoint())?;
    out.flush()?;
    drop(out);
    std::future::pending::<()>().await;
    Ok(())
}
