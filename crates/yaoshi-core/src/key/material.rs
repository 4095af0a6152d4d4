//! Key version material: generation, import, the byte encoding sealed by the
//! barrier, and the parsed ("loaded") form operations use.
//!
//! Every version holds the type's key plus a separate 256-bit HMAC key (as in
//! Vault, so `hmac/:name` works for every key type). Encoding, before sealing:
//! `1 || u32be(len key) || key || u32be(len hmac_key) || hmac_key`, where `key`
//! is the raw symmetric key, the HMAC key of an `hmac` key, the Ed25519 seed,
//! the 32-byte SM2 scalar, or PKCS#8 DER for ECDSA and RSA.

use super::KeyType;
use crate::error::{KmsError, KmsResult};
use base64::Engine;
use yaoshi_crypto::aead::AeadKey;
use yaoshi_crypto::ecdsa::EcdsaPrivateKey;
use yaoshi_crypto::ed25519::Ed25519PrivateKey;
use yaoshi_crypto::rsa::RsaPrivateKey;
use yaoshi_crypto::sm2::Sm2PrivateKey;
use yaoshi_crypto::{SecretBytes, random};
use zeroize::Zeroizing;

const ENCODING_VERSION: u8 = 1;
/// Size of the per-version HMAC key and the default `hmac` key size.
pub const HMAC_KEY_LEN: usize = 32;
/// Accepted sizes of an `hmac` type key, in bytes.
pub const HMAC_KEY_SIZES: core::ops::RangeInclusive<usize> = 32..=512;

/// The secret part of one version.
#[derive(Clone)]
pub struct VersionMaterial {
    /// The type's key (see the module documentation for its form).
    pub key: SecretBytes,
    /// The version's HMAC key.
    pub hmac_key: SecretBytes,
}

impl core::fmt::Debug for VersionMaterial {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("VersionMaterial(..)")
    }
}

impl VersionMaterial {
    /// Generates fresh material for `key_type`. RSA generation takes seconds;
    /// callers run it off the async executor.
    pub fn generate(key_type: KeyType, hmac_key_size: Option<usize>) -> KmsResult<Self> {
        let key = match key_type {
            KeyType::Hmac => secret(random::bytes(hmac_key_size.unwrap_or(HMAC_KEY_LEN))?),
            KeyType::Ed25519 => Ed25519PrivateKey::generate()?.seed()?,
            KeyType::Sm2 => Sm2PrivateKey::generate()?.to_bytes(),
            t if t.aead().is_some() => t.aead().expect("checked").generate_key()?,
            t if t.ecdsa_curve().is_some() => {
                EcdsaPrivateKey::generate(t.ecdsa_curve().expect("checked"))?.to_pkcs8_der()
            }
            t => RsaPrivateKey::generate(t.rsa_bits().expect("the remaining types are RSA"))?
                .to_pkcs8_der(),
        };
        let hmac_key = match key_type {
            KeyType::Hmac => key.clone(),
            _ => secret(random::bytes(HMAC_KEY_LEN)?),
        };
        Ok(Self { key, hmac_key })
    }

