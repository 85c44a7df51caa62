//! patientgen-output: every output format, written as the patients are
//! generated (streaming, bounded memory), plus ZIP packaging with a manifest
//! and optional gzip and encryption layers.
//!
//! The pieces: an [`encode::Encoder`] turns one patient into bytes for one
//! format; [`pipeline::generate`] builds patients (in parallel, in id order) and
//! feeds every encoder; [`sink`] layers gzip/encryption/checksums over files;
//! [`package`] writes the ZIP and its `manifest.json`.

pub mod encode;
pub mod format;
pub mod metadata;
pub mod package;
pub mod pipeline;
pub mod read;
pub mod sink;

pub use format::{Format, JsonEnvelope};
pub use metadata::Metadata;

/// Errors while writing output.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A record could not be serialised.
    #[error("could not serialise a record: {0}")]
    Serialize(#[from] serde_json::Error),
    /// A record could not be written as XML.
    #[error("could not serialise a record: {0}")]
    Xml(#[from] quick_xml::SeError),
    /// ZIP packaging failed.
    #[error("ZIP error: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// Encryption failed.
    #[error(transparent)]
    Crypto(#[from] patientgen_crypto::CryptoError),
    /// Generation was cancelled.
    #[error("generation was cancelled")]
    Cancelled,
    /// A worker thread could not be started.
    #[error("could not start worker threads: {0}")]
    Threads(String),
}
