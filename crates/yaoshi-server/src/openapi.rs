//! The OpenAPI 3.1 document of yaoshi's own (non-Transit) endpoints: `sys/*`
//! and `auth/token/*`, served unauthenticated at `GET /v1/sys/openapi` and
//! kept in `docs/openapi.json`. Built with utoipa's builder API from what the
//! handlers in [`crate::sys`] and [`crate::auth_token`] actually do; the
//! Transit engine is described in `docs/api.md`.

#[path = "openapi_approvals.rs"]
mod approvals;
#[path = "openapi_audit.rs"]
mod audit;
#[path = "openapi_compliance.rs"]
mod compliance;
#[path = "openapi_governance.rs"]
mod governance;

use crate::sys::seal::VERSION;
use serde_json::{Value, json};
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, PathItemBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    AllOfBuilder, ArrayBuilder, ComponentsBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType,
    Type,
};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    Components, ContentBuilder, InfoBuilder, LicenseBuilder, OpenApi, OpenApiBuilder, PathsBuilder,
    Ref, RefOr, Required, Response, ResponseBuilder,
};
use yaoshi_core::auth::Role;

/// The path the document is served at (under `/v1/`).
pub const PATH: &str = "sys/openapi";

/// Security scheme name of the `X-Vault-Token` header.
const TOKEN_HEADER: &str = "vault_token";
/// Security scheme name of `Authorization: Bearer`.
const BEARER: &str = "bearer";

/// The document.
pub fn document() -> OpenApi {
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("yaoshi native API")
                .version(VERSION)
                .description(Some(INFO_DESCRIPTION))
                .license(Some(
                    LicenseBuilder::new()
                        .name("Apache-2.0")
                        .identifier(Some("Apache-2.0"))
                        .build(),
                )),
        )
        .tags(Some([
            tag(
                "seal",
                "Initialisation, unsealing, sealing and node status.",
            ),
            tag("mounts", "Transit mounts (the mount table)."),
            tag("principals", "yaoshi principals, their roles and grants."),
            tag("token", "Vault's token endpoints over yaoshi principals."),
            tag("metrics", "Prometheus metrics."),
            tag("meta", "This document."),
            tag(
                "approvals",
                "Dual control: parked requests and their approvals.",
            ),
            tag(
                "audit",
                "The audit log: public key, signed checkpoints, export, verification, proofs, pruning.",
            ),
            tag("profiles", "The compliance profile the deployment runs under."),
            tag(
                "compliance",
                "Compliance findings against the profile in force, and the monthly report.",
            ),
        ]))
        .paths(
            PathsBuilder::new()
                .path("/v1/sys/openapi", openapi_path())
                .path("/v1/sys/health", health_path())
                .path("/v1/sys/seal-status", seal_status_path())
                .path("/v1/sys/init", init_path())
                .path("/v1/sys/unseal", unseal_path())
                .path("/v1/sys/seal", seal_path())
                .path("/v1/sys/leader", leader_path())
                .path("/v1/sys/mounts", mounts_path())
                .path("/v1/sys/mounts/{path}", mount_path())
                .path("/v1/sys/metrics", metrics_path())
                .path("/v1/sys/principals", principals_path())
                .path("/v1/sys/principals/{name}", principal_path())
                .path(
                    "/v1/auth/token/create",
                    token_create_path("tokenCreate", false),
                )
                .path(
                    "/v1/auth/token/create-orphan",
                    token_create_path("tokenCreateOrphan", true),
                )
                .path("/v1/auth/token/lookup-self", lookup_self_path())
                .path("/v1/auth/token/revoke-self", revoke_self_path())
                .path("/v1/sys/audit/public-key", audit::public_key())
                .path("/v1/sys/audit/checkpoint", audit::checkpoint())
                .path("/v1/sys/audit/export", audit::export())
                .path("/v1/sys/audit/verify", audit::verify())
                .path("/v1/sys/audit/records", audit::records())
                .path("/v1/sys/audit/proof/{seq}", audit::proof())
                .path("/v1/sys/audit/consistency", audit::consistency())
                .path("/v1/sys/audit/prune", governance::audit_prune())
                .path("/v1/sys/profile", governance::profile())
                .path("/v1/sys/backup", governance::backup())
                .path("/v1/sys/restore", governance::restore())
                .path("/v1/sys/compliance/check", compliance::check())
                .path("/v1/sys/compliance/report", compliance::report())
                .path("/v1/sys/approvals", approvals::list())
                .path("/v1/sys/approvals/{id}", approvals::show())
                .path("/v1/sys/approvals/{id}/approve", approvals::approve())
                .path("/v1/sys/approvals/{id}/reject", approvals::reject()),
        )
        .components(Some(components()))
        .build()
}

/// The document as JSON (what `GET /v1/sys/openapi` returns).
pub fn document_json() -> Value {
    serde_json::to_value(document()).unwrap_or_else(|e| json!({ "error": e.to_string() }))
}