    /// Builds material from imported key bytes: raw bytes for symmetric and
    /// `hmac` keys, PKCS#8 DER for asymmetric keys (SM2 with its OID).
    pub fn from_import(key_type: KeyType, imported: &[u8]) -> KmsResult<Self> {
        let bad = |what: &str| KmsError::invalid(format!("imported key is not {what}"));
        let key = match key_type {
            KeyType::Hmac => {
                if !HMAC_KEY_SIZES.contains(&imported.len()) {
                    return Err(bad("an HMAC key of 32 to 512 bytes"));
                }
                SecretBytes::from_slice(imported)
            }
            KeyType::Ed25519 => Ed25519PrivateKey::from_pkcs8_der(imported)
                .map_err(|_| bad("an Ed25519 PKCS#8 key"))?
                .seed()?,
            KeyType::Sm2 => Sm2PrivateKey::from_pkcs8_der(imported)
                .map_err(|_| bad("an SM2 PKCS#8 key"))?
                .to_bytes(),
            t if t.aead().is_some() => {
                let expected = t.aead().expect("checked").key_len();
                if imported.len() != expected {
                    return Err(KmsError::invalid(format!(
                        "imported key for {t} must be {expected} bytes, got {}",
                        imported.len()
                    )));
                }
                SecretBytes::from_slice(imported)
            }
            t if t.ecdsa_curve().is_some() => {
                EcdsaPrivateKey::from_pkcs8_der(t.ecdsa_curve().expect("checked"), imported)
                    .map_err(|_| bad("a PKCS#8 key on this curve"))?
                    .to_pkcs8_der()
            }
            t => {
                let bits = t.rsa_bits().expect("the remaining types are RSA");
                let parsed = RsaPrivateKey::from_pkcs8_der(imported)
                    .map_err(|_| bad("an RSA PKCS#8 key"))?;
                if parsed.bits() != bits.bits() {
                    return Err(KmsError::invalid(format!(
                        "imported RSA key has {} bits, the key type needs {}",
                        parsed.bits(),
                        bits.bits()
                    )));
                }
                parsed.to_pkcs8_der()
            }
        };
        let hmac_key = match key_type {
            KeyType::Hmac => key.clone(),
            _ => secret(random::bytes(HMAC_KEY_LEN)?),
        };
        Ok(Self { key, hmac_key })
    }

    /// The encoding sealed by the barrier.
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let (key, hmac_key) = (self.key.expose(), self.hmac_key.expose());
        let mut out = Zeroizing::new(Vec::with_capacity(9 + key.len() + hmac_key.len()));
        out.push(ENCODING_VERSION);
        for part in [key, hmac_key] {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part);
        }
        out
    }

    /// Parses [`VersionMaterial::encode`] output.
    pub fn decode(bytes: &[u8]) -> KmsResult<Self> {
        let corrupt = || KmsError::Internal("stored key material has an unknown layout".into());
        let (&version, mut rest) = bytes.split_first().ok_or_else(corrupt)?;
        if version != ENCODING_VERSION {
            return Err(corrupt());
        }
        let mut parts = Vec::with_capacity(2);
        for _ in 0..2 {
            let (len, tail) = rest.split_first_chunk::<4>().ok_or_else(corrupt)?;
            let len = u32::from_be_bytes(*len) as usize;
            if tail.len() < len {
                return Err(corrupt());
            }
            parts.push(SecretBytes::from_slice(&tail[..len]));
            rest = &tail[len..];
        }
        if !rest.is_empty() {
            return Err(corrupt());
        }
        let hmac_key = parts.pop().expect("two parts");
        let key = parts.pop().expect("two parts");
        Ok(Self { key, hmac_key })
    }
}

fn secret(bytes: Zeroizing<Vec<u8>>) -> SecretBytes {
    SecretBytes::from_slice(&bytes)
}

/// A version's key parsed for use.
pub enum LoadedKey {
    /// An AEAD key (not derived).
    Aead(AeadKey),
    /// Ed25519.
    Ed25519(Ed25519PrivateKey),
    /// ECDSA.
    Ecdsa(EcdsaPrivateKey),
    /// RSA.
    Rsa(RsaPrivateKey),
    /// SM2.
    Sm2(Box<Sm2PrivateKey>),
    /// An `hmac` key, or a derived AEAD key whose per-request key comes from
    /// the raw material.
    Raw,
}

/// One version ready for operations: its material and parsed key.
pub struct LoadedVersion {
    /// The key type.
    pub key_type: KeyType,
    /// The material (raw key bytes are needed for derivation and export).
    pub material: VersionMaterial,
    /// The parsed key.
    pub key: LoadedKey,
}

