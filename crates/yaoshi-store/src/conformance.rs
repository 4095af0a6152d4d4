//! The back-end conformance suite (feature `testing`).
//!
//! Every check takes a `&dyn Store` and asserts the `Store` contract from
//! `yaoshi-core`; the same code runs against every back end. Checks use their
//! own namespaces and key ids, so [`run_all`] can run them in sequence on one
//! fresh store (running it twice on the same store fails: ids repeat).

use std::collections::BTreeSet;

use futures_util::future::join_all;
use yaoshi_core::audit::chain::{ChainAlgorithm, GENESIS, entry_hash};
use yaoshi_core::store::{
    AuditAppend, AuditRow, CheckpointRow, KeyChange, KeyRecord, LeaseState, NamespaceRecord, Store,
    StoreError, VersionRecord,
};

/// An arbitrary creation time for test records.
const T0: i64 = 1_700_000_000;

/// Runs every check, in order, on a fresh `store`.
pub async fn run_all(store: &dyn Store) {
    macro_rules! check {
        ($($name:ident),* $(,)?) => {$(
            eprintln!("conformance[{}]: {}", store.backend(), stringify!($name));
            $name(store).await;
        )*};
    }
    check!(
        entries_crud,
        entries_insert_if_absent,
        entries_binary_values,
        entries_listed_by_prefix,
        namespaces,
        key_create_and_read,
        duplicate_live_name_is_already_exists,
        name_reusable_after_destroy,
        cas_update,
        stale_generation_conflicts,
        duplicate_version_conflicts_and_rolls_back,
        versions_listed_ascending,
        trim_deletes_below,
        erase_all_material,
        list_keys_order_and_exclusion,
        get_key_by_id_sees_destroyed,
        revive_onto_live_name_is_already_exists,
        foreign_version_is_refused,
        large_blobs,
        errors_do_not_leak_values,
        concurrent_create_single_winner,
        audit_append_and_read,
        audit_commits_with_key_change,
        audit_checkpoints,
    );
    eprintln!("conformance[{}]: concurrent_cas", store.backend());
    concurrent_cas(&[store], "cas", 8, 20).await;
    eprintln!("conformance[{}]: concurrent_audit", store.backend());
    concurrent_audit(&[store], 8, 10).await;
    eprintln!("conformance[{}]: audit_prune", store.backend());
    audit_prune(store).await;
    eprintln!("conformance[{}]: lease_lifecycle", store.backend());
    lease_lifecycle(store).await;
    eprintln!("conformance[{}]: concurrent_lease", store.backend());
    concurrent_lease(&[store], "one-store", 8).await;
}

// ---------------------------------------------------------------- helpers

/// A key row in state `active` with metadata derived from id and generation.
pub fn key(id: &str, namespace: &str, name: &str, generation: i64) -> KeyRecord {
    KeyRecord {
        id: id.to_owned(),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        state: "active".to_owned(),
        generation,
        metadata: format!("{{\"id\":\"{id}\",\"generation\":{generation}}}").into_bytes(),
        created_at: T0,
        updated_at: T0 + generation,
    }
}

/// The same key at `generation`, in `state`.
fn next(k: &KeyRecord, generation: i64, state: &str) -> KeyRecord {
    KeyRecord {
        state: state.to_owned(),
        generation,
        metadata: format!("{{\"id\":\"{}\",\"generation\":{generation}}}", k.id).into_bytes(),
        updated_at: T0 + generation,
        ..k.clone()
    }
}

/// Version `version` of `key_id` with material naming both.
pub fn version(key_id: &str, version: i64) -> VersionRecord {
    VersionRecord {
        key_id: key_id.to_owned(),
        version,
        sealed_material: Some(format!("sealed:{key_id}:{version}").into_bytes()),
        created_at: T0 + version,
    }
}

/// A change creating `k` with the given versions.
pub fn create(k: &KeyRecord, versions: &[i64]) -> KeyChange {
    KeyChange {
        key: k.clone(),
        expected_generation: None,
        put_versions: versions.iter().map(|&v| version(&k.id, v)).collect(),
        delete_versions_below: None,
        erase_all_material: false,
        audit: None,
    }
}

/// A change replacing a row of generation `expected` with `k`.
pub fn update(k: &KeyRecord, expected: i64) -> KeyChange {
    KeyChange {
        key: k.clone(),
        expected_generation: Some(expected),
        put_versions: Vec::new(),
        delete_versions_below: None,
        erase_all_material: false,
        audit: None,
    }
}

async fn apply_ok(store: &dyn Store, change: &KeyChange) {
    if let Err(e) = store.apply(change).await {
        panic!("apply of key {} failed: {e}", change.key.id);
    }
}

async fn by_id(store: &dyn Store, id: &str) -> Option<KeyRecord> {
    store.get_key_by_id(id).await.expect("get_key_by_id")
}

async fn version_numbers(store: &dyn Store, key_id: &str) -> Vec<i64> {
    let versions = store.list_versions(key_id).await.expect("list_versions");
    versions.iter().map(|v| v.version).collect()
}

/// `n` bytes covering every byte value.
fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}

// ----------------------------------------------------------------- checks

/// put / get / overwrite / delete of entries.
pub async fn entries_crud(store: &dyn Store) {
    let name = "conf/entries/crud";
    assert_eq!(store.get_entry(name).await.unwrap(), None);
    store.put_entry(name, b"one").await.unwrap();
    assert_eq!(
        store.get_entry(name).await.unwrap().as_deref(),
        Some(&b"one"[..])
    );
    store.put_entry(name, b"two").await.unwrap();
    assert_eq!(
        store.get_entry(name).await.unwrap().as_deref(),
        Some(&b"two"[..])
    );
    assert_eq!(store.get_entry("conf/entries/other").await.unwrap(), None);
    assert!(store.delete_entry(name).await.unwrap());
    assert_eq!(store.get_entry(name).await.unwrap(), None);
    assert!(!store.delete_entry(name).await.unwrap());
}

