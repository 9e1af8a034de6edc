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
            common.apply_config(&config.config, trailscope::model::time::now_ms());
            let req = PrintRequest {
                live: common.live_config(),
                cache: common.cache_config(),
                paths: common.paths,
                filter: common.filter,
                format,
                since: common.since,
                until: common.until,
            };
            // Standard error is not locked for the run: other threads (and panics) write to it too.
            let code = print::run(&req, &mut std::io::stdout().lock(), &mut std::io::stderr());
            std::process::exit(code);
        }
        Some(Command::Cache { action, cache_dir }) => {
            let code = trailscope::store::command::run(
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
            let config = trailscope::config::load(cli.common.config.as_deref());
            cli.common.apply_config(&config.config, trailscope::model::time::now_ms());
            run_app(cli.common, config)
        }
    }
}

fn run_app(common: trailscope::cli::Common, config: trailscope::config::Loaded) {
    match trailscope::app::run(common, config) {
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
