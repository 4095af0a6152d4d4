//! Shamir secret sharing over GF(256) (via `blahaj`) with an integrity check.
//!
//! Plain Shamir cannot tell a wrong share from a right one, so yaoshi shares
//! `secret || tag`, where `tag` is the first 16 bytes of
//! `SHA-256("yaoshi shamir v1" || secret)`; combining recomputes and compares it
//! in constant time. Each share is encoded as
//! `version (1) || threshold (1) || x (1) || y (len(secret) + 16)`.

use crate::error::{CryptoError, Result};
use crate::hash::{HashAlgorithm, digest};
use crate::secret::{SecretBytes, ct_eq};
use blahaj::{Share, Sharks};
use std::collections::BTreeSet;
use zeroize::Zeroizing;

const VERSION: u8 = 1;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 3;
const DOMAIN: &[u8] = b"yaoshi shamir v1";
/// Largest secret that can be shared.
pub const MAX_SECRET_LEN: usize = 1024;

fn tag(secret: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut input = Zeroizing::new(Vec::with_capacity(DOMAIN.len() + secret.len()));
    input.extend_from_slice(DOMAIN);
    input.extend_from_slice(secret);
    let mut full = Zeroizing::new(digest(HashAlgorithm::Sha256, &input));
    full.truncate(TAG_LEN);
    full
}

/// Length of each share of a `secret_len`-byte secret.
pub const fn share_len(secret_len: usize) -> usize {
    HEADER_LEN + secret_len + TAG_LEN
}

/// The threshold recorded in a share, if it has this module's share layout.
pub fn share_threshold(share: &[u8]) -> Option<u8> {
    (share.len() > HEADER_LEN + TAG_LEN && share[0] == VERSION).then(|| share[1])
}

/// Splits `secret` into `shares` shares, any `threshold` of which recover it.
pub fn split(secret: &[u8], shares: u8, threshold: u8) -> Result<Vec<SecretBytes>> {
    if secret.is_empty() || secret.len() > MAX_SECRET_LEN {
        return Err(CryptoError::InvalidInput("secret must be 1 to 1024 bytes"));
    }
    if threshold == 0 || shares == 0 || threshold > shares {
        return Err(CryptoError::InvalidInput(
            "need 1 <= threshold <= shares <= 255",
        ));
    }
    if threshold == 1 && shares > 1 {
        return Err(CryptoError::InvalidInput(
            "threshold 1 is only allowed with a single share",
        ));
    }
    let mut payload = Zeroizing::new(Vec::with_capacity(secret.len() + TAG_LEN));
    payload.extend_from_slice(secret);
    payload.extend_from_slice(&tag(secret));
    Ok(Sharks(threshold)
        .dealer(&payload)
        .take(usize::from(shares))
        .map(|share| {
            let body = Zeroizing::new(Vec::<u8>::from(&share));
            let mut encoded = Vec::with_capacity(HEADER_LEN - 1 + body.len());
            encoded.push(VERSION);
            encoded.push(threshold);
            encoded.extend_from_slice(&body);
            SecretBytes::new(encoded)
        })
        .collect())
}

/// Recovers the secret from at least `threshold` distinct shares.
pub fn combine(shares: &[&[u8]]) -> Result<SecretBytes> {
    let first = shares
        .first()
        .ok_or(CryptoError::InvalidShares("no shares given"))?;
    if first.len() < HEADER_LEN + TAG_LEN + 1 {
        return Err(CryptoError::InvalidShares("share too short"));
    }
    let threshold = first[1];
    let mut seen = BTreeSet::new();
    let mut parsed = Vec::with_capacity(shares.len());
    for share in shares {
        if share.len() != first.len() {
            return Err(CryptoError::InvalidShares("shares have different lengths"));
        }
        if share[0] != VERSION {
            return Err(CryptoError::InvalidShares("unknown share version"));
        }
        if share[1] != threshold || threshold == 0 {
            return Err(CryptoError::InvalidShares(
                "shares disagree on the threshold",
            ));
        }
        let x = share[2];
        if x == 0 {
            return Err(CryptoError::InvalidShares("share index 0 is invalid"));
        }
        if !seen.insert(x) {
            return Err(CryptoError::InvalidShares("the same share was given twice"));
        }
        parsed.push(
            Share::try_from(&share[2..])
                .map_err(|_| CryptoError::InvalidShares("malformed share"))?,
        );
    }
    if parsed.len() < usize::from(threshold) {
        return Err(CryptoError::InvalidShares(
            "fewer shares than the threshold",
        ));
    }
    let payload = Zeroizing::new(
        Sharks(threshold)
            .recover(&parsed)
            .map_err(|_| CryptoError::InvalidShares("shares cannot be combined"))?,
    );
    let (secret, stored_tag) = payload.split_at(payload.len() - TAG_LEN);
    if !ct_eq(&tag(secret), stored_tag) {
        return Err(CryptoError::InvalidShares(
            "shares do not combine to a valid secret",
        ));
    }
    Ok(SecretBytes::from_slice(secret))
}
