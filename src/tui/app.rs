//! The TUI: owns the state and the channels, runs the event loop, starts background work.

use crate::model::raw::RawReader;
use crate::model::time::now_ms;
use crate::print::{build_query, exit, DEFAULT_LIVE_WINDOW_MS};
use crate::query::run::{SharedStore, Worker};
use crate::source::boundary::{self, Links as SourceLinks, LiveCmd, LiveHistory, LoadOptions, Problem, SourceRules};
use crate::tui::effects;
use crate::tui::highlight::highlight_record;
use crate::tui::state::{Effect, Msg, RecordError, Start, State};
use crate::tui::terminal as tty;
use crate::tui::ui;
use anyhow::Context;
use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Decompressed files kept for the detail view: a few files are enough for paging through
/// records, and with a million events loaded 64 MB of cache was a fifth of the footprint.
const RAW_CACHE_BYTES: usize = 16 << 20;

/// What the TUI is started with: the command line and the configuration file, resolved by the
/// caller.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Archive inputs; none means live event history.
    pub paths: Vec<String>,
    pub filter: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Clicks and the wheel are taken.
    pub mouse: bool,
    /// Live history's connection (`:profile` and `:region` change it).
    pub live: crate::source::boundary::LiveConfig,
    /// The local store, unless `--no-cache`.
    pub cache: Option<crate::cache::CacheConfig>,
    /// How `s3://` PATHs and `--trail` are read.
    pub s3: crate::source::boundary::S3Config,
    /// Log groups of CloudWatch Logs (`--log-group`, `--trail … --logs`).
    pub logs: crate::source::boundary::LogsConfig,
    /// An Athena table asked for what the filter matches (`--athena`).
    pub athena: crate::source::boundary::AthenaConfig,
    /// The keys that check the archive's digests (`None`: ListPublicKeys).
    pub public_keys: Option<std::path::PathBuf>,
    /// The theme named in the configuration file (the environment may override it).
    pub theme: Option<String>,
    pub local_time: bool,
    pub fuzzy: crate::query::fuzzy::Engine,
    /// Indices into [`crate::model::columns::HEADERS`], in order.
    pub columns: Option<Vec<(usize, Option<u16>)>>,
    pub keys: Vec<(crate::tui::keymap::Key, crate::tui::action::Action)>,
    /// Problems with the configuration file (or TRAILSCOPE_THEME): (where, what is wrong).
    pub config_problems: Vec<(String, String)>,
    /// Sigma rule files and directories evaluated against every event (none: no detections).
    pub rules: Vec<std::path::PathBuf>,
    /// Returns the memory the allocator holds free to the system: called when a load ends,
    /// since what only the load needed was freed among what stays (`None`: not available).
    pub give_back_memory: Option<fn()>,
}

