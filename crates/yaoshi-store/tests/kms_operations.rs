//! Every `Kms` operation for every key type, with its refusals, on SQLite
//! (one test per check) and on a throwaway PostgreSQL cluster (all checks in
//! one test, against one cluster).

mod support;

use std::collections::BTreeMap;
use support::{b64, dev_kms, payload, unb64};
use yaoshi_core::key::{KeyState, KeyType};
use yaoshi_core::kms::encryption::{DecryptRequest, EncryptRequest};
use yaoshi_core::kms::export::ExportKind;
use yaoshi_core::kms::import::{ImportRequest, WrappingAlgorithm};
use yaoshi_core::kms::lifecycle::{CreateKeyRequest, KeyConfigUpdate};
use yaoshi_core::kms::signing::SignRequest;
use yaoshi_core::{Kms, KmsError};
use yaoshi_crypto::aead::{AeadAlgorithm, AeadKey};
use yaoshi_crypto::ecdsa::{EcdsaPrivateKey, EcdsaPublicKey};
use yaoshi_crypto::ed25519::{Ed25519PrivateKey, Ed25519PublicKey};
use yaoshi_crypto::hash::HashAlgorithm;
use yaoshi_crypto::rsa::{RsaPadding, RsaPublicKey};
use yaoshi_crypto::sm2::{Sm2PrivateKey, Sm2PublicKey};
use yaoshi_crypto::{keywrap, mac};

const NS: &str = "transit";

fn typed(t: KeyType) -> CreateKeyRequest {
    CreateKeyRequest {
        key_type: Some(t),
        ..CreateKeyRequest::default()
    }
}

fn exportable(t: KeyType) -> CreateKeyRequest {
    CreateKeyRequest {
        exportable: true,
        ..typed(t)
    }
}

async fn create(kms: &Kms, name: &str, request: CreateKeyRequest) {
    let (info, created) = kms.create_key(NS, name, request).await.expect("create");
    assert!(created, "{name} was created");
    assert_eq!(info.policy.latest_version, 1);
}

fn message(err: KmsError) -> String {
    err.to_string()
}

/// Asserts a client error with exactly `expected` as its message.
fn refused<T: std::fmt::Debug>(result: Result<T, KmsError>, expected: &str) {
    let err = result.expect_err(expected);
    assert!(err.is_client_error(), "{err:?}");
    assert_eq!(message(err), expected);
}

const AEAD_TYPES: [KeyType; 4] = [
    KeyType::Aes128Gcm96,
    KeyType::Aes256Gcm96,
    KeyType::Chacha20Poly1305,
    KeyType::Sm4Gcm96,
];

async fn symmetric_encrypt_decrypt_rotate_rewrap(kms: &Kms) {
    for t in AEAD_TYPES {
        let name = format!("sym-{t}");
        create(kms, &name, typed(t)).await;
        let ad = Some(&b"row 42"[..]);
        let req = EncryptRequest {
            associated_data: ad,
            ..EncryptRequest::default()
        };
        let ct = kms.encrypt(NS, &name, b"hello sm4", req).await.unwrap();
        let (v, body) = payload(&ct);
        assert_eq!(v, 1);
        assert_eq!(body.len(), 12 + 9 + 16, "{t}: nonce || ciphertext || tag");
        let dec = DecryptRequest {
            associated_data: ad,
            ..DecryptRequest::default()
        };
        assert_eq!(
            kms.decrypt(NS, &name, &ct, dec).await.unwrap().expose(),
            b"hello sm4"
        );
        let wrong_ad = DecryptRequest {
            associated_data: Some(b"row 43"),
            ..DecryptRequest::default()
        };
        let err = kms.decrypt(NS, &name, &ct, wrong_ad).await.unwrap_err();
        assert!(
            err.is_client_error() && message(err).contains("authentication"),
            "{t}"
        );
        let err = kms
            .decrypt(NS, &name, "vault:v1:AAAA", dec)
            .await
            .unwrap_err();
        assert!(err.is_client_error(), "{t}");

        let info = kms.rotate_key(NS, &name).await.unwrap();
        assert_eq!(info.policy.latest_version, 2);
        let ct2 = kms.encrypt(NS, &name, b"second", req).await.unwrap();
        assert!(ct2.starts_with("vault:v2:"));
        let rewrapped = kms.rewrap(NS, &name, &ct, dec, 0).await.unwrap();
        assert!(rewrapped.starts_with("vault:v2:"), "{t}");
        assert_eq!(
            kms.decrypt(NS, &name, &rewrapped, dec)
                .await
                .unwrap()
                .expose(),
            b"hello sm4"
        );
        assert_eq!(
            kms.decrypt(NS, &name, &ct, dec).await.unwrap().expose(),
            b"hello sm4"
        );

        // Encrypting with an explicit old version, then forbidding it.
        let old = EncryptRequest {
            key_version: 1,
            ..req
        };
        assert!(
            kms.encrypt(NS, &name, b"x", old)
                .await
                .unwrap()
                .starts_with("vault:v1:")
        );
        kms.configure_key(
            NS,
            &name,
            KeyConfigUpdate {
                min_decryption_version: Some(2),
                min_encryption_version: Some(2),
                ..KeyConfigUpdate::default()
            },
        )
        .await
        .unwrap();
        let err = kms.decrypt(NS, &name, &ct, dec).await.unwrap_err();
        assert_eq!(
            message(err),
            "ciphertext or signature version is disallowed by policy (too old)"
        );
        let err = kms.encrypt(NS, &name, b"x", old).await.unwrap_err();
        assert!(message(err).contains("less than the minimum encryption key version"));
        let future = "vault:v9:".to_string() + &ct["vault:v1:".len()..];
        assert!(
            message(kms.decrypt(NS, &name, &future, dec).await.unwrap_err()).contains("too new")
        );
    }
}

