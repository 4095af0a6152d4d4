//! Interoperability with the OpenSSL 3 command-line tool (`openssl`, 3.0 or later).
//!
//! Every check goes both ways: what yaoshi produces OpenSSL must accept, and
//! what OpenSSL produces yaoshi must accept, with the results compared byte
//! for byte and tampered inputs refused on both sides.
//!
//! * SM2 signatures with the default signer ID `1234567812345678`, a custom
//!   ID and the empty ID (OpenSSL 3.0's default when no `distid` is given);
//! * SM2 encryption in GM/T 0009 DER form, and the raw `C1C3C2`/`C1C2C3`
//!   converters applied to OpenSSL's ciphertexts;
//! * PKCS#8, SEC1 and SPKI PEM key exchange for SM2, ECDSA P-256/P-384/P-521,
//!   Ed25519 and RSA-2048, with cross-verified ECDSA, Ed25519 and RSA
//!   (PKCS#1 v1.5 and PSS) signatures and RSA-OAEP-SHA256 encryption;
//! * SM3 digests and SM4-CBC / SM4-CTR encryption.
//!
//! The tests need `openssl` on `PATH` and fail (never skip) without it.

mod common;

use common::{flip, rand_bytes, rand_len};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use yaoshi_crypto::CryptoError;
use yaoshi_crypto::ecdsa::{EcdsaCurve, EcdsaPrivateKey, EcdsaPublicKey};
use yaoshi_crypto::ed25519::{Ed25519PrivateKey, Ed25519PublicKey};
use yaoshi_crypto::hash::{self, HashAlgorithm};
use yaoshi_crypto::rsa::{RsaBits, RsaPadding, RsaPrivateKey, RsaPublicKey};
use yaoshi_crypto::sm2::{self, DEFAULT_SIGNER_ID, RawOrder, Sm2PrivateKey, Sm2PublicKey};
use yaoshi_crypto::sm4;

// ---------------------------------------------------------------------------
// Running openssl
// ---------------------------------------------------------------------------

/// Checks (once per test binary) that `openssl` is an OpenSSL 3 CLI; panics
/// with a clear message otherwise. Called at the top of every test.
fn require_openssl() {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let output = Command::new("openssl")
            .arg("version")
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "the OpenSSL interop tests need the OpenSSL 3 command-line tool `openssl` \
                     on PATH (e.g. `apt-get install openssl`), but it could not be run: {e}"
                )
            });
        assert!(
            output.status.success(),
            "`openssl version` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
        assert!(
            version.starts_with("OpenSSL 3."),
            "the OpenSSL interop tests need OpenSSL 3.x, found {version:?}"
        );
        version
    });
}

/// Runs `openssl args...`; returns stdout, panicking with stderr if it fails.
fn openssl(args: &[&str]) -> Vec<u8> {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        output.status.success(),
        "`openssl {}` failed ({}): {}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Runs `openssl args...` and reports only whether it succeeded (for negative checks).
fn openssl_succeeds(args: &[&str]) -> bool {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl")
        .status
        .success()
}

/// `openssl` output that must be UTF-8 text.
fn openssl_text(args: &[&str]) -> String {
    String::from_utf8(openssl(args)).expect("openssl printed UTF-8")
}

/// A temporary directory for key, message and signature files.
struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    /// The path of `name` inside the directory, as a string for argv.
    fn path(&self, name: &str) -> String {
        let path: PathBuf = self.dir.path().join(name);
        path.to_str().expect("UTF-8 temp path").to_string()
    }

    /// Writes `data` to `name` and returns its path.
    fn write(&self, name: &str, data: impl AsRef<[u8]>) -> String {
        let path = self.path(name);
        std::fs::write(&path, data).expect("write temp file");
        path
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).expect("read temp file")
    }

    fn read_string(&self, name: &str) -> String {
        String::from_utf8(self.read(name)).expect("UTF-8 file")
    }
}

// ---------------------------------------------------------------------------
// Data helpers
// ---------------------------------------------------------------------------

/// Messages to sign: fixed cases plus random ones.
fn messages() -> Vec<Vec<u8>> {
    vec![
        Vec::new(),
        b"abc".to_vec(),
        b"message digest".to_vec(),
        rand_bytes(rand_len(64)),
        rand_bytes(rand_len(1000)),
        rand_bytes(4096),
    ]
}

/// One DER TLV with a definite length: `(tag, contents, rest)`.
fn der_tlv(input: &[u8]) -> (u8, &[u8], &[u8]) {
    assert!(input.len() >= 2, "truncated DER");
    let tag = input[0];
    let (len, header) = match input[1] {
        n @ 0..=0x7f => (n as usize, 2),
        0x81 => (input[2] as usize, 3),
        0x82 => (((input[2] as usize) << 8) | input[3] as usize, 4),
        other => panic!("unexpected DER length byte {other:#x}"),
    };
    assert!(input.len() >= header + len, "truncated DER");
    (tag, &input[header..header + len], &input[header + len..])
}

/// The `(tag, contents)` items of a DER SEQUENCE that spans all of `der`.
fn der_sequence(der: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let (tag, mut contents, rest) = der_tlv(der);
    assert_eq!(tag, 0x30, "not a SEQUENCE");
    assert!(rest.is_empty(), "trailing data after the SEQUENCE");
    let mut items = Vec::new();
    while !contents.is_empty() {
        let (tag, value, rest) = der_tlv(contents);
        items.push((tag, value.to_vec()));
        contents = rest;
    }
    items
}

/// A non-negative DER INTEGER's contents as a 32-byte big-endian number,
/// checking that the encoding is minimal (as DER requires).
fn der_uint32(contents: &[u8]) -> [u8; 32] {
    assert!(!contents.is_empty(), "empty INTEGER");
    assert!(contents[0] & 0x80 == 0, "negative INTEGER");
    if contents.len() > 1 {
        assert!(
            !(contents[0] == 0 && contents[1] & 0x80 == 0),
            "non-minimal INTEGER encoding {}",
            hex::encode(contents)
        );
    }
    let trimmed = match contents {
        [0, rest @ ..] if !rest.is_empty() => rest,
        other => other,
    };
    assert!(trimmed.len() <= 32, "INTEGER longer than 32 bytes");
    let mut out = [0u8; 32];
    out[32 - trimmed.len()..].copy_from_slice(trimmed);
    out
}

/// `(r, s)` of a DER ECDSA/SM2 signature with 256-bit components.
fn signature_rs(der: &[u8]) -> ([u8; 32], [u8; 32]) {
    let items = der_sequence(der);
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|(tag, _)| *tag == 0x02));
    (der_uint32(&items[0].1), der_uint32(&items[1].1))
}

