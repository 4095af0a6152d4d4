//! The OpenAPI description of `sys/profile` and `sys/audit/prune` (part of
//! [`super`]): the endpoints that change how the deployment is governed.

use super::{authenticated, json_response, operation, shared, typed};
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
