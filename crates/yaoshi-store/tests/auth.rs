//! Authentication, principals, tokens and mounts through `Kms`, on SQLite
//! in memory and on a SQLite file: the root token from init, app grants,
//! immediate revocation, expiry, tokens never stored in clear, the root
//! token across seal/unseal and across two services on one file, and the
//! mount table.

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use yaoshi_core::auth::{Action, Authenticated, Grant, KeyOp, Principal, Role};
use yaoshi_core::kms::encryption::{DecryptRequest, EncryptRequest};
use yaoshi_core::kms::{InitRequest, InitResult, InitSeal};
use yaoshi_core::secrecy::ExposeSecret;
use yaoshi_core::store::Store;
use yaoshi_core::{Kms, KmsError, KmsOptions};

async fn file_store(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    let url = format!("sqlite://{}", dir.path().join("yaoshi.db").display());
    yaoshi_store::open(&url).await.expect("sqlite file store")
}

/// A dev-sealed service and its root token.
async fn dev_init(store: Arc<dyn Store>) -> (Kms, String) {
    let kms = Kms::new(store, KmsOptions::default());
    let init = kms
        .init(InitRequest::new(InitSeal::Dev))
        .await
        .expect("init");
    let token = init.root_token.expose_secret().to_string();
    (kms, token)
}

async fn root_of(kms: &Kms, token: &str) -> Principal {
    kms.authenticate(token).await.expect("root token").principal
}

fn grants(texts: &[&str]) -> Vec<Grant> {
    texts.iter().map(|t| Grant::parse(t).unwrap()).collect()
}

fn denied<T: std::fmt::Debug>(result: Result<T, KmsError>) -> bool {
    matches!(result, Err(KmsError::PermissionDenied))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Runs a scenario once on an in-memory store and once on a file store.
macro_rules! on_both_stores {
    ($($scenario:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::support::sqlite_memory().await).await;
                }
            )*
        }
        mod file {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let dir = tempfile::tempdir().unwrap();
                    super::$scenario(super::file_store(&dir).await).await;
                }
            )*
        }
    };
}

on_both_stores!(
    init_issues_a_root_token,
    app_grants_scope_key_use,
    principal_creation_rules,
    revocation_takes_effect_at_once,
    tokens_expire,
    tokens_are_never_stored,
    mounts_enable_list_find_disable,
);

async fn init_issues_a_root_token(store: Arc<dyn Store>) {
    let (kms, token) = dev_init(store).await;
    assert!(token.starts_with("ys.") && token.len() == 46, "{token}");
    let who = kms.authenticate(&token).await.unwrap();
    assert_eq!(who.principal.name, "root");
    assert_eq!(who.principal.roles, [Role::Root]);
    assert!(who.principal.grants.is_empty());
    assert_eq!(who.principal.created_by, "init");
    assert_eq!(who.token.display_name, "root");
    assert_eq!(who.token.expires_at, None);
    assert_eq!(who.token.accessor.len(), 32);
    for action in [
        Action::Seal,
        Action::Mounts { write: true },
        Action::Principals { write: true },
        Action::KeyMaterial {
            mount: "transit/",
            key: "k",
        },
    ] {
        assert!(who.principal.authorize(&action).is_ok(), "{action:?}");
    }
    assert_eq!(
        kms.list_principals().await.unwrap(),
        std::slice::from_ref(&who.principal)
    );
    assert_eq!(
        kms.get_principal("root").await.unwrap(),
        Some(who.principal.clone())
    );
    assert_eq!(kms.get_principal("nobody").await.unwrap(), None);
    assert_eq!(kms.get_principal("../root").await.unwrap(), None);

    for wrong in [
        "",
        "ys.",
        &token[..token.len() - 1],
        &format!("{token}x"),
        &token.to_uppercase(),
        &"x".repeat(5000),
    ] {
        assert!(denied(kms.authenticate(wrong).await), "{wrong:?}");
    }

    let mounts = kms.list_mounts().await.unwrap();
    assert_eq!(mounts.len(), 1);
    assert_eq!(mounts[0].path, "transit/");
    assert_eq!(mounts[0].kind, "transit");
    assert_eq!(mounts[0].description, "transit secrets engine for yaoshi");
    assert_eq!(mounts[0].namespace(), "transit");

    // A chosen (dev) root token, on an SM4-GCM deployment (HMAC-SM3 hashes).
    let sm = Kms::new(
        support::sqlite_memory().await,
        KmsOptions {
            barrier: yaoshi_core::barrier::BarrierAlgorithm::Sm4Gcm,
            ..KmsOptions::default()
        },
    );
    let request = InitRequest {
        root_token: Some("dev-only-root".into()),
        ..InitRequest::new(InitSeal::Dev)
    };
    assert!(!format!("{request:?}").contains("dev-only-root"));
    let init = sm.init(request).await.unwrap();
    assert_eq!(init.root_token.expose_secret(), "dev-only-root");
    assert!(!format!("{init:?}").contains("dev-only-root"));
    assert_eq!(root_of(&sm, "dev-only-root").await.name, "root");
    assert!(denied(sm.authenticate("dev-only-roo").await));

    // An unusable chosen token is refused before anything is written.
    let fresh = Kms::new(support::sqlite_memory().await, KmsOptions::default());
    for bad in ["", "a\nb"] {
        let request = InitRequest {
            root_token: Some(bad.into()),
            ..InitRequest::new(InitSeal::Dev)
        };
        assert!(matches!(
            fresh.init(request).await,
            Err(KmsError::InvalidRequest(_))
        ));
    }
    assert!(!fresh.seal_status().await.unwrap().initialized);
    assert!(fresh.store().list_entries("").await.unwrap().is_empty());
}

