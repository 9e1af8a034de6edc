//! The `:` command line: k9s-style commands with completion.

use crate::query;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Live history: these regions (comma-separated, or `all`). Files: the filter's region.
    Region(Vec<String>),
    /// Live history: the window's start. Files: the filter's `since:`.
    Since(i64),
    Until(i64),
    /// Live history: another AWS profile.
    Profile(String),
    /// Write the filtered events to a file; `true` (`:export!`): over an existing one.
    Export(String, bool),
    Save(String),
    Load(String),
    Filter(String),
    /// true: local time, false: UTC.
    TimeZone(bool),
    Facets,
    Timeline,
    Help,
    Errors,
    Quit,
}

/// Every command with what it takes and does, for completion and help.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    ("region", "REGION[,REGION…]|all", "live: fetch these regions instead; files: filter on the region"),
    ("since", "AGE|TIME", "live: start the window there and fetch; files: set the filter's since:"),
    ("until", "AGE|TIME", "live: end the window there and fetch; files: set the filter's until:"),
    ("profile", "NAME", "live: use another AWS profile"),
    ("export", "FILE", "write the filtered events to a new FILE (.jsonl, .json or .csv; :export! writes over one)"),
    ("save", "NAME", "save the filter in force as NAME"),
    ("load", "NAME", "apply the saved filter NAME"),
    ("filter", "TEXT", "replace the filter"),
    ("tz", "local|utc", "show times in local time or UTC"),
    ("facets", "", "show or hide the facets"),
    ("timeline", "", "show or hide the timeline"),
    ("help", "", "show the help"),
    ("errors", "", "list the inputs with problems, and notes"),
    ("quit", "", "quit (also :q)"),
];

/// Why a command line does not run; the message is what the status bar shows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("type a command: :region, :since, :export, :profile, … (Tab completes)")]
    Empty,
    #[error("unknown command :{name} (commands: {})", COMMANDS.iter().map(|c| c.0).collect::<Vec<_>>().join(", "))]
    Unknown { name: String },
    #[error(":{command} needs {what}")]
    MissingArgument { command: String, what: &'static str },
    #[error(":{command}: {reason}")]
    BadTime { command: String, reason: String },
    #[error(":filter: {0}")]
    BadFilter(query::QueryError),
    #[error(":tz takes local or utc")]
    BadTimeZone,
}

pub fn parse(line: &str, now_ms: i64) -> Result<Command, CommandError> {
    let line = line.trim().trim_start_matches(':').trim();
    let (name, arg) = line.split_once(char::is_whitespace).map_or((line, ""), |(n, a)| (n, a.trim()));
    let need = |what: &'static str| -> Result<String, CommandError> {
        if arg.is_empty() {
            Err(CommandError::MissingArgument { command: name.to_string(), what })
        } else {
            Ok(arg.to_string())
        }
    };
    let time = |what: &'static str| -> Result<i64, CommandError> {
        let a = need(what)?;
        crate::model::time::parse_time_arg(&a, now_ms)
            .map_err(|reason| CommandError::BadTime { command: name.to_string(), reason: reason.to_string() })
    };
    Ok(match name.to_ascii_lowercase().as_str() {
        "region" | "regions" => {
            let r: Vec<String> =
                need("a region")?.split([',', ' ']).filter(|s| !s.is_empty()).map(str::to_string).collect();
            Command::Region(r)
        }
        "since" => Command::Since(time("an age (2h) or a time")?),
        "until" => Command::Until(time("an age (2h) or a time")?),
        "profile" => Command::Profile(need("a profile name")?),
        "export" => Command::Export(need("a file name")?, false),
        "export!" => Command::Export(need("a file name")?, true),
        "save" => Command::Save(need("a name")?),
        "load" => Command::Load(need("a saved filter's name")?),
        "filter" => {
            query::parse(arg, now_ms).map_err(CommandError::BadFilter)?;
            Command::Filter(arg.to_string())
        }
        "tz" => match arg.to_ascii_lowercase().as_str() {
            "local" => Command::TimeZone(true),
            "utc" | "z" => Command::TimeZone(false),
            _ => return Err(CommandError::BadTimeZone),
        },
        "facets" => Command::Facets,
        "timeline" => Command::Timeline,
        "help" | "h" => Command::Help,
        "errors" => Command::Errors,
        "q" | "quit" | "q!" => Command::Quit,
        "" => return Err(CommandError::Empty),
        other => return Err(CommandError::Unknown { name: other.to_string() }),
    })
}