const INFO_DESCRIPTION: &str = "\
yaoshi's own endpoints: seal lifecycle and status, mounts, metrics, principals \
and Vault's token endpoints. The Transit engine under each mount follows the \
Vault/OpenBao Transit API and is described in docs/api.md.\n\n\
Wire conventions (all endpoints): PUT and POST are the same operation; \
`LIST <path>` equals `GET <path>?list=true` (or `list=1`); HEAD is GET \
without a body. Request bodies are a JSON object, `null` or empty; any other \
JSON is a 400. Scalars given as strings are coerced (`\"true\"`, `\"5\"`), \
and durations may be seconds or Go-style (`\"1h30m\"`). On GET, query \
parameters are read too (body fields win). Bodies over 32 MiB get 413. \
Tokens go in `X-Vault-Token` or `Authorization: Bearer`; a missing, unknown, \
expired or insufficient token is 403 `permission denied` (never 401). A \
method a path does not serve is 405 `unsupported operation`. Every response \
has `Cache-Control: no-store`. Errors are `{\"errors\": [...]}`; most \
successful replies use Vault's envelope, but `sys/init`, `sys/unseal`, \
`sys/seal-status`, `sys/health`, `sys/leader` and this document are bare \
JSON, as in Vault, and `sys/metrics` is Prometheus text.";

fn tag(name: &str, description: &str) -> utoipa::openapi::tag::Tag {
    TagBuilder::new()
        .name(name)
        .description(Some(description))
        .build()
}

// ---------------------------------------------------------------- schemas

pub(crate) fn typed(t: Type, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(t)
        .description(Some(description))
}

fn string(description: &str) -> RefOr<Schema> {
    typed(Type::String, description).into()
}

fn integer(description: &str) -> RefOr<Schema> {
    typed(Type::Integer, description).into()
}

fn boolean(description: &str) -> RefOr<Schema> {
    typed(Type::Boolean, description).into()
}

fn nullable(types: &[Type], description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(types.iter().cloned().collect::<SchemaType>())
        .description(Some(description))
        .into()
}

fn constant(value: Value, description: &str) -> RefOr<Schema> {
    let t = match &value {
        Value::Bool(_) => Type::Boolean,
        Value::Number(_) => Type::Integer,
        Value::Null => Type::Null,
        _ => Type::String,
    };
    typed(t, description).enum_values(Some([value])).into()
}

fn strings(description: &str) -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(description))
        .into()
}

/// A list of strings, or one comma-separated string (the `str_list` coercion).
fn string_list(description: &str) -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)))
        .item(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(description))
        .into()
}

fn schema_ref(name: &str) -> RefOr<Schema> {
    Ref::from_schema_name(name).into()
}

fn object(description: &str, properties: Vec<(&str, RefOr<Schema>)>, required: &[&str]) -> Schema {
    let mut builder = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description));
    for (name, schema) in properties {
        builder = builder.property(name, schema);
    }
    for name in required {
        builder = builder.required(*name);
    }
    Schema::Object(builder.build())
}

/// Vault's envelope with `data` (or `auth`) of the given schema.
fn envelope_with(field: &str, schema: &str, description: &str) -> Schema {
    Schema::AllOf(
        AllOfBuilder::new()
            .item(schema_ref("Envelope"))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .property(field, schema_ref(schema))
                    .required(field),
            )
            .description(Some(description))
            .build(),
    )
}

