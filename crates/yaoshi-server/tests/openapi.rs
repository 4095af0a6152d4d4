//! The OpenAPI document of the native endpoints: `docs/openapi.json` matches
//! `yaoshi_server::openapi::document()` (set `YAOSHI_UPDATE_OPENAPI=1` to
//! rewrite the file), every native route of the `sys/` and `auth/token/`
//! dispatch tables is in it, its references resolve, and a live server
//! serves the same document at `GET /v1/sys/openapi`.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use yaoshi_server::openapi::document;
use yaoshi_server::{DevSettings, ServerSettings};

fn docs_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

fn rendered() -> String {
    let mut text = document()
        .to_pretty_json()
        .expect("the document serialises");
    text.push('\n');
    text
}

fn rendered_json() -> Value {
    serde_json::from_str(&rendered()).expect("the rendered document is JSON")
}

#[test]
fn docs_openapi_json_is_in_sync() {
    let path = docs_file();
    let want = rendered();
    if std::env::var("YAOSHI_UPDATE_OPENAPI").as_deref() == Ok("1") {
        std::fs::write(&path, &want).expect("docs/openapi.json is writable");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/openapi.json is out of date; regenerate it with \
         YAOSHI_UPDATE_OPENAPI=1 cargo test -p yaoshi-server --test openapi"
    );
}

#[test]
fn document_is_openapi_3_1() {
    let doc = rendered_json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string());
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["vault_token"]["type"], "apiKey");
    assert_eq!(schemes["vault_token"]["in"], "header");
    assert_eq!(schemes["vault_token"]["name"], "X-Vault-Token");
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
}

/// Every `$ref` in the document points at a component that exists.
#[test]
fn references_resolve() {
    fn walk(v: &Value, doc: &Value, seen: &mut usize) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let target = r
                        .strip_prefix("#/")
                        .expect("local reference")
                        .split('/')
                        .fold(doc, |node, key| &node[key]);
                    assert!(target.is_object(), "dangling reference {r}");
                    *seen += 1;
                }
                map.values().for_each(|x| walk(x, doc, seen));
            }
            Value::Array(items) => items.iter().for_each(|x| walk(x, doc, seen)),
            _ => {}
        }
    }
    let doc = rendered_json();
    let mut seen = 0;
    walk(&doc, &doc, &mut seen);
    assert!(seen > 20, "only {seen} references");
}

/// The route patterns of a `match segs.as_slice() { ... }` dispatch table,
/// as OpenAPI paths under `prefix` (`["mounts", path @ ..]` becomes
/// `{prefix}mounts/{path}`).
fn routes(source: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let body = source
        .split("match segs.as_slice() {")
        .nth(1)
        .expect("a dispatch table");
    for line in body.lines() {
        let line = line.trim();
        if line.starts_with('}') {
            break;
        }
        let Some((patterns, _)) = line.split_once("=>") else {
            continue;
        };
        for pattern in patterns.split('|') {
            let pattern = pattern.trim();
            let Some(inner) = pattern.strip_prefix('[').and_then(|p| p.strip_suffix(']')) else {
                continue;
            };
            let segments: Vec<String> = inner
                .split(',')
                .map(|s| {
                    let s = s.trim();
                    match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                        Some(literal) => literal.to_string(),
                        None => format!("{{{}}}", s.split_whitespace().next().unwrap_or(s)),
                    }
                })
                .collect();
            out.insert(format!("{prefix}{}", segments.join("/")));
        }
    }
    out
}

#[test]
fn every_native_route_is_documented() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect("source file");
    let mut native = routes(&read("sys/mod.rs"), "/v1/sys/");
    native.extend(routes(&read("auth_token.rs"), "/v1/auth/token/"));
    assert!(native.len() >= 16, "parsed only {native:?}");
    assert!(native.contains("/v1/sys/mounts/{path}"), "{native:?}");
    assert!(native.contains("/v1/sys/principals/{name}"), "{native:?}");
    let doc = rendered_json();
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect();
    let missing: Vec<&String> = native.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    let extra: Vec<&String> = documented.difference(&native).collect();
    assert!(
        extra.is_empty(),
        "documented paths without a route: {extra:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_server_serves_the_document() {
    let server = yaoshi_server::start(ServerSettings {
        listen: "127.0.0.1:0".parse().expect("address"),
        dev: Some(DevSettings {
            root_token: Some("root".into()),
        }),
        ..Default::default()
    })
    .await
    .expect("dev server starts");
    let url = format!("{}/v1/sys/openapi", server.url());
    let client = reqwest::Client::new();
    // No token needed.
    let response = client.get(&url).send().await.expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().expect("ascii"),
        "application/json"
    );
    assert_eq!(
        response.headers()["cache-control"].to_str().expect("ascii"),
        "no-store"
    );
    let served: Value = response.json().await.expect("JSON body");
    assert_eq!(served, rendered_json());
    // Only GET (and HEAD).
    let post = client.post(&url).send().await.expect("request");
    assert_eq!(post.status(), 405);
    server.shutdown().await.expect("clean shutdown");
}
