//! Output files: never replaced without `--force`, written under a temporary
//! name and renamed into place only when complete.
//!
//! A temporary file is removed when the run fails, when it is interrupted
//! (Ctrl-C, SIGINT, SIGTERM, SIGHUP; Ctrl-C or Ctrl-Break on Windows: see
//! [`install_interrupt_handler`]), and, when the process was killed outright
//! (SIGKILL, a power cut), by the next run writing into the same directory: a
//! running writer holds an exclusive lock on its temporary file, so a
//! temporary file nobody holds a lock on was left by a dead run.

use crate::error::{CliError, CliResult};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Exit code of an interrupted run (128 + SIGINT, as shells report Ctrl-C).
pub const INTERRUPTED_EXIT_CODE: i32 = 130;

/// Temporary files and directories of this process, removed on an interrupt.
static IN_PROGRESS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn in_progress() -> MutexGuard<'static, Vec<PathBuf>> {
    IN_PROGRESS.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unregister(path: &Path) {
    in_progress().retain(|p| p != path);
}

/// Removes a file or directory tree; a missing one is not an error.
fn remove_any(path: &Path) {
    if path.is_dir() {
        let _ = std::fs::remove_dir_all(path);
    } else {
        let _ = std::fs::remove_file(path);
    }
}

/// Installs the handler that removes this run's temporary files and exits
/// with [`INTERRUPTED_EXIT_CODE`] on Ctrl-C / SIGINT / SIGTERM / SIGHUP
/// (Ctrl-C and Ctrl-Break on Windows). A failure to install is reported and
/// otherwise ignored.
pub fn install_interrupt_handler() {
    let result = ctrlc::set_handler(|| {
        // The registry stays locked until the process is gone: nothing new is
        // created and nothing is renamed into place meanwhile.
        let paths = in_progress();
        let mut removed = Vec::new();
        for p in paths.iter() {
            let is_file = !p.is_dir();
            remove_any(p);
            if is_file {
                removed.push(p.display().to_string());
            }
        }
        if removed.is_empty() {
            eprintln!("\ninterrupted");
        } else {
            eprintln!("\ninterrupted: removed the unfinished {}", removed.join(", "));
        }
        std::process::exit(INTERRUPTED_EXIT_CODE);
    });
    if let Err(e) = result {
        eprintln!("warning: cannot handle interrupts ({e}); an interrupted run may leave a .partial file");
    }
}

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

/// The temporary name of `target` while this process writes it.
fn temp_name(target: &Path) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

/// The name of the ZIP's staging directory of this process.
pub fn staging_name() -> String {
    format!(".patientgen-staging-{}", std::process::id())
}

/// Whether `name` is a temporary file or staging directory name of this
/// program with the id of another process: `.<file>.partial-<pid>` or
/// `.patientgen-staging-<pid>`.
fn foreign_temp_name(name: &str) -> bool {
    let pid = if let Some(rest) = name.strip_prefix(".patientgen-staging-") {
        rest
    } else if name.starts_with('.') {
        match name.rsplit_once(".partial-") {
            Some((_, pid)) => pid,
            None => return false,
        }
    } else {
        return false;
    };
    !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) && pid != std::process::id().to_string()
}

/// The file a run holds locked while `path` is in use: the file itself, or
/// `<dir>/.lock` for a staging directory.
fn lock_file_of(path: &Path) -> PathBuf {
    if path.is_dir() { path.join(".lock") } else { path.to_path_buf() }
}

/// Whether no running process holds the lock of `path`; `None` when that
/// cannot be told (no lock file, or no locks on this file system).
fn abandoned(path: &Path) -> Option<bool> {
    let file = File::options().read(true).write(true).open(lock_file_of(path)).ok()?;
    match file.try_lock() {
        Ok(()) => Some(true),
        Err(std::fs::TryLockError::WouldBlock) => Some(false),
        Err(std::fs::TryLockError::Error(_)) => None,
    }
}

/// Looks in `dir` for temporary files and staging directories that an
/// earlier run killed outright left behind: removes those no running process
/// holds and names those it cannot judge. Returns the messages to show.
pub fn clean_stale(dir: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return notes };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !foreign_temp_name(&name) {
            continue;
        }
        let path = entry.path();
        match abandoned(&path) {
            Some(true) => {
                remove_any(&path);
                if path.exists() {
                    notes.push(format!(
                        "warning: {} was left by an interrupted run and cannot be removed",
                        path.display()
                    ));
                } else {
                    notes.push(format!("removed {}, left by an interrupted run", path.display()));
                }
            }
            Some(false) => {}
            None => notes.push(format!(
                "warning: {} looks left by an interrupted run: remove it unless another patientgen is writing there",
                path.display()
            )),
        }
    }
    notes.sort();
    notes
}

