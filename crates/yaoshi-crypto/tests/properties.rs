//! Property tests: every encrypt/decrypt, sign/verify, wrap/unwrap and
//! split/combine round-trips; tampering is rejected with a typed error (never
//! a panic); and the SM2 code agrees with the RustCrypto `sm2` crate, the
//! reference implementation, in both directions.

use proptest::prelude::*;
use std::sync::OnceLock;
use yaoshi_crypto::aead::{AeadAlgorithm, AeadKey, NONCE_LEN, TAG_LEN};
use yaoshi_crypto::ecdsa::{EcdsaCurve, EcdsaPrivateKey};
use yaoshi_crypto::ed25519::Ed25519PrivateKey;
use yaoshi_crypto::hash::HashAlgorithm;
use yaoshi_crypto::rsa::{RsaBits, RsaPadding, RsaPrivateKey};
use yaoshi_crypto::sm2::{
    DEFAULT_SIGNER_ID, RawOrder, Sm2PrivateKey, Sm2PublicKey, der_to_raw, raw_to_der,
};
use yaoshi_crypto::{CryptoError, kdf, keywrap, mac, shamir, sm4};

/// The RustCrypto `sm2` crate, used as the reference implementation.
mod reference {
    use sm2::dsa::signature::{Signer, Verifier};
    use sm2::elliptic_curve::common::getrandom::SysRng;
    use yaoshi_crypto::sm2::{Sm2PrivateKey, Sm2PublicKey};

    fn secret(key: &Sm2PrivateKey) -> sm2::SecretKey {
        sm2::SecretKey::from_slice(key.to_bytes().expose()).unwrap()
    }

    pub fn sign(id: &str, key: &Sm2PrivateKey, message: &[u8]) -> Vec<u8> {
        let signer = sm2::dsa::SigningKey::new(id, &secret(key)).unwrap();
        let signature: sm2::dsa::Signature = signer.sign(message);
        signature.to_der().to_vec()
    }

    pub fn verify(id: &str, key: &Sm2PublicKey, message: &[u8], der: &[u8]) -> bool {
        let verifier =
            sm2::dsa::VerifyingKey::from_sec1_bytes(id, &key.to_sec1_uncompressed()).unwrap();
        let Ok(signature) = sm2::dsa::Signature::from_der(der) else {
            return false;
        };
        verifier.verify(message, &signature).is_ok()
    }

    pub fn encrypt(key: &Sm2PublicKey, message: &[u8]) -> Vec<u8> {
        sm2::pke::EncryptingKey::from_sec1_bytes(&key.to_sec1_uncompressed())
            .unwrap()
            .encrypt_der(&mut SysRng, message)
            .unwrap()
    }

    pub fn decrypt(key: &Sm2PrivateKey, der: &[u8]) -> Vec<u8> {
        sm2::pke::DecryptingKey::new(secret(key))
            .decrypt_der(der)
            .unwrap()
    }
}

fn rsa_2048() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::generate(RsaBits::Rsa2048).unwrap())
}

fn flip(bytes: &[u8], index: usize, mask: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let i = index % out.len();
    out[i] ^= mask;
    out
}

