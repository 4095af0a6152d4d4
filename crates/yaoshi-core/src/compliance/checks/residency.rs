//! Rules on where data lives and how it travels: distinct data centres,
//! allowed locations of every endpoint, the jurisdiction, and TLS.

use super::{Evidence, allowed_list, count, finding, ids, listing, pass_or_fail};
use crate::compliance::Finding;
use crate::compliance::report::LocatedEndpoint;

pub(super) fn data_centres(e: &Evidence) -> Finding {
    const TITLE: &str = "Storage redundancy across data centres";
    let min = e.profile.min_data_centres;
    let distinct = e.residency.distinct_data_centres();
    let mut names: Vec<&str> = e
        .residency
        .storage_locations
        .iter()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names.dedup();
    let (ok, evidence) = if distinct == 0 && min <= 1 {
        (
            true,
            format!(
                "no storage location declared (--storage-location); the storage counts as one \
                 data centre, the minimum of profile {}",
                e.profile.name
            ),
        )
    } else if distinct >= min {
        (
            true,
            format!(
                "storage spans {} ({}); profile {} requires at least {min}",
                count(distinct as usize, "data centre"),
                names.join(", "),
                e.profile.name
            ),
        )
    } else {
        let declared = if names.is_empty() {
            "none declared".to_string()
        } else {
            names.join(", ")
        };
        (
            false,
            format!(
                "storage spans {} ({declared}); profile {} requires at least {min} \
                 (min_data_centres)",
                count(distinct as usize, "declared data centre"),
                e.profile.name
            ),
        )
    };
    finding(ids::DATA_CENTRES, TITLE, pass_or_fail(ok), evidence)
}

pub(super) fn locations(e: &Evidence) -> Finding {
    const TITLE: &str = "Data locations (storage, audit sinks, backup targets)";
    let p = &e.profile;
    let patterns = allowed_list(&p.allowed_locations, "any location");
    let restricted = !p.allowed_locations.iter().any(|l| l == "*");
    let endpoints = e.residency.endpoints(p);
    let describe = |x: &LocatedEndpoint| format!("{} {} at {}", x.kind, x.name, x.location);
    let outside: Vec<String> = endpoints
        .iter()
        .filter(|x| !x.allowed)
        .map(describe)
        .collect();
    let (ok, evidence) = if !outside.is_empty() {
        (
            false,
            format!(
                "{} outside the locations profile {} allows ({patterns}): {}",
                count(outside.len(), "endpoint"),
                p.name,
                listing(&outside)
            ),
        )
    } else if restricted && e.residency.storage_locations.is_empty() {
        (
            false,
            format!(
                "no storage location declared (--storage-location), so the storage cannot be \
                 shown to be in the locations profile {} allows ({patterns})",
                p.name
            ),
        )
    } else if endpoints.is_empty() {
        (
            true,
            format!(
                "no locations declared; profile {} allows {patterns}",
                p.name
            ),
        )
    } else {
        let all: Vec<String> = endpoints.iter().map(describe).collect();
        (
            true,
            format!(
                "{} within the locations profile {} allows ({patterns}): {}",
                count(all.len(), "endpoint"),
                p.name,
                listing(&all)
            ),
        )
    };
    finding(ids::LOCATIONS, TITLE, pass_or_fail(ok), evidence)
}

pub(super) fn jurisdiction(e: &Evidence) -> Finding {
    const TITLE: &str = "Jurisdiction";
    let p = &e.profile;
    let (ok, evidence) = match (&p.jurisdiction, &e.residency.jurisdiction) {
        (Some(want), Some(have)) if want == have => (
            true,
            format!(
                "the deployment declares {have}, as profile {} requires",
                p.name
            ),
        ),
        (Some(want), Some(have)) => (
            false,
            format!(
                "the deployment declares {have}; profile {} requires {want}",
                p.name
            ),
        ),
        (Some(want), None) => (
            false,
            format!(
                "the deployment declares no jurisdiction (--jurisdiction); profile {} requires {want}",
                p.name
            ),
        ),
        (None, Some(have)) => (
            true,
            format!(
                "the deployment declares {have}; profile {} requires none",
                p.name
            ),
        ),
        (None, None) => (
            true,
            format!(
                "not required by profile {}; the deployment declares none",
                p.name
            ),
        ),
    };
    finding(ids::JURISDICTION, TITLE, pass_or_fail(ok), evidence)
}

pub(super) fn tls(e: &Evidence) -> Finding {
    const TITLE: &str = "API served over TLS";
    let p = &e.profile;
    let (ok, evidence) = match (e.tls_enabled, p.tls_required) {
        (true, _) => (true, "the API listener serves TLS".to_string()),
        (false, true) => (
            false,
            format!(
                "the API is served over plain HTTP; profile {} requires TLS (tls_required)",
                p.name
            ),
        ),
        (false, false) => (
            true,
            format!(
                "not required by profile {}; the API is served over plain HTTP",
                p.name
            ),
        ),
    };
    finding(ids::TLS, TITLE, pass_or_fail(ok), evidence)
}