/// `insert_entry` writes only when absent and never overwrites.
pub async fn entries_insert_if_absent(store: &dyn Store) {
    let name = "conf/entries/insert";
    assert!(store.insert_entry(name, b"first").await.unwrap());
    assert!(!store.insert_entry(name, b"second").await.unwrap());
    assert_eq!(
        store.get_entry(name).await.unwrap().as_deref(),
        Some(&b"first"[..])
    );
    store.put_entry(name, b"third").await.unwrap();
    assert!(!store.insert_entry(name, b"fourth").await.unwrap());
    assert_eq!(
        store.get_entry(name).await.unwrap().as_deref(),
        Some(&b"third"[..])
    );
    assert!(store.delete_entry(name).await.unwrap());
    assert!(store.insert_entry(name, b"fifth").await.unwrap());
    assert_eq!(
        store.get_entry(name).await.unwrap().as_deref(),
        Some(&b"fifth"[..])
    );
}

/// Values are bytes: empty, NUL, every byte value; names may be non-ASCII.
pub async fn entries_binary_values(store: &dyn Store) {
    let all: Vec<u8> = (0..=255).collect();
    let cases: [(&str, &[u8]); 4] = [
        ("conf/entries/empty", b""),
        ("conf/entries/nul", b"\0\0a\0"),
        ("conf/entries/all-bytes", &all),
        ("conf/entries/密钥/ключ", b"\xff\xfe non-utf8"),
    ];
    for (name, value) in cases {
        store.put_entry(name, value).await.unwrap();
    }
    for (name, value) in cases {
        let got = store.get_entry(name).await.unwrap();
        assert_eq!(got.as_deref(), Some(value), "entry {name}");
    }
}

/// `list_entries`: literal, case-sensitive prefix matching (`%` and `_`
/// are not wildcards), bytewise-sorted names, non-ASCII prefixes.
pub async fn entries_listed_by_prefix(store: &dyn Store) {
    let names = [
        "list/b/1", "list/a_c", "list/aYc", "list/a%b", "list/aXb", "list/a_b", "list/a", "list/B",
        "list/ä", "lisT/x", "list", "lis",
    ];
    for name in names {
        store.put_entry(name, name.as_bytes()).await.unwrap();
    }
    let list = |prefix: &'static str| async move { store.list_entries(prefix).await.unwrap() };
    assert_eq!(
        list("list/").await,
        [
            "list/B", "list/a", "list/a%b", "list/aXb", "list/aYc", "list/a_b", "list/a_c",
            "list/b/1", "list/ä",
        ],
        "bytewise order: uppercase before lowercase, `%` < `X` < `_`, non-ASCII last"
    );
    assert_eq!(list("list/a%").await, ["list/a%b"], "`%` is literal");
    assert_eq!(
        list("list/a_").await,
        ["list/a_b", "list/a_c"],
        "`_` is literal"
    );
    assert_eq!(
        list("list/a_b").await,
        ["list/a_b"],
        "a whole name is a prefix"
    );
    assert_eq!(list("list/A").await, Vec::<String>::new(), "case-sensitive");
    assert_eq!(list("list/b/").await, ["list/b/1"]);
    assert_eq!(list("list/ä").await, ["list/ä"], "non-ASCII prefix");
    assert_eq!(list("list").await.len(), 10, "`list` itself and `list/...`");
    assert_eq!(list("lisT/").await, ["lisT/x"]);
    assert_eq!(list("nothing/").await, Vec::<String>::new());
    let everything = list("").await;
    assert!(names.iter().all(|n| everything.iter().any(|e| e == n)));
    assert!(everything.windows(2).all(|w| w[0] < w[1]), "sorted, unique");
    for name in names {
        assert!(store.delete_entry(name).await.unwrap());
    }
    assert_eq!(
        list("list").await,
        Vec::<String>::new(),
        "deleted entries vanish"
    );
}

/// Namespaces: insert-if-absent, never overwritten.
pub async fn namespaces(store: &dyn Store) {
    let ns = NamespaceRecord {
        name: "conf-ns".into(),
        sealed_kek: pattern(48, 1),
        created_at: T0,
    };
    assert_eq!(store.get_namespace(&ns.name).await.unwrap(), None);
    assert!(store.insert_namespace(&ns).await.unwrap());
    assert_eq!(
        store.get_namespace(&ns.name).await.unwrap(),
        Some(ns.clone())
    );
    let other_kek = NamespaceRecord {
        sealed_kek: pattern(48, 2),
        created_at: T0 + 5,
        ..ns.clone()
    };
    assert!(!store.insert_namespace(&other_kek).await.unwrap());
    assert_eq!(
        store.get_namespace(&ns.name).await.unwrap(),
        Some(ns.clone())
    );
    let second = NamespaceRecord {
        name: "conf-ns-2".into(),
        sealed_kek: Vec::new(),
        created_at: T0 + 1,
    };
    assert!(store.insert_namespace(&second).await.unwrap());
    assert_eq!(
        store.get_namespace("conf-ns-2").await.unwrap(),
        Some(second)
    );
    assert_eq!(store.get_namespace(&ns.name).await.unwrap(), Some(ns));
    assert_eq!(store.get_namespace("conf-ns-missing").await.unwrap(), None);
}

/// A created key and its versions read back exactly.
pub async fn key_create_and_read(store: &dyn Store) {
    let k = key("create-1", "conf-create", "signing", 1);
    apply_ok(store, &create(&k, &[1])).await;
    assert_eq!(
        store.get_key("conf-create", "signing").await.unwrap(),
        Some(k.clone())
    );
    assert_eq!(by_id(store, "create-1").await, Some(k.clone()));
    assert_eq!(
        store.get_version("create-1", 1).await.unwrap(),
        Some(version("create-1", 1))
    );
    assert_eq!(store.get_version("create-1", 2).await.unwrap(), None);
    assert_eq!(store.get_version("create-missing", 1).await.unwrap(), None);
    assert_eq!(
        store.list_versions("create-1").await.unwrap(),
        vec![version("create-1", 1)]
    );
    assert_eq!(store.list_versions("create-missing").await.unwrap(), vec![]);
    assert_eq!(
        store.get_key("conf-create-other", "signing").await.unwrap(),
        None
    );
    assert_eq!(store.get_key("conf-create", "missing").await.unwrap(), None);
    assert_eq!(by_id(store, "create-missing").await, None);
    // A key without versions is fine too.
    let bare = key("create-2", "conf-create", "bare", 1);
    apply_ok(store, &create(&bare, &[])).await;
    assert_eq!(by_id(store, "create-2").await, Some(bare));
    assert_eq!(version_numbers(store, "create-2").await, Vec::<i64>::new());
}

