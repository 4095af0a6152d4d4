//! A small HTTP client for the server's integration tests: starts dev or
//! stored servers in process and speaks JSON to them.
#![allow(dead_code)]

use reqwest::{Method, StatusCode};
use serde_json::Value;
use yaoshi_server::{DevSettings, RunningServer, ServerSettings};

/// The dev root token used by the tests.
pub const ROOT: &str = "test-root-token";

/// Dev-server settings on a free loopback port with the [`ROOT`] token.
pub fn dev_settings() -> ServerSettings {
    ServerSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        dev: Some(DevSettings {
            root_token: Some(ROOT.into()),
        }),
        ..Default::default()
    }
}

/// Starts a dev server on a free loopback port.
pub async fn dev_server() -> RunningServer {
    yaoshi_server::start(dev_settings())
        .await
        .expect("dev server starts")
}

/// A client for one server and token.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: Option<String>,
    pub http: reqwest::Client,
}

/// A response: status and parsed JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// The envelope's `data`.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The first error message.
    pub fn error(&self) -> String {
        self.body["errors"][0]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

impl Api {
    pub fn new(server: &RunningServer, token: Option<&str>) -> Self {
        Self::with_client(server.url(), token, reqwest::Client::new())
    }

    pub fn with_client(base: String, token: Option<&str>, http: reqwest::Client) -> Self {
        Self {
            base,
            token: token.map(str::to_string),
            http,
        }
    }

    pub fn as_token(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}/v1/{path}", self.base));
        if let Some(t) = &self.token {
            req = req.header("X-Vault-Token", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request is answered");
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        Answer { status, body, text }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call("POST", path, Some(body)).await
    }
}

/// Base64 of bytes.
pub fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}
