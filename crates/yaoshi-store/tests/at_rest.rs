//! What is stored: no key material in the clear anywhere in the SQLite file
//! or in PostgreSQL's tables and data directory, and sealed versions are
//! bound to their row so swapping rows breaks decryption.

mod support;

use support::unb64;
use yaoshi_core::key::KeyType;
use yaoshi_core::kms::encryption::{DecryptRequest, EncryptRequest};
use yaoshi_core::kms::export::ExportKind;
use yaoshi_core::kms::lifecycle::CreateKeyRequest;
use yaoshi_core::{Kms, KmsError, KmsOptions};
use yaoshi_crypto::ecdsa::EcdsaPrivateKey;
use yaoshi_crypto::rsa::RsaPrivateKey;
use yaoshi_crypto::sm2::Sm2PrivateKey;

const NS: &str = "transit";

/// Creates one exportable key of every type (two versions each) and returns
/// every secret byte string the store must never contain in the clear: the
/// stored form of each version's key and each HMAC key.
async fn keys_of_every_type(kms: &Kms) -> Vec<(String, Vec<u8>)> {
    let mut needles = Vec::new();
    for t in KeyType::ALL {
        let name = format!("scan-{t}");
        let request = CreateKeyRequest {
            key_type: Some(t),
            exportable: true,
            ..CreateKeyRequest::default()
        };
        kms.create_key(NS, &name, request).await.unwrap();
        kms.rotate_key(NS, &name).await.unwrap();
        for (version, hmac_key) in kms
            .export(NS, &name, ExportKind::HmacKey, None)
            .await
            .unwrap()
        {
            needles.push((format!("{name} v{version} hmac key"), unb64(&hmac_key)));
        }
        let kind = match t {
            KeyType::Hmac => ExportKind::HmacKey,
            t if t.is_symmetric() => ExportKind::EncryptionKey,
            _ => ExportKind::SigningKey,
        };
        for (version, text) in kms.export(NS, &name, kind, None).await.unwrap() {
            let stored: Vec<u8> = match t {
                KeyType::Sm2 => Sm2PrivateKey::from_pem(&text)
                    .unwrap()
                    .to_bytes()
                    .expose()
                    .to_vec(),
                KeyType::Ed25519 => unb64(&text)[..32].to_vec(),
                t if t.ecdsa_curve().is_some() => {
                    EcdsaPrivateKey::from_pem(t.ecdsa_curve().unwrap(), &text)
                        .unwrap()
                        .to_pkcs8_der()
                        .expose()
                        .to_vec()
                }
                t if t.rsa_bits().is_some() => RsaPrivateKey::from_pem(&text)
                    .unwrap()
                    .to_pkcs8_der()
                    .expose()
                    .to_vec(),
                _ => unb64(&text),
            };
            needles.push((format!("{name} v{version} key"), stored));
        }
    }
    needles
}

/// Fails if any needle, or its first 16 bytes, occurs in `haystack`.
fn assert_absent(haystack: &[u8], needles: &[(String, Vec<u8>)], where_: &str) {
    assert!(
        haystack.len() > 10_000,
        "{where_}: scanned {} bytes, expected real data",
        haystack.len()
    );
    for (what, needle) in needles {
        assert!(needle.len() >= 16, "{what}");
        for probe in [&needle[..], &needle[..16]] {
            assert!(
                memchr::memmem::find(haystack, probe).is_none(),
                "{where_}: found {what} in the clear"
            );
        }
    }
}

/// The scan can find what it looks for (guards against a vacuous scan).
#[test]
fn scanner_finds_a_planted_needle() {
    let needle = ("planted".to_string(), vec![0xAB; 32]);
    let mut hay = vec![0u8; 20_000];
    hay[5000..5032].copy_from_slice(&needle.1);
    let result =
        std::panic::catch_unwind(|| assert_absent(&hay, std::slice::from_ref(&needle), "test"));
    assert!(result.is_err());
}

