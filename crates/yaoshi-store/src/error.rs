//! Mapping `sqlx` errors to [`StoreError`] without leaking stored values.
//!
//! Database errors keep only their code and primary message: PostgreSQL puts
//! row contents in the *detail* field (`Key (name)=(...) already exists`),
//! which is dropped; SQLite messages name columns, never values. Decoding
//! errors name the column only.

use yaoshi_core::store::StoreError;

/// Maps any error that has no special meaning at its call site.
pub(crate) fn db(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::Database(e) => {
            let code = e.code().map(|c| c.into_owned()).unwrap_or_default();
            StoreError::Unavailable(format!("database error {code}: {}", e.message()))
        }
        sqlx::Error::ColumnDecode { index, .. } => {
            StoreError::Corrupt(format!("column {index} has an unexpected type"))
        }
        sqlx::Error::ColumnNotFound(c) => StoreError::Corrupt(format!("column {c} is missing")),
        sqlx::Error::Decode(_) | sqlx::Error::TypeNotFound { .. } => {
            StoreError::Corrupt("a stored value could not be decoded".into())
        }
        sqlx::Error::PoolTimedOut => {
            StoreError::Unavailable("timed out waiting for a database connection".into())
        }
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// Whether `err` is a unique or primary-key violation.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Whether `err` says a concurrent transaction got in the way (PostgreSQL
/// serialization failure or deadlock): the caller may retry.
fn is_concurrency_failure(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e)
        if matches!(e.code().as_deref(), Some("40001") | Some("40P01")))
}

/// Maps an error where a uniqueness violation means `on_unique`.
pub(crate) fn unique_as(on_unique: StoreError) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |err| {
        if is_unique_violation(&err) {
            on_unique
        } else if is_concurrency_failure(&err) {
            StoreError::Conflict
        } else {
            db(err)
        }
    }
}