/// The hex bytes OpenSSL's `-text` prints after a `label:` line (e.g. `priv:`, `pub:`),
/// with leading zero bytes removed.
fn text_field(text: &str, label: &str) -> Vec<u8> {
    let mut lines = text.lines().skip_while(|l| l.trim() != label);
    assert!(lines.next().is_some(), "no {label} in:\n{text}");
    let hex_text: String = lines
        .take_while(|l| l.starts_with("    "))
        .flat_map(|l| l.trim().split(':'))
        .filter(|b| !b.is_empty())
        .collect();
    let bytes = hex::decode(hex_text).expect("hex in openssl -text output");
    strip_zeros(&bytes).to_vec()
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

// ---------------------------------------------------------------------------
// SM2 signatures
// ---------------------------------------------------------------------------

const DEFAULT_DISTID: &str = "distid:1234567812345678";

/// `openssl dgst -sm3 -verify` with an optional `-sigopt` (distid / hexdistid).
fn openssl_sm2_verifies(
    w: &Work,
    public_pem: &str,
    message: &[u8],
    signature: &[u8],
    sigopt: Option<&str>,
) -> bool {
    let public = w.write("sm2-verify-pub.pem", public_pem);
    let message = w.write("sm2-verify-msg", message);
    let signature = w.write("sm2-verify-sig", signature);
    let mut args = vec!["dgst", "-sm3", "-verify", &public];
    if let Some(opt) = sigopt {
        args.extend(["-sigopt", opt]);
    }
    args.extend(["-signature", &signature, &message]);
    openssl_succeeds(&args)
}

/// `openssl dgst -sm3 -sign key.pem [-sigopt ...]`; returns the DER signature.
fn openssl_sm2_sign(w: &Work, key_path: &str, message: &[u8], sigopt: &str) -> Vec<u8> {
    let message = w.write("sm2-sign-msg", message);
    openssl(&[
        "dgst", "-sm3", "-sign", key_path, "-sigopt", sigopt, &message,
    ])
}

#[test]
fn sm2_yaoshi_signs_openssl_verifies_default_id() {
    require_openssl();
    let w = Work::new();
    let key = Sm2PrivateKey::generate().unwrap();
    let public_pem = key.public_key().to_spki_pem().unwrap();
    for message in messages() {
        let signature = key.sign(DEFAULT_SIGNER_ID, &message).unwrap();
        assert!(
            openssl_sm2_verifies(&w, &public_pem, &message, &signature, Some(DEFAULT_DISTID)),
            "OpenSSL rejected a yaoshi SM2 signature over {} bytes",
            message.len()
        );
        // Negative checks: another ID, OpenSSL 3.0's default (empty) ID, a changed message,
        // a changed signature.
        assert!(!openssl_sm2_verifies(
            &w,
            &public_pem,
            &message,
            &signature,
            Some("distid:1234567812345679")
        ));
        assert!(!openssl_sm2_verifies(
            &w,
            &public_pem,
            &message,
            &signature,
            None
        ));
        let mut other = message.clone();
        other.push(0);
        assert!(!openssl_sm2_verifies(
            &w,
            &public_pem,
            &other,
            &signature,
            Some(DEFAULT_DISTID)
        ));
        let bad = Sm2PrivateKey::generate()
            .unwrap()
            .sign(DEFAULT_SIGNER_ID, &message)
            .unwrap();
        assert!(!openssl_sm2_verifies(
            &w,
            &public_pem,
            &message,
            &bad,
            Some(DEFAULT_DISTID)
        ));
    }
}

#[test]
fn sm2_openssl_signs_yaoshi_verifies_default_id() {
    require_openssl();
    let w = Work::new();
    // Both ways OpenSSL generates SM2 keys: genpkey and ecparam (which, for SM2,
    // writes PKCS#8 in OpenSSL 3.0).
    let generators: [(&str, &[&str]); 2] = [
        (
            "genpkey.pem",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:SM2",
            ],
        ),
        (
            "ecparam.pem",
            &["ecparam", "-genkey", "-name", "SM2", "-noout"],
        ),
    ];
    for (name, gen_args) in generators {
        let key_path = w.path(name);
        let mut args = gen_args.to_vec();
        args.extend(["-out", &key_path]);
        openssl(&args);
        let key = Sm2PrivateKey::from_pem(&w.read_string(name))
            .unwrap_or_else(|e| panic!("yaoshi cannot parse OpenSSL's SM2 key ({name}): {e}"));
        let public_pem = openssl_text(&["pkey", "-in", &key_path, "-pubout"]);
        let public =
            Sm2PublicKey::from_spki_pem(&public_pem).expect("yaoshi parses OpenSSL's SM2 SPKI");
        assert_eq!(&public, key.public_key());
        for message in messages() {
            let signature = openssl_sm2_sign(&w, &key_path, &message, DEFAULT_DISTID);
            public
                .verify(DEFAULT_SIGNER_ID, &message, &signature)
                .expect("yaoshi verifies OpenSSL's SM2 signature");
            assert_eq!(
                public.verify(b"1234567812345679", &message, &signature),
                Err(CryptoError::InvalidSignature)
            );
            assert_eq!(
                public.verify(b"", &message, &signature),
                Err(CryptoError::InvalidSignature)
            );
            let mut other = message.clone();
            other.push(b'x');
            assert_eq!(
                public.verify(DEFAULT_SIGNER_ID, &other, &signature),
                Err(CryptoError::InvalidSignature)
            );
            let other_key = Sm2PrivateKey::generate().unwrap();
            assert_eq!(
                other_key
                    .public_key()
                    .verify(DEFAULT_SIGNER_ID, &message, &signature),
                Err(CryptoError::InvalidSignature)
            );
        }
    }
}

#[test]
fn sm2_custom_signer_ids_both_ways() {
    require_openssl();
    let w = Work::new();
    let key_path = w.path("key.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:SM2",
        "-out",
        &key_path,
    ]);
    let key = Sm2PrivateKey::from_pem(&w.read_string("key.pem")).unwrap();
    let public_pem = key.public_key().to_spki_pem().unwrap();
    let binary_id = rand_bytes(20);
    // (ID bytes, the matching -sigopt)
    let ids: Vec<(Vec<u8>, String)> = vec![
        (
            b"alice@yaoshi.example".to_vec(),
            "distid:alice@yaoshi.example".into(),
        ),
        (b"A".to_vec(), "distid:A".into()),
        (
            binary_id.clone(),
            format!("hexdistid:{}", hex::encode(&binary_id)),
        ),
    ];
    let message = rand_bytes(rand_len(500));
    for (id, sigopt) in &ids {
        // yaoshi -> OpenSSL
        let signature = key.sign(id, &message).unwrap();
        assert!(
            openssl_sm2_verifies(&w, &public_pem, &message, &signature, Some(sigopt)),
            "OpenSSL rejected a yaoshi SM2 signature with {sigopt}"
        );
        assert!(!openssl_sm2_verifies(
            &w,
            &public_pem,
            &message,
            &signature,
            Some(DEFAULT_DISTID)
        ));
        // OpenSSL -> yaoshi
        let signature = openssl_sm2_sign(&w, &key_path, &message, sigopt);
        key.public_key()
            .verify(id, &message, &signature)
            .expect("yaoshi verifies with the same ID");
        assert_eq!(
            key.public_key()
                .verify(DEFAULT_SIGNER_ID, &message, &signature),
            Err(CryptoError::InvalidSignature)
        );
        for (other_id, _) in ids.iter().filter(|(other, _)| other != id) {
            assert_eq!(
                key.public_key().verify(other_id, &message, &signature),
                Err(CryptoError::InvalidSignature)
            );
        }
    }
}

