//! patientgen-crypto: password-based, streaming file encryption.
//!
//! # File format (version 1)
//!
//! ```text
//! offset size  field
//!      0    8  magic "PGENENC\0"
//!      8    1  format version = 1
//!      9    1  KDF id = 1 (PBKDF2-HMAC-SHA256)
//!     10    4  KDF iterations, big-endian u32 (>= 600,000 when written by patientgen)
//!     14    1  salt length = 16
//!     15   16  salt (random)
//!     31    1  cipher id = 1 (AES-256-GCM, STREAM construction)
//!     32    7  nonce prefix (random)
//!     39    4  segment size S in bytes, big-endian u32 (65,536)
//!     43    …  segments
//! ```
//!
//! The 256-bit key is PBKDF2-HMAC-SHA256(password, salt, iterations). The
//! plaintext is cut into segments of S bytes; the final segment holds the
//! remaining 1..=S bytes (0 only when the plaintext is empty). Segment `i` is sealed with AES-256-GCM under the 96-bit nonce
//! `prefix(7) ‖ i (u32 big-endian) ‖ last (1 byte: 1 for the final segment,
//! else 0)`, with the 43 header bytes as associated data, and stored as
//! ciphertext followed by its 16-byte tag. This is the STREAM construction
//! (Hoang, Reyhanitabar, Rogaway, Vizár 2015): reordering, truncation and
//! header tampering are all detected, and memory stays at one segment whatever
//! the file size.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::TryRng;
use std::io::{self, Read, Write};

/// Magic bytes at the start of every encrypted file.
pub const MAGIC: &[u8; 8] = b"PGENENC\0";
/// Current format version.
pub const VERSION: u8 = 1;
/// Header length in bytes.
pub const HEADER_LEN: usize = 43;
/// Default and minimum PBKDF2 iterations for files patientgen writes.
pub const DEFAULT_ITERATIONS: u32 = 600_000;
/// Most PBKDF2 iterations a file may ask for: more would let a crafted header
/// keep `decrypt` busy for minutes before the password is even checked.
pub const MAX_ITERATIONS: u32 = 16 * DEFAULT_ITERATIONS;
/// Plaintext bytes per segment.
pub const SEGMENT_SIZE: u32 = 65_536;
const TAG_LEN: usize = 16;
const KDF_PBKDF2_SHA256: u8 = 1;
const CIPHER_AES256GCM_STREAM: u8 = 1;

/// Errors from encryption and decryption.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The input is not a patientgen encrypted file.
    #[error("not a patientgen encrypted file (bad magic bytes)")]
    NotEncrypted,
    /// The file uses a version or algorithm this build does not know.
    #[error("unsupported encrypted file: {0}")]
    Unsupported(String),
    /// Wrong password, or the file was modified or truncated.
    #[error("decryption failed: wrong password, or the file is damaged or truncated")]
    Authentication,
    /// The operating system's random source failed.
    #[error("no secure random numbers available: {0}")]
    Random(String),
    /// An empty password was given.
    #[error("the password must not be empty")]
    EmptyPassword,
}

/// Parameters stored in the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// PBKDF2 salt, random per file.
    pub salt: [u8; 16],
    /// Random start of every segment's nonce (the rest counts segments).
    pub nonce_prefix: [u8; 7],
    /// Plaintext bytes per encrypted segment.
    pub segment_size: u32,
}

