//! `patientgen serve`.

use super::db::runtime;
use crate::cli::ServeArgs;
use crate::error::{CliError, CliResult};
use crate::logging;
use patientgen_server::settings;

pub fn run(args: ServeArgs) -> CliResult {
    let loaded = settings::load(&args.settings.input()).map_err(|e| CliError::input(e.to_string()))?;
    // Declared first, dropped last: after the runtime, the last spans are sent.
    let _trace_export =
        logging::init(loaded.settings.log_format).map_err(|e| CliError::input(e.to_string()))?;
    let config = loaded.validate().map_err(|e| CliError::input(e.to_string()))?;
    tracing::info!(
        profile = %loaded.profile,
        file = %loaded.file.as_ref().map_or("none".into(), |f| f.display().to_string()),
        "configuration read (`patientgen config show` prints it)"
    );
    runtime()?.block_on(patientgen_server::serve(config)).map_err(|e| CliError::Runtime(e.into()))
}
