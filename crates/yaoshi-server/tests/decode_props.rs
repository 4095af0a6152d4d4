//! Property tests over the request decoding the fuzz targets exercise
//! (`fuzz/fuzz_targets/request_decoding.rs`, `ciphertext_parsing.rs`), so CI
//! covers them without a nightly toolchain: arbitrary bytes never panic,
//! every refusal is a 400 with a message, and well-formed input decodes to
//! what was encoded.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use yaoshi_server::app::segments;
use yaoshi_server::wire::ApiError;
use yaoshi_server::wire::Params;
use yaoshi_server::wire::params::{decode_base64, parse_duration, percent_decode};

const CASES: u32 = 2000;
const FIELDS: [&str; 6] = [
    "plaintext",
    "batch_input",
    "key_version",
    "exportable",
    "a",
    "",
];

fn assert_client_error(e: &ApiError) {
    assert_eq!(e.status, 400, "{e:?}");
    assert!(
        e.errors.len() == 1 && !e.errors[0].trim().is_empty(),
        "{e:?}"
    );
}

/// Runs every typed getter on every field; refusals must be clean 400s.
fn exercise(p: &Params) {
    for name in FIELDS {
        let results = [
            p.str(name).map(|_| ()),
            p.bool(name).map(|_| ()),
            p.int(name).map(|_| ()),
            p.duration_secs(name).map(|_| ()),
            p.base64(name).map(|_| ()),
            p.str_list(name).map(|_| ()),
            p.str_map(name).map(|_| ()),
            p.batch(name).map(|b| {
                if let Some(items) = b {
                    assert!(!items.is_empty(), "an empty batch must be refused");
                    items.iter().for_each(exercise);
                }
            }),
        ];
        for r in results {
            if let Err(e) = r {
                assert_client_error(&e);
            }
        }
    }
}

/// JSON values a few levels deep with Vault-ish scalars.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        prop::collection::vec(any::<u8>(), 0..24).prop_map(|b| json!(STANDARD.encode(b))),
        prop_oneof![
            Just("true"),
            Just("0"),
            Just("-1"),
            Just("1h30m"),
            Just("a,b")
        ]
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![Just("plaintext".to_string()), ".{0,6}"],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(
        prop::sample::select(FIELDS.to_vec()).prop_map(str::to_string),
        json_value(),
        0..6,
    )
    .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bodies_decode_or_are_refused_cleanly(body in prop::collection::vec(any::<u8>(), 0..256)) {
        match Params::from_body(&body) {
            Ok(p) => exercise(&p),
            Err(e) => {
                assert_client_error(&e);
                prop_assert!(e.errors[0].starts_with("failed to decode JSON input"));
            }
        }
    }

    #[test]
    fn json_objects_always_decode(fields in json_object()) {
        let body = Value::Object(fields.clone()).to_string();
        let p = Params::from_body(body.as_bytes()).expect("an object is a valid body");
        exercise(&p);
        for (name, value) in &fields {
            match value {
                Value::String(s) => prop_assert_eq!(p.str(name).unwrap(), Some(s.clone())),
                Value::Null => prop_assert!(!p.has(name)),
                Value::Array(_) | Value::Object(_) => prop_assert!(p.str(name).is_err()),
                _ => prop_assert!(p.str(name).unwrap().is_some()),
            }
        }
    }

    #[test]
    fn non_object_json_is_refused(value in json_value()) {
        let body = value.to_string();
        let result = Params::from_body(body.as_bytes());
        match value {
            Value::Object(_) | Value::Null => prop_assert!(result.is_ok()),
            _ => assert_client_error(&result.unwrap_err()),
        }
    }

    #[test]
    fn segments_are_clean_or_refused(raw in "[a-z./%0-9A-F\\x00-\\x1f+\u{80}-\u{10ffff}]{0,40}") {
        match segments(&raw) {
            Ok(segs) => {
                if raw.is_empty() {
                    prop_assert!(segs.is_empty());
                } else {
                    prop_assert_eq!(segs.len(), raw.split('/').count());
                }
                for s in &segs {
                    prop_assert!(!s.is_empty() && s != "." && s != "..", "{s:?}");
                    prop_assert!(!s.chars().any(char::is_control), "{s:?}");
                }
            }
            Err(e) => assert_client_error(&e),
        }
    }

    #[test]
    fn percent_decoding_inverts_encoding(text in "\\PC{0,24}") {
        let encoded: String = text
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect();
        prop_assert_eq!(percent_decode(&encoded), text.clone());
        if !text.contains(['%', '+']) {
            prop_assert_eq!(percent_decode(&text), text);
        }
    }

    #[test]
    fn percent_decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let text = String::from_utf8_lossy(&bytes);
        let decoded = percent_decode(&text);
        // Decoding only ever shrinks (escapes) or keeps bytes, bar U+FFFD
        // replacements of invalid UTF-8 (3 bytes for at most 3 input bytes).
        prop_assert!(decoded.len() <= text.len() * 3);
    }

    #[test]
    fn durations_add_up(h in 0u64..10_000, m in 0u64..10_000, s in 0u64..10_000) {
        prop_assert_eq!(parse_duration(&format!("{h}h{m}m{s}s")), Some(h * 3600 + m * 60 + s));
        prop_assert_eq!(parse_duration(&format!("{s}")), Some(s));
        prop_assert_eq!(parse_duration(&format!("{s}x")), None);
    }

    #[test]
    fn durations_never_panic(text in "[0-9hmsd .x-]{0,30}") {
        if let Some(secs) = parse_duration(&text) {
            prop_assert!(text.trim().is_empty() || text.chars().any(|c| c.is_ascii_digit()) , "{text:?} -> {secs}");
        }
    }

    #[test]
    fn base64_round_trips_with_or_without_padding(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        prop_assert_eq!(decode_base64(&STANDARD.encode(&bytes)), Some(bytes.clone()));
        prop_assert_eq!(decode_base64(&STANDARD_NO_PAD.encode(&bytes)), Some(bytes.clone()));
        let padded = STANDARD.encode(&bytes);
        // An extra '=' is never accepted.
        prop_assert_eq!(decode_base64(&format!("{padded}=")), None);
    }

    #[test]
    fn versioned_strings_round_trip(version in 1i64..i64::MAX, payload in prop::collection::vec(any::<u8>(), 0..64)) {
        let text = yaoshi_core::key::versioned::format(version, &payload);
        prop_assert_eq!(
            yaoshi_core::key::versioned::parse(&text, "ciphertext").unwrap(),
            (version, payload)
        );
    }

    #[test]
    fn versioned_parsing_never_panics(text in "(vault:v)?[0-9x-]{0,22}:?[A-Za-z0-9+/=:!]{0,40}") {
        if let Ok((version, payload)) = yaoshi_core::key::versioned::parse(&text, "ciphertext") {
            prop_assert!(version >= 1);
            let round = yaoshi_core::key::versioned::format(version, &payload);
            prop_assert_eq!(
                yaoshi_core::key::versioned::parse(&round, "ciphertext").unwrap(),
                (version, payload)
            );
        }
    }
}