impl LoadedVersion {
    /// Parses `material` for `key_type`. Derived AEAD keys stay raw.
    pub fn load(key_type: KeyType, material: VersionMaterial, derived: bool) -> KmsResult<Self> {
        let raw = material.key.expose();
        let key = match key_type {
            KeyType::Hmac => LoadedKey::Raw,
            KeyType::Ed25519 => LoadedKey::Ed25519(Ed25519PrivateKey::from_seed(raw)?),
            KeyType::Sm2 => LoadedKey::Sm2(Box::new(Sm2PrivateKey::from_bytes(raw)?)),
            t if t.aead().is_some() => {
                if derived {
                    LoadedKey::Raw
                } else {
                    LoadedKey::Aead(AeadKey::new(t.aead().expect("checked"), raw)?)
                }
            }
            t if t.ecdsa_curve().is_some() => LoadedKey::Ecdsa(EcdsaPrivateKey::from_pkcs8_der(
                t.ecdsa_curve().expect("checked"),
                raw,
            )?),
            _ => LoadedKey::Rsa(RsaPrivateKey::from_pkcs8_der(raw)?),
        };
        Ok(Self {
            key_type,
            material,
            key,
        })
    }

    /// The public key as shown by key reads: SPKI PEM, or base64 for Ed25519.
    pub fn public_key_text(&self) -> KmsResult<Option<String>> {
        Ok(match &self.key {
            LoadedKey::Ed25519(k) => {
                Some(base64::engine::general_purpose::STANDARD.encode(k.public_key().as_bytes()))
            }
            LoadedKey::Ecdsa(k) => Some(k.public_key().to_spki_pem()?),
            LoadedKey::Rsa(k) => Some(k.public_key()?.to_spki_pem()?),
            LoadedKey::Sm2(k) => Some(k.public_key().to_spki_pem()?),
            LoadedKey::Aead(_) | LoadedKey::Raw => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn material_encoding_round_trips_and_rejects_garbage() {
        let m = VersionMaterial::generate(KeyType::Sm4Gcm96, None).unwrap();
        assert_eq!(m.key.len(), 16);
        let decoded = VersionMaterial::decode(&m.encode()).unwrap();
        assert_eq!(decoded.key, m.key);
        assert_eq!(decoded.hmac_key, m.hmac_key);
        let enc = m.encode();
        assert!(VersionMaterial::decode(&enc[..enc.len() - 1]).is_err());
        assert!(VersionMaterial::decode(&[2, 0, 0, 0, 0]).is_err());
        assert!(VersionMaterial::decode(&[]).is_err());
        let mut longer = enc.to_vec();
        longer.push(0);
        assert!(VersionMaterial::decode(&longer).is_err());
    }

    #[test]
    fn generated_material_loads_for_every_fast_type() {
        for t in KeyType::ALL.into_iter().filter(|t| t.rsa_bits().is_none()) {
            let m = VersionMaterial::generate(t, None).unwrap();
            let loaded = LoadedVersion::load(t, m, false).unwrap();
            assert_eq!(
                loaded.public_key_text().unwrap().is_some(),
                t.is_asymmetric(),
                "{t}"
            );
        }
    }

    #[test]
    fn imports_check_sizes_and_formats() {
        assert!(VersionMaterial::from_import(KeyType::Aes256Gcm96, &[7; 32]).is_ok());
        assert!(VersionMaterial::from_import(KeyType::Aes256Gcm96, &[7; 16]).is_err());
        assert!(VersionMaterial::from_import(KeyType::Sm4Gcm96, &[7; 16]).is_ok());
        assert!(VersionMaterial::from_import(KeyType::Hmac, &[7; 31]).is_err());
        assert!(VersionMaterial::from_import(KeyType::Sm2, &[7; 32]).is_err());
        let sm2 = Sm2PrivateKey::generate().unwrap();
        let m = VersionMaterial::from_import(KeyType::Sm2, sm2.to_pkcs8_der().unwrap().expose())
            .unwrap();
        assert_eq!(m.key, sm2.to_bytes());
        let ed = Ed25519PrivateKey::generate().unwrap();
        let m = VersionMaterial::from_import(KeyType::Ed25519, ed.to_pkcs8_der().unwrap().expose())
            .unwrap();
        assert_eq!(m.key, ed.seed().unwrap());
    }
}