async fn app_grants_scope_key_use(store: Arc<dyn Store>) {
    let (kms, token) = dev_init(store).await;
    let root = root_of(&kms, &token).await;
    let issued = kms
        .create_principal(&root, "app1", vec![Role::App], grants(&["app-*:encrypt"]))
        .await
        .unwrap();
    assert_eq!(issued.principal.name, "app1");
    assert_eq!(issued.principal.created_by, "root");
    assert_eq!(issued.expires_at, None);
    let debug = format!("{issued:?}");
    assert!(!debug.contains(issued.token.expose_secret()), "{debug}");

    let who = kms
        .authenticate(issued.token.expose_secret())
        .await
        .unwrap();
    assert_eq!(who.principal, issued.principal);
    assert_eq!(who.token.accessor, issued.accessor);
    assert_eq!(who.token.display_name, "app1");
    let use_key = |key, op| Action::UseKey {
        mount: "transit/",
        key,
        op,
    };
    let app = &who.principal;
    assert!(app.authorize(&use_key("app-x", KeyOp::Encrypt)).is_ok());
    assert!(denied(app.authorize(&use_key("app-x", KeyOp::Decrypt))));
    assert!(denied(app.authorize(&use_key("other-x", KeyOp::Encrypt))));
    assert!(denied(
        app.authorize(&Action::ListKeys { mount: "transit/" })
    ));
    assert!(app.authorize(&Action::Random).is_ok());
    assert!(denied(app.authorize(&Action::Principals { write: false })));

    // Any principal may issue itself more tokens; they authenticate as it.
    let second = kms
        .create_token(&who, None, Some("ci job".into()))
        .await
        .unwrap();
    let again = kms
        .authenticate(second.token.expose_secret())
        .await
        .unwrap();
    assert_eq!(again.principal, who.principal);
    assert_eq!(again.token.display_name, "ci job");
    assert_ne!(again.token.accessor, who.token.accessor);
    assert_ne!(second.token.expose_secret(), issued.token.expose_secret());
}

