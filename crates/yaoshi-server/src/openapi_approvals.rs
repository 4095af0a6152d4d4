//! The OpenAPI description of `sys/approvals/*` (part of [`super`]).

use super::{authenticated, json_response, operation, path_param, query_param, shared, typed};
use utoipa::openapi::path::{HttpMethod, PathItem};
use utoipa::openapi::schema::Type;

fn object(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    typed(Type::Object, description).into()
}

pub(crate) fn list() -> PathItem {
    PathItem::new(
        HttpMethod::Get,
        authenticated(operation(
            "listApprovals",
            "approvals",
            "List parked dual-control requests",
            "`LIST /v1/sys/approvals` or `GET ?list=true`. Roles: root, sys-admin, sec-admin, audit-admin, auditor.",
        ))
        .parameter(query_param(
            "list",
            "Must be `true` (or `1`).",
            typed(Type::String, "List flag.").enum_values(Some(["true", "1"])).into(),
            true,
        ))
        .response("200", json_response("`data.keys` (ids) and `data.key_info` (id → request).", object("Requests."))),
    )
}

pub(crate) fn show() -> PathItem {
    PathItem::new(
        HttpMethod::Get,
        authenticated(operation(
            "readApproval",
            "approvals",
            "Read a parked request",
            "Operation, requester, path, approvals, status (`pending`, `approved`, `rejected`, `executed`), result_status; the requester also gets `result`, the executed reply.",
        ))
        .parameter(path_param("id", "Approval id."))
        .response("200", json_response("The request.", object("Request.")))
        .response("400", shared("BadRequest")),
    )
}

fn decide(id: &str, summary: &str, description: &str) -> PathItem {
    PathItem::new(
        HttpMethod::Post,
        authenticated(operation(id, "approvals", summary, description))
            .parameter(path_param("id", "Approval id."))
            .response(
                "200",
                json_response("The request after the decision.", object("Request.")),
            )
            .response("400", shared("BadRequest")),
    )
}

pub(crate) fn approve() -> PathItem {
    decide(
        "approveApproval",
        "Approve a parked request",
        "By a principal that could perform the operation itself, not the requester (403 otherwise). The approval that completes the quorum executes the request as the requester. Own request, a second approval by the same principal, or a decided request: 400.",
    )
}

pub(crate) fn reject() -> PathItem {
    decide(
        "rejectApproval",
        "Reject a parked request",
        "By an eligible principal other than the requester; the request will never run.",
    )
}
