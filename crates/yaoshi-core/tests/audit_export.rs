//! The export format and the offline verifier: intact exports verify, and
//! every kind of tampering is reported at the right sequence number.

mod audit_support;

use audit_support::{Log, join};
use yaoshi_core::audit::chain::{ChainAlgorithm, GENESIS, digest_to_hex, entry_hash};
use yaoshi_core::audit::checkpoint::{AuditSigningKey, Checkpoint, SignatureAlgorithm};
use yaoshi_core::audit::export::{
    ExportHeader, ExportLine, checkpoint_line, header_line, parse_line, record_line,
};
use yaoshi_core::audit::merkle::{self, Frontier};
use yaoshi_core::audit::verify::{ChainVerifier, VerifyFailure, VerifyReport, verify_export};
use yaoshi_core::audit::{AuditError, AuditPublicKey};

const N: u64 = 50;

fn setups() -> Vec<(ChainAlgorithm, AuditSigningKey)> {
    vec![
        (
            ChainAlgorithm::Sm3,
            AuditSigningKey::generate(SignatureAlgorithm::Sm2).unwrap(),
        ),
        (
            ChainAlgorithm::Sha256,
            AuditSigningKey::generate(SignatureAlgorithm::EcdsaP256).unwrap(),
        ),
        // Mixed pairings are allowed too.
        (
            ChainAlgorithm::Sha256,
            AuditSigningKey::generate(SignatureAlgorithm::Sm2).unwrap(),
        ),
    ]
}

fn verify(
    lines: &[String],
    key: &AuditPublicKey,
    earlier: Option<&Checkpoint>,
) -> Result<VerifyReport, VerifyFailure> {
    verify_export(join(lines).as_bytes(), key, earlier)
}

fn expect_fail(
    lines: &[String],
    key: &AuditPublicKey,
    earlier: Option<&Checkpoint>,
    seq: Option<u64>,
    reason_contains: &str,
) -> VerifyFailure {
    let failure = verify(lines, key, earlier).expect_err("tampering must be detected");
    assert_eq!(failure.seq, seq, "{failure}");
    assert!(
        failure.reason.contains(reason_contains),
        "{failure} does not mention {reason_contains:?}"
    );
    failure
}