async fn principal_creation_rules(store: Arc<dyn Store>) {
    let (kms, token) = dev_init(store).await;
    let root = root_of(&kms, &token).await;
    let none = Vec::new;
    fn invalid<T>(r: Result<T, KmsError>) -> bool {
        matches!(r, Err(KmsError::InvalidRequest(_)))
    }

    assert!(invalid(
        kms.create_principal(&root, "r2", vec![Role::Root], none())
            .await
    ));
    assert!(invalid(
        kms.create_principal(&root, "r3", vec![Role::SysAdmin, Role::Root], none())
            .await
    ));
    assert!(invalid(
        kms.create_principal(&root, "x", vec![], none()).await
    ));
    assert!(invalid(
        kms.create_principal(&root, "aud", vec![Role::Auditor], grants(&["*:read"]))
            .await
    ));
    for bad in ["", "a b", "a/b", &"n".repeat(129)] {
        assert!(invalid(
            kms.create_principal(&root, bad, vec![Role::Auditor], none())
                .await
        ));
    }
    match kms
        .create_principal(&root, "root", vec![Role::SysAdmin], none())
        .await
    {
        Err(KmsError::Refused(m)) => assert_eq!(m, "principal \"root\" already exists"),
        other => panic!("{other:?}"),
    }

    let sec = kms
        .create_principal(&root, "sec", vec![Role::SecAdmin, Role::SecAdmin], none())
        .await
        .unwrap();
    assert_eq!(sec.principal.roles, [Role::SecAdmin], "duplicates dropped");
    let sys = kms
        .create_principal(&root, "sys", vec![Role::SysAdmin], none())
        .await
        .unwrap();
    let app = kms
        .create_principal(&root, "app", vec![Role::App], grants(&["*:*"]))
        .await
        .unwrap();

    // A sec-admin creates and revokes app and auditor principals only.
    let s = &sec.principal;
    let aud = kms
        .create_principal(s, "aud", vec![Role::Auditor], none())
        .await
        .unwrap();
    assert_eq!(aud.principal.created_by, "sec");
    for roles in [
        vec![Role::SysAdmin],
        vec![Role::SecAdmin],
        vec![Role::AuditAdmin],
        vec![Role::App, Role::AuditAdmin],
    ] {
        assert!(denied(kms.create_principal(s, "more", roles, none()).await));
    }
    assert!(denied(kms.revoke_principal(s, "root").await));
    assert!(denied(kms.revoke_principal(s, "sys").await));
    // Neither sys-admin nor app may write principals.
    assert!(denied(
        kms.create_principal(&sys.principal, "n1", vec![Role::Auditor], none())
            .await
    ));
    assert!(denied(
        kms.create_principal(&app.principal, "n2", vec![Role::Auditor], none())
            .await
    ));
    assert!(denied(kms.revoke_principal(&app.principal, "aud").await));
    assert_eq!(kms.get_principal("more").await.unwrap(), None);
    assert_eq!(kms.get_principal("n1").await.unwrap(), None);

    kms.revoke_principal(s, "aud").await.unwrap();
    assert!(invalid(kms.revoke_principal(s, "aud").await));
    let names: Vec<String> = kms
        .list_principals()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["app", "root", "sec", "sys"]);
}

async fn token_records(kms: &Kms) -> usize {
    kms.store().list_entries("auth/token/").await.unwrap().len()
}