/// A file being written under a temporary name, renamed into place on success
/// and removed on failure or interrupt.
pub struct PendingFile {
    temp: PathBuf,
    target: PathBuf,
    done: bool,
}

impl PendingFile {
    /// Creates (and locks) the temporary file for `target`.
    pub fn create(target: &Path) -> CliResult<(Self, File)> {
        let temp = temp_name(target);
        let file = {
            // Registered before it exists: an interrupt either finds it or
            // comes before it is created (the handler exits holding the lock).
            let mut registry = in_progress();
            registry.push(temp.clone());
            match File::create(&temp) {
                Ok(f) => f,
                Err(e) => {
                    registry.retain(|p| p != &temp);
                    return Err(CliError::input(format!("cannot create {}: {e}", target.display())));
                }
            }
        };
        // Held until the file is closed: tells another run the file is in use.
        // Where the file system has no locks, stale files are only named.
        let _ = file.try_lock();
        Ok((Self { temp, target: target.to_path_buf(), done: false }, file))
    }

    /// Moves the finished file into place.
    pub fn commit(mut self) -> CliResult {
        {
            // Not while an interrupt is removing the files.
            let _registry = in_progress();
            std::fs::rename(&self.temp, &self.target)?;
            self.done = true;
        }
        unregister(&self.temp);
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.temp);
            unregister(&self.temp);
        }
    }
}

/// A scratch directory (the ZIP's staging), removed when dropped or on an
/// interrupt, and locked through `<dir>/.lock` while in use.
pub struct ScratchDir {
    path: PathBuf,
    lock: Option<File>,
}

impl ScratchDir {
    /// Creates `path` (and its lock file).
    pub fn create(path: PathBuf) -> CliResult<Self> {
        in_progress().push(path.clone());
        if let Err(e) = std::fs::create_dir_all(&path) {
            unregister(&path);
            return Err(CliError::input(format!("cannot create {}: {e}", path.display())));
        }
        let lock = File::create(path.join(".lock")).ok();
        if let Some(f) = &lock {
            let _ = f.try_lock();
        }
        Ok(Self { path, lock })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        // Close the lock file first: Windows keeps open files from deletion.
        self.lock = None;
        let _ = std::fs::remove_dir_all(&self.path);
        unregister(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_only_other_runs_temporary_names() {
        let own = std::process::id().to_string();
        assert!(foreign_temp_name(".patients.json.partial-1"));
        assert!(foreign_temp_name(".patients.fhir.ndjson.partial-424242"));
        assert!(foreign_temp_name(".patientgen-staging-77"));
        assert!(!foreign_temp_name(&format!(".patients.json.partial-{own}")));
        assert!(!foreign_temp_name(&format!(".patientgen-staging-{own}")));
        assert!(!foreign_temp_name("patients.json.partial-1"));
        assert!(!foreign_temp_name(".patients.json.partial-"));
        assert!(!foreign_temp_name(".patients.json.partial-1x"));
        assert!(!foreign_temp_name("patients.json"));
    }

    #[test]
    fn a_locked_temporary_file_is_kept_and_an_unlocked_one_removed() {
        let dir = tempfile::TempDir::new().expect("tempdir");
        let held = dir.path().join(".a.json.partial-1");
        let left = dir.path().join(".b.json.partial-2");
        std::fs::write(&left, "half").expect("write");
        let holder = File::create(&held).expect("create");
        holder.try_lock().expect("lock");
        // Locks belong to the open file, not the process: a second opening
        // (here, as in another run) cannot take it.
        let notes = clean_stale(dir.path());
        assert!(held.exists(), "{notes:?}");
        assert!(!left.exists(), "{notes:?}");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains(".b.json.partial-2"), "{notes:?}");
        drop(holder);
        let notes = clean_stale(dir.path());
        assert!(!held.exists(), "{notes:?}");
        assert!(notes.iter().any(|n| n.contains(".a.json.partial-1")), "{notes:?}");
    }
}
