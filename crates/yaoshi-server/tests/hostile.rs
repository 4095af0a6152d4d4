//! Hostile input against a live dev server.
//!
//! Every malformed, forged, truncated, oversized or tricky request must be
//! answered with a 4xx and Vault's `{"errors": [message]}` (a plain
//! `{"errors": []}` only for a missing key), never a 5xx and never a crash;
//! no response may echo the root token or a plaintext that was sent; and
//! after the barrage the server still answers normally.
//!
//! Requests are written by hand over TCP so that paths reach the server
//! exactly as written (no client-side normalisation of `..` or `%2e`) and so
//! that framing can lie (Content-Length, chunked bodies, bogus methods).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use yaoshi_server::{DevSettings, RunningServer, ServerSettings};

/// The dev root token: distinctive, so a leak is easy to spot.
const TOKEN: &str = "hostile-root-token-5c1e0d7b9a";
/// A plaintext sent in many hostile requests and never to be echoed.
const MARKER: &[u8] = b"PLAINTEXT-MARKER-never-echo-3f9d1c";
/// Upper bound for any single exchange.
const IO_LIMIT: Duration = Duration::from_secs(120);
/// Requests in flight at once while running the table.
const PARALLEL: usize = 8;

/// Key names by type, created before the barrage.
const AES: &str = "h-aes256";
const SM4: &str = "h-sm4";
const SM2: &str = "h-sm2";
const P256: &str = "h-p256";
const ED25519: &str = "h-ed25519";
const RSA: &str = "h-rsa2048";
const HMAC: &str = "h-hmac";
const KEYS: [(&str, &str); 7] = [
    (AES, "aes256-gcm96"),
    (SM4, "sm4-gcm96"),
    (SM2, "sm2"),
    (P256, "ecdsa-p256"),
    (ED25519, "ed25519"),
    (RSA, "rsa-2048"),
    (HMAC, "hmac"),
];

async fn dev_server() -> RunningServer {
    yaoshi_server::start(ServerSettings {
        listen: "127.0.0.1:0".parse().expect("loopback address"),
        dev: Some(DevSettings {
            root_token: Some(TOKEN.into()),
        }),
        ..Default::default()
    })
    .await
    .expect("dev server starts")
}

// ---------------------------------------------------------------------------
// A raw HTTP/1.1 client.

/// One parsed response.
#[derive(Debug)]
struct Response {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Response {
    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.body).into_owned();
        if s.len() > 300 {
            let mut cut = 300;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            s.push_str("...");
        }
        s
    }
}