/// OpenSSL 3.0 signs and verifies with an EMPTY signer ID when no `distid`
/// is given; yaoshi's explicit empty ID must match that, and yaoshi's default
/// ID must not.
#[test]
fn sm2_empty_signer_id_is_openssl_default() {
    require_openssl();
    let w = Work::new();
    let key = Sm2PrivateKey::generate().unwrap();
    let key_path = w.write("key.pem", key.to_pkcs8_pem().unwrap().as_bytes());
    let public_pem = key.public_key().to_spki_pem().unwrap();
    let message = b"signed without a distid".to_vec();

    let signature = key.sign(b"", &message).unwrap();
    assert!(openssl_sm2_verifies(
        &w,
        &public_pem,
        &message,
        &signature,
        None
    ));
    assert!(!openssl_sm2_verifies(
        &w,
        &public_pem,
        &message,
        &signature,
        Some(DEFAULT_DISTID)
    ));

    let msg_path = w.write("msg", &message);
    let signature = openssl(&["dgst", "-sm3", "-sign", &key_path, &msg_path]);
    key.public_key().verify(b"", &message, &signature).unwrap();
    assert_eq!(
        key.public_key()
            .verify(DEFAULT_SIGNER_ID, &message, &signature),
        Err(CryptoError::InvalidSignature)
    );
}

/// Signatures whose `r` or `s` is shorter than 32 bytes (a leading zero byte,
/// about 1 in 128 signatures) must be encoded as minimal DER that OpenSSL accepts.
#[test]
fn sm2_signature_with_short_r_or_s_verifies_in_openssl() {
    require_openssl();
    let w = Work::new();
    let key = Sm2PrivateKey::generate().unwrap();
    let public_pem = key.public_key().to_spki_pem().unwrap();
    let message = b"short integers".to_vec();
    let mut found = 0;
    for _ in 0..20_000 {
        let signature = key.sign(DEFAULT_SIGNER_ID, &message).unwrap();
        let (r, s) = signature_rs(&signature); // also checks minimal INTEGER encoding
        if r[0] == 0 || s[0] == 0 {
            assert!(openssl_sm2_verifies(
                &w,
                &public_pem,
                &message,
                &signature,
                Some(DEFAULT_DISTID)
            ));
            found += 1;
            if found == 3 {
                break;
            }
        }
    }
    assert_eq!(found, 3, "no signature with a short r or s in 20000 tries");
}

// ---------------------------------------------------------------------------
// SM2 encryption
// ---------------------------------------------------------------------------

const SM2_PLAINTEXT_LENS: [usize; 8] = [1, 15, 16, 17, 32, 33, 100, 1000];

/// Decodes a GM/T 0009 ciphertext independently of yaoshi: `(x, y, C3, C2)`.
fn sm2_ciphertext_parts(der: &[u8]) -> ([u8; 32], [u8; 32], Vec<u8>, Vec<u8>) {
    let items = der_sequence(der);
    assert_eq!(items.len(), 4, "GM/T 0009 ciphertext has four fields");
    assert_eq!(items[0].0, 0x02);
    assert_eq!(items[1].0, 0x02);
    assert_eq!(items[2].0, 0x04);
    assert_eq!(items[3].0, 0x04);
    assert_eq!(items[2].1.len(), 32, "C3 is an SM3 digest");
    (
        der_uint32(&items[0].1),
        der_uint32(&items[1].1),
        items[2].1.clone(),
        items[3].1.clone(),
    )
}

#[test]
fn sm2_yaoshi_encrypts_openssl_decrypts() {
    require_openssl();
    let w = Work::new();
    let key = Sm2PrivateKey::generate().unwrap();
    let key_path = w.write("key.pem", key.to_pkcs8_pem().unwrap().as_bytes());
    let mut plaintexts: Vec<Vec<u8>> = SM2_PLAINTEXT_LENS.iter().map(|&n| rand_bytes(n)).collect();
    plaintexts.push(b"encryption standard".to_vec());
    for plaintext in plaintexts {
        let ciphertext = key.public_key().encrypt(&plaintext).unwrap();
        let (_, _, _, c2) = sm2_ciphertext_parts(&ciphertext);
        assert_eq!(c2.len(), plaintext.len());
        let ct_path = w.write("ct", &ciphertext);
        let decrypted = openssl(&["pkeyutl", "-decrypt", "-inkey", &key_path, "-in", &ct_path]);
        assert_eq!(
            decrypted, plaintext,
            "OpenSSL decryption of a yaoshi ciphertext"
        );
        // OpenSSL checks C3: a changed C2 byte (the last byte of the DER) must fail.
        let ct_path = w.write("ct-bad", flip(&ciphertext, -1));
        assert!(!openssl_succeeds(&[
            "pkeyutl", "-decrypt", "-inkey", &key_path, "-in", &ct_path
        ]));
    }
}

/// A ciphertext whose `C1` x or y coordinate has a leading zero byte (a short
/// DER INTEGER, about 1 in 128 ciphertexts) must still be minimal DER that
/// OpenSSL decrypts.
#[test]
fn sm2_ciphertext_with_short_c1_coordinate_decrypts_in_openssl() {
    require_openssl();
    let w = Work::new();
    let key = Sm2PrivateKey::generate().unwrap();
    let key_path = w.write("key.pem", key.to_pkcs8_pem().unwrap().as_bytes());
    let plaintext = b"short coordinate".to_vec();
    let mut found = 0;
    for _ in 0..20_000 {
        let ciphertext = key.public_key().encrypt(&plaintext).unwrap();
        let (x, y, _, _) = sm2_ciphertext_parts(&ciphertext);
        if x[0] == 0 || y[0] == 0 {
            let ct_path = w.write("ct", &ciphertext);
            let decrypted = openssl(&["pkeyutl", "-decrypt", "-inkey", &key_path, "-in", &ct_path]);
            assert_eq!(decrypted, plaintext);
            // The raw converters keep the coordinates at 32 bytes and round-trip exactly.
            let raw = sm2::der_to_raw(&ciphertext, RawOrder::C1C3C2).unwrap();
            assert_eq!(&raw[1..33], &x);
            assert_eq!(&raw[33..65], &y);
            assert_eq!(sm2::raw_to_der(&raw, RawOrder::C1C3C2).unwrap(), ciphertext);
            found += 1;
            if found == 3 {
                break;
            }
        }
    }
    assert_eq!(
        found, 3,
        "no ciphertext with a short C1 coordinate in 20000 tries"
    );
}

