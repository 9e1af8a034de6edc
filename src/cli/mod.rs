//! Command-line definitions.

pub mod cache_cmd;

use crate::model::time::{now_ms, parse_time_arg};
use crate::print::Format;
use clap::{Parser, Subcommand};

const AFTER_HELP: &str = "\
Examples:
  trailscope AWSLogs/                        browse a trail archive (searched recursively)
  trailscope events.json.gz more.jsonl       browse some files
  aws cloudtrail lookup-events | trailscope -
  trailscope print --filter 'name:Delete* has:error' --format table AWSLogs/
  trailscope print --since 6h --format jsonl AWSLogs/ | jq .eventName
  trailscope --profile prod --region us-east-1,eu-west-1 --since 2h
                                             live event history (LookupEvents) of two regions
  trailscope print --region all --filter 'name:=DeleteTrail' --since 7d
  trailscope detect --rules sigma/rules/cloud/aws AWSLogs/
                                             Sigma rules over an archive (exit 5: detections)
  trailscope --log-group aws-cloudtrail-logs-111122223333 --since 6h
                                             a trail's log group in CloudWatch Logs
  trailscope --athena db.cloudtrail_logs --since 30d --filter 'name:=DeleteBucket'
                                             ask Athena, browse the files that hold matches

Filter language: terms separated by spaces, all must match.
  field:value    case-insensitive substring      field:=value   exact, case-sensitive
  name:Delete*   '*' is a wildcard and anchors    -term          negation
  has:error      field present and not empty      agent:\"a b\"    quoted values
  since:6h until:2024-05-01T12:00:00Z             bare words match any list column
Fields: name source user arn type key ip region account error agent id request resource
        category readonly text verified rule level (rule, level: with --rules)

Exit status of print: 0 every input was read; 3 some inputs were skipped (the rest was
printed); 2 usage error; 1 nothing could be read. detect: 5 when a rule matched.";

