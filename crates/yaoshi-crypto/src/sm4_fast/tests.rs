//! Differential tests of every SM4 implementation this CPU can run (the
//! reference included, so the fallback stays covered) against the RustCrypto
//! reference: the S-box, the kernel, CTR, and GCM seal/open with tampering.

use super::*;
use cipher::BlockCipherEncrypt;
use proptest::prelude::*;

/// GB/T 32907 S-box.
const SBOX: [u8; 256] = [
    0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c, 0x05,
    0x2b, 0x67, 0x9a, 0x76, 0x2a, 0xbe, 0x04, 0xc3, 0xaa, 0x44, 0x13, 0x26, 0x49, 0x86, 0x06, 0x99,
    0x9c, 0x42, 0x50, 0xf4, 0x91, 0xef, 0x98, 0x7a, 0x33, 0x54, 0x0b, 0x43, 0xed, 0xcf, 0xac, 0x62,
    0xe4, 0xb3, 0x1c, 0xa9, 0xc9, 0x08, 0xe8, 0x95, 0x80, 0xdf, 0x94, 0xfa, 0x75, 0x8f, 0x3f, 0xa6,
    0x47, 0x07, 0xa7, 0xfc, 0xf3, 0x73, 0x17, 0xba, 0x83, 0x59, 0x3c, 0x19, 0xe6, 0x85, 0x4f, 0xa8,
    0x68, 0x6b, 0x81, 0xb2, 0x71, 0x64, 0xda, 0x8b, 0xf8, 0xeb, 0x0f, 0x4b, 0x70, 0x56, 0x9d, 0x35,
    0x1e, 0x24, 0x0e, 0x5e, 0x63, 0x58, 0xd1, 0xa2, 0x25, 0x22, 0x7c, 0x3b, 0x01, 0x21, 0x78, 0x87,
    0xd4, 0x00, 0x46, 0x57, 0x9f, 0xd3, 0x27, 0x52, 0x4c, 0x36, 0x02, 0xe7, 0xa0, 0xc4, 0xc8, 0x9e,
    0xea, 0xbf, 0x8a, 0xd2, 0x40, 0xc7, 0x38, 0xb5, 0xa3, 0xf7, 0xf2, 0xce, 0xf9, 0x61, 0x15, 0xa1,
    0xe0, 0xae, 0x5d, 0xa4, 0x9b, 0x34, 0x1a, 0x55, 0xad, 0x93, 0x32, 0x30, 0xf5, 0x8c, 0xb1, 0xe3,
    0x1d, 0xf6, 0xe2, 0x2e, 0x82, 0x66, 0xca, 0x60, 0xc0, 0x29, 0x23, 0xab, 0x0d, 0x53, 0x4e, 0x6f,
    0xd5, 0xdb, 0x37, 0x45, 0xde, 0xfd, 0x8e, 0x2f, 0x03, 0xff, 0x6a, 0x72, 0x6d, 0x6c, 0x5b, 0x51,
    0x8d, 0x1b, 0xaf, 0x92, 0xbb, 0xdd, 0xbc, 0x7f, 0x11, 0xd9, 0x5c, 0x41, 0x1f, 0x10, 0x5a, 0xd8,
    0x0a, 0xc1, 0x31, 0x88, 0xa5, 0xcd, 0x7b, 0xbd, 0x2d, 0x74, 0xd0, 0x12, 0xb8, 0xe5, 0xb4, 0xb0,
    0x89, 0x69, 0x97, 0x4a, 0x0c, 0x96, 0x77, 0x7e, 0x65, 0xb9, 0xf1, 0x09, 0xc5, 0x6e, 0xc6, 0x84,
    0x18, 0xf0, 0x7d, 0xec, 0x3a, 0xdc, 0x4d, 0x20, 0x79, 0xee, 0x5f, 0x3e, 0xd7, 0xcb, 0x39, 0x48,
];

fn simd_impls() -> Vec<Impl> {
    Impl::available()
        .into_iter()
        .filter(|imp| *imp != Impl::Reference)
        .collect()
}

fn reference_ctr(key: &[u8; 16], iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    ctr::Ctr128BE::<sm4::Sm4>::new(key.into(), iv.into()).apply_keystream(&mut out);
    out
}

