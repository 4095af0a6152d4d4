//! The wrapped-root-key format.
//!
//! ```text
//! blob = version (1 byte, 0x01) ‖ iv (12 bytes) ‖ ciphertext ‖ tag (16 bytes)
//! ```
//!
//! `ciphertext ‖ tag` is the output of `CKM_AES_GCM` under the token's
//! wrapping key with the 12-byte `iv`, a 128-bit tag and the associated data
//! [`AAD`] (`yaoshi root key v1`). The associated data names the purpose and
//! the format version, so a blob cannot be confused with any other GCM
//! ciphertext made under the same key, and a future format cannot be
//! downgraded to this one. Anyone holding the wrapping key can decrypt a blob
//! with any AES-GCM implementation.

use crate::error::Pkcs11Error;

/// Format version written as the first byte.
pub const VERSION: u8 = 1;
/// Length of the GCM initialisation vector.
pub const IV_LEN: usize = 12;
/// Length of the GCM authentication tag (128 bits).
pub const TAG_LEN: usize = 16;
/// Associated data authenticated with every wrapped root key.
pub const AAD: &[u8] = b"yaoshi root key v1";

/// The parts of a parsed blob.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Parts<'a> {
    /// The GCM initialisation vector.
    pub(crate) iv: [u8; IV_LEN],
    /// Ciphertext followed by the tag.
    pub(crate) sealed: &'a [u8],
}

/// Assembles a blob from an IV and the GCM output (`ciphertext ‖ tag`).
pub(crate) fn encode(iv: &[u8; IV_LEN], sealed: &[u8]) -> Vec<u8> {
    let mut blob = Vec::with_capacity(1 + IV_LEN + sealed.len());
    blob.push(VERSION);
    blob.extend_from_slice(iv);
    blob.extend_from_slice(sealed);
    blob
}

/// Splits a blob, checking its version and minimum length.
pub(crate) fn parse(blob: &[u8]) -> Result<Parts<'_>, Pkcs11Error> {
    let (&version, rest) = blob
        .split_first()
        .ok_or(Pkcs11Error::MalformedBlob("empty"))?;
    if version != VERSION {
        return Err(Pkcs11Error::MalformedBlob("unknown format version"));
    }
    if rest.len() < IV_LEN + TAG_LEN + 1 {
        return Err(Pkcs11Error::MalformedBlob("too short"));
    }
    let (iv, sealed) = rest.split_at(IV_LEN);
    let iv = iv
        .try_into()
        .map_err(|_| Pkcs11Error::MalformedBlob("too short"))?;
    Ok(Parts { iv, sealed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_parse() {
        let iv = [7u8; IV_LEN];
        let sealed = [9u8; 32 + TAG_LEN];
        let blob = encode(&iv, &sealed);
        assert_eq!(blob.len(), 1 + IV_LEN + 32 + TAG_LEN);
        assert_eq!(blob[0], VERSION);
        assert_eq!(
            parse(&blob).unwrap(),
            Parts {
                iv,
                sealed: &sealed
            }
        );
    }

    #[test]
    fn rejects_bad_blobs() {
        assert_eq!(parse(&[]).unwrap_err(), Pkcs11Error::MalformedBlob("empty"));
        let mut blob = encode(&[0; IV_LEN], &[0; 48]);
        blob[0] = 2;
        assert_eq!(
            parse(&blob).unwrap_err(),
            Pkcs11Error::MalformedBlob("unknown format version")
        );
        let short = encode(&[0; IV_LEN], &[0; TAG_LEN]);
        assert_eq!(
            parse(&short).unwrap_err(),
            Pkcs11Error::MalformedBlob("too short")
        );
        assert!(parse(&encode(&[0; IV_LEN], &[0; TAG_LEN + 1])).is_ok());
    }
}