#[derive(Debug, Parser)]
#[command(
    name = "trailscope",
    version,
    about = "Browse AWS CloudTrail events, from trail archives or live event history, in the terminal",
    long_about = "Browse AWS CloudTrail events in the terminal. With PATHs, reads trail archives and other \
        CloudTrail JSON; with no PATH, reads the account's event history (the last 90 days) through the \
        LookupEvents API, with the standard AWS credential chain (environment, profiles, SSO, IMDS).",
    after_help = AFTER_HELP
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub common: Common,
    /// Leave the mouse to the terminal (its own text selection and scrolling): no clicks or wheel in trailscope.
    #[arg(long)]
    pub no_mouse: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Files or directories (searched recursively) of CloudTrail logs; `-` reads standard input;
    /// `s3://BUCKET[/PREFIX]` reads a trail's archive in S3 (the prefix its AWSLogs/ is under).
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Filter query, e.g. 'name:Delete* -error:AccessDenied user:alice'.
    #[arg(short, long, value_name = "QUERY", allow_hyphen_values = true)]
    pub filter: Option<String>,
    /// Only events at or after this time: an age (15m, 6h, 7d) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN", value_parser = time_arg)]
    pub since: Option<i64>,
    /// Only events at or before this time: an age (15m, 6h, 7d) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN", value_parser = time_arg)]
    pub until: Option<i64>,
    /// Live history (no PATH): the AWS profile to use (default: AWS_PROFILE, then "default").
    #[arg(long, value_name = "NAME", help_heading = "Live event history (no PATH)")]
    pub profile: Option<String>,
    /// Live history: region(s) to query; repeat or give a comma list; `all` for every enabled region.
    #[arg(long, value_name = "REGION", value_delimiter = ',', help_heading = "Live event history (no PATH)")]
    pub region: Vec<String>,
    /// Live history: send requests to this endpoint instead of AWS's (tests, private endpoints).
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL", help_heading = "Live event history (no PATH)")]
    pub endpoint_url: Option<String>,
    /// Live history: CloudTrail Insights events (EventCategory=insight) instead of management events.
    #[arg(long, help_heading = "Live event history (no PATH)")]
    pub insights: bool,
    /// Live history: seconds to wait for one answer before asking again.
    #[arg(long, value_name = "SECS", default_value_t = 30, help_heading = "Live event history (no PATH)")]
    pub timeout: u64,
    /// S3: how long after an event its log file may be delivered; files delivered later than
    /// this after the window are not fetched (an age: 15m, 1h, 2h).
    #[arg(long, value_name = "AGE", default_value = "1h", value_parser = age_arg, help_heading = "Trail archives in S3 (s3:// PATHs)")]
    pub delivery_lag: i64,
    /// S3: read this trail's archive (a name or an ARN): its bucket and prefix come from
    /// DescribeTrails (in --region), its last delivery from GetTrailStatus.
    #[arg(long, value_name = "NAME|ARN", help_heading = "Trail archives in S3 (s3:// PATHs)")]
    pub trail: Option<String>,
    /// CloudWatch Logs: read this log group (a name, or an ARN, which also names its region) of
    /// CloudTrail records; repeat for several, merged newest first. Streams are those a trail
    /// writes (`<account>_CloudTrail_<region>`), in --region.
    #[arg(long = "log-group", value_name = "NAME|ARN", help_heading = "CloudTrail in CloudWatch Logs")]
    pub log_groups: Vec<String>,
    /// CloudWatch Logs: with --trail, read the log group the trail delivers to
    /// (CloudWatchLogsLogGroupArn from DescribeTrails) instead of its S3 archive.
    #[arg(long, requires = "trail", help_heading = "CloudTrail in CloudWatch Logs")]
    pub logs: bool,
    /// CloudWatch Logs: log events per FilterLogEvents page (1 to 10000; default: the service's).
    #[arg(long, value_name = "N", help_heading = "CloudTrail in CloudWatch Logs")]
    pub logs_page_size: Option<i32>,
    /// Athena: ask this table (the documented CloudTrail table that `trailscope athena ddl`
    /// creates; DATABASE.TABLE or TABLE) for what the filter and the window match, and browse
    /// the answer: the log files that hold matches, fetched from S3, or Athena's rows.
    #[arg(long, value_name = "TABLE", help_heading = "Athena (--athena)")]
    pub athena: Option<String>,
    /// Athena: the table's database (unless --athena names it as DATABASE.TABLE).
    #[arg(long, value_name = "NAME", requires = "athena", help_heading = "Athena (--athena)")]
    pub athena_database: Option<String>,
    /// Athena: the workgroup the query runs in (default: primary).
    #[arg(long, value_name = "NAME", requires = "athena", help_heading = "Athena (--athena)")]
    pub workgroup: Option<String>,
    /// Athena: where it writes the results (s3://BUCKET/PREFIX/), unless the workgroup says.
    #[arg(long, value_name = "S3_URL", requires = "athena", help_heading = "Athena (--athena)")]
    pub output: Option<String>,
    /// Athena: the table is an organisation trail's (partitioned by account and region too,
    /// as `athena ddl` of an organisation's archive makes it): a region term prunes partitions.
    #[arg(long, requires = "athena", help_heading = "Athena (--athena)")]
    pub athena_org: bool,
    /// Athena: fetch at most this many log files for the original records; when more hold
    /// matches, the matching rows' columns are shown instead.
    #[arg(long, value_name = "N", default_value_t = crate::source::athena::DEFAULT_MAX_FILES, help_heading = "Athena (--athena)")]
    pub athena_max_files: usize,
    /// S3: requests in flight at most (listing and fetching each).
    #[arg(long, value_name = "N", default_value_t = crate::source::s3::DEFAULT_CONCURRENCY, help_heading = "Trail archives in S3 (s3:// PATHs)")]
    pub s3_concurrency: usize,
    /// TUI: check the archive's log files against its digests with these public keys (the
    /// output of `aws cloudtrail list-public-keys`) instead of asking ListPublicKeys.
    #[arg(long, value_name = "FILE")]
    pub public_keys: Option<std::path::PathBuf>,
    /// Sigma rules (a rule file, or a directory searched for .yml/.yaml) evaluated against every
    /// event: those for `product: aws, service: cloudtrail`. Repeatable. Default: `rules` in
    /// config.toml; with neither, no rule is evaluated (and `detect` stops with status 2).
    #[arg(long, value_name = "DIR")]
    pub rules: Vec<std::path::PathBuf>,
    /// Configuration file (default: $XDG_CONFIG_HOME/trailscope/config.toml).
    #[arg(long, value_name = "FILE", env = "TRAILSCOPE_CONFIG")]
    pub config: Option<std::path::PathBuf>,
    /// The cache's directory (default: $XDG_CACHE_HOME/trailscope, else ~/.cache/trailscope).
    #[arg(long, value_name = "DIR", env = "TRAILSCOPE_CACHE_DIR", help_heading = "The cache")]
    pub cache_dir: Option<std::path::PathBuf>,
    /// Neither read nor write the cache: every event comes from AWS.
    #[arg(
        long,
        env = "TRAILSCOPE_NO_CACHE",
        value_parser = clap::builder::BoolishValueParser::new(),
        conflicts_with = "offline",
        help_heading = "The cache"
    )]
    pub no_cache: bool,
    /// Never call AWS: show what the cache has for the query, and which part of the window it lacks.
    #[arg(long, help_heading = "The cache")]
    pub offline: bool,
    /// The cache's size limit (e.g. 500M, 2G); the oldest events go first when it is reached.
    #[arg(long, value_name = "SIZE", default_value = "2G", value_parser = size_arg, help_heading = "The cache")]
    pub cache_max_size: u64,
    /// The largest single record read (e.g. 64M); a larger one is skipped and named with the
    /// inputs that had problems.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = size_arg, env = "TRAILSCOPE_MAX_RECORD_SIZE")]
    pub max_record_size: u64,
}