fn components() -> Components {
    ComponentsBuilder::new()
        .security_scheme(
            TOKEN_HEADER,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Vault-Token",
                "A yaoshi token (the dev root token, a principal's first token, or one from auth/token/create).",
            ))),
        )
        .security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The same token as `Authorization: Bearer <token>`; X-Vault-Token wins when both are sent.",
                    ))
                    .build(),
            ),
        )
        .schema("Envelope", envelope())
        .schema(
            "Errors",
            object(
                "A failed request. A plain 404 has an empty list.",
                vec![("errors", strings("Error messages."))],
                &["errors"],
            ),
        )
        .schema("HealthStatus", health_status())
        .schema("SealStatus", seal_status())
        .schema(
            "InitStatus",
            object(
                "Whether the deployment is initialised.",
                vec![("initialized", boolean("True once `PUT sys/init` (or dev mode) ran."))],
                &["initialized"],
            ),
        )
        .schema("InitRequest", init_request())
        .schema("InitResponse", init_response())
        .schema("UnsealRequest", unseal_request())
        .schema(
            "LeaderStatus",
            object(
                "Every yaoshi node serves requests itself (no standby forwarding); the scheduler-lease holder alone runs scheduled work.",
                vec![
                    ("ha_enabled", constant(json!(true), "Always true: nodes share the store's scheduler lease.")),
                    ("is_self", boolean("Whether this node holds the scheduler lease.")),
                    ("leader_address", constant(json!(""), "Always empty (no forwarding).")),
                    ("leader_cluster_address", constant(json!(""), "Always empty.")),
                    ("performance_standby", constant(json!(false), "Always false.")),
                    ("performance_standby_last_remote_wal", constant(json!(0), "Always 0.")),
                    ("leader_node", nullable(&[Type::String, Type::Null], "Node name of the lease holder; null when none holds it or the store is unreachable.")),
                ],
                &["ha_enabled", "is_self", "leader_address", "leader_node"],
            ),
        )
        .schema("Mount", mount())
        .schema(
            "MountMap",
            Schema::Object(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .description(Some("Mounts by path (with trailing slash, e.g. `transit/`)."))
                    .additional_properties(Some(Ref::from_schema_name("Mount")))
                    .build(),
            ),
        )
        .schema("MountsResponse", flattened("MountMap", "The mount map, both at the top level (keyed by path) and in the envelope's `data`, as Vault does."))
        .schema("MountResponse", flattened("Mount", "One mount's fields, both at the top level and in the envelope's `data`, as Vault does."))
        .schema("MountEnableRequest", mount_enable_request())
        .schema("Principal", principal())
        .schema("PrincipalCreated", principal_created())
        .schema("PrincipalList", principal_list())
        .schema("PrincipalWriteRequest", principal_write_request())
        .schema(
            "PrincipalResponse",
            envelope_with("data", "Principal", "A principal in the envelope."),
        )
        .schema(
            "PrincipalCreatedResponse",
            envelope_with(
                "data",
                "PrincipalCreated",
                "The new principal and its first token, in the envelope.",
            ),
        )
        .schema(
            "PrincipalListResponse",
            envelope_with("data", "PrincipalList", "Every principal, in the envelope."),
        )
        .schema("TokenCreateRequest", token_create_request())
        .schema("TokenAuth", token_auth())
        .schema(
            "TokenCreateResponse",
            envelope_with(
                "auth",
                "TokenAuth",
                "The new token in the envelope's `auth`; `data` is null.",
            ),
        )
        .schema("TokenLookup", token_lookup())
        .schema(
            "TokenLookupResponse",
            envelope_with("data", "TokenLookup", "The calling token, in the envelope."),
        )
        .response("BadRequest", error_response("Invalid request (message in `errors`)."))
        .response(
            "PermissionDenied",
            error_response(
                "Missing, unknown, expired or revoked token, or the principal's roles do not allow the operation: `permission denied`.",
            ),
        )
        .response("NotFound", error_response("Not found: `{\"errors\": []}`."))
        .response(
            "PayloadTooLarge",
            error_response("The request body is over 32 MiB: `http: request body too large`."),
        )
        .response(
            "Unavailable",
            error_response("The node is sealed (`Vault is sealed`) or storage is unavailable."),
        )
        .build()
}

fn envelope() -> Schema {
    object(
        "Vault's response envelope. `warnings` lists e.g. `Endpoint ignored these unrecognized parameters: [a b]` and is null when there are none.",
        vec![
            ("request_id", string("Random UUID of this request.")),
            ("lease_id", constant(json!(""), "Always empty.")),
            ("renewable", constant(json!(false), "Always false.")),
            ("lease_duration", constant(json!(0), "Always 0.")),
            ("data", nullable(&[Type::Object, Type::Null], "The payload; null on token creation.")),
            ("wrap_info", constant(Value::Null, "Response wrapping is not supported; always null.")),
            ("warnings", ObjectBuilder::new()
                .schema_type([Type::Array, Type::Null].into_iter().collect::<SchemaType>())
                .description(Some("Warnings, or null."))
                .into()),
            ("auth", nullable(&[Type::Object, Type::Null], "Set by token creation, else null.")),
            (
                "mount_type",
                typed(Type::String, "`system` for sys/*, `token` for auth/token/*, `transit` for Transit mounts; absent from the sys/mounts replies.")
                    .enum_values(Some(["system", "token", "transit"]))
                    .into(),
            ),
        ],
        &["request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info", "warnings", "auth"],
    )
}

fn flattened(inner: &str, description: &str) -> Schema {
    Schema::AllOf(
        AllOfBuilder::new()
            .item(schema_ref(inner))
            .item(schema_ref("Envelope"))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .property("data", schema_ref(inner)),
            )
            .description(Some(description))
            .build(),
    )
}

fn health_status() -> Schema {
    object(
        "Node health (bare JSON). `cluster_name` and `cluster_id` only when unsealed.",
        vec![
            (
                "initialized",
                boolean("Whether the deployment is initialised."),
            ),
            ("sealed", boolean("Whether this node is sealed.")),
            (
                "standby",
                boolean(
                    "Equal to `sealed`: every unsealed node serves requests (`ha.role` names its scheduler role).",
                ),
            ),
            (
                "replication_performance_mode",
                string("`disabled`, or `unknown` when sealed."),
            ),
            (
                "replication_dr_mode",
                string("`disabled`, or `unknown` when sealed."),
            ),
            ("server_time_utc", integer("Unix seconds.")),
            ("version", string("yaoshi version.")),
            (
                "storage_type",
                string("Storage back end (`sqlite`, `postgres`)."),
            ),
            (
                "ha",
                Schema::Object(
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .description(Some("This node under the scheduler lease."))
                        .property(
                            "role",
                            string("`leader` (holds the lease, runs scheduled work) or `standby`."),
                        )
                        .property(
                            "leader_node",
                            nullable(
                                &[Type::String, Type::Null],
                                "Node name of the lease holder, or null.",
                            ),
                        )
                        .required("role")
                        .build(),
                )
                .into(),
            ),
            (
                "store",
                Schema::Object(
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .description(Some(
                            "The store as this node's last lease attempt (every second) found it.",
                        ))
                        .property("type", string("`sqlite` or `postgres`."))
                        .property("reachable", boolean("Whether the last attempt succeeded."))
                        .property("error", string("Why it failed; only when it did."))
                        .required("type")
                        .required("reachable")
                        .build(),
                )
                .into(),
            ),
            (
                "cluster_name",
                constant(json!("yaoshi"), "Only when unsealed."),
            ),
            (
                "cluster_id",
                string("Random identity of this server process; only when unsealed."),
            ),
        ],
        &[
            "initialized",
            "sealed",
            "standby",
            "replication_performance_mode",
            "replication_dr_mode",
            "server_time_utc",
            "version",
            "storage_type",
        ],
    )
}

