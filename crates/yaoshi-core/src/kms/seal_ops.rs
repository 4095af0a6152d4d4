//! Initialisation, unsealing and sealing, with Vault's progress/nonce model.
//!
//! Init also bootstraps authentication and the mount table while the root
//! key is in hand: it creates the token-hashing key (sealed under the root
//! key in `auth/token-key`), the `root` principal, the root token's record
//! and the `transit/` mount. Every unseal path (shares, device, and init
//! itself for device and dev seals) loads the token-hashing key.

use super::mounts::{Mount, TRANSIT_DESCRIPTION, TRANSIT_KIND};
use super::{Kms, SealState, Unsealed, lock, new_id, now};
use crate::auth::token::{TOKEN_KEY_LEN, TokenKey, generate_token, validate_chosen_token};
use crate::auth::{
    Principal, ROOT_PRINCIPAL, Role, TOKEN_KEY_BINDING_NAME, TOKEN_KEY_BINDING_NAMESPACE,
    TOKEN_KEY_ENTRY,
};
use crate::barrier::{BarrierAlgorithm, BarrierKey, Binding, SECRET_LEN};
use crate::error::{KmsError, KmsResult};
use crate::seal::{RootKeyWrapper, SEAL_CONFIG_ENTRY, SealConfig, SealType};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use yaoshi_crypto::{SecretBytes, random, shamir};

/// The check value sealed under the root key at init.
const ROOT_CHECK_PLAINTEXT: &[u8] = b"yaoshi root key check v1";

/// How a new deployment's root key is protected.
#[derive(Clone)]
pub enum InitSeal {
    /// Split into `shares` Shamir shares, `threshold` of which unseal.
    Shamir {
        /// Number of shares (1..=255).
        shares: u8,
        /// Shares needed (1 only with a single share).
        threshold: u8,
    },
    /// Wrapped by a device; the node unseals itself.
    Device(Arc<dyn RootKeyWrapper>),
    /// Kept in memory only; lost when the process ends.
    Dev,
}

impl core::fmt::Debug for InitSeal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Shamir { shares, threshold } => write!(f, "Shamir({threshold} of {shares})"),
            Self::Device(w) => write!(f, "Device({})", w.kind()),
            Self::Dev => f.write_str("Dev"),
        }
    }
}

/// An initialisation request. `Debug` does not show a chosen root token.
#[derive(Clone)]
pub struct InitRequest {
    /// The seal.
    pub seal: InitSeal,
    /// The root token to issue (dev servers choose one: 1 to 256 characters,
    /// no control characters); `None` issues a random `ys.` token.
    pub root_token: Option<String>,
}

impl InitRequest {
    /// A request with `seal` and a random root token.
    pub fn new(seal: InitSeal) -> Self {
        Self {
            seal,
            root_token: None,
        }
    }
}

impl core::fmt::Debug for InitRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InitRequest")
            .field("seal", &self.seal)
            .field(
                "root_token",
                &self.root_token.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

/// What init hands back: the Shamir shares (empty for other seals) and the
/// root token. They are shown once and never stored. `Debug` shows neither.
#[derive(Debug)]
pub struct InitResult {
    /// The shares, in the encoding `sys/unseal` accepts.
    pub shares: Vec<SecretBytes>,
    /// The seal configuration that was stored.
    pub config: SealConfig,
    /// The token of the `root` principal.
    pub root_token: SecretString,
}

/// The seal status, as `sys/seal-status` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealStatus {
    /// Whether the deployment has been initialised.
    pub initialized: bool,
    /// Whether this node is sealed.
    pub sealed: bool,
    /// Seal type name (`shamir`, the device kind, `dev`), when initialised.
    pub seal_type: Option<String>,
    /// Shares needed.
    pub threshold: u8,
    /// Shares issued.
    pub shares: u8,
    /// Shares supplied so far in the current attempt.
    pub progress: u8,
    /// Identifier of the current unseal attempt ("" when none).
    pub nonce: String,
    /// Barrier algorithm, when initialised.
    pub barrier: Option<BarrierAlgorithm>,
}