/// A second live key with the same name, or the same id, is refused and
/// leaves nothing behind.
pub async fn duplicate_live_name_is_already_exists(store: &dyn Store) {
    let ns = "conf-dup";
    let a = key("dup-a", ns, "twin", 1);
    apply_ok(store, &create(&a, &[1])).await;

    let b = key("dup-b", ns, "twin", 1);
    assert_eq!(
        store.apply(&create(&b, &[1, 2])).await,
        Err(StoreError::AlreadyExists)
    );
    assert_eq!(by_id(store, "dup-b").await, None);
    assert_eq!(version_numbers(store, "dup-b").await, Vec::<i64>::new());
    assert_eq!(store.get_key(ns, "twin").await.unwrap(), Some(a.clone()));

    // Every state but `destroyed` holds the name.
    for state in ["disabled", "soft-deleted"] {
        let holder = next(&key(&format!("dup-{state}"), ns, state, 1), 1, state);
        apply_ok(store, &create(&holder, &[])).await;
        let rival = key(&format!("dup-{state}-rival"), ns, state, 1);
        assert_eq!(
            store.apply(&create(&rival, &[])).await,
            Err(StoreError::AlreadyExists)
        );
        assert_eq!(store.get_key(ns, state).await.unwrap(), Some(holder));
    }

    // The same id under another name is a duplicate too.
    let same_id = key("dup-a", ns, "other-name", 1);
    assert_eq!(
        store.apply(&create(&same_id, &[])).await,
        Err(StoreError::AlreadyExists)
    );
    assert_eq!(store.get_key(ns, "other-name").await.unwrap(), None);
    assert_eq!(by_id(store, "dup-a").await, Some(a));
    assert_eq!(
        store.get_version("dup-a", 1).await.unwrap(),
        Some(version("dup-a", 1))
    );

    // The same name in another namespace is another key.
    let elsewhere = key("dup-c", "conf-dup-2", "twin", 1);
    apply_ok(store, &create(&elsewhere, &[1])).await;
    assert_eq!(
        store.get_key("conf-dup-2", "twin").await.unwrap(),
        Some(elsewhere)
    );
}

/// Once a key is destroyed its name can be used again, any number of times.
pub async fn name_reusable_after_destroy(store: &dyn Store) {
    let ns = "conf-reuse";
    let mut previous = None;
    for i in 0..3 {
        let k = key(&format!("reuse-{i}"), ns, "phoenix", 1);
        apply_ok(store, &create(&k, &[1])).await;
        assert_eq!(store.get_key(ns, "phoenix").await.unwrap(), Some(k.clone()));
        let destroyed = next(&k, 2, "destroyed");
        let mut change = update(&destroyed, 1);
        change.erase_all_material = true;
        apply_ok(store, &change).await;
        assert_eq!(store.get_key(ns, "phoenix").await.unwrap(), None);
        if let Some(prev) = previous.replace(destroyed) {
            assert_eq!(by_id(store, &prev.id).await, Some(prev));
        }
    }
    let live = key("reuse-live", ns, "phoenix", 1);
    apply_ok(store, &create(&live, &[])).await;
    assert_eq!(store.get_key(ns, "phoenix").await.unwrap(), Some(live));
    assert_eq!(
        store.list_keys(ns).await.unwrap(),
        vec!["phoenix".to_owned()]
    );
}

/// Compare-and-set updates replace the whole row.
pub async fn cas_update(store: &dyn Store) {
    let ns = "conf-cas";
    let k1 = key("cas-1", ns, "rotating", 1);
    apply_ok(store, &create(&k1, &[1])).await;
    let k2 = KeyRecord {
        metadata: b"{\"rotation\":\"30d\"}".to_vec(),
        ..next(&k1, 2, "disabled")
    };
    let mut change = update(&k2, 1);
    change.put_versions = vec![version("cas-1", 2)];
    apply_ok(store, &change).await;
    assert_eq!(by_id(store, "cas-1").await, Some(k2.clone()));
    assert_eq!(
        store.get_key(ns, "rotating").await.unwrap(),
        Some(k2.clone())
    );
    let k3 = next(&k2, 3, "active");
    apply_ok(store, &update(&k3, 2)).await;
    assert_eq!(by_id(store, "cas-1").await, Some(k3));
    assert_eq!(version_numbers(store, "cas-1").await, vec![1, 2]);
}

