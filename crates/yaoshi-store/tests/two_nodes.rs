//! Two `Kms` instances on one PostgreSQL database see each other's changes at
//! once: creates, rotations (no stale version on encrypt), disable, delete,
//! trims and configuration; concurrent rotations lose no version.

mod support;

use yaoshi_core::key::KeyType;
use yaoshi_core::kms::encryption::{DecryptRequest, EncryptRequest};
use yaoshi_core::kms::lifecycle::{CreateKeyRequest, KeyConfigUpdate};
use yaoshi_core::kms::{InitRequest, InitSeal};
use yaoshi_core::{Kms, KmsError, KmsOptions};

const NS: &str = "transit";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_see_each_other_at_once() {
    let cluster = yaoshi_store::testing::PgCluster::start().expect("pg cluster");
    let url = cluster.create_database("two_nodes").expect("database");
    let a = Kms::new(
        yaoshi_store::open(&url).await.unwrap(),
        KmsOptions::default(),
    );
    let init = a
        .init(InitRequest::new(InitSeal::Shamir {
            shares: 3,
            threshold: 2,
        }))
        .await
        .unwrap();
    let b = Kms::new(
        yaoshi_store::open(&url).await.unwrap(),
        KmsOptions::default(),
    );
    assert!(
        b.seal_status().await.unwrap().initialized,
        "b sees a's init"
    );
    for kms in [&a, &b] {
        kms.unseal(init.shares[0].expose()).await.unwrap();
        kms.unseal(init.shares[2].expose()).await.unwrap();
        assert!(!kms.is_sealed());
    }

    let sm4 = CreateKeyRequest {
        key_type: Some(KeyType::Sm4Gcm96),
        ..CreateKeyRequest::default()
    };
    a.create_key(NS, "shared", sm4.clone()).await.unwrap();
    let ct = b
        .encrypt(NS, "shared", b"from b", EncryptRequest::default())
        .await
        .unwrap();
    assert_eq!(
        a.decrypt(NS, "shared", &ct, DecryptRequest::default())
            .await
            .unwrap()
            .expose(),
        b"from b"
    );

    // Rotations alternate between nodes; each next encrypt on the other node
    // uses the version just created (no stale read).
    for round in 0..10 {
        let (rotator, user) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let info = rotator.rotate_key(NS, "shared").await.unwrap();
        let ct = user
            .encrypt(NS, "shared", b"x", EncryptRequest::default())
            .await
            .unwrap();
        assert!(
            ct.starts_with(&format!("vault:v{}:", info.policy.latest_version)),
            "round {round}: {ct}"
        );
        assert_eq!(
            rotator
                .decrypt(NS, "shared", &ct, DecryptRequest::default())
                .await
                .unwrap()
                .expose(),
            b"x"
        );
    }

    // Configuration and trims on one node bind the other at once.
    a.configure_key(
        NS,
        "shared",
        KeyConfigUpdate {
            min_decryption_version: Some(11),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let err = b
        .decrypt(NS, "shared", &ct, DecryptRequest::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("too old"), "{err}");

    // Disable on b, refused on a; enable again.
    b.set_key_enabled(NS, "shared", false).await.unwrap();
    assert!(
        a.encrypt(NS, "shared", b"x", EncryptRequest::default())
            .await
            .unwrap_err()
            .to_string()
            .contains("disabled")
    );
    b.set_key_enabled(NS, "shared", true).await.unwrap();

    // Delete on a, refused on b (b has the version cached; the row says no).
    a.configure_key(
        NS,
        "shared",
        KeyConfigUpdate {
            deletion_allowed: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let latest = b
        .encrypt(NS, "shared", b"cached", EncryptRequest::default())
        .await
        .unwrap();
    a.delete_key(NS, "shared").await.unwrap();
    assert!(matches!(
        b.decrypt(NS, "shared", &latest, DecryptRequest::default())
            .await
            .unwrap_err(),
        KmsError::KeyNotFound(_)
    ));

    // Concurrent rotations from both nodes: every rotation gets its own version.
    a.create_key(NS, "race", sm4).await.unwrap();
    let rotate_many = async |kms: &Kms| {
        for _ in 0..10 {
            kms.rotate_key(NS, "race").await.unwrap();
        }
    };
    tokio::join!(rotate_many(&a), rotate_many(&b));
    let info = b.read_key(NS, "race").await.unwrap();
    assert_eq!(info.policy.latest_version, 21);
    assert_eq!(info.policy.versions.len(), 21);
    for v in 1..=21 {
        let ct = a
            .encrypt(
                NS,
                "race",
                b"v",
                EncryptRequest {
                    key_version: v,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            b.decrypt(NS, "race", &ct, DecryptRequest::default())
                .await
                .unwrap()
                .expose(),
            b"v"
        );
    }
}
