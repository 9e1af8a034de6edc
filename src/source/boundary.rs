//! The one boundary every source sits behind. A source (archives on disk, live history through
//! LookupEvents, and the sources to come) runs on a thread of its own and tells whoever runs it
//! everything through [`SourceMsg`]: where raw records can be read back
//! ([`SourceMsg::Files`]), batches of events with progress, the status of remote fetching,
//! which time spans it has delivered completely ([`SourceMsg::Coverage`]) and problems (an
//! input that failed, why, and whether the rest goes on). Several sources run at once as one
//! ([`Sources`]). Consumers (the TUI, `print`) know sources only through this module.

use super::load;
use super::lookup::{run_live, LiveError};
pub use super::merge::Sources;

// What consumers need of the sources, in one place: they import nothing else of `source`.
pub use super::athena::{AthenaConfig, AthenaSource, AthenaStatus};
pub use super::logs::{parse_group as parse_log_group, LogsConfig, LogsSource, LogsStatus};
pub use super::lookup::{
    LiveCmd, LiveConfig, LiveQuery, LiveStatus, RegionStatus, BUILTIN_REGIONS, EMPTY_HINT, HISTORY_DAYS, LIVE_INPUT,
};
pub use super::s3::layout::{is_s3_url, Window};
pub use super::s3::{is_remote, S3Archive, S3Config, S3Status};
pub use super::{catching_panic, LoadOptions, LoadStats, Problem, SourceMsg, SourceRules};
use crate::model::raw::RawReader;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// What a running source is given by whoever runs it.
pub struct Links {
    /// Where decompressed content is offered for reading records back.
    pub raw: Arc<RawReader>,
    /// Queries and cancellation, for sources that fetch on demand (live history). The source
    /// ends when the sender is dropped.
    pub cmds: mpsc::UnboundedReceiver<LiveCmd>,
    /// Whether the consumer wants more (the list is scrolled near its end).
    pub hungry: watch::Receiver<bool>,
}

/// A producer of events.
pub trait Source: Send {
    /// What problems with the source as a whole are reported as coming from.
    fn name(&self) -> String;
    /// Runs on the calling thread until the source has nothing more to deliver, sending
    /// everything it finds to `emit`, and ends with exactly one [`SourceMsg::Done`]. A failure
    /// is a [`SourceMsg::Problem`], never a panic or a lost message.
    fn run(self: Box<Self>, links: Links, emit: &mut dyn FnMut(SourceMsg));
}

/// Files and directories on disk (and standard input), read whole.
pub struct Archive {
    /// Paths of files and directories, `-` for standard input.
    pub inputs: Vec<String>,
    /// Threads, batching, the archive index.
    pub opts: LoadOptions,
}

/// The sources that read `inputs` as the command line names them: files, directories and `-`
/// together as one [`Archive`] (so that duplicates across them collapse). Nothing for no
/// inputs (live history is asked for on its own, with its query).
pub fn for_inputs(inputs: &[String], opts: &LoadOptions) -> Sources {
    let mut parts: Vec<Box<dyn Source>> = Vec::new();
    if !inputs.is_empty() {
        parts.push(Box::new(Archive { inputs: inputs.to_vec(), opts: opts.clone() }));
    }
    Sources::new(parts)
}

impl Source for Archive {
    fn name(&self) -> String {
        "archive".into()
    }

    fn run(self: Box<Self>, links: Links, emit: &mut dyn FnMut(SourceMsg)) {
        load(&self.inputs, &self.opts, &links.raw, emit);
    }
}

/// Live event history through LookupEvents, fetched as queries arrive on [`Links::cmds`].
pub struct LiveHistory {
    /// Profile, regions, endpoint, the store.
    pub cfg: LiveConfig,
    /// Fetch the first query to its end and stop (`print`), instead of waiting for the
    /// consumer to want more and for further queries (the TUI).
    pub until_done: bool,
}

impl Source for LiveHistory {
    fn name(&self) -> String {
        LIVE_INPUT.into()
    }

    fn run(self: Box<Self>, links: Links, emit: &mut dyn FnMut(SourceMsg)) {
        let result =
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(LiveError::Runtime).and_then(
                |rt| rt.block_on(run_live(self.cfg, links.raw, links.cmds, links.hungry, self.until_done, emit)),
            );
        if let Err(e) = result {
            emit(SourceMsg::Problem(Problem { input: LIVE_INPUT.into(), reason: e.to_string(), skipped: true }));
            emit(SourceMsg::Done(Default::default()));
        }
    }
}

/// Runs `source` on a thread of its own named `thread`, sending what it finds to `emit`.
pub fn spawn(
    source: Box<dyn Source>,
    thread: &str,
    links: Links,
    mut emit: impl FnMut(SourceMsg) + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name(thread.into()).spawn(move || source.run(links, &mut emit))
}
