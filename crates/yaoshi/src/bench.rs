//! `yaoshi bench crypto`: an `openssl speed`-style measurement of the
//! primitives in `yaoshi-crypto`, single-threaded, 16 KiB messages for
//! throughput figures.

use std::hint::black_box;
use std::time::{Duration, Instant};
use yaoshi_crypto::aead::{AeadAlgorithm, AeadKey};
use yaoshi_crypto::ecdsa::{EcdsaCurve, EcdsaPrivateKey};
use yaoshi_crypto::ed25519::Ed25519PrivateKey;
use yaoshi_crypto::hash::{self, HashAlgorithm};
use yaoshi_crypto::sm2::{DEFAULT_SIGNER_ID, Sm2PrivateKey};
use yaoshi_crypto::{CryptoError, sm4};

/// Message size for throughput figures.
pub const MESSAGE_LEN: usize = 16 * 1024;
/// Message size for signatures.
const SIGN_MESSAGE_LEN: usize = 32;

/// One measured figure.
pub struct Figure {
    /// JSON key, e.g. `sm4-gcm96.encrypt_mb_s`.
    pub key: String,
    /// Value in MB/s (10^6 bytes) or operations per second.
    pub value: f64,
}

/// Runs `op` repeatedly for about `budget` and returns calls per second.
fn rate(
    budget: Duration,
    mut op: impl FnMut() -> Result<(), CryptoError>,
) -> Result<f64, CryptoError> {
    op()?; // warm up, and fail early on error
    let start = Instant::now();
    let mut calls: u64 = 0;
    let mut batch: u64 = 1;
    loop {
        for _ in 0..batch {
            op()?;
        }
        calls += batch;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return Ok(calls as f64 / elapsed.as_secs_f64());
        }
        batch = (batch * 2).min(1 << 16);
    }
}

fn throughput(
    budget: Duration,
    op: impl FnMut() -> Result<(), CryptoError>,
) -> Result<f64, CryptoError> {
    Ok(rate(budget, op)? * MESSAGE_LEN as f64 / 1e6)
}

/// Measures every primitive for about `budget` each.
pub fn run(budget: Duration) -> Result<Vec<Figure>, CryptoError> {
    let mut figures = Vec::new();
    let mut push = |key: &str, value: f64| {
        figures.push(Figure {
            key: key.to_string(),
            value,
        })
    };
    let message = vec![0x5a_u8; MESSAGE_LEN];
    let nonce = [7u8; 12];

    for (name, algorithm) in [
        ("sm4-gcm96", AeadAlgorithm::Sm4Gcm),
        ("aes128-gcm96", AeadAlgorithm::Aes128Gcm),
        ("aes256-gcm96", AeadAlgorithm::Aes256Gcm),
        ("chacha20-poly1305", AeadAlgorithm::ChaCha20Poly1305),
    ] {
        let key = AeadKey::new(algorithm, algorithm.generate_key()?.expose())?;
        push(
            &format!("{name}.encrypt_mb_s"),
            throughput(budget, || {
                key.seal(&nonce, b"", black_box(&message)).map(drop)
            })?,
        );
        let sealed = key.seal(&nonce, b"", &message)?;
        push(
            &format!("{name}.decrypt_mb_s"),
            throughput(budget, || {
                key.open(&nonce, b"", black_box(&sealed)).map(drop)
            })?,
        );
    }

    let sm4_key = [0x11u8; 16];
    let iv = [0x22u8; 16];
    push(
        "sm4-ctr.encrypt_mb_s",
        throughput(budget, || {
            sm4::ctr_apply(&sm4_key, &iv, black_box(&message)).map(drop)
        })?,
    );
    push(
        "sm4-cbc.encrypt_mb_s",
        throughput(budget, || {
            sm4::cbc_encrypt(&sm4_key, &iv, black_box(&message)).map(drop)
        })?,
    );

    for (name, algorithm) in [
        ("sm3", HashAlgorithm::Sm3),
        ("sha2-256", HashAlgorithm::Sha256),
        ("sha2-512", HashAlgorithm::Sha512),
    ] {
        push(
            &format!("{name}.hash_mb_s"),
            throughput(budget, || {
                black_box(hash::digest(algorithm, black_box(&message)));
                Ok(())
            })?,
        );
    }

    let small = [0x42u8; SIGN_MESSAGE_LEN];
    let sm2 = Sm2PrivateKey::generate()?;
    push(
        "sm2.sign_ops_s",
        rate(budget, || {
            sm2.sign(DEFAULT_SIGNER_ID, black_box(&small)).map(drop)
        })?,
    );
    let sm2_signature = sm2.sign(DEFAULT_SIGNER_ID, &small)?;
    push(
        "sm2.verify_ops_s",
        rate(budget, || {
            sm2.public_key()
                .verify(DEFAULT_SIGNER_ID, black_box(&small), &sm2_signature)
        })?,
    );
    push(
        "sm2.encrypt_ops_s",
        rate(budget, || {
            sm2.public_key().encrypt(black_box(&small)).map(drop)
        })?,
    );
    let sm2_ciphertext = sm2.public_key().encrypt(&small)?;
    push(
        "sm2.decrypt_ops_s",
        rate(budget, || sm2.decrypt(black_box(&sm2_ciphertext)).map(drop))?,
    );

    for (name, curve) in [
        ("ecdsa-p256", EcdsaCurve::P256),
        ("ecdsa-p384", EcdsaCurve::P384),
    ] {
        let key = EcdsaPrivateKey::generate(curve)?;
        let hash = curve.native_hash();
        push(
            &format!("{name}.sign_ops_s"),
            rate(budget, || key.sign(hash, black_box(&small)).map(drop))?,
        );
        let signature = key.sign(hash, &small)?;
        let public = key.public_key();
        push(
            &format!("{name}.verify_ops_s"),
            rate(budget, || {
                public.verify(hash, black_box(&small), &signature)
            })?,
        );
    }

    let ed = Ed25519PrivateKey::generate()?;
    push(
        "ed25519.sign_ops_s",
        rate(budget, || {
            black_box(ed.sign(black_box(&small)));
            Ok(())
        })?,
    );
    let ed_signature = ed.sign(&small);
    let ed_public = ed.public_key();
    push(
        "ed25519.verify_ops_s",
        rate(budget, || {
            ed_public.verify(black_box(&small), &ed_signature)
        })?,
    );
    Ok(figures)
}

/// One JSON object, keys as in [`Figure::key`], values rounded to 0.01.
pub fn to_json(figures: &[Figure]) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = figures
        .iter()
        .map(|f| {
            (
                f.key.clone(),
                serde_json::json!((f.value * 100.0).round() / 100.0),
            )
        })
        .collect();
    serde_json::Value::Object(map)
}

/// A human-readable table.
pub fn to_table(figures: &[Figure]) -> String {
    let mut out = format!(
        "yaoshi bench crypto (single core; throughput on {} KiB messages)\n",
        MESSAGE_LEN / 1024
    );
    for f in figures {
        out.push_str(&format!("{:<32} {:>14.1}\n", f.key, f.value));
    }
    out
}
