//! The key format, generation and hashing.
//!
//! Format: `sk_live_` or `sk_demo_`, 43 base62 characters (256 random bits),
//! `_`, and a 6-character base62 checksum of the rest. A value that looks like
//! our format but fails the checksum is rejected without touching the
//! database. Keys are stored as SHA-256 hex plus a short display prefix; other
//! values (upstream's demo key, a bootstrap or imported key) are looked up by
//! hash too.

use super::KeyError;
use rand::TryRng;
use sha2::{Digest, Sha256};

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Random base62 characters after the kind prefix.
const BODY_LEN: usize = 43;
/// Checksum characters after the last `_`.
const CHECK_LEN: usize = 6;
/// `sk_live_` / `sk_demo_`.
const KIND_LEN: usize = 8;

/// The two kinds of generated keys; the kind is visible in the key itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `sk_live_…`.
    Live,
    /// `sk_demo_…`: a demo key (demo limits unless overridden).
    Demo,
}

impl KeyKind {
    /// The kind of a key with or without the demo flag.
    pub fn of(is_demo: bool) -> Self {
        if is_demo { KeyKind::Demo } else { KeyKind::Live }
    }

    /// The prefix keys of this kind start with.
    pub fn prefix(self) -> &'static str {
        match self {
            KeyKind::Live => "sk_live_",
            KeyKind::Demo => "sk_demo_",
        }
    }
}

/// Writes `bytes` as a big number in base 62 into `out` (fixed width).
fn base62_into(bytes: &[u8], out: &mut [u8]) {
    let mut digits = [0u8; 32];
    let digits = &mut digits[..bytes.len().min(32)];
    digits.copy_from_slice(&bytes[..digits.len()]);
    for slot in out.iter_mut().rev() {
        let mut rem = 0u32;
        for d in digits.iter_mut() {
            let acc = (rem << 8) | u32::from(*d);
            *d = (acc / 62) as u8;
            rem = acc % 62;
        }
        *slot = BASE62[rem as usize];
    }
}

/// The checksum of a key body, without allocating.
fn checksum(text: &str) -> [u8; CHECK_LEN] {
    let digest = Sha256::digest(text.as_bytes());
    let mut out = [0u8; CHECK_LEN];
    base62_into(&digest[..5], &mut out);
    out
}

/// A new random key of `kind`, from the operating system's random source.
pub fn generate_key(kind: KeyKind) -> Result<String, KeyError> {
    let mut random = [0u8; 32];
    rand::rngs::SysRng.try_fill_bytes(&mut random).map_err(|_| KeyError::NoRandomness)?;
    let mut body = [0u8; BODY_LEN];
    base62_into(&random, &mut body);
    let body = format!("{}{}", kind.prefix(), String::from_utf8_lossy(&body));
    let check = checksum(&body);
    Ok(format!("{body}_{}", String::from_utf8_lossy(&check)))
}

/// Whether a value claims our format (then its checksum must hold). Upstream's
/// keys share the prefixes but not the shape — the prefix and 56 lowercase
/// hex characters — and are plain keys that may be imported.
pub fn looks_generated(key: &str) -> bool {
    (key.starts_with(KeyKind::Live.prefix()) || key.starts_with(KeyKind::Demo.prefix()))
        && !is_upstream_key(key)
}

/// Whether a value has upstream's generated shape: `sk_live_`/`sk_demo_` and
/// 56 lowercase hex characters.
fn is_upstream_key(key: &str) -> bool {
    let rest = &key.as_bytes()[KIND_LEN.min(key.len())..];
    rest.len() == 56 && rest.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// Whether a value in our format has a valid checksum.
pub fn checksum_valid(key: &str) -> bool {
    let Some((body, check)) = key.rsplit_once('_') else { return false };
    body.len() == KIND_LEN + BODY_LEN
        && check.len() == CHECK_LEN
        && body[KIND_LEN..].bytes().all(|b| b.is_ascii_alphanumeric())
        && checksum(body) == check.as_bytes()
}

/// SHA-256 hex of a key: what the database stores and looks keys up by.
pub fn hash_key(key: &str) -> String {
    hex::encode(key_digest(key))
}

/// SHA-256 of a key: what the service's key cache is keyed by.
pub fn key_digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Upstream's display form: first 8 characters, `...`, last 4.
pub fn display_prefix(key: &str) -> String {
    if key.chars().count() <= 12 {
        format!("{}...", key.chars().take(8).collect::<String>())
    } else {
        let last: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        format!("{}...{last}", key.chars().take(8).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_a_valid_checksum() {
        for kind in [KeyKind::Live, KeyKind::Demo] {
            let key = generate_key(kind).expect("random");
            assert!(key.starts_with(kind.prefix()));
            assert_eq!(key.len(), KIND_LEN + BODY_LEN + 1 + CHECK_LEN);
            assert!(checksum_valid(&key), "{key}");
            // One changed character breaks it.
            let mut broken: Vec<char> = key.chars().collect();
            broken[12] = if broken[12] == 'a' { 'b' } else { 'a' };
            assert!(!checksum_valid(&broken.iter().collect::<String>()));
        }
        assert_ne!(generate_key(KeyKind::Live).ok(), generate_key(KeyKind::Live).ok());
        assert!(!checksum_valid("sk_live_short_abcdef"));
        assert_eq!(display_prefix("sk_live_abcdefghijklmnop"), "sk_live_...mnop");
        assert_eq!(display_prefix("short"), "short...");
    }

    #[test]
    fn upstreams_keys_are_plain_keys_not_mistyped_ones() {
        let upstream = format!("sk_live_{}", "9a85db93".repeat(7));
        assert_eq!(upstream.len(), 64);
        assert!(!looks_generated(&upstream));
        assert!(!looks_generated(&format!("sk_demo_{}", "0f".repeat(28))));
        assert!(looks_generated(&generate_key(KeyKind::Live).expect("random")));
        assert!(looks_generated(&format!("sk_live_{}", "9A85DB93".repeat(7))), "upstream's hex is lowercase");
        assert!(looks_generated("sk_live_short_abcdef"));
    }

    #[test]
    fn base62_is_fixed_width() {
        let text = |bytes: &[u8], len: usize| {
            let mut out = vec![b'0'; len];
            base62_into(bytes, &mut out);
            String::from_utf8(out).expect("ascii")
        };
        assert_eq!(text(&[0], 3), "000");
        assert_eq!(text(&[61], 2), "0z");
        assert_eq!(text(&[1, 0], 3), "048");
    }
}
