//! Data residency (DESIGN §5): the jurisdiction a deployment declares, the
//! locations of its storage (primary and replicas), its audit sinks and its
//! backup targets, and the checks the profile makes of them.
//!
//! Locations are operator-chosen tags such as `cn-shanghai-a`; one distinct
//! tag is one data centre. The profile's `allowed_locations` patterns
//! (`cn-*`) say where data may live and `min_data_centres` how many distinct
//! storage locations are needed for redundancy.
//!
//! Decisions (docs/compliance.md): storage and audit-sink locations outside
//! the profile, or a jurisdiction other than the profile's, stop the server
//! at start; too few data centres is a failed compliance finding, not a
//! start refusal (a second data centre is often brought up after the first).
//! Backup targets may be declared anywhere, but export, backup and audit
//! archives to a target outside the allowed locations are refused.

use crate::compliance::report::LocatedEndpoint;
use crate::profile::{Profile, ProfileViolation};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A place where backups, exports and audit archives may be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupTarget {
    /// Name clients use (`destination=NAME`).
    pub name: String,
    /// Location tag, e.g. `cn-shanghai-a`.
    pub location: String,
    /// Directory the server writes audit archives into (optional: export
    /// and backup answers go to the client, who names the target).
    #[serde(default)]
    pub path: Option<PathBuf>,
}

/// What a deployment declares about where its data lives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Residency {
    /// Jurisdiction, e.g. `CN`.
    #[serde(default)]
    pub jurisdiction: Option<String>,
    /// Location of each storage endpoint (primary and every replica).
    #[serde(default)]
    pub storage_locations: Vec<String>,
    /// Locations of the audit sinks; the audit log lives in the storage, so
    /// empty means the storage locations.
    #[serde(default)]
    pub audit_sink_locations: Vec<String>,
    /// Declared backup targets.
    #[serde(default)]
    pub backup_targets: Vec<BackupTarget>,
}

/// Kinds of [`LocatedEndpoint`].
pub mod kind {
    /// A storage endpoint (database primary or replica).
    pub const STORAGE: &str = "storage";
    /// Where audit records are written.
    pub const AUDIT_SINK: &str = "audit sink";
    /// A backup target.
    pub const BACKUP_TARGET: &str = "backup target";
}

impl Residency {
    /// The audit sinks' locations (the storage's when none are declared).
    pub fn audit_locations(&self) -> &[String] {
        if self.audit_sink_locations.is_empty() {
            &self.storage_locations
        } else {
            &self.audit_sink_locations
        }
    }

    /// Every located endpoint, judged against `profile`.
    pub fn endpoints(&self, profile: &Profile) -> Vec<LocatedEndpoint> {
        let located = |kind: &str, name: String, location: &str| LocatedEndpoint {
            kind: kind.to_string(),
            name,
            location: location.to_string(),
            allowed: profile.check_location(kind, location).is_ok(),
        };
        let mut out = Vec::new();
        for (i, l) in self.storage_locations.iter().enumerate() {
            out.push(located(kind::STORAGE, format!("storage-{}", i + 1), l));
        }
        for (i, l) in self.audit_locations().iter().enumerate() {
            out.push(located(kind::AUDIT_SINK, format!("audit-{}", i + 1), l));
        }
        for t in &self.backup_targets {
            out.push(located(kind::BACKUP_TARGET, t.name.clone(), &t.location));
        }
        out
    }

    /// Distinct storage locations (data centres).
    pub fn distinct_data_centres(&self) -> u32 {
        let mut d: Vec<&str> = self.storage_locations.iter().map(String::as_str).collect();
        d.sort_unstable();
        d.dedup();
        d.len() as u32
    }

    /// The checks that stop a server at start: a jurisdiction other than
    /// the profile's, storage or audit sinks outside the allowed locations,
    /// duplicate or empty names.
    pub fn check_at_start(&self, profile: &Profile) -> Result<(), ProfileViolation> {
        if let (Some(required), Some(declared)) = (&profile.jurisdiction, &self.jurisdiction)
            && required != declared
        {
            return Err(ProfileViolation {
                profile: profile.name.clone(),
                rule: "jurisdiction",
                message: format!(
                    "the deployment declares jurisdiction {declared:?}, the profile requires {required:?}"
                ),
            });
        }
        for l in &self.storage_locations {
            profile.check_location(kind::STORAGE, l)?;
        }
        for l in self.audit_locations() {
            profile.check_location(kind::AUDIT_SINK, l)?;
        }
        Ok(())
    }

