//! # yaoshi-store
//!
//! Implementations of `yaoshi-core`'s `Store` trait (DESIGN §5): SQLite in WAL
//! mode with `synchronous=FULL` as the embedded default, and PostgreSQL for
//! many stateless nodes, sharing one migration set and one conformance suite.
//! Empty until the keystore issue lands.
#![forbid(unsafe_code)]