async fn revocation_takes_effect_at_once(store: Arc<dyn Store>) {
    let (kms, token) = dev_init(store).await;
    let root = root_of(&kms, &token).await;
    assert_eq!(token_records(&kms).await, 1);
    let first = kms
        .create_principal(&root, "app1", vec![Role::App], grants(&["k:encrypt"]))
        .await
        .unwrap();
    let first = first.token.expose_secret().to_string();
    let who = kms.authenticate(&first).await.unwrap();
    let second = kms.create_token(&who, Some(3600), None).await.unwrap();
    let second = second.token.expose_secret().to_string();
    let other = kms
        .create_principal(&root, "app2", vec![Role::App], grants(&["k:decrypt"]))
        .await
        .unwrap();
    let other = other.token.expose_secret().to_string();
    assert_eq!(token_records(&kms).await, 4);

    kms.revoke_principal(&root, "app1").await.unwrap();
    assert!(denied(kms.authenticate(&first).await));
    assert!(denied(kms.authenticate(&second).await));
    assert_eq!(kms.get_principal("app1").await.unwrap(), None);
    assert_eq!(token_records(&kms).await, 2, "both app1 records deleted");
    assert!(matches!(
        kms.revoke_principal(&root, "app1").await,
        Err(KmsError::InvalidRequest(_))
    ));
    // A token held by a revoked principal cannot mint new ones.
    assert!(denied(kms.create_token(&who, None, None).await));
    assert_eq!(token_records(&kms).await, 2);

    // Revoking one token leaves the principal's others working.
    let app2 = kms.authenticate(&other).await.unwrap();
    let extra = kms.create_token(&app2, None, None).await.unwrap();
    let extra = extra.token.expose_secret().to_string();
    kms.revoke_token(&extra).await.unwrap();
    assert!(denied(kms.authenticate(&extra).await));
    assert!(denied(kms.revoke_token(&extra).await));
    assert_eq!(
        kms.authenticate(&other).await.unwrap().principal.name,
        "app2"
    );
    assert_eq!(root_of(&kms, &token).await, root);

    // A root principal may revoke itself, after which its token is dead.
    kms.revoke_principal(&root, "root").await.unwrap();
    assert!(denied(kms.authenticate(&token).await));
}

async fn tokens_expire(store: Arc<dyn Store>) {
    let (kms, token) = dev_init(store).await;
    let root = kms.authenticate(&token).await.unwrap();
    assert!(matches!(
        kms.create_token(&root, Some(0), None).await,
        Err(KmsError::InvalidRequest(_))
    ));
    assert!(matches!(
        kms.create_token(&root, Some(u64::MAX), None).await,
        Err(KmsError::InvalidRequest(_))
    ));
    let before = unix_now();
    let short = kms.create_token(&root, Some(2), None).await.unwrap();
    let expires_at = short.expires_at.expect("expiry");
    assert!((before + 2..=unix_now() + 2).contains(&expires_at));
    let short_token = short.token.expose_secret().to_string();
    let holder: Authenticated = kms.authenticate(&short_token).await.unwrap();
    assert_eq!(holder.token.expires_at, Some(expires_at));

    // Tokens issued by an expiring token never outlive it.
    let child = kms.create_token(&holder, Some(3600), None).await.unwrap();
    assert_eq!(child.expires_at, Some(expires_at));
    let child_default = kms.create_token(&holder, None, None).await.unwrap();
    assert_eq!(child_default.expires_at, Some(expires_at));
    let long = kms.create_token(&root, Some(3600), None).await.unwrap();
    let records = token_records(&kms).await;

    while unix_now() < expires_at {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(denied(kms.authenticate(&short_token).await));
    assert!(denied(kms.authenticate(child.token.expose_secret()).await));
    assert_eq!(
        token_records(&kms).await,
        records - 2,
        "expired records are deleted when presented"
    );
    assert!(kms.authenticate(long.token.expose_secret()).await.is_ok());
    assert!(kms.authenticate(&token).await.is_ok());
}

async fn tokens_are_never_stored(store: Arc<dyn Store>) {
    let (kms, token) = dev_init(store).await;
    let root = kms.authenticate(&token).await.unwrap();
    let app = kms
        .create_principal(&root.principal, "app1", vec![Role::App], grants(&["*:*"]))
        .await
        .unwrap();
    let extra = kms.create_token(&root, Some(60), None).await.unwrap();
    let tokens = [
        token.clone(),
        app.token.expose_secret().to_string(),
        extra.token.expose_secret().to_string(),
    ];
    let names = kms.store().list_entries("").await.unwrap();
    assert!(names.contains(&"auth/token-key".to_string()));
    assert!(names.contains(&"auth/principal/root".to_string()));
    assert!(names.contains(&"auth/principal/app1".to_string()));
    assert!(names.contains(&"mount/transit/".to_string()));
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("auth/token/"))
            .count(),
        3
    );
    for name in &names {
        let value = kms.store().get_entry(name).await.unwrap().unwrap();
        for t in &tokens {
            // The whole token and its random part (without `ys.`).
            for needle in [t.as_str(), &t[3..]] {
                assert!(!name.contains(needle), "token text in entry name {name}");
                assert!(
                    memchr::memmem::find(&value, needle.as_bytes()).is_none(),
                    "token text in entry {name}"
                );
            }
        }
        if let Some(hash) = name.strip_prefix("auth/token/") {
            assert_eq!(hash.len(), 64);
            assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
            let record: serde_json::Value = serde_json::from_slice(&value).unwrap();
            let mut keys: Vec<&String> = record.as_object().unwrap().keys().collect();
            keys.sort();
            assert_eq!(
                keys,
                [
                    "accessor",
                    "created_at",
                    "display_name",
                    "expires_at",
                    "principal"
                ]
            );
        }
    }
    // The token-hashing key is sealed, not stored in clear JSON.
    let sealed = kms
        .store()
        .get_entry("auth/token-key")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sealed.len(), 2 + 12 + 32 + 16, "header, nonce, key, tag");
}

