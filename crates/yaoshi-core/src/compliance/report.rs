//! The monthly compliance report (DESIGN §8, `yaoshi compliance report
//! --month YYYY-MM`): its data model, serialised as `report.json`, and the
//! calendar arithmetic it needs (UTC month bounds, ISO-8601 times) without a
//! date-time dependency.
//!
//! The model is plain data: the server and CLI fill it from the key store,
//! the audit log and the profile; [`render_html`](super::html::render_html)
//! turns it into a self-contained, printable document.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Finding, FindingStatus};

/// Why a report (or one of its inputs) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// The month was not of the form `YYYY-MM` with a month 01–12.
    #[error("invalid month {0:?}: expected YYYY-MM with a four-digit year and a month 01-12")]
    InvalidMonth(String),
}

/// The monthly compliance report, written as `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthlyReport {
    /// Always [`MonthlyReport::FORMAT`].
    pub format: String,
    /// Name of the profile the deployment was evaluated against.
    pub profile: String,
    /// The reported month, `YYYY-MM`.
    pub month: String,
    /// Start of the period (unix seconds, inclusive): the month's first second, UTC.
    pub period_start: i64,
    /// End of the period (unix seconds, exclusive): the next month's first second, UTC.
    pub period_end: i64,
    /// When the report was generated (unix seconds).
    pub generated_at: i64,
    /// The deployment the report describes.
    pub deployment: DeploymentInfo,
    /// The compliance check at report time.
    pub findings: Vec<Finding>,
    /// Key inventory with rotation status.
    pub keys: Vec<KeyInventoryItem>,
    /// Operation statistics over the period.
    pub operations: OperationStats,
    /// Denied and profile-refused requests in the period.
    pub refusals: Vec<RefusalEntry>,
    /// Dual-control requests created or decided in the period.
    pub approvals: Vec<ApprovalSummary>,
    /// Audit-log verification and the latest signed checkpoint.
    pub audit: AuditSection,
    /// Data residency of storage, backup targets and audit sinks.
    pub residency: ResidencySection,
}

/// The deployment a report describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentInfo {
    /// Jurisdiction the deployment claims (e.g. `CN`), if any.
    pub jurisdiction: Option<String>,
    /// Storage back end, e.g. `postgres` or `sqlite`.
    pub storage_backend: String,
    /// Node that generated the report.
    pub node: String,
    /// yaoshi version.
    pub version: String,
    /// Whether the API listener serves TLS.
    pub tls_enabled: bool,
}

/// One key in the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInventoryItem {
    /// Mount (namespace) the key lives in.
    pub mount: String,
    /// Key name.
    pub name: String,
    /// Key type, e.g. `sm4-gcm` or `sm2`.
    pub key_type: String,
    /// Lifecycle state, e.g. `active`.
    pub state: String,
    /// Number of versions held.
    pub versions: u64,
    /// Latest version number.
    pub latest_version: i64,
    /// When the key was created (unix seconds).
    pub created_at: i64,
    /// When the latest version was created (unix seconds).
    pub latest_version_created_at: i64,
    /// The key's own automatic rotation period, if set.
    pub rotation_period_days: Option<u64>,
    /// The profile's maximum rotation period, if it sets one.
    pub max_rotation_days: Option<u64>,
    /// One of [`RotationStatus`]'s names: `ok`, `due-soon`, `overdue`, `not-required`.
    pub rotation_status: String,
}

/// The values of [`KeyInventoryItem::rotation_status`].
pub struct RotationStatus;

impl RotationStatus {
    /// Rotated within the maximum period.
    pub const OK: &'static str = "ok";
    /// Within the maximum period, but close to its end.
    pub const DUE_SOON: &'static str = "due-soon";
    /// Past the maximum period.
    pub const OVERDUE: &'static str = "overdue";
    /// The profile sets no maximum rotation period for this key.
    pub const NOT_REQUIRED: &'static str = "not-required";
}

/// Operation counts over the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationStats {
    /// All requests that reached authorisation.
    pub total: u64,
    /// Requests allowed and completed.
    pub allowed: u64,
    /// Requests denied (authorisation or profile).
    pub denied: u64,
    /// Requests allowed but failed.
    pub failed: u64,
    /// Counts per algorithm (key type).
    pub by_algorithm: BTreeMap<String, u64>,
    /// Counts per principal.
    pub by_principal: BTreeMap<String, u64>,
    /// Counts per operation.
    pub by_operation: BTreeMap<String, u64>,
}

/// A denied or profile-refused request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalEntry {
    /// Audit sequence number of the request's record.
    pub seq: u64,
    /// When (unix seconds).
    pub time: i64,
    /// Principal, if the request authenticated.
    pub principal: Option<String>,
    /// Operation attempted.
    pub operation: String,
    /// Request path.
    pub path: String,
    /// HTTP status returned.
    pub status: u16,
    /// Why it was refused.
    pub reason: String,
}

/// A dual-control request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalSummary {
    /// Request identifier.
    pub id: String,
    /// Operation that needs approval.
    pub operation: String,
    /// Principal that requested it.
    pub requester: String,
    /// `pending`, `approved`, `rejected`, `executed`, `expired`, ...
    pub status: String,
    /// Principals that approved.
    pub approvers: Vec<String>,
    /// Principals that rejected.
    pub rejected_by: Vec<String>,
    /// When the request was parked (unix seconds).
    pub created_at: i64,
    /// When it was decided, if it was.
    pub decided_at: Option<i64>,
}

