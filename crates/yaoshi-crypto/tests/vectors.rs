//! Official test vectors for the SM algorithms: GB/T 32905 (SM3), GB/T 32907
//! (SM4, including the 1,000,000-round example) and RFC 8998 (SM4-GCM and
//! SM4-CCM). The GB/T 32918 SM2 examples, which need a fixed nonce, are unit
//! tests beside the code in `src/sm2/`.

use yaoshi_crypto::aead::{AeadAlgorithm, AeadKey};
use yaoshi_crypto::hash::{self, HashAlgorithm};
use yaoshi_crypto::sm4;

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("valid hex in test vector")
}

#[test]
fn sm3_gbt32905_example_1_abc() {
    assert_eq!(
        hex::encode(hash::digest(HashAlgorithm::Sm3, b"abc")),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
}

#[test]
fn sm3_gbt32905_example_2_512_bits() {
    let message = b"abcd".repeat(16);
    assert_eq!(
        hex::encode(hash::digest(HashAlgorithm::Sm3, &message)),
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    );
}

#[test]
fn sm3_incremental_matches_one_shot() {
    let message = b"abcd".repeat(1000);
    let mut hasher = hash::Hasher::new(HashAlgorithm::Sm3);
    for chunk in message.chunks(37) {
        hasher.update(chunk);
    }
    assert_eq!(hasher.finish(), hash::digest(HashAlgorithm::Sm3, &message));
}

const SM4_EXAMPLE_KEY: &str = "0123456789abcdeffedcba9876543210";

#[test]
fn sm4_gbt32907_example_1() {
    let key = unhex(SM4_EXAMPLE_KEY);
    let block: [u8; 16] = unhex(SM4_EXAMPLE_KEY).try_into().unwrap();
    let ciphertext = sm4::encrypt_block(&key, &block).unwrap();
    assert_eq!(hex::encode(ciphertext), "681edf34d206965e86b3e94f536e4246");
    assert_eq!(sm4::decrypt_block(&key, &ciphertext).unwrap(), block);
}

#[test]
fn sm4_gbt32907_example_2_one_million_rounds() {
    let key = unhex(SM4_EXAMPLE_KEY);
    let block: [u8; 16] = unhex(SM4_EXAMPLE_KEY).try_into().unwrap();
    let ciphertext = sm4::encrypt_block_repeated(&key, &block, 1_000_000).unwrap();
    assert_eq!(hex::encode(ciphertext), "595298c7c6fd271f0402f804c33d3f66");
}

/// RFC 8998 Appendix A common inputs.
const RFC8998_KEY: &str = "0123456789ABCDEFFEDCBA9876543210";
const RFC8998_IV: &str = "00001234567800000000ABCD";
const RFC8998_AAD: &str = "FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2";
const RFC8998_PLAINTEXT: &str = concat!(
    "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
    "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
);

#[test]
fn sm4_gcm_rfc8998_appendix_a1() {
    let key = AeadKey::new(AeadAlgorithm::Sm4Gcm, &unhex(RFC8998_KEY)).unwrap();
    let expected = concat!(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735",
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
        "83DE3541E4C2B58177E065A9BF7B62EC"
    );
    let sealed = key
        .seal(
            &unhex(RFC8998_IV),
            &unhex(RFC8998_AAD),
            &unhex(RFC8998_PLAINTEXT),
        )
        .unwrap();
    assert_eq!(hex::encode_upper(&sealed), expected);
    let opened = key
        .open(&unhex(RFC8998_IV), &unhex(RFC8998_AAD), &sealed)
        .unwrap();
    assert_eq!(opened.expose(), unhex(RFC8998_PLAINTEXT));
}

#[test]
fn sm4_ccm_rfc8998_appendix_a2() {
    let expected = concat!(
        "48AF93501FA62ADBCD414CCE6034D895DDA1BF8F132F042098661572E7483094",
        "FD12E518CE062C98ACEE28D95DF4416BED31A2F04476C18BB40C84A74B97DC5B",
        "16842D4FA186F56AB33256971FA110F4"
    );
    let key = unhex(RFC8998_KEY);
    let sealed = sm4::ccm_seal(
        &key,
        &unhex(RFC8998_IV),
        &unhex(RFC8998_AAD),
        &unhex(RFC8998_PLAINTEXT),
    )
    .unwrap();
    assert_eq!(hex::encode_upper(&sealed), expected);
    let opened = sm4::ccm_open(&key, &unhex(RFC8998_IV), &unhex(RFC8998_AAD), &sealed).unwrap();
    assert_eq!(opened.expose(), unhex(RFC8998_PLAINTEXT));
}