/// Runs the TUI until the user quits; the exit status.
pub fn run(mut opts: Options) -> anyhow::Result<i32> {
    let now = now_ms();
    // Trail archives in S3 alone have live history's default window.
    let remote = crate::source::boundary::is_remote(&opts.paths, &opts.s3);
    // Log groups too (with live history's default window).
    if opts.logs.is_used() {
        if !opts.paths.is_empty() {
            eprintln!(
                "trailscope: --log-group and --trail --logs read CloudWatch Logs alone: name PATHs in another run"
            );
            return Ok(exit::USAGE);
        }
        if opts.s3.trail.is_some() {
            eprintln!(
                "trailscope: --trail without --logs reads the trail's S3 archive: with --log-group, add --logs to read the trail's log group too"
            );
            return Ok(exit::USAGE);
        }
        if let Err(e) =
            opts.logs.groups.iter().try_for_each(|g| crate::source::boundary::parse_log_group(g).map(|_| ()))
        {
            eprintln!("trailscope: {e}");
            return Ok(exit::USAGE);
        }
        if opts.since.is_none() {
            opts.since = Some(now - DEFAULT_LIVE_WINDOW_MS);
        }
    }
    // Athena too: a window is always asked, the last 24 hours unless said.
    if opts.athena.is_used() {
        if !opts.paths.is_empty() || opts.logs.is_used() || opts.s3.trail.is_some() {
            eprintln!("trailscope: --athena asks the table alone: name PATHs, --trail or --log-group in another run");
            return Ok(exit::USAGE);
        }
        if opts.since.is_none() {
            opts.since = Some(now - DEFAULT_LIVE_WINDOW_MS);
        }
    }
    if remote && opts.since.is_none() && opts.paths.iter().all(|p| crate::source::boundary::is_s3_url(p)) {
        opts.since = Some(now - DEFAULT_LIVE_WINDOW_MS);
    }
    // Validate the filter before touching the terminal, so a typo is a plain usage error.
    let base = build_query(None, opts.since, opts.until, now).context("bad --since/--until")?;
    if let Some(f) = &opts.filter {
        if let Err(e) = crate::query::parse(f, now) {
            eprintln!("trailscope: bad --filter: {e}");
            return Ok(exit::USAGE);
        }
    }
    // The theme (TRAILSCOPE_THEME, NO_COLOR) is decided before the terminal is taken too.
    // An unknown TRAILSCOPE_THEME is said (in the status bar and under E), as print says it,
    // and the theme is chosen as if it were not set.
    let configured_theme = opts.theme.as_deref().and_then(crate::tui::theme::by_name);
    let no_color = std::env::var("NO_COLOR").ok();
    let name = crate::tui::theme::choose_from_env(configured_theme).unwrap_or_else(|e| {
        opts.config_problems.push(("TRAILSCOPE_THEME".into(), e.to_string()));
        crate::tui::theme::choose(None, configured_theme, no_color.as_deref()).unwrap_or_default()
    });
    crate::tui::theme::init(name, crate::tui::theme::Depth::from_env());
    // crossterm drops every colour under NO_COLOR on its own; the theme decides here
    // (NO_COLOR gives `mono`, which has none), so that a theme chosen explicitly works.
    crossterm::style::force_color_output(true);
    tty::set_mouse(opts.mouse);
    // The rules are read on the detection thread while the source starts: the source
    // evaluates each record as it parses it once they are there, and that thread the events
    // of the inputs begun before (the first screen does not wait for the rules).
    let rules_slot = (!opts.rules.is_empty()).then(|| Arc::new(std::sync::OnceLock::new()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let raw = Arc::new(RawReader::new(RAW_CACHE_BYTES));
    let (msg_tx, msg_rx) = mpsc::unbounded_channel::<Msg>();
    let (live_tx, live_rx) = mpsc::unbounded_channel::<LiveCmd>();
    let (hungry_tx, hungry_rx) = watch::channel(true);
    // The terminal and the panic hook come before any background thread, so that one failing
    // at once is already covered.
    let mut terminal = tty::take();
    install_panic_hook();
    let mut state = start_state(&opts, raw.clone(), base.terms, now);
    let raw_for_links = raw.clone();
    let detect_tx = rules_slot.clone().map(|slot| {
        let paths = opts.rules.clone();
        let read = move || {
            let (msg, rules) = read_rules(&paths, &slot);
            (Some(msg), rules)
        };
        spawn_detector_with(read, state.store().clone(), raw_for_links.clone(), msg_tx.clone())
    });
    let rules = rules_slot.map(SourceRules::Later);
    if let Err(e) = spawn_source(&opts, rules.clone(), raw, msg_tx.clone(), live_rx, hungry_rx) {
        tty::give_back();
        return Err(e);
    }
    let wake_tx = msg_tx.clone();
    state.set_worker_waker(Box::new(move || {
        let _ = wake_tx.send(Msg::Work);
    }));
    let links = Links { msg_tx, live_tx, hungry_tx, opts: opts.clone(), raw: raw_for_links, detect_tx, rules };
    let result = rt.block_on(event_loop(&mut terminal, &mut state, links, msg_rx));
    tty::give_back();
    effects::remove_kept_files();
    if let Some(msg) = take_background_panic() {
        eprintln!("trailscope: a background task failed: {msg}");
        return Ok(101);
    }
    // The loader thread may still be running on a huge archive; exiting ends it.
    result.map(|signal| signal.unwrap_or(exit::OK))
}

/// Reads the rules (on the detection thread): what each says about itself and the files that
/// could not be used, as a message for the state; the rules, when some can be evaluated, also
/// set in `slot` for the sources. The message goes first, so that the state knows the rules
/// before any batch evaluated against them.
fn read_rules(
    paths: &[std::path::PathBuf],
    slot: &std::sync::OnceLock<Arc<crate::sigma::RuleSet>>,
) -> (Msg, Option<Arc<crate::sigma::RuleSet>>) {
    let failed =
        |reason: String| Msg::rules(Vec::new(), vec![crate::sigma::RuleProblem { file: "--rules".into(), reason }], 0);
    let loaded = std::panic::catch_unwind(|| crate::sigma::RuleSet::load(paths));
    let (msg, rules) = match loaded {
        Ok(Ok(rules)) => {
            let msg = Msg::rules(rules.infos(), rules.problems.clone(), rules.other_logsource);
            (msg, (!rules.is_empty()).then(|| Arc::new(rules)))
        }
        Ok(Err(e)) => (failed(e.to_string()), None),
        Err(_) => (failed("reading the rules failed (internal error)".into()), None),
    };
    if let Some(r) = &rules {
        let _ = slot.set(r.clone());
    }
    (msg, rules)
}

/// The state the TUI starts with: the filter worker started over an empty store, the
/// configuration's settings, its problems and the saved filters.
fn start_state(opts: &Options, raw: Arc<RawReader>, base_terms: Vec<crate::query::Term>, now: i64) -> State {
    let live = (opts.paths.is_empty()
        && !opts.logs.is_used()
        && !opts.athena.is_used()
        && !crate::source::boundary::is_remote(&opts.paths, &opts.s3))
    .then(|| (opts.since.unwrap_or(now - DEFAULT_LIVE_WINDOW_MS), opts.until));
    let problems: Vec<Problem> = opts
        .config_problems
        .iter()
        .map(|(input, p)| Problem {
            input: crate::sanitize::sanitize(input).into_owned(),
            reason: p.clone(),
            skipped: false,
        })
        .collect();
    let mut notices: Vec<String> = opts.config_problems.iter().map(|(_, p)| format!("{p} (E lists it)")).collect();
    let saved_filters = match effects::saved_filters_path().map(|p| effects::load_saved_filters(&p)) {
        Some(Ok(saved)) => saved,
        Some(Err(e)) => {
            notices.push(e.to_string());
            Vec::new()
        }
        None => Vec::new(),
    };
    let start = Start {
        // Live history's window is asked of AWS; the terms are for files.
        base_terms: if live.is_some() { Vec::new() } else { base_terms },
        filter: opts.filter.clone(),
        now_ms: now,
        live,
        local_time: opts.local_time,
        fuzzy: opts.fuzzy,
        columns: opts.columns.clone(),
        user_keys: opts.keys.clone(),
        show_timeline: true,
        saved_filters,
        problems,
        remote_archive: live.is_none() && crate::source::boundary::is_remote(&opts.paths, &opts.s3),
        detect: !opts.rules.is_empty(),
        log_groups: opts.logs.is_used(),
        athena: opts.athena.is_used(),
    };
    let store = SharedStore::default();
    let worker = Worker::spawn(store.clone(), raw.clone());
    let mut state = State::new(store, raw, worker, start);
    for text in notices {
        state.apply(Msg::Notice { text, error: true });
    }
    state
}

/// ratatui's hook restores the terminal (mouse reporting and bracketed paste aside: switched
/// off here first) and prints the panic. On top of it: stay quiet for panics caught while reading an input (they
/// become that input's problem); and for a panic on another thread, leave the terminal to the
/// UI thread (restoring from there would race with its drawing): note the message, and the
/// event loop ends and reports it.
fn install_panic_hook() {
    let restore_and_print = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if crate::source::boundary::catching_panic() {
            return;
        }
        if std::thread::current().name() == Some("main") {
            tty::disable_modes();
            restore_and_print(info);
        } else {
            let mut slot = BACKGROUND_PANIC.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert_with(|| crate::sanitize::sanitize(&info.to_string()).into_owned());
        }
    }));
}

