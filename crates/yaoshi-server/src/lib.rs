//! # yaoshi-server
//!
//! HTTP front ends on axum (DESIGN §9): the Vault/OpenBao Transit-compatible
//! data plane, the native control plane (sys, principals), authentication,
//! TLS and metrics. Front ends translate wire formats into `yaoshi-core`
//! `Kms` calls and never touch storage or crypto directly.
//!
//! | module | what |
//! |---|---|
//! | [`settings`] | flags and TOML settings |
//! | [`server`] | start-up, dev mode, shutdown |
//! | [`device_seal`] | the PKCS#11 seal: unseal at start, init, auto-unseal |
//! | [`listener`] | plain and TLS listeners |
//! | [`app`] | request decoding, routing, envelope |
//! | [`wire`] | Vault's parameters, replies and errors |
//! | [`transit`] | the Transit engine, one file per endpoint family |
//! | [`sys`] | seal, health, mounts, metrics, principals |
//! | [`auth_token`] | Vault's token endpoints |
//! | [`metrics`] | Prometheus request metrics |
//! | [`openapi`] | the OpenAPI document of the native endpoints |
#![forbid(unsafe_code)]

pub mod app;
pub mod audit_trail;
pub mod auth_token;
pub mod device_seal;
pub mod dual_control;
pub mod listener;
pub mod metrics;
pub mod openapi;
pub mod scheduler;
pub mod server;
pub mod settings;
pub mod sys;
pub mod transit;
pub mod wire;

pub use server::{RunningServer, run, start};
pub use settings::{
    AuditLogSettings, DevSettings, HaSettings, LogFormat, SealSettings, ServerSettings,
    SettingsError, TlsSettings,
};

/// Why the server stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Settings are unusable.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Listener, TLS or storage start-up failed.
    #[error("{0}")]
    Startup(String),
    /// The device seal could not unseal the node, or does not match the store.
    #[error(transparent)]
    Seal(#[from] device_seal::DeviceSealError),
}
