//! Interoperability: checkpoint signatures against the OpenSSL 3 CLI in both
//! directions (SM2 with SM3 and signer id 1234567812345678; ECDSA P-256 with
//! SHA-256), and an SM3 entry hash against the `gmssl` Python package.
//! Each test is skipped (with a message) when its tool is not installed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::path::Path;
use std::process::Command;
use yaoshi_core::audit::chain::{ChainAlgorithm, GENESIS, digest_to_hex, entry_hash};
use yaoshi_core::audit::checkpoint::{
    AuditPublicKey, AuditSigningKey, Checkpoint, SignatureAlgorithm,
};

fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().expect("run tool");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn openssl_verify(
    alg: SignatureAlgorithm,
    dir: &Path,
    pub_pem: &Path,
    msg: &Path,
    sig: &Path,
) -> bool {
    let mut cmd = Command::new("openssl");
    match alg {
        SignatureAlgorithm::Sm2 => {
            cmd.args(["pkeyutl", "-verify", "-pubin", "-inkey"])
                .arg(pub_pem)
                .args([
                    "-rawin",
                    "-digest",
                    "sm3",
                    "-pkeyopt",
                    "distid:1234567812345678",
                    "-in",
                ])
                .arg(msg)
                .arg("-sigfile")
                .arg(sig);
        }
        SignatureAlgorithm::EcdsaP256 => {
            cmd.args(["dgst", "-sha256", "-verify"])
                .arg(pub_pem)
                .arg("-signature")
                .arg(sig)
                .arg(msg);
        }
    }
    let out = cmd.current_dir(dir).output().expect("openssl");
    out.status.success()
}

#[test]
fn openssl_verifies_our_checkpoints() {
    if !have("openssl", "version") {
        eprintln!("skipped: openssl not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for alg in [SignatureAlgorithm::Sm2, SignatureAlgorithm::EcdsaP256] {
        let key = AuditSigningKey::generate(alg).unwrap();
        let cp = key
            .sign_checkpoint(
                ChainAlgorithm::Sm3,
                42,
                &[0x11; 32],
                &[0x22; 32],
                1_700_000_000,
            )
            .unwrap();
        let pub_pem = dir.path().join("pub.pem");
        let msg = dir.path().join("msg");
        let sig = dir.path().join("sig");
        std::fs::write(&pub_pem, key.public_key().to_pem().unwrap()).unwrap();
        std::fs::write(&msg, cp.signed_text()).unwrap();
        std::fs::write(&sig, STANDARD.decode(&cp.signature).unwrap()).unwrap();
        assert!(
            openssl_verify(alg, dir.path(), &pub_pem, &msg, &sig),
            "{alg}: OpenSSL rejects our signature"
        );
        // And OpenSSL rejects it over a changed text.
        std::fs::write(&msg, cp.signed_text().replace("\n42\n", "\n43\n")).unwrap();
        assert!(
            !openssl_verify(alg, dir.path(), &pub_pem, &msg, &sig),
            "{alg}: OpenSSL accepts a changed text"
        );
    }
}

#[test]
fn we_verify_openssl_signed_checkpoints() {
    if !have("openssl", "version") {
        eprintln!("skipped: openssl not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for alg in [SignatureAlgorithm::Sm2, SignatureAlgorithm::EcdsaP256] {
        let key = d.join("key.pem");
        let pub_pem = d.join("pub.pem");
        match alg {
            SignatureAlgorithm::Sm2 => run(Command::new("openssl")
                .args(["genpkey", "-algorithm", "SM2", "-out"])
                .arg(&key)),
            SignatureAlgorithm::EcdsaP256 => run(Command::new("openssl")
                .args([
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-out",
                ])
                .arg(&key)),
        };
        run(Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(&pub_pem));
        let pk = AuditPublicKey::from_pem(&std::fs::read_to_string(&pub_pem).unwrap()).unwrap();
        assert_eq!(pk.algorithm(), alg);
        // Our PEM of OpenSSL's key parses back to the same key.
        assert_eq!(AuditPublicKey::from_pem(&pk.to_pem().unwrap()).unwrap(), pk);
        let mut cp = Checkpoint {
            tree_size: 7,
            root_hash: digest_to_hex(&[0xab; 32]),
            head_hash: digest_to_hex(&[0xcd; 32]),
            time: 1_700_000_123,
            hash_algorithm: "sm3".into(),
            signature_algorithm: alg.name().into(),
            key_id: pk.key_id(),
            signature: String::new(),
        };
        let msg = d.join("msg");
        let sig = d.join("sig");
        std::fs::write(&msg, cp.signed_text()).unwrap();
        match alg {
            SignatureAlgorithm::Sm2 => run(Command::new("openssl")
                .args(["pkeyutl", "-sign", "-inkey"])
                .arg(&key)
                .args([
                    "-rawin",
                    "-digest",
                    "sm3",
                    "-pkeyopt",
                    "distid:1234567812345678",
                    "-in",
                ])
                .arg(&msg)
                .arg("-out")
                .arg(&sig)),
            SignatureAlgorithm::EcdsaP256 => run(Command::new("openssl")
                .args(["dgst", "-sha256", "-sign"])
                .arg(&key)
                .arg("-out")
                .arg(&sig)
                .arg(&msg)),
        };
        cp.signature = STANDARD.encode(std::fs::read(&sig).unwrap());
        cp.verify(&pk)
            .unwrap_or_else(|e| panic!("{alg}: OpenSSL's signature rejected: {e}"));
        let mut changed = cp.clone();
        changed.tree_size = 8;
        assert!(changed.verify(&pk).is_err());
    }
}

#[test]
fn sm3_entry_hash_matches_gmssl() {
    let probe = Command::new("python3")
        .args(["-c", "import gmssl"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: python3 gmssl not installed");
        return;
    }
    let body = r#"{"time":1700000017,"op":"encrypt","key":"k3","outcome":"ok"}"#;
    let prev = [0x5a; 32];
    let seq = 17u64;
    let ours = entry_hash(ChainAlgorithm::Sm3, seq, &prev, body.as_bytes());
    // The preimage is built independently in Python from the documented layout.
    let script = r#"
import sys
from gmssl import sm3, func
seq, prev, body = int(sys.argv[1]), bytes.fromhex(sys.argv[2]), sys.argv[3].encode()
data = b"yaoshi-audit-entry-v1" + b"\x00" + seq.to_bytes(8, "big") + prev + body
print(sm3.sm3_hash(func.bytes_to_list(data)))
"#;
    let out = run(Command::new("python3").args([
        "-c",
        script,
        &seq.to_string(),
        &digest_to_hex(&prev),
        body,
    ]));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        digest_to_hex(&ours)
    );
    // And sequence 1 from GENESIS.
    let out =
        run(Command::new("python3").args(["-c", script, "1", &digest_to_hex(&GENESIS), "{}"]));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        digest_to_hex(&entry_hash(ChainAlgorithm::Sm3, 1, &GENESIS, b"{}"))
    );
}
