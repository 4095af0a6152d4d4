//! Grants: which keys an `app` principal may use, and for what.
//!
//! Text form `<pattern>:<ops>`, e.g. `app-*:encrypt,decrypt`. The pattern is
//! a glob over key names in which `*` matches any run of characters
//! (including none) and every other character, `/`, `.`, `?` and `[`
//! included, matches only itself. A grant applies to keys of that name in
//! every mount. `<ops>` is a comma-separated list of [`KeyOp`] names, or `*`
//! for all of them.

use crate::error::{KmsError, KmsResult};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An operation on a key that a grant can allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyOp {
    /// Read the key's metadata (policy, versions, public keys).
    Read,
    /// Encrypt.
    Encrypt,
    /// Decrypt.
    Decrypt,
    /// Rewrap a ciphertext to the latest version.
    Rewrap,
    /// Generate a data key.
    Datakey,
    /// Sign.
    Sign,
    /// Verify a signature or HMAC.
    Verify,
    /// Compute an HMAC.
    Hmac,
}

impl KeyOp {
    /// Every operation, in declaration order (what `*` expands to).
    pub const ALL: [KeyOp; 8] = [
        Self::Read,
        Self::Encrypt,
        Self::Decrypt,
        Self::Rewrap,
        Self::Datakey,
        Self::Sign,
        Self::Verify,
        Self::Hmac,
    ];

    /// The operation's name in grants.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Encrypt => "encrypt",
            Self::Decrypt => "decrypt",
            Self::Rewrap => "rewrap",
            Self::Datakey => "datakey",
            Self::Sign => "sign",
            Self::Verify => "verify",
            Self::Hmac => "hmac",
        }
    }

    /// Parses an operation name; the error lists the valid names.
    pub fn from_name(name: &str) -> KmsResult<Self> {
        Self::ALL
            .into_iter()
            .find(|o| o.name() == name)
            .ok_or_else(|| {
                let valid: Vec<&str> = Self::ALL.iter().map(|o| o.name()).collect();
                KmsError::invalid(format!(
                    "unknown key operation {name:?}; valid operations are {} or *",
                    valid.join(", ")
                ))
            })
    }
}

impl core::fmt::Display for KeyOp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Permission to perform `ops` on the keys whose names match `pattern`.
///
/// Serialised as its text form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Grant {
    /// Key-name glob (`*` is the only special character).
    pub pattern: String,
    /// The allowed operations: non-empty, no duplicates.
    pub ops: Vec<KeyOp>,
}

impl Grant {
    /// Parses `<pattern>:<ops>` (split at the last `:`).
    ///
    /// `ops` keep their order; `*` alone means every operation. Refused: an
    /// empty pattern, control characters in the pattern, empty or unknown
    /// operations, duplicates, and `*` combined with names.
    pub fn parse(text: &str) -> KmsResult<Self> {
        let (pattern, ops_text) = text.rsplit_once(':').ok_or_else(|| {
            KmsError::invalid(format!(
                "grant {text:?} must have the form <key pattern>:<operations>"
            ))
        })?;
        if pattern.is_empty() {
            return Err(KmsError::invalid(format!(
                "grant {text:?} has an empty key pattern"
            )));
        }
        if pattern.chars().any(char::is_control) {
            return Err(KmsError::invalid(
                "a grant's key pattern must not contain control characters",
            ));
        }
        let ops = if ops_text == "*" {
            KeyOp::ALL.to_vec()
        } else {
            let mut ops = Vec::new();
            for name in ops_text.split(',') {
                if name.is_empty() {
                    return Err(KmsError::invalid(format!(
                        "grant {text:?} has an empty operation"
                    )));
                }
                if name == "*" {
                    return Err(KmsError::invalid(
                        "`*` stands for every operation and cannot be combined with others",
                    ));
                }
                let op = KeyOp::from_name(name)?;
                if ops.contains(&op) {
                    return Err(KmsError::invalid(format!(
                        "grant {text:?} names operation {name:?} twice"
                    )));
                }
                ops.push(op);
            }
            ops
        };
        Ok(Self {
            pattern: pattern.to_string(),
            ops,
        })
    }

    /// Whether this grant allows `op` on the key named `key_name`.
    pub fn allows(&self, key_name: &str, op: KeyOp) -> bool {
        self.ops.contains(&op) && glob_matches(&self.pattern, key_name)
    }

    /// Whether the grant covers every operation.
    fn is_all_ops(&self) -> bool {
        KeyOp::ALL.iter().all(|op| self.ops.contains(op))
    }
}