impl Kms {
    /// The stored seal configuration (`None` before init).
    pub(crate) async fn seal_config(&self) -> KmsResult<Option<SealConfig>> {
        match self.store.get_entry(SEAL_CONFIG_ENTRY).await? {
            Some(bytes) => Ok(Some(SealConfig::from_bytes(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The seal status of this node.
    pub async fn seal_status(&self) -> KmsResult<SealStatus> {
        let config = self.seal_config().await?;
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        let (sealed, progress, nonce) = match &*state {
            SealState::Unsealed(_) => (false, 0, String::new()),
            SealState::Sealed { progress, nonce } => (
                true,
                progress.len() as u8,
                nonce.clone().unwrap_or_default(),
            ),
        };
        Ok(SealStatus {
            initialized: config.is_some(),
            sealed,
            seal_type: config.as_ref().map(|c| match c.seal_type {
                SealType::Device => c.device_kind.clone().unwrap_or_else(|| "device".into()),
                t => t.name().to_string(),
            }),
            threshold: config.as_ref().map_or(0, |c| c.threshold),
            shares: config.as_ref().map_or(0, |c| c.shares),
            progress,
            nonce,
            barrier: config.map(|c| c.barrier),
        })
    }

    /// Initialises a new deployment: generates the root key, stores the
    /// seal configuration, then bootstraps the token-hashing key, the `root`
    /// principal with its token, and the `transit/` mount. Shamir deployments
    /// stay sealed until unsealed with the returned shares (as in Vault);
    /// device and dev seals come up unsealed.
    ///
    /// The stored seal configuration is the commit point (only one of
    /// several concurrent inits gets past it); the bootstrap entries are
    /// written after it. A crash between the two leaves a deployment that
    /// refuses to unseal (its token-hashing key is missing) and has to be
    /// initialised again on an empty store.
    pub async fn init(&self, request: InitRequest) -> KmsResult<InitResult> {
        if let Some(token) = &request.root_token {
            validate_chosen_token(token)?;
        }
        if self.seal_config().await?.is_some() {
            return Err(KmsError::AlreadyInitialized);
        }
        let root = SecretBytes::from_slice(&random::array::<SECRET_LEN>()?);
        let barrier = self.options.barrier;
        let root_key = BarrierKey::new(&root)?;
        let root_check =
            STANDARD.encode(root_key.seal(barrier, Binding::RootCheck, ROOT_CHECK_PLAINTEXT)?);
        let mut config = SealConfig {
            seal_type: SealType::Dev,
            shares: 1,
            threshold: 1,
            barrier,
            root_check,
            device_kind: None,
            wrapped_root_key: None,
            created_at: now(),
        };
        let mut shares = Vec::new();
        match &request.seal {
            InitSeal::Shamir {
                shares: n,
                threshold,
            } => {
                if *n == 0 || *threshold == 0 || threshold > n {
                    return Err(KmsError::invalid(
                        "need 1 <= secret_threshold <= secret_shares <= 255",
                    ));
                }
                if *threshold == 1 && *n > 1 {
                    return Err(KmsError::invalid(
                        "secret_threshold must be at least 2 when secret_shares is more than 1",
                    ));
                }
                shares = shamir::split(root.expose(), *n, *threshold)?;
                config.seal_type = SealType::Shamir;
                config.shares = *n;
                config.threshold = *threshold;
            }
            InitSeal::Device(wrapper) => {
                config.seal_type = SealType::Device;
                config.device_kind = Some(wrapper.kind().to_string());
                config.wrapped_root_key = Some(STANDARD.encode(wrapper.wrap(root.expose())?));
            }
            InitSeal::Dev => {}
        }
        let token_secret = SecretBytes::from_slice(&random::array::<TOKEN_KEY_LEN>()?);
        let sealed_token_key =
            root_key.seal(barrier, token_key_binding(), token_secret.expose())?;
        let token_key = TokenKey::new(token_secret, barrier)?;
        let root_token = match request.root_token {
            Some(chosen) => SecretString::from(chosen),
            None => generate_token()?,
        };
        if !self
            .store
            .insert_entry(SEAL_CONFIG_ENTRY, &config.to_bytes())
            .await?
        {
            return Err(KmsError::AlreadyInitialized);
        }
        let signer = self.ensure_audit_keys(&root_key, barrier).await?;
        self.bootstrap(&token_key, &sealed_token_key, &root_token)
            .await?;
        if !matches!(request.seal, InitSeal::Shamir { .. }) {
            self.become_unsealed(root_key, barrier, token_key, signer);
        }
        Ok(InitResult {
            shares,
            config,
            root_token,
        })
    }

    /// Writes the entries every deployment starts with. Only the init that
    /// stored the seal configuration gets here, so plain puts are safe.
    async fn bootstrap(
        &self,
        token_key: &TokenKey,
        sealed_token_key: &[u8],
        root_token: &SecretString,
    ) -> KmsResult<()> {
        self.store
            .put_entry(TOKEN_KEY_ENTRY, sealed_token_key)
            .await?;
        self.store_profile().await?;
        let created_at = now();
        // Under role separation init issues a bootstrap token, not root.
        let (name, role) = if self.profile().role_separation {
            (BOOTSTRAP_PRINCIPAL, Role::Bootstrap)
        } else {
            (ROOT_PRINCIPAL, Role::Root)
        };
        let first = Principal {
            name: name.to_string(),
            roles: vec![role],
            grants: Vec::new(),
            created_at,
            created_by: "init".to_string(),
        };
        self.store
            .put_entry(
                &super::auth_ops::principal_entry(name),
                &super::auth_ops::principal_to_bytes(&first)?,
            )
            .await?;
        self.store_token_record(
            token_key,
            root_token.expose_secret(),
            name,
            name.to_string(),
            created_at,
            None,
        )
        .await?;
        let transit = Mount::new("transit/", TRANSIT_KIND, TRANSIT_DESCRIPTION, created_at)?;
        self.store
            .put_entry(&transit.entry_name(), &transit.to_bytes()?)
            .await?;
        Ok(())
    }

    /// Opens the stored token-hashing key with a verified root key.
    async fn load_token_key(
        &self,
        root: &BarrierKey,
        barrier: BarrierAlgorithm,
    ) -> KmsResult<TokenKey> {
        let sealed = self
            .store
            .get_entry(TOKEN_KEY_ENTRY)
            .await?
            .ok_or_else(|| {
                KmsError::Internal(
                    "the token-hashing key is missing; this deployment's init did not complete"
                        .into(),
                )
            })?;
        TokenKey::new(root.open(token_key_binding(), &sealed)?, barrier)
    }

    /// Applies a staged restore, if any, then loads what an unsealed node
    /// needs with the recovered root key, and unseals.
    async fn open_deployment(&self, root: BarrierKey, barrier: BarrierAlgorithm) -> KmsResult<()> {
        self.apply_pending_restore(&root).await?;
        let token_key = self.load_token_key(&root, barrier).await?;
        let signer = self.ensure_audit_keys(&root, barrier).await?;
        self.become_unsealed(root, barrier, token_key, signer);
        Ok(())
    }

    fn become_unsealed(
        &self,
        root: BarrierKey,
        barrier: BarrierAlgorithm,
        token_key: TokenKey,
        audit_signer: crate::audit::AuditSigningKey,
    ) {
        *self.state.write().unwrap_or_else(|p| p.into_inner()) =
            SealState::Unsealed(Arc::new(Unsealed {
                root,
                barrier,
                token_key,
                audit_signer: Arc::new(audit_signer),
                keks: Mutex::new(HashMap::new()),
            }));
    }

    /// Checks a recovered root key against the stored check value.
    fn verify_root(config: &SealConfig, root: &SecretBytes) -> KmsResult<BarrierKey> {
        let key = BarrierKey::new(root)?;
        let blob = STANDARD
            .decode(&config.root_check)
            .map_err(|_| KmsError::Internal("stored root check is not base64".into()))?;
        match key.open(Binding::RootCheck, &blob) {
            Ok(plain) if plain.expose() == ROOT_CHECK_PLAINTEXT => Ok(key),
            _ => Err(KmsError::invalid(
                "unseal failed: the recovered root key does not match this deployment",
            )),
        }
    }

    /// Supplies one Shamir share. Returns the status after it; when the
    /// threshold is reached the shares are combined and checked, and the
    /// attempt is reset whether or not they were right.
    pub async fn unseal(&self, share: &[u8]) -> KmsResult<SealStatus> {
        let config = self.seal_config().await?.ok_or(KmsError::NotInitialized)?;
        if config.seal_type != SealType::Shamir {
            return Err(KmsError::invalid(format!(
                "this deployment uses a {} seal; shares do not apply",
                config.seal_type.name()
            )));
        }
        let combined = {
            let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
            match &mut *state {
                SealState::Unsealed(_) => None,
                SealState::Sealed { progress, nonce } => {
                    // A share must at least look like one of this deployment's.
                    if share.len() != shamir::share_len(SECRET_LEN)
                        || shamir::share_threshold(share) != Some(config.threshold)
                    {
                        return Err(KmsError::invalid(
                            "unseal key is not a share of this deployment",
                        ));
                    }
                    if progress.iter().any(|s| s.expose() == share) {
                        return Err(KmsError::invalid("this unseal key was already supplied"));
                    }
                    if nonce.is_none() {
                        *nonce = Some(new_id()?);
                    }
                    progress.push(SecretBytes::from_slice(share));
                    if progress.len() < usize::from(config.threshold) {
                        None
                    } else {
                        let parts: Vec<&[u8]> = progress.iter().map(|s| s.expose()).collect();
                        let result = shamir::combine(&parts);
                        progress.clear();
                        *nonce = None;
                        Some(result)
                    }
                }
            }
        };
        if let Some(result) = combined {
            let root = result.map_err(|_| {
                KmsError::invalid("unseal failed: the shares do not combine to the root key")
            })?;
            let key = Self::verify_root(&config, &root)?;
            self.open_deployment(key, config.barrier).await?;
        }
        self.seal_status().await
    }

    /// Forgets the shares supplied so far.
    pub async fn unseal_reset(&self) -> KmsResult<SealStatus> {
        if let SealState::Sealed { progress, nonce } =
            &mut *self.state.write().unwrap_or_else(|p| p.into_inner())
        {
            progress.clear();
            *nonce = None;
        }
        self.seal_status().await
    }

    /// Unseals a device-sealed deployment with its wrapping device (at start).
    pub async fn unseal_with_device(&self, wrapper: &dyn RootKeyWrapper) -> KmsResult<SealStatus> {
        let config = self.seal_config().await?.ok_or(KmsError::NotInitialized)?;
        let wrapped = match (&config.seal_type, &config.wrapped_root_key) {
            (SealType::Device, Some(w))
                if config.device_kind.as_deref() == Some(wrapper.kind()) =>
            {
                STANDARD.decode(w).map_err(|_| {
                    KmsError::Internal("stored wrapped root key is not base64".into())
                })?
            }
            _ => {
                return Err(KmsError::invalid(format!(
                    "this deployment is not sealed by a {} device",
                    wrapper.kind()
                )));
            }
        };
        let root = wrapper.unwrap(&wrapped)?;
        let key = Self::verify_root(&config, &root)?;
        self.open_deployment(key, config.barrier).await?;
        self.seal_status().await
    }

    /// Seals this node: forgets the root key, KEKs and every cached version.
    pub fn seal(&self) {
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = SealState::Sealed {
            progress: Vec::new(),
            nonce: None,
        };
        self.cache.clear();
        lock(&self.wrapping_keys).clear();
    }

    /// Whether this node is sealed.
    pub fn is_sealed(&self) -> bool {
        self.unsealed().is_err()
    }
}

/// The barrier binding of the sealed token-hashing key.
/// Name of the principal `init` creates under a role-separation profile.
pub const BOOTSTRAP_PRINCIPAL: &str = "bootstrap";

fn token_key_binding() -> Binding<'static> {
    Binding::Entry {
        namespace: TOKEN_KEY_BINDING_NAMESPACE,
        name: TOKEN_KEY_BINDING_NAME,
    }
}
