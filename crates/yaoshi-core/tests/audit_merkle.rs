//! RFC 6962 Merkle trees: the Certificate Transparency reference vectors and
//! property tests of proofs and the frontier, for SHA-256 and SM3.

use proptest::prelude::*;
use yaoshi_core::audit::chain::{ChainAlgorithm, Digest, entry_hash, leaf_hash, node_hash};
use yaoshi_core::audit::merkle::{
    self, Frontier, PrunedTree, consistency_proof, inclusion_proof, verify_consistency,
    verify_inclusion,
};

const SHA: ChainAlgorithm = ChainAlgorithm::Sha256;

fn h(s: &str) -> Digest {
    let mut d = [0u8; 32];
    hex::decode_to_slice(s, &mut d).unwrap();
    d
}

fn hs(list: &[&str]) -> Vec<Digest> {
    list.iter().map(|s| h(s)).collect()
}

// Test vectors: the Certificate Transparency reference tree, as published in
// transparency-dev/merkle `proof/verify_test.go` (originally
// google/certificate-transparency `merkle_tree_test.cc`). Leaf data, roots
// for sizes 1..=8, inclusion proofs (leaf numbers there are 1-based; here
// indices are 0-based) and consistency proofs. Values transcribed as data.
const INPUTS: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];
const EMPTY_ROOT: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (0-based index, tree size, audit path)
fn inclusion_vectors() -> Vec<(u64, u64, Vec<Digest>)> {
    vec![
        (0, 1, vec![]),
        (
            0,
            8,
            hs(&[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]),
        ),
        (
            5,
            8,
            hs(&[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]),
        ),
        (
            2,
            3,
            hs(&["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        ),
        (
            1,
            5,
            hs(&[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]),
        ),
    ]
}

/// (old size, new size, consistency proof)
fn consistency_vectors() -> Vec<(u64, u64, Vec<Digest>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            hs(&[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]),
        ),
        (
            6,
            8,
            hs(&[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]),
        ),
        (
            2,
            5,
            hs(&[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]),
        ),
        (
            6,
            7,
            hs(&[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]),
        ),
    ]
}

fn reference_leaves() -> Vec<Digest> {
    INPUTS
        .iter()
        .map(|s| leaf_hash(SHA, &hex::decode(s).unwrap()))
        .collect()
}

#[test]
fn rfc6962_roots() {
    let leaves = reference_leaves();
    assert_eq!(merkle::root(SHA, &[]), h(EMPTY_ROOT));
    assert_eq!(Frontier::new().root(SHA), h(EMPTY_ROOT));
    for n in 1..=8 {
        assert_eq!(merkle::root(SHA, &leaves[..n]), h(ROOTS[n - 1]), "size {n}");
        let frontier = Frontier::from_leaves(SHA, &leaves[..n]);
        assert_eq!(frontier.root(SHA), h(ROOTS[n - 1]), "frontier size {n}");
        assert_eq!(frontier.size(), n as u64);
    }
    // The leaf and node hash prefixes.
    assert_eq!(leaves[0], h(ROOTS[0]));
    assert_eq!(node_hash(SHA, &leaves[0], &leaves[1]), h(ROOTS[1]));
}

#[test]
fn rfc6962_inclusion_proofs() {
    let leaves = reference_leaves();
    for (index, size, want) in inclusion_vectors() {
        let tree = &leaves[..size as usize];
        let proof = inclusion_proof(SHA, tree, index).unwrap();
        assert_eq!(proof, want, "PATH({index}, D[{size}])");
        let root = h(ROOTS[size as usize - 1]);
        assert!(verify_inclusion(
            SHA,
            &leaves[index as usize],
            index,
            size,
            &want,
            &root
        ));
        // Corruptions (after transparency-dev's probes) all fail.
        let leaf = leaves[index as usize];
        assert!(!verify_inclusion(SHA, &leaf, index + 1, size, &want, &root));
        if index > 0 {
            assert!(!verify_inclusion(SHA, &leaf, index - 1, size, &want, &root));
        }
        assert!(!verify_inclusion(SHA, &leaf, index ^ 2, size, &want, &root) || index ^ 2 == index);
        assert!(!verify_inclusion(SHA, &leaf, index, size * 2, &want, &root));
        assert!(!verify_inclusion(
            SHA,
            &h(EMPTY_ROOT),
            index,
            size,
            &want,
            &root
        ));
        assert!(!verify_inclusion(
            SHA,
            &leaf,
            index,
            size,
            &want,
            &h(EMPTY_ROOT)
        ));
        let mut longer = want.clone();
        longer.push(root);
        assert!(!verify_inclusion(SHA, &leaf, index, size, &longer, &root));
        let mut prefixed = vec![root];
        prefixed.extend_from_slice(&want);
        assert!(!verify_inclusion(SHA, &leaf, index, size, &prefixed, &root));
        for i in 0..want.len() {
            let mut bad = want.clone();
            bad[i][0] ^= 8;
            assert!(!verify_inclusion(SHA, &leaf, index, size, &bad, &root));
        }
        if !want.is_empty() {
            assert!(!verify_inclusion(
                SHA,
                &leaf,
                index,
                size,
                &want[..want.len() - 1],
                &root
            ));
        }
    }
    assert!(inclusion_proof(SHA, &leaves, 8).is_err());
    assert!(inclusion_proof(SHA, &[], 0).is_err());
    assert!(!verify_inclusion(
        SHA,
        &leaves[0],
        0,
        0,
        &[],
        &h(EMPTY_ROOT)
    ));
}

#[test]
fn rfc6962_consistency_proofs() {
    let leaves = reference_leaves();
    for (old, new, want) in consistency_vectors() {
        let proof = consistency_proof(SHA, &leaves[..new as usize], old).unwrap();
        assert_eq!(proof, want, "PROOF({old}, D[{new}])");
        let r1 = h(ROOTS[old as usize - 1]);
        let r2 = h(ROOTS[new as usize - 1]);
        assert!(verify_consistency(SHA, old, new, &r1, &r2, &want));
        if want.is_empty() {
            continue;
        }
        assert!(!verify_consistency(SHA, old - 1, new, &r1, &r2, &want));
        assert!(!verify_consistency(SHA, old + 1, new, &r1, &r2, &want));
        assert!(!verify_consistency(SHA, old, new * 2, &r1, &r2, &want));
        assert!(!verify_consistency(SHA, old, new, &r2, &r1, &want));
        assert!(!verify_consistency(SHA, old, new, &r1, &r2, &[]));
        assert!(!verify_consistency(
            SHA,
            old,
            new,
            &r1,
            &r2,
            &want[..want.len() - 1]
        ));
        let mut longer = want.clone();
        longer.push(r2);
        assert!(!verify_consistency(SHA, old, new, &r1, &r2, &longer));
        let mut prefixed = vec![want[0]];
        prefixed.extend_from_slice(&want);
        assert!(!verify_consistency(SHA, old, new, &r1, &r2, &prefixed));
        for i in 0..want.len() {
            let mut bad = want.clone();
            bad[i][0] ^= 16;
            assert!(!verify_consistency(SHA, old, new, &r1, &r2, &bad));
        }
    }
    // Edge cases as in transparency-dev's TestVerifyConsistency.
    let (a, b) = (h(ROOTS[0]), h(ROOTS[1]));
    assert!(verify_consistency(SHA, 0, 0, &a, &a, &[]));
    assert!(!verify_consistency(SHA, 0, 0, &a, &b, &[]));
    assert!(verify_consistency(SHA, 0, 1, &a, &b, &[]));
    assert!(!verify_consistency(SHA, 0, 1, &a, &b, &[a]));
    assert!(!verify_consistency(SHA, 1, 0, &a, &b, &[]));
    assert!(!verify_consistency(SHA, 2, 1, &a, &b, &[]));
    assert!(!verify_consistency(SHA, 1, 2, &a, &b, &[]));
    assert!(!verify_consistency(SHA, 1, 1, &a, &a, &[a]));
    assert!(consistency_proof(SHA, &leaves[..3], 4).is_err());
    assert_eq!(
        consistency_proof(SHA, &leaves, 0).unwrap(),
        Vec::<Digest>::new()
    );
    assert_eq!(
        consistency_proof(SHA, &leaves, 8).unwrap(),
        Vec::<Digest>::new()
    );
}

#[test]
fn frontier_matches_root_for_every_size_up_to_300() {
    for alg in [ChainAlgorithm::Sha256, ChainAlgorithm::Sm3] {
        let leaves = test_leaves(alg, 300);
        let mut frontier = Frontier::new();
        assert_eq!(frontier.root(alg), merkle::root(alg, &[]));
        for n in 1..=300usize {
            frontier.push(alg, leaves[n - 1]);
            assert_eq!(frontier.size(), n as u64);
            assert_eq!(frontier.nodes.len(), n.count_ones() as usize);
            frontier.validate().unwrap();
            assert_eq!(
                frontier.root(alg),
                merkle::root(alg, &leaves[..n]),
                "{alg} size {n}"
            );
        }
    }
}

#[test]
fn frontier_validation_rejects_bad_shapes() {
    let leaves = test_leaves(SHA, 5);
    let good = Frontier::from_leaves(SHA, &leaves);
    let mut bad = good.clone();
    bad.size = 7;
    assert!(bad.validate().is_err());
    let mut bad = good.clone();
    bad.nodes[0] = bad.nodes[0].to_uppercase();
    assert!(bad.validate().is_err());
    let mut bad = good.clone();
    bad.nodes.push(bad.nodes[0].clone());
    assert!(bad.validate().is_err());
    // Invalid frontiers never panic.
    let mut weird = Frontier {
        size: u64::MAX,
        nodes: vec!["zz".into()],
    };
    let _ = weird.root(SHA);
    weird.push(SHA, leaves[0]);
    let _ = weird.try_root(SHA);
}

#[test]
fn sm3_and_sha256_differ() {
    let prev = [7u8; 32];
    assert_ne!(
        entry_hash(ChainAlgorithm::Sm3, 1, &prev, b"{}"),
        entry_hash(ChainAlgorithm::Sha256, 1, &prev, b"{}")
    );
    // seq, prev and body all matter.
    let base = entry_hash(SHA, 1, &prev, b"{}");
    assert_ne!(base, entry_hash(SHA, 2, &prev, b"{}"));
    assert_ne!(base, entry_hash(SHA, 1, &[8u8; 32], b"{}"));
    assert_ne!(base, entry_hash(SHA, 1, &prev, b"{ }"));
    assert_eq!(
        ChainAlgorithm::from_name("sm3").unwrap(),
        ChainAlgorithm::Sm3
    );
    assert_eq!(
        ChainAlgorithm::from_name("sha256").unwrap(),
        ChainAlgorithm::Sha256
    );
    assert!(ChainAlgorithm::from_name("SHA256").is_err());
    assert_eq!(
        serde_json::to_string(&ChainAlgorithm::Sm3).unwrap(),
        "\"sm3\""
    );
}

fn test_leaves(alg: ChainAlgorithm, n: usize) -> Vec<Digest> {
    (0..n)
        .map(|i| leaf_hash(alg, format!("leaf-{i}").as_bytes()))
        .collect()
}

fn any_alg() -> impl Strategy<Value = ChainAlgorithm> {
    prop_oneof![Just(ChainAlgorithm::Sha256), Just(ChainAlgorithm::Sm3)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn inclusion_proofs_verify_and_tampering_fails(
        alg in any_alg(),
        size in 1u64..=300,
        pick in any::<u64>(),
        flip in any::<(usize, usize, u8)>(),
    ) {
        let more = test_leaves(alg, 2 * size as usize);
        let leaves = &more[..size as usize];
        let root = merkle::root(alg, leaves);
        let index = pick % size;
        let leaf = leaves[index as usize];
        let proof = inclusion_proof(alg, leaves, index).unwrap();
        prop_assert!(verify_inclusion(alg, &leaf, index, size, &proof, &root));
        prop_assert_eq!(Frontier::from_leaves(alg, leaves).root(alg), root);
        // Flipping any bit of any proof byte fails.
        if !proof.is_empty() {
            let (i, j, bit) = flip;
            let mut bad = proof.clone();
            bad[i % proof.len()][j % 32] ^= 1 << (bit % 8);
            prop_assert!(!verify_inclusion(alg, &leaf, index, size, &bad, &root));
        }
        // A wrong index fails.
        for wrong in [index.wrapping_add(1), index.wrapping_sub(1), index ^ 1] {
            if wrong != index && wrong < size {
                prop_assert!(!verify_inclusion(alg, &leaf, wrong, size, &proof, &root));
            }
        }
        prop_assert!(!verify_inclusion(alg, &leaf, size, size, &proof, &root));
        // A wrong size fails against the root of a tree of that size. (Against
        // this tree's root a larger size can succeed when the path has the
        // same shape: RFC 6962 binds the size through the signed tree head.)
        for wrong in [size + 1, size * 2, size / 2, size.saturating_sub(1)] {
            if wrong != size && index < wrong {
                let wrong_root = merkle::root(alg, &more[..wrong as usize]);
                prop_assert!(!verify_inclusion(alg, &leaf, index, wrong, &proof, &wrong_root));
            }
        }
        // Another leaf fails.
        prop_assert!(!verify_inclusion(alg, &[0x42; 32], index, size, &proof, &root));
        prop_assert!(inclusion_proof(alg, leaves, size).is_err());
    }

    /// A tree whose first `pruned` leaves are known only by their frontier
    /// gives the same inclusion proofs for every later leaf, and the same
    /// consistency proofs from every size at or above `pruned`, as the full
    /// tree; proofs that need a pruned leaf are refused, never wrong.
    #[test]
    fn pruned_prefix_proofs_equal_full_tree_proofs(
        alg in any_alg(),
        size in 1u64..=200,
        cut in any::<u64>(),
    ) {
        let leaves = test_leaves(alg, size as usize);
        let pruned = cut % (size + 1);
        let frontier = Frontier::from_leaves(alg, &leaves[..pruned as usize]);
        let tree = PrunedTree::new(alg, &frontier, &leaves[pruned as usize..]).unwrap();
        prop_assert_eq!(tree.size(), size);
        for index in 0..size {
            let full = inclusion_proof(alg, &leaves, index).unwrap();
            match tree.inclusion_proof(index) {
                Ok(p) => prop_assert_eq!(p, full),
                Err(_) => prop_assert!(index < pruned, "leaf {} refused", index),
            }
        }
        for old in 0..=size {
            let full = consistency_proof(alg, &leaves, old).unwrap();
            match tree.consistency_proof(old) {
                Ok(p) => prop_assert_eq!(p, full),
                Err(_) => prop_assert!(old < pruned, "old size {} refused", old),
            }
        }
    }

    #[test]
    fn consistency_proofs_verify_and_tampering_fails(
        alg in any_alg(),
        size in 1u64..=300,
        pick in any::<u64>(),
        flip in any::<(usize, usize, u8)>(),
    ) {
        let more = test_leaves(alg, 2 * size as usize);
        let leaves = &more[..size as usize];
        let new_root = merkle::root(alg, leaves);
        let old = pick % (size + 1);
        let old_root = merkle::root(alg, &leaves[..old as usize]);
        let proof = consistency_proof(alg, leaves, old).unwrap();
        prop_assert!(verify_consistency(alg, old, size, &old_root, &new_root, &proof));
        if old > 0 && old < size {
            prop_assert!(!proof.is_empty());
            let (i, j, bit) = flip;
            let mut bad = proof.clone();
            bad[i % proof.len()][j % 32] ^= 1 << (bit % 8);
            prop_assert!(!verify_consistency(alg, old, size, &old_root, &new_root, &bad));
            // Wrong sizes, with those sizes' real roots, fail.
            for wrong_old in [old - 1, old + 1] {
                if wrong_old > 0 && wrong_old < size {
                    let r = merkle::root(alg, &leaves[..wrong_old as usize]);
                    prop_assert!(!verify_consistency(alg, wrong_old, size, &r, &new_root, &proof));
                    prop_assert!(!verify_consistency(alg, wrong_old, size, &old_root, &new_root, &proof));
                }
            }
            for wrong in [size + 1, size * 2] {
                let r = merkle::root(alg, &more[..wrong as usize]);
                prop_assert!(!verify_consistency(alg, old, wrong, &old_root, &r, &proof));
            }
            prop_assert!(!verify_consistency(alg, old, size, &new_root, &old_root, &proof));
            prop_assert!(!verify_consistency(alg, old, size, &old_root, &new_root, &proof[1..]));
            // A different log of the same size is not consistent.
            let forked_root = merkle::root(alg, &test_leaves(alg, size as usize + 1)[1..]);
            prop_assert!(!verify_consistency(alg, old, size, &old_root, &forked_root, &proof));
        }
        prop_assert!(consistency_proof(alg, leaves, size + 1).is_err());
    }

    #[test]
    fn verifiers_never_panic_on_junk(
        alg in any_alg(),
        leaf in any::<[u8; 32]>(),
        root in any::<[u8; 32]>(),
        index in any::<u64>(),
        size in any::<u64>(),
        size2 in any::<u64>(),
        proof in proptest::collection::vec(any::<[u8; 32]>(), 0..70),
    ) {
        let _ = verify_inclusion(alg, &leaf, index, size, &proof, &root);
        let _ = verify_consistency(alg, size, size2, &leaf, &root, &proof);
        let _ = verify_consistency(alg, size.min(size2), size.max(size2), &leaf, &root, &proof);
    }
}