impl Header {
    /// Serialises the header.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[..8].copy_from_slice(MAGIC);
        h[8] = VERSION;
        h[9] = KDF_PBKDF2_SHA256;
        h[10..14].copy_from_slice(&self.iterations.to_be_bytes());
        h[14] = 16;
        h[15..31].copy_from_slice(&self.salt);
        h[31] = CIPHER_AES256GCM_STREAM;
        h[32..39].copy_from_slice(&self.nonce_prefix);
        h[39..43].copy_from_slice(&self.segment_size.to_be_bytes());
        h
    }

    /// Parses and checks a header.
    pub fn parse(h: &[u8; HEADER_LEN]) -> Result<Self, CryptoError> {
        if &h[..8] != MAGIC {
            return Err(CryptoError::NotEncrypted);
        }
        if h[8] != VERSION {
            return Err(CryptoError::Unsupported(format!("format version {}", h[8])));
        }
        if h[9] != KDF_PBKDF2_SHA256 {
            return Err(CryptoError::Unsupported(format!("key derivation {}", h[9])));
        }
        if h[14] != 16 {
            return Err(CryptoError::Unsupported(format!("salt length {}", h[14])));
        }
        if h[31] != CIPHER_AES256GCM_STREAM {
            return Err(CryptoError::Unsupported(format!("cipher {}", h[31])));
        }
        let iterations = u32::from_be_bytes([h[10], h[11], h[12], h[13]]);
        let segment_size = u32::from_be_bytes([h[39], h[40], h[41], h[42]]);
        if iterations == 0 || iterations > MAX_ITERATIONS {
            return Err(CryptoError::Unsupported(format!("{iterations} key derivation iterations")));
        }
        if segment_size == 0 || segment_size > 16 * 1024 * 1024 {
            return Err(CryptoError::Unsupported(format!("segment size {segment_size}")));
        }
        let mut salt = [0u8; 16];
        salt.copy_from_slice(&h[15..31]);
        let mut nonce_prefix = [0u8; 7];
        nonce_prefix.copy_from_slice(&h[32..39]);
        Ok(Self { iterations, salt, nonce_prefix, segment_size })
    }
}

/// PBKDF2-HMAC-SHA256 of a non-empty password: the 32-byte AES key.
fn pbkdf2_key(password: &[u8], salt: &[u8], iterations: u32) -> Result<[u8; 32], CryptoError> {
    if password.is_empty() {
        return Err(CryptoError::EmptyPassword);
    }
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut key);
    Ok(key)
}

fn cipher(key: &[u8; 32]) -> Result<Aes256Gcm, CryptoError> {
    Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::Authentication)
}

fn derive_key(password: &[u8], salt: &[u8], iterations: u32) -> Result<Aes256Gcm, CryptoError> {
    let mut key = pbkdf2_key(password, salt, iterations)?;
    let cipher = cipher(&key);
    key.fill(0);
    cipher
}

fn nonce(prefix: &[u8; 7], counter: u32, last: bool) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..7].copy_from_slice(prefix);
    n[7..11].copy_from_slice(&counter.to_be_bytes());
    n[11] = u8::from(last);
    n
}

fn random_bytes(buf: &mut [u8]) -> Result<(), CryptoError> {
    rand::rngs::SysRng.try_fill_bytes(buf).map_err(|e| CryptoError::Random(e.to_string()))
}

/// A key derived once from a password (e.g. when a job is accepted) and used for
/// several files; each file still gets its own random nonce prefix.
#[derive(Clone)]
pub struct DerivedKey {
    key: [u8; 32],
    salt: [u8; 16],
    iterations: u32,
}

impl std::fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DerivedKey").field("iterations", &self.iterations).finish_non_exhaustive()
    }
}

impl DerivedKey {
    /// Derives a key with a fresh random salt.
    pub fn derive(password: &[u8], iterations: u32) -> Result<Self, CryptoError> {
        let mut salt = [0u8; 16];
        random_bytes(&mut salt)?;
        let key = pbkdf2_key(password, &salt, iterations)?;
        Ok(Self { key, salt, iterations })
    }

    /// Serialises as hex (`iterations:salt:key`) for storage until use.
    pub fn to_hex(&self) -> String {
        format!("{}:{}:{}", self.iterations, hex::encode(self.salt), hex::encode(self.key))
    }

    /// Parses [`DerivedKey::to_hex`].
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut parts = text.split(':');
        let iterations = parts.next()?.parse().ok()?;
        let mut salt = [0u8; 16];
        let mut key = [0u8; 32];
        hex::decode_to_slice(parts.next()?, &mut salt).ok()?;
        hex::decode_to_slice(parts.next()?, &mut key).ok()?;
        parts.next().is_none().then_some(Self { key, salt, iterations })
    }
}

/// A writer that encrypts everything written to it. Call [`Encryptor::finish`]
/// at the end: without it the file is incomplete and will not decrypt.
pub struct Encryptor<W: Write> {
    inner: W,
    cipher: Aes256Gcm,
    header: [u8; HEADER_LEN],
    prefix: [u8; 7],
    counter: u32,
    segment: usize,
    buffer: Vec<u8>,
}

