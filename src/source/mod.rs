//! Sources of events. Local files: discovery, parallel parsing, and the coordinator that
//! interns, de-duplicates and streams batches to whoever consumes them (the TUI or `print`).

mod archive;
pub mod athena;
pub mod boundary;
mod dedup;
mod discover;
pub mod files;
mod index;
mod ingest;
mod local;
pub mod logs;
pub mod lookup;
mod merge;
pub mod s3;
mod split;
mod stored;
pub mod stream;
mod worker;

pub use archive::{load, load_found, Search};
pub use dedup::canonical_hash;
pub use discover::{discover, discover_into, Found};
pub use ingest::Ingest;
pub use worker::{catching_panic, install_panic_filter};

use crate::cache::coverage::TimeSpan;
use crate::model::events::Batch;
use crate::model::raw::SourceFile;
use std::sync::Arc;
use std::time::Duration;

/// The AWS SDK's timeouts for the requests of every source: `attempt` for one attempt of a
/// request, 10 s to connect (retries are the sources' own).
pub(crate) fn attempt_timeouts(attempt: Duration) -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(attempt)
        .connect_timeout(Duration::from_secs(10))
        .build()
}

/// An input that was skipped, or read only in part, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The input as the user named it or as found in a directory (sanitised).
    pub input: String,
    /// Why (sanitised where it quotes the input).
    pub reason: String,
    /// The input was not read at all (as opposed to read with some parts skipped).
    pub skipped: bool,
}

