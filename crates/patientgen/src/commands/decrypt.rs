//! `patientgen decrypt`.

use crate::cli::DecryptArgs;
use crate::error::{CliError, CliResult};
use crate::files::{PendingFile, refuse_overwrite};
use crate::password;
use patientgen_crypto::{CryptoError, decrypt_stream};
use secrecy::ExposeSecret;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;

pub fn run(args: DecryptArgs) -> CliResult {
    let input = File::open(&args.input)
        .map_err(|e| CliError::input(format!("cannot open {}: {e}", args.input.display())))?;
    let output: Option<PathBuf> = match &args.output {
        Some(p) if p.as_os_str() == "-" => None,
        Some(p) => Some(p.clone()),
        None => {
            let name = args.input.to_string_lossy();
            match name.strip_suffix(".enc") {
                Some(stem) => Some(PathBuf::from(stem)),
                None => {
                    return Err(CliError::input(format!(
                        "{} does not end in .enc: say where to write with --output",
                        args.input.display()
                    )));
                }
            }
        }
    };
    if let Some(p) = &output {
        refuse_overwrite(p, args.force)?;
    }
    let password = password::read(args.password_env.as_deref(), false)?;
    let map_err = |e: CryptoError| match e {
        CryptoError::Io(io) => CliError::Runtime(io.into()),
        other => CliError::input(format!("{}: {other}", args.input.display())),
    };
    match output {
        None => {
            let stdout = std::io::stdout().lock();
            decrypt_stream(
                BufReader::new(input),
                BufWriter::new(stdout),
                password.expose_secret().as_bytes(),
            )
            .map_err(map_err)?;
        }
        Some(path) => {
            // Written under a temporary name, renamed only once everything authenticated.
            let (pending, file) = PendingFile::create(&path)?;
            let mut writer = BufWriter::new(file);
            let n = decrypt_stream(BufReader::new(input), &mut writer, password.expose_secret().as_bytes())
                .and_then(|n| {
                    writer.flush()?;
                    Ok(n)
                })
                .map_err(map_err)?;
            drop(writer);
            pending.commit()?;
            eprintln!("Decrypted {n} bytes to {}", path.display());
        }
    }
    Ok(())
}
