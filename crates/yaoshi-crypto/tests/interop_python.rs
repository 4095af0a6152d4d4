//! Interoperability with Python implementations, driven through the helper
//! scripts in `tests/interop/` (hex in JSON on stdin, JSON on stdout):
//!
//! * `pyca_interop.py` (PyPI `cryptography`): SM4-GCM with associated data,
//!   HMAC-SM3 and SM3, both ways, against [`yaoshi_crypto::aead`] and
//!   [`yaoshi_crypto::mac`];
//! * `gmssl_interop.py` (PyPI `gmssl`, pure Python): SM2 encryption both ways
//!   in gmssl's raw `C1C3C2` and `C1C2C3` forms (converted with
//!   [`yaoshi_crypto::sm2::der_to_raw`] / [`yaoshi_crypto::sm2::raw_to_der`]),
//!   and SM2 signatures with the default signer ID both ways (gmssl's raw
//!   `r || s` converted to and from DER).
//!
//! Results are compared byte for byte, and tampered inputs must be refused.
//! The tests need `python3` with `cryptography` and `gmssl` installed and fail
//! (never skip) without them.

use std::io::Write;
mod common;

use common::{flip, rand_bytes, rand_len};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::{Value, json};
use yaoshi_crypto::CryptoError;
use yaoshi_crypto::aead::{AeadAlgorithm, AeadKey, NONCE_LEN, TAG_LEN};
use yaoshi_crypto::hash::{self, HashAlgorithm};
use yaoshi_crypto::mac;
use yaoshi_crypto::sm2::{self, DEFAULT_SIGNER_ID, RawOrder, Sm2PrivateKey};

// ---------------------------------------------------------------------------
// Running the helper scripts
// ---------------------------------------------------------------------------

const PYCA: &str = "pyca_interop.py";
const GMSSL: &str = "gmssl_interop.py";

/// Checks (once per test binary) that `python3` runs; panics with a clear message otherwise.
fn require_python() {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let output = Command::new("python3")
            .arg("--version")
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "the Python interop tests need `python3` on PATH with the packages \
                     `cryptography` and `gmssl` (pip install cryptography gmssl): {e}"
                )
            });
        assert!(output.status.success(), "`python3 --version` failed");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    });
}

fn script_path(script: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("interop")
        .join(script)
}

/// Runs `python3 tests/interop/<script> <command>` with `{"cases": cases}` on
/// stdin and returns the `results` array, one entry per case.
fn run_script(script: &str, command: &str, cases: Vec<Value>) -> Vec<Value> {
    require_python();
    let count = cases.len();
    let path = script_path(script);
    let mut child = Command::new("python3")
        .arg(&path)
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run python3 {}: {e}", path.display()));
    let input = serde_json::to_vec(&json!({ "cases": cases })).unwrap();
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(&input)
        .expect("write cases to python");
    let output = child.wait_with_output().expect("wait for python");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(2) {
        panic!("a Python module the interop tests need is missing:\n{stderr}");
    }
    assert!(
        output.status.success(),
        "python3 {script} {command} failed ({}):\n{stderr}",
        output.status
    );
    let document: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{script} {command} printed invalid JSON ({e}):\n{stderr}"));
    let results = document["results"]
        .as_array()
        .unwrap_or_else(|| panic!("{script} {command}: no results array"))
        .clone();
    assert_eq!(
        results.len(),
        count,
        "{script} {command}: one result per case"
    );
    results
}

/// A result that is a hex string, decoded.
fn hex_result(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().expect("hex string result")).expect("valid hex")
}

fn bool_result(value: &Value) -> bool {
    value.as_bool().expect("boolean result")
}

// ---------------------------------------------------------------------------
// Data helpers
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// SM4-GCM (pyca/cryptography)
// ---------------------------------------------------------------------------

/// One SM4-GCM case: key, nonce, aad, plaintext.
struct GcmCase {
    key: Vec<u8>,
    nonce: Vec<u8>,
    aad: Vec<u8>,
    plaintext: Vec<u8>,
}

