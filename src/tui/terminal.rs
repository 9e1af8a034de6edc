//! Taking the terminal and giving it back, the same way on every path: starting, quitting, an
//! error, a panic, a signal, the pager, and a suspension (Ctrl-Z, SIGTSTP).
//!
//! Besides raw mode and the alternate screen (`ratatui::init` and `ratatui::restore`), the TUI
//! asks for mouse reporting (unless `--no-mouse`) and bracketed paste, so that pasted text
//! arrives as text, never as keys; both are switched off before the terminal is given back.
//!
//! An abort (an allocation that fails, a panic while panicking) runs no panic hook: the
//! binary's SIGABRT handler calls [`give_back_on_abort`], which gives the terminal back with
//! nothing but `write` and `tcsetattr`, as a signal handler may.

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Whether clicks and the wheel are taken (not `--no-mouse`).
static MOUSE: AtomicBool = AtomicBool::new(false);

/// Whether the mouse is taken (set once, before the terminal is).
pub fn set_mouse(on: bool) {
    MOUSE.store(on, Ordering::Relaxed);
}

pub fn mouse_on() -> bool {
    MOUSE.load(Ordering::Relaxed)
}

/// Whether the terminal is ours (taken and not given back): what the abort handler restores.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The terminal's settings before raw mode, and the terminal: standard input, or `/dev/tty`
/// when standard input is not one (as crossterm chooses), read once before it is first taken.
static COOKED: OnceLock<(Tty, rustix::termios::Termios)> = OnceLock::new();

enum Tty {
    Stdin,
    Opened(std::fs::File),
}

impl rustix::fd::AsFd for Tty {
    fn as_fd(&self) -> rustix::fd::BorrowedFd<'_> {
        match self {
            Tty::Stdin => rustix::stdio::stdin(),
            Tty::Opened(f) => f.as_fd(),
        }
    }
}

/// What gives the terminal back, as bytes: every mouse mode and bracketed paste off, the cursor
/// shown, the main screen. The same as [`give_back`] writes, for the abort handler.
const RESTORE: &[u8] = b"\x1b[?1006l\x1b[?1015l\x1b[?1003l\x1b[?1002l\x1b[?1000l\x1b[?2004l\x1b[?25h\x1b[?1049l";

/// Takes the terminal: raw mode, the alternate screen, then the input modes. An abort from
/// here on gives it back too.
pub fn take() -> ratatui::DefaultTerminal {
    save_cooked();
    let terminal = ratatui::init();
    enable_modes();
    TAKEN.store(true, Ordering::SeqCst);
    terminal
}

/// Keeps the settings of the terminal on standard input (the one crossterm puts in raw mode).
fn save_cooked() {
    if COOKED.get().is_some() {
        return;
    }
    let tty = if rustix::termios::isatty(rustix::stdio::stdin()) {
        Tty::Stdin
    } else {
        match std::fs::File::open("/dev/tty") {
            Ok(f) => Tty::Opened(f),
            Err(_) => return,
        }
    };
    if let Ok(t) = rustix::termios::tcgetattr(&tty) {
        let _ = COOKED.set((tty, t));
    }
}

/// Gives the terminal back after an abort (`SIGABRT`), if it is taken: only system calls that
/// a signal handler may make (`write`, `tcsetattr`), no allocation, no lock. The binary calls
/// it from its SIGABRT handler.
pub fn give_back_on_abort() {
    if TAKEN.swap(false, Ordering::SeqCst) {
        let _ = rustix::io::write(rustix::stdio::stdout(), RESTORE);
        if let Some((tty, t)) = COOKED.get() {
            let _ = rustix::termios::tcsetattr(tty, rustix::termios::OptionalActions::Now, t);
        }
    }
}

/// Asks for bracketed paste and (unless `--no-mouse`) the mouse. Without them the app still
/// works by keys: not worth failing for.
fn enable_modes() {
    let mut out = std::io::stdout();
    let _ = crossterm::execute!(out, EnableBracketedPaste);
    if mouse_on() {
        let _ = crate::tui::mouse::enable_capture();
    }
    let _ = out.flush();
}

/// Switches off what `ratatui::restore` leaves on: mouse reporting and bracketed paste. Safe
/// to call when they are off, and from a panic hook.
pub fn disable_modes() {
    let _ = crate::tui::mouse::disable_capture();
    let _ = crossterm::execute!(std::io::stdout(), DisableBracketedPaste);
}

/// Gives the terminal back: the input modes off, the main screen, cooked mode. Never fails:
/// on the way out there is nothing better to do.
pub fn give_back() {
    TAKEN.store(false, Ordering::SeqCst);
    disable_modes();
    ratatui::restore();
}

/// Takes the terminal again after giving it to someone else (the pager, the shell while
/// suspended), as it was, and clears it so that the next frame is drawn whole.
pub fn take_back(terminal: &mut ratatui::DefaultTerminal) -> std::io::Result<()> {
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    enable_modes();
    TAKEN.store(true, Ordering::SeqCst);
    clear(terminal)
}

/// Clears the screen and makes the next frame draw every cell. Unlike ratatui's
/// `Terminal::clear`, without asking the terminal where its cursor is: the answer comes through
/// the key reader, which holds the terminal's input while it waits for a key, so the question
/// would wait for the next key (or two seconds, then fail).
pub fn clear(terminal: &mut ratatui::DefaultTerminal) -> std::io::Result<()> {
    crossterm::execute!(std::io::stdout(), crossterm::terminal::Clear(crossterm::terminal::ClearType::All))?;
    // Each swap empties the buffer it makes current: twice, and the frame before the next is
    // empty too, as the screen now is.
    terminal.swap_buffers();
    terminal.swap_buffers();
    Ok(())
}

/// Suspends the program as any full-screen program does: the terminal is given back, the
/// process stops, and when it is continued (the shell's `fg`, SIGCONT) the terminal is taken
/// again.
pub fn suspend(terminal: &mut ratatui::DefaultTerminal) -> std::io::Result<()> {
    give_back();
    // SIGSTOP rather than SIGTSTP, whose handler is the one calling this.
    rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::STOP)?;
    take_back(terminal)
}