async fn derived_keys_need_and_bind_context(kms: &Kms) {
    for t in AEAD_TYPES {
        let name = format!("derived-{t}");
        create(
            kms,
            &name,
            CreateKeyRequest {
                derived: true,
                ..typed(t)
            },
        )
        .await;
        let err = kms
            .encrypt(NS, &name, b"secret", EncryptRequest::default())
            .await
            .unwrap_err();
        assert!(message(err).contains("missing 'context'"), "{t}");
        let with = |c: &'static [u8]| EncryptRequest {
            context: Some(c),
            ..EncryptRequest::default()
        };
        let ct = kms
            .encrypt(NS, &name, b"secret", with(b"tenant-a"))
            .await
            .unwrap();
        let dec = |c: &'static [u8]| DecryptRequest {
            context: Some(c),
            ..DecryptRequest::default()
        };
        assert_eq!(
            kms.decrypt(NS, &name, &ct, dec(b"tenant-a"))
                .await
                .unwrap()
                .expose(),
            b"secret"
        );
        assert!(
            kms.decrypt(NS, &name, &ct, dec(b"tenant-b")).await.is_err(),
            "{t}"
        );
    }
    let err = kms
        .create_key(
            NS,
            "derived-ed",
            CreateKeyRequest {
                derived: true,
                ..typed(KeyType::Ed25519)
            },
        )
        .await
        .unwrap_err();
    assert!(message(err).contains("derivation is not supported"));
}

async fn datakeys_plaintext_and_wrapped(kms: &Kms) {
    create(kms, "dk", typed(KeyType::Sm4Gcm96)).await;
    for bits in [128, 256, 512] {
        let dk = kms
            .datakey(NS, "dk", bits, true, EncryptRequest::default())
            .await
            .unwrap();
        let plain = dk.plaintext.expect("plaintext requested");
        assert_eq!(plain.len(), bits / 8);
        let opened = kms
            .decrypt(NS, "dk", &dk.ciphertext, DecryptRequest::default())
            .await
            .unwrap();
        assert_eq!(opened.expose(), plain.expose());
    }
    let wrapped = kms
        .datakey(NS, "dk", 256, false, EncryptRequest::default())
        .await
        .unwrap();
    assert!(wrapped.plaintext.is_none());
    assert_eq!(wrapped.key_version, 1);
    assert!(
        message(
            kms.datakey(NS, "dk", 100, true, EncryptRequest::default())
                .await
                .unwrap_err()
        )
        .contains("bits")
    );
}