fn read_all(dir: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in walk(dir) {
        out.extend(std::fs::read(entry).unwrap_or_default());
    }
    out
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_holds_no_key_material_in_the_clear() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("yaoshi.db").display());
    let kms = support::dev_kms(yaoshi_store::open(&url).await.unwrap()).await;
    let needles = keys_of_every_type(&kms).await;
    assert!(needles.len() >= 4 * KeyType::ALL.len());
    // The database file plus its WAL and shared-memory files.
    assert_absent(&read_all(dir.path()), &needles, "SQLite files");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tables_and_files_hold_no_key_material_in_the_clear() {
    let cluster = yaoshi_store::testing::PgCluster::start().expect("pg cluster");
    let url = cluster.create_database("at_rest").expect("database");
    let kms = support::dev_kms(yaoshi_store::open(&url).await.unwrap()).await;
    let needles = keys_of_every_type(&kms).await;

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let mut tables = Vec::new();
    for sql in [
        "SELECT value FROM entries",
        "SELECT sealed_kek FROM namespaces",
        "SELECT metadata FROM keys",
        "SELECT sealed_material FROM key_versions WHERE sealed_material IS NOT NULL",
    ] {
        for row in sqlx::query_scalar::<_, Vec<u8>>(sql)
            .fetch_all(&pool)
            .await
            .unwrap()
        {
            tables.extend(row);
        }
    }
    assert_absent(&tables, &needles, "PostgreSQL tables");
    sqlx::query("CHECKPOINT").execute(&pool).await.unwrap();
    assert_absent(
        &read_all(&cluster.data_dir()),
        &needles,
        "PostgreSQL data directory",
    );
}

async fn swapped_rows_fail_to_decrypt(url: &str) {
    let (kms, share) = support::restartable(yaoshi_store::open(url).await.unwrap()).await;
    let sm4 = CreateKeyRequest {
        key_type: Some(KeyType::Sm4Gcm96),
        ..CreateKeyRequest::default()
    };
    kms.create_key(NS, "a", sm4.clone()).await.unwrap();
    kms.create_key(NS, "b", sm4).await.unwrap();
    let a1 = kms
        .encrypt(NS, "a", b"a1", EncryptRequest::default())
        .await
        .unwrap();
    kms.rotate_key(NS, "a").await.unwrap();
    let a2 = kms
        .encrypt(NS, "a", b"a2", EncryptRequest::default())
        .await
        .unwrap();
    let b1 = kms
        .encrypt(NS, "b", b"b1", EncryptRequest::default())
        .await
        .unwrap();
    let id_a = kms.read_key(NS, "a").await.unwrap().id;
    let id_b = kms.read_key(NS, "b").await.unwrap().id;

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let blob = async |id: &str, v: i64| -> Vec<u8> {
        sqlx::query_scalar(
            "SELECT sealed_material FROM key_versions WHERE key_id = $1 AND version = $2",
        )
        .bind(id.to_string())
        .bind(v)
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let put = async |id: &str, v: i64, data: Vec<u8>| {
        sqlx::query(
            "UPDATE key_versions SET sealed_material = $1 WHERE key_id = $2 AND version = $3",
        )
        .bind(data)
        .bind(id.to_string())
        .bind(v)
        .execute(&pool)
        .await
        .unwrap();
    };
    // Swap a's versions 1 and 2; give b's version 1 a's original version 1.
    let (a_v1, a_v2) = (blob(&id_a, 1).await, blob(&id_a, 2).await);
    put(&id_a, 1, a_v2.clone()).await;
    put(&id_a, 2, a_v1.clone()).await;
    put(&id_b, 1, a_v1).await;

    let fresh = Kms::new(
        yaoshi_store::open(url).await.unwrap(),
        KmsOptions::default(),
    );
    fresh.unseal(&share).await.unwrap();
    for (name, ct) in [("a", &a1), ("a", &a2), ("b", &b1)] {
        let err = fresh
            .decrypt(NS, name, ct, DecryptRequest::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, KmsError::Internal(ref m) if m.contains("barrier")),
            "{name}: {err}"
        );
    }
    // Putting the rows back restores service: the failure was the binding.
    put(&id_a, 1, blob(&id_a, 2).await).await;
    put(&id_a, 2, a_v2).await;
    let fresh = Kms::new(
        yaoshi_store::open(url).await.unwrap(),
        KmsOptions::default(),
    );
    fresh.unseal(&share).await.unwrap();
    assert_eq!(
        fresh
            .decrypt(NS, "a", &a1, DecryptRequest::default())
            .await
            .unwrap()
            .expose(),
        b"a1"
    );
    assert_eq!(
        fresh
            .decrypt(NS, "a", &a2, DecryptRequest::default())
            .await
            .unwrap()
            .expose(),
        b"a2"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapped_version_rows_fail_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    swapped_rows_fail_to_decrypt(&format!(
        "sqlite://{}",
        dir.path().join("swap.db").display()
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapped_version_rows_fail_on_postgres() {
    let cluster = yaoshi_store::testing::PgCluster::start().expect("pg cluster");
    swapped_rows_fail_to_decrypt(&cluster.create_database("swap").expect("database")).await;
}
