//! A small blocking client for the Vault-style HTTP API: address and token
//! resolution, `X-Vault-Token`, JSON bodies, the `data`/`warnings`/`auth`
//! envelope and `{"errors": [...]}` answers.

use crate::error::CliError;
use reqwest::Method;
use reqwest::blocking::Client as Http;
use reqwest::header::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use std::path::Path;
use std::time::Duration;

/// Address used when neither `--addr` nor any address variable is set.
pub const DEFAULT_ADDR: &str = "http://127.0.0.1:8200";
/// Address variables, in the order they are consulted.
pub const ADDR_VARS: [&str; 3] = ["YAOSHI_ADDR", "VAULT_ADDR", "BAO_ADDR"];
/// Token variables, in the order they are consulted.
pub const TOKEN_VARS: [&str; 3] = ["YAOSHI_TOKEN", "VAULT_TOKEN", "BAO_TOKEN"];

/// The message given to an error answer without messages of its own, 404.
const NOT_FOUND: &str = "not found";

/// The first non-empty value among the flag and the variables.
fn first_set(
    flag: Option<&str>,
    vars: &[&str],
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    flag.map(str::to_string)
        .into_iter()
        .chain(vars.iter().filter_map(|v| lookup(v)))
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
}

/// The server address: `--addr`, then YAOSHI_ADDR, VAULT_ADDR, BAO_ADDR,
/// then [`DEFAULT_ADDR`]. Empty values count as unset.
pub fn resolve_addr(flag: Option<&str>, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    first_set(flag, &ADDR_VARS, lookup).unwrap_or_else(|| DEFAULT_ADDR.to_string())
}

/// The token: `--token`, then YAOSHI_TOKEN, VAULT_TOKEN, BAO_TOKEN.
pub fn resolve_token(
    flag: Option<&str>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Option<SecretString> {
    first_set(flag, &TOKEN_VARS, lookup).map(SecretString::from)
}

/// Percent-encodes one path segment (everything but RFC 3986 unreserved).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Encodes a mount path, keeping its `/` separators.
pub fn mount_path(mount: &str) -> String {
    mount
        .split('/')
        .filter(|s| !s.is_empty())
        .map(segment)
        .collect::<Vec<_>>()
        .join("/")
}

/// A successful answer.
#[derive(Debug)]
pub struct Reply {
    /// The JSON body; `None` for an empty body (204).
    pub body: Option<Value>,
}

impl Reply {
    /// The envelope's `data` object; its `auth` object when `data` is empty
    /// (token-issuing answers); the whole body when it is not an envelope
    /// (sys endpoints answer bare objects); `{}` for an empty answer.
    pub fn data(&self) -> Value {
        match &self.body {
            Some(Value::Object(map)) => match map.get("data") {
                Some(d @ Value::Object(_)) => d.clone(),
                Some(Value::Null) | None if is_envelope(map) => self
                    .auth()
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Map::new())),
                _ => Value::Object(map.clone()),
            },
            Some(other) => other.clone(),
            None => Value::Object(Map::new()),
        }
    }

    /// The envelope's `auth` object, when present.
    pub fn auth(&self) -> Option<&Value> {
        self.body
            .as_ref()
            .and_then(|b| b.get("auth"))
            .filter(|a| !a.is_null())
    }

    /// The envelope's warnings.
    pub fn warnings(&self) -> Vec<String> {
        self.body
            .as_ref()
            .and_then(|b| b.get("warnings"))
            .and_then(Value::as_array)
            .map(|w| w.iter().map(message_text).collect())
            .unwrap_or_default()
    }
}

/// Whether an object looks like a Vault envelope (as opposed to a bare sys answer).
fn is_envelope(map: &Map<String, Value>) -> bool {
    ["request_id", "lease_id", "warnings", "auth", "wrap_info"]
        .iter()
        .any(|k| map.contains_key(*k))
}

/// A message from an `errors`/`warnings` list as text.
fn message_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Splits Go's multierror text (`1 error occurred:\n\t* msg\n\n`), which
/// Vault servers send, into its messages; other text is kept as one message.
fn split_multierror(text: &str) -> Vec<String> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().trim();
    if header.ends_with("occurred:") && header.contains("error") {
        let items: Vec<String> = lines
            .filter_map(|l| l.trim().strip_prefix("* "))
            .map(str::to_string)
            .collect();
        if !items.is_empty() {
            return items;
        }
    }
    vec![text.trim().to_string()]
}

/// Builds the error for a non-success answer from its status and body.
pub fn error_from_body(status: u16, body: &[u8]) -> CliError {
    let messages = match serde_json::from_slice::<Value>(body) {
        Ok(v) => match v.get("errors").and_then(Value::as_array) {
            Some(errors) => errors
                .iter()
                .flat_map(|e| split_multierror(&message_text(e)))
                .collect(),
            None => v
                .get("error")
                .map(|e| vec![message_text(e)])
                .unwrap_or_default(),
        },
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                Vec::new()
            } else {
                vec![text.chars().take(300).collect()]
            }
        }
    };
    let messages = if messages.is_empty() {
        reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .map(|r| vec![r.to_lowercase()])
            .unwrap_or_default()
    } else {
        messages
    };
    CliError::Api { status, messages }
}

