//! A month of audit records summed up for the report (DESIGN §8): operation
//! counts by outcome, algorithm, principal and operation, and the list of
//! refused requests. Pure: the records come from
//! [`Kms::compliance_report`](crate::Kms::compliance_report).
//!
//! Conventions (docs/compliance.md): `allowed` counts outcomes `ok` and
//! `parked` (authorised; parked for dual control), `denied` counts `denied`
//! (403) and `refused` (the profile), `failed` the rest. A record names its
//! key type when the request used a key; records written together with a
//! key change (create, rotate, ...) carry no type or operation, so the
//! key's current type and an operation named from the path
//! (`transit.keys`) stand in.

use super::report::{OperationStats, RefusalEntry};
use crate::audit::{AuditRecord, Outcome};
use crate::store::AuditRow;

/// At most this many refusals are listed (all are counted in
/// [`OperationStats::denied`]).
pub const MAX_REFUSALS: usize = 1000;

/// Principal name counted for requests that did not authenticate.
pub const UNAUTHENTICATED: &str = "(unauthenticated)";

/// What a period's records add up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// Counts.
    pub stats: OperationStats,
    /// Denied and refused requests, oldest first, at most [`MAX_REFUSALS`].
    pub refusals: Vec<RefusalEntry>,
    /// Records in the period.
    pub records: u64,
    /// First sequence number in the period.
    pub first_seq: Option<u64>,
    /// Last sequence number in the period.
    pub last_seq: Option<u64>,
    /// Records whose body is not an audit record (counted, not classified).
    pub unreadable: u64,
}

/// Sums up `rows`. `key_type(mount, key)` gives a key's current type, for
/// records that do not name one (`mount` as recorded, e.g. `transit/`).
pub fn tally(rows: &[AuditRow], key_type: &dyn Fn(&str, &str) -> Option<String>) -> Activity {
    let mut a = Activity::default();
    for row in rows {
        let seq = row.seq.max(0) as u64;
        a.records += 1;
        a.first_seq.get_or_insert(seq);
        a.last_seq = Some(seq);
        let Ok(r) = AuditRecord::from_bytes(&row.body) else {
            a.unreadable += 1;
            continue;
        };
        let s = &mut a.stats;
        s.total += 1;
        match r.outcome {
            Outcome::Ok | Outcome::Parked => s.allowed += 1,
            Outcome::Denied | Outcome::Refused => s.denied += 1,
            Outcome::Failed => s.failed += 1,
        }
        let algorithm = r.key_type.clone().or_else(|| match (&r.mount, &r.key) {
            (Some(m), Some(k)) => key_type(m, k),
            _ => None,
        });
        if let Some(t) = algorithm {
            *s.by_algorithm.entry(t).or_default() += 1;
        }
        let principal = r
            .principal
            .clone()
            .unwrap_or_else(|| UNAUTHENTICATED.into());
        *s.by_principal.entry(principal).or_default() += 1;
        let operation = operation_name(&r);
        *s.by_operation.entry(operation.clone()).or_default() += 1;
        if matches!(r.outcome, Outcome::Denied | Outcome::Refused)
            && a.refusals.len() < MAX_REFUSALS
        {
            a.refusals.push(RefusalEntry {
                seq,
                time: row.time,
                principal: r.principal.clone(),
                operation,
                path: r.path.clone(),
                status: r.status.unwrap_or(0),
                reason: r
                    .error
                    .clone()
                    .unwrap_or_else(|| r.outcome.name().to_string()),
            });
        }
    }
    a
}

