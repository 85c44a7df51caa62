//! Reading passwords from the environment or a terminal prompt.

use crate::error::{CliError, CliResult};
use secrecy::SecretString;
use std::io::IsTerminal;

/// Minimum password length (upstream's rule).
pub const MIN_LENGTH: usize = 8;

/// Reads a password from `env_var`, or prompts on the terminal (twice when
/// `confirm`). Kept in a [`SecretString`] (not shown by `Debug`, zeroed when dropped).
pub fn read(env_var: Option<&str>, confirm: bool) -> CliResult<SecretString> {
    let password = match env_var {
        Some(var) => std::env::var(var)
            .map_err(|_| CliError::input(format!("environment variable {var} is not set")))?,
        None => {
            if !std::io::stdin().is_terminal() {
                return Err(CliError::input("no password: use --password-env VAR (stdin is not a terminal)"));
            }
            let first = rpassword::prompt_password("Password: ").map_err(|e| CliError::Runtime(e.into()))?;
            if confirm {
                let second = rpassword::prompt_password("Repeat password: ")
                    .map_err(|e| CliError::Runtime(e.into()))?;
                if first != second {
                    return Err(CliError::input("the passwords do not match"));
                }
            }
            first
        }
    };
    if password.chars().count() < MIN_LENGTH {
        return Err(CliError::input(format!("the password must have at least {MIN_LENGTH} characters")));
    }
    Ok(password.into())
}