/// How local archives are read: with the cache, and (with `--since`/`--until`) only the log
/// files whose delivery times can hold events of that window. The filter pane's own time terms
/// can change; the command line's cannot, so only they prune.
fn local_options(opts: &Options) -> LoadOptions {
    let window = (opts.since.is_some() || opts.until.is_some()).then(|| crate::source::boundary::Window {
        start_ms: opts.since.unwrap_or(i64::MIN / 4),
        end_ms: opts.until.unwrap_or(i64::MAX / 4),
        lag_ms: opts.s3.lag_ms,
    });
    LoadOptions { cache: opts.cache.clone(), window, ..Default::default() }
}

/// Starts the thread that feeds events: the loader for files, or the live source.
fn spawn_source(
    opts: &Options,
    rules: Option<SourceRules>,
    raw: Arc<RawReader>,
    tx: mpsc::UnboundedSender<Msg>,
    live_rx: mpsc::UnboundedReceiver<LiveCmd>,
    hungry_rx: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let links = SourceLinks { raw, cmds: live_rx, hungry: hungry_rx };
    if opts.athena.is_used() {
        let q = build_query(opts.filter.as_deref(), opts.since, opts.until, now_ms()).context("bad --filter")?;
        let load = LoadOptions { cache: opts.cache.clone(), rules, ..Default::default() };
        let (source, _) =
            crate::source::boundary::AthenaSource::new(&opts.athena, &q, now_ms(), DEFAULT_LIVE_WINDOW_MS, load)
                .map_err(|e| anyhow::anyhow!(e))?;
        let session = LIVE_SESSION.load(std::sync::atomic::Ordering::SeqCst);
        boundary::spawn(Box::new(source), "athena", links, move |m| {
            // Messages of a question that `r` replaced are dropped.
            if LIVE_SESSION.load(std::sync::atomic::Ordering::SeqCst) == session {
                let _ = tx.send(Msg::Load(m));
            }
        })
        .context("starting the Athena source")?;
    } else if opts.logs.is_used() {
        let q = build_query(opts.filter.as_deref(), opts.since, opts.until, now_ms()).context("bad --filter")?;
        let (source, _) = crate::source::boundary::LogsSource::new(
            &opts.logs,
            &q,
            now_ms(),
            DEFAULT_LIVE_WINDOW_MS,
            LoadOptions { rules, ..Default::default() },
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        let session = LIVE_SESSION.load(std::sync::atomic::Ordering::SeqCst);
        boundary::spawn(Box::new(source), "logs", links, move |m| {
            // Messages of a reading that `r` replaced are dropped.
            if LIVE_SESSION.load(std::sync::atomic::Ordering::SeqCst) == session {
                let _ = tx.send(Msg::Load(m));
            }
        })
        .context("starting the CloudWatch Logs source")?;
    } else if crate::source::boundary::is_remote(&opts.paths, &opts.s3) {
        let q = build_query(opts.filter.as_deref(), opts.since, opts.until, now_ms()).context("bad --filter")?;
        let load = LoadOptions { cache: opts.cache.clone(), rules, ..Default::default() };
        let (source, _) = crate::source::boundary::S3Archive::for_inputs(
            &opts.paths,
            &q,
            now_ms(),
            DEFAULT_LIVE_WINDOW_MS,
            &opts.s3,
            load,
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        boundary::spawn(Box::new(source), "loader", links, move |m| {
            let _ = tx.send(Msg::Load(m));
        })
        .context("starting the S3 source")?;
    } else if opts.paths.is_empty() {
        let session = LIVE_SESSION.load(std::sync::atomic::Ordering::SeqCst);
        let live = LiveHistory { cfg: opts.live.clone(), until_done: false };
        boundary::spawn(Box::new(live), "live", links, move |m| {
            // Messages of a session that `:profile` or `:region` replaced are dropped.
            if LIVE_SESSION.load(std::sync::atomic::Ordering::SeqCst) == session {
                let _ = tx.send(Msg::Load(m));
            }
        })
        .context("starting the live source")?;
    } else {
        // One source, whose stored load may be withdrawn (the list is cleared: see `Restart`).
        let sources =
            boundary::for_inputs(&opts.paths, &LoadOptions { rules, withdrawable: true, ..local_options(opts) });
        boundary::spawn(Box::new(sources), "loader", links, move |m| {
            injected_panic("loader");
            let _ = tx.send(Msg::Load(m));
        })
        .context("starting the loader")?;
    }
    Ok(())
}

/// A panic on a thread other than the UI's, waiting for the event loop to end and report it.
static BACKGROUND_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn take_background_panic() -> Option<String> {
    BACKGROUND_PANIC.lock().unwrap_or_else(|p| p.into_inner()).take()
}

fn background_panicked() -> bool {
    BACKGROUND_PANIC.lock().unwrap_or_else(|p| p.into_inner()).is_some()
}

/// The app loop's ways out to background work.
struct Links {
    msg_tx: mpsc::UnboundedSender<Msg>,
    live_tx: mpsc::UnboundedSender<LiveCmd>,
    hungry_tx: watch::Sender<bool>,
    /// What the source was started with (`:profile` and `:region` start it again).
    opts: Options,
    raw: Arc<RawReader>,
    /// Events to evaluate against the detection rules (those their source did not), when
    /// rules were given.
    detect_tx: Option<std::sync::mpsc::Sender<(u64, Vec<std::ops::Range<u32>>)>>,
    /// The rules the sources evaluate records against (once read).
    rules: Option<SourceRules>,
}

/// Which start of the live source may send events: one started before `:profile` or
/// `:region` may still be finishing a request, and its pages must not reach the new view.
static LIVE_SESSION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    mut links: Links,
    mut msg_rx: mpsc::UnboundedReceiver<Msg>,
) -> anyhow::Result<Option<i32>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigquit = signal(SignalKind::quit())?;
    // Stopping is done by the app, after giving the terminal back; continuing redraws.
    let mut sigtstp = signal(SignalKind::from_raw(libc::SIGTSTP))?;
    let mut sigcont = signal(SignalKind::from_raw(libc::SIGCONT))?;
    // `None` only while the pager has the terminal.
    let mut keys = Some(EventStream::new());
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let size = terminal.size()?;
    state.apply(Msg::Resize(ratatui::layout::Rect::new(0, 0, size.width, size.height)));
    let mut dirty = true;
    // When a new filter started: its first results are awaited briefly before drawing, so
    // the list never shows the previous filter's rows under the new filter text.
    let mut hold_since: Option<tokio::time::Instant> = None;
    loop {
        state.maintain();
        let clear = carry_out_effects(state, &mut links, terminal, &mut keys)?;
        dirty |= clear.is_some();
        let hungry = state.wants_more();
        links.hungry_tx.send_if_modified(|h| std::mem::replace(h, hungry) != hungry);
        let hold = if state.awaiting_first_results() {
            let since = *hold_since.get_or_insert_with(tokio::time::Instant::now);
            (since.elapsed() < FIRST_RESULTS_WAIT).then_some(since + FIRST_RESULTS_WAIT)
        } else {
            hold_since = None;
            None
        };
        if dirty && hold.is_none() {
            if clear == Some(true) {
                tty::clear(terminal)?;
            }
            terminal.draw(|f| ui::draw(f, state))?;
            dirty = false;
            injected_panic("ui");
        }
        let keys = keys.get_or_insert_with(EventStream::new);
        tokio::select! {
            ev = keys.next() => match ev {
                Some(Ok(ev)) => dirty |= on_terminal_event(state, ev),
                Some(Err(e)) => return Err(e).context("reading the terminal"),
                None => break,
            },
            Some(msg) = msg_rx.recv() => {
                let loading = !state.load.done;
                state.apply(msg);
                // Coalesce a burst: apply what is already waiting, then draw once; for a
                // frame's time at most, since a source that refills the channel as fast as
                // batches are applied (a stored load read back) would else keep the screen
                // from being drawn until the load ends.
                let until = std::time::Instant::now() + COALESCE_MAX;
                while std::time::Instant::now() < until {
                    let Ok(msg) = msg_rx.try_recv() else { break };
                    state.apply(msg);
                }
                if let Some(give_back) = links.opts.give_back_memory.filter(|_| loading && state.load.done) {
                    give_back();
                }
                dirty = true;
            }
            _ = tick.tick() => {
                // Redraw for progress, and for a notice until it is dropped (the redraw after
                // that erases it); otherwise an idle screen sends nothing over the link.
                if !state.load().done() || state.filtering().is_some() || state.notice().is_some() {
                    dirty = true;
                }
            }
            _ = tokio::time::sleep_until(hold.unwrap_or_else(tokio::time::Instant::now)), if hold.is_some() => {}
            // The usual 128 + signal number, after the terminal is restored.
            _ = sigterm.recv() => return Ok(Some(143)),
            _ = sighup.recv() => return Ok(Some(129)),
            _ = sigint.recv() => return Ok(Some(130)),
            _ = sigquit.recv() => return Ok(Some(131)),
            // A SIGTSTP that stopped the pager already stopped this process with it.
            _ = sigtstp.recv() => if !effects::take_pager_stopped() {
                state.update(crate::tui::action::Action::Suspend);
                dirty = true;
            },
            _ = sigcont.recv() => {
                state.update(crate::tui::action::Action::Redraw);
                dirty = true;
            }
        }
        if state.quitting() || background_panicked() {
            break;
        }
    }
    Ok(None)
}

