//! Scheduled audit retention (`[audit] prune_destination`): the leader
//! archives and prunes records older than `prune_keep_days`, up to a signed
//! checkpoint, and never younger ones. The records are aged by moving their
//! stored times three days back in the SQLite file (the chain hashes cover
//! the bodies, not that column). The archive verifies with the audit public
//! key, the log then starts after the cut and still verifies, and the
//! prune is audited as principal `scheduler`. Settings that cannot work
//! (dual-controlled pruning, no retention period, a target without a
//! directory) stop the server at start.

mod http;

use http::{Api, ROOT, b64, dev_settings};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};
use yaoshi_core::audit::{AuditPublicKey, verify_export};
use yaoshi_core::residency::{BackupTarget, Residency};
use yaoshi_server::ServerSettings;

const WAIT: Duration = Duration::from_secs(20);

fn settings(db: &Path, archive: Option<&Path>) -> ServerSettings {
    let mut s = dev_settings();
    s.storage = Some(format!("sqlite://{}", db.display()));
    s.audit.checkpoint_interval_secs = 1;
    s.audit.checkpoint_every_records = 5;
    s.audit.prune_destination = Some("archive".into());
    s.audit.prune_keep_days = 1;
    s.audit.prune_check_secs = 1;
    s.residency = Residency {
        backup_targets: vec![BackupTarget {
            name: "archive".into(),
            location: "cn-east-1".into(),
            path: archive.map(Path::to_path_buf),
        }],
        ..Residency::default()
    };
    s
}

fn archives(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    found.sort();
    found
}

async fn first_stored(api: &Api) -> i64 {
    let r = api.get("sys/audit/records?from=1&limit=1").await;
    r.data()["records"][0]["seq"]
        .as_i64()
        .expect("a stored record")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leader_archives_and_prunes_only_what_is_old_enough() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("yaoshi.db");
    let archive = dir.path().join("archive");
    std::fs::create_dir(&archive).unwrap();
    let server = yaoshi_server::start(settings(&db, Some(&archive)))
        .await
        .unwrap();
    let api = Api::new(&server, Some(ROOT));
    assert_eq!(api.post("transit/keys/k", json!({})).await.status, 200);
    for i in 0..20 {
        let r = api
            .post(
                "transit/encrypt/k",
                json!({"plaintext": b64(format!("m{i}").as_bytes())}),
            )
            .await;
        assert_eq!(r.status, 200);
    }
    let deadline = Instant::now() + WAIT;
    let covered = loop {
        let cp = api.get("sys/audit/checkpoint").await;
        let size = cp.data()["checkpoint"]["tree_size"].as_i64().unwrap_or(0);
        if size >= 21 {
            break size;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint over the records: {}",
            cp.text
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Young records stay, although the leader looks every second.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(archives(&archive).is_empty());
    assert_eq!(first_stored(&api).await, 1);

    // Age the first `covered` records by three days.
    let url = format!("sqlite://{}", db.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let aged = sqlx::query("UPDATE audit_records SET time = time - 259200 WHERE seq <= ?")
        .bind(covered)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(aged.rows_affected() as i64, covered);
    pool.close().await;

    let deadline = Instant::now() + WAIT;
    let file = loop {
        if let Some(f) = archives(&archive).first() {
            break f.clone();
        }
        assert!(Instant::now() < deadline, "nothing was archived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The archive verifies as an auditor verifies it.
    let pem = api.get("sys/audit/public-key").await.data()["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    let key = AuditPublicKey::from_pem(&pem).unwrap();
    let text = std::fs::read(&file).unwrap();
    let report = verify_export(text.as_slice(), &key, None).expect("the archive verifies");
    assert_eq!(report.first_seq, Some(1));
    let cut = report.last_seq.unwrap() as i64;
    assert!(cut >= 5 && cut <= covered, "cut {cut}, covered {covered}");
    // Pruned up to the cut, and no further: the records after it are young.
    let deadline = Instant::now() + WAIT;
    while first_stored(&api).await != cut + 1 {
        assert!(
            Instant::now() < deadline,
            "records up to {cut} were not pruned"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let verified = api.post("sys/audit/verify", json!({})).await;
    assert_eq!(verified.data()["verified"], true, "{}", verified.text);
    let records = api
        .get(&format!("sys/audit/records?from={}&limit=1000", cut + 1))
        .await;
    let prunes: Vec<&Value> = records.data()["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["record"]["operation"] == "scheduler.audit_prune")
        .collect();
    assert_eq!(prunes.len(), 1, "{}", records.text);
    let r = &prunes[0]["record"];
    assert_eq!(
        (r["principal"].as_str(), r["outcome"].as_str()),
        (Some("scheduler"), Some("ok"))
    );
    assert_eq!(
        (r["params"]["from"].as_i64(), r["params"]["to"].as_i64()),
        (Some(1), Some(cut))
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn unworkable_retention_settings_stop_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("y.db");
    let refused = |s: ServerSettings| async move {
        match yaoshi_server::start(s).await {
            Ok(_) => panic!("started"),
            Err(e) => e.to_string(),
        }
    };
    let no_dir = refused(settings(&db, None)).await;
    assert!(no_dir.contains("has no directory"), "{no_dir}");
    let mut forever = settings(&db, Some(dir.path()));
    forever.audit.prune_keep_days = 0;
    let e = refused(forever).await;
    assert!(e.contains("at least 1"), "{e}");
    // Under a profile with prune-audit under dual control (checked on the
    // settings: that profile's other start rules need TLS and two centres).
    let l3 = yaoshi_core::profile::Profile::builtin("gb39786-l3").unwrap();
    let e = settings(&db, Some(dir.path()))
        .scheduled_prune_target(&l3)
        .unwrap_err()
        .to_string();
    assert!(e.contains("prune-audit under dual control"), "{e}");
    let default = yaoshi_core::profile::Profile::builtin("default").unwrap();
    let ok = settings(&db, Some(dir.path())).scheduled_prune_target(&default);
    assert_eq!(ok.unwrap().map(|t| t.name), Some("archive".to_string()));
}
