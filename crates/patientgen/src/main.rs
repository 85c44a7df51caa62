//! `patientgen`: synthetic military casualties for NATO medical exercises.

mod cli;
mod commands;
mod error;
mod files;
mod logging;
mod output;
mod password;
mod scenario_input;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`| head`): end quietly, as Unix tools do.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
