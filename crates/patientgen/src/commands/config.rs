//! `patientgen config show` and the hidden `config reference`.

use crate::cli::{ConfigCommand, ConfigShowArgs, ShowFormat};
use crate::error::{CliError, CliResult};
use crate::output::outln;
use patientgen_server::settings::{self, Entry, Loaded};
use serde_json::{Value, json};

pub fn run(cmd: ConfigCommand) -> CliResult {
    match cmd {
        ConfigCommand::Show(args) => show(args),
        ConfigCommand::Reference => {
            outln!("{}", settings::reference_markdown().trim_end());
            Ok(())
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn shown(e: &Entry) -> String {
    match (&e.value, e.auto) {
        (Value::Null, Some(auto)) => format!("(auto: {auto})"),
        (Value::Null, None) => "(not set)".into(),
        (v, _) => text(v),
    }
}

fn show(args: ConfigShowArgs) -> CliResult {
    let loaded: Loaded =
        settings::load(&args.settings.input()).map_err(|e| CliError::input(e.to_string()))?;
    let entries = loaded.entries();
    let problem = loaded.validate().err().map(|e| e.to_string());
    match args.format {
        ShowFormat::Table => {
            let width = entries.iter().map(|e| e.key.len()).max().unwrap_or(0);
            let values: Vec<String> = entries.iter().map(shown).collect();
            let vwidth = values.iter().map(|v| v.chars().count()).max().unwrap_or(0).min(48);
            outln!("{:<width$}  {:<vwidth$}  SOURCE", "SETTING", "VALUE");
            for (e, v) in entries.iter().zip(&values) {
                outln!("{:<width$}  {:<vwidth$}  {}", e.key, v, e.origin);
            }
        }
        ShowFormat::Json => {
            let doc = json!({
                "profile": loaded.profile.as_str(),
                "file": loaded.file.as_ref().map(|f| f.display().to_string()),
                "valid": problem.is_none(),
                "problem": problem,
                "settings": entries,
            });
            let text = serde_json::to_string_pretty(&doc).map_err(|e| CliError::Runtime(e.into()))?;
            outln!("{text}");
        }
        ShowFormat::Toml => {
            outln!("# patientgen configuration, profile {} (secrets masked)", loaded.profile);
            outln!("# Each value's source is on the line above it.");
            for e in entries
                .iter()
                .filter(|e| e.key != settings::PROFILE.key && e.key != settings::CONFIG_FILE.key)
            {
                outln!("\n# {}", e.origin);
                match &e.value {
                    Value::Null => outln!("# {} = {}", e.key, shown(e)),
                    v => outln!(
                        "{} = {}",
                        e.key,
                        serde_json::to_string(v).map_err(|e| CliError::Runtime(e.into()))?
                    ),
                }
            }
        }
    }
    match problem {
        Some(p) => Err(CliError::input(format!("this configuration would not start: {p}"))),
        None => Ok(()),
    }
}