impl Common {
    /// Applies the settings that hold for the whole process (the largest record read).
    pub fn apply_limits(&self) {
        crate::model::record::set_max_record_len(usize::try_from(self.max_record_size).unwrap_or(usize::MAX));
    }
}

impl Common {
    /// Fills in what the command line and the environment left open from the configuration
    /// file: the command line wins, then AWS_PROFILE / AWS_REGION, then the file.
    pub fn apply_config(&mut self, c: &crate::config::Config, now_ms: i64) {
        let env_set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        if self.profile.is_none() && !env_set("AWS_PROFILE") {
            self.profile = c.profile.clone();
        }
        if self.region.is_empty() && !env_set("AWS_REGION") && !env_set("AWS_DEFAULT_REGION") {
            self.region = c.regions.clone().unwrap_or_default();
        }
        if self.paths.is_empty() && self.since.is_none() {
            self.since = c.since_ms.map(|age| now_ms - age);
        }
        if self.rules.is_empty() {
            self.rules = c.rules.clone();
        }
    }

    pub fn live_config(&self) -> crate::source::lookup::LiveConfig {
        crate::source::lookup::LiveConfig {
            profile: self.profile.clone(),
            regions: self.region.iter().map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect(),
            endpoint_url: self.endpoint_url.clone(),
            insights: self.insights,
            spacing: None,
            timeout: Some(std::time::Duration::from_secs(self.timeout.max(1))),
            cache: self.cache_config(),
            offline: self.offline,
        }
    }

    /// How `s3://` inputs are read: the live options' credentials, region and endpoint.
    pub fn s3_config(&self) -> crate::source::s3::S3Config {
        let live = self.live_config();
        crate::source::s3::S3Config {
            connect: crate::source::s3::fetch::Connect {
                profile: live.profile,
                region: live.regions.first().filter(|r| *r != "all").cloned(),
                endpoint_url: live.endpoint_url,
                timeout: live.timeout,
            },
            lag_ms: self.delivery_lag.max(0),
            concurrency: self.s3_concurrency.clamp(1, 256),
            cache: self.cache_config(),
            offline: self.offline,
            // With --logs the trail names a log group, not an archive.
            trail: if self.logs { None } else { self.trail.clone() },
        }
    }

