//! `patientgen`: synthetic military casualties for NATO medical exercises.

mod cli;
mod commands;
mod error;
mod password;
mod scenario_input;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
