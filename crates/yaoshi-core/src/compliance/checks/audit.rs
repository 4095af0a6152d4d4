//! Rules on the audit log: its algorithms, its integrity (the stored log
//! verified as an export is) and its retention.

use super::{Evidence, count, date, days_between, finding, ids, pass_or_fail, signed};
use crate::compliance::{Finding, FindingStatus};

pub(super) fn audit_algorithms(e: &Evidence) -> Finding {
    const TITLE: &str = "Audit chain hash and checkpoint signature";
    let (a, p) = (&e.audit, &e.profile);
    let mut wrong = Vec::new();
    if a.hash_algorithm != p.audit_hash {
        wrong.push(format!(
            "chain hash {} (profile requires {})",
            a.hash_algorithm, p.audit_hash
        ));
    }
    if a.signature_algorithm != p.audit_signature {
        wrong.push(format!(
            "checkpoint signature {} (profile requires {})",
            a.signature_algorithm, p.audit_signature
        ));
    }
    let evidence = if wrong.is_empty() {
        format!(
            "records chained and Merkle-hashed with {}, checkpoints signed with {}, as profile {} requires",
            a.hash_algorithm, a.signature_algorithm, p.name
        )
    } else {
        format!(
            "{} (fixed when the deployment was initialised; profile {})",
            wrong.join("; "),
            p.name
        )
    };
    finding(
        ids::AUDIT_ALGORITHMS,
        TITLE,
        pass_or_fail(wrong.is_empty()),
        evidence,
    )
}

pub(super) fn audit_chain(e: &Evidence) -> Finding {
    const TITLE: &str = "Audit log integrity (chain, Merkle roots, signatures)";
    let a = &e.audit;
    match &a.verification {
        Ok(r) if r.records == 0 => finding(
            ids::AUDIT_CHAIN,
            TITLE,
            FindingStatus::Pass,
            "the stored audit log is empty".into(),
        ),
        Ok(r) => finding(
            ids::AUDIT_CHAIN,
            TITLE,
            FindingStatus::Pass,
            format!(
                "{} (sequence {} to {}) chained intact and {} verified (Merkle roots and \
                 signatures){}",
                count(r.records as usize, "record"),
                r.first_seq.unwrap_or(0),
                r.last_seq.unwrap_or(0),
                count(r.checkpoints as usize, "checkpoint"),
                a.checkpoint_size
                    .map(|s| format!(
                        "; the latest signed checkpoint covers {}",
                        count(s as usize, "record")
                    ))
                    .unwrap_or_default()
            ),
        ),
        Err(why) => finding(
            ids::AUDIT_CHAIN,
            TITLE,
            FindingStatus::Fail,
            format!("the stored audit log does not verify: {why}"),
        ),
    }
}

pub(super) fn audit_retention(e: &Evidence) -> Finding {
    const TITLE: &str = "Audit log retention";
    let a = &e.audit;
    let days = e.profile.audit_retention_days;
    let status_of = |ok| pass_or_fail(ok);
    let (status, evidence) = match (a.first_stored, a.oldest_time) {
        _ if a.last_seq == 0 => (FindingStatus::Pass, "the audit log is empty".to_string()),
        (None, _) | (_, None) => (
            status_of(days == 0),
            format!(
                "all {} records have been pruned; none is kept (retention {days} days)",
                a.last_seq
            ),
        ),
        (Some(first), Some(oldest)) => {
            let age = days_between(oldest, e.now);
            let since = format!(
                "the oldest kept record (sequence {first}) is from {} ({age} days ago)",
                date(oldest)
            );
            if days == 0 {
                (
                    FindingStatus::Pass,
                    format!(
                        "not required: profile {} sets audit_retention_days = 0; {since}",
                        e.profile.name
                    ),
                )
            } else if first <= 1 {
                let young = if age < signed(days) {
                    format!(", younger than the {days}-day retention")
                } else {
                    format!(", beyond the {days}-day retention")
                };
                (
                    FindingStatus::Pass,
                    format!(
                        "nothing pruned: all {} records are kept; {since}{young}",
                        a.last_seq
                    ),
                )
            } else {
                // Record `first - 1` was written before record `first` and
                // before the checkpoint that covered it was signed.
                let bound = a.last_pruned_signed_at.map_or(oldest, |t| t.min(oldest));
                let bound_age = days_between(bound, e.now);
                let pruned = format!(
                    "records 1 to {} have been pruned; the last of them was written before {} \
                     ({bound_age} days ago)",
                    first - 1,
                    date(bound)
                );
                if bound_age >= signed(days) {
                    (
                        FindingStatus::Pass,
                        format!("{pruned}, beyond the {days}-day retention; {since}"),
                    )
                } else {
                    (
                        FindingStatus::Fail,
                        format!(
                            "{pruned}, within the {days}-day retention of profile {}: records \
                             that had to be kept are missing",
                            e.profile.name
                        ),
                    )
                }
            }
        }
    };
    finding(ids::AUDIT_RETENTION, TITLE, status, evidence)
}