/// A stale or unknown generation is a conflict that changes nothing.
pub async fn stale_generation_conflicts(store: &dyn Store) {
    let ns = "conf-stale";
    let k1 = key("stale-1", ns, "contended", 1);
    apply_ok(store, &create(&k1, &[1])).await;
    let k2 = next(&k1, 2, "active");
    apply_ok(store, &update(&k2, 1)).await;

    let mut stale = update(&next(&k1, 2, "disabled"), 1);
    stale.put_versions = vec![version("stale-1", 2)];
    stale.delete_versions_below = Some(10);
    stale.erase_all_material = true;
    assert_eq!(store.apply(&stale).await, Err(StoreError::Conflict));
    assert_eq!(by_id(store, "stale-1").await, Some(k2.clone()));
    assert_eq!(
        store.list_versions("stale-1").await.unwrap(),
        vec![version("stale-1", 1)]
    );

    // A generation from the future conflicts as well.
    assert_eq!(
        store.apply(&update(&next(&k2, 9, "active"), 7)).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(by_id(store, "stale-1").await, Some(k2));

    // Updating a key that does not exist conflicts and creates nothing.
    let ghost = key("stale-ghost", ns, "ghost", 2);
    let mut change = update(&ghost, 1);
    change.put_versions = vec![version("stale-ghost", 1)];
    assert_eq!(store.apply(&change).await, Err(StoreError::Conflict));
    assert_eq!(by_id(store, "stale-ghost").await, None);
    assert_eq!(store.get_key(ns, "ghost").await.unwrap(), None);
    assert_eq!(
        version_numbers(store, "stale-ghost").await,
        Vec::<i64>::new()
    );
}

/// Inserting an existing version conflicts and rolls back the whole change.
pub async fn duplicate_version_conflicts_and_rolls_back(store: &dyn Store) {
    let ns = "conf-dupver";
    let k1 = key("dupver-1", ns, "versioned", 1);
    apply_ok(store, &create(&k1, &[1])).await;

    let mut change = update(&next(&k1, 2, "disabled"), 1);
    let mut clash = version("dupver-1", 1);
    clash.sealed_material = Some(b"other material".to_vec());
    change.put_versions = vec![version("dupver-1", 2), clash];
    change.delete_versions_below = Some(1);
    assert_eq!(store.apply(&change).await, Err(StoreError::Conflict));
    assert_eq!(by_id(store, "dupver-1").await, Some(k1.clone()));
    assert_eq!(
        store.list_versions("dupver-1").await.unwrap(),
        vec![version("dupver-1", 1)]
    );

    // A version repeated within one change conflicts too.
    let mut twice = update(&next(&k1, 2, "active"), 1);
    twice.put_versions = vec![version("dupver-1", 3), version("dupver-1", 3)];
    assert_eq!(store.apply(&twice).await, Err(StoreError::Conflict));
    assert_eq!(by_id(store, "dupver-1").await, Some(k1.clone()));
    assert_eq!(version_numbers(store, "dupver-1").await, vec![1]);

    // The generation did not move: a correct change still applies.
    let mut good = update(&next(&k1, 2, "active"), 1);
    good.put_versions = vec![version("dupver-1", 2)];
    apply_ok(store, &good).await;
    assert_eq!(version_numbers(store, "dupver-1").await, vec![1, 2]);

    // A failed creation leaves no key row behind either.
    let fresh = key("dupver-2", ns, "never", 1);
    assert_eq!(
        store.apply(&create(&fresh, &[1, 1])).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(by_id(store, "dupver-2").await, None);
    assert_eq!(store.get_key(ns, "never").await.unwrap(), None);
    assert_eq!(version_numbers(store, "dupver-2").await, Vec::<i64>::new());
}

/// `list_versions` is ascending whatever the insertion order.
pub async fn versions_listed_ascending(store: &dyn Store) {
    let k = key("order-1", "conf-order", "shuffled", 1);
    apply_ok(store, &create(&k, &[3, 1, 10, 2])).await;
    let got = store.list_versions("order-1").await.unwrap();
    let want: Vec<_> = [1, 2, 3, 10]
        .iter()
        .map(|&v| version("order-1", v))
        .collect();
    assert_eq!(got, want);
}

/// `delete_versions_below` trims only that key's older versions, after
/// the change's own inserts.
pub async fn trim_deletes_below(store: &dyn Store) {
    let ns = "conf-trim";
    let k = key("trim-1", ns, "trimmed", 1);
    apply_ok(store, &create(&k, &[1, 2, 3, 4, 5])).await;
    let neighbour = key("trim-2", ns, "neighbour", 1);
    apply_ok(store, &create(&neighbour, &[1, 2, 3])).await;

    let mut change = update(&next(&k, 2, "active"), 1);
    change.delete_versions_below = Some(3);
    apply_ok(store, &change).await;
    assert_eq!(version_numbers(store, "trim-1").await, vec![3, 4, 5]);
    assert_eq!(store.get_version("trim-1", 2).await.unwrap(), None);
    assert_eq!(
        store.get_version("trim-1", 3).await.unwrap(),
        Some(version("trim-1", 3))
    );

    let mut change = update(&next(&k, 3, "active"), 2);
    change.put_versions = vec![version("trim-1", 6), version("trim-1", 1)];
    change.delete_versions_below = Some(5);
    apply_ok(store, &change).await;
    assert_eq!(version_numbers(store, "trim-1").await, vec![5, 6]);

    let mut change = update(&next(&k, 4, "active"), 3);
    change.delete_versions_below = Some(i64::MAX);
    apply_ok(store, &change).await;
    assert_eq!(version_numbers(store, "trim-1").await, Vec::<i64>::new());
    assert_eq!(version_numbers(store, "trim-2").await, vec![1, 2, 3]);
}

/// `erase_all_material` nulls every version's material (including the
/// change's own inserts) and keeps the rows.
pub async fn erase_all_material(store: &dyn Store) {
    let ns = "conf-erase";
    let k = key("erase-1", ns, "doomed", 1);
    apply_ok(store, &create(&k, &[1, 2])).await;
    let neighbour = key("erase-2", ns, "spared", 1);
    apply_ok(store, &create(&neighbour, &[1])).await;

    let mut change = update(&next(&k, 2, "destroyed"), 1);
    change.put_versions = vec![version("erase-1", 3)];
    change.erase_all_material = true;
    apply_ok(store, &change).await;
    let got = store.list_versions("erase-1").await.unwrap();
    let want: Vec<_> = (1..=3)
        .map(|v| VersionRecord {
            sealed_material: None,
            ..version("erase-1", v)
        })
        .collect();
    assert_eq!(got, want);
    let one = store
        .get_version("erase-1", 1)
        .await
        .unwrap()
        .expect("row kept");
    assert_eq!(one.sealed_material, None);
    assert_eq!(
        store.get_version("erase-2", 1).await.unwrap(),
        Some(version("erase-2", 1))
    );
}

/// `list_keys`: bytewise-sorted names of the namespace's keys that are not
/// destroyed, independent of database collation.
pub async fn list_keys_order_and_exclusion(store: &dyn Store) {
    let ns = "conf-list";
    assert_eq!(store.list_keys(ns).await.unwrap(), Vec::<String>::new());
    let names = ["b", "a", "B", "a_b", "a-b", "ä", "10", "9", "Z", "aa", "A"];
    for (i, name) in names.iter().enumerate() {
        apply_ok(
            store,
            &create(&key(&format!("list-{i}"), ns, name, 1), &[1]),
        )
        .await;
    }
    let disabled = next(&key("list-disabled", ns, "m-disabled", 1), 1, "disabled");
    apply_ok(store, &create(&disabled, &[])).await;
    let soft = next(
        &key("list-soft", ns, "m-soft-deleted", 1),
        1,
        "soft-deleted",
    );
    apply_ok(store, &create(&soft, &[])).await;
    let gone = key("list-gone", ns, "m-destroyed", 1);
    apply_ok(store, &create(&gone, &[])).await;
    apply_ok(store, &update(&next(&gone, 2, "destroyed"), 1)).await;
    apply_ok(
        store,
        &create(&key("list-elsewhere", "conf-list-2", "zz", 1), &[]),
    )
    .await;

    let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    want.extend(["m-disabled".into(), "m-soft-deleted".into()]);
    want.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(store.list_keys(ns).await.unwrap(), want);
    assert_eq!(
        store.list_keys("conf-list-2").await.unwrap(),
        vec!["zz".to_owned()]
    );
}

/// A destroyed key is invisible by name but still readable by id, with its
/// version rows.
pub async fn get_key_by_id_sees_destroyed(store: &dyn Store) {
    let ns = "conf-byid";
    let k = key("byid-1", ns, "tombstone", 1);
    apply_ok(store, &create(&k, &[1, 2])).await;
    let destroyed = next(&k, 2, "destroyed");
    let mut change = update(&destroyed, 1);
    change.erase_all_material = true;
    apply_ok(store, &change).await;
    assert_eq!(store.get_key(ns, "tombstone").await.unwrap(), None);
    assert_eq!(by_id(store, "byid-1").await, Some(destroyed.clone()));
    assert!(
        !store
            .list_keys(ns)
            .await
            .unwrap()
            .contains(&"tombstone".to_owned())
    );
    assert_eq!(version_numbers(store, "byid-1").await, vec![1, 2]);
    // A destroyed key can still be updated by id (e.g. to purge metadata).
    let purged = KeyRecord {
        metadata: Vec::new(),
        ..next(&destroyed, 3, "destroyed")
    };
    apply_ok(store, &update(&purged, 2)).await;
    assert_eq!(by_id(store, "byid-1").await, Some(purged));
}

/// Updating a destroyed key back to life while another live key holds its
/// name is refused with `AlreadyExists` and changes nothing.
pub async fn revive_onto_live_name_is_already_exists(store: &dyn Store) {
    let ns = "conf-revive";
    let old = key("revive-old", ns, "lazarus", 1);
    apply_ok(store, &create(&old, &[])).await;
    let dead = next(&old, 2, "destroyed");
    apply_ok(store, &update(&dead, 1)).await;
    let new = key("revive-new", ns, "lazarus", 1);
    apply_ok(store, &create(&new, &[])).await;
    let revived = next(&dead, 3, "active");
    assert_eq!(
        store.apply(&update(&revived, 2)).await,
        Err(StoreError::AlreadyExists)
    );
    assert_eq!(by_id(store, "revive-old").await, Some(dead));
    assert_eq!(store.get_key(ns, "lazarus").await.unwrap(), Some(new));
}

/// A change whose versions belong to another key is refused entirely.
pub async fn foreign_version_is_refused(store: &dyn Store) {
    let ns = "conf-foreign";
    let k = key("foreign-1", ns, "owner", 1);
    apply_ok(store, &create(&k, &[1])).await;
    let mut change = update(&next(&k, 2, "active"), 1);
    change.put_versions = vec![version("foreign-1", 2), version("foreign-other", 1)];
    assert!(store.apply(&change).await.is_err());
    assert_eq!(by_id(store, "foreign-1").await, Some(k));
    assert_eq!(version_numbers(store, "foreign-1").await, vec![1]);
    assert_eq!(
        version_numbers(store, "foreign-other").await,
        Vec::<i64>::new()
    );
}

/// 1 MiB values round-trip in every binary column.
pub async fn large_blobs(store: &dyn Store) {
    const MIB: usize = 1 << 20;
    let value = pattern(MIB, 7);
    store.put_entry("conf/large", &value).await.unwrap();
    assert_eq!(store.get_entry("conf/large").await.unwrap(), Some(value));
    let replaced = pattern(MIB + 1, 8);
    store.put_entry("conf/large", &replaced).await.unwrap();
    assert_eq!(store.get_entry("conf/large").await.unwrap(), Some(replaced));

    let ns = NamespaceRecord {
        name: "conf-large".into(),
        sealed_kek: pattern(MIB, 9),
        created_at: T0,
    };
    assert!(store.insert_namespace(&ns).await.unwrap());
    assert_eq!(store.get_namespace("conf-large").await.unwrap(), Some(ns));

    let k = KeyRecord {
        metadata: pattern(MIB, 10),
        ..key("large-1", "conf-large", "big", 1)
    };
    let mut change = create(&k, &[]);
    let v = VersionRecord {
        sealed_material: Some(pattern(MIB, 11)),
        ..version("large-1", 1)
    };
    change.put_versions = vec![v.clone()];
    apply_ok(store, &change).await;
    assert_eq!(by_id(store, "large-1").await, Some(k));
    assert_eq!(store.get_version("large-1", 1).await.unwrap(), Some(v));
}

/// Errors name what went wrong, never the values involved.
pub async fn errors_do_not_leak_values(store: &dyn Store) {
    const MARKER: &str = "zz-secret-marker-zz";
    let mut k = key("leak-1", "conf-leak", MARKER, 1);
    k.metadata = MARKER.as_bytes().to_vec();
    let mut change = create(&k, &[]);
    change.put_versions = vec![VersionRecord {
        sealed_material: Some(MARKER.as_bytes().to_vec()),
        ..version("leak-1", 1)
    }];
    apply_ok(store, &change).await;
    let mut errors = Vec::new();
    let twin = KeyRecord {
        id: "leak-2".into(),
        ..k.clone()
    };
    errors.push(store.apply(&create(&twin, &[])).await.unwrap_err());
    let mut dup = update(&next(&k, 2, "active"), 1);
    dup.put_versions = change.put_versions.clone();
    errors.push(store.apply(&dup).await.unwrap_err());
    errors.push(store.apply(&update(&k, 42)).await.unwrap_err());
    for e in errors {
        assert!(!e.to_string().contains(MARKER), "{e}");
        assert!(!format!("{e:?}").contains(MARKER), "{e:?}");
    }
}

/// Eight concurrent creations of one name: exactly one wins.
pub async fn concurrent_create_single_winner(store: &dyn Store) {
    let ns = "conf-race";
    let attempts = (0..8).map(|i| async move {
        let k = key(&format!("race-{i}"), ns, "contested", 1);
        (i, store.apply(&create(&k, &[1])).await)
    });
    let results = join_all(attempts).await;
    let winners: Vec<_> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (_, r) in &results {
        assert!(
            matches!(r, Ok(()) | Err(StoreError::AlreadyExists)),
            "{r:?}"
        );
    }
    let live = store
        .get_key(ns, "contested")
        .await
        .unwrap()
        .expect("winner");
    assert_eq!(live.id, format!("race-{}", winners[0]));
    for i in (0..8).filter(|i| *i != winners[0]) {
        assert_eq!(by_id(store, &format!("race-{i}")).await, None);
        assert_eq!(
            version_numbers(store, &format!("race-{i}")).await,
            Vec::<i64>::new()
        );
    }
}

/// Concurrent compare-and-set: `tasks` tasks (spread over `stores`, which
/// must share one database) each perform `increments` retrying increments
/// of one key's generation, adding the version of the new generation.
///
/// Asserts exactly one winner per generation and no lost update: the final
/// generation is `tasks * increments`, every generation has exactly one
/// version row, written by the task that won it.
pub async fn concurrent_cas(stores: &[&dyn Store], tag: &str, tasks: usize, increments: usize) {
    assert!(!stores.is_empty());
    let id = format!("{tag}-counter");
    let ns = format!("conf-{tag}");
    let k0 = key(&id, &ns, "counter", 0);
    apply_ok(stores[0], &create(&k0, &[])).await;

    let workers = (0..tasks).map(|t| {
        let store = stores[t % stores.len()];
        let k0 = &k0;
        async move {
            let mut won = Vec::with_capacity(increments);
            let mut conflicts = 0u64;
            while won.len() < increments {
                let current = by_id(store, &k0.id).await.expect("counter exists");
                let g = current.generation;
                let mut change = update(&next(&current, g + 1, "active"), g);
                change.put_versions = vec![VersionRecord {
                    key_id: k0.id.clone(),
                    version: g + 1,
                    sealed_material: Some(format!("task-{t}").into_bytes()),
                    created_at: T0 + g + 1,
                }];
                match store.apply(&change).await {
                    Ok(()) => won.push(g + 1),
                    Err(StoreError::Conflict) => conflicts += 1,
                    Err(e) => panic!("task {t}: increment from generation {g} failed: {e}"),
                }
            }
            (t, won, conflicts)
        }
    });
    let results = join_all(workers).await;

    let total = (tasks * increments) as i64;
    let mut claimed = BTreeSet::new();
    for (t, won, _) in &results {
        assert_eq!(won.len(), increments);
        for g in won {
            assert!(claimed.insert(*g), "generation {g} won twice (task {t})");
        }
    }
    assert_eq!(claimed, (1..=total).collect::<BTreeSet<_>>());
    let last = by_id(stores[0], &id).await.expect("counter");
    assert_eq!(last.generation, total);
    let versions = stores[0].list_versions(&id).await.unwrap();
    assert_eq!(versions.len(), total as usize);
    for (t, won, _) in &results {
        let material = format!("task-{t}").into_bytes();
        for g in won {
            let v = &versions[(*g - 1) as usize];
            assert_eq!(v.version, *g);
            assert_eq!(v.sealed_material.as_ref(), Some(&material), "version {g}");
        }
    }
    let conflicts: u64 = results.iter().map(|(_, _, c)| c).sum();
    eprintln!("conformance: {tag}: {total} increments, {conflicts} conflicts retried");
}

// ------------------------------------------------------------------ audit

/// An audit record body naming `tag` and `i`.
fn audit_body(tag: &str, i: usize) -> AuditAppend {
    AuditAppend {
        time: T0 + i as i64,
        body: format!("{{\"tag\":\"{tag}\",\"i\":{i}}}").into_bytes(),
    }
}

/// Asserts that `rows` (the whole stored log, ascending) form one chain.
fn assert_chain(rows: &[AuditRow], algorithm: ChainAlgorithm) {
    let mut prev = GENESIS.to_vec();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.seq, i as i64 + 1, "sequence numbers are 1, 2, 3, ...");
        assert_eq!(
            row.prev_hash, prev,
            "record {} chains to its predecessor",
            row.seq
        );
        let p: [u8; 32] = row.prev_hash.clone().try_into().expect("32-byte hash");
        let expected = entry_hash(algorithm, row.seq as u64, &p, &row.body);
        assert_eq!(row.hash, expected.to_vec(), "record {} hash", row.seq);
        prev = row.hash.clone();
    }
}