    /// How log groups are read (`--log-group`, `--trail … --logs`): the live options'
    /// credentials, region and endpoint.
    pub fn logs_config(&self) -> crate::source::logs::LogsConfig {
        let s3 = self.s3_config();
        crate::source::logs::LogsConfig {
            connect: s3.connect,
            groups: self.log_groups.clone(),
            trail: if self.logs { self.trail.clone() } else { None },
            spacing: None,
            page_limit: self.logs_page_size,
            lag_ms: self.delivery_lag.max(0),
            offline: self.offline,
            cache: self.cache_config(),
        }
    }

    /// How Athena is asked (`--athena`): the live options' credentials, region and endpoint;
    /// the files it names are fetched as `s3://` inputs are.
    pub fn athena_config(&self) -> crate::source::athena::AthenaConfig {
        let s3 = self.s3_config();
        crate::source::athena::AthenaConfig {
            connect: s3.connect.clone(),
            table: self.athena.clone(),
            database: self.athena_database.clone(),
            workgroup: self.workgroup.clone(),
            output: self.output.clone(),
            org: self.athena_org,
            max_files: self.athena_max_files,
            poll: None,
            cache: self.cache_config(),
            s3,
        }
    }

    /// What the TUI starts with: this command line (and `--no-mouse`, the TUI's own) over the
    /// configuration file.
    pub fn tui_options(&self, config: &crate::config::Loaded, no_mouse: bool) -> crate::tui::app::Options {
        let c = &config.config;
        let file = config.path.as_ref().map_or("configuration".to_string(), |p| p.display().to_string());
        crate::tui::app::Options {
            paths: self.paths.clone(),
            filter: self.filter.clone(),
            since: self.since,
            until: self.until,
            mouse: !no_mouse && c.mouse.unwrap_or(true),
            live: self.live_config(),
            cache: self.cache_config(),
            s3: self.s3_config(),
            logs: self.logs_config(),
            athena: self.athena_config(),
            public_keys: self.public_keys.clone(),
            theme: c.theme.clone(),
            local_time: c.local_time,
            fuzzy: c.fuzzy,
            columns: c.columns.clone(),
            keys: c.keys.clone(),
            config_problems: config.problems.iter().map(|p| (file.clone(), p.clone())).collect(),
            rules: self.rules.clone(),
            give_back_memory: None,
        }
    }

    /// Where the cache is, unless `--no-cache` (or no cache directory can be named).
    pub fn cache_config(&self) -> Option<crate::cache::CacheConfig> {
        if self.no_cache {
            return None;
        }
        let dir = self.cache_dir.clone().or_else(crate::cache::default_dir)?;
        Some(crate::cache::CacheConfig { dir, max_bytes: self.cache_max_size })
    }
}

// Parsed once per run: the size of `Print` (the common options) does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard output.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output: `trailscope man | man -l -`.
    Man,
    /// Manage the cache: `stats`, `clear`, `prune --older-than 30d`.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
        /// The cache's directory (default: $XDG_CACHE_HOME/trailscope, else ~/.cache/trailscope).
        #[arg(long, value_name = "DIR", env = "TRAILSCOPE_CACHE_DIR", global = true)]
        cache_dir: Option<std::path::PathBuf>,
    },
    /// Prove that a trail archive was not altered: check its signed digest chain, every log
    /// file's SHA-256, and that every log file is listed by a digest.
    ///
    /// Exit status: 0 every file valid (the newest digest of each chain cannot be checked on a
    /// copy and is reported unsigned); 4 something was modified, missing, not covered, moved or
    /// badly signed; 3 some file could not be read; 1 nothing could be verified (no digests, no
    /// keys); 2 usage error.
    Verify(VerifyArgs),
    /// Athena, for archives too large for one machine: the table's DDL and the SQL of a filter.
    Athena {
        #[command(subcommand)]
        action: AthenaAction,
    },
    /// Write matching events to standard output, newest first (no terminal UI).
    Print {
        #[command(flatten)]
        common: Common,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
    },
    /// Evaluate Sigma rules (--rules) against events from the same inputs as print (files,
    /// s3://, live history) and write what matched.
    ///
    /// jsonl: one line per (event, rule) with eventID, eventTime, rule_id, title and level,
    /// newest first; table: one row per rule that matched. Rules that cannot be evaluated as
    /// written are named on stderr with the reason and skipped. Without --rules, the `rules` of
    /// config.toml are used; with neither, it stops with status 2.
    ///
    /// Exit status: 0 no detection (every input read); 5 at least one detection (it outranks
    /// 3: inputs that could not be read are still named on stderr); 3 some inputs were skipped
    /// and nothing was detected; 2 usage error (no rules, a --rules path that cannot be read);
    /// 1 nothing could be read.
    Detect {
        #[command(flatten)]
        common: Common,
        /// Output format.
        #[arg(long, value_enum, default_value_t = crate::print::detect::DetectFormat::Jsonl)]
        format: crate::print::detect::DetectFormat,
    },
}

