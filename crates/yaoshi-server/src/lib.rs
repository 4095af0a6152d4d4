//! # yaoshi-server
//!
//! HTTP front ends on axum (DESIGN §9): the Vault/OpenBao Transit-compatible
//! data plane, the native control plane (sys, audit, compliance, approvals),
//! authentication middleware, TLS and metrics. Front ends translate wire
//! formats into `yaoshi-core` `Kms` calls and never touch storage or crypto
//! directly. Empty until the server issue lands.
#![forbid(unsafe_code)]
