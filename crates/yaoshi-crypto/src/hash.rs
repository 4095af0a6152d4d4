//! Message digests: SM3 (GB/T 32905) and SHA-2.

use crate::error::{CryptoError, Result};
use aws_lc_rs::digest as awslc;
use sm3::Digest as _;

/// A hash function yaoshi offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SM3, 256-bit output (GB/T 32905-2016).
    Sm3,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// Every supported algorithm, for iteration in tests and benchmarks.
    pub const ALL: [HashAlgorithm; 4] = [Self::Sm3, Self::Sha256, Self::Sha384, Self::Sha512];

    /// Digest length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            Self::Sm3 | Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The name Vault/OpenBao uses (`sha2-256`, ...; `sm3` for SM3).
    pub const fn vault_name(self) -> &'static str {
        match self {
            Self::Sm3 => "sm3",
            Self::Sha256 => "sha2-256",
            Self::Sha384 => "sha2-384",
            Self::Sha512 => "sha2-512",
        }
    }

    /// Parses a Vault/OpenBao algorithm name; also accepts `sha256`-style names.
    pub fn from_name(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "sm3" => Ok(Self::Sm3),
            "sha2-256" | "sha256" | "sha-256" => Ok(Self::Sha256),
            "sha2-384" | "sha384" | "sha-384" => Ok(Self::Sha384),
            "sha2-512" | "sha512" | "sha-512" => Ok(Self::Sha512),
            _ => Err(CryptoError::Unsupported("hash algorithm")),
        }
    }

    pub(crate) fn aws_lc(self) -> Option<&'static awslc::Algorithm> {
        match self {
            Self::Sm3 => None,
            Self::Sha256 => Some(&awslc::SHA256),
            Self::Sha384 => Some(&awslc::SHA384),
            Self::Sha512 => Some(&awslc::SHA512),
        }
    }
}

/// Hashes `data` in one call.
pub fn digest(algorithm: HashAlgorithm, data: &[u8]) -> Vec<u8> {
    match algorithm.aws_lc() {
        Some(alg) => awslc::digest(alg, data).as_ref().to_vec(),
        None => sm3::Sm3::digest(data).to_vec(),
    }
}

/// Hashes `data` with an algorithm named as Vault's `hash` endpoint names
/// them: the [`HashAlgorithm`] names plus `sha2-224`, `sha2-512/256` and
/// `sha3-256`/`sha3-384`/`sha3-512`, which yaoshi offers for plain hashing
/// only (not for signatures or HMAC keys).
pub fn digest_named(name: &str, data: &[u8]) -> Result<Vec<u8>> {
    let extra = match name.to_ascii_lowercase().as_str() {
        "sha2-224" => Some(&awslc::SHA224),
        "sha2-512/256" => Some(&awslc::SHA512_256),
        "sha3-256" => Some(&awslc::SHA3_256),
        "sha3-384" => Some(&awslc::SHA3_384),
        "sha3-512" => Some(&awslc::SHA3_512),
        _ => None,
    };
    match extra {
        Some(alg) => Ok(awslc::digest(alg, data).as_ref().to_vec()),
        None => Ok(digest(HashAlgorithm::from_name(name)?, data)),
    }
}

/// SM3 of `data` as a fixed array.
pub fn sm3(data: &[u8]) -> [u8; 32] {
    sm3::Sm3::digest(data).into()
}

/// An incremental hash over data that arrives in pieces.
pub struct Hasher(HasherState);

enum HasherState {
    Sm3(Box<sm3::Sm3>),
    AwsLc(awslc::Context),
}

impl Hasher {
    /// Starts a new hash computation.
    pub fn new(algorithm: HashAlgorithm) -> Self {
        match algorithm.aws_lc() {
            Some(alg) => Self(HasherState::AwsLc(awslc::Context::new(alg))),
            None => Self(HasherState::Sm3(Box::default())),
        }
    }

    /// Feeds more data.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            HasherState::Sm3(h) => h.update(data),
            HasherState::AwsLc(c) => c.update(data),
        }
    }

    /// Finishes and returns the digest.
    pub fn finish(self) -> Vec<u8> {
        match self.0 {
            HasherState::Sm3(h) => h.finalize().to_vec(),
            HasherState::AwsLc(c) => c.finish().as_ref().to_vec(),
        }
    }
}

/// Wraps an existing SHA-2 digest for aws-lc-rs prehash signing.
pub(crate) fn aws_lc_digest(algorithm: HashAlgorithm, digest: &[u8]) -> Result<awslc::Digest> {
    let alg = algorithm
        .aws_lc()
        .ok_or(CryptoError::Unsupported("SM3 prehash for this key type"))?;
    awslc::Digest::import_less_safe(digest, alg)
        .map_err(|_| CryptoError::InvalidInput("digest length does not match the hash algorithm"))
}