/// `trailscope verify`: options.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// Folders that hold a copy of a trail's bucket (the folder with AWSLogs/ in it, or one
    /// above), or the trail's bucket itself: s3://BUCKET[/PREFIX].
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Only this trail's digest chains: its name, or its ARN (arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME).
    /// Without a PATH, the trail's bucket and prefix (DescribeTrails) are verified.
    #[arg(long, value_name = "NAME|ARN")]
    pub trail: Option<String>,
    /// Only files delivered at or after this time: an age (15m, 6h, 7d) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN", value_parser = time_arg)]
    pub since: Option<i64>,
    /// Only files delivered at or before this time: an age (15m, 6h, 7d) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN", value_parser = time_arg)]
    pub until: Option<i64>,
    /// Check signatures with these keys (the output of `aws cloudtrail list-public-keys`), without calling AWS.
    #[arg(long, value_name = "FILE")]
    pub public_keys: Option<std::path::PathBuf>,
    /// Output format (default: table on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    pub format: Option<crate::verify::Format>,
    /// Without --public-keys: the AWS profile for ListPublicKeys (default: AWS_PROFILE, then "default").
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Send AWS requests (S3, DescribeTrails, ListPublicKeys) to this endpoint instead of AWS's.
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// The region of DescribeTrails (buckets are read in their own region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

impl VerifyArgs {
    pub fn request(&self) -> crate::verify::VerifyRequest {
        let keys = match &self.public_keys {
            Some(p) => crate::verify::KeySource::File(p.clone()),
            None => crate::verify::KeySource::Api(crate::source::lookup::LiveConfig {
                profile: self.profile.clone(),
                regions: Vec::new(),
                endpoint_url: self.endpoint_url.clone(),
                insights: false,
                spacing: None,
                timeout: Some(std::time::Duration::from_secs(30)),
                cache: None,
                offline: false,
            }),
        };
        crate::verify::VerifyRequest {
            inputs: self.paths.clone(),
            trail: self.trail.clone(),
            since: self.since,
            until: self.until,
            keys,
            format: self.format,
            s3: crate::source::s3::fetch::Connect {
                profile: self.profile.clone(),
                region: self.region.clone(),
                endpoint_url: self.endpoint_url.clone(),
                timeout: None,
            },
        }
    }
}

/// `trailscope athena …`
#[derive(Debug, Subcommand)]
pub enum AthenaAction {
    /// Print the CREATE EXTERNAL TABLE of the documented CloudTrail table over a trail's
    /// archive, with partition projection (no partitions to add by hand). With --accounts and
    /// --regions, no AWS call; otherwise the bucket is listed to find them.
    Ddl(DdlArgs),
    /// Print the SQL that asks the table for what a filter and a window match: one SELECT
    /// statement on standard output, no AWS call. Terms no column answers exactly (bare words,
    /// text:, the requestParameters half of resource:) select a superset, checked again locally.
    Sql {
        /// The table.
        #[arg(long, value_name = "NAME")]
        table: String,
        /// Its database.
        #[arg(long, value_name = "NAME")]
        database: Option<String>,
        /// The table is an organisation's (partitioned by account and region too).
        #[arg(long)]
        org: bool,
        /// Ask for the files that hold matches ("$path"), not the rows.
        #[arg(long)]
        paths: bool,
        /// The filter (the filter language).
        #[arg(long, short = 'f', value_name = "QUERY", default_value = "", allow_hyphen_values = true)]
        filter: String,
        /// Events at or after this time: an age (15m, 6h, 7d) or an RFC 3339 time.
        #[arg(long, value_name = "WHEN", value_parser = time_arg)]
        since: Option<i64>,
        /// Events at or before this time.
        #[arg(long, value_name = "WHEN", value_parser = time_arg)]
        until: Option<i64>,
    },
}

