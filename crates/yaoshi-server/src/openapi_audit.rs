//! The OpenAPI description of `sys/audit/*` (part of [`super`]).

use super::{authenticated, json_response, operation, path_param, query_param, shared, typed};
use utoipa::openapi::path::{HttpMethod, PathItem};
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ContentBuilder, ObjectBuilder, ResponseBuilder};

const ROLES: &str = "Roles: root, audit-admin, auditor.";

fn object(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    typed(Type::Object, description).into()
}

fn get(id: &str, summary: &str, description: &str, reply: &str) -> PathItem {
    PathItem::new(
        HttpMethod::Get,
        authenticated(operation(
            id,
            "audit",
            summary,
            &format!("{description} {ROLES}"),
        ))
        .response("200", json_response(reply, object(reply)))
        .response("403", shared("PermissionDenied")),
    )
}

pub(crate) fn public_key() -> PathItem {
    get(
        "auditPublicKey",
        "The audit signing public key",
        "SPKI PEM of the key that signs checkpoints (SM2 under an SM4 barrier, ECDSA P-256 otherwise), its algorithm and key id.",
        "`data.public_key`, `data.algorithm`, `data.key_id`.",
    )
}

pub(crate) fn checkpoint() -> PathItem {
    get(
        "auditCheckpoint",
        "The latest signed checkpoint",
        "Signs a new checkpoint first when records arrived since the last. Fields as in docs/audit-format.md.",
        "`data.checkpoint` (null while the log is empty).",
    )
}

pub(crate) fn export() -> PathItem {
    PathItem::new(
        HttpMethod::Get,
        authenticated(operation(
            "auditExport",
            "audit",
            "Export the log as JSON Lines",
            &format!("A header, every stored record from `from` on, each checkpoint after the record it covers, ending with a fresh checkpoint (docs/audit-format.md). {ROLES}"),
        ))
        .parameter(query_param(
            "from",
            "First sequence number (default: the oldest stored record).",
            typed(Type::Integer, "Sequence number.").into(),
            false,
        ))
        .response(
            "200",
            ResponseBuilder::new()
                .description("JSON Lines.")
                .content(
                    "application/jsonl",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .build(),
                )
                .build(),
        )
        .response("400", shared("BadRequest")),
    )
}

pub(crate) fn verify() -> PathItem {
    PathItem::new(
        HttpMethod::Post,
        authenticated(operation(
            "auditVerify",
            "audit",
            "Verify the stored log",
            &format!("The server checks its whole stored log as an outside auditor checks an export: chain, checkpoint signatures and Merkle roots. {ROLES}"),
        ))
        .response(
            "200",
            json_response(
                "`data.verified`; on failure `first_bad_seq`, `reason` and `message`; on success `report`.",
                object("Verification result."),
            ),
        ),
    )
}

pub(crate) fn records() -> PathItem {
    PathItem::new(
        HttpMethod::Get,
        authenticated(operation(
            "auditRecords",
            "audit",
            "Read records",
            &format!(
                "Stored records with their chain hashes; without `from` the latest `limit`. {ROLES}"
            ),
        ))
        .parameter(query_param(
            "from",
            "First sequence number.",
            typed(Type::Integer, "Sequence number.").into(),
            false,
        ))
        .parameter(query_param(
            "limit",
            "How many (1 to 5000, default 20).",
            typed(Type::Integer, "Count.").into(),
            false,
        ))
        .response(
            "200",
            json_response(
                "`data.records`: seq, prev, hash, record.",
                object("Records."),
            ),
        ),
    )
}

pub(crate) fn proof() -> PathItem {
    PathItem::new(
        HttpMethod::Get,
        authenticated(operation(
            "auditInclusionProof",
            "audit",
            "Inclusion proof of one record",
            &format!("RFC 6962 audit path of record `seq` in the latest signed checkpoint's tree (signing one first if the record is newer). {ROLES}"),
        ))
        .parameter(path_param("seq", "Sequence number (from 1)."))
        .response("200", json_response("`data.seq`, `hash`, `checkpoint`, `proof` (hex, leaf to root).", object("Proof.")))
        .response("400", shared("BadRequest")),
    )
}

pub(crate) fn consistency() -> PathItem {
    PathItem::new(
        HttpMethod::Get,
        authenticated(operation(
            "auditConsistencyProof",
            "audit",
            "Consistency proof between two checkpoints",
            &format!("RFC 6962 proof that the checkpoint of `new_size` extends the one of `old_size` (both stored). {ROLES}"),
        ))
        .parameter(query_param("old_size", "Earlier tree size.", typed(Type::Integer, "Size.").into(), true))
        .parameter(query_param("new_size", "Later tree size.", typed(Type::Integer, "Size.").into(), true))
        .response("200", json_response("`data.old`, `data.new`, `data.proof` (hex).", object("Proof.")))
        .response("400", shared("BadRequest")),
    )
}