async fn mounts_enable_list_find_disable(store: Arc<dyn Store>) {
    let (kms, _token) = dev_init(store).await;
    let team = kms
        .enable_mount("team/a", "transit", "team A's keys")
        .await
        .unwrap();
    assert_eq!(team.path, "team/a/");
    assert_eq!(team.kind, "transit");
    assert_eq!(team.description, "team A's keys");
    assert_eq!(team.namespace(), "team/a");
    let paths = |mounts: Vec<yaoshi_core::kms::Mount>| -> Vec<String> {
        mounts.into_iter().map(|m| m.path).collect()
    };
    assert_eq!(
        paths(kms.list_mounts().await.unwrap()),
        ["team/a/", "transit/"]
    );

    for (path, at) in [
        ("team/a/", "team/a/"),
        ("team/a", "team/a/"),
        ("team/", "team/a/"),
        ("team/a/b", "team/a/"),
        ("transit/nested", "transit/"),
        ("transit", "transit/"),
    ] {
        match kms.enable_mount(path, "transit", "").await {
            Err(KmsError::Refused(m)) => {
                assert_eq!(m, format!("path is already in use at {at}"), "{path}")
            }
            other => panic!("{path}: {other:?}"),
        }
    }
    for reserved in ["sys/", "sys", "auth/", "auth/x"] {
        assert!(
            matches!(
                kms.enable_mount(reserved, "transit", "").await,
                Err(KmsError::Refused(_))
            ),
            "{reserved}"
        );
    }
    for bad in ["", "/x", "a/../b", "x\n", "a//b"] {
        assert!(
            matches!(
                kms.enable_mount(bad, "transit", "").await,
                Err(KmsError::InvalidRequest(_))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        kms.enable_mount("kv", "kv", "").await,
        Err(KmsError::InvalidRequest(_))
    ));
    assert_eq!(kms.list_mounts().await.unwrap().len(), 2, "nothing added");

    let found = |path: &'static str| {
        let kms = &kms;
        async move {
            kms.find_mount(path)
                .await
                .unwrap()
                .map(|(m, rest)| (m.path, rest))
        }
    };
    assert_eq!(
        found("transit/encrypt/k").await,
        Some(("transit/".into(), "encrypt/k".into()))
    );
    assert_eq!(
        found("team/a/keys/x").await,
        Some(("team/a/".into(), "keys/x".into()))
    );
    assert_eq!(found("transit").await, Some(("transit/".into(), "".into())));
    assert_eq!(
        found("transit/").await,
        Some(("transit/".into(), "".into()))
    );
    assert_eq!(found("transitx/y").await, None);
    assert_eq!(found("team/b/x").await, None);
    assert_eq!(found("team").await, None);

    // Disabling keeps the keys; mounting the same path again shows them.
    let upsert = EncryptRequest {
        upsert: true,
        ..EncryptRequest::default()
    };
    let ct = kms
        .encrypt(team.namespace(), "k", b"kept", upsert)
        .await
        .unwrap();
    assert!(kms.disable_mount("team/a").await.unwrap());
    assert!(!kms.disable_mount("team/a/").await.unwrap());
    assert!(!kms.disable_mount("never").await.unwrap());
    assert_eq!(found("team/a/keys/k").await, None);
    assert_eq!(paths(kms.list_mounts().await.unwrap()), ["transit/"]);
    // Now a containing path is free.
    let outer = kms.enable_mount("team", "transit", "").await.unwrap();
    assert!(kms.disable_mount(&outer.path).await.unwrap());
    let again = kms.enable_mount("team/a/", "transit", "").await.unwrap();
    assert_ne!(again.uuid, team.uuid);
    assert_ne!(again.accessor, team.accessor);
    assert_eq!(kms.list_keys(again.namespace()).await.unwrap(), ["k"]);
    let plain = kms
        .decrypt(again.namespace(), "k", &ct, DecryptRequest::default())
        .await
        .unwrap();
    assert_eq!(plain.expose(), b"kept");

    kms.seal();
    assert!(matches!(kms.list_mounts().await, Err(KmsError::Sealed)));
    assert!(matches!(
        kms.enable_mount("x", "transit", "").await,
        Err(KmsError::Sealed)
    ));
    assert!(matches!(
        kms.disable_mount("transit").await,
        Err(KmsError::Sealed)
    ));
    assert!(matches!(
        kms.find_mount("transit/x").await,
        Err(KmsError::Sealed)
    ));
}

