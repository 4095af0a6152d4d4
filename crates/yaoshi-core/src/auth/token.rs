//! Bearer tokens: their format, the keyed hash they are stored under, and
//! the records kept for them.
//!
//! A token is `ys.` followed by 43 characters of unpadded base64url (32
//! random bytes); a dev server's root token may be any caller-chosen text of
//! 1 to 256 characters without control characters. Tokens are never stored:
//! the record lives in entry `auth/token/<hex(HMAC(token-key, token))>`, where
//! the 32-byte token-hashing key is itself sealed by the barrier under the
//! root key. The HMAC is HMAC-SHA-256, or HMAC-SM3 when the deployment's
//! barrier is SM4-GCM.

use super::principal::Principal;
use crate::barrier::BarrierAlgorithm;
use crate::error::{KmsError, KmsResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use yaoshi_crypto::hash::HashAlgorithm;
use yaoshi_crypto::{SecretBytes, mac, random};

/// Prefix of generated tokens.
pub const TOKEN_PREFIX: &str = "ys.";
/// Longest token accepted (generated tokens are 46 characters).
pub const MAX_TOKEN_LEN: usize = 256;
/// Length of the token-hashing key.
pub(crate) const TOKEN_KEY_LEN: usize = 32;

/// A fresh random token: `ys.` + base64url(32 random bytes).
pub(crate) fn generate_token() -> KmsResult<SecretString> {
    let bytes = random::bytes(32)?;
    Ok(SecretString::from(format!(
        "{TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(&*bytes)
    )))
}

/// Checks a caller-chosen (dev) root token: 1..=256 characters, no control
/// characters (it has to travel in an HTTP header).
pub(crate) fn validate_chosen_token(token: &str) -> KmsResult<()> {
    if token.is_empty()
        || token.chars().count() > MAX_TOKEN_LEN
        || token.chars().any(char::is_control)
    {
        return Err(KmsError::invalid(format!(
            "a chosen root token must be 1 to {MAX_TOKEN_LEN} characters without control characters"
        )));
    }
    Ok(())
}

/// The token-hashing key, held in memory while unsealed.
pub(crate) struct TokenKey {
    secret: SecretBytes,
    hash: HashAlgorithm,
}

impl core::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// The key with the HMAC that goes with the deployment's barrier.
    pub(crate) fn new(secret: SecretBytes, barrier: BarrierAlgorithm) -> KmsResult<Self> {
        if secret.len() != TOKEN_KEY_LEN {
            return Err(KmsError::Internal(
                "the token-hashing key must be 32 bytes".into(),
            ));
        }
        let hash = match barrier {
            BarrierAlgorithm::Aes256Gcm => HashAlgorithm::Sha256,
            BarrierAlgorithm::Sm4Gcm => HashAlgorithm::Sm3,
        };
        Ok(Self { secret, hash })
    }

    /// The keyed hash of a sensitive request input for the audit log,
    /// `hmac-sha256:<hex>` or `hmac-sm3:<hex>`. Keyed with a subkey of the
    /// token-hashing key, so equal inputs can be correlated by whoever holds
    /// the deployment but not guessed from the log.
    pub(crate) fn audit_hmac(&self, value: &[u8]) -> String {
        let subkey = mac::hmac(
            self.hash,
            self.secret.expose(),
            b"yaoshi audit input key v1",
        );
        let tag = mac::hmac(self.hash, &subkey, value);
        let name = match self.hash {
            HashAlgorithm::Sm3 => "sm3",
            _ => "sha256",
        };
        format!("hmac-{name}:{}", hex::encode(tag))
    }

    /// The entry a token's record is stored in.
    pub(crate) fn record_entry(&self, token: &str) -> String {
        let tag = mac::hmac(self.hash, self.secret.expose(), token.as_bytes());
        format!("{}{}", super::TOKEN_ENTRY_PREFIX, hex::encode(tag))
    }
}

/// A stored token record (the JSON value of `auth/token/<hash>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TokenRecord {
    pub(crate) principal: String,
    pub(crate) accessor: String,
    pub(crate) display_name: String,
    pub(crate) created_at: i64,
    pub(crate) expires_at: Option<i64>,
}

