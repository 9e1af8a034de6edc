use clap::Parser;
use trailscope::cli::{Cli, Command};
use trailscope::print::{self, PrintRequest};

fn main() {
    let mut cli = Cli::parse();
    trailscope::source::install_panic_filter();
    match cli.command {
        Some(Command::Print { mut common, format }) => {
            let config = trailscope::config::load(common.config.as_deref());
            for p in &config.problems {
                eprintln!("trailscope: {}", trailscope::sanitize::sanitize(p));
            }
            // print draws no colours, but a theme the TUI would not know is said here too.
            if let Err(e) = trailscope::tui::theme::choose_from_env(None) {
                eprintln!("trailscope: warning: {}", trailscope::sanitize::sanitize(&e.to_string()));
            }
            common.apply_config(&config.config, trailscope::model::time::now_ms());
            common.apply_limits();
            let tty = std::io::IsTerminal::is_terminal(&std::io::stdout());
            let req = PrintRequest {
                rules: common.rules.clone(),
                live: common.live_config(),
                cache: common.cache_config(),
                s3: common.s3_config(),
                logs: common.logs_config(),
                athena: common.athena_config(),
                paths: common.paths,
                filter: common.filter,
                format,
                since: common.since,
                until: common.until,
                table_width: print::table_width(
                    tty,
                    std::env::var("COLUMNS").ok().as_deref(),
                    if tty { crossterm::terminal::size().ok().map(|(w, _)| w) } else { None },
                ),
                give_back_memory: give_back_memory(),
            };
            // Standard error is not locked for the run: other threads (and panics) write to it too.
            let code = print::run(&req, &mut std::io::stdout().lock(), &mut std::io::stderr());
            std::process::exit(code);
        }
        Some(Command::Athena { action }) => {
            use trailscope::cli::AthenaAction;
            let (out, err) = (&mut std::io::stdout().lock(), &mut std::io::stderr());
            let code = match action {
                AthenaAction::Ddl(a) => {
                    let connect = trailscope::source::s3::fetch::Connect {
                        profile: a.profile.clone(),
                        region: a.region.clone(),
                        endpoint_url: a.endpoint_url.clone(),
                        timeout: None,
                    };
                    let req = trailscope::print::DdlRequest {
                        url: a.url,
                        trail: a.trail,
                        accounts: a.accounts,
                        regions: a.regions,
                        athena: trailscope::source::athena::AthenaConfig {
                            connect,
                            table: Some(a.table.clone()),
                            database: a.database.clone(),
                            workgroup: a.workgroup,
                            output: a.output,
                            ..Default::default()
                        },
                        table: a.table,
                        database: a.database,
                        first_day: a.first_day,
                        apply: a.apply,
                    };
                    trailscope::print::athena_ddl(&req, out, err)
                }
                AthenaAction::Sql { table, database, org, paths, filter, since, until } => {
                    let o = trailscope::athena::sql::SqlOptions { table, database, org, paths };
                    let now = trailscope::model::time::now_ms();
                    trailscope::print::athena_sql(&filter, since, until, &o, now, out, err)
                }
            };
            std::process::exit(code);
        }
        Some(Command::Detect { mut common, format }) => {
            let config = trailscope::config::load(common.config.as_deref());
            for p in &config.problems {
                eprintln!("trailscope: {}", trailscope::sanitize::sanitize(p));
            }
            common.apply_config(&config.config, trailscope::model::time::now_ms());
            common.apply_limits();
            let req = trailscope::print::detect::DetectRequest {
                rules: common.rules.clone(),
                format,
                inputs: PrintRequest {
                    live: common.live_config(),
                    cache: common.cache_config(),
                    s3: common.s3_config(),
                    logs: common.logs_config(),
                    athena: common.athena_config(),
                    paths: common.paths,
                    filter: common.filter,
                    format: print::Format::Jsonl,
                    since: common.since,
                    until: common.until,
                    table_width: None,
                    rules: Vec::new(),
                    give_back_memory: give_back_memory(),
                },
            };
            let code = print::detect::run(&req, &mut std::io::stdout().lock(), &mut std::io::stderr());
            std::process::exit(code);
        }
        Some(Command::Verify(args)) => {
            let code = trailscope::verify::run(&args.request(), &mut std::io::stdout().lock(), &mut std::io::stderr());
            std::process::exit(code);
        }
        Some(Command::Cache { action, cache_dir }) => {
            let code = trailscope::cli::cache_cmd::run(
                &action,
                cache_dir,
                &mut std::io::stdout().lock(),
                &mut std::io::stderr(),
            );
            std::process::exit(code);
        }
        Some(Command::Completions { shell }) => {
            let mut buf = Vec::new();
            trailscope::cli::write_completions(shell, &mut buf);
            write_stdout(&buf);
        }
        Some(Command::Man) => {
            let mut buf = Vec::new();
            // Writing into memory cannot fail.
            let _ = trailscope::cli::write_man(&mut buf);
            write_stdout(&buf);
        }
        None => {
            fix_mmap_threshold();
            let config = trailscope::config::load(cli.common.config.as_deref());
            cli.common.apply_config(&config.config, trailscope::model::time::now_ms());
            cli.common.apply_limits();
            run_app(cli.common, cli.no_mouse, config)
        }
    }
}

