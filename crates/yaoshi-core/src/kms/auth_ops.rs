//! Authentication and principal management: the `Kms` operations over the
//! types of [`crate::auth`].
//!
//! Nothing here is cached: every [`Kms::authenticate`] reads the token
//! record and the principal from the store, so a revocation on any node
//! takes effect on the next request on every node. Tokens are looked up by
//! their keyed hash, so the lookup's timing does not depend on how much of
//! a guessed token is right.
//!
//! Revocation deletes the principal first and its token records after; a
//! token issued concurrently re-reads its principal after storing its record
//! and removes the record again if the principal changed or vanished, so no
//! token outlives its principal.

use super::{Kms, new_id, now};
use crate::auth::token::{MAX_TOKEN_LEN, TokenKey, TokenRecord, generate_token};
use crate::auth::{
    Action, Authenticated, Grant, IssuedToken, PRINCIPAL_ENTRY_PREFIX, Principal, ROOT_PRINCIPAL,
    Role, TOKEN_ENTRY_PREFIX, validate_principal_name,
};
use crate::error::{KmsError, KmsResult};
use secrecy::ExposeSecret;

/// The entry of principal `name`.
pub(crate) fn principal_entry(name: &str) -> String {
    format!("{PRINCIPAL_ENTRY_PREFIX}{name}")
}

pub(crate) fn principal_to_bytes(principal: &Principal) -> KmsResult<Vec<u8>> {
    serde_json::to_vec(principal)
        .map_err(|_| KmsError::Internal("principal did not serialise".into()))
}

fn principal_from_bytes(bytes: &[u8]) -> KmsResult<Principal> {
    serde_json::from_slice(bytes)
        .map_err(|_| KmsError::Internal("stored principal is corrupt".into()))
}

/// Roles a principal without the root role may hand out (or revoke).
fn delegable_by_non_root(role: Role) -> bool {
    matches!(role, Role::App | Role::Auditor)
}

impl Kms {
    /// Stores the record of `token` (never the token itself); returns its
    /// accessor.
    pub(crate) async fn store_token_record(
        &self,
        token_key: &TokenKey,
        token: &str,
        principal: &str,
        display_name: String,
        created_at: i64,
        expires_at: Option<i64>,
    ) -> KmsResult<String> {
        let record = TokenRecord {
            principal: principal.to_string(),
            accessor: new_id()?,
            display_name,
            created_at,
            expires_at,
        };
        let entry = token_key.record_entry(token);
        if !self.store.insert_entry(&entry, &record.to_bytes()?).await? {
            // 256 random bits, or a chosen dev token on a fresh store.
            return Err(KmsError::Internal("token record already exists".into()));
        }
        Ok(record.accessor)
    }

    /// Issues a fresh token for `principal` as stored now; undoes it if the
    /// principal is revoked or replaced meanwhile.
    async fn issue_token(
        &self,
        principal: &Principal,
        display_name: String,
        expires_at: Option<i64>,
    ) -> KmsResult<IssuedToken> {
        let unsealed = self.unsealed()?;
        let token = generate_token()?;
        let accessor = self
            .store_token_record(
                &unsealed.token_key,
                token.expose_secret(),
                &principal.name,
                display_name,
                now(),
                expires_at,
            )
            .await?;
        if self.load_principal(&principal.name).await?.as_ref() != Some(principal) {
            self.store
                .delete_entry(&unsealed.token_key.record_entry(token.expose_secret()))
                .await?;
            return Err(KmsError::PermissionDenied);
        }
        Ok(IssuedToken {
            token,
            accessor,
            principal: principal.clone(),
            expires_at,
        })
    }