#[test]
fn sm2_openssl_encrypts_yaoshi_decrypts_and_raw_converters_round_trip() {
    require_openssl();
    let w = Work::new();
    let key_path = w.path("key.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:SM2",
        "-out",
        &key_path,
    ]);
    let pub_path = w.path("pub.pem");
    openssl(&["pkey", "-in", &key_path, "-pubout", "-out", &pub_path]);
    let key = Sm2PrivateKey::from_pem(&w.read_string("key.pem")).unwrap();
    let mut plaintexts: Vec<Vec<u8>> = SM2_PLAINTEXT_LENS.iter().map(|&n| rand_bytes(n)).collect();
    plaintexts.push(b"encryption standard".to_vec());
    for plaintext in plaintexts {
        let pt_path = w.write("pt", &plaintext);
        let ciphertext = openssl(&[
            "pkeyutl", "-encrypt", "-pubin", "-inkey", &pub_path, "-in", &pt_path,
        ]);
        let decrypted = key
            .decrypt(&ciphertext)
            .expect("yaoshi decrypts OpenSSL's SM2 ciphertext");
        assert_eq!(decrypted.expose(), &plaintext[..]);

        // Raw converters against an independent DER decoding of OpenSSL's output.
        let (x, y, c3, c2) = sm2_ciphertext_parts(&ciphertext);
        let c1 = [&[0x04][..], &x, &y].concat();
        let c1c3c2 = sm2::der_to_raw(&ciphertext, RawOrder::C1C3C2).unwrap();
        assert_eq!(c1c3c2, [&c1[..], &c3, &c2].concat());
        let c1c2c3 = sm2::der_to_raw(&ciphertext, RawOrder::C1C2C3).unwrap();
        assert_eq!(c1c2c3, [&c1[..], &c2, &c3].concat());
        // Back to DER: byte-identical to what OpenSSL wrote.
        assert_eq!(
            sm2::raw_to_der(&c1c3c2, RawOrder::C1C3C2).unwrap(),
            ciphertext
        );
        assert_eq!(
            sm2::raw_to_der(&c1c2c3, RawOrder::C1C2C3).unwrap(),
            ciphertext
        );
        // Reading a raw ciphertext in the wrong order gives a different DER that fails to decrypt.
        let swapped = sm2::raw_to_der(&c1c2c3, RawOrder::C1C3C2).unwrap();
        assert_ne!(swapped, ciphertext);
        assert!(key.decrypt(&swapped).is_err());

        // Tampering with C3, C2 or the key must fail authentication.
        let mut bad_c3 = c1c3c2.clone();
        bad_c3[65] ^= 0x80;
        let bad_c3 = sm2::raw_to_der(&bad_c3, RawOrder::C1C3C2).unwrap();
        assert_eq!(
            key.decrypt(&bad_c3).unwrap_err(),
            CryptoError::AuthenticationFailed
        );
        assert_eq!(
            key.decrypt(&flip(&ciphertext, -1)).unwrap_err(),
            CryptoError::AuthenticationFailed
        );
        let other = Sm2PrivateKey::generate().unwrap();
        assert!(other.decrypt(&ciphertext).is_err());
    }
}

// ---------------------------------------------------------------------------
// PEM key exchange and signatures: SM2
// ---------------------------------------------------------------------------

#[test]
fn sm2_pem_keys_exchange_with_openssl() {
    require_openssl();
    let w = Work::new();

    // yaoshi -> OpenSSL
    let key = Sm2PrivateKey::generate().unwrap();
    let key_path = w.write("yaoshi-key.pem", key.to_pkcs8_pem().unwrap().as_bytes());
    let spki_pem = key.public_key().to_spki_pem().unwrap();
    let pub_path = w.write("yaoshi-pub.pem", &spki_pem);
    let text = openssl_text(&["pkey", "-in", &key_path, "-text", "-noout"]);
    assert!(text.contains("ASN1 OID: SM2"), "{text}");
    assert_eq!(
        text_field(&text, "priv:"),
        strip_zeros(key.to_bytes().expose())
    );
    assert_eq!(
        text_field(&text, "pub:"),
        key.public_key().to_sec1_uncompressed()
    );
    assert_eq!(
        openssl_text(&["pkey", "-in", &key_path, "-pubout"]),
        spki_pem
    );
    let text = openssl_text(&["pkey", "-pubin", "-in", &pub_path, "-text", "-noout"]);
    assert!(text.contains("ASN1 OID: SM2"), "{text}");
    assert_eq!(
        text_field(&text, "pub:"),
        key.public_key().to_sec1_uncompressed()
    );
    assert_eq!(
        openssl_text(&["pkey", "-pubin", "-in", &pub_path, "-pubout"]),
        spki_pem
    );
    // OpenSSL's re-encoding of yaoshi's PKCS#8 reads back as the same key.
    let reencoded = openssl_text(&["pkey", "-in", &key_path]);
    let back = Sm2PrivateKey::from_pem(&reencoded).unwrap();
    assert_eq!(back.to_bytes(), key.to_bytes());

    // OpenSSL -> yaoshi: PKCS#8, SPKI, and the SEC1 form.
    let ossl_key = w.path("openssl-key.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:SM2",
        "-out",
        &ossl_key,
    ]);
    let parsed = Sm2PrivateKey::from_pem(&w.read_string("openssl-key.pem")).unwrap();
    let text = openssl_text(&["pkey", "-in", &ossl_key, "-text", "-noout"]);
    assert_eq!(
        text_field(&text, "priv:"),
        strip_zeros(parsed.to_bytes().expose())
    );
    let ossl_spki = openssl_text(&["pkey", "-in", &ossl_key, "-pubout"]);
    assert_eq!(parsed.public_key().to_spki_pem().unwrap(), ossl_spki);
    assert_eq!(
        &Sm2PublicKey::from_spki_pem(&ossl_spki).unwrap(),
        parsed.public_key()
    );
    // `openssl ec` writes SEC1 under the label "SM2 PRIVATE KEY"; yaoshi reads that
    // PEM as it is, and the same DER under the standard "EC PRIVATE KEY" label.
    let sm2_labelled = openssl_text(&["ec", "-in", &ossl_key]);
    assert!(sm2_labelled.contains("-----BEGIN SM2 PRIVATE KEY-----"));
    assert_eq!(
        Sm2PrivateKey::from_pem(&sm2_labelled).unwrap().to_bytes(),
        parsed.to_bytes()
    );
    let sec1_der = openssl(&["ec", "-in", &ossl_key, "-outform", "DER"]);
    let sec1_pem =
        yaoshi_crypto::pem::encode(yaoshi_crypto::pem::EC_PRIVATE_KEY, &sec1_der).unwrap();
    let from_sec1 = Sm2PrivateKey::from_pem(&sec1_pem).unwrap();
    assert_eq!(from_sec1.to_bytes(), parsed.to_bytes());
    // ... and OpenSSL reads that relabelled SEC1 PEM as the same key.
    let sec1_path = w.write("sec1.pem", &sec1_pem);
    assert_eq!(
        openssl_text(&["pkey", "-in", &sec1_path, "-pubout"]),
        ossl_spki
    );

    // A non-SM2 key is refused.
    let p256 = w.path("p256.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        &p256,
    ]);
    assert!(Sm2PrivateKey::from_pem(&w.read_string("p256.pem")).is_err());
}

