//! The TUI: owns the state and the channels, runs the event loop, starts background work.

use crate::model::raw::RawReader;
use crate::model::time::now_ms;
use crate::print::{build_query, exit, DEFAULT_LIVE_WINDOW_MS};
use crate::source::boundary::{self, Archive, Links as SourceLinks, LiveHistory};
use crate::source::lookup::LiveCmd;
use crate::source::{LoadOptions, Problem};
use crate::tui::highlight::highlight_record;
use crate::tui::state::{Effect, Msg, State};
use crate::tui::ui;
use anyhow::Context;
use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use std::sync::atomic::{AtomicBool, Ordering};
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
    pub live: crate::source::lookup::LiveConfig,
    /// The local store, unless `--no-cache`.
    pub cache: Option<crate::cache::CacheConfig>,
    /// How `s3://` PATHs and `--trail` are read.
    pub s3: crate::source::s3::S3Config,
    /// The theme named in the configuration file (the environment may override it).
    pub theme: Option<String>,
    pub local_time: bool,
    pub fuzzy: crate::query::fuzzy::Engine,
    /// Indices into [`crate::model::columns::HEADERS`], in order.
    pub columns: Option<Vec<usize>>,
    pub keys: Vec<(crate::tui::keymap::Key, crate::tui::action::Action)>,
    /// Problems with the configuration file: (the file, what is wrong).
    pub config_problems: Vec<(String, String)>,
}

/// Runs the TUI until the user quits; the exit status.
pub fn run(mut opts: Options) -> anyhow::Result<i32> {
    let now = now_ms();
    // Trail archives in S3 alone have live history's default window.
    let remote = crate::source::s3::is_remote(&opts.paths, &opts.s3);
    if remote && opts.since.is_none() && opts.paths.iter().all(|p| crate::source::s3::layout::is_s3_url(p)) {
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
    let configured_theme = opts.theme.as_deref().and_then(crate::tui::ui::theme::by_name);
    match crate::tui::ui::theme::choose_from_env(configured_theme) {
        Ok(name) => {
            crate::tui::ui::theme::init(name, crate::tui::ui::theme::Depth::from_env());
            // crossterm drops every colour under NO_COLOR on its own; the theme decides here
            // (NO_COLOR gives `mono`, which has none), so that a theme chosen explicitly works.
            crossterm::style::force_color_output(true);
        }
        Err(e) => {
            eprintln!("trailscope: {e}");
            return Ok(exit::USAGE);
        }
    }
    MOUSE.store(opts.mouse, Ordering::Relaxed);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let raw = Arc::new(RawReader::new(RAW_CACHE_BYTES));
    let (msg_tx, msg_rx) = mpsc::unbounded_channel::<Msg>();
    let live = opts.paths.is_empty() && !remote;
    let (live_tx, live_rx) = mpsc::unbounded_channel::<LiveCmd>();
    let (hungry_tx, hungry_rx) = watch::channel(true);
    let mut state = if live {
        let since = opts.since.unwrap_or(now - DEFAULT_LIVE_WINDOW_MS);
        State::new_live(raw.clone(), since, opts.until, opts.filter.clone(), now)
    } else {
        State::new(raw.clone(), base.terms, opts.filter.clone(), now)
    };
    // The terminal and the panic hook come before any background thread, so that one failing
    // at once is already covered.
    state.local_time = opts.local_time;
    state.fuzzy_engine = opts.fuzzy;
    state.columns = opts.columns.clone();
    state.user_keys = opts.keys.clone();
    for (input, p) in &opts.config_problems {
        state.problems.push(Problem {
            input: crate::sanitize::sanitize(input).into_owned(),
            reason: p.clone(),
            skipped: false,
        });
        state.notify_error(format!("{p} (E lists it)"));
    }
    match crate::tui::effects::saved_filters_path().map(|p| crate::tui::effects::load_saved_filters(&p)) {
        Some(Ok(saved)) => state.saved = saved,
        Some(Err(e)) => state.notify_error(e),
        None => {}
    }
    let mut terminal = ratatui::init();
    install_panic_hook();
    let raw_for_links = raw.clone();
    if let Err(e) = spawn_source(&opts, raw, msg_tx.clone(), live_rx, hungry_rx) {
        restore_terminal();
        return Err(e);
    }
    if mouse_on() {
        // Without it the app still works by keys: not worth failing for.
        let _ = crate::tui::mouse::enable_capture();
    }
    let wake_tx = msg_tx.clone();
    state.set_worker_waker(Box::new(move || {
        let _ = wake_tx.send(Msg::Work);
    }));
    let links = Links { msg_tx, live_tx, hungry_tx, opts: opts.clone(), raw: raw_for_links };
    let result = rt.block_on(event_loop(&mut terminal, &mut state, links, msg_rx));
    restore_terminal();
    if let Some(msg) = take_background_panic() {
        eprintln!("trailscope: a background task failed: {msg}");
        return Ok(101);
    }
    // The loader thread may still be running on a huge archive; exiting ends it.
    result.map(|signal| signal.unwrap_or(exit::OK))
}

/// Whether clicks and the wheel are taken (not `--no-mouse`).
static MOUSE: AtomicBool = AtomicBool::new(false);

fn mouse_on() -> bool {
    MOUSE.load(Ordering::Relaxed)
}

/// Gives the terminal back: mouse reporting off (`ratatui::restore` leaves it on), the main
/// screen, cooked mode. Never fails: on the way out there is nothing better to do.
fn restore_terminal() {
    let _ = crate::tui::mouse::disable_capture();
    ratatui::restore();
}

/// ratatui's hook restores the terminal (mouse reporting aside: switched off here first) and
/// prints the panic. On top of it: stay quiet for panics caught while reading an input (they
/// become that input's problem); and for a panic on another thread, leave the terminal to the
/// UI thread (restoring from there would race with its drawing): note the message, and the
/// event loop ends and reports it.
fn install_panic_hook() {
    let restore_and_print = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if crate::source::catching_panic() {
            return;
        }
        if std::thread::current().name() == Some("main") {
            let _ = crate::tui::mouse::disable_capture();
            restore_and_print(info);
        } else {
            let mut slot = BACKGROUND_PANIC.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert_with(|| crate::sanitize::sanitize(&info.to_string()).into_owned());
        }
    }));
}

