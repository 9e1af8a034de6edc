use clap::Parser;
use trailscope::cli::{Cli, Command};
use trailscope::print::{self, PrintRequest};

fn main() {
    let cli = Cli::parse();
    trailscope::source::install_panic_filter();
    match cli.command {
        Some(Command::Print { common, format }) => {
            let req = PrintRequest {
                live: common.live_config(),
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
        None => match trailscope::app::run(cli.common) {
            Ok(code) => std::process::exit(code),
            Err(e) => {
                eprintln!("trailscope: {e:#}");
                std::process::exit(1);
            }
        },
    }
}
