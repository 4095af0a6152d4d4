//! The mount table: which paths serve a secrets engine, and which keystore
//! namespace each mount's keys live in.
//!
//! A mount's path ends in `/` (`transit/`); its keys live in the keystore
//! namespace named by the path without that slash ([`Mount::namespace`]).
//! Each mount is the entry `mount/<path>` holding the JSON [`Mount`]. Init
//! mounts `transit/`.
//!
//! Disabling a mount removes only its entry: the namespace and its keys stay
//! in storage untouched, unreachable through the API, and reappear if the
//! same path is mounted again. (Vault deletes a disabled mount's data; yaoshi
//! keeps key material until it is destroyed through the key lifecycle.)
//!
//! Mount paths never nest: a path inside an existing mount, or containing
//! one, is refused. Two nodes enabling nested paths at the same moment may
//! both be refused (each removes its own entry when it sees the other), but
//! never both succeed.

use super::{Kms, now};
use crate::error::{KmsError, KmsResult};
use serde::{Deserialize, Serialize};
use yaoshi_crypto::random;

/// Prefix of mount entries (followed by the mount path).
pub const MOUNT_ENTRY_PREFIX: &str = "mount/";
/// The only secrets engine kind.
pub const TRANSIT_KIND: &str = "transit";
/// Description of the `transit/` mount created by init.
pub const TRANSIT_DESCRIPTION: &str = "transit secrets engine for yaoshi";
/// Paths reserved for the server's own endpoints.
const RESERVED: [&str; 2] = ["sys/", "auth/"];

/// One mounted secrets engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Mount path with its trailing slash, e.g. `transit/`.
    pub path: String,
    /// Engine kind (`transit`).
    pub kind: String,
    /// Free-text description.
    pub description: String,
    /// Random accessor, `<kind>_<8 hex digits>` as in Vault.
    pub accessor: String,
    /// Random UUID (version 4 layout).
    pub uuid: String,
    /// Unix time (seconds) of creation.
    pub created_at: i64,
}

impl Mount {
    /// A new mount with fresh accessor and UUID (`path` already normalised).
    pub(crate) fn new(
        path: &str,
        kind: &str,
        description: &str,
        created_at: i64,
    ) -> KmsResult<Self> {
        let uuid = random::uuid_v4()?;
        Ok(Self {
            path: path.to_string(),
            kind: kind.to_string(),
            description: description.to_string(),
            accessor: format!("{kind}_{}", hex::encode(random::array::<4>()?)),
            uuid,
            created_at,
        })
    }

    /// The keystore namespace of this mount's keys: the path without its
    /// trailing slash.
    pub fn namespace(&self) -> &str {
        self.path.strip_suffix('/').unwrap_or(&self.path)
    }

    /// The entry this mount is stored in.
    pub(crate) fn entry_name(&self) -> String {
        format!("{MOUNT_ENTRY_PREFIX}{}", self.path)
    }

    pub(crate) fn to_bytes(&self) -> KmsResult<Vec<u8>> {
        serde_json::to_vec(self).map_err(|_| KmsError::Internal("mount did not serialise".into()))
    }

    fn from_bytes(bytes: &[u8]) -> KmsResult<Self> {
        serde_json::from_slice(bytes)
            .map_err(|_| KmsError::Internal("stored mount is corrupt".into()))
    }

    /// Whether the two mount paths overlap (one is a prefix of the other).
    fn overlaps(&self, path: &str) -> bool {
        path.starts_with(&self.path) || self.path.starts_with(path)
    }
}

/// Checks a mount path and gives it its trailing slash.
///
/// Refused: empty, a leading `/`, `..`, control characters, empty segments
/// (`a//b`), and the reserved `sys/` and `auth/` (and paths under them).
pub fn normalise_mount_path(path: &str) -> KmsResult<String> {
    let bad = |why: &str| Err(KmsError::invalid(format!("invalid mount path: {why}")));
    if path.is_empty() || path == "/" {
        return bad("it is empty");
    }
    if path.starts_with('/') {
        return bad("it must not start with '/'");
    }
    if path.contains("..") {
        return bad("it must not contain '..'");
    }
    if path.chars().any(char::is_control) {
        return bad("it must not contain control characters");
    }
    let normalised = if path.ends_with('/') {
        path.to_string()
    } else {
        format!("{path}/")
    };
    if normalised.contains("//") {
        return bad("it must not contain empty segments");
    }
    if let Some(reserved) = RESERVED.iter().find(|r| normalised.starts_with(**r)) {
        return Err(KmsError::refused(format!(
            "cannot mount under {reserved}: the path is reserved"
        )));
    }
    Ok(normalised)
}