/// Completions of a partly typed command line, best first.
pub fn complete(line: &str, saved: &[String]) -> Vec<String> {
    let trimmed = line.trim_start();
    match trimmed.split_once(' ') {
        None => COMMANDS
            .iter()
            .filter(|c| c.0.starts_with(&trimmed.to_ascii_lowercase()))
            .map(|c| if c.1.is_empty() { c.0.to_string() } else { format!("{} ", c.0) })
            .collect(),
        Some((cmd, arg)) => {
            let values: Vec<String> = match cmd {
                "region" | "regions" => {
                    let mut v: Vec<String> =
                        crate::source::boundary::BUILTIN_REGIONS.iter().map(|s| s.to_string()).collect();
                    v.push("all".into());
                    v
                }
                "load" => saved.to_vec(),
                "tz" => vec!["local".into(), "utc".into()],
                "since" | "until" => ["15m", "1h", "6h", "24h", "7d", "30d"].iter().map(|s| s.to_string()).collect(),
                _ => Vec::new(),
            };
            // Regions complete the last of a comma-separated list.
            let (done, last) = arg.rsplit_once(',').map_or(("", arg), |(d, l)| (d, l));
            values
                .into_iter()
                .filter(|v| v.starts_with(last))
                .map(|v| if done.is_empty() { format!("{cmd} {v}") } else { format!("{cmd} {done},{v}") })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        let now = 1_000_000_000_000;
        assert_eq!(parse(":region us-west-2", now), Ok(Command::Region(vec!["us-west-2".into()])));
        assert_eq!(
            parse("region us-east-1,eu-west-1", now).unwrap(),
            Command::Region(vec!["us-east-1".into(), "eu-west-1".into()])
        );
        assert_eq!(parse("since 2h", now), Ok(Command::Since(now - 7_200_000)));
        assert_eq!(parse("export out file.csv", now), Ok(Command::Export("out file.csv".into(), false)));
        assert_eq!(parse(":export! out.csv", now), Ok(Command::Export("out.csv".into(), true)));
        assert_eq!(parse("profile prod", now), Ok(Command::Profile("prod".into())));
        assert_eq!(parse("q", now), Ok(Command::Quit));
        let err = |line: &str| parse(line, now).unwrap_err().to_string();
        assert!(err("since yesterday").starts_with(":since: ") && err("since yesterday").contains("neither an age"));
        // An age beyond any date is refused, not turned into a negative time.
        assert!(err("since 99999999999d").contains("too long ago"), "{}", err("since 99999999999d"));
        assert!(err("regoin x").starts_with("unknown command :regoin (commands: region, since, "));
        assert!(matches!(parse("filter name:", now), Err(CommandError::BadFilter(_))));
        assert!(err("filter name:").starts_with(":filter:"));
        assert_eq!(err("profile"), ":profile needs a profile name");
        assert_eq!(err(""), "type a command: :region, :since, :export, :profile, … (Tab completes)");
        assert_eq!(err("tz mars"), ":tz takes local or utc");
    }

    #[test]
    fn completion() {
        assert_eq!(complete("re", &[]), vec!["region "]);
        assert_eq!(complete("region us-w", &[]), vec!["region us-west-1", "region us-west-2"]);
        assert_eq!(
            complete("region us-east-1,eu-w", &[]),
            vec!["region us-east-1,eu-west-1", "region us-east-1,eu-west-2", "region us-east-1,eu-west-3"]
        );
        assert_eq!(complete("load de", &["denied".into(), "root".into()]), vec!["load denied"]);
        assert_eq!(complete("t", &[]), vec!["tz ", "timeline"]);
        assert!(complete("zzz", &[]).is_empty());
    }
}
