//! Vault's wire conventions: the request as handlers see it ([`Call`]), the
//! reply envelope ([`Reply`]) and errors as `{"errors": [...]}` ([`ApiError`]).

pub mod params;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::OnceLock;
use yaoshi_core::KmsError;
use yaoshi_core::store::StoreError;

pub use params::Params;

/// The kind of request, after Vault's method mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// GET.
    Read,
    /// PUT or POST (Vault treats them alike).
    Write,
    /// DELETE.
    Delete,
    /// LIST, or GET with `?list=true`.
    List,
}

/// One API request as the handlers see it.
#[derive(Debug)]
pub struct Call {
    /// The operation.
    pub op: Op,
    /// Path after `/v1/`, without leading or trailing slashes.
    pub path: String,
    /// Body (and, for reads, query) parameters.
    pub params: Params,
    /// The client's token, from `X-Vault-Token` or `Authorization: Bearer`.
    pub token: Option<String>,
    /// Identifier echoed in the envelope and logs.
    pub request_id: String,
    /// The key type an operation used, for metrics (set by handlers).
    pub key_type: OnceLock<&'static str>,
    /// A parked request being executed after its approvals: who it runs as
    /// (the requester) and the approval's id. `None` for requests from the
    /// network.
    pub approved: Option<(yaoshi_core::auth::Authenticated, String)>,
}

impl Call {
    /// Records the key type the request worked on (first call wins).
    pub fn note_key_type(&self, key_type: &'static str) {
        let _ = self.key_type.set(key_type);
    }
}

/// A successful reply.
#[derive(Debug, Default)]
pub struct Reply {
    /// `data` of the envelope; `None` with no warnings gives 204.
    pub data: Option<Value>,
    /// `auth` of the envelope (token endpoints).
    pub auth: Option<Value>,
    /// Warnings (unknown parameters and the like).
    pub warnings: Vec<String>,
    /// A body sent as is, without the envelope (sys endpoints), and its status.
    pub raw: Option<(StatusCode, Value)>,
    /// A non-JSON body and its content type (Prometheus metrics).
    pub text: Option<(&'static str, String)>,
    /// A status other than 200 for an enveloped reply (failed batch items).
    pub status_override: Option<u16>,
}

impl Reply {
    /// A reply carrying `data`.
    pub fn data(data: Value) -> Self {
        Self {
            data: Some(data),
            ..Self::default()
        }
    }

    /// A 204 reply (200 if warnings are added).
    pub fn empty() -> Self {
        Self::default()
    }

    /// A body without the envelope.
    pub fn raw(status: StatusCode, body: Value) -> Self {
        Self {
            raw: Some((status, body)),
            ..Self::default()
        }
    }

    /// A plain-text body.
    pub fn text(content_type: &'static str, body: String) -> Self {
        Self {
            text: Some((content_type, body)),
            ..Self::default()
        }
    }

    /// Adds Vault's warning for parameters the endpoint does not know.
    pub fn warn_unknown(mut self, unknown: Vec<String>) -> Self {
        if !unknown.is_empty() {
            self.warnings.push(format!(
                "Endpoint ignored these unrecognized parameters: [{}]",
                unknown.join(" ")
            ));
        }
        self
    }

    /// The HTTP status this reply is sent with.
    pub fn status(&self) -> StatusCode {
        if let Some(code) = self.status_override {
            return StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
        }
        match (&self.raw, &self.text) {
            (Some((status, _)), _) => *status,
            (None, Some(_)) => StatusCode::OK,
            _ if self.data.is_none() && self.auth.is_none() && self.warnings.is_empty() => {
                StatusCode::NO_CONTENT
            }
            _ => StatusCode::OK,
        }
    }

    /// Renders the reply; `request_id` goes into the envelope.
    pub fn into_response(self, request_id: &str) -> Response {
        let status = self.status();
        if let Some((content_type, body)) = self.text {
            return ([(header::CONTENT_TYPE, content_type)], body).into_response();
        }
        if let Some((status, body)) = self.raw {
            return json_response(status, &body);
        }
        if status == StatusCode::NO_CONTENT {
            return StatusCode::NO_CONTENT.into_response();
        }
        // Built field by field so that `data` (a batch's thousands of values)
        // is moved in: `json!` would copy it through `to_value`.
        let warnings = if self.warnings.is_empty() {
            Value::Null
        } else {
            Value::from(self.warnings)
        };
        let envelope: serde_json::Map<String, Value> = [
            ("request_id", Value::from(request_id)),
            ("lease_id", Value::from("")),
            ("renewable", Value::Bool(false)),
            ("lease_duration", Value::from(0)),
            ("data", self.data.unwrap_or(Value::Null)),
            ("wrap_info", Value::Null),
            ("warnings", warnings),
            ("auth", self.auth.unwrap_or(Value::Null)),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect();
        json_response(status, &Value::Object(envelope))
    }
}

/// A JSON response with the given status.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A failed request: the status and Vault's `errors` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// Messages; empty for a plain 404.
    pub errors: Vec<String>,
    /// The compliance-profile rule that refused the request, if one did.
    pub profile_rule: Option<String>,
}

impl ApiError {
    /// An error with one message.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            errors: vec![message.into()],
            profile_rule: None,
        }
    }

    /// 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// Vault's 404 with an empty error list.
    pub fn not_found() -> Self {
        Self {
            status: 404,
            errors: Vec::new(),
            profile_rule: None,
        }
    }

    /// 403 "permission denied".
    pub fn permission_denied() -> Self {
        Self::new(403, "permission denied")
    }

    /// 405 for a method the path does not support.
    pub fn unsupported_operation() -> Self {
        Self::new(405, "unsupported operation")
    }

    /// Whether the client is at fault.
    pub fn is_client_error(&self) -> bool {
        (400..500).contains(&self.status)
    }

    /// Renders `{"errors": [...]}`.
    pub fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        json_response(status, &json!({ "errors": self.errors }))
    }
}

impl From<KmsError> for ApiError {
    fn from(e: KmsError) -> Self {
        match &e {
            KmsError::KeyNotFound(_) => Self::not_found(),
            KmsError::Sealed => Self::new(503, "Vault is sealed"),
            KmsError::PermissionDenied => Self::permission_denied(),
            KmsError::Conflict(_) => Self::new(409, e.to_string()),
            KmsError::ProfileViolation(v) => Self {
                profile_rule: Some(v.rule.to_string()),
                ..Self::new(400, e.to_string())
            },
            KmsError::Store(StoreError::Unavailable(_)) => Self::new(503, e.to_string()),
            KmsError::AuditUnavailable(_) => Self::new(503, e.to_string()),
            _ if e.is_client_error() => Self::bad_request(e.to_string()),
            _ => Self::new(500, e.to_string()),
        }
    }
}

/// The current Unix time in seconds (0 if the clock is before 1970).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;