/// Applies a terminal event; whether the screen needs drawing.
fn on_terminal_event(state: &mut State, ev: TermEvent) -> bool {
    match ev {
        TermEvent::Key(key) => {
            // Take every key already waiting, then filter once.
            state.begin_burst();
            let mut next = Some(key);
            let mut burst = 0;
            let mut dirty = false;
            while let Some(key) = next.take() {
                if let Some(action) = crate::tui::keymap::handle_key_with(&state.user_keys, state.mode(), key) {
                    state.update(action);
                    dirty = true;
                }
                burst += 1;
                // What is already waiting is read directly, not by polling `keys` here: a poll
                // of the stream that finds nothing leaves it to wake whoever polled, and a
                // throwaway poll would leave the next key unseen until something else woke
                // the loop (the 250 ms tick).
                if burst < 256 && crossterm::event::poll(Duration::ZERO).unwrap_or(false) {
                    match crossterm::event::read() {
                        Ok(TermEvent::Key(k)) => next = Some(k),
                        Ok(other) => dirty |= on_terminal_event(state, other),
                        Err(_) => {}
                    }
                }
            }
            state.end_burst();
            dirty
        }
        TermEvent::Resize(w, h) => {
            state.apply(Msg::Resize(ratatui::layout::Rect::new(0, 0, w, h)));
            true
        }
        // Pasted text is text for the line being edited, never keys.
        TermEvent::Paste(text) => match crate::tui::keymap::handle_paste(state.mode(), &text) {
            Some(action) => {
                state.update(action);
                true
            }
            None => false,
        },
        // Mouse input arrives as bytes even when reporting is off (a paste, a terminal that
        // ignores the request): with --no-mouse it does nothing.
        TermEvent::Mouse(m) if tty::mouse_on() => match crate::tui::mouse::handle_mouse(m, state) {
            Some(action) => {
                state.update(action);
                true
            }
            None => false,
        },
        _ => false,
    }
}

