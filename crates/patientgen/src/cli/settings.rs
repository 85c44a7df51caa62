//! The service's settings as command-line flags, made from the one definition
//! (`patientgen_server::settings::SETTINGS`): `serve` and `config show` take
//! the same flags. Each flag's help names its environment variable and default;
//! the values are read by `patientgen_server::settings::load`, not by clap, so
//! that the environment and the configuration file come between the defaults
//! and the flags.

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use patientgen_server::settings::{self, Flag, Input, Kind, SETTINGS, Setting};
use std::path::PathBuf;

/// `--profile`, `--config` and every setting's flag, as given.
#[derive(Debug, Clone, Default)]
pub struct SettingArgs {
    /// `--profile`.
    pub profile: Option<String>,
    /// `--config`.
    pub config: Option<PathBuf>,
    /// (setting key, value as typed), for the flags given.
    pub flags: Vec<(&'static str, String)>,
}

impl SettingArgs {
    /// What `load` reads: these flags and this process's environment.
    pub fn input(&self) -> Input {
        Input {
            profile: self.profile.clone(),
            config_file: self.config.clone(),
            flags: self.flags.clone(),
            env: Default::default(),
        }
        .with_process_env()
    }
}

fn help(s: &Setting, default: Option<String>) -> String {
    let default = match (s.auto, default) {
        (Some(auto), _) => format!(" [default: {auto}]"),
        (None, Some(d)) => format!(" [default: {d}]"),
        (None, None) => String::new(),
    };
    format!("{} [env: {}]{default}", s.help, s.env)
}

fn arg(s: &'static Setting, default: Option<String>) -> Arg {
    let arg = Arg::new(s.key).long(s.flag.long()).help(help(s, default));
    let arg = match s.flag {
        Flag::Value(_, value_name) => arg.value_name(value_name).action(ArgAction::Set),
        Flag::Switch(_) => arg
            .value_name("BOOL")
            .num_args(0..=1)
            .require_equals(true)
            .default_missing_value("true")
            .action(ArgAction::Set),
        Flag::Negated(_) => arg.action(ArgAction::SetTrue),
    };
    match s.kind {
        Kind::Choice(words) if !matches!(s.flag, Flag::Negated(_)) => {
            arg.value_parser(PossibleValuesParser::new(words.iter().copied()))
        }
        _ => arg,
    }
}

impl Args for SettingArgs {
    fn augment_args(cmd: Command) -> Command {
        let defaults = settings::default_texts();
        let mut cmd = cmd.arg(arg(&settings::PROFILE, Some("development".into()))).arg(
            arg(&settings::CONFIG_FILE, Some(settings::DEFAULT_FILE.into()))
                .value_parser(clap::value_parser!(PathBuf)),
        );
        for s in SETTINGS {
            let default = match s.flag {
                Flag::Negated(_) => None,
                _ => defaults.get(s.key).cloned(),
            };
            cmd = cmd.arg(arg(s, default));
        }
        cmd
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for SettingArgs {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut flags = Vec::new();
        for s in SETTINGS {
            match s.flag {
                Flag::Negated(_) => {
                    if m.get_flag(s.key) {
                        flags.push((s.key, "false".to_string()));
                    }
                }
                _ => {
                    if let Some(v) = m.get_one::<String>(s.key) {
                        flags.push((s.key, v.clone()));
                    }
                }
            }
        }
        Ok(SettingArgs {
            profile: m.get_one::<String>(settings::PROFILE.key).cloned(),
            config: m.get_one::<PathBuf>(settings::CONFIG_FILE.key).cloned(),
            flags,
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}
