//! Rules on keys and their protection: allowed key types, the barrier
//! algorithm, the seal, and rotation within the profile's maximum period.

use super::{
    DUE_SOON_DAYS, Evidence, allowed_list, count, days_between, finding, ids, key_ref, listing,
    pass_or_fail, rotation_status, signed,
};
use crate::compliance::report::{KeyInventoryItem, RotationStatus};
use crate::compliance::{Finding, FindingStatus};
use crate::key::KeyType;
use std::collections::BTreeMap;

pub(super) fn key_types(e: &Evidence) -> Finding {
    const TITLE: &str = "Key types allowed by the profile";
    let p = &e.profile;
    if e.keys.is_empty() {
        return finding(
            ids::KEY_TYPES,
            TITLE,
            FindingStatus::Pass,
            "no keys in any mount".into(),
        );
    }
    let allowed = |k: &KeyInventoryItem| {
        KeyType::from_name(&k.key_type).is_some_and(|t| p.check_key_type(t).is_ok())
    };
    let offenders: Vec<String> = e
        .keys
        .iter()
        .filter(|k| !allowed(k))
        .map(|k| format!("{} ({})", key_ref(k), k.key_type))
        .collect();
    let rule = format!(
        "profile {} allows {}",
        p.name,
        allowed_list(&p.allowed_key_types, "every key type")
    );
    if offenders.is_empty() {
        let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
        for k in &e.keys {
            *by_type.entry(&k.key_type).or_default() += 1;
        }
        let types: Vec<String> = by_type.iter().map(|(t, n)| format!("{t} ×{n}")).collect();
        finding(
            ids::KEY_TYPES,
            TITLE,
            FindingStatus::Pass,
            format!(
                "{}: {}; {rule}",
                count(e.keys.len(), "key"),
                types.join(", ")
            ),
        )
    } else {
        finding(
            ids::KEY_TYPES,
            TITLE,
            FindingStatus::Fail,
            format!(
                "{} of {} have a type the profile does not allow: {} ({rule})",
                offenders.len(),
                count(e.keys.len(), "key"),
                listing(&offenders)
            ),
        )
    }
}

pub(super) fn barrier(e: &Evidence) -> Finding {
    const TITLE: &str = "Barrier algorithm (key material at rest)";
    let (have, want) = (e.barrier.name(), e.profile.barrier.as_str());
    let evidence = if have == want {
        format!(
            "key material and namespace keys are sealed with {have}, as profile {} requires",
            e.profile.name
        )
    } else {
        format!(
            "key material is sealed with {have} (fixed when the deployment was initialised); \
             profile {} requires {want}: initialise a deployment under the profile and move the keys",
            e.profile.name
        )
    };
    finding(ids::BARRIER, TITLE, pass_or_fail(have == want), evidence)
}

pub(super) fn seal(e: &Evidence) -> Finding {
    const TITLE: &str = "Root key protection (seal)";
    let s = &e.seal;
    match s.seal_type.as_str() {
        "dev" if e.profile.dev_seal_allowed => finding(
            ids::SEAL,
            TITLE,
            FindingStatus::Warn,
            format!(
                "dev seal: the root key exists only in this process's memory and is lost at \
                 restart; profile {} allows it, but never for real keys",
                e.profile.name
            ),
        ),
        "dev" => finding(
            ids::SEAL,
            TITLE,
            FindingStatus::Fail,
            format!(
                "dev seal: the root key exists only in memory; profile {} forbids it \
                 (dev_seal_allowed = false)",
                e.profile.name
            ),
        ),
        "shamir" => finding(
            ids::SEAL,
            TITLE,
            FindingStatus::Pass,
            format!(
                "Shamir seal: {} of {} unseal key shares recover the root key",
                s.threshold, s.shares
            ),
        ),
        device => finding(
            ids::SEAL,
            TITLE,
            FindingStatus::Pass,
            format!("device seal ({device}): the root key is stored only wrapped by the device"),
        ),
    }
}

pub(super) fn rotation(e: &Evidence) -> Finding {
    const TITLE: &str = "Key rotation within the profile's maximum period";
    let age = |k: &KeyInventoryItem| days_between(k.latest_version_created_at, e.now);
    let oldest = e.keys.iter().max_by_key(|k| age(k));
    let oldest_text = oldest.map_or_else(String::new, |k| {
        format!(
            "; the oldest latest version is {} days old ({})",
            age(k),
            key_ref(k)
        )
    });
    let Some(max) = e.profile.max_rotation_days else {
        return finding(
            ids::ROTATION,
            TITLE,
            FindingStatus::Pass,
            format!(
                "not required: profile {} sets no max_rotation_days; {}{oldest_text}",
                e.profile.name,
                count(e.keys.len(), "key")
            ),
        );
    };
    let with = |status: &str| -> Vec<&KeyInventoryItem> {
        e.keys
            .iter()
            .filter(|k| rotation_status(k.latest_version_created_at, e.now, Some(max)) == status)
            .collect()
    };
    let overdue: Vec<String> = with(RotationStatus::OVERDUE)
        .into_iter()
        .map(|k| format!("{} ({} days)", key_ref(k), age(k)))
        .collect();
    let soon: Vec<String> = with(RotationStatus::DUE_SOON)
        .into_iter()
        .map(|k| {
            let left = signed(max).saturating_sub(age(k));
            format!("{} ({} days old, due in {left} days)", key_ref(k), age(k))
        })
        .collect();
    let soon_text = format!(
        "{} due within {DUE_SOON_DAYS} days of the {max}-day maximum: {}",
        count(soon.len(), "key"),
        listing(&soon)
    );
    if !overdue.is_empty() {
        let mut evidence = format!(
            "{} of {} not rotated within the {max}-day maximum of profile {}: {}",
            overdue.len(),
            count(e.keys.len(), "key"),
            e.profile.name,
            listing(&overdue)
        );
        if !soon.is_empty() {
            evidence.push_str(&format!("; also {soon_text}"));
        }
        finding(ids::ROTATION, TITLE, FindingStatus::Fail, evidence)
    } else if !soon.is_empty() {
        finding(ids::ROTATION, TITLE, FindingStatus::Warn, soon_text)
    } else {
        finding(
            ids::ROTATION,
            TITLE,
            FindingStatus::Pass,
            format!(
                "{} rotated within the {max}-day maximum of profile {}{oldest_text}",
                count(e.keys.len(), "key"),
                e.profile.name
            ),
        )
    }
}
