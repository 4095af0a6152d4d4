//! Differential tests of the SM2 fast path ([`super::field`], [`super::scalar`],
//! [`super::point`], [`super::table`] and the signing and verification built
//! on them) against RustCrypto `sm2` (its `ProjectivePoint`, `Scalar` and
//! `dsa` module) and a big-integer reference (`crypto-bigint`'s `U256`).

use super::DEFAULT_SIGNER_ID;
use super::field::{Fe, P};
use super::keys::{Sm2PrivateKey, Sm2PublicKey};
use super::point::{Affine, Jacobian, double_mul_tables_vartime, double_mul_vartime, mul_base};
use super::scalar::{N, Sc};
use super::sign::verify_scalars;
use crate::error::CryptoError;
use proptest::prelude::*;
use sm2::elliptic_curve::bigint::{NonZero, U256};
use sm2::elliptic_curve::ops::LinearCombination;
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm2::elliptic_curve::{Group, PrimeField};
use sm2::{ProjectivePoint, Scalar};

fn u256(limbs: &[u64; 4]) -> U256 {
    U256::from_be_slice(&super::field::limbs_to_be(limbs))
}

fn limbs(x: &U256) -> [u64; 4] {
    let bytes: [u8; 32] = x.to_be_bytes().as_ref().try_into().unwrap();
    super::field::limbs_from_be(&bytes)
}

fn modulus(m: &[u64; 4]) -> NonZero<U256> {
    NonZero::new(u256(m)).unwrap()
}

/// An arbitrary value below `m` (reduced from 256 random bits).
fn below(m: &'static [u64; 4]) -> impl Strategy<Value = [u64; 4]> {
    any::<[u64; 4]>().prop_map(move |x| limbs(&u256(&x).rem_vartime(&modulus(m))))
}

fn fe(x: [u64; 4]) -> Fe {
    Fe::from_canonical(x)
}

fn rc_scalar(k: &[u64; 4]) -> Scalar {
    Option::from(Scalar::from_repr(super::field::limbs_to_be(k).into())).unwrap()
}

/// Compares a Jacobian point with RustCrypto's projective point.
fn same_point(ours: &Jacobian, theirs: &ProjectivePoint) -> bool {
    match ours.to_affine() {
        None => bool::from(theirs.is_identity()),
        Some(a) => {
            if bool::from(theirs.is_identity()) {
                return false;
            }
            let sec1 = theirs.to_affine().to_sec1_point(false);
            let bytes = sec1.as_bytes();
            bytes[1..33] == a.x.to_bytes() && bytes[33..65] == a.y.to_bytes()
        }
    }
}

fn affine_of(point: &ProjectivePoint) -> Affine {
    let sec1 = point.to_affine().to_sec1_point(false);
    let bytes = sec1.as_bytes();
    Affine::from_xy_bytes(
        bytes[1..33].try_into().unwrap(),
        bytes[33..65].try_into().unwrap(),
    )
    .unwrap()
}