/// How long a new filter's first results are waited for before the screen is drawn anyway.
const FIRST_RESULTS_WAIT: Duration = Duration::from_millis(60);

/// How long messages that keep arriving are applied before the screen is drawn.
const COALESCE_MAX: Duration = Duration::from_millis(50);

/// Carries out the side effects the state asked for, until it asks for no more (one may lead
/// to others: starting live history again asks for its query). `Some(clear)` when the screen
/// must be drawn, cleared first if `clear`.
fn carry_out_effects(
    state: &mut State,
    links: &mut Links,
    terminal: &mut ratatui::DefaultTerminal,
    keys: &mut Option<EventStream>,
) -> anyhow::Result<Option<bool>> {
    let mut redraw = None;
    loop {
        let effects = state.take_effects();
        if effects.is_empty() {
            return Ok(redraw);
        }
        for effect in effects {
            match effect {
                Effect::Pager(ev) => {
                    // The pager gets the keyboard: our key reader stops before it starts (it
                    // would take the pager's keys, and the cursor query of clearing after). It
                    // is dropped before a new one is made: making one waits for the old one's
                    // reading to stop.
                    *keys = None;
                    run_pager(state, ev, terminal)?;
                    redraw = Some(redraw.unwrap_or(false));
                }
                Effect::Reconnect { profile, regions } => {
                    reconnect(state, links, profile, regions)?;
                    redraw = Some(redraw.unwrap_or(false));
                }
                Effect::ReloadLogs { filter } => {
                    reload_logs(state, links, filter)?;
                    redraw = Some(redraw.unwrap_or(false));
                }
                Effect::ClearScreen => redraw = Some(true),
                Effect::Suspend => {
                    // Unlike for the pager, the key reader is kept: it stops with the process,
                    // and a new one could wait for the old one's lock on the terminal's input
                    // until a key comes, deaf to signals meanwhile.
                    tty::suspend(terminal).context("taking the terminal back after a suspension")?;
                    redraw = Some(redraw.unwrap_or(false));
                }
                Effect::LiveQuery { generation, query } => {
                    let _ = links.live_tx.send(LiveCmd::Query { generation, query });
                }
                Effect::LiveCancel => {
                    let _ = links.live_tx.send(LiveCmd::Cancel);
                }
                Effect::ReadRecord(ev) => spawn_detail(state, ev, links.msg_tx.clone()),
                Effect::Verify => spawn_verify(&links.opts, links.msg_tx.clone()),
                Effect::Detect { generation, ranges } => {
                    if let Some(tx) = &links.detect_tx {
                        let _ = tx.send((generation, ranges));
                    }
                }
                other => run_effect(other, state, links),
            }
        }
    }
}