async fn whole_log(store: &dyn Store) -> Vec<AuditRow> {
    store.read_audit(0, i64::MAX).await.expect("read_audit")
}

/// Appends are chained, numbered without gaps and read back byte for byte.
pub async fn audit_append_and_read(store: &dyn Store) {
    let head = store.audit_head().await.unwrap();
    assert_eq!(head.last_seq, 0, "a fresh store has an empty log");
    assert_eq!(head.last_hash, None);
    assert_eq!(head.first_stored, None);
    assert_eq!(
        store.append_audit(ChainAlgorithm::Sm3, &[]).await.unwrap(),
        vec![]
    );
    let batch: Vec<AuditAppend> = (0..3).map(|i| audit_body("a", i)).collect();
    let rows = store
        .append_audit(ChainAlgorithm::Sm3, &batch)
        .await
        .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let more = store
        .append_audit(ChainAlgorithm::Sm3, &[audit_body("b", 7)])
        .await
        .unwrap();
    assert_eq!(more[0].seq, 4);
    let log = whole_log(store).await;
    assert_eq!(log.len(), 4);
    assert_eq!(&log[..3], rows.as_slice());
    assert_eq!(log[3], more[0]);
    assert_eq!(log[3].body, audit_body("b", 7).body);
    assert_chain(&log, ChainAlgorithm::Sm3);
    let head = store.audit_head().await.unwrap();
    assert_eq!(head.last_seq, 4);
    assert_eq!(head.last_hash, Some(log[3].hash.clone()));
    assert_eq!(head.first_stored, Some(1));
    assert_eq!(store.read_audit(3, 1).await.unwrap(), vec![log[2].clone()]);
    let window = store
        .read_audit_between(T0 + 1, T0 + 3, 0, 100)
        .await
        .unwrap();
    assert_eq!(window.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![2, 3]);
    let after = store
        .read_audit_between(T0, T0 + 100, 2, 100)
        .await
        .unwrap();
    assert_eq!(after.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![3, 4]);
}

