//! The `vault:v<N>:<base64>` form shared by ciphertexts, signatures and HMACs.

use crate::error::{KmsError, KmsResult};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const PREFIX: &str = "vault:v";

/// Formats `payload` made with key version `version`.
pub fn format(version: i64, payload: &[u8]) -> String {
    format!("{PREFIX}{version}:{}", STANDARD.encode(payload))
}

/// Parses a `vault:v<N>:<base64>` string into its version and payload.
///
/// `what` names the value in errors (`ciphertext`, `signature`, `hmac`).
pub fn parse(text: &str, what: &str) -> KmsResult<(i64, Vec<u8>)> {
    let bad = |why: &str| KmsError::InvalidCiphertext(format!("invalid {what}: {why}"));
    let rest = text.strip_prefix(PREFIX).ok_or_else(|| bad("no prefix"))?;
    let (version, payload) = rest
        .split_once(':')
        .ok_or_else(|| bad("wrong number of fields"))?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("version number could not be decoded"));
    }
    let version: i64 = version
        .parse()
        .map_err(|_| bad("version number could not be decoded"))?;
    if version < 1 {
        return Err(bad("version number could not be decoded"));
    }
    let payload = STANDARD
        .decode(payload)
        .map_err(|_| bad("could not decode base64"))?;
    Ok((version, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_malformed_strings() {
        let s = format(7, b"\x00\x01payload");
        assert!(s.starts_with("vault:v7:"));
        assert_eq!(
            parse(&s, "ciphertext").unwrap(),
            (7, b"\x00\x01payload".to_vec())
        );
        for bad in [
            "",
            "vault:",
            "vault:v",
            "vault:v1",
            "vault:v:AAAA",
            "vault:vx:AAAA",
            "vault:v0:AAAA",
            "vault:v-1:AAAA",
            "vault:v99999999999999999999:AAAA",
            "vault:v1:not base64!",
            "bao:v1:AAAA",
        ] {
            let err = parse(bad, "ciphertext").unwrap_err();
            assert!(
                err.to_string().starts_with("invalid ciphertext"),
                "{bad}: {err}"
            );
        }
    }
}
