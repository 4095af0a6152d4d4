//! The OpenAPI description of `sys/profile`, `sys/audit/prune`,
//! `sys/backup` and `sys/restore` (part of [`super`]): the endpoints that
//! change how the deployment is governed or kept.

use super::{authenticated, json_response, operation, public, query_param, shared, typed};
use utoipa::openapi::path::{HttpMethod, PathItem, PathItemBuilder};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ContentBuilder, ObjectBuilder, RefOr, Required};

fn object(description: &str) -> RefOr<utoipa::openapi::schema::Schema> {
    typed(Type::Object, description).into()
}

/// A JSON body with the given string/integer properties.
fn body(properties: &[(&str, Type, &str)]) -> utoipa::openapi::request_body::RequestBody {
    let schema = properties
        .iter()
        .fold(ObjectBuilder::new(), |o, (name, t, description)| {
            o.property(*name, typed(t.clone(), description))
        });
    RequestBodyBuilder::new()
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
        .required(Some(Required::True))
        .build()
}

const PARKED: &str = "Parked for approval (dual control): `data.approval_id`, `status`, `operation`, `required_approvals`.";

pub(crate) fn audit_prune() -> PathItem {
    PathItem::new(
        HttpMethod::Post,
        authenticated(operation(
            "auditPrune",
            "audit",
            "Prune the audit log under the retention rule",
            "Removes the oldest stored records up to the newest signed checkpoint whose records are all older than the profile's audit_retention_days (and below before_seq), after writing them to an archive in the destination's directory, reading it back and verifying it. Parked when the profile lists prune-audit. Roles: root, audit-admin.",
        ))
        .request_body(Some(body(&[
            ("destination", Type::String, "A declared backup target with a directory, inside the allowed locations."),
            ("before_seq", Type::Integer, "Prune only records below this sequence number."),
        ])))
        .response(
            "200",
            json_response(
                "`data.plan` (from, to, cutoff), `records`, `destination`, `archive`, `archive_hash`, `checkpoint`.",
                object("What was pruned."),
            ),
        )
        .response("202", json_response(PARKED, object("Parked request.")))
        .response("400", shared("BadRequest")),
    )
}

pub(crate) fn profile() -> PathItem {
    let read = authenticated(operation(
        "readProfile",
        "profiles",
        "The compliance profile in force",
        "Any valid token.",
    ))
    .response(
        "200",
        json_response(
            "`data.name`, `title`, `profile` (its fields), `toml`.",
            object("The profile."),
        ),
    )
    .build();
    let change = authenticated(operation(
        "changeProfile",
        "profiles",
        "Change the deployment's profile",
        "Give `name` (a shipped profile) or `toml` (a profile file's text). Refused when the new profile needs another barrier or audit algorithm than the deployment was initialised with, TLS this node does not serve, no dev seal on a dev deployment, or excludes a declared location. Parked when the profile in force lists change-profile. Roles: root, sec-admin.",
    ))
    .request_body(Some(body(&[
        ("name", Type::String, "A shipped profile: default, gb39786-l2, gb39786-l3, gb39786-l4."),
        ("toml", Type::String, "A profile file's text."),
    ])))
    .response(
        "200",
        json_response("`data.name`, `data.previous`.", object("The change.")),
    )
    .response("202", json_response(PARKED, object("Parked request.")))
    .response("400", shared("BadRequest"))
    .build();
    PathItemBuilder::new()
        .operation(HttpMethod::Get, read)
        .operation(HttpMethod::Post, change)
        .build()
}

pub(crate) fn backup() -> PathItem {
    PathItem::new(
        HttpMethod::Get,
        authenticated(operation(
            "backup",
            "seal",
            "Back the whole deployment up",
            "Signs a checkpoint, then snapshots every key, version, entry (configuration, principals, tokens, mounts) and the audit log in one point-in-time read, seals the snapshot under the root key with the barrier algorithm and signs it with the audit key: a `yaoshi-backup-v1` file (docs/formats.md). Refused (400) for a dev seal. Roles: root, sys-admin.",
        ))
        .parameter(query_param(
            "destination",
            "The declared backup target the file is for; required when the profile restricts locations, and then inside them.",
            typed(Type::String, "Backup target name.").into(),
            false,
        ))
        .response(
            "200",
            utoipa::openapi::ResponseBuilder::new()
                .description("The backup file: three lines (header JSON, sealed payload, signature).")
                .content(
                    "application/x-yaoshi-backup",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .build(),
                )
                .build(),
        )
        .response("400", shared("BadRequest")),
    )
}

pub(crate) fn restore() -> PathItem {
    PathItem::new(
        HttpMethod::Post,
        public(operation(
            "restore",
            "seal",
            "Restore a backup into an empty store",
            "Only while the store was never initialised (no token exists yet). Checks the file and its signature, stages it and stores the backup's seal configuration: the node is then initialised and sealed, and the first unseal with the backup's quorum (or device) applies every row. 400 when the store is initialised or the file is damaged.",
        ))
        .request_body(Some(body(&[(
            "backup",
            Type::String,
            "The backup file's text (at most 32 MiB in one request).",
        )])))
        .response(
            "200",
            json_response(
                "`initialized`, `sealed`, `type`, `t`, `n` of the staged deployment and the backup's header as `backup`.",
                object("The staged restore."),
            ),
        )
        .response("400", shared("BadRequest")),
    )
}
