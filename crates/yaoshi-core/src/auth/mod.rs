//! Authentication and authorisation (DESIGN §7).
//!
//! | module | what |
//! |---|---|
//! | [`role`] | the built-in roles |
//! | [`grant`] | key operations and `app` grants (`pattern:ops`) |
//! | [`principal`] | principals, actions and the authorisation table |
//! | [`token`] | token format, keyed token hashes and token records |
//!
//! The service operations (authenticate, create and revoke principals and
//! tokens) are in [`crate::kms::auth_ops`].
//!
//! Stored entries (system entries of the [`Store`](crate::store::Store)):
//!
//! | entry | value |
//! |---|---|
//! | `auth/token-key` | the 32-byte token-hashing key, sealed by the barrier under the root key (binding `Entry { namespace: "auth", name: "token-key" }`) |
//! | `auth/principal/<name>` | JSON [`Principal`] |
//! | `auth/token/<hex keyed hash>` | JSON token record: `principal`, `accessor`, `display_name`, `created_at`, `expires_at` |

pub mod grant;
pub mod principal;
pub mod role;
pub mod token;

pub use grant::{Grant, KeyOp};
pub use principal::{Action, Principal, validate_principal_name};
pub use role::Role;
pub use token::{Authenticated, IssuedToken, TokenRecordInfo};

/// Entry holding the sealed token-hashing key.
pub const TOKEN_KEY_ENTRY: &str = "auth/token-key";
/// Prefix of token record entries (followed by the hex keyed hash).
pub const TOKEN_ENTRY_PREFIX: &str = "auth/token/";
/// Prefix of principal entries (followed by the name).
pub const PRINCIPAL_ENTRY_PREFIX: &str = "auth/principal/";
/// Barrier binding namespace of the token-hashing key.
pub(crate) const TOKEN_KEY_BINDING_NAMESPACE: &str = "auth";
/// Barrier binding name of the token-hashing key.
pub(crate) const TOKEN_KEY_BINDING_NAME: &str = "token-key";
/// Name of the principal created by `init`.
pub const ROOT_PRINCIPAL: &str = "root";