/// Audit-log verification for the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditSection {
    /// Whether chain, Merkle roots and checkpoint signatures verified.
    pub verified: bool,
    /// What was verified, or what failed.
    pub detail: String,
    /// Audit records whose time falls in the period.
    pub records_in_period: u64,
    /// First sequence number in the period.
    pub first_seq: Option<u64>,
    /// Last sequence number in the period.
    pub last_seq: Option<u64>,
    /// The latest signed checkpoint as the server serves it.
    pub checkpoint: Option<serde_json::Value>,
    /// The audit signing key's public key (PEM), to verify offline.
    pub public_key_pem: String,
}

/// Data residency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidencySection {
    /// Jurisdiction claimed by the deployment, if any.
    pub jurisdiction: Option<String>,
    /// Locations the profile allows.
    pub allowed_locations: Vec<String>,
    /// Minimum number of distinct data centres the profile requires.
    pub min_data_centres: u32,
    /// Distinct data centres actually in use.
    pub distinct_data_centres: u32,
    /// Every located endpoint.
    pub endpoints: Vec<LocatedEndpoint>,
}

/// Somewhere data goes, and where that is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocatedEndpoint {
    /// `storage`, `backup target` or `audit sink`.
    pub kind: String,
    /// Endpoint name.
    pub name: String,
    /// Declared location.
    pub location: String,
    /// Whether the location is among the allowed ones.
    pub allowed: bool,
}

impl MonthlyReport {
    /// The value of [`MonthlyReport::format`].
    pub const FORMAT: &'static str = "yaoshi-compliance-report-v1";

    /// The period of a month, `YYYY-MM`, as unix seconds `[start, end)` in UTC:
    /// `"2026-11"` gives 2026-11-01T00:00:00Z and 2026-12-01T00:00:00Z.
    pub fn month_bounds(month: &str) -> Result<(i64, i64), ReportError> {
        let bad = || ReportError::InvalidMonth(month.to_string());
        let b = month.as_bytes();
        if b.len() != 7 || b[4] != b'-' {
            return Err(bad());
        }
        if !b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let year: i64 = month[..4].parse().map_err(|_| bad())?;
        let mon: u32 = month[5..].parse().map_err(|_| bad())?;
        if !(1..=12).contains(&mon) {
            return Err(bad());
        }
        let start = days_from_civil(year, mon, 1) * 86_400;
        let (ny, nm) = if mon == 12 {
            (year + 1, 1)
        } else {
            (year, mon + 1)
        };
        let end = days_from_civil(ny, nm, 1) * 86_400;
        Ok((start, end))
    }

    /// Findings that passed, warned and failed.
    pub fn finding_counts(&self) -> (usize, usize, usize) {
        let count = |s| self.findings.iter().filter(|f| f.status == s).count();
        (
            count(FindingStatus::Pass),
            count(FindingStatus::Warn),
            count(FindingStatus::Fail),
        )
    }

    /// True when any finding failed.
    pub fn failed(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.status == FindingStatus::Fail)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`). `month` is 1–12, `day` 1–31.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `(year, month, day)` of a count of days since
/// 1970-01-01 (H. Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A unix time as UTC ISO-8601, e.g. `2026-11-03T14:05:09Z`.
pub fn format_utc(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_bounds_normal_month() {
        // 2026-11-01T00:00:00Z and 2026-12-01T00:00:00Z.
        assert_eq!(
            MonthlyReport::month_bounds("2026-11").unwrap(),
            (1_793_491_200, 1_796_083_200)
        );
        // 30 days.
        let (s, e) = MonthlyReport::month_bounds("2026-11").unwrap();
        assert_eq!(e - s, 30 * 86_400);
        assert_eq!(MonthlyReport::month_bounds("1970-01").unwrap().0, 0);
    }

    #[test]
    fn month_bounds_december_rolls_over() {
        let (s, e) = MonthlyReport::month_bounds("2026-12").unwrap();
        assert_eq!(format_utc(s), "2026-12-01T00:00:00Z");
        assert_eq!(format_utc(e), "2027-01-01T00:00:00Z");
        assert_eq!(e, MonthlyReport::month_bounds("2027-01").unwrap().0);
    }

    #[test]
    fn month_bounds_february() {
        let (s, e) = MonthlyReport::month_bounds("2028-02").unwrap();
        assert_eq!(e - s, 29 * 86_400, "2028 is a leap year");
        let (s, e) = MonthlyReport::month_bounds("2026-02").unwrap();
        assert_eq!(e - s, 28 * 86_400);
        let (s, e) = MonthlyReport::month_bounds("2000-02").unwrap();
        assert_eq!(e - s, 29 * 86_400, "2000 is divisible by 400");
        let (s, e) = MonthlyReport::month_bounds("2100-02").unwrap();
        assert_eq!(e - s, 28 * 86_400, "2100 is not a leap year");
    }

    #[test]
    fn month_bounds_rejects_bad_input() {
        for bad in [
            "2026-13",
            "26-11",
            "2026-1",
            "",
            "2026-00",
            "2026/11",
            "2026-11-01",
            "+026-11",
            "2026-1a",
            "２０２６-11",
        ] {
            let err = MonthlyReport::month_bounds(bad).unwrap_err();
            assert_eq!(err, ReportError::InvalidMonth(bad.to_string()));
            assert!(err.to_string().contains("YYYY-MM"), "{err}");
        }
    }

    #[test]
    fn civil_round_trips_and_formats() {
        for days in [-719_468, -1, 0, 1, 10_957, 20_759, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_794_233_109), "2026-11-09T14:05:09Z");
    }
}
