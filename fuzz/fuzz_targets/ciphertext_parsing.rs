//! Arbitrary strings through `vault:v<N>:` parsing, and arbitrary payloads
//! through the parsers behind decrypt: AEAD open (AES-256-GCM, SM4-GCM,
//! ChaCha20-Poly1305) with fixed keys, SM2 ciphertext DER/raw parsing and
//! decryption, RSA-OAEP decryption, AES-KWP and the BYOK envelope. A
//! full `Kms` per input would be far too slow for a fuzz loop.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use yaoshi_core::key::versioned;
use yaoshi_crypto::aead::{AeadAlgorithm, AeadKey};
use yaoshi_crypto::keywrap;
use yaoshi_crypto::rsa::{RsaBits, RsaPrivateKey};
use yaoshi_crypto::sm2::{self, RawOrder, Sm2PrivateKey};

struct Keys {
    aead: Vec<AeadKey>,
    sm2: Sm2PrivateKey,
    rsa: RsaPrivateKey,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        aead: [
            AeadAlgorithm::Aes256Gcm,
            AeadAlgorithm::Sm4Gcm,
            AeadAlgorithm::ChaCha20Poly1305,
        ]
        .into_iter()
        .map(|alg| AeadKey::new(alg, &vec![0x42; alg.key_len()]).expect("fixed AEAD key"))
        .collect(),
        sm2: Sm2PrivateKey::from_bytes(&[0x11; 32]).expect("fixed SM2 scalar"),
        rsa: RsaPrivateKey::generate(RsaBits::Rsa2048).expect("RSA key"),
    })
}

fn payload(keys: &Keys, bytes: &[u8]) {
    for key in &keys.aead {
        // A forged tag would need 2^-128 luck; any Ok is a real bug.
        assert!(
            key.decrypt(b"", bytes).is_err(),
            "{:?} accepted a forgery",
            key.algorithm()
        );
    }
    let _ = keys.sm2.decrypt(bytes);
    for order in [RawOrder::C1C3C2, RawOrder::C1C2C3] {
        if let Ok(raw) = sm2::der_to_raw(bytes, order) {
            // What converts one way converts back to the same DER.
            let der = sm2::raw_to_der(&raw, order).expect("raw form of a parsed ciphertext");
            let _ = keys.sm2.decrypt(&der);
        }
        let _ = sm2::raw_to_der(bytes, order);
    }
    let _ = keys.rsa.decrypt_oaep_sha256(bytes);
    let _ = keywrap::aes_kwp_unwrap(&[0x24; 32], bytes);
    let _ = keywrap::byok_unwrap(&keys.rsa, bytes);
}

fuzz_target!(|data: &[u8]| {
    let keys = keys();
    let text = String::from_utf8_lossy(data);
    match versioned::parse(&text, "ciphertext") {
        Ok((version, bytes)) => {
            assert!(version >= 1);
            assert_eq!(
                versioned::parse(&versioned::format(version, &bytes), "ciphertext"),
                Ok((version, bytes.clone()))
            );
            payload(keys, &bytes);
        }
        Err(e) => assert!(e.to_string().starts_with("invalid ciphertext"), "{e}"),
    }
    payload(keys, data);
});