fn seal_status() -> Schema {
    object(
        "Seal status (bare JSON). `barrier` only once initialised; `cluster_name` and `cluster_id` only when unsealed.",
        vec![
            (
                "type",
                string("Seal type: `shamir`, `device` or `dev` (`shamir` before init)."),
            ),
            (
                "initialized",
                boolean("Whether the deployment is initialised."),
            ),
            ("sealed", boolean("Whether this node is sealed.")),
            ("t", integer("Shares needed to unseal.")),
            ("n", integer("Shares issued.")),
            (
                "progress",
                integer("Shares supplied so far in the current attempt."),
            ),
            (
                "nonce",
                string("Identifier of the current unseal attempt, empty when none."),
            ),
            ("recovery_seal", constant(json!(false), "Always false.")),
            ("version", string("yaoshi version.")),
            ("migration", constant(json!(false), "Always false.")),
            (
                "storage_type",
                string("Storage back end (`sqlite`, `postgres`)."),
            ),
            (
                "barrier",
                typed(Type::String, "Barrier algorithm, once initialised.")
                    .enum_values(Some(["aes256-gcm", "sm4-gcm"]))
                    .into(),
            ),
            (
                "cluster_name",
                constant(json!("yaoshi"), "Only when unsealed."),
            ),
            ("cluster_id", string("Only when unsealed.")),
        ],
        &[
            "type",
            "initialized",
            "sealed",
            "t",
            "n",
            "progress",
            "nonce",
            "recovery_seal",
            "version",
            "migration",
            "storage_type",
        ],
    )
}

fn init_request() -> Schema {
    object(
        "Shamir initialisation (the share counts are ignored under a device seal). `pgp_keys`, `root_token_pgp_key` and `recovery_shares` are refused with 400; other unknown parameters are ignored without a warning.",
        vec![
            (
                "secret_shares",
                typed(
                    Type::Integer,
                    "Shares to split the unseal key into, 1 to 255 (default 5).",
                )
                .minimum(Some(1))
                .maximum(Some(255))
                .default(Some(json!(5)))
                .into(),
            ),
            (
                "secret_threshold",
                typed(
                    Type::Integer,
                    "Shares needed to unseal, 1 to `secret_shares` (default 3).",
                )
                .minimum(Some(1))
                .maximum(Some(255))
                .default(Some(json!(3)))
                .into(),
            ),
        ],
        &[],
    )
}

fn init_response() -> Schema {
    object(
        "The unseal key shares and the root token, shown once.",
        vec![
            ("keys", strings("Shares, hex (empty under a device seal).")),
            ("keys_base64", strings("The same shares, standard base64.")),
            ("root_token", string("Token of the `root` principal.")),
        ],
        &["keys", "keys_base64", "root_token"],
    )
}

fn unseal_request() -> Schema {
    object(
        "One unseal key share, or `reset` to discard the shares supplied so far.",
        vec![
            (
                "key",
                string("A share, hex or standard base64. Required unless `reset` is true."),
            ),
            ("reset", boolean("Discard the current attempt's shares.")),
        ],
        &[],
    )
}

fn mount() -> Schema {
    object(
        "A mount as Vault shows it; yaoshi fills the fields it has no notion of with fixed values.",
        vec![
            ("accessor", string("`transit_<8 hex digits>`.")),
            (
                "config",
                object(
                    "Fixed.",
                    vec![
                        ("default_lease_ttl", constant(json!(0), "Always 0.")),
                        ("force_no_cache", constant(json!(false), "Always false.")),
                        ("max_lease_ttl", constant(json!(0), "Always 0.")),
                    ],
                    &[],
                )
                .into(),
            ),
            ("description", string("Free text.")),
            (
                "external_entropy_access",
                constant(json!(false), "Always false."),
            ),
            ("local", constant(json!(false), "Always false.")),
            ("options", constant(Value::Null, "Always null.")),
            ("plugin_version", constant(json!(""), "Always empty.")),
            (
                "running_plugin_version",
                constant(json!(""), "Always empty."),
            ),
            ("running_sha256", constant(json!(""), "Always empty.")),
            ("seal_wrap", constant(json!(false), "Always false.")),
            (
                "type",
                constant(json!("transit"), "The engine (only `transit`)."),
            ),
            ("uuid", string("Random UUID.")),
        ],
        &["accessor", "config", "description", "type", "uuid"],
    )
}