impl GcmCase {
    fn seal_json(&self) -> Value {
        json!({
            "key": hex::encode(&self.key),
            "nonce": hex::encode(&self.nonce),
            "aad": hex::encode(&self.aad),
            "plaintext": hex::encode(&self.plaintext),
        })
    }

    fn open_json(&self, sealed: &[u8], aad: &[u8]) -> Value {
        json!({
            "key": hex::encode(&self.key),
            "nonce": hex::encode(&self.nonce),
            "aad": hex::encode(aad),
            "sealed": hex::encode(sealed),
        })
    }

    fn yaoshi(&self) -> AeadKey {
        AeadKey::new(AeadAlgorithm::Sm4Gcm, &self.key).unwrap()
    }
}

/// Random cases over the interesting plaintext and AAD lengths.
fn gcm_cases() -> Vec<GcmCase> {
    let mut cases = Vec::new();
    for len in [0, 1, 15, 16, 17, 31, 64, 1000, rand_len(4096)] {
        for aad_len in [0, 1, 13, 16, rand_len(100)] {
            cases.push(GcmCase {
                key: rand_bytes(16),
                nonce: rand_bytes(NONCE_LEN),
                aad: rand_bytes(aad_len),
                plaintext: rand_bytes(len),
            });
        }
    }
    cases
}

/// Asserts that python's `sm4-gcm-open` results are failures.
fn assert_python_refused(results: &[Value], what: &str) {
    for (i, result) in results.iter().enumerate() {
        assert_eq!(
            result["ok"],
            json!(false),
            "python opened a {what} SM4-GCM ciphertext (case {i})"
        );
    }
}

#[test]
fn sm4_gcm_yaoshi_seals_python_opens() {
    require_python();
    let cases = gcm_cases();
    let sealed: Vec<Vec<u8>> = cases
        .iter()
        .map(|c| c.yaoshi().seal(&c.nonce, &c.aad, &c.plaintext).unwrap())
        .collect();
    for (case, sealed) in cases.iter().zip(&sealed) {
        assert_eq!(sealed.len(), case.plaintext.len() + TAG_LEN);
    }

    // Python opens yaoshi's output and recovers the plaintext.
    let opened = run_script(
        PYCA,
        "sm4-gcm-open",
        cases
            .iter()
            .zip(&sealed)
            .map(|(c, s)| c.open_json(s, &c.aad))
            .collect(),
    );
    for ((case, result), i) in cases.iter().zip(&opened).zip(0..) {
        assert_eq!(result["ok"], json!(true), "python refused case {i}");
        assert_eq!(
            hex_result(&result["plaintext"]),
            case.plaintext,
            "python decryption of case {i}"
        );
    }

    // Tampered tag, tampered ciphertext (when there is one) and changed AAD are refused.
    let mut bad = Vec::new();
    for (case, sealed) in cases.iter().zip(&sealed) {
        bad.push(case.open_json(&flip(sealed, -1), &case.aad));
        if !case.plaintext.is_empty() {
            bad.push(case.open_json(&flip(sealed, 0), &case.aad));
        }
        let mut aad = case.aad.clone();
        aad.push(0);
        bad.push(case.open_json(sealed, &aad));
        bad.push(case.open_json(&sealed[..sealed.len() - 1], &case.aad));
    }
    assert_python_refused(&run_script(PYCA, "sm4-gcm-open", bad), "tampered");
}

