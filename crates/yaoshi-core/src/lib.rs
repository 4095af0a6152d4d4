//! # yaoshi-core
//!
//! The domain of yaoshi (DESIGN §2–§8): keys, versions and their lifecycle,
//! the barrier (root key → namespace key-encryption keys → key material), the
//! seal, profiles and policy checks, principals, roles and grants, approvals,
//! the audit chain, and the `Store` trait that storage back ends implement.
//! Every front end calls one service type, `Kms`: authorise → check → crypto
//! → audit → result.
//!
//! It depends only on `yaoshi-crypto`; storage and HTTP live in
//! `yaoshi-store` and `yaoshi-server`. This crate is empty until the keystore
//! issue lands; its boundary is fixed here so nothing grows in the wrong place.
#![forbid(unsafe_code)]