/// A key change's audit record commits with it, and not without it.
pub async fn audit_commits_with_key_change(store: &dyn Store) {
    let before = store.audit_head().await.unwrap().last_seq;
    let k = key("audited-1", "conf-audit", "audited", 1);
    let mut change = create(&k, &[1]);
    change.audit = Some((ChainAlgorithm::Sm3, audit_body("create", 1)));
    apply_ok(store, &change).await;
    let log = whole_log(store).await;
    assert_eq!(log.len() as i64, before + 1);
    assert_eq!(log.last().unwrap().body, audit_body("create", 1).body);
    assert_chain(&log, ChainAlgorithm::Sm3);

    // A stale compare-and-set fails as a whole: no record either.
    let mut stale = update(&next(&k, 2, "disabled"), 0);
    stale.audit = Some((ChainAlgorithm::Sm3, audit_body("stale", 2)));
    assert_eq!(store.apply(&stale).await, Err(StoreError::Conflict));
    // So does a duplicate name.
    let mut dup = create(&key("audited-2", "conf-audit", "audited", 1), &[]);
    dup.audit = Some((ChainAlgorithm::Sm3, audit_body("dup", 3)));
    assert_eq!(store.apply(&dup).await, Err(StoreError::AlreadyExists));
    assert_eq!(store.audit_head().await.unwrap().last_seq, before + 1);
    assert_eq!(whole_log(store).await, log);
}