fn reference_seal(key: &[u8; 16], nonce: &[u8; 12], aad: &[u8], msg: &[u8]) -> Vec<u8> {
    ReferenceGcm::new(key.into())
        .encrypt(nonce.into(), Payload { msg, aad })
        .unwrap()
}

#[test]
fn this_cpu_runs_a_simd_path() {
    // The CI and development machines have AES-NI; make a silent fallback visible.
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("aes") && std::is_x86_feature_detected!("pclmulqdq") {
        assert_ne!(detected(), Impl::Reference);
    }
    assert_eq!(Some(&detected()), Impl::available().last());
}

#[cfg(target_arch = "x86_64")]
#[test]
fn simd_sbox_matches_table() {
    if !simd_impls().contains(&Impl::Aesni) {
        return;
    }
    for base in (0..256).step_by(16) {
        let input: [u8; 16] = core::array::from_fn(|i| (base + i) as u8);
        #[allow(unsafe_code)]
        // SAFETY: `Impl::Aesni` is available, so SSSE3 and AES-NI are present.
        let out = unsafe { aesni::sbox_bytes(input) };
        for (x, y) in input.iter().zip(out) {
            assert_eq!(y, SBOX[*x as usize], "S({x:#04x})");
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn kernel_matches_reference_blocks() {
    // GB/T 32907 example 1 in slot 0, then pseudo-random keys and blocks.
    let mut seed = 0x1234_5678_9abc_def0_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed as u8
    };
    let example: [u8; 16] = [
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32,
        0x10,
    ];
    for round in 0..50 {
        let key: [u8; 16] = if round == 0 {
            example
        } else {
            core::array::from_fn(|_| next())
        };
        let mut blocks = [0u8; BATCH];
        blocks.iter_mut().for_each(|b| *b = next());
        if round == 0 {
            blocks[..16].copy_from_slice(&example);
        }
        let reference = sm4::Sm4::new((&key).into());
        let mut expected = blocks;
        for b in expected.chunks_exact_mut(16) {
            let mut block = cipher::Block::<sm4::Sm4>::try_from(&*b).unwrap();
            reference.encrypt_block(&mut block);
            b.copy_from_slice(&block);
        }
        if round == 0 {
            assert_eq!(
                expected[..16],
                [
                    0x68, 0x1e, 0xdf, 0x34, 0xd2, 0x06, 0x96, 0x5e, 0x86, 0xb3, 0xe9, 0x4f, 0x53,
                    0x6e, 0x42, 0x46
                ]
            );
        }
        for imp in simd_impls() {
            let mut got = blocks;
            RoundKeys::new(imp, &key).encrypt16(&mut got);
            assert_eq!(got, expected, "{imp:?}, round {round}");
        }
    }
}

#[test]
fn ctr_counter_wraps_like_the_reference() {
    let key = [7u8; 16];
    let iv = [0xff; 16];
    let data = vec![0x5a; 1000];
    let expected = reference_ctr(&key, &iv, &data);
    for imp in Impl::available() {
        assert_eq!(ctr_apply_with(imp, &key, &iv, &data), expected, "{imp:?}");
    }
}

#[test]
fn gcm_rfc8998_vector_on_every_implementation() {
    let key: [u8; 16] = hex::decode("0123456789ABCDEFFEDCBA9876543210")
        .unwrap()
        .try_into()
        .unwrap();
    let nonce: [u8; 12] = hex::decode("00001234567800000000ABCD")
        .unwrap()
        .try_into()
        .unwrap();
    let aad = hex::decode("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2").unwrap();
    let pt = hex::decode(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDEEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
    )
    .unwrap();
    let expected = hex::decode(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D83DE3541E4C2B58177E065A9BF7B62EC",
    )
    .unwrap();
    for imp in Impl::available() {
        let gcm = Sm4Gcm::new_with(imp, &key);
        assert_eq!(gcm.seal(&nonce, &aad, &pt).unwrap(), expected, "{imp:?}");
        assert_eq!(gcm.open(&nonce, &aad, &expected).unwrap(), pt, "{imp:?}");
    }
}

#[test]
fn gcm_open_rejects_short_input() {
    for imp in Impl::available() {
        let gcm = Sm4Gcm::new_with(imp, &[1u8; 16]);
        for len in 0..16 {
            assert_eq!(
                gcm.open(&[0u8; 12], b"", &vec![0u8; len]).unwrap_err(),
                CryptoError::AuthenticationFailed
            );
        }
    }
}

/// Checks every implementation against the reference for one input.
fn check_gcm(
    key: &[u8; 16],
    nonce: &[u8; 12],
    aad: &[u8],
    pt: &[u8],
    flip: usize,
    mask: u8,
) -> std::result::Result<(), TestCaseError> {
    let expected = reference_seal(key, nonce, aad, pt);
    for imp in Impl::available() {
        let gcm = Sm4Gcm::new_with(imp, key);
        let sealed = gcm.seal(nonce, aad, pt).unwrap();
        prop_assert_eq!(&sealed, &expected, "{:?} seal", imp);
        prop_assert_eq!(
            gcm.open(nonce, aad, &sealed).unwrap(),
            pt.to_vec(),
            "{:?} open",
            imp
        );
        // Tampering anywhere in ciphertext or tag, in the AAD, or in the nonce.
        let mut bad = sealed.clone();
        let i = flip % bad.len();
        bad[i] ^= mask;
        prop_assert_eq!(
            gcm.open(nonce, aad, &bad).unwrap_err(),
            CryptoError::AuthenticationFailed
        );
        let mut bad_aad = aad.to_vec();
        if bad_aad.is_empty() {
            bad_aad.push(mask);
        } else {
            let i = flip % bad_aad.len();
            bad_aad[i] ^= mask;
        }
        prop_assert_eq!(
            gcm.open(nonce, &bad_aad, &sealed).unwrap_err(),
            CryptoError::AuthenticationFailed
        );
        let mut bad_nonce = *nonce;
        bad_nonce[flip % 12] ^= mask;
        prop_assert_eq!(
            gcm.open(&bad_nonce, aad, &sealed).unwrap_err(),
            CryptoError::AuthenticationFailed
        );
        prop_assert_eq!(
            gcm.open(nonce, aad, &sealed[..sealed.len() - 1])
                .unwrap_err(),
            CryptoError::AuthenticationFailed
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn ctr_matches_reference(
        key in any::<[u8; 16]>(),
        iv in any::<[u8; 16]>(),
        data in proptest::collection::vec(any::<u8>(), 0..=1100),
    ) {
        let expected = reference_ctr(&key, &iv, &data);
        for imp in Impl::available() {
            prop_assert_eq!(&ctr_apply_with(imp, &key, &iv, &data), &expected, "{:?}", imp);
        }
    }

    #[test]
    fn gcm_matches_reference(
        key in any::<[u8; 16]>(),
        nonce in any::<[u8; 12]>(),
        aad in proptest::collection::vec(any::<u8>(), 0..=300),
        pt in proptest::collection::vec(any::<u8>(), 0..=1100),
        flip in any::<usize>(),
        mask in 1u8..,
    ) {
        check_gcm(&key, &nonce, &aad, &pt, flip, mask)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn ctr_matches_reference_multi_kib(
        key in any::<[u8; 16]>(),
        iv in any::<[u8; 16]>(),
        data in proptest::collection::vec(any::<u8>(), 1024..=20_000),
    ) {
        let expected = reference_ctr(&key, &iv, &data);
        for imp in Impl::available() {
            prop_assert_eq!(&ctr_apply_with(imp, &key, &iv, &data), &expected, "{:?}", imp);
        }
    }

    #[test]
    fn gcm_matches_reference_multi_kib(
        key in any::<[u8; 16]>(),
        nonce in any::<[u8; 12]>(),
        aad in proptest::collection::vec(any::<u8>(), 0..=3000),
        pt in proptest::collection::vec(any::<u8>(), 1024..=20_000),
        flip in any::<usize>(),
        mask in 1u8..,
    ) {
        check_gcm(&key, &nonce, &aad, &pt, flip, mask)?;
    }
}