impl core::fmt::Display for Grant {
    /// The text form: `pattern:ops`, with `*` when every operation is allowed.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}:", self.pattern)?;
        if self.is_all_ops() {
            return f.write_str("*");
        }
        for (i, op) in self.ops.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(op.name())?;
        }
        Ok(())
    }
}

impl core::str::FromStr for Grant {
    type Err = KmsError;

    fn from_str(s: &str) -> KmsResult<Self> {
        Self::parse(s)
    }
}

impl Serialize for Grant {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Grant {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Glob match where `*` matches any run of characters (including none) and
/// every other character matches itself. Linear backtracking on the last
/// `*`, so no input is exponential.
fn glob_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // Position of the last `*` seen and the name position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            // Let the last `*` swallow one more character.
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(text: &str) -> Grant {
        Grant::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn glob_edge_cases() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "", true),
            ("*", "anything/at.all", true),
            ("**", "x", true),
            ("app-*", "app-", true),
            ("app-*", "app-x", true),
            ("app-*", "app-x/y.z", true),
            ("app-*", "app", false),
            ("app-*", "xapp-1", false),
            ("*-prod", "db-prod", true),
            ("*-prod", "db-prod-2", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "abbbcc", true),
            ("a*b*c", "aXYc", false),
            ("a*b*c", "acb", false),
            ("a*b*c", "abcX", false),
            ("exact", "exact", true),
            ("exact", "exac", false),
            ("exact", "exactly", false),
            ("exact", "EXACT", false),
            ("a.c", "abc", false),
            ("a?c", "abc", false),
            ("a?c", "a?c", true),
            ("[ab]", "a", false),
            ("[ab]", "[ab]", true),
            ("密钥-*", "密钥-1", true),
            ("*a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", false),
            ("*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
        ];
        for &(pattern, name, expected) in cases {
            assert_eq!(glob_matches(pattern, name), expected, "{pattern} ~ {name}");
        }
    }

    #[test]
    fn allows_needs_both_the_name_and_the_operation() {
        let g = grant("app-*:encrypt,decrypt");
        assert_eq!(g.pattern, "app-*");
        assert_eq!(g.ops, [KeyOp::Encrypt, KeyOp::Decrypt]);
        assert!(g.allows("app-x", KeyOp::Encrypt));
        assert!(g.allows("app-x", KeyOp::Decrypt));
        assert!(!g.allows("app-x", KeyOp::Sign));
        assert!(!g.allows("other-x", KeyOp::Encrypt));
        let all = grant("*:*");
        for op in KeyOp::ALL {
            assert!(all.allows("whatever", op));
        }
    }

    #[test]
    fn text_form_round_trips() {
        for text in [
            "app-*:encrypt,decrypt",
            "k:hmac",
            "x:*",
            "a*b*c:verify,sign,read",
            "ns:with:colons:read",
        ] {
            let g = grant(text);
            assert_eq!(g.to_string(), text);
            assert_eq!(text.parse::<Grant>().unwrap(), g);
            let json = serde_json::to_string(&g).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<Grant>(&json).unwrap(), g);
        }
        assert_eq!(grant("x:*").ops, KeyOp::ALL);
        assert_eq!(
            grant("ns:with:colons:read").pattern,
            "ns:with:colons",
            "split at the last colon"
        );
        // Listing every operation is the same grant as `*`.
        let explicit = grant("x:read,encrypt,decrypt,rewrap,datakey,sign,verify,hmac");
        assert_eq!(explicit, grant("x:*"));
        assert_eq!(explicit.to_string(), "x:*");
    }

    #[test]
    fn malformed_grants_are_refused() {
        for bad in [
            "",
            "app-*",
            ":encrypt",
            "app-*:",
            "app-*:encrypt,",
            "app-*:,encrypt",
            "app-*:encrypt,,decrypt",
            "app-*:Encrypt",
            "app-*:write",
            "app-*:encrypt,encrypt",
            "app-*:*,read",
            "app-*:read,*",
            "app-*: read",
            "app\n*:read",
        ] {
            let err = Grant::parse(bad).unwrap_err();
            assert!(matches!(err, KmsError::InvalidRequest(_)), "{bad:?}");
        }
        let err = Grant::parse("k:write").unwrap_err().to_string();
        assert!(err.contains("valid operations are read, encrypt, decrypt, rewrap, datakey, sign, verify, hmac or *"), "{err}");
        assert!(serde_json::from_str::<Grant>("\"k:write\"").is_err());
    }
}