/// Shamir: the node is sealed after init; once unsealed, and again after
/// seal + unseal, the root token works. A second service on the same file
/// authenticates the same tokens and sees revocations at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_token_survives_unseal_and_works_on_a_second_node() {
    let dir = tempfile::tempdir().unwrap();
    let a = Kms::new(file_store(&dir).await, KmsOptions::default());
    let init = a
        .init(InitRequest::new(InitSeal::Shamir {
            shares: 3,
            threshold: 2,
        }))
        .await
        .unwrap();
    let token = init.root_token.expose_secret().to_string();
    assert!(matches!(
        a.authenticate(&token).await,
        Err(KmsError::Sealed)
    ));
    assert!(matches!(a.list_principals().await, Err(KmsError::Sealed)));
    assert!(matches!(
        a.revoke_token(&token).await,
        Err(KmsError::Sealed)
    ));
    async fn unseal(kms: &Kms, init: &InitResult, i: usize, j: usize) {
        kms.unseal(init.shares[i].expose()).await.unwrap();
        assert!(!kms.unseal(init.shares[j].expose()).await.unwrap().sealed);
    }
    unseal(&a, &init, 0, 1).await;
    let root = root_of(&a, &token).await;
    assert_eq!(root.roles, [Role::Root]);
    assert_eq!(
        a.list_mounts().await.unwrap()[0].path,
        "transit/",
        "init mounted transit/ although the node stayed sealed"
    );
    a.seal();
    assert!(matches!(
        a.authenticate(&token).await,
        Err(KmsError::Sealed)
    ));
    unseal(&a, &init, 2, 0).await;
    assert_eq!(root_of(&a, &token).await, root);

    let b = Kms::new(file_store(&dir).await, KmsOptions::default());
    assert!(matches!(
        b.authenticate(&token).await,
        Err(KmsError::Sealed)
    ));
    unseal(&b, &init, 1, 2).await;
    assert_eq!(root_of(&b, &token).await, root);
    let app = a
        .create_principal(&root, "app1", vec![Role::App], grants(&["k:*"]))
        .await
        .unwrap();
    let app_token = app.token.expose_secret().to_string();
    assert_eq!(
        b.authenticate(&app_token).await.unwrap().principal,
        app.principal
    );
    b.revoke_principal(&root, "app1").await.unwrap();
    assert!(denied(a.authenticate(&app_token).await));
    let t2 = b
        .create_token(&b.authenticate(&token).await.unwrap(), None, None)
        .await
        .unwrap();
    assert!(a.authenticate(t2.token.expose_secret()).await.is_ok());
    a.revoke_token(t2.token.expose_secret()).await.unwrap();
    assert!(denied(b.authenticate(t2.token.expose_secret()).await));
}