impl Kms {
    /// Every mount, sorted by path.
    pub async fn list_mounts(&self) -> KmsResult<Vec<Mount>> {
        self.unsealed()?;
        let mut mounts = Vec::new();
        for entry in self.store.list_entries(MOUNT_ENTRY_PREFIX).await? {
            // A mount disabled between the listing and the read is skipped.
            if let Some(bytes) = self.store.get_entry(&entry).await? {
                mounts.push(Mount::from_bytes(&bytes)?);
            }
        }
        Ok(mounts)
    }

    /// Mounts a `kind` engine at `path` (a trailing slash is added).
    ///
    /// Only `transit` exists. Invalid paths are [`KmsError::InvalidRequest`];
    /// reserved paths, and paths equal to, inside or containing an existing
    /// mount are [`KmsError::Refused`] (`path is already in use at <path>`).
    pub async fn enable_mount(
        &self,
        path: &str,
        kind: &str,
        description: &str,
    ) -> KmsResult<Mount> {
        self.unsealed()?;
        let path = normalise_mount_path(path)?;
        if kind != TRANSIT_KIND {
            return Err(KmsError::invalid(format!(
                "plugin not found in the catalog: {kind} (yaoshi serves \"{TRANSIT_KIND}\")"
            )));
        }
        let in_use = |at: &str| KmsError::refused(format!("path is already in use at {at}"));
        let existing = self.list_mounts().await?;
        if let Some(m) = existing.iter().find(|m| m.overlaps(&path)) {
            return Err(in_use(&m.path));
        }
        let mount = Mount::new(&path, kind, description, now())?;
        if !self
            .store
            .insert_entry(&mount.entry_name(), &mount.to_bytes()?)
            .await?
        {
            return Err(in_use(&path));
        }
        // Another node may have mounted an overlapping path meanwhile.
        let after = self.list_mounts().await?;
        if let Some(m) = after.iter().find(|m| m.path != path && m.overlaps(&path)) {
            self.store.delete_entry(&mount.entry_name()).await?;
            return Err(in_use(&m.path));
        }
        Ok(mount)
    }

    /// Unmounts `path` (trailing slash optional); `false` if nothing was
    /// mounted there. The mount's keys stay in storage (see the module doc).
    pub async fn disable_mount(&self, path: &str) -> KmsResult<bool> {
        self.unsealed()?;
        let path = match normalise_mount_path(path) {
            Ok(p) => p,
            Err(_) => return Ok(false),
        };
        Ok(self
            .store
            .delete_entry(&format!("{MOUNT_ENTRY_PREFIX}{path}"))
            .await?)
    }

    /// The mount serving `request_path` (longest matching mount path) and
    /// the rest of the path after it; a path equal to a mount's path without
    /// its slash matches with an empty rest.
    pub async fn find_mount(&self, request_path: &str) -> KmsResult<Option<(Mount, String)>> {
        let best = self
            .list_mounts()
            .await?
            .into_iter()
            .filter(|m| request_path.starts_with(&m.path) || request_path == m.namespace())
            .max_by_key(|m| m.path.len());
        Ok(best.map(|m| {
            let rest = request_path.get(m.path.len()..).unwrap_or("").to_string();
            (m, rest)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_or_refused() {
        assert_eq!(normalise_mount_path("transit").unwrap(), "transit/");
        assert_eq!(normalise_mount_path("transit/").unwrap(), "transit/");
        assert_eq!(normalise_mount_path("team/a").unwrap(), "team/a/");
        assert_eq!(normalise_mount_path("system/").unwrap(), "system/");
        for bad in [
            "", "/", "/transit", "a/../b", "..", "a..b/", "a\tb", "a//b", "a\u{7f}",
        ] {
            assert!(
                matches!(normalise_mount_path(bad), Err(KmsError::InvalidRequest(_))),
                "{bad:?}"
            );
        }
        for reserved in ["sys", "sys/", "sys/x", "auth", "auth/token/"] {
            assert!(
                matches!(normalise_mount_path(reserved), Err(KmsError::Refused(_))),
                "{reserved:?}"
            );
        }
    }

    #[test]
    fn new_mounts_have_fresh_identifiers_and_a_namespace() {
        let a = Mount::new("team/transit/", "transit", "d", 5).unwrap();
        let b = Mount::new("team/transit/", "transit", "d", 5).unwrap();
        assert_eq!(a.namespace(), "team/transit");
        assert_eq!(a.entry_name(), "mount/team/transit/");
        assert_ne!(a.uuid, b.uuid);
        assert_ne!(a.accessor, b.accessor);
        assert!(a.accessor.starts_with("transit_") && a.accessor.len() == 16);
        let parts: Vec<usize> = a.uuid.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        assert_eq!(&a.uuid[14..15], "4", "version 4 layout");
        assert_eq!(Mount::from_bytes(&a.to_bytes().unwrap()).unwrap(), a);
        assert!(a.overlaps("team/"));
        assert!(a.overlaps("team/transit/x/"));
        assert!(!a.overlaps("team/transit2/"));
    }
}