fn mount_enable_request() -> Schema {
    object(
        "Enables a Transit engine. `config`, `options`, `local`, `seal_wrap`, `external_entropy_access`, `plugin_version` and `path` are accepted and ignored; other names draw an unknown-parameter warning.",
        vec![
            (
                "type",
                constant(
                    json!("transit"),
                    "Required; only `transit` (anything else is 400).",
                ),
            ),
            ("description", string("Free text (default empty).")),
        ],
        &["type"],
    )
}

fn principal() -> Schema {
    object(
        "A principal: who a token belongs to, with its roles and (for `app`) grants.",
        vec![
            (
                "name",
                string("1 to 128 characters of `A-Z a-z 0-9 . _ -`."),
            ),
            (
                "roles",
                ArrayBuilder::new()
                    .items(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(Role::ALL.map(Role::name))),
                    )
                    .description(Some("Role names."))
                    .into(),
            ),
            (
                "grants",
                strings(
                    "Grants in text form `<key pattern>:<ops>`, e.g. `app-*:encrypt,decrypt` (`*` for every operation).",
                ),
            ),
            ("created_at", integer("Unix seconds.")),
            (
                "created_by",
                string("Name of the creating principal (`init` for `root`)."),
            ),
        ],
        &["name", "roles", "grants", "created_at", "created_by"],
    )
}

fn principal_created() -> Schema {
    Schema::AllOf(
        AllOfBuilder::new()
            .item(schema_ref("Principal"))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .property(
                        "token",
                        string("The principal's first token (no expiry). Shown only here."),
                    )
                    .property("accessor", string("The token's accessor."))
                    .required("token")
                    .required("accessor"),
            )
            .description(Some("The new principal and its first token."))
            .build(),
    )
}

fn principal_list() -> Schema {
    object(
        "Every principal, sorted by name.",
        vec![
            ("keys", strings("Principal names.")),
            (
                "key_info",
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .description(Some("Each principal by name."))
                    .additional_properties(Some(Ref::from_schema_name("Principal")))
                    .into(),
            ),
        ],
        &["keys", "key_info"],
    )
}

fn principal_write_request() -> Schema {
    object(
        "A new principal. At least one role; `root` cannot be granted; grants need the `app` role. Callers without the root role may only create `app` and `auditor` principals.",
        vec![
            (
                "roles",
                string_list(
                    "Role names: `sys-admin`, `sec-admin`, `audit-admin`, `app`, `auditor` (duplicates are dropped).",
                ),
            ),
            (
                "grants",
                string_list(
                    "Grants `<key pattern>:<ops>`; ops are `read`, `encrypt`, `decrypt`, `rewrap`, `datakey`, `sign`, `verify`, `hmac` (comma-separated) or `*`.",
                ),
            ),
        ],
        &["roles"],
    )
}

fn token_create_request() -> Schema {
    object(
        "A new token for the calling principal; it carries exactly the principal's roles and grants. `policies`, `meta`, `no_parent`, `no_default_policy`, `renewable`, `explicit_max_ttl`, `num_uses`, `period`, `type`, `entity_alias` and `id` are accepted and ignored (`policies` with a warning); other names draw an unknown-parameter warning.",
        vec![
            (
                "ttl",
                nullable(
                    &[Type::String, Type::Integer],
                    "Lifetime: seconds or Go-style (`1h`); 0 or absent means no expiry of its own. A token created by an expiring token never outlives it.",
                ),
            ),
            (
                "display_name",
                string(
                    "At most 256 characters, no control characters (default: the principal's name).",
                ),
            ),
            (
                "policies",
                strings("Ignored with a warning: yaoshi tokens carry their principal's roles."),
            ),
        ],
        &[],
    )
}

fn token_auth() -> Schema {
    object(
        "The envelope's `auth` after token creation.",
        vec![
            ("client_token", string("The new token.")),
            ("accessor", string("Its accessor.")),
            ("policies", strings("The principal's role names.")),
            ("token_policies", strings("The principal's role names.")),
            (
                "metadata",
                object(
                    "Token metadata.",
                    vec![("principal", string("The principal's name."))],
                    &["principal"],
                )
                .into(),
            ),
            (
                "lease_duration",
                integer("The requested `ttl` in seconds, 0 without one."),
            ),
            ("renewable", constant(json!(false), "Always false.")),
            ("entity_id", constant(json!(""), "Always empty.")),
            (
                "token_type",
                constant(json!("service"), "Always `service`."),
            ),
            ("orphan", constant(json!(false), "Always false.")),
            ("mfa_requirement", constant(Value::Null, "Always null.")),
            ("num_uses", constant(json!(0), "Always 0 (unlimited).")),
        ],
        &[
            "client_token",
            "accessor",
            "policies",
            "token_policies",
            "metadata",
            "lease_duration",
            "renewable",
        ],
    )
}