// ---------------------------------------------------------------------------
// PEM key exchange and signatures: ECDSA
// ---------------------------------------------------------------------------

fn curve_names(curve: EcdsaCurve) -> (&'static str, &'static str, &'static str) {
    // (genpkey name, ecparam name, `NIST CURVE:` text)
    match curve {
        EcdsaCurve::P256 => ("P-256", "prime256v1", "NIST CURVE: P-256"),
        EcdsaCurve::P384 => ("P-384", "secp384r1", "NIST CURVE: P-384"),
        EcdsaCurve::P521 => ("P-521", "secp521r1", "NIST CURVE: P-521"),
    }
}

fn dgst_flag(hash: HashAlgorithm) -> &'static str {
    match hash {
        HashAlgorithm::Sm3 => "-sm3",
        HashAlgorithm::Sha256 => "-sha256",
        HashAlgorithm::Sha384 => "-sha384",
        HashAlgorithm::Sha512 => "-sha512",
    }
}

#[test]
fn ecdsa_pem_keys_exchange_with_openssl() {
    require_openssl();
    let w = Work::new();
    for curve in EcdsaCurve::ALL {
        let (genpkey_name, ecparam_name, nist) = curve_names(curve);

        // yaoshi -> OpenSSL
        let key = EcdsaPrivateKey::generate(curve).unwrap();
        let key_path = w.write("yaoshi-key.pem", key.to_pkcs8_pem().unwrap().as_bytes());
        let spki_pem = key.public_key().to_spki_pem().unwrap();
        let pub_path = w.write("yaoshi-pub.pem", &spki_pem);
        let text = openssl_text(&["pkey", "-in", &key_path, "-text", "-noout"]);
        assert!(text.contains(nist), "{text}");
        assert_eq!(text_field(&text, "pub:"), key.public_key().to_sec1());
        assert_eq!(
            openssl_text(&["pkey", "-in", &key_path, "-pubout"]),
            spki_pem
        );
        let sec1_out = w.write("yaoshi-sec1.pem", key.to_sec1_pem().unwrap().as_bytes());
        assert_eq!(
            openssl_text(&["ec", "-in", &sec1_out, "-pubout"]),
            spki_pem,
            "OpenSSL reads yaoshi's SEC1 (Vault export) form"
        );
        let text = openssl_text(&["pkey", "-pubin", "-in", &pub_path, "-text", "-noout"]);
        assert!(text.contains(nist), "{text}");
        assert_eq!(
            openssl_text(&["pkey", "-pubin", "-in", &pub_path, "-pubout"]),
            spki_pem
        );

        // OpenSSL -> yaoshi: PKCS#8 from genpkey, SEC1 from ecparam.
        let pkcs8_path = w.path("openssl-pkcs8.pem");
        openssl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            &format!("ec_paramgen_curve:{genpkey_name}"),
            "-out",
            &pkcs8_path,
        ]);
        let sec1_path = w.path("openssl-sec1.pem");
        openssl(&[
            "ecparam",
            "-genkey",
            "-noout",
            "-name",
            ecparam_name,
            "-out",
            &sec1_path,
        ]);
        let sec1_pem = w.read_string("openssl-sec1.pem");
        assert!(sec1_pem.starts_with("-----BEGIN EC PRIVATE KEY-----"));
        for (path, name) in [
            (&pkcs8_path, "openssl-pkcs8.pem"),
            (&sec1_path, "openssl-sec1.pem"),
        ] {
            let parsed = EcdsaPrivateKey::from_pem(curve, &w.read_string(name))
                .unwrap_or_else(|e| panic!("{curve:?} {name}: {e}"));
            let ossl_spki = openssl_text(&["pkey", "-in", path, "-pubout"]);
            assert_eq!(parsed.public_key().to_spki_pem().unwrap(), ossl_spki);
            assert_eq!(
                EcdsaPublicKey::from_spki_pem(curve, &ossl_spki).unwrap(),
                parsed.public_key()
            );
            // yaoshi's PKCS#8 re-encoding is read by OpenSSL as the same key.
            let back = w.write("reencoded.pem", parsed.to_pkcs8_pem().unwrap().as_bytes());
            assert_eq!(openssl_text(&["pkey", "-in", &back, "-pubout"]), ossl_spki);
        }
        // A key on another curve is refused.
        let other = match curve {
            EcdsaCurve::P256 => EcdsaCurve::P384,
            _ => EcdsaCurve::P256,
        };
        assert!(EcdsaPrivateKey::from_pem(other, &w.read_string("openssl-pkcs8.pem")).is_err());
        assert!(EcdsaPrivateKey::from_pem(other, &sec1_pem).is_err());
    }
}

