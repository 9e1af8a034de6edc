//! Generate a realistic, deterministic CloudTrail trail archive for testing.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use trailscope_gen::{generate, GenOptions};

/// Write `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz` files
/// (and digest files) under OUT_DIR, byte-identical for a given seed.
#[derive(Parser, Debug)]
#[command(name = "trailscope-gen", version)]
struct Args {
    /// Total number of records across all files.
    #[arg(long, default_value_t = 2000)]
    events: usize,
    /// Records per .json.gz file at most.
    #[arg(long = "per-file", default_value_t = 100)]
    per_file: usize,
    /// PRNG seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Newest possible event time (RFC 3339), default 2026-01-01T00:00:00Z.
    #[arg(long)]
    end: Option<String>,
    /// Time span covered by the events: 3d, 12h, 90m, 45s or plain seconds.
    #[arg(long, default_value = "3d")]
    span: String,
    /// Number of account ids.
    #[arg(long, default_value_t = 2)]
    accounts: usize,
    /// Number of regions (1-10), starting with us-east-1.
    #[arg(long, default_value_t = 3)]
    regions: usize,
    /// Do not sprinkle hostile strings (terminal escapes, bidi, ...).
    #[arg(long = "no-hostile")]
    no_hostile: bool,
    /// Do not write digest files.
    #[arg(long = "no-digests")]
    no_digests: bool,
    /// Write an organisation trail's layout, AWSLogs/ORG_ID/<account>/..., for this organisation id (o-...).
    #[arg(long, value_name = "ORG_ID")]
    organization: Option<String>,
    /// Sign digests with this RSA private key (unencrypted PKCS#8 DER) instead of the built-in test key.
    #[arg(long = "signing-key", value_name = "FILE")]
    signing_key: Option<PathBuf>,
    /// Where to write the `aws cloudtrail list-public-keys` JSON for the signing key (default:
    /// OUT_DIR's name with `.public-keys.json`, beside OUT_DIR, so that it is not read as part of the archive).
    #[arg(long = "public-keys", value_name = "FILE")]
    public_keys: Option<PathBuf>,
    /// gzip compression level (0-9).
    #[arg(long = "gzip-level", default_value_t = 6)]
    gzip_level: u32,
    /// Output directory.
    #[arg(value_name = "OUT_DIR")]
    out_dir: PathBuf,
}

fn parse_span(s: &str) -> Result<i64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last() {
        Some('d') => (&s[..s.len() - 1], 86_400),
        Some('h') => (&s[..s.len() - 1], 3_600),
        Some('m') => (&s[..s.len() - 1], 60),
        Some('s') => (&s[..s.len() - 1], 1),
        _ => (s, 1),
    };
    let n: i64 = num.trim().parse().with_context(|| format!("invalid --span {s:?} (use e.g. 3d, 12h, 90m)"))?;
    if n < 0 {
        bail!("--span must not be negative");
    }
    Ok(n * mult)
}

/// `<parent>/<name>.public-keys.json` for OUT_DIR `<parent>/<name>`.
fn beside(out_dir: &std::path::Path) -> Result<PathBuf> {
    let abs = std::fs::canonicalize(out_dir).with_context(|| format!("resolving {}", out_dir.display()))?;
    let (Some(parent), Some(name)) = (abs.parent(), abs.file_name()) else {
        bail!("cannot write the public keys beside {}; name a file with --public-keys", abs.display());
    };
    Ok(parent.join(format!("{}.public-keys.json", name.to_string_lossy())))
}

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trailscope-gen: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    let defaults = GenOptions::default();
    let end_time = match &args.end {
        Some(e) => chrono::DateTime::parse_from_rfc3339(e)
            .with_context(|| format!("invalid --end {e:?} (expected RFC 3339)"))?
            .timestamp(),
        None => defaults.end_time,
    };
    if !(1..=10).contains(&args.regions) {
        bail!("--regions must be between 1 and 10");
    }
    if args.accounts == 0 || args.per_file == 0 {
        bail!("--accounts and --per-file must be at least 1");
    }
    if args.gzip_level > 9 {
        bail!("--gzip-level must be between 0 and 9");
    }
    let opts = GenOptions {
        events: args.events,
        per_file: args.per_file,
        seed: args.seed,
        end_time,
        span_secs: parse_span(&args.span)?,
        accounts: args.accounts,
        regions: args.regions,
        hostile: !args.no_hostile,
        gzip_level: args.gzip_level,
        digests: !args.no_digests,
        organization: args.organization.clone(),
        signing_key: match &args.signing_key {
            Some(p) => Some(std::fs::read(p).with_context(|| format!("reading --signing-key {}", p.display()))?),
            None => None,
        },
    };
    if let Some(org) = &opts.organization {
        if !org.starts_with("o-") || org.len() < 4 || !org[2..].bytes().all(|c| c.is_ascii_alphanumeric()) {
            bail!("--organization must be an organisation id such as o-a1b2c3d4e5");
        }
    }
    let start = Instant::now();
    let sum =
        generate(&opts, &args.out_dir).with_context(|| format!("writing archive to {}", args.out_dir.display()))?;
    if opts.digests {
        let keys_path = match &args.public_keys {
            Some(p) => p.clone(),
            None => beside(&args.out_dir)?,
        };
        let json = trailscope_gen::public_keys_json(&opts)?;
        std::fs::write(&keys_path, json).with_context(|| format!("writing {}", keys_path.display()))?;
        eprintln!("trailscope-gen: public keys (list-public-keys JSON) in {}", keys_path.display());
    }
    eprintln!(
        "trailscope-gen: {} files (+{} digests), {} events, {} JSON ({} bytes), {} gz ({} bytes), {:.2}s",
        sum.files,
        sum.digest_files,
        sum.events,
        human(sum.json_bytes),
        sum.json_bytes,
        human(sum.gz_bytes),
        sum.gz_bytes,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