const N_MINUS_1: [u64; 4] = [N[0] - 1, N[1], N[2], N[3]];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn field_ops_match_bigint(a in below(&P), b in below(&P)) {
        let p = modulus(&P);
        let (ua, ub) = (u256(&a), u256(&b));
        prop_assert_eq!(fe(a).mul(&fe(b)).to_canonical(), limbs(&ua.mul_mod(&ub, &p)));
        prop_assert_eq!(fe(a).square().to_canonical(), limbs(&ua.mul_mod(&ua, &p)));
        prop_assert_eq!(fe(a).add(&fe(b)).to_canonical(), limbs(&ua.add_mod(&ub, &p)));
        prop_assert_eq!(fe(a).sub(&fe(b)).to_canonical(), limbs(&ua.sub_mod(&ub, &p)));
        prop_assert_eq!(fe(a).neg().to_canonical(), limbs(&U256::ZERO.sub_mod(&ua, &p)));
        let inv = fe(a).invert();
        if a == [0; 4] {
            prop_assert!(bool::from(inv.is_zero()));
        } else {
            prop_assert_eq!(inv.mul(&fe(a)).to_canonical(), [1, 0, 0, 0]);
        }
    }

    #[test]
    fn special_reduction_matches_generic(a in below(&P), b in any::<[u64; 4]>()) {
        // Any t < p·2^256 (here a·b with a < p).
        let t = super::field::mul_wide(&a, &b);
        prop_assert_eq!(
            super::field::mont_reduce_p_for_test(t),
            super::field::mont_reduce(t, &P, 1)
        );
        let max = super::field::mul_wide(&[P[0] - 1, P[1], P[2], P[3]], &[u64::MAX; 4]);
        prop_assert_eq!(
            super::field::mont_reduce_p_for_test(max),
            super::field::mont_reduce(max, &P, 1)
        );
    }

    #[test]
    fn scalar_ops_match_bigint(a in below(&N), b in below(&N)) {
        let n = modulus(&N);
        let (ua, ub) = (u256(&a), u256(&b));
        prop_assert_eq!(Sc(a).mont_mul(&Sc(b).to_mont()).0, limbs(&ua.mul_mod(&ub, &n)));
        prop_assert_eq!(Sc(a).add(&Sc(b)).0, limbs(&ua.add_mod(&ub, &n)));
        prop_assert_eq!(Sc(a).sub(&Sc(b)).0, limbs(&ua.sub_mod(&ub, &n)));
        if a != [0; 4] {
            let inv = Sc(a).to_mont().mont_invert(); // a^-1·R
            prop_assert_eq!(inv.mont_mul(&Sc(a)).0, [1, 0, 0, 0]);
        }
    }

    #[test]
    fn reduce_bytes_matches_bigint(x in any::<[u8; 32]>()) {
        let n = modulus(&N);
        prop_assert_eq!(
            Sc::reduce_bytes(&x).0,
            limbs(&U256::from_be_slice(&x).rem_vartime(&n))
        );
    }

    #[test]
    fn mul_base_matches_rustcrypto(k in below(&N)) {
        let theirs = ProjectivePoint::mul_by_generator(&rc_scalar(&k));
        prop_assert!(same_point(&mul_base(&k), &theirs));
    }

    #[test]
    fn double_mul_matches_rustcrypto(a in below(&N), b in below(&N), d in below(&N)) {
        prop_assume!(d != [0; 4]);
        let q = ProjectivePoint::mul_by_generator(&rc_scalar(&d));
        let theirs = ProjectivePoint::lincomb(&[
            (ProjectivePoint::generator(), rc_scalar(&a)),
            (q, rc_scalar(&b)),
        ]);
        let q_affine = affine_of(&q);
        prop_assert!(same_point(&double_mul_vartime(&a, &q_affine, &b), &theirs));
        let q_table = super::table::build_table(&q_affine);
        prop_assert!(same_point(&double_mul_tables_vartime(&a, &q_table, &b), &theirs));
    }

    #[test]
    fn signatures_interoperate_with_rustcrypto(
        d in any::<[u8; 32]>(),
        message in proptest::collection::vec(any::<u8>(), 0..200),
        id in proptest::collection::vec(b'a'..=b'z', 1..20),
    ) {
        use sm2::dsa::signature::{Signer, Verifier};
        let Ok(key) = Sm2PrivateKey::from_bytes(&d) else {
            return Ok(());
        };
        let id_str = String::from_utf8(id.clone()).unwrap();
        for signer_id in [DEFAULT_SIGNER_ID, &id[..]] {
            let signer_str = std::str::from_utf8(signer_id).unwrap();
            let ours = key.sign(signer_id, &message).unwrap();
            let verifier = sm2::dsa::VerifyingKey::from_sec1_bytes(
                signer_str,
                &key.public_key().to_sec1_uncompressed(),
            )
            .unwrap();
            let parsed = sm2::dsa::Signature::from_der(&ours).unwrap();
            prop_assert!(verifier.verify(&message, &parsed).is_ok());

            let secret = sm2::SecretKey::from_slice(&d).unwrap();
            let signer = sm2::dsa::SigningKey::new(signer_str, &secret).unwrap();
            let theirs: sm2::dsa::Signature = signer.sign(&message);
            prop_assert!(key
                .public_key()
                .verify(signer_id, &message, &theirs.to_der().to_vec())
                .is_ok());
            // A different message or signer does not verify.
            let mut other = message.clone();
            other.push(1);
            prop_assert_eq!(
                key.public_key().verify(signer_id, &other, &ours),
                Err(CryptoError::InvalidSignature)
            );
        }
        let _ = id_str;
    }
}

