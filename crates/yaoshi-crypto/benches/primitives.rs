//! Criterion benchmarks for the primitives `yaoshi bench crypto` reports:
//! AEAD and SM4 throughput on 16 KiB messages, hashing, and signature rates.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use yaoshi_crypto::aead::{AeadAlgorithm, AeadKey};
use yaoshi_crypto::ecdsa::{EcdsaCurve, EcdsaPrivateKey};
use yaoshi_crypto::ed25519::Ed25519PrivateKey;
use yaoshi_crypto::hash::{self, HashAlgorithm};
use yaoshi_crypto::sm2::{DEFAULT_SIGNER_ID, Sm2PrivateKey, Sm2PublicKey};
use yaoshi_crypto::sm4;

const MESSAGE_LEN: usize = 16 * 1024;

fn symmetric(c: &mut Criterion) {
    let message = vec![0x5a_u8; MESSAGE_LEN];
    let nonce = [7u8; 12];
    let mut group = c.benchmark_group("symmetric-16KiB");
    group.throughput(Throughput::Bytes(MESSAGE_LEN as u64));
    for algorithm in AeadAlgorithm::ALL {
        let key = AeadKey::new(algorithm, algorithm.generate_key().unwrap().expose()).unwrap();
        group.bench_function(format!("{}/encrypt", algorithm.name()), |b| {
            b.iter(|| key.seal(&nonce, b"", black_box(&message)).unwrap())
        });
        let sealed = key.seal(&nonce, b"", &message).unwrap();
        group.bench_function(format!("{}/decrypt", algorithm.name()), |b| {
            b.iter(|| key.open(&nonce, b"", black_box(&sealed)).unwrap())
        });
    }
    let key = [0x11u8; 16];
    let iv = [0x22u8; 16];
    group.bench_function("sm4-ctr/encrypt", |b| {
        b.iter(|| sm4::ctr_apply(&key, &iv, black_box(&message)).unwrap())
    });
    group.bench_function("sm4-cbc/encrypt", |b| {
        b.iter(|| sm4::cbc_encrypt(&key, &iv, black_box(&message)).unwrap())
    });
    for algorithm in HashAlgorithm::ALL {
        group.bench_function(format!("{}/hash", algorithm.vault_name()), |b| {
            b.iter(|| hash::digest(algorithm, black_box(&message)))
        });
    }
    group.finish();
}

fn signatures(c: &mut Criterion) {
    let message = [0x42u8; 32];
    let mut group = c.benchmark_group("signatures");
    let sm2 = Sm2PrivateKey::generate().unwrap();
    group.bench_function("sm2/sign", |b| {
        b.iter(|| sm2.sign(DEFAULT_SIGNER_ID, black_box(&message)).unwrap())
    });
    let signature = sm2.sign(DEFAULT_SIGNER_ID, &message).unwrap();
    group.bench_function("sm2/verify", |b| {
        b.iter(|| {
            sm2.public_key()
                .verify(DEFAULT_SIGNER_ID, black_box(&message), &signature)
                .unwrap()
        })
    });
    // A key object verifying for the first time (no per-key table yet, Z computed).
    let sec1 = sm2.public_key().to_sec1_uncompressed();
    group.bench_function("sm2/verify-first-use", |b| {
        b.iter(|| {
            Sm2PublicKey::from_sec1_bytes(black_box(&sec1))
                .unwrap()
                .verify(DEFAULT_SIGNER_ID, black_box(&message), &signature)
                .unwrap()
        })
    });
    group.bench_function("sm2/encrypt", |b| {
        b.iter(|| sm2.public_key().encrypt(black_box(&message)).unwrap())
    });
    let ciphertext = sm2.public_key().encrypt(&message).unwrap();
    group.bench_function("sm2/decrypt", |b| {
        b.iter(|| sm2.decrypt(black_box(&ciphertext)).unwrap())
    });
    let p256 = EcdsaPrivateKey::generate(EcdsaCurve::P256).unwrap();
    group.bench_function("ecdsa-p256/sign", |b| {
        b.iter(|| {
            p256.sign(HashAlgorithm::Sha256, black_box(&message))
                .unwrap()
        })
    });
    let signature = p256.sign(HashAlgorithm::Sha256, &message).unwrap();
    let public = p256.public_key();
    group.bench_function("ecdsa-p256/verify", |b| {
        b.iter(|| {
            public
                .verify(HashAlgorithm::Sha256, black_box(&message), &signature)
                .unwrap()
        })
    });
    let ed = Ed25519PrivateKey::generate().unwrap();
    group.bench_function("ed25519/sign", |b| b.iter(|| ed.sign(black_box(&message))));
    group.finish();
}

criterion_group!(benches, symmetric, signatures);
criterion_main!(benches);