/// `trailscope athena ddl`: options.
#[derive(Debug, Clone, clap::Args)]
pub struct DdlArgs {
    /// The archive: s3://BUCKET/PREFIX (the folder that holds AWSLogs/, AWSLogs/ itself, or
    /// an organisation's AWSLogs/o-…/).
    #[arg(value_name = "S3_URL", required_unless_present = "trail")]
    pub url: Option<String>,
    /// The trail whose archive it is (a name or an ARN): its bucket and prefix come from
    /// DescribeTrails.
    #[arg(long, value_name = "NAME|ARN", conflicts_with = "url")]
    pub trail: Option<String>,
    /// The accounts whose logs are there (comma-separated); without them and --regions, the
    /// bucket is listed.
    #[arg(long, value_name = "A,B", value_delimiter = ',', requires = "regions")]
    pub accounts: Vec<String>,
    /// The regions (comma-separated).
    #[arg(long, value_name = "R,S", value_delimiter = ',', requires = "accounts")]
    pub regions: Vec<String>,
    /// The table's name.
    #[arg(long, value_name = "NAME", default_value = "cloudtrail_logs")]
    pub table: String,
    /// The database.
    #[arg(long, value_name = "NAME")]
    pub database: Option<String>,
    /// The first day projected (YYYY/MM/DD).
    #[arg(long, value_name = "DAY", default_value = "2020/01/01")]
    pub first_day: String,
    /// Also run the statement in Athena (StartQueryExecution), and wait for it.
    #[arg(long)]
    pub apply: bool,
    /// With --apply: the workgroup (default: primary).
    #[arg(long, value_name = "NAME", requires = "apply")]
    pub workgroup: Option<String>,
    /// With --apply: where Athena writes results (s3://BUCKET/PREFIX/), unless the workgroup says.
    #[arg(long, value_name = "S3_URL", requires = "apply")]
    pub output: Option<String>,
    /// The AWS profile (default: AWS_PROFILE, then "default").
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The region of DescribeTrails and Athena (buckets are read in their own region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Send AWS requests to this endpoint instead of AWS's.
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// Where the cache is, its size, and what it holds (events, accounts, covered time spans).
    Stats,
    /// Remove everything from the cache.
    Clear,
    /// Remove events older than an age (e.g. 30d), and archive indexes and stored loads not used for as
    /// long.
    Prune {
        #[arg(long, value_name = "AGE", value_parser = age_arg)]
        older_than: i64,
    },
}

fn age_arg(s: &str) -> Result<i64, String> {
    crate::model::time::parse_age(s)
        .ok_or_else(|| format!("'{}' is not an age such as 12h, 30d or 2w", crate::sanitize::sanitize(s)))
}

/// A size: bytes, or with a K, M, G or T suffix (powers of 1024; a trailing B or iB is allowed).
pub fn size_arg(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t.strip_suffix("iB").or_else(|| t.strip_suffix('B')).unwrap_or(t);
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let bad = || format!("'{}' is not a size such as 500M or 2G", crate::sanitize::sanitize(s));
    let n: u64 = n.parse().map_err(|_| bad())?;
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(bad()),
    };
    n.checked_mul(1u64 << shift).ok_or_else(bad)
}

fn time_arg(s: &str) -> Result<i64, String> {
    parse_time_arg(s, now_ms()).map_err(|e| e.to_string())
}

/// Writes the completion script for `shell`.
pub fn write_completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut cmd, "trailscope", out);
}

/// Writes the manual page, generated from the same definitions as `--help`.
pub fn write_man(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(out)
}
