//! Rules on who may do what: three-role separation and enough eligible
//! approvers for every operation under dual control.

use super::{Evidence, count, finding, ids, listing, pass_or_fail};
use crate::auth::{Action, Principal, Role};
use crate::compliance::{Finding, FindingStatus};
use crate::profile::DualOp;

fn names_with(principals: &[Principal], role: Role) -> Vec<&str> {
    principals
        .iter()
        .filter(|p| p.has_role(role))
        .map(|p| p.name.as_str())
        .collect()
}

pub(super) fn roles(e: &Evidence) -> Finding {
    const TITLE: &str = "Three-role separation (sys-admin, sec-admin, audit-admin)";
    let ps = &e.principals;
    let holders = |role| {
        let names = names_with(ps, role);
        if names.is_empty() {
            format!("{role}: none")
        } else {
            format!("{role}: {}", listing(&names))
        }
    };
    if !e.profile.role_separation {
        return finding(
            ids::ROLES,
            TITLE,
            FindingStatus::Pass,
            format!(
                "not required by profile {} (a root principal works as in Vault); {}; {}",
                e.profile.name,
                count(ps.len(), "principal"),
                [Role::Root, Role::SysAdmin, Role::SecAdmin, Role::AuditAdmin]
                    .map(holders)
                    .join("; ")
            ),
        );
    }
    let mut problems = Vec::new();
    let doubled: Vec<String> = ps
        .iter()
        .filter(|p| e.profile.check_roles(&p.roles).is_err())
        .map(|p| {
            let roles: Vec<&str> = p.roles.iter().map(|r| r.name()).collect();
            format!("{} holds {}", p.name, roles.join(" + "))
        })
        .collect();
    if !doubled.is_empty() {
        problems.push(format!(
            "principals with root or more than one admin role: {}",
            listing(&doubled)
        ));
    }
    let missing: Vec<&str> = Role::ADMINS
        .iter()
        .filter(|r| names_with(ps, **r).is_empty())
        .map(|r| r.name())
        .collect();
    if !missing.is_empty() {
        problems.push(format!("no principal holds {}", missing.join(", ")));
    }
    let bootstrap = !names_with(ps, Role::Bootstrap).is_empty();
    if bootstrap && !missing.is_empty() {
        problems.push(
            "the bootstrap token still works (it retires once all three admin roles exist)".into(),
        );
    }
    let admins = Role::ADMINS.map(holders).join("; ");
    if problems.is_empty() {
        finding(
            ids::ROLES,
            TITLE,
            FindingStatus::Pass,
            format!(
                "no principal holds root or two admin roles; {admins}; the bootstrap token is retired"
            ),
        )
    } else {
        finding(
            ids::ROLES,
            TITLE,
            FindingStatus::Fail,
            format!("{} ({admins})", problems.join("; ")),
        )
    }
}

pub(super) fn dual_control(e: &Evidence) -> Finding {
    const TITLE: &str = "Dual control: enough eligible approvers";
    let dc = &e.profile.dual_control;
    if dc.operations.is_empty() {
        return finding(
            ids::DUAL_CONTROL,
            TITLE,
            FindingStatus::Pass,
            format!(
                "not required: profile {} puts no operation under dual control",
                e.profile.name
            ),
        );
    }
    let needed = dc.approvals as usize + 1;
    // Operations with the same eligible principals are reported together.
    let mut groups: Vec<(Vec<&str>, Vec<&str>)> = Vec::new();
    for name in &dc.operations {
        let eligible: Vec<&str> = match DualOp::from_name(name) {
            Some(op) => e
                .principals
                .iter()
                .filter(|p| {
                    p.authorize(&Action::Approvals).is_ok()
                        && p.authorize(&op.approver_action("*", "*")).is_ok()
                })
                .map(|p| p.name.as_str())
                .collect(),
            None => Vec::new(),
        };
        match groups.iter_mut().find(|(_, names)| *names == eligible) {
            Some((ops, _)) => ops.push(name),
            None => groups.push((vec![name], eligible)),
        }
    }
    let short = groups.iter().any(|(_, names)| names.len() < needed);
    let parts: Vec<String> = groups
        .iter()
        .map(|(ops, names)| {
            let who = if names.is_empty() {
                String::new()
            } else {
                format!(" ({})", listing(names))
            };
            let verdict = if names.len() < needed {
                " — too few"
            } else {
                ""
            };
            format!("{}: {} eligible{who}{verdict}", ops.join(", "), names.len())
        })
        .collect();
    finding(
        ids::DUAL_CONTROL,
        TITLE,
        pass_or_fail(!short),
        format!(
            "each operation needs {} besides the requester, so at least {needed} principals who \
             may perform it; {}",
            count(dc.approvals as usize, "approval"),
            parts.join("; ")
        ),
    )
}
