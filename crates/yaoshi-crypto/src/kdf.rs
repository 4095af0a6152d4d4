//! HKDF (RFC 5869) with SM3 or SHA-2.

use crate::error::{CryptoError, Result};
use crate::hash::HashAlgorithm;
use aws_lc_rs::hkdf as awslc;
use zeroize::Zeroizing;

/// Derives `len` bytes with HKDF-`algorithm` from `ikm`, `salt` and `info`.
///
/// `len` may be at most 255 times the digest length, as RFC 5869 requires.
pub fn hkdf(
    algorithm: HashAlgorithm,
    ikm: &[u8],
    salt: &[u8],
    info: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>> {
    if len == 0 || len > 255 * algorithm.output_len() {
        return Err(CryptoError::InvalidInput("HKDF output length out of range"));
    }
    let mut okm = Zeroizing::new(vec![0u8; len]);
    match algorithm {
        HashAlgorithm::Sm3 => {
            hkdf::Hkdf::<sm3::Sm3>::new(Some(salt), ikm)
                .expand(info, &mut okm)
                .map_err(|_| CryptoError::InvalidInput("HKDF output length out of range"))?;
        }
        HashAlgorithm::Sha256 => aws_hkdf(awslc::HKDF_SHA256, ikm, salt, info, &mut okm)?,
        HashAlgorithm::Sha384 => aws_hkdf(awslc::HKDF_SHA384, ikm, salt, info, &mut okm)?,
        HashAlgorithm::Sha512 => aws_hkdf(awslc::HKDF_SHA512, ikm, salt, info, &mut okm)?,
    }
    Ok(okm)
}

struct OutputLen(usize);

impl awslc::KeyType for OutputLen {
    fn len(&self) -> usize {
        self.0
    }
}

fn aws_hkdf(
    algorithm: awslc::Algorithm,
    ikm: &[u8],
    salt: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<()> {
    let prk = awslc::Salt::new(algorithm, salt).extract(ikm);
    let info = [info];
    let okm = prk
        .expand(&info, OutputLen(out.len()))
        .map_err(|_| CryptoError::InvalidInput("HKDF output length out of range"))?;
    okm.fill(out).map_err(|_| CryptoError::Internal("HKDF"))
}