fn token_lookup() -> Schema {
    object(
        "The calling token, as Vault's lookup-self shows it.",
        vec![
            ("accessor", string("The token's accessor.")),
            ("creation_time", integer("Unix seconds.")),
            (
                "creation_ttl",
                integer("Lifetime in seconds at creation, 0 without expiry."),
            ),
            ("display_name", string("Display name.")),
            ("entity_id", constant(json!(""), "Always empty.")),
            (
                "expire_time",
                nullable(&[Type::String, Type::Null], "RFC 3339 expiry, or null."),
            ),
            ("explicit_max_ttl", constant(json!(0), "Always 0.")),
            ("id", string("The token itself, as sent.")),
            ("issue_time", string("RFC 3339 creation time.")),
            (
                "meta",
                object(
                    "Token metadata.",
                    vec![("principal", string("The principal's name."))],
                    &["principal"],
                )
                .into(),
            ),
            ("num_uses", constant(json!(0), "Always 0.")),
            ("orphan", constant(json!(true), "Always true.")),
            (
                "path",
                constant(json!("auth/token/create"), "Always `auth/token/create`."),
            ),
            ("policies", strings("The principal's role names.")),
            ("renewable", constant(json!(false), "Always false.")),
            ("ttl", integer("Seconds left, 0 without expiry.")),
            ("type", constant(json!("service"), "Always `service`.")),
        ],
        &[
            "accessor",
            "creation_time",
            "creation_ttl",
            "display_name",
            "id",
            "issue_time",
            "meta",
            "policies",
            "ttl",
            "type",
        ],
    )
}

// -------------------------------------------------------------- responses

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Errors")))
                .build(),
        )
        .build()
}

pub(crate) fn json_response(description: &str, schema: RefOr<Schema>) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
        .build()
}

fn no_content(description: &str) -> Response {
    ResponseBuilder::new().description(description).build()
}

pub(crate) fn shared(name: &str) -> Ref {
    Ref::from_response_name(name)
}

// ------------------------------------------------------------- operations

pub(crate) fn operation(id: &str, tag: &str, summary: &str, description: &str) -> OperationBuilder {
    OperationBuilder::new()
        .operation_id(Some(id))
        .tag(tag)
        .summary(Some(summary))
        .description(Some(description))
}

/// Needs a token (either header).
pub(crate) fn authenticated(op: OperationBuilder) -> OperationBuilder {
    op.security(SecurityRequirement::new::<_, [String; 0], String>(
        TOKEN_HEADER,
        [],
    ))
    .security(SecurityRequirement::new::<_, [String; 0], String>(
        BEARER,
        [],
    ))
    .response("403", shared("PermissionDenied"))
    .response("503", shared("Unavailable"))
}

/// No token needed.
pub(crate) fn public(op: OperationBuilder) -> OperationBuilder {
    op.securities(Some(Vec::<SecurityRequirement>::new()))
}

/// Takes a JSON body.
fn with_body(op: OperationBuilder, schema: &str, required: bool) -> OperationBuilder {
    op.request_body(Some(
        RequestBodyBuilder::new()
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(schema)))
                    .build(),
            )
            .required(Some(if required {
                Required::True
            } else {
                Required::False
            }))
            .build(),
    ))
    .response("400", shared("BadRequest"))
    .response("413", shared("PayloadTooLarge"))
}

pub(crate) fn path_param(name: &str, description: &str) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
}

pub(crate) fn query_param(
    name: &str,
    description: &str,
    schema: RefOr<Schema>,
    required: bool,
) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .description(Some(description))
        .schema(Some(schema))
}

fn openapi_path() -> PathItem {
    PathItem::new(
        HttpMethod::Get,
        public(operation(
            "openapi",
            "meta",
            "This OpenAPI document",
            "The OpenAPI 3.1 document of yaoshi's own endpoints, as bare JSON. No token needed; served sealed too.",
        ))
        .response(
            "200",
            json_response(
                "The document.",
                typed(Type::Object, "An OpenAPI 3.1 document.").into(),
            ),
        ),
    )
}

fn health_path() -> PathItem {
    let code = |name: &str, default: u16, state: &str| {
        query_param(
            name,
            &format!(
                "Status to answer with when {state} (100 to 599; default {default}); anything else is 400."
            ),
            typed(Type::Integer, "HTTP status.")
                .minimum(Some(100))
                .maximum(Some(599))
                .into(),
            false,
        )
    };
    PathItem::new(
        HttpMethod::Get,
        public(operation(
            "health",
            "seal",
            "Node health",
            "Bare JSON status whose HTTP code tells the state: 200 active, 503 sealed, 501 not initialised; the codes can be overridden. HEAD gives the same status without a body. No token needed.",
        ))
        .parameter(code("activecode", 200, "initialised and unsealed"))
        .parameter(code("sealedcode", 503, "sealed"))
        .parameter(code("uninitcode", 501, "not initialised"))
        .response("200", json_response("Initialised and unsealed.", schema_ref("HealthStatus")))
        .response("400", shared("BadRequest"))
        .response("501", json_response("Not initialised.", schema_ref("HealthStatus")))
        .response(
            "503",
            json_response(
                "Sealed (HealthStatus), or storage unavailable (Errors).",
                OneOfBuilder::new()
                    .item(schema_ref("HealthStatus"))
                    .item(schema_ref("Errors"))
                    .into(),
            ),
        ),
    )
}

