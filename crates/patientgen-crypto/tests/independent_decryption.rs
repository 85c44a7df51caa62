//! Decrypts patientgen's format with an independent implementation (`ring`'s
//! PBKDF2 and AES-256-GCM), written from the format description in the crate
//! documentation only.

use patientgen_crypto::{DEFAULT_ITERATIONS, Encryptor};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use std::io::Write;
use std::num::NonZeroU32;

fn ring_decrypt(file: &[u8], password: &[u8]) -> Option<Vec<u8>> {
    let header = file.get(..43)?;
    if &header[..8] != b"PGENENC\0" || header[8] != 1 || header[9] != 1 || header[31] != 1 {
        return None;
    }
    let iterations = u32::from_be_bytes(header[10..14].try_into().ok()?);
    let salt = &header[15..31];
    let prefix = &header[32..39];
    let segment = u32::from_be_bytes(header[39..43].try_into().ok()?) as usize;
    let mut key = [0u8; 32];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        NonZeroU32::new(iterations)?,
        salt,
        password,
        &mut key,
    );
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).ok()?);
    let body = &file[43..];
    let sealed = segment + 16;
    let count = body.len().div_ceil(sealed).max(1);
    let mut plain = Vec::new();
    for (i, chunk) in body.chunks(sealed).enumerate() {
        let mut nonce = [0u8; 12];
        nonce[..7].copy_from_slice(prefix);
        nonce[7..11].copy_from_slice(&(i as u32).to_be_bytes());
        nonce[11] = u8::from(i + 1 == count);
        let mut buf = chunk.to_vec();
        let opened =
            key.open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(header), &mut buf).ok()?;
        plain.extend_from_slice(opened);
    }
    Some(plain)
}

#[test]
fn ring_decrypts_what_patientgen_encrypts() {
    let plain: Vec<u8> = (0..200_000u32).flat_map(|i| (i % 253).to_le_bytes()).collect();
    let mut enc = Encryptor::new(Vec::new(), "correct horse battery staple".as_bytes(), DEFAULT_ITERATIONS)
        .expect("encryptor");
    enc.write_all(&plain).expect("write");
    let file = enc.finish().expect("finish");
    assert_eq!(u32::from_be_bytes([file[10], file[11], file[12], file[13]]), 600_000);
    let opened = ring_decrypt(&file, b"correct horse battery staple").expect("ring opens the file");
    assert_eq!(opened, plain);
    assert!(ring_decrypt(&file, b"wrong password").is_none());
}
