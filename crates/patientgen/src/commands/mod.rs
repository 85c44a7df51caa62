//! One module per command.

mod config;
mod db;
mod decrypt;
mod generate;
mod keys;
mod presets;
mod scenario;
mod serve;
mod stats;

use crate::cli::{Cli, Command};
use crate::error::CliResult;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Generate(args) => generate::run(args),
        Command::Presets(args) => presets::run(args),
        Command::Scenario(cmd) => scenario::run(cmd),
        Command::Stats(args) => stats::run(args),
        Command::Decrypt(args) => decrypt::run(args),
        Command::Serve(args) => serve::run(*args),
        Command::Config(cmd) => config::run(cmd),
        Command::Migrate(args) => db::migrate(args),
        Command::Keys(cmd) => keys::run(cmd),
        Command::Import(cmd) => db::import(cmd),
    }
}