impl Problem {
    /// Live history as a whole could not go on (no credentials, an unknown profile, no region):
    /// nothing more comes from it.
    pub fn stops_live_history(&self) -> bool {
        self.skipped && self.input == lookup::LIVE_INPUT
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
/// Counts of what a source has read so far.
pub struct LoadStats {
    /// Inputs found so far (all of them once `discovering` is false).
    pub files_total: usize,
    /// Directories are still being searched: more inputs may come.
    pub discovering: bool,
    /// Inputs finished (read, or failed).
    pub files_done: usize,
    /// Inputs read (in full or in part).
    pub files_read: usize,
    /// Digest files among them (no events).
    pub digests: usize,
    /// Events delivered (duplicates not counted).
    pub events: usize,
    /// Exact duplicates collapsed.
    pub duplicates: usize,
    /// Events delivered without a readable time (listed as "(no time)").
    pub untimed: usize,
    /// Bytes of JSON parsed (after decompression).
    pub bytes: u64,
    /// Log files not read because their names' delivery times put them outside the window.
    pub outside_window: usize,
}

/// Everything a source tells its consumer (see [`boundary`]). A source sends the inputs it
/// reads before their events, and ends with exactly one [`SourceMsg::Done`].
pub enum SourceMsg {
    /// Newly found inputs, where the records of later batches are read back from: an event's
    /// [`RawLoc::file`](crate::model::RawLoc::file) is the input's position among all the
    /// inputs sent (not its [`SourceFile::id`], which numbers it within its own source).
    Files(Vec<Arc<SourceFile>>),
    /// Events to append, with the counts so far.
    Batch(Batch, LoadStats),
    /// An input that failed, or was read only in part, and why.
    Problem(Problem),
    /// Something about an input worth knowing that did not stop it being read in full
    /// (records without a readable time); `skipped` is false.
    Note(Problem),
    /// Progress of live event history.
    Live(lookup::LiveStatus),
    /// Progress of trail archives read from S3: the plan, objects and bytes done, requests,
    /// and the trail's last delivery (sent as objects arrive, and once more before `Done`).
    Remote(Box<s3::S3Status>),
    /// Progress of log groups read from CloudWatch Logs: the plan, pages and requests per
    /// group (sent as pages arrive, and once more before `Done`).
    Logs(Box<logs::LogsStatus>),
    /// What Athena was asked and what it cost: queries, their state, bytes scanned (sent as
    /// queries progress, and once more when asking is over).
    Athena(Box<athena::AthenaStatus>),
    /// Something about the cache the user should know (it was moved aside, is not usable);
    /// the inputs themselves are not affected.
    Warning(String),
    /// Something worth saying once, that is no problem (what the cache now holds).
    Info(String),
    /// The time a part of the source has delivered completely (replaces what that part said
    /// before).
    Coverage(Coverage),
    /// The source has nothing more to send; the final counts.
    Done(LoadStats),
    /// Everything sent so far is withdrawn: the consumer forgets its inputs, events and
    /// symbols, and the load starts again from nothing (a stored load sent as it was checked
    /// turned out damaged part way through; a [`SourceMsg::Warning`] after this says so). Sent
    /// only to a consumer that takes it ([`LoadOptions::withdrawable`]).
    Restart,
}

/// Which time spans a part of a source has delivered completely: every event it has in them
/// has been sent. Archives say it once loaded (the span of what they hold); live history per
/// region, as pages arrive and from what the cache had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    /// The part: `archive DIR`, `LookupEvents us-east-1`, …
    pub part: String,
    /// Closed spans of milliseconds since the epoch, oldest first, not overlapping.
    pub spans: Vec<TimeSpan>,
}

#[derive(Clone, Debug)]
/// How archives are loaded.
pub struct LoadOptions {
    /// Hand decompressed content to the raw reader (for `print`, which reads every record back).
    pub retain_content: bool,
    /// Parsing threads.
    pub threads: usize,
    /// How often the coordinator hands over what it has (the first file goes at once).
    pub batch_interval: Duration,
    /// The store that keeps each file's parsed index; `None`: parse every file.
    pub cache: Option<crate::cache::CacheConfig>,
    /// Content larger than this (decompressed) is parsed as it is read instead of whole, so
    /// that what loading holds is bounded: this per thread, and a record at most.
    pub whole_max: usize,
    /// Only events of this window are wanted: files named as a trail names them (by their
    /// delivery time) that cannot hold one are not read at all.
    pub window: Option<s3::layout::Window>,
    /// Detection rules to evaluate each record against where it is parsed, the bytes in hand
    /// (the hits travel in the batches, [`Batch::detections`]). With rules, stored archive
    /// indexes are not used: a record has to be parsed to be evaluated.
    pub rules: Option<SourceRules>,
    /// Terms to decide where each record is parsed (`print`, whose query is known before
    /// loading; see [`LoadTerms`](crate::query::matcher::LoadTerms)): events are marked with
    /// their `text:` verdict ([`FLAG_TEXT_DECIDED`](crate::model::FLAG_TEXT_DECIDED)) and the
    /// records the query may select are handed to the raw reader. With `text:` terms, as with
    /// rules, stored archive indexes are not used (the records' bytes are needed); a file
    /// taken from its stored index keeps no record.
    pub terms: Option<Arc<crate::query::matcher::LoadTerms>>,
    /// A plain JSON Lines file on disk larger than two of these is split at line ends into
    /// parts of about this size, parsed on every core like separate inputs.
    pub part_bytes: usize,
    /// The consumer takes [`SourceMsg::Restart`]: a stored load (see `stored`) is then sent as
    /// it is checked, chunk by chunk, its first events at once, and withdrawn if a later chunk
    /// is found damaged. Otherwise it is checked whole before its first event is sent.
    pub withdrawable: bool,
}

/// The detection rules a source evaluates records against: ready when it starts, or still
/// being read, so that loading need not wait for them. An input begun before they arrive is
/// not evaluated where it is parsed (its batch says so, [`BatchHits::unevaluated`](crate::model::detect::BatchHits::unevaluated)),
/// and the consumer evaluates its events after loading; those begun after are.
#[derive(Clone, Debug)]
pub enum SourceRules {
    /// The rules, read.
    Ready(Arc<crate::sigma::RuleSet>),
    /// Rules set here once read (by whoever reads them).
    Later(Arc<std::sync::OnceLock<Arc<crate::sigma::RuleSet>>>),
}

impl SourceRules {
    /// The rules, if they have arrived.
    pub fn now(&self) -> Option<&Arc<crate::sigma::RuleSet>> {
        match self {
            SourceRules::Ready(r) => Some(r),
            SourceRules::Later(slot) => slot.get(),
        }
    }
}

impl From<Arc<crate::sigma::RuleSet>> for SourceRules {
    fn from(rules: Arc<crate::sigma::RuleSet>) -> Self {
        SourceRules::Ready(rules)
    }
}

/// The default of [`LoadOptions::part_bytes`].
pub const DEFAULT_PART_BYTES: usize = 4 << 20;

/// The default of [`LoadOptions::whole_max`]: trail logs are a few megabytes.
pub const DEFAULT_WHOLE_MAX: usize = 64 << 20;

impl Default for LoadOptions {
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            retain_content: false,
            threads,
            batch_interval: Duration::from_millis(50),
            cache: None,
            whole_max: DEFAULT_WHOLE_MAX,
            window: None,
            rules: None,
            terms: None,
            part_bytes: DEFAULT_PART_BYTES,
            withdrawable: false,
        }
    }
}
