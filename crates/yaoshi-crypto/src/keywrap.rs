//! AES key wrap with padding (RFC 5649) and the BYOK envelope Vault/OpenBao
//! use for `transit/keys/:name/import`: `RSA-OAEP-SHA256(ephemeral AES-256 key)
//! || AES-KWP(ephemeral key, target key)`.

use crate::error::{CryptoError, Result};
use crate::random;
use crate::rsa::{RsaPrivateKey, RsaPublicKey};
use crate::secret::SecretBytes;
use aws_lc_rs::key_wrap::{AES_128, AES_256, AesKek, KeyWrapPadded};
use zeroize::Zeroizing;

/// Length of the ephemeral AES key in the BYOK envelope.
pub const EPHEMERAL_KEY_LEN: usize = 32;

fn kek(key: &[u8]) -> Result<AesKek> {
    let cipher = match key.len() {
        16 => &AES_128,
        32 => &AES_256,
        other => {
            return Err(CryptoError::InvalidKeyLength {
                algorithm: "aes-kwp",
                expected: 32,
                actual: other,
            });
        }
    };
    AesKek::new(cipher, key).map_err(|_| CryptoError::InvalidKey("AES key-encryption key"))
}

/// Wraps `key_material` (1 byte or more) under the AES-128/256 `kek` with RFC 5649.
pub fn aes_kwp_wrap(kek_bytes: &[u8], key_material: &[u8]) -> Result<Vec<u8>> {
    if key_material.is_empty() {
        return Err(CryptoError::InvalidInput("nothing to wrap"));
    }
    let mut out = vec![0u8; key_material.len() + 15];
    let len = kek(kek_bytes)?
        .wrap_with_padding(key_material, &mut out)
        .map_err(|_| CryptoError::InvalidInput("key material too long to wrap"))?
        .len();
    out.truncate(len);
    Ok(out)
}

/// Unwraps RFC 5649 output; any tampering is reported as an authentication failure.
pub fn aes_kwp_unwrap(kek_bytes: &[u8], wrapped: &[u8]) -> Result<SecretBytes> {
    if wrapped.len() < 16 || !wrapped.len().is_multiple_of(8) {
        return Err(CryptoError::InvalidCiphertext(
            "wrapped key length is not 16 + 8n bytes",
        ));
    }
    let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
    let len = kek(kek_bytes)?
        .unwrap_with_padding(wrapped, &mut out)
        .map_err(|_| CryptoError::AuthenticationFailed)?
        .len();
    Ok(SecretBytes::from_slice(&out[..len]))
}

/// Builds the BYOK envelope for `target_key` to the wrapping key `wrapping_key`.
pub fn byok_wrap(wrapping_key: &RsaPublicKey, target_key: &[u8]) -> Result<Vec<u8>> {
    let ephemeral = random::bytes(EPHEMERAL_KEY_LEN)?;
    let mut envelope = wrapping_key.encrypt_oaep_sha256(&ephemeral)?;
    envelope.extend_from_slice(&aes_kwp_wrap(&ephemeral, target_key)?);
    Ok(envelope)
}

/// Opens a BYOK envelope with the private wrapping key.
pub fn byok_unwrap(wrapping_key: &RsaPrivateKey, envelope: &[u8]) -> Result<SecretBytes> {
    let split = wrapping_key.bits() / 8;
    if envelope.len() <= split {
        return Err(CryptoError::InvalidCiphertext(
            "BYOK envelope shorter than the RSA block",
        ));
    }
    let (wrapped_ephemeral, wrapped_target) = envelope.split_at(split);
    let ephemeral = wrapping_key.decrypt_oaep_sha256(wrapped_ephemeral)?;
    if ephemeral.len() != EPHEMERAL_KEY_LEN {
        return Err(CryptoError::InvalidCiphertext(
            "ephemeral key is not 32 bytes",
        ));
    }
    aes_kwp_unwrap(ephemeral.expose(), wrapped_target)
}