/// A request with `Connection: close` and a Content-Length.
fn request(method: &str, target: &str, body: &[u8], token: Option<&str>) -> Vec<u8> {
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(token) = token {
        head.push_str(&format!("X-Vault-Token: {token}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Sends `bytes` as they are and reads until the server closes. The write
/// runs beside the read, and write errors are ignored: the server may
/// answer (413) and close before it has read everything. The write half is
/// held open until the answer is in, so the server never sees a half-close.
async fn exchange(addr: SocketAddr, bytes: Vec<u8>) -> Result<Response, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut reader, mut writer) = stream.into_split();
    let write = tokio::spawn(async move {
        let _ = writer.write_all(&bytes).await;
        let _ = writer.flush().await;
        writer
    });
    let mut buf = Vec::new();
    let read = tokio::time::timeout(IO_LIMIT, reader.read_to_end(&mut buf)).await;
    let writer = tokio::time::timeout(IO_LIMIT, write).await;
    drop(writer);
    match read {
        Err(_) => return Err("timed out waiting for the answer".into()),
        // A reset after the answer arrived is fine (the server closed on an
        // unread body); parse whatever came.
        Ok(Err(e)) if buf.is_empty() => return Err(format!("read: {e}")),
        Ok(_) => {}
    }
    parse_response(&buf)
}

fn parse_response(buf: &[u8]) -> Result<Response, String> {
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no header end in {:?}", String::from_utf8_lossy(buf)))?;
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let rest = &buf[split + 4..];
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line in {head:?}"))?;
    let lower = head.to_ascii_lowercase();
    let header = |name: &str| {
        lower
            .lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
    };
    let body = if header("transfer-encoding:").is_some_and(|v| v.contains("chunked")) {
        dechunk(rest)?
    } else if let Some(len) = header("content-length:").and_then(|v| v.parse::<usize>().ok()) {
        rest.get(..len)
            .ok_or_else(|| format!("body shorter than its content-length {len}"))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response { status, head, body })
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    // Each round consumes at least one line, so the input length bounds it.
    for _ in 0..=rest.len() {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("unterminated chunk size")?;
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(rest.get(..size).ok_or("chunk shorter than its size")?);
        rest = rest.get(size + 2..).ok_or("chunk without its CRLF")?;
    }
    Err("too many chunks".into())
}

/// An authenticated JSON request.
async fn call(addr: SocketAddr, method: &str, path: &str, body: &Value) -> Response {
    let body = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    exchange(
        addr,
        request(method, &format!("/v1/{path}"), &body, Some(TOKEN)),
    )
    .await
    .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// `data.<field>` of a successful JSON request, as a string.
async fn data_str(addr: SocketAddr, method: &str, path: &str, body: Value, field: &str) -> String {
    let r = call(addr, method, path, &body).await;
    assert_eq!(r.status, 200, "{method} {path}: {}", r.text());
    r.json()
        .and_then(|v| v["data"][field].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("{method} {path}: no data.{field} in {}", r.text()))
}

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Deterministic filler bytes (xorshift), so failures reproduce.
fn junk(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Payload bytes of a `vault:vN:<b64>` value.
fn payload(versioned: &str) -> Vec<u8> {
    let b64_part = versioned.splitn(3, ':').nth(2).expect("vault:vN:payload");
    STANDARD.decode(b64_part).expect("payload is base64")
}

// ---------------------------------------------------------------------------
// The table.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// This exact status; a 4xx must carry a non-empty message.
    Status(u16),
    /// This status, and the first message contains the text.
    StatusWith(u16, &'static str),
    /// Vault's plain 404: `{"errors": []}`.
    PlainNotFound,
    /// Any 4xx with a message.
    ClientError,
    /// A signature or HMAC that must not verify: 400 with a message, or 200
    /// with `valid: false`.
    Rejected,
    /// 200 with `valid: true` (the unforged controls).
    Valid,
    /// This status, with `n` batch results that all carry an error.
    BatchErrors(u16, usize),
}

struct Case {
    label: String,
    method: String,
    target: String,
    body: Vec<u8>,
    token: bool,
    expect: Expect,
}

#[derive(Default)]
struct Table {
    cases: Vec<Case>,
}

impl Table {
    /// An authenticated request; `path` goes after `/v1/` exactly as given.
    fn raw(
        &mut self,
        label: impl Into<String>,
        method: &str,
        path: &str,
        body: Vec<u8>,
        expect: Expect,
    ) {
        self.cases.push(Case {
            label: label.into(),
            method: method.into(),
            target: format!("/v1/{path}"),
            body,
            token: true,
            expect,
        });
    }

    /// An authenticated POST with a JSON body.
    fn post(&mut self, label: impl Into<String>, path: &str, body: Value, expect: Expect) {
        self.raw(label, "POST", path, body.to_string().into_bytes(), expect);
    }

    /// A request without a token.
    fn anonymous(&mut self, label: &str, method: &str, path: &str, expect: Expect) {
        self.cases.push(Case {
            label: label.into(),
            method: method.into(),
            target: format!("/v1/{path}"),
            body: Vec::new(),
            token: false,
            expect,
        });
    }
}

/// Why a response breaks the rules, if it does.
fn judge(case: &Case, r: &Response) -> Option<String> {
    let secrets = [
        TOKEN.as_bytes().to_vec(),
        MARKER.to_vec(),
        b64(MARKER).into_bytes(),
    ];
    let whole = [r.head.as_bytes(), &r.body].concat();
    for secret in &secrets {
        if whole.windows(secret.len()).any(|w| w == secret.as_slice()) {
            return Some(format!(
                "echoes a secret {:?}",
                String::from_utf8_lossy(secret)
            ));
        }
    }
    if r.status >= 500 {
        return Some(format!("server error {}: {}", r.status, r.text()));
    }
    let json = r.json();
    let messages = || -> Option<Vec<String>> {
        let errors = json.as_ref()?.get("errors")?.as_array()?;
        errors
            .iter()
            .map(|e| e.as_str().map(str::to_string))
            .collect()
    };
    let has_message =
        || messages().is_some_and(|m| !m.is_empty() && m.iter().all(|s| !s.trim().is_empty()));
    let client_error_ok = |status: u16| -> Option<String> {
        if r.status != status {
            return Some(format!(
                "status {} (expected {status}): {}",
                r.status,
                r.text()
            ));
        }
        if (400..500).contains(&status) && !has_message() {
            return Some(format!("{status} without an error message: {}", r.text()));
        }
        None
    };
    let valid = || json.as_ref().and_then(|v| v["data"]["valid"].as_bool());
    match case.expect {
        Expect::Status(status) => client_error_ok(status),
        Expect::StatusWith(status, text) => client_error_ok(status).or_else(|| {
            let first = messages()
                .and_then(|m| m.first().cloned())
                .unwrap_or_default();
            (!first.contains(text)).then(|| format!("message {first:?} lacks {text:?}"))
        }),
        Expect::PlainNotFound => {
            let plain = messages().is_some_and(|m| m.is_empty());
            (r.status != 404 || !plain)
                .then(|| format!("expected a plain 404, got {}: {}", r.status, r.text()))
        }
        Expect::ClientError => {
            if !(400..500).contains(&r.status) {
                Some(format!("status {} (expected 4xx): {}", r.status, r.text()))
            } else if !has_message() {
                Some(format!(
                    "{} without an error message: {}",
                    r.status,
                    r.text()
                ))
            } else {
                None
            }
        }
        Expect::Rejected => match r.status {
            400 if has_message() => None,
            200 if valid() == Some(false) => None,
            _ => Some(format!("not rejected: {} {}", r.status, r.text())),
        },
        Expect::Valid => (r.status != 200 || valid() != Some(true))
            .then(|| format!("control did not verify: {} {}", r.status, r.text())),
        Expect::BatchErrors(status, n) => {
            if r.status != status {
                return Some(format!(
                    "status {} (expected {status}): {}",
                    r.status,
                    r.text()
                ));
            }
            let results = json
                .as_ref()
                .and_then(|v| v["data"]["batch_results"].as_array().cloned())
                .unwrap_or_default();
            let failed = results
                .iter()
                .filter(|item| item["error"].as_str().is_some_and(|e| !e.is_empty()))
                .count();
            (results.len() != n || failed != n).then(|| {
                format!(
                    "{} batch results, {failed} with an error (expected {n} failures)",
                    results.len()
                )
            })
        }
    }
}

/// Runs every case (a few at a time) and returns every offender.
async fn run_table(addr: SocketAddr, table: Table) -> Vec<String> {
    let mut failures = Vec::new();
    let mut cases = table.cases.into_iter().peekable();
    while cases.peek().is_some() {
        let mut set = tokio::task::JoinSet::new();
        for case in cases.by_ref().take(PARALLEL) {
            set.spawn(async move {
                let token = case.token.then_some(TOKEN);
                let bytes = request(&case.method, &case.target, &case.body, token);
                let verdict = match exchange(addr, bytes).await {
                    Ok(r) => judge(&case, &r),
                    Err(e) => Some(format!("no answer: {e}")),
                };
                verdict.map(|why| {
                    let target: String = case.target.chars().take(120).collect();
                    format!("[{}] {} {target}: {why}", case.label, case.method)
                })
            });
        }
        while let Some(done) = set.join_next().await {
            if let Some(failure) = done.expect("case task") {
                failures.push(failure);
            }
        }
    }
    failures
}

/// Health is 200 and an encrypt/decrypt round trip works.
async fn assert_still_serving(addr: SocketAddr) {
    let health = call(addr, "GET", "sys/health", &Value::Null).await;
    assert_eq!(
        health.status,
        200,
        "health after the barrage: {}",
        health.text()
    );
    assert_eq!(health.json().expect("health JSON")["sealed"], json!(false));
    let plaintext = b"still alive after the barrage";
    let ct = data_str(
        addr,
        "POST",
        &format!("transit/encrypt/{AES}"),
        json!({"plaintext": b64(plaintext)}),
        "ciphertext",
    )
    .await;
    let pt = data_str(
        addr,
        "POST",
        &format!("transit/decrypt/{AES}"),
        json!({"ciphertext": ct}),
        "plaintext",
    )
    .await;
    assert_eq!(STANDARD.decode(pt).expect("base64 plaintext"), plaintext);
}

// ---------------------------------------------------------------------------
// Table rows.

/// Material made by the live server: real ciphertexts and signatures.
struct Real {
    ciphertexts: Vec<(&'static str, String)>,
    signatures: Vec<(&'static str, String)>,
    hmac: String,
    input: String,
    /// An AES ciphertext of something other than [`MARKER`], as the base
    /// of the wrong-type decrypt rows (so a wrongly accepted row is not
    /// mistaken for an echo).
    other_ciphertext: String,
}

async fn prepare(addr: SocketAddr) -> Real {
    for (name, key_type) in KEYS {
        let r = call(
            addr,
            "POST",
            &format!("transit/keys/{name}"),
            &json!({"type": key_type}),
        )
        .await;
        assert_eq!(r.status, 200, "create {name}: {}", r.text());
    }
    let mut ciphertexts = Vec::new();
    for name in [AES, SM4, SM2, RSA] {
        let ct = data_str(
            addr,
            "POST",
            &format!("transit/encrypt/{name}"),
            json!({"plaintext": b64(MARKER)}),
            "ciphertext",
        )
        .await;
        ciphertexts.push((name, ct));
    }
    let input = b64(b"signed message");
    let mut signatures = Vec::new();
    for name in [SM2, P256, ED25519, RSA] {
        let sig = data_str(
            addr,
            "POST",
            &format!("transit/sign/{name}"),
            json!({"input": input}),
            "signature",
        )
        .await;
        signatures.push((name, sig));
    }
    let hmac = data_str(
        addr,
        "POST",
        &format!("transit/hmac/{HMAC}"),
        json!({"input": input}),
        "hmac",
    )
    .await;
    let other_ciphertext = data_str(
        addr,
        "POST",
        &format!("transit/encrypt/{AES}"),
        json!({"plaintext": b64(b"wrong-type base")}),
        "ciphertext",
    )
    .await;
    Real {
        other_ciphertext,
        ciphertexts,
        signatures,
        hmac,
        input,
    }
}

/// Endpoints taking a JSON body, for the malformed-body rows.
fn json_endpoints() -> Vec<String> {
    [
        format!("transit/encrypt/{AES}"),
        format!("transit/decrypt/{AES}"),
        format!("transit/rewrap/{AES}"),
        format!("transit/sign/{P256}"),
        format!("transit/verify/{P256}"),
        format!("transit/hmac/{HMAC}"),
        "transit/keys/h-new".to_string(),
        format!("transit/keys/{AES}/config"),
        format!("transit/keys/{AES}/trim"),
        format!("transit/datakey/plaintext/{AES}"),
        "transit/hash".to_string(),
        "transit/random".to_string(),
        "transit/restore".to_string(),
        "transit/keys/h-imp/import".to_string(),
        "sys/mounts/other".to_string(),
        "auth/token/create".to_string(),
    ]
    .into()
}

fn malformed_bodies(t: &mut Table) {
    let deep_arrays = "[".repeat(100_000);
    let deep_closed = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_objects = format!("{}1{}", r#"{"a":"#.repeat(50_000), "}".repeat(50_000));
    let deep_in_field = format!(r#"{{"plaintext":{}}}"#, "[".repeat(100_000));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("truncated object", br#"{"plaintext":"aGk="#.to_vec()),
        ("lone brace", b"{".to_vec()),
        ("array", br#"[{"plaintext":"aGk="}]"#.to_vec()),
        ("empty array", b"[]".to_vec()),
        ("string", br#""plaintext""#.to_vec()),
        ("number", b"42".to_vec()),
        ("float", b"-1.5e300".to_vec()),
        ("boolean", b"true".to_vec()),
        ("invalid utf-8", b"\xff\xfe\xfd".to_vec()),
        (
            "invalid utf-8 in a string",
            b"{\"plaintext\":\"\xc3\x28\"}".to_vec(),
        ),
        ("nul byte", b"\x00".to_vec()),
        ("bom", b"\xef\xbb\xbf{}".to_vec()),
        ("trailing garbage", br#"{"a":1} x"#.to_vec()),
        ("two objects", br#"{}{}"#.to_vec()),
        ("trailing comma", br#"{"a":1,}"#.to_vec()),
        ("single quotes", b"{'a':1}".to_vec()),
        ("unquoted key", b"{a:1}".to_vec()),
        ("lone surrogate", br#"{"a":"\ud800"}"#.to_vec()),
        ("number out of range", br#"{"a":1e400}"#.to_vec()),
        ("deep arrays 100k", deep_arrays.into_bytes()),
        ("deep closed arrays 100k", deep_closed.into_bytes()),
        ("deep objects 50k", deep_objects.into_bytes()),
        ("deep arrays in a field", deep_in_field.into_bytes()),
    ];
    for path in json_endpoints() {
        for (what, body) in &bodies {
            // serde_json's recursion limit answers the deep ones.
            let expect = if what.starts_with("deep") {
                Expect::StatusWith(400, "recursion limit exceeded")
            } else {
                Expect::Status(400)
            };
            t.raw(
                format!("malformed body: {what}"),
                "POST",
                &path,
                body.clone(),
                expect,
            );
        }
    }
}

/// A wrong value for a field of one of Vault's types.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Bool,
    Int,
    Duration,
    Base64,
    Batch,
}

fn wrong_values(kind: Kind) -> Vec<Value> {
    let mut values = vec![json!({"nested": "object"}), json!([true]), json!([[]])];
    let more = match kind {
        Kind::Str => vec![],
        Kind::Bool => vec![json!(2), json!(-1), json!(1.5), json!("yes"), json!(1e300)],
        Kind::Int => vec![
            json!(1.5),
            json!(1e300),
            json!(18_446_744_073_709_551_615u64),
            json!(-1e19),
            json!("12abc"),
            json!("0x10"),
            json!(true),
        ],
        Kind::Duration => vec![
            json!(-1),
            json!(1.5),
            json!("5x"),
            json!("-5s"),
            json!("h"),
            json!(true),
        ],
        Kind::Base64 => vec![
            json!("!!!!"),
            json!("a"),
            json!("===="),
            json!("aGVsbG8=!"),
            json!("aGVs\u{0}bG8="),
            json!(12345),
            json!(-1),
            json!(1.5),
            json!("\u{1F511}\u{1F511}\u{1F511}\u{1F511}"),
        ],
        Kind::Batch => vec![
            json!({}),
            json!("garbage"),
            json!(5),
            json!(true),
            json!("[[["),
            json!([]),
        ],
    };
    values.extend(more);
    values
}

/// A path, a body that is valid apart from the field under test, and the
/// fields the endpoint reads with their types.
type Endpoint = (String, Value, Vec<(&'static str, Kind)>);

fn wrong_types(t: &mut Table, real: &Real) {
    use Kind::*;
    let ct = real.other_ciphertext.clone();
    let sig = real.signatures[1].1.clone();
    let plaintext = b64(MARKER);
    let endpoints: Vec<Endpoint> = vec![
        (
            format!("transit/encrypt/{AES}"),
            json!({"plaintext": plaintext}),
            vec![
                ("plaintext", Base64),
                ("context", Base64),
                ("associated_data", Base64),
                ("key_version", Int),
                ("nonce", Str),
                ("type", Str),
                ("convergent_encryption", Bool),
                ("batch_input", Batch),
            ],
        ),
        (
            format!("transit/decrypt/{AES}"),
            json!({"ciphertext": ct}),
            vec![
                ("ciphertext", Str),
                ("context", Base64),
                ("associated_data", Base64),
                ("nonce", Str),
                ("batch_input", Batch),
            ],
        ),
        (
            format!("transit/rewrap/{AES}"),
            json!({"ciphertext": ct}),
            vec![
                ("ciphertext", Str),
                ("context", Base64),
                ("nonce", Str),
                ("key_version", Int),
            ],
        ),
        (
            format!("transit/sign/{P256}"),
            json!({"input": real.input}),
            vec![
                ("input", Base64),
                ("key_version", Int),
                ("hash_algorithm", Str),
                ("algorithm", Str),
                ("prehashed", Bool),
                ("signature_algorithm", Str),
                ("marshaling_algorithm", Str),
                ("salt_length", Str),
                ("signer_id", Str),
                ("batch_input", Batch),
            ],
        ),
        (
            format!("transit/verify/{P256}"),
            json!({"input": real.input, "signature": sig}),
            vec![
                ("input", Base64),
                ("signature", Str),
                ("hmac", Str),
                ("hash_algorithm", Str),
                ("prehashed", Bool),
                ("marshaling_algorithm", Str),
                ("batch_input", Batch),
            ],
        ),
        (
            format!("transit/hmac/{HMAC}"),
            json!({"input": real.input}),
            vec![
                ("input", Base64),
                ("key_version", Int),
                ("algorithm", Str),
                ("batch_input", Batch),
            ],
        ),
        (
            "transit/keys/h-typed".to_string(),
            json!({"type": "aes256-gcm96"}),
            vec![
                ("type", Str),
                ("exportable", Bool),
                ("allow_plaintext_backup", Bool),
                ("derived", Bool),
                ("convergent_encryption", Bool),
                ("auto_rotate_period", Duration),
                ("key_size", Int),
            ],
        ),
        (
            format!("transit/keys/{AES}/config"),
            json!({}),
            vec![
                ("min_decryption_version", Int),
                ("min_encryption_version", Int),
                ("deletion_allowed", Bool),
                ("exportable", Bool),
                ("allow_plaintext_backup", Bool),
                ("auto_rotate_period", Duration),
            ],
        ),
        (
            format!("transit/keys/{AES}/trim"),
            json!({"min_available_version": 1}),
            vec![("min_available_version", Int)],
        ),
        (
            format!("transit/datakey/wrapped/{AES}"),
            json!({}),
            vec![
                ("bits", Int),
                ("key_version", Int),
                ("context", Base64),
                ("associated_data", Base64),
                ("nonce", Str),
            ],
        ),
        (
            "transit/random".to_string(),
            json!({}),
            vec![("bytes", Int), ("format", Str), ("source", Str)],
        ),
        (
            "transit/hash".to_string(),
            json!({"input": real.input}),
            vec![("input", Base64), ("algorithm", Str), ("format", Str)],
        ),
        (
            "transit/restore".to_string(),
            json!({"backup": "AAAA"}),
            vec![("backup", Str), ("name", Str), ("force", Bool)],
        ),
        (
            "transit/keys/h-imp/import".to_string(),
            json!({"ciphertext": b64(&junk(64, 1)), "type": "aes256-gcm96"}),
            vec![
                ("ciphertext", Base64),
                ("hash_function", Str),
                ("type", Str),
                ("allow_rotation", Bool),
                ("exportable", Bool),
                ("wrapping_algorithm", Str),
            ],
        ),
    ];
    for (path, base, fields) in endpoints {
        for (field, kind) in fields {
            for value in wrong_values(kind) {
                let mut body = base.clone();
                body[field] = value.clone();
                t.post(
                    format!("wrong type: {field}={value}"),
                    &path,
                    body,
                    Expect::Status(400),
                );
            }
        }
    }
}

fn forged_and_truncated_ciphertexts(t: &mut Table, real: &Real) {
    for (name, ct) in &real.ciphertexts {
        let path = format!("transit/decrypt/{name}");
        for (i, len) in [
            0usize, 1, 11, 12, 27, 28, 29, 45, 64, 128, 255, 256, 257, 1024,
        ]
        .into_iter()
        .enumerate()
        {
            let forged = format!("vault:v1:{}", b64(&junk(len, i as u64 + 7)));
            t.post(
                format!("forged ciphertext {len} bytes"),
                &path,
                json!({"ciphertext": forged}),
                Expect::Status(400),
            );
        }
        let bytes = payload(ct);
        for n in 0..bytes.len() {
            let cut = format!("vault:v1:{}", b64(&bytes[..n]));
            t.post(
                format!("truncated payload {n}/{}", bytes.len()),
                &path,
                json!({"ciphertext": cut}),
                Expect::Status(400),
            );
        }
        for n in 0..ct.len() {
            t.post(
                format!("truncated string {n}/{}", ct.len()),
                &path,
                json!({"ciphertext": &ct[..n]}),
                Expect::Status(400),
            );
        }
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        t.post(
            "flipped bit",
            &path,
            json!({"ciphertext": format!("vault:v1:{}", b64(&flipped))}),
            Expect::Status(400),
        );
        let b64_part = &ct["vault:v1:".len()..];
        for version in [
            "v0",
            "v-1",
            "v999999999999999999999",
            "vx",
            "v2",
            "v",
            "v+1",
            "v 1",
            "v1.0",
            "v\u{FF11}",
            "V1",
        ] {
            let forged = format!("vault:{version}:{b64_part}");
            t.post(
                format!("version {version}"),
                &path,
                json!({"ciphertext": forged}),
                Expect::Status(400),
            );
            t.post(
                format!("rewrap version {version}"),
                &format!("transit/rewrap/{name}"),
                json!({"ciphertext": forged}),
                Expect::ClientError,
            );
        }
        for (label, text) in [
            ("no prefix", b64_part.to_string()),
            ("other prefix", format!("bao:v1:{b64_part}")),
            ("extra field", format!("vault:v1:{b64_part}:extra")),
            ("spaces", format!(" vault:v1:{b64_part}")),
            (
                "url-safe base64",
                format!("vault:v1:{}", b64_part.replace('+', "-").replace('/', "_")),
            ),
        ] {
            // url-safe base64 only differs when the payload has + or /.
            if label == "url-safe base64" && !b64_part.contains(['+', '/']) {
                continue;
            }
            t.post(
                format!("ciphertext {label}"),
                &path,
                json!({"ciphertext": text}),
                Expect::Status(400),
            );
        }
        // Another key's ciphertext.
        let other = if *name == AES { SM4 } else { AES };
        t.post(
            "ciphertext of another key",
            &format!("transit/decrypt/{other}"),
            json!({"ciphertext": ct}),
            Expect::Status(400),
        );
    }
    for name in [P256, ED25519, HMAC] {
        t.post(
            "decrypt with a non-encryption key",
            &format!("transit/decrypt/{name}"),
            json!({"ciphertext": real.ciphertexts[0].1}),
            Expect::Status(400),
        );
        t.post(
            "encrypt with a non-encryption key",
            &format!("transit/encrypt/{name}"),
            json!({"plaintext": b64(MARKER)}),
            Expect::Status(400),
        );
    }
    t.post(
        "decrypt with a missing key",
        "transit/decrypt/h-missing",
        json!({"ciphertext": real.ciphertexts[0].1}),
        Expect::Status(400),
    );
}

fn forged_and_truncated_signatures(t: &mut Table, real: &Real) {
    for (name, sig) in &real.signatures {
        let path = format!("transit/verify/{name}");
        let input = &real.input;
        t.post(
            "genuine signature",
            &path,
            json!({"input": input, "signature": sig}),
            Expect::Valid,
        );
        for (i, len) in [0usize, 1, 8, 32, 63, 64, 65, 70, 71, 72, 256, 512]
            .into_iter()
            .enumerate()
        {
            let forged = format!("vault:v1:{}", b64(&junk(len, i as u64 + 101)));
            t.post(
                format!("forged signature {len} bytes"),
                &path,
                json!({"input": input, "signature": forged}),
                Expect::Rejected,
            );
        }
        let bytes = payload(sig);
        for n in 0..bytes.len() {
            let cut = format!("vault:v1:{}", b64(&bytes[..n]));
            t.post(
                format!("truncated signature {n}/{}", bytes.len()),
                &path,
                json!({"input": input, "signature": cut}),
                Expect::Rejected,
            );
        }
        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 0x40;
        t.post(
            "flipped signature",
            &path,
            json!({"input": input, "signature": format!("vault:v1:{}", b64(&flipped))}),
            Expect::Rejected,
        );
        t.post(
            "other input",
            &path,
            json!({"input": b64(b"other"), "signature": sig}),
            Expect::Rejected,
        );
        let b64_part = &sig["vault:v1:".len()..];
        for version in ["v0", "v-1", "v999999999999999999999", "vx", "v2"] {
            let forged = format!("vault:{version}:{b64_part}");
            t.post(
                format!("signature version {version}"),
                &path,
                json!({"input": input, "signature": forged}),
                Expect::Status(400),
            );
        }
        t.post(
            "signature and hmac",
            &path,
            json!({"input": input, "signature": sig, "hmac": real.hmac}),
            Expect::Status(400),
        );
        t.post(
            "neither signature nor hmac",
            &path,
            json!({"input": input}),
            Expect::Status(400),
        );
        for field in [
            "signature_algorithm",
            "marshaling_algorithm",
            "salt_length",
            "hash_algorithm",
        ] {
            t.post(
                format!("sign with bogus {field}"),
                &format!("transit/sign/{name}"),
                json!({"input": input, field: "bogus"}),
                Expect::Status(400),
            );
        }
        t.post(
            "sign with a huge key_version",
            &format!("transit/sign/{name}"),
            json!({"input": input, "key_version": 99}),
            Expect::Status(400),
        );
        t.post(
            "sign with a negative key_version",
            &format!("transit/sign/{name}"),
            json!({"input": input, "key_version": -1}),
            Expect::Status(400),
        );
    }
    // HMAC tags.
    let path = format!("transit/verify/{HMAC}");
    let input = &real.input;
    t.post(
        "genuine hmac",
        &path,
        json!({"input": input, "hmac": real.hmac}),
        Expect::Valid,
    );
    let bytes = payload(&real.hmac);
    for n in 0..bytes.len() {
        let cut = format!("vault:v1:{}", b64(&bytes[..n]));
        t.post(
            format!("truncated hmac {n}/{}", bytes.len()),
            &path,
            json!({"input": input, "hmac": cut}),
            Expect::Rejected,
        );
    }
    for (i, len) in [0usize, 1, 31, 32, 33, 64, 1000].into_iter().enumerate() {
        let forged = format!("vault:v1:{}", b64(&junk(len, i as u64 + 501)));
        t.post(
            format!("forged hmac {len} bytes"),
            &path,
            json!({"input": input, "hmac": forged}),
            Expect::Rejected,
        );
    }
    for version in ["v0", "v-1", "v999999999999999999999", "vx", "v2"] {
        let forged = format!("vault:{version}:{}", &real.hmac["vault:v1:".len()..]);
        t.post(
            format!("hmac version {version}"),
            &path,
            json!({"input": input, "hmac": forged}),
            Expect::Status(400),
        );
    }
    for name in [AES, HMAC] {
        t.post(
            "sign with a non-signing key",
            &format!("transit/sign/{name}"),
            json!({"input": input}),
            Expect::Status(400),
        );
    }
    t.post(
        "verify with a missing key",
        "transit/verify/h-missing",
        json!({"input": input, "signature": real.signatures[0].1}),
        Expect::Status(400),
    );
}

fn unknown_names(t: &mut Table, real: &Real) {
    let long = "x".repeat(10_000);
    for key_type in [
        "aes512-gcm96",
        "AES256-GCM96",
        "rsa-1024",
        "sm9",
        "hmac\u{0}",
        "ecdsa-p256 ",
        "des",
        long.as_str(),
    ] {
        t.post(
            format!(
                "unknown key type {}",
                key_type.chars().take(20).collect::<String>()
            ),
            "transit/keys/h-typed",
            json!({"type": key_type}),
            Expect::Status(400),
        );
        t.post(
            "upsert with an unknown key type",
            "transit/encrypt/h-upsert",
            json!({"plaintext": b64(MARKER), "type": key_type}),
            Expect::Status(400),
        );
    }
    t.post(
        "key_size for a non-hmac key",
        "transit/keys/h-typed",
        json!({"type": "aes256-gcm96", "key_size": 32}),
        Expect::Status(400),
    );
    t.post(
        "negative key_size",
        "transit/keys/h-typed",
        json!({"type": "hmac", "key_size": -32}),
        Expect::Status(400),
    );
    t.post(
        "convergent encryption",
        "transit/encrypt/h-aes256",
        json!({"plaintext": b64(MARKER), "convergent_encryption": true}),
        Expect::Status(400),
    );
    t.post(
        "nonce without convergence",
        "transit/encrypt/h-aes256",
        json!({"plaintext": b64(MARKER), "nonce": "AAAAAAAAAAAAAAAA"}),
        Expect::Status(400),
    );
    let input = &real.input;
    for hash in [
        "sha1",
        "md5",
        "sha3-999",
        "bogus",
        "SHA2-256%20",
        "sha2-256%00",
        "%2e%2e",
    ] {
        t.post(
            format!("sign with hash {hash}"),
            &format!("transit/sign/{P256}/{hash}"),
            json!({"input": input}),
            Expect::ClientError,
        );
        t.post(
            format!("verify with hash {hash}"),
            &format!("transit/verify/{P256}/{hash}"),
            json!({"input": input, "signature": real.signatures[1].1}),
            Expect::ClientError,
        );
        t.post(
            format!("hmac with hash {hash}"),
            &format!("transit/hmac/{HMAC}/{hash}"),
            json!({"input": input}),
            Expect::ClientError,
        );
        t.post(
            format!("hash with {hash}"),
            &format!("transit/hash/{hash}"),
            json!({"input": input}),
            Expect::ClientError,
        );
        t.post(
            format!("hash_algorithm {hash}"),
            &format!("transit/sign/{RSA}"),
            json!({"input": input, "hash_algorithm": hash}),
            Expect::Status(400),
        );
        t.post(
            format!("hash body algorithm {hash}"),
            "transit/hash",
            json!({"input": input, "algorithm": hash}),
            Expect::Status(400),
        );
    }
    t.post(
        "hash format",
        "transit/hash",
        json!({"input": input, "format": "binary"}),
        Expect::Status(400),
    );
    t.post(
        "random format",
        "transit/random",
        json!({"format": "binary"}),
        Expect::Status(400),
    );
    t.post(
        "random source",
        "transit/random",
        json!({"source": "dev-urandom"}),
        Expect::Status(400),
    );
    t.post(
        "prehashed input of the wrong length",
        &format!("transit/sign/{P256}"),
        json!({"input": b64(b"short"), "prehashed": true}),
        Expect::Status(400),
    );
    t.post(
        "prehashed sm2 of the wrong length",
        &format!("transit/sign/{SM2}"),
        json!({"input": b64(b"short"), "prehashed": true}),
        Expect::Status(400),
    );
    for kind in ["bogus-key", "ENCRYPTION-KEY", "", "encryption-key%00"] {
        t.raw(
            format!("export type {kind:?}"),
            "GET",
            &format!("transit/export/{kind}/{AES}"),
            Vec::new(),
            Expect::ClientError,
        );
    }
    for version in ["0", "-1", "x", "99999999999999999999", "1.0"] {
        t.raw(
            format!("export version {version}"),
            "GET",
            &format!("transit/export/encryption-key/{AES}/{version}"),
            Vec::new(),
            Expect::Status(400),
        );
    }
    t.raw(
        "export of a non-exportable key",
        "GET",
        &format!("transit/export/encryption-key/{AES}"),
        Vec::new(),
        Expect::Status(400),
    );
    t.raw(
        "export signing key of an aes key",
        "GET",
        &format!("transit/export/signing-key/{AES}"),
        Vec::new(),
        Expect::Status(400),
    );
    t.raw(
        "backup of a non-backupable key",
        "GET",
        &format!("transit/backup/{AES}"),
        Vec::new(),
        Expect::Status(400),
    );
    t.raw(
        "datakey kind",
        "POST",
        &format!("transit/datakey/bogus/{AES}"),
        Vec::new(),
        Expect::Status(400),
    );
    t.raw(
        "wrapping key algorithm",
        "GET",
        "transit/wrapping_key?algorithm=bogus",
        Vec::new(),
        Expect::Status(400),
    );
}

fn garbage_restore_and_import(t: &mut Table) {
    let garbage_backups = [
        "garbage".to_string(),
        "!!!!".to_string(),
        b64(&junk(300, 3)),
        b64(b"{}"),
        b64(b"null"),
        b64(b"[1,2,3]"),
        b64(br#"{"policy":{"name":"x","type":"aes256-gcm96"},"versions":"nope"}"#),
        b64(br#"{"policy":null,"archived_keys":[{}]}"#),
        b64(&[b'{'; 5000]),
        b64(&format!("{}{}", "[".repeat(50_000), "]".repeat(50_000)).into_bytes()),
        "12345".to_string(),
    ];
    for (i, backup) in garbage_backups.iter().enumerate() {
        t.post(
            format!("restore garbage #{i}"),
            "transit/restore",
            json!({"backup": backup}),
            Expect::Status(400),
        );
        t.post(
            format!("restore garbage #{i} named"),
            "transit/restore/h-restored",
            json!({"backup": backup}),
            Expect::Status(400),
        );
        t.post(
            format!("restore garbage #{i} forced over a key"),
            &format!("transit/restore/{AES}"),
            json!({"backup": backup, "force": true}),
            Expect::Status(400),
        );
    }
    t.post(
        "restore without backup",
        "transit/restore",
        json!({}),
        Expect::Status(400),
    );
    t.post(
        "restore empty backup",
        "transit/restore",
        json!({"backup": ""}),
        Expect::Status(400),
    );
    let envelopes = [
        "AAAA".to_string(),
        b64(&junk(512, 11)),
        b64(&junk(256 + 40, 12)),
        b64(&junk(1, 13)),
        b64(&junk(4096, 14)),
    ];
    for (i, envelope) in envelopes.iter().enumerate() {
        for wrapping in ["rsa", "sm2"] {
            t.post(format!("import garbage #{i} ({wrapping})"), "transit/keys/h-imp/import", json!({"ciphertext": envelope, "type": "aes256-gcm96", "wrapping_algorithm": wrapping}), Expect::Status(400));
            t.post(
                format!("import_version garbage #{i} ({wrapping})"),
                &format!("transit/keys/{AES}/import_version"),
                json!({"ciphertext": envelope, "wrapping_algorithm": wrapping}),
                Expect::Status(400),
            );
        }
    }
    t.post(
        "import with a bogus wrapping algorithm",
        "transit/keys/h-imp/import",
        json!({"ciphertext": "AAAA", "wrapping_algorithm": "rot13"}),
        Expect::Status(400),
    );
    t.post(
        "import with a bogus hash function",
        "transit/keys/h-imp/import",
        json!({"ciphertext": "AAAA", "hash_function": "MD5"}),
        Expect::Status(400),
    );
    t.post(
        "import a public key only",
        "transit/keys/h-imp/import",
        json!({"ciphertext": "AAAA", "public_key": "x"}),
        Expect::Status(400),
    );
    t.post(
        "import without ciphertext",
        "transit/keys/h-imp/import",
        json!({"type": "aes256-gcm96"}),
        Expect::Status(400),
    );
}

fn path_tricks(t: &mut Table) {
    let long_name = "n".repeat(300);
    let bad: Vec<(&str, String)> = vec![
        ("dot-dot", "transit/keys/..".into()),
        ("dot-dot inside", "transit/keys/../keys/h-aes256".into()),
        ("dot", "transit/keys/.".into()),
        ("encoded dot-dot", "transit/keys/%2e%2e".into()),
        ("encoded dot-dot upper", "transit/keys/%2E%2E/config".into()),
        ("mixed dot-dot", "transit/keys/.%2e".into()),
        ("double slash", "transit/keys//h-aes256".into()),
        ("double slash at the mount", "transit//keys/h-aes256".into()),
        ("nul", "transit/keys/a%00b".into()),
        ("newline", "transit/keys/a%0ab".into()),
        ("crlf", "transit/keys/a%0d%0aX-Injected:%201".into()),
        ("delete char", "transit/keys/a%7f".into()),
        ("c1 control", "transit/keys/a%c2%85".into()),
        ("sys dot-dot", "sys/../transit/keys/h-aes256".into()),
        ("auth dot-dot", "auth/token/../../sys/health".into()),
    ];
    for (label, path) in bad {
        t.raw(
            format!("path: {label}"),
            "GET",
            &path,
            Vec::new(),
            Expect::Status(400),
        );
        t.raw(
            format!("path: {label} (POST)"),
            "POST",
            &path,
            b"{}".to_vec(),
            Expect::Status(400),
        );
    }
    t.raw(
        "path: encoded slash in a name",
        "POST",
        "transit/keys/a%2Fb",
        br#"{"type":"aes256-gcm96"}"#.to_vec(),
        Expect::Status(400),
    );
    t.raw(
        "path: encoded slash read",
        "GET",
        "transit/keys/a%2Fb",
        Vec::new(),
        Expect::PlainNotFound,
    );
    t.raw(
        "path: extra segments",
        "GET",
        "transit/keys/a/b/c/d",
        Vec::new(),
        Expect::Status(404),
    );
    t.raw(
        "path: extra segment after encrypt",
        "POST",
        &format!("transit/encrypt/{AES}/extra"),
        Vec::new(),
        Expect::Status(404),
    );
    t.raw(
        "path: extra segments after random",
        "POST",
        "transit/random/platform/32/more",
        Vec::new(),
        Expect::Status(404),
    );
    t.raw(
        "path: unknown endpoint",
        "POST",
        "transit/teleport/x",
        Vec::new(),
        Expect::Status(404),
    );
    t.raw(
        "path: unknown mount",
        "GET",
        "nowhere/keys/x",
        Vec::new(),
        Expect::Status(404),
    );
    t.raw(
        "path: mount prefix only",
        "GET",
        "transitx/keys/x",
        Vec::new(),
        Expect::Status(404),
    );
    t.raw(
        "path: 300-char name created",
        "POST",
        &format!("transit/keys/{long_name}"),
        br#"{"type":"aes256-gcm96"}"#.to_vec(),
        Expect::Status(400),
    );
    t.raw(
        "path: 300-char name read",
        "GET",
        &format!("transit/keys/{long_name}"),
        Vec::new(),
        Expect::PlainNotFound,
    );
    t.raw(
        "path: 300-char name encrypt",
        "POST",
        &format!("transit/encrypt/{long_name}"),
        json!({"plaintext": b64(MARKER)}).to_string().into_bytes(),
        Expect::Status(400),
    );
    t.raw(
        "path: unicode name read",
        "GET",
        "transit/keys/%E9%92%A5%E5%8C%99",
        Vec::new(),
        Expect::PlainNotFound,
    );
    // Escapes that are not UTF-8 are refused rather than mapped to U+FFFD,
    // which would make different byte strings name the same key.
    t.raw(
        "path: invalid utf-8 name read",
        "GET",
        "transit/keys/%ff%fe",
        Vec::new(),
        Expect::StatusWith(400, "invalid path"),
    );
    t.raw(
        "path: trailing slash",
        "GET",
        &format!("transit/keys/{AES}/"),
        Vec::new(),
        Expect::Status(200),
    );
    t.raw(
        "path: trailing slashes",
        "GET",
        &format!("transit/keys/{AES}///"),
        Vec::new(),
        Expect::Status(200),
    );
    t.raw(
        "path: no /v1 prefix",
        "GET",
        "../sys/health",
        Vec::new(),
        Expect::Status(404),
    );
    t.raw(
        "path: missing key",
        "GET",
        "transit/keys/h-nope",
        Vec::new(),
        Expect::PlainNotFound,
    );
    t.raw(
        "path: delete a missing key",
        "DELETE",
        "transit/keys/h-nope",
        Vec::new(),
        Expect::Status(400),
    );
    t.raw(
        "path: delete without deletion_allowed",
        "DELETE",
        &format!("transit/keys/{AES}"),
        Vec::new(),
        Expect::Status(400),
    );
    t.raw(
        "path: sys unknown",
        "GET",
        "sys/nothing-here",
        Vec::new(),
        Expect::ClientError,
    );
    t.raw(
        "path: auth unknown",
        "POST",
        "auth/token/nothing-here",
        Vec::new(),
        Expect::ClientError,
    );
    t.raw(
        "path: query tricks",
        "GET",
        "transit/keys?list=true&list=%zz&&=&%00=%00",
        Vec::new(),
        Expect::Status(200),
    );
}

fn methods_and_tokens(t: &mut Table) {
    for method in ["FOO", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "get"] {
        t.raw(
            format!("method {method}"),
            method,
            "sys/health",
            Vec::new(),
            Expect::Status(405),
        );
        t.raw(
            format!("method {method} on transit"),
            method,
            &format!("transit/keys/{AES}"),
            Vec::new(),
            Expect::Status(405),
        );
    }
    t.raw(
        "LIST a key",
        "LIST",
        &format!("transit/keys/{AES}"),
        Vec::new(),
        Expect::Status(405),
    );
    t.raw(
        "GET encrypt",
        "GET",
        &format!("transit/encrypt/{AES}"),
        Vec::new(),
        Expect::Status(405),
    );
    t.raw(
        "DELETE decrypt",
        "DELETE",
        &format!("transit/decrypt/{AES}"),
        Vec::new(),
        Expect::Status(405),
    );
    t.raw(
        "POST export",
        "POST",
        &format!("transit/export/encryption-key/{AES}"),
        Vec::new(),
        Expect::Status(405),
    );
    t.raw(
        "POST health",
        "POST",
        "sys/health",
        Vec::new(),
        Expect::Status(405),
    );
    t.raw(
        "GET keys without list",
        "GET",
        "transit/keys",
        Vec::new(),
        Expect::Status(405),
    );
    t.anonymous(
        "no token: encrypt",
        "POST",
        &format!("transit/encrypt/{AES}"),
        Expect::Status(403),
    );
    t.anonymous(
        "no token: list keys",
        "LIST",
        "transit/keys",
        Expect::Status(403),
    );
    t.anonymous("no token: mounts", "GET", "sys/mounts", Expect::Status(403));
    t.anonymous(
        "no token: token create",
        "POST",
        "auth/token/create",
        Expect::Status(403),
    );
}

fn huge_sizes(t: &mut Table) {
    for path in [
        "transit/random/999999999",
        "transit/random/platform/999999999",
        "transit/random/0",
        "transit/random/99999999999999999999999",
        "transit/random/-1",
        "transit/random/platform/-5",
        "transit/random/platform/x",
    ] {
        t.raw(
            path.to_string(),
            "POST",
            path,
            Vec::new(),
            Expect::Status(400),
        );
    }
    for bytes in [
        json!(9_223_372_036_854_775_807i64),
        json!(9_223_372_036_854_775_808u64),
        json!(-1),
        json!(0),
        json!(131_073),
        json!(-9_223_372_036_854_775_807i64),
        json!("1e9"),
    ] {
        t.post(
            format!("random bytes {bytes}"),
            "transit/random",
            json!({"bytes": bytes}),
            Expect::Status(400),
        );
    }
    for bits in [
        json!(9_223_372_036_854_775_807i64),
        json!(1_000_000_000),
        json!(-256),
        json!(0),
        json!(257),
        json!(64),
        json!(4096),
    ] {
        t.post(
            format!("datakey bits {bits}"),
            &format!("transit/datakey/plaintext/{AES}"),
            json!({"bits": bits}),
            Expect::Status(400),
        );
    }
    for version in [
        json!(-1),
        json!(2),
        json!(999_999_999_999i64),
        json!(i64::MIN),
    ] {
        t.post(
            format!("encrypt key_version {version}"),
            &format!("transit/encrypt/{AES}"),
            json!({"plaintext": b64(MARKER), "key_version": version}),
            Expect::Status(400),
        );
        t.post(
            format!("hmac key_version {version}"),
            &format!("transit/hmac/{HMAC}"),
            json!({"input": b64(MARKER), "key_version": version}),
            Expect::Status(400),
        );
        t.post(
            format!("datakey key_version {version}"),
            &format!("transit/datakey/wrapped/{AES}"),
            json!({"key_version": version}),
            Expect::Status(400),
        );
        t.post(
            format!("config min_decryption_version {version}"),
            &format!("transit/keys/{AES}/config"),
            json!({"min_decryption_version": version}),
            Expect::Status(400),
        );
        t.post(
            format!("trim {version}"),
            &format!("transit/keys/{AES}/trim"),
            json!({"min_available_version": version}),
            Expect::Status(400),
        );
    }
}

fn batches(t: &mut Table) {
    const N: usize = 10_000;
    let garbage: Vec<Value> = (0..N)
        .map(|i| match i % 4 {
            0 => json!({"plaintext": "!!!", "ciphertext": "vault:v1:!!!", "input": "!!!"}),
            1 => json!({"plaintext": {"x": i}, "ciphertext": [i], "input": {"y": i}}),
            2 => {
                json!({"reference": i, "ciphertext": format!("vault:v{i}:AAAA"), "signature": "x"})
            }
            _ => json!({}),
        })
        .collect();
    // Vault answers failed encrypt/decrypt batches with 400, the others with 200.
    for (operation, key, status) in [
        ("encrypt", AES, 400),
        ("decrypt", SM4, 400),
        ("rewrap", AES, 200),
        ("sign", ED25519, 200),
        ("verify", P256, 200),
        ("hmac", HMAC, 200),
    ] {
        t.post(
            format!("10k garbage {operation} items"),
            &format!("transit/{operation}/{key}"),
            json!({"batch_input": garbage}),
            Expect::BatchErrors(status, N),
        );
    }
    let as_string = json!(garbage).to_string();
    t.post(
        "10k garbage items as a JSON string",
        &format!("transit/encrypt/{AES}"),
        json!({"batch_input": as_string}),
        Expect::BatchErrors(400, N),
    );
    for path in [
        format!("transit/encrypt/{AES}"),
        format!("transit/decrypt/{AES}"),
        format!("transit/sign/{P256}"),
        format!("transit/verify/{P256}"),
        format!("transit/hmac/{HMAC}"),
        format!("transit/rewrap/{AES}"),
    ] {
        t.post(
            "empty batch",
            &path,
            json!({"batch_input": []}),
            Expect::Status(400),
        );
        t.post(
            "empty batch as a string",
            &path,
            json!({"batch_input": "[]"}),
            Expect::Status(400),
        );
        t.post(
            "batch of non-objects",
            &path,
            json!({"batch_input": [1, "x", null, [], true]}),
            Expect::Status(400),
        );
        t.post(
            "batch of one non-object",
            &path,
            json!({"batch_input": [{"input": "aGk="}, 7]}),
            Expect::Status(400),
        );
        t.post(
            "batch as an object",
            &path,
            json!({"batch_input": {"plaintext": "aGk="}}),
            Expect::Status(400),
        );
        t.post(
            "batch string of garbage",
            &path,
            json!({"batch_input": "[{"}),
            Expect::Status(400),
        );
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        t.post(
            "batch string nested 100k deep",
            &path,
            json!({"batch_input": deep}),
            Expect::Status(400),
        );
        // A string holding a string holding ... a list: bounded recursion.
        let mut nested = json!([{"plaintext": "!!"}]);
        for _ in 0..12 {
            nested = json!(nested.to_string());
        }
        // Every level is unwrapped; the one item inside fails on its own.
        let status = if path.contains("/encrypt/") || path.contains("/decrypt/") {
            400
        } else {
            200
        };
        t.post(
            "batch string nested in strings",
            &path,
            json!({"batch_input": nested}),
            Expect::BatchErrors(status, 1),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_table_is_answered_with_client_errors() {
    let server = dev_server().await;
    let addr = server.addr;
    let real = prepare(addr).await;
    let mut t = Table::default();
    malformed_bodies(&mut t);
    wrong_types(&mut t, &real);
    forged_and_truncated_ciphertexts(&mut t, &real);
    forged_and_truncated_signatures(&mut t, &real);
    unknown_names(&mut t, &real);
    garbage_restore_and_import(&mut t);
    path_tricks(&mut t);
    methods_and_tokens(&mut t);
    huge_sizes(&mut t);
    batches(&mut t);
    let total = t.cases.len();
    assert!(total > 2_000, "the table shrank to {total} rows");
    let failures = run_table(addr, t).await;
    assert!(
        failures.is_empty(),
        "{} of {total} hostile requests were mishandled:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The keys the barrage aimed at are intact.
    for (name, key_type) in KEYS {
        let r = call(addr, "GET", &format!("transit/keys/{name}"), &Value::Null).await;
        assert_eq!(r.status, 200, "{name}: {}", r.text());
        let data = &r.json().expect("key JSON")["data"];
        assert_eq!(data["type"], json!(key_type), "{name}");
        assert_eq!(data["latest_version"], json!(1), "{name}");
    }
    for name in ["h-new", "h-typed", "h-imp", "h-restored", "h-upsert"] {
        let r = call(addr, "GET", &format!("transit/keys/{name}"), &Value::Null).await;
        assert_eq!(
            r.status,
            404,
            "{name} was created by a hostile request: {}",
            r.text()
        );
    }
    // The genuine ciphertexts still decrypt.
    for (name, ct) in &real.ciphertexts {
        let pt = data_str(
            addr,
            "POST",
            &format!("transit/decrypt/{name}"),
            json!({"ciphertext": ct}),
            "plaintext",
        )
        .await;
        assert_eq!(STANDARD.decode(pt).expect("base64"), MARKER, "{name}");
    }
    assert_still_serving(addr).await;
    server.shutdown().await.expect("clean shutdown");
}

// ---------------------------------------------------------------------------
// Framing: oversized bodies, lying lengths, broken HTTP.

const OVERSIZED: usize = 33 * 1024 * 1024;

/// Sends `bytes`, retrying a few times if the server's early close reset
/// the connection before its answer could be read.
async fn exchange_retrying(addr: SocketAddr, bytes: &[u8]) -> Response {
    let mut last = String::new();
    for _ in 0..3 {
        match exchange(addr, bytes.to_vec()).await {
            Ok(r) => return r,
            Err(e) => last = e,
        }
    }
    panic!("no answer after 3 tries: {last}");
}

fn assert_error_envelope(r: &Response, status: u16, what: &str) {
    assert_eq!(r.status, status, "{what}: {} {}", r.head, r.text());
    let errors = r
        .json()
        .and_then(|v| v["errors"].as_array().cloned())
        .unwrap_or_default();
    assert!(
        errors
            .first()
            .and_then(Value::as_str)
            .is_some_and(|m| !m.is_empty()),
        "{what}: no error message in {}",
        r.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_with_413() {
    let server = dev_server().await;
    let addr = server.addr;
    let path = format!("/v1/transit/encrypt/{AES}");
    let r = call(
        addr,
        "POST",
        &format!("transit/keys/{AES}"),
        &json!({"type": "aes256-gcm96"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());

    // With a Content-Length.
    let mut body = br#"{"plaintext":""#.to_vec();
    body.resize(OVERSIZED, b'A');
    let r = exchange_retrying(addr, &request("POST", &path, &body, Some(TOKEN))).await;
    assert_error_envelope(&r, 413, "33 MiB with content-length");
    assert!(r.text().contains("too large"), "{}", r.text());

    // A Content-Length claiming 33 MiB with no body sent at all: refused
    // from the header alone, without waiting for the bytes.
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Vault-Token: {TOKEN}\r\nContent-Length: {OVERSIZED}\r\n\r\n"
    );
    let r = exchange_retrying(addr, head.as_bytes()).await;
    assert_error_envelope(&r, 413, "33 MiB content-length without a body");

    // Chunked, no Content-Length: 33 chunks of 1 MiB.
    let mut chunked = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Vault-Token: {TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    let chunk = vec![b'A'; 1024 * 1024];
    for _ in 0..33 {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(&chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let r = exchange_retrying(addr, &chunked).await;
    assert_error_envelope(&r, 413, "33 MiB chunked");

    // Just under the limit is read (and rejected as bad JSON, not as size).
    let mut under = vec![b' '; 32 * 1024 * 1024 - 2];
    under[0] = b'[';
    let r = exchange_retrying(addr, &request("POST", &path, &under, Some(TOKEN))).await;
    assert_error_envelope(&r, 400, "just under 32 MiB");

    assert_still_serving(addr).await;
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_framing_never_hurts_the_server() {
    let server = dev_server().await;
    let addr = server.addr;
    let r = call(
        addr,
        "POST",
        &format!("transit/keys/{AES}"),
        &json!({"type": "aes256-gcm96"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let path = format!("/v1/transit/encrypt/{AES}");
    let plaintext_body = json!({"plaintext": b64(MARKER)}).to_string();

    // Content-Length shorter than the body: the server reads the declared
    // prefix (broken JSON, 400) and the rest is not a valid request.
    let short = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Vault-Token: {TOKEN}\r\nContent-Length: 10\r\n\r\n{plaintext_body}"
    );
    let r = exchange(addr, short.into_bytes()).await.expect("answer");
    assert_error_envelope(&r, 400, "content-length shorter than the body");
    assert!(!r.text().contains(&b64(MARKER)), "{}", r.text());

    // Content-Length longer than the body, and the client then stops
    // sending: the connection is dropped after a bounded wait on our side;
    // whatever the server says (if anything) is not a 5xx.
    let long = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Vault-Token: {TOKEN}\r\nContent-Length: 100000\r\n\r\n{plaintext_body}"
    );
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    writer.write_all(long.as_bytes()).await.expect("write");
    writer.shutdown().await.expect("half-close");
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), reader.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "the server neither answered nor closed a truncated request"
    );
    if !buf.is_empty() {
        let r = parse_response(&buf).expect("parsable answer");
        assert!(
            (400..500).contains(&r.status),
            "truncated body: {} {}",
            r.status,
            r.text()
        );
    }

    // Malformed HTTP: hyper answers these itself (400/431/414, possibly no
    // body) or closes; never a 5xx, never a hang.
    let long_target = format!("/v1/transit/keys/{}", "a".repeat(200_000));
    let broken: Vec<(&str, Vec<u8>)> = vec![
        ("garbage request line", b"HELLO\r\n\r\n".to_vec()),
        ("binary noise", junk(4096, 77)),
        ("no version", b"GET /v1/sys/health\r\n\r\n".to_vec()),
        ("bad version", b"GET /v1/sys/health HTTP/9.9\r\nHost: x\r\n\r\n".to_vec()),
        ("space in target", b"GET /v1/sys/he alth HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("raw control byte in target", b"GET /v1/transit/keys/a\x01b HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("raw utf-8 in target", "GET /v1/transit/keys/钥匙 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".as_bytes().to_vec()),
        ("header without colon", b"GET /v1/sys/health HTTP/1.1\r\nHost x\r\n\r\n".to_vec()),
        ("negative content-length", format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n").into_bytes()),
        ("two content-lengths", format!("POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{{}}").into_bytes()),
        ("huge content-length", format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n").into_bytes()),
        ("bad chunk size", format!("POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n").into_bytes()),
        ("chunk size overflow", format!("POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n").into_bytes()),
        ("200 KB target", format!("GET {long_target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()),
        ("10k headers", {
            let mut h = b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n".to_vec();
            for i in 0..10_000 {
                h.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
            }
            h.extend_from_slice(b"\r\n");
            h
        }),
    ];
    for (what, bytes) in broken {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (mut reader, mut writer) = stream.into_split();
        let _ = writer.write_all(&bytes).await;
        let mut buf = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(30), reader.read_to_end(&mut buf)).await;
        assert!(
            read.is_ok(),
            "{what}: the server neither answered nor closed"
        );
        drop(writer);
        if buf.is_empty() {
            continue;
        }
        let r = parse_response(&buf).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            (400..500).contains(&r.status),
            "{what}: {} {}",
            r.status,
            r.text()
        );
        assert!(!r.text().contains(TOKEN), "{what}");
    }

    assert_still_serving(addr).await;
    server.shutdown().await.expect("clean shutdown");
}