    /// Settings mistakes (not profile rules): empty tags, duplicate target
    /// names.
    pub fn validate(&self) -> Result<(), String> {
        let all = self
            .storage_locations
            .iter()
            .chain(&self.audit_sink_locations)
            .chain(self.backup_targets.iter().map(|t| &t.location));
        if all.into_iter().any(|l| !valid_tag(l)) {
            return Err(
                "locations must be 1-64 characters of a-z, 0-9, '-' and '_' (e.g. cn-shanghai-a)"
                    .into(),
            );
        }
        let mut names: Vec<&str> = self
            .backup_targets
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        if names.iter().any(|n| !valid_tag(n)) {
            return Err(
                "backup target names must be 1-64 characters of a-z, 0-9, '-' and '_'".into(),
            );
        }
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err("backup target names must be unique".into());
        }
        Ok(())
    }

    /// The backup target `destination` names, checked against the profile:
    /// `Ok(None)` when no destination is given and the profile allows any
    /// location (Vault clients send none); a refusal naming
    /// `allowed_locations` when the profile restricts locations and no
    /// declared target inside them is named.
    pub fn check_destination(
        &self,
        profile: &Profile,
        what: &str,
        destination: Option<&str>,
    ) -> Result<Option<&BackupTarget>, ProfileViolation> {
        let restricted = !profile.allowed_locations.iter().any(|p| p == "*");
        let violation = |message: String| ProfileViolation {
            profile: profile.name.clone(),
            rule: "allowed_locations",
            message,
        };
        let Some(name) = destination.filter(|d| !d.is_empty()) else {
            if restricted {
                return Err(violation(format!(
                    "{what} needs destination=<backup target> naming a declared target inside the allowed locations ({})",
                    profile.allowed_locations.join(", ")
                )));
            }
            return Ok(None);
        };
        let target = self
            .backup_targets
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| {
                violation(format!(
                    "{what} destination {name:?} is not a declared backup target"
                ))
            })?;
        profile.check_location(&format!("{what} destination {name:?}"), &target.location)?;
        Ok(Some(target))
    }
}

fn valid_tag(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn residency() -> Residency {
        Residency {
            jurisdiction: Some("CN".into()),
            storage_locations: vec!["cn-shanghai-a".into(), "cn-beijing-b".into()],
            audit_sink_locations: vec![],
            backup_targets: vec![
                BackupTarget {
                    name: "nas-sh".into(),
                    location: "cn-shanghai-a".into(),
                    path: None,
                },
                BackupTarget {
                    name: "s3-us".into(),
                    location: "us-east-1".into(),
                    path: None,
                },
            ],
        }
    }

    #[test]
    fn start_checks_jurisdiction_and_locations() {
        let l3 = Profile::builtin("gb39786-l3").unwrap();
        let r = residency();
        r.check_at_start(&l3).unwrap();
        assert_eq!(r.distinct_data_centres(), 2);
        let mut abroad = r.clone();
        abroad.storage_locations.push("eu-west-1".into());
        let e = abroad.check_at_start(&l3).unwrap_err();
        assert_eq!(e.rule, "allowed_locations");
        assert!(e.to_string().contains("eu-west-1"), "{e}");
        let mut us = r.clone();
        us.jurisdiction = Some("US".into());
        assert_eq!(us.check_at_start(&l3).unwrap_err().rule, "jurisdiction");
        let mut sink = r.clone();
        sink.audit_sink_locations = vec!["us-east-1".into()];
        assert!(sink.check_at_start(&l3).is_err());
        // the default profile allows anything
        abroad
            .check_at_start(&Profile::builtin("default").unwrap())
            .unwrap();
    }

    #[test]
    fn destinations_follow_the_profile() {
        let l3 = Profile::builtin("gb39786-l3").unwrap();
        let default = Profile::builtin("default").unwrap();
        let r = residency();
        assert_eq!(
            r.check_destination(&l3, "export", Some("nas-sh"))
                .unwrap()
                .unwrap()
                .name,
            "nas-sh"
        );
        for (dest, needle) in [
            (Some("s3-us"), "us-east-1"),
            (Some("nowhere"), "not a declared backup target"),
            (None, "needs destination"),
        ] {
            let e = r.check_destination(&l3, "export", dest).unwrap_err();
            assert_eq!(e.rule, "allowed_locations");
            assert!(e.to_string().contains(needle), "{e}");
        }
        assert!(
            r.check_destination(&default, "export", None)
                .unwrap()
                .is_none()
        );
        assert!(
            r.check_destination(&default, "backup", Some("s3-us"))
                .is_ok()
        );
    }

    #[test]
    fn endpoints_and_validation() {
        let l3 = Profile::builtin("gb39786-l3").unwrap();
        let r = residency();
        let e = r.endpoints(&l3);
        assert_eq!(
            e.len(),
            6,
            "2 storage, 2 audit sinks (the storage), 2 targets"
        );
        assert!(e.iter().filter(|x| !x.allowed).all(|x| x.name == "s3-us"));
        r.validate().unwrap();
        let mut bad = r.clone();
        bad.storage_locations.push("CN Shanghai".into());
        assert!(bad.validate().is_err());
        let mut dup = r.clone();
        dup.backup_targets.push(dup.backup_targets[0].clone());
        assert!(dup.validate().unwrap_err().contains("unique"));
    }
}
