//! SM2 ciphertext layouts and conversions between them.
//!
//! yaoshi stores and returns the GM/T 0009 DER form
//! `SEQUENCE { x INTEGER, y INTEGER, C3 OCTET STRING (32), C2 OCTET STRING }`.
//! Other software uses the raw concatenations `C1 || C3 || C2` (GB/T 32918-2016)
//! or `C1 || C2 || C3` (the 2010 draft), where `C1 = 04 || x || y`.

use crate::error::{CryptoError, Result};
use sm2::elliptic_curve::pkcs8::der::{Decode, Encode};
use sm2::pke::{Cipher, Mode};

/// Order of the parts in a raw SM2 ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawOrder {
    /// `C1 || C3 || C2` (GB/T 32918.4-2016).
    C1C3C2,
    /// `C1 || C2 || C3` (older software, e.g. some `gmssl` versions' default).
    C1C2C3,
}

impl RawOrder {
    fn mode(self) -> Mode {
        match self {
            Self::C1C3C2 => Mode::C1C3C2,
            Self::C1C2C3 => Mode::C1C2C3,
        }
    }
}

/// Converts a GM/T 0009 DER ciphertext to a raw one with an uncompressed `C1`.
pub fn der_to_raw(der: &[u8], order: RawOrder) -> Result<Vec<u8>> {
    let cipher = Cipher::<'_, sm2::Sm2, sm3::Sm3>::from_der(der)
        .map_err(|_| CryptoError::InvalidCiphertext("not a GM/T 0009 SM2 ciphertext"))?;
    cipher
        .to_vec(order.mode(), false)
        .map_err(|_| CryptoError::InvalidCiphertext("SM2 ciphertext cannot be re-encoded"))
}

/// Converts a raw ciphertext (`C1` uncompressed `04 || x || y` or compressed) to GM/T 0009 DER.
pub fn raw_to_der(raw: &[u8], order: RawOrder) -> Result<Vec<u8>> {
    let cipher = Cipher::<'_, sm2::Sm2, sm3::Sm3>::from_slice(raw, order.mode())
        .map_err(|_| CryptoError::InvalidCiphertext("not a raw SM2 ciphertext"))?;
    if cipher.c2().is_empty() {
        return Err(CryptoError::InvalidCiphertext(
            "SM2 ciphertext carries no message",
        ));
    }
    cipher
        .to_der()
        .map_err(|_| CryptoError::InvalidCiphertext("SM2 ciphertext cannot be re-encoded"))
}
