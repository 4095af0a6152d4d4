//! Crash safety: a child process runs create/rotate/import loops and prints an
//! acknowledgement after each change returns; the parent kills it with SIGKILL
//! mid-loop, restarts, unseals, and checks that every acknowledged change is
//! present and usable and nothing is corrupt. On SQLite and on PostgreSQL.
//!
//! The child is this test binary re-run with `--exact crash_worker`.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use yaoshi_core::key::KeyType;
use yaoshi_core::kms::encryption::{DecryptRequest, EncryptRequest};
use yaoshi_core::kms::import::{ImportRequest, WrappingAlgorithm};
use yaoshi_core::kms::lifecycle::CreateKeyRequest;
use yaoshi_core::{Kms, KmsOptions};
use yaoshi_crypto::aead::{AeadAlgorithm, AeadKey};
use yaoshi_crypto::rsa::RsaPublicKey;
use yaoshi_crypto::{keywrap, random};

const NS: &str = "transit";
const URL_VAR: &str = "YAOSHI_CRASH_URL";
const SHARE_VAR: &str = "YAOSHI_CRASH_SHARE";
const ROUND_VAR: &str = "YAOSHI_CRASH_ROUND";

/// The child: loops until killed, printing `ACK ...` after each durable change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run only as the child process of the crash tests"]
async fn crash_worker() {
    let url = std::env::var(URL_VAR).expect("crash_worker runs only as a child of the crash tests");
    let share = hex::decode(std::env::var(SHARE_VAR).unwrap()).unwrap();
    let round = std::env::var(ROUND_VAR).unwrap();
    let kms = Kms::new(
        yaoshi_store::open(&url).await.unwrap(),
        KmsOptions::default(),
    );
    kms.unseal(&share).await.unwrap();
    let wrapping =
        RsaPublicKey::from_spki_pem(&kms.wrapping_key(NS, WrappingAlgorithm::Rsa).await.unwrap())
            .unwrap();
    let sm4 = CreateKeyRequest {
        key_type: Some(KeyType::Sm4Gcm96),
        ..CreateKeyRequest::default()
    };
    for i in 0..100_000u32 {
        let name = format!("r{round}-k{i}");
        kms.create_key(NS, &name, sm4.clone()).await.unwrap();
        let ct = kms
            .encrypt(NS, &name, name.as_bytes(), EncryptRequest::default())
            .await
            .unwrap();
        println!("ACK create {name} {ct}");
        let info = kms.rotate_key(NS, &name).await.unwrap();
        println!("ACK rotate {name} {}", info.policy.latest_version);
        let key = random::array::<32>().unwrap();
        let envelope = keywrap::byok_wrap(&wrapping, &key).unwrap();
        let imported = format!("r{round}-imp{i}");
        kms.import_key(
            NS,
            &imported,
            &envelope,
            WrappingAlgorithm::Rsa,
            ImportRequest::default(),
        )
        .await
        .unwrap();
        println!("ACK import {imported} {}", hex::encode(key));
    }
}

/// Runs the worker, kills it after `acks` acknowledgements (or 60 s), and
/// returns the acknowledged lines.
fn run_and_kill(url: &str, share: &[u8], round: u32, acks: usize) -> Vec<String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_worker",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(URL_VAR, url)
        .env(SHARE_VAR, hex::encode(share))
        .env(ROUND_VAR, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut acked = Vec::new();
    for line in stdout.lines() {
        let Ok(line) = line else { break };
        if let Some(ack) = line.strip_prefix("ACK ") {
            acked.push(ack.to_string());
        }
        if acked.len() >= acks || Instant::now() > deadline {
            break;
        }
    }
    // SIGKILL while the worker is in the middle of its next change.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        acked.len() >= acks.min(6),
        "worker made progress before the kill: {acked:?}"
    );
    acked
}

async fn verify_acknowledged(kms: &Kms, acked: &[String]) {
    for line in acked {
        let parts: Vec<&str> = line.split(' ').collect();
        match parts[..] {
            ["create", name, ct] => {
                let plain = kms
                    .decrypt(NS, name, ct, DecryptRequest::default())
                    .await
                    .unwrap();
                assert_eq!(plain.expose(), name.as_bytes());
            }
            ["rotate", name, version] => {
                let info = kms.read_key(NS, name).await.unwrap();
                assert!(
                    info.policy.latest_version >= version.parse().unwrap(),
                    "{line}"
                );
                let ct = kms
                    .encrypt(NS, name, b"after", EncryptRequest::default())
                    .await
                    .unwrap();
                assert!(
                    ct.starts_with(&format!("vault:v{version}:")),
                    "{line}: {ct}"
                );
            }
            ["import", name, key] => {
                let ct = kms
                    .encrypt(NS, name, b"byok", EncryptRequest::default())
                    .await
                    .unwrap();
                let body = support::payload(&ct).1;
                let key = hex::decode(key).unwrap();
                let opened = AeadKey::new(AeadAlgorithm::Aes256Gcm, &key)
                    .unwrap()
                    .open(&body[..12], b"", &body[12..])
                    .unwrap();
                assert_eq!(opened.expose(), b"byok", "{line}");
            }
            _ => panic!("unexpected ack {line}"),
        }
    }
}

async fn crash_rounds(url: &str) {
    let (kms, share) = support::restartable(yaoshi_store::open(url).await.unwrap()).await;
    kms.wrapping_key(NS, WrappingAlgorithm::Rsa).await.unwrap();
    drop(kms);

    let mut all = Vec::new();
    for (round, acks) in [(1, 10), (2, 23), (3, 35)] {
        all.extend(run_and_kill(url, &share, round, acks));
        // Restart: a new process state, unsealed again from the share.
        let kms = Kms::new(
            yaoshi_store::open(url).await.unwrap(),
            KmsOptions::default(),
        );
        assert!(kms.is_sealed());
        kms.unseal(&share).await.unwrap();
        verify_acknowledged(&kms, &all).await;
        // Every key in the store, acknowledged or not, is whole and usable.
        for name in kms.list_keys(NS).await.unwrap() {
            support::assert_round_trip(&kms, NS, &name, b"x").await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_sigkill_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let url = format!("sqlite://{}", path.display());
    crash_rounds(&url).await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(check, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_sigkill_on_postgres() {
    let cluster = yaoshi_store::testing::PgCluster::start().expect("pg cluster");
    crash_rounds(&cluster.create_database("crash").expect("database")).await;
}
