//! Command-line definitions.

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

Filter language: terms separated by spaces, all must match.
  field:value    case-insensitive substring      field:=value   exact, case-sensitive
  name:Delete*   '*' is a wildcard and anchors    -term          negation
  has:error      field present and not empty      agent:\"a b\"    quoted values
  since:6h until:2024-05-01T12:00:00Z             bare words match any list column
Fields: name source user arn type key ip region account error agent id request resource
        category readonly text

Exit status of print: 0 every input was read; 3 some inputs were skipped (the rest was
printed); 2 usage error; 1 nothing could be read.";

#[derive(Debug, Parser)]
#[command(name = "trailscope", version, about = "Browse AWS CloudTrail events from trail archives in the terminal", after_help = AFTER_HELP)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Files or directories (searched recursively) of CloudTrail logs; `-` reads standard input.
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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write matching events to standard output, newest first (no terminal UI).
    Print {
        #[command(flatten)]
        common: Common,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
    },
}

fn time_arg(s: &str) -> Result<i64, String> {
    parse_time_arg(s, now_ms())
}