/// The HTTP client of one command.
pub struct Client {
    http: Http,
    addr: String,
    token: Option<SecretString>,
}

impl Client {
    /// A client for `addr`, sending `token`, trusting `ca_cert` in addition to
    /// the system roots.
    pub fn new(
        addr: &str,
        token: Option<SecretString>,
        ca_cert: Option<&Path>,
    ) -> Result<Self, CliError> {
        let addr = addr.trim_end_matches('/').to_string();
        if !(addr.starts_with("http://") || addr.starts_with("https://")) {
            return Err(CliError::Usage(format!(
                "address {addr} must start with http:// or https://"
            )));
        }
        let mut builder = Http::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                // Follow only redirects to the same origin: the token must
                // not travel to another host.
                let first = attempt.previous().first();
                let same = first.is_some_and(|p| {
                    p.scheme() == attempt.url().scheme()
                        && p.host_str() == attempt.url().host_str()
                        && p.port_or_known_default() == attempt.url().port_or_known_default()
                });
                if same && attempt.previous().len() < 5 {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }));
        if let Some(path) = ca_cert {
            let pem = std::fs::read(path)
                .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                CliError::Usage(format!("{} is not a PEM certificate: {e}", path.display()))
            })?;
            if certs.is_empty() {
                return Err(CliError::Usage(format!(
                    "{} holds no PEM certificate",
                    path.display()
                )));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder
            .build()
            .map_err(|e| CliError::Other(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Self { http, addr, token })
    }

    /// Sends a request to `/v1/{path}` (with `query` appended verbatim) and
    /// returns the answer, turning error statuses into [`CliError::Api`].
    /// Warnings of successful answers are printed to stderr.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<&Value>,
    ) -> Result<Reply, CliError> {
        let (status, bytes) = self.send(method, path, query, body)?;
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            Some(serde_json::from_slice::<Value>(&bytes).map_err(|_| {
                CliError::Other(format!(
                    "the server at {} answered {status} with invalid JSON",
                    self.addr
                ))
            })?)
        };
        let reply = Reply { body };
        for w in reply.warnings() {
            eprintln!("warning: {w}");
        }
        Ok(reply)
    }

    /// GET `/v1/{path}{query}` whose answer is not JSON (audit exports):
    /// the body as sent.
    pub fn get_bytes(&self, path: &str, query: &str) -> Result<Vec<u8>, CliError> {
        Ok(self.send(Method::GET, path, query, None)?.1)
    }

    /// Sends a request; error statuses become [`CliError::Api`].
    fn send(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Vec<u8>), CliError> {
        let url = format!("{}/v1/{}{}", self.addr, path.trim_start_matches('/'), query);
        let mut headers = HeaderMap::new();
        if let Some(token) = &self.token {
            let mut value = HeaderValue::from_str(token.expose_secret()).map_err(|_| {
                CliError::Usage(
                    "the token contains characters not allowed in an HTTP header".into(),
                )
            })?;
            value.set_sensitive(true);
            headers.insert("x-vault-token", value);
        }
        let mut req = self.http.request(method, &url).headers(headers);
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().map_err(|e| self.transport_error(&e))?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().map_err(|e| self.transport_error(&e))?;
        if !(200..300).contains(&status) {
            return Err(error_from_body(status, &bytes));
        }
        Ok((status, bytes.to_vec()))
    }

    /// GET `/v1/{path}`.
    pub fn get(&self, path: &str) -> Result<Reply, CliError> {
        self.request(Method::GET, path, "", None)
    }

    /// LIST `/v1/{path}`, sent as GET with `?list=true`. Vault answers an
    /// empty list with a bare 404 (`{"errors":[]}`); that becomes
    /// `{"keys": []}`, while a 404 with a message (no such mount) stays an error.
    pub fn list(&self, path: &str) -> Result<Reply, CliError> {
        match self.request(Method::GET, path, "?list=true", None) {
            Err(CliError::Api {
                status: 404,
                messages,
            }) if messages == [NOT_FOUND] => Ok(Reply {
                body: Some(serde_json::json!({"data": {"keys": []}})),
            }),
            other => other,
        }
    }

    /// POST a JSON body to `/v1/{path}`.
    pub fn post(&self, path: &str, body: &Value) -> Result<Reply, CliError> {
        self.request(Method::POST, path, "", Some(body))
    }

    /// PUT a JSON body to `/v1/{path}`.
    pub fn put(&self, path: &str, body: Option<&Value>) -> Result<Reply, CliError> {
        self.request(Method::PUT, path, "", body)
    }

    /// DELETE `/v1/{path}`.
    pub fn delete(&self, path: &str) -> Result<Reply, CliError> {
        self.request(Method::DELETE, path, "", None)
    }

    /// Describes a transport failure (never includes the token).
    fn transport_error(&self, e: &reqwest::Error) -> CliError {
        let detail = if e.is_timeout() {
            "timed out".to_string()
        } else {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
            let mut found = None;
            let mut innermost = e.to_string();
            while let Some(s) = source {
                if let Some(io) = s.downcast_ref::<std::io::Error>() {
                    found = Some(match io.kind() {
                        std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
                        _ => io.to_string(),
                    });
                    break;
                }
                innermost = s.to_string();
                source = s.source();
            }
            found.unwrap_or(innermost)
        };
        if e.is_connect() || e.is_timeout() {
            CliError::Connect {
                addr: self.addr.clone(),
                detail,
            }
        } else {
            CliError::Other(format!("request to {} failed: {detail}", self.addr))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn addr_fallback_order() {
        let all = env(&[
            ("YAOSHI_ADDR", "http://y:1"),
            ("VAULT_ADDR", "http://v:1"),
            ("BAO_ADDR", "http://b:1"),
        ]);
        assert_eq!(resolve_addr(Some("http://flag:1"), &all), "http://flag:1");
        assert_eq!(resolve_addr(None, &all), "http://y:1");
        let vb = env(&[("VAULT_ADDR", "http://v:1"), ("BAO_ADDR", "http://b:1")]);
        assert_eq!(resolve_addr(None, &vb), "http://v:1");
        let b = env(&[("BAO_ADDR", "http://b:1")]);
        assert_eq!(resolve_addr(None, &b), "http://b:1");
        assert_eq!(resolve_addr(None, &env(&[])), DEFAULT_ADDR);
        // Empty variables count as unset.
        let empty = env(&[("YAOSHI_ADDR", ""), ("BAO_ADDR", "http://b:1")]);
        assert_eq!(resolve_addr(None, &empty), "http://b:1");
    }

    #[test]
    fn token_fallback_order() {
        let get = |flag: Option<&str>, pairs: &[(&str, &str)]| {
            resolve_token(flag, &env(pairs)).map(|t| t.expose_secret().to_string())
        };
        let all = [
            ("YAOSHI_TOKEN", "y"),
            ("VAULT_TOKEN", "v"),
            ("BAO_TOKEN", "b"),
        ];
        assert_eq!(get(Some("f"), &all).as_deref(), Some("f"));
        assert_eq!(get(None, &all).as_deref(), Some("y"));
        assert_eq!(get(None, &all[1..]).as_deref(), Some("v"));
        assert_eq!(get(None, &all[2..]).as_deref(), Some("b"));
        assert_eq!(get(None, &[]), None);
        assert_eq!(
            get(None, &[("YAOSHI_TOKEN", " "), ("VAULT_TOKEN", "v")]).as_deref(),
            Some("v")
        );
    }

    #[test]
    fn error_envelope() {
        let e = error_from_body(403, br#"{"errors":["permission denied"]}"#);
        assert_eq!(
            e,
            CliError::Api {
                status: 403,
                messages: vec!["permission denied".into()]
            }
        );
        assert_eq!(e.exit_code(), 2);
        assert_eq!(e.to_string(), "403: permission denied");
        let e = error_from_body(400, br#"{"errors":["a","b"]}"#);
        assert_eq!(e.to_string(), "400: a; b");
        let e = error_from_body(500, b"");
        assert_eq!(e.to_string(), "500: internal server error");
        assert_eq!(e.exit_code(), 1);
        let e = error_from_body(502, b"bad gateway from proxy\n");
        assert_eq!(e.to_string(), "502: bad gateway from proxy");
        let e = error_from_body(
            403,
            b"{\"errors\":[\"1 error occurred:\\n\\t* permission denied\\n\\n\"]}",
        );
        assert_eq!(e.to_string(), "403: permission denied");
        let e = error_from_body(
            500,
            b"{\"errors\":[\"2 errors occurred:\\n\\t* a\\n\\t* b\\n\\n\"]}",
        );
        assert_eq!(e.to_string(), "500: a; b");
        let e = error_from_body(404, br#"{"errors":[]}"#);
        assert_eq!(e.to_string(), "404: not found");
    }

    #[test]
    fn envelope_data() {
        let r = Reply {
            body: Some(json!({"request_id": "x", "data": {"a": 1}, "warnings": ["w"]})),
        };
        assert_eq!(r.data(), json!({"a": 1}));
        assert_eq!(r.warnings(), vec!["w".to_string()]);
        assert!(r.auth().is_none());
        let bare = Reply {
            body: Some(json!({"sealed": false, "t": 1})),
        };
        assert_eq!(bare.data(), json!({"sealed": false, "t": 1}));
        let auth = Reply {
            body: Some(json!({"data": null, "auth": {"client_token": "t"}})),
        };
        assert_eq!(auth.data(), json!({"client_token": "t"}));
        let no_data = Reply {
            body: Some(json!({"request_id": "x", "data": null})),
        };
        assert_eq!(no_data.data(), json!({}));
        let empty = Reply { body: None };
        assert_eq!(empty.data(), json!({}));
    }

    #[test]
    fn paths_are_encoded() {
        assert_eq!(segment("app-key_1.v~"), "app-key_1.v~");
        assert_eq!(segment("a/b c?"), "a%2Fb%20c%3F");
        assert_eq!(mount_path("/transit/prod/"), "transit/prod");
    }
}