/// Checkpoints: insert once per size, latest, listing.
pub async fn audit_checkpoints(store: &dyn Store) {
    assert_eq!(store.latest_checkpoint().await.unwrap(), None);
    let cp = |size: i64| CheckpointRow {
        tree_size: size,
        time: T0 + size,
        body: format!("{{\"tree_size\":{size}}}").into_bytes(),
        frontier: pattern(64, size as u8),
    };
    assert!(store.insert_checkpoint(&cp(2)).await.unwrap());
    assert!(store.insert_checkpoint(&cp(5)).await.unwrap());
    assert!(
        !store.insert_checkpoint(&cp(5)).await.unwrap(),
        "one per size"
    );
    assert!(store.insert_checkpoint(&cp(3)).await.unwrap());
    assert_eq!(store.latest_checkpoint().await.unwrap(), Some(cp(5)));
    let listed = store.list_checkpoints(3, 10).await.unwrap();
    assert_eq!(listed, vec![cp(3), cp(5)]);
    assert_eq!(store.list_checkpoints(0, 1).await.unwrap(), vec![cp(2)]);
}

/// Concurrent appends from `tasks` tasks (spread over `stores`, which must
/// share one database) form one gapless chain with every record once.
pub async fn concurrent_audit(stores: &[&dyn Store], tasks: usize, appends: usize) {
    let before = whole_log(stores[0]).await.len();
    let workers = (0..tasks).map(|t| {
        let store = stores[t % stores.len()];
        async move {
            for i in 0..appends {
                let batch: Vec<AuditAppend> = (0..1 + i % 3)
                    .map(|j| audit_body(&format!("task{t}"), i * 10 + j))
                    .collect();
                let rows = store
                    .append_audit(ChainAlgorithm::Sha256, &batch)
                    .await
                    .unwrap_or_else(|e| panic!("task {t}: append failed: {e}"));
                assert!(rows.windows(2).all(|w| w[1].seq == w[0].seq + 1));
            }
        }
    });
    join_all(workers).await;
    let log = whole_log(stores[0]).await;
    let per_task: usize = (0..appends).map(|i| 1 + i % 3).sum();
    assert_eq!(log.len(), before + tasks * per_task);
    // Earlier records were chained with SM3, these with SHA-256: check the
    // links, then the new hashes.
    for w in log.windows(2) {
        assert_eq!(w[1].prev_hash, w[0].hash, "record {} links", w[1].seq);
        assert_eq!(w[1].seq, w[0].seq + 1);
    }
    for row in &log[before..] {
        let p: [u8; 32] = row.prev_hash.clone().try_into().unwrap();
        let h = entry_hash(ChainAlgorithm::Sha256, row.seq as u64, &p, &row.body);
        assert_eq!(row.hash, h.to_vec());
    }
    let bodies: BTreeSet<&[u8]> = log[before..].iter().map(|r| r.body.as_slice()).collect();
    assert_eq!(bodies.len(), tasks * per_task, "every record stored once");
}

/// Pruning removes the oldest records only; the head stays.
pub async fn audit_prune(store: &dyn Store) {
    let head = store.audit_head().await.unwrap();
    assert!(head.last_seq > 4);
    assert_eq!(store.prune_audit(3).await.unwrap(), 2);
    let log = whole_log(store).await;
    assert_eq!(log[0].seq, 3);
    assert_eq!(log.len() as i64, head.last_seq - 2);
    let after = store.audit_head().await.unwrap();
    assert_eq!(after.last_seq, head.last_seq);
    assert_eq!(after.last_hash, head.last_hash);
    assert_eq!(after.first_stored, Some(3));
    let next = store
        .append_audit(ChainAlgorithm::Sm3, &[audit_body("after-prune", 0)])
        .await
        .unwrap();
    assert_eq!(next[0].seq, head.last_seq + 1);
    assert_eq!(Some(next[0].prev_hash.clone()), head.last_hash);
}