/// Verifies the archive's log files against its digests on a thread of its own (hashing
/// every file takes about as long as loading it); the verdicts come back as [`Msg::Verified`].
fn spawn_verify(opts: &Options, msg_tx: mpsc::UnboundedSender<Msg>) {
    let req = crate::verify::VerifyRequest {
        inputs: opts.paths.iter().filter(|p| p.as_str() != "-").cloned().collect(),
        trail: opts.s3.trail.clone(),
        since: opts.since,
        until: opts.until,
        keys: match &opts.public_keys {
            Some(p) => crate::verify::KeySource::File(p.clone()),
            None => crate::verify::KeySource::Api(opts.live.clone()),
        },
        format: None,
        s3: opts.s3.connect.clone(),
    };
    let failed_tx = msg_tx.clone();
    let spawned = std::thread::Builder::new().name("verify".into()).spawn(move || {
        let _ = msg_tx.send(Msg::Verified(crate::verify::log_verdicts(&req)));
    });
    if let Err(e) = spawned {
        let _ = failed_tx.send(Msg::Verified(Err(format!("could not start a thread: {e}").into())));
    }
}

/// Evaluates the events it is sent (those their source did not evaluate as it parsed them:
/// live history), on a thread of its own (records are read back and parsed there, on all
/// cores, never on the UI thread). The results come back as [`Msg::Detected`]; events of an
/// older generation (since replaced) are skipped.
pub fn spawn_detector(
    rules: Arc<crate::sigma::RuleSet>,
    store: crate::tui::state::SharedStore,
    raw: Arc<RawReader>,
    msg_tx: mpsc::UnboundedSender<Msg>,
) -> std::sync::mpsc::Sender<(u64, Vec<std::ops::Range<u32>>)> {
    spawn_detector_with(move || (None, Some(rules)), store, raw, msg_tx)
}