#[test]
fn mul_base_edge_scalars() {
    let mut scalars = vec![
        [0, 0, 0, 0],
        [1, 0, 0, 0],
        [2, 0, 0, 0],
        [15, 0, 0, 0],
        [16, 0, 0, 0],
        [17, 0, 0, 0],
        [31, 0, 0, 0],
        [32, 0, 0, 0],
        [33, 0, 0, 0],
        N_MINUS_1,
        [N[0] - 2, N[1], N[2], N[3]],
        [0, 0, 0, 1 << 63],
        [u64::MAX, u64::MAX, u64::MAX, 0x7fff_ffff_ffff_ffff],
        // Every window's digit is -16 (0b10000 repeated) or +15.
        [
            0x8421_0842_1084_2108,
            0x4210_8421_0842_1084,
            0x2108_4210_8421_0842,
            0x1084_2108_4210_8421,
        ],
        [
            0x7bde_f7bd_ef7b_def7,
            0xbdef_7bde_f7bd_ef7b,
            0xdef7_bdef_7bde_f7bd,
            0x6f7b_def7_bdef_7bde,
        ],
    ];
    for i in 0..256 {
        let mut k = [0u64; 4];
        k[i / 64] = 1 << (i % 64);
        scalars.push(k);
    }
    for k in scalars {
        if !bool::from(super::field::lt(&k, &N)) {
            continue;
        }
        let theirs = ProjectivePoint::mul_by_generator(&rc_scalar(&k));
        assert!(same_point(&mul_base(&k), &theirs), "k = {k:x?}");
    }
    // 1·G is the generator, (n-1)·G its negation.
    let g = super::table::generator();
    let one = mul_base(&[1, 0, 0, 0]).to_affine().unwrap();
    assert!(bool::from(one.x.ct_eq(&g.x) & one.y.ct_eq(&g.y)));
    let minus = mul_base(&N_MINUS_1).to_affine().unwrap();
    assert!(bool::from(minus.x.ct_eq(&g.x) & minus.y.ct_eq(&g.y.neg())));
    assert!(bool::from(mul_base(&[0; 4]).is_identity()));
}

#[test]
fn double_mul_edge_cases() {
    let g = super::table::generator();
    // a·G + b·G with a + b = n is the identity; with a = b the doubling path runs.
    let a = [5, 0, 0, 0];
    let b = [N[0] - 5, N[1], N[2], N[3]];
    assert!(bool::from(double_mul_vartime(&a, &g, &b).is_identity()));
    let two = double_mul_vartime(&[1, 0, 0, 0], &g, &[1, 0, 0, 0]);
    assert!(same_point(
        &two,
        &ProjectivePoint::mul_by_generator(&rc_scalar(&[2, 0, 0, 0]))
    ));
    assert!(bool::from(
        double_mul_vartime(&[0; 4], &g, &[0; 4]).is_identity()
    ));
    let q = double_mul_vartime(&[0; 4], &g, &N_MINUS_1);
    assert!(same_point(
        &q,
        &ProjectivePoint::mul_by_generator(&rc_scalar(&N_MINUS_1))
    ));
}

