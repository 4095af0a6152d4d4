//! Secret byte strings and constant-time comparison.

use secrecy::{ExposeSecret, SecretBox};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// Key material or other secret bytes: wiped on drop, redacted in `Debug`.
///
/// Access is explicit through [`SecretBytes::expose`], so every place that
/// touches the bytes is easy to find in review.
pub struct SecretBytes(SecretBox<[u8]>);

impl SecretBytes {
    /// Takes ownership of `bytes`; the buffer is wiped on drop.
    ///
    /// A vector with spare capacity is copied into an exact-size buffer and
    /// wiped, so no copy of the secret is left behind by a reallocation.
    pub fn new(mut bytes: Vec<u8>) -> Self {
        if bytes.capacity() == bytes.len() {
            return Self(SecretBox::new(bytes.into_boxed_slice()));
        }
        let exact: Box<[u8]> = bytes.as_slice().into();
        bytes.zeroize();
        Self(SecretBox::new(exact))
    }

    /// Copies `bytes` into a new secret buffer.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self::new(bytes.to_vec())
    }

    /// The secret bytes.
    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// Length in bytes (not secret).
    pub fn len(&self) -> usize {
        self.expose().len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Clone for SecretBytes {
    fn clone(&self) -> Self {
        Self::from_slice(self.expose())
    }
}

impl core::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SecretBytes([REDACTED; {}])", self.len())
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(self.expose(), other.expose())
    }
}

impl Eq for SecretBytes {}

/// Compares two byte strings in time that depends only on their lengths.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