/// The record's operation; for records committed with a key change (which
/// have none) `transit.<first segment after the mount>`, as the server names
/// engine requests.
fn operation_name(r: &AuditRecord) -> String {
    if !r.operation.is_empty() {
        return r.operation.clone();
    }
    let rest = r
        .mount
        .as_deref()
        .and_then(|m| r.path.strip_prefix(m))
        .unwrap_or(&r.path);
    match rest.split('/').find(|s| !s.is_empty()) {
        Some(first) if r.mount.is_some() => format!("transit.{first}"),
        _ => "unknown".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, record: &AuditRecord) -> AuditRow {
        AuditRow {
            seq,
            time: 1_000 + seq,
            prev_hash: vec![0; 32],
            hash: vec![0; 32],
            body: record.to_bytes(),
        }
    }

    fn record(op: &str, principal: Option<&str>, outcome: Outcome, status: u16) -> AuditRecord {
        AuditRecord {
            operation: op.into(),
            principal: principal.map(Into::into),
            method: "write".into(),
            path: "transit/encrypt/k".into(),
            mount: Some("transit/".into()),
            key: Some("k".into()),
            key_type: Some("sm4-gcm96".into()),
            outcome,
            status: Some(status),
            ..Default::default()
        }
    }

    #[test]
    fn counts_by_outcome_algorithm_principal_and_operation() {
        let mut created = record("", Some("root"), Outcome::Ok, 200);
        created.path = "transit/keys/aes".into();
        created.key = Some("aes".into());
        created.key_type = None;
        created.status = None;
        let mut unknown_token = record("transit.encrypt", None, Outcome::Denied, 403);
        unknown_token.error = Some("permission denied".into());
        unknown_token.key_type = None;
        unknown_token.key = None;
        let mut refused = record("transit.keys", Some("root"), Outcome::Refused, 400);
        refused.error = Some("profile x rule allowed_key_types: no".into());
        let rows = vec![
            row(7, &created),
            row(
                8,
                &record("transit.encrypt", Some("app1"), Outcome::Ok, 200),
            ),
            row(
                9,
                &record("transit.encrypt", Some("app1"), Outcome::Ok, 200),
            ),
            row(10, &unknown_token),
            row(11, &refused),
            row(
                12,
                &record("transit.decrypt", Some("app1"), Outcome::Failed, 400),
            ),
            row(
                13,
                &record("transit.keys", Some("sec"), Outcome::Parked, 202),
            ),
            AuditRow {
                body: b"not json".to_vec(),
                ..row(14, &AuditRecord::default())
            },
        ];
        let types =
            |m: &str, k: &str| (m == "transit/" && k == "aes").then(|| "aes256-gcm96".into());
        let a = tally(&rows, &types);
        assert_eq!((a.records, a.unreadable), (8, 1));
        assert_eq!((a.first_seq, a.last_seq), (Some(7), Some(14)));
        let s = &a.stats;
        assert_eq!((s.total, s.allowed, s.denied, s.failed), (7, 4, 2, 1));
        assert_eq!(s.by_algorithm["aes256-gcm96"], 1);
        assert_eq!(s.by_algorithm["sm4-gcm96"], 5);
        assert_eq!(s.by_principal["app1"], 3);
        assert_eq!(s.by_principal["root"], 2);
        assert_eq!(s.by_principal[UNAUTHENTICATED], 1);
        assert_eq!(s.by_operation["transit.keys"], 3, "named from the path");
        assert_eq!(s.by_operation["transit.encrypt"], 3);
        assert_eq!(a.refusals.len(), 2);
        assert_eq!(a.refusals[0].seq, 10);
        assert_eq!(a.refusals[0].principal, None);
        assert_eq!(a.refusals[0].status, 403);
        assert_eq!(a.refusals[0].reason, "permission denied");
        assert_eq!(a.refusals[0].time, 1_010);
        assert!(a.refusals[1].reason.contains("allowed_key_types"));
    }

    #[test]
    fn refusals_are_capped_but_all_counted() {
        let denied = record("transit.encrypt", None, Outcome::Denied, 403);
        let rows: Vec<AuditRow> = (1..=(MAX_REFUSALS as i64 + 5))
            .map(|i| row(i, &denied))
            .collect();
        let a = tally(&rows, &|_, _| None);
        assert_eq!(a.refusals.len(), MAX_REFUSALS);
        assert_eq!(a.stats.denied, MAX_REFUSALS as u64 + 5);
        assert_eq!(
            a.refusals[0].reason, "denied",
            "the outcome when no error is recorded"
        );
    }

    #[test]
    fn operation_names_fall_back_to_the_path() {
        let mut r = record("", None, Outcome::Ok, 200);
        r.path = "team/transit/keys/k/rotate".into();
        r.mount = Some("team/transit/".into());
        assert_eq!(operation_name(&r), "transit.keys");
        r.mount = None;
        assert_eq!(operation_name(&r), "unknown");
    }
}