fn seal_status_path() -> PathItem {
    PathItem::new(
        HttpMethod::Get,
        public(operation(
            "sealStatus",
            "seal",
            "Seal status",
            "Bare JSON, always 200 while storage answers. No token needed.",
        ))
        .response(
            "200",
            json_response("The seal status.", schema_ref("SealStatus")),
        )
        .response("503", shared("Unavailable")),
    )
}

fn init_path() -> PathItem {
    PathItemBuilder::new()
        .operation(
            HttpMethod::Get,
            public(operation(
                "initStatus",
                "seal",
                "Initialisation status",
                "Bare JSON. No token needed.",
            ))
            .response("200", json_response("Whether initialised.", schema_ref("InitStatus")))
            .response("503", shared("Unavailable")),
        )
        .operation(
            HttpMethod::Post,
            with_body(
                public(operation(
                    "init",
                    "seal",
                    "Initialise with Shamir shares or the device seal",
                    "Creates the root key split into `secret_shares` shares, the `root` principal and its token, and mounts `transit/`; the node stays sealed until unsealed with the shares. On a node configured with a device seal (`[seal.pkcs11]`) the root key is wrapped by the device instead (generating the wrapping key in the token if missing), `secret_shares` and `secret_threshold` are ignored, `keys` and `keys_base64` are empty (as in Vault with auto-unseal) and the node comes up unsealed. Bare JSON; the shares and root token are shown only here. Initialising twice is 400 `Vault is already initialized`. No token needed.",
                )),
                "InitRequest",
                false,
            )
            .response("200", json_response("Shares and root token.", schema_ref("InitResponse")))
            .response("503", shared("Unavailable")),
        )
        .build()
}

fn unseal_path() -> PathItem {
    PathItem::new(
        HttpMethod::Post,
        with_body(
            public(operation(
                "unseal",
                "seal",
                "Supply an unseal key share",
                "Adds one share to the current attempt (or resets it) and answers with the seal status as bare JSON; the node unseals when `t` shares agree. Bad or repeated shares and an uninitialised deployment are 400. No token needed.",
            )),
            "UnsealRequest",
            true,
        )
        .response("200", json_response("The seal status after this share.", schema_ref("SealStatus")))
        .response("503", shared("Unavailable")),
    )
}

fn seal_path() -> PathItem {
    PathItem::new(
        HttpMethod::Post,
        authenticated(operation(
            "seal",
            "seal",
            "Seal this node",
            "Forgets the root key on this node. Roles: root, sys-admin. On a sealed node the token cannot be checked: 503.",
        ))
        .response("204", no_content("Sealed.")),
    )
}

fn leader_path() -> PathItem {
    PathItem::new(
        HttpMethod::Get,
        public(operation(
            "leader",
            "seal",
            "HA status",
            "Bare JSON: `ha_enabled` (always true), `is_self` (this node holds the scheduler lease) and `leader_node`. Every node serves requests itself. No token needed.",
        ))
        .response("200", json_response("HA status.", schema_ref("LeaderStatus"))),
    )
}

fn mounts_path() -> PathItem {
    PathItem::new(
        HttpMethod::Get,
        authenticated(operation(
            "listMounts",
            "mounts",
            "List mounts",
            "Every Transit mount (yaoshi lists no `sys/`, `cubbyhole/` or `identity/` entries). Roles: root, sys-admin.",
        ))
        .response("200", json_response("The mount map.", schema_ref("MountsResponse"))),
    )
}

fn mount_path() -> PathItem {
    let param = || {
        path_param(
            "path",
            "Mount path, trailing slash optional; it may contain `/` (e.g. `team/transit`). `sys/` and `auth/`, paths inside or around another mount, empty segments, `..` and control characters are refused.",
        )
    };
    PathItemBuilder::new()
        .operation(
            HttpMethod::Get,
            authenticated(operation(
                "readMount",
                "mounts",
                "Read a mount",
                "Roles: root, sys-admin. Nothing mounted there is 400 `No secret engine mount at <path>/`.",
            ))
            .parameter(param())
            .response("200", json_response("The mount.", schema_ref("MountResponse")))
            .response("400", shared("BadRequest")),
        )
        .operation(
            HttpMethod::Post,
            with_body(
                authenticated(operation(
                    "enableMount",
                    "mounts",
                    "Enable a Transit mount",
                    "Roles: root, sys-admin. 400 when the type is not `transit`, the path is invalid or reserved, or it is already in use (`path is already in use at <path>/`). A mount enabled again at the path of a disabled one finds that mount's keys.",
                ))
                .parameter(param()),
                "MountEnableRequest",
                true,
            )
            .response("204", no_content("Enabled."))
            .response(
                "200",
                json_response(
                    "Enabled; the envelope (data null) carries warnings about unknown parameters.",
                    schema_ref("Envelope"),
                ),
            ),
        )
        .operation(
            HttpMethod::Delete,
            authenticated(operation(
                "disableMount",
                "mounts",
                "Disable a mount",
                "Roles: root, sys-admin. Removes the mount entry only: its keys stay in storage, unreachable, until the same path is mounted again. 204 also when nothing was mounted there.",
            ))
            .parameter(param())
            .response("204", no_content("Disabled (or was not mounted).")),
        )
        .build()
}