fn test_key() -> Sm2PrivateKey {
    Sm2PrivateKey::from_bytes(
        &hex::decode("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8").unwrap(),
    )
    .unwrap()
}

/// `x1 mod n` of `k·G`.
fn x1_mod_n(k: &Sc) -> Sc {
    Sc::reduce_limbs(mul_base(&k.0).affine_x().unwrap().to_canonical())
}

fn d_of(key: &Sm2PrivateKey) -> Sc {
    Sc::reduce_bytes(key.to_bytes().expose().try_into().unwrap())
}

#[test]
fn signing_rejects_r_zero_r_plus_k_n_and_s_zero() {
    let key = test_key();
    let k = Sc([0x1234_5678, 0x9abc, 0xdef0, 0x4242]);
    let x1 = x1_mod_n(&k);
    // r = e + x1 = 0.
    let e = Sc([0; 4]).sub(&x1).to_bytes();
    assert!(key.sign_with_scalar(&e, &k).is_none());
    // r + k = n, i.e. r = -k.
    let e = Sc([0; 4]).sub(&k).sub(&x1).to_bytes();
    assert!(key.sign_with_scalar(&e, &k).is_none());
    // s = 0, i.e. k = r·d, r = k·d^-1.
    let d_inv_mont = d_of(&key).to_mont().mont_invert();
    let r = k.mont_mul(&d_inv_mont);
    let e = r.sub(&x1).to_bytes();
    assert!(key.sign_with_scalar(&e, &k).is_none());
    // A neighbouring e signs and verifies.
    let e = r.sub(&x1).add(&Sc::ONE).to_bytes();
    let (r, s) = key.sign_with_scalar(&e, &k).unwrap();
    let cache = key.public_key().cache();
    verify_scalars(&cache.affine, None, &e, &r, &s).unwrap();
    let table = super::table::build_table(&cache.affine);
    verify_scalars(&cache.affine, Some(&table), &e, &r, &s).unwrap();
}

#[test]
fn verification_rejects_identity_and_t_zero() {
    let key = test_key();
    let public = key.public_key();
    let q = &public.cache().affine;
    let e = [7u8; 32];
    let d = d_of(&key);
    // s·G + (r+s)·P = O  <=>  s = -r·d·(1+d)^-1.
    let r = Sc([99, 0, 0, 0]);
    let one_plus_d_inv_mont = d.add(&Sc::ONE).to_mont().mont_invert();
    let s = Sc([0; 4])
        .sub(&r.mont_mul(&d.to_mont()))
        .mont_mul(&one_plus_d_inv_mont);
    assert!(bool::from(
        double_mul_vartime(&s.0, q, &r.add(&s).0).is_identity()
    ));
    let table = super::table::build_table(q);
    for q_table in [None, Some(&*table)] {
        assert_eq!(
            verify_scalars(q, q_table, &e, &r, &s),
            Err(CryptoError::InvalidSignature)
        );
    }
    // r + s = n.
    let s = Sc([0; 4]).sub(&r);
    let table = super::table::build_table(q);
    for q_table in [None, Some(&*table)] {
        assert_eq!(
            verify_scalars(q, q_table, &e, &r, &s),
            Err(CryptoError::InvalidSignature)
        );
    }
    // DER with r = 0 or s = 0 is refused by the parser.
    for (r, s) in [([0u8; 32], [1u8; 32]), ([1u8; 32], [0u8; 32])] {
        let mut der = vec![0x30, 0];
        for part in [&r[..], &s[..]] {
            let trimmed: Vec<u8> = {
                let t: Vec<u8> = part.iter().copied().skip_while(|&b| b == 0).collect();
                if t.is_empty() { vec![0] } else { t }
            };
            der.push(0x02);
            der.push(trimmed.len() as u8);
            der.extend_from_slice(&trimmed);
        }
        der[1] = (der.len() - 2) as u8;
        assert_eq!(
            public.verify_digest(&e, &der),
            Err(CryptoError::InvalidSignature)
        );
    }
}