fn any_aead() -> impl Strategy<Value = AeadAlgorithm> {
    prop::sample::select(AeadAlgorithm::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn aead_round_trips_and_rejects_tampering(
        algorithm in any_aead(),
        plaintext in prop::collection::vec(any::<u8>(), 0..600),
        aad in prop::collection::vec(any::<u8>(), 0..64),
        index in any::<usize>(),
        mask in 1u8..=255,
    ) {
        let key = AeadKey::new(algorithm, algorithm.generate_key().unwrap().expose()).unwrap();
        let payload = key.encrypt(&aad, &plaintext).unwrap();
        prop_assert_eq!(payload.len(), NONCE_LEN + plaintext.len() + TAG_LEN);
        prop_assert_eq!(key.decrypt(&aad, &payload).unwrap().expose().to_vec(), plaintext.clone());
        // any flipped bit in nonce, ciphertext or tag
        prop_assert_eq!(key.decrypt(&aad, &flip(&payload, index, mask)).unwrap_err(), CryptoError::AuthenticationFailed);
        // different associated data
        let mut other_aad = aad.clone();
        other_aad.push(mask);
        prop_assert_eq!(key.decrypt(&other_aad, &payload).unwrap_err(), CryptoError::AuthenticationFailed);
        // truncation
        let cut = index % payload.len();
        prop_assert!(key.decrypt(&aad, &payload[..cut]).is_err());
        // another key
        let other = AeadKey::new(algorithm, algorithm.generate_key().unwrap().expose()).unwrap();
        prop_assert_eq!(other.decrypt(&aad, &payload).unwrap_err(), CryptoError::AuthenticationFailed);
    }

    #[test]
    fn sm4_modes_round_trip(
        key in prop::array::uniform16(any::<u8>()),
        iv in prop::array::uniform16(any::<u8>()),
        nonce in prop::array::uniform12(any::<u8>()),
        data in prop::collection::vec(any::<u8>(), 0..300),
        index in any::<usize>(),
        mask in 1u8..=255,
    ) {
        let cbc = sm4::cbc_encrypt(&key, &iv, &data).unwrap();
        prop_assert_eq!(cbc.len(), (data.len() / 16 + 1) * 16);
        prop_assert_eq!(sm4::cbc_decrypt(&key, &iv, &cbc).unwrap().expose().to_vec(), data.clone());
        let ctr = sm4::ctr_apply(&key, &iv, &data).unwrap();
        prop_assert_eq!(sm4::ctr_apply(&key, &iv, &ctr).unwrap(), data.clone());
        let ccm = sm4::ccm_seal(&key, &nonce, b"aad", &data).unwrap();
        prop_assert_eq!(sm4::ccm_open(&key, &nonce, b"aad", &ccm).unwrap().expose().to_vec(), data.clone());
        prop_assert_eq!(sm4::ccm_open(&key, &nonce, b"aad", &flip(&ccm, index, mask)).unwrap_err(), CryptoError::AuthenticationFailed);
    }

    #[test]
    fn hmac_verifies_and_rejects_tampering(
        algorithm in prop::sample::select(HashAlgorithm::ALL.to_vec()),
        key in prop::collection::vec(any::<u8>(), 0..200),
        data in prop::collection::vec(any::<u8>(), 0..300),
        index in any::<usize>(),
        mask in 1u8..=255,
    ) {
        let tag = mac::hmac(algorithm, &key, &data);
        prop_assert_eq!(tag.len(), algorithm.output_len());
        prop_assert!(mac::hmac_verify(algorithm, &key, &data, &tag).is_ok());
        prop_assert_eq!(mac::hmac_verify(algorithm, &key, &data, &flip(&tag, index, mask)).unwrap_err(), CryptoError::InvalidSignature);
        prop_assert!(mac::hmac_verify(algorithm, &key, &data, &tag[..tag.len() - 1]).is_err());
    }

    /// HKDF-SM3 equals RFC 5869 spelled out over HMAC-SM3.
    #[test]
    fn hkdf_sm3_matches_rfc5869_construction(
        ikm in prop::collection::vec(any::<u8>(), 1..80),
        salt in prop::collection::vec(any::<u8>(), 0..40),
        info in prop::collection::vec(any::<u8>(), 0..40),
        len in 1usize..200,
    ) {
        let prk = mac::hmac(HashAlgorithm::Sm3, &salt, &ikm);
        let mut okm = Vec::new();
        let mut previous = Vec::new();
        let mut counter = 1u8;
        while okm.len() < len {
            let mut input = previous.clone();
            input.extend_from_slice(&info);
            input.push(counter);
            previous = mac::hmac(HashAlgorithm::Sm3, &prk, &input);
            okm.extend_from_slice(&previous);
            counter += 1;
        }
        okm.truncate(len);
        prop_assert_eq!(&kdf::hkdf(HashAlgorithm::Sm3, &ikm, &salt, &info, len).unwrap()[..], &okm[..]);
    }

    #[test]
    fn kwp_and_byok_round_trip(
        kek in prop::collection::vec(any::<u8>(), 32..=32),
        material in prop::collection::vec(any::<u8>(), 1..100),
        index in any::<usize>(),
        mask in 1u8..=255,
    ) {
        let wrapped = keywrap::aes_kwp_wrap(&kek, &material).unwrap();
        prop_assert_eq!(keywrap::aes_kwp_unwrap(&kek, &wrapped).unwrap().expose().to_vec(), material.clone());
        prop_assert!(keywrap::aes_kwp_unwrap(&kek, &flip(&wrapped, index, mask)).is_err());
        let rsa = rsa_2048();
        let envelope = keywrap::byok_wrap(&rsa.public_key().unwrap(), &material).unwrap();
        prop_assert_eq!(keywrap::byok_unwrap(rsa, &envelope).unwrap().expose().to_vec(), material.clone());
        prop_assert!(keywrap::byok_unwrap(rsa, &flip(&envelope, index, mask)).is_err());
    }

    #[test]
    fn shamir_any_threshold_subset_recovers(
        secret in prop::collection::vec(any::<u8>(), 1..64),
        (shares, threshold) in (2u8..8).prop_flat_map(|n| (Just(n), 2..=n)),
        seed in any::<u64>(),
        mask in 1u8..=255,
    ) {
        let all = shamir::split(&secret, shares, threshold).unwrap();
        prop_assert_eq!(all.len(), usize::from(shares));
        for share in &all {
            prop_assert_eq!(share.len(), shamir::share_len(secret.len()));
            prop_assert_eq!(shamir::share_threshold(share.expose()), Some(threshold));
        }
        prop_assert_eq!(shamir::share_threshold(b"short"), None);
        // a pseudo-random subset of exactly `threshold` shares
        let mut order: Vec<usize> = (0..all.len()).collect();
        let mut state = seed;
        for i in (1..order.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (state >> 33) as usize % (i + 1));
        }
        let subset: Vec<&[u8]> = order[..usize::from(threshold)].iter().map(|&i| all[i].expose()).collect();
        prop_assert_eq!(shamir::combine(&subset).unwrap().expose().to_vec(), secret.clone());
        // one share fewer than the threshold
        prop_assert!(matches!(shamir::combine(&subset[1..]), Err(CryptoError::InvalidShares(_))));
        // a tampered y byte
        let tampered = flip(subset[0], 3 + (state as usize % (subset[0].len() - 3)), mask);
        let mut with_tampered = subset.clone();
        with_tampered[0] = &tampered;
        prop_assert!(matches!(shamir::combine(&with_tampered), Err(CryptoError::InvalidShares(_))));
        // the same share twice
        let mut duplicated = subset.clone();
        duplicated.push(subset[0]);
        prop_assert!(matches!(shamir::combine(&duplicated), Err(CryptoError::InvalidShares(_))));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn sm2_signatures_round_trip_and_agree_with_reference(
        message in prop::collection::vec(any::<u8>(), 0..300),
        id in prop::collection::vec(any::<u8>(), 0..40),
        index in any::<usize>(),
        mask in 1u8..=255,
    ) {
        let key = Sm2PrivateKey::generate().unwrap();
        let signature = key.sign(&id, &message).unwrap();
        prop_assert!(key.public_key().verify(&id, &message, &signature).is_ok());
        prop_assert_eq!(key.public_key().verify(&id, &message, &flip(&signature, index, mask)).unwrap_err(), CryptoError::InvalidSignature);
        let mut other = message.clone();
        other.push(mask);
        prop_assert_eq!(key.public_key().verify(&id, &other, &signature).unwrap_err(), CryptoError::InvalidSignature);

        // reference crate verifies ours and signs something we verify (any ID, including empty)
        // (the reference takes IDs as `str`, so the random ID is hex-encoded)
        let id_str = hex::encode(&id);
        let ours = key.sign(id_str.as_bytes(), &message).unwrap();
        prop_assert!(reference::verify(&id_str, key.public_key(), &message, &ours));
        let theirs = reference::sign(&id_str, &key, &message);
        prop_assert!(key.public_key().verify(id_str.as_bytes(), &message, &theirs).is_ok());
    }

    #[test]
    fn sm2_encryption_round_trips_and_agrees_with_reference(
        message in prop::collection::vec(any::<u8>(), 1..300),
        index in any::<usize>(),
        mask in 1u8..=255,
    ) {
        let key = Sm2PrivateKey::generate().unwrap();
        let ciphertext = key.public_key().encrypt(&message).unwrap();
        prop_assert_eq!(key.decrypt(&ciphertext).unwrap().expose().to_vec(), message.clone());
        prop_assert!(key.decrypt(&flip(&ciphertext, index, mask)).is_err());
        for order in [RawOrder::C1C3C2, RawOrder::C1C2C3] {
            let raw = der_to_raw(&ciphertext, order).unwrap();
            prop_assert_eq!(raw.len(), 65 + 32 + message.len());
            prop_assert_eq!(raw_to_der(&raw, order).unwrap(), ciphertext.clone());
        }
        // reference crate decrypts ours; we decrypt the reference crate's
        prop_assert_eq!(reference::decrypt(&key, &ciphertext), message.clone());
        let theirs = reference::encrypt(key.public_key(), &message);
        prop_assert_eq!(key.decrypt(&theirs).unwrap().expose().to_vec(), message.clone());
    }

    #[test]
    fn ecdsa_ed25519_rsa_sign_verify(
        message in prop::collection::vec(any::<u8>(), 0..300),
        curve in prop::sample::select(EcdsaCurve::ALL.to_vec()),
        hash in prop::sample::select(vec![HashAlgorithm::Sha256, HashAlgorithm::Sha384, HashAlgorithm::Sha512]),
        index in any::<usize>(),
        mask in 1u8..=255,
    ) {
        let ecdsa = EcdsaPrivateKey::generate(curve).unwrap();
        let signature = ecdsa.sign(hash, &message).unwrap();
        prop_assert!(ecdsa.public_key().verify(hash, &message, &signature).is_ok());
        prop_assert!(ecdsa.public_key().verify(hash, &message, &flip(&signature, index, mask)).is_err());
        let digest = yaoshi_crypto::hash::digest(hash, &message);
        prop_assert!(ecdsa.public_key().verify_prehashed(hash, &digest, &signature).is_ok());
        let prehashed = ecdsa.sign_prehashed(hash, &digest).unwrap();
        prop_assert!(ecdsa.public_key().verify(hash, &message, &prehashed).is_ok());
        prop_assert!(ecdsa.public_key().verify_prehashed(hash, &digest, &flip(&prehashed, index, mask)).is_err());
        prop_assert!(ecdsa.public_key().verify_prehashed(hash, &digest[1..], &prehashed).is_err());

        let ed = Ed25519PrivateKey::generate().unwrap();
        let signature = ed.sign(&message);
        prop_assert!(ed.public_key().verify(&message, &signature).is_ok());
        prop_assert_eq!(ed.public_key().verify(&message, &flip(&signature, index, mask)).unwrap_err(), CryptoError::InvalidSignature);

        let rsa = rsa_2048();
        for padding in [RsaPadding::Pkcs1v15, RsaPadding::Pss] {
            let signature = rsa.sign(padding, hash, &message).unwrap();
            prop_assert!(rsa.public_key().unwrap().verify(padding, hash, &message, &signature).is_ok());
            prop_assert_eq!(rsa.public_key().unwrap().verify(padding, hash, &message, &flip(&signature, index, mask)).unwrap_err(), CryptoError::InvalidSignature);
        }
    }

    #[test]
    fn garbage_is_rejected_with_typed_errors(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let sm2_key = Sm2PrivateKey::generate().unwrap();
        prop_assert!(sm2_key.decrypt(&bytes).is_err());
        prop_assert!(sm2_key.public_key().verify(DEFAULT_SIGNER_ID, b"m", &bytes).is_err());
        prop_assert!(Sm2PublicKey::from_sec1_bytes(&bytes).is_err() || bytes.len() == 33 || bytes.len() == 65);
        prop_assert!(raw_to_der(&bytes, RawOrder::C1C3C2).is_err() || bytes.len() > 97);
        prop_assert!(shamir::combine(&[&bytes]).is_err());
        prop_assert!(Sm2PrivateKey::from_pkcs8_der(&bytes).is_err());
        prop_assert!(RsaPrivateKey::from_pkcs8_der(&bytes).is_err());
    }
}

#[test]
fn pem_round_trips_for_every_key_type() {
    let sm2_key = Sm2PrivateKey::generate().unwrap();
    let pem = sm2_key.to_pkcs8_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(
        Sm2PrivateKey::from_pem(&pem).unwrap().to_bytes(),
        sm2_key.to_bytes()
    );
    let public_pem = sm2_key.public_key().to_spki_pem().unwrap();
    assert_eq!(
        &Sm2PublicKey::from_spki_pem(&public_pem).unwrap(),
        sm2_key.public_key()
    );

    for curve in EcdsaCurve::ALL {
        let key = EcdsaPrivateKey::generate(curve).unwrap();
        let again = EcdsaPrivateKey::from_pem(curve, &key.to_pkcs8_pem().unwrap()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let sec1 = key.to_sec1_pem().unwrap();
        assert!(sec1.starts_with("-----BEGIN EC PRIVATE KEY-----"));
        let again = EcdsaPrivateKey::from_pem(curve, &sec1).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let public_pem = key.public_key().to_spki_pem().unwrap();
        assert_eq!(
            yaoshi_crypto::ecdsa::EcdsaPublicKey::from_spki_pem(curve, &public_pem).unwrap(),
            key.public_key()
        );
    }

    let ed = Ed25519PrivateKey::generate().unwrap();
    let again = Ed25519PrivateKey::from_pem(&ed.to_pkcs8_pem().unwrap()).unwrap();
    assert_eq!(again.public_key(), ed.public_key());
    let from_seed = Ed25519PrivateKey::from_seed(ed.seed().unwrap().expose()).unwrap();
    assert_eq!(from_seed.public_key(), ed.public_key());

    let rsa = rsa_2048();
    let again = RsaPrivateKey::from_pem(&rsa.to_pkcs8_pem().unwrap()).unwrap();
    assert_eq!(again.public_key().unwrap(), rsa.public_key().unwrap());
    assert_eq!(again.bits(), 2048);
}

#[test]
fn secrets_are_redacted_in_debug_output() {
    let key = Sm2PrivateKey::generate().unwrap();
    let scalar_hex = hex::encode(key.to_bytes().expose());
    let debug = format!("{key:?} {:?}", key.to_bytes());
    assert!(!debug.contains(&scalar_hex));
    assert!(debug.contains("REDACTED"));
}

#[test]
fn wrong_lengths_are_typed_errors() {
    assert_eq!(
        AeadKey::new(AeadAlgorithm::Sm4Gcm, &[0u8; 15]).unwrap_err(),
        CryptoError::InvalidKeyLength {
            algorithm: "sm4-gcm",
            expected: 16,
            actual: 15
        }
    );
    let key = AeadKey::new(AeadAlgorithm::Aes256Gcm, &[0u8; 32]).unwrap();
    assert!(matches!(
        key.seal(&[0u8; 8], b"", b"x"),
        Err(CryptoError::InvalidNonceLength { .. })
    ));
    assert!(matches!(
        sm4::cbc_decrypt(&[0u8; 16], &[0u8; 16], &[0u8; 15]),
        Err(CryptoError::InvalidCiphertext(_))
    ));
    assert!(matches!(
        Sm2PrivateKey::from_bytes(&[0u8; 32]),
        Err(CryptoError::InvalidKey(_))
    ));
    assert!(matches!(
        shamir::split(b"s", 3, 4),
        Err(CryptoError::InvalidInput(_))
    ));
}
