use clap::Parser;
use trailscope::cli::{Cli, Command};
use trailscope::print::{self, PrintRequest};

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Print { common, format }) => {
            if common.paths.is_empty() {
                eprintln!("trailscope: print needs at least one PATH (a file, a directory, or - for standard input)");
                std::process::exit(print::exit::USAGE);
            }
            let req = PrintRequest {
                paths: common.paths,
                filter: common.filter,
                format,
                since: common.since,
                until: common.until,
            };
            let code = print::run(&req, &mut std::io::stdout().lock(), &mut std::io::stderr().lock());
            std::process::exit(code);
        }
        None => {
            let common = cli.common;
            if common.paths.is_empty() {
                eprintln!("trailscope: give one or more PATHs to browse (files, directories, or - for standard input); see --help");
                std::process::exit(print::exit::USAGE);
            }
            match trailscope::app::run(common) {
                Ok(code) => std::process::exit(code),
                Err(e) => {
                    eprintln!("trailscope: {e:#}");
                    std::process::exit(1);
                }
            }
        }
    }
}