async fn rsa_and_sm2_encryption(kms: &Kms) {
    for t in [KeyType::Rsa2048, KeyType::Sm2] {
        let name = format!("asym-enc-{t}");
        create(kms, &name, typed(t)).await;
        let ct = kms
            .encrypt(NS, &name, b"short secret", EncryptRequest::default())
            .await
            .unwrap();
        let dec = kms
            .decrypt(NS, &name, &ct, DecryptRequest::default())
            .await
            .unwrap();
        assert_eq!(dec.expose(), b"short secret");
        let with_ad = EncryptRequest {
            associated_data: Some(b"ad"),
            ..EncryptRequest::default()
        };
        let err = kms.encrypt(NS, &name, b"x", with_ad).await.unwrap_err();
        assert!(
            message(err).contains("associated_data is not supported"),
            "{t}"
        );
    }
    // The SM2 ciphertext is GM/T 0009 DER that the public key's owner opens
    // with yaoshi-crypto directly (what docs/formats.md promises).
    let info = kms.read_key(NS, "asym-enc-sm2").await.unwrap();
    let pem = info.policy.versions[&1].public_key.clone().unwrap();
    let public = Sm2PublicKey::from_spki_pem(&pem).unwrap();
    let ct = kms
        .encrypt(NS, "asym-enc-sm2", b"gm/t 0009", EncryptRequest::default())
        .await
        .unwrap();
    assert_eq!(payload(&ct).1[0], 0x30, "DER SEQUENCE");
    let outside = public.encrypt(b"from outside").unwrap();
    let dec = kms
        .decrypt(
            NS,
            "asym-enc-sm2",
            &format!("vault:v1:{}", b64(&outside)),
            DecryptRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(dec.expose(), b"from outside");
}

async fn signatures_for_every_signing_type(kms: &Kms) {
    let msg = b"release-1.2.3.tar.gz";
    for t in [
        KeyType::Ed25519,
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::EcdsaP521,
        KeyType::Rsa2048,
        KeyType::Sm2,
    ] {
        let name = format!("sig-{t}");
        create(kms, &name, typed(t)).await;
        let sig = kms
            .sign(NS, &name, msg, SignRequest::default())
            .await
            .unwrap();
        assert!(sig.starts_with("vault:v1:"));
        assert!(
            kms.verify(NS, &name, msg, &sig, SignRequest::default())
                .await
                .unwrap(),
            "{t}"
        );
        assert!(
            !kms.verify(NS, &name, b"other", &sig, SignRequest::default())
                .await
                .unwrap(),
            "{t}"
        );

        // Independent verification with the public key from the key read.
        let pem = kms.read_key(NS, &name).await.unwrap().policy.versions[&1]
            .public_key
            .clone()
            .unwrap();
        let raw = payload(&sig).1;
        let ok = match t {
            KeyType::Ed25519 => Ed25519PublicKey::from_bytes(&unb64(&pem))
                .unwrap()
                .verify(msg, &raw),
            KeyType::Sm2 => {
                Sm2PublicKey::from_spki_pem(&pem)
                    .unwrap()
                    .verify(b"1234567812345678", msg, &raw)
            }
            KeyType::Rsa2048 => RsaPublicKey::from_spki_pem(&pem).unwrap().verify(
                RsaPadding::Pss,
                HashAlgorithm::Sha256,
                msg,
                &raw,
            ),
            _ => EcdsaPublicKey::from_spki_pem(t_curve(t), &pem)
                .unwrap()
                .verify(HashAlgorithm::Sha256, msg, &raw),
        };
        assert!(ok.is_ok(), "{t}: signature verifies outside yaoshi");
    }
    // Hash and padding options.
    for hash in [
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ] {
        for t in ["sig-ecdsa-p256", "sig-ecdsa-p384", "sig-ecdsa-p521"] {
            let req = SignRequest {
                hash: Some(hash),
                ..SignRequest::default()
            };
            let sig = kms.sign(NS, t, msg, req).await.unwrap();
            assert!(kms.verify(NS, t, msg, &sig, req).await.unwrap());
            let digest = yaoshi_crypto::hash::digest(hash, msg);
            let pre = SignRequest {
                prehashed: true,
                ..req
            };
            let pre_sig = kms.sign(NS, t, &digest, pre).await.unwrap();
            assert!(
                kms.verify(NS, t, msg, &pre_sig, req).await.unwrap(),
                "{t} prehashed"
            );
            assert!(
                kms.verify(NS, t, &digest, &sig, pre).await.unwrap(),
                "{t} prehashed verify"
            );
        }
        for padding in [RsaPadding::Pss, RsaPadding::Pkcs1v15] {
            let req = SignRequest {
                hash: Some(hash),
                padding: Some(padding),
                ..SignRequest::default()
            };
            let sig = kms.sign(NS, "sig-rsa-2048", msg, req).await.unwrap();
            assert!(
                kms.verify(NS, "sig-rsa-2048", msg, &sig, req)
                    .await
                    .unwrap()
            );
            let other_padding = SignRequest {
                padding: Some(if padding == RsaPadding::Pss {
                    RsaPadding::Pkcs1v15
                } else {
                    RsaPadding::Pss
                }),
                ..req
            };
            assert!(
                !kms.verify(NS, "sig-rsa-2048", msg, &sig, other_padding)
                    .await
                    .unwrap()
            );
        }
    }
    // SM2: always SM3, signer IDs matter, prehashed e = SM3(Z || M).
    let sha = SignRequest {
        hash: Some(HashAlgorithm::Sha256),
        ..SignRequest::default()
    };
    assert!(message(kms.sign(NS, "sig-sm2", msg, sha).await.unwrap_err()).contains("sm3"));
    let alice = SignRequest {
        signer_id: Some(b"alice@example.com"),
        ..SignRequest::default()
    };
    let sig = kms.sign(NS, "sig-sm2", msg, alice).await.unwrap();
    assert!(kms.verify(NS, "sig-sm2", msg, &sig, alice).await.unwrap());
    assert!(
        !kms.verify(NS, "sig-sm2", msg, &sig, SignRequest::default())
            .await
            .unwrap()
    );
    let pem = kms.read_key(NS, "sig-sm2").await.unwrap().policy.versions[&1]
        .public_key
        .clone()
        .unwrap();
    let e = Sm2PublicKey::from_spki_pem(&pem)
        .unwrap()
        .message_digest(b"1234567812345678", msg)
        .unwrap();
    let pre = SignRequest {
        prehashed: true,
        ..SignRequest::default()
    };
    let sig = kms.sign(NS, "sig-sm2", &e, pre).await.unwrap();
    assert!(
        kms.verify(NS, "sig-sm2", msg, &sig, SignRequest::default())
            .await
            .unwrap()
    );
    // Refusals.
    let sm3 = SignRequest {
        hash: Some(HashAlgorithm::Sm3),
        ..SignRequest::default()
    };
    assert!(kms.sign(NS, "sig-ecdsa-p256", msg, sm3).await.is_err());
    assert!(kms.sign(NS, "sig-ed25519", msg, pre).await.is_err());
    assert!(
        kms.sign(
            NS,
            "sig-ecdsa-p256",
            b"short",
            SignRequest {
                prehashed: true,
                ..SignRequest::default()
            }
        )
        .await
        .is_err()
    );
}

fn t_curve(t: KeyType) -> yaoshi_crypto::ecdsa::EcdsaCurve {
    t.ecdsa_curve().expect("ecdsa type")
}

async fn hmac_with_every_key_type(kms: &Kms) {
    create(kms, "mac-hmac", exportable(KeyType::Hmac)).await;
    create(kms, "mac-sm4", exportable(KeyType::Sm4Gcm96)).await;
    let err = kms
        .create_key(
            NS,
            "mac-small",
            CreateKeyRequest {
                key_size: Some(16),
                ..typed(KeyType::Hmac)
            },
        )
        .await
        .unwrap_err();
    assert!(message(err).contains("key_size"));
    for name in ["mac-hmac", "mac-sm4"] {
        for hash in [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha512,
            HashAlgorithm::Sm3,
        ] {
            let tag = kms.hmac(NS, name, b"data", Some(hash), 0).await.unwrap();
            assert!(
                kms.verify_hmac(NS, name, b"data", &tag, Some(hash))
                    .await
                    .unwrap()
            );
            assert!(
                !kms.verify_hmac(NS, name, b"datA", &tag, Some(hash))
                    .await
                    .unwrap()
            );
            let key = kms
                .export(NS, name, ExportKind::HmacKey, Some(1))
                .await
                .unwrap();
            let expected = mac::hmac(hash, &unb64(&key[&1]), b"data");
            assert_eq!(
                payload(&tag).1,
                expected,
                "{name} {hash:?}: HMAC is plain RFC 2104"
            );
        }
    }
    // An hmac key's exported HMAC key is the key itself.
    let tag = kms.hmac(NS, "mac-hmac", b"x", None, 0).await.unwrap();
    assert_eq!(payload(&tag).1.len(), 32, "default SHA-256");
    assert!(
        kms.encrypt(NS, "mac-hmac", b"x", EncryptRequest::default())
            .await
            .is_err()
    );
    assert!(
        kms.sign(NS, "mac-hmac", b"x", SignRequest::default())
            .await
            .is_err()
    );
}

async fn wrong_type_operations_are_refused(kms: &Kms) {
    create(kms, "wt-ed", typed(KeyType::Ed25519)).await;
    create(kms, "wt-aes", typed(KeyType::Aes256Gcm96)).await;
    create(kms, "wt-ec", exportable(KeyType::EcdsaP256)).await;
    let aes_ct = kms
        .encrypt(NS, "wt-aes", b"x", EncryptRequest::default())
        .await
        .unwrap();
    refused(
        kms.decrypt(NS, "wt-ed", &aes_ct, DecryptRequest::default())
            .await,
        "message decryption not supported for key type ed25519",
    );
    refused(
        kms.encrypt(NS, "wt-ed", b"x", EncryptRequest::default())
            .await,
        "message encryption not supported for key type ed25519",
    );
    refused(
        kms.sign(NS, "wt-aes", b"x", SignRequest::default()).await,
        "key type aes256-gcm96 does not support signing",
    );
    assert!(
        kms.export(NS, "wt-ec", ExportKind::EncryptionKey, None)
            .await
            .is_err()
    );
    assert!(
        kms.export(NS, "wt-aes", ExportKind::PublicKey, None)
            .await
            .is_err()
    );
    assert!(matches!(
        kms.encrypt(NS, "missing", b"x", EncryptRequest::default())
            .await
            .unwrap_err(),
        KmsError::KeyNotFound(_)
    ));
}

async fn lifecycle_create_list_configure_trim_delete(kms: &Kms) {
    create(kms, "life", typed(KeyType::Aes256Gcm96)).await;
    let (again, created) = kms
        .create_key(NS, "life", typed(KeyType::Sm2))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(
        again.policy.key_type,
        KeyType::Aes256Gcm96,
        "repeated create is a no-op"
    );
    assert!(
        kms.create_key(NS, "bad/name", CreateKeyRequest::default())
            .await
            .is_err()
    );
    assert!(
        kms.list_keys(NS)
            .await
            .unwrap()
            .contains(&"life".to_string())
    );

    let cfg = |u: KeyConfigUpdate| kms.configure_key(NS, "life", u);
    let err = cfg(KeyConfigUpdate {
        min_decryption_version: Some(5),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(message(err).contains("greater than latest version"));
    let err = cfg(KeyConfigUpdate {
        auto_rotate_period_secs: Some(60),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(message(err).contains("at least an hour"));
    let info = cfg(KeyConfigUpdate {
        auto_rotate_period_secs: Some(3600),
        exportable: Some(true),
        labels: Some(BTreeMap::from([("team".to_string(), "pay".to_string())])),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(info.policy.auto_rotate_period_secs, 3600);
    assert_eq!(info.policy.labels["team"], "pay");
    let err = cfg(KeyConfigUpdate {
        exportable: Some(false),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(message(err).contains("cannot disable exportability"));

    // Versions 1..4, trim below 3.
    let mut cts = vec![
        kms.encrypt(NS, "life", b"v1", EncryptRequest::default())
            .await
            .unwrap(),
    ];
    for _ in 0..3 {
        kms.rotate_key(NS, "life").await.unwrap();
        cts.push(
            kms.encrypt(NS, "life", b"vn", EncryptRequest::default())
                .await
                .unwrap(),
        );
    }
    let err = kms.trim_key(NS, "life", 3).await.unwrap_err();
    assert!(message(err).contains("greater than minimum decryption version"));
    cfg(KeyConfigUpdate {
        min_decryption_version: Some(3),
        ..Default::default()
    })
    .await
    .unwrap();
    let err = kms.trim_key(NS, "life", 3).await.unwrap_err();
    assert!(message(err).contains("minimum encryption version is not set"));
    cfg(KeyConfigUpdate {
        min_encryption_version: Some(3),
        ..Default::default()
    })
    .await
    .unwrap();
    let info = kms.trim_key(NS, "life", 3).await.unwrap();
    assert_eq!(info.policy.min_available_version, 3);
    assert_eq!(
        info.policy.versions.keys().copied().collect::<Vec<_>>(),
        vec![3, 4]
    );
    assert!(
        kms.decrypt(NS, "life", &cts[0], DecryptRequest::default())
            .await
            .is_err()
    );
    assert_eq!(
        kms.decrypt(NS, "life", &cts[3], DecryptRequest::default())
            .await
            .unwrap()
            .expose(),
        b"vn"
    );
    assert!(message(kms.trim_key(NS, "life", 2).await.unwrap_err()).contains("decremented"));
    let err = cfg(KeyConfigUpdate {
        min_decryption_version: Some(2),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(message(err).contains("min_available_version"));

    // Disable / enable.
    let info = kms.set_key_enabled(NS, "life", false).await.unwrap();
    assert_eq!(info.state, KeyState::Disabled);
    assert!(
        message(
            kms.encrypt(NS, "life", b"x", EncryptRequest::default())
                .await
                .unwrap_err()
        )
        .contains("disabled")
    );
    kms.read_key(NS, "life").await.expect("reads still work");
    kms.set_key_enabled(NS, "life", true).await.unwrap();
    kms.encrypt(NS, "life", b"x", EncryptRequest::default())
        .await
        .unwrap();

    // Delete needs deletion_allowed; soft delete and restore.
    assert_eq!(
        message(kms.delete_key(NS, "life").await.unwrap_err()),
        "deletion is not allowed for this key"
    );
    assert!(kms.soft_delete_key(NS, "life").await.is_err());
    cfg(KeyConfigUpdate {
        deletion_allowed: Some(true),
        ..Default::default()
    })
    .await
    .unwrap();
    let info = kms.soft_delete_key(NS, "life").await.unwrap();
    assert_eq!(info.state, KeyState::SoftDeleted);
    assert!(
        message(
            kms.decrypt(NS, "life", &cts[3], DecryptRequest::default())
                .await
                .unwrap_err()
        )
        .contains("soft-deleted")
    );
    assert!(
        kms.list_keys(NS)
            .await
            .unwrap()
            .contains(&"life".to_string())
    );
    kms.restore_deleted_key(NS, "life").await.unwrap();
    assert_eq!(
        kms.decrypt(NS, "life", &cts[3], DecryptRequest::default())
            .await
            .unwrap()
            .expose(),
        b"vn"
    );

    // Destroy: gone, name reusable, old ciphertexts never decrypt again.
    kms.delete_key(NS, "life").await.unwrap();
    assert!(matches!(
        kms.read_key(NS, "life").await.unwrap_err(),
        KmsError::KeyNotFound(_)
    ));
    assert!(
        !kms.list_keys(NS)
            .await
            .unwrap()
            .contains(&"life".to_string())
    );
    create(kms, "life", typed(KeyType::Aes256Gcm96)).await;
    assert!(
        kms.decrypt(NS, "life", &cts[0], DecryptRequest::default())
            .await
            .is_err()
    );
}

async fn upsert_on_encrypt_and_auto_rotation(kms: &Kms) {
    let up = EncryptRequest {
        upsert: true,
        ..EncryptRequest::default()
    };
    let ct = kms.encrypt(NS, "upserted", b"x", up).await.unwrap();
    assert_eq!(
        kms.read_key(NS, "upserted").await.unwrap().policy.key_type,
        KeyType::Aes256Gcm96
    );
    assert_eq!(
        kms.decrypt(NS, "upserted", &ct, DecryptRequest::default())
            .await
            .unwrap()
            .expose(),
        b"x"
    );
    let up_sm4 = EncryptRequest {
        upsert_type: Some(KeyType::Sm4Gcm96),
        ..up
    };
    kms.encrypt(NS, "upserted-sm4", b"x", up_sm4).await.unwrap();
    assert_eq!(
        kms.read_key(NS, "upserted-sm4")
            .await
            .unwrap()
            .policy
            .key_type,
        KeyType::Sm4Gcm96
    );

    create(
        kms,
        "auto",
        CreateKeyRequest {
            auto_rotate_period_secs: 3600,
            ..typed(KeyType::Sm4Gcm96)
        },
    )
    .await;
    let now = kms
        .read_key(NS, "auto")
        .await
        .unwrap()
        .policy
        .last_rotated_at;
    assert!(
        !kms.auto_rotate_due(NS, now + 10)
            .await
            .unwrap()
            .contains(&"auto".to_string())
    );
    let rotated = kms.auto_rotate_due(NS, now + 3601).await.unwrap();
    assert!(rotated.contains(&"auto".to_string()));
    assert!(
        !rotated.contains(&"upserted".to_string()),
        "no period, no rotation"
    );
    assert_eq!(
        kms.read_key(NS, "auto")
            .await
            .unwrap()
            .policy
            .latest_version,
        2
    );
}

async fn export_formats_decrypt_outside_yaoshi(kms: &Kms) {
    create(kms, "noexp", typed(KeyType::Sm4Gcm96)).await;
    let err = kms
        .export(NS, "noexp", ExportKind::EncryptionKey, None)
        .await
        .unwrap_err();
    assert_eq!(message(err), "private key material is not exportable");
    create(kms, "noexp-sm2", typed(KeyType::Sm2)).await;
    let public = kms
        .export(NS, "noexp-sm2", ExportKind::PublicKey, None)
        .await
        .unwrap();
    assert!(
        public[&1].starts_with("-----BEGIN PUBLIC KEY-----"),
        "public keys need no exportable"
    );

    for t in AEAD_TYPES {
        let name = format!("exp-{t}");
        create(kms, &name, exportable(t)).await;
        let ct = kms
            .encrypt(
                NS,
                &name,
                b"formats.md",
                EncryptRequest {
                    associated_data: Some(b"ad"),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let key = kms
            .export(NS, &name, ExportKind::EncryptionKey, Some(1))
            .await
            .unwrap();
        let raw = unb64(&key[&1]);
        let algorithm = match t {
            KeyType::Aes128Gcm96 => AeadAlgorithm::Aes128Gcm,
            KeyType::Aes256Gcm96 => AeadAlgorithm::Aes256Gcm,
            KeyType::Chacha20Poly1305 => AeadAlgorithm::ChaCha20Poly1305,
            _ => AeadAlgorithm::Sm4Gcm,
        };
        let body = payload(&ct).1;
        let (nonce, sealed) = body.split_at(12);
        let opened = AeadKey::new(algorithm, &raw)
            .unwrap()
            .open(nonce, b"ad", sealed)
            .unwrap();
        assert_eq!(opened.expose(), b"formats.md", "{t}");
    }
    create(kms, "exp-sm2", exportable(KeyType::Sm2)).await;
    let pem = kms
        .export(NS, "exp-sm2", ExportKind::EncryptionKey, None)
        .await
        .unwrap();
    let private = Sm2PrivateKey::from_pem(&pem[&1]).unwrap();
    let ct = kms
        .encrypt(NS, "exp-sm2", b"sm2 export", EncryptRequest::default())
        .await
        .unwrap();
    assert_eq!(
        private.decrypt(&payload(&ct).1).unwrap().expose(),
        b"sm2 export"
    );
    let signing = kms
        .export(NS, "exp-sm2", ExportKind::SigningKey, Some(1))
        .await
        .unwrap();
    assert_eq!(signing[&1], pem[&1]);

    create(kms, "exp-ec", exportable(KeyType::EcdsaP384)).await;
    let pem = kms
        .export(NS, "exp-ec", ExportKind::SigningKey, None)
        .await
        .unwrap();
    assert!(pem[&1].starts_with("-----BEGIN EC PRIVATE KEY-----"));
    let ec = EcdsaPrivateKey::from_pem(yaoshi_crypto::ecdsa::EcdsaCurve::P384, &pem[&1]).unwrap();
    let sig = kms
        .sign(NS, "exp-ec", b"m", SignRequest::default())
        .await
        .unwrap();
    assert!(
        ec.public_key()
            .verify(HashAlgorithm::Sha256, b"m", &payload(&sig).1)
            .is_ok()
    );

    create(kms, "exp-ed", exportable(KeyType::Ed25519)).await;
    let both = unb64(
        &kms.export(NS, "exp-ed", ExportKind::SigningKey, None)
            .await
            .unwrap()[&1],
    );
    assert_eq!(both.len(), 64, "seed || public key, as Vault");
    let ed = Ed25519PrivateKey::from_seed(&both[..32]).unwrap();
    assert_eq!(ed.public_key().as_bytes(), &both[32..]);

    kms.rotate_key(NS, "exp-ed").await.unwrap();
    let all = kms
        .export(NS, "exp-ed", ExportKind::PublicKey, None)
        .await
        .unwrap();
    assert_eq!(all.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
}

async fn backup_and_restore_single_keys(kms: &Kms) {
    create(kms, "bk-no", exportable(KeyType::Sm4Gcm96)).await;
    let err = kms.backup_key(NS, "bk-no").await.unwrap_err();
    assert_eq!(message(err), "plaintext backup is disallowed on the policy");

    create(
        kms,
        "bk",
        CreateKeyRequest {
            allow_plaintext_backup: true,
            ..exportable(KeyType::Sm4Gcm96)
        },
    )
    .await;
    let ct1 = kms
        .encrypt(NS, "bk", b"one", EncryptRequest::default())
        .await
        .unwrap();
    kms.rotate_key(NS, "bk").await.unwrap();
    let ct2 = kms
        .encrypt(NS, "bk", b"two", EncryptRequest::default())
        .await
        .unwrap();
    let backup = kms.backup_key(NS, "bk").await.unwrap();

    let err = kms.restore_key(NS, None, &backup, false).await.unwrap_err();
    assert!(message(err).contains("already exists"));
    let restored = kms
        .restore_key(NS, Some("bk-copy"), &backup, false)
        .await
        .unwrap();
    assert_eq!(restored.policy.latest_version, 2);
    for (ct, text) in [(&ct1, &b"one"[..]), (&ct2, &b"two"[..])] {
        assert_eq!(
            kms.decrypt(NS, "bk-copy", ct, DecryptRequest::default())
                .await
                .unwrap()
                .expose(),
            text
        );
    }
    // force replaces the existing key.
    kms.rotate_key(NS, "bk").await.unwrap();
    let forced = kms
        .restore_key(NS, Some("bk"), &backup, true)
        .await
        .unwrap();
    assert_eq!(forced.policy.latest_version, 2);
    assert_eq!(
        kms.decrypt(NS, "bk", &ct2, DecryptRequest::default())
            .await
            .unwrap()
            .expose(),
        b"two"
    );
    for garbage in ["", "not base64!", &b64(b"{}"), &b64(b"[1,2]")] {
        assert!(
            kms.restore_key(NS, Some("bk-bad"), garbage, false)
                .await
                .unwrap_err()
                .is_client_error()
        );
    }
}

/// Backup and restore for every key type: the restored key has the same
/// public keys and HMAC keys, and works.
async fn backup_and_restore_every_type(kms: &Kms) {
    for t in KeyType::ALL
        .into_iter()
        .filter(|t| !matches!(t, KeyType::Rsa3072 | KeyType::Rsa4096))
    {
        let name = format!("bk-all-{t}");
        let request = CreateKeyRequest {
            allow_plaintext_backup: true,
            ..exportable(t)
        };
        create(kms, &name, request).await;
        kms.rotate_key(NS, &name).await.unwrap();
        let backup = kms.backup_key(NS, &name).await.unwrap();
        let copy = format!("{name}-restored");
        let restored = kms
            .restore_key(NS, Some(&copy), &backup, false)
            .await
            .unwrap();
        let original = kms.read_key(NS, &name).await.unwrap();
        assert_eq!(restored.policy.versions.len(), 2, "{t}");
        for v in [1, 2] {
            assert_eq!(
                restored.policy.versions[&v].public_key, original.policy.versions[&v].public_key,
                "{t} v{v}"
            );
        }
        let hmac =
            |n: String| async move { kms.export(NS, &n, ExportKind::HmacKey, None).await.unwrap() };
        assert_eq!(hmac(name.clone()).await, hmac(copy.clone()).await, "{t}");
        let tag = kms.hmac(NS, &name, b"m", None, 0).await.unwrap();
        assert!(
            kms.verify_hmac(NS, &copy, b"m", &tag, None).await.unwrap(),
            "{t}"
        );
        if t.supports_signing() {
            let sig = kms
                .sign(NS, &name, b"m", SignRequest::default())
                .await
                .unwrap();
            assert!(
                kms.verify(NS, &copy, b"m", &sig, SignRequest::default())
                    .await
                    .unwrap(),
                "{t}"
            );
        }
    }
}

async fn byok_import_rsa_and_sm2_wrapping(kms: &Kms) {
    let pem = kms.wrapping_key(NS, WrappingAlgorithm::Rsa).await.unwrap();
    assert_eq!(
        pem,
        kms.wrapping_key(NS, WrappingAlgorithm::Rsa).await.unwrap(),
        "stable"
    );
    let wrapping = RsaPublicKey::from_spki_pem(&pem).unwrap();
    assert_eq!(wrapping.to_spki_der().len(), 550, "RSA-4096 SPKI");

    let aes_key = [0x42u8; 32];
    let envelope = keywrap::byok_wrap(&wrapping, &aes_key).unwrap();
    let info = kms
        .import_key(
            NS,
            "imp-aes",
            &envelope,
            WrappingAlgorithm::Rsa,
            ImportRequest::default(),
        )
        .await
        .unwrap();
    assert!(info.policy.imported && !info.policy.allow_rotation);
    let ct = kms
        .encrypt(NS, "imp-aes", b"byok", EncryptRequest::default())
        .await
        .unwrap();
    let body = payload(&ct).1;
    let opened = AeadKey::new(AeadAlgorithm::Aes256Gcm, &aes_key)
        .unwrap()
        .open(&body[..12], b"", &body[12..])
        .unwrap();
    assert_eq!(
        opened.expose(),
        b"byok",
        "the imported key is the one in use"
    );
    assert!(
        message(kms.rotate_key(NS, "imp-aes").await.unwrap_err())
            .contains("does not allow rotation")
    );
    let err = kms
        .import_key(
            NS,
            "imp-aes",
            &envelope,
            WrappingAlgorithm::Rsa,
            ImportRequest::default(),
        )
        .await
        .unwrap_err();
    assert!(message(err).contains("already exists"));
    let second = keywrap::byok_wrap(&wrapping, &[0x43u8; 32]).unwrap();
    let info = kms
        .import_version(NS, "imp-aes", &second, WrappingAlgorithm::Rsa)
        .await
        .unwrap();
    assert_eq!(info.policy.latest_version, 2);
    assert_eq!(
        kms.decrypt(NS, "imp-aes", &ct, DecryptRequest::default())
            .await
            .unwrap()
            .expose(),
        b"byok"
    );
    create(kms, "gen-aes", typed(KeyType::Aes256Gcm96)).await;
    assert!(
        kms.import_version(NS, "gen-aes", &second, WrappingAlgorithm::Rsa)
            .await
            .is_err()
    );

    // Asymmetric: PKCS#8 inside the envelope.
    let ec = EcdsaPrivateKey::generate(yaoshi_crypto::ecdsa::EcdsaCurve::P256).unwrap();
    let envelope = keywrap::byok_wrap(&wrapping, ec.to_pkcs8_der().expose()).unwrap();
    let req = ImportRequest {
        key: typed(KeyType::EcdsaP256),
        ..ImportRequest::default()
    };
    kms.import_key(NS, "imp-ec", &envelope, WrappingAlgorithm::Rsa, req.clone())
        .await
        .unwrap();
    let sig = kms
        .sign(NS, "imp-ec", b"m", SignRequest::default())
        .await
        .unwrap();
    assert!(
        ec.public_key()
            .verify(HashAlgorithm::Sha256, b"m", &payload(&sig).1)
            .is_ok()
    );
    let mut tampered = envelope.clone();
    *tampered.last_mut().unwrap() ^= 1;
    let err = kms
        .import_key(NS, "imp-ec2", &tampered, WrappingAlgorithm::Rsa, req)
        .await
        .unwrap_err();
    assert!(err.is_client_error());

    // SM2 wrapping key: SM2(ephemeral SM4 key) || SM4-GCM(target).
    let sm2_pem = kms.wrapping_key(NS, WrappingAlgorithm::Sm2).await.unwrap();
    let sm2_wrapping = Sm2PublicKey::from_spki_pem(&sm2_pem).unwrap();
    let target = Sm2PrivateKey::generate().unwrap();
    let ephemeral = [7u8; 16];
    let mut envelope = sm2_wrapping.encrypt(&ephemeral).unwrap();
    envelope.extend(
        AeadKey::new(AeadAlgorithm::Sm4Gcm, &ephemeral)
            .unwrap()
            .encrypt(b"", target.to_pkcs8_der().unwrap().expose())
            .unwrap(),
    );
    let req = ImportRequest {
        key: typed(KeyType::Sm2),
        ..ImportRequest::default()
    };
    kms.import_key(NS, "imp-sm2", &envelope, WrappingAlgorithm::Sm2, req)
        .await
        .unwrap();
    let sig = kms
        .sign(NS, "imp-sm2", b"m", SignRequest::default())
        .await
        .unwrap();
    assert!(
        target
            .public_key()
            .verify(b"1234567812345678", b"m", &payload(&sig).1)
            .is_ok()
    );
    let err = kms
        .import_key(
            NS,
            "imp-sm2-rsa",
            &envelope,
            WrappingAlgorithm::Rsa,
            ImportRequest::default(),
        )
        .await
        .unwrap_err();
    assert!(
        err.is_client_error(),
        "an SM2 envelope does not open with the RSA wrapping key"
    );
}

async fn material_cache_is_bounded(kms: &Kms) {
    for i in 0..6 {
        let name = format!("cache-{i}");
        create(kms, &name, typed(KeyType::Aes128Gcm96)).await;
        kms.encrypt(NS, &name, b"x", EncryptRequest::default())
            .await
            .unwrap();
    }
    assert!(kms.cached_versions() <= kms.options().cache_capacity);
}

async fn all_checks(kms: &Kms) {
    symmetric_encrypt_decrypt_rotate_rewrap(kms).await;
    derived_keys_need_and_bind_context(kms).await;
    datakeys_plaintext_and_wrapped(kms).await;
    rsa_and_sm2_encryption(kms).await;
    signatures_for_every_signing_type(kms).await;
    hmac_with_every_key_type(kms).await;
    wrong_type_operations_are_refused(kms).await;
    lifecycle_create_list_configure_trim_delete(kms).await;
    upsert_on_encrypt_and_auto_rotation(kms).await;
    export_formats_decrypt_outside_yaoshi(kms).await;
    backup_and_restore_single_keys(kms).await;
    backup_and_restore_every_type(kms).await;
    byok_import_rsa_and_sm2_wrapping(kms).await;
}

macro_rules! sqlite_tests {
    ($($check:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let kms = super::dev_kms(super::support::sqlite_memory().await).await;
                    super::$check(&kms).await;
                }
            )*
        }
    };
}

sqlite_tests!(
    symmetric_encrypt_decrypt_rotate_rewrap,
    derived_keys_need_and_bind_context,
    datakeys_plaintext_and_wrapped,
    rsa_and_sm2_encryption,
    signatures_for_every_signing_type,
    hmac_with_every_key_type,
    wrong_type_operations_are_refused,
    lifecycle_create_list_configure_trim_delete,
    upsert_on_encrypt_and_auto_rotation,
    export_formats_decrypt_outside_yaoshi,
    backup_and_restore_single_keys,
    backup_and_restore_every_type,
    byok_import_rsa_and_sm2_wrapping,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn material_cache_is_bounded_with_a_small_cache() {
    let options = yaoshi_core::KmsOptions {
        cache_capacity: 2,
        ..Default::default()
    };
    let kms = Kms::new(support::sqlite_memory().await, options);
    kms.init(yaoshi_core::kms::InitRequest::new(
        yaoshi_core::kms::InitSeal::Dev,
    ))
    .await
    .unwrap();
    material_cache_is_bounded(&kms).await;
    assert_eq!(kms.cached_versions(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_on_postgres() {
    let cluster = yaoshi_store::testing::PgCluster::start().expect("pg cluster");
    let url = cluster.create_database("kms_operations").expect("database");
    let kms = dev_kms(yaoshi_store::open(&url).await.unwrap()).await;
    all_checks(&kms).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_3072_and_4096_keys_work_end_to_end() {
    let kms = dev_kms(support::sqlite_memory().await).await;
    for t in [KeyType::Rsa3072, KeyType::Rsa4096] {
        let name = t.to_string();
        create(&kms, &name, typed(t)).await;
        let ct = kms
            .encrypt(NS, &name, b"oaep", EncryptRequest::default())
            .await
            .unwrap();
        assert_eq!(
            kms.decrypt(NS, &name, &ct, DecryptRequest::default())
                .await
                .unwrap()
                .expose(),
            b"oaep"
        );
        let sig = kms
            .sign(NS, &name, b"m", SignRequest::default())
            .await
            .unwrap();
        assert!(
            kms.verify(NS, &name, b"m", &sig, SignRequest::default())
                .await
                .unwrap()
        );
    }
}