#[test]
fn ecdsa_signatures_both_ways() {
    require_openssl();
    let w = Work::new();
    // Native pairings plus the prehash paths (P-256/SHA-384, P-384/SHA-256, P-521/SHA-256).
    let cases = [
        (EcdsaCurve::P256, HashAlgorithm::Sha256),
        (EcdsaCurve::P256, HashAlgorithm::Sha384),
        (EcdsaCurve::P384, HashAlgorithm::Sha384),
        (EcdsaCurve::P384, HashAlgorithm::Sha256),
        (EcdsaCurve::P521, HashAlgorithm::Sha512),
        (EcdsaCurve::P521, HashAlgorithm::Sha256),
    ];
    for (curve, hash) in cases {
        let flag = dgst_flag(hash);
        let message = rand_bytes(rand_len(2000));
        let msg_path = w.write("msg", &message);
        let other_path = w.write("other", flip(&message, 0));

        // yaoshi signs, OpenSSL verifies.
        let key = EcdsaPrivateKey::generate(curve).unwrap();
        let pub_path = w.write("yaoshi-pub.pem", key.public_key().to_spki_pem().unwrap());
        let signature = key.sign(hash, &message).unwrap();
        let sig_path = w.write("sig", &signature);
        assert!(
            openssl_succeeds(&[
                "dgst",
                flag,
                "-verify",
                &pub_path,
                "-signature",
                &sig_path,
                &msg_path
            ]),
            "OpenSSL rejected a yaoshi {curve:?}/{hash:?} signature"
        );
        assert!(!openssl_succeeds(&[
            "dgst",
            flag,
            "-verify",
            &pub_path,
            "-signature",
            &sig_path,
            &other_path
        ]));

        // OpenSSL signs, yaoshi verifies.
        let key_path = w.path("openssl-key.pem");
        let (genpkey_name, _, _) = curve_names(curve);
        openssl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            &format!("ec_paramgen_curve:{genpkey_name}"),
            "-out",
            &key_path,
        ]);
        let public = EcdsaPublicKey::from_spki_pem(
            curve,
            &openssl_text(&["pkey", "-in", &key_path, "-pubout"]),
        )
        .unwrap();
        let signature = openssl(&["dgst", flag, "-sign", &key_path, &msg_path]);
        public
            .verify(hash, &message, &signature)
            .unwrap_or_else(|e| panic!("{curve:?}/{hash:?}: {e}"));
        assert_eq!(
            public.verify(hash, &flip(&message, 0), &signature),
            Err(CryptoError::InvalidSignature)
        );
        let wrong_hash = if hash == HashAlgorithm::Sha256 {
            HashAlgorithm::Sha512
        } else {
            HashAlgorithm::Sha256
        };
        assert_eq!(
            public.verify(wrong_hash, &message, &signature),
            Err(CryptoError::InvalidSignature)
        );
    }
}

// ---------------------------------------------------------------------------
// PEM key exchange and signatures: Ed25519
// ---------------------------------------------------------------------------

#[test]
fn ed25519_pem_keys_exchange_with_openssl() {
    require_openssl();
    let w = Work::new();

    // yaoshi -> OpenSSL
    let key = Ed25519PrivateKey::generate().unwrap();
    let key_path = w.write("yaoshi-key.pem", key.to_pkcs8_pem().unwrap().as_bytes());
    let spki_pem = key.public_key().to_spki_pem().unwrap();
    let pub_path = w.write("yaoshi-pub.pem", &spki_pem);
    let text = openssl_text(&["pkey", "-in", &key_path, "-text", "-noout"]);
    assert!(text.starts_with("ED25519 Private-Key:"), "{text}");
    assert_eq!(
        text_field(&text, "pub:"),
        strip_zeros(key.public_key().as_bytes())
    );
    assert_eq!(
        openssl_text(&["pkey", "-in", &key_path, "-pubout"]),
        spki_pem
    );
    let text = openssl_text(&["pkey", "-pubin", "-in", &pub_path, "-text", "-noout"]);
    assert!(text.starts_with("ED25519 Public-Key:"), "{text}");
    assert_eq!(
        openssl_text(&["pkey", "-pubin", "-in", &pub_path, "-pubout"]),
        spki_pem
    );

    // OpenSSL -> yaoshi
    let ossl_key = w.path("openssl-key.pem");
    openssl(&["genpkey", "-algorithm", "ED25519", "-out", &ossl_key]);
    let parsed = Ed25519PrivateKey::from_pem(&w.read_string("openssl-key.pem")).unwrap();
    let ossl_spki = openssl_text(&["pkey", "-in", &ossl_key, "-pubout"]);
    assert_eq!(parsed.public_key().to_spki_pem().unwrap(), ossl_spki);
    assert_eq!(
        Ed25519PublicKey::from_spki_pem(&ossl_spki).unwrap(),
        parsed.public_key()
    );
    // The seed in OpenSSL's -text output builds the same key in yaoshi.
    let text = openssl_text(&["pkey", "-in", &ossl_key, "-text", "-noout"]);
    let mut seed = text_field(&text, "priv:");
    while seed.len() < 32 {
        seed.insert(0, 0);
    }
    assert_eq!(
        Ed25519PrivateKey::from_seed(&seed).unwrap().public_key(),
        parsed.public_key()
    );
    // yaoshi's PKCS#8 re-encoding (v1) is byte-identical to OpenSSL's.
    assert_eq!(
        parsed.to_pkcs8_pem().unwrap().as_str(),
        w.read_string("openssl-key.pem")
    );
}

#[test]
fn ed25519_signatures_both_ways() {
    require_openssl();
    let w = Work::new();
    let key = Ed25519PrivateKey::generate().unwrap();
    let yaoshi_pub = w.write("yaoshi-pub.pem", key.public_key().to_spki_pem().unwrap());
    let ossl_key = w.path("openssl-key.pem");
    openssl(&["genpkey", "-algorithm", "ED25519", "-out", &ossl_key]);
    let ossl_public =
        Ed25519PublicKey::from_spki_pem(&openssl_text(&["pkey", "-in", &ossl_key, "-pubout"]))
            .unwrap();
    // The empty message is left out: OpenSSL 3.0's `pkeyutl -rawin` cannot read an
    // empty input ("Could not allocate 0 bytes for oneshot sign/verify buffer").
    for message in messages().into_iter().filter(|m| !m.is_empty()) {
        let msg_path = w.write("msg", &message);
        let other_path = w.write("other", flip(&message, -1));

        // yaoshi signs, OpenSSL verifies.
        let signature = key.sign(&message);
        assert_eq!(signature.len(), 64);
        let sig_path = w.write("sig", &signature);
        assert!(openssl_succeeds(&[
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            &yaoshi_pub,
            "-rawin",
            "-in",
            &msg_path,
            "-sigfile",
            &sig_path
        ]));
        assert!(!openssl_succeeds(&[
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            &yaoshi_pub,
            "-rawin",
            "-in",
            &other_path,
            "-sigfile",
            &sig_path
        ]));

        // OpenSSL signs, yaoshi verifies; Ed25519 is deterministic, so the same
        // key must give the same signature in both.
        let signature = openssl(&[
            "pkeyutl", "-sign", "-rawin", "-inkey", &ossl_key, "-in", &msg_path,
        ]);
        ossl_public.verify(&message, &signature).unwrap();
        assert_eq!(
            ossl_public.verify(&flip(&message, -1), &signature),
            Err(CryptoError::InvalidSignature)
        );
        assert_eq!(
            ossl_public.verify(&message, &flip(&signature, 0)),
            Err(CryptoError::InvalidSignature)
        );
        let same_key = Ed25519PrivateKey::from_pem(&w.read_string("openssl-key.pem")).unwrap();
        assert_eq!(same_key.sign(&message), signature);
    }
}