#[test]
fn sm4_gcm_python_seals_yaoshi_opens() {
    require_python();
    let cases = gcm_cases();
    let sealed: Vec<Vec<u8>> = run_script(
        PYCA,
        "sm4-gcm-seal",
        cases.iter().map(GcmCase::seal_json).collect(),
    )
    .iter()
    .map(hex_result)
    .collect();
    for (i, (case, sealed)) in cases.iter().zip(&sealed).enumerate() {
        let key = case.yaoshi();
        // GCM is deterministic: both implementations give the same bytes.
        assert_eq!(
            hex::encode(sealed),
            hex::encode(key.seal(&case.nonce, &case.aad, &case.plaintext).unwrap()),
            "SM4-GCM case {i}"
        );
        let opened = key
            .open(&case.nonce, &case.aad, sealed)
            .unwrap_or_else(|e| panic!("yaoshi refused python's case {i}: {e}"));
        assert_eq!(opened.expose(), &case.plaintext[..]);
        // The nonce || ciphertext || tag payload layout opens too.
        let payload = [&case.nonce[..], sealed].concat();
        assert_eq!(
            key.decrypt(&case.aad, &payload).unwrap().expose(),
            &case.plaintext[..]
        );

        assert_eq!(
            key.open(&case.nonce, &case.aad, &flip(sealed, -1))
                .unwrap_err(),
            CryptoError::AuthenticationFailed
        );
        if !case.plaintext.is_empty() {
            assert_eq!(
                key.open(&case.nonce, &case.aad, &flip(sealed, 0))
                    .unwrap_err(),
                CryptoError::AuthenticationFailed
            );
        }
        assert_eq!(
            key.open(&case.nonce, b"other aad", sealed).unwrap_err(),
            CryptoError::AuthenticationFailed
        );
        assert_eq!(
            key.open(&flip(&case.nonce, 0), &case.aad, sealed)
                .unwrap_err(),
            CryptoError::AuthenticationFailed
        );
    }
}

/// RFC 8998 Appendix A.1 (SM4-GCM), checked in both implementations.
#[test]
fn sm4_gcm_rfc8998_vector_in_both() {
    require_python();
    let case = GcmCase {
        key: hex::decode("0123456789ABCDEFFEDCBA9876543210").unwrap(),
        nonce: hex::decode("00001234567800000000ABCD").unwrap(),
        aad: hex::decode("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2").unwrap(),
        plaintext: hex::decode(concat!(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
            "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
        ))
        .unwrap(),
    };
    let expected = concat!(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735",
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
        "83DE3541E4C2B58177E065A9BF7B62EC",
    )
    .to_ascii_lowercase();
    let theirs = run_script(PYCA, "sm4-gcm-seal", vec![case.seal_json()]);
    assert_eq!(theirs[0].as_str().unwrap(), expected);
    let ours = case
        .yaoshi()
        .seal(&case.nonce, &case.aad, &case.plaintext)
        .unwrap();
    assert_eq!(hex::encode(ours), expected);
}

// ---------------------------------------------------------------------------
// HMAC-SM3 and SM3 (pyca/cryptography)
// ---------------------------------------------------------------------------

#[test]
fn hmac_sm3_both_ways() {
    require_python();
    // Key lengths around the SM3 block size (64): shorter keys are padded,
    // longer ones hashed first.
    let mut cases: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (Vec::new(), Vec::new()),
        (
            b"key".to_vec(),
            b"The quick brown fox jumps over the lazy dog".to_vec(),
        ),
    ];
    for key_len in [1, 16, 32, 63, 64, 65, 100, 200] {
        for data_len in [0, 1, 64, rand_len(5000)] {
            cases.push((rand_bytes(key_len), rand_bytes(data_len)));
        }
    }
    let json_cases = |tags: Option<&[Vec<u8>]>| -> Vec<Value> {
        cases
            .iter()
            .enumerate()
            .map(|(i, (key, data))| {
                let mut case = json!({ "key": hex::encode(key), "data": hex::encode(data) });
                if let Some(tags) = tags {
                    case["tag"] = json!(hex::encode(&tags[i]));
                }
                case
            })
            .collect()
    };

    // Python computes, yaoshi compares and verifies.
    let theirs: Vec<Vec<u8>> = run_script(PYCA, "hmac-sm3", json_cases(None))
        .iter()
        .map(hex_result)
        .collect();
    for ((key, data), tag) in cases.iter().zip(&theirs) {
        assert_eq!(tag.len(), 32);
        assert_eq!(
            hex::encode(mac::hmac(HashAlgorithm::Sm3, key, data)),
            hex::encode(tag)
        );
        mac::hmac_verify(HashAlgorithm::Sm3, key, data, tag).unwrap();
        assert_eq!(
            mac::hmac_verify(HashAlgorithm::Sm3, key, data, &flip(tag, 31)),
            Err(CryptoError::InvalidSignature)
        );
        assert_eq!(
            mac::hmac_verify(HashAlgorithm::Sm3, key, data, &tag[..16]),
            Err(CryptoError::InvalidSignature)
        );
        let mut other_key = key.clone();
        other_key.push(1);
        assert_eq!(
            mac::hmac_verify(HashAlgorithm::Sm3, &other_key, data, tag),
            Err(CryptoError::InvalidSignature)
        );
    }

    // yaoshi computes, python verifies; flipped tags are refused.
    let ours: Vec<Vec<u8>> = cases
        .iter()
        .map(|(key, data)| mac::hmac(HashAlgorithm::Sm3, key, data))
        .collect();
    let verified = run_script(PYCA, "hmac-sm3-verify", json_cases(Some(&ours)));
    assert!(
        verified.iter().all(bool_result),
        "python refused a yaoshi HMAC-SM3 tag"
    );
    let flipped: Vec<Vec<u8>> = ours.iter().map(|t| flip(t, 0)).collect();
    let verified = run_script(PYCA, "hmac-sm3-verify", json_cases(Some(&flipped)));
    assert!(
        !verified.iter().any(bool_result),
        "python accepted a flipped HMAC-SM3 tag"
    );
}