/// [`spawn_detector`] with rules the thread reads first (`read`: a message for the state, if
/// any, and the rules, if some can be evaluated). Events sent before wait for them: those that sources
/// loaded before the rules arrived are evaluated here, each once. Without rules, what is sent
/// is dropped.
pub fn spawn_detector_with(
    read: impl FnOnce() -> (Option<Msg>, Option<Arc<crate::sigma::RuleSet>>) + Send + 'static,
    store: crate::tui::state::SharedStore,
    raw: Arc<RawReader>,
    msg_tx: mpsc::UnboundedSender<Msg>,
) -> std::sync::mpsc::Sender<(u64, Vec<std::ops::Range<u32>>)> {
    use rayon::prelude::*;
    let (tx, rx) = std::sync::mpsc::channel::<(u64, Vec<std::ops::Range<u32>>)>();
    let failed_tx = msg_tx.clone();
    let spawned = std::thread::Builder::new().name("detect".into()).spawn(move || {
        let (msg, rules) = read();
        if msg.is_some_and(|m| msg_tx.send(m).is_err()) {
            return;
        }
        let Some(rules) = rules else { return };
        let mut newest = 0u64;
        while let Ok((generation, ranges)) = rx.recv() {
            newest = newest.max(generation);
            if generation < newest {
                continue;
            }
            const CHUNK: u32 = 8192;
            for range in ranges {
                let mut start = range.start;
                while start < range.end {
                    let end = (start + CHUNK).min(range.end);
                    // Where each record is, taken under the lock; read and evaluated without it.
                    let locs: Vec<(u32, Arc<crate::model::raw::SourceFile>, crate::model::RawLoc)> = {
                        let s = store.read();
                        (start..end.min(s.len() as u32))
                            .filter_map(|i| {
                                let ev = &s.events[i as usize];
                                // An event no rule can match by its summary is not read back.
                                if !rules.may_match(crate::sigma::summary_of(&s, ev)) {
                                    return None;
                                }
                                Some((i, s.file_of(ev)?.clone(), ev.loc))
                            })
                            .collect()
                    };
                    let hits: Vec<(u32, Vec<u16>)> = locs
                        .par_iter()
                        .filter_map(|(i, file, loc)| {
                            let bytes = raw.read(file, *loc).ok()?;
                            let h = rules.eval_bytes(&bytes);
                            (!h.is_empty()).then_some((*i, h))
                        })
                        .collect();
                    let evaluated = (end - start) as usize;
                    if msg_tx.send(Msg::Detected { generation, hits, evaluated }).is_err() {
                        return;
                    }
                    start = end;
                }
            }
        }
    });
    if let Err(e) = spawned {
        let text = format!("could not start the detection thread ({e}): events of live history are not evaluated");
        let _ = failed_tx.send(Msg::Notice { text, error: true });
    }
    tx
}

/// Carries out a side effect that needs neither the terminal nor the sources.
fn run_effect(effect: Effect, state: &mut State, links: &Links) {
    let notice = |text: String| Msg::Notice { text, error: false };
    match effect {
        Effect::Copy { label, text } => state.apply(notice(effects::copy(label, &text))),
        Effect::CopyRecord(ev) => match read_record(state, ev) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                state.apply(notice(effects::copy("event JSON", &text)));
            }
            Err(e) => state.apply(Msg::Notice { text: format!("could not read the record: {e}"), error: true }),
        },
        Effect::Export { path, events, overwrite } => {
            let (store, raw, tx) = (state.store().clone(), state.raw().clone(), links.msg_tx.clone());
            state.apply(notice(format!("exporting {} events to {path}…", ui::thousands(events.len()))));
            tokio::task::spawn_blocking(move || {
                let msg = match effects::export(&store, &raw, &events, &path, overwrite) {
                    Ok(done) if done.without_id > 0 => Msg::Notice { text: done.describe(&path), error: true },
                    Ok(done) => notice(done.describe(&path)),
                    Err(e) => Msg::Notice { text: format!("export failed: {e}"), error: true },
                };
                let _ = tx.send(msg);
            });
        }
        Effect::SaveFilters(list) => {
            if let Some(p) = effects::saved_filters_path() {
                if let Err(e) = effects::store_saved_filters(&p, &list) {
                    state.apply(Msg::Notice { text: e.to_string(), error: true });
                }
            }
        }
        // Carried out by the loop itself.
        Effect::Pager(_)
        | Effect::Reconnect { .. }
        | Effect::ReloadLogs { .. }
        | Effect::LiveQuery { .. }
        | Effect::LiveCancel
        | Effect::ReadRecord(_)
        | Effect::Verify
        | Effect::Detect { .. }
        | Effect::ClearScreen
        | Effect::Suspend => {}
    }
}

/// Starts live history again with another profile or other regions: the events so far are
/// dropped (they belong to other credentials or regions) and the filter's query is fetched.
fn reconnect(
    state: &mut State,
    links: &mut Links,
    profile: Option<String>,
    regions: Option<Vec<String>>,
) -> anyhow::Result<()> {
    if let Some(p) = profile {
        links.opts.live.profile = Some(p);
    }
    if let Some(r) = regions {
        links.opts.live.regions = r.iter().map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect();
    }
    LIVE_SESSION.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let (live_tx, live_rx) = mpsc::unbounded_channel::<LiveCmd>();
    let (hungry_tx, hungry_rx) = watch::channel(true);
    // Dropping the old command channel ends the old source.
    links.live_tx = live_tx;
    links.hungry_tx = hungry_tx;
    let c = &links.opts.live;
    let regions = if c.regions.is_empty() { "the default region".to_string() } else { c.regions.join(",") };
    let notice = format!("live history: profile {}, {regions}", c.profile.as_deref().unwrap_or("(default)"));
    state.apply(Msg::Restarted { notice });
    spawn_source(&links.opts, links.rules.clone(), links.raw.clone(), links.msg_tx.clone(), live_rx, hungry_rx)?;
    Ok(())
}

