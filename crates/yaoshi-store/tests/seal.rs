//! Shamir seal: any `threshold` of `shares` unseal, fewer do not, wrong shares
//! are rejected, and a restarted node needs unsealing again. Dev seal: the
//! root key does not survive a restart.

mod support;

use std::sync::Arc;
use yaoshi_core::kms::encryption::{DecryptRequest, EncryptRequest};
use yaoshi_core::kms::{InitRequest, InitSeal};
use yaoshi_core::store::Store;
use yaoshi_core::{Kms, KmsError, KmsOptions};

async fn file_store(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    let url = format!("sqlite://{}", dir.path().join("yaoshi.db").display());
    yaoshi_store::open(&url).await.expect("sqlite file store")
}

fn shamir(shares: u8, threshold: u8) -> InitRequest {
    InitRequest::new(InitSeal::Shamir { shares, threshold })
}

/// Every 3-subset of 5 shares, in order.
fn subsets() -> Vec<[usize; 3]> {
    let mut out = Vec::new();
    for a in 0..5 {
        for b in a + 1..5 {
            for c in b + 1..5 {
                out.push([a, b, c]);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_threshold_of_shares_unseals_and_fewer_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let kms = Kms::new(file_store(&dir).await, KmsOptions::default());
    let status = kms.seal_status().await.unwrap();
    assert!(!status.initialized && status.sealed);
    let init = kms.init(shamir(5, 3)).await.unwrap();
    assert_eq!(init.shares.len(), 5);
    assert!(matches!(
        kms.init(shamir(5, 3)).await.unwrap_err(),
        KmsError::AlreadyInitialized
    ));
    assert!(kms.is_sealed(), "a Shamir deployment starts sealed");
    assert!(matches!(
        kms.list_keys("transit").await.unwrap_err(),
        KmsError::Sealed
    ));

    let mut ciphertext = None;
    for subset in subsets() {
        let kms = Kms::new(file_store(&dir).await, KmsOptions::default());
        for (i, share) in subset.iter().enumerate() {
            let status = kms.unseal(init.shares[*share].expose()).await.unwrap();
            if i < 2 {
                assert!(
                    status.sealed,
                    "{subset:?}: {} shares must not unseal",
                    i + 1
                );
                assert_eq!(status.progress as usize, i + 1);
                assert!(!status.nonce.is_empty());
            } else {
                assert!(!status.sealed, "{subset:?} unseals");
                assert_eq!(status.progress, 0);
            }
        }
        // The same root key every time: data written under one subset opens under all.
        match &ciphertext {
            None => {
                ciphertext = Some(
                    kms.encrypt(
                        "transit",
                        "k",
                        b"persisted",
                        EncryptRequest {
                            upsert: true,
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap(),
                )
            }
            Some(ct) => assert_eq!(
                kms.decrypt("transit", "k", ct, DecryptRequest::default())
                    .await
                    .unwrap()
                    .expose(),
                b"persisted"
            ),
        }
        kms.seal();
        assert!(kms.is_sealed());
        assert!(matches!(
            kms.decrypt(
                "transit",
                "k",
                ciphertext.as_ref().unwrap(),
                DecryptRequest::default()
            )
            .await
            .unwrap_err(),
            KmsError::Sealed
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_and_repeated_shares_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let kms = Kms::new(file_store(&dir).await, KmsOptions::default());
    let init = kms.init(shamir(5, 3)).await.unwrap();
    let other = Kms::new(file_store(&other_dir).await, KmsOptions::default());
    let foreign = other.init(shamir(5, 3)).await.unwrap();

    // A share of another deployment mixed with two right ones.
    kms.unseal(init.shares[0].expose()).await.unwrap();
    kms.unseal(init.shares[1].expose()).await.unwrap();
    let err = kms.unseal(foreign.shares[2].expose()).await.unwrap_err();
    assert!(err.to_string().contains("unseal failed"), "{err}");
    let status = kms.seal_status().await.unwrap();
    assert!(
        status.sealed && status.progress == 0,
        "a failed attempt resets progress"
    );

    // A corrupted share.
    let mut bad = init.shares[2].expose().to_vec();
    bad[10] ^= 0x55;
    kms.unseal(init.shares[0].expose()).await.unwrap();
    kms.unseal(init.shares[1].expose()).await.unwrap();
    assert!(kms.unseal(&bad).await.is_err());
    assert!(kms.is_sealed());

    // The same share twice, garbage, and the wrong threshold byte.
    kms.unseal(init.shares[0].expose()).await.unwrap();
    assert!(
        kms.unseal(init.shares[0].expose())
            .await
            .unwrap_err()
            .to_string()
            .contains("already supplied")
    );
    assert!(kms.unseal(b"not a share").await.is_err());
    let two_of_three = Kms::new(support::sqlite_memory().await, KmsOptions::default());
    let small = two_of_three.init(shamir(3, 2)).await.unwrap();
    assert!(
        kms.unseal(small.shares[0].expose())
            .await
            .unwrap_err()
            .to_string()
            .contains("not a share")
    );
    // Reset, then the right shares still work.
    kms.unseal_reset().await.unwrap();
    for share in &init.shares[2..] {
        kms.unseal(share.expose()).await.unwrap();
    }
    assert!(!kms.is_sealed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_parameters_are_checked_and_single_share_works() {
    for (n, t) in [(0, 0), (3, 4), (3, 1), (0, 1)] {
        let kms = Kms::new(support::sqlite_memory().await, KmsOptions::default());
        assert!(
            kms.init(shamir(n, t)).await.unwrap_err().is_client_error(),
            "{n}/{t}"
        );
        assert!(
            !kms.seal_status().await.unwrap().initialized,
            "nothing stored on refusal"
        );
    }
    let kms = Kms::new(support::sqlite_memory().await, KmsOptions::default());
    let init = kms.init(shamir(1, 1)).await.unwrap();
    assert!(!kms.unseal(init.shares[0].expose()).await.unwrap().sealed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_seal_is_lost_at_restart_and_barrier_choice_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let sm4 = KmsOptions {
        barrier: yaoshi_core::barrier::BarrierAlgorithm::Sm4Gcm,
        ..KmsOptions::default()
    };
    let kms = Kms::new(file_store(&dir).await, sm4);
    kms.init(InitRequest::new(InitSeal::Dev)).await.unwrap();
    assert!(!kms.is_sealed());
    let status = kms.seal_status().await.unwrap();
    assert_eq!(status.seal_type.as_deref(), Some("dev"));
    assert_eq!(
        status.barrier,
        Some(yaoshi_core::barrier::BarrierAlgorithm::Sm4Gcm)
    );
    let restarted = Kms::new(file_store(&dir).await, KmsOptions::default());
    assert!(restarted.is_sealed());
    assert!(
        restarted.unseal(&[1; 51]).await.is_err(),
        "a dev seal has no shares"
    );
}