/// A lease is taken when free, renewed by its holder, refused to another
/// holder while valid, taken over once expired, and released only by its
/// holder (after which anyone may take it at once).
pub async fn lease_lifecycle(store: &dyn Store) {
    let lease = |holder: &str, expires_at: i64| LeaseState {
        holder: holder.to_string(),
        expires_at,
    };
    let acquired = store.acquire_lease("conf-lease", "a", 10, T0).await;
    assert_eq!(acquired, Ok(lease("a", T0 + 10)), "free lease taken");
    assert!(acquired.unwrap().held_by("a", T0 + 9));

    let renewed = store.acquire_lease("conf-lease", "a", 10, T0 + 5).await;
    assert_eq!(renewed, Ok(lease("a", T0 + 15)), "holder renews");

    let refused = store.acquire_lease("conf-lease", "b", 10, T0 + 14).await;
    assert_eq!(refused, Ok(lease("a", T0 + 15)), "valid lease refused to b");
    assert!(!refused.unwrap().held_by("b", T0 + 14));

    let other = store.acquire_lease("conf-lease-2", "b", 10, T0 + 14).await;
    assert_eq!(other, Ok(lease("b", T0 + 24)), "leases are independent");

    let taken = store.acquire_lease("conf-lease", "b", 10, T0 + 15).await;
    assert_eq!(taken, Ok(lease("b", T0 + 25)), "expired lease taken over");
    let late = store.acquire_lease("conf-lease", "a", 10, T0 + 16).await;
    assert_eq!(late, Ok(lease("b", T0 + 25)), "old holder no longer renews");

    assert_eq!(store.release_lease("conf-lease", "a").await, Ok(false));
    assert_eq!(store.release_lease("conf-lease", "b").await, Ok(true));
    assert_eq!(store.release_lease("conf-lease", "b").await, Ok(false));
    let after = store.acquire_lease("conf-lease", "a", 10, T0 + 17).await;
    assert_eq!(
        after,
        Ok(lease("a", T0 + 27)),
        "released lease free at once"
    );
}

/// `tasks` holders race for one free lease (spread over `stores`, e.g. one
/// pool per node): exactly one wins, and every racer sees the same winner.
/// Then the lease expires and they race again: again exactly one.
pub async fn concurrent_lease(stores: &[&dyn Store], tag: &str, tasks: usize) {
    assert!(!stores.is_empty());
    let name = format!("conf-race-{tag}");
    for round in 0..2i64 {
        let now = T0 + round * 100;
        let racers = (0..tasks).map(|t| {
            let store = stores[t % stores.len()];
            let name = &name;
            async move {
                let holder = format!("node-{round}-{t}");
                let state = store
                    .acquire_lease(name, &holder, 30, now)
                    .await
                    .expect("acquire_lease");
                (holder, state)
            }
        });
        let outcomes = join_all(racers).await;
        let winners: Vec<&String> = outcomes
            .iter()
            .filter(|(holder, state)| state.held_by(holder, now))
            .map(|(holder, _)| holder)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes.iter().all(|(_, s)| &s.holder == winners[0]),
            "round {round}: every racer sees the winner: {outcomes:?}"
        );
    }
}

/// [`Store::snapshot`] and [`Store::restore_snapshot`]: a snapshot of a
/// used `source` (after [`run_all`]) restores into an empty `target` (of any
/// back end) row for row, only with the claim entry present and only once,
/// never over data, and the restored audit chain continues where it was.
pub async fn snapshot_round_trip(source: &dyn Store, target: &dyn Store) {
    const CLAIM: &str = "core/pending-restore";
    let snap = source.snapshot().await.unwrap();
    assert!(!snap.entries.is_empty() && !snap.namespaces.is_empty());
    assert!(!snap.keys.is_empty() && !snap.versions.is_empty());
    assert!(!snap.audit_records.is_empty() && !snap.checkpoints.is_empty());
    assert!(
        snap.versions.iter().any(|v| v.sealed_material.is_none()),
        "erased versions are part of the snapshot"
    );
    assert!(snap.keys.iter().any(|k| k.state == "destroyed"));
    assert_eq!(
        snap.audit_last_seq,
        source.audit_head().await.unwrap().last_seq
    );
    // Without the claim nothing is written.
    assert!(!target.restore_snapshot(&snap, CLAIM).await.unwrap());
    assert!(target.list_entries("").await.unwrap().is_empty());
    target.put_entry(CLAIM, b"staged").await.unwrap();
    target
        .put_entry("core/seal-config", b"staged config")
        .await
        .unwrap();
    assert!(target.restore_snapshot(&snap, CLAIM).await.unwrap());
    assert_eq!(
        target.snapshot().await.unwrap(),
        snap,
        "restored row for row"
    );
    // A second restore over data is refused and changes nothing.
    target.put_entry(CLAIM, b"again").await.unwrap();
    assert_eq!(
        target.restore_snapshot(&snap, CLAIM).await,
        Err(StoreError::AlreadyExists)
    );
    assert_eq!(
        target.get_entry(CLAIM).await.unwrap(),
        Some(b"again".to_vec())
    );
    target.delete_entry(CLAIM).await.unwrap();
    assert_eq!(target.snapshot().await.unwrap(), snap);
    // The chain continues from the restored head.
    let head = target.audit_head().await.unwrap();
    let alg = ChainAlgorithm::Sha256;
    let appended = target
        .append_audit(
            alg,
            &[AuditAppend {
                time: T0,
                body: b"{\"after\":\"restore\"}".to_vec(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(appended[0].seq, snap.audit_last_seq + 1);
    assert_eq!(Some(appended[0].prev_hash.clone()), head.last_hash);
}
