//! HMAC with SM3 and SHA-2, with constant-time verification.

use crate::error::{CryptoError, Result};
use crate::hash::HashAlgorithm;
use crate::secret::ct_eq;
use aws_lc_rs::hmac as awslc;
use hmac::{KeyInit, Mac};

/// Computes HMAC-`algorithm`(`key`, `data`).
pub fn hmac(algorithm: HashAlgorithm, key: &[u8], data: &[u8]) -> Vec<u8> {
    match algorithm {
        HashAlgorithm::Sm3 => {
            // HMAC accepts keys of any length, so construction cannot fail.
            let mut mac = <hmac::Hmac<sm3::Sm3> as KeyInit>::new_from_slice(key)
                .expect("HMAC takes keys of any length");
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        HashAlgorithm::Sha256 => aws_hmac(awslc::HMAC_SHA256, key, data),
        HashAlgorithm::Sha384 => aws_hmac(awslc::HMAC_SHA384, key, data),
        HashAlgorithm::Sha512 => aws_hmac(awslc::HMAC_SHA512, key, data),
    }
}

fn aws_hmac(algorithm: awslc::Algorithm, key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = awslc::Key::new(algorithm, key);
    awslc::sign(&key, data).as_ref().to_vec()
}

/// Checks `tag` against HMAC-`algorithm`(`key`, `data`) in constant time.
///
/// Truncated tags are rejected: the tag must be the full digest length.
pub fn hmac_verify(algorithm: HashAlgorithm, key: &[u8], data: &[u8], tag: &[u8]) -> Result<()> {
    let expected = hmac(algorithm, key, data);
    if ct_eq(&expected, tag) {
        Ok(())
    } else {
        Err(CryptoError::InvalidSignature)
    }
}