impl<W: Write> Encryptor<W> {
    /// Starts an encrypted stream with a fresh random salt and nonce prefix.
    pub fn new(inner: W, password: &[u8], iterations: u32) -> Result<Self, CryptoError> {
        let mut salt = [0u8; 16];
        let mut nonce_prefix = [0u8; 7];
        random_bytes(&mut salt)?;
        random_bytes(&mut nonce_prefix)?;
        Self::with_header(
            inner,
            password,
            Header { iterations, salt, nonce_prefix, segment_size: SEGMENT_SIZE },
        )
    }

    /// Starts an encrypted stream with a key derived earlier.
    pub fn with_derived_key(inner: W, key: &DerivedKey) -> Result<Self, CryptoError> {
        let mut nonce_prefix = [0u8; 7];
        random_bytes(&mut nonce_prefix)?;
        let header =
            Header { iterations: key.iterations, salt: key.salt, nonce_prefix, segment_size: SEGMENT_SIZE };
        Self::start(inner, cipher(&key.key)?, header)
    }

    /// Starts an encrypted stream with explicit parameters (tests).
    pub fn with_header(inner: W, password: &[u8], header: Header) -> Result<Self, CryptoError> {
        let cipher = derive_key(password, &header.salt, header.iterations)?;
        Self::start(inner, cipher, header)
    }

    /// Writes the header and sets up the first segment.
    fn start(mut inner: W, cipher: Aes256Gcm, header: Header) -> Result<Self, CryptoError> {
        let bytes = header.to_bytes();
        inner.write_all(&bytes)?;
        let segment = header.segment_size as usize;
        Ok(Self {
            inner,
            cipher,
            header: bytes,
            prefix: header.nonce_prefix,
            counter: 0,
            segment,
            buffer: Vec::with_capacity(segment + TAG_LEN),
        })
    }

    fn seal(&mut self, last: bool) -> io::Result<()> {
        let n = nonce(&self.prefix, self.counter, last);
        let tag = self
            .cipher
            .encrypt_inout_detached(&Nonce::from(n), &self.header, self.buffer.as_mut_slice().into())
            .map_err(|_| io::Error::other("encryption failed"))?;
        self.inner.write_all(&self.buffer)?;
        self.inner.write_all(tag.as_slice())?;
        self.buffer.clear();
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or_else(|| io::Error::other("file too large for one encrypted stream"))?;
        Ok(())
    }