#[test]
fn cached_z_matches_fresh_computation() {
    let key = test_key();
    let public: &Sm2PublicKey = key.public_key();
    assert_eq!(
        public.z_value(DEFAULT_SIGNER_ID).unwrap(),
        public.compute_z(DEFAULT_SIGNER_ID).unwrap()
    );
    let clone = public.clone();
    assert_eq!(&clone, public);
    assert_eq!(
        Sm2PublicKey::from_sec1_bytes(&public.to_sec1_uncompressed()).unwrap(),
        clone
    );
}

#[test]
fn cached_scalars_match_the_key() {
    let key = test_key();
    let d = d_of(&key);
    // d_mont·1 = d, and (1+d)·(1+d)^-1 = 1.
    assert_eq!(key.scalars.d_mont.mont_mul(&Sc::ONE), d);
    assert_eq!(
        key.scalars.one_plus_d_inv_mont.mont_mul(&d.add(&Sc::ONE)),
        Sc::ONE
    );
}

/// A dudect-style check (Reparaz, Balasch, Verbauwhede 2017) of signing time
/// for two classes of nonces, printing Welch's t statistic: class 0 uses one
/// fixed low-weight nonce (k = 1, whose digits are nearly all zero), class 1
/// fresh random nonces; classes are interleaved at random and samples above the
/// 90th percentile are cropped. |t| well below
/// ~4.5 means no timing difference was detected. Not a pass/fail test: run with
/// `cargo test -p yaoshi-crypto --release sm2_signing_timing -- --ignored --nocapture`.
#[test]
#[ignore = "statistical timing measurement; prints a t statistic"]
fn sm2_signing_timing_dudect() {
    use std::time::Instant;
    let key = test_key();
    let e = [0x5au8; 32];
    let fixed = Sc([1, 0, 0, 0]);
    let samples = 20_000;
    let coin = crate::random::bytes(samples).unwrap();
    let _ = key.sign_with_scalar(&e, &fixed); // warm the table
    let mut times = Vec::with_capacity(samples);
    for c in coin.iter() {
        let class = (*c & 1) as usize;
        let k = if class == 0 {
            fixed
        } else {
            let bytes: [u8; 32] = crate::random::array().unwrap();
            let k = Sc::reduce_bytes(&bytes);
            if bool::from(k.is_zero()) { fixed } else { k }
        };
        let start = Instant::now();
        let out = key.sign_with_scalar(&e, &k);
        let elapsed = start.elapsed().as_nanos() as f64;
        std::hint::black_box(out);
        times.push((class, elapsed));
    }
    // Crop interrupts and scheduling noise: drop samples above the pooled 90th percentile.
    let mut sorted: Vec<f64> = times.iter().map(|&(_, t)| t).collect();
    sorted.sort_by(f64::total_cmp);
    let crop = sorted[sorted.len() * 9 / 10];
    let mut stats = [(0f64, 0f64, 0f64); 2]; // (count, mean, M2), Welford
    for &(class, elapsed) in times.iter().filter(|&&(_, t)| t <= crop) {
        let (n, mean, m2) = &mut stats[class];
        *n += 1.0;
        let delta = elapsed - *mean;
        *mean += delta / *n;
        *m2 += delta * (elapsed - *mean);
    }
    let var = |(n, _, m2): (f64, f64, f64)| m2 / (n - 1.0);
    let t = (stats[0].1 - stats[1].1)
        / (var(stats[0]) / stats[0].0 + var(stats[1]) / stats[1].0).sqrt();
    println!(
        "SM2 signing: fixed k mean {:.0} ns (n={}), random k mean {:.0} ns (n={}), Welch t = {t:.2}",
        stats[0].1, stats[0].0, stats[1].1, stats[1].0
    );
}