impl TokenRecord {
    /// Whether the token may still be used at Unix time `now` (seconds): a
    /// token expiring at `t` is refused from second `t` on.
    pub(crate) fn is_live(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|t| now < t)
    }

    pub(crate) fn to_bytes(&self) -> KmsResult<Vec<u8>> {
        serde_json::to_vec(self)
            .map_err(|_| KmsError::Internal("token record did not serialise".into()))
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> KmsResult<Self> {
        serde_json::from_slice(bytes)
            .map_err(|_| KmsError::Internal("stored token record is corrupt".into()))
    }

    pub(crate) fn info(&self) -> TokenRecordInfo {
        TokenRecordInfo {
            accessor: self.accessor.clone(),
            display_name: self.display_name.clone(),
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}

/// What is known about a token, apart from the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecordInfo {
    /// Random identifier (128 bits, hex) that names the token without being it.
    pub accessor: String,
    /// Human label.
    pub display_name: String,
    /// Unix time (seconds) of issue.
    pub created_at: i64,
    /// Unix time (seconds) from which the token is refused; `None`: never.
    pub expires_at: Option<i64>,
}

/// The result of [`Kms::authenticate`](crate::Kms::authenticate): who the
/// caller is, read from the store for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The token's principal.
    pub principal: Principal,
    /// The token's record.
    pub token: TokenRecordInfo,
}

/// A newly issued token. The token is shown once; only its keyed hash is
/// stored. `Debug` does not show it.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The bearer token.
    pub token: SecretString,
    /// The token's accessor.
    pub accessor: String,
    /// The principal it authenticates as.
    pub principal: Principal,
    /// Unix time (seconds) from which it is refused; `None`: never.
    pub expires_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn record(expires_at: Option<i64>) -> TokenRecord {
        TokenRecord {
            principal: "p".into(),
            accessor: "acc".into(),
            display_name: "d".into(),
            created_at: 100,
            expires_at,
        }
    }

    #[test]
    fn expiry_is_checked_against_the_given_time() {
        assert!(record(None).is_live(i64::MAX));
        let r = record(Some(101));
        assert!(r.is_live(100));
        assert!(!r.is_live(101));
        assert!(!r.is_live(5000));
    }

    #[test]
    fn generated_tokens_have_the_documented_shape() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        let text = a.expose_secret();
        assert_eq!(text.len(), 46);
        let body = text.strip_prefix("ys.").unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(body).unwrap().len(), 32);
        assert_ne!(text, b.expose_secret());
        assert!(!format!("{a:?}").contains(body), "Debug must redact");
    }

    #[test]
    fn chosen_tokens() {
        for good in ["root", "x", &"é".repeat(256)] {
            assert!(validate_chosen_token(good).is_ok());
        }
        for bad in ["", &"x".repeat(257), "a\nb", "a\0"] {
            assert!(validate_chosen_token(bad).is_err());
        }
    }

    #[test]
    fn hash_depends_on_key_token_and_barrier() {
        let secret = [7u8; 32];
        let aes = TokenKey::new(
            SecretBytes::from_slice(&secret),
            BarrierAlgorithm::Aes256Gcm,
        )
        .unwrap();
        let sm = TokenKey::new(SecretBytes::from_slice(&secret), BarrierAlgorithm::Sm4Gcm).unwrap();
        let other = TokenKey::new(
            SecretBytes::from_slice(&[8u8; 32]),
            BarrierAlgorithm::Aes256Gcm,
        )
        .unwrap();
        let e = aes.record_entry("ys.token");
        assert_eq!(e.len(), "auth/token/".len() + 64);
        assert_eq!(e, aes.record_entry("ys.token"), "deterministic");
        assert_eq!(
            e,
            format!(
                "auth/token/{}",
                hex::encode(mac::hmac(HashAlgorithm::Sha256, &secret, b"ys.token"))
            )
        );
        assert_eq!(
            sm.record_entry("ys.token"),
            format!(
                "auth/token/{}",
                hex::encode(mac::hmac(HashAlgorithm::Sm3, &secret, b"ys.token"))
            )
        );
        assert_ne!(e, sm.record_entry("ys.token"));
        assert_ne!(e, other.record_entry("ys.token"));
        assert_ne!(e, aes.record_entry("ys.tokem"));
        assert!(
            TokenKey::new(SecretBytes::from_slice(&[0; 16]), BarrierAlgorithm::Sm4Gcm).is_err()
        );
        assert_eq!(format!("{aes:?}"), "TokenKey(..)");
    }
}