/// Index in `lines` of the record line with sequence `seq`.
fn line_of(lines: &[String], seq: u64) -> usize {
    lines
        .iter()
        .position(|l| l.starts_with(&format!(r#"{{"type":"record","seq":{seq},"#)))
        .unwrap()
}

#[test]
fn intact_exports_verify() {
    for (alg, key) in setups() {
        let log = Log::new(alg, N);
        let lines = log.export(&key, 1, 10);
        let report = verify(&lines, &key.public_key(), None).unwrap();
        assert_eq!(
            report,
            VerifyReport {
                first_seq: Some(1),
                last_seq: Some(N),
                records: N,
                checkpoints: 5,
                head_hash: digest_to_hex(&log.head_at(N)),
                root_hash: digest_to_hex(&log.root_at(N)),
                extends_checkpoint: None,
            }
        );
        // Against every checkpoint saved earlier, including the final one.
        for size in [0, 1, 10, 23, 40, 50] {
            let earlier = log.checkpoint(&key, size);
            let report = verify(&lines, &key.public_key(), Some(&earlier)).unwrap();
            assert_eq!(report.extends_checkpoint, Some(size));
        }
        // CRLF line endings are accepted (the body bytes are unaffected).
        let crlf = lines.join("\r\n");
        assert!(verify_export(crlf.as_bytes(), &key.public_key(), None).is_ok());
    }
}

#[test]
fn failure_display_names_sequence_and_line() {
    let f = VerifyFailure {
        seq: Some(17),
        line: 18,
        reason: "hash does not match".into(),
    };
    assert_eq!(f.to_string(), "sequence 17 (line 18): hash does not match");
}

#[test]
fn editing_any_byte_of_a_record_body_is_detected() {
    for (alg, key) in setups() {
        let log = Log::new(alg, N);
        let lines = log.export(&key, 1, 10);
        let pk = key.public_key();
        for seq in [1, 2, 9, 10, 11, 29, 50] {
            let idx = line_of(&lines, seq);
            let line = &lines[idx];
            let start = line.find(r#""record":"#).unwrap() + r#""record":"#.len();
            let end = line.len() - 1; // the closing brace of the line
            let body = &line[start..end];
            assert_eq!(body, log.bodies[seq as usize - 1]);
            for pos in 0..body.len() {
                if !body.is_char_boundary(pos) || !body.is_char_boundary(pos + 1) {
                    continue; // multi-byte characters: edited below as a whole
                }
                let mut bytes = line.clone().into_bytes();
                bytes[start + pos] = if bytes[start + pos] == b'x' {
                    b'y'
                } else {
                    b'x'
                };
                let mut tampered = lines.clone();
                tampered[idx] = String::from_utf8(bytes).unwrap();
                let f = verify(&tampered, &pk, None).expect_err("edit must be detected");
                assert_eq!(f.seq, Some(seq), "edit at byte {pos} of {seq}: {f}");
                assert_eq!(f.line, idx + 1);
            }
            // A multi-byte character replaced by another.
            let mut tampered = lines.clone();
            tampered[idx] = line.replacen('ü', "u", 1);
            expect_fail(&tampered, &pk, None, Some(seq), "altered");
        }
    }
}

#[test]
fn deleted_and_swapped_lines_are_detected() {
    for (alg, key) in setups() {
        let log = Log::new(alg, N);
        let lines = log.export(&key, 1, 10);
        let pk = key.public_key();
        for seq in [1, 5, 10, 11, 49] {
            let mut tampered = lines.clone();
            tampered.remove(line_of(&lines, seq));
            expect_fail(
                &tampered,
                &pk,
                None,
                Some(seq),
                &format!("expected sequence {seq}"),
            );
        }
        // The header.
        let f = expect_fail(&lines[1..], &pk, None, None, "header");
        assert_eq!(f.line, 1);
        // Swapped record lines (adjacent and distant).
        for (a, b) in [(3, 4), (12, 37), (1, 50)] {
            let mut tampered = lines.clone();
            tampered.swap(line_of(&lines, a), line_of(&lines, b));
            expect_fail(
                &tampered,
                &pk,
                None,
                Some(a),
                &format!("expected sequence {a}"),
            );
        }
        // A duplicated record.
        let mut tampered = lines.clone();
        tampered.insert(line_of(&lines, 8), lines[line_of(&lines, 7)].clone());
        expect_fail(&tampered, &pk, None, Some(8), "expected sequence 8");
        // The last record removed: the chain is still consistent, but the
        // checkpoint after it no longer matches.
        let mut tampered = lines.clone();
        tampered.remove(line_of(&lines, N));
        expect_fail(
            &tampered,
            &pk,
            None,
            Some(N),
            "expected sequence 50 before the checkpoint",
        );
    }
}

#[test]
fn changed_prev_is_detected() {
    for (alg, key) in setups() {
        let log = Log::new(alg, N);
        let lines = log.export(&key, 1, 10);
        let pk = key.public_key();
        for seq in [1, 2, 21, 50] {
            let idx = line_of(&lines, seq);
            let prev = digest_to_hex(&log.prevs[seq as usize - 1]);
            let mut tampered = lines.clone();
            tampered[idx] = lines[idx].replace(&prev, &digest_to_hex(&[0x5a; 32]));
            expect_fail(&tampered, &pk, None, Some(seq), "prev");
        }
        // Rewriting a record with a consistent hash breaks the next link.
        let mut forged = Log::new(alg, N);
        forged.bodies[19] = forged.bodies[19].replace("alice", "mallory");
        let seq = 20u64;
        let body = forged.bodies[19].clone();
        let hash = entry_hash(alg, seq, &log.prevs[19], body.as_bytes());
        let mut tampered = lines.clone();
        tampered[line_of(&lines, seq)] =
            record_line(seq, &log.prevs[19], &hash, body.as_bytes()).unwrap();
        // Record 20 itself is now self-consistent; its checkpoint catches it.
        expect_fail(&tampered, &pk, None, Some(20), "root does not match");
        // Without the checkpoint line, record 21's prev does.
        tampered.remove(line_of(&tampered, 20) + 1);
        expect_fail(
            &tampered,
            &pk,
            None,
            Some(21),
            "prev does not equal the hash of sequence 20",
        );
    }
}

#[test]
fn checkpoints_signed_by_another_key_are_rejected() {
    for (alg, key) in setups() {
        let log = Log::new(alg, N);
        let lines = log.export(&key, 1, 10);
        let pk = key.public_key();
        for other_alg in [SignatureAlgorithm::Sm2, SignatureAlgorithm::EcdsaP256] {
            let other = AuditSigningKey::generate(other_alg).unwrap();
            let idx = line_of(&lines, 20) + 1;
            let mut tampered = lines.clone();
            tampered[idx] = checkpoint_line(&log.checkpoint(&other, 20));
            expect_fail(&tampered, &pk, None, Some(20), "checkpoint does not verify");
            // Re-signed with the other key but claiming our key id.
            let mut cp = log.checkpoint(&other, 20);
            cp.key_id = pk.key_id();
            cp.signature_algorithm = pk.algorithm().name().into();
            tampered[idx] = checkpoint_line(&cp);
            expect_fail(&tampered, &pk, None, Some(20), "signature does not verify");
        }
        // Right key, wrong root / head / algorithm.
        let idx = line_of(&lines, 30) + 1;
        let mut tampered = lines.clone();
        tampered[idx] = checkpoint_line(
            &key.sign_checkpoint(alg, 30, &log.root_at(29), &log.head_at(30), 0)
                .unwrap(),
        );
        expect_fail(&tampered, &pk, None, Some(30), "root does not match");
        tampered[idx] = checkpoint_line(
            &key.sign_checkpoint(alg, 30, &log.root_at(30), &log.head_at(29), 0)
                .unwrap(),
        );
        expect_fail(&tampered, &pk, None, Some(30), "head does not match");
        let other_hash = match alg {
            ChainAlgorithm::Sm3 => ChainAlgorithm::Sha256,
            ChainAlgorithm::Sha256 => ChainAlgorithm::Sm3,
        };
        tampered[idx] = checkpoint_line(
            &key.sign_checkpoint(other_hash, 30, &log.root_at(30), &log.head_at(30), 0)
                .unwrap(),
        );
        expect_fail(&tampered, &pk, None, Some(30), "hash algorithm");
        // A checkpoint moved after a later record.
        let mut tampered = lines.clone();
        let cp = tampered.remove(idx);
        tampered.insert(idx + 1, cp);
        expect_fail(&tampered, &pk, None, Some(31), "not placed right after");
        // A signature edited by one character.
        let mut cp = log.checkpoint(&key, 30);
        cp.time += 1;
        tampered = lines.clone();
        tampered[idx] = checkpoint_line(&cp);
        expect_fail(&tampered, &pk, None, Some(30), "does not verify");
    }
}

#[test]
fn truncation_below_a_saved_checkpoint_is_detected() {
    for (alg, key) in setups() {
        let log = Log::new(alg, N);
        let lines = log.export(&key, 1, 10);
        let pk = key.public_key();
        let earlier = log.checkpoint(&key, 40);
        // Drop every checkpoint line, then cut after record 33.
        let mut tampered: Vec<String> = lines
            .iter()
            .filter(|l| !l.starts_with(r#"{"type":"checkpoint""#))
            .cloned()
            .collect();
        // Without the saved checkpoint, the shortened file verifies...
        tampered.truncate(line_of(&tampered, 33) + 1);
        assert!(verify(&tampered, &pk, None).is_ok());
        // ...but not against it.
        let f = expect_fail(
            &tampered,
            &pk,
            Some(&earlier),
            Some(34),
            "file ends at sequence 33, before the saved checkpoint at 40 (truncated)",
        );
        assert_eq!(f.line, tampered.len() + 1);
        // Truncated to nothing but the header.
        expect_fail(
            &lines[..1],
            &pk,
            Some(&earlier),
            Some(1),
            "file ends at sequence 0",
        );
        // A forked log (same length, one record differs) does not extend it.
        let mut fork = Log::new(alg, 0);
        for (i, body) in log.bodies.iter().enumerate() {
            fork.append(if i == 35 {
                body.replace("ok", "denied")
            } else {
                body.clone()
            });
        }
        let fork_lines = fork.export(&key, 1, 10);
        assert!(verify(&fork_lines, &pk, None).is_ok());
        expect_fail(
            &fork_lines,
            &pk,
            Some(&earlier),
            Some(40),
            "does not extend the saved checkpoint",
        );
        // A saved checkpoint by another key is refused.
        let other = AuditSigningKey::generate(SignatureAlgorithm::EcdsaP256).unwrap();
        expect_fail(
            &lines,
            &pk,
            Some(&log.checkpoint(&other, 40)),
            Some(40),
            "saved checkpoint does not verify",
        );
    }
}

#[test]
fn export_starting_later_verifies_with_its_frontier() {
    for (alg, key) in setups() {
        let log = Log::new(alg, N);
        let pk = key.public_key();
        let lines = log.export(&key, 23, 10);
        let report = verify(&lines, &pk, None).unwrap();
        assert_eq!(report.first_seq, Some(23));
        assert_eq!(report.last_seq, Some(N));
        assert_eq!(report.records, N - 22);
        assert_eq!(report.checkpoints, 3);
        assert_eq!(report.root_hash, digest_to_hex(&log.root_at(N)));
        // Saved checkpoints inside the export, at its start, and before it.
        for size in [22, 30, 45] {
            let r = verify(&lines, &pk, Some(&log.checkpoint(&key, size))).unwrap();
            assert_eq!(r.extends_checkpoint, Some(size));
        }
        expect_fail(
            &lines,
            &pk,
            Some(&log.checkpoint(&key, 10)),
            Some(10),
            "before this export's start",
        );
        // A checkpoint at from - 1 placed right after the header works too.
        let mut with_start = lines.clone();
        with_start.insert(1, checkpoint_line(&log.checkpoint(&key, 22)));
        assert_eq!(verify(&with_start, &pk, None).unwrap().checkpoints, 4);
        // A tampered frontier is caught by the first checkpoint.
        let mut frontier = Frontier::from_leaves(alg, &log.leaves[..22]);
        frontier.nodes[0] = digest_to_hex(&[1; 32]);
        let mut tampered = lines.clone();
        tampered[0] = header_line(&ExportHeader {
            hash_algorithm: alg,
            from: 23,
            frontier,
        });
        expect_fail(&tampered, &pk, None, Some(30), "root does not match");
        // A forged anchor (prev of the first record) is caught too.
        let mut tampered = lines.clone();
        let body = &log.bodies[22];
        let prev = [9u8; 32];
        tampered[1] = record_line(
            23,
            &prev,
            &entry_hash(alg, 23, &prev, body.as_bytes()),
            body.as_bytes(),
        )
        .unwrap();
        expect_fail(&tampered, &pk, None, Some(24), "prev");
    }
}

#[test]
fn empty_log_is_valid() {
    for (alg, key) in setups() {
        let pk = key.public_key();
        let header = header_line(&ExportHeader {
            hash_algorithm: alg,
            from: 1,
            frontier: Frontier::new(),
        });
        let report = verify(std::slice::from_ref(&header), &pk, None).unwrap();
        assert_eq!(report.records, 0);
        assert_eq!(report.first_seq, None);
        assert_eq!(report.head_hash, digest_to_hex(&GENESIS));
        assert_eq!(report.root_hash, digest_to_hex(&merkle::root(alg, &[])));
        let empty = Log::new(alg, 0);
        let cp = empty.checkpoint(&key, 0);
        let lines = vec![header.clone(), checkpoint_line(&cp)];
        let report = verify(&lines, &pk, Some(&cp)).unwrap();
        assert_eq!(
            (report.checkpoints, report.extends_checkpoint),
            (1, Some(0))
        );
        // No header at all is not an export.
        assert!(verify_export(&b""[..], &pk, None).is_err());
    }
}

#[test]
fn chain_verifier_streams_without_a_file() {
    let key = AuditSigningKey::generate(SignatureAlgorithm::Sm2).unwrap();
    let pk = key.public_key();
    let log = Log::new(ChainAlgorithm::Sm3, 30);
    let earlier = log.checkpoint(&key, 12);
    let mut v = ChainVerifier::new(ChainAlgorithm::Sm3, 1, Frontier::new(), None).unwrap();
    v.expect_checkpoint(&earlier, &pk).unwrap();
    for seq in 1..=30u64 {
        let i = seq as usize - 1;
        v.record(seq, &log.prevs[i], &log.hashes[i], log.bodies[i].as_bytes())
            .unwrap();
        if seq == 20 {
            v.checkpoint(&log.checkpoint(&key, 20), &pk).unwrap();
        }
    }
    let report = v.finish(Some(&earlier)).unwrap();
    assert_eq!(report.extends_checkpoint, Some(12));
    assert_eq!(report.records, 30);
    // With a known anchor, a later start checks the first prev.
    let frontier = Frontier::from_leaves(ChainAlgorithm::Sm3, &log.leaves[..10]);
    let mut v = ChainVerifier::new(ChainAlgorithm::Sm3, 11, frontier, Some([3; 32])).unwrap();
    let f = v
        .record(
            11,
            &log.prevs[10],
            &log.hashes[10],
            log.bodies[10].as_bytes(),
        )
        .unwrap_err();
    assert_eq!(f.seq, Some(11));
    // Frontier of the wrong size.
    assert!(ChainVerifier::new(ChainAlgorithm::Sm3, 5, Frontier::new(), None).is_err());
    assert!(ChainVerifier::new(ChainAlgorithm::Sm3, 0, Frontier::new(), None).is_err());
}

#[test]
fn lines_round_trip_and_are_strict() {
    let alg = ChainAlgorithm::Sm3;
    let log = Log::new(alg, 3);
    let key = AuditSigningKey::generate(SignatureAlgorithm::Sm2).unwrap();
    let header = ExportHeader {
        hash_algorithm: alg,
        from: 3,
        frontier: Frontier::from_leaves(alg, &log.leaves[..2]),
    };
    let text = header_line(&header);
    assert!(text.starts_with(r#"{"type":"header","format":"yaoshi-audit-v1","hash_algorithm":"sm3","from":3,"frontier":{"size":2,"nodes":[""#));
    assert_eq!(parse_line(&text).unwrap(), ExportLine::Header(header));
    let empty = header_line(&ExportHeader {
        hash_algorithm: alg,
        from: 1,
        frontier: Frontier::new(),
    });
    assert_eq!(
        empty,
        r#"{"type":"header","format":"yaoshi-audit-v1","hash_algorithm":"sm3","from":1,"frontier":{"size":0,"nodes":[]}}"#
    );

    let line = log.record_line(2);
    assert_eq!(
        parse_line(&line).unwrap(),
        ExportLine::Record {
            seq: 2,
            prev: log.prevs[1],
            hash: log.hashes[1],
            body: log.bodies[1].clone().into_bytes()
        }
    );
    // Whitespace inside the body is kept byte for byte.
    let body = br#"{"a": [1, 2],  "b":"x\ny"}"#;
    let line = record_line(1, &GENESIS, &[1; 32], body).unwrap();
    match parse_line(&line).unwrap() {
        ExportLine::Record { body: got, .. } => assert_eq!(got, body),
        other => panic!("{other:?}"),
    }
    for bad in [
        &b"{\"a\":1}\n"[..],
        b" {}",
        b"{} ",
        b"[1]",
        b"\"x\"",
        b"{",
        b"{}{}",
        b"{\"a\":\n1}",
        b"\xff",
    ] {
        assert!(
            matches!(
                record_line(1, &GENESIS, &GENESIS, bad),
                Err(AuditError::Malformed(_))
            ),
            "{bad:?}"
        );
    }
    let cp = log.checkpoint(&key, 3);
    assert_eq!(
        parse_line(&checkpoint_line(&cp)).unwrap(),
        ExportLine::Checkpoint(cp)
    );

    let z = "0".repeat(64);
    for bad in [
        String::new(),
        "{}".into(),
        "null".into(),
        r#"{"type":"nope"}"#.into(),
        r#"{"type":"header","format":"yaoshi-audit-v2","hash_algorithm":"sm3","from":1,"frontier":{"size":0,"nodes":[]}}"#.into(),
        r#"{"type":"header","format":"yaoshi-audit-v1","hash_algorithm":"md5","from":1,"frontier":{"size":0,"nodes":[]}}"#.into(),
        r#"{"type":"header","format":"yaoshi-audit-v1","hash_algorithm":"sm3","from":0,"frontier":{"size":0,"nodes":[]}}"#.into(),
        r#"{"type":"header","format":"yaoshi-audit-v1","hash_algorithm":"sm3","from":2,"frontier":{"size":0,"nodes":[]}}"#.into(),
        r#"{"type":"header","format":"yaoshi-audit-v1","hash_algorithm":"sm3","from":2,"frontier":{"size":1,"nodes":[]}}"#.into(),
        format!(r#"{{"type":"record","seq":0,"prev":"{z}","hash":"{z}","record":{{}}}}"#),
        format!(r#"{{"type":"record","seq":1,"prev":"{}","hash":"{z}","record":{{}}}}"#, "0".repeat(63)),
        format!(r#"{{"type":"record","seq":1,"prev":"{}","hash":"{z}","record":{{}}}}"#, "A".repeat(64)),
        format!(r#"{{"type":"record","seq":1,"prev":"{z}","hash":"{z}","record":[]}}"#),
        format!(r#"{{"type":"record","seq":1,"prev":"{z}","hash":"{z}","record":null}}"#),
        format!(r#"{{"type":"record","seq":1,"prev":"{z}","hash":"{z}"}}"#),
        format!(r#"{{"type":"record","seq":1,"prev":"{z}","hash":"{z}","record":{{}},"extra":1}}"#),
        format!(r#"{{"type":"record","seq":1,"prev":"{z}","hash":"{z}","record":{{}},"record":{{"a":1}}}}"#),
        format!(r#"{{"type":"record","seq":1,"prev":"{z}","hash":"{z}","record":{{}},"from":1}}"#),
        format!(r#"{{"type":"record","seq":-1,"prev":"{z}","hash":"{z}","record":{{}}}}"#),
        r#"{"type":"checkpoint"}"#.into(),
    ] {
        assert!(parse_line(&bad).is_err(), "{bad}");
    }
}

#[test]
fn signing_key_round_trips_and_hides_secrets() {
    for alg in [SignatureAlgorithm::Sm2, SignatureAlgorithm::EcdsaP256] {
        let key = AuditSigningKey::generate(alg).unwrap();
        assert_eq!(key.algorithm(), alg);
        let bytes = key.to_bytes();
        assert_eq!(
            bytes.expose()[0],
            if alg == SignatureAlgorithm::Sm2 { 1 } else { 2 }
        );
        let again = AuditSigningKey::from_bytes(bytes.expose()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let debug = format!("{key:?}");
        assert!(
            debug.contains(&key.public_key().key_id())
                && !debug.contains(&hex::encode(bytes.expose()))
        );
        let pem = key.public_key().to_pem().unwrap();
        let pk = AuditPublicKey::from_pem(&pem).unwrap();
        assert_eq!(pk.algorithm(), alg);
        assert_eq!(pk.key_id().len(), 16);
        assert_eq!(pk.key_id(), key.public_key().key_id());
        let cp = key
            .sign_checkpoint(ChainAlgorithm::Sm3, 0, &[0; 32], &GENESIS, 5)
            .unwrap();
        cp.verify(&pk).unwrap();
        assert_eq!(cp.signature_algorithm, alg.name());
        assert!(
            cp.signed_text()
                .starts_with("yaoshi audit checkpoint v1\n0\n")
        );
        assert!(AuditSigningKey::from_bytes(&[]).is_err());
        assert!(AuditSigningKey::from_bytes(&[9, 1, 2]).is_err());
        assert!(AuditSigningKey::from_bytes(&bytes.expose()[..20]).is_err());
        let mut wrong_tag = bytes.expose().to_vec();
        wrong_tag[0] = 3 - wrong_tag[0];
        assert!(AuditSigningKey::from_bytes(&wrong_tag).is_err());
    }
    assert!(
        AuditPublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
            .is_err()
    );
    assert!(AuditPublicKey::from_pem("garbage").is_err());
    assert_eq!(
        SignatureAlgorithm::from_name("sm2").unwrap(),
        SignatureAlgorithm::Sm2
    );
    assert_eq!(
        SignatureAlgorithm::from_name("ecdsa-p256-sha256").unwrap(),
        SignatureAlgorithm::EcdsaP256
    );
    assert!(SignatureAlgorithm::from_name("rsa").is_err());
}

mod fuzzish {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn parse_line_never_panics(s in ".{0,300}") {
            let _ = parse_line(&s);
        }

        #[test]
        fn mutated_exports_never_panic_and_never_verify(
            pos in any::<usize>(),
            byte in any::<u8>(),
        ) {
            let key = AuditSigningKey::generate(SignatureAlgorithm::EcdsaP256).unwrap();
            let log = Log::new(ChainAlgorithm::Sha256, 12);
            let mut text = join(&log.export(&key, 1, 4)).into_bytes();
            let i = pos % text.len();
            let original = text[i];
            text[i] = byte;
            let result = verify_export(&text[..], &key.public_key(), None);
            // Every change to any byte is detected.
            prop_assert!(byte == original || result.is_err(), "edit at {}: {:?} -> {:?}", i, original as char, byte as char);
        }
    }
}
