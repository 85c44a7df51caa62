//! Where bytes go: a checksum-and-count layer over any writer, with optional
//! gzip and encryption layers on top.

use patientgen_crypto::Encryptor;
use sha2::{Digest, Sha256};
use std::io::{self, Write};

/// Counts (and optionally hashes) everything written through it.
pub struct HashingWriter<W: Write> {
    inner: W,
    hasher: Option<Sha256>,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps a writer, counting and computing SHA-256.
    pub fn new(inner: W) -> Self {
        Self { inner, hasher: Some(Sha256::new()), bytes: 0 }
    }

    /// Wraps a writer, counting only (hashing costs a fifth of NDJSON output time).
    pub fn counting(inner: W) -> Self {
        Self { inner, hasher: None, bytes: 0 }
    }

    /// Flushes and returns (inner writer, byte count, SHA-256 hex or empty).
    pub fn finish(mut self) -> io::Result<(W, u64, String)> {
        self.inner.flush()?;
        let sha = self.hasher.map(|h| hex::encode(h.finalize())).unwrap_or_default();
        Ok((self.inner, self.bytes, sha))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Optional layers over a writer.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    /// Gzip the content.
    pub gzip: bool,
    /// Encrypt with this password (applied after gzip).
    pub password: Option<String>,
    /// PBKDF2 iterations for encryption.
    pub iterations: u32,
    /// A key derived earlier; used instead of `password` when set.
    pub derived_key: Option<patientgen_crypto::DerivedKey>,
}

impl Layers {
    /// Whether the output is encrypted.
    pub fn encrypted(&self) -> bool {
        self.password.is_some() || self.derived_key.is_some()
    }

    /// An encryptor over `inner`, or `inner` back when there is nothing to encrypt with.
    #[allow(clippy::type_complexity)]
    fn encryptor<W: Write>(
        &self,
        inner: W,
    ) -> Result<Result<Encryptor<W>, W>, patientgen_crypto::CryptoError> {
        match (&self.derived_key, &self.password) {
            (Some(key), _) => Encryptor::with_derived_key(inner, key).map(Ok),
            (None, Some(pw)) => Encryptor::new(inner, pw.as_bytes(), self.iterations).map(Ok),
            (None, None) => Ok(Err(inner)),
        }
    }
}

/// A writer with its layers; [`Layered::finish`] closes them in order.
pub enum Layered<W: Write> {
    /// No layers.
    Plain(W),
    /// Gzip.
    Gzip(Box<flate2::write::GzEncoder<W>>),
    /// Encryption.
    Encrypted(Box<Encryptor<W>>),
    /// Gzip, then encryption.
    GzipEncrypted(Box<flate2::write::GzEncoder<Encryptor<W>>>),
}

impl<W: Write> Layered<W> {
    /// Builds the layers over `inner`.
    pub fn new(inner: W, layers: &Layers) -> Result<Self, patientgen_crypto::CryptoError> {
        use flate2::{Compression, write::GzEncoder};
        Ok(match (layers.encryptor(inner)?, layers.gzip) {
            (Err(plain), false) => Layered::Plain(plain),
            (Err(plain), true) => Layered::Gzip(Box::new(GzEncoder::new(plain, Compression::default()))),
            (Ok(enc), false) => Layered::Encrypted(Box::new(enc)),
            (Ok(enc), true) => Layered::GzipEncrypted(Box::new(GzEncoder::new(enc, Compression::default()))),
        })
    }

    /// Closes every layer and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Layered::Plain(w) => Ok(w),
            Layered::Gzip(g) => (*g).finish(),
            Layered::Encrypted(e) => (*e).finish(),
            Layered::GzipEncrypted(g) => (*g).finish()?.finish(),
        }
    }
}

impl<W: Write> Write for Layered<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Layered::Plain(w) => w.write(buf),
            Layered::Gzip(w) => w.write(buf),
            Layered::Encrypted(w) => w.write(buf),
            Layered::GzipEncrypted(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Layered::Plain(w) => w.flush(),
            Layered::Gzip(w) => w.flush(),
            Layered::Encrypted(w) => w.flush(),
            Layered::GzipEncrypted(w) => w.flush(),
        }
    }
}

/// File name suffix for layers (`.gz`, `.enc`, `.gz.enc`).
pub fn layer_suffix(layers: &Layers) -> &'static str {
    match (layers.gzip, layers.encrypted()) {
        (false, false) => "",
        (true, false) => ".gz",
        (false, true) => ".enc",
        (true, true) => ".gz.enc",
    }
}