fn run_app(common: trailscope::cli::Common, no_mouse: bool, config: trailscope::config::Loaded) {
    give_terminal_back_on_abort();
    let opts =
        trailscope::tui::app::Options { give_back_memory: give_back_memory(), ..common.tui_options(&config, no_mouse) };
    match trailscope::tui::app::run(opts) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("trailscope: {e:#}");
            std::process::exit(1);
        }
    }
}

/// Writes to standard output; a reader that went away (`| head`) is not an error.
fn write_stdout(bytes: &[u8]) {
    use std::io::Write;
    if let Err(e) = std::io::stdout().write_all(bytes) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("trailscope: writing to standard output failed: {e}");
            std::process::exit(1);
        }
    }
}

/// glibc's malloc raises its mmap threshold each time a large block is freed (up to 32 MB).
/// Past that, the event batches the loader hands to the UI thread come out of the loader
/// thread's arena and are freed into it while the store keeps growing: the arenas fragment,
/// and a million loaded events kept 40-50 MB more resident than they use. With the threshold
/// fixed, blocks above it are mappings of their own, given back to the system when freed.
/// Only for the TUI: `print` reads every file back, and a fresh mapping for each file's
/// content (faulted in page by page) made writing a million events 25% slower.
fn fix_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 10);
    }
}

/// glibc's malloc keeps freed memory in its arenas: `print` frees its events before reading
/// records back, and without a trim the decompressed files (allocated on another thread, so
/// in another arena) come on top of the freed events instead of in their place.
fn give_back_memory() -> Option<fn()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn trim() {
        // SAFETY: malloc_trim only returns free pages of malloc's arenas to the system.
        unsafe {
            libc::malloc_trim(0);
        }
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    return Some(trim);
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

/// An abort (an allocation that fails, a panic while panicking) runs no panic hook: on SIGABRT
/// the terminal is given back, then the handler is the default again (SA_RESETHAND) and
/// `abort` goes on to end the process.
fn give_terminal_back_on_abort() {
    extern "C" fn on_abort(_: libc::c_int) {
        trailscope::tui::terminal::give_back_on_abort();
    }
    // SAFETY: the handler only makes async-signal-safe system calls (write, tcsetattr) and
    // reads statics set before the terminal was taken.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = on_abort as extern "C" fn(libc::c_int) as libc::sighandler_t;
        act.sa_flags = libc::SA_RESETHAND;
        libc::sigemptyset(&mut act.sa_mask);
        libc::sigaction(libc::SIGABRT, &act, std::ptr::null_mut());
    }
}