// ---------------------------------------------------------------------------
// PEM key exchange, signatures and OAEP: RSA-2048
// ---------------------------------------------------------------------------

/// `-sigopt` arguments for `openssl dgst` with a yaoshi RSA padding.
fn rsa_sigopts(padding: RsaPadding) -> Vec<&'static str> {
    match padding {
        RsaPadding::Pkcs1v15 => vec!["-sigopt", "rsa_padding_mode:pkcs1"],
        RsaPadding::Pss => vec![
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:digest",
        ],
    }
}

const OAEP_OPTS: [&str; 6] = [
    "-pkeyopt",
    "rsa_padding_mode:oaep",
    "-pkeyopt",
    "rsa_oaep_md:sha256",
    "-pkeyopt",
    "rsa_mgf1_md:sha256",
];

#[test]
fn rsa2048_keys_signatures_and_oaep_with_openssl() {
    require_openssl();
    let w = Work::new();

    // --- keys: yaoshi -> OpenSSL
    let key = RsaPrivateKey::generate(RsaBits::Rsa2048).unwrap();
    let key_path = w.write("yaoshi-key.pem", key.to_pkcs8_pem().unwrap().as_bytes());
    let spki_pem = key.public_key().unwrap().to_spki_pem().unwrap();
    let pub_path = w.write("yaoshi-pub.pem", &spki_pem);
    let text = openssl_text(&["pkey", "-in", &key_path, "-text", "-noout"]);
    assert!(
        text.starts_with("Private-Key: (2048 bit, 2 primes)"),
        "{text}"
    );
    assert!(text.contains("publicExponent: 65537"), "{text}");
    assert_eq!(
        openssl_text(&["pkey", "-in", &key_path, "-pubout"]),
        spki_pem
    );
    assert!(
        openssl_text(&["pkey", "-pubin", "-in", &pub_path, "-text", "-noout"])
            .starts_with("Public-Key: (2048 bit)")
    );
    assert_eq!(
        openssl_text(&["pkey", "-pubin", "-in", &pub_path, "-pubout"]),
        spki_pem
    );
    openssl(&["rsa", "-in", &key_path, "-check", "-noout"]);

    // --- keys: OpenSSL -> yaoshi
    let ossl_key = w.path("openssl-key.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        &ossl_key,
    ]);
    let ossl_pub = w.path("openssl-pub.pem");
    openssl(&["pkey", "-in", &ossl_key, "-pubout", "-out", &ossl_pub]);
    let parsed = RsaPrivateKey::from_pem(&w.read_string("openssl-key.pem")).unwrap();
    assert_eq!(parsed.bits(), 2048);
    let ossl_spki = w.read_string("openssl-pub.pem");
    assert_eq!(
        parsed.public_key().unwrap().to_spki_pem().unwrap(),
        ossl_spki
    );
    let ossl_public = RsaPublicKey::from_spki_pem(&ossl_spki).unwrap();
    assert_eq!(ossl_public, parsed.public_key().unwrap());

    // --- signatures both ways
    let message = rand_bytes(rand_len(3000));
    let msg_path = w.write("msg", &message);
    let other_path = w.write("other", flip(&message, 0));
    for padding in [RsaPadding::Pkcs1v15, RsaPadding::Pss] {
        for hash in [HashAlgorithm::Sha256, HashAlgorithm::Sha512] {
            let flag = dgst_flag(hash);
            let opts = rsa_sigopts(padding);

            let signature = key.sign(padding, hash, &message).unwrap();
            assert_eq!(signature.len(), 256);
            let sig_path = w.write("sig", &signature);
            let mut args = vec!["dgst", flag, "-verify", &pub_path];
            args.extend(&opts);
            args.extend(["-signature", &sig_path]);
            let mut good = args.clone();
            good.push(&msg_path);
            assert!(
                openssl_succeeds(&good),
                "OpenSSL rejected a yaoshi RSA {padding:?}/{hash:?} signature"
            );
            let mut bad = args.clone();
            bad.push(&other_path);
            assert!(!openssl_succeeds(&bad));
            // The other padding must not accept it.
            let mut wrong = vec!["dgst", flag, "-verify", &pub_path];
            wrong.extend(rsa_sigopts(match padding {
                RsaPadding::Pkcs1v15 => RsaPadding::Pss,
                RsaPadding::Pss => RsaPadding::Pkcs1v15,
            }));
            wrong.extend(["-signature", &sig_path, &msg_path]);
            assert!(!openssl_succeeds(&wrong));

            let mut args = vec!["dgst", flag, "-sign", &ossl_key];
            args.extend(&opts);
            args.push(&msg_path);
            let signature = openssl(&args);
            ossl_public
                .verify(padding, hash, &message, &signature)
                .unwrap_or_else(|e| panic!("{padding:?}/{hash:?}: {e}"));
            assert_eq!(
                ossl_public.verify(padding, hash, &flip(&message, 0), &signature),
                Err(CryptoError::InvalidSignature)
            );
            if padding == RsaPadding::Pkcs1v15 {
                // PKCS#1 v1.5 is deterministic: both must produce the same bytes.
                assert_eq!(parsed.sign(padding, hash, &message).unwrap(), signature);
            }
        }
    }

    // --- OAEP-SHA256 both ways
    for len in [0, 1, 32, 190] {
        let plaintext = rand_bytes(len);
        let ciphertext = key
            .public_key()
            .unwrap()
            .encrypt_oaep_sha256(&plaintext)
            .unwrap();
        assert_eq!(ciphertext.len(), 256);
        let ct_path = w.write("ct", &ciphertext);
        let mut args = vec!["pkeyutl", "-decrypt", "-inkey", &key_path, "-in", &ct_path];
        args.extend(OAEP_OPTS);
        assert_eq!(
            openssl(&args),
            plaintext,
            "OpenSSL OAEP decryption of {len} bytes"
        );
        let bad_path = w.write("ct-bad", flip(&ciphertext, -1));
        let mut bad = vec!["pkeyutl", "-decrypt", "-inkey", &key_path, "-in", &bad_path];
        bad.extend(OAEP_OPTS);
        assert!(!openssl_succeeds(&bad));

        let pt_path = w.write("pt", &plaintext);
        let mut args = vec![
            "pkeyutl", "-encrypt", "-pubin", "-inkey", &ossl_pub, "-in", &pt_path,
        ];
        args.extend(OAEP_OPTS);
        let ciphertext = openssl(&args);
        assert_eq!(
            parsed.decrypt_oaep_sha256(&ciphertext).unwrap().expose(),
            &plaintext[..]
        );
        assert!(parsed.decrypt_oaep_sha256(&flip(&ciphertext, -1)).is_err());
        // OAEP with SHA-1 (OpenSSL's default) must not decrypt as OAEP-SHA256.
        let sha1 = openssl(&[
            "pkeyutl",
            "-encrypt",
            "-pubin",
            "-inkey",
            &ossl_pub,
            "-in",
            &pt_path,
            "-pkeyopt",
            "rsa_padding_mode:oaep",
        ]);
        assert!(parsed.decrypt_oaep_sha256(&sha1).is_err());
    }
    assert!(matches!(
        key.public_key().unwrap().encrypt_oaep_sha256(&[0u8; 191]),
        Err(CryptoError::InvalidInput(_))
    ));
}