/// Starts the thread that feeds events: the loader for files, or the live source.
fn spawn_source(
    opts: &Options,
    raw: Arc<RawReader>,
    tx: mpsc::UnboundedSender<Msg>,
    live_rx: mpsc::UnboundedReceiver<LiveCmd>,
    hungry_rx: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let links = SourceLinks { raw, cmds: live_rx, hungry: hungry_rx };
    if crate::source::s3::is_remote(&opts.paths, &opts.s3) {
        let q = build_query(opts.filter.as_deref(), opts.since, opts.until, now_ms()).context("bad --filter")?;
        let load = LoadOptions { cache: opts.cache.clone(), ..Default::default() };
        let (source, _) =
            crate::source::s3::S3Archive::for_inputs(&opts.paths, &q, now_ms(), DEFAULT_LIVE_WINDOW_MS, &opts.s3, load)
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
        let archive = Archive {
            inputs: opts.paths.clone(),
            opts: LoadOptions { cache: opts.cache.clone(), ..Default::default() },
        };
        boundary::spawn(Box::new(archive), "loader", links, move |m| {
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
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let size = terminal.size()?;
    let mut screen = ratatui::layout::Rect::new(0, 0, size.width, size.height);
    let mut dirty = true;
    // When a new filter started: its first results are awaited briefly before drawing, so
    // the list never shows the previous filter's rows under the new filter text.
    let mut hold_since: Option<tokio::time::Instant> = None;
    loop {
        let (l, d) = ui::pane_rows(screen, ui::Panes::of(state));
        state.set_layout(l, d);
        state.maintain();
        for effect in std::mem::take(&mut state.effects) {
            if let Effect::Pager(ev) = effect {
                // The pager gets the keyboard: our key reader stops before it starts (it
                // would take the pager's keys, and the cursor query of clearing after).
                drop(keys);
                run_pager(state, ev, terminal)?;
                keys = EventStream::new();
                dirty = true;
            } else if let Effect::Reconnect { profile, regions } = effect {
                reconnect(state, &mut links, profile, regions)?;
                dirty = true;
            } else {
                run_effect(effect, state, &links);
            }
        }
        if let Some(ev) = state.detail_wanted() {
            state.detail_requested(ev);
            spawn_detail(state, ev, links.msg_tx.clone());
        }
        if let Some(live) = state.live.as_mut() {
            for cmd in live.outbox.drain(..) {
                let _ = links.live_tx.send(cmd);
            }
        }
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
            if state.full_redraw {
                terminal.clear()?;
                state.full_redraw = false;
            }
            terminal.draw(|f| ui::draw(f, state))?;
            dirty = false;
            injected_panic("ui");
        }
        tokio::select! {
            ev = keys.next() => match ev {
                Some(Ok(TermEvent::Key(key))) => {
                    // Take every key already waiting, then filter once.
                    state.defer_filter = true;
                    let mut next = Some(key);
                    let mut burst = 0;
                    while let Some(key) = next.take() {
                        if let Some(action) = crate::tui::keymap::handle_key_with(&state.user_keys, state.mode(), key) {
                            state.update(action);
                            dirty = true;
                        }
                        burst += 1;
                        if burst < 256 {
                            match futures::FutureExt::now_or_never(keys.next()) {
                                Some(Some(Ok(TermEvent::Key(k)))) => next = Some(k),
                                Some(Some(Ok(TermEvent::Resize(w, h)))) => {
                                    screen = ratatui::layout::Rect::new(0, 0, w, h);
                                    let (l, d) = ui::pane_rows(screen, ui::Panes::of(state));
                                    state.set_layout(l, d);
                                }
                                Some(Some(Ok(TermEvent::Mouse(m)))) if mouse_on() => {
                                    if let Some(action) = crate::tui::mouse::handle_mouse(m, screen, state) {
                                        state.update(action);
                                        dirty = true;
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                    state.apply_deferred();
                }
                Some(Ok(TermEvent::Resize(w, h))) => {
                    screen = ratatui::layout::Rect::new(0, 0, w, h);
                    dirty = true;
                }
                // Mouse input arrives as bytes even when reporting is off (a paste, a terminal
                // that ignores the request): with --no-mouse it does nothing.
                Some(Ok(TermEvent::Mouse(m))) if mouse_on() => {
                    if let Some(action) = crate::tui::mouse::handle_mouse(m, screen, state) {
                        state.update(action);
                        dirty = true;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e).context("reading the terminal"),
                None => break,
            },
            Some(msg) = msg_rx.recv() => {
                state.apply(msg);
                // Coalesce a burst: apply everything already waiting, then draw once.
                while let Ok(msg) = msg_rx.try_recv() {
                    state.apply(msg);
                }
                dirty = true;
            }
            _ = tick.tick() => {
                // Redraw for progress, and for a notice until it is dropped (the redraw after
                // that erases it); otherwise an idle screen sends nothing over the link.
                if !state.load.done || state.filtering().is_some() || state.notice.is_some() {
                    dirty = true;
                }
            }
            _ = tokio::time::sleep_until(hold.unwrap_or_else(tokio::time::Instant::now)), if hold.is_some() => {}
            // The usual 128 + signal number, after the terminal is restored.
            _ = sigterm.recv() => return Ok(Some(143)),
            _ = sighup.recv() => return Ok(Some(129)),
            _ = sigint.recv() => return Ok(Some(130)),
        }
        if state.quit || background_panicked() {
            break;
        }
    }
    Ok(None)
}

/// How long a new filter's first results are waited for before the screen is drawn anyway.
const FIRST_RESULTS_WAIT: Duration = Duration::from_millis(60);

/// Carries out a side effect other than the pager.
fn run_effect(effect: Effect, state: &mut State, links: &Links) {
    match effect {
        Effect::Copy { label, text } => {
            let notice = crate::tui::effects::copy(label, &text);
            state.notify(notice);
        }
        Effect::CopyRecord(ev) => match read_record(state, ev) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let notice = crate::tui::effects::copy("event JSON", &text);
                state.notify(notice);
            }
            Err(e) => state.notify_error(format!("could not read the record: {e}")),
        },
        Effect::Pager(_) | Effect::Reconnect { .. } => {}
        Effect::Export { path, events } => {
            let (store, raw, tx) = (state.store.clone(), state.raw.clone(), links.msg_tx.clone());
            state.notify(format!("exporting {} events to {path}…", crate::tui::ui::thousands(events.len())));
            tokio::task::spawn_blocking(move || {
                let notice = match crate::tui::effects::export(&store, &raw, &events, &path) {
                    Ok(n) => format!("exported {} events to {path}", crate::tui::ui::thousands(n)),
                    Err(e) => format!("export failed: {e}"),
                };
                let _ = tx.send(Msg::Notice(notice));
            });
        }
        Effect::SaveFilters(list) => {
            if let Some(p) = crate::tui::effects::saved_filters_path() {
                if let Err(e) = crate::tui::effects::store_saved_filters(&p, &list) {
                    state.notify_error(e);
                }
            }
        }
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
    state.reset_events();
    spawn_source(&links.opts, links.raw.clone(), links.msg_tx.clone(), live_rx, hungry_rx)?;
    let c = &links.opts.live;
    let regions = if c.regions.is_empty() { "the default region".to_string() } else { c.regions.join(",") };
    state.notify(format!("live history: profile {}, {regions}", c.profile.as_deref().unwrap_or("(default)")));
    Ok(())
}

/// Shows a record in `$PAGER`: the terminal is handed over and taken back as it was.
fn run_pager(state: &mut State, ev: u32, terminal: &mut ratatui::DefaultTerminal) -> anyhow::Result<()> {
    let text = match read_record(state, ev) {
        Ok(bytes) => crate::tui::effects::pretty_record(&bytes),
        Err(e) => {
            state.notify_error(format!("could not read the record: {e}"));
            return Ok(());
        }
    };
    restore_terminal();
    let result = crate::tui::effects::run_pager(&text);
    crossterm::terminal::enable_raw_mode().context("taking the terminal back")?;
    crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)
        .context("taking the terminal back")?;
    if mouse_on() {
        let _ = crate::tui::mouse::enable_capture();
    }
    terminal.clear()?;
    if let Err(e) = result {
        state.notify_error(e);
    }
    Ok(())
}

fn read_record(state: &State, ev: u32) -> Result<crate::model::raw::RawBytes, String> {
    let store = state.store.read();
    let e = store.events.get(ev as usize).ok_or("no such event")?;
    let file = store.file_of(e).ok_or("no such file")?;
    state.raw.read(file, e.loc)
}

/// Debug builds only: `TRAILSCOPE_INJECT_PANIC=ui|loader` panics there, so tests can check
/// that a panic anywhere leaves the terminal restored and says what happened.
fn injected_panic(place: &str) {
    if cfg!(debug_assertions) && std::env::var("TRAILSCOPE_INJECT_PANIC").is_ok_and(|v| v == place) {
        panic!("injected panic in the {place} (TRAILSCOPE_INJECT_PANIC)");
    }
}

/// The work of fetching and highlighting one record for the detail pane, to run off the UI
/// thread. `None` when the event is unknown.
pub fn detail_job(state: &State, event: u32) -> Option<impl FnOnce() -> Msg + Send + 'static> {
    let store = state.store.read();
    let ev = store.events.get(event as usize).copied()?;
    let file = store.file_of(&ev).cloned()?;
    let raw = state.raw.clone();
    Some(move || {
        let result = raw.read(&file, ev.loc).map(|bytes| Arc::new(highlight_record(&bytes)));
        Msg::Detail { event, result }
    })
}

fn spawn_detail(state: &State, event: u32, tx: mpsc::UnboundedSender<Msg>) {
    if let Some(job) = detail_job(state, event) {
        tokio::task::spawn_blocking(move || {
            let _ = tx.send(job());
        });
    } else {
        let _ = tx.send(Msg::Detail { event, result: Err("the event is not loaded".into()) });
    }
}
