//! Shared set-up for the Kms integration tests: stores on both back ends and
//! unsealed services over them.

#![allow(dead_code)]

use std::sync::Arc;
use yaoshi_core::kms::{InitRequest, InitSeal};
use yaoshi_core::store::Store;
use yaoshi_core::{Kms, KmsOptions};

/// An in-memory SQLite store.
pub async fn sqlite_memory() -> Arc<dyn Store> {
    yaoshi_store::open("sqlite::memory:")
        .await
        .expect("sqlite memory store")
}

/// A service initialised with the dev seal (unsealed, root key in memory).
pub async fn dev_kms(store: Arc<dyn Store>) -> Kms {
    let kms = Kms::new(store, KmsOptions::default());
    kms.init(InitRequest::new(InitSeal::Dev))
        .await
        .expect("init");
    kms
}

/// Base64 (standard) helpers.
pub fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Decodes standard base64.
pub fn unb64(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

/// The payload of a `vault:v<N>:` string.
pub fn payload(versioned: &str) -> (i64, Vec<u8>) {
    let rest = versioned.strip_prefix("vault:v").expect("prefix");
    let (v, p) = rest.split_once(':').expect("fields");
    (v.parse().expect("version"), unb64(p))
}

/// A service initialised with a 1-of-1 Shamir seal and unsealed; the share
/// lets a new process (or a new `Kms` over the same store) unseal again.
pub async fn restartable(store: Arc<dyn Store>) -> (Kms, Vec<u8>) {
    let kms = Kms::new(store, KmsOptions::default());
    let init = kms
        .init(InitRequest::new(InitSeal::Shamir {
            shares: 1,
            threshold: 1,
        }))
        .await
        .expect("init");
    let share = init.shares[0].expose().to_vec();
    kms.unseal(&share).await.expect("unseal");
    (kms, share)
}

/// Encrypts `plaintext` under `name` in `namespace` and checks it decrypts back.
pub async fn assert_round_trip(kms: &Kms, namespace: &str, name: &str, plaintext: &[u8]) {
    use yaoshi_core::kms::encryption::{DecryptRequest, EncryptRequest};
    let ct = kms
        .encrypt(namespace, name, plaintext, EncryptRequest::default())
        .await
        .unwrap_or_else(|e| panic!("{name}: encrypt: {e}"));
    let opened = kms
        .decrypt(namespace, name, &ct, DecryptRequest::default())
        .await
        .unwrap_or_else(|e| panic!("{name}: decrypt: {e}"));
    assert_eq!(opened.expose(), plaintext, "{name}");
}