// ---------------------------------------------------------------------------
// SM3
// ---------------------------------------------------------------------------

#[test]
fn sm3_matches_openssl_dgst() {
    require_openssl();
    let w = Work::new();
    let inputs: Vec<(Vec<u8>, Option<&str>)> = vec![
        (
            Vec::new(),
            Some("1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"),
        ),
        (
            b"abc".to_vec(),
            Some("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
        ),
        (
            b"abcd".repeat(16),
            Some("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
        ),
        (rand_bytes(55), None),
        (rand_bytes(64), None),
        (rand_bytes(rand_len(10_000)), None),
        (rand_bytes(1 << 20), None),
    ];
    for (input, expected) in inputs {
        let path = w.write("input", &input);
        let ours = hash::digest(HashAlgorithm::Sm3, &input);
        let theirs = openssl(&["dgst", "-sm3", "-binary", &path]);
        assert_eq!(
            hex::encode(&ours),
            hex::encode(&theirs),
            "SM3 of {} bytes",
            input.len()
        );
        assert_eq!(ours, hash::sm3(&input));
        if let Some(expected) = expected {
            assert_eq!(hex::encode(&ours), expected);
        }
    }
}

// ---------------------------------------------------------------------------
// SM4-CBC and SM4-CTR
// ---------------------------------------------------------------------------

const SM4_LENS: [usize; 9] = [0, 1, 15, 16, 17, 31, 32, 100, 1000];

/// `openssl enc -<cipher> [-d] -K key -iv iv` on `input`.
fn openssl_enc(
    w: &Work,
    cipher: &str,
    decrypt: bool,
    key: &[u8],
    iv: &[u8],
    input: &[u8],
) -> Vec<u8> {
    let in_path = w.write("enc-in", input);
    let key_hex = hex::encode(key);
    let iv_hex = hex::encode(iv);
    let mut args = vec!["enc", cipher];
    if decrypt {
        args.push("-d");
    }
    args.extend(["-K", &key_hex, "-iv", &iv_hex, "-in", &in_path]);
    openssl(&args)
}

#[test]
fn sm4_cbc_both_ways() {
    require_openssl();
    let w = Work::new();
    // Fixed case: GB/T 32907 Appendix A key and block; with a zero IV the first
    // CBC block is the single-block example, the second is the padding block.
    let gb_key = hex::decode("0123456789abcdeffedcba9876543210").unwrap();
    let fixed = openssl_enc(&w, "-sm4-cbc", false, &gb_key, &[0u8; 16], &gb_key);
    assert_eq!(fixed.len(), 32);
    assert_eq!(
        hex::encode(&fixed[..16]),
        "681edf34d206965e86b3e94f536e4246"
    );
    assert_eq!(
        sm4::cbc_encrypt(&gb_key, &[0u8; 16], &gb_key).unwrap(),
        fixed
    );

    for len in SM4_LENS {
        let key = rand_bytes(16);
        let iv = rand_bytes(16);
        let plaintext = rand_bytes(len);

        let ours = sm4::cbc_encrypt(&key, &iv, &plaintext).unwrap();
        assert_eq!(ours.len(), (len / 16 + 1) * 16);
        let theirs = openssl_enc(&w, "-sm4-cbc", false, &key, &iv, &plaintext);
        assert_eq!(
            hex::encode(&ours),
            hex::encode(&theirs),
            "SM4-CBC of {len} bytes"
        );
        assert_eq!(
            openssl_enc(&w, "-sm4-cbc", true, &key, &iv, &ours),
            plaintext
        );
        assert_eq!(
            sm4::cbc_decrypt(&key, &iv, &theirs).unwrap().expose(),
            &plaintext[..]
        );

        // Truncated ciphertexts are refused on both sides.
        let truncated = &theirs[..theirs.len() - 1];
        assert!(sm4::cbc_decrypt(&key, &iv, truncated).is_err());
        let path = w.write("truncated", truncated);
        let (key_hex, iv_hex) = (hex::encode(&key), hex::encode(&iv));
        assert!(!openssl_succeeds(&[
            "enc", "-sm4-cbc", "-d", "-K", &key_hex, "-iv", &iv_hex, "-in", &path
        ]));
        // A flipped IV bit flips the same bit of the first plaintext byte (for the
        // empty message that byte is padding, so unpadding fails).
        let garbled = sm4::cbc_decrypt(&key, &flip(&iv, 0), &theirs);
        if len > 0 {
            assert_eq!(garbled.unwrap().expose(), &flip(&plaintext, 0)[..]);
        } else {
            assert!(garbled.is_err());
        }
    }
}

#[test]
fn sm4_ctr_both_ways() {
    require_openssl();
    let w = Work::new();
    let mut ivs: Vec<Vec<u8>> = (0..SM4_LENS.len()).map(|_| rand_bytes(16)).collect();
    // Counter carries: across the low 64 bits, and the full 128-bit wrap-around.
    ivs.push(hex::decode("0000000000000000fffffffffffffffe").unwrap());
    ivs.push(hex::decode("fffffffffffffffffffffffffffffffe").unwrap());
    let lens = SM4_LENS.iter().copied().chain([1000, 1000]);
    for (len, iv) in lens.zip(ivs) {
        let key = rand_bytes(16);
        let plaintext = rand_bytes(len);

        let ours = sm4::ctr_apply(&key, &iv, &plaintext).unwrap();
        assert_eq!(ours.len(), len);
        let theirs = openssl_enc(&w, "-sm4-ctr", false, &key, &iv, &plaintext);
        assert_eq!(
            hex::encode(&ours),
            hex::encode(&theirs),
            "SM4-CTR of {len} bytes, iv {}",
            hex::encode(&iv)
        );
        assert_eq!(
            openssl_enc(&w, "-sm4-ctr", true, &key, &iv, &ours),
            plaintext
        );
        assert_eq!(sm4::ctr_apply(&key, &iv, &theirs).unwrap(), plaintext);
        // (Only for full blocks: a 1-byte keystream is zero with probability 1/256.)
        if len >= 16 {
            assert_ne!(ours, plaintext);
            assert_ne!(
                sm4::ctr_apply(&key, &flip(&iv, -1), &theirs).unwrap(),
                plaintext
            );
        }
    }
}
