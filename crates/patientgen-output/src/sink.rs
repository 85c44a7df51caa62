//! Where bytes go: counting (and, for manifests, hashing) writers over any
//! writer, with optional gzip and encryption layers on top.

use patientgen_crypto::Encryptor;
use sha2::{Digest, Sha256};
use std::io::{self, Write};

/// Counts the bytes written through it (the size of a file as written, after
/// any layers above it).
pub struct CountingWriter<W: Write> {
    inner: W,
    bytes: u64,
}

impl<W: Write> CountingWriter<W> {
    /// Starts counting at zero.
    pub fn new(inner: W) -> Self {
        Self { inner, bytes: 0 }
    }

    /// Flushes and returns the inner writer and the bytes written.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        self.inner.flush()?;
        Ok((self.inner, self.bytes))
    }
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Counts and computes the SHA-256 of the bytes written through it, for
/// manifests and job file records. Hashing costs about a fifth of NDJSON output
/// time, so plain output files use a [`CountingWriter`] instead.
pub struct HashingWriter<W: Write> {
    inner: CountingWriter<W>,
    hasher: Sha256,
}

impl<W: Write> HashingWriter<W> {
    /// Starts counting and hashing.
    pub fn new(inner: W) -> Self {
        Self { inner: CountingWriter::new(inner), hasher: Sha256::new() }
    }

    /// Flushes and returns the inner writer, the bytes written and their
    /// SHA-256 (lower-case hex).
    pub fn finish(self) -> io::Result<(W, u64, String)> {
        let (inner, bytes) = self.inner.finish()?;
        Ok((inner, bytes, hex::encode(self.hasher.finalize())))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// How output is encrypted.
#[derive(Debug, Clone)]
pub enum Encryption {
    /// A key derived now from a password (PBKDF2-HMAC-SHA256 with this many
    /// iterations and a fresh salt per file): the CLI's `--encrypt`.
    Password {
        /// The password (the CLI reads it from a prompt or an environment variable).
        password: String,
        /// PBKDF2 iterations.
        iterations: u32,
    },
    /// A key derived earlier (a job derives it once, when it is created, so the
    /// password is never stored).
    Key(patientgen_crypto::DerivedKey),
}

impl Encryption {
    fn encryptor<W: Write>(&self, inner: W) -> Result<Encryptor<W>, patientgen_crypto::CryptoError> {
        match self {
            Encryption::Password { password, iterations } => {
                Encryptor::new(inner, password.as_bytes(), *iterations)
            }
            Encryption::Key(key) => Encryptor::with_derived_key(inner, key),
        }
    }
}

/// Optional layers over a writer: gzip first, then encryption.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    /// Gzip the content.
    pub gzip: bool,
    /// Encrypt (after gzip).
    pub encryption: Option<Encryption>,
}

impl Layers {
    /// Whether the output is encrypted.
    pub fn encrypted(&self) -> bool {
        self.encryption.is_some()
    }

    /// The file name suffix of these layers.
    pub fn suffix(&self) -> &'static str {
        layer_suffix(self.gzip, self.encrypted())
    }
}

/// A writer with its layers; [`Layered::finish`] closes them in order.
pub enum Layered<W: Write> {
    /// No layers.
    Plain(W),
    /// Gzip only.
    Gzip(Box<flate2::write::GzEncoder<W>>),
    /// Encryption only.
    Encrypted(Box<Encryptor<W>>),
    /// Gzip, then encryption.
    GzipEncrypted(Box<flate2::write::GzEncoder<Encryptor<W>>>),
}

impl<W: Write> Layered<W> {
    /// Builds the layers over `inner`.
    pub fn new(inner: W, layers: &Layers) -> Result<Self, patientgen_crypto::CryptoError> {
        use flate2::{Compression, write::GzEncoder};
        Ok(match (&layers.encryption, layers.gzip) {
            (None, false) => Layered::Plain(inner),
            (None, true) => Layered::Gzip(Box::new(GzEncoder::new(inner, Compression::default()))),
            (Some(e), false) => Layered::Encrypted(Box::new(e.encryptor(inner)?)),
            (Some(e), true) => {
                Layered::GzipEncrypted(Box::new(GzEncoder::new(e.encryptor(inner)?, Compression::default())))
            }
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

/// File name suffix of the layers: `.gz`, `.enc`, `.gz.enc` or nothing.
pub fn layer_suffix(gzip: bool, encrypted: bool) -> &'static str {
    match (gzip, encrypted) {
        (false, false) => "",
        (true, false) => ".gz",
        (false, true) => ".enc",
        (true, true) => ".gz.enc",
    }
}
