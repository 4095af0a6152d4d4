//! The OpenAPI description of `sys/compliance/*` (part of [`super`]):
//! `check` and `report`, their answers described inline.

use super::{
    authenticated, integer, json_response, object, operation, query_param, schema_ref, shared,
    string, typed,
};
use utoipa::openapi::path::{HttpMethod, PathItem};
use utoipa::openapi::schema::{AllOfBuilder, ArrayBuilder, Schema, Type};
use utoipa::openapi::{RefOr, Response};

const ROLES: &str = "Roles: root, audit-admin, auditor.";

/// Vault's envelope whose `data` is `data`.
fn in_envelope(description: &str, data: Schema) -> Response {
    let envelope = AllOfBuilder::new()
        .item(schema_ref("Envelope"))
        .item(object(
            "The envelope with `data` set.",
            vec![("data", data.into())],
            &["data"],
        ))
        .description(Some(description))
        .build();
    json_response(description, Schema::AllOf(envelope).into())
}

fn finding() -> RefOr<Schema> {
    object(
        "One evaluated rule.",
        vec![
            (
                "id",
                string("Stable identifier, e.g. `algorithms.key-types` (docs/compliance.md lists them)."),
            ),
            ("title", string("One-line title.")),
            (
                "status",
                typed(Type::String, "Outcome; any `fail` makes `yaoshi compliance check` exit 1.")
                    .enum_values(Some(["pass", "warn", "fail"]))
                    .into(),
            ),
            ("evidence", string("What was observed; never secret.")),
        ],
        &["id", "title", "status", "evidence"],
    )
    .into()
}

fn findings() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(finding())
        .description(Some("Every finding, in a stable order."))
        .into()
}

fn section(description: &str) -> RefOr<Schema> {
    typed(Type::Object, description).into()
}

fn list(description: &str) -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(typed(Type::Object, "An entry."))
        .description(Some(description))
        .into()
}

pub(crate) fn check() -> PathItem {
    PathItem::new(
        HttpMethod::Get,
        authenticated(operation(
            "complianceCheck",
            "compliance",
            "Evaluate the deployment against its profile",
            &format!(
                "Judges the live deployment against the profile in force: key types, barrier, seal, \
                 audit algorithms, key rotation, audit log integrity (the stored log verified as an \
                 export is; a checkpoint is signed first) and retention, role separation, dual-control \
                 quorum, data centres, locations, jurisdiction and TLS. {ROLES}"
            ),
        ))
        .response(
            "200",
            in_envelope(
                "The findings.",
                object(
                    "The result of the check.",
                    vec![
                        ("profile", string("The profile judged against.")),
                        ("generated_at", integer("Unix time (seconds) of the evaluation.")),
                        ("findings", findings()),
                    ],
                    &["profile", "generated_at", "findings"],
                ),
            ),
        )
        .response("403", shared("PermissionDenied")),
    )
}

pub(crate) fn report() -> PathItem {
    PathItem::new(
        HttpMethod::Get,
        authenticated(operation(
            "complianceReport",
            "compliance",
            "The monthly compliance report",
            &format!(
                "The report of format `yaoshi-compliance-report-v1` for one UTC month (docs/compliance.md): \
                 what `yaoshi compliance report --month` writes as report.json and renders as report.html. \
                 Signs a checkpoint first. {ROLES}"
            ),
        ))
        .parameter(query_param(
            "month",
            "The month, `YYYY-MM` (UTC). Missing or malformed: 400.",
            typed(Type::String, "Month.").pattern(Some("^[0-9]{4}-(0[1-9]|1[0-2])$")).into(),
            true,
        ))
        .response(
            "200",
            in_envelope(
                "The report.",
                object(
                    "The monthly report.",
                    vec![
                        ("format", string("`yaoshi-compliance-report-v1`.")),
                        ("profile", string("The profile in force.")),
                        ("month", string("`YYYY-MM`.")),
                        ("period_start", integer("First second of the month (unix, inclusive).")),
                        ("period_end", integer("First second of the next month (unix, exclusive).")),
                        ("generated_at", integer("Unix time of generation.")),
                        ("deployment", section("jurisdiction, storage_backend, node, version, tls_enabled.")),
                        ("findings", findings()),
                        ("keys", list("Key inventory: mount, name, key_type, state, versions, latest_version, created_at, latest_version_created_at, rotation_period_days, max_rotation_days, rotation_status (`ok`, `due-soon`, `overdue`, `not-required`).")),
                        ("operations", section("Requests of the month: total, allowed, denied, failed, by_algorithm, by_principal, by_operation.")),
                        ("refusals", list("Denied and profile-refused requests of the month (at most 1000): seq, time, principal, operation, path, status, reason.")),
                        ("approvals", list("Dual-control requests created or decided in the month: id, operation, requester, status, approvers, rejected_by, created_at, decided_at.")),
                        ("audit", section("verified, detail, records_in_period, first_seq, last_seq, checkpoint (the latest signed checkpoint), public_key_pem.")),
                        ("residency", section("jurisdiction, allowed_locations, min_data_centres, distinct_data_centres, endpoints (kind, name, location, allowed).")),
                    ],
                    &[
                        "format", "profile", "month", "period_start", "period_end", "generated_at",
                        "deployment", "findings", "keys", "operations", "refusals", "approvals",
                        "audit", "residency",
                    ],
                ),
            ),
        )
        .response("400", shared("BadRequest"))
        .response("403", shared("PermissionDenied")),
    )
}