    async fn load_principal(&self, name: &str) -> KmsResult<Option<Principal>> {
        match self.store.get_entry(&principal_entry(name)).await? {
            Some(bytes) => principal_from_bytes(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Who `token` belongs to, read from the store on every call.
    ///
    /// Unknown or expired tokens, and tokens whose principal is gone, are
    /// [`KmsError::PermissionDenied`]; a sealed node is [`KmsError::Sealed`].
    /// An expired token's record is deleted on the way.
    pub async fn authenticate(&self, token: &str) -> KmsResult<Authenticated> {
        let unsealed = self.unsealed()?;
        if token.is_empty() || token.len() > 4 * MAX_TOKEN_LEN {
            return Err(KmsError::PermissionDenied);
        }
        let entry = unsealed.token_key.record_entry(token);
        let record = match self.store.get_entry(&entry).await? {
            Some(bytes) => TokenRecord::from_bytes(&bytes)?,
            None => return Err(KmsError::PermissionDenied),
        };
        if !record.is_live(now()) {
            self.store.delete_entry(&entry).await?;
            return Err(KmsError::PermissionDenied);
        }
        let principal = self
            .load_principal(&record.principal)
            .await?
            .ok_or(KmsError::PermissionDenied)?;
        if principal.has_role(Role::Bootstrap) && self.admins_in_place().await? {
            // Its work is done: the bootstrap principal is gone for good.
            self.store
                .delete_entry(&principal_entry(&principal.name))
                .await?;
            self.store.delete_entry(&entry).await?;
            return Err(KmsError::PermissionDenied);
        }
        if let Some(audit) = crate::audit::RequestAudit::current() {
            audit.update(|r| {
                r.principal = Some(principal.name.clone());
                r.roles = principal
                    .roles
                    .iter()
                    .map(|role| role.name().to_string())
                    .collect();
            });
        }
        Ok(Authenticated {
            principal,
            token: record.info(),
        })
    }

    /// Whether sys-admin, sec-admin and audit-admin principals all exist.
    async fn admins_in_place(&self) -> KmsResult<bool> {
        let principals = self.list_principals().await?;
        Ok(Role::ADMINS
            .iter()
            .all(|role| principals.iter().any(|p| p.has_role(*role))))
    }

    /// Creates principal `name` and issues its first token (no expiry).
    ///
    /// `by` needs [`Action::Principals`] with `write`. At least one role;
    /// the root role is never granted; grants only with the `app` role
    /// ([`KmsError::InvalidRequest`]). A creator without the root role may
    /// only create `app` and `auditor` principals
    /// ([`KmsError::PermissionDenied`]). An existing name is
    /// [`KmsError::Refused`].
    pub async fn create_principal(
        &self,
        by: &Principal,
        name: &str,
        roles: Vec<Role>,
        grants: Vec<Grant>,
    ) -> KmsResult<IssuedToken> {
        self.create_principal_as(by, name, roles, grants, false)
            .await
    }

    /// [`Kms::create_principal`] for a request that was approved under dual
    /// control (`grant-admin-role`): then a `sec-admin` may also create
    /// principals with one admin role, which otherwise only root (and the
    /// bootstrap principal, for the first admins) may.
    pub async fn create_principal_as(
        &self,
        by: &Principal,
        name: &str,
        roles: Vec<Role>,
        grants: Vec<Grant>,
        admin_grant_approved: bool,
    ) -> KmsResult<IssuedToken> {
        self.unsealed()?;
        by.authorize(&Action::Principals { write: true })?;
        let unique_roles = self.check_new_principal(name, roles, &grants)?;
        if by.has_role(Role::Bootstrap) && !by.has_role(Role::Root) {
            // The bootstrap principal creates the first admins, one role each.
            if unique_roles.len() != 1 || !Role::ADMINS.contains(&unique_roles[0]) {
                return Err(KmsError::PermissionDenied);
            }
        } else if !by.has_role(Role::Root) {
            let approved_admin = |r: Role| {
                admin_grant_approved && by.has_role(Role::SecAdmin) && Role::ADMINS.contains(&r)
            };
            if !unique_roles
                .iter()
                .all(|&r| delegable_by_non_root(r) || approved_admin(r))
            {
                return Err(KmsError::PermissionDenied);
            }
        }
        let principal = Principal {
            name: name.to_string(),
            roles: unique_roles,
            grants,
            created_at: now(),
            created_by: by.name.clone(),
        };
        if !self
            .store
            .insert_entry(&principal_entry(name), &principal_to_bytes(&principal)?)
            .await?
        {
            return Err(KmsError::refused(format!(
                "principal {name:?} already exists"
            )));
        }
        self.issue_token(&principal, name.to_string(), None).await
    }

    /// The checks on a new principal's name, roles and grants that do not
    /// depend on who asks (also run before a creation is parked for
    /// approval); returns the roles without duplicates.
    pub fn check_new_principal(
        &self,
        name: &str,
        roles: Vec<Role>,
        grants: &[Grant],
    ) -> KmsResult<Vec<Role>> {
        validate_principal_name(name)?;
        let mut unique_roles: Vec<Role> = Vec::with_capacity(roles.len());
        for role in roles {
            if !unique_roles.contains(&role) {
                unique_roles.push(role);
            }
        }
        if unique_roles.is_empty() {
            return Err(KmsError::invalid("a principal needs at least one role"));
        }
        if unique_roles.contains(&Role::Root) {
            return Err(KmsError::invalid("the root role cannot be granted"));
        }
        if unique_roles.contains(&Role::Bootstrap) {
            return Err(KmsError::invalid("the bootstrap role cannot be granted"));
        }
        self.profile().check_roles(&unique_roles)?;
        if !grants.is_empty() && !unique_roles.contains(&Role::App) {
            return Err(KmsError::invalid(
                "grants apply to the app role only; add the app role or drop the grants",
            ));
        }
        Ok(unique_roles)
    }

    /// Issues another token for the authenticated principal.
    ///
    /// `ttl_seconds` (at least 1) sets an expiry; a token issued by an
    /// expiring token never outlives it (its expiry is capped, and it gets
    /// the parent's expiry when no TTL is asked for). The display name
    /// defaults to the principal's name.
    pub async fn create_token(
        &self,
        who: &Authenticated,
        ttl_seconds: Option<u64>,
        display_name: Option<String>,
    ) -> KmsResult<IssuedToken> {
        self.unsealed()?;
        let requested = match ttl_seconds {
            None => None,
            Some(0) => return Err(KmsError::invalid("ttl must be at least 1 second")),
            Some(ttl) => Some(
                i64::try_from(ttl)
                    .ok()
                    .and_then(|ttl| now().checked_add(ttl))
                    .ok_or_else(|| KmsError::invalid("ttl is too large"))?,
            ),
        };
        let expires_at = match (requested, who.token.expires_at) {
            (Some(r), Some(parent)) => Some(r.min(parent)),
            (r, parent) => r.or(parent),
        };
        let display_name = display_name.unwrap_or_else(|| who.principal.name.clone());
        if display_name.chars().count() > 256 || display_name.chars().any(char::is_control) {
            return Err(KmsError::invalid(
                "display_name must be at most 256 characters without control characters",
            ));
        }
        self.issue_token(&who.principal, display_name, expires_at)
            .await
    }

    /// Reads principal `name` (`None` also for names no principal can have).
    pub async fn get_principal(&self, name: &str) -> KmsResult<Option<Principal>> {
        self.unsealed()?;
        if validate_principal_name(name).is_err() {
            return Ok(None);
        }
        self.load_principal(name).await
    }

    /// Every principal, sorted by name.
    pub async fn list_principals(&self) -> KmsResult<Vec<Principal>> {
        self.unsealed()?;
        let mut out = Vec::new();
        for entry in self.store.list_entries(PRINCIPAL_ENTRY_PREFIX).await? {
            // A principal revoked between the listing and the read is skipped.
            if let Some(bytes) = self.store.get_entry(&entry).await? {
                out.push(principal_from_bytes(&bytes)?);
            }
        }
        Ok(out)
    }

    /// Revokes principal `name` and every token it has.
    ///
    /// `by` needs [`Action::Principals`] with `write`; without the root role
    /// it may only revoke `app` and `auditor` principals (so never `root`).
    /// An unknown name is [`KmsError::InvalidRequest`].
    pub async fn revoke_principal(&self, by: &Principal, name: &str) -> KmsResult<()> {
        self.unsealed()?;
        by.authorize(&Action::Principals { write: true })?;
        let target = match self.get_principal(name).await? {
            Some(p) => p,
            None => return Err(KmsError::invalid(format!("no such principal {name:?}"))),
        };
        if !by.has_role(Role::Root)
            && (name == ROOT_PRINCIPAL || !target.roles.iter().all(|&r| delegable_by_non_root(r)))
        {
            return Err(KmsError::PermissionDenied);
        }
        // The principal first: from here on its tokens fail to authenticate.
        self.store.delete_entry(&principal_entry(name)).await?;
        for entry in self.store.list_entries(TOKEN_ENTRY_PREFIX).await? {
            let Some(bytes) = self.store.get_entry(&entry).await? else {
                continue;
            };
            if TokenRecord::from_bytes(&bytes)?.principal == name {
                self.store.delete_entry(&entry).await?;
            }
        }
        Ok(())
    }

    /// Revokes one token (whoever holds a token may revoke it). An unknown
    /// token is [`KmsError::PermissionDenied`].
    pub async fn revoke_token(&self, token: &str) -> KmsResult<()> {
        let unsealed = self.unsealed()?;
        if token.is_empty() || token.len() > 4 * MAX_TOKEN_LEN {
            return Err(KmsError::PermissionDenied);
        }
        if self
            .store
            .delete_entry(&unsealed.token_key.record_entry(token))
            .await?
        {
            Ok(())
        } else {
            Err(KmsError::PermissionDenied)
        }
    }
}
