//! PEM armour (RFC 7468) shared by the key encodings.

use crate::error::{CryptoError, Result};
use crate::secret::SecretBytes;
use zeroize::Zeroizing;

/// PEM label of a PKCS#8 private key.
pub const PRIVATE_KEY: &str = "PRIVATE KEY";
/// PEM label of a SubjectPublicKeyInfo.
pub const PUBLIC_KEY: &str = "PUBLIC KEY";
/// PEM label of a SEC1 / RFC 5915 EC private key.
pub const EC_PRIVATE_KEY: &str = "EC PRIVATE KEY";

/// Armours `der` under `label` with LF line endings.
pub fn encode(label: &'static str, der: &[u8]) -> Result<String> {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der)
        .map_err(|_| CryptoError::Internal("PEM encoding"))
}

/// Armours secret DER; the resulting string is wiped on drop.
pub fn encode_secret(label: &'static str, der: &SecretBytes) -> Result<Zeroizing<String>> {
    encode(label, der.expose()).map(Zeroizing::new)
}

/// Removes the armour and returns `(label, der)`.
pub fn decode(pem: &str) -> Result<(String, SecretBytes)> {
    let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes())
        .map_err(|_| CryptoError::InvalidEncoding("not a PEM document"))?;
    Ok((label.to_string(), SecretBytes::new(der)))
}

/// Removes the armour and checks that the label is `expected`.
pub fn decode_labelled(pem: &str, expected: &'static str) -> Result<SecretBytes> {
    let (label, der) = decode(pem)?;
    if label != expected {
        return Err(CryptoError::InvalidEncoding("unexpected PEM label"));
    }
    Ok(der)
}
