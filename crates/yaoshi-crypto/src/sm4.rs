//! SM4 (GB/T 32907-2016) block cipher modes used as building blocks:
//! single blocks, CBC with PKCS#7 padding, CTR, and CCM (RFC 8998).
//!
//! SM4-GCM, the mode yaoshi keys use, is in [`crate::aead`].

use crate::error::{CryptoError, Result};
use crate::secret::SecretBytes;
use aes_gcm::aead::{Aead, Payload, consts::U12, consts::U16};
use cipher::{
    BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit,
};

/// SM4 key length in bytes.
pub const KEY_LEN: usize = 16;
/// SM4 block length in bytes.
pub const BLOCK_LEN: usize = 16;
/// CCM nonce length supported (RFC 8998).
pub const CCM_NONCE_LEN: usize = 12;
/// CCM tag length supported (RFC 8998).
pub const CCM_TAG_LEN: usize = 16;

type Sm4Ccm = ccm::Ccm<sm4::Sm4, U16, U12>;

fn cipher(key: &[u8]) -> Result<sm4::Sm4> {
    sm4::Sm4::new_from_slice(key).map_err(|_| key_error(key))
}

fn key_error(key: &[u8]) -> CryptoError {
    CryptoError::InvalidKeyLength {
        algorithm: "sm4",
        expected: KEY_LEN,
        actual: key.len(),
    }
}

fn iv16(iv: &[u8]) -> Result<[u8; BLOCK_LEN]> {
    iv.try_into().map_err(|_| CryptoError::InvalidNonceLength {
        algorithm: "sm4",
        expected: BLOCK_LEN,
        actual: iv.len(),
    })
}

/// Encrypts one 16-byte block.
pub fn encrypt_block(key: &[u8], block: &[u8; BLOCK_LEN]) -> Result<[u8; BLOCK_LEN]> {
    let cipher = cipher(key)?;
    let mut b = (*block).into();
    cipher.encrypt_block(&mut b);
    Ok(b.into())
}

/// Decrypts one 16-byte block.
pub fn decrypt_block(key: &[u8], block: &[u8; BLOCK_LEN]) -> Result<[u8; BLOCK_LEN]> {
    let cipher = cipher(key)?;
    let mut b = (*block).into();
    cipher.decrypt_block(&mut b);
    Ok(b.into())
}

/// Encrypts `block` `rounds` times in a row with one key schedule
/// (the GB/T 32907 1,000,000-round example).
pub fn encrypt_block_repeated(
    key: &[u8],
    block: &[u8; BLOCK_LEN],
    rounds: u32,
) -> Result<[u8; BLOCK_LEN]> {
    let cipher = cipher(key)?;
    let mut b = (*block).into();
    for _ in 0..rounds {
        cipher.encrypt_block(&mut b);
    }
    Ok(b.into())
}

/// SM4-CBC encryption with PKCS#7 padding (as `openssl enc -sm4-cbc`).
pub fn cbc_encrypt(key: &[u8], iv: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    if key.len() != KEY_LEN {
        return Err(key_error(key));
    }
    let iv = iv16(iv)?;
    let enc = cbc::Encryptor::<sm4::Sm4>::new_from_slices(key, &iv).map_err(|_| key_error(key))?;
    Ok(enc.encrypt_padded_vec::<cipher::block_padding::Pkcs7>(plaintext))
}

/// SM4-CBC decryption and PKCS#7 unpadding.
///
/// Padding errors are reported like any malformed ciphertext. CBC is not
/// authenticated: use it only inside formats that add their own MAC.
pub fn cbc_decrypt(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Result<SecretBytes> {
    if key.len() != KEY_LEN {
        return Err(key_error(key));
    }
    let iv = iv16(iv)?;
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK_LEN) {
        return Err(CryptoError::InvalidCiphertext(
            "not a positive multiple of the block size",
        ));
    }
    let dec = cbc::Decryptor::<sm4::Sm4>::new_from_slices(key, &iv).map_err(|_| key_error(key))?;
    dec.decrypt_padded_vec::<cipher::block_padding::Pkcs7>(ciphertext)
        .map(SecretBytes::new)
        .map_err(|_| CryptoError::InvalidCiphertext("bad padding"))
}

/// SM4-CTR with a 128-bit big-endian counter starting at `iv` (as `openssl enc -sm4-ctr`).
/// Encryption and decryption are the same operation.
///
/// Runs on the timing-safe SIMD fast path where the CPU has AES-NI (see
/// docs/crypto.md, "SM4 fast path"); the other modes here use the `sm4` crate.
pub fn ctr_apply(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    if key.len() != KEY_LEN {
        return Err(key_error(key));
    }
    let iv = iv16(iv)?;
    let key: &[u8; KEY_LEN] = key.try_into().map_err(|_| key_error(key))?;
    Ok(crate::sm4_fast::ctr_apply(key, &iv, data))
}

fn ccm(key: &[u8], nonce: &[u8]) -> Result<(Sm4Ccm, [u8; CCM_NONCE_LEN])> {
    let nonce: [u8; CCM_NONCE_LEN] =
        nonce
            .try_into()
            .map_err(|_| CryptoError::InvalidNonceLength {
                algorithm: "sm4-ccm",
                expected: CCM_NONCE_LEN,
                actual: nonce.len(),
            })?;
    let cipher = <Sm4Ccm as KeyInit>::new_from_slice(key).map_err(|_| key_error(key))?;
    Ok((cipher, nonce))
}

/// SM4-CCM (RFC 8998: 12-byte nonce, 16-byte tag) encryption; returns `ciphertext || tag`.
pub fn ccm_seal(key: &[u8], nonce: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let (cipher, nonce) = ccm(key, nonce)?;
    cipher
        .encrypt(
            &nonce.into(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::InvalidInput("plaintext too long for CCM"))
}

/// SM4-CCM decryption of `ciphertext || tag`.
pub fn ccm_open(key: &[u8], nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Result<SecretBytes> {
    let (cipher, nonce) = ccm(key, nonce)?;
    if sealed.len() < CCM_TAG_LEN {
        return Err(CryptoError::InvalidCiphertext("shorter than the tag"));
    }
    cipher
        .decrypt(&nonce.into(), Payload { msg: sealed, aad })
        .map(SecretBytes::new)
        .map_err(|_| CryptoError::AuthenticationFailed)
}
