//! Arbitrary bytes through the server's request decoding: the JSON body,
//! every typed getter on a few field names (batches recursively), the query
//! string merge, path segmentation, percent-decoding, durations and base64.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yaoshi_server::app::segments;
use yaoshi_server::wire::params::{decode_base64, parse_duration, percent_decode};
use yaoshi_server::wire::{ApiError, Params};

const FIELDS: [&str; 8] = [
    "plaintext",
    "ciphertext",
    "batch_input",
    "key_version",
    "exportable",
    "auto_rotate_period",
    "labels",
    "",
];

fn check(e: &ApiError) {
    assert!((400..500).contains(&e.status), "{e:?}");
    assert!(!e.errors.is_empty() && !e.errors[0].is_empty(), "{e:?}");
}

fn exercise(p: &Params, depth: usize) {
    for name in FIELDS {
        let _ = p.has(name);
        let results = [
            p.str(name).map(drop),
            p.bool(name).map(drop),
            p.int(name).map(drop),
            p.duration_secs(name).map(drop),
            p.base64(name).map(drop),
            p.str_list(name).map(drop),
            p.str_map(name).map(drop),
        ];
        for r in &results {
            if let Err(e) = r {
                check(e);
            }
        }
        match p.batch(name) {
            Ok(Some(items)) => {
                assert!(!items.is_empty());
                if depth < 2 {
                    for item in &items {
                        exercise(item, depth + 1);
                    }
                }
            }
            Ok(None) => {}
            Err(e) => check(&e),
        }
    }
    let _ = p.unknown(&FIELDS);
}

fuzz_target!(|data: &[u8]| {
    match Params::from_body(data) {
        Ok(mut p) => {
            exercise(&p, 0);
            let text = String::from_utf8_lossy(data);
            p.merge_query(&text);
            exercise(&p, 0);
        }
        Err(e) => check(&e),
    }
    let text = String::from_utf8_lossy(data);
    match segments(&text) {
        Ok(segs) => {
            for s in &segs {
                assert!(!s.is_empty() && s != "." && s != "..");
                assert!(!s.chars().any(char::is_control));
            }
        }
        Err(e) => check(&e),
    }
    let _ = percent_decode(&text);
    let _ = parse_duration(&text);
    let _ = decode_base64(&text);
});
