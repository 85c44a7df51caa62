//! CLI errors and their exit codes: 2 for bad input (arguments, files,
//! scenarios), 1 for failures while running.

use std::fmt;

/// An error with the exit code it maps to.
#[derive(Debug)]
pub enum CliError {
    /// Bad arguments, scenario or input file (exit code 2).
    Input(String),
    /// Failure while running (exit code 1).
    Runtime(anyhow::Error),
}

impl CliError {
    /// Process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) => 2,
            CliError::Runtime(_) => 1,
        }
    }

    /// Whether this is stdout (or another pipe) closed by its reader.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            CliError::Input(_) => false,
            CliError::Runtime(e) => e.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }),
        }
    }

    /// A bad-input error.
    pub fn input(message: impl Into<String>) -> Self {
        CliError::Input(message.into())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Input(m) => f.write_str(m),
            // The error and its causes, each said once: wrappers often repeat
            // their source's text (a database error read four times over).
            CliError::Runtime(e) => {
                let mut text = e.to_string();
                for cause in e.chain().skip(1) {
                    let cause = cause.to_string();
                    if !text.contains(&cause) {
                        text.push_str(": ");
                        text.push_str(&cause);
                    }
                }
                f.write_str(&text)
            }
        }
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        CliError::Runtime(e)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Runtime(e.into())
    }
}

impl From<patientgen_output::OutputError> for CliError {
    fn from(e: patientgen_output::OutputError) -> Self {
        CliError::Runtime(e.into())
    }
}

/// Result of a command.
pub type CliResult<T = ()> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_is_said_once() {
        let database = || std::io::Error::other("column \"owner_key_id\" does not exist");
        let repeated = anyhow::Error::new(database())
            .context("migration 1 failed: column \"owner_key_id\" does not exist");
        assert_eq!(
            CliError::Runtime(repeated).to_string(),
            "migration 1 failed: column \"owner_key_id\" does not exist"
        );
        let new = anyhow::Error::new(database()).context("cannot open the database");
        assert_eq!(
            CliError::Runtime(new).to_string(),
            "cannot open the database: column \"owner_key_id\" does not exist"
        );
    }
}