    /// Seals the final segment and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.seal(true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Encryptor<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut written = 0;
        while written < data.len() {
            if self.buffer.len() == self.segment {
                self.seal(false)?;
            }
            let room = self.segment - self.buffer.len();
            let take = room.min(data.len() - written);
            self.buffer.extend_from_slice(&data[written..written + take]);
            written += take;
        }
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Decrypts a whole stream from `input` into `output`. Nothing unauthenticated
/// is written: each segment is checked before its plaintext is released.
/// Returns the number of plaintext bytes.
pub fn decrypt_stream<R: Read, W: Write>(
    mut input: R,
    mut output: W,
    password: &[u8],
) -> Result<u64, CryptoError> {
    let mut header_bytes = [0u8; HEADER_LEN];
    read_exact_or(&mut input, &mut header_bytes, CryptoError::NotEncrypted)?;
    let header = Header::parse(&header_bytes)?;
    let cipher = derive_key(password, &header.salt, header.iterations)?;
    let sealed = header.segment_size as usize + TAG_LEN;
    // Hold one sealed segment plus one byte of look-ahead to know which is last.
    let mut buf = vec![0u8; sealed + 1];
    let mut filled = read_full(&mut input, &mut buf)?;
    let mut counter = 0u32;
    let mut total = 0u64;
    loop {
        let last = filled <= sealed;
        let len = filled.min(sealed);
        if len < TAG_LEN {
            return Err(CryptoError::Authentication);
        }
        let (msg, tag) = buf[..len].split_at_mut(len - TAG_LEN);
        let tag = aes_gcm::Tag::try_from(&*tag).map_err(|_| CryptoError::Authentication)?;
        cipher
            .decrypt_inout_detached(
                &Nonce::from(nonce(&header.nonce_prefix, counter, last)),
                &header_bytes,
                msg.into(),
                &tag,
            )
            .map_err(|_| CryptoError::Authentication)?;
        output.write_all(msg)?;
        total += msg.len() as u64;
        if last {
            output.flush()?;
            return Ok(total);
        }
        // Move the look-ahead byte to the front and refill.
        buf[0] = buf[sealed];
        filled = 1 + read_full(&mut input, &mut buf[1..])?;
        counter = counter.checked_add(1).ok_or(CryptoError::Authentication)?;
    }
}

fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn read_exact_or<R: Read>(r: &mut R, buf: &mut [u8], err: CryptoError) -> Result<(), CryptoError> {
    if read_full(r, buf)? < buf.len() { Err(err) } else { Ok(()) }
}

/// Whether bytes start with the encrypted-file magic.
pub fn is_encrypted(prefix: &[u8]) -> bool {
    prefix.starts_with(MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(len: usize, segment: u32) -> (Vec<u8>, Vec<u8>) {
        let plain: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        let header = Header { iterations: 1000, salt: [7; 16], nonce_prefix: [9; 7], segment_size: segment };
        let mut enc = Encryptor::with_header(Vec::new(), b"secret", header).expect("encryptor");
        for chunk in plain.chunks(1000) {
            enc.write_all(chunk).expect("write");
        }
        let sealed = enc.finish().expect("finish");
        (plain, sealed)
    }

    #[test]
    fn round_trips_at_segment_boundaries() {
        for len in [0, 1, 99, 100, 101, 199, 200, 201, 5000] {
            let (plain, sealed) = roundtrip(len, 100);
            let segments = len.div_ceil(100).max(1);
            assert_eq!(sealed.len(), HEADER_LEN + len + segments * TAG_LEN, "len {len}");
            let mut out = Vec::new();
            let n = decrypt_stream(sealed.as_slice(), &mut out, b"secret").expect("decrypts");
            assert_eq!(n as usize, len);
            assert_eq!(out, plain);
        }
    }

    #[test]
    fn detects_wrong_password_tampering_and_truncation() {
        let (_, sealed) = roundtrip(1000, 100);
        let wrong = decrypt_stream(sealed.as_slice(), Vec::new(), b"Secret");
        assert!(matches!(wrong, Err(CryptoError::Authentication)));
        let mut flipped = sealed.clone();
        flipped[HEADER_LEN + 5] ^= 1;
        assert!(matches!(
            decrypt_stream(flipped.as_slice(), Vec::new(), b"secret"),
            Err(CryptoError::Authentication)
        ));
        let mut header = sealed.clone();
        header[20] ^= 1; // salt
        assert!(decrypt_stream(header.as_slice(), Vec::new(), b"secret").is_err());
        // Dropping the final segment must fail, not yield a shorter file.
        let cut = &sealed[..HEADER_LEN + 2 * (100 + TAG_LEN)];
        assert!(matches!(decrypt_stream(cut, Vec::new(), b"secret"), Err(CryptoError::Authentication)));
        assert!(matches!(
            decrypt_stream(&b"plain text"[..], Vec::new(), b"x"),
            Err(CryptoError::NotEncrypted)
        ));
        // A header asking for an absurd number of iterations is refused at once.
        let mut greedy = sealed.clone();
        greedy[10..14].copy_from_slice(&u32::MAX.to_be_bytes());
        let refused = decrypt_stream(greedy.as_slice(), Vec::new(), b"secret");
        assert!(
            matches!(refused, Err(CryptoError::Unsupported(ref why)) if why.contains("iterations")),
            "{refused:?}"
        );
    }

    #[test]
    fn derived_keys_round_trip_and_decrypt_with_the_password() {
        let key = DerivedKey::derive(b"job password", 1000).expect("derive");
        let restored = DerivedKey::from_hex(&key.to_hex()).expect("parse");
        let mut enc = Encryptor::with_derived_key(Vec::new(), &restored).expect("encryptor");
        enc.write_all(b"hello job").expect("write");
        let sealed = enc.finish().expect("finish");
        let mut out = Vec::new();
        decrypt_stream(sealed.as_slice(), &mut out, b"job password").expect("decrypts with the password");
        assert_eq!(out, b"hello job");
        assert!(DerivedKey::from_hex("x:y:z").is_none());
    }

    #[test]
    fn fresh_salt_each_time() {
        let a = Encryptor::new(Vec::new(), b"pw", 1000).and_then(|e| Ok(e.finish()?)).expect("a");
        let b = Encryptor::new(Vec::new(), b"pw", 1000).and_then(|e| Ok(e.finish()?)).expect("b");
        assert_ne!(a[15..31], b[15..31]);
        assert_ne!(a, b);
    }
}