/// `r` on log groups (or Athena): the source that is reading stops, and a new one reads the
/// window again up to now, with the pattern of the filter applied now (asks Athena the filter).
fn reload_logs(state: &mut State, links: &mut Links, filter: String) -> anyhow::Result<()> {
    let _ = links.live_tx.send(LiveCmd::Cancel);
    links.opts.filter = (!filter.is_empty()).then_some(filter);
    LIVE_SESSION.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let (live_tx, live_rx) = mpsc::unbounded_channel::<LiveCmd>();
    let (hungry_tx, hungry_rx) = watch::channel(true);
    links.live_tx = live_tx;
    links.hungry_tx = hungry_tx;
    let notice = if links.opts.athena.is_used() {
        "Athena: asking again, with the filter in the pane"
    } else {
        "log groups: reading again up to now"
    };
    state.apply(Msg::Restarted { notice: notice.into() });
    spawn_source(&links.opts, links.rules.clone(), links.raw.clone(), links.msg_tx.clone(), live_rx, hungry_rx)?;
    Ok(())
}

/// Shows a record in `$PAGER`: the terminal is handed over and taken back as it was.
fn run_pager(state: &mut State, ev: u32, terminal: &mut ratatui::DefaultTerminal) -> anyhow::Result<()> {
    let text = match read_record(state, ev) {
        Ok(bytes) => effects::pretty_record(&bytes),
        Err(e) => {
            state.apply(Msg::Notice { text: format!("could not read the record: {e}"), error: true });
            return Ok(());
        }
    };
    tty::give_back();
    let result = effects::run_pager(&text);
    tty::take_back(terminal).context("taking the terminal back")?;
    if let Err(e) = result {
        state.apply(Msg::Notice { text: e.to_string(), error: true });
    }
    Ok(())
}

fn read_record(state: &State, ev: u32) -> Result<crate::model::raw::RawBytes, RecordError> {
    let store = state.store().read();
    let e = store.events.get(ev as usize).ok_or(RecordError::NoSuchEvent)?;
    let file = store.file_of(e).ok_or(RecordError::NoSuchFile)?;
    state.raw().read(file, e.loc).map_err(|e| RecordError::Unreadable(e.to_string()))
}

/// Debug builds only: `TRAILSCOPE_INJECT_PANIC=ui|loader` panics there, so tests can check
/// that a panic anywhere leaves the terminal restored and says what happened.
/// `TRAILSCOPE_INJECT_PANIC=alloc` asks the allocator for an exbibyte at the same place as
/// `ui`: the allocation fails and the process aborts, as it would when out of memory.
fn injected_panic(place: &str) {
    if cfg!(debug_assertions) && std::env::var("TRAILSCOPE_INJECT_PANIC").is_ok_and(|v| v == place) {
        panic!("injected panic in the {place} (TRAILSCOPE_INJECT_PANIC)");
    }
    if cfg!(debug_assertions) && place == "ui" && std::env::var("TRAILSCOPE_INJECT_PANIC").is_ok_and(|v| v == "alloc") {
        let huge: Vec<u8> = Vec::with_capacity(std::hint::black_box(1 << 60));
        std::hint::black_box(huge);
    }
}

/// The work of fetching and highlighting one record for the detail pane, to run off the UI
/// thread. `None` when the event is unknown.
pub fn detail_job(state: &State, event: u32) -> Option<impl FnOnce() -> Msg + Send + 'static> {
    let store = state.store().read();
    let ev = store.events.get(event as usize).copied()?;
    let file = store.file_of(&ev).cloned()?;
    let raw = state.raw().clone();
    let once = state.detail_follows_loading();
    Some(move || {
        let read = if once { raw.read_once(&file, ev.loc) } else { raw.read(&file, ev.loc) };
        let result =
            read.map(|bytes| Arc::new(highlight_record(&bytes))).map_err(|e| RecordError::Unreadable(e.to_string()));
        Msg::Detail { event, result }
    })
}

fn spawn_detail(state: &State, event: u32, tx: mpsc::UnboundedSender<Msg>) {
    if let Some(job) = detail_job(state, event) {
        tokio::task::spawn_blocking(move || {
            let _ = tx.send(job());
        });
    } else {
        let _ = tx.send(Msg::Detail { event, result: Err(RecordError::NotLoaded) });
    }
}