#[test]
fn sm3_matches_python() {
    require_python();
    let inputs = [
        Vec::new(),
        b"abc".to_vec(),
        rand_bytes(55),
        rand_bytes(56),
        rand_bytes(64),
        rand_bytes(rand_len(100_000)),
    ];
    let cases = inputs
        .iter()
        .map(|data| json!({ "data": hex::encode(data) }))
        .collect();
    let theirs = run_script(PYCA, "sm3", cases);
    for (data, digest) in inputs.iter().zip(&theirs) {
        assert_eq!(hash::digest(HashAlgorithm::Sm3, data), hex_result(digest));
    }
    assert_eq!(
        theirs[1].as_str().unwrap(),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
}

// ---------------------------------------------------------------------------
// SM2 with gmssl
// ---------------------------------------------------------------------------

/// gmssl's public key form: hex of x || y, without the 04 prefix.
fn gmssl_public(key: &Sm2PrivateKey) -> String {
    let (x, y) = key.public_key().coordinates();
    hex::encode([x, y].concat())
}

/// Test keys: random ones, plus one whose x coordinate starts with the byte
/// 0x04, which gmssl's `lstrip("04")` would corrupt if the script passed the
/// key to `CryptSM2.__init__` (the script works around it).
fn sm2_keys() -> Vec<Sm2PrivateKey> {
    let mut keys: Vec<Sm2PrivateKey> = (0..2).map(|_| Sm2PrivateKey::generate().unwrap()).collect();
    let tricky = (0..100_000)
        .map(|_| Sm2PrivateKey::generate().unwrap())
        .find(|k| k.public_key().coordinates().0[0] == 0x04)
        .expect("a key with x starting 0x04 in 100000 tries");
    keys.push(tricky);
    keys
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` to raw `r || s` (32 bytes each).
fn signature_der_to_raw(der: &[u8]) -> Vec<u8> {
    fn integer(input: &[u8]) -> ([u8; 32], &[u8]) {
        assert_eq!(input[0], 0x02, "INTEGER");
        let len = input[1] as usize;
        let contents = &input[2..2 + len];
        assert!(contents[0] & 0x80 == 0, "negative INTEGER");
        if len > 1 {
            assert!(
                !(contents[0] == 0 && contents[1] & 0x80 == 0),
                "non-minimal INTEGER"
            );
        }
        let trimmed = if contents[0] == 0 && len > 1 {
            &contents[1..]
        } else {
            contents
        };
        assert!(trimmed.len() <= 32);
        let mut out = [0u8; 32];
        out[32 - trimmed.len()..].copy_from_slice(trimmed);
        (out, &input[2 + len..])
    }
    assert_eq!(der[0], 0x30, "SEQUENCE");
    assert_eq!(der[1] as usize, der.len() - 2, "SEQUENCE length");
    let (r, rest) = integer(&der[2..]);
    let (s, rest) = integer(rest);
    assert!(rest.is_empty());
    [r, s].concat()
}

/// Raw `r || s` to DER `SEQUENCE { INTEGER r, INTEGER s }`.
fn signature_raw_to_der(raw: &[u8]) -> Vec<u8> {
    assert_eq!(raw.len(), 64);
    let integer = |n: &[u8]| {
        let start = n.iter().position(|&b| b != 0).unwrap_or(n.len() - 1);
        let mut contents = n[start..].to_vec();
        if contents[0] & 0x80 != 0 {
            contents.insert(0, 0);
        }
        [&[0x02, contents.len() as u8][..], &contents].concat()
    };
    let body = [integer(&raw[..32]), integer(&raw[32..])].concat();
    [&[0x30, body.len() as u8][..], &body].concat()
}

#[test]
fn sm2_yaoshi_encrypts_gmssl_decrypts() {
    require_python();
    let keys = sm2_keys();
    let lens = [1, 16, 17, 1000, rand_len(500)];
    let mut cases = Vec::new();
    let mut expected = Vec::new();
    for key in &keys {
        for len in lens {
            let plaintext = rand_bytes(len);
            let der = key.public_key().encrypt(&plaintext).unwrap();
            for (order, mode) in [(RawOrder::C1C3C2, 1), (RawOrder::C1C2C3, 0)] {
                let raw = sm2::der_to_raw(&der, order).unwrap();
                assert_eq!(raw.len(), 65 + 32 + len);
                assert_eq!(raw[0], 0x04, "uncompressed C1");
                // gmssl's C1 has no 04 prefix.
                cases.push(json!({
                    "private": hex::encode(key.to_bytes().expose()),
                    "ciphertext": hex::encode(&raw[1..]),
                    "mode": mode,
                }));
                expected.push(plaintext.clone());
            }
        }
    }
    let results = run_script(GMSSL, "decrypt", cases);
    for (i, (result, plaintext)) in results.iter().zip(&expected).enumerate() {
        assert_eq!(
            hex::encode(hex_result(result)),
            hex::encode(plaintext),
            "gmssl decryption of yaoshi ciphertext {i}"
        );
    }
}

#[test]
fn sm2_gmssl_encrypts_yaoshi_decrypts() {
    require_python();
    let keys = sm2_keys();
    let lens = [1, 16, 17, 1000, rand_len(500)];
    let mut cases = Vec::new();
    let mut expected = Vec::new();
    for (k, key) in keys.iter().enumerate() {
        for len in lens {
            for mode in [1, 0] {
                let plaintext = rand_bytes(len);
                cases.push(json!({
                    "public": gmssl_public(key),
                    "plaintext": hex::encode(&plaintext),
                    "mode": mode,
                }));
                expected.push((k, mode, plaintext));
            }
        }
    }
    let results = run_script(GMSSL, "encrypt", cases);
    for (result, (k, mode, plaintext)) in results.iter().zip(&expected) {
        let key = &keys[*k];
        let ciphertext = hex_result(result);
        assert_eq!(ciphertext.len(), 64 + 32 + plaintext.len());
        let order = if *mode == 1 {
            RawOrder::C1C3C2
        } else {
            RawOrder::C1C2C3
        };
        let raw = [&[0x04][..], &ciphertext].concat();
        let der = sm2::raw_to_der(&raw, order).unwrap();
        assert_eq!(
            key.decrypt(&der)
                .unwrap_or_else(|e| panic!("yaoshi refused gmssl's mode-{mode} ciphertext: {e}"))
                .expose(),
            &plaintext[..]
        );
        // The converters round-trip gmssl's bytes exactly.
        assert_eq!(sm2::der_to_raw(&der, order).unwrap(), raw);

        // Tampered C3 or C2, the wrong order, or the wrong key are refused.
        let (c3_at, c2_at) = match order {
            RawOrder::C1C3C2 => (65, raw.len() - 1),
            RawOrder::C1C2C3 => (raw.len() - 1, 65),
        };
        for at in [c3_at, c2_at] {
            let mut bad = raw.clone();
            bad[at] ^= 0x01;
            let bad = sm2::raw_to_der(&bad, order).unwrap();
            assert_eq!(
                key.decrypt(&bad).unwrap_err(),
                CryptoError::AuthenticationFailed
            );
        }
        let other_order = match order {
            RawOrder::C1C3C2 => RawOrder::C1C2C3,
            RawOrder::C1C2C3 => RawOrder::C1C3C2,
        };
        let swapped = sm2::raw_to_der(&raw, other_order).unwrap();
        assert!(key.decrypt(&swapped).is_err());
        let other = &keys[(k + 1) % keys.len()];
        assert!(other.decrypt(&der).is_err());
    }
}

#[test]
fn sm2_yaoshi_signs_gmssl_verifies() {
    require_python();
    // gmssl's sign_with_sm3 / verify_with_sm3 hash Z with the hard-coded default
    // ID 1234567812345678 (CryptSM2._sm3_z) and use raw r || s hex signatures.
    let keys = sm2_keys();
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for key in &keys {
        for message in [
            Vec::new(),
            b"message digest".to_vec(),
            rand_bytes(rand_len(1000)),
        ] {
            let der = key.sign(DEFAULT_SIGNER_ID, &message).unwrap();
            let raw = signature_der_to_raw(&der);
            assert_eq!(signature_raw_to_der(&raw), der, "DER helper round trip");
            let case = |message: &[u8], signature: &[u8]| {
                json!({
                    "public": gmssl_public(key),
                    "message": hex::encode(message),
                    "signature": hex::encode(signature),
                })
            };
            good.push(case(&message, &raw));
            // One negative case per message (gmssl is slow), rotating through:
            // a changed message, a changed s, and a signature made with another
            // signer ID (gmssl only knows the default one).
            bad.push(match bad.len() % 3 {
                0 => {
                    let mut other_message = message.clone();
                    other_message.push(b'!');
                    case(&other_message, &raw)
                }
                1 => case(&message, &flip(&raw, 63)),
                _ => {
                    let other_id = key.sign(b"alice@yaoshi.example", &message).unwrap();
                    case(&message, &signature_der_to_raw(&other_id))
                }
            });
        }
    }
    let results = run_script(GMSSL, "verify", good);
    assert!(
        results.iter().all(bool_result),
        "gmssl rejected a yaoshi signature: {results:?}"
    );
    let results = run_script(GMSSL, "verify", bad);
    assert!(
        !results.iter().any(bool_result),
        "gmssl accepted a bad signature: {results:?}"
    );
}

#[test]
fn sm2_gmssl_signs_yaoshi_verifies() {
    require_python();
    let keys = sm2_keys();
    let mut cases = Vec::new();
    let mut expected = Vec::new();
    for (k, key) in keys.iter().enumerate() {
        for message in [
            Vec::new(),
            b"message digest".to_vec(),
            rand_bytes(rand_len(1000)),
            rand_bytes(rand_len(1000)),
        ] {
            cases.push(json!({
                "private": hex::encode(key.to_bytes().expose()),
                "public": gmssl_public(key),
                "message": hex::encode(&message),
            }));
            expected.push((k, message));
        }
    }
    let results = run_script(GMSSL, "sign", cases);
    for (result, (k, message)) in results.iter().zip(&expected) {
        let public = keys[*k].public_key();
        let raw = hex_result(result);
        assert_eq!(raw.len(), 64, "gmssl signature is raw r || s");
        let der = signature_raw_to_der(&raw);
        public
            .verify(DEFAULT_SIGNER_ID, message, &der)
            .expect("yaoshi verifies gmssl's signature");
        assert_eq!(
            public.verify(b"1234567812345679", message, &der),
            Err(CryptoError::InvalidSignature)
        );
        let mut other = message.clone();
        other.push(0);
        assert_eq!(
            public.verify(DEFAULT_SIGNER_ID, &other, &der),
            Err(CryptoError::InvalidSignature)
        );
        assert_eq!(
            public.verify(
                DEFAULT_SIGNER_ID,
                message,
                &signature_raw_to_der(&flip(&raw, 0))
            ),
            Err(CryptoError::InvalidSignature)
        );
        let other_key = keys[(k + 1) % keys.len()].public_key();
        assert_eq!(
            other_key.verify(DEFAULT_SIGNER_ID, message, &der),
            Err(CryptoError::InvalidSignature)
        );
    }
}
