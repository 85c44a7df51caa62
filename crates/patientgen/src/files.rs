//! Output files: never replaced without `--force`, written under a temporary
//! name and renamed into place only when complete.

use crate::error::{CliError, CliResult};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Fails unless `path` is free or `force` allows replacing it.
pub fn refuse_overwrite(path: &Path, force: bool) -> CliResult {
    if path.exists() && !force {
        return Err(CliError::input(format!(
            "{} already exists (use --force to replace it)",
            path.display()
        )));
    }
    Ok(())
}

/// A file being written under a temporary name, renamed into place on success
/// and removed on failure.
pub struct PendingFile {
    temp: PathBuf,
    target: PathBuf,
    done: bool,
}

impl PendingFile {
    /// Creates the temporary file for `target`.
    pub fn create(target: &Path) -> CliResult<(Self, File)> {
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temp = target.with_file_name(format!(".{name}.partial-{}", std::process::id()));
        let file = File::create(&temp)
            .map_err(|e| CliError::input(format!("cannot create {}: {e}", target.display())))?;
        Ok((Self { temp, target: target.to_path_buf(), done: false }, file))
    }

    /// Moves the finished file into place.
    pub fn commit(mut self) -> CliResult {
        std::fs::rename(&self.temp, &self.target)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}
