//! The TUI: owns the state and the channels, runs the event loop, starts background work.

use crate::cli::Common;
use crate::highlight::highlight_record;
use crate::keymap::handle_key;
use crate::model::time::now_ms;
use crate::print::{build_query, exit, DEFAULT_LIVE_WINDOW_MS};
use crate::source::lookup::{run_live, LiveCmd};
use crate::source::raw::RawReader;
use crate::source::{load, LoadMsg, LoadOptions, Problem};
use crate::state::{Msg, State};
use crate::ui;
use anyhow::Context;
use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Decompressed files kept for the detail view: a few files are enough for paging through
/// records, and with a million events loaded 64 MB of cache was a fifth of the footprint.
const RAW_CACHE_BYTES: usize = 16 << 20;

pub fn run(common: Common) -> anyhow::Result<i32> {
    let now = now_ms();
    // Validate the filter before touching the terminal, so a typo is a plain usage error.
    let base = build_query(None, common.since, common.until, now).context("bad --since/--until")?;
    if let Some(f) = &common.filter {
        if let Err(e) = crate::query::parse(f, now) {
            eprintln!("trailscope: bad --filter: {e}");
            return Ok(exit::USAGE);
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let raw = Arc::new(RawReader::new(RAW_CACHE_BYTES));
    let (msg_tx, msg_rx) = mpsc::unbounded_channel::<Msg>();
    let live = common.paths.is_empty();
    let (live_tx, live_rx) = mpsc::unbounded_channel::<LiveCmd>();
    let (hungry_tx, hungry_rx) = watch::channel(true);
    let mut state = if live {
        let since = common.since.unwrap_or(now - DEFAULT_LIVE_WINDOW_MS);
        State::new_live(raw.clone(), since, common.until, common.filter.clone(), now)
    } else {
        State::new(raw.clone(), base.terms, common.filter.clone(), now)
    };
    // The terminal and the panic hook come before any background thread, so that one failing
    // at once is already covered.
    let mut terminal = ratatui::init();
    install_panic_hook();
    if let Err(e) = spawn_source(&common, raw, msg_tx.clone(), live_rx, hungry_rx) {
        ratatui::restore();
        return Err(e);
    }
    let links = Links { msg_tx, live_tx, hungry_tx };
    let result = rt.block_on(event_loop(&mut terminal, &mut state, links, msg_rx));
    ratatui::restore();
    if let Some(msg) = take_background_panic() {
        eprintln!("trailscope: a background task failed: {msg}");
        return Ok(101);
    }
    // The loader thread may still be running on a huge archive; exiting ends it.
    result.map(|signal| signal.unwrap_or(exit::OK))
}

/// ratatui's hook restores the terminal and prints the panic. On top of it: stay quiet for
/// panics caught while reading an input (they become that input's problem); and for a panic on
/// another thread, leave the terminal to the UI thread (restoring from there would race with
/// its drawing): note the message, and the event loop ends and reports it.
fn install_panic_hook() {
    let restore_and_print = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if crate::source::catching_panic() {
            return;
        }
        if std::thread::current().name() == Some("main") {
            restore_and_print(info);
        } else {
            let mut slot = BACKGROUND_PANIC.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert_with(|| crate::sanitize::sanitize(&info.to_string()).into_owned());
        }
    }));
}

/// Starts the thread that feeds events: the loader for files, or the live source.
fn spawn_source(
    common: &Common,
    raw: Arc<RawReader>,
    tx: mpsc::UnboundedSender<Msg>,
    live_rx: mpsc::UnboundedReceiver<LiveCmd>,
    hungry_rx: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    if common.paths.is_empty() {
        let cfg = common.live_config();
        std::thread::Builder::new()
            .name("live".into())
            .spawn(move || {
                let mut emit = |m| {
                    let _ = tx.send(Msg::Load(m));
                };
                let result = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())
                    .and_then(|rt| rt.block_on(run_live(cfg, raw, live_rx, hungry_rx, false, &mut emit)));
                if let Err(reason) = result {
                    emit(LoadMsg::Problem(Problem { input: "live event history".into(), reason, skipped: true }));
                    emit(LoadMsg::Done(Default::default()));
                }
            })
            .context("starting the live source")?;
    } else {
        let paths = common.paths.clone();
        std::thread::Builder::new()
            .name("loader".into())
            .spawn(move || {
                load(&paths, &LoadOptions::default(), &raw, &mut |m| {
                    injected_panic("loader");
                    let _ = tx.send(Msg::Load(m));
                });
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
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    links: Links,
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
    let (l, d) = ui::pane_rows(ratatui::layout::Rect::new(0, 0, size.width, size.height));
    state.set_layout(l, d);
    let mut requested: Option<u32> = None;
    let mut dirty = true;
    loop {
        if let Some(ev) = state.detail_wanted() {
            if requested != Some(ev) {
                requested = Some(ev);
                spawn_detail(state, ev, links.msg_tx.clone());
            }
        }
        if let Some(live) = state.live.as_mut() {
            for cmd in live.outbox.drain(..) {
                let _ = links.live_tx.send(cmd);
            }
        }
        let hungry = state.wants_more();
        links.hungry_tx.send_if_modified(|h| std::mem::replace(h, hungry) != hungry);
        if dirty {
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
                        if let Some(action) = handle_key(state.mode(), key) {
                            state.update(action);
                            dirty = true;
                        }
                        burst += 1;
                        if burst < 256 {
                            match futures::FutureExt::now_or_never(keys.next()) {
                                Some(Some(Ok(TermEvent::Key(k)))) => next = Some(k),
                                Some(Some(Ok(TermEvent::Resize(w, h)))) => {
                                    let (l, d) = ui::pane_rows(ratatui::layout::Rect::new(0, 0, w, h));
                                    state.set_layout(l, d);
                                }
                                _ => {}
                            }
                        }
                    }
                    state.apply_deferred();
                }
                Some(Ok(TermEvent::Resize(w, h))) => {
                    let (l, d) = ui::pane_rows(ratatui::layout::Rect::new(0, 0, w, h));
                    state.set_layout(l, d);
                    dirty = true;
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
                if !state.load.done {
                    dirty = true;
                }
            }
            // The usual 128 + signal number, after the terminal is restored.
            _ = sigterm.recv() => return Ok(Some(143)),
            _ = sighup.recv() => return Ok(Some(129)),
            _ = sigint.recv() => return Ok(Some(130)),
        }
        if state.detail.event != requested && state.detail_wanted().is_none() {
            requested = None;
        }
        if state.quit || background_panicked() {
            break;
        }
    }
    Ok(None)
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
    let ev = state.store.events.get(event as usize).copied()?;
    let file = state.store.file_of(&ev).cloned()?;
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
    }
}