fn metrics_path() -> PathItem {
    PathItem::new(
        HttpMethod::Get,
        authenticated(operation(
            "metrics",
            "metrics",
            "Prometheus metrics",
            "Request counts and latencies by operation, key type and status, and the seal state, in Prometheus text format. Roles: root, sys-admin, sec-admin, audit-admin.",
        ))
        .parameter(query_param(
            "format",
            "Only `prometheus` (the default); any other value is 400.",
            typed(Type::String, "Output format.")
                .enum_values(Some(["prometheus"]))
                .into(),
            false,
        ))
        .response(
            "200",
            ResponseBuilder::new()
                .description("Prometheus exposition format 0.0.4.")
                .content(
                    "text/plain; version=0.0.4",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .build(),
                )
                .build(),
        )
        .response("400", shared("BadRequest")),
    )
}

fn principals_path() -> PathItem {
    PathItem::new(
        HttpMethod::Get,
        authenticated(operation(
            "listPrincipals",
            "principals",
            "List principals",
            "`LIST /v1/sys/principals` or `GET /v1/sys/principals?list=true` (a plain GET is 405). Roles: root, sys-admin, sec-admin, audit-admin.",
        ))
        .parameter(query_param(
            "list",
            "Must be `true` (or `1`); the LIST method is the same request.",
            typed(Type::String, "List flag.")
                .enum_values(Some(["true", "1"]))
                .into(),
            true,
        ))
        .response("200", json_response("Every principal.", schema_ref("PrincipalListResponse"))),
    )
}

fn principal_path() -> PathItem {
    let param = || {
        path_param(
            "name",
            "Principal name: 1 to 128 characters of `A-Z a-z 0-9 . _ -`.",
        )
    };
    PathItemBuilder::new()
        .operation(
            HttpMethod::Get,
            authenticated(operation(
                "readPrincipal",
                "principals",
                "Read a principal",
                "Roles: root, sys-admin, sec-admin, audit-admin.",
            ))
            .parameter(param())
            .response("200", json_response("The principal.", schema_ref("PrincipalResponse")))
            .response("404", shared("NotFound")),
        )
        .operation(
            HttpMethod::Post,
            with_body(
                authenticated(operation(
                    "createPrincipal",
                    "principals",
                    "Create a principal and its first token",
                    "Roles: root, sec-admin; without the root role only `app` and `auditor` principals (403 otherwise). 400 for an invalid name, no roles, the `root` role, unknown roles, malformed grants, grants without `app`, or an existing name. The token never expires and is shown only in this reply.",
                ))
                .parameter(param()),
                "PrincipalWriteRequest",
                true,
            )
            .response("200", json_response("The principal and its token.", schema_ref("PrincipalCreatedResponse"))),
        )
        .operation(
            HttpMethod::Delete,
            authenticated(operation(
                "revokePrincipal",
                "principals",
                "Revoke a principal and all its tokens",
                "Roles: root, sec-admin; without the root role only principals whose roles are all `app`/`auditor` (never `root`). An unknown name is 404 with an empty error list.",
            ))
            .parameter(param())
            .response("204", no_content("Revoked."))
            .response("400", shared("BadRequest"))
            .response("404", shared("NotFound")),
        )
        .build()
}

fn token_create_path(id: &str, orphan: bool) -> PathItem {
    let description = if orphan {
        "Same as auth/token/create (yaoshi tokens have no parent tree). Any role."
    } else {
        "Issues another token for the calling principal, with the principal's roles and grants. Any role. A malformed or too large `ttl`, or an invalid `display_name`, is 400."
    };
    PathItem::new(
        HttpMethod::Post,
        with_body(
            authenticated(operation(id, "token", "Create a token", description)),
            "TokenCreateRequest",
            false,
        )
        .response(
            "200",
            json_response("The new token.", schema_ref("TokenCreateResponse")),
        ),
    )
}

fn lookup_self_path() -> PathItem {
    let op = |id: &str| {
        authenticated(operation(
            id,
            "token",
            "Look up the calling token",
            "GET or POST. Any role.",
        ))
        .response(
            "200",
            json_response("The token.", schema_ref("TokenLookupResponse")),
        )
    };
    PathItemBuilder::new()
        .operation(HttpMethod::Get, op("tokenLookupSelf"))
        .operation(HttpMethod::Post, op("tokenLookupSelfPost"))
        .build()
}

fn revoke_self_path() -> PathItem {
    PathItem::new(
        HttpMethod::Post,
        authenticated(operation(
            "tokenRevokeSelf",
            "token",
            "Revoke the calling token",
            "The token stops working at once; other tokens of the principal are unaffected. Any role.",
        ))
        .response("204", no_content("Revoked.")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_openapi_3_1() {
        let doc = document_json();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["version"], VERSION);
        assert!(doc["paths"]["/v1/sys/principals/{name}"]["post"].is_object());
        assert_eq!(doc["paths"]["/v1/sys/health"]["get"]["security"], json!([]));
    }
}
